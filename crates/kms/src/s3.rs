//! Hooks for S3 server-side encryption.
//!
//! * SSE-KMS: S3 calls KMS *as the requester*, so the key policy, IAM policies
//!   and grants of the requester decide, with `kms:ViaService =
//!   s3.REGION.amazonaws.com` and the object (or bucket) ARN in the encryption
//!   context under `aws:s3:arn`. Without a key id the bucket owner's AWS
//!   managed key `aws/s3` is used (created on first use); its policy admits
//!   only principals of that account calling through S3.
//! * SSE-S3: data keys wrapped by the server's own key; no caller authorization.
//!
//! Suggested wiring (the S3 side owns the metadata):
//! * PutObject: get a data key (SSE-S3, SSE-KMS, or the SSE-C customer key),
//!   pick [`crate::object_crypto::random_base_nonce`], encrypt the body with
//!   [`crate::object_crypto::Encryptor`] bound to [`object_binding`]; store the
//!   wrapped data key / KMS ciphertext blob, the nonce, the key ARN and the
//!   encryption context with the object.
//! * Multipart: one data key per upload (CreateMultipartUpload), unwrapped again
//!   for every UploadPart (SSE-KMS: `kms:Decrypt` as the caller, as in AWS); each
//!   part encrypted separately with its own nonce and [`part_binding`]; GET maps
//!   ranges with [`crate::object_crypto::multipart_ranges`].
//! * CopyObject re-encrypts under the destination's key, binding and nonce.

use strongbox_core::{Authorizer, Caller, RequestMeta};
use zeroize::Zeroize as _;

use crate::ciphertext::EncryptionContext;
use crate::error::KmsError;
use crate::keys::{parse_key_ref, KeyRef, NewKey};
use crate::policy_docs::aws_s3_managed_key_policy;
use crate::store::{self, KeyRecord};
use crate::{Kms, Request};

/// The alias of the AWS managed key for S3.
pub const AWS_S3_ALIAS: &str = "alias/aws/s3";
/// The description AWS gives the `aws/s3` key.
const AWS_S3_DESCRIPTION: &str =
    "Default master key that protects my S3 objects when no other key is defined";
/// Rotation period of AWS managed keys.
const MANAGED_ROTATION_DAYS: i64 = 365;
/// Version byte in front of SSE-S3 wrapped keys.
const SSE_S3_FORMAT: u8 = 1;
const SSE_S3_AAD: &[u8] = b"strongbox-sse-s3-data-key-v1";

/// A data key for one object: its plaintext (wiped on drop), the KMS
/// ciphertext blob to store with the object, and the ARN of the KMS key.
pub struct S3DataKey {
    /// ARN of the KMS key that protects the data key (`x-amz-server-side-encryption-aws-kms-key-id`).
    pub key_arn: String,
    pub plaintext: [u8; 32],
    pub ciphertext: Vec<u8>,
}

impl Drop for S3DataKey {
    fn drop(&mut self) {
        self.plaintext.zeroize();
    }
}

impl std::fmt::Debug for S3DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3DataKey")
            .field("key_arn", &self.key_arn)
            .finish_non_exhaustive()
    }
}

/// The AAD binding of a single-PUT object: bucket, key and version id
/// (`null` when unversioned), NUL-separated.
pub fn object_binding(bucket: &str, key: &str, version_id: Option<&str>) -> Vec<u8> {
    [bucket, key, version_id.unwrap_or("null")]
        .join("\0")
        .into_bytes()
}

/// The AAD binding of one part of a multipart upload.
pub fn part_binding(upload_id: &str, part_number: u32) -> Vec<u8> {
    format!("{upload_id}\0part\0{part_number}").into_bytes()
}

/// The SSE-KMS encryption context of an object: the caller's
/// `x-amz-server-side-encryption-context` (base64 of a JSON object of strings),
/// if any, plus `aws:s3:arn` = `resource_arn` (the object ARN, or the bucket
/// ARN with S3 Bucket Keys), as S3 adds it.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context>
pub fn s3_encryption_context(
    header: Option<&str>,
    resource_arn: &str,
) -> Result<Vec<(String, String)>, KmsError> {
    use base64::Engine as _;
    let mut context = EncryptionContext::new();
    if let Some(header) = header {
        let invalid = || {
            KmsError::Validation(
                "The encryption context is not valid base64-encoded JSON.".to_string(),
            )
        };
        let json = base64::engine::general_purpose::STANDARD
            .decode(header.trim())
            .map_err(|_| invalid())?;
        context = serde_json::from_slice(&json).map_err(|_| invalid())?;
    }
    context.insert("aws:s3:arn".to_string(), resource_arn.to_string());
    Ok(context.into_iter().collect())
}

fn to_key32(bytes: &[u8]) -> Result<[u8; 32], KmsError> {
    bytes
        .try_into()
        .map_err(|_| KmsError::InvalidCiphertext(String::new()))
}

