//! What `x-amz-content-sha256` announces about the body, and checking a signed SHA-256 body.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>

use aws_lc_rs::digest;

use crate::crypto::hex;
use crate::error::AuthError;

pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// How the body is protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadMode {
    /// The body's SHA-256 (lower-case hex) was signed; check it with [`PayloadVerifier`].
    SignedSha256(String),
    /// `UNSIGNED-PAYLOAD` (or no claim at all: SigV2, anonymous).
    Unsigned,
    /// aws-chunked, every chunk signed.
    StreamingSigned,
    /// aws-chunked, every chunk signed, then signed trailing headers.
    StreamingSignedTrailer,
    /// aws-chunked without signatures, then trailing headers (a checksum).
    StreamingUnsignedTrailer,
}

impl PayloadMode {
    /// Reads an `x-amz-content-sha256` value.
    pub fn from_header_value(value: &str) -> Result<PayloadMode, AuthError> {
        match value {
            UNSIGNED_PAYLOAD => Ok(PayloadMode::Unsigned),
            STREAMING_SIGNED => Ok(PayloadMode::StreamingSigned),
            STREAMING_SIGNED_TRAILER => Ok(PayloadMode::StreamingSignedTrailer),
            STREAMING_UNSIGNED_TRAILER => Ok(PayloadMode::StreamingUnsignedTrailer),
            v if v.starts_with("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") => {
                Err(AuthError::NotImplemented("Signature Version 4A streaming payloads are not supported.".into()))
            }
            v if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Ok(PayloadMode::SignedSha256(v.to_ascii_lowercase()))
            }
            _ => Err(AuthError::InvalidArgument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, \
                 STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 \
                 value."
                    .to_string(),
            )),
        }
    }

    /// The mode announced by the request headers, for requests that are not SigV4-verified
    /// (anonymous, SigV2): `Unsigned` when no `x-amz-content-sha256` is sent.
    pub fn from_headers(headers: &http::HeaderMap) -> Result<PayloadMode, AuthError> {
        match headers.get("x-amz-content-sha256").map(|v| v.to_str()) {
            None => Ok(PayloadMode::Unsigned),
            Some(Ok(v)) => PayloadMode::from_header_value(v.trim()),
            Some(Err(_)) => PayloadMode::from_header_value(""),
        }
    }

    /// Whether the body uses aws-chunked framing (decode it with [`crate::ChunkedDecoder`]).
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            PayloadMode::StreamingSigned
                | PayloadMode::StreamingSignedTrailer
                | PayloadMode::StreamingUnsignedTrailer
        )
    }

    /// Whether the aws-chunked body carries trailing headers.
    pub fn has_trailer(&self) -> bool {
        matches!(
            self,
            PayloadMode::StreamingSignedTrailer | PayloadMode::StreamingUnsignedTrailer
        )
    }
}

/// Hashes a body as it streams and compares it with the signed SHA-256 at the end.
pub struct PayloadVerifier {
    expected: Option<String>,
    context: Option<digest::Context>,
}

impl PayloadVerifier {
    /// Checks nothing unless `mode` is [`PayloadMode::SignedSha256`].
    pub fn new(mode: &PayloadMode) -> PayloadVerifier {
        match mode {
            PayloadMode::SignedSha256(h) => PayloadVerifier {
                expected: Some(h.clone()),
                context: Some(digest::Context::new(&digest::SHA256)),
            },
            _ => PayloadVerifier {
                expected: None,
                context: None,
            },
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        if let Some(c) = self.context.as_mut() {
            c.update(data);
        }
    }

    /// `XAmzContentSHA256Mismatch` when the body does not hash to the signed value.
    pub fn finish(self) -> Result<(), AuthError> {
        let (Some(expected), Some(context)) = (self.expected, self.context) else {
            return Ok(());
        };
        let computed = hex(context.finish().as_ref());
        if computed == expected {
            Ok(())
        } else {
            Err(AuthError::ContentSha256Mismatch {
                client_computed: expected,
                s3_computed: computed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{sha256_hex, EMPTY_SHA256};

    #[test]
    fn modes() {
        assert_eq!(
            PayloadMode::from_header_value("UNSIGNED-PAYLOAD").unwrap(),
            PayloadMode::Unsigned
        );
        assert_eq!(
            PayloadMode::from_header_value(&EMPTY_SHA256.to_uppercase()).unwrap(),
            PayloadMode::SignedSha256(EMPTY_SHA256.to_string())
        );
        assert!(PayloadMode::from_header_value("abc").is_err());
        assert!(PayloadMode::from_header_value(STREAMING_UNSIGNED_TRAILER)
            .unwrap()
            .has_trailer());
        assert_eq!(
            PayloadMode::from_headers(&http::HeaderMap::new()).unwrap(),
            PayloadMode::Unsigned
        );
    }

    #[test]
    fn verifier() {
        let mode = PayloadMode::SignedSha256(sha256_hex(b"hello world"));
        let mut v = PayloadVerifier::new(&mode);
        v.update(b"hello ");
        v.update(b"world");
        assert!(v.finish().is_ok());
        let mut v = PayloadVerifier::new(&mode);
        v.update(b"hello");
        let err = v.finish().unwrap_err();
        assert!(matches!(err, AuthError::ContentSha256Mismatch { .. }));
        assert!(PayloadVerifier::new(&PayloadMode::Unsigned)
            .finish()
            .is_ok());
    }
}
