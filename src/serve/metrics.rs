//! seer's own telemetry, served at `GET /metrics` in the OpenMetrics text format.
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `seer_requests_total` | counter | `endpoint`, `code` | HTTP requests answered on the ingest endpoints |
//! | `seer_write_request_duration_seconds` | histogram | `endpoint` | time to decode and enqueue one write or push |
//! | `seer_samples_received_total` | counter | `endpoint` | samples accepted for scoring |
//! | `seer_samples_rejected_total` | counter | `reason` | samples in refused requests (`labels`, `overloaded`, `not_ready`) |
//! | `seer_requests_rejected_total` | counter | `reason` | refused requests, also those whose samples could not be counted (`snappy`, `protobuf`, `too_large`, `content_type`, ...) |
//! | `seer_stale_markers_total` | counter | | Prometheus stale markers received |
//! | `seer_samples_not_finite_total` | counter | | NaN and infinite values received (not scored) |
//! | `seer_samples_scored_total` | counter | | samples through the detectors |
//! | `seer_active_series` | gauge | | series in memory |
//! | `seer_queue_batches` / `seer_queue_capacity_batches` | gauge | | requests waiting to be scored, and the bound |
//! | `seer_scoring_round_duration_seconds` | histogram | | time to score one round of queued requests |
//! | `seer_model_fits_total`, `seer_model_fit_errors_total`, `seer_model_fit_seconds_total` | counter | | model refits, failed refits, and time spent in them (refits run inside scoring rounds) |
//! | `seer_notifications_total` | counter | `status`, `kind` | alert notifications made (`firing`/`resolved`; `fired`/`resent`/`resolved`) |
//! | `seer_alertmanager_notifications_total` | counter | `alertmanager`, `outcome` | per Alertmanager: `delivered`, `spooled`, `redelivered`, `dropped` |
//! | `seer_spool_notifications` | gauge | `alertmanager` | notifications waiting in the spool |
//! | `seer_checkpoint_age_seconds` | gauge | | time since the last successful checkpoint (since start when none yet) |
//! | `seer_checkpoint_duration_seconds` | gauge | | how long the last checkpoint took |
//! | `seer_checkpoints_total` | counter | `outcome` | checkpoints written (`ok`) or failed (`error`) |
//! | `seer_ready` | gauge | | 1 once state is restored and history loaded |

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::time::Millis;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointCode {
    pub endpoint: &'static str,
    pub code: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Endpoint {
    pub endpoint: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusKind {
    pub status: &'static str,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Delivery {
    pub alertmanager: String,
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Alertmanager {
    pub alertmanager: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    pub outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<EndpointCode, Counter>,
    pub request_duration: HistogramFamily<Endpoint>,
    pub samples_received: Family<Endpoint, Counter>,
    pub samples_rejected: Family<Reason, Counter>,
    pub requests_rejected: Family<Reason, Counter>,
    pub stale_markers: Counter,
    pub not_finite: Counter,
    pub samples_scored: Counter,
    pub active_series: Gauge,
    pub queue_batches: Gauge,
    pub queue_capacity: Gauge,
    pub scoring_duration: Histogram,
    pub fits: Counter,
    pub fit_errors: Counter,
    pub fit_seconds: Counter<f64, AtomicU64>,
    pub notifications: Family<StatusKind, Counter>,
    pub deliveries: Family<Delivery, Counter>,
    pub spooled: Family<Alertmanager, Gauge>,
    pub checkpoint_age: Gauge<f64, AtomicU64>,
    pub checkpoint_duration: Gauge<f64, AtomicU64>,
    pub checkpoints: Family<Outcome, Counter>,
    pub ready: Gauge,
    /// When the last checkpoint finished (or the process started), for the age gauge.
    last_checkpoint_ms: AtomicI64,
    /// Fit totals already counted, so sweeps can add only what is new.
    fit_totals: std::sync::Mutex<(u64, u64, u64)>,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 26 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

impl Metrics {
    /// All metrics at zero; `now_ms` starts the checkpoint age.
    pub fn new(now_ms: Millis) -> Self {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            samples_received: Family::default(),
            samples_rejected: Family::default(),
            requests_rejected: Family::default(),
            stale_markers: Counter::default(),
            not_finite: Counter::default(),
            samples_scored: Counter::default(),
            active_series: Gauge::default(),
            queue_batches: Gauge::default(),
            queue_capacity: Gauge::default(),
            scoring_duration: latency_histogram(),
            fits: Counter::default(),
            fit_errors: Counter::default(),
            fit_seconds: Counter::default(),
            notifications: Family::default(),
            deliveries: Family::default(),
            spooled: Family::default(),
            checkpoint_age: Gauge::default(),
            checkpoint_duration: Gauge::default(),
            checkpoints: Family::default(),
            ready: Gauge::default(),
            last_checkpoint_ms: AtomicI64::new(now_ms),
            fit_totals: std::sync::Mutex::new((0, 0, 0)),
        };
        let r = &mut registry;
        r.register(
            "seer_requests",
            "HTTP requests answered on the ingest endpoints",
            m.requests.clone(),
        );
        r.register(
            "seer_write_request_duration_seconds",
            "Time to decode and enqueue one write or push request",
            m.request_duration.clone(),
        );
        r.register(
            "seer_samples_received",
            "Samples accepted for scoring",
            m.samples_received.clone(),
        );
        r.register(
            "seer_samples_rejected",
            "Samples in refused requests, by reason",
            m.samples_rejected.clone(),
        );
        r.register(
            "seer_requests_rejected",
            "Refused ingest requests, by reason",
            m.requests_rejected.clone(),
        );
        r.register(
            "seer_stale_markers",
            "Prometheus stale markers received",
            m.stale_markers.clone(),
        );
        r.register(
            "seer_samples_not_finite",
            "NaN and infinite sample values received (not scored)",
            m.not_finite.clone(),
        );
        r.register(
            "seer_samples_scored",
            "Samples through the detectors",
            m.samples_scored.clone(),
        );
        r.register(
            "seer_active_series",
            "Series in memory",
            m.active_series.clone(),
        );
        r.register(
            "seer_queue_batches",
            "Requests waiting to be scored",
            m.queue_batches.clone(),
        );
        r.register(
            "seer_queue_capacity_batches",
            "Most requests that can wait to be scored",
            m.queue_capacity.clone(),
        );
        r.register(
            "seer_scoring_round_duration_seconds",
            "Time to score one round of queued requests",
            m.scoring_duration.clone(),
        );
        r.register("seer_model_fits", "Model refits", m.fits.clone());
        r.register(
            "seer_model_fit_errors",
            "Model refits that failed (the previous fit is kept)",
            m.fit_errors.clone(),
        );
        r.register(
            "seer_model_fit_seconds",
            "Time spent in model refits",
            m.fit_seconds.clone(),
        );
        r.register(
            "seer_notifications",
            "Alert notifications made, by status and kind",
            m.notifications.clone(),
        );
        r.register(
            "seer_alertmanager_notifications",
            "Notifications per Alertmanager, by outcome",
            m.deliveries.clone(),
        );
        r.register(
            "seer_spool_notifications",
            "Notifications waiting in the spool, per Alertmanager",
            m.spooled.clone(),
        );
        r.register(
            "seer_checkpoint_age_seconds",
            "Time since the last successful checkpoint",
            m.checkpoint_age.clone(),
        );
        r.register(
            "seer_checkpoint_duration_seconds",
            "Duration of the last checkpoint",
            m.checkpoint_duration.clone(),
        );
        r.register(
            "seer_checkpoints",
            "Checkpoints by outcome",
            m.checkpoints.clone(),
        );
        r.register(
            "seer_ready",
            "1 once state is restored and history loaded",
            m.ready.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Records a checkpoint that finished at `now_ms` after `seconds`.
    pub fn checkpoint_done(&self, now_ms: Millis, seconds: f64, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.checkpoints.get_or_create(&Outcome { outcome }).inc();
        if ok {
            self.last_checkpoint_ms.store(now_ms, Ordering::Relaxed);
            self.checkpoint_duration.set(seconds);
        }
    }

    /// Adds what is new in the running fit totals (sums over all detectors).
    pub fn fit_totals(&self, fits: u64, errors: u64, micros: u64) {
        let mut seen = self.fit_totals.lock().unwrap_or_else(|e| e.into_inner());
        // Totals shrink when series are forgotten; count only growth.
        self.fits.inc_by(fits.saturating_sub(seen.0));
        self.fit_errors.inc_by(errors.saturating_sub(seen.1));
        self.fit_seconds
            .inc_by(micros.saturating_sub(seen.2) as f64 / 1e6);
        *seen = (fits, errors, micros);
    }

    /// The exposition text at `now_ms`.
    pub fn encode(&self, now_ms: Millis) -> String {
        let last = self.last_checkpoint_ms.load(Ordering::Relaxed);
        self.checkpoint_age
            .set((now_ms - last).max(0) as f64 / 1000.0);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_the_documented_names() {
        let m = Metrics::new(0);
        m.requests
            .get_or_create(&EndpointCode {
                endpoint: "write",
                code: 204,
            })
            .inc();
        m.fit_totals(3, 1, 2_000_000);
        m.fit_totals(2, 1, 2_000_000);
        let text = m.encode(5_000);
        assert!(
            text.contains("seer_requests_total{endpoint=\"write\",code=\"204\"} 1"),
            "{text}"
        );
        assert!(text.contains("seer_model_fits_total 3"), "{text}");
        assert!(text.contains("seer_model_fit_seconds_total 2.0"), "{text}");
        assert!(text.contains("seer_checkpoint_age_seconds 5.0"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
