//! The decision: which policies apply and how they combine.
//!
//! IAM User Guide, "Policy evaluation logic" and "How AWS enforcement code
//! logic evaluates requests": an explicit Deny in any policy wins; then
//! service control policies must allow at every level; within one account an
//! Allow in either the identity-based policies or the resource-based policy
//! suffices ("Policy evaluation for requests within a single account"), but
//! permissions boundaries and session policies limit identity-based grants
//! and resource grants to the role ARN, not grants to the user ARN or the
//! session ARN ("Permissions boundaries for IAM entities", "Session
//! policies"); a grant to the account only delegates to the account's IAM
//! policies ("AWS JSON policy elements: Principal"); across accounts both
//! sides must allow ("Cross-account policy evaluation logic"). The root user
//! has every permission in its own account that no policy denies. KMS key
//! policies and role trust policies must allow even within the account
//! (AWS KMS Developer Guide, "Key policies in AWS KMS"). The bucket owner's
//! root user can always call Get/Put/DeleteBucketPolicy unless an
//! Organizations policy blocks it (Amazon S3 API Reference, PutBucketPolicy).

use serde::Serialize;

use crate::context::{lookup, Context};
use crate::policy::{ActionSpec, Effect, Policy, ResourcePattern, ResourceSpec, Statement};
use crate::principal::{Grant, Principal};
use crate::trace::{StatementTrace, Trace, TraceBuilder};
use crate::variables::Resolved;

/// One action on one resource by one principal.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    /// `service:Action`, e.g. `s3:GetObject`.
    pub action: &'a str,
    /// The resource ARN.
    pub resource: &'a str,
    /// The account that owns the resource; `None` when it has no owner.
    pub resource_account: Option<&'a str>,
    /// Condition keys of the request (principal tags included as `aws:PrincipalTag/...`).
    pub context: &'a Context,
}

/// A policy with the name the trace shows for it.
#[derive(Clone, Copy, Debug)]
pub struct PolicyRef<'a> {
    pub name: &'a str,
    pub policy: &'a Policy,
}

/// Every policy that bears on one request.
#[derive(Clone, Debug, Default)]
pub struct PolicySet<'a> {
    /// Identity-based policies of the principal (user, groups; or the role of a session).
    pub identity: Vec<PolicyRef<'a>>,
    /// Resource-based policies: bucket policy, ACL-derived policy, key policy, trust policy.
    pub resource: Vec<PolicyRef<'a>>,
    /// Whether the resource side must allow even within one account (KMS key policies, trust policies).
    pub resource_required: bool,
    /// The permissions boundary of the user or role.
    pub boundary: Option<PolicyRef<'a>>,
    /// Session policies; `None` when none was passed.
    pub session: Option<Vec<PolicyRef<'a>>>,
    /// SCPs by level: `[[root], [OU], ..., [account]]`; `None` when not in an organization
    /// (or in the management account).
    pub scp: Option<Vec<Vec<PolicyRef<'a>>>>,
}

/// The final answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allow,
    Deny,
}

/// Why, in the categories of AWS's access-denied messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Allowed,
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
}

impl Reason {
    /// The reason code (`explicit_deny_scp`, `no_allow_identity_policy`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Allowed => "allowed",
            Reason::ExplicitDenyScp => "explicit_deny_scp",
            Reason::ExplicitDenyResourcePolicy => "explicit_deny_resource_policy",
            Reason::ExplicitDenyIdentityPolicy => "explicit_deny_identity_policy",
            Reason::ExplicitDenyPermissionsBoundary => "explicit_deny_permissions_boundary",
            Reason::ExplicitDenySessionPolicy => "explicit_deny_session_policy",
            Reason::NoAllowScp => "no_allow_scp",
            Reason::NoAllowResourcePolicy => "no_allow_resource_policy",
            Reason::NoAllowIdentityPolicy => "no_allow_identity_policy",
            Reason::NoAllowPermissionsBoundary => "no_allow_permissions_boundary",
            Reason::NoAllowSessionPolicy => "no_allow_session_policy",
        }
    }

    /// Reads a reason code.
    pub fn from_code(code: &str) -> Option<Reason> {
        ALL_REASONS.iter().copied().find(|r| r.code() == code)
    }

    /// The policy type this reason is about (`None` for `allowed`).
    pub fn policy_type(&self) -> Option<PolicyType> {
        match self {
            Reason::Allowed => None,
            Reason::ExplicitDenyScp | Reason::NoAllowScp => Some(PolicyType::Scp),
            Reason::ExplicitDenyResourcePolicy | Reason::NoAllowResourcePolicy => {
                Some(PolicyType::Resource)
            }
            Reason::ExplicitDenyIdentityPolicy | Reason::NoAllowIdentityPolicy => {
                Some(PolicyType::Identity)
            }
            Reason::ExplicitDenyPermissionsBoundary | Reason::NoAllowPermissionsBoundary => {
                Some(PolicyType::Boundary)
            }
            Reason::ExplicitDenySessionPolicy | Reason::NoAllowSessionPolicy => {
                Some(PolicyType::Session)
            }
        }
    }

    /// Whether an applicable Deny statement caused it.
    pub fn is_explicit_deny(&self) -> bool {
        matches!(
            self,
            Reason::ExplicitDenyScp
                | Reason::ExplicitDenyResourcePolicy
                | Reason::ExplicitDenyIdentityPolicy
                | Reason::ExplicitDenyPermissionsBoundary
                | Reason::ExplicitDenySessionPolicy
        )
    }
}

