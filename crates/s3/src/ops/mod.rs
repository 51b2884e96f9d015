//! The operations, grouped by resource, and what they share.

mod bucket;
mod bucket_config;
mod control;
mod lifecycle;
mod list;
mod logging;
mod multipart;
mod object;
mod object_config;
mod object_lock;

use base64::Engine as _;
use http::HeaderMap;
use strongbox_store::{Bucket, ChecksumAlgorithm, ObjectVersion, StoredChecksum, WrittenFile};

use crate::acl::Acl;
use crate::authorization::{authorize, BucketInfo, Ids, ObjectInfo, Op};
use crate::config::{EncryptionConfig, ObjectOwnership, PublicAccessBlock};
use crate::error::S3Error;
use crate::{S3Request, S3Service};

/// The largest single PUT (5 GiB).
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// The largest XML request body we read.
pub const MAX_XML_BODY: usize = 4 * 1024 * 1024;
/// User metadata limit (2 KB, keys plus values).
pub const MAX_USER_METADATA: usize = 2048;

/// Response headers stored with an object, as sent on PUT.
pub const STORED_HEADERS: [&str; 7] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    "x-amz-website-redirect-location",
];

impl S3Service {
    /// The bucket with its configuration, or NoSuchBucket.
    pub(crate) fn load_bucket(&self, req: &S3Request, name: &str) -> Result<BucketInfo, S3Error> {
        let b = self.load_bucket_row(req, name)?;
        self.bucket_info(req, b)
    }

    /// The stored bucket row, as [`Self::load_bucket`] checks it.
    pub(crate) fn load_bucket_row(&self, req: &S3Request, name: &str) -> Result<Bucket, S3Error> {
        let b = self
            .store
            .meta
            .get_bucket(name)?
            .ok_or(S3Error::NoSuchBucket)?;
        // x-amz-expected-bucket-owner: a different owner is 403 AccessDenied.
        if let Some(expected) = req.header("x-amz-expected-bucket-owner") {
            if expected.trim() != b.owner_account {
                return Err(S3Error::AccessDenied("Access Denied".into()));
            }
        }
        Ok(b)
    }

    /// The bucket, once `op` on the bucket itself is authorized.
    pub(crate) fn authorized_bucket(
        &self,
        req: &S3Request,
        name: &str,
        op: Op,
    ) -> Result<BucketInfo, crate::error::Failure> {
        let bucket = self.load_bucket(req, name)?;
        authorize(req, op, Some(&bucket), None, None)?;
        Ok(bucket)
    }

    /// Looks up `key` (the latest version, or `version`) and authorizes `op` on
    /// it, with `extra` condition keys beside the request's own; answers what
    /// was found (a delete marker included), for the caller's not-found rules.
    pub(crate) fn authorized_version(
        &self,
        req: &S3Request,
        bucket: &BucketInfo,
        key: &str,
        version: Option<&str>,
        op: Op,
        extra: Vec<strongbox_core::ContextEntry>,
    ) -> Result<Option<ObjectVersion>, crate::error::Failure> {
        let found = self.store.meta.get_object(&bucket.name, key, version)?;
        let info = found
            .as_ref()
            .filter(|o| !o.delete_marker)
            .map(|o| object_info(req, o));
        let mut ctx = crate::authorization::context(op, req, info.as_ref());
        ctx.extend(extra);
        let action = crate::authorization::action(op, version.is_some());
        crate::authorization::check(req, action, Some(bucket), Some(key), info.as_ref(), ctx)?;
        Ok(found)
    }

