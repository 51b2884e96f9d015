//! Parses arbitrary bytes as every kind of policy, strictly and leniently,
//! and evaluates whatever parses: none of it may panic.
//!
//! Run: `cargo +nightly fuzz run policy_parse` in `fuzz/` (see README, "Fuzzing").

#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_policy::{
    evaluate, is_public_policy, Context, Policy, PolicyKind, PolicyRef, PolicySet, Principal,
    Request,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let kinds = [
        PolicyKind::Identity,
        PolicyKind::Bucket {
            bucket: "example-bucket".into(),
        },
        PolicyKind::KeyPolicy,
        PolicyKind::Scp,
        PolicyKind::Trust,
        PolicyKind::Session,
        PolicyKind::Boundary,
    ];
    let principal = Principal::User {
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        account: "111122223333".into(),
    };
    let context = Context::new()
        .with("aws:SourceIp", "203.0.113.7")
        .with_values("s3:RequestObjectTagKeys", ["a", "b"]);
    for kind in &kinds {
        let _ = Policy::parse(kind, text);
        if let Ok(p) = Policy::parse_for_evaluation(kind, text) {
            let _ = is_public_policy(&p);
            let r = PolicyRef {
                name: "fuzz",
                policy: &p,
            };
            let set = if kind.is_resource_based() {
                PolicySet {
                    resource: vec![r],
                    ..Default::default()
                }
            } else {
                PolicySet {
                    identity: vec![r],
                    ..Default::default()
                }
            };
            let req = Request {
                principal: &principal,
                action: "s3:GetObject",
                resource: "arn:aws:s3:::example-bucket/a/b",
                resource_account: Some("111122223333"),
                context: &context,
            };
            let e = evaluate(&req, &set);
            let _ = serde_json::to_string(&e.trace);
            let _ = e.trace.to_text();
        }
    }
});
