//! S3 Object Lock: the bucket configuration (default retention), each
//! version's retention and legal hold, and the rules that protect a version.
//!
//! Amazon S3 User Guide, "Locking objects with Object Lock"
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html>):
//! a version under a retention period or a legal hold cannot be deleted (or
//! overwritten: other writes make new versions). In governance mode a caller
//! with `s3:BypassGovernanceRetention` who sends
//! `x-amz-bypass-governance-retention: true` may delete it or shorten its
//! retention; in compliance mode no one can, and the retention can only be
//! extended. A legal hold protects regardless of mode until it is removed.

use http::HeaderMap;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::dates::iso8601;
use crate::error::{Failure, S3Error};
use crate::xml::{Element, XmlWriter, S3_NS};

/// The message AWS gives when a locked version cannot be deleted or changed.
pub const PROTECTED: &str = "Access Denied because object protected by object lock.";

/// Retention mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetentionMode {
    #[serde(rename = "GOVERNANCE")]
    Governance,
    #[serde(rename = "COMPLIANCE")]
    Compliance,
}

impl RetentionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(s: &str) -> Option<RetentionMode> {
        match s {
            "GOVERNANCE" => Some(RetentionMode::Governance),
            "COMPLIANCE" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

/// A bucket's default retention: applied to new versions that name none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

/// A bucket's Object Lock configuration (stored as JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLockConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_retention: Option<DefaultRetention>,
}

/// Days in a year of default retention.
const DAYS_PER_YEAR: i64 = 365;
/// AWS's upper bounds on default retention.
const MAX_DAYS: u32 = 36_500;
const MAX_YEARS: u32 = 100;

impl ObjectLockConfig {
    pub fn from_json(s: &str) -> Option<ObjectLockConfig> {
        serde_json::from_str(s).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// Parses a PutObjectLockConfiguration body.
    pub fn from_xml(doc: &Element) -> Result<ObjectLockConfig, S3Error> {
        if doc.name != "ObjectLockConfiguration" {
            return Err(S3Error::MalformedXml);
        }
        if doc.text_of("ObjectLockEnabled").map(str::trim) != Some("Enabled") {
            return Err(S3Error::MalformedXml);
        }
        let Some(rule) = doc.child("Rule") else {
            return Ok(ObjectLockConfig::default());
        };
        let retention = rule
            .child("DefaultRetention")
            .ok_or(S3Error::MalformedXml)?;
        let mode = retention
            .text_of("Mode")
            .map(str::trim)
            .and_then(RetentionMode::parse)
            .ok_or(S3Error::MalformedXml)?;
        let number = |name: &str| -> Result<Option<u32>, S3Error> {
            match retention.text_of(name).map(str::trim) {
                None => Ok(None),
                Some(v) => match v.parse::<i64>() {
                    Ok(n) if n > 0 => u32::try_from(n).map(Some).map_err(|_| {
                        S3Error::InvalidArgument("Default retention period is too large.".into())
                    }),
                    Ok(_) => Err(S3Error::InvalidArgument(
                        "Default retention period must be a positive integer value.".into(),
                    )),
                    Err(_) => Err(S3Error::MalformedXml),
                },
            }
        };
        let (days, years) = (number("Days")?, number("Years")?);
        match (days, years) {
            (Some(_), Some(_)) | (None, None) => return Err(S3Error::MalformedXml),
            (Some(d), None) if d > MAX_DAYS => {
                return Err(S3Error::InvalidArgument(
                    "Default retention period is too large.".into(),
                ))
            }
            (None, Some(y)) if y > MAX_YEARS => {
                return Err(S3Error::InvalidArgument(
                    "Default retention period is too large.".into(),
                ))
            }
            _ => {}
        }
        Ok(ObjectLockConfig {
            default_retention: Some(DefaultRetention { mode, days, years }),
        })
    }

    /// The GetObjectLockConfiguration body.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::with_ns("ObjectLockConfiguration", S3_NS);
        w.elem("ObjectLockEnabled", "Enabled");
        if let Some(r) = &self.default_retention {
            w.open("Rule").open("DefaultRetention");
            w.elem("Mode", r.mode.as_str());
            if let Some(d) = r.days {
                w.elem("Days", &d.to_string());
            }
            if let Some(y) = r.years {
                w.elem("Years", &y.to_string());
            }
            w.close("DefaultRetention").close("Rule");
        }
        w.finish("ObjectLockConfiguration")
    }

