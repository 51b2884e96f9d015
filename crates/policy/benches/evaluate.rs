//! One request against 10 identity policies of 10 statements each, every
//! statement with conditions (the allowing statement is the very last one).

use criterion::{criterion_group, criterion_main, Criterion};
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

fn bench(c: &mut Criterion) {
    let policies: Vec<Policy> = (0..10).map(policy).collect();
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
    assert_eq!(
        evaluate(&req, &set).decision,
        strongbox_policy::Decision::Allow
    );
    c.bench_function("evaluate 10 policies x 10 statements", |b| {
        b.iter(|| evaluate(black_box(&req), black_box(&set)))
    });
    let text = policies[0].source().to_string();
    c.bench_function("parse one 10-statement policy", |b| {
        b.iter(|| Policy::parse(&PolicyKind::Identity, black_box(&text)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
