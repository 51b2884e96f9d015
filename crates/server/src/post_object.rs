//! POST Object (browser-based uploads): a `multipart/form-data` body whose fields carry the
//! key, the policy and its signature, and whose last field, `file`, is the object.
//!
//! The fields before `file` are read under an unauthenticated permit with bounded memory
//! ([`MAX_FIELD_BYTES`] each, [`MAX_FIELDS_BYTES`] in all); the signature over the policy is
//! verified (SigV4 `x-amz-signature`, or SigV2 `signature` unless `--sigv2 off`); then the
//! `file` part streams to the store as PutObject's body, up to 5 GiB. The policy's conditions
//! and the upload itself are the S3 layer's (`strongbox_s3::post_policy`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{header, Response};
use strongbox_core::{AwsError, Caller};
use strongbox_s3::post_policy::PostForm;
use strongbox_s3::{BodyError, RequestBody, S3Request};
use strongbox_sigv4::post::{parse_post_form, verify_post, PostAuth};
use strongbox_sigv4::AuthError;

use crate::addressing::S3Address;
use crate::app::App;
use crate::body::ResponseBody;
use crate::errors::{self, ErrorSpec, Protocol};
use crate::limits::{self, BodyReadError, RequestIncoming};
use crate::listener::Connection;

/// The largest form field before `file`.
pub const MAX_FIELD_BYTES: usize = 20 * 1024;
/// All fields before `file` together (names and values).
pub const MAX_FIELDS_BYTES: usize = 64 * 1024;

/// A form upload on its way in.
pub struct FormUpload<'a> {
    pub parts: http::request::Parts,
    pub body: RequestIncoming,
    pub address: S3Address,
    pub connection: Connection,
    pub request_id: &'a str,
}

/// Whether a request is a browser-based upload: `POST` to a bucket (no key, no query, no
/// `Authorization` header) with a `multipart/form-data` body.
pub fn is_form_upload(parts: &http::request::Parts, address: &S3Address) -> bool {
    parts.method == http::Method::POST
        && address.bucket.is_some()
        && address.key.as_deref().is_none_or(str::is_empty)
        && parts.uri.query().is_none_or(str::is_empty)
        && !parts.headers.contains_key(header::AUTHORIZATION)
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("multipart/form-data")
            })
}

/// Why a form could not be taken, as S3 answers it.
struct FormError {
    status: u16,
    code: String,
    message: String,
    extra: Vec<(&'static str, String)>,
}

impl FormError {
    fn new(status: u16, code: &str, message: &str) -> FormError {
        FormError {
            status,
            code: code.to_string(),
            message: message.to_string(),
            extra: Vec::new(),
        }
    }

    fn malformed() -> FormError {
        FormError::new(
            400,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        )
    }

    /// `InvalidArgument` naming the field (`ArgumentName`, `ArgumentValue`), as S3 reports form errors.
    fn invalid_argument(message: &str, name: &str, value: &str) -> FormError {
        FormError {
            extra: vec![
                ("ArgumentName", name.to_string()),
                ("ArgumentValue", value.to_string()),
            ],
            ..FormError::new(400, "InvalidArgument", message)
        }
    }

    fn from_aws(err: &dyn AwsError) -> FormError {
        FormError::new(err.status(), err.code(), &err.message())
    }

    fn render(&self, request_id: &str) -> Response<ResponseBody> {
        let extra: Vec<(&str, String)> = self.extra.iter().map(|(k, v)| (*k, v.clone())).collect();
        errors::render(
            Protocol::RestXml,
            &ErrorSpec {
                extra: &extra,
                ..ErrorSpec::new(self.status, &self.code, &self.message)
            },
            request_id,
            false,
        )
    }
}

fn fields_too_large() -> FormError {
    FormError::new(
        400,
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceding the upload file were too large.",
    )
}

/// Why the form's byte stream stopped.
#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Read(#[from] BodyReadError),
    /// More bytes than the fields (with their part headers) may take arrived before `file`.
    #[error("the fields preceding the file are too large")]
    BeforeFileTooLarge,
}