    /// The retention a new version gets from the default rule, from `now`.
    pub fn default_for(&self, now: Timestamp) -> Option<Retention> {
        let r = self.default_retention.as_ref()?;
        let days = match (r.days, r.years) {
            (Some(d), _) => i64::from(d),
            (None, Some(y)) => i64::from(y) * DAYS_PER_YEAR,
            (None, None) => return None,
        };
        let until = now
            .checked_add(SignedDuration::from_hours(days * 24))
            .ok()?;
        Some(Retention {
            mode: r.mode,
            until_ms: until.as_millisecond(),
        })
    }
}

/// A version's retention period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: RetentionMode,
    /// Retain-until date, in milliseconds since the epoch.
    pub until_ms: i64,
}

impl Retention {
    pub fn until(&self) -> Timestamp {
        Timestamp::from_millisecond(self.until_ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Whether the period has not ended at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        self.until_ms > now.as_millisecond()
    }
}

/// A version's Object Lock state (stored as JSON on the version).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionLock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// `None`: no legal hold was ever set; `Some(false)`: set to OFF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<bool>,
}

/// What protects a version from deletion, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    None,
    /// Governance retention: a permitted bypass lifts it.
    Governance,
    /// Compliance retention or a legal hold: nothing lifts it.
    Absolute,
}

impl VersionLock {
    pub fn from_json(s: Option<&str>) -> VersionLock {
        s.and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// The stored form; `None` when there is nothing to store.
    pub fn to_json(&self) -> Option<String> {
        (self.retention.is_some() || self.legal_hold.is_some())
            .then(|| serde_json::to_string(self).unwrap_or_default())
    }

    pub fn legal_hold_on(&self) -> bool {
        self.legal_hold == Some(true)
    }

    /// What protects the version at `now`.
    pub fn protection(&self, now: Timestamp) -> Protection {
        if self.legal_hold_on() {
            return Protection::Absolute;
        }
        match self.retention {
            Some(r) if r.active(now) && r.mode == RetentionMode::Compliance => Protection::Absolute,
            Some(r) if r.active(now) => Protection::Governance,
            _ => Protection::None,
        }
    }

    /// `x-amz-object-lock-*` response headers of GET and HEAD.
    pub fn response_headers(
        &self,
        with_retention: bool,
        with_legal_hold: bool,
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let (true, Some(r)) = (with_retention, self.retention) {
            out.push(("x-amz-object-lock-mode", r.mode.as_str().to_string()));
            out.push(("x-amz-object-lock-retain-until-date", iso8601(r.until())));
        }
        if let (true, Some(on)) = (with_legal_hold, self.legal_hold) {
            out.push((
                "x-amz-object-lock-legal-hold",
                if on { "ON" } else { "OFF" }.to_string(),
            ));
        }
        out
    }
}

/// Parses an ISO 8601 retain-until date.
pub fn parse_date(s: &str) -> Result<Timestamp, S3Error> {
    s.trim().parse::<Timestamp>().map_err(|_| {
        S3Error::InvalidArgument("The retain until date must be provided in ISO 8601 format".into())
    })
}

fn future(until: Timestamp, now: Timestamp) -> Result<Timestamp, S3Error> {
    if until <= now {
        return Err(S3Error::InvalidArgument(
            "The retain until date must be in the future!".into(),
        ));
    }
    Ok(until)
}

/// The Object Lock headers of a write: `x-amz-object-lock-mode`,
/// `-retain-until-date` (both or neither) and `-legal-hold`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestedLock {
    pub retention: Option<Retention>,
    pub legal_hold: Option<bool>,
}

impl RequestedLock {
    /// Parses the lock headers. Invalid values are AWS's `InvalidArgument`,
    /// with `<ArgumentName>` and `<ArgumentValue>` as S3 answers them.
    pub fn from_headers(headers: &HeaderMap, now: Timestamp) -> Result<RequestedLock, Failure> {
        RequestedLock::from_lookup(|n| headers.get(n).and_then(|v| v.to_str().ok()), now)
    }

