//! The request path: access key → caller, caller → policies, principal checks.

use std::collections::BTreeMap;
use std::sync::Arc;

use strongbox_core::caller::NamedDocument;
use strongbox_core::{Caller, CallerKind, FederatingUser};

use crate::error::IdentityError;
use crate::model::{ManagedPolicy, Perms, Role, SessionKind, User};
use crate::store::{entity_key, State};
use crate::{arns, managed, CallerPolicies, Identity, KeyLookup};

const UNKNOWN_KEY: &str = "The AWS Access Key Id you provided does not exist in our records.";
const BAD_TOKEN: &str = "The provided token is malformed or otherwise invalid.";
const EXPIRED: &str = "The provided token has expired.";

/// The customer managed policy with this ARN.
pub fn customer_policy<'a>(st: &'a State, arn: &str) -> Option<&'a ManagedPolicy> {
    let (account, kind, _, name) = arns::parse_iam(arn)?;
    if kind != "policy" {
        return None;
    }
    st.policies
        .get(&entity_key(account, name))
        .filter(|p| p.arn == arn)
}

/// The default-version document of an AWS or customer managed policy.
pub fn managed_document(st: &State, arn: &str) -> Option<String> {
    if let Some(p) = managed::aws_managed(arn) {
        return Some(p.document.to_string());
    }
    customer_policy(st, arn).and_then(|p| p.default_document().map(str::to_string))
}

/// The Caller of an IAM user.
pub fn user_caller(user: &User, access_key_id: Option<String>) -> Caller {
    let arn = arns::user(&user.account_id, &user.path, &user.name);
    Caller {
        kind: CallerKind::User,
        account_id: user.account_id.clone(),
        arn: arn.clone(),
        principal_arn: arn,
        user_id: user.id.clone(),
        user_name: Some(user.name.clone()),
        role_arn: None,
        federated_by: None,
        session_name: None,
        access_key_id,
        tags: user
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect(),
        session_policies: None,
        token_issue_time: None,
        mfa: false,
    }
}

fn add_perms(st: &State, label: &str, perms: &Perms, out: &mut Vec<NamedDocument>) {
    for (name, doc) in &perms.inline {
        out.push(NamedDocument {
            name: format!("{label}/inline/{name}"),
            document: doc.clone(),
        });
    }
    for arn in &perms.attached {
        if out.iter().any(|d| &d.name == arn) {
            continue;
        }
        if let Some(document) = managed_document(st, arn) {
            out.push(NamedDocument {
                name: arn.clone(),
                document,
            });
        }
    }
}

fn boundary_doc(st: &State, arn: Option<&String>) -> Option<NamedDocument> {
    let arn = arn?;
    managed_document(st, arn).map(|document| NamedDocument {
        name: arn.clone(),
        document,
    })
}

/// The role behind a role-session caller, if it still exists (same unique id).
fn caller_role<'a>(st: &'a State, caller: &Caller) -> Option<&'a Role> {
    let role_arn = caller.role_arn.as_deref()?;
    let (account, _, _, name) = arns::parse_iam(role_arn)?;
    let role = st.roles.get(&entity_key(account, name))?;
    caller
        .user_id
        .starts_with(&format!("{}:", role.id))
        .then_some(role)
}

/// A user's own policies, its groups' policies and its boundary.
fn add_user_perms(st: &State, user: &User, out: &mut CallerPolicies) {
    add_perms(
        st,
        &format!("user/{}", user.name),
        &user.perms,
        &mut out.identity,
    );
    let key = user.name.to_ascii_lowercase();
    for group in st.groups.values() {
        if group.account_id == user.account_id && group.members.contains(&key) {
            add_perms(
                st,
                &format!("group/{}", group.name),
                &group.perms,
                &mut out.identity,
            );
        }
    }
    out.boundary = boundary_doc(st, user.boundary.as_ref());
}

/// The IAM user behind a federated session.
fn federating_user<'a>(st: &'a State, caller: &Caller) -> Option<&'a User> {
    let by = caller.federated_by.as_ref()?;
    st.users
        .get(&entity_key(&caller.account_id, &by.name))
        .filter(|u| u.id == by.id)
}

