//! A real Prometheus server for integration tests.
//!
//! [`Prometheus::start`] runs Debian's `prometheus` on a free loopback port with the test's
//! configuration and its storage in a temporary directory, and waits for `/-/ready`. Dropping
//! the value stops the process. A missing binary fails the test with the command that installs
//! it: a test that skipped would prove nothing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::alertmanager::free_port;
use super::http;

/// Where Debian's package installs the binary.
pub const DEFAULT_BINARY: &str = "/usr/bin/prometheus";

/// Environment variable that overrides [`DEFAULT_BINARY`].
pub const BINARY_ENV: &str = "SEER_PROMETHEUS_BIN";

/// How long startup may take before the test fails (measured: under 0.2 s).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running Prometheus; stopped on drop.
pub struct Prometheus {
    child: Child,
    port: u16,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus with the YAML `config`.
    ///
    /// # Panics
    ///
    /// When the binary is missing (with install instructions) or Prometheus does not become
    /// ready (with its log).
    pub fn start(config: &str) -> Prometheus {
        let binary = std::env::var(BINARY_ENV).unwrap_or_else(|_| DEFAULT_BINARY.to_string());
        assert!(
            std::path::Path::new(&binary).is_file(),
            "Prometheus binary {binary} not found. Install it with `apt-get update && \
             apt-get install -y --no-install-recommends prometheus`, or point {BINARY_ENV} at a \
             prometheus binary."
        );
        let mut last_log = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("create a temporary directory");
            let config_path = dir.path().join("prometheus.yml");
            std::fs::write(&config_path, config).expect("write prometheus.yml");
            let log_path = dir.path().join("prometheus.log");
            let log = std::fs::File::create(&log_path).expect("create prometheus.log");
            let port = free_port();
            let child = Command::new(&binary)
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                // Stuck remote_write queues would otherwise hold shutdown for a minute each.
                .arg("--storage.remote.flush-deadline=1s")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
            let mut prometheus = Prometheus {
                child,
                port,
                log_path,
                _dir: dir,
            };
            if prometheus.wait_ready() {
                return prometheus;
            }
            last_log = prometheus.log();
            if !last_log.contains("address already in use") {
                break;
            }
        }
        panic!("Prometheus did not become ready. Its log:\n{last_log}");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if matches!(http::get(self.port, "/-/ready"), Ok((200, _))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything Prometheus logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
