//! STS: GetCallerIdentity, AssumeRole, GetSessionToken, GetFederationToken,
//! AssumeRoot, GetAccessKeyInfo.
//!
//! <https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html>

use std::collections::BTreeMap;

use strongbox_core::{
    AccessCheck, Authorizer, Caller, CallerKind, ContextEntry, Refusal, RequestMeta, ResourcePolicy,
};

use crate::error::{constraint, IdentityError, Result};
use crate::iam::request_tag_context;
use crate::model::Tag;
use crate::model::{Organization, Session, SessionKind};
use crate::query::{envelope, Params, Xml};
use crate::resolve::managed_document;
use crate::store::{entity_key, State};
use crate::validate;
use crate::{arns, ids, managed, query_error_reply, IamReply, Identity, STS_NAMESPACE};
use strongbox_policy::PolicyKind;

/// How long expired sessions are kept (so they answer ExpiredToken) before being purged.
const EXPIRED_RETENTION_SECONDS: i64 = 24 * 3600;

struct Sts<'a> {
    id: &'a Identity,
    caller: &'a Caller,
    meta: &'a RequestMeta,
    authz: &'a dyn Authorizer,
    p: Params<'a>,
}

impl Identity {
    /// Whether the caller signed with GetSessionToken credentials.
    pub(crate) fn is_get_session_token_caller(&self, caller: &Caller) -> bool {
        caller.token_issue_time.is_some()
            && caller
                .access_key_id
                .as_deref()
                .and_then(|k| self.store.session(k))
                .is_some_and(|s| s.from_get_session_token)
    }

    /// Serves one STS request.
    pub fn handle_sts(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        authz: &dyn Authorizer,
        params: &[(String, String)],
    ) -> IamReply {
        let p = Params::new(params);
        let action = p.get("Action").unwrap_or("").to_string();
        let ctx = Sts {
            id: self,
            caller,
            meta,
            authz,
            p,
        };
        let result = if caller.is_anonymous() {
            Err(IdentityError::AccessDenied(
                "Request is missing Authentication Token".to_string(),
            ))
        } else if caller.kind == CallerKind::FederatedUser && action != "GetCallerIdentity" {
            // A federated user session can call no STS operation but
            // GetCallerIdentity (GetFederationToken API reference).
            Err(IdentityError::AccessDenied(format!(
                "Cannot call {action} with session credentials"
            )))
        } else if !matches!(
            action.as_str(),
            "AssumeRole" | "GetCallerIdentity" | "GetSessionToken"
        ) && self.is_get_session_token_caller(caller)
        {
            // <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html>
            Err(IdentityError::AccessDenied(format!(
                "Cannot call {action} with session credentials"
            )))
        } else {
            match action.as_str() {
                "GetCallerIdentity" => get_caller_identity(&ctx),
                "AssumeRole" => assume_role(&ctx),
                "GetSessionToken" => get_session_token(&ctx),
                "GetFederationToken" => get_federation_token(&ctx),
                "AssumeRoot" => assume_root(&ctx),
                "GetAccessKeyInfo" => get_access_key_info(&ctx),
                "" => Err(IdentityError::MissingParameter(
                    "The request must contain the parameter Action".into(),
                )),
                other => Err(IdentityError::InvalidAction(format!(
                    "Could not find operation {other} for version 2011-06-15"
                ))),
            }
        };
        match result {
            Ok(x) => IamReply {
                status: 200,
                content_type: "text/xml",
                body: envelope(&action, STS_NAMESPACE, &meta.request_id, Some(x)),
            },
            Err(e) => query_error_reply(STS_NAMESPACE, &e, &meta.request_id),
        }
    }
}

impl Sts<'_> {
    /// Authorizes `action` on `resource` by the caller's own policies alone
    /// (no resource-based policy takes part).
    fn authorize(
        &self,
        action: &str,
        resource: &str,
        resource_account: Option<&str>,
        context: &[ContextEntry],
    ) -> Result<()> {
        let check = AccessCheck::identity_only(action, resource, resource_account, context);
        self.authz
            .check(self.caller, self.meta, &check)
            .map_err(|d| IdentityError::AccessDenied(d.message))
    }

    /// A refusal outside policy evaluation: recorded for `strongbox explain` (with
    /// `rule` and `fix`), answered as AccessDenied with `message`.
    fn refuse(
        &self,
        action: &str,
        resource: &str,
        rule: &str,
        message: String,
        fix: &str,
    ) -> IdentityError {
        let refusal = Refusal {
            action,
            resource,
            rule,
            message: &message,
            fix,
        };
        self.authz.record_refusal(self.caller, self.meta, &refusal);
        IdentityError::AccessDenied(message)
    }
}

