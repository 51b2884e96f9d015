//! The checksum algorithms S3 supports (`x-amz-checksum-*`), computed while streaming.
//!
//! Amazon S3 User Guide, "Checking object integrity": CRC32, CRC32C, CRC64NVME,
//! SHA1, SHA256; values are the base64 of the big-endian digest.

use aws_lc_rs::digest;
use base64::Engine as _;

/// A checksum algorithm as S3 names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    /// All algorithms.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256` (case-insensitive).
    pub fn parse(s: &str) -> Option<ChecksumAlgorithm> {
        match s.to_ascii_uppercase().as_str() {
            "CRC32" => Some(ChecksumAlgorithm::Crc32),
            "CRC32C" => Some(ChecksumAlgorithm::Crc32c),
            "CRC64NVME" => Some(ChecksumAlgorithm::Crc64Nvme),
            "SHA1" => Some(ChecksumAlgorithm::Sha1),
            "SHA256" => Some(ChecksumAlgorithm::Sha256),
            _ => None,
        }
    }

    /// The name in XML and `x-amz-checksum-algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying the value, e.g. `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The XML element name, e.g. `ChecksumCRC32`.
    pub fn xml_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Length in bytes of the raw digest.
    pub fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// The checksum of `data` in one go (base64).
    pub fn compute(self, data: &[u8]) -> String {
        let mut h = ChecksumHasher::new(self);
        h.update(data);
        h.finish()
    }
}

/// The full-object CRC of an object made of parts, from the parts' CRCs
/// (base64) and sizes: `None` for SHA algorithms, which cannot be combined.
pub fn combine_crcs(algorithm: ChecksumAlgorithm, parts: &[(String, u64)]) -> Option<String> {
    use base64::Engine as _;
    let crc = match algorithm {
        ChecksumAlgorithm::Crc32 => crc_fast::CrcAlgorithm::Crc32IsoHdlc,
        ChecksumAlgorithm::Crc32c => crc_fast::CrcAlgorithm::Crc32Iscsi,
        ChecksumAlgorithm::Crc64Nvme => crc_fast::CrcAlgorithm::Crc64Nvme,
        _ => return None,
    };
    let mut combined: Option<u64> = None;
    for (value, len) in parts {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?;
        if raw.len() != algorithm.digest_len() {
            return None;
        }
        let v = raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        combined = Some(match combined {
            None => v,
            Some(c) => crc_fast::checksum_combine(crc, c, v, *len),
        });
    }
    let v = combined?;
    let bytes = if algorithm == ChecksumAlgorithm::Crc64Nvme {
        v.to_be_bytes().to_vec()
    } else {
        (v as u32).to_be_bytes().to_vec()
    };
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A running checksum.
pub enum ChecksumHasher {
    Crc(ChecksumAlgorithm, Box<crc_fast::Digest>),
    Sha(ChecksumAlgorithm, digest::Context),
}

impl ChecksumHasher {
    pub fn new(algorithm: ChecksumAlgorithm) -> ChecksumHasher {
        use crc_fast::CrcAlgorithm;
        match algorithm {
            ChecksumAlgorithm::Crc32 => ChecksumHasher::Crc(
                algorithm,
                Box::new(crc_fast::Digest::new(CrcAlgorithm::Crc32IsoHdlc)),
            ),
            ChecksumAlgorithm::Crc32c => ChecksumHasher::Crc(
                algorithm,
                Box::new(crc_fast::Digest::new(CrcAlgorithm::Crc32Iscsi)),
            ),
            ChecksumAlgorithm::Crc64Nvme => ChecksumHasher::Crc(
                algorithm,
                Box::new(crc_fast::Digest::new(CrcAlgorithm::Crc64Nvme)),
            ),
            ChecksumAlgorithm::Sha1 => ChecksumHasher::Sha(
                algorithm,
                digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY),
            ),
            ChecksumAlgorithm::Sha256 => {
                ChecksumHasher::Sha(algorithm, digest::Context::new(&digest::SHA256))
            }
        }
    }

    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self {
            ChecksumHasher::Crc(a, _) | ChecksumHasher::Sha(a, _) => *a,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            ChecksumHasher::Crc(_, d) => d.update(data),
            ChecksumHasher::Sha(_, c) => c.update(data),
        }
    }

    /// The raw big-endian digest bytes.
    pub fn finish_raw(self) -> Vec<u8> {
        match self {
            ChecksumHasher::Crc(a, d) => {
                let v = d.finalize();
                if a == ChecksumAlgorithm::Crc64Nvme {
                    v.to_be_bytes().to_vec()
                } else {
                    (v as u32).to_be_bytes().to_vec()
                }
            }
            ChecksumHasher::Sha(_, c) => c.finish().as_ref().to_vec(),
        }
    }

    /// The base64 digest, as S3 shows it.
    pub fn finish(self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.finish_raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // "hello world" digests, checked against well-known reference values.
        assert_eq!(ChecksumAlgorithm::Crc32.compute(b"hello world"), "DUoRhQ==");
        assert_eq!(
            ChecksumAlgorithm::Crc32c.compute(b"hello world"),
            "yZRlqg=="
        );
        assert_eq!(
            ChecksumAlgorithm::Sha1.compute(b"hello world"),
            "Kq5sNclPz7QV2+lfQIuc6R7oRu0="
        );
        assert_eq!(
            ChecksumAlgorithm::Sha256.compute(b"hello world"),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
        assert_eq!(ChecksumAlgorithm::Crc64Nvme.compute(b"").len(), 12);
    }

    #[test]
    fn combining_part_crcs_gives_the_whole_object_crc() {
        for a in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let parts: Vec<(String, u64)> = [&b"hello "[..], b"wide ", b"world"]
                .iter()
                .map(|p| (a.compute(p), p.len() as u64))
                .collect();
            assert_eq!(
                combine_crcs(a, &parts).unwrap(),
                a.compute(b"hello wide world"),
                "{a:?}"
            );
        }
        assert!(combine_crcs(ChecksumAlgorithm::Sha256, &[("x".into(), 1)]).is_none());
    }

    #[test]
    fn parse_names() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::parse(a.as_str()), Some(a));
        }
        assert_eq!(
            ChecksumAlgorithm::parse("crc32c"),
            Some(ChecksumAlgorithm::Crc32c)
        );
        assert_eq!(ChecksumAlgorithm::parse("md5"), None);
    }
}
