//! Condition operators.
//!
//! IAM User Guide, "IAM JSON policy elements: Condition operators" and
//! "Creating a condition with multiple context keys or values":
//! * several operators, and several keys under one operator, are ANDed;
//!   several values for one key are ORed; a negated operator (`StringNotEquals`,
//!   `NotIpAddress`, `ArnNotLike`, …) holds when the request value matches none
//!   of the policy values;
//! * a key missing from the request makes the condition false, except for
//!   negated operators (true), `...IfExists` (true), `ForAllValues` (true) and
//!   `Null`;
//! * "IAM policy elements: Variables and tags", Policy variables with no value:
//!   a policy value holding a variable with no value (and no default) is null
//!   and equals nothing, so `StringEquals` / `StringLike` / `ArnLike` … do not
//!   match it and the inverted operators (`StringNotEquals`, `StringNotLike`,
//!   `ArnNotEquals`, …) do; the condition's other values still count;
//! * `ForAnyValue:` holds when at least one request value passes,
//!   `ForAllValues:` when every request value passes.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::arn::ArnMatcher;
use crate::context::Values;
use crate::glob::Glob;
use crate::variables::Pattern;

/// The comparison an operator makes, before negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    Arn,
    Null,
}

impl Base {
    /// Whether condition values of this operator may hold policy variables: only
    /// the string, ARN and Bool operators. IAM User Guide, "IAM policy elements:
    /// Variables and tags", Condition element ("You can use a policy variable for
    /// Condition values in any condition that involves the string operators or the
    /// ARN operators"; the Bool section of "IAM JSON policy elements: Condition
    /// operators" allows them too). With Numeric, Date, Binary, IpAddress and Null
    /// operators `${...}` is literal text, which never parses as their value type.
    fn takes_variables(self) -> bool {
        matches!(
            self,
            Base::StringEquals
                | Base::StringEqualsIgnoreCase
                | Base::StringLike
                | Base::Arn
                | Base::Bool
        )
    }
}

/// `ForAnyValue:` / `ForAllValues:` set qualifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) enum Qualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// A parsed operator name such as `ForAllValues:StringNotEqualsIfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) base: Base,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
    pub(crate) qualifier: Qualifier,
}

impl Operator {
    /// Parses an operator name; `None` for an operator AWS does not know.
    pub(crate) fn parse(name: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, r)
        } else {
            (Qualifier::None, name)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let (base, negated) = match rest {
            "StringEquals" => (Base::StringEquals, false),
            "StringNotEquals" => (Base::StringEquals, true),
            "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
            "StringLike" => (Base::StringLike, false),
            "StringNotLike" => (Base::StringLike, true),
            "NumericEquals" => (Base::NumericEquals, false),
            "NumericNotEquals" => (Base::NumericEquals, true),
            "NumericLessThan" => (Base::NumericLessThan, false),
            "NumericLessThanEquals" => (Base::NumericLessThanEquals, false),
            "NumericGreaterThan" => (Base::NumericGreaterThan, false),
            "NumericGreaterThanEquals" => (Base::NumericGreaterThanEquals, false),
            "DateEquals" => (Base::DateEquals, false),
            "DateNotEquals" => (Base::DateEquals, true),
            "DateLessThan" => (Base::DateLessThan, false),
            "DateLessThanEquals" => (Base::DateLessThanEquals, false),
            "DateGreaterThan" => (Base::DateGreaterThan, false),
            "DateGreaterThanEquals" => (Base::DateGreaterThanEquals, false),
            "Bool" => (Base::Bool, false),
            "BinaryEquals" => (Base::BinaryEquals, false),
            "IpAddress" => (Base::IpAddress, false),
            "NotIpAddress" => (Base::IpAddress, true),
            "ArnEquals" | "ArnLike" => (Base::Arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Base::Arn, true),
            "Null" => (Base::Null, false),
            _ => return None,
        };
        if base == Base::Null && (if_exists || qualifier != Qualifier::None) {
            return None;
        }
        Some(Operator {
            base,
            negated,
            if_exists,
            qualifier,
        })
    }
}

/// A policy value, parsed for its operator.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Parsed {
    Text(Glob),
    Number(f64),
    Date(i128),
    Bool(bool),
    Net(IpNet),
    Arn(ArnMatcher),
    /// Could not be read for this operator: matches nothing.
    Invalid,
}

/// One policy value: parsed once, or re-parsed per request when it holds variables.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CondValue {
    Static(Parsed),
    Dynamic(Pattern),
}

