//! Crash leftovers are swept at start-up; overwrites and deletes remove old data files.

mod common;
use common::*;

/// A body too large to be stored inline, so that it gets a data file; text, so
/// that responses compare with `Resp::text`.
fn large(tag: &str) -> Vec<u8> {
    tag.repeat(strongbox_store::files::INLINE_LIMIT / tag.len() + 1)
        .into_bytes()
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(dir.join("objects")).unwrap() {
        let d = d.unwrap();
        for f in std::fs::read_dir(d.path()).unwrap() {
            out.push(f.unwrap().file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn restart_sweeps_orphans_and_keeps_objects() {
    let h = Harness::new("durable");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", &large("first")).await.assert(200);
    assert_eq!(files_in(h.data_dir()).len(), 1);
    put(&h, "bkt", "k", &large("second")).await.assert(200);
    // The overwritten object's data file is gone.
    assert_eq!(files_in(h.data_dir()).len(), 1);
    // A small object lives in the metadata: no data file of its own.
    put(&h, "bkt", "small", b"tiny").await.assert(200);
    assert_eq!(files_in(h.data_dir()).len(), 1);

    // Simulate a crash: a temp file mid-write and a renamed file whose metadata never committed.
    let objects = h.data_dir().join("objects");
    std::fs::write(
        objects
            .join("tmp")
            .join("0123456789abcdef0123456789abcdef.tmp"),
        b"partial",
    )
    .unwrap();
    std::fs::create_dir_all(objects.join("ff")).unwrap();
    std::fs::write(
        objects.join("ff").join("ff23456789abcdef0123456789abcdef"),
        b"orphan",
    )
    .unwrap();
    assert_eq!(files_in(h.data_dir()).len(), 3);

    let h = h.reopen();
    assert_eq!(files_in(h.data_dir()).len(), 1);
    assert_eq!(
        get(&h, "bkt", "k").await.text().into_bytes(),
        large("second")
    );
    assert_eq!(get(&h, "bkt", "small").await.text(), "tiny");

    for key in ["k", "small"] {
        req("DELETE", Some("bkt"), Some(key))
            .send(&h)
            .await
            .assert(204);
    }
    assert!(files_in(h.data_dir()).is_empty());
}

#[tokio::test]
async fn truncated_body_stores_nothing() {
    let h = Harness::new("truncated");
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", &large("old")).await.assert(200);
    // The server's body stream fails midway (client went away / bad chunk signature).
    let chunks: Vec<Result<bytes::Bytes, strongbox_s3::BodyError>> = vec![
        Ok(bytes::Bytes::from_static(b"new da")),
        Err(strongbox_s3::BodyError::IncompleteBody),
    ];
    let body = strongbox_s3::RequestBody {
        stream: Box::pin(futures_util::stream::iter(chunks)),
        trailers: Default::default(),
        decoded_length: Some(100),
    };
    let r = send_with_body(&h, "k", body).await;
    assert_eq!(r.0, 400);
    assert!(r.1.contains("<Code>IncompleteBody</Code>"));
    assert_eq!(get(&h, "bkt", "k").await.text().into_bytes(), large("old"));
    assert_eq!(files_in(h.data_dir()).len(), 1);
    // A body shorter than its declared length is IncompleteBody too.
    let short = strongbox_s3::RequestBody {
        stream: Box::pin(futures_util::stream::iter(vec![Ok(
            bytes::Bytes::from_static(b"abc"),
        )])),
        trailers: Default::default(),
        decoded_length: Some(10),
    };
    let r = send_with_body(&h, "k", short).await;
    assert_eq!(r.0, 400);
    assert!(r.1.contains("IncompleteBody"));
    assert_eq!(files_in(h.data_dir()).len(), 1);
}

async fn send_with_body(h: &Harness, key: &str, body: strongbox_s3::RequestBody) -> (u16, String) {
    let request = strongbox_s3::S3Request {
        meta: strongbox_core::RequestMeta::local("REQ1", "us-east-1"),
        caller: strongbox_core::Caller::root(OWNER, None),
        canonical_user_id: format!("canon{OWNER}"),
        method: http::Method::PUT,
        bucket: Some("bkt".into()),
        key: Some(key.into()),
        query: vec![],
        headers: http::HeaderMap::new(),
        body,
        access: h.access.clone(),
    };
    let resp = h.svc.handle(request).await;
    let status = resp.status().as_u16();
    let text = String::from_utf8_lossy(&resp.into_body().collect().await.unwrap()).into_owned();
    (status, text)
}

#[tokio::test]
async fn concurrent_puts_last_complete_wins() {
    let h = std::sync::Arc::new(Harness::new("concurrent"));
    make_bucket(&h, "bkt").await;
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let data = vec![i; 100_000];
            put(&h, "bkt", "same", &data).await.status.as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let g = get(&h, "bkt", "same").await;
    assert_eq!(g.body.len(), 100_000);
    assert!(
        g.body.iter().all(|b| *b == g.body[0]),
        "object is one write, not a mix"
    );
    assert_eq!(files_in(h.data_dir()).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_during_overwrites_see_whole_objects() {
    let h = std::sync::Arc::new(Harness::new("readwrite"));
    make_bucket(&h, "bkt").await;
    put(&h, "bkt", "k", &vec![0u8; 300_000]).await.assert(200);
    let writer = {
        let h = h.clone();
        tokio::spawn(async move {
            for i in 1..=20u8 {
                put(&h, "bkt", "k", &vec![i; 300_000]).await.assert(200);
            }
        })
    };
    let mut readers = Vec::new();
    for _ in 0..4 {
        let h = h.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..20 {
                let g = get(&h, "bkt", "k").await;
                g.assert(200);
                assert_eq!(g.body.len(), 300_000);
                assert!(
                    g.body.iter().all(|b| *b == g.body[0]),
                    "a read mixed two writes"
                );
            }
        }));
    }
    writer.await.unwrap();
    for r in readers {
        r.await.unwrap();
    }
    assert_eq!(files_in(h.data_dir()).len(), 1);
}
