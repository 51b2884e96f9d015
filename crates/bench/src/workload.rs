//! One measured phase: N clients doing PUTs (or GETs) of one object size against one
//! bucket, bounded by a duration and optionally an operation count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};

use crate::client::{Connection, Endpoint, RequestSpec, Signer};
use crate::server_timing::{ServerTiming, TimingSums};
use crate::stats::{summarize, PhaseSummary};

/// The operation a phase repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Put,
    Get,
}

impl Operation {
    /// The HTTP method and label.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Put => "PUT",
            Operation::Get => "GET",
        }
    }
}

/// SHA-256 of the empty body, signed by GETs as the SDKs do.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What to run.
#[derive(Clone, Debug)]
pub struct PhaseConfig {
    pub label: String,
    pub operation: Operation,
    pub bucket: String,
    /// Key prefix inside the bucket.
    pub prefix: String,
    pub object_size: u64,
    pub clients: usize,
    pub duration: Duration,
    /// Stop after this many operations (all clients together), if set.
    pub max_ops: Option<u64>,
    /// PUTs cycle over this many keys per client (bounds disk use).
    pub keys_per_client: u64,
    /// Extra headers of each PUT (server-side encryption).
    pub put_headers: Arc<[(String, String)]>,
    /// The `x-amz-server-side-encryption` every answer must carry (`None`: none).
    pub expect_sse: Option<&'static str>,
}

/// The result of a phase plus the keys it wrote (for a following GET phase).
pub struct PhaseOutcome {
    pub summary: PhaseSummary,
    /// Latencies of the successful operations (to merge phases).
    pub latencies: Vec<Duration>,
    pub written_keys: Vec<String>,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
    /// The server's `Server-Timing` of the successful operations, when it sends one.
    pub server_timing: TimingSums,
}

struct ClientResult {
    latencies: Vec<Duration>,
    errors: u64,
    written_keys: Vec<String>,
    first_error: Option<String>,
    server_timing: TimingSums,
}

/// The payload PUT by a phase: its bytes and their SHA-256 (computed once, so the
/// payload is signed like an SDK over plain HTTP without costing a hash per request).
#[derive(Clone)]
pub struct Payload {
    pub bytes: Bytes,
    pub sha256_hex: Arc<str>,
}

impl Payload {
    /// A deterministic, incompressible-looking payload of `size` bytes.
    pub fn new(size: u64) -> Payload {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ size;
        let bytes: Vec<u8> = (0..size)
            .map(|_| {
                // xorshift64*: cheap pseudo-random bytes.
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect();
        let sha256_hex = strongbox_sigv4::crypto::sha256_hex(&bytes).into();
        Payload {
            bytes: Bytes::from(bytes),
            sha256_hex,
        }
    }
}

/// Runs one phase. For GET phases `keys` are the objects to read (round-robin).
pub async fn run_phase(
    endpoint: &Endpoint,
    signer: &Signer,
    config: &PhaseConfig,
    payload: &Payload,
    keys: &[String],
) -> Result<PhaseOutcome, crate::client::ClientError> {
    let mut connections = Vec::with_capacity(config.clients);
    for _ in 0..config.clients {
        connections.push(Connection::open(endpoint.clone()).await?);
    }
    let keys: Arc<[String]> = keys.into();
    let done = Arc::new(AtomicU64::new(0));
    let claimed = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(config);
    let start = Instant::now();
    let deadline = start + config.duration;
    let ticker = spawn_ticker(bar.clone(), done.clone(), config.clone(), start);

    let mut tasks = Vec::with_capacity(config.clients);
    for (client, connection) in connections.into_iter().enumerate() {
        let worker = Worker {
            client,
            connection,
            signer: signer.clone(),
            config: config.clone(),
            payload: payload.clone(),
            keys: keys.clone(),
            done: done.clone(),
            claimed: claimed.clone(),
            deadline,
        };
        tasks.push(tokio::spawn(worker.run()));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(result) => results.push(result),
            Err(e) => results.push(ClientResult {
                latencies: Vec::new(),
                errors: 1,
                written_keys: Vec::new(),
                first_error: Some(format!("client task failed: {e}")),
                server_timing: TimingSums::default(),
            }),
        }
    }
    let elapsed = start.elapsed();
    ticker.abort();
    bar.finish_and_clear();

    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut written_keys = Vec::new();
    let mut first_error = None;
    let mut server_timing = TimingSums::default();
    for result in results {
        server_timing.merge(&result.server_timing);
        latencies.extend(result.latencies);
        errors += result.errors;
        written_keys.extend(result.written_keys);
        first_error = first_error.or(result.first_error);
    }
    let summary = summarize(latencies.clone(), errors, config.object_size, elapsed);
    eprintln!(
        "{:<44} {:>9.1} ops/s {:>9.1} MiB/s  errors {}",
        config.label, summary.ops_per_sec, summary.mib_per_sec, summary.errors
    );
    Ok(PhaseOutcome {
        summary,
        latencies,
        written_keys,
        first_error,
        server_timing,
    })
}

fn progress_bar(config: &PhaseConfig) -> ProgressBar {
    let (length, template) = match config.max_ops {
        Some(ops) => (ops, "{prefix:44} [{bar:30}] {pos}/{len} ops {msg}"),
        None => (
            config.duration.as_millis() as u64,
            "{prefix:44} [{bar:30}] {elapsed} {msg}",
        ),
    };
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(config.label.clone());
    bar
}

fn spawn_ticker(
    bar: ProgressBar,
    done: Arc<AtomicU64>,
    config: PhaseConfig,
    start: Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(200));
        loop {
            interval.tick().await;
            let ops = done.load(Ordering::Relaxed);
            let position = match config.max_ops {
                Some(_) => ops,
                None => start.elapsed().as_millis() as u64,
            };
            bar.set_position(position);
            let rate = ops as f64 / start.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{ops} ops, {rate:.0} ops/s"));
        }
    })
}

