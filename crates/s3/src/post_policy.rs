//! POST Object (browser-based uploads): the POST policy's expiration and conditions,
//! the form fields turned into PutObject's headers, and the answer S3 gives a form.
//!
//! As AWS documents them:
//! - "Creating a POST Policy" / "POST Policy"
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>):
//!   `expiration`, `conditions` with exact matches (`{"acl": "private"}`, `["eq", "$key", …]`),
//!   `["starts-with", "$key", …]` (for `Content-Type` every comma-separated value),
//!   `["content-length-range", min, max]`; every form field except `x-amz-signature`,
//!   `file`, `policy` and `x-ignore-*` must be covered by a condition.
//! - "POST Object" (<https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>):
//!   `key` with `${filename}`, `success_action_redirect` (303 with `bucket`, `key`, `etag`),
//!   `success_action_status` (200, 201 with a `PostResponse` document, 204 by default).
//!
//! The server authenticates the form (signature over the policy) and streams the `file`
//! part as the body; the upload itself is PutObject, authorized the same way.

use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use jiff::Timestamp;
use serde_json::Value;

use crate::authorization::RuleDenial;
use crate::body::{BodyError, S3Body};
use crate::error::{Failure, S3Error, S3Result};
use crate::xml::XmlWriter;
use crate::{S3Request, S3Service};

/// Conditions read from one policy at most (the policy field itself is bounded by the server).
const MAX_CONDITIONS: usize = 256;

/// A browser-based upload form, as the server read it.
pub struct PostForm {
    /// The fields before `file`, names lower-cased, values as sent, in order.
    pub fields: Vec<(String, String)>,
    /// The `filename` of the `file` part (for `${filename}` in `key`).
    pub file_name: String,
    /// The object URL without the key (`http://host/bucket` or `http://bucket.host`), for `Location`.
    pub bucket_url: String,
    /// Whether the form was signed with SigV2 (`AWSAccessKeyId` and `signature` are then exempt
    /// from the coverage rule as `x-amz-signature` is for SigV4).
    pub sigv2: bool,
}

impl PostForm {
    /// A field's value, by lower-case name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One condition of a POST policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The field (lower-case, without `$`) equals the value.
    Eq { field: String, value: String },
    /// The field starts with the prefix.
    StartsWith { field: String, prefix: String },
    /// The file's size in bytes, both ends included.
    ContentLengthRange { min: u64, max: u64 },
}

impl Condition {
    /// The condition as S3 quotes it in "Policy Condition failed: […]".
    fn describe(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        match self {
            Condition::Eq { field, value } => {
                format!("[\"eq\", {}, {}]", q(&format!("${field}")), q(value))
            }
            Condition::StartsWith { field, prefix } => {
                format!(
                    "[\"starts-with\", {}, {}]",
                    q(&format!("${field}")),
                    q(prefix)
                )
            }
            Condition::ContentLengthRange { min, max } => {
                format!("[\"content-length-range\", {min}, {max}]")
            }
        }
    }
}

/// A decoded POST policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostPolicy {
    pub expiration: Timestamp,
    pub conditions: Vec<Condition>,
}

fn invalid_policy(what: &str) -> S3Error {
    S3Error::InvalidPolicyDocument(format!("Invalid Policy: {what}"))
}

/// Decodes the base64 `policy` field: `InvalidPolicyDocument` when it cannot be read.
pub fn parse_policy(policy_base64: &str) -> Result<PostPolicy, S3Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(policy_base64.trim())
        .map_err(|_| invalid_policy("Invalid Base64."))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| invalid_policy("Invalid JSON."))?;
    let Value::Object(doc) = doc else {
        return Err(invalid_policy("Invalid JSON."));
    };
    let expiration = match doc.get("expiration") {
        None => return Err(invalid_policy("Policy missing expiration.")),
        Some(Value::String(s)) => s
            .parse::<Timestamp>()
            .map_err(|_| invalid_policy(&format!("Invalid 'expiration' value: '{s}'")))?,
        Some(_) => {
            return Err(invalid_policy(
                "Invalid 'expiration' value: must be a string.",
            ))
        }
    };
    let list = match doc.get("conditions") {
        None => return Err(invalid_policy("Policy missing conditions.")),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(invalid_policy(
                "Invalid 'conditions' value: must be a List.",
            ))
        }
    };
    if list.len() > MAX_CONDITIONS {
        return Err(invalid_policy("Too many conditions."));
    }
    let mut conditions = Vec::new();
    for item in list {
        match item {
            Value::Object(map) => {
                for (name, value) in map {
                    let Value::String(value) = value else {
                        return Err(invalid_policy(
                            "Invalid Simple-Condition: value must be a string.",
                        ));
                    };
                    conditions.push(Condition::Eq {
                        field: name.trim_start_matches('$').to_ascii_lowercase(),
                        value: value.clone(),
                    });
                }
            }
            Value::Array(parts) => conditions.push(parse_array_condition(parts)?),
            _ => {
                return Err(invalid_policy(
                    "Invalid condition: must be a List or an Object.",
                ))
            }
        }
    }
    Ok(PostPolicy {
        expiration,
        conditions,
    })
}

