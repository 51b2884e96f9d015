//! Key material rotation: EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations.
//! Older material versions stay available, so earlier ciphertexts decrypt.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html>

use serde::Deserialize;
use serde_json::{json, Value};

use super::key_admin::KeyIdInput;
use super::{paginate, range_error, required, with_page};
use crate::auth::GrantRule;
use crate::error::KmsError;
use crate::keys::{epoch_seconds, now_ms, require_enabled, require_not_pending_deletion};
use crate::store;
use crate::{Kms, Request};

/// Default automatic rotation period.
const DEFAULT_PERIOD_DAYS: i64 = 365;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EnableRotationInput {
    key_id: Option<String>,
    rotation_period_in_days: Option<i64>,
}

pub(crate) fn enable_rotation(
    kms: &Kms,
    req: &Request<'_>,
    input: EnableRotationInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let days = input.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);
    if !(90..=2560).contains(&days) {
        return Err(range_error("rotationPeriodInDays", days, 90, 2560));
    }
    kms.authorize_key(
        req,
        "kms:EnableKeyRotation",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![strongbox_core::ContextEntry::new(
            "kms:RotationPeriodInDays",
            days.to_string(),
        )],
        GrantRule::None,
    )?;
    require_enabled(&resolved.key)?;
    store::set_rotation(
        &kms.db,
        &resolved.key.key_id,
        true,
        Some(days),
        Some(now_ms() + days * 86_400_000),
    )?;
    Ok(json!({}))
}

pub(crate) fn disable_rotation(
    kms: &Kms,
    req: &Request<'_>,
    input: KeyIdInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:DisableKeyRotation",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    require_enabled(&resolved.key)?;
    store::set_rotation(&kms.db, &resolved.key.key_id, false, None, None)?;
    Ok(json!({}))
}

pub(crate) fn get_rotation_status(
    kms: &Kms,
    req: &Request<'_>,
    input: KeyIdInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:GetKeyRotationStatus",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    require_not_pending_deletion(&resolved.key)?;
    let key = &resolved.key;
    let mut body = json!({ "KeyId": key.arn(), "KeyRotationEnabled": key.rotation_enabled });
    if let (true, Some(obj)) = (key.rotation_enabled, body.as_object_mut()) {
        if let Some(days) = key.rotation_period_days {
            obj.insert("RotationPeriodInDays".into(), json!(days));
        }
        if let Some(next) = key.next_rotation_ms {
            obj.insert("NextRotationDate".into(), json!(epoch_seconds(next)));
        }
    }
    Ok(body)
}

pub(crate) fn rotate_on_demand(
    kms: &Kms,
    req: &Request<'_>,
    input: KeyIdInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:RotateKeyOnDemand",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    require_enabled(&resolved.key)?;
    kms.rotate(&resolved.key, "ON_DEMAND")?;
    Ok(json!({ "KeyId": resolved.key.arn() }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRotationsInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(crate) fn list_rotations(
    kms: &Kms,
    req: &Request<'_>,
    input: ListRotationsInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:ListKeyRotations",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    let arn = resolved.key.arn();
    let rotations = store::rotations(&kms.db, &resolved.key.key_id)?;
    let (page, next) = paginate(rotations, input.limit, input.marker.as_deref(), (100, 1000))?;
    let entries: Vec<Value> = page
        .iter()
        .map(|(at, kind)| json!({ "KeyId": arn, "RotationDate": epoch_seconds(*at), "RotationType": kind }))
        .collect();
    Ok(with_page(json!({ "Rotations": entries }), next))
}
