//! Object operations through S3Service::handle.

mod common;
use common::*;
use std::sync::Arc;
use strongbox_core::db::Db;

#[tokio::test]
async fn put_get_head_with_headers_and_metadata() {
    let h = Harness::new("objects");
    make_bucket(&h, "bkt").await;
    let data = b"hello world".to_vec();
    let r = req("PUT", Some("bkt"), Some("dir/hello.txt"))
        .h("content-type", "text/plain")
        .h("cache-control", "no-cache")
        .h("x-amz-meta-color", "blue")
        .h("content-md5", &md5_b64(&data))
        .h("x-amz-checksum-crc32", "DUoRhQ==")
        .body(data.clone())
        .send(&h)
        .await;
    r.assert(200);
    let etag = format!("\"{}\"", md5_hex(&data));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert!(r.header("x-amz-version-id").is_none());

    let g = get(&h, "bkt", "dir/hello.txt").await;
    g.assert(200);
    assert_eq!(&g.body[..], &data[..]);
    assert_eq!(g.header("content-type"), Some("text/plain"));
    assert_eq!(g.header("cache-control"), Some("no-cache"));
    assert_eq!(g.header("x-amz-meta-color"), Some("blue"));
    assert_eq!(g.header("content-length"), Some("11"));
    assert_eq!(g.header("etag"), Some(etag.as_str()));
    assert!(g.header("last-modified").unwrap().ends_with("GMT"));
    assert!(g.header("x-amz-checksum-crc32").is_none());
    let with_mode = req("GET", Some("bkt"), Some("dir/hello.txt"))
        .h("x-amz-checksum-mode", "ENABLED")
        .send(&h)
        .await;
    assert_eq!(with_mode.header("x-amz-checksum-crc32"), Some("DUoRhQ=="));

    let head = req("HEAD", Some("bkt"), Some("dir/hello.txt"))
        .send(&h)
        .await;
    head.assert(200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("11"));

    let o = req("GET", Some("bkt"), Some("dir/hello.txt"))
        .q("response-content-type", "application/x-test")
        .q("response-content-disposition", "attachment")
        .send(&h)
        .await;
    assert_eq!(o.header("content-type"), Some("application/x-test"));
    assert_eq!(o.header("content-disposition"), Some("attachment"));

    // Default content type.
    put(&h, "bkt", "plain", b"").await.assert(200);
    let e = get(&h, "bkt", "plain").await;
    assert_eq!(e.header("content-type"), Some("binary/octet-stream"));
    assert_eq!(e.header("content-length"), Some("0"));
    assert!(e.body.is_empty());
}

#[tokio::test]
async fn integrity_errors() {
    let h = Harness::new("integrity");
    make_bucket(&h, "bkt").await;
    let r = req("PUT", Some("bkt"), Some("k"))
        .h("content-md5", &md5_b64(b"other"))
        .body(b"data".to_vec())
        .send(&h)
        .await;
    r.assert_err(400, "BadDigest");
    req("PUT", Some("bkt"), Some("k"))
        .h("content-md5", "zz")
        .body(b"data".to_vec())
        .send(&h)
        .await
        .assert_err(400, "InvalidDigest");
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-checksum-crc32", "AAAAAA==")
        .body(b"data".to_vec())
        .send(&h)
        .await
        .assert_err(400, "BadDigest");
    // A failed PUT stores nothing and leaves no data file.
    get(&h, "bkt", "k").await.assert_err(404, "NoSuchKey");
    assert_eq!(data_files(&h), 0);
    let long = "k".repeat(1025);
    put(&h, "bkt", &long, b"x")
        .await
        .assert_err(400, "KeyTooLongError");
    req("PUT", Some("bkt"), Some("m"))
        .h("x-amz-meta-big", &"x".repeat(2100))
        .send(&h)
        .await
        .assert_err(400, "MetadataTooLarge");
}

fn data_files(h: &Harness) -> usize {
    let mut n = 0;
    for d in std::fs::read_dir(h.data_dir().join("objects")).unwrap() {
        let d = d.unwrap();
        if d.file_name() != "tmp" {
            n += std::fs::read_dir(d.path()).unwrap().count();
        }
    }
    n
}

