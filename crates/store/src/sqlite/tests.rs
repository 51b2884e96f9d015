use super::*;

fn meta() -> SqliteMeta {
    SqliteMeta::open(Arc::new(Db::open_in_memory().unwrap())).unwrap()
}

fn bucket(name: &str) -> Bucket {
    Bucket {
        object_ownership: Some("BucketOwnerEnforced".into()),
        ..Bucket::new(name, "111111111111", "us-east-1", Timestamp::now())
    }
}

fn obj(key: &str, file: &str) -> NewObject {
    NewObject {
        bucket: "b".into(),
        key: key.into(),
        size: 1,
        etag: "e".into(),
        owner_account: "111111111111".into(),
        segments: vec![Segment::file(file, 1)],
        ..NewObject::default()
    }
}

fn keys(page: &Page<ObjectVersion>) -> Vec<String> {
    page.entries
        .iter()
        .map(|e| match e {
            Listed::Item(o) => o.key.clone(),
            Listed::Prefix(p) => format!("P:{p}"),
        })
        .collect()
}

#[test]
fn buckets() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    assert!(matches!(
        m.create_bucket(&bucket("b")),
        Err(StoreError::BucketExists { .. })
    ));
    assert_eq!(m.list_buckets("111111111111").unwrap().len(), 1);
    assert!(m.list_buckets("222222222222").unwrap().is_empty());
    m.set_bucket_field("b", BucketField::Policy, Some("{}"))
        .unwrap();
    assert_eq!(
        m.get_bucket("b").unwrap().unwrap().policy.as_deref(),
        Some("{}")
    );
    m.put_object(obj("k", "f1")).unwrap();
    assert!(matches!(
        m.delete_bucket("b"),
        Err(StoreError::BucketNotEmpty)
    ));
    m.delete_object("b", "k", None, "111111111111").unwrap();
    m.delete_bucket("b").unwrap();
    assert!(m.get_bucket("b").unwrap().is_none());
    assert!(matches!(
        m.put_object(obj("k", "f1")),
        Err(StoreError::NoSuchBucket)
    ));
}

#[test]
fn overwrite_unversioned() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    let a = m.put_object(obj("k", "f1")).unwrap();
    assert_eq!(a.version_id, "null");
    assert!(a.obsolete_files.is_empty());
    let b = m.put_object(obj("k", "f2")).unwrap();
    assert_eq!(b.obsolete_files, vec!["f1".to_string()]);
    let o = m.get_object("b", "k", None).unwrap().unwrap();
    assert_eq!(m.object_segments(o.row_id).unwrap()[0].file_id, "f2");
    let d = m.delete_object("b", "k", None, "111111111111").unwrap();
    assert_eq!(d.obsolete_files, vec!["f2".to_string()]);
    assert!(!d.delete_marker);
    assert!(m.get_object("b", "k", None).unwrap().is_none());
    assert_eq!(m.referenced_files().unwrap().len(), 0);
}

#[test]
fn inline_bytes_are_stored_with_the_row_and_leave_no_file_to_remove() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    let mut small = obj("k", "");
    small.segments = vec![Segment {
        file_id: String::new(),
        length: 3,
        inline: Some(bytes::Bytes::from_static(b"abc")),
    }];
    m.put_object(small).unwrap();
    let o = m.get_object("b", "k", None).unwrap().unwrap();
    let segs = m.object_segments(o.row_id).unwrap();
    assert_eq!(segs[0].inline.as_deref(), Some(&b"abc"[..]));
    // Overwriting an inline object with a file-backed one obsoletes no file.
    let b = m.put_object(obj("k", "f2")).unwrap();
    assert!(b.obsolete_files.is_empty());
    let o = m.get_object("b", "k", None).unwrap().unwrap();
    assert_eq!(m.object_segments(o.row_id).unwrap()[0].inline, None);
}

