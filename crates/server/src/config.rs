//! Server configuration: command-line flags, environment, and the root credentials.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Root credentials of the management account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

const ROOT_CREDENTIALS_FILE: &str = "root-credentials.json";

/// The root credentials: from `STRONGBOX_ROOT_ACCESS_KEY_ID` /
/// `STRONGBOX_ROOT_SECRET_ACCESS_KEY` when both are set; otherwise those stored in
/// the data dir; otherwise new ones, stored there (mode 0600) and printed once.
pub fn root_credentials(
    data_dir: &Path,
    env_key: Option<String>,
    env_secret: Option<String>,
) -> std::io::Result<RootCredentials> {
    if let (Some(access_key_id), Some(secret_access_key)) = (env_key, env_secret) {
        if !access_key_id.is_empty() && !secret_access_key.is_empty() {
            return Ok(RootCredentials {
                access_key_id,
                secret_access_key,
            });
        }
    }
    let path = data_dir.join(ROOT_CREDENTIALS_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(creds) = serde_json::from_str::<RootCredentials>(&text) {
            return Ok(creds);
        }
    }
    let creds = RootCredentials {
        access_key_id: strongbox_core::ids::aws_id("AKIA"),
        secret_access_key: strongbox_core::ids::secret_access_key(),
    };
    strongbox_core::private_files::write_private(
        &path,
        serde_json::to_string_pretty(&creds)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    println!(
        "Generated root credentials for the management account (stored in {}):\n  AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}",
        path.display(),
        creds.access_key_id,
        creds.secret_access_key
    );
    Ok(creds)
}

/// The flags of `strongbox serve`.
pub struct ServeFlags {
    pub listen: std::net::SocketAddr,
    pub data_dir: PathBuf,
    pub region: String,
    pub domains: Vec<String>,
    pub plaintext_sse_s3: bool,
    pub server_timing: bool,
    /// Certificate chain and key (PEM files) to serve HTTPS with.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Accept SigV2 signatures (`--sigv2 on|off`, `STRONGBOX_SIGV2`).
    pub sigv2: bool,
    pub limits: crate::limits::Limits,
    /// Accept SSE-C on plain HTTP (local development only).
    pub allow_sse_c_over_http: bool,
    pub decision_log: strongbox_authz::record::LogLimits,
    pub lifecycle: LifecycleSettings,
    /// Time between two server access log deliveries (`--access-log-interval`).
    pub access_log_interval: std::time::Duration,
}

/// The lifecycle worker's settings (`--lifecycle-interval`, `--lifecycle-day-seconds`).
#[derive(Clone, Copy, Debug)]
pub struct LifecycleSettings {
    /// Time between two passes of the worker.
    pub interval: std::time::Duration,
    /// For tests only: how many seconds a lifecycle "day" lasts (AWS: 86,400).
    pub day_seconds: Option<u64>,
}

/// Resolved settings of `strongbox serve`.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: std::net::SocketAddr,
    pub data_dir: PathBuf,
    pub region: String,
    pub domains: Vec<String>,
    pub root: RootCredentials,
    /// Benchmark baseline: SSE-S3 objects stored in plaintext (the hidden
    /// `serve --benchmark-plaintext-baseline`).
    pub plaintext_sse_s3: bool,
    /// Accept SSE-C headers on plain HTTP (`serve --allow-sse-c-over-http`); S3
    /// refuses them, as the customer key would travel in clear.
    pub allow_sse_c_over_http: bool,
    /// Rotation of the decision log.
    pub decision_log: strongbox_authz::record::LogLimits,
    pub lifecycle: LifecycleSettings,
}

/// A duration flag: `20s`, `500ms`, `2m`, or whole seconds (`20`); more than zero
/// ([`strongbox_core::units::parse_duration`]).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    strongbox_core::units::parse_duration(text).map_err(|e| e.to_string())
}

/// A size flag (`64MiB`, `512KiB`, `1GiB`, bytes: [`strongbox_core::units::parse_size`])
/// of at least `least` bytes.
fn parse_size_at_least(text: &str, least: u64) -> Result<u64, String> {
    let bytes = strongbox_core::units::parse_size(text).map_err(|e| e.to_string())?;
    if bytes < least {
        return Err(format!("{text:?} is below the minimum of {least} bytes"));
    }
    Ok(bytes)
}

/// The unauthenticated body budget: at least the largest body an unauthenticated
/// request may hold (4 MiB, S3's XML cap), so that one always fits.
pub fn parse_budget(text: &str) -> Result<u64, String> {
    parse_size_at_least(text, strongbox_s3::MAX_XML_BODY as u64)
}

/// `--decision-log-max-bytes`: at least 4 KiB.
pub fn parse_log_size(text: &str) -> Result<u64, String> {
    parse_size_at_least(text, 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(
            parse_duration("20s"),
            Ok(std::time::Duration::from_secs(20))
        );
        assert_eq!(
            parse_duration("500ms"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            parse_duration("2m"),
            Ok(std::time::Duration::from_secs(120))
        );
        assert_eq!(parse_duration("7"), Ok(std::time::Duration::from_secs(7)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_budget("64MiB"), Ok(64 << 20));
        assert_eq!(parse_budget("1GiB"), Ok(1 << 30));
        assert!(parse_budget("1MiB").is_err());
        assert!(parse_budget("lots").is_err());
    }

    #[test]
    fn log_sizes_have_a_minimum() {
        assert_eq!(parse_log_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_log_size("4KiB"), Ok(4096));
        assert!(parse_log_size("100").is_err());
        assert!(parse_log_size("12XB").is_err());
    }
}
