//! A request's query string, decoded once.
//!
//! The signature check and the router must read the same parameters: a name the router
//! acts on (`acl`, `versionId`, `response-content-type`, …) must be the name the signature
//! covered. So the query is decoded in one place — `%XX` escapes and `+` (a space, as S3
//! reads it) decoded once, names and values alike — and both the SigV4 canonical query,
//! the SigV2 canonicalized resource and the router's parameters are built from this one
//! [`Query`]. A name sent as `%61cl` is `acl` for the router and for the signature.

use crate::encoding::{percent_decode, uri_encode};

/// One decoded `name=value` (or bare `name`) parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Param {
    /// The decoded name as text (invalid UTF-8 replaced).
    name: String,
    /// The decoded value as text (invalid UTF-8 replaced); empty for a bare `name`.
    value: String,
    /// The decoded bytes of the name and value, for the SigV4 canonical form.
    name_bytes: Vec<u8>,
    value_bytes: Vec<u8>,
    /// `name=…` rather than a bare `name`.
    has_value: bool,
}

/// The decoded parameters of a query string, in the order they were sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    raw: String,
    params: Vec<Param>,
}

/// Decodes one query component: `+` is a space, `%XX` a byte, a stray `%` itself.
fn decode_component(s: &str) -> Vec<u8> {
    if s.contains('+') {
        percent_decode(&s.replace('+', " "))
    } else {
        percent_decode(s)
    }
}

impl Query {
    /// Parses a raw query string (without `?`). Empty segments (`a&&b`) are skipped.
    pub fn parse(raw: &str) -> Query {
        let params = raw
            .split('&')
            .filter(|seg| !seg.is_empty())
            .map(|seg| {
                let (name, value, has_value) = match seg.split_once('=') {
                    Some((n, v)) => (n, v, true),
                    None => (seg, "", false),
                };
                let name_bytes = decode_component(name);
                let value_bytes = decode_component(value);
                Param {
                    name: String::from_utf8_lossy(&name_bytes).into_owned(),
                    value: String::from_utf8_lossy(&value_bytes).into_owned(),
                    name_bytes,
                    value_bytes,
                    has_value,
                }
            })
            .collect();
        Query {
            raw: raw.to_string(),
            params,
        }
    }

    /// The query string as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The value of the first parameter named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }

    /// Whether a parameter named `name` is present (with or without a value).
    pub fn contains(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name == name)
    }

    /// Every `(name, value)`, decoded, in the order sent (what the router reads).
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.params
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect()
    }

    /// [`Query::pairs`] when every decoded name and value is UTF-8, else `None`: S3
    /// answers InvalidURI rather than let distinct values (`prefix=x%FF`, `x%FE`)
    /// merge into one lossily decoded text.
    pub fn utf8_pairs(&self) -> Option<Vec<(String, String)>> {
        self.params
            .iter()
            .map(|p| {
                let name = std::str::from_utf8(&p.name_bytes).ok()?;
                let value = std::str::from_utf8(&p.value_bytes).ok()?;
                Some((name.to_string(), value.to_string()))
            })
            .collect()
    }

    /// `(name, value)` of every parameter whose name is `name`-like per `select`; a bare
    /// `name` has no value.
    pub(crate) fn named<'q>(
        &'q self,
        select: impl Fn(&str) -> bool + 'q,
    ) -> impl Iterator<Item = (&'q str, Option<&'q str>)> + 'q {
        self.params
            .iter()
            .filter(move |p| select(&p.name))
            .map(|p| (p.name.as_str(), p.has_value.then_some(p.value.as_str())))
    }

    /// The first name that appears more than once, if any. SigV4 sorts a repeated name's
    /// values, so the signature does not cover their order, while a router reading the first
    /// value depends on it.
    pub fn repeated_name(&self) -> Option<&str> {
        self.params.iter().enumerate().find_map(|(i, p)| {
            self.params[..i]
                .iter()
                .any(|q| q.name_bytes == p.name_bytes)
                .then_some(p.name.as_str())
        })
    }

    /// The SigV4 canonical query string: every parameter's decoded bytes strictly
    /// re-encoded, sorted by name then value; `skip` names a parameter to leave out
    /// (`X-Amz-Signature`).
    pub fn canonical_v4(&self, skip: Option<&str>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .params
            .iter()
            .filter(|p| skip.is_none_or(|s| s.as_bytes() != p.name_bytes.as_slice()))
            .map(|p| {
                (
                    uri_encode(&p.name_bytes, false),
                    uri_encode(&p.value_bytes, false),
                )
            })
            .collect();
        pairs.sort();
        let mut out = String::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_pairs_refuse_bytes_that_are_not_utf8() {
        assert_eq!(Query::parse("prefix=x%FF").utf8_pairs(), None);
        assert_eq!(Query::parse("x%FE=1").utf8_pairs(), None);
        let ok = Query::parse("prefix=a%20b&list-type=2&acl").utf8_pairs();
        assert_eq!(
            ok,
            Some(Query::parse("prefix=a%20b&list-type=2&acl").pairs())
        );
    }

    #[test]
    fn names_and_values_are_decoded_once() {
        let q = Query::parse("%61cl&versionId=a%2Bb+c&&flag&x=%zz&%FF=1");
        assert!(q.contains("acl"));
        assert_eq!(q.get("acl"), Some(""));
        assert_eq!(q.get("versionId"), Some("a+b c"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("x"), Some("%zz"));
        assert_eq!(q.get("\u{FFFD}"), Some("1"));
        assert_eq!(q.raw(), "%61cl&versionId=a%2Bb+c&&flag&x=%zz&%FF=1");
        assert_eq!(q.pairs().len(), 5);
    }

    #[test]
    fn canonical_v4_form() {
        let q = Query::parse("b=2&a=x+y&%61=1&c&X-Amz-Signature=s&d=%FF");
        assert_eq!(
            q.canonical_v4(Some("X-Amz-Signature")),
            "a=1&a=x%20y&b=2&c=&d=%FF"
        );
        assert_eq!(Query::parse("k=a%2Bb").canonical_v4(None), "k=a%2Bb");
        assert_eq!(Query::parse("k=a+b").canonical_v4(None), "k=a%20b");
    }

    #[test]
    fn repeated_names() {
        assert_eq!(Query::parse("a=1&b=2").repeated_name(), None);
        assert_eq!(
            Query::parse("versionId=1&x&versionId=2").repeated_name(),
            Some("versionId")
        );
        assert_eq!(Query::parse("acl&%61cl").repeated_name(), Some("acl"));
    }
}
