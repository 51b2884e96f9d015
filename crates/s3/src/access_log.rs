//! Server access logging: the bucket's logging configuration
//! (Put/GetBucketLogging), one record per request in S3's documented format,
//! buffered per source bucket (bounded) and delivered as log objects into the
//! target bucket by a worker.
//!
//! - https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html
//! - https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html (field order)
//! - https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html (key names)
//! - https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
//!   ("Permissions for log delivery": the target bucket policy grants
//!   `logging.s3.amazonaws.com` s3:PutObject, conditioned on aws:SourceArn / aws:SourceAccount)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use strongbox_store::{Bucket, NewObject, Store};

use crate::acl::Acl;
use crate::authorization::{Ids, S3Access};
use crate::error::S3Error;
use crate::sse::{sse_s3_single_segment, SseKeys, StoredEncryption};
use crate::xml::{Element, XmlWriter};

/// The service principal S3 delivers logs as.
pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";
/// Records kept per source bucket between deliveries; more are dropped and counted.
pub const MAX_RECORDS_PER_BUCKET: usize = 10_000;
/// Bytes of records kept per source bucket between deliveries (one log object at most).
pub const MAX_BYTES_PER_BUCKET: usize = 8 << 20;
/// Bytes of records kept for all buckets together between deliveries.
pub const MAX_BYTES_TOTAL: usize = 64 << 20;
/// Source buckets whose configuration is cached.
const MAX_CACHED_BUCKETS: usize = 10_000;
/// The longest target prefix accepted.
const MAX_PREFIX: usize = 512;
const XMLNS: &str = "http://doc.s3.amazonaws.com/2006-03-01";
/// What a key and a request path keep unencoded in a record (RFC 3986 unreserved, and `/`).
pub const KEY_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A bucket's logging configuration (stored as JSON in the bucket row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingConfig {
    pub target_bucket: String,
    pub target_prefix: String,
    /// `Some("EventTime" | "DeliveryTime")` for PartitionedPrefix; `None` for SimplePrefix.
    #[serde(default)]
    pub partition_date_source: Option<String>,
}

impl LoggingConfig {
    /// Reads a `BucketLoggingStatus` document; `None` when it disables logging.
    pub fn from_xml(root: &Element) -> Result<Option<LoggingConfig>, S3Error> {
        if root.name != "BucketLoggingStatus" {
            return Err(S3Error::MalformedXml);
        }
        let Some(enabled) = root.child("LoggingEnabled") else {
            return Ok(None);
        };
        if enabled.child("TargetGrants").is_some() {
            return Err(S3Error::InvalidArgument(
                "TargetGrants are not supported by this server; grant access with the target bucket policy".into(),
            ));
        }
        let target_bucket = enabled
            .text_of("TargetBucket")
            .ok_or(S3Error::MalformedXml)?
            .to_string();
        let target_prefix = enabled.text_of("TargetPrefix").unwrap_or("").to_string();
        if target_prefix.len() > MAX_PREFIX {
            return Err(S3Error::InvalidArgument(
                "The target prefix is too long".into(),
            ));
        }
        let partition_date_source = match enabled.child("TargetObjectKeyFormat") {
            None => None,
            Some(format) => match format.child("PartitionedPrefix") {
                None if format.child("SimplePrefix").is_some() => None,
                None => return Err(S3Error::MalformedXml),
                Some(p) => match p.text_of("PartitionDateSource").unwrap_or("EventTime") {
                    s @ ("EventTime" | "DeliveryTime") => Some(s.to_string()),
                    _ => return Err(S3Error::MalformedXml),
                },
            },
        };
        Ok(Some(LoggingConfig {
            target_bucket,
            target_prefix,
            partition_date_source,
        }))
    }

