//! The metadata database: SQLite in WAL mode, one writer and a few readers.
//!
//! Each component (objects, identity, KMS, …) owns its tables and registers
//! its schema with [`Db::migrate`]. Writes go through one connection (SQLite
//! allows one writer at a time anyway); reads use a small pool so they never
//! wait behind a write.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rusqlite::Connection;

/// Errors of the metadata database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database lock poisoned")]
    Poisoned,
}

/// A handle to the metadata database.
pub struct Db {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

const READERS: usize = 4;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a committed transaction survives power loss, as S3 promises.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let writer = Connection::open(path)?;
        configure(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open(path)?;
            configure(&r)?;
            readers.push(Mutex::new(r));
        }
        let db = Db {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers,
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
        writer.busy_timeout(std::time::Duration::from_secs(30))?;
        let mut readers = Vec::new();
        let r = Connection::open_with_flags(&name, flags)?;
        r.busy_timeout(std::time::Duration::from_secs(30))?;
        readers.push(Mutex::new(r));
        let db = Db {
            path: PathBuf::from(name),
            writer: Mutex::new(writer),
            readers,
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

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `steps[i]` (SQL batches) for every version `i + 1` of `component`
    /// not applied yet, each in its own transaction. Append steps; never edit one.
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
                let tx = c.transaction()?;
                tx.execute_batch(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES (?1, ?2)",
                    rusqlite::params![component, version],
                )?;
                tx.commit()?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the writer connection. Use a transaction inside `f` for
    /// several statements that must commit together.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbError> {
        let mut conn = self.writer.lock().map_err(|_| DbError::Poisoned)?;
        Ok(f(&mut conn)?)
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
}
