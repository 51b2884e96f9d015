//! The IAM policy simulator over IAM's API: SimulatePrincipalPolicy,
//! SimulateCustomPolicy, GetContextKeysForPrincipalPolicy and
//! GetContextKeysForCustomPolicy.
//!
//! API reference: <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>,
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html>,
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForPrincipalPolicy.html>,
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetContextKeysForCustomPolicy.html>.
//! Each operation is authorized as the Service Authorization Reference lists it
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html>):
//! `iam:SimulatePrincipalPolicy` and `iam:GetContextKeysForPrincipalPolicy` on
//! the user, group or role; the custom-policy operations on `*`.
//! The decisions come from [`crate::simulation::simulate`], which runs the
//! live authorizer's engine.
//!
//! Choices where AWS does not document the answer: `SourcePolicyId` is the
//! policy's name for stored policies, `PolicyInputList.N`,
//! `PermissionsBoundaryPolicyInputList.1` or `ResourcePolicy` for inputs
//! (type `none`, or `resource`), and the SCP's id for SCPs (type `none`);
//! a role is simulated as a session of the role; a group or a custom
//! simulation without `CallerArn` has no caller identity (`aws:PrincipalArn`,
//! `aws:PrincipalAccount` and `aws:username` have no value); SCPs apply to
//! SimulatePrincipalPolicy (the entity's account), not to SimulateCustomPolicy.

use strongbox_policy::{Context, Policy, PolicyKind, Principal};

use super::{paged, Ctx, Kind, OpResult};
use crate::error::{constraint, IdentityError, Result};
use crate::model::Perms;
use crate::query::Xml;
use crate::resolve::{customer_policy, scp_chain};
use crate::simulation::{
    simulate, ActionResult, MatchedStatement, PolicyInputs, ResourceResult, Scenario, SimPolicy,
};
use crate::store::{entity_key, State};
use crate::{arns, managed};

/// At most this many action × resource evaluations per request.
const MAX_EVALUATIONS: usize = 10_000;
/// At most this many policy documents in one list parameter.
const MAX_INPUT_POLICIES: usize = 100;
/// `policyDocumentType`: 1 to 131,072 characters.
const MAX_POLICY_CHARS: usize = 131_072;

/// The ContextKeyType values (`ContextKeyTypeEnum`).
const CONTEXT_KEY_TYPES: [&str; 12] = [
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
];

/// The EC2 scenarios of `ResourceHandlingOption` and the resource types each needs.
const EC2_SCENARIOS: [(&str, &[&str]); 4] = [
    (
        "EC2-VPC-InstanceStore",
        &["instance", "image", "security-group", "network-interface"],
    ),
    (
        "EC2-VPC-InstanceStore-Subnet",
        &[
            "instance",
            "image",
            "security-group",
            "network-interface",
            "subnet",
        ],
    ),
    (
        "EC2-VPC-EBS",
        &[
            "instance",
            "image",
            "security-group",
            "network-interface",
            "volume",
        ],
    ),
    (
        "EC2-VPC-EBS-Subnet",
        &[
            "instance",
            "image",
            "security-group",
            "network-interface",
            "subnet",
            "volume",
        ],
    ),
];

fn invalid(msg: impl Into<String>) -> IdentityError {
    IdentityError::InvalidInput(msg.into())
}

/// A required list parameter (`X.member.N`); absent → AWS's "Member must not be null".
fn required_list(ctx: &Ctx<'_>, name: &str, field: &str) -> Result<Vec<String>> {
    let values = ctx.p.members(name);
    if values.is_empty() && ctx.p.get(name).is_none() {
        return Err(IdentityError::ValidationError(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        )));
    }
    Ok(values)
}

/// Policy documents of a list parameter, parsed strictly as `kind`.
fn input_policies(
    ctx: &Ctx<'_>,
    name: &str,
    field: &str,
    kind: &PolicyKind,
) -> Result<Vec<SimPolicy>> {
    let docs = ctx.p.members(name);
    if docs.len() > MAX_INPUT_POLICIES {
        return Err(constraint(
            "[…]",
            field,
            &format!("Member must have length less than or equal to {MAX_INPUT_POLICIES}"),
        ));
    }
    docs.iter()
        .enumerate()
        .map(|(i, doc)| {
            let policy = parse_input(doc, field, kind)?;
            Ok(SimPolicy {
                id: format!("{name}.{}", i + 1),
                source_type: "none",
                policy,
            })
        })
        .collect()
}

