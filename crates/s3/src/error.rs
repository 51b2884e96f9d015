//! S3 errors: one enum, mapped to AWS's codes and statuses in one place.
//!
//! Codes, statuses and messages follow the Amazon S3 API Reference, "Error
//! responses" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

use strongbox_core::AwsError;

use crate::body::BodyError;

/// An S3 error.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("{0}")]
    AccessDenied(String),
    #[error("The bucket does not allow ACLs")]
    AccessControlListNotSupported,
    #[error("The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")]
    BucketAlreadyExists,
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou,
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty,
    #[error("The Content-MD5 you specified did not match what we received.")]
    BadDigest,
    #[error("The {0} you specified did not match the calculated checksum.")]
    BadChecksum(&'static str),
    #[error("Your proposed upload is smaller than the minimum allowed object size.")]
    EntityTooSmall,
    #[error("Your proposed upload exceeds the maximum allowed object size.")]
    EntityTooLarge,
    #[error("{0}")]
    IllegalLocationConstraint(String),
    #[error("{0}")]
    InternalError(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")]
    InvalidBucketAclWithObjectOwnership,
    #[error("The specified bucket is not valid.")]
    InvalidBucketName,
    #[error("The Content-MD5 you specified was invalid.")]
    InvalidDigest,
    #[error("The specified location-constraint is not valid")]
    InvalidLocationConstraint,
    #[error("One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")]
    InvalidPart,
    #[error("The list of parts was not in ascending order. Parts must be ordered by part number.")]
    InvalidPartOrder,
    /// A `partNumber` past the object's last part (GetObject/HeadObject).
    #[error("The requested partnumber is not satisfiable")]
    InvalidPartNumber,
    #[error("The requested range is not satisfiable")]
    InvalidRange,
    #[error("{0}")]
    InvalidRequest(String),
    /// PutBucketLogging with a target bucket that cannot receive logs (400).
    #[error("{0}")]
    InvalidTargetBucketForLogging(String),
    #[error("{0}")]
    InvalidTag(String),
    #[error("Your key is too long")]
    KeyTooLong,
    #[error(
        "The XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedAcl,
    #[error("{0}")]
    MalformedPolicy(String),
    #[error(
        "The XML you provided was not well-formed or did not validate against our published schema"
    )]
    MalformedXml,
    #[error("The specified method is not allowed against this resource.")]
    MethodNotAllowed,
    #[error("You must provide the Content-Length HTTP header.")]
    MissingContentLength,
    #[error("Request Body is empty")]
    MissingRequestBody,
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    #[error("The bucket policy does not exist")]
    NoSuchBucketPolicy,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The public access block configuration was not found")]
    NoSuchPublicAccessBlockConfiguration,
    #[error("The TagSet does not exist")]
    NoSuchTagSet,
    #[error("The lifecycle configuration does not exist")]
    NoSuchLifecycleConfiguration,
    #[error("The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")]
    NoSuchUpload,
    #[error("The specified version does not exist.")]
    NoSuchVersion,
    #[error("{0}")]
    NotImplemented(String),
    #[error("Not Modified")]
    NotModified,
    #[error("The bucket ownership controls were not found")]
    OwnershipControlsNotFound,
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    #[error("The server side encryption configuration was not found")]
    ServerSideEncryptionConfigurationNotFound,
    #[error("Your request was too big.")]
    MaxMessageLengthExceeded,
    #[error("Invalid id")]
    InvalidGrantId,
    #[error("The e-mail address you provided does not match any account on record.")]
    UnresolvableGrantByEmailAddress,
    #[error("Your metadata headers exceed the maximum allowed metadata size.")]
    MetadataTooLarge,
    #[error("This request does not support content")]
    UnexpectedContent,
    #[error("Your request was missing a required header")]
    MissingSecurityHeader,
    #[error("The storage class you specified is not valid")]
    InvalidStorageClass,
    #[error("{0}")]
    Body(BodyError),
    /// A KMS failure during server-side encryption, as S3 reports it.
    #[error("{message}")]
    Kms {
        status: u16,
        code: String,
        message: String,
    },
    #[error("The encryption request you specified is not valid. The valid value is AES256.")]
    InvalidEncryptionAlgorithm,
    #[error("{0}")]
    InvalidBucketState(String),
    #[error("Object Lock configuration does not exist for this bucket")]
    ObjectLockConfigurationNotFound,
    #[error("The specified object does not have a ObjectLock configuration")]
    NoSuchObjectLockConfiguration,
    /// A POST policy that cannot be read ("Invalid Policy: …").
    #[error("{0}")]
    InvalidPolicyDocument(String),
    /// A POST body that is not well-formed multipart/form-data.
    #[error("{0}")]
    MalformedPostRequest(String),
    #[error("The CORS configuration does not exist")]
    NoSuchCorsConfiguration,
    /// A CORS preflight that no rule allows (`403 AccessForbidden`).
    #[error("{0}")]
    CorsForbidden(String),
    /// A CORS preflight without what it must name (`400 BadRequest`).
    #[error("{0}")]
    BadRequest(String),
}

