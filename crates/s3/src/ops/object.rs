//! PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use strongbox_store::{NewObject, ObjectVersion, StoredChecksum, Versioning};

use super::{
    check_key, checksum_request, object_info, quoted, receive_body, stored_headers, user_metadata,
    Destination,
};
use crate::acl::{acl_from_headers, Acl};
use crate::authorization::{
    access_denied, authorize, block_public_access_denied, check, context, decide, BucketInfo, Ids,
    ObjectInfo, Op,
};
use crate::body::S3Body;
use crate::conditional::{Conditions, Verdict};
use crate::config::ObjectOwnership;
use crate::dates::{http_date, iso8601};
use crate::error::{Failure, S3Error, S3Result};
use crate::range::parse_range;
use crate::response::Reply;
use crate::sse::{
    encryption_headers, StoredEncryption, COPY_SOURCE_CUSTOMER_HEADERS, CUSTOMER_HEADERS,
};
use crate::tags::{self, OBJECT_TAGS};
use crate::xml::{self, XmlWriter};
use crate::{S3Request, S3Service};
use strongbox_kms::object_crypto::ObjectCipher;

/// GetObject's `response-*` query parameters and the headers they override.
const RESPONSE_OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Who owns a new object and its ACL, per the bucket's ownership setting.
pub(crate) fn new_object_acl(
    req: &S3Request,
    bucket: &BucketInfo,
) -> Result<(String, Acl), S3Error> {
    let ids = Ids(req.access.as_ref());
    let writer = if req.caller.is_anonymous() {
        bucket.owner_account.clone()
    } else {
        req.caller.account_id.clone()
    };
    let canned = req.header("x-amz-acl").map(str::trim);
    let owner = match bucket.object_ownership {
        Some(ObjectOwnership::BucketOwnerEnforced) => bucket.owner_account.clone(),
        Some(ObjectOwnership::BucketOwnerPreferred)
            if canned == Some("bucket-owner-full-control") =>
        {
            bucket.owner_account.clone()
        }
        _ => writer,
    };
    let requested = acl_from_headers(&req.headers, &ids, &owner, &bucket.owner_account)?;
    if bucket.acls_disabled() {
        // Only bucket-owner-full-control (or its equivalents) is accepted when ACLs are disabled.
        if let Some(acl) = &requested {
            let owner_canonical = req
                .access
                .canonical_user_id(&owner)
                .unwrap_or_else(|| owner.clone());
            if !crate::acl::allowed_when_acls_disabled(&req.headers, acl, &owner_canonical) {
                return Err(S3Error::AccessControlListNotSupported);
            }
        }
    }
    let acl = requested.unwrap_or_else(|| Acl::private(&ids, &owner));
    if acl.is_public() && bucket.blocks_public_acls() {
        let resource = format!(
            "arn:aws:s3:::{}/{}",
            bucket.name,
            req.key.as_deref().unwrap_or("")
        );
        return Err(block_public_access_denied(
            req,
            bucket,
            "s3:PutObject",
            &resource,
            "BlockPublicAcls",
        ));
    }
    Ok((owner, acl))
}

/// Conditional write headers on PutObject / CompleteMultipartUpload.
pub(crate) fn check_write_conditions(
    service: &S3Service,
    req: &S3Request,
    bucket: &str,
    key: &str,
) -> Result<(), S3Error> {
    let if_none = req.header("if-none-match");
    let if_match = req.header("if-match");
    if if_none.is_none() && if_match.is_none() {
        return Ok(());
    }
    let current = service
        .store
        .meta
        .get_object(bucket, key, None)?
        .filter(|o| !o.delete_marker);
    if let Some(v) = if_none {
        if v.trim() != "*" {
            return Err(S3Error::NotImplemented(
                "A header you provided implies functionality that is not implemented".into(),
            ));
        }
        if current.is_some() {
            return Err(S3Error::PreconditionFailed);
        }
    }
    if let Some(v) = if_match {
        match current {
            None => return Err(S3Error::NoSuchKey),
            Some(o) if !crate::conditional::etag_matches(v, &o.etag) => {
                return Err(S3Error::PreconditionFailed)
            }
            _ => {}
        }
    }
    Ok(())
}

/// The version id header value, when the bucket has ever been versioned.
fn version_header(versioning: Versioning, version_id: &str) -> Option<String> {
    (versioning != Versioning::Unversioned).then(|| version_id.to_string())
}

