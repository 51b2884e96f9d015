//! One request's way through the server: authenticate (SigV4) → resolve the
//! principal → route by the credential scope's service → the service handler,
//! which builds its authorization checks and calls the authorizer.

use crate::listener::Connection;
use std::sync::Arc;
use std::time::Instant;

use http::{header, HeaderValue, Request, Response};
use hyper::body::Incoming;
use strongbox_core::timing::{self, Stage};
use strongbox_core::{ids, Caller, RequestMeta};
use strongbox_identity::KeyLookup;
use strongbox_sigv4::{
    AuthError, ParsedAuth, PayloadMode, Query, RequestParts, Verified, VerifyOptions,
};

use crate::addressing::{self, Domains};
use crate::body::ResponseBody;
use crate::errors::{self, Protocol};
use crate::forms;
use crate::limits::{self, BodyReadError, Gates, Limits, RequestIncoming};
use crate::services::Services;

/// The running server's shared state.
pub struct App {
    pub region: String,
    pub limits: Limits,
    pub gates: Gates,
    pub domains: Domains,
    pub services: Services,
    /// Answer a `Server-Timing` header (`serve --server-timing`).
    pub server_timing: bool,
    /// Accept SigV2 signatures (`serve --sigv2 on|off`).
    pub sigv2: bool,
}

/// An authenticated request, ready for its service.
pub struct Authenticated {
    pub caller: Caller,
    pub meta: RequestMeta,
    /// `None` for anonymous requests.
    pub verified: Option<Verified>,
    /// The query, decoded once: what the signature covered is what the handlers read.
    pub query: Query,
}

/// Which API a request is for, from the credential scope (and the path for S3 Control).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    S3,
    S3Control,
    Iam,
    Sts,
    Kms,
    Organizations,
}

impl Service {
    fn protocol(self) -> Protocol {
        match self {
            Service::S3 | Service::S3Control => Protocol::RestXml,
            Service::Iam | Service::Sts => Protocol::Query,
            Service::Kms | Service::Organizations => Protocol::Json,
        }
    }
}

/// S3 Control's REST paths start with its API version.
const S3_CONTROL_PREFIX: &str = "/v20180820/";

fn route(auth: &ParsedAuth, path: &str) -> Option<Service> {
    match auth.service().unwrap_or("s3") {
        "s3" if path.starts_with(S3_CONTROL_PREFIX) => Some(Service::S3Control),
        "s3" => Some(Service::S3),
        "iam" => Some(Service::Iam),
        "sts" => Some(Service::Sts),
        "kms" => Some(Service::Kms),
        "organizations" => Some(Service::Organizations),
        _ => None,
    }
}

