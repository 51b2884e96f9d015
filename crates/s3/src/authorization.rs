//! The one place where S3 operations are authorized: operation → IAM action
//! and the S3 condition keys, then a call to the lead's [`S3Access`].
//!
//! Actions follow "Required permissions for Amazon S3 API operations" and
//! condition keys "Actions, resources, and condition keys for Amazon S3"
//! (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).

use strongbox_core::{Caller, ContextEntry, Denied, RequestMeta};
use strongbox_store::Versioning;

use crate::acl::{Acl, CanonicalIds, GRANT_HEADERS};
use crate::config::{EncryptionConfig, ObjectOwnership, PublicAccessBlock};
use crate::error::S3Error;
use crate::S3Request;

/// Everything authorization needs to know about a bucket.
#[derive(Clone, Debug)]
pub struct BucketInfo {
    pub name: String,
    pub owner_account: String,
    pub region: String,
    pub created: jiff::Timestamp,
    pub versioning: Versioning,
    /// The bucket policy (JSON).
    pub policy: Option<String>,
    pub acl: Acl,
    /// `None`: no ownership controls (behaves as ObjectWriter).
    pub object_ownership: Option<ObjectOwnership>,
    pub public_access_block: Option<PublicAccessBlock>,
    /// The bucket owner account's Block Public Access setting.
    pub account_public_access_block: Option<PublicAccessBlock>,
    pub tags: Vec<(String, String)>,
    pub encryption: Option<EncryptionConfig>,
    /// `None` when Object Lock is not enabled on the bucket.
    pub object_lock: Option<crate::object_lock::ObjectLockConfig>,
}

impl BucketInfo {
    /// Whether ACLs are disabled (BucketOwnerEnforced).
    pub fn acls_disabled(&self) -> bool {
        self.object_ownership == Some(ObjectOwnership::BucketOwnerEnforced)
    }

    /// BlockPublicAcls from the bucket or the account.
    pub fn blocks_public_acls(&self) -> bool {
        self.public_access_block
            .is_some_and(|p| p.block_public_acls)
            || self
                .account_public_access_block
                .is_some_and(|p| p.block_public_acls)
    }

    /// BlockPublicPolicy from the bucket or the account.
    pub fn blocks_public_policy(&self) -> bool {
        self.public_access_block
            .is_some_and(|p| p.block_public_policy)
            || self
                .account_public_access_block
                .is_some_and(|p| p.block_public_policy)
    }
}

/// What authorization needs to know about an existing object.
#[derive(Clone, Debug)]
pub struct ObjectInfo {
    pub owner_account: String,
    pub acl: Acl,
    pub tags: Vec<(String, String)>,
    pub version_id: Option<String>,
}

/// One access check, as handed to [`S3Access::authorize`].
pub struct S3Check<'a> {
    /// `s3:GetObject`, …
    pub action: &'static str,
    pub bucket: Option<&'a BucketInfo>,
    pub key: Option<&'a str>,
    pub object: Option<&'a ObjectInfo>,
    pub context: Vec<ContextEntry>,
    /// The initiator of the multipart upload the check is about
    /// (AbortMultipartUpload, ListParts): a principal ARN, or the canonical
    /// user id of an account (root initiators), as stored with the upload.
    pub upload_initiator: Option<&'a str>,
}

/// Implemented by the lead (strongbox-authz).
pub trait S3Access: Send + Sync {
    fn authorize(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &S3Check<'_>,
    ) -> Result<(), Denied>;
    /// The canonical user id of an account (for Owner and ACL XML).
    fn canonical_user_id(&self, account_id: &str) -> Option<String>;
    /// The account of a canonical user id, if it exists.
    fn account_exists_for_canonical_id(&self, canonical_id: &str) -> Option<String>;
    /// Whether an AWS principal named in a bucket policy exists: an account id,
    /// `arn:aws:iam::A:root`, or a user or role ARN. PutBucketPolicy refuses a
    /// policy naming one that does not with MalformedPolicy "Invalid principal
    /// in policy". The default accepts every principal.
    fn principal_exists(&self, principal: &str) -> bool {
        let _ = principal;
        true
    }
    /// Records a denial decided by an S3 rule rather than by policy evaluation
    /// (Block Public Access, ACLs disabled) in the decision log. The default records nothing.
    fn record_rule_denial(&self, caller: &Caller, meta: &RequestMeta, denial: &RuleDenial<'_>) {
        let _ = (caller, meta, denial);
    }
}

