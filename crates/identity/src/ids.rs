//! Identifier formats of IAM, STS and Organizations.

use base64::Engine;
use strongbox_core::ids::{random_base32, random_bytes, random_hex};

/// An IAM unique id: a 4-letter prefix (`AIDA` user, `AROA` role, `AGPA` group,
/// `ANPA` managed policy) and 17 upper-case base32 characters, 21 in all.
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_base32(17))
}

/// An S3 canonical user id: 64 lowercase hex characters.
pub fn canonical_user_id() -> String {
    random_hex(32)
}

/// `n` random characters from `[a-z0-9]`.
pub fn lower_alnum(n: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes(n)
        .iter()
        .map(|b| ALPHABET[(*b as usize) % 36] as char)
        .collect()
}

/// `o-` and 10 characters of `[a-z0-9]`.
pub fn organization_id() -> String {
    format!("o-{}", lower_alnum(10))
}

/// `r-` and 4 characters of `[a-z0-9]`.
pub fn root_id() -> String {
    format!("r-{}", lower_alnum(4))
}

/// `ou-` + the root's suffix + `-` + 8 characters: `ou-ab12-cd34ef56`.
pub fn ou_id(root_id: &str) -> String {
    let suffix = root_id.strip_prefix("r-").unwrap_or(root_id);
    format!("ou-{suffix}-{}", lower_alnum(8))
}

/// `p-` and 8 characters of `[a-z0-9]`.
pub fn org_policy_id() -> String {
    format!("p-{}", lower_alnum(8))
}

/// A CreateAccount request id: `car-` and 32 characters.
pub fn create_account_request_id() -> String {
    format!("car-{}", random_hex(16))
}

/// An opaque session token (base64, like AWS's).
pub fn session_token() -> String {
    base64::engine::general_purpose::STANDARD.encode(random_bytes(192))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let id = unique_id("AIDA");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
        assert_eq!(canonical_user_id().len(), 64);
        let o = organization_id();
        assert_eq!(o.len(), 12);
        assert!(o[2..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        let r = root_id();
        assert_eq!(r.len(), 6);
        let ou = ou_id(&r);
        assert!(ou.starts_with(&format!("ou-{}-", &r[2..])));
        assert_eq!(ou.len(), 3 + 4 + 1 + 8);
        assert_eq!(org_policy_id().len(), 10);
        assert!(session_token().len() > 200);
    }
}
