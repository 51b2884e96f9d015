//! Who is asking, and the `Principal` / `NotPrincipal` element that names them.
//!
//! IAM User Guide, "AWS JSON policy elements: Principal": an account
//! principal (`123456789012` or `arn:aws:iam::123456789012:root`) stands for
//! the account and every principal in it; a role ARN covers the role's
//! sessions; an assumed-role session ARN names one session; `"*"` and
//! `{"AWS": "*"}` name everyone, anonymous callers included.
//! "AWS JSON policy elements: NotPrincipal": AWS checks the account, then the
//! user (or the role, then the session); every one of them must be listed for
//! the caller to be spared by a Deny. With Allow, the statement covers the
//! identities that are not listed: an unlisted account alone only delegates to
//! the account.

use serde::Serialize;

/// The authenticated (or anonymous) caller of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Principal {
    /// An unsigned request.
    Anonymous,
    /// The root user of `account`.
    Root { account: String },
    /// An IAM user.
    User { arn: String, account: String },
    /// A role session (`arn:aws:sts::A:assumed-role/ROLE/SESSION`).
    AssumedRole {
        session_arn: String,
        role_arn: String,
        account: String,
    },
    /// A federated user session from `GetFederationToken`
    /// (`arn:aws:sts::A:federated-user/NAME`). `user_arn` is the IAM user
    /// that federated, `None` when the account's root user did.
    FederatedUser {
        arn: String,
        user_arn: Option<String>,
        account: String,
    },
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service { name: String },
}

impl Principal {
    /// Reads a principal from its ARN (`arn:aws:iam::A:user/N`,
    /// `arn:aws:iam::A:root`, `arn:aws:sts::A:assumed-role/R/S` with the role
    /// ARN, `arn:aws:sts::A:federated-user/N` with the federating user's ARN,
    /// `anonymous`, or a service name ending in `.amazonaws.com`).
    pub fn from_arn(arn: &str, role_arn: Option<&str>) -> Option<Principal> {
        if arn == "anonymous" || arn == "*" {
            return Some(Principal::Anonymous);
        }
        if arn.ends_with(".amazonaws.com") && !arn.starts_with("arn:") {
            return Some(Principal::Service {
                name: arn.to_string(),
            });
        }
        let mut parts = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(_partition),
            Some(service),
            Some(_region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        if !is_account_id(account) {
            return None;
        }
        let account = account.to_string();
        match service {
            "iam" if resource == "root" => Some(Principal::Root { account }),
            "iam" if resource.starts_with("user/") => Some(Principal::User {
                arn: arn.to_string(),
                account,
            }),
            "sts" if resource.starts_with("assumed-role/") => {
                let role_arn = match role_arn {
                    Some(r) => r.to_string(),
                    None => {
                        let role = resource
                            .trim_start_matches("assumed-role/")
                            .split('/')
                            .next()
                            .unwrap_or("");
                        format!("arn:aws:iam::{account}:role/{role}")
                    }
                };
                Some(Principal::AssumedRole {
                    session_arn: arn.to_string(),
                    role_arn,
                    account,
                })
            }
            "sts" if resource.starts_with("federated-user/") => Some(Principal::FederatedUser {
                arn: arn.to_string(),
                user_arn: role_arn.map(str::to_string),
                account,
            }),
            _ => None,
        }
    }

    /// The caller's ARN as AWS prints it in messages (`anonymous` when unsigned).
    pub fn arn(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".to_string(),
            Principal::Root { account } => format!("arn:aws:iam::{account}:root"),
            Principal::User { arn, .. } => arn.clone(),
            Principal::AssumedRole { session_arn, .. } => session_arn.clone(),
            Principal::FederatedUser { arn, .. } => arn.clone(),
            Principal::Service { name } => name.clone(),
        }
    }

