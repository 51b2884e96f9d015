//! Strongbox's authorization step.
//!
//! For each access check a handler asks for, this crate builds the request
//! context (global condition keys plus the service's own, [`context`]), gathers
//! the policies — the caller's identity policies, permissions boundary, session
//! policies and SCPs from `strongbox-identity`, and the resource's policies from
//! the handler — compiles them once ([`cache`]), evaluates them with the pure
//! engine in `strongbox-policy`, writes a decision record ([`record`]) and
//! answers allow or AWS's denial.

pub mod cache;
pub mod caller_cache;
pub mod context;
pub mod decision_log;
pub mod denials;
pub mod explain;
pub mod fix;
pub mod proven;
pub mod record;
pub mod s3;

use std::path::Path;
use std::sync::Arc;

use strongbox_core::{
    AccessCheck, Authorizer, Caller, CallerKind, DenialKind, Denied, Refusal, RequestMeta,
};
use strongbox_identity::Identity;
use strongbox_policy::{
    evaluate, Context, Decision, Evaluation, MessageStyle, Policy, PolicyKind, PolicyRef,
    PolicySet, Principal, Reason, Request,
};

use crate::cache::PolicyCache;
use crate::caller_cache::{compile_all, CallerPolicyCache, CompiledCallerPolicies, Named};
use crate::record::{DecisionLog, DecisionRecord};

/// The authorizer: implements [`Authorizer`] for IAM, STS, KMS and
/// Organizations, and `strongbox_s3::S3Access` for S3 (see [`s3`]).
pub struct Authz {
    identity: Arc<Identity>,
    cache: PolicyCache,
    callers: CallerPolicyCache,
    log: DecisionLog,
}

/// A resource-based policy, compiled, with the label the trace shows.
pub struct CompiledResourcePolicy {
    pub label: String,
    pub policy: Arc<Policy>,
}

/// One decision to take: everything but the caller and the request metadata.
pub struct Question<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub resource_account: Option<&'a str>,
    pub resource_policies: Vec<CompiledResourcePolicy>,
    pub resource_required: bool,
    pub context: &'a [strongbox_core::ContextEntry],
    /// Quote the resource in messages (S3 does; IAM, STS and KMS do not).
    pub style: MessageStyle,
    /// The resource's policy a fix may change (`None`: none can be, e.g. AWS managed keys).
    pub editable: Option<proven::EditablePolicy>,
    /// The key policy text of a KMS key (what a key-policy fix extends).
    pub key_policy: Option<&'a str>,
}

impl Authz {
    /// An authorizer over `identity`, recording decisions in `data_dir`
    /// (rotated by `limits`).
    pub fn open(
        identity: Arc<Identity>,
        data_dir: &Path,
        limits: record::LogLimits,
    ) -> std::io::Result<Authz> {
        Ok(Authz {
            identity,
            cache: PolicyCache::default(),
            callers: CallerPolicyCache::default(),
            log: DecisionLog::open(data_dir, limits)?,
        })
    }

    /// What the decision log could not keep so far (write failures, full queue).
    pub fn decision_log_stats(&self) -> &record::LogStats {
        self.log.stats()
    }

    /// An authorizer that records nothing (tests).
    pub fn without_log(identity: Arc<Identity>) -> Authz {
        Authz {
            identity,
            cache: PolicyCache::default(),
            callers: CallerPolicyCache::default(),
            log: DecisionLog::disabled(),
        }
    }

    /// Waits (at most `timeout`) until every decision so far is in the log file
    /// (at shutdown).
    pub fn flush_decisions(&self, timeout: std::time::Duration) {
        self.log.flush(timeout);
    }

    /// The identity service behind this authorizer.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Compiles a resource-based policy of `kind` (cached).
    pub fn compile(
        &self,
        kind: &PolicyKind,
        label: &str,
        text: &str,
    ) -> Option<CompiledResourcePolicy> {
        self.cache
            .get(kind, text)
            .map(|policy| CompiledResourcePolicy {
                label: label.to_string(),
                policy,
            })
    }

    /// The caller's identity policies, boundary and SCPs, compiled; anonymous
    /// callers have none.
    fn caller_policies(&self, caller: &Caller) -> Arc<CompiledCallerPolicies> {
        if caller.is_anonymous() {
            return Arc::new(CompiledCallerPolicies::default());
        }
        self.callers.get(caller, self.identity.generation(), || {
            let policies = self.identity.policies_for(caller);
            let generation = policies.generation;
            let compiled = CompiledCallerPolicies::compile(&self.cache, policies);
            (generation, Arc::new(compiled))
        })
    }