fn caller_user<'a>(st: &'a State, caller: &Caller) -> Option<&'a User> {
    let name = caller.user_name.as_deref()?;
    st.users
        .get(&entity_key(&caller.account_id, name))
        .filter(|u| u.id == caller.user_id)
}

/// SCPs from the root down to `account_id`; `None` when none apply.
pub fn scp_chain(st: &State, account_id: &str) -> Option<Vec<Vec<NamedDocument>>> {
    let org = st.orgs.get("org")?;
    if !org.enabled_policy_types.contains("SERVICE_CONTROL_POLICY")
        || org.management_account == account_id
    {
        return None;
    }
    let account = st.accounts.get(account_id)?;
    let mut targets = vec![account_id.to_string()];
    let mut parent = account.parent_id.clone()?;
    loop {
        targets.push(parent.clone());
        match st.ous.get(&parent) {
            Some(ou) => parent = ou.parent_id.clone(),
            None => break,
        }
        if targets.len() > 10 {
            break;
        }
    }
    targets.reverse();
    let levels = targets
        .iter()
        .map(|target| {
            let mut docs: Vec<NamedDocument> = st
                .org_policies
                .values()
                .filter(|p| p.policy_type == "SERVICE_CONTROL_POLICY" && p.targets.contains(target))
                .map(|p| NamedDocument {
                    name: arns::org_policy(&org.management_account, &org.id, &p.id, p.aws_managed),
                    document: p.content.clone(),
                })
                .collect();
            docs.sort_by(|a, b| a.name.cmp(&b.name));
            docs
        })
        .collect();
    Some(levels)
}

/// `aws:PrincipalOrgPaths` of an account: `o-x/r-y/ou-a/ou-b/` (root down to its parent).
pub fn org_path_of(st: &State, account_id: &str) -> Option<String> {
    let org = st.orgs.get("org")?;
    let mut parent = st.accounts.get(account_id)?.parent_id.clone()?;
    let mut chain = vec![parent.clone()];
    while let Some(ou) = st.ous.get(&parent) {
        parent = ou.parent_id.clone();
        chain.push(parent.clone());
        if chain.len() > 10 {
            break;
        }
    }
    chain.reverse();
    Some(format!("{}/{}/", org.id, chain.join("/")))
}

/// The organization id of an account that belongs to the organization.
pub fn org_id_of(st: &State, account_id: &str) -> Option<String> {
    let org = st.orgs.get("org")?;
    let account = st.accounts.get(account_id)?;
    (account.parent_id.is_some() || org.management_account == account_id).then(|| org.id.clone())
}

