//! Reading the authentication parameters out of a request, without the secret.
//!
//! SigV4: <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//! SigV2: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>.

use jiff::Timestamp;

use crate::error::AuthError;
use crate::query::Query;

/// The algorithm name of SigV4.
pub const V4_ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The longest `X-Amz-Expires` AWS accepts: one week.
pub const MAX_PRESIGNED_EXPIRES_SECS: i64 = 604_800;

/// The parts of an HTTP request that authentication looks at.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    /// `GET`, `PUT`, …
    pub method: &'a str,
    /// The path as received, still percent-encoded (e.g. `/bucket/a%20b`).
    pub raw_path: &'a str,
    /// The query string, decoded once ([`Query::parse`] of the text after `?`): the same
    /// parameters the router acts on.
    pub query: &'a Query,
    pub headers: &'a http::HeaderMap,
    /// The bucket named by the Host header in a virtual-hosted-style request (SigV2 needs it).
    pub virtual_host_bucket: Option<&'a str>,
    /// The whole body when the server has buffered it (IAM/STS/KMS/Organizations requests,
    /// which may omit `x-amz-content-sha256`); `None` for streamed S3 bodies.
    pub body: Option<&'a [u8]>,
}

impl<'a> RequestParts<'a> {
    /// The first value of header `name` as text (invalid UTF-8 values count as absent).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// SigV4 parameters from the Authorization header or the `X-Amz-*` query parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V4Auth {
    pub access_key_id: String,
    /// The credential scope date, `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lower-case header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Lower-case hex signature as sent.
    pub signature: String,
    /// Signed in the query string (presigned URL) rather than the Authorization header.
    pub presigned: bool,
    /// `X-Amz-Expires` in seconds (presigned only).
    pub expires: Option<i64>,
    /// `x-amz-security-token` / `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    /// The request timestamp text as signed (`20130524T000000Z`, or the `Date` header's text).
    pub amz_date: String,
    /// The request timestamp.
    pub request_time: Timestamp,
}

impl V4Auth {
    /// `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }

    /// The `YYYYMMDDTHHMMSSZ` form of the request time (what chunk signatures use).
    pub fn amz_timestamp(&self) -> String {
        format_amz_date(self.request_time)
    }
}

/// SigV2 parameters from `Authorization: AWS AKID:sig` or the `AWSAccessKeyId`/`Expires`/`Signature` query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Auth {
    pub access_key_id: String,
    /// Base64 signature as sent.
    pub signature: String,
    pub presigned: bool,
    /// `Expires` (seconds since the epoch), presigned only.
    pub expires: Option<i64>,
    pub session_token: Option<String>,
}

/// How a request is authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedAuth {
    Anonymous,
    V4(V4Auth),
    V2(V2Auth),
}

impl ParsedAuth {
    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            ParsedAuth::Anonymous => None,
            ParsedAuth::V4(a) => Some(&a.access_key_id),
            ParsedAuth::V2(a) => Some(&a.access_key_id),
        }
    }

    /// The service from the SigV4 credential scope (`s3`, `iam`, `sts`, `kms`, …); SigV2 is always `s3`.
    pub fn service(&self) -> Option<&str> {
        match self {
            ParsedAuth::Anonymous => None,
            ParsedAuth::V4(a) => Some(&a.service),
            ParsedAuth::V2(_) => Some("s3"),
        }
    }

    /// The region from the SigV4 credential scope.
    pub fn region(&self) -> Option<&str> {
        match self {
            ParsedAuth::V4(a) => Some(&a.region),
            _ => None,
        }
    }

    pub fn session_token(&self) -> Option<&str> {
        match self {
            ParsedAuth::Anonymous => None,
            ParsedAuth::V4(a) => a.session_token.as_deref(),
            ParsedAuth::V2(a) => a.session_token.as_deref(),
        }
    }

    /// `s3:signatureversion`: `AWS4-HMAC-SHA256` or `AWS`.
    pub fn signature_version(&self) -> Option<&'static str> {
        match self {
            ParsedAuth::Anonymous => None,
            ParsedAuth::V4(_) => Some(V4_ALGORITHM),
            ParsedAuth::V2(_) => Some("AWS"),
        }
    }

    /// `s3:authType`: `REST-HEADER` or `REST-QUERY-STRING`.
    pub fn auth_type(&self) -> Option<&'static str> {
        let presigned = match self {
            ParsedAuth::Anonymous => return None,
            ParsedAuth::V4(a) => a.presigned,
            ParsedAuth::V2(a) => a.presigned,
        };
        Some(if presigned {
            "REST-QUERY-STRING"
        } else {
            "REST-HEADER"
        })
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, ParsedAuth::Anonymous)
    }
}

