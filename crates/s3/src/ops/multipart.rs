//! Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort,
//! ListParts, ListMultipartUploads.

use strongbox_store::{
    combine_crcs, ChecksumAlgorithm, ListQuery, Listed, NewObject, ObjectPart, Part, Segment,
    StoredChecksum, Upload,
};

use super::object::{
    check_write_conditions, composite_checksum, multipart_etag, new_object_acl,
    written_version_header,
};
use super::{
    check_key, checksum_request, owner_of, parse_max, quoted, receive_body, stored_headers,
    url_encode, user_metadata, Destination,
};
use crate::authorization::{authorize, authorize_upload, BucketInfo, Op};
use crate::bodies::RequestedPart;
use crate::completed::CompletedUpload;
use crate::dates::iso8601;
use crate::error::{Failure, S3Error, S3Result};
use crate::range::{parse_range, ByteRange};
use crate::response::Reply;
use crate::sse::{encryption_headers, StoredEncryption, CUSTOMER_HEADERS};
use crate::tags::{self, OBJECT_TAGS};
use crate::xml::{self, XmlWriter};
use crate::{S3Request, S3Service};
use strongbox_kms::object_crypto::ObjectCipher;

/// Every part but the last must be at least 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// The most parts an upload may have.
pub const MAX_PARTS: u32 = 10000;

fn part_number(req: &S3Request) -> Result<u32, S3Error> {
    req.query_value("partNumber")
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| {
            S3Error::InvalidArgument(
                "Part number must be an integer between 1 and 10000, inclusive".into(),
            )
        })
}

/// `x-amz-checksum-type` of CreateMultipartUpload. Amazon S3 User Guide,
/// "Checking object integrity": CRC64NVME supports only FULL_OBJECT, SHA1 and
/// SHA256 only COMPOSITE, CRC32 and CRC32C both (COMPOSITE by default).
fn upload_checksum_type(
    req: &S3Request,
    algorithm: Option<ChecksumAlgorithm>,
) -> Result<Option<String>, S3Error> {
    let requested = req
        .header("x-amz-checksum-type")
        .map(|t| t.trim().to_ascii_uppercase());
    let Some(a) = algorithm else {
        if requested.is_some() {
            return Err(S3Error::InvalidRequest(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.".into(),
            ));
        }
        return Ok(None);
    };
    let full_only = a == ChecksumAlgorithm::Crc64Nvme;
    let composite_only = matches!(a, ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256);
    let t = match requested.as_deref() {
        None if full_only => "FULL_OBJECT",
        None => "COMPOSITE",
        Some("FULL_OBJECT") if !composite_only => "FULL_OBJECT",
        Some("COMPOSITE") if !full_only => "COMPOSITE",
        Some(other) => {
            return Err(S3Error::InvalidRequest(format!(
                "The {other} checksum type cannot be used with the {} checksum algorithm.",
                a.as_str().to_ascii_lowercase()
            )))
        }
    };
    Ok(Some(t.to_string()))
}

/// The parts a CompleteMultipartUpload body names, in the order given.
async fn requested_parts(req: &mut S3Request) -> Result<Vec<RequestedPart>, S3Error> {
    let body = req
        .body
        .collect(super::MAX_XML_BODY, S3Error::MalformedXml)
        .await?;
    crate::bodies::parse_complete(&xml::parse(&body)?)
}

/// The object checksum a CompleteMultipartUpload declares in `x-amz-checksum-*`:
/// the base64 digest of the algorithm, with `-N` for a composite checksum.
/// A malformed value is 400 InvalidRequest, as on PutObject.
fn declared_object_checksum(
    req: &S3Request,
) -> Result<Option<(ChecksumAlgorithm, String)>, S3Error> {
    use base64::Engine as _;
    for a in ChecksumAlgorithm::ALL {
        let Some(value) = req.header(a.header()).map(str::trim) else {
            continue;
        };
        let digest = match value.rsplit_once('-') {
            Some((d, n)) if n.parse::<u32>().is_ok() => d,
            _ => value,
        };
        let well_formed = base64::engine::general_purpose::STANDARD
            .decode(digest)
            .is_ok_and(|raw| raw.len() == a.digest_len());
        if !well_formed {
            return Err(S3Error::InvalidRequest(format!(
                "Value for {} header is invalid.",
                a.header()
            )));
        }
        return Ok(Some((a, digest.to_string())));
    }
    Ok(None)
}

