//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom.

use serde::Deserialize;
use serde_json::{json, Value};
use strongbox_core::ContextEntry;
use zeroize::Zeroizing;

use super::{check_algorithm, context_of, decode_blob, encode_blob, range_error, required};
use crate::auth::{context_entries, GrantRule};
use crate::ciphertext::EncryptionContext;
use crate::error::KmsError;
use crate::keys::require_enabled;
use crate::store::KeyRecord;
use crate::{Kms, Request};

/// Most plaintext bytes Encrypt accepts.
const MAX_PLAINTEXT: usize = 4096;

/// A cryptographic use of a key: the IAM action and the grant operation that allow it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyUse {
    pub action: &'static str,
    pub grant_op: &'static str,
}

pub(crate) const ENCRYPT: KeyUse = KeyUse {
    action: "kms:Encrypt",
    grant_op: "Encrypt",
};
pub(crate) const DECRYPT: KeyUse = KeyUse {
    action: "kms:Decrypt",
    grant_op: "Decrypt",
};
pub(crate) const GENERATE_DATA_KEY: KeyUse = KeyUse {
    action: "kms:GenerateDataKey",
    grant_op: "GenerateDataKey",
};
const GENERATE_DATA_KEY_WITHOUT_PLAINTEXT: KeyUse = KeyUse {
    action: "kms:GenerateDataKeyWithoutPlaintext",
    grant_op: "GenerateDataKeyWithoutPlaintext",
};
const RE_ENCRYPT_FROM: KeyUse = KeyUse {
    action: "kms:ReEncryptFrom",
    grant_op: "ReEncryptFrom",
};
const RE_ENCRYPT_TO: KeyUse = KeyUse {
    action: "kms:ReEncryptTo",
    grant_op: "ReEncryptTo",
};

fn algorithm_entry() -> ContextEntry {
    ContextEntry::new("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
}

/// The number of data key bytes from `KeySpec` / `NumberOfBytes`.
pub(crate) fn data_key_length(
    key_spec: Option<&str>,
    number_of_bytes: Option<i64>,
) -> Result<usize, KmsError> {
    match (key_spec, number_of_bytes) {
        (Some(_), Some(_)) | (None, None) => {
            Err(KmsError::Validation("Please specify either number of bytes or key spec.".to_string()))
        }
        (Some("AES_256"), None) => Ok(32),
        (Some("AES_128"), None) => Ok(16),
        (Some(other), None) => Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
        ))),
        (None, Some(n)) if (1..=1024).contains(&n) => Ok(n as usize),
        (None, Some(n)) => Err(range_error("numberOfBytes", n, 1, 1024)),
    }
}

impl Kms {
    /// Encrypts `plaintext` under the key named by `key_ref`, as the caller.
    /// `key_use` is Encrypt, GenerateDataKey… or ReEncryptTo.
    pub(crate) fn encrypt_as(
        &self,
        req: &Request<'_>,
        key_ref: &str,
        key_use: KeyUse,
        plaintext: &[u8],
        context: &EncryptionContext,
        dry_run: bool,
    ) -> Result<(KeyRecord, Vec<u8>), KmsError> {
        let resolved = self.resolve(key_ref, &req.caller.account_id)?;
        let mut extra = context_entries(context);
        extra.push(algorithm_entry());
        self.authorize_key(
            req,
            key_use.action,
            &resolved.key,
            resolved.alias.as_deref(),
            extra,
            GrantRule::Operation(key_use.grant_op, context),
        )?;
        require_enabled(&resolved.key)?;
        if dry_run {
            return Err(KmsError::DryRun);
        }
        let key = self.rotate_if_due(resolved.key)?;
        let blob = self.seal(&key, plaintext, context)?;
        Ok((key, blob))
    }

