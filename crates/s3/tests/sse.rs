//! Server-side encryption: SSE-S3 by default, SSE-KMS through [`SseKeys`],
//! bucket default encryption, SSE-C, multipart ranges, copies, tampering.

mod common;
use common::*;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use strongbox_core::{Caller, RequestMeta};
use strongbox_kms::object_crypto::random_data_key;
use strongbox_kms::{KmsError, S3DataKey};
use strongbox_s3::SseKeys;

const MIB: usize = 1024 * 1024;
const PAD: u8 = 0x5a;

/// Data keys "wrapped" by XOR (enough to test the S3 side); key id `denied`
/// refuses GenerateDataKey, `disabled` is a disabled key, and `deny_decrypt`
/// refuses every Decrypt.
#[derive(Default)]
struct FakeKeys {
    deny_decrypt: AtomicBool,
}

fn xor(key: &[u8]) -> Vec<u8> {
    key.iter().map(|b| b ^ PAD).collect()
}

impl SseKeys for FakeKeys {
    fn kms_generate_data_key(
        &self,
        caller: &Caller,
        _meta: &RequestMeta,
        key_id: Option<&str>,
        bucket_owner_account: &str,
        context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        let id = key_id.unwrap_or("aws-s3");
        let arn = format!("arn:aws:kms:us-east-1:{bucket_owner_account}:key/{id}");
        match id {
            "denied" => {
                return Err(KmsError::AccessDenied(format!(
                    "User: {} is not authorized to perform: kms:GenerateDataKey on resource: {arn} because no identity-based policy allows the kms:GenerateDataKey action",
                    caller.arn
                )))
            }
            "disabled" => return Err(KmsError::Disabled(format!("{arn} is disabled."))),
            _ => {}
        }
        assert!(context.iter().any(|(k, _)| k == "aws:s3:arn"));
        let plaintext = random_data_key();
        let mut ciphertext = xor(&plaintext);
        ciphertext.extend_from_slice(arn.as_bytes());
        Ok(S3DataKey {
            key_arn: arn,
            plaintext,
            ciphertext,
        })
    }

    fn kms_decrypt_data_key(
        &self,
        caller: &Caller,
        _meta: &RequestMeta,
        ciphertext: &[u8],
        _context: &[(String, String)],
    ) -> Result<S3DataKey, KmsError> {
        let arn = String::from_utf8_lossy(&ciphertext[32..]).into_owned();
        if self.deny_decrypt.load(Ordering::SeqCst) {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to perform: kms:Decrypt on resource: {arn}",
                caller.arn
            )));
        }
        let plaintext: [u8; 32] = xor(&ciphertext[..32]).try_into().unwrap();
        Ok(S3DataKey {
            key_arn: arn,
            plaintext,
            ciphertext: ciphertext.to_vec(),
        })
    }

    fn sse_s3_data_key(&self) -> Result<(Vec<u8>, [u8; 32]), KmsError> {
        let key = random_data_key();
        Ok((xor(&key), key))
    }

    fn sse_s3_unwrap(&self, wrapped: &[u8]) -> Result<[u8; 32], KmsError> {
        xor(wrapped)
            .try_into()
            .map_err(|_| KmsError::InvalidCiphertext(String::new()))
    }
}

