//! The AWS SigV4 test suite (tests/data/sigv4-test-suite.txt), verified server-side with
//! the normalized (non-S3) path rules.

use strongbox_sigv4::{
    check_scope_and_time, parse, verify, AuthError, ParsedAuth, PathRules, Query, RequestParts,
    VerifyOptions,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Case {
    name: String,
    method: String,
    path: String,
    query: String,
    headers: http::HeaderMap,
    body: Option<String>,
    sts_hash: String,
}

fn load() -> Vec<Case> {
    let text = include_str!("data/sigv4-test-suite.txt");
    let mut cases = Vec::new();
    for block in text.split("\n\n") {
        let mut lines = block.lines().filter(|l| !l.starts_with('#'));
        let Some(name) = lines.next() else { continue };
        let name = name.trim_matches(['[', ']']).to_string();
        let request_line = lines.next().unwrap();
        let (method, target) = request_line.split_once(' ').unwrap();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut case = Case {
            name,
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: http::HeaderMap::new(),
            body: None,
            sts_hash: String::new(),
        };
        for line in lines {
            if let Some(b) = line.strip_prefix("BODY ") {
                case.body = Some(b.to_string());
            } else if let Some(a) = line.strip_prefix("AUTH ") {
                case.headers
                    .append(http::header::AUTHORIZATION, a.parse().unwrap());
            } else if let Some(s) = line.strip_prefix("STS ") {
                case.sts_hash = s.to_string();
            } else {
                let (k, v) = line.split_once(':').unwrap();
                let name = http::HeaderName::from_bytes(k.as_bytes()).unwrap();
                case.headers
                    .append(name, http::HeaderValue::from_str(v).unwrap());
            }
        }
        cases.push(case);
    }
    cases
}

/// The named case and its request without a body (the head alone).
fn head_of(name: &str) -> Case {
    load().into_iter().find(|c| c.name == name).unwrap()
}

fn parts_without_body<'a>(case: &'a Case, query: &'a Query) -> RequestParts<'a> {
    RequestParts {
        method: &case.method,
        raw_path: &case.path,
        query,
        headers: &case.headers,
        virtual_host_bucket: None,
        body: None,
    }
}

fn now() -> jiff::Timestamp {
    "2015-08-30T12:36:00Z".parse().unwrap()
}

fn opts() -> VerifyOptions {
    VerifyOptions {
        path_rules: PathRules::Normalized,
        ..VerifyOptions::for_region("us-east-1")
    }
}

#[test]
fn suite_signatures_verify() {
    let cases = load();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    for case in &cases {
        let parts = RequestParts {
            method: &case.method,
            raw_path: &case.path,
            query: &strongbox_sigv4::Query::parse(&case.query),
            headers: &case.headers,
            virtual_host_bucket: None,
            body: Some(case.body.as_deref().unwrap_or("").as_bytes()),
        };
        let auth = parse(&parts).unwrap_or_else(|e| panic!("{}: {e:?}", case.name));
        assert_eq!(auth.service(), Some("service"));
        if let Err(e) = verify(&auth, &parts, SECRET, now(), &opts()) {
            panic!("{}: {e:?}", case.name);
        }
        // A wrong secret fails, and the string to sign shown is the suite's.
        let err = verify(&auth, &parts, "wrong", now(), &opts()).unwrap_err();
        let AuthError::SignatureDoesNotMatch(m) = err else {
            panic!("{}: {err:?}", case.name)
        };
        assert!(
            m.string_to_sign.ends_with(&case.sts_hash),
            "{}: {}",
            case.name,
            m.string_to_sign
        );
        assert!(m.string_to_sign.starts_with(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        ));
        assert_eq!(m.access_key_id, "AKIDEXAMPLE");
    }
}

#[test]
fn suite_session_token_is_reported() {
    let case = load()
        .into_iter()
        .find(|c| c.name == "post-sts-header-before")
        .unwrap();
    let parts = RequestParts {
        method: &case.method,
        raw_path: &case.path,
        query: &strongbox_sigv4::Query::parse(&case.query),
        headers: &case.headers,
        virtual_host_bucket: None,
        body: Some(b""),
    };
    let auth = parse(&parts).unwrap();
    assert!(auth.session_token().unwrap().starts_with("AQoDYXdzEPT//"));
    let ParsedAuth::V4(v4) = &auth else { panic!() };
    assert_eq!(
        v4.signed_headers,
        vec!["host", "x-amz-date", "x-amz-security-token"]
    );
}

#[test]
fn suite_time_and_region_checks() {
    let case = head_of("get-vanilla");
    let query = Query::parse(&case.query);
    let parts = parts_without_body(&case, &query);
    let auth = parse(&parts).unwrap();
    let later = now() + jiff::SignedDuration::from_mins(16);
    let err = verify(&auth, &parts, SECRET, later, &opts()).unwrap_err();
    assert!(
        matches!(err, AuthError::RequestTimeTooSkewed { .. }),
        "{err:?}"
    );
    let earlier = now() - jiff::SignedDuration::from_mins(16);
    assert!(matches!(
        verify(&auth, &parts, SECRET, earlier, &opts()),
        Err(AuthError::RequestTimeTooSkewed { .. })
    ));
    let ok = verify(
        &auth,
        &parts,
        SECRET,
        now() + jiff::SignedDuration::from_mins(14),
        &opts(),
    )
    .unwrap();
    assert_eq!(ok.signature_age_ms, 14 * 60 * 1000);
    let west = VerifyOptions {
        path_rules: PathRules::Normalized,
        ..VerifyOptions::for_region("us-west-2")
    };
    let err = verify(&auth, &parts, SECRET, now(), &west).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'us-west-2'"
    );
    assert_eq!(err.details(), vec![("Region", "us-west-2".to_string())]);
}

/// The checks the server runs from the head alone, before a body whose hash is signed
/// (IAM, STS, KMS, Organizations): the same time and region errors as `verify`.
#[test]
fn scope_and_time_checked_without_the_secret_or_body() {
    let case = head_of("post-x-www-form-urlencoded");
    let query = Query::parse(&case.query);
    let parts = parts_without_body(&case, &query);
    let auth = parse(&parts).unwrap();
    assert!(check_scope_and_time(&auth, now(), &opts()).is_ok());
    let later = now() + jiff::SignedDuration::from_mins(16);
    assert!(matches!(
        check_scope_and_time(&auth, later, &opts()),
        Err(AuthError::RequestTimeTooSkewed { .. })
    ));
    let west = VerifyOptions::for_region("us-west-2");
    assert!(matches!(
        check_scope_and_time(&auth, now(), &west),
        Err(AuthError::AuthorizationHeaderMalformed { .. })
    ));
    assert!(check_scope_and_time(&ParsedAuth::Anonymous, later, &west).is_ok());
}
