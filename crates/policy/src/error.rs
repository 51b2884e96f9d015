//! Why a policy document is refused, with the code and message the AWS API
//! that stores it returns. This is the one place that maps problems to codes.

use crate::policy::PolicyKind;

/// A refused policy document: AWS's error code and message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PolicyError {
    /// `MalformedPolicy` (S3), `MalformedPolicyDocument` (IAM),
    /// `MalformedPolicyDocumentException` (KMS, Organizations), or a size-limit code.
    pub code: &'static str,
    pub message: String,
}

/// What is wrong with a document, independent of the API that reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    InvalidJson,
    UnknownField(String),
    BadVersion,
    MissingStatement,
    EmptyStatement,
    BadType(&'static str),
    BadEffect(String),
    MissingEffect,
    MissingAction,
    BothActionElements,
    MissingResource,
    BothResourceElements,
    ProhibitedResource,
    PrincipalNotAllowed,
    NotPrincipalNotAllowed,
    MissingPrincipal,
    BothPrincipalElements,
    InvalidPrincipal,
    BadSid(String),
    DuplicateSid(String),
    BadAction(String),
    InvalidResource(String),
    UnknownOperator(String),
    BadConditionValue(String),
    TooLarge(usize),
    /// S3: no action of the statement applies to any of its resources.
    ActionResourceMismatch,
}

impl Problem {
    /// The error the storing API returns for this problem.
    pub(crate) fn error(self, kind: &PolicyKind) -> PolicyError {
        match kind {
            PolicyKind::Bucket { .. } => s3(self),
            PolicyKind::Identity
            | PolicyKind::Trust
            | PolicyKind::Session
            | PolicyKind::Boundary => iam(self),
            PolicyKind::KeyPolicy => kms(self),
            PolicyKind::Scp => organizations(self),
        }
    }
}

fn err(code: &'static str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        code,
        message: message.into(),
    }
}

