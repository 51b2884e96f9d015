//! Checking a parsed signature against the secret key.

use jiff::{SignedDuration, Timestamp};

use crate::crypto::{cached_signing_key, constant_time_eq, sha256_hex, EMPTY_SHA256};
use crate::encoding::{normalized_canonical_uri, s3_reencoded_uri};
use crate::error::{AuthError, SignatureMismatch};
use crate::parse::{format_amz_date, ParsedAuth, RequestParts, V4Auth};
use crate::payload::PayloadMode;
use crate::query::Query;
use crate::{v2, v4};

/// How the canonical URI is formed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathRules {
    /// S3: the path as sent, not normalized and not encoded again (a strictly re-encoded
    /// form is also accepted, for clients that encode fewer characters on the wire).
    S3,
    /// Every other service: `.`/`..`/`//` resolved and the path URI-encoded again.
    Normalized,
    /// [`PathRules::S3`] when the credential scope's service is `s3`, else [`PathRules::Normalized`].
    #[default]
    ByService,
}

/// What the server expects of a signature.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Regions accepted in the credential scope; empty accepts any. The first is named in
    /// the wrong-region error.
    pub regions: Vec<String>,
    pub path_rules: PathRules,
    /// The largest accepted clock difference (AWS: 15 minutes).
    pub max_skew: SignedDuration,
    /// Accept S3 requests carrying `x-amz-*` headers outside `SignedHeaders` (AWS refuses
    /// them with `AccessDenied`; `x-amz-content-sha256` is always tolerated).
    pub allow_unsigned_amz_headers: bool,
    /// Accept SigV2 (header and presigned URLs); `serve --sigv2 off` refuses it.
    pub sigv2: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            regions: Vec::new(),
            path_rules: PathRules::ByService,
            max_skew: SignedDuration::from_mins(15),
            allow_unsigned_amz_headers: false,
            sigv2: true,
        }
    }
}

impl VerifyOptions {
    /// Accept only `region`.
    pub fn for_region(region: &str) -> VerifyOptions {
        VerifyOptions {
            regions: vec![region.to_string()],
            ..VerifyOptions::default()
        }
    }
}

/// What the chunk decoder needs to check aws-chunked signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkSigningContext {
    /// Shown in `SignatureDoesNotMatch` errors.
    pub access_key_id: String,
    pub signing_key: [u8; 32],
    /// `YYYYMMDDTHHMMSSZ` of the request.
    pub timestamp: String,
    /// `date/region/service/aws4_request`.
    pub scope: String,
    /// The request's own signature, which the first chunk signature chains from.
    pub seed_signature: String,
}

/// A successfully authenticated request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub payload: PayloadMode,
    /// Present for [`PayloadMode::StreamingSigned`] and [`PayloadMode::StreamingSignedTrailer`].
    pub signing: Option<ChunkSigningContext>,
    /// `s3:signatureAge`: now minus the signing time, in milliseconds.
    pub signature_age_ms: i64,
    /// `s3:signatureversion`: `AWS4-HMAC-SHA256` or `AWS`.
    pub signature_version: &'static str,
    /// `s3:authType`: `REST-HEADER` or `REST-QUERY-STRING`.
    pub auth_type: &'static str,
    /// `x-amz-decoded-content-length`, for aws-chunked bodies.
    pub decoded_content_length: Option<u64>,
}

/// Verifies the signature of `auth` (from [`crate::parse`]) with the caller's `secret`.
/// Anonymous requests are not verified: this returns `AccessDenied` for them.
pub fn verify(
    auth: &ParsedAuth,
    parts: &RequestParts,
    secret: &str,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Result<Verified, AuthError> {
    check_version_enabled(auth, opts)?;
    match auth {
        ParsedAuth::Anonymous => Err(AuthError::AccessDenied("Access Denied".to_string())),
        ParsedAuth::V4(a) => verify_v4(a, parts, secret, now, opts),
        ParsedAuth::V2(a) => v2::verify_v2(a, parts, secret, now, opts),
    }
}

/// The checks that need no secret, made before the access key is looked up:
/// - SigV2 when it is turned off (`serve --sigv2 off`; [`verify`] refuses it too);
/// - a SigV4 query that names a parameter more than once. The canonical query sorts a
///   repeated name's values, so the signature does not cover their order, while a router
///   that reads the first value depends on it: reordering them would change the request
///   without breaking the signature. (Left out of [`verify`] itself, which follows the
///   SigV4 canonicalization exactly, repeated names included.)
pub fn check_before_lookup(
    auth: &ParsedAuth,
    query: &Query,
    opts: &VerifyOptions,
) -> Result<(), AuthError> {
    check_version_enabled(auth, opts)?;
    match (auth, query.repeated_name()) {
        (ParsedAuth::V4(_), Some(name)) => Err(AuthError::InvalidArgument(format!(
            "The query parameter {name} is given more than once."
        ))),
        _ => Ok(()),
    }
}

/// SigV2 when `opts.sigv2` is off: `InvalidRequest`, as S3 answers where SigV2 is not
/// supported (<https://docs.aws.amazon.com/AmazonS3/latest/API/Appendix-Sigv2.html>).
fn check_version_enabled(auth: &ParsedAuth, opts: &VerifyOptions) -> Result<(), AuthError> {
    match auth {
        ParsedAuth::V2(_) if !opts.sigv2 => Err(AuthError::InvalidRequest(
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
                .to_string(),
        )),
        _ => Ok(()),
    }
}

/// `x-amz-decoded-content-length`, if sent and numeric.
pub fn decoded_content_length(parts: &RequestParts) -> Result<Option<u64>, AuthError> {
    match parts.header("x-amz-decoded-content-length") {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            AuthError::InvalidArgument("Invalid x-amz-decoded-content-length".to_string())
        }),
    }
}

