//! The client side: sign requests (SigV4 header, presigned URLs, SigV2) and build
//! aws-chunked bodies, for tests and load tools.

use http::{HeaderMap, HeaderValue};
use jiff::Timestamp;

use crate::checksum::ChecksumAlgorithm;
use crate::chunked::canonical_trailers;
use crate::crypto::{sha256_hex, signing_key};
use crate::encoding::{canonical_query, normalized_canonical_uri, uri_encode};
use crate::error::AuthError;
use crate::parse::{format_amz_date, format_http_date, RequestParts, V4_ALGORITHM};
use crate::payload::UNSIGNED_PAYLOAD;
use crate::verify::ChunkSigningContext;
use crate::{v2, v4};

/// Long-term or temporary credentials.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Credentials {
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Credentials {
        Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            session_token: None,
        }
    }
}

/// Who signs, for which region and service, at what time.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    pub time: Timestamp,
}

impl SigningParams<'_> {
    fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date(),
            self.region,
            self.service
        )
    }

    fn date(&self) -> String {
        format_amz_date(self.time)[..8].to_string()
    }

    fn key(&self) -> [u8; 32] {
        signing_key(
            &self.credentials.secret_access_key,
            &self.date(),
            self.region,
            self.service,
        )
    }

    fn canonical_uri(&self, path: &str) -> String {
        if self.service == "s3" {
            if path.is_empty() {
                "/".to_string()
            } else {
                path.to_string()
            }
        } else {
            normalized_canonical_uri(path)
        }
    }

    /// The context for signing aws-chunked chunks that follow a request signed with `seed_signature`.
    pub fn chunk_context(&self, seed_signature: &str) -> ChunkSigningContext {
        ChunkSigningContext {
            access_key_id: self.credentials.access_key_id.clone(),
            signing_key: self.key(),
            timestamp: format_amz_date(self.time),
            scope: self.scope(),
            seed_signature: seed_signature.to_string(),
        }
    }
}

/// Headers never signed (they may change in transit).
const UNSIGNED_HEADERS: &[&str] = &["authorization", "user-agent", "expect", "x-amzn-trace-id"];

fn header_value(s: &str) -> Result<HeaderValue, AuthError> {
    HeaderValue::from_str(s)
        .map_err(|_| AuthError::InvalidArgument(format!("invalid header value: {s}")))
}

/// Signs with the Authorization header: sets `x-amz-date`, `x-amz-content-sha256` (S3, or
/// whenever `payload_hash` is not a plain hash), `x-amz-security-token` and `Authorization`,
/// signing every header present (include `host`). `path` and `query` are as they will be
/// sent (percent-encoded). Returns the signature (the seed of an aws-chunked body).
pub fn sign_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &mut HeaderMap,
    payload_hash: &str,
    params: &SigningParams,
) -> Result<String, AuthError> {
    headers.remove(http::header::AUTHORIZATION);
    headers.insert("x-amz-date", header_value(&format_amz_date(params.time))?);
    if params.service == "s3" || payload_hash.len() != 64 {
        headers.insert("x-amz-content-sha256", header_value(payload_hash)?);
    }
    if let Some(token) = &params.credentials.session_token {
        headers.insert("x-amz-security-token", header_value(token)?);
    }
    let mut signed: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| !UNSIGNED_HEADERS.contains(&k.as_str()))
        .collect();
    signed.sort();
    signed.dedup();
    let creq = v4::canonical_request(
        method,
        &params.canonical_uri(path),
        &canonical_query(query, None),
        headers,
        &signed,
        payload_hash,
    );
    let sts = v4::string_to_sign(&format_amz_date(params.time), &params.scope(), &creq);
    let signature = v4::signature(&params.key(), &sts);
    let auth = format!(
        "{V4_ALGORITHM} Credential={}/{}, SignedHeaders={}, Signature={signature}",
        params.credentials.access_key_id,
        params.scope(),
        signed.join(";")
    );
    headers.insert(http::header::AUTHORIZATION, header_value(&auth)?);
    Ok(signature)
}

/// A presigned URL's query string (existing `query` plus the `X-Amz-*` parameters),
/// signing only `host`. S3 signs `UNSIGNED-PAYLOAD`, other services the empty body.
pub fn presign_query(
    method: &str,
    host: &str,
    path: &str,
    query: &str,
    expires_secs: i64,
    params: &SigningParams,
) -> String {
    let mut q = String::from(query);
    let mut add = |k: &str, v: &str| {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(k);
        q.push('=');
        q.push_str(&uri_encode(v.as_bytes(), false));
    };
    add("X-Amz-Algorithm", V4_ALGORITHM);
    add(
        "X-Amz-Credential",
        &format!("{}/{}", params.credentials.access_key_id, params.scope()),
    );
    add("X-Amz-Date", &format_amz_date(params.time));
    add("X-Amz-Expires", &expires_secs.to_string());
    add("X-Amz-SignedHeaders", "host");
    if let Some(token) = &params.credentials.session_token {
        add("X-Amz-Security-Token", token);
    }
    let mut headers = HeaderMap::new();
    if let Ok(h) = HeaderValue::from_str(host) {
        headers.insert(http::header::HOST, h);
    }
    let payload = if params.service == "s3" {
        UNSIGNED_PAYLOAD.to_string()
    } else {
        sha256_hex(b"")
    };
    let creq = v4::canonical_request(
        method,
        &params.canonical_uri(path),
        &canonical_query(&q, None),
        &headers,
        &["host".to_string()],
        &payload,
    );
    let sts = v4::string_to_sign(&format_amz_date(params.time), &params.scope(), &creq);
    let signature = v4::signature(&params.key(), &sts);
    format!("{q}&X-Amz-Signature={signature}")
}

