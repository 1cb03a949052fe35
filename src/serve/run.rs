//! Start-up, the background tasks and the shutdown sequence.
//!
//! Start-up: load the rules, bind the address, serve HTTP at once (`/-/ready` answers 503 and
//! writes get 503, which Prometheus retries), restore the checkpoint, load history, then mark
//! the service ready and start scoring.
//!
//! Shutdown (SIGTERM, SIGINT): stop accepting requests and finish those in flight, score what
//! is queued, write a final checkpoint, then give the delivery workers up to
//! [`DELIVERY_GRACE`] to send (or spool) what is left.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::config::{Overrides, ServeConfig};
use super::http::{router, AppState};
use super::metrics::{self, Metrics};
use super::scoring::Shards;
use super::spool::{self, Dispatcher};
use super::{logging, state, warm};
use crate::alert::NotificationKind;
use crate::batch::SampleBatch;
use crate::engine::{Emitted, EngineOptions};
use crate::error::Error;
use crate::rules::RuleSet;
use crate::time::Millis;

/// How long delivery workers get at shutdown to send what is left.
pub const DELIVERY_GRACE: Duration = Duration::from_secs(10);

/// The wall clock in milliseconds since the Unix epoch; read only at the service's edges.
pub fn now_ms() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM; only SIGINT stops seer");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Runs `seer serve` with `overrides` until SIGTERM or SIGINT: the whole command.
///
/// # Errors
///
/// Configuration and rule errors, an address that cannot be bound, an unreadable checkpoint or
/// history file, a failed backfill.
pub fn run(overrides: &Overrides) -> Result<(), Error> {
    let config = ServeConfig::load(overrides)?;
    logging::init(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("seer-io")
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let server = Server::bind(config).await?;
        server.run(shutdown_signal()).await
    })
}

/// A bound, not yet running, service.
#[derive(Debug)]
pub struct Server {
    config: ServeConfig,
    rules: RuleSet,
    listener: TcpListener,
    addr: SocketAddr,
}

