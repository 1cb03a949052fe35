//! The corpus-wide threshold sweep: the raw score at every threshold worth trying, in one pass.
//!
//! Only the distinct anomaly scores (plus [`NO_DETECTION_THRESHOLD`], which flags nothing) can
//! change which rows are flagged, so they are the candidates. The scored rows of all files are
//! sorted by anomaly score once, highest first; lowering the threshold to the next distinct
//! value then flags exactly the rows with that value, and each one changes the raw score by a
//! known amount:
//!
//! - a row outside the windows adds `A_FP * penalty`;
//! - a row in a window with nothing flagged yet replaces the window's `-A_FN` with its credit;
//! - a row in a window that already has a flagged row replaces the window's best credit if it
//!   earns more (it is earlier), and otherwise changes nothing.
//!
//! So the whole curve costs one sort plus O(rows) per profile, whatever the number of distinct
//! scores. The best threshold is the one with the highest raw score; on a tie the highest
//! threshold wins (fewest flagged rows), as in NAB, which keeps the first maximum of a list
//! sorted from the highest threshold down.

use serde::Serialize;

use super::corpus::{NabCorpus, ScoresByFile};
use super::profile::CostProfile;
use super::rules::RowRole;
use super::score::{PreparedCorpus, NO_DETECTION_THRESHOLD};
use crate::Result;

/// The raw score of the whole corpus at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdScore {
    /// Rows with an anomaly score `>= threshold` are flagged.
    pub threshold: f64,
    /// The corpus raw score (summed incrementally, so it may differ from the per-file sum in
    /// the last few bits).
    pub raw_score: f64,
    /// Flagged rows inside windows.
    pub true_positives: usize,
    /// Flagged rows outside windows.
    pub false_positives: usize,
}

/// One scored row, reduced to what the sweep needs.
#[derive(Debug, Clone, Copy)]
struct SweepRow {
    score: f64,
    /// Corpus-wide window number, or `None` outside every window.
    window: Option<usize>,
    /// `credit` for a window row, `penalty` for a row outside (see [`RowRole`]).
    unit: f64,
}

/// A detector's scored rows across the corpus, sorted by anomaly score, ready to be swept for
/// any profile.
#[derive(Debug, Clone)]
pub struct ThresholdSweep {
    rows: Vec<SweepRow>,
    /// Windows in the corpus, including those that end in a probationary period.
    all_windows: usize,
    /// Windows that have at least one scored row.
    scored_windows: usize,
}

impl ThresholdSweep {
    /// Prepares the sweep of `scores` over `corpus`.
    ///
    /// # Errors
    ///
    /// As [`super::score_corpus`].
    pub fn new(corpus: &NabCorpus, scores: &ScoresByFile) -> Result<Self> {
        Ok(Self::from_prepared(&PreparedCorpus::new(corpus, scores)?))
    }

    pub(super) fn from_prepared(prepared: &PreparedCorpus) -> Self {
        let mut rows = Vec::new();
        let mut offset = 0usize;
        for f in &prepared.files {
            for (role, &score) in f.roles.iter().zip(f.scores) {
                let (window, unit) = match *role {
                    RowRole::Probation => continue,
                    RowRole::InWindow { window, credit } => (Some(offset + window), credit),
                    RowRole::Outside { penalty } => (None, penalty),
                };
                rows.push(SweepRow {
                    score,
                    window,
                    unit,
                });
            }
            offset += f.scored_windows.len();
        }

        // Scores are checked to lie in [0, 1], so there is no NaN to order.
        rows.sort_unstable_by(|a, b| b.score.total_cmp(&a.score));
        ThresholdSweep {
            rows,
            all_windows: offset,
            scored_windows: prepared.window_count(),
        }
    }

    /// The raw score at every candidate threshold, from [`NO_DETECTION_THRESHOLD`] down to the
    /// lowest anomaly score.
    pub fn curve(&self, profile: &CostProfile) -> Vec<ThresholdScore> {
        let mut curve = Vec::new();
        self.walk(profile, |point| curve.push(point));
        curve
    }

    /// The candidate with the highest raw score; the highest threshold among equal scores.
    pub fn best(&self, profile: &CostProfile) -> ThresholdScore {
        let mut best: Option<ThresholdScore> = None;
        self.walk(profile, |point| {
            if best.is_none_or(|b| point.raw_score > b.raw_score) {
                best = Some(point);
            }
        });
        // `walk` always reports the no-detection candidate first.
        best.unwrap_or(ThresholdScore {
            threshold: NO_DETECTION_THRESHOLD,
            raw_score: -profile.fn_weight * self.scored_windows as f64,
            true_positives: 0,
            false_positives: 0,
        })
    }

    fn walk(&self, profile: &CostProfile, mut visit: impl FnMut(ThresholdScore)) {
        let mut best_credit: Vec<Option<f64>> = vec![None; self.all_windows];
        let mut point = ThresholdScore {
            threshold: NO_DETECTION_THRESHOLD,
            raw_score: -profile.fn_weight * self.scored_windows as f64,
            true_positives: 0,
            false_positives: 0,
        };
        visit(point);

        let mut i = 0;
        while i < self.rows.len() {
            // Flag every row with the next distinct score, then report that threshold.
            let threshold = self.rows[i].score;
            while i < self.rows.len() && self.rows[i].score == threshold {
                let row = self.rows[i];
                match row.window {
                    Some(w) => {
                        point.true_positives += 1;
                        let earned = profile.tp_weight * row.unit;
                        let slot = &mut best_credit[w];
                        match *slot {
                            None => {
                                point.raw_score += earned + profile.fn_weight;
                                *slot = Some(earned);
                            }
                            Some(previous) if earned > previous => {
                                point.raw_score += earned - previous;
                                *slot = Some(earned);
                            }
                            Some(_) => {}
                        }
                    }
                    None => {
                        point.false_positives += 1;
                        point.raw_score += profile.fp_weight * row.unit;
                    }
                }
                i += 1;
            }
            point.threshold = threshold;
            visit(point);
        }
    }
}
