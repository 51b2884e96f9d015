//! Times `evaluate` in a loop, for profiling (POLICIES=n of 10 statements each,
//! ITERATIONS=n).

#[path = "../benches/fixture/mod.rs"]
mod fixture;

use std::hint::black_box;
use strongbox_policy::evaluate;

fn main() {
    let env = |name: &str, default: u32| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let workload = fixture::Workload::new(env("POLICIES", 10) as usize, 10);
    let set = workload.set();
    let req = workload.request(fixture::ALLOWED_RESOURCE);
    let n = env("ITERATIONS", 200_000);
    let t = std::time::Instant::now();
    for _ in 0..n {
        black_box(evaluate(black_box(&req), black_box(&set)));
    }
    println!(
        "{:.2} us per evaluation",
        t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}