    /// The caller's account; `None` for anonymous callers and services.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Root { account }
            | Principal::User { account, .. }
            | Principal::AssumedRole { account, .. }
            | Principal::FederatedUser { account, .. } => Some(account),
            Principal::Anonymous | Principal::Service { .. } => None,
        }
    }

    /// `aws:PrincipalArn`: the user ARN, the role ARN for a role session, the
    /// federated-user ARN for a federated session, the root ARN.
    /// Root ARNs are not stored, so for the root user this is `None` here and
    /// [`Principal::principal_arn_owned`] builds it.
    pub(crate) fn principal_arn(&self) -> Option<&str> {
        match self {
            Principal::User { arn, .. } => Some(arn),
            Principal::AssumedRole { role_arn, .. } => Some(role_arn),
            Principal::FederatedUser { arn, .. } => Some(arn),
            _ => None,
        }
    }

    /// `aws:PrincipalArn` for every kind of principal.
    pub fn principal_arn_owned(&self) -> Option<String> {
        match self {
            Principal::Root { account } => Some(format!("arn:aws:iam::{account}:root")),
            other => other.principal_arn().map(str::to_string),
        }
    }

    /// `aws:username`: the last path segment of an IAM user's ARN.
    pub(crate) fn user_name(&self) -> Option<&str> {
        match self {
            Principal::User { arn, .. } => arn.rsplit('/').next(),
            _ => None,
        }
    }

    /// Whether this is an IAM identity that can carry a permissions boundary
    /// (a federated session carries its user's).
    pub(crate) fn is_iam_entity(&self) -> bool {
        matches!(
            self,
            Principal::User { .. }
                | Principal::AssumedRole { .. }
                | Principal::FederatedUser {
                    user_arn: Some(_),
                    ..
                }
        )
    }

    /// Whether the caller has the root user's identity-side permissions: the
    /// root user itself, or a session the root user federated (which its
    /// session policy then limits).
    pub(crate) fn has_root_identity(&self) -> bool {
        matches!(
            self,
            Principal::Root { .. } | Principal::FederatedUser { user_arn: None, .. }
        )
    }
}

/// Whether `s` is a 12-digit account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// One value of a `Principal` element, classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`.
    Everyone,
    /// An account id or `arn:aws:iam::A:root`.
    Account(String),
    /// `arn:aws:iam::A:user/...`.
    User(String),
    /// `arn:aws:iam::A:role/...`.
    Role(String),
    /// `arn:aws:sts::A:assumed-role/R/S`.
    Session(String),
    /// `arn:aws:sts::A:federated-user/N`.
    FederatedUser(String),
    /// `{"Service": "..."}`.
    Service(String),
    /// Anything else (`CanonicalUser`, `Federated`…): matched as text, never by our principals.
    Other(String),
}

/// How a resource-policy statement's principal covers the caller; the order
/// matters: a direct grant beats a role grant, which beats an account grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Names the account: only delegates to the account's own IAM policies.
    Account,
    /// Names the role behind the session (or the IAM user behind a federated
    /// session): limited by boundary and session policy.
    Role,
    /// Names the caller itself (user ARN, session ARN, federated-user ARN, `*`, service).
    Direct,
}

/// A compiled `Principal` or `NotPrincipal` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrincipalSpec {
    pub(crate) negated: bool,
    pub(crate) entries: Vec<PrincipalEntry>,
}

impl PrincipalSpec {
    /// The strongest way a positive `Principal` covers `p`, if at all.
    pub(crate) fn grant_for(&self, p: &Principal) -> Option<Grant> {
        let mut best = None;
        for e in &self.entries {
            let g = match (e, p) {
                (PrincipalEntry::Everyone, _) => Some(Grant::Direct),
                (PrincipalEntry::Account(a), _) if p.account() == Some(a.as_str()) => {
                    Some(Grant::Account)
                }
                (PrincipalEntry::User(x), Principal::User { arn, .. }) if x == arn => {
                    Some(Grant::Direct)
                }
                (PrincipalEntry::Role(x), Principal::AssumedRole { role_arn, .. })
                    if x == role_arn =>
                {
                    Some(Grant::Role)
                }
                (PrincipalEntry::Session(x), Principal::AssumedRole { session_arn, .. })
                    if x == session_arn =>
                {
                    Some(Grant::Direct)
                }
                (PrincipalEntry::FederatedUser(x), Principal::FederatedUser { arn, .. })
                    if x == arn =>
                {
                    Some(Grant::Direct)
                }
                // The user that federated: its grant reaches the session
                // through the session policy ("Session policies", IAM User Guide).
                (
                    PrincipalEntry::User(x),
                    Principal::FederatedUser {
                        user_arn: Some(u), ..
                    },
                ) if x == u => Some(Grant::Role),
                (PrincipalEntry::Service(x), Principal::Service { name })
                    if x.eq_ignore_ascii_case(name) =>
                {
                    Some(Grant::Direct)
                }
                _ => None,
            };
            if g > best {
                best = g;
            }
        }
        best
    }

