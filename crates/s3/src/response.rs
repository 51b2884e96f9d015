//! Building responses: common headers, XML bodies and S3 error documents.

use aws_lc_rs::digest;
use base64::Engine as _;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use strongbox_core::AwsError;

use crate::body::S3Body;
use crate::error::Failure;
use crate::xml::escape;
use crate::S3Request;

/// A response under construction.
pub struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: S3Body,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            headers: Vec::new(),
            body: S3Body::empty(),
        }
    }

    pub fn ok() -> Reply {
        Reply::new(200)
    }

    pub fn no_content() -> Reply {
        Reply::new(204)
    }

    /// An XML body (`application/xml`).
    pub fn xml(mut self, doc: String) -> Reply {
        self = self.header("content-type", "application/xml");
        self = self.header("content-length", &doc.len().to_string());
        self.body = S3Body::full(doc);
        self
    }

    pub fn body(mut self, body: S3Body) -> Reply {
        self.body = body;
        self
    }

    /// Adds a header; values that are not valid header text are dropped (with a log).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        // from_bytes keeps stored UTF-8 text (obs-text bytes) exactly as it was sent.
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            (Ok(n), Ok(v)) => self.headers.push((n, v)),
            _ => tracing::debug!(name, "dropping a header that cannot be sent"),
        }
        self
    }

    pub fn opt_header(self, name: &str, value: Option<&str>) -> Reply {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    pub fn build(self) -> Response<S3Body> {
        let mut resp = Response::new(self.body);
        *resp.status_mut() = self.status;
        for (n, v) in self.headers {
            resp.headers_mut().append(n, v);
        }
        resp
    }
}

/// `x-amz-id-2`: an opaque host id derived from the request id.
pub fn host_id(request_id: &str) -> String {
    let d = digest::digest(&digest::SHA256, request_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(d.as_ref())
}

/// The finished answer to `req` from its handler's `result`, and the AWS error code of
/// a failure (for the server access log): a failure names the request's bucket and is
/// rendered as S3's XML error for `resource`.
pub fn answer(
    req: &S3Request,
    result: Result<Response<S3Body>, Failure>,
    resource: &str,
    head: bool,
) -> (Response<S3Body>, Option<String>) {
    let (resp, error_code) = match result {
        Ok(r) => (r, None),
        Err(f) => {
            let f = f.naming_the_bucket(req.bucket.as_deref());
            let code = f.error.code().to_string();
            (error(&f, resource, &req.meta.request_id, head), Some(code))
        }
    };
    (finish(resp, &req.meta.request_id), error_code)
}

/// Adds the headers every response carries.
pub fn finish(mut resp: Response<S3Body>, request_id: &str) -> Response<S3Body> {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amz-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&host_id(request_id)) {
        h.insert("x-amz-id-2", v);
    }
    if !h.contains_key("content-length")
        && !h.contains_key("transfer-encoding")
        && resp.status() != StatusCode::NOT_MODIFIED
    {
        if let Some(len) = http_body::Body::size_hint(resp.body()).exact() {
            if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
                resp.headers_mut().insert("content-length", v);
            }
        }
    }
    resp
}

/// The `<Resource>` of an error: `/bucket/key`.
pub fn resource_of(req: &S3Request) -> String {
    match (&req.bucket, &req.key) {
        (Some(b), Some(k)) => format!("/{b}/{k}"),
        (Some(b), None) => format!("/{b}"),
        _ => "/".to_string(),
    }
}

/// An S3 error response (no body for HEAD).
pub fn error(f: &Failure, resource: &str, request_id: &str, head: bool) -> Response<S3Body> {
    let status = f.error.status();
    let mut reply = Reply::new(status);
    for (n, v) in &f.headers {
        reply = reply.header(n, v);
    }
    if status == 304 {
        return reply.build();
    }
    if head {
        return reply.build();
    }
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    s.push_str(&format!(
        "<Code>{}</Code><Message>{}</Message>",
        escape(f.error.code()),
        escape(&f.error.message())
    ));
    for (name, value) in &f.extra {
        s.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    }
    s.push_str(&format!(
        "<Resource>{}</Resource><RequestId>{}</RequestId><HostId>{}</HostId></Error>",
        escape(resource),
        escape(request_id),
        host_id(request_id)
    ));
    reply.xml(s).build()
}
