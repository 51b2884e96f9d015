//! Bucket configuration: versioning, tagging, policy, ACL, ownership controls,
//! Block Public Access and default encryption.

use strongbox_store::{BucketField, Versioning};

use crate::acl::{acl_from_headers, acl_from_xml};
use crate::authorization::{authorize, block_public_access_denied, BucketInfo, Ids, Op};
use crate::config::{self, EncryptionConfig, ObjectOwnership, PublicAccessBlock};
use crate::error::{S3Error, S3Result};
use crate::response::Reply;
use crate::tags::{self, BUCKET_TAGS};
use crate::xml::{self, XmlWriter, S3_NS};
use crate::{S3Request, S3Service};

/// Bucket policies are at most 20 KB.
const MAX_POLICY_BYTES: usize = 20 * 1024;

impl S3Service {
    /// The request's XML body; an empty one is MissingRequestBody.
    pub(crate) async fn read_xml(&self, req: &mut S3Request) -> Result<xml::Element, S3Error> {
        let body = req
            .body
            .collect(super::MAX_XML_BODY, S3Error::MalformedXml)
            .await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(S3Error::MissingRequestBody);
        }
        xml::parse(&body)
    }

    fn set_field(
        &self,
        bucket: &str,
        field: BucketField,
        value: Option<&str>,
    ) -> Result<(), S3Error> {
        Ok(self.store.meta.set_bucket_field(bucket, field, value)?)
    }

    /// GetBucketVersioning.
    pub(crate) fn get_bucket_versioning(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketVersioning)?;
        let mut w = XmlWriter::new("VersioningConfiguration");
        match bucket.versioning {
            Versioning::Unversioned => {}
            Versioning::Enabled => {
                w.elem("Status", "Enabled");
            }
            Versioning::Suspended => {
                w.elem("Status", "Suspended");
            }
        }
        Ok(Reply::ok().xml(w.finish("VersioningConfiguration")))
    }

    /// PutBucketVersioning.
    pub(crate) async fn put_bucket_versioning(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::PutBucketVersioning)?;
        let doc = self.read_xml(req).await?;
        if let Some(enabled) = config::parse_versioning(&doc)? {
            if !enabled && bucket.object_lock.is_some() {
                return Err(S3Error::InvalidBucketState(
                    "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                        .into(),
                )
                .into());
            }
            let v = if enabled {
                Versioning::Enabled
            } else {
                Versioning::Suspended
            };
            self.store.meta.set_versioning(name, v)?;
        }
        Ok(Reply::ok())
    }

    /// GetBucketTagging.
    pub(crate) fn get_bucket_tagging(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketTagging)?;
        if bucket.tags.is_empty() {
            return Err(crate::error::Failure::from(S3Error::NoSuchTagSet).with("BucketName", name));
        }
        Ok(Reply::ok().xml(tags::to_xml(&bucket.tags)))
    }

    /// PutBucketTagging.
    pub(crate) async fn put_bucket_tagging(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::PutBucketTagging)?;
        let doc = self.read_xml(req).await?;
        let t = tags::parse_xml(&doc)?;
        tags::validate(&t, BUCKET_TAGS)?;
        let json = serde_json::to_string(&t).unwrap_or_default();
        self.set_field(
            name,
            BucketField::Tags,
            if t.is_empty() { None } else { Some(&json) },
        )?;
        Ok(Reply::no_content())
    }

    /// The Delete* bucket configuration operations.
    pub(crate) fn delete_bucket_config(
        &self,
        req: &S3Request,
        name: &str,
        op: Op,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, name)?;
        authorize(req, op, Some(&bucket), None, None)?;
        let field = match op {
            Op::DeleteBucketTagging => BucketField::Tags,
            Op::DeleteBucketPolicy => BucketField::Policy,
            Op::DeleteBucketOwnershipControls => BucketField::ObjectOwnership,
            Op::DeletePublicAccessBlock => BucketField::PublicAccessBlock,
            Op::DeleteBucketEncryption => BucketField::Encryption,
            Op::DeleteBucketCors => BucketField::Cors,
            _ => return Err(S3Error::MethodNotAllowed.into()),
        };
        self.set_field(name, field, None)?;
        Ok(Reply::no_content())
    }

    /// GetBucketPolicy: the JSON document as stored.
    pub(crate) fn get_bucket_policy(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketPolicy)?;
        let policy = bucket.policy.clone().ok_or_else(|| {
            crate::error::Failure::from(S3Error::NoSuchBucketPolicy).with("BucketName", name)
        })?;
        Ok(Reply::ok()
            .header("content-type", "application/json")
            .header("content-length", &policy.len().to_string())
            .body(crate::body::S3Body::full(policy)))
    }

    /// PutBucketPolicy.
    pub(crate) async fn put_bucket_policy(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::PutBucketPolicy)?;
        let body = req
            .body
            .collect(
                MAX_POLICY_BYTES,
                S3Error::MalformedPolicy("Policies must be at most 20 KB".into()),
            )
            .await?;
        let text = std::str::from_utf8(&body).map_err(|_| {
            S3Error::MalformedPolicy(
                "Policies must be valid JSON and the first byte must be '{'".into(),
            )
        })?;
        if text.trim().is_empty() {
            return Err(S3Error::MissingRequestBody.into());
        }
        let public = validate_policy(name, text)?;
        let resolved = canonical_principals_to_accounts(text, |id| {
            req.access.account_exists_for_canonical_id(id)
        })?;
        let text = resolved.as_deref().unwrap_or(text);
        if aws_principals(text)
            .iter()
            .any(|p| !req.access.principal_exists(p))
        {
            return Err(S3Error::MalformedPolicy("Invalid principal in policy".into()).into());
        }
        if public && bucket.blocks_public_policy() {
            let resource = format!("arn:aws:s3:::{name}");
            return Err(block_public_access_denied(
                req,
                &bucket,
                "s3:PutBucketPolicy",
                &resource,
                "BlockPublicPolicy",
            )
            .into());
        }
        self.set_field(name, BucketField::Policy, Some(text))?;
        Ok(Reply::no_content())
    }

    /// GetBucketPolicyStatus.
    pub(crate) fn get_bucket_policy_status(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketPolicyStatus)?;
        let policy = bucket.policy.as_deref().ok_or_else(|| {
            crate::error::Failure::from(S3Error::NoSuchBucketPolicy).with("BucketName", name)
        })?;
        let public = validate_policy(name, policy).unwrap_or(false);
        let mut w = XmlWriter::new("PolicyStatus");
        w.elem("IsPublic", if public { "true" } else { "false" });
        Ok(Reply::ok().xml(w.finish("PolicyStatus")))
    }

    /// GetBucketAcl.
    pub(crate) fn get_bucket_acl(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketAcl)?;
        Ok(Reply::ok().xml(bucket.acl.to_xml(&Ids(req.access.as_ref()))))
    }

    /// PutBucketAcl (headers or an AccessControlPolicy body).
    pub(crate) async fn put_bucket_acl(&self, req: &mut S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::PutBucketAcl)?;
        let acl = {
            let ids = Ids(req.access.as_ref());
            acl_from_headers(
                &req.headers,
                &ids,
                &bucket.owner_account,
                &bucket.owner_account,
            )?
        };
        let acl = match acl {
            Some(a) => {
                let rest = req
                    .body
                    .collect(super::MAX_XML_BODY, S3Error::MalformedAcl)
                    .await?;
                if !rest.iter().all(u8::is_ascii_whitespace) {
                    return Err(S3Error::UnexpectedContent.into());
                }
                a
            }
            None => {
                let body = req
                    .body
                    .collect(super::MAX_XML_BODY, S3Error::MalformedAcl)
                    .await?;
                if body.iter().all(u8::is_ascii_whitespace) {
                    return Err(S3Error::MissingSecurityHeader.into());
                }
                let doc = xml::parse_with(&body, || S3Error::MalformedAcl)?;
                acl_from_xml(&doc, &Ids(req.access.as_ref()), &bucket.owner_account)?
            }
        };
        self.check_acl_allowed(req, &bucket, &acl, &bucket.owner_account)?;
        self.set_field(name, BucketField::Acl, Some(&acl.to_json()))?;
        Ok(Reply::ok())
    }

    /// ACLs disabled and Block Public Access rules for a new ACL.
    pub(crate) fn check_acl_allowed(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        acl: &crate::acl::Acl,
        owner_account: &str,
    ) -> Result<(), S3Error> {
        if bucket.acls_disabled() {
            let owner = req
                .access
                .canonical_user_id(owner_account)
                .unwrap_or_else(|| owner_account.to_string());
            if !crate::acl::allowed_when_acls_disabled(&req.headers, acl, &owner) {
                return Err(S3Error::AccessControlListNotSupported);
            }
        }
        if acl.is_public() && bucket.blocks_public_acls() {
            let (action, resource) = match req.key.as_deref() {
                Some(key) => (
                    "s3:PutObjectAcl",
                    format!("arn:aws:s3:::{}/{key}", bucket.name),
                ),
                None => ("s3:PutBucketAcl", format!("arn:aws:s3:::{}", bucket.name)),
            };
            return Err(block_public_access_denied(
                req,
                bucket,
                action,
                &resource,
                "BlockPublicAcls",
            ));
        }
        Ok(())
    }

    /// GetBucketOwnershipControls.
    pub(crate) fn get_ownership_controls(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketOwnershipControls)?;
        let o = bucket.object_ownership.ok_or_else(|| {
            crate::error::Failure::from(S3Error::OwnershipControlsNotFound).with("BucketName", name)
        })?;
        Ok(Reply::ok().xml(config::ownership_xml(o)))
    }

    /// PutBucketOwnershipControls. Enforcing bucket ownership requires the bucket
    /// ACL to be private-equivalent (InvalidBucketAclWithObjectOwnership otherwise).
    pub(crate) async fn put_ownership_controls(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::PutBucketOwnershipControls)?;
        let doc = self.read_xml(req).await?;
        let o = config::parse_ownership(&doc)?;
        if o == ObjectOwnership::BucketOwnerEnforced {
            let owner = req
                .access
                .canonical_user_id(&bucket.owner_account)
                .unwrap_or_else(|| bucket.owner_account.clone());
            if !bucket.acl.is_owner_full_control_only(&owner) {
                return Err(S3Error::InvalidBucketAclWithObjectOwnership.into());
            }
        }
        self.set_field(name, BucketField::ObjectOwnership, Some(o.as_str()))?;
        Ok(Reply::ok())
    }

    /// GetPublicAccessBlock (bucket).
    pub(crate) fn get_public_access_block(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetPublicAccessBlock)?;
        let p = bucket.public_access_block.ok_or_else(|| {
            crate::error::Failure::from(S3Error::NoSuchPublicAccessBlockConfiguration)
                .with("BucketName", name)
        })?;
        Ok(Reply::ok().xml(p.to_xml(S3_NS)))
    }

    /// PutPublicAccessBlock (bucket).
    pub(crate) async fn put_public_access_block(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::PutPublicAccessBlock)?;
        let doc = self.read_xml(req).await?;
        let p = PublicAccessBlock::parse(&doc)?;
        self.set_field(name, BucketField::PublicAccessBlock, Some(&p.to_json()))?;
        Ok(Reply::ok())
    }

    /// GetBucketEncryption.
    pub(crate) fn get_bucket_encryption(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketEncryption)?;
        // TODO(issue 6): AWS reports SSE-S3 as every bucket's default; until
        // encryption is real, only a stored configuration is returned.
        let e = bucket.encryption.ok_or_else(|| {
            crate::error::Failure::from(S3Error::ServerSideEncryptionConfigurationNotFound)
                .with("BucketName", name)
        })?;
        Ok(Reply::ok().xml(e.to_xml()))
    }

    /// PutBucketEncryption (stored; applied by issue 6).
    pub(crate) async fn put_bucket_encryption(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::PutBucketEncryption)?;
        let doc = self.read_xml(req).await?;
        let e = EncryptionConfig::parse(&doc)?;
        let json = serde_json::to_string(&e).unwrap_or_default();
        self.set_field(name, BucketField::Encryption, Some(&json))?;
        Ok(Reply::ok())
    }
}

