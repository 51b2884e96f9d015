//! Random identifiers in the formats AWS uses.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // SystemRandom only fails if the OS RNG is unavailable, which is fatal anyway;
    // fall back to a time-seeded value rather than panic on a request path.
    if SystemRandom::new().fill(&mut buf).is_err() {
        let t = jiff::Timestamp::now().as_nanosecond() as u128;
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8;
        }
    }
    buf
}

/// Lowercase hex of `n` random bytes.
pub fn random_hex(n: usize) -> String {
    hex(&random_bytes(n))
}

/// Lowercase hex encoding.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `len` random characters of upper-case base32 (A–Z, 2–7), as in access key ids.
pub fn random_base32(len: usize) -> String {
    random_bytes(len)
        .iter()
        .map(|b| BASE32[(b & 31) as usize] as char)
        .collect()
}

/// An IAM-style unique id or access key id: `prefix` + 16 base32 characters
/// (`AKIA…`, `ASIA…`, `AIDA…`, `AROA…`, `AGPA…`, `ANPA…`).
pub fn aws_id(prefix: &str) -> String {
    format!("{prefix}{}", random_base32(16))
}

/// A 40-character secret access key.
pub fn secret_access_key() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    random_bytes(40)
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect()
}

/// A request id as S3 prints it: 16 upper-case hex characters.
pub fn request_id() -> String {
    random_hex(8).to_uppercase()
}

/// A 12-digit account id that does not start with 0.
pub fn account_id() -> String {
    let bytes = random_bytes(12);
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let d = b % 10;
            let d = if i == 0 && d == 0 { 1 } else { d };
            char::from(b'0' + d)
        })
        .collect()
}

/// A random UUID (version 4) in its canonical text form.
pub fn uuid_v4() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(aws_id("AKIA").len(), 20);
        assert_eq!(secret_access_key().len(), 40);
        let acct = account_id();
        assert_eq!(acct.len(), 12);
        assert!(acct.chars().all(|c| c.is_ascii_digit()));
        assert!(!acct.starts_with('0'));
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
