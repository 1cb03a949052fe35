//! Per-series state: one detector and one alert lifecycle for each rule watching the series.

use std::sync::Arc;

use crate::alert::{self, AlertTracker, NotificationKind};
use crate::detect::{AnyDetector, DetectorStats, Evidence, Verdict};
use crate::series::{Labels, SeriesId};
use crate::time::Millis;

use super::snapshot::{RestoreOutcome, SeriesSnapshot, SeriesSnapshotRef, WatchSnapshotRef};
use super::{CompiledRule, Emitted, EngineOptions, VerdictEvent, WatchView};

/// What one rule did on one series.
#[derive(Debug, Clone)]
pub struct WatchSummary {
    pub rule: String,
    /// The rule's section, e.g. `anomaly_detection`.
    pub kind: &'static str,
    pub detector: DetectorStats,
    pub fired: u64,
    pub resolved: u64,
}

/// What happened to one series.
#[derive(Debug, Clone)]
pub struct SeriesSummary {
    pub labels: Arc<Labels>,
    pub watches: Vec<WatchSummary>,
}

#[derive(Debug)]
pub(super) struct SeriesState {
    id: SeriesId,
    labels: Arc<Labels>,
    watches: Vec<Watch>,
}

#[derive(Debug)]
struct Watch {
    rule: usize,
    detector: AnyDetector,
    tracker: AlertTracker,
    fired: u64,
    resolved: u64,
}

