//! The S3 service's data keys (SSE-S3 and SSE-KMS) over the KMS, with SSE-KMS
//! calls authorized as the S3 caller by the same authorizer as every request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use strongbox_core::timing::{self, Stage};

use strongbox_authz::Authz;
use strongbox_core::{AccessCheck, Authorizer, Caller, Denied, RequestMeta};
use strongbox_kms::{Kms, KmsError, S3DataKey};
use strongbox_s3::SseKeys;

/// [`SseKeys`] backed by the KMS of this server.
pub struct KmsSseKeys {
    pub kms: Arc<Kms>,
    pub authz: Arc<Authz>,
}

/// The authorizer for one KMS call on behalf of S3, noting whether a denial
/// may be explained to the caller (`Denied::detailed`).
struct Observed<'a> {
    inner: &'a dyn Authorizer,
    undetailed_denial: AtomicBool,
}

impl Authorizer for Observed<'_> {
    fn check(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &AccessCheck<'_>,
    ) -> Result<(), Denied> {
        self.inner.check(caller, meta, check).inspect_err(|d| {
            if !d.detailed {
                self.undetailed_denial.store(true, Ordering::Relaxed);
            }
        })
    }

    fn record_override(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        check: &AccessCheck<'_>,
        allowed_by: &str,
    ) {
        self.inner.record_override(caller, meta, check, allowed_by);
    }

    fn record_refusal(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        refusal: &strongbox_core::Refusal<'_>,
    ) {
        self.inner.record_refusal(caller, meta, refusal);
    }
}

impl KmsSseKeys {
    /// Runs a KMS call with the observing authorizer; an AccessDenied whose
    /// denial AWS would not explain to this caller becomes plain "Access Denied".
    fn observed<T>(
        &self,
        call: impl FnOnce(&dyn Authorizer) -> Result<T, KmsError>,
    ) -> Result<T, KmsError> {
        let observed = Observed {
            inner: self.authz.as_ref(),
            undetailed_denial: AtomicBool::new(false),
        };
        match call(&observed) {
            Err(KmsError::AccessDenied(_))
                if observed.undetailed_denial.load(Ordering::Relaxed) =>
            {
                Err(KmsError::AccessDenied("Access Denied".to_string()))
            }
            other => other,
        }
    }
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
        timing::time(Stage::Kms, || {
            self.observed(|authz| {
                self.kms.s3_generate_data_key(
                    caller,
                    meta,
                    authz,
                    key_id,
                    bucket_owner_account,
                    context,
                )
            })
        })
    }

    fn kms_decrypt_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        ciphertext: &[u8],
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        timing::time(Stage::Kms, || {
            self.observed(|authz| {
                self.kms
                    .s3_decrypt_data_key(caller, meta, authz, ciphertext, context)
            })
        })
    }

    fn sse_s3_data_key(&self) -> Result<(Vec<u8>, [u8; 32]), KmsError> {
        self.kms.sse_s3_data_key()
    }

    fn sse_s3_unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32], KmsError> {
        self.kms.sse_s3_unwrap(wrapped)
    }
}
