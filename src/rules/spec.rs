//! The validated, typed form of a rule file. Field docs state units and defaults; the module
//! docs of [`crate::rules`] describe the YAML keys they come from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::problem::Problem;
use super::selector::Selector;
use crate::time::Millis;

/// Default `warmup` of anomaly rules: one day.
pub const DEFAULT_WARMUP_MS: Millis = 86_400_000;
/// Default `refit_every` of anomaly rules: six hours.
pub const DEFAULT_REFIT_EVERY_MS: Millis = 6 * 3_600_000;
/// Default `history` of anomaly rules: fourteen days.
pub const DEFAULT_HISTORY_MS: Millis = 14 * 86_400_000;
/// Default `interval_width` of anomaly rules.
pub const DEFAULT_INTERVAL_WIDTH: f64 = 0.95;
/// Default `min_deviation` of anomaly rules.
pub const DEFAULT_MIN_DEVIATION: f64 = 0.0;
/// Default `horizon` of traffic prediction rules: one day.
pub const DEFAULT_HORIZON_MS: Millis = 86_400_000;
/// Default `headroom` of traffic prediction rules: 20 % above the forecast.
pub const DEFAULT_HEADROOM: f64 = 0.2;

/// The (rule kind, model) pairs this version evaluates. Rules naming any other known pair are
/// loaded with `available: false` and a warning. Enabling a model is a change to this list only.
pub const BUILT_MODELS: &[(RuleKind, Model)] = &[
    (RuleKind::Anomaly, Model::Seasonal),
    (RuleKind::Capacity, Model::LinearRegression),
    (RuleKind::Capacity, Model::ExponentialSmoothing),
    (RuleKind::Degradation, Model::ChangePointDetection),
];

/// Every model name a rule file may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// `seasonal`: trend plus daily/weekly seasonality with a prediction band.
    Seasonal,
    /// `prophet`: a Prophet-style regression on trend and seasonal terms.
    Prophet,
    /// `linear_regression`: least-squares line through recent history, extrapolated.
    LinearRegression,
    /// `exponential_smoothing`: exponential smoothing with a trend, extrapolated.
    ExponentialSmoothing,
    /// `change_point_detection`: detects shifts in the level of a series.
    ChangePointDetection,
    /// `sarima`: seasonal ARIMA.
    Sarima,
}

impl Model {
    /// Every model, in documentation order.
    pub const ALL: [Model; 6] = [
        Model::Seasonal,
        Model::Prophet,
        Model::LinearRegression,
        Model::ExponentialSmoothing,
        Model::ChangePointDetection,
        Model::Sarima,
    ];

    /// The name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Seasonal => "seasonal",
            Model::Prophet => "prophet",
            Model::LinearRegression => "linear_regression",
            Model::ExponentialSmoothing => "exponential_smoothing",
            Model::ChangePointDetection => "change_point_detection",
            Model::Sarima => "sarima",
        }
    }

    /// The model called `name` in rule files.
    pub fn from_name(name: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// True when this version evaluates rules of `kind` with this model (see
    /// [`BUILT_MODELS`]).
    pub fn is_built(self, kind: RuleKind) -> bool {
        BUILT_MODELS.contains(&(kind, self))
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The four kinds of rule, one per section of a rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// `anomaly_detection`.
    Anomaly,
    /// `predictive_monitoring.capacity_planning`.
    Capacity,
    /// `predictive_monitoring.performance_degradation`.
    Degradation,
    /// `predictive_monitoring.traffic_prediction`.
    Traffic,
}

impl RuleKind {
    /// The section name in rule files, also the prefix of default rule names.
    pub fn section(self) -> &'static str {
        match self {
            RuleKind::Anomaly => "anomaly_detection",
            RuleKind::Capacity => "capacity_planning",
            RuleKind::Degradation => "performance_degradation",
            RuleKind::Traffic => "traffic_prediction",
        }
    }

    /// The models a rule of this kind may name.
    pub fn models(self) -> &'static [Model] {
        match self {
            RuleKind::Anomaly => &[Model::Seasonal, Model::Prophet],
            RuleKind::Capacity => &[Model::LinearRegression, Model::ExponentialSmoothing],
            RuleKind::Degradation => &[Model::ChangePointDetection],
            RuleKind::Traffic => &[Model::Sarima, Model::Prophet, Model::Seasonal],
        }
    }
}

/// Where a rule was written: file, 1-based line of the rule's first key, and its key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The rule file, as the caller named it.
    pub file: PathBuf,
    /// 1-based line where the rule starts.
    pub line: usize,
    /// Key path of the rule, e.g. `anomaly_detection[0]`.
    pub key: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.key)
    }
}

