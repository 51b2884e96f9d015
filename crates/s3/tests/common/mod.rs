//! Test harness: an S3Service over a temp dir, requests built in memory, and
//! an authorizer that allows the bucket owner's account and denies the rest.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use strongbox_core::db::Db;
use strongbox_core::{Caller, DenialKind, Denied, RequestMeta};
use strongbox_s3::{RequestBody, S3Access, S3Check, S3Request, S3Service};

pub const OWNER: &str = "111111111111";
pub const OTHER: &str = "222222222222";

/// Allows a caller whose account owns the bucket (or, for account-level
/// operations, any signed caller); `no_list` accounts are refused s3:ListBucket.
pub struct OwnerAccess {
    pub no_list: Vec<String>,
}

impl S3Access for OwnerAccess {
    fn authorize(
        &self,
        caller: &Caller,
        _meta: &RequestMeta,
        check: &S3Check<'_>,
    ) -> Result<(), Denied> {
        let deny = || Denied {
            kind: DenialKind::NoAllowIdentityPolicy,
            message: format!(
                "User: {} is not authorized to perform: {}",
                caller.arn, check.action
            ),
            detailed: true,
        };
        if caller.is_anonymous() {
            return Err(deny());
        }
        if check.action == "s3:ListBucket" && self.no_list.contains(&caller.account_id) {
            return Err(deny());
        }
        match check.bucket {
            Some(b) if b.owner_account != caller.account_id => Err(deny()),
            _ => Ok(()),
        }
    }

    fn canonical_user_id(&self, account_id: &str) -> Option<String> {
        Some(format!("canon{account_id}"))
    }

    fn account_exists_for_canonical_id(&self, canonical_id: &str) -> Option<String> {
        canonical_id.strip_prefix("canon").map(str::to_string)
    }

    fn principal_exists(&self, principal: &str) -> bool {
        !principal.contains("ghost")
    }
}

pub struct Harness {
    pub svc: S3Service,
    pub dir: PathBuf,
    pub access: Arc<OwnerAccess>,
    pub db: Arc<Db>,
    _cleanup: Arc<DirGuard>,
}

/// Removes the test's data dir when the last harness over it is dropped.
pub struct DirGuard(pub PathBuf);

impl Drop for DirGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sbs3-{name}-{}",
        strongbox_core::ids::random_hex(6)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl Harness {
    pub fn new(name: &str) -> Harness {
        Harness::with_region(name, "us-east-1")
    }

    pub fn with_region(name: &str, region: &str) -> Harness {
        let dir = temp_dir(name);
        let db = Arc::new(Db::open(&dir.join("meta.db")).unwrap());
        let guard = Arc::new(DirGuard(dir.clone()));
        Harness::open(dir, db, region, guard)
    }

    pub fn open(dir: PathBuf, db: Arc<Db>, region: &str, guard: Arc<DirGuard>) -> Harness {
        let svc = S3Service::open(db.clone(), &dir, region).unwrap();
        Harness {
            svc,
            dir,
            access: Arc::new(OwnerAccess { no_list: vec![] }),
            db,
            _cleanup: guard,
        }
    }

    /// The same harness as the benchmark's plaintext baseline (SSE-S3 stores plaintext).
    pub fn with_plaintext_sse_s3(self) -> Harness {
        Harness {
            svc: self.svc.with_plaintext_sse_s3_for_benchmarks(),
            ..self
        }
    }

    /// The same harness accepting SSE-C on requests without TLS (`serve --allow-sse-c-over-http`).
    pub fn with_sse_c_over_http_allowed(self) -> Harness {
        Harness {
            svc: self.svc.with_sse_c_over_http_allowed(),
            ..self
        }
    }

    /// The same harness with data keys for SSE-S3 and SSE-KMS.
    pub fn with_sse_keys(self, keys: Arc<dyn strongbox_s3::SseKeys>) -> Harness {
        let Harness {
            svc,
            dir,
            access,
            db,
            _cleanup,
        } = self;
        Harness {
            svc: svc.with_sse_keys(keys),
            dir,
            access,
            db,
            _cleanup,
        }
    }

    /// Reopens the service over the same data dir and database file (a restart).
    pub fn reopen(self) -> Harness {
        let Harness {
            svc,
            dir,
            db,
            _cleanup,
            ..
        } = self;
        drop(svc);
        drop(db);
        let db = Arc::new(Db::open(&dir.join("meta.db")).unwrap());
        Harness::open(dir, db, "us-east-1", _cleanup)
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }
}

/// A request under construction.
pub struct Req {
    pub method: Method,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub account: Option<String>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure: bool,
}

