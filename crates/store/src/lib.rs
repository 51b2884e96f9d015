//! strongbox-store: where the S3 data plane keeps its state.
//!
//! Object bytes live on local disk under `DATA_DIR/objects/` in files named by
//! random ids (never by keys: [`files`]); metadata lives in SQLite behind the
//! [`MetaStore`] trait ([`sqlite`] is the first backend). A write goes
//! temp file → fsync → rename → fsync dir, and only then commits the metadata
//! in one transaction; a crash leaves the old object or the new one, and
//! [`Store::open`] sweeps the orphan files. Small objects (up to
//! [`files::INLINE_LIMIT`] stored bytes) skip the file: their bytes are
//! committed with the metadata row, made durable by the same commit.
//!
//! A disk reserve (`DATA_DIR/reserve`, [`strongbox_core::reserve`]) keeps a
//! full disk freeable: deletes release it when they fail for lack of space,
//! and new data files are refused until it is back.

pub mod checksum;
pub mod error;
pub mod files;
pub mod lifecycle;
pub mod meta;
pub mod model;
pub mod sqlite;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use strongbox_core::reserve::DiskReserve;

pub use checksum::{combine_crcs, ChecksumAlgorithm, ChecksumHasher};
pub use error::StoreError;
pub use files::{FileStore, ObjectReader, ObjectWriter, WrittenFile};
pub use lifecycle::{LifecycleAction, LifecycleMeta, LifecycleOutcome, VersionSummary};
pub use meta::MetaStore;
pub use model::*;

/// Metadata store plus local file store.
pub struct Store {
    pub meta: Arc<dyn MetaStore>,
    /// Lifecycle configurations and the lifecycle worker's actions.
    pub lifecycle: Arc<dyn LifecycleMeta>,
    pub files: FileStore,
}

impl Store {
    /// Opens the SQLite + local-disk store, and removes temp files and data
    /// files no metadata references (left by a crash).
    pub fn open(db: Arc<strongbox_core::db::Db>, data_dir: &Path) -> Result<Store, StoreError> {
        let reserve = Arc::new(DiskReserve::open(
            data_dir,
            strongbox_core::reserve::RESERVE_BYTES,
        ));
        let meta = Arc::new(sqlite::SqliteMeta::open(db)?.with_reserve(reserve.clone()));
        meta.migrate_lifecycle()?;
        let files = FileStore::open(data_dir)?.with_reserve(reserve);
        let referenced: HashSet<String> = meta.referenced_files()?.into_iter().collect();
        files.sweep(&referenced)?;
        Ok(Store {
            meta: meta.clone(),
            lifecycle: meta,
            files,
        })
    }

    /// Removes data files no longer referenced (after a metadata commit).
    pub fn discard_files(&self, ids: &[String]) {
        self.files.remove_all(ids);
    }
}
