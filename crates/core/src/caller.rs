//! The authenticated principal behind a request.

use std::collections::BTreeMap;
use std::sync::Arc;

/// What kind of principal signed the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum CallerKind {
    /// An unsigned request.
    Anonymous,
    /// The root user of an account (long-term root keys, or an `AssumeRoot` session).
    Root,
    /// An IAM user, with its own keys or a `GetSessionToken` session.
    User,
    /// A role session from `AssumeRole`.
    AssumedRole,
    /// A federated user session from `GetFederationToken`
    /// (`arn:aws:sts::A:federated-user/NAME`).
    FederatedUser,
}

/// The resolved principal of one request: everything the policy engine needs
/// to know about *who* is asking. Policies are gathered separately (they change).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Caller {
    pub kind: CallerKind,
    /// 12-digit account id; empty for anonymous callers.
    pub account_id: String,
    /// The identity ARN: `arn:aws:iam::A:user/N`, `arn:aws:sts::A:assumed-role/R/S`,
    /// `arn:aws:iam::A:root`; `anonymous` for unsigned requests.
    pub arn: String,
    /// `aws:PrincipalArn`: the role ARN for role sessions, else `arn`.
    pub principal_arn: String,
    /// `aws:userid`: `AIDA…` for users, `AROA…:session` for role sessions, the account id for root.
    pub user_id: String,
    /// `aws:username`: IAM users only.
    pub user_name: Option<String>,
    /// The role behind a role session.
    pub role_arn: Option<String>,
    /// The IAM user behind a federated user session (`None` for other
    /// callers, and for sessions the root user federated).
    pub federated_by: Option<FederatingUser>,
    pub session_name: Option<String>,
    /// The access key the request was signed with.
    pub access_key_id: Option<String>,
    /// `aws:PrincipalTag/*`: user tags, or role tags merged with session tags.
    pub tags: BTreeMap<String, String>,
    /// Session policies (JSON documents) that limit a temporary session:
    /// `Policy`/`PolicyArns` of AssumeRole, or the task policy of AssumeRoot.
    /// `None` when the credentials carry no session policy.
    pub session_policies: Option<Arc<Vec<NamedDocument>>>,
    /// When the temporary credentials were issued (`aws:TokenIssueTime`).
    pub token_issue_time: Option<jiff::Timestamp>,
    /// Whether the session was created with MFA (`aws:MultiFactorAuthPresent`).
    pub mfa: bool,
}

/// The IAM user that called `GetFederationToken`: its policies (and
/// boundary) are the identity side of the federated session.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FederatingUser {
    pub arn: String,
    pub name: String,
    /// The user's unique id (`AIDA…`), so that a user deleted and created
    /// again under the same name does not inherit the session.
    pub id: String,
}

/// A policy document with the name under which a trace shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NamedDocument {
    /// e.g. `arn:aws:iam::aws:policy/AdministratorAccess` or `user/alice/inline/p1`.
    pub name: String,
    pub document: String,
}

impl Caller {
    /// The caller of an unsigned request.
    pub fn anonymous() -> Caller {
        Caller {
            kind: CallerKind::Anonymous,
            account_id: String::new(),
            arn: "anonymous".to_string(),
            principal_arn: String::new(),
            user_id: "anonymous".to_string(),
            user_name: None,
            role_arn: None,
            federated_by: None,
            session_name: None,
            access_key_id: None,
            tags: BTreeMap::new(),
            session_policies: None,
            token_issue_time: None,
            mfa: false,
        }
    }

    /// The long-term root user of `account_id`.
    pub fn root(account_id: &str, access_key_id: Option<String>) -> Caller {
        Caller {
            kind: CallerKind::Root,
            account_id: account_id.to_string(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            principal_arn: format!("arn:aws:iam::{account_id}:root"),
            user_id: account_id.to_string(),
            user_name: None,
            role_arn: None,
            federated_by: None,
            session_name: None,
            access_key_id,
            tags: BTreeMap::new(),
            session_policies: None,
            token_issue_time: None,
            mfa: false,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.kind == CallerKind::Anonymous
    }

    pub fn is_root(&self) -> bool {
        self.kind == CallerKind::Root
    }
}
