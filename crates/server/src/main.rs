//! `strongbox`: the server and its operator commands.

mod app;
mod body;
mod commands;
mod config;
mod cors;
mod errors;
mod listener;
mod post_object;
mod s3_body;
mod services;
mod sse;
mod tls;

// Reading the request head and small bodies lives in the library half of this
// package (fuzzed in /fuzz).
use strongbox::{addressing, forms, limits};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

/// A self-hosted, S3-compatible object store whose access control behaves like AWS.
#[derive(Parser)]
#[command(name = "strongbox", version, about)]
struct Cli {
    /// How log lines are written to stderr: `text` (colour only on a terminal) or
    /// `json` (one JSON object per line).
    #[arg(
        long,
        global = true,
        env = "STRONGBOX_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// The server log's format.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr, filtered by `STRONGBOX_LOG` (default `info`).
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRONGBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: S3, IAM, STS, KMS, Organizations and S3 Control on one endpoint.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: SocketAddr,
        /// Directory for object data, metadata and logs.
        #[arg(long, default_value = "./strongbox-data")]
        data_dir: PathBuf,
        /// Region this endpoint answers for.
        #[arg(long, env = "STRONGBOX_REGION", default_value = "us-east-1")]
        region: String,
        /// Extra domains for virtual-hosted-style addressing (`bucket.DOMAIN`).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// Benchmark baseline only (hidden): objects that would be SSE-S3 encrypted are
        /// stored in plaintext and answered without `x-amz-server-side-encryption`, so
        /// that `strongbox-bench --encryption none` can measure what encryption costs.
        /// SSE-KMS and SSE-C still encrypt. Never use it for data.
        #[arg(long, hide = true)]
        benchmark_plaintext_baseline: bool,
        /// Answer every request with a `Server-Timing` header: time spent in
        /// authentication (`authn`), authorization (`authz`), metadata statements
        /// (`db`), waiting for the durable commit (`flush`), the KMS calls of SSE-KMS
        /// (`kms`), and in all (`total`), in ms.
        #[arg(long)]
        server_timing: bool,
        /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Accept AWS Signature Version 2 (`Authorization: AWS …` and `?AWSAccessKeyId=…&Signature=…`
        /// URLs). AWS has deprecated SigV2; `off` answers it with S3's `InvalidRequest`
        /// ("The authorization mechanism you have provided is not supported").
        #[arg(long, env = "STRONGBOX_SIGV2", value_enum, default_value_t = OnOff::On)]
        sigv2: OnOff,
        /// Open connections at most; past it a new connection is accepted and closed at once.
        #[arg(long, env = "STRONGBOX_MAX_CONNECTIONS", default_value_t = limits::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
        max_connections: u32,
        /// Requests reading a body before their signature is verified (IAM, STS, KMS and
        /// Organizations bodies; anonymous S3 requests with a body), at most; past it they
        /// are answered 503 (`SlowDown` on S3).
        #[arg(long, env = "STRONGBOX_MAX_UNAUTHENTICATED", default_value_t = limits::DEFAULT_MAX_UNAUTHENTICATED, value_parser = clap::value_parser!(u32).range(1..))]
        max_unauthenticated: u32,
        /// Bytes the bodies of those requests may take in all, each counted as its
        /// Content-Length up to its API's cap (1 MiB; 4 MiB for S3 XML); at least 4MiB.
        #[arg(long, env = "STRONGBOX_UNAUTHENTICATED_BODY_BUDGET", default_value = limits::DEFAULT_UNAUTHENTICATED_BODY_BUDGET, value_parser = config::parse_budget)]
        unauthenticated_body_budget: u64,
        /// A request body that sends nothing for this long is answered `400 RequestTimeout`
        /// and its connection closed (e.g. 20s, 500ms).
        #[arg(long, env = "STRONGBOX_BODY_IDLE_TIMEOUT", default_value = "20s", value_parser = config::parse_duration)]
        body_idle_timeout: std::time::Duration,
        /// How long a client may take to send a request's headers, and how long an idle
        /// keep-alive connection is kept (e.g. 30s).
        #[arg(long, env = "STRONGBOX_HEADER_TIMEOUT", default_value = "30s", value_parser = config::parse_duration)]
        header_timeout: std::time::Duration,
        /// Local development only: accept SSE-C (customer-provided keys) over plain
        /// HTTP. S3 refuses SSE-C without TLS (400 InvalidRequest), since the key
        /// travels in every request; so does Strongbox unless this is set.
        /// The variable takes true/false, 1/0, yes/no, on/off.
        #[arg(
            long,
            env = "STRONGBOX_ALLOW_SSE_C_OVER_HTTP",
            value_parser = clap::builder::BoolishValueParser::new()
        )]
        allow_sse_c_over_http: bool,
        /// Rotate DATA_DIR/decisions.jsonl once it would grow past this size
        /// (bytes, or with a KiB/MiB/GiB or KB/MB/GB suffix; at least 4KiB).
        #[arg(long, env = "STRONGBOX_DECISION_LOG_MAX_BYTES", default_value = "64MiB",
              value_parser = config::parse_log_size)]
        decision_log_max_bytes: u64,
        /// Rotated decision log files kept (decisions.1.jsonl … decisions.N.jsonl); 0 keeps none.
        #[arg(long, env = "STRONGBOX_DECISION_LOG_KEEP", default_value_t = 8)]
        decision_log_keep: usize,
        /// Time between two passes of the lifecycle worker, which applies the buckets'
        /// lifecycle rules (expiration, noncurrent expiration, aborting incomplete
        /// multipart uploads), e.g. 60m, 30s, 500ms.
        #[arg(long, env = "STRONGBOX_LIFECYCLE_INTERVAL", default_value = "60m", value_parser = config::parse_duration)]
        lifecycle_interval: std::time::Duration,
        /// FOR TESTS ONLY: a lifecycle "day" lasts this many seconds instead of 86,400,
        /// so that rules with Days come due in seconds. Never set it on real data.
        #[arg(long, env = "STRONGBOX_LIFECYCLE_DAY_SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
        lifecycle_day_seconds: Option<u64>,
        /// Time between two deliveries of server access logs: the records buffered for
        /// each bucket with logging enabled become one object in its target bucket,
        /// e.g. 5m, 30s, 500ms.
        #[arg(long, env = "STRONGBOX_ACCESS_LOG_INTERVAL", default_value = "5m", value_parser = config::parse_duration)]
        access_log_interval: std::time::Duration,
    },
    /// Evaluate policy-evaluation case files (the conformance JSON format).
    Policy {
        #[command(subcommand)]
        command: commands::PolicyCommand,
    },
    /// Explain the authorization decisions of one request.
    Explain {
        /// The request id (`x-amz-request-id` of the response, or the `RequestId` of the error body).
        #[arg(required_unless_present = "last", conflicts_with = "last")]
        request_id: Option<String>,
        /// Explain the newest denied request instead.
        #[arg(long)]
        last: bool,
        #[arg(long, default_value = "./strongbox-data")]
        data_dir: PathBuf,
        /// Print the raw decision records as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// List recent denied requests, newest first (across rotated decision logs).
    Denials {
        /// Only denials since then: a span back from now (10m, 1h, 2d) or an RFC 3339 instant.
        #[arg(long)]
        since: Option<String>,
        /// The caller's ARN or a part of it (e.g. `user/alice`).
        #[arg(long)]
        principal: Option<String>,
        /// The caller's or the resource owner's account id.
        #[arg(long)]
        account: Option<String>,
        /// The bucket of the resource.
        #[arg(long)]
        bucket: Option<String>,
        /// The action, e.g. `s3:PutObject`.
        #[arg(long)]
        action: Option<String>,
        /// At most this many denials.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
        #[arg(long, default_value = "./strongbox-data")]
        data_dir: PathBuf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Operator commands for accounts (recovery).
    Accounts {
        #[command(subcommand)]
        command: commands::AccountsCommand,
        #[arg(long, global = true, default_value = "./strongbox-data")]
        data_dir: PathBuf,
        #[arg(
            long,
            global = true,
            env = "STRONGBOX_REGION",
            default_value = "us-east-1"
        )]
        region: String,
    },
}

