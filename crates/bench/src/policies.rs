//! The policies of the authorization-cost workload: 5 identity policies for the IAM
//! user and a 20-statement bucket policy. Every Deny has a condition that does not match
//! a plain PUT over loopback, so the request is allowed and every statement must be
//! evaluated (an explicit Deny anywhere would win, so no statement can be skipped).
//!
//! Policy grammar: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>

use serde_json::{json, Value};

/// Number of identity policies attached to the benchmark user.
pub const IDENTITY_POLICY_COUNT: usize = 5;
/// Number of statements in the benchmark bucket policy.
pub const BUCKET_POLICY_STATEMENTS: usize = 20;

/// A Deny of `action` on `resource` whose condition never matches the benchmark's
/// requests (variant `n` picks one of several condition kinds).
fn non_matching_deny(
    sid: String,
    principal: Option<&str>,
    action: &str,
    resource: &str,
    n: usize,
) -> Value {
    let condition = match n % 5 {
        0 => json!({ "IpAddress": { "aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"] } }),
        1 => json!({ "StringLike": { "aws:UserAgent": ["blocked-agent-*", "*evil-scanner*"] } }),
        2 => json!({ "DateGreaterThan": { "aws:CurrentTime": "2099-01-01T00:00:00Z" } }),
        3 => json!({ "StringEquals": { "aws:username": ["mallory", "eve"] } }),
        _ => json!({ "NotIpAddress": { "aws:SourceIp": ["127.0.0.0/8", "::1/128"] } }),
    };
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Deny",
        "Action": action,
        "Resource": resource,
        "Condition": condition,
    });
    if let (Some(principal), Some(map)) = (principal, statement.as_object_mut()) {
        map.insert("Principal".into(), json!({ "AWS": principal }));
    }
    statement
}

/// The identity policies (name, document) for a user PUTting into `bucket`: each has a
/// non-matching Deny and an Allow (the last policy's Allow covers every object). They
/// are kept compact to fit AWS's 2,048-character quota on a user's inline policies.
pub fn identity_policies(bucket: &str) -> Vec<(String, String)> {
    let objects = format!("arn:aws:s3:::{bucket}/*");
    (0..IDENTITY_POLICY_COUNT)
        .map(|i| {
            let allowed = if i + 1 == IDENTITY_POLICY_COUNT {
                objects.clone()
            } else {
                format!("arn:aws:s3:::{bucket}/b{i}/*")
            };
            let document = json!({
                "Version": "2012-10-17",
                "Statement": [
                    non_matching_deny(format!("D{i}"), None, "s3:PutObject", &objects, i),
                    {
                        "Sid": format!("A{i}"),
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": allowed,
                    },
                ],
            });
            (format!("bench-{i}"), document.to_string())
        })
        .collect()
}

/// The bucket policy: 12 non-matching Denies (half naming the user as principal, half
/// everyone) and 8 Allows for the user, one of which covers the benchmark's keys.
pub fn bucket_policy(bucket: &str, user_arn: &str, key_prefix: &str) -> String {
    let objects = format!("arn:aws:s3:::{bucket}/*");
    let mut statements = Vec::with_capacity(BUCKET_POLICY_STATEMENTS);
    for i in 0..12 {
        let principal = if i % 2 == 0 { user_arn } else { "*" };
        let action = if i % 3 == 0 { "s3:*" } else { "s3:PutObject" };
        statements.push(non_matching_deny(
            format!("Deny{i}"),
            Some(principal),
            action,
            &objects,
            i,
        ));
    }
    for i in 0..8 {
        let resource = if i == 7 {
            format!("arn:aws:s3:::{bucket}/{key_prefix}/*")
        } else {
            format!("arn:aws:s3:::{bucket}/other-{i}/*")
        };
        statements.push(json!({
            "Sid": format!("Allow{i}"),
            "Effect": "Allow",
            "Principal": { "AWS": user_arn },
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": resource,
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS caps the inline policies of one user at 2,048 characters in total (whitespace
    /// excluded): <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html>.
    const USER_INLINE_POLICY_BUDGET: usize = 2048;

    fn statements(document: &str) -> Vec<Value> {
        let value: Value = serde_json::from_str(document).unwrap();
        value["Statement"].as_array().unwrap().clone()
    }

    #[test]
    fn five_identity_policies_each_with_denies_and_an_allow() {
        let policies = identity_policies("strongbox-bench-auth-iam");
        assert_eq!(policies.len(), IDENTITY_POLICY_COUNT);
        let total: usize = policies.iter().map(|(_, d)| d.len()).sum();
        assert!(total < USER_INLINE_POLICY_BUDGET, "{total} characters");
        for (name, document) in &policies {
            assert!(name.starts_with("bench-"));
            let statements = statements(document);
            assert_eq!(statements.len(), 2);
            assert!(statements
                .iter()
                .filter(|s| s["Effect"] == "Deny")
                .all(|s| s["Condition"].is_object()));
        }
    }

    #[test]
    fn bucket_policy_has_twenty_statements_and_allows_the_prefix() {
        let document = bucket_policy("b", "arn:aws:iam::123456789012:user/u", "auth");
        let statements = statements(&document);
        assert_eq!(statements.len(), BUCKET_POLICY_STATEMENTS);
        let denies = statements.iter().filter(|s| s["Effect"] == "Deny").count();
        assert_eq!(denies, 12);
        assert!(statements
            .iter()
            .filter(|s| s["Effect"] == "Deny")
            .all(|s| s["Condition"].is_object() && s["Principal"].is_object()));
        assert!(statements
            .iter()
            .any(|s| s["Effect"] == "Allow" && s["Resource"] == "arn:aws:s3:::b/auth/*"));
    }

    #[test]
    fn deny_conditions_never_target_loopback() {
        // The IpAddress conditions name documentation ranges; NotIpAddress names loopback
        // (so it does not match a loopback caller).
        let document = bucket_policy("b", "arn:aws:iam::123456789012:user/u", "auth");
        assert!(!document.contains("\"IpAddress\":{\"aws:SourceIp\":[\"127."));
        assert!(document.contains("NotIpAddress"));
    }
}
