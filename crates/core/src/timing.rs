//! Where a request's time goes, per step of the request path, for the
//! `Server-Timing` response header (`serve --server-timing`) that the load tool
//! reads to report what the signature check and the metadata commit cost.
//!
//! The steps record into a task-local set by the server around each request;
//! outside such a scope recording does nothing. Header format:
//! <https://www.w3.org/TR/server-timing/> (durations in milliseconds).

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

/// A step of the request path that is timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Credential lookup and SigV4/SigV2 signature verification.
    Authenticate,
    /// Gathering the policies and evaluating them.
    Authorize,
    /// Waiting for the metadata writer (held by other requests' statements or by
    /// the group leader's COMMIT).
    WriterWait,
    /// Metadata statements, run in a savepoint of the group transaction.
    MetadataWrite,
    /// Waiting for the group commit to be durable (the WAL flush).
    Flush,
    /// The KMS calls S3 makes as the caller for SSE-KMS (GenerateDataKey on
    /// upload, Decrypt on download): key lookup, key policy and IAM
    /// evaluation, grants, the cryptography.
    Kms,
}

const STAGES: [(Stage, &str); 6] = [
    (Stage::Authenticate, "authn"),
    (Stage::Authorize, "authz"),
    (Stage::WriterWait, "queue"),
    (Stage::MetadataWrite, "db"),
    (Stage::Flush, "flush"),
    (Stage::Kms, "kms"),
];

/// Accumulated durations of one request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    stages: [Duration; 6],
}

impl Timings {
    /// The time spent in `stage`.
    pub fn get(&self, stage: Stage) -> Duration {
        self.stages[index(stage)]
    }

    /// The `Server-Timing` header value, with `total` as the whole request.
    pub fn header_value(&self, total: Duration) -> String {
        let mut parts: Vec<String> = STAGES
            .iter()
            .map(|(stage, name)| format!("{name};dur={:.3}", millis(self.get(*stage))))
            .collect();
        parts.push(format!("total;dur={:.3}", millis(total)));
        parts.join(", ")
    }
}

fn index(stage: Stage) -> usize {
    STAGES.iter().position(|(s, _)| *s == stage).unwrap_or(0)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

tokio::task_local! {
    static CURRENT: Cell<Timings>;
}

/// Runs `fut` with a fresh set of timings; returns its output and the timings.
pub async fn scope<F: Future>(fut: F) -> (F::Output, Timings) {
    CURRENT
        .scope(Cell::new(Timings::default()), async {
            let out = fut.await;
            let timings = CURRENT.try_with(Cell::get).unwrap_or_default();
            (out, timings)
        })
        .await
}

/// Adds `elapsed` to `stage` of the current request, if it is being timed.
pub fn record(stage: Stage, elapsed: Duration) {
    let _ = CURRENT.try_with(|cell| {
        let mut t = cell.get();
        t.stages[index(stage)] += elapsed;
        cell.set(t);
    });
}

/// Runs `f`, recording its duration under `stage`.
pub fn time<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    record(stage, start.elapsed());
    out
}

/// Records the time from [`Timer::start`] to its drop under a stage (for code
/// with several early returns).
#[derive(Debug)]
pub struct Timer {
    stage: Stage,
    start: Instant,
}

impl Timer {
    /// Starts timing `stage`.
    pub fn start(stage: Stage) -> Timer {
        Timer {
            stage,
            start: Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        record(self.stage, self.start.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_inside_a_scope_only() {
        record(Stage::Flush, Duration::from_millis(5));
        let ((), t) = scope(async {
            record(Stage::Authenticate, Duration::from_micros(30));
            record(Stage::Flush, Duration::from_micros(500));
            record(Stage::Flush, Duration::from_micros(250));
            tokio::task::yield_now().await;
            time(Stage::Authorize, || ());
            let _timer = Timer::start(Stage::MetadataWrite);
            std::thread::sleep(Duration::from_millis(1));
        })
        .await;
        assert_eq!(t.get(Stage::Authenticate), Duration::from_micros(30));
        assert_eq!(t.get(Stage::Flush), Duration::from_micros(750));
        assert!(t.get(Stage::MetadataWrite) >= Duration::from_millis(1));
        assert_eq!(t.get(Stage::WriterWait), Duration::ZERO);
        assert_eq!(
            Timings::default().header_value(Duration::from_micros(1500)),
            "authn;dur=0.000, authz;dur=0.000, queue;dur=0.000, db;dur=0.000, flush;dur=0.000, kms;dur=0.000, total;dur=1.500"
        );
        assert!(t
            .header_value(Duration::from_millis(2))
            .starts_with("authn;dur=0.030, authz;dur="));
    }
}
