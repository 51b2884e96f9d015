//! strongbox-s3: the S3 API over [`strongbox_store`].
//!
//! The server authenticates a request, resolves the caller and the bucket/key,
//! and calls [`S3Service::handle`] (or [`S3Service::handle_control`] for S3
//! Control). This crate parses the request, authorizes it through
//! [`S3Access`] (in [`authorization`], one table), runs the operation and
//! renders the XML response or the S3 error.

pub mod access_log;
pub mod acl;
pub mod authorization;
pub mod bodies;
pub mod body;
mod completed;
pub mod conditional;
pub mod config;
pub mod cors;
pub mod dates;
pub mod error;
pub mod headers;
pub mod lifecycle;
pub mod names;
pub mod object_lock;
mod ops;
pub mod post_policy;
pub mod range;
mod response;
mod router;
pub mod sse;
pub mod tags;
pub mod xml;

use std::path::Path;
use std::sync::Arc;

use strongbox_core::db::Db;
use strongbox_core::{Caller, RequestMeta};
use strongbox_store::Store;

pub use authorization::{BucketInfo, ObjectInfo, RuleDenial, S3Access, S3Check};
pub use body::{BodyError, RequestBody, S3Body};
pub use error::S3Error;
pub use ops::MAX_XML_BODY;
pub use response::host_id;
pub use sse::SseKeys;

/// One S3 request, authenticated and addressed by the server.
pub struct S3Request {
    pub meta: RequestMeta,
    pub caller: Caller,
    /// Canonical user id of the caller's account (`""` for anonymous callers).
    pub canonical_user_id: String,
    pub method: http::Method,
    /// Bucket and key, decoded.
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    pub headers: http::HeaderMap,
    pub body: RequestBody,
    pub access: Arc<dyn S3Access>,
}

impl S3Request {
    /// A header value as text (`None` when absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// Whether a query parameter is present (with or without a value).
    pub fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
}

/// The S3 service of one region.
pub struct S3Service {
    store: Arc<Store>,
    region: String,
    /// Data keys for SSE-S3 and SSE-KMS; without them objects are stored
    /// unencrypted unless the request uses SSE-C.
    sse_keys: Option<Arc<dyn SseKeys>>,
    /// Benchmark baseline: SSE-S3 (requested or by default) stores plaintext.
    plaintext_sse_s3: bool,
    /// Recently completed multipart uploads, for retried completions.
    completed: completed::CompletedUploads,
    /// Local development only: accept SSE-C headers on plain HTTP.
    sse_c_over_http: bool,
    /// The lifecycle clock and cached configurations.
    lifecycle: lifecycle::Lifecycle,
    /// Server access log records waiting for delivery.
    access_logs: Arc<access_log::AccessLogs>,
}

impl S3Service {
    /// Opens the store under `data_dir` with metadata in `db`, sweeping files a crash left behind.
    pub fn open(db: Arc<Db>, data_dir: &Path, region: &str) -> Result<S3Service, S3Error> {
        let store = Store::open(db, data_dir)?;
        Ok(S3Service {
            store: Arc::new(store),
            region: region.to_string(),
            sse_keys: None,
            plaintext_sse_s3: false,
            completed: completed::CompletedUploads::default(),
            sse_c_over_http: false,
            lifecycle: lifecycle::Lifecycle::default(),
            access_logs: Arc::default(),
        })
    }

    /// Encrypts every object with SSE-S3 by default and enables SSE-KMS, with keys from `keys`.
    pub fn with_sse_keys(mut self, keys: Arc<dyn SseKeys>) -> S3Service {
        self.sse_keys = Some(keys);
        self
    }

    /// For measuring the cost of encryption only: objects that would be SSE-S3
    /// encrypted are stored in plaintext (and answered without an SSE header), as
    /// without key source. SSE-KMS and SSE-C still encrypt.
    pub fn with_plaintext_sse_s3_for_benchmarks(mut self) -> S3Service {
        self.plaintext_sse_s3 = true;
        self
    }

    /// Accepts SSE-C headers on plain HTTP, which S3 refuses (customer keys
    /// would travel in clear): for local development only
    /// (`serve --allow-sse-c-over-http`).
    pub fn with_sse_c_over_http_allowed(mut self) -> S3Service {
        self.sse_c_over_http = true;
        self
    }

    /// Makes a lifecycle "day" last `seconds` (tests; AWS's day is 86,400 s).
    pub fn with_lifecycle_day_seconds(mut self, seconds: u64) -> S3Service {
        self.lifecycle = lifecycle::Lifecycle::new(lifecycle::Clock::with_day_seconds(seconds));
        self
    }

    /// Starts the lifecycle worker: a pass over every bucket with a lifecycle
    /// configuration every `interval` (needs a Tokio runtime).
    pub fn spawn_lifecycle_worker(&self, interval: std::time::Duration) {
        lifecycle::worker::spawn(self.store.clone(), self.lifecycle.clock, interval);
    }

    /// Starts the server access log delivery worker: every `interval` the
    /// buffered records of each logged bucket become one object in its target bucket.
    pub fn spawn_access_log_worker(&self, interval: std::time::Duration) {
        let keys = self.sse_keys.clone().filter(|_| !self.plaintext_sse_s3);
        access_log::spawn_worker(self.store.clone(), self.access_logs.clone(), keys, interval);
    }

    /// Runs one lifecycle pass now (benchmarks, tests).
    pub fn run_lifecycle_pass(&self) -> Result<lifecycle::worker::PassReport, S3Error> {
        Ok(lifecycle::worker::run_pass(
            &self.store,
            &self.lifecycle.clock,
            jiff::Timestamp::now(),
        )?)
    }

    /// Handles an S3 API request. Never panics on bad input; every response
    /// carries `x-amz-request-id` and `x-amz-id-2`.
    pub async fn handle(&self, mut req: S3Request) -> http::Response<S3Body> {
        let head = req.method == http::Method::HEAD;
        // `/bucket/` addresses the bucket, not an object with an empty key.
        if req.key.as_deref() == Some("") {
            req.key = None;
        }
        let resource = response::resource_of(&req);
        let refused = headers::refuse_repeated(&req.headers).and_then(|()| {
            sse::refuse_customer_keys_in_clear(&req, self.sse_c_over_http).map_err(Into::into)
        });
        let result = match refused {
            Ok(()) => self.dispatch(&mut req).await,
            Err(f) => Err(f),
        };
        let (resp, error_code) = response::answer(&req, result, &resource, head);
        self.record_access(&req, &resp, error_code.as_deref());
        resp
    }

    /// Handles an S3 Control request (account-level Block Public Access).
    /// The server may pass the request path in `key` (e.g.
    /// `/v20180820/configuration/publicAccessBlock`); `key: None` addresses the
    /// public access block. The account is the `x-amz-account-id` header.
    pub async fn handle_control(&self, mut req: S3Request) -> http::Response<S3Body> {
        let head = req.method == http::Method::HEAD;
        let resource = req.key.clone().unwrap_or_default();
        let result = match headers::refuse_repeated(&req.headers) {
            Ok(()) => self.control(&mut req).await,
            Err(f) => Err(f),
        };
        let resp = match result {
            Ok(r) => r,
            Err(f) => response::error(&f, &resource, &req.meta.request_id, head),
        };
        response::finish(resp, &req.meta.request_id)
    }

    /// The region this service answers for.
    pub fn region(&self) -> &str {
        &self.region
    }
}
