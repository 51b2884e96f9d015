//! Server-side encryption: which mode a write uses (request headers, else the
//! bucket default, else SSE-S3), the data key of each object, what is stored
//! with it, and the response headers.
//!
//! Modes follow the Amazon S3 User Guide, "Protecting data with server-side
//! encryption" (SSE-S3, SSE-KMS, SSE-C):
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html>.
//! Every object is encrypted with its own 256-bit data key in authenticated
//! chunks ([`strongbox_kms::object_crypto`]): SSE-S3 wraps the data key with the
//! server's key, SSE-KMS asks KMS for it *as the caller*, SSE-C uses the
//! customer's key (only a salted fingerprint of it is stored).

use base64::Engine as _;
use strongbox_core::{Caller, RequestMeta};
use strongbox_kms::object_crypto::{
    random_base_nonce, sse_c_key_fingerprint, sse_c_key_md5, verify_sse_c_key, ObjectCipher,
    SseCKeyError, BASE_NONCE_LEN,
};
use strongbox_kms::{KmsError, S3DataKey};

use crate::authorization::BucketInfo;
use crate::error::S3Error;
use crate::response::Reply;
use crate::S3Request;

/// The data keys behind SSE-S3 and SSE-KMS. The server implements it over
/// its KMS; SSE-KMS calls run as the caller (key policy, IAM and grants decide).
pub trait SseKeys: Send + Sync {
    /// GenerateDataKey as `caller` via S3 (`key_id` None = the bucket owner's `aws/s3`).
    fn kms_generate_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        key_id: Option<&str>,
        bucket_owner_account: &str,
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError>;
    /// Decrypt of a stored data key as `caller` via S3.
    fn kms_decrypt_data_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        ciphertext: &[u8],
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError>;
    /// A fresh SSE-S3 data key: (wrapped, plaintext).
    fn sse_s3_data_key(&self) -> Result<(Vec<u8>, [u8; 32]), KmsError>;
    /// Unwraps an SSE-S3 data key.
    fn sse_s3_unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32], KmsError>;
}

/// `x-amz-server-side-encryption` value of SSE-S3.
pub const AES256: &str = "AES256";
/// `x-amz-server-side-encryption` value of SSE-KMS.
pub const AWS_KMS: &str = "aws:kms";
/// Stored mode of SSE-C objects.
pub const SSE_C: &str = "SSE-C";

/// The prefix of SSE-C request headers for the object itself.
pub const CUSTOMER_HEADERS: &str = "x-amz-server-side-encryption-customer-";
/// The prefix of SSE-C request headers for a copy source.
pub const COPY_SOURCE_CUSTOMER_HEADERS: &str = "x-amz-copy-source-server-side-encryption-customer-";

/// The nonce and AAD binding of one data file (segment) of an object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SegmentCipher {
    /// Base64 of the base nonce.
    pub nonce: String,
    /// Base64 of the binding bytes.
    pub binding: String,
}

/// What is stored with an encrypted object or upload (JSON in its `encryption` column).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredEncryption {
    /// `AES256`, `aws:kms`, `aws:kms:dsse` or `SSE-C`.
    pub algorithm: String,
    /// Base64 of the wrapped data key (SSE-S3) or KMS ciphertext blob (SSE-KMS).
    #[serde(default)]
    pub wrapped_key: String,
    /// The KMS key ARN (SSE-KMS).
    #[serde(default)]
    pub key_arn: Option<String>,
    /// The KMS encryption context (SSE-KMS).
    #[serde(default)]
    pub context: Vec<(String, String)>,
    #[serde(default)]
    pub bucket_key: bool,
    /// SSE-C: random salt and HMAC fingerprint of the customer key (hex), and its MD5 (base64).
    #[serde(default)]
    pub customer_salt: Option<String>,
    #[serde(default)]
    pub customer_fingerprint: Option<String>,
    #[serde(default)]
    pub customer_key_md5: Option<String>,
    /// One per data file, in order (empty on an upload in progress).
    #[serde(default)]
    pub segments: Vec<SegmentCipher>,
}

/// An SSE-C key from request headers.
pub struct CustomerKey {
    pub key: [u8; 32],
    pub md5: String,
}

impl Drop for CustomerKey {
    fn drop(&mut self) {
        self.key = [0; 32];
    }
}