impl App {
    /// Serves one HTTP request. Every response carries `x-amz-request-id` and `x-amz-id-2`;
    /// a response sent before the request body was read to its end closes the connection.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        connection: Connection,
    ) -> Response<ResponseBody> {
        let request_id = ids::request_id();
        let req = req.map(|body| RequestIncoming::new(body, self.limits.body_idle_timeout));
        let body_end = req.body().end();
        // CORS (crate::cors): preflights are answered without credentials; other
        // responses to a request with an Origin get the bucket's CORS headers.
        let cors = crate::cors::CrossOrigin::of(&self.domains, &req);
        let preflight = cors
            .as_ref()
            .and_then(|c| c.preflight(&self.services.s3, &req, &request_id));
        let mut resp = if let Some(resp) = preflight {
            resp
        } else if self.server_timing {
            let started = Instant::now();
            let (mut resp, timings) =
                timing::scope(self.dispatch(req, connection, &request_id)).await;
            if let Ok(v) = HeaderValue::from_str(&timings.header_value(started.elapsed())) {
                resp.headers_mut().insert("server-timing", v);
            }
            resp
        } else {
            self.dispatch(req, connection, &request_id).await
        };
        if let Some(cors) = &cors {
            cors.add_headers(&self.services.s3, &mut resp);
        }
        let headers = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-amz-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&strongbox_s3::host_id(&request_id)) {
            headers.insert("x-amz-id-2", v);
        }
        headers.insert(header::SERVER, HeaderValue::from_static("Strongbox"));
        if !body_end.reached() {
            // hyper would otherwise keep the connection and read on where this body
            // stopped: after an unanswered `Expect: 100-continue`, into the next request.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }

    async fn dispatch(
        &self,
        req: Request<RequestIncoming>,
        connection: Connection,
        request_id: &str,
    ) -> Response<ResponseBody> {
        let (parts, body) = req.into_parts();
        let head = parts.method == http::Method::HEAD;
        let raw_path = parts.uri.path().to_string();
        let query = Query::parse(parts.uri.query().unwrap_or(""));
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let Ok(address) = addressing::resolve(&self.domains, host.as_deref(), &raw_path) else {
            return crate::services::invalid_uri(request_id, head);
        };
        // Browser-based uploads (POST Object) carry their credentials in the form body.
        if crate::post_object::is_form_upload(&parts, &address) {
            let upload = crate::post_object::FormUpload {
                parts,
                body,
                address,
                connection,
                request_id,
            };
            return crate::post_object::handle(self, upload).await;
        }
        let request_parts = RequestParts {
            method: parts.method.as_str(),
            raw_path: &raw_path,
            query: &query,
            headers: &parts.headers,
            virtual_host_bucket: address.virtual_host_bucket.as_deref(),
            body: None,
        };
        let parsed = match strongbox_sigv4::parse(&request_parts) {
            Ok(p) => p,
            Err(err) => return auth_error(Protocol::RestXml, &err, request_id, head),
        };
        let Some(service) = route(&parsed, &raw_path) else {
            return errors::render(
                Protocol::RestXml,
                &errors::ErrorSpec::new(
                    400,
                    "InvalidRequest",
                    "The credential scope names a service this endpoint does not serve.",
                ),
                request_id,
                head,
            );
        };
        let protocol = service.protocol();
        let origin = Origin {
            connection,
            request_id,
        };
        let fail =
            |err: AuthFailure| auth_error_for(service, protocol, &err, &parsed, request_id, head);
        if !matches!(service, Service::S3 | Service::S3Control) {
            return self
                .api_request(service, &parsed, request_parts, &parts, body, origin)
                .await
                .unwrap_or_else(fail);
        }
        // S3 signatures cover the head (the payload hash is a header, or UNSIGNED):
        // verified in full before any byte of the body is read.
        let auth = match self
            .identify(&parsed, &request_parts, service, origin)
            .and_then(|identified| self.verify(identified, &parsed, &request_parts))
        {
            Ok(a) => a,
            Err(err) => return fail(err),
        };
        // Anonymous requests read their bodies (XML up to 4 MiB) before any policy decides.
        let _permit = if auth.verified.is_none() && !body.is_finished() {
            let weight = limits::body_weight(&parts.headers, strongbox_s3::MAX_XML_BODY);
            match self.gates.unauthenticated(weight) {
                Some(permit) => Some(permit),
                None => return fail(AuthFailure::Busy),
            }
        } else {
            None
        };
        self.services
            .s3_request(service == Service::S3Control, auth, parts, body, address)
            .await
    }

    /// IAM, STS, KMS and Organizations. Their SDKs sign the body's SHA-256 without sending
    /// it, so only the key, the session token, the credential scope, the clock and the
    /// signed headers are checked before the (bounded) body is read under an
    /// unauthenticated permit; the signature after. A client that sends the body's hash in
    /// `x-amz-content-sha256` is verified in full first, and the body checked against it.
    async fn api_request(
        &self,
        service: Service,
        parsed: &ParsedAuth,
        request_parts: RequestParts<'_>,
        parts: &http::request::Parts,
        body: RequestIncoming,
        origin: Origin<'_>,
    ) -> Result<Response<ResponseBody>, AuthFailure> {
        let protocol = service.protocol();
        let head = parts.method == http::Method::HEAD;
        let request_id = origin.request_id;
        let identified = self.identify(parsed, &request_parts, service, origin)?;
        // Only a hash in x-amz-content-sha256 lets the signature be checked before the
        // body: these services sign the body's own hash whatever else the header says.
        let hash_sent = request_parts
            .header("x-amz-content-sha256")
            .is_some_and(|v| {
                matches!(
                    PayloadMode::from_header_value(v.trim()),
                    Ok(PayloadMode::SignedSha256(_))
                )
            });
        let checked = if hash_sent {
            HeadCheck::Verified(Box::new(self.verify(identified, parsed, &request_parts)?))
        } else {
            strongbox_sigv4::check_scope_and_time(
                parsed,
                identified.meta.received_at,
                &self.verify_options(),
            )
            .map_err(AuthFailure::Signature)?;
            HeadCheck::NeedsBody(Box::new(identified))
        };
        let read = {
            let _permit = match checked {
                HeadCheck::Verified(_) => None,
                HeadCheck::NeedsBody(_) => {
                    let weight = limits::body_weight(&parts.headers, forms::MAX_API_BODY);
                    Some(
                        self.gates
                            .unauthenticated(weight)
                            .ok_or(AuthFailure::Busy)?,
                    )
                }
            };
            forms::read_limited(body, forms::MAX_API_BODY).await
        };
        let bytes = match read {
            Ok(b) => b,
            Err(err) => return Ok(api_body_error(protocol, &err, request_id, head)),
        };
        let auth = match checked {
            HeadCheck::Verified(auth) => *auth,
            HeadCheck::NeedsBody(identified) => {
                let request_parts = RequestParts {
                    body: Some(&bytes),
                    ..request_parts
                };
                self.verify(*identified, parsed, &request_parts)?
            }
        };
        Ok(match service {
            Service::Iam | Service::Sts => {
                self.services
                    .query_request(service == Service::Iam, auth, bytes)
                    .await
            }
            _ => {
                self.services
                    .json_request(service == Service::Kms, auth, parts, bytes)
                    .await
            }
        })
    }

    /// What a signature must satisfy on this endpoint.
    fn verify_options(&self) -> VerifyOptions {
        VerifyOptions {
            sigv2: self.sigv2,
            ..VerifyOptions::for_region(&self.region)
        }
    }

    /// The request's metadata and the caller its access key (and session token) names,
    /// from the head alone: unknown keys are refused here, before any body is read.
    fn identify(
        &self,
        parsed: &ParsedAuth,
        parts: &RequestParts<'_>,
        service: Service,
        origin: Origin<'_>,
    ) -> Result<Identified, AuthFailure> {
        let Origin {
            connection,
            request_id,
        } = origin;
        let _timer = timing::Timer::start(Stage::Authenticate);
        let meta = self.request_meta(parts.headers, connection, request_id);
        let now = meta.received_at;
        strongbox_sigv4::verify::check_before_lookup(parsed, parts.query, &self.verify_options())
            .map_err(AuthFailure::Signature)?;
        let Some(access_key_id) = parsed.access_key_id() else {
            if service != Service::S3 {
                return Err(AuthFailure::MissingAuthentication);
            }
            return Ok(Identified { meta, key: None });
        };
        let key = self
            .services
            .identity
            .lookup_key(access_key_id, parsed.session_token(), now)
            .map_err(AuthFailure::Identity)?;
        Ok(Identified {
            meta,
            key: Some(key),
        })
    }

    /// The request's metadata before authentication (received now, from this connection).
    pub(crate) fn request_meta(
        &self,
        headers: &http::HeaderMap,
        connection: Connection,
        request_id: &str,
    ) -> RequestMeta {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        RequestMeta {
            request_id: request_id.to_string(),
            region: self.region.clone(),
            source_ip: Some(connection.peer.ip()),
            secure_transport: connection.tls_version.is_some(),
            tls_version: connection.tls_version.map(str::to_string),
            user_agent: header("user-agent"),
            referer: header("referer"),
            received_at: jiff::Timestamp::now(),
            signature_version: None,
            auth_type: None,
            signature_age_ms: None,
            content_sha256: header("x-amz-content-sha256"),
        }
    }

    /// Verifies the signature of an identified request (timed as `authn`).
    fn verify(
        &self,
        identified: Identified,
        parsed: &ParsedAuth,
        parts: &RequestParts<'_>,
    ) -> Result<Authenticated, AuthFailure> {
        let _timer = timing::Timer::start(Stage::Authenticate);
        let Identified { mut meta, key } = identified;
        let Some(found) = key else {
            return Ok(Authenticated {
                caller: Caller::anonymous(),
                meta,
                verified: None,
                query: parts.query.clone(),
            });
        };
        let verified = strongbox_sigv4::verify(
            parsed,
            parts,
            &found.secret,
            meta.received_at,
            &self.verify_options(),
        )
        .map_err(AuthFailure::Signature)?;
        meta.signature_version = Some(verified.signature_version.to_string());
        meta.auth_type = Some(verified.auth_type.to_string());
        meta.signature_age_ms = Some(verified.signature_age_ms);
        Ok(Authenticated {
            caller: found.caller,
            meta,
            verified: Some(verified),
            query: parts.query.clone(),
        })
    }
}

