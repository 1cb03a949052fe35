//! The `seer` binary as a child process, for tests that kill and restart it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::http;

/// A running `seer serve`; killed on drop.
pub struct Seer {
    child: Child,
    port: u16,
    config: PathBuf,
    log_path: PathBuf,
}

impl Seer {
    /// Runs `seer serve --config CONFIG` (which must listen on 127.0.0.1:`port`), appending its
    /// log to `log_path`, and waits until `/-/ready` answers 200.
    ///
    /// # Panics
    ///
    /// When seer exits or is not ready within a minute (with its log).
    pub fn start(config: &Path, port: u16, log_path: &Path) -> Seer {
        let mut seer = Seer {
            child: spawn(config, log_path),
            port,
            config: config.to_path_buf(),
            log_path: log_path.to_path_buf(),
        };
        seer.wait_ready();
        seer
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("seer exited with {status}. Its log:\n{}", self.log());
            }
            if matches!(http::get(self.port, "/-/ready"), Ok((200, _))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "seer was not ready within a minute. Its log:\n{}",
            self.log()
        );
    }

    /// Kills seer with SIGKILL (no checkpoint, no goodbye) and starts it again from the same
    /// configuration and state directory.
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(&self.config, &self.log_path);
        self.wait_ready();
    }

    /// Sends SIGTERM and waits for a clean exit.
    ///
    /// # Panics
    ///
    /// When seer does not exit successfully within 30 seconds.
    pub fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(
                    status.success(),
                    "seer exited with {status}:\n{}",
                    self.log()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "seer did not stop on SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path` as JSON.
    ///
    /// # Panics
    ///
    /// When the request fails or the reply is not 200 with JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// `GET path`: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http::get(self.port, path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Everything seer logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Seer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(config: &Path, log_path: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .expect("open the seer log");
    Command::new(env!("CARGO_BIN_EXE_seer"))
        .args(["serve", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone log handle"))
        .stderr(log)
        .spawn()
        .expect("run the seer binary")
}