/// `PolicyInputList`: identity-based policies (required for the custom operations).
fn policy_input_list(ctx: &Ctx<'_>, required: bool) -> Result<Vec<SimPolicy>> {
    if required {
        required_list(ctx, "PolicyInputList", "policyInputList")?;
    }
    input_policies(
        ctx,
        "PolicyInputList",
        "policyInputList",
        &PolicyKind::Identity,
    )
}

/// Parses one input document; a malformed one is InvalidInput (the error
/// SimulateCustomPolicy and SimulatePrincipalPolicy document for bad input).
fn parse_input(doc: &str, field: &str, kind: &PolicyKind) -> Result<Policy> {
    let len = doc.chars().count();
    if len == 0 || len > MAX_POLICY_CHARS {
        return Err(constraint(
            "[…]",
            field,
            &format!("Member must have length between 1 and {MAX_POLICY_CHARS}"),
        ));
    }
    let parsed = if kind.is_resource_based() {
        Policy::parse_for_evaluation(kind, doc)
    } else {
        Policy::parse(kind, doc)
    };
    parsed.map_err(|e| invalid(format!("{field}: {}", e.message)))
}

/// The kind a resource policy is read as, from the simulated resources.
fn resource_policy_kind(resources: Option<&[String]>) -> PolicyKind {
    let resources = resources.unwrap_or(&[]);
    if resources.iter().any(|r| r.starts_with("arn:aws:kms:")) {
        return PolicyKind::KeyPolicy;
    }
    let bucket = resources
        .iter()
        .find_map(|r| r.strip_prefix("arn:aws:s3:::"))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("*");
    PolicyKind::Bucket {
        bucket: bucket.to_string(),
    }
}

/// `ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}`.
fn context_entries(ctx: &Ctx<'_>) -> Result<Context> {
    let mut context = Context::new();
    for entry in ctx.p.member_structs("ContextEntries") {
        let name = entry.get("ContextKeyName").cloned().unwrap_or_default();
        let len = name.chars().count();
        if !(5..=256).contains(&len) {
            return Err(constraint(
                &name,
                "contextEntries.member.contextKeyName",
                "Member must have length between 5 and 256",
            ));
        }
        let key_type = entry.get("ContextKeyType").map_or("string", String::as_str);
        if !CONTEXT_KEY_TYPES.contains(&key_type) {
            return Err(constraint(
                key_type,
                "contextEntries.member.contextKeyType",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    CONTEXT_KEY_TYPES.join(", ")
                ),
            ));
        }
        let mut values: Vec<(u32, String)> = entry
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix("ContextKeyValues.member.")?.parse().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        values.sort_by_key(|(n, _)| *n);
        let values: Vec<String> = values.into_iter().map(|(_, v)| v).collect();
        if !key_type.ends_with("List") && values.len() > 1 {
            return Err(invalid(format!(
                "Context key {name} of type {key_type} takes a single value."
            )));
        }
        context.insert_values(name, values);
    }
    Ok(context)
}

