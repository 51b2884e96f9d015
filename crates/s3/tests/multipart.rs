//! Multipart uploads.

mod common;
use common::*;

const MIB: usize = 1024 * 1024;

async fn create(h: &Harness, key: &str) -> String {
    let r = req("POST", Some("bkt"), Some(key))
        .q("uploads", "")
        .h("content-type", "text/x-mp")
        .h("x-amz-meta-a", "b")
        .send(h)
        .await;
    r.assert(200);
    r.first("UploadId").unwrap()
}

async fn upload(h: &Harness, key: &str, id: &str, n: u32, data: &[u8]) -> String {
    let r = req("PUT", Some("bkt"), Some(key))
        .q("partNumber", &n.to_string())
        .q("uploadId", id)
        .body(data.to_vec())
        .send(h)
        .await;
    r.assert(200);
    r.header("etag").unwrap().to_string()
}

fn complete_body(parts: &[(u32, &str)]) -> String {
    let inner: String = parts
        .iter()
        .map(|(n, e)| format!("<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"))
        .collect();
    format!("<CompleteMultipartUpload>{inner}</CompleteMultipartUpload>")
}

#[tokio::test]
async fn upload_complete_and_read() {
    let h = Harness::new("mpu");
    make_bucket(&h, "bkt").await;
    let id = create(&h, "big").await;
    let p1: Vec<u8> = (0..5 * MIB).map(|i| (i % 251) as u8).collect();
    let p2 = b"tail".to_vec();
    let e1 = upload(&h, "big", &id, 1, &p1).await;
    let e2 = upload(&h, "big", &id, 2, &p2).await;
    assert_eq!(e1, format!("\"{}\"", md5_hex(&p1)));

    let parts = req("GET", Some("bkt"), Some("big"))
        .q("uploadId", &id)
        .send(&h)
        .await;
    parts.assert(200);
    assert_eq!(parts.all("PartNumber"), ["1", "2"]);
    assert_eq!(parts.all("Size"), [(5 * MIB).to_string(), "4".to_string()]);
    let page = req("GET", Some("bkt"), Some("big"))
        .q("uploadId", &id)
        .q("max-parts", "1")
        .send(&h)
        .await;
    assert_eq!(page.first("IsTruncated").as_deref(), Some("true"));
    assert_eq!(page.first("NextPartNumberMarker").as_deref(), Some("1"));

    let uploads = req("GET", Some("bkt"), None)
        .q("uploads", "")
        .send(&h)
        .await;
    uploads.assert(200);
    assert_eq!(uploads.all("UploadId"), vec![id.clone()]);

    // Wrong order, wrong ETag, then success.
    let c = |body: String| {
        req("POST", Some("bkt"), Some("big"))
            .q("uploadId", &id)
            .body(body)
    };
    c(complete_body(&[(2, &e2), (1, &e1)]))
        .send(&h)
        .await
        .assert_err(400, "InvalidPartOrder");
    c(complete_body(&[(1, &e1), (2, "\"0000\"")]))
        .send(&h)
        .await
        .assert_err(400, "InvalidPart");
    c(complete_body(&[(1, &e1), (3, &e2)]))
        .send(&h)
        .await
        .assert_err(400, "InvalidPart");
    c("<CompleteMultipartUpload/>".into())
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");
    c("garbage".into())
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");
    let done = c(complete_body(&[(1, &e1), (2, &e2)]))
        .h("host", "localhost:9000")
        .send(&h)
        .await;
    done.assert(200);
    let etag = done.first("ETag").unwrap();
    assert!(etag.ends_with("-2&quot;"), "{etag}");
    assert_eq!(
        done.first("Location").as_deref(),
        Some("http://localhost:9000/bkt/big")
    );

    let g = get(&h, "bkt", "big").await;
    g.assert(200);
    assert_eq!(g.body.len(), 5 * MIB + 4);
    assert_eq!(&g.body[..5 * MIB], &p1[..]);
    assert_eq!(&g.body[5 * MIB..], b"tail");
    assert_eq!(g.header("content-type"), Some("text/x-mp"));
    assert_eq!(g.header("x-amz-meta-a"), Some("b"));
    // A range across the part boundary, and reading one part.
    let r = req("GET", Some("bkt"), Some("big"))
        .h("range", &format!("bytes={}-{}", 5 * MIB - 2, 5 * MIB + 1))
        .send(&h)
        .await;
    r.assert(206);
    assert_eq!(&r.body[..], &[p1[5 * MIB - 2], p1[5 * MIB - 1], b't', b'a']);
    let part2 = req("GET", Some("bkt"), Some("big"))
        .q("partNumber", "2")
        .send(&h)
        .await;
    part2.assert(206);
    assert_eq!(part2.text(), "tail");
    assert_eq!(part2.header("x-amz-mp-parts-count"), Some("2"));

    // The upload is gone.
    c(complete_body(&[(1, &e1)]))
        .send(&h)
        .await
        .assert_err(404, "NoSuchUpload");
    assert!(req("GET", Some("bkt"), None)
        .q("uploads", "")
        .send(&h)
        .await
        .all("UploadId")
        .is_empty());
}