async fn harness(name: &str) -> (Harness, Arc<FakeKeys>) {
    let keys = Arc::new(FakeKeys::default());
    let h = Harness::new(name).with_sse_keys(keys.clone());
    make_bucket(&h, "bkt").await;
    (h, keys)
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

/// Every data file under the data dir.
fn data_files(h: &Harness) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![h.data_dir().join("objects")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn customer_headers(r: Req, prefix: &str, key: &[u8; 32]) -> Req {
    let b64 = base64::engine::general_purpose::STANDARD;
    // S3 takes customer keys over TLS only.
    r.over_tls()
        .h(&format!("{prefix}algorithm"), "AES256")
        .h(&format!("{prefix}key"), &b64.encode(key))
        .h(&format!("{prefix}key-MD5"), &md5_b64(key))
}

fn sse_c(r: Req, key: &[u8; 32]) -> Req {
    customer_headers(r, "x-amz-server-side-encryption-customer-", key)
}

#[tokio::test]
async fn sse_s3_is_the_default_and_nothing_is_plaintext_on_disk() {
    let (h, _) = harness("sse-s3").await;
    let marker = b"PLAINTEXT-MARKER-0123456789".repeat(10_000);
    let put = req("PUT", Some("bkt"), Some("k"))
        .body(marker.clone())
        .send(&h)
        .await;
    put.assert(200);
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("AES256"));
    assert_eq!(
        put.header("etag"),
        Some(format!("\"{}\"", md5_hex(&marker)).as_str())
    );
    let head = req("HEAD", Some("bkt"), Some("k")).send(&h).await;
    assert_eq!(head.header("x-amz-server-side-encryption"), Some("AES256"));
    assert_eq!(
        head.header("content-length"),
        Some(marker.len().to_string().as_str())
    );
    let get = req("GET", Some("bkt"), Some("k")).send(&h).await;
    assert_eq!(&get.body[..], &marker[..]);
    let ranged = req("GET", Some("bkt"), Some("k"))
        .h("range", "bytes=65530-65560")
        .send(&h)
        .await;
    ranged.assert(206);
    assert_eq!(&ranged.body[..], &marker[65530..65561]);
    let files = data_files(&h);
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(17).any(|w| w == b"PLAINTEXT-MARKER-"),
            "{f:?}"
        );
    }
}

fn data_dir_contains(h: &Harness, needle: &[u8]) -> bool {
    data_files(h).iter().any(|f| {
        std::fs::read(f)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
    })
}

/// The benchmark baseline (`serve --benchmark-plaintext-baseline`) really stores SSE-S3
/// objects in plaintext and says so by omitting the header; SSE-KMS still encrypts.
#[tokio::test]
async fn plaintext_baseline_only_drops_sse_s3() {
    let keys = Arc::new(FakeKeys::default());
    let h = Harness::new("plain-baseline")
        .with_sse_keys(keys)
        .with_plaintext_sse_s3();
    make_bucket(&h, "bkt").await;
    let plain = b"BASELINE-PLAIN-0123456789".repeat(10_000);
    let put = req("PUT", Some("bkt"), Some("plain"))
        .body(plain.clone())
        .send(&h)
        .await;
    put.assert(200);
    assert_eq!(put.header("x-amz-server-side-encryption"), None);
    assert!(data_dir_contains(&h, b"BASELINE-PLAIN-"));
    let get = req("GET", Some("bkt"), Some("plain")).send(&h).await;
    assert_eq!(&get.body[..], &plain[..]);

    let secret = b"BASELINE-KMS-0123456789".repeat(10_000);
    let put = req("PUT", Some("bkt"), Some("kms"))
        .h("x-amz-server-side-encryption", "aws:kms")
        .h("x-amz-server-side-encryption-aws-kms-key-id", "k1")
        .body(secret.clone())
        .send(&h)
        .await;
    put.assert(200);
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("aws:kms"));
    assert!(!data_dir_contains(&h, b"BASELINE-KMS-"));
    let get = req("GET", Some("bkt"), Some("kms")).send(&h).await;
    assert_eq!(&get.body[..], &secret[..]);
}