/// The SSE-S3/SSE-KMS request headers, which only a write can send: the
/// encryption of an object is chosen when it is written.
const WRITE_ENCRYPTION_HEADERS: [&str; 4] = [
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
];

/// GetObject/HeadObject with an SSE-S3/SSE-KMS header: 400 InvalidArgument.
/// API reference, GetObject and HeadObject: "Encryption request headers, like
/// x-amz-server-side-encryption, should not be sent for … GET requests … you'll
/// get an HTTP 400 Bad Request error"
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html); every
/// object is encrypted at rest on S3, so the header is always refused.
fn reject_write_encryption_headers(req: &S3Request) -> Result<(), Failure> {
    for name in WRITE_ENCRYPTION_HEADERS {
        if let Some(value) = req.header(name) {
            return Err(Failure::from(S3Error::InvalidArgument(format!(
                "{name} header is not supported for this operation."
            )))
            .with("ArgumentName", name)
            .with("ArgumentValue", value));
        }
    }
    Ok(())
}

/// Who learns that a key does not exist. GetObject and HeadObject API reference
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html): "If you
/// have the s3:ListBucket permission on the bucket, Amazon S3 returns an HTTP
/// status code 404 Not Found error. If you don't have the s3:ListBucket
/// permission, Amazon S3 returns an HTTP status code 403 Access Denied error."
/// The read permission comes first ("You need the relevant read object (or
/// version) permission for this operation"): a caller the read is denied to
/// gets 403 whether the key exists or not; a caller allowed the read who
/// "also" has s3:ListBucket learns that the key is missing (404), others get
/// 403. Both decisions are recorded (explain shows the pair).
fn missing_key_access(
    req: &S3Request,
    bucket: &BucketInfo,
    key: &str,
    op: Op,
    versioned: bool,
) -> Result<(), S3Error> {
    let action = crate::authorization::action(op, versioned);
    let read = decide(
        req,
        action,
        Some(bucket),
        Some(key),
        None,
        context(op, req, None),
    );
    read.map_err(access_denied)?;
    let list = context(Op::ListObjects, req, None);
    if check(req, "s3:ListBucket", Some(bucket), None, None, list).is_err() {
        return Err(S3Error::AccessDenied("Access Denied".into()));
    }
    Ok(())
}

/// The checksum a read answers with `x-amz-checksum-mode: ENABLED`, and its
/// `x-amz-checksum-type`: the object's for a whole read, the part's own stored
/// checksum for `?partNumber=N` of a multipart object (with the object's
/// checksum type), none for a byte range.
fn checksum_of_read<'a>(
    o: &'a ObjectVersion,
    status: u16,
    part_number: Option<&str>,
) -> Option<(&'a StoredChecksum, &'a str)> {
    let object = o.checksum.as_ref()?;
    if status == 200 {
        return Some((object, &object.kind));
    }
    let n: usize = part_number?.parse().ok()?;
    let part = o.parts.get(n.checked_sub(1)?)?.checksum.as_ref()?;
    (part.algorithm == object.algorithm).then_some((part, object.kind.as_str()))
}

/// The version id header of a write (PutObject, CopyObject,
/// CompleteMultipartUpload): only when versioning is Enabled. A write to a
/// Suspended bucket stores the null version and S3 sends no `x-amz-version-id`.
pub(crate) fn written_version_header(outcome: &strongbox_store::PutOutcome) -> Option<&str> {
    (outcome.versioning == Versioning::Enabled).then_some(outcome.version_id.as_str())
}

/// The parsed `x-amz-copy-source`: bucket, key, version.
pub(crate) fn parse_copy_source(value: &str) -> Result<(String, String, Option<String>), S3Error> {
    let invalid = || S3Error::InvalidArgument("Invalid copy source object key".into());
    let (path, version) = match value.split_once("?versionId=") {
        Some((p, v)) => (p, Some(v.to_string())),
        None => (value, None),
    };
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = decoded.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    Ok((bucket.to_string(), key.to_string(), version))
}

