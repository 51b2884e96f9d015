//! Persistence and the in-memory cache.
//!
//! Every entity is a JSON row of `identity_records(kind, key, doc)`. The whole
//! state is loaded at start into an immutable [`State`] snapshot; readers take
//! the current `Arc<State>` (no lock held while they work). A write clones the
//! snapshot into a [`Txn`], mutates it, commits the touched rows in one SQLite
//! transaction and only then publishes the new snapshot, so the cache is never
//! stale and a failed write changes nothing.
//!
//! Temporary sessions are many and independent, so they live apart in their
//! own map (written through to the same table) and are not copied on writes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use serde::de::DeserializeOwned;
use serde::Serialize;
use strongbox_core::db::Db;

use crate::error::{IdentityError, Result};
use crate::model::*;
use crate::sealed::{Opened, SecretSealer};

const MIGRATIONS: &[&str] = &["CREATE TABLE identity_records (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (kind, key))"];

/// Everything the identity service knows.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub settings: BTreeMap<String, Settings>,
    pub accounts: BTreeMap<String, Account>,
    pub keys: BTreeMap<String, AccessKey>,
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub roles: BTreeMap<String, Role>,
    pub policies: BTreeMap<String, ManagedPolicy>,
    pub orgs: BTreeMap<String, Organization>,
    pub ous: BTreeMap<String, OrgUnit>,
    pub org_policies: BTreeMap<String, OrgPolicy>,
    pub create_status: BTreeMap<String, CreateAccountStatus>,
    /// Counts published snapshots: a snapshot's number differs from every
    /// earlier one's, so a value derived from a snapshot (the authorizer's
    /// compiled caller policies) is current while the numbers match.
    pub generation: u64,
}

/// The key of an account-scoped IAM entity: names are case-insensitive.
pub fn entity_key(account_id: &str, name: &str) -> String {
    format!("{account_id}/{}", name.to_ascii_lowercase())
}

/// A stored entity type.
pub trait Record: Serialize + DeserializeOwned + Clone {
    const KIND: &'static str;
    fn key(&self) -> String;
    fn table(state: &State) -> &BTreeMap<String, Self>;
    fn table_mut(state: &mut State) -> &mut BTreeMap<String, Self>;
}

macro_rules! record {
    ($ty:ty, $kind:literal, $field:ident, |$s:ident| $key:expr) => {
        impl Record for $ty {
            const KIND: &'static str = $kind;
            fn key(&self) -> String {
                let $s = self;
                $key
            }
            fn table(state: &State) -> &BTreeMap<String, Self> {
                &state.$field
            }
            fn table_mut(state: &mut State) -> &mut BTreeMap<String, Self> {
                &mut state.$field
            }
        }
    };
}

record!(Settings, "settings", settings, |_s| "settings".to_string());
record!(Account, "account", accounts, |s| s.id.clone());
record!(AccessKey, "access_key", keys, |s| s.id.clone());
record!(User, "user", users, |s| entity_key(&s.account_id, &s.name));
record!(Group, "group", groups, |s| entity_key(
    &s.account_id,
    &s.name
));
record!(Role, "role", roles, |s| entity_key(&s.account_id, &s.name));
record!(ManagedPolicy, "policy", policies, |s| entity_key(
    &s.account_id,
    &s.name
));
record!(Organization, "organization", orgs, |_s| "org".to_string());
record!(OrgUnit, "ou", ous, |s| s.id.clone());
record!(OrgPolicy, "org_policy", org_policies, |s| s.id.clone());
record!(
    CreateAccountStatus,
    "create_account_status",
    create_status,
    |s| s.id.clone()
);

fn load_row<R: Record>(state: &mut State, key: String, doc: &str) {
    match serde_json::from_str::<R>(doc) {
        Ok(r) => {
            R::table_mut(state).insert(key, r);
        }
        Err(e) => {
            tracing::error!(kind = R::KIND, key, error = %e, "unreadable identity record skipped")
        }
    }
}

fn serialize_row<R: Record>(state: &State, key: &str) -> Option<serde_json::Value> {
    R::table(state)
        .get(key)
        .and_then(|r| serde_json::to_value(r).ok())
}

/// The stored form of a record: JSON with its secret (if any) sealed.
fn stored_doc(
    sealer: &SecretSealer,
    kind: &str,
    key: &str,
    mut doc: serde_json::Value,
) -> Result<String> {
    sealer.seal(kind, key, &mut doc)?;
    Ok(doc.to_string())
}