/// ISO 8601 as S3 prints `ServerTime`.
pub(crate) fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn check_skew(
    request_time: Timestamp,
    shown: &str,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Result<(), AuthError> {
    let diff = now.duration_since(request_time).abs();
    if diff > opts.max_skew {
        return Err(AuthError::RequestTimeTooSkewed {
            request_time: shown.to_string(),
            server_time: iso(now),
            max_allowed_skew_ms: opts.max_skew.as_millis() as i64,
        });
    }
    Ok(())
}

fn verify_v4(
    a: &V4Auth,
    parts: &RequestParts,
    secret: &str,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Result<Verified, AuthError> {
    check_region(a, opts)?;
    check_v4_time(a, now, opts)?;
    require_signed_host(a)?;

    let is_s3 = match opts.path_rules {
        PathRules::S3 => true,
        PathRules::Normalized => false,
        PathRules::ByService => a.service == "s3",
    };
    let (payload_hash, payload) = payload_hash(a, parts, a.service == "s3")?;
    if a.presigned && payload.is_streaming() {
        return Err(AuthError::InvalidRequest(
            "aws-chunked uploads cannot be authenticated with query parameters".to_string(),
        ));
    }

    let mut uris = Vec::with_capacity(2);
    if is_s3 {
        let raw = if parts.raw_path.is_empty() {
            "/"
        } else {
            parts.raw_path
        };
        uris.push(raw.to_string());
        let reencoded = s3_reencoded_uri(parts.raw_path);
        if reencoded != raw {
            uris.push(reencoded);
        }
    } else {
        uris.push(normalized_canonical_uri(parts.raw_path));
    }
    let skip = a.presigned.then_some("X-Amz-Signature");
    // The query as the router reads it: a `+` is a space (signed as `%20`), never a
    // second reading of the same bytes.
    let query = parts.query.canonical_v4(skip);
    let key = cached_signing_key(secret, &a.date, &a.region, &a.service);
    let timestamp = a.amz_timestamp();
    let scope = a.scope();

    let mut first_failure = None;
    for uri in &uris {
        let creq = v4::canonical_request(
            parts.method,
            uri,
            &query,
            parts.headers,
            &a.signed_headers,
            &payload_hash,
        );
        let sts = v4::string_to_sign(&timestamp, &scope, &creq);
        let computed = v4::signature(&key, &sts);
        if constant_time_eq(computed.as_bytes(), a.signature.as_bytes()) {
            if is_s3 && !opts.allow_unsigned_amz_headers {
                check_amz_headers_signed(parts.headers, &a.signed_headers)?;
            }
            let signing = matches!(
                payload,
                PayloadMode::StreamingSigned | PayloadMode::StreamingSignedTrailer
            )
            .then(|| ChunkSigningContext {
                access_key_id: a.access_key_id.clone(),
                signing_key: key,
                timestamp: timestamp.clone(),
                scope: scope.clone(),
                seed_signature: a.signature.clone(),
            });
            let decoded_content_length = if payload.is_streaming() {
                // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html: required.
                Some(decoded_content_length(parts)?.ok_or(AuthError::MissingContentLength)?)
            } else {
                None
            };
            return Ok(Verified {
                decoded_content_length,
                payload,
                signing,
                signature_age_ms: now.duration_since(a.request_time).as_millis() as i64,
                signature_version: crate::parse::V4_ALGORITHM,
                auth_type: if a.presigned {
                    "REST-QUERY-STRING"
                } else {
                    "REST-HEADER"
                },
            });
        }
        if first_failure.is_none() {
            first_failure = Some((sts, creq));
        }
    }
    let (string_to_sign, canonical_request) = first_failure.unwrap_or_default();
    tracing::debug!(access_key_id = %a.access_key_id, %canonical_request, "SigV4 signature mismatch");
    Err(AuthError::SignatureDoesNotMatch(Box::new(
        SignatureMismatch {
            access_key_id: a.access_key_id.clone(),
            string_to_sign,
            canonical_request,
            signature_provided: a.signature.clone(),
        },
    )))
}

/// SigV4 requires `host` among the signed headers
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>: "the host
/// header must be included as a signed header"); without it a signature made for one
/// virtual-hosted bucket would hold for every other. S3 answers `AccessDenied` with
/// `<HeadersNotSigned>host</HeadersNotSigned>`; the other services `IncompleteSignature`.
fn require_signed_host(a: &V4Auth) -> Result<(), AuthError> {
    if a.signed_headers.iter().any(|h| h == "host") {
        return Ok(());
    }
    Err(if a.service == "s3" {
        AuthError::HeadersNotSigned {
            headers: "host".to_string(),
        }
    } else {
        AuthError::IncompleteSignature(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.".to_string(),
        )
    })
}

/// The checks that need neither the secret nor the body: the credential scope's region,
/// the request time (clock skew, presigned expiry) and a signed `host`. The server runs them before it
/// reads a body whose hash it cannot know yet (IAM, STS, KMS and Organizations clients
/// sign the body's hash without sending `x-amz-content-sha256`); [`verify`] repeats them.
pub fn check_scope_and_time(
    auth: &ParsedAuth,
    now: Timestamp,
    opts: &VerifyOptions,
) -> Result<(), AuthError> {
    match auth {
        ParsedAuth::V4(a) => {
            check_region(a, opts)?;
            check_v4_time(a, now, opts)?;
            require_signed_host(a)
        }
        ParsedAuth::V2(_) | ParsedAuth::Anonymous => Ok(()),
    }
}

/// The credential scope must name one of the accepted regions.
fn check_region(a: &V4Auth, opts: &VerifyOptions) -> Result<(), AuthError> {
    if let Some(expected) = opts.regions.first() {
        if !opts.regions.iter().any(|r| r == &a.region) {
            let detail = format!("the region '{}' is wrong; expecting '{expected}'", a.region);
            return Err(if a.presigned {
                AuthError::AuthorizationQueryParametersError {
                    message: format!("Error parsing the X-Amz-Credential parameter; {detail}"),
                    region: Some(expected.clone()),
                }
            } else {
                AuthError::AuthorizationHeaderMalformed {
                    message: format!("The authorization header is malformed; {detail}"),
                    region: Some(expected.clone()),
                }
            });
        }
    }
    Ok(())
}

/// S3 refuses `x-amz-*` headers the signature does not cover.
fn check_amz_headers_signed(headers: &http::HeaderMap, signed: &[String]) -> Result<(), AuthError> {
    let mut unsigned: Vec<&str> = headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("x-amz-") && *k != "x-amz-content-sha256")
        .filter(|k| !signed.iter().any(|s| s == k))
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort_unstable();
    unsigned.dedup();
    Err(AuthError::HeadersNotSigned {
        headers: unsigned.join(","),
    })
}

fn check_v4_time(a: &V4Auth, now: Timestamp, opts: &VerifyOptions) -> Result<(), AuthError> {
    if !a.presigned {
        return check_skew(a.request_time, &a.amz_date, now, opts);
    }
    if a.request_time.duration_since(now) > opts.max_skew {
        return Err(AuthError::AccessDenied(
            "Request is not valid yet".to_string(),
        ));
    }
    if let Some(expires) = a.expires {
        let deadline = a
            .request_time
            .checked_add(SignedDuration::from_secs(expires))
            .unwrap_or(Timestamp::MAX);
        if now > deadline {
            return Err(AuthError::RequestExpired {
                expires: iso(deadline),
                server_time: iso(now),
            });
        }
    }
    Ok(())
}

/// The payload hash that was signed, and what it announces.
fn payload_hash(
    a: &V4Auth,
    parts: &RequestParts,
    is_s3: bool,
) -> Result<(String, PayloadMode), AuthError> {
    let claimed = parts.header("x-amz-content-sha256").map(str::trim);
    if let Some(value) = claimed {
        let mode = PayloadMode::from_header_value(value)?;
        // Only S3 lets a request leave its body out of the signature (UNSIGNED-PAYLOAD)
        // or sign it chunk by chunk (STREAMING-*). The other services sign the body's
        // SHA-256 whatever the header says, so a claim that is not a hash counts for
        // nothing there: the body's own hash is what the signature must cover, and a
        // signature made over `UNSIGNED-PAYLOAD` does not match (`SignatureDoesNotMatch`).
        if is_s3 || matches!(mode, PayloadMode::SignedSha256(_)) {
            return Ok((value.to_string(), mode));
        }
        let h = sha256_hex(parts.body.unwrap_or_default());
        return Ok((h.clone(), PayloadMode::SignedSha256(h)));
    }
    // S3 presigned URLs sign UNSIGNED-PAYLOAD; other services sign the body's hash.
    if a.presigned && is_s3 {
        return Ok((
            crate::payload::UNSIGNED_PAYLOAD.to_string(),
            PayloadMode::Unsigned,
        ));
    }
    if let Some(body) = parts.body {
        let h = sha256_hex(body);
        return Ok((h.clone(), PayloadMode::SignedSha256(h)));
    }
    if is_s3 && !a.presigned {
        return Err(AuthError::InvalidRequest(
            "Missing required header for this request: x-amz-content-sha256".to_string(),
        ));
    }
    Ok((
        EMPTY_SHA256.to_string(),
        PayloadMode::SignedSha256(EMPTY_SHA256.to_string()),
    ))
}

/// `YYYYMMDDTHHMMSSZ` of `t` (re-exported for callers building test requests).
pub fn amz_date(t: Timestamp) -> String {
    format_amz_date(t)
}
