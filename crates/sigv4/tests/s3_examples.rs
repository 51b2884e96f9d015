//! The S3 examples from the AWS documentation:
//! "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk"
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>),
//! the chunked upload example (sigv4-streaming.html), the trailer example
//! (sigv4-streaming-trailers.html) and the presigned URL example (sigv4-query-string-auth.html).

use strongbox_sigv4::crypto::signing_key;
use strongbox_sigv4::sign::{self, Credentials, SigningParams};
use strongbox_sigv4::{
    parse, verify, AuthError, ChecksumAlgorithm, ChunkSigningContext, ChunkedDecoder, PayloadMode,
    PayloadVerifier, RequestParts, VerifyOptions,
};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn headers(list: &[(&str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in list {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

fn may24() -> jiff::Timestamp {
    "2013-05-24T00:00:00Z".parse().unwrap()
}

fn auth_header(signed: &str, sig: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential={AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={sig}")
}

fn check(
    method: &str,
    path: &str,
    query: &str,
    h: &http::HeaderMap,
) -> Result<strongbox_sigv4::Verified, AuthError> {
    let parts = RequestParts {
        method,
        raw_path: path,
        query: &strongbox_sigv4::Query::parse(query),
        headers: h,
        virtual_host_bucket: None,
        body: None,
    };
    let auth = parse(&parts)?;
    verify(
        &auth,
        &parts,
        SECRET,
        may24(),
        &VerifyOptions::for_region("us-east-1"),
    )
}

#[test]
fn get_object_with_range() {
    let sig = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    let h = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY),
        ("x-amz-date", "20130524T000000Z"),
        (
            "authorization",
            &auth_header("host;range;x-amz-content-sha256;x-amz-date", sig),
        ),
    ]);
    let v = check("GET", "/test.txt", "", &h).unwrap();
    assert_eq!(v.payload, PayloadMode::SignedSha256(EMPTY.to_string()));
    assert_eq!(
        (v.signature_version, v.auth_type),
        ("AWS4-HMAC-SHA256", "REST-HEADER")
    );
    assert!(v.signing.is_none());
    // A different key is a different signature.
    assert!(matches!(
        check("GET", "/test2.txt", "", &h),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));

    // The client-side signer produces the documented signature.
    let creds = Credentials::new(AKID, SECRET);
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: may24(),
    };
    let mut h2 = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
    ]);
    assert_eq!(
        sign::sign_request("GET", "/test.txt", "", &mut h2, EMPTY, &params).unwrap(),
        sig
    );
    assert!(check("GET", "/test.txt", "", &h2).is_ok());
}

#[test]
fn put_object() {
    let body = b"Welcome to Amazon S3.";
    let hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    let h = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", hash),
        (
            "authorization",
            &auth_header(
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            ),
        ),
    ]);
    // The wire path leaves `$` unencoded; the signed canonical URI has `%24`.
    let v = check("PUT", "/test$file.text", "", &h).unwrap();
    assert!(check("PUT", "/test%24file.text", "", &h).is_ok());
    let mut pv = PayloadVerifier::new(&v.payload);
    pv.update(body);
    pv.finish().unwrap();
    let mut pv = PayloadVerifier::new(&v.payload);
    pv.update(b"Welcome to Amazon S3!");
    let err = pv.finish().unwrap_err();
    assert!(matches!(err, AuthError::ContentSha256Mismatch { .. }));
}

#[test]
fn get_bucket_lifecycle_and_list_objects() {
    let lifecycle = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY),
        (
            "authorization",
            &auth_header(
                "host;x-amz-content-sha256;x-amz-date",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
        ),
    ]);
    check("GET", "/", "lifecycle", &lifecycle).unwrap();
    let list = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY),
        (
            "authorization",
            &auth_header(
                "host;x-amz-content-sha256;x-amz-date",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ),
    ]);
    check("GET", "/", "max-keys=2&prefix=J", &list).unwrap();
    check("GET", "/", "prefix=J&max-keys=2", &list).unwrap();
    assert!(check("GET", "/", "max-keys=3&prefix=J", &list).is_err());
}

#[test]
fn missing_content_sha256_is_rejected_for_s3() {
    let h = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("authorization", &auth_header("host;x-amz-date", "00")),
    ]);
    let err = check("GET", "/", "", &h).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Missing required header for this request: x-amz-content-sha256"
    );
}

/// A small deterministic PRNG for split points.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Feeds `body` in random pieces (sometimes single bytes) and returns the payload and trailers.
fn decode_split(
    mut decoder: ChunkedDecoder,
    body: &[u8],
    rng: &mut XorShift,
) -> Result<(Vec<u8>, strongbox_sigv4::Trailers), AuthError> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let max = match rng.next() % 4 {
            0 => 1,
            1 => 7,
            2 => 300,
            _ => 70_000,
        };
        let n = (1 + (rng.next() % max) as usize).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        decoder.feed(piece, |d| {
            assert!(!d.is_empty());
            out.extend_from_slice(d)
        })?;
        rest = tail;
    }
    Ok((out, decoder.finish()?))
}

