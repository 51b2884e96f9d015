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
