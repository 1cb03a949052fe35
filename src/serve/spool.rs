//! Alert delivery that loses nothing: one worker per Alertmanager, each with a spool.
//!
//! Every notification goes to every configured Alertmanager, each through its own worker, so a
//! slow or dead Alertmanager delays only its own deliveries. A worker sends a batch (with the
//! client's retries and backoff, see [`AlertmanagerClient`]); when that fails, the batch goes
//! to the worker's spool, and so does every later batch until the spool is empty again, so
//! Alertmanager always sees an alert's notifications in the order they were made (a late
//! "firing" never overtakes a "resolved"). Every `redeliver_interval_secs` the worker retries
//! the spool from its oldest batch.
//!
//! With a state directory the spool is on disk, one JSON file per batch in
//! `spool/<hash of the URL>/` (the URL is written beside them in `alertmanager-url`), so it
//! survives restarts; without one it lives in memory. It holds at most `max_batches` batches;
//! past that the oldest are dropped and counted. A batch Alertmanager refuses with a 4xx is
//! dropped (logged and counted) rather than spooled: it would never be taken.
//!
//! # Limitations
//!
//! Notifications still in memory (not yet sent or spooled) when the process is killed with
//! SIGKILL are lost; the alert lifecycle resends firing alerts every resend interval and a
//! restored checkpoint re-sends resolutions, so Alertmanager still converges.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::config::SpoolConfig;
use super::metrics::{self, Metrics};
use crate::alert::{AlertmanagerClient, AlertmanagerConfig, Notification};
use crate::error::Error;

/// Hands notifications to every delivery worker. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Dispatcher {
    workers: Vec<mpsc::UnboundedSender<Vec<Notification>>>,
}

impl Dispatcher {
    /// Queues `notifications` for every Alertmanager. Never blocks.
    pub fn send(&self, notifications: &[Notification]) {
        if notifications.is_empty() {
            return;
        }
        for worker in &self.workers {
            // A worker only stops after every sender is gone, so this cannot fail in practice.
            let _ = worker.send(notifications.to_vec());
        }
    }

    /// True when no Alertmanager is configured.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }
}

