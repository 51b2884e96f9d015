//! Bad input gets an S3 error, never a panic.

mod common;
use common::*;

#[tokio::test]
async fn garbage_bodies_and_headers_get_s3_errors() {
    let h = Harness::new("garbage");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", b"x").await.assert(200);
    let bucket_subresources = [
        "versioning",
        "tagging",
        "policy",
        "acl",
        "ownershipControls",
        "publicAccessBlock",
        "encryption",
        "delete",
    ];
    let bodies: [&[u8]; 6] = [
        b"",
        b"<",
        b"\xff\xfe",
        b"<a><b></a>",
        b"{\"Statement\":",
        &[b'<'; 5000],
    ];
    for sub in bucket_subresources {
        for body in bodies {
            for method in ["PUT", "POST"] {
                let r = req(method, Some("bkt"), None)
                    .q(sub, "")
                    .h("content-md5", &md5_b64(body))
                    .body(body.to_vec())
                    .send(&h)
                    .await;
                let s = r.status.as_u16();
                assert!(
                    (400..600).contains(&s) || s == 200 || s == 204,
                    "{method} ?{sub}: {s}"
                );
                if s >= 400 {
                    assert!(!r.code().is_empty(), "{method} ?{sub}: {}", r.text());
                }
            }
        }
    }
    for sub in ["tagging", "acl", "uploadId", "attributes"] {
        for body in bodies {
            let r = req("PUT", Some("bkt"), Some("k"))
                .q(sub, "x")
                .body(body.to_vec())
                .send(&h)
                .await;
            assert!(r.status.as_u16() >= 200, "{sub}");
            let r = req("POST", Some("bkt"), Some("k"))
                .q(sub, "x")
                .body(body.to_vec())
                .send(&h)
                .await;
            assert!(r.status.as_u16() >= 200, "{sub}");
        }
    }
    let odd_headers = [
        ("range", "bytes=99999999999999999999-"),
        ("range", "bytes=-99999999999999999999"),
        ("if-modified-since", "not a date"),
        ("x-amz-copy-source", "%ff%fe/x"),
        ("x-amz-copy-source", "/"),
        ("x-amz-tagging", "%%%=%%%"),
        ("x-amz-acl", "made-up"),
        ("x-amz-grant-read", "nonsense"),
        ("x-amz-checksum-sha256", "!!!"),
        ("x-amz-trailer", "x-amz-checksum-md5"),
        ("x-amz-object-ownership", "Everyone"),
        ("content-md5", ""),
    ];
    for (name, value) in odd_headers {
        for (method, key) in [
            ("GET", Some("k")),
            ("PUT", Some("k2")),
            ("PUT", None),
            ("HEAD", Some("k")),
        ] {
            let r = req(method, Some("bkt"), key).h(name, value).send(&h).await;
            assert!(r.status.as_u16() >= 200, "{name}");
        }
    }
    let odd_queries = [
        ("max-keys", "-1"),
        ("max-keys", "99999999999999999999"),
        ("partNumber", "abc"),
        ("versionId", ""),
        ("continuation-token", ""),
        ("part-number-marker", "x"),
        ("max-parts", "-5"),
        ("list-type", "3"),
    ];
    for (k, v) in odd_queries {
        for key in [None, Some("k")] {
            let r = req("GET", Some("bkt"), key).q(k, v).send(&h).await;
            assert!(r.status.as_u16() >= 200, "{k}={v}");
        }
    }
    // A non-UTF-8 metadata value is stored lossily rather than failing.
    let mut bad = req("PUT", Some("bkt"), Some("m")).body(b"x".to_vec());
    bad.headers.insert(
        "x-amz-meta-bin",
        http::HeaderValue::from_bytes(b"caf\xe9").unwrap(),
    );
    bad.send(&h).await.assert(200);
}