impl S3Service {
    /// The encryption of a new single-file object (PutObject, CopyObject): the
    /// stored details and the cipher of its one data file.
    pub(crate) fn single_segment_encryption(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        key: &str,
    ) -> Result<(Option<StoredEncryption>, Option<ObjectCipher>), S3Error> {
        let Some(new) = self.new_encryption(req, bucket, key)? else {
            return Ok((None, None));
        };
        // The binding names the object and a fresh id, so data files cannot be swapped.
        let data_id = strongbox_core::ids::random_hex(16);
        let binding = strongbox_kms::s3::object_binding(&bucket.name, key, Some(&data_id));
        let (segment, cipher) = StoredEncryption::new_segment(&new.key, &binding)?;
        let mut stored = new.stored.clone();
        stored.segments = vec![segment];
        Ok((Some(stored), Some(cipher)))
    }

    /// PutObject.
    pub(crate) async fn put_object(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        check_key(key)?;
        let bucket = self.load_bucket(req, bucket_name)?;
        if req.body.decoded_length.is_none() && !req.headers.contains_key("content-length") {
            // The server always knows the decoded length of a signed body; a missing one is AWS's 411.
            tracing::debug!("PutObject without a known length; streaming anyway");
        }
        let tags = match req.header("x-amz-tagging") {
            Some(v) => tags::parse_header(v)?,
            None => Vec::new(),
        };
        tags::validate(&tags, OBJECT_TAGS)?;
        let headers = stored_headers(&req.headers)?;
        let metadata = user_metadata(&req.headers)?;
        // Without a checksum from the client, S3 computes CRC64NVME (User Guide, "Checking object integrity").
        let checksum = checksum_request(
            &req.headers,
            Some(strongbox_store::ChecksumAlgorithm::Crc64Nvme),
        )?;
        authorize(req, Op::PutObject, Some(&bucket), Some(key), None)?;
        let lock = super::object_lock::new_version_lock(req, &bucket, true)?;
        let (owner, acl) = new_object_acl(req, &bucket)?;
        check_write_conditions(self, req, bucket_name, key)?;
        // The data key comes first: a KMS denial stores nothing.
        let (encryption, cipher) = self.single_segment_encryption(req, &bucket, key)?;
        let (written, stored_checksum) = receive_body(
            self,
            req,
            checksum.as_ref(),
            super::MAX_PUT_SIZE,
            cipher,
            Destination::InlineWhenSmall,
        )
        .await?;
        let etag = crate::sse::etag(encryption.as_ref(), &written.md5);
        let object = NewObject {
            bucket: bucket_name.to_string(),
            key: key.to_string(),
            delete_marker: false,
            size: written.size,
            etag: etag.clone(),
            last_modified: None,
            headers,
            metadata,
            checksum: stored_checksum.clone(),
            tags: tags.clone(),
            owner_account: owner,
            acl: Some(acl.to_json()),
            segments: vec![written.segment()],
            parts: Vec::new(),
            encryption: encryption.as_ref().map(StoredEncryption::to_json),
            lock,
        };
        let outcome = match self.store.meta.put_object(object) {
            Ok(o) => o,
            Err(e) => {
                self.store.discard_files(&written.files());
                return Err(S3Error::from(e).into());
            }
        };
        self.store.discard_files(&outcome.obsolete_files);
        let mut reply = Reply::ok().header("etag", &quoted(&etag));
        let expiration =
            self.expiration_of(&bucket, key, written.size, &tags, outcome.last_modified);
        reply = reply.opt_header("x-amz-expiration", expiration.as_deref());
        reply = encryption_headers(encryption.as_ref(), reply, true);
        if let Some(c) = &stored_checksum {
            reply = reply
                .header(c.algorithm.header(), &c.value)
                .header("x-amz-checksum-type", &c.kind);
        }
        Ok(reply.opt_header("x-amz-version-id", written_version_header(&outcome)))
    }

