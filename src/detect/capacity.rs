//! The capacity detector for `capacity_planning` rules: a trend model per series, refitted as
//! history accumulates, that says when the series will reach its threshold.
//!
//! The rules, alert condition and annotations are documented on the detector type.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::alert::template::humanize_duration;
use crate::detect::changepoint::format_level;
use crate::detect::{DetectorStats, Evidence, Verdict};
use crate::models::crossing::Crossing;
use crate::models::linear::{LinearMethod, LinearTrend};
use crate::models::smoothing::{HoltModel, TrendSelection, PHI_MAX};
use crate::time::{format_duration, rfc3339, Millis};

/// Buckets the history is averaged into.
pub const HISTORY_BUCKETS: i64 = 512;
/// Fewest closed buckets before the first fit.
pub const MIN_BUCKETS: usize = 12;
/// Probability mass of the crossing interval.
pub const CROSSING_INTERVAL: f64 = 0.95;
/// Smallest damping per bucket for `exponential_smoothing`: the trend halves in no fewer than
/// 69 buckets (13 % of the history). Stronger damping fits the last hours' wiggles as well as
/// a lasting trend does, and makes the forecast flip between "levels off soon" and "keeps
/// growing" from one refit to the next.
pub const MIN_PHI: f64 = 0.99;

/// Which trend model a capacity rule uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityModel {
    /// `linear_regression`, fitted with the given method.
    Linear(LinearMethod),
    /// `exponential_smoothing`: Holt or damped Holt, chosen by AICc.
    Smoothing,
}

impl CapacityModel {
    fn name(self) -> &'static str {
        match self {
            CapacityModel::Linear(_) => "linear_regression",
            CapacityModel::Smoothing => "exponential_smoothing",
        }
    }
}

/// Settings of one capacity detector (from a `capacity_planning` rule).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CapacityConfig {
    /// The trend model.
    pub model: CapacityModel,
    /// How far ahead a crossing alerts; > 0.
    pub forecast_window_ms: Millis,
    /// The level, in the metric's unit.
    pub threshold: f64,
    /// History the model learns from; > 0. The rules set it to the forecast window.
    pub history_ms: Millis,
    /// History needed before the first verdict. The rules set it to a tenth of the history.
    pub warmup_ms: Millis,
}

impl CapacityConfig {
    /// The settings a rule gets: history = window, warm-up = a tenth of it.
    pub fn for_window(model: CapacityModel, forecast_window_ms: Millis, threshold: f64) -> Self {
        let window = forecast_window_ms.max(1);
        CapacityConfig {
            model,
            forecast_window_ms: window,
            threshold,
            history_ms: window,
            warmup_ms: window / 10,
        }
    }