/// The row for `(kind, key)` in `state`, in its stored form; `None` when absent (deleted).
fn current_row(
    sealer: &SecretSealer,
    state: &State,
    kind: &str,
    key: &str,
) -> Result<Option<String>> {
    unsealed_row(state, kind, key)
        .map(|doc| stored_doc(sealer, kind, key, doc))
        .transpose()
}

/// The row for `(kind, key)` in `state` as JSON (secrets in clear).
fn unsealed_row(state: &State, kind: &str, key: &str) -> Option<serde_json::Value> {
    match kind {
        "settings" => serialize_row::<Settings>(state, key),
        "account" => serialize_row::<Account>(state, key),
        "access_key" => serialize_row::<AccessKey>(state, key),
        "user" => serialize_row::<User>(state, key),
        "group" => serialize_row::<Group>(state, key),
        "role" => serialize_row::<Role>(state, key),
        "policy" => serialize_row::<ManagedPolicy>(state, key),
        "organization" => serialize_row::<Organization>(state, key),
        "ou" => serialize_row::<OrgUnit>(state, key),
        "org_policy" => serialize_row::<OrgPolicy>(state, key),
        "create_account_status" => serialize_row::<CreateAccountStatus>(state, key),
        _ => None,
    }
}

/// Opens the sealed secrets of `rows` in place (for loading); rows that hold
/// a secret in clear are rewritten sealed in the database, in one transaction.
fn open_secrets(
    db: &Db,
    sealer: &SecretSealer,
    rows: &mut [(String, String, String)],
) -> Result<()> {
    let mut migrated = Vec::new();
    for (kind, key, doc) in rows.iter_mut() {
        if !SecretSealer::seals(kind) {
            continue;
        }
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(doc) else {
            continue; // reported as unreadable when loaded
        };
        if sealer.open(kind, key, &mut value)? == Opened::Plaintext {
            migrated.push((
                kind.clone(),
                key.clone(),
                stored_doc(sealer, kind, key, value.clone())?,
            ));
        }
        *doc = value.to_string();
    }
    if migrated.is_empty() {
        return Ok(());
    }
    db.write(|c| {
        for (kind, key, doc) in &migrated {
            c.execute(
                "UPDATE identity_records SET doc = ?3 WHERE kind = ?1 AND key = ?2",
                rusqlite::params![kind, key, doc],
            )?;
        }
        Ok(())
    })?;
    tracing::info!(
        rows = migrated.len(),
        "sealed the access-key and session secrets stored in clear"
    );
    Ok(())
}

/// A write in progress: a private copy of the state plus the rows it touched.
pub struct Txn {
    pub state: State,
    dirty: BTreeSet<(&'static str, String)>,
}

impl Txn {
    pub fn get<R: Record>(&self, key: &str) -> Option<&R> {
        R::table(&self.state).get(key)
    }

    /// A mutable reference; the row is written back at commit.
    pub fn get_mut<R: Record>(&mut self, key: &str) -> Option<&mut R> {
        let table = R::table_mut(&mut self.state);
        let found = table.get_mut(key)?;
        self.dirty.insert((R::KIND, key.to_string()));
        Some(found)
    }

    pub fn put<R: Record>(&mut self, record: R) {
        let key = record.key();
        self.dirty.insert((R::KIND, key.clone()));
        R::table_mut(&mut self.state).insert(key, record);
    }

