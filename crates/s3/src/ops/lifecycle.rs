//! Put/Get/DeleteBucketLifecycleConfiguration, and the `x-amz-expiration`
//! header of objects a rule will expire.
//!
//! API Reference: PutBucketLifecycleConfiguration ("you must include the
//! Content-MD5 header"; SDKs may send an `x-amz-checksum-*` instead),
//! GetBucketLifecycleConfiguration (404 NoSuchLifecycleConfiguration without one),
//! DeleteBucketLifecycle (204; authorized as s3:PutLifecycleConfiguration).

use std::sync::Arc;

use jiff::Timestamp;

use crate::authorization::{BucketInfo, Op};
use crate::error::{Failure, S3Error, S3Result};
use crate::lifecycle::{expiration_header, LifecycleConfig};
use crate::response::Reply;
use crate::xml;
use crate::{S3Request, S3Service};

/// S3 answers Put/GetBucketLifecycleConfiguration with the default minimum
/// object size for transitions; this store has no transitions, so it is the default.
const MIN_SIZE_HEADER: (&str, &str) = (
    "x-amz-transition-default-minimum-object-size",
    "all_storage_classes_128K",
);

/// An ID for a rule sent without one (S3 assigns one).
fn new_rule_id() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(strongbox_core::ids::random_bytes(36))
}

impl S3Service {
    /// GetBucketLifecycleConfiguration.
    pub(crate) fn get_bucket_lifecycle(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::GetBucketLifecycleConfiguration)?;
        let config = self
            .store
            .lifecycle
            .get_lifecycle(name)?
            .and_then(|text| LifecycleConfig::from_json(&text))
            .ok_or_else(|| {
                Failure::from(S3Error::NoSuchLifecycleConfiguration).with("BucketName", name)
            })?;
        Ok(Reply::ok()
            .header(MIN_SIZE_HEADER.0, MIN_SIZE_HEADER.1)
            .xml(config.to_xml()))
    }

    /// PutBucketLifecycleConfiguration: replaces the whole configuration.
    pub(crate) async fn put_bucket_lifecycle(
        &self,
        req: &mut S3Request,
        name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::PutBucketLifecycleConfiguration)?;
        let body =
            super::read_checked_body(req, super::MAX_XML_BODY, S3Error::MalformedXml).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(S3Error::MissingRequestBody.into());
        }
        let doc = xml::parse(&body)?;
        let config = LifecycleConfig::from_xml(&doc, new_rule_id)?;
        self.store
            .lifecycle
            .set_lifecycle(name, Some(&config.to_json()))?;
        self.lifecycle.forget(name);
        Ok(Reply::ok().header(MIN_SIZE_HEADER.0, MIN_SIZE_HEADER.1))
    }

    /// DeleteBucketLifecycle.
    pub(crate) fn delete_bucket_lifecycle(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::DeleteBucketLifecycle)?;
        self.store.lifecycle.set_lifecycle(name, None)?;
        self.lifecycle.forget(name);
        Ok(Reply::no_content())
    }

    /// The bucket's lifecycle configuration (cached per bucket incarnation).
    fn lifecycle_of(&self, bucket: &BucketInfo) -> Option<Arc<LifecycleConfig>> {
        if let Some(known) = self.lifecycle.cached(&bucket.name, bucket.created) {
            return known;
        }
        let config = match self.store.lifecycle.get_lifecycle(&bucket.name) {
            Ok(text) => text
                .and_then(|t| LifecycleConfig::from_json(&t))
                .map(Arc::new),
            Err(err) => {
                tracing::warn!(%err, bucket = %bucket.name, "cannot read the lifecycle configuration");
                return None;
            }
        };
        self.lifecycle
            .remember(&bucket.name, bucket.created, config.clone());
        config
    }

    /// `x-amz-expiration` for the current version (`key`, `size`, `tags`,
    /// created `created`) when an enabled Expiration rule applies to it.
    pub(crate) fn expiration_of(
        &self,
        bucket: &BucketInfo,
        key: &str,
        size: u64,
        tags: &[(String, String)],
        created: Timestamp,
    ) -> Option<String> {
        let config = self.lifecycle_of(bucket)?;
        let (due, rule) = config.current_expiry(&self.lifecycle.clock, key, size, tags, created)?;
        Some(expiration_header(due, rule))
    }
}
