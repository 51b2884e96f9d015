//! The KMS's subkeys of the server's master key ([`strongbox_core::sealing`]):
//! one wraps KMS key material, one SSE-S3 data keys, so the two can never be
//! confused.

use std::path::Path;

use strongbox_core::sealing::{MasterKey, WrappingKey};

use crate::error::KmsError;

pub use strongbox_core::sealing::MASTER_KEY_FILE;

/// The keys derived from the server's master key.
pub struct MasterKeys {
    /// Wraps KMS key material at rest.
    pub key_material: WrappingKey,
    /// Wraps SSE-S3 data keys.
    pub sse_s3: WrappingKey,
}

impl MasterKeys {
    /// Loads the master key from the operator secret, or from (creating if
    /// needed) `data_dir/master.key`, and derives the KMS subkeys.
    pub fn load(data_dir: &Path, master_secret: Option<&str>) -> Result<MasterKeys, KmsError> {
        let master = MasterKey::load(data_dir, master_secret)?;
        MasterKeys::derive(&master)
    }

    /// Derives the KMS subkeys of `master`.
    pub fn derive(master: &MasterKey) -> Result<MasterKeys, KmsError> {
        Ok(MasterKeys {
            key_material: master.derive(b"strongbox kms key-material wrapping v1")?,
            sse_s3: master.derive(b"strongbox sse-s3 data-key wrapping v1")?,
        })
    }

    /// Derives the subkeys from 32 root bytes (tests).
    pub fn from_root(root: &[u8; 32]) -> Result<MasterKeys, KmsError> {
        MasterKeys::derive(&MasterKey::from_root(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subkeys_differ_and_match_the_stored_derivation() {
        let keys = MasterKeys::from_root(&[3u8; 32]).unwrap();
        let w = keys.key_material.wrap(b"secret", b"aad").unwrap();
        assert_eq!(keys.key_material.unwrap(&w, b"aad").unwrap(), b"secret");
        // SSE-S3 cannot open key-material blobs.
        assert!(keys.sse_s3.unwrap(&w, b"aad").is_none());
    }

    #[test]
    fn short_operator_secret_is_refused() {
        let dir = std::env::temp_dir();
        assert!(MasterKeys::load(&dir, Some("short")).is_err());
    }
}