    pub(crate) fn bucket_info(&self, req: &S3Request, b: Bucket) -> Result<BucketInfo, S3Error> {
        let account_pab = self
            .store
            .meta
            .get_account_public_access_block(&b.owner_account)?
            .and_then(|s| PublicAccessBlock::from_json(&s));
        let ids = Ids(req.access.as_ref());
        Ok(BucketInfo {
            acl: b
                .acl
                .as_deref()
                .and_then(Acl::from_json)
                .unwrap_or_else(|| Acl::private(&ids, &b.owner_account)),
            object_ownership: b
                .object_ownership
                .as_deref()
                .and_then(ObjectOwnership::parse),
            public_access_block: b
                .public_access_block
                .as_deref()
                .and_then(PublicAccessBlock::from_json),
            account_public_access_block: account_pab,
            tags: b
                .tags
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default(),
            encryption: b
                .encryption
                .as_deref()
                .and_then(|e| serde_json::from_str::<EncryptionConfig>(e).ok()),
            name: b.name,
            owner_account: b.owner_account,
            region: b.region,
            created: b.created,
            versioning: b.versioning,
            policy: b.policy,
            object_lock: b
                .object_lock
                .as_deref()
                .and_then(crate::object_lock::ObjectLockConfig::from_json),
        })
    }
}

/// What authorization sees of an object version.
pub(crate) fn object_info(req: &S3Request, o: &ObjectVersion) -> ObjectInfo {
    let ids = Ids(req.access.as_ref());
    ObjectInfo {
        owner_account: o.owner_account.clone(),
        acl: o
            .acl
            .as_deref()
            .and_then(Acl::from_json)
            .unwrap_or_else(|| Acl::private(&ids, &o.owner_account)),
        tags: o.tags.clone(),
        version_id: Some(o.version_id.clone()),
    }
}

/// Whether a request carries an integrity header for its body: `Content-MD5`,
/// an `x-amz-checksum-*` value, or the SDK's checksum algorithm or trailer
/// (what S3 requires on DeleteObjects and on writes with Object Lock headers).
pub(crate) fn has_integrity_header(headers: &HeaderMap) -> bool {
    headers.contains_key("content-md5")
        || headers.contains_key("x-amz-sdk-checksum-algorithm")
        || headers.contains_key("x-amz-trailer")
        || ChecksumAlgorithm::ALL
            .iter()
            .any(|a| headers.contains_key(a.header()))
}

/// A key must be 1..=1024 UTF-8 bytes.
pub(crate) fn check_key(key: &str) -> Result<(), S3Error> {
    if key.is_empty() {
        return Err(S3Error::InvalidArgument("Key must not be empty".into()));
    }
    if key.len() > crate::names::MAX_KEY_BYTES {
        return Err(S3Error::KeyTooLong);
    }
    Ok(())
}

/// Storage classes S3 accepts in `x-amz-storage-class` (stored and reported;
/// every class is served from the same local disk).
pub const STORAGE_CLASSES: [&str; 11] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// The storage class of a stored object (`STANDARD` unless another was requested).
pub(crate) fn storage_class(headers: &[(String, String)]) -> &str {
    headers
        .iter()
        .find(|(k, _)| k == "x-amz-storage-class")
        .map_or("STANDARD", |(_, v)| v.as_str())
}

/// The stored content headers of a PUT / CreateMultipartUpload.
pub(crate) fn stored_headers(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut out = Vec::new();
    if let Some(class) = headers.get("x-amz-storage-class") {
        let class = class.to_str().unwrap_or("").trim();
        if !STORAGE_CLASSES.contains(&class) {
            return Err(S3Error::InvalidStorageClass);
        }
        if class != "STANDARD" {
            out.push(("x-amz-storage-class".to_string(), class.to_string()));
        }
    }
    for name in STORED_HEADERS {
        // Values are kept byte for byte (UTF-8 text included), as S3 returns them.
        if let Some(v) = headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        {
            if name == "content-encoding" {
                if let Some(kept) = without_aws_chunked(v) {
                    out.push((name.to_string(), kept));
                }
                continue;
            }
            out.push((name.to_string(), v.to_string()));
        }
    }
    if !out.iter().any(|(k, _)| k == "content-type") {
        out.insert(
            0,
            (
                "content-type".to_string(),
                "binary/octet-stream".to_string(),
            ),
        );
    }
    Ok(out)
}