    /// The GetBucketLogging document for `config` (empty when logging is off).
    pub fn to_xml(config: Option<&LoggingConfig>) -> String {
        let mut w = XmlWriter::with_ns("BucketLoggingStatus", XMLNS);
        if let Some(c) = config {
            w.open("LoggingEnabled")
                .elem("TargetBucket", &c.target_bucket)
                .elem("TargetPrefix", &c.target_prefix);
            w.open("TargetObjectKeyFormat");
            match &c.partition_date_source {
                Some(source) => {
                    w.open("PartitionedPrefix")
                        .elem("PartitionDateSource", source)
                        .close("PartitionedPrefix");
                }
                None => {
                    w.open("SimplePrefix").close("SimplePrefix");
                }
            }
            w.close("TargetObjectKeyFormat").close("LoggingEnabled");
        }
        w.finish("BucketLoggingStatus")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Option<LoggingConfig> {
        serde_json::from_str(text).ok()
    }

    /// The log object's key, in AWS's format: `TargetPrefixYYYY-mm-DD-HH-MM-SS-UniqueString`,
    /// or with PartitionedPrefix
    /// `TargetPrefixSourceAccountId/SourceRegion/SourceBucket/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UniqueString`.
    pub fn object_key(&self, source: &Bucket, at: Timestamp) -> String {
        let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
        let unique = strongbox_core::ids::random_hex(8).to_uppercase();
        let stamp = utc.strftime("%Y-%m-%d-%H-%M-%S");
        match self.partition_date_source {
            None => format!("{}{stamp}-{unique}", self.target_prefix),
            Some(_) => format!(
                "{}{}/{}/{}/{}/{stamp}-{unique}",
                self.target_prefix,
                source.owner_account,
                source.region,
                source.name,
                utc.strftime("%Y/%m/%d"),
            ),
        }
    }
}

/// Whether the target bucket's policy lets the logging service principal put
/// `key` for logs of `source` (evaluated by the policy engine with the
/// aws:SourceArn and aws:SourceAccount values S3 sends).
pub fn delivery_allowed(target: &Bucket, source: &Bucket, key: &str) -> bool {
    use strongbox_policy::{evaluate, Context, Decision, Policy, PolicyKind, PolicyRef, PolicySet};
    let Some(text) = target.policy.as_deref() else {
        return false;
    };
    let kind = PolicyKind::Bucket {
        bucket: target.name.clone(),
    };
    let Ok(policy) = Policy::parse(&kind, text) else {
        return false;
    };
    let principal = strongbox_policy::Principal::Service {
        name: LOGGING_SERVICE.to_string(),
    };
    let context = Context::new()
        .with("aws:SourceArn", format!("arn:aws:s3:::{}", source.name))
        .with("aws:SourceAccount", source.owner_account.clone());
    let resource = format!("arn:aws:s3:::{}/{key}", target.name);
    let request = strongbox_policy::Request {
        principal: &principal,
        action: "s3:PutObject",
        resource: &resource,
        resource_account: Some(&target.owner_account),
        context: &context,
    };
    let set = PolicySet {
        resource: vec![PolicyRef {
            name: "bucket policy",
            policy: &policy,
        }],
        resource_required: true,
        ..Default::default()
    };
    evaluate(&request, &set).decision == Decision::Allow
}

/// Checks a target as PutBucketLogging does: it exists, has the source's owner,
/// is in the source's region, has no Object Lock default retention, and its
/// policy allows delivery.
pub fn validate_target(
    config: &LoggingConfig,
    source: &Bucket,
    target: Option<&Bucket>,
) -> Result<(), S3Error> {
    let invalid = |m: &str| S3Error::InvalidTargetBucketForLogging(m.to_string());
    let target = target.ok_or_else(|| invalid("The target bucket for logging does not exist"))?;
    // "Both the source and destination buckets must be in the same AWS Region and
    // owned by the same account" (User Guide, "Logging requests with server access logging").
    if target.owner_account != source.owner_account {
        return Err(invalid(
            "The owner for the bucket to be logged and the target bucket must be the same.",
        ));
    }
    if target.region != source.region {
        return Err(invalid(
            "The target bucket for logging must be in the same region as the source bucket",
        ));
    }
    let default_retention = target
        .object_lock
        .as_deref()
        .and_then(crate::object_lock::ObjectLockConfig::from_json)
        .is_some_and(|c| c.default_retention.is_some());
    if default_retention {
        return Err(invalid(
            "The target bucket for logging must not have an Object Lock default retention period",
        ));
    }
    if !delivery_allowed(target, source, &config.object_key(source, Timestamp::now())) {
        return Err(invalid(
            "You must either provide the necessary permissions to the logging service using a bucket policy or give the log-delivery group WRITE and READ_ACP permissions to the target bucket",
        ));
    }
    Ok(())
}

/// One request's record, in the documented field order.
pub struct AccessRecord<'a> {
    pub bucket_owner: &'a str,
    pub bucket: &'a str,
    pub time: Timestamp,
    pub remote_ip: Option<String>,
    pub requester: Option<&'a str>,
    pub request_id: &'a str,
    pub operation: &'a str,
    pub key: Option<&'a str>,
    pub request_uri: &'a str,
    pub status: u16,
    pub error_code: Option<&'a str>,
    pub bytes_sent: Option<u64>,
    pub object_size: Option<u64>,
    pub total_time_ms: i64,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub version_id: Option<&'a str>,
    pub host_id: &'a str,
    pub signature_version: Option<&'a str>,
    pub auth_type: Option<&'a str>,
    pub host_header: Option<&'a str>,
    pub tls_version: Option<&'a str>,
}

