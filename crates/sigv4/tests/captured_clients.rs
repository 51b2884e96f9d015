//! Requests signed by real clients (boto3 and the aws CLI v1, captured by
//! tests/capture/capture.py into tests/data/captured.jsonl), verified end to end:
//! signature, payload hash or aws-chunked body with its checksum trailer, and checksums.

use base64::Engine;
use strongbox_sigv4::checksum::{parse_content_md5, Md5Hasher};
use strongbox_sigv4::parse::{parse_amz_date, parse_http_date};
use strongbox_sigv4::{
    parse, verify, AuthError, ChecksumAlgorithm, ChunkedDecoder, ParsedAuth, PayloadMode,
    PayloadVerifier, RequestParts, VerifyOptions,
};

const SECRET: &str = "capture/Secret+Key/0123456789abcdefghijk";

struct Captured {
    label: String,
    method: String,
    path: String,
    query: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
    virtual_host_bucket: Option<String>,
}

fn load() -> (Vec<Captured>, Vec<(String, String)>) {
    let mut requests = Vec::new();
    let mut urls = Vec::new();
    for line in include_str!("data/captured.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let label = v["label"].as_str().unwrap().to_string();
        if let Some(url) = v["presigned_url"].as_str() {
            urls.push((label, url.to_string()));
            continue;
        }
        let mut headers = http::HeaderMap::new();
        for pair in v["headers"].as_array().unwrap() {
            let name = http::HeaderName::from_bytes(pair[0].as_str().unwrap().as_bytes()).unwrap();
            headers.append(name, pair[1].as_str().unwrap().parse().unwrap());
        }
        let body = base64::engine::general_purpose::STANDARD
            .decode(v["body_b64"].as_str().unwrap())
            .unwrap();
        requests.push(Captured {
            label,
            method: v["method"].as_str().unwrap().to_string(),
            path: v["path"].as_str().unwrap().to_string(),
            query: v["query"].as_str().unwrap().to_string(),
            headers,
            body,
            virtual_host_bucket: v["virtual_host_bucket"].as_str().map(str::to_string),
        });
    }
    (requests, urls)
}

fn signed_at(headers: &http::HeaderMap) -> jiff::Timestamp {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    get("x-amz-date")
        .and_then(parse_amz_date)
        .or_else(|| get("date").and_then(parse_http_date))
        .unwrap()
}

/// Checks the body the way the S3 layer will: signed hash, aws-chunked framing and trailer
/// checksum, `Content-MD5`, `x-amz-checksum-*` headers. Returns the decoded payload.
fn check_body(c: &Captured, v: &strongbox_sigv4::Verified) -> Result<Vec<u8>, AuthError> {
    let payload = if v.payload.is_streaming() {
        let trailer = c
            .headers
            .get("x-amz-trailer")
            .and_then(|t| ChecksumAlgorithm::from_header_name(t.to_str().unwrap()));
        let mut d = ChunkedDecoder::new(&v.payload, v.signing.clone(), v.decoded_content_length)?;
        if let Some(a) = trailer {
            d = d.with_checksum(a);
        }
        let mut out = Vec::new();
        for piece in c.body.chunks(1000) {
            d.feed_to_vec(piece, &mut out)?;
        }
        let trailers = d.finish()?;
        assert_eq!(trailers.checksum().map(|t| t.0), trailer, "{}", c.label);
        out
    } else {
        let mut pv = PayloadVerifier::new(&v.payload);
        pv.update(&c.body);
        pv.finish()?;
        c.body.clone()
    };
    if let Some(md5) = c.headers.get("content-md5") {
        let expected = parse_content_md5(md5.to_str().unwrap())?;
        let mut h = Md5Hasher::new();
        h.update(&payload);
        h.verify(&expected)?;
    }
    for a in ChecksumAlgorithm::ALL {
        if let Some(sent) = c.headers.get(a.header_name()) {
            let mut h = a.hasher();
            h.update(&payload);
            a.verify(sent.to_str().unwrap(), &h.finalize())?;
        }
    }
    Ok(payload)
}