    fn bucket_ms(&self) -> Millis {
        (self.history_ms / HISTORY_BUCKETS).max(1)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Bucket {
    index: i64,
    /// Sum of (timestamp - bucket start), ms.
    offsets: f64,
    sum: f64,
    count: u32,
}

impl Bucket {
    fn point(&self, bucket_ms: Millis) -> (Millis, f64) {
        let n = self.count as f64;
        let t = self.index * bucket_ms + (self.offsets / n).round() as Millis;
        (t, self.sum / n)
    }
}

/// The latest fit, in absolute time. Not checkpointed: a restored detector refits on its
/// first sample.
#[derive(Debug, Clone, Copy)]
struct Fit {
    at_ms: Millis,
    crossing: Crossing,
    /// The model's level at `at_ms` is at or above the threshold.
    reached: bool,
    /// The model's level at `at_ms` and its change per ms there.
    level: f64,
    per_ms: f64,
    /// For damped Holt: `φ` and the step length in ms.
    damping: Option<(f64, f64)>,
    method: &'static str,
}

/// Per-series state of a `capacity_planning` rule.
///
/// # How a series is followed
///
/// 1. **History.** Samples are averaged into buckets of `history / 512` (a time-weighted
///    point per bucket: mean time, mean value), and the buckets of the last `history` are kept.
///    `history` is the rule's `forecast_window`: look back as far as you look ahead.
/// 2. **Warm-up.** Until the buckets span `warmup` (a tenth of the history) and there are at
///    least [`MIN_BUCKETS`] of them, samples are learned from, never judged.
/// 3. **Fits.** Each time a bucket closes, the model is refitted on the buckets:
///    - `linear_regression`: Theil–Sen through the bucket means (time of each mean as its
///      time), evaluated at the last sample's time (see [`crate::models::linear`]);
///    - `exponential_smoothing`: Holt or damped Holt (AICc chooses, damping per bucket at least
///      [`MIN_PHI`]) on the closed buckets as a regular series, empty buckets taking the
///      previous value (see [`crate::models::smoothing`]).
///
///    The fit gives an absolute crossing time and its 95 % interval
///    ([`Crossing`](crate::models::crossing::Crossing)).
/// 4. **Verdicts.** Each sample is judged against the latest fit: the alert condition holds
///    when the sample is at or above the threshold, or the model's level is, or the point
///    forecast reaches the threshold within `forecast_window` of the sample's time.
///
/// A gap longer than `history` restarts the series (counted as a reset).
///
/// # Annotations
///
/// | key | value |
/// |---|---|
/// | `threshold` | the level that must not be reached |
/// | `time_to_threshold` | from the sample to the crossing, e.g. `11d 23h 4m 5s`; `0s` when reached; `never` |
/// | `threshold_crossing_at` | the crossing time (RFC 3339) or `never` |
/// | `threshold_crossing_interval` | `[earliest, latest]` at 95 %, absolute times, `never` for an open end |
/// | `time_to_threshold_interval` | the same interval as durations from the sample |
/// | `forecast` | the point forecast at the end of the window |
/// | `forecast_window` | the rule's window, e.g. `30d` |
/// | `fit` | the method: `theil_sen`, `holt` or `damped_holt` |
///
/// `expected`, `lower` and `upper` are not used (NaN): a capacity alert is about the future,
/// not about how unusual the current sample is.
///
/// # Limitations
///
/// - The threshold is crossed from below: the model answers "when will usage reach X", not
///   "when will free space fall to X". For a free-space metric, alert on used space (or a
///   recording rule computing it).
/// - Fits run inline on the sample that closes a bucket: Theil–Sen over 512 buckets is about
///   130 000 pairwise slopes (milliseconds), once per bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CapacityDetector {
    config: CapacityConfig,
    stats: DetectorStats,
    buckets: VecDeque<Bucket>,
    last_ts: Option<Millis>,
    first_ts: Option<Millis>,
    /// The newest bucket when a fit was last attempted.
    #[serde(skip)]
    attempted: Option<i64>,
    #[serde(skip)]
    fit: Option<Fit>,
}

impl CapacityDetector {
    /// A detector with no history.
    pub fn new(config: CapacityConfig) -> Self {
        CapacityDetector {
            config,
            stats: DetectorStats::default(),
            buckets: VecDeque::new(),
            last_ts: None,
            first_ts: None,
            attempted: None,
            fit: None,
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> &DetectorStats {
        &self.stats
    }

    /// Feeds one sample (in time order) and judges it.
    pub fn observe(&mut self, timestamp_ms: Millis, value: f64) -> Verdict {
        if let Err(reason) = self.stats.admit(self.last_ts, timestamp_ms, value) {
            return Verdict::Skipped(reason);
        }
        match self.last_ts {
            Some(last) if timestamp_ms - last > self.config.history_ms => {
                self.stats.resets += 1;
                self.buckets.clear();
                self.first_ts = None;
                self.fit = None;
            }
            _ => {}
        }
        self.last_ts = Some(timestamp_ms);
        let first_ts = *self.first_ts.get_or_insert(timestamp_ms);

        self.add(timestamp_ms, value);
        let warm =
            timestamp_ms - first_ts >= self.config.warmup_ms && self.buckets.len() > MIN_BUCKETS;
        if !warm {
            self.stats.warming_up += 1;
            return Verdict::WarmingUp;
        }
        // Refit once per bucket: on the sample that opens it (or, after a restore, the next).
        let newest = self.buckets.back().map(|b| b.index);
        if self.attempted != newest {
            self.attempted = newest;
            self.refit(timestamp_ms);
        }
        let Some(fit) = self.fit else {
            self.stats.warming_up += 1;
            return Verdict::WarmingUp;
        };

        let evidence = self.judge(&fit, timestamp_ms, value);
        self.stats.scored += 1;
        self.stats.anomalies += evidence.anomalous as u64;
        Verdict::Scored(evidence)
    }

    /// Adds a sample to its bucket, opening a new one (and dropping those older than the
    /// history) when it falls past the newest.
    fn add(&mut self, ts: Millis, value: f64) {
        let bucket_ms = self.config.bucket_ms();
        let index = ts.div_euclid(bucket_ms);
        let offset = (ts - index * bucket_ms) as f64;
        if let Some(open) = self.buckets.back_mut().filter(|b| b.index == index) {
            open.offsets += offset;
            open.sum += value;
            open.count += 1;
            return;
        }
        self.buckets.push_back(Bucket {
            index,
            offsets: offset,
            sum: value,
            count: 1,
        });
        let oldest = index - self.config.history_ms / bucket_ms;
        while self.buckets.front().is_some_and(|b| b.index < oldest) {
            self.buckets.pop_front();
        }
    }

    fn refit(&mut self, now: Millis) {
        let bucket_ms = self.config.bucket_ms();
        let threshold = self.config.threshold;
        let result = match self.config.model {
            CapacityModel::Linear(method) => {
                let points: Vec<(Millis, f64)> =
                    self.buckets.iter().map(|b| b.point(bucket_ms)).collect();
                LinearTrend::new(method, CROSSING_INTERVAL)
                    .and_then(|m| m.fit(&points, now))
                    .map(|f| Fit {
                        at_ms: now,
                        crossing: f.crossing(threshold),
                        reached: f.intercept >= threshold,
                        level: f.intercept,
                        per_ms: f.slope / 1e3,
                        damping: None,
                        method: method.as_str(),
                    })
            }
            CapacityModel::Smoothing => {
                // The open bucket is partial: fit the closed ones, on a regular grid.
                let closed = &self.buckets.as_slices();
                let all: Vec<Bucket> = closed.0.iter().chain(closed.1).copied().collect();
                let closed = &all[..all.len().saturating_sub(1)];
                let values = regular(closed);
                // The last closed bucket's mean stands for the middle of that bucket.
                let end = closed
                    .last()
                    .map_or(now, |b| b.index * bucket_ms + bucket_ms / 2);
                let step_secs = bucket_ms as f64 / 1e3;
                HoltModel::new(TrendSelection::Auto, CROSSING_INTERVAL)
                    .and_then(|m| m.with_phi_range(MIN_PHI, PHI_MAX))
                    .and_then(|m| m.fit(&values))
                    .map(|f| Fit {
                        at_ms: end,
                        crossing: f.crossing(threshold, step_secs),
                        reached: f.level >= threshold,
                        level: f.level,
                        per_ms: f.trend / bucket_ms as f64,
                        damping: f.is_damped().then_some((f.phi, bucket_ms as f64)),
                        method: f.form(),
                    })
            }
        };
        match result {
            Ok(fit) => {
                self.stats.fits += 1;
                self.fit = Some(fit);
            }
            Err(e) => {
                self.stats.fit_errors += 1;
                tracing::debug!(error = %e, model = self.config.model.name(),
                    "capacity refit failed; keeping the previous fit");
            }
        }
    }

    /// The forecast `ahead_ms` after the fit's time.
    fn forecast(fit: &Fit, ahead_ms: Millis) -> f64 {
        let ahead = ahead_ms.max(0) as f64;
        match fit.damping {
            None => fit.level + fit.per_ms * ahead,
            Some((phi, step_ms)) => {
                // l + b (φ + … + φ^h) with h in (fractional) steps.
                let h = ahead / step_ms;
                let per_step = fit.per_ms * step_ms;
                fit.level + per_step * phi * (1.0 - phi.powf(h)) / (1.0 - phi)
            }
        }
    }

    fn judge(&self, fit: &Fit, ts: Millis, value: f64) -> Evidence {
        let window_ms = self.config.forecast_window_ms;
        let threshold = self.config.threshold;
        let at = |secs: Option<f64>| secs.map(|s| fit.at_ms + (s * 1e3).round() as Millis);
        let reached_now = value >= threshold || fit.reached;

        let (estimate, earliest, latest) = if reached_now {
            (Some(ts), Some(ts), Some(ts))
        } else {
            (
                at(fit.crossing.estimate_secs),
                at(fit.crossing.earliest_secs),
                at(fit.crossing.latest_secs),
            )
        };
        let anomalous = estimate.is_some_and(|t| t <= ts + window_ms);
        let until = |t: Option<Millis>| match t {
            Some(t) => humanize_duration((t - ts).max(0) as f64 / 1e3),
            None => "never".to_string(),
        };
        let when = |t: Option<Millis>| t.map_or("never".to_string(), rfc3339);
        let score = match estimate {
            Some(t) if t <= ts => 1.0,
            Some(t) => (window_ms as f64 / (t - ts) as f64).min(1.0),
            None => 0.0,
        };

        Evidence {
            timestamp_ms: ts,
            value,
            expected: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            deviation: f64::NAN,
            score,
            anomalous,
            model: self.config.model.name(),
            extra: vec![
                ("threshold".into(), format_level(threshold)),
                ("time_to_threshold".into(), until(estimate)),
                ("threshold_crossing_at".into(), when(estimate)),
                (
                    "threshold_crossing_interval".into(),
                    format!("[{}, {}]", when(earliest), when(latest)),
                ),
                (
                    "time_to_threshold_interval".into(),
                    format!("[{}, {}]", until(earliest), until(latest)),
                ),
                (
                    "forecast".into(),
                    format_level(Self::forecast(fit, ts + window_ms - fit.at_ms)),
                ),
                ("forecast_window".into(), format_duration(window_ms)),
                ("fit".into(), fit.method.to_string()),
            ],
        }
    }
}

/// Bucket means on a regular grid from the first bucket to the last; empty buckets take the
/// previous mean.
fn regular(buckets: &[Bucket]) -> Vec<f64> {
    let Some(first) = buckets.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut last = first.sum / first.count as f64;
    let mut next = first.index;
    for b in buckets {
        while next < b.index {
            out.push(last);
            next += 1;
        }
        last = b.sum / b.count as f64;
        out.push(last);
        next = b.index + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Millis = 3_600_000;

    fn growing(i: i64) -> f64 {
        40.0 + 0.01 * i as f64 + if i % 2 == 0 { 0.2 } else { -0.2 }
    }

    #[test]
    fn warms_up_then_judges_and_survives_a_checkpoint() {
        // 1 % per 100 five-minute samples towards 80: about 13.9 days away at the start.
        let config = CapacityConfig::for_window(
            CapacityModel::Linear(LinearMethod::TheilSen),
            30 * 24 * HOUR,
            80.0,
        );
        let mut d = CapacityDetector::new(config);
        let step = 5 * 60_000;
        let mut first_scored = None;
        for i in 0..1500 {
            if let Verdict::Scored(_) = d.observe(i * step, growing(i)) {
                first_scored.get_or_insert(i);
            }
        }
        // Warm-up is a tenth of the 30-day window: 3 days of 5-minute samples.
        assert_eq!(first_scored, Some(864));
        assert_eq!(d.stats().fit_errors, 0);

        // A restored detector has no fit: it refits on its next sample and judges it alike.
        let json = serde_json::to_string(&d).unwrap();
        let mut restored: CapacityDetector = serde_json::from_str(&json).unwrap();
        let (Verdict::Scored(a), Verdict::Scored(b)) = (
            d.observe(1500 * step, growing(1500)),
            restored.observe(1500 * step, growing(1500)),
        ) else {
            panic!("both judge the sample");
        };
        assert_eq!(a.anomalous, b.anomalous);
        assert!(a.anomalous, "{a:?}");
    }
}
