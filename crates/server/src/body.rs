//! Response bodies.

use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};

/// The error type a streamed response body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body the server sends.
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// A body with these bytes.
pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub fn empty() -> ResponseBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// An S3 response with its body boxed as the server sends it.
pub fn from_s3(resp: http::Response<strongbox_s3::S3Body>) -> http::Response<ResponseBody> {
    resp.map(|b| b.map_err(|e| e.into()).boxed_unsync())
}