#[tokio::test]
async fn sse_kms_as_the_caller_and_its_failures() {
    let (h, keys) = harness("sse-kms").await;
    let put = req("PUT", Some("bkt"), Some("k"))
        .h("x-amz-server-side-encryption", "aws:kms")
        .h("x-amz-server-side-encryption-aws-kms-key-id", "k1")
        .body("kms data")
        .send(&h)
        .await;
    put.assert(200);
    let arn = format!("arn:aws:kms:us-east-1:{OWNER}:key/k1");
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("aws:kms"));
    assert_eq!(
        put.header("x-amz-server-side-encryption-aws-kms-key-id"),
        Some(arn.as_str())
    );
    let context = put
        .header("x-amz-server-side-encryption-context")
        .unwrap()
        .to_string();
    let json = base64::engine::general_purpose::STANDARD
        .decode(context)
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["aws:s3:arn"], "arn:aws:s3:::bkt/k");
    let get = req("GET", Some("bkt"), Some("k")).send(&h).await;
    get.assert(200);
    assert_eq!(&get.body[..], b"kms data");
    assert_eq!(
        get.header("x-amz-server-side-encryption-aws-kms-key-id"),
        Some(arn.as_str())
    );
    // Download needs kms:Decrypt; HEAD does not.
    keys.deny_decrypt.store(true, Ordering::SeqCst);
    let denied = req("GET", Some("bkt"), Some("k")).send(&h).await;
    denied.assert_err(403, "AccessDenied");
    assert!(denied.text().contains("kms:Decrypt"));
    req("HEAD", Some("bkt"), Some("k"))
        .send(&h)
        .await
        .assert(200);
    keys.deny_decrypt.store(false, Ordering::SeqCst);
    // A refused data key or a disabled key stores nothing.
    for (id, status, code) in [
        ("denied", 403, "AccessDenied"),
        ("disabled", 400, "KMS.DisabledException"),
    ] {
        let r = req("PUT", Some("bkt"), Some("no"))
            .h("x-amz-server-side-encryption", "aws:kms")
            .h("x-amz-server-side-encryption-aws-kms-key-id", id)
            .body("x")
            .send(&h)
            .await;
        r.assert_err(status, code);
        req("HEAD", Some("bkt"), Some("no"))
            .send(&h)
            .await
            .assert(404);
    }
    assert!(req("PUT", Some("bkt"), Some("no"))
        .h("x-amz-server-side-encryption", "aws:kms")
        .h("x-amz-server-side-encryption-aws-kms-key-id", "denied")
        .body("x")
        .send(&h)
        .await
        .text()
        .contains("kms:GenerateDataKey on resource: arn:aws:kms:"));
    // Without a key id: the account's aws/s3 key.
    let managed = req("PUT", Some("bkt"), Some("m"))
        .h("x-amz-server-side-encryption", "aws:kms")
        .body("x")
        .send(&h)
        .await;
    assert!(managed
        .header("x-amz-server-side-encryption-aws-kms-key-id")
        .unwrap()
        .ends_with("key/aws-s3"));
    // A key id without aws:kms is refused.
    req("PUT", Some("bkt"), Some("bad"))
        .h("x-amz-server-side-encryption-aws-kms-key-id", "k1")
        .body("x")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
}

#[tokio::test]
async fn bucket_default_encryption_applies_without_headers() {
    let (h, _) = harness("sse-default").await;
    let cfg = "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k2</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>";
    req("PUT", Some("bkt"), None)
        .q("encryption", "")
        .body(cfg)
        .send(&h)
        .await
        .assert(200);
    let put = req("PUT", Some("bkt"), Some("k")).body("x").send(&h).await;
    assert_eq!(put.header("x-amz-server-side-encryption"), Some("aws:kms"));
    assert!(put
        .header("x-amz-server-side-encryption-aws-kms-key-id")
        .unwrap()
        .ends_with("key/k2"));
    assert_eq!(
        put.header("x-amz-server-side-encryption-bucket-key-enabled"),
        Some("true")
    );
    let explicit = req("PUT", Some("bkt"), Some("s"))
        .h("x-amz-server-side-encryption", "AES256")
        .body("x")
        .send(&h)
        .await;
    assert_eq!(
        explicit.header("x-amz-server-side-encryption"),
        Some("AES256")
    );
}

