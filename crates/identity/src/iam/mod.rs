//! The IAM Query API: dispatch, authorization and shared rendering.
//!
//! API reference: <https://docs.aws.amazon.com/IAM/latest/APIReference/API_Operations.html>.

mod account;
mod authorization_details;
mod entities;
mod groups;
mod keys;
mod org_features;
mod policies;
mod roles;
mod simulate;
mod users;

use strongbox_core::{AccessCheck, Authorizer, Caller, ContextEntry, RequestMeta};

use crate::error::{IdentityError, Result};
use crate::model::{Group, ManagedPolicy, Perms, Role, Tag, User};
use crate::query::{envelope, url_encode, Params, Xml};
use crate::store::State;
use crate::{arns, query_error_reply, IamReply, Identity, IAM_NAMESPACE};

pub use entities::Kind;

/// One IAM request being served.
pub struct Ctx<'a> {
    pub id: &'a Identity,
    pub caller: &'a Caller,
    pub meta: &'a RequestMeta,
    pub authz: &'a dyn Authorizer,
    pub p: Params<'a>,
    /// The account the caller belongs to, whose IAM is being managed.
    pub account: String,
}

impl Ctx<'_> {
    /// `authz.check` for `action` on `resource` in the caller's account.
    pub fn authorize(&self, action: &str, resource: &str, context: &[ContextEntry]) -> Result<()> {
        self.authorize_in(action, resource, Some(&self.account), context)
    }

    /// `authz.check` on a resource owned by `account` (`None`: AWS-owned, e.g. AWS managed policies).
    pub fn authorize_in(
        &self,
        action: &str,
        resource: &str,
        account: Option<&str>,
        context: &[ContextEntry],
    ) -> Result<()> {
        let check = AccessCheck::identity_only(action, resource, account, context);
        self.authz
            .check(self.caller, self.meta, &check)
            .map_err(|d| IdentityError::AccessDenied(d.message))
    }
}

/// `aws:ResourceTag/k` (and `iam:ResourceTag/k`) for an entity's tags.
pub fn resource_tag_context(tags: &[Tag]) -> Vec<ContextEntry> {
    let mut out = Vec::new();
    for t in tags {
        out.push(ContextEntry::new(
            format!("aws:ResourceTag/{}", t.key),
            t.value.clone(),
        ));
        out.push(ContextEntry::new(
            format!("iam:ResourceTag/{}", t.key),
            t.value.clone(),
        ));
    }
    out
}

/// `aws:RequestTag/k` and `aws:TagKeys` for tags in a request.
pub fn request_tag_context(tags: &[Tag]) -> Vec<ContextEntry> {
    let mut out: Vec<ContextEntry> = tags
        .iter()
        .map(|t| ContextEntry::new(format!("aws:RequestTag/{}", t.key), t.value.clone()))
        .collect();
    if !tags.is_empty() {
        out.push(ContextEntry::multi(
            "aws:TagKeys",
            tags.iter().map(|t| t.key.clone()).collect(),
        ));
    }
    out
}

/// Operation result: the content of `<XResult>`, or none.
pub type OpResult = Result<Option<Xml>>;

impl Identity {
    /// Serves one IAM request (`Action=…` form parameters).
    pub fn handle_iam(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        authz: &dyn Authorizer,
        params: &[(String, String)],
    ) -> IamReply {
        let p = Params::new(params);
        let action = p.get("Action").unwrap_or("").to_string();
        let result = if caller.is_anonymous() || caller.account_id.is_empty() {
            Err(IdentityError::AccessDenied(
                "Request is missing Authentication Token".to_string(),
            ))
        } else if caller.kind == strongbox_core::CallerKind::FederatedUser
            || (self.is_get_session_token_caller(caller) && !caller.mfa)
        {
            // IAM refuses GetSessionToken credentials obtained without MFA, with
            // InvalidClientTokenId (see the GetSessionToken API reference), and
            // federated user credentials: "You cannot use these credentials to
            // call any IAM API operations" (GetFederationToken API reference).
            Err(IdentityError::InvalidAccessKeyId(
                "The security token included in the request is invalid".to_string(),
            ))
        } else {
            let ctx = Ctx {
                id: self,
                caller,
                meta,
                authz,
                p,
                account: caller.account_id.clone(),
            };
            dispatch(&ctx, &action)
        };
        match result {
            Ok(body) => IamReply {
                status: 200,
                content_type: "text/xml",
                body: envelope(&action, IAM_NAMESPACE, &meta.request_id, body),
            },
            Err(e) => {
                tracing::debug!(action, code = %e.query_code(), "iam request failed");
                query_error_reply(IAM_NAMESPACE, &e, &meta.request_id)
            }
        }
    }
}