/// `-` for a missing value; spaces and quotes never split a field.
fn field(v: Option<&str>) -> String {
    match v {
        Some(s) if !s.is_empty() => s.replace(['\n', '\r'], "").replace(' ', "%20"),
        _ => "-".to_string(),
    }
}

/// The longest quoted value kept (user agent, referer, request URI).
const MAX_QUOTED: usize = 2048;

fn quoted(v: Option<&str>) -> String {
    match v {
        Some(s) if !s.is_empty() => {
            let mut end = s.len().min(MAX_QUOTED);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            format!("\"{}\"", s[..end].replace(['"', '\n', '\r'], ""))
        }
        _ => "\"-\"".to_string(),
    }
}

fn number(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |n| n.to_string())
}

impl AccessRecord<'_> {
    /// The log line (without newline).
    pub fn line(&self) -> String {
        let time = self
            .time
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("[%d/%b/%Y:%H:%M:%S +0000]");
        let key = self
            .key
            .map(|k| percent_encoding::utf8_percent_encode(k, KEY_ENCODE).to_string());
        [
            field(Some(self.bucket_owner)),
            field(Some(self.bucket)),
            time.to_string(),
            field(self.remote_ip.as_deref()),
            field(self.requester),
            field(Some(self.request_id)),
            field(Some(self.operation)),
            field(key.as_deref()),
            quoted(Some(self.request_uri)),
            self.status.to_string(),
            field(self.error_code),
            number(self.bytes_sent.filter(|n| *n > 0)),
            number(self.object_size),
            self.total_time_ms.max(0).to_string(),
            "-".to_string(), // turn-around time: not measured separately
            quoted(self.referer),
            quoted(self.user_agent),
            field(self.version_id),
            field(Some(self.host_id)),
            field(self.signature_version),
            "-".to_string(), // cipher suite: not reported by the TLS layer
            field(self.auth_type),
            field(self.host_header),
            field(self.tls_version),
            "-".to_string(), // access point ARN: no access points
            "-".to_string(), // aclRequired: ACLs never decided these requests alone
        ]
        .join(" ")
    }
}

/// The S3 operation name of a record: `REST.METHOD.RESOURCE`.
pub fn operation_name(method: &http::Method, has_key: bool, query: &[(String, String)]) -> String {
    const SUBRESOURCES: [(&str, &str); 16] = [
        ("acl", "ACL"),
        ("tagging", "TAGGING"),
        ("versioning", "VERSIONING"),
        ("policy", "BUCKETPOLICY"),
        ("logging", "LOGGING_STATUS"),
        ("cors", "CORS"),
        ("lifecycle", "LIFECYCLE"),
        ("location", "LOCATION"),
        ("encryption", "ENCRYPTION"),
        ("uploads", "UPLOADS"),
        ("uploadId", "UPLOAD"),
        ("versions", "BUCKETVERSIONS"),
        ("object-lock", "OBJECT_LOCK_CONFIGURATION"),
        ("retention", "OBJECT_LOCK_RETENTION"),
        ("legal-hold", "OBJECT_LOCK_LEGALHOLD"),
        ("delete", "MULTI_OBJECT_DELETE"),
    ];
    let has = |n: &str| query.iter().any(|(k, _)| k == n);
    let resource = if has("partNumber") && has("uploadId") && *method == http::Method::PUT {
        "PART"
    } else if let Some((_, name)) = SUBRESOURCES.iter().find(|(q, _)| has(q)) {
        name
    } else if has_key {
        "OBJECT"
    } else {
        "BUCKET"
    };
    format!("REST.{}.{resource}", method.as_str())
}

/// Pending records of one source bucket.
#[derive(Default)]
struct Pending {
    lines: Vec<String>,
    bytes: usize,
}

