//! Bucket configuration used by authorization: ACLs, ownership controls,
//! Block Public Access (bucket and account), policies, encryption.

mod common;
use common::*;

const OWNER_CANON: &str = "canon111111111111";

fn pab(a: bool, b: bool, c: bool, d: bool) -> String {
    format!(
        "<PublicAccessBlockConfiguration><BlockPublicAcls>{a}</BlockPublicAcls><IgnorePublicAcls>{b}</IgnorePublicAcls><BlockPublicPolicy>{c}</BlockPublicPolicy><RestrictPublicBuckets>{d}</RestrictPublicBuckets></PublicAccessBlockConfiguration>"
    )
}

fn ownership(o: &str) -> String {
    format!("<OwnershipControls><Rule><ObjectOwnership>{o}</ObjectOwnership></Rule></OwnershipControls>")
}

#[tokio::test]
async fn new_bucket_defaults_and_acls_disabled() {
    let h = Harness::new("defaults");
    make_bucket(&h, "bkt").await;
    let p = req("GET", Some("bkt"), None)
        .q("publicAccessBlock", "")
        .send(&h)
        .await;
    p.assert(200);
    assert_eq!(p.all("BlockPublicAcls"), ["true"]);
    assert_eq!(p.all("RestrictPublicBuckets"), ["true"]);
    let o = req("GET", Some("bkt"), None)
        .q("ownershipControls", "")
        .send(&h)
        .await;
    assert_eq!(
        o.first("ObjectOwnership").as_deref(),
        Some("BucketOwnerEnforced")
    );
    let acl = req("GET", Some("bkt"), None).q("acl", "").send(&h).await;
    acl.assert(200);
    assert_eq!(acl.all("ID"), [OWNER_CANON, OWNER_CANON]);
    assert_eq!(acl.all("Permission"), ["FULL_CONTROL"]);
    assert!(acl.text().contains("xsi:type=\"CanonicalUser\""));

    // ACLs disabled: only bucket-owner-full-control / private are accepted.
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-acl", "public-read")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert_err(400, "AccessControlListNotSupported");
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-acl", "bucket-owner-full-control")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert(200);
    req("PUT", Some("bkt"), None)
        .q("acl", "")
        .h("x-amz-acl", "public-read")
        .send(&h)
        .await
        .assert_err(400, "AccessControlListNotSupported");
    req("PUT", Some("bkt"), None)
        .q("acl", "")
        .h("x-amz-acl", "private")
        .send(&h)
        .await
        .assert(200);
    let oacl = req("GET", Some("bkt"), Some("k"))
        .q("acl", "")
        .send(&h)
        .await;
    oacl.assert(200);
    assert_eq!(oacl.all("Permission"), ["FULL_CONTROL"]);
    req("PUT", Some("bk2"), None)
        .h("x-amz-acl", "public-read")
        .send(&h)
        .await
        .assert_err(400, "InvalidBucketAclWithObjectOwnership");
}

