//! End-to-end tests: the AWS SDK for Rust against the real `strongbox` binary.
//!
//! Every test starts its own server (see `server.rs`); build it first with
//! `cargo build -p strongbox`, or point `STRONGBOX_BIN` at a binary.

mod checksums;
mod clients;
mod errors;
mod http_get;
mod identity;
mod multipart;
mod objects;
mod presign;
mod server;
mod versioning;