/// What a write asked for.
enum Requested {
    /// No SSE headers: the bucket default applies.
    Default,
    S3,
    Kms {
        algorithm: String,
        key_id: Option<String>,
        context_header: Option<String>,
        bucket_key: bool,
    },
    Customer(CustomerKey),
}

/// A new object's (or upload's) encryption: what to store, and the data key.
pub struct NewEncryption {
    pub stored: StoredEncryption,
    pub key: [u8; 32],
}

impl Drop for NewEncryption {
    fn drop(&mut self) {
        self.key = [0; 32];
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, S3Error> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| internal())
}

fn internal() -> S3Error {
    S3Error::InternalError("We encountered an internal error. Please try again.".into())
}

/// A KMS failure as S3 reports it (AccessDenied 403 naming the KMS action and
/// key; `KMS.DisabledException` etc. 400).
pub fn kms_failure(e: &KmsError) -> S3Error {
    let (status, code, message) = e.s3_error();
    S3Error::Kms {
        status,
        code,
        message,
    }
}

fn header<'a>(req: &'a S3Request, name: &str) -> Option<&'a str> {
    req.header(name).map(str::trim)
}

/// Reads the SSE-C headers under `prefix` (`…-algorithm`, `…-key`, `…-key-MD5`),
/// with S3's errors; `None` when none is present.
pub fn customer_key(req: &S3Request, prefix: &str) -> Result<Option<CustomerKey>, S3Error> {
    let algorithm = header(req, &format!("{prefix}algorithm"));
    let key = header(req, &format!("{prefix}key"));
    let md5 = header(req, &format!("{prefix}key-md5"));
    if algorithm.is_none() && key.is_none() && md5.is_none() {
        return Ok(None);
    }
    let Some(algorithm) = algorithm else {
        return Err(S3Error::InvalidArgument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.".into(),
        ));
    };
    if algorithm != AES256 {
        return Err(S3Error::InvalidEncryptionAlgorithm);
    }
    let Some(key) = key else {
        return Err(S3Error::InvalidArgument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.".into(),
        ));
    };
    let Some(md5) = md5 else {
        return Err(S3Error::InvalidArgument(
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.".into(),
        ));
    };
    // Both failures are InvalidArgument with S3's messages.
    let raw = verify_sse_c_key(key, md5)
        .map_err(|e: SseCKeyError| S3Error::InvalidArgument(e.to_string()))?;
    Ok(Some(CustomerKey {
        md5: sse_c_key_md5(&raw),
        key: raw,
    }))
}

/// SSE-C (for the object or a copy source) on a connection without TLS: 400
/// InvalidRequest, before anything else is done. User Guide, "Using server-side
/// encryption with customer-provided keys (SSE-C)": "Amazon S3 rejects any requests
/// made over HTTP when using SSE-C"
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html).
/// `allowed` is `serve --allow-sse-c-over-http` (local development).
pub fn refuse_customer_keys_in_clear(req: &S3Request, allowed: bool) -> Result<(), S3Error> {
    if allowed || req.meta.secure_transport {
        return Ok(());
    }
    let names_customer_key = req.headers.keys().any(|name| {
        let name = name.as_str();
        name.starts_with(CUSTOMER_HEADERS) || name.starts_with(COPY_SOURCE_CUSTOMER_HEADERS)
    });
    if names_customer_key {
        return Err(S3Error::InvalidRequest(
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.".into(),
        ));
    }
    Ok(())
}

fn requested(req: &S3Request) -> Result<Requested, S3Error> {
    let customer = customer_key(req, CUSTOMER_HEADERS)?;
    let sse = header(req, "x-amz-server-side-encryption");
    let key_id = header(req, "x-amz-server-side-encryption-aws-kms-key-id");
    let context = header(req, "x-amz-server-side-encryption-context");
    let bucket_key = header(req, "x-amz-server-side-encryption-bucket-key-enabled");
    if let Some(c) = customer {
        if sse.is_some() || key_id.is_some() {
            return Err(S3Error::InvalidArgument(
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified".into(),
            ));
        }
        return Ok(Requested::Customer(c));
    }
    match sse {
        None => {
            if key_id.is_some() || context.is_some() {
                return Err(S3Error::InvalidArgument(
                    "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms".into(),
                ));
            }
            Ok(Requested::Default)
        }
        Some(AES256) => {
            if key_id.is_some() || context.is_some() {
                return Err(S3Error::InvalidArgument(
                    "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms".into(),
                ));
            }
            Ok(Requested::S3)
        }
        Some(a @ (AWS_KMS | "aws:kms:dsse")) => Ok(Requested::Kms {
            algorithm: a.to_string(),
            key_id: key_id.filter(|k| !k.is_empty()).map(str::to_string),
            context_header: context.map(str::to_string),
            bucket_key: bucket_key.is_some_and(|v| v.eq_ignore_ascii_case("true")),
        }),
        Some(_) => Err(S3Error::InvalidArgument(
            "The encryption method specified is not supported".into(),
        )),
    }
}

