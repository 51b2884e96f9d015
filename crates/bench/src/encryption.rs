//! The server-side encryption a run's PUTs ask for, to measure what encryption costs.
//!
//! SSE-S3 is what S3 (and Strongbox) applies to every object by default; SSE-KMS
//! names a KMS key in `x-amz-server-side-encryption-aws-kms-key-id`; `none` is the
//! plaintext baseline, which needs a server started with the hidden
//! `serve --benchmark-plaintext-baseline` (the tool starts one with `--start-server`).
//!
//! Headers: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/specifying-kms-encryption.html>

use crate::units::ParseError;

/// The encryption of one set of throughput phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encryption {
    /// Plaintext at rest (benchmark baseline server).
    None,
    /// `x-amz-server-side-encryption: AES256`.
    SseS3,
    /// `x-amz-server-side-encryption: aws:kms` with a customer managed key.
    SseKms,
}

impl Encryption {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Encryption::None => "none",
            Encryption::SseS3 => "SSE-S3",
            Encryption::SseKms => "SSE-KMS",
        }
    }

    /// Parses `none`, `sse-s3` or `sse-kms` (case-insensitive).
    pub fn parse(input: &str) -> Result<Encryption, ParseError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Encryption::None),
            "sse-s3" | "aes256" => Ok(Encryption::SseS3),
            "sse-kms" | "aws:kms" => Ok(Encryption::SseKms),
            _ => Err(ParseError::new(
                "encryption",
                input,
                "expected none, sse-s3 or sse-kms",
            )),
        }
    }

    /// The PUT headers that ask for this encryption; `kms_key_id` for SSE-KMS.
    pub fn put_headers(self, kms_key_id: Option<&str>) -> Vec<(String, String)> {
        const SSE: &str = "x-amz-server-side-encryption";
        match self {
            Encryption::None => Vec::new(),
            Encryption::SseS3 => vec![(SSE.into(), "AES256".into())],
            Encryption::SseKms => {
                let mut headers = vec![(SSE.to_string(), "aws:kms".to_string())];
                if let Some(id) = kms_key_id {
                    headers.push((format!("{SSE}-aws-kms-key-id"), id.to_string()));
                }
                headers
            }
        }
    }

    /// The value the server must answer in `x-amz-server-side-encryption`.
    pub fn expected_response(self) -> Option<&'static str> {
        match self {
            Encryption::None => None,
            Encryption::SseS3 => Some("AES256"),
            Encryption::SseKms => Some("aws:kms"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names() {
        assert_eq!(Encryption::parse("SSE-KMS").unwrap(), Encryption::SseKms);
        assert_eq!(Encryption::parse(" none").unwrap(), Encryption::None);
        assert_eq!(Encryption::parse("aes256").unwrap(), Encryption::SseS3);
        assert!(Encryption::parse("sse-c").is_err());
        assert_eq!(Encryption::SseS3.name(), "SSE-S3");
    }

    #[test]
    fn headers_per_mode() {
        assert!(Encryption::None.put_headers(None).is_empty());
        assert_eq!(
            Encryption::SseKms.put_headers(Some("k1")),
            vec![
                ("x-amz-server-side-encryption".into(), "aws:kms".into()),
                (
                    "x-amz-server-side-encryption-aws-kms-key-id".into(),
                    "k1".into()
                )
            ]
        );
    }
}