    /// Looks up a version for reading, applying AWS's 404/403 and delete-marker rules.
    pub(crate) fn object_for_read(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        key: &str,
        version_id: Option<&str>,
        op: Op,
    ) -> S3Result<(ObjectVersion, ObjectInfo)> {
        let found = self.store.meta.get_object(&bucket.name, key, version_id)?;
        let info = found
            .as_ref()
            .filter(|o| !o.delete_marker)
            .map(|o| object_info(req, o));
        if found.is_some() {
            authorize(req, op, Some(bucket), Some(key), info.as_ref())?;
        }
        match found {
            None => {
                missing_key_access(req, bucket, key, op, version_id.is_some())?;
                match version_id {
                    Some(v) => Err(Failure::from(S3Error::NoSuchVersion)
                        .with("Key", key)
                        .with("VersionId", v)),
                    None => Err(Failure::from(S3Error::NoSuchKey).with("Key", key)),
                }
            }
            Some(o) if o.delete_marker => {
                let f = if version_id.is_some() {
                    Failure::from(S3Error::MethodNotAllowed)
                        .with("Method", req.method.as_str())
                        .with("ResourceType", "DeleteMarker")
                        .header("allow", "DELETE")
                        .header("last-modified", http_date(o.last_modified))
                } else {
                    Failure::from(S3Error::NoSuchKey).with("Key", key)
                };
                Err(f
                    .header("x-amz-delete-marker", "true")
                    .header("x-amz-version-id", o.version_id))
            }
            Some(o) => {
                let info = info.unwrap_or_else(|| object_info(req, &o));
                Ok((o, info))
            }
        }
    }

    /// GetObject and HeadObject.
    pub(crate) async fn get_object(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
        head: bool,
    ) -> S3Result<Reply> {
        // An overwrite or delete may remove the data file between the metadata
        // lookup and opening it; look the object up again then.
        for _ in 0..3 {
            if let Some(reply) = self.get_object_once(req, bucket_name, key, head).await? {
                return Ok(reply);
            }
        }
        Err(
            S3Error::InternalError("We encountered an internal error. Please try again.".into())
                .into(),
        )
    }