/// Pending records of every source bucket, and their size.
#[derive(Default)]
struct PendingSet {
    buckets: HashMap<String, Pending>,
    bytes: usize,
}

/// Records waiting for delivery, the cached configurations, and the counters.
#[derive(Default)]
pub struct AccessLogs {
    pending: Mutex<PendingSet>,
    /// Source bucket → (owner account, configuration); cleared on PutBucketLogging.
    configs: Mutex<HashMap<String, Option<(String, LoggingConfig)>>>,
    /// Canonical ids for log objects' ACLs (set by the first request).
    access: OnceLock<Arc<dyn S3Access>>,
    dropped: AtomicU64,
    delivered: AtomicU64,
}

impl AccessLogs {
    /// The logging configuration of `bucket` with its owner (cached).
    pub fn config_of(&self, store: &Store, bucket: &str) -> Option<(String, LoggingConfig)> {
        if let Ok(cache) = self.configs.lock() {
            if let Some(known) = cache.get(bucket) {
                return known.clone();
            }
        }
        let row = store.meta.get_bucket(bucket).ok().flatten();
        let found = row.as_ref().and_then(|b| {
            let config = LoggingConfig::from_json(b.logging.as_deref()?)?;
            Some((b.owner_account.clone(), config))
        });
        if let Ok(mut cache) = self.configs.lock() {
            if cache.len() >= MAX_CACHED_BUCKETS {
                cache.clear();
            }
            // Unknown buckets are not cached (their names are the caller's choice).
            if row.is_some() {
                cache.insert(bucket.to_string(), found.clone());
            }
        }
        found
    }

    /// Forgets the cached configuration of `bucket` (after PutBucketLogging, DeleteBucket).
    pub fn forget(&self, bucket: &str) {
        if let Ok(mut cache) = self.configs.lock() {
            cache.remove(bucket);
        }
    }

    pub(crate) fn remember_access(&self, access: &Arc<dyn S3Access>) {
        let _ = self.access.set(access.clone());
    }

    /// Queues a record of `bucket`; dropped (and counted) past the per-bucket
    /// record and byte caps or the overall byte cap.
    pub fn push(&self, bucket: &str, line: String) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        let size = line.len() + 1;
        let (records, bytes) = pending
            .buckets
            .get(bucket)
            .map_or((0, 0), |p| (p.lines.len(), p.bytes));
        let full = pending.bytes + size > MAX_BYTES_TOTAL
            || records >= MAX_RECORDS_PER_BUCKET
            || bytes + size > MAX_BYTES_PER_BUCKET;
        if full {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.bytes += size;
        let entry = pending.buckets.entry(bucket.to_string()).or_default();
        entry.bytes += size;
        entry.lines.push(line);
    }

    /// Records dropped so far (buffer full, target gone or no longer allowed).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Records delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    fn take(&self) -> HashMap<String, Pending> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p).buckets)
            .unwrap_or_default()
    }

    fn drop_records(&self, n: usize, bucket: &str, why: &str) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
        tracing::warn!(%bucket, records = n, why, "access log records dropped");
    }
}

/// Starts the delivery worker: every `interval` the pending records of each
/// source bucket become one log object in its target bucket.
/// Log objects are SSE-S3 encrypted with `keys` when given (as every object
/// of a server with a key source is by default).
pub fn spawn_worker(
    store: Arc<Store>,
    logs: Arc<AccessLogs>,
    keys: Option<Arc<dyn SseKeys>>,
    interval: Duration,
) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            deliver_pending(&store, &logs, keys.as_deref()).await;
        }
    });
}