/// One `operator: { key: values }` entry of a `Condition` block.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    /// The operator as written (for traces).
    pub(crate) operator_name: String,
    pub(crate) op: Operator,
    /// The key as written.
    pub(crate) key: String,
    /// The values as written.
    pub(crate) raw_values: Vec<String>,
    pub(crate) values: Vec<CondValue>,
}

impl Condition {
    /// Compiles a condition; `variables` enables policy variables (Version 2012-10-17).
    pub(crate) fn new(
        operator_name: &str,
        op: Operator,
        key: &str,
        raw_values: Vec<String>,
        variables: bool,
    ) -> Condition {
        let values = raw_values
            .iter()
            .map(|raw| {
                let wildcards = matches!(op.base, Base::StringLike | Base::Arn);
                let pattern = Pattern::new(raw, wildcards, variables && op.base.takes_variables());
                if pattern.has_variables() {
                    CondValue::Dynamic(pattern)
                } else {
                    CondValue::Static(parse_value(op.base, raw))
                }
            })
            .collect();
        Condition {
            operator_name: operator_name.to_string(),
            op,
            key: key.to_string(),
            raw_values,
            values,
        }
    }

    /// Evaluates the condition. `present`: the request's values of the key;
    /// `resolve`: single values of keys for policy variables.
    pub(crate) fn evaluate<'v>(
        &self,
        present: Option<Values<'_>>,
        resolve: &dyn Fn(&str) -> Option<&'v str>,
    ) -> bool {
        let op = self.op;
        if op.base == Base::Null {
            // "true": the key must be absent; "false": present. Several values are ORed.
            return self.values.iter().any(|v| match v {
                CondValue::Static(Parsed::Bool(want_absent)) => *want_absent == present.is_none(),
                _ => false,
            });
        }
        let Some(values) = present else {
            if op.if_exists {
                return true;
            }
            return match op.qualifier {
                Qualifier::ForAllValues => true,
                Qualifier::ForAnyValue => false,
                Qualifier::None => op.negated,
            };
        };
        // Resolve policy values that carry variables. A variable with no value makes
        // its policy value null, which equals and is like nothing: a positive operator
        // does not match it and an inverted one does (IAM User Guide, "Policy variables
        // with no value", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
        let resolved: Vec<Parsed> = self
            .values
            .iter()
            .filter_map(|v| match v {
                CondValue::Dynamic(p) => Some(
                    p.resolve(resolve)
                        .map_or(Parsed::Invalid, |g| reparse(op.base, &g)),
                ),
                CondValue::Static(_) => None,
            })
            .collect();
        let matches_one = |request_value: &str| -> bool {
            let mut dynamic = resolved.iter();
            self.values.iter().any(|v| {
                let parsed = match v {
                    CondValue::Static(p) => Some(p),
                    CondValue::Dynamic(_) => dynamic.next(),
                };
                parsed.is_some_and(|p| compare(op.base, p, request_value))
            })
        };
        match op.qualifier {
            Qualifier::None => {
                let any = values.iter().any(matches_one);
                any != op.negated
            }
            Qualifier::ForAnyValue => values.iter().any(|v| matches_one(v) != op.negated),
            Qualifier::ForAllValues => values.iter().all(|v| matches_one(v) != op.negated),
        }
    }
}

/// Re-reads a resolved dynamic value for its operator.
fn reparse(base: Base, g: &Glob) -> Parsed {
    match base {
        Base::StringLike => Parsed::Text(g.clone()),
        Base::Arn => Parsed::Arn(ArnMatcher::new(g.clone())),
        _ => match g {
            Glob::Exact(s) => parse_value(base, s),
            // A variable in a non-wildcard operator always resolves to plain text.
            _ => Parsed::Invalid,
        },
    }
}

/// Parses a policy value for `base`.
pub(crate) fn parse_value(base: Base, raw: &str) -> Parsed {
    match base {
        Base::StringEquals | Base::StringEqualsIgnoreCase | Base::BinaryEquals => {
            Parsed::Text(Glob::Exact(raw.to_string()))
        }
        Base::StringLike => Parsed::Text(Glob::new(raw)),
        Base::NumericEquals
        | Base::NumericLessThan
        | Base::NumericLessThanEquals
        | Base::NumericGreaterThan
        | Base::NumericGreaterThanEquals => {
            parse_number(raw).map_or(Parsed::Invalid, Parsed::Number)
        }
        Base::DateEquals
        | Base::DateLessThan
        | Base::DateLessThanEquals
        | Base::DateGreaterThan
        | Base::DateGreaterThanEquals => parse_date(raw).map_or(Parsed::Invalid, Parsed::Date),
        Base::Bool | Base::Null => parse_bool(raw).map_or(Parsed::Invalid, Parsed::Bool),
        Base::IpAddress => parse_net(raw).map_or(Parsed::Invalid, Parsed::Net),
        Base::Arn => Parsed::Arn(ArnMatcher::new(Glob::new(raw))),
    }
}

