//! Object checksums as S3 exchanges them: `x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}`
//! (base64 of the big-endian digest) and `Content-MD5`.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use aws_lc_rs::digest;
use base64::Engine;
use crc_fast::{CrcAlgorithm, Digest as CrcDigest};
use md5::Digest as _;

use crate::error::AuthError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The checksum algorithms S3 supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The API name: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Parses the API name (case-insensitive), as in `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`.
    pub fn from_name(name: &str) -> Option<ChecksumAlgorithm> {
        ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The header (and trailer) carrying the value: `x-amz-checksum-crc32`, ….
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm a header or trailer name stands for (case-insensitive).
    pub fn from_header_name(name: &str) -> Option<ChecksumAlgorithm> {
        ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| a.header_name().eq_ignore_ascii_case(name.trim()))
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// Whether this is a CRC (whose values can be combined, for full-object multipart checksums).
    pub fn is_crc(self) -> bool {
        matches!(
            self,
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc64Nvme
        )
    }

    /// The CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)` (big-endian digests, as from
    /// [`ChecksumHasher::finalize`]); `None` for SHA algorithms or digests of the wrong length.
    pub fn combine(self, first: &[u8], second: &[u8], second_len: u64) -> Option<Vec<u8>> {
        let algorithm = match self {
            ChecksumAlgorithm::Crc32 => CrcAlgorithm::Crc32IsoHdlc,
            ChecksumAlgorithm::Crc32c => CrcAlgorithm::Crc32Iscsi,
            ChecksumAlgorithm::Crc64Nvme => CrcAlgorithm::Crc64Nvme,
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => return None,
        };
        let width = self.digest_len();
        if first.len() != width || second.len() != width {
            return None;
        }
        let to_u64 = |b: &[u8]| b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
        let combined =
            crc_fast::checksum_combine(algorithm, to_u64(first), to_u64(second), second_len);
        Some(combined.to_be_bytes()[8 - width..].to_vec())
    }

    /// A fresh incremental hasher.
    pub fn hasher(self) -> ChecksumHasher {
        let inner = match self {
            ChecksumAlgorithm::Crc32 => {
                Inner::Crc(Box::new(CrcDigest::new(CrcAlgorithm::Crc32IsoHdlc)), 4)
            }
            ChecksumAlgorithm::Crc32c => {
                Inner::Crc(Box::new(CrcDigest::new(CrcAlgorithm::Crc32Iscsi)), 4)
            }
            ChecksumAlgorithm::Crc64Nvme => {
                Inner::Crc(Box::new(CrcDigest::new(CrcAlgorithm::Crc64Nvme)), 8)
            }
            ChecksumAlgorithm::Sha1 => {
                Inner::Sha(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY))
            }
            ChecksumAlgorithm::Sha256 => Inner::Sha(digest::Context::new(&digest::SHA256)),
        };
        ChecksumHasher {
            algorithm: self,
            inner,
        }
    }

    /// The base64 checksum of `data`.
    pub fn checksum_base64(self, data: &[u8]) -> String {
        let mut h = self.hasher();
        h.update(data);
        h.finalize_base64()
    }

    /// Decodes a base64 value sent for this algorithm; `InvalidRequest` when it is not
    /// base64 of the right length.
    pub fn decode_value(self, value: &str) -> Result<Vec<u8>, AuthError> {
        match B64.decode(value.trim()) {
            Ok(bytes) if bytes.len() == self.digest_len() => Ok(bytes),
            _ => Err(AuthError::InvalidRequest(format!(
                "Value for {} header is invalid.",
                self.header_name()
            ))),
        }
    }

    /// Compares a sent base64 value with a computed digest: `BadDigest` on mismatch.
    pub fn verify(self, sent_base64: &str, computed: &[u8]) -> Result<(), AuthError> {
        let sent = self.decode_value(sent_base64)?;
        if sent == computed {
            Ok(())
        } else {
            Err(AuthError::BadDigest {
                message: format!(
                    "The {} you specified did not match the calculated checksum.",
                    self.as_str()
                ),
            })
        }
    }
}

enum Inner {
    Crc(Box<CrcDigest>, usize),
    Sha(digest::Context),
}

/// An incremental checksum.
pub struct ChecksumHasher {
    algorithm: ChecksumAlgorithm,
    inner: Inner,
}

impl ChecksumHasher {
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        self.algorithm
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Crc(d, _) => d.update(data),
            Inner::Sha(c) => c.update(data),
        }
    }

    /// The digest bytes (big-endian for CRCs).
    pub fn finalize(self) -> Vec<u8> {
        match self.inner {
            Inner::Crc(d, width) => {
                let v = d.finalize();
                v.to_be_bytes()[8 - width..].to_vec()
            }
            Inner::Sha(c) => c.finish().as_ref().to_vec(),
        }
    }

    /// The digest in base64, as in `x-amz-checksum-*`.
    pub fn finalize_base64(self) -> String {
        B64.encode(self.finalize())
    }
}

