//! The S3 service's data keys (SSE-S3 and SSE-KMS) over the KMS, with SSE-KMS
//! calls authorized as the S3 caller by the same authorizer as every request.

use std::sync::Arc;

use strongbox_authz::Authz;
use strongbox_core::{Caller, RequestMeta};
use strongbox_kms::{Kms, KmsError, S3DataKey};
use strongbox_s3::SseKeys;

/// [`SseKeys`] backed by the KMS of this server.
pub struct KmsSseKeys {
    pub kms: Arc<Kms>,
    pub authz: Arc<Authz>,
}

impl SseKeys for KmsSseKeys {
    fn kms_generate_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        key_id: Option<&str>,
        bucket_owner_account: &str,
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        self.kms.s3_generate_data_key(
            caller,
            meta,
            self.authz.as_ref(),
            key_id,
            bucket_owner_account,
            context,
        )
    }

    fn kms_decrypt_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        ciphertext: &[u8],
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        self.kms
            .s3_decrypt_data_key(caller, meta, self.authz.as_ref(), ciphertext, context)
    }

    fn sse_s3_data_key(&self) -> Result<(Vec<u8>, [u8; 32]), KmsError> {
        self.kms.sse_s3_data_key()
    }

    fn sse_s3_unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32], KmsError> {
        self.kms.sse_s3_unwrap(wrapped)
    }
}
