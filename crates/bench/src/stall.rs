//! `strongbox-bench stall`: what stalled, unauthenticated requests cost the server.
//!
//! Opens N connections that each send a request head and most of a body, then stop
//! sending, as an attacker holding the server's memory and descriptors would: half are
//! IAM `POST /` signed with a made-up access key (1 MiB body announced), half anonymous
//! S3 `PUT /BUCKET` CreateBucket calls (4 MiB XML body announced). While they are held it
//! reads the server's resident memory (`VmRSS`, and the peak `VmHWM`, of
//! `/proc/PID/status`) and checks that a signed PUT and GET still succeed, and how long
//! they take.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use jiff::Timestamp;
use strongbox_sigv4::crypto::sha256_hex;
use strongbox_sigv4::sign::{sign_request, Credentials, SigningParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::{Connection, Endpoint, RequestSpec, Signer};

/// What one stalled connection sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallKind {
    /// IAM `POST /` signed with an access key the server does not know.
    MadeUpKey,
    /// S3 CreateBucket without any signature.
    Anonymous,
}

impl StallKind {
    fn name(self) -> &'static str {
        match self {
            StallKind::MadeUpKey => "made-up key (IAM, 1 MiB body)",
            StallKind::Anonymous => "no signature (S3 XML, 4 MiB body)",
        }
    }

    /// The announced body length; all but its last byte is sent.
    fn content_length(self) -> usize {
        match self {
            StallKind::MadeUpKey => 1 << 20,
            StallKind::Anonymous => 4 << 20,
        }
    }
}

/// How one stalled connection ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Still open, no answer, when the hold ended.
    Held,
    /// The server answered with this status (and may have closed).
    Answered(u16),
    /// Closed or reset by the server without an answer.
    Closed,
    /// The connection could not be opened.
    ConnectFailed,
}

/// The settings of a stall run.
pub struct StallConfig {
    pub connections: usize,
    pub hold: Duration,
    pub region: String,
    pub bucket: String,
}

/// Counts of outcomes for one kind.
#[derive(Default, Debug)]
struct Tally {
    held: usize,
    closed: usize,
    connect_failed: usize,
    answered: std::collections::BTreeMap<u16, usize>,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Held => self.held += 1,
            Outcome::Closed => self.closed += 1,
            Outcome::ConnectFailed => self.connect_failed += 1,
            Outcome::Answered(status) => *self.answered.entry(status).or_default() += 1,
        }
    }

    fn describe(&self) -> String {
        let answered: Vec<String> = self
            .answered
            .iter()
            .map(|(status, n)| format!("{n} × HTTP {status}"))
            .collect();
        format!(
            "{} held open, {} answered ({}), {} closed without an answer, {} could not connect",
            self.held,
            self.answered.values().sum::<usize>(),
            if answered.is_empty() {
                "-".to_string()
            } else {
                answered.join(", ")
            },
            self.closed,
            self.connect_failed
        )
    }
}

/// The server's `VmRSS` and `VmHWM` in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn format_memory(memory: Option<(u64, u64)>) -> String {
    match memory {
        Some((rss, peak)) => format!("RSS {} MiB (peak {} MiB)", rss / 1024, peak / 1024),
        None => "RSS unknown (no /proc/PID/status)".to_string(),
    }
}

/// The head of one stalled request.
fn stalled_head(kind: StallKind, endpoint: &Endpoint, region: &str, n: usize) -> Option<Vec<u8>> {
    let length = kind.content_length();
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, endpoint.host.parse().ok()?);
    headers.insert(http::header::CONTENT_LENGTH, length.into());
    let (method, path) = match kind {
        StallKind::MadeUpKey => {
            headers.insert(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded".parse().ok()?,
            );
            let credentials = Credentials::new(
                &format!("AKIASTALL{n:011}"),
                "stallSecretKey000000000000000000000000000",
            );
            let params = SigningParams {
                credentials: &credentials,
                region,
                service: "iam",
                time: Timestamp::now(),
            };
            // The hash of a body that never arrives: the server must refuse the key first.
            let hash = sha256_hex(format!("stall {n}").as_bytes());
            sign_request("POST", "/", "", &mut headers, &hash, &params).ok()?;
            ("POST", "/".to_string())
        }
        StallKind::Anonymous => ("PUT", format!("/strongbox-stall-{n}")),
    };
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().ok()?));
    }
    head.push_str("\r\n");
    Some(head.into_bytes())
}