/// Starts one worker per URL of `config`; their spools live under `state_dir/spool` when a
/// state directory is given. Returns the dispatcher and the workers' handles: they finish
/// once every clone of the dispatcher is dropped and their queues are drained.
///
/// # Errors
///
/// [`Error::Config`] for a bad Alertmanager config, [`Error::Io`] when a spool directory
/// cannot be created or read.
pub fn start(
    config: &AlertmanagerConfig,
    spool: SpoolConfig,
    state_dir: Option<&Path>,
    metrics: Arc<Metrics>,
) -> Result<(Dispatcher, Vec<JoinHandle<()>>), Error> {
    let mut dispatcher = Dispatcher::default();
    let mut handles = Vec::new();
    for url in &config.urls {
        let client = AlertmanagerClient::new(AlertmanagerConfig {
            urls: vec![url.clone()],
            ..config.clone()
        })?;
        let dir = state_dir.map(|d| spool_dir(d, url));
        let queue = Spool::open(dir, url, spool.max_batches)?;
        if !queue.is_empty() {
            tracing::info!(alertmanager = %url, batches = queue.batches.len(),
                "undelivered notifications found in the spool; delivering them");
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let worker = Worker {
            client,
            url: url.clone(),
            spool: queue,
            metrics: Arc::clone(&metrics),
            interval: Duration::from_secs(spool.redeliver_interval_secs),
        };
        handles.push(tokio::spawn(worker.run(rx)));
        dispatcher.workers.push(tx);
    }
    Ok((dispatcher, handles))
}

/// The spool directory of `url` under `state_dir`.
pub fn spool_dir(state_dir: &Path, url: &str) -> PathBuf {
    let hash = xxhash_rust::xxh3::xxh3_64(url.trim_end_matches('/').as_bytes());
    state_dir.join("spool").join(format!("{hash:016x}"))
}

struct Worker {
    client: AlertmanagerClient,
    url: String,
    spool: Spool,
    metrics: Arc<Metrics>,
    interval: Duration,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Vec<Notification>>) {
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = rx.recv() => {
                    let Some(mut batch) = received else { break };
                    while let Ok(more) = rx.try_recv() {
                        batch.extend(more);
                    }
                    self.deliver(batch).await;
                }
                _ = tick.tick() => self.redeliver().await,
            }
            self.metrics
                .spooled
                .get_or_create(&metrics::Alertmanager {
                    alertmanager: self.url.clone(),
                })
                .set(self.spool.notifications() as i64);
        }
        if !self.spool.is_empty() {
            let kept = if self.spool.dir.is_some() {
                "kept on disk for the next start"
            } else {
                "lost (no state_dir)"
            };
            tracing::warn!(alertmanager = %self.url, notifications = self.spool.notifications(),
                "undelivered notifications at shutdown: {kept}");
        }
    }

    fn count(&self, outcome: &'static str, n: usize) {
        self.metrics
            .deliveries
            .get_or_create(&metrics::Delivery {
                alertmanager: self.url.clone(),
                outcome,
            })
            .inc_by(n as u64);
    }

    async fn deliver(&mut self, batch: Vec<Notification>) {
        if self.spool.is_empty() {
            match self.client.send(&batch).await {
                Ok(()) => return self.count("delivered", batch.len()),
                Err(e) if refused(&e) => return self.refused(&e, batch.len()),
                Err(e) => tracing::warn!(alertmanager = %self.url, error = %e,
                    notifications = batch.len(), "delivery failed; spooling"),
            }
        }
        self.spool_batch(batch);
    }

    /// Alertmanager answered 4xx: it will never take this batch, so retrying is pointless.
    fn refused(&self, error: &Error, n: usize) {
        self.count("dropped", n);
        tracing::error!(alertmanager = %self.url, error = %error, notifications = n,
            "Alertmanager refused notifications; dropped");
    }

    fn spool_batch(&mut self, batch: Vec<Notification>) {
        let n = batch.len();
        match self.spool.push(batch) {
            Ok(dropped) => {
                self.count("spooled", n);
                if dropped > 0 {
                    self.count("dropped", dropped);
                    tracing::error!(alertmanager = %self.url, dropped,
                        "spool full: oldest undelivered notifications dropped");
                }
            }
            Err(e) => {
                self.count("dropped", n);
                tracing::error!(alertmanager = %self.url, error = %e,
                    notifications = n, "cannot spool undelivered notifications; dropped");
            }
        }
    }

    async fn redeliver(&mut self) {
        while let Some(batch) = self.spool.front() {
            match self.client.send(batch).await {
                Ok(()) => {
                    let n = batch.len();
                    self.spool.pop_front();
                    self.count("redelivered", n);
                    if self.spool.is_empty() {
                        tracing::info!(alertmanager = %self.url, "spool delivered");
                    }
                }
                Err(e) if refused(&e) => {
                    let n = batch.len();
                    self.spool.pop_front();
                    self.refused(&e, n);
                }
                Err(e) => {
                    tracing::debug!(alertmanager = %self.url, error = %e,
                        "Alertmanager still unreachable; spool kept");
                    return;
                }
            }
        }
    }
}

/// True when Alertmanager answered with a 4xx: [`AlertmanagerClient`] retries only connection
/// errors, timeouts and 5xx, and reports a refusal as `HTTP 4xx ...`.
fn refused(error: &Error) -> bool {
    matches!(error, Error::Remote { message, .. } if message.starts_with("HTTP 4"))
}

/// Batches waiting for one Alertmanager, oldest first, mirrored on disk when `dir` is set.
#[derive(Debug)]
struct Spool {
    dir: Option<PathBuf>,
    batches: VecDeque<(u64, Vec<Notification>)>,
    next: u64,
    max_batches: usize,
}

