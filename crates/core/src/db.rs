//! The metadata database: SQLite in WAL mode, one writer and a few readers.
//!
//! Each component (objects, identity, KMS, …) owns its tables and registers
//! its schema with [`Db::migrate`]. Writes go through one connection (SQLite
//! allows one writer at a time anyway) with *group commit*: each
//! [`Db::write`] runs in a savepoint of the open transaction, and one
//! `COMMIT` (one WAL fsync) makes every write that joined it durable before
//! any of them returns. Reads use a small pool so they never wait behind a write.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::Connection;

use crate::timing::{self, Stage};

/// Errors of the metadata database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database lock poisoned")]
    Poisoned,
    #[error("cannot create the database file: {0}")]
    Create(std::io::Error),
    /// The group commit a write joined failed; the write is not stored.
    #[error("database commit failed: {0}")]
    Commit(String),
    /// The commit failed because the disk (or the database's size limit) is full.
    #[error("database commit failed: the disk is full: {0}")]
    Full(String),
}

impl DbError {
    /// Whether the write failed for lack of space (`SQLITE_FULL`, or ENOSPC
    /// while SQLite wrote).
    pub fn is_disk_full(&self) -> bool {
        match self {
            DbError::Full(_) => true,
            DbError::Sqlite(e) => is_full(e),
            _ => false,
        }
    }
}

fn is_full(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
}

/// A failed group's error, kept for its waiters.
struct Failure {
    message: String,
    disk_full: bool,
}

impl Failure {
    fn of(e: &rusqlite::Error) -> Failure {
        Failure {
            message: e.to_string(),
            disk_full: is_full(e),
        }
    }

    fn error(&self) -> DbError {
        if self.disk_full {
            DbError::Full(self.message.clone())
        } else {
            DbError::Commit(self.message.clone())
        }
    }
}

/// The writer connection and the group transaction it has open.
struct Writer {
    conn: Connection,
    /// A `BEGIN IMMEDIATE` is open (writes are waiting for their commit).
    open: bool,
    /// The number of the group the open transaction (or the next one) commits as.
    group: u64,
}

/// What the committers know about finished groups.
#[derive(Default)]
struct Commits {
    /// Every group up to this number has ended (committed or failed).
    ended: u64,
    /// A committer is running `COMMIT` now.
    leader: bool,
    /// Recent groups that failed, with the error (bounded).
    failed: VecDeque<(u64, Failure)>,
}

/// Failed groups remembered for waiters that wake late.
const FAILED_KEPT: usize = 64;

/// A handle to the metadata database.
pub struct Db {
    path: PathBuf,
    writer: Mutex<Writer>,
    commits: Mutex<Commits>,
    ended: Condvar,
    /// Writers waiting for the writer connection (they join the next commit).
    queued: AtomicUsize,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

const READERS: usize = 4;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a committed transaction survives power loss, as S3 promises.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    configure_connection(conn)
}