/// A declared object checksum must be the upload's algorithm and match the
/// checksum computed from the parts (400 BadDigest otherwise).
fn check_declared_checksum(
    declared: Option<(ChecksumAlgorithm, String)>,
    computed: Option<&StoredChecksum>,
) -> Result<(), S3Error> {
    let Some((algorithm, digest)) = declared else {
        return Ok(());
    };
    match computed {
        Some(c) if c.algorithm == algorithm => {
            let value = c.value.split('-').next().unwrap_or_default();
            if value != digest {
                return Err(S3Error::BadChecksum(algorithm.as_str()));
            }
            Ok(())
        }
        _ => Err(S3Error::InvalidRequest(format!(
            "The upload was created using {} checksum. The complete request must use the same checksum algorithm.",
            computed.map_or("no", |c| c.algorithm.as_str())
        ))),
    }
}

/// The answer of a completed upload (the first time and on a retry).
fn completion_reply(req: &S3Request, result: &CompletedUpload) -> Reply {
    let host = req.header("host").unwrap_or("localhost").to_string();
    let mut w = XmlWriter::new("CompleteMultipartUploadResult");
    w.elem(
        "Location",
        &format!(
            "http://{host}/{}/{}",
            result.bucket,
            url_encode(&result.key)
        ),
    )
    .elem("Bucket", &result.bucket)
    .elem("Key", &result.key)
    .elem("ETag", &quoted(&result.etag));
    if let Some(c) = &result.checksum {
        w.elem(c.algorithm.xml_name(), &c.value)
            .elem("ChecksumType", &c.kind);
    }
    let encryption = StoredEncryption::from_json(result.encryption.as_deref());
    encryption_headers(encryption.as_ref(), Reply::ok(), false)
        .opt_header("x-amz-version-id", result.version_id.as_deref())
        .xml(w.finish("CompleteMultipartUploadResult"))
}

/// A new part's stored encryption details (JSON), its cipher, and the upload's encryption.
type PartEncryption = (
    Option<String>,
    Option<ObjectCipher>,
    Option<StoredEncryption>,
);

impl S3Service {
    /// The upload named by `uploadId`, which must belong to this bucket and key.
    fn upload_of(&self, req: &S3Request, bucket: &str, key: &str) -> S3Result<Upload> {
        let id = req.query_value("uploadId").unwrap_or_default();
        match self.store.meta.get_upload(&id)? {
            Some(u) if u.bucket == bucket && u.key == key => Ok(u),
            _ => Err(Failure::from(S3Error::NoSuchUpload).with("UploadId", id)),
        }
    }

    /// The encryption of a new part: the upload's data key (SSE-KMS:
    /// kms:Decrypt as the caller, as AWS requires for UploadPart; SSE-C: the
    /// same customer key), a fresh nonce and the part's binding. Returns the
    /// part's stored details, its cipher, and the upload's encryption.
    fn part_encryption(
        &self,
        req: &S3Request,
        upload: &Upload,
        number: u32,
    ) -> Result<PartEncryption, S3Error> {
        let encryption = StoredEncryption::from_json(upload.encryption.as_deref());
        let customer_upload = encryption
            .as_ref()
            .is_some_and(StoredEncryption::is_customer);
        if customer_upload && crate::sse::customer_key(req, CUSTOMER_HEADERS)?.is_none() {
            return Err(S3Error::InvalidRequest(
                "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.".into(),
            ));
        }
        let customer = self.check_customer_key(req, encryption.as_ref(), CUSTOMER_HEADERS)?;
        let Some(enc) = encryption else {
            return Ok((None, None, None));
        };
        let key = self.data_key(req, &enc, customer.as_ref())?;
        let binding = strongbox_kms::s3::part_binding(&upload.upload_id, number);
        let (segment, cipher) = StoredEncryption::new_segment(&key, &binding)?;
        let json = serde_json::to_string(&segment).map_err(|_| {
            S3Error::InternalError("We encountered an internal error. Please try again.".into())
        })?;
        Ok((Some(json), Some(cipher), Some(enc)))
    }