/// Opens one connection, sends the head and all but the last byte of the body, and
/// holds it until `until`, noting whether the server answers or closes.
async fn stall_one(endpoint: Endpoint, head: Vec<u8>, body_len: usize, until: Instant) -> Outcome {
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(endpoint.addr)).await
    else {
        return Outcome::ConnectFailed;
    };
    let body = vec![b'a'; body_len.saturating_sub(1)];
    let sending = async {
        stream.write_all(&head).await?;
        stream.write_all(&body).await?;
        stream.flush().await
    };
    let remaining = until.saturating_duration_since(Instant::now());
    // A server that reads nothing more leaves the rest in the socket buffers; the
    // write then waits, which is part of holding.
    let _ = tokio::time::timeout(remaining, sending).await;
    let mut answer = [0u8; 64];
    let remaining = until.saturating_duration_since(Instant::now());
    match tokio::time::timeout(remaining, stream.read(&mut answer)).await {
        Err(_) => Outcome::Held,
        Ok(Ok(0)) | Ok(Err(_)) => Outcome::Closed,
        Ok(Ok(n)) => {
            let text = String::from_utf8_lossy(&answer[..n]);
            text.split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .map_or(Outcome::Closed, Outcome::Answered)
        }
    }
}

/// A signed 4 KiB PUT and GET while the stalled connections are held: whether both
/// succeeded, and how long they took.
async fn signed_probe(endpoint: &Endpoint, signer: &Signer, bucket: &str) -> String {
    let started = Instant::now();
    let body = Bytes::from(vec![b's'; 4096]);
    let hash = sha256_hex(&body);
    let path = format!("/{bucket}/stall-probe");
    let attempt = async {
        let mut connection = Connection::open(endpoint.clone()).await?;
        let put = RequestSpec {
            method: "PUT",
            path: &path,
            query: "",
            service: "s3",
            headers: &[],
            body: body.clone(),
            payload_hash: &hash,
        };
        let put = connection.send(signer, &put, false).await?;
        let get = RequestSpec {
            method: "GET",
            path: &path,
            query: "",
            service: "s3",
            headers: &[],
            body: Bytes::new(),
            payload_hash: strongbox_sigv4::crypto::EMPTY_SHA256,
        };
        let get = connection.send(signer, &get, true).await?;
        Ok::<_, crate::client::ClientError>((put.status, get.status, get.body))
    };
    match tokio::time::timeout(Duration::from_secs(30), attempt).await {
        Err(_) => "signed PUT+GET: no answer within 30 s".to_string(),
        Ok(Err(e)) => format!("signed PUT+GET: failed ({e})"),
        Ok(Ok((put, get, got))) => {
            let ok = put.is_success() && get.is_success() && got.as_deref() == Some(&body[..]);
            format!(
                "signed PUT+GET: {} (PUT {}, GET {}) in {} ms",
                if ok { "succeeded" } else { "FAILED" },
                put.as_u16(),
                get.as_u16(),
                started.elapsed().as_millis()
            )
        }
    }
}

/// Runs the stall measurement and returns its report (Markdown lines).
pub async fn run(
    endpoint: &Endpoint,
    signer: &Signer,
    server_pid: Option<u32>,
    config: &StallConfig,
) -> Result<String, String> {
    let mut control = Connection::open(endpoint.clone())
        .await
        .map_err(|e| format!("connecting to {}: {e}", endpoint.host))?;
    crate::setup::create_bucket(&mut control, signer, &config.bucket)
        .await
        .map_err(|e| e.to_string())?;
    drop(control);
    let memory = || server_pid.and_then(memory_kib);
    let before = memory();
    let baseline = signed_probe(endpoint, signer, &config.bucket).await;

    let opened_at = Instant::now();
    let until = opened_at + config.hold;
    let mut tasks = Vec::with_capacity(config.connections);
    for n in 0..config.connections {
        let kind = if n % 2 == 0 {
            StallKind::MadeUpKey
        } else {
            StallKind::Anonymous
        };
        let head = stalled_head(kind, endpoint, &config.region, n)
            .ok_or("building a stalled request head")?;
        let task = tokio::spawn(stall_one(
            endpoint.clone(),
            head,
            kind.content_length(),
            until,
        ));
        tasks.push((kind, task));
    }
    // Let the server take in what was sent, then look while everything is held.
    tokio::time::sleep((config.hold / 2).min(Duration::from_secs(5))).await;
    let during = memory();
    let probe = signed_probe(endpoint, signer, &config.bucket).await;
    let mut made_up = Tally::default();
    let mut anonymous = Tally::default();
    for (kind, task) in tasks {
        let outcome = task.await.unwrap_or(Outcome::ConnectFailed);
        match kind {
            StallKind::MadeUpKey => made_up.add(outcome),
            StallKind::Anonymous => anonymous.add(outcome),
        }
    }
    let after = memory();
    Ok([
        format!(
            "stall: {} connections held for {} s ({} s after the last was opened)",
            config.connections,
            config.hold.as_secs(),
            until.saturating_duration_since(opened_at).as_secs()
        ),
        format!("- server before: {}", format_memory(before)),
        format!("- before stalling: {baseline}"),
        format!("- server while held: {}", format_memory(during)),
        format!("- while held: {probe}"),
        format!("- server at the end: {}", format_memory(after)),
        format!("- {}: {}", StallKind::MadeUpKey.name(), made_up.describe()),
        format!(
            "- {}: {}",
            StallKind::Anonymous.name(),
            anonymous.describe()
        ),
    ]
    .join("\n"))
}