    /// Like [`RequestedLock::from_headers`], over any lookup of the headers by
    /// name (an upload's stored headers, at CompleteMultipartUpload).
    pub fn from_lookup<'a>(
        lookup: impl Fn(&str) -> Option<&'a str>,
        now: Timestamp,
    ) -> Result<RequestedLock, Failure> {
        const MODE: &str = "x-amz-object-lock-mode";
        const UNTIL: &str = "x-amz-object-lock-retain-until-date";
        const HOLD: &str = "x-amz-object-lock-legal-hold";
        let header = |n: &str| lookup(n).map(str::trim);
        let invalid = |message: &str, name: &'static str, value: &str| {
            Failure::from(S3Error::InvalidArgument(message.into()))
                .with("ArgumentName", name)
                .with("ArgumentValue", value)
        };
        let retention = match (header(MODE), header(UNTIL)) {
            (None, None) => None,
            (Some(mode), Some(date)) => {
                let mode = RetentionMode::parse(mode)
                    .ok_or_else(|| invalid("Unknown wormMode directive.", MODE, mode))?;
                let until = parse_date(date).map_err(|e| {
                    invalid(&e.to_string(), UNTIL, date)
                })?;
                let until = future(until, now).map_err(|e| invalid(&e.to_string(), UNTIL, date))?;
                Some(Retention {
                    mode,
                    until_ms: until.as_millisecond(),
                })
            }
            _ => {
                return Err(S3Error::InvalidArgument(
                    "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
                        .into(),
                )
                .into())
            }
        };
        let legal_hold = match header(HOLD) {
            None => None,
            Some("ON") => Some(true),
            Some("OFF") => Some(false),
            Some(other) => {
                return Err(invalid(
                    "Legal Hold must be either of 'ON' or 'OFF'",
                    HOLD,
                    other,
                ))
            }
        };
        Ok(RequestedLock {
            retention,
            legal_hold,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.retention.is_none() && self.legal_hold.is_none()
    }

    /// The lock a new version gets in a bucket with `config` (`None`: Object
    /// Lock is off there, and any lock header is refused).
    pub fn for_new_version(
        &self,
        config: Option<&ObjectLockConfig>,
        now: Timestamp,
    ) -> Result<Option<String>, S3Error> {
        let Some(config) = config else {
            if self.is_empty() {
                return Ok(None);
            }
            return Err(missing_configuration());
        };
        let lock = VersionLock {
            retention: self.retention.or_else(|| config.default_for(now)),
            legal_hold: self.legal_hold,
        };
        Ok(lock.to_json())
    }
}

/// The error for Object Lock requests on a bucket without Object Lock.
pub fn missing_configuration() -> S3Error {
    S3Error::InvalidRequest("Bucket is missing Object Lock Configuration".into())
}

/// Parses a PutObjectRetention body: `None` removes the retention.
pub fn retention_from_xml(doc: &Element, now: Timestamp) -> Result<Option<Retention>, S3Error> {
    if doc.name != "Retention" {
        return Err(S3Error::MalformedXml);
    }
    match (doc.text_of("Mode"), doc.text_of("RetainUntilDate")) {
        (None, None) => Ok(None),
        (Some(mode), Some(date)) => {
            let mode = RetentionMode::parse(mode.trim()).ok_or(S3Error::MalformedXml)?;
            let until = future(parse_date(date)?, now)?;
            Ok(Some(Retention {
                mode,
                until_ms: until.as_millisecond(),
            }))
        }
        _ => Err(S3Error::MalformedXml),
    }
}

/// The GetObjectRetention body.
pub fn retention_to_xml(r: &Retention) -> String {
    let mut w = XmlWriter::with_ns("Retention", S3_NS);
    w.elem("Mode", r.mode.as_str())
        .elem("RetainUntilDate", &iso8601(r.until()));
    w.finish("Retention")
}

/// Parses a PutObjectLegalHold body.
pub fn legal_hold_from_xml(doc: &Element) -> Result<bool, S3Error> {
    if doc.name != "LegalHold" {
        return Err(S3Error::MalformedXml);
    }
    match doc.text_of("Status").map(str::trim) {
        Some("ON") => Ok(true),
        Some("OFF") => Ok(false),
        _ => Err(S3Error::MalformedXml),
    }
}

/// The GetObjectLegalHold body.
pub fn legal_hold_to_xml(on: bool) -> String {
    let mut w = XmlWriter::with_ns("LegalHold", S3_NS);
    w.elem("Status", if on { "ON" } else { "OFF" });
    w.finish("LegalHold")
}