/// A non-negative integer, as a JSON number or a string of digits.
fn length_bound(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn parse_array_condition(parts: &[Value]) -> Result<Condition, S3Error> {
    let op = parts.first().and_then(Value::as_str).unwrap_or("");
    if op.eq_ignore_ascii_case("content-length-range") {
        let (Some(min), Some(max), 3) = (
            parts.get(1).and_then(length_bound),
            parts.get(2).and_then(length_bound),
            parts.len(),
        ) else {
            return Err(invalid_policy(
                "Invalid content-length-range: must have two non-negative integers.",
            ));
        };
        return Ok(Condition::ContentLengthRange { min, max });
    }
    let (Some(Value::String(field)), Some(Value::String(value)), 3) =
        (parts.get(1), parts.get(2), parts.len())
    else {
        return Err(invalid_policy(&format!(
            "Invalid '{op}' condition: must have a field name and a string value."
        )));
    };
    let Some(field) = field.strip_prefix('$') else {
        return Err(invalid_policy(&format!(
            "Invalid '{op}' condition: the field name must start with '$'."
        )));
    };
    let field = field.to_ascii_lowercase();
    match op.to_ascii_lowercase().as_str() {
        "eq" => Ok(Condition::Eq {
            field,
            value: value.clone(),
        }),
        "starts-with" => Ok(Condition::StartsWith {
            field,
            prefix: value.clone(),
        }),
        _ => Err(invalid_policy(&format!(
            "Unknown condition operation: '{op}'."
        ))),
    }
}

/// Fields that never need a condition.
fn exempt_from_conditions(name: &str, sigv2: bool) -> bool {
    matches!(name, "x-amz-signature" | "file" | "policy")
        || name.starts_with("x-ignore-")
        || (sigv2 && matches!(name, "awsaccesskeyid" | "signature"))
}

/// Why a form does not satisfy its policy: AWS's 403 messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyRefusal {
    Expired,
    ConditionFailed(String),
    ExtraFields(String),
}

impl PolicyRefusal {
    /// The message S3 answers with (code `AccessDenied`).
    pub fn message(&self) -> String {
        match self {
            PolicyRefusal::Expired => "Invalid according to Policy: Policy expired.".to_string(),
            PolicyRefusal::ConditionFailed(c) => {
                format!("Invalid according to Policy: Policy Condition failed: {c}")
            }
            PolicyRefusal::ExtraFields(f) => {
                format!("Invalid according to Policy: Extra input fields: {f}")
            }
        }
    }

    /// The smallest change that would allow the upload, for `strongbox explain`.
    fn fix(&self) -> String {
        match self {
            PolicyRefusal::Expired => {
                "Sign a new POST policy with a later expiration.".to_string()
            }
            PolicyRefusal::ConditionFailed(c) => format!(
                "Send form fields that satisfy the policy condition {c}, or sign a policy that allows them."
            ),
            PolicyRefusal::ExtraFields(f) => format!(
                "Add a condition for {f} to the POST policy, or leave the field out (or name it x-ignore-…)."
            ),
        }
    }
}

