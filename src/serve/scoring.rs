//! The scoring side: series split into shards, each an [`Engine`] behind its own lock.
//!
//! ```text
//! HTTP handlers ──(bounded queue of decoded requests)──> scoring thread
//!     scoring thread: merge up to N queued requests ─> group by series ─> shard by fingerprint
//!         ─> rayon: per shard, Engine::process_grouped (itself parallel per series)
//!         ─> notifications to the delivery workers
//! ```
//!
//! A shard's lock is held while it scores a round, while a checkpoint copies it out, and for
//! API reads; other shards carry on. The queue is the only buffer between HTTP and scoring:
//! when it is full the HTTP side answers 503 and Prometheus retries, so backpressure loses
//! nothing and memory stays bounded.
//!
//! # Stale markers and silent series
//!
//! A Prometheus stale marker ends the series' alerts: after the round's other samples, every
//! alert of the series is evaluated as if its condition stopped holding at the marker's time
//! (a firing alert resolves once `keep_firing_for` has passed). The detector keeps its model,
//! so a series that comes back is judged at once. [`Shards::sweep`] does the same, at the
//! wall-clock time, for series silent for `stale_after`, and forgets series silent for
//! `forget_after` that have no alert left to report.
//!
//! # Refits
//!
//! Refits run inline, in the scoring round, on the sample that makes one due (see
//! `seer::detect`); a refit touches only its own series, and a round scores its series in
//! parallel, so one refit delays one series by its duration (bounded by the rule's
//! `max_fit_points`), not the others. `seer_model_fit_seconds_total` shows the time they take.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rayon::prelude::*;

use super::remote_write::is_stale_marker;
use crate::batch::SampleBatch;
use crate::engine::{Emitted, Engine, EngineOptions};
use crate::replay::SeriesSamples;
use crate::rules::RuleSet;
use crate::series::{Labels, SeriesId};
use crate::time::Millis;

/// One shard: an engine and when each of its series last had a sample.
#[derive(Debug)]
pub struct Shard {
    pub engine: Engine,
    /// Latest sample time per series (event time, milliseconds).
    pub last_seen: HashMap<SeriesId, Millis>,
}

/// What one scoring round did.
#[derive(Debug, Default)]
pub struct RoundOutcome {
    /// Notifications in event-time order.
    pub emitted: Vec<Emitted>,
    /// Samples handed to the detectors (stale markers excluded).
    pub samples: u64,
    /// Stale markers applied.
    pub stale_markers: u64,
}

/// All series, split by fingerprint into shards.
#[derive(Debug)]
pub struct Shards {
    shards: Vec<Mutex<Shard>>,
}

/// Samples of one series in a round: its fingerprint (computed once per round), labels,
/// samples and stale markers' times.
type Group = (SeriesId, Arc<Labels>, Vec<(Millis, f64)>, Vec<Millis>);

impl Shards {
    /// `count` shards (at least 1) running `rules`.
    pub fn new(rules: &RuleSet, options: EngineOptions, count: usize) -> Self {
        let shards = (0..count.max(1))
            .map(|_| {
                Mutex::new(Shard {
                    engine: Engine::new(rules, options.clone()),
                    last_seen: HashMap::new(),
                })
            })
            .collect();
        Shards { shards }
    }

    /// Number of shards.
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// Always false: there is at least one shard.
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The shard series `id` belongs to.
    pub fn index(&self, id: SeriesId) -> usize {
        // The fingerprint is a good hash already; the high bits avoid any pattern in the low.
        ((id.0 >> 32) ^ id.0) as usize % self.shards.len()
    }

    /// Locks shard `i`. A shard whose lock was poisoned by a panic is still used: its state is
    /// per-series and a panic leaves at most one series half-updated.
    pub fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Scores decoded requests: groups their samples by series, splits the series by shard and
    /// runs the shards in parallel; stale markers are applied after each series' samples.
    pub fn score(&self, batches: &[SampleBatch]) -> RoundOutcome {
        let mut groups: HashMap<SeriesId, Group> = HashMap::new();
        for batch in batches {
            for row in batch.rows() {
                let group = match groups.get_mut(&row.series) {
                    Some(group) => group,
                    None => {
                        let Some(labels) = batch.dictionary.get(row.series) else {
                            continue;
                        };
                        groups
                            .entry(row.series)
                            .or_insert_with(|| (row.series, labels.clone(), Vec::new(), Vec::new()))
                    }
                };
                if is_stale_marker(row.value) {
                    group.3.push(row.timestamp_ms);
                } else {
                    group.2.push((row.timestamp_ms, row.value));
                }
            }
        }
        self.score_groups(groups.into_values().collect())
    }