/// The encryption a write uses when the request names none: the bucket's
/// default encryption, else SSE-S3 (S3's default since January 2023).
fn bucket_default(bucket: &BucketInfo) -> Requested {
    match &bucket.encryption {
        Some(cfg) if cfg.algorithm != AES256 => Requested::Kms {
            algorithm: cfg.algorithm.clone(),
            key_id: cfg.kms_key_id.clone(),
            context_header: None,
            bucket_key: cfg.bucket_key_enabled,
        },
        _ => Requested::S3,
    }
}

impl StoredEncryption {
    /// Parses the stored JSON.
    pub fn from_json(s: Option<&str>) -> Option<StoredEncryption> {
        s.and_then(|s| serde_json::from_str(s).ok())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn is_customer(&self) -> bool {
        self.algorithm == SSE_C
    }

    /// A new segment's cipher: a fresh nonce and `binding`.
    pub fn new_segment(
        key: &[u8; 32],
        binding: &[u8],
    ) -> Result<(SegmentCipher, ObjectCipher), S3Error> {
        let nonce = random_base_nonce();
        let cipher = ObjectCipher::new(key, nonce, binding).map_err(|_| internal())?;
        Ok((
            SegmentCipher {
                nonce: b64(&nonce),
                binding: b64(binding),
            },
            cipher,
        ))
    }

    /// The cipher of one stored segment.
    pub fn segment_cipher(key: &[u8; 32], seg: &SegmentCipher) -> Result<ObjectCipher, S3Error> {
        let nonce: [u8; BASE_NONCE_LEN] = unb64(&seg.nonce)?
            .as_slice()
            .try_into()
            .map_err(|_| internal())?;
        ObjectCipher::new(key, nonce, &unb64(&seg.binding)?).map_err(|_| internal())
    }

    /// The response headers that describe this encryption.
    pub fn headers(&self, mut reply: Reply, with_context: bool) -> Reply {
        if self.is_customer() {
            reply = reply
                .header("x-amz-server-side-encryption-customer-algorithm", AES256)
                .opt_header(
                    "x-amz-server-side-encryption-customer-key-md5",
                    self.customer_key_md5.as_deref(),
                );
            return reply;
        }
        reply = reply.header("x-amz-server-side-encryption", &self.algorithm);
        if self.algorithm != AES256 {
            reply = reply.opt_header(
                "x-amz-server-side-encryption-aws-kms-key-id",
                self.key_arn.as_deref(),
            );
            if with_context {
                let map: serde_json::Map<String, serde_json::Value> = self
                    .context
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                let json = serde_json::Value::Object(map).to_string();
                reply = reply.header(
                    "x-amz-server-side-encryption-context",
                    &b64(json.as_bytes()),
                );
            }
            if self.bucket_key {
                reply = reply.header("x-amz-server-side-encryption-bucket-key-enabled", "true");
            }
        }
        reply
    }
}

/// The ETag of data written under `enc` whose plaintext MD5 is `md5`.
///
/// API Reference, "Object" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html):
/// objects "encrypted by SSE-S3 or plaintext, have ETags that are an MD5 digest of their
/// object data"; those "encrypted by SSE-C or SSE-KMS, have ETags that are not an MD5
/// digest of their object data". The MD5 of the plaintext would let anyone who may list
/// or head the object confirm a guess of its content, so SSE-KMS and SSE-C data gets a
/// random 128-bit ETag drawn per write (object, copy or part; a multipart ETag is the
/// MD5 of its parts' ETags, so it is random too). Content-MD5 is still checked against
/// the plaintext before this, and conditional requests compare with the stored ETag.
/// SSE-S3 for a single-file object the server writes itself (access log
/// objects): the stored details and the cipher of its data file.
pub(crate) fn sse_s3_single_segment(
    keys: &dyn SseKeys,
    bucket: &str,
    key: &str,
) -> Result<(StoredEncryption, ObjectCipher), S3Error> {
    let (wrapped, data_key) = keys.sse_s3_data_key().map_err(|e| kms_failure(&e))?;
    // The binding names the object and a fresh id, so data files cannot be swapped.
    let data_id = strongbox_core::ids::random_hex(16);
    let binding = strongbox_kms::s3::object_binding(bucket, key, Some(&data_id));
    let (segment, cipher) = StoredEncryption::new_segment(&data_key, &binding)?;
    let stored = StoredEncryption {
        algorithm: AES256.into(),
        wrapped_key: b64(&wrapped),
        segments: vec![segment],
        ..StoredEncryption::default()
    };
    Ok((stored, cipher))
}

pub fn etag(enc: Option<&StoredEncryption>, md5: &[u8; 16]) -> String {
    match enc {
        Some(e) if e.algorithm != AES256 => strongbox_core::ids::random_hex(16),
        _ => strongbox_core::ids::hex(md5),
    }
}

/// Response headers of an optional encryption.
pub fn encryption_headers(
    enc: Option<&StoredEncryption>,
    reply: Reply,
    with_context: bool,
) -> Reply {
    match enc {
        Some(e) => e.headers(reply, with_context),
        None => reply,
    }
}

/// A key id header or bucket default KMSMasterKeyID (id, alias or ARN, passed
/// to KMS as is); blank means the AWS managed key.
fn kms_key_id(key_id: Option<&str>) -> Option<&str> {
    key_id.map(str::trim).filter(|k| !k.is_empty())
}

impl crate::S3Service {
    /// Decides and prepares the encryption of a new object (or multipart
    /// upload) of `bucket`/`key`: SSE-KMS asks KMS for a data key as the
    /// caller (failures are S3 errors; nothing is stored). `None` when the
    /// service has no key source and SSE-S3 applies.
    pub(crate) fn new_encryption(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        key: &str,
    ) -> Result<Option<NewEncryption>, S3Error> {
        let mut asked = requested(req)?;
        if matches!(asked, Requested::Default) {
            asked = bucket_default(bucket);
        }
        match asked {
            Requested::Default | Requested::S3 => {
                let Some(keys) = self.sse_keys.as_ref().filter(|_| !self.plaintext_sse_s3) else {
                    return Ok(None);
                };
                let (wrapped, data_key) = keys.sse_s3_data_key().map_err(|e| kms_failure(&e))?;
                Ok(Some(NewEncryption {
                    stored: StoredEncryption {
                        algorithm: AES256.into(),
                        wrapped_key: b64(&wrapped),
                        ..StoredEncryption::default()
                    },
                    key: data_key,
                }))
            }
            Requested::Kms {
                algorithm,
                key_id,
                context_header,
                bucket_key,
            } => {
                let Some(keys) = &self.sse_keys else {
                    return Err(S3Error::NotImplemented(
                        "Server-side encryption with AWS KMS keys is not available".into(),
                    ));
                };
                // With S3 Bucket Keys the context names the bucket, else the object.
                let arn = if bucket_key {
                    format!("arn:aws:s3:::{}", bucket.name)
                } else {
                    format!("arn:aws:s3:::{}/{key}", bucket.name)
                };
                let context =
                    strongbox_kms::s3::s3_encryption_context(context_header.as_deref(), &arn)
                        .map_err(|e| kms_failure(&e))?;
                let data_key = keys
                    .kms_generate_data_key(
                        &req.caller,
                        &req.meta,
                        kms_key_id(key_id.as_deref()),
                        &bucket.owner_account,
                        &context,
                    )
                    .map_err(|e| kms_failure(&e))?;
                Ok(Some(NewEncryption {
                    stored: StoredEncryption {
                        algorithm,
                        wrapped_key: b64(&data_key.ciphertext),
                        key_arn: Some(data_key.key_arn.clone()),
                        context,
                        bucket_key,
                        ..StoredEncryption::default()
                    },
                    key: data_key.plaintext,
                }))
            }
            Requested::Customer(c) => {
                let salt = strongbox_core::ids::random_bytes(16);
                Ok(Some(NewEncryption {
                    stored: StoredEncryption {
                        algorithm: SSE_C.into(),
                        customer_fingerprint: Some(sse_c_key_fingerprint(&c.key, &salt)),
                        customer_salt: Some(b64(&salt)),
                        customer_key_md5: Some(c.md5.clone()),
                        ..StoredEncryption::default()
                    },
                    key: c.key,
                }))
            }
        }
    }

