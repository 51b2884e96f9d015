//! What the lifecycle worker needs from the metadata store: each bucket's
//! lifecycle configuration, and the batched, race-checked removals it applies.

use crate::error::StoreError;

/// One change the lifecycle worker makes. Each is checked again inside the
/// write transaction against what the worker saw (by row id), so a write that
/// raced the worker's scan is never undone by it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleAction {
    /// Expire the current version `row_id` of `key`: on an unversioned bucket
    /// remove it; on a versioned one add a delete marker owned by `owner_account`
    /// on top of it. Nothing happens when `row_id` is no longer the current version.
    ExpireCurrent {
        key: String,
        row_id: i64,
        owner_account: String,
    },
    /// Permanently remove the noncurrent version (or delete marker) `row_id`;
    /// nothing happens when it is gone, has become the current version, or its
    /// Object Lock state is no longer `lock_seen` (the state the worker judged).
    RemoveNoncurrent {
        key: String,
        row_id: i64,
        lock_seen: Option<String>,
    },
    /// Remove the delete marker `row_id` when it is the current and only version of `key`.
    RemoveExpiredDeleteMarker { key: String, row_id: i64 },
    /// Abort the multipart upload `upload_id`.
    AbortUpload { upload_id: String },
}

/// What applying a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LifecycleOutcome {
    /// Per action, whether it changed something (false: it found the state changed).
    pub applied: Vec<bool>,
    /// Data files no longer referenced; remove them.
    pub obsolete_files: Vec<String>,
}

/// What the lifecycle worker reads of a version (no headers, metadata or parts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionSummary {
    pub row_id: i64,
    pub key: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub last_modified: jiff::Timestamp,
    pub tags: Vec<(String, String)>,
    /// Object Lock retention and legal hold (JSON), as stored.
    pub lock: Option<String>,
}

/// Lifecycle configurations and lifecycle actions.
pub trait LifecycleMeta: Send + Sync {
    /// The bucket's lifecycle configuration (opaque text), if any.
    fn get_lifecycle(&self, bucket: &str) -> Result<Option<String>, StoreError>;
    /// Sets (or with `None` removes) the bucket's configuration; `NoSuchBucket` when it does not exist.
    fn set_lifecycle(&self, bucket: &str, config: Option<&str>) -> Result<(), StoreError>;
    /// Every bucket with a lifecycle configuration, by name, with its configuration.
    fn lifecycle_buckets(&self) -> Result<Vec<(String, String)>, StoreError>;
    /// At most `limit` versions of `bucket` in key order, newest first within a
    /// key, after `after` (a key and the row id of its last version read).
    fn lifecycle_versions(
        &self,
        bucket: &str,
        after: Option<(&str, i64)>,
        limit: usize,
    ) -> Result<Vec<VersionSummary>, StoreError>;
    /// Applies `actions` on `bucket` in one write transaction.
    fn apply_lifecycle(
        &self,
        bucket: &str,
        actions: &[LifecycleAction],
    ) -> Result<LifecycleOutcome, StoreError>;
}