    /// How a `NotPrincipal` covers `p`: through the strongest identity of the
    /// caller's chain it does not list. The chain is the account, then the user
    /// (or the role, then the session; or the federated user); AWS checks each
    /// ("AWS JSON policy elements: NotPrincipal"). An unlisted session, user or
    /// federated user is covered directly, an unlisted role as a role grant, and
    /// an unlisted account only by delegation to the account. `None` when the
    /// whole chain is listed.
    pub(crate) fn unlisted_grant(&self, p: &Principal) -> Option<Grant> {
        let has = |pred: &dyn Fn(&PrincipalEntry) -> bool| self.entries.iter().any(pred);
        if has(&|e| *e == PrincipalEntry::Everyone) {
            return None;
        }
        let unlisted_account = |a: &str| {
            (!has(&|e| matches!(e, PrincipalEntry::Account(x) if x == a))).then_some(Grant::Account)
        };
        let unlisted =
            |grant: Grant, pred: &dyn Fn(&PrincipalEntry) -> bool| (!has(pred)).then_some(grant);
        match p {
            Principal::Anonymous => Some(Grant::Direct),
            Principal::Root { account } => unlisted_account(account),
            Principal::User { arn, account } => unlisted(
                Grant::Direct,
                &|e| matches!(e, PrincipalEntry::User(x) if x == arn),
            )
            .or_else(|| unlisted_account(account)),
            Principal::AssumedRole {
                session_arn,
                role_arn,
                account,
            } => unlisted(
                Grant::Direct,
                &|e| matches!(e, PrincipalEntry::Session(x) if x == session_arn),
            )
            .or_else(|| {
                unlisted(
                    Grant::Role,
                    &|e| matches!(e, PrincipalEntry::Role(x) if x == role_arn),
                )
            })
            .or_else(|| unlisted_account(account)),
            Principal::FederatedUser { arn, account, .. } => unlisted(
                Grant::Direct,
                &|e| matches!(e, PrincipalEntry::FederatedUser(x) if x == arn),
            )
            .or_else(|| unlisted_account(account)),
            Principal::Service { name } => unlisted(
                Grant::Direct,
                &|e| matches!(e, PrincipalEntry::Service(x) if x.eq_ignore_ascii_case(name)),
            ),
        }
    }
}

/// Why an `AWS` principal value is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidPrincipal;

