//! The streaming core: routes samples to the rules that watch their series, runs each rule's
//! detector and drives its alert lifecycle.
//!
//! ```text
//! SampleBatch ─> group by series ─> rayon: per series, per rule ─> detector ─> alert lifecycle
//!                                                                               │
//!                                                     notifications (time order) <┘
//! ```
//!
//! `seer replay` and `seer serve` both feed this engine; only where the samples come from and
//! where notifications go differ. Within one call, each series' samples are put in time order
//! (a stable sort; rows that had to move are counted as `reordered`); samples older than what a
//! series has already seen are skipped and counted by its detector.

mod compile;
mod snapshot;
mod state;

pub use snapshot::{RestoreOutcome, SeriesSnapshot, SeriesSnapshotRef, WatchView};
pub use state::{SeriesSummary, WatchSummary};

use crate::detect::Verdict;
use crate::series::Labels;

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::alert::{LifecycleConfig, Notification};
use crate::batch::SampleBatch;
use crate::rules::RuleSet;
use crate::series::SeriesId;
use crate::time::Millis;

pub(crate) use compile::CompiledRule;
use state::SeriesState;

/// Settings of an [`Engine`] that are not in the rules.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Alert lifecycle timing (resend interval, resolved retention).
    pub lifecycle: LifecycleConfig,
    /// Base of the `generatorURL` of alerts (the service's own address), if known.
    pub generator_url: Option<String>,
}

/// Counts across all series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Samples received.
    pub samples: u64,
    /// Samples moved to restore time order within a call.
    pub reordered: u64,
    /// Samples of series no rule watches.
    pub unwatched: u64,
}

/// One notification and the event time that produced it.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub at_ms: Millis,
    pub notification: Notification,
}

/// One verdict, as [`Engine::process_grouped_with`] reports it.
#[derive(Debug, Clone, Copy)]
pub struct VerdictEvent<'a> {
    /// The series the sample belongs to.
    pub labels: &'a Labels,
    /// Index of the rule among the engine's compiled rules (file order of the available rules).
    pub rule: usize,
    /// The rule's name (its alertname).
    pub rule_name: &'a str,
    pub timestamp_ms: Millis,
    pub value: f64,
    pub verdict: &'a Verdict,
}

/// Per-series state for every rule, and the rules themselves.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<Arc<CompiledRule>>,
    series: HashMap<SeriesId, SeriesState>,
    options: EngineOptions,
    stats: EngineStats,
}

impl Engine {
    /// An engine running the available rules of `rules`. Rules whose model is not built in
    /// this version are left out; `seer check` and the replay summary report them.
    pub fn new(rules: &RuleSet, options: EngineOptions) -> Self {
        let rules = compile::compile(rules, options.generator_url.as_deref())
            .into_iter()
            .map(Arc::new)
            .collect();
        Engine {
            rules,
            series: HashMap::new(),
            options,
            stats: EngineStats::default(),
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Number of series seen.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Processes one batch; returns the notifications it caused, in event-time order.
    pub fn process(&mut self, batch: &SampleBatch) -> Vec<Emitted> {
        let mut groups: HashMap<SeriesId, Vec<(Millis, f64)>> = HashMap::new();
        for s in batch.rows() {
            groups
                .entry(s.series)
                .or_default()
                .push((s.timestamp_ms, s.value));
        }
        let groups = groups
            .into_iter()
            .filter_map(|(id, samples)| {
                let labels = batch.dictionary.get(id)?.clone();
                Some((labels, samples))
            })
            .collect();
        self.process_grouped(groups)
    }

    /// Processes samples already grouped by series (any order within a group).
    pub fn process_grouped(&mut self, groups: Vec<crate::replay::SeriesSamples>) -> Vec<Emitted> {
        self.process_grouped_with(groups, |_| {})
    }

    /// Like [`process_grouped`](Self::process_grouped), and hands every verdict to `observe` as
    /// it is made: the hook benchmarks and debugging use to see per-sample scores without a
    /// second copy of the detection logic.
    ///
    /// `observe` runs on the rayon worker that owns the series, so it must be `Sync`; for one
    /// series and rule it sees the samples in the order the detector judged them (time order,
    /// a stable sort of the group, so equal timestamps keep their input order).
    pub fn process_grouped_with<F>(
        &mut self,
        groups: Vec<crate::replay::SeriesSamples>,
        observe: F,
    ) -> Vec<Emitted>
    where
        F: Fn(&VerdictEvent<'_>) + Sync,
    {
        let mut jobs: Vec<(SeriesState, Vec<(Millis, f64)>)> = Vec::with_capacity(groups.len());
        for (labels, mut samples) in groups {
            self.stats.samples += samples.len() as u64;
            self.stats.reordered += sort_counting_moves(&mut samples);
            let id = labels.id();
            let state = match self.series.remove(&id) {
                Some(state) => state,
                None => SeriesState::new(labels, &self.rules),
            };
            if state.is_unwatched() {
                self.stats.unwatched += samples.len() as u64;
            }
            jobs.push((state, samples));
        }
        // A fixed order makes the merged notifications deterministic.
        jobs.sort_by_key(|(state, _)| state.id());

        let (rules, options) = (&self.rules, &self.options);
        let mut emitted: Vec<Emitted> = jobs
            .par_iter_mut()
            .map(|(state, samples)| state.run(samples, rules, options, &observe))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        emitted.sort_by_key(|e| e.at_ms);

        for (state, _) in jobs {
            self.series.insert(state.id(), state);
        }
        emitted
    }

    /// A summary of every series, sorted by labels.
    pub fn summaries(&self) -> Vec<SeriesSummary> {
        let mut out: Vec<SeriesSummary> = self
            .series
            .values()
            .map(|s| s.summary(&self.rules))
            .collect();
        out.sort_by_key(|s| s.labels.to_string());
        out
    }
}

/// Stable-sorts samples by time; returns how many were not already in place.
fn sort_counting_moves(samples: &mut [(Millis, f64)]) -> u64 {
    if samples.windows(2).all(|w| w[0].0 <= w[1].0) {
        return 0;
    }
    let before: Vec<Millis> = samples.iter().map(|s| s.0).collect();
    samples.sort_by_key(|s| s.0);
    before
        .iter()
        .zip(samples.iter())
        .filter(|(a, b)| **a != b.0)
        .count() as u64
}
