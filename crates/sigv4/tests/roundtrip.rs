//! The client-side signer against the verifier, across services and request shapes.

use strongbox_sigv4::crypto::sha256_hex;
use strongbox_sigv4::sign::{self, Credentials, SigningParams};
use strongbox_sigv4::{
    parse, verify, AuthError, ChecksumAlgorithm, ChunkedDecoder, PayloadMode, RequestParts,
    VerifyOptions,
};

const AKID: &str = "AKIAEXAMPLEROUNDTRIP";
const SECRET: &str = "roundtrip/secret+key0123456789abcdefghij";

fn now() -> jiff::Timestamp {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

fn params<'a>(creds: &'a Credentials, service: &'a str) -> SigningParams<'a> {
    SigningParams {
        credentials: creds,
        region: "us-east-1",
        service,
        time: now(),
    }
}

fn host(h: &str) -> http::HeaderMap {
    let mut m = http::HeaderMap::new();
    m.insert("host", h.parse().unwrap());
    m
}

fn run(
    method: &str,
    path: &str,
    query: &str,
    headers: &http::HeaderMap,
    body: Option<&[u8]>,
) -> Result<strongbox_sigv4::Verified, AuthError> {
    let parts = RequestParts {
        method,
        raw_path: path,
        query: &strongbox_sigv4::Query::parse(query),
        headers,
        virtual_host_bucket: None,
        body,
    };
    let auth = parse(&parts)?;
    verify(
        &auth,
        &parts,
        SECRET,
        now(),
        &VerifyOptions::for_region("us-east-1"),
    )
}

#[test]
fn s3_paths_are_signed_as_sent() {
    let creds = Credentials::new(AKID, SECRET);
    for (path, query) in [
        ("/bucket/a%20b/c%2Bd", "prefix=a%2Fb&list-type=2"),
        ("/bucket/%D0%BA%D0%BB%D1%8E%D1%87", ""),
        ("/bucket//x/../y/./z", "uploads"),
        ("/", ""),
        ("/bucket/key", "tagging&versionId=abc%3D%3D"),
    ] {
        let mut h = host("localhost:9000");
        sign::sign_request(
            "PUT",
            path,
            query,
            &mut h,
            "UNSIGNED-PAYLOAD",
            &params(&creds, "s3"),
        )
        .unwrap();
        let v =
            run("PUT", path, query, &h, None).unwrap_or_else(|e| panic!("{path}?{query}: {e:?}"));
        assert_eq!(v.payload, PayloadMode::Unsigned);
        // S3 does not normalize: a different spelling of the path is a different signature.
        let other = format!("{path}x");
        assert!(matches!(
            run("PUT", &other, query, &h, None),
            Err(AuthError::SignatureDoesNotMatch(_))
        ));
    }
}

#[test]
fn plus_in_query_signed_as_space() {
    let creds = Credentials::new(AKID, SECRET);
    let mut h = host("localhost");
    sign::sign_request(
        "GET",
        "/b",
        "prefix=a%20b",
        &mut h,
        sha256_hex(b"").as_str(),
        &params(&creds, "s3"),
    )
    .unwrap();
    run("GET", "/b", "prefix=a+b", &h, None).unwrap();
    run("GET", "/b", "prefix=a%20b", &h, None).unwrap();
}

#[test]
fn iam_form_post_signs_the_body() {
    let creds = Credentials::new(AKID, SECRET);
    let body = b"Action=ListUsers&Version=2010-05-08";
    let mut h = host("iam.amazonaws.com");
    h.insert(
        "content-type",
        "application/x-www-form-urlencoded; charset=utf-8"
            .parse()
            .unwrap(),
    );
    sign::sign_request(
        "POST",
        "/",
        "",
        &mut h,
        &sha256_hex(body),
        &params(&creds, "iam"),
    )
    .unwrap();
    assert!(!h.contains_key("x-amz-content-sha256"));
    let v = run("POST", "/", "", &h, Some(body)).unwrap();
    assert_eq!(v.payload, PayloadMode::SignedSha256(sha256_hex(body)));
    let err = run(
        "POST",
        "/",
        "",
        &h,
        Some(b"Action=DeleteUser&Version=2010-05-08"),
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::SignatureDoesNotMatch(_)));
    // Non-S3 paths are normalized: `/./` signs like `/`.
    let mut h2 = host("iam.amazonaws.com");
    sign::sign_request(
        "POST",
        "/./",
        "",
        &mut h2,
        &sha256_hex(b""),
        &params(&creds, "iam"),
    )
    .unwrap();
    run("POST", "/", "", &h2, Some(b"")).unwrap();
}

