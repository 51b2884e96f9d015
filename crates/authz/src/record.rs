//! Decision records: one JSON line per authorization decision, in
//! `DATA_DIR/decisions.jsonl`, read back by `strongbox explain`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The file decision records are appended to, inside the data dir.
pub const DECISIONS_FILE: &str = "decisions.jsonl";

/// The writer thread: blocks while the server is idle; once records come, writes
/// what is queued, flushes, and sleeps [`BATCH_INTERVAL`] before looking again.
fn write_batches(receiver: &mpsc::Receiver<Message>, out: &mut impl Write) {
    while let Ok(mut message) = receiver.recv() {
        loop {
            // Write this message and everything queued behind it, then flush once.
            let mut acks = Vec::new();
            loop {
                match message {
                    Message::Record(record) => write_line(out, &record),
                    Message::Flush(ack) => acks.push(ack),
                }
                match receiver.try_recv() {
                    Ok(next) => message = next,
                    Err(_) => break,
                }
            }
            let _ = out.flush();
            for ack in acks {
                let _ = ack.send(());
            }
            std::thread::sleep(BATCH_INTERVAL);
            match receiver.try_recv() {
                Ok(next) => message = next,
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
    }
}

/// One record as one JSON line.
fn write_line(out: &mut impl Write, record: &DecisionRecord) {
    if let Ok(line) = serde_json::to_string(record) {
        let _ = out.write_all(line.as_bytes());
        let _ = out.write_all(b"\n");
    }
}

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

/// How long the writer thread lets records gather while requests keep coming.
/// While it sleeps no request has to wake it, so a busy server pays one
/// wake-up per interval instead of one per request.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(10);

/// What the request paths send to the writer thread.
enum Message {
    Record(Box<DecisionRecord>),
    /// Write out everything queued before this, then answer.
    Flush(mpsc::Sender<()>),
}

/// Appends records from a background thread, which also serializes them, so
/// request paths never wait on disk or spend time on JSON.
pub struct DecisionLog {
    /// `None` when records are dropped. (`Sender` is `Sync`: no lock is needed.)
    sender: Option<mpsc::Sender<Message>>,
    path: PathBuf,
}

impl DecisionLog {
    /// Opens (appending to) the log in `data_dir`.
    pub fn open(data_dir: &Path) -> std::io::Result<DecisionLog> {
        let path = data_dir.join(DECISIONS_FILE);
        let file = strongbox_core::private_files::private_options()
            .create(true)
            .append(true)
            .open(&path)?;
        let (sender, receiver) = mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || write_batches(&receiver, &mut BufWriter::new(file)))?;
        Ok(DecisionLog {
            sender: Some(sender),
            path,
        })
    }

    /// A log that drops every record (tests).
    pub fn disabled() -> DecisionLog {
        DecisionLog {
            sender: None,
            path: PathBuf::new(),
        }
    }

    /// Queues `record` for writing.
    pub fn append(&self, record: DecisionRecord) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(Message::Record(Box::new(record)));
        }
    }

    /// Waits (at most `timeout`) until every record queued so far is in the file.
    pub fn flush(&self, timeout: Duration) {
        if let Some(sender) = &self.sender {
            let (done, wait) = mpsc::channel();
            if sender.send(Message::Flush(done)).is_ok() {
                let _ = wait.recv_timeout(timeout);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(request_id: &str) -> DecisionRecord {
        DecisionRecord {
            request_id: request_id.to_string(),
            time: "2026-12-07T00:00:00Z".to_string(),
            principal: "arn:aws:iam::111122223333:user/alice".to_string(),
            principal_account: "111122223333".to_string(),
            action: "s3:PutObject".to_string(),
            resource: "arn:aws:s3:::b/k".to_string(),
            resource_account: Some("111122223333".to_string()),
            decision: "Allow".to_string(),
            reason: "allowed".to_string(),
            message: String::new(),
            deciding_policy: None,
            deciding_statement: None,
            policies: Vec::new(),
            context: BTreeMap::new(),
            fix: None,
            trace: None,
        }
    }

    #[test]
    fn batched_records_are_all_written_and_flush_waits_for_them() {
        let dir = std::env::temp_dir().join(format!(
            "sb-decisions-{}",
            strongbox_core::ids::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let log = DecisionLog::open(&dir).unwrap();
        for i in 0..500 {
            log.append(record(&format!("REQ{i}")));
        }
        log.flush(Duration::from_secs(5));
        for i in [0, 1, 250, 499] {
            let found = find(&dir, &format!("REQ{i}")).unwrap();
            assert_eq!(found.len(), 1, "REQ{i}");
            assert_eq!(found[0].action, "s3:PutObject");
        }
        // Records sent while the writer sleeps between batches arrive too.
        std::thread::sleep(BATCH_INTERVAL / 2);
        log.append(record("LATE"));
        log.flush(Duration::from_secs(5));
        assert_eq!(find(&dir, "LATE").unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
