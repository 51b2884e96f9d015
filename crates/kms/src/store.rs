//! Persistence of keys, key material, aliases, grants and tags in SQLite.
//!
//! Key material is stored only wrapped by the master key. Rows of one key are
//! removed together when the key is purged (the in-memory test database does
//! not enforce foreign keys, so deletes are explicit).

use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{params, Connection, OptionalExtension as _, Row};
use strongbox_core::db::{Db, DbError};

use crate::error::KmsError;

/// Counts KMS writes. Every write moves it before it starts and after it
/// commits, so a value read before loading a key from the database tells
/// whether what was loaded may be stale (see `crate::key_cache`).
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current write generation.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// A write to the KMS tables, moving the generation around it.
fn write<T>(db: &Db, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, DbError> {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    let out = db.write(f);
    GENERATION.fetch_add(1, Ordering::SeqCst);
    out
}

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE kms_keys (
        key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        description TEXT NOT NULL,
        key_usage TEXT NOT NULL,
        key_spec TEXT NOT NULL,
        key_manager TEXT NOT NULL,
        origin TEXT NOT NULL,
        state TEXT NOT NULL,
        policy TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        deletion_ms INTEGER,
        pending_window_days INTEGER,
        current_material INTEGER NOT NULL
    );
    CREATE INDEX kms_keys_account ON kms_keys (account_id, region, created_ms);
    CREATE TABLE kms_key_material (
        key_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        wrapped BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (key_id, version)
    );
    CREATE TABLE kms_aliases (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        alias_name TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (account_id, region, alias_name)
    );
    CREATE INDEX kms_aliases_key ON kms_aliases (key_id);
    CREATE TABLE kms_grants (
        grant_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        name TEXT,
        grantee TEXT NOT NULL,
        retiring TEXT,
        operations TEXT NOT NULL,
        constraints TEXT,
        issuing_account TEXT NOT NULL,
        token TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL
    );
    CREATE INDEX kms_grants_key ON kms_grants (key_id, created_ms);
    CREATE TABLE kms_tags (
        key_id TEXT NOT NULL,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key)
    );",
    "ALTER TABLE kms_keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE kms_keys ADD COLUMN rotation_period_days INTEGER;
    ALTER TABLE kms_keys ADD COLUMN next_rotation_ms INTEGER;
    ALTER TABLE kms_key_material ADD COLUMN rotation_type TEXT;",
];

/// Creates or upgrades the KMS tables.
pub fn migrate(db: &Db) -> Result<(), KmsError> {
    Ok(db.migrate("kms", MIGRATIONS)?)
}

/// The state of a KMS key, as `KeyState` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }

    fn parse(s: &str) -> KeyState {
        match s {
            "Enabled" => KeyState::Enabled,
            "PendingDeletion" => KeyState::PendingDeletion,
            _ => KeyState::Disabled,
        }
    }
}

/// One KMS key's metadata and policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    pub key_id: String,
    pub account_id: String,
    pub region: String,
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    pub origin: String,
    pub state: KeyState,
    pub policy: String,
    pub created_ms: i64,
    pub deletion_ms: Option<i64>,
    pub pending_window_days: Option<i64>,
    pub current_material: u32,
    /// Automatic rotation of the key material.
    pub rotation_enabled: bool,
    pub rotation_period_days: Option<i64>,
    pub next_rotation_ms: Option<i64>,
}

impl KeyRecord {
    /// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            self.region, self.account_id, self.key_id
        )
    }

    pub fn is_aws_managed(&self) -> bool {
        self.key_manager == "AWS"
    }
}

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        key_id: r.get(0)?,
        account_id: r.get(1)?,
        region: r.get(2)?,
        description: r.get(3)?,
        key_usage: r.get(4)?,
        key_spec: r.get(5)?,
        key_manager: r.get(6)?,
        origin: r.get(7)?,
        state: KeyState::parse(&r.get::<_, String>(8)?),
        policy: r.get(9)?,
        created_ms: r.get(10)?,
        deletion_ms: r.get(11)?,
        pending_window_days: r.get(12)?,
        current_material: r.get(13)?,
        rotation_enabled: r.get(14)?,
        rotation_period_days: r.get(15)?,
        next_rotation_ms: r.get(16)?,
    })
}

