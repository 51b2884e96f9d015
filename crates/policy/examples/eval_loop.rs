//! Times `evaluate` in a loop (POLICIES=n picks how many of the bench policies to use).

use std::hint::black_box;
use strongbox_policy::{
    evaluate, Context, Policy, PolicyKind, PolicyRef, PolicySet, Principal, Request,
};

fn policy(n: usize) -> Policy {
    let statements: Vec<String> = (0..10)
        .map(|i| {
            let last = n == 9 && i == 9;
            let bucket = if last { "example-bucket".to_string() } else { format!("bucket-{n}-{i}") };
            format!(
                r#"{{"Sid":"S{n}x{i}","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:List*"],
                "Resource":["arn:aws:s3:::{bucket}/*","arn:aws:s3:::{bucket}"],
                "Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"blue","s3:x-amz-acl":["private","bucket-owner-full-control"]}},
                "IpAddress":{{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}},
                "Bool":{{"aws:SecureTransport":"true"}}}}}}"#
            )
        })
        .collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    );
    Policy::parse(&PolicyKind::Identity, &text).expect("bench policy parses")
}

fn main() {
    let count: usize = std::env::var("POLICIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let policies: Vec<Policy> = (10 - count..10).map(policy).collect();
    let names: Vec<String> = (0..10).map(|i| format!("policy-{i}")).collect();
    let principal = Principal::User {
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        account: "111122223333".into(),
    };
    let context = Context::new()
        .with("aws:PrincipalTag/team", "blue")
        .with("s3:x-amz-acl", "private")
        .with("aws:SourceIp", "203.0.113.9")
        .with("aws:SecureTransport", "true");
    let set = PolicySet {
        identity: policies
            .iter()
            .zip(&names)
            .map(|(p, n)| PolicyRef { name: n, policy: p })
            .collect(),
        ..Default::default()
    };
    let req = Request {
        principal: &principal,
        action: "s3:PutObject",
        resource: "arn:aws:s3:::example-bucket/uploads/photo.jpg",
        resource_account: Some("111122223333"),
        context: &context,
    };
    let n: u32 = std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let t = std::time::Instant::now();
    for _ in 0..n {
        black_box(evaluate(black_box(&req), black_box(&set)));
    }
    println!(
        "{:.2} us per evaluation",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}