#[tokio::test]
async fn sse_c_rules_and_round_trip() {
    let (h, _) = harness("sse-c").await;
    let key = [9u8; 32];
    let put = sse_c(req("PUT", Some("bkt"), Some("c")), &key)
        .body("customer data")
        .send(&h)
        .await;
    put.assert(200);
    assert_eq!(
        put.header("x-amz-server-side-encryption-customer-algorithm"),
        Some("AES256")
    );
    assert_eq!(
        put.header("x-amz-server-side-encryption-customer-key-md5"),
        Some(md5_b64(&key).as_str())
    );
    assert_eq!(put.header("x-amz-server-side-encryption"), None);
    let get = sse_c(req("GET", Some("bkt"), Some("c")), &key)
        .send(&h)
        .await;
    get.assert(200);
    assert_eq!(&get.body[..], b"customer data");
    let missing = req("GET", Some("bkt"), Some("c")).send(&h).await;
    missing.assert_err(400, "InvalidRequest");
    assert!(missing
        .text()
        .contains("The object was stored using a form of Server Side Encryption"));
    sse_c(req("HEAD", Some("bkt"), Some("c")), &[1u8; 32])
        .send(&h)
        .await
        .assert(403);
    sse_c(req("HEAD", Some("bkt"), Some("c")), &key)
        .send(&h)
        .await
        .assert(200);
    // The MD5 must match the key; the key must be 32 bytes; the algorithm AES256.
    req("PUT", Some("bkt"), Some("x"))
        .over_tls()
        .h("x-amz-server-side-encryption-customer-algorithm", "AES256")
        .h(
            "x-amz-server-side-encryption-customer-key",
            &base64::engine::general_purpose::STANDARD.encode(key),
        )
        .h(
            "x-amz-server-side-encryption-customer-key-MD5",
            &md5_b64(b"other"),
        )
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("PUT", Some("bkt"), Some("x"))
        .over_tls()
        .h("x-amz-server-side-encryption-customer-algorithm", "AES256")
        .send(&h)
        .await
        .assert_err(400, "InvalidArgument");
    req("PUT", Some("bkt"), Some("x"))
        .over_tls()
        .h("x-amz-server-side-encryption-customer-algorithm", "AES128")
        .h(
            "x-amz-server-side-encryption-customer-key",
            &base64::engine::general_purpose::STANDARD.encode(key),
        )
        .h(
            "x-amz-server-side-encryption-customer-key-MD5",
            &md5_b64(&key),
        )
        .send(&h)
        .await
        .assert_err(400, "InvalidEncryptionAlgorithmError");
    // Key material is never stored.
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    for name in ["meta.db", "meta.db-wal"] {
        let Ok(db) = std::fs::read(h.data_dir().join(name)) else {
            continue;
        };
        assert!(!db.windows(b64.len()).any(|w| w == b64.as_bytes()));
        assert!(!db.windows(32).any(|w| w == key));
    }
    // Copy out of SSE-C needs the source key.
    req("PUT", Some("bkt"), Some("copy"))
        .h("x-amz-copy-source", "/bkt/c")
        .send(&h)
        .await
        .assert_err(400, "InvalidRequest");
    let copy = customer_headers(
        req("PUT", Some("bkt"), Some("copy")).h("x-amz-copy-source", "/bkt/c"),
        "x-amz-copy-source-server-side-encryption-customer-",
        &key,
    )
    .h("x-amz-server-side-encryption", "aws:kms")
    .send(&h)
    .await;
    copy.assert(200);
    assert_eq!(copy.header("x-amz-server-side-encryption"), Some("aws:kms"));
    let got = req("GET", Some("bkt"), Some("copy")).send(&h).await;
    assert_eq!(&got.body[..], b"customer data");
}

