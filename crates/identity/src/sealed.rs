//! Secrets at rest: the `secret` of access keys (root and IAM users) and of
//! STS sessions is stored wrapped by the server's master key
//! ([`strongbox_core::sealing`]), never in clear. In memory the records keep
//! the plain secret (signature checks need it); only the stored JSON differs:
//! `"secret": "…"` becomes `"sealed_secret": base64(nonce || ciphertext || tag)`,
//! bound (AES-GCM additional data) to the record's kind and key, so a sealed
//! secret copied onto another row does not open.

use base64::Engine as _;
use serde_json::Value;
use strongbox_core::sealing::{MasterKey, WrappingKey};

use crate::error::{IdentityError, Result};

/// The field that holds the secret in memory (and in rows written before sealing).
const PLAIN_FIELD: &str = "secret";
/// The field that holds the wrapped secret in stored rows.
const SEALED_FIELD: &str = "sealed_secret";
/// The record kinds whose `secret` is sealed.
const SEALED_KINDS: &[&str] = &["access_key", "session"];

/// Seals and opens the secrets of stored identity records.
pub struct SecretSealer {
    key: WrappingKey,
}

/// What opening a stored row found.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    /// The row's secret was sealed (or it has none): nothing to do.
    Sealed,
    /// The row holds its secret in clear (written before sealing): rewrite it.
    Plaintext,
}

fn failure(what: String) -> IdentityError {
    tracing::error!("{what}");
    IdentityError::ServiceFailure("An internal error occurred.".to_string())
}

impl SecretSealer {
    /// The identity subkey of the server's master key.
    pub fn new(master: &MasterKey) -> Result<SecretSealer> {
        let key = master
            .derive(b"strongbox identity secret wrapping v1")
            .map_err(|e| failure(format!("identity secret key: {e}")))?;
        Ok(SecretSealer { key })
    }

    /// Whether rows of `kind` carry a sealed secret.
    pub fn seals(kind: &str) -> bool {
        SEALED_KINDS.contains(&kind)
    }

    fn aad(kind: &str, key: &str) -> Vec<u8> {
        format!("strongbox identity {kind} {key}").into_bytes()
    }

    /// The stored form of `doc` (a record of `kind` and `key`): its plain
    /// secret replaced by the sealed one.
    pub fn seal(&self, kind: &str, key: &str, doc: &mut Value) -> Result<()> {
        if !SecretSealer::seals(kind) {
            return Ok(());
        }
        let Some(fields) = doc.as_object_mut() else {
            return Ok(());
        };
        let Some(Value::String(secret)) = fields.remove(PLAIN_FIELD) else {
            return Err(failure(format!("{kind} {key}: no secret to seal")));
        };
        let wrapped = self
            .key
            .wrap(secret.as_bytes(), &SecretSealer::aad(kind, key))
            .map_err(|e| failure(format!("sealing {kind} {key}: {e}")))?;
        fields.insert(
            SEALED_FIELD.to_string(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(wrapped)),
        );
        Ok(())
    }

    /// The in-memory form of a stored `doc`: its sealed secret opened. Fails
    /// (closed) when the secret does not open: another master key, or a row
    /// that was altered or moved.
    pub fn open(&self, kind: &str, key: &str, doc: &mut Value) -> Result<Opened> {
        if !SecretSealer::seals(kind) {
            return Ok(Opened::Sealed);
        }
        let Some(fields) = doc.as_object_mut() else {
            return Ok(Opened::Sealed);
        };
        let Some(sealed) = fields.remove(SEALED_FIELD) else {
            return Ok(if fields.contains_key(PLAIN_FIELD) {
                Opened::Plaintext
            } else {
                Opened::Sealed
            });
        };
        let secret = sealed
            .as_str()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .and_then(|wrapped| self.key.unwrap(&wrapped, &SecretSealer::aad(kind, key)))
            .and_then(|plain| String::from_utf8(plain).ok())
            .ok_or_else(|| {
                failure(format!(
                    "the secret of {kind} {key} does not unwrap: is this the master key \
                     (STRONGBOX_MASTER_KEY or master.key) the data dir was written with?"
                ))
            })?;
        fields.insert(PLAIN_FIELD.to_string(), Value::String(secret));
        Ok(Opened::Sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> SecretSealer {
        SecretSealer::new(&MasterKey::from_root(&[byte; 32])).unwrap()
    }

    #[test]
    fn seal_then_open_restores_the_secret_and_hides_it_at_rest() {
        let s = sealer(1);
        let mut doc = serde_json::json!({"id": "AKIA1", "secret": "TOPSECRET", "active": true});
        s.seal("access_key", "AKIA1", &mut doc).unwrap();
        let stored = doc.to_string();
        assert!(!stored.contains("TOPSECRET"), "{stored}");
        assert!(doc.get("secret").is_none() && doc.get("sealed_secret").is_some());
        let mut back: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(
            s.open("access_key", "AKIA1", &mut back).unwrap(),
            Opened::Sealed
        );
        assert_eq!(back["secret"], "TOPSECRET");
        assert_eq!(back["active"], true);
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_row_and_master_key() {
        let s = sealer(1);
        let mut doc = serde_json::json!({"secret": "S"});
        s.seal("session", "ASIA1", &mut doc).unwrap();
        assert!(s.open("session", "ASIA2", &mut doc.clone()).is_err());
        assert!(s.open("access_key", "ASIA1", &mut doc.clone()).is_err());
        assert!(sealer(2)
            .open("session", "ASIA1", &mut doc.clone())
            .is_err());
        let mut garbled = serde_json::json!({"sealed_secret": "not base64!"});
        assert!(s.open("session", "ASIA1", &mut garbled).is_err());
    }

    #[test]
    fn plaintext_rows_are_reported_and_other_kinds_untouched() {
        let s = sealer(1);
        let mut legacy = serde_json::json!({"secret": "OLD"});
        assert_eq!(
            s.open("access_key", "K", &mut legacy).unwrap(),
            Opened::Plaintext
        );
        assert_eq!(legacy["secret"], "OLD");
        let mut user = serde_json::json!({"name": "alice"});
        s.seal("user", "k", &mut user).unwrap();
        assert_eq!(user, serde_json::json!({"name": "alice"}));
    }
}
