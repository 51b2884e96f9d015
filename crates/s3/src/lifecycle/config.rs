//! The lifecycle configuration: the V2 XML of PutBucketLifecycleConfiguration,
//! its validation with S3's errors, and the XML GetBucketLifecycleConfiguration answers.
//!
//! S3 API Reference, PutBucketLifecycleConfiguration
//! (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html):
//! up to 1,000 rules; `LifecycleRuleFilter`
//! (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRuleFilter.html): a
//! `Filter` has exactly one of `Prefix`, `Tag`, `ObjectSizeGreaterThan`,
//! `ObjectSizeLessThan` or `And`, and an empty one applies to every object;
//! `LifecycleExpiration`: `Date` is always midnight UTC, `Days` a non-zero positive
//! integer, `ExpiredObjectDeleteMarker` "cannot be specified with Days or Date".

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::S3Error;
use crate::xml::{Element, XmlWriter};

/// At most this many rules per configuration (not adjustable on AWS).
pub const MAX_RULES: usize = 1000;
/// Rule IDs are at most 255 characters.
const MAX_ID_CHARS: usize = 255;
/// NewerNoncurrentVersions: "You can specify up to 100 noncurrent versions to retain."
const MAX_NEWER_NONCURRENT: u32 = 100;
/// The storage classes S3 lets a transition name; this store keeps every object
/// in STANDARD only, so each of them is refused as InvalidStorageClass.
const TRANSITION_CLASSES: [&str; 6] = [
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// A bucket's lifecycle configuration, as stored (JSON) and answered (XML).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleConfig {
    pub rules: Vec<Rule>,
}

/// One lifecycle rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub enabled: bool,
    pub filter: Filter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Expiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent: Option<NoncurrentExpiration>,
    /// AbortIncompleteMultipartUpload's DaysAfterInitiation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_after_days: Option<u32>,
}

/// How the rule's filter was written (answered back the same way).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterForm {
    /// The deprecated top-level `<Prefix>` of the rule.
    Legacy,
    /// `<Filter/>` or one predicate directly in `<Filter>`.
    #[default]
    Filter,
    /// `<Filter><And>…</And></Filter>`.
    And,
}

/// Which objects a rule applies to: every predicate must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub form: FilterForm,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<u64>,
}

/// The Expiration action of current versions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Midnight UTC, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
}

/// NoncurrentVersionExpiration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<u32>,
}

impl Filter {
    /// Whether an object (or a delete marker: size 0, no tags) matches.
    pub fn matches(&self, key: &str, size: u64, tags: &[(String, String)]) -> bool {
        self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
            && self.tags.iter().all(|t| tags.contains(t))
            && self.size_greater_than.is_none_or(|n| size > n)
            && self.size_less_than.is_none_or(|n| size < n)
    }

    fn has_size(&self) -> bool {
        self.size_greater_than.is_some() || self.size_less_than.is_some()
    }
}

impl LifecycleConfig {
    pub fn from_json(s: &str) -> Option<LifecycleConfig> {
        serde_json::from_str(s).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses and validates a `LifecycleConfiguration` document. `new_id` names
    /// rules sent without an ID (S3 assigns one).
    pub fn from_xml(
        doc: &Element,
        mut new_id: impl FnMut() -> String,
    ) -> Result<LifecycleConfig, S3Error> {
        if doc.name != "LifecycleConfiguration" || doc.children.iter().any(|c| c.name != "Rule") {
            return Err(S3Error::MalformedXml);
        }
        if doc.children.is_empty() {
            return Err(S3Error::MalformedXml);
        }
        if doc.children.len() > MAX_RULES {
            return Err(S3Error::MalformedXml);
        }
        let mut rules: Vec<Rule> = Vec::with_capacity(doc.children.len());
        for el in &doc.children {
            let rule = parse_rule(el, &mut new_id)?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(S3Error::InvalidArgument(
                    "Rule ID must be unique. Found same ID for more than one rule".into(),
                ));
            }
            rules.push(rule);
        }
        Ok(LifecycleConfig { rules })
    }

