//! Server configuration: command-line flags, environment, and the root credentials.

use std::io::Write;
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
    write_private(
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

/// Writes `bytes` to `path` readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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
}
