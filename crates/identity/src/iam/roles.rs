//! IAM roles and their trust policies.

use strongbox_core::ContextEntry;

use super::entities::{locate, Kind};
use super::users::boundary_param;
use super::{paged, path_prefix, request_tag_context, role_xml, Ctx, OpResult};
use crate::error::{constraint, IdentityError, Result};
use crate::model::{Perms, Role};
use crate::query::Xml;
use crate::store::entity_key;
use crate::validate;
use crate::{arns, ids, Identity};
use strongbox_policy::PolicyKind;

/// Default quota of a role trust policy (`ACLSizePerRole`).
const TRUST_POLICY_QUOTA: usize = 2048;

/// Checks a trust policy: grammar, size, and that every AWS principal exists
/// (`Invalid principal in policy`, as IAM answers).
pub fn check_trust_policy(identity: &Identity, doc: &str) -> Result<()> {
    validate::policy(doc, PolicyKind::Trust)?;
    if validate::packed_len(doc) > TRUST_POLICY_QUOTA {
        return Err(IdentityError::LimitExceeded(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}"
        )));
    }
    let value: serde_json::Value = serde_json::from_str(doc).unwrap_or_default();
    let statements = match &value["Statement"] {
        serde_json::Value::Array(list) => list.clone(),
        other => vec![other.clone()],
    };
    for st in statements {
        for field in ["Principal", "NotPrincipal"] {
            let aws = &st[field]["AWS"];
            let names: Vec<&str> = match aws {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(list) => list.iter().filter_map(|v| v.as_str()).collect(),
                _ => Vec::new(),
            };
            for name in names {
                if name != "*" && !identity.principal_exists(name) {
                    return Err(IdentityError::MalformedPolicyDocument(format!(
                        "Invalid principal in policy: \"AWS\":\"{name}\""
                    )));
                }
            }
        }
    }
    Ok(())
}

fn max_session(ctx: &Ctx<'_>) -> Result<Option<u32>> {
    Ok(ctx
        .p
        .int("MaxSessionDuration", 3600, 43200)?
        .map(|n| n as u32))
}

fn description(ctx: &Ctx<'_>) -> Result<Option<String>> {
    match ctx.p.get("Description") {
        Some(d) if d.chars().count() > 1000 => Err(constraint(
            d,
            "description",
            "Member must have length less than or equal to 1000",
        )),
        other => Ok(other.map(str::to_string)),
    }
}

pub fn create_role(ctx: &Ctx<'_>) -> OpResult {
    let name = ctx.p.required("RoleName")?;
    validate::name(name, "roleName", 64)?;
    let path = ctx.p.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    let trust = ctx.p.required("AssumeRolePolicyDocument")?;
    let tags = ctx.p.tags("Tags")?;
    let max_session_duration = max_session(ctx)?.unwrap_or(3600);
    let description = description(ctx)?;
    let mut context = request_tag_context(&tags);
    if let Some(b) = ctx.p.get("PermissionsBoundary") {
        context.push(ContextEntry::new("iam:PermissionsBoundary", b));
    }
    ctx.authorize(
        "iam:CreateRole",
        &arns::role(&ctx.account, path, name),
        &context,
    )?;
    check_trust_policy(ctx.id, trust)?;
    let boundary = boundary_param(ctx)?;
    let role = Role {
        account_id: ctx.account.clone(),
        name: name.to_string(),
        path: path.to_string(),
        id: ids::unique_id("AROA"),
        created: jiff::Timestamp::now(),
        trust_policy: trust.to_string(),
        description,
        max_session_duration,
        tags,
        boundary,
        perms: Perms::default(),
    };
    ctx.id.store.write(|txn| {
        if txn.get::<Role>(&entity_key(&ctx.account, name)).is_some() {
            return Err(IdentityError::EntityAlreadyExists(format!(
                "Role with name {name} already exists."
            )));
        }
        txn.put(role.clone());
        Ok(())
    })?;
    let mut x = Xml::new();
    role_xml(&mut x, "Role", &role, true);
    Ok(Some(x))
}

pub fn get_role(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::Role, "GetRole", Vec::new())?;
    let st = ctx.id.store.snapshot();
    let role = st
        .roles
        .get(&entity_key(&ctx.account, &v.name))
        .ok_or_else(|| Kind::Role.not_found(&v.name))?;
    let mut x = Xml::new();
    role_xml(&mut x, "Role", role, true);
    Ok(Some(x))
}

pub fn list_roles(ctx: &Ctx<'_>) -> OpResult {
    let prefix = path_prefix(ctx)?;
    ctx.authorize(
        "iam:ListRoles",
        &format!("arn:aws:iam::{}:role{prefix}", ctx.account),
        &[],
    )?;
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    let roles = st
        .roles
        .values()
        .filter(|r| r.account_id == ctx.account && r.path.starts_with(prefix));
    paged(ctx, &mut x, "Roles", roles, |x, r| {
        role_xml(x, "member", r, false)
    })?;
    Ok(Some(x))
}

pub fn delete_role(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::Role, "DeleteRole", Vec::new())?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let role = txn
            .get::<Role>(&key)
            .ok_or_else(|| Kind::Role.not_found(&v.name))?;
        if !role.perms.inline.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        if !role.perms.attached.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".into(),
            ));
        }
        txn.remove::<Role>(&key);
        Ok(())
    })?;
    Ok(None)
}

pub fn update_role(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::Role, "UpdateRole", Vec::new())?;
    let max = max_session(ctx)?;
    let description = description(ctx)?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let role = txn
            .get_mut::<Role>(&key)
            .ok_or_else(|| Kind::Role.not_found(&v.name))?;
        if let Some(m) = max {
            role.max_session_duration = m;
        }
        if let Some(d) = description {
            role.description = Some(d);
        }
        Ok(())
    })?;
    Ok(Some(Xml::new()))
}

pub fn update_assume_role_policy(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::Role, "UpdateAssumeRolePolicy", Vec::new())?;
    let doc = ctx.p.required("PolicyDocument")?;
    check_trust_policy(ctx.id, doc)?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let role = txn
            .get_mut::<Role>(&key)
            .ok_or_else(|| Kind::Role.not_found(&v.name))?;
        role.trust_policy = doc.to_string();
        Ok(())
    })?;
    Ok(None)
}