/// Decodes a `Content-MD5` header: `InvalidDigest` unless it is base64 of 16 bytes.
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], AuthError> {
    let bytes = B64
        .decode(value.trim())
        .map_err(|_| AuthError::InvalidDigest)?;
    bytes.try_into().map_err(|_| AuthError::InvalidDigest)
}

/// An incremental MD5 (for `Content-MD5` checks and ETags).
#[derive(Default)]
pub struct Md5Hasher(md5::Md5);

impl Md5Hasher {
    pub fn new() -> Md5Hasher {
        Md5Hasher::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finalize(self) -> [u8; 16] {
        self.0.finalize().into()
    }

    /// `BadDigest` when the body's MD5 is not `expected` (from [`parse_content_md5`]).
    pub fn verify(self, expected: &[u8; 16]) -> Result<[u8; 16], AuthError> {
        let got = self.finalize();
        if &got == expected {
            Ok(got)
        } else {
            Err(AuthError::BadDigest {
                message: "The Content-MD5 you specified did not match what we received.".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        // Standard check values of "123456789" (CRC catalogue) and known digests.
        let data = b"123456789";
        assert_eq!(
            ChecksumAlgorithm::Crc32.hasher().tap(data),
            0xcbf43926u32.to_be_bytes().to_vec()
        );
        assert_eq!(
            ChecksumAlgorithm::Crc32c.hasher().tap(data),
            0xe3069283u32.to_be_bytes().to_vec()
        );
        assert_eq!(
            ChecksumAlgorithm::Crc64Nvme.hasher().tap(data),
            0xae8b14860a799888u64.to_be_bytes().to_vec()
        );
        assert_eq!(
            crate::crypto::hex(&ChecksumAlgorithm::Sha1.hasher().tap(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            ChecksumAlgorithm::Sha256.checksum_base64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        // The AWS trailer example: 66560 bytes of 'a' have CRC32C sOO8/Q==.
        assert_eq!(
            ChecksumAlgorithm::Crc32c.checksum_base64(&vec![b'a'; 66560]),
            "sOO8/Q=="
        );
        assert_eq!(ChecksumAlgorithm::Crc32.checksum_base64(b""), "AAAAAA==");
    }

    trait Tap {
        fn tap(self, data: &[u8]) -> Vec<u8>;
    }
    impl Tap for ChecksumHasher {
        fn tap(mut self, data: &[u8]) -> Vec<u8> {
            self.update(data);
            self.finalize()
        }
    }

    #[test]
    fn combine_crcs() {
        let (a, b) = (b"hello, ".as_slice(), b"world and more".as_slice());
        let whole = [a, b].concat();
        for algo in ChecksumAlgorithm::ALL {
            let ca = algo.hasher().tap(a);
            let cb = algo.hasher().tap(b);
            let combined = algo.combine(&ca, &cb, b.len() as u64);
            if algo.is_crc() {
                assert_eq!(combined.unwrap(), algo.hasher().tap(&whole), "{algo:?}");
            } else {
                assert!(combined.is_none());
            }
        }
        assert!(ChecksumAlgorithm::Crc32
            .combine(&[1, 2], &[3, 4, 5, 6], 1)
            .is_none());
    }

    #[test]
    fn names() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(
                ChecksumAlgorithm::from_name(&a.as_str().to_lowercase()),
                Some(a)
            );
            assert_eq!(
                ChecksumAlgorithm::from_header_name(&a.header_name().to_uppercase()),
                Some(a)
            );
            assert_eq!(a.hasher().finalize().len(), a.digest_len());
        }
        assert_eq!(ChecksumAlgorithm::from_name("md5"), None);
    }

    #[test]
    fn verify_values() {
        let a = ChecksumAlgorithm::Crc32;
        let good = a.checksum_base64(b"hello");
        let computed = B64.decode(&good).unwrap();
        assert!(a.verify(&good, &computed).is_ok());
        assert!(matches!(
            a.verify(&a.checksum_base64(b"x"), &computed),
            Err(AuthError::BadDigest { .. })
        ));
        assert!(matches!(
            a.verify("not base64!", &computed),
            Err(AuthError::InvalidRequest(_))
        ));
        assert!(matches!(
            a.verify("AAAAAAAA", &computed),
            Err(AuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn md5() {
        // RFC 1321 test suite: MD5("abc").
        let expected = parse_content_md5("kAFQmDzST7DWlj99KOF/cg==").unwrap();
        let mut h = Md5Hasher::new();
        h.update(b"abc");
        assert!(h.verify(&expected).is_ok());
        let mut h = Md5Hasher::new();
        h.update(b"abd");
        assert!(matches!(
            h.verify(&expected),
            Err(AuthError::BadDigest { .. })
        ));
        assert_eq!(parse_content_md5("abc"), Err(AuthError::InvalidDigest));
        assert_eq!(parse_content_md5("AAAA"), Err(AuthError::InvalidDigest));
    }
}