struct Worker {
    client: usize,
    connection: Connection,
    signer: Signer,
    config: PhaseConfig,
    payload: Payload,
    keys: Arc<[String]>,
    done: Arc<AtomicU64>,
    claimed: Arc<AtomicU64>,
    deadline: Instant,
}

impl Worker {
    fn claim(&self) -> bool {
        if Instant::now() >= self.deadline {
            return false;
        }
        match self.config.max_ops {
            Some(max) => self.claimed.fetch_add(1, Ordering::Relaxed) < max,
            None => true,
        }
    }

    async fn run(mut self) -> ClientResult {
        let mut result = ClientResult {
            latencies: Vec::new(),
            errors: 0,
            written_keys: Vec::new(),
            first_error: None,
            server_timing: TimingSums::default(),
        };
        let get_start = if self.keys.is_empty() {
            0
        } else {
            self.client * self.keys.len() / self.config.clients.max(1)
        };
        let mut i: u64 = 0;
        while self.claim() {
            let key = match self.config.operation {
                Operation::Put => format!(
                    "{}/c{}-{}",
                    self.config.prefix,
                    self.client,
                    i % self.config.keys_per_client.max(1)
                ),
                Operation::Get => {
                    if self.keys.is_empty() {
                        result.first_error = Some("no objects to GET".into());
                        break;
                    }
                    self.keys[(get_start + i as usize) % self.keys.len()].clone()
                }
            };
            i += 1;
            let started = Instant::now();
            match self.one(&key).await {
                Ok(timing) => {
                    result.latencies.push(started.elapsed());
                    if let Some(t) = timing {
                        result.server_timing.add(&t);
                    }
                    self.done.fetch_add(1, Ordering::Relaxed);
                    if self.config.operation == Operation::Put
                        && i <= self.config.keys_per_client.max(1)
                    {
                        result.written_keys.push(key);
                    }
                }
                Err(message) => {
                    result.errors += 1;
                    result.first_error.get_or_insert(message);
                }
            }
        }
        result
    }

    /// One operation; its `Server-Timing`, if the server sent one.
    async fn one(&mut self, key: &str) -> Result<Option<ServerTiming>, String> {
        let path = format!("/{}/{}", self.config.bucket, key);
        let mut headers: Vec<(&str, &str)> = Vec::new();
        let (body, hash) = match self.config.operation {
            Operation::Put => {
                headers.push(("content-type", "application/octet-stream"));
                headers.extend(
                    self.config
                        .put_headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                );
                (self.payload.bytes.clone(), &*self.payload.sha256_hex)
            }
            Operation::Get => (Bytes::new(), EMPTY_SHA256),
        };
        let spec = RequestSpec {
            method: self.config.operation.name(),
            path: &path,
            query: "",
            service: "s3",
            headers: &headers,
            body,
            payload_hash: hash,
        };
        let keep_body = false;
        let answer = self
            .connection
            .send(&self.signer, &spec, keep_body)
            .await
            .map_err(|e| format!("{} {path}: {e}", spec.method))?;
        if !answer.status.is_success() {
            return Err(format!("{} {path}: HTTP {}", spec.method, answer.status));
        }
        if answer.server_side_encryption.as_deref() != self.config.expect_sse {
            return Err(format!(
                "{} {path}: x-amz-server-side-encryption {:?}, expected {:?}",
                spec.method, answer.server_side_encryption, self.config.expect_sse
            ));
        }
        if self.config.operation == Operation::Get && answer.body_len != self.config.object_size {
            return Err(format!(
                "GET {path}: {} bytes, expected {}",
                answer.body_len, self.config.object_size
            ));
        }
        Ok(answer
            .server_timing
            .as_deref()
            .and_then(ServerTiming::parse))
    }
}