    /// The `LifecycleConfiguration` document GetBucketLifecycleConfiguration answers.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new("LifecycleConfiguration");
        for r in &self.rules {
            w.open("Rule");
            if let Some(e) = &r.expiration {
                w.open("Expiration");
                w.opt("Date", e.date_ms.map(date_text).as_deref());
                w.opt("Days", e.days.map(|d| d.to_string()).as_deref());
                w.opt(
                    "ExpiredObjectDeleteMarker",
                    e.expired_object_delete_marker
                        .map(|b| b.to_string())
                        .as_deref(),
                );
                w.close("Expiration");
            }
            w.elem("ID", &r.id);
            write_filter(&mut w, &r.filter);
            w.elem("Status", if r.enabled { "Enabled" } else { "Disabled" });
            if let Some(n) = &r.noncurrent {
                w.open("NoncurrentVersionExpiration");
                w.elem("NoncurrentDays", &n.days.to_string());
                w.opt(
                    "NewerNoncurrentVersions",
                    n.newer_noncurrent_versions
                        .map(|v| v.to_string())
                        .as_deref(),
                );
                w.close("NoncurrentVersionExpiration");
            }
            if let Some(d) = r.abort_after_days {
                w.open("AbortIncompleteMultipartUpload");
                w.elem("DaysAfterInitiation", &d.to_string());
                w.close("AbortIncompleteMultipartUpload");
            }
            w.close("Rule");
        }
        w.finish("LifecycleConfiguration")
    }
}

fn write_filter(w: &mut XmlWriter, f: &Filter) {
    if f.form == FilterForm::Legacy {
        w.elem("Prefix", f.prefix.as_deref().unwrap_or(""));
        return;
    }
    w.open("Filter");
    if f.form == FilterForm::And {
        w.open("And");
    }
    w.opt("Prefix", f.prefix.as_deref());
    for (k, v) in &f.tags {
        w.open("Tag").elem("Key", k).elem("Value", v).close("Tag");
    }
    w.opt(
        "ObjectSizeGreaterThan",
        f.size_greater_than.map(|n| n.to_string()).as_deref(),
    );
    w.opt(
        "ObjectSizeLessThan",
        f.size_less_than.map(|n| n.to_string()).as_deref(),
    );
    if f.form == FilterForm::And {
        w.close("And");
    }
    w.close("Filter");
}

/// `2026-01-01T00:00:00.000Z`, as S3 answers lifecycle dates.
fn date_text(ms: i64) -> String {
    let t = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// The only child named `name` (more than one is MalformedXML).
fn single<'a>(el: &'a Element, name: &str) -> Result<Option<&'a Element>, S3Error> {
    let mut found = el.children.iter().filter(|c| c.name == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(S3Error::MalformedXml);
    }
    Ok(first)
}

/// Children other than `allowed` are MalformedXML.
fn only(el: &Element, allowed: &[&str]) -> Result<(), S3Error> {
    if el
        .children
        .iter()
        .all(|c| allowed.contains(&c.name.as_str()))
    {
        Ok(())
    } else {
        Err(S3Error::MalformedXml)
    }
}

/// A whole number in `T`; anything else is MalformedXML (the schema's type).
fn number<T: std::str::FromStr>(el: &Element) -> Result<T, S3Error> {
    el.text.trim().parse().map_err(|_| S3Error::MalformedXml)
}

/// A positive day count; zero or less is InvalidArgument with `message`.
fn positive_days(el: Option<&Element>, message: &str) -> Result<u32, S3Error> {
    let invalid = || S3Error::InvalidArgument(message.to_string());
    let el = el.ok_or_else(invalid)?;
    let n: i64 = number(el)?;
    u32::try_from(n).ok().filter(|d| *d > 0).ok_or_else(invalid)
}