/// What every rule shares with a Prometheus alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSpec {
    /// The alert name (`alertname` label). Unique across all loaded rules.
    pub name: String,
    /// How long the condition must hold before the alert fires (pending until then); 0 fires
    /// on the first evaluation that meets it.
    pub for_ms: Millis,
    /// How long the alert keeps firing after the condition stops holding; 0 resolves at once.
    pub keep_firing_for_ms: Millis,
    /// Labels added to the alert, on top of the series' labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations, as written (templates such as `{{ $labels.x }}` are not expanded here).
    pub annotations: BTreeMap<String, String>,
}

/// How seasonality combines with the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeasonalityMode {
    /// `additive`: `y = trend + season + noise`; the daily swing has a fixed size.
    #[default]
    Additive,
    /// `multiplicative`: `y = trend × season × noise`; the swing grows with the level.
    Multiplicative,
}

/// A forecast band rule: a sample outside the band is anomalous.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyRule {
    /// Name, `for`, labels and annotations.
    pub alert: AlertSpec,
    /// The series the rule watches (`match`).
    pub selector: Selector,
    /// The forecasting model.
    pub model: Model,
    /// False when `model` is not built in this version: report the rule and skip it.
    pub available: bool,
    /// Probability mass of the band, in (0, 1). Default [`DEFAULT_INTERVAL_WIDTH`].
    pub interval_width: f64,
    /// Additive or multiplicative seasonality. Default additive.
    pub seasonality_mode: SeasonalityMode,
    /// History a series needs before it gets verdicts. Default [`DEFAULT_WARMUP_MS`].
    pub warmup_ms: Millis,
    /// How often the model is refitted. Default [`DEFAULT_REFIT_EVERY_MS`].
    pub refit_every_ms: Millis,
    /// How much history the model learns from. Default [`DEFAULT_HISTORY_MS`].
    pub history_ms: Millis,
    /// Smallest absolute distance from the forecast that counts as anomalous, ≥ 0, in the
    /// metric's unit. Default 0.
    pub min_deviation: f64,
    /// Where the rule was written.
    pub origin: Origin,
}

/// The `alert_threshold` of a capacity rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// `"80%"`: a percentage in (0, 100] of the capacity, or of 100 when the rule has no
    /// `capacity` (the metric is then read as a percentage).
    Percent(f64),
    /// A plain number: a level in the metric's own unit.
    Value(f64),
}

impl Threshold {
    /// The level the forecast is compared against, given the capacity when one is known.
    pub fn level(self, capacity: Option<f64>) -> f64 {
        match self {
            Threshold::Percent(p) => capacity.unwrap_or(100.0) * p / 100.0,
            Threshold::Value(v) => v,
        }
    }
}

/// The `capacity` of a capacity rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Capacity {
    /// A fixed number in the metric's unit.
    Value(f64),
    /// A series holding the capacity (e.g. `node_filesystem_size_bytes`).
    Selector(Selector),
}

/// Forecasts a resource and alerts when it will cross a threshold within a window.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityRule {
    /// Name (default `capacity_planning_<metric>`), `for`, labels and annotations.
    pub alert: AlertSpec,
    /// The series forecast (`metric`).
    pub selector: Selector,
    /// `linear_regression` or `exponential_smoothing`.
    pub model: Model,
    /// False when `model` is not built in this version: report the rule and skip it.
    pub available: bool,
    /// How far ahead to forecast; > 0.
    pub forecast_window_ms: Millis,
    /// The level that must not be reached within the window.
    pub alert_threshold: Threshold,
    /// What a percentage threshold is a percentage of; none means the metric is a percentage.
    pub capacity: Option<Capacity>,
    /// Where the rule was written.
    pub origin: Origin,
}

/// How readily a change point is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sensitivity {
    /// `low`: only large, sustained shifts.
    Low,
    /// `medium` (default).
    #[default]
    Medium,
    /// `high`: smaller shifts too, with more false alarms.
    High,
}

/// Which changes a degradation rule alerts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChangeDirection {
    /// `significant_increase`.
    Increase,
    /// `significant_decrease`.
    Decrease,
    /// `any_change` (default).
    #[default]
    Any,
}

/// Alerts when the level of a series shifts.
#[derive(Debug, Clone, PartialEq)]
pub struct DegradationRule {
    /// Name (default `performance_degradation_<metric>`), `for`, labels and annotations.
    pub alert: AlertSpec,
    /// The series watched (`metric`).
    pub selector: Selector,
    /// `change_point_detection`.
    pub model: Model,
    /// False when `model` is not built in this version: report the rule and skip it.
    pub available: bool,
    /// Default medium.
    pub sensitivity: Sensitivity,
    /// Default any change.
    pub alert_on: ChangeDirection,
    /// Where the rule was written.
    pub origin: Origin,
}