impl AwsError for S3Error {
    fn code(&self) -> &str {
        match self {
            S3Error::AccessDenied(_) => "AccessDenied",
            S3Error::AccessControlListNotSupported => "AccessControlListNotSupported",
            S3Error::BucketAlreadyExists => "BucketAlreadyExists",
            S3Error::BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            S3Error::BucketNotEmpty => "BucketNotEmpty",
            S3Error::BadDigest | S3Error::BadChecksum(_) => "BadDigest",
            S3Error::EntityTooSmall => "EntityTooSmall",
            S3Error::EntityTooLarge => "EntityTooLarge",
            S3Error::IllegalLocationConstraint(_) => "IllegalLocationConstraintException",
            S3Error::InternalError(_) => "InternalError",
            S3Error::InvalidArgument(_) | S3Error::InvalidGrantId => "InvalidArgument",
            S3Error::InvalidBucketAclWithObjectOwnership => "InvalidBucketAclWithObjectOwnership",
            S3Error::InvalidBucketName => "InvalidBucketName",
            S3Error::InvalidDigest => "InvalidDigest",
            S3Error::InvalidLocationConstraint => "InvalidLocationConstraint",
            S3Error::InvalidPart => "InvalidPart",
            S3Error::InvalidPartOrder => "InvalidPartOrder",
            S3Error::InvalidPartNumber => "InvalidPartNumber",
            S3Error::InvalidRange => "InvalidRange",
            S3Error::InvalidRequest(_) => "InvalidRequest",
            S3Error::InvalidTargetBucketForLogging(_) => "InvalidTargetBucketForLogging",
            S3Error::InvalidTag(_) => "InvalidTag",
            S3Error::KeyTooLong => "KeyTooLongError",
            S3Error::MalformedAcl => "MalformedACLError",
            S3Error::MalformedPolicy(_) => "MalformedPolicy",
            S3Error::MalformedXml => "MalformedXML",
            S3Error::MethodNotAllowed => "MethodNotAllowed",
            S3Error::MissingContentLength => "MissingContentLength",
            S3Error::MissingRequestBody => "MissingRequestBodyError",
            S3Error::NoSuchBucket => "NoSuchBucket",
            S3Error::NoSuchBucketPolicy => "NoSuchBucketPolicy",
            S3Error::NoSuchKey => "NoSuchKey",
            S3Error::NoSuchPublicAccessBlockConfiguration => "NoSuchPublicAccessBlockConfiguration",
            S3Error::NoSuchTagSet => "NoSuchTagSet",
            S3Error::NoSuchLifecycleConfiguration => "NoSuchLifecycleConfiguration",
            S3Error::NoSuchUpload => "NoSuchUpload",
            S3Error::NoSuchVersion => "NoSuchVersion",
            S3Error::NotImplemented(_) => "NotImplemented",
            S3Error::NotModified => "NotModified",
            S3Error::OwnershipControlsNotFound => "OwnershipControlsNotFoundError",
            S3Error::PreconditionFailed => "PreconditionFailed",
            S3Error::ServerSideEncryptionConfigurationNotFound => {
                "ServerSideEncryptionConfigurationNotFoundError"
            }
            S3Error::MaxMessageLengthExceeded => "MaxMessageLengthExceeded",
            S3Error::UnresolvableGrantByEmailAddress => "UnresolvableGrantByEmailAddress",
            S3Error::MetadataTooLarge => "MetadataTooLarge",
            S3Error::UnexpectedContent => "UnexpectedContent",
            S3Error::MissingSecurityHeader => "MissingSecurityHeader",
            S3Error::InvalidStorageClass => "InvalidStorageClass",
            S3Error::Body(b) => b.code(),
            S3Error::Kms { code, .. } => code,
            S3Error::InvalidEncryptionAlgorithm => "InvalidEncryptionAlgorithmError",
            S3Error::InvalidBucketState(_) => "InvalidBucketState",
            S3Error::ObjectLockConfigurationNotFound => "ObjectLockConfigurationNotFoundError",
            S3Error::NoSuchObjectLockConfiguration => "NoSuchObjectLockConfiguration",
            S3Error::InvalidPolicyDocument(_) => "InvalidPolicyDocument",
            S3Error::MalformedPostRequest(_) => "MalformedPOSTRequest",
            S3Error::NoSuchCorsConfiguration => "NoSuchCORSConfiguration",
            S3Error::CorsForbidden(_) => "AccessForbidden",
            S3Error::BadRequest(_) => "BadRequest",
        }
    }

