//! "The smallest change that would allow it": a suggestion derived from why a
//! request was denied.

use strongbox_core::{Caller, CallerKind};
use strongbox_policy::{Evaluation, Reason};

use crate::Question;

fn statement_json(caller: Option<&Caller>, action: &str, resource: &str) -> String {
    match caller {
        Some(c) => format!(
            "{{\"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"{}\"}}, \"Action\": \"{action}\", \"Resource\": \"{resource}\"}}",
            principal_for_grant(c)
        ),
        None => format!("{{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"{resource}\"}}"),
    }
}

pub(crate) fn principal_for_grant(caller: &Caller) -> String {
    match caller.kind {
        CallerKind::AssumedRole => caller
            .role_arn
            .clone()
            .unwrap_or_else(|| caller.principal_arn.clone()),
        CallerKind::Anonymous => "*".to_string(),
        _ => caller.arn.clone(),
    }
}

pub(crate) fn who(caller: &Caller) -> String {
    match caller.kind {
        CallerKind::User => format!(
            "user {}",
            caller
                .user_name
                .clone()
                .unwrap_or_else(|| caller.arn.clone())
        ),
        CallerKind::AssumedRole => format!("role {}", caller.role_arn.clone().unwrap_or_default()),
        CallerKind::Root => format!("the root user of account {}", caller.account_id),
        CallerKind::FederatedUser => match &caller.federated_by {
            Some(user) => format!("user {} (who federated {})", user.name, caller.arn),
            None => format!(
                "the root user of account {} (who federated {})",
                caller.account_id, caller.arn
            ),
        },
        CallerKind::Anonymous => "anonymous callers".to_string(),
    }
}

/// Whether `question` is about an AWS managed KMS key (`alias/aws/…`).
fn is_aws_managed_key(question: &Question<'_>) -> bool {
    question.action.starts_with("kms:")
        && question.context.iter().any(|e| {
            e.key == "kms:ResourceAliases" && e.values.iter().any(|a| a.starts_with("alias/aws/"))
        })
}

/// A suggestion for a denied `question`.
pub fn suggest(caller: &Caller, question: &Question<'_>, evaluation: &Evaluation) -> String {
    let action = question.action;
    let resource = question.resource;
    let deciding = evaluation
        .deciding
        .as_ref()
        .map(|d| {
            format!(
                "statement {} of {}",
                crate::statement_label(d),
                d.policy_name
            )
        })
        .unwrap_or_else(|| "the denying statement".to_string());
    let resource_policy = question
        .resource_policies
        .first()
        .map(|r| r.label.clone())
        .unwrap_or_else(|| "the resource-based policy".to_string());
    // Nothing that could carry a resource-based policy (ListAllMyBuckets, CreateBucket…).
    if caller.kind == CallerKind::Anonymous
        && question.resource_policies.is_empty()
        && question.editable.is_none()
        && evaluation.reason != Reason::Allowed
    {
        return format!(
            "Sign the request: anonymous callers can be granted access only by a resource-based policy, and {action} on {resource} has none; send it with the credentials of a principal allowed {action} (aws configure, or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; not --no-sign-request)."
        );
    }
    match evaluation.reason {
        Reason::Allowed => String::new(),
        Reason::ExplicitDenyScp => format!(
            "Remove or narrow {deciding} (a service control policy) so that it no longer applies to {action} on {resource}; SCPs are managed from the organization's management account."
        ),
        Reason::ExplicitDenyResourcePolicy => format!(
            "Remove or narrow {deciding} so that it no longer matches this request (check its conditions against the request context above)."
        ),
        Reason::ExplicitDenyIdentityPolicy => {
            format!("Remove or narrow {deciding} in the identity-based policies of {}.", who(caller))
        }
        Reason::ExplicitDenyPermissionsBoundary => {
            format!("Remove or narrow {deciding} in the permissions boundary of {}.", who(caller))
        }
        Reason::ExplicitDenySessionPolicy => {
            format!("Start a new session without {deciding} in its session policy.")
        }
        Reason::NoAllowScp => format!(
            "Attach to every level of the organization above account {} (root, each OU, the account) an SCP that allows {action}, e.g. {}.",
            caller.account_id,
            statement_json(None, action, "*")
        ),
        Reason::NoAllowResourcePolicy if is_aws_managed_key(question) => "The key is an AWS managed key: its key policy cannot be changed and it cannot be used across accounts. Encrypt with a customer managed key whose key policy allows the caller (--ssekms-key-id KEY_ARN).".to_string(),
        Reason::NoAllowResourcePolicy => format!(
            "Add to {resource_policy} a statement granting the caller: {}{}",
            statement_json(Some(caller), action, resource),
            if caller.kind == CallerKind::Anonymous {
                ""
            } else {
                " (the caller's account must also allow it in an identity-based policy)."
            }
        ),
        Reason::NoAllowIdentityPolicy => match caller.kind {
            CallerKind::Anonymous => format!(
                "Anonymous requests need a resource-based grant: add to {resource_policy} {}",
                statement_json(Some(caller), action, resource)
            ),
            _ => format!(
                "Attach to {} an identity-based policy with the statement {}",
                who(caller),
                statement_json(None, action, resource)
            ),
        },
        Reason::NoAllowPermissionsBoundary => format!(
            "Add {action} on {resource} to the permissions boundary of {} (the boundary caps what identity policies can grant).",
            who(caller)
        ),
        Reason::NoAllowSessionPolicy if caller.kind == CallerKind::FederatedUser => format!(
            "Call GetFederationToken again with a session policy (Policy or PolicyArns) that allows {action} on {resource}: a federated user session has no permissions beyond its session policy."
        ),
        Reason::NoAllowSessionPolicy => format!(
            "Assume the role again with a session policy that also allows {action} on {resource}, or without a session policy."
        ),
    }
}