const KEY_COLUMNS: &str =
    "key_id, account_id, region, description, key_usage, key_spec, key_manager, origin, state, \
     policy, created_ms, deletion_ms, pending_window_days, current_material, rotation_enabled, rotation_period_days, \
     next_rotation_ms";

/// Stores a new key with its first (wrapped) key material, aliases and tags, atomically.
pub fn insert_key(
    db: &Db,
    key: &KeyRecord,
    wrapped_material: &[u8],
    alias: Option<&str>,
    tags: &[(String, String)],
) -> Result<(), KmsError> {
    write(db, |c| {
        let tx = c;
        tx.execute(
            &format!("INSERT INTO kms_keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
            params![
                key.key_id,
                key.account_id,
                key.region,
                key.description,
                key.key_usage,
                key.key_spec,
                key.key_manager,
                key.origin,
                key.state.as_str(),
                key.policy,
                key.created_ms,
                key.deletion_ms,
                key.pending_window_days,
                key.current_material,
                key.rotation_enabled,
                key.rotation_period_days,
                key.next_rotation_ms
            ],
        )?;
        tx.execute(
            "INSERT INTO kms_key_material (key_id, version, wrapped, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![key.key_id, key.current_material, wrapped_material, key.created_ms],
        )?;
        if let Some(alias) = alias {
            tx.execute(
                "INSERT OR IGNORE INTO kms_aliases (account_id, region, alias_name, key_id, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![key.account_id, key.region, alias, key.key_id, key.created_ms],
            )?;
        }
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO kms_tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3)",
                params![key.key_id, k, v],
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

pub fn get_key(db: &Db, key_id: &str) -> Result<Option<KeyRecord>, KmsError> {
    Ok(db.read(|c| {
        c.prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE key_id = ?1"
        ))?
        .query_row([key_id], key_from_row)
        .optional()
    })?)
}

pub fn list_keys(db: &Db, account_id: &str, region: &str) -> Result<Vec<KeyRecord>, KmsError> {
    Ok(db.read(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account_id = ?1 AND region = ?2 ORDER BY created_ms, key_id"
        ))?;
        let rows = st.query_map([account_id, region], key_from_row)?;
        rows.collect()
    })?)
}

/// Sets a key's state and deletion schedule.
pub fn set_state(
    db: &Db,
    key_id: &str,
    state: KeyState,
    deletion_ms: Option<i64>,
    window: Option<i64>,
) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute(
            "UPDATE kms_keys SET state = ?2, deletion_ms = ?3, pending_window_days = ?4 WHERE key_id = ?1",
            params![key_id, state.as_str(), deletion_ms, window],
        )
    })?;
    Ok(())
}

pub fn set_policy(db: &Db, key_id: &str, policy: &str) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute(
            "UPDATE kms_keys SET policy = ?2 WHERE key_id = ?1",
            params![key_id, policy],
        )
    })?;
    Ok(())
}

pub fn set_description(db: &Db, key_id: &str, description: &str) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute(
            "UPDATE kms_keys SET description = ?2 WHERE key_id = ?1",
            params![key_id, description],
        )
    })?;
    Ok(())
}

/// The wrapped key material of one version of a key.
pub fn get_material(db: &Db, key_id: &str, version: u32) -> Result<Option<Vec<u8>>, KmsError> {
    Ok(db.read(|c| {
        c.prepare_cached("SELECT wrapped FROM kms_key_material WHERE key_id = ?1 AND version = ?2")?
            .query_row(params![key_id, version], |r| r.get(0))
            .optional()
    })?)
}

/// Sets automatic rotation (enabled, period, next rotation time).
pub fn set_rotation(
    db: &Db,
    key_id: &str,
    enabled: bool,
    period_days: Option<i64>,
    next_ms: Option<i64>,
) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute(
            "UPDATE kms_keys SET rotation_enabled = ?2, rotation_period_days = ?3, next_rotation_ms = ?4 WHERE key_id = ?1",
            params![key_id, enabled, period_days, next_ms],
        )
    })?;
    Ok(())
}

