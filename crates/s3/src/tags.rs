//! Object and bucket tags: `x-amz-tagging` headers, `Tagging` XML, and AWS's limits.
//!
//! Amazon S3 User Guide, "Categorizing your storage using tags": up to 10 tags
//! per object (50 per bucket), keys up to 128 and values up to 256 Unicode
//! characters, keys unique, and the `aws:` prefix reserved.

use crate::error::S3Error;
use crate::xml::{Element, XmlWriter};

/// A tag set in order.
pub type Tags = Vec<(String, String)>;

/// Limits for one kind of resource.
#[derive(Clone, Copy, Debug)]
pub struct TagLimits {
    pub max_tags: usize,
    pub kind: &'static str,
}

pub const OBJECT_TAGS: TagLimits = TagLimits {
    max_tags: 10,
    kind: "Object",
};
pub const BUCKET_TAGS: TagLimits = TagLimits {
    max_tags: 50,
    kind: "Bucket",
};

/// Checks a tag set against AWS's limits.
pub fn validate(tags: &Tags, limits: TagLimits) -> Result<(), S3Error> {
    if tags.len() > limits.max_tags {
        return Err(S3Error::InvalidTag(format!(
            "{} tags cannot be greater than {}",
            limits.kind, limits.max_tags
        )));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(S3Error::InvalidTag(
                "The TagKey you have provided is invalid".into(),
            ));
        }
        if v.chars().count() > 256 {
            return Err(S3Error::InvalidTag(
                "The TagValue you have provided is invalid".into(),
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(S3Error::InvalidTag(
                "Your TagKey cannot be prefixed with aws:".into(),
            ));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(S3Error::InvalidTag(
                "Cannot provide multiple Tags with the same key".into(),
            ));
        }
    }
    Ok(())
}

/// Parses `x-amz-tagging` (URL query encoded: `k1=v1&k2=v2`).
pub fn parse_header(value: &str) -> Result<Tags, S3Error> {
    let mut tags = Vec::new();
    for pair in value.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| S3Error::InvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.".into()))
        };
        tags.push((decode(k)?, decode(v)?));
    }
    Ok(tags)
}

/// Parses a `Tagging` body.
pub fn parse_xml(doc: &Element) -> Result<Tags, S3Error> {
    if doc.name != "Tagging" {
        return Err(S3Error::MalformedXml);
    }
    let set = doc.child("TagSet").ok_or(S3Error::MalformedXml)?;
    let mut tags = Vec::new();
    for t in set.children_named("Tag") {
        let k = t.text_of("Key").ok_or(S3Error::MalformedXml)?;
        let v = t.text_of("Value").ok_or(S3Error::MalformedXml)?;
        tags.push((k.to_string(), v.to_string()));
    }
    Ok(tags)
}

/// The `Tagging` document.
pub fn to_xml(tags: &Tags) -> String {
    let mut w = XmlWriter::new("Tagging");
    w.open("TagSet");
    for (k, v) in tags {
        w.open("Tag").elem("Key", k).elem("Value", v).close("Tag");
    }
    w.close("TagSet");
    w.finish("Tagging")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing() {
        assert_eq!(
            parse_header("a=1&b%20c=x%2Fy&e=").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b c".into(), "x/y".into()),
                ("e".into(), "".into())
            ]
        );
        assert!(parse_header("a=%FF").is_err());
    }

    #[test]
    fn limits() {
        let many: Tags = (0..11)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        assert!(validate(&many, OBJECT_TAGS).is_err());
        assert!(validate(&many, BUCKET_TAGS).is_ok());
        assert!(validate(&vec![("k".repeat(129), "v".into())], OBJECT_TAGS).is_err());
        assert!(validate(&vec![("é".repeat(128), "v".into())], OBJECT_TAGS).is_ok());
        assert!(validate(&vec![("k".into(), "v".repeat(257))], OBJECT_TAGS).is_err());
        assert!(validate(
            &vec![("a".into(), "1".into()), ("a".into(), "2".into())],
            OBJECT_TAGS
        )
        .is_err());
        assert!(validate(&vec![("aws:x".into(), "1".into())], OBJECT_TAGS).is_err());
    }

    #[test]
    fn xml_round_trip() {
        let tags: Tags = vec![("a".into(), "1".into()), ("b&".into(), "".into())];
        let doc = crate::xml::parse(to_xml(&tags).as_bytes()).unwrap();
        assert_eq!(parse_xml(&doc).unwrap(), tags);
        assert!(parse_xml(&crate::xml::parse(b"<Tagging/>").unwrap()).is_err());
    }
}
