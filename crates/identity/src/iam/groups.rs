//! IAM groups and membership.

use std::collections::BTreeSet;

use super::entities::{locate, Kind};
use super::{group_xml, paged, path_prefix, user_xml, Ctx, OpResult};
use crate::error::IdentityError;
use crate::model::{Group, Perms, User};
use crate::query::Xml;
use crate::store::entity_key;
use crate::{arns, ids, validate};

pub fn create_group(ctx: &Ctx<'_>) -> OpResult {
    let name = ctx.p.required("GroupName")?;
    validate::name(name, "groupName", 128)?;
    let path = ctx.p.get("Path").unwrap_or("/");
    validate::path(path, "path")?;
    ctx.authorize(
        "iam:CreateGroup",
        &arns::group(&ctx.account, path, name),
        &[],
    )?;
    let group = Group {
        account_id: ctx.account.clone(),
        name: name.to_string(),
        path: path.to_string(),
        id: ids::unique_id("AGPA"),
        created: jiff::Timestamp::now(),
        perms: Perms::default(),
        members: BTreeSet::new(),
    };
    ctx.id.store.write(|txn| {
        if txn.get::<Group>(&entity_key(&ctx.account, name)).is_some() {
            return Err(IdentityError::EntityAlreadyExists(format!(
                "Group with name {name} already exists."
            )));
        }
        txn.put(group.clone());
        Ok(())
    })?;
    let mut x = Xml::new();
    group_xml(&mut x, "Group", &group);
    Ok(Some(x))
}

pub fn get_group(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::Group, "GetGroup", Vec::new())?;
    let st = ctx.id.store.snapshot();
    let group = st
        .groups
        .get(&entity_key(&ctx.account, &v.name))
        .ok_or_else(|| Kind::Group.not_found(&v.name))?;
    let mut x = Xml::new();
    group_xml(&mut x, "Group", group);
    let users = group
        .members
        .iter()
        .filter_map(|m| st.users.get(&entity_key(&ctx.account, m)));
    paged(ctx, &mut x, "Users", users, |x, u| {
        user_xml(x, "member", u, false)
    })?;
    Ok(Some(x))
}

pub fn list_groups(ctx: &Ctx<'_>) -> OpResult {
    let prefix = path_prefix(ctx)?;
    ctx.authorize(
        "iam:ListGroups",
        &format!("arn:aws:iam::{}:group{prefix}", ctx.account),
        &[],
    )?;
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    let groups = st
        .groups
        .values()
        .filter(|g| g.account_id == ctx.account && g.path.starts_with(prefix));
    paged(ctx, &mut x, "Groups", groups, |x, g| {
        group_xml(x, "member", g)
    })?;
    Ok(Some(x))
}

pub fn delete_group(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::Group, "DeleteGroup", Vec::new())?;
    let key = entity_key(&ctx.account, &v.name);
    ctx.id.store.write(|txn| {
        let group = txn
            .get::<Group>(&key)
            .ok_or_else(|| Kind::Group.not_found(&v.name))?;
        if !group.members.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must remove users from group first.".into(),
            ));
        }
        if !group.perms.inline.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        if !group.perms.attached.is_empty() {
            return Err(IdentityError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".into(),
            ));
        }
        txn.remove::<Group>(&key);
        Ok(())
    })?;
    Ok(None)
}

fn membership(ctx: &Ctx<'_>, action: &str, add: bool) -> OpResult {
    let v = locate(ctx, Kind::Group, action, Vec::new())?;
    let user_name = ctx.p.required("UserName")?;
    let group_key = entity_key(&ctx.account, &v.name);
    let user_key = entity_key(&ctx.account, user_name);
    let member = user_name.to_ascii_lowercase();
    ctx.id.store.write(|txn| {
        if txn.get::<User>(&user_key).is_none() {
            return Err(Kind::User.not_found(user_name));
        }
        if add {
            let count = txn
                .state
                .groups
                .values()
                .filter(|g| g.account_id == ctx.account && g.members.contains(&member))
                .count();
            let already = txn
                .get::<Group>(&group_key)
                .is_some_and(|g| g.members.contains(&member));
            if !already && count >= 10 {
                return Err(IdentityError::LimitExceeded(
                    "Cannot exceed quota for GroupsPerUser: 10".into(),
                ));
            }
        }
        let group = txn
            .get_mut::<Group>(&group_key)
            .ok_or_else(|| Kind::Group.not_found(&v.name))?;
        if add {
            group.members.insert(member.clone());
        } else if !group.members.remove(&member) {
            return Err(Kind::User.not_found(user_name));
        }
        Ok(())
    })?;
    Ok(None)
}

pub fn add_user_to_group(ctx: &Ctx<'_>) -> OpResult {
    membership(ctx, "AddUserToGroup", true)
}

pub fn remove_user_from_group(ctx: &Ctx<'_>) -> OpResult {
    membership(ctx, "RemoveUserFromGroup", false)
}

pub fn list_groups_for_user(ctx: &Ctx<'_>) -> OpResult {
    let v = locate(ctx, Kind::User, "ListGroupsForUser", Vec::new())?;
    let member = v.name.to_ascii_lowercase();
    let st = ctx.id.store.snapshot();
    let mut x = Xml::new();
    let groups = st
        .groups
        .values()
        .filter(|g| g.account_id == ctx.account && g.members.contains(&member));
    paged(ctx, &mut x, "Groups", groups, |x, g| {
        group_xml(x, "member", g)
    })?;
    Ok(Some(x))
}