fn dispatch(ctx: &Ctx<'_>, action: &str) -> OpResult {
    match action {
        "CreateUser" => users::create_user(ctx),
        "GetUser" => users::get_user(ctx),
        "ListUsers" => users::list_users(ctx),
        "DeleteUser" => users::delete_user(ctx),
        "UpdateUser" => users::update_user(ctx),
        "TagUser" => entities::tag(ctx, Kind::User),
        "UntagUser" => entities::untag(ctx, Kind::User),
        "ListUserTags" => entities::list_tags(ctx, Kind::User),
        "CreateAccessKey" => keys::create_access_key(ctx),
        "ListAccessKeys" => keys::list_access_keys(ctx),
        "UpdateAccessKey" => keys::update_access_key(ctx),
        "DeleteAccessKey" => keys::delete_access_key(ctx),
        "GetAccessKeyLastUsed" => keys::get_access_key_last_used(ctx),
        "ListAccountAliases" => account::list_account_aliases(ctx),
        "GetAccountSummary" => account::get_account_summary(ctx),
        "ListMFADevices" => account::list_mfa_devices(ctx),
        "TagPolicy" => policies::tag_policy(ctx),
        "UntagPolicy" => policies::untag_policy(ctx),
        "ListPolicyTags" => policies::list_policy_tags(ctx),
        "CreateGroup" => groups::create_group(ctx),
        "GetGroup" => groups::get_group(ctx),
        "ListGroups" => groups::list_groups(ctx),
        "DeleteGroup" => groups::delete_group(ctx),
        "AddUserToGroup" => groups::add_user_to_group(ctx),
        "RemoveUserFromGroup" => groups::remove_user_from_group(ctx),
        "ListGroupsForUser" => groups::list_groups_for_user(ctx),
        "CreateRole" => roles::create_role(ctx),
        "GetRole" => roles::get_role(ctx),
        "ListRoles" => roles::list_roles(ctx),
        "DeleteRole" => roles::delete_role(ctx),
        "UpdateRole" => roles::update_role(ctx),
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(ctx),
        "TagRole" => entities::tag(ctx, Kind::Role),
        "UntagRole" => entities::untag(ctx, Kind::Role),
        "ListRoleTags" => entities::list_tags(ctx, Kind::Role),
        "PutUserPolicy" => entities::put_inline(ctx, Kind::User),
        "GetUserPolicy" => entities::get_inline(ctx, Kind::User),
        "ListUserPolicies" => entities::list_inline(ctx, Kind::User),
        "DeleteUserPolicy" => entities::delete_inline(ctx, Kind::User),
        "PutGroupPolicy" => entities::put_inline(ctx, Kind::Group),
        "GetGroupPolicy" => entities::get_inline(ctx, Kind::Group),
        "ListGroupPolicies" => entities::list_inline(ctx, Kind::Group),
        "DeleteGroupPolicy" => entities::delete_inline(ctx, Kind::Group),
        "PutRolePolicy" => entities::put_inline(ctx, Kind::Role),
        "GetRolePolicy" => entities::get_inline(ctx, Kind::Role),
        "ListRolePolicies" => entities::list_inline(ctx, Kind::Role),
        "DeleteRolePolicy" => entities::delete_inline(ctx, Kind::Role),
        "AttachUserPolicy" => entities::attach(ctx, Kind::User),
        "DetachUserPolicy" => entities::detach(ctx, Kind::User),
        "ListAttachedUserPolicies" => entities::list_attached(ctx, Kind::User),
        "AttachGroupPolicy" => entities::attach(ctx, Kind::Group),
        "DetachGroupPolicy" => entities::detach(ctx, Kind::Group),
        "ListAttachedGroupPolicies" => entities::list_attached(ctx, Kind::Group),
        "AttachRolePolicy" => entities::attach(ctx, Kind::Role),
        "DetachRolePolicy" => entities::detach(ctx, Kind::Role),
        "ListAttachedRolePolicies" => entities::list_attached(ctx, Kind::Role),
        "PutUserPermissionsBoundary" => entities::put_boundary(ctx, Kind::User),
        "DeleteUserPermissionsBoundary" => entities::delete_boundary(ctx, Kind::User),
        "PutRolePermissionsBoundary" => entities::put_boundary(ctx, Kind::Role),
        "DeleteRolePermissionsBoundary" => entities::delete_boundary(ctx, Kind::Role),
        "CreatePolicy" => policies::create_policy(ctx),
        "GetPolicy" => policies::get_policy(ctx),
        "ListPolicies" => policies::list_policies(ctx),
        "DeletePolicy" => policies::delete_policy(ctx),
        "CreatePolicyVersion" => policies::create_policy_version(ctx),
        "GetPolicyVersion" => policies::get_policy_version(ctx),
        "ListPolicyVersions" => policies::list_policy_versions(ctx),
        "DeletePolicyVersion" => policies::delete_policy_version(ctx),
        "SetDefaultPolicyVersion" => policies::set_default_policy_version(ctx),
        "ListEntitiesForPolicy" => policies::list_entities_for_policy(ctx),
        "EnableOrganizationsRootCredentialsManagement" => {
            org_features::set(ctx, org_features::Feature::Credentials, true)
        }
        "EnableOrganizationsRootSessions" => {
            org_features::set(ctx, org_features::Feature::Sessions, true)
        }
        "DisableOrganizationsRootCredentialsManagement" => {
            org_features::set(ctx, org_features::Feature::Credentials, false)
        }
        "DisableOrganizationsRootSessions" => {
            org_features::set(ctx, org_features::Feature::Sessions, false)
        }
        "ListOrganizationsFeatures" => org_features::list(ctx),
        "GetAccountAuthorizationDetails" => {
            authorization_details::get_account_authorization_details(ctx)
        }
        "SimulatePrincipalPolicy" => simulate::simulate_principal_policy(ctx),
        "SimulateCustomPolicy" => simulate::simulate_custom_policy(ctx),
        "GetContextKeysForPrincipalPolicy" => simulate::get_context_keys_for_principal_policy(ctx),
        "GetContextKeysForCustomPolicy" => simulate::get_context_keys_for_custom_policy(ctx),
        "" => Err(IdentityError::MissingParameter(
            "The request must contain the parameter Action".to_string(),
        )),
        other => Err(IdentityError::InvalidAction(format!(
            "Could not find operation {other} for version 2010-05-08"
        ))),
    }
}