#[tokio::test]
async fn small_parts_abort_and_errors() {
    let h = Harness::new("mpu-small");
    make_bucket(&h, "bkt").await;
    let id = create(&h, "k").await;
    let e1 = upload(&h, "k", &id, 1, b"small").await;
    let e2 = upload(&h, "k", &id, 2, b"last").await;
    let body = complete_body(&[(1, &e1), (2, &e2)]);
    req("POST", Some("bkt"), Some("k"))
        .q("uploadId", &id)
        .body(body)
        .send(&h)
        .await
        .assert_err(400, "EntityTooSmall");
    // A single small part is fine (it is the last part).
    let single = complete_body(&[(2, &e2)]);
    // Re-uploading a part replaces it.
    let e1b = upload(&h, "k", &id, 1, b"again").await;
    assert_ne!(e1, e1b);
    req("PUT", Some("bkt"), Some("k"))
        .q("partNumber", "0")
        .q("uploadId", &id)
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("PUT", Some("bkt"), Some("k"))
        .q("partNumber", "10001")
        .q("uploadId", &id)
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("PUT", Some("bkt"), Some("other"))
        .q("partNumber", "1")
        .q("uploadId", &id)
        .send(&h)
        .await
        .assert_err(404, "NoSuchUpload");
    let done = req("POST", Some("bkt"), Some("k"))
        .q("uploadId", &id)
        .body(single)
        .send(&h)
        .await;
    done.assert(200);
    assert_eq!(get(&h, "bkt", "k").await.text(), "last");

    let id2 = create(&h, "k2").await;
    upload(&h, "k2", &id2, 1, b"x").await;
    req("DELETE", Some("bkt"), Some("k2"))
        .q("uploadId", &id2)
        .send(&h)
        .await
        .assert(204);
    req("DELETE", Some("bkt"), Some("k2"))
        .q("uploadId", &id2)
        .send(&h)
        .await
        .assert_err(404, "NoSuchUpload");
    req("GET", Some("bkt"), Some("k2"))
        .q("uploadId", &id2)
        .send(&h)
        .await
        .assert_err(404, "NoSuchUpload");
}

#[tokio::test]
async fn upload_part_copy_with_range() {
    let h = Harness::new("mpu-copy");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "src", b"0123456789").await.assert(200);
    let id = create(&h, "dst").await;
    let r = req("PUT", Some("bkt"), Some("dst"))
        .q("partNumber", "1")
        .q("uploadId", &id)
        .h("x-amz-copy-source", "bkt/src")
        .h("x-amz-copy-source-range", "bytes=2-5")
        .send(&h)
        .await;
    r.assert(200);
    let etag = r.first("ETag").unwrap().replace("&quot;", "\"");
    assert_eq!(etag, format!("\"{}\"", md5_hex(b"2345")));
    req("PUT", Some("bkt"), Some("dst"))
        .q("partNumber", "2")
        .q("uploadId", &id)
        .h("x-amz-copy-source", "bkt/src")
        .h("x-amz-copy-source-range", "bytes=5-50")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    let done = req("POST", Some("bkt"), Some("dst"))
        .q("uploadId", &id)
        .body(complete_body(&[(1, &etag)]))
        .send(&h)
        .await;
    done.assert(200);
    assert_eq!(get(&h, "bkt", "dst").await.text(), "2345");
}

