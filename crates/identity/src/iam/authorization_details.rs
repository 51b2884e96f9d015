//! GetAccountAuthorizationDetails: every user, group, role and managed
//! policy of the account with their relationships, in one paginated answer.
//!
//! API reference: <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html>.
//! `Filter` takes `User`, `Role`, `Group`, `LocalManagedPolicy`,
//! `AWSManagedPolicy`; without it every type is listed. AWS managed policies
//! are listed when an entity of the account attaches them or uses them as a
//! boundary. `MaxItems` counts entities of all types together; policy
//! documents are URL-encoded (RFC 3986) as in the rest of IAM.

use super::{attachment_counts, boundary_xml, role_head_xml, Ctx, OpResult};
use crate::arns;
use crate::error::{constraint, Result};
use crate::managed::{self, AwsManagedPolicy};
use crate::model::{Group, ManagedPolicy, Perms, Role, User};
use crate::query::{url_encode, Xml};
use crate::resolve::customer_policy;
use crate::store::State;

const ENTITY_TYPES: [&str; 5] = [
    "User",
    "Role",
    "Group",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// One listed entity.
enum Item<'a> {
    User(&'a User),
    Group(&'a Group),
    Role(&'a Role),
    Local(&'a ManagedPolicy),
    Aws(&'static AwsManagedPolicy),
}

/// The `Filter.member.N` values, validated; all types when none is given.
fn filter(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    let values = ctx.p.members("Filter");
    for v in &values {
        if !ENTITY_TYPES.contains(&v.as_str()) {
            return Err(constraint(
                v,
                "filter.member",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    ENTITY_TYPES.join(", ")
                ),
            ));
        }
    }
    if values.is_empty() {
        return Ok(ENTITY_TYPES.iter().map(|s| s.to_string()).collect());
    }
    Ok(values)
}

/// Every perms block of the account (users, groups, roles) with the entity's boundary.
fn items<'a>(st: &'a State, account: &str, types: &[String]) -> Vec<Item<'a>> {
    let wants = |t: &str| types.iter().any(|x| x == t);
    let mut out: Vec<Item<'a>> = Vec::new();
    if wants("User") {
        out.extend(
            st.users
                .values()
                .filter(|u| u.account_id == account)
                .map(Item::User),
        );
    }
    if wants("Group") {
        out.extend(
            st.groups
                .values()
                .filter(|g| g.account_id == account)
                .map(Item::Group),
        );
    }
    if wants("Role") {
        out.extend(
            st.roles
                .values()
                .filter(|r| r.account_id == account)
                .map(Item::Role),
        );
    }
    if wants("LocalManagedPolicy") {
        out.extend(
            st.policies
                .values()
                .filter(|p| p.account_id == account)
                .map(Item::Local),
        );
    }
    if wants("AWSManagedPolicy") {
        out.extend(
            managed::AWS_MANAGED
                .iter()
                .filter(|p| attachment_counts(st, account, &p.arn()) != (0, 0))
                .map(Item::Aws),
        );
    }
    out
}

/// The friendly name of a managed policy ARN.
fn managed_name(st: &State, arn: &str) -> String {
    managed::aws_managed(arn)
        .map(|p| p.name.to_string())
        .or_else(|| customer_policy(st, arn).map(|p| p.name.clone()))
        .unwrap_or_else(|| arn.rsplit('/').next().unwrap_or(arn).to_string())
}

/// `XPolicyList` (inline) and `AttachedManagedPolicies`.
fn perms_xml(x: &mut Xml, st: &State, inline_tag: &str, perms: &Perms) {
    x.open(inline_tag);
    for (name, doc) in &perms.inline {
        x.open("member")
            .text("PolicyName", name)
            .text("PolicyDocument", &url_encode(doc))
            .close("member");
    }
    x.close(inline_tag);
    x.open("AttachedManagedPolicies");
    for arn in &perms.attached {
        x.open("member")
            .text("PolicyName", &managed_name(st, arn))
            .text("PolicyArn", arn)
            .close("member");
    }
    x.close("AttachedManagedPolicies");
}

fn user_xml(x: &mut Xml, st: &State, u: &User) {
    x.open("member")
        .text("Path", &u.path)
        .text("UserName", &u.name)
        .text("UserId", &u.id)
        .text("Arn", &arns::user(&u.account_id, &u.path, &u.name))
        .time("CreateDate", u.created);
    perms_xml(x, st, "UserPolicyList", &u.perms);
    x.open("GroupList");
    let key = u.name.to_ascii_lowercase();
    for g in st.groups.values() {
        if g.account_id == u.account_id && g.members.contains(&key) {
            x.text("member", &g.name);
        }
    }
    x.close("GroupList");
    boundary_xml(x, u.boundary.as_ref());
    x.tags("Tags", &u.tags, false);
    x.close("member");
}

fn group_xml(x: &mut Xml, st: &State, g: &Group) {
    x.open("member")
        .text("Path", &g.path)
        .text("GroupName", &g.name)
        .text("GroupId", &g.id)
        .text("Arn", &arns::group(&g.account_id, &g.path, &g.name))
        .time("CreateDate", g.created);
    perms_xml(x, st, "GroupPolicyList", &g.perms);
    x.close("member");
}

fn role_xml(x: &mut Xml, st: &State, r: &Role) {
    x.open("member");
    role_head_xml(x, r).raw("<InstanceProfileList/>");
    perms_xml(x, st, "RolePolicyList", &r.perms);
    boundary_xml(x, r.boundary.as_ref());
    x.tags("Tags", &r.tags, false);
    x.raw("<RoleLastUsed/>");
    x.close("member");
}

/// One `PolicyVersionList` member.
fn version_xml(x: &mut Xml, document: &str, id: &str, default: bool, created: jiff::Timestamp) {
    x.open("member")
        .text("Document", &url_encode(document))
        .text("VersionId", id)
        .text("IsDefaultVersion", if default { "true" } else { "false" })
        .time("CreateDate", created)
        .close("member");
}

/// The fields every `ManagedPolicyDetail` has.
struct PolicyHead<'a> {
    name: &'a str,
    id: &'a str,
    arn: &'a str,
    path: &'a str,
    default_version: &'a str,
    description: Option<&'a str>,
    created: jiff::Timestamp,
    updated: jiff::Timestamp,
}

fn policy_head_xml(x: &mut Xml, st: &State, account: &str, h: &PolicyHead<'_>) {
    let (attached, boundaries) = attachment_counts(st, account, h.arn);
    x.open("member")
        .text("PolicyName", h.name)
        .text("PolicyId", h.id)
        .text("Arn", h.arn)
        .text("Path", h.path)
        .text("DefaultVersionId", h.default_version)
        .text("AttachmentCount", &attached.to_string())
        .text("PermissionsBoundaryUsageCount", &boundaries.to_string())
        .text("IsAttachable", "true")
        .opt("Description", h.description)
        .time("CreateDate", h.created)
        .time("UpdateDate", h.updated);
}

fn local_policy_xml(x: &mut Xml, st: &State, account: &str, p: &ManagedPolicy) {
    let head = PolicyHead {
        name: &p.name,
        id: &p.id,
        arn: &p.arn,
        path: &p.path,
        default_version: &p.default_version,
        description: p.description.as_deref(),
        created: p.created,
        updated: p.updated,
    };
    policy_head_xml(x, st, account, &head);
    x.open("PolicyVersionList");
    for v in &p.versions {
        version_xml(x, &v.document, &v.id, v.id == p.default_version, v.created);
    }
    x.close("PolicyVersionList").close("member");
}

fn aws_policy_xml(x: &mut Xml, st: &State, account: &str, p: &AwsManagedPolicy) {
    let arn = p.arn();
    let created = managed::aws_managed_created();
    let head = PolicyHead {
        name: p.name,
        id: p.id,
        arn: &arn,
        path: p.path,
        default_version: p.version,
        description: Some(p.description),
        created,
        updated: created,
    };
    policy_head_xml(x, st, account, &head);
    x.open("PolicyVersionList");
    version_xml(x, p.document, p.version, true, created);
    x.close("PolicyVersionList").close("member");
}

/// GetAccountAuthorizationDetails.
pub fn get_account_authorization_details(ctx: &Ctx<'_>) -> OpResult {
    let types = filter(ctx)?;
    ctx.authorize("iam:GetAccountAuthorizationDetails", "*", &[])?;
    let (start, max) = super::page_window(ctx)?;
    let st = ctx.id.store.snapshot();
    let all = items(&st, &ctx.account, &types);
    let total = all.len();
    let page: Vec<&Item<'_>> = all.iter().skip(start).take(max).collect();
    let mut x = Xml::new();
    let account = ctx.account.as_str();
    x.open("UserDetailList");
    for item in &page {
        if let Item::User(u) = item {
            user_xml(&mut x, &st, u);
        }
    }
    x.close("UserDetailList").open("GroupDetailList");
    for item in &page {
        if let Item::Group(g) = item {
            group_xml(&mut x, &st, g);
        }
    }
    x.close("GroupDetailList").open("RoleDetailList");
    for item in &page {
        if let Item::Role(r) = item {
            role_xml(&mut x, &st, r);
        }
    }
    x.close("RoleDetailList").open("Policies");
    for item in &page {
        match item {
            Item::Local(p) => local_policy_xml(&mut x, &st, account, p),
            Item::Aws(p) => aws_policy_xml(&mut x, &st, account, p),
            _ => {}
        }
    }
    x.close("Policies");
    super::truncation_xml(&mut x, start, max, total);
    Ok(Some(x))
}
