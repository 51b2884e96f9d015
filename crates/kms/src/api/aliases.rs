//! CreateAlias, UpdateAlias, DeleteAlias, ListAliases.
//! Each alias operation is authorized on the alias (IAM policies) and on every
//! affected key (key policy): <https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html>.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{paginate, required, with_page};
use crate::auth::GrantRule;
use crate::error::KmsError;
use crate::keys::{epoch_seconds, now_ms, parse_key_ref, require_not_pending_deletion, KeyRef};
use crate::store::{self, AliasRecord, KeyRecord};
use crate::{Kms, Request};

/// Checks an alias name: `alias/` + 1–250 of `[A-Za-z0-9/_-]`, and not the reserved `alias/aws/`.
pub(crate) fn validate_alias_name(name: &str) -> Result<(), KmsError> {
    if name.is_empty() || name.len() > 256 {
        return Err(super::length_error("aliasName", 1, 256));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | ':'))
    {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )));
    }
    let Some(rest) = name.strip_prefix("alias/") else {
        return Err(KmsError::Validation(
            "Alias must start with the prefix \"alias/\".".to_string(),
        ));
    };
    if rest.is_empty() || rest.contains(':') {
        return Err(KmsError::Validation(format!(
            "Alias name {name} is not valid."
        )));
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(
            "The alias/aws/ prefix is reserved for AWS managed keys.".to_string(),
        ));
    }
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasInput {
    alias_name: Option<String>,
    target_key_id: Option<String>,
}

impl Kms {
    /// The key an alias should point at: a key id or key ARN in the caller's account.
    fn alias_target(&self, req: &Request<'_>, target: &str) -> Result<KeyRecord, KmsError> {
        if let KeyRef::Alias { .. } = parse_key_ref(target, &req.caller.account_id, &self.region)? {
            return Err(KmsError::Validation(
                "Aliases must refer to keys. Not aliases".to_string(),
            ));
        }
        let key = self.resolve(target, &req.caller.account_id)?.key;
        if key.account_id != req.caller.account_id {
            return Err(KmsError::NotFound(format!(
                "Key '{}' does not exist",
                key.arn()
            )));
        }
        Ok(key)
    }
}

pub(crate) fn create_alias(
    kms: &Kms,
    req: &Request<'_>,
    input: AliasInput,
) -> Result<Value, KmsError> {
    let name = required(input.alias_name, "aliasName")?;
    let target = required(input.target_key_id, "targetKeyId")?;
    validate_alias_name(&name)?;
    let key = kms.alias_target(req, &target)?;
    let account = req.caller.account_id.as_str();
    let alias_arn = kms.alias_arn(account, &name);
    kms.authorize_other(req, "kms:CreateAlias", &alias_arn, Some(account), vec![])?;
    kms.authorize_key(req, "kms:CreateAlias", &key, None, vec![], GrantRule::None)?;
    require_not_pending_deletion(&key)?;
    let now = now_ms();
    let record = AliasRecord {
        account_id: account.to_string(),
        region: kms.region.clone(),
        alias_name: name,
        key_id: key.key_id.clone(),
        created_ms: now,
        updated_ms: now,
    };
    if !store::insert_alias(&kms.db, &record)? {
        return Err(KmsError::AlreadyExists(format!(
            "An alias with the name {alias_arn} already exists"
        )));
    }
    Ok(json!({}))
}

fn existing_alias(kms: &Kms, req: &Request<'_>, name: &str) -> Result<AliasRecord, KmsError> {
    store::get_alias(&kms.db, &req.caller.account_id, &kms.region, name)?.ok_or_else(|| {
        KmsError::NotFound(format!(
            "Alias {} is not found.",
            kms.alias_arn(&req.caller.account_id, name)
        ))
    })
}

pub(crate) fn update_alias(
    kms: &Kms,
    req: &Request<'_>,
    input: AliasInput,
) -> Result<Value, KmsError> {
    let name = required(input.alias_name, "aliasName")?;
    let target = required(input.target_key_id, "targetKeyId")?;
    validate_alias_name(&name)?;
    let alias = existing_alias(kms, req, &name)?;
    let new_key = kms.alias_target(req, &target)?;
    kms.authorize_other(
        req,
        "kms:UpdateAlias",
        &alias.arn(),
        Some(&alias.account_id),
        vec![],
    )?;
    if let Some(old_key) = kms.load_key(&alias.key_id)? {
        kms.authorize_key(
            req,
            "kms:UpdateAlias",
            &old_key,
            None,
            vec![],
            GrantRule::None,
        )?;
    }
    kms.authorize_key(
        req,
        "kms:UpdateAlias",
        &new_key,
        None,
        vec![],
        GrantRule::None,
    )?;
    require_not_pending_deletion(&new_key)?;
    store::update_alias(
        &kms.db,
        &alias.account_id,
        &kms.region,
        &name,
        &new_key.key_id,
        now_ms(),
    )?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteAliasInput {
    alias_name: Option<String>,
}

pub(crate) fn delete_alias(
    kms: &Kms,
    req: &Request<'_>,
    input: DeleteAliasInput,
) -> Result<Value, KmsError> {
    let name = required(input.alias_name, "aliasName")?;
    validate_alias_name(&name)?;
    let alias = existing_alias(kms, req, &name)?;
    kms.authorize_other(
        req,
        "kms:DeleteAlias",
        &alias.arn(),
        Some(&alias.account_id),
        vec![],
    )?;
    if let Some(key) = kms.load_key(&alias.key_id)? {
        kms.authorize_key(req, "kms:DeleteAlias", &key, None, vec![], GrantRule::None)?;
    }
    store::delete_alias(&kms.db, &alias.account_id, &kms.region, &name)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAliasesInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(crate) fn list_aliases(
    kms: &Kms,
    req: &Request<'_>,
    input: ListAliasesInput,
) -> Result<Value, KmsError> {
    kms.authorize_other(req, "kms:ListAliases", "*", None, vec![])?;
    let filter = match input.key_id {
        Some(id) => Some(kms.resolve(&id, &req.caller.account_id)?.key.key_id),
        None => None,
    };
    let mut aliases = Vec::new();
    for alias in store::list_aliases(&kms.db, &req.caller.account_id, &kms.region)? {
        if filter.as_ref().is_some_and(|k| *k != alias.key_id) {
            continue;
        }
        if kms.load_key(&alias.key_id)?.is_some() {
            aliases.push(alias);
        }
    }
    let (page, next) = paginate(aliases, input.limit, input.marker.as_deref(), (50, 100))?;
    let entries: Vec<Value> = page
        .iter()
        .map(|a| {
            json!({
                "AliasName": a.alias_name,
                "AliasArn": a.arn(),
                "TargetKeyId": a.key_id,
                "CreationDate": epoch_seconds(a.created_ms),
                "LastUpdatedDate": epoch_seconds(a.updated_ms),
            })
        })
        .collect();
    Ok(with_page(json!({ "Aliases": entries }), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names() {
        assert!(validate_alias_name("alias/my-key_1/x").is_ok());
        assert!(matches!(
            validate_alias_name("my-key"),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            validate_alias_name("alias/"),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            validate_alias_name("alias/has space"),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            validate_alias_name("alias/aws/s3"),
            Err(KmsError::NotAuthorized(_))
        ));
        assert!(matches!(
            validate_alias_name(&format!("alias/{}", "a".repeat(260))),
            Err(KmsError::Validation(_))
        ));
    }
}
