//! The authorizer remembers each caller's compiled policies per identity
//! snapshot: a change made through the IAM or Organizations API must decide the
//! very next request (issue 4: "never serves stale permissions after a change").

mod common;

use common::{authz_and_root, bucket, iam, user};
use strongbox_authz::Authz;
use strongbox_core::{Caller, RequestMeta};
use strongbox_s3::{BucketInfo, S3Access, S3Check};

const ALLOW_PUT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;
const DENY_PUT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#;

fn may_put(authz: &Authz, caller: &Caller, bucket: &BucketInfo) -> bool {
    let check = S3Check {
        action: "s3:PutObject",
        bucket: Some(bucket),
        key: Some("k"),
        object: None,
        context: Vec::new(),
        upload_initiator: None,
    };
    let meta = RequestMeta::local("REQ", "us-east-1");
    authz.authorize(caller, &meta, &check).is_ok()
}

#[test]
fn inline_policy_changes_decide_the_next_request() {
    let (authz, root) = authz_and_root();
    let alice = user(&authz, &root, "alice");
    let bucket = bucket(&root.account_id, None);
    assert!(!may_put(&authz, &alice, &bucket), "no policy yet");
    assert!(
        !may_put(&authz, &alice, &bucket),
        "and again, from the cache"
    );
    let put = |doc: &str| {
        iam(
            &authz,
            &root,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", "alice"),
                ("PolicyName", "p"),
                ("PolicyDocument", doc),
            ],
        )
    };
    put(ALLOW_PUT);
    assert!(
        may_put(&authz, &alice, &bucket),
        "allowed right after PutUserPolicy"
    );
    put(DENY_PUT);
    assert!(
        !may_put(&authz, &alice, &bucket),
        "the replaced document decides"
    );
    put(ALLOW_PUT);
    assert!(may_put(&authz, &alice, &bucket));
    iam(
        &authz,
        &root,
        &[
            ("Action", "DeleteUserPolicy"),
            ("UserName", "alice"),
            ("PolicyName", "p"),
        ],
    );
    assert!(
        !may_put(&authz, &alice, &bucket),
        "denied right after DeleteUserPolicy"
    );
}

#[test]
fn group_membership_and_managed_policy_versions_decide_the_next_request() {
    let (authz, root) = authz_and_root();
    let bob = user(&authz, &root, "bob");
    let bucket = bucket(&root.account_id, None);
    iam(
        &authz,
        &root,
        &[("Action", "CreateGroup"), ("GroupName", "writers")],
    );
    let body = iam(
        &authz,
        &root,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "writes"),
            ("PolicyDocument", ALLOW_PUT),
        ],
    );
    let arn = common::xml_value(&body, "Arn");
    iam(
        &authz,
        &root,
        &[
            ("Action", "AttachGroupPolicy"),
            ("GroupName", "writers"),
            ("PolicyArn", &arn),
        ],
    );
    assert!(!may_put(&authz, &bob, &bucket), "not in the group yet");
    iam(
        &authz,
        &root,
        &[
            ("Action", "AddUserToGroup"),
            ("GroupName", "writers"),
            ("UserName", "bob"),
        ],
    );
    assert!(may_put(&authz, &bob, &bucket), "allowed through the group");
    iam(
        &authz,
        &root,
        &[
            ("Action", "CreatePolicyVersion"),
            ("PolicyArn", &arn),
            ("PolicyDocument", DENY_PUT),
            ("SetAsDefault", "true"),
        ],
    );
    assert!(
        !may_put(&authz, &bob, &bucket),
        "the new default version decides"
    );
    iam(
        &authz,
        &root,
        &[
            ("Action", "SetDefaultPolicyVersion"),
            ("PolicyArn", &arn),
            ("VersionId", "v1"),
        ],
    );
    assert!(may_put(&authz, &bob, &bucket));
    iam(
        &authz,
        &root,
        &[
            ("Action", "RemoveUserFromGroup"),
            ("GroupName", "writers"),
            ("UserName", "bob"),
        ],
    );
    assert!(
        !may_put(&authz, &bob, &bucket),
        "denied once out of the group"
    );
}