impl PostPolicy {
    /// Checks expiration and every field condition (the size is checked as the file streams):
    /// `bucket` is the addressed bucket, `fields` the form's (with `key` already expanded).
    pub fn check(
        &self,
        now: Timestamp,
        bucket: &str,
        fields: &[(String, String)],
        sigv2: bool,
    ) -> Result<(), PolicyRefusal> {
        if now >= self.expiration {
            return Err(PolicyRefusal::Expired);
        }
        let value_of = |name: &str| -> String {
            if name == "bucket" {
                return bucket.to_string();
            }
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        for condition in &self.conditions {
            let holds = match condition {
                Condition::Eq { field, value } => value_of(field) == *value,
                Condition::StartsWith { field, prefix } if field == "content-type" => {
                    value_of(field)
                        .split(',')
                        .all(|v| v.trim().starts_with(prefix.as_str()))
                }
                Condition::StartsWith { field, prefix } => {
                    value_of(field).starts_with(prefix.as_str())
                }
                Condition::ContentLengthRange { .. } => true,
            };
            if !holds {
                return Err(PolicyRefusal::ConditionFailed(condition.describe()));
            }
        }
        let covered = |name: &str| {
            self.conditions.iter().any(|c| match c {
                Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => field == name,
                Condition::ContentLengthRange { .. } => false,
            })
        };
        let extra: Vec<&str> = fields
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !exempt_from_conditions(k, sigv2) && !covered(k))
            .collect();
        if !extra.is_empty() {
            return Err(PolicyRefusal::ExtraFields(extra.join(", ")));
        }
        Ok(())
    }

    /// The allowed file sizes, when the policy limits them (the narrowest of its ranges).
    pub fn length_range(&self) -> Option<(u64, u64)> {
        self.conditions.iter().fold(None, |acc, c| match c {
            Condition::ContentLengthRange { min, max } => Some(match acc {
                Some((lo, hi)) => (u64::max(lo, *min), u64::min(hi, *max)),
                None => (*min, *max),
            }),
            _ => acc,
        })
    }
}

/// Form fields stored as the same PutObject header.
const HEADER_FIELDS: [&str; 6] = [
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "expires",
    "x-amz-website-redirect-location",
];

/// `x-amz-` fields that PutObject reads as headers (the authentication fields and headers that
/// would change the operation, such as `x-amz-copy-source`, are not among them).
fn is_put_header_field(name: &str) -> bool {
    HEADER_FIELDS.contains(&name)
        || name.starts_with("x-amz-meta-")
        || name.starts_with("x-amz-server-side-encryption")
        || name.starts_with("x-amz-checksum-")
        || name.starts_with("x-amz-object-lock-")
        || name.starts_with("x-amz-grant-")
        || name == "x-amz-storage-class"
}

/// The PutObject headers a form's fields stand for: `acl` is `x-amz-acl`, `tagging` (an XML
/// `Tagging` document) becomes `x-amz-tagging`.
pub fn put_headers(fields: &[(String, String)]) -> Result<http::HeaderMap, S3Error> {
    let mut headers = http::HeaderMap::new();
    for (name, value) in fields {
        let (header, value) = match name.as_str() {
            "acl" => ("x-amz-acl", value.clone()),
            "tagging" => ("x-amz-tagging", tagging_header(value)?),
            n if is_put_header_field(n) => (n, value.clone()),
            _ => continue,
        };
        let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(header.as_bytes()),
            HeaderValue::from_str(&value),
        ) else {
            return Err(S3Error::InvalidArgument(format!(
                "The value of the form field {name} is not valid."
            )));
        };
        headers.insert(n, v);
    }
    Ok(headers)
}

