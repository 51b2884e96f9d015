//! S3 Block Public Access: whether a bucket policy is "public".
//!
//! Amazon S3 User Guide, "Blocking public access to your Amazon S3 storage",
//! "The meaning of public": a bucket policy is public unless every statement
//! that allows a wildcard principal is limited to *fixed* values (no wildcard,
//! no policy variable) of a principal-identifying or source-identifying key:
//! an AWS principal, user, role or service principal; `aws:SourceIp` with a
//! bounded set of CIDRs; `aws:SourceArn`, `aws:SourceVpc`, `aws:SourceVpce`,
//! `aws:SourceOwner`, `aws:SourceAccount`,
//! `s3:x-amz-server-side-encryption-aws-kms-key-id`, `aws:userid` (outside the
//! pattern `AROLEID:*`), `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`
//! (and the organization and principal keys `aws:PrincipalOrgID`,
//! `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:SourceOrgID`).

use crate::condition::{Base, CondValue, Condition, Parsed, Qualifier};
use crate::policy::{Effect, Policy, Statement};
use crate::principal::PrincipalEntry;

/// Keys whose fixed values make a wildcard-principal grant non-public.
const FIXING_KEYS: &[&str] = &[
    "aws:SourceArn",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceOwner",
    "aws:SourceAccount",
    "aws:SourceOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalOrgID",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
];

/// Shortest prefixes still counted as a limited set of addresses (broader ranges,
/// such as `0.0.0.0/1`, are treated as public).
const MIN_IPV4_PREFIX: u8 = 8;
const MIN_IPV6_PREFIX: u8 = 32;

/// Whether the policy grants public access in the S3 Block Public Access sense.
pub fn is_public_policy(policy: &Policy) -> bool {
    policy.statements().iter().any(|st| {
        st.effect == Effect::Allow && !st.inert && grants_everyone(st) && !fixed_by_condition(st)
    })
}

fn grants_everyone(st: &Statement) -> bool {
    match &st.principal {
        None => false,
        Some(spec) if spec.negated => true,
        Some(spec) => spec.entries.contains(&PrincipalEntry::Everyone),
    }
}

fn fixed_by_condition(st: &Statement) -> bool {
    st.conditions.iter().any(fixes_caller)
}

/// A positive, always-evaluated condition whose values are all fixed.
fn fixes_caller(c: &Condition) -> bool {
    let op = c.op;
    if op.negated || op.if_exists || op.qualifier == Qualifier::ForAllValues || c.values.is_empty()
    {
        return false;
    }
    let statics = || {
        c.values.iter().map(|v| match v {
            CondValue::Static(p) => Some(p),
            CondValue::Dynamic(_) => None,
        })
    };
    if op.base == Base::IpAddress && c.key.eq_ignore_ascii_case("aws:SourceIp") {
        return statics().all(|p| match p {
            Some(Parsed::Net(net)) => match net {
                ipnet::IpNet::V4(n) => n.prefix_len() >= MIN_IPV4_PREFIX,
                ipnet::IpNet::V6(n) => n.prefix_len() >= MIN_IPV6_PREFIX,
            },
            _ => false,
        });
    }
    if !FIXING_KEYS.iter().any(|k| k.eq_ignore_ascii_case(&c.key)) {
        return false;
    }
    let textual = matches!(
        op.base,
        Base::StringEquals | Base::StringEqualsIgnoreCase | Base::StringLike | Base::Arn
    );
    textual
        && statics().all(|p| match p {
            Some(Parsed::Text(g)) => !g.has_wildcard(),
            Some(Parsed::Arn(m)) => !m.has_wildcard(),
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyKind;

    fn public(statement: &str) -> bool {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        let kind = PolicyKind::Bucket { bucket: "b".into() };
        is_public_policy(&Policy::parse(&kind, &text).unwrap())
    }

    const S: &str = r#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#;

    #[test]
    fn wildcard_principals_are_public() {
        assert!(public(&format!(r#"{{{S},"Principal":"*"}}"#)));
        assert!(public(&format!(r#"{{{S},"Principal":{{"AWS":"*"}}}}"#)));
        assert!(public(&format!(
            r#"{{{S},"NotPrincipal":{{"AWS":"111122223333"}}}}"#
        )));
        assert!(!public(&format!(
            r#"{{{S},"Principal":{{"AWS":"111122223333"}}}}"#
        )));
        assert!(!public(
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#
        ));
    }

    #[test]
    fn fixed_conditions_make_it_private() {
        let with = |cond: &str| public(&format!(r#"{{{S},"Principal":"*","Condition":{cond}}}"#));
        assert!(!with(
            r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#
        ));
        assert!(with(r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#));
        assert!(!with(
            r#"{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#
        ));
        assert!(with(
            r#"{"StringEquals":{"aws:PrincipalOrgID":"${aws:PrincipalTag/org}"}}"#
        ));
        assert!(!with(r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#));
        assert!(with(r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/1"}}"#));
        assert!(with(
            r#"{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}"#
        ));
        assert!(with(r#"{"StringEquals":{"s3:prefix":"public/"}}"#));
        assert!(!with(
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}"#
        ));
        assert!(with(
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#
        ));
    }
}
