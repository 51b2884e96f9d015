//! Authorization of KMS operations: the access check with KMS's condition
//! keys, the key policy as a required resource policy, and grants as a
//! fallback after an implicit deny.
//! Condition keys: <https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html>.

use strongbox_core::{AccessCheck, ContextEntry, DenialKind, ResourcePolicy};
use strongbox_policy::{
    evaluate, Context, Decision, Policy, PolicyKind, PolicyRef, PolicySet, Principal,
};

use crate::ciphertext::EncryptionContext;
use crate::error::KmsError;
use crate::store::{self, GrantRecord, KeyRecord};
use crate::{Kms, Request};

/// How grants may authorize an operation that the policies do not allow.
pub(crate) enum GrantRule<'a> {
    /// Grants cannot authorize this operation.
    None,
    /// A grant for this grant operation whose constraints admit this context.
    Operation(&'static str, &'a EncryptionContext),
    /// A custom test (e.g. CreateGrant through a grant).
    Custom(&'a dyn Fn(&GrantRecord) -> bool),
}

/// `kms:EncryptionContext:<k>` and `kms:EncryptionContextKeys` entries.
pub(crate) fn context_entries(context: &EncryptionContext) -> Vec<ContextEntry> {
    let mut out: Vec<ContextEntry> = context
        .iter()
        .map(|(k, v)| ContextEntry::new(format!("kms:EncryptionContext:{k}"), v.clone()))
        .collect();
    if !context.is_empty() {
        out.push(ContextEntry::multi(
            "kms:EncryptionContextKeys",
            context.keys().cloned().collect(),
        ));
    }
    out
}

/// Whether grants may stand in for a missing allow of this kind.
fn grants_can_cover(kind: DenialKind) -> bool {
    matches!(
        kind,
        DenialKind::NoAllowResourcePolicy | DenialKind::NoAllowIdentityPolicy
    )
}

impl Kms {
    fn base_context(&self, req: &Request<'_>) -> Vec<ContextEntry> {
        let mut ctx = vec![ContextEntry::new(
            "kms:CallerAccount",
            req.caller.account_id.clone(),
        )];
        if let Some(via) = &req.via_service {
            ctx.push(ContextEntry::new("kms:ViaService", via.clone()));
        }
        ctx
    }

    /// Authorizes `action` on a key: key policy required, KMS condition keys,
    /// then the key's grants when the policies only failed to allow.
    pub(crate) fn authorize_key(
        &self,
        req: &Request<'_>,
        action: &str,
        key: &KeyRecord,
        alias_used: Option<&str>,
        extra: Vec<ContextEntry>,
        grant: GrantRule<'_>,
    ) -> Result<(), KmsError> {
        let mut ctx = self.base_context(req);
        ctx.push(ContextEntry::new("kms:KeyOrigin", key.origin.clone()));
        ctx.push(ContextEntry::new("kms:KeySpec", key.key_spec.clone()));
        ctx.push(ContextEntry::new("kms:KeyUsage", key.key_usage.clone()));
        ctx.push(ContextEntry::new("kms:MultiRegion", "false"));
        if let Some(alias) = alias_used {
            ctx.push(ContextEntry::new("kms:RequestAlias", alias));
        }
        let labels = self.cache.labels(&key.key_id, || {
            store::aliases_and_tags_of_key(&self.db, &key.key_id)
        })?;
        if !labels.aliases.is_empty() {
            ctx.push(ContextEntry::multi(
                "kms:ResourceAliases",
                labels.aliases.clone(),
            ));
        }
        for (k, v) in &labels.tags {
            ctx.push(ContextEntry::new(format!("aws:ResourceTag/{k}"), v.clone()));
        }
        ctx.extend(extra);
        let arn = key.arn();
        let policies = [ResourcePolicy {
            label: "key policy",
            document: &key.policy,
        }];
        let check = AccessCheck {
            action,
            resource: &arn,
            resource_account: Some(&key.account_id),
            resource_policies: &policies,
            resource_policy_required: true,
            context: &ctx,
        };
        let denied = match req.authz.check(req.caller, req.meta, &check) {
            Ok(()) => return Ok(()),
            Err(denied) => denied,
        };
        if let Some(grant_id) = self.allowing_grant(req, key, &grant, denied.kind)? {
            tracing::debug!(action, key = %arn, caller = %req.caller.arn, grant = %grant_id, "allowed by a grant");
            req.authz.record_override(
                req.caller,
                req.meta,
                &check,
                &format!("KMS grant {grant_id}"),
            );
            return Ok(());
        }
        Err(KmsError::AccessDenied(denied.message))
    }

