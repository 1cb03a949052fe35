//! The alert state machine of Prometheus' rule manager, driven by the caller's clock.
//!
//! One [`AlertTracker`] follows one (rule, series) pair. The caller evaluates it with the time of
//! the evaluation and, when the rule's condition holds, the [`Evidence`] for it:
//!
//! ```text
//!              condition                    condition held for `for`
//!   inactive ─────────────▶ pending ──────────────────────────────────▶ firing
//!      ▲                      │ no condition                              │ no condition (and
//!      └──────────────────────┘ (never sent)                              │ `keep_firing_for`
//!      ▲                                                                  ▼  has passed)
//!      └──────── `resolved_retention_ms` after resolution ──────────── resolved
//! ```
//!
//! - `for: 0` fires in the evaluation that first sees the condition.
//! - A firing alert is sent when it starts firing and again whenever
//!   `last_sent_at + resend_delay_ms <= now`, with
//!   `endsAt = now + 4 * max(resend_delay_ms, eval_interval_ms)`: Alertmanager ends the alert on
//!   its own if several sends in a row go missing.
//! - When the condition stops (and `keep_firing_for` has passed since it stopped), the alert is
//!   resolved at that evaluation's time. It is sent at once with `endsAt = resolved_at` and the
//!   last annotations repeated (a resolve without annotations blanks them in Alertmanager), then
//!   re-sent on the resend delay until `resolved_retention_ms` has passed, and then forgotten.
//! - A condition that returns after a resolution starts a new alert with a new `startsAt`.
//! - `startsAt` is the time the alert started firing, as Prometheus sends it.
//!
//! Time is whatever the caller says it is: in replay it is the sample's event time, so a run is
//! deterministic. `now` must not go backwards for one tracker.
//!
//! # Differences from Prometheus
//!
//! - Prometheus resends when `last_sent_at + resend_delay < now` (strictly later); here the
//!   resend is due at exactly `last_sent_at + resend_delay`, so a resend delay equal to the
//!   evaluation interval resends on every evaluation rather than every other one.
//! - Prometheus drops `__name__` from alert labels because most alerting expressions lose it;
//!   seer's rules select raw series, so the metric name stays in the alert's labels and keeps
//!   two metrics with otherwise equal labels from being merged into one alert.
//! - Rule label values are not templated.
//!
//! # Limitations
//!
//! A tracker only moves when it is evaluated. If a series stops reporting, the caller must keep
//! evaluating its trackers (with no condition) on a timer, or the resolution is never sent and
//! Alertmanager ends the alert when its `endsAt` passes.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::evidence::Evidence;
use super::notification::{AlertStatus, Notification, NotificationKind};
use super::template::Template;
use crate::error::Error;
use crate::series::Labels;
use crate::time::Millis;

/// The label that carries the rule name.
pub const ALERT_NAME: &str = "alertname";

/// Timing of notifications, shared by all rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleConfig {
    /// Minimum time between two sends of the same alert, in milliseconds. Default 60000 (1m,
    /// Prometheus' `--rules.alert.resend-delay`). Must be greater than 0.
    pub resend_delay_ms: Millis,
    /// How long a resolved alert is kept and re-sent as resolved, in milliseconds, so that an
    /// Alertmanager that missed the resolution still learns of it. Default 900000 (15m, as in
    /// Prometheus). 0 sends the resolution once.
    pub resolved_retention_ms: Millis,
    /// Time between two evaluations of a series (its sample interval), in milliseconds. Only
    /// used to compute how long a firing alert stays valid. Default 60000 (1m, Prometheus'
    /// default `evaluation_interval`). Must be greater than 0.
    pub eval_interval_ms: Millis,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            resend_delay_ms: 60_000,
            resolved_retention_ms: 900_000,
            eval_interval_ms: 60_000,
        }
    }
}

