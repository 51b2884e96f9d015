//! S3 authorization: the bucket policy, ACLs (as synthetic resource-based
//! policies), object ownership and Block Public Access, evaluated by the one
//! engine.
//!
//! Amazon S3 User Guide, "How Amazon S3 authorizes a request": for a bucket
//! operation the bucket owner's bucket policy and bucket ACL are the
//! resource-based side; for an object operation the object owner's ACL is, and
//! when the bucket owner does not own the object (ObjectWriter) only the
//! object ACL can grant, while the bucket policy can still deny.
//! "Blocking public access to your Amazon S3 storage": IgnorePublicAcls makes
//! S3 ignore public ACL grants; RestrictPublicBuckets limits a public bucket
//! policy to principals of the bucket owner's account.

use serde_json::{json, Value};
use strongbox_core::{Caller, Denied, RequestMeta};
use strongbox_policy::{is_public_policy, MessageStyle, PolicyKind};
use strongbox_s3::acl::{Acl, Grantee, Permission};
use strongbox_s3::{BucketInfo, S3Access, S3Check};

use crate::{Authz, CompiledResourcePolicy, Question};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// The resource ARN of a check.
pub fn resource_arn(check: &S3Check<'_>) -> String {
    match (check.bucket, check.key) {
        (Some(b), Some(k)) => format!("arn:aws:s3:::{}/{k}", b.name),
        (Some(b), None) => format!("arn:aws:s3:::{}", b.name),
        (None, _) => "*".to_string(),
    }
}

/// Whether an action reads or manages an existing object, so that the object
/// owner's ACL (not the bucket owner's policy) must grant it.
fn is_object_owner_action(action: &str) -> bool {
    action.starts_with("s3:GetObject")
        || action == "s3:PutObjectAcl"
        || action == "s3:PutObjectVersionAcl"
}

