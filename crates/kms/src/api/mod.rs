//! The KMS JSON 1.1 API: operation dispatch and shared request helpers.
//! Shapes follow the AWS KMS API Reference.

mod aliases;
pub(crate) mod crypto;
mod grants;
mod key_admin;
mod rotation;
mod tags;

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ciphertext::EncryptionContext;
use crate::error::KmsError;
use crate::{Kms, Request};

/// Runs one operation; the reply body on success.
pub(crate) fn dispatch(
    kms: &Kms,
    req: &Request<'_>,
    operation: &str,
    body: &[u8],
) -> Result<Value, KmsError> {
    match operation {
        "CreateKey" => key_admin::create_key(kms, req, parse(body)?),
        "DescribeKey" => key_admin::describe_key(kms, req, parse(body)?),
        "ListKeys" => key_admin::list_keys(kms, req, parse(body)?),
        "EnableKey" => key_admin::enable_key(kms, req, parse(body)?, true),
        "DisableKey" => key_admin::enable_key(kms, req, parse(body)?, false),
        "ScheduleKeyDeletion" => key_admin::schedule_deletion(kms, req, parse(body)?),
        "CancelKeyDeletion" => key_admin::cancel_deletion(kms, req, parse(body)?),
        "UpdateKeyDescription" => key_admin::update_description(kms, req, parse(body)?),
        "GetKeyPolicy" => key_admin::get_key_policy(kms, req, parse(body)?),
        "PutKeyPolicy" => key_admin::put_key_policy(kms, req, parse(body)?),
        "ListKeyPolicies" => key_admin::list_key_policies(kms, req, parse(body)?),
        "GetKeyRotationStatus" => rotation::get_rotation_status(kms, req, parse(body)?),
        "EnableKeyRotation" => rotation::enable_rotation(kms, req, parse(body)?),
        "DisableKeyRotation" => rotation::disable_rotation(kms, req, parse(body)?),
        "RotateKeyOnDemand" => rotation::rotate_on_demand(kms, req, parse(body)?),
        "ListKeyRotations" => rotation::list_rotations(kms, req, parse(body)?),
        "CreateAlias" => aliases::create_alias(kms, req, parse(body)?),
        "UpdateAlias" => aliases::update_alias(kms, req, parse(body)?),
        "DeleteAlias" => aliases::delete_alias(kms, req, parse(body)?),
        "ListAliases" => aliases::list_aliases(kms, req, parse(body)?),
        "Encrypt" => crypto::encrypt(kms, req, parse(body)?),
        "Decrypt" => crypto::decrypt(kms, req, parse(body)?),
        "ReEncrypt" => crypto::re_encrypt(kms, req, parse(body)?),
        "GenerateDataKey" => crypto::generate_data_key(kms, req, parse(body)?, true),
        "GenerateDataKeyWithoutPlaintext" => {
            crypto::generate_data_key(kms, req, parse(body)?, false)
        }
        "GenerateRandom" => crypto::generate_random(kms, req, parse(body)?),
        "CreateGrant" => grants::create_grant(kms, req, parse(body)?),
        "ListGrants" => grants::list_grants(kms, req, parse(body)?),
        "ListRetirableGrants" => grants::list_retirable_grants(kms, req, parse(body)?),
        "RetireGrant" => grants::retire_grant(kms, req, parse(body)?),
        "RevokeGrant" => grants::revoke_grant(kms, req, parse(body)?),
        "TagResource" => tags::tag_resource(kms, req, parse(body)?),
        "UntagResource" => tags::untag_resource(kms, req, parse(body)?),
        "ListResourceTags" => tags::list_resource_tags(kms, req, parse(body)?),
        other if UNIMPLEMENTED.contains(&other) => Err(KmsError::UnsupportedOperation(format!(
            "{other} is not supported by this KMS: it holds only symmetric encryption keys with AWS_KMS key material."
        ))),
        other => Err(KmsError::UnknownOperation(format!("Operation {other} is not supported."))),
    }
}

/// Real KMS operations this KMS does not offer (asymmetric and HMAC keys,
/// imported material, multi-Region keys, custom key stores).
const UNIMPLEMENTED: &[&str] = &[
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "Sign",
    "Verify",
    "GetPublicKey",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "GetParametersForImport",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
    "ReplicateKey",
    "UpdatePrimaryRegion",
    "CreateCustomKeyStore",
    "ConnectCustomKeyStore",
    "DeleteCustomKeyStore",
    "DescribeCustomKeyStores",
    "DisconnectCustomKeyStore",
    "UpdateCustomKeyStore",
];