const ALL_REASONS: [Reason; 11] = [
    Reason::Allowed,
    Reason::ExplicitDenyScp,
    Reason::ExplicitDenyResourcePolicy,
    Reason::ExplicitDenyIdentityPolicy,
    Reason::ExplicitDenyPermissionsBoundary,
    Reason::ExplicitDenySessionPolicy,
    Reason::NoAllowScp,
    Reason::NoAllowResourcePolicy,
    Reason::NoAllowIdentityPolicy,
    Reason::NoAllowPermissionsBoundary,
    Reason::NoAllowSessionPolicy,
];

/// The policy types, in AWS's evaluation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    Scp,
    Resource,
    Identity,
    Boundary,
    Session,
}

impl PolicyType {
    fn explicit_deny(self) -> Reason {
        match self {
            PolicyType::Scp => Reason::ExplicitDenyScp,
            PolicyType::Resource => Reason::ExplicitDenyResourcePolicy,
            PolicyType::Identity => Reason::ExplicitDenyIdentityPolicy,
            PolicyType::Boundary => Reason::ExplicitDenyPermissionsBoundary,
            PolicyType::Session => Reason::ExplicitDenySessionPolicy,
        }
    }

    fn no_allow(self) -> Reason {
        match self {
            PolicyType::Scp => Reason::NoAllowScp,
            PolicyType::Resource => Reason::NoAllowResourcePolicy,
            PolicyType::Identity => Reason::NoAllowIdentityPolicy,
            PolicyType::Boundary => Reason::NoAllowPermissionsBoundary,
            PolicyType::Session => Reason::NoAllowSessionPolicy,
        }
    }

    /// How AWS names the type in messages ("identity-based policy", …).
    pub fn label(self) -> &'static str {
        match self {
            PolicyType::Scp => "service control policy",
            PolicyType::Resource => "resource-based policy",
            PolicyType::Identity => "identity-based policy",
            PolicyType::Boundary => "permissions boundary",
            PolicyType::Session => "session policy",
        }
    }
}

/// The statement that decided (an applicable Deny, or the Allow that granted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecidingStatement {
    pub policy_type: PolicyType,
    pub policy_name: String,
    pub statement_index: usize,
    pub sid: Option<String>,
}

/// The outcome of [`evaluate`].
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub reason: Reason,
    /// The statement behind the decision: the Deny that applied, or the Allow
    /// that granted. `None` for implicit denies (no statement allowed).
    pub deciding: Option<DecidingStatement>,
    /// Every other reason AWS could equally report (other policy types with an
    /// applicable Deny; the other side of a cross-account request).
    pub also: Vec<Reason>,
    pub trace: Trace,
}

/// The caller-side facts every statement check needs.
pub(crate) struct Env<'a> {
    pub(crate) req: &'a Request<'a>,
    /// `aws:PrincipalArn`.
    pub(crate) principal_arn: Option<&'a str>,
    pub(crate) has_boundary: bool,
    /// The request action in lower case.
    pub(crate) action_lower: String,
}

impl<'a> Env<'a> {
    /// A single value for a policy variable.
    pub(crate) fn variable(&self, key: &str) -> Option<&'a str> {
        lookup(
            self.req.context,
            self.req.principal,
            self.principal_arn,
            key,
        )
        .and_then(|v| v.single())
    }
}

/// What one policy contributes.
#[derive(Default)]
struct PolicyOutcome {
    /// The strongest grant among applicable Allow statements, with its statement.
    allow: Option<(Grant, usize)>,
    /// The first applicable Deny statement.
    deny: Option<usize>,
}

