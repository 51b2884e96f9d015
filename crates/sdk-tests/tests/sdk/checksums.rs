//! Flexible checksums chosen explicitly, empty and non-ASCII objects, conditional
//! requests, copies and batch deletes.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, Delete, ObjectIdentifier};

use crate::clients::{bucket_name, pattern, root_s3};
use crate::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_checksum_algorithms_round_trip() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("cksum");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(300_000, 17);

    for algorithm in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Crc64Nvme,
    ] {
        let key = format!("obj-{}", algorithm.as_str());
        let put = s3
            .put_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_algorithm(algorithm.clone())
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject with {algorithm:?}: {e:?}"));
        let sent = match algorithm {
            ChecksumAlgorithm::Crc32 => put.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => put.checksum_crc32_c(),
            ChecksumAlgorithm::Sha1 => put.checksum_sha1(),
            ChecksumAlgorithm::Crc64Nvme => put.checksum_crc64_nvme(),
            _ => put.checksum_sha256(),
        }
        .unwrap_or_else(|| panic!("PutObject echoes the {algorithm:?} checksum"))
        .to_string();

        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let stored = match algorithm {
            ChecksumAlgorithm::Crc32 => head.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => head.checksum_crc32_c(),
            ChecksumAlgorithm::Sha1 => head.checksum_sha1(),
            ChecksumAlgorithm::Crc64Nvme => head.checksum_crc64_nvme(),
            _ => head.checksum_sha256(),
        };
        assert_eq!(
            stored,
            Some(sent.as_str()),
            "HeadObject checksum for {algorithm:?}"
        );

        // The SDK validates the returned checksum against the body it reads.
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert!(bytes[..] == body[..], "{algorithm:?} body");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_unicode_objects() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("odd");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    for key in ["empty", "ünïcödé/ключ/鍵 with space", "a+b=c&d?e#f%20g"] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key:?}: {e:?}"));
    }
    s3.put_object()
        .bucket(&bucket)
        .key("empty")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("empty")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(0));
    // MD5 of the empty string.
    assert_eq!(got.e_tag(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
    assert!(got.body.collect().await.unwrap().into_bytes().is_empty());

    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        keys,
        ["a+b=c&d?e#f%20g", "empty", "ünïcödé/ключ/鍵 with space"]
    );
    for key in ["ünïcödé/ключ/鍵 with space", "a+b=c&d?e#f%20g"] {
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            &got.body.collect().await.unwrap().into_bytes()[..],
            key.as_bytes()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_requests() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("cond");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let etag = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_string();

    s3.get_object()
        .bucket(&bucket)
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .if_match("\"00000000000000000000000000000000\"")
        .send()
        .await
        .expect_err("If-Match mismatch");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(412));
    assert_eq!(err.code(), Some("PreconditionFailed"));

    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("If-None-Match matches: 304");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(304));

    // Conditional write: If-None-Match: * refuses to overwrite.
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("k")
        .if_none_match("*")
        .body(ByteStream::from_static(b"v2"))
        .send()
        .await
        .expect_err("object exists");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(412));
    assert_eq!(err.code(), Some("PreconditionFailed"));
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"v1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_object_and_delete_objects() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("copy");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(50_000, 19);
    s3.put_object()
        .bucket(&bucket)
        .key("src key")
        .metadata("origin", "source")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();

    let copied = s3
        .copy_object()
        .bucket(&bucket)
        .key("dst")
        .copy_source(format!("{bucket}/src%20key"))
        .send()
        .await
        .unwrap();
    assert!(copied
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .is_some());
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("dst")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("source")
    );
    assert!(got.body.collect().await.unwrap().into_bytes()[..] == body[..]);

    // DeleteObjects requires a body checksum; the SDK sends its default CRC32.
    let delete = Delete::builder()
        .objects(ObjectIdentifier::builder().key("src key").build().unwrap())
        .objects(ObjectIdentifier::builder().key("dst").build().unwrap())
        .objects(
            ObjectIdentifier::builder()
                .key("never-existed")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(&bucket)
        .delete(delete)
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["dst", "never-existed", "src key"]);
    assert!(out.errors().is_empty());
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_checksum_is_bad_digest() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("baddigest");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    // A caller-supplied checksum is sent as is (the SDK does not compute its own);
    // S3 answers 400 BadDigest when it does not match the body.
    let err = s3
        .put_object()
        .bucket(&bucket)
        .key("bad")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .expect_err("CRC32 does not match the body");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    assert_eq!(err.code(), Some("BadDigest"), "{err:?}");
    let err = s3
        .head_object()
        .bucket(&bucket)
        .key("bad")
        .send()
        .await
        .expect_err("nothing stored");
    assert!(err.into_service_error().is_not_found());
}