    /// One attempt of GetObject; `None` when the data file vanished meanwhile.
    async fn get_object_once(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
        head: bool,
    ) -> S3Result<Option<Reply>> {
        reject_write_encryption_headers(req)?;
        let bucket = self.load_bucket(req, bucket_name)?;
        let version_id = req.query_value("versionId");
        let op = if head { Op::HeadObject } else { Op::GetObject };
        let (o, _) = self.object_for_read(req, &bucket, key, version_id.as_deref(), op)?;
        let encryption = StoredEncryption::from_json(o.encryption.as_deref());
        let customer = self.check_customer_key(req, encryption.as_ref(), CUSTOMER_HEADERS)?;
        let conditions = Conditions {
            if_match: req.header("if-match").map(str::to_string),
            if_none_match: req.header("if-none-match").map(str::to_string),
            if_modified_since: req.header("if-modified-since").map(str::to_string),
            if_unmodified_since: req.header("if-unmodified-since").map(str::to_string),
        };
        match conditions.evaluate(&o.etag, o.last_modified, true) {
            Verdict::Proceed => {}
            Verdict::NotModified => {
                return Err(Failure::from(S3Error::NotModified)
                    .header("etag", quoted(&o.etag))
                    .header("last-modified", http_date(o.last_modified)))
            }
            Verdict::PreconditionFailed => return Err(S3Error::PreconditionFailed.into()),
        }
        // The byte range: a partNumber, a Range header, or everything.
        let mut status = 200;
        let (mut start, mut end) = (0, o.size);
        let part_number = req.query_value("partNumber");
        if let Some(pn) = &part_number {
            let n: usize = pn
                .parse()
                .ok()
                .filter(|n| (1..=10000).contains(n))
                .ok_or_else(|| {
                    S3Error::InvalidArgument(
                        "Part number must be an integer between 1 and 10000, inclusive".into(),
                    )
                })?;
            let sizes: Vec<u64> = if o.parts.is_empty() {
                vec![o.size]
            } else {
                o.parts.iter().map(|p| p.size).collect()
            };
            if n > sizes.len() {
                // GetObject API reference: a part number past the last part is 416 InvalidPartNumber.
                return Err(Failure::from(S3Error::InvalidPartNumber)
                    .with("PartNumberRequested", n.to_string())
                    .with("ActualPartCount", sizes.len().to_string()));
            }
            start = sizes[..n - 1].iter().sum();
            end = start + sizes[n - 1];
            if !o.parts.is_empty() {
                status = 206;
            }
        } else if let Some(range) = req.header("range").and_then(parse_range) {
            match range.resolve(o.size) {
                Some((s, e)) => {
                    start = s;
                    end = e;
                    status = 206;
                }
                None => {
                    return Err(Failure::from(S3Error::InvalidRange)
                        .with("RangeRequested", req.header("range").unwrap_or_default())
                        .with("ActualObjectSize", o.size.to_string())
                        .header("content-range", format!("bytes */{}", o.size)));
                }
            }
        }
        let mut reply = Reply::new(status)
            .header("etag", &quoted(&o.etag))
            .header("last-modified", &http_date(o.last_modified))
            .header("accept-ranges", "bytes")
            .header("content-length", &(end - start).to_string());
        if status == 206 && (part_number.is_none() || !o.parts.is_empty()) {
            reply = reply.header(
                "content-range",
                &format!("bytes {start}-{}/{}", end.saturating_sub(1), o.size),
            );
        }
        if part_number.is_some() && !o.parts.is_empty() {
            reply = reply.header("x-amz-mp-parts-count", &o.parts.len().to_string());
        }
        for (name, value) in &o.headers {
            let overridden = RESPONSE_OVERRIDES
                .iter()
                .any(|(q, h)| *h == name && req.has_query(q));
            if !overridden {
                reply = reply.header(name, value);
            }
        }
        for (q, h) in RESPONSE_OVERRIDES {
            if let Some(v) = req.query_value(q) {
                reply = reply.header(h, &v);
            }
        }
        for (k, v) in &o.metadata {
            reply = reply.header(&format!("x-amz-meta-{k}"), v);
        }
        if !o.tags.is_empty() {
            reply = reply.header("x-amz-tagging-count", &o.tags.len().to_string());
        }
        for (name, value) in super::object_lock::lock_response_headers(req, &bucket, key, &o) {
            reply = reply.header(name, &value);
        }
        if req
            .header("x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        {
            if let Some((c, kind)) = checksum_of_read(&o, status, part_number.as_deref()) {
                reply = reply
                    .header(c.algorithm.header(), &c.value)
                    .header("x-amz-checksum-type", kind);
            }
        }
        reply = reply.opt_header(
            "x-amz-version-id",
            version_header(bucket.versioning, &o.version_id).as_deref(),
        );
        if o.is_latest {
            let expiration = self.expiration_of(&bucket, key, o.size, &o.tags, o.last_modified);
            reply = reply.opt_header("x-amz-expiration", expiration.as_deref());
        }
        reply = encryption_headers(encryption.as_ref(), reply, false);
        if head {
            return Ok(Some(reply));
        }
        let segments = self.store.meta.object_segments(o.row_id)?;
        if segments.iter().map(|s| s.length).sum::<u64>() != o.size {
            // Overwritten or deleted since the lookup: look it up again.
            return Ok(None);
        }
        // GetObject needs kms:Decrypt on an SSE-KMS object's key, as the caller.
        let ciphers =
            self.read_ciphers(req, encryption.as_ref(), customer.as_ref(), segments.len())?;
        if end == start {
            return Ok(Some(reply));
        }
        let reader = match self
            .store
            .files
            .open_decrypting_reader(segments, ciphers, start, end)
            .await
        {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(S3Error::from(e).into()),
        };
        Ok(Some(
            reply.body(S3Body::stream(reader.into_stream(), end - start)),
        ))
    }

    /// DeleteObject.
    pub(crate) fn delete_object(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let version_id = req.query_value("versionId");
        let existing = self
            .store
            .meta
            .get_object(bucket_name, key, version_id.as_deref())?;
        let info = existing
            .as_ref()
            .filter(|o| !o.delete_marker)
            .map(|o| object_info(req, o));
        authorize(
            req,
            Op::DeleteObject,
            Some(&bucket),
            Some(key),
            info.as_ref(),
        )?;
        if let (Some(_), Some(o)) = (&version_id, &existing) {
            super::object_lock::check_deletable(req, &bucket, key, o)?;
        }
        let owner = if req.caller.is_anonymous() {
            bucket.owner_account.clone()
        } else {
            req.caller.account_id.clone()
        };
        let outcome =
            self.store
                .meta
                .delete_object(bucket_name, key, version_id.as_deref(), &owner)?;
        self.store.discard_files(&outcome.obsolete_files);
        let mut reply = Reply::no_content();
        if outcome.delete_marker {
            reply = reply.header("x-amz-delete-marker", "true");
        }
        Ok(reply.opt_header("x-amz-version-id", outcome.version_id.as_deref()))
    }

