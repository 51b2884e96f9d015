//! CORS at the endpoint (the rules are `strongbox_s3::cors`): a preflight
//! `OPTIONS` is answered before any authentication, since browsers send it
//! without credentials (and, for a presigned URL, with a signature made for
//! another method); every other response to a request naming a bucket and an
//! `Origin` gets the headers of the bucket's matching rule, errors from
//! authentication included, as S3 does.

use http::{header, Method, Request, Response};
use strongbox_s3::S3Service;

use crate::addressing::{self, Domains};
use crate::body::ResponseBody;

/// S3 Control's paths (`/v20180820/…`) name no bucket.
const S3_CONTROL_PREFIX: &str = "/v20180820/";

/// What CORS needs to know of a request, taken from its head.
pub struct CrossOrigin {
    bucket: Option<String>,
    key: Option<String>,
    preflight: bool,
    origin: Option<String>,
    method: Method,
}

impl CrossOrigin {
    /// `None` when CORS has nothing to do with the request: not a preflight,
    /// and no `Origin` on a request naming a bucket.
    pub fn of<B>(domains: &Domains, req: &Request<B>) -> Option<CrossOrigin> {
        let preflight = req.method() == Method::OPTIONS;
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let path = req.uri().path();
        if (!preflight && origin.is_none()) || path.starts_with(S3_CONTROL_PREFIX) {
            return None;
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        // An undecodable path is answered InvalidURI by the usual way.
        let address = addressing::resolve(domains, host, path).ok()?;
        if !preflight && address.bucket.is_none() {
            return None;
        }
        Some(CrossOrigin {
            bucket: address.bucket,
            key: address.key,
            preflight,
            origin,
            method: req.method().clone(),
        })
    }

    /// The answer to a preflight request; `None` for any other request.
    pub fn preflight<B>(
        &self,
        s3: &S3Service,
        req: &Request<B>,
        request_id: &str,
    ) -> Option<Response<ResponseBody>> {
        if !self.preflight {
            return None;
        }
        Some(crate::body::from_s3(s3.preflight(
            self.bucket.as_deref(),
            self.key.as_deref(),
            req.headers(),
            request_id,
        )))
    }

    /// Adds the bucket's CORS headers to the response of an actual request.
    pub fn add_headers(&self, s3: &S3Service, resp: &mut Response<ResponseBody>) {
        let (Some(bucket), Some(origin), false) = (&self.bucket, &self.origin, self.preflight)
        else {
            return;
        };
        let headers = resp.headers_mut();
        for (name, value) in s3.cors_response_headers(bucket, origin, &self.method) {
            headers.insert(name, value);
        }
    }
}
