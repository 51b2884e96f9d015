//! Starts the real `strongbox` binary on a free port with a fresh data directory
//! and stops it (and removes the directory) when dropped.

use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Access key id of the root user the server is started with.
pub const ROOT_ACCESS_KEY: &str = "AKIAEXAMPLEROOTKEY01";
/// Secret access key of the root user the server is started with.
pub const ROOT_SECRET_KEY: &str = "strongbox-e2e-root-secret-0123456789abcd";

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A running `strongbox serve` process.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    child: Child,
    dir: PathBuf,
}

/// Path of the server binary: `STRONGBOX_BIN`, else `$CARGO_TARGET_DIR/debug/strongbox`,
/// else the workspace's `target/debug/strongbox`.
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("STRONGBOX_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("debug").join("strongbox")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

fn log_tail(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    let start = bytes.len().saturating_sub(4000);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

impl Server {
    /// Starts a server and waits until its port accepts connections.
    /// Panics with a clear message when the binary is missing or does not start.
    pub fn start() -> Server {
        let bin = binary();
        assert!(
            bin.is_file(),
            "strongbox binary not found at {}: run `cargo build -p strongbox` first or set STRONGBOX_BIN",
            bin.display()
        );
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "strongbox-sdk-{}-{}-{}",
            std::process::id(),
            port,
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).expect("create data dir");
        let log_path = dir.join("server.log");
        let log = File::create(&log_path).expect("create server log");
        let log_err = log.try_clone().expect("clone log handle");
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args(["serve", "--listen", &addr, "--data-dir"])
            .arg(&data_dir)
            .env("STRONGBOX_ROOT_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
            .env("STRONGBOX_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
            .env(
                "STRONGBOX_LOG",
                std::env::var("STRONGBOX_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut server = Server {
            endpoint: format!("http://{addr}"),
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "strongbox exited with {status} before listening; log:\n{}",
                    log_tail(&log_path)
                );
            }
            if TcpStream::connect_timeout(
                &addr.parse().expect("socket addr"),
                Duration::from_millis(500),
            )
            .is_ok()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "strongbox did not listen on {addr} within 30 s; log:\n{}",
                log_tail(&log_path)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Writes `contents` to a file in this server's scratch directory and returns its path.
    #[allow(dead_code)]
    pub fn scratch_file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).expect("write scratch file");
        path
    }

    /// The last lines of the server's log (for failure messages).
    #[allow(dead_code)]
    pub fn log(&self) -> String {
        log_tail(&self.dir.join("server.log"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("STRONGBOX_KEEP_DATA").is_some() {
            eprintln!("strongbox data kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
