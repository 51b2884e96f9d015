//! Operations shared by users, groups and roles: inline and attached
//! policies, permissions boundaries and tags.

use strongbox_core::ContextEntry;

use super::{not_truncated, paged, request_tag_context, resource_tag_context, Ctx, OpResult};
use crate::error::{IdentityError, Result};
use crate::model::{Group, Perms, Role, Tag, User};
use crate::query::{url_encode, Xml};
use crate::resolve::customer_policy;
use crate::store::{entity_key, State, Txn};
use crate::validate;
use crate::{arns, managed};
use strongbox_policy::PolicyKind;

/// Which kind of IAM identity an operation targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
    Role,
}

impl Kind {
    /// `UserName`, `GroupName`, `RoleName`.
    pub fn param(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Group => "GroupName",
            Kind::Role => "RoleName",
        }
    }

    /// `User`, `Group`, `Role` (as in action names).
    pub fn word(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::Role => "Role",
        }
    }

    pub fn lower(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Role => "role",
        }
    }

    /// Aggregate size quota of inline policies.
    fn inline_quota(self) -> usize {
        match self {
            Kind::User => 2048,
            Kind::Group => 5120,
            Kind::Role => 10240,
        }
    }

    pub fn not_found(self, name: &str) -> IdentityError {
        IdentityError::NoSuchEntity(format!(
            "The {} with name {name} cannot be found.",
            self.lower()
        ))
    }
}

/// What the shared operations need to know about an entity.
pub struct View {
    pub name: String,
    pub arn: String,
    pub tags: Vec<Tag>,
    pub perms: Perms,
}

pub fn view(st: &State, kind: Kind, account: &str, name: &str) -> Option<View> {
    let key = entity_key(account, name);
    match kind {
        Kind::User => st.users.get(&key).map(|u| View {
            name: u.name.clone(),
            arn: arns::user(account, &u.path, &u.name),
            tags: u.tags.clone(),
            perms: u.perms.clone(),
        }),
        Kind::Group => st.groups.get(&key).map(|g| View {
            name: g.name.clone(),
            arn: arns::group(account, &g.path, &g.name),
            tags: Vec::new(),
            perms: g.perms.clone(),
        }),
        Kind::Role => st.roles.get(&key).map(|r| View {
            name: r.name.clone(),
            arn: arns::role(account, &r.path, &r.name),
            tags: r.tags.clone(),
            perms: r.perms.clone(),
        }),
    }
}

/// The ARN an entity has, or would have at path `/`.
pub fn arn_of(st: &State, kind: Kind, account: &str, name: &str) -> String {
    match view(st, kind, account, name) {
        Some(v) => v.arn,
        None => match kind {
            Kind::User => arns::user(account, "/", name),
            Kind::Group => arns::group(account, "/", name),
            Kind::Role => arns::role(account, "/", name),
        },
    }
}

/// Reads the entity name parameter, authorizes `iam:<action>` on the entity
/// (with its tags and `extra` context) and returns the entity.
pub fn locate(ctx: &Ctx<'_>, kind: Kind, action: &str, extra: Vec<ContextEntry>) -> Result<View> {
    let name = ctx.p.required(kind.param())?;
    let st = ctx.id.store.snapshot();
    let found = view(&st, kind, &ctx.account, name);
    let arn = found
        .as_ref()
        .map(|v| v.arn.clone())
        .unwrap_or_else(|| arn_of(&st, kind, &ctx.account, name));
    let mut context = found
        .as_ref()
        .map(|v| resource_tag_context(&v.tags))
        .unwrap_or_default();
    context.extend(extra);
    ctx.authorize(&format!("iam:{action}"), &arn, &context)?;
    found.ok_or_else(|| kind.not_found(name))
}

pub fn perms_mut<'t>(txn: &'t mut Txn, kind: Kind, key: &str) -> Option<&'t mut Perms> {
    match kind {
        Kind::User => txn.get_mut::<User>(key).map(|u| &mut u.perms),
        Kind::Group => txn.get_mut::<Group>(key).map(|g| &mut g.perms),
        Kind::Role => txn.get_mut::<Role>(key).map(|r| &mut r.perms),
    }
}

