//! Account-level IAM reads: GetAccountSummary, ListAccountAliases, ListMFADevices.

use strongbox_core::CallerKind;

use super::{not_truncated, Ctx, OpResult};
use crate::query::Xml;

/// GetAccountSummary: entity counts and the quotas Strongbox enforces (AWS's defaults).
/// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html>
pub fn get_account_summary(ctx: &Ctx<'_>) -> OpResult {
    ctx.authorize("iam:GetAccountSummary", "*", &[])?;
    let st = ctx.id.store.snapshot();
    let own = |account: &str| account == ctx.account;
    let users = st.users.values().filter(|u| own(&u.account_id)).count();
    let groups = st.groups.values().filter(|g| own(&g.account_id)).count();
    let roles = st.roles.values().filter(|r| own(&r.account_id)).count();
    let policies: Vec<_> = st
        .policies
        .values()
        .filter(|p| own(&p.account_id))
        .collect();
    let versions: usize = policies.iter().map(|p| p.versions.len()).sum();
    let root_keys = st
        .keys
        .values()
        .any(|k| own(&k.account_id) && k.user.is_none());
    let entries: [(&str, usize); 22] = [
        ("Users", users),
        ("UsersQuota", 5000),
        ("Groups", groups),
        ("GroupsQuota", 300),
        ("Roles", roles),
        ("RolesQuota", 1000),
        ("Policies", policies.len()),
        ("PoliciesQuota", 1500),
        ("PolicyVersionsInUse", versions),
        ("PolicyVersionsInUseQuota", 10000),
        ("VersionsPerPolicyQuota", 5),
        ("PolicySizeQuota", 6144),
        ("UserPolicySizeQuota", 2048),
        ("GroupPolicySizeQuota", 5120),
        ("RolePolicySizeQuota", 10240),
        ("AccessKeysPerUserQuota", 2),
        ("GroupsPerUserQuota", 10),
        ("AttachedPoliciesPerUserQuota", 10),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("AttachedPoliciesPerRoleQuota", 10),
        ("AccountAccessKeysPresent", usize::from(root_keys)),
        ("AccountMFAEnabled", 0),
    ];
    let mut x = Xml::new();
    x.open("SummaryMap");
    for (key, value) in entries {
        x.open("entry")
            .text("key", key)
            .text("value", &value.to_string())
            .close("entry");
    }
    x.close("SummaryMap");
    Ok(Some(x))
}

/// ListAccountAliases: accounts have no aliases in Strongbox.
pub fn list_account_aliases(ctx: &Ctx<'_>) -> OpResult {
    ctx.authorize("iam:ListAccountAliases", "*", &[])?;
    let mut x = Xml::new();
    x.raw("<AccountAliases/>");
    not_truncated(&mut x);
    Ok(Some(x))
}

/// ListMFADevices: Strongbox has no MFA devices, so the list is always empty.
pub fn list_mfa_devices(ctx: &Ctx<'_>) -> OpResult {
    let resource = match (ctx.p.get("UserName"), ctx.caller.kind) {
        (Some(name), _) => crate::arns::user(&ctx.account, "/", name),
        (None, CallerKind::User) => ctx.caller.arn.clone(),
        _ => crate::arns::root(&ctx.account),
    };
    ctx.authorize("iam:ListMFADevices", &resource, &[])?;
    let mut x = Xml::new();
    x.raw("<MFADevices/>");
    not_truncated(&mut x);
    Ok(Some(x))
}
