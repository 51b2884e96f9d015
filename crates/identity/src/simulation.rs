//! IAM's policy simulator over a gathered set of policies: each action on
//! each resource goes through the live authorizer's engine
//! ([`strongbox_policy::evaluate`]), and the engine's trace is read into
//! AWS's `EvaluationResult` shape.
//!
//! IAM API Reference, "EvaluationResult"
//! (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html>):
//! one result per action; with resource ARNs its decision is the most
//! restrictive of the per-resource decisions (`ResourceSpecificResults`).
//! [`simulate`] takes the policies already gathered, so a caller can feed it
//! the policies a live request would meet instead of the API's inputs.

use strongbox_policy::{
    evaluate, has_context_value, statement_positions, Context, Decision, Effect, PolicyRef,
    PolicySet, PolicyTrace, PolicyType, Position, Principal, Request, Trace,
};

/// One policy of a simulation, named as the simulator reports it.
#[derive(Clone, Debug)]
pub struct SimPolicy {
    /// `SourcePolicyId`: the policy's name, or `PolicyInputList.N`, `ResourcePolicy`, ….
    pub id: String,
    /// `SourcePolicyType`: `user`, `group`, `role`, `aws-managed`, `user-managed`, `resource` or `none`.
    pub source_type: &'static str,
    pub policy: strongbox_policy::Policy,
}

/// Every policy a simulation evaluates.
#[derive(Clone, Debug, Default)]
pub struct PolicyInputs {
    pub identity: Vec<SimPolicy>,
    pub boundary: Option<SimPolicy>,
    pub resource: Option<SimPolicy>,
    /// SCPs by level (root first) when the simulated account is under SCPs.
    pub scps: Option<Vec<Vec<SimPolicy>>>,
}

/// What is simulated: who calls, which actions on which resources, with which context.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub principal: Principal,
    pub actions: Vec<String>,
    /// `None`: every resource (`*`).
    pub resources: Option<Vec<String>>,
    /// The owner of resources whose ARN names no account (`ResourceOwner`).
    pub resource_owner: Option<String>,
    pub context: Context,
}

/// `allowed`, `explicitDeny` or `implicitDeny`, least restrictive first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimDecision {
    Allowed,
    ImplicitDeny,
    ExplicitDeny,
}

impl SimDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            SimDecision::Allowed => "allowed",
            SimDecision::ImplicitDeny => "implicitDeny",
            SimDecision::ExplicitDeny => "explicitDeny",
        }
    }
}

/// A statement that decided, with where it is in its policy's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedStatement {
    pub source_policy_id: String,
    pub source_policy_type: &'static str,
    pub start: Position,
    pub end: Position,
}