/// Amazon S3 PutBucketPolicy: HTTP 400 `MalformedPolicy`.
fn s3(p: Problem) -> PolicyError {
    const C: &str = "MalformedPolicy";
    match p {
        Problem::InvalidJson => err(
            C,
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        Problem::UnknownField(f) => err(C, format!("Unknown field {f}")),
        Problem::BadVersion => err(C, "The policy must contain a valid version string"),
        Problem::MissingStatement => err(C, "Missing required field Statement"),
        Problem::EmptyStatement => err(C, "Could not parse the policy: Statement is empty!"),
        Problem::BadType(field) => err(C, format!("Invalid value for field {field}")),
        Problem::BadEffect(e) => err(C, format!("Invalid effect: {e}")),
        Problem::MissingEffect => err(C, "Missing required field Effect"),
        Problem::MissingAction => err(C, "Missing required field Action"),
        Problem::BothActionElements => {
            err(C, "Statement may not contain both Action and NotAction")
        }
        Problem::MissingResource => err(C, "Missing required field Resource"),
        Problem::BothResourceElements => {
            err(C, "Statement may not contain both Resource and NotResource")
        }
        Problem::ProhibitedResource => err(C, "Policy has invalid resource"),
        Problem::PrincipalNotAllowed
        | Problem::NotPrincipalNotAllowed
        | Problem::InvalidPrincipal => err(C, "Invalid principal in policy"),
        Problem::MissingPrincipal => err(C, "Missing required field Principal"),
        Problem::BothPrincipalElements => err(
            C,
            "Statement may not contain both Principal and NotPrincipal",
        ),
        Problem::BadSid(_) | Problem::DuplicateSid(_) => {
            err(C, "Statement IDs (SID) in a single policy must be unique")
        }
        Problem::BadAction(_) => err(C, "Policy has invalid action"),
        Problem::InvalidResource(_) => err(C, "Policy has invalid resource"),
        Problem::UnknownOperator(op) => err(C, format!("Invalid Condition type : {op}")),
        Problem::BadConditionValue(v) => err(C, format!("Invalid Condition value : {v}")),
        Problem::TooLarge(_) => err(C, "Policy exceeds the maximum allowed document size."),
        Problem::ActionResourceMismatch => {
            err(C, "Action does not apply to any resource(s) in statement")
        }
    }
}

/// IAM CreatePolicy / Put*Policy / CreateRole / AssumeRole: `MalformedPolicyDocument`.
fn iam(p: Problem) -> PolicyError {
    const C: &str = "MalformedPolicyDocument";
    match p {
        Problem::PrincipalNotAllowed => err(C, "Policy document should not specify a principal."),
        Problem::NotPrincipalNotAllowed => err(C, "Policy document should not specify a principal."),
        Problem::MissingPrincipal => err(C, "Missing required field Principal"),
        Problem::InvalidPrincipal => err(C, "Invalid principal in policy"),
        Problem::BadSid(_) => err(
            C,
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*",
        ),
        Problem::DuplicateSid(_) => err(C, "Statement IDs (SID) in a single policy must be unique."),
        Problem::MissingAction => err(C, "Policy statement must contain actions."),
        Problem::MissingResource => err(C, "Policy statement must contain resources."),
        Problem::ProhibitedResource => err(C, "Has prohibited field Resource"),
        Problem::BadAction(_) => err(C, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        Problem::InvalidResource(r) => err(C, format!("Resource {r} must be in ARN format or \"*\".")),
        Problem::TooLarge(limit) => err("LimitExceeded", format!("Cannot exceed quota for PolicySize: {limit}")),
        _ => err(C, "Syntax errors in policy."),
    }
}

/// AWS KMS CreateKey / PutKeyPolicy: `MalformedPolicyDocumentException`.
fn kms(p: Problem) -> PolicyError {
    const C: &str = "MalformedPolicyDocumentException";
    match p {
        Problem::InvalidPrincipal | Problem::MissingPrincipal | Problem::PrincipalNotAllowed => {
            err(
                C,
                "Policy contains a statement with one or more invalid principals.",
            )
        }
        Problem::TooLarge(limit) => err(
            C,
            format!("The key policy exceeds the maximum size of {limit} bytes."),
        ),
        Problem::InvalidJson => err(C, "The policy document is not valid JSON."),
        other => err(
            C,
            format!("The policy document is malformed: {}", detail(&other)),
        ),
    }
}

/// AWS Organizations CreatePolicy / UpdatePolicy (SERVICE_CONTROL_POLICY).
fn organizations(p: Problem) -> PolicyError {
    match p {
        Problem::TooLarge(_) => err(
            "ConstraintViolationException",
            "You attempted to exceed the maximum size of a policy (POLICY_CONTENT_LIMIT_EXCEEDED).",
        ),
        _ => err(
            "MalformedPolicyDocumentException",
            "The provided policy document does not meet the requirements of the specified policy type.",
        ),
    }
}

fn detail(p: &Problem) -> String {
    match p {
        Problem::UnknownField(f) => format!("unknown field {f}"),
        Problem::BadVersion => "invalid Version".into(),
        Problem::MissingStatement => "missing Statement".into(),
        Problem::EmptyStatement => "empty Statement".into(),
        Problem::BadType(f) => format!("invalid value for {f}"),
        Problem::BadEffect(e) => format!("invalid Effect {e}"),
        Problem::MissingEffect => "missing Effect".into(),
        Problem::MissingAction => "missing Action".into(),
        Problem::BothActionElements => "both Action and NotAction".into(),
        Problem::BothResourceElements => "both Resource and NotResource".into(),
        Problem::BothPrincipalElements => "both Principal and NotPrincipal".into(),
        Problem::BadAction(a) => format!("invalid action {a}"),
        Problem::InvalidResource(r) => format!("invalid resource {r}"),
        Problem::UnknownOperator(o) => format!("invalid condition operator {o}"),
        Problem::BadConditionValue(v) => format!("invalid condition value {v}"),
        Problem::DuplicateSid(s) => format!("duplicate Sid {s}"),
        Problem::BadSid(s) => format!("invalid Sid {s}"),
        _ => "invalid document".into(),
    }
}