/// A switch flag's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

fn main() -> ExitCode {
    // Before anything is created (and before any thread exists: the umask is
    // process-wide): every file and directory this process creates — SQLite's
    // database, WAL and shared-memory files, object data, logs, keys — is
    // owner-only, whatever the operator's umask, including files created by
    // code that takes no mode (SQLite, temporary files).
    strongbox_core::private_files::restrict_umask();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Serve {
            listen,
            data_dir,
            region,
            domains,
            benchmark_plaintext_baseline,
            server_timing,
            tls_cert,
            tls_key,
            sigv2,
            max_connections,
            max_unauthenticated,
            unauthenticated_body_budget,
            body_idle_timeout,
            header_timeout,
            allow_sse_c_over_http,
            decision_log_max_bytes,
            decision_log_keep,
            lifecycle_interval,
            lifecycle_day_seconds,
            access_log_interval,
        } => serve(config::ServeFlags {
            listen,
            data_dir,
            region,
            domains,
            plaintext_sse_s3: benchmark_plaintext_baseline,
            server_timing,
            tls: tls_cert.zip(tls_key),
            sigv2: sigv2 == OnOff::On,
            limits: limits::Limits {
                max_connections: max_connections as usize,
                max_unauthenticated: max_unauthenticated as usize,
                unauthenticated_body_budget,
                body_idle_timeout,
                header_timeout,
            },
            allow_sse_c_over_http,
            decision_log: strongbox_authz::record::LogLimits {
                max_file_bytes: decision_log_max_bytes,
                keep: decision_log_keep,
            },
            lifecycle: config::LifecycleSettings {
                interval: lifecycle_interval,
                day_seconds: lifecycle_day_seconds,
            },
            access_log_interval,
        }),
        Command::Policy { command } => commands::policy(command),
        Command::Explain {
            request_id,
            last,
            data_dir,
            json,
        } => commands::explain(request_id.as_deref(), last, &data_dir, json),
        Command::Denials {
            since,
            principal,
            account,
            bucket,
            action,
            limit,
            data_dir,
            json,
        } => commands::denials(
            commands::DenialsArgs {
                since,
                principal,
                account,
                bucket,
                action,
                limit: limit as usize,
            },
            &data_dir,
            json,
        ),
        Command::Accounts {
            command,
            data_dir,
            region,
        } => commands::accounts(command, &data_dir, &region),
    }
}

