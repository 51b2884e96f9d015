//! The results of a run as a Markdown table (for docs/benchmarks.md) and as JSON.

use serde_json::{json, Value};

use crate::disk::DiskBaseline;
use crate::encryption::Encryption;
use crate::server_timing::ServerTiming;
use crate::stats::{format_latency, PhaseSummary};
use crate::units::format_size;
use crate::workload::Operation;

/// One throughput measurement.
pub struct ThroughputRow {
    pub object_size: u64,
    pub clients: usize,
    pub operation: Operation,
    pub encryption: Encryption,
    /// Which round of `--rounds` measured it (1-based).
    pub round: u32,
    pub summary: PhaseSummary,
    /// Mean server-side timing per request (servers run with `--server-timing`).
    pub server_timing: Option<ServerTiming>,
}

/// The authorization-cost comparison.
pub struct AuthCost {
    pub clients: usize,
    pub object_size: u64,
    pub root: PhaseSummary,
    pub iam: PhaseSummary,
    /// Mean server-side timing of the root's and the IAM user's PUTs.
    pub root_timing: Option<ServerTiming>,
    pub iam_timing: Option<ServerTiming>,
    /// Root and IAM-user ops/s of each alternating round.
    pub per_round: Vec<(f64, f64)>,
}

impl AuthCost {
    /// IAM-user throughput as a fraction of root throughput.
    pub fn throughput_ratio(&self) -> f64 {
        self.iam.ops_per_sec / self.root.ops_per_sec.max(f64::EPSILON)
    }
}

/// Everything measured in one run.
pub struct Report {
    pub throughput: Vec<ThroughputRow>,
    pub auth: Option<AuthCost>,
    pub disk: Option<DiskBaseline>,
    /// Where dd ran.
    pub disk_dir: String,
}

fn row(label: &str, s: &PhaseSummary) -> String {
    format!(
        "| {label} | {:.0} | {:.1} | {} | {} | {} | {} |",
        s.ops_per_sec,
        s.mib_per_sec,
        format_latency(s.p50),
        format_latency(s.p99),
        s.ops,
        s.errors
    )
}

/// Renders the report as Markdown.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(
        "| Size | Clients | Op | Encryption | ops/s | MiB/s | p50 | p99 | ops | errors |\n",
    );
    out.push_str("|---:|---:|:---|:---|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.throughput {
        let label = format!(
            "{} | {} | {} | {}{}",
            format_size(r.object_size),
            r.clients,
            r.operation.name(),
            r.encryption.name(),
            round_suffix(&report.throughput, r)
        );
        out.push_str(&row(&label, &r.summary));
        out.push('\n');
    }

    out.push_str(&encryption_cost(&report.throughput));
    out.push_str(&server_time(&report.throughput));

    if let Some(auth) = &report.auth {
        out.push_str(&format!(
            "\n**Authorization cost** ({} PUT, {} clients)\n\n",
            format_size(auth.object_size),
            auth.clients
        ));
        out.push_str("| Caller | ops/s | MiB/s | p50 | p99 | ops | errors |\n");
        out.push_str("|:---|---:|---:|---:|---:|---:|---:|\n");
        out.push_str(&row("root user, no bucket policy", &auth.root));
        out.push('\n');
        out.push_str(&row(
            "IAM user, 5 identity policies + 20-statement bucket policy",
            &auth.iam,
        ));
        out.push('\n');
        let ratio = auth.throughput_ratio();
        out.push_str(&format!(
            "\nIAM-user throughput / root throughput = **{ratio:.3}** ({:+.1}%); p50 {} vs {}.\n",
            (ratio - 1.0) * 100.0,
            format_latency(auth.iam.p50),
            format_latency(auth.root.p50),
        ));
        let rounds: Vec<String> = auth
            .per_round
            .iter()
            .map(|(root, iam)| {
                format!(
                    "{root:.0} vs {iam:.0} ops/s ({:.2})",
                    iam / root.max(f64::EPSILON)
                )
            })
            .collect();
        if !rounds.is_empty() {
            out.push_str(&format!(
                "Alternating rounds (root vs IAM user): {}.\n",
                rounds.join("; ")
            ));
        }
        if let (Some(root), Some(iam)) = (&auth.root_timing, &auth.iam_timing) {
            out.push_str(&format!(
                "Server time per PUT (Server-Timing means): authorization {:.3} ms (root) vs {:.3} ms (IAM user), signature check {:.3} vs {:.3} ms, whole request {:.3} vs {:.3} ms.\n",
                root.authz, iam.authz, root.authn, iam.authn, root.total, iam.total
            ));
        }
    }

    if let Some(disk) = &report.disk {
        out.push_str(&format!(
            "\n**Disk baseline** (dd in `{}`)\n\n",
            report.disk_dir
        ));
        out.push_str("| Measurement | MiB/s |\n|:---|---:|\n");
        for r in [&disk.write, &disk.read_uncached, &disk.read_cached]
            .into_iter()
            .flatten()
        {
            out.push_str(&format!("| `{}` | {:.0} |\n", r.method, r.mib_per_sec));
        }
        for note in &disk.notes {
            out.push_str(&format!("\nNote: {note}\n"));
        }
        let large: Vec<&ThroughputRow> = report
            .throughput
            .iter()
            .filter(|r| r.object_size >= 1 << 20)
            .collect();
        if !large.is_empty() {
            out.push_str("\n| Workload | MiB/s | ÷ dd write | ÷ dd read (uncached) | ÷ dd read (page cache) |\n");
            out.push_str("|:---|---:|---:|---:|---:|\n");
            let ratio = |mib: f64, base: &Option<crate::disk::DdResult>| {
                base.as_ref()
                    .map(|b| format!("{:.2}", mib / b.mib_per_sec.max(f64::EPSILON)))
                    .unwrap_or_else(|| "–".into())
            };
            for r in large {
                let mib = r.summary.mib_per_sec;
                out.push_str(&format!(
                    "| {} | {mib:.1} | {} | {} | {} |\n",
                    workload_label(r),
                    ratio(mib, &disk.write),
                    ratio(mib, &disk.read_uncached),
                    ratio(mib, &disk.read_cached),
                ));
            }
        }
    }
    out
}

