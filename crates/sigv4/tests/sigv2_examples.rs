//! The SigV2 examples of "Signing and Authenticating REST Requests"
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>).

use strongbox_core::AwsError;
use strongbox_sigv4::sign::{self, Credentials};
use strongbox_sigv4::{parse, verify, AuthError, ParsedAuth, RequestParts, VerifyOptions};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

struct Example {
    method: &'static str,
    path: &'static str,
    query: &'static str,
    bucket: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    signature: &'static str,
    now: &'static str,
}

const EXAMPLES: &[Example] = &[
    Example {
        method: "GET",
        path: "/photos/puppy.jpg",
        query: "",
        bucket: Some("johnsmith"),
        headers: &[
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
        ],
        signature: "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        now: "2007-03-27T19:36:42Z",
    },
    Example {
        method: "PUT",
        path: "/photos/puppy.jpg",
        query: "",
        bucket: Some("johnsmith"),
        headers: &[
            ("content-type", "image/jpeg"),
            ("content-length", "94328"),
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        ],
        signature: "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
        now: "2007-03-27T21:15:45Z",
    },
    Example {
        method: "GET",
        path: "/",
        query: "prefix=photos&max-keys=50&marker=puppy",
        bucket: Some("johnsmith"),
        headers: &[
            ("user-agent", "Mozilla/5.0"),
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        ],
        signature: "htDYFYduRNen8P9ZfE/s9SuKy0U=",
        now: "2007-03-27T19:42:41Z",
    },
    Example {
        method: "GET",
        path: "/",
        query: "acl",
        bucket: Some("johnsmith"),
        headers: &[
            ("host", "johnsmith.s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 19:44:46 +0000"),
        ],
        signature: "c2WLPFtWHVgbEmeEG93a4cG37dM=",
        now: "2007-03-27T19:44:46Z",
    },
    Example {
        method: "DELETE",
        path: "/johnsmith/photos/puppy.jpg",
        query: "",
        bucket: None,
        headers: &[
            ("user-agent", "dotnet"),
            ("host", "s3.amazonaws.com"),
            ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
            ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        ],
        signature: "lx3byBScXR6KzyMaifNkardMwNk=",
        now: "2007-03-27T21:20:26Z",
    },
    Example {
        method: "PUT",
        path: "/db-backup.dat.gz",
        query: "",
        bucket: Some("static.johnsmith.net"),
        headers: &[
            ("user-agent", "curl/7.15.5"),
            ("host", "static.johnsmith.net:8080"),
            ("date", "Tue, 27 Mar 2007 21:06:08 +0000"),
            ("x-amz-acl", "public-read"),
            ("content-type", "application/x-download"),
            ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
            ("x-amz-meta-reviewedby", "joe@johnsmith.net"),
            ("x-amz-meta-reviewedby", "jane@johnsmith.net"),
            ("x-amz-meta-filechecksum", "0x02661779"),
            ("x-amz-meta-checksumalgorithm", "crc32"),
            ("content-disposition", "attachment; filename=database.dat"),
            ("content-encoding", "gzip"),
            ("content-length", "5913339"),
        ],
        signature: "ilyl83RwaSoYIEdixDQcA4OnAnc=",
        now: "2007-03-27T21:06:08Z",
    },
];