    /// Decrypts a ciphertext blob as the caller. `key_ref`, when given, must
    /// name the key that sealed it. `key_use` is Decrypt or ReEncryptFrom.
    pub(crate) fn decrypt_as(
        &self,
        req: &Request<'_>,
        blob: &[u8],
        context: &EncryptionContext,
        key_ref: Option<&str>,
        key_use: KeyUse,
        dry_run: bool,
    ) -> Result<(KeyRecord, Zeroizing<Vec<u8>>), KmsError> {
        let (key, header) = self.key_of_blob(blob)?;
        let mut alias = None;
        if let Some(key_ref) = key_ref {
            let named = self.resolve(key_ref, &req.caller.account_id)?;
            if named.key.key_id != key.key_id {
                return Err(KmsError::IncorrectKey(
                    "The key ID in the request does not identify a CMK that can perform this operation.".to_string(),
                ));
            }
            alias = named.alias;
        }
        let mut extra = context_entries(context);
        extra.push(algorithm_entry());
        self.authorize_key(
            req,
            key_use.action,
            &key,
            alias.as_deref(),
            extra,
            GrantRule::Operation(key_use.grant_op, context),
        )?;
        require_enabled(&key)?;
        if dry_run {
            return Err(KmsError::DryRun);
        }
        let plaintext = self.open_blob(&key, &header, blob, context)?;
        Ok((key, plaintext))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EncryptInput {
    key_id: Option<String>,
    plaintext: Option<String>,
    encryption_context: Option<EncryptionContext>,
    encryption_algorithm: Option<String>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

pub(crate) fn encrypt(
    kms: &Kms,
    req: &Request<'_>,
    input: EncryptInput,
) -> Result<Value, KmsError> {
    super::check_grant_tokens(input.grant_tokens.as_ref())?;
    let key_id = required(input.key_id, "keyId")?;
    let plaintext = Zeroizing::new(decode_blob(
        &required(input.plaintext, "plaintext")?,
        "plaintext",
    )?);
    if plaintext.is_empty() || plaintext.len() > MAX_PLAINTEXT {
        return Err(super::length_error("plaintext", 1, MAX_PLAINTEXT));
    }
    check_algorithm(input.encryption_algorithm.as_deref(), &key_id)?;
    let context = context_of(input.encryption_context);
    let (key, blob) = kms.encrypt_as(
        req,
        &key_id,
        ENCRYPT,
        &plaintext,
        &context,
        input.dry_run.unwrap_or(false),
    )?;
    Ok(json!({
        "CiphertextBlob": encode_blob(&blob),
        "KeyId": key.arn(),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecryptInput {
    ciphertext_blob: Option<String>,
    encryption_context: Option<EncryptionContext>,
    key_id: Option<String>,
    encryption_algorithm: Option<String>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

pub(crate) fn decrypt(
    kms: &Kms,
    req: &Request<'_>,
    input: DecryptInput,
) -> Result<Value, KmsError> {
    super::check_grant_tokens(input.grant_tokens.as_ref())?;
    let blob = decode_blob(
        &required(input.ciphertext_blob, "ciphertextBlob")?,
        "ciphertextBlob",
    )?;
    if blob.is_empty() || blob.len() > 6144 {
        return Err(super::length_error("ciphertextBlob", 1, 6144));
    }
    check_algorithm(input.encryption_algorithm.as_deref(), "the key")?;
    let context = context_of(input.encryption_context);
    let (key, plaintext) = kms.decrypt_as(
        req,
        &blob,
        &context,
        input.key_id.as_deref(),
        DECRYPT,
        input.dry_run.unwrap_or(false),
    )?;
    Ok(json!({
        "KeyId": key.arn(),
        "Plaintext": encode_blob(&plaintext),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReEncryptInput {
    ciphertext_blob: Option<String>,
    source_encryption_context: Option<EncryptionContext>,
    source_key_id: Option<String>,
    destination_key_id: Option<String>,
    destination_encryption_context: Option<EncryptionContext>,
    source_encryption_algorithm: Option<String>,
    destination_encryption_algorithm: Option<String>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

pub(crate) fn re_encrypt(
    kms: &Kms,
    req: &Request<'_>,
    input: ReEncryptInput,
) -> Result<Value, KmsError> {
    super::check_grant_tokens(input.grant_tokens.as_ref())?;
    let blob = decode_blob(
        &required(input.ciphertext_blob, "ciphertextBlob")?,
        "ciphertextBlob",
    )?;
    let destination = required(input.destination_key_id, "destinationKeyId")?;
    check_algorithm(
        input.source_encryption_algorithm.as_deref(),
        "the source key",
    )?;
    check_algorithm(
        input.destination_encryption_algorithm.as_deref(),
        &destination,
    )?;
    let source_context = context_of(input.source_encryption_context);
    let destination_context = context_of(input.destination_encryption_context);
    let dry_run = input.dry_run.unwrap_or(false);
    let (source, plaintext) = kms.decrypt_as(
        req,
        &blob,
        &source_context,
        input.source_key_id.as_deref(),
        RE_ENCRYPT_FROM,
        false,
    )?;
    let (dest, new_blob) = kms.encrypt_as(
        req,
        &destination,
        RE_ENCRYPT_TO,
        &plaintext,
        &destination_context,
        dry_run,
    )?;
    Ok(json!({
        "CiphertextBlob": encode_blob(&new_blob),
        "SourceKeyId": source.arn(),
        "KeyId": dest.arn(),
        "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyInput {
    key_id: Option<String>,
    key_spec: Option<String>,
    number_of_bytes: Option<i64>,
    encryption_context: Option<EncryptionContext>,
    grant_tokens: Option<Vec<String>>,
    dry_run: Option<bool>,
}

pub(crate) fn generate_data_key(
    kms: &Kms,
    req: &Request<'_>,
    input: GenerateDataKeyInput,
    with_plaintext: bool,
) -> Result<Value, KmsError> {
    super::check_grant_tokens(input.grant_tokens.as_ref())?;
    let key_id = required(input.key_id, "keyId")?;
    let len = data_key_length(input.key_spec.as_deref(), input.number_of_bytes)?;
    let context = context_of(input.encryption_context);
    let key_use = if with_plaintext {
        GENERATE_DATA_KEY
    } else {
        GENERATE_DATA_KEY_WITHOUT_PLAINTEXT
    };
    let data_key = Zeroizing::new(strongbox_core::ids::random_bytes(len));
    let (key, blob) = kms.encrypt_as(
        req,
        &key_id,
        key_use,
        &data_key,
        &context,
        input.dry_run.unwrap_or(false),
    )?;
    let mut body = json!({ "CiphertextBlob": encode_blob(&blob), "KeyId": key.arn() });
    if with_plaintext {
        if let Some(obj) = body.as_object_mut() {
            obj.insert("Plaintext".into(), Value::String(encode_blob(&data_key)));
        }
    }
    Ok(body)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateRandomInput {
    number_of_bytes: Option<i64>,
    custom_key_store_id: Option<String>,
}

pub(crate) fn generate_random(
    kms: &Kms,
    req: &Request<'_>,
    input: GenerateRandomInput,
) -> Result<Value, KmsError> {
    let n = required(input.number_of_bytes, "numberOfBytes")?;
    if !(1..=1024).contains(&n) {
        return Err(range_error("numberOfBytes", n, 1, 1024));
    }
    if input.custom_key_store_id.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Custom key stores are not supported by this KMS.".to_string(),
        ));
    }
    kms.authorize_other(req, "kms:GenerateRandom", "*", None, vec![])?;
    Ok(json!({ "Plaintext": encode_blob(&strongbox_core::ids::random_bytes(n as usize)) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_key_lengths() {
        assert_eq!(data_key_length(Some("AES_256"), None).unwrap(), 32);
        assert_eq!(data_key_length(Some("AES_128"), None).unwrap(), 16);
        assert_eq!(data_key_length(None, Some(64)).unwrap(), 64);
        assert!(data_key_length(None, None).is_err());
        assert!(data_key_length(Some("AES_256"), Some(32)).is_err());
        assert!(data_key_length(Some("AES_512"), None).is_err());
        assert!(data_key_length(None, Some(0)).is_err());
        assert!(data_key_length(None, Some(1025)).is_err());
    }
}
