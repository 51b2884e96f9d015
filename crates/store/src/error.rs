//! Storage errors.

/// What can go wrong in the store. The S3 layer maps these to S3 errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] strongbox_core::db::DbError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt metadata: {0}")]
    Corrupt(String),
    #[error("the bucket does not exist")]
    NoSuchBucket,
    #[error("the bucket already exists")]
    BucketExists { owner_account: String },
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("the upload does not exist")]
    NoSuchUpload,
    #[error("the object does not exist")]
    NoSuchObject,
}

impl StoreError {
    /// Whether the operation failed for lack of disk space.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Db(e) => e.is_disk_full(),
            StoreError::Io(e) => strongbox_core::reserve::is_disk_full(e),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Db(strongbox_core::db::DbError::Sqlite(e))
    }
}
