//! AWS Organizations (JSON 1.1, `X-Amz-Target: AWSOrganizationsV20161128.<Op>`).
//!
//! API reference: <https://docs.aws.amazon.com/organizations/latest/APIReference/API_Operations.html>.
//! One organization per deployment, owned by the management account. Only
//! service control policies are supported as policy type.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use strongbox_core::{AccessCheck, Authorizer, Caller, RequestMeta};

use crate::error::{IdentityError, Result};
use crate::managed::{
    FULL_AWS_ACCESS_DESCRIPTION, FULL_AWS_ACCESS_DOCUMENT, FULL_AWS_ACCESS_ID, FULL_AWS_ACCESS_NAME,
};
use crate::model::{
    Account, CreateAccountStatus, OrgPolicy, OrgUnit, Organization, Perms, Role, Tag,
};
use crate::store::{State, Txn};
use crate::validate;
use crate::{arns, ids, json_error_reply, Identity, JsonReply};
use strongbox_policy::PolicyKind;

const TARGET_PREFIX: &str = "AWSOrganizationsV20161128.";
const SCP: &str = "SERVICE_CONTROL_POLICY";
/// Maximum size of an SCP document (characters, white space excluded).
const SCP_QUOTA: usize = 5120;

fn err(code: &'static str, message: &str) -> IdentityError {
    IdentityError::orgs(code, message)
}

fn not_in_use() -> IdentityError {
    err(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )
}

fn access_denied() -> IdentityError {
    err(
        "AccessDeniedException",
        "You don't have permissions to access this resource.",
    )
}

fn epoch(ts: jiff::Timestamp) -> Value {
    json!(ts.as_millisecond() as f64 / 1000.0)
}

struct Orgs<'a> {
    id: &'a Identity,
    caller: &'a Caller,
    meta: &'a RequestMeta,
    authz: &'a dyn Authorizer,
    body: Value,
}

