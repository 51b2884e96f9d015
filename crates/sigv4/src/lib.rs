//! AWS request authentication for Strongbox.
//!
//! Pure and synchronous: [`parse`] reads the credentials out of a request (no secret
//! needed, so the server can route by service and look the key up), [`verify`] checks the
//! signature against the secret, [`ChunkedDecoder`] decodes `aws-chunked` bodies and
//! checks every chunk signature, [`PayloadVerifier`] checks a signed SHA-256 body,
//! [`checksum`] computes the `x-amz-checksum-*` values, [`post`] checks browser POST forms
//! and [`sign`] is the client side.
//!
//! The server's flow:
//!
//! ```
//! use strongbox_sigv4::{parse, verify, ChunkedDecoder, PayloadVerifier, Query, RequestParts, VerifyOptions};
//! # use strongbox_sigv4::sign::{sign_request, Credentials, SigningParams};
//! # let creds = Credentials::new("AKIDEXAMPLE", "secret");
//! # let now = jiff::Timestamp::now();
//! # let mut headers = http::HeaderMap::new();
//! # headers.insert("host", "localhost:9000".parse().unwrap());
//! # let body = b"hello";
//! # let params = SigningParams { credentials: &creds, region: "us-east-1", service: "s3", time: now };
//! # sign_request("PUT", "/bucket/key", "", &mut headers, &strongbox_sigv4::crypto::sha256_hex(body), &params).unwrap();
//! let parts = RequestParts {
//!     method: "PUT",
//!     raw_path: "/bucket/key",
//!     query: &Query::default(),
//!     headers: &headers,
//!     virtual_host_bucket: None,
//!     body: None,
//! };
//! let auth = parse(&parts)?; // which key, service and region: route and look the secret up
//! let secret = "secret"; // found by auth.access_key_id()
//! let verified = verify(&auth, &parts, secret, now, &VerifyOptions::for_region("us-east-1"))?;
//! if verified.payload.is_streaming() {
//!     let mut decoder = ChunkedDecoder::new(&verified.payload, verified.signing.clone(), verified.decoded_content_length)?;
//!     // decoder.feed(frame, |payload| ...)?; … decoder.finish()?;
//! } else {
//!     let mut check = PayloadVerifier::new(&verified.payload);
//!     check.update(body);
//!     check.finish()?; // XAmzContentSHA256Mismatch when the body does not match
//! }
//! # Ok::<(), strongbox_sigv4::AuthError>(())
//! ```

pub mod checksum;
pub mod chunked;
pub mod crypto;
pub mod encoding;
pub mod error;
pub mod parse;
pub mod payload;
pub mod post;
pub mod query;
pub mod sign;
pub mod v2;
pub mod v4;
pub mod verify;

pub use checksum::ChecksumAlgorithm;
pub use chunked::{ChunkedDecoder, Trailers};
pub use error::{AuthError, SignatureMismatch};
pub use parse::{parse, ParsedAuth, RequestParts, V2Auth, V4Auth};
pub use payload::{PayloadMode, PayloadVerifier};
pub use query::Query;
pub use verify::{
    check_scope_and_time, verify, ChunkSigningContext, PathRules, Verified, VerifyOptions,
};