/// Where a request came from, and the id it is answered under.
#[derive(Clone, Copy)]
struct Origin<'a> {
    connection: Connection,
    request_id: &'a str,
}

/// A request whose access key was looked up, before its signature is verified.
struct Identified {
    meta: RequestMeta,
    /// `None` for anonymous S3 requests.
    key: Option<KeyLookup>,
}

/// How far an API request got from its head alone.
enum HeadCheck {
    /// Verified in full (the client sent the payload hash as `x-amz-content-sha256`).
    Verified(Box<Authenticated>),
    /// Key, scope and clock accepted; the signature needs the body's hash.
    NeedsBody(Box<Identified>),
}

/// A body that could not be read, in the API's protocol.
fn api_body_error(
    protocol: Protocol,
    err: &forms::ReadError,
    request_id: &str,
    head: bool,
) -> Response<ResponseBody> {
    let code = match err {
        forms::ReadError::Body(BodyReadError::Idle) => "RequestTimeout",
        _ => "ValidationError",
    };
    errors::render(
        protocol,
        &errors::ErrorSpec::new(400, code, &err.to_string()),
        request_id,
        head,
    )
}

/// Why authentication failed.
#[derive(Debug)]
pub enum AuthFailure {
    /// A non-S3 API called without credentials.
    MissingAuthentication,
    /// The access key or session token was not accepted.
    Identity(strongbox_identity::IdentityError),
    /// The signature (or its timing) was not accepted.
    Signature(AuthError),
    /// Too many requests are reading bodies before their signature is verified.
    Busy,
}