#[test]
fn captured_requests_verify() {
    let (requests, _) = load();
    assert!(requests.len() >= 20);
    let mut streaming = 0;
    let mut v2 = 0;
    for c in &requests {
        let parts = RequestParts {
            method: &c.method,
            raw_path: &c.path,
            query: &strongbox_sigv4::Query::parse(&c.query),
            headers: &c.headers,
            virtual_host_bucket: c.virtual_host_bucket.as_deref(),
            body: Some(&c.body),
        };
        let auth = parse(&parts).unwrap_or_else(|e| panic!("{}: {e:?}", c.label));
        let now = signed_at(&c.headers) + jiff::SignedDuration::from_secs(3);
        let opts = VerifyOptions::for_region("us-east-1");
        let v = verify(&auth, &parts, SECRET, now, &opts)
            .unwrap_or_else(|e| panic!("{}: {e:?}", c.label));
        let payload = check_body(c, &v).unwrap_or_else(|e| panic!("{} body: {e:?}", c.label));
        if v.payload.is_streaming() {
            streaming += 1;
            let declared: usize = c.headers["x-amz-decoded-content-length"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(payload.len(), declared, "{}", c.label);
        }
        if c.label == "boto3-put-https-trailer" {
            assert_eq!(payload, vec![b'z'; 20000]);
            assert_eq!(v.payload, PayloadMode::StreamingUnsignedTrailer);
        }
        if matches!(auth, ParsedAuth::V2(_)) {
            v2 += 1;
        }
        match c.label.as_str() {
            "boto3-iam" | "cli-iam-create-user" => assert_eq!(auth.service(), Some("iam")),
            "boto3-sts" => {
                assert_eq!(auth.service(), Some("sts"));
                assert!(auth.session_token().is_some());
            }
            "boto3-kms" => assert_eq!(auth.service(), Some("kms")),
            "boto3-session-token" => assert_eq!(
                auth.session_token(),
                Some("FQoGZXIvYXdzEXAMPLEtoken/with+chars==")
            ),
            _ => {}
        }

        // A wrong secret, or a different path, is refused.
        let err = verify(&auth, &parts, "wrong secret", now, &opts).unwrap_err();
        assert!(
            matches!(err, AuthError::SignatureDoesNotMatch(_)),
            "{}: {err:?}",
            c.label
        );
        let other_path = format!("{}x", c.path);
        let moved = RequestParts {
            raw_path: &other_path,
            ..parts
        };
        assert!(
            verify(&auth, &moved, SECRET, now, &opts).is_err(),
            "{}",
            c.label
        );
    }
    assert!(streaming >= 3, "{streaming} aws-chunked requests");
    assert!(v2 >= 3, "{v2} SigV2 requests");
}

#[test]
fn captured_bodies_detect_corruption() {
    let (requests, _) = load();
    let mut checked = 0;
    for c in requests.iter().filter(|c| c.body.len() > 10) {
        let parts = RequestParts {
            method: &c.method,
            raw_path: &c.path,
            query: &strongbox_sigv4::Query::parse(&c.query),
            headers: &c.headers,
            virtual_host_bucket: c.virtual_host_bucket.as_deref(),
            body: None,
        };
        let auth = parse(&parts).unwrap();
        let Ok(v) = verify(
            &auth,
            &parts,
            SECRET,
            signed_at(&c.headers),
            &VerifyOptions::default(),
        ) else {
            // Services other than S3 sign the body itself; without it the signature cannot match.
            assert_ne!(auth.service(), Some("s3"), "{}", c.label);
            continue;
        };
        if v.payload == PayloadMode::Unsigned {
            continue;
        }
        let mut corrupted = Captured {
            body: c.body.clone(),
            headers: c.headers.clone(),
            ..clone_meta(c)
        };
        let i = if v.payload.is_streaming() {
            corrupted.body.len() / 2
        } else {
            5
        };
        corrupted.body[i] ^= 0x01;
        assert!(check_body(&corrupted, &v).is_err(), "{}", c.label);
        let truncated = Captured {
            body: c.body[..c.body.len() - 3].to_vec(),
            headers: c.headers.clone(),
            ..clone_meta(c)
        };
        assert!(check_body(&truncated, &v).is_err(), "{}", c.label);
        checked += 1;
    }
    assert!(checked >= 6, "{checked} bodies checked");
}

fn clone_meta(c: &Captured) -> Captured {
    Captured {
        label: c.label.clone(),
        method: c.method.clone(),
        path: c.path.clone(),
        query: c.query.clone(),
        headers: http::HeaderMap::new(),
        body: Vec::new(),
        virtual_host_bucket: c.virtual_host_bucket.clone(),
    }
}

#[test]
fn captured_presigned_urls_verify() {
    let (_, urls) = load();
    assert!(urls.len() >= 5);
    for (label, url) in &urls {
        let rest = url.strip_prefix("http://").unwrap();
        let (host, target) = rest.split_once('/').unwrap();
        let target = format!("/{target}");
        let (path, query) = target.split_once('?').unwrap();
        let mut headers = http::HeaderMap::new();
        headers.insert("host", host.parse().unwrap());
        let method = if label.contains("put") { "PUT" } else { "GET" };
        let parts = RequestParts {
            method,
            raw_path: path,
            query: &strongbox_sigv4::Query::parse(query),
            headers: &headers,
            virtual_host_bucket: None,
            body: None,
        };
        let auth = parse(&parts).unwrap_or_else(|e| panic!("{label}: {e:?}"));
        let (issued, lifetime) = match &auth {
            ParsedAuth::V4(a) => (a.request_time, a.expires.unwrap()),
            ParsedAuth::V2(a) => (
                jiff::Timestamp::from_second(a.expires.unwrap() - 60).unwrap(),
                60,
            ),
            ParsedAuth::Anonymous => panic!("{label}: anonymous"),
        };
        let opts = VerifyOptions::for_region("us-east-1");
        let v = verify(&auth, &parts, SECRET, issued, &opts)
            .unwrap_or_else(|e| panic!("{label}: {e:?}"));
        assert_eq!(v.auth_type, "REST-QUERY-STRING");
        let expired = issued + jiff::SignedDuration::from_secs(lifetime + 1);
        assert!(
            matches!(
                verify(&auth, &parts, SECRET, expired, &opts),
                Err(AuthError::RequestExpired { .. })
            ),
            "{label}"
        );
        if label.contains("token") {
            assert_eq!(
                auth.session_token(),
                Some("FQoGZXIvYXdzEXAMPLEtoken/with+chars==")
            );
        }
        let wrong_method = RequestParts {
            method: "DELETE",
            ..parts
        };
        assert!(
            verify(&auth, &wrong_method, SECRET, issued, &opts).is_err(),
            "{label}"
        );
    }
}
