//! The server's master key and the AES-256-GCM wrapping built on it: what
//! keeps secrets at rest (KMS key material, SSE-S3 data keys, IAM secret
//! access keys, STS session secrets) unreadable from the data files alone.
//!
//! The root secret comes from the operator (`STRONGBOX_MASTER_KEY`, stretched
//! with HKDF-SHA256) or from `DATA_DIR/master.key` (32 random bytes in hex,
//! created with mode 0600). Each use derives its own subkey
//! ([`MasterKey::derive`]) so that blobs of one purpose never open as another.

use std::io::Write as _;
use std::path::Path;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

const TAG_LEN: usize = 16;
/// File name of the generated master key inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

/// Errors loading the master key or wrapping with it. The messages never hold key bytes.
#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    #[error("the master key secret must be at least 16 characters")]
    ShortSecret,
    #[error("{0} does not hold a 64-hex-digit key")]
    BadKeyFile(String),
    #[error("cannot read or create the master key file {path}: {error}")]
    KeyFile { path: String, error: std::io::Error },
    #[error("master key: {0} failed")]
    Crypto(&'static str),
}

/// An AES-256-GCM wrapping key: `wrap` output is `nonce || ciphertext || tag`.
pub struct WrappingKey {
    key: LessSafeKey,
}

impl WrappingKey {
    fn new(bytes: &[u8; 32]) -> Result<WrappingKey, SealingError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SealingError::Crypto("key setup"))?;
        Ok(WrappingKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Encrypts `plaintext` bound to `aad`, with a random nonce.
    pub fn wrap(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealingError> {
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&crate::ids::random_bytes(NONCE_LEN));
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
            .map_err(|_| SealingError::Crypto("wrap"))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts a `wrap` output; `None` when it does not authenticate (wrong
    /// key, wrong `aad`, or altered bytes).
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

/// The server's root secret (32 bytes, wiped on drop).
pub struct MasterKey {
    root: Zeroizing<[u8; 32]>,
}

impl MasterKey {
    /// The master key from the operator secret, or from (creating if needed)
    /// `data_dir/master.key`.
    pub fn load(data_dir: &Path, operator_secret: Option<&str>) -> Result<MasterKey, SealingError> {
        let root = match operator_secret {
            Some(secret) => root_from_secret(secret)?,
            None => root_from_file(&data_dir.join(MASTER_KEY_FILE))?,
        };
        Ok(MasterKey { root })
    }

    /// A master key of these 32 bytes (tests).
    pub fn from_root(root: &[u8; 32]) -> MasterKey {
        MasterKey {
            root: Zeroizing::new(*root),
        }
    }

    /// The subkey for `purpose` (a fixed label such as `b"strongbox … v1"`).
    pub fn derive(&self, purpose: &[u8]) -> Result<WrappingKey, SealingError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"strongbox-master-v1").extract(&*self.root);
        let info = [purpose];
        let okm = prk
            .expand(&info, hkdf::HKDF_SHA256)
            .map_err(|_| SealingError::Crypto("hkdf expand"))?;
        let mut out = Zeroizing::new([0u8; 32]);
        okm.fill(&mut *out)
            .map_err(|_| SealingError::Crypto("hkdf fill"))?;
        WrappingKey::new(&out)
    }
}

/// Stretches an operator secret into root bytes. Secrets shorter than 16
/// characters are refused.
fn root_from_secret(secret: &str) -> Result<Zeroizing<[u8; 32]>, SealingError> {
    if secret.trim().len() < 16 {
        return Err(SealingError::ShortSecret);
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"strongbox-operator-secret-v1")
        .extract(secret.trim().as_bytes());
    let okm = prk
        .expand(&[b"root"], hkdf::HKDF_SHA256)
        .map_err(|_| SealingError::Crypto("hkdf expand"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    okm.fill(&mut *out)
        .map_err(|_| SealingError::Crypto("hkdf fill"))?;
    Ok(out)
}

fn parse_hex32(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = Zeroizing::new([0u8; 32]);
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn key_file_error(path: &Path, error: std::io::Error) -> SealingError {
    SealingError::KeyFile {
        path: path.display().to_string(),
        error,
    }
}

fn root_from_file(path: &Path) -> Result<Zeroizing<[u8; 32]>, SealingError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let text = Zeroizing::new(text);
            parse_hex32(&text).ok_or_else(|| SealingError::BadKeyFile(path.display().to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(path),
        Err(e) => Err(key_file_error(path, e)),
    }
}

fn create_key_file(path: &Path) -> Result<Zeroizing<[u8; 32]>, SealingError> {
    if let Some(dir) = path.parent() {
        crate::private_files::create_private_dir(dir).map_err(|e| key_file_error(dir, e))?;
    }
    let mut root = Zeroizing::new([0u8; 32]);
    root.copy_from_slice(&crate::ids::random_bytes(32));
    let result = crate::private_files::private_options()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| {
            let text = Zeroizing::new(format!("{}\n", crate::ids::hex(&*root)));
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
    match result {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a new master key");
            Ok(root)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => root_from_file(path),
        Err(e) => Err(key_file_error(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("sbseal-{name}-{}", crate::ids::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn wrap_roundtrip_binds_aad_key_and_purpose() {
        let master = MasterKey::from_root(&[3u8; 32]);
        let a = master.derive(b"purpose a").unwrap();
        let w = a.wrap(b"secret", b"aad").unwrap();
        assert_eq!(a.unwrap(&w, b"aad").unwrap(), b"secret");
        assert!(a.unwrap(&w, b"other").is_none());
        assert!(master
            .derive(b"purpose b")
            .unwrap()
            .unwrap(&w, b"aad")
            .is_none());
        let other = MasterKey::from_root(&[4u8; 32])
            .derive(b"purpose a")
            .unwrap();
        assert!(other.unwrap(&w, b"aad").is_none());
        assert!(a.unwrap(&w[..10], b"aad").is_none());
        let mut flipped = w.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(a.unwrap(&flipped, b"aad").is_none());
        // A fresh nonce each time: the same plaintext never wraps the same.
        assert_ne!(a.wrap(b"secret", b"aad").unwrap(), w);
    }

    #[test]
    fn file_created_with_0600_and_reused() {
        let dir = temp_dir("file");
        let k1 = MasterKey::load(&dir, None).unwrap();
        let path = dir.join(MASTER_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let k2 = MasterKey::load(&dir, None).unwrap();
        let w = k1.derive(b"p").unwrap().wrap(b"x", b"").unwrap();
        assert_eq!(k2.derive(b"p").unwrap().unwrap(&w, b"").unwrap(), b"x");
        std::fs::write(&path, "nothex").unwrap();
        assert!(MasterKey::load(&dir, None).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn operator_secret_is_deterministic_and_needs_16_characters() {
        let dir = temp_dir("secret");
        let a = MasterKey::load(&dir, Some("correct horse battery staple")).unwrap();
        let b = MasterKey::load(&dir, Some("correct horse battery staple")).unwrap();
        let c = MasterKey::load(&dir, Some("another long operator secret")).unwrap();
        let w = a.derive(b"p").unwrap().wrap(b"k", b"").unwrap();
        assert!(b.derive(b"p").unwrap().unwrap(&w, b"").is_some());
        assert!(c.derive(b"p").unwrap().unwrap(&w, b"").is_none());
        assert!(!dir.join(MASTER_KEY_FILE).exists());
        assert!(matches!(
            MasterKey::load(&dir, Some("short")),
            Err(SealingError::ShortSecret)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hex_parse() {
        assert!(parse_hex32(&"ab".repeat(32)).is_some());
        assert!(parse_hex32(&"zz".repeat(32)).is_none());
        assert!(parse_hex32("ab").is_none());
    }
}
