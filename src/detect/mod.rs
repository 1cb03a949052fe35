//! Detectors: per-series state that turns a model into a verdict for every sample.
//!
//! A detector is fed samples of one series in time order and answers each with a
//! [`Verdict`]. Time is the sample's own timestamp, so replaying history gives the same
//! verdicts as streaming it did.

mod capacity;
mod changepoint;
pub mod likelihood;
pub mod range;
mod seasonal;

pub use capacity::{
    CapacityConfig, CapacityDetector, CapacityModel, CROSSING_INTERVAL, HISTORY_BUCKETS,
    MIN_BUCKETS, MIN_PHI,
};
pub use changepoint::ChangePointDetector;
pub use likelihood::{SurpriseConfig, SurpriseScorer};
pub use seasonal::{DetectorConfig, SeasonalDetector};

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// A detector of any family, as the engine keeps it per (rule, series). An enum rather than a
/// trait object so that detector state can be checkpointed with serde and restored.
// Every (rule, series) holds one detector for its lifetime; a few hundred bytes spare in the
// smaller variants cost less than an allocation and a pointer chase per sample on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum AnyDetector {
    /// `anomaly_detection` with `model: seasonal`.
    Seasonal(SeasonalDetector),
    /// `capacity_planning` with `linear_regression` or `exponential_smoothing`.
    Capacity(CapacityDetector),
    /// `performance_degradation` with `change_point_detection`.
    ChangePoint(ChangePointDetector),
}

impl AnyDetector {
    /// Feeds one sample (in time order) and judges it.
    pub fn observe(&mut self, timestamp_ms: Millis, value: f64) -> Verdict {
        match self {
            AnyDetector::Seasonal(d) => d.observe(timestamp_ms, value),
            AnyDetector::Capacity(d) => d.observe(timestamp_ms, value),
            AnyDetector::ChangePoint(d) => d.observe(timestamp_ms, value),
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> &DetectorStats {
        match self {
            AnyDetector::Seasonal(d) => d.stats(),
            AnyDetector::Capacity(d) => d.stats(),
            AnyDetector::ChangePoint(d) => d.stats(),
        }
    }

    /// The band over the next `steps` steps of the detector's grid, starting with the step of
    /// the latest sample; empty until a model is fitted (or for a family without a band).
    pub fn band_ahead(&self, steps: usize) -> Vec<BandPoint> {
        match self {
            AnyDetector::Seasonal(d) => d.band_ahead(steps),
            // Capacity and change-point detectors report crossings and shifts, not a band.
            AnyDetector::Capacity(_) | AnyDetector::ChangePoint(_) => Vec::new(),
        }
    }

    /// The latest `n` points of the history the detector keeps (downsampled to its grid),
    /// oldest first.
    pub fn recent(&self, n: usize) -> Vec<(Millis, f64)> {
        match self {
            AnyDetector::Seasonal(d) => d.recent(n),
            // Their bounded histories are not exposed through the API in this version.
            AnyDetector::Capacity(_) | AnyDetector::ChangePoint(_) => {
                let _ = n;
                Vec::new()
            }
        }
    }
}

/// One step of a forecast band, in the metric's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandPoint {
    /// Start of the grid step.
    pub timestamp_ms: Millis,
    pub expected: f64,
    pub lower: f64,
    pub upper: f64,
}

/// How to build a fresh detector for a rule: the rule's validated settings per family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DetectorSpec {
    Seasonal(DetectorConfig),
    Capacity(CapacityConfig),
    ChangePoint(crate::models::changepoint::OnlineConfig),
}

impl DetectorSpec {
    /// A detector with no history.
    pub fn build(&self) -> AnyDetector {
        match self {
            DetectorSpec::Seasonal(config) => {
                AnyDetector::Seasonal(SeasonalDetector::new(config.clone()))
            }
            DetectorSpec::Capacity(config) => AnyDetector::Capacity(CapacityDetector::new(*config)),
            DetectorSpec::ChangePoint(config) => {
                AnyDetector::ChangePoint(ChangePointDetector::new(*config))
            }
        }
    }
}

/// What a detector says about one sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not enough history yet: the sample was learned from but not judged.
    WarmingUp,
    /// The sample was not used; the reason is counted.
    Skipped(SkipReason),
    /// The sample was judged; `evidence.anomalous` says how.
    Scored(Evidence),
}

/// Why a sample was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// NaN or infinite value (including Prometheus stale markers).
    NotFinite,
    /// Same timestamp as the previous sample of the series.
    Duplicate,
    /// Older than the previous sample of the series.
    OutOfOrder,
}

/// The facts behind a verdict; they become alert annotations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub timestamp_ms: Millis,
    /// The observed value.
    pub value: f64,
    /// The forecast for this sample.
    pub expected: f64,
    /// The band at the configured interval width.
    pub lower: f64,
    pub upper: f64,
    /// Signed distance from the forecast in band half-widths: beyond ±1 is outside the band.
    pub deviation: f64,
    /// How much news the sample is, in [0, 1]: `1 - p / r`, where `p` is the tail probability
    /// of its error against the series' recent errors and `r` the smallest such probability of
    /// the last few samples (see [`likelihood`]). With no recent surprise it is `1 - p`, so
    /// `score > interval_width` matches being outside the band; during an incident only errors
    /// rarer than the incident's worst so far score high. A value clearly outside the range of
    /// the series' recent values scores 1 whatever its error (see [`range`]). `seer eval nab`
    /// scores this value.
    pub score: f64,
    /// Outside the band (and at least `min_deviation` away from the forecast).
    pub anomalous: bool,
    /// The model that produced the forecast.
    pub model: &'static str,
    /// Further facts for the alert's annotations (for example `time_to_threshold`).
    pub extra: Vec<(String, String)>,
}

/// Counts of what a detector did with its samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorStats {
    pub samples: u64,
    pub not_finite: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub warming_up: u64,
    pub scored: u64,
    pub anomalies: u64,
    pub fits: u64,
    pub fit_errors: u64,
    /// Wall-clock time spent in fits (successful or not), in microseconds.
    #[serde(default)]
    pub fit_micros: u64,
    /// Restarts from scratch after a gap longer than the history the model keeps.
    pub resets: u64,
}

impl DetectorStats {
    /// Counts a sample and decides whether a detector may use it: finite, and later than the
    /// series' previous sample (`last_ts`). Every detector family skips the same samples for
    /// the same reasons, counted here in one place.
    pub fn admit(
        &mut self,
        last_ts: Option<Millis>,
        timestamp_ms: Millis,
        value: f64,
    ) -> Result<(), SkipReason> {
        self.samples += 1;
        let skip = if !value.is_finite() {
            self.not_finite += 1;
            SkipReason::NotFinite
        } else {
            match last_ts {
                Some(last) if timestamp_ms == last => {
                    self.duplicates += 1;
                    SkipReason::Duplicate
                }
                Some(last) if timestamp_ms < last => {
                    self.out_of_order += 1;
                    SkipReason::OutOfOrder
                }
                _ => return Ok(()),
            }
        };
        Err(skip)
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &DetectorStats) {
        self.samples += other.samples;
        self.not_finite += other.not_finite;
        self.duplicates += other.duplicates;
        self.out_of_order += other.out_of_order;
        self.warming_up += other.warming_up;
        self.scored += other.scored;
        self.anomalies += other.anomalies;
        self.fits += other.fits;
        self.fit_errors += other.fit_errors;
        self.fit_micros += other.fit_micros;
        self.resets += other.resets;
    }
}