impl LifecycleConfig {
    /// Checks the values. `location` names where the config came from (file and section) and
    /// starts every problem.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing every bad field with its value.
    pub fn validate(&self, location: &str) -> Result<(), Error> {
        let mut problems = Vec::new();
        let mut check = |ok: bool, key: &str, value: Millis, rule: &str| {
            if !ok {
                problems.push(format!("{location}: {key}: {value} {rule}"));
            }
        };
        check(
            self.resend_delay_ms > 0,
            "resend_delay_ms",
            self.resend_delay_ms,
            "must be > 0",
        );
        check(
            self.resolved_retention_ms >= 0,
            "resolved_retention_ms",
            self.resolved_retention_ms,
            "must be >= 0",
        );
        check(
            self.eval_interval_ms > 0,
            "eval_interval_ms",
            self.eval_interval_ms,
            "must be > 0",
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config { problems })
        }
    }

    /// How far ahead of `now` a firing alert's `endsAt` lies: four times the larger of the
    /// resend delay and the evaluation interval, which tolerates three lost sends.
    pub fn validity_ms(&self) -> Millis {
        self.resend_delay_ms
            .max(self.eval_interval_ms)
            .saturating_mul(4)
    }
}

/// The parts of an alerting rule the lifecycle needs, already validated and parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// The rule name, sent as the `alertname` label.
    pub name: String,
    /// How long the condition must hold before the alert fires, in milliseconds; 0 fires at
    /// once. Negative values act as 0.
    pub for_ms: Millis,
    /// How long a firing alert keeps firing after its condition stopped, in milliseconds; 0
    /// resolves at once.
    pub keep_firing_for_ms: Millis,
    /// Labels added to every alert of the rule; they override the series' labels.
    pub labels: Labels,
    /// Annotation templates, rendered with the series' labels and the evidence's value. They
    /// override evidence annotations of the same name.
    pub annotations: Vec<(String, Template)>,
    /// Link sent as `generatorURL`; it must be an absolute URL or Alertmanager refuses the alert.
    pub generator_url: Option<String>,
}

impl AlertRule {
    /// A rule named `name` that fires at once and has no labels or annotations.
    pub fn new(name: impl Into<String>) -> Self {
        AlertRule {
            name: name.into(),
            for_ms: 0,
            keep_firing_for_ms: 0,
            labels: Labels::default(),
            annotations: Vec::new(),
            generator_url: None,
        }
    }

    /// The alert's labels for a series: the series' labels, overridden by the rule's labels,
    /// then `alertname` set to the rule name (the order Prometheus applies them in).
    pub fn alert_labels(&self, series: &Labels) -> Labels {
        Labels::new(
            series
                .iter()
                .chain(self.labels.iter())
                .chain(std::iter::once((ALERT_NAME, self.name.as_str()))),
        )
    }

    /// The alert's annotations: the evidence annotations (see [`Evidence::write_annotations`]),
    /// then the rule's templates rendered for `series` and `evidence.value`.
    pub fn render_annotations(
        &self,
        series: &Labels,
        evidence: &Evidence,
    ) -> BTreeMap<String, String> {
        let mut annotations = BTreeMap::new();
        evidence.write_annotations(&mut annotations);
        for (key, template) in &self.annotations {
            annotations.insert(key.clone(), template.render(series, evidence.value));
        }
        annotations
    }
}

/// The state of an alert, as Prometheus names it. A resolved alert that is still being
/// reported counts as inactive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertState {
    /// The condition does not hold.
    Inactive,
    /// The condition holds, but not yet for the rule's `for`.
    Pending,
    /// The alert is active and being sent.
    Firing,
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        })
    }
}