/// How a retention change relates to the current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionChange {
    /// Same or stricter: anyone allowed to PutObjectRetention may make it.
    Allowed,
    /// Shortens or removes a governance retention: needs a permitted bypass.
    NeedsBypass,
    /// Shortens, removes or weakens a compliance retention: never allowed.
    Forbidden,
}

/// Classifies replacing `current` with `new` at `now`.
pub fn classify_change(
    current: Option<Retention>,
    new: Option<Retention>,
    now: Timestamp,
) -> RetentionChange {
    let Some(cur) = current.filter(|c| c.active(now)) else {
        return RetentionChange::Allowed;
    };
    let stricter_or_same = new.is_some_and(|n| {
        n.until_ms >= cur.until_ms
            && (cur.mode == RetentionMode::Governance || n.mode == RetentionMode::Compliance)
    });
    match cur.mode {
        _ if stricter_or_same => RetentionChange::Allowed,
        RetentionMode::Compliance => RetentionChange::Forbidden,
        RetentionMode::Governance => RetentionChange::NeedsBypass,
    }
}

/// Remaining whole days of a retention (rounded up), for
/// `s3:object-lock-remaining-retention-days`.
pub fn remaining_days(r: &Retention, now: Timestamp) -> i64 {
    let ms = r.until_ms - now.as_millisecond();
    if ms <= 0 {
        return 0;
    }
    (ms + 86_400_000 - 1) / 86_400_000
}

/// The `s3:object-lock-*` condition keys of a requested lock.
pub fn condition_entries(
    retention: Option<&Retention>,
    legal_hold: Option<bool>,
    now: Timestamp,
) -> Vec<strongbox_core::ContextEntry> {
    use strongbox_core::ContextEntry;
    let mut out = Vec::new();
    if let Some(r) = retention {
        out.push(ContextEntry::new("s3:object-lock-mode", r.mode.as_str()));
        out.push(ContextEntry::new(
            "s3:object-lock-retain-until-date",
            iso8601(r.until()),
        ));
        out.push(ContextEntry::new(
            "s3:object-lock-remaining-retention-days",
            remaining_days(r, now).to_string(),
        ));
    }
    if let Some(on) = legal_hold {
        out.push(ContextEntry::new(
            "s3:object-lock-legal-hold",
            if on { "ON" } else { "OFF" },
        ));
    }
    out
}