fn get_caller_identity(ctx: &Sts<'_>) -> Result<Xml> {
    let mut x = Xml::new();
    x.text("UserId", &ctx.caller.user_id)
        .text("Account", &ctx.caller.account_id)
        .text("Arn", &ctx.caller.arn);
    Ok(x)
}

/// New temporary credentials: stores the session (purging long-expired ones).
fn issue(id: &Identity, session: Session) -> Result<()> {
    let cutoff = jiff::Timestamp::now().as_second() - EXPIRED_RETENTION_SECONDS;
    let purge_before = jiff::Timestamp::from_second(cutoff).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    id.store.insert_session(session, purge_before)
}

fn new_session(account: &str, kind: SessionKind, seconds: i64) -> Session {
    let issued = jiff::Timestamp::now();
    let expires = jiff::Timestamp::from_second(issued.as_second() + seconds).unwrap_or(issued);
    Session {
        access_key_id: strongbox_core::ids::aws_id("ASIA"),
        secret: strongbox_core::ids::secret_access_key(),
        token: ids::session_token(),
        account_id: account.to_string(),
        kind,
        issued,
        expires,
        session_policies: None,
        tags: BTreeMap::new(),
        from_get_session_token: false,
        transitive: Vec::new(),
        source_identity: None,
    }
}

fn credentials_xml(x: &mut Xml, s: &Session) {
    x.open("Credentials")
        .text("AccessKeyId", &s.access_key_id)
        .text("SecretAccessKey", &s.secret)
        .text("SessionToken", &s.token)
        .time("Expiration", s.expires)
        .close("Credentials");
}

