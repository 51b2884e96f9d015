//! Test support: a small stand-in for `strongbox-authz` that evaluates key
//! policies (principal, action globs, `StringEquals` conditions, explicit
//! denies), models IAM as a per-principal list of allowed action patterns
//! (root users allow everything), and records every check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use strongbox_core::db::Db;
use strongbox_core::{
    AccessCheck, Authorizer, Caller, CallerKind, ContextEntry, DenialKind, Denied, RequestMeta,
};

use crate::{JsonReply, Kms};

pub const A: &str = "111122223333";
pub const B: &str = "444455556666";
pub const REGION: &str = "us-east-1";

/// One recorded access check.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub caller: String,
    pub action: String,
    pub resource: String,
    pub policies: Vec<String>,
    pub context: Vec<ContextEntry>,
}

impl Recorded {
    pub fn value(&self, key: &str) -> Option<Vec<String>> {
        self.context
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.values.clone())
    }
}

#[derive(Default)]
pub struct TestAuthz {
    /// IAM: allowed action patterns per principal ARN (root users: everything).
    pub iam: Mutex<HashMap<String, Vec<String>>>,
    pub checks: Mutex<Vec<Recorded>>,
}

pub fn glob(pattern: &str, text: &str) -> bool {
    fn rec(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], t) || (!t.is_empty() && rec(p, &t[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => rec(&p[1..], &t[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), text.as_bytes())
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

impl TestAuthz {
    pub fn allow_iam(&self, principal: &str, actions: &[&str]) {
        self.iam
            .lock()
            .unwrap()
            .entry(principal.to_string())
            .or_default()
            .extend(actions.iter().map(|s| s.to_string()));
    }

    fn iam_allows(&self, caller: &Caller, action: &str) -> bool {
        caller.is_root()
            || self
                .iam
                .lock()
                .unwrap()
                .get(&caller.arn)
                .is_some_and(|acts| acts.iter().any(|p| glob(p, action)))
    }

    pub fn last(&self, action: &str) -> Recorded {
        self.checks
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|c| c.action == action)
            .cloned()
            .unwrap()
    }

    /// (allowed, delegated-to-IAM) by matching statements of `effect`.
    fn statements_match(
        &self,
        doc: &Value,
        effect: &str,
        caller: &Caller,
        check: &AccessCheck<'_>,
    ) -> (bool, bool) {
        let list = match &doc["Statement"] {
            Value::Array(a) => a.clone(),
            s @ Value::Object(_) => vec![s.clone()],
            _ => vec![],
        };
        let (mut direct, mut delegated) = (false, false);
        for st in list.iter().filter(|s| s["Effect"] == effect) {
            if !strings(&st["Action"]).iter().any(|p| glob(p, check.action)) {
                continue;
            }
            let conds_ok = st["Condition"]["StringEquals"].as_object().is_none_or(|m| {
                m.iter().all(|(k, want)| {
                    let have = check
                        .context
                        .iter()
                        .find(|c| c.key == *k)
                        .map(|c| c.values.clone())
                        .unwrap_or_default();
                    strings(want).iter().any(|w| have.contains(w))
                })
            });
            if !conds_ok {
                continue;
            }
            let principals = if st["Principal"] == "*" {
                vec!["*".to_string()]
            } else {
                strings(&st["Principal"]["AWS"])
            };
            for p in principals {
                if p == "*" || p == caller.arn || p == caller.principal_arn {
                    direct = true;
                } else if p == format!("arn:aws:iam::{}:root", caller.account_id) {
                    delegated = true;
                }
            }
        }
        (direct, delegated)
    }
}

impl Authorizer for TestAuthz {
    fn check(
        &self,
        caller: &Caller,
        _meta: &RequestMeta,
        check: &AccessCheck<'_>,
    ) -> Result<(), Denied> {
        self.checks.lock().unwrap().push(Recorded {
            caller: caller.arn.clone(),
            action: check.action.to_string(),
            resource: check.resource.to_string(),
            policies: check
                .resource_policies
                .iter()
                .map(|p| p.document.to_string())
                .collect(),
            context: check.context.to_vec(),
        });
        let deny = |kind: DenialKind, why: &str| Denied {
            kind,
            message: format!(
                "User: {} is not authorized to perform: {} on resource: {} because {why}",
                caller.arn, check.action, check.resource
            ),
            detailed: true,
        };
        let iam = self.iam_allows(caller, check.action);
        if check.resource_policies.is_empty() {
            let same = check
                .resource_account
                .is_none_or(|a| a == caller.account_id);
            return if iam && same {
                Ok(())
            } else {
                Err(deny(
                    DenialKind::NoAllowIdentityPolicy,
                    "no identity-based policy allows the action",
                ))
            };
        }
        let mut allowed = false;
        for p in check.resource_policies {
            let doc: Value = serde_json::from_str(p.document).unwrap_or(Value::Null);
            let (deny_direct, deny_deleg) = self.statements_match(&doc, "Deny", caller, check);
            if deny_direct || deny_deleg {
                return Err(deny(
                    DenialKind::ExplicitDenyResourcePolicy,
                    "of an explicit deny in a resource-based policy",
                ));
            }
            let (direct, delegated) = self.statements_match(&doc, "Allow", caller, check);
            let cross = check
                .resource_account
                .is_some_and(|a| a != caller.account_id);
            allowed |= (direct && (!cross || iam)) || (delegated && iam);
        }
        if allowed {
            Ok(())
        } else {
            Err(deny(
                DenialKind::NoAllowResourcePolicy,
                &format!(
                    "no resource-based policy allows the {} action",
                    check.action
                ),
            ))
        }
    }
}

pub fn user(account: &str, name: &str) -> Caller {
    let mut c = Caller::root(account, None);
    c.kind = CallerKind::User;
    c.arn = format!("arn:aws:iam::{account}:user/{name}");
    c.principal_arn = c.arn.clone();
    c.user_id = format!("AIDA{name}");
    c.user_name = Some(name.to_string());
    c
}

pub struct Harness {
    pub kms: Kms,
    pub authz: TestAuthz,
    pub meta: RequestMeta,
    pub dir: std::path::PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Harness {
    pub fn new() -> Harness {
        let db = Arc::new(Db::open_in_memory().unwrap());
        let dir =
            std::env::temp_dir().join(format!("sbkms-h-{}", strongbox_core::ids::random_hex(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let kms = Kms::open(db, &dir, REGION, None).unwrap();
        Harness {
            kms,
            authz: TestAuthz::default(),
            meta: RequestMeta::local("req", REGION),
            dir,
        }
    }

    pub fn call(&self, caller: &Caller, op: &str, body: Value) -> JsonReply {
        self.kms.handle(
            caller,
            &self.meta,
            &self.authz,
            &format!("TrentService.{op}"),
            body.to_string().as_bytes(),
        )
    }

    /// Calls and expects success.
    pub fn ok(&self, caller: &Caller, op: &str, body: Value) -> Value {
        let r = self.call(caller, op, body);
        assert_eq!(r.status, 200, "{op} failed: {}", r.body);
        serde_json::from_str(&r.body).unwrap()
    }

    /// Calls and expects an error; returns its `__type` and message.
    pub fn err(&self, caller: &Caller, op: &str, body: Value) -> (String, String) {
        let r = self.call(caller, op, body);
        assert_ne!(r.status, 200, "{op} unexpectedly succeeded: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap();
        (
            v["__type"].as_str().unwrap().to_string(),
            v["message"].as_str().unwrap_or_default().to_string(),
        )
    }

    /// Creates a key as `caller`; returns its key id.
    pub fn create_key(&self, caller: &Caller) -> String {
        let v = self.ok(caller, "CreateKey", serde_json::json!({}));
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
    }
}