fn auth_error(
    protocol: Protocol,
    err: &AuthError,
    request_id: &str,
    head: bool,
) -> Response<ResponseBody> {
    use strongbox_core::AwsError;
    let details = err.details();
    let extra: Vec<(&str, String)> = details.into_iter().collect();
    errors::render(
        protocol,
        &errors::ErrorSpec {
            status: err.status(),
            code: err.code(),
            message: &err.message(),
            extra: &extra,
        },
        request_id,
        head,
    )
}

fn auth_error_for(
    service: Service,
    protocol: Protocol,
    failure: &AuthFailure,
    parsed: &ParsedAuth,
    request_id: &str,
    head: bool,
) -> Response<ResponseBody> {
    use strongbox_core::AwsError;
    match failure {
        AuthFailure::Signature(err) => {
            if protocol == Protocol::RestXml {
                auth_error(protocol, err, request_id, head)
            } else {
                // IAM, STS, KMS and Organizations report signature problems without the S3 details.
                let (status, code) = match (service, err.code()) {
                    (Service::Kms, "SignatureDoesNotMatch") => (400, "InvalidSignatureException"),
                    (Service::Kms, code) => (400, code),
                    (_, code) => (err.status(), code),
                };
                errors::render(
                    protocol,
                    &errors::ErrorSpec::new(status, code, &err.message()),
                    request_id,
                    head,
                )
            }
        }
        AuthFailure::Identity(err) => {
            let (status, code, message) = match service {
                Service::S3 | Service::S3Control => {
                    (err.status(), err.code().to_string(), err.message())
                }
                Service::Kms if err.code() == "InvalidAccessKeyId" => (
                    400,
                    "UnrecognizedClientException".to_string(),
                    "The security token included in the request is invalid.".to_string(),
                ),
                _ if err.code() == "InvalidAccessKeyId" => (
                    403,
                    "InvalidClientTokenId".to_string(),
                    "The security token included in the request is invalid.".to_string(),
                ),
                _ => (err.status(), err.code().to_string(), err.message()),
            };
            // S3 names the unknown key: <AWSAccessKeyId> after the message.
            let extra: Vec<(&str, String)> = match parsed.access_key_id() {
                Some(key) if code == "InvalidAccessKeyId" => {
                    vec![("AWSAccessKeyId", key.to_string())]
                }
                _ => Vec::new(),
            };
            errors::render(
                protocol,
                &errors::ErrorSpec {
                    extra: &extra,
                    ..errors::ErrorSpec::new(status, &code, &message)
                },
                request_id,
                head,
            )
        }
        AuthFailure::Busy => {
            // S3: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (SlowDown);
            // the other APIs: the common error ServiceUnavailable (503), which SDKs retry.
            let (code, message) = match protocol {
                Protocol::RestXml => ("SlowDown", "Please reduce your request rate."),
                _ => (
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                ),
            };
            errors::render(
                protocol,
                &errors::ErrorSpec::new(503, code, message),
                request_id,
                head,
            )
        }
        AuthFailure::MissingAuthentication => errors::render(
            protocol,
            &errors::ErrorSpec::new(
                if service == Service::Kms { 400 } else { 403 },
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
            request_id,
            head,
        ),
    }
}
