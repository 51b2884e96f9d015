//! strongbox-identity: accounts, IAM, STS and Organizations.
//!
//! Resolves who signed a request ([`Identity::lookup_key`]), gathers the
//! caller-side policies ([`Identity::policies_for`]), and serves the IAM and
//! STS Query APIs and the Organizations JSON API. State lives in the metadata
//! database and is read through an in-memory snapshot updated on every write.
//!
//! Supported operations:
//! - IAM: Create/Get/List/Update/Delete User, Tag/Untag/ListUserTags,
//!   Create/List/Update/Delete AccessKey, GetAccessKeyLastUsed,
//!   Create/Get/List/Delete Group, Add/RemoveUserFromGroup, ListGroupsForUser,
//!   Create/Get/List/Update/Delete Role, UpdateAssumeRolePolicy, Tag/Untag/ListRoleTags,
//!   Put/Get/List/Delete {User,Group,Role}Policy, Attach/Detach/ListAttached{User,Group,Role}Policies,
//!   Put/Delete {User,Role}PermissionsBoundary, Create/Get/List/Delete Policy,
//!   Create/Get/List/Delete PolicyVersion, SetDefaultPolicyVersion, ListEntitiesForPolicy,
//!   Tag/Untag/ListPolicyTags, GetAccountSummary, ListAccountAliases, ListMFADevices,
//!   Enable/Disable OrganizationsRootCredentialsManagement and OrganizationsRootSessions,
//!   ListOrganizationsFeatures, SimulatePrincipalPolicy, SimulateCustomPolicy,
//!   GetContextKeysForPrincipalPolicy, GetContextKeysForCustomPolicy,
//!   GetAccountAuthorizationDetails.
//! - STS: GetCallerIdentity, AssumeRole, GetSessionToken, GetFederationToken, AssumeRoot, GetAccessKeyInfo.
//! - Organizations: Create/Describe/Delete Organization, ListRoots,
//!   Create/Describe/Delete OrganizationalUnit, ListOrganizationalUnitsForParent,
//!   CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus, ListAccounts,
//!   ListAccountsForParent, DescribeAccount, MoveAccount, RemoveAccountFromOrganization,
//!   ListParents, ListChildren,
//!   Enable/DisablePolicyType, Create/Update/Describe/Delete/List Policy (SCPs),
//!   Attach/DetachPolicy, ListPoliciesForTarget, ListTargetsForPolicy,
//!   Enable/DisableAWSServiceAccess, ListAWSServiceAccessForOrganization,
//!   Tag/UntagResource, ListTagsForResource (Tags on CreateAccount/OU/Policy).

mod arns;
pub mod error;
mod iam;
mod ids;
mod managed;
mod model;
mod orgs;
mod query;
mod resolve;
mod sealed;
pub mod simulation;
mod store;
mod sts;
mod validate;

use std::sync::Arc;

use strongbox_core::caller::NamedDocument;
use strongbox_core::db::Db;
use strongbox_core::sealing::MasterKey;
use strongbox_core::{AwsError, Caller};

pub use error::IdentityError;

use crate::model::{AccessKey, Account, Settings};
use crate::store::Store;

/// The root access key the server was configured with.
#[derive(Clone, Debug)]
pub struct RootKey {
    pub access_key_id: String,
    pub secret: String,
}

/// An access key resolved to its secret (to verify the signature) and principal.
#[derive(Clone, Debug)]
pub struct KeyLookup {
    pub secret: String,
    pub caller: Caller,
}

/// The caller-side policies the policy engine evaluates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallerPolicies {
    /// Inline and attached policies of the user (and its groups) or role.
    pub identity: Vec<NamedDocument>,
    /// The permissions boundary of the user or role.
    pub boundary: Option<NamedDocument>,
    /// SCPs per level: root, each OU from the root down, the account.
    /// `None` for the management account, accounts outside an organization,
    /// or when SCPs are not enabled.
    pub scps: Option<Vec<Vec<NamedDocument>>>,
    /// `aws:PrincipalOrgID`.
    pub org_id: Option<String>,
    /// `aws:PrincipalOrgPaths`: `o-…/r-…/ou-…/…/` down to the account's parent.
    pub org_path: Option<String>,
    /// The snapshot these were read from (see [`Identity::generation`]).
    pub generation: u64,
}

/// One account, for the operator CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: String,
    pub name: String,
    pub email: String,
    pub management: bool,
    pub canonical_user_id: String,
    pub root_access_key_ids: Vec<String>,
    pub organization_id: Option<String>,
}

/// A rendered IAM or STS response (XML).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// A rendered Organizations response (JSON 1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// XML namespace of IAM responses.
pub const IAM_NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// XML namespace of STS responses.
pub const STS_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An error in the Query protocol's envelope (for the server's authentication
/// failures on IAM/STS; `namespace` is [`IAM_NAMESPACE`] or [`STS_NAMESPACE`]).
pub fn query_error_reply(namespace: &str, err: &IdentityError, request_id: &str) -> IamReply {
    IamReply {
        status: err.status(),
        content_type: "text/xml",
        body: query::error_body(
            namespace,
            err.status(),
            err.query_code(),
            &err.query_message(),
            request_id,
        ),
    }
}