impl Orgs<'_> {
    fn authorize(&self, op: &str, resource: &str) -> Result<()> {
        let action = format!("organizations:{op}");
        let check = AccessCheck {
            action: &action,
            resource,
            resource_account: Some(&self.caller.account_id),
            resource_policies: &[],
            resource_policy_required: false,
            context: &[],
        };
        self.authz
            .check(self.caller, self.meta, &check)
            .map_err(|d| err("AccessDeniedException", &d.message))
    }

    fn opt(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str)
    }

    fn req(&self, name: &str) -> Result<&str> {
        self.opt(name).ok_or_else(|| {
            err(
                "InvalidInputException",
                &format!("You must specify a value for the parameter {name}."),
            )
        })
    }

    /// The `Tags` member: `[{"Key": …, "Value": …}]`, at most 50.
    fn tags(&self) -> Result<Vec<Tag>> {
        let invalid = || {
            err(
                "InvalidInputException",
                "You provided a value that does not match the required pattern.",
            )
        };
        let mut tags: Vec<Tag> = Vec::new();
        let Some(list) = self.body.get("Tags") else {
            return Ok(tags);
        };
        for t in list.as_array().ok_or_else(invalid)? {
            let key = t.get("Key").and_then(Value::as_str).ok_or_else(invalid)?;
            let value = t.get("Value").and_then(Value::as_str).unwrap_or("");
            if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
                return Err(invalid());
            }
            tags.retain(|x| x.key != key);
            tags.push(Tag {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        if tags.len() > 50 {
            return Err(err(
                "TooManyTagsException",
                "You have exceeded the allowed number of tags for a resource.",
            ));
        }
        Ok(tags)
    }

    /// The organization, which the caller's management account must own.
    fn managed_org(&self, st: &State) -> Result<Organization> {
        let org = st.orgs.get("org").ok_or_else(not_in_use)?;
        if org.management_account != self.caller.account_id {
            let member = st
                .accounts
                .get(&self.caller.account_id)
                .is_some_and(|a| a.parent_id.is_some());
            return Err(if member {
                access_denied()
            } else {
                not_in_use()
            });
        }
        Ok(org.clone())
    }
}

impl Identity {
    /// Serves one Organizations request (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`).
    pub fn handle_organizations(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        authz: &dyn Authorizer,
        target: &str,
        body: &[u8],
    ) -> JsonReply {
        let op = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
        let parsed: std::result::Result<Value, _> = if body.iter().all(u8::is_ascii_whitespace) {
            Ok(json!({}))
        } else {
            serde_json::from_slice(body)
        };
        let result = match parsed {
            Err(_) => Err(err(
                "SerializationException",
                "Start of structure or map found where not expected.",
            )),
            Ok(_) if caller.is_anonymous() => Err(err(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            )),
            Ok(body) => {
                let ctx = Orgs {
                    id: self,
                    caller,
                    meta,
                    authz,
                    body,
                };
                dispatch(&ctx, op)
            }
        };
        match result {
            Ok(v) => JsonReply {
                status: 200,
                content_type: "application/x-amz-json-1.1",
                body: v.to_string(),
            },
            Err(e) => json_error_reply(&e),
        }
    }
}

fn dispatch(ctx: &Orgs<'_>, op: &str) -> Result<Value> {
    match op {
        "CreateOrganization" => create_organization(ctx),
        "DescribeOrganization" => describe_organization(ctx),
        "DeleteOrganization" => delete_organization(ctx),
        "ListRoots" => list_roots(ctx),
        "CreateOrganizationalUnit" => create_ou(ctx),
        "DescribeOrganizationalUnit" => describe_ou(ctx),
        "DeleteOrganizationalUnit" => delete_ou(ctx),
        "ListOrganizationalUnitsForParent" => list_ous_for_parent(ctx),
        "CreateAccount" => create_account(ctx),
        "DescribeCreateAccountStatus" => describe_create_account_status(ctx),
        "ListCreateAccountStatus" => list_create_account_status(ctx),
        "ListAccounts" => list_accounts(ctx, None),
        "ListAccountsForParent" => list_accounts(ctx, Some("ParentId")),
        "DescribeAccount" => describe_account(ctx),
        "MoveAccount" => move_account(ctx),
        "RemoveAccountFromOrganization" => remove_account(ctx),
        "ListParents" => list_parents(ctx),
        "ListChildren" => list_children(ctx),
        "EnablePolicyType" => set_policy_type(ctx, true),
        "DisablePolicyType" => set_policy_type(ctx, false),
        "CreatePolicy" => create_policy(ctx),
        "UpdatePolicy" => update_policy(ctx),
        "DescribePolicy" => describe_policy(ctx),
        "DeletePolicy" => delete_policy(ctx),
        "ListPolicies" => list_policies(ctx),
        "AttachPolicy" => attach_policy(ctx, true),
        "DetachPolicy" => attach_policy(ctx, false),
        "ListPoliciesForTarget" => list_policies_for_target(ctx),
        "ListTargetsForPolicy" => list_targets_for_policy(ctx),
        "TagResource" => tag_resource(ctx),
        "UntagResource" => untag_resource(ctx),
        "ListTagsForResource" => list_tags_for_resource(ctx),
        "EnableAWSServiceAccess" => service_access(ctx, true),
        "DisableAWSServiceAccess" => service_access(ctx, false),
        "ListAWSServiceAccessForOrganization" => list_service_access(ctx),
        other => Err(err(
            "UnknownOperationException",
            &format!("Unknown operation {other}"),
        )),
    }
}

// ---- rendering -------------------------------------------------------------

fn policy_types(org: &Organization) -> Value {
    let list: Vec<Value> = org
        .enabled_policy_types
        .iter()
        .map(|t| json!({"Type": t, "Status": "ENABLED"}))
        .collect();
    Value::Array(list)
}

fn organization_json(org: &Organization) -> Value {
    json!({
        "Id": org.id,
        "Arn": arns::org(&org.management_account, &org.id),
        "FeatureSet": org.feature_set,
        "MasterAccountArn": arns::org_account(&org.management_account, &org.id, &org.management_account),
        "MasterAccountId": org.management_account,
        "MasterAccountEmail": org.management_email,
        "AvailablePolicyTypes": policy_types(org),
    })
}

fn root_json(org: &Organization) -> Value {
    json!({
        "Id": org.root_id,
        "Arn": arns::org_root(&org.management_account, &org.id, &org.root_id),
        "Name": "Root",
        "PolicyTypes": policy_types(org),
    })
}

fn ou_json(org: &Organization, ou: &OrgUnit) -> Value {
    json!({"Id": ou.id, "Arn": arns::org_ou(&org.management_account, &org.id, &ou.id), "Name": ou.name})
}

fn account_json(org: &Organization, a: &Account) -> Value {
    json!({
        "Id": a.id,
        "Arn": arns::org_account(&org.management_account, &org.id, &a.id),
        "Email": a.email,
        "Name": a.name,
        "Status": "ACTIVE",
        "State": "ACTIVE",
        "JoinedMethod": a.joined_method,
        "JoinedTimestamp": epoch(a.joined),
    })
}

fn policy_summary(org: &Organization, p: &OrgPolicy) -> Value {
    json!({
        "Id": p.id,
        "Arn": arns::org_policy(&org.management_account, &org.id, &p.id, p.aws_managed),
        "Name": p.name,
        "Description": p.description,
        "Type": p.policy_type,
        "AwsManaged": p.aws_managed,
    })
}

fn policy_json(org: &Organization, p: &OrgPolicy) -> Value {
    json!({"Policy": {"PolicySummary": policy_summary(org, p), "Content": p.content}})
}

fn status_json(s: &CreateAccountStatus) -> Value {
    let mut v = json!({
        "Id": s.id,
        "AccountName": s.account_name,
        "State": s.state,
        "RequestedTimestamp": epoch(s.requested),
    });
    if let Some(t) = s.completed {
        v["CompletedTimestamp"] = epoch(t);
    }
    if let Some(a) = &s.account_id {
        v["AccountId"] = json!(a);
    }
    if let Some(r) = &s.failure_reason {
        v["FailureReason"] = json!(r);
    }
    v
}

// ---- targets ---------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Root,
    Unit,
    Account,
}

fn target_kind(st: &State, org: &Organization, id: &str) -> Option<TargetKind> {
    if id == org.root_id {
        Some(TargetKind::Root)
    } else if st.ous.contains_key(id) {
        Some(TargetKind::Unit)
    } else if st.accounts.get(id).is_some_and(|a| a.parent_id.is_some()) {
        Some(TargetKind::Account)
    } else {
        None
    }
}

/// Whether `id` is the root or an OU (a valid parent).
fn is_parent(st: &State, org: &Organization, id: &str) -> bool {
    id == org.root_id || st.ous.contains_key(id)
}

