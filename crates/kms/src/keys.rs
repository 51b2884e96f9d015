//! Finding keys by id, ARN or alias; key states; creating keys; key material.

use std::sync::Arc;
use zeroize::Zeroizing;

use crate::ciphertext::{self, uuid_bytes, BlobHeader, EncryptionContext};
use crate::error::KmsError;
use crate::store::{self, KeyRecord, KeyState};
use crate::Kms;

/// A key found from a `KeyId` parameter, and the alias used to name it, if any.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedKey {
    pub key: KeyRecord,
    /// The alias name (`alias/…`) when the request named the key by alias.
    pub alias: Option<String>,
}

/// What a `KeyId` parameter names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A key id in an account.
    Key { account: String, key_id: String },
    /// An alias name (`alias/…`) in an account.
    Alias { account: String, name: String },
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Epoch seconds (as KMS's JSON timestamps) of a millisecond time.
pub(crate) fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Parses a key id, key ARN, alias name or alias ARN. Bare ids and alias
/// names refer to `caller_account`. Errors are KMS's `NotFoundException`s.
pub(crate) fn parse_key_ref(
    text: &str,
    caller_account: &str,
    region: &str,
) -> Result<KeyRef, KmsError> {
    if let Some(rest) = text.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let invalid = || KmsError::NotFound(format!("Invalid arn {text}"));
        let [partition, service, arn_region, account, resource] = parts.as_slice() else {
            return Err(invalid());
        };
        if !partition.starts_with("aws") || *service != "kms" || account.len() != 12 {
            return Err(invalid());
        }
        if *arn_region != region {
            // A well-formed ARN of another region names nothing this KMS holds.
            return Err(if resource.starts_with("alias/") {
                KmsError::NotFound(format!("Alias {text} is not found."))
            } else {
                KmsError::NotFound(format!("Key '{text}' does not exist"))
            });
        }
        if let Some(id) = resource.strip_prefix("key/") {
            return Ok(KeyRef::Key {
                account: account.to_string(),
                key_id: id.to_string(),
            });
        }
        if resource.starts_with("alias/") && resource.len() > "alias/".len() {
            return Ok(KeyRef::Alias {
                account: account.to_string(),
                name: resource.to_string(),
            });
        }
        return Err(invalid());
    }
    if text.starts_with("alias/") && text.len() > "alias/".len() {
        return Ok(KeyRef::Alias {
            account: caller_account.to_string(),
            name: text.to_string(),
        });
    }
    if uuid_bytes(text).is_none() {
        return Err(KmsError::NotFound(format!("Invalid keyId '{text}'")));
    }
    Ok(KeyRef::Key {
        account: caller_account.to_string(),
        key_id: text.to_string(),
    })
}

/// `DisabledException` / `KMSInvalidStateException` unless the key is enabled.
pub(crate) fn require_enabled(key: &KeyRecord) -> Result<(), KmsError> {
    match key.state {
        KeyState::Enabled => Ok(()),
        KeyState::Disabled => Err(KmsError::Disabled(format!("{} is disabled.", key.arn()))),
        KeyState::PendingDeletion => Err(KmsError::InvalidState(format!(
            "{} is pending deletion.",
            key.arn()
        ))),
    }
}

/// `KMSInvalidStateException` when the key is pending deletion.
pub(crate) fn require_not_pending_deletion(key: &KeyRecord) -> Result<(), KmsError> {
    if key.state == KeyState::PendingDeletion {
        return Err(KmsError::InvalidState(format!(
            "{} is pending deletion.",
            key.arn()
        )));
    }
    Ok(())
}

/// Parameters of a new key.
pub(crate) struct NewKey<'a> {
    pub account_id: &'a str,
    pub description: &'a str,
    pub policy: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: &'a str,
    /// An alias created with the key (AWS managed keys).
    pub alias: Option<&'a str>,
    pub tags: &'a [(String, String)],
    /// Pre-chosen key id (so a lockout check can name the key's ARN).
    pub key_id: Option<String>,
}

fn material_aad(key_id: &str, version: u32) -> Vec<u8> {
    format!("strongbox-kms-key-material/{key_id}/{version}").into_bytes()
}