/// The `tagging` field's XML as PutObject's `x-amz-tagging` (URL-encoded pairs).
fn tagging_header(xml: &str) -> Result<String, S3Error> {
    let doc = crate::xml::parse_with(xml.as_bytes(), || S3Error::MalformedXml)?;
    let tags = crate::tags::parse_xml(&doc)?;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    Ok(tags
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

/// The file part with the policy's `content-length-range` applied as it streams.
struct LengthChecked {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send + Sync>>,
    seen: u64,
    min: u64,
    max: u64,
    done: bool,
}

fn size_error(code: &str, message: &str) -> BodyError {
    BodyError::Other {
        code: code.to_string(),
        status: 400,
        message: message.to_string(),
    }
}

impl Stream for LengthChecked {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                if self.seen > self.max {
                    self.done = true;
                    return Poll::Ready(Some(Err(size_error(
                        "EntityTooLarge",
                        "Your proposed upload exceeds the maximum allowed size",
                    ))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) if self.seen < self.min => {
                self.done = true;
                Poll::Ready(Some(Err(size_error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                ))))
            }
            other => other,
        }
    }
}

/// `${filename}` in the `key` field is the file's name.
fn expand_key(key: &str, file_name: &str) -> String {
    key.replace("${filename}", file_name)
}

/// A missing required field: S3's `InvalidArgument` naming it.
fn missing_field(name: &'static str) -> Failure {
    Failure::from(S3Error::InvalidArgument(format!(
        "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
    )))
    .with("ArgumentName", name)
    .with("ArgumentValue", "")
}

impl S3Service {
    /// POST Object: checks the form against its policy, stores the file as PutObject would
    /// (same authorization, encryption, ACL and ownership rules) and answers as S3 answers a form.
    /// `req` is the authenticated request with the file part as its body; `signed` says whether
    /// the form carried a signature (its policy is then required).
    pub async fn post_object(
        &self,
        mut req: S3Request,
        form: PostForm,
        signed: bool,
    ) -> Response<S3Body> {
        // The access log record names the request as sent: a POST to the bucket (the
        // upload runs as a PUT of the form's key).
        let key = req.key.clone();
        let result = self.post_object_inner(&mut req, &form, signed).await;
        let resource = crate::response::resource_of(&req);
        let (resp, error_code) = crate::response::answer(&req, result, &resource, false);
        (req.method, req.key) = (http::Method::POST, key);
        self.record_access(&req, &resp, error_code.as_deref());
        resp
    }

    async fn post_object_inner(
        &self,
        req: &mut S3Request,
        form: &PostForm,
        signed: bool,
    ) -> S3Result<Response<S3Body>> {
        let bucket = req.bucket.clone().ok_or(S3Error::MethodNotAllowed)?;
        let key = expand_key(
            form.field("key").ok_or_else(|| missing_field("key"))?,
            &form.file_name,
        );
        let fields: Vec<(String, String)> = form
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), if k == "key" { key.clone() } else { v.clone() }))
            .collect();
        req.key = Some(key.clone());
        match (form.field("policy"), signed) {
            (Some(policy), true) => {
                let policy = parse_policy(policy)?;
                if let Err(refusal) =
                    policy.check(req.meta.received_at, &bucket, &fields, form.sigv2)
                {
                    return Err(self.policy_denied(req, &bucket, &key, &refusal).into());
                }
                if let Some((min, max)) = policy.length_range() {
                    let inner = std::mem::replace(
                        &mut req.body.stream,
                        Box::pin(futures_util::stream::empty()),
                    );
                    req.body.stream = Box::pin(LengthChecked {
                        inner,
                        seen: 0,
                        min,
                        max,
                        done: false,
                    });
                }
            }
            (None, true) => return Err(missing_field("policy")),
            (Some(_), false) => {
                let name = if form.field("x-amz-algorithm").is_some() {
                    "x-amz-signature"
                } else {
                    "AWSAccessKeyId"
                };
                return Err(Failure::from(S3Error::InvalidArgument(format!(
                    "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
                ))).with("ArgumentName", name).with("ArgumentValue", ""));
            }
            (None, false) => {}
        }
        req.headers = put_headers(&fields)?;
        let reply = self.put_object(req, &bucket, &key).await?;
        Ok(post_answer(reply.build(), form, &bucket, &key))
    }

    /// A form refused by its policy: recorded like any rule denial, so `strongbox explain` shows it.
    fn policy_denied(
        &self,
        req: &S3Request,
        bucket: &str,
        key: &str,
        refusal: &PolicyRefusal,
    ) -> S3Error {
        let message = refusal.message();
        let resource = format!("arn:aws:s3:::{bucket}/{key}");
        req.access.record_rule_denial(
            &req.caller,
            &req.meta,
            &RuleDenial {
                action: "s3:PutObject",
                resource: &resource,
                rule: "post_policy",
                message: &message,
                fix: &refusal.fix(),
            },
        );
        S3Error::AccessDenied(message)
    }
}

/// Characters kept as they are in the key part of `Location` (RFC 3986 unreserved and `/`).
const KEY_IN_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The URL of a redirect, if the field holds one S3 would follow (an absolute http(s) URL).
fn redirect_target(form: &PostForm) -> Option<&str> {
    form.field("success_action_redirect")
        .or_else(|| form.field("redirect"))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
}

