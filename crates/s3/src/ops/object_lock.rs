//! Object Lock operations: Get/PutObjectLockConfiguration on buckets,
//! Get/PutObjectRetention and Get/PutObjectLegalHold on versions, and the
//! protection check that DeleteObject and DeleteObjects run.
//!
//! API Reference: PutObjectLockConfiguration, PutObjectRetention,
//! PutObjectLegalHold (<https://docs.aws.amazon.com/AmazonS3/latest/API/>);
//! User Guide, "Locking objects with Object Lock".

use jiff::Timestamp;
use strongbox_store::{BucketField, ObjectVersion, Versioning};

use super::object_info;
use crate::authorization::{check, context, BucketInfo, Op};
use crate::error::{Failure, S3Error, S3Result};
use crate::object_lock::{
    bypass_requested, classify_change, condition_entries, legal_hold_from_xml, legal_hold_to_xml,
    missing_configuration, retention_from_xml, retention_to_xml, ObjectLockConfig, Protection,
    RequestedLock, RetentionChange, VersionLock, PROTECTED,
};
use crate::response::Reply;
use crate::{S3Request, S3Service};

/// The action that lets a caller lift governance retention.
const BYPASS: &str = "s3:BypassGovernanceRetention";

/// Whether the caller may bypass governance retention on `key` (asked only
/// when the request carries `x-amz-bypass-governance-retention: true`).
pub(crate) fn may_bypass(
    req: &S3Request,
    bucket: &BucketInfo,
    key: &str,
    object: Option<&ObjectVersion>,
) -> bool {
    if !bypass_requested(&req.headers) {
        return false;
    }
    let info = object.map(|o| object_info(req, o));
    let ctx = context(Op::DeleteObject, req, info.as_ref());
    check(req, BYPASS, Some(bucket), Some(key), info.as_ref(), ctx).is_ok()
}

/// AWS's denial of a change Object Lock forbids, recorded in the decision log
/// with the rule that decided and what would allow it.
fn protected(
    req: &S3Request,
    action: &str,
    bucket: &BucketInfo,
    key: &str,
    lock: &VersionLock,
) -> S3Error {
    let now = Timestamp::now();
    let (rule, fix) = if lock.legal_hold_on() {
        (
            "object_lock_legal_hold",
            "Remove the legal hold first (s3api put-object-legal-hold --legal-hold Status=OFF), which needs s3:PutObjectLegalHold.".to_string(),
        )
    } else {
        match lock.retention {
            Some(r) if r.mode == crate::object_lock::RetentionMode::Compliance && r.active(now) => (
                "object_lock_compliance",
                format!(
                    "Nothing can lift compliance-mode retention: wait until {} (the retain-until date).",
                    crate::dates::iso8601(r.until())
                ),
            ),
            _ => (
                "object_lock_governance",
                "Send x-amz-bypass-governance-retention: true as a caller allowed s3:BypassGovernanceRetention on the object, or wait until the retain-until date.".to_string(),
            ),
        }
    };
    let resource = format!("arn:aws:s3:::{}/{key}", bucket.name);
    req.access.record_rule_denial(
        &req.caller,
        &req.meta,
        &crate::RuleDenial {
            action,
            resource: &resource,
            rule,
            message: PROTECTED,
            fix: &fix,
        },
    );
    S3Error::AccessDenied(PROTECTED.into())
}

/// Refuses deleting `version` when Object Lock protects it.
pub(crate) fn check_deletable(
    req: &S3Request,
    bucket: &BucketInfo,
    key: &str,
    version: &ObjectVersion,
) -> Result<(), S3Error> {
    if bucket.object_lock.is_none() && version.lock.is_none() {
        return Ok(());
    }
    let lock = VersionLock::from_json(version.lock.as_deref());
    match lock.protection(Timestamp::now()) {
        Protection::None => Ok(()),
        Protection::Governance if may_bypass(req, bucket, key, Some(version)) => Ok(()),
        _ => Err(protected(req, "s3:DeleteObjectVersion", bucket, key, &lock)),
    }
}

