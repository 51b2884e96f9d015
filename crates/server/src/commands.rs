//! The operator commands: opening the services, `policy eval`, `explain`, `accounts`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use strongbox_core::db::Db;
use strongbox_core::sealing::MasterKey;

use crate::config::ServeConfig;
use crate::services::Services;

/// The metadata database file inside the data dir.
pub const METADATA_DB: &str = "metadata.db";

/// The server's master key: from `STRONGBOX_MASTER_KEY`, else `DATA_DIR/master.key`.
fn master_key(data_dir: &Path) -> Result<MasterKey, String> {
    let secret = std::env::var("STRONGBOX_MASTER_KEY").ok();
    MasterKey::load(data_dir, secret.as_deref()).map_err(|e| e.to_string())
}

/// Opens every service over the data dir.
pub fn open_services(config: &ServeConfig) -> Result<Services, String> {
    let master = master_key(&config.data_dir)?;
    let db = Arc::new(Db::open(&config.data_dir.join(METADATA_DB)).map_err(|e| e.to_string())?);
    let root_key = strongbox_identity::RootKey {
        access_key_id: config.root.access_key_id.clone(),
        secret: config.root.secret_access_key.clone(),
    };
    let identity = Arc::new(
        strongbox_identity::Identity::open(db.clone(), &config.region, root_key, &master)
            .map_err(|e| e.to_string())?,
    );
    let authz = Arc::new(
        strongbox_authz::Authz::open(identity.clone(), &config.data_dir, config.decision_log)
            .map_err(|e| e.to_string())?,
    );
    let kms = Arc::new(
        strongbox_kms::Kms::with_master(db.clone(), &config.region, &master)
            .map_err(|e| e.to_string())?,
    );
    let mut s3 = strongbox_s3::S3Service::open(db.clone(), &config.data_dir, &config.region)
        .map_err(|e| e.to_string())?
        .with_sse_keys(Arc::new(crate::sse::KmsSseKeys {
            kms: kms.clone(),
            authz: authz.clone(),
        }));
    if let Some(seconds) = config.lifecycle.day_seconds {
        tracing::warn!(
            seconds,
            "lifecycle days are scaled down for tests: one lifecycle day lasts {seconds} s"
        );
        s3 = s3.with_lifecycle_day_seconds(seconds);
    }
    if config.plaintext_sse_s3 {
        tracing::warn!(
            "benchmark baseline: objects that would be SSE-S3 encrypted are stored in PLAINTEXT"
        );
        s3 = s3.with_plaintext_sse_s3_for_benchmarks();
    }
    if config.allow_sse_c_over_http {
        tracing::warn!(
            "--allow-sse-c-over-http: SSE-C customer keys are accepted on plain HTTP, in clear; for local development only"
        );
        s3 = s3.with_sse_c_over_http_allowed();
    }
    let s3 = Arc::new(s3);
    Ok(Services {
        identity,
        authz,
        s3,
        kms,
    })
}

/// `strongbox policy …`
#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Evaluate case files; with --check, compare each with its `expect` block.
    Eval {
        /// Compare against `expect` and print a pass/fail line per file and a summary.
        #[arg(long)]
        check: bool,
        /// Case files (JSON).
        files: Vec<std::path::PathBuf>,
    },
}