/// Compares one request value with one parsed policy value.
fn compare(base: Base, policy: &Parsed, request: &str) -> bool {
    match (base, policy) {
        (Base::StringEquals | Base::BinaryEquals, Parsed::Text(g)) => g.matches(request, false),
        (Base::StringEqualsIgnoreCase, Parsed::Text(Glob::Exact(s))) => eq_ignore_case(s, request),
        (Base::StringLike, Parsed::Text(g)) => g.matches(request, false),
        (_, Parsed::Number(p)) => match parse_number(request) {
            Some(r) => match base {
                Base::NumericEquals => r == *p,
                Base::NumericLessThan => r < *p,
                Base::NumericLessThanEquals => r <= *p,
                Base::NumericGreaterThan => r > *p,
                Base::NumericGreaterThanEquals => r >= *p,
                _ => false,
            },
            None => false,
        },
        (_, Parsed::Date(p)) => match parse_date(request) {
            Some(r) => match base {
                Base::DateEquals => r == *p,
                Base::DateLessThan => r < *p,
                Base::DateLessThanEquals => r <= *p,
                Base::DateGreaterThan => r > *p,
                Base::DateGreaterThanEquals => r >= *p,
                _ => false,
            },
            None => false,
        },
        (Base::Bool, Parsed::Bool(p)) => parse_bool(request) == Some(*p),
        (Base::IpAddress, Parsed::Net(net)) => {
            parse_ip(request).is_some_and(|ip| net.contains(&ip))
        }
        (Base::Arn, Parsed::Arn(m)) => m.matches(request),
        _ => false,
    }
}

/// Unicode case-insensitive equality without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Numbers: integers or decimals.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Dates: ISO 8601 (`2025-06-01T12:00:00Z`, with offset or fraction, date only,
/// or without zone meaning UTC) or epoch seconds. Returned as epoch nanoseconds.
pub(crate) fn parse_date(s: &str) -> Option<i128> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = s.parse().ok()?;
        return jiff::Timestamp::from_second(secs)
            .ok()
            .map(|t| t.as_nanosecond());
    }
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_nanosecond());
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_nanosecond());
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_nanosecond());
    }
    None
}

