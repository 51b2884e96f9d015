//! What a client can hold before it has proven who it is: connections, requests whose
//! signature is not verified yet, and bodies that stop arriving.
//!
//! - A request body that goes idle for [`Limits::body_idle_timeout`] ends with S3's
//!   `RequestTimeout` (400) and the connection is closed, as S3 does
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>: "Your socket
//!   connection to the server was not read from or written to within the timeout period.
//!   Idle connections will be closed.").
//! - A response sent before the request body was read to its end closes the connection
//!   (`Connection: close`): the unread rest (or, after an unanswered
//!   `Expect: 100-continue`, the next request) must never be taken for the next request
//!   or for this body.
//! - Requests that read a body before their signature is verified (IAM, STS, KMS and
//!   Organizations, whose clients sign the body's hash without sending it, and anonymous
//!   S3 requests with a body) hold one of [`Limits::max_unauthenticated`] permits, and
//!   as much of [`Limits::unauthenticated_body_budget`] as their body may take in memory
//!   (its Content-Length, at most the API's cap: 1 MiB, or 4 MiB for S3 XML), while they
//!   read; past either they are answered 503 (`SlowDown` on S3, `ServiceUnavailable` on
//!   the other APIs), which SDKs retry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// S3's message for a body that stopped arriving.
pub const REQUEST_TIMEOUT_MESSAGE: &str = "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.";

/// The limits of `strongbox serve`.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Open connections at most; past it new connections are accepted and closed at once.
    pub max_connections: usize,
    /// Requests reading a body before their signature is verified, at most.
    pub max_unauthenticated: usize,
    /// Bytes those requests may announce in all (each counted up to its API's body cap).
    pub unauthenticated_body_budget: u64,
    /// How long a request body may send nothing.
    pub body_idle_timeout: Duration,
    /// How long a client may take to send a request head, and how long an idle
    /// keep-alive connection stays open (hyper's header read timeout starts when the
    /// connection waits for the next request).
    pub header_timeout: Duration,
}

/// `--max-connections` unless set.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 1024;
/// `--max-unauthenticated` unless set.
pub const DEFAULT_MAX_UNAUTHENTICATED: u32 = 64;
/// `--unauthenticated-body-budget` unless set.
pub const DEFAULT_UNAUTHENTICATED_BODY_BUDGET: &str = "64MiB";
/// The budget is counted in KiB.
const BUDGET_UNIT: u64 = 1024;

/// Room in memory a body of an unauthenticated request may take: its Content-Length,
/// at most `cap` (the API's limit); `cap` when the length is not announced (chunked).
pub fn body_weight(headers: &http::HeaderMap, cap: usize) -> u64 {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(cap as u64, |n| n.min(cap as u64))
}

/// The permits of the running server.
pub struct Gates {
    unauthenticated: Arc<Semaphore>,
    /// [`Limits::unauthenticated_body_budget`] in [`BUDGET_UNIT`]s.
    body_budget: Arc<Semaphore>,
}

/// Held while an unauthenticated request reads its body.
pub struct UnauthenticatedPermit {
    _request: OwnedSemaphorePermit,
    _bytes: OwnedSemaphorePermit,
}

impl Gates {
    pub fn new(limits: &Limits) -> Gates {
        let units = (limits.unauthenticated_body_budget / BUDGET_UNIT).max(1);
        Gates {
            unauthenticated: Arc::new(Semaphore::new(limits.max_unauthenticated)),
            body_budget: Arc::new(Semaphore::new(
                usize::try_from(units).unwrap_or(Semaphore::MAX_PERMITS),
            )),
        }
    }

    /// A permit to read a body of `weight` bytes (from [`body_weight`]) before the
    /// signature is verified, if both a request slot and that much budget are free.
    pub fn unauthenticated(&self, weight: u64) -> Option<UnauthenticatedPermit> {
        let request = self.unauthenticated.clone().try_acquire_owned().ok()?;
        let units = u32::try_from(weight.div_ceil(BUDGET_UNIT).max(1)).ok()?;
        let bytes = self
            .body_budget
            .clone()
            .try_acquire_many_owned(units)
            .ok()?;
        Some(UnauthenticatedPermit {
            _request: request,
            _bytes: bytes,
        })
    }
}

/// Why the next bytes of a request body could not be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyReadError {
    /// Nothing arrived for the idle timeout.
    #[error("{}", REQUEST_TIMEOUT_MESSAGE)]
    Idle,
    /// The connection failed or the framing was broken.
    #[error("The request body ended early or could not be read.")]
    Broken,
}

/// Whether a request's body has been read to its end, shared between the body and the
/// code that answers.
#[derive(Clone, Debug)]
pub struct BodyEnd(Arc<AtomicBool>);

impl BodyEnd {
    /// `true` once the body was read to its end (or was empty).
    pub fn reached(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn mark(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The request body as the handlers read it: every wait for more bytes is bounded by
/// the idle timeout, and reaching the end is recorded in a [`BodyEnd`].
pub struct RequestIncoming {
    inner: Incoming,
    idle_timeout: Duration,
    end: BodyEnd,
}

impl RequestIncoming {
    pub fn new(inner: Incoming, idle_timeout: Duration) -> RequestIncoming {
        let end = BodyEnd(Arc::new(AtomicBool::new(inner.is_end_stream())));
        RequestIncoming {
            inner,
            idle_timeout,
            end,
        }
    }

    /// The shared end-of-body flag.
    pub fn end(&self) -> BodyEnd {
        self.end.clone()
    }

    /// The body has no bytes (`Content-Length: 0` or none) or was read to its end.
    pub fn is_finished(&self) -> bool {
        self.end.reached()
    }

    /// The next frame; `None` at the end.
    pub async fn frame(&mut self) -> Option<Result<Frame<Bytes>, BodyReadError>> {
        if self.end.reached() {
            return None;
        }
        match tokio::time::timeout(self.idle_timeout, self.inner.frame()).await {
            Err(_) => Some(Err(BodyReadError::Idle)),
            Ok(None) => {
                self.end.mark();
                None
            }
            Ok(Some(Err(_))) => Some(Err(BodyReadError::Broken)),
            Ok(Some(Ok(frame))) => {
                if self.inner.is_end_stream() {
                    self.end.mark();
                }
                Some(Ok(frame))
            }
        }
    }
}

/// Descriptors kept free beyond the connections: the database, object files, the log.
#[cfg(unix)]
const SPARE_FILES: libc::rlim_t = 256;

/// Raises the soft limit on open files towards the hard limit when `max_connections`
/// connections (plus spare descriptors) would not fit, and warns when they still do not.
pub fn ensure_file_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        let wanted = libc::rlim_t::try_from(max_connections)
            .unwrap_or(libc::rlim_t::MAX)
            .saturating_add(SPARE_FILES);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed by reference.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return;
        }
        let current = limit.rlim_cur;
        if current >= wanted {
            return;
        }
        let raised = libc::rlimit {
            rlim_cur: wanted.min(limit.rlim_max),
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        let now = if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            raised.rlim_cur
        } else {
            current
        };
        if now < wanted {
            tracing::warn!(
                open_files = now,
                max_connections,
                "the open-file limit is below --max-connections plus {SPARE_FILES} spare; lower --max-connections or raise `ulimit -n`"
            );
        }
    }
}