/// A denial by an S3 rule outside policy evaluation (`block_public_acls`,
/// `block_public_policy`, `object_lock`, …): the refusal every service records.
pub use strongbox_core::Refusal as RuleDenial;

/// The four Block Public Access settings of `current` as the aws CLI takes them,
/// with `setting` turned off.
fn settings_without(current: Option<PublicAccessBlock>, setting: &str) -> String {
    let p = current.unwrap_or_default();
    let keep = |name: &str, value: bool| format!("{name}={}", value && name != setting);
    [
        keep("BlockPublicAcls", p.block_public_acls),
        keep("IgnorePublicAcls", p.ignore_public_acls),
        keep("BlockPublicPolicy", p.block_public_policy),
        keep("RestrictPublicBuckets", p.restrict_public_buckets),
    ]
    .join(",")
}

/// A 403 AccessDenied caused by S3 Block Public Access: recorded in the decision
/// log, and explained to callers of the bucket owner's account (others get
/// "Access Denied", as AWS gives cross-account callers no detail).
pub fn block_public_access_denied(
    req: &S3Request,
    bucket: &BucketInfo,
    action: &str,
    resource: &str,
    setting: &str,
) -> S3Error {
    let what = if setting == "BlockPublicPolicy" {
        "a public bucket policy"
    } else {
        "a public ACL"
    };
    let on = |p: &Option<PublicAccessBlock>| {
        p.is_some_and(|p| match setting {
            "BlockPublicPolicy" => p.block_public_policy,
            _ => p.block_public_acls,
        })
    };
    let (at_bucket, at_account) = (
        on(&bucket.public_access_block),
        on(&bucket.account_public_access_block),
    );
    let level = match (at_bucket, at_account) {
        (true, true) => "of the bucket and of the account",
        (false, true) => "of the account",
        _ => "of the bucket",
    };
    let detailed = format!(
        "User: {} is not authorized to perform: {action} on resource: \"{resource}\" because the {setting} setting {level} in S3 Block Public Access refuses {what}",
        req.caller.arn
    );
    let mut commands = Vec::new();
    if at_bucket {
        commands.push(format!(
            "aws s3api put-public-access-block --bucket {} --public-access-block-configuration {}",
            bucket.name,
            settings_without(bucket.public_access_block, setting)
        ));
    }
    if at_account {
        commands.push(format!(
            "aws s3control put-public-access-block --account-id {} --public-access-block-configuration {}",
            bucket.owner_account,
            settings_without(bucket.account_public_access_block, setting)
        ));
    }
    let fix = format!(
        "Send a non-public {}; or, if it is meant to be public (this makes it public), the bucket owner's account turns off {setting} {level}: {}",
        if setting == "BlockPublicPolicy" { "policy" } else { "ACL" },
        commands.join(" and ")
    );
    let rule = if setting == "BlockPublicPolicy" {
        "block_public_policy"
    } else {
        "block_public_acls"
    };
    req.access.record_rule_denial(
        &req.caller,
        &req.meta,
        &RuleDenial {
            action,
            resource,
            rule,
            message: &detailed,
            fix: &fix,
        },
    );
    if !req.caller.is_anonymous() && req.caller.account_id == bucket.owner_account {
        S3Error::AccessDenied(detailed)
    } else {
        S3Error::AccessDenied("Access Denied".into())
    }
}

/// [`S3Access`] as the canonical id lookups ACL code needs.
pub(crate) struct Ids<'a>(pub &'a dyn S3Access);

impl CanonicalIds for Ids<'_> {
    fn canonical_of(&self, account_id: &str) -> String {
        self.0
            .canonical_user_id(account_id)
            .unwrap_or_else(|| account_id.to_string())
    }

    fn account_of(&self, canonical_id: &str) -> Option<String> {
        self.0.account_exists_for_canonical_id(canonical_id)
    }
}