/// `<PermissionsBoundary>` when set.
pub(super) fn boundary_xml(x: &mut Xml, boundary: Option<&String>) {
    if let Some(arn) = boundary {
        x.open("PermissionsBoundary")
            .text("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
            .text("PermissionsBoundaryArn", arn)
            .close("PermissionsBoundary");
    }
}

/// The `User` shape (inside an element named `tag`).
pub fn user_xml(x: &mut Xml, tag: &str, u: &User, with_tags: bool) {
    x.open(tag)
        .text("Path", &u.path)
        .text("UserName", &u.name)
        .text("UserId", &u.id)
        .text("Arn", &arns::user(&u.account_id, &u.path, &u.name))
        .time("CreateDate", u.created);
    boundary_xml(x, u.boundary.as_ref());
    if with_tags {
        x.tags("Tags", &u.tags, true);
    }
    x.close(tag);
}

pub fn group_xml(x: &mut Xml, tag: &str, g: &Group) {
    x.open(tag)
        .text("Path", &g.path)
        .text("GroupName", &g.name)
        .text("GroupId", &g.id)
        .text("Arn", &arns::group(&g.account_id, &g.path, &g.name))
        .time("CreateDate", g.created)
        .close(tag);
}

/// The fields the `Role` and `RoleDetail` shapes begin with (inside an open element).
pub(super) fn role_head_xml<'x>(x: &'x mut Xml, r: &Role) -> &'x mut Xml {
    x.text("Path", &r.path)
        .text("RoleName", &r.name)
        .text("RoleId", &r.id)
        .text("Arn", &arns::role(&r.account_id, &r.path, &r.name))
        .time("CreateDate", r.created)
        .text("AssumeRolePolicyDocument", &url_encode(&r.trust_policy))
}

pub fn role_xml(x: &mut Xml, tag: &str, r: &Role, full: bool) {
    x.open(tag);
    role_head_xml(x, r)
        .opt("Description", r.description.as_deref())
        .text("MaxSessionDuration", &r.max_session_duration.to_string());
    boundary_xml(x, r.boundary.as_ref());
    if full {
        x.tags("Tags", &r.tags, true);
        x.raw("<RoleLastUsed/>");
    }
    x.close(tag);
}

