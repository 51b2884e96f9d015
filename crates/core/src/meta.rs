//! Facts about one request that do not depend on the operation.

use std::net::IpAddr;

/// Request-wide facts, gathered once by the server, that feed global condition
/// keys (`aws:SourceIp`, `aws:SecureTransport`, …) and the decision record.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RequestMeta {
    /// The `x-amz-request-id` of this request.
    pub request_id: String,
    /// The region this server answers for.
    pub region: String,
    pub source_ip: Option<IpAddr>,
    pub secure_transport: bool,
    /// `s3:TlsVersion` (`1.2`, `1.3`) over HTTPS.
    pub tls_version: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    /// When the request arrived.
    pub received_at: jiff::Timestamp,
    /// `s3:signatureversion`: `AWS4-HMAC-SHA256` or `AWS` (SigV2); `None` when unsigned.
    pub signature_version: Option<String>,
    /// `s3:authType`: `REST-HEADER` or `REST-QUERY-STRING`.
    pub auth_type: Option<String>,
    /// `s3:signatureAge` in milliseconds.
    pub signature_age_ms: Option<i64>,
    /// `s3:x-amz-content-sha256` as sent.
    pub content_sha256: Option<String>,
}

impl RequestMeta {
    /// Metadata for work that did not come over HTTP (command-line tools, tests).
    pub fn local(request_id: &str, region: &str) -> RequestMeta {
        RequestMeta {
            request_id: request_id.to_string(),
            region: region.to_string(),
            source_ip: None,
            secure_transport: false,
            tls_version: None,
            user_agent: None,
            referer: None,
            received_at: jiff::Timestamp::now(),
            signature_version: None,
            auth_type: None,
            signature_age_ms: None,
            content_sha256: None,
        }
    }
}
