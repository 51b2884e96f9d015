//! Decision records: one JSON line per authorization decision, in
//! `DATA_DIR/decisions.jsonl` (rotated by size into `decisions.1.jsonl`, …,
//! see [`crate::decision_log`]), read back by `strongbox explain`.
//!
//! A record keeps bounded values, as CloudTrail does: "CloudTrail truncates a
//! field if the field's contents exceeds the maximum field size. If a field is
//! truncated, omitted is present with a value of true."
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).
//! Here too `omitted: true` says a record was cut, and `truncated` names what was.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::decision_log::{DecisionLog, LogLimits, LogStats, BATCH_INTERVAL, DECISIONS_FILE};

/// The longest condition value a record keeps, in bytes (longer ones are cut).
pub const MAX_VALUE_BYTES: usize = 1024;
/// The longest message, resource, policy name or suggested fix a record keeps, in bytes.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Values kept per condition key.
pub const MAX_VALUES_PER_KEY: usize = 32;
/// Condition keys kept per record.
pub const MAX_CONTEXT_KEYS: usize = 128;
/// Proven fixes kept per record.
pub const MAX_FIXES: usize = 4;
/// Policy names kept per record.
pub const MAX_POLICIES: usize = 64;
/// The longest line a record may take; beyond it the trace is left out.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

fn is_false(b: &bool) -> bool {
    !*b
}
/// Everything needed to explain one decision later.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub request_id: String,
    pub time: String,
    /// The caller's identity ARN (`anonymous` for unsigned requests).
    pub principal: String,
    pub principal_account: String,
    pub action: String,
    pub resource: String,
    pub resource_account: Option<String>,
    /// `Allow` or `Deny`.
    pub decision: String,
    /// AWS's reason category, e.g. `no_allow_identity_policy`, or a rule such as `block_public_acls`.
    pub reason: String,
    /// The message the caller was (or would have been) shown.
    pub message: String,
    /// The policy and statement that decided, e.g. `bucket policy` statement `DenyUnencrypted`.
    pub deciding_policy: Option<String>,
    pub deciding_statement: Option<String>,
    /// Names of every policy that was read.
    pub policies: Vec<String>,
    /// Condition keys and values of the request.
    pub context: BTreeMap<String, Vec<String>>,
    /// The smallest change that would allow the request (denials only).
    pub fix: Option<String>,
    /// Why this check ran: which header, default or setting of the request
    /// caused it (filled in by `explain` from the request's records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_checked: Option<String>,
    /// Fixes proven by re-evaluating the request with each applied (denials only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<crate::proven::ProvenFix>,
    /// The engine's full trace (denials only, to keep the log small), without
    /// the request context (that is `context`, kept once).
    pub trace: Option<serde_json::Value>,
    /// Something was cut to keep the record bounded (CloudTrail's `omitted`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub omitted: bool,
    /// What was cut: field names, `context:KEY` for condition values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<String>,
}

/// Cuts `text` to at most `max` bytes (on a character boundary); `true` when it did.
fn truncate(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// Cuts every string inside `value` to `max` bytes; `true` when any was cut.
fn truncate_json(value: &mut serde_json::Value, max: usize) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => truncate(s, max),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |cut, v| truncate_json(v, max) | cut),
        Value::Object(fields) => fields
            .values_mut()
            .fold(false, |cut, v| truncate_json(v, max) | cut),
        _ => false,
    }
}