/// Adds a new version of key material and makes it current (a rotation).
/// `next_rotation_ms` replaces the next automatic rotation time.
pub fn add_material(
    db: &Db,
    key_id: &str,
    version: u32,
    wrapped: &[u8],
    now_ms: i64,
    rotation_type: &str,
    next_rotation_ms: Option<i64>,
) -> Result<(), KmsError> {
    write(db, |c| {
        let tx = c;
        tx.execute(
            "INSERT INTO kms_key_material (key_id, version, wrapped, created_ms, rotation_type) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key_id, version, wrapped, now_ms, rotation_type],
        )?;
        tx.execute(
            "UPDATE kms_keys SET current_material = ?2, next_rotation_ms = ?3 WHERE key_id = ?1",
            params![key_id, version, next_rotation_ms],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// Past rotations of a key: (time, `AUTOMATIC` / `ON_DEMAND`), oldest first.
pub fn rotations(db: &Db, key_id: &str) -> Result<Vec<(i64, String)>, KmsError> {
    Ok(db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT created_ms, rotation_type FROM kms_key_material WHERE key_id = ?1 AND rotation_type IS NOT NULL ORDER BY version",
        )?;
        let rows = st.query_map([key_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })?)
}

/// Removes a key and everything attached to it (after its deletion date).
pub fn purge_key(db: &Db, key_id: &str) -> Result<(), KmsError> {
    write(db, |c| {
        let tx = c;
        for table in [
            "kms_key_material",
            "kms_aliases",
            "kms_grants",
            "kms_tags",
            "kms_keys",
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE key_id = ?1"), [key_id])?;
        }
        Ok(())
    })?;
    Ok(())
}

/// An alias row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasRecord {
    pub account_id: String,
    pub region: String,
    /// `alias/…`
    pub alias_name: String,
    pub key_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl AliasRecord {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:{}",
            self.region, self.account_id, self.alias_name
        )
    }
}

fn alias_from_row(r: &Row<'_>) -> rusqlite::Result<AliasRecord> {
    Ok(AliasRecord {
        account_id: r.get(0)?,
        region: r.get(1)?,
        alias_name: r.get(2)?,
        key_id: r.get(3)?,
        created_ms: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

const ALIAS_COLUMNS: &str = "account_id, region, alias_name, key_id, created_ms, updated_ms";

pub fn get_alias(
    db: &Db,
    account_id: &str,
    region: &str,
    alias_name: &str,
) -> Result<Option<AliasRecord>, KmsError> {
    Ok(db.read(|c| {
        c.prepare_cached(
            &format!("SELECT {ALIAS_COLUMNS} FROM kms_aliases WHERE account_id = ?1 AND region = ?2 AND alias_name = ?3"),
        )?
        .query_row([account_id, region, alias_name], alias_from_row)
        .optional()
    })?)
}

pub fn list_aliases(db: &Db, account_id: &str, region: &str) -> Result<Vec<AliasRecord>, KmsError> {
    Ok(db.read(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT {ALIAS_COLUMNS} FROM kms_aliases WHERE account_id = ?1 AND region = ?2 ORDER BY alias_name"
        ))?;
        let rows = st.query_map([account_id, region], alias_from_row)?;
        rows.collect()
    })?)
}

/// Inserts an alias; `false` when the name is taken.
pub fn insert_alias(db: &Db, alias: &AliasRecord) -> Result<bool, KmsError> {
    let n = write(db, |c| {
        c.execute(
            &format!("INSERT OR IGNORE INTO kms_aliases ({ALIAS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![alias.account_id, alias.region, alias.alias_name, alias.key_id, alias.created_ms, alias.updated_ms],
        )
    })?;
    Ok(n == 1)
}

pub fn update_alias(
    db: &Db,
    account_id: &str,
    region: &str,
    alias_name: &str,
    key_id: &str,
    now_ms: i64,
) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute(
            "UPDATE kms_aliases SET key_id = ?4, updated_ms = ?5 WHERE account_id = ?1 AND region = ?2 AND alias_name = ?3",
            params![account_id, region, alias_name, key_id, now_ms],
        )
    })?;
    Ok(())
}

pub fn delete_alias(
    db: &Db,
    account_id: &str,
    region: &str,
    alias_name: &str,
) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute(
            "DELETE FROM kms_aliases WHERE account_id = ?1 AND region = ?2 AND alias_name = ?3",
            params![account_id, region, alias_name],
        )
    })?;
    Ok(())
}

