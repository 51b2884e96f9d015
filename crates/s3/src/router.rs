//! Which operation a request is: method, bucket/key presence and sub-resources.

use http::{Method, Response};

use crate::authorization::Op;
use crate::body::S3Body;
use crate::error::{S3Error, S3Result};
use crate::{S3Request, S3Service};

/// Sub-resources this server does not implement (answered with NotImplemented).
const UNSUPPORTED: [&str; 13] = [
    "torrent",
    "accelerate",
    "analytics",
    "intelligent-tiering",
    "inventory",
    "metadataTable",
    "metrics",
    "notification",
    "replication",
    "requestPayment",
    "website",
    "restore",
    "select",
];

/// Classifies a request.
pub fn classify(req: &S3Request) -> Result<Op, S3Error> {
    let q = |n: &str| req.has_query(n);
    if let Some(sub) = UNSUPPORTED.iter().find(|s| q(s)) {
        return Err(S3Error::NotImplemented(format!(
            "The {sub} subresource is not implemented by this server"
        )));
    }
    let m = &req.method;
    let op = match (&req.bucket, &req.key) {
        (None, _) => match *m {
            Method::GET => Op::ListBuckets,
            _ => return Err(S3Error::MethodNotAllowed),
        },
        (Some(_), None) => match *m {
            Method::GET if q("location") => Op::GetBucketLocation,
            Method::GET if q("versioning") => Op::GetBucketVersioning,
            Method::GET if q("versions") => Op::ListObjectVersions,
            Method::GET if q("uploads") => Op::ListMultipartUploads,
            Method::GET if q("tagging") => Op::GetBucketTagging,
            Method::GET if q("policyStatus") => Op::GetBucketPolicyStatus,
            Method::GET if q("policy") => Op::GetBucketPolicy,
            Method::GET if q("acl") => Op::GetBucketAcl,
            Method::GET if q("ownershipControls") => Op::GetBucketOwnershipControls,
            Method::GET if q("publicAccessBlock") => Op::GetPublicAccessBlock,
            Method::GET if q("encryption") => Op::GetBucketEncryption,
            Method::GET if q("object-lock") => Op::GetObjectLockConfiguration,
            Method::GET if q("cors") => Op::GetBucketCors,
            Method::GET if q("logging") => Op::GetBucketLogging,
            Method::GET if q("lifecycle") => Op::GetBucketLifecycleConfiguration,
            Method::GET if req.query_value("list-type").as_deref() == Some("2") => {
                Op::ListObjectsV2
            }
            Method::GET => Op::ListObjects,
            Method::HEAD => Op::HeadBucket,
            Method::PUT if q("versioning") => Op::PutBucketVersioning,
            Method::PUT if q("tagging") => Op::PutBucketTagging,
            Method::PUT if q("policy") => Op::PutBucketPolicy,
            Method::PUT if q("acl") => Op::PutBucketAcl,
            Method::PUT if q("ownershipControls") => Op::PutBucketOwnershipControls,
            Method::PUT if q("publicAccessBlock") => Op::PutPublicAccessBlock,
            Method::PUT if q("encryption") => Op::PutBucketEncryption,
            Method::PUT if q("object-lock") => Op::PutObjectLockConfiguration,
            Method::PUT if q("cors") => Op::PutBucketCors,
            Method::PUT if q("logging") => Op::PutBucketLogging,
            Method::PUT if q("lifecycle") => Op::PutBucketLifecycleConfiguration,
            Method::PUT => Op::CreateBucket,
            Method::DELETE if q("tagging") => Op::DeleteBucketTagging,
            Method::DELETE if q("policy") => Op::DeleteBucketPolicy,
            Method::DELETE if q("ownershipControls") => Op::DeleteBucketOwnershipControls,
            Method::DELETE if q("publicAccessBlock") => Op::DeletePublicAccessBlock,
            Method::DELETE if q("encryption") => Op::DeleteBucketEncryption,
            Method::DELETE if q("cors") => Op::DeleteBucketCors,
            Method::DELETE if q("lifecycle") => Op::DeleteBucketLifecycle,
            Method::DELETE => Op::DeleteBucket,
            Method::POST if q("delete") => Op::DeleteObjects,
            _ => return Err(S3Error::MethodNotAllowed),
        },
        (Some(_), Some(_)) => match *m {
            Method::GET if q("uploadId") => Op::ListParts,
            Method::GET if q("tagging") => Op::GetObjectTagging,
            Method::GET if q("acl") => Op::GetObjectAcl,
            Method::GET if q("attributes") => Op::GetObjectAttributes,
            Method::GET if q("retention") => Op::GetObjectRetention,
            Method::GET if q("legal-hold") => Op::GetObjectLegalHold,
            Method::GET => Op::GetObject,
            Method::HEAD => Op::HeadObject,
            Method::PUT if q("uploadId") || q("partNumber") => {
                if req.headers.contains_key("x-amz-copy-source") {
                    Op::UploadPartCopy
                } else {
                    Op::UploadPart
                }
            }
            Method::PUT if q("tagging") => Op::PutObjectTagging,
            Method::PUT if q("acl") => Op::PutObjectAcl,
            Method::PUT if q("retention") => Op::PutObjectRetention,
            Method::PUT if q("legal-hold") => Op::PutObjectLegalHold,
            Method::PUT if req.headers.contains_key("x-amz-copy-source") => Op::CopyObject,
            Method::PUT => Op::PutObject,
            Method::POST if q("uploads") => Op::CreateMultipartUpload,
            Method::POST if q("uploadId") => Op::CompleteMultipartUpload,
            Method::DELETE if q("uploadId") => Op::AbortMultipartUpload,
            Method::DELETE if q("tagging") => Op::DeleteObjectTagging,
            Method::DELETE => Op::DeleteObject,
            _ => return Err(S3Error::MethodNotAllowed),
        },
    };
    Ok(op)
}

