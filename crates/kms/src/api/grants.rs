//! CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/grants.html>

use serde::Deserialize;
use serde_json::{json, Value};
use strongbox_core::ContextEntry;

use super::{paginate, required, with_page};
use crate::auth::GrantRule;
use crate::error::KmsError;
use crate::grants::{
    principal_matches, GrantConstraints, ALL_GRANT_OPERATIONS, CONTEXT_OPERATIONS,
    SYMMETRIC_GRANT_OPERATIONS,
};
use crate::keys::{epoch_seconds, now_ms, require_not_pending_deletion};
use crate::store::{self, GrantRecord};
use crate::{Kms, Request};

/// Checks a principal given to CreateGrant: an IAM/STS ARN, or a service principal.
fn check_principal(principal: &str, member: &str) -> Result<(), KmsError> {
    let arn_ok = (principal.starts_with("arn:aws:iam::") || principal.starts_with("arn:aws:sts::"))
        && principal
            .split(':')
            .nth(4)
            .is_some_and(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
    let service_ok = principal.ends_with(".amazonaws.com") && !principal.contains(':');
    if arn_ok || service_ok {
        Ok(())
    } else {
        Err(KmsError::Validation(format!(
            "Invalid principal '{principal}' in {member}."
        )))
    }
}

/// Checks grant operations and constraints together.
pub(crate) fn check_operations(
    ops: &[String],
    constraints: Option<&GrantConstraints>,
) -> Result<(), KmsError> {
    if ops.is_empty() {
        return Err(super::length_error(
            "operations",
            1,
            ALL_GRANT_OPERATIONS.len(),
        ));
    }
    for op in ops {
        if !ALL_GRANT_OPERATIONS.contains(&op.as_str()) {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '[{op}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                ALL_GRANT_OPERATIONS.join(", ")
            )));
        }
        if !SYMMETRIC_GRANT_OPERATIONS.contains(&op.as_str()) {
            return Err(KmsError::Validation(format!(
                "Grant operation {op} is not valid for a symmetric encryption KMS key."
            )));
        }
    }
    if constraints.is_some_and(|c| {
        c.encryption_context_equals.is_some() || c.encryption_context_subset.is_some()
    }) {
        let unsupported: Vec<&str> = ops
            .iter()
            .map(String::as_str)
            .filter(|op| !CONTEXT_OPERATIONS.contains(op))
            .collect();
        if !unsupported.is_empty() {
            return Err(KmsError::Validation(format!(
                "Grant constraints are not supported for these grant operations: {}",
                unsupported.join(", ")
            )));
        }
    }
    Ok(())
}

