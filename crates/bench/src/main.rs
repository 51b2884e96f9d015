//! `strongbox-bench`: a load test against a running (or self-started) Strongbox server:
//! PUT/GET throughput and latency per object size, client count and server-side
//! encryption mode, the cost of authorization with many policies, and the disk's `dd`
//! bandwidth as a baseline.

mod client;
mod disk;
mod encryption;
mod policies;
mod report;
mod server;
mod server_timing;
mod setup;
mod stall;
mod stats;
mod units;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use strongbox_sigv4::sign::Credentials;

use crate::client::{Connection, Endpoint, Signer};
use crate::encryption::Encryption;
use crate::report::{AuthCost, Report, ThroughputRow};
use crate::server::ServerProcess;
use crate::workload::{Operation, Payload, PhaseConfig};

/// Load test for a Strongbox server on loopback.
#[derive(Parser, Debug)]
#[command(name = "strongbox-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    /// Endpoint of a running server (loopback only), e.g. http://127.0.0.1:9000.
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// Root access key id (for --start-server: the one the server is given).
    #[arg(
        long,
        env = "STRONGBOX_ROOT_ACCESS_KEY_ID",
        default_value = "AKIABENCHROOT0000001",
        global = true
    )]
    access_key: String,
    /// Root secret access key.
    #[arg(
        long,
        env = "STRONGBOX_ROOT_SECRET_ACCESS_KEY",
        default_value = "benchSecretKey0000000000000000000000000",
        hide_env_values = true,
        global = true
    )]
    secret_key: String,
    /// Start this `strongbox` binary on a free port with a fresh data dir, stop it at the end.
    #[arg(long, value_name = "PATH_TO_BINARY", global = true)]
    start_server: Option<PathBuf>,
    /// Parent of the temporary data dir (--start-server), and where dd measures.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Keep the temporary data dir of --start-server.
    #[arg(long, global = true)]
    keep_data: bool,
    /// Client counts (concurrent keep-alive connections), comma-separated.
    #[arg(long, default_value = "1,8,16", value_parser = |s: &str| units::parse_list(s, units::parse_count).map(List))]
    clients: List<usize>,
    /// Object sizes, comma-separated (4KiB, 64MiB, ...).
    #[arg(long, default_value = "4KiB,64MiB", value_parser = |s: &str| units::parse_list(s, units::parse_size).map(List))]
    sizes: List<u64>,
    /// Length of each phase (10s, 500ms, 1m).
    #[arg(long, default_value = "10s", value_parser = units::parse_duration)]
    duration: Duration,
    /// Also stop each phase after this many operations.
    #[arg(long)]
    ops: Option<u64>,
    /// PUT phases overwrite keys so that one phase stores at most about this much.
    #[arg(long, default_value = "2GiB", value_parser = units::parse_size)]
    max_data: u64,
    /// Clients of the authorization-cost workload.
    #[arg(long, default_value_t = 8)]
    auth_clients: usize,
    /// The authorization-cost workload runs this many rounds of a root and an IAM-user
    /// phase (each phase lasting --duration / rounds), in ABBA order so that drift
    /// affects both alike; an even count cancels a steady drift.
    #[arg(long, default_value_t = 4)]
    auth_rounds: u32,
    /// Server-side encryption of the throughput phases, comma-separated: `none` (the
    /// plaintext baseline; needs --start-server), `sse-s3`, `sse-kms` (a new KMS key).
    /// With --start-server each mode gets its own fresh server.
    #[arg(long, default_value = "sse-s3", value_parser = |s: &str| units::parse_list(s, Encryption::parse).map(List))]
    encryption: List<Encryption>,
    /// Run every encryption mode this many times, each on a fresh server, in ABBA
    /// order (the modes reversed in even rounds), so that a drift of the machine over
    /// the run affects all modes alike; the encryption-cost table compares means.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Skip the authorization-cost workload.
    #[arg(long)]
    skip_auth: bool,
    /// Skip the dd disk baseline.
    #[arg(long)]
    skip_dd: bool,
    /// Size of the dd test file.
    #[arg(long, default_value = "2GiB", value_parser = units::parse_size)]
    dd_size: u64,
    /// Region to sign for.
    #[arg(long, default_value = "us-east-1", global = true)]
    region: String,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Workloads other than the throughput run.
