//! One request against 10 identity policies of 10 statements each, every
//! statement with conditions (the allowing statement is the very last one).

#[path = "fixture/mod.rs"]
mod fixture;

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use strongbox_policy::{evaluate, Decision, Policy, PolicyKind};

fn bench(c: &mut Criterion) {
    let workload = fixture::Workload::new(10, 10);
    let set = workload.set();
    let req = workload.request(fixture::ALLOWED_RESOURCE);
    assert_eq!(evaluate(&req, &set).decision, Decision::Allow);
    c.bench_function("evaluate 10 policies x 10 statements", |b| {
        b.iter(|| evaluate(black_box(&req), black_box(&set)))
    });
    let text = workload.first_policy_text().to_string();
    c.bench_function("parse one 10-statement policy", |b| {
        b.iter(|| Policy::parse(&PolicyKind::Identity, black_box(&text)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
