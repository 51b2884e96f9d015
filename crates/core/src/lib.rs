//! Types shared along Strongbox's request path.
//!
//! A request travels: authenticate (`strongbox-sigv4`) → resolve the principal
//! ([`Caller`], `strongbox-identity`) → build the request context
//! ([`RequestMeta`], [`AccessCheck`]) → gather the policies and evaluate them
//! (`strongbox-authz` over `strongbox-policy`) → handle (`strongbox-s3`,
//! `strongbox-identity`, `strongbox-kms`) → store ([`db::Db`], `strongbox-store`).
//!
//! This crate holds only what more than one of those steps needs.

pub mod access;
pub mod caller;
pub mod compare;
pub mod db;
pub mod error;
pub mod ids;
pub mod meta;
pub mod private_files;
pub mod reserve;
pub mod sealing;
pub mod timing;
pub mod units;

pub use access::{
    AccessCheck, Authorizer, ContextEntry, DenialKind, Denied, Refusal, ResourcePolicy,
};
pub use caller::{Caller, CallerKind, FederatingUser};
pub use compare::constant_time_eq;
pub use error::AwsError;
pub use meta::RequestMeta;
