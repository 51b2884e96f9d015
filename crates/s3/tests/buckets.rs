//! Bucket operations through S3Service::handle.

mod common;
use common::*;

#[tokio::test]
async fn bucket_lifecycle() {
    let h = Harness::new("buckets");
    req("PUT", Some("Bad_Name"), None)
        .send(&h)
        .await
        .assert_err(400, "InvalidBucketName");
    make_bucket(&h, "alpha").await;
    // us-east-1: re-creating your own bucket is 200 (legacy behaviour).
    make_bucket(&h, "alpha").await;
    req("PUT", Some("alpha"), None)
        .by(OTHER)
        .send(&h)
        .await
        .assert_err(409, "BucketAlreadyExists");
    make_bucket(&h, "beta").await;
    req("PUT", Some("gamma"), None)
        .by(OTHER)
        .send(&h)
        .await
        .assert(200);

    let list = req("GET", None, None).send(&h).await;
    list.assert(200);
    assert_eq!(list.all("Name"), ["alpha", "beta"]);
    assert_eq!(list.first("ID").as_deref(), Some("canon111111111111"));
    assert_eq!(
        req("GET", None, None).by(OTHER).send(&h).await.all("Name"),
        ["gamma"]
    );

    let head = req("HEAD", Some("alpha"), None).send(&h).await;
    head.assert(200);
    assert_eq!(head.header("x-amz-bucket-region"), Some("us-east-1"));
    let missing = req("HEAD", Some("nope"), None).send(&h).await;
    missing.assert(404);
    assert!(missing.body.is_empty());
    assert!(missing.header("x-amz-request-id").is_some());
    req("HEAD", Some("alpha"), None)
        .by(OTHER)
        .send(&h)
        .await
        .assert(403);

    let loc = req("GET", Some("alpha"), None)
        .q("location", "")
        .send(&h)
        .await;
    loc.assert(200);
    assert!(loc
        .text()
        .contains("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>"));

    put(&h, "alpha", "k", b"x").await.assert(200);
    // `/alpha/` is the bucket.
    assert_eq!(
        req("GET", Some("alpha"), Some(""))
            .send(&h)
            .await
            .all("Key"),
        ["k"]
    );
    req("DELETE", Some("alpha"), None)
        .send(&h)
        .await
        .assert_err(409, "BucketNotEmpty");
    req("DELETE", Some("alpha"), Some("k"))
        .send(&h)
        .await
        .assert(204);
    req("DELETE", Some("alpha"), None)
        .send(&h)
        .await
        .assert(204);
    req("GET", Some("alpha"), None)
        .send(&h)
        .await
        .assert_err(404, "NoSuchBucket");
}

#[tokio::test]
async fn location_constraints() {
    let h = Harness::new("loc");
    let cfg = |r: &str| {
        format!("<CreateBucketConfiguration><LocationConstraint>{r}</LocationConstraint></CreateBucketConfiguration>")
    };
    req("PUT", Some("bk1"), None)
        .body(cfg("eu-west-1"))
        .send(&h)
        .await
        .assert_err(400, "IllegalLocationConstraintException");
    req("PUT", Some("bk1"), None)
        .body(cfg("us-east-1"))
        .send(&h)
        .await
        .assert_err(400, "InvalidLocationConstraint");
    req("PUT", Some("bk1"), None)
        .body("<oops")
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");

    let eu = Harness::with_region("loc-eu", "eu-west-1");
    req("PUT", Some("bk2"), None)
        .send(&eu)
        .await
        .assert_err(400, "IllegalLocationConstraintException");
    req("PUT", Some("bk2"), None)
        .body(cfg("eu-west-1"))
        .send(&eu)
        .await
        .assert(200);
    req("PUT", Some("bk2"), None)
        .body(cfg("eu-west-1"))
        .send(&eu)
        .await
        .assert_err(409, "BucketAlreadyOwnedByYou");
    let loc = req("GET", Some("bk2"), None)
        .q("location", "")
        .send(&eu)
        .await;
    assert_eq!(loc.first("LocationConstraint"), None);
    assert!(loc.text().contains(">eu-west-1</LocationConstraint>"));
}

#[tokio::test]
async fn unknown_and_unsupported_requests() {
    let h = Harness::new("unsupported");
    make_bucket(&h, "bkt").await;
    req("GET", Some("bkt"), None)
        .q("website", "")
        .send(&h)
        .await
        .assert_err(501, "NotImplemented");
    req("GET", Some("bkt"), None)
        .q("cors", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchCORSConfiguration");
    req("POST", Some("bkt"), Some("k"))
        .send(&h)
        .await
        .assert_err(405, "MethodNotAllowed");
    req("DELETE", None, None)
        .send(&h)
        .await
        .assert_err(405, "MethodNotAllowed");
}