impl Spool {
    /// Opens (creating) the spool in `dir` and reads what an earlier run left there. A file
    /// that cannot be parsed is renamed to `*.corrupt` and skipped.
    fn open(dir: Option<PathBuf>, url: &str, max_batches: usize) -> Result<Self, Error> {
        let mut spool = Spool {
            dir: dir.clone(),
            batches: VecDeque::new(),
            next: 0,
            max_batches,
        };
        let Some(dir) = dir else { return Ok(spool) };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let marker = dir.join("alertmanager-url");
        std::fs::write(&marker, format!("{url}\n")).map_err(|e| Error::io(&marker, e))?;
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter_map(|p| {
                let seq = p
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                Some((seq, p))
            })
            .collect();
        files.sort();
        for (seq, file) in files {
            let parsed = std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            match parsed {
                Ok(batch) => spool.batches.push_back((seq, batch)),
                Err(e) => {
                    tracing::error!(file = %file.display(), error = %e,
                        "unreadable spool file; renamed to .corrupt and skipped");
                    let _ = std::fs::rename(&file, file.with_extension("corrupt"));
                }
            }
            spool.next = spool.next.max(seq + 1);
        }
        Ok(spool)
    }

    fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    fn notifications(&self) -> usize {
        self.batches.iter().map(|(_, b)| b.len()).sum()
    }

    fn file(&self, seq: u64) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{seq:020}.json")))
    }

    /// Appends a batch; returns how many notifications were dropped to stay within bounds.
    fn push(&mut self, batch: Vec<Notification>) -> std::io::Result<usize> {
        let seq = self.next;
        if let Some(path) = self.file(seq) {
            let tmp = path.with_extension("tmp");
            let body = serde_json::to_vec(&batch).map_err(std::io::Error::other)?;
            std::fs::write(&tmp, body)?;
            std::fs::File::open(&tmp)?.sync_all()?;
            std::fs::rename(&tmp, &path)?;
        }
        self.next += 1;
        self.batches.push_back((seq, batch));
        let mut dropped = 0;
        while self.batches.len() > self.max_batches {
            dropped += self.batches.front().map_or(0, |(_, b)| b.len());
            self.pop_front();
        }
        Ok(dropped)
    }

    fn front(&self) -> Option<&Vec<Notification>> {
        self.batches.front().map(|(_, b)| b)
    }

    fn pop_front(&mut self) {
        if let Some((seq, _)) = self.batches.pop_front() {
            if let Some(path) = self.file(seq) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertStatus, NotificationKind};
    use crate::series::Labels;

    fn notification(n: i64) -> Notification {
        Notification {
            kind: NotificationKind::Fired,
            status: AlertStatus::Firing,
            labels: Labels::new([("alertname", "x")]),
            annotations: Default::default(),
            starts_at: n,
            ends_at: n + 1,
            generator_url: None,
        }
    }

    #[test]
    fn only_4xx_refusals_are_final() {
        let remote = |message: &str| Error::Remote {
            peer: "http://am/api/v2/alerts".into(),
            message: message.into(),
        };
        assert!(refused(&remote(
            "HTTP 400 Bad Request: start time must be before end time"
        )));
        assert!(!refused(&remote(
            "HTTP 503 Service Unavailable: (empty body)"
        )));
        assert!(!refused(&remote("request failed: connection refused")));
    }

    #[test]
    fn spool_survives_reopening_in_order_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("am");
        let mut spool = Spool::open(Some(path.clone()), "http://a", 3).unwrap();
        for n in 0..4 {
            let dropped = spool.push(vec![notification(n)]).unwrap();
            assert_eq!(dropped, usize::from(n == 3));
        }
        spool.pop_front();
        std::fs::write(path.join("00000000000000000099.json"), b"{").unwrap();

        let reopened = Spool::open(Some(path.clone()), "http://a", 3).unwrap();
        let starts: Vec<i64> = reopened
            .batches
            .iter()
            .map(|(_, b)| b[0].starts_at)
            .collect();
        assert_eq!(starts, vec![2, 3]);
        assert_eq!(reopened.next, 100);
        assert!(path.join("00000000000000000099.corrupt").exists());
        assert_eq!(
            std::fs::read_to_string(path.join("alertmanager-url")).unwrap(),
            "http://a\n"
        );
    }
}