/// Turns PutObject's 200 into the form's answer: 303 to `success_action_redirect`, or
/// `success_action_status` 200 / 201 (with `PostResponse`), else 204; `Location` names the object.
fn post_answer(
    mut resp: Response<S3Body>,
    form: &PostForm,
    bucket: &str,
    key: &str,
) -> Response<S3Body> {
    if resp.status() != StatusCode::OK {
        return resp;
    }
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let location = format!(
        "{}/{}",
        form.bucket_url,
        percent_encoding::utf8_percent_encode(key, KEY_IN_PATH)
    );
    let (status, target) = match (redirect_target(form), form.field("success_action_status")) {
        (Some(url), _) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let target = format!(
                "{url}{sep}bucket={}&key={}&etag={}",
                enc(bucket),
                enc(key),
                enc(&etag)
            );
            (StatusCode::SEE_OTHER, target)
        }
        (None, Some("200")) => (StatusCode::OK, location),
        (None, Some("201")) => {
            let mut x = XmlWriter::new("PostResponse");
            x.elem("Location", &location)
                .elem("Bucket", bucket)
                .elem("Key", key)
                .elem("ETag", &etag);
            let doc = x.finish("PostResponse");
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            if let Ok(v) = HeaderValue::from_str(&doc.len().to_string()) {
                resp.headers_mut().insert(http::header::CONTENT_LENGTH, v);
            }
            *resp.body_mut() = S3Body::full(doc);
            (StatusCode::CREATED, location)
        }
        _ => (StatusCode::NO_CONTENT, location),
    };
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&target) {
        resp.headers_mut().insert(http::header::LOCATION, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(json: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const NOW: &str = "2026-01-01T00:00:00Z";

    #[test]
    fn conditions_pass_and_fail() {
        let p = parse_policy(&encode(
            r#"{"expiration":"2027-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},
            ["starts-with","$key","user/"],{"acl":"private"},["starts-with","$Content-Type","image/"],
            ["content-length-range",1,10],["eq","$x-amz-meta-a","1"]]}"#,
        ))
        .unwrap();
        let now: Timestamp = NOW.parse().unwrap();
        let ok = fields(&[
            ("key", "user/x"),
            ("acl", "private"),
            ("content-type", "image/png, image/gif"),
            ("x-amz-meta-a", "1"),
            ("x-ignore-me", "z"),
            ("x-amz-signature", "s"),
        ]);
        assert_eq!(p.check(now, "b", &ok, false), Ok(()));
        assert_eq!(p.length_range(), Some((1, 10)));
        let mut bad = ok.clone();
        bad[2].1 = "image/png, text/plain".into();
        assert_eq!(
            p.check(now, "b", &bad, false),
            Err(PolicyRefusal::ConditionFailed(
                r#"["starts-with", "$content-type", "image/"]"#.into()
            ))
        );
        assert!(matches!(
            p.check(now, "other", &ok, false),
            Err(PolicyRefusal::ConditionFailed(_))
        ));
        let mut extra = ok.clone();
        extra.push(("x-amz-meta-b".into(), "2".into()));
        assert_eq!(
            p.check(now, "b", &extra, false),
            Err(PolicyRefusal::ExtraFields("x-amz-meta-b".into()))
        );
        let later: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(p.check(later, "b", &ok, false), Err(PolicyRefusal::Expired));
    }

    #[test]
    fn malformed_policies() {
        for doc in [
            "not base64!",
            &encode("[]"),
            &encode(r#"{"conditions":[]}"#),
            &encode(r#"{"expiration":"x","conditions":[]}"#),
            &encode(r#"{"expiration":"2027-01-01T00:00:00Z","conditions":[{"acl":1}]}"#),
            &encode(r#"{"expiration":"2027-01-01T00:00:00Z","conditions":[["in","$key","a"]]}"#),
            &encode(r#"{"expiration":"2027-01-01T00:00:00Z","conditions":[["eq","key","a"]]}"#),
            &encode(
                r#"{"expiration":"2027-01-01T00:00:00Z","conditions":[["content-length-range",-1,2]]}"#,
            ),
        ] {
            assert!(
                matches!(parse_policy(doc), Err(S3Error::InvalidPolicyDocument(_))),
                "{doc}"
            );
        }
    }

    #[test]
    fn fields_become_put_headers() {
        let h = put_headers(&fields(&[
            ("acl", "public-read"),
            ("content-type", "text/plain"),
            ("x-amz-meta-k", "v"),
            ("x-amz-copy-source", "b/k"),
            (
                "tagging",
                "<Tagging><TagSet><Tag><Key>a b</Key><Value>c</Value></Tag></TagSet></Tagging>",
            ),
        ]))
        .unwrap();
        assert_eq!(h.get("x-amz-acl").unwrap(), "public-read");
        assert_eq!(h.get("content-type").unwrap(), "text/plain");
        assert_eq!(h.get("x-amz-meta-k").unwrap(), "v");
        assert!(h.get("x-amz-copy-source").is_none());
        assert_eq!(h.get("x-amz-tagging").unwrap(), "a%20b=c");
        assert_eq!(expand_key("u/${filename}", "cat.jpg"), "u/cat.jpg");
    }
}
