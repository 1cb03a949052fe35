//! What the planner computes for each (rule, series): the rows of `capacity.parquet` and
//! `traffic.parquet`, and the points of the report's charts.

use crate::series::Labels;
use crate::time::Millis;

/// The points a chart draws: history, then forecast with its band, and a horizontal threshold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chart {
    pub history: Vec<(Millis, f64)>,
    /// `(time, mean, lower, upper)`.
    pub forecast: Vec<(Millis, f64, f64, f64)>,
    pub threshold: Option<f64>,
}

/// One capacity forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityRow {
    pub rule: String,
    pub labels: Labels,
    /// `linear_regression (theil-sen)`, `exponential_smoothing (damped holt)`, ...
    pub model: String,
    /// Time of the last point the model saw.
    pub at_ms: Millis,
    /// The last observed (resampled) value.
    pub current: f64,
    /// The alert level in the metric's unit.
    pub threshold: f64,
    /// When the forecast crosses the threshold; `None` is never (within ten years).
    pub crossing_ms: Option<Millis>,
    /// The interval of the crossing time: the optimistic edge of the band crosses at
    /// `earliest_ms`, the pessimistic at `latest_ms` (`None`: possibly never).
    pub earliest_ms: Option<Millis>,
    pub latest_ms: Option<Millis>,
    /// The rule's forecast window.
    pub window_ms: Millis,
    /// The forecast at the end of the window: mean and band.
    pub end_mean: f64,
    pub end_lower: f64,
    pub end_upper: f64,
    /// Points the model was fitted on.
    pub points: usize,
    pub chart: Chart,
}

impl CapacityRow {
    /// True when the point forecast crosses inside the rule's window.
    pub fn crosses_within_window(&self) -> bool {
        self.crossing_ms
            .is_some_and(|c| c <= self.at_ms + self.window_ms)
    }
}

/// One traffic forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficRow {
    pub rule: String,
    pub labels: Labels,
    pub model: String,
    pub at_ms: Millis,
    pub current: f64,
    /// The highest forecast mean over the horizon, when it happens, and the band's upper edge
    /// there.
    pub peak: f64,
    pub peak_at_ms: Millis,
    pub peak_upper: f64,
    /// `ceil(peak * (1 + headroom) / capacity_per_replica)`, when the rule gives a capacity.
    pub replicas: Option<u64>,
    pub horizon_ms: Millis,
    pub points: usize,
    pub chart: Chart,
}

/// A series the planner could not fit, with the reason (shown in the summary, never dropped).
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub rule: String,
    pub labels: Labels,
    pub reason: String,
}
