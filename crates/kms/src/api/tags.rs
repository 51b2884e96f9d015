//! TagResource, UntagResource, ListResourceTags, and tag validation.

use serde::Deserialize;
use serde_json::{json, Value};
use strongbox_core::ContextEntry;

use super::{paginate, required, with_page};
use crate::auth::GrantRule;
use crate::error::KmsError;
use crate::keys::require_not_pending_deletion;
use crate::store;
use crate::{Kms, Request};

/// A `Tag` member: `{"TagKey": …, "TagValue": …}`.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagInput {
    tag_key: Option<String>,
    tag_value: Option<String>,
}

/// Checks tags and returns them as pairs (later duplicates win).
pub(crate) fn validate_tags(tags: Vec<TagInput>) -> Result<Vec<(String, String)>, KmsError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for tag in tags {
        let key = required(tag.tag_key, "tagKey")?;
        let value = required(tag.tag_value, "tagValue")?;
        check_tag_key(&key)?;
        if value.chars().count() > 256 {
            return Err(super::length_error("tagValue", 0, 256));
        }
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    if out.len() > 50 {
        return Err(KmsError::Tag(
            "Too many tags: a KMS key can have at most 50 tags.".to_string(),
        ));
    }
    Ok(out)
}

fn check_tag_key(key: &str) -> Result<(), KmsError> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(super::length_error("tagKey", 1, 128));
    }
    if key.starts_with("aws:") {
        return Err(KmsError::Tag(
            "Tags beginning with aws: are reserved.".to_string(),
        ));
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResourceInput {
    key_id: Option<String>,
    tags: Option<Vec<TagInput>>,
}

pub(crate) fn tag_resource(
    kms: &Kms,
    req: &Request<'_>,
    input: TagResourceInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let tags = validate_tags(required(input.tags, "tags")?)?;
    let mut ctx: Vec<ContextEntry> = tags
        .iter()
        .map(|(k, v)| ContextEntry::new(format!("aws:RequestTag/{k}"), v.clone()))
        .collect();
    ctx.push(ContextEntry::multi(
        "aws:TagKeys",
        tags.iter().map(|(k, _)| k.clone()).collect(),
    ));
    kms.authorize_key(
        req,
        "kms:TagResource",
        &resolved.key,
        resolved.alias.as_deref(),
        ctx,
        GrantRule::None,
    )?;
    require_not_pending_deletion(&resolved.key)?;
    let existing = store::tags_of_key(&kms.db, &resolved.key.key_id)?;
    let added = tags
        .iter()
        .filter(|(k, _)| !existing.iter().any(|(e, _)| e == k))
        .count();
    if existing.len() + added > 50 {
        return Err(KmsError::Tag(
            "Too many tags: a KMS key can have at most 50 tags.".to_string(),
        ));
    }
    store::put_tags(&kms.db, &resolved.key.key_id, &tags)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResourceInput {
    key_id: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub(crate) fn untag_resource(
    kms: &Kms,
    req: &Request<'_>,
    input: UntagResourceInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let keys = required(input.tag_keys, "tagKeys")?;
    for k in &keys {
        check_tag_key(k)?;
    }
    let ctx = vec![ContextEntry::multi("aws:TagKeys", keys.clone())];
    kms.authorize_key(
        req,
        "kms:UntagResource",
        &resolved.key,
        resolved.alias.as_deref(),
        ctx,
        GrantRule::None,
    )?;
    require_not_pending_deletion(&resolved.key)?;
    store::remove_tags(&kms.db, &resolved.key.key_id, &keys)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTagsInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(crate) fn list_resource_tags(
    kms: &Kms,
    req: &Request<'_>,
    input: ListTagsInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:ListResourceTags",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    let tags = store::tags_of_key(&kms.db, &resolved.key.key_id)?;
    let (page, next) = paginate(tags, input.limit, input.marker.as_deref(), (50, 50))?;
    let entries: Vec<Value> = page
        .iter()
        .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
        .collect();
    Ok(with_page(json!({ "Tags": entries }), next))
}
