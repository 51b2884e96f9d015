//! SDK clients configured for a test server: SDK defaults (flexible CRC32 checksums,
//! aws-chunked trailers), path-style addressing, region us-east-1, no retries.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;

use crate::server::{Server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY};

/// Region every client signs for.
pub const REGION: &str = "us-east-1";

/// Shared SDK configuration for the given key pair (and optional session token).
pub async fn sdk_config(
    server: &Server,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> SdkConfig {
    let credentials = Credentials::new(key, secret, token.map(str::to_string), None, "sdk-tests");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(credentials)
        .endpoint_url(&server.endpoint)
        .retry_config(RetryConfig::disabled())
        .load()
        .await
}

/// Root user's configuration.
pub async fn root_config(server: &Server) -> SdkConfig {
    sdk_config(server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, None).await
}

/// S3 client with path-style addressing.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Root user's S3 client.
pub async fn root_s3(server: &Server) -> aws_sdk_s3::Client {
    s3(&root_config(server).await)
}

/// A fresh bucket name unique within the test run.
pub fn bucket_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "sdk-{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deterministic pseudo-random bytes (xorshift), so mismatches show as wrong content.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Headers of every request a client sent, in order (names lower-cased).
pub type SentHeaders = std::sync::Arc<std::sync::Mutex<Vec<Vec<(String, String)>>>>;

/// Interceptor recording the headers of each request as it is transmitted.
#[derive(Debug, Default)]
struct RecordHeaders(SentHeaders);

impl aws_sdk_s3::config::Intercept for RecordHeaders {
    fn name(&self) -> &'static str {
        "RecordHeaders"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_s3::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let headers = context
            .request()
            .headers()
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect();
        self.0.lock().unwrap().push(headers);
        Ok(())
    }
}

/// S3 client like [`s3`] that also records the headers it sends.
pub fn recording_s3(config: &SdkConfig) -> (aws_sdk_s3::Client, SentHeaders) {
    let sent = SentHeaders::default();
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .interceptor(RecordHeaders(sent.clone()))
        .build();
    (aws_sdk_s3::Client::from_conf(conf), sent)
}

/// Value of header `name` in one recorded request.
pub fn sent_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}