/// A grant row; operations and constraints are kept as JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRecord {
    pub grant_id: String,
    pub key_id: String,
    pub name: Option<String>,
    pub grantee: String,
    pub retiring: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<crate::grants::GrantConstraints>,
    pub issuing_account: String,
    pub token: String,
    pub created_ms: i64,
}

fn grant_from_row(r: &Row<'_>) -> rusqlite::Result<GrantRecord> {
    let ops: String = r.get(5)?;
    let constraints: Option<String> = r.get(6)?;
    Ok(GrantRecord {
        grant_id: r.get(0)?,
        key_id: r.get(1)?,
        name: r.get(2)?,
        grantee: r.get(3)?,
        retiring: r.get(4)?,
        operations: serde_json::from_str(&ops).unwrap_or_default(),
        constraints: constraints.and_then(|c| serde_json::from_str(&c).ok()),
        issuing_account: r.get(7)?,
        token: r.get(8)?,
        created_ms: r.get(9)?,
    })
}

const GRANT_COLUMNS: &str =
    "grant_id, key_id, name, grantee, retiring, operations, constraints, issuing_account, token, created_ms";

pub fn insert_grant(db: &Db, g: &GrantRecord) -> Result<(), KmsError> {
    let ops =
        serde_json::to_string(&g.operations).map_err(|e| KmsError::Internal(e.to_string()))?;
    let constraints = match &g.constraints {
        Some(c) => Some(serde_json::to_string(c).map_err(|e| KmsError::Internal(e.to_string()))?),
        None => None,
    };
    write(db, |c| {
        c.execute(
            &format!("INSERT INTO kms_grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![g.grant_id, g.key_id, g.name, g.grantee, g.retiring, ops, constraints, g.issuing_account, g.token, g.created_ms],
        )
    })?;
    Ok(())
}

pub fn grants_of_key(db: &Db, key_id: &str) -> Result<Vec<GrantRecord>, KmsError> {
    Ok(db.read(|c| {
        let mut st =
            c.prepare_cached(&format!("SELECT {GRANT_COLUMNS} FROM kms_grants WHERE key_id = ?1 ORDER BY created_ms, grant_id"))?;
        let rows = st.query_map([key_id], grant_from_row)?;
        rows.collect()
    })?)
}

/// Grants whose grantee or retiring principal is `principal`, on any key.
pub fn grants_for_principal(db: &Db, principal: &str) -> Result<Vec<GrantRecord>, KmsError> {
    Ok(db.read(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM kms_grants WHERE retiring = ?1 OR grantee = ?1 ORDER BY created_ms, grant_id"
        ))?;
        let rows = st.query_map([principal], grant_from_row)?;
        rows.collect()
    })?)
}

pub fn grant_by_token(db: &Db, token: &str) -> Result<Option<GrantRecord>, KmsError> {
    Ok(db.read(|c| {
        c.prepare_cached(&format!(
            "SELECT {GRANT_COLUMNS} FROM kms_grants WHERE token = ?1"
        ))?
        .query_row([token], grant_from_row)
        .optional()
    })?)
}

pub fn delete_grant(db: &Db, grant_id: &str) -> Result<(), KmsError> {
    write(db, |c| {
        c.execute("DELETE FROM kms_grants WHERE grant_id = ?1", [grant_id])
    })?;
    Ok(())
}

/// A key's alias names and its tags, in one query (what every authorization
/// of a key reads: `kms:ResourceAliases` and `aws:ResourceTag/*`).
pub fn aliases_and_tags_of_key(db: &Db, key_id: &str) -> Result<KeyLabels, KmsError> {
    Ok(db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT 0, alias_name, NULL FROM kms_aliases WHERE key_id = ?1
             UNION ALL SELECT 1, tag_key, tag_value FROM kms_tags WHERE key_id = ?1
             ORDER BY 1, 2",
        )?;
        let rows = st.query_map([key_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut labels = KeyLabels::default();
        for row in rows {
            match row? {
                (0, alias, _) => labels.aliases.push(alias),
                (_, key, value) => labels.tags.push((key, value.unwrap_or_default())),
            }
        }
        Ok(labels)
    })?)
}

/// What [`aliases_and_tags_of_key`] answers.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeyLabels {
    pub aliases: Vec<String>,
    pub tags: Vec<(String, String)>,
}

