//! strongbox-kms: a key management service that behaves like AWS KMS, and the
//! chunked object-encryption format used for SSE-S3, SSE-KMS and SSE-C.
//!
//! The server authenticates a `kms` request and calls [`Kms::handle`] with the
//! `X-Amz-Target` and JSON body; every operation authorizes through the
//! [`Authorizer`] with the key policy as a required resource policy, and falls
//! back to the key's grants on an implicit deny. S3 uses the `s3_*` and
//! `sse_s3_*` hooks (module [`s3`]).
//!
//! Operations: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion, UpdateKeyDescription,
//! Get/Put/ListKeyPolicies, Create/Update/Delete/ListAliases, Encrypt, Decrypt,
//! ReEncrypt, GenerateDataKey(WithoutPlaintext), GenerateRandom,
//! Create/List/Retire/RevokeGrant, ListRetirableGrants, Tag/UntagResource,
//! ListResourceTags, Enable/DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations. Keys are symmetric (SYMMETRIC_DEFAULT,
//! ENCRYPT_DECRYPT, AWS_KMS origin); other key types answer
//! `UnsupportedOperationException`.

mod api;
#[cfg(test)]
mod api_tests;
mod auth;
pub mod ciphertext;
pub mod error;
#[cfg(test)]
mod grant_tests;
pub mod grants;
mod key_cache;
mod keys;
pub mod master;
pub mod object_crypto;
pub mod policy_docs;
pub mod s3;
#[cfg(test)]
mod s3_tests;
pub mod store;
#[cfg(test)]
mod testing;

use std::path::Path;
use std::sync::{Arc, Mutex};

use strongbox_core::db::Db;
use strongbox_core::{Authorizer, AwsError as _, Caller, RequestMeta};

pub use error::KmsError;
pub use s3::S3DataKey;

/// A JSON 1.1 response: status and body (content type `application/x-amz-json-1.1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonReply {
    pub status: u16,
    pub body: String,
}

/// The content type of every KMS response.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The key management service of one region.
pub struct Kms {
    db: Arc<Db>,
    region: String,
    master: master::MasterKeys,
    /// Serializes creation of AWS managed keys (one `aws/s3` per account).
    managed_key_lock: Mutex<()>,
    /// Key rows, aliases and tags, unwrapped material, between writes.
    cache: key_cache::KeyCache,
}

/// Who is asking, and through which service.
pub(crate) struct Request<'a> {
    pub caller: &'a Caller,
    pub meta: &'a RequestMeta,
    pub authz: &'a dyn Authorizer,
    /// `kms:ViaService`, e.g. `s3.us-east-1.amazonaws.com`, when a service calls on the caller's behalf.
    pub via_service: Option<String>,
}

impl Kms {
    /// Opens the KMS over the metadata database: creates its tables and loads
    /// the master key (from `master_secret`, else `data_dir/master.key`).
    pub fn open(
        db: Arc<Db>,
        data_dir: &Path,
        region: &str,
        master_secret: Option<&str>,
    ) -> Result<Kms, KmsError> {
        let master = strongbox_core::sealing::MasterKey::load(data_dir, master_secret)?;
        Kms::with_master(db, region, &master)
    }

    /// Opens the KMS over the metadata database with the server's master key.
    pub fn with_master(
        db: Arc<Db>,
        region: &str,
        master: &strongbox_core::sealing::MasterKey,
    ) -> Result<Kms, KmsError> {
        store::migrate(&db)?;
        let master = master::MasterKeys::derive(master)?;
        Ok(Kms {
            db,
            region: region.to_string(),
            master,
            managed_key_lock: Mutex::new(()),
            cache: key_cache::KeyCache::new(),
        })
    }

    /// The region this KMS serves.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Runs one KMS API operation. `target` is the `X-Amz-Target` header
    /// (`TrentService.Encrypt`) or the bare operation name.
    pub fn handle(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        authz: &dyn Authorizer,
        target: &str,
        body: &[u8],
    ) -> JsonReply {
        let req = Request {
            caller,
            meta,
            authz,
            via_service: None,
        };
        let operation = target.strip_prefix("TrentService.").unwrap_or(target);
        let result = if caller.is_anonymous() {
            // KMS accepts only signed requests.
            Err(KmsError::MissingAuthenticationToken)
        } else {
            api::dispatch(self, &req, operation, body)
        };
        match result {
            Ok(value) => JsonReply {
                status: 200,
                body: value.to_string(),
            },
            Err(e) => {
                tracing::debug!(operation, code = e.code(), message = %e, "kms request failed");
                JsonReply {
                    status: e.status(),
                    body: e.to_json(),
                }
            }
        }
    }
}