    /// Evaluates `question` for `caller`, records the decision, and answers.
    pub fn decide(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        question: &Question<'_>,
    ) -> Result<(), Denied> {
        let caller_policies = self.caller_policies(caller);
        let session = caller
            .session_policies
            .as_ref()
            .map(|docs| compile_all(&self.cache, &PolicyKind::Session, docs));
        let org = caller_policies
            .org_id
            .as_deref()
            .map(|id| (id, caller_policies.org_path.as_deref().unwrap_or("")));
        let engine_context = context::build(caller, meta, org, question.context);
        let principal = principal_of(caller);
        let request = Request {
            principal: &principal,
            action: question.action,
            resource: question.resource,
            resource_account: question.resource_account,
            context: &engine_context,
        };
        let set = PolicySet {
            identity: refs(&caller_policies.identity),
            resource: question
                .resource_policies
                .iter()
                .map(|r| PolicyRef {
                    name: &r.label,
                    policy: r.policy.as_ref(),
                })
                .collect(),
            resource_required: question.resource_required,
            boundary: caller_policies
                .boundary
                .as_ref()
                .map(|(name, p)| PolicyRef {
                    name,
                    policy: p.as_ref(),
                }),
            session: session.as_ref().map(|s| refs(s)),
            scp: caller_policies
                .scps
                .as_ref()
                .map(|levels| levels.iter().map(|l| refs(l)).collect()),
        };
        let evaluation = evaluate(&request, &set);
        let fixes = match evaluation.decision {
            Decision::Allow => Vec::new(),
            Decision::Deny => proven::proven_fixes(caller, question, &request, &set, &evaluation),
        };
        let message = match evaluation.decision {
            Decision::Allow => String::new(),
            Decision::Deny => evaluation.message(&request, question.style),
        };
        // AWS explains a denial to callers of the resource owner's account or of its
        // organization, and says only "Access Denied" to everyone else:
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html
        let detailed = !caller.is_anonymous()
            && question.resource_account.is_none_or(|owner| {
                owner == caller.account_id
                    || caller_policies.org_id.as_deref().is_some_and(|org| {
                        self.identity.org_id_for_account(owner).as_deref() == Some(org)
                    })
            });
        // The policies read, in the order the engine considers them.
        let mut policy_names: Vec<String> = caller_policies.identity_labels.clone();
        policy_names.extend(question.resource_policies.iter().map(|r| r.label.clone()));
        policy_names.extend(caller_policies.boundary_label.iter().cloned());
        if let Some(s) = &session {
            policy_names.extend(s.iter().map(|(n, _)| format!("session policy {n}")));
        }
        policy_names.extend(caller_policies.scp_labels.iter().cloned());
        self.record(
            caller,
            meta,
            question,
            &evaluation,
            &message,
            policy_names,
            engine_context,
            fixes,
        );
        match evaluation.decision {
            Decision::Allow => Ok(()),
            Decision::Deny => Err(Denied {
                kind: denial_kind(evaluation.reason),
                message,
                detailed,
            }),
        }
    }

    /// Records a denial decided outside policy evaluation (Block Public Access, ACLs disabled, …).
    pub fn record_rule(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        denial: &strongbox_s3::RuleDenial<'_>,
    ) {
        self.record_refused(caller, meta, denial);
    }

    /// Records a refusal decided outside policy evaluation.
    fn record_refused(&self, caller: &Caller, meta: &RequestMeta, refusal: &Refusal<'_>) {
        self.append(DecisionRecord {
            request_id: meta.request_id.clone(),
            time: meta.received_at.to_string(),
            principal: caller.arn.clone(),
            principal_account: caller.account_id.clone(),
            action: refusal.action.to_string(),
            resource: refusal.resource.to_string(),
            resource_account: None,
            decision: "Deny".to_string(),
            reason: refusal.rule.to_string(),
            message: refusal.message.to_string(),
            deciding_policy: None,
            deciding_statement: None,
            policies: Vec::new(),
            context: Default::default(),
            fix: Some(refusal.fix.to_string()),
            trace: None,
            ..Default::default()
        });
    }

