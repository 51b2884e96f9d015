//! Object tagging and object ACLs.

use crate::acl::{acl_from_headers, acl_from_xml};
use crate::authorization::{push_request_tags, Ids, Op};
use crate::error::{S3Error, S3Result};
use crate::response::Reply;
use crate::tags::{self, OBJECT_TAGS};
use crate::xml;
use crate::{S3Request, S3Service};

/// The page of parts GetObjectAttributes answers: `x-amz-max-parts` (default
/// and at most 1000) after `x-amz-part-number-marker`.
struct PartsPage {
    max: usize,
    marker: usize,
}

impl PartsPage {
    fn from_headers(req: &S3Request) -> Result<PartsPage, S3Error> {
        let number = |name: &str| -> Result<Option<usize>, S3Error> {
            req.header(name)
                .map(|v| {
                    v.trim().parse::<usize>().map_err(|_| {
                        S3Error::InvalidArgument(format!(
                            "Provided {name} not an integer or within integer range"
                        ))
                    })
                })
                .transpose()
        };
        Ok(PartsPage {
            max: number("x-amz-max-parts")?.unwrap_or(1000).min(1000),
            marker: number("x-amz-part-number-marker")?.unwrap_or(0),
        })
    }
}

/// `<ObjectParts>` of GetObjectAttributes (API reference,
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html):
/// PartsCount, the page markers, and the `<Part>` elements, which S3 lists only
/// for an object uploaded with an additional checksum.
fn write_object_parts(
    w: &mut crate::xml::XmlWriter,
    o: &strongbox_store::ObjectVersion,
    page: &PartsPage,
) {
    let listed: Vec<(usize, &strongbox_store::ObjectPart)> = if o.checksum.is_some() {
        o.parts
            .iter()
            .enumerate()
            .map(|(i, p)| (i + 1, p))
            .filter(|(n, _)| *n > page.marker)
            .collect()
    } else {
        Vec::new()
    };
    let truncated = listed.len() > page.max;
    let shown = &listed[..listed.len().min(page.max)];
    w.open("ObjectParts")
        .elem("PartsCount", &o.parts.len().to_string())
        .elem("PartNumberMarker", &page.marker.to_string());
    if let Some((last, _)) = shown.last() {
        w.elem("NextPartNumberMarker", &last.to_string());
    }
    w.elem("MaxParts", &page.max.to_string())
        .elem("IsTruncated", if truncated { "true" } else { "false" });
    for (n, part) in shown {
        w.open("Part");
        if let Some(c) = &part.checksum {
            w.elem(c.algorithm.xml_name(), &c.value);
        }
        w.elem("PartNumber", &n.to_string())
            .elem("Size", &part.size.to_string())
            .close("Part");
    }
    w.close("ObjectParts");
}

impl S3Service {
    /// GetObjectAttributes (`x-amz-object-attributes`: ETag, Checksum, ObjectParts, StorageClass, ObjectSize).
    pub(crate) fn get_object_attributes(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let wanted: Vec<String> = req
            .headers
            .get_all("x-amz-object-attributes")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        const KNOWN: [&str; 5] = [
            "ETag",
            "Checksum",
            "ObjectParts",
            "StorageClass",
            "ObjectSize",
        ];
        if wanted.is_empty() || wanted.iter().any(|w| !KNOWN.contains(&w.as_str())) {
            return Err(
                S3Error::InvalidArgument("Invalid attribute name specified.".into()).into(),
            );
        }
        let page = PartsPage::from_headers(req)?;
        let version = req.query_value("versionId");
        let (o, _) = self.object_for_read(
            req,
            &bucket,
            key,
            version.as_deref(),
            Op::GetObjectAttributes,
        )?;
        // API Reference, GetObjectAttributes: an SSE-C object's attributes (its ETag,
        // checksums of the plaintext) need the customer key headers, as GetObject does.
        let encryption = crate::sse::StoredEncryption::from_json(o.encryption.as_deref());
        self.check_customer_key(req, encryption.as_ref(), crate::sse::CUSTOMER_HEADERS)?;
        let has = |n: &str| wanted.iter().any(|w| w == n);
        let mut w = crate::xml::XmlWriter::new("GetObjectAttributesResponse");
        if has("ETag") {
            w.elem("ETag", &o.etag);
        }
        if has("Checksum") {
            if let Some(c) = &o.checksum {
                w.open("Checksum")
                    .elem(c.algorithm.xml_name(), &c.value)
                    .elem("ChecksumType", &c.kind)
                    .close("Checksum");
            }
        }
        if has("ObjectParts") && !o.parts.is_empty() {
            write_object_parts(&mut w, &o, &page);
        }
        if has("StorageClass") {
            w.elem("StorageClass", super::storage_class(&o.headers));
        }
        if has("ObjectSize") {
            w.elem("ObjectSize", &o.size.to_string());
        }
        let versioned = bucket.versioning != strongbox_store::Versioning::Unversioned;
        Ok(Reply::ok()
            .header("last-modified", &crate::dates::http_date(o.last_modified))
            .opt_header(
                "x-amz-version-id",
                versioned.then_some(o.version_id.as_str()),
            )
            .xml(w.finish("GetObjectAttributesResponse")))
    }

