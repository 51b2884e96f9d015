//! Hashing and HMAC primitives (aws-lc-rs) and the SigV4 signing-key derivation.

use aws_lc_rs::{digest, hmac};

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    strongbox_core::ids::hex(bytes)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

/// The hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&k, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// HMAC-SHA1 (SigV2).
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    hmac::sign(&k, data).as_ref().to_vec()
}

/// The SigV4 signing key: HMAC chain over `AWS4`+secret, date (YYYYMMDD), region, service, `aws4_request`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// How many signing keys each thread remembers.
const SIGNING_KEY_CACHE_SIZE: usize = 8;

/// One remembered signing key, with everything it was derived from.
struct CachedSigningKey {
    secret: String,
    date: String,
    region: String,
    service: String,
    key: [u8; 32],
}

thread_local! {
    /// Signing keys derived on this thread, most recent first. A key only
    /// changes with the date (or the secret), so nearly every request of a
    /// client reuses one: the four-HMAC derivation is paid once a day.
    static SIGNING_KEYS: std::cell::RefCell<Vec<CachedSigningKey>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// [`signing_key`], remembered per thread for the last few
/// (secret, date, region, service) combinations.
pub fn cached_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    SIGNING_KEYS.with(|cell| {
        let Ok(mut cache) = cell.try_borrow_mut() else {
            return signing_key(secret, date, region, service);
        };
        if let Some(i) = cache.iter().position(|c| {
            c.date == date && c.region == region && c.service == service && c.secret == secret
        }) {
            let key = cache[i].key;
            if i != 0 {
                let hit = cache.remove(i);
                cache.insert(0, hit);
            }
            return key;
        }
        let key = signing_key(secret, date, region, service);
        cache.truncate(SIGNING_KEY_CACHE_SIZE - 1);
        cache.insert(
            0,
            CachedSigningKey {
                secret: secret.to_string(),
                date: date.to_string(),
                region: region.to_string(),
                service: service.to_string(),
                key,
            },
        );
        key
    })
}

/// Compares two byte strings in constant time (aws-lc-rs), for signatures.
pub use strongbox_core::constant_time_eq;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_signing_keys_match_derived_ones() {
        let combos = [
            ("s1", "20261206", "us-east-1", "s3"),
            ("s2", "20261206", "us-east-1", "s3"),
            ("s1", "20261207", "us-east-1", "s3"),
            ("s1", "20261206", "eu-west-1", "s3"),
            ("s1", "20261206", "us-east-1", "iam"),
        ];
        // Twice round more combinations than the cache holds: hits, misses, evictions.
        for _ in 0..3 {
            for i in 0..(SIGNING_KEY_CACHE_SIZE + 3) {
                let (secret, date, region, service) = combos[i % combos.len()];
                let secret = format!("{secret}-{}", i / combos.len());
                assert_eq!(
                    cached_signing_key(&secret, date, region, service),
                    signing_key(&secret, date, region, service)
                );
            }
        }
    }

    #[test]
    fn empty_hash() {
        assert_eq!(sha256_hex(b""), EMPTY_SHA256);
    }

    #[test]
    fn hmac_rfc4231_case2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
