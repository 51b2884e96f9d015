//! The lifecycle worker's cost: one pass over a bucket of 100,000 objects (on disk,
//! SQLite in WAL mode with `synchronous=FULL`, as the server runs it), with nothing
//! to expire (a 30-day rule over fresh objects: the pass reads every version) and
//! with everything expiring (a rule whose Date has passed: every object is removed,
//! 256 per write transaction).
//!
//! `cargo bench -p strongbox-s3 --bench lifecycle` (`LIFECYCLE_BENCH_OBJECTS=N` to
//! change the bucket's size; `LIFECYCLE_BENCH_RUNS=N` the runs of each case).

use std::sync::Arc;
use std::time::{Duration, Instant};

use strongbox_core::db::Db;
use strongbox_s3::lifecycle::config::{Expiration, Filter, LifecycleConfig, Rule};
use strongbox_s3::lifecycle::worker::{run_pass, PassReport};
use strongbox_s3::lifecycle::Clock;
use strongbox_store::{Bucket, NewObject, Store};

const BUCKET: &str = "lifecycle-bench";
const WRITERS: usize = 32;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn open_store(dir: &std::path::Path) -> Arc<Store> {
    let db = Arc::new(Db::open(&dir.join("metadata.db")).expect("open the database"));
    let store = Store::open(db, dir).expect("open the store");
    store
        .meta
        .create_bucket(&Bucket::new(
            BUCKET,
            "111122223333",
            "us-east-1",
            jiff::Timestamp::now(),
        ))
        .expect("create the bucket");
    Arc::new(store)
}

/// `n` objects of 1 KiB (metadata only: the worker never reads object bytes),
/// written by concurrent writers so that commits are grouped as under load.
fn populate(store: &Store, n: usize) {
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            scope.spawn(move || {
                for i in (w..n).step_by(WRITERS) {
                    let object = NewObject {
                        bucket: BUCKET.into(),
                        key: format!("logs/{:04}/{i:08}.json", i % 1000),
                        size: 1024,
                        etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
                        owner_account: "111122223333".into(),
                        tags: vec![("tier".into(), "tmp".into())],
                        ..NewObject::default()
                    };
                    store.meta.put_object(object).expect("put an object");
                }
            });
        }
    });
}

fn configure(store: &Store, expiration: Expiration) {
    let config = LifecycleConfig {
        rules: vec![Rule {
            id: "bench".into(),
            enabled: true,
            filter: Filter {
                prefix: Some("logs/".into()),
                ..Filter::default()
            },
            expiration: Some(expiration),
            ..Rule::default()
        }],
    };
    store
        .lifecycle
        .set_lifecycle(BUCKET, Some(&config.to_json()))
        .expect("set the configuration");
}

fn pass(store: &Store) -> (Duration, PassReport) {
    let start = Instant::now();
    let report = run_pass(store, &Clock::default(), jiff::Timestamp::now()).expect("a pass");
    (start.elapsed(), report)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let n = env_number("LIFECYCLE_BENCH_OBJECTS", 100_000);
    let runs = env_number("LIFECYCLE_BENCH_RUNS", 3).max(1);
    let dir = std::env::temp_dir().join(format!(
        "strongbox-lifecycle-bench-{}",
        strongbox_core::ids::random_hex(6)
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let store = open_store(&dir);
    let start = Instant::now();
    populate(&store, n);
    println!("populated {n} objects in {:.1?}", start.elapsed());

    configure(
        &store,
        Expiration {
            days: Some(30),
            ..Expiration::default()
        },
    );
    let mut idle = Vec::new();
    for _ in 0..runs {
        let (took, report) = pass(&store);
        assert_eq!((report.scanned, report.expired_current), (n, 0));
        idle.push(took);
    }
    println!(
        "pass with nothing to expire:  median {:.1?} over {runs} runs ({idle:.1?})",
        median(idle.clone())
    );

    let mut expiring = Vec::new();
    for run in 0..runs {
        if run > 0 {
            populate(&store, n);
        }
        configure(
            &store,
            Expiration {
                date_ms: Some(0),
                ..Expiration::default()
            },
        );
        let (took, report) = pass(&store);
        assert_eq!((report.scanned, report.expired_current), (n, n));
        expiring.push(took);
    }
    println!(
        "pass with everything expiring: median {:.1?} over {runs} runs ({expiring:.1?})",
        median(expiring.clone())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