impl DecisionRecord {
    /// Bounds what the record keeps: long values are cut, surplus keys and
    /// values left out, and the trace loses its copy of the request context.
    /// Says so in `omitted` / `truncated`. Cheap enough for the request path.
    pub fn bound(&mut self) {
        let mut cut = Vec::new();
        for (name, text) in [
            ("principal", &mut self.principal),
            ("action", &mut self.action),
            ("resource", &mut self.resource),
            ("message", &mut self.message),
        ] {
            if truncate(text, MAX_TEXT_BYTES) {
                cut.push(name.to_string());
            }
        }
        if self
            .fix
            .as_mut()
            .is_some_and(|f| truncate(f, MAX_TEXT_BYTES))
        {
            cut.push("fix".to_string());
        }
        // A cut command would be wrong: a fix too long to keep whole is left out.
        let fixes = self.fixes.len();
        self.fixes.truncate(MAX_FIXES);
        self.fixes.retain(|f| {
            f.command.len() <= MAX_TEXT_BYTES
                && f.change.len() <= MAX_TEXT_BYTES
                && f.argv.iter().map(String::len).sum::<usize>() <= MAX_TEXT_BYTES
        });
        if self.fixes.len() < fixes {
            cut.push("fixes".to_string());
        }
        if self.policies.len() > MAX_POLICIES {
            self.policies.truncate(MAX_POLICIES);
            cut.push("policies".to_string());
        }
        if self
            .policies
            .iter_mut()
            .fold(false, |c, p| truncate(p, MAX_TEXT_BYTES) | c)
        {
            cut.push("policies".to_string());
        }
        if self.context.len() > MAX_CONTEXT_KEYS {
            let surplus: Vec<String> = self
                .context
                .keys()
                .skip(MAX_CONTEXT_KEYS)
                .cloned()
                .collect();
            for key in surplus {
                self.context.remove(&key);
            }
            cut.push("context".to_string());
        }
        for (key, values) in self.context.iter_mut() {
            let mut cut_here = values.len() > MAX_VALUES_PER_KEY;
            values.truncate(MAX_VALUES_PER_KEY);
            for v in values.iter_mut() {
                cut_here |= truncate(v, MAX_VALUE_BYTES);
            }
            if cut_here {
                cut.push(format!("context:{}", bounded_key(key)));
            }
        }
        if let Some(trace) = self.trace.as_mut() {
            if let Some(request) = trace.get_mut("request").and_then(|r| r.as_object_mut()) {
                request.remove("context");
            }
            if truncate_json(trace, MAX_VALUE_BYTES) {
                cut.push("trace".to_string());
            }
        }
        if !cut.is_empty() {
            cut.dedup();
            self.omitted = true;
            self.truncated.extend(cut);
        }
    }

    /// The record as one JSON line (without the newline), at most about
    /// [`MAX_RECORD_BYTES`]: when longer, the trace (then the context) is left out.
    pub fn to_line(&mut self) -> Option<String> {
        let line = serde_json::to_string(self).ok()?;
        if line.len() <= MAX_RECORD_BYTES {
            return Some(line);
        }
        self.omitted = true;
        if self.trace.take().is_some() {
            self.truncated.push("trace".to_string());
            let line = serde_json::to_string(self).ok()?;
            if line.len() <= MAX_RECORD_BYTES {
                return Some(line);
            }
        }
        self.context.clear();
        self.truncated.push("context".to_string());
        serde_json::to_string(self).ok()
    }
}

/// A condition key as `truncated` names it (keys come from requests: bounded too).
fn bounded_key(key: &str) -> &str {
    let mut end = key.len().min(128);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

/// The decision log files in `data_dir`, newest first: `decisions.jsonl`, then
/// `decisions.1.jsonl`, `decisions.2.jsonl`, … (whichever exist).
pub fn log_files(data_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut rotated: Vec<(u64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_prefix("decisions."))
            .and_then(|n| n.strip_suffix(".jsonl"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        rotated.push((n, entry.path()));
    }
    rotated.sort();
    let mut files = vec![data_dir.join(DECISIONS_FILE)];
    files.extend(rotated.into_iter().map(|(_, p)| p));
    Ok(files)
}

/// The records of `request_id` in one file, oldest first.
fn find_in(path: &Path, request_id: &str) -> std::io::Result<Vec<DecisionRecord>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let needle = format!("\"request_id\":{}", serde_json::Value::from(request_id));
    let mut found = Vec::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line?;
        // A line cut by a failed write is not valid JSON (nor UTF-8): skipped.
        let Ok(line) = std::str::from_utf8(&line) else {
            continue;
        };
        if !line.contains(&needle) {
            continue;
        }
        if let Ok(record) = serde_json::from_str::<DecisionRecord>(line) {
            found.push(record);
        }
    }
    Ok(found)
}