fn parse_rule(el: &Element, new_id: &mut impl FnMut() -> String) -> Result<Rule, S3Error> {
    only(
        el,
        &[
            "ID",
            "Status",
            "Filter",
            "Prefix",
            "Expiration",
            "NoncurrentVersionExpiration",
            "AbortIncompleteMultipartUpload",
            "Transition",
            "NoncurrentVersionTransition",
        ],
    )?;
    let id = match single(el, "ID")? {
        Some(e) if !e.text.is_empty() => e.text.clone(),
        _ => new_id(),
    };
    if id.chars().count() > MAX_ID_CHARS {
        return Err(S3Error::InvalidArgument(
            "ID length should not exceed allowed limit of 255".into(),
        ));
    }
    let enabled = match single(el, "Status")?.map(|e| e.text.as_str()) {
        Some("Enabled") => true,
        Some("Disabled") => false,
        _ => return Err(S3Error::MalformedXml),
    };
    let filter = match (single(el, "Filter")?, single(el, "Prefix")?) {
        (Some(f), None) => parse_filter(f)?,
        (None, Some(p)) => Filter {
            form: FilterForm::Legacy,
            prefix: Some(p.text.clone()),
            ..Filter::default()
        },
        _ => return Err(S3Error::MalformedXml),
    };
    let expiration = single(el, "Expiration")?
        .map(parse_expiration)
        .transpose()?;
    let noncurrent = single(el, "NoncurrentVersionExpiration")?
        .map(parse_noncurrent)
        .transpose()?;
    let abort_after_days = match single(el, "AbortIncompleteMultipartUpload")? {
        Some(a) => {
            only(a, &["DaysAfterInitiation"])?;
            Some(positive_days(
                single(a, "DaysAfterInitiation")?,
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
            )?)
        }
        None => None,
    };
    let transitions: Vec<&Element> = el
        .children
        .iter()
        .filter(|c| c.name == "Transition" || c.name == "NoncurrentVersionTransition")
        .collect();
    for t in &transitions {
        check_transition(t)?;
    }
    let rule = Rule {
        id,
        enabled,
        filter,
        expiration,
        noncurrent,
        abort_after_days,
    };
    check_actions(&rule, !transitions.is_empty())?;
    Ok(rule)
}

/// The combinations of actions and filters S3 refuses.
fn check_actions(rule: &Rule, has_transitions: bool) -> Result<(), S3Error> {
    if rule.expiration.is_none()
        && rule.noncurrent.is_none()
        && rule.abort_after_days.is_none()
        && !has_transitions
    {
        return Err(S3Error::InvalidRequest(
            "At least one action needs to be specified in a rule".into(),
        ));
    }
    let f = &rule.filter;
    if rule.abort_after_days.is_some() && !f.tags.is_empty() {
        return Err(S3Error::InvalidRequest(
            "AbortIncompleteMultipartUpload cannot be specified with Tags.".into(),
        ));
    }
    if rule.abort_after_days.is_some() && f.has_size() {
        return Err(S3Error::InvalidRequest(
            "AbortIncompleteMultipartUpload cannot be specified with Object Size.".into(),
        ));
    }
    let marker_rule = rule
        .expiration
        .as_ref()
        .is_some_and(|e| e.expired_object_delete_marker == Some(true));
    if marker_rule && !f.tags.is_empty() {
        return Err(S3Error::InvalidRequest(
            "ExpiredObjectDeleteMarker cannot be specified with Tags.".into(),
        ));
    }
    Ok(())
}

/// Transitions need a storage class this store has; it has STANDARD only.
fn check_transition(t: &Element) -> Result<(), S3Error> {
    only(
        t,
        &[
            "Days",
            "Date",
            "NoncurrentDays",
            "NewerNoncurrentVersions",
            "StorageClass",
        ],
    )?;
    let class = single(t, "StorageClass")?.ok_or(S3Error::MalformedXml)?;
    if !TRANSITION_CLASSES.contains(&class.text.as_str()) {
        return Err(S3Error::MalformedXml);
    }
    Err(S3Error::InvalidStorageClass)
}

