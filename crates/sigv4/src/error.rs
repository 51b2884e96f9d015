//! Authentication errors and their AWS codes, statuses and messages (the one place they are mapped).
//!
//! Codes and messages follow the S3 error list
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>).

use strongbox_core::AwsError;

/// What a failed signature comparison carries, so the S3 error XML can show
/// `StringToSign`, `CanonicalRequest`, `SignatureProvided` and `AWSAccessKeyId` as AWS does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureMismatch {
    pub access_key_id: String,
    pub string_to_sign: String,
    /// Empty for SigV2 and for chunk/trailer signatures.
    pub canonical_request: String,
    pub signature_provided: String,
}

/// Every way authentication or payload decoding can fail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("The request signature we calculated does not match the signature you provided. Check your key and signing method.")]
    SignatureDoesNotMatch(Box<SignatureMismatch>),

    #[error("The AWS Access Key Id you provided does not exist in our records.")]
    InvalidAccessKeyId { access_key_id: String },

    #[error("The difference between the request time and the current time is too large.")]
    RequestTimeTooSkewed {
        request_time: String,
        server_time: String,
        max_allowed_skew_ms: i64,
    },

    /// `message` is AWS's full text; `region` is the expected region for the wrong-region case.
    #[error("{message}")]
    AuthorizationHeaderMalformed {
        message: String,
        region: Option<String>,
    },

    #[error("{message}")]
    AuthorizationQueryParametersError {
        message: String,
        region: Option<String>,
    },

    /// A presigned URL past its expiry (code `AccessDenied`).
    #[error("Request has expired")]
    RequestExpired {
        expires: String,
        server_time: String,
    },

    /// `x-amz-*` headers sent but not covered by the SigV4 signature (code `AccessDenied`);
    /// `headers` lists them, comma-separated.
    #[error("There were headers present in the request which were not signed")]
    HeadersNotSigned { headers: String },

    /// Any other `AccessDenied` raised during authentication.
    #[error("{0}")]
    AccessDenied(String),

    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch {
        client_computed: String,
        s3_computed: String,
    },

    /// `Content-MD5` or an `x-amz-checksum-*` value that does not match the body.
    #[error("{message}")]
    BadDigest { message: String },

    #[error("The Content-MD5 you specified was invalid.")]
    InvalidDigest,

    #[error(
        "You did not provide the number of bytes specified by the Content-Length HTTP header."
    )]
    IncompleteBody,

    #[error("Your request was missing a required header.")]
    MissingSecurityHeader { header: String },

    #[error("You must provide the Content-Length HTTP header.")]
    MissingContentLength,

    /// Bad aws-chunked framing and other malformed requests.
    #[error("{0}")]
    InvalidRequest(String),

    #[error("{0}")]
    InvalidArgument(String),

    #[error("{0}")]
    NotImplemented(String),

    /// The services other than S3 refuse a SigV4 signature that leaves out a required part
    /// (such as the `host` header) with `IncompleteSignature` (400).
    #[error("{0}")]
    IncompleteSignature(String),
}

impl AuthError {
    pub(crate) fn header_malformed(detail: impl std::fmt::Display) -> AuthError {
        AuthError::AuthorizationHeaderMalformed {
            message: format!("The authorization header is malformed; {detail}"),
            region: None,
        }
    }

    pub(crate) fn query_error(message: impl Into<String>) -> AuthError {
        AuthError::AuthorizationQueryParametersError {
            message: message.into(),
            region: None,
        }
    }

    pub(crate) fn chunked(message: impl Into<String>) -> AuthError {
        AuthError::InvalidRequest(message.into())
    }

