//! Tests driving the handlers directly over an in-memory database.

mod iam;
mod orgs;
mod sts;