/// The decision on one resource.
#[derive(Clone, Debug)]
pub struct ResourceResult {
    pub resource: String,
    pub decision: SimDecision,
    pub matched: Vec<MatchedStatement>,
    pub missing: Vec<String>,
    /// `AllowedByOrganizations`, when SCPs apply.
    pub allowed_by_organizations: Option<bool>,
    /// `AllowedByPermissionsBoundary`, when a boundary applies.
    pub allowed_by_boundary: Option<bool>,
    /// `EvalDecisionDetails`: per policy side, for cross-account requests.
    pub details: Vec<(&'static str, SimDecision)>,
    pub cross_account: bool,
}

/// The result for one action.
#[derive(Clone, Debug)]
pub struct ActionResult {
    pub action: String,
    /// `*`, the one resource simulated, or `*` for the aggregate over several.
    pub resource_name: String,
    pub decision: SimDecision,
    pub matched: Vec<MatchedStatement>,
    pub missing: Vec<String>,
    pub allowed_by_organizations: Option<bool>,
    pub allowed_by_boundary: Option<bool>,
    /// `None`: not returned; `Some(empty)`: present but empty (same account, with resources).
    pub details: Option<Vec<(&'static str, SimDecision)>>,
    /// Per resource, when resources were named.
    pub per_resource: Vec<ResourceResult>,
}

/// `EvalDecisionDetails` keys.
const IDENTITY_SIDE: &str = "IAM Policy";
const RESOURCE_SIDE: &str = "Resource Policy";

/// The account in an ARN's account field, if it holds one.
fn arn_account(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// Policy names in the set: `i<N>`, `b`, `r`, `s<level>.<N>`; read back by [`source_of`].
fn source_of<'a>(inputs: &'a PolicyInputs, name: &str) -> Option<&'a SimPolicy> {
    match name.as_bytes().first()? {
        b'i' => inputs.identity.get(name[1..].parse::<usize>().ok()?),
        b'b' => inputs.boundary.as_ref(),
        b'r' => inputs.resource.as_ref(),
        b's' => {
            let (level, n) = name[1..].split_once('.')?;
            inputs
                .scps
                .as_ref()?
                .get(level.parse::<usize>().ok()?)?
                .get(n.parse::<usize>().ok()?)
        }
        _ => None,
    }
}

/// Runs every action on every resource.
pub fn simulate(inputs: &PolicyInputs, scenario: &Scenario) -> Vec<ActionResult> {
    let identity_names: Vec<String> = (0..inputs.identity.len())
        .map(|i| format!("i{i}"))
        .collect();
    let scp_names: Vec<Vec<String>> = inputs
        .scps
        .iter()
        .flatten()
        .enumerate()
        .map(|(l, ps)| (0..ps.len()).map(|i| format!("s{l}.{i}")).collect())
        .collect();
    let set_for = |resource: &str| PolicySet {
        identity: inputs
            .identity
            .iter()
            .zip(&identity_names)
            .map(|(p, n)| PolicyRef {
                name: n,
                policy: &p.policy,
            })
            .collect(),
        resource: inputs
            .resource
            .iter()
            .map(|p| PolicyRef {
                name: "r",
                policy: &p.policy,
            })
            .collect(),
        // A KMS key policy must allow even within the account (AWS KMS
        // Developer Guide, "Key policies in AWS KMS").
        resource_required: inputs.resource.is_some() && resource.starts_with("arn:aws:kms:"),
        boundary: inputs.boundary.as_ref().map(|p| PolicyRef {
            name: "b",
            policy: &p.policy,
        }),
        session: None,
        scp: inputs.scps.as_ref().map(|levels| {
            levels
                .iter()
                .zip(&scp_names)
                .map(|(ps, names)| {
                    ps.iter()
                        .zip(names)
                        .map(|(p, n)| PolicyRef {
                            name: n,
                            policy: &p.policy,
                        })
                        .collect()
                })
                .collect()
        }),
    };
    let caller_account = scenario.principal.account().map(str::to_string);
    let resources: Vec<&str> = match &scenario.resources {
        Some(list) => list.iter().map(String::as_str).collect(),
        None => vec!["*"],
    };
    scenario
        .actions
        .iter()
        .map(|action| {
            let per_resource: Vec<ResourceResult> = resources
                .iter()
                .map(|resource| {
                    let owner = arn_account(resource)
                        .map(str::to_string)
                        .or_else(|| scenario.resource_owner.clone())
                        .or_else(|| caller_account.clone());
                    let req = Request {
                        principal: &scenario.principal,
                        action,
                        resource,
                        resource_account: owner.as_deref(),
                        context: &scenario.context,
                    };
                    let set = set_for(resource);
                    let eval = evaluate(&req, &set);
                    let cross_account = owner.is_some() && owner != caller_account;
                    read_result(inputs, scenario, resource, eval, cross_account)
                })
                .collect();
            aggregate(action, scenario.resources.is_some(), per_resource)
        })
        .collect()
}

/// Reads one evaluation into a per-resource result.
fn read_result(
    inputs: &PolicyInputs,
    scenario: &Scenario,
    resource: &str,
    eval: strongbox_policy::Evaluation,
    cross_account: bool,
) -> ResourceResult {
    let decision = match eval.decision {
        Decision::Allow => SimDecision::Allowed,
        Decision::Deny if eval.reason.is_explicit_deny() => SimDecision::ExplicitDeny,
        Decision::Deny => SimDecision::ImplicitDeny,
    };
    let trace = &eval.trace;
    let matched = matched_statements(inputs, trace, decision);
    let missing = missing_context_values(trace, scenario);
    let allowed_by_organizations = inputs.scps.as_ref().map(|_| organizations_allow(trace));
    let allowed_by_boundary = inputs
        .boundary
        .as_ref()
        .map(|_| side_decision(trace, &[PolicyType::Boundary]) == SimDecision::Allowed);
    // An SCP that denies ends the evaluation: no per-side details (EvaluationResult).
    let details = if cross_account && allowed_by_organizations != Some(false) {
        let mut identity = side_decision(trace, &[PolicyType::Identity]);
        if allowed_by_boundary == Some(false) && identity == SimDecision::Allowed {
            identity = SimDecision::ImplicitDeny;
        }
        if side_decision(trace, &[PolicyType::Boundary]) == SimDecision::ExplicitDeny {
            identity = SimDecision::ExplicitDeny;
        }
        vec![
            (IDENTITY_SIDE, identity),
            (RESOURCE_SIDE, side_decision(trace, &[PolicyType::Resource])),
        ]
    } else {
        Vec::new()
    };
    ResourceResult {
        resource: resource.to_string(),
        decision,
        matched,
        missing,
        allowed_by_organizations,
        allowed_by_boundary,
        details,
        cross_account,
    }
}

/// The statements behind the decision: every applicable Deny for an explicit
/// deny; the applicable Allow statements of identity and resource policies
/// for an allow; none for an implicit deny.
fn matched_statements(
    inputs: &PolicyInputs,
    trace: &Trace,
    decision: SimDecision,
) -> Vec<MatchedStatement> {
    let wanted = match decision {
        SimDecision::ImplicitDeny => return Vec::new(),
        SimDecision::ExplicitDeny => Effect::Deny,
        SimDecision::Allowed => Effect::Allow,
    };
    let mut out: Vec<MatchedStatement> = Vec::new();
    for (p, st, effect) in trace.applicable() {
        if effect != wanted
            || (wanted == Effect::Allow
                && !matches!(p.policy_type, PolicyType::Identity | PolicyType::Resource))
        {
            continue;
        }
        let Some(source) = source_of(inputs, p.name) else {
            continue;
        };
        let Some((start, end)) = statement_positions(p.policy.source())
            .get(st.index)
            .copied()
        else {
            continue;
        };
        let m = MatchedStatement {
            source_policy_id: source.id.clone(),
            source_policy_type: source.source_type,
            start,
            end,
        };
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

/// Context keys of the statements that match the request's principal and
/// action, for which the request has no value. The resource is not required
/// to match: a `Resource` with a variable that has no value matches nothing.
fn missing_context_values(trace: &Trace, scenario: &Scenario) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in trace.policies() {
        for st in p.statements {
            if st.principal == Some(false) || !st.action {
                continue;
            }
            for key in p.policy.statement_context_keys(st.index) {
                if !has_context_value(&scenario.context, &scenario.principal, &key)
                    && !out.iter().any(|k| k.eq_ignore_ascii_case(&key))
                {
                    out.push(key);
                }
            }
        }
    }
    out
}

/// How the policies of the given types decide on their own.
fn side_decision(trace: &Trace, types: &[PolicyType]) -> SimDecision {
    let mut allowed = false;
    for (p, _, effect) in trace.applicable() {
        if !types.contains(&p.policy_type) {
            continue;
        }
        match effect {
            Effect::Deny => return SimDecision::ExplicitDeny,
            Effect::Allow => allowed = true,
        }
    }
    if allowed {
        SimDecision::Allowed
    } else {
        SimDecision::ImplicitDeny
    }
}

/// Whether the SCPs allow: no applicable Deny, and an Allow at every level.
fn organizations_allow(trace: &Trace) -> bool {
    let scps: Vec<PolicyTrace<'_>> = trace
        .policies()
        .filter(|p| p.policy_type == PolicyType::Scp)
        .collect();
    let applies = |p: &PolicyTrace<'_>, effect: Effect| {
        p.statements
            .iter()
            .any(|s| s.applies && p.policy.statement_effect(s.index) == Some(effect))
    };
    if scps.iter().any(|p| applies(p, Effect::Deny)) {
        return false;
    }
    let levels = scps
        .iter()
        .filter_map(|p| p.scp_level)
        .max()
        .map_or(0, |l| l + 1);
    (0..levels).all(|level| {
        scps.iter()
            .any(|p| p.scp_level == Some(level) && applies(p, Effect::Allow))
    })
}

/// One result per action: the most restrictive decision over the resources,
/// with the statements and missing keys of the resources that decided it.
fn aggregate(action: &str, named: bool, per_resource: Vec<ResourceResult>) -> ActionResult {
    let decision = per_resource
        .iter()
        .map(|r| r.decision)
        .max()
        .unwrap_or(SimDecision::ImplicitDeny);
    let mut matched: Vec<MatchedStatement> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut details: Vec<(&'static str, SimDecision)> = Vec::new();
    for r in per_resource.iter().filter(|r| r.decision == decision) {
        for m in &r.matched {
            if !matched.contains(m) {
                matched.push(m.clone());
            }
        }
        for (side, d) in &r.details {
            match details.iter_mut().find(|(s, _)| s == side) {
                Some(slot) => slot.1 = slot.1.max(*d),
                None => details.push((side, *d)),
            }
        }
    }
    for r in &per_resource {
        for k in &r.missing {
            if !missing.iter().any(|m| m.eq_ignore_ascii_case(k)) {
                missing.push(k.clone());
            }
        }
    }
    let all = |f: fn(&ResourceResult) -> Option<bool>| {
        per_resource
            .iter()
            .map(f)
            .try_fold(true, |acc, v| v.map(|b| acc && b))
    };
    let cross_account = per_resource.iter().any(|r| r.cross_account);
    let details = match (cross_account, named) {
        // An SCP that denied ends the evaluation: nothing to detail.
        (true, _) if details.is_empty() => None,
        (true, _) => Some(details),
        (false, true) => Some(Vec::new()),
        (false, false) => None,
    };
    let resource_name = match per_resource.as_slice() {
        [one] => one.resource.clone(),
        _ => "*".to_string(),
    };
    ActionResult {
        action: action.to_string(),
        resource_name,
        decision,
        matched,
        missing,
        allowed_by_organizations: all(|r| r.allowed_by_organizations),
        allowed_by_boundary: all(|r| r.allowed_by_boundary),
        details,
        per_resource: if named { per_resource } else { Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongbox_policy::{Policy, PolicyKind};

    const ACCOUNT: &str = "111122223333";

    fn sim(id: &str, source_type: &'static str, kind: &PolicyKind, text: &str) -> SimPolicy {
        SimPolicy {
            id: id.to_string(),
            source_type,
            policy: Policy::parse(kind, text).unwrap(),
        }
    }

    fn alice() -> Principal {
        Principal::User {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            account: ACCOUNT.to_string(),
        }
    }

    fn scenario(actions: &[&str], resources: Option<&[&str]>) -> Scenario {
        Scenario {
            principal: alice(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            resources: resources.map(|r| r.iter().map(|s| s.to_string()).collect()),
            resource_owner: None,
            context: Context::new(),
        }
    }

    const IDENTITY: &str = "{\"Version\":\"2012-10-17\",\"Statement\":[\n{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},\n{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::b/locked/*\"}]}";

    #[test]
    fn explicit_deny_names_the_deny_statement_and_where_it_is() {
        let inputs = PolicyInputs {
            identity: vec![sim("p", "user", &PolicyKind::Identity, IDENTITY)],
            ..PolicyInputs::default()
        };
        let resources = ["arn:aws:s3:::b/locked/k", "arn:aws:s3:::b/open/k"];
        let [r] = simulate(&inputs, &scenario(&["s3:DeleteObject"], Some(&resources)))
            .try_into()
            .unwrap();
        assert_eq!(r.decision, SimDecision::ExplicitDeny);
        assert_eq!(r.resource_name, "*");
        assert_eq!(
            r.matched,
            vec![MatchedStatement {
                source_policy_id: "p".into(),
                source_policy_type: "user",
                start: Position { line: 3, column: 2 },
                end: Position {
                    line: 3,
                    column: 82
                },
            }]
        );
        let decisions: Vec<SimDecision> = r.per_resource.iter().map(|x| x.decision).collect();
        assert_eq!(decisions, [SimDecision::ExplicitDeny, SimDecision::Allowed]);
        assert_eq!(r.per_resource[1].matched[0].start.line, 2);
        // Same account with resources: details present but empty.
        assert_eq!(r.details, Some(Vec::new()));
        assert_eq!(r.allowed_by_organizations, None);
        assert_eq!(r.allowed_by_boundary, None);
    }

    #[test]
    fn scps_and_boundary_details() {
        let allow_all = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
        let allow_s3_get = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#;
        let inputs = PolicyInputs {
            identity: vec![sim("p", "user", &PolicyKind::Identity, IDENTITY)],
            boundary: Some(sim("b", "user-managed", &PolicyKind::Boundary, allow_all)),
            resource: None,
            scps: Some(vec![
                vec![sim("p-full", "none", &PolicyKind::Scp, allow_all)],
                vec![sim("p-get", "none", &PolicyKind::Scp, allow_s3_get)],
            ]),
        };
        let results = simulate(&inputs, &scenario(&["s3:GetObject", "s3:PutObject"], None));
        assert_eq!(results[0].decision, SimDecision::Allowed);
        assert_eq!(results[0].allowed_by_organizations, Some(true));
        assert_eq!(results[0].allowed_by_boundary, Some(true));
        assert_eq!(results[0].details, None);
        assert!(results[0].per_resource.is_empty());
        // No SCP at the account level allows PutObject.
        assert_eq!(results[1].decision, SimDecision::ImplicitDeny);
        assert_eq!(results[1].allowed_by_organizations, Some(false));
        assert!(results[1].matched.is_empty());
    }

    #[test]
    fn cross_account_details_and_missing_context_values() {
        let identity = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team}/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}"#;
        let inputs = PolicyInputs {
            identity: vec![sim(
                "PolicyInputList.1",
                "none",
                &PolicyKind::Identity,
                identity,
            )],
            ..PolicyInputs::default()
        };
        let mut s = scenario(&["s3:GetObject"], Some(&["arn:aws:s3:::b/red/k"]));
        s.resource_owner = Some("444455556666".into());
        let [r] = simulate(&inputs, &s).try_into().unwrap();
        assert_eq!(r.decision, SimDecision::ImplicitDeny);
        assert_eq!(r.missing, ["aws:PrincipalTag/team", "aws:SecureTransport"]);
        assert_eq!(
            r.details,
            Some(vec![
                (IDENTITY_SIDE, SimDecision::ImplicitDeny),
                (RESOURCE_SIDE, SimDecision::ImplicitDeny)
            ])
        );
        s.context = Context::new()
            .with("aws:PrincipalTag/team", "red")
            .with("aws:SecureTransport", "true");
        let [r] = simulate(&inputs, &s).try_into().unwrap();
        assert!(r.missing.is_empty());
        // Allowed on the identity side only: the other account's side must allow too.
        assert_eq!(r.decision, SimDecision::ImplicitDeny);
        assert_eq!(
            r.details.as_deref().map(|d| d[0].1),
            Some(SimDecision::Allowed)
        );
        s.resource_owner = None;
        let [r] = simulate(&inputs, &s).try_into().unwrap();
        assert_eq!(r.decision, SimDecision::Allowed);
        assert_eq!(r.resource_name, "arn:aws:s3:::b/red/k");
    }
}
