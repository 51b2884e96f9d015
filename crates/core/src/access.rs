//! The authorization hook that handlers call.
//!
//! Handlers describe *what* is being asked (an [`AccessCheck`]); the
//! [`Authorizer`] (implemented in `strongbox-authz`) gathers the caller's
//! policies, evaluates them with `strongbox-policy`, writes the decision
//! record, and answers allow or [`Denied`].

use crate::{Caller, RequestMeta};

/// One condition key supplied by the service (e.g. `s3:x-amz-acl`,
/// `kms:ViaService`). Several values make a multivalued key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ContextEntry {
    pub key: String,
    pub values: Vec<String>,
}

impl ContextEntry {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> ContextEntry {
        ContextEntry {
            key: key.into(),
            values: vec![value.into()],
        }
    }

    pub fn multi(key: impl Into<String>, values: Vec<String>) -> ContextEntry {
        ContextEntry {
            key: key.into(),
            values,
        }
    }
}

/// A resource-based policy attached to the resource being accessed.
#[derive(Clone, Copy, Debug)]
pub struct ResourcePolicy<'a> {
    /// How the trace names it: `bucket policy`, `key policy`, `trust policy`, `object ACL`.
    pub label: &'a str,
    /// The policy document (JSON text).
    pub document: &'a str,
}

/// One action on one resource that must be authorized.
#[derive(Clone, Debug)]
pub struct AccessCheck<'a> {
    /// `service:Action`, e.g. `s3:PutObject`.
    pub action: &'a str,
    /// The resource ARN.
    pub resource: &'a str,
    /// The account that owns the resource; `None` when it has no owner (e.g. `*`).
    pub resource_account: Option<&'a str>,
    /// Resource-based policies of the resource (bucket policy, ACL-derived grants, key policy…).
    pub resource_policies: &'a [ResourcePolicy<'a>],
    /// Whether a resource-based policy must allow even within one account
    /// (KMS key policies and role trust policies).
    pub resource_policy_required: bool,
    /// Service-specific condition keys for this check.
    pub context: &'a [ContextEntry],
}

impl<'a> AccessCheck<'a> {
    /// A check that the caller's own policies decide: the resource has no
    /// resource-based policy (IAM entities, STS operations, KMS `CreateKey`…).
    pub fn identity_only(
        action: &'a str,
        resource: &'a str,
        resource_account: Option<&'a str>,
        context: &'a [ContextEntry],
    ) -> AccessCheck<'a> {
        AccessCheck {
            action,
            resource,
            resource_account,
            resource_policies: &[],
            resource_policy_required: false,
            context,
        }
    }
}

/// Why a request was denied, in AWS's categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum DenialKind {
    ExplicitDenyScp,
    ExplicitDenyResourcePolicy,
    ExplicitDenyIdentityPolicy,
    ExplicitDenyPermissionsBoundary,
    ExplicitDenySessionPolicy,
    NoAllowScp,
    NoAllowResourcePolicy,
    NoAllowIdentityPolicy,
    NoAllowPermissionsBoundary,
    NoAllowSessionPolicy,
    /// Refused by a rule outside policy evaluation (Block Public Access, ACLs disabled, …).
    Other,
}

/// A denied access check.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub kind: DenialKind,
    /// AWS's message ("User: … is not authorized to perform: … because …").
    pub message: String,
    /// Whether AWS would show the detailed message to this caller
    /// (same-account callers) or only "Access Denied".
    pub detailed: bool,
}

/// A request refused by a rule outside policy evaluation ("Roles may not be assumed
/// by root accounts", Block Public Access, Object Lock, …): recorded for `explain`
/// like a policy denial.
#[derive(Clone, Copy, Debug)]
pub struct Refusal<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// The rule's name in the decision log (`assume_role_by_root`, …).
    pub rule: &'a str,
    /// What the caller is told.
    pub message: &'a str,
    /// The change that would allow the request.
    pub fix: &'a str,
}

/// Decides access checks. Implemented by `strongbox-authz`.
pub trait Authorizer: Send + Sync {
    /// Allow, or the denial with AWS's reason and message. Every call writes a decision record.
    fn check(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &AccessCheck<'_>,
    ) -> Result<(), Denied>;

    /// Records that a check denied by the policies was allowed by another
    /// mechanism (a KMS grant), so the decision log shows the final answer.
    /// The default records nothing.
    fn record_override(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &AccessCheck<'_>,
        allowed_by: &str,
    ) {
        let _ = (caller, meta, check, allowed_by);
    }

    /// Records a refusal decided outside policy evaluation. The default records
    /// nothing.
    fn record_refusal(&self, caller: &Caller, meta: &RequestMeta, refusal: &Refusal<'_>) {
        let _ = (caller, meta, refusal);
    }
}
