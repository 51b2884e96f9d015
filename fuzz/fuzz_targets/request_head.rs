//! The request head as the server reads it before anyone is authenticated:
//! S3 addressing (Host and path), the query string, the SigV4/SigV2 header or
//! query authentication, the payload mode, and the S3 request headers read
//! without credentials (ACL grants, tagging, range, bucket name). None of it
//! may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox::{addressing, forms};
use strongbox_fuzz::{now, read_head, Ids, ACCOUNT, REGION, SECRET};
use strongbox_sigv4::{PayloadMode, Query, RequestParts, VerifyOptions};

fuzz_target!(|data: &[u8]| {
    let Some(head) = read_head(data) else { return };
    let domains = addressing::Domains::new(REGION, &["example.test".to_string()]);
    let host = head
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let raw_path = head.uri.path();
    let raw_query = head.uri.query().unwrap_or("");
    let address = addressing::resolve(&domains, host, raw_path);
    if let Some(bucket) = &address.bucket {
        let _ = strongbox_s3::names::valid_bucket_name(bucket);
    }
    // The query is decoded once; the signature check and the router read the same one.
    let query = Query::parse(raw_query);
    let _ = (
        query.pairs(),
        query.repeated_name(),
        query.canonical_v4(None),
    );
    let _ = forms::parse_form(raw_query);
    let parts = RequestParts {
        method: head.method.as_str(),
        raw_path,
        query: &query,
        headers: &head.headers,
        virtual_host_bucket: address.virtual_host_bucket.as_deref(),
        body: None,
    };
    if let Ok(auth) = strongbox_sigv4::parse(&parts) {
        let _ = (
            auth.service(),
            auth.region(),
            auth.session_token(),
            auth.access_key_id(),
        );
        let _ = strongbox_sigv4::verify(
            &auth,
            &parts,
            SECRET,
            now(),
            &VerifyOptions::for_region(REGION),
        );
    }
    let _ = strongbox_sigv4::verify::decoded_content_length(&parts);
    let _ = PayloadMode::from_headers(&head.headers);
    let _ = strongbox_s3::acl::acl_from_headers(&head.headers, &Ids, ACCOUNT, ACCOUNT);
    let header = |name: &str| head.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(v) = header("x-amz-tagging") {
        let _ = strongbox_s3::tags::parse_header(v);
    }
    if let Some(r) = header("range").and_then(strongbox_s3::range::parse_range) {
        let _ = r.resolve(1 << 20);
    }
    if let Some(v) = header("if-match") {
        let _ = strongbox_s3::conditional::etag_matches(v, "d41d8cd98f00b204e9800998ecf8427e");
    }
});