/// An error in the JSON 1.1 envelope: `{"__type": …, "Message": …}`.
pub fn json_error_reply(err: &IdentityError) -> JsonReply {
    let body = serde_json::json!({ "__type": err.code(), "Message": err.message() });
    JsonReply {
        status: err.status(),
        content_type: "application/x-amz-json-1.1",
        body: body.to_string(),
    }
}

/// The identity service.
pub struct Identity {
    store: Store,
    region: String,
}

impl Identity {
    /// Opens the store. On first start creates the management account (a new
    /// 12-digit id, persisted) whose root user gets `root_key`. On later starts
    /// `root_key` is (re)installed as a root key of the management account, so
    /// the configured credentials always work. Secrets are stored wrapped by
    /// `master` (the server's master key); rows that hold them in clear are
    /// sealed on open.
    pub fn open(
        db: Arc<Db>,
        region: &str,
        root_key: RootKey,
        master: &MasterKey,
    ) -> Result<Identity, IdentityError> {
        let store = Store::open(db, sealed::SecretSealer::new(master)?)?;
        let identity = Identity {
            store,
            region: region.to_string(),
        };
        identity.store.write(|txn| {
            let now = jiff::Timestamp::now();
            let management = match txn.get::<Settings>("settings") {
                Some(s) => s.management_account_id.clone(),
                None => {
                    let id = strongbox_core::ids::account_id();
                    txn.put(Account {
                        id: id.clone(),
                        name: "management".to_string(),
                        email: format!("root@{id}.strongbox.invalid"),
                        canonical_id: ids::canonical_user_id(),
                        created: now,
                        management: true,
                        parent_id: None,
                        joined_method: "CREATED".to_string(),
                        joined: now,
                    });
                    txn.put(Settings {
                        management_account_id: id.clone(),
                    });
                    tracing::info!(account = %id, "created the management account");
                    id
                }
            };
            match txn.get_mut::<AccessKey>(&root_key.access_key_id) {
                Some(existing) if existing.account_id == management && existing.user.is_none() => {
                    existing.secret = root_key.secret.clone();
                    existing.active = true;
                }
                Some(_) => {
                    return Err(IdentityError::ServiceFailure(
                        "the configured root access key id belongs to another principal"
                            .to_string(),
                    ))
                }
                None => txn.put(AccessKey {
                    id: root_key.access_key_id.clone(),
                    secret: root_key.secret.clone(),
                    account_id: management.clone(),
                    user: None,
                    active: true,
                    created: now,
                }),
            }
            Ok(())
        })?;
        Ok(identity)
    }

    /// The region this service answers for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The management account's id.
    pub fn management_account_id(&self) -> String {
        let st = self.store.snapshot();
        st.settings
            .get("settings")
            .map(|s| s.management_account_id.clone())
            .unwrap_or_default()
    }

    /// Every account, management first.
    pub fn list_accounts(&self) -> Vec<AccountSummary> {
        let st = self.store.snapshot();
        let org_id = st.orgs.get("org").map(|o| o.id.clone());
        let mut out: Vec<AccountSummary> = st
            .accounts
            .values()
            .map(|a| AccountSummary {
                id: a.id.clone(),
                name: a.name.clone(),
                email: a.email.clone(),
                management: a.management,
                canonical_user_id: a.canonical_id.clone(),
                root_access_key_ids: st
                    .keys
                    .values()
                    .filter(|k| k.account_id == a.id && k.user.is_none())
                    .map(|k| k.id.clone())
                    .collect(),
                organization_id: if a.parent_id.is_some() || a.management {
                    org_id.clone()
                } else {
                    None
                },
            })
            .collect();
        out.sort_by(|a, b| b.management.cmp(&a.management).then(a.id.cmp(&b.id)));
        out
    }

    /// Replaces every root access key of `account_id` by a new one; returns
    /// `(access_key_id, secret)`.
    pub fn reset_root_key(&self, account_id: &str) -> Result<(String, String), IdentityError> {
        self.store.write(|txn| {
            if txn.get::<Account>(account_id).is_none() {
                return Err(IdentityError::NoSuchEntity(format!(
                    "The account {account_id} does not exist."
                )));
            }
            let old: Vec<String> = txn
                .state
                .keys
                .values()
                .filter(|k| k.account_id == account_id && k.user.is_none())
                .map(|k| k.id.clone())
                .collect();
            for id in old {
                txn.remove::<AccessKey>(&id);
            }
            let key = AccessKey {
                id: strongbox_core::ids::aws_id("AKIA"),
                secret: strongbox_core::ids::secret_access_key(),
                account_id: account_id.to_string(),
                user: None,
                active: true,
                created: jiff::Timestamp::now(),
            };
            let out = (key.id.clone(), key.secret.clone());
            txn.put(key);
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