impl Server {
    /// Loads the rules and binds the listen address.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for invalid settings or rules; [`Error::Io`] when the address cannot be
    /// bound.
    pub async fn bind(config: ServeConfig) -> Result<Self, Error> {
        config.validate("seer serve")?;
        let rules = crate::rules::load_all(&config.rules)?;
        for warning in &rules.warnings {
            tracing::warn!(problem = %warning, "rule not evaluated");
        }
        let wanted = config.socket_addr()?;
        let listener = TcpListener::bind(wanted)
            .await
            .map_err(|e| Error::io(PathBuf::from(format!("listen address {wanted}")), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io(PathBuf::from(format!("listen address {wanted}")), e))?;
        Ok(Server {
            config,
            rules,
            listener,
            addr,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then shuts down in order (see the module docs).
    ///
    /// # Errors
    ///
    /// As [`run`], for the steps after binding.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Server {
            config,
            rules,
            listener,
            addr,
        } = self;
        let metrics = Arc::new(Metrics::new(now_ms()));
        let shard_count = match config.scoring.shards {
            0 => rayon::current_num_threads(),
            n => n,
        };
        let options = EngineOptions {
            lifecycle: config.lifecycle,
            generator_url: Some(format!("http://{addr}")),
        };
        let shards = Arc::new(Shards::new(&rules, options, shard_count));
        if let Some(dir) = &config.state_dir {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let (dispatcher, workers) = spool::start(
            &config.alertmanager,
            config.spool,
            config.state_dir.as_deref(),
            Arc::clone(&metrics),
        )?;
        if dispatcher.is_empty() {
            tracing::warn!("no Alertmanager configured: alerts are only logged");
        }

        // HTTP first, so that health checks answer during the restore.
        let (queue, queue_rx) = mpsc::channel::<SampleBatch>(config.limits.queue_capacity_batches);
        let ready = Arc::new(AtomicBool::new(false));
        let app = AppState {
            queue,
            shards: Arc::clone(&shards),
            metrics: Arc::clone(&metrics),
            ready: Arc::clone(&ready),
            limits: config.limits,
        };
        let (stop_tx, stop_rx) = watch::channel(false);
        let stop_tx = Arc::new(stop_tx);
        let on_signal = Arc::clone(&stop_tx);
        tokio::spawn(async move {
            shutdown.await;
            let _ = on_signal.send(true);
        });
        let http = {
            let mut stop = stop_rx.clone();
            let service = axum::serve(listener, router(app)).with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            });
            tokio::spawn(async move { service.await })
        };
        tracing::info!(address = %addr, shards = shard_count,
            rules = shards.lock(0).engine.rule_selectors().len(), "listening");

        if let Err(e) = warm_start(&config, &shards, &metrics).await {
            let _ = stop_tx.send(true);
            let _ = http.await;
            return Err(e);
        }
        ready.store(true, Ordering::Release);
        metrics.ready.set(1);
        metrics.active_series.set(shards.series_count() as i64);
        tracing::info!("ready");

        let scoring = {
            let (shards, dispatcher, metrics) = (
                Arc::clone(&shards),
                dispatcher.clone(),
                Arc::clone(&metrics),
            );
            let per_round = config.scoring.max_batches_per_round;
            std::thread::Builder::new()
                .name("seer-scoring".into())
                .spawn(move || scoring_loop(queue_rx, &shards, &dispatcher, &metrics, per_round))
                .map_err(|e| Error::Internal(format!("cannot start the scoring thread: {e}")))?
        };
        let sweeper = tokio::spawn(sweep_loop(
            config.clone(),
            Arc::clone(&shards),
            dispatcher.clone(),
            Arc::clone(&metrics),
            stop_rx.clone(),
        ));
        let checkpointer = config.state_dir.clone().map(|dir| {
            tokio::spawn(checkpoint_loop(
                dir,
                Duration::from_secs(config.checkpoint_interval_secs),
                Arc::clone(&shards),
                Arc::clone(&metrics),
                stop_rx.clone(),
            ))
        });

        // Runs until the shutdown future completes and in-flight requests are answered.
        match http.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed"),
            Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
        }
        tracing::info!("shutting down: scoring what is queued");
        let _ = sweeper.await;
        if let Some(task) = checkpointer {
            let _ = task.await;
        }
        // The router held the queue's senders; with it gone the scoring thread drains and ends.
        let _ = tokio::task::spawn_blocking(move || scoring.join()).await;

        if let Some(dir) = &config.state_dir {
            checkpoint(dir.clone(), Arc::clone(&shards), Arc::clone(&metrics)).await;
        }
        drop(dispatcher);
        let deadline = tokio::time::sleep(DELIVERY_GRACE);
        tokio::pin!(deadline);
        for worker in workers {
            tokio::select! {
                _ = worker => {}
                _ = &mut deadline => {
                    tracing::warn!("alert delivery still busy at shutdown; the spool keeps the rest");
                    break;
                }
            }
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Restores the checkpoint, then loads history files and backfills from Prometheus.
async fn warm_start(
    config: &ServeConfig,
    shards: &Arc<Shards>,
    metrics: &Arc<Metrics>,
) -> Result<(), Error> {
    if let Some(dir) = config.state_dir.clone() {
        let started = Instant::now();
        let s = Arc::clone(shards);
        let restored = tokio::task::spawn_blocking(move || state::read(&dir, &s))
            .await
            .map_err(|e| Error::Internal(format!("restore failed: {e}")))??;
        match restored {
            Some(r) => tracing::info!(
                series = r.outcome.series,
                restored = r.outcome.watches_restored,
                detectors_reset = r.outcome.detectors_reset,
                dropped = r.outcome.watches_dropped,
                written_at = %crate::time::rfc3339(r.written_at_ms),
                duration_ms = started.elapsed().as_millis() as u64,
                "state restored from checkpoint"
            ),
            None => tracing::info!("no checkpoint yet: starting without state"),
        }
        metrics.checkpoint_done(now_ms(), 0.0, true);
    }

    let warm = &config.warm_start;
    if !warm.history.is_empty() {
        let started = Instant::now();
        let (files, s) = (warm.history.clone(), Arc::clone(shards));
        let samples = tokio::task::spawn_blocking(move || warm::load_history(&files, &s))
            .await
            .map_err(|e| Error::Internal(format!("history loading failed: {e}")))??;
        tracing::info!(
            samples,
            files = warm.history.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "history loaded"
        );
    }
    if let Some(url) = &warm.backfill_url {
        let started = Instant::now();
        let selectors: Vec<String> = shards
            .lock(0)
            .engine
            .rule_selectors()
            .iter()
            .map(|(_, s)| s.to_string())
            .collect();
        let samples = warm::backfill(
            url,
            &selectors,
            Arc::clone(shards),
            now_ms(),
            warm.backfill_window_secs as Millis * 1000,
            warm.backfill_step_secs as Millis * 1000,
            Duration::from_secs(warm.backfill_timeout_secs),
        )
        .await?;
        tracing::info!(samples, prometheus = %url, queries = selectors.len(),
            duration_ms = started.elapsed().as_millis() as u64, "backfill loaded");
    }
    Ok(())
}

/// Scores queued requests until the queue is closed and empty.
fn scoring_loop(
    mut queue: mpsc::Receiver<SampleBatch>,
    shards: &Shards,
    dispatcher: &Dispatcher,
    metrics: &Metrics,
    per_round: usize,
) {
    while let Some(first) = queue.blocking_recv() {
        let mut batches = vec![first];
        while batches.len() < per_round {
            match queue.try_recv() {
                Ok(batch) => batches.push(batch),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let outcome = shards.score(&batches);
        let elapsed = started.elapsed();
        metrics.scoring_duration.observe(elapsed.as_secs_f64());
        metrics.samples_scored.inc_by(outcome.samples);
        tracing::debug!(
            requests = batches.len(),
            samples = outcome.samples,
            duration_ms = elapsed.as_millis() as u64,
            "scored"
        );
        publish(outcome.emitted, dispatcher, metrics);
    }
}

/// Counts and logs notifications and hands them to the delivery workers.
fn publish(emitted: Vec<Emitted>, dispatcher: &Dispatcher, metrics: &Metrics) {
    if emitted.is_empty() {
        return;
    }
    let notifications: Vec<_> = emitted.into_iter().map(|e| e.notification).collect();
    for n in &notifications {
        metrics
            .notifications
            .get_or_create(&metrics::StatusKind {
                status: n.status.as_str(),
                kind: n.kind.as_str(),
            })
            .inc();
        if n.kind != NotificationKind::Resent {
            tracing::info!(
                alert = %n.labels,
                rule = n.labels.get("alertname").unwrap_or(""),
                status = n.status.as_str(),
                value = n.annotations.get("value").map(String::as_str).unwrap_or(""),
                "alert {}", n.kind
            );
        }
    }
    dispatcher.send(&notifications);
}

/// Every `sweep_interval_secs`: alerts of silent series, forgotten series, gauges.
async fn sweep_loop(
    config: ServeConfig,
    shards: Arc<Shards>,
    dispatcher: Dispatcher,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(config.sweep_interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let (s, m) = (Arc::clone(&shards), Arc::clone(&metrics));
        let (stale_ms, forget_ms) = (
            config.stale_after_secs as Millis * 1000,
            config.forget_after_secs as Millis * 1000,
        );
        let swept = tokio::task::spawn_blocking(move || {
            let result = s.sweep(now_ms(), stale_ms, forget_ms);
            m.active_series.set(s.series_count() as i64);
            let (fits, errors, micros) = s.fit_totals();
            m.fit_totals(fits, errors, micros);
            result
        })
        .await;
        match swept {
            Ok((emitted, forgotten)) => {
                if forgotten > 0 {
                    tracing::info!(series = forgotten, "silent series forgotten");
                }
                publish(emitted, &dispatcher, &metrics);
            }
            Err(e) => tracing::error!(error = %e, "sweep failed"),
        }
    }
}

/// Every `interval`: a checkpoint.
async fn checkpoint_loop(
    dir: PathBuf,
    interval: Duration,
    shards: Arc<Shards>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is immediate; the state was just restored.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        checkpoint(dir.clone(), Arc::clone(&shards), Arc::clone(&metrics)).await;
    }
}

async fn checkpoint(dir: PathBuf, shards: Arc<Shards>, metrics: Arc<Metrics>) {
    let started = Instant::now();
    let written = tokio::task::spawn_blocking(move || state::write(&dir, &shards, now_ms())).await;
    let seconds = started.elapsed().as_secs_f64();
    match written {
        Ok(Ok(w)) => {
            metrics.checkpoint_done(now_ms(), seconds, true);
            tracing::info!(
                series = w.series,
                bytes = w.bytes,
                duration_ms = (seconds * 1000.0) as u64,
                "checkpoint written"
            );
        }
        Ok(Err(e)) => {
            metrics.checkpoint_done(now_ms(), seconds, false);
            tracing::error!(error = %e, "checkpoint failed; the previous one is kept");
        }
        Err(e) => {
            metrics.checkpoint_done(now_ms(), seconds, false);
            tracing::error!(error = %e, "checkpoint task failed");
        }
    }
}
