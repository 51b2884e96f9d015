//! Shared by the tests and the bench: an authorizer over an in-memory identity
//! store, its root caller, and IAM calls made as that root.

use std::sync::Arc;

use strongbox_authz::Authz;
use strongbox_core::db::Db;
use strongbox_core::{Caller, RequestMeta};
use strongbox_identity::{Identity, RootKey};
use strongbox_s3::acl::Acl;
use strongbox_s3::config::ObjectOwnership;
use strongbox_s3::BucketInfo;

pub const ROOT_KEY: &str = "AKIABENCHROOTKEY0001";
pub const BUCKET: &str = "bench-bucket";

/// An authorizer over a fresh in-memory identity store, and the root caller.
pub fn authz_and_root() -> (Authz, Caller) {
    let db = Arc::new(Db::open_in_memory().expect("in-memory database"));
    let root_key = RootKey {
        access_key_id: ROOT_KEY.into(),
        secret: "benchsecretbenchsecretbenchsecret0000000".into(),
    };
    let identity = Arc::new(
        Identity::open(
            db,
            "us-east-1",
            root_key,
            &strongbox_core::sealing::MasterKey::from_root(&[7u8; 32]),
        )
        .expect("identity"),
    );
    let root = identity
        .lookup_key(ROOT_KEY, None, jiff::Timestamp::now())
        .expect("root key")
        .caller;
    (Authz::without_log(identity), root)
}

/// Runs an IAM action as `root`; panics unless it succeeds. Returns the XML body.
pub fn iam(authz: &Authz, root: &Caller, list: &[(&str, &str)]) -> String {
    let params: Vec<(String, String)> = list
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let meta = RequestMeta::local("SETUP", "us-east-1");
    let reply = authz.identity().handle_iam(root, &meta, authz, &params);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Text of the first `<tag>` in `xml`.
pub fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let end = xml[start..].find(&format!("</{tag}>")).unwrap_or(0) + start;
    xml[start..end].to_string()
}

/// Creates IAM user `name` with an access key; returns its caller.
pub fn user(authz: &Authz, root: &Caller, name: &str) -> Caller {
    iam(authz, root, &[("Action", "CreateUser"), ("UserName", name)]);
    let body = iam(
        authz,
        root,
        &[("Action", "CreateAccessKey"), ("UserName", name)],
    );
    let key = xml_value(&body, "AccessKeyId");
    authz
        .identity()
        .lookup_key(&key, None, jiff::Timestamp::now())
        .expect("user key")
        .caller
}

/// Bucket [`BUCKET`] of `owner` as new buckets are (ACLs disabled), with `policy`.
pub fn bucket(owner: &str, policy: Option<String>) -> BucketInfo {
    BucketInfo {
        name: BUCKET.into(),
        owner_account: owner.into(),
        region: "us-east-1".into(),
        created: jiff::Timestamp::now(),
        versioning: strongbox_store::Versioning::Unversioned,
        policy,
        acl: Acl {
            owner_account: owner.into(),
            grants: Vec::new(),
        },
        object_ownership: Some(ObjectOwnership::BucketOwnerEnforced),
        public_access_block: None,
        account_public_access_block: None,
        tags: Vec::new(),
        encryption: None,
        object_lock: None,
    }
}