fn header_map(list: &[(&str, &str)]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for (k, v) in list {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

#[test]
fn header_examples_verify() {
    for ex in EXAMPLES {
        let mut h = header_map(ex.headers);
        h.insert(
            "authorization",
            format!("AWS {AKID}:{}", ex.signature).parse().unwrap(),
        );
        let parts = RequestParts {
            method: ex.method,
            raw_path: ex.path,
            query: &strongbox_sigv4::Query::parse(ex.query),
            headers: &h,
            virtual_host_bucket: ex.bucket,
            body: None,
        };
        let auth = parse(&parts).unwrap();
        assert_eq!(auth.service(), Some("s3"));
        let now: jiff::Timestamp = ex.now.parse().unwrap();
        let v = verify(&auth, &parts, SECRET, now, &VerifyOptions::default())
            .unwrap_or_else(|e| panic!("{} {}: {e:?}", ex.method, ex.path));
        assert_eq!((v.signature_version, v.auth_type), ("AWS", "REST-HEADER"));
        let err = verify(&auth, &parts, "bad", now, &VerifyOptions::default()).unwrap_err();
        assert!(matches!(err, AuthError::SignatureDoesNotMatch(_)));
        let later = now + jiff::SignedDuration::from_mins(20);
        let err = verify(&auth, &parts, SECRET, later, &VerifyOptions::default()).unwrap_err();
        assert!(
            matches!(err, AuthError::RequestTimeTooSkewed { .. }),
            "{err:?}"
        );
    }
}

#[test]
fn signer_reproduces_examples() {
    let creds = Credentials::new(AKID, SECRET);
    for ex in EXAMPLES
        .iter()
        .filter(|e| !e.headers.iter().any(|(k, _)| *k == "x-amz-date"))
    {
        let mut h = header_map(ex.headers);
        let now: jiff::Timestamp = ex.now.parse().unwrap();
        let sig =
            sign::sign_v2(ex.method, ex.path, ex.query, &mut h, ex.bucket, &creds, now).unwrap();
        assert_eq!(sig, ex.signature, "{} {}", ex.method, ex.path);
    }
}

#[test]
fn string_to_sign_shown_on_mismatch() {
    let ex = &EXAMPLES[5];
    let mut h = header_map(ex.headers);
    h.insert(
        "authorization",
        format!("AWS {AKID}:wrong=").parse().unwrap(),
    );
    let parts = RequestParts {
        method: ex.method,
        raw_path: ex.path,
        query: &strongbox_sigv4::Query::parse(ex.query),
        headers: &h,
        virtual_host_bucket: ex.bucket,
        body: None,
    };
    let auth = parse(&parts).unwrap();
    let err = verify(
        &auth,
        &parts,
        SECRET,
        ex.now.parse().unwrap(),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    let AuthError::SignatureDoesNotMatch(m) = err else {
        panic!()
    };
    assert_eq!(
        m.string_to_sign,
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
         x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz"
    );
    assert_eq!(m.signature_provided, "wrong=");
}

#[test]
fn presigned_example() {
    let h = header_map(&[("host", "johnsmith.s3.amazonaws.com")]);
    let query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    let parts = RequestParts {
        method: "GET",
        raw_path: "/photos/puppy.jpg",
        query: &strongbox_sigv4::Query::parse(query),
        headers: &h,
        virtual_host_bucket: Some("johnsmith"),
        body: None,
    };
    let auth = parse(&parts).unwrap();
    assert!(matches!(&auth, ParsedAuth::V2(a) if a.presigned && a.expires == Some(1175139620)));
    let before: jiff::Timestamp = "2007-03-27T19:36:42Z".parse().unwrap();
    let v = verify(&auth, &parts, SECRET, before, &VerifyOptions::default()).unwrap();
    assert_eq!(v.auth_type, "REST-QUERY-STRING");
    let after = jiff::Timestamp::from_second(1175139621).unwrap();
    let err = verify(&auth, &parts, SECRET, after, &VerifyOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "Request has expired");
    let creds = Credentials::new(AKID, SECRET);
    assert_eq!(
        sign::presign_v2_query(
            "GET",
            "/photos/puppy.jpg",
            "",
            Some("johnsmith"),
            &creds,
            1175139620
        ),
        query
    );
}

#[test]
fn presigned_with_token_and_overrides() {
    let mut creds = Credentials::new(AKID, SECRET);
    creds.session_token = Some("tok/en+=".to_string());
    let query = sign::presign_v2_query(
        "GET",
        "/bucket/key",
        "response-content-type=text%2Fplain&versionId=3",
        None,
        &creds,
        2_000_000_000,
    );
    let h = http::HeaderMap::new();
    let parts = RequestParts {
        method: "GET",
        raw_path: "/bucket/key",
        query: &strongbox_sigv4::Query::parse(&query),
        headers: &h,
        virtual_host_bucket: None,
        body: None,
    };
    let auth = parse(&parts).unwrap();
    assert_eq!(auth.session_token(), Some("tok/en+="));
    let now = jiff::Timestamp::from_second(1_999_990_000).unwrap();
    verify(&auth, &parts, SECRET, now, &VerifyOptions::default()).unwrap();
    let tampered = query.replace("versionId=3", "versionId=4");
    let parts = RequestParts {
        query: &strongbox_sigv4::Query::parse(&tampered),
        ..parts
    };
    let auth = parse(&parts).unwrap();
    assert!(verify(&auth, &parts, SECRET, now, &VerifyOptions::default()).is_err());
}

/// A SigV2 presigned GET of an object, and `verify` of it with `query` appended.
fn presigned_v2_with(
    extra: &str,
    expires: i64,
    now: i64,
    opts: &VerifyOptions,
) -> Result<(), AuthError> {
    let creds = Credentials::new(AKID, SECRET);
    let query = sign::presign_v2_query("GET", "/bucket/key", "", None, &creds, expires);
    let query = format!("{query}{extra}");
    let h = http::HeaderMap::new();
    let parsed = strongbox_sigv4::Query::parse(&query);
    let parts = RequestParts {
        method: "GET",
        raw_path: "/bucket/key",
        query: &parsed,
        headers: &h,
        virtual_host_bucket: None,
        body: None,
    };
    let auth = parse(&parts)?;
    let now = jiff::Timestamp::from_second(now).unwrap();
    verify(&auth, &parts, SECRET, now, opts).map(|_| ())
}

#[test]
fn encoded_sub_resource_names_are_signed() {
    let opts = VerifyOptions::default();
    let (expires, now) = (2_000_000_000, 1_999_999_000);
    presigned_v2_with("", expires, now, &opts).unwrap();
    // Parameters that are not sub-resources stay outside SigV2, as on AWS.
    presigned_v2_with("&prefix=x", expires, now, &opts).unwrap();
    // A sub-resource the router would act on, spelt with escapes, is a sub-resource here too.
    for extra in [
        "&acl",
        "&%61cl",
        "&%74agging",
        "&%76ersionId=abc",
        "&%72esponse-content-type=text%2Fhtml",
        "&response-content-type=text%2Fhtml",
        "&ac%6C=",
        "&%75ploadId=x",
    ] {
        let err = presigned_v2_with(extra, expires, now, &opts).unwrap_err();
        assert!(
            matches!(err, AuthError::SignatureDoesNotMatch(_)),
            "{extra}: {err:?}"
        );
    }
}

#[test]
fn presigned_lifetime_is_capped_at_a_week() {
    let opts = VerifyOptions::default();
    let now = 1_900_000_000;
    presigned_v2_with("", now + 604_800, now, &opts).unwrap();
    let err = presigned_v2_with("", now + 604_801, now, &opts).unwrap_err();
    assert!(
        matches!(err, AuthError::AuthorizationQueryParametersError { .. }),
        "{err:?}"
    );
    // Year 2100.
    assert!(presigned_v2_with("", 4_102_444_800, now, &opts).is_err());
}

#[test]
fn sigv2_can_be_turned_off() {
    let off = VerifyOptions {
        sigv2: false,
        ..VerifyOptions::default()
    };
    let err = presigned_v2_with("", 2_000_000_000, 1_999_999_000, &off).unwrap_err();
    assert_eq!(err.code(), "InvalidRequest");
    assert_eq!(
        err.to_string(),
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
    );
}

/// `Date` and a SigV2 `Authorization` of a GET of `resource` signed at `date`.
fn dated_v2_headers(date: &str, resource: &str) -> http::HeaderMap {
    let sts = format!("GET\n\n\n{date}\n{resource}");
    let signature = strongbox_sigv4::v2::signature(SECRET, &sts);
    let mut h = http::HeaderMap::new();
    h.insert("date", date.parse().unwrap());
    h.insert(
        "authorization",
        format!("AWS {AKID}:{signature}").parse().unwrap(),
    );
    h
}

#[test]
fn bucket_path_is_accepted_signed_with_its_trailing_slash() {
    // botocore's HmacV1Auth sends `GET /bucket?acl` and signs `/bucket/?acl`.
    let now = jiff::Timestamp::from_second(1_900_000_000).unwrap();
    let date = strongbox_sigv4::parse::format_http_date(now);
    let h = dated_v2_headers(&date, "/bucket/?acl");
    let query = strongbox_sigv4::Query::parse("acl");
    let check = |path: &str, vhost: Option<&str>| {
        let parts = RequestParts {
            method: "GET",
            raw_path: path,
            query: &query,
            headers: &h,
            virtual_host_bucket: vhost,
            body: None,
        };
        let auth = parse(&parts).unwrap();
        verify(&auth, &parts, SECRET, now, &VerifyOptions::default())
    };
    check("/bucket", None).unwrap();
    check("/bucket/", None).unwrap();
    check("/", Some("bucket")).unwrap();
    // Another bucket, or a key, is another resource.
    assert!(check("/bucket2", None).is_err());
    assert!(check("/bucket/k", None).is_err());
}

#[test]
fn a_wrong_weekday_is_not_an_invalid_date() {
    let now = jiff::Timestamp::from_second(1_900_000_000).unwrap();
    // 1_900_000_000 is a Sunday; say Wednesday.
    let right = strongbox_sigv4::parse::format_http_date(now);
    assert!(right.starts_with("Sun, "), "{right}");
    let date = right.replacen("Sun", "Wed", 1);
    let h = dated_v2_headers(&date, "/bucket/k");
    let query = strongbox_sigv4::Query::default();
    let parts = RequestParts {
        method: "GET",
        raw_path: "/bucket/k",
        query: &query,
        headers: &h,
        virtual_host_bucket: None,
        body: None,
    };
    let auth = parse(&parts).unwrap();
    verify(&auth, &parts, SECRET, now, &VerifyOptions::default()).unwrap();
    // Skew is still refused, with RequestTimeTooSkewed.
    let later = jiff::Timestamp::from_second(1_900_000_000 + 3600).unwrap();
    let err = verify(&auth, &parts, SECRET, later, &VerifyOptions::default()).unwrap_err();
    assert!(
        matches!(err, AuthError::RequestTimeTooSkewed { .. }),
        "{err:?}"
    );
}
