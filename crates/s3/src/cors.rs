//! Cross-origin resource sharing (CORS): the bucket's `cors` configuration
//! (Put/Get/DeleteBucketCors), preflight `OPTIONS` requests answered without
//! credentials, and the CORS headers of actual responses.
//!
//! As AWS documents it:
//! - API Reference, PutBucketCors
//!   (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html):
//!   the document is at most 64 KB; the first `CORSRule` whose `AllowedOrigin`,
//!   `AllowedMethod` (or `Access-Control-Request-Method`) and, for a preflight,
//!   every header of `Access-Control-Request-Headers` (against `AllowedHeader`)
//!   match is used; `Content-MD5` is required.
//! - User Guide, "Elements of a CORS configuration"
//!   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html):
//!   at most 100 rules; methods GET, PUT, POST, DELETE, HEAD; an origin and an
//!   allowed header may hold one `*` wildcard.
//! - User Guide, "Troubleshooting CORS"
//!   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html):
//!   403 "CORS Response: CORS is not enabled for this bucket." and 403 "CORS
//!   Response: This CORS request is not allowed." (S3 sends these as
//!   `AccessForbidden` with the messages below, and `Method`/`ResourceType`).

use http::{HeaderMap, HeaderName, HeaderValue, Method, Response};
use serde::{Deserialize, Serialize};
use strongbox_store::BucketField;

use crate::authorization::{authorize, Op};
use crate::body::S3Body;
use crate::error::{Failure, S3Error, S3Result};
use crate::response::{self, Reply};
use crate::xml::{Element, XmlWriter};
use crate::{S3Request, S3Service};

/// The CORS document is limited to 64 KB (PutBucketCors).
pub const MAX_CORS_BYTES: usize = 64 * 1024;
/// At most 100 rules (User Guide, "Elements of a CORS configuration").
pub const MAX_RULES: usize = 100;
/// A rule's `ID` is at most 255 characters.
const MAX_ID_CHARS: usize = 255;
/// The methods a rule may allow.
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];
/// Preflight inputs longer than these match no rule (403).
const MAX_ORIGIN_BYTES: usize = 2048;
const MAX_REQUEST_HEADERS_BYTES: usize = 8192;
const MAX_REQUEST_HEADERS: usize = 100;

/// What S3 answers when no rule matches (its wording, "evalution" included).
pub const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
/// What S3 answers for a bucket without a CORS configuration.
pub const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";
/// What S3 answers for a preflight to a bucket that does not exist.
const NO_BUCKET: &str = "CORSResponse: Bucket not found";
/// `Vary` of every CORS response: the answer depends on these request headers.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// One `CORSRule`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u32>,
}

/// A bucket's CORS configuration: its rules in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsConfig {
    pub rules: Vec<CorsRule>,
}

/// `*` matches any run of characters; a pattern has at most one.
fn wildcard_match(pattern: &str, value: &str, ignore_case: bool) -> bool {
    let eq = |a: &str, b: &str| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    match pattern.split_once('*') {
        None => eq(pattern, value),
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len()
                && value.is_char_boundary(prefix.len())
                && value.is_char_boundary(value.len() - suffix.len())
                && eq(&value[..prefix.len()], prefix)
                && eq(&value[value.len() - suffix.len()..], suffix)
        }
    }
}

fn invalid(message: String) -> S3Error {
    S3Error::InvalidRequest(message)
}

impl CorsRule {
    fn parse(el: &Element) -> Result<CorsRule, S3Error> {
        let mut rule = CorsRule::default();
        for child in &el.children {
            let text = child.text.trim();
            if !child.children.is_empty() {
                return Err(S3Error::MalformedXml);
            }
            match child.name.as_str() {
                "ID" if rule.id.is_none() => {
                    if text.chars().count() > MAX_ID_CHARS {
                        return Err(S3Error::InvalidArgument(
                            "The ID length should not exceed allowed limit of 255".into(),
                        ));
                    }
                    rule.id = Some(text.to_string());
                }
                "AllowedOrigin" => rule.allowed_origins.push(text.to_string()),
                "AllowedMethod" => rule.allowed_methods.push(text.to_string()),
                "AllowedHeader" => rule.allowed_headers.push(text.to_string()),
                "ExposeHeader" => rule.expose_headers.push(text.to_string()),
                "MaxAgeSeconds" if rule.max_age_seconds.is_none() => {
                    rule.max_age_seconds = Some(text.parse().map_err(|_| S3Error::MalformedXml)?);
                }
                _ => return Err(S3Error::MalformedXml),
            }
        }
        rule.validate()?;
        Ok(rule)
    }

