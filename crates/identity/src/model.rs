//! The stored entities: accounts, keys, IAM users/groups/roles/policies,
//! temporary sessions and the organization. Each is one JSON row in SQLite.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An account (the management account or a member account).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// S3 canonical user id: 64 lowercase hex characters.
    pub canonical_id: String,
    pub created: Timestamp,
    pub management: bool,
    /// Parent in the organization (root or OU id); `None` when not in an organization.
    pub parent_id: Option<String>,
    /// `CREATED` or `INVITED` (the management account counts as `CREATED`).
    pub joined_method: String,
    pub joined: Timestamp,
}

/// A long-term access key of a root user (`user == None`) or an IAM user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub account_id: String,
    pub user: Option<String>,
    pub active: bool,
    pub created: Timestamp,
}

/// A tag on an IAM entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// What a user, group or role carries in the way of policies.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Perms {
    /// Inline policies by name.
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in attachment order.
    pub attached: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created: Timestamp,
    pub tags: Vec<Tag>,
    pub boundary: Option<String>,
    pub perms: Perms,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created: Timestamp,
    pub perms: Perms,
    /// Member user names, lower-cased (IAM names are case-insensitive).
    pub members: BTreeSet<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    pub account_id: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub created: Timestamp,
    pub trust_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub tags: Vec<Tag>,
    pub boundary: Option<String>,
    pub perms: Perms,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub created: Timestamp,
}

/// A customer managed policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub account_id: String,
    pub arn: String,
    pub name: String,
    pub path: String,
    pub id: String,
    pub description: Option<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    pub next_version: u32,
    pub tags: Vec<Tag>,
}

impl ManagedPolicy {
    /// The document of the default version.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .map(|v| v.document.as_str())
    }
}

/// Who a temporary session acts as.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum SessionKind {
    /// `AssumeRole`.
    Role {
        role_arn: String,
        role_id: String,
        role_name: String,
        session_name: String,
    },
    /// `GetSessionToken` of an IAM user.
    User { user_name: String, user_id: String },
    /// `GetSessionToken` of the root user, or `AssumeRoot`.
    Root,
    /// `GetFederationToken`: federated user `name`, federated by the IAM user
    /// `user_name` / `user_id`, or by the root user when those are `None`.
    Federated {
        name: String,
        user_name: Option<String>,
        user_id: Option<String>,
    },
}

/// Temporary credentials.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub account_id: String,
    pub kind: SessionKind,
    pub issued: Timestamp,
    pub expires: Timestamp,
    /// Session policies as (name, document).
    pub session_policies: Option<Vec<(String, String)>>,
    pub tags: BTreeMap<String, String>,
    /// Issued by GetSessionToken: such credentials cannot call IAM (without
    /// MFA) nor STS other than AssumeRole and GetCallerIdentity.
    #[serde(default)]
    pub from_get_session_token: bool,
    /// Tag keys passed on to sessions this session creates (role chaining).
    #[serde(default)]
    pub transitive: Vec<String>,
    pub source_identity: Option<String>,
}

/// The organization (at most one per deployment: the management account's).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
    pub management_email: String,
    pub feature_set: String,
    pub root_id: String,
    pub created: Timestamp,
    pub enabled_policy_types: BTreeSet<String>,
    /// Service principal → when trusted access was enabled.
    pub service_access: BTreeMap<String, Timestamp>,
    pub root_credentials_management: bool,
    pub root_sessions: bool,
    /// Tags of the root, OUs, accounts and policies, by their id.
    #[serde(default)]
    pub tags: BTreeMap<String, Vec<Tag>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub parent_id: String,
}

/// An Organizations policy (service control policy).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgPolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub content: String,
    pub policy_type: String,
    pub aws_managed: bool,
    /// Root, OU and account ids the policy is attached to.
    pub targets: BTreeSet<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateAccountStatus {
    pub id: String,
    pub account_name: String,
    pub state: String,
    pub requested: Timestamp,
    pub completed: Option<Timestamp>,
    pub account_id: Option<String>,
    pub failure_reason: Option<String>,
}

/// Deployment-wide settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub management_account_id: String,
}