    /// Appends `record` to the decision log; a denial also gets one server log line
    /// (info), so that an operator can find its request id without the client's help.
    fn append(&self, record: DecisionRecord) {
        if record.decision == "Deny" {
            tracing::info!(
                target: "strongbox::denial",
                request_id = %record.request_id,
                principal = %record.principal,
                action = %record.action,
                resource = %record.resource,
                reason = %record.reason,
                "access denied"
            );
        }
        self.log.append(record);
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        question: &Question<'_>,
        evaluation: &Evaluation,
        message: &str,
        policies: Vec<String>,
        context: Context,
        fixes: Vec<proven::ProvenFix>,
    ) {
        let denied = evaluation.decision == Decision::Deny;
        let (deciding_policy, deciding_statement) = match &evaluation.deciding {
            Some(d) => (Some(d.policy_name.clone()), Some(statement_label(d))),
            None => (None, None),
        };
        let trace = if denied {
            serde_json::to_value(&evaluation.trace).ok().map(|mut t| {
                context::redact_trace(&mut t);
                t
            })
        } else {
            None
        };
        // A proven fix replaces the unverified suggestion.
        let fix = match fixes.first() {
            _ if !denied => None,
            Some(first) => Some(format!("{}: {}", first.change, first.command)),
            None => Some(fix::suggest(caller, question, evaluation)),
        };
        self.append(DecisionRecord {
            request_id: meta.request_id.clone(),
            time: meta.received_at.to_string(),
            principal: caller.arn.clone(),
            principal_account: caller.account_id.clone(),
            action: question.action.to_string(),
            resource: question.resource.to_string(),
            resource_account: question.resource_account.map(str::to_string),
            decision: if denied { "Deny" } else { "Allow" }.to_string(),
            reason: evaluation.reason.code().to_string(),
            message: message.to_string(),
            deciding_policy,
            deciding_statement,
            policies,
            context: context::recordable(
                context
                    .into_entries()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice())),
            ),
            fix,
            fixes,
            trace,
            ..Default::default()
        });
    }
}

fn refs(list: &[Named]) -> Vec<PolicyRef<'_>> {
    list.iter()
        .map(|(name, p)| PolicyRef {
            name,
            policy: p.as_ref(),
        })
        .collect()
}

/// How a decision record names a statement: its Sid, or its position.
pub fn statement_label(d: &strongbox_policy::DecidingStatement) -> String {
    match &d.sid {
        Some(sid) if !sid.is_empty() => format!("\"{sid}\""),
        _ => format!("#{}", d.statement_index + 1),
    }
}

/// The engine's view of a caller.
pub fn principal_of(caller: &Caller) -> Principal {
    match caller.kind {
        CallerKind::Anonymous => Principal::Anonymous,
        CallerKind::Root => Principal::Root {
            account: caller.account_id.clone(),
        },
        CallerKind::User => Principal::User {
            arn: caller.arn.clone(),
            account: caller.account_id.clone(),
        },
        CallerKind::AssumedRole => Principal::AssumedRole {
            session_arn: caller.arn.clone(),
            role_arn: caller
                .role_arn
                .clone()
                .unwrap_or_else(|| caller.principal_arn.clone()),
            account: caller.account_id.clone(),
        },
        CallerKind::FederatedUser => Principal::FederatedUser {
            arn: caller.arn.clone(),
            user_arn: caller.federated_by.as_ref().map(|u| u.arn.clone()),
            account: caller.account_id.clone(),
        },
    }
}

fn denial_kind(reason: Reason) -> DenialKind {
    match reason {
        Reason::Allowed => DenialKind::Other,
        Reason::ExplicitDenyScp => DenialKind::ExplicitDenyScp,
        Reason::ExplicitDenyResourcePolicy => DenialKind::ExplicitDenyResourcePolicy,
        Reason::ExplicitDenyIdentityPolicy => DenialKind::ExplicitDenyIdentityPolicy,
        Reason::ExplicitDenyPermissionsBoundary => DenialKind::ExplicitDenyPermissionsBoundary,
        Reason::ExplicitDenySessionPolicy => DenialKind::ExplicitDenySessionPolicy,
        Reason::NoAllowScp => DenialKind::NoAllowScp,
        Reason::NoAllowResourcePolicy => DenialKind::NoAllowResourcePolicy,
        Reason::NoAllowIdentityPolicy => DenialKind::NoAllowIdentityPolicy,
        Reason::NoAllowPermissionsBoundary => DenialKind::NoAllowPermissionsBoundary,
        Reason::NoAllowSessionPolicy => DenialKind::NoAllowSessionPolicy,
    }
}

/// The policy kind of a service's resource-based policy, from the action.
pub fn resource_policy_kind(action: &str, resource: &str) -> PolicyKind {
    let service = action.split(':').next().unwrap_or("").to_ascii_lowercase();
    match service.as_str() {
        "kms" => PolicyKind::KeyPolicy,
        "sts" => PolicyKind::Trust,
        _ => {
            let bucket = resource
                .strip_prefix("arn:aws:s3:::")
                .map(|rest| rest.split('/').next().unwrap_or("").to_string())
                .unwrap_or_default();
            PolicyKind::Bucket { bucket }
        }
    }
}

impl Authorizer for Authz {
    fn record_refusal(&self, caller: &Caller, meta: &RequestMeta, refusal: &Refusal<'_>) {
        self.record_refused(caller, meta, refusal);
    }

