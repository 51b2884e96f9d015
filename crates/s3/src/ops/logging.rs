//! Put/GetBucketLogging, and the access log record of each request.
//!
//! API Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html
//! ("To disable logging, you use an empty BucketLoggingStatus request element"),
//! https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html.

use http::Response;
use strongbox_store::BucketField;

use crate::access_log::{operation_name, AccessRecord, LoggingConfig};
use crate::authorization::Op;
use crate::body::S3Body;
use crate::error::{Failure, S3Error, S3Result};
use crate::response::Reply;
use crate::{S3Request, S3Service};

impl S3Service {
    /// GetBucketLogging: the configuration, or an empty `BucketLoggingStatus`.
    pub(crate) fn get_bucket_logging(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::GetBucketLogging)?;
        let row = self.load_bucket_row(req, name)?;
        let config = row.logging.as_deref().and_then(LoggingConfig::from_json);
        Ok(Reply::ok().xml(LoggingConfig::to_xml(config.as_ref())))
    }

    /// PutBucketLogging: enables logging into a target bucket whose policy
    /// allows delivery, or disables it with an empty `BucketLoggingStatus`.
    pub(crate) async fn put_bucket_logging(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::PutBucketLogging)?;
        let doc = self.read_xml(req).await?;
        let config = LoggingConfig::from_xml(&doc)?;
        if let Some(config) = &config {
            let source = self.load_bucket_row(req, name)?;
            let target = self.store.meta.get_bucket(&config.target_bucket)?;
            crate::access_log::validate_target(config, &source, target.as_ref())
                .map_err(|e| Failure::from(e).with("TargetBucket", &config.target_bucket))?;
        }
        let json = config.as_ref().map(LoggingConfig::to_json);
        self.store
            .meta
            .set_bucket_field(name, BucketField::Logging, json.as_deref())
            .map_err(S3Error::from)?;
        self.access_logs.forget(name);
        Ok(Reply::ok())
    }

    /// Queues the access log record of a request to a bucket with logging enabled.
    pub(crate) fn record_access(
        &self,
        req: &S3Request,
        resp: &Response<S3Body>,
        error_code: Option<&str>,
    ) {
        let Some(bucket) = req.bucket.as_deref() else {
            return;
        };
        let Some((owner_account, _)) = self.access_logs.config_of(&self.store, bucket) else {
            return;
        };
        self.access_logs.remember_access(&req.access);
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok());
        let content_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
        let head = req.method == http::Method::HEAD;
        let object_size = match req.method {
            http::Method::GET | http::Method::HEAD
                if req.key.is_some() && resp.status().is_success() =>
            {
                content_length
            }
            http::Method::PUT if req.key.is_some() => req
                .header("x-amz-decoded-content-length")
                .or_else(|| req.header("content-length"))
                .and_then(|v| v.parse().ok()),
            _ => None,
        };
        let operation = operation_name(&req.method, req.key.is_some(), &req.query);
        let request_uri = request_uri(req);
        let owner_id = req
            .access
            .canonical_user_id(&owner_account)
            .unwrap_or_default();
        let host_id = crate::host_id(&req.meta.request_id);
        let now = jiff::Timestamp::now();
        let meta = &req.meta;
        let tls_version = meta.tls_version.as_deref().map(tls_label);
        let record = AccessRecord {
            bucket_owner: &owner_id,
            bucket,
            time: meta.received_at,
            remote_ip: meta.source_ip.map(|ip| ip.to_string()),
            requester: (!req.caller.account_id.is_empty()).then_some(req.caller.arn.as_str()),
            request_id: &meta.request_id,
            operation: &operation,
            key: req.key.as_deref(),
            request_uri: &request_uri,
            status: resp.status().as_u16(),
            error_code,
            bytes_sent: if head { None } else { content_length },
            object_size,
            total_time_ms: (now - meta.received_at).get_milliseconds(),
            referer: meta.referer.as_deref(),
            user_agent: meta.user_agent.as_deref(),
            version_id: header("x-amz-version-id").filter(|v| *v != "null"),
            host_id: &host_id,
            signature_version: meta.signature_version.as_deref().map(signature_label),
            auth_type: meta.auth_type.as_deref().and_then(auth_type_label),
            host_header: req.header("host"),
            tls_version: tls_version.as_deref(),
        };
        self.access_logs.push(bucket, record.line());
    }
}

/// `SigV4` / `SigV2` as the log format names them.
fn signature_label(v: &str) -> &'static str {
    if v == "AWS" {
        "SigV2"
    } else {
        "SigV4"
    }
}

/// `AuthHeader` / `QueryString` as the log format names them (`-` for POST form uploads).
fn auth_type_label(v: &str) -> Option<&'static str> {
    match v {
        "REST-HEADER" => Some("AuthHeader"),
        "REST-QUERY-STRING" => Some("QueryString"),
        _ => None,
    }
}

fn tls_label(v: &str) -> String {
    format!("TLSv{v}")
}

/// Query parameters of a presigned URL (SigV4 `X-Amz-*`, SigV2 `Signature`,
/// `AWSAccessKeyId`): never written to a log.
fn is_signature_parameter(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-amz-") || lower == "signature" || lower == "awsaccesskeyid"
}

/// `METHOD /bucket/key?query HTTP/1.1` (path style; the query without signature values).
fn request_uri(req: &S3Request) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut uri = format!("{} /{}", req.method, req.bucket.as_deref().unwrap_or(""));
    if let Some(key) = &req.key {
        uri.push('/');
        uri.push_str(&utf8_percent_encode(key, crate::access_log::KEY_ENCODE).to_string());
    }
    let query: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| !is_signature_parameter(k))
        .map(|(k, v)| {
            let k = utf8_percent_encode(k, NON_ALPHANUMERIC);
            if v.is_empty() {
                k.to_string()
            } else {
                format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC))
            }
        })
        .collect();
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query.join("&"));
    }
    uri.push_str(" HTTP/1.1");
    uri
}