/// The aws-chunked length of `data_len` payload bytes in chunks of `chunk_size` (for
/// `Content-Length`), with signatures when `signed` and an optional checksum trailer.
pub fn chunked_encoded_len(
    data_len: u64,
    chunk_size: u64,
    signed: bool,
    trailer: Option<ChecksumAlgorithm>,
) -> u64 {
    let chunk_size = chunk_size.max(1);
    let sig_ext = if signed { 17 + 64 } else { 0 };
    let header = |n: u64| format!("{n:x}").len() as u64 + sig_ext + 2;
    let full = data_len / chunk_size;
    let rest = data_len % chunk_size;
    let mut total = full * (header(chunk_size) + chunk_size + 2);
    if rest > 0 {
        total += header(rest) + rest + 2;
    }
    total += header(0);
    if let Some(a) = trailer {
        let b64_len = a.digest_len().div_ceil(3) * 4;
        total += (a.header_name().len() + 1 + b64_len + 2) as u64;
        if signed {
            total += 24 + 64 + 2;
        }
    }
    total + 2
}

/// Encodes `data` as a signed aws-chunked body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, or
/// `…-TRAILER` with a checksum trailer when `trailer` is set).
pub fn encode_chunked_signed(
    data: &[u8],
    chunk_size: usize,
    ctx: &ChunkSigningContext,
    trailer: Option<ChecksumAlgorithm>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 256);
    let mut previous = ctx.seed_signature.clone();
    let mut sign_chunk = |chunk: &[u8], out: &mut Vec<u8>| {
        let sts =
            v4::chunk_string_to_sign(&ctx.timestamp, &ctx.scope, &previous, &sha256_hex(chunk));
        let signature = v4::signature(&ctx.signing_key, &sts);
        out.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        out.extend_from_slice(chunk);
        if !chunk.is_empty() {
            out.extend_from_slice(b"\r\n");
        }
        previous = signature;
    };
    for chunk in data.chunks(chunk_size.max(1)) {
        sign_chunk(chunk, &mut out);
    }
    sign_chunk(&[], &mut out);
    if let Some(a) = trailer {
        let trailers = vec![(a.header_name().to_string(), a.checksum_base64(data))];
        let canonical = canonical_trailers(&trailers);
        let sts = v4::trailer_string_to_sign(&ctx.timestamp, &ctx.scope, &previous, &canonical);
        let signature = v4::signature(&ctx.signing_key, &sts);
        for (k, v) in &trailers {
            out.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Encodes `data` as `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (what current SDKs send by default).
pub fn encode_chunked_unsigned(
    data: &[u8],
    chunk_size: usize,
    trailer: Option<ChecksumAlgorithm>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    for chunk in data.chunks(chunk_size.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    if let Some(a) = trailer {
        out.extend_from_slice(
            format!("{}:{}\r\n", a.header_name(), a.checksum_base64(data)).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// SigV2-signs a request: sets `Date` (unless a `Date` or `x-amz-date` header is present)
/// and `Authorization: AWS AKID:sig`. `virtual_host_bucket` as in [`RequestParts`].
pub fn sign_v2(
    method: &str,
    path: &str,
    query: &str,
    headers: &mut HeaderMap,
    virtual_host_bucket: Option<&str>,
    credentials: &Credentials,
    time: Timestamp,
) -> Result<String, AuthError> {
    if !headers.contains_key("date") && !headers.contains_key("x-amz-date") {
        headers.insert(http::header::DATE, header_value(&format_http_date(time))?);
    }
    if let Some(token) = &credentials.session_token {
        headers.insert("x-amz-security-token", header_value(token)?);
    }
    let date = if headers.contains_key("x-amz-date") {
        String::new()
    } else {
        headers
            .get("date")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let parts = RequestParts {
        method,
        raw_path: path,
        query: &crate::query::Query::parse(query),
        headers,
        virtual_host_bucket,
        body: None,
    };
    let signature = v2::signature(
        &credentials.secret_access_key,
        &v2::string_to_sign(&parts, &date, false),
    );
    headers.insert(
        http::header::AUTHORIZATION,
        header_value(&format!("AWS {}:{signature}", credentials.access_key_id))?,
    );
    Ok(signature)
}

/// A SigV2 presigned URL's query string (`AWSAccessKeyId`, `Expires`, `Signature` appended
/// to `query`); `expires` is seconds since the epoch.
pub fn presign_v2_query(
    method: &str,
    path: &str,
    query: &str,
    virtual_host_bucket: Option<&str>,
    credentials: &Credentials,
    expires: i64,
) -> String {
    let headers = HeaderMap::new();
    let mut q = String::from(query);
    if let Some(token) = &credentials.session_token {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str("x-amz-security-token=");
        q.push_str(&uri_encode(token.as_bytes(), false));
    }
    let parts = RequestParts {
        method,
        raw_path: path,
        query: &crate::query::Query::parse(&q),
        headers: &headers,
        virtual_host_bucket,
        body: None,
    };
    let signature = v2::signature(
        &credentials.secret_access_key,
        &v2::string_to_sign(&parts, &expires.to_string(), true),
    );
    if !q.is_empty() {
        q.push('&');
    }
    format!(
        "{q}AWSAccessKeyId={}&Expires={expires}&Signature={}",
        uri_encode(credentials.access_key_id.as_bytes(), false),
        uri_encode(signature.as_bytes(), false)
    )
}
