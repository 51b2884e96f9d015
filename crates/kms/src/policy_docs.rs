//! Key policy documents: the defaults AWS writes, and validation of given ones.

use crate::error::KmsError;

/// Longest key policy KMS accepts (32 KiB).
pub const MAX_POLICY_LEN: usize = 32 * 1024;

/// The default key policy of a key created without `Policy`: the account's
/// root principal may do everything, which delegates access to IAM policies.
/// See <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>.
pub fn default_key_policy(account_id: &str) -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account_id}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }]
    });
    pretty(&doc)
}

/// The key policy of the AWS managed key `aws/s3`: principals of the account
/// may use it only through S3 in this region, and the account may read its
/// metadata. See <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>
/// ("AWS managed keys") and the policy shown for `aws/s3` in the console.
pub fn aws_s3_managed_key_policy(account_id: &str, region: &str) -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "auto-s3-2",
        "Statement": [
            {
                "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
                "Effect": "Allow",
                "Principal": { "AWS": "*" },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": format!("s3.{region}.amazonaws.com")
                    }
                }
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{account_id}:root") },
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*"
            }
        ]
    });
    pretty(&doc)
}

fn pretty(doc: &serde_json::Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
}

/// Checks a key policy given to CreateKey / PutKeyPolicy.
///
/// Uses the shared policy engine's parser when it is available; until then a
/// structural check (JSON object, `Statement` present, each statement with an
/// `Effect` of Allow/Deny, a `Principal`, and an `Action`).
// TODO: switch to `strongbox_policy::Policy::parse(&PolicyKind::KeyPolicy, text)` once crates/policy exports it.
pub fn validate_key_policy(text: &str) -> Result<(), KmsError> {
    let malformed = |why: &str| KmsError::MalformedPolicyDocument(why.to_string());
    if text.len() > MAX_POLICY_LEN {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_LEN}"
        )));
    }
    let doc: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| malformed("The new key policy is not valid JSON."))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| malformed("The new key policy is not a JSON object."))?;
    if let Some(v) = obj.get("Version") {
        if !matches!(v.as_str(), Some("2012-10-17") | Some("2008-10-17")) {
            return Err(malformed("The policy contains an invalid Version."));
        }
    }
    let statements = match obj.get("Statement") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() => list.iter().collect::<Vec<_>>(),
        Some(s @ serde_json::Value::Object(_)) => vec![s],
        _ => return Err(malformed("The new key policy contains no statements.")),
    };
    for st in statements {
        let st = st
            .as_object()
            .ok_or_else(|| malformed("A policy statement is not a JSON object."))?;
        match st.get("Effect").and_then(|e| e.as_str()) {
            Some("Allow") | Some("Deny") => {}
            _ => return Err(malformed("A policy statement has an invalid Effect.")),
        }
        if !st.contains_key("Principal") && !st.contains_key("NotPrincipal") {
            return Err(malformed("Policy contains a statement with no principal."));
        }
        if !st.contains_key("Action") && !st.contains_key("NotAction") {
            return Err(malformed("Policy contains a statement with no action."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_delegates_to_root() {
        let p: serde_json::Value =
            serde_json::from_str(&default_key_policy("111122223333")).unwrap();
        let st = &p["Statement"][0];
        assert_eq!(st["Sid"], "Enable IAM User Permissions");
        assert_eq!(st["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
        assert_eq!(st["Action"], "kms:*");
        assert!(validate_key_policy(&default_key_policy("111122223333")).is_ok());
    }

    #[test]
    fn aws_s3_policy_restricts_to_s3_and_account() {
        let text = aws_s3_managed_key_policy("111122223333", "eu-west-1");
        let p: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cond = &p["Statement"][0]["Condition"]["StringEquals"];
        assert_eq!(cond["kms:CallerAccount"], "111122223333");
        assert_eq!(cond["kms:ViaService"], "s3.eu-west-1.amazonaws.com");
        assert_eq!(p["Statement"][0]["Principal"]["AWS"], "*");
        assert_eq!(p["Statement"][1]["Action"][0], "kms:Describe*");
        assert!(validate_key_policy(&text).is_ok());
    }

    #[test]
    fn malformed_policies() {
        for bad in [
            "not json",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":[]}"#,
            r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*"}]}"#,
            r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
        ] {
            assert!(
                matches!(
                    validate_key_policy(bad),
                    Err(KmsError::MalformedPolicyDocument(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            validate_key_policy(&"x".repeat(MAX_POLICY_LEN + 1)),
            Err(KmsError::Validation(_))
        ));
        assert!(validate_key_policy(
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}}"#
        )
        .is_ok());
    }
}