/// The S3 operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketOwnershipControls,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketEncryption,
    PutBucketEncryption,
    DeleteBucketEncryption,
    DeleteObjects,
    GetObject,
    HeadObject,
    PutObject,
    CopyObject,
    DeleteObject,
    GetObjectAttributes,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetObjectAcl,
    PutObjectAcl,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    GetAccountPublicAccessBlock,
    PutAccountPublicAccessBlock,
    DeleteAccountPublicAccessBlock,
    GetObjectLockConfiguration,
    PutObjectLockConfiguration,
    GetObjectRetention,
    PutObjectRetention,
    GetObjectLegalHold,
    PutObjectLegalHold,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    GetBucketLifecycleConfiguration,
    PutBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetBucketLogging,
    PutBucketLogging,
}

/// The IAM action an operation needs; `versioned` when the request names a version.
pub fn action(op: Op, versioned: bool) -> &'static str {
    use Op::*;
    match (op, versioned) {
        (ListBuckets, _) => "s3:ListAllMyBuckets",
        (CreateBucket, _) => "s3:CreateBucket",
        (DeleteBucket, _) => "s3:DeleteBucket",
        (HeadBucket | ListObjects | ListObjectsV2, _) => "s3:ListBucket",
        (GetBucketLocation, _) => "s3:GetBucketLocation",
        (ListObjectVersions, _) => "s3:ListBucketVersions",
        (ListMultipartUploads, _) => "s3:ListBucketMultipartUploads",
        (GetBucketVersioning, _) => "s3:GetBucketVersioning",
        (PutBucketVersioning, _) => "s3:PutBucketVersioning",
        (GetBucketTagging, _) => "s3:GetBucketTagging",
        (PutBucketTagging | DeleteBucketTagging, _) => "s3:PutBucketTagging",
        (GetBucketPolicy, _) => "s3:GetBucketPolicy",
        (PutBucketPolicy, _) => "s3:PutBucketPolicy",
        (DeleteBucketPolicy, _) => "s3:DeleteBucketPolicy",
        (GetBucketPolicyStatus, _) => "s3:GetBucketPolicyStatus",
        (GetBucketAcl, _) => "s3:GetBucketAcl",
        (PutBucketAcl, _) => "s3:PutBucketAcl",
        (GetBucketOwnershipControls, _) => "s3:GetBucketOwnershipControls",
        (PutBucketOwnershipControls | DeleteBucketOwnershipControls, _) => {
            "s3:PutBucketOwnershipControls"
        }
        (GetPublicAccessBlock, _) => "s3:GetBucketPublicAccessBlock",
        (PutPublicAccessBlock | DeletePublicAccessBlock, _) => "s3:PutBucketPublicAccessBlock",
        (GetBucketEncryption, _) => "s3:GetEncryptionConfiguration",
        (PutBucketEncryption | DeleteBucketEncryption, _) => "s3:PutEncryptionConfiguration",
        (GetObject | HeadObject, false) => "s3:GetObject",
        (GetObject | HeadObject, true) => "s3:GetObjectVersion",
        (
            PutObject
            | CopyObject
            | CreateMultipartUpload
            | UploadPart
            | UploadPartCopy
            | CompleteMultipartUpload,
            _,
        ) => "s3:PutObject",
        (DeleteObject | DeleteObjects, false) => "s3:DeleteObject",
        (DeleteObject | DeleteObjects, true) => "s3:DeleteObjectVersion",
        (GetObjectAttributes, false) => "s3:GetObjectAttributes",
        (GetObjectAttributes, true) => "s3:GetObjectVersionAttributes",
        (GetObjectTagging, false) => "s3:GetObjectTagging",
        (GetObjectTagging, true) => "s3:GetObjectVersionTagging",
        (PutObjectTagging, false) => "s3:PutObjectTagging",
        (PutObjectTagging, true) => "s3:PutObjectVersionTagging",
        (DeleteObjectTagging, false) => "s3:DeleteObjectTagging",
        (DeleteObjectTagging, true) => "s3:DeleteObjectVersionTagging",
        (GetObjectAcl, false) => "s3:GetObjectAcl",
        (GetObjectAcl, true) => "s3:GetObjectVersionAcl",
        (PutObjectAcl, false) => "s3:PutObjectAcl",
        (PutObjectAcl, true) => "s3:PutObjectVersionAcl",
        (AbortMultipartUpload, _) => "s3:AbortMultipartUpload",
        (ListParts, _) => "s3:ListMultipartUploadParts",
        (GetAccountPublicAccessBlock, _) => "s3:GetAccountPublicAccessBlock",
        (PutAccountPublicAccessBlock | DeleteAccountPublicAccessBlock, _) => {
            "s3:PutAccountPublicAccessBlock"
        }
        (GetObjectLockConfiguration, _) => "s3:GetBucketObjectLockConfiguration",
        (PutObjectLockConfiguration, _) => "s3:PutBucketObjectLockConfiguration",
        (GetObjectRetention, _) => "s3:GetObjectRetention",
        (PutObjectRetention, _) => "s3:PutObjectRetention",
        (GetObjectLegalHold, _) => "s3:GetObjectLegalHold",
        (PutObjectLegalHold, _) => "s3:PutObjectLegalHold",
        // https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html:
        // "you must have permission to perform the s3:PutBucketCORS action".
        (GetBucketCors, _) => "s3:GetBucketCORS",
        // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLogging.html
        (GetBucketLogging, _) => "s3:GetBucketLogging",
        (PutBucketLogging, _) => "s3:PutBucketLogging",
        (PutBucketCors | DeleteBucketCors, _) => "s3:PutBucketCORS",
        (GetBucketLifecycleConfiguration, _) => "s3:GetLifecycleConfiguration",
        // API Reference, DeleteBucketLifecycle: "To use this operation, you must have
        // permission to perform the s3:PutLifecycleConfiguration action."
        (PutBucketLifecycleConfiguration | DeleteBucketLifecycle, _) => {
            "s3:PutLifecycleConfiguration"
        }
    }
}