/// A seasonal period of a traffic forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Season {
    /// `hourly`: period of one hour.
    Hourly,
    /// `daily`: period of one day.
    Daily,
    /// `weekly`: period of seven days.
    Weekly,
}

impl Season {
    /// The name used in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Season::Hourly => "hourly",
            Season::Daily => "daily",
            Season::Weekly => "weekly",
        }
    }

    /// The period in milliseconds.
    pub fn period_ms(self) -> Millis {
        match self {
            Season::Hourly => 3_600_000,
            Season::Daily => 86_400_000,
            Season::Weekly => 7 * 86_400_000,
        }
    }
}

/// Forecasts traffic for capacity decisions such as autoscaling.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficRule {
    /// Name (default `traffic_prediction_<metric>`), `for`, labels and annotations.
    pub alert: AlertSpec,
    /// The series forecast (`metric`).
    pub selector: Selector,
    /// `sarima`, `prophet` or `seasonal`.
    pub model: Model,
    /// False when `model` is not built in this version: report the rule and skip it.
    pub available: bool,
    /// Seasonal periods, sorted, without repeats; never empty.
    pub seasonality: Vec<Season>,
    /// What the forecast is for (free text, e.g. `auto_scaling`).
    pub use_for: Option<String>,
    /// How far ahead to forecast; > 0. Default [`DEFAULT_HORIZON_MS`].
    pub horizon_ms: Millis,
    /// Extra capacity to plan above the forecast, as a ratio ≥ 0. Default [`DEFAULT_HEADROOM`].
    pub headroom: f64,
    /// Load one replica can serve, > 0, when replica counts should be derived.
    pub capacity_per_replica: Option<f64>,
    /// Where the rule was written.
    pub origin: Origin,
}

/// The fields every kind of rule has, borrowed from one rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleRef<'a> {
    /// Which section the rule is in.
    pub kind: RuleKind,
    /// Name, `for`, labels and annotations.
    pub alert: &'a AlertSpec,
    /// The series the rule applies to.
    pub selector: &'a Selector,
    /// Its model.
    pub model: Model,
    /// False when the model is not built in this version.
    pub available: bool,
    /// Where it was written.
    pub origin: &'a Origin,
}

/// Every rule loaded from one or more files, plus the warnings found while loading them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    /// `anomaly_detection` rules.
    pub anomaly: Vec<AnomalyRule>,
    /// `predictive_monitoring.capacity_planning` rules.
    pub capacity: Vec<CapacityRule>,
    /// `predictive_monitoring.performance_degradation` rules.
    pub degradation: Vec<DegradationRule>,
    /// `predictive_monitoring.traffic_prediction` rules.
    pub traffic: Vec<TrafficRule>,
    /// Warnings (such as rules whose model is not available), for the caller to report.
    pub warnings: Vec<Problem>,
}

impl RuleSet {
    /// Number of rules of all kinds, available or not.
    pub fn len(&self) -> usize {
        self.anomaly.len() + self.capacity.len() + self.degradation.len() + self.traffic.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every rule in file order within each kind: anomaly, capacity, degradation, traffic.
    pub fn rules(&self) -> impl Iterator<Item = RuleRef<'_>> {
        let anomaly = self.anomaly.iter().map(|r| RuleRef {
            kind: RuleKind::Anomaly,
            alert: &r.alert,
            selector: &r.selector,
            model: r.model,
            available: r.available,
            origin: &r.origin,
        });
        let capacity = self.capacity.iter().map(|r| RuleRef {
            kind: RuleKind::Capacity,
            alert: &r.alert,
            selector: &r.selector,
            model: r.model,
            available: r.available,
            origin: &r.origin,
        });
        let degradation = self.degradation.iter().map(|r| RuleRef {
            kind: RuleKind::Degradation,
            alert: &r.alert,
            selector: &r.selector,
            model: r.model,
            available: r.available,
            origin: &r.origin,
        });
        let traffic = self.traffic.iter().map(|r| RuleRef {
            kind: RuleKind::Traffic,
            alert: &r.alert,
            selector: &r.selector,
            model: r.model,
            available: r.available,
            origin: &r.origin,
        });
        anomaly.chain(capacity).chain(degradation).chain(traffic)
    }

    /// Moves the rules and warnings of `other` into `self`.
    pub fn extend(&mut self, other: RuleSet) {
        self.anomaly.extend(other.anomaly);
        self.capacity.extend(other.capacity);
        self.degradation.extend(other.degradation);
        self.traffic.extend(other.traffic);
        self.warnings.extend(other.warnings);
    }
}