#[test]
fn versioning() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    m.put_object(obj("k", "f0")).unwrap(); // null version from before versioning
    m.set_versioning("b", Versioning::Enabled).unwrap();
    let v1 = m.put_object(obj("k", "f1")).unwrap();
    let v2 = m.put_object(obj("k", "f2")).unwrap();
    assert!(v1.obsolete_files.is_empty() && v2.obsolete_files.is_empty());
    assert_ne!(v1.version_id, v2.version_id);
    assert_eq!(v1.version_id.len(), 32);
    let del = m.delete_object("b", "k", None, "111111111111").unwrap();
    assert!(del.delete_marker);
    let latest = m.get_object("b", "k", None).unwrap().unwrap();
    assert!(latest.delete_marker);
    let q = ListQuery {
        bucket: "b".into(),
        max: 1000,
        ..ListQuery::default()
    };
    assert!(m.list_objects(&q).unwrap().entries.is_empty());
    let versions = m.list_versions(&q).unwrap();
    let ids: Vec<String> = versions
        .entries
        .iter()
        .filter_map(|e| match e {
            Listed::Item(o) => Some(o.version_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            del.version_id.clone().unwrap(),
            v2.version_id.clone(),
            v1.version_id.clone(),
            "null".into()
        ]
    );
    // Paging by key-marker + version-id-marker.
    let q2 = ListQuery {
        key_marker: Some("k".into()),
        id_marker: Some(v2.version_id.clone()),
        ..q.clone()
    };
    assert_eq!(m.list_versions(&q2).unwrap().entries.len(), 2);
    // Removing the delete marker makes v2 latest again.
    let undo = m
        .delete_object("b", "k", del.version_id.as_deref(), "111111111111")
        .unwrap();
    assert!(undo.delete_marker);
    let latest = m.get_object("b", "k", None).unwrap().unwrap();
    assert_eq!(latest.version_id, v2.version_id);
    // Suspended: PUT replaces the null version only.
    m.set_versioning("b", Versioning::Suspended).unwrap();
    let s = m.put_object(obj("k", "f3")).unwrap();
    assert_eq!(s.version_id, "null");
    assert_eq!(s.obsolete_files, vec!["f0".to_string()]);
    assert_eq!(
        m.get_object("b", "k", Some(&v1.version_id))
            .unwrap()
            .unwrap()
            .size,
        1
    );
    let sd = m.delete_object("b", "k", None, "111111111111").unwrap();
    assert_eq!(sd.version_id.as_deref(), Some("null"));
    assert_eq!(sd.obsolete_files, vec!["f3".to_string()]);
}

#[test]
fn listing_prefix_delimiter_marker() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    for (i, k) in ["a/1", "a/2", "b", "c/x/1", "c/y", "d", "é", "z/"]
        .iter()
        .enumerate()
    {
        m.put_object(obj(k, &format!("f{i}"))).unwrap();
    }
    let q = |prefix: &str, delim: Option<&str>, marker: Option<&str>, max: usize| ListQuery {
        bucket: "b".into(),
        prefix: prefix.into(),
        delimiter: delim.map(str::to_string),
        key_marker: marker.map(str::to_string),
        id_marker: None,
        max,
    };
    assert_eq!(
        keys(&m.list_objects(&q("", Some("/"), None, 1000)).unwrap()),
        ["P:a/", "b", "P:c/", "d", "P:z/", "é"]
    );
    assert_eq!(
        keys(&m.list_objects(&q("c/", Some("/"), None, 1000)).unwrap()),
        ["P:c/x/", "c/y"]
    );
    assert_eq!(
        keys(&m.list_objects(&q("a", None, None, 1000)).unwrap()),
        ["a/1", "a/2"]
    );
    let p = m.list_objects(&q("", Some("/"), None, 2)).unwrap();
    assert_eq!(keys(&p), ["P:a/", "b"]);
    assert!(p.truncated);
    // Resuming after a common prefix does not repeat it.
    assert_eq!(
        keys(&m.list_objects(&q("", Some("/"), Some("a/"), 2)).unwrap()),
        ["b", "P:c/"]
    );
    assert_eq!(
        keys(&m.list_objects(&q("", None, Some("c/x/1"), 1000)).unwrap()),
        ["c/y", "d", "z/", "é"]
    );
    let last = m.list_objects(&q("", Some("/"), Some("d"), 2)).unwrap();
    assert_eq!(keys(&last), ["P:z/", "é"]);
    assert!(!last.truncated);
    let zero = m.list_objects(&q("", None, None, 0)).unwrap();
    // max 0 is an empty page that is not truncated, as S3 answers max-keys=0.
    assert!(zero.entries.is_empty() && !zero.truncated);
}

