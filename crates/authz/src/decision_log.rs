//! The decision log writer: a background thread that serializes records and
//! appends them to `DATA_DIR/decisions.jsonl` in batches, rotating the file by
//! size (`decisions.jsonl` → `decisions.1.jsonl` → … → `decisions.KEEP.jsonl`,
//! the oldest dropped), and counting what it could not write.
//!
//! The request path only bounds the record ([`DecisionRecord::bound`]) and
//! queues it; the queue is bounded too, and a record that finds it full is
//! dropped and counted, so a flood of requests cannot grow memory without end.
//! Write failures (a full disk) are counted, reported with a rate-limited
//! warning, and after the next successful write noted in the log itself (a
//! `{"lost_records":N,…}` line, which also counts records dropped from a full
//! queue), so `strongbox explain` can say records are missing.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::record::DecisionRecord;

/// The file decision records are appended to, inside the data dir.
pub const DECISIONS_FILE: &str = "decisions.jsonl";

/// How long the writer thread lets records gather while requests keep coming.
/// While it sleeps no request has to wake it, so a busy server pays one
/// wake-up per interval instead of one per request.
pub const BATCH_INTERVAL: Duration = Duration::from_millis(10);

/// Records that may wait for the writer; beyond this they are dropped (and counted).
const QUEUE_CAPACITY: usize = 16 * 1024;

/// At most one warning about lost records per this interval.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// How large the log grows and how much of it is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogLimits {
    /// `decisions.jsonl` is rotated once a record would take it past this size.
    pub max_file_bytes: u64,
    /// Rotated files kept (`decisions.1.jsonl` … `decisions.KEEP.jsonl`); 0 keeps none.
    pub keep: usize,
}

impl Default for LogLimits {
    /// 64 MiB per file, 8 rotated files: at most 576 MiB of decisions.
    fn default() -> LogLimits {
        LogLimits {
            max_file_bytes: 64 * 1024 * 1024,
            keep: 8,
        }
    }
}

/// What the log could not keep (shared by the writer and the request paths).
#[derive(Debug, Default)]
pub struct LogStats {
    /// Records lost because writing them failed (e.g. a full disk).
    pub failed: AtomicU64,
    /// Records dropped because the writer's queue was full.
    pub dropped: AtomicU64,
}

impl LogStats {
    /// Records lost so far, for whatever reason.
    pub fn lost(&self) -> u64 {
        self.failed.load(Ordering::Relaxed) + self.dropped.load(Ordering::Relaxed)
    }
}

/// What the request paths send to the writer thread.
enum Message {
    Record(Box<DecisionRecord>),
    /// Write out everything queued before this, then answer.
    Flush(mpsc::Sender<()>),
}

/// Appends records from a background thread, which also serializes them, so
/// request paths never wait on disk or spend time on JSON.
pub struct DecisionLog {
    /// `None` when records are dropped. (`SyncSender` is `Sync`: no lock is needed.)
    sender: Option<mpsc::SyncSender<Message>>,
    path: PathBuf,
    stats: Arc<LogStats>,
}

impl DecisionLog {
    /// Opens (appending to) the log in `data_dir`, rotating by `limits`.
    pub fn open(data_dir: &Path, limits: LogLimits) -> std::io::Result<DecisionLog> {
        let path = data_dir.join(DECISIONS_FILE);
        let stats = Arc::new(LogStats::default());
        let mut writer = Writer::open(data_dir, limits, stats.clone())?;
        let (sender, receiver) = mpsc::sync_channel::<Message>(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || writer.run(&receiver))?;
        Ok(DecisionLog {
            sender: Some(sender),
            path,
            stats,
        })
    }

    /// A log that drops every record (tests).
    pub fn disabled() -> DecisionLog {
        DecisionLog {
            sender: None,
            path: PathBuf::new(),
            stats: Arc::new(LogStats::default()),
        }
    }