/// A `Content-Encoding` value without the `aws-chunked` coding, which frames a
/// SigV4 streaming upload and is not stored; every other coding is kept exactly
/// as sent (`deflate, gzip` stays `deflate, gzip`). `None` when nothing is left.
fn without_aws_chunked(value: &str) -> Option<String> {
    let codings: Vec<&str> = value.split(',').collect();
    let kept: Vec<&str> = codings
        .iter()
        .copied()
        .filter(|c| !c.trim().eq_ignore_ascii_case("aws-chunked"))
        .collect();
    let kept = if kept.len() == codings.len() {
        value.to_string()
    } else {
        kept.join(",").trim().to_string()
    };
    (!kept.trim().is_empty()).then_some(kept)
}

/// `x-amz-meta-*` headers (names lower-case, without the prefix), within the 2 KB limit.
pub(crate) fn user_metadata(headers: &HeaderMap) -> Result<Vec<(String, String)>, S3Error> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut total = 0;
    for (name, value) in headers {
        if let Some(k) = name.as_str().strip_prefix("x-amz-meta-") {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            total += k.len() + v.len();
            match out.iter_mut().find(|(e, _)| e == k) {
                Some((_, existing)) => {
                    existing.push(',');
                    existing.push_str(&v);
                }
                None => out.push((k.to_string(), v)),
            }
        }
    }
    if total > MAX_USER_METADATA {
        return Err(S3Error::MetadataTooLarge);
    }
    Ok(out)
}

/// A small body S3 requires an integrity header for (DeleteObjects,
/// PutBucketCors, PutBucketLifecycleConfiguration): `Content-MD5` or an `x-amz-checksum-*` value, checked
/// against the bytes read (at most `limit`, else `too_large`).
pub(crate) async fn read_checked_body(
    req: &mut S3Request,
    limit: usize,
    too_large: S3Error,
) -> Result<bytes::Bytes, S3Error> {
    use md5::{Digest as _, Md5};
    if !has_integrity_header(&req.headers) {
        return Err(S3Error::InvalidRequest(
            "Missing required header for this request: Content-MD5".into(),
        ));
    }
    let md5 = content_md5(&req.headers)?;
    let checksum = checksum_request(&req.headers, None)?;
    let body = req.body.collect(limit, too_large).await?;
    if let Some(expected) = md5 {
        let got: [u8; 16] = Md5::digest(&body).into();
        if got != expected {
            return Err(S3Error::BadDigest);
        }
    }
    if let Some(c) = checksum.filter(|c| c.expected.is_some()) {
        if c.expected.as_deref() != Some(c.algorithm.compute(&body).as_str()) {
            return Err(S3Error::BadChecksum(c.algorithm.as_str()));
        }
    }
    Ok(body)
}

/// The decoded `Content-MD5`, or InvalidDigest.
pub(crate) fn content_md5(headers: &HeaderMap) -> Result<Option<[u8; 16]>, S3Error> {
    let Some(v) = headers.get("content-md5") else {
        return Ok(None);
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(v.as_bytes().trim_ascii())
        .map_err(|_| S3Error::InvalidDigest)?;
    let arr: [u8; 16] = raw.try_into().map_err(|_| S3Error::InvalidDigest)?;
    Ok(Some(arr))
}

/// The checksum a request declares: (algorithm, value given in a header, whether it comes as a trailer).
pub(crate) struct ChecksumRequest {
    pub algorithm: ChecksumAlgorithm,
    pub expected: Option<String>,
    pub trailer: bool,
}

/// Reads `x-amz-checksum-*`, `x-amz-trailer` and `x-amz-sdk-checksum-algorithm`/`x-amz-checksum-algorithm`.
pub(crate) fn checksum_request(
    headers: &HeaderMap,
    default: Option<ChecksumAlgorithm>,
) -> Result<Option<ChecksumRequest>, S3Error> {
    let text = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    let mut found: Vec<ChecksumRequest> = Vec::new();
    for a in ChecksumAlgorithm::ALL {
        if let Some(v) = text(a.header()) {
            found.push(ChecksumRequest {
                algorithm: a,
                expected: Some(v),
                trailer: false,
            });
        }
    }
    if let Some(t) = text("x-amz-trailer") {
        let a = ChecksumAlgorithm::ALL
            .into_iter()
            .find(|a| t.eq_ignore_ascii_case(a.header()))
            .ok_or_else(|| {
                S3Error::InvalidRequest(format!(
                    "The value specified in the x-amz-trailer header is not supported: {t}"
                ))
            })?;
        found.push(ChecksumRequest {
            algorithm: a,
            expected: None,
            trailer: true,
        });
    }
    if found.len() > 1 {
        return Err(S3Error::InvalidRequest(
            "Expecting a single x-amz-checksum- header".into(),
        ));
    }
    if let Some(f) = found.pop() {
        if let Some(v) = &f.expected {
            let ok = base64::engine::general_purpose::STANDARD
                .decode(v)
                .is_ok_and(|raw| raw.len() == f.algorithm.digest_len());
            if !ok {
                return Err(S3Error::InvalidRequest(format!(
                    "Value for {} header is invalid.",
                    f.algorithm.header()
                )));
            }
        }
        return Ok(Some(f));
    }
    let declared =
        text("x-amz-sdk-checksum-algorithm").or_else(|| text("x-amz-checksum-algorithm"));
    if let Some(name) = declared {
        let a = ChecksumAlgorithm::parse(&name).ok_or_else(|| {
            S3Error::InvalidRequest("Checksum algorithm provided is unsupported.".into())
        })?;
        return Ok(Some(ChecksumRequest {
            algorithm: a,
            expected: None,
            trailer: false,
        }));
    }
    Ok(default.map(|a| ChecksumRequest {
        algorithm: a,
        expected: None,
        trailer: false,
    }))
}

/// Where received bytes go: a data file always (parts, which completion joins
/// by file), or inline in the metadata when small (whole objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    File,
    InlineWhenSmall,
}