#[tokio::test]
async fn object_writer_public_acls_and_block_public_access() {
    let h = Harness::new("pab");
    req("PUT", Some("bkt"), None)
        .h("x-amz-object-ownership", "ObjectWriter")
        .send(&h)
        .await
        .assert(200);
    // The default Block Public Access refuses public ACLs with 403.
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-acl", "public-read")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    req("DELETE", Some("bkt"), None)
        .q("publicAccessBlock", "")
        .send(&h)
        .await
        .assert(204);
    req("GET", Some("bkt"), None)
        .q("publicAccessBlock", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchPublicAccessBlockConfiguration");
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-acl", "public-read")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert(200);
    let acl = req("GET", Some("bkt"), Some("k"))
        .q("acl", "")
        .send(&h)
        .await;
    assert_eq!(
        acl.all("URI"),
        ["http://acs.amazonaws.com/groups/global/AllUsers"]
    );
    assert_eq!(acl.all("Permission"), ["FULL_CONTROL", "READ"]);

    // Grant headers, and an AccessControlPolicy body.
    req("PUT", Some("bkt"), Some("k"))
        .q("acl", "")
        .h("x-amz-grant-read", "id=\"canon222222222222\"")
        .send(&h)
        .await
        .assert(200);
    let acl = req("GET", Some("bkt"), Some("k"))
        .q("acl", "")
        .send(&h)
        .await;
    assert_eq!(acl.all("ID"), [OWNER_CANON, "canon222222222222"]);
    req("PUT", Some("bkt"), Some("k"))
        .q("acl", "")
        .h("x-amz-grant-read", "id=\"nobody\"")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("PUT", Some("bkt"), Some("k"))
        .q("acl", "")
        .h("x-amz-grant-read", "emailAddress=\"a@b.c\"")
        .send(&h)
        .await
        .assert_err(400, "UnresolvableGrantByEmailAddress");
    let body = acl.text();
    req("PUT", Some("bkt"), None)
        .q("acl", "")
        .body(body)
        .send(&h)
        .await
        .assert(200);
    req("PUT", Some("bkt"), None)
        .q("acl", "")
        .body("<AccessControlPolicy>")
        .send(&h)
        .await
        .assert_err(400, "MalformedACLError");

    // Account-level Block Public Access (S3 Control) applies to every bucket of the account.
    let path = "/v20180820/configuration/publicAccessBlock";
    let ctl = |m: &str| req(m, None, Some(path)).h("x-amz-account-id", OWNER);
    ctl("GET")
        .control(&h)
        .await
        .assert_err(404, "NoSuchPublicAccessBlockConfiguration");
    ctl("PUT")
        .body(pab(true, false, false, false))
        .control(&h)
        .await
        .assert(200);
    let got = ctl("GET").control(&h).await;
    got.assert(200);
    assert!(got.text().contains("awss3control.amazonaws.com"));
    assert_eq!(got.all("BlockPublicAcls"), ["true"]);
    assert_eq!(got.all("IgnorePublicAcls"), ["false"]);
    req("PUT", Some("bkt"), Some("k2"))
        .h("x-amz-acl", "public-read")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    req("PUT", Some("bkt"), Some("k"))
        .q("acl", "")
        .h("x-amz-acl", "public-read-write")
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    req("GET", None, Some(path))
        .h("x-amz-account-id", OTHER)
        .control(&h)
        .await
        .assert_err(403, "AccessDenied");
    req("GET", None, Some(path))
        .control(&h)
        .await
        .assert_err(400, "InvalidRequest");
    req("DELETE", None, None)
        .h("x-amz-account-id", OWNER)
        .control(&h)
        .await
        .assert(204);
    req("GET", None, Some("/v20180820/jobs"))
        .h("x-amz-account-id", OWNER)
        .control(&h)
        .await
        .assert_err(501, "NotImplemented");
    req("PUT", Some("bkt"), Some("k2"))
        .h("x-amz-acl", "public-read")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert(200);
}

#[tokio::test]
async fn ownership_controls() {
    let h = Harness::new("ownership");
    make_bucket(&h, "bkt").await;
    req("PUT", Some("bkt"), None)
        .q("ownershipControls", "")
        .body(ownership("Nobody"))
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");
    req("PUT", Some("bkt"), None)
        .q("ownershipControls", "")
        .body(ownership("BucketOwnerPreferred"))
        .send(&h)
        .await
        .assert(200);
    req("DELETE", Some("bkt"), None)
        .q("publicAccessBlock", "")
        .send(&h)
        .await
        .assert(204);
    req("PUT", Some("bkt"), None)
        .q("acl", "")
        .h("x-amz-acl", "public-read")
        .send(&h)
        .await
        .assert(200);
    // A public bucket ACL prevents enforcing bucket ownership.
    req("PUT", Some("bkt"), None)
        .q("ownershipControls", "")
        .body(ownership("BucketOwnerEnforced"))
        .send(&h)
        .await
        .assert_err(400, "InvalidBucketAclWithObjectOwnership");
    req("PUT", Some("bkt"), None)
        .q("acl", "")
        .h("x-amz-acl", "private")
        .send(&h)
        .await
        .assert(200);
    req("PUT", Some("bkt"), None)
        .q("ownershipControls", "")
        .body(ownership("BucketOwnerEnforced"))
        .send(&h)
        .await
        .assert(200);
    req("DELETE", Some("bkt"), None)
        .q("ownershipControls", "")
        .send(&h)
        .await
        .assert(204);
    req("GET", Some("bkt"), None)
        .q("ownershipControls", "")
        .send(&h)
        .await
        .assert_err(404, "OwnershipControlsNotFoundError");
}

#[tokio::test]
async fn bucket_policy() {
    let h = Harness::new("policy");
    make_bucket(&h, "bkt").await;
    req("GET", Some("bkt"), None)
        .q("policy", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchBucketPolicy");
    req("GET", Some("bkt"), None)
        .q("policyStatus", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchBucketPolicy");
    req("PUT", Some("bkt"), None)
        .q("policy", "")
        .body("not json")
        .send(&h)
        .await
        .assert_err(400, "MalformedPolicy");
    let private = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}"#;
    req("PUT", Some("bkt"), None)
        .q("policy", "")
        .body(private)
        .send(&h)
        .await
        .assert(204);
    let got = req("GET", Some("bkt"), None).q("policy", "").send(&h).await;
    got.assert(200);
    assert_eq!(got.text(), private);
    let status = req("GET", Some("bkt"), None)
        .q("policyStatus", "")
        .send(&h)
        .await;
    assert_eq!(status.first("IsPublic").as_deref(), Some("false"));
    // Unknown principals are refused.
    let ghost = private.replace("222222222222:root", "111111111111:user/ghost");
    req("PUT", Some("bkt"), None)
        .q("policy", "")
        .body(ghost)
        .send(&h)
        .await
        .assert_err(400, "MalformedPolicy");
    // A resource in another bucket is refused.
    let wrong = private.replace("arn:aws:s3:::bkt/*", "arn:aws:s3:::other/*");
    req("PUT", Some("bkt"), None)
        .q("policy", "")
        .body(wrong)
        .send(&h)
        .await
        .assert_err(400, "MalformedPolicy");
    // BlockPublicPolicy (on by default) refuses a public policy.
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}"#;
    req("PUT", Some("bkt"), None)
        .q("policy", "")
        .body(public)
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    req("PUT", Some("bkt"), None)
        .q("publicAccessBlock", "")
        .body(pab(true, true, false, false))
        .send(&h)
        .await
        .assert(200);
    req("PUT", Some("bkt"), None)
        .q("policy", "")
        .body(public)
        .send(&h)
        .await
        .assert(204);
    let status = req("GET", Some("bkt"), None)
        .q("policyStatus", "")
        .send(&h)
        .await;
    assert_eq!(status.first("IsPublic").as_deref(), Some("true"));
    req("DELETE", Some("bkt"), None)
        .q("policy", "")
        .send(&h)
        .await
        .assert(204);
    req("GET", Some("bkt"), None)
        .q("policy", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchBucketPolicy");
    req("GET", Some("bkt"), None)
        .q("policy", "")
        .by(OTHER)
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
}

#[tokio::test]
async fn bucket_encryption_config() {
    let h = Harness::new("encryption");
    make_bucket(&h, "bkt").await;
    req("GET", Some("bkt"), None)
        .q("encryption", "")
        .send(&h)
        .await
        .assert_err(404, "ServerSideEncryptionConfigurationNotFoundError");
    let cfg = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>";
    req("PUT", Some("bkt"), None)
        .q("encryption", "")
        .body(cfg)
        .send(&h)
        .await
        .assert(200);
    let got = req("GET", Some("bkt"), None)
        .q("encryption", "")
        .send(&h)
        .await;
    assert_eq!(got.first("SSEAlgorithm").as_deref(), Some("aws:kms"));
    assert_eq!(got.first("KMSMasterKeyID").as_deref(), Some("alias/k"));
    assert_eq!(got.first("BucketKeyEnabled").as_deref(), Some("true"));
    req("PUT", Some("bkt"), None)
        .q("encryption", "")
        .body("<ServerSideEncryptionConfiguration/>")
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");
    req("PUT", Some("bkt"), None)
        .q("encryption", "")
        .send(&h)
        .await
        .assert_err(400, "MissingRequestBodyError");
    req("DELETE", Some("bkt"), None)
        .q("encryption", "")
        .send(&h)
        .await
        .assert(204);
    req("GET", Some("bkt"), None)
        .q("encryption", "")
        .send(&h)
        .await
        .assert_err(404, "ServerSideEncryptionConfigurationNotFoundError");
}
