//! The SQLite metadata backend.
//!
//! Keys are stored as BLOBs so that `ORDER BY key` is UTF-8 byte order, as S3
//! lists them, and range bounds may be arbitrary byte strings.

use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};
use strongbox_core::db::Db;
use strongbox_core::reserve::DiskReserve;

use crate::error::StoreError;
use crate::meta::MetaStore;
use crate::model::*;

const SCHEMA_V1: &str = "
CREATE TABLE s3_buckets (
    name TEXT PRIMARY KEY,
    owner_account TEXT NOT NULL,
    region TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    versioning TEXT,
    object_ownership TEXT,
    policy TEXT,
    acl TEXT,
    public_access_block TEXT,
    tags TEXT,
    encryption TEXT
);
CREATE INDEX s3_buckets_owner ON s3_buckets(owner_account, name);
CREATE TABLE s3_objects (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    version_id TEXT NOT NULL,
    is_latest INTEGER NOT NULL,
    is_delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    checksum TEXT,
    tags TEXT NOT NULL,
    owner_account TEXT NOT NULL,
    acl TEXT,
    parts TEXT NOT NULL,
    encryption TEXT
);
CREATE UNIQUE INDEX s3_objects_version ON s3_objects(bucket, key, version_id);
CREATE INDEX s3_objects_versions ON s3_objects(bucket, key, id DESC);
CREATE INDEX s3_objects_latest ON s3_objects(bucket, key) WHERE is_latest = 1 AND is_delete_marker = 0;
CREATE TABLE s3_segments (
    object_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    file_id TEXT NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (object_id, seq)
);
CREATE TABLE s3_uploads (
    id INTEGER PRIMARY KEY,
    upload_id TEXT NOT NULL UNIQUE,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    initiated_ms INTEGER NOT NULL,
    owner_account TEXT NOT NULL,
    initiator_arn TEXT NOT NULL,
    initiator_id TEXT NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tags TEXT NOT NULL,
    acl TEXT,
    checksum_algorithm TEXT,
    encryption TEXT
);
CREATE INDEX s3_uploads_list ON s3_uploads(bucket, key, id);
CREATE TABLE s3_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    file_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    checksum TEXT,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE s3_account_settings (
    account_id TEXT PRIMARY KEY,
    public_access_block TEXT
);
";

const SCHEMA_V2: &str = "ALTER TABLE s3_uploads ADD COLUMN checksum_type TEXT;";

/// Server-side encryption details of each uploaded part (its own nonce).
const SCHEMA_V3: &str = "ALTER TABLE s3_parts ADD COLUMN encryption TEXT;";

/// Small objects' stored bytes, inline in their segment row (`file_id` empty).
const SCHEMA_V4: &str = "ALTER TABLE s3_segments ADD COLUMN data BLOB;";

/// Object Lock: the bucket's configuration and each version's retention and legal hold.
const SCHEMA_V5: &str = "ALTER TABLE s3_buckets ADD COLUMN object_lock TEXT;
    ALTER TABLE s3_objects ADD COLUMN lock TEXT;";

/// The bucket's CORS configuration.
const SCHEMA_V6: &str = "ALTER TABLE s3_buckets ADD COLUMN cors TEXT;";

/// The bucket's server access logging configuration.
const SCHEMA_V7: &str = "ALTER TABLE s3_buckets ADD COLUMN logging TEXT;";

/// Rows fetched per listing query.
const BATCH: usize = 1000;

