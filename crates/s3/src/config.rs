//! Bucket configuration documents: versioning, ownership controls, Block
//! Public Access and default encryption (parsing, validation, XML).

use crate::error::S3Error;
use crate::xml::{Element, XmlWriter};

/// `ObjectOwnership` of ownership controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// ACLs are disabled; the bucket owner owns every object.
    BucketOwnerEnforced,
    /// The bucket owner owns objects uploaded with `bucket-owner-full-control`.
    BucketOwnerPreferred,
    /// The uploading account owns the object.
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn parse(s: &str) -> Option<ObjectOwnership> {
        match s.trim() {
            "BucketOwnerEnforced" => Some(ObjectOwnership::BucketOwnerEnforced),
            "BucketOwnerPreferred" => Some(ObjectOwnership::BucketOwnerPreferred),
            "ObjectWriter" => Some(ObjectOwnership::ObjectWriter),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }
}

/// Parses an `OwnershipControls` body.
pub fn parse_ownership(doc: &Element) -> Result<ObjectOwnership, S3Error> {
    if doc.name != "OwnershipControls" {
        return Err(S3Error::MalformedXml);
    }
    let rules: Vec<&Element> = doc.children_named("Rule").collect();
    if rules.len() != 1 {
        return Err(S3Error::MalformedXml);
    }
    rules[0]
        .text_of("ObjectOwnership")
        .and_then(ObjectOwnership::parse)
        .ok_or(S3Error::MalformedXml)
}

pub fn ownership_xml(o: ObjectOwnership) -> String {
    let mut w = XmlWriter::new("OwnershipControls");
    w.open("Rule")
        .elem("ObjectOwnership", o.as_str())
        .close("Rule");
    w.finish("OwnershipControls")
}

/// A Block Public Access configuration (bucket or account).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four settings on (the default of new buckets).
    pub fn all() -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }

    /// Parses a `PublicAccessBlockConfiguration` body; absent settings are false.
    pub fn parse(doc: &Element) -> Result<PublicAccessBlock, S3Error> {
        if doc.name != "PublicAccessBlockConfiguration" {
            return Err(S3Error::MalformedXml);
        }
        let flag = |name: &str| -> Result<bool, S3Error> {
            match doc.text_of(name).map(str::trim) {
                None => Ok(false),
                Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
                Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
                Some(_) => Err(S3Error::MalformedXml),
            }
        };
        Ok(PublicAccessBlock {
            block_public_acls: flag("BlockPublicAcls")?,
            ignore_public_acls: flag("IgnorePublicAcls")?,
            block_public_policy: flag("BlockPublicPolicy")?,
            restrict_public_buckets: flag("RestrictPublicBuckets")?,
        })
    }

    /// The document in namespace `ns` (S3 or S3 Control).
    pub fn to_xml(&self, ns: &str) -> String {
        let b = |v: bool| if v { "true" } else { "false" };
        let mut w = XmlWriter::with_ns("PublicAccessBlockConfiguration", ns);
        w.elem("BlockPublicAcls", b(self.block_public_acls))
            .elem("IgnorePublicAcls", b(self.ignore_public_acls))
            .elem("BlockPublicPolicy", b(self.block_public_policy))
            .elem("RestrictPublicBuckets", b(self.restrict_public_buckets));
        w.finish("PublicAccessBlockConfiguration")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<PublicAccessBlock> {
        serde_json::from_str(s).ok()
    }
}

/// Default encryption of a bucket (stored; applied by issue 6).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EncryptionConfig {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub algorithm: String,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