/// `true` / `false`, any case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A CIDR block or a single address (a /32 or /128).
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n);
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// A request address; an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as a
/// dual-stack listener reports IPv4 clients) counts as the IPv4 address.
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let ip = s
        .parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<IpNet>().ok().map(|n| n.addr()))?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        let parsed = Operator::parse(op).expect("known operator");
        Condition::new(
            op,
            parsed,
            key,
            values.iter().map(|s| s.to_string()).collect(),
            true,
        )
    }

    fn eval(c: &Condition, request: Option<&[&str]>) -> bool {
        let owned: Option<Vec<String>> = request.map(|r| r.iter().map(|s| s.to_string()).collect());
        let values = owned.as_deref().map(Values::Many);
        c.evaluate(values, &|_| None)
    }

    #[test]
    fn operator_names() {
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        let o = Operator::parse("ForAllValues:StringNotEqualsIfExists").unwrap();
        assert!(o.negated && o.if_exists && o.qualifier == Qualifier::ForAllValues);
        assert!(Operator::parse("ArnNotLike").unwrap().negated);
    }

    #[test]
    fn strings() {
        let c = cond("StringEquals", "k", &["a", "b"]);
        assert!(eval(&c, Some(&["b"])));
        assert!(!eval(&c, Some(&["B"])));
        assert!(!eval(&c, None));
        let c = cond("StringNotEquals", "k", &["a", "b"]);
        assert!(!eval(&c, Some(&["a"])));
        assert!(eval(&c, Some(&["c"])));
        assert!(eval(&c, None));
        let c = cond("StringEqualsIgnoreCase", "k", &["Finance"]);
        assert!(eval(&c, Some(&["FINANCE"])));
        let c = cond("StringNotEqualsIgnoreCase", "k", &["Finance"]);
        assert!(!eval(&c, Some(&["finance"])));
        let c = cond("StringLike", "k", &["home/*"]);
        assert!(eval(&c, Some(&["home/a/b"])));
        let c = cond("StringNotLike", "k", &["data-*"]);
        assert!(!eval(&c, Some(&["data-eng"])));
        let c = cond("StringEquals", "k", &["a*"]);
        assert!(!eval(&c, Some(&["ab"])));
        assert!(eval(&c, Some(&["a*"])));
    }

    #[test]
    fn if_exists_and_sets() {
        let c = cond("StringEqualsIfExists", "k", &["a"]);
        assert!(eval(&c, None));
        assert!(!eval(&c, Some(&["b"])));
        let c = cond("StringNotLikeIfExists", "k", &["a*"]);
        assert!(eval(&c, None));
        let c = cond("ForAllValues:StringEquals", "k", &["P", "O"]);
        assert!(eval(&c, None));
        assert!(eval(&c, Some(&["P"])));
        assert!(!eval(&c, Some(&["P", "S"])));
        let c = cond("ForAnyValue:StringEquals", "k", &["C"]);
        assert!(!eval(&c, None));
        assert!(eval(&c, Some(&["P", "C"])));
        let c = cond("ForAnyValue:StringNotEquals", "k", &["C"]);
        assert!(eval(&c, Some(&["P", "C"])));
        assert!(!eval(&c, Some(&["C"])));
        let c = cond("ForAllValues:StringNotEquals", "k", &["C"]);
        assert!(!eval(&c, Some(&["P", "C"])));
        assert!(eval(&c, Some(&["P"])));
    }

    #[test]
    fn numbers() {
        let c = cond("NumericLessThanEquals", "k", &["10"]);
        assert!(eval(&c, Some(&["10"])));
        assert!(!eval(&c, Some(&["11"])));
        assert!(!eval(&c, None));
        assert!(!eval(&c, Some(&["ten"])));
        assert!(eval(
            &cond("NumericGreaterThan", "k", &["1.1"]),
            Some(&["1.3"])
        ));
        assert!(eval(
            &cond("NumericLessThan", "k", &["1.2"]),
            Some(&["1.1"])
        ));
        assert!(eval(
            &cond("NumericEquals", "k", &["100"]),
            Some(&["100.0"])
        ));
        assert!(eval(
            &cond("NumericNotEquals", "k", &["100"]),
            Some(&["50"])
        ));
        assert!(eval(
            &cond("NumericGreaterThanEquals", "k", &["1.2"]),
            Some(&["1.2"])
        ));
    }

    #[test]
    fn dates() {
        let t = "2025-06-01T12:00:00Z";
        assert!(eval(
            &cond("DateEquals", "k", &[t]),
            Some(&["2025-06-01T12:00:00.000Z"])
        ));
        assert!(eval(
            &cond("DateEquals", "k", &[t]),
            Some(&["2025-06-01T14:00:00+02:00"])
        ));
        assert!(!eval(
            &cond("DateGreaterThan", "k", &["2026-01-01T00:00:00Z"]),
            Some(&[t])
        ));
        assert!(eval(
            &cond("DateLessThan", "k", &["2030-01-01"]),
            Some(&[t])
        ));
        assert!(eval(&cond("DateLessThanEquals", "k", &[t]), Some(&[t])));
        assert!(eval(
            &cond("DateGreaterThanEquals", "k", &["1748779200"]),
            Some(&[t])
        ));
        assert!(eval(
            &cond("DateNotEquals", "k", &["2025-06-01T09:00:00Z"]),
            Some(&["2025-06-01T08:00:00Z"])
        ));
        assert!(!eval(&cond("DateGreaterThanEquals", "k", &[t]), None));
    }

    #[test]
    fn bool_binary_null() {
        let c = cond("Bool", "k", &["false"]);
        assert!(eval(&c, Some(&["false"])));
        assert!(eval(&c, Some(&["FALSE"])));
        assert!(!eval(&c, Some(&["true"])));
        assert!(!eval(&c, None));
        assert!(eval(&cond("BoolIfExists", "k", &["false"]), None));
        assert!(!eval(&cond("BinaryEquals", "k", &["QmluYXJ5"]), None));
        assert!(eval(
            &cond("BinaryEquals", "k", &["QmluYXJ5"]),
            Some(&["QmluYXJ5"])
        ));
        assert!(eval(&cond("Null", "k", &["true"]), None));
        assert!(!eval(&cond("Null", "k", &["true"]), Some(&["x"])));
        assert!(eval(&cond("Null", "k", &["false"]), Some(&["x"])));
    }

    #[test]
    fn addresses() {
        let c = cond(
            "IpAddress",
            "k",
            &["203.0.113.0/24", "2001:DB8:1234:5678::/64"],
        );
        assert!(eval(&c, Some(&["203.0.113.7"])));
        assert!(eval(&c, Some(&["2001:db8:1234:5678:abcd::1"])));
        assert!(!eval(&c, Some(&["198.51.100.7"])));
        assert!(!eval(&c, None));
        let c = cond("NotIpAddress", "k", &["192.0.2.0/24"]);
        assert!(eval(&c, Some(&["198.51.100.7"])));
        assert!(eval(&c, None));
        assert!(!eval(&c, Some(&["192.0.2.1"])));
        assert!(eval(
            &cond("IpAddress", "k", &["192.0.2.1"]),
            Some(&["192.0.2.1"])
        ));
        assert!(eval(
            &cond("IpAddress", "k", &["192.0.2.0/24"]),
            Some(&["::ffff:192.0.2.9"])
        ));
    }

    #[test]
    fn arns() {
        let c = cond("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*:root"]);
        assert!(eval(&c, Some(&["arn:aws:iam::111122223333:root"])));
        let c = cond(
            "ArnNotEquals",
            "aws:PrincipalArn",
            &["arn:aws:iam::111122223333:user/admin"],
        );
        assert!(eval(&c, Some(&["arn:aws:iam::111122223333:user/alice"])));
        assert!(!eval(&c, Some(&["arn:aws:iam::111122223333:user/admin"])));
    }

    /// IAM User Guide, "Policy variables with no value": a positive operator does
    /// not match a variable with no value, an inverted one does; the key's
    /// presence and `...IfExists` / set qualifiers work as with any other value.
    #[test]
    fn variables_with_no_value() {
        let no_value = |op: &str, values: &[&str], request: Option<&[&str]>| {
            eval(&cond(op, "k", values), request)
        };
        let v = "${aws:PrincipalTag/Team}";
        let arn = "arn:aws:iam::111122223333:user/${aws:PrincipalTag/owner}";
        let present: Option<&[&str]> = Some(&["blue"]);
        let an_arn: Option<&[&str]> = Some(&["arn:aws:iam::111122223333:user/alice"]);
        for op in [
            "StringEquals",
            "StringEqualsIgnoreCase",
            "StringLike",
            "StringEqualsIfExists",
            "StringLikeIfExists",
            "ForAnyValue:StringEquals",
            "ForAllValues:StringLike",
            "Bool",
        ] {
            assert!(!no_value(op, &[v], present), "{op}");
        }
        for op in [
            "StringNotEquals",
            "StringNotEqualsIgnoreCase",
            "StringNotLike",
            "StringNotEqualsIfExists",
            "StringNotLikeIfExists",
            "ForAnyValue:StringNotEquals",
            "ForAllValues:StringNotLike",
        ] {
            assert!(no_value(op, &[v], present), "{op}");
        }
        for op in ["ArnEquals", "ArnLike", "ArnEqualsIfExists"] {
            assert!(!no_value(op, &[arn], an_arn), "{op}");
        }
        for op in ["ArnNotEquals", "ArnNotLike", "ArnNotLikeIfExists"] {
            assert!(no_value(op, &[arn], an_arn), "{op}");
        }
        // The key's absence decides before the values are looked at.
        assert!(no_value("StringNotEquals", &[v], None));
        assert!(!no_value("StringEquals", &[v], None));
        assert!(no_value("StringEqualsIfExists", &[v], None));
        // The other values of the condition still count (values are ORed).
        assert!(no_value("StringEquals", &[v, "blue"], present));
        assert!(!no_value("StringNotEquals", &[v, "blue"], present));
        assert!(no_value("StringNotEquals", &[v, "red"], present));
        // A default fills the value in.
        assert!(no_value(
            "StringEquals",
            &["${aws:PrincipalTag/Team, 'blue'}"],
            present
        ));
    }

    #[test]
    fn variables_in_values() {
        let c = cond("StringEquals", "s3:prefix", &["home/${aws:username}/"]);
        let values = vec!["home/alice/".to_string()];
        assert!(
            c.evaluate(Some(Values::Many(&values)), &|k| (k == "aws:username")
                .then_some("alice"))
        );
        assert!(!c.evaluate(Some(Values::Many(&values)), &|_| None));
    }
}
