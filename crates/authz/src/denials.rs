//! Finding denials in the decision log: the newest denied request
//! (`strongbox explain --last`) and recent denials filtered by principal,
//! account, bucket, action and time (`strongbox denials`), across rotated files.

use std::io::BufRead;
use std::path::Path;

use crate::record::{log_files, DecisionRecord};

/// Which denials to list.
#[derive(Clone, Debug, Default)]
pub struct DenialFilter {
    /// Only denials at or after this instant.
    pub since: Option<jiff::Timestamp>,
    /// The caller's ARN, or a part of it (case-insensitive).
    pub principal: Option<String>,
    /// The caller's account or the resource owner's account.
    pub account: Option<String>,
    /// The bucket the resource is in (`arn:aws:s3:::NAME` or `arn:aws:s3:::NAME/…`).
    pub bucket: Option<String>,
    /// The action, e.g. `s3:PutObject` (case-insensitive).
    pub action: Option<String>,
}

impl DenialFilter {
    /// Whether the denial `record` passes every filter.
    pub fn matches(&self, record: &DecisionRecord) -> bool {
        if let Some(since) = self.since {
            match record.time.parse::<jiff::Timestamp>() {
                Ok(at) if at >= since => {}
                _ => return false,
            }
        }
        if let Some(principal) = &self.principal {
            let wanted = principal.to_ascii_lowercase();
            if !record.principal.to_ascii_lowercase().contains(&wanted) {
                return false;
            }
        }
        if let Some(account) = &self.account {
            let owner = record.resource_account.as_deref();
            if record.principal_account != *account && owner != Some(account.as_str()) {
                return false;
            }
        }
        if let Some(bucket) = &self.bucket {
            let in_bucket = record
                .resource
                .strip_prefix("arn:aws:s3:::")
                .and_then(|rest| rest.strip_prefix(bucket.as_str()))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            if !in_bucket {
                return false;
            }
        }
        if let Some(action) = &self.action {
            if !record.action.eq_ignore_ascii_case(action) {
                return false;
            }
        }
        true
    }
}

/// The denials in one log file that pass `filter`, newest first.
fn denials_in(path: &Path, filter: &DenialFilter) -> std::io::Result<Vec<DecisionRecord>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line?;
        // Only denials are parsed; cut lines (failed writes) and notes are skipped.
        if !contains(&line, b"\"decision\":\"Deny\"") {
            continue;
        }
        let Ok(record) = serde_json::from_slice::<DecisionRecord>(&line) else {
            continue;
        };
        if record.decision == "Deny" && filter.matches(&record) {
            found.push(record);
        }
    }
    found.reverse();
    Ok(found)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The denials that pass `filter`, newest first, one per request (its last
/// denial), at most `limit`. Older rotated files are read only while fewer
/// than `limit` were found, and not at all once a file ends before `since`.
pub fn denials(
    data_dir: &Path,
    filter: &DenialFilter,
    limit: usize,
) -> std::io::Result<Vec<DecisionRecord>> {
    let mut found: Vec<DecisionRecord> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in log_files(data_dir)? {
        for record in denials_in(&path, filter)? {
            if found.len() >= limit {
                return Ok(found);
            }
            if seen.insert(record.request_id.clone()) {
                found.push(record);
            }
        }
        if found.len() >= limit || file_ends_before(&path, filter.since) {
            break;
        }
    }
    Ok(found)
}

/// Whether every record of `path` is older than `since` (its last modification is).
fn file_ends_before(path: &Path, since: Option<jiff::Timestamp>) -> bool {
    let Some(since) = since else {
        return false;
    };
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .is_some_and(|modified| modified < since)
}

/// The newest denied request in the logs of `data_dir`, if any.
pub fn last_denial(data_dir: &Path) -> std::io::Result<Option<DecisionRecord>> {
    Ok(denials(data_dir, &DenialFilter::default(), 1)?
        .into_iter()
        .next())
}

/// Parses `--since`: an instant (`2026-12-07T21:00:00Z`) or a span back from
/// `now` (`10m`, `1h`, `2d`, `90s`, `1h 30m`).
pub fn parse_since(input: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp, String> {
    let input = input.trim();
    if let Ok(at) = input.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    // Days are not a fixed length for `Timestamp` arithmetic: count them as 24 hours.
    let span = input.parse::<jiff::Span>().map_err(|e| {
        format!(
            "--since {input:?}: expected a time such as 10m, 1h, 2d or an RFC 3339 instant ({e})"
        )
    })?;
    let back = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("--since {input:?}: {e}"))?;
    if back.is_negative() {
        return Err(format!("--since {input:?}: must not be negative"));
    }
    now.checked_sub(back)
        .map_err(|e| format!("--since {input:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denial(id: &str, time: &str, principal: &str, resource: &str) -> DecisionRecord {
        DecisionRecord {
            request_id: id.to_string(),
            time: time.to_string(),
            principal: principal.to_string(),
            principal_account: "111122223333".to_string(),
            action: "s3:PutObject".to_string(),
            resource: resource.to_string(),
            resource_account: Some("444455556666".to_string()),
            decision: "Deny".to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn filters_match_principal_part_account_bucket_action_and_time() {
        let r = denial(
            "R",
            "2026-12-07T10:00:00Z",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:s3:::photos/cat.jpg",
        );
        let yes = |f: DenialFilter| assert!(f.matches(&r), "{f:?}");
        let no = |f: DenialFilter| assert!(!f.matches(&r), "{f:?}");
        yes(DenialFilter::default());
        yes(DenialFilter {
            principal: Some("user/ALICE".into()),
            ..Default::default()
        });
        no(DenialFilter {
            principal: Some("user/bob".into()),
            ..Default::default()
        });
        yes(DenialFilter {
            account: Some("444455556666".into()),
            ..Default::default()
        });
        no(DenialFilter {
            account: Some("999999999999".into()),
            ..Default::default()
        });
        yes(DenialFilter {
            bucket: Some("photos".into()),
            ..Default::default()
        });
        no(DenialFilter {
            bucket: Some("photo".into()),
            ..Default::default()
        });
        yes(DenialFilter {
            action: Some("S3:putobject".into()),
            ..Default::default()
        });
        no(DenialFilter {
            action: Some("s3:GetObject".into()),
            ..Default::default()
        });
        let at = |s: &str| Some(s.parse::<jiff::Timestamp>().unwrap());
        yes(DenialFilter {
            since: at("2026-12-07T09:59:59Z"),
            ..Default::default()
        });
        no(DenialFilter {
            since: at("2026-12-07T10:00:01Z"),
            ..Default::default()
        });
    }

    #[test]
    fn since_takes_spans_and_instants() {
        let now: jiff::Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        let since = |s: &str| parse_since(s, now).unwrap().to_string();
        assert_eq!(since("10m"), "2026-12-07T11:50:00Z");
        assert_eq!(since("1h"), "2026-12-07T11:00:00Z");
        assert_eq!(since("2d"), "2026-12-05T12:00:00Z");
        assert_eq!(since("2026-12-01T00:00:00Z"), "2026-12-01T00:00:00Z");
        assert!(parse_since("soon", now).is_err());
    }
}