impl Identity {
    /// Resolves a request's access key (and session token) to its secret and caller.
    pub fn lookup_key(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<KeyLookup, IdentityError> {
        let st = self.store.snapshot();
        let session_token = session_token.filter(|t| !t.is_empty());
        if let Some(key) = st.keys.get(access_key_id) {
            // S3 answers InvalidAccessKeyId for an inactive key as for an unknown one.
            if !key.active {
                return Err(IdentityError::InvalidAccessKeyId(UNKNOWN_KEY.to_string()));
            }
            if session_token.is_some() {
                return Err(IdentityError::InvalidToken(BAD_TOKEN.to_string()));
            }
            let caller = match &key.user {
                None => Caller::root(&key.account_id, Some(key.id.clone())),
                Some(name) => {
                    let user = st
                        .users
                        .get(&entity_key(&key.account_id, name))
                        .ok_or_else(|| {
                            IdentityError::InvalidAccessKeyId(UNKNOWN_KEY.to_string())
                        })?;
                    user_caller(user, Some(key.id.clone()))
                }
            };
            return Ok(KeyLookup {
                secret: key.secret.clone(),
                caller,
            });
        }
        let Some(session) = self.store.session(access_key_id) else {
            return Err(IdentityError::InvalidAccessKeyId(UNKNOWN_KEY.to_string()));
        };
        let Some(token) = session_token else {
            return Err(IdentityError::InvalidAccessKeyId(UNKNOWN_KEY.to_string()));
        };
        if !strongbox_core::constant_time_eq(token.as_bytes(), session.token.as_bytes()) {
            return Err(IdentityError::InvalidToken(BAD_TOKEN.to_string()));
        }
        if now >= session.expires {
            return Err(IdentityError::ExpiredToken(EXPIRED.to_string()));
        }
        let mut caller = match &session.kind {
            SessionKind::Root => {
                Caller::root(&session.account_id, Some(session.access_key_id.clone()))
            }
            SessionKind::User { user_name, user_id } => {
                // By name first; a renamed user is found by its unique id.
                let by_name = st
                    .users
                    .get(&entity_key(&session.account_id, user_name))
                    .filter(|u| &u.id == user_id);
                match by_name.or_else(|| st.users.values().find(|u| &u.id == user_id)) {
                    Some(user) => user_caller(user, Some(session.access_key_id.clone())),
                    None => return Err(IdentityError::InvalidToken(BAD_TOKEN.to_string())),
                }
            }
            SessionKind::Federated {
                name,
                user_name,
                user_id,
            } => {
                // The federating user's tags, overridden by session tags with
                // the same key (IAM User Guide, "Passing session tags in AWS STS").
                let (federated_by, mut tags) = match (user_name, user_id) {
                    (Some(user_name), Some(user_id)) => {
                        let user = st
                            .users
                            .get(&entity_key(&session.account_id, user_name))
                            .filter(|u| &u.id == user_id)
                            .or_else(|| st.users.values().find(|u| &u.id == user_id))
                            .ok_or_else(|| IdentityError::InvalidToken(BAD_TOKEN.to_string()))?;
                        let tags: BTreeMap<String, String> = user
                            .tags
                            .iter()
                            .map(|t| (t.key.clone(), t.value.clone()))
                            .collect();
                        let by = FederatingUser {
                            arn: arns::user(&user.account_id, &user.path, &user.name),
                            name: user.name.clone(),
                            id: user.id.clone(),
                        };
                        (Some(by), tags)
                    }
                    _ => (None, BTreeMap::new()),
                };
                for (k, v) in &session.tags {
                    tags.insert(k.clone(), v.clone());
                }
                let arn = arns::federated_user(&session.account_id, name);
                Caller {
                    kind: CallerKind::FederatedUser,
                    account_id: session.account_id.clone(),
                    arn: arn.clone(),
                    principal_arn: arn,
                    // aws:userid of a federated user is `account:name`.
                    user_id: format!("{}:{name}", session.account_id),
                    user_name: None,
                    role_arn: None,
                    federated_by,
                    session_name: None,
                    access_key_id: Some(session.access_key_id.clone()),
                    tags,
                    session_policies: None,
                    token_issue_time: None,
                    mfa: false,
                }
            }
            SessionKind::Role {
                role_arn,
                role_id,
                role_name,
                session_name,
            } => {
                let mut tags: BTreeMap<String, String> = st
                    .roles
                    .get(&entity_key(&session.account_id, role_name))
                    .filter(|r| &r.id == role_id)
                    .map(|r| {
                        r.tags
                            .iter()
                            .map(|t| (t.key.clone(), t.value.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                for (k, v) in &session.tags {
                    tags.insert(k.clone(), v.clone());
                }
                Caller {
                    kind: CallerKind::AssumedRole,
                    account_id: session.account_id.clone(),
                    arn: arns::assumed_role(&session.account_id, role_name, session_name),
                    principal_arn: role_arn.clone(),
                    user_id: format!("{role_id}:{session_name}"),
                    user_name: None,
                    role_arn: Some(role_arn.clone()),
                    federated_by: None,
                    session_name: Some(session_name.clone()),
                    access_key_id: Some(session.access_key_id.clone()),
                    tags,
                    session_policies: None,
                    token_issue_time: None,
                    mfa: false,
                }
            }
        };
        caller.token_issue_time = Some(session.issued);
        caller.session_policies = session.session_policies.as_ref().map(|list| {
            Arc::new(
                list.iter()
                    .map(|(name, document)| NamedDocument {
                        name: name.clone(),
                        document: document.clone(),
                    })
                    .collect(),
            )
        });
        Ok(KeyLookup {
            secret: session.secret.clone(),
            caller,
        })
    }

    /// Identity policies, boundary, SCP chain and organization of the caller.
    pub fn policies_for(&self, caller: &Caller) -> CallerPolicies {
        let st = self.store.snapshot();
        let mut out = CallerPolicies {
            generation: st.generation,
            ..CallerPolicies::default()
        };
        match caller.kind {
            CallerKind::User => {
                if let Some(user) = caller_user(&st, caller) {
                    add_user_perms(&st, user, &mut out);
                }
            }
            CallerKind::AssumedRole => {
                if let Some(role) = caller_role(&st, caller) {
                    add_perms(
                        &st,
                        &format!("role/{}", role.name),
                        &role.perms,
                        &mut out.identity,
                    );
                    out.boundary = boundary_doc(&st, role.boundary.as_ref());
                }
            }
            CallerKind::FederatedUser => {
                // The federating user's policies and boundary; the session
                // policy (always present) limits them.
                if let Some(user) = federating_user(&st, caller) {
                    add_user_perms(&st, user, &mut out);
                }
            }
            CallerKind::Root | CallerKind::Anonymous => {}
        }
        if !caller.account_id.is_empty() {
            out.scps = scp_chain(&st, &caller.account_id);
            out.org_id = org_id_of(&st, &caller.account_id);
            out.org_path = org_path_of(&st, &caller.account_id);
        }
        out
    }

    /// The number of the current identity snapshot: it changes with every
    /// change to users, groups, roles, policies, accounts or the organization,
    /// so what [`Identity::policies_for`] answered is still right while it is
    /// the same as the answer's `generation`.
    pub fn generation(&self) -> u64 {
        self.store.snapshot().generation
    }

    /// Whether a principal named in a policy exists: an account id, an
    /// account's root, an IAM user or role, or a role session of an existing role.
    pub fn principal_exists(&self, arn: &str) -> bool {
        let st = self.store.snapshot();
        if arn.len() == 12 && arn.chars().all(|c| c.is_ascii_digit()) {
            return st.accounts.contains_key(arn);
        }
        if let Some(account) = arn
            .strip_prefix("arn:aws:iam::")
            .and_then(|r| r.strip_suffix(":root"))
        {
            return st.accounts.contains_key(account);
        }
        if let Some(rest) = arn.strip_prefix("arn:aws:sts::") {
            let Some((account, resource)) = rest.split_once(':') else {
                return false;
            };
            let mut parts = resource.split('/');
            return match (parts.next(), parts.next()) {
                (Some("assumed-role"), Some(role)) => {
                    st.roles.contains_key(&entity_key(account, role))
                }
                // Federated users are not stored entities: any name of an
                // existing account may be named.
                (Some("federated-user"), Some(name)) if !name.is_empty() => {
                    st.accounts.contains_key(account)
                }
                _ => false,
            };
        }
        let Some((account, kind, path, name)) = arns::parse_iam(arn) else {
            return false;
        };
        match kind {
            "user" => st
                .users
                .get(&entity_key(account, name))
                .is_some_and(|u| u.path == path && u.name == name),
            "role" => st
                .roles
                .get(&entity_key(account, name))
                .is_some_and(|r| r.path == path && r.name == name),
            _ => false,
        }
    }

    pub fn account_exists(&self, account_id: &str) -> bool {
        self.store.snapshot().accounts.contains_key(account_id)
    }

    /// The S3 canonical user id of an account (64 hex characters).
    pub fn canonical_user_id(&self, account_id: &str) -> Option<String> {
        self.store
            .snapshot()
            .accounts
            .get(account_id)
            .map(|a| a.canonical_id.clone())
    }

    pub fn account_for_canonical_id(&self, id: &str) -> Option<String> {
        let st = self.store.snapshot();
        st.accounts
            .values()
            .find(|a| a.canonical_id.eq_ignore_ascii_case(id))
            .map(|a| a.id.clone())
    }

    /// `aws:PrincipalOrgID` of an account.
    pub fn org_id_for_account(&self, account_id: &str) -> Option<String> {
        org_id_of(&self.store.snapshot(), account_id)
    }
}