/// A session or federated-user name: `param` of the request, `field` as
/// error messages name it, 2 to `max` characters of `[\w+=,.@-]`.
fn session_name(p: &Params<'_>, param: &str, field: &str, max: usize) -> Result<String> {
    let name = p.required(param)?;
    let len = name.chars().count();
    if !(2..=max).contains(&len) {
        return Err(constraint(
            name,
            field,
            &format!("Member must have length between 2 and {max}"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(constraint(
            name,
            field,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok(name.to_string())
}

/// The `Policy` and `PolicyArns` parameters of AssumeRole and GetFederationToken.
struct SessionPolicyParams<'a> {
    inline: Option<&'a str>,
    arns: Vec<String>,
}

impl<'a> SessionPolicyParams<'a> {
    /// Reads and validates the parameters (the inline policy through the engine).
    fn read(p: &Params<'a>) -> Result<SessionPolicyParams<'a>> {
        let inline = p.get("Policy");
        if let Some(doc) = inline {
            if doc.chars().count() > 2048 {
                return Err(constraint(
                    "…",
                    "policy",
                    "Member must have length less than or equal to 2048",
                ));
            }
            validate::policy(doc, PolicyKind::Session)?;
        }
        let arns: Vec<String> = p
            .member_structs("PolicyArns")
            .iter()
            .filter_map(|m| m.get("arn").cloned())
            .collect();
        if arns.len() > 10 {
            return Err(constraint(
                "[…]",
                "policyArns",
                "Member must have length less than or equal to 10",
            ));
        }
        Ok(SessionPolicyParams { inline, arns })
    }

    fn is_empty(&self) -> bool {
        self.inline.is_none() && self.arns.is_empty()
    }

    /// The session policies as (name, document): managed ARNs must be AWS
    /// managed (not root-task) or belong to `account`.
    fn documents(&self, st: &State, account: &str) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        if let Some(doc) = self.inline {
            out.push(("session policy".to_string(), doc.to_string()));
        }
        for arn in &self.arns {
            let doc = managed_document(st, arn)
                .filter(|_| {
                    managed::aws_managed(arn).is_some_and(|p| !p.is_root_task())
                        || arn.contains(&format!(":{account}:"))
                })
                .ok_or_else(|| {
                    IdentityError::MalformedPolicyDocument(format!(
                        "Policy {arn} does not exist or is not attachable."
                    ))
                })?;
            out.push((arn.clone(), doc));
        }
        Ok(out)
    }

    /// `PackedPolicySize`: the share (percent) of the packed limit the
    /// policies and `tags` use; over 100 is `PackedPolicyTooLarge`.
    fn packed_size(&self, tags: &[Tag]) -> Result<usize> {
        let packed = (self.inline.map(validate::packed_len).unwrap_or(0)
            + self.arns.iter().map(|a| a.len()).sum::<usize>()
            + tags
                .iter()
                .map(|t| t.key.len() + t.value.len())
                .sum::<usize>())
            * 100
            / 2048;
        if packed > 100 {
            return Err(IdentityError::PackedPolicyTooLarge(format!(
                "Packed size of the session policies and session tags combined exceeds the allowed limit: {packed}% of the allowed size"
            )));
        }
        Ok(packed)
    }
}

fn assume_role(ctx: &Sts<'_>) -> Result<Xml> {
    let role_arn = ctx.p.required("RoleArn")?;
    let session = session_name(&ctx.p, "RoleSessionName", "roleSessionName", 64)?;
    let duration = ctx.p.int("DurationSeconds", 900, 43200)?.unwrap_or(3600);
    let external_id = ctx.p.get("ExternalId");
    if let Some(e) = external_id {
        if !(2..=1224).contains(&e.chars().count()) {
            return Err(constraint(
                e,
                "externalId",
                "Member must have length between 2 and 1224",
            ));
        }
    }
    let source_identity = ctx.p.get("SourceIdentity");
    let session_params = SessionPolicyParams::read(&ctx.p)?;
    let tags = ctx.p.tags("Tags")?;
    let transitive = ctx.p.members("TransitiveTagKeys");
    if let Some(k) = transitive
        .iter()
        .find(|k| !tags.iter().any(|t| t.key.eq_ignore_ascii_case(k)))
    {
        return Err(IdentityError::InvalidInput(format!(
            "The transitive tag key {k} is not one of the session tags."
        )));
    }
    if ctx.caller.kind == CallerKind::Root {
        return Err(ctx.refuse(
            "sts:AssumeRole",
            role_arn,
            "assume_role_by_root",
            "Roles may not be assumed by root accounts.".into(),
            "Call AssumeRole with the credentials of an IAM user or role allowed sts:AssumeRole on the role (aws iam create-user, then aws iam put-user-policy with an sts:AssumeRole statement and aws iam create-access-key); root user credentials can never assume a role.",
        ));
    }

    let st = ctx.id.store.snapshot();
    let parsed = arns::parse_iam(role_arn).filter(|(_, kind, _, _)| *kind == "role");
    let role = parsed.as_ref().and_then(|(account, _, path, name)| {
        st.roles
            .get(&entity_key(account, name))
            .filter(|r| &r.path == path && r.name == *name)
    });
    let role_account = parsed.as_ref().map(|(a, _, _, _)| a.to_string());
    if parsed.is_none() {
        return Err(if role_arn.len() < 20 {
            constraint(
                role_arn,
                "roleArn",
                "Member must have length greater than or equal to 20",
            )
        } else {
            IdentityError::ValidationError(format!("{role_arn} is invalid"))
        });
    }

    let mut context = vec![ContextEntry::new("sts:RoleSessionName", session.clone())];
    if let Some(e) = external_id {
        context.push(ContextEntry::new("sts:ExternalId", e));
    }
    if let Some(s) = source_identity {
        context.push(ContextEntry::new("sts:SourceIdentity", s));
    }
    if !transitive.is_empty() {
        context.push(ContextEntry::multi(
            "sts:TransitiveTagKeys",
            transitive.clone(),
        ));
    }
    context.extend(request_tag_context(&tags));
    let trust = role.map(|r| r.trust_policy.clone());
    let policies: Vec<ResourcePolicy<'_>> = trust
        .as_deref()
        .map(|document| {
            vec![ResourcePolicy {
                label: "trust policy",
                document,
            }]
        })
        .unwrap_or_default();
    let mut actions = vec!["sts:AssumeRole"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        let check = AccessCheck {
            action,
            resource: role_arn,
            resource_account: role_account.as_deref(),
            resource_policies: &policies,
            resource_policy_required: true,
            context: &context,
        };
        ctx.authz
            .check(ctx.caller, ctx.meta, &check)
            .map_err(|d| IdentityError::AccessDenied(d.message))?;
    }
    let role = role.ok_or_else(|| {
        IdentityError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            ctx.caller.arn
        ))
    })?;
    if ctx.caller.kind == CallerKind::AssumedRole && duration > 3600 {
        return Err(IdentityError::ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
        ));
    }
    if duration > i64::from(role.max_session_duration) {
        return Err(IdentityError::ValidationError(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }

    let session_policies = session_params.documents(&st, &role.account_id)?;
    let packed = session_params.packed_size(&tags)?;

    let mut s = new_session(
        &role.account_id,
        SessionKind::Role {
            role_arn: arns::role(&role.account_id, &role.path, &role.name),
            role_id: role.id.clone(),
            role_name: role.name.clone(),
            session_name: session.clone(),
        },
        duration,
    );
    if !session_policies.is_empty() {
        s.session_policies = Some(session_policies);
    }
    s.tags = tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    s.transitive = transitive.clone();
    // Role chaining: transitive tags of the calling session carry over and cannot be replaced.
    // <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining>
    if let Some(parent) = ctx
        .caller
        .access_key_id
        .as_deref()
        .and_then(|k| ctx.id.store.session(k))
    {
        for key in &parent.transitive {
            let Some(value) = parent.tags.get(key) else {
                continue;
            };
            if tags.iter().any(|t| t.key.eq_ignore_ascii_case(key)) {
                return Err(IdentityError::InvalidInput(format!(
                    "The session tag {key} conflicts with a transitive tag of the calling session."
                )));
            }
            s.tags.insert(key.clone(), value.clone());
            if !s.transitive.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                s.transitive.push(key.clone());
            }
        }
    }
    s.source_identity = source_identity.map(str::to_string);
    let issued = s.clone();
    issue(ctx.id, s)?;

    let mut x = Xml::new();
    x.opt("SourceIdentity", source_identity);
    x.open("AssumedRoleUser")
        .text(
            "Arn",
            &arns::assumed_role(&role.account_id, &role.name, &session),
        )
        .text("AssumedRoleId", &format!("{}:{session}", role.id))
        .close("AssumedRoleUser");
    credentials_xml(&mut x, &issued);
    if !session_params.is_empty() || !tags.is_empty() {
        x.text("PackedPolicySize", &packed.to_string());
    }
    Ok(x)
}

fn get_session_token(ctx: &Sts<'_>) -> Result<Xml> {
    let requested = ctx.p.int("DurationSeconds", 900, 129_600)?;
    if ctx.caller.kind == CallerKind::AssumedRole || ctx.caller.token_issue_time.is_some() {
        return Err(IdentityError::AccessDenied(
            "Cannot call GetSessionToken with session credentials".into(),
        ));
    }
    let (kind, duration) = match ctx.caller.kind {
        // Root sessions are capped at one hour.
        CallerKind::Root => (SessionKind::Root, requested.unwrap_or(3600).min(3600)),
        _ => (
            SessionKind::User {
                user_name: ctx.caller.user_name.clone().unwrap_or_default(),
                user_id: ctx.caller.user_id.clone(),
            },
            requested.unwrap_or(43_200),
        ),
    };
    let mut s = new_session(&ctx.caller.account_id, kind, duration);
    s.from_get_session_token = true;
    let issued = s.clone();
    issue(ctx.id, s)?;
    let mut x = Xml::new();
    credentials_xml(&mut x, &issued);
    Ok(x)
}

/// GetFederationToken: a federated user session of an IAM user (or the root
/// user), whose permissions are the caller's intersected with the session
/// policies passed; without any, it has none (beyond resource policies that
/// name the federated user).
/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html>
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_getfederationtoken.html>
fn get_federation_token(ctx: &Sts<'_>) -> Result<Xml> {
    let name = session_name(&ctx.p, "Name", "name", 32)?;
    let requested = ctx.p.int("DurationSeconds", 900, 129_600)?;
    let session_params = SessionPolicyParams::read(&ctx.p)?;
    let tags = ctx.p.tags("Tags")?;
    if ctx.caller.token_issue_time.is_some() {
        return Err(IdentityError::AccessDenied(
            "Cannot call GetFederationToken with session credentials".into(),
        ));
    }
    let account = ctx.caller.account_id.clone();
    let (user_name, user_id, duration) = match ctx.caller.kind {
        // Root-federated sessions last at most an hour.
        CallerKind::Root => (None, None, requested.unwrap_or(3600).min(3600)),
        CallerKind::User => (
            ctx.caller.user_name.clone(),
            Some(ctx.caller.user_id.clone()),
            requested.unwrap_or(43_200),
        ),
        _ => {
            return Err(IdentityError::AccessDenied(
                "Cannot call GetFederationToken with session credentials".into(),
            ))
        }
    };
    let federated_arn = arns::federated_user(&account, &name);
    let context = request_tag_context(&tags);
    let mut actions = vec!["sts:GetFederationToken"];
    if !tags.is_empty() {
        actions.push("sts:TagSession");
    }
    for action in actions {
        ctx.authorize(action, &federated_arn, Some(&account), &context)?;
    }
    let st = ctx.id.store.snapshot();
    let session_policies = session_params.documents(&st, &account)?;
    let packed = session_params.packed_size(&tags)?;

    let mut s = new_session(
        &account,
        SessionKind::Federated {
            name: name.clone(),
            user_name,
            user_id,
        },
        duration,
    );
    // Always present, possibly empty: no session policy means no permissions.
    s.session_policies = Some(session_policies);
    s.tags = tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    let issued = s.clone();
    issue(ctx.id, s)?;

    let mut x = Xml::new();
    credentials_xml(&mut x, &issued);
    x.open("FederatedUser")
        .text("FederatedUserId", &format!("{account}:{name}"))
        .text("Arn", &federated_arn)
        .close("FederatedUser");
    if !session_params.is_empty() || !tags.is_empty() {
        x.text("PackedPolicySize", &packed.to_string());
    }
    Ok(x)
}

/// AssumeRoot: a short root session in a member account, scoped by a root-task policy.
/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoot.html>
fn assume_root(ctx: &Sts<'_>) -> Result<Xml> {
    let target = ctx.p.required("TargetPrincipal")?;
    let target = target
        .strip_prefix("arn:aws:iam::")
        .and_then(|t| t.strip_suffix(":root"))
        .unwrap_or(target);
    let task_arn = ctx.p.required("TaskPolicyArn.arn")?;
    let duration = ctx.p.int("DurationSeconds", 0, 900)?.unwrap_or(900);
    if ctx.caller.kind == CallerKind::Root {
        return Err(ctx.refuse(
            "sts:AssumeRoot",
            &arns::root(target),
            "assume_root_by_root",
            "You cannot use root user credentials to call AssumeRoot.".into(),
            "Call AssumeRoot from the management account as an IAM user or role allowed sts:AssumeRoot.",
        ));
    }
    let task = managed::aws_managed(task_arn)
        .filter(|p| p.is_root_task())
        .ok_or_else(|| {
            constraint(
                task_arn,
                "taskPolicyArn",
                "Member must be an AWS managed root-task policy",
            )
        })?;
    let context = vec![ContextEntry::new("sts:TaskPolicyArn", task_arn)];
    let resource = arns::root(target);
    // The permission comes from the management account's identity policies;
    // the member account's root has no resource policy, so no owner is passed.
    ctx.authorize("sts:AssumeRoot", &resource, None, &context)?;

    let st = ctx.id.store.snapshot();
    let org: &Organization = st
        .orgs
        .get("org")
        .filter(|o| o.management_account == ctx.caller.account_id)
        .ok_or_else(|| {
            ctx.refuse(
                "sts:AssumeRoot",
                &resource,
                "assume_root_outside_management_account",
                "The caller is not the management account of an organization.".into(),
                "Call AssumeRoot as an IAM user or role of the organization's management account.",
            )
        })?;
    if !org.service_access.contains_key("iam.amazonaws.com") || !org.root_sessions {
        return Err(ctx.refuse(
            "sts:AssumeRoot",
            &resource,
            "centralized_root_access_disabled",
            "Centralized root access is not enabled: enable trusted access for iam.amazonaws.com and EnableOrganizationsRootSessions first."
                .into(),
            "From the management account: aws organizations enable-aws-service-access --service-principal iam.amazonaws.com, then aws iam enable-organizations-root-sessions.",
        ));
    }
    let member = st
        .accounts
        .get(target)
        .filter(|a| a.parent_id.is_some() && !a.management);
    if member.is_none() {
        return Err(ctx.refuse(
            "sts:AssumeRoot",
            &resource,
            "assume_root_target_not_member",
            format!("The target principal {target} is not a member account of your organization."),
            "Name a member account of your organization as --target-principal (aws organizations list-accounts).",
        ));
    }
    let mut s = new_session(target, SessionKind::Root, duration.max(1));
    s.session_policies = Some(vec![(task.arn(), task.document.to_string())]);
    let issued = s.clone();
    issue(ctx.id, s)?;
    let mut x = Xml::new();
    credentials_xml(&mut x, &issued);
    Ok(x)
}

/// GetAccessKeyInfo: the account an access key (long-term or temporary) belongs to.
/// <https://docs.aws.amazon.com/STS/latest/APIReference/API_GetAccessKeyInfo.html>
fn get_access_key_info(ctx: &Sts<'_>) -> Result<Xml> {
    let key = ctx.p.required("AccessKeyId")?;
    ctx.authorize("sts:GetAccessKeyInfo", "*", None, &[])?;
    let st = ctx.id.store.snapshot();
    let account = st
        .keys
        .get(key)
        .map(|k| k.account_id.clone())
        .or_else(|| ctx.id.store.session(key).map(|s| s.account_id.clone()))
        .ok_or_else(|| {
            constraint(
                key,
                "accessKeyId",
                "Member must be an existing access key id",
            )
        })?;
    let mut x = Xml::new();
    x.text("Account", &account);
    Ok(x)
}
