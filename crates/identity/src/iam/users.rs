//! IAM users.

use strongbox_core::{CallerKind, ContextEntry};

use super::entities::{attachable, locate, Kind};
use super::{paged, path_prefix, request_tag_context, user_xml, Ctx, OpResult};
use crate::error::{IdentityError, Result};
use crate::model::{AccessKey, Group, Perms, User};
use crate::query::Xml;
use crate::store::entity_key;
use crate::{arns, ids, validate};

/// The permissions boundary parameter of CreateUser/CreateRole, checked.
pub fn boundary_param(ctx: &Ctx<'_>) -> Result<Option<String>> {
    let Some(arn) = ctx.p.get("PermissionsBoundary") else {
        return Ok(None);
    };
    let st = ctx.id.store.snapshot();
    if !attachable(&st, &ctx.account, arn) {
        return Err(IdentityError::NoSuchEntity(format!(
            "Scope ARN: {arn} does not exist or is not attachable."
        )));
    }
    Ok(Some(arn.to_string()))
}

pub fn create_user(ctx: &Ctx<'_>) -> OpResult {
    let name = ctx.p.required("UserName")?;
    validate::name(name, "userName", 64)?;
    let path = ctx.p.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    let tags = ctx.p.tags("Tags")?;
    let mut context = request_tag_context(&tags);
    if let Some(b) = ctx.p.get("PermissionsBoundary") {
        context.push(ContextEntry::new("iam:PermissionsBoundary", b));
    }
    ctx.authorize(
        "iam:CreateUser",
        &arns::user(&ctx.account, path, name),
        &context,
    )?;
    let boundary = boundary_param(ctx)?;
    let user = User {
        account_id: ctx.account.clone(),
        name: name.to_string(),
        path: path.to_string(),
        id: ids::unique_id("AIDA"),
        created: jiff::Timestamp::now(),
        tags,
        boundary,
        perms: Perms::default(),
    };
    ctx.id.store.write(|txn| {
        if txn.get::<User>(&entity_key(&ctx.account, name)).is_some() {
            return Err(IdentityError::EntityAlreadyExists(format!(
                "User with name {name} already exists."
            )));
        }
        txn.put(user.clone());
        Ok(())
    })?;
    let mut x = Xml::new();
    user_xml(&mut x, "User", &user, true);
    Ok(Some(x))
}

pub fn get_user(ctx: &Ctx<'_>) -> OpResult {
    let mut x = Xml::new();
    if ctx.p.get("UserName").is_none() {
        match ctx.caller.kind {
            CallerKind::Root => {
                let arn = arns::root(&ctx.account);
                ctx.authorize("iam:GetUser", &arn, &[])?;
                let st = ctx.id.store.snapshot();
                let created = st
                    .accounts
                    .get(&ctx.account)
                    .map(|a| a.created)
                    .unwrap_or_else(jiff::Timestamp::now);
                x.open("User")
                    .text("UserId", &ctx.account)
                    .text("Arn", &arn)
                    .time("CreateDate", created)
                    .close("User");
                return Ok(Some(x));
            }
            CallerKind::User => {}
            _ => {
                return Err(IdentityError::ValidationError(
                    "Must specify userName when calling with non-User credentials".to_string(),
                ))
            }
        }
    }
    let name = ctx
        .p
        .get("UserName")
        .or(ctx.caller.user_name.as_deref())
        .unwrap_or_default();
    let st = ctx.id.store.snapshot();
    let found = st.users.get(&entity_key(&ctx.account, name));
    let arn = found
        .map(|u| arns::user(&u.account_id, &u.path, &u.name))
        .unwrap_or_else(|| arns::user(&ctx.account, "/", name));
    let context = found
        .map(|u| super::resource_tag_context(&u.tags))
        .unwrap_or_default();
    ctx.authorize("iam:GetUser", &arn, &context)?;
    let user = found.ok_or_else(|| Kind::User.not_found(name))?;
    user_xml(&mut x, "User", user, true);
    Ok(Some(x))
}

pub fn list_users(ctx: &Ctx<'_>) -> OpResult {
    let prefix = path_prefix(ctx)?;
    ctx.authorize(
        "iam:ListUsers",
        &format!("arn:aws:iam::{}:user{prefix}", ctx.account),
        &[],
    )?;
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    let users = st
        .users
        .values()
        .filter(|u| u.account_id == ctx.account && u.path.starts_with(prefix));
    paged(ctx, &mut x, "Users", users, |x, u| {
        user_xml(x, "member", u, false)
    })?;
    Ok(Some(x))
}

pub fn delete_user(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::User, "DeleteUser", Vec::new())?;
    let key = entity_key(&ctx.account, &v.name);
    let lower = v.name.to_ascii_lowercase();
    ctx.id.store.write(|txn| {
        let st = &txn.state;
        let has_keys = st.keys.values().any(|k| {
            k.account_id == ctx.account
                && k.user.as_deref().map(str::to_ascii_lowercase).as_deref() == Some(&lower)
        });
        if has_keys {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must delete access keys first.".into(),
            ));
        }
        let user = st
            .users
            .get(&key)
            .ok_or_else(|| Kind::User.not_found(&v.name))?;
        if !user.perms.inline.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        if !user.perms.attached.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".into(),
            ));
        }
        if st
            .groups
            .values()
            .any(|g| g.account_id == ctx.account && g.members.contains(&lower))
        {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must remove user from all groups first.".into(),
            ));
        }
        txn.remove::<User>(&key);
        Ok(())
    })?;
    Ok(None)
}

/// UpdateUser: rename (`NewUserName`) and/or move (`NewPath`); keys, group
/// memberships follow the user (sessions find it by its unique id).
pub fn update_user(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::User, "UpdateUser", Vec::new())?;
    let new_name = ctx.p.get("NewUserName").map(str::to_string);
    if let Some(n) = &new_name {
        validate::name(n, "newUserName", 64)?;
    }
    let new_path = ctx.p.get("NewPath").map(str::to_string);
    if let Some(p) = &new_path {
        validate::path(p, "newPath")?;
    }
    let old_key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let mut user = txn
            .get::<User>(&old_key)
            .cloned()
            .ok_or_else(|| Kind::User.not_found(&v.name))?;
        if let Some(p) = &new_path {
            user.path = p.clone();
        }
        if let Some(n) = &new_name {
            let new_key = entity_key(&ctx.account, n);
            if new_key != old_key && txn.get::<User>(&new_key).is_some() {
                return Err(IdentityError::EntityAlreadyExists(format!(
                    "User with name {n} already exists."
                )));
            }
            let old_lower = user.name.to_ascii_lowercase();
            let keys: Vec<String> = txn
                .state
                .keys
                .values()
                .filter(|k| {
                    k.account_id == ctx.account
                        && k.user.as_deref().map(str::to_ascii_lowercase) == Some(old_lower.clone())
                })
                .map(|k| k.id.clone())
                .collect();
            for id in keys {
                if let Some(k) = txn.get_mut::<AccessKey>(&id) {
                    k.user = Some(n.clone());
                }
            }
            let groups: Vec<String> = txn
                .state
                .groups
                .iter()
                .filter(|(_, g)| g.account_id == ctx.account && g.members.contains(&old_lower))
                .map(|(key, _)| key.clone())
                .collect();
            for key in groups {
                if let Some(g) = txn.get_mut::<Group>(&key) {
                    g.members.remove(&old_lower);
                    g.members.insert(n.to_ascii_lowercase());
                }
            }
            txn.remove::<User>(&old_key);
            user.name = n.clone();
        }
        txn.put(user);
        Ok(())
    })?;
    Ok(None)
}
