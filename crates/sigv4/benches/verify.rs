//! Parsing and verifying the SigV4 signature of a 4 KiB PutObject as boto3
//! sends it (streaming unsigned payload with a CRC32 trailer): the front-door
//! cost of every small PUT.

use criterion::{criterion_group, criterion_main, Criterion};
use http::HeaderMap;
use strongbox_sigv4::sign::{sign_request, Credentials, SigningParams};
use strongbox_sigv4::{parse, verify, RequestParts, VerifyOptions};

fn signed_put() -> (HeaderMap, jiff::Timestamp) {
    let now = jiff::Timestamp::now();
    let credentials = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: now,
    };
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("host", "127.0.0.1:9000"),
        (
            "user-agent",
            "Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux",
        ),
        ("content-encoding", "aws-chunked"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("x-amz-decoded-content-length", "4096"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ("content-length", "4135"),
        (
            "amz-sdk-invocation-id",
            "b6d0a3c6-0d54-4a49-9c76-4c1f0f5f3c11",
        ),
        ("amz-sdk-request", "attempt=1"),
    ] {
        headers.insert(name, value.parse().expect("header value"));
    }
    sign_request(
        "PUT",
        "/bench-bucket/objects/000123",
        "",
        &mut headers,
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        &params,
    )
    .expect("sign");
    (headers, now)
}

fn bench(c: &mut Criterion) {
    let (headers, now) = signed_put();
    let opts = VerifyOptions {
        regions: vec!["us-east-1".into()],
        ..VerifyOptions::default()
    };
    c.bench_function("sigv4: parse + verify a 4 KiB PutObject", |b| {
        b.iter(|| {
            let parts = RequestParts {
                method: "PUT",
                raw_path: "/bench-bucket/objects/000123",
                query: &strongbox_sigv4::Query::parse(""),
                headers: &headers,
                virtual_host_bucket: None,
                body: None,
            };
            let auth = parse(&parts).expect("parse");
            verify(
                &auth,
                &parts,
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                now,
                &opts,
            )
            .expect("verify")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
