//! The request context: condition keys and their values.
//!
//! IAM User Guide, "IAM JSON policy elements: Condition": condition key names
//! are not case-sensitive; a key may hold one value or a set of values.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::principal::Principal;

/// Condition keys of one request, each with one or several string values.
/// Key names compare without ASCII case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Adds (or replaces) a single-valued key.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Context {
        self.insert(key, value);
        self
    }

    /// Adds (or replaces) a multivalued key.
    pub fn with_values<I, S>(mut self, key: impl Into<String>, values: I) -> Context
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.insert_values(key, values);
        self
    }

    /// Sets a single-valued key, replacing any earlier value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.insert_values(key, [value.into()]);
    }

    /// Sets a multivalued key, replacing any earlier value.
    pub fn insert_values<I, S>(&mut self, key: impl Into<String>, values: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let key = key.into();
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        if let Some(slot) = self
            .entries
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        {
            slot.1 = values;
        } else {
            self.entries.push((key, values));
        }
    }

    /// Sets `key` only when it is not present yet.
    pub fn insert_if_absent(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        if self.get(&key).is_none() {
            self.entries.push((key, vec![value.into()]));
        }
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    /// The values of `key` (any case), if present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    /// All keys and values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The keys and values, in insertion order, by value.
    pub fn into_entries(self) -> Vec<(String, Vec<String>)> {
        self.entries
    }

    /// Whether no key is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            if v.len() == 1 {
                map.serialize_entry(k, &v[0])?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// The values a key has in one request, borrowed from the context or from the principal.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Values<'a> {
    Many(&'a [String]),
    One(&'a str),
}

impl<'a> Values<'a> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let (many, one): (&'a [String], Option<&'a str>) = match *self {
            Values::Many(v) => (v, None),
            Values::One(s) => (&[], Some(s)),
        };
        many.iter().map(String::as_str).chain(one)
    }

    /// The value when the key is single-valued.
    pub(crate) fn single(&self) -> Option<&'a str> {
        match *self {
            Values::Many([one]) => Some(one.as_str()),
            Values::One(s) => Some(s),
            Values::Many(_) => None,
        }
    }
}

/// Looks up a condition key: the context first (a listed value wins), then the
/// keys derived from the principal (`aws:PrincipalArn`, `aws:PrincipalAccount`,
/// `aws:username`). An empty value list counts as absent.
/// `principal_arn` is `aws:PrincipalArn` (see [`Principal::principal_arn_owned`]).
pub(crate) fn lookup<'a>(
    context: &'a Context,
    principal: &'a Principal,
    principal_arn: Option<&'a str>,
    key: &str,
) -> Option<Values<'a>> {
    if let Some(v) = context.get(key) {
        return if v.is_empty() {
            None
        } else {
            Some(Values::Many(v))
        };
    }
    derived(principal, principal_arn, key).map(Values::One)
}

/// Keys the engine derives from the principal (IAM User Guide, "AWS global
/// condition context keys": aws:PrincipalArn, aws:PrincipalAccount, aws:username).
pub(crate) fn derived<'a>(
    principal: &'a Principal,
    principal_arn: Option<&'a str>,
    key: &str,
) -> Option<&'a str> {
    if key.eq_ignore_ascii_case("aws:PrincipalArn") {
        principal_arn
    } else if key.eq_ignore_ascii_case("aws:PrincipalAccount") {
        principal.account()
    } else if key.eq_ignore_ascii_case("aws:username") {
        principal.user_name()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_replace() {
        let mut c = Context::new().with("aws:SourceIp", "1.2.3.4");
        assert_eq!(c.get("AWS:SOURCEIP"), Some(&["1.2.3.4".to_string()][..]));
        c.insert("aws:sourceip", "5.6.7.8");
        assert_eq!(
            c.get("aws:SourceIp").map(|v| v[0].as_str()),
            Some("5.6.7.8")
        );
        c.insert_if_absent("aws:SourceIp", "9.9.9.9");
        assert_eq!(
            c.get("aws:SourceIp").map(|v| v[0].as_str()),
            Some("5.6.7.8")
        );
        c.remove("AWS:SourceIP");
        assert!(c.get("aws:SourceIp").is_none());
    }

    #[test]
    fn derived_keys_and_listed_values_win() {
        let p = Principal::User {
            arn: "arn:aws:iam::111122223333:user/path/alice".into(),
            account: "111122223333".into(),
        };
        let c = Context::new();
        assert_eq!(
            lookup(&c, &p, None, "aws:username").and_then(|v| v.single()),
            Some("alice")
        );
        assert_eq!(
            lookup(&c, &p, None, "aws:principalaccount").and_then(|v| v.single()),
            Some("111122223333")
        );
        let c = Context::new().with("aws:PrincipalAccount", "999");
        assert_eq!(
            lookup(&c, &p, None, "aws:PrincipalAccount").and_then(|v| v.single()),
            Some("999")
        );
        let c = Context::new().with_values("k", Vec::<String>::new());
        assert!(lookup(&c, &p, None, "k").is_none());
    }
}