/// Reads the authentication parameters; fails on malformed ones. Needs no secret.
pub fn parse(parts: &RequestParts) -> Result<ParsedAuth, AuthError> {
    let q = |name: &str| parts.query.get(name);
    let authorization = parts.headers.get(http::header::AUTHORIZATION);
    let v4_query = q("X-Amz-Algorithm").is_some() || q("X-Amz-Credential").is_some();
    let v2_query = q("Signature").is_some() || q("AWSAccessKeyId").is_some();
    let mechanisms =
        usize::from(authorization.is_some()) + usize::from(v4_query) + usize::from(v2_query);
    if mechanisms > 1 {
        return Err(AuthError::InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string \
             parameter or the Authorization header should be specified"
                .to_string(),
        ));
    }
    if let Some(value) = authorization {
        let value = value.to_str().map_err(|_| {
            AuthError::InvalidArgument("Unsupported Authorization Type".to_string())
        })?;
        return parse_authorization_header(value, parts);
    }
    if v4_query {
        return parse_v4_query(&q, parts).map(ParsedAuth::V4);
    }
    if v2_query {
        return parse_v2_query(&q, parts).map(ParsedAuth::V2);
    }
    Ok(ParsedAuth::Anonymous)
}

fn parse_authorization_header(value: &str, parts: &RequestParts) -> Result<ParsedAuth, AuthError> {
    let value = value.trim();
    if let Some(rest) = value.strip_prefix(V4_ALGORITHM) {
        if rest.starts_with([' ', '\t']) {
            return parse_v4_header(rest.trim(), parts).map(ParsedAuth::V4);
        }
    }
    if let Some(rest) = value.strip_prefix("AWS ") {
        let (akid, sig) = rest.trim().rsplit_once(':').ok_or_else(|| {
            AuthError::InvalidArgument(
                "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature".into(),
            )
        })?;
        if akid.is_empty() || sig.is_empty() {
            return Err(AuthError::InvalidArgument(
                "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature".into(),
            ));
        }
        return Ok(ParsedAuth::V2(V2Auth {
            access_key_id: akid.to_string(),
            signature: sig.to_string(),
            presigned: false,
            expires: None,
            session_token: parts.header("x-amz-security-token").map(str::to_string),
        }));
    }
    if value.starts_with("AWS4-ECDSA-P256-SHA256") {
        return Err(AuthError::NotImplemented(
            "Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported.".to_string(),
        ));
    }
    Err(AuthError::InvalidArgument(
        "Unsupported Authorization Type".to_string(),
    ))
}

/// The parts of `AKID/YYYYMMDD/region/service/aws4_request`.
struct Credential {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

const CREDENTIAL_SHAPE: &str = "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"";

fn parse_credential(
    value: &str,
    err: impl Fn(String) -> AuthError,
) -> Result<Credential, AuthError> {
    let mut it = value.rsplitn(5, '/');
    let (Some(terminal), Some(service), Some(region), Some(date), Some(akid)) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return Err(err(format!(
            "the Credential is mal-formed; expecting {CREDENTIAL_SHAPE}."
        )));
    };
    if akid.is_empty() || region.is_empty() || service.is_empty() {
        return Err(err(format!(
            "the Credential is mal-formed; expecting {CREDENTIAL_SHAPE}."
        )));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!(
            "the Credential is mal-formed; expecting {CREDENTIAL_SHAPE}."
        )));
    }
    if terminal != "aws4_request" {
        return Err(err(format!(
            "incorrect terminal \"{terminal}\". This endpoint uses \"aws4_request\"."
        )));
    }
    Ok(Credential {
        access_key_id: akid.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
    })
}

