//! Test helpers: an in-memory store and authorizers.

use std::sync::{Arc, Mutex};

use strongbox_core::db::Db;
use strongbox_core::{AccessCheck, Authorizer, Caller, DenialKind, Denied, RequestMeta};

use crate::{Identity, RootKey};

pub const ROOT_KEY: &str = "AKIAROOTROOTROOTROOT";
pub const ROOT_SECRET: &str = "rootsecretrootsecretrootsecretrootsecret";

/// The master key of the tests' identity stores.
pub fn test_master_key() -> strongbox_core::sealing::MasterKey {
    strongbox_core::sealing::MasterKey::from_root(&[7u8; 32])
}

pub fn identity() -> Identity {
    let db = Arc::new(Db::open_in_memory().unwrap());
    Identity::open(
        db,
        "us-east-1",
        RootKey {
            access_key_id: ROOT_KEY.into(),
            secret: ROOT_SECRET.into(),
        },
        &test_master_key(),
    )
    .unwrap()
}

/// Allows callers acting in their own account (and records every check);
/// denies cross-account checks and actions listed in `deny`.
#[derive(Default)]
pub struct TestAuthz {
    pub deny: Vec<String>,
    pub checks: Mutex<Vec<String>>,
}

impl Authorizer for TestAuthz {
    fn check(
        &self,
        caller: &Caller,
        _meta: &RequestMeta,
        check: &AccessCheck<'_>,
    ) -> Result<(), Denied> {
        if let Ok(mut c) = self.checks.lock() {
            c.push(format!("{} {}", check.action, check.resource));
        }
        let same_account = check
            .resource_account
            .is_none_or(|a| a == caller.account_id);
        let trusted = check
            .resource_policies
            .iter()
            .any(|p| p.document.contains(&caller.account_id));
        let needs_policy = check.resource_policy_required && !trusted;
        if self.deny.iter().any(|d| d == check.action) || !same_account && !trusted || needs_policy
        {
            return Err(Denied {
                kind: DenialKind::NoAllowIdentityPolicy,
                message: format!(
                    "User: {} is not authorized to perform: {} on resource: {}",
                    caller.arn, check.action, check.resource
                ),
                detailed: true,
            });
        }
        Ok(())
    }
}

pub fn meta() -> RequestMeta {
    RequestMeta::local("REQ1", "us-east-1")
}

pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The root caller of the management account.
pub fn root(id: &Identity) -> Caller {
    id.lookup_key(ROOT_KEY, None, jiff::Timestamp::now())
        .unwrap()
        .caller
}

/// Text of the first `<tag>` in `xml`.
pub fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_string())
}