/// Operations that write an object (and so take ACL, tagging and SSE headers).
fn writes_object(op: Op) -> bool {
    matches!(
        op,
        Op::PutObject | Op::CopyObject | Op::CreateMultipartUpload
    )
}

/// The S3 condition keys an operation's request supplies.
pub fn context(op: Op, req: &S3Request, object: Option<&ObjectInfo>) -> Vec<ContextEntry> {
    let mut ctx = Vec::new();
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(v) = &req.meta.content_sha256 {
        ctx.push(ContextEntry::new("s3:x-amz-content-sha256", v.clone()));
    }
    if let Some(v) = &req.meta.signature_version {
        ctx.push(ContextEntry::new("s3:signatureversion", v.clone()));
    }
    if let Some(v) = &req.meta.auth_type {
        ctx.push(ContextEntry::new("s3:authType", v.clone()));
    }
    if let Some(v) = req.meta.signature_age_ms {
        ctx.push(ContextEntry::new("s3:signatureAge", v.to_string()));
    }
    let takes_acl =
        writes_object(op) || matches!(op, Op::PutObjectAcl | Op::PutBucketAcl | Op::CreateBucket);
    if takes_acl {
        if let Some(v) = header("x-amz-acl") {
            ctx.push(ContextEntry::new("s3:x-amz-acl", v));
        }
        // Every value of a repeated grant header, as the ACL is built from all of them.
        for (h, _) in GRANT_HEADERS {
            if let Some(v) = crate::headers::joined(&req.headers, h) {
                ctx.push(ContextEntry::new(format!("s3:{h}"), v));
            }
        }
    }
    if writes_object(op) {
        if let Some(v) = header("x-amz-server-side-encryption") {
            ctx.push(ContextEntry::new("s3:x-amz-server-side-encryption", v));
        }
        if let Some(v) = header("x-amz-server-side-encryption-aws-kms-key-id") {
            ctx.push(ContextEntry::new(
                "s3:x-amz-server-side-encryption-aws-kms-key-id",
                v,
            ));
        }
        if let Some(v) = header("x-amz-storage-class") {
            ctx.push(ContextEntry::new("s3:x-amz-storage-class", v));
        }
        if let Some(tags) = header("x-amz-tagging").and_then(|v| crate::tags::parse_header(&v).ok())
        {
            push_request_tags(&mut ctx, &tags);
        }
        let now = req.meta.received_at;
        if let Ok(lock) = crate::object_lock::RequestedLock::from_headers(&req.headers, now) {
            ctx.extend(crate::object_lock::condition_entries(
                lock.retention.as_ref(),
                lock.legal_hold,
                now,
            ));
        }
    }
    // "Requiring SSE-C" (S3 User Guide, ServerSideEncryptionCustomerKeys.html):
    // a bucket policy denies s3:PutObject when this key is Null, so every
    // request authorized as s3:PutObject that carries the header supplies it.
    let writes_data = writes_object(op)
        || matches!(
            op,
            Op::UploadPart | Op::UploadPartCopy | Op::CompleteMultipartUpload
        );
    if writes_data {
        if let Some(v) = header("x-amz-server-side-encryption-customer-algorithm") {
            ctx.push(ContextEntry::new(
                "s3:x-amz-server-side-encryption-customer-algorithm",
                v,
            ));
        }
    }
    if matches!(op, Op::CopyObject | Op::UploadPartCopy) {
        if let Some(v) = header("x-amz-copy-source") {
            ctx.push(ContextEntry::new("s3:x-amz-copy-source", v));
        }
        if let Some(v) = header("x-amz-metadata-directive") {
            ctx.push(ContextEntry::new("s3:x-amz-metadata-directive", v));
        }
    }
    if matches!(op, Op::CreateBucket | Op::PutBucketOwnershipControls) {
        if let Some(v) = header("x-amz-object-ownership") {
            ctx.push(ContextEntry::new("s3:x-amz-object-ownership", v));
        }
    }
    if matches!(
        op,
        Op::ListObjects | Op::ListObjectsV2 | Op::ListObjectVersions
    ) {
        for (param, key) in [
            ("prefix", "s3:prefix"),
            ("delimiter", "s3:delimiter"),
            ("max-keys", "s3:max-keys"),
        ] {
            if let Some(v) = req.query_value(param) {
                ctx.push(ContextEntry::new(key, v));
            }
        }
    }
    if let Some(v) = req.query_value("versionId") {
        ctx.push(ContextEntry::new("s3:versionid", v));
    }
    if let Some(o) = object {
        for (k, v) in &o.tags {
            ctx.push(ContextEntry::new(
                format!("s3:ExistingObjectTag/{k}"),
                v.clone(),
            ));
        }
    }
    ctx
}