/// The Object Lock headers a write carries.
const LOCK_HEADERS: [&str; 3] = [
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
];

/// The stored Object Lock state of a new version written by `req` into
/// `bucket` (PutObject, CopyObject): the requested retention and legal hold,
/// else the bucket's default retention. Lock headers need Object Lock on the
/// bucket and, on PutObject, an integrity header (API Reference, PutObject:
/// "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any
/// request to upload an object with a retention period configured using
/// Amazon S3 Object Lock").
pub(crate) fn new_version_lock(
    req: &S3Request,
    bucket: &BucketInfo,
    needs_integrity: bool,
) -> Result<Option<String>, Failure> {
    let now = Timestamp::now();
    let requested = RequestedLock::from_headers(&req.headers, now)?;
    if needs_integrity
        && !requested.is_empty()
        && bucket.object_lock.is_some()
        && !super::has_integrity_header(&req.headers)
    {
        return Err(S3Error::InvalidRequest(
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
                .into(),
        )
        .into());
    }
    Ok(requested.for_new_version(bucket.object_lock.as_ref(), now)?)
}

/// The lock headers of a CreateMultipartUpload, kept with the upload's stored
/// headers until CompleteMultipartUpload.
pub(crate) fn lock_headers_of(req: &S3Request) -> Result<Vec<(String, String)>, Failure> {
    RequestedLock::from_headers(&req.headers, Timestamp::now())?;
    Ok(LOCK_HEADERS
        .iter()
        .filter_map(|h| req.header(h).map(|v| (h.to_string(), v.trim().to_string())))
        .collect())
}

/// Stored response headers of an object or upload (name, value).
type StoredHeaders = Vec<(String, String)>;

/// Splits an upload's stored headers into the object's headers and the
/// stored Object Lock state of the completed object.
pub(crate) fn complete_lock(
    headers: StoredHeaders,
    bucket: &BucketInfo,
) -> Result<(StoredHeaders, Option<String>), Failure> {
    let (lock, rest): (Vec<_>, Vec<_>) = headers
        .into_iter()
        .partition(|(k, _)| LOCK_HEADERS.contains(&k.as_str()));
    let now = Timestamp::now();
    // A retain-until date that passed while the upload was in progress is
    // refused at completion, as at the start.
    let requested = RequestedLock::from_lookup(
        |name| {
            lock.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        },
        now,
    )?;
    Ok((
        rest,
        requested.for_new_version(bucket.object_lock.as_ref(), now)?,
    ))
}

/// The `x-amz-object-lock-*` headers of GetObject and HeadObject: AWS returns
/// the retention only to callers allowed s3:GetObjectRetention and the legal
/// hold only to those allowed s3:GetObjectLegalHold (API Reference, GetObject).
pub(crate) fn lock_response_headers(
    req: &S3Request,
    bucket: &BucketInfo,
    key: &str,
    o: &ObjectVersion,
) -> Vec<(&'static str, String)> {
    if o.lock.is_none() {
        return Vec::new();
    }
    let lock = VersionLock::from_json(o.lock.as_deref());
    let info = object_info(req, o);
    let allowed = |action: &'static str| {
        let ctx = context(Op::GetObject, req, Some(&info));
        check(req, action, Some(bucket), Some(key), Some(&info), ctx).is_ok()
    };
    let retention = lock.retention.is_some() && allowed("s3:GetObjectRetention");
    let legal_hold = lock.legal_hold.is_some() && allowed("s3:GetObjectLegalHold");
    lock.response_headers(retention, legal_hold)
}

