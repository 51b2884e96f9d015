//! End-to-end tests of the `strongbox` binary driven by the AWS SDK for Rust.
//!
//! This crate has no library code: the tests live in `tests/` and start the real
//! server binary (`STRONGBOX_BIN`, else `target/debug/strongbox`) on a free port.