fn chunk_body(sigs: [&str; 3], trailer: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(format!("10000;chunk-signature={}\r\n", sigs[0]).as_bytes());
    b.extend(vec![b'a'; 65536]);
    b.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", sigs[1]).as_bytes());
    b.extend(vec![b'a'; 1024]);
    b.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n{trailer}\r\n", sigs[2]).as_bytes());
    b
}

const CHUNK_SIGS: [&str; 3] = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];

#[test]
fn chunked_upload_example() {
    let h = headers(&[
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
        (
            "authorization",
            &auth_header(
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
            ),
        ),
    ]);
    let v = check("PUT", "/examplebucket/chunkObject.txt", "", &h).unwrap();
    assert_eq!(v.payload, PayloadMode::StreamingSigned);
    assert_eq!(v.decoded_content_length, Some(66560));
    let ctx = v.signing.clone().unwrap();
    let body = chunk_body(CHUNK_SIGS, "");
    assert_eq!(body.len(), 66824);
    assert_eq!(sign::chunked_encoded_len(66560, 65536, true, None), 66824);
    assert_eq!(
        sign::encode_chunked_signed(&vec![b'a'; 66560], 65536, &ctx, None),
        body
    );

    let mut rng = XorShift(0x9e3779b97f4a7c15);
    for _ in 0..40 {
        let d =
            ChunkedDecoder::new(&v.payload, Some(ctx.clone()), v.decoded_content_length).unwrap();
        let (data, trailers) = decode_split(d, &body, &mut rng).unwrap();
        assert_eq!(data, vec![b'a'; 66560]);
        assert!(trailers.headers.is_empty());
    }

    // A changed byte, a changed signature, or a missing final chunk fail.
    let mut tampered = body.clone();
    tampered[200] = b'b';
    let d = ChunkedDecoder::new(&v.payload, Some(ctx.clone()), None).unwrap();
    assert!(matches!(
        decode_split(d, &tampered, &mut rng),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
    let swapped = chunk_body([CHUNK_SIGS[1], CHUNK_SIGS[0], CHUNK_SIGS[2]], "");
    let d = ChunkedDecoder::new(&v.payload, Some(ctx.clone()), None).unwrap();
    let err = decode_split(d, &swapped, &mut rng).unwrap_err();
    let AuthError::SignatureDoesNotMatch(m) = err else {
        panic!("{err:?}")
    };
    assert!(m.string_to_sign.starts_with(
        "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n4f232c43"
    ));
    for cut in [1, 100, 65_600, 66_700, body.len() - 1] {
        let d = ChunkedDecoder::new(&v.payload, Some(ctx.clone()), Some(66560)).unwrap();
        let r = decode_split(d, &body[..cut], &mut rng);
        assert!(
            matches!(r, Err(AuthError::IncompleteBody)),
            "cut {cut}: {r:?}"
        );
    }
}

#[test]
fn chunked_trailer_example() {
    let ctx = ChunkSigningContext {
        access_key_id: AKID.to_string(),
        signing_key: signing_key(SECRET, "20130524", "us-east-1", "s3"),
        timestamp: "20130524T000000Z".to_string(),
        scope: "20130524/us-east-1/s3/aws4_request".to_string(),
        seed_signature: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
            .to_string(),
    };
    let sigs = [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ];
    let trailer = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n";
    let body = chunk_body(sigs, trailer);
    let mode = PayloadMode::StreamingSignedTrailer;
    assert_eq!(
        sign::encode_chunked_signed(
            &vec![b'a'; 66560],
            65536,
            &ctx,
            Some(ChecksumAlgorithm::Crc32c)
        ),
        body
    );
    assert_eq!(
        sign::chunked_encoded_len(66560, 65536, true, Some(ChecksumAlgorithm::Crc32c)),
        body.len() as u64
    );
    let mut rng = XorShift(42);
    for _ in 0..40 {
        let d = ChunkedDecoder::new(&mode, Some(ctx.clone()), Some(66560))
            .unwrap()
            .with_checksum(ChecksumAlgorithm::Crc32c);
        let (data, trailers) = decode_split(d, &body, &mut rng).unwrap();
        assert_eq!(data.len(), 66560);
        assert_eq!(
            trailers.checksum(),
            Some((ChecksumAlgorithm::Crc32c, "sOO8/Q=="))
        );
    }
    // Clients that end the checksum line with LF and send CRLF before the signature.
    let variant = String::from_utf8(body.clone()).unwrap().replace(
        "\r\nx-amz-trailer-signature:",
        "\n\r\nx-amz-trailer-signature:",
    );
    let d = ChunkedDecoder::new(&mode, Some(ctx.clone()), None).unwrap();
    decode_split(d, variant.as_bytes(), &mut rng).unwrap();
    // A changed trailer value or signature fails.
    let forged = String::from_utf8(body.clone())
        .unwrap()
        .replace("sOO8/Q==", "AAAAAA==");
    let d = ChunkedDecoder::new(&mode, Some(ctx.clone()), None).unwrap();
    let err = decode_split(d, forged.as_bytes(), &mut rng).unwrap_err();
    let AuthError::SignatureDoesNotMatch(m) = err else {
        panic!("{err:?}")
    };
    assert!(m.string_to_sign.starts_with("AWS4-HMAC-SHA256-TRAILER\n"));
    let unsigned = String::from_utf8(body.clone()).unwrap().replace(
        "x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n",
        "",
    );
    let d = ChunkedDecoder::new(&mode, Some(ctx.clone()), None).unwrap();
    assert!(decode_split(d, unsigned.as_bytes(), &mut rng).is_err());
}

#[test]
fn unsigned_trailer_as_sdks_send_it() {
    let mut rng = XorShift(7);
    for len in [0usize, 1, 5, 8191, 8192, 8193, 100_000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        for algo in ChecksumAlgorithm::ALL {
            let body = sign::encode_chunked_unsigned(&data, 8192, Some(algo));
            assert_eq!(
                sign::chunked_encoded_len(len as u64, 8192, false, Some(algo)),
                body.len() as u64
            );
            let d = ChunkedDecoder::new(
                &PayloadMode::StreamingUnsignedTrailer,
                None,
                Some(len as u64),
            )
            .unwrap()
            .with_checksum(algo);
            let (out, trailers) = decode_split(d, &body, &mut rng).unwrap();
            assert_eq!(out, data);
            assert_eq!(trailers.checksum().unwrap().0, algo);
        }
    }
}

#[test]
fn decoder_never_panics_on_garbage() {
    let mut rng = XorShift(0xdead_beef);
    let ctx = ChunkSigningContext {
        access_key_id: "AKID".into(),
        signing_key: [7; 32],
        timestamp: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        seed_signature: "00".repeat(32),
    };
    let alphabet = b"0123456789abcdefABCDEF;=\r\n:x-chunksignature ";
    for _ in 0..2000 {
        let len = (rng.next() % 200) as usize;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                if rng.next().is_multiple_of(5) {
                    rng.next() as u8
                } else {
                    alphabet[(rng.next() % alphabet.len() as u64) as usize]
                }
            })
            .collect();
        for mode in [
            PayloadMode::StreamingSigned,
            PayloadMode::StreamingSignedTrailer,
            PayloadMode::StreamingUnsignedTrailer,
        ] {
            let d = ChunkedDecoder::new(&mode, Some(ctx.clone()), None).unwrap();
            let _ = decode_split(d, &body, &mut rng);
        }
    }
}