    /// GetObjectTagging.
    pub(crate) fn get_object_tagging(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let version = req.query_value("versionId");
        let (o, _) =
            self.object_for_read(req, &bucket, key, version.as_deref(), Op::GetObjectTagging)?;
        let reply = Reply::ok().opt_header(
            "x-amz-version-id",
            version.as_deref().map(|_| o.version_id.as_str()),
        );
        Ok(reply.xml(tags::to_xml(&o.tags)))
    }

    /// PutObjectTagging.
    pub(crate) async fn put_object_tagging(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let body = req
            .body
            .collect(super::MAX_XML_BODY, S3Error::MalformedXml)
            .await?;
        let doc = xml::parse(&body)?;
        let t = tags::parse_xml(&doc)?;
        tags::validate(&t, OBJECT_TAGS)?;
        let version = req.query_value("versionId");
        let mut request_tags = Vec::new();
        push_request_tags(&mut request_tags, &t);
        let found = self.authorized_version(
            req,
            &bucket,
            key,
            version.as_deref(),
            Op::PutObjectTagging,
            request_tags,
        )?;
        let o = match found {
            Some(o) if !o.delete_marker => o,
            Some(_) if version.is_some() => return Err(S3Error::MethodNotAllowed.into()),
            _ if version.is_some() => return Err(S3Error::NoSuchVersion.into()),
            _ => return Err(crate::error::Failure::from(S3Error::NoSuchKey).with("Key", key)),
        };
        self.store.meta.set_object_tags(o.row_id, &t)?;
        Ok(Reply::ok().opt_header(
            "x-amz-version-id",
            version.as_deref().map(|_| o.version_id.as_str()),
        ))
    }

    /// DeleteObjectTagging.
    pub(crate) fn delete_object_tagging(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let version = req.query_value("versionId");
        let (o, _) = self.object_for_read(
            req,
            &bucket,
            key,
            version.as_deref(),
            Op::DeleteObjectTagging,
        )?;
        self.store.meta.set_object_tags(o.row_id, &[])?;
        Ok(Reply::no_content().opt_header(
            "x-amz-version-id",
            version.as_deref().map(|_| o.version_id.as_str()),
        ))
    }

    /// GetObjectAcl.
    pub(crate) fn get_object_acl(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let version = req.query_value("versionId");
        let (_, info) =
            self.object_for_read(req, &bucket, key, version.as_deref(), Op::GetObjectAcl)?;
        let ids = Ids(req.access.as_ref());
        // With ACLs disabled the bucket owner owns every object, with FULL_CONTROL only.
        let acl = if bucket.acls_disabled() {
            crate::acl::Acl::private(&ids, &bucket.owner_account)
        } else {
            info.acl
        };
        Ok(Reply::ok().xml(acl.to_xml(&ids)))
    }

    /// PutObjectAcl (headers or an AccessControlPolicy body).
    pub(crate) async fn put_object_acl(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let version = req.query_value("versionId");
        let (o, info) =
            self.object_for_read(req, &bucket, key, version.as_deref(), Op::PutObjectAcl)?;
        let from_headers = {
            let ids = Ids(req.access.as_ref());
            acl_from_headers(
                &req.headers,
                &ids,
                &info.owner_account,
                &bucket.owner_account,
            )?
        };
        let acl = match from_headers {
            Some(a) => a,
            None => {
                let body = req
                    .body
                    .collect(super::MAX_XML_BODY, S3Error::MalformedAcl)
                    .await?;
                if body.iter().all(u8::is_ascii_whitespace) {
                    return Err(S3Error::MissingSecurityHeader.into());
                }
                let doc = xml::parse_with(&body, || S3Error::MalformedAcl)?;
                acl_from_xml(&doc, &Ids(req.access.as_ref()), &info.owner_account)?
            }
        };
        self.check_acl_allowed(req, &bucket, &acl, &info.owner_account)?;
        self.store
            .meta
            .set_object_acl(o.row_id, Some(&acl.to_json()))?;
        Ok(Reply::ok().opt_header(
            "x-amz-version-id",
            version.as_deref().map(|_| o.version_id.as_str()),
        ))
    }
}