/// Parses a request body (an empty body is `{}`).
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        tracing::debug!(error = %e, "kms request body does not parse");
        KmsError::Serialization(format!("Could not deserialize the request body: {e}"))
    })
}

/// A required member, or AWS's "must not be null" validation error.
fn required<T>(value: Option<T>, member: &str) -> Result<T, KmsError> {
    value.ok_or_else(|| KmsError::missing(member))
}

/// Checks a `GrantTokens` member: at most 10 tokens of 1–8192 characters.
/// Grants take effect at once here, so tokens need no further use.
fn check_grant_tokens(tokens: Option<&Vec<String>>) -> Result<(), KmsError> {
    let Some(tokens) = tokens else { return Ok(()) };
    if tokens.len() > 10 {
        return Err(length_error("grantTokens", 0, 10));
    }
    if tokens.iter().any(|t| t.is_empty() || t.len() > 8192) {
        return Err(KmsError::InvalidGrantToken(
            "The grant token is not valid.".to_string(),
        ));
    }
    Ok(())
}

/// Decodes a base64 blob member.
fn decode_blob(text: &str, member: &str) -> Result<Vec<u8>, KmsError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| KmsError::Serialization(format!("Value for '{member}' is not valid base64.")))
}

fn encode_blob(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A length constraint violation, worded as AWS's validation errors.
fn length_error(member: &str, min: usize, max: usize) -> KmsError {
    KmsError::Validation(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length between {min} and {max}"
    ))
}

fn range_error(member: &str, value: i64, min: i64, max: i64) -> KmsError {
    let bound = if value < min {
        format!("greater than or equal to {min}")
    } else {
        format!("less than or equal to {max}")
    };
    KmsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have value {bound}"
    ))
}

/// The encryption context member, absent = empty.
fn context_of(value: Option<EncryptionContext>) -> EncryptionContext {
    value.unwrap_or_default()
}

/// Checks the `EncryptionAlgorithm` member: only `SYMMETRIC_DEFAULT` applies to our keys.
fn check_algorithm(algorithm: Option<&str>, key_arn: &str) -> Result<(), KmsError> {
    match algorithm {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(
            "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" | "SM2PKE",
        ) => Err(KmsError::InvalidKeyUsage(format!(
            "{key_arn} key usage is ENCRYPT_DECRYPT and key spec is SYMMETRIC_DEFAULT; the encryption algorithm is not supported."
        ))),
        Some(other) => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]"
        ))),
    }
}

/// One page of a list: items after `marker`, at most `limit` (default and
/// maximum per operation, as the API reference gives them), and the next marker.
fn paginate<T>(
    items: Vec<T>,
    limit: Option<i64>,
    marker: Option<&str>,
    (default_limit, max_limit): (i64, i64),
) -> Result<(Vec<T>, Option<String>), KmsError> {
    let limit = limit.unwrap_or(default_limit);
    if !(1..=max_limit).contains(&limit) {
        return Err(range_error("limit", limit, 1, max_limit));
    }
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| KmsError::InvalidMarker("Invalid marker.".to_string()))?,
    };
    let end = (start + limit as usize).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    let page = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, next))
}

/// Adds `Truncated` (and `NextMarker` when truncated) to a list reply.
fn with_page(mut body: Value, next: Option<String>) -> Value {
    if let Some(obj) = body.as_object_mut() {
        obj.insert("Truncated".into(), Value::Bool(next.is_some()));
        if let Some(m) = next {
            obj.insert("NextMarker".into(), Value::String(m));
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination() {
        let items: Vec<i32> = (0..5).collect();
        let (p, next) = paginate(items.clone(), Some(2), None, (100, 1000)).unwrap();
        assert_eq!((p, next.clone()), (vec![0, 1], Some("2".to_string())));
        let (p, next) = paginate(items.clone(), Some(2), next.as_deref(), (100, 1000)).unwrap();
        assert_eq!(p, vec![2, 3]);
        let (p, next) = paginate(items.clone(), Some(2), next.as_deref(), (100, 1000)).unwrap();
        assert_eq!((p, next), (vec![4], None));
        assert!(matches!(
            paginate(items.clone(), Some(101), None, (50, 100)),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            paginate(items.clone(), Some(0), None, (100, 1000)),
            Err(KmsError::Validation(_))
        ));
        assert!(matches!(
            paginate(items, None, Some("x"), (100, 1000)),
            Err(KmsError::InvalidMarker(_))
        ));
    }

    #[test]
    fn parse_empty_and_bad() {
        let v: Value = parse(b"").unwrap();
        assert!(v.is_object());
        assert!(matches!(
            parse::<Value>(b"{"),
            Err(KmsError::Serialization(_))
        ));
    }
}