impl Destination {
    /// Applies the destination to a new writer.
    pub(crate) fn apply(
        self,
        writer: strongbox_store::ObjectWriter,
    ) -> strongbox_store::ObjectWriter {
        match self {
            Destination::File => writer,
            Destination::InlineWhenSmall => {
                writer.inline_up_to(strongbox_store::files::INLINE_LIMIT)
            }
        }
    }
}

/// Streams the request body into new stored bytes, checking length, MD5 and checksum.
pub(crate) async fn receive_body(
    service: &S3Service,
    req: &mut S3Request,
    checksum: Option<&ChecksumRequest>,
    max_size: u64,
    cipher: Option<strongbox_kms::object_crypto::ObjectCipher>,
    destination: Destination,
) -> Result<(WrittenFile, Option<StoredChecksum>), S3Error> {
    let md5 = content_md5(&req.headers)?;
    if let Some(len) = req.body.decoded_length {
        if len > max_size {
            return Err(S3Error::EntityTooLarge);
        }
    }
    let algorithms: Vec<ChecksumAlgorithm> =
        checksum.map(|c| vec![c.algorithm]).unwrap_or_default();
    let mut writer = destination.apply(
        service
            .store
            .files
            .create_encrypted(&algorithms, cipher)
            .await?,
    );
    while let Some(chunk) = req.body.next_chunk().await {
        let chunk = chunk?;
        if writer.size() + chunk.len() as u64 > max_size {
            return Err(S3Error::EntityTooLarge);
        }
        writer.write(&chunk).await?;
    }
    if let Some(len) = req.body.decoded_length {
        if writer.size() != len {
            return Err(S3Error::Body(crate::body::BodyError::IncompleteBody));
        }
    }
    let written = writer.finish().await?;
    // From here on, the data file exists; remove it on any failure.
    let fail = |e: S3Error| {
        service.store.discard_files(&written.files());
        e
    };
    if let Some(expected) = md5 {
        if expected != written.md5 {
            return Err(fail(S3Error::BadDigest));
        }
    }
    let mut stored = None;
    if let Some(c) = checksum {
        let computed = written
            .checksums
            .first()
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let expected = match (&c.expected, c.trailer) {
            (Some(v), _) => Some(v.clone()),
            (None, true) => Some(req.body.trailer(c.algorithm.header()).ok_or_else(|| {
                fail(S3Error::InvalidRequest(
                    "The trailing checksum was not sent.".into(),
                ))
            })?),
            (None, false) => None,
        };
        if let Some(e) = expected {
            if e != computed {
                return Err(fail(S3Error::BadChecksum(c.algorithm.header_label())));
            }
        }
        stored = Some(StoredChecksum {
            algorithm: c.algorithm,
            value: computed,
            kind: "FULL_OBJECT".into(),
        });
    }
    Ok((written, stored))
}