/// How many users, groups and roles attach `arn`, and how many use it as a boundary.
/// The permissions and boundary of every user, group and role of `account`.
pub fn account_perms<'a>(
    st: &'a State,
    account: &'a str,
) -> impl Iterator<Item = (&'a Perms, Option<&'a str>)> {
    let users = st
        .users
        .values()
        .filter(move |u| u.account_id == account)
        .map(|u| (&u.perms, u.boundary.as_deref()));
    let groups = st
        .groups
        .values()
        .filter(move |g| g.account_id == account)
        .map(|g| (&g.perms, None));
    let roles = st
        .roles
        .values()
        .filter(move |r| r.account_id == account)
        .map(|r| (&r.perms, r.boundary.as_deref()));
    users.chain(groups).chain(roles)
}

/// How many entities of `account` attach the managed policy `arn`, and use it as a
/// boundary. Only the caller's account counts: an AWS managed policy is shared by
/// every account, and its use elsewhere is none of the caller's business.
pub fn attachment_counts(st: &State, account: &str, arn: &str) -> (usize, usize) {
    account_perms(st, account).fold((0, 0), |(a, b), (perms, boundary)| {
        (
            a + usize::from(perms.attached.iter().any(|x| x == arn)),
            b + usize::from(boundary == Some(arn)),
        )
    })
}

pub fn policy_xml(x: &mut Xml, tag: &str, st: &State, p: &ManagedPolicy) {
    let (attached, boundaries) = attachment_counts(st, &p.account_id, &p.arn);
    x.open(tag)
        .text("PolicyName", &p.name)
        .text("PolicyId", &p.id)
        .text("Arn", &p.arn)
        .text("Path", &p.path)
        .text("DefaultVersionId", &p.default_version)
        .text("AttachmentCount", &attached.to_string())
        .text("PermissionsBoundaryUsageCount", &boundaries.to_string())
        .text("IsAttachable", "true")
        .opt("Description", p.description.as_deref())
        .time("CreateDate", p.created)
        .time("UpdateDate", p.updated)
        .tags("Tags", &p.tags, true)
        .close(tag);
}

/// Writes `<container>` with one page of `items` (`MaxItems`, default 100, and
/// `Marker`, as IAM paginates), then `IsTruncated` and the next `Marker`.
pub fn paged<T>(
    ctx: &Ctx<'_>,
    x: &mut Xml,
    container: &str,
    items: impl IntoIterator<Item = T>,
    mut render: impl FnMut(&mut Xml, T),
) -> Result<()> {
    let (start, max) = page_window(ctx)?;
    let items: Vec<T> = items.into_iter().collect();
    let total = items.len();
    x.open(container);
    for item in items.into_iter().skip(start).take(max) {
        render(x, item);
    }
    x.close(container);
    truncation_xml(x, start, max, total);
    Ok(())
}

/// The page a request asks for: `(first item, MaxItems)` from `Marker` and
/// `MaxItems` (default 100).
pub fn page_window(ctx: &Ctx<'_>) -> Result<(usize, usize)> {
    let max = ctx.p.int("MaxItems", 1, 1000)?.unwrap_or(100) as usize;
    let start = match ctx.p.get("Marker") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| IdentityError::InvalidInput(format!("Invalid Marker: {m}")))?,
        None => 0,
    };
    Ok((start, max))
}

/// `IsTruncated`, and the next `Marker` when items remain after this page.
pub fn truncation_xml(x: &mut Xml, start: usize, max: usize, total: usize) {
    let end = start.saturating_add(max);
    if end < total {
        x.text("IsTruncated", "true")
            .text("Marker", &end.to_string());
    } else {
        not_truncated(x);
    }
}

/// `IsTruncated=false` (a complete result).
pub fn not_truncated(x: &mut Xml) {
    x.text("IsTruncated", "false");
}

/// A `PathPrefix` filter.
pub fn path_prefix<'a>(ctx: &Ctx<'a>) -> Result<&'a str> {
    let prefix = ctx.p.get("PathPrefix").unwrap_or("/");
    if !prefix.starts_with('/') {
        return Err(crate::error::constraint(
            prefix,
            "pathPrefix",
            "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*",
        ));
    }
    Ok(prefix)
}
