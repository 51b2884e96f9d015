//! Test support: an authorizer over the real policy engine
//! (`strongbox-policy`) with IAM modelled as a per-principal list of allowed
//! action patterns (root users need none), recording every check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use strongbox_core::db::Db;
use strongbox_core::{
    AccessCheck, Authorizer, Caller, CallerKind, ContextEntry, DenialKind, Denied, RequestMeta,
};
use strongbox_policy::{
    evaluate, Context, Decision, MessageStyle, Policy, PolicyKind, PolicyRef, PolicySet, Principal,
    Reason,
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
    /// IAM: allowed action patterns per principal ARN.
    pub iam: Mutex<HashMap<String, Vec<String>>>,
    pub checks: Mutex<Vec<Recorded>>,
}

fn denial_kind(reason: Reason) -> DenialKind {
    match reason {
        Reason::ExplicitDenyScp => DenialKind::ExplicitDenyScp,
        Reason::ExplicitDenyResourcePolicy => DenialKind::ExplicitDenyResourcePolicy,
        Reason::ExplicitDenyIdentityPolicy => DenialKind::ExplicitDenyIdentityPolicy,
        Reason::ExplicitDenyPermissionsBoundary => DenialKind::ExplicitDenyPermissionsBoundary,
        Reason::ExplicitDenySessionPolicy => DenialKind::ExplicitDenySessionPolicy,
        Reason::NoAllowScp => DenialKind::NoAllowScp,
        Reason::NoAllowResourcePolicy => DenialKind::NoAllowResourcePolicy,
        Reason::NoAllowIdentityPolicy => DenialKind::NoAllowIdentityPolicy,
        Reason::NoAllowPermissionsBoundary => DenialKind::NoAllowPermissionsBoundary,
        Reason::NoAllowSessionPolicy => DenialKind::NoAllowSessionPolicy,
        Reason::Allowed => DenialKind::Other,
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
        let principal = Principal::from_arn(&caller.arn, caller.role_arn.as_deref()).unwrap();
        let identity_doc = self.iam.lock().unwrap().get(&caller.arn).map(|actions| {
            serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
                .to_string()
        });
        let identity = identity_doc.map(|d| Policy::parse(&PolicyKind::Identity, &d).unwrap());
        let resources: Vec<Policy> = check
            .resource_policies
            .iter()
            .map(|p| Policy::parse_for_evaluation(&PolicyKind::KeyPolicy, p.document).unwrap())
            .collect();
        let mut ctx = Context::new();
        for entry in check.context {
            ctx.insert_values(entry.key.clone(), entry.values.clone());
        }
        let set = PolicySet {
            identity: identity
                .iter()
                .map(|p| PolicyRef {
                    name: "iam",
                    policy: p,
                })
                .collect(),
            resource: resources
                .iter()
                .map(|p| PolicyRef {
                    name: "key policy",
                    policy: p,
                })
                .collect(),
            resource_required: check.resource_policy_required,
            ..Default::default()
        };
        let req = strongbox_policy::Request {
            principal: &principal,
            action: check.action,
            resource: check.resource,
            resource_account: check.resource_account,
            context: &ctx,
        };
        let eval = evaluate(&req, &set);
        if eval.decision == Decision::Allow {
            return Ok(());
        }
        Err(Denied {
            kind: denial_kind(eval.reason),
            message: eval.message(&req, MessageStyle::Iam),
            detailed: true,
        })
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
