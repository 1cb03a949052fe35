//! Turns validated rules into what the engine runs: a selector, a detector recipe and an alert
//! rule. Each rule kind that this version evaluates has one function here.

use crate::alert::template::Template;
use crate::alert::AlertRule;
use crate::detect::{DetectorConfig, DetectorSpec};
use crate::models::seasonal::SeasonalityMode;
use crate::rules::{self, AlertSpec, AnomalyRule, RuleKind, RuleSet, Selector};
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
    out
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