    /// CreateMultipartUpload (POST ?uploads).
    pub(crate) fn create_multipart_upload(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        check_key(key)?;
        let bucket = self.load_bucket(req, bucket_name)?;
        let tags = match req.header("x-amz-tagging") {
            Some(v) => tags::parse_header(v)?,
            None => Vec::new(),
        };
        tags::validate(&tags, OBJECT_TAGS)?;
        let checksum = checksum_request(&req.headers, None)?;
        let checksum_type = upload_checksum_type(req, checksum.as_ref().map(|c| c.algorithm))?;
        authorize(
            req,
            Op::CreateMultipartUpload,
            Some(&bucket),
            Some(key),
            None,
        )?;
        let lock_headers = super::object_lock::lock_headers_of(req)?;
        let (owner, acl) = new_object_acl(req, &bucket)?;
        // One data key per upload (SSE-KMS: kms:GenerateDataKey as the caller).
        let encryption = self
            .new_encryption(req, &bucket, key)?
            .map(|n| n.stored.clone());
        let upload = Upload {
            upload_id: strongbox_core::ids::random_hex(32),
            bucket: bucket_name.to_string(),
            key: key.to_string(),
            initiated: jiff::Timestamp::now(),
            owner_account: owner,
            // ListParts/ListMultipartUploads API reference: the Initiator ID is the
            // canonical user id for an account (root), else the principal's ARN.
            initiator_arn: if req.caller.is_root() {
                req.access
                    .canonical_user_id(&req.caller.account_id)
                    .unwrap_or_else(|| req.caller.account_id.clone())
            } else {
                req.caller.arn.clone()
            },
            initiator_id: req
                .caller
                .user_name
                .clone()
                .unwrap_or_else(|| req.caller.account_id.clone()),
            headers: {
                let mut headers = stored_headers(&req.headers)?;
                if bucket.object_lock.is_none() && !lock_headers.is_empty() {
                    return Err(crate::object_lock::missing_configuration().into());
                }
                headers.extend(lock_headers);
                headers
            },
            metadata: user_metadata(&req.headers)?,
            tags,
            acl: Some(acl.to_json()),
            checksum_algorithm: checksum.as_ref().map(|c| c.algorithm),
            encryption: encryption.as_ref().map(StoredEncryption::to_json),
            checksum_type,
        };
        self.store.meta.create_upload(&upload)?;
        let mut w = XmlWriter::new("InitiateMultipartUploadResult");
        w.elem("Bucket", bucket_name)
            .elem("Key", key)
            .elem("UploadId", &upload.upload_id);
        let reply = Reply::ok().opt_header(
            "x-amz-checksum-algorithm",
            upload.checksum_algorithm.map(|a| a.as_str()),
        );
        let reply = reply.opt_header(
            "x-amz-checksum-type",
            upload.checksum_algorithm.map(|_| "COMPOSITE"),
        );
        let reply = encryption_headers(encryption.as_ref(), reply, true);
        Ok(reply.xml(w.finish("InitiateMultipartUploadResult")))
    }