    /// DeleteObjects (POST ?delete).
    pub(crate) async fn delete_objects(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let body =
            super::read_checked_body(req, super::MAX_XML_BODY, S3Error::MalformedXml).await?;
        let crate::bodies::DeleteRequest { quiet, objects } =
            crate::bodies::parse_delete(&xml::parse(&body)?)?;
        let owner = if req.caller.is_anonymous() {
            bucket.owner_account.clone()
        } else {
            req.caller.account_id.clone()
        };
        let mut w = XmlWriter::new("DeleteResult");
        for (key, version) in objects {
            let result = self.delete_one(req, &bucket, &key, version.as_deref(), &owner);
            match result {
                Ok(outcome) => {
                    if quiet {
                        continue;
                    }
                    w.open("Deleted")
                        .elem("Key", &key)
                        .opt("VersionId", version.as_deref());
                    if outcome.delete_marker {
                        w.elem("DeleteMarker", "true");
                        if version.is_none() {
                            w.opt("DeleteMarkerVersionId", outcome.version_id.as_deref());
                        }
                    }
                    w.close("Deleted");
                }
                Err(e) => {
                    use strongbox_core::AwsError as _;
                    w.open("Error")
                        .elem("Key", &key)
                        .opt("VersionId", version.as_deref());
                    w.elem("Code", e.code())
                        .elem("Message", &e.message())
                        .close("Error");
                }
            }
        }
        Ok(Reply::ok().xml(w.finish("DeleteResult")))
    }

    fn delete_one(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        key: &str,
        version: Option<&str>,
        owner: &str,
    ) -> Result<strongbox_store::DeleteOutcome, S3Error> {
        check_key(key)?;
        let existing = self.store.meta.get_object(&bucket.name, key, version)?;
        let info = existing
            .as_ref()
            .filter(|o| !o.delete_marker)
            .map(|o| object_info(req, o));
        let mut ctx = context(Op::DeleteObject, req, info.as_ref());
        if let Some(v) = version {
            ctx.push(strongbox_core::ContextEntry::new("s3:versionid", v));
        }
        let action = crate::authorization::action(Op::DeleteObjects, version.is_some());
        check(req, action, Some(bucket), Some(key), info.as_ref(), ctx)?;
        if let (Some(_), Some(o)) = (version, &existing) {
            super::object_lock::check_deletable(req, bucket, key, o)?;
        }
        let outcome = self
            .store
            .meta
            .delete_object(&bucket.name, key, version, owner)?;
        self.store.discard_files(&outcome.obsolete_files);
        Ok(outcome)
    }

    /// Resolves and authorizes the source of CopyObject / UploadPartCopy, and
    /// evaluates the `x-amz-copy-source-if-*` conditions.
    pub(crate) fn copy_source(&self, req: &S3Request) -> S3Result<(BucketInfo, ObjectVersion)> {
        let raw = req
            .header("x-amz-copy-source")
            .unwrap_or_default()
            .to_string();
        let (src_bucket, src_key, src_version) = parse_copy_source(&raw)?;
        let bucket = self.load_bucket(req, &src_bucket)?;
        let found = self
            .store
            .meta
            .get_object(&src_bucket, &src_key, src_version.as_deref())?;
        let info = found
            .as_ref()
            .filter(|o| !o.delete_marker)
            .map(|o| object_info(req, o));
        let mut ctx = context(Op::GetObject, req, info.as_ref());
        ctx.retain(|c| c.key != "s3:versionid");
        if let Some(v) = &src_version {
            ctx.push(strongbox_core::ContextEntry::new("s3:versionid", v.clone()));
        }
        let action = crate::authorization::action(Op::GetObject, src_version.is_some());
        check(
            req,
            action,
            Some(&bucket),
            Some(&src_key),
            info.as_ref(),
            ctx,
        )?;
        let o = match found {
            None if src_version.is_some() => return Err(S3Error::NoSuchVersion.into()),
            None => return Err(Failure::from(S3Error::NoSuchKey).with("Key", src_key)),
            Some(o) if o.delete_marker => {
                return Err(if src_version.is_some() {
                    S3Error::InvalidRequest(
                        "The source of a copy request may not specifically refer to a delete marker by version id.".into(),
                    )
                    .into()
                } else {
                    Failure::from(S3Error::NoSuchKey).with("Key", src_key)
                })
            }
            Some(o) => o,
        };
        let conditions = Conditions {
            if_match: req.header("x-amz-copy-source-if-match").map(str::to_string),
            if_none_match: req
                .header("x-amz-copy-source-if-none-match")
                .map(str::to_string),
            if_modified_since: req
                .header("x-amz-copy-source-if-modified-since")
                .map(str::to_string),
            if_unmodified_since: req
                .header("x-amz-copy-source-if-unmodified-since")
                .map(str::to_string),
        };
        if conditions.evaluate(&o.etag, o.last_modified, false) != Verdict::Proceed {
            return Err(S3Error::PreconditionFailed.into());
        }
        Ok((bucket, o))
    }