    /// Checks the SSE-C headers (under `prefix`) a read or part upload of an
    /// object with `enc` must carry, and returns the customer key if any.
    pub(crate) fn check_customer_key(
        &self,
        req: &S3Request,
        enc: Option<&StoredEncryption>,
        prefix: &str,
    ) -> Result<Option<CustomerKey>, S3Error> {
        let given = customer_key(req, prefix)?;
        match (enc.filter(|e| e.is_customer()), given) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(S3Error::InvalidRequest(
                "The encryption parameters are not applicable to this object.".into(),
            )),
            (Some(_), None) => Err(S3Error::InvalidRequest(
                "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.".into(),
            )),
            (Some(e), Some(c)) => {
                let salt = unb64(e.customer_salt.as_deref().unwrap_or_default())?;
                if e.customer_fingerprint.as_deref() != Some(sse_c_key_fingerprint(&c.key, &salt).as_str()) {
                    return Err(S3Error::AccessDenied("Access Denied".into()));
                }
                Ok(Some(c))
            }
        }
    }

    /// The data key of a stored object or upload: unwraps SSE-S3, decrypts
    /// SSE-KMS as the caller (kms:Decrypt), or takes the checked customer key.
    pub(crate) fn data_key(
        &self,
        req: &S3Request,
        enc: &StoredEncryption,
        customer: Option<&CustomerKey>,
    ) -> Result<[u8; 32], S3Error> {
        if enc.is_customer() {
            return customer.map(|c| c.key).ok_or_else(|| {
                S3Error::InvalidRequest(
                    "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.".into(),
                )
            });
        }
        let keys = self.sse_keys.as_ref().ok_or_else(internal)?;
        let wrapped = unb64(&enc.wrapped_key)?;
        if enc.algorithm == AES256 {
            return keys.sse_s3_unwrap(&wrapped).map_err(|e| kms_failure(&e));
        }
        let data_key = keys
            .kms_decrypt_data_key(&req.caller, &req.meta, &wrapped, &enc.context)
            .map_err(|e| kms_failure(&e))?;
        Ok(data_key.plaintext)
    }