impl S3Service {
    pub(crate) async fn dispatch(&self, req: &mut S3Request) -> S3Result<Response<S3Body>> {
        let op = classify(req)?;
        tracing::debug!(?op, request_id = %req.meta.request_id, "s3 operation");
        let bucket = req.bucket.clone().unwrap_or_default();
        let key = req.key.clone().unwrap_or_default();
        let (b, k) = (bucket.as_str(), key.as_str());
        let reply = match op {
            Op::ListBuckets => self.list_buckets(req)?,
            Op::CreateBucket => self.create_bucket(req, b).await?,
            Op::DeleteBucket => self.delete_bucket(req, b)?,
            Op::HeadBucket => self.head_bucket(req, b)?,
            Op::GetBucketLocation => self.get_bucket_location(req, b)?,
            Op::ListObjects => self.list_objects(req, b, false)?,
            Op::ListObjectsV2 => self.list_objects(req, b, true)?,
            Op::ListObjectVersions => self.list_object_versions(req, b)?,
            Op::ListMultipartUploads => self.list_multipart_uploads(req, b)?,
            Op::GetBucketVersioning => self.get_bucket_versioning(req, b)?,
            Op::PutBucketVersioning => self.put_bucket_versioning(req, b).await?,
            Op::GetBucketTagging => self.get_bucket_tagging(req, b)?,
            Op::PutBucketTagging => self.put_bucket_tagging(req, b).await?,
            Op::DeleteBucketTagging => self.delete_bucket_config(req, b, op)?,
            Op::GetBucketPolicy => self.get_bucket_policy(req, b)?,
            Op::PutBucketPolicy => self.put_bucket_policy(req, b).await?,
            Op::DeleteBucketPolicy => self.delete_bucket_config(req, b, op)?,
            Op::GetBucketPolicyStatus => self.get_bucket_policy_status(req, b)?,
            Op::GetBucketAcl => self.get_bucket_acl(req, b)?,
            Op::PutBucketAcl => self.put_bucket_acl(req, b).await?,
            Op::GetBucketOwnershipControls => self.get_ownership_controls(req, b)?,
            Op::PutBucketOwnershipControls => self.put_ownership_controls(req, b).await?,
            Op::DeleteBucketOwnershipControls => self.delete_bucket_config(req, b, op)?,
            Op::GetPublicAccessBlock => self.get_public_access_block(req, b)?,
            Op::PutPublicAccessBlock => self.put_public_access_block(req, b).await?,
            Op::DeletePublicAccessBlock => self.delete_bucket_config(req, b, op)?,
            Op::GetBucketEncryption => self.get_bucket_encryption(req, b)?,
            Op::PutBucketEncryption => self.put_bucket_encryption(req, b).await?,
            Op::DeleteBucketEncryption => self.delete_bucket_config(req, b, op)?,
            Op::GetBucketCors => self.get_bucket_cors(req, b)?,
            Op::PutBucketCors => self.put_bucket_cors(req, b).await?,
            Op::DeleteBucketCors => self.delete_bucket_config(req, b, op)?,
            Op::GetBucketLogging => self.get_bucket_logging(req, b)?,
            Op::PutBucketLogging => self.put_bucket_logging(req, b).await?,
            Op::DeleteObjects => self.delete_objects(req, b).await?,
            Op::GetObject => self.get_object(req, b, k, false).await?,
            Op::HeadObject => self.get_object(req, b, k, true).await?,
            Op::PutObject => self.put_object(req, b, k).await?,
            Op::CopyObject => self.copy_object(req, b, k).await?,
            Op::DeleteObject => self.delete_object(req, b, k)?,
            Op::GetObjectAttributes => self.get_object_attributes(req, b, k)?,
            Op::GetObjectTagging => self.get_object_tagging(req, b, k)?,
            Op::PutObjectTagging => self.put_object_tagging(req, b, k).await?,
            Op::DeleteObjectTagging => self.delete_object_tagging(req, b, k)?,
            Op::GetObjectAcl => self.get_object_acl(req, b, k)?,
            Op::PutObjectAcl => self.put_object_acl(req, b, k).await?,
            Op::CreateMultipartUpload => self.create_multipart_upload(req, b, k)?,
            Op::UploadPart => self.upload_part(req, b, k).await?,
            Op::UploadPartCopy => self.upload_part_copy(req, b, k).await?,
            Op::CompleteMultipartUpload => self.complete_multipart_upload(req, b, k).await?,
            Op::AbortMultipartUpload => self.abort_multipart_upload(req, b, k)?,
            Op::ListParts => self.list_parts(req, b, k)?,
            Op::GetObjectLockConfiguration => self.get_object_lock_configuration(req, b)?,
            Op::PutObjectLockConfiguration => self.put_object_lock_configuration(req, b).await?,
            Op::GetObjectRetention => self.get_object_retention(req, b, k)?,
            Op::PutObjectRetention => self.put_object_retention(req, b, k).await?,
            Op::GetObjectLegalHold => self.get_object_legal_hold(req, b, k)?,
            Op::PutObjectLegalHold => self.put_object_legal_hold(req, b, k).await?,
            Op::GetBucketLifecycleConfiguration => self.get_bucket_lifecycle(req, b)?,
            Op::PutBucketLifecycleConfiguration => self.put_bucket_lifecycle(req, b).await?,
            Op::DeleteBucketLifecycle => self.delete_bucket_lifecycle(req, b)?,
            Op::GetAccountPublicAccessBlock
            | Op::PutAccountPublicAccessBlock
            | Op::DeleteAccountPublicAccessBlock => return Err(S3Error::MethodNotAllowed.into()),
        };
        Ok(reply.build())
    }
}
