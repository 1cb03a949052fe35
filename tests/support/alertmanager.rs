//! A real Prometheus Alertmanager for integration tests.
//!
//! [`Alertmanager::start`] runs Debian's `prometheus-alertmanager` on a free loopback port with
//! its config and storage in a temporary directory, without clustering, and waits for
//! `/-/ready`. Dropping the value stops the process and removes the directory. A missing binary
//! fails the test with the command that installs it: CI installs the package, and a test that
//! skipped would prove nothing.
//!
//! The few HTTP requests the helper makes itself (readiness, `GET /api/v2/alerts`) use plain
//! HTTP/1.0 over a `TcpStream`, so the helper needs no async runtime.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's package installs the binary.
pub const DEFAULT_BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// Environment variable that overrides [`DEFAULT_BINARY`].
pub const BINARY_ENV: &str = "SEER_ALERTMANAGER_BIN";

/// A routing tree that accepts everything and notifies nobody, with INTEGRATION.md's short
/// timers.
pub const DEFAULT_CONFIG: &str = "\
route:
  receiver: blackhole
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: blackhole
";

/// How long startup may take before the test fails (measured: about 0.2 s).
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running Alertmanager; stopped on drop.
pub struct Alertmanager {
    child: Child,
    port: u16,
    log_path: PathBuf,
    binary: String,
    // Dropped after the process is stopped (fields drop in declaration order after `drop`).
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts Alertmanager with [`DEFAULT_CONFIG`].
    ///
    /// # Panics
    ///
    /// When the binary is missing (with install instructions) or Alertmanager does not become
    /// ready (with its log).
    pub fn start() -> Alertmanager {
        Alertmanager::start_with_config(DEFAULT_CONFIG)
    }

    /// Starts Alertmanager with the YAML `config`.
    ///
    /// # Panics
    ///
    /// As [`Alertmanager::start`].
    pub fn start_with_config(config: &str) -> Alertmanager {
        let binary = std::env::var(BINARY_ENV).unwrap_or_else(|_| DEFAULT_BINARY.to_string());
        assert!(
            std::path::Path::new(&binary).is_file(),
            "Alertmanager binary {binary} not found. Install it with \
             `apt-get update && apt-get install -y --no-install-recommends \
             prometheus-alertmanager`, or point {BINARY_ENV} at an alertmanager binary."
        );

        // The port is free when probed; another process could take it before Alertmanager
        // binds, so a start that fails on the address is retried with a new port.
        let mut last_log = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("create a temporary directory");
            let config_path = dir.path().join("alertmanager.yml");
            std::fs::write(&config_path, config).expect("write alertmanager.yml");
            let log_path = dir.path().join("alertmanager.log");
            let log = std::fs::File::create(&log_path).expect("create alertmanager.log");
            let port = free_port();

            let child = spawn(&binary, dir.path(), port, log);
            let mut alertmanager = Alertmanager {
                child,
                port,
                log_path,
                binary: binary.clone(),
                _dir: dir,
            };

            if alertmanager.wait_ready() {
                return alertmanager;
            }
            last_log = alertmanager.log();
            if !last_log.contains("address already in use") {
                break;
            }
        }
        panic!("Alertmanager did not become ready. Its log:\n{last_log}");
    }

    /// Stops Alertmanager (SIGKILL), as an outage would; [`Alertmanager::restart`] brings it
    /// back on the same port. Alertmanager 0.25 keeps alerts in memory only, so a restarted
    /// one lists only what is sent to it after the restart.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts Alertmanager again on the same port with the same config and data directory.
    ///
    /// # Panics
    ///
    /// When it does not become ready (with its log).
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log_path)
            .expect("open alertmanager.log");
        self.child = spawn(&self.binary, self._dir.path(), self.port, log);
        if !self.wait_ready() {
            panic!("Alertmanager did not restart. Its log:\n{}", self.log());
        }
    }

    /// Polls `/-/ready` until it answers 200 or the process exits.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if matches!(self.try_get("/-/ready"), Ok((200, _))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// The base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port Alertmanager listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything Alertmanager logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `GET path_and_query`: the status code and the body.
    ///
    /// # Panics
    ///
    /// When the request fails at the connection level.
    pub fn get(&self, path_and_query: &str) -> (u16, String) {
        self.try_get(path_and_query)
            .unwrap_or_else(|e| panic!("GET {}{path_and_query}: {e}", self.url()))
    }

    fn try_get(&self, path_and_query: &str) -> std::io::Result<(u16, String)> {
        // HTTP/1.0 so that the reply is neither chunked nor kept alive: read to the end.
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n",
            self.port
        )?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        let reply = String::from_utf8_lossy(&reply);
        let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("malformed reply: {head}")))?;
        Ok((status, body.to_string()))
    }

    /// The alerts `GET /api/v2/alerts` lists, filtered by the matchers in `filters` (such as
    /// `alertname="X"`). Resolved alerts are never listed.
    ///
    /// # Panics
    ///
    /// When the request fails or does not answer 200 with a JSON array.
    pub fn alerts(&self, filters: &[&str]) -> Vec<serde_json::Value> {
        let query: Vec<String> = filters
            .iter()
            .map(|f| format!("filter={}", percent_encode(f)))
            .collect();
        let path = format!("/api/v2/alerts?{}", query.join("&"));
        let (status, body) = self.get(&path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// Polls [`Alertmanager::alerts`] until `done` holds for the list or `timeout` passes, and
    /// returns the last list.
    pub fn wait_for_alerts(
        &self,
        filters: &[&str],
        timeout: Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let alerts = self.alerts(filters);
            if done(&alerts) || Instant::now() >= deadline {
                return alerts;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with the config and data in `dir`, listening on `port`, logging to `log`.
fn spawn(binary: &str, dir: &std::path::Path, port: u16, log: std::fs::File) -> Child {
    Command::new(binary)
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
}

/// A loopback port nobody listened on a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// Percent-encodes everything but unreserved characters, for query values.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
