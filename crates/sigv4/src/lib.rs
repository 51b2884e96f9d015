//! AWS request authentication for Strongbox.
//!
//! Pure and synchronous: [`parse`] reads the credentials out of a request (no secret
//! needed, so the server can route by service and look the key up), [`verify`] checks the
//! signature against the secret, [`ChunkedDecoder`] decodes `aws-chunked` bodies and
//! checks every chunk signature, [`PayloadVerifier`] checks a signed SHA-256 body,
//! [`checksum`] computes the `x-amz-checksum-*` values and [`sign`] is the client side.

pub mod checksum;
pub mod chunked;
pub mod crypto;
pub mod encoding;
pub mod error;
pub mod parse;
pub mod payload;
pub mod post;
pub mod sign;
pub mod v2;
pub mod v4;
pub mod verify;

pub use checksum::ChecksumAlgorithm;
pub use chunked::{ChunkedDecoder, Trailers};
pub use error::{AuthError, SignatureMismatch};
pub use parse::{parse, ParsedAuth, RequestParts, V2Auth, V4Auth};
pub use payload::{PayloadMode, PayloadVerifier};
pub use verify::{verify, ChunkSigningContext, PathRules, Verified, VerifyOptions};