/// Metadata in the shared SQLite database.
pub struct SqliteMeta {
    db: Arc<Db>,
    /// Released when a delete finds the disk full (see [`strongbox_core::reserve`]).
    reserve: Option<Arc<DiskReserve>>,
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn from_ms(v: i64) -> Timestamp {
    Timestamp::from_millisecond(v).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(s: Option<String>) -> T {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

fn key_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A fresh version id: 32 URL-safe characters.
pub fn new_version_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    strongbox_core::ids::random_bytes(32)
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect()
}

/// The least byte string greater than every string starting with `prefix`
/// (`None` when there is none, e.g. for the empty prefix).
pub fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut v = prefix.to_vec();
    while let Some(last) = v.pop() {
        if last < 0xFF {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

const OBJECT_COLUMNS: &str =
    "id, bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified_ms, \
     headers, metadata, checksum, tags, owner_account, acl, parts, encryption, lock";

fn object_from_row(r: &Row<'_>) -> rusqlite::Result<ObjectVersion> {
    Ok(ObjectVersion {
        row_id: r.get(0)?,
        bucket: r.get(1)?,
        key: key_string(r.get(2)?),
        version_id: r.get(3)?,
        is_latest: r.get(4)?,
        delete_marker: r.get(5)?,
        size: r.get::<_, i64>(6)? as u64,
        etag: r.get(7)?,
        last_modified: from_ms(r.get(8)?),
        headers: parse_json(r.get(9)?),
        metadata: parse_json(r.get(10)?),
        checksum: r
            .get::<_, Option<String>>(11)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        tags: parse_json(r.get(12)?),
        owner_account: r.get(13)?,
        acl: r.get(14)?,
        parts: parse_json(r.get(15)?),
        encryption: r.get(16)?,
        lock: r.get(17)?,
    })
}

const BUCKET_COLUMNS: &str =
    "name, owner_account, region, created_ms, versioning, object_ownership, policy, acl, \
     public_access_block, tags, encryption, object_lock, cors, logging";

fn bucket_from_row(r: &Row<'_>) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        name: r.get(0)?,
        owner_account: r.get(1)?,
        region: r.get(2)?,
        created: from_ms(r.get(3)?),
        versioning: Versioning::from_db(r.get::<_, Option<String>>(4)?.as_deref()),
        object_ownership: r.get(5)?,
        policy: r.get(6)?,
        acl: r.get(7)?,
        public_access_block: r.get(8)?,
        tags: r.get(9)?,
        encryption: r.get(10)?,
        object_lock: r.get(11)?,
        cors: r.get(12)?,
        logging: r.get(13)?,
    })
}

const UPLOAD_COLUMNS: &str =
    "id, upload_id, bucket, key, initiated_ms, owner_account, initiator_arn, initiator_id, \
     headers, metadata, tags, acl, checksum_algorithm, encryption, checksum_type";

fn upload_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Upload)> {
    let algorithm: Option<String> = r.get(12)?;
    Ok((
        r.get(0)?,
        Upload {
            upload_id: r.get(1)?,
            bucket: r.get(2)?,
            key: key_string(r.get(3)?),
            initiated: from_ms(r.get(4)?),
            owner_account: r.get(5)?,
            initiator_arn: r.get(6)?,
            initiator_id: r.get(7)?,
            headers: parse_json(r.get(8)?),
            metadata: parse_json(r.get(9)?),
            tags: parse_json(r.get(10)?),
            acl: r.get(11)?,
            checksum_algorithm: algorithm
                .as_deref()
                .and_then(crate::ChecksumAlgorithm::parse),
            encryption: r.get(13)?,
            checksum_type: r.get(14)?,
        },
    ))
}

fn part_from_row(r: &Row<'_>) -> rusqlite::Result<Part> {
    Ok(Part {
        part_number: r.get::<_, i64>(0)? as u32,
        file_id: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        etag: r.get(3)?,
        last_modified: from_ms(r.get(4)?),
        checksum: r
            .get::<_, Option<String>>(5)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        encryption: r.get(6)?,
    })
}

/// Where a key-ordered scan resumes: rows of `key` whose id is past `id`
/// (when given), then keys after `key`.
struct Cursor {
    key: Vec<u8>,
    id: Option<i64>,
}

/// A scan over rows `(key, id, item)` in key order that rolls keys up into
/// common prefixes at the delimiter and stops after `max` entries.
fn scan<T>(
    query: &ListQuery,
    mut cursor: Cursor,
    mut fetch: impl FnMut(&Cursor, Option<&[u8]>) -> Result<Vec<(Vec<u8>, i64, T)>, StoreError>,
) -> Result<Page<T>, StoreError> {
    let prefix = query.prefix.as_bytes();
    let upper = prefix_upper_bound(prefix);
    let marker = query.key_marker.as_deref().map(str::as_bytes);
    let mut entries: Vec<Listed<T>> = Vec::new();
    if query.max == 0 {
        // S3 answers max-keys=0 (and max-uploads=0) with an empty, untruncated page.
        return Ok(Page {
            entries,
            truncated: false,
        });
    }
    loop {
        let rows = fetch(&cursor, upper.as_deref())?;
        if rows.is_empty() {
            return Ok(Page {
                entries,
                truncated: false,
            });
        }
        let full_batch = rows.len() >= BATCH;
        let mut skipped = false;
        for (key, id, item) in rows {
            if entries.len() >= query.max {
                return Ok(Page {
                    entries,
                    truncated: true,
                });
            }
            if let Some(delim) = query.delimiter.as_deref().filter(|d| !d.is_empty()) {
                let rest = &key[prefix.len().min(key.len())..];
                if let Some(pos) = find(rest, delim.as_bytes()) {
                    let cp = key[..prefix.len() + pos + delim.len()].to_vec();
                    if marker.is_none_or(|m| cp.as_slice() > m) {
                        entries.push(Listed::Prefix(key_string(cp.clone())));
                    }
                    match prefix_upper_bound(&cp) {
                        Some(next) => {
                            cursor = Cursor {
                                key: next,
                                id: Some(i64::MAX),
                            }
                        }
                        None => {
                            return Ok(Page {
                                entries,
                                truncated: false,
                            })
                        }
                    }
                    skipped = true;
                    break;
                }
            }
            cursor = Cursor {
                key: key.clone(),
                id: Some(id),
            };
            entries.push(Listed::Item(item));
        }
        if !skipped && !full_batch {
            return Ok(Page {
                entries,
                truncated: false,
            });
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The start of a scan: at the prefix, or after the marker when that is later.
fn start_cursor(query: &ListQuery, marker_id: Option<i64>) -> Cursor {
    let prefix = query.prefix.as_bytes().to_vec();
    match query.key_marker.as_deref() {
        Some(m) if m.as_bytes() >= prefix.as_slice() => Cursor {
            key: m.as_bytes().to_vec(),
            id: marker_id,
        },
        _ => Cursor {
            key: prefix,
            id: Some(i64::MAX),
        },
    }
}

impl SqliteMeta {
    /// Registers the schema and opens the backend.
    pub fn open(db: Arc<Db>) -> Result<SqliteMeta, StoreError> {
        db.migrate(
            "s3",
            &[
                SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7,
            ],
        )?;
        Ok(SqliteMeta { db, reserve: None })
    }

    /// Lets deletes release `reserve` when the disk is full.
    pub fn with_reserve(mut self, reserve: Arc<DiskReserve>) -> SqliteMeta {
        self.reserve = Some(reserve);
        self
    }

    /// Runs a write that frees space (a delete) in one transaction. When it
    /// fails for lack of space, the disk reserve is released and it runs once more.
    fn freeing_tx<T>(
        &self,
        f: impl Fn(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.in_tx(&f) {
            Err(e) if e.is_disk_full() && self.reserve.as_ref().is_some_and(|r| r.release()) => {
                self.in_tx(&f)
            }
            out => out,
        }
    }

    /// Runs `f` in one write transaction, committing only when it succeeds.
    fn in_tx<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.write_with(f)?
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        Ok(self.db.read(f)?)
    }
}

fn bucket_versioning(tx: &Connection, bucket: &str) -> Result<Versioning, StoreError> {
    let v: Option<Option<String>> = tx
        .prepare_cached("SELECT versioning FROM s3_buckets WHERE name = ?1")?
        .query_row([bucket], |r| r.get(0))
        .optional()?;
    match v {
        Some(v) => Ok(Versioning::from_db(v.as_deref())),
        None => Err(StoreError::NoSuchBucket),
    }
}

/// Deletes object rows and their segments; returns the segments' files.
fn delete_rows(tx: &Connection, ids: &[i64]) -> Result<Vec<String>, StoreError> {
    let mut files = Vec::new();
    for id in ids {
        let mut stmt =
            tx.prepare_cached("DELETE FROM s3_segments WHERE object_id = ?1 RETURNING file_id")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        for f in rows {
            let f = f?;
            if !f.is_empty() {
                files.push(f);
            }
        }
        tx.prepare_cached("DELETE FROM s3_objects WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(files)
}

fn ids_where(tx: &Connection, sql: &str, bucket: &str, key: &str) -> Result<Vec<i64>, StoreError> {
    let mut stmt = tx.prepare_cached(sql)?;
    let rows = stmt.query_map(params![bucket, key.as_bytes()], |r| r.get::<_, i64>(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Removes an upload and its parts; returns the parts' files (`None` when there is no such upload).
fn remove_upload(tx: &Connection, upload_id: &str) -> Result<Option<Vec<String>>, StoreError> {
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM s3_uploads WHERE upload_id = ?1)")?
        .query_row([upload_id], |r| r.get(0))?;
    if !exists {
        return Ok(None);
    }
    let mut files = Vec::new();
    {
        let mut stmt = tx.prepare_cached("SELECT file_id FROM s3_parts WHERE upload_id = ?1")?;
        for f in stmt.query_map([upload_id], |r| r.get::<_, String>(0))? {
            files.push(f?);
        }
    }
    tx.execute("DELETE FROM s3_parts WHERE upload_id = ?1", [upload_id])?;
    tx.execute("DELETE FROM s3_uploads WHERE upload_id = ?1", [upload_id])?;
    Ok(Some(files))
}

/// Inserts a new latest version per the versioning state; returns its id and obsolete files.
fn insert_version(
    tx: &Connection,
    object: &NewObject,
    versioning: Versioning,
) -> Result<(String, Timestamp, Vec<String>), StoreError> {
    let version_id = match versioning {
        Versioning::Enabled => new_version_id(),
        _ => "null".to_string(),
    };
    let mut obsolete = Vec::new();
    if version_id == "null" {
        let ids = ids_where(
            tx,
            "SELECT id FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND version_id = 'null'",
            &object.bucket,
            &object.key,
        )?;
        obsolete = delete_rows(tx, &ids)?;
    }
    // A bucket that never had versioning holds at most the `null` version of
    // a key, just deleted: no other row can be the latest.
    if versioning != Versioning::Unversioned {
        tx.prepare_cached(
            "UPDATE s3_objects SET is_latest = 0 WHERE bucket = ?1 AND key = ?2 AND is_latest = 1",
        )?
        .execute(params![object.bucket, object.key.as_bytes()])?;
    }
    let now = object.last_modified.unwrap_or_else(Timestamp::now);
    tx.prepare_cached(
        "INSERT INTO s3_objects (bucket, key, version_id, is_latest, is_delete_marker, size, etag, last_modified_ms, \
         headers, metadata, checksum, tags, owner_account, acl, parts, encryption, lock) \
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
            object.bucket,
            object.key.as_bytes(),
            version_id,
            object.delete_marker,
            object.size as i64,
            object.etag,
            ms(now),
            json(&object.headers),
            json(&object.metadata),
            object.checksum.as_ref().map(json),
            json(&object.tags),
            object.owner_account,
            object.acl,
            json(&object.parts),
            object.encryption,
            object.lock,
    ])?;
    let row_id = tx.last_insert_rowid();
    let mut insert_segment = tx.prepare_cached(
        "INSERT INTO s3_segments (object_id, seq, file_id, length, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (seq, seg) in object.segments.iter().enumerate() {
        insert_segment.execute(params![
            row_id,
            seq as i64,
            seg.file_id,
            seg.length as i64,
            seg.inline.as_deref()
        ])?;
    }
    Ok((version_id, from_ms(ms(now)), obsolete))
}

impl MetaStore for SqliteMeta {
    fn create_bucket(&self, bucket: &Bucket) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            let owner: Option<String> = tx
                .query_row("SELECT owner_account FROM s3_buckets WHERE name = ?1", [&bucket.name], |r| r.get(0))
                .optional()?;
            if let Some(owner_account) = owner {
                return Err(StoreError::BucketExists { owner_account });
            }
            tx.execute(
                &format!("INSERT INTO s3_buckets ({BUCKET_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
                params![
                    bucket.name,
                    bucket.owner_account,
                    bucket.region,
                    ms(bucket.created),
                    bucket.versioning.as_db(),
                    bucket.object_ownership,
                    bucket.policy,
                    bucket.acl,
                    bucket.public_access_block,
                    bucket.tags,
                    bucket.encryption,
                    bucket.object_lock,
                    bucket.cors,
                    bucket.logging,
                ],
            )?;
            Ok(())
        })
    }

    fn get_bucket(&self, name: &str) -> Result<Option<Bucket>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {BUCKET_COLUMNS} FROM s3_buckets WHERE name = ?1"
            ))?
            .query_row([name], bucket_from_row)
            .optional()
        })
    }