    /// Scores samples already grouped by series (history); no stale markers.
    pub fn score_grouped(&self, groups: Vec<SeriesSamples>) -> RoundOutcome {
        self.score_groups(
            groups
                .into_iter()
                .map(|(labels, samples)| (labels.id(), labels, samples, Vec::new()))
                .collect(),
        )
    }

    fn score_groups(&self, groups: Vec<Group>) -> RoundOutcome {
        let mut per_shard: Vec<Vec<Group>> = (0..self.shards.len()).map(|_| Vec::new()).collect();
        for group in groups {
            per_shard[self.index(group.0)].push(group);
        }
        let outcomes: Vec<RoundOutcome> = per_shard
            .into_par_iter()
            .enumerate()
            .filter(|(_, groups)| !groups.is_empty())
            .map(|(i, groups)| score_shard(&mut self.lock(i), groups))
            .collect();

        let mut out = RoundOutcome::default();
        for o in outcomes {
            out.samples += o.samples;
            out.stale_markers += o.stale_markers;
            out.emitted.extend(o.emitted);
        }
        out.emitted.sort_by_key(|e| e.at_ms);
        out
    }

    /// Evaluates, at `now_ms`, the alerts of series with no sample since
    /// `now_ms - stale_after_ms` as if their condition stopped holding, and forgets series with
    /// no sample since `now_ms - forget_after_ms` and no alert left to report. Returns the
    /// notifications and the number of series forgotten.
    pub fn sweep(
        &self,
        now_ms: Millis,
        stale_after_ms: Millis,
        forget_after_ms: Millis,
    ) -> (Vec<Emitted>, usize) {
        let mut emitted = Vec::new();
        let mut forgotten = 0;
        for i in 0..self.shards.len() {
            let mut shard = self.lock(i);
            let shard = &mut *shard;
            for id in shard.engine.series_with_alerts() {
                let last = shard.last_seen.get(&id).copied().unwrap_or(Millis::MIN);
                if last < now_ms.saturating_sub(stale_after_ms) {
                    emitted.extend(shard.engine.evaluate_absent(id, now_ms));
                }
            }
            let cutoff = now_ms.saturating_sub(forget_after_ms);
            let old: Vec<SeriesId> = shard
                .last_seen
                .iter()
                .filter(|(_, last)| **last < cutoff)
                .map(|(id, _)| *id)
                .collect();
            if !old.is_empty() {
                let alerting: std::collections::HashSet<SeriesId> =
                    shard.engine.series_with_alerts().into_iter().collect();
                for id in old.into_iter().filter(|id| !alerting.contains(id)) {
                    shard.engine.forget(id);
                    shard.last_seen.remove(&id);
                    forgotten += 1;
                }
            }
        }
        (emitted, forgotten)
    }

    /// Series in memory, over all shards.
    pub fn series_count(&self) -> usize {
        (0..self.shards.len())
            .map(|i| self.lock(i).engine.series_count())
            .sum()
    }

    /// Sums of the detectors' fit counts: (fits, failed fits, microseconds in fits).
    pub fn fit_totals(&self) -> (u64, u64, u64) {
        let mut totals = (0, 0, 0);
        for i in 0..self.shards.len() {
            let shard = self.lock(i);
            shard.engine.for_each_series(|_, _, watches| {
                for w in watches {
                    let s = w.detector.stats();
                    totals.0 += s.fits;
                    totals.1 += s.fit_errors;
                    totals.2 += s.fit_micros;
                }
            });
        }
        totals
    }
}