    /// The per-segment ciphers to read an object (`None` when it is stored in the clear).
    pub(crate) fn read_ciphers(
        &self,
        req: &S3Request,
        enc: Option<&StoredEncryption>,
        customer: Option<&CustomerKey>,
        segment_count: usize,
    ) -> Result<Option<Vec<ObjectCipher>>, S3Error> {
        let Some(enc) = enc else {
            return Ok(None);
        };
        if enc.segments.len() != segment_count {
            tracing::error!("encryption metadata does not match the object's data files");
            return Err(internal());
        }
        let key = self.data_key(req, enc, customer)?;
        let ciphers = enc
            .segments
            .iter()
            .map(|s| StoredEncryption::segment_cipher(&key, s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ciphers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_encryption_round_trips_as_json() {
        let e = StoredEncryption {
            algorithm: AWS_KMS.into(),
            wrapped_key: "AAEC".into(),
            key_arn: Some("arn:aws:kms:us-east-1:111122223333:key/k".into()),
            context: vec![("aws:s3:arn".into(), "arn:aws:s3:::b/k".into())],
            segments: vec![SegmentCipher {
                nonce: "n".into(),
                binding: "b".into(),
            }],
            ..StoredEncryption::default()
        };
        assert_eq!(StoredEncryption::from_json(Some(&e.to_json())), Some(e));
        assert_eq!(StoredEncryption::from_json(None), None);
    }

    #[test]
    fn segment_ciphers_round_trip() {
        let key = [5u8; 32];
        let (seg, enc) = StoredEncryption::new_segment(&key, b"b\0k\0v").unwrap();
        let mut out = Vec::new();
        enc.encrypt_chunk(0, true, b"hello", &mut out).unwrap();
        let dec = StoredEncryption::segment_cipher(&key, &seg).unwrap();
        assert_eq!(dec.decrypt_chunk(0, true, &out).unwrap(), b"hello");
        let other = StoredEncryption::segment_cipher(&[6u8; 32], &seg).unwrap();
        assert!(other.decrypt_chunk(0, true, &out).is_err());
    }
}
