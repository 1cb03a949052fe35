//! Rule files: which series seer watches, with which model, and how it alerts.
//!
//! Rule files are YAML, usually one or more files in `models/`. [`load`] reads one file,
//! [`load_all`] several (a directory stands for its `*.yaml` and `*.yml` files), and [`check`]
//! reports every problem without failing. Problems name the file, line, key path and bad value:
//!
//! ```text
//! models/bad.yaml:7: anomaly_detection[0].for: bad duration "5 minutes": expected a Prometheus duration such as 5m or 1h30m
//! ```
//!
//! # Example
//!
//! ```yaml
//! anomaly_detection:
//!   - name: request_latency_anomaly
//!     match: '{__name__="app_request_duration_seconds", endpoint="/api/v1/models"}'
//!     model: seasonal
//!     interval_width: 0.95
//!     seasonality_mode: multiplicative
//!     for: 5m
//!     labels: {severity: warning, team: backend}
//!     annotations: {summary: "Latency of {{ $labels.endpoint }} left its usual range"}
//! predictive_monitoring:
//!   capacity_planning:
//!     - {metric: disk_usage, model: linear_regression, forecast_window: 30d, alert_threshold: 80%}
//!   performance_degradation:
//!     - {metric: response_time, model: change_point_detection, sensitivity: high,
//!        alert_on: significant_increase}
//!   traffic_prediction:
//!     - {metric: request_rate, model: sarima, seasonality: "daily, weekly", use_for: auto_scaling}
//! ```
//!
//! # Value types
//!
//! - **duration**: a Prometheus duration: an integer and a unit, repeated: `ms`, `s`, `m`, `h`,
//!   `d`, `w`, `y`, e.g. `30s`, `5m`, `1h30m`, `30d`. A bare number is not a duration.
//! - **selector**: a PromQL instant-vector selector such as `up`, `{job="api"}` or
//!   `http_requests_total{code=~"5..", method!="GET"}` (see [`Selector`] for the grammar).
//!   Quote it in YAML when it contains `{`, e.g. `'{job="api"}'`.
//! - **number**: a decimal number such as `0.95`, `12` or `1e3`.
//! - An empty value (`key:`, `key: ~` or `key: null`) means the key's default.
//!
//! Unknown keys are errors everywhere, so a misspelt key never silently falls back to a default.
//!
//! # Top level
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `anomaly_detection` | list of anomaly rules | none | forecast bands around series |
//! | `predictive_monitoring` | mapping | none | `capacity_planning`, `performance_degradation` and `traffic_prediction`, each a list of rules |
//!
//! # Keys every rule has
//!
//! These mean what they mean in a Prometheus alerting rule.
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `name` | text | required for anomaly rules; `<section>_<metric>` for predictive rules | the alert name (`alertname` label); unique across all rule files |
//! | `for` | duration | `0s` | how long the condition must hold before the alert fires; until then it is pending |
//! | `keep_firing_for` | duration | `0s` | how long the alert keeps firing after the condition stops holding |
//! | `labels` | mapping of label name to text | empty | labels added to the alert; names match `[a-zA-Z_][a-zA-Z0-9_]*` and may not start with `__` |
//! | `annotations` | mapping of name to text | empty | annotations such as `summary`, passed on with their templates unexpanded |
//!
//! The default name of a predictive rule is the section name and the selector's metric name,
//! e.g. `capacity_planning_disk_usage`; when the selector has no metric name, the rule's
//! position in its list is used instead (`capacity_planning_0`). Set `name` when two rules of
//! a section watch the same metric.
//!
//! # `anomaly_detection` rules
//!
//! The model forecasts each matching series with a band around the forecast; a sample outside
//! the band is anomalous, and the alert fires once samples stay anomalous for `for`.
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `match` | selector | required | the series to watch; each matching series gets its own model |
//! | `model` | `seasonal` or `prophet` | required | the forecasting model |
//! | `interval_width` | number in (0, 1) | `0.95` | probability mass inside the band: `0.95` flags samples outside the central 95 % prediction interval. Near 0 the band collapses onto the forecast (almost everything is anomalous); near 1 it widens without bound (almost nothing is) |
//! | `seasonality_mode` | `additive` or `multiplicative` | `additive` | `additive`: the daily and weekly swing has a fixed size; `multiplicative`: the swing grows and shrinks with the level of the series |
//! | `warmup` | duration | `1d` | history a series must have before it gets verdicts; until then it is learnt from but never flagged |
//! | `refit_every` | duration > 0 | `6h` | how often the model is refitted on recent history (the seasonal shape and smoothing weight; the level follows every sample in between) |
//! | `history` | duration > 0 | `14d` | how much history the model learns from at each refit |
//! | `min_deviation` | number ≥ 0 | `0` | a sample must also differ from the forecast by at least this much, in the metric's unit, to count as anomalous; it keeps very narrow bands on flat series from flagging noise |
//!
//! # `predictive_monitoring.capacity_planning` rules
//!
//! Forecasts a resource and alerts when the forecast reaches the threshold within the window.
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `metric` | metric name or selector | required | the series to forecast |
//! | `model` | `linear_regression` or `exponential_smoothing` | required | the forecasting model |
//! | `forecast_window` | duration > 0 | required | how far ahead to look; also how much history the model learns from |
//! | `alert_threshold` | `N%` with 0 < N ≤ 100, or a number | required | `80%` means 80 % of `capacity`; without `capacity`, 0.8 for a metric named `*_ratio` (a 0–1 ratio) and the value 80 otherwise (the metric is a 0–100 percentage); a plain number is a level in the metric's unit |
//! | `capacity` | number > 0 or selector | none | the resource's size, as a fixed number or as a series (e.g. `node_filesystem_size_bytes`); **a series is not evaluated in this version**: the rule loads with a warning and `available: false` |
//!
//! The alert condition holds when the forecast reaches the threshold (from below) within
//! `forecast_window`, or the series is at or above it already; alerts carry the crossing time,
//! its interval and the time left (see [`crate::detect::CapacityDetector`]).
//!
//! # `predictive_monitoring.performance_degradation` rules
//!
//! Alerts when the level of a series shifts.
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `metric` | metric name or selector | required | the series to watch |
//! | `model` | `change_point_detection` | required | the detection method |
//! | `sensitivity` | `low`, `medium` or `high` | `medium` | `high` reports smaller shifts, with more false alarms; `low` only large, sustained ones. Each maps to a CUSUM tuning with a documented false-alarm rate and a smallest alerting shift of 30 %, 20 % or 10 % of the old level (see [`crate::models::changepoint`]) |
//! | `alert_on` | `significant_increase`, `significant_decrease` or `any_change` | `any_change` | which direction of shift alerts; shifts the other way are adopted as the new normal without an alert |
//!
//! An alert fires when a shift is detected and resolves when the new level has been adopted
//! as the baseline, so one shift is one alert; its annotations give the level before and after
//! and the time of the change.
//!
//! # `predictive_monitoring.traffic_prediction` rules
//!
//! Forecasts traffic ahead of time, for decisions such as autoscaling.
//!
//! | key | type | default | meaning |
//! |---|---|---|---|
//! | `metric` | metric name or selector | required | the series to forecast |
//! | `model` | `sarima`, `prophet` or `seasonal` | required | the forecasting model |
//! | `seasonality` | comma-separated text or list of `hourly`, `daily`, `weekly` | `daily` | the seasonal periods the model uses |
//! | `use_for` | text | none | what the forecast feeds, e.g. `auto_scaling`; informational |
//! | `horizon` | duration > 0 | `1d` | how far ahead to forecast |
//! | `headroom` | number ≥ 0 or `N%` | `0.2` | extra capacity to plan above the forecast: `0.2` (or `20%`) plans for 1.2 × the forecast |
//! | `capacity_per_replica` | number > 0 | none | the load one replica serves, to turn the forecast into a replica count |
//!
//! # Models not available in this version
//!
//! Every model name above is accepted, but only the (rule kind, model) pairs in
//! [`BUILT_MODELS`] are evaluated. A rule naming another model is not an error: it is loaded with
//! `available: false` and a warning that says the model is `not available in this version`,
//! so that callers report it and skip it rather than lose it silently. A capacity rule whose
//! `capacity` is a selector is treated the same way (warning on the `capacity` key).

mod load;
mod pattern;
mod problem;
mod selector;
mod spec;

pub use load::{check, load, load_all, parse};
pub use pattern::{Pattern, PatternError};
pub use problem::{Problem, Report, Severity};
pub use selector::{MatchOp, Matcher, Selector, SelectorError};
pub use spec::{
    AlertSpec, AnomalyRule, Capacity, CapacityRule, ChangeDirection, DegradationRule, Model,
    Origin, RuleKind, RuleRef, RuleSet, Season, SeasonalityMode, Sensitivity, Threshold,
    TrafficRule, BUILT_MODELS, DEFAULT_HEADROOM, DEFAULT_HISTORY_MS, DEFAULT_HORIZON_MS,
    DEFAULT_INTERVAL_WIDTH, DEFAULT_MIN_DEVIATION, DEFAULT_REFIT_EVERY_MS, DEFAULT_WARMUP_MS,
};