/// Checks one statement against the request.
pub(crate) fn check_statement(st: &Statement, index: usize, env: &Env<'_>) -> StatementTrace {
    let req = env.req;
    let (principal, grant) = match &st.principal {
        None => (None, Some(Grant::Direct)),
        Some(spec) if !spec.negated => {
            let g = spec.grant_for(req.principal);
            (Some(g.is_some()), g)
        }
        Some(spec) => {
            // NotPrincipal covers the caller through the strongest identity of its
            // chain that is not listed. A Deny applies unless the whole chain is
            // listed, and always to an IAM principal with a permissions boundary
            // ("AWS JSON policy elements: NotPrincipal"); an Allow grants what that
            // identity gets from a Principal naming it (only delegation when just
            // the account is unlisted).
            let unlisted = spec.unlisted_grant(req.principal);
            let grant = match st.effect {
                Effect::Allow => unlisted,
                Effect::Deny => (unlisted.is_some()
                    || (env.has_boundary && req.principal.is_iam_entity()))
                .then_some(Grant::Direct),
            };
            (Some(grant.is_some()), grant)
        }
    };
    let action = action_matches(&st.action, &env.action_lower);
    let resource = resource_matches(&st.resource, req.resource, env);
    let mut trace = StatementTrace {
        index,
        principal,
        grant,
        action,
        resource,
        conditions_evaluated: false,
        conditions: false,
        failed_conditions: 0,
        applies: false,
    };
    if principal == Some(false) || !action || !resource || st.inert {
        return trace;
    }
    trace.conditions_evaluated = true;
    let resolve = |k: &str| env.variable(k);
    let mut all = true;
    for (i, c) in st.conditions.iter().enumerate() {
        let present = lookup(req.context, req.principal, env.principal_arn, &c.key);
        if !c.evaluate(present, &resolve) {
            all = false;
            if i < 64 {
                trace.failed_conditions |= 1 << i;
            }
        }
    }
    trace.conditions = all;
    trace.applies = all;
    trace
}

/// Action names compare without case; `*` and `?` are wildcards. `action`
/// is the lower-cased request action (patterns are compiled in lower case).
pub(crate) fn action_matches(spec: &ActionSpec, action: &str) -> bool {
    match spec {
        ActionSpec::Action(globs) => globs.iter().any(|g| g.matches(action, false)),
        ActionSpec::NotAction(globs) => !globs.iter().any(|g| g.matches(action, false)),
        ActionSpec::Missing => false,
    }
}

/// Resource ARNs compare with case. An entry holding a variable with no value
/// matches no resource, in `Resource` and in `NotResource` alike (IAM User Guide,
/// "Policy variables with no value"), so in a `NotResource` it excludes nothing.
pub(crate) fn resource_matches(spec: &ResourceSpec, resource: &str, env: &Env<'_>) -> bool {
    let entry_matches = |p: &ResourcePattern| match p {
        ResourcePattern::Static(m) => m.matches(resource),
        ResourcePattern::Dynamic(pattern) => dynamic_matches(pattern, resource, env),
    };
    match spec {
        ResourceSpec::Resource(pats) => pats.iter().any(entry_matches),
        ResourceSpec::NotResource(pats) => !pats.iter().any(entry_matches),
        ResourceSpec::Missing { matches_all } => *matches_all,
    }
}

/// Matches a resource pattern holding variables; `false` when a variable has no value.
fn dynamic_matches(pattern: &crate::variables::Pattern, resource: &str, env: &Env<'_>) -> bool {
    let resolve = |k: &str| env.variable(k);
    let Some(resolved) = pattern.resolve(&resolve) else {
        return false;
    };
    let glob = match resolved {
        Resolved::Owned(g) => g,
        Resolved::Borrowed(g) => g.clone(),
    };
    crate::arn::ArnMatcher::new(glob).matches(resource)
}

fn check_policy(
    r: &PolicyRef<'_>,
    policy_type: PolicyType,
    scp_level: Option<usize>,
    env: &Env<'_>,
    traces: &mut TraceBuilder,
) -> PolicyOutcome {
    let mut out = PolicyOutcome::default();
    traces.begin_policy(policy_type, r.name, scp_level, r.policy);
    for (i, st) in r.policy.statements().iter().enumerate() {
        let t = check_statement(st, i, env);
        if t.applies {
            match st.effect {
                Effect::Deny => {
                    if out.deny.is_none() {
                        out.deny = Some(i);
                    }
                }
                Effect::Allow => {
                    let g = t.grant.unwrap_or(Grant::Direct);
                    if out.allow.is_none_or(|(best, _)| g > best) {
                        out.allow = Some((g, i));
                    }
                }
            }
        }
        traces.push_statement(t);
    }
    out
}