/// Delivers every source bucket's pending records now.
pub async fn deliver_pending(store: &Store, logs: &AccessLogs, keys: Option<&dyn SseKeys>) {
    for (source_name, pending) in logs.take() {
        let n = pending.lines.len();
        if n == 0 {
            continue;
        }
        if let Err(why) = deliver_bucket(store, logs, keys, &source_name, &pending.lines).await {
            logs.drop_records(n, &source_name, why);
        } else {
            logs.delivered.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// Writes `lines` as one log object, as the target bucket's owner, after
/// checking the target bucket policy still allows delivery.
async fn deliver_bucket(
    store: &Store,
    logs: &AccessLogs,
    keys: Option<&dyn SseKeys>,
    source_name: &str,
    lines: &[String],
) -> Result<(), &'static str> {
    let source = store
        .meta
        .get_bucket(source_name)
        .ok()
        .flatten()
        .ok_or("source bucket gone")?;
    let config = source
        .logging
        .as_deref()
        .and_then(LoggingConfig::from_json)
        .ok_or("logging disabled")?;
    let target = store
        .meta
        .get_bucket(&config.target_bucket)
        .ok()
        .flatten()
        .ok_or("target bucket gone")?;
    if target.owner_account != source.owner_account {
        return Err("target bucket has another owner");
    }
    let key = config.object_key(&source, Timestamp::now());
    if !delivery_allowed(&target, &source, &key) {
        return Err("target bucket policy no longer allows log delivery");
    }
    let mut body = lines.join("\n");
    body.push('\n');
    let (encryption, cipher) = match keys {
        Some(keys) => {
            let (stored, cipher) =
                sse_s3_single_segment(keys, &target.name, &key).map_err(|_| "cannot encrypt")?;
            (Some(stored), Some(cipher))
        }
        None => (None, None),
    };
    let mut writer = store
        .files
        .create_encrypted(&[], cipher)
        .await
        .map_err(|_| "cannot write")?
        .inline_up_to(strongbox_store::files::INLINE_LIMIT);
    writer
        .write(body.as_bytes())
        .await
        .map_err(|_| "cannot write")?;
    let written = writer.finish().await.map_err(|_| "cannot write")?;
    let acl = logs
        .access
        .get()
        .map(|a| Acl::private(&Ids(a.as_ref()), &target.owner_account).to_json());
    let object = NewObject {
        bucket: target.name.clone(),
        key,
        delete_marker: false,
        size: written.size,
        etag: crate::sse::etag(encryption.as_ref(), &written.md5),
        last_modified: None,
        headers: vec![("content-type".into(), "text/plain".into())],
        metadata: Vec::new(),
        checksum: None,
        tags: Vec::new(),
        owner_account: target.owner_account.clone(),
        acl,
        segments: vec![written.segment()],
        parts: Vec::new(),
        encryption: encryption.as_ref().map(StoredEncryption::to_json),
        lock: None,
    };
    match store.meta.put_object(object) {
        Ok(outcome) => {
            store.discard_files(&outcome.obsolete_files);
            Ok(())
        }
        Err(err) => {
            tracing::warn!(%err, bucket = %target.name, "access log delivery failed");
            store.discard_files(&written.files());
            Err("store write failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names() {
        let q = |s: &[&str]| -> Vec<(String, String)> {
            s.iter().map(|k| (k.to_string(), String::new())).collect()
        };
        assert_eq!(
            operation_name(&http::Method::PUT, true, &q(&[])),
            "REST.PUT.OBJECT"
        );
        assert_eq!(
            operation_name(&http::Method::GET, false, &q(&[])),
            "REST.GET.BUCKET"
        );
        assert_eq!(
            operation_name(&http::Method::PUT, false, &q(&["logging"])),
            "REST.PUT.LOGGING_STATUS"
        );
        assert_eq!(
            operation_name(&http::Method::PUT, true, &q(&["partNumber", "uploadId"])),
            "REST.PUT.PART"
        );
    }

    #[test]
    fn missing_fields_are_dashes_and_quotes_stay_balanced() {
        assert_eq!(field(None), "-");
        assert_eq!(field(Some("a b")), "a%20b");
        assert_eq!(quoted(Some("x\"y")), "\"xy\"");
        assert_eq!(number(Some(0).filter(|n| *n > 0)), "-");
        assert_eq!(quoted(Some(&"é".repeat(2000))).len(), MAX_QUOTED + 2);
    }

    #[test]
    fn buffers_are_bounded_and_drops_counted() {
        let logs = AccessLogs::default();
        for _ in 0..MAX_RECORDS_PER_BUCKET + 5 {
            logs.push("b", "x".into());
        }
        assert_eq!(logs.dropped(), 5);
        let big = "y".repeat(MAX_BYTES_PER_BUCKET);
        logs.push("c", big);
        assert_eq!(logs.dropped(), 6);
        let taken = logs.take();
        assert_eq!(taken["b"].lines.len(), MAX_RECORDS_PER_BUCKET);
        assert!(!taken.contains_key("c"));
        assert!(logs.take().is_empty());
    }
}
