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
use strongbox_sigv4::{AuthError, ParsedAuth, Query, RequestParts, Verified, VerifyOptions};

use crate::addressing::{self, Domains};
use crate::body::ResponseBody;
use crate::errors::{self, Protocol};
use crate::forms;
use crate::services::Services;

/// The running server's shared state.
pub struct App {
    pub region: String,
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
    /// Serves one HTTP request. Every response carries `x-amz-request-id` and `x-amz-id-2`.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        connection: Connection,
    ) -> Response<ResponseBody> {
        let request_id = ids::request_id();
        let mut resp = if self.server_timing {
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
        let headers = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-amz-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(&strongbox_s3::host_id(&request_id)) {
            headers.insert("x-amz-id-2", v);
        }
        headers.insert(header::SERVER, HeaderValue::from_static("Strongbox"));
        resp
    }

    async fn dispatch(
        &self,
        req: Request<Incoming>,
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
        let address = addressing::resolve(&self.domains, host.as_deref(), &raw_path);
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
        if matches!(service, Service::S3 | Service::S3Control) {
            let auth =
                match self.authenticate(&parsed, &request_parts, service, connection, request_id) {
                    Ok(a) => a,
                    Err(err) => {
                        return auth_error_for(service, protocol, &err, &parsed, request_id, head)
                    }
                };
            return self
                .services
                .s3_request(service == Service::S3Control, auth, parts, body, address)
                .await;
        }
        // The other APIs take small bodies, read whole before the signature check
        // (their clients sign the body hash without sending x-amz-content-sha256).
        let bytes = match forms::read_limited(body, forms::MAX_API_BODY).await {
            Ok(b) => b,
            Err(err) => {
                return errors::render(
                    protocol,
                    &errors::ErrorSpec::new(400, "ValidationError", &err.to_string()),
                    request_id,
                    head,
                )
            }
        };
        let request_parts = RequestParts {
            body: Some(&bytes),
            ..request_parts
        };
        let auth = match self.authenticate(&parsed, &request_parts, service, connection, request_id)
        {
            Ok(a) => a,
            Err(err) => return auth_error_for(service, protocol, &err, &parsed, request_id, head),
        };
        match service {
            Service::Iam | Service::Sts => {
                self.services
                    .query_request(service == Service::Iam, auth, bytes)
                    .await
            }
            _ => {
                self.services
                    .json_request(service == Service::Kms, auth, &parts, bytes)
                    .await
            }
        }
    }

    /// What a signature must satisfy on this endpoint.
    fn verify_options(&self) -> VerifyOptions {
        VerifyOptions {
            sigv2: self.sigv2,
            ..VerifyOptions::for_region(&self.region)
        }
    }

    /// Looks up the credentials and verifies the signature (timed as `authn`).
    fn authenticate(
        &self,
        parsed: &ParsedAuth,
        parts: &RequestParts<'_>,
        service: Service,
        connection: Connection,
        request_id: &str,
    ) -> Result<Authenticated, AuthFailure> {
        let _timer = timing::Timer::start(Stage::Authenticate);
        let now = jiff::Timestamp::now();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let mut meta = RequestMeta {
            request_id: request_id.to_string(),
            region: self.region.clone(),
            source_ip: Some(connection.peer.ip()),
            secure_transport: connection.tls_version.is_some(),
            tls_version: connection.tls_version.map(str::to_string),
            user_agent: header("user-agent"),
            referer: header("referer"),
            received_at: now,
            signature_version: None,
            auth_type: None,
            signature_age_ms: None,
            content_sha256: header("x-amz-content-sha256"),
        };
        let options = self.verify_options();
        strongbox_sigv4::verify::check_before_lookup(parsed, parts.query, &options)
            .map_err(AuthFailure::Signature)?;
        let Some(access_key_id) = parsed.access_key_id() else {
            if service != Service::S3 {
                return Err(AuthFailure::MissingAuthentication);
            }
            return Ok(Authenticated {
                caller: Caller::anonymous(),
                meta,
                verified: None,
                query: parts.query.clone(),
            });
        };
        let found = self
            .services
            .identity
            .lookup_key(access_key_id, parsed.session_token(), now)
            .map_err(AuthFailure::Identity)?;
        let verified = strongbox_sigv4::verify(parsed, parts, &found.secret, now, &options)
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

/// Why authentication failed.
#[derive(Debug)]
pub enum AuthFailure {
    /// A non-S3 API called without credentials.
    MissingAuthentication,
    /// The access key or session token was not accepted.
    Identity(strongbox_identity::IdentityError),
    /// The signature (or its timing) was not accepted.
    Signature(AuthError),
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
