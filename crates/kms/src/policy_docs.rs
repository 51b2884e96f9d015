//! Key policy documents: the defaults AWS writes, and validation of given ones.

use strongbox_policy::{Policy, PolicyKind};

use crate::error::KmsError;

/// Longest key policy KMS accepts (32 KiB).
pub const MAX_POLICY_LEN: usize = 32 * 1024;

/// The default key policy of a key created without `Policy`: the account's
/// root principal may do everything, which delegates access to IAM policies.
/// Laid out as KMS returns it from GetKeyPolicy.
/// See <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>.
pub fn default_key_policy(account_id: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account_id}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// The key policy of the AWS managed key `aws/s3`: principals of the account
/// may use it only through S3 in this region, and the account may read its
/// metadata. See <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html>
/// ("AWS managed keys") and the policy shown for `aws/s3` in the console.
pub fn aws_s3_managed_key_policy(account_id: &str, region: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-s3-2",
  "Statement" : [ {{
    "Sid" : "Allow access through S3 for all principals in the account that are authorized to use S3",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account_id}",
        "kms:ViaService" : "s3.{region}.amazonaws.com"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account_id}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// Checks a key policy given to CreateKey / PutKeyPolicy with the shared
/// policy engine's strict parser (AWS's validation rules and messages).
pub fn validate_key_policy(text: &str) -> Result<(), KmsError> {
    // The API's own length constraint on the `Policy` member comes first.
    if text.is_empty() || text.len() > MAX_POLICY_LEN {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length between 1 and {MAX_POLICY_LEN}"
        )));
    }
    match Policy::parse(&PolicyKind::KeyPolicy, text) {
        Ok(_) => Ok(()),
        Err(e) if e.code == "LimitExceededException" => Err(KmsError::LimitExceeded(e.message)),
        Err(e) => Err(KmsError::MalformedPolicyDocument(e.message)),
    }
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