    /// Copies bytes `range` of `source` into new stored bytes.
    /// The source is decrypted (SSE-C source keys from the
    /// `x-amz-copy-source-server-side-encryption-customer-*` headers; SSE-KMS
    /// needs kms:Decrypt as the caller) and the copy encrypted with `cipher`.
    pub(crate) async fn copy_bytes(
        &self,
        req: &S3Request,
        source: &ObjectVersion,
        range: std::ops::Range<u64>,
        algorithm: Option<strongbox_store::ChecksumAlgorithm>,
        cipher: Option<ObjectCipher>,
        destination: Destination,
    ) -> Result<strongbox_store::WrittenFile, S3Error> {
        let segments = self.store.meta.object_segments(source.row_id)?;
        let source_encryption = StoredEncryption::from_json(source.encryption.as_deref());
        let customer = self.check_customer_key(
            req,
            source_encryption.as_ref(),
            COPY_SOURCE_CUSTOMER_HEADERS,
        )?;
        let ciphers = self.read_ciphers(
            req,
            source_encryption.as_ref(),
            customer.as_ref(),
            segments.len(),
        )?;
        let mut reader = self
            .store
            .files
            .open_decrypting_reader(segments, ciphers, range.start, range.end)
            .await?;
        let algorithms: Vec<_> = algorithm.into_iter().collect();
        let mut writer = destination.apply(
            self.store
                .files
                .create_encrypted(&algorithms, cipher)
                .await?,
        );
        while let Some(chunk) = reader.next_chunk().await? {
            writer.write(&chunk).await?;
        }
        Ok(writer.finish().await?)
    }

