//! Managed policies and their versions.

use super::{attachment_counts, not_truncated, paged, path_prefix, policy_xml, Ctx, OpResult};
use crate::error::{constraint, IdentityError, Result};
use crate::managed::{self, AwsManagedPolicy};
use crate::model::{ManagedPolicy, PolicyVersion};
use crate::query::{url_encode, Xml};
use crate::resolve::customer_policy;
use crate::store::{entity_key, State};
use crate::validate;
use crate::{arns, ids};
use strongbox_policy::PolicyKind;

/// `PolicySize` quota of managed policies.
const MANAGED_POLICY_QUOTA: usize = 6144;
const MAX_VERSIONS: usize = 5;

fn check_document(doc: &str) -> Result<()> {
    validate::policy(doc, PolicyKind::Identity)?;
    if validate::packed_len(doc) > MANAGED_POLICY_QUOTA {
        return Err(IdentityError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}"
        )));
    }
    Ok(())
}

fn not_found(arn: &str) -> IdentityError {
    IdentityError::NoSuchEntity(format!("Policy {arn} was not found."))
}

fn aws_policy_xml(x: &mut Xml, tag: &str, st: &State, account: &str, p: &AwsManagedPolicy) {
    let arn = p.arn();
    let (attached, boundaries) = attachment_counts(st, account, &arn);
    let created = managed::aws_managed_created();
    x.open(tag)
        .text("PolicyName", p.name)
        .text("PolicyId", p.id)
        .text("Arn", &arn)
        .text("Path", p.path)
        .text("DefaultVersionId", p.version)
        .text("AttachmentCount", &attached.to_string())
        .text("PermissionsBoundaryUsageCount", &boundaries.to_string())
        .text(
            "IsAttachable",
            if p.is_root_task() { "false" } else { "true" },
        )
        .text("Description", p.description)
        .time("CreateDate", created)
        .time("UpdateDate", created)
        .close(tag);
}

/// Authorizes `action` on the policy ARN and returns it.
fn policy_arn<'a>(ctx: &Ctx<'a>, action: &str) -> Result<&'a str> {
    let arn = ctx.p.required("PolicyArn")?;
    if !arn.starts_with("arn:") {
        return Err(IdentityError::InvalidInput(format!(
            "ARN {arn} is not valid."
        )));
    }
    // The policy's own account: a customer policy of another account is
    // cross-account, AWS managed policies belong to no account.
    let owner = arns::parse_iam(arn)
        .map(|(account, _, _, _)| account)
        .filter(|a| *a != "aws");
    ctx.authorize_in(action, arn, owner, &[])?;
    Ok(arn)
}

/// A customer managed policy of the caller's account.
fn own_policy<'s>(ctx: &Ctx<'_>, st: &'s State, arn: &str) -> Result<&'s ManagedPolicy> {
    customer_policy(st, arn)
        .filter(|p| p.account_id == ctx.account)
        .ok_or_else(|| not_found(arn))
}