    /// The id of a grant that allows what the policies only failed to allow.
    fn allowing_grant(
        &self,
        req: &Request<'_>,
        key: &KeyRecord,
        rule: &GrantRule<'_>,
        denial: DenialKind,
    ) -> Result<Option<String>, KmsError> {
        if !grants_can_cover(denial) || matches!(rule, GrantRule::None) {
            return Ok(None);
        }
        let grants = store::grants_of_key(&self.db, &key.key_id)?;
        Ok(grants
            .iter()
            .find(|g| match rule {
                GrantRule::None => false,
                GrantRule::Operation(op, context) => {
                    crate::grants::grant_allows(g, req.caller, op, context)
                }
                GrantRule::Custom(test) => {
                    crate::grants::principal_matches(&g.grantee, req.caller) && test(g)
                }
            })
            .map(|g| g.grant_id.clone()))
    }

    /// Authorizes an action on a resource that has no key policy (`*` for
    /// CreateKey/ListKeys, alias ARNs): identity policies decide.
    pub(crate) fn authorize_other(
        &self,
        req: &Request<'_>,
        action: &str,
        resource: &str,
        resource_account: Option<&str>,
        extra: Vec<ContextEntry>,
    ) -> Result<(), KmsError> {
        let mut ctx = self.base_context(req);
        ctx.extend(extra);
        let check = AccessCheck::identity_only(action, resource, resource_account, &ctx);
        req.authz
            .check(req.caller, req.meta, &check)
            .map_err(|d| KmsError::AccessDenied(d.message))
    }

    /// The key policy lockout safety check: does `policy` itself still let
    /// the caller call PutKeyPolicy on the key (directly, or through the
    /// account's root principal, which delegates to IAM)? Evaluated on the key
    /// policy alone, without writing a decision record.
    /// See <https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check>.
    pub(crate) fn lockout_check(
        &self,
        req: &Request<'_>,
        key_arn: &str,
        account: &str,
        policy: &str,
    ) -> Result<(), KmsError> {
        let locked_out = || {
            KmsError::MalformedPolicyDocument(
                "The new key policy will not allow you to update the key policy in the future."
                    .to_string(),
            )
        };
        let principal = Principal::from_arn(&req.caller.arn, req.caller.role_arn.as_deref())
            .ok_or_else(locked_out)?;
        let key_policy = Policy::parse_for_evaluation(&PolicyKind::KeyPolicy, policy)
            .map_err(|_| locked_out())?;
        // Stands in for "IAM allows": the check is about the key policy only.
        let everything = Policy::parse(
            &PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .map_err(|e| KmsError::Internal(e.message))?;
        let mut ctx = Context::new();
        for entry in self.base_context(req) {
            ctx.insert_values(entry.key, entry.values);
        }
        let set = PolicySet {
            identity: vec![PolicyRef {
                name: "caller",
                policy: &everything,
            }],
            resource: vec![PolicyRef {
                name: "key policy",
                policy: &key_policy,
            }],
            resource_required: true,
            ..Default::default()
        };
        let request = strongbox_policy::Request {
            principal: &principal,
            action: "kms:PutKeyPolicy",
            resource: key_arn,
            resource_account: Some(account),
            context: &ctx,
        };
        match evaluate(&request, &set).decision {
            Decision::Allow => Ok(()),
            Decision::Deny => Err(locked_out()),
        }
    }
}
