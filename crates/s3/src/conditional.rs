//! Conditional requests: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.
//!
//! Amazon S3 API Reference, GetObject / HeadObject: if If-Match is true and
//! If-Unmodified-Since is false, S3 returns 200; if If-None-Match is false and
//! If-Modified-Since is true, S3 returns 304. So If-Match decides over
//! If-Unmodified-Since, If-None-Match over If-Modified-Since, and 412 checks
//! come before 304 checks (RFC 9110 §13.2.2).

use jiff::Timestamp;

use crate::dates::parse_http_date;

/// The four conditions (raw header values).
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub if_unmodified_since: Option<String>,
}

/// The outcome of evaluating conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    NotModified,
    PreconditionFailed,
}

/// Whether an `If-Match`/`If-None-Match` list matches `etag` (unquoted).
pub fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        let c = candidate.strip_prefix("W/").unwrap_or(candidate);
        c == "*" || c.trim_matches('"') == etag
    })
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none()
            && self.if_none_match.is_none()
            && self.if_modified_since.is_none()
            && self.if_unmodified_since.is_none()
    }

    /// Evaluates against an object's ETag (unquoted) and Last-Modified.
    /// `read` is true for GET/HEAD (304 possible), false for writes and copies (412 instead).
    pub fn evaluate(&self, etag: &str, last_modified: Timestamp, read: bool) -> Verdict {
        // HTTP dates have one-second precision.
        let modified = last_modified.as_second();
        if let Some(m) = &self.if_match {
            if !etag_matches(m, etag) {
                return Verdict::PreconditionFailed;
            }
        } else if let Some(t) = self
            .if_unmodified_since
            .as_deref()
            .and_then(parse_http_date)
        {
            if modified > t.as_second() {
                return Verdict::PreconditionFailed;
            }
        }
        let not_modified = if read {
            Verdict::NotModified
        } else {
            Verdict::PreconditionFailed
        };
        if let Some(m) = &self.if_none_match {
            if etag_matches(m, etag) {
                return not_modified;
            }
        } else if let Some(t) = self.if_modified_since.as_deref().and_then(parse_http_date) {
            if modified <= t.as_second() {
                return not_modified;
            }
        }
        Verdict::Proceed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const BEFORE: &str = "Thu, 01 Jan 2026 00:00:00 GMT";
    const AFTER: &str = "Sat, 03 Jan 2026 00:00:00 GMT";

    fn c(im: Option<&str>, inm: Option<&str>, ims: Option<&str>, ius: Option<&str>) -> Conditions {
        Conditions {
            if_match: im.map(Into::into),
            if_none_match: inm.map(Into::into),
            if_modified_since: ims.map(Into::into),
            if_unmodified_since: ius.map(Into::into),
        }
    }

    #[test]
    fn precedence() {
        let lm = t("2026-01-02T00:00:00Z");
        let ev = |c: Conditions| c.evaluate("abc", lm, true);
        assert_eq!(ev(c(Some("\"abc\""), None, None, None)), Verdict::Proceed);
        assert_eq!(
            ev(c(Some("\"x\""), None, None, None)),
            Verdict::PreconditionFailed
        );
        assert_eq!(ev(c(Some("*"), None, None, None)), Verdict::Proceed);
        // If-Match true wins over If-Unmodified-Since false.
        assert_eq!(
            ev(c(Some("\"abc\""), None, None, Some(BEFORE))),
            Verdict::Proceed
        );
        assert_eq!(
            ev(c(None, None, None, Some(BEFORE))),
            Verdict::PreconditionFailed
        );
        assert_eq!(ev(c(None, None, None, Some(AFTER))), Verdict::Proceed);
        assert_eq!(
            ev(c(None, Some("\"abc\""), None, None)),
            Verdict::NotModified
        );
        assert_eq!(
            ev(c(None, Some("\"x\", \"abc\""), None, None)),
            Verdict::NotModified
        );
        assert_eq!(ev(c(None, Some("\"x\""), None, None)), Verdict::Proceed);
        // If-None-Match false (no match) decides over If-Modified-Since.
        assert_eq!(
            ev(c(None, Some("\"x\""), Some(AFTER), None)),
            Verdict::Proceed
        );
        assert_eq!(ev(c(None, None, Some(AFTER), None)), Verdict::NotModified);
        assert_eq!(ev(c(None, None, Some(BEFORE), None)), Verdict::Proceed);
        // 412 before 304.
        assert_eq!(
            ev(c(Some("\"x\""), Some("\"abc\""), None, None)),
            Verdict::PreconditionFailed
        );
        // Invalid dates are ignored.
        assert_eq!(
            ev(c(None, None, Some("garbage"), Some("garbage"))),
            Verdict::Proceed
        );
        assert_eq!(
            c(None, Some("*"), None, None).evaluate("abc", lm, false),
            Verdict::PreconditionFailed
        );
    }
}