fn bucket_actions(permission: Permission) -> (&'static [&'static str], &'static [&'static str]) {
    // (actions on the bucket ARN, actions on the objects of the bucket)
    match permission {
        Permission::Read => (
            &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ],
            &[],
        ),
        Permission::Write => (
            &[],
            &["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        ),
        Permission::ReadAcp => (&["s3:GetBucketAcl"], &[]),
        Permission::WriteAcp => (&["s3:PutBucketAcl"], &[]),
        Permission::FullControl => (
            &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
                "s3:GetBucketAcl",
                "s3:PutBucketAcl",
            ],
            &["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        ),
    }
}

fn object_actions(permission: Permission) -> &'static [&'static str] {
    match permission {
        Permission::Read => &["s3:GetObject", "s3:GetObjectVersion"],
        Permission::Write => &[],
        Permission::ReadAcp => &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
        Permission::WriteAcp => &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
        Permission::FullControl => &[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectAcl",
            "s3:GetObjectVersionAcl",
            "s3:PutObjectAcl",
            "s3:PutObjectVersionAcl",
        ],
    }
}

/// The `Principal` and extra `Condition` a grantee stands for; `None` for
/// grantees that never match a request here (LogDelivery, unknown ids).
fn grantee_principal(
    authz: &Authz,
    grantee: &Grantee,
    ignore_public: bool,
) -> Option<(Value, Option<Value>)> {
    match grantee {
        Grantee::CanonicalUser { id, account_id } => {
            let account = account_id
                .clone()
                .or_else(|| authz.identity().account_for_canonical_id(id))?;
            Some((
                json!({ "AWS": format!("arn:aws:iam::{account}:root") }),
                None,
            ))
        }
        Grantee::Group(uri) if uri == ALL_USERS && !ignore_public => Some((json!("*"), None)),
        Grantee::Group(uri) if uri == AUTHENTICATED_USERS && !ignore_public => {
            // Any signed request: anonymous requests have no aws:PrincipalAccount.
            Some((
                json!("*"),
                Some(json!({ "Null": { "aws:PrincipalAccount": "false" } })),
            ))
        }
        Grantee::Group(_) => None,
    }
}

/// An ACL as a resource-based policy document (one statement per usable grant).
fn acl_document(
    authz: &Authz,
    acl: &Acl,
    bucket: &str,
    object_key: Option<&str>,
    ignore_public: bool,
) -> Option<String> {
    let mut statements = Vec::new();
    for (i, grant) in acl.grants.iter().enumerate() {
        let Some((principal, condition)) = grantee_principal(authz, &grant.grantee, ignore_public)
        else {
            continue;
        };
        let sid = format!(
            "AclGrant{}{}",
            i + 1,
            grant.permission.as_str().replace('_', "")
        );
        let mut push = |actions: &[&str], resource: String| {
            if actions.is_empty() {
                return;
            }
            let mut st = json!({ "Sid": sid, "Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resource });
            if let (Some(c), Some(obj)) = (&condition, st.as_object_mut()) {
                obj.insert("Condition".to_string(), c.clone());
            }
            statements.push(st);
        };
        match object_key {
            Some(key) => push(
                object_actions(grant.permission),
                format!("arn:aws:s3:::{bucket}/{key}"),
            ),
            None => {
                let (on_bucket, on_objects) = bucket_actions(grant.permission);
                push(on_bucket, format!("arn:aws:s3:::{bucket}"));
                push(on_objects, format!("arn:aws:s3:::{bucket}/*"));
            }
        }
    }
    if statements.is_empty() {
        return None;
    }
    Some(json!({ "Version": "2012-10-17", "Statement": statements }).to_string())
}

/// How the initiator's default grant is named in decision records and `explain`.
const INITIATOR_GRANT: &str = "multipart upload initiator (default grant: the initiator of an upload, and the account of an IAM user initiator, may abort it and list its parts)";

/// The default permissions of a multipart upload's initiator, as a
/// resource-based policy. S3 User Guide, "Multipart upload API and permissions"
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions):
/// for AbortMultipartUpload "by default, the bucket owner and the initiator of
/// the multipart upload are allowed to perform this action. If the initiator is
/// an IAM User, that User's AWS account is also allowed"; for ListParts "the
/// initiator of the multipart upload has the permission to list parts of the
/// specific multipart upload". The bucket owner needs no grant of its own.
fn initiator_document(authz: &Authz, initiator: &str, bucket: &str, key: &str) -> Option<String> {
    let mut principals = Vec::new();
    if initiator.starts_with("arn:") {
        let account = initiator.split(':').nth(4).filter(|a| !a.is_empty())?;
        principals.push(initiator.to_string());
        if initiator.starts_with("arn:aws:iam::") && initiator.contains(":user/") {
            principals.push(format!("arn:aws:iam::{account}:root"));
        }
    } else {
        // A root initiator is stored by its canonical user id.
        let account = authz.identity().account_for_canonical_id(initiator)?;
        principals.push(format!("arn:aws:iam::{account}:root"));
    }
    let statement = json!({
        "Sid": "MultipartUploadInitiator",
        "Effect": "Allow",
        "Principal": { "AWS": principals },
        "Action": ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        "Resource": format!("arn:aws:s3:::{bucket}/{key}"),
    });
    Some(json!({ "Version": "2012-10-17", "Statement": [statement] }).to_string())
}

/// The Deny statements of a policy document (what still applies when its
/// Allow statements cannot grant).
fn deny_statements_only(text: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(text).ok()?;
    let statements = match doc.get("Statement")? {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return None,
    };
    let denies: Vec<Value> = statements
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Deny"))
        .collect();
    if denies.is_empty() {
        return None;
    }
    doc["Statement"] = Value::Array(denies);
    Some(doc.to_string())
}

impl Authz {
    fn s3_question_policies(
        &self,
        caller: &Caller,
        check: &S3Check<'_>,
        bucket: &BucketInfo,
    ) -> (Vec<CompiledResourcePolicy>, String) {
        let kind = PolicyKind::Bucket {
            bucket: bucket.name.clone(),
        };
        let bucket_pab = bucket.public_access_block.unwrap_or_default();
        let account_pab = bucket.account_public_access_block.unwrap_or_default();
        let ignore_public_acls = bucket_pab.ignore_public_acls || account_pab.ignore_public_acls;
        let restrict_public =
            bucket_pab.restrict_public_buckets || account_pab.restrict_public_buckets;
        let object_owner = check
            .object
            .filter(|o| {
                !bucket.acls_disabled()
                    && o.owner_account != bucket.owner_account
                    && is_object_owner_action(check.action)
            })
            .map(|o| o.owner_account.clone());
        let mut policies = Vec::new();
        if let Some(text) = &bucket.policy {
            if let Some(compiled) = self.compile(&kind, "bucket policy", text) {
                let public_restricted = restrict_public
                    && caller.account_id != bucket.owner_account
                    && is_public_policy(&compiled.policy);
                if object_owner.is_some() || public_restricted {
                    // Its Allow statements cannot grant here; its Deny statements still apply.
                    let label = if public_restricted {
                        "bucket policy (Deny statements only: RestrictPublicBuckets limits this public policy to the bucket owner's account)"
                    } else {
                        "bucket policy (Deny statements only: the bucket owner does not own this object)"
                    };
                    if let Some(denies) = deny_statements_only(text) {
                        if let Some(c) = self.compile(&kind, label, &denies) {
                            policies.push(c);
                        }
                    }
                } else {
                    policies.push(compiled);
                }
            }
        }
        if !bucket.acls_disabled() {
            if object_owner.is_none() {
                if let Some(doc) =
                    acl_document(self, &bucket.acl, &bucket.name, None, ignore_public_acls)
                {
                    if let Some(c) = self.compile(&kind, "bucket ACL", &doc) {
                        policies.push(c);
                    }
                }
            }
            if let (Some(object), Some(key)) = (check.object, check.key) {
                if let Some(doc) = acl_document(
                    self,
                    &object.acl,
                    &bucket.name,
                    Some(key),
                    ignore_public_acls,
                ) {
                    if let Some(c) = self.compile(&kind, "object ACL", &doc) {
                        policies.push(c);
                    }
                }
            }
        }
        if let (Some(initiator), Some(key)) = (check.upload_initiator, check.key) {
            if let Some(doc) = initiator_document(self, initiator, &bucket.name, key) {
                if let Some(c) = self.compile(&kind, INITIATOR_GRANT, &doc) {
                    policies.push(c);
                }
            }
        }
        let resource_account = object_owner.unwrap_or_else(|| bucket.owner_account.clone());
        (policies, resource_account)
    }
}

impl S3Access for Authz {
    fn authorize(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &S3Check<'_>,
    ) -> Result<(), Denied> {
        let resource = resource_arn(check);
        let (resource_policies, resource_account) = match check.bucket {
            Some(bucket) => self.s3_question_policies(caller, check, bucket),
            // Account-level operations (ListAllMyBuckets, CreateBucket, account Block Public Access).
            None => (Vec::new(), caller.account_id.clone()),
        };
        let question = Question {
            action: check.action,
            resource: &resource,
            resource_account: if resource_account.is_empty() {
                None
            } else {
                Some(&resource_account)
            },
            resource_policies,
            resource_required: false,
            context: &check.context,
            style: MessageStyle::S3,
            editable: check.bucket.map(|b| crate::proven::EditablePolicy {
                bucket: b.name.clone(),
                text: b.policy.clone(),
                owner_account: b.owner_account.clone(),
            }),
            key_policy: None,
        };
        self.decide(caller, meta, &question)
    }

    fn canonical_user_id(&self, account_id: &str) -> Option<String> {
        self.identity().canonical_user_id(account_id)
    }

    fn account_exists_for_canonical_id(&self, canonical_id: &str) -> Option<String> {
        self.identity().account_for_canonical_id(canonical_id)
    }

    /// Users, roles and role sessions named in a bucket policy must exist
    /// (AWS: MalformedPolicy "Invalid principal in policy"). Account
    /// principals (`123456789012`, `arn:aws:iam::123456789012:root`) are
    /// accepted when well formed: they may name accounts of other systems.
    fn record_rule_denial(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        denial: &strongbox_s3::RuleDenial<'_>,
    ) {
        self.record_rule(caller, meta, denial);
    }

    fn principal_exists(&self, principal: &str) -> bool {
        let account = principal
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.strip_suffix(":root"))
            .unwrap_or(principal);
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
            return true;
        }
        self.identity().principal_exists(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_only_keeps_denies() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        let out = deny_statements_only(text).unwrap();
        assert!(out.contains("\"Deny\"") && !out.contains("\"Allow\""));
        let allow_only = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
        assert!(deny_statements_only(allow_only).is_none());
    }
}