/// The `AWS` principals of a policy's statements (`Principal` and `NotPrincipal`), except `*`.
fn aws_principals(text: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for st in &statements {
        for element in ["Principal", "NotPrincipal"] {
            let Some(aws) = st.get(element).and_then(|p| p.get("AWS")) else {
                continue;
            };
            let values = match aws {
                serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                serde_json::Value::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            out.extend(values.into_iter().filter(|v| *v != "*").map(str::to_string));
        }
    }
    out
}

/// Rewrites `"CanonicalUser"` principals as the account root ARNs they stand for,
/// as S3 does when it stores a policy (S3 User Guide, "Policies and permissions in
/// Amazon S3", The Principal: "When you use a canonical user ID in a policy, Amazon
/// S3 might change the canonical ID to the corresponding AWS account ID").
/// `None` when the policy names no canonical user; an id of no account is
/// `MalformedPolicy: Invalid principal in policy`.
fn canonical_principals_to_accounts(
    text: &str,
    account_of: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, S3Error> {
    use serde_json::Value;
    let invalid = || S3Error::MalformedPolicy("Invalid principal in policy".into());
    let Ok(mut doc) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let mut changed = false;
    let statements: Vec<&mut Value> = match doc.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for statement in statements {
        for element in ["Principal", "NotPrincipal"] {
            let Some(Value::Object(principal)) = statement.get_mut(element) else {
                continue;
            };
            let Some(canonical) = principal.remove("CanonicalUser") else {
                continue;
            };
            let ids: Vec<&str> = match &canonical {
                Value::String(id) => vec![id.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let mut arns = Vec::new();
            for id in ids {
                let account = account_of(id).ok_or_else(invalid)?;
                arns.push(Value::String(format!("arn:aws:iam::{account}:root")));
            }
            let aws = match principal.remove("AWS") {
                Some(Value::Array(mut list)) => {
                    list.extend(arns);
                    list
                }
                Some(one) => std::iter::once(one).chain(arns).collect(),
                None => arns,
            };
            let aws = match <[Value; 1]>::try_from(aws) {
                Ok([one]) => one,
                Err(list) => Value::Array(list),
            };
            principal.insert("AWS".to_string(), aws);
            changed = true;
        }
    }
    Ok(changed.then(|| doc.to_string()))
}

/// Validates a bucket policy as PutBucketPolicy does (MalformedPolicy with
/// AWS's message) and returns whether it is public in the Block Public Access sense.
fn validate_policy(bucket: &str, text: &str) -> Result<bool, S3Error> {
    let kind = strongbox_policy::PolicyKind::Bucket {
        bucket: bucket.to_string(),
    };
    let policy = strongbox_policy::Policy::parse(&kind, text)
        .map_err(|e| S3Error::MalformedPolicy(e.message))?;
    Ok(strongbox_policy::is_public_policy(&policy))
}

#[cfg(test)]
mod tests {
    use super::{aws_principals, canonical_principals_to_accounts};

    #[test]
    fn canonical_user_principals_become_account_roots() {
        let id = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
        let lookup = |c: &str| (c == id).then(|| "111122223333".to_string());
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"CanonicalUser":"{id}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}]}}"#
        );
        let out = canonical_principals_to_accounts(&text, lookup)
            .unwrap()
            .unwrap();
        assert_eq!(aws_principals(&out), ["arn:aws:iam::111122223333:root"]);
        assert!(!out.contains("CanonicalUser"));
        // Merged with AWS principals of the same statement.
        let both = format!(
            r#"{{"Statement":{{"Principal":{{"AWS":"444455556666","CanonicalUser":["{id}"]}}}}}}"#
        );
        let out = canonical_principals_to_accounts(&both, lookup)
            .unwrap()
            .unwrap();
        assert_eq!(
            aws_principals(&out),
            ["444455556666", "arn:aws:iam::111122223333:root"]
        );
        // Unknown ids are refused; policies without canonical users are kept as written.
        let unknown = r#"{"Statement":{"Principal":{"CanonicalUser":"abc"}}}"#;
        assert!(canonical_principals_to_accounts(unknown, lookup).is_err());
        let plain = r#"{"Statement":{"Principal":{"AWS":"1"}}}"#;
        assert_eq!(
            canonical_principals_to_accounts(plain, lookup).unwrap(),
            None
        );
    }

    #[test]
    fn principals_of_a_policy() {
        let text = r#"{"Statement":[{"Principal":{"AWS":["arn:aws:iam::1:user/a","*"]}},{"NotPrincipal":{"AWS":"2"}},{"Principal":"*"},{"Principal":{"Service":"s3.amazonaws.com"}}]}"#;
        assert_eq!(aws_principals(text), ["arn:aws:iam::1:user/a", "2"]);
        let single = r#"{"Statement":{"Principal":{"AWS":"3"}}}"#;
        assert_eq!(aws_principals(single), ["3"]);
        assert!(aws_principals("nope").is_empty());
    }
}
