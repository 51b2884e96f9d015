//! Key lifecycle and key policy operations: CreateKey, DescribeKey, ListKeys,
//! EnableKey/DisableKey, ScheduleKeyDeletion/CancelKeyDeletion,
//! UpdateKeyDescription, GetKeyPolicy/PutKeyPolicy/ListKeyPolicies.

use serde::Deserialize;
use serde_json::{json, Value};
use strongbox_core::ContextEntry;

use super::tags::{validate_tags, TagInput};
use super::{paginate, range_error, required, with_page};
use crate::auth::GrantRule;
use crate::error::KmsError;
use crate::keys::{
    epoch_seconds, now_ms, parse_key_ref, require_not_pending_deletion, KeyRef, NewKey,
};
use crate::policy_docs::{default_key_policy, validate_key_policy};
use crate::store::{self, KeyRecord, KeyState};
use crate::{Kms, Request};

/// The only key policy name KMS supports.
const POLICY_NAME: &str = "default";

/// `KeyMetadata` as DescribeKey / CreateKey return it.
pub(crate) fn key_metadata(key: &KeyRecord) -> Value {
    let mut meta = json!({
        "AWSAccountId": key.account_id,
        "KeyId": key.key_id,
        "Arn": key.arn(),
        "CreationDate": epoch_seconds(key.created_ms),
        "Enabled": key.state == KeyState::Enabled,
        "Description": key.description,
        "KeyUsage": key.key_usage,
        "KeyState": key.state.as_str(),
        "Origin": key.origin,
        "KeyManager": key.key_manager,
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": false,
    });
    if let (Some(obj), Some(deletion)) = (meta.as_object_mut(), key.deletion_ms) {
        obj.insert("DeletionDate".into(), json!(epoch_seconds(deletion)));
        if let Some(days) = key.pending_window_days {
            obj.insert("PendingDeletionWindowInDays".into(), json!(days));
        }
    }
    meta
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateKeyInput {
    policy: Option<String>,
    description: Option<String>,
    key_usage: Option<String>,
    customer_master_key_spec: Option<String>,
    key_spec: Option<String>,
    origin: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
    tags: Option<Vec<TagInput>>,
    multi_region: Option<bool>,
    custom_key_store_id: Option<String>,
}

fn check_description(description: &str) -> Result<(), KmsError> {
    if description.chars().count() > 8192 {
        return Err(super::length_error("description", 0, 8192));
    }
    Ok(())
}

pub(crate) fn create_key(
    kms: &Kms,
    req: &Request<'_>,
    input: CreateKeyInput,
) -> Result<Value, KmsError> {
    let key_usage = input.key_usage.as_deref().unwrap_or("ENCRYPT_DECRYPT");
    let key_spec = input
        .key_spec
        .as_deref()
        .or(input.customer_master_key_spec.as_deref())
        .unwrap_or("SYMMETRIC_DEFAULT");
    let origin = input.origin.as_deref().unwrap_or("AWS_KMS");
    if !matches!(
        key_usage,
        "ENCRYPT_DECRYPT" | "SIGN_VERIFY" | "GENERATE_VERIFY_MAC" | "KEY_AGREEMENT"
    ) {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{key_usage}' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT]"
        )));
    }
    if key_spec != "SYMMETRIC_DEFAULT" {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeySpec {key_spec} is not supported by this KMS; only SYMMETRIC_DEFAULT keys are."
        )));
    }
    if key_usage != "ENCRYPT_DECRYPT" {
        return Err(KmsError::Validation(format!(
            "KeyUsage {key_usage} is not compatible with KeySpec SYMMETRIC_DEFAULT"
        )));
    }
    if origin != "AWS_KMS" || input.custom_key_store_id.is_some() {
        return Err(KmsError::UnsupportedOperation(format!(
            "Origin {origin} is not supported by this KMS; only AWS_KMS is."
        )));
    }
    if input.multi_region == Some(true) {
        return Err(KmsError::UnsupportedOperation(
            "Multi-Region keys are not supported by this KMS.".to_string(),
        ));
    }
    let description = input.description.unwrap_or_default();
    check_description(&description)?;
    let tags = validate_tags(input.tags.unwrap_or_default())?;
    let bypass = input.bypass_policy_lockout_safety_check.unwrap_or(false);

    let mut ctx = vec![
        ContextEntry::new("kms:KeySpec", key_spec),
        ContextEntry::new("kms:KeyUsage", key_usage),
        ContextEntry::new("kms:KeyOrigin", origin),
        ContextEntry::new("kms:MultiRegion", "false"),
        ContextEntry::new("kms:BypassPolicyLockoutSafetyCheck", bypass.to_string()),
    ];
    for (k, v) in &tags {
        ctx.push(ContextEntry::new(format!("aws:RequestTag/{k}"), v.clone()));
    }
    if !tags.is_empty() {
        ctx.push(ContextEntry::multi(
            "aws:TagKeys",
            tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    kms.authorize_other(req, "kms:CreateKey", "*", None, ctx)?;

    let account = req.caller.account_id.as_str();
    let key_id = strongbox_core::ids::uuid_v4();
    let policy = match input.policy {
        Some(policy) => {
            validate_key_policy(&policy)?;
            if !bypass {
                kms.lockout_check(req, &kms.key_arn(account, &key_id), account, &policy)?;
            }
            policy
        }
        None => default_key_policy(account),
    };
    let key = kms.create_key_record(NewKey {
        account_id: account,
        description: &description,
        policy,
        key_manager: "CUSTOMER",
        alias: None,
        tags: &tags,
        key_id: Some(key_id),
    })?;
    Ok(json!({ "KeyMetadata": key_metadata(&key) }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyIdInput {
    pub(super) key_id: Option<String>,
    grant_tokens: Option<Vec<String>>,
}

pub(crate) fn describe_key(
    kms: &Kms,
    req: &Request<'_>,
    input: KeyIdInput,
) -> Result<Value, KmsError> {
    super::check_grant_tokens(input.grant_tokens.as_ref())?;
    let key_id = required(input.key_id, "keyId")?;
    // A predefined AWS alias gets its AWS managed key on first DescribeKey.
    // <https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html>
    let account = req.caller.account_id.as_str();
    if let Ok(KeyRef::Alias {
        account: alias_account,
        name,
    }) = parse_key_ref(&key_id, account, &kms.region)
    {
        if name == crate::s3::AWS_S3_ALIAS && alias_account == account {
            kms.aws_s3_key(account)?;
        }
    }
    let resolved = kms.resolve(&key_id, account)?;
    let empty = Default::default();
    kms.authorize_key(
        req,
        "kms:DescribeKey",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::Operation("DescribeKey", &empty),
    )?;
    Ok(json!({ "KeyMetadata": key_metadata(&resolved.key) }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListInput {
    limit: Option<i64>,
    marker: Option<String>,
}

pub(crate) fn list_keys(kms: &Kms, req: &Request<'_>, input: ListInput) -> Result<Value, KmsError> {
    kms.authorize_other(req, "kms:ListKeys", "*", None, vec![])?;
    let mut keys = Vec::new();
    for key in store::list_keys(&kms.db, &req.caller.account_id, &kms.region)? {
        // Purge keys whose deletion date passed.
        if kms.load_key(&key.key_id)?.is_some() {
            keys.push(key);
        }
    }
    let (page, next) = paginate(keys, input.limit, input.marker.as_deref(), (100, 1000))?;
    let entries: Vec<Value> = page
        .iter()
        .map(|k| json!({ "KeyId": k.key_id, "KeyArn": k.arn() }))
        .collect();
    Ok(with_page(json!({ "Keys": entries }), next))
}

pub(crate) fn enable_key(
    kms: &Kms,
    req: &Request<'_>,
    input: KeyIdInput,
    enable: bool,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let action = if enable {
        "kms:EnableKey"
    } else {
        "kms:DisableKey"
    };
    kms.authorize_key(
        req,
        action,
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    require_not_pending_deletion(&resolved.key)?;
    let state = if enable {
        KeyState::Enabled
    } else {
        KeyState::Disabled
    };
    store::set_state(&kms.db, &resolved.key.key_id, state, None, None)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleDeletionInput {
    key_id: Option<String>,
    pending_window_in_days: Option<i64>,
}

pub(crate) fn schedule_deletion(
    kms: &Kms,
    req: &Request<'_>,
    input: ScheduleDeletionInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let days = input.pending_window_in_days.unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(range_error("pendingWindowInDays", days, 7, 30));
    }
    kms.authorize_key(
        req,
        "kms:ScheduleKeyDeletion",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![ContextEntry::new(
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            days.to_string(),
        )],
        GrantRule::None,
    )?;
    require_not_pending_deletion(&resolved.key)?;
    let deletion_ms = now_ms() + days * 24 * 3600 * 1000;
    store::set_state(
        &kms.db,
        &resolved.key.key_id,
        KeyState::PendingDeletion,
        Some(deletion_ms),
        Some(days),
    )?;
    Ok(json!({
        "KeyId": resolved.key.arn(),
        "DeletionDate": epoch_seconds(deletion_ms),
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": days,
    }))
}

pub(crate) fn cancel_deletion(
    kms: &Kms,
    req: &Request<'_>,
    input: KeyIdInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:CancelKeyDeletion",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    if resolved.key.state != KeyState::PendingDeletion {
        return Err(KmsError::InvalidState(format!(
            "{} is not pending deletion.",
            resolved.key.arn()
        )));
    }
    // A key whose deletion is canceled comes back disabled.
    store::set_state(
        &kms.db,
        &resolved.key.key_id,
        KeyState::Disabled,
        None,
        None,
    )?;
    Ok(json!({ "KeyId": resolved.key.arn() }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateDescriptionInput {
    key_id: Option<String>,
    description: Option<String>,
}

pub(crate) fn update_description(
    kms: &Kms,
    req: &Request<'_>,
    input: UpdateDescriptionInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let description = required(input.description, "description")?;
    check_description(&description)?;
    kms.authorize_key(
        req,
        "kms:UpdateKeyDescription",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    require_not_pending_deletion(&resolved.key)?;
    store::set_description(&kms.db, &resolved.key.key_id, &description)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetPolicyInput {
    key_id: Option<String>,
    policy_name: Option<String>,
}

fn check_policy_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(POLICY_NAME) => Ok(()),
        Some(other) => Err(KmsError::NotFound(format!("Policy {other} not found"))),
    }
}

pub(crate) fn get_key_policy(
    kms: &Kms,
    req: &Request<'_>,
    input: GetPolicyInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:GetKeyPolicy",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    check_policy_name(input.policy_name.as_deref())?;
    Ok(json!({ "Policy": resolved.key.policy, "PolicyName": POLICY_NAME }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PutPolicyInput {
    key_id: Option<String>,
    policy_name: Option<String>,
    policy: Option<String>,
    bypass_policy_lockout_safety_check: Option<bool>,
}

pub(crate) fn put_key_policy(
    kms: &Kms,
    req: &Request<'_>,
    input: PutPolicyInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let policy = required(input.policy, "policy")?;
    let bypass = input.bypass_policy_lockout_safety_check.unwrap_or(false);
    kms.authorize_key(
        req,
        "kms:PutKeyPolicy",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![ContextEntry::new(
            "kms:BypassPolicyLockoutSafetyCheck",
            bypass.to_string(),
        )],
        GrantRule::None,
    )?;
    check_policy_name(input.policy_name.as_deref())?;
    validate_key_policy(&policy)?;
    if !bypass {
        kms.lockout_check(req, &resolved.key.arn(), &resolved.key.account_id, &policy)?;
    }
    store::set_policy(&kms.db, &resolved.key.key_id, &policy)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPoliciesInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(crate) fn list_key_policies(
    kms: &Kms,
    req: &Request<'_>,
    input: ListPoliciesInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:ListKeyPolicies",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    let (page, next) = paginate(
        vec![POLICY_NAME],
        input.limit,
        input.marker.as_deref(),
        (100, 1000),
    )?;
    Ok(with_page(json!({ "PolicyNames": page }), next))
}