    /// Extra elements AWS adds to the S3 error XML for this error, in order
    /// (e.g. `StringToSign`, `SignatureProvided`, `RequestTime`, `Region`).
    pub fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            AuthError::SignatureDoesNotMatch(m) => {
                let mut d = vec![("AWSAccessKeyId", m.access_key_id.clone())];
                d.push(("StringToSign", m.string_to_sign.clone()));
                d.push(("SignatureProvided", m.signature_provided.clone()));
                d.push(("StringToSignBytes", spaced_hex(m.string_to_sign.as_bytes())));
                if !m.canonical_request.is_empty() {
                    d.push(("CanonicalRequest", m.canonical_request.clone()));
                    d.push((
                        "CanonicalRequestBytes",
                        spaced_hex(m.canonical_request.as_bytes()),
                    ));
                }
                d
            }
            AuthError::InvalidAccessKeyId { access_key_id } => {
                vec![("AWSAccessKeyId", access_key_id.clone())]
            }
            AuthError::RequestTimeTooSkewed {
                request_time,
                server_time,
                max_allowed_skew_ms,
            } => vec![
                ("RequestTime", request_time.clone()),
                ("ServerTime", server_time.clone()),
                (
                    "MaxAllowedSkewMilliseconds",
                    max_allowed_skew_ms.to_string(),
                ),
            ],
            AuthError::AuthorizationHeaderMalformed {
                region: Some(r), ..
            }
            | AuthError::AuthorizationQueryParametersError {
                region: Some(r), ..
            } => vec![("Region", r.clone())],
            AuthError::RequestExpired {
                expires,
                server_time,
            } => {
                vec![
                    ("Expires", expires.clone()),
                    ("ServerTime", server_time.clone()),
                ]
            }
            AuthError::ContentSha256Mismatch {
                client_computed,
                s3_computed,
            } => vec![
                ("ClientComputedContentSHA256", client_computed.clone()),
                ("S3ComputedContentSHA256", s3_computed.clone()),
            ],
            AuthError::MissingSecurityHeader { header } => {
                vec![("MissingHeaderName", header.clone())]
            }
            AuthError::HeadersNotSigned { headers } => vec![("HeadersNotSigned", headers.clone())],
            _ => Vec::new(),
        }
    }
}

fn spaced_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl AwsError for AuthError {
    fn code(&self) -> &str {
        match self {
            AuthError::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            AuthError::InvalidAccessKeyId { .. } => "InvalidAccessKeyId",
            AuthError::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            AuthError::AuthorizationHeaderMalformed { .. } => "AuthorizationHeaderMalformed",
            AuthError::AuthorizationQueryParametersError { .. } => {
                "AuthorizationQueryParametersError"
            }
            AuthError::RequestExpired { .. }
            | AuthError::HeadersNotSigned { .. }
            | AuthError::AccessDenied(_) => "AccessDenied",
            AuthError::ContentSha256Mismatch { .. } => "XAmzContentSHA256Mismatch",
            AuthError::BadDigest { .. } => "BadDigest",
            AuthError::InvalidDigest => "InvalidDigest",
            AuthError::IncompleteBody => "IncompleteBody",
            AuthError::MissingSecurityHeader { .. } => "MissingSecurityHeader",
            AuthError::MissingContentLength => "MissingContentLength",
            AuthError::InvalidRequest(_) => "InvalidRequest",
            AuthError::InvalidArgument(_) => "InvalidArgument",
            AuthError::NotImplemented(_) => "NotImplemented",
            AuthError::IncompleteSignature(_) => "IncompleteSignature",
        }
    }

    fn status(&self) -> u16 {
        match self {
            AuthError::SignatureDoesNotMatch(_)
            | AuthError::InvalidAccessKeyId { .. }
            | AuthError::RequestTimeTooSkewed { .. }
            | AuthError::RequestExpired { .. }
            | AuthError::HeadersNotSigned { .. }
            | AuthError::AccessDenied(_) => 403,
            AuthError::MissingContentLength => 411,
            AuthError::NotImplemented(_) => 501,
            AuthError::AuthorizationHeaderMalformed { .. }
            | AuthError::AuthorizationQueryParametersError { .. }
            | AuthError::ContentSha256Mismatch { .. }
            | AuthError::BadDigest { .. }
            | AuthError::InvalidDigest
            | AuthError::IncompleteBody
            | AuthError::MissingSecurityHeader { .. }
            | AuthError::InvalidRequest(_)
            | AuthError::InvalidArgument(_)
            | AuthError::IncompleteSignature(_) => 400,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let e = AuthError::SignatureDoesNotMatch(Box::default());
        assert_eq!((e.code(), e.status()), ("SignatureDoesNotMatch", 403));
        let e = AuthError::RequestExpired {
            expires: "x".into(),
            server_time: "y".into(),
        };
        assert_eq!(
            (e.code(), e.status(), e.message().as_str()),
            ("AccessDenied", 403, "Request has expired")
        );
        let e = AuthError::ContentSha256Mismatch {
            client_computed: "a".into(),
            s3_computed: "b".into(),
        };
        assert_eq!((e.code(), e.status()), ("XAmzContentSHA256Mismatch", 400));
        assert_eq!(AuthError::IncompleteBody.status(), 400);
        assert_eq!(spaced_hex(b"AB"), "41 42");
    }
}
