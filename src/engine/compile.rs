//! Turns validated rules into what the engine runs: a selector, a detector recipe and an alert
//! rule. Each rule kind that this version evaluates has one function here.

use crate::alert::template::Template;
use crate::alert::AlertRule;
use crate::detect::{CapacityConfig, CapacityModel, DetectorConfig, DetectorSpec};
use crate::models::changepoint::{AlertOn, OnlineConfig, Sensitivity};
use crate::models::linear::LinearMethod;
use crate::models::seasonal::SeasonalityMode;
use crate::rules::{
    self, AlertSpec, AnomalyRule, Capacity, CapacityRule, ChangeDirection, DegradationRule, Model,
    RuleKind, RuleSet, Selector, Threshold,
};
use crate::series::Labels;

/// A rule ready to run.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) name: String,
    pub(crate) kind: RuleKind,
    pub(crate) selector: Selector,
    pub(crate) detector: DetectorSpec,
    pub(crate) alert: AlertRule,
}

/// Every available rule of `rules`, in file order.
pub(crate) fn compile(rules: &RuleSet, generator_url: Option<&str>) -> Vec<CompiledRule> {
    let mut out = Vec::new();
    for rule in rules.anomaly.iter().filter(|r| r.available) {
        out.push(CompiledRule {
            name: rule.alert.name.clone(),
            kind: RuleKind::Anomaly,
            selector: rule.selector.clone(),
            detector: DetectorSpec::Seasonal(seasonal_config(rule)),
            alert: alert_rule(&rule.alert, generator_url),
        });
    }
    for rule in rules.capacity.iter().filter(|r| r.available) {
        let Some(config) = capacity_config(rule) else {
            continue;
        };
        out.push(CompiledRule {
            name: rule.alert.name.clone(),
            kind: RuleKind::Capacity,
            selector: rule.selector.clone(),
            detector: DetectorSpec::Capacity(config),
            alert: alert_rule(&rule.alert, generator_url),
        });
    }
    for rule in rules.degradation.iter().filter(|r| r.available) {
        out.push(CompiledRule {
            name: rule.alert.name.clone(),
            kind: RuleKind::Degradation,
            selector: rule.selector.clone(),
            detector: DetectorSpec::ChangePoint(change_point_config(rule)),
            alert: alert_rule(&rule.alert, generator_url),
        });
    }
    out
}

/// The threshold level of a capacity rule in the metric's unit (see the `capacity_planning`
/// section of [`crate::rules`]): a percentage is of the constant `capacity`, else of 1 for a
/// metric named `*_ratio` (Prometheus' naming convention for 0–1 ratios), else of 100 (the
/// metric is a percentage). `None` for a capacity read from a series, which this version does
/// not evaluate (the loader marks such rules unavailable).
pub(crate) fn capacity_threshold(rule: &CapacityRule) -> Option<f64> {
    let scale = match (&rule.capacity, rule.alert_threshold) {
        (_, Threshold::Value(v)) => return Some(v),
        (Some(Capacity::Value(c)), Threshold::Percent(_)) => *c,
        (Some(Capacity::Selector(_)), _) => return None,
        (None, Threshold::Percent(_)) => {
            let ratio = rule
                .selector
                .metric_name()
                .is_some_and(|name| name.ends_with("_ratio"));
            if ratio {
                1.0
            } else {
                100.0
            }
        }
    };
    Some(rule.alert_threshold.level(Some(scale)))
}

fn capacity_config(rule: &CapacityRule) -> Option<CapacityConfig> {
    let model = match rule.model {
        Model::ExponentialSmoothing => CapacityModel::Smoothing,
        _ => CapacityModel::Linear(LinearMethod::TheilSen),
    };
    let threshold = capacity_threshold(rule)?;
    Some(CapacityConfig::for_window(
        model,
        rule.forecast_window_ms,
        threshold,
    ))
}

fn change_point_config(rule: &DegradationRule) -> OnlineConfig {
    let sensitivity = match rule.sensitivity {
        rules::Sensitivity::Low => Sensitivity::Low,
        rules::Sensitivity::Medium => Sensitivity::Medium,
        rules::Sensitivity::High => Sensitivity::High,
    };
    let alert_on = match rule.alert_on {
        ChangeDirection::Increase => AlertOn::Increase,
        ChangeDirection::Decrease => AlertOn::Decrease,
        ChangeDirection::Any => AlertOn::Any,
    };
    OnlineConfig::new(sensitivity, alert_on)
}

fn seasonal_config(rule: &AnomalyRule) -> DetectorConfig {
    DetectorConfig {
        interval_width: rule.interval_width,
        mode: match rule.seasonality_mode {
            rules::SeasonalityMode::Additive => SeasonalityMode::Additive,
            rules::SeasonalityMode::Multiplicative => SeasonalityMode::Multiplicative,
        },
        warmup_ms: rule.warmup_ms,
        refit_every_ms: rule.refit_every_ms,
        history_ms: rule.history_ms,
        min_deviation: rule.min_deviation,
        ..DetectorConfig::default()
    }
}

/// The alert side of a rule: name, `for`, labels and parsed annotation templates.
pub(crate) fn alert_rule(spec: &AlertSpec, generator_url: Option<&str>) -> AlertRule {
    AlertRule {
        name: spec.name.clone(),
        for_ms: spec.for_ms,
        keep_firing_for_ms: spec.keep_firing_for_ms,
        labels: Labels::new(spec.labels.clone()),
        // The rules loader rejects bad templates, so none is dropped here in practice.
        annotations: spec
            .annotations
            .iter()
            .filter_map(|(k, v)| match Template::parse(v) {
                Ok(t) => Some((k.clone(), t)),
                Err(e) => {
                    tracing::error!(rule = %spec.name, annotation = %k, error = %e,
                        "annotation template does not parse; dropped");
                    None
                }
            })
            .collect(),
        generator_url: generator_url
            .map(|base| format!("{}/api/v1/alerts", base.trim_end_matches('/'))),
    }
}