impl Kms {
    /// The ARN of a key id in an account of this region.
    pub(crate) fn key_arn(&self, account: &str, key_id: &str) -> String {
        format!("arn:aws:kms:{}:{account}:key/{key_id}", self.region)
    }

    /// The ARN of an alias in an account of this region.
    pub(crate) fn alias_arn(&self, account: &str, alias_name: &str) -> String {
        format!("arn:aws:kms:{}:{account}:{alias_name}", self.region)
    }

    /// Loads a key by id, purging it when its deletion date has passed.
    pub(crate) fn load_key(&self, key_id: &str) -> Result<Option<KeyRecord>, KmsError> {
        let Some(key) = self
            .cache
            .record(key_id, || store::get_key(&self.db, key_id))?
        else {
            return Ok(None);
        };
        if key.state == KeyState::PendingDeletion && key.deletion_ms.is_some_and(|d| d <= now_ms())
        {
            tracing::info!(key = %key.arn(), "deleting KMS key after its waiting period");
            store::purge_key(&self.db, key_id)?;
            return Ok(None);
        }
        Ok(Some(key))
    }

    /// Finds the key a `KeyId` parameter names.
    pub(crate) fn resolve(
        &self,
        text: &str,
        caller_account: &str,
    ) -> Result<ResolvedKey, KmsError> {
        match parse_key_ref(text, caller_account, &self.region)? {
            KeyRef::Key { account, key_id } => {
                let not_found = || {
                    KmsError::NotFound(format!(
                        "Key '{}' does not exist",
                        self.key_arn(&account, &key_id)
                    ))
                };
                let key = self.load_key(&key_id)?.ok_or_else(not_found)?;
                if key.account_id != account {
                    return Err(not_found());
                }
                Ok(ResolvedKey { key, alias: None })
            }
            KeyRef::Alias { account, name } => {
                let not_found = || {
                    KmsError::NotFound(format!(
                        "Alias {} is not found.",
                        self.alias_arn(&account, &name)
                    ))
                };
                let alias = store::get_alias(&self.db, &account, &self.region, &name)?
                    .ok_or_else(not_found)?;
                let key = self.load_key(&alias.key_id)?.ok_or_else(not_found)?;
                Ok(ResolvedKey {
                    key,
                    alias: Some(name),
                })
            }
        }
    }

    /// Creates a key with fresh 256-bit material wrapped by the master key.
    pub(crate) fn create_key_record(&self, new: NewKey<'_>) -> Result<KeyRecord, KmsError> {
        let key_id = new.key_id.unwrap_or_else(strongbox_core::ids::uuid_v4);
        let material = Zeroizing::new(crate::object_crypto::random_data_key());
        let wrapped = self
            .master
            .key_material
            .wrap(material.as_slice(), &material_aad(&key_id, 1))?;
        let record = KeyRecord {
            key_id,
            account_id: new.account_id.to_string(),
            region: self.region.clone(),
            description: new.description.to_string(),
            key_usage: "ENCRYPT_DECRYPT".to_string(),
            key_spec: "SYMMETRIC_DEFAULT".to_string(),
            key_manager: new.key_manager.to_string(),
            origin: "AWS_KMS".to_string(),
            state: KeyState::Enabled,
            policy: new.policy,
            created_ms: now_ms(),
            deletion_ms: None,
            pending_window_days: None,
            current_material: 1,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_ms: None,
        };
        store::insert_key(&self.db, &record, &wrapped, new.alias, new.tags)?;
        tracing::info!(key = %record.arn(), manager = %record.key_manager, "created KMS key");
        Ok(record)
    }

    /// Rotates a key: new material becomes current; older versions still decrypt.
    pub(crate) fn rotate(
        &self,
        key: &KeyRecord,
        rotation_type: &str,
    ) -> Result<KeyRecord, KmsError> {
        let version = key.current_material + 1;
        let material = Zeroizing::new(crate::object_crypto::random_data_key());
        let wrapped = self
            .master
            .key_material
            .wrap(material.as_slice(), &material_aad(&key.key_id, version))?;
        let now = now_ms();
        let next = match (key.rotation_enabled, key.rotation_period_days) {
            (true, Some(days)) => Some(now + days * 86_400_000),
            _ => key.next_rotation_ms,
        };
        store::add_material(
            &self.db,
            &key.key_id,
            version,
            &wrapped,
            now,
            rotation_type,
            next,
        )?;
        tracing::info!(key = %key.arn(), version, rotation_type, "rotated KMS key material");
        Ok(KeyRecord {
            current_material: version,
            next_rotation_ms: next,
            ..key.clone()
        })
    }