impl SeriesState {
    pub(super) fn new(labels: Arc<Labels>, rules: &[Arc<CompiledRule>]) -> Self {
        let watches = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.selector.matches(&labels))
            .map(|(i, r)| Watch {
                rule: i,
                detector: r.detector.build(),
                tracker: AlertTracker::new((*labels).clone()),
                fired: 0,
                resolved: 0,
            })
            .collect();
        SeriesState {
            id: labels.id(),
            labels,
            watches,
        }
    }

    pub(super) fn id(&self) -> SeriesId {
        self.id
    }

    pub(super) fn is_unwatched(&self) -> bool {
        self.watches.is_empty()
    }

    /// Runs time-ordered samples through every watch; `observe` sees every verdict.
    pub(super) fn run(
        &mut self,
        samples: &[(Millis, f64)],
        rules: &[Arc<CompiledRule>],
        options: &EngineOptions,
        observe: &(dyn Fn(&VerdictEvent<'_>) + Sync),
    ) -> Vec<Emitted> {
        let mut out = Vec::new();
        for watch in &mut self.watches {
            let rule = &rules[watch.rule].alert;
            for &(ts, value) in samples {
                let verdict = watch.detector.observe(ts, value);
                observe(&VerdictEvent {
                    labels: &self.labels,
                    rule: watch.rule,
                    rule_name: &rules[watch.rule].name,
                    timestamp_ms: ts,
                    value,
                    verdict: &verdict,
                });
                let condition = match verdict {
                    Verdict::Skipped(_) => continue,
                    Verdict::WarmingUp => None,
                    Verdict::Scored(e) if e.anomalous => Some(to_alert_evidence(&e)),
                    Verdict::Scored(_) => None,
                };
                let sent = watch.tracker.eval(rule, &options.lifecycle, ts, condition);
                if let Some(notification) = sent {
                    match notification.kind {
                        NotificationKind::Fired => watch.fired += 1,
                        NotificationKind::Resolved => watch.resolved += 1,
                        NotificationKind::Resent => {}
                    }
                    out.push(Emitted {
                        at_ms: ts,
                        notification,
                    });
                }
            }
        }
        out
    }

    pub(super) fn summary(&self, rules: &[Arc<CompiledRule>]) -> SeriesSummary {
        SeriesSummary {
            labels: self.labels.clone(),
            watches: self
                .watches
                .iter()
                .map(|w| WatchSummary {
                    rule: rules[w.rule].name.clone(),
                    kind: rules[w.rule].kind.section(),
                    detector: *w.detector.stats(),
                    fired: w.fired,
                    resolved: w.resolved,
                })
                .collect(),
        }
    }
}

fn to_alert_evidence(e: &Evidence) -> alert::Evidence {
    let mut out = alert::Evidence::new(e.value).with_model(e.model);
    if e.expected.is_finite() {
        out = out.with_expected(e.expected);
    }
    if e.lower.is_finite() && e.upper.is_finite() {
        out = out.with_range(e.lower, e.upper);
    }
    for (k, v) in &e.extra {
        out = out.with_extra(k.clone(), v.clone());
    }
    out
}

/// Checkpoints, stale series and queries (used by `seer serve`).
impl SeriesState {
    pub(super) fn labels(&self) -> &Arc<Labels> {
        &self.labels
    }

    /// A borrowed view for serialisation; watches are named by rule, not by position.
    pub(super) fn snapshot<'a>(&'a self, rules: &'a [Arc<CompiledRule>]) -> SeriesSnapshotRef<'a> {
        SeriesSnapshotRef {
            labels: &self.labels,
            watches: self
                .watches
                .iter()
                .map(|w| WatchSnapshotRef {
                    rule: &rules[w.rule].name,
                    spec: &rules[w.rule].detector,
                    detector: &w.detector,
                    tracker: &w.tracker,
                    fired: w.fired,
                    resolved: w.resolved,
                })
                .collect(),
        }
    }

    /// The state a snapshot describes, under the current `rules`: a watch whose rule still
    /// exists keeps its alert; it keeps its detector too unless the rule's detector settings
    /// changed (then it learns again). Watches of rules that are gone, or no longer match the
    /// series, are dropped; rules that now match start fresh.
    pub(super) fn restore(
        snapshot: SeriesSnapshot,
        rules: &[Arc<CompiledRule>],
        outcome: &mut RestoreOutcome,
    ) -> Self {
        let mut state = SeriesState::new(Arc::new(snapshot.labels), rules);
        let mut saved = snapshot.watches;
        for watch in &mut state.watches {
            let rule = &rules[watch.rule];
            let Some(i) = saved.iter().position(|s| s.rule == rule.name) else {
                outcome.watches_new += 1;
                continue;
            };
            let old = saved.swap_remove(i);
            watch.tracker = old.tracker;
            watch.fired = old.fired;
            watch.resolved = old.resolved;
            if old.spec == rule.detector {
                watch.detector = old.detector;
                outcome.watches_restored += 1;
            } else {
                outcome.detectors_reset += 1;
            }
        }
        outcome.watches_dropped += saved.len() as u64;
        outcome.series += 1;
        state
    }

    /// Evaluates every rule's alert as if its condition did not hold at `at_ms`: a firing alert
    /// resolves (after `keep_firing_for`), a resolved one is re-sent or forgotten on schedule.
    pub(super) fn evaluate_absent(
        &mut self,
        at_ms: Millis,
        rules: &[Arc<CompiledRule>],
        options: &EngineOptions,
    ) -> Vec<Emitted> {
        let mut out = Vec::new();
        for watch in &mut self.watches {
            if watch.tracker.is_idle() {
                continue;
            }
            let rule = &rules[watch.rule].alert;
            if let Some(notification) = watch.tracker.eval(rule, &options.lifecycle, at_ms, None) {
                match notification.kind {
                    NotificationKind::Fired => watch.fired += 1,
                    NotificationKind::Resolved => watch.resolved += 1,
                    NotificationKind::Resent => {}
                }
                out.push(Emitted {
                    at_ms,
                    notification,
                });
            }
        }
        out
    }

    /// True when no rule's alert is pending, firing or still reporting a resolution.
    pub(super) fn alerts_idle(&self) -> bool {
        self.watches.iter().all(|w| w.tracker.is_idle())
    }

    /// Each watch's rule, detector and alert tracker.
    pub(super) fn watch_views<'a>(&'a self, rules: &'a [Arc<CompiledRule>]) -> Vec<WatchView<'a>> {
        self.watches
            .iter()
            .map(|w| WatchView {
                rule: &rules[w.rule].name,
                alert_rule: &rules[w.rule].alert,
                detector: &w.detector,
                tracker: &w.tracker,
            })
            .collect()
    }
}