fn parent_arn(org: &Organization, id: &str) -> String {
    if id == org.root_id {
        arns::org_root(&org.management_account, &org.id, id)
    } else {
        arns::org_ou(&org.management_account, &org.id, id)
    }
}

/// With SCPs enabled every root, OU and account has FullAWSAccess by default.
fn attach_default_scp(txn: &mut Txn, target: &str) {
    let enabled = txn
        .get::<Organization>("org")
        .is_some_and(|o| o.enabled_policy_types.contains(SCP));
    if enabled {
        if let Some(p) = txn.get_mut::<OrgPolicy>(FULL_AWS_ACCESS_ID) {
            p.targets.insert(target.to_string());
        }
    }
}

// ---- organization ----------------------------------------------------------

fn create_organization(ctx: &Orgs<'_>) -> Result<Value> {
    ctx.authorize("CreateOrganization", "*")?;
    let feature_set = ctx.opt("FeatureSet").unwrap_or("ALL");
    if !["ALL", "CONSOLIDATED_BILLING"].contains(&feature_set) {
        return Err(err(
            "InvalidInputException",
            "You provided an invalid value for FeatureSet.",
        ));
    }
    let account = ctx.caller.account_id.clone();
    let org = ctx.id.store.write(|txn| {
        if txn.get::<Organization>("org").is_some() {
            return Err(err(
                "AlreadyInOrganizationException",
                "The AWS account is already a member of an organization.",
            ));
        }
        let acct = txn
            .get::<Account>(&account)
            .cloned()
            .ok_or_else(access_denied)?;
        if !acct.management {
            return Err(access_denied());
        }
        let root_id = ids::root_id();
        let org = Organization {
            id: ids::organization_id(),
            management_account: account.clone(),
            management_email: acct.email.clone(),
            feature_set: feature_set.to_string(),
            root_id: root_id.clone(),
            created: jiff::Timestamp::now(),
            enabled_policy_types: BTreeSet::new(),
            service_access: Default::default(),
            root_credentials_management: false,
            root_sessions: false,
            tags: Default::default(),
        };
        txn.put(org.clone());
        txn.put(OrgPolicy {
            id: FULL_AWS_ACCESS_ID.to_string(),
            name: FULL_AWS_ACCESS_NAME.to_string(),
            description: FULL_AWS_ACCESS_DESCRIPTION.to_string(),
            content: FULL_AWS_ACCESS_DOCUMENT.to_string(),
            policy_type: SCP.to_string(),
            aws_managed: true,
            targets: BTreeSet::new(),
        });
        if let Some(a) = txn.get_mut::<Account>(&account) {
            a.parent_id = Some(root_id);
            a.joined = org.created;
        }
        Ok(org)
    })?;
    Ok(json!({"Organization": organization_json(&org)}))
}

fn describe_organization(ctx: &Orgs<'_>) -> Result<Value> {
    ctx.authorize("DescribeOrganization", "*")?;
    let st = ctx.id.store.snapshot();
    let org = st.orgs.get("org").ok_or_else(not_in_use)?;
    let member = org.management_account == ctx.caller.account_id
        || st
            .accounts
            .get(&ctx.caller.account_id)
            .is_some_and(|a| a.parent_id.is_some());
    if !member {
        return Err(not_in_use());
    }
    Ok(json!({"Organization": organization_json(org)}))
}