/// The alert lifecycle of one rule on one series. Serialisable, so that `seer serve` can
/// checkpoint it and a restart neither re-fires nor forgets an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTracker {
    series: Labels,
    phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Phase {
    Inactive,
    Pending { active_at: Millis },
    Firing(Firing),
    Resolved(Resolved),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Firing {
    active_at: Millis,
    fired_at: Millis,
    last_sent_at: Millis,
    /// When the condition stopped while `keep_firing_for` holds the alert up.
    keep_firing_since: Option<Millis>,
    /// The evidence of the latest evaluation whose condition held.
    evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Resolved {
    fired_at: Millis,
    resolved_at: Millis,
    last_sent_at: Millis,
    evidence: Evidence,
}

impl AlertTracker {
    /// An inactive tracker for the series with `series` labels.
    pub fn new(series: Labels) -> Self {
        AlertTracker {
            series,
            phase: Phase::Inactive,
        }
    }

    /// The series this tracker follows.
    pub fn series(&self) -> &Labels {
        &self.series
    }

    /// Evaluates the rule at `now`. `condition` is `Some` with the evidence when the rule's
    /// condition holds for the series at `now`, `None` when it does not.
    ///
    /// Returns the notification to send, if one is due: the alert started firing, was
    /// resolved, or the resend delay has passed since the last send.
    pub fn eval(
        &mut self,
        rule: &AlertRule,
        config: &LifecycleConfig,
        now: Millis,
        condition: Option<Evidence>,
    ) -> Option<Notification> {
        let phase = std::mem::replace(&mut self.phase, Phase::Inactive);
        let (phase, kind) = step(phase, rule, config, now, condition);
        self.phase = phase;
        let kind = kind?;

        // Only the firing and resolved phases send, and both carry the evidence.
        let (status, starts_at, ends_at, evidence) = match &self.phase {
            Phase::Firing(f) => (
                AlertStatus::Firing,
                f.fired_at,
                now.saturating_add(config.validity_ms()),
                &f.evidence,
            ),
            Phase::Resolved(r) => (
                AlertStatus::Resolved,
                r.fired_at,
                r.resolved_at,
                &r.evidence,
            ),
            Phase::Inactive | Phase::Pending { .. } => return None,
        };
        Some(Notification {
            kind,
            status,
            labels: rule.alert_labels(&self.series),
            annotations: rule.render_annotations(&self.series, evidence),
            starts_at,
            ends_at,
            generator_url: rule.generator_url.clone(),
        })
    }

    /// The state after the latest evaluation.
    pub fn state(&self) -> AlertState {
        match self.phase {
            Phase::Inactive | Phase::Resolved(_) => AlertState::Inactive,
            Phase::Pending { .. } => AlertState::Pending,
            Phase::Firing(_) => AlertState::Firing,
        }
    }

    /// When the condition started to hold, for a pending or firing alert.
    pub fn active_at(&self) -> Option<Millis> {
        match &self.phase {
            Phase::Pending { active_at } => Some(*active_at),
            Phase::Firing(f) => Some(f.active_at),
            Phase::Inactive | Phase::Resolved(_) => None,
        }
    }

    /// When the alert started firing, for a firing alert or a resolved one still reported.
    pub fn fired_at(&self) -> Option<Millis> {
        match &self.phase {
            Phase::Firing(f) => Some(f.fired_at),
            Phase::Resolved(r) => Some(r.fired_at),
            Phase::Inactive | Phase::Pending { .. } => None,
        }
    }

    /// When the alert was resolved, while the resolution is still reported.
    pub fn resolved_at(&self) -> Option<Millis> {
        match &self.phase {
            Phase::Resolved(r) => Some(r.resolved_at),
            _ => None,
        }
    }

    /// True when the tracker holds nothing: no pending, firing or resolved alert. An idle
    /// tracker may be dropped; a new one behaves the same.
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Inactive
    }

    /// The evidence of the latest evaluation whose condition held, for a firing alert or a
    /// resolved one still reported.
    pub fn evidence(&self) -> Option<&Evidence> {
        match &self.phase {
            Phase::Firing(f) => Some(&f.evidence),
            Phase::Resolved(r) => Some(&r.evidence),
            Phase::Inactive | Phase::Pending { .. } => None,
        }
    }
}

/// One evaluation: the next phase and the kind of notification due, if any.
fn step(
    phase: Phase,
    rule: &AlertRule,
    config: &LifecycleConfig,
    now: Millis,
    condition: Option<Evidence>,
) -> (Phase, Option<NotificationKind>) {
    match (phase, condition) {
        (Phase::Inactive, None) => (Phase::Inactive, None),

        // A new alert, also after a resolution: it gets its own `active_at` and `fired_at`.
        (Phase::Inactive | Phase::Resolved(_), Some(evidence)) => {
            pending_or_firing(rule, now, now, evidence)
        }

        (Phase::Pending { active_at }, Some(evidence)) => {
            pending_or_firing(rule, active_at, now, evidence)
        }

        // A pending alert that loses its condition was never sent and simply goes away.
        (Phase::Pending { .. }, None) => (Phase::Inactive, None),

        (Phase::Firing(mut firing), Some(evidence)) => {
            firing.keep_firing_since = None;
            firing.evidence = evidence;
            let kind = resend_due(&mut firing.last_sent_at, config, now);
            (Phase::Firing(firing), kind)
        }

        (Phase::Firing(mut firing), None) => {
            let since = *firing.keep_firing_since.get_or_insert(now);
            if now.saturating_sub(since) < rule.keep_firing_for_ms {
                let kind = resend_due(&mut firing.last_sent_at, config, now);
                return (Phase::Firing(firing), kind);
            }
            let resolved = Resolved {
                fired_at: firing.fired_at,
                resolved_at: now,
                last_sent_at: now,
                evidence: firing.evidence,
            };
            (Phase::Resolved(resolved), Some(NotificationKind::Resolved))
        }

        (Phase::Resolved(mut resolved), None) => {
            if now.saturating_sub(resolved.resolved_at) > config.resolved_retention_ms {
                return (Phase::Inactive, None);
            }
            let kind = resend_due(&mut resolved.last_sent_at, config, now);
            (Phase::Resolved(resolved), kind)
        }
    }
}

/// A pending alert active since `active_at` whose condition holds at `now`: it fires once the
/// condition has held for the rule's `for`.
fn pending_or_firing(
    rule: &AlertRule,
    active_at: Millis,
    now: Millis,
    evidence: Evidence,
) -> (Phase, Option<NotificationKind>) {
    if now.saturating_sub(active_at) < rule.for_ms {
        return (Phase::Pending { active_at }, None);
    }
    let firing = Firing {
        active_at,
        fired_at: now,
        last_sent_at: now,
        keep_firing_since: None,
        evidence,
    };
    (Phase::Firing(firing), Some(NotificationKind::Fired))
}

/// Marks a resend as done at `now` when the resend delay has passed since `last_sent_at`.
fn resend_due(
    last_sent_at: &mut Millis,
    config: &LifecycleConfig,
    now: Millis,
) -> Option<NotificationKind> {
    if last_sent_at.saturating_add(config.resend_delay_ms) <= now {
        *last_sent_at = now;
        Some(NotificationKind::Resent)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;
    /// An arbitrary start: 2024-01-01T00:00:00Z.
    const T0: Millis = 1_704_067_200_000;

    fn series() -> Labels {
        Labels::new([
            ("__name__", "http_requests"),
            ("instance", "web1"),
            ("severity", "info"),
        ])
    }

    fn rule(for_ms: Millis) -> AlertRule {
        AlertRule {
            for_ms,
            labels: Labels::new([("severity", "page"), ("team", "db")]),
            annotations: vec![(
                "summary".to_string(),
                Template::parse("{{ $labels.instance }} at {{ $value }}").unwrap(),
            )],
            generator_url: Some("http://seer.example/rules/HighTraffic".to_string()),
            ..AlertRule::new("HighTraffic")
        }
    }

    fn anomaly(value: f64) -> Option<Evidence> {
        Some(
            Evidence::new(value)
                .with_expected(10.0)
                .with_range(5.0, 15.0)
                .with_model("ets"),
        )
    }

    fn config() -> LifecycleConfig {
        LifecycleConfig::default()
    }

    #[test]
    fn pending_until_for_has_passed() {
        let (rule, config) = (rule(5 * MIN), config());
        let mut tracker = AlertTracker::new(series());

        assert_eq!(tracker.eval(&rule, &config, T0, anomaly(30.0)), None);
        assert_eq!(tracker.state(), AlertState::Pending);
        assert_eq!(tracker.active_at(), Some(T0));
        assert_eq!(
            tracker.eval(&rule, &config, T0 + 5 * MIN - 1, anomaly(31.0)),
            None
        );
        assert_eq!(tracker.state(), AlertState::Pending);

        let fired = tracker
            .eval(&rule, &config, T0 + 5 * MIN, anomaly(32.0))
            .unwrap();
        assert_eq!(tracker.state(), AlertState::Firing);
        assert_eq!(fired.kind, NotificationKind::Fired);
        assert_eq!(fired.status, AlertStatus::Firing);
        // startsAt is when it fired, endsAt four resend delays later.
        assert_eq!(fired.starts_at, T0 + 5 * MIN);
        assert_eq!(fired.ends_at, T0 + 5 * MIN + 4 * MIN);
        assert_eq!(tracker.active_at(), Some(T0));
    }

    #[test]
    fn labels_and_annotations() {
        let (rule, config) = (rule(0), config());
        let mut tracker = AlertTracker::new(series());
        let fired = tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();

        let expected = Labels::new([
            ("__name__", "http_requests"),
            ("alertname", "HighTraffic"),
            ("instance", "web1"),
            ("severity", "page"),
            ("team", "db"),
        ]);
        assert_eq!(fired.labels, expected);
        assert_eq!(fired.annotations["summary"], "web1 at 30");
        assert_eq!(fired.annotations["value"], "30");
        assert_eq!(fired.annotations["expected"], "10");
        assert_eq!(fired.annotations["expected_range"], "[5, 15]");
        assert_eq!(fired.annotations["deviation"], "3");
        assert_eq!(fired.annotations["model"], "ets");
        assert_eq!(
            fired.generator_url.as_deref(),
            Some("http://seer.example/rules/HighTraffic")
        );
    }

    #[test]
    fn rule_annotation_overrides_evidence_and_alertname_overrides_rule_label() {
        let mut rule = rule(0);
        rule.labels = Labels::new([("alertname", "Other")]);
        rule.annotations = vec![("model".to_string(), Template::parse("custom").unwrap())];
        let mut tracker = AlertTracker::new(series());
        let fired = tracker.eval(&rule, &config(), T0, anomaly(30.0)).unwrap();
        assert_eq!(fired.labels.get("alertname"), Some("HighTraffic"));
        assert_eq!(fired.annotations["model"], "custom");
    }

    #[test]
    fn for_zero_fires_at_once() {
        let mut tracker = AlertTracker::new(series());
        let fired = tracker
            .eval(&rule(0), &config(), T0, anomaly(30.0))
            .unwrap();
        assert_eq!(fired.kind, NotificationKind::Fired);
        assert_eq!(fired.starts_at, T0);
        assert_eq!(tracker.active_at(), Some(T0));
        assert_eq!(tracker.fired_at(), Some(T0));
    }

    #[test]
    fn resends_exactly_at_the_resend_delay() {
        let (rule, config) = (rule(0), config());
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();

        assert_eq!(
            tracker.eval(&rule, &config, T0 + 30_000, anomaly(31.0)),
            None
        );
        assert_eq!(
            tracker.eval(&rule, &config, T0 + MIN - 1, anomaly(32.0)),
            None
        );
        let resent = tracker
            .eval(&rule, &config, T0 + MIN, anomaly(33.0))
            .unwrap();
        assert_eq!(resent.kind, NotificationKind::Resent);
        assert_eq!(resent.status, AlertStatus::Firing);
        assert_eq!(resent.starts_at, T0);
        assert_eq!(resent.ends_at, T0 + MIN + 4 * MIN);
        // Annotations follow the latest evidence.
        assert_eq!(resent.annotations["value"], "33");

        // The next resend counts from the last send.
        assert_eq!(
            tracker.eval(&rule, &config, T0 + 2 * MIN - 1, anomaly(34.0)),
            None
        );
        assert!(tracker
            .eval(&rule, &config, T0 + 2 * MIN, anomaly(35.0))
            .is_some());
    }

    #[test]
    fn validity_uses_the_larger_of_resend_delay_and_eval_interval() {
        let config = LifecycleConfig {
            eval_interval_ms: 5 * MIN,
            ..config()
        };
        let mut tracker = AlertTracker::new(series());
        let fired = tracker.eval(&rule(0), &config, T0, anomaly(30.0)).unwrap();
        assert_eq!(fired.ends_at, T0 + 20 * MIN);
    }

    #[test]
    fn resolves_with_ends_at_and_repeated_annotations() {
        let (rule, config) = (rule(0), config());
        let mut tracker = AlertTracker::new(series());
        let fired = tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();

        let resolved = tracker.eval(&rule, &config, T0 + 30_000, None).unwrap();
        assert_eq!(resolved.kind, NotificationKind::Resolved);
        assert_eq!(resolved.status, AlertStatus::Resolved);
        assert_eq!(resolved.starts_at, T0);
        assert_eq!(resolved.ends_at, T0 + 30_000);
        assert_eq!(resolved.labels, fired.labels);
        assert_eq!(resolved.annotations, fired.annotations);
        assert_eq!(tracker.state(), AlertState::Inactive);
        assert_eq!(tracker.resolved_at(), Some(T0 + 30_000));
        assert!(!tracker.is_idle());
    }

    #[test]
    fn resolved_alert_is_resent_then_forgotten() {
        let (rule, config) = (rule(0), config());
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();
        let resolved_at = T0 + MIN;
        tracker.eval(&rule, &config, resolved_at, None).unwrap();

        assert_eq!(
            tracker.eval(&rule, &config, resolved_at + MIN - 1, None),
            None
        );
        let resent = tracker
            .eval(&rule, &config, resolved_at + MIN, None)
            .unwrap();
        assert_eq!(resent.kind, NotificationKind::Resent);
        assert_eq!(resent.status, AlertStatus::Resolved);
        // endsAt stays the resolution time, now in the past.
        assert_eq!(resent.ends_at, resolved_at);
        assert_eq!(resent.annotations["value"], "30");

        // Kept (and re-sent) up to and including the retention period, forgotten after it.
        let at_retention = resolved_at + 15 * MIN;
        let last = tracker.eval(&rule, &config, at_retention, None).unwrap();
        assert_eq!(last.status, AlertStatus::Resolved);
        assert!(!tracker.is_idle());
        assert_eq!(tracker.eval(&rule, &config, at_retention + 1, None), None);
        assert!(tracker.is_idle());
        assert_eq!(
            tracker.eval(&rule, &config, at_retention + 2 * MIN, None),
            None
        );
    }

    #[test]
    fn pending_alert_that_stops_is_never_sent() {
        let (rule, config) = (rule(5 * MIN), config());
        let mut tracker = AlertTracker::new(series());
        assert_eq!(tracker.eval(&rule, &config, T0, anomaly(30.0)), None);
        assert_eq!(tracker.eval(&rule, &config, T0 + MIN, None), None);
        assert!(tracker.is_idle());
        assert_eq!(tracker.active_at(), None);
    }

    #[test]
    fn flapping_before_for_never_fires() {
        let (rule, config) = (rule(2 * MIN), config());
        let mut tracker = AlertTracker::new(series());
        for minute in 0..60 {
            let condition = if minute % 2 == 0 { anomaly(30.0) } else { None };
            assert_eq!(
                tracker.eval(&rule, &config, T0 + minute * MIN, condition),
                None
            );
        }
        // Each return of the condition restarts the pending period.
        tracker.eval(&rule, &config, T0 + 60 * MIN, anomaly(30.0));
        assert_eq!(tracker.active_at(), Some(T0 + 60 * MIN));
    }

    #[test]
    fn firing_again_after_resolution_has_new_starts_at() {
        let (rule, config) = (rule(0), config());
        let mut tracker = AlertTracker::new(series());
        let first = tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();
        tracker.eval(&rule, &config, T0 + MIN, None).unwrap();

        let second = tracker
            .eval(&rule, &config, T0 + 2 * MIN, anomaly(40.0))
            .unwrap();
        assert_eq!(second.kind, NotificationKind::Fired);
        assert_eq!(second.status, AlertStatus::Firing);
        assert_eq!(first.starts_at, T0);
        assert_eq!(second.starts_at, T0 + 2 * MIN);
        assert_eq!(tracker.resolved_at(), None);
    }

    #[test]
    fn refiring_respects_for_again() {
        let (rule, config) = (rule(2 * MIN), config());
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule, &config, T0, anomaly(30.0));
        tracker
            .eval(&rule, &config, T0 + 2 * MIN, anomaly(30.0))
            .unwrap();
        tracker.eval(&rule, &config, T0 + 3 * MIN, None).unwrap();

        // The new alert is pending; the old resolution is no longer reported.
        assert_eq!(
            tracker.eval(&rule, &config, T0 + 4 * MIN, anomaly(30.0)),
            None
        );
        assert_eq!(tracker.state(), AlertState::Pending);
        assert_eq!(
            tracker.eval(&rule, &config, T0 + 5 * MIN, anomaly(30.0)),
            None
        );
        let fired = tracker
            .eval(&rule, &config, T0 + 6 * MIN, anomaly(30.0))
            .unwrap();
        assert_eq!(fired.starts_at, T0 + 6 * MIN);
    }

    #[test]
    fn keep_firing_for_holds_the_alert_up() {
        let rule = AlertRule {
            keep_firing_for_ms: 2 * MIN,
            ..rule(0)
        };
        let config = LifecycleConfig {
            resend_delay_ms: 10 * MIN,
            ..config()
        };
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();

        // The condition stops at T0+1m; the alert keeps firing for 2m from then.
        assert_eq!(tracker.eval(&rule, &config, T0 + MIN, None), None);
        assert_eq!(tracker.eval(&rule, &config, T0 + 3 * MIN - 1, None), None);
        assert_eq!(tracker.state(), AlertState::Firing);
        let resolved = tracker.eval(&rule, &config, T0 + 3 * MIN, None).unwrap();
        assert_eq!(resolved.kind, NotificationKind::Resolved);
        assert_eq!(resolved.ends_at, T0 + 3 * MIN);
    }

    #[test]
    fn keep_firing_for_restarts_when_the_condition_returns() {
        let rule = AlertRule {
            keep_firing_for_ms: 2 * MIN,
            ..rule(0)
        };
        let config = LifecycleConfig {
            resend_delay_ms: 10 * MIN,
            ..config()
        };
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule, &config, T0, anomaly(30.0)).unwrap();

        tracker.eval(&rule, &config, T0 + MIN, None);
        tracker.eval(&rule, &config, T0 + 2 * MIN, anomaly(30.0));
        tracker.eval(&rule, &config, T0 + 3 * MIN, None);
        // Without the restart the alert would have resolved at T0+3m.
        assert_eq!(tracker.eval(&rule, &config, T0 + 4 * MIN, None), None);
        assert_eq!(tracker.state(), AlertState::Firing);
        assert!(tracker.eval(&rule, &config, T0 + 5 * MIN, None).is_some());
        assert_eq!(tracker.resolved_at(), Some(T0 + 5 * MIN));
    }

    #[test]
    fn keep_firing_still_resends() {
        let rule = AlertRule {
            keep_firing_for_ms: 5 * MIN,
            ..rule(0)
        };
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule, &config(), T0, anomaly(30.0)).unwrap();
        let resent = tracker.eval(&rule, &config(), T0 + MIN, None).unwrap();
        assert_eq!(resent.kind, NotificationKind::Resent);
        assert_eq!(resent.status, AlertStatus::Firing);
        assert_eq!(resent.ends_at, T0 + 5 * MIN);
    }

    #[test]
    fn zero_retention_sends_the_resolution_once() {
        let config = LifecycleConfig {
            resolved_retention_ms: 0,
            ..config()
        };
        let mut tracker = AlertTracker::new(series());
        tracker.eval(&rule(0), &config, T0, anomaly(30.0)).unwrap();
        assert!(tracker.eval(&rule(0), &config, T0 + MIN, None).is_some());
        assert_eq!(tracker.eval(&rule(0), &config, T0 + 2 * MIN, None), None);
        assert!(tracker.is_idle());
    }

    #[test]
    fn config_defaults_and_validation() {
        let config: LifecycleConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(config, LifecycleConfig::default());
        assert_eq!(config.resend_delay_ms, 60_000);
        assert_eq!(config.resolved_retention_ms, 900_000);
        assert!(config.validate("seer.yml: alerting").is_ok());

        let unknown = serde_json::from_str::<LifecycleConfig>(r#"{"resend_delay": 1}"#);
        assert!(unknown.is_err());

        let bad = LifecycleConfig {
            resend_delay_ms: 0,
            eval_interval_ms: -1,
            ..config
        };
        let message = bad.validate("seer.yml: alerting").unwrap_err().to_string();
        assert!(
            message.contains("seer.yml: alerting: resend_delay_ms: 0 must be > 0"),
            "{message}"
        );
        assert!(message.contains("eval_interval_ms: -1"), "{message}");
    }
}
