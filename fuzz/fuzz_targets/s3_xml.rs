//! The S3 XML request bodies: the XML reader itself, then every body parser
//! on what it reads (CompleteMultipartUpload, DeleteObjects, Tagging, ACL,
//! versioning, ownership controls, Block Public Access, default encryption,
//! Object Lock configuration, retention and legal hold). None may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_fuzz::{now, Ids, ACCOUNT};
use strongbox_s3::{acl, bodies, config, object_lock, tags, xml, S3Error};

fuzz_target!(|data: &[u8]| {
    let _ = xml::parse_with(data, || S3Error::MalformedAcl);
    let Ok(doc) = xml::parse(data) else { return };
    let _ = bodies::parse_complete(&doc);
    let _ = bodies::parse_delete(&doc);
    if let Ok(t) = tags::parse_xml(&doc) {
        let _ = tags::validate(&t, tags::OBJECT_TAGS);
        let _ = tags::to_xml(&t);
    }
    if let Ok(a) = acl::acl_from_xml(&doc, &Ids, ACCOUNT) {
        let _ = (a.is_public(), a.to_json(), a.to_xml(&Ids));
    }
    let _ = config::parse_versioning(&doc);
    let _ = config::parse_ownership(&doc);
    let _ = config::PublicAccessBlock::parse(&doc);
    let _ = config::EncryptionConfig::parse(&doc);
    let _ = object_lock::ObjectLockConfig::from_xml(&doc);
    let _ = object_lock::retention_from_xml(&doc, now());
    let _ = object_lock::legal_hold_from_xml(&doc);
});
