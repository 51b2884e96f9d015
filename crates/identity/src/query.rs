//! The Query protocol (IAM, STS): reading form parameters and writing XML.
//!
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/iam-api.pdf> "Making Query requests":
//! lists are `Name.member.N`, structures in lists `Name.member.N.Field`.

use std::collections::BTreeMap;

use crate::error::{constraint, IdentityError, Result};
use crate::model::Tag;

/// Form parameters of one request.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    list: &'a [(String, String)],
}

/// `UserName` → `userName`, the field name AWS's validation messages use.
fn field_name(param: &str) -> String {
    let mut chars = param.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

impl<'a> Params<'a> {
    pub fn new(list: &'a [(String, String)]) -> Params<'a> {
        Params { list }
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.list
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A required parameter; missing → AWS's "Member must not be null".
    pub fn required(&self, name: &str) -> Result<&'a str> {
        self.get(name).ok_or_else(|| {
            IdentityError::ValidationError(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                field_name(name)
            ))
        })
    }

    /// An integer parameter within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n: i64 = v.trim().parse().map_err(|_| {
            IdentityError::ValidationError(format!(
                "Invalid value for parameter {name}, value: {v}, type: Integer"
            ))
        })?;
        if n < min {
            return Err(constraint(
                v,
                &field_name(name),
                &format!("Member must have value greater than or equal to {min}"),
            ));
        }
        if n > max {
            return Err(constraint(
                v,
                &field_name(name),
                &format!("Member must have value less than or equal to {max}"),
            ));
        }
        Ok(Some(n))
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `prefix.member.N` values in N order.
    pub fn members(&self, prefix: &str) -> Vec<String> {
        let head = format!("{prefix}.member.");
        let mut found: BTreeMap<u32, String> = BTreeMap::new();
        for (k, v) in self.list {
            if let Some(n) = k
                .strip_prefix(&head)
                .and_then(|rest| rest.parse::<u32>().ok())
            {
                found.insert(n, v.clone());
            }
        }
        found.into_values().collect()
    }

    /// `prefix.member.N.Field` structures in N order.
    pub fn member_structs(&self, prefix: &str) -> Vec<BTreeMap<String, String>> {
        let head = format!("{prefix}.member.");
        let mut found: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in self.list {
            let Some(rest) = k.strip_prefix(&head) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(n) = n.parse::<u32>() else { continue };
            found
                .entry(n)
                .or_default()
                .insert(field.to_string(), v.clone());
        }
        found.into_values().collect()
    }

    /// `Tags.member.N.Key/Value`, validated as IAM and STS do (at most 50,
    /// keys 1–128 characters, values up to 256, no duplicate keys).
    pub fn tags(&self, prefix: &str) -> Result<Vec<Tag>> {
        let mut tags: Vec<Tag> = Vec::new();
        for s in self.member_structs(prefix) {
            let key = s.get("Key").cloned().unwrap_or_default();
            let value = s.get("Value").cloned().unwrap_or_default();
            if key.is_empty() || key.chars().count() > 128 {
                return Err(constraint(
                    &key,
                    "tags.member.key",
                    "Member must have length between 1 and 128",
                ));
            }
            if value.chars().count() > 256 {
                return Err(constraint(
                    &value,
                    "tags.member.value",
                    "Member must have length less than or equal to 256",
                ));
            }
            if key.to_ascii_lowercase().starts_with("aws:") {
                return Err(IdentityError::InvalidInput(
                    "User-defined tag keys can't start with \"aws:\".".into(),
                ));
            }
            if tags.iter().any(|t| t.key.eq_ignore_ascii_case(&key)) {
                return Err(IdentityError::InvalidInput(
                    "Duplicate tag keys found. Please note that Tag keys are case insensitive."
                        .into(),
                ));
            }
            tags.push(Tag { key, value });
        }
        if tags.len() > 50 {
            return Err(constraint(
                "[…]",
                "tags",
                "Member must have length less than or equal to 50",
            ));
        }
        Ok(tags)
    }
}

