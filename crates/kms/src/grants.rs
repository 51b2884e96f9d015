//! Grant rules: which operations a grant may name, whom it applies to, and
//! whether its encryption-context constraints admit a request.
//! See <https://docs.aws.amazon.com/kms/latest/developerguide/grants.html>.

use std::collections::BTreeMap;

use strongbox_core::Caller;

use crate::ciphertext::EncryptionContext;
use crate::store::GrantRecord;

/// Grant operations valid for a symmetric encryption key.
pub const SYMMETRIC_GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
];

/// Every grant operation name KMS knows (some do not apply to symmetric keys).
pub const ALL_GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// Operations that take an encryption context, so grant constraints can apply.
pub const CONTEXT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    // CreateGrant is allowed with constraints: the new grant must be at least as strict.
    "CreateGrant",
    "RetireGrant",
];

/// `Constraints` of a grant, with KMS's member names.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GrantConstraints {
    #[serde(
        rename = "EncryptionContextSubset",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    #[serde(
        rename = "EncryptionContextEquals",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

impl GrantConstraints {
    /// Whether the request's encryption context satisfies the constraints.
    pub fn admits(&self, context: &EncryptionContext) -> bool {
        if let Some(eq) = &self.encryption_context_equals {
            if eq != context {
                return false;
            }
        }
        if let Some(sub) = &self.encryption_context_subset {
            if !sub.iter().all(|(k, v)| context.get(k) == Some(v)) {
                return false;
            }
        }
        true
    }

    /// Whether `self` is at least as strict as `parent` (for a grant created
    /// through a grant's `CreateGrant` permission).
    pub fn at_least_as_strict_as(&self, parent: &GrantConstraints) -> bool {
        if let Some(eq) = &parent.encryption_context_equals {
            if self.encryption_context_equals.as_ref() != Some(eq) {
                return false;
            }
        }
        if let Some(sub) = &parent.encryption_context_subset {
            let covered =
                |ctx: &BTreeMap<String, String>| sub.iter().all(|(k, v)| ctx.get(k) == Some(v));
            let ok = self.encryption_context_equals.as_ref().is_some_and(covered)
                || self.encryption_context_subset.as_ref().is_some_and(covered);
            if !ok {
                return false;
            }
        }
        true
    }
}

/// Whether a grant's principal names the caller: the caller's own ARN, the
/// role behind a role session, or an account when the caller is its root user.
pub fn principal_matches(principal: &str, caller: &Caller) -> bool {
    if caller.is_anonymous() {
        return false;
    }
    principal == caller.arn
        || principal == caller.principal_arn
        || caller.role_arn.as_deref() == Some(principal)
        || (caller.is_root()
            && (principal == caller.account_id
                || principal == format!("arn:aws:iam::{}:root", caller.account_id)))
}

/// Whether `grant` lets `caller` perform `operation` with `context`.
pub fn grant_allows(
    grant: &GrantRecord,
    caller: &Caller,
    operation: &str,
    context: &EncryptionContext,
) -> bool {
    principal_matches(&grant.grantee, caller)
        && grant.operations.iter().any(|op| op == operation)
        && grant.constraints.as_ref().is_none_or(|c| c.admits(context))
}

/// The grant operation that authorizes a KMS API action, if grants can.
pub fn grant_operation_for(action: &str) -> Option<&'static str> {
    let op = action.strip_prefix("kms:")?;
    SYMMETRIC_GRANT_OPERATIONS
        .iter()
        .copied()
        .find(|o| *o == op)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn grant(grantee: &str, ops: &[&str], constraints: Option<GrantConstraints>) -> GrantRecord {
        GrantRecord {
            grant_id: "g".into(),
            key_id: "k".into(),
            name: None,
            grantee: grantee.into(),
            retiring: None,
            operations: ops.iter().map(|s| s.to_string()).collect(),
            constraints,
            issuing_account: "111122223333".into(),
            token: "t".into(),
            created_ms: 0,
        }
    }

    fn user(account: &str, name: &str) -> Caller {
        let mut c = Caller::root(account, None);
        c.kind = strongbox_core::CallerKind::User;
        c.arn = format!("arn:aws:iam::{account}:user/{name}");
        c.principal_arn = c.arn.clone();
        c
    }

    #[test]
    fn constraints() {
        let eq = GrantConstraints {
            encryption_context_equals: Some(ctx(&[("a", "1")])),
            encryption_context_subset: None,
        };
        assert!(eq.admits(&ctx(&[("a", "1")])));
        assert!(!eq.admits(&ctx(&[("a", "1"), ("b", "2")])));
        assert!(!eq.admits(&ctx(&[])));
        let sub = GrantConstraints {
            encryption_context_subset: Some(ctx(&[("a", "1")])),
            encryption_context_equals: None,
        };
        assert!(sub.admits(&ctx(&[("a", "1"), ("b", "2")])));
        assert!(!sub.admits(&ctx(&[("a", "2")])));
        assert!(!sub.admits(&ctx(&[])));
        assert!(GrantConstraints::default().admits(&ctx(&[])));
        assert!(eq.at_least_as_strict_as(&sub));
        assert!(!GrantConstraints::default().at_least_as_strict_as(&sub));
        assert!(!sub.at_least_as_strict_as(&eq));
        let json = serde_json::to_string(&sub).unwrap();
        assert_eq!(json, r#"{"EncryptionContextSubset":{"a":"1"}}"#);
    }

    #[test]
    fn principals() {
        let alice = user("111122223333", "alice");
        assert!(principal_matches(
            "arn:aws:iam::111122223333:user/alice",
            &alice
        ));
        assert!(!principal_matches(
            "arn:aws:iam::111122223333:user/bob",
            &alice
        ));
        assert!(!principal_matches("arn:aws:iam::111122223333:root", &alice));
        let root = Caller::root("111122223333", None);
        assert!(principal_matches("arn:aws:iam::111122223333:root", &root));
        let mut session = user("111122223333", "x");
        session.kind = strongbox_core::CallerKind::AssumedRole;
        session.arn = "arn:aws:sts::111122223333:assumed-role/R/s".into();
        session.principal_arn = "arn:aws:iam::111122223333:role/R".into();
        session.role_arn = Some("arn:aws:iam::111122223333:role/R".into());
        assert!(principal_matches(
            "arn:aws:iam::111122223333:role/R",
            &session
        ));
        assert!(!principal_matches("anonymous", &Caller::anonymous()));
    }

    #[test]
    fn grant_matching() {
        let alice = user("111122223333", "alice");
        let sub = GrantConstraints {
            encryption_context_subset: Some(ctx(&[("dept", "x")])),
            encryption_context_equals: None,
        };
        let g = grant(&alice.arn, &["Decrypt"], Some(sub));
        assert!(grant_allows(&g, &alice, "Decrypt", &ctx(&[("dept", "x")])));
        assert!(!grant_allows(&g, &alice, "Decrypt", &ctx(&[("dept", "y")])));
        assert!(!grant_allows(&g, &alice, "Encrypt", &ctx(&[("dept", "x")])));
        assert!(!grant_allows(
            &g,
            &user("111122223333", "bob"),
            "Decrypt",
            &ctx(&[("dept", "x")])
        ));
        assert_eq!(grant_operation_for("kms:Decrypt"), Some("Decrypt"));
        assert_eq!(grant_operation_for("kms:PutKeyPolicy"), None);
    }
}