    /// UploadPart.
    pub(crate) async fn upload_part(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let number = part_number(req)?;
        let upload = self.upload_of(req, bucket_name, key)?;
        authorize(req, Op::UploadPart, Some(&bucket), Some(key), None)?;
        let checksum = checksum_request(&req.headers, upload.checksum_algorithm)?;
        let (part_enc, cipher, encryption) = self.part_encryption(req, &upload, number)?;
        let (written, stored) = receive_body(
            self,
            req,
            checksum.as_ref(),
            super::MAX_PUT_SIZE,
            cipher,
            Destination::File,
        )
        .await?;
        let etag = crate::sse::etag(encryption.as_ref(), &written.md5);
        self.record_part(
            &upload,
            number,
            &written,
            etag.clone(),
            stored.clone(),
            part_enc,
        )?;
        let mut reply = Reply::ok().header("etag", &quoted(&etag));
        reply = encryption_headers(encryption.as_ref(), reply, false);
        if let Some(c) = &stored {
            reply = reply.header(c.algorithm.header(), &c.value);
        }
        Ok(reply)
    }

    fn record_part(
        &self,
        upload: &Upload,
        number: u32,
        written: &strongbox_store::WrittenFile,
        etag: String,
        checksum: Option<StoredChecksum>,
        encryption: Option<String>,
    ) -> Result<(), S3Error> {
        let part = Part {
            part_number: number,
            file_id: written.file_id.clone(),
            size: written.size,
            etag,
            last_modified: jiff::Timestamp::now(),
            checksum,
            encryption,
        };
        match self.store.meta.put_part(&upload.upload_id, &part) {
            Ok(replaced) => {
                self.store
                    .discard_files(&replaced.into_iter().collect::<Vec<_>>());
                Ok(())
            }
            Err(e) => {
                self.store
                    .discard_files(std::slice::from_ref(&written.file_id));
                Err(e.into())
            }
        }
    }

    /// UploadPartCopy (with `x-amz-copy-source-range`).
    pub(crate) async fn upload_part_copy(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let number = part_number(req)?;
        let upload = self.upload_of(req, bucket_name, key)?;
        let (_, source) = self.copy_source(req)?;
        authorize(req, Op::UploadPartCopy, Some(&bucket), Some(key), None)?;
        let (start, end) = match req.header("x-amz-copy-source-range") {
            None => (0, source.size),
            Some(r) => match parse_range(r) {
                Some(ByteRange::From { start, end: Some(end) }) => {
                    if end >= source.size {
                        return Err(S3Error::InvalidArgument(format!(
                            "Range specified is not valid for source object of size: {}",
                            source.size
                        ))
                        .into());
                    }
                    (start, end + 1)
                }
                _ => {
                    return Err(S3Error::InvalidArgument(
                        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy".into(),
                    )
                    .into())
                }
            },
        };
        if end - start > super::MAX_PUT_SIZE {
            return Err(S3Error::EntityTooLarge.into());
        }
        let (part_enc, cipher, encryption) = self.part_encryption(req, &upload, number)?;
        let written = self
            .copy_bytes(
                req,
                &source,
                start..end,
                upload.checksum_algorithm,
                cipher,
                Destination::File,
            )
            .await?;
        let etag = crate::sse::etag(encryption.as_ref(), &written.md5);
        let checksum = written.checksums.first().map(|(a, v)| StoredChecksum {
            algorithm: *a,
            value: v.clone(),
            kind: "FULL_OBJECT".into(),
        });
        self.record_part(
            &upload,
            number,
            &written,
            etag.clone(),
            checksum.clone(),
            part_enc,
        )?;
        let mut w = XmlWriter::new("CopyPartResult");
        w.elem("LastModified", &iso8601(jiff::Timestamp::now()))
            .elem("ETag", &quoted(&etag));
        if let Some(c) = &checksum {
            w.elem(c.algorithm.xml_name(), &c.value);
        }
        let reply = encryption_headers(encryption.as_ref(), Reply::ok(), false);
        Ok(reply.xml(w.finish("CopyPartResult")))
    }

