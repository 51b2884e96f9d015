//! A short deterministic fuzz run: mutated policy documents (from the
//! conformance cases) are parsed as every kind, strictly and leniently, and
//! evaluated; nothing may panic. (`crates/policy/fuzz` has the libFuzzer target.)

use std::path::PathBuf;

use strongbox_policy::{
    evaluate, is_public_policy, Context, Policy, PolicyKind, PolicyRef, PolicySet, Principal,
    Request,
};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() as usize) % n.max(1)
    }
}

const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "*",
    "?",
    "${",
    "${aws:username}",
    "${*}",
    "${k, 'd'}",
    "\\u0000",
    "é",
    "\"Principal\"",
    "\"NotPrincipal\"",
    "\"Condition\"",
    "{\"StringLike\":{\"k\":\"*\"}}",
    "\"Resource\"",
    "arn:aws:s3:::",
    "::",
    "null",
    "true",
    "1e999",
    "-0",
    "\"2012-10-17\"",
    "/0",
    "::/0",
    "ForAllValues:",
    "IfExists",
];

fn mutate(rng: &mut Lcg, doc: &str) -> String {
    let mut s: Vec<char> = doc.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(s.len() + 1);
        match rng.below(4) {
            0 if !s.is_empty() => {
                let end = (pos + rng.below(8)).min(s.len());
                s.drain(pos.min(end)..end);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                for (i, c) in t.chars().enumerate() {
                    s.insert((pos + i).min(s.len()), c);
                }
            }
            2 => s.truncate(pos),
            _ if !s.is_empty() => {
                let p = pos.min(s.len() - 1);
                s[p] = char::from(b' ' + (rng.below(95) as u8));
            }
            _ => {}
        }
    }
    s.into_iter().collect()
}

fn documents() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/policy-eval/cases");
    let mut docs = Vec::new();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cases {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("case");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            if let Some(o) = v.as_object() {
                if o.contains_key("Statement") {
                    docs.push(v.to_string());
                }
            }
            match v {
                serde_json::Value::Object(o) => stack.extend(o.into_iter().map(|(_, v)| v)),
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
    }
    docs.sort();
    docs.dedup();
    docs
}

#[test]
fn mutated_documents_never_panic() {
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
    let principals = [
        Principal::User {
            arn: "arn:aws:iam::111122223333:user/alice".into(),
            account: "111122223333".into(),
        },
        Principal::Anonymous,
        Principal::Root {
            account: "111122223333".into(),
        },
        Principal::AssumedRole {
            session_arn: "arn:aws:sts::444455556666:assumed-role/r/s".into(),
            role_arn: "arn:aws:iam::444455556666:role/r".into(),
            account: "444455556666".into(),
        },
    ];
    let context = Context::new()
        .with("aws:SourceIp", "203.0.113.7")
        .with("aws:CurrentTime", "2025-06-01T12:00:00Z")
        .with_values("s3:RequestObjectTagKeys", ["a", "b"]);
    let docs = documents();
    assert!(docs.len() > 50);
    let mut rng = Lcg(0x5eed);
    let mut parsed = 0usize;
    for round in 0..4000 {
        let base = &docs[rng.below(docs.len())];
        let text = if round % 10 == 0 {
            base.clone()
        } else {
            mutate(&mut rng, base)
        };
        for kind in &kinds {
            let _ = Policy::parse(kind, &text);
            if let Ok(p) = Policy::parse_for_evaluation(kind, &text) {
                parsed += 1;
                let _ = is_public_policy(&p);
                let r = PolicyRef {
                    name: "p",
                    policy: &p,
                };
                let set = if kind.is_resource_based() {
                    PolicySet {
                        resource: vec![r],
                        resource_required: true,
                        ..Default::default()
                    }
                } else {
                    PolicySet {
                        identity: vec![r],
                        boundary: Some(r),
                        session: Some(vec![r]),
                        ..Default::default()
                    }
                };
                let principal = &principals[rng.below(principals.len())];
                let req = Request {
                    principal,
                    action: "s3:GetObject",
                    resource: "arn:aws:s3:::example-bucket/a/b",
                    resource_account: Some("111122223333"),
                    context: &context,
                };
                let e = evaluate(&req, &set);
                let _ = serde_json::to_string(&e.trace).expect("trace serializes");
                let _ = e.trace.to_text();
            }
        }
    }
    assert!(parsed > 1000, "only {parsed} documents parsed");
}