pub fn req(method: &str, bucket: Option<&str>, key: Option<&str>) -> Req {
    Req {
        method: method.parse().unwrap(),
        bucket: bucket.map(str::to_string),
        key: key.map(str::to_string),
        query: Vec::new(),
        headers: HeaderMap::new(),
        body: Vec::new(),
        account: Some(OWNER.to_string()),
        secure: false,
    }
}

impl Req {
    pub fn q(mut self, k: &str, v: &str) -> Req {
        self.query.push((k.to_string(), v.to_string()));
        self
    }

    pub fn h(mut self, k: &str, v: &str) -> Req {
        self.headers.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
        self
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Req {
        self.body = b.into();
        self
    }

    pub fn by(mut self, a: &str) -> Req {
        self.account = Some(a.to_string());
        self
    }

    /// Marks the request as received over TLS.
    pub fn over_tls(mut self) -> Req {
        self.secure = true;
        self
    }

    pub fn anonymous(mut self) -> Req {
        self.account = None;
        self
    }

    /// Sends the request; the body arrives in several chunks.
    pub async fn send(self, h: &Harness) -> Resp {
        let caller = match &self.account {
            Some(a) => Caller::root(a, None),
            None => Caller::anonymous(),
        };
        let canonical = self
            .account
            .as_ref()
            .map(|a| format!("canon{a}"))
            .unwrap_or_default();
        let len = self.body.len() as u64;
        let chunks: Vec<Result<Bytes, strongbox_s3::BodyError>> = self
            .body
            .chunks(64 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let body = RequestBody {
            stream: Box::pin(futures_util::stream::iter(chunks)),
            trailers: Default::default(),
            decoded_length: Some(len),
        };
        let mut meta = RequestMeta::local(&strongbox_core::ids::request_id(), h.svc.region());
        meta.secure_transport = self.secure;
        let request = S3Request {
            meta,
            caller,
            canonical_user_id: canonical,
            method: self.method,
            bucket: self.bucket,
            key: self.key,
            query: self.query,
            headers: self.headers,
            body,
            access: h.access.clone(),
        };
        let resp = h.svc.handle(request).await;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub async fn control(self, h: &Harness) -> Resp {
        let caller = Caller::root(self.account.as_deref().unwrap_or(OWNER), None);
        let request = S3Request {
            meta: RequestMeta::local("REQ", h.svc.region()),
            caller,
            canonical_user_id: String::new(),
            method: self.method,
            bucket: None,
            key: self.key,
            query: self.query,
            headers: self.headers,
            body: RequestBody::from_bytes(self.body),
            access: h.access.clone(),
        };
        let resp = h.svc.handle_control(request).await;
        let (parts, body) = resp.into_parts();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap(),
        }
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `<Code>` of an S3 error body.
    pub fn code(&self) -> String {
        between(&self.text(), "<Code>", "</Code>").unwrap_or_default()
    }

    #[track_caller]
    pub fn assert(&self, status: u16) -> &Resp {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        self
    }

    #[track_caller]
    pub fn assert_err(&self, status: u16, code: &str) -> &Resp {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(self.code(), code, "body: {}", self.text());
        assert!(self.header("x-amz-request-id").is_some());
        assert_eq!(self.header("content-type"), Some("application/xml"));
        self
    }

    /// All texts of `<tag>` elements, in order.
    pub fn all(&self, tag: &str) -> Vec<String> {
        let text = self.text();
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let mut out = Vec::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find(&open) {
            rest = &rest[i + open.len()..];
            if let Some(j) = rest.find(&close) {
                out.push(rest[..j].to_string());
                rest = &rest[j + close.len()..];
            }
        }
        out
    }

    pub fn first(&self, tag: &str) -> Option<String> {
        self.all(tag).into_iter().next()
    }
}

pub fn between(s: &str, a: &str, b: &str) -> Option<String> {
    let i = s.find(a)? + a.len();
    let j = s[i..].find(b)? + i;
    Some(s[i..j].to_string())
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    strongbox_core::ids::hex(&md5::Md5::digest(data))
}

pub fn md5_b64(data: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(data))
}

pub async fn make_bucket(h: &Harness, name: &str) {
    req("PUT", Some(name), None).send(h).await.assert(200);
}

pub async fn put(h: &Harness, bucket: &str, key: &str, data: &[u8]) -> Resp {
    req("PUT", Some(bucket), Some(key))
        .body(data.to_vec())
        .send(h)
        .await
}

pub async fn get(h: &Harness, bucket: &str, key: &str) -> Resp {
    req("GET", Some(bucket), Some(key)).send(h).await
}