#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Hold N stalled, unauthenticated requests (head and all but the last byte of the
    /// body sent: half IAM with a made-up access key, half anonymous S3 XML), report the
    /// server's resident memory and whether a signed PUT+GET still succeeds meanwhile.
    Stall {
        /// Stalled connections to open.
        #[arg(long, default_value_t = 256)]
        connections: usize,
        /// How long to hold them (10s, 1m).
        #[arg(long, default_value = "10s", value_parser = units::parse_duration)]
        hold: Duration,
        /// The pid of the server at --endpoint, to read its memory (--start-server knows it).
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

/// A comma-separated list flag.
#[derive(Clone, Debug)]
struct List<T>(Vec<T>);

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Mode::Stall {
        connections,
        hold,
        server_pid,
    }) = &cli.mode
    {
        let config = stall::StallConfig {
            connections: *connections,
            hold: *hold,
            region: cli.region.clone(),
            bucket: BUCKET.to_string(),
        };
        return run_stall(&cli, &config, *server_pid);
    }
    let modes = &cli.encryption.0;
    if cli.start_server.is_none() && modes.contains(&Encryption::None) {
        eprintln!(
            "error: --encryption none needs --start-server (a server with the plaintext baseline)"
        );
        return ExitCode::FAILURE;
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    // The authorization cost is measured once, on the server of the first encrypted mode.
    let auth_mode = modes
        .iter()
        .copied()
        .find(|m| *m != Encryption::None)
        .unwrap_or(modes[0]);
    let mut report = Report {
        throughput: Vec::new(),
        auth: None,
        disk: None,
        disk_dir: String::new(),
    };
    let rounds = cli.rounds.max(1);
    let schedule: Vec<(u32, Encryption)> = (1..=rounds)
        .flat_map(|round| {
            let mut order = modes.clone();
            if round % 2 == 0 {
                order.reverse();
            }
            order.into_iter().map(move |m| (round, m))
        })
        .collect();
    for (i, &(round, mode)) in schedule.iter().enumerate() {
        // Server-Timing lets the report say where a request's time goes.
        let extra: &[&str] = match mode {
            Encryption::None => &["--server-timing", "--benchmark-plaintext-baseline"],
            _ => &["--server-timing"],
        };
        let (endpoint, mut server) = match open_endpoint(&cli, extra, mode.name()) {
            Ok(opened) => opened,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if i == 0 {
            let disk_dir = server
                .as_ref()
                .map(|s| s.data_dir.clone())
                .or_else(|| cli.data_dir.clone())
                .unwrap_or_else(std::env::temp_dir);
            if !cli.skip_dd {
                eprintln!("measuring disk bandwidth with dd in {}", disk_dir.display());
                report.disk = Some(disk::measure(&disk_dir, (cli.dd_size >> 20).max(1)));
            }
            report.disk_dir = disk_dir.display().to_string();
        }
        let with_auth = mode == auth_mode && !cli.skip_auth && report.auth.is_none();
        let result = runtime.block_on(run(&cli, &endpoint, mode, round, with_auth));
        if let Some(s) = server.as_mut() {
            s.stop(cli.keep_data);
        }
        match result {
            Ok((rows, auth)) => {
                report.throughput.extend(rows);
                report.auth = report.auth.take().or(auth);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }

    let md = report::markdown(&report);
    println!("{md}");
    if let Some(path) = &cli.markdown {
        if let Err(e) = std::fs::write(path, &md) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if let Some(path) = &cli.json {
        let text = report::to_json(&report).to_string();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// The multi-threaded runtime the workloads run on (`None` after reporting why not).
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| eprintln!("error: starting the runtime: {e}"))
        .ok()
}

/// `strongbox-bench stall`: on a server of its own (--start-server) or the given one.
fn run_stall(cli: &Cli, config: &stall::StallConfig, server_pid: Option<u32>) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let (endpoint, mut server) = match open_endpoint(cli, &[], "stall") {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let pid = server.as_ref().map(ServerProcess::pid).or(server_pid);
    let signer = Signer {
        credentials: Credentials::new(&cli.access_key, &cli.secret_key),
        region: cli.region.clone(),
    };
    let result = runtime.block_on(stall::run(&endpoint, &signer, pid, config));
    if let Some(s) = server.as_mut() {
        s.stop(cli.keep_data);
    }
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The endpoint for `mode`'s phases: a new server when --start-server (each mode its
/// own, with the plaintext baseline for `none`), else the given endpoint.
fn open_endpoint(
    cli: &Cli,
    extra: &[&str],
    label: &str,
) -> Result<(Endpoint, Option<ServerProcess>), String> {
    match (&cli.start_server, &cli.endpoint) {
        (Some(binary), _) => {
            let parent = cli.data_dir.clone().unwrap_or_else(std::env::temp_dir);
            let s = ServerProcess::start(binary, &parent, &cli.access_key, &cli.secret_key, extra)?;
            eprintln!(
                "started {} on {} for {} (data dir {})",
                binary.display(),
                s.addr,
                label,
                s.data_dir.display()
            );
            let endpoint = Endpoint {
                addr: s.addr,
                host: s.addr.to_string(),
            };
            Ok((endpoint, Some(s)))
        }
        (None, Some(url)) => Ok((client::parse_endpoint(url)?, None)),
        (None, None) => Err("give --endpoint or --start-server".into()),
    }
}

const BUCKET: &str = "strongbox-bench";
const AUTH_ROOT_BUCKET: &str = "strongbox-bench-auth-root";
const AUTH_IAM_BUCKET: &str = "strongbox-bench-auth-iam";
const AUTH_USER: &str = "strongbox-bench-user";
const AUTH_PREFIX: &str = "auth";
const AUTH_OBJECT_SIZE: u64 = 4096;

/// The throughput phases of one encryption mode, and the authorization cost if asked.
async fn run(
    cli: &Cli,
    endpoint: &Endpoint,
    mode: Encryption,
    round: u32,
    with_auth: bool,
) -> Result<(Vec<ThroughputRow>, Option<AuthCost>), String> {
    let root = Signer {
        credentials: Credentials::new(&cli.access_key, &cli.secret_key),
        region: cli.region.clone(),
    };
    let mut control = Connection::open(endpoint.clone())
        .await
        .map_err(|e| format!("connecting to {}: {e}", endpoint.host))?;
    setup::create_bucket(&mut control, &root, BUCKET)
        .await
        .map_err(|e| e.to_string())?;
    let kms_key = match mode {
        Encryption::SseKms => Some(
            setup::create_kms_key(&mut control, &root)
                .await
                .map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    let put_headers: Arc<[(String, String)]> = mode.put_headers(kms_key.as_deref()).into();

    let clients = &cli.clients.0;
    let sizes = &cli.sizes.0;
    let mut rows = Vec::new();
    for &size in sizes {
        let payload = Payload::new(size);
        for &n in clients {
            let base = PhaseConfig {
                label: String::new(),
                operation: Operation::Put,
                bucket: BUCKET.to_string(),
                prefix: format!("{}-{}-c{n}", mode.name(), units::format_size(size)),
                object_size: size,
                clients: n,
                duration: cli.duration,
                max_ops: cli.ops,
                keys_per_client: (cli.max_data / size / n as u64).max(1),
                put_headers: put_headers.clone(),
                expect_sse: mode.expected_response(),
            };
            let put = PhaseConfig {
                label: format!(
                    "PUT {} × {n} clients, {}",
                    units::format_size(size),
                    mode.name()
                ),
                ..base.clone()
            };
            let put_outcome = workload::run_phase(endpoint, &root, &put, &payload, &[])
                .await
                .map_err(|e| e.to_string())?;
            report_error(&put_outcome.first_error);
            let get = PhaseConfig {
                label: format!(
                    "GET {} × {n} clients, {}",
                    units::format_size(size),
                    mode.name()
                ),
                operation: Operation::Get,
                ..base
            };
            let get_outcome =
                workload::run_phase(endpoint, &root, &get, &payload, &put_outcome.written_keys)
                    .await
                    .map_err(|e| e.to_string())?;
            report_error(&get_outcome.first_error);
            rows.push(ThroughputRow {
                object_size: size,
                clients: n,
                operation: Operation::Put,
                encryption: mode,
                round,
                summary: put_outcome.summary,
                server_timing: put_outcome.server_timing.mean(),
            });
            rows.push(ThroughputRow {
                object_size: size,
                clients: n,
                operation: Operation::Get,
                encryption: mode,
                round,
                summary: get_outcome.summary,
                server_timing: get_outcome.server_timing.mean(),
            });
        }
    }

    let auth = if with_auth {
        let default_sse = match mode {
            Encryption::None => None,
            _ => Some("AES256"),
        };
        Some(authorization_cost(cli, endpoint, &root, &mut control, default_sse).await?)
    } else {
        None
    };
    Ok((rows, auth))
}

fn report_error(error: &Option<String>) {
    if let Some(e) = error {
        eprintln!("  first error: {e}");
    }
}

/// The same 4 KiB PUT workload as root without a bucket policy, then as an IAM user
/// with 5 identity policies into a bucket with a 20-statement bucket policy.
async fn authorization_cost(
    cli: &Cli,
    endpoint: &Endpoint,
    root: &Signer,
    control: &mut Connection,
    default_sse: Option<&'static str>,
) -> Result<AuthCost, String> {
    let err = |e: setup::SetupError| e.to_string();
    setup::create_bucket(control, root, AUTH_ROOT_BUCKET)
        .await
        .map_err(err)?;
    setup::create_bucket(control, root, AUTH_IAM_BUCKET)
        .await
        .map_err(err)?;
    let user = setup::create_user(
        control,
        root,
        AUTH_USER,
        &policies::identity_policies(AUTH_IAM_BUCKET),
    )
    .await
    .map_err(err)?;
    let policy = policies::bucket_policy(AUTH_IAM_BUCKET, &user.arn, AUTH_PREFIX);
    setup::put_bucket_policy(control, root, AUTH_IAM_BUCKET, &policy)
        .await
        .map_err(err)?;
    let iam = Signer {
        credentials: user.credentials,
        region: cli.region.clone(),
    };

    let payload = Payload::new(AUTH_OBJECT_SIZE);
    check_user_is_confined(endpoint, &iam, &payload).await?;
    let rounds = cli.auth_rounds.max(1);
    let root_config = PhaseConfig {
        label: String::new(),
        operation: Operation::Put,
        bucket: AUTH_ROOT_BUCKET.to_string(),
        prefix: AUTH_PREFIX.to_string(),
        object_size: AUTH_OBJECT_SIZE,
        clients: cli.auth_clients,
        duration: (cli.duration / rounds).max(Duration::from_secs(1)),
        max_ops: cli.ops,
        keys_per_client: (cli.max_data / AUTH_OBJECT_SIZE / cli.auth_clients as u64).max(1),
        put_headers: Arc::from(Vec::new()),
        expect_sse: default_sse,
    };
    let iam_config = PhaseConfig {
        bucket: AUTH_IAM_BUCKET.to_string(),
        ..root_config.clone()
    };
    let mut root_runs = Merged::default();
    let mut iam_runs = Merged::default();
    let mut per_round = Vec::new();
    for round in 1..=rounds {
        let mut ratio = [0.0; 2];
        let mut order = [
            (0, "root", root, &root_config, &mut root_runs),
            (1, "IAM user", &iam, &iam_config, &mut iam_runs),
        ];
        // ABBA order (root first in odd rounds, the IAM user first in even ones), so
        // that a drift over the run (the database grows) does not favour either side.
        if round % 2 == 0 {
            order.reverse();
        }
        for (i, who, signer, config, merged) in order {
            let config = PhaseConfig {
                label: format!(
                    "PUT 4KiB × {} clients, {who} ({round}/{rounds})",
                    cli.auth_clients
                ),
                ..config.clone()
            };
            let outcome = workload::run_phase(endpoint, signer, &config, &payload, &[])
                .await
                .map_err(|e| e.to_string())?;
            report_error(&outcome.first_error);
            ratio[i] = outcome.summary.ops_per_sec;
            merged.add(outcome);
        }
        per_round.push((ratio[0], ratio[1]));
    }
    Ok(AuthCost {
        clients: cli.auth_clients,
        object_size: AUTH_OBJECT_SIZE,
        root_timing: root_runs.server_timing.mean(),
        iam_timing: iam_runs.server_timing.mean(),
        root: root_runs.summary(AUTH_OBJECT_SIZE),
        iam: iam_runs.summary(AUTH_OBJECT_SIZE),
        per_round,
    })
}

/// Several phases of one workload taken together.
#[derive(Default)]
struct Merged {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
    server_timing: server_timing::TimingSums,
}

impl Merged {
    fn add(&mut self, outcome: workload::PhaseOutcome) {
        self.server_timing.merge(&outcome.server_timing);
        self.latencies.extend(outcome.latencies);
        self.errors += outcome.summary.errors;
        self.elapsed += outcome.summary.elapsed;
    }

    fn summary(self, object_size: u64) -> stats::PhaseSummary {
        stats::summarize(self.latencies, self.errors, object_size, self.elapsed)
    }
}

/// Checks that the IAM user's PUTs are allowed only through its policies: a PUT into the
/// root's bucket (no bucket policy; the identity policies name only the other bucket)
/// must be denied, otherwise the authorization-cost comparison would be meaningless.
async fn check_user_is_confined(
    endpoint: &Endpoint,
    iam: &Signer,
    payload: &Payload,
) -> Result<(), String> {
    let mut connection = Connection::open(endpoint.clone())
        .await
        .map_err(|e| e.to_string())?;
    let path = format!("/{AUTH_ROOT_BUCKET}/{AUTH_PREFIX}/confinement-probe");
    let spec = client::RequestSpec {
        method: "PUT",
        path: &path,
        query: "",
        service: "s3",
        headers: &[],
        body: payload.bytes.clone(),
        payload_hash: &payload.sha256_hex,
    };
    let answer = connection
        .send(iam, &spec, false)
        .await
        .map_err(|e| e.to_string())?;
    if answer.status == http::StatusCode::FORBIDDEN {
        Ok(())
    } else {
        Err(format!(
            "the IAM user's PUT outside its policies answered HTTP {} (expected 403); its policies are not in effect",
            answer.status
        ))
    }
}
