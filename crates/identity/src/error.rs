//! Errors of the identity service and their AWS codes, in one place.
//!
//! IAM and STS codes: <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html>,
//! <https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html>.
//! Organizations exception names: <https://docs.aws.amazon.com/organizations/latest/APIReference/CommonErrors.html>.

use strongbox_core::db::DbError;
use strongbox_core::AwsError;

/// An identity-service error, carrying AWS's message.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Unknown, deleted or inactive access key (S3 says `InvalidAccessKeyId`,
    /// the Query services say `InvalidClientTokenId`; see [`IdentityError::query_code`]).
    #[error("{0}")]
    InvalidAccessKeyId(String),
    /// A session token that does not belong to the access key.
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    ExpiredToken(String),
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    #[error("{0}")]
    ValidationError(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    MissingParameter(String),
    #[error("{0}")]
    InvalidAction(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    AccountNotManagementOrDelegatedAdministrator(String),
    #[error("{0}")]
    CallerIsNotManagementAccount(String),
    #[error("{0}")]
    OrganizationNotFound(String),
    #[error("{0}")]
    ServiceAccessNotEnabled(String),
    /// An Organizations exception: `code` is the `__type` (e.g. `AccountNotFoundException`).
    #[error("{message}")]
    Organizations { code: &'static str, message: String },
    #[error("{0}")]
    ServiceFailure(String),
}

impl From<DbError> for IdentityError {
    fn from(e: DbError) -> IdentityError {
        tracing::error!(error = %e, "identity store failure");
        IdentityError::ServiceFailure("An internal error occurred.".to_string())
    }
}

impl IdentityError {
    /// Shorthand for an Organizations exception.
    pub fn orgs(code: &'static str, message: impl Into<String>) -> IdentityError {
        IdentityError::Organizations {
            code,
            message: message.into(),
        }
    }

    /// The code used by the Query protocol services (IAM, STS), where an
    /// unknown key is `InvalidClientTokenId` rather than S3's `InvalidAccessKeyId`.
    pub fn query_code(&self) -> &str {
        match self {
            IdentityError::InvalidAccessKeyId(_) | IdentityError::InvalidToken(_) => {
                "InvalidClientTokenId"
            }
            other => other.code(),
        }
    }

    /// The message the Query protocol services use for authentication failures.
    pub fn query_message(&self) -> String {
        match self {
            IdentityError::InvalidAccessKeyId(_) | IdentityError::InvalidToken(_) => {
                "The security token included in the request is invalid.".to_string()
            }
            IdentityError::ExpiredToken(_) => {
                "The security token included in the request is expired".to_string()
            }
            other => other.to_string(),
        }
    }
}

impl AwsError for IdentityError {
    fn code(&self) -> &str {
        match self {
            IdentityError::InvalidAccessKeyId(_) => "InvalidAccessKeyId",
            IdentityError::InvalidToken(_) => "InvalidToken",
            IdentityError::ExpiredToken(_) => "ExpiredToken",
            IdentityError::NoSuchEntity(_) => "NoSuchEntity",
            IdentityError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            IdentityError::DeleteConflict(_) => "DeleteConflict",
            IdentityError::LimitExceeded(_) => "LimitExceeded",
            IdentityError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            IdentityError::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            IdentityError::ValidationError(_) => "ValidationError",
            IdentityError::InvalidInput(_) => "InvalidInput",
            IdentityError::MissingParameter(_) => "MissingParameter",
            IdentityError::InvalidAction(_) => "InvalidAction",
            IdentityError::AccessDenied(_) => "AccessDenied",
            IdentityError::AccountNotManagementOrDelegatedAdministrator(_) => {
                "AccountNotManagementOrDelegatedAdministrator"
            }
            IdentityError::CallerIsNotManagementAccount(_) => "CallerIsNotManagementAccount",
            IdentityError::OrganizationNotFound(_) => "OrganizationNotFound",
            IdentityError::ServiceAccessNotEnabled(_) => "ServiceAccessNotEnabled",
            IdentityError::Organizations { code, .. } => code,
            IdentityError::ServiceFailure(_) => "ServiceFailure",
        }
    }

    fn status(&self) -> u16 {
        match self {
            IdentityError::InvalidAccessKeyId(_) | IdentityError::AccessDenied(_) => 403,
            IdentityError::NoSuchEntity(_) => 404,
            IdentityError::EntityAlreadyExists(_)
            | IdentityError::DeleteConflict(_)
            | IdentityError::LimitExceeded(_) => 409,
            IdentityError::ServiceFailure(_) => 500,
            _ => 400,
        }
    }
}

/// `1 validation error detected: Value 'v' at 'field' failed to satisfy constraint: …`,
/// the wording of AWS's Query services for request constraint violations.
pub fn constraint(value: &str, field: &str, rule: &str) -> IdentityError {
    IdentityError::ValidationError(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    ))
}

/// Convenience alias.
pub type Result<T> = std::result::Result<T, IdentityError>;