/// `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`.
pub fn push_request_tags(ctx: &mut Vec<ContextEntry>, tags: &[(String, String)]) {
    for (k, v) in tags {
        ctx.push(ContextEntry::new(
            format!("s3:RequestObjectTag/{k}"),
            v.clone(),
        ));
    }
    if !tags.is_empty() {
        ctx.push(ContextEntry::multi(
            "s3:RequestObjectTagKeys",
            tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
}

/// Get/Put/DeleteBucketPolicy by an identity outside the bucket owner's account,
/// once the policies allowed it: 405 MethodNotAllowed. API Reference, PutBucketPolicy
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html): "If you
/// have the correct permissions, but you're not using an identity that belongs to the
/// bucket owner's account, Amazon S3 returns a 405 Method Not Allowed error." (the same
/// in GetBucketPolicy and DeleteBucketPolicy).
fn refuse_bucket_policy_ops_of_other_accounts(
    req: &S3Request,
    op: Op,
    bucket: Option<&BucketInfo>,
) -> Result<(), S3Error> {
    let policy_op = matches!(
        op,
        Op::GetBucketPolicy | Op::PutBucketPolicy | Op::DeleteBucketPolicy
    );
    match bucket {
        Some(b)
            if policy_op
                && (req.caller.is_anonymous() || req.caller.account_id != b.owner_account) =>
        {
            Err(S3Error::MethodNotAllowed)
        }
        _ => Ok(()),
    }
}

/// Asks the authorizer; a denial becomes 403 AccessDenied with its message.
pub fn check(
    req: &S3Request,
    action: &'static str,
    bucket: Option<&BucketInfo>,
    key: Option<&str>,
    object: Option<&ObjectInfo>,
    context: Vec<ContextEntry>,
) -> Result<(), S3Error> {
    decide(req, action, bucket, key, object, context).map_err(access_denied)
}

/// Asks the authorizer and answers its denial as it is (for the callers that
/// tell explicit from implicit denials).
pub fn decide(
    req: &S3Request,
    action: &'static str,
    bucket: Option<&BucketInfo>,
    key: Option<&str>,
    object: Option<&ObjectInfo>,
    context: Vec<ContextEntry>,
) -> Result<(), Denied> {
    let check = S3Check {
        action,
        bucket,
        key,
        object,
        context,
        upload_initiator: None,
    };
    ask(req, &check)
}

/// Authorizes `op` on a multipart upload, where the upload's initiator has
/// default permissions of its own (see [`S3Check::upload_initiator`]).
pub fn authorize_upload(
    req: &S3Request,
    op: Op,
    bucket: &BucketInfo,
    key: &str,
    initiator: &str,
) -> Result<(), S3Error> {
    let check = S3Check {
        action: action(op, false),
        bucket: Some(bucket),
        key: Some(key),
        object: None,
        context: context(op, req, None),
        upload_initiator: Some(initiator),
    };
    ask(req, &check).map_err(access_denied)
}

fn ask(req: &S3Request, check: &S3Check<'_>) -> Result<(), Denied> {
    strongbox_core::timing::time(strongbox_core::timing::Stage::Authorize, || {
        req.access.authorize(&req.caller, &req.meta, check)
    })
}

/// A denial as 403 AccessDenied, with the detailed message only where AWS shows it.
pub fn access_denied(d: Denied) -> S3Error {
    let message = if d.detailed {
        d.message
    } else {
        "Access Denied".to_string()
    };
    S3Error::AccessDenied(message)
}

/// Authorizes `op` (and the extra actions some requests need: s3:PutObjectAcl
/// for ACL headers on writes, s3:PutObjectTagging for x-amz-tagging,
/// s3:PutBucketAcl / s3:PutBucketOwnershipControls on CreateBucket).
pub fn authorize(
    req: &S3Request,
    op: Op,
    bucket: Option<&BucketInfo>,
    key: Option<&str>,
    object: Option<&ObjectInfo>,
) -> Result<(), S3Error> {
    let versioned = req.query_value("versionId").is_some();
    let ctx = context(op, req, object);
    check(req, action(op, versioned), bucket, key, object, ctx.clone())?;
    refuse_bucket_policy_ops_of_other_accounts(req, op, bucket)?;
    let acl_headers = crate::acl::has_acl_headers(&req.headers);
    if writes_object(op) {
        if acl_headers {
            check(req, "s3:PutObjectAcl", bucket, key, object, ctx.clone())?;
        }
        if req.headers.contains_key("x-amz-tagging") && op != Op::CopyObject {
            check(req, "s3:PutObjectTagging", bucket, key, object, ctx.clone())?;
        }
        // API Reference, PutObject: Object Lock headers need their own permissions.
        if req.headers.contains_key("x-amz-object-lock-mode")
            || req
                .headers
                .contains_key("x-amz-object-lock-retain-until-date")
        {
            check(
                req,
                "s3:PutObjectRetention",
                bucket,
                key,
                object,
                ctx.clone(),
            )?;
        }
        if req.headers.contains_key("x-amz-object-lock-legal-hold") {
            check(
                req,
                "s3:PutObjectLegalHold",
                bucket,
                key,
                object,
                ctx.clone(),
            )?;
        }
    }
    if op == Op::CreateBucket {
        if acl_headers {
            check(req, "s3:PutBucketAcl", bucket, None, None, ctx.clone())?;
        }
        if req
            .header("x-amz-bucket-object-lock-enabled")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            // User Guide, "Object Lock considerations": creating a bucket with
            // Object Lock also needs these two.
            check(
                req,
                "s3:PutBucketObjectLockConfiguration",
                bucket,
                None,
                None,
                ctx.clone(),
            )?;
            check(
                req,
                "s3:PutBucketVersioning",
                bucket,
                None,
                None,
                ctx.clone(),
            )?;
        }
        if req.headers.contains_key("x-amz-object-ownership") {
            check(
                req,
                "s3:PutBucketOwnershipControls",
                bucket,
                None,
                None,
                ctx,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_actions() {
        assert_eq!(action(Op::GetObject, false), "s3:GetObject");
        assert_eq!(action(Op::HeadObject, true), "s3:GetObjectVersion");
        assert_eq!(action(Op::DeleteObject, true), "s3:DeleteObjectVersion");
        assert_eq!(action(Op::ListObjectsV2, false), "s3:ListBucket");
        assert_eq!(
            action(Op::DeleteBucketTagging, false),
            "s3:PutBucketTagging"
        );
        assert_eq!(action(Op::CompleteMultipartUpload, false), "s3:PutObject");
        assert_eq!(action(Op::PutObjectAcl, true), "s3:PutObjectVersionAcl");
        assert_eq!(
            action(Op::GetBucketLifecycleConfiguration, false),
            "s3:GetLifecycleConfiguration"
        );
        assert_eq!(
            action(Op::DeleteBucketLifecycle, false),
            "s3:PutLifecycleConfiguration"
        );
    }
}