/// Names a checksum in messages: `x-amz-checksum-crc32` → `CRC32`.
trait HeaderLabel {
    fn header_label(self) -> &'static str;
}

impl HeaderLabel for ChecksumAlgorithm {
    fn header_label(self) -> &'static str {
        self.as_str()
    }
}

/// A quoted ETag.
pub(crate) fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// Parses `max-keys`/`max-uploads`/`max-parts`: default 1000, capped at 1000.
pub(crate) fn parse_max(req: &S3Request, name: &str) -> Result<usize, S3Error> {
    match req.query_value(name) {
        None => Ok(1000),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                S3Error::InvalidArgument(format!(
                    "Provided {name} not an integer or within integer range"
                ))
            })?;
            if n < 0 {
                return Err(S3Error::InvalidArgument(format!(
                    "Argument {name} must be an integer between 0 and 2147483647"
                )));
            }
            Ok((n as usize).min(1000))
        }
    }
}

/// `encoding-type=url` encoding of keys and prefixes in listings (form-style: space as `+`).
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The owner element content of listings: (canonical id, display name).
pub(crate) fn owner_of(req: &S3Request, account: &str) -> (String, String) {
    let id = req
        .access
        .canonical_user_id(account)
        .unwrap_or_else(|| account.to_string());
    (id, account.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b/c+d%é"), "a+b/c%2Bd%25%C3%A9");
    }

    #[test]
    fn checksum_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-checksum-crc32", "DUoRhQ==".parse().unwrap());
        let c = checksum_request(&h, None).unwrap().unwrap();
        assert_eq!(c.algorithm, ChecksumAlgorithm::Crc32);
        h.insert("x-amz-checksum-sha1", "DUoRhQ==".parse().unwrap());
        assert!(checksum_request(&h, None).is_err());
        let mut t = HeaderMap::new();
        t.insert("x-amz-trailer", "x-amz-checksum-crc32c".parse().unwrap());
        assert!(checksum_request(&t, None).unwrap().unwrap().trailer);
        let mut bad = HeaderMap::new();
        bad.insert("x-amz-checksum-crc32", "nope".parse().unwrap());
        assert!(checksum_request(&bad, None).is_err());
        let mut md5 = HeaderMap::new();
        md5.insert("content-md5", "bad".parse().unwrap());
        assert!(content_md5(&md5).is_err());
    }

    #[test]
    fn aws_chunked_is_not_stored_as_content_encoding() {
        let mut h = HeaderMap::new();
        h.insert("content-encoding", "aws-chunked".parse().unwrap());
        let stored = stored_headers(&h).unwrap();
        assert!(!stored.iter().any(|(k, _)| k == "content-encoding"));
        h.insert("content-encoding", "gzip, aws-chunked".parse().unwrap());
        let stored = stored_headers(&h).unwrap();
        assert!(stored.contains(&("content-encoding".to_string(), "gzip".to_string())));
        h.insert(
            "content-encoding",
            "aws-chunked, deflate, gzip".parse().unwrap(),
        );
        let stored = stored_headers(&h).unwrap();
        assert!(stored.contains(&("content-encoding".to_string(), "deflate, gzip".to_string())));
        h.insert("content-encoding", "deflate, gzip".parse().unwrap());
        let stored = stored_headers(&h).unwrap();
        assert!(stored.contains(&("content-encoding".to_string(), "deflate, gzip".to_string())));
    }

    #[test]
    fn metadata_limit() {
        let mut h = HeaderMap::new();
        h.insert("x-amz-meta-a", "1".parse().unwrap());
        assert_eq!(
            user_metadata(&h).unwrap(),
            vec![("a".to_string(), "1".to_string())]
        );
        h.insert("x-amz-meta-big", "x".repeat(2100).parse().unwrap());
        assert!(user_metadata(&h).is_err());
    }
}
