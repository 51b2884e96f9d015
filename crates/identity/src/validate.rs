//! Input checks: names, paths and policy documents.
//!
//! Limits: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>.

use strongbox_policy::{Policy, PolicyKind};

use crate::error::{constraint, IdentityError, Result};

/// Names of users and roles: `[\w+=,.@-]+`, 1–64 characters (groups and policies 1–128).
pub fn name(value: &str, field: &str, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(constraint(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(constraint(
            value,
            field,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// IAM paths: `/` or `/…/` of printable ASCII, at most 512 characters.
pub fn path(value: &str, field: &str) -> Result<()> {
    let printable = value.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    let shaped =
        value == "/" || (value.len() >= 2 && value.starts_with('/') && value.ends_with('/'));
    if value.len() > 512 || !printable || !shaped {
        return Err(constraint(
            value,
            field,
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
        ));
    }
    Ok(())
}

/// The size AWS counts: the document without white space.
pub fn packed_len(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// Checks a policy document's grammar with the policy engine's strict parser
/// (AWS's validation and messages). IAM/STS report `MalformedPolicyDocument`
/// (or `LimitExceeded`); Organizations its own exception names.
pub fn policy(doc: &str, kind: PolicyKind) -> Result<()> {
    match Policy::parse(&kind, doc) {
        Ok(_) => Ok(()),
        Err(e) => Err(match (kind, e.code) {
            (PolicyKind::Scp, code) => IdentityError::Organizations {
                code,
                message: e.message,
            },
            (_, "LimitExceeded") => IdentityError::LimitExceeded(e.message),
            _ => IdentityError::MalformedPolicyDocument(e.message),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert!(name("alice.smith+ops@x", "userName", 64).is_ok());
        assert!(name("bad name", "userName", 64).is_err());
        assert!(name(&"a".repeat(65), "userName", 64).is_err());
        assert!(path("/", "path").is_ok());
        assert!(path("/division_abc/subdivision_xyz/", "path").is_ok());
        assert!(path("/nope", "path").is_err());
        assert!(path("", "path").is_err());
    }

    #[test]
    fn documents() {
        let identity = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert!(policy(identity, PolicyKind::Identity).is_ok());
        assert!(policy(identity, PolicyKind::Trust).is_err());
        let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#;
        assert!(policy(trust, PolicyKind::Trust).is_ok());
        let e = policy(trust, PolicyKind::Identity).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Policy document should not specify a principal."
        );
        assert!(policy("{not json", PolicyKind::Identity).is_err());
        assert!(policy(
            r#"{"Version":"2013-01-01","Statement":[]}"#,
            PolicyKind::Identity
        )
        .is_err());
        assert!(policy(
            r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
            PolicyKind::Identity
        )
        .is_err());
        assert_eq!(packed_len("{ \"a\" : 1 }\n"), 7);
    }
}