fn delete_organization(ctx: &Orgs<'_>) -> Result<Value> {
    ctx.authorize("DeleteOrganization", "*")?;
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.id.store.write(|txn| {
        let members = txn.state.accounts.values().any(|a| a.parent_id.is_some() && a.id != org.management_account);
        if members {
            return Err(err(
                "OrganizationNotEmptyException",
                "The organization isn't empty. To delete an organization, you must first remove all member accounts except the management account.",
            ));
        }
        let ous: Vec<String> = txn.state.ous.keys().cloned().collect();
        for ou in ous {
            txn.remove::<OrgUnit>(&ou);
        }
        let policies: Vec<String> = txn.state.org_policies.keys().cloned().collect();
        for p in policies {
            txn.remove::<OrgPolicy>(&p);
        }
        if let Some(a) = txn.get_mut::<Account>(&org.management_account) {
            a.parent_id = None;
        }
        txn.remove::<Organization>("org");
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_roots(ctx: &Orgs<'_>) -> Result<Value> {
    ctx.authorize("ListRoots", "*")?;
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    Ok(json!({"Roots": [root_json(&org)]}))
}

// ---- organizational units --------------------------------------------------

fn create_ou(ctx: &Orgs<'_>) -> Result<Value> {
    let tags = ctx.tags()?;
    let parent = ctx.req("ParentId")?.to_string();
    let name = ctx.req("Name")?.to_string();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(err(
            "InvalidInputException",
            "You provided a value that does not match the required pattern.",
        ));
    }
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize("CreateOrganizationalUnit", &parent_arn(&org, &parent))?;
    let ou = ctx.id.store.write(|txn| {
        if !is_parent(&txn.state, &org, &parent) {
            return Err(err(
                "ParentNotFoundException",
                "We can't find a root or OU with the ParentId that you specified.",
            ));
        }
        if txn
            .state
            .ous
            .values()
            .any(|o| o.parent_id == parent && o.name == name)
        {
            return Err(err(
                "DuplicateOrganizationalUnitException",
                "An OU with the same name already exists.",
            ));
        }
        let ou = OrgUnit {
            id: ids::ou_id(&org.root_id),
            name: name.clone(),
            parent_id: parent.clone(),
        };
        txn.put(ou.clone());
        attach_default_scp(txn, &ou.id);
        set_tags(txn, &ou.id, tags.clone());
        Ok(ou)
    })?;
    Ok(json!({"OrganizationalUnit": ou_json(&org, &ou)}))
}

fn ou_not_found() -> IdentityError {
    err(
        "OrganizationalUnitNotFoundException",
        "We can't find an OU with the OrganizationalUnitId that you specified.",
    )
}

fn describe_ou(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("OrganizationalUnitId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize(
        "DescribeOrganizationalUnit",
        &arns::org_ou(&org.management_account, &org.id, id),
    )?;
    let ou = st.ous.get(id).ok_or_else(ou_not_found)?;
    Ok(json!({"OrganizationalUnit": ou_json(&org, ou)}))
}

fn delete_ou(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("OrganizationalUnitId")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize(
        "DeleteOrganizationalUnit",
        &arns::org_ou(&org.management_account, &org.id, &id),
    )?;
    ctx.id.store.write(|txn| {
        if !txn.state.ous.contains_key(&id) {
            return Err(ou_not_found());
        }
        let busy = txn.state.ous.values().any(|o| o.parent_id == id)
            || txn.state.accounts.values().any(|a| a.parent_id.as_deref() == Some(id.as_str()));
        if busy {
            return Err(err(
                "OrganizationalUnitNotEmptyException",
                "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.",
            ));
        }
        let attached: Vec<String> =
            txn.state.org_policies.values().filter(|p| p.targets.contains(&id)).map(|p| p.id.clone()).collect();
        for p in attached {
            if let Some(p) = txn.get_mut::<OrgPolicy>(&p) {
                p.targets.remove(&id);
            }
        }
        txn.remove::<OrgUnit>(&id);
        set_tags(txn, &id, Vec::new());
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_ous_for_parent(ctx: &Orgs<'_>) -> Result<Value> {
    let parent = ctx.req("ParentId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize(
        "ListOrganizationalUnitsForParent",
        &parent_arn(&org, parent),
    )?;
    if !is_parent(&st, &org, parent) {
        return Err(err(
            "ParentNotFoundException",
            "We can't find a root or OU with the ParentId that you specified.",
        ));
    }
    let list: Vec<Value> = st
        .ous
        .values()
        .filter(|o| o.parent_id == parent)
        .map(|o| ou_json(&org, o))
        .collect();
    Ok(json!({"OrganizationalUnits": list}))
}

// ---- accounts --------------------------------------------------------------

/// The trust policy of `OrganizationAccountAccessRole`: the management account's root.
fn access_role_trust(management: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{management}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn create_account(ctx: &Orgs<'_>) -> Result<Value> {
    let tags = ctx.tags()?;
    let email = ctx.req("Email")?.to_string();
    let name = ctx.req("AccountName")?.to_string();
    let role_name = ctx
        .opt("RoleName")
        .unwrap_or("OrganizationAccountAccessRole")
        .to_string();
    if !(6..=64).contains(&email.len()) || !email.contains('@') {
        return Err(err(
            "InvalidInputException",
            "You provided a value that does not match the required pattern.",
        ));
    }
    if name.is_empty() || name.chars().count() > 50 {
        return Err(err(
            "InvalidInputException",
            "You provided a value that does not match the required pattern.",
        ));
    }
    validate::name(&role_name, "roleName", 64).map_err(|_| {
        err(
            "InvalidInputException",
            "You provided a value that does not match the required pattern.",
        )
    })?;
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize("CreateAccount", "*")?;
    let status = ctx.id.store.write(|txn| {
        let now = jiff::Timestamp::now();
        let mut status = CreateAccountStatus {
            id: ids::create_account_request_id(),
            account_name: name.clone(),
            state: "SUCCEEDED".to_string(),
            requested: now,
            completed: Some(now),
            account_id: None,
            failure_reason: None,
        };
        if txn
            .state
            .accounts
            .values()
            .any(|a| a.email.eq_ignore_ascii_case(&email))
        {
            status.state = "FAILED".to_string();
            status.failure_reason = Some("EMAIL_ALREADY_EXISTS".to_string());
            txn.put(status.clone());
            return Ok(status);
        }
        let mut account_id = strongbox_core::ids::account_id();
        while txn.state.accounts.contains_key(&account_id) {
            account_id = strongbox_core::ids::account_id();
        }
        txn.put(Account {
            id: account_id.clone(),
            name: name.clone(),
            email: email.clone(),
            canonical_id: ids::canonical_user_id(),
            created: now,
            management: false,
            parent_id: Some(org.root_id.clone()),
            joined_method: "CREATED".to_string(),
            joined: now,
        });
        let mut perms = Perms::default();
        perms
            .attached
            .push("arn:aws:iam::aws:policy/AdministratorAccess".to_string());
        txn.put(Role {
            account_id: account_id.clone(),
            name: role_name.clone(),
            path: "/".to_string(),
            id: ids::unique_id("AROA"),
            created: now,
            trust_policy: access_role_trust(&org.management_account),
            description: None,
            max_session_duration: 3600,
            tags: Vec::new(),
            boundary: None,
            perms,
        });
        attach_default_scp(txn, &account_id);
        set_tags(txn, &account_id, tags.clone());
        status.account_id = Some(account_id);
        txn.put(status.clone());
        Ok(status)
    })?;
    tracing::info!(account = ?status.account_id, state = %status.state, "organizations CreateAccount");
    Ok(json!({"CreateAccountStatus": status_json(&status)}))
}

fn describe_create_account_status(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("CreateAccountRequestId")?;
    let st = ctx.id.store.snapshot();
    ctx.managed_org(&st)?;
    ctx.authorize("DescribeCreateAccountStatus", "*")?;
    let s = st.create_status.get(id).ok_or_else(|| {
        err("CreateAccountStatusNotFoundException", "We can't find a create account request with the CreateAccountRequestId that you specified.")
    })?;
    Ok(json!({"CreateAccountStatus": status_json(s)}))
}

fn list_create_account_status(ctx: &Orgs<'_>) -> Result<Value> {
    let st = ctx.id.store.snapshot();
    ctx.managed_org(&st)?;
    ctx.authorize("ListCreateAccountStatus", "*")?;
    let states: Vec<&str> = ctx
        .body
        .get("States")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut list: Vec<&CreateAccountStatus> = st
        .create_status
        .values()
        .filter(|s| states.is_empty() || states.contains(&s.state.as_str()))
        .collect();
    list.sort_by_key(|s| s.requested);
    Ok(json!({"CreateAccountStatuses": list.into_iter().map(status_json).collect::<Vec<_>>()}))
}

fn list_accounts(ctx: &Orgs<'_>, parent_param: Option<&str>) -> Result<Value> {
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    let parent = match parent_param {
        Some(p) => Some(ctx.req(p)?.to_string()),
        None => None,
    };
    match &parent {
        Some(p) => {
            ctx.authorize("ListAccountsForParent", &parent_arn(&org, p))?;
            if !is_parent(&st, &org, p) {
                return Err(err(
                    "ParentNotFoundException",
                    "We can't find a root or OU with the ParentId that you specified.",
                ));
            }
        }
        None => ctx.authorize("ListAccounts", "*")?,
    }
    let list: Vec<Value> = st
        .accounts
        .values()
        .filter(|a| a.parent_id.is_some())
        .filter(|a| parent.is_none() || a.parent_id == parent)
        .map(|a| account_json(&org, a))
        .collect();
    Ok(json!({"Accounts": list}))
}

fn account_not_found() -> IdentityError {
    err(
        "AccountNotFoundException",
        "You specified an account that doesn't exist.",
    )
}

fn describe_account(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("AccountId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize(
        "DescribeAccount",
        &arns::org_account(&org.management_account, &org.id, id),
    )?;
    let a = st
        .accounts
        .get(id)
        .filter(|a| a.parent_id.is_some())
        .ok_or_else(account_not_found)?;
    Ok(json!({"Account": account_json(&org, a)}))
}

/// RemoveAccountFromOrganization: the account leaves (its SCP attachments go).
fn remove_account(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("AccountId")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize(
        "RemoveAccountFromOrganization",
        &arns::org_account(&org.management_account, &org.id, &id),
    )?;
    if id == org.management_account {
        return Err(err(
            "MasterCannotLeaveOrganizationException",
            "You can't remove the management account from an organization. You must delete the organization instead.",
        ));
    }
    ctx.id.store.write(|txn| {
        let account = txn
            .get_mut::<Account>(&id)
            .filter(|a| a.parent_id.is_some())
            .ok_or_else(account_not_found)?;
        account.parent_id = None;
        let attached: Vec<String> = txn
            .state
            .org_policies
            .values()
            .filter(|p| p.targets.contains(&id))
            .map(|p| p.id.clone())
            .collect();
        for p in attached {
            if let Some(p) = txn.get_mut::<OrgPolicy>(&p) {
                p.targets.remove(&id);
            }
        }
        Ok(())
    })?;
    Ok(json!({}))
}

fn move_account(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("AccountId")?.to_string();
    let source = ctx.req("SourceParentId")?.to_string();
    let dest = ctx.req("DestinationParentId")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize(
        "MoveAccount",
        &arns::org_account(&org.management_account, &org.id, &id),
    )?;
    ctx.id.store.write(|txn| {
        if !is_parent(&txn.state, &org, &source) {
            return Err(err("SourceParentNotFoundException", "We can't find a source root or OU with the ParentId that you specified."));
        }
        if !is_parent(&txn.state, &org, &dest) {
            return Err(err(
                "DestinationParentNotFoundException",
                "We can't find the destination container (a root or OU) with the ParentId that you specified.",
            ));
        }
        let account = txn.get_mut::<Account>(&id).filter(|a| a.parent_id.is_some()).ok_or_else(account_not_found)?;
        if account.parent_id.as_deref() != Some(source.as_str()) {
            return Err(account_not_found());
        }
        if source == dest {
            return Err(err("DuplicateAccountException", "That account is already present in the specified destination."));
        }
        account.parent_id = Some(dest.clone());
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_parents(ctx: &Orgs<'_>) -> Result<Value> {
    let child = ctx.req("ChildId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize("ListParents", "*")?;
    let parent = if let Some(ou) = st.ous.get(child) {
        ou.parent_id.clone()
    } else if let Some(p) = st.accounts.get(child).and_then(|a| a.parent_id.clone()) {
        p
    } else {
        return Err(err("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."));
    };
    let kind = if parent == org.root_id {
        "ROOT"
    } else {
        "ORGANIZATIONAL_UNIT"
    };
    Ok(json!({"Parents": [{"Id": parent, "Type": kind}]}))
}

fn list_children(ctx: &Orgs<'_>) -> Result<Value> {
    let parent = ctx.req("ParentId")?;
    let child_type = ctx.req("ChildType")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize("ListChildren", &parent_arn(&org, parent))?;
    if !is_parent(&st, &org, parent) {
        return Err(err(
            "ParentNotFoundException",
            "We can't find a root or OU with the ParentId that you specified.",
        ));
    }
    let children: Vec<Value> = match child_type {
        "ACCOUNT" => st
            .accounts
            .values()
            .filter(|a| a.parent_id.as_deref() == Some(parent))
            .map(|a| json!({"Id": a.id, "Type": "ACCOUNT"}))
            .collect(),
        "ORGANIZATIONAL_UNIT" => st
            .ous
            .values()
            .filter(|o| o.parent_id == parent)
            .map(|o| json!({"Id": o.id, "Type": "ORGANIZATIONAL_UNIT"}))
            .collect(),
        _ => {
            return Err(err(
                "InvalidInputException",
                "You provided an invalid value for ChildType.",
            ))
        }
    };
    Ok(json!({"Children": children}))
}

// ---- policies --------------------------------------------------------------

fn set_policy_type(ctx: &Orgs<'_>, enable: bool) -> Result<Value> {
    let root = ctx.req("RootId")?.to_string();
    let kind = ctx.req("PolicyType")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    let op = if enable {
        "EnablePolicyType"
    } else {
        "DisablePolicyType"
    };
    ctx.authorize(op, &arns::org_root(&org.management_account, &org.id, &root))?;
    if root != org.root_id {
        return Err(err(
            "RootNotFoundException",
            "We can't find a root with the RootId that you specified.",
        ));
    }
    if kind != SCP {
        return Err(err(
            "PolicyTypeNotAvailableForOrganizationException",
            "You can't use the specified policy type with the feature set currently enabled for this organization.",
        ));
    }
    let org = ctx.id.store.write(|txn| {
        let enabled = txn
            .get::<Organization>("org")
            .is_some_and(|o| o.enabled_policy_types.contains(SCP));
        if enable && enabled {
            return Err(err(
                "PolicyTypeAlreadyEnabledException",
                "The specified policy type is already enabled.",
            ));
        }
        if !enable && !enabled {
            return Err(err(
                "PolicyTypeNotEnabledException",
                "This operation can be performed only for enabled policy types.",
            ));
        }
        let targets: Vec<String> = std::iter::once(org.root_id.clone())
            .chain(txn.state.ous.keys().cloned())
            .chain(
                txn.state
                    .accounts
                    .values()
                    .filter(|a| a.parent_id.is_some())
                    .map(|a| a.id.clone()),
            )
            .collect();
        let policy_ids: Vec<String> = txn.state.org_policies.keys().cloned().collect();
        for id in policy_ids {
            if let Some(p) = txn.get_mut::<OrgPolicy>(&id) {
                if enable && id == FULL_AWS_ACCESS_ID {
                    p.targets.extend(targets.iter().cloned());
                } else if !enable {
                    p.targets.clear();
                }
            }
        }
        let o = txn.get_mut::<Organization>("org").ok_or_else(not_in_use)?;
        if enable {
            o.enabled_policy_types.insert(SCP.to_string());
        } else {
            o.enabled_policy_types.remove(SCP);
        }
        Ok(o.clone())
    })?;
    Ok(json!({"Root": root_json(&org)}))
}

fn check_scp(content: &str) -> Result<()> {
    validate::policy(content, PolicyKind::Scp)?;
    if validate::packed_len(content) > SCP_QUOTA {
        return Err(IdentityError::Organizations {
            code: "ConstraintViolationException",
            message: "You attempted to exceed the maximum size of a policy (POLICY_CONTENT_LIMIT_EXCEEDED).".into(),
        });
    }
    Ok(())
}

fn policy_not_found() -> IdentityError {
    err(
        "PolicyNotFoundException",
        "We can't find a policy with the PolicyId that you specified.",
    )
}

fn create_policy(ctx: &Orgs<'_>) -> Result<Value> {
    let tags = ctx.tags()?;
    let content = ctx.req("Content")?.to_string();
    let name = ctx.req("Name")?.to_string();
    let description = ctx.opt("Description").unwrap_or("").to_string();
    let kind = ctx.req("Type")?;
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize("CreatePolicy", "*")?;
    if kind != SCP {
        return Err(err(
            "PolicyTypeNotAvailableForOrganizationException",
            "You can't use the specified policy type with the feature set currently enabled for this organization.",
        ));
    }
    if name.is_empty() || name.chars().count() > 128 {
        return Err(err(
            "InvalidInputException",
            "You provided a value that does not match the required pattern.",
        ));
    }
    check_scp(&content)?;
    let policy = ctx.id.store.write(|txn| {
        if txn.state.org_policies.values().any(|p| p.name == name) {
            return Err(err(
                "DuplicatePolicyException",
                "A policy with the same name already exists.",
            ));
        }
        let p = OrgPolicy {
            id: ids::org_policy_id(),
            name: name.clone(),
            description: description.clone(),
            content: content.clone(),
            policy_type: SCP.to_string(),
            aws_managed: false,
            targets: BTreeSet::new(),
        };
        txn.put(p.clone());
        set_tags(txn, &p.id, tags.clone());
        Ok(p)
    })?;
    Ok(policy_json(&org, &policy))
}

fn update_policy(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("PolicyId")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize(
        "UpdatePolicy",
        &arns::org_policy(
            &org.management_account,
            &org.id,
            &id,
            id == FULL_AWS_ACCESS_ID,
        ),
    )?;
    let content = ctx.opt("Content").map(str::to_string);
    if let Some(c) = &content {
        check_scp(c)?;
    }
    let name = ctx.opt("Name").map(str::to_string);
    let description = ctx.opt("Description").map(str::to_string);
    let policy = ctx.id.store.write(|txn| {
        if let Some(n) = &name {
            if txn
                .state
                .org_policies
                .values()
                .any(|p| &p.name == n && p.id != id)
            {
                return Err(err(
                    "DuplicatePolicyException",
                    "A policy with the same name already exists.",
                ));
            }
        }
        let p = txn.get_mut::<OrgPolicy>(&id).ok_or_else(policy_not_found)?;
        if p.aws_managed {
            return Err(err(
                "AccessDeniedException",
                "You can't modify an AWS managed policy.",
            ));
        }
        if let Some(c) = content {
            p.content = c;
        }
        if let Some(n) = name {
            p.name = n;
        }
        if let Some(d) = description {
            p.description = d;
        }
        Ok(p.clone())
    })?;
    Ok(policy_json(&org, &policy))
}

fn describe_policy(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("PolicyId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize(
        "DescribePolicy",
        &arns::org_policy(
            &org.management_account,
            &org.id,
            id,
            id == FULL_AWS_ACCESS_ID,
        ),
    )?;
    let p = st.org_policies.get(id).ok_or_else(policy_not_found)?;
    Ok(policy_json(&org, p))
}

fn delete_policy(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("PolicyId")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize(
        "DeletePolicy",
        &arns::org_policy(
            &org.management_account,
            &org.id,
            &id,
            id == FULL_AWS_ACCESS_ID,
        ),
    )?;
    ctx.id.store.write(|txn| {
        let p = txn.get::<OrgPolicy>(&id).ok_or_else(policy_not_found)?;
        if p.aws_managed {
            return Err(err("AccessDeniedException", "You can't delete an AWS managed policy."));
        }
        if !p.targets.is_empty() {
            return Err(err(
                "PolicyInUseException",
                "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
            ));
        }
        txn.remove::<OrgPolicy>(&id);
        set_tags(txn, &id, Vec::new());
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_policies(ctx: &Orgs<'_>) -> Result<Value> {
    let filter = ctx.req("Filter")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize("ListPolicies", "*")?;
    let list: Vec<Value> = st
        .org_policies
        .values()
        .filter(|p| p.policy_type == filter)
        .map(|p| policy_summary(&org, p))
        .collect();
    Ok(json!({"Policies": list}))
}

fn target_not_found() -> IdentityError {
    err(
        "TargetNotFoundException",
        "We can't find a root, OU, account, or email that you specified.",
    )
}

fn attach_policy(ctx: &Orgs<'_>, attach: bool) -> Result<Value> {
    let policy_id = ctx.req("PolicyId")?.to_string();
    let target = ctx.req("TargetId")?.to_string();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    let op = if attach {
        "AttachPolicy"
    } else {
        "DetachPolicy"
    };
    ctx.authorize(
        op,
        &arns::org_policy(
            &org.management_account,
            &org.id,
            &policy_id,
            policy_id == FULL_AWS_ACCESS_ID,
        ),
    )?;
    ctx.id.store.write(|txn| {
        if !txn.state.org_policies.contains_key(&policy_id) {
            return Err(policy_not_found());
        }
        if target_kind(&txn.state, &org, &target).is_none() {
            return Err(target_not_found());
        }
        let enabled = txn.get::<Organization>("org").is_some_and(|o| o.enabled_policy_types.contains(SCP));
        if !enabled {
            return Err(err("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types."));
        }
        let remaining = txn.state.org_policies.values().filter(|p| p.targets.contains(&target)).count();
        let p = txn.get_mut::<OrgPolicy>(&policy_id).ok_or_else(policy_not_found)?;
        if attach {
            if !p.targets.insert(target.clone()) {
                return Err(err("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target."));
            }
        } else {
            if !p.targets.contains(&target) {
                return Err(err("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root."));
            }
            if remaining <= 1 {
                return Err(IdentityError::Organizations {
                    code: "ConstraintViolationException",
                    message: "You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of a certain type required.".into(),
                });
            }
            p.targets.remove(&target);
        }
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_policies_for_target(ctx: &Orgs<'_>) -> Result<Value> {
    let target = ctx.req("TargetId")?;
    let filter = ctx.req("Filter")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize("ListPoliciesForTarget", "*")?;
    if target_kind(&st, &org, target).is_none() {
        return Err(target_not_found());
    }
    let list: Vec<Value> = st
        .org_policies
        .values()
        .filter(|p| p.policy_type == filter && p.targets.contains(target))
        .map(|p| policy_summary(&org, p))
        .collect();
    Ok(json!({"Policies": list}))
}

fn list_targets_for_policy(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("PolicyId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize(
        "ListTargetsForPolicy",
        &arns::org_policy(
            &org.management_account,
            &org.id,
            id,
            id == FULL_AWS_ACCESS_ID,
        ),
    )?;
    let p = st.org_policies.get(id).ok_or_else(policy_not_found)?;
    let targets: Vec<Value> = p
        .targets
        .iter()
        .filter_map(|t| match target_kind(&st, &org, t)? {
            TargetKind::Root => Some(json!({
                "TargetId": t, "Arn": arns::org_root(&org.management_account, &org.id, t), "Name": "Root", "Type": "ROOT"
            })),
            TargetKind::Unit => st.ous.get(t).map(|ou| {
                json!({"TargetId": t, "Arn": arns::org_ou(&org.management_account, &org.id, t), "Name": ou.name, "Type": "ORGANIZATIONAL_UNIT"})
            }),
            TargetKind::Account => st.accounts.get(t).map(|a| {
                json!({"TargetId": t, "Arn": arns::org_account(&org.management_account, &org.id, t), "Name": a.name, "Type": "ACCOUNT"})
            }),
        })
        .collect();
    Ok(json!({"Targets": targets}))
}

// ---- trusted service access ------------------------------------------------

fn service_access(ctx: &Orgs<'_>, enable: bool) -> Result<Value> {
    let principal = ctx.req("ServicePrincipal")?.to_string();
    let op = if enable {
        "EnableAWSServiceAccess"
    } else {
        "DisableAWSServiceAccess"
    };
    ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize(op, "*")?;
    if !principal.ends_with(".amazonaws.com") {
        return Err(err(
            "InvalidInputException",
            "You specified an invalid value.",
        ));
    }
    ctx.id.store.write(|txn| {
        let o = txn.get_mut::<Organization>("org").ok_or_else(not_in_use)?;
        if enable {
            o.service_access
                .entry(principal.clone())
                .or_insert_with(jiff::Timestamp::now);
        } else {
            o.service_access.remove(&principal);
        }
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_service_access(ctx: &Orgs<'_>) -> Result<Value> {
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize("ListAWSServiceAccessForOrganization", "*")?;
    let list: Vec<Value> = org
        .service_access
        .iter()
        .map(|(p, t)| json!({"ServicePrincipal": p, "DateEnabled": epoch(*t)}))
        .collect();
    Ok(json!({"EnabledServicePrincipals": list}))
}

// ---- tags ------------------------------------------------------------------

/// Replaces the tags of `resource` (an empty list removes them).
fn set_tags(txn: &mut Txn, resource: &str, tags: Vec<Tag>) {
    let present = txn
        .get::<Organization>("org")
        .is_some_and(|o| o.tags.contains_key(resource));
    if tags.is_empty() && !present {
        return;
    }
    if let Some(o) = txn.get_mut::<Organization>("org") {
        if tags.is_empty() {
            o.tags.remove(resource);
        } else {
            o.tags.insert(resource.to_string(), tags);
        }
    }
}

/// A taggable resource: the root, an OU, an account of the organization, or a customer SCP.
fn taggable(st: &State, org: &Organization, id: &str) -> bool {
    target_kind(st, org, id).is_some() || st.org_policies.get(id).is_some_and(|p| !p.aws_managed)
}

fn tag_resource(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("ResourceId")?.to_string();
    let tags = ctx.tags()?;
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize("TagResource", "*")?;
    ctx.id.store.write(|txn| {
        if !taggable(&txn.state, &org, &id) {
            return Err(target_not_found());
        }
        let mut merged = txn
            .get::<Organization>("org")
            .and_then(|o| o.tags.get(&id).cloned())
            .unwrap_or_default();
        for t in tags {
            merged.retain(|m| m.key != t.key);
            merged.push(t);
        }
        if merged.len() > 50 {
            return Err(err(
                "TooManyTagsException",
                "You have exceeded the allowed number of tags for a resource.",
            ));
        }
        set_tags(txn, &id, merged);
        Ok(())
    })?;
    Ok(json!({}))
}

fn untag_resource(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("ResourceId")?.to_string();
    let keys: Vec<String> = ctx
        .body
        .get("TagKeys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let org = ctx.managed_org(&ctx.id.store.snapshot())?;
    ctx.authorize("UntagResource", "*")?;
    ctx.id.store.write(|txn| {
        if !taggable(&txn.state, &org, &id) {
            return Err(target_not_found());
        }
        let mut tags = txn
            .get::<Organization>("org")
            .and_then(|o| o.tags.get(&id).cloned())
            .unwrap_or_default();
        tags.retain(|t| !keys.contains(&t.key));
        set_tags(txn, &id, tags);
        Ok(())
    })?;
    Ok(json!({}))
}

fn list_tags_for_resource(ctx: &Orgs<'_>) -> Result<Value> {
    let id = ctx.req("ResourceId")?;
    let st = ctx.id.store.snapshot();
    let org = ctx.managed_org(&st)?;
    ctx.authorize("ListTagsForResource", "*")?;
    if !taggable(&st, &org, id) {
        return Err(target_not_found());
    }
    let tags: Vec<Value> = org
        .tags
        .get(id)
        .map(|list| {
            list.iter()
                .map(|t| json!({"Key": t.key, "Value": t.value}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"Tags": tags}))
}