pub fn create_policy(ctx: &Ctx<'_>) -> OpResult {
    let name = ctx.p.required("PolicyName")?;
    validate::name(name, "policyName", 128)?;
    let path = ctx.p.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    let doc = ctx.p.required("PolicyDocument")?;
    let description = ctx.p.get("Description");
    if let Some(d) = description {
        if d.chars().count() > 1000 {
            return Err(constraint(
                d,
                "description",
                "Member must have length less than or equal to 1000",
            ));
        }
    }
    let tags = ctx.p.tags("Tags")?;
    let arn = arns::policy(&ctx.account, path, name);
    ctx.authorize("iam:CreatePolicy", &arn, &super::request_tag_context(&tags))?;
    check_document(doc)?;
    let now = jiff::Timestamp::now();
    let policy = ManagedPolicy {
        account_id: ctx.account.clone(),
        arn,
        name: name.to_string(),
        path: path.to_string(),
        id: ids::unique_id("ANPA"),
        description: description.map(str::to_string),
        created: now,
        updated: now,
        default_version: "v1".to_string(),
        versions: vec![PolicyVersion {
            id: "v1".to_string(),
            document: doc.to_string(),
            created: now,
        }],
        next_version: 2,
        tags,
    };
    ctx.id.store.write(|txn| {
        if txn
            .get::<ManagedPolicy>(&entity_key(&ctx.account, name))
            .is_some()
        {
            return Err(IdentityError::EntityAlreadyExists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        txn.put(policy.clone());
        Ok(())
    })?;
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    policy_xml(&mut x, "Policy", &st, &policy);
    Ok(Some(x))
}

pub fn get_policy(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:GetPolicy")?;
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    if let Some(p) = managed::aws_managed(arn) {
        aws_policy_xml(&mut x, "Policy", &st, &ctx.account, p);
    } else {
        policy_xml(&mut x, "Policy", &st, own_policy(ctx, &st, arn)?);
    }
    Ok(Some(x))
}

pub fn list_policies(ctx: &Ctx<'_>) -> OpResult {
    let prefix = path_prefix(ctx)?;
    let scope = ctx.p.get("Scope").unwrap_or("All");
    if !["All", "AWS", "Local"].contains(&scope) {
        return Err(constraint(
            scope,
            "scope",
            "Member must satisfy enum value set: [All, AWS, Local]",
        ));
    }
    let only_attached = ctx.p.bool("OnlyAttached").unwrap_or(false);
    ctx.authorize(
        "iam:ListPolicies",
        &format!("arn:aws:iam::{}:policy{prefix}", ctx.account),
        &[],
    )?;
    let st = ctx.id.store.snapshot();
    /// An AWS managed or a customer managed policy, in listing order.
    enum Listed<'a> {
        Aws(&'a AwsManagedPolicy),
        Customer(&'a ManagedPolicy),
    }
    let mut listed: Vec<Listed<'_>> = Vec::new();
    if scope != "Local" {
        listed.extend(
            managed::AWS_MANAGED
                .iter()
                .filter(|p| p.path.starts_with(prefix))
                .filter(|p| !only_attached || attachment_counts(&st, &ctx.account, &p.arn()).0 > 0)
                .map(Listed::Aws),
        );
    }
    if scope != "AWS" {
        listed.extend(
            st.policies
                .values()
                .filter(|p| p.account_id == ctx.account && p.path.starts_with(prefix))
                .filter(|p| !only_attached || attachment_counts(&st, &ctx.account, &p.arn).0 > 0)
                .map(Listed::Customer),
        );
    }
    let mut x = Xml::new();
    paged(ctx, &mut x, "Policies", listed, |x, item| match item {
        Listed::Aws(p) => aws_policy_xml(x, "member", &st, &ctx.account, p),
        Listed::Customer(p) => policy_xml(x, "member", &st, p),
    })?;
    Ok(Some(x))
}

pub fn delete_policy(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:DeletePolicy")?;
    ctx.id.store.write(|txn| {
        let p = own_policy(ctx, &txn.state, arn)?;
        let (attached, boundaries) = attachment_counts(&txn.state, &ctx.account, arn);
        if attached > 0 || boundaries > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
        }
        if p.versions.len() > 1 {
            return Err(IdentityError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy."
                    .into(),
            ));
        }
        let key = entity_key(&p.account_id, &p.name);
        txn.remove::<ManagedPolicy>(&key);
        Ok(())
    })?;
    Ok(None)
}

fn version_xml(x: &mut Xml, tag: &str, v: &PolicyVersion, default: bool, with_document: bool) {
    x.open(tag);
    if with_document {
        x.text("Document", &url_encode(&v.document));
    }
    x.text("VersionId", &v.id)
        .text("IsDefaultVersion", if default { "true" } else { "false" })
        .time("CreateDate", v.created)
        .close(tag);
}

pub fn create_policy_version(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:CreatePolicyVersion")?;
    let doc = ctx.p.required("PolicyDocument")?;
    check_document(doc)?;
    let set_default = ctx.p.bool("SetAsDefault").unwrap_or(false);
    let version = ctx.id.store.write(|txn| {
        let key = {
            let p = own_policy(ctx, &txn.state, arn)?;
            entity_key(&p.account_id, &p.name)
        };
        let p = txn.get_mut::<ManagedPolicy>(&key).ok_or_else(|| not_found(arn))?;
        if p.versions.len() >= MAX_VERSIONS {
            return Err(IdentityError::LimitExceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
                    .into(),
            ));
        }
        let now = jiff::Timestamp::now();
        let v = PolicyVersion { id: format!("v{}", p.next_version), document: doc.to_string(), created: now };
        p.next_version += 1;
        p.versions.push(v.clone());
        if set_default {
            p.default_version = v.id.clone();
        }
        p.updated = now;
        Ok(v)
    })?;
    let mut x = Xml::new();
    version_xml(&mut x, "PolicyVersion", &version, set_default, false);
    Ok(Some(x))
}