/// The shutdown line about decision records the log could not keep.
fn report_lost_decisions(stats: &strongbox_authz::record::LogStats) {
    use std::sync::atomic::Ordering;
    let failed = stats.failed.load(Ordering::Relaxed);
    let dropped = stats.dropped.load(Ordering::Relaxed);
    if failed + dropped > 0 {
        tracing::warn!(
            write_failures = failed,
            queue_full = dropped,
            "decision log: records lost since start"
        );
    } else {
        tracing::info!("decision log: no records lost");
    }
}

fn serve(flags: config::ServeFlags) -> ExitCode {
    let config::ServeFlags {
        listen,
        data_dir,
        region,
        domains,
        plaintext_sse_s3,
        server_timing,
        tls,
        sigv2,
        limits,
        allow_sse_c_over_http,
        decision_log,
        lifecycle,
        access_log_interval,
    } = flags;
    let tls = match tls
        .map(|(cert, key)| tls::acceptor(&cert, &key))
        .transpose()
    {
        Ok(acceptor) => acceptor,
        Err(err) => {
            eprintln!("cannot set up TLS: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = strongbox_core::private_files::prepare_data_dir(&data_dir) {
        eprintln!("cannot set up the data dir {}: {err}", data_dir.display());
        return ExitCode::FAILURE;
    }
    let root = match config::root_credentials(
        &data_dir,
        std::env::var("STRONGBOX_ROOT_ACCESS_KEY_ID").ok(),
        std::env::var("STRONGBOX_ROOT_SECRET_ACCESS_KEY").ok(),
    ) {
        Ok(root) => root,
        Err(err) => {
            eprintln!("cannot set up root credentials: {err}");
            return ExitCode::FAILURE;
        }
    };
    let config = config::ServeConfig {
        listen,
        data_dir,
        region,
        domains,
        root,
        plaintext_sse_s3,
        allow_sse_c_over_http,
        decision_log,
        lifecycle,
    };
    let services = match commands::open_services(&config) {
        Ok(s) => s,
        Err(err) => {
            eprintln!(
                "cannot open the data dir {}: {err}",
                config.data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let authz = services.authz.clone();
    limits::ensure_file_limit(limits.max_connections);
    let s3 = services.s3.clone();
    let app = Arc::new(app::App {
        region: config.region.clone(),
        limits,
        gates: limits::Gates::new(&limits),
        domains: addressing::Domains::new(&config.region, &config.domains),
        services,
        server_timing,
        sigv2,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(config.listen).await {
            Ok(l) => l,
            Err(err) => {
                eprintln!("cannot listen on {}: {err}", config.listen);
                return ExitCode::FAILURE;
            }
        };
        s3.spawn_lifecycle_worker(config.lifecycle.interval);
        s3.spawn_access_log_worker(access_log_interval);
        tracing::info!(listen = %config.listen, data_dir = %config.data_dir.display(), tls = tls.is_some(), "strongbox serving");
        let handler = Arc::new(move |req, connection| app.clone().handle(req, connection));
        let served = listener::serve(listener, tls, limits, handler).await;
        authz.flush_decisions(std::time::Duration::from_secs(2));
        report_lost_decisions(authz.decision_log_stats());
        match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("server error: {err}");
                ExitCode::FAILURE
            }
        }
    })
}