/// User Guide, "Using server-side encryption with customer-provided keys (SSE-C)":
/// "Amazon S3 rejects any requests made over HTTP when using SSE-C". Every request
/// naming a customer key (for the object or a copy source) is refused without TLS,
/// before anything is stored, unless the service allows it (local development).
#[tokio::test]
async fn sse_c_without_tls_is_refused_unless_allowed() {
    let (h, _) = harness("sse-c-http").await;
    let key = [3u8; 32];
    let clear = |r: Req| Req {
        secure: false,
        ..sse_c(r, &key)
    };
    let refused = |resp: &common::Resp| {
        resp.assert_err(400, "InvalidRequest");
        assert!(resp.text().contains(
            "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
        ));
    };
    refused(
        &clear(req("PUT", Some("bkt"), Some("c")))
            .body("x")
            .send(&h)
            .await,
    );
    req("GET", Some("bkt"), Some("c"))
        .send(&h)
        .await
        .assert_err(404, "NoSuchKey");
    sse_c(req("PUT", Some("bkt"), Some("c")), &key)
        .body("x")
        .send(&h)
        .await
        .assert(200);
    refused(&clear(req("GET", Some("bkt"), Some("c"))).send(&h).await);
    let head = clear(req("HEAD", Some("bkt"), Some("c"))).send(&h).await;
    assert_eq!(head.status, 400);
    refused(
        &clear(req("GET", Some("bkt"), Some("c")).q("attributes", ""))
            .h("x-amz-object-attributes", "ETag")
            .send(&h)
            .await,
    );
    refused(
        &clear(req("POST", Some("bkt"), Some("mp")).q("uploads", ""))
            .send(&h)
            .await,
    );
    let copy = customer_headers(
        req("PUT", Some("bkt"), Some("copy")).h("x-amz-copy-source", "/bkt/c"),
        "x-amz-copy-source-server-side-encryption-customer-",
        &key,
    );
    refused(
        &Req {
            secure: false,
            ..copy
        }
        .send(&h)
        .await,
    );
    let allowed = harness("sse-c-http-allowed")
        .await
        .0
        .with_sse_c_over_http_allowed();
    clear(req("PUT", Some("bkt"), Some("c")))
        .body("x")
        .send(&allowed)
        .await
        .assert(200);
    let got = clear(req("GET", Some("bkt"), Some("c")))
        .send(&allowed)
        .await;
    got.assert(200);
    assert_eq!(&got.body[..], b"x");
}

async fn multipart_object(h: &Harness, key: &str, parts: &[&[u8]], sse: impl Fn(Req) -> Req) {
    let create = sse(req("POST", Some("bkt"), Some(key)).q("uploads", ""))
        .send(h)
        .await;
    create.assert(200);
    let id = create.first("UploadId").unwrap();
    let mut xml = String::new();
    for (i, p) in parts.iter().enumerate() {
        let n = (i + 1).to_string();
        let r = sse(req("PUT", Some("bkt"), Some(key))
            .q("partNumber", &n)
            .q("uploadId", &id))
        .body(p.to_vec())
        .send(h)
        .await;
        r.assert(200);
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
            r.header("etag").unwrap()
        ));
    }
    let done = req("POST", Some("bkt"), Some(key))
        .q("uploadId", &id)
        .body(format!(
            "<CompleteMultipartUpload>{xml}</CompleteMultipartUpload>"
        ))
        .send(h)
        .await;
    done.assert(200);
    let etag = done.first("ETag").unwrap();
    assert!(etag.contains(&format!("-{}", parts.len())), "{etag}");
}

async fn check_ranges(h: &Harness, key: &str, all: &[u8], sse: impl Fn(Req) -> Req) {
    let n = all.len();
    for (s, e) in [
        (0, n - 1),
        (0, 0),
        (65535, 65537),
        (5 * MIB - 2, 5 * MIB + 1),
        (5 * MIB, 5 * MIB),
        (10 * MIB - 1, n - 1),
        (n - 1, n - 1),
        (777_777, 7 * MIB),
    ] {
        let r = sse(req("GET", Some("bkt"), Some(key)))
            .h("range", &format!("bytes={s}-{e}"))
            .send(h)
            .await;
        r.assert(206);
        assert_eq!(r.body.len(), e - s + 1, "{s}-{e}");
        assert!(r.body[..] == all[s..=e], "{s}-{e}");
    }
    let p2 = sse(req("GET", Some("bkt"), Some(key)))
        .q("partNumber", "2")
        .send(h)
        .await;
    assert!(p2.body[..] == all[5 * MIB..10 * MIB]);
}