    /// Performs a due automatic rotation before the key encrypts.
    pub(crate) fn rotate_if_due(&self, key: KeyRecord) -> Result<KeyRecord, KmsError> {
        if key.rotation_enabled && key.next_rotation_ms.is_some_and(|t| t <= now_ms()) {
            return self.rotate(&key, "AUTOMATIC");
        }
        Ok(key)
    }

    /// The plaintext material of one version of a key.
    pub(crate) fn material(
        &self,
        key: &KeyRecord,
        version: u32,
    ) -> Result<Arc<Zeroizing<Vec<u8>>>, KmsError> {
        self.cache.material(&key.key_id, version, || {
            let wrapped = store::get_material(&self.db, &key.key_id, version)?
                .ok_or_else(|| KmsError::InvalidCiphertext(String::new()))?;
            self.master.key_material.unwrap(&wrapped, &material_aad(&key.key_id, version)).map(Zeroizing::new).ok_or_else(|| {
                tracing::error!(key = %key.arn(), version, "key material does not unwrap: wrong master key?");
                KmsError::Internal("An internal error occurred.".to_string())
            })
        })
    }

    /// Encrypts under the key's current material.
    pub(crate) fn seal(
        &self,
        key: &KeyRecord,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<Vec<u8>, KmsError> {
        let material = self.material(key, key.current_material)?;
        let header = BlobHeader {
            key_id: key.key_id.clone(),
            material_version: key.current_material,
        };
        ciphertext::seal(&header, &material, plaintext, context)
            .map_err(|e| KmsError::Internal(e.to_string()))
    }

    /// Finds the key that sealed a blob (any account); `InvalidCiphertextException`
    /// when the blob is not ours or its key no longer exists.
    pub(crate) fn key_of_blob(&self, blob: &[u8]) -> Result<(KeyRecord, BlobHeader), KmsError> {
        let header = ciphertext::parse_header(blob)
            .map_err(|_| KmsError::InvalidCiphertext(String::new()))?;
        let key = self
            .load_key(&header.key_id)?
            .ok_or_else(|| KmsError::InvalidCiphertext(String::new()))?;
        Ok((key, header))
    }

    /// Decrypts a blob with its key (authorization and state already checked).
    pub(crate) fn open_blob(
        &self,
        key: &KeyRecord,
        header: &BlobHeader,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let material = self.material(key, header.material_version)?;
        ciphertext::open(blob, &material, context)
            .map(Zeroizing::new)
            .map_err(|_| KmsError::InvalidCiphertext(String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "111122223333";
    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn key_refs() {
        let r = |t: &str| parse_key_ref(t, ACCT, "us-east-1");
        assert_eq!(
            r(ID).unwrap(),
            KeyRef::Key {
                account: ACCT.into(),
                key_id: ID.into()
            }
        );
        assert_eq!(
            r(&format!("arn:aws:kms:us-east-1:444455556666:key/{ID}")).unwrap(),
            KeyRef::Key {
                account: "444455556666".into(),
                key_id: ID.into()
            }
        );
        assert_eq!(
            r("alias/my").unwrap(),
            KeyRef::Alias {
                account: ACCT.into(),
                name: "alias/my".into()
            }
        );
        assert_eq!(
            r("arn:aws:kms:us-east-1:444455556666:alias/x/y").unwrap(),
            KeyRef::Alias {
                account: "444455556666".into(),
                name: "alias/x/y".into()
            }
        );
        for bad in [
            "foo",
            "alias/",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:1:key/x",
            "arn:aws:kms:eu-west-1:444455556666:alias/a",
        ] {
            assert!(matches!(r(bad), Err(KmsError::NotFound(_))), "{bad}");
        }
        assert_eq!(r("foo").unwrap_err().to_string(), "Invalid keyId 'foo'");
    }
}
