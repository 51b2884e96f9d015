//! Space held back so that a full disk can still be freed through the API.
//!
//! `DATA_DIR/reserve` is a file of [`RESERVE_BYTES`] zeros written at start-up.
//! Uploads fill the disk up to it and then fail (ENOSPC, `SQLITE_FULL`). A delete
//! that fails for lack of space releases the reserve and tries once more: the
//! freed space lets SQLite append the delete's pages to its WAL and commit. The
//! next upload first re-creates the reserve, and fails without writing anything
//! when there is no room for it, so uploads never eat into what deletes need.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The reserve file inside the data directory.
pub const RESERVE_FILE: &str = "reserve";
/// Its size: far more than the WAL pages a delete needs (a few pages per row).
pub const RESERVE_BYTES: u64 = 4 * 1024 * 1024;

/// The reserve file and whether it is in place.
#[derive(Debug)]
pub struct DiskReserve {
    path: PathBuf,
    size: u64,
    held: AtomicBool,
    /// Serializes creating and releasing the file.
    lock: Mutex<()>,
}

/// Whether `err` means the disk (or quota) is full.
pub fn is_disk_full(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

impl DiskReserve {
    /// The reserve of `size` bytes in `data_dir`, created now when there is room
    /// (a start on a full disk runs without one, and says so).
    pub fn open(data_dir: &Path, size: u64) -> DiskReserve {
        let reserve = DiskReserve {
            path: data_dir.join(RESERVE_FILE),
            size,
            held: AtomicBool::new(false),
            lock: Mutex::new(()),
        };
        match reserve.write_file() {
            Ok(()) => reserve.held.store(true, Ordering::SeqCst),
            Err(err) => {
                let _ = std::fs::remove_file(&reserve.path);
                tracing::warn!(%err, path = %reserve.path.display(), "no room for the disk reserve: deletes on a full disk may fail");
            }
        }
        reserve
    }

    /// Whether the reserve is in place.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }

    /// Makes sure the reserve is in place, creating it when it is not; fails
    /// (with ENOSPC) when there is no room for it.
    pub fn ensure_held(&self) -> std::io::Result<()> {
        if self.is_held() {
            return Ok(());
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_held() {
            return Ok(());
        }
        match self.write_file() {
            Ok(()) => {
                self.held.store(true, Ordering::SeqCst);
                tracing::info!(bytes = self.size, "disk reserve re-created");
                Ok(())
            }
            Err(err) => {
                // Give back whatever part of it was written.
                let _ = std::fs::remove_file(&self.path);
                Err(err)
            }
        }
    }

    fn write_file(&self) -> std::io::Result<()> {
        let existing = std::fs::metadata(&self.path).map(|m| m.len()).ok();
        if existing == Some(self.size) {
            return Ok(());
        }
        let mut file = crate::private_files::private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.path)?;
        // Written, not only sized: a sparse file would hold no space.
        let zeros = vec![0u8; 64 * 1024];
        let mut left = self.size;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            file.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        file.sync_all()
    }

    /// Frees the reserve; `true` when it was in place (there is now room to retry).
    pub fn release(&self) -> bool {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if !self.held.swap(false, Ordering::SeqCst) {
            return false;
        }
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::warn!(
                    bytes = self.size,
                    "disk full: released the disk reserve so a delete can commit"
                );
                true
            }
            Err(err) => {
                tracing::warn!(%err, "cannot release the disk reserve");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_written_released_and_restored() {
        let dir = std::env::temp_dir().join(format!("sb-reserve-{}", crate::ids::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let reserve = DiskReserve::open(&dir, 100_000);
        let path = dir.join(RESERVE_FILE);
        assert!(reserve.is_held());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 100_000);
        assert!(reserve.release());
        assert!(!path.exists() && !reserve.is_held());
        assert!(!reserve.release(), "nothing left to release");
        reserve.ensure_held().unwrap();
        assert!(reserve.is_held() && path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn disk_full_errors_are_recognized() {
        assert!(is_disk_full(&std::io::Error::from_raw_os_error(
            libc::ENOSPC
        )));
        assert!(!is_disk_full(&std::io::Error::from_raw_os_error(
            libc::EACCES
        )));
    }
}