impl EncryptionConfig {
    /// Parses a `ServerSideEncryptionConfiguration` body.
    pub fn parse(doc: &Element) -> Result<EncryptionConfig, S3Error> {
        if doc.name != "ServerSideEncryptionConfiguration" {
            return Err(S3Error::MalformedXml);
        }
        let rules: Vec<&Element> = doc.children_named("Rule").collect();
        if rules.len() != 1 {
            return Err(S3Error::MalformedXml);
        }
        let rule = rules[0];
        let default = rule
            .child("ApplyServerSideEncryptionByDefault")
            .ok_or(S3Error::MalformedXml)?;
        let algorithm = default
            .text_of("SSEAlgorithm")
            .ok_or(S3Error::MalformedXml)?
            .trim()
            .to_string();
        if !["AES256", "aws:kms", "aws:kms:dsse"].contains(&algorithm.as_str()) {
            return Err(S3Error::MalformedXml);
        }
        let kms_key_id = default
            .text_of("KMSMasterKeyID")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if kms_key_id.is_some() && algorithm == "AES256" {
            return Err(S3Error::InvalidArgument(
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse".into(),
            ));
        }
        let bucket_key_enabled = match rule.text_of("BucketKeyEnabled").map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(S3Error::MalformedXml),
        };
        Ok(EncryptionConfig {
            algorithm,
            kms_key_id,
            bucket_key_enabled,
        })
    }

    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new("ServerSideEncryptionConfiguration");
        w.open("Rule").open("ApplyServerSideEncryptionByDefault");
        w.elem("SSEAlgorithm", &self.algorithm)
            .opt("KMSMasterKeyID", self.kms_key_id.as_deref());
        w.close("ApplyServerSideEncryptionByDefault");
        w.elem(
            "BucketKeyEnabled",
            if self.bucket_key_enabled {
                "true"
            } else {
                "false"
            },
        );
        w.close("Rule");
        w.finish("ServerSideEncryptionConfiguration")
    }
}

/// Parses a `VersioningConfiguration` body: `Some(true)` Enabled, `Some(false)` Suspended.
pub fn parse_versioning(doc: &Element) -> Result<Option<bool>, S3Error> {
    if doc.name != "VersioningConfiguration" {
        return Err(S3Error::MalformedXml);
    }
    match doc.text_of("Status").map(str::trim) {
        None => Ok(None),
        Some("Enabled") => Ok(Some(true)),
        Some("Suspended") => Ok(Some(false)),
        Some(_) => Err(S3Error::MalformedXml),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::parse;

    #[test]
    fn ownership() {
        let d = parse(b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>").unwrap();
        assert_eq!(parse_ownership(&d).unwrap(), ObjectOwnership::ObjectWriter);
        let bad = parse(b"<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>").unwrap();
        assert!(parse_ownership(&bad).is_err());
        let round = parse(ownership_xml(ObjectOwnership::BucketOwnerEnforced).as_bytes()).unwrap();
        assert_eq!(
            parse_ownership(&round).unwrap(),
            ObjectOwnership::BucketOwnerEnforced
        );
    }

    #[test]
    fn public_access_block() {
        let d = parse(b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>").unwrap();
        let p = PublicAccessBlock::parse(&d).unwrap();
        assert!(p.block_public_acls && !p.block_public_policy);
        let round = parse(
            PublicAccessBlock::all()
                .to_xml(crate::xml::S3_NS)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            PublicAccessBlock::parse(&round).unwrap(),
            PublicAccessBlock::all()
        );
        let bad = parse(b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>").unwrap();
        assert!(PublicAccessBlock::parse(&bad).is_err());
    }

    #[test]
    fn encryption_and_versioning() {
        let d = parse(b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>").unwrap();
        let e = EncryptionConfig::parse(&d).unwrap();
        assert_eq!(e.kms_key_id.as_deref(), Some("k"));
        assert!(e.bucket_key_enabled);
        assert_eq!(
            EncryptionConfig::parse(&parse(e.to_xml().as_bytes()).unwrap()).unwrap(),
            e
        );
        let bad = parse(b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>").unwrap();
        assert!(EncryptionConfig::parse(&bad).is_err());
        let v =
            parse(b"<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>")
                .unwrap();
        assert_eq!(parse_versioning(&v).unwrap(), Some(false));
        let v = parse(b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>")
            .unwrap();
        assert!(parse_versioning(&v).is_err());
    }
}