    /// AWS's checks of one rule, in its order: required elements, methods, wildcards.
    fn validate(&self) -> Result<(), S3Error> {
        if self.allowed_origins.is_empty() || self.allowed_methods.is_empty() {
            return Err(S3Error::MalformedXml);
        }
        if let Some(m) = self
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
        for (element, values) in [
            ("AllowedOrigin", &self.allowed_origins),
            ("AllowedHeader", &self.allowed_headers),
        ] {
            if let Some(v) = values.iter().find(|v| v.matches('*').count() > 1) {
                return Err(invalid(format!(
                    "{element} \"{v}\" can not have more than one wildcard."
                )));
            }
        }
        if let Some(h) = self.expose_headers.iter().find(|h| h.contains('*')) {
            return Err(invalid(format!(
                "ExposeHeader \"{h}\" contains wildcard. We currently do not support wildcard for ExposeHeader."
            )));
        }
        Ok(())
    }

    /// The first allowed origin matching `origin`.
    fn origin_match(&self, origin: &str) -> Option<&str> {
        self.allowed_origins
            .iter()
            .find(|o| wildcard_match(o, origin, false))
            .map(String::as_str)
    }

    fn allows_header(&self, header: &str) -> bool {
        self.allowed_headers
            .iter()
            .any(|h| wildcard_match(h, header, true))
    }
}

impl CorsConfig {
    /// Parses and validates a `CORSConfiguration` document.
    pub fn parse(doc: &Element) -> Result<CorsConfig, S3Error> {
        if doc.name != "CORSConfiguration" {
            return Err(S3Error::MalformedXml);
        }
        let mut rules = Vec::new();
        for child in &doc.children {
            if child.name != "CORSRule" || rules.len() == MAX_RULES {
                return Err(S3Error::MalformedXml);
            }
            rules.push(CorsRule::parse(child)?);
        }
        if rules.is_empty() {
            return Err(S3Error::MalformedXml);
        }
        Ok(CorsConfig { rules })
    }

    /// The stored form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<CorsConfig> {
        serde_json::from_str(s).ok()
    }

    /// The GetBucketCors document.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new("CORSConfiguration");
        for rule in &self.rules {
            w.open("CORSRule");
            w.opt("ID", rule.id.as_deref());
            for h in &rule.allowed_headers {
                w.elem("AllowedHeader", h);
            }
            for m in &rule.allowed_methods {
                w.elem("AllowedMethod", m);
            }
            for o in &rule.allowed_origins {
                w.elem("AllowedOrigin", o);
            }
            for h in &rule.expose_headers {
                w.elem("ExposeHeader", h);
            }
            if let Some(age) = rule.max_age_seconds {
                w.elem("MaxAgeSeconds", &age.to_string());
            }
            w.close("CORSRule");
        }
        w.finish("CORSConfiguration")
    }

    /// The first rule allowing `origin`, `method` and every one of `headers`
    /// (lower-case), with the allowed origin that matched.
    pub fn find(&self, origin: &str, method: &str, headers: &[String]) -> Option<Matched<'_>> {
        self.rules.iter().find_map(|rule| {
            let allowed_origin = rule.origin_match(origin)?;
            let ok = rule.allowed_methods.iter().any(|m| m == method)
                && headers.iter().all(|h| rule.allows_header(h));
            ok.then_some(Matched {
                rule,
                any_origin: allowed_origin == "*",
            })
        })
    }
}

/// A rule that allowed a request.
pub struct Matched<'a> {
    pub rule: &'a CorsRule,
    /// The rule's origin that matched is exactly `*`.
    pub any_origin: bool,
}

impl Matched<'_> {
    /// The `Access-Control-*` headers for a request from `origin`; a preflight
    /// also echoes the headers it asked for.
    pub fn headers(
        &self,
        origin: &str,
        requested: Option<&[String]>,
    ) -> Vec<(&'static str, String)> {
        let rule = self.rule;
        let mut out = Vec::new();
        if self.any_origin {
            out.push(("access-control-allow-origin", "*".to_string()));
        } else {
            out.push(("access-control-allow-origin", origin.to_string()));
            out.push(("access-control-allow-credentials", "true".to_string()));
        }
        out.push((
            "access-control-allow-methods",
            rule.allowed_methods.join(", "),
        ));
        if let Some(requested) = requested.filter(|r| !r.is_empty()) {
            out.push(("access-control-allow-headers", requested.join(", ")));
        }
        if !rule.expose_headers.is_empty() {
            out.push((
                "access-control-expose-headers",
                rule.expose_headers.join(", "),
            ));
        }
        if let Some(age) = rule.max_age_seconds {
            out.push(("access-control-max-age", age.to_string()));
        }
        out
    }
}