fn deciding(r: &PolicyRef<'_>, policy_type: PolicyType, index: usize) -> DecidingStatement {
    DecidingStatement {
        policy_type,
        policy_name: r.name.to_string(),
        statement_index: index,
        sid: r.policy.statement_sid(index).map(str::to_string),
    }
}

/// Whether this is the bucket owner's root user managing the bucket policy,
/// which a bucket policy can never lock out (Amazon S3 API Reference,
/// PutBucketPolicy / DeleteBucketPolicy / GetBucketPolicy).
fn is_bucket_policy_recovery(req: &Request<'_>) -> bool {
    let Principal::Root { account } = req.principal else {
        return false;
    };
    req.resource_account == Some(account.as_str())
        && [
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
        ]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(req.action))
}

/// A path to Allow and the first step where it fails.
#[derive(Clone, Copy)]
struct PathResult(Option<PolicyType>);

/// Evaluates `req` against `set`, as AWS does, with a full trace.
pub fn evaluate(req: &Request<'_>, set: &PolicySet<'_>) -> Evaluation {
    let root_arn = match req.principal {
        Principal::Root { account } => Some(format!("arn:aws:iam::{account}:root")),
        _ => None,
    };
    let principal_arn = root_arn
        .as_deref()
        .or_else(|| req.principal.principal_arn());
    let env = Env {
        req,
        principal_arn,
        has_boundary: set.boundary.is_some(),
        action_lower: req.action.to_ascii_lowercase(),
    };
    let all = set
        .identity
        .iter()
        .chain(&set.resource)
        .chain(&set.boundary)
        .chain(set.session.iter().flatten())
        .chain(set.scp.iter().flatten().flatten());
    let (policy_count, statement_count, names_len) = all.fold((0, 0, 0), |(p, s, n), r| {
        (p + 1, s + r.policy.statement_count(), n + r.name.len())
    });
    let mut traces = TraceBuilder::with_capacity(policy_count, statement_count, names_len);
    let mut notes: Vec<&'static str> = Vec::new();

    // Which Deny applies in each policy type, and what each allows.
    let mut denies: Vec<(PolicyType, DecidingStatement)> = Vec::new();
    let note_deny = |denies: &mut Vec<(PolicyType, DecidingStatement)>,
                     t: PolicyType,
                     r: &PolicyRef<'_>,
                     o: &PolicyOutcome| {
        if let Some(i) = o.deny {
            if !denies.iter().any(|(dt, _)| *dt == t) {
                denies.push((t, deciding(r, t, i)));
            }
        }
    };

    let scp_applies = set.scp.is_some()
        && !matches!(
            req.principal,
            Principal::Anonymous | Principal::Service { .. }
        );
    // (level index, whether some SCP at the level allows)
    let mut scp_levels: Vec<bool> = Vec::new();
    if let (true, Some(levels)) = (scp_applies, &set.scp) {
        for (level, policies) in levels.iter().enumerate() {
            let mut allowed = false;
            for r in policies {
                let o = check_policy(r, PolicyType::Scp, Some(level), &env, &mut traces);
                note_deny(&mut denies, PolicyType::Scp, r, &o);
                allowed |= o.allow.is_some();
            }
            scp_levels.push(allowed);
        }
    }

    let recovery = is_bucket_policy_recovery(req);
    let mut resource_grant: Option<(Grant, DecidingStatement)> = None;
    for r in &set.resource {
        let o = check_policy(r, PolicyType::Resource, None, &env, &mut traces);
        if recovery {
            if o.deny.is_some() {
                notes.push("the bucket owner's root user can always manage the bucket policy: Deny statements in the bucket policy do not apply");
            }
        } else {
            note_deny(&mut denies, PolicyType::Resource, r, &o);
        }
        if let Some((g, i)) = o.allow {
            if resource_grant.as_ref().is_none_or(|(best, _)| g > *best) {
                resource_grant = Some((g, deciding(r, PolicyType::Resource, i)));
            }
        }
    }

    let mut identity_allow: Option<DecidingStatement> = None;
    for r in &set.identity {
        let o = check_policy(r, PolicyType::Identity, None, &env, &mut traces);
        note_deny(&mut denies, PolicyType::Identity, r, &o);
        if identity_allow.is_none() {
            identity_allow = o.allow.map(|(_, i)| deciding(r, PolicyType::Identity, i));
        }
    }

    let mut boundary_ok = true;
    if let Some(r) = &set.boundary {
        let o = check_policy(r, PolicyType::Boundary, None, &env, &mut traces);
        note_deny(&mut denies, PolicyType::Boundary, r, &o);
        boundary_ok = o.allow.is_some();
    }

    let mut session_ok = true;
    if let Some(sessions) = &set.session {
        let mut any = false;
        for r in sessions {
            let o = check_policy(r, PolicyType::Session, None, &env, &mut traces);
            note_deny(&mut denies, PolicyType::Session, r, &o);
            any |= o.allow.is_some();
        }
        session_ok = any;
    }

    let trace: Trace = traces.finish(req, principal_arn, notes);

    // 1. Explicit denies, reported in evaluation order.
    denies.sort_by_key(|(t, _)| *t);
    if let Some((first, _)) = denies.first() {
        let reason = first.explicit_deny();
        let also = denies
            .iter()
            .skip(1)
            .map(|(t, _)| t.explicit_deny())
            .collect();
        let deciding = denies.into_iter().next().map(|(_, d)| d);
        return Evaluation {
            decision: Decision::Deny,
            reason,
            deciding,
            also,
            trace,
        };
    }

    // 2. Every SCP level must allow.
    if scp_levels.iter().any(|ok| !ok) {
        return deny(Reason::NoAllowScp, Vec::new(), trace);
    }

    if recovery {
        return Evaluation {
            decision: Decision::Allow,
            reason: Reason::Allowed,
            deciding: None,
            also: Vec::new(),
            trace,
        };
    }

    // 3. The caller's side: identity policies (implicit for the root user), boundary, session policy.
    let identity_ok = req.principal.has_root_identity() || identity_allow.is_some();
    let iam_path = if !identity_ok {
        PathResult(Some(PolicyType::Identity))
    } else if !boundary_ok {
        PathResult(Some(PolicyType::Boundary))
    } else if !session_ok {
        PathResult(Some(PolicyType::Session))
    } else {
        PathResult(None)
    };
    let allowed_by = |d: Option<DecidingStatement>, trace: Trace| Evaluation {
        decision: Decision::Allow,
        reason: Reason::Allowed,
        deciding: d,
        also: Vec::new(),
        trace,
    };

    // Callers without an identity side: anonymous requests and services.
    if matches!(
        req.principal,
        Principal::Anonymous | Principal::Service { .. }
    ) {
        return match resource_grant {
            Some((_, d)) => allowed_by(Some(d), trace),
            None => deny(
                Reason::NoAllowResourcePolicy,
                vec![Reason::NoAllowIdentityPolicy],
                trace,
            ),
        };
    }

    let same_account = match (req.resource_account, req.principal.account()) {
        (None, _) => true,
        (Some(owner), Some(caller)) => owner == caller,
        (Some(_), None) => false,
    };

    if !same_account {
        // Cross-account: the resource side and the caller's side must both allow.
        return match (resource_grant, iam_path.0) {
            (Some((_, d)), None) => allowed_by(identity_allow.or(Some(d)), trace),
            (None, Some(caller_fails)) => deny(
                Reason::NoAllowResourcePolicy,
                vec![caller_fails.no_allow()],
                trace,
            ),
            (None, None) => deny(Reason::NoAllowResourcePolicy, Vec::new(), trace),
            (Some(_), Some(caller_fails)) => deny(caller_fails.no_allow(), Vec::new(), trace),
        };
    }

    // Same account: any path suffices; report the path that got furthest.
    let (grant, grant_statement) = match resource_grant {
        Some((g, d)) => (Some(g), Some(d)),
        None => (None, None),
    };
    // The path through a resource grant to the role ARN: limited by boundary and session policy.
    let role_path = if !boundary_ok {
        PathResult(Some(PolicyType::Boundary))
    } else if !session_ok {
        PathResult(Some(PolicyType::Session))
    } else {
        PathResult(None)
    };
    match grant {
        Some(Grant::Direct) => allowed_by(grant_statement, trace),
        None if set.resource_required => deny(Reason::NoAllowResourcePolicy, Vec::new(), trace),
        Some(Grant::Role) if role_path.0.is_none() => allowed_by(grant_statement, trace),
        _ if iam_path.0.is_none() => allowed_by(identity_allow, trace),
        Some(Grant::Role) => {
            let furthest = role_path.0.max(iam_path.0).unwrap_or(PolicyType::Identity);
            deny(furthest.no_allow(), Vec::new(), trace)
        }
        // An account grant only delegates to IAM; without a grant IAM must allow.
        Some(Grant::Account) | None => deny(
            iam_path.0.unwrap_or(PolicyType::Identity).no_allow(),
            Vec::new(),
            trace,
        ),
    }
}

fn deny(reason: Reason, also: Vec<Reason>, trace: Trace) -> Evaluation {
    Evaluation {
        decision: Decision::Deny,
        reason,
        deciding: None,
        also,
        trace,
    }
}