/// Classifies one value of the `AWS` key.
pub(crate) fn classify_aws(value: &str) -> Result<PrincipalEntry, InvalidPrincipal> {
    if value == "*" {
        return Ok(PrincipalEntry::Everyone);
    }
    if is_account_id(value) {
        return Ok(PrincipalEntry::Account(value.to_string()));
    }
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(InvalidPrincipal);
    };
    if !partition.starts_with("aws")
        || !is_account_id(account)
        || value.contains('*')
        || value.contains('?')
    {
        return Err(InvalidPrincipal);
    }
    let named = |prefix: &str| {
        resource
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.ends_with('/'))
    };
    match service {
        "iam" if resource == "root" => Ok(PrincipalEntry::Account(account.to_string())),
        "iam" if named("user/") => Ok(PrincipalEntry::User(value.to_string())),
        "iam" if named("role/") => Ok(PrincipalEntry::Role(value.to_string())),
        "sts" if named("assumed-role/") && resource.matches('/').count() == 2 => {
            Ok(PrincipalEntry::Session(value.to_string()))
        }
        "sts" if named("federated-user/") && resource.matches('/').count() == 1 => {
            Ok(PrincipalEntry::FederatedUser(value.to_string()))
        }
        _ => Err(InvalidPrincipal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Principal {
        Principal::from_arn("arn:aws:iam::111122223333:user/alice", None).unwrap()
    }
    fn session() -> Principal {
        Principal::from_arn(
            "arn:aws:sts::111122223333:assumed-role/app/s1",
            Some("arn:aws:iam::111122223333:role/app"),
        )
        .unwrap()
    }

    #[test]
    fn from_arn_forms() {
        assert_eq!(
            Principal::from_arn("anonymous", None),
            Some(Principal::Anonymous)
        );
        assert_eq!(
            Principal::from_arn("arn:aws:iam::111122223333:root", None),
            Some(Principal::Root {
                account: "111122223333".into()
            })
        );
        assert_eq!(alice().user_name(), Some("alice"));
        assert_eq!(
            session().principal_arn(),
            Some("arn:aws:iam::111122223333:role/app")
        );
        assert!(Principal::from_arn("arn:aws:iam::1:user/x", None).is_none());
    }

    #[test]
    fn classify() {
        assert_eq!(classify_aws("*"), Ok(PrincipalEntry::Everyone));
        assert_eq!(
            classify_aws("111122223333"),
            Ok(PrincipalEntry::Account("111122223333".into()))
        );
        assert_eq!(
            classify_aws("arn:aws:iam::111122223333:root"),
            Ok(PrincipalEntry::Account("111122223333".into()))
        );
        assert!(matches!(
            classify_aws("arn:aws:iam::111122223333:role/a/b"),
            Ok(PrincipalEntry::Role(_))
        ));
        assert!(classify_aws("arn:aws:iam::111122223333:group/g").is_err());
        assert!(classify_aws("arn:aws:iam::*:root").is_err());
        assert!(classify_aws("bob").is_err());
    }

    #[test]
    fn grants_rank() {
        let spec = PrincipalSpec {
            negated: false,
            entries: vec![
                PrincipalEntry::Account("111122223333".into()),
                PrincipalEntry::Role("arn:aws:iam::111122223333:role/app".into()),
            ],
        };
        assert_eq!(spec.grant_for(&session()), Some(Grant::Role));
        assert_eq!(spec.grant_for(&alice()), Some(Grant::Account));
        assert_eq!(spec.grant_for(&Principal::Anonymous), None);
    }

    #[test]
    fn not_principal_chain() {
        let spec = PrincipalSpec {
            negated: true,
            entries: vec![
                PrincipalEntry::User("arn:aws:iam::111122223333:user/alice".into()),
                PrincipalEntry::Account("111122223333".into()),
            ],
        };
        assert_eq!(spec.unlisted_grant(&alice()), None);
        assert_eq!(spec.unlisted_grant(&session()), Some(Grant::Direct));
        let root = Principal::Root {
            account: "111122223333".into(),
        };
        assert_eq!(spec.unlisted_grant(&root), None);
    }

    /// "AWS JSON policy elements: NotPrincipal": with Allow, the statement covers
    /// the identities of the caller's chain that are not listed, the strongest first.
    #[test]
    fn not_principal_allow_covers_unlisted_identities() {
        let not = |entries: Vec<PrincipalEntry>| PrincipalSpec {
            negated: true,
            entries,
        };
        let user = || PrincipalEntry::User("arn:aws:iam::111122223333:user/alice".into());
        let account = || PrincipalEntry::Account("111122223333".into());
        let role = || PrincipalEntry::Role("arn:aws:iam::111122223333:role/app".into());
        let sess =
            || PrincipalEntry::Session("arn:aws:sts::111122223333:assumed-role/app/s1".into());
        assert_eq!(
            not(vec![user()]).unlisted_grant(&alice()),
            Some(Grant::Account)
        );
        assert_eq!(
            not(vec![account()]).unlisted_grant(&alice()),
            Some(Grant::Direct)
        );
        assert_eq!(
            not(vec![sess()]).unlisted_grant(&session()),
            Some(Grant::Role)
        );
        assert_eq!(
            not(vec![sess(), role()]).unlisted_grant(&session()),
            Some(Grant::Account)
        );
        assert_eq!(
            not(vec![sess(), role(), account()]).unlisted_grant(&session()),
            None
        );
        assert_eq!(
            not(vec![account()]).unlisted_grant(&Principal::Anonymous),
            Some(Grant::Direct)
        );
        assert_eq!(
            not(vec![PrincipalEntry::Everyone]).unlisted_grant(&Principal::Anonymous),
            None
        );
    }
}
