//! strongbox-policy: a pure engine for the AWS IAM policy language.
//!
//! Parse and validate policies as AWS does when it stores them
//! ([`Policy::parse`]), evaluate a request against every policy type that
//! bears on it ([`evaluate`]) and explain the decision ([`Evaluation::trace`],
//! [`Evaluation::message`]). No I/O, no async, no other Strongbox crate.
//!
//! Choices where AWS's documentation is silent (kept in one place):
//! * a same-account resource-policy grant to `"*"` counts like a grant to the
//!   caller's own ARN (not limited by a boundary or session policy);
//! * `NotPrincipal` spares a caller only when every identity of its chain
//!   (account; user; or role and session) is listed; with Allow it grants as a
//!   `Principal` naming the strongest unlisted identity would (so when only the
//!   account is unlisted, it delegates to the account);
//! * when several explicit denies apply, the reason follows the evaluation
//!   order (SCP, resource, identity, boundary, session) and the others are in
//!   [`Evaluation::also`]; a cross-account request failing on both sides
//!   reports the resource side.
//!
//! ```
//! use strongbox_policy::*;
//! let kind = PolicyKind::Identity;
//! let p = Policy::parse(&kind, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#).unwrap();
//! let alice = Principal::User { arn: "arn:aws:iam::111122223333:user/alice".into(), account: "111122223333".into() };
//! let ctx = Context::new();
//! let req = Request { principal: &alice, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", resource_account: Some("111122223333"), context: &ctx };
//! let set = PolicySet { identity: vec![PolicyRef { name: "p", policy: &p }], ..Default::default() };
//! assert_eq!(evaluate(&req, &set).decision, Decision::Allow);
//! ```

mod arn;
pub mod case;
mod condition;
mod context;
mod context_keys;
mod error;
mod evaluate;
mod glob;
mod message;
mod parse;
mod policy;
mod principal;
mod public;
mod s3_actions;
mod source_map;
mod trace;
mod variables;

pub use context::Context;
pub use context_keys::has_context_value;
pub use error::PolicyError;
pub use evaluate::{
    evaluate, DecidingStatement, Decision, Evaluation, PolicyRef, PolicySet, PolicyType, Reason,
    Request,
};
pub use message::MessageStyle;
pub use policy::{Effect, Policy, PolicyKind};
pub use principal::{Grant, Principal};
pub use public::is_public_policy;
pub use source_map::{statement_positions, Position};
pub use trace::{PolicyTrace, StatementTrace, Trace};