fn boundary_mut<'t>(txn: &'t mut Txn, kind: Kind, key: &str) -> Option<&'t mut Option<String>> {
    match kind {
        Kind::User => txn.get_mut::<User>(key).map(|u| &mut u.boundary),
        Kind::Role => txn.get_mut::<Role>(key).map(|r| &mut r.boundary),
        Kind::Group => None,
    }
}

fn tags_mut<'t>(txn: &'t mut Txn, kind: Kind, key: &str) -> Option<&'t mut Vec<Tag>> {
    match kind {
        Kind::User => txn.get_mut::<User>(key).map(|u| &mut u.tags),
        Kind::Role => txn.get_mut::<Role>(key).map(|r| &mut r.tags),
        Kind::Group => None,
    }
}

/// Whether `arn` names a managed policy that can be attached in `account`.
pub fn attachable(st: &State, account: &str, arn: &str) -> bool {
    if let Some(p) = managed::aws_managed(arn) {
        return !p.is_root_task();
    }
    customer_policy(st, arn).is_some_and(|p| p.account_id == account)
}

/// The friendly name of a managed policy ARN.
fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub fn put_inline(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(ctx, kind, &format!("Put{}Policy", kind.word()), Vec::new())?;
    let policy_name = ctx.p.required("PolicyName")?;
    validate::name(policy_name, "policyName", 128)?;
    let document = ctx.p.required("PolicyDocument")?;
    validate::policy(document, PolicyKind::Identity)?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let perms = perms_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        let total: usize = perms
            .inline
            .iter()
            .filter(|(n, _)| n.as_str() != policy_name)
            .map(|(_, d)| validate::packed_len(d))
            .sum::<usize>()
            + validate::packed_len(document);
        if total > kind.inline_quota() {
            return Err(IdentityError::LimitExceeded(format!(
                "Maximum policy size of {} bytes exceeded for {} {}",
                kind.inline_quota(),
                kind.lower(),
                v.name
            )));
        }
        perms
            .inline
            .insert(policy_name.to_string(), document.to_string());
        Ok(())
    })?;
    Ok(None)
}

pub fn get_inline(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(ctx, kind, &format!("Get{}Policy", kind.word()), Vec::new())?;
    let policy_name = ctx.p.required("PolicyName")?;
    let doc = v.perms.inline.get(policy_name).ok_or_else(|| {
        IdentityError::NoSuchEntity(format!(
            "The {} policy with name {policy_name} cannot be found.",
            kind.lower()
        ))
    })?;
    let mut x = Xml::new();
    x.text(kind.param(), &v.name)
        .text("PolicyName", policy_name)
        .text("PolicyDocument", &url_encode(doc));
    Ok(Some(x))
}

pub fn list_inline(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(
        ctx,
        kind,
        &format!("List{}Policies", kind.word()),
        Vec::new(),
    )?;
    let mut x = Xml::new();
    paged(
        ctx,
        &mut x,
        "PolicyNames",
        v.perms.inline.keys(),
        |x, name| {
            x.text("member", name);
        },
    )?;
    Ok(Some(x))
}

pub fn delete_inline(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(
        ctx,
        kind,
        &format!("Delete{}Policy", kind.word()),
        Vec::new(),
    )?;
    let policy_name = ctx.p.required("PolicyName")?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let perms = perms_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        perms.inline.remove(policy_name).map(|_| ()).ok_or_else(|| {
            IdentityError::NoSuchEntity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                kind.lower()
            ))
        })
    })?;
    Ok(None)
}

