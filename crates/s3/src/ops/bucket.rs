//! ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation.

use strongbox_store::{Bucket, Versioning};

use crate::acl::{acl_from_headers, Acl};
use crate::authorization::{authorize, block_public_access_denied, BucketInfo, Ids, Op};
use crate::config::{ObjectOwnership, PublicAccessBlock};
use crate::dates::iso8601;
use crate::error::{S3Error, S3Result};
use crate::names::{plausible_region, valid_bucket_name};
use crate::response::Reply;
use crate::xml::{self, XmlWriter};
use crate::{S3Request, S3Service};

impl S3Service {
    /// ListBuckets: the caller account's buckets.
    pub(crate) fn list_buckets(&self, req: &S3Request) -> S3Result<Reply> {
        authorize(req, Op::ListBuckets, None, None, None)?;
        let account = req.caller.account_id.clone();
        let mut buckets = if account.is_empty() {
            Vec::new()
        } else {
            self.store.meta.list_buckets(&account)?
        };
        // ListBuckets API reference: optional prefix, bucket-region, max-buckets
        // (1-10000) and continuation-token.
        let prefix = req.query_value("prefix");
        let region = req.query_value("bucket-region");
        let max = match req.query_value("max-buckets") {
            None => usize::MAX,
            Some(m) => m
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|m| (1..=10000).contains(m))
                .ok_or_else(|| {
                    S3Error::InvalidArgument(
                        "max-buckets must be an integer between 1 and 10000".into(),
                    )
                })?,
        };
        let after = match req.query_value("continuation-token") {
            Some(t) => Some(super::list::decode_token(&t)?),
            None => None,
        };
        buckets.retain(|b| {
            prefix.as_deref().is_none_or(|p| b.name.starts_with(p))
                && region.as_deref().is_none_or(|r| b.region == r)
                && after.as_deref().is_none_or(|a| b.name.as_str() > a)
        });
        let truncated = buckets.len() > max;
        buckets.truncate(max);
        let (id, name) = super::owner_of(req, &account);
        let mut w = XmlWriter::new("ListAllMyBucketsResult");
        w.open("Owner")
            .elem("ID", &id)
            .elem("DisplayName", &name)
            .close("Owner");
        w.open("Buckets");
        for b in &buckets {
            w.open("Bucket")
                .elem("Name", &b.name)
                .elem("CreationDate", &iso8601(b.created))
                .elem("BucketRegion", &b.region)
                .close("Bucket");
        }
        w.close("Buckets");
        if truncated {
            if let Some(last) = buckets.last() {
                w.elem("ContinuationToken", &super::list::encode_token(&last.name));
            }
        }
        w.opt("Prefix", prefix.as_deref());
        Ok(Reply::ok().xml(w.finish("ListAllMyBucketsResult")))
    }

    /// CreateBucket.
    pub(crate) async fn create_bucket(&self, req: &mut S3Request, name: &str) -> S3Result<Reply> {
        if !valid_bucket_name(name) {
            return Err(S3Error::InvalidBucketName.into());
        }
        let body = req
            .body
            .collect(super::MAX_XML_BODY, S3Error::MalformedXml)
            .await?;
        let constraint = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let doc = xml::parse(&body)?;
            if doc.name != "CreateBucketConfiguration" {
                return Err(S3Error::MalformedXml.into());
            }
            doc.text_of("LocationConstraint")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        self.check_location(constraint.as_deref())?;
        let ownership = match req.header("x-amz-object-ownership") {
            Some(v) => Some(ObjectOwnership::parse(v).ok_or_else(|| {
                S3Error::InvalidArgument("Invalid x-amz-object-ownership header".into())
            })?),
            None => None,
        };
        let ownership = ownership.unwrap_or(ObjectOwnership::BucketOwnerEnforced);
        if req.caller.is_anonymous() {
            return Err(S3Error::AccessDenied("Access Denied".into()).into());
        }
        let account = req.caller.account_id.clone();
        let ids = Ids(req.access.as_ref());
        let requested_acl = acl_from_headers(&req.headers, &ids, &account, &account)?;
        let acl = requested_acl
            .clone()
            .unwrap_or_else(|| Acl::private(&ids, &account));
        let pab = PublicAccessBlock::all();
        // CreateBucket API reference, x-amz-bucket-object-lock-enabled: Object
        // Lock enables versioning, which can then never be suspended.
        let object_lock = match req
            .header("x-amz-bucket-object-lock-enabled")
            .map(str::trim)
        {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("true") => {
                Some(crate::object_lock::ObjectLockConfig::default())
            }
            Some(v) if v.eq_ignore_ascii_case("false") => None,
            Some(_) => {
                return Err(S3Error::InvalidArgument(
                    "Invalid x-amz-bucket-object-lock-enabled header".into(),
                )
                .into())
            }
        };
        let versioning = if object_lock.is_some() {
            Versioning::Enabled
        } else {
            Versioning::Unversioned
        };
        let prospective = BucketInfo {
            name: name.to_string(),
            owner_account: account.clone(),
            region: self.region.clone(),
            created: jiff::Timestamp::now(),
            versioning,
            policy: None,
            acl: acl.clone(),
            object_ownership: Some(ownership),
            public_access_block: Some(pab),
            account_public_access_block: self
                .store
                .meta
                .get_account_public_access_block(&account)?
                .and_then(|s| PublicAccessBlock::from_json(&s)),
            tags: Vec::new(),
            encryption: None,
            object_lock: object_lock.clone(),
        };
        authorize(req, Op::CreateBucket, Some(&prospective), None, None)?;
        if requested_acl.is_some()
            && ownership == ObjectOwnership::BucketOwnerEnforced
            && !crate::acl::allowed_when_acls_disabled(&req.headers, &acl, &req.canonical_user_id)
        {
            return Err(S3Error::InvalidBucketAclWithObjectOwnership.into());
        }
        if acl.is_public() && prospective.blocks_public_acls() {
            let resource = format!("arn:aws:s3:::{name}");
            return Err(block_public_access_denied(
                req,
                &prospective,
                "s3:CreateBucket",
                &resource,
                "BlockPublicAcls",
            )
            .into());
        }
        let bucket = Bucket {
            name: name.to_string(),
            owner_account: account.clone(),
            region: self.region.clone(),
            created: prospective.created,
            versioning,
            object_ownership: Some(ownership.as_str().to_string()),
            policy: None,
            acl: Some(acl.to_json()),
            public_access_block: Some(pab.to_json()),
            tags: None,
            encryption: None,
            object_lock: object_lock.as_ref().map(|c| c.to_json()),
            cors: None,
            logging: None,
        };
        match self.store.meta.create_bucket(&bucket) {
            Ok(()) => {}
            Err(strongbox_store::StoreError::BucketExists { owner_account }) => {
                if owner_account != account {
                    return Err(S3Error::BucketAlreadyExists.into());
                }
                // CreateBucket API reference: in us-east-1, re-creating a bucket you
                // own returns 200 OK (legacy); elsewhere 409 BucketAlreadyOwnedByYou.
                if self.region != "us-east-1" {
                    return Err(S3Error::BucketAlreadyOwnedByYou.into());
                }
            }
            Err(e) => return Err(S3Error::from(e).into()),
        }
        Ok(Reply::ok().header("location", &format!("/{name}")))
    }

    /// LocationConstraint rules (CreateBucket API reference and IllegalLocationConstraintException).
    fn check_location(&self, constraint: Option<&str>) -> Result<(), S3Error> {
        match constraint {
            None if self.region == "us-east-1" => Ok(()),
            None => Err(S3Error::IllegalLocationConstraint(
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
                    .into(),
            )),
            Some(c) if !plausible_region(c) || (c == "us-east-1") => Err(S3Error::InvalidLocationConstraint),
            Some(c) if c == self.region => Ok(()),
            Some(c) => Err(S3Error::IllegalLocationConstraint(format!(
                "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
            ))),
        }
    }

    /// DeleteBucket.
    pub(crate) fn delete_bucket(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::DeleteBucket)?;
        let files = self.store.meta.delete_bucket(name)?;
        self.store.discard_files(&files);
        self.access_logs.forget(name);
        Ok(Reply::no_content())
    }

    /// HeadBucket.
    pub(crate) fn head_bucket(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::HeadBucket)?;
        Ok(Reply::ok()
            .header("x-amz-bucket-region", &bucket.region)
            .header("x-amz-access-point-alias", "false"))
    }

    /// GetBucketLocation: empty for us-east-1.
    pub(crate) fn get_bucket_location(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let bucket = self.authorized_bucket(req, name, Op::GetBucketLocation)?;
        let doc = if bucket.region == "us-east-1" {
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{}\"/>",
                xml::S3_NS
            )
        } else {
            let mut w = XmlWriter::new("LocationConstraint");
            w.elem_text(&bucket.region);
            w.finish("LocationConstraint")
        };
        Ok(Reply::ok().xml(doc))
    }
}