/// ` (round N)` when the report holds several rounds.
fn round_suffix(rows: &[ThroughputRow], r: &ThroughputRow) -> String {
    if rows.iter().any(|x| x.round > 1) {
        format!(" (round {})", r.round)
    } else {
        String::new()
    }
}

/// The same workload (size, clients, operation) in the same mode.
fn same_workload(a: &ThroughputRow, b: &ThroughputRow) -> bool {
    a.object_size == b.object_size && a.clients == b.clients && a.operation == b.operation
}

/// Each encrypted workload's throughput next to the plaintext baseline of the same
/// size, clients and operation, as means over the rounds (empty when no `none` rows
/// were measured); with several rounds, each round's ratio too.
fn encryption_cost(rows: &[ThroughputRow]) -> String {
    let mean = |mode: Encryption, like: &ThroughputRow| {
        let values: Vec<f64> = rows
            .iter()
            .filter(|b| b.encryption == mode && same_workload(b, like))
            .map(|b| b.summary.mib_per_sec)
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let several = rows.iter().any(|r| r.round > 1);
    let mut lines = Vec::new();
    let mut seen: Vec<&ThroughputRow> = Vec::new();
    for r in rows.iter().filter(|r| r.encryption != Encryption::None) {
        if seen
            .iter()
            .any(|s| s.encryption == r.encryption && same_workload(s, r))
        {
            continue;
        }
        seen.push(r);
        let (Some(plain), Some(encrypted)) = (mean(Encryption::None, r), mean(r.encryption, r))
        else {
            continue;
        };
        let ratio = encrypted / plain.max(f64::EPSILON);
        let per_round = if several {
            let ratios: Vec<String> = rows
                .iter()
                .filter(|e| e.encryption == r.encryption && same_workload(e, r))
                .filter_map(|e| {
                    rows.iter()
                        .find(|b| {
                            b.encryption == Encryption::None
                                && b.round == e.round
                                && same_workload(b, e)
                        })
                        .map(|b| {
                            format!(
                                "{:.2}",
                                e.summary.mib_per_sec / b.summary.mib_per_sec.max(f64::EPSILON)
                            )
                        })
                })
                .collect();
            format!(" {} |", ratios.join(", "))
        } else {
            String::new()
        };
        lines.push(format!(
            "| {} {} × {} clients | {} | {:.1} | {:.1} | {:.3} | {:+.1}% |{per_round}\n",
            format_size(r.object_size),
            r.operation.name(),
            r.clients,
            r.encryption.name(),
            plain,
            encrypted,
            ratio,
            (ratio - 1.0) * 100.0
        ));
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut out = String::from(if several {
        "\n**Encryption cost** (each mode on its own fresh server per round, rounds in ABBA order; MiB/s are means over the rounds)\n\n"
    } else {
        "\n**Encryption cost** (each mode on its own fresh server)\n\n"
    });
    out.push_str("| Workload | Encryption | plaintext MiB/s | encrypted MiB/s | ratio | change |");
    out.push_str(if several { " per round |\n" } else { "\n" });
    out.push_str("|:---|:---|---:|---:|---:|---:|");
    out.push_str(if several { ":---|\n" } else { "\n" });
    for line in lines {
        out.push_str(&line);
    }
    out
}

/// Where the server's time went per request (from `Server-Timing`), for the small
/// objects whose time is not dominated by moving bytes.
fn server_time(rows: &[ThroughputRow]) -> String {
    let timed: Vec<(&ThroughputRow, &ServerTiming)> = rows
        .iter()
        .filter(|r| r.object_size <= 1 << 20)
        .filter_map(|r| r.server_timing.as_ref().map(|t| (r, t)))
        .collect();
    if timed.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n**Server time per request** (means of the `Server-Timing` header, ms; share of the request's server time)\n\n",
    );
    out.push_str("| Workload | total | signature check | authorization | waiting for the writer | metadata statements | WAL flush | KMS calls | other | check + statements | check + statements + flush |\n");
    out.push_str("|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (r, t) in timed {
        let cell = |ms: f64| format!("{ms:.3} ({:.1}%)", t.share(ms) * 100.0);
        out.push_str(&format!(
            "| {}{} | {:.3} | {} | {} | {} | {} | {} | {} | {} | {:.1}% | {:.1}% |\n",
            workload_label(r),
            round_suffix(rows, r),
            t.total,
            cell(t.authn),
            cell(t.authz),
            cell(t.queue),
            cell(t.db),
            cell(t.flush),
            cell(t.kms),
            cell(t.other()),
            t.share(t.authn + t.db) * 100.0,
            t.share(t.authn + t.db + t.flush) * 100.0,
        ));
    }
    out
}

/// `4KiB PUT × 8 clients, SSE-S3`.
fn workload_label(r: &ThroughputRow) -> String {
    format!(
        "{} {} × {} clients, {}",
        format_size(r.object_size),
        r.operation.name(),
        r.clients,
        r.encryption.name()
    )
}

fn timing_json(t: &Option<ServerTiming>) -> Value {
    match t {
        Some(t) => json!({
            "authn_ms": t.authn,
            "authz_ms": t.authz,
            "writer_wait_ms": t.queue,
            "db_ms": t.db,
            "flush_ms": t.flush,
            "total_ms": t.total,
        }),
        None => Value::Null,
    }
}

fn summary_json(s: &PhaseSummary) -> Value {
    json!({
        "ops": s.ops,
        "errors": s.errors,
        "elapsed_s": s.elapsed.as_secs_f64(),
        "ops_per_sec": s.ops_per_sec,
        "mib_per_sec": s.mib_per_sec,
        "p50_ms": s.p50.as_secs_f64() * 1000.0,
        "p99_ms": s.p99.as_secs_f64() * 1000.0,
    })
}

/// Renders the report as JSON.
pub fn to_json(report: &Report) -> Value {
    let throughput: Vec<Value> = report
        .throughput
        .iter()
        .map(|r| {
            json!({
                "object_size": r.object_size,
                "clients": r.clients,
                "operation": r.operation.name(),
                "encryption": r.encryption.name(),
                "round": r.round,
                "result": summary_json(&r.summary),
                "server_timing": timing_json(&r.server_timing),
            })
        })
        .collect();
    let auth = report.auth.as_ref().map(|a| {
        json!({
            "clients": a.clients,
            "object_size": a.object_size,
            "root": summary_json(&a.root),
            "iam_user": summary_json(&a.iam),
            "root_server_timing": timing_json(&a.root_timing),
            "iam_user_server_timing": timing_json(&a.iam_timing),
            "throughput_ratio": a.throughput_ratio(),
            "per_round_ops_per_sec": a.per_round,
        })
    });
    let disk = report.disk.as_ref().map(|d| {
        let mib = |r: &Option<crate::disk::DdResult>| r.as_ref().map(|r| r.mib_per_sec);
        json!({
            "dir": report.disk_dir,
            "write_mib_per_sec": mib(&d.write),
            "read_uncached_mib_per_sec": mib(&d.read_uncached),
            "read_cached_mib_per_sec": mib(&d.read_cached),
            "notes": d.notes,
        })
    });
    json!({ "throughput": throughput, "authorization": auth, "disk": disk })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::DdResult;
    use std::time::Duration;

    fn summary(ops_per_sec: f64, mib_per_sec: f64) -> PhaseSummary {
        PhaseSummary {
            ops: 100,
            errors: 0,
            elapsed: Duration::from_secs(1),
            ops_per_sec,
            mib_per_sec,
            p50: Duration::from_millis(2),
            p99: Duration::from_millis(9),
        }
    }

    #[test]
    fn markdown_has_rows_ratios_and_baseline() {
        let report = Report {
            throughput: vec![
                ThroughputRow {
                    round: 1,
                    object_size: 4096,
                    clients: 8,
                    operation: Operation::Put,
                    encryption: Encryption::SseS3,
                    summary: summary(1000.0, 3.9),
                    server_timing: Some(ServerTiming {
                        authn: 0.05,
                        authz: 0.01,
                        queue: 0.1,
                        db: 0.05,
                        flush: 1.5,
                        kms: 0.0,
                        total: 2.0,
                    }),
                },
                ThroughputRow {
                    round: 1,
                    object_size: 64 << 20,
                    clients: 8,
                    operation: Operation::Put,
                    encryption: Encryption::SseS3,
                    summary: summary(5.0, 320.0),
                    server_timing: None,
                },
                ThroughputRow {
                    round: 1,
                    object_size: 64 << 20,
                    clients: 8,
                    operation: Operation::Put,
                    encryption: Encryption::None,
                    summary: summary(6.25, 400.0),
                    server_timing: None,
                },
            ],
            auth: Some(AuthCost {
                clients: 8,
                object_size: 4096,
                root: summary(1000.0, 3.9),
                iam: summary(800.0, 3.1),
                root_timing: None,
                iam_timing: None,
                per_round: vec![(1000.0, 800.0)],
            }),
            disk: Some(DiskBaseline {
                write: Some(DdResult {
                    method: "w".into(),
                    mib_per_sec: 640.0,
                }),
                read_uncached: None,
                read_cached: None,
                notes: vec![],
            }),
            disk_dir: "/tmp".into(),
        };
        let md = markdown(&report);
        assert!(
            md.contains("| 4KiB | 8 | PUT | SSE-S3 | 1000 | 3.9 | 2.00 ms | 9.00 ms | 100 | 0 |")
        );
        assert!(md.contains("| 64MiB PUT × 8 clients | SSE-S3 | 400.0 | 320.0 | 0.800 | -20.0% |"));
        assert!(md.contains("**0.800** (-20.0%)"));
        assert!(md.contains("Alternating rounds (root vs IAM user): 1000 vs 800 ops/s (0.80)."));
        assert!(md.contains("| 64MiB PUT × 8 clients, SSE-S3 | 320.0 | 0.50 | – | – |"));
        assert!(md.contains("| 4KiB PUT × 8 clients, SSE-S3 | 2.000 | 0.050 (2.5%) | 0.010 (0.5%) | 0.100 (5.0%) | 0.050 (2.5%) | 1.500 (75.0%) | 0.000 (0.0%) | 0.290 (14.5%) | 5.0% | 80.0% |"), "{md}");
        let json = to_json(&report);
        assert_eq!(json["throughput"][0]["server_timing"]["flush_ms"], 1.5);
        assert_eq!(json["authorization"]["throughput_ratio"], 0.8);
        assert_eq!(json["throughput"][2]["encryption"], "none");
    }

    #[test]
    fn rounds_compare_means_and_list_each_round() {
        let row = |round, encryption, mib| ThroughputRow {
            round,
            object_size: 64 << 20,
            clients: 8,
            operation: Operation::Get,
            encryption,
            summary: summary(mib / 64.0, mib),
            server_timing: None,
        };
        let rows = vec![
            row(1, Encryption::None, 2000.0),
            row(1, Encryption::SseS3, 1800.0),
            row(2, Encryption::SseS3, 2400.0),
            row(2, Encryption::None, 2000.0),
        ];
        let md = encryption_cost(&rows);
        assert!(md.contains("ABBA"), "{md}");
        // Means 2000 and 2100: ratio 1.05; rounds 0.90 and 1.20.
        assert!(
            md.contains(
                "| 64MiB GET × 8 clients | SSE-S3 | 2000.0 | 2100.0 | 1.050 | +5.0% | 0.90, 1.20 |"
            ),
            "{md}"
        );
        assert_eq!(
            md.matches("64MiB GET").count(),
            1,
            "one line per workload: {md}"
        );
    }
}