    fn status(&self) -> u16 {
        match self {
            S3Error::AccessDenied(_) | S3Error::CorsForbidden(_) => 403,
            S3Error::BucketAlreadyExists
            | S3Error::BucketAlreadyOwnedByYou
            | S3Error::BucketNotEmpty
            | S3Error::InvalidBucketState(_) => 409,
            S3Error::InternalError(_) => 500,
            S3Error::MethodNotAllowed => 405,
            S3Error::MissingContentLength => 411,
            S3Error::NoSuchBucket
            | S3Error::NoSuchBucketPolicy
            | S3Error::NoSuchKey
            | S3Error::NoSuchPublicAccessBlockConfiguration
            | S3Error::NoSuchTagSet
            | S3Error::NoSuchLifecycleConfiguration
            | S3Error::NoSuchUpload
            | S3Error::NoSuchVersion
            | S3Error::OwnershipControlsNotFound
            | S3Error::ServerSideEncryptionConfigurationNotFound
            | S3Error::ObjectLockConfigurationNotFound
            | S3Error::NoSuchObjectLockConfiguration
            | S3Error::NoSuchCorsConfiguration => 404,
            S3Error::NotImplemented(_) => 501,
            S3Error::NotModified => 304,
            S3Error::PreconditionFailed => 412,
            S3Error::InvalidRange | S3Error::InvalidPartNumber => 416,
            S3Error::Body(b) => b.status(),
            S3Error::Kms { status, .. } => *status,
            _ => 400,
        }
    }
}

impl From<strongbox_store::StoreError> for S3Error {
    fn from(e: strongbox_store::StoreError) -> S3Error {
        use strongbox_store::StoreError as E;
        match e {
            E::NoSuchBucket => S3Error::NoSuchBucket,
            E::BucketNotEmpty => S3Error::BucketNotEmpty,
            E::NoSuchUpload => S3Error::NoSuchUpload,
            E::NoSuchObject => S3Error::NoSuchKey,
            E::BucketExists { .. } => S3Error::BucketAlreadyExists,
            other => {
                tracing::error!(error = %other, "storage failure");
                S3Error::InternalError("We encountered an internal error. Please try again.".into())
            }
        }
    }
}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> S3Error {
        tracing::error!(error = %e, "I/O failure");
        S3Error::InternalError("We encountered an internal error. Please try again.".into())
    }
}

impl From<BodyError> for S3Error {
    fn from(e: BodyError) -> S3Error {
        S3Error::Body(e)
    }
}

/// An error on its way out, with the extra XML elements and headers AWS adds
/// (e.g. `<Key>` for NoSuchKey, `x-amz-delete-marker`).
#[derive(Debug)]
pub struct Failure {
    pub error: S3Error,
    pub extra: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
}

impl Failure {
    /// `NoSuchBucket` carries `<BucketName>`, as S3 answers it.
    pub(crate) fn naming_the_bucket(self, bucket: Option<&str>) -> Failure {
        match bucket {
            Some(name)
                if matches!(self.error, S3Error::NoSuchBucket)
                    && !self.extra.iter().any(|(n, _)| *n == "BucketName") =>
            {
                self.with("BucketName", name)
            }
            _ => self,
        }
    }

    pub fn with(mut self, element: &'static str, value: impl Into<String>) -> Failure {
        self.extra.push((element, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Failure {
        self.headers.push((name, value.into()));
        self
    }
}

impl<E: Into<S3Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure {
            error: e.into(),
            extra: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// Handler results.
pub type S3Result<T> = Result<T, Failure>;