fn score_shard(shard: &mut Shard, groups: Vec<Group>) -> RoundOutcome {
    let mut out = RoundOutcome::default();
    let mut stale: Vec<(SeriesId, Vec<Millis>)> = Vec::new();
    let mut samples: Vec<SeriesSamples> = Vec::with_capacity(groups.len());
    for (id, labels, values, markers) in groups {
        let latest = values
            .iter()
            .map(|s| s.0)
            .chain(markers.iter().copied())
            .max();
        if let Some(latest) = latest {
            let seen = shard.last_seen.entry(id).or_insert(latest);
            *seen = (*seen).max(latest);
        }
        out.samples += values.len() as u64;
        if !markers.is_empty() {
            stale.push((id, markers));
        }
        if !values.is_empty() {
            samples.push((labels, values));
        } else if shard.engine.labels(id).is_none() {
            // A stale marker of a series never seen: nothing to end.
            shard.last_seen.remove(&id);
        }
    }
    out.emitted = shard.engine.process_grouped(samples);
    for (id, mut markers) in stale {
        markers.sort_unstable();
        for at in markers {
            out.stale_markers += 1;
            out.emitted.extend(shard.engine.evaluate_absent(id, at));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertStatus, NotificationKind};
    use crate::batch::SampleBatchBuilder;
    use crate::serve::remote_write::STALE_NAN_BITS;

    const RULES: &str = "\
anomaly_detection:
  - name: jump
    match: '{__name__=\"m\"}'
    model: seasonal
    interval_width: 0.9
    warmup: 5m
    refit_every: 1h
    history: 1h
    min_deviation: 5
";

    /// Two series, `m` (watched) and `other` (not), warm after 20 minutes of 1 s samples.
    fn warm() -> (Shards, SeriesId) {
        let rules = crate::rules::parse("rules.yaml", RULES).unwrap();
        let shards = Shards::new(&rules, EngineOptions::default(), 2);
        let mut b = SampleBatchBuilder::new();
        let id = b.intern(Labels::with_metric("m", [("job", "a")]));
        let other = b.intern(Labels::with_metric("other", [("job", "a")]));
        for t in 0..1200i64 {
            b.push(id, t * 1000, 10.0 + ((t * 7919) % 17) as f64 / 17.0);
            b.push(other, t * 1000, 1.0);
        }
        let outcome = shards.score(&[b.finish()]);
        assert_eq!(outcome.samples, 2400);
        assert!(outcome.emitted.is_empty());
        (shards, id)
    }

    fn one(id_labels: (&str, &str), ts: i64, value: f64) -> SampleBatch {
        let mut b = SampleBatchBuilder::new();
        let id = b.intern(Labels::with_metric("m", [id_labels]));
        b.push(id, ts, value);
        b.finish()
    }

    #[test]
    fn a_stale_marker_resolves_a_firing_alert_at_its_time() {
        let (shards, _) = warm();
        let fired = shards.score(&[one(("job", "a"), 1_200_000, 500.0)]);
        assert_eq!(fired.emitted.len(), 1);
        assert_eq!(fired.emitted[0].notification.kind, NotificationKind::Fired);

        let stale = f64::from_bits(STALE_NAN_BITS);
        let ended = shards.score(&[one(("job", "a"), 1_201_000, stale)]);
        assert_eq!((ended.samples, ended.stale_markers), (0, 1));
        let n = &ended.emitted[0].notification;
        assert_eq!(
            (n.kind, n.status),
            (NotificationKind::Resolved, AlertStatus::Resolved)
        );
        assert_eq!(n.ends_at, 1_201_000);

        // A stale marker of a series never seen does nothing and leaves no trace.
        let unknown = shards.score(&[one(("job", "new"), 5, stale)]);
        assert!(unknown.emitted.is_empty());
        assert_eq!(shards.series_count(), 2);
    }

    #[test]
    fn silent_series_resolve_then_are_forgotten() {
        let (shards, id) = warm();
        assert_eq!(
            shards
                .score(&[one(("job", "a"), 1_200_000, 500.0)])
                .emitted
                .len(),
            1
        );

        // Not yet silent for long enough.
        let (stale, forget) = (300_000, 600_000);
        let (emitted, forgotten) = shards.sweep(1_200_000 + 299_000, stale, forget);
        assert!(emitted.is_empty() && forgotten == 0);
        // Silent for stale_after: resolved at the sweep's time.
        let (emitted, _) = shards.sweep(1_200_000 + 301_000, stale, forget);
        assert_eq!(emitted.len(), 1);
        assert_eq!(emitted[0].notification.status, AlertStatus::Resolved);
        assert_eq!(emitted[0].notification.ends_at, 1_501_000);
        // Silent for forget_after, but its resolution is still reported (15 minutes after
        // 1_501_000), so only the series without an alert is forgotten...
        let (_, forgotten) = shards.sweep(1_200_000 + 700_000, stale, forget);
        assert_eq!(forgotten, 1);
        assert!(shards.lock(shards.index(id)).engine.labels(id).is_some());
        // ...and it goes once the resolution is no longer reported.
        let (_, forgotten) = shards.sweep(1_200_000 + 1_300_000, stale, forget);
        assert_eq!(forgotten, 1);
        assert_eq!(shards.series_count(), 0);
    }
}
