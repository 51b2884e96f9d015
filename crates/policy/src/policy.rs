//! Compiled policies: every wildcard, ARN pattern, CIDR, date and number is
//! read once, when the document is parsed, so evaluation never re-parses.

use std::sync::Arc;

use serde::Serialize;

use crate::arn::ArnMatcher;
use crate::condition::Condition;
use crate::error::PolicyError;
use crate::glob::Glob;
use crate::principal::{PrincipalEntry, PrincipalSpec};
use crate::variables::Pattern;

/// Which kind of policy a document is; decides validation rules and error codes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum PolicyKind {
    /// An IAM identity-based policy (user, group or role; inline or managed).
    Identity,
    /// An S3 bucket policy for `bucket`.
    Bucket { bucket: String },
    /// A KMS key policy.
    KeyPolicy,
    /// An Organizations service control policy.
    Scp,
    /// An IAM role trust policy.
    Trust,
    /// A session policy passed to AssumeRole (or a similar STS call).
    Session,
    /// A permissions boundary (a managed policy used as boundary).
    Boundary,
}

impl PolicyKind {
    /// Whether statements of this kind name a principal.
    pub fn is_resource_based(&self) -> bool {
        matches!(
            self,
            PolicyKind::Bucket { .. } | PolicyKind::KeyPolicy | PolicyKind::Trust
        )
    }
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// The `Action` / `NotAction` element.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ActionSpec {
    Action(Vec<Glob>),
    NotAction(Vec<Glob>),
    /// Missing (only in documents read leniently): matches nothing.
    Missing,
}

/// One `Resource` value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ResourcePattern {
    Static(ArnMatcher),
    Dynamic(Pattern),
}

/// The `Resource` / `NotResource` element.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ResourceSpec {
    Resource(Vec<ResourcePattern>),
    NotResource(Vec<ResourcePattern>),
    /// Missing: a key-policy statement without Resource applies to nothing;
    /// a trust policy names no resource (the role is the resource).
    Missing {
        matches_all: bool,
    },
}

/// One compiled statement.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// `Principal` / `NotPrincipal` (resource-based policies only).
    pub(crate) principal: Option<PrincipalSpec>,
    pub(crate) action: ActionSpec,
    pub(crate) resource: ResourceSpec,
    pub(crate) conditions: Vec<Condition>,
    /// The statement uses a condition operator AWS does not know (lenient
    /// reading only): it never applies.
    pub(crate) inert: bool,
    /// The element values as written, for traces: principals, actions, resources.
    pub(crate) text: StatementText,
}

/// Element values as written in the document.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct StatementText {
    pub(crate) principals: Vec<String>,
    pub(crate) actions: Vec<String>,
    pub(crate) resources: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) source: String,
    pub(crate) kind: PolicyKind,
    pub(crate) version: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

/// A parsed and compiled policy. Cheap to clone (shared), `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) inner: Arc<Inner>,
}

impl Policy {
    /// Strict: validates as AWS does when the policy is stored; errors carry AWS's code and message.
    pub fn parse(kind: &PolicyKind, text: &str) -> Result<Policy, PolicyError> {
        crate::parse::parse(kind, text, true)
    }

    /// Lenient: for evaluating documents already stored. Elements AWS would
    /// have refused make the statement apply to nothing instead of failing
    /// (e.g. a key-policy statement without Resource applies to nothing).
    pub fn parse_for_evaluation(kind: &PolicyKind, text: &str) -> Result<Policy, PolicyError> {
        crate::parse::parse(kind, text, false)
    }

    /// The original text.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The kind the policy was parsed as.
    pub fn kind(&self) -> &PolicyKind {
        &self.inner.kind
    }

    /// The `Version` element, if present.
    pub fn version(&self) -> Option<&str> {
        self.inner.version.as_deref()
    }

    /// The `Id` element, if present.
    pub fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }

    /// How many statements the policy has.
    pub fn statement_count(&self) -> usize {
        self.inner.statements.len()
    }

    /// The `Sid` of statement `index`, if it has one.
    pub fn statement_sid(&self, index: usize) -> Option<&str> {
        self.inner
            .statements
            .get(index)
            .and_then(|s| s.sid.as_deref())
    }

    /// The effect of statement `index`.
    pub fn statement_effect(&self, index: usize) -> Option<Effect> {
        self.inner.statements.get(index).map(|s| s.effect)
    }

    /// The AWS principals the policy names (account ids, user, role and
    /// session ARNs), for services that check that they exist when the
    /// policy is stored ("Invalid principal in policy").
    pub fn named_aws_principals(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for st in &self.inner.statements {
            for e in st.principal.iter().flat_map(|p| p.entries.iter()) {
                match e {
                    PrincipalEntry::Account(a) => out.push(a.as_str()),
                    PrincipalEntry::User(a)
                    | PrincipalEntry::Role(a)
                    | PrincipalEntry::Session(a) => out.push(a.as_str()),
                    _ => {}
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    pub(crate) fn statements(&self) -> &[Statement] {
        &self.inner.statements
    }
}