/// A multipart parsing failure: the body's own read errors keep their meaning.
fn multipart_error(err: multer::Error) -> FormError {
    match err {
        multer::Error::StreamReadFailed(inner) => match inner.downcast_ref::<StreamError>() {
            Some(StreamError::Read(e)) => {
                let body = crate::s3_body::read_error(*e);
                FormError::new(body.status(), body.code(), &body.message())
            }
            Some(StreamError::BeforeFileTooLarge) => fields_too_large(),
            None => FormError::malformed(),
        },
        _ => FormError::malformed(),
    }
}

/// The fields before `file`, and the `file` part itself.
struct ReadForm {
    fields: Vec<(String, String)>,
    file: multer::Field<'static>,
    file_name: String,
}

/// Reads the fields up to `file` with bounded memory; field names are lower-cased.
async fn read_fields(
    mut multipart: multer::Multipart<'static>,
    file_reached: &AtomicBool,
) -> Result<ReadForm, FormError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut total = 0usize;
    let too_large = fields_too_large;
    loop {
        let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? else {
            return Err(FormError::invalid_argument(
                "POST requires exactly one file upload per request.",
                "file",
                "0",
            ));
        };
        let name = field.name().unwrap_or("").to_ascii_lowercase();
        if name == "file" {
            file_reached.store(true, Ordering::Relaxed);
            let file_name = field.file_name().unwrap_or("").to_string();
            return Ok(ReadForm {
                fields,
                file: field,
                file_name,
            });
        }
        let mut value = Vec::new();
        total += name.len();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            total += chunk.len();
            if value.len() + chunk.len() > MAX_FIELD_BYTES || total > MAX_FIELDS_BYTES {
                return Err(too_large());
            }
            value.extend_from_slice(&chunk);
        }
        if total > MAX_FIELDS_BYTES {
            return Err(too_large());
        }
        let value = String::from_utf8(value).map_err(|_| FormError::malformed())?;
        if fields.iter().any(|(k, _)| *k == name) {
            // One value per field: the policy and the upload must read the same one.
            return Err(FormError::invalid_argument(
                &format!("Bucket POST must contain at most one field named '{name}'."),
                &name,
                "",
            ));
        }
        fields.push((name, value));
    }
}

/// Bytes the form may send before its `file` part: the fields, their part headers and boundaries.
/// multer buffers a part's headers until they end, so this bounds that buffer too.
const MAX_BYTES_BEFORE_FILE: u64 = 2 * MAX_FIELDS_BYTES as u64 + 64 * 1024;

/// The hyper body as the byte stream multer reads; until `file_reached`, at most
/// [`MAX_BYTES_BEFORE_FILE`] (plus the frame that crosses it) are read.
fn incoming_stream(
    incoming: RequestIncoming,
    file_reached: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = Result<Bytes, StreamError>> + Send + 'static {
    futures_util::stream::unfold(
        (incoming, 0u64, false),
        move |(mut incoming, read, failed)| {
            let file_reached = file_reached.clone();
            async move {
                if failed {
                    return None;
                }
                if read > MAX_BYTES_BEFORE_FILE && !file_reached.load(Ordering::Relaxed) {
                    return Some((Err(StreamError::BeforeFileTooLarge), (incoming, read, true)));
                }
                loop {
                    match incoming.frame().await? {
                        Ok(frame) => {
                            if let Ok(data) = frame.into_data() {
                                let read = read + data.len() as u64;
                                return Some((Ok(data), (incoming, read, false)));
                            }
                        }
                        Err(err) => return Some((Err(err.into()), (incoming, read, true))),
                    }
                }
            }
        },
    )
}

/// The `file` part as PutObject's body.
fn file_body(file: multer::Field<'static>) -> RequestBody {
    let stream = file.map(|chunk| {
        chunk.map_err(|err| {
            let FormError {
                status,
                code,
                message,
                ..
            } = multipart_error(err);
            BodyError::Other {
                code,
                status,
                message,
            }
        })
    });
    RequestBody {
        stream: Box::pin(stream),
        trailers: Default::default(),
        decoded_length: None,
    }
}

