//! The records the store keeps.

use jiff::Timestamp;

use crate::checksum::ChecksumAlgorithm;

/// A bucket's versioning state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// Versioning was never enabled.
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    pub fn as_db(self) -> Option<&'static str> {
        match self {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some("Enabled"),
            Versioning::Suspended => Some("Suspended"),
        }
    }

    pub fn from_db(s: Option<&str>) -> Versioning {
        match s {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => Versioning::Unversioned,
        }
    }
}

/// A bucket and its configuration. Configuration documents are opaque text
/// here (the S3 layer chooses their encoding).
#[derive(Clone, Debug)]
pub struct Bucket {
    pub name: String,
    pub owner_account: String,
    pub region: String,
    pub created: Timestamp,
    pub versioning: Versioning,
    /// `BucketOwnerEnforced`, `BucketOwnerPreferred`, `ObjectWriter`; `None` when deleted.
    pub object_ownership: Option<String>,
    pub policy: Option<String>,
    pub acl: Option<String>,
    pub public_access_block: Option<String>,
    pub tags: Option<String>,
    pub encryption: Option<String>,
    /// The Object Lock configuration (JSON); `None` when Object Lock is not enabled.
    pub object_lock: Option<String>,
    /// The CORS configuration (JSON); `None` when the bucket has none.
    pub cors: Option<String>,
    /// The server access logging configuration (JSON); `None` when logging is off.
    pub logging: Option<String>,
}

impl Bucket {
    /// An unconfigured bucket (no policy, ACL, ownership controls, …).
    pub fn new(name: &str, owner_account: &str, region: &str, created: Timestamp) -> Bucket {
        Bucket {
            name: name.to_string(),
            owner_account: owner_account.to_string(),
            region: region.to_string(),
            created,
            versioning: Versioning::Unversioned,
            object_ownership: None,
            policy: None,
            acl: None,
            public_access_block: None,
            tags: None,
            encryption: None,
            object_lock: None,
            cors: None,
            logging: None,
        }
    }
}

/// A bucket configuration column that is set or removed as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketField {
    ObjectOwnership,
    Policy,
    Acl,
    PublicAccessBlock,
    Tags,
    Encryption,
    ObjectLock,
    Cors,
    Logging,
}

impl BucketField {
    pub(crate) fn column(self) -> &'static str {
        match self {
            BucketField::ObjectOwnership => "object_ownership",
            BucketField::Policy => "policy",
            BucketField::Acl => "acl",
            BucketField::PublicAccessBlock => "public_access_block",
            BucketField::Tags => "tags",
            BucketField::Encryption => "encryption",
            BucketField::ObjectLock => "object_lock",
            BucketField::Cors => "cors",
            BucketField::Logging => "logging",
        }
    }
}

/// One run of an object's bytes (a single PUT has one; a multipart object one
/// per part): a data file, or for a small object its stored bytes inline in the
/// metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The data file (empty when the bytes are inline).
    pub file_id: String,
    /// Plaintext length.
    pub length: u64,
    /// The stored bytes (ciphertext when encrypted) of a small object, kept in
    /// the metadata row instead of a file of its own.
    pub inline: Option<bytes::Bytes>,
}

impl Segment {
    /// A segment stored in data file `file_id`.
    pub fn file(file_id: impl Into<String>, length: u64) -> Segment {
        Segment {
            file_id: file_id.into(),
            length,
            inline: None,
        }
    }
}

/// A stored checksum of a whole object or a part.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredChecksum {
    pub algorithm: ChecksumAlgorithm,
    /// Base64 value (for composite checksums with the `-N` suffix).
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub kind: String,
}

/// One part of a multipart object: its size and the checksum it was uploaded with.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "StoredPart")]
pub struct ObjectPart {
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
}

/// How parts are kept in the `parts` column: a bare size (rows written before
/// part checksums were kept) or the whole record.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum StoredPart {
    Size(u64),
    Full {
        size: u64,
        #[serde(default)]
        checksum: Option<StoredChecksum>,
    },
}

impl From<StoredPart> for ObjectPart {
    fn from(p: StoredPart) -> ObjectPart {
        match p {
            StoredPart::Size(size) => ObjectPart {
                size,
                checksum: None,
            },
            StoredPart::Full { size, checksum } => ObjectPart { size, checksum },
        }
    }
}