    pub fn remove<R: Record>(&mut self, key: &str) -> Option<R> {
        self.dirty.insert((R::KIND, key.to_string()));
        R::table_mut(&mut self.state).remove(key)
    }
}

/// The state, its database, and the single-writer lock.
pub struct Store {
    db: Arc<Db>,
    sealer: SecretSealer,
    current: RwLock<Arc<State>>,
    writer: Mutex<()>,
    sessions: RwLock<HashMap<String, Arc<Session>>>,
}

impl Store {
    /// Registers the schema and loads every record, opening the sealed
    /// secrets with `sealer`. Rows that still hold a secret in clear (written
    /// before secrets were sealed) are rewritten sealed, all in one transaction.
    pub fn open(db: Arc<Db>, sealer: SecretSealer) -> Result<Store> {
        db.migrate("identity", MIGRATIONS)?;
        let mut rows: Vec<(String, String, String)> = db.read(|c| {
            let mut stmt = c.prepare("SELECT kind, key, doc FROM identity_records")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })?;
        open_secrets(&db, &sealer, &mut rows)?;
        let mut state = State::default();
        let mut sessions = HashMap::new();
        for (kind, key, doc) in rows {
            match kind.as_str() {
                "settings" => load_row::<Settings>(&mut state, key, &doc),
                "account" => load_row::<Account>(&mut state, key, &doc),
                "access_key" => load_row::<AccessKey>(&mut state, key, &doc),
                "user" => load_row::<User>(&mut state, key, &doc),
                "group" => load_row::<Group>(&mut state, key, &doc),
                "role" => load_row::<Role>(&mut state, key, &doc),
                "policy" => load_row::<ManagedPolicy>(&mut state, key, &doc),
                "session" => match serde_json::from_str::<Session>(&doc) {
                    Ok(session) => {
                        sessions.insert(key, Arc::new(session));
                    }
                    Err(e) => tracing::error!(key, error = %e, "unreadable session skipped"),
                },
                "organization" => load_row::<Organization>(&mut state, key, &doc),
                "ou" => load_row::<OrgUnit>(&mut state, key, &doc),
                "org_policy" => load_row::<OrgPolicy>(&mut state, key, &doc),
                "create_account_status" => load_row::<CreateAccountStatus>(&mut state, key, &doc),
                other => tracing::warn!(kind = other, "unknown identity record kind ignored"),
            }
        }
        Ok(Store {
            db,
            sealer,
            current: RwLock::new(Arc::new(state)),
            writer: Mutex::new(()),
            sessions: RwLock::new(sessions),
        })
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<State> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The temporary session with this access key id.
    pub fn session(&self, access_key_id: &str) -> Option<Arc<Session>> {
        match self.sessions.read() {
            Ok(map) => map.get(access_key_id).cloned(),
            Err(poisoned) => poisoned.into_inner().get(access_key_id).cloned(),
        }
    }

    /// Stores a new session, purging sessions that expired before `purge_before`.
    pub fn insert_session(&self, session: Session, purge_before: jiff::Timestamp) -> Result<()> {
        let _guard = self
            .writer
            .lock()
            .map_err(|_| IdentityError::ServiceFailure("lock poisoned".into()))?;
        let stale: Vec<String> = match self.sessions.read() {
            Ok(map) => map
                .values()
                .filter(|s| s.expires < purge_before)
                .map(|s| s.access_key_id.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        let doc = serde_json::to_value(&session)
            .map_err(|e| IdentityError::ServiceFailure(e.to_string()))?;
        let doc = stored_doc(&self.sealer, "session", &session.access_key_id, doc)?;
        self.db.write(|c| {
            let tx = c;
            for key in &stale {
                tx.execute(
                    "DELETE FROM identity_records WHERE kind = 'session' AND key = ?1",
                    rusqlite::params![key],
                )?;
            }
            tx.execute(
                "INSERT INTO identity_records (kind, key, doc) VALUES ('session', ?1, ?2)
                 ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc",
                rusqlite::params![session.access_key_id, doc],
            )?;
            Ok(())
        })?;
        let mut map = match self.sessions.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        for key in &stale {
            map.remove(key);
        }
        map.insert(session.access_key_id.clone(), Arc::new(session));
        Ok(())
    }

    /// Runs `f` on a copy of the state; on success persists what it touched and
    /// publishes the copy. On error nothing changes.
    pub fn write<T>(&self, f: impl FnOnce(&mut Txn) -> Result<T>) -> Result<T> {
        let _guard = self
            .writer
            .lock()
            .map_err(|_| IdentityError::ServiceFailure("lock poisoned".into()))?;
        let base = self.snapshot();
        let mut txn = Txn {
            state: (*base).clone(),
            dirty: BTreeSet::new(),
        };
        let out = f(&mut txn)?;
        if txn.dirty.is_empty() {
            return Ok(out);
        }
        let rows = txn
            .dirty
            .iter()
            .map(|(kind, key)| {
                let doc = current_row(&self.sealer, &txn.state, kind, key)?;
                Ok((*kind, key.clone(), doc))
            })
            .collect::<Result<Vec<(&'static str, String, Option<String>)>>>()?;
        self.db.write(|c| {
            let tx = c;
            for (kind, key, doc) in &rows {
                match doc {
                    Some(doc) => {
                        tx.execute(
                            "INSERT INTO identity_records (kind, key, doc) VALUES (?1, ?2, ?3)
                             ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc",
                            rusqlite::params![kind, key, doc],
                        )?;
                    }
                    None => {
                        tx.execute(
                            "DELETE FROM identity_records WHERE kind = ?1 AND key = ?2",
                            rusqlite::params![kind, key],
                        )?;
                    }
                }
            }
            Ok(())
        })?;
        txn.state.generation = base.generation + 1;
        let published = Arc::new(txn.state);
        match self.current.write() {
            Ok(mut g) => *g = published,
            Err(poisoned) => *poisoned.into_inner() = published,
        }
        Ok(out)
    }
}
