//! SigV4 and SigV2 authentication in its header and query forms (and the
//! browser-upload POST form), parsed and verified. The first byte picks what
//! is done to the head that follows: kept as sent (a forged or garbled
//! signature), or signed by the client signer first (SigV4 header, SigV4
//! presigned query, SigV2 header), so that verification runs through the
//! canonical request of arbitrary paths, queries and headers to the end.
//! None of it may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_fuzz::{now, read_head, ACCESS_KEY_ID, REGION, SECRET};
use strongbox_sigv4::sign::{presign_query, sign_request, sign_v2, Credentials, SigningParams};
use strongbox_sigv4::{Query, RequestParts, VerifyOptions};

const SERVICES: [&str; 5] = ["s3", "iam", "sts", "kms", "organizations"];
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

fn parse_and_verify(
    method: &str,
    path: &str,
    query: &str,
    headers: &http::HeaderMap,
    body: Option<&[u8]>,
) {
    let query = Query::parse(query);
    let parts = RequestParts {
        method,
        raw_path: path,
        query: &query,
        headers,
        virtual_host_bucket: None,
        body,
    };
    if let Ok(auth) = strongbox_sigv4::parse(&parts) {
        for opts in [VerifyOptions::for_region(REGION), VerifyOptions::default()] {
            let _ = strongbox_sigv4::verify(&auth, &parts, SECRET, now(), &opts);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (head_bytes, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let Some(mut head) = read_head(head_bytes) else {
        return;
    };
    let method = head.method.as_str().to_string();
    let path = head.uri.path().to_string();
    let mut query = head.uri.query().unwrap_or("").to_string();
    let credentials = Credentials::new(ACCESS_KEY_ID, SECRET);
    let params = SigningParams {
        credentials: &credentials,
        region: REGION,
        service: SERVICES[usize::from(mode >> 2) % SERVICES.len()],
        time: now(),
    };
    match mode & 3 {
        1 => {
            let _ = sign_request(
                &method,
                &path,
                &query,
                &mut head.headers,
                UNSIGNED_PAYLOAD,
                &params,
            );
        }
        2 => {
            let host = head
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("example.test")
                .to_string();
            query = presign_query(&method, &host, &path, &query, 900, &params);
        }
        3 => {
            let _ = sign_v2(
                &method,
                &path,
                &query,
                &mut head.headers,
                None,
                &credentials,
                now(),
            );
        }
        _ => {}
    }
    parse_and_verify(&method, &path, &query, &head.headers, Some(body));
    parse_and_verify(&method, &path, &query, &head.headers, None);
    // A browser-based upload's form fields.
    let fields = strongbox::forms::parse_form(&String::from_utf8_lossy(body));
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if let Ok(Some(auth)) = strongbox_sigv4::post::parse_post_form(field) {
        let _ = strongbox_sigv4::post::verify_post(&auth, field("policy").unwrap_or(""), SECRET);
    }
});