#[tokio::test]
async fn multipart_checksums() {
    use strongbox_store::ChecksumAlgorithm as A;
    let h = Harness::new("mpu-sums");
    make_bucket(&h, "bkt").await;
    let p1 = vec![7u8; 5 * MIB];
    let p2 = b"end".to_vec();
    let mut whole = p1.clone();
    whole.extend_from_slice(&p2);
    for (alg, kind) in [
        ("CRC32", "FULL_OBJECT"),
        ("CRC64NVME", ""),
        ("SHA256", ""),
        ("CRC32C", ""),
    ] {
        let a = A::parse(alg).unwrap();
        let mut create = req("POST", Some("bkt"), Some("k"))
            .q("uploads", "")
            .h("x-amz-checksum-algorithm", alg);
        if !kind.is_empty() {
            create = create.h("x-amz-checksum-type", kind);
        }
        let c = create.send(&h).await;
        c.assert(200);
        let id = c.first("UploadId").unwrap();
        let mut parts = Vec::new();
        for (n, data) in [(1u32, &p1), (2, &p2)] {
            let r = req("PUT", Some("bkt"), Some("k"))
                .q("partNumber", &n.to_string())
                .q("uploadId", &id)
                .body(data.clone())
                .send(&h)
                .await;
            r.assert(200);
            assert_eq!(r.header(a.header()), Some(a.compute(data).as_str()));
            parts.push((n, r.header("etag").unwrap().to_string(), a.compute(data)));
        }
        let inner: String = parts
            .iter()
            .map(|(n, e, s)| {
                format!(
                    "<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag><{x}>{s}</{x}></Part>",
                    x = a.xml_name()
                )
            })
            .collect();
        let done = req("POST", Some("bkt"), Some("k"))
            .q("uploadId", &id)
            .body(format!(
                "<CompleteMultipartUpload>{inner}</CompleteMultipartUpload>"
            ))
            .send(&h)
            .await;
        done.assert(200);
        let g = req("GET", Some("bkt"), Some("k"))
            .h("x-amz-checksum-mode", "ENABLED")
            .send(&h)
            .await;
        let value = g.header(a.header()).unwrap().to_string();
        match g.header("x-amz-checksum-type") {
            Some("FULL_OBJECT") => assert_eq!(value, a.compute(&whole), "{alg}"),
            Some("COMPOSITE") => assert!(value.ends_with("-2"), "{alg}: {value}"),
            other => panic!("{alg}: {other:?}"),
        }
        assert_eq!(
            alg == "CRC32" || alg == "CRC64NVME",
            g.header("x-amz-checksum-type") == Some("FULL_OBJECT")
        );
    }
    req("POST", Some("bkt"), Some("k"))
        .q("uploads", "")
        .h("x-amz-checksum-algorithm", "SHA1")
        .h("x-amz-checksum-type", "FULL_OBJECT")
        .send(&h)
        .await
        .assert_err(400, "InvalidRequest");
    // A PUT without a checksum gets CRC64NVME.
    put(&h, "bkt", "plain", b"hello").await.assert(200);
    let g = req("GET", Some("bkt"), Some("plain"))
        .h("x-amz-checksum-mode", "ENABLED")
        .send(&h)
        .await;
    assert_eq!(
        g.header("x-amz-checksum-crc64nvme"),
        Some(A::Crc64Nvme.compute(b"hello").as_str())
    );
}
