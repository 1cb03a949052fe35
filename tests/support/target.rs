//! A scrape target for Prometheus: one gauge whose value the test sets.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Serves `GET /metrics` with `<metric> <value + noise>` on a loopback port until dropped.
/// The noise is `((k * 7919) % 17) / 17` for the k-th scrape, the same deterministic noise
/// tests put into generated history.
pub struct Target {
    port: u16,
    value: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The test noise for the k-th sample.
pub fn noise(k: u64) -> f64 {
    ((k * 7919) % 17) as f64 / 17.0
}

impl Target {
    /// Starts serving `metric` at `value`.
    pub fn start(metric: &str, value: f64) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the target");
        let port = listener.local_addr().expect("target address").port();
        let shared = Arc::new(AtomicU64::new(value.to_bits()));
        let stop = Arc::new(AtomicBool::new(false));
        let (v, s, metric) = (Arc::clone(&shared), Arc::clone(&stop), metric.to_string());
        let thread = std::thread::spawn(move || {
            let mut k = 0u64;
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let value = f64::from_bits(v.load(Ordering::Relaxed)) + noise(k);
                k += 1;
                let body = format!("# TYPE {metric} gauge\n{metric} {value}\n");
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Target {
            port,
            value: shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:port`, as Prometheus' `instance` label will say.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Sets the base value of later scrapes.
    pub fn set(&self, value: f64) {
        self.value.store(value.to_bits(), Ordering::Relaxed);
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the flag.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