#[test]
fn many_keys_page_across_batches() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    for i in 0..2500 {
        m.put_object(obj(&format!("k{i:05}"), &format!("f{i}")))
            .unwrap();
    }
    let mut marker = None;
    let mut seen = 0;
    loop {
        let q = ListQuery {
            bucket: "b".into(),
            key_marker: marker.clone(),
            max: 1000,
            ..ListQuery::default()
        };
        let p = m.list_objects(&q).unwrap();
        seen += p.entries.len();
        if !p.truncated {
            break;
        }
        marker = keys(&p).last().cloned();
    }
    assert_eq!(seen, 2500);
    // One common prefix rolls up all 2500 keys (skipping ahead past whole batches).
    let q = ListQuery {
        bucket: "b".into(),
        delimiter: Some("0".into()),
        max: 1000,
        ..ListQuery::default()
    };
    assert_eq!(keys(&m.list_objects(&q).unwrap()), ["P:k0"]);
    let q = ListQuery {
        bucket: "b".into(),
        prefix: "k02".into(),
        delimiter: Some("4".into()),
        max: 3,
        ..ListQuery::default()
    };
    let p = m.list_objects(&q).unwrap();
    assert_eq!(keys(&p), ["k02000", "k02001", "k02002"]);
    assert!(p.truncated);
}

#[test]
fn multipart() {
    let m = meta();
    m.create_bucket(&bucket("b")).unwrap();
    let up = Upload {
        upload_id: "u1".into(),
        bucket: "b".into(),
        key: "k".into(),
        initiated: Timestamp::now(),
        owner_account: "111111111111".into(),
        initiator_arn: "arn".into(),
        initiator_id: "id".into(),
        headers: vec![],
        metadata: vec![],
        tags: vec![],
        acl: None,
        checksum_algorithm: None,
        encryption: None,
        checksum_type: None,
    };
    m.create_upload(&up).unwrap();
    m.create_upload(&Upload {
        upload_id: "u2".into(),
        ..up.clone()
    })
    .unwrap();
    let part = |n: u32, f: &str| Part {
        part_number: n,
        file_id: f.into(),
        size: 5,
        etag: "x".into(),
        last_modified: Timestamp::now(),
        checksum: None,
        encryption: Some(format!("enc-{f}")),
    };
    assert_eq!(m.put_part("u1", &part(1, "p1")).unwrap(), None);
    assert_eq!(
        m.put_part("u1", &part(1, "p1b")).unwrap(),
        Some("p1".into())
    );
    m.put_part("u1", &part(2, "p2")).unwrap();
    m.put_part("u1", &part(3, "p3")).unwrap();
    let (parts, more) = m.list_parts("u1", 1, 1).unwrap();
    assert_eq!(parts[0].part_number, 2);
    assert!(more);
    let q = ListQuery {
        bucket: "b".into(),
        max: 1000,
        ..ListQuery::default()
    };
    assert_eq!(m.list_uploads(&q).unwrap().entries.len(), 2);
    let q2 = ListQuery {
        key_marker: Some("k".into()),
        id_marker: Some("u1".into()),
        ..q.clone()
    };
    let rest = m.list_uploads(&q2).unwrap();
    assert!(matches!(&rest.entries[..], [Listed::Item(u)] if u.upload_id == "u2"));
    let mut o = obj("k", "p1b");
    o.segments.push(Segment::file("p3", 5));
    let done = m.complete_upload("u1", o).unwrap();
    assert_eq!(done.obsolete_files, vec!["p2".to_string()]);
    assert!(matches!(
        m.put_part("u1", &part(4, "p4")),
        Err(StoreError::NoSuchUpload)
    ));
    assert_eq!(m.abort_upload("u2").unwrap(), Vec::<String>::new());
    assert!(matches!(
        m.abort_upload("u2"),
        Err(StoreError::NoSuchUpload)
    ));
}