pub fn tags_of_key(db: &Db, key_id: &str) -> Result<Vec<(String, String)>, KmsError> {
    Ok(db.read(|c| {
        let mut st = c.prepare_cached(
            "SELECT tag_key, tag_value FROM kms_tags WHERE key_id = ?1 ORDER BY tag_key",
        )?;
        let rows = st.query_map([key_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })?)
}

pub fn put_tags(db: &Db, key_id: &str, tags: &[(String, String)]) -> Result<(), KmsError> {
    write(db, |c| {
        let tx = c;
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO kms_tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3)",
                params![key_id, k, v],
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

pub fn remove_tags(db: &Db, key_id: &str, keys: &[String]) -> Result<(), KmsError> {
    write(db, |c| {
        let tx = c;
        for k in keys {
            tx.execute(
                "DELETE FROM kms_tags WHERE key_id = ?1 AND tag_key = ?2",
                params![key_id, k],
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> KeyRecord {
        KeyRecord {
            key_id: id.to_string(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            description: String::new(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            key_manager: "CUSTOMER".into(),
            origin: "AWS_KMS".into(),
            state: KeyState::Enabled,
            policy: "{}".into(),
            created_ms: 1,
            deletion_ms: None,
            pending_window_days: None,
            current_material: 1,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_ms: None,
        }
    }

    #[test]
    fn key_alias_tag_lifecycle() {
        let db = Db::open_in_memory().unwrap();
        migrate(&db).unwrap();
        migrate(&db).unwrap();
        let k = key("k1");
        insert_key(
            &db,
            &k,
            b"wrapped",
            Some("alias/a"),
            &[("t".into(), "v".into())],
        )
        .unwrap();
        assert_eq!(get_key(&db, "k1").unwrap().unwrap(), k);
        assert_eq!(k.arn(), "arn:aws:kms:us-east-1:111122223333:key/k1");
        assert_eq!(get_material(&db, "k1", 1).unwrap().unwrap(), b"wrapped");
        assert!(get_material(&db, "k1", 2).unwrap().is_none());
        let a = get_alias(&db, "111122223333", "us-east-1", "alias/a")
            .unwrap()
            .unwrap();
        assert_eq!(a.arn(), "arn:aws:kms:us-east-1:111122223333:alias/a");
        assert!(!insert_alias(&db, &a).unwrap());
        set_state(&db, "k1", KeyState::PendingDeletion, Some(99), Some(7)).unwrap();
        let k2 = get_key(&db, "k1").unwrap().unwrap();
        assert_eq!(
            (k2.state, k2.deletion_ms, k2.pending_window_days),
            (KeyState::PendingDeletion, Some(99), Some(7))
        );
        assert_eq!(
            tags_of_key(&db, "k1").unwrap(),
            vec![("t".to_string(), "v".to_string())]
        );
        assert_eq!(
            aliases_and_tags_of_key(&db, "k1").unwrap(),
            KeyLabels {
                aliases: vec!["alias/a".to_string()],
                tags: vec![("t".to_string(), "v".to_string())],
            }
        );
        assert_eq!(
            aliases_and_tags_of_key(&db, "none").unwrap(),
            KeyLabels::default()
        );
        remove_tags(&db, "k1", &["t".into()]).unwrap();
        assert!(tags_of_key(&db, "k1").unwrap().is_empty());
        add_material(&db, "k1", 2, b"w2", 50, "ON_DEMAND", None).unwrap();
        assert_eq!(get_key(&db, "k1").unwrap().unwrap().current_material, 2);
        assert_eq!(get_material(&db, "k1", 2).unwrap().unwrap(), b"w2");
        assert_eq!(
            rotations(&db, "k1").unwrap(),
            vec![(50, "ON_DEMAND".to_string())]
        );
        set_rotation(&db, "k1", true, Some(90), Some(7)).unwrap();
        let k3 = get_key(&db, "k1").unwrap().unwrap();
        assert_eq!(
            (
                k3.rotation_enabled,
                k3.rotation_period_days,
                k3.next_rotation_ms
            ),
            (true, Some(90), Some(7))
        );
        purge_key(&db, "k1").unwrap();
        assert!(get_key(&db, "k1").unwrap().is_none());
        assert!(get_alias(&db, "111122223333", "us-east-1", "alias/a")
            .unwrap()
            .is_none());
        assert!(list_keys(&db, "111122223333", "us-east-1")
            .unwrap()
            .is_empty());
    }
}