#[tokio::test]
async fn odd_keys_are_stored_exactly_and_stay_inside_the_data_dir() {
    // The data dir sits alone inside a fresh directory, so that a key escaping it
    // ("../x") would land where nothing else can be.
    let outer = common::temp_dir("oddkeys");
    let dir = outer.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let db = Arc::new(Db::open(&dir.join("meta.db")).unwrap());
    let h = Harness::open(dir, db, "us-east-1", Arc::new(DirGuard(outer)));
    make_bucket(&h, "bkt").await;
    let unicode = "é".repeat(512); // 1024 UTF-8 bytes
    let keys = [
        "../x",
        "//",
        "../../../../etc/passwd",
        "a/./b",
        " spaced key ",
        "ключ",
        unicode.as_str(),
        "%2F",
    ];
    for (i, k) in keys.iter().enumerate() {
        put(&h, "bkt", k, format!("v{i}").as_bytes())
            .await
            .assert(200);
    }
    for (i, k) in keys.iter().enumerate() {
        let g = get(&h, "bkt", k).await;
        g.assert(200);
        assert_eq!(g.text(), format!("v{i}"));
    }
    let listed = req("GET", Some("bkt"), None)
        .q("list-type", "2")
        .send(&h)
        .await;
    let mut expected: Vec<String> = keys.iter().map(|k| k.replace('&', "&amp;")).collect();
    expected.sort();
    assert_eq!(listed.all("Key"), expected);
    // Nothing outside the data dir; every data file has a random hex name.
    assert!(!h.data_dir().parent().unwrap().join("x").exists());
    for d in std::fs::read_dir(h.data_dir().join("objects")).unwrap() {
        let d = d.unwrap();
        for f in std::fs::read_dir(d.path()).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn ranges() {
    let h = Harness::new("ranges");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", b"0123456789").await.assert(200);
    let r = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=2-4")
        .send(&h)
        .await;
    r.assert(206);
    assert_eq!(r.text(), "234");
    assert_eq!(r.header("content-range"), Some("bytes 2-4/10"));
    assert_eq!(r.header("content-length"), Some("3"));
    let s = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=-3")
        .send(&h)
        .await;
    s.assert(206);
    assert_eq!(s.text(), "789");
    let open = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=7-")
        .send(&h)
        .await;
    assert_eq!(open.text(), "789");
    let past = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=5-100")
        .send(&h)
        .await;
    assert_eq!(past.text(), "56789");
    assert_eq!(past.header("content-range"), Some("bytes 5-9/10"));
    let bad = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=10-")
        .send(&h)
        .await;
    bad.assert_err(416, "InvalidRange");
    assert_eq!(bad.first("ActualObjectSize").as_deref(), Some("10"));
    assert_eq!(bad.header("content-range"), Some("bytes */10"));
    // An unparsable range is ignored.
    let ignored = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=x-y")
        .send(&h)
        .await;
    ignored.assert(200);
    assert_eq!(ignored.text(), "0123456789");
}

#[tokio::test]
async fn conditional_reads() {
    let h = Harness::new("cond");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", b"abc").await.assert(200);
    let etag = format!("\"{}\"", md5_hex(b"abc"));
    let c = |name: &str, value: &str| req("GET", Some("bkt"), Some("k")).h(name, value);
    c("if-match", &etag).send(&h).await.assert(200);
    c("if-match", "\"nope\"")
        .send(&h)
        .await
        .assert_err(412, "PreconditionFailed");
    let nm = c("if-none-match", &etag).send(&h).await;
    nm.assert(304);
    assert!(nm.body.is_empty());
    assert_eq!(nm.header("etag"), Some(etag.as_str()));
    c("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")
        .send(&h)
        .await
        .assert(200);
    c("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")
        .send(&h)
        .await
        .assert(304);
    c("if-unmodified-since", "Sat, 01 Jan 2000 00:00:00 GMT")
        .send(&h)
        .await
        .assert_err(412, "PreconditionFailed");
    // If-Match true overrides If-Unmodified-Since false.
    c("if-match", &etag)
        .h("if-unmodified-since", "Sat, 01 Jan 2000 00:00:00 GMT")
        .send(&h)
        .await
        .assert(200);
    let head412 = req("HEAD", Some("bkt"), Some("k"))
        .h("if-match", "\"x\"")
        .send(&h)
        .await;
    head412.assert(412);
    assert!(head412.body.is_empty());
    // Conditional writes.
    req("PUT", Some("bkt"), Some("k"))
        .h("if-none-match", "*")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert_err(412, "PreconditionFailed");
    req("PUT", Some("bkt"), Some("new"))
        .h("if-none-match", "*")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert(200);
}

#[tokio::test]
async fn access_denied_and_missing_keys() {
    let mut h = Harness::new("access");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", b"abc").await.assert(200);
    let denied = get(&h, "bkt", "k").await;
    denied.assert(200);
    req("GET", Some("bkt"), Some("k"))
        .by(OTHER)
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    req("GET", Some("bkt"), Some("k"))
        .anonymous()
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    let nsk = get(&h, "bkt", "missing").await;
    nsk.assert_err(404, "NoSuchKey");
    assert_eq!(nsk.first("Key").as_deref(), Some("missing"));
    assert_eq!(nsk.first("Resource").as_deref(), Some("/bkt/missing"));
    // Without s3:ListBucket, a missing key is 403.
    h.access = std::sync::Arc::new(OwnerAccess {
        no_list: vec![OWNER.to_string()],
    });
    get(&h, "bkt", "missing")
        .await
        .assert_err(403, "AccessDenied");
    get(&h, "bkt", "k").await.assert(200);
}

#[tokio::test]
async fn delete_objects_batch() {
    let h = Harness::new("multidelete");
    make_bucket(&h, "bkt").await;
    for k in ["a", "b", "c"] {
        put(&h, "bkt", k, b"x").await.assert(200);
    }
    let body = "<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Object><Key>zzz</Key></Object></Delete>";
    req("POST", Some("bkt"), None)
        .q("delete", "")
        .body(body)
        .send(&h)
        .await
        .assert_err(400, "InvalidRequest");
    let r = req("POST", Some("bkt"), None)
        .q("delete", "")
        .h("content-md5", &md5_b64(body.as_bytes()))
        .body(body)
        .send(&h)
        .await;
    r.assert(200);
    assert_eq!(r.all("Key"), ["a", "b", "zzz"]);
    get(&h, "bkt", "a").await.assert(404);
    get(&h, "bkt", "c").await.assert(200);
    let quiet = "<Delete><Quiet>true</Quiet><Object><Key>c</Key></Object></Delete>";
    let q = req("POST", Some("bkt"), None)
        .q("delete", "")
        .h("content-md5", &md5_b64(quiet.as_bytes()))
        .body(quiet)
        .send(&h)
        .await;
    q.assert(200);
    assert!(q.all("Deleted").is_empty());
    let bad = "<Delete><Object>";
    req("POST", Some("bkt"), None)
        .q("delete", "")
        .h("content-md5", &md5_b64(bad.as_bytes()))
        .body(bad)
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");
    req("POST", Some("bkt"), None)
        .q("delete", "")
        .h("content-md5", &md5_b64(b"x"))
        .body(quiet)
        .send(&h)
        .await
        .assert_err(400, "BadDigest");
    // Per-key errors for keys the caller may not delete.
    make_bucket(&h, "mine").await;
    put(&h, "mine", "k", b"x").await;
    let one = "<Delete><Object><Key>k</Key></Object></Delete>";
    let other = req("POST", Some("mine"), None)
        .q("delete", "")
        .h("content-md5", &md5_b64(one.as_bytes()))
        .body(one);
    // The other account is denied per key (the bucket lookup itself is allowed).
    let resp = other.by(OTHER).send(&h).await;
    resp.assert(200);
    assert_eq!(resp.first("Code").as_deref(), Some("AccessDenied"));
    get(&h, "mine", "k").await.assert(200);
}

#[tokio::test]
async fn copy_object() {
    let h = Harness::new("copy");
    make_bucket(&h, "src").await;
    make_bucket(&h, "dst").await;
    req("PUT", Some("src"), Some("a b"))
        .h("content-type", "text/plain")
        .h("x-amz-meta-m", "1")
        .h("x-amz-tagging", "t=1")
        .body(b"payload".to_vec())
        .send(&h)
        .await
        .assert(200);
    let c = req("PUT", Some("dst"), Some("copy"))
        .h("x-amz-copy-source", "/src/a%20b")
        .send(&h)
        .await;
    c.assert(200);
    assert_eq!(
        c.first("ETag"),
        Some(format!("&quot;{}&quot;", md5_hex(b"payload")))
    );
    let g = get(&h, "dst", "copy").await;
    assert_eq!(g.text(), "payload");
    assert_eq!(g.header("x-amz-meta-m"), Some("1"));
    assert_eq!(g.header("content-type"), Some("text/plain"));
    assert_eq!(g.header("x-amz-tagging-count"), Some("1"));

    let r = req("PUT", Some("dst"), Some("replaced"))
        .h("x-amz-copy-source", "src/a%20b")
        .h("x-amz-metadata-directive", "REPLACE")
        .h("x-amz-tagging-directive", "REPLACE")
        .h("x-amz-meta-n", "2")
        .send(&h)
        .await;
    r.assert(200);
    let g = get(&h, "dst", "replaced").await;
    assert_eq!(g.header("x-amz-meta-m"), None);
    assert_eq!(g.header("x-amz-meta-n"), Some("2"));
    assert_eq!(g.header("content-type"), Some("binary/octet-stream"));
    assert_eq!(g.header("x-amz-tagging-count"), None);

    req("PUT", Some("src"), Some("a b"))
        .h("x-amz-copy-source", "/src/a%20b")
        .send(&h)
        .await
        .assert_err(400, "InvalidRequest");
    req("PUT", Some("src"), Some("a b"))
        .h("x-amz-copy-source", "/src/a%20b")
        .h("x-amz-metadata-directive", "REPLACE")
        .send(&h)
        .await
        .assert(200);
    req("PUT", Some("dst"), Some("x"))
        .h("x-amz-copy-source", "/src/missing")
        .send(&h)
        .await
        .assert_err(404, "NoSuchKey");
    req("PUT", Some("dst"), Some("x"))
        .h("x-amz-copy-source", "/src/a%20b")
        .h("x-amz-metadata-directive", "MOVE")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("PUT", Some("dst"), Some("x"))
        .h("x-amz-copy-source", "/src/a%20b")
        .h("x-amz-copy-source-if-match", "\"nope\"")
        .send(&h)
        .await
        .assert_err(412, "PreconditionFailed");
    // Another account may not read the source.
    make_bucket(&h, "xxx").await;
    req("PUT", Some("xxx"), Some("k"))
        .h("x-amz-copy-source", "/src/a%20b")
        .by(OTHER)
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
}

#[tokio::test]
async fn object_attributes() {
    let h = Harness::new("attributes");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", b"hello").await.assert(200);
    let r = req("GET", Some("bkt"), Some("k"))
        .q("attributes", "")
        .h(
            "x-amz-object-attributes",
            "ETag,ObjectSize,StorageClass,Checksum",
        )
        .send(&h)
        .await;
    r.assert(200);
    assert_eq!(r.first("ETag"), Some(md5_hex(b"hello")));
    assert_eq!(r.first("ObjectSize").as_deref(), Some("5"));
    assert_eq!(r.first("StorageClass").as_deref(), Some("STANDARD"));
    assert!(r.first("ChecksumCRC64NVME").is_some());
    req("GET", Some("bkt"), Some("k"))
        .q("attributes", "")
        .h("x-amz-object-attributes", "Color")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("GET", Some("bkt"), Some("nope"))
        .q("attributes", "")
        .h("x-amz-object-attributes", "ETag")
        .send(&h)
        .await
        .assert_err(404, "NoSuchKey");
}

#[tokio::test]
async fn storage_class_and_expected_owner() {
    let h = Harness::new("class");
    make_bucket(&h, "bkt").await;
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-storage-class", "STANDARD_IA")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert(200);
    assert_eq!(
        get(&h, "bkt", "k").await.header("x-amz-storage-class"),
        Some("STANDARD_IA")
    );
    let l = req("GET", Some("bkt"), None)
        .q("list-type", "2")
        .send(&h)
        .await;
    assert_eq!(l.first("StorageClass").as_deref(), Some("STANDARD_IA"));
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-storage-class", "COLD")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert_err(400, "InvalidStorageClass");
    put(&h, "bkt", "s", b"x").await;
    assert_eq!(
        get(&h, "bkt", "s").await.header("x-amz-storage-class"),
        None
    );
    req("GET", Some("bkt"), Some("s"))
        .h("x-amz-expected-bucket-owner", OWNER)
        .send(&h)
        .await
        .assert(200);
    req("GET", Some("bkt"), Some("s"))
        .h("x-amz-expected-bucket-owner", OTHER)
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
}