    /// CopyObject.
    pub(crate) async fn copy_object(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        check_key(key)?;
        let bucket = self.load_bucket(req, bucket_name)?;
        let directive = req
            .header("x-amz-metadata-directive")
            .unwrap_or("COPY")
            .to_string();
        if directive != "COPY" && directive != "REPLACE" {
            return Err(S3Error::InvalidArgument("Unknown metadata directive.".into()).into());
        }
        let tagging_directive = req
            .header("x-amz-tagging-directive")
            .unwrap_or("COPY")
            .to_string();
        if tagging_directive != "COPY" && tagging_directive != "REPLACE" {
            return Err(S3Error::InvalidArgument("Unknown tagging directive.".into()).into());
        }
        let (src_bucket, source) = self.copy_source(req)?;
        authorize(req, Op::CopyObject, Some(&bucket), Some(key), None)?;
        let same_object = src_bucket.name == bucket.name && source.key == key;
        if same_object
            && directive == "COPY"
            && !req.headers.contains_key("x-amz-storage-class")
            && !req.headers.contains_key("x-amz-website-redirect-location")
            && !req.headers.contains_key("x-amz-server-side-encryption")
            && !req
                .headers
                .contains_key("x-amz-server-side-encryption-customer-algorithm")
        {
            return Err(S3Error::InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.".into(),
            )
            .into());
        }
        if source.size > super::MAX_PUT_SIZE {
            return Err(S3Error::InvalidRequest(format!(
                "The specified copy source is larger than the maximum allowable size for a copy source: {}",
                super::MAX_PUT_SIZE
            ))
            .into());
        }
        let (headers, metadata) = if directive == "REPLACE" {
            (stored_headers(&req.headers)?, user_metadata(&req.headers)?)
        } else {
            (source.headers.clone(), source.metadata.clone())
        };
        let tags = if tagging_directive == "REPLACE" {
            let t = match req.header("x-amz-tagging") {
                Some(v) => tags::parse_header(v)?,
                None => Vec::new(),
            };
            tags::validate(&t, OBJECT_TAGS)?;
            t
        } else {
            source.tags.clone()
        };
        let lock = super::object_lock::new_version_lock(req, &bucket, false)?;
        let (owner, acl) = new_object_acl(req, &bucket)?;
        let algorithm = checksum_request(&req.headers, None)?
            .map(|c| c.algorithm)
            .or(source.checksum.as_ref().map(|c| c.algorithm))
            .or(Some(strongbox_store::ChecksumAlgorithm::Crc64Nvme));
        let (encryption, cipher) = self.single_segment_encryption(req, &bucket, key)?;
        let written = self
            .copy_bytes(
                req,
                &source,
                0..source.size,
                algorithm,
                cipher,
                Destination::InlineWhenSmall,
            )
            .await?;
        let etag = crate::sse::etag(encryption.as_ref(), &written.md5);
        let checksum = written.checksums.first().map(|(a, v)| StoredChecksum {
            algorithm: *a,
            value: v.clone(),
            kind: "FULL_OBJECT".into(),
        });
        let object = NewObject {
            bucket: bucket_name.to_string(),
            key: key.to_string(),
            delete_marker: false,
            size: written.size,
            etag: etag.clone(),
            last_modified: None,
            headers,
            metadata,
            checksum: checksum.clone(),
            tags,
            owner_account: owner,
            acl: Some(acl.to_json()),
            segments: vec![written.segment()],
            parts: Vec::new(),
            encryption: encryption.as_ref().map(StoredEncryption::to_json),
            lock,
        };
        let outcome = match self.store.meta.put_object(object) {
            Ok(o) => o,
            Err(e) => {
                self.store.discard_files(&written.files());
                return Err(S3Error::from(e).into());
            }
        };
        self.store.discard_files(&outcome.obsolete_files);
        let mut w = XmlWriter::new("CopyObjectResult");
        w.elem("LastModified", &iso8601(outcome.last_modified))
            .elem("ETag", &quoted(&etag));
        if let Some(c) = &checksum {
            w.elem("ChecksumType", &c.kind)
                .elem(c.algorithm.xml_name(), &c.value);
        }
        let reply = Reply::ok()
            .opt_header("x-amz-version-id", written_version_header(&outcome))
            .opt_header(
                "x-amz-copy-source-version-id",
                version_header(src_bucket.versioning, &source.version_id).as_deref(),
            );
        let reply = encryption_headers(encryption.as_ref(), reply, true);
        Ok(reply.xml(w.finish("CopyObjectResult")))
    }
}

/// MD5 of the concatenated binary part MD5s, as the multipart ETag (`hex-N`).
pub(crate) fn multipart_etag(part_etags: &[String]) -> String {
    let mut h = Md5::new();
    for e in part_etags {
        let raw: Vec<u8> = e
            .as_bytes()
            .chunks_exact(2)
            .filter_map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        h.update(&raw);
    }
    format!(
        "{}-{}",
        strongbox_core::ids::hex(&h.finalize()),
        part_etags.len()
    )
}

/// A composite checksum of part checksums (base64 values) as `value-N`.
pub(crate) fn composite_checksum(
    algorithm: strongbox_store::ChecksumAlgorithm,
    parts: &[String],
) -> Option<String> {
    let mut h = strongbox_store::ChecksumHasher::new(algorithm);
    for p in parts {
        h.update(&base64::engine::general_purpose::STANDARD.decode(p).ok()?);
    }
    Some(format!("{}-{}", h.finish(), parts.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_parsing() {
        assert_eq!(
            parse_copy_source("/b/k%20x").unwrap(),
            ("b".into(), "k x".into(), None)
        );
        assert_eq!(
            parse_copy_source("b/a/b?versionId=v1").unwrap(),
            ("b".into(), "a/b".into(), Some("v1".into()))
        );
        assert!(parse_copy_source("b").is_err());
        assert!(parse_copy_source("/b/").is_err());
    }

    #[test]
    fn multipart_etags() {
        // The ETag of a two-part upload whose parts are "a" and "b".
        let a = strongbox_core::ids::hex(&Md5::digest(b"a"));
        let b = strongbox_core::ids::hex(&Md5::digest(b"b"));
        let mut joined = Md5::digest(b"a").to_vec();
        joined.extend_from_slice(&Md5::digest(b"b"));
        let expected = format!("{}-2", strongbox_core::ids::hex(&Md5::digest(&joined)));
        assert_eq!(multipart_etag(&[a, b]), expected);
    }
}
