//! ListObjects v1/v2 and ListObjectVersions.

mod common;
use common::*;

async fn setup(name: &str) -> Harness {
    let h = Harness::new(name);
    make_bucket(&h, "bkt").await;
    for k in ["a/1", "a/2", "b", "c/x/1", "c/y", "d e", "z+"] {
        put(&h, "bkt", k, b"x").await.assert(200);
    }
    h
}

fn v2() -> Req {
    req("GET", Some("bkt"), None).q("list-type", "2")
}

#[tokio::test]
async fn list_v2_delimiter_and_pages() {
    let h = setup("listv2").await;
    let r = v2().q("delimiter", "/").send(&h).await;
    r.assert(200);
    assert_eq!(r.all("Key"), ["b", "d e", "z+"]);
    assert_eq!(r.all("Prefix"), ["", "a/", "c/"]);
    assert_eq!(r.first("KeyCount").as_deref(), Some("5"));
    assert_eq!(r.first("IsTruncated").as_deref(), Some("false"));
    assert!(r.first("Owner").is_none());
    assert_eq!(
        r.first("ETag"),
        Some(format!("&quot;{}&quot;", md5_hex(b"x")))
    );

    // Page through two at a time with continuation tokens.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = v2().q("delimiter", "/").q("max-keys", "2");
        if let Some(t) = &token {
            q = q.q("continuation-token", t);
        }
        let p = q.send(&h).await;
        p.assert(200);
        seen.extend(p.all("Key"));
        seen.extend(p.all("Prefix").into_iter().skip(1));
        if p.first("IsTruncated").as_deref() == Some("false") {
            assert!(p.first("NextContinuationToken").is_none());
            break;
        }
        token = p.first("NextContinuationToken");
        assert!(token.is_some());
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b", "c/", "d e", "z+"]);

    let after = v2().q("start-after", "b").send(&h).await;
    assert_eq!(after.all("Key"), ["c/x/1", "c/y", "d e", "z+"]);
    let prefixed = v2()
        .q("prefix", "c/")
        .q("delimiter", "/")
        .q("fetch-owner", "true")
        .send(&h)
        .await;
    assert_eq!(prefixed.all("Key"), ["c/y"]);
    assert_eq!(prefixed.all("Prefix"), ["c/", "c/x/"]);
    assert_eq!(prefixed.first("ID").as_deref(), Some("canon111111111111"));
    let enc = v2().q("encoding-type", "url").send(&h).await;
    assert!(enc.all("Key").contains(&"d+e".to_string()));
    assert!(enc.all("Key").contains(&"z%2B".to_string()));
    assert_eq!(enc.first("EncodingType").as_deref(), Some("url"));
    v2().q("continuation-token", "!!")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    v2().q("max-keys", "abc")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    v2().q("encoding-type", "base64")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    let zero = v2().q("max-keys", "0").send(&h).await;
    assert!(zero.all("Key").is_empty());
    // S3 answers max-keys=0 with an empty page that is not truncated.
    assert_eq!(zero.first("IsTruncated").as_deref(), Some("false"));
    req("GET", Some("bkt"), None)
        .q("list-type", "2")
        .by(OTHER)
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
}

#[tokio::test]
async fn list_v1_markers() {
    let h = setup("listv1").await;
    let r = req("GET", Some("bkt"), None)
        .q("max-keys", "3")
        .send(&h)
        .await;
    r.assert(200);
    assert_eq!(r.all("Key"), ["a/1", "a/2", "b"]);
    assert_eq!(r.first("IsTruncated").as_deref(), Some("true"));
    // Without a delimiter, v1 has no NextMarker: the client uses the last key.
    assert!(r.first("NextMarker").is_none());
    assert!(r.first("Owner").is_some());
    let r2 = req("GET", Some("bkt"), None)
        .q("marker", "b")
        .send(&h)
        .await;
    assert_eq!(r2.all("Key"), ["c/x/1", "c/y", "d e", "z+"]);
    let d = req("GET", Some("bkt"), None)
        .q("delimiter", "/")
        .q("max-keys", "1")
        .send(&h)
        .await;
    assert_eq!(d.first("NextMarker").as_deref(), Some("a/"));
    let d2 = req("GET", Some("bkt"), None)
        .q("delimiter", "/")
        .q("marker", "a/")
        .q("max-keys", "2")
        .send(&h)
        .await;
    assert_eq!(d2.all("Key"), ["b"]);
    assert_eq!(d2.all("Prefix"), ["", "c/"]);
}