#[test]
fn sts_session_token_and_presigned() {
    let mut creds = Credentials::new("ASIAEXAMPLE", SECRET);
    creds.session_token = Some("FwoGZXIvYXdzEBAaD+token/==".to_string());
    let mut h = host("sts.amazonaws.com");
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    sign::sign_request(
        "POST",
        "/",
        "",
        &mut h,
        &sha256_hex(body),
        &params(&creds, "sts"),
    )
    .unwrap();
    let parts = RequestParts {
        method: "POST",
        raw_path: "/",
        query: &strongbox_sigv4::Query::parse(""),
        headers: &h,
        virtual_host_bucket: None,
        body: Some(body),
    };
    let auth = parse(&parts).unwrap();
    assert_eq!(auth.service(), Some("sts"));
    assert_eq!(auth.session_token(), Some("FwoGZXIvYXdzEBAaD+token/=="));
    verify(&auth, &parts, SECRET, now(), &VerifyOptions::default()).unwrap();

    let query = sign::presign_query(
        "GET",
        "sts.amazonaws.com",
        "/",
        "Action=GetCallerIdentity&Version=2011-06-15",
        60,
        &params(&creds, "sts"),
    );
    let h = host("sts.amazonaws.com");
    let parts = RequestParts {
        method: "GET",
        raw_path: "/",
        query: &strongbox_sigv4::Query::parse(&query),
        headers: &h,
        virtual_host_bucket: None,
        body: None,
    };
    let auth = parse(&parts).unwrap();
    assert_eq!(auth.session_token(), Some("FwoGZXIvYXdzEBAaD+token/=="));
    verify(&auth, &parts, SECRET, now(), &VerifyOptions::default()).unwrap();
    let late = now() + jiff::SignedDuration::from_secs(61);
    assert!(matches!(
        verify(&auth, &parts, SECRET, late, &VerifyOptions::default()),
        Err(AuthError::RequestExpired { .. })
    ));
}

#[test]
fn streaming_signed_trailer_end_to_end() {
    let creds = Credentials::new(AKID, SECRET);
    let p = params(&creds, "s3");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let algo = ChecksumAlgorithm::Crc64Nvme;
    let mut h = host("localhost");
    h.insert("content-encoding", "aws-chunked".parse().unwrap());
    h.insert("x-amz-trailer", algo.header_name().parse().unwrap());
    h.insert(
        "x-amz-decoded-content-length",
        data.len().to_string().parse().unwrap(),
    );
    let len = sign::chunked_encoded_len(data.len() as u64, 65536, true, Some(algo));
    h.insert("content-length", len.to_string().parse().unwrap());
    let seed = sign::sign_request(
        "PUT",
        "/b/k",
        "",
        &mut h,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        &p,
    )
    .unwrap();
    let v = run("PUT", "/b/k", "", &h, None).unwrap();
    assert_eq!(v.payload, PayloadMode::StreamingSignedTrailer);
    let ctx = v.signing.clone().unwrap();
    assert_eq!(ctx.seed_signature, seed);
    let body = sign::encode_chunked_signed(&data, 65536, &p.chunk_context(&seed), Some(algo));
    assert_eq!(body.len() as u64, len);
    let mut d = ChunkedDecoder::new(&v.payload, Some(ctx), v.decoded_content_length)
        .unwrap()
        .with_checksum(algo);
    let mut out = Vec::new();
    for piece in body.chunks(4099) {
        d.feed_to_vec(piece, &mut out).unwrap();
    }
    let trailers = d.finish().unwrap();
    assert_eq!(out, data);
    assert_eq!(
        trailers.get(algo.header_name()),
        Some(algo.checksum_base64(&data).as_str())
    );

    // Without x-amz-decoded-content-length the request is refused.
    let mut h2 = host("localhost");
    sign::sign_request(
        "PUT",
        "/b/k",
        "",
        &mut h2,
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        &p,
    )
    .unwrap();
    assert_eq!(
        run("PUT", "/b/k", "", &h2, None).unwrap_err(),
        AuthError::MissingContentLength
    );
}

/// `headers` signed for an S3 `PUT /b/k` with an unsigned payload.
fn unsigned_s3_put(creds: &Credentials, mut headers: http::HeaderMap) -> http::HeaderMap {
    sign::sign_request(
        "PUT",
        "/b/k",
        "",
        &mut headers,
        "UNSIGNED-PAYLOAD",
        &params(creds, "s3"),
    )
    .unwrap();
    headers
}