fn parse_filter(f: &Element) -> Result<Filter, S3Error> {
    only(
        f,
        &[
            "Prefix",
            "Tag",
            "ObjectSizeGreaterThan",
            "ObjectSizeLessThan",
            "And",
        ],
    )?;
    if f.children.len() > 1 {
        return Err(S3Error::MalformedXml);
    }
    let mut filter = match single(f, "And")? {
        Some(and) => {
            only(
                and,
                &[
                    "Prefix",
                    "Tag",
                    "ObjectSizeGreaterThan",
                    "ObjectSizeLessThan",
                ],
            )?;
            if and.children.is_empty() {
                return Err(S3Error::MalformedXml);
            }
            let mut filter = predicates(and)?;
            filter.form = FilterForm::And;
            filter
        }
        None => predicates(f)?,
    };
    if let (Some(gt), Some(lt)) = (filter.size_greater_than, filter.size_less_than) {
        if gt >= lt {
            return Err(S3Error::InvalidArgument(
                "ObjectSizeGreaterThan must be less than ObjectSizeLessThan".into(),
            ));
        }
    }
    if filter.form != FilterForm::And && filter.tags.len() > 1 {
        return Err(S3Error::MalformedXml);
    }
    filter.tags.shrink_to_fit();
    Ok(filter)
}

/// The predicates directly inside `el` (a Filter or its And).
fn predicates(el: &Element) -> Result<Filter, S3Error> {
    let mut tags = Vec::new();
    for t in el.children_named("Tag") {
        only(t, &["Key", "Value"])?;
        let key = single(t, "Key")?.ok_or(S3Error::MalformedXml)?.text.clone();
        let value = single(t, "Value")?
            .map(|v| v.text.clone())
            .unwrap_or_default();
        tags.push((key, value));
    }
    crate::tags::validate(&tags, crate::tags::OBJECT_TAGS)?;
    let size = |name: &str| -> Result<Option<u64>, S3Error> {
        match single(el, name)? {
            Some(e) => {
                let n: i64 = number(e)?;
                u64::try_from(n).map(Some).map_err(|_| {
                    S3Error::InvalidArgument(format!("{name} must be a non-negative integer"))
                })
            }
            None => Ok(None),
        }
    };
    Ok(Filter {
        form: FilterForm::Filter,
        prefix: single(el, "Prefix")?.map(|p| p.text.clone()),
        tags,
        size_greater_than: size("ObjectSizeGreaterThan")?,
        size_less_than: size("ObjectSizeLessThan")?,
    })
}

fn parse_expiration(e: &Element) -> Result<Expiration, S3Error> {
    only(e, &["Days", "Date", "ExpiredObjectDeleteMarker"])?;
    let days = match single(e, "Days")? {
        Some(d) => Some(positive_days(
            Some(d),
            "'Days' for Expiration action must be a positive integer",
        )?),
        None => None,
    };
    let date_ms = single(e, "Date")?.map(parse_midnight).transpose()?;
    let marker = match single(e, "ExpiredObjectDeleteMarker")?.map(|m| m.text.trim()) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(S3Error::MalformedXml),
        None => None,
    };
    let given = [days.is_some(), date_ms.is_some(), marker.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(S3Error::MalformedXml);
    }
    Ok(Expiration {
        days,
        date_ms,
        expired_object_delete_marker: marker,
    })
}

/// An ISO 8601 date that must be midnight UTC.
fn parse_midnight(d: &Element) -> Result<i64, S3Error> {
    let text = d.text.trim();
    let t: Timestamp = text
        .parse()
        .or_else(|_| format!("{text}T00:00:00Z").parse())
        .map_err(|_| S3Error::MalformedXml)?;
    let ms = t.as_millisecond();
    if ms.rem_euclid(86_400_000) != 0 {
        return Err(S3Error::InvalidArgument(
            "'Date' must be at midnight GMT".into(),
        ));
    }
    Ok(ms)
}