#[tokio::test]
async fn versions_and_delete_markers() {
    let h = Harness::new("versions");
    make_bucket(&h, "bkt").await;
    let vreq = |status: &str| {
        req("PUT", Some("bkt"), None)
            .q("versioning", "")
            .body(format!(
                "<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>"
            ))
    };
    let g = req("GET", Some("bkt"), None)
        .q("versioning", "")
        .send(&h)
        .await;
    assert!(g.first("Status").is_none());
    put(&h, "bkt", "k", b"null-version").await.assert(200);
    vreq("Enabled").send(&h).await.assert(200);
    vreq("Sometimes")
        .send(&h)
        .await
        .assert_err(400, "MalformedXML");
    let g = req("GET", Some("bkt"), None)
        .q("versioning", "")
        .send(&h)
        .await;
    assert_eq!(g.first("Status").as_deref(), Some("Enabled"));

    let v1 = put(&h, "bkt", "k", b"one").await;
    let v1 = v1.header("x-amz-version-id").unwrap().to_string();
    let v2 = put(&h, "bkt", "k", b"two")
        .await
        .header("x-amz-version-id")
        .unwrap()
        .to_string();
    assert_ne!(v1, v2);
    let latest = get(&h, "bkt", "k").await;
    assert_eq!(latest.text(), "two");
    assert_eq!(latest.header("x-amz-version-id"), Some(v2.as_str()));
    let old = req("GET", Some("bkt"), Some("k"))
        .q("versionId", &v1)
        .send(&h)
        .await;
    assert_eq!(old.text(), "one");
    let null = req("GET", Some("bkt"), Some("k"))
        .q("versionId", "null")
        .send(&h)
        .await;
    assert_eq!(null.text(), "null-version");
    assert_eq!(null.header("x-amz-version-id"), Some("null"));

    let del = req("DELETE", Some("bkt"), Some("k")).send(&h).await;
    del.assert(204);
    assert_eq!(del.header("x-amz-delete-marker"), Some("true"));
    let marker = del.header("x-amz-version-id").unwrap().to_string();
    let gone = get(&h, "bkt", "k").await;
    gone.assert_err(404, "NoSuchKey");
    assert_eq!(gone.header("x-amz-delete-marker"), Some("true"));
    let on_marker = req("GET", Some("bkt"), Some("k"))
        .q("versionId", &marker)
        .send(&h)
        .await;
    on_marker.assert_err(405, "MethodNotAllowed");
    assert_eq!(on_marker.header("x-amz-delete-marker"), Some("true"));
    let head_marker = req("HEAD", Some("bkt"), Some("k"))
        .q("versionId", &marker)
        .send(&h)
        .await;
    head_marker.assert(405);
    assert!(head_marker.body.is_empty());
    req("GET", Some("bkt"), Some("k"))
        .q("versionId", "nonexistent")
        .send(&h)
        .await
        .assert_err(404, "NoSuchVersion");
    assert!(req("GET", Some("bkt"), None)
        .q("list-type", "2")
        .send(&h)
        .await
        .all("Key")
        .is_empty());

    let list = req("GET", Some("bkt"), None)
        .q("versions", "")
        .send(&h)
        .await;
    list.assert(200);
    assert_eq!(
        list.all("VersionId"),
        [marker.clone(), v2.clone(), v1.clone(), "null".to_string()]
    );
    assert_eq!(list.all("IsLatest"), ["true", "false", "false", "false"]);
    assert_eq!(list.all("DeleteMarker").len(), 1);
    let page = req("GET", Some("bkt"), None)
        .q("versions", "")
        .q("max-keys", "2")
        .send(&h)
        .await;
    assert_eq!(
        page.first("NextVersionIdMarker").as_deref(),
        Some(v2.as_str())
    );
    let rest = req("GET", Some("bkt"), None)
        .q("versions", "")
        .q("key-marker", "k")
        .q("version-id-marker", &v2)
        .send(&h)
        .await;
    assert_eq!(rest.all("VersionId"), [v1.clone(), "null".to_string()]);
    req("GET", Some("bkt"), None)
        .q("versions", "")
        .q("version-id-marker", &v2)
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");

    // Deleting the marker restores v2; deleting v2 by id makes v1 latest.
    req("DELETE", Some("bkt"), Some("k"))
        .q("versionId", &marker)
        .send(&h)
        .await
        .assert(204);
    assert_eq!(get(&h, "bkt", "k").await.text(), "two");
    req("DELETE", Some("bkt"), Some("k"))
        .q("versionId", &v2)
        .send(&h)
        .await
        .assert(204);
    assert_eq!(get(&h, "bkt", "k").await.text(), "one");

    // Suspended: new writes replace the null version.
    vreq("Suspended").send(&h).await.assert(200);
    put(&h, "bkt", "k", b"suspended").await.assert(200);
    let versions = req("GET", Some("bkt"), None)
        .q("versions", "")
        .send(&h)
        .await;
    assert_eq!(versions.all("VersionId"), ["null".to_string(), v1.clone()]);
    assert_eq!(get(&h, "bkt", "k").await.text(), "suspended");
    req("DELETE", Some("bkt"), None)
        .send(&h)
        .await
        .assert_err(409, "BucketNotEmpty");
}

