//! Decision records: one JSON line per authorization decision, in
//! `DATA_DIR/decisions.jsonl`, read back by `strongbox explain`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The file decision records are appended to, inside the data dir.
pub const DECISIONS_FILE: &str = "decisions.jsonl";

/// Everything needed to explain one decision later.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub request_id: String,
    pub time: String,
    /// The caller's identity ARN (`anonymous` for unsigned requests).
    pub principal: String,
    pub principal_account: String,
    pub action: String,
    pub resource: String,
    pub resource_account: Option<String>,
    /// `Allow` or `Deny`.
    pub decision: String,
    /// AWS's reason category, e.g. `no_allow_identity_policy`, or a rule such as `block_public_acls`.
    pub reason: String,
    /// The message the caller was (or would have been) shown.
    pub message: String,
    /// The policy and statement that decided, e.g. `bucket policy` statement `DenyUnencrypted`.
    pub deciding_policy: Option<String>,
    pub deciding_statement: Option<String>,
    /// Names of every policy that was read.
    pub policies: Vec<String>,
    /// Condition keys and values of the request.
    pub context: BTreeMap<String, Vec<String>>,
    /// The smallest change that would allow the request (denials only).
    pub fix: Option<String>,
    /// The engine's full trace (denials only, to keep the log small).
    pub trace: Option<serde_json::Value>,
}

/// Appends records from a background thread so request paths never wait on disk.
pub struct DecisionLog {
    sender: Mutex<Option<mpsc::Sender<String>>>,
    path: PathBuf,
}

impl DecisionLog {
    /// Opens (appending to) the log in `data_dir`.
    pub fn open(data_dir: &Path) -> std::io::Result<DecisionLog> {
        let path = data_dir.join(DECISIONS_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let (sender, receiver) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || {
                let mut out = BufWriter::new(file);
                while let Ok(line) = receiver.recv() {
                    let _ = out.write_all(line.as_bytes());
                    let _ = out.write_all(b"\n");
                    // Drain what is queued, then flush once.
                    while let Ok(line) = receiver.try_recv() {
                        let _ = out.write_all(line.as_bytes());
                        let _ = out.write_all(b"\n");
                    }
                    let _ = out.flush();
                }
            })?;
        Ok(DecisionLog {
            sender: Mutex::new(Some(sender)),
            path,
        })
    }

    /// A log that keeps nothing (tests, one-off tools).
    pub fn disabled() -> DecisionLog {
        DecisionLog {
            sender: Mutex::new(None),
            path: PathBuf::new(),
        }
    }

    /// Queues `record` for writing.
    pub fn append(&self, record: &DecisionRecord) {
        let Ok(line) = serde_json::to_string(record) else {
            return;
        };
        if let Ok(guard) = self.sender.lock() {
            if let Some(sender) = guard.as_ref() {
                let _ = sender.send(line);
            }
        }
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Every record of `request_id` in the log of `data_dir`, oldest first.
pub fn find(data_dir: &Path, request_id: &str) -> std::io::Result<Vec<DecisionRecord>> {
    let file = std::fs::File::open(data_dir.join(DECISIONS_FILE))?;
    let needle = format!("\"request_id\":\"{request_id}\"");
    let mut found = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if !line.contains(&needle) {
            continue;
        }
        if let Ok(record) = serde_json::from_str::<DecisionRecord>(&line) {
            found.push(record);
        }
    }
    Ok(found)
}
