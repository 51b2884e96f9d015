//! The ciphertext blob returned by Encrypt / GenerateDataKey.
//!
//! ```text
//! version (1 byte, = 1)
//! key id (16 bytes: the key's UUID)
//! key material version (4 bytes, big endian)
//! nonce (12 bytes)
//! AES-256-GCM ciphertext || tag (16 bytes)
//! ```
//!
//! The AAD is the 21-byte header followed by the canonical encoding of the
//! encryption context (pairs sorted by key, each string length-prefixed), so
//! Decrypt finds the key without a `KeyId` parameter and must be given exactly
//! the same encryption context.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

/// Encryption context: string pairs, kept sorted.
pub type EncryptionContext = BTreeMap<String, String>;

/// Format version byte of this blob layout.
pub const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 16 + 4;
const TAG_LEN: usize = 16;

/// Why a blob could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("ciphertext blob is malformed")]
    Malformed,
    #[error("ciphertext blob does not authenticate")]
    Authentication,
    #[error("key material is invalid")]
    Key,
}

/// The readable part of a blob: which key (and material version) sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader {
    /// The key id, as a lower-case UUID string.
    pub key_id: String,
    pub material_version: u32,
}

/// Parses a UUID string into its 16 bytes.
pub fn uuid_bytes(key_id: &str) -> Option<[u8; 16]> {
    let hex: String = key_id.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || key_id.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Formats 16 bytes as a lower-case UUID string.
pub fn uuid_string(bytes: &[u8; 16]) -> String {
    let h = strongbox_core::ids::hex(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Canonical bytes of an encryption context.
pub fn canonical_context(context: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(context.len() as u32).to_be_bytes());
    for (k, v) in context {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

fn header_bytes(header: &BlobHeader) -> Result<[u8; HEADER_LEN], BlobError> {
    let mut out = [0u8; HEADER_LEN];
    out[0] = FORMAT_VERSION;
    out[1..17].copy_from_slice(&uuid_bytes(&header.key_id).ok_or(BlobError::Malformed)?);
    out[17..21].copy_from_slice(&header.material_version.to_be_bytes());
    Ok(out)
}

fn aad(header: &[u8; HEADER_LEN], context: &EncryptionContext) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&canonical_context(context));
    aad
}

fn cipher(key: &[u8]) -> Result<LessSafeKey, BlobError> {
    Ok(LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| BlobError::Key)?,
    ))
}

/// Encrypts `plaintext` under a KMS key's material.
pub fn seal(
    header: &BlobHeader,
    key: &[u8],
    plaintext: &[u8],
    context: &EncryptionContext,
) -> Result<Vec<u8>, BlobError> {
    let head = header_bytes(header)?;
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&strongbox_core::ids::random_bytes(NONCE_LEN));
    let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&head);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let start = HEADER_LEN + NONCE_LEN;
    let tag = cipher(key)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&head, context)),
            &mut out[start..],
        )
        .map_err(|_| BlobError::Key)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Reads which key sealed a blob.
pub fn parse_header(blob: &[u8]) -> Result<BlobHeader, BlobError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || blob[0] != FORMAT_VERSION {
        return Err(BlobError::Malformed);
    }
    let id: [u8; 16] = blob[1..17].try_into().map_err(|_| BlobError::Malformed)?;
    let version: [u8; 4] = blob[17..21].try_into().map_err(|_| BlobError::Malformed)?;
    Ok(BlobHeader {
        key_id: uuid_string(&id),
        material_version: u32::from_be_bytes(version),
    })
}

/// Decrypts a blob with the key material named by its header.
pub fn open(blob: &[u8], key: &[u8], context: &EncryptionContext) -> Result<Vec<u8>, BlobError> {
    parse_header(blob)?;
    let head: [u8; HEADER_LEN] = blob[..HEADER_LEN]
        .try_into()
        .map_err(|_| BlobError::Malformed)?;
    let nonce: [u8; NONCE_LEN] = blob[HEADER_LEN..HEADER_LEN + NONCE_LEN]
        .try_into()
        .map_err(|_| BlobError::Malformed)?;
    let mut buf = blob[HEADER_LEN + NONCE_LEN..].to_vec();
    let len = cipher(key)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(&head, context)),
            &mut buf,
        )
        .map_err(|_| BlobError::Authentication)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn header() -> BlobHeader {
        BlobHeader {
            key_id: ID.to_string(),
            material_version: 3,
        }
    }

    #[test]
    fn uuid_roundtrip() {
        assert_eq!(uuid_string(&uuid_bytes(ID).unwrap()), ID);
        assert!(uuid_bytes("not-a-uuid").is_none());
        assert!(uuid_bytes("1234abcd12ab34cd56ef1234567890ab").is_none());
    }

    #[test]
    fn header_is_readable_and_roundtrip_works() {
        let key = [5u8; 32];
        let c = ctx(&[("purpose", "test"), ("a", "b")]);
        let blob = seal(&header(), &key, b"plaintext", &c).unwrap();
        assert_eq!(blob.len(), 21 + 12 + 9 + 16);
        assert_eq!(parse_header(&blob).unwrap(), header());
        assert_eq!(open(&blob, &key, &c).unwrap(), b"plaintext");
    }

    #[test]
    fn context_must_match_exactly() {
        let key = [5u8; 32];
        let c = ctx(&[("a", "1"), ("b", "2")]);
        let blob = seal(&header(), &key, b"x", &c).unwrap();
        // Order of insertion does not matter (sorted map).
        assert!(open(&blob, &key, &ctx(&[("b", "2"), ("a", "1")])).is_ok());
        for wrong in [
            ctx(&[]),
            ctx(&[("a", "1")]),
            ctx(&[("a", "1"), ("b", "3")]),
            ctx(&[("a", "1"), ("b", "2"), ("c", "")]),
        ] {
            assert_eq!(open(&blob, &key, &wrong), Err(BlobError::Authentication));
        }
        // Length prefixes keep ("ab","c") distinct from ("a","bc").
        assert_ne!(
            canonical_context(&ctx(&[("ab", "c")])),
            canonical_context(&ctx(&[("a", "bc")]))
        );
    }

    #[test]
    fn tampered_header_or_body_fails() {
        let key = [5u8; 32];
        let blob = seal(&header(), &key, b"data", &ctx(&[])).unwrap();
        for i in [5usize, 18, 25, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 0x40;
            assert_eq!(
                open(&bad, &key, &ctx(&[])),
                Err(BlobError::Authentication),
                "byte {i}"
            );
        }
        let mut bad_version = blob.clone();
        bad_version[0] = 9;
        assert_eq!(parse_header(&bad_version), Err(BlobError::Malformed));
        assert_eq!(parse_header(&blob[..40]), Err(BlobError::Malformed));
        assert_eq!(
            open(&blob, &[6u8; 32], &ctx(&[])),
            Err(BlobError::Authentication)
        );
    }
}