/// Whether the request asks to bypass governance retention.
pub fn bypass_requested(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-bypass-governance-retention")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn retention(mode: RetentionMode, until: &str) -> Retention {
        Retention {
            mode,
            until_ms: at(until).as_millisecond(),
        }
    }

    #[test]
    fn protection_by_mode_and_legal_hold() {
        let now = at("2026-01-01T00:00:00Z");
        let gov = retention(RetentionMode::Governance, "2026-02-01T00:00:00Z");
        let comp = retention(RetentionMode::Compliance, "2026-02-01T00:00:00Z");
        let expired = retention(RetentionMode::Compliance, "2025-12-01T00:00:00Z");
        let lock = |r: Option<Retention>, h: Option<bool>| VersionLock {
            retention: r,
            legal_hold: h,
        };
        assert_eq!(
            lock(Some(gov), None).protection(now),
            Protection::Governance
        );
        assert_eq!(lock(Some(comp), None).protection(now), Protection::Absolute);
        assert_eq!(lock(Some(expired), None).protection(now), Protection::None);
        assert_eq!(lock(None, Some(true)).protection(now), Protection::Absolute);
        assert_eq!(lock(None, Some(false)).protection(now), Protection::None);
        assert_eq!(
            lock(Some(gov), Some(true)).protection(now),
            Protection::Absolute
        );
    }

    #[test]
    fn retention_changes() {
        let now = at("2026-01-01T00:00:00Z");
        let g = |d| retention(RetentionMode::Governance, d);
        let c = |d| retention(RetentionMode::Compliance, d);
        use RetentionChange::*;
        assert_eq!(
            classify_change(None, Some(g("2026-03-01T00:00:00Z")), now),
            Allowed
        );
        assert_eq!(
            classify_change(
                Some(g("2026-02-01T00:00:00Z")),
                Some(g("2026-03-01T00:00:00Z")),
                now
            ),
            Allowed
        );
        assert_eq!(
            classify_change(
                Some(g("2026-02-01T00:00:00Z")),
                Some(g("2026-01-15T00:00:00Z")),
                now
            ),
            NeedsBypass
        );
        assert_eq!(
            classify_change(Some(g("2026-02-01T00:00:00Z")), None, now),
            NeedsBypass
        );
        assert_eq!(
            classify_change(
                Some(g("2026-02-01T00:00:00Z")),
                Some(c("2026-02-01T00:00:00Z")),
                now
            ),
            Allowed
        );
        assert_eq!(
            classify_change(
                Some(c("2026-02-01T00:00:00Z")),
                Some(c("2026-03-01T00:00:00Z")),
                now
            ),
            Allowed
        );
        assert_eq!(
            classify_change(
                Some(c("2026-02-01T00:00:00Z")),
                Some(c("2026-01-15T00:00:00Z")),
                now
            ),
            Forbidden
        );
        assert_eq!(
            classify_change(
                Some(c("2026-02-01T00:00:00Z")),
                Some(g("2026-03-01T00:00:00Z")),
                now
            ),
            Forbidden
        );
        assert_eq!(
            classify_change(Some(c("2026-02-01T00:00:00Z")), None, now),
            Forbidden
        );
        // An expired retention may be replaced freely.
        assert_eq!(
            classify_change(Some(c("2025-12-01T00:00:00Z")), None, now),
            Allowed
        );
    }

    #[test]
    fn configuration_xml() {
        let doc = crate::xml::parse(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>3</Days></DefaultRetention></Rule></ObjectLockConfiguration>").unwrap();
        let config = ObjectLockConfig::from_xml(&doc).unwrap();
        assert_eq!(
            config.default_retention,
            Some(DefaultRetention {
                mode: RetentionMode::Governance,
                days: Some(3),
                years: None
            })
        );
        assert!(config.to_xml().contains("<Days>3</Days>"));
        let now = at("2026-01-01T00:00:00Z");
        assert_eq!(
            config.default_for(now).unwrap().until(),
            at("2026-01-04T00:00:00Z")
        );
        for bad in [
            &b"<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>"[..],
            b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>",
            b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>STRICT</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>",
        ] {
            let doc = crate::xml::parse(bad).unwrap();
            assert!(matches!(ObjectLockConfig::from_xml(&doc), Err(S3Error::MalformedXml)));
        }
        let zero = crate::xml::parse(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>0</Days></DefaultRetention></Rule></ObjectLockConfiguration>").unwrap();
        assert!(matches!(
            ObjectLockConfig::from_xml(&zero),
            Err(S3Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn request_headers() {
        let now = at("2026-01-01T00:00:00Z");
        let mut h = HeaderMap::new();
        assert!(RequestedLock::from_headers(&h, now).unwrap().is_empty());
        h.insert("x-amz-object-lock-mode", "GOVERNANCE".parse().unwrap());
        assert!(matches!(
            RequestedLock::from_headers(&h, now),
            Err(Failure {
                error: S3Error::InvalidArgument(_),
                ..
            })
        ));
        h.insert(
            "x-amz-object-lock-retain-until-date",
            "2025-06-01T00:00:00Z".parse().unwrap(),
        );
        let past = RequestedLock::from_headers(&h, now).unwrap_err();
        assert!(matches!(&past.error, S3Error::InvalidArgument(m) if m.contains("future")));
        assert!(past.extra.contains(&(
            "ArgumentName",
            "x-amz-object-lock-retain-until-date".to_string()
        )));
        h.insert(
            "x-amz-object-lock-retain-until-date",
            "2026-06-01T00:00:00.000Z".parse().unwrap(),
        );
        h.insert("x-amz-object-lock-legal-hold", "ON".parse().unwrap());
        let lock = RequestedLock::from_headers(&h, now).unwrap();
        assert_eq!(lock.legal_hold, Some(true));
        assert_eq!(lock.retention.unwrap().mode, RetentionMode::Governance);
        assert!(matches!(
            lock.for_new_version(None, now),
            Err(S3Error::InvalidRequest(_))
        ));
        assert_eq!(remaining_days(&lock.retention.unwrap(), now), 151);
    }
}