fn parse_signed_headers(value: &str) -> Vec<String> {
    value
        .split(';')
        .filter(|h| !h.is_empty())
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

fn parse_v4_header(params: &str, parts: &RequestParts) -> Result<V4Auth, AuthError> {
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for component in params.split(',') {
        let component = component.trim();
        if component.is_empty() {
            continue;
        }
        let Some((key, val)) = component.split_once('=') else {
            return Err(AuthError::header_malformed(format!(
                "the authorization component \"{component}\" is malformed."
            )));
        };
        match key.trim() {
            "Credential" => credential = Some(val.trim()),
            "SignedHeaders" => signed_headers = Some(val.trim()),
            "Signature" => signature = Some(val.trim()),
            _ => {
                return Err(AuthError::header_malformed(format!(
                    "the authorization component \"{component}\" is malformed."
                )))
            }
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthError::header_malformed(
            "the authorization header requires three components: Credential, SignedHeaders, and Signature.",
        ));
    };
    let cred = parse_credential(credential, AuthError::header_malformed)?;
    let (amz_date, request_time) = match parts.header("x-amz-date") {
        Some(d) => (d.to_string(), parse_amz_date(d).ok_or_else(invalid_date)?),
        None => match parts.header("date") {
            Some(d) => (d.to_string(), parse_http_date(d).ok_or_else(invalid_date)?),
            None => return Err(invalid_date()),
        },
    };
    let scope_day = format_amz_date(request_time);
    if scope_day.get(..8) != Some(cred.date.as_str()) {
        return Err(AuthError::header_malformed(format!(
            "Invalid credential date \"{}\". This date is not the same as X-Amz-Date: \"{}\".",
            cred.date,
            scope_day.get(..8).unwrap_or_default()
        )));
    }
    Ok(V4Auth {
        access_key_id: cred.access_key_id,
        date: cred.date,
        region: cred.region,
        service: cred.service,
        signed_headers: parse_signed_headers(signed_headers),
        signature: signature.to_ascii_lowercase(),
        presigned: false,
        expires: None,
        session_token: parts.header("x-amz-security-token").map(str::to_string),
        amz_date,
        request_time,
    })
}

fn invalid_date() -> AuthError {
    AuthError::AccessDenied(
        "AWS authentication requires a valid Date or x-amz-date header".to_string(),
    )
}

fn parse_v4_query<'q>(
    q: &impl Fn(&str) -> Option<&'q str>,
    parts: &RequestParts,
) -> Result<V4Auth, AuthError> {
    let (Some(algorithm), Some(credential), Some(signature), Some(date), Some(signed_headers)) = (
        q("X-Amz-Algorithm"),
        q("X-Amz-Credential"),
        q("X-Amz-Signature"),
        q("X-Amz-Date"),
        q("X-Amz-SignedHeaders"),
    ) else {
        return Err(missing_v4_query_params());
    };
    if algorithm != V4_ALGORITHM {
        return Err(AuthError::query_error(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let cred = parse_credential(credential, |m| {
        AuthError::query_error(format!("Error parsing the X-Amz-Credential parameter; {m}"))
    })?;
    let expires = match q("X-Amz-Expires") {
        Some(e) => {
            let secs: i64 = e
                .parse()
                .map_err(|_| AuthError::query_error("X-Amz-Expires should be a number"))?;
            if secs < 0 {
                return Err(AuthError::query_error("X-Amz-Expires must be non-negative"));
            }
            if secs > MAX_PRESIGNED_EXPIRES_SECS {
                return Err(AuthError::query_error(
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800",
                ));
            }
            Some(secs)
        }
        // S3 requires it; other services default to their own validity window.
        None if cred.service == "s3" => return Err(missing_v4_query_params()),
        None => None,
    };
    let request_time = parse_amz_date(date).ok_or_else(|| {
        AuthError::query_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        )
    })?;
    if date.get(..8) != Some(cred.date.as_str()) {
        return Err(AuthError::query_error(format!(
            "Invalid credential date \"{}\". This date is not the same as X-Amz-Date: \"{}\".",
            cred.date,
            date.get(..8).unwrap_or_default()
        )));
    }
    Ok(V4Auth {
        access_key_id: cred.access_key_id,
        date: cred.date,
        region: cred.region,
        service: cred.service,
        signed_headers: parse_signed_headers(signed_headers),
        signature: signature.to_ascii_lowercase(),
        presigned: true,
        expires,
        session_token: q("X-Amz-Security-Token")
            .map(str::to_string)
            .or_else(|| parts.header("x-amz-security-token").map(str::to_string)),
        amz_date: date.to_string(),
        request_time,
    })
}

fn missing_v4_query_params() -> AuthError {
    AuthError::query_error(
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, \
         X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    )
}

fn parse_v2_query<'q>(
    q: &impl Fn(&str) -> Option<&'q str>,
    parts: &RequestParts,
) -> Result<V2Auth, AuthError> {
    let (Some(akid), Some(expires), Some(signature)) =
        (q("AWSAccessKeyId"), q("Expires"), q("Signature"))
    else {
        return Err(AuthError::AccessDenied(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters".to_string(),
        ));
    };
    let expires: i64 = expires.parse().map_err(|_| {
        AuthError::AccessDenied(format!(
            "Invalid date (should be seconds since epoch): {expires}"
        ))
    })?;
    Ok(V2Auth {
        access_key_id: akid.to_string(),
        signature: signature.to_string(),
        presigned: true,
        expires: Some(expires),
        session_token: q("x-amz-security-token")
            .or_else(|| q("X-Amz-Security-Token"))
            .map(str::to_string)
            .or_else(|| parts.header("x-amz-security-token").map(str::to_string)),
    })
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let dt = jiff::civil::DateTime::new(
        i16::try_from(digits(0..4)?).ok()?,
        i8::try_from(digits(4..6)?).ok()?,
        i8::try_from(digits(6..8)?).ok()?,
        i8::try_from(digits(9..11)?).ok()?,
        i8::try_from(digits(11..13)?).ok()?,
        i8::try_from(digits(13..15)?).ok()?,
        0,
    )
    .ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Formats `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Parses an HTTP date (`Tue, 27 Mar 2007 19:36:42 +0000` or `… GMT`). The day of the
/// week is not checked against the date: S3 accepts a date whose weekday is wrong and
/// refuses only a clock skew (`RequestTimeTooSkewed`), so the weekday is read and dropped.
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let without_weekday = match s.split_once(',') {
        Some((weekday, rest))
            if weekday.len() <= 9 && weekday.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            rest.trim_start()
        }
        _ => s,
    };
    jiff::fmt::rfc2822::parse(without_weekday)
        .ok()
        .map(|z| z.timestamp())
}

/// Formats an HTTP date as S3 prints it (`Fri, 24 May 2013 00:00:00 GMT`).
pub fn format_http_date(t: Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn parts<'a>(h: &'a http::HeaderMap, query: &'a Query) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            raw_path: "/",
            query,
            headers: h,
            virtual_host_bucket: None,
            body: None,
        }
    }

    #[test]
    fn dates() {
        let t = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(format_amz_date(t), "20130524T000000Z");
        assert_eq!(format_http_date(t), "Fri, 24 May 2013 00:00:00 GMT");
        assert_eq!(parse_http_date("Fri, 24 May 2013 00:00:00 GMT"), Some(t));
        // A wrong weekday is not an invalid date (issue 19 bug 9).
        assert_eq!(parse_http_date("Mon, 24 May 2013 00:00:00 GMT"), Some(t));
        assert_eq!(
            parse_http_date("Monday, 24 May 2013 00:00:00 +0000"),
            Some(t)
        );
        assert_eq!(parse_http_date("24 May 2013 00:00:00 GMT"), Some(t));
        assert!(parse_http_date("Fri, 32 May 2013 00:00:00 GMT").is_none());
        assert!(parse_http_date("F1i, 24 May 2013 00:00:00 GMT").is_none());
        assert!(parse_amz_date("20131324T000000Z").is_none());
        assert!(parse_amz_date("2013052T000000Z").is_none());
        assert!(parse_amz_date("2013+524T000000Z").is_none());
    }

    #[test]
    fn v4_header() {
        let h = headers(&[
            ("x-amz-date", "20130524T000000Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-date, Signature=FE5f80",
            ),
        ]);
        let ParsedAuth::V4(a) = parse(&parts(&h, &Query::parse(""))).unwrap() else {
            panic!()
        };
        assert_eq!(a.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(a.scope(), "20130524/us-east-1/s3/aws4_request");
        assert_eq!(a.signed_headers, vec!["host", "range", "x-amz-date"]);
        assert_eq!(a.signature, "fe5f80");
        assert!(!a.presigned);
    }

    #[test]
    fn v4_header_errors() {
        let cases = [
            ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, Signature=x", "three components"),
            ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, SignedHeaders=host, Signature=x", "mal-formed"),
            ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws5, SignedHeaders=host, Signature=x", "terminal"),
            ("AWS4-HMAC-SHA256 Credential=AKID/20130525/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x", "credential date"),
            ("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Foo, Signature=x", "\"Foo\""),
        ];
        for (value, needle) in cases {
            let h = headers(&[("x-amz-date", "20130524T000000Z"), ("authorization", value)]);
            let err = parse(&parts(&h, &Query::parse(""))).unwrap_err();
            assert!(
                matches!(err, AuthError::AuthorizationHeaderMalformed { .. }),
                "{value}: {err:?}"
            );
            assert!(err.to_string().contains(needle), "{value}: {err}");
        }
        let h = headers(&[("authorization", "Bearer abc")]);
        assert_eq!(
            parse(&parts(&h, &Query::parse("")))
                .unwrap_err()
                .to_string(),
            "Unsupported Authorization Type"
        );
        let h = headers(&[("authorization", "AWS4-HMAC-SHA256 Credential=A/20130524/r/s/aws4_request, SignedHeaders=host, Signature=x")]);
        assert!(matches!(
            parse(&parts(&h, &Query::parse(""))).unwrap_err(),
            AuthError::AccessDenied(_)
        ));
    }

    #[test]
    fn v4_query() {
        let h = headers(&[]);
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeee";
        let ParsedAuth::V4(a) = parse(&parts(&h, &Query::parse(q))).unwrap() else {
            panic!()
        };
        assert!(a.presigned);
        assert_eq!(a.expires, Some(86400));
        assert_eq!(a.region, "us-east-1");
        let too_long = q.replace("86400", "604801");
        assert!(parse(&parts(&h, &Query::parse(&too_long)))
            .unwrap_err()
            .to_string()
            .contains("less than a week"));
        let negative = q.replace("86400", "-1");
        assert!(parse(&parts(&h, &Query::parse(&negative)))
            .unwrap_err()
            .to_string()
            .contains("non-negative"));
        let missing = q.replace("&X-Amz-Expires=86400", "");
        assert!(matches!(
            parse(&parts(&h, &Query::parse(&missing))),
            Err(AuthError::AuthorizationQueryParametersError { .. })
        ));
        let both = headers(&[("authorization", "AWS a:b")]);
        assert!(matches!(
            parse(&parts(&both, &Query::parse(q))),
            Err(AuthError::InvalidArgument(_))
        ));
    }

    #[test]
    fn v2() {
        let h = headers(&[(
            "authorization",
            "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
        )]);
        let auth = parse(&parts(&h, &Query::parse(""))).unwrap();
        assert_eq!(auth.access_key_id(), Some("AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(auth.signature_version(), Some("AWS"));
        assert_eq!(auth.auth_type(), Some("REST-HEADER"));
        let h = headers(&[]);
        let auth = parse(&parts(
            &h,
            &Query::parse("AWSAccessKeyId=AK&Expires=1175139620&Signature=Npg%2B%3D"),
        ))
        .unwrap();
        let ParsedAuth::V2(a) = &auth else { panic!() };
        assert_eq!(a.signature, "Npg+=");
        assert_eq!(auth.auth_type(), Some("REST-QUERY-STRING"));
        assert!(parse(&parts(&h, &Query::parse("AWSAccessKeyId=AK&Signature=x"))).is_err());
        assert_eq!(
            parse(&parts(&h, &Query::parse("prefix=a"))).unwrap(),
            ParsedAuth::Anonymous
        );
    }
}