#[test]
fn tampering_is_detected() {
    let creds = Credentials::new(AKID, SECRET);
    let mut h = host("localhost");
    h.insert("x-amz-acl", "private".parse().unwrap());
    let h = unsigned_s3_put(&creds, h);
    run("PUT", "/b/k", "", &h, None).unwrap();
    let mut changed = h.clone();
    changed.insert("x-amz-acl", "public-read".parse().unwrap());
    assert!(matches!(
        run("PUT", "/b/k", "", &changed, None),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
    let mut changed = h.clone();
    changed.insert("x-amz-content-sha256", sha256_hex(b"x").parse().unwrap());
    assert!(matches!(
        run("PUT", "/b/k", "", &changed, None),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
    assert!(matches!(
        run("GET", "/b/k", "", &h, None),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
    assert!(matches!(
        run("PUT", "/b/k", "acl", &h, None),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
}

#[test]
fn unsigned_amz_headers_are_refused_for_s3() {
    let creds = Credentials::new(AKID, SECRET);
    let mut h = host("localhost");
    sign::sign_request(
        "PUT",
        "/b/k",
        "",
        &mut h,
        "UNSIGNED-PAYLOAD",
        &params(&creds, "s3"),
    )
    .unwrap();
    // Added after signing: S3 refuses it and names it.
    h.insert("x-amz-acl", "public-read".parse().unwrap());
    h.insert("x-amzn-trace-id", "Root=1".parse().unwrap());
    let err = run("PUT", "/b/k", "", &h, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "There were headers present in the request which were not signed"
    );
    assert_eq!(strongbox_core::AwsError::code(&err), "AccessDenied");
    assert_eq!(
        err.details(),
        vec![("HeadersNotSigned", "x-amz-acl".to_string())]
    );
    let parts = RequestParts {
        method: "PUT",
        raw_path: "/b/k",
        query: &strongbox_sigv4::Query::parse(""),
        headers: &h,
        virtual_host_bucket: None,
        body: None,
    };
    let lenient = VerifyOptions {
        allow_unsigned_amz_headers: true,
        ..VerifyOptions::default()
    };
    verify(&parse(&parts).unwrap(), &parts, SECRET, now(), &lenient).unwrap();

    // A presigned URL used with an extra x-amz header is refused too.
    let query = sign::presign_query("GET", "localhost", "/b/k", "", 60, &params(&creds, "s3"));
    let mut h = host("localhost");
    run("GET", "/b/k", &query, &h, None).unwrap();
    h.insert("x-amz-server-side-encryption", "AES256".parse().unwrap());
    assert!(matches!(
        run("GET", "/b/k", &query, &h, None),
        Err(AuthError::HeadersNotSigned { .. })
    ));
}

#[test]
fn host_must_be_signed() {
    let creds = Credentials::new(AKID, SECRET);
    for (service, code) in [("s3", "AccessDenied"), ("iam", "IncompleteSignature")] {
        // Signed without a host header, which is then added: valid HMAC, host outside it.
        let mut h = http::HeaderMap::new();
        sign::sign_request(
            "GET",
            "/",
            "",
            &mut h,
            sha256_hex(b"").as_str(),
            &params(&creds, service),
        )
        .unwrap();
        h.insert("host", "other-bucket.localhost:9000".parse().unwrap());
        let err = run("GET", "/", "", &h, Some(b"")).unwrap_err();
        assert_eq!(
            strongbox_core::AwsError::code(&err),
            code,
            "{service}: {err:?}"
        );
        if service == "s3" {
            assert!(
                matches!(&err, AuthError::HeadersNotSigned { headers } if headers == "host"),
                "{err:?}"
            );
        }
    }
}

#[test]
fn only_s3_leaves_the_payload_unsigned() {
    let creds = Credentials::new(AKID, SECRET);
    let swapped = b"Action=CreateUser&UserName=mallory&Version=2010-05-08";
    for claim in [
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    ] {
        for service in ["iam", "sts", "kms", "organizations"] {
            let mut h = host("localhost:9000");
            sign::sign_request("POST", "/", "", &mut h, claim, &params(&creds, service)).unwrap();
            let err = run("POST", "/", "", &h, Some(swapped)).unwrap_err();
            assert!(
                matches!(err, AuthError::SignatureDoesNotMatch(_)),
                "{service} {claim}: {err:?}"
            );
        }
    }
    // S3 still may.
    let h = unsigned_s3_put(&creds, host("localhost:9000"));
    assert_eq!(
        run("PUT", "/b/k", "", &h, None).unwrap().payload,
        PayloadMode::Unsigned
    );
    // (A real hash of the body is still honoured: iam_form_post_signs_the_body.)
}

#[test]
fn a_plus_in_the_query_is_a_space_for_the_signature_too() {
    let creds = Credentials::new(AKID, SECRET);
    // Signed as a literal plus (`%2B`); sent as `+`, which the router reads as a space.
    let mut h = host("localhost:9000");
    sign::sign_request(
        "GET",
        "/b/k",
        "response-content-type=a%2Bb",
        &mut h,
        "UNSIGNED-PAYLOAD",
        &params(&creds, "s3"),
    )
    .unwrap();
    run("GET", "/b/k", "response-content-type=a%2Bb", &h, None).unwrap();
    let err = run("GET", "/b/k", "response-content-type=a+b", &h, None).unwrap_err();
    assert!(
        matches!(err, AuthError::SignatureDoesNotMatch(_)),
        "{err:?}"
    );
}
