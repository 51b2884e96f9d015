//! Starting and stopping a `strongbox serve` process for a run.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server started by the tool, stopped on [`ServerProcess::stop`].
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    /// The run's directory: `data/` (the data dir) and `server.log`.
    pub run_dir: PathBuf,
    pub data_dir: PathBuf,
}

fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl ServerProcess {
    /// Spawns `binary serve` (with `extra_args`) on a free loopback port with a new
    /// data dir under `parent`, and waits until it accepts connections.
    pub fn start(
        binary: &Path,
        parent: &Path,
        access_key: &str,
        secret_key: &str,
        extra_args: &[&str],
    ) -> Result<ServerProcess, String> {
        let stamp = jiff::Timestamp::now().as_millisecond();
        let run_dir = parent.join(format!("strongbox-bench-{}-{stamp}", std::process::id()));
        let data_dir = run_dir.join("data");
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
        let log = std::fs::File::create(run_dir.join("server.log"))
            .map_err(|e| format!("creating server.log: {e}"))?;
        let port = free_port().map_err(|e| format!("finding a free port: {e}"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new(binary)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(&data_dir)
            .args(extra_args)
            .env("STRONGBOX_ROOT_ACCESS_KEY_ID", access_key)
            .env("STRONGBOX_ROOT_SECRET_ACCESS_KEY", secret_key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut server = ServerProcess {
            child,
            addr,
            run_dir,
            data_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "server exited with {status}; see {}",
                    server.run_dir.join("server.log").display()
                ));
            }
            if Instant::now() > deadline {
                server.stop(false);
                return Err("server did not listen within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and removes the run
    /// directory unless `keep`.
    pub fn stop(&mut self, keep: bool) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if !keep {
            let _ = std::fs::remove_dir_all(&self.run_dir);
        }
    }
}
