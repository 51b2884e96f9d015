//! Input checks: names, paths and policy documents.
//!
//! Limits: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>.

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

/// Which kind of document is being stored; decides what it may contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    /// Inline and managed identity policies, permissions boundaries, session policies.
    Identity,
    /// A role trust policy.
    Trust,
    /// A service control policy.
    Scp,
}

/// The size AWS counts: the document without white space.
pub fn packed_len(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// Checks a policy document's grammar. Error messages are AWS's.
// TODO: switch to strongbox_policy::Policy::parse once crates/policy exposes it,
// keeping this function as the one place documents are validated.
pub fn policy(doc: &str, kind: DocKind) -> Result<()> {
    let malformed = |m: &str| IdentityError::MalformedPolicyDocument(m.to_string());
    let value: serde_json::Value =
        serde_json::from_str(doc).map_err(|_| malformed("Syntax errors in policy."))?;
    let obj = value
        .as_object()
        .ok_or_else(|| malformed("Syntax errors in policy."))?;
    if let Some(version) = obj.get("Version") {
        match version.as_str() {
            Some("2012-10-17") | Some("2008-10-17") => {}
            _ => return Err(malformed("The policy must contain a valid version string")),
        }
    }
    for key in obj.keys() {
        if !["Version", "Id", "Statement"].contains(&key.as_str()) {
            return Err(malformed("Syntax errors in policy."));
        }
    }
    let statements: Vec<&serde_json::Value> = match obj.get("Statement") {
        Some(serde_json::Value::Array(list)) => list.iter().collect(),
        Some(v @ serde_json::Value::Object(_)) => vec![v],
        _ => return Err(malformed("Syntax errors in policy.")),
    };
    if statements.is_empty() {
        return Err(malformed("Syntax errors in policy."));
    }
    for st in statements {
        let st = st
            .as_object()
            .ok_or_else(|| malformed("Syntax errors in policy."))?;
        match st.get("Effect").and_then(|e| e.as_str()) {
            Some("Allow") | Some("Deny") => {}
            _ => return Err(malformed("Invalid effect: missing or unknown")),
        }
        if !st.contains_key("Action") && !st.contains_key("NotAction") {
            return Err(malformed("Policy statement must contain actions."));
        }
        let has_principal = st.contains_key("Principal") || st.contains_key("NotPrincipal");
        match kind {
            DocKind::Trust => {
                if !has_principal {
                    return Err(malformed("Missing required field Principal"));
                }
            }
            DocKind::Identity | DocKind::Scp => {
                if has_principal {
                    return Err(malformed("Policy document should not specify a principal."));
                }
                if !st.contains_key("Resource")
                    && !st.contains_key("NotResource")
                    && kind == DocKind::Identity
                {
                    return Err(malformed("Policy statement must contain resources."));
                }
            }
        }
        for key in st.keys() {
            let known = [
                "Sid",
                "Effect",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Principal",
                "NotPrincipal",
                "Condition",
            ];
            if !known.contains(&key.as_str()) {
                return Err(malformed("Syntax errors in policy."));
            }
        }
    }
    Ok(())
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
        assert!(policy(identity, DocKind::Identity).is_ok());
        assert!(policy(identity, DocKind::Trust).is_err());
        let trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#;
        assert!(policy(trust, DocKind::Trust).is_ok());
        let e = policy(trust, DocKind::Identity).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Policy document should not specify a principal."
        );
        assert!(policy("{not json", DocKind::Identity).is_err());
        assert!(policy(
            r#"{"Version":"2013-01-01","Statement":[]}"#,
            DocKind::Identity
        )
        .is_err());
        assert!(policy(
            r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
            DocKind::Identity
        )
        .is_err());
        assert_eq!(packed_len("{ \"a\" : 1 }\n"), 7);
    }
}
