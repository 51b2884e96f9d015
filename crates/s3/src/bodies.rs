//! The XML request bodies of DeleteObjects and CompleteMultipartUpload, read
//! into plain values before the handlers act on them (public for the fuzz
//! targets in `/fuzz`).

use strongbox_store::ChecksumAlgorithm;

use crate::error::S3Error;
use crate::xml::Element;

/// The most keys one DeleteObjects request may name (Amazon S3 API Reference, DeleteObjects).
pub const MAX_DELETE_KEYS: usize = 1000;

/// A DeleteObjects request: `<Delete><Quiet/><Object><Key/><VersionId/></Object>…</Delete>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    pub quiet: bool,
    /// Each object's key and version id.
    pub objects: Vec<(String, Option<String>)>,
}

/// Reads a DeleteObjects body: one to [`MAX_DELETE_KEYS`] objects, else `MalformedXML`.
pub fn parse_delete(doc: &Element) -> Result<DeleteRequest, S3Error> {
    if doc.name != "Delete" {
        return Err(S3Error::MalformedXml);
    }
    let quiet = doc
        .text_of("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let objects: Vec<(String, Option<String>)> = doc
        .children_named("Object")
        .map(|o| {
            (
                o.text_of("Key").unwrap_or_default().to_string(),
                o.text_of("VersionId").map(str::to_string),
            )
        })
        .collect();
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(S3Error::MalformedXml);
    }
    Ok(DeleteRequest { quiet, objects })
}

/// One part named by CompleteMultipartUpload: number, ETag (unquoted) and the
/// checksums the request gives for it.
pub type RequestedPart = (u32, String, Vec<(ChecksumAlgorithm, String)>);

/// Reads a CompleteMultipartUpload body: at least one part, in the order given
/// (the handler decides what an order that is not ascending means).
pub fn parse_complete(doc: &Element) -> Result<Vec<RequestedPart>, S3Error> {
    if doc.name != "CompleteMultipartUpload" {
        return Err(S3Error::MalformedXml);
    }
    let mut requested: Vec<RequestedPart> = Vec::new();
    for p in doc.children_named("Part") {
        let n = p
            .text_of("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or(S3Error::MalformedXml)?;
        let etag = p.text_of("ETag").ok_or(S3Error::MalformedXml)?;
        let sums = ChecksumAlgorithm::ALL
            .into_iter()
            .filter_map(|a| p.text_of(a.xml_name()).map(|v| (a, v.trim().to_string())))
            .collect();
        requested.push((n, etag.trim().trim_matches('"').to_string(), sums));
    }
    if requested.is_empty() {
        return Err(S3Error::MalformedXml);
    }
    Ok(requested)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn delete_bodies() {
        let doc = parse(b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v</VersionId></Object></Delete>").unwrap();
        let d = parse_delete(&doc).unwrap();
        assert!(d.quiet);
        assert_eq!(
            d.objects,
            vec![("a".into(), None), ("b".into(), Some("v".into()))]
        );
        assert!(parse_delete(&parse(b"<Delete/>").unwrap()).is_err());
        assert!(
            parse_delete(&parse(b"<Other><Object><Key>a</Key></Object></Other>").unwrap()).is_err()
        );
    }

    #[test]
    fn complete_bodies() {
        let doc = parse(b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part></CompleteMultipartUpload>").unwrap();
        let parts = parse_complete(&doc).unwrap();
        assert_eq!(parts[0].1, "e1");
        assert_eq!(parts[1].0, 2);
        let out_of_order = parse(b"<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>").unwrap();
        assert_eq!(parse_complete(&out_of_order).unwrap()[0].0, 2);
        let no_etag = parse(b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>").unwrap();
        assert!(parse_complete(&no_etag).is_err());
    }
}
