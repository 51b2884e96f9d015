//! SDK-presigned GET URLs fetched with a plain HTTP client (no signing).

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::clients::{bucket_name, pattern, root_s3};
use crate::http_get;
use crate::server::Server;

async fn fetch(url: String, headers: Vec<(String, String)>) -> http_get::Response {
    tokio::task::spawn_blocking(move || http_get::get(&url, &headers))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_get_is_fetched_without_credentials() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("presign");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(70_000, 13);
    let key = "some dir/file name+with=odd&chars.bin";
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();

    let presigned = s3
        .get_object()
        .bucket(&bucket)
        .key(key)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    assert_eq!(presigned.method(), "GET");
    let url = presigned.uri().to_string();
    assert!(
        url.contains("X-Amz-Signature="),
        "query-string signed: {url}"
    );
    let headers: Vec<(String, String)> = presigned
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();

    let response = fetch(url.clone(), headers.clone()).await;
    assert_eq!(
        response.status,
        200,
        "presigned GET {url}: {}",
        response.text()
    );
    assert!(
        response.body == body,
        "presigned GET returns the object bytes"
    );
    assert_eq!(
        response.header("content-length"),
        Some(body.len().to_string().as_str())
    );

    // Tampering with the signed query (another key) must fail the signature check.
    let tampered = url.replacen("file%20name", "other%20name", 1);
    assert_ne!(
        tampered, url,
        "key appears percent-encoded in the URL: {url}"
    );
    let response = fetch(tampered, headers.clone()).await;
    assert_eq!(response.status, 403, "{}", response.text());
    assert!(
        response
            .text()
            .contains("<Code>SignatureDoesNotMatch</Code>"),
        "{}",
        response.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_get_of_missing_key_is_no_such_key() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("presign404");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let presigned = s3
        .get_object()
        .bucket(&bucket)
        .key("absent")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let headers = presigned
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let response = fetch(presigned.uri().to_string(), headers).await;
    assert_eq!(response.status, 404, "{}", response.text());
    assert!(
        response.text().contains("<Code>NoSuchKey</Code>"),
        "{}",
        response.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_put_with_plain_http() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("presignput");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let presigned = s3
        .put_object()
        .bucket(&bucket)
        .key("uploaded")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    assert_eq!(presigned.method(), "PUT");
    let url = presigned.uri().to_string();
    let headers: Vec<(String, String)> = presigned
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let body = pattern(20_000, 23);
    let sent = body.clone();
    let response =
        tokio::task::spawn_blocking(move || http_get::request("PUT", &url, &headers, &sent))
            .await
            .unwrap();
    assert_eq!(response.status, 200, "presigned PUT: {}", response.text());
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("uploaded")
        .send()
        .await
        .unwrap();
    assert!(got.body.collect().await.unwrap().into_bytes()[..] == body[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_presigned_url_is_access_denied() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("presignexp");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(ByteStream::from_static(b"secret"))
        .send()
        .await
        .unwrap();
    // Signed an hour ago, valid for a minute.
    let config = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let presigned = s3
        .get_object()
        .bucket(&bucket)
        .key("k")
        .presigned(config)
        .await
        .unwrap();
    let headers = presigned
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let response = fetch(presigned.uri().to_string(), headers).await;
    assert_eq!(response.status, 403, "{}", response.text());
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html
    assert!(
        response.text().contains("<Code>AccessDenied</Code>"),
        "{}",
        response.text()
    );
    assert!(
        response.text().contains("Request has expired"),
        "{}",
        response.text()
    );
}