/// An IAM user ARN (`CallerArn` may name only a user).
fn user_principal(arn: &str) -> Result<Principal> {
    match arns::parse_iam(arn) {
        Some((account, "user", _, _)) if is_account_id(account) => Ok(Principal::User {
            arn: arn.to_string(),
            account: account.to_string(),
        }),
        _ => Err(invalid(format!(
            "Invalid CallerArn {arn}: only the ARN of an IAM user can be the simulated caller."
        ))),
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `ResourceOwner`: an account id, or the account's root ARN.
fn resource_owner(ctx: &Ctx<'_>) -> Result<Option<String>> {
    let Some(owner) = ctx.p.get("ResourceOwner") else {
        return Ok(None);
    };
    let account = owner
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
        .unwrap_or(owner);
    if !is_account_id(account) {
        return Err(invalid(format!("Invalid ResourceOwner {owner}.")));
    }
    Ok(Some(account.to_string()))
}

/// A caller without identity: the keys derived from a principal get no value.
fn hide_caller_identity(context: &mut Context) {
    for key in ["aws:PrincipalArn", "aws:PrincipalAccount", "aws:username"] {
        if context.get(key).is_none() {
            context.insert_values(key, Vec::<String>::new());
        }
    }
}

/// ActionNames, ResourceArns and ResourceHandlingOption, validated.
fn actions_and_resources(
    ctx: &Ctx<'_>,
    allow_wildcards: bool,
) -> Result<(Vec<String>, Option<Vec<String>>)> {
    let actions = required_list(ctx, "ActionNames", "actionNames")?;
    for a in &actions {
        let len = a.chars().count();
        if !(3..=128).contains(&len) {
            return Err(constraint(
                a,
                "actionNames.member",
                "Member must have length between 3 and 128",
            ));
        }
        if !a.contains(':') {
            return Err(invalid(format!(
                "Action {a} must include the service identifier, such as iam:CreateUser."
            )));
        }
        if !allow_wildcards && a.contains(['*', '?']) {
            return Err(invalid(format!(
                "Action {a} contains a wildcard; SimulateCustomPolicy does not support wildcards in action names."
            )));
        }
    }
    let resources = ctx.p.members("ResourceArns");
    for r in &resources {
        if r.is_empty() || r.chars().count() > 2048 {
            return Err(constraint(
                r,
                "resourceArns.member",
                "Member must have length between 1 and 2048",
            ));
        }
    }
    if actions.len().saturating_mul(resources.len().max(1)) > MAX_EVALUATIONS {
        return Err(invalid(format!(
            "Too many simulations requested: at most {MAX_EVALUATIONS} action and resource combinations."
        )));
    }
    if let Some(option) = ctx.p.get("ResourceHandlingOption") {
        let needed = EC2_SCENARIOS
            .iter()
            .find(|(name, _)| *name == option)
            .map(|(_, types)| *types)
            .ok_or_else(|| invalid(format!("Invalid ResourceHandlingOption {option}.")))?;
        for t in needed {
            let has = resources.iter().any(|r| {
                r.starts_with("arn:aws:ec2:")
                    && r.rsplit(':')
                        .next()
                        .is_some_and(|res| res.starts_with(&format!("{t}/")))
            });
            if !has {
                return Err(invalid(format!(
                    "ResourceHandlingOption {option} requires a {t} resource in ResourceArns."
                )));
            }
        }
    }
    let resources = (!resources.is_empty()).then_some(resources);
    Ok((actions, resources))
}

/// `ResourcePolicy`, parsed for the simulated resources.
fn resource_policy(ctx: &Ctx<'_>, resources: Option<&[String]>) -> Result<Option<SimPolicy>> {
    ctx.p
        .get("ResourcePolicy")
        .map(|doc| {
            let policy = parse_input(doc, "resourcePolicy", &resource_policy_kind(resources))?;
            Ok(SimPolicy {
                id: "ResourcePolicy".to_string(),
                source_type: "resource",
                policy,
            })
        })
        .transpose()
}

/// At most one permissions boundary may be simulated.
fn boundary_input(ctx: &Ctx<'_>) -> Result<Option<SimPolicy>> {
    let mut list = input_policies(
        ctx,
        "PermissionsBoundaryPolicyInputList",
        "permissionsBoundaryPolicyInputList",
        &PolicyKind::Boundary,
    )?;
    if list.len() > 1 {
        return Err(invalid(
            "You can input only one permissions boundary when you pass a policy to this operation.",
        ));
    }
    Ok(list.pop())
}

/// SimulateCustomPolicy.
pub fn simulate_custom_policy(ctx: &Ctx<'_>) -> OpResult {
    ctx.authorize("iam:SimulateCustomPolicy", "*", &[])?;
    let identity = policy_input_list(ctx, true)?;
    let (actions, resources) = actions_and_resources(ctx, false)?;
    let resource = resource_policy(ctx, resources.as_deref())?;
    let mut context = context_entries(ctx)?;
    let principal = match ctx.p.get("CallerArn") {
        Some(arn) => user_principal(arn)?,
        None if resource.is_some() => {
            return Err(invalid(
                "CallerArn is required when you include a ResourcePolicy.",
            ))
        }
        None => {
            hide_caller_identity(&mut context);
            unnamed_caller(&ctx.account)
        }
    };
    let inputs = PolicyInputs {
        identity,
        boundary: boundary_input(ctx)?,
        resource,
        scps: None,
    };
    run(ctx, &inputs, principal, (actions, resources), context)
}

/// A caller with no identity of its own, in `account`.
fn unnamed_caller(account: &str) -> Principal {
    Principal::User {
        arn: format!("arn:aws:iam::{account}:user/"),
        account: account.to_string(),
    }
}

/// The user, group or role a `PolicySourceArn` names, in the caller's account.
enum Source<'a> {
    User(&'a crate::model::User),
    Group(&'a crate::model::Group),
    Role(&'a crate::model::Role),
}

fn policy_source<'s>(ctx: &Ctx<'_>, st: &'s State, arn: &str) -> Result<Source<'s>> {
    let (account, kind, _, name) =
        arns::parse_iam(arn).ok_or_else(|| invalid(format!("Invalid ARN: {arn}")))?;
    let kind = match kind {
        "user" => Kind::User,
        "group" => Kind::Group,
        "role" => Kind::Role,
        _ => {
            return Err(invalid(format!(
                "PolicySourceArn {arn} must be the ARN of a user, group or role."
            )))
        }
    };
    let key = entity_key(account, name);
    let found = (account == ctx.account)
        .then(|| match kind {
            Kind::User => st.users.get(&key).map(Source::User),
            Kind::Group => st.groups.get(&key).map(Source::Group),
            Kind::Role => st.roles.get(&key).map(Source::Role),
        })
        .flatten();
    found.ok_or_else(|| kind.not_found(name))
}

/// The inline and attached policies of one entity.
fn add_entity_policies(
    st: &State,
    perms: &Perms,
    inline_type: &'static str,
    out: &mut Vec<SimPolicy>,
) {
    for (name, doc) in &perms.inline {
        if let Ok(policy) = Policy::parse_for_evaluation(&PolicyKind::Identity, doc) {
            out.push(SimPolicy {
                id: name.clone(),
                source_type: inline_type,
                policy,
            });
        }
    }
    for arn in &perms.attached {
        if let Some(p) = managed_policy(st, arn, &PolicyKind::Identity) {
            if !out
                .iter()
                .any(|o| o.id == p.id && o.source_type == p.source_type)
            {
                out.push(p);
            }
        }
    }
}

/// An AWS or customer managed policy's default version.
fn managed_policy(st: &State, arn: &str, kind: &PolicyKind) -> Option<SimPolicy> {
    let (name, source_type, doc) = match managed::aws_managed(arn) {
        Some(p) => (p.name.to_string(), "aws-managed", p.document.to_string()),
        None => {
            let p = customer_policy(st, arn)?;
            (
                p.name.clone(),
                "user-managed",
                p.default_document()?.to_string(),
            )
        }
    };
    let policy = Policy::parse_for_evaluation(kind, &doc).ok()?;
    Some(SimPolicy {
        id: name,
        source_type,
        policy,
    })
}

/// The entity's policies (a user's with its groups'), its boundary, and its account's SCPs.
fn entity_inputs(st: &State, source: &Source<'_>) -> PolicyInputs {
    let mut inputs = PolicyInputs::default();
    let (account, boundary) = match source {
        Source::User(u) => {
            add_entity_policies(st, &u.perms, "user", &mut inputs.identity);
            let key = u.name.to_ascii_lowercase();
            for g in st.groups.values() {
                if g.account_id == u.account_id && g.members.contains(&key) {
                    add_entity_policies(st, &g.perms, "group", &mut inputs.identity);
                }
            }
            (&u.account_id, u.boundary.as_deref())
        }
        Source::Group(g) => {
            add_entity_policies(st, &g.perms, "group", &mut inputs.identity);
            (&g.account_id, None)
        }
        Source::Role(r) => {
            add_entity_policies(st, &r.perms, "role", &mut inputs.identity);
            (&r.account_id, r.boundary.as_deref())
        }
    };
    inputs.boundary = boundary.and_then(|arn| managed_policy(st, arn, &PolicyKind::Boundary));
    inputs.scps = scp_chain(st, account).map(|levels| {
        levels
            .into_iter()
            .map(|level| {
                level
                    .into_iter()
                    .filter_map(|d| {
                        let policy =
                            Policy::parse_for_evaluation(&PolicyKind::Scp, &d.document).ok()?;
                        let id = d.name.rsplit('/').next().unwrap_or(&d.name).to_string();
                        Some(SimPolicy {
                            id,
                            source_type: "none",
                            policy,
                        })
                    })
                    .collect()
            })
            .collect()
    });
    inputs
}

/// The simulated caller of SimulatePrincipalPolicy: `CallerArn`, else the
/// user, else a session of the role; a group has no caller identity.
fn principal_caller(
    ctx: &Ctx<'_>,
    source: &Source<'_>,
    has_resource_policy: bool,
    context: &mut Context,
) -> Result<Principal> {
    if let Some(arn) = ctx.p.get("CallerArn") {
        return user_principal(arn);
    }
    match source {
        Source::User(u) => Ok(Principal::User {
            arn: arns::user(&u.account_id, &u.path, &u.name),
            account: u.account_id.clone(),
        }),
        _ if has_resource_policy => Err(invalid(
            "CallerArn is required when you include a ResourcePolicy and the PolicySourceArn is not the ARN of an IAM user.",
        )),
        Source::Role(r) => Ok(Principal::AssumedRole {
            session_arn: arns::assumed_role(&r.account_id, &r.name, "simulated-session"),
            role_arn: arns::role(&r.account_id, &r.path, &r.name),
            account: r.account_id.clone(),
        }),
        Source::Group(g) => {
            hide_caller_identity(context);
            Ok(unnamed_caller(&g.account_id))
        }
    }
}

/// SimulatePrincipalPolicy.
pub fn simulate_principal_policy(ctx: &Ctx<'_>) -> OpResult {
    let source_arn = ctx.p.required("PolicySourceArn")?;
    ctx.authorize("iam:SimulatePrincipalPolicy", source_arn, &[])?;
    let st = ctx.id.store.snapshot();
    let source = policy_source(ctx, &st, source_arn)?;
    let (actions, resources) = actions_and_resources(ctx, true)?;
    let mut inputs = entity_inputs(&st, &source);
    inputs.identity.extend(policy_input_list(ctx, false)?);
    // A boundary passed in replaces the entity's (SimulatePrincipalPolicy reference).
    if let Some(b) = boundary_input(ctx)? {
        inputs.boundary = Some(b);
    }
    inputs.resource = resource_policy(ctx, resources.as_deref())?;
    let mut context = context_entries(ctx)?;
    let principal = principal_caller(ctx, &source, inputs.resource.is_some(), &mut context)?;
    run(ctx, &inputs, principal, (actions, resources), context)
}

/// Simulates the scenario the request describes and renders one page of results.
fn run(
    ctx: &Ctx<'_>,
    inputs: &PolicyInputs,
    principal: Principal,
    (actions, resources): (Vec<String>, Option<Vec<String>>),
    context: Context,
) -> OpResult {
    let scenario = Scenario {
        principal,
        actions,
        resources,
        resource_owner: resource_owner(ctx)?,
        context,
    };
    render_results(ctx, &simulate(inputs, &scenario))
}

/// The context keys of a list of policies, each once, in order.
fn context_keys<'a>(policies: impl IntoIterator<Item = &'a SimPolicy>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in policies {
        for k in p.policy.context_keys() {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&k)) {
                out.push(k);
            }
        }
    }
    out
}

fn render_context_keys(keys: &[String]) -> OpResult {
    let mut x = Xml::new();
    x.open("ContextKeyNames");
    for k in keys {
        x.text("member", k);
    }
    x.close("ContextKeyNames");
    Ok(Some(x))
}

/// GetContextKeysForCustomPolicy.
pub fn get_context_keys_for_custom_policy(ctx: &Ctx<'_>) -> OpResult {
    ctx.authorize("iam:GetContextKeysForCustomPolicy", "*", &[])?;
    let policies = policy_input_list(ctx, true)?;
    render_context_keys(&context_keys(&policies))
}

/// GetContextKeysForPrincipalPolicy: the entity's policies (a user's with
/// its groups'), its permissions boundary, and any PolicyInputList.
pub fn get_context_keys_for_principal_policy(ctx: &Ctx<'_>) -> OpResult {
    let source_arn = ctx.p.required("PolicySourceArn")?;
    ctx.authorize("iam:GetContextKeysForPrincipalPolicy", source_arn, &[])?;
    let st = ctx.id.store.snapshot();
    let source = policy_source(ctx, &st, source_arn)?;
    let inputs = entity_inputs(&st, &source);
    let extra = policy_input_list(ctx, false)?;
    let all = inputs.identity.iter().chain(&inputs.boundary).chain(&extra);
    render_context_keys(&context_keys(all))
}

fn matched_xml(x: &mut Xml, matched: &[MatchedStatement]) {
    x.open("MatchedStatements");
    for m in matched {
        x.open("member")
            .text("SourcePolicyId", &m.source_policy_id)
            .text("SourcePolicyType", m.source_policy_type);
        for (tag, p) in [("StartPosition", m.start), ("EndPosition", m.end)] {
            x.open(tag)
                .text("Line", &p.line.to_string())
                .text("Column", &p.column.to_string())
                .close(tag);
        }
        x.close("member");
    }
    x.close("MatchedStatements");
}

fn missing_xml(x: &mut Xml, missing: &[String]) {
    x.open("MissingContextValues");
    for k in missing {
        x.text("member", k);
    }
    x.close("MissingContextValues");
}

fn details_xml(x: &mut Xml, details: &[(&str, crate::simulation::SimDecision)]) {
    x.open("EvalDecisionDetails");
    for (side, d) in details {
        x.open("entry")
            .text("key", side)
            .text("value", d.as_str())
            .close("entry");
    }
    x.close("EvalDecisionDetails");
}

fn boundary_detail_xml(x: &mut Xml, allowed: Option<bool>) {
    if let Some(b) = allowed {
        x.open("PermissionsBoundaryDecisionDetail")
            .text("AllowedByPermissionsBoundary", &b.to_string())
            .close("PermissionsBoundaryDecisionDetail");
    }
}

fn resource_result_xml(x: &mut Xml, r: &ResourceResult) {
    x.open("member")
        .text("EvalResourceName", &r.resource)
        .text("EvalResourceDecision", r.decision.as_str());
    matched_xml(x, &r.matched);
    missing_xml(x, &r.missing);
    if r.cross_account && !r.details.is_empty() {
        details_xml(x, &r.details);
    }
    boundary_detail_xml(x, r.allowed_by_boundary);
    x.close("member");
}

fn action_result_xml(x: &mut Xml, r: &ActionResult) {
    x.open("member")
        .text("EvalActionName", &r.action)
        .text("EvalResourceName", &r.resource_name)
        .text("EvalDecision", r.decision.as_str());
    matched_xml(x, &r.matched);
    missing_xml(x, &r.missing);
    if let Some(allowed) = r.allowed_by_organizations {
        x.open("OrganizationsDecisionDetail")
            .text("AllowedByOrganizations", &allowed.to_string())
            .close("OrganizationsDecisionDetail");
    }
    boundary_detail_xml(x, r.allowed_by_boundary);
    if let Some(details) = &r.details {
        details_xml(x, details);
    }
    if !r.per_resource.is_empty() {
        x.open("ResourceSpecificResults");
        for rr in &r.per_resource {
            resource_result_xml(x, rr);
        }
        x.close("ResourceSpecificResults");
    }
    x.close("member");
}

/// `EvaluationResults`, one page (MaxItems, Marker).
fn render_results(ctx: &Ctx<'_>, results: &[ActionResult]) -> OpResult {
    let mut x = Xml::new();
    paged(ctx, &mut x, "EvaluationResults", results, action_result_xml)?;
    Ok(Some(x))
}