impl Kms {
    fn via_s3<'a>(
        &self,
        caller: &'a Caller,
        meta: &'a RequestMeta,
        authz: &'a dyn Authorizer,
    ) -> Request<'a> {
        Request {
            caller,
            meta,
            authz,
            via_service: Some(format!("s3.{}.amazonaws.com", self.region)),
        }
    }

    /// SSE-KMS upload: GenerateDataKey as the caller, via S3.
    /// `key_id` (id, ARN, alias or alias ARN; ids and aliases resolve in the
    /// caller's account, as in S3) or `None` for `aws/s3` of the bucket owner.
    /// `context` is the encryption context, normally `[("aws:s3:arn", object-or-bucket ARN)]`.
    pub fn s3_generate_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        authz: &dyn Authorizer,
        key_id: Option<&str>,
        bucket_owner_account: &str,
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        let req = self.via_s3(caller, meta, authz);
        let key_ref = match key_id {
            Some(k) => {
                // Naming `alias/aws/s3` explicitly also creates the managed key on first use.
                if let Ok(KeyRef::Alias { account, name }) =
                    parse_key_ref(k, &caller.account_id, &self.region)
                {
                    if name == AWS_S3_ALIAS
                        && (account == caller.account_id || account == bucket_owner_account)
                    {
                        self.aws_s3_key(&account)?;
                    }
                }
                k.to_string()
            }
            None => self.aws_s3_key(bucket_owner_account)?.arn(),
        };
        let context: EncryptionContext = context.iter().cloned().collect();
        let data_key = zeroize::Zeroizing::new(crate::object_crypto::random_data_key());
        let (key, blob) = self.encrypt_as(
            &req,
            &key_ref,
            crate::api::crypto::GENERATE_DATA_KEY,
            data_key.as_slice(),
            &context,
            false,
        )?;
        Ok(S3DataKey {
            key_arn: key.arn(),
            plaintext: *data_key,
            ciphertext: blob,
        })
    }

    /// SSE-KMS download (or multipart part upload): Decrypt as the caller, via S3.
    pub fn s3_decrypt_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        authz: &dyn Authorizer,
        ciphertext: &[u8],
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        let req = self.via_s3(caller, meta, authz);
        let context: EncryptionContext = context.iter().cloned().collect();
        let (key, plaintext) = self.decrypt_as(
            &req,
            ciphertext,
            &context,
            None,
            crate::api::crypto::DECRYPT,
            false,
        )?;
        Ok(S3DataKey {
            key_arn: key.arn(),
            plaintext: to_key32(&plaintext)?,
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// SSE-S3: a fresh data key, wrapped by the server's SSE-S3 key.
    /// Returns `(wrapped, plaintext)`.
    pub fn sse_s3_data_key(&self) -> Result<(Vec<u8>, [u8; 32]), KmsError> {
        let key = crate::object_crypto::random_data_key();
        let mut wrapped = vec![SSE_S3_FORMAT];
        wrapped.extend(self.master.sse_s3.wrap(&key, SSE_S3_AAD)?);
        Ok((wrapped, key))
    }

    /// SSE-S3: unwraps a data key made by [`Kms::sse_s3_data_key`].
    pub fn sse_s3_unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32], KmsError> {
        let Some((&SSE_S3_FORMAT, rest)) = wrapped.split_first() else {
            return Err(KmsError::InvalidCiphertext(String::new()));
        };
        let plain = zeroize::Zeroizing::new(
            self.master
                .sse_s3
                .unwrap(rest, SSE_S3_AAD)
                .ok_or_else(|| KmsError::InvalidCiphertext(String::new()))?,
        );
        to_key32(&plain)
    }

    /// The key ARN a key id, key ARN, alias name or alias ARN names, relative
    /// to `account`; `None` when there is no such key.
    pub fn resolve_key_arn(&self, key_id_or_alias_or_arn: &str, account: &str) -> Option<String> {
        self.resolve(key_id_or_alias_or_arn, account)
            .ok()
            .map(|r| r.key.arn())
    }

    /// The ARN of `aws/s3` for an account, creating the key on first use.
    pub fn aws_managed_s3_key_arn(&self, account: &str) -> Result<String, KmsError> {
        Ok(self.aws_s3_key(account)?.arn())
    }

    /// The AWS managed key `aws/s3` of `account`, created on first use.
    pub(crate) fn aws_s3_key(&self, account: &str) -> Result<KeyRecord, KmsError> {
        let _guard = self
            .managed_key_lock
            .lock()
            .map_err(|_| KmsError::Internal("managed key lock poisoned".to_string()))?;
        if let Some(alias) = store::get_alias(&self.db, account, &self.region, AWS_S3_ALIAS)? {
            if let Some(key) = self.load_key(&alias.key_id)? {
                return Ok(key);
            }
            store::delete_alias(&self.db, account, &self.region, AWS_S3_ALIAS)?;
        }
        let key = self.create_key_record(NewKey {
            account_id: account,
            description: AWS_S3_DESCRIPTION,
            policy: aws_s3_managed_key_policy(account, &self.region),
            key_manager: "AWS",
            alias: Some(AWS_S3_ALIAS),
            tags: &[],
            key_id: None,
        })?;
        // AWS rotates AWS managed keys every year.
        let next = crate::keys::now_ms() + MANAGED_ROTATION_DAYS * 86_400_000;
        store::set_rotation(
            &self.db,
            &key.key_id,
            true,
            Some(MANAGED_ROTATION_DAYS),
            Some(next),
        )?;
        Ok(KeyRecord {
            rotation_enabled: true,
            rotation_period_days: Some(MANAGED_ROTATION_DAYS),
            next_rotation_ms: Some(next),
            ..key
        })
    }
}