#[tokio::test]
async fn encrypted_multipart_objects_serve_ranges() {
    let (h, keys) = harness("sse-mpu").await;
    let all = data(10 * MIB + 4321);
    let parts: Vec<&[u8]> = vec![&all[..5 * MIB], &all[5 * MIB..10 * MIB], &all[10 * MIB..]];
    let kms = |r: Req| {
        r.h("x-amz-server-side-encryption", "aws:kms")
            .h("x-amz-server-side-encryption-aws-kms-key-id", "k1")
    };
    // Only CreateMultipartUpload takes SSE-KMS headers.
    let create = kms(req("POST", Some("bkt"), Some("kms")).q("uploads", ""))
        .send(&h)
        .await;
    assert_eq!(
        create.header("x-amz-server-side-encryption"),
        Some("aws:kms")
    );
    multipart_object(&h, "kms2", &parts, |r| {
        if r.query.iter().any(|(k, _)| k == "uploads") {
            kms(r)
        } else {
            r
        }
    })
    .await;
    check_ranges(&h, "kms2", &all, |r| r).await;
    multipart_object(&h, "s3", &parts, |r| r).await;
    check_ranges(&h, "s3", &all, |r| r).await;
    let key = [4u8; 32];
    multipart_object(&h, "c", &parts, |r| sse_c(r, &key)).await;
    check_ranges(&h, "c", &all, |r| sse_c(r, &key)).await;
    // Parts of an SSE-C upload must carry the same key.
    let c_up = sse_c(req("POST", Some("bkt"), Some("c2")).q("uploads", ""), &key)
        .send(&h)
        .await
        .first("UploadId")
        .unwrap();
    let part = |r: Req| r.q("partNumber", "1").q("uploadId", &c_up).body("x");
    part(req("PUT", Some("bkt"), Some("c2")))
        .send(&h)
        .await
        .assert_err(400, "InvalidRequest");
    sse_c(part(req("PUT", Some("bkt"), Some("c2"))), &[8u8; 32])
        .send(&h)
        .await
        .assert(403);
    let ok = sse_c(part(req("PUT", Some("bkt"), Some("c2"))), &key)
        .send(&h)
        .await;
    ok.assert(200);
    assert_eq!(
        ok.header("x-amz-server-side-encryption-customer-key-md5"),
        Some(md5_b64(&key).as_str())
    );
    // UploadPart of an SSE-KMS upload needs kms:Decrypt.
    let id = create.first("UploadId").unwrap();
    keys.deny_decrypt.store(true, Ordering::SeqCst);
    req("PUT", Some("bkt"), Some("kms"))
        .q("partNumber", "1")
        .q("uploadId", &id)
        .body("x")
        .send(&h)
        .await
        .assert_err(403, "AccessDenied");
    keys.deny_decrypt.store(false, Ordering::SeqCst);
    // UploadPartCopy out of the SSE-C object into the SSE-KMS upload.
    let copy = customer_headers(
        req("PUT", Some("bkt"), Some("kms"))
            .q("partNumber", "1")
            .q("uploadId", &id)
            .h("x-amz-copy-source", "/bkt/c")
            .h("x-amz-copy-source-range", "bytes=100-199"),
        "x-amz-copy-source-server-side-encryption-customer-",
        &key,
    )
    .send(&h)
    .await;
    copy.assert(200);
    let etag = copy.first("ETag").unwrap();
    req("POST", Some("bkt"), Some("kms"))
        .q("uploadId", &id)
        .body(format!("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"))
        .send(&h)
        .await
        .assert(200);
    let got = req("GET", Some("bkt"), Some("kms")).send(&h).await;
    assert!(got.body[..] == all[100..200]);
}

#[tokio::test]
async fn tampered_data_is_detected() {
    let (h, _) = harness("sse-tamper").await;
    let body = data(200_000);
    req("PUT", Some("bkt"), Some("t"))
        .body(body.clone())
        .send(&h)
        .await
        .assert(200);
    let files = data_files(&h);
    assert_eq!(files.len(), 1);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    assert_eq!(bytes.len(), 200_000 + 4 * 16, "four authenticated chunks");
    bytes[70_000] ^= 0x01; // in the second chunk
    std::fs::write(&files[0], bytes).unwrap();
    // Chunks before the damage still read; a read through it fails.
    let first = req("GET", Some("bkt"), Some("t"))
        .h("range", "bytes=0-999")
        .send(&h)
        .await;
    assert!(first.body[..] == body[..1000]);
    let h = Arc::new(h);
    let h2 = h.clone();
    let whole =
        tokio::spawn(async move { req("GET", Some("bkt"), Some("t")).send(&h2).await }).await;
    assert!(whole.is_err(), "the body stream must fail");
}