/// The records the logs of `data_dir` say were lost (the writer's
/// `lost_records` notes, written once writing worked again after failures).
pub fn lost_records(data_dir: &Path) -> std::io::Result<u64> {
    let mut lost = 0u64;
    for path in log_files(data_dir)? {
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        for line in std::io::BufReader::new(file).split(b'\n') {
            let line = line?;
            if !line.starts_with(b"{\"lost_records\":") {
                continue;
            }
            if let Ok(note) = serde_json::from_slice::<serde_json::Value>(&line) {
                lost += note["lost_records"].as_u64().unwrap_or(0);
            }
        }
    }
    Ok(lost)
}

/// Every record of `request_id` in the logs of `data_dir`, oldest first.
/// Files are searched newest first; the search ends at the file older than
/// the first one with a match (one request's records may straddle a rotation).
pub fn find(data_dir: &Path, request_id: &str) -> std::io::Result<Vec<DecisionRecord>> {
    let mut found: Vec<DecisionRecord> = Vec::new();
    let mut matched_newer = false;
    for path in log_files(data_dir)? {
        let mut here = find_in(&path, request_id)?;
        let matched_here = !here.is_empty();
        here.append(&mut found);
        found = here;
        if matched_newer {
            break;
        }
        matched_newer = matched_here;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(request_id: &str) -> DecisionRecord {
        DecisionRecord {
            request_id: request_id.to_string(),
            principal: "anonymous".to_string(),
            action: "s3:GetObject".to_string(),
            resource: "arn:aws:s3:::b/k".to_string(),
            decision: "Deny".to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn long_values_are_cut_and_the_record_says_so() {
        let huge = "U".repeat(900 * 1024);
        let mut r = record("R1");
        r.context.insert("aws:UserAgent".into(), vec![huge.clone()]);
        r.context.insert("aws:Referer".into(), vec!["short".into()]);
        r.context
            .insert("s3:x-amz-grant-read".into(), vec!["g".into(); 100]);
        r.trace = Some(serde_json::json!({
            "request": {"action": "s3:GetObject", "context": {"aws:UserAgent": huge.clone()}},
            "policies": [{"statements": [{"request": huge.clone()}]}],
        }));
        r.bound();
        let line = r.to_line().unwrap();
        assert!(line.len() < 8 * 1024, "{} bytes", line.len());
        assert!(r.omitted);
        assert_eq!(r.context["aws:UserAgent"][0].len(), MAX_VALUE_BYTES);
        assert_eq!(r.context["s3:x-amz-grant-read"].len(), MAX_VALUES_PER_KEY);
        assert_eq!(r.context["aws:Referer"], vec!["short".to_string()]);
        for what in [
            "context:aws:UserAgent",
            "context:s3:x-amz-grant-read",
            "trace",
        ] {
            assert!(
                r.truncated.iter().any(|t| t == what),
                "{what}: {:?}",
                r.truncated
            );
        }
        // The user agent is kept once: the trace no longer repeats the context.
        assert_eq!(
            line.matches(&"U".repeat(MAX_VALUE_BYTES)).count(),
            2,
            "context + the trace's one condition value"
        );
        assert!(r.trace.as_ref().unwrap()["request"]
            .get("context")
            .is_none());
        let back: DecisionRecord = serde_json::from_str(&line).unwrap();
        assert!(back.omitted);
    }

    #[test]
    fn a_record_within_bounds_is_unchanged_and_says_nothing() {
        let mut r = record("R2");
        r.context
            .insert("aws:UserAgent".into(), vec!["aws-cli/2".into()]);
        r.bound();
        assert!(!r.omitted && r.truncated.is_empty());
        let line = r.to_line().unwrap();
        assert!(
            !line.contains("omitted") && !line.contains("truncated"),
            "{line}"
        );
    }

    #[test]
    fn a_record_too_long_even_when_bounded_loses_its_trace() {
        let mut r = record("R3");
        let many: Vec<serde_json::Value> = (0..200)
            .map(|_| serde_json::json!("p".repeat(1000)))
            .collect();
        r.trace = Some(serde_json::Value::Array(many));
        r.bound();
        let line = r.to_line().unwrap();
        assert!(line.len() <= MAX_RECORD_BYTES);
        assert!(r.trace.is_none() && r.truncated.iter().any(|t| t == "trace"));
    }
}