#[tokio::test]
async fn object_and_bucket_tagging() {
    let h = Harness::new("tagging");
    make_bucket(&h, "bkt").await;
    req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-tagging", "a=1&b=two%20words")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert(200);
    let t = req("GET", Some("bkt"), Some("k"))
        .q("tagging", "")
        .send(&h)
        .await;
    t.assert(200);
    assert_eq!(t.all("Key"), ["a", "b"]);
    assert_eq!(t.all("Value"), ["1", "two words"]);
    let eleven: String = (0..11)
        .map(|i| format!("<Tag><Key>k{i}</Key><Value>v</Value></Tag>"))
        .collect();
    let body = format!("<Tagging><TagSet>{eleven}</TagSet></Tagging>");
    req("PUT", Some("bkt"), Some("k"))
        .q("tagging", "")
        .body(body)
        .send(&h)
        .await
        .assert_err(400, "InvalidTag");
    let long = format!(
        "<Tagging><TagSet><Tag><Key>{}</Key><Value>v</Value></Tag></TagSet></Tagging>",
        "k".repeat(129)
    );
    req("PUT", Some("bkt"), Some("k"))
        .q("tagging", "")
        .body(long)
        .send(&h)
        .await
        .assert_err(400, "InvalidTag");
    let dup = "<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>";
    req("PUT", Some("bkt"), Some("k"))
        .q("tagging", "")
        .body(dup)
        .send(&h)
        .await
        .assert_err(400, "InvalidTag");
    let one = "<Tagging><TagSet><Tag><Key>x</Key><Value>y</Value></Tag></TagSet></Tagging>";
    req("PUT", Some("bkt"), Some("k"))
        .q("tagging", "")
        .body(one)
        .send(&h)
        .await
        .assert(200);
    assert_eq!(
        req("GET", Some("bkt"), Some("k"))
            .q("tagging", "")
            .send(&h)
            .await
            .all("Key"),
        ["x"]
    );
    req("PUT", Some("bkt"), Some("nokey"))
        .q("tagging", "")
        .body(one)
        .send(&h)
        .await
        .assert_err(404, "NoSuchKey");
    req("DELETE", Some("bkt"), Some("k"))
        .q("tagging", "")
        .send(&h)
        .await
        .assert(204);
    assert!(req("GET", Some("bkt"), Some("k"))
        .q("tagging", "")
        .send(&h)
        .await
        .all("Key")
        .is_empty());
    req("PUT", Some("bkt"), Some("k2"))
        .h("x-amz-tagging", "aws:x=1")
        .body(b"x".to_vec())
        .send(&h)
        .await
        .assert_err(400, "InvalidTag");

    req("GET", Some("bkt"), None)
        .q("tagging", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchTagSet");
    req("PUT", Some("bkt"), None)
        .q("tagging", "")
        .body(one)
        .send(&h)
        .await
        .assert(204);
    assert_eq!(
        req("GET", Some("bkt"), None)
            .q("tagging", "")
            .send(&h)
            .await
            .all("Value"),
        ["y"]
    );
    req("DELETE", Some("bkt"), None)
        .q("tagging", "")
        .send(&h)
        .await
        .assert(204);
    req("GET", Some("bkt"), None)
        .q("tagging", "")
        .send(&h)
        .await
        .assert_err(404, "NoSuchTagSet");
}