    fn check(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &AccessCheck<'_>,
    ) -> Result<(), Denied> {
        let kind = resource_policy_kind(check.action, check.resource);
        let resource_policies = check
            .resource_policies
            .iter()
            .filter_map(|r| self.compile(&kind, r.label, r.document))
            .collect();
        let style = if check.action.starts_with("s3:") {
            MessageStyle::S3
        } else {
            MessageStyle::Iam
        };
        let question = Question {
            action: check.action,
            resource: check.resource,
            resource_account: check.resource_account,
            resource_policies,
            resource_required: check.resource_policy_required,
            context: check.context,
            style,
            editable: None,
            key_policy: match kind {
                PolicyKind::KeyPolicy => check
                    .resource_policies
                    .iter()
                    .find(|r| r.label == "key policy")
                    .map(|r| r.document),
                _ => None,
            },
        };
        self.decide(caller, meta, &question)
    }

    fn record_override(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &AccessCheck<'_>,
        allowed_by: &str,
    ) {
        tracing::info!(
            target: "strongbox::denial",
            request_id = %meta.request_id,
            action = %check.action,
            allowed_by,
            "the denial logged just before is superseded: a grant allows it"
        );
        self.log.append(DecisionRecord {
            request_id: meta.request_id.clone(),
            time: meta.received_at.to_string(),
            principal: caller.arn.clone(),
            principal_account: caller.account_id.clone(),
            action: check.action.to_string(),
            resource: check.resource.to_string(),
            resource_account: check.resource_account.map(str::to_string),
            decision: "Allow".to_string(),
            reason: "allowed_by_grant".to_string(),
            message: format!("The policies did not allow it; {allowed_by} did (the denial recorded just before is superseded)."),
            deciding_policy: Some(allowed_by.to_string()),
            deciding_statement: None,
            policies: Vec::new(),
            context: context::recordable(
                check.context.iter().map(|e| (e.key.as_str(), e.values.as_slice())),
            ),
            fix: None,
            trace: None,
            ..Default::default()
        });
    }
}

/// Renders an engine trace (as JSON) as readable lines for `strongbox explain`:
/// every policy and statement considered, what matched, and the condition
/// values of the policy beside those of the request.
pub fn trace_lines(trace: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    fn list(v: &Value) -> String {
        match v {
            Value::Array(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            Value::Null => "(absent)".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    fn mark(v: &Value) -> &'static str {
        if v.get("matched").and_then(Value::as_bool).unwrap_or(false) {
            "matches"
        } else {
            "does not match"
        }
    }
    let mut lines = Vec::new();
    for policy in trace
        .get("policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = policy
            .get("policy_type")
            .and_then(Value::as_str)
            .unwrap_or("policy");
        let name = policy.get("name").and_then(Value::as_str).unwrap_or("");
        lines.push(format!("{kind} policy {name}:"));
        let statements = policy.get("statements").and_then(Value::as_array);
        if statements.is_none_or(|s| s.is_empty()) {
            lines.push("  (no statements)".to_string());
        }
        for st in statements.into_iter().flatten() {
            let index = st.get("index").and_then(Value::as_u64).unwrap_or(0) + 1;
            let sid = st
                .get("sid")
                .and_then(Value::as_str)
                .map(|s| format!(" \"{s}\""))
                .unwrap_or_default();
            let effect = st.get("effect").and_then(Value::as_str).unwrap_or("?");
            let applies = st.get("applies").and_then(Value::as_bool).unwrap_or(false);
            lines.push(format!(
                "  statement #{index}{sid} ({effect}): {}",
                if applies { "APPLIES" } else { "does not apply" }
            ));
            for element in ["principal", "action", "resource"] {
                if let Some(e) = st.get(element) {
                    let negated = e.get("negated").and_then(Value::as_bool).unwrap_or(false);
                    let label = match (element, negated) {
                        ("principal", true) => "NotPrincipal",
                        ("principal", false) => "Principal",
                        ("action", true) => "NotAction",
                        ("action", false) => "Action",
                        ("resource", true) => "NotResource",
                        _ => "Resource",
                    };
                    lines.push(format!(
                        "    {label} [{}] {} {}",
                        list(e.get("policy").unwrap_or(&Value::Null)),
                        mark(e),
                        list(e.get("request").unwrap_or(&Value::Null))
                    ));
                }
            }
            for c in st
                .get("conditions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                lines.push(format!(
                    "    Condition {} {}: policy [{}] vs request [{}] -> {}",
                    c.get("operator").and_then(Value::as_str).unwrap_or("?"),
                    c.get("key").and_then(Value::as_str).unwrap_or("?"),
                    list(c.get("policy_values").unwrap_or(&Value::Null)),
                    list(c.get("request_values").unwrap_or(&Value::Null)),
                    if c.get("matched").and_then(Value::as_bool).unwrap_or(false) {
                        "true"
                    } else {
                        "false"
                    }
                ));
            }
        }
    }
    for note in trace
        .get("notes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        lines.push(format!("note: {}", list(note)));
    }
    lines
}