/// Escapes XML element text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// ISO 8601 with second precision, as IAM and STS print times.
pub fn iso(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Policy documents in IAM responses are URL-encoded (RFC 3986).
pub fn url_encode(doc: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(doc, SET).to_string()
}

/// A small XML writer for response bodies.
#[derive(Default)]
pub struct Xml {
    buf: String,
}

impl Xml {
    pub fn new() -> Xml {
        Xml::default()
    }

    pub fn open(&mut self, tag: &str) -> &mut Xml {
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Xml {
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push('>');
        self
    }

    pub fn text(&mut self, tag: &str, value: &str) -> &mut Xml {
        self.open(tag);
        self.buf.push_str(&escape(value));
        self.close(tag)
    }

    pub fn opt(&mut self, tag: &str, value: Option<&str>) -> &mut Xml {
        if let Some(v) = value {
            self.text(tag, v);
        }
        self
    }

    pub fn time(&mut self, tag: &str, ts: jiff::Timestamp) -> &mut Xml {
        self.text(tag, &iso(ts))
    }

    /// `<Tags><member><Key/><Value/></member>…</Tags>` (omitted when empty and `skip_empty`).
    pub fn tags(&mut self, tag: &str, tags: &[Tag], skip_empty: bool) -> &mut Xml {
        if tags.is_empty() && skip_empty {
            return self;
        }
        self.open(tag);
        for t in tags {
            self.open("member")
                .text("Key", &t.key)
                .text("Value", &t.value)
                .close("member");
        }
        self.close(tag)
    }

    pub fn raw(&mut self, xml: &str) -> &mut Xml {
        self.buf.push_str(xml);
        self
    }

    pub fn into_string(self) -> String {
        self.buf
    }
}

/// The success envelope `<XResponse xmlns><XResult>…</XResult><ResponseMetadata>…`.
pub fn envelope(action: &str, namespace: &str, request_id: &str, result: Option<Xml>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!("<{action}Response xmlns=\"{namespace}\">"));
    if let Some(result) = result {
        s.push_str(&format!(
            "<{action}Result>{}</{action}Result>",
            result.into_string()
        ));
    }
    s.push_str(&format!(
        "<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        escape(request_id)
    ));
    s
}

/// The error envelope of the Query protocol.
pub fn error_body(
    namespace: &str,
    status: u16,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn lists_and_structs_in_member_order() {
        let list = p(&[
            ("PolicyArns.member.2.arn", "b"),
            ("PolicyArns.member.1.arn", "a"),
            ("TagKeys.member.10", "z"),
            ("TagKeys.member.2", "y"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ]);
        let params = Params::new(&list);
        let arns: Vec<String> = params
            .member_structs("PolicyArns")
            .iter()
            .map(|m| m["arn"].clone())
            .collect();
        assert_eq!(arns, ["a", "b"]);
        assert_eq!(params.members("TagKeys"), ["y", "z"]);
        assert_eq!(
            params.tags("Tags").unwrap(),
            vec![Tag {
                key: "team".into(),
                value: "blue".into()
            }]
        );
    }

    #[test]
    fn missing_and_bad_values() {
        let list = p(&[("DurationSeconds", "100"), ("Tags.member.1.Key", "aws:x")]);
        let params = Params::new(&list);
        let e = params.required("UserName").unwrap_err();
        assert!(e.to_string().contains("'userName'"), "{e}");
        assert!(params.int("DurationSeconds", 900, 3600).is_err());
        assert!(params.tags("Tags").is_err());
    }

    #[test]
    fn xml_and_encoding() {
        let mut x = Xml::new();
        x.text("A", "a<b&c");
        assert_eq!(x.into_string(), "<A>a&lt;b&amp;c</A>");
        assert_eq!(
            url_encode("{\"a\": \"b c\"}"),
            "%7B%22a%22%3A%20%22b%20c%22%7D"
        );
        let body = envelope("GetUser", "ns", "rid", None);
        assert!(body.contains(
            "<GetUserResponse xmlns=\"ns\"><ResponseMetadata><RequestId>rid</RequestId>"
        ));
        let err = error_body("ns", 404, "NoSuchEntity", "nope", "rid");
        assert!(err.contains("<Type>Sender</Type><Code>NoSuchEntity</Code><Message>nope</Message>"));
    }
}
