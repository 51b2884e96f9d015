//! Multipart upload of ~12 MiB in 5 MiB parts, then download and compare.

use std::path::Path;

use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};

use crate::clients::{bucket_name, pattern, root_s3};
use crate::server::Server;

const PART: usize = 5 * 1024 * 1024;
const TOTAL: usize = 12 * 1024 * 1024 + 12_345;

/// Uploads `body` in 5 MiB parts; `algorithm` is passed to CreateMultipartUpload
/// (None = SDK defaults) and part checksums are echoed into the completion.
/// With `file`, parts are streamed from slices of that file (aws-chunked with a
/// CRC32 trailer) instead of sent from memory (CRC32 header).
async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    algorithm: Option<ChecksumAlgorithm>,
    file: Option<&Path>,
) -> String {
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .set_checksum_algorithm(algorithm.clone())
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().expect("UploadId").to_string();

    let mut parts = Vec::new();
    for (i, chunk) in body.chunks(PART).enumerate() {
        let number = i as i32 + 1;
        let out = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .set_checksum_algorithm(algorithm.clone())
            .body(part_body(chunk, i, file).await)
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPart {number}: {e:?}"));
        let mut part = CompletedPart::builder()
            .part_number(number)
            .e_tag(out.e_tag().expect("UploadPart returns an ETag"));
        if algorithm.is_some() {
            part = part.checksum_crc32(
                out.checksum_crc32()
                    .expect("UploadPart echoes the part CRC32"),
            );
        }
        parts.push(part.build());
    }
    assert_eq!(parts.len(), 3);

    let listed = s3
        .list_parts()
        .bucket(bucket)
        .key(key)
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    let sizes: Vec<i64> = listed.parts().iter().filter_map(|p| p.size()).collect();
    assert_eq!(sizes, [PART as i64, PART as i64, (TOTAL - 2 * PART) as i64]);

    let done = s3
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let etag = done
        .e_tag()
        .expect("CompleteMultipartUpload returns an ETag")
        .to_string();
    assert!(
        etag.ends_with("-3\""),
        "multipart ETag ends with the part count: {etag}"
    );
    etag
}

async fn part_body(chunk: &[u8], index: usize, file: Option<&Path>) -> ByteStream {
    match file {
        None => ByteStream::from(chunk.to_vec()),
        Some(path) => ByteStream::read_from()
            .path(path)
            .offset((index * PART) as u64)
            .length(Length::Exact(chunk.len() as u64))
            .build()
            .await
            .unwrap(),
    }
}

async fn download_and_compare(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    etag: &str,
) {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(TOTAL as i64));
    assert_eq!(got.e_tag(), Some(etag));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), body.len());
    assert!(bytes[..] == body[..], "downloaded multipart object differs");

    // A range across the first part boundary.
    let from = PART - 100;
    let to = PART + 100;
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes={from}-{to}"))
        .send()
        .await
        .unwrap();
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert!(bytes[..] == body[from..=to], "range across a part boundary");

    // GetObject with PartNumber returns that part.
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .part_number(2)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parts_count(), Some(3));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert!(bytes[..] == body[PART..2 * PART], "part 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_with_sdk_defaults() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("mpu");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(TOTAL, 3);
    let etag = upload(&s3, &bucket, "big/object.bin", &body, None, None).await;
    download_and_compare(&s3, &bucket, "big/object.bin", &body, &etag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_with_crc32_checksums() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("mpucrc");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(TOTAL, 5);
    let etag = upload(
        &s3,
        &bucket,
        "crc.bin",
        &body,
        Some(ChecksumAlgorithm::Crc32),
        None,
    )
    .await;
    download_and_compare(&s3, &bucket, "crc.bin", &body, &etag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_streamed_from_a_file() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("mpufile");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body = pattern(TOTAL, 31);
    let path = server.scratch_file("big.bin", &body);
    let etag = upload(
        &s3,
        &bucket,
        "from-file.bin",
        &body,
        Some(ChecksumAlgorithm::Crc32),
        Some(&path),
    )
    .await;
    download_and_compare(&s3, &bucket, "from-file.bin", &body, &etag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_multipart_upload_is_gone() {
    let server = Server::start();
    let s3 = root_s3(&server).await;
    let bucket = bucket_name("abort");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let created = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap();
    s3.upload_part()
        .bucket(&bucket)
        .key("k")
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from(vec![1u8; 1000]))
        .send()
        .await
        .unwrap();
    let uploads = s3
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(uploads.uploads().len(), 1);
    s3.abort_multipart_upload()
        .bucket(&bucket)
        .key("k")
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    let err = s3
        .list_parts()
        .bucket(&bucket)
        .key("k")
        .upload_id(upload_id)
        .send()
        .await
        .expect_err("upload was aborted");
    use aws_sdk_s3::error::ProvideErrorMetadata;
    assert_eq!(err.code(), Some("NoSuchUpload"));
}
