//! The metadata backend interface (SQLite now; PostgreSQL could follow).

use crate::error::StoreError;
use crate::model::*;

/// Metadata operations. Every method that changes state runs in one transaction.
pub trait MetaStore: Send + Sync {
    /// Creates a bucket; `BucketExists` (with the owner) if the name is taken.
    fn create_bucket(&self, bucket: &Bucket) -> Result<(), StoreError>;
    fn get_bucket(&self, name: &str) -> Result<Option<Bucket>, StoreError>;
    /// Buckets of one account, by name.
    fn list_buckets(&self, owner_account: &str) -> Result<Vec<Bucket>, StoreError>;
    /// Deletes an empty bucket (aborting its uploads); returns data files to remove.
    fn delete_bucket(&self, name: &str) -> Result<Vec<String>, StoreError>;
    fn set_bucket_field(
        &self,
        name: &str,
        field: BucketField,
        value: Option<&str>,
    ) -> Result<(), StoreError>;
    fn set_versioning(&self, name: &str, versioning: Versioning) -> Result<(), StoreError>;

    /// Stores a new version (or delete marker) following the bucket's versioning state.
    fn put_object(&self, object: NewObject) -> Result<PutOutcome, StoreError>;
    /// The latest version (`version_id` = None; may be a delete marker) or one version.
    fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectVersion>, StoreError>;
    fn object_segments(&self, row_id: i64) -> Result<Vec<Segment>, StoreError>;
    /// DeleteObject semantics: without a version, removes the null version or adds
    /// a delete marker (owned by `owner_account`); with one, removes that version.
    fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        owner_account: &str,
    ) -> Result<DeleteOutcome, StoreError>;
    fn set_object_tags(&self, row_id: i64, tags: &[(String, String)]) -> Result<(), StoreError>;
    fn set_object_acl(&self, row_id: i64, acl: Option<&str>) -> Result<(), StoreError>;
    /// Sets (or with `None` removes) a version's Object Lock retention and legal hold.
    fn set_object_lock(&self, row_id: i64, lock: Option<&str>) -> Result<(), StoreError>;

    /// Latest, non-deleted objects in key order.
    fn list_objects(&self, query: &ListQuery) -> Result<Page<ObjectVersion>, StoreError>;
    /// All versions and delete markers: key order, newest first within a key.
    fn list_versions(&self, query: &ListQuery) -> Result<Page<ObjectVersion>, StoreError>;

    fn create_upload(&self, upload: &Upload) -> Result<(), StoreError>;
    fn get_upload(&self, upload_id: &str) -> Result<Option<Upload>, StoreError>;
    /// Records a part; returns the data file of a part it replaced.
    fn put_part(&self, upload_id: &str, part: &Part) -> Result<Option<String>, StoreError>;
    /// Parts after `marker`, at most `max`, and whether more follow.
    fn list_parts(
        &self,
        upload_id: &str,
        marker: u32,
        max: usize,
    ) -> Result<(Vec<Part>, bool), StoreError>;
    fn list_uploads(&self, query: &ListQuery) -> Result<Page<Upload>, StoreError>;
    /// Stores `object` (whose segments are the chosen parts' files) and ends the
    /// upload, in one transaction; unused part files are added to the obsolete files.
    fn complete_upload(&self, upload_id: &str, object: NewObject)
        -> Result<PutOutcome, StoreError>;
    /// Ends an upload; returns its part files.
    fn abort_upload(&self, upload_id: &str) -> Result<Vec<String>, StoreError>;

    fn get_account_public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<String>, StoreError>;
    fn set_account_public_access_block(
        &self,
        account_id: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Every data file id the metadata references (for the start-up sweep).
    fn referenced_files(&self) -> Result<Vec<String>, StoreError>;
}
