//! The authorization step of one 4 KiB PutObject, as the server runs it: an IAM user
//! with 5 identity policies PUTs into a bucket with a 20-statement bucket policy
//! (issue 5's workload), next to the root user of the bucket's account with no
//! bucket policy. Covers gathering the policies, building the context, evaluating,
//! and serializing the decision record (the log itself is disabled here).
//!
//! `cargo bench -p strongbox-authz --bench authorize`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use strongbox_authz::Authz;
use strongbox_core::{Caller, RequestMeta};
use strongbox_s3::{S3Access, S3Check};

#[path = "../tests/common/mod.rs"]
mod common;

use common::{authz_and_root, bucket, iam, user, BUCKET};

/// A Deny whose condition never matches a loopback PUT by `bench-user`.
fn deny(sid: &str, principal: &str, action: &str, n: usize) -> String {
    let condition = [
        r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]}}"#,
        r#"{"StringLike":{"aws:UserAgent":["blocked-agent-*","*evil-scanner*"]}}"#,
        r#"{"DateGreaterThan":{"aws:CurrentTime":"2099-01-01T00:00:00Z"}}"#,
        r#"{"StringEquals":{"aws:username":["mallory","eve"]}}"#,
        r#"{"NotIpAddress":{"aws:SourceIp":["127.0.0.0/8","::1/128"]}}"#,
    ][n % 5];
    format!(
        r#"{{"Sid":"{sid}","Effect":"Deny",{principal}"Action":"{action}","Resource":"arn:aws:s3:::{BUCKET}/*","Condition":{condition}}}"#
    )
}

fn identity_policy(i: usize) -> String {
    let resource = if i == 4 {
        format!("arn:aws:s3:::{BUCKET}/*")
    } else {
        format!("arn:aws:s3:::{BUCKET}/b{i}/*")
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{},{{"Sid":"A{i}","Effect":"Allow","Action":"s3:PutObject","Resource":"{resource}"}}]}}"#,
        deny(&format!("D{i}"), "", "s3:PutObject", i)
    )
}

fn bucket_policy(user_arn: &str) -> String {
    let mut statements: Vec<String> = (0..12)
        .map(|i| {
            let principal = if i % 2 == 0 {
                format!(r#""Principal":{{"AWS":"{user_arn}"}},"#)
            } else {
                r#""Principal":"*","#.to_string()
            };
            let action = if i % 3 == 0 { "s3:*" } else { "s3:PutObject" };
            deny(&format!("Deny{i}"), &principal, action, i)
        })
        .collect();
    statements.extend((0..8).map(|i| {
        let prefix = if i == 7 { "auth".to_string() } else { format!("other-{i}") };
        format!(
            r#"{{"Sid":"Allow{i}","Effect":"Allow","Principal":{{"AWS":"{user_arn}"}},"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::{BUCKET}/{prefix}/*"}}"#
        )
    }));
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// The authorizer, the root caller, and `bench-user` with its 5 policies and a key.
fn setup() -> (Authz, Caller, Caller) {
    let (authz, root) = authz_and_root();
    let user = user(&authz, &root, "bench-user");
    for i in 0..5 {
        let name = format!("bench-{i}");
        let document = identity_policy(i);
        iam(
            &authz,
            &root,
            &[
                ("Action", "PutUserPolicy"),
                ("UserName", "bench-user"),
                ("PolicyName", &name),
                ("PolicyDocument", &document),
            ],
        );
    }
    (authz, root, user)
}

fn request_meta() -> RequestMeta {
    let mut meta = RequestMeta::local("BENCHREQUEST0001", "us-east-1");
    meta.source_ip = "127.0.0.1".parse().ok();
    meta.user_agent = Some("strongbox-bench/0.1".into());
    meta.signature_version = Some("AWS4-HMAC-SHA256".into());
    meta.auth_type = Some("REST-HEADER".into());
    meta.signature_age_ms = Some(3);
    meta.content_sha256 = Some("0".repeat(64));
    meta
}

fn authorize(c: &mut Criterion) {
    let (authz, root, user) = setup();
    let meta = request_meta();
    let with_policy = bucket(&root.account_id, Some(bucket_policy(&user.arn)));
    let without_policy = bucket(&root.account_id, None);
    let check = |bucket| S3Check {
        action: "s3:PutObject",
        bucket: Some(bucket),
        key: Some("auth/object-000017"),
        object: None,
        context: Vec::new(),
        upload_initiator: None,
    };
    let user_check = check(&with_policy);
    assert!(authz.authorize(&user, &meta, &user_check).is_ok());
    let root_check = check(&without_policy);
    assert!(authz.authorize(&root, &meta, &root_check).is_ok());
    let mut group = c.benchmark_group("authorize_put_object");
    group.bench_function("iam_user_5_policies_20_statement_bucket_policy", |b| {
        b.iter(|| black_box(authz.authorize(&user, &meta, black_box(&user_check))))
    });
    group.bench_function("root_no_bucket_policy", |b| {
        b.iter(|| black_box(authz.authorize(&root, &meta, black_box(&root_check))))
    });
    group.finish();
}

criterion_group!(benches, authorize);
criterion_main!(benches);
