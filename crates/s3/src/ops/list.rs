//! ListObjects (v1), ListObjectsV2 and ListObjectVersions.

use base64::Engine as _;
use strongbox_store::{ListQuery, Listed};

use super::{owner_of, parse_max, quoted, url_encode};
use crate::authorization::{authorize, Op};
use crate::dates::iso8601;
use crate::error::{S3Error, S3Result};
use crate::response::Reply;
use crate::xml::XmlWriter;
use crate::{S3Request, S3Service};

/// Continuation tokens are opaque to clients: base64 of the last key or prefix returned.
pub(crate) fn encode_token(marker: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(marker.as_bytes())
}

pub(crate) fn decode_token(token: &str) -> Result<String, S3Error> {
    let invalid =
        || S3Error::InvalidArgument("The continuation token provided is incorrect".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    String::from_utf8(raw).map_err(|_| invalid())
}

/// Reads `encoding-type` (only `url` is valid).
fn encoding(req: &S3Request) -> Result<bool, S3Error> {
    match req.query_value("encoding-type").as_deref() {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(_) => Err(S3Error::InvalidArgument(
            "Invalid Encoding Method specified in Request".into(),
        )),
    }
}

impl S3Service {
    /// ListObjects (v1, `v2 = false`) and ListObjectsV2.
    pub(crate) fn list_objects(
        &self,
        req: &S3Request,
        bucket_name: &str,
        v2: bool,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        authorize(
            req,
            if v2 {
                Op::ListObjectsV2
            } else {
                Op::ListObjects
            },
            Some(&bucket),
            None,
            None,
        )?;
        let url = encoding(req)?;
        let enc = |s: &str| if url { url_encode(s) } else { s.to_string() };
        let max = parse_max(req, "max-keys")?;
        let max_shown = req
            .query_value("max-keys")
            .and_then(|m| m.trim().parse::<usize>().ok())
            .map_or(1000, |m| m.min(1000));
        let prefix = req.query_value("prefix").unwrap_or_default();
        let delimiter = req.query_value("delimiter").filter(|d| !d.is_empty());
        let token = req.query_value("continuation-token");
        let start_after = req.query_value("start-after");
        let marker = if v2 {
            match &token {
                Some(t) => Some(decode_token(t)?),
                None => start_after.clone().filter(|s| !s.is_empty()),
            }
        } else {
            req.query_value("marker").filter(|s| !s.is_empty())
        };
        let query = ListQuery {
            bucket: bucket_name.to_string(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            key_marker: marker.clone(),
            id_marker: None,
            max,
        };
        let page = self.store.meta.list_objects(&query)?;
        let fetch_owner = !v2 || req.query_value("fetch-owner").is_some_and(|v| v == "true");
        let mut w = XmlWriter::new("ListBucketResult");
        w.elem("Name", bucket_name).elem("Prefix", &enc(&prefix));
        if v2 {
            w.opt("ContinuationToken", token.as_deref())
                .opt("StartAfter", start_after.as_deref().map(enc).as_deref());
            w.elem("KeyCount", &page.entries.len().to_string());
        } else {
            w.elem("Marker", &enc(marker.as_deref().unwrap_or("")));
        }
        w.elem("MaxKeys", &max_shown.to_string());
        w.opt("Delimiter", delimiter.as_deref().map(enc).as_deref());
        if url {
            w.elem("EncodingType", "url");
        }
        w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
        let last = page.entries.last().map(|e| match e {
            Listed::Item(o) => o.key.clone(),
            Listed::Prefix(p) => p.clone(),
        });
        if page.truncated {
            if let Some(last) = &last {
                if v2 {
                    w.elem("NextContinuationToken", &encode_token(last));
                } else if delimiter.is_some() {
                    w.elem("NextMarker", &enc(last));
                }
            }
        }
        for e in &page.entries {
            if let Listed::Item(o) = e {
                w.open("Contents")
                    .elem("Key", &enc(&o.key))
                    .elem("LastModified", &iso8601(o.last_modified))
                    .elem("ETag", &quoted(&o.etag));
                if let Some(c) = &o.checksum {
                    w.elem("ChecksumAlgorithm", c.algorithm.as_str())
                        .elem("ChecksumType", &c.kind);
                }
                w.elem("Size", &o.size.to_string());
                if fetch_owner {
                    let (id, name) = owner_of(req, &o.owner_account);
                    w.open("Owner")
                        .elem("ID", &id)
                        .elem("DisplayName", &name)
                        .close("Owner");
                }
                w.elem("StorageClass", super::storage_class(&o.headers))
                    .close("Contents");
            }
        }
        for e in &page.entries {
            if let Listed::Prefix(p) = e {
                w.open("CommonPrefixes")
                    .elem("Prefix", &enc(p))
                    .close("CommonPrefixes");
            }
        }
        Ok(Reply::ok().xml(w.finish("ListBucketResult")))
    }

    /// ListObjectVersions.
    pub(crate) fn list_object_versions(
        &self,
        req: &S3Request,
        bucket_name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, bucket_name, Op::ListObjectVersions)?;
        let url = encoding(req)?;
        let enc = |s: &str| if url { url_encode(s) } else { s.to_string() };
        let max = parse_max(req, "max-keys")?;
        let prefix = req.query_value("prefix").unwrap_or_default();
        let delimiter = req.query_value("delimiter").filter(|d| !d.is_empty());
        let key_marker = req.query_value("key-marker").filter(|s| !s.is_empty());
        let version_marker = req
            .query_value("version-id-marker")
            .filter(|s| !s.is_empty());
        if version_marker.is_some() && key_marker.is_none() {
            return Err(S3Error::InvalidArgument(
                "A version-id marker cannot be specified without a key marker.".into(),
            )
            .into());
        }
        let query = ListQuery {
            bucket: bucket_name.to_string(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            key_marker: key_marker.clone(),
            id_marker: version_marker.clone(),
            max,
        };
        let page = self.store.meta.list_versions(&query)?;
        let mut w = XmlWriter::new("ListVersionsResult");
        w.elem("Name", bucket_name).elem("Prefix", &enc(&prefix));
        w.elem("KeyMarker", &enc(key_marker.as_deref().unwrap_or("")));
        w.elem("VersionIdMarker", version_marker.as_deref().unwrap_or(""));
        if page.truncated {
            match page.entries.last() {
                Some(Listed::Item(o)) => {
                    w.elem("NextKeyMarker", &enc(&o.key))
                        .elem("NextVersionIdMarker", &o.version_id);
                }
                Some(Listed::Prefix(p)) => {
                    w.elem("NextKeyMarker", &enc(p));
                }
                None => {}
            }
        }
        w.elem("MaxKeys", &max.to_string());
        w.opt("Delimiter", delimiter.as_deref().map(enc).as_deref());
        if url {
            w.elem("EncodingType", "url");
        }
        w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
        for e in &page.entries {
            match e {
                Listed::Item(o) => {
                    let (id, name) = owner_of(req, &o.owner_account);
                    let element = if o.delete_marker {
                        "DeleteMarker"
                    } else {
                        "Version"
                    };
                    w.open(element)
                        .elem("Key", &enc(&o.key))
                        .elem("VersionId", &o.version_id)
                        .elem("IsLatest", if o.is_latest { "true" } else { "false" })
                        .elem("LastModified", &iso8601(o.last_modified));
                    if !o.delete_marker {
                        w.elem("ETag", &quoted(&o.etag))
                            .elem("Size", &o.size.to_string());
                        if let Some(c) = &o.checksum {
                            w.elem("ChecksumAlgorithm", c.algorithm.as_str())
                                .elem("ChecksumType", &c.kind);
                        }
                    }
                    w.open("Owner")
                        .elem("ID", &id)
                        .elem("DisplayName", &name)
                        .close("Owner");
                    if !o.delete_marker {
                        w.elem("StorageClass", super::storage_class(&o.headers));
                    }
                    w.close(element);
                }
                Listed::Prefix(_) => {}
            }
        }
        for e in &page.entries {
            if let Listed::Prefix(p) = e {
                w.open("CommonPrefixes")
                    .elem("Prefix", &enc(p))
                    .close("CommonPrefixes");
            }
        }
        Ok(Reply::ok().xml(w.finish("ListVersionsResult")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for k in ["", "a/b", "é ü/…", "../x"] {
            assert_eq!(decode_token(&encode_token(k)).unwrap(), k);
        }
        assert!(decode_token("!!!").is_err());
    }
}
