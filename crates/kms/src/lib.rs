//! strongbox-kms: a key management service that behaves like AWS KMS, and the
//! chunked object-encryption format used for SSE-S3, SSE-KMS and SSE-C.

pub mod ciphertext;
pub mod error;
pub mod grants;
pub mod master;
pub mod object_crypto;
pub mod policy_docs;
pub mod store;

pub use error::KmsError;