pub fn get_policy_version(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:GetPolicyVersion")?;
    let version_id = ctx.p.required("VersionId")?;
    let missing = || {
        IdentityError::NoSuchEntity(format!(
            "Policy {arn} version {version_id} does not exist or is not attachable."
        ))
    };
    let mut x = Xml::new();
    if let Some(p) = managed::aws_managed(arn) {
        if version_id != p.version {
            return Err(missing());
        }
        let v = PolicyVersion {
            id: p.version.to_string(),
            document: p.document.to_string(),
            created: managed::aws_managed_created(),
        };
        version_xml(&mut x, "PolicyVersion", &v, true, true);
        return Ok(Some(x));
    }
    let st = ctx.id.store.snapshot();
    let p = own_policy(ctx, &st, arn)?;
    let v = p
        .versions
        .iter()
        .find(|v| v.id == version_id)
        .ok_or_else(missing)?;
    version_xml(&mut x, "PolicyVersion", v, v.id == p.default_version, true);
    Ok(Some(x))
}

pub fn list_policy_versions(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:ListPolicyVersions")?;
    let mut x = Xml::new();
    x.open("Versions");
    if let Some(p) = managed::aws_managed(arn) {
        let v = PolicyVersion {
            id: p.version.to_string(),
            document: String::new(),
            created: managed::aws_managed_created(),
        };
        version_xml(&mut x, "member", &v, true, false);
    } else {
        let st = ctx.id.store.snapshot();
        let p = own_policy(ctx, &st, arn)?;
        for v in p.versions.iter().rev() {
            version_xml(&mut x, "member", v, v.id == p.default_version, false);
        }
    }
    x.close("Versions");
    not_truncated(&mut x);
    Ok(Some(x))
}

pub fn delete_policy_version(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:DeletePolicyVersion")?;
    let version_id = ctx.p.required("VersionId")?;
    ctx.id.store.write(|txn| {
        let key = {
            let p = own_policy(ctx, &txn.state, arn)?;
            entity_key(&p.account_id, &p.name)
        };
        let p = txn
            .get_mut::<ManagedPolicy>(&key)
            .ok_or_else(|| not_found(arn))?;
        if p.default_version == version_id {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete the default version of a policy.".into(),
            ));
        }
        let before = p.versions.len();
        p.versions.retain(|v| v.id != version_id);
        if p.versions.len() == before {
            return Err(IdentityError::NoSuchEntity(format!(
                "Policy {arn} version {version_id} does not exist or is not attachable."
            )));
        }
        Ok(())
    })?;
    Ok(None)
}

pub fn set_default_policy_version(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:SetDefaultPolicyVersion")?;
    let version_id = ctx.p.required("VersionId")?;
    ctx.id.store.write(|txn| {
        let key = {
            let p = own_policy(ctx, &txn.state, arn)?;
            entity_key(&p.account_id, &p.name)
        };
        let p = txn
            .get_mut::<ManagedPolicy>(&key)
            .ok_or_else(|| not_found(arn))?;
        if !p.versions.iter().any(|v| v.id == version_id) {
            return Err(IdentityError::NoSuchEntity(format!(
                "Policy {arn} version {version_id} does not exist or is not attachable."
            )));
        }
        p.default_version = version_id.to_string();
        p.updated = jiff::Timestamp::now();
        Ok(())
    })?;
    Ok(None)
}

