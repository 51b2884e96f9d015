//! SigV2 (`Authorization: AWS AKID:sig` and `AWSAccessKeyId`/`Expires`/`Signature` URLs).
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>:
//! `Signature = Base64(HMAC-SHA1(secret, StringToSign))` with
//! `StringToSign = Verb \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource`.

use base64::Engine;
use jiff::Timestamp;

use crate::crypto::{constant_time_eq, hmac_sha1};
use crate::error::{AuthError, SignatureMismatch};
use crate::parse::{parse_http_date, RequestParts, V2Auth};
use crate::payload::PayloadMode;
use crate::query::Query;
use crate::verify::{check_skew, iso, Verified, VerifyOptions};

/// Query parameters that are part of the canonicalized resource (sub-resources and
/// response header overrides), as the SDKs sign them.
pub const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// `/bucket/path?sub&resources` for the string to sign. Sub-resources are recognised by
/// their decoded names, from the same [`Query`] the router reads: a name sent as `%61cl` is
/// `acl` here too, so nothing the router acts on is left out of the signature.
pub fn canonicalized_resource(
    raw_path: &str,
    query: &Query,
    virtual_host_bucket: Option<&str>,
) -> String {
    let mut out = String::new();
    if let Some(bucket) = virtual_host_bucket {
        out.push('/');
        out.push_str(bucket);
    }
    out.push_str(if raw_path.is_empty() { "/" } else { raw_path });
    let mut subs: Vec<(&str, Option<&str>)> =
        query.named(|name| SUB_RESOURCES.contains(&name)).collect();
    // Stable: repeated sub-resources keep the order they were sent in.
    subs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// `x-amz-*` headers (and, for presigned URLs, `x-amz-*` query parameters, which the SDKs
/// move there from the headers), lower-cased, sorted, values joined by `,`, each `name:value\n`.
pub fn canonicalized_amz_headers(headers: &http::HeaderMap, query: Option<&Query>) -> String {
    let mut map: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    for (name, value) in headers {
        if name.as_str().starts_with("x-amz-") {
            let text = String::from_utf8_lossy(value.as_bytes());
            map.entry(name.as_str().to_string())
                .or_default()
                .push(text.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    let query_amz = query
        .into_iter()
        .flat_map(|q| q.named(|n| n.to_ascii_lowercase().starts_with("x-amz-")));
    for (name, value) in query_amz {
        map.entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.unwrap_or_default().trim().to_string());
    }
    let mut out = String::new();
    for (name, values) in map {
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out
}

/// The string to sign with `date` in the Date position (the `Expires` value for presigned URLs).
pub fn string_to_sign(parts: &RequestParts, date: &str, presigned: bool) -> String {
    string_to_sign_with(parts, parts.raw_path, date, presigned, false)
}

/// The spellings of the request path a client may have signed. A path-style request for a
/// bucket itself is sent as `/bucket` but signed as `/bucket/` by the SDKs (botocore's
/// `HmacV1Auth` does): both name the bucket and nothing else, so both are accepted.
fn signed_path_forms<'p>(parts: &RequestParts<'p>) -> Vec<std::borrow::Cow<'p, str>> {
    let raw = parts.raw_path;
    let mut forms = vec![std::borrow::Cow::Borrowed(raw)];
    let bare_bucket = raw.len() > 1 && raw.starts_with('/') && !raw[1..].contains('/');
    if parts.virtual_host_bucket.is_none() && bare_bucket {
        forms.push(std::borrow::Cow::Owned(format!("{raw}/")));
    }
    forms
}

/// [`string_to_sign`] of `path`, optionally leaving `x-amz-date` out of the amz headers (for
/// clients that put its value in the Date position instead, as one AWS example does).
fn string_to_sign_with(
    parts: &RequestParts,
    path: &str,
    date: &str,
    presigned: bool,
    skip_amz_date: bool,
) -> String {
    let header = |n: &str| parts.header(n).map(str::trim).unwrap_or("");
    let mut amz = canonicalized_amz_headers(parts.headers, presigned.then_some(parts.query));
    if skip_amz_date {
        amz = amz
            .lines()
            .filter(|l| !l.starts_with("x-amz-date:"))
            .map(|l| format!("{l}\n"))
            .collect();
    }
    format!(
        "{}\n{}\n{}\n{}\n{}{}",
        parts.method,
        header("content-md5"),
        header("content-type"),
        date,
        amz,
        canonicalized_resource(path, parts.query, parts.virtual_host_bucket)
    )
}

/// Base64 HMAC-SHA1 of `string_to_sign`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(hmac_sha1(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// The furthest in the future a SigV2 presigned URL may expire, from now. AWS documents
/// no cap for SigV2's `Expires` (an absolute time); SigV4 caps `X-Amz-Expires` at one
/// week (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>),
/// and Strongbox holds SigV2 URLs to the same week, so no URL outlives that.
pub const MAX_V2_PRESIGNED_LIFETIME_SECS: i64 = crate::parse::MAX_PRESIGNED_EXPIRES_SECS;

fn check_presigned_lifetime(deadline: Timestamp, now: Timestamp) -> Result<(), AuthError> {
    if deadline.as_second() - now.as_second() > MAX_V2_PRESIGNED_LIFETIME_SECS {
        return Err(AuthError::AuthorizationQueryParametersError {
            message: format!(
                "Expires must be less than a week (in seconds) that is {MAX_V2_PRESIGNED_LIFETIME_SECS} from now"
            ),
            region: None,
        });
    }
    Ok(())
}

pub(crate) fn verify_v2(
    a: &V2Auth,
    parts: &RequestParts,
    secret: &str,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Result<Verified, AuthError> {
    // (Date position, leave x-amz-date out of the amz headers)
    let mut dates: Vec<(String, bool)> = Vec::with_capacity(3);
    let signed_at;
    if let Some(expires) = a.expires {
        let deadline = Timestamp::from_second(expires).unwrap_or(Timestamp::MAX);
        check_presigned_lifetime(deadline, now)?;
        if now > deadline {
            return Err(AuthError::RequestExpired {
                expires: iso(deadline),
                server_time: iso(now),
            });
        }
        dates.push((expires.to_string(), false));
        signed_at = None;
    } else {
        let amz_date = parts.header("x-amz-date");
        let date = parts.header("date");
        let shown = amz_date.or(date).unwrap_or("");
        let t = parse_http_date(shown).ok_or_else(|| {
            AuthError::AccessDenied(
                "AWS authentication requires a valid Date or x-amz-date header".to_string(),
            )
        })?;
        check_skew(t, shown, now, opts)?;
        if let Some(a) = amz_date {
            dates.push((String::new(), false));
            dates.push((a.trim().to_string(), true));
        }
        if let Some(d) = date {
            dates.push((d.trim().to_string(), false));
        }
        signed_at = Some(t);
    }
    let mut first = None;
    let paths = signed_path_forms(parts);
    let candidates = paths
        .iter()
        .flat_map(|p| dates.iter().map(move |(d, skip)| (p, d, *skip)));
    for (path, date, skip_amz_date) in candidates {
        let sts = string_to_sign_with(parts, path, date, a.presigned, skip_amz_date);
        let computed = signature(secret, &sts);
        if constant_time_eq(computed.as_bytes(), a.signature.as_bytes()) {
            return Ok(Verified {
                payload: PayloadMode::from_headers(parts.headers)?,
                signing: None,
                signature_age_ms: signed_at
                    .map(|t| now.duration_since(t).as_millis() as i64)
                    .unwrap_or(0),
                signature_version: "AWS",
                auth_type: if a.presigned {
                    "REST-QUERY-STRING"
                } else {
                    "REST-HEADER"
                },
                decoded_content_length: crate::verify::decoded_content_length(parts)?,
            });
        }
        first.get_or_insert(sts);
    }
    Err(AuthError::SignatureDoesNotMatch(Box::new(
        SignatureMismatch {
            access_key_id: a.access_key_id.clone(),
            string_to_sign: first.unwrap_or_default(),
            canonical_request: String::new(),
            signature_provided: a.signature.clone(),
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource() {
        assert_eq!(
            canonicalized_resource("/photos/puppy.jpg", &Query::default(), Some("johnsmith")),
            "/johnsmith/photos/puppy.jpg"
        );
        assert_eq!(
            canonicalized_resource(
                "/",
                &Query::parse("prefix=photos&max-keys=50"),
                Some("johnsmith")
            ),
            "/johnsmith/"
        );
        assert_eq!(
            canonicalized_resource("/b/k", &Query::parse("versionId=1&acl&x=y"), None),
            "/b/k?acl&versionId=1"
        );
        assert_eq!(
            canonicalized_resource(
                "/b/k",
                &Query::parse("response-content-type=text%2Fplain"),
                None
            ),
            "/b/k?response-content-type=text/plain"
        );
        assert_eq!(
            canonicalized_resource("/b/k", &Query::parse("uploadId=abc&partNumber=2"), None),
            "/b/k?partNumber=2&uploadId=abc"
        );
    }

    #[test]
    fn amz_headers() {
        let mut h = http::HeaderMap::new();
        h.append(
            "x-amz-meta-reviewedby",
            "joe@johnsmith.net".parse().unwrap(),
        );
        h.append(
            "x-amz-meta-reviewedby",
            "jane@johnsmith.net".parse().unwrap(),
        );
        h.append("x-amz-acl", " public-read ".parse().unwrap());
        h.append("content-type", "text/plain".parse().unwrap());
        assert_eq!(
            canonicalized_amz_headers(&h, Some(&Query::parse("x-amz-security-token=t%2B&acl"))),
            "x-amz-acl:public-read\nx-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\nx-amz-security-token:t+\n"
        );
    }
}
