//! The services behind the endpoint and how each protocol reaches them.

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, Response, StatusCode};
use strongbox_authz::Authz;
use strongbox_core::Authorizer;
use strongbox_identity::Identity;
use strongbox_kms::Kms;
use strongbox_s3::{S3Request, S3Service};
use strongbox_sigv4::{PayloadVerifier, Verified};

use crate::addressing::S3Address;
use crate::app::Authenticated;
use crate::body::{self, ResponseBody};
use crate::errors::{self, Protocol};
use crate::forms;
use crate::limits::RequestIncoming;
use crate::s3_body;

/// The service objects, opened once at start-up.
pub struct Services {
    pub identity: Arc<Identity>,
    pub authz: Arc<Authz>,
    pub s3: Arc<S3Service>,
    pub kms: Arc<Kms>,
}

fn reply(status: u16, content_type: &str, text: String) -> Response<ResponseBody> {
    let mut resp = Response::new(body::full(Bytes::from(text)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// 400 InvalidURI: a path or query whose decoded bytes are not UTF-8.
pub fn invalid_uri(request_id: &str, head: bool) -> Response<ResponseBody> {
    let message = crate::addressing::InvalidUri.to_string();
    errors::render(
        Protocol::RestXml,
        &errors::ErrorSpec::new(400, "InvalidURI", &message),
        request_id,
        head,
    )
}

/// Checks a small API body against its signed SHA-256 (if any).
fn check_api_body(
    bytes: &Bytes,
    verified: Option<&Verified>,
) -> Result<(), strongbox_sigv4::AuthError> {
    if let Some(v) = verified {
        let mut verifier = PayloadVerifier::new(&v.payload);
        verifier.update(bytes);
        verifier.finish()?;
    }
    Ok(())
}

fn body_error(
    protocol: Protocol,
    err: &strongbox_sigv4::AuthError,
    request_id: &str,
) -> Response<ResponseBody> {
    use strongbox_core::AwsError;
    errors::render(
        protocol,
        &errors::ErrorSpec::new(err.status(), err.code(), &err.message()),
        request_id,
        false,
    )
}

impl Services {
    /// The canonical user id of the caller's account (`""` for anonymous callers).
    pub fn canonical_user_id(&self, caller: &strongbox_core::Caller) -> String {
        if caller.is_anonymous() {
            return String::new();
        }
        self.identity
            .canonical_user_id(&caller.account_id)
            .unwrap_or_default()
    }

    /// S3 and S3 Control requests.
    pub async fn s3_request(
        &self,
        control: bool,
        auth: Authenticated,
        parts: Parts,
        incoming: RequestIncoming,
        address: S3Address,
    ) -> Response<ResponseBody> {
        let head = parts.method == http::Method::HEAD;
        let content_length = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let request_body = match s3_body::request_body(
            incoming,
            auth.verified.as_ref(),
            &parts.headers,
            content_length,
        ) {
            Ok(b) => b,
            Err(err) => {
                use strongbox_core::AwsError;
                return errors::render(
                    Protocol::RestXml,
                    &errors::ErrorSpec::new(err.status(), err.code(), &err.message()),
                    &auth.meta.request_id,
                    head,
                );
            }
        };
        let Some(query) = auth.query.utf8_pairs() else {
            return invalid_uri(&auth.meta.request_id, head);
        };
        let canonical_user_id = self.canonical_user_id(&auth.caller);
        let req = S3Request {
            meta: auth.meta,
            caller: auth.caller,
            canonical_user_id,
            method: parts.method,
            bucket: if control { None } else { address.bucket },
            key: if control { None } else { address.key },
            query,
            headers: parts.headers,
            body: request_body,
            access: self.authz.clone(),
        };
        let resp = if control {
            self.s3.handle_control(req).await
        } else {
            self.s3.handle(req).await
        };
        body::from_s3(resp)
    }

    /// IAM and STS: the Query protocol.
    pub async fn query_request(
        &self,
        iam: bool,
        auth: Authenticated,
        bytes: Bytes,
    ) -> Response<ResponseBody> {
        if let Err(err) = check_api_body(&bytes, auth.verified.as_ref()) {
            return body_error(Protocol::Query, &err, &auth.meta.request_id);
        }
        let mut params = auth.query.pairs();
        params.extend(forms::parse_form(&String::from_utf8_lossy(&bytes)));
        let authz: &dyn Authorizer = self.authz.as_ref();
        let out = if iam {
            self.identity
                .handle_iam(&auth.caller, &auth.meta, authz, &params)
        } else {
            self.identity
                .handle_sts(&auth.caller, &auth.meta, authz, &params)
        };
        reply(out.status, out.content_type, out.body)
    }

    /// KMS and Organizations: JSON 1.1 with `X-Amz-Target`.
    pub async fn json_request(
        &self,
        kms: bool,
        auth: Authenticated,
        parts: &Parts,
        bytes: Bytes,
    ) -> Response<ResponseBody> {
        if let Err(err) = check_api_body(&bytes, auth.verified.as_ref()) {
            return body_error(Protocol::Json, &err, &auth.meta.request_id);
        }
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let authz: &dyn Authorizer = self.authz.as_ref();
        if kms {
            let out = self
                .kms
                .handle(&auth.caller, &auth.meta, authz, &target, &bytes);
            reply(out.status, strongbox_kms::CONTENT_TYPE, out.body)
        } else {
            let out = self.identity.handle_organizations(
                &auth.caller,
                &auth.meta,
                authz,
                &target,
                &bytes,
            );
            reply(out.status, out.content_type, out.body)
        }
    }
}