pub fn list_entities_for_policy(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:ListEntitiesForPolicy")?;
    let filter = ctx.p.get("EntityFilter");
    let prefix = path_prefix(ctx)?;
    let st = ctx.id.store.snapshot();
    if managed::aws_managed(arn).is_none() {
        own_policy(ctx, &st, arn)?;
    }
    let want = |kind: &str| filter.is_none_or(|f| f == kind);
    let mut x = Xml::new();
    x.open("PolicyGroups");
    if want("Group") {
        for g in st
            .groups
            .values()
            .filter(|g| g.account_id == ctx.account && g.path.starts_with(prefix))
        {
            if g.perms.attached.iter().any(|a| a == arn) {
                x.open("member")
                    .text("GroupName", &g.name)
                    .text("GroupId", &g.id)
                    .close("member");
            }
        }
    }
    x.close("PolicyGroups").open("PolicyUsers");
    if want("User") {
        for u in st
            .users
            .values()
            .filter(|u| u.account_id == ctx.account && u.path.starts_with(prefix))
        {
            if u.perms.attached.iter().any(|a| a == arn) {
                x.open("member")
                    .text("UserName", &u.name)
                    .text("UserId", &u.id)
                    .close("member");
            }
        }
    }
    x.close("PolicyUsers").open("PolicyRoles");
    if want("Role") {
        for r in st
            .roles
            .values()
            .filter(|r| r.account_id == ctx.account && r.path.starts_with(prefix))
        {
            if r.perms.attached.iter().any(|a| a == arn) {
                x.open("member")
                    .text("RoleName", &r.name)
                    .text("RoleId", &r.id)
                    .close("member");
            }
        }
    }
    x.close("PolicyRoles");
    not_truncated(&mut x);
    Ok(Some(x))
}

/// TagPolicy / UntagPolicy / ListPolicyTags on customer managed policies.
pub fn tag_policy(ctx: &Ctx<'_>) -> OpResult {
    let tags = ctx.p.tags("Tags")?;
    let arn = ctx.p.required("PolicyArn")?;
    ctx.authorize("iam:TagPolicy", arn, &super::request_tag_context(&tags))?;
    ctx.id.store.write(|txn| {
        let key = {
            let p = own_policy(ctx, &txn.state, arn)?;
            entity_key(&p.account_id, &p.name)
        };
        let p = txn
            .get_mut::<ManagedPolicy>(&key)
            .ok_or_else(|| not_found(arn))?;
        for t in tags {
            match p
                .tags
                .iter_mut()
                .find(|m| m.key.eq_ignore_ascii_case(&t.key))
            {
                Some(m) => m.value = t.value,
                None => p.tags.push(t),
            }
        }
        if p.tags.len() > 50 {
            return Err(IdentityError::LimitExceeded(
                "The number of tags has reached the maximum limit.".into(),
            ));
        }
        Ok(())
    })?;
    Ok(None)
}

pub fn untag_policy(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:UntagPolicy")?;
    let keys = ctx.p.members("TagKeys");
    ctx.id.store.write(|txn| {
        let key = {
            let p = own_policy(ctx, &txn.state, arn)?;
            entity_key(&p.account_id, &p.name)
        };
        let p = txn
            .get_mut::<ManagedPolicy>(&key)
            .ok_or_else(|| not_found(arn))?;
        p.tags
            .retain(|t| !keys.iter().any(|k| k.eq_ignore_ascii_case(&t.key)));
        Ok(())
    })?;
    Ok(None)
}

pub fn list_policy_tags(ctx: &Ctx<'_>) -> OpResult {
    let arn = policy_arn(ctx, "iam:ListPolicyTags")?;
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    match managed::aws_managed(arn) {
        Some(_) => x.tags("Tags", &[], false),
        None => x.tags("Tags", &own_policy(ctx, &st, arn)?.tags, false),
    };
    not_truncated(&mut x);
    Ok(Some(x))
}
