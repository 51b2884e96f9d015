//! Access keys of IAM users and of the root user (at most two each).

use strongbox_core::CallerKind;

use super::entities::Kind;
use super::{paged, resource_tag_context, Ctx, OpResult};
use crate::arns;
use crate::error::{IdentityError, Result};
use crate::model::AccessKey;
use crate::query::Xml;
use crate::store::entity_key;

/// Whose keys an operation manages: the named user, else the caller itself.
enum Owner {
    Root,
    User(String),
}

impl Owner {
    fn matches(&self, key: &AccessKey) -> bool {
        match (self, &key.user) {
            (Owner::Root, None) => true,
            (Owner::User(name), Some(u)) => u.eq_ignore_ascii_case(name),
            _ => false,
        }
    }
}

fn owner(ctx: &Ctx<'_>, action: &str) -> Result<Owner> {
    let name = match ctx.p.get("UserName") {
        Some(n) => n.to_string(),
        None => match ctx.caller.kind {
            CallerKind::Root => {
                ctx.authorize(action, &arns::root(&ctx.account), &[])?;
                return Ok(Owner::Root);
            }
            CallerKind::User => ctx.caller.user_name.clone().unwrap_or_default(),
            _ => {
                return Err(IdentityError::ValidationError(
                    "Must specify userName when calling with non-User credentials".to_string(),
                ))
            }
        },
    };
    let st = ctx.id.store.snapshot();
    let found = st.users.get(&entity_key(&ctx.account, &name));
    let arn = found
        .map(|u| arns::user(&ctx.account, &u.path, &u.name))
        .unwrap_or_else(|| arns::user(&ctx.account, "/", &name));
    let context = found
        .map(|u| resource_tag_context(&u.tags))
        .unwrap_or_default();
    ctx.authorize(action, &arn, &context)?;
    let user = found.ok_or_else(|| Kind::User.not_found(&name))?;
    Ok(Owner::User(user.name.clone()))
}

fn status(active: bool) -> &'static str {
    if active {
        "Active"
    } else {
        "Inactive"
    }
}

pub fn create_access_key(ctx: &Ctx<'_>) -> OpResult {
    let owner = owner(ctx, "iam:CreateAccessKey")?;
    let key = AccessKey {
        id: strongbox_core::ids::aws_id("AKIA"),
        secret: strongbox_core::ids::secret_access_key(),
        account_id: ctx.account.clone(),
        user: match &owner {
            Owner::Root => None,
            Owner::User(n) => Some(n.clone()),
        },
        active: true,
        created: jiff::Timestamp::now(),
    };
    ctx.id.store.write(|txn| {
        let count = txn
            .state
            .keys
            .values()
            .filter(|k| k.account_id == ctx.account && owner.matches(k))
            .count();
        if count >= 2 {
            return Err(IdentityError::LimitExceeded(
                "Cannot exceed quota for AccessKeysPerUser: 2".into(),
            ));
        }
        txn.put(key.clone());
        Ok(())
    })?;
    let mut x = Xml::new();
    x.open("AccessKey");
    if let Some(u) = &key.user {
        x.text("UserName", u);
    }
    x.text("AccessKeyId", &key.id)
        .text("Status", "Active")
        .text("SecretAccessKey", &key.secret)
        .time("CreateDate", key.created)
        .close("AccessKey");
    Ok(Some(x))
}

pub fn list_access_keys(ctx: &Ctx<'_>) -> OpResult {
    let owner = owner(ctx, "iam:ListAccessKeys")?;
    let st = ctx.id.store.snapshot();
    let mut keys: Vec<&AccessKey> = st
        .keys
        .values()
        .filter(|k| k.account_id == ctx.account && owner.matches(k))
        .collect();
    keys.sort_by_key(|k| k.created);
    let mut x = Xml::new();
    paged(ctx, &mut x, "AccessKeyMetadata", keys, |x, k| {
        x.open("member");
        if let Some(u) = &k.user {
            x.text("UserName", u);
        }
        x.text("AccessKeyId", &k.id)
            .text("Status", status(k.active))
            .time("CreateDate", k.created)
            .close("member");
    })?;
    if let Owner::User(name) = &owner {
        x.text("UserName", name);
    }
    Ok(Some(x))
}

fn not_found(id: &str) -> IdentityError {
    IdentityError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

pub fn update_access_key(ctx: &Ctx<'_>) -> OpResult {
    let owner = owner(ctx, "iam:UpdateAccessKey")?;
    let id = ctx.p.required("AccessKeyId")?;
    let active = match ctx.p.required("Status")? {
        "Active" => true,
        "Inactive" => false,
        other => {
            return Err(crate::error::constraint(
                other,
                "status",
                "Member must satisfy enum value set: [Active, Inactive]",
            ))
        }
    };
    ctx.id.store.write(|txn| {
        let key = txn
            .get_mut::<AccessKey>(id)
            .filter(|k| k.account_id == ctx.account && owner.matches(k))
            .ok_or_else(|| not_found(id))?;
        key.active = active;
        Ok(())
    })?;
    Ok(None)
}

pub fn delete_access_key(ctx: &Ctx<'_>) -> OpResult {
    let owner = owner(ctx, "iam:DeleteAccessKey")?;
    let id = ctx.p.required("AccessKeyId")?;
    ctx.id.store.write(|txn| {
        let ok = txn
            .get::<AccessKey>(id)
            .is_some_and(|k| k.account_id == ctx.account && owner.matches(k));
        if !ok {
            return Err(not_found(id));
        }
        txn.remove::<AccessKey>(id);
        Ok(())
    })?;
    Ok(None)
}

/// GetAccessKeyLastUsed: Strongbox does not track last use, so it answers as
/// AWS does for a key that was never used (`N/A`).
pub fn get_access_key_last_used(ctx: &Ctx<'_>) -> OpResult {
    let id = ctx.p.required("AccessKeyId")?;
    let st = ctx.id.store.snapshot();
    let key = st.keys.get(id).filter(|k| k.account_id == ctx.account);
    let resource = match key.and_then(|k| k.user.as_ref()) {
        Some(name) => st
            .users
            .get(&entity_key(&ctx.account, name))
            .map(|u| arns::user(&ctx.account, &u.path, &u.name))
            .unwrap_or_else(|| arns::user(&ctx.account, "/", name)),
        None => arns::root(&ctx.account),
    };
    ctx.authorize("iam:GetAccessKeyLastUsed", &resource, &[])?;
    let key = key.ok_or_else(|| not_found(id))?;
    let mut x = Xml::new();
    x.opt("UserName", key.user.as_deref());
    x.open("AccessKeyLastUsed")
        .text("ServiceName", "N/A")
        .text("Region", "N/A")
        .close("AccessKeyLastUsed");
    Ok(Some(x))
}
