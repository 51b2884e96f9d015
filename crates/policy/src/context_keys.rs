//! The context keys a policy refers to: condition keys and the keys of
//! policy variables (`${aws:username}`), as IAM's GetContextKeysFor*Policy
//! and the simulator's `MissingContextValues` list them.
//!
//! Order: as they appear in each statement (variables in `Resource` /
//! `NotResource`, then each condition's key, then variables in its values),
//! statements in order; each key once, compared without case (key names are
//! not case-sensitive). This follows AWS's example in the AWS CLI Command
//! Reference (`get-context-keys-for-custom-policy`: `aws:username` from the
//! Resource before `aws:CurrentTime` from the Condition).

use crate::condition::CondValue;
use crate::context::{lookup, Context};
use crate::policy::{Policy, ResourcePattern, ResourceSpec};
use crate::principal::Principal;
use crate::variables::{Part, Pattern};

/// Appends `key` unless a key equal to it ignoring case is already there.
fn push_unique(out: &mut Vec<String>, key: &str) {
    if !out.iter().any(|k| k.eq_ignore_ascii_case(key)) {
        out.push(key.to_string());
    }
}

fn push_variables(out: &mut Vec<String>, pattern: &Pattern) {
    if let Pattern::Dynamic(parts) = pattern {
        for part in parts {
            if let Part::Var { key, .. } = part {
                push_unique(out, key);
            }
        }
    }
}

impl Policy {
    /// The context keys of statement `index` (empty when there is none).
    pub fn statement_context_keys(&self, index: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.add_statement_keys(index, &mut out);
        out
    }

    /// The context keys of every statement, each once.
    pub fn context_keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for index in 0..self.statement_count() {
            self.add_statement_keys(index, &mut out);
        }
        out
    }

    fn add_statement_keys(&self, index: usize, out: &mut Vec<String>) {
        let Some(st) = self.statements().get(index) else {
            return;
        };
        if let ResourceSpec::Resource(pats) | ResourceSpec::NotResource(pats) = &st.resource {
            for p in pats {
                if let ResourcePattern::Dynamic(pattern) = p {
                    push_variables(out, pattern);
                }
            }
        }
        for c in &st.conditions {
            push_unique(out, &c.key);
            for v in &c.values {
                if let CondValue::Dynamic(pattern) = v {
                    push_variables(out, pattern);
                }
            }
        }
    }
}

/// Whether the engine has a value for `key` in a request by `principal` with
/// `context`: listed in the context, or derived from the principal
/// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:username`).
pub fn has_context_value(context: &Context, principal: &Principal, key: &str) -> bool {
    let principal_arn = principal.principal_arn_owned();
    lookup(context, principal, principal_arn.as_deref(), key).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyKind;

    fn policy(text: &str) -> Policy {
        Policy::parse(&PolicyKind::Identity, text).unwrap()
    }

    #[test]
    fn keys_in_order_of_appearance_as_in_the_cli_reference_example() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}"#,
        );
        assert_eq!(p.context_keys(), ["aws:username", "aws:CurrentTime"]);
    }

    #[test]
    fn keys_are_unique_ignoring_case_and_include_value_variables() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"s3:*","Resource":"*",
               "Condition":{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'none'}"},
                            "Bool":{"aws:SecureTransport":"true"}}},
              {"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b/${aws:userid}/*",
               "Condition":{"Bool":{"AWS:securetransport":"false"}}},
              {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        );
        let keys = p.context_keys();
        assert_eq!(keys.len(), 4, "{keys:?}");
        for k in [
            "s3:prefix",
            "aws:PrincipalTag/team",
            "aws:SecureTransport",
            "aws:userid",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
        }
        assert_eq!(
            p.statement_context_keys(1),
            ["aws:userid", "AWS:securetransport"]
        );
        assert!(p.statement_context_keys(2).is_empty());
        assert!(p.statement_context_keys(9).is_empty());
    }

    #[test]
    fn variables_count_only_under_version_2012() {
        let p = policy(
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#,
        );
        assert!(p.context_keys().is_empty());
    }

    #[test]
    fn derived_keys_count_as_present() {
        let alice = Principal::User {
            arn: "arn:aws:iam::111122223333:user/alice".into(),
            account: "111122223333".into(),
        };
        let ctx = Context::new().with("aws:SourceIp", "10.0.0.1");
        assert!(has_context_value(&ctx, &alice, "aws:username"));
        assert!(has_context_value(&ctx, &alice, "AWS:SourceIP"));
        assert!(!has_context_value(&ctx, &alice, "aws:CurrentTime"));
        let hidden = Context::new().with_values("aws:username", Vec::<String>::new());
        assert!(!has_context_value(&hidden, &alice, "aws:username"));
    }
}