pub fn attach(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let arn = ctx.p.required("PolicyArn")?;
    let v = locate(
        ctx,
        kind,
        &format!("Attach{}Policy", kind.word()),
        vec![ContextEntry::new("iam:PolicyARN", arn)],
    )?;
    let key = entity_key(&ctx.account, &v.name);
    let account = ctx.account.clone();
    ctx.id.store.write(|txn| {
        if !attachable(&txn.state, &account, arn) {
            return Err(IdentityError::NoSuchEntity(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
        let perms = perms_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        if perms.attached.iter().any(|a| a == arn) {
            return Ok(());
        }
        if perms.attached.len() >= 10 {
            return Err(IdentityError::LimitExceeded(format!(
                "Cannot exceed quota for PoliciesPer{}: 10",
                kind.word()
            )));
        }
        perms.attached.push(arn.to_string());
        Ok(())
    })?;
    Ok(None)
}

pub fn detach(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let arn = ctx.p.required("PolicyArn")?;
    let v = locate(
        ctx,
        kind,
        &format!("Detach{}Policy", kind.word()),
        vec![ContextEntry::new("iam:PolicyARN", arn)],
    )?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let perms = perms_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        let before = perms.attached.len();
        perms.attached.retain(|a| a != arn);
        if perms.attached.len() == before {
            return Err(IdentityError::NoSuchEntity(format!(
                "Policy {arn} was not found."
            )));
        }
        Ok(())
    })?;
    Ok(None)
}

pub fn list_attached(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(
        ctx,
        kind,
        &format!("ListAttached{}Policies", kind.word()),
        Vec::new(),
    )?;
    let prefix = super::path_prefix(ctx)?;
    let mut x = Xml::new();
    let attached = v.perms.attached.iter().filter(|arn| {
        arns::parse_iam(arn)
            .map(|(_, _, path, _)| path.starts_with(prefix))
            .unwrap_or(true)
    });
    paged(ctx, &mut x, "AttachedPolicies", attached, |x, arn| {
        x.open("member")
            .text("PolicyName", policy_name(arn))
            .text("PolicyArn", arn)
            .close("member");
    })?;
    Ok(Some(x))
}

pub fn put_boundary(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let arn = ctx.p.required("PermissionsBoundary")?;
    let v = locate(
        ctx,
        kind,
        &format!("Put{}PermissionsBoundary", kind.word()),
        vec![ContextEntry::new("iam:PermissionsBoundary", arn)],
    )?;
    let key = entity_key(&ctx.account, &v.name);
    let account = ctx.account.clone();
    ctx.id.store.write(|txn| {
        if !attachable(&txn.state, &account, arn) {
            return Err(IdentityError::NoSuchEntity(format!(
                "Scope ARN: {arn} does not exist or is not attachable."
            )));
        }
        let slot = boundary_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        *slot = Some(arn.to_string());
        Ok(())
    })?;
    Ok(None)
}

pub fn delete_boundary(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(
        ctx,
        kind,
        &format!("Delete{}PermissionsBoundary", kind.word()),
        Vec::new(),
    )?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let slot = boundary_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        *slot = None;
        Ok(())
    })?;
    Ok(None)
}

pub fn tag(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let tags = ctx.p.tags("Tags")?;
    let v = locate(
        ctx,
        kind,
        &format!("Tag{}", kind.word()),
        request_tag_context(&tags),
    )?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let current = tags_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        let mut merged = current.clone();
        for t in &tags {
            match merged
                .iter_mut()
                .find(|m| m.key.eq_ignore_ascii_case(&t.key))
            {
                Some(m) => m.value = t.value.clone(),
                None => merged.push(t.clone()),
            }
        }
        if merged.len() > 50 {
            return Err(IdentityError::LimitExceeded(
                "The number of tags has reached the maximum limit.".into(),
            ));
        }
        *current = merged;
        Ok(())
    })?;
    Ok(None)
}

pub fn untag(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let keys = ctx.p.members("TagKeys");
    let v = locate(
        ctx,
        kind,
        &format!("Untag{}", kind.word()),
        if keys.is_empty() {
            Vec::new()
        } else {
            vec![ContextEntry::multi("aws:TagKeys", keys.clone())]
        },
    )?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let current = tags_mut(txn, kind, &key).ok_or_else(|| kind.not_found(&v.name))?;
        current.retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
        Ok(())
    })?;
    Ok(None)
}

pub fn list_tags(ctx: &Ctx<'_>, kind: Kind) -> OpResult {
    let v = locate(ctx, kind, &format!("List{}Tags", kind.word()), Vec::new())?;
    let mut x = Xml::new();
    x.tags("Tags", &v.tags, false);
    not_truncated(&mut x);
    Ok(Some(x))
}
