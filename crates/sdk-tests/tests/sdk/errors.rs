//! Service errors as the SDK sees them: codes, statuses and modeled variants.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use crate::clients::{bucket_name, root_s3, s3, sdk_config};
use crate::server::{Server, ROOT_ACCESS_KEY};

fn status<E, R: HttpStatus>(err: &aws_sdk_s3::error::SdkError<E, R>) -> Option<u16> {
    err.raw_response().map(HttpStatus::status_code)
}

trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_and_bucket() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("errors");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("no/such/key")
        .send()
        .await
        .expect_err("missing key");
    assert_eq!(status(&err), Some(404));
    assert_eq!(err.code(), Some("NoSuchKey"));
    assert!(err.into_service_error().is_no_such_key());

    let err = s3
        .list_objects_v2()
        .bucket("sdk-bucket-that-does-not-exist")
        .send()
        .await
        .expect_err("missing bucket");
    assert_eq!(status(&err), Some(404));
    assert!(err.into_service_error().is_no_such_bucket());

    // In us-east-1, re-creating a bucket you own succeeds (legacy behaviour; other
    // Regions answer BucketAlreadyOwnedByYou):
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    s3.put_object()
        .bucket(&bucket)
        .key("kept")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(
        listed.key_count(),
        Some(1),
        "re-creating keeps the bucket's objects"
    );

    let err = s3
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect_err("bucket not empty");
    assert_eq!(status(&err), Some(409));
    assert_eq!(err.code(), Some("BucketNotEmpty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_signature_does_not_match() {
    let server = Server::start();
    let root = root_s3(&server).await;
    let bucket = bucket_name("badsig");
    root.create_bucket().bucket(&bucket).send().await.unwrap();

    let bad = s3(&sdk_config(
        &server,
        ROOT_ACCESS_KEY,
        "not-the-right-secret-0123456789abcdefghij",
        None,
    )
    .await);

    let err = bad.list_buckets().send().await.expect_err("wrong secret");
    assert_eq!(status(&err), Some(403));
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err:?}");

    // A streaming upload (aws-chunked body with a CRC32 trailer) signed with the wrong secret.
    let err = bad
        .put_object()
        .bucket(&bucket)
        .key("k")
        .body(ByteStream::from(vec![7u8; 4096]))
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(status(&err), Some(403));
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err:?}");

    let err = bad
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err:?}");

    // An unknown access key is a different error.
    let unknown = s3(&sdk_config(&server, "AKIAUNKNOWNKEY000000", "whatever-secret", None).await);
    let err = unknown
        .list_buckets()
        .send()
        .await
        .expect_err("unknown key");
    assert_eq!(status(&err), Some(403));
    assert_eq!(err.code(), Some("InvalidAccessKeyId"), "{err:?}");

    // Nothing was written by the failed PutObject.
    let listed = root.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}