#[test]
fn presigned_url_example() {
    let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
    let parts = RequestParts {
        method: "GET",
        raw_path: "/test.txt",
        query: &strongbox_sigv4::Query::parse(q),
        headers: &h,
        virtual_host_bucket: None,
        body: None,
    };
    let auth = parse(&parts).unwrap();
    let opts = VerifyOptions::for_region("us-east-1");
    let v = verify(
        &auth,
        &parts,
        SECRET,
        may24() + jiff::SignedDuration::from_hours(23),
        &opts,
    )
    .unwrap();
    assert_eq!(v.auth_type, "REST-QUERY-STRING");
    assert_eq!(v.payload, PayloadMode::Unsigned);
    let err = verify(
        &auth,
        &parts,
        SECRET,
        may24() + jiff::SignedDuration::from_secs(86401),
        &opts,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "Request has expired");
    assert_eq!(strongbox_core::AwsError::code(&err), "AccessDenied");
    let err = verify(
        &auth,
        &parts,
        SECRET,
        may24() - jiff::SignedDuration::from_hours(1),
        &opts,
    )
    .unwrap_err();
    assert!(matches!(err, AuthError::AccessDenied(_)));

    // The signer produces the same URL.
    let creds = Credentials::new(AKID, SECRET);
    let params = SigningParams {
        credentials: &creds,
        region: "us-east-1",
        service: "s3",
        time: may24(),
    };
    assert_eq!(
        sign::presign_query(
            "GET",
            "examplebucket.s3.amazonaws.com",
            "/test.txt",
            "",
            86400,
            &params
        ),
        q
    );
    let wrong_region = VerifyOptions::for_region("eu-west-1");
    let err = verify(&auth, &parts, SECRET, may24(), &wrong_region).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
    );
}

/// "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>).
#[test]
fn post_policy_example() {
    use strongbox_sigv4::post::{parse_post_form, verify_post};
    let policy = include_str!("data/post-policy-example.b64");
    let fields = [
        (
            "X-Amz-Credential",
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
        ),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Date", "20151229T000000Z"),
        ("Policy", policy),
        (
            "X-Amz-Signature",
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e",
        ),
    ];
    let lookup = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| *v)
    };
    let auth = parse_post_form(lookup).unwrap().unwrap();
    assert_eq!(auth.access_key_id(), AKID);
    verify_post(&auth, policy, SECRET).unwrap();
    let edited = policy.replace("eyAi", "eyBi");
    assert!(matches!(
        verify_post(&auth, &edited, SECRET),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
}
