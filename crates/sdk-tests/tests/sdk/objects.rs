//! Bucket and object basics: put/get/head/delete, user metadata, ranges, listing.

use aws_sdk_s3::primitives::ByteStream;

use crate::clients::{bucket_name, pattern, recording_s3, root_config, root_s3, sent_header};
use crate::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_head_delete_with_metadata() {
    let server = Server::start();
    let (s3, sent) = recording_s3(&root_config(&server).await);
    let bucket = bucket_name("basic");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let listed = s3.list_buckets().send().await.unwrap();
    assert!(listed
        .buckets()
        .iter()
        .any(|b| b.name() == Some(bucket.as_str())));

    let body = pattern(100_000, 7);
    let put = s3
        .put_object()
        .bucket(&bucket)
        .key("dir/hello.bin")
        .content_type("application/x-test")
        .metadata("color", "blue")
        .metadata("Mixed-Case", "Value With Spaces")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let etag = put.e_tag().expect("PutObject returns an ETag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "quoted ETag: {etag}"
    );
    // The SDK sends a CRC32 trailer by default; S3 echoes the checksum back.
    assert!(
        put.checksum_crc32().is_some(),
        "PutObject should echo x-amz-checksum-crc32"
    );
    // An in-memory body: the SDK sends its CRC32 as a signed header.
    let put_headers = sent.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        sent_header(&put_headers, "x-amz-checksum-crc32"),
        put.checksum_crc32(),
        "{put_headers:?}"
    );

    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("dir/hello.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.content_type(), Some("application/x-test"));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    let meta = head.metadata().expect("user metadata");
    assert_eq!(meta.get("color").map(String::as_str), Some("blue"));
    // S3 lower-cases user metadata names (they travel as x-amz-meta-* headers).
    assert_eq!(
        meta.get("mixed-case").map(String::as_str),
        Some("Value With Spaces")
    );

    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("dir/hello.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("color"))
            .map(String::as_str),
        Some("blue")
    );
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert!(bytes[..] == body[..], "GetObject returns the stored bytes");

    s3.delete_object()
        .bucket(&bucket)
        .key("dir/hello.bin")
        .send()
        .await
        .unwrap();
    let err = s3
        .head_object()
        .bucket(&bucket)
        .key("dir/hello.bin")
        .send()
        .await
        .expect_err("object is gone after DeleteObject");
    assert!(err.into_service_error().is_not_found());

    s3.delete_bucket().bucket(&bucket).send().await.unwrap();
    let listed = s3.list_buckets().send().await.unwrap();
    assert!(!listed
        .buckets()
        .iter()
        .any(|b| b.name() == Some(bucket.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranged_get() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("range");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(10_000, 11);
    s3.put_object()
        .bucket(&bucket)
        .key("r")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();

    for (range, from, to) in [
        ("bytes=0-0", 0usize, 0usize),
        ("bytes=100-4099", 100, 4099),
        ("bytes=9990-", 9990, 9999),
        ("bytes=-25", 9975, 9999),
        ("bytes=9000-20000", 9000, 9999),
    ] {
        let got = s3
            .get_object()
            .bucket(&bucket)
            .key("r")
            .range(range)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {range}: {e:?}"));
        let expected_range = format!("bytes {from}-{to}/10000");
        assert_eq!(
            got.content_range(),
            Some(expected_range.as_str()),
            "{range}"
        );
        assert_eq!(
            got.content_length(),
            Some((to - from + 1) as i64),
            "{range}"
        );
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert!(bytes[..] == body[from..=to], "content of {range}");
    }

    let err = s3
        .get_object()
        .bucket(&bucket)
        .key("r")
        .range("bytes=20000-")
        .send()
        .await
        .expect_err("range past the end");
    use aws_sdk_s3::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("InvalidRange"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(416));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_objects_v2_prefix_delimiter_and_pagination() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("list");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let mut keys = vec![
        "a.txt".to_string(),
        "logs/2024/jan.log".to_string(),
        "logs/2024/feb.log".to_string(),
        "logs/2025/mar.log".to_string(),
        "logs/top.log".to_string(),
        "photos/cat.jpg".to_string(),
    ];
    for i in 0..7 {
        keys.push(format!("many/item-{i:02}"));
    }
    for key in &keys {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    keys.sort();

    let all = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let listed: Vec<&str> = all.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(listed, keys.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(all.key_count(), Some(keys.len() as i32));
    assert_eq!(all.is_truncated(), Some(false));
    let first = &all.contents()[0];
    assert_eq!(first.size(), Some("a.txt".len() as i64));
    assert!(first.e_tag().is_some() && first.last_modified().is_some());

    let top = s3
        .list_objects_v2()
        .bucket(&bucket)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let objects: Vec<&str> = top.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(objects, ["a.txt"]);
    assert_eq!(prefixes, ["logs/", "many/", "photos/"]);

    let logs = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("logs/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let objects: Vec<&str> = logs.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = logs
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(objects, ["logs/top.log"]);
    assert_eq!(prefixes, ["logs/2024/", "logs/2025/"]);
    assert_eq!(logs.prefix(), Some("logs/"));
    assert_eq!(logs.delimiter(), Some("/"));

    // Manual pagination with continuation tokens.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix("many/")
            .max_keys(3)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.contents().len() <= 3);
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        if page.is_truncated() == Some(true) {
            token = Some(
                page.next_continuation_token()
                    .expect("truncated page carries NextContinuationToken")
                    .to_string(),
            );
        } else {
            assert!(page.next_continuation_token().is_none());
            break;
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..7).map(|i| format!("many/item-{i:02}")).collect();
    assert_eq!(seen, expected);

    // The SDK's paginator, with StartAfter.
    let mut paginator = s3
        .list_objects_v2()
        .bucket(&bucket)
        .start_after("logs/2025/mar.log")
        .max_keys(2)
        .into_paginator()
        .send();
    let mut via_paginator = Vec::new();
    while let Some(page) = paginator.next().await {
        let page = page.unwrap();
        via_paginator.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    let expected: Vec<&String> = keys
        .iter()
        .filter(|k| k.as_str() > "logs/2025/mar.log")
        .collect();
    assert_eq!(via_paginator.iter().collect::<Vec<_>>(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_upload_uses_aws_chunked_with_crc32_trailer() {
    let server = Server::start();
    let (s3, sent) = recording_s3(&root_config(&server).await);
    let bucket = bucket_name("chunked");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(1_500_000, 29);
    let path = server.scratch_file("upload.bin", &body);

    // A file body is streamed: the SDK frames it aws-chunked with a CRC32 trailer.
    let put = s3
        .put_object()
        .bucket(&bucket)
        .key("streamed")
        .body(ByteStream::from_path(&path).await.unwrap())
        .send()
        .await
        .unwrap();
    let put_headers = sent.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        sent_header(&put_headers, "x-amz-trailer"),
        Some("x-amz-checksum-crc32"),
        "{put_headers:?}"
    );
    assert!(
        sent_header(&put_headers, "content-encoding").is_some_and(|v| v.contains("aws-chunked")),
        "{put_headers:?}"
    );
    // Over plain HTTP the SDK signs every chunk and the trailer (over HTTPS it
    // would send STREAMING-UNSIGNED-PAYLOAD-TRAILER).
    assert_eq!(
        sent_header(&put_headers, "x-amz-content-sha256"),
        Some("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
        "{put_headers:?}"
    );
    assert_eq!(
        sent_header(&put_headers, "x-amz-decoded-content-length"),
        Some(body.len().to_string().as_str())
    );
    let streamed_crc = put
        .checksum_crc32()
        .expect("trailer checksum echoed")
        .to_string();

    // The same bytes in memory (CRC32 as a header) give the same checksum and ETag.
    let in_memory = s3
        .put_object()
        .bucket(&bucket)
        .key("in-memory")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(in_memory.checksum_crc32(), Some(streamed_crc.as_str()));
    assert_eq!(in_memory.e_tag(), put.e_tag());

    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("streamed")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(body.len() as i64));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert!(
        bytes[..] == body[..],
        "streamed upload stored the decoded bytes"
    );
}