    /// Bounds `record` and queues it for writing (dropped and counted when the queue is full).
    pub fn append(&self, mut record: DecisionRecord) {
        if let Some(sender) = &self.sender {
            record.bound();
            if sender.try_send(Message::Record(Box::new(record))).is_err() {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
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

    /// What the log could not keep so far.
    pub fn stats(&self) -> &LogStats {
        &self.stats
    }
}

/// The writer thread's state: the open file, its size, and the failures not yet noted.
struct Writer {
    dir: PathBuf,
    limits: LogLimits,
    file: Option<File>,
    size: u64,
    stats: Arc<LogStats>,
    /// Lines serialized but not yet written.
    batch: Vec<u8>,
    batch_records: u64,
    /// A write failed part-way: the file may end in a cut line.
    cut_line: bool,
    /// Records lost to write failures since the last `lost_records` line.
    unnoted: u64,
    /// `stats.dropped` when the last `lost_records` line was written.
    noted_dropped: u64,
    last_warning: Option<Instant>,
}

fn open_append(path: &Path) -> std::io::Result<File> {
    strongbox_core::private_files::private_options()
        .create(true)
        .append(true)
        .open(path)
}

impl Writer {
    fn open(dir: &Path, limits: LogLimits, stats: Arc<LogStats>) -> std::io::Result<Writer> {
        let file = open_append(&dir.join(DECISIONS_FILE))?;
        let size = file.metadata()?.len();
        Ok(Writer {
            dir: dir.to_path_buf(),
            limits,
            file: Some(file),
            size,
            stats,
            batch: Vec::new(),
            batch_records: 0,
            cut_line: false,
            unnoted: 0,
            noted_dropped: 0,
            last_warning: None,
        })
    }

    /// Blocks while the server is idle; once records come, writes what is
    /// queued, and sleeps [`BATCH_INTERVAL`] before looking again.
    fn run(&mut self, receiver: &mpsc::Receiver<Message>) {
        while let Ok(mut message) = receiver.recv() {
            loop {
                let mut acks = Vec::new();
                loop {
                    match message {
                        Message::Record(record) => self.add(*record),
                        Message::Flush(ack) => acks.push(ack),
                    }
                    match receiver.try_recv() {
                        Ok(next) => message = next,
                        Err(_) => break,
                    }
                }
                self.write_batch();
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
        self.write_batch();
    }

    /// Serializes `record` into the batch, rotating first when it would
    /// take the file past its limit.
    fn add(&mut self, mut record: DecisionRecord) {
        let Some(line) = record.to_line() else {
            self.lose(1, "a record could not be serialized");
            return;
        };
        let pending = self.size + self.batch.len() as u64;
        if pending > 0 && pending + line.len() as u64 + 1 > self.limits.max_file_bytes {
            self.write_batch();
            self.rotate();
        }
        self.batch.extend_from_slice(line.as_bytes());
        self.batch.push(b'\n');
        self.batch_records += 1;
    }

    /// Appends the batch to the file; on failure counts its records as lost.
    fn write_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.batch);
        let records = std::mem::take(&mut self.batch_records);
        let dropped = self.stats.dropped.load(Ordering::Relaxed);
        let newly_dropped = dropped.saturating_sub(self.noted_dropped);
        if self.unnoted > 0 || newly_dropped > 0 {
            let note = serde_json::json!({
                "lost_records": self.unnoted + newly_dropped,
                "queue_full": newly_dropped,
                "time": jiff::Timestamp::now().to_string(),
                "write_failures": self.unnoted,
            });
            let mut lines = format!("{note}\n").into_bytes();
            lines.append(&mut batch);
            batch = lines;
        }
        if self.cut_line {
            // End the line a failed write may have cut, so the next one parses.
            batch.insert(0, b'\n');
        }
        let result = match self.file.as_mut() {
            Some(file) => file.write_all(&batch),
            None => open_append(&self.dir.join(DECISIONS_FILE)).and_then(|mut file| {
                self.size = file.metadata()?.len();
                file.write_all(&batch)?;
                self.file = Some(file);
                Ok(())
            }),
        };
        match result {
            Ok(()) => {
                self.size += batch.len() as u64;
                self.cut_line = false;
                self.unnoted = 0;
                self.noted_dropped = dropped;
                batch.clear();
                self.batch = batch; // keep the allocation
            }
            Err(err) => {
                self.cut_line = true;
                self.lose(records, &err.to_string());
            }
        }
    }

    /// Counts `records` as lost and warns (at most every [`WARNING_INTERVAL`]).
    fn lose(&mut self, records: u64, why: &str) {
        self.stats.failed.fetch_add(records, Ordering::Relaxed);
        self.unnoted += records;
        let due = self
            .last_warning
            .is_none_or(|at| at.elapsed() >= WARNING_INTERVAL);
        if due {
            self.last_warning = Some(Instant::now());
            tracing::warn!(
                error = why,
                lost_total = self.stats.lost(),
                "decision log: records could not be written"
            );
        }
    }

    fn rotated(&self, n: usize) -> PathBuf {
        self.dir.join(format!("decisions.{n}.jsonl"))
    }

    /// `decisions.jsonl` becomes `decisions.1.jsonl` (older ones move up one,
    /// the one beyond `keep` is removed) and a new empty file is started.
    fn rotate(&mut self) {
        self.file = None;
        let current = self.dir.join(DECISIONS_FILE);
        let shifted = if self.limits.keep == 0 {
            std::fs::remove_file(&current)
        } else {
            let _ = std::fs::remove_file(self.rotated(self.limits.keep));
            for n in (1..self.limits.keep).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    let _ = std::fs::rename(&from, self.rotated(n + 1));
                }
            }
            std::fs::rename(&current, self.rotated(1))
        };
        if let Err(err) = shifted {
            tracing::warn!(%err, "decision log: rotation failed; appending to the current file");
        }
        match open_append(&current) {
            Ok(file) => {
                self.size = file.metadata().map(|m| m.len()).unwrap_or(0);
                self.file = Some(file);
            }
            // Retried at the next batch.
            Err(err) => tracing::warn!(%err, "decision log: cannot open a new file"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::find;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sb-decisions-{name}-{}",
            strongbox_core::ids::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn record(request_id: &str) -> DecisionRecord {
        DecisionRecord {
            request_id: request_id.to_string(),
            time: "2026-12-07T00:00:00Z".to_string(),
            principal: "arn:aws:iam::111122223333:user/alice".to_string(),
            action: "s3:PutObject".to_string(),
            resource: "arn:aws:s3:::b/k".to_string(),
            decision: "Allow".to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn batched_records_are_all_written_and_flush_waits_for_them() {
        let dir = temp_dir("batch");
        let log = DecisionLog::open(&dir, LogLimits::default()).unwrap();
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
        assert_eq!(log.stats().lost(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_log_rotates_by_size_keeps_the_newest_files_and_finds_across_them() {
        let dir = temp_dir("rotate");
        let limits = LogLimits {
            max_file_bytes: 4096,
            keep: 3,
        };
        let log = DecisionLog::open(&dir, limits).unwrap();
        let line = record("REQ0000").to_line().unwrap().len() as u64 + 1;
        let per_file = 4096 / line;
        let total = per_file * 6;
        for i in 0..total {
            log.append(record(&format!("REQ{i:04}")));
            // The same request id again much later: found in both files, oldest first.
            if i == total - 1 {
                let mut again = record("REQ0000");
                again.action = "s3:GetObject".to_string();
                log.append(again);
            }
        }
        log.flush(Duration::from_secs(5));
        let files = crate::record::log_files(&dir).unwrap();
        assert_eq!(files.len(), 4, "{files:?}");
        for f in &files {
            assert!(std::fs::metadata(f).unwrap().len() <= 4096, "{f:?}");
        }
        assert!(!dir.join("decisions.4.jsonl").exists());
        // The newest record is in the current file; one of the oldest kept is in .3.
        assert_eq!(
            find(&dir, &format!("REQ{:04}", total - 1)).unwrap().len(),
            1
        );
        let oldest = std::fs::read_to_string(dir.join("decisions.3.jsonl")).unwrap();
        let oldest: DecisionRecord = serde_json::from_str(oldest.lines().next().unwrap()).unwrap();
        assert_eq!(find(&dir, &oldest.request_id).unwrap().len(), 1);
        assert!(find(&dir, "REQ0001").unwrap().is_empty(), "rotated away");
        // The first records were rotated away; the id's newest record is still found.
        let found = find(&dir, "REQ0000").unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].action, "s3:GetObject");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_write_is_counted_and_noted_once_writing_works_again() {
        let dir = temp_dir("fail");
        let mut writer =
            Writer::open(&dir, LogLimits::default(), Arc::new(LogStats::default())).unwrap();
        // A file opened read-only makes every write fail, as a full disk would.
        writer.file = Some(File::open(dir.join(DECISIONS_FILE)).unwrap());
        writer.add(record("LOST1"));
        writer.add(record("LOST2"));
        writer.write_batch();
        assert_eq!(writer.stats.failed.load(Ordering::Relaxed), 2);
        writer.file = Some(open_append(&dir.join(DECISIONS_FILE)).unwrap());
        writer.add(record("KEPT"));
        writer.write_batch();
        assert_eq!(find(&dir, "KEPT").unwrap().len(), 1);
        let text = std::fs::read_to_string(dir.join(DECISIONS_FILE)).unwrap();
        assert!(text.contains("{\"lost_records\":2,"), "{text}");
        assert_eq!(crate::record::lost_records(&dir).unwrap(), 2);
        assert_eq!(writer.stats.lost(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
