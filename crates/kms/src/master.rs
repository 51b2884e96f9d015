//! The server's master key: wraps KMS key material and SSE-S3 data keys.
//!
//! The root secret comes from the operator (`STRONGBOX_MASTER_KEY`-style
//! secret, stretched with HKDF-SHA256) or from `DATA_DIR/master.key` (32 random
//! bytes in hex, created with mode 0600). Separate subkeys are derived for
//! wrapping KMS key material and for SSE-S3, so the two can never be confused.

use std::io::Write as _;
use std::path::Path;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use zeroize::Zeroize as _;

use crate::error::KmsError;

const TAG_LEN: usize = 16;
/// File name of the generated master key inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

/// An AES-256-GCM wrapping key: `wrap` output is `nonce || ciphertext || tag`.
pub struct WrappingKey {
    key: LessSafeKey,
}

impl WrappingKey {
    fn new(bytes: &[u8; 32]) -> Result<WrappingKey, KmsError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| internal("invalid wrapping key"))?;
        Ok(WrappingKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Encrypts `plaintext` bound to `aad`, with a random nonce.
    pub fn wrap(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, KmsError> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&strongbox_core::ids::random_bytes(NONCE_LEN));
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| internal("wrap failed"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a `wrap` output; `None` when it does not authenticate.
    pub fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if wrapped.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let nonce: [u8; NONCE_LEN] = wrapped[..NONCE_LEN].try_into().ok()?;
        let mut buf = wrapped[NONCE_LEN..].to_vec();
        let len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }
}

/// The keys derived from the server's root secret.
pub struct MasterKeys {
    /// Wraps KMS key material at rest.
    pub key_material: WrappingKey,
    /// Wraps SSE-S3 data keys.
    pub sse_s3: WrappingKey,
}

impl MasterKeys {
    /// Loads the master keys from the operator secret, or from (creating if
    /// needed) `data_dir/master.key`.
    pub fn load(data_dir: &Path, master_secret: Option<&str>) -> Result<MasterKeys, KmsError> {
        let mut root = match master_secret {
            Some(secret) => root_from_secret(secret)?,
            None => root_from_file(&data_dir.join(MASTER_KEY_FILE))?,
        };
        let keys = MasterKeys::from_root(&root);
        root.zeroize();
        keys
    }

    /// Derives the subkeys from 32 root bytes.
    pub fn from_root(root: &[u8; 32]) -> Result<MasterKeys, KmsError> {
        let mut material = derive(root, b"strongbox kms key-material wrapping v1")?;
        let mut sse = derive(root, b"strongbox sse-s3 data-key wrapping v1")?;
        let keys = MasterKeys {
            key_material: WrappingKey::new(&material)?,
            sse_s3: WrappingKey::new(&sse)?,
        };
        material.zeroize();
        sse.zeroize();
        Ok(keys)
    }
}

fn internal(what: &str) -> KmsError {
    tracing::error!("kms master key: {what}");
    KmsError::Internal("An internal error occurred.".to_string())
}

fn derive(root: &[u8; 32], info: &[u8]) -> Result<[u8; 32], KmsError> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"strongbox-master-v1").extract(root);
    let info = [info];
    let okm = prk
        .expand(&info, hkdf::HKDF_SHA256)
        .map_err(|_| internal("hkdf expand"))?;
    let mut out = [0u8; 32];
    okm.fill(&mut out).map_err(|_| internal("hkdf fill"))?;
    Ok(out)
}

/// Stretches an operator secret into root bytes. Secrets shorter than 16
/// characters are refused.
fn root_from_secret(secret: &str) -> Result<[u8; 32], KmsError> {
    if secret.trim().len() < 16 {
        return Err(KmsError::Internal(
            "the master key secret must be at least 16 characters".to_string(),
        ));
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"strongbox-operator-secret-v1")
        .extract(secret.trim().as_bytes());
    let okm = prk
        .expand(&[b"root"], hkdf::HKDF_SHA256)
        .map_err(|_| internal("hkdf expand"))?;
    let mut out = [0u8; 32];
    okm.fill(&mut out).map_err(|_| internal("hkdf fill"))?;
    Ok(out)
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn root_from_file(path: &Path) -> Result<[u8; 32], KmsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_permissions(path);
            parse_hex32(&text).ok_or_else(|| {
                KmsError::Internal(format!(
                    "{} does not hold a 64-hex-digit key",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(path),
        Err(e) => Err(KmsError::Internal(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

fn create_key_file(path: &Path) -> Result<[u8; 32], KmsError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| KmsError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut root = [0u8; 32];
    root.copy_from_slice(&strongbox_core::ids::random_bytes(32));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = options.open(path).and_then(|mut f| {
        f.write_all(format!("{}\n", strongbox_core::ids::hex(&root)).as_bytes())?;
        f.sync_all()
    });
    match result {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a new KMS master key");
            Ok(root)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => root_from_file(path),
        Err(e) => Err(KmsError::Internal(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

fn check_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the KMS master key file is readable by group or others");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sbkms-{name}-{}",
            strongbox_core::ids::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn wrap_roundtrip_and_aad() {
        let keys = MasterKeys::from_root(&[3u8; 32]).unwrap();
        let w = keys.key_material.wrap(b"secret", b"aad").unwrap();
        assert_eq!(keys.key_material.unwrap(&w, b"aad").unwrap(), b"secret");
        assert!(keys.key_material.unwrap(&w, b"other").is_none());
        // Subkeys differ: SSE-S3 cannot open key-material blobs.
        assert!(keys.sse_s3.unwrap(&w, b"aad").is_none());
        assert!(keys.key_material.unwrap(&w[..10], b"aad").is_none());
    }

    #[test]
    fn file_created_with_0600_and_reused() {
        let dir = temp_dir("file");
        let k1 = MasterKeys::load(&dir, None).unwrap();
        let path = dir.join(MASTER_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let k2 = MasterKeys::load(&dir, None).unwrap();
        let w = k1.key_material.wrap(b"x", b"").unwrap();
        assert_eq!(k2.key_material.unwrap(&w, b"").unwrap(), b"x");
        std::fs::write(&path, "nothex").unwrap();
        assert!(MasterKeys::load(&dir, None).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secret_is_deterministic() {
        let dir = temp_dir("secret");
        let a = MasterKeys::load(&dir, Some("correct horse battery staple")).unwrap();
        let b = MasterKeys::load(&dir, Some("correct horse battery staple")).unwrap();
        let c = MasterKeys::load(&dir, Some("another long operator secret")).unwrap();
        let w = a.sse_s3.wrap(b"k", b"").unwrap();
        assert!(b.sse_s3.unwrap(&w, b"").is_some());
        assert!(c.sse_s3.unwrap(&w, b"").is_none());
        assert!(!dir.join(MASTER_KEY_FILE).exists());
        assert!(MasterKeys::load(&dir, Some("short")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hex_parse() {
        assert!(parse_hex32(&"ab".repeat(32)).is_some());
        assert!(parse_hex32(&"zz".repeat(32)).is_none());
        assert!(parse_hex32("ab").is_none());
    }
}