/// The `Grants` list entry of a grant.
fn grant_entry(kms: &Kms, g: &GrantRecord, key_account: &str) -> Value {
    let mut v = json!({
        "KeyId": kms.key_arn(key_account, &g.key_id),
        "GrantId": g.grant_id,
        "CreationDate": epoch_seconds(g.created_ms),
        "GranteePrincipal": g.grantee,
        "IssuingAccount": format!("arn:aws:iam::{}:root", g.issuing_account),
        "Operations": g.operations,
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(name) = &g.name {
            obj.insert("Name".into(), json!(name));
        }
        if let Some(r) = &g.retiring {
            obj.insert("RetiringPrincipal".into(), json!(r));
        }
        if let Some(c) = &g.constraints {
            obj.insert("Constraints".into(), json!(c));
        }
    }
    v
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrantInput {
    key_id: Option<String>,
    grantee_principal: Option<String>,
    retiring_principal: Option<String>,
    operations: Option<Vec<String>>,
    constraints: Option<GrantConstraints>,
    grant_tokens: Option<Vec<String>>,
    name: Option<String>,
    dry_run: Option<bool>,
}

pub(crate) fn create_grant(
    kms: &Kms,
    req: &Request<'_>,
    input: CreateGrantInput,
) -> Result<Value, KmsError> {
    super::check_grant_tokens(input.grant_tokens.as_ref())?;
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let grantee = required(input.grantee_principal, "granteePrincipal")?;
    let ops = required(input.operations, "operations")?;
    check_principal(&grantee, "GranteePrincipal")?;
    if let Some(r) = &input.retiring_principal {
        check_principal(r, "RetiringPrincipal")?;
    }
    if let Some(name) = &input.name {
        if name.is_empty() || name.len() > 256 {
            return Err(super::length_error("name", 1, 256));
        }
    }
    let constraints = input
        .constraints
        .filter(|c| c.encryption_context_equals.is_some() || c.encryption_context_subset.is_some());
    check_operations(&ops, constraints.as_ref())?;

    let mut ctx = vec![
        ContextEntry::multi("kms:GrantOperations", ops.clone()),
        ContextEntry::new("kms:GranteePrincipal", grantee.clone()),
        ContextEntry::new("kms:GrantIsForAWSResource", "false"),
    ];
    if let Some(r) = &input.retiring_principal {
        ctx.push(ContextEntry::new("kms:RetiringPrincipal", r.clone()));
    }
    if let Some(c) = &constraints {
        let typed = [
            ("EncryptionContextEquals", &c.encryption_context_equals),
            ("EncryptionContextSubset", &c.encryption_context_subset),
        ];
        for (kind, pairs) in typed {
            if let Some(pairs) = pairs {
                ctx.push(ContextEntry::new("kms:GrantConstraintType", kind));
                ctx.extend(crate::auth::context_entries(pairs));
            }
        }
    }
    // A grant that includes CreateGrant lets its grantee create narrower grants.
    let via_grant = |parent: &GrantRecord| {
        parent.operations.iter().any(|o| o == "CreateGrant")
            && ops.iter().all(|o| parent.operations.contains(o))
            && parent.constraints.as_ref().is_none_or(|pc| {
                constraints
                    .as_ref()
                    .is_some_and(|c| c.at_least_as_strict_as(pc))
            })
    };
    kms.authorize_key(
        req,
        "kms:CreateGrant",
        &resolved.key,
        resolved.alias.as_deref(),
        ctx,
        GrantRule::Custom(&via_grant),
    )?;
    require_not_pending_deletion(&resolved.key)?;
    if input.dry_run.unwrap_or(false) {
        return Err(KmsError::DryRun);
    }

    // A repeated CreateGrant with the same name and parameters returns the same grant.
    if input.name.is_some() {
        let existing = store::grants_of_key(&kms.db, &resolved.key.key_id)?;
        if let Some(g) = existing.iter().find(|g| {
            g.name == input.name
                && g.grantee == grantee
                && g.retiring == input.retiring_principal
                && g.operations == ops
                && g.constraints == constraints
        }) {
            return Ok(json!({ "GrantToken": g.token, "GrantId": g.grant_id }));
        }
    }
    let grant = GrantRecord {
        grant_id: strongbox_core::ids::random_hex(32),
        key_id: resolved.key.key_id.clone(),
        name: input.name,
        grantee,
        retiring: input.retiring_principal,
        operations: ops,
        constraints,
        issuing_account: resolved.key.account_id.clone(),
        token: new_grant_token(),
        created_ms: now_ms(),
    };
    store::insert_grant(&kms.db, &grant)?;
    Ok(json!({ "GrantToken": grant.token, "GrantId": grant.grant_id }))
}

/// An opaque grant token (base64url of random bytes).
fn new_grant_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(strongbox_core::ids::random_bytes(96))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrantsInput {
    key_id: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
    grant_id: Option<String>,
    grantee_principal: Option<String>,
}

pub(crate) fn list_grants(
    kms: &Kms,
    req: &Request<'_>,
    input: ListGrantsInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    kms.authorize_key(
        req,
        "kms:ListGrants",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    let grants: Vec<GrantRecord> = store::grants_of_key(&kms.db, &resolved.key.key_id)?
        .into_iter()
        .filter(|g| input.grant_id.as_ref().is_none_or(|id| *id == g.grant_id))
        .filter(|g| {
            input
                .grantee_principal
                .as_ref()
                .is_none_or(|p| *p == g.grantee)
        })
        .collect();
    let (page, next) = paginate(grants, input.limit, input.marker.as_deref(), (50, 100))?;
    let entries: Vec<Value> = page
        .iter()
        .map(|g| grant_entry(kms, g, &resolved.key.account_id))
        .collect();
    Ok(with_page(json!({ "Grants": entries }), next))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRetirableInput {
    retiring_principal: Option<String>,
    limit: Option<i64>,
    marker: Option<String>,
}

pub(crate) fn list_retirable_grants(
    kms: &Kms,
    req: &Request<'_>,
    input: ListRetirableInput,
) -> Result<Value, KmsError> {
    let principal = required(input.retiring_principal, "retiringPrincipal")?;
    kms.authorize_other(req, "kms:ListRetirableGrants", "*", None, vec![])?;
    let mut entries = Vec::new();
    for g in store::grants_for_principal(&kms.db, &principal)? {
        if g.retiring.as_deref() != Some(principal.as_str()) {
            continue;
        }
        if let Some(key) = kms.load_key(&g.key_id)? {
            entries.push(grant_entry(kms, &g, &key.account_id));
        }
    }
    let (page, next) = paginate(entries, input.limit, input.marker.as_deref(), (50, 100))?;
    Ok(with_page(json!({ "Grants": page }), next))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetireGrantInput {
    grant_token: Option<String>,
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

pub(crate) fn retire_grant(
    kms: &Kms,
    req: &Request<'_>,
    input: RetireGrantInput,
) -> Result<Value, KmsError> {
    let grant = match (&input.grant_token, &input.key_id, &input.grant_id) {
        (Some(token), _, _) => store::grant_by_token(&kms.db, token)?
            .ok_or_else(|| KmsError::InvalidGrantToken("Grant token is not valid.".to_string()))?,
        (None, Some(key_id), Some(grant_id)) => {
            let key = kms.resolve(key_id, &req.caller.account_id)?.key;
            store::grants_of_key(&kms.db, &key.key_id)?
                .into_iter()
                .find(|g| g.grant_id == *grant_id)
                .ok_or_else(|| {
                    KmsError::InvalidGrantId(format!("Grant ID {grant_id} is not valid."))
                })?
        }
        _ => {
            return Err(KmsError::Validation(
                "Either GrantToken or both KeyId and GrantId are required.".to_string(),
            ))
        }
    };
    let key = kms.load_key(&grant.key_id)?.ok_or_else(|| {
        KmsError::NotFound(format!(
            "Key '{}' does not exist",
            kms.key_arn(&grant.issuing_account, &grant.key_id)
        ))
    })?;
    // Who may retire: the retiring principal, a grantee holding RetireGrant,
    // or a principal the key's policies allow kms:RetireGrant.
    let by_grant = grant
        .retiring
        .as_deref()
        .is_some_and(|r| principal_matches(r, req.caller))
        || (principal_matches(&grant.grantee, req.caller)
            && grant.operations.iter().any(|o| o == "RetireGrant"));
    if !by_grant {
        kms.authorize_key(req, "kms:RetireGrant", &key, None, vec![], GrantRule::None)?;
    }
    if input.dry_run.unwrap_or(false) {
        return Err(KmsError::DryRun);
    }
    store::delete_grant(&kms.db, &grant.grant_id)?;
    Ok(json!({}))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RevokeGrantInput {
    key_id: Option<String>,
    grant_id: Option<String>,
    dry_run: Option<bool>,
}

pub(crate) fn revoke_grant(
    kms: &Kms,
    req: &Request<'_>,
    input: RevokeGrantInput,
) -> Result<Value, KmsError> {
    let resolved = kms.resolve(&required(input.key_id, "keyId")?, &req.caller.account_id)?;
    let grant_id = required(input.grant_id, "grantId")?;
    kms.authorize_key(
        req,
        "kms:RevokeGrant",
        &resolved.key,
        resolved.alias.as_deref(),
        vec![],
        GrantRule::None,
    )?;
    let exists = store::grants_of_key(&kms.db, &resolved.key.key_id)?
        .iter()
        .any(|g| g.grant_id == grant_id);
    if !exists {
        return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
    }
    if input.dry_run.unwrap_or(false) {
        return Err(KmsError::DryRun);
    }
    store::delete_grant(&kms.db, &grant_id)?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn operation_checks() {
        assert!(check_operations(&ops(&["Decrypt", "Encrypt"]), None).is_ok());
        assert!(check_operations(&ops(&[]), None).is_err());
        assert!(check_operations(&ops(&["Bogus"]), None).is_err());
        assert!(check_operations(&ops(&["Sign"]), None).is_err());
        let c = GrantConstraints {
            encryption_context_subset: Some([("a".to_string(), "b".to_string())].into()),
            encryption_context_equals: None,
        };
        assert!(check_operations(&ops(&["Decrypt"]), Some(&c)).is_ok());
        assert!(check_operations(&ops(&["Decrypt", "DescribeKey"]), Some(&c)).is_err());
    }

    #[test]
    fn principals() {
        assert!(check_principal("arn:aws:iam::111122223333:role/R", "x").is_ok());
        assert!(check_principal("arn:aws:sts::111122223333:assumed-role/R/s", "x").is_ok());
        assert!(check_principal("s3.amazonaws.com", "x").is_ok());
        assert!(check_principal("bob", "x").is_err());
        assert!(check_principal("arn:aws:iam::12:role/R", "x").is_err());
    }
}
