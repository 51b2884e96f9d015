//! KMS errors and their AWS codes, in one place.
//!
//! Codes follow the AWS KMS API Reference (each operation's "Errors" section
//! and "Common Errors"); KMS answers every client error, including
//! `AccessDeniedException`, with HTTP 400.

use strongbox_core::db::DbError;
use strongbox_core::sealing::SealingError;
use strongbox_core::AwsError;

/// Every error a KMS operation can return.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Disabled(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    InvalidCiphertext(String),
    #[error("{0}")]
    IncorrectKey(String),
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidGrantToken(String),
    #[error("{0}")]
    InvalidGrantId(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    Tag(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    /// `DryRun` was set and the request would have succeeded.
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    /// An unsigned request.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// The request body is not valid JSON of the expected shape.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    UnknownOperation(String),
    /// Storage or configuration failure; details are logged, not returned.
    #[error("{0}")]
    Internal(String),
}

impl From<DbError> for KmsError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "kms database error");
        KmsError::Internal("An internal error occurred.".to_string())
    }
}

impl From<SealingError> for KmsError {
    fn from(err: SealingError) -> Self {
        match err {
            // Operator mistakes at start-up: say what is wrong.
            SealingError::ShortSecret
            | SealingError::BadKeyFile(_)
            | SealingError::KeyFile { .. } => KmsError::Internal(err.to_string()),
            SealingError::Crypto(_) => {
                tracing::error!(error = %err, "kms master key");
                KmsError::Internal("An internal error occurred.".to_string())
            }
        }
    }
}

impl From<rusqlite::Error> for KmsError {
    fn from(e: rusqlite::Error) -> Self {
        KmsError::from(DbError::from(e))
    }
}

impl AwsError for KmsError {
    fn code(&self) -> &str {
        match self {
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::InvalidCiphertext(_) => "InvalidCiphertextException",
            KmsError::IncorrectKey(_) => "IncorrectKeyException",
            KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::AccessDenied(_) => "AccessDeniedException",
            KmsError::NotAuthorized(_) => "NotAuthorizedException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::InvalidArn(_) => "InvalidArnException",
            KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
            KmsError::InvalidGrantId(_) => "InvalidGrantIdException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::Tag(_) => "TagException",
            KmsError::LimitExceeded(_) => "LimitExceededException",
            KmsError::UnsupportedOperation(_) => "UnsupportedOperationException",
            KmsError::DryRun => "DryRunOperationException",
            KmsError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            KmsError::Serialization(_) => "SerializationException",
            KmsError::UnknownOperation(_) => "UnknownOperationException",
            KmsError::Internal(_) => "KMSInternalException",
        }
    }

    fn status(&self) -> u16 {
        match self {
            KmsError::Internal(_) => 500,
            _ => 400,
        }
    }
}

impl KmsError {
    /// `ValidationException` for a missing required member, worded as AWS does.
    pub(crate) fn missing(member: &str) -> KmsError {
        KmsError::Validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    /// How S3 reports this KMS failure during SSE-KMS: `(HTTP status, S3 error
    /// code, message)`. Access denials are S3 `AccessDenied` (403) carrying
    /// KMS's message; key problems keep KMS's exception name with the `KMS.`
    /// prefix S3 uses (e.g. `KMS.DisabledException`, 400); an unusable stored
    /// data key is an internal error.
    pub fn s3_error(&self) -> (u16, String, String) {
        match self {
            KmsError::AccessDenied(m) => (403, "AccessDenied".to_string(), m.clone()),
            KmsError::NotFound(_)
            | KmsError::Disabled(_)
            | KmsError::InvalidState(_)
            | KmsError::InvalidKeyUsage(_)
            | KmsError::InvalidArn(_) => (400, format!("KMS.{}", self.code()), self.message()),
            KmsError::Validation(_) => (400, "InvalidArgument".to_string(), self.message()),
            _ => (
                500,
                "InternalError".to_string(),
                "We encountered an internal error. Please try again.".to_string(),
            ),
        }
    }

    /// The JSON 1.1 error body: `{"__type": "...", "message": "..."}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "__type": self.code(), "message": self.message() }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let e = KmsError::NotFound("Key 'x' does not exist".into());
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["__type"], "NotFoundException");
        assert_eq!(v["message"], "Key 'x' does not exist");
        assert_eq!(e.status(), 400);
        assert_eq!(KmsError::AccessDenied("no".into()).status(), 400);
        assert_eq!(KmsError::Internal("x".into()).status(), 500);
        assert!(KmsError::missing("keyId").to_string().contains("'keyId'"));
        assert_eq!(
            KmsError::Disabled("d".into()).s3_error().1,
            "KMS.DisabledException"
        );
        assert_eq!(KmsError::AccessDenied("no".into()).s3_error().0, 403);
    }
}
