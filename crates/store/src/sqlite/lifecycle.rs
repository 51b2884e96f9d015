//! [`LifecycleMeta`] on SQLite: configurations in their own table (their own
//! migration component, so bucket schema changes elsewhere do not collide), and
//! the worker's actions, each re-checked inside the transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::{
    bucket_versioning, delete_rows, from_ms, insert_version, key_string, parse_json, remove_upload,
    SqliteMeta,
};
use crate::error::StoreError;
use crate::lifecycle::{LifecycleAction, LifecycleMeta, LifecycleOutcome, VersionSummary};
use crate::model::{NewObject, Versioning};

/// A configuration belongs to one incarnation of a bucket (its creation time),
/// so a bucket deleted and created again under the same name starts without one.
const SCHEMA_V1: &str = "
CREATE TABLE s3_lifecycle (
    bucket TEXT PRIMARY KEY,
    bucket_created_ms INTEGER NOT NULL,
    config TEXT NOT NULL
);";

impl SqliteMeta {
    /// Registers the lifecycle schema.
    pub fn migrate_lifecycle(&self) -> Result<(), StoreError> {
        Ok(self.db.migrate("s3-lifecycle", &[SCHEMA_V1])?)
    }
}

const SUMMARY_COLUMNS: &str =
    "id, key, is_latest, is_delete_marker, size, last_modified_ms, tags, lock";

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionSummary> {
    Ok(VersionSummary {
        row_id: r.get(0)?,
        key: key_string(r.get(1)?),
        is_latest: r.get(2)?,
        delete_marker: r.get(3)?,
        size: r.get::<_, i64>(4)? as u64,
        last_modified: from_ms(r.get(5)?),
        tags: parse_json(r.get(6)?),
        lock: r.get(7)?,
    })
}

/// `(is_latest, is_delete_marker, lock)` of row `row_id` of `bucket`/`key`.
fn row_state(
    tx: &Connection,
    bucket: &str,
    key: &str,
    row_id: i64,
) -> Result<Option<(bool, bool, Option<String>)>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT is_latest, is_delete_marker, lock FROM s3_objects WHERE id = ?1 AND bucket = ?2 AND key = ?3",
        )?
        .query_row(params![row_id, bucket, key.as_bytes()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

/// Applies one action; returns whether it changed anything.
fn apply_one(
    tx: &Connection,
    bucket: &str,
    versioning: Versioning,
    action: &LifecycleAction,
    files: &mut Vec<String>,
) -> Result<bool, StoreError> {
    match action {
        LifecycleAction::ExpireCurrent {
            key,
            row_id,
            owner_account,
        } => {
            let Some((true, false, _)) = row_state(tx, bucket, key, *row_id)? else {
                return Ok(false);
            };
            if versioning == Versioning::Unversioned {
                files.extend(delete_rows(tx, &[*row_id])?);
            } else {
                let marker = NewObject::delete_marker(bucket, key, owner_account);
                let (_, _, obsolete) = insert_version(tx, &marker, versioning)?;
                files.extend(obsolete);
            }
            Ok(true)
        }
        LifecycleAction::RemoveNoncurrent {
            key,
            row_id,
            lock_seen,
        } => match row_state(tx, bucket, key, *row_id)? {
            Some((false, _, lock)) if lock == *lock_seen => {
                files.extend(delete_rows(tx, &[*row_id])?);
                Ok(true)
            }
            _ => Ok(false),
        },
        LifecycleAction::RemoveExpiredDeleteMarker { key, row_id } => {
            let Some((true, true, _)) = row_state(tx, bucket, key, *row_id)? else {
                return Ok(false);
            };
            let versions: i64 = tx
                .prepare_cached("SELECT COUNT(*) FROM s3_objects WHERE bucket = ?1 AND key = ?2")?
                .query_row(params![bucket, key.as_bytes()], |r| r.get(0))?;
            if versions != 1 {
                return Ok(false);
            }
            files.extend(delete_rows(tx, &[*row_id])?);
            Ok(true)
        }
        LifecycleAction::AbortUpload { upload_id } => match remove_upload(tx, upload_id)? {
            Some(parts) => {
                files.extend(parts);
                Ok(true)
            }
            None => Ok(false),
        },
    }
}

impl LifecycleMeta for SqliteMeta {
    fn get_lifecycle(&self, bucket: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT l.config FROM s3_lifecycle l JOIN s3_buckets b \
                 ON b.name = l.bucket AND b.created_ms = l.bucket_created_ms WHERE l.bucket = ?1",
            )?
            .query_row([bucket], |r| r.get(0))
            .optional()
        })
    }

    fn set_lifecycle(&self, bucket: &str, config: Option<&str>) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let created: Option<i64> = tx
                .prepare_cached("SELECT created_ms FROM s3_buckets WHERE name = ?1")?
                .query_row([bucket], |r| r.get(0))
                .optional()?;
            let created = created.ok_or(StoreError::NoSuchBucket)?;
            match config {
                Some(text) => tx.execute(
                    "INSERT INTO s3_lifecycle (bucket, bucket_created_ms, config) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(bucket) DO UPDATE SET bucket_created_ms = excluded.bucket_created_ms, config = excluded.config",
                    params![bucket, created, text],
                )?,
                None => tx.execute("DELETE FROM s3_lifecycle WHERE bucket = ?1", [bucket])?,
            };
            Ok(())
        })
    }

    fn lifecycle_buckets(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT l.bucket, l.config FROM s3_lifecycle l JOIN s3_buckets b \
                 ON b.name = l.bucket AND b.created_ms = l.bucket_created_ms ORDER BY l.bucket",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
    }

    fn lifecycle_versions(
        &self,
        bucket: &str,
        after: Option<(&str, i64)>,
        limit: usize,
    ) -> Result<Vec<VersionSummary>, StoreError> {
        self.read(|c| {
            let mut out = Vec::new();
            let key: &[u8] = after.map(|(k, _)| k.as_bytes()).unwrap_or_default();
            if let Some((_, row_id)) = after {
                // The rest of the key being read: its older versions.
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND id < ?3 \
                     ORDER BY id DESC LIMIT ?4"
                ))?;
                let rows = stmt.query_map(params![bucket, key, row_id, limit as i64], summary_from_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            let left = limit.saturating_sub(out.len());
            if left > 0 {
                let op = if after.is_some() { ">" } else { ">=" };
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key {op} ?2 \
                     ORDER BY key, id DESC LIMIT ?3"
                ))?;
                let rows = stmt.query_map(params![bucket, key, left as i64], summary_from_row)?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
    }

    fn apply_lifecycle(
        &self,
        bucket: &str,
        actions: &[LifecycleAction],
    ) -> Result<LifecycleOutcome, StoreError> {
        // Lifecycle removals free space: on a full disk they may use the reserve.
        self.freeing_tx(|tx| {
            let versioning = bucket_versioning(tx, bucket)?;
            let mut outcome = LifecycleOutcome::default();
            for action in actions {
                let applied =
                    apply_one(tx, bucket, versioning, action, &mut outcome.obsolete_files)?;
                outcome.applied.push(applied);
            }
            Ok(outcome)
        })
    }
}