/// The names of `Access-Control-Request-Headers`, lower-case; `None` when
/// there are more than a preflight may ask for.
fn requested_headers(headers: &HeaderMap) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut total = 0;
    for value in headers.get_all("access-control-request-headers") {
        total += value.len();
        let text = value.to_str().ok()?;
        out.extend(
            text.split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
        );
    }
    (total <= MAX_REQUEST_HEADERS_BYTES && out.len() <= MAX_REQUEST_HEADERS).then_some(out)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl S3Service {
    /// GetBucketCors.
    pub(crate) fn get_bucket_cors(&self, req: &S3Request, name: &str) -> S3Result<Reply> {
        let row = self.load_bucket_row(req, name)?;
        let stored = row.cors.clone();
        let bucket = self.bucket_info(req, row)?;
        authorize(req, Op::GetBucketCors, Some(&bucket), None, None)?;
        let config = stored
            .as_deref()
            .and_then(CorsConfig::from_json)
            .ok_or_else(|| {
                Failure::from(S3Error::NoSuchCorsConfiguration).with("BucketName", name)
            })?;
        Ok(Reply::ok().xml(config.to_xml()))
    }

    /// PutBucketCors: replaces the configuration.
    pub(crate) async fn put_bucket_cors(&self, req: &mut S3Request, name: &str) -> S3Result<Reply> {
        self.authorized_bucket(req, name, Op::PutBucketCors)?;
        let body =
            crate::ops::read_checked_body(req, MAX_CORS_BYTES, S3Error::MaxMessageLengthExceeded)
                .await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(S3Error::MissingRequestBody.into());
        }
        let config = CorsConfig::parse(&crate::xml::parse(&body)?)?;
        self.store
            .meta
            .set_bucket_field(name, BucketField::Cors, Some(&config.to_json()))?;
        Ok(Reply::ok())
    }

    /// Answers a CORS preflight (`OPTIONS`), which carries no credentials: the
    /// bucket's configuration alone decides.
    pub fn preflight(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        headers: &HeaderMap,
        request_id: &str,
    ) -> Response<S3Body> {
        let resource = match (bucket, key) {
            (Some(b), Some(k)) if !k.is_empty() => format!("/{b}/{k}"),
            (Some(b), _) => format!("/{b}"),
            _ => "/".to_string(),
        };
        let resp = match self.preflight_reply(bucket, key, headers) {
            Ok(reply) => reply.build(),
            Err(f) => response::error(&f, &resource, request_id, false),
        };
        response::finish(resp, request_id)
    }

    fn preflight_reply(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        headers: &HeaderMap,
    ) -> S3Result<Reply> {
        let origin = header_text(headers, "origin").filter(|o| !o.is_empty());
        let Some(origin) = origin else {
            return Err(S3Error::BadRequest(
                "Insufficient information. Origin request header needed.".into(),
            )
            .into());
        };
        let method = header_text(headers, "access-control-request-method").unwrap_or("");
        if !METHODS.contains(&method) {
            let shown = if method.is_empty() { "null" } else { method };
            return Err(S3Error::BadRequest(format!(
                "Invalid Access-Control-Request-Method: {shown}"
            ))
            .into());
        }
        let resource_type = match key {
            Some(k) if !k.is_empty() => "OBJECT",
            _ => "BUCKET",
        };
        let forbidden = |message: &str| {
            Failure::from(S3Error::CorsForbidden(message.to_string()))
                .with("Method", method)
                .with("ResourceType", resource_type)
        };
        let stored = match bucket {
            Some(name) => self.store.meta.get_bucket(name)?,
            None => None,
        };
        let Some(stored) = stored else {
            return Err(forbidden(NO_BUCKET));
        };
        let Some(config) = stored.cors.as_deref().and_then(CorsConfig::from_json) else {
            return Err(forbidden(NOT_ENABLED));
        };
        let requested = requested_headers(headers).filter(|_| origin.len() <= MAX_ORIGIN_BYTES);
        let Some(requested) = requested else {
            return Err(forbidden(NOT_ALLOWED));
        };
        let matched = config
            .find(origin, method, &requested)
            .ok_or_else(|| forbidden(NOT_ALLOWED))?;
        let mut reply = Reply::ok();
        for (name, value) in matched.headers(origin, Some(&requested)) {
            reply = reply.header(name, &value);
        }
        Ok(reply.header("vary", VARY).header("content-length", "0"))
    }

    /// The CORS headers of an actual (non-preflight) response to a request
    /// from `origin` on `bucket`: those of the first rule allowing the origin and
    /// the method, and `Vary` whenever the bucket has a configuration (the answer
    /// depends on the Origin). Errors included, as S3 does; nothing on a bucket
    /// without CORS, or one that does not exist.
    pub fn cors_response_headers(
        &self,
        bucket: &str,
        origin: &str,
        method: &Method,
    ) -> Vec<(HeaderName, HeaderValue)> {
        if origin.is_empty() || origin.len() > MAX_ORIGIN_BYTES {
            return Vec::new();
        }
        let stored = match self.store.meta.get_bucket(bucket) {
            Ok(Some(b)) => b.cors,
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(error = %err, "reading the CORS configuration");
                None
            }
        };
        let Some(config) = stored.as_deref().and_then(CorsConfig::from_json) else {
            return Vec::new();
        };
        let mut out: Vec<(&'static str, String)> = config
            .find(origin, method.as_str(), &[])
            .map(|m| m.headers(origin, None))
            .unwrap_or_default();
        out.push(("vary", VARY.to_string()));
        out.into_iter()
            .filter_map(|(n, v)| {
                Some((HeaderName::from_static(n), HeaderValue::from_str(&v).ok()?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(xml: &str) -> Result<CorsConfig, S3Error> {
        CorsConfig::parse(&crate::xml::parse(xml.as_bytes())?)
    }

    const DOC: &str = r#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
        <CORSRule><ID>app</ID><AllowedOrigin>http://*.example.com</AllowedOrigin>
          <AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
          <AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>
          <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>
        <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
        </CORSConfiguration>"#;

    #[test]
    fn round_trip_through_json_and_xml() {
        let c = config(DOC).unwrap();
        assert_eq!(c.rules.len(), 2);
        assert_eq!(CorsConfig::from_json(&c.to_json()), Some(c.clone()));
        assert_eq!(config(&c.to_xml()).unwrap(), c);
        assert!(c.to_xml().contains("<ID>app</ID>"));
    }

    #[test]
    fn first_matching_rule_wins() {
        let c = config(DOC).unwrap();
        let headers = vec!["x-amz-meta-a".to_string(), "content-type".to_string()];
        let m = c.find("http://app.example.com", "PUT", &headers).unwrap();
        assert_eq!(m.rule.id.as_deref(), Some("app"));
        assert!(!m.any_origin);
        let h = m.headers("http://app.example.com", Some(&headers));
        assert!(h.contains(&("access-control-allow-methods", "PUT, GET".into())));
        assert!(h.contains(&(
            "access-control-allow-headers",
            "x-amz-meta-a, content-type".into()
        )));
        assert!(h.contains(&("access-control-max-age", "3000".into())));
        // An unlisted header fails the first rule; the second allows no PUT.
        assert!(c
            .find("http://app.example.com", "PUT", &["authorization".into()])
            .is_none());
        // Any origin may GET through the second rule, answered with `*`.
        let any = c.find("http://other.test", "GET", &[]).unwrap();
        assert!(any.any_origin);
        assert_eq!(any.headers("http://other.test", None)[0].1, "*");
        assert!(c.find("http://other.test", "DELETE", &[]).is_none());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match(
            "http://*.example.com",
            "http://a.b.example.com",
            false
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "http://example.com",
            false
        ));
        assert!(!wildcard_match(
            "http://*.example.com",
            "HTTP://A.EXAMPLE.COM",
            false
        ));
        assert!(wildcard_match("x-amz-*", "X-Amz-Date", true));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("ab*ba", "aba", false));
    }

    #[test]
    fn refusals() {
        let rule = |inner: &str| {
            config(&format!(
                "<CORSConfiguration><CORSRule>{inner}</CORSRule></CORSConfiguration>"
            ))
        };
        let msg = |r: Result<CorsConfig, S3Error>| r.unwrap_err().to_string();
        assert_eq!(
            msg(rule(
                "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"
            )),
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
        );
        assert!(msg(rule(
            "<AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
        ))
        .contains("can not have more than one wildcard"));
        assert!(msg(rule(
            "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-*</ExposeHeader>"
        ))
        .contains("do not support wildcard for ExposeHeader"));
        for malformed in [
            rule("<AllowedMethod>GET</AllowedMethod>"),
            rule("<AllowedOrigin>*</AllowedOrigin>"),
            rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus/>"),
            rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds>"),
            config("<CORSConfiguration/>"),
            config("<Other><CORSRule/></Other>"),
        ] {
            assert!(matches!(malformed, Err(S3Error::MalformedXml)), "{malformed:?}");
        }
        let many = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>";
        let at_limit = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            many.repeat(100)
        );
        assert!(config(&at_limit).is_ok());
        let over = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            many.repeat(101)
        );
        assert!(matches!(config(&over), Err(S3Error::MalformedXml)));
    }

    #[test]
    fn requested_headers_are_bounded() {
        let mut h = HeaderMap::new();
        h.insert(
            "access-control-request-headers",
            "Content-Type, X-Amz-Date,,".parse().unwrap(),
        );
        assert_eq!(
            requested_headers(&h).unwrap(),
            ["content-type", "x-amz-date"]
        );
        let many = vec!["a"; MAX_REQUEST_HEADERS + 1].join(",");
        h.insert("access-control-request-headers", many.parse().unwrap());
        assert!(requested_headers(&h).is_none());
    }
}