/// One version of an object (or a delete marker).
#[derive(Clone, Debug)]
pub struct ObjectVersion {
    pub row_id: i64,
    pub bucket: String,
    pub key: String,
    /// `null` for the null version.
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    /// Hex MD5 (or `md5-of-md5s-N`), without quotes.
    pub etag: String,
    pub last_modified: Timestamp,
    /// Stored response headers (lower-case names): content-type, cache-control, …
    pub headers: Vec<(String, String)>,
    /// `x-amz-meta-*` values (names without the prefix, lower-case).
    pub metadata: Vec<(String, String)>,
    pub checksum: Option<StoredChecksum>,
    pub tags: Vec<(String, String)>,
    pub owner_account: String,
    pub acl: Option<String>,
    /// The parts of a multipart object (empty for a single PUT).
    pub parts: Vec<ObjectPart>,
    /// Placeholder for server-side encryption details.
    pub encryption: Option<String>,
    /// Object Lock retention and legal hold of this version (JSON), if any.
    pub lock: Option<String>,
}

impl ObjectVersion {
    /// The stored value of a response header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An object version to store.
#[derive(Clone, Debug, Default)]
pub struct NewObject {
    pub bucket: String,
    pub key: String,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub last_modified: Option<Timestamp>,
    pub headers: Vec<(String, String)>,
    pub metadata: Vec<(String, String)>,
    pub checksum: Option<StoredChecksum>,
    pub tags: Vec<(String, String)>,
    pub owner_account: String,
    pub acl: Option<String>,
    pub segments: Vec<Segment>,
    /// The parts of a multipart object (empty for a single PUT).
    pub parts: Vec<ObjectPart>,
    pub encryption: Option<String>,
    /// Object Lock retention and legal hold (JSON), if any.
    pub lock: Option<String>,
}

impl NewObject {
    /// A delete marker owned by `owner_account`.
    pub fn delete_marker(bucket: &str, key: &str, owner_account: &str) -> NewObject {
        NewObject {
            bucket: bucket.to_string(),
            key: key.to_string(),
            delete_marker: true,
            owner_account: owner_account.to_string(),
            ..NewObject::default()
        }
    }
}

/// What storing a version did.
#[derive(Clone, Debug)]
pub struct PutOutcome {
    pub version_id: String,
    pub versioning: Versioning,
    pub last_modified: Timestamp,
    /// Data files no longer referenced; remove them.
    pub obsolete_files: Vec<String>,
}

/// What a delete did.
#[derive(Clone, Debug, Default)]
pub struct DeleteOutcome {
    /// The version removed, or the delete marker created.
    pub version_id: Option<String>,
    /// Whether a delete marker was created, or the removed version was one.
    pub delete_marker: bool,
    pub obsolete_files: Vec<String>,
}

/// A multipart upload in progress.
#[derive(Clone, Debug)]
pub struct Upload {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated: Timestamp,
    pub owner_account: String,
    /// ARN and id of the initiating principal.
    pub initiator_arn: String,
    pub initiator_id: String,
    pub headers: Vec<(String, String)>,
    pub metadata: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub acl: Option<String>,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub encryption: Option<String>,
    /// `COMPOSITE` or `FULL_OBJECT` (with a checksum algorithm).
    pub checksum_type: Option<String>,
}

/// An uploaded part.
#[derive(Clone, Debug)]
pub struct Part {
    pub part_number: u32,
    pub file_id: String,
    pub size: u64,
    /// Hex MD5 without quotes.
    pub etag: String,
    pub last_modified: Timestamp,
    pub checksum: Option<StoredChecksum>,
    /// Server-side encryption details of this part (opaque to the store).
    pub encryption: Option<String>,
}

/// One entry of a listing: an item, or a common prefix rolled up at the delimiter.
#[derive(Clone, Debug)]
pub enum Listed<T> {
    Item(T),
    Prefix(String),
}

/// A listing page.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub entries: Vec<Listed<T>>,
    pub truncated: bool,
}

/// Which keys a listing covers.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Start after this key (exclusive).
    pub key_marker: Option<String>,
    /// Within `key_marker`, start after this version id / upload id.
    pub id_marker: Option<String>,
    pub max: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_old_and_new_rows() {
        let old: Vec<ObjectPart> = serde_json::from_str("[5242880,3]").unwrap();
        assert_eq!(
            old[1],
            ObjectPart {
                size: 3,
                checksum: None
            }
        );
        let part = ObjectPart {
            size: 7,
            checksum: Some(StoredChecksum {
                algorithm: ChecksumAlgorithm::Crc32,
                value: "AAAAAA==".into(),
                kind: "FULL_OBJECT".into(),
            }),
        };
        let text = serde_json::to_string(&vec![part.clone()]).unwrap();
        let back: Vec<ObjectPart> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, vec![part]);
    }
}