impl S3Service {
    /// GetObjectLockConfiguration.
    pub(crate) fn get_object_lock_configuration(
        &self,
        req: &S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetObjectLockConfiguration)?;
        match &bucket.object_lock {
            Some(config) => Ok(Reply::ok().xml(config.to_xml())),
            None => {
                Err(Failure::from(S3Error::ObjectLockConfigurationNotFound)
                    .with("BucketName", name))
            }
        }
    }

    /// PutObjectLockConfiguration: sets the default retention, or enables
    /// Object Lock on a bucket whose versioning is enabled.
    pub(crate) async fn put_object_lock_configuration(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::PutObjectLockConfiguration)?;
        let doc = self.read_xml(req).await?;
        let config = ObjectLockConfig::from_xml(&doc)?;
        if bucket.versioning != Versioning::Enabled {
            return Err(S3Error::InvalidBucketState(
                "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
                    .into(),
            )
            .into());
        }
        self.store
            .meta
            .set_bucket_field(name, BucketField::ObjectLock, Some(&config.to_json()))?;
        Ok(Reply::ok())
    }

    /// The version a retention or legal-hold request names, authorized for `op`.
    fn lock_target(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        key: &str,
        op: Op,
        extra: Vec<strongbox_core::ContextEntry>,
    ) -> S3Result<ObjectVersion> {
        let version = req.query_value("versionId");
        let found = self.authorized_version(req, bucket, key, version.as_deref(), op, extra)?;
        if bucket.object_lock.is_none() {
            return Err(missing_configuration().into());
        }
        match found {
            Some(o) if !o.delete_marker => Ok(o),
            Some(_) => Err(S3Error::MethodNotAllowed.into()),
            None if version.is_some() => Err(S3Error::NoSuchVersion.into()),
            None => Err(Failure::from(S3Error::NoSuchKey).with("Key", key)),
        }
    }

    /// GetObjectRetention.
    pub(crate) fn get_object_retention(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let o = self.lock_target(req, &bucket, key, Op::GetObjectRetention, Vec::new())?;
        match VersionLock::from_json(o.lock.as_deref()).retention {
            Some(r) => Ok(Reply::ok().xml(retention_to_xml(&r))),
            None => Err(S3Error::NoSuchObjectLockConfiguration.into()),
        }
    }

    /// PutObjectRetention: same or stricter always; shorter or removed only
    /// for governance retention with a permitted bypass.
    pub(crate) async fn put_object_retention(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let doc = self.read_xml(req).await?;
        let now = Timestamp::now();
        let new = retention_from_xml(&doc, now)?;
        let extra = condition_entries(new.as_ref(), None, now);
        let o = self.lock_target(req, &bucket, key, Op::PutObjectRetention, extra)?;
        let mut lock = VersionLock::from_json(o.lock.as_deref());
        match classify_change(lock.retention, new, now) {
            RetentionChange::Allowed => {}
            RetentionChange::NeedsBypass if may_bypass(req, &bucket, key, Some(&o)) => {}
            _ => {
                // The retention decides here, not a legal hold.
                let retention_only = VersionLock {
                    legal_hold: None,
                    ..lock
                };
                return Err(
                    protected(req, "s3:PutObjectRetention", &bucket, key, &retention_only).into(),
                );
            }
        }
        lock.retention = new;
        self.store
            .meta
            .set_object_lock(o.row_id, lock.to_json().as_deref())?;
        Ok(Reply::ok())
    }

    /// GetObjectLegalHold.
    pub(crate) fn get_object_legal_hold(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let o = self.lock_target(req, &bucket, key, Op::GetObjectLegalHold, Vec::new())?;
        match VersionLock::from_json(o.lock.as_deref()).legal_hold {
            Some(on) => Ok(Reply::ok().xml(legal_hold_to_xml(on))),
            None => Err(S3Error::NoSuchObjectLockConfiguration.into()),
        }
    }

    /// PutObjectLegalHold.
    pub(crate) async fn put_object_legal_hold(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let doc = self.read_xml(req).await?;
        let on = legal_hold_from_xml(&doc)?;
        let extra = condition_entries(None, Some(on), Timestamp::now());
        let o = self.lock_target(req, &bucket, key, Op::PutObjectLegalHold, extra)?;
        let mut lock = VersionLock::from_json(o.lock.as_deref());
        lock.legal_hold = Some(on);
        self.store
            .meta
            .set_object_lock(o.row_id, lock.to_json().as_deref())?;
        Ok(Reply::ok())
    }
}