    /// CompleteMultipartUpload.
    pub(crate) async fn complete_multipart_upload(
        &self,
        req: &mut S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let upload = match self.upload_of(req, bucket_name, key) {
            Ok(u) => u,
            Err(f) => return self.repeat_completion(req, &bucket, key, f).await,
        };
        let declared = declared_object_checksum(req)?;
        authorize(
            req,
            Op::CompleteMultipartUpload,
            Some(&bucket),
            Some(key),
            None,
        )?;
        let requested = requested_parts(req).await?;
        if requested.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(S3Error::InvalidPartOrder.into());
        }
        let (stored, _) = self
            .store
            .meta
            .list_parts(&upload.upload_id, 0, MAX_PARTS as usize)?;
        let mut chosen: Vec<&Part> = Vec::with_capacity(requested.len());
        for (n, etag, sums) in &requested {
            match stored.iter().find(|p| p.part_number == *n) {
                Some(p) if p.etag == *etag => {
                    // A part checksum named in the request must match the stored one.
                    let matches = sums.iter().all(|(a, v)| {
                        p.checksum
                            .as_ref()
                            .is_none_or(|c| c.algorithm != *a || c.value == *v)
                    });
                    if !matches {
                        return Err(S3Error::InvalidPart.into());
                    }
                    chosen.push(p)
                }
                _ => return Err(S3Error::InvalidPart.into()),
            }
        }
        if chosen[..chosen.len() - 1]
            .iter()
            .any(|p| p.size < MIN_PART_SIZE)
        {
            return Err(S3Error::EntityTooSmall.into());
        }
        check_write_conditions(self, req, bucket_name, key)?;
        let etags: Vec<String> = chosen.iter().map(|p| p.etag.clone()).collect();
        let etag = multipart_etag(&etags);
        let checksum = upload.checksum_algorithm.and_then(|a| {
            let values: Option<Vec<(String, u64)>> = chosen
                .iter()
                .map(|p| {
                    let c = p.checksum.as_ref().filter(|c| c.algorithm == a)?;
                    Some((c.value.clone(), p.size))
                })
                .collect();
            let values = values?;
            if upload.checksum_type.as_deref() == Some("FULL_OBJECT") {
                let value = combine_crcs(a, &values)?;
                Some(StoredChecksum {
                    algorithm: a,
                    value,
                    kind: "FULL_OBJECT".into(),
                })
            } else {
                let only: Vec<String> = values.into_iter().map(|(v, _)| v).collect();
                let value = composite_checksum(a, &only)?;
                Some(StoredChecksum {
                    algorithm: a,
                    value,
                    kind: "COMPOSITE".into(),
                })
            }
        });
        check_declared_checksum(declared, checksum.as_ref())?;
        let size: u64 = chosen.iter().map(|p| p.size).sum();
        // The object's encryption: the upload's data key and each part's nonce and binding.
        let mut encryption = StoredEncryption::from_json(upload.encryption.as_deref());
        if let Some(enc) = encryption.as_mut() {
            for p in &chosen {
                let segment = p
                    .encryption
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .ok_or_else(|| {
                        tracing::error!(part = p.part_number, "encrypted upload with a plain part");
                        S3Error::InternalError(
                            "We encountered an internal error. Please try again.".into(),
                        )
                    })?;
                enc.segments.push(segment);
            }
        }
        let (headers, lock) = super::object_lock::complete_lock(upload.headers.clone(), &bucket)?;
        let object = NewObject {
            bucket: bucket_name.to_string(),
            key: key.to_string(),
            delete_marker: false,
            size,
            etag: etag.clone(),
            last_modified: None,
            headers,
            metadata: upload.metadata.clone(),
            checksum: checksum.clone(),
            tags: upload.tags.clone(),
            owner_account: upload.owner_account.clone(),
            acl: upload.acl.clone(),
            segments: chosen
                .iter()
                .map(|p| Segment::file(p.file_id.clone(), p.size))
                .collect(),
            parts: chosen
                .iter()
                .map(|p| ObjectPart {
                    size: p.size,
                    checksum: p.checksum.clone(),
                })
                .collect(),
            encryption: encryption.as_ref().map(StoredEncryption::to_json),
            lock,
        };
        let outcome = self.store.meta.complete_upload(&upload.upload_id, object)?;
        self.store.discard_files(&outcome.obsolete_files);
        let result = CompletedUpload {
            bucket: bucket_name.to_string(),
            key: key.to_string(),
            etag,
            checksum,
            version_id: written_version_header(&outcome).map(str::to_string),
            encryption: encryption.as_ref().map(StoredEncryption::to_json),
        };
        let reply = completion_reply(req, &result);
        self.completed.remember(&upload.upload_id, result);
        Ok(reply)
    }

    /// A CompleteMultipartUpload whose upload is gone: a retry of a completion
    /// that succeeded answers the same result again (authorized as the first
    /// was, and only for the same parts); anything else is `missing`.
    async fn repeat_completion(
        &self,
        req: &mut S3Request,
        bucket: &BucketInfo,
        key: &str,
        missing: Failure,
    ) -> S3Result<Reply> {
        let id = req.query_value("uploadId").unwrap_or_default();
        let Some(result) = self
            .completed
            .get(&id)
            .filter(|r| r.bucket == bucket.name && r.key == key)
        else {
            return Err(missing);
        };
        authorize(
            req,
            Op::CompleteMultipartUpload,
            Some(bucket),
            Some(key),
            None,
        )?;
        let requested = requested_parts(req).await?;
        let etags: Vec<String> = requested.iter().map(|(_, e, _)| e.clone()).collect();
        if multipart_etag(&etags) != result.etag {
            return Err(missing);
        }
        Ok(completion_reply(req, &result))
    }

    /// AbortMultipartUpload.
    pub(crate) fn abort_multipart_upload(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let upload = self.upload_of(req, bucket_name, key)?;
        authorize_upload(
            req,
            Op::AbortMultipartUpload,
            &bucket,
            key,
            &upload.initiator_arn,
        )?;
        let files = self.store.meta.abort_upload(&upload.upload_id)?;
        self.store.discard_files(&files);
        Ok(Reply::no_content())
    }

    /// ListParts.
    pub(crate) fn list_parts(
        &self,
        req: &S3Request,
        bucket_name: &str,
        key: &str,
    ) -> S3Result<Reply> {
        let bucket = self.load_bucket(req, bucket_name)?;
        let upload = self.upload_of(req, bucket_name, key)?;
        authorize_upload(req, Op::ListParts, &bucket, key, &upload.initiator_arn)?;
        let max = parse_max(req, "max-parts")?;
        let marker: u32 = match req.query_value("part-number-marker") {
            None => 0,
            Some(m) => m.trim().parse().map_err(|_| {
                S3Error::InvalidArgument(
                    "Provided part-number-marker not an integer or within integer range".into(),
                )
            })?,
        };
        let (parts, truncated) = self.store.meta.list_parts(&upload.upload_id, marker, max)?;
        let (owner_id, owner_name) = owner_of(req, &upload.owner_account);
        let mut w = XmlWriter::new("ListPartsResult");
        w.elem("Bucket", bucket_name)
            .elem("Key", key)
            .elem("UploadId", &upload.upload_id);
        w.open("Initiator")
            .elem("ID", &upload.initiator_arn)
            .elem("DisplayName", &upload.initiator_id)
            .close("Initiator");
        w.open("Owner")
            .elem("ID", &owner_id)
            .elem("DisplayName", &owner_name)
            .close("Owner");
        w.elem("StorageClass", super::storage_class(&upload.headers));
        w.elem("PartNumberMarker", &marker.to_string());
        if let Some(last) = parts.last() {
            w.elem("NextPartNumberMarker", &last.part_number.to_string());
        }
        w.elem("MaxParts", &max.to_string())
            .elem("IsTruncated", if truncated { "true" } else { "false" });
        if let Some(a) = upload.checksum_algorithm {
            w.elem("ChecksumAlgorithm", a.as_str());
        }
        for p in &parts {
            w.open("Part")
                .elem("PartNumber", &p.part_number.to_string())
                .elem("LastModified", &iso8601(p.last_modified))
                .elem("ETag", &quoted(&p.etag))
                .elem("Size", &p.size.to_string());
            if let Some(c) = &p.checksum {
                w.elem(c.algorithm.xml_name(), &c.value);
            }
            w.close("Part");
        }
        Ok(Reply::ok().xml(w.finish("ListPartsResult")))
    }

    /// ListMultipartUploads.
    pub(crate) fn list_multipart_uploads(
        &self,
        req: &S3Request,
        bucket_name: &str,
    ) -> S3Result<Reply> {
        self.authorized_bucket(req, bucket_name, Op::ListMultipartUploads)?;
        let max = parse_max(req, "max-uploads")?;
        let url = match req.query_value("encoding-type").as_deref() {
            None => false,
            Some(e) if e.eq_ignore_ascii_case("url") => true,
            Some(_) => {
                return Err(S3Error::InvalidArgument(
                    "Invalid Encoding Method specified in Request".into(),
                )
                .into())
            }
        };
        let enc = |s: &str| if url { url_encode(s) } else { s.to_string() };
        let prefix = req.query_value("prefix").unwrap_or_default();
        let delimiter = req.query_value("delimiter").filter(|d| !d.is_empty());
        let key_marker = req.query_value("key-marker").filter(|s| !s.is_empty());
        let upload_marker = req
            .query_value("upload-id-marker")
            .filter(|s| !s.is_empty());
        let query = ListQuery {
            bucket: bucket_name.to_string(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            key_marker: key_marker.clone(),
            id_marker: upload_marker.clone(),
            max,
        };
        let page = self.store.meta.list_uploads(&query)?;
        let mut w = XmlWriter::new("ListMultipartUploadsResult");
        w.elem("Bucket", bucket_name)
            .elem("KeyMarker", &enc(key_marker.as_deref().unwrap_or("")))
            .elem("UploadIdMarker", upload_marker.as_deref().unwrap_or(""));
        match page.entries.last() {
            Some(Listed::Item(u)) if page.truncated => {
                w.elem("NextKeyMarker", &enc(&u.key))
                    .elem("NextUploadIdMarker", &u.upload_id);
            }
            Some(Listed::Prefix(p)) if page.truncated => {
                w.elem("NextKeyMarker", &enc(p));
            }
            _ => {}
        }
        w.elem("Prefix", &enc(&prefix));
        w.opt("Delimiter", delimiter.as_deref().map(enc).as_deref());
        w.elem("MaxUploads", &max.to_string());
        if url {
            w.elem("EncodingType", "url");
        }
        w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
        for e in &page.entries {
            if let Listed::Item(u) = e {
                let (owner_id, owner_name) = owner_of(req, &u.owner_account);
                w.open("Upload")
                    .elem("Key", &enc(&u.key))
                    .elem("UploadId", &u.upload_id);
                w.open("Initiator")
                    .elem("ID", &u.initiator_arn)
                    .elem("DisplayName", &u.initiator_id)
                    .close("Initiator");
                w.open("Owner")
                    .elem("ID", &owner_id)
                    .elem("DisplayName", &owner_name)
                    .close("Owner");
                w.elem("StorageClass", super::storage_class(&u.headers))
                    .elem("Initiated", &iso8601(u.initiated));
                if let Some(a) = u.checksum_algorithm {
                    w.elem("ChecksumAlgorithm", a.as_str());
                }
                w.close("Upload");
            }
        }
        for e in &page.entries {
            if let Listed::Prefix(p) = e {
                w.open("CommonPrefixes")
                    .elem("Prefix", &enc(p))
                    .close("CommonPrefixes");
            }
        }
        Ok(Reply::ok().xml(w.finish("ListMultipartUploadsResult")))
    }
}
