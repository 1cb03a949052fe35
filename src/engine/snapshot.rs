//! What `seer serve` needs beyond [`Engine::process`]: checkpoints of per-series state, alerts
//! of series that stopped reporting, and read access for its HTTP API.
//!
//! A checkpoint holds one [`SeriesSnapshot`] per series: its labels and, per watching rule (by
//! name), the rule's detector settings, the detector's state and the alert tracker. Restoring
//! under a changed rule file keeps what still applies (see [`Engine::restore`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::state::SeriesState;
use super::{Emitted, Engine};
use crate::alert::{AlertRule, AlertTracker};
use crate::detect::{AnyDetector, DetectorSpec};
use crate::rules::Selector;
use crate::series::{Labels, SeriesId};
use crate::time::Millis;

/// A series' state, borrowed for serialisation. Serialises to the same shape that
/// [`SeriesSnapshot`] deserialises from.
#[derive(Debug, Serialize)]
pub struct SeriesSnapshotRef<'a> {
    pub(super) labels: &'a Labels,
    pub(super) watches: Vec<WatchSnapshotRef<'a>>,
}

#[derive(Debug, Serialize)]
pub(super) struct WatchSnapshotRef<'a> {
    pub(super) rule: &'a str,
    pub(super) spec: &'a DetectorSpec,
    pub(super) detector: &'a AnyDetector,
    pub(super) tracker: &'a AlertTracker,
    pub(super) fired: u64,
    pub(super) resolved: u64,
}

/// A series' state as read back from a checkpoint.
#[derive(Debug, Deserialize)]
pub struct SeriesSnapshot {
    pub(super) labels: Labels,
    pub(super) watches: Vec<WatchSnapshot>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WatchSnapshot {
    pub(super) rule: String,
    pub(super) spec: DetectorSpec,
    pub(super) detector: AnyDetector,
    pub(super) tracker: AlertTracker,
    pub(super) fired: u64,
    pub(super) resolved: u64,
}

impl SeriesSnapshot {
    /// The series' labels.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }
}

/// What [`Engine::restore`] did, summed over calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// Series restored.
    pub series: u64,
    /// (rule, series) pairs restored with their detector and alert.
    pub watches_restored: u64,
    /// Pairs whose rule's detector settings changed: the alert was kept, the detector starts
    /// learning again.
    pub detectors_reset: u64,
    /// Pairs of a rule that now matches the series but did not when the checkpoint was taken.
    pub watches_new: u64,
    /// Saved pairs of rules that no longer exist or no longer match the series.
    pub watches_dropped: u64,
}

/// One rule watching one series, for queries.
#[derive(Debug, Clone, Copy)]
pub struct WatchView<'a> {
    /// The rule's name.
    pub rule: &'a str,
    /// The rule's alert side (labels, annotations).
    pub alert_rule: &'a AlertRule,
    pub detector: &'a AnyDetector,
    pub tracker: &'a AlertTracker,
}

impl Engine {
    /// Every series' state, for a checkpoint, in no particular order.
    pub fn snapshots(&self) -> impl Iterator<Item = (SeriesId, SeriesSnapshotRef<'_>)> + '_ {
        self.series
            .iter()
            .map(|(id, s)| (*id, s.snapshot(&self.rules)))
    }

    /// Puts a series back from a checkpoint, replacing any state it has. A saved watch is kept
    /// when its rule (by name) still matches the series; its detector is kept only when the
    /// rule's detector settings are unchanged. Counts go to `outcome`.
    pub fn restore(&mut self, snapshot: SeriesSnapshot, outcome: &mut RestoreOutcome) {
        let state = SeriesState::restore(snapshot, &self.rules, outcome);
        self.series.insert(state.id(), state);
    }

    /// Evaluates the alerts of series `id` as if their conditions stopped holding at `at_ms`;
    /// for Prometheus stale markers and series that stopped reporting. Returns the
    /// notifications that causes (resolutions, due resends).
    pub fn evaluate_absent(&mut self, id: SeriesId, at_ms: Millis) -> Vec<Emitted> {
        match self.series.get_mut(&id) {
            Some(state) => state.evaluate_absent(at_ms, &self.rules, &self.options),
            None => Vec::new(),
        }
    }

    /// Drops series `id` and everything learned about it; returns whether it was known.
    pub fn forget(&mut self, id: SeriesId) -> bool {
        self.series.remove(&id).is_some()
    }

    /// Series with an alert that is pending, firing or still reporting its resolution.
    pub fn series_with_alerts(&self) -> Vec<SeriesId> {
        self.series
            .values()
            .filter(|s| !s.alerts_idle())
            .map(|s| s.id())
            .collect()
    }

    /// The labels of series `id`, if seen.
    pub fn labels(&self, id: SeriesId) -> Option<&Arc<Labels>> {
        self.series.get(&id).map(|s| s.labels())
    }

    /// The rules watching series `id`, with their detector and alert state.
    pub fn watches(&self, id: SeriesId) -> Option<Vec<WatchView<'_>>> {
        self.series.get(&id).map(|s| s.watch_views(&self.rules))
    }

    /// Calls `f` with the labels and watches of every series, in no particular order.
    pub fn for_each_series(&self, mut f: impl FnMut(SeriesId, &Arc<Labels>, Vec<WatchView<'_>>)) {
        for state in self.series.values() {
            f(state.id(), state.labels(), state.watch_views(&self.rules));
        }
    }

    /// The name and selector of every rule the engine runs.
    pub fn rule_selectors(&self) -> Vec<(&str, &Selector)> {
        self.rules
            .iter()
            .map(|r| (r.name.as_str(), &r.selector))
            .collect()
    }
}