#[test]
fn upper_bounds() {
    assert_eq!(prefix_upper_bound(b"a/"), Some(b"a0".to_vec()));
    assert_eq!(prefix_upper_bound(b""), None);
    assert_eq!(prefix_upper_bound(&[0x61, 0xFF]), Some(vec![0x62]));
    assert_eq!(prefix_upper_bound(&[0xFF, 0xFF]), None);
}

#[test]
fn object_lock_columns_round_trip() {
    let m = meta();
    let mut b = bucket("lock");
    b.versioning = Versioning::Enabled;
    b.object_lock = Some(r#"{"enabled":true}"#.into());
    m.create_bucket(&b).unwrap();
    let config = || m.get_bucket("lock").unwrap().unwrap().object_lock;
    assert_eq!(config().as_deref(), Some(r#"{"enabled":true}"#));
    let mut o = obj("k", "");
    o.bucket = "lock".into();
    o.lock = Some(r#"{"legal_hold":true}"#.into());
    m.put_object(o).unwrap();
    let v = m.get_object("lock", "k", None).unwrap().unwrap();
    assert_eq!(v.lock.as_deref(), Some(r#"{"legal_hold":true}"#));
    m.set_object_lock(v.row_id, None).unwrap();
    assert_eq!(m.get_object("lock", "k", None).unwrap().unwrap().lock, None);
    m.set_bucket_field("lock", BucketField::ObjectLock, Some("{}"))
        .unwrap();
    assert_eq!(config().as_deref(), Some("{}"));
}

/// A delete whose commit fails for lack of space releases the disk reserve and runs
/// once more; a write failing for another reason, or with no reserve left, does not.
#[test]
fn freeing_writes_release_the_reserve_and_retry_once_when_the_disk_is_full() {
    let dir = std::env::temp_dir().join(format!(
        "sbstore-reserve-{}",
        strongbox_core::ids::random_hex(6)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let reserve = Arc::new(strongbox_core::reserve::DiskReserve::open(&dir, 4096));
    assert!(reserve.is_held());
    let m = meta().with_reserve(reserve.clone());
    let full = || StoreError::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));

    let attempts = std::cell::Cell::new(0);
    let out = m.freeing_tx(|_| {
        attempts.set(attempts.get() + 1);
        if attempts.get() == 1 {
            Err(full())
        } else {
            Ok(7)
        }
    });
    assert_eq!(out.unwrap(), 7);
    assert_eq!(attempts.get(), 2, "retried once after the release");
    assert!(!reserve.is_held() && !dir.join("reserve").exists());

    // Nothing left to release: the failure stands, no second retry.
    attempts.set(0);
    let out = m.freeing_tx(|_| {
        attempts.set(attempts.get() + 1);
        Err::<(), _>(full())
    });
    assert!(out.unwrap_err().is_disk_full());
    assert_eq!(attempts.get(), 1);

    // Other failures are not retried and keep the reserve.
    reserve.ensure_held().unwrap();
    attempts.set(0);
    let out = m.freeing_tx(|_| {
        attempts.set(attempts.get() + 1);
        Err::<(), _>(StoreError::NoSuchBucket)
    });
    assert!(matches!(out, Err(StoreError::NoSuchBucket)));
    assert_eq!(attempts.get(), 1);
    assert!(reserve.is_held());
    let _ = std::fs::remove_dir_all(&dir);
}