/// Runs `strongbox policy …`.
pub fn policy(command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Eval { check, files } => {
            let mut passed = 0usize;
            let mut failed = 0usize;
            for file in &files {
                let text = match std::fs::read_to_string(file) {
                    Ok(t) => t,
                    Err(err) => {
                        eprintln!("{}: {err}", file.display());
                        failed += 1;
                        continue;
                    }
                };
                let outcome = strongbox_policy::case::run_case(&text);
                if check {
                    match &outcome {
                        Ok(o) if o.passed => {
                            passed += 1;
                            println!("PASS {}", file.display());
                        }
                        Ok(o) => {
                            failed += 1;
                            println!("FAIL {}: {}", file.display(), o.detail);
                        }
                        Err(err) => {
                            failed += 1;
                            println!("FAIL {}: {err}", file.display());
                        }
                    }
                } else {
                    match outcome {
                        Ok(o) => {
                            println!("{}", serde_json::to_string_pretty(&o).unwrap_or_default())
                        }
                        Err(err) => {
                            eprintln!("{}: {err}", file.display());
                            failed += 1;
                        }
                    }
                }
            }
            if check {
                println!("{passed} passed, {failed} failed");
            }
            if failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Runs `strongbox explain REQUEST_ID` (or `--last`: the newest denied request).
pub fn explain(request_id: Option<&str>, last: bool, data_dir: &Path, json: bool) -> ExitCode {
    let request_id = match (request_id, last) {
        (Some(id), false) => id.to_string(),
        _ => match newest_denial(data_dir) {
            Ok(Some(id)) => id,
            Ok(None) => {
                eprintln!(
                    "no denied request in the decision log in {}",
                    data_dir.display()
                );
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!(
                    "cannot read the decision log in {}: {err}",
                    data_dir.display()
                );
                return ExitCode::FAILURE;
            }
        },
    };
    let request_id = request_id.as_str();
    // A running server writes decision records in batches (at most
    // `record::BATCH_INTERVAL` apart): a request that just ended may not be in
    // the file yet, so look again for a moment before giving up.
    let mut found = strongbox_authz::record::find(data_dir, request_id);
    for _ in 0..20 {
        if !matches!(&found, Ok(records) if records.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        found = strongbox_authz::record::find(data_dir, request_id);
    }
    match found {
        Ok(mut records) => {
            strongbox_authz::explain::annotate_why_checked(&mut records);
            if json {
                for r in &records {
                    println!("{}", serde_json::to_string(r).unwrap_or_default());
                }
            } else {
                print!("{}", strongbox_authz::explain::render(&records));
            }
            if records.is_empty() {
                if let Ok(lost) = strongbox_authz::record::lost_records(data_dir) {
                    if lost > 0 {
                        eprintln!("note: the decision log records that {lost} decision records could not be written (write failures, e.g. a full disk); this request's may be among them");
                    }
                }
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!(
                "cannot read the decision log in {}: {err}",
                data_dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// The request id of the newest denial; a running server writes in batches,
/// so the log is read again after one batch interval when nothing is there yet.
fn newest_denial(data_dir: &Path) -> std::io::Result<Option<String>> {
    if let Some(r) = strongbox_authz::denials::last_denial(data_dir)? {
        return Ok(Some(r.request_id));
    }
    std::thread::sleep(strongbox_authz::record::BATCH_INTERVAL * 10);
    Ok(strongbox_authz::denials::last_denial(data_dir)?.map(|r| r.request_id))
}

/// The filters of `strongbox denials`.
pub struct DenialsArgs {
    pub since: Option<String>,
    pub principal: Option<String>,
    pub account: Option<String>,
    pub bucket: Option<String>,
    pub action: Option<String>,
    pub limit: usize,
}

/// Runs `strongbox denials`: recent denials, newest first, as a table or JSON lines.
pub fn denials(args: DenialsArgs, data_dir: &Path, json: bool) -> ExitCode {
    use strongbox_authz::denials::{denials, parse_since, DenialFilter};
    let since = match args
        .since
        .as_deref()
        .map(|s| parse_since(s, jiff::Timestamp::now()))
    {
        None => None,
        Some(Ok(at)) => Some(at),
        Some(Err(err)) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let filter = DenialFilter {
        since,
        principal: args.principal,
        account: args.account,
        bucket: args.bucket,
        action: args.action,
    };
    let found = match denials(data_dir, &filter, args.limit) {
        Ok(found) => found,
        Err(err) => {
            eprintln!(
                "cannot read the decision log in {}: {err}",
                data_dir.display()
            );
            return ExitCode::FAILURE;
        }
    };
    if json {
        for r in &found {
            let line = serde_json::json!({
                "request_id": r.request_id,
                "time": r.time,
                "principal": r.principal,
                "principal_account": r.principal_account,
                "action": r.action,
                "resource": r.resource,
                "resource_account": r.resource_account,
                "reason": r.reason,
                "message": r.message,
            });
            println!("{line}");
        }
    } else {
        println!(
            "{:<31} {:<17} {:<44} {:<22} {:<40} REASON",
            "TIME", "REQUEST ID", "PRINCIPAL", "ACTION", "RESOURCE"
        );
        for r in &found {
            println!(
                "{:<31} {:<17} {:<44} {:<22} {:<40} {}",
                r.time, r.request_id, r.principal, r.action, r.resource, r.reason
            );
        }
    }
    ExitCode::SUCCESS
}

/// `strongbox accounts …`
#[derive(Subcommand)]
pub enum AccountsCommand {
    /// List every account with its root access key ids.
    List,
    /// Replace the root access keys of an account with a new one, printed once.
    ResetRootKey {
        /// The 12-digit account id.
        account_id: String,
    },
}

/// Runs `strongbox accounts …` directly on the data dir (the server may be stopped).
pub fn accounts(command: AccountsCommand, data_dir: &Path, region: &str) -> ExitCode {
    // An operator command works on an existing data dir only (never creates one).
    if !data_dir.join(METADATA_DB).is_file() {
        eprintln!("no Strongbox data dir at {}", data_dir.display());
        return ExitCode::FAILURE;
    }
    if let Err(err) = strongbox_core::private_files::prepare_data_dir(data_dir) {
        eprintln!("cannot check the data dir {}: {err}", data_dir.display());
        return ExitCode::FAILURE;
    }
    let master = match master_key(data_dir) {
        Ok(m) => m,
        Err(err) => {
            eprintln!("cannot load the master key: {err}");
            return ExitCode::FAILURE;
        }
    };
    let db = match Db::open(&data_dir.join(METADATA_DB)) {
        Ok(db) => Arc::new(db),
        Err(err) => {
            eprintln!(
                "cannot open {}: {err}",
                data_dir.join(METADATA_DB).display()
            );
            return ExitCode::FAILURE;
        }
    };
    // Opening the identity store (re)installs the configured root key of the
    // management account, exactly as `serve` does; it must be the same one.
    let env_key = std::env::var("STRONGBOX_ROOT_ACCESS_KEY_ID").ok();
    let env_secret = std::env::var("STRONGBOX_ROOT_SECRET_ACCESS_KEY").ok();
    let stored = data_dir.join("root-credentials.json");
    if env_key.is_none() && !stored.exists() {
        eprintln!(
            "set STRONGBOX_ROOT_ACCESS_KEY_ID / STRONGBOX_ROOT_SECRET_ACCESS_KEY as for `strongbox serve` (no stored root credentials in {})",
            data_dir.display()
        );
        return ExitCode::FAILURE;
    }
    let root = match crate::config::root_credentials(data_dir, env_key, env_secret) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("cannot read the root credentials: {err}");
            return ExitCode::FAILURE;
        }
    };
    let root_key = strongbox_identity::RootKey {
        access_key_id: root.access_key_id,
        secret: root.secret_access_key,
    };
    let identity = match strongbox_identity::Identity::open(db, region, root_key, &master) {
        Ok(i) => i,
        Err(err) => {
            eprintln!("cannot read the accounts: {err}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        AccountsCommand::List => {
            println!("{:<14} {:<11} {:<24} ROOT KEYS", "ACCOUNT", "ROLE", "NAME");
            for a in identity.list_accounts() {
                println!(
                    "{:<14} {:<11} {:<24} {}",
                    a.id,
                    if a.management { "management" } else { "member" },
                    a.name,
                    a.root_access_key_ids.join(",")
                );
            }
            ExitCode::SUCCESS
        }
        AccountsCommand::ResetRootKey { account_id } => {
            match identity.reset_root_key(&account_id) {
                Ok((key, secret)) => {
                    println!("New root credentials for account {account_id}:");
                    println!("  AWS_ACCESS_KEY_ID={key}");
                    println!("  AWS_SECRET_ACCESS_KEY={secret}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("cannot reset the root key of {account_id}: {err}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