/// What every connection gets, on disk or in memory.
fn configure_connection(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // The hot statements (object lookups and writes, policy reads) are prepared
    // once per connection; rusqlite's default cache holds 16.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

/// Runs one statement without results, prepared once per connection.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs `f`, telling a multi-threaded tokio runtime (if this thread is one of
/// its workers) that it blocks, so other tasks move to another thread.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Db {
    fn with_connections(
        path: PathBuf,
        writer: Connection,
        readers: Vec<Connection>,
    ) -> Result<Db, DbError> {
        let db = Db {
            path,
            writer: Mutex::new(Writer {
                conn: writer,
                open: false,
                group: 1,
            }),
            commits: Mutex::new(Commits::default()),
            ended: Condvar::new(),
            queued: AtomicUsize::new(0),
            readers: readers.into_iter().map(Mutex::new).collect(),
            next_reader: AtomicUsize::new(0),
        };
        db.write(|c| {
            c.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    component TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    PRIMARY KEY (component, version))",
            )
        })?;
        Ok(db)
    }

    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        // SQLite creates the WAL and shared-memory files with the database
        // file's mode: creating that owner-only keeps all three private.
        crate::private_files::create_private(path).map_err(DbError::Create)?;
        let writer = Connection::open(path)?;
        configure(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open(path)?;
            configure(&r)?;
            readers.push(r);
        }
        Db::with_connections(path.to_path_buf(), writer, readers)
    }

    /// An in-memory database for tests (readers share the writer's connection).
    pub fn open_in_memory() -> Result<Db, DbError> {
        let name = format!(
            "file:sbmem{}?mode=memory&cache=shared",
            crate::ids::random_hex(8)
        );
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
            | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
            | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let writer = Connection::open_with_flags(&name, flags)?;
        configure_connection(&writer)?;
        let r = Connection::open_with_flags(&name, flags)?;
        configure_connection(&r)?;
        Db::with_connections(PathBuf::from(name), writer, vec![r])
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `steps[i]` (SQL batches) for every version `i + 1` of `component`
    /// not applied yet, all in one transaction. Append steps; never edit one.
    pub fn migrate(&self, component: &str, steps: &[&str]) -> Result<(), DbError> {
        self.write(|c| {
            for (i, sql) in steps.iter().enumerate() {
                let version = i as i64 + 1;
                let done: bool = c.query_row(
                    "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE component = ?1 AND version = ?2)",
                    rusqlite::params![component, version],
                    |r| r.get(0),
                )?;
                if done {
                    continue;
                }
                c.execute_batch(sql)?;
                c.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES (?1, ?2)",
                    rusqlite::params![component, version],
                )?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the writer connection, atomically: its statements take
    /// effect together or (when it fails) not at all. Returns once they are
    /// durably committed.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        Ok(self.write_with(f)??)
    }

    /// Like [`Db::write`] for closures with their own error type: the outer
    /// result is the database's (commit) error, the inner one `f`'s. When `f`
    /// fails, its statements are rolled back and nothing of it is stored.
    pub fn write_with<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<Result<T, E>, DbError> {
        blocking(|| {
            let (out, group) = self.run_in_savepoint(f)?;
            timing::time(Stage::Flush, || self.await_commit(group))?;
            Ok(out)
        })
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Writer>, DbError> {
        self.writer.lock().map_err(|_| DbError::Poisoned)
    }

    /// Runs `f` in a savepoint of the open group transaction (opening one);
    /// returns its result and the group it joined.
    fn run_in_savepoint<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<(Result<T, E>, u64), DbError> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let locked = timing::time(Stage::WriterWait, || self.lock_writer());
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let mut w = locked?;
        let _statements = timing::Timer::start(Stage::MetadataWrite);
        // The first write of a group opens the transaction, which is then its
        // own rollback scope (no one else has joined yet: we hold the writer);
        // later writes of the group each get a savepoint.
        let first = !w.open;
        if first {
            run_cached(&w.conn, "BEGIN IMMEDIATE")?;
            w.open = true;
        } else {
            run_cached(&w.conn, "SAVEPOINT sb_write")?;
        }
        let out = f(&w.conn);
        let ended = match (first, out.is_ok()) {
            (true, true) => Ok(()),
            (true, false) => {
                let rolled_back = run_cached(&w.conn, "ROLLBACK");
                if rolled_back.is_ok() {
                    w.open = false;
                }
                rolled_back
            }
            (false, true) => run_cached(&w.conn, "RELEASE sb_write"),
            (false, false) => run_cached(&w.conn, "ROLLBACK TO sb_write")
                .and_then(|()| run_cached(&w.conn, "RELEASE sb_write")),
        };
        if let Err(e) = ended {
            // The transaction is in an unknown state: abandon the whole group.
            let _ = w.conn.execute_batch("ROLLBACK");
            w.open = false;
            let group = w.group;
            w.group += 1;
            drop(w);
            self.end_group(group, Some(Failure::of(&e)), false);
            return Err(e.into());
        }
        Ok((out, w.group))
    }

    /// Records that `group` ended (by its leader, when `leader`) and wakes its waiters.
    fn end_group(&self, group: u64, error: Option<Failure>, leader: bool) {
        let mut c = match self.commits.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        if leader {
            c.leader = false;
        }
        c.ended = c.ended.max(group);
        if let Some(e) = error {
            c.failed.push_back((group, e));
            if c.failed.len() > FAILED_KEPT {
                c.failed.pop_front();
            }
        }
        self.ended.notify_all();
    }

    /// Waits until `group` has committed, committing it (as the leader) when
    /// no one else is. Writes that queue meanwhile join the next group.
    fn await_commit(&self, group: u64) -> Result<(), DbError> {
        let mut c = self.commits.lock().map_err(|_| DbError::Poisoned)?;
        loop {
            if c.ended >= group {
                return match c.failed.iter().find(|(g, _)| *g == group) {
                    Some((_, e)) => Err(e.error()),
                    None => Ok(()),
                };
            }
            if c.leader {
                c = self.ended.wait(c).map_err(|_| DbError::Poisoned)?;
                continue;
            }
            c.leader = true;
            drop(c);
            // Let writers already waiting for the connection join this group.
            for _ in 0..64 {
                if self.queued.load(Ordering::SeqCst) == 0 {
                    break;
                }
                std::thread::yield_now();
            }
            let (committed, error) = match self.lock_writer() {
                Ok(mut w) => {
                    let g = w.group;
                    w.group += 1;
                    let mut error = None;
                    if w.open {
                        w.open = false;
                        if let Err(e) = run_cached(&w.conn, "COMMIT") {
                            let _ = w.conn.execute_batch("ROLLBACK");
                            error = Some(Failure::of(&e));
                        }
                    }
                    (g, error)
                }
                Err(_) => (
                    group,
                    Some(Failure {
                        message: "database lock poisoned".to_string(),
                        disk_full: false,
                    }),
                ),
            };
            self.end_group(committed, error, true);
            c = self.commits.lock().map_err(|_| DbError::Poisoned)?;
        }
    }

    /// Runs `f` on a reader connection (sees every committed write).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        let n = self.readers.len();
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Ok(conn) = self.readers[(start + i) % n].try_lock() {
                return Ok(f(&conn)?);
            }
        }
        let conn = self.readers[start % n]
            .lock()
            .map_err(|_| DbError::Poisoned)?;
        Ok(f(&conn)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once() {
        let db = Db::open_in_memory().unwrap();
        let steps = [
            "CREATE TABLE t (x INTEGER)",
            "ALTER TABLE t ADD COLUMN y INTEGER",
        ];
        db.migrate("test", &steps).unwrap();
        db.migrate("test", &steps).unwrap();
        db.write(|c| c.execute("INSERT INTO t (x, y) VALUES (1, 2)", []))
            .unwrap();
        let y: i64 = db
            .read(|c| c.query_row("SELECT y FROM t", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(y, 2);
    }

    fn temp_db(name: &str) -> (Db, PathBuf) {
        let dir = std::env::temp_dir().join(format!("sbdb-{name}-{}", crate::ids::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(&dir.join("m.db")).unwrap();
        db.migrate("t", &["CREATE TABLE t (x INTEGER PRIMARY KEY)"])
            .unwrap();
        (db, dir)
    }

    #[test]
    fn a_failed_write_rolls_back_only_itself() {
        let (db, dir) = temp_db("rollback");
        db.write(|c| c.execute("INSERT INTO t (x) VALUES (1)", []))
            .unwrap();
        let failed: Result<(), &str> = db
            .write_with(|c| {
                c.execute("INSERT INTO t (x) VALUES (2)", []).unwrap();
                Err("no")
            })
            .unwrap();
        assert_eq!(failed, Err("no"));
        // A statement error (duplicate key) also undoes the write's earlier statements.
        let dup = db.write(|c| {
            c.execute("INSERT INTO t (x) VALUES (3)", [])?;
            c.execute("INSERT INTO t (x) VALUES (1)", [])
        });
        assert!(dup.is_err());
        db.write(|c| c.execute("INSERT INTO t (x) VALUES (4)", []))
            .unwrap();
        let xs: Vec<i64> = db
            .read(|c| {
                let mut s = c.prepare("SELECT x FROM t ORDER BY x")?;
                let rows = s.query_map([], |r| r.get(0))?;
                rows.collect()
            })
            .unwrap();
        assert_eq!(xs, vec![1, 4]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn failed_writes_among_concurrent_ones_undo_only_themselves() {
        // A failing write may be the first of its group (rolled back with the
        // transaction it opened) or a later one (rolled back to its savepoint).
        let (db, dir) = temp_db("mixed");
        let db = std::sync::Arc::new(db);
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for i in 0..60 {
                        let x = t * 1000 + i;
                        let fails = i % 3 == 0;
                        let out: Result<(), &str> = db
                            .write_with(|c| {
                                c.execute("INSERT INTO t (x) VALUES (?1)", [x])
                                    .map_err(|_| "insert")?;
                                if fails {
                                    Err("refused")
                                } else {
                                    Ok(())
                                }
                            })
                            .unwrap();
                        assert_eq!(out.is_err(), fails);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let (n, failed): (i64, i64) = db
            .read(|c| {
                c.query_row(
                    "SELECT COUNT(*), COALESCE(SUM((x % 1000) % 3 = 0), 0) FROM t",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .unwrap();
        assert_eq!((n, failed), (6 * 40, 0));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_writes_are_all_committed_and_visible_on_return() {
        let (db, dir) = temp_db("group");
        let db = std::sync::Arc::new(db);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let db = db.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let x = t * 1000 + i;
                        db.write(|c| c.execute("INSERT INTO t (x) VALUES (?1)", [x]))
                            .unwrap();
                        // Visible to readers as soon as the write returns.
                        let seen: i64 = db
                            .read(|c| {
                                c.query_row("SELECT COUNT(*) FROM t WHERE x = ?1", [x], |r| {
                                    r.get(0)
                                })
                            })
                            .unwrap();
                        assert_eq!(seen, 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(db);
        // Durable: a new connection sees every row.
        let reopened = Db::open(&dir.join("m.db")).unwrap();
        let n: i64 = reopened
            .read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(n, 400);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