fn parse_noncurrent(n: &Element) -> Result<NoncurrentExpiration, S3Error> {
    only(n, &["NoncurrentDays", "NewerNoncurrentVersions"])?;
    let days = positive_days(
        single(n, "NoncurrentDays")?,
        "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    )?;
    let newer = match single(n, "NewerNoncurrentVersions")? {
        Some(v) => {
            let count: i64 = number(v)?;
            let ok = u32::try_from(count)
                .ok()
                .filter(|c| (1..=MAX_NEWER_NONCURRENT).contains(c));
            Some(ok.ok_or_else(|| {
                S3Error::InvalidArgument(
                    "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100"
                        .into(),
                )
            })?)
        }
        None => None,
    };
    Ok(NoncurrentExpiration {
        days,
        newer_noncurrent_versions: newer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<LifecycleConfig, S3Error> {
        let doc = crate::xml::parse(body.as_bytes())?;
        LifecycleConfig::from_xml(&doc, || "generated".to_string())
    }

    #[test]
    fn round_trips_every_element() {
        let body = "<LifecycleConfiguration><Rule><ID>a</ID><Filter><And><Prefix>p/</Prefix>\
            <Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan>\
            </And></Filter><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00.000Z</Date>\
            </Expiration><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays>\
            <NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>\
            <Rule><Prefix>old/</Prefix><Status>Disabled</Status><AbortIncompleteMultipartUpload>\
            <DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule></LifecycleConfiguration>";
        let config = parse(body).unwrap();
        assert_eq!(config.rules[1].id, "generated");
        assert_eq!(config.rules[1].filter.form, FilterForm::Legacy);
        let again = parse(&config.to_xml()).unwrap();
        assert_eq!(again, config);
        assert_eq!(LifecycleConfig::from_json(&config.to_json()), Some(config));
    }

    #[test]
    fn filters_match_all_their_predicates() {
        let f = Filter {
            form: FilterForm::And,
            prefix: Some("logs/".into()),
            tags: vec![("t".into(), "1".into())],
            size_greater_than: Some(10),
            size_less_than: Some(100),
        };
        let tags = vec![("t".to_string(), "1".to_string()), ("u".into(), "2".into())];
        assert!(f.matches("logs/a", 50, &tags));
        assert!(!f.matches("data/a", 50, &tags));
        assert!(!f.matches("logs/a", 10, &tags));
        assert!(!f.matches("logs/a", 100, &tags));
        assert!(!f.matches("logs/a", 50, &[]));
        assert!(Filter::default().matches("anything", 0, &[]));
    }

    #[test]
    fn refuses_what_s3_refuses() {
        let rule = |inner: &str| {
            format!("<LifecycleConfiguration><Rule><ID>a</ID><Filter/><Status>Enabled</Status>{inner}</Rule></LifecycleConfiguration>")
        };
        let code = |body: String| {
            parse(&body)
                .err()
                .map(|e| strongbox_core::AwsError::code(&e).to_string())
        };
        assert_eq!(
            code(rule("<Expiration><Days>-1</Days></Expiration>")).as_deref(),
            Some("InvalidArgument")
        );
        assert_eq!(
            code(rule("<Expiration><Days>x</Days></Expiration>")).as_deref(),
            Some("MalformedXML")
        );
        assert_eq!(
            code(rule("<Expiration></Expiration>")).as_deref(),
            Some("MalformedXML")
        );
        assert_eq!(
            code(rule("<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>")).as_deref(),
            Some("InvalidArgument")
        );
        assert_eq!(
            code(rule(
                "<Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition>"
            ))
            .as_deref(),
            Some("MalformedXML")
        );
        assert_eq!(
            code(rule(
                "<Transition><Days>1</Days><StorageClass>DEEP_ARCHIVE</StorageClass></Transition>"
            ))
            .as_deref(),
            Some("InvalidStorageClass")
        );
        let sizes = "<LifecycleConfiguration><Rule><ID>a</ID><Filter><And><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan>\
            <ObjectSizeLessThan>5</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>\
            <Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
        assert_eq!(code(sizes.to_string()).as_deref(), Some("InvalidArgument"));
    }
}