/// The caller a form's credentials name, with the signature over its policy verified.
fn authenticate(
    app: &App,
    fields: &[(String, String)],
    meta: &mut strongbox_core::RequestMeta,
) -> Result<Option<Caller>, FormError> {
    let lookup = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(auth) = parse_post_form(lookup).map_err(|e| FormError::from_aws(&e))? else {
        return Ok(None);
    };
    let Some(policy) = lookup("policy") else {
        return Err(FormError::invalid_argument(
            "Bucket POST must contain a field named 'policy'.  If it is specified, please check the order of the fields.",
            "policy",
            "",
        ));
    };
    match &auth {
        PostAuth::V2 { .. } if !app.sigv2 => {
            return Err(FormError::from_aws(&AuthError::InvalidRequest(
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
                    .to_string(),
            )));
        }
        PostAuth::V4 {
            region, service, ..
        } if region != &app.region || service != "s3" => {
            return Err(FormError::from_aws(&AuthError::AuthorizationQueryParametersError {
                message: format!(
                    "Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; expecting '{}'",
                    app.region
                ),
                region: Some(app.region.clone()),
            }));
        }
        _ => {}
    }
    let found = app
        .services
        .identity
        .lookup_key(auth.access_key_id(), auth.session_token(), meta.received_at)
        .map_err(|e| {
            let mut err = FormError::from_aws(&e);
            if err.code == "InvalidAccessKeyId" {
                err.extra = vec![("AWSAccessKeyId", auth.access_key_id().to_string())];
            }
            err
        })?;
    verify_post(&auth, policy, &found.secret).map_err(|e| FormError::from_aws(&e))?;
    let version = match auth {
        PostAuth::V4 { .. } => "AWS4-HMAC-SHA256",
        PostAuth::V2 { .. } => "AWS",
    };
    meta.signature_version = Some(version.to_string());
    meta.auth_type = Some("POST".to_string());
    Ok(Some(found.caller))
}

/// Where the object will be: `http(s)://host/bucket` (path style) or `http(s)://bucket.host`.
fn bucket_url(upload: &FormUpload<'_>, bucket: &str) -> String {
    let scheme = if upload.connection.tls_version.is_some() {
        "https"
    } else {
        "http"
    };
    let host = upload
        .parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    match upload.address.virtual_host_bucket {
        Some(_) => format!("{scheme}://{host}"),
        None => format!("{scheme}://{host}/{bucket}"),
    }
}

/// Serves one browser-based upload.
pub async fn handle(app: &App, upload: FormUpload<'_>) -> Response<ResponseBody> {
    let request_id = upload.request_id;
    match handle_form(app, upload).await {
        Ok(resp) => resp,
        Err(err) => err.render(request_id),
    }
}

async fn handle_form(
    app: &App,
    upload: FormUpload<'_>,
) -> Result<Response<ResponseBody>, FormError> {
    let bucket = upload.address.bucket.clone().unwrap_or_default();
    let content_type = upload
        .parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| FormError::malformed())?;
    let mut meta = app.request_meta(&upload.parts.headers, upload.connection, upload.request_id);
    let url = bucket_url(&upload, &bucket);
    let FormUpload { body, parts, .. } = upload;
    let (read, caller) = {
        // The fields are read before any signature is checked: bounded, under a permit.
        let weight = limits::body_weight(&parts.headers, MAX_BYTES_BEFORE_FILE as usize);
        let _permit = app
            .gates
            .unauthenticated(weight)
            .ok_or_else(|| FormError::new(503, "SlowDown", "Please reduce your request rate."))?;
        let file_reached = Arc::new(AtomicBool::new(false));
        let stream = incoming_stream(body, file_reached.clone());
        let multipart = multer::Multipart::new(stream, boundary);
        let read = read_fields(multipart, &file_reached).await?;
        let caller = authenticate(app, &read.fields, &mut meta)?;
        (read, caller)
    };
    let signed = caller.is_some();
    let caller = caller.unwrap_or_else(Caller::anonymous);
    let canonical_user_id = app.services.canonical_user_id(&caller);
    let sigv2 = read.fields.iter().any(|(k, _)| k == "awsaccesskeyid");
    let form = PostForm {
        fields: read.fields,
        file_name: read.file_name,
        bucket_url: url,
        sigv2,
    };
    let req = S3Request {
        meta,
        caller,
        canonical_user_id,
        method: http::Method::PUT,
        bucket: Some(bucket),
        key: None,
        query: Vec::new(),
        headers: http::HeaderMap::new(),
        body: file_body(read.file),
        access: app.services.authz.clone(),
    };
    let resp = app.services.s3.post_object(req, form, signed).await;
    Ok(crate::body::from_s3(resp))
}