    fn list_buckets(&self, owner_account: &str) -> Result<Vec<Bucket>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {BUCKET_COLUMNS} FROM s3_buckets WHERE owner_account = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map([owner_account], bucket_from_row)?;
            rows.collect()
        })
    }

    fn delete_bucket(&self, name: &str) -> Result<Vec<String>, StoreError> {
        self.freeing_tx(|tx| {
            bucket_versioning(tx, name)?;
            let has_objects: bool =
                tx.prepare_cached("SELECT EXISTS(SELECT 1 FROM s3_objects WHERE bucket = ?1)")?.query_row([name], |r| r.get(0))?;
            if has_objects {
                return Err(StoreError::BucketNotEmpty);
            }
            let mut files = Vec::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT p.file_id FROM s3_parts p JOIN s3_uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?1",
                )?;
                for f in stmt.query_map([name], |r| r.get::<_, String>(0))? {
                    files.push(f?);
                }
            }
            tx.execute("DELETE FROM s3_parts WHERE upload_id IN (SELECT upload_id FROM s3_uploads WHERE bucket = ?1)", [name])?;
            tx.execute("DELETE FROM s3_uploads WHERE bucket = ?1", [name])?;
            tx.execute("DELETE FROM s3_buckets WHERE name = ?1", [name])?;
            Ok(files)
        })
    }

    fn set_bucket_field(
        &self,
        name: &str,
        field: BucketField,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = self.db.write(|c| {
            c.execute(
                &format!(
                    "UPDATE s3_buckets SET {} = ?1 WHERE name = ?2",
                    field.column()
                ),
                params![value, name],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        Ok(())
    }

    fn set_versioning(&self, name: &str, versioning: Versioning) -> Result<(), StoreError> {
        let n = self.db.write(|c| {
            c.execute(
                "UPDATE s3_buckets SET versioning = ?1 WHERE name = ?2",
                params![versioning.as_db(), name],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        Ok(())
    }

    fn put_object(&self, object: NewObject) -> Result<PutOutcome, StoreError> {
        self.in_tx(|tx| {
            let versioning = bucket_versioning(tx, &object.bucket)?;
            let (version_id, last_modified, obsolete_files) =
                insert_version(tx, &object, versioning)?;
            Ok(PutOutcome {
                version_id,
                versioning,
                last_modified,
                obsolete_files,
            })
        })
    }

    fn get_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectVersion>, StoreError> {
        self.read(|c| match version_id {
            None => c
                .prepare_cached(&format!("SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND is_latest = 1"))?
                .query_row(params![bucket, key.as_bytes()], object_from_row)
                .optional(),
            Some(v) => c
                .prepare_cached(&format!("SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"))?
                .query_row(params![bucket, key.as_bytes(), v], object_from_row)
                .optional(),
        })
    }

    fn object_segments(&self, row_id: i64) -> Result<Vec<Segment>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT file_id, length, data FROM s3_segments WHERE object_id = ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([row_id], |r| {
                Ok(Segment {
                    file_id: r.get(0)?,
                    length: r.get::<_, i64>(1)? as u64,
                    inline: r.get::<_, Option<Vec<u8>>>(2)?.map(bytes::Bytes::from),
                })
            })?;
            rows.collect()
        })
    }

    fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        owner_account: &str,
    ) -> Result<DeleteOutcome, StoreError> {
        self.freeing_tx(|tx| {
            let versioning = bucket_versioning(tx, bucket)?;
            match version_id {
                None if versioning == Versioning::Unversioned => {
                    let ids = ids_where(
                        tx,
                        "SELECT id FROM s3_objects WHERE bucket = ?1 AND key = ?2",
                        bucket,
                        key,
                    )?;
                    let obsolete_files = delete_rows(tx, &ids)?;
                    Ok(DeleteOutcome {
                        version_id: None,
                        delete_marker: false,
                        obsolete_files,
                    })
                }
                None => {
                    let marker = NewObject::delete_marker(bucket, key, owner_account);
                    let (vid, _, obsolete_files) = insert_version(tx, &marker, versioning)?;
                    Ok(DeleteOutcome {
                        version_id: Some(vid),
                        delete_marker: true,
                        obsolete_files,
                    })
                }
                Some(v) => {
                    let row: Option<(i64, bool, bool)> = tx
                        .query_row(
                            "SELECT id, is_latest, is_delete_marker FROM s3_objects \
                             WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
                            params![bucket, key.as_bytes(), v],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                        )
                        .optional()?;
                    let Some((id, was_latest, was_marker)) = row else {
                        return Ok(DeleteOutcome {
                            version_id: Some(v.to_string()),
                            ..DeleteOutcome::default()
                        });
                    };
                    let obsolete_files = delete_rows(tx, &[id])?;
                    if was_latest {
                        tx.execute(
                            "UPDATE s3_objects SET is_latest = 1 WHERE id = \
                             (SELECT MAX(id) FROM s3_objects WHERE bucket = ?1 AND key = ?2)",
                            params![bucket, key.as_bytes()],
                        )?;
                    }
                    Ok(DeleteOutcome {
                        version_id: Some(v.to_string()),
                        delete_marker: was_marker,
                        obsolete_files,
                    })
                }
            }
        })
    }

    fn set_object_tags(&self, row_id: i64, tags: &[(String, String)]) -> Result<(), StoreError> {
        let n = self.db.write(|c| {
            c.execute(
                "UPDATE s3_objects SET tags = ?1 WHERE id = ?2",
                params![json(&tags), row_id],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NoSuchObject);
        }
        Ok(())
    }

    fn set_object_lock(&self, row_id: i64, lock: Option<&str>) -> Result<(), StoreError> {
        let n = self.db.write(|c| {
            c.execute(
                "UPDATE s3_objects SET lock = ?1 WHERE id = ?2",
                params![lock, row_id],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NoSuchObject);
        }
        Ok(())
    }

    fn set_object_acl(&self, row_id: i64, acl: Option<&str>) -> Result<(), StoreError> {
        let n = self.db.write(|c| {
            c.execute(
                "UPDATE s3_objects SET acl = ?1 WHERE id = ?2",
                params![acl, row_id],
            )
        })?;
        if n == 0 {
            return Err(StoreError::NoSuchObject);
        }
        Ok(())
    }

    fn list_objects(&self, query: &ListQuery) -> Result<Page<ObjectVersion>, StoreError> {
        let cursor = start_cursor(query, None);
        scan(query, cursor, |cur, upper| {
            self.read(|c| {
                // One version per key here, so "rows of the cursor key past id" is the key itself
                // only when the cursor is inclusive (id = MAX).
                let op = if cur.id == Some(i64::MAX) { ">=" } else { ">" };
                let upper_sql = if upper.is_some() { "AND key < ?3" } else { "AND ?3 IS NULL" };
                let sql = format!(
                    "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND is_latest = 1 AND is_delete_marker = 0 \
                     AND key {op} ?2 {upper_sql} ORDER BY key LIMIT {BATCH}"
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![query.bucket, cur.key, upper], |r| {
                    let o = object_from_row(r)?;
                    Ok((o.key.as_bytes().to_vec(), o.row_id, o))
                })?;
                rows.collect()
            })
        })
    }

    fn list_versions(&self, query: &ListQuery) -> Result<Page<ObjectVersion>, StoreError> {
        let marker_id =
            match (&query.key_marker, &query.id_marker) {
                (Some(k), Some(v)) if !v.is_empty() => self.read(|c| {
                    c.prepare_cached(
                    "SELECT id FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
                )?
                .query_row(params![query.bucket, k.as_bytes(), v], |r| r.get::<_, i64>(0))
                .optional()
                })?,
                _ => None,
            };
        let cursor = start_cursor(query, marker_id);
        scan(query, cursor, |cur, upper| {
            self.read(|c| {
                let mut out = Vec::new();
                if let Some(id) = cur.id {
                    let sql = format!(
                        "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key = ?2 AND id < ?3 \
                         ORDER BY id DESC LIMIT {BATCH}"
                    );
                    let mut stmt = c.prepare_cached(&sql)?;
                    let rows = stmt.query_map(params![query.bucket, cur.key, id], object_from_row)?;
                    for o in rows {
                        let o = o?;
                        out.push((o.key.as_bytes().to_vec(), o.row_id, o));
                    }
                    if out.len() >= BATCH {
                        return Ok(out);
                    }
                }
                let upper_sql = if upper.is_some() { "AND key < ?3" } else { "AND ?3 IS NULL" };
                let sql = format!(
                    "SELECT {OBJECT_COLUMNS} FROM s3_objects WHERE bucket = ?1 AND key > ?2 {upper_sql} \
                     ORDER BY key, id DESC LIMIT {BATCH}"
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![query.bucket, cur.key, upper], object_from_row)?;
                for o in rows {
                    let o = o?;
                    if out.len() >= BATCH {
                        break;
                    }
                    out.push((o.key.as_bytes().to_vec(), o.row_id, o));
                }
                Ok(out)
            })
        })
    }

    fn create_upload(&self, u: &Upload) -> Result<(), StoreError> {
        self.in_tx(|tx| {
            bucket_versioning(tx, &u.bucket)?;
            tx.execute(
                &format!(
                    "INSERT INTO s3_uploads ({UPLOAD_COLUMNS}) VALUES (NULL, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    u.upload_id,
                    u.bucket,
                    u.key.as_bytes(),
                    ms(u.initiated),
                    u.owner_account,
                    u.initiator_arn,
                    u.initiator_id,
                    json(&u.headers),
                    json(&u.metadata),
                    json(&u.tags),
                    u.acl,
                    u.checksum_algorithm.map(|a| a.as_str()),
                    u.encryption,
                    u.checksum_type,
                ],
            )?;
            Ok(())
        })
    }

    fn get_upload(&self, upload_id: &str) -> Result<Option<Upload>, StoreError> {
        let row = self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {UPLOAD_COLUMNS} FROM s3_uploads WHERE upload_id = ?1"
            ))?
            .query_row([upload_id], upload_from_row)
            .optional()
        })?;
        Ok(row.map(|(_, u)| u))
    }

    fn put_part(&self, upload_id: &str, part: &Part) -> Result<Option<String>, StoreError> {
        self.in_tx(|tx| {
            let exists: bool =
                tx.prepare_cached("SELECT EXISTS(SELECT 1 FROM s3_uploads WHERE upload_id = ?1)")?.query_row([upload_id], |r| r.get(0))?;
            if !exists {
                return Err(StoreError::NoSuchUpload);
            }
            let old: Option<String> = tx
                .query_row(
                    "SELECT file_id FROM s3_parts WHERE upload_id = ?1 AND part_number = ?2",
                    params![upload_id, part.part_number],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute(
                "INSERT OR REPLACE INTO s3_parts (upload_id, part_number, file_id, size, etag, last_modified_ms, checksum, encryption) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    upload_id,
                    part.part_number,
                    part.file_id,
                    part.size as i64,
                    part.etag,
                    ms(part.last_modified),
                    part.checksum.as_ref().map(json),
                    part.encryption,
                ],
            )?;
            Ok(old)
        })
    }

    fn list_parts(
        &self,
        upload_id: &str,
        marker: u32,
        max: usize,
    ) -> Result<(Vec<Part>, bool), StoreError> {
        let mut parts = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT part_number, file_id, size, etag, last_modified_ms, checksum, encryption FROM s3_parts \
                 WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![upload_id, marker, max as i64 + 1], part_from_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        // max-parts=0 is an empty, untruncated page, as S3 answers it.
        let truncated = max > 0 && parts.len() > max;
        parts.truncate(max);
        Ok((parts, truncated))
    }

    fn list_uploads(&self, query: &ListQuery) -> Result<Page<Upload>, StoreError> {
        let marker_id = match (&query.key_marker, &query.id_marker) {
            (Some(_), Some(u)) if !u.is_empty() => self.read(|c| {
                c.query_row("SELECT id FROM s3_uploads WHERE upload_id = ?1", [u], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()
            })?,
            _ => None,
        };
        // Uploads of one key go oldest first; express "past id" as "id greater".
        let cursor = start_cursor(query, marker_id.map(|i| -i));
        scan(query, cursor, |cur, upper| {
            self.read(|c| {
                let mut out = Vec::new();
                if let Some(neg) = cur.id {
                    let after = if neg == i64::MAX { i64::MIN } else { -neg };
                    let sql = format!(
                        "SELECT {UPLOAD_COLUMNS} FROM s3_uploads WHERE bucket = ?1 AND key = ?2 AND id > ?3 ORDER BY id LIMIT {BATCH}"
                    );
                    let mut stmt = c.prepare_cached(&sql)?;
                    for row in stmt.query_map(params![query.bucket, cur.key, after], upload_from_row)? {
                        let (id, u) = row?;
                        out.push((u.key.as_bytes().to_vec(), -id, u));
                    }
                    if out.len() >= BATCH {
                        return Ok(out);
                    }
                }
                let upper_sql = if upper.is_some() { "AND key < ?3" } else { "AND ?3 IS NULL" };
                let sql = format!(
                    "SELECT {UPLOAD_COLUMNS} FROM s3_uploads WHERE bucket = ?1 AND key > ?2 {upper_sql} ORDER BY key, id LIMIT {BATCH}"
                );
                let mut stmt = c.prepare_cached(&sql)?;
                for row in stmt.query_map(params![query.bucket, cur.key, upper], upload_from_row)? {
                    let (id, u) = row?;
                    if out.len() >= BATCH {
                        break;
                    }
                    out.push((u.key.as_bytes().to_vec(), -id, u));
                }
                Ok(out)
            })
        })
    }

    fn complete_upload(
        &self,
        upload_id: &str,
        object: NewObject,
    ) -> Result<PutOutcome, StoreError> {
        self.in_tx(|tx| {
            let exists: bool = tx
                .prepare_cached("SELECT EXISTS(SELECT 1 FROM s3_uploads WHERE upload_id = ?1)")?
                .query_row([upload_id], |r| r.get(0))?;
            if !exists {
                return Err(StoreError::NoSuchUpload);
            }
            let versioning = bucket_versioning(tx, &object.bucket)?;
            let mut unused = Vec::new();
            {
                let mut stmt =
                    tx.prepare_cached("SELECT file_id FROM s3_parts WHERE upload_id = ?1")?;
                for f in stmt.query_map([upload_id], |r| r.get::<_, String>(0))? {
                    let f = f?;
                    if !object.segments.iter().any(|s| s.file_id == f) {
                        unused.push(f);
                    }
                }
            }
            tx.execute("DELETE FROM s3_parts WHERE upload_id = ?1", [upload_id])?;
            tx.execute("DELETE FROM s3_uploads WHERE upload_id = ?1", [upload_id])?;
            let (version_id, last_modified, mut obsolete_files) =
                insert_version(tx, &object, versioning)?;
            obsolete_files.extend(unused);
            Ok(PutOutcome {
                version_id,
                versioning,
                last_modified,
                obsolete_files,
            })
        })
    }

    fn abort_upload(&self, upload_id: &str) -> Result<Vec<String>, StoreError> {
        self.freeing_tx(|tx| remove_upload(tx, upload_id)?.ok_or(StoreError::NoSuchUpload))
    }

    fn get_account_public_access_block(
        &self,
        account_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let v: Option<Option<String>> = self.read(|c| {
            c.prepare_cached(
                "SELECT public_access_block FROM s3_account_settings WHERE account_id = ?1",
            )?
            .query_row([account_id], |r| r.get(0))
            .optional()
        })?;
        Ok(v.flatten())
    }

    fn set_account_public_access_block(
        &self,
        account_id: &str,
        value: Option<&str>,
    ) -> Result<(), StoreError> {
        self.db.write(|c| {
            c.execute(
                "INSERT INTO s3_account_settings (account_id, public_access_block) VALUES (?1, ?2) \
                 ON CONFLICT(account_id) DO UPDATE SET public_access_block = excluded.public_access_block",
                params![account_id, value],
            )
        })?;
        Ok(())
    }

    fn referenced_files(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT file_id FROM s3_segments UNION SELECT file_id FROM s3_parts",
            )?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect()
        })
    }
}

mod lifecycle;
#[cfg(test)]
mod tests;
