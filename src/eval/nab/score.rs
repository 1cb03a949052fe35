//! Scoring a detector on the corpus: per file and in total at one threshold, and the report of
//! every profile at its best corpus-wide threshold.
//!
//! At threshold `T` a row is flagged when its anomaly score is `>= T`. A file's raw score is the
//! sum, over its windows, of the best (earliest) flagged row's credit `A_TP * sigma(y) /
//! sigma(-1)` or `-A_FN` when no row in the window is flagged, plus `A_FP * penalty` for every
//! flagged row outside the windows (see [`super::rules`]). Probationary rows are neither flagged
//! nor counted. The corpus raw score `S` is the sum over files; the normalised score is
//! `100 * (S - S_null) / (S_perfect - S_null)` with `S_perfect = A_TP * W` (every window caught at
//! its first row) and `S_null = -A_FN * W` (nothing flagged), `W` the number of windows.
//!
//! Counts are of rows, as NAB reports them: a flagged row in a window is a true positive, an
//! unflagged one a false negative; outside the windows, a flagged row is a false positive and an
//! unflagged one a true negative.
//!
//! # Limitations
//!
//! A window that ends inside the probationary period cannot be scored; it is left out of `W`
//! and of every sum (NAB's corpus has none).

use serde::Serialize;

use super::corpus::{NabCorpus, NabFile, ScoresByFile};
use super::profile::CostProfile;
use super::rules::{probationary_rows, row_roles, RowRole};
use super::sweep::ThresholdSweep;
use crate::{Error, Result};

/// The threshold reported when the best choice is to flag nothing (above every valid score).
pub const NO_DETECTION_THRESHOLD: f64 = 1.1;

/// Rows by outcome at one threshold (probationary rows are not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RowCounts {
    /// Flagged rows inside a window.
    pub true_positives: usize,
    /// Flagged rows outside every window.
    pub false_positives: usize,
    /// Unflagged rows inside a window.
    pub false_negatives: usize,
    /// Unflagged rows outside every window.
    pub true_negatives: usize,
}

impl RowCounts {
    fn add(&mut self, other: &RowCounts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
        self.true_negatives += other.true_negatives;
    }
}

/// One file's result at the profile's threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileScore {
    /// Corpus name, `category/file.csv`.
    pub file: String,
    /// The file's raw score.
    pub raw_score: f64,
    /// Rows by outcome.
    #[serde(flatten)]
    pub counts: RowCounts,
}

/// One profile's result on the whole corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    /// The profile and its weights.
    pub profile: CostProfile,
    /// The threshold the scores are at: a row is flagged when its score is `>= threshold`.
    pub threshold: f64,
    /// Sum of the files' raw scores.
    pub raw_score: f64,
    /// Raw score of a detector that flags nothing: `-A_FN * windows`.
    pub null_score: f64,
    /// Raw score of a detector that flags the first row of every window: `A_TP * windows`.
    pub perfect_score: f64,
    /// `100 * (raw - null) / (perfect - null)`; `None` when the corpus has no scored window.
    pub normalized_score: Option<f64>,
    /// Rows by outcome, summed over files.
    #[serde(flatten)]
    pub counts: RowCounts,
    /// Per-file results, in corpus order.
    pub files: Vec<FileScore>,
}

/// A detector's NAB results: every profile at its own best threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NabReport {
    /// Number of files in the corpus.
    pub files: usize,
    /// Number of scored anomaly windows.
    pub windows: usize,
    /// Number of rows after the probationary periods.
    pub rows_scored: usize,
    /// One entry per profile, in the order the profiles were given.
    pub profiles: Vec<ProfileReport>,
}

/// Scores a detector on `corpus` for each profile, at the corpus-wide threshold that maximises
/// that profile's raw score (the highest such threshold when several tie; see
/// [`ThresholdSweep`]).
///
/// # Errors
///
/// [`Error::Input`] naming the file when `scores` lacks a corpus file, names a file not in the
/// corpus, has another number of scores than the file has rows, or holds a score that is not in
/// [0, 1].
pub fn score_corpus(
    corpus: &NabCorpus,
    scores: &ScoresByFile,
    profiles: &[CostProfile],
) -> Result<NabReport> {
    let prepared = PreparedCorpus::new(corpus, scores)?;
    let sweep = ThresholdSweep::from_prepared(&prepared);
    let profiles = profiles
        .iter()
        .map(|profile| {
            let best = sweep.best(profile);
            prepared.score(profile, best.threshold)
        })
        .collect();
    Ok(NabReport {
        files: corpus.files().len(),
        windows: prepared.window_count(),
        rows_scored: prepared.rows_scored(),
        profiles,
    })
}

/// Scores a detector on `corpus` for one profile at a given threshold, file by file. This is
/// the direct evaluation the threshold sweep is checked against.
///
/// # Errors
///
/// As [`score_corpus`].
pub fn score_at_threshold(
    corpus: &NabCorpus,
    scores: &ScoresByFile,
    profile: &CostProfile,
    threshold: f64,
) -> Result<ProfileReport> {
    Ok(PreparedCorpus::new(corpus, scores)?.score(profile, threshold))
}

/// A file with its rows' roles and the detector's scores, checked against each other.
pub(super) struct PreparedFile<'a> {
    pub(super) file: &'a NabFile,
    pub(super) roles: Vec<RowRole>,
    pub(super) scores: &'a [f64],
    /// Whether each window has a row after the probationary period (and so is scored).
    pub(super) scored_windows: Vec<bool>,
}

/// The corpus and one detector's scores, ready to be scored at any threshold.
pub(super) struct PreparedCorpus<'a> {
    pub(super) files: Vec<PreparedFile<'a>>,
}

impl<'a> PreparedCorpus<'a> {
    pub(super) fn new(corpus: &'a NabCorpus, scores: &'a ScoresByFile) -> Result<Self> {
        if let Some(name) = scores.keys().find(|name| corpus.file(name).is_none()) {
            return Err(Error::input(
                name,
                "scores given for a file not in the corpus",
            ));
        }

        let files = corpus
            .files()
            .iter()
            .map(|file| {
                let file_scores = scores.get(file.name()).ok_or_else(|| {
                    Error::input(file.name(), "no anomaly scores for this corpus file")
                })?;
                if file_scores.len() != file.len() {
                    return Err(Error::input(
                        file.name(),
                        format!(
                            "{} anomaly scores for {} rows",
                            file_scores.len(),
                            file.len()
                        ),
                    ));
                }
                if let Some(i) = file_scores.iter().position(|s| !(0.0..=1.0).contains(s)) {
                    return Err(Error::input(
                        file.name(),
                        format!(
                            "anomaly score {} at row {i} is outside [0, 1]",
                            file_scores[i]
                        ),
                    ));
                }
                let probation = probationary_rows(file.len());
                Ok(PreparedFile {
                    file,
                    roles: row_roles(file.len(), file.windows()),
                    scores: file_scores,
                    scored_windows: file
                        .windows()
                        .iter()
                        .map(|w| w.last_row >= probation)
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(PreparedCorpus { files })
    }

    pub(super) fn window_count(&self) -> usize {
        self.files
            .iter()
            .map(|f| f.scored_windows.iter().filter(|&&s| s).count())
            .sum()
    }

    pub(super) fn rows_scored(&self) -> usize {
        self.files
            .iter()
            .map(|f| f.file.len() - probationary_rows(f.file.len()))
            .sum()
    }

    /// Direct evaluation of every file at `threshold`.
    pub(super) fn score(&self, profile: &CostProfile, threshold: f64) -> ProfileReport {
        let files: Vec<FileScore> = self
            .files
            .iter()
            .map(|f| score_file(f, profile, threshold))
            .collect();

        let mut counts = RowCounts::default();
        let mut raw_score = 0.0;
        for f in &files {
            counts.add(&f.counts);
            raw_score += f.raw_score;
        }
        let windows = self.window_count() as f64;
        let perfect_score = profile.tp_weight * windows;
        let null_score = -profile.fn_weight * windows;
        let span = perfect_score - null_score;
        ProfileReport {
            profile: profile.clone(),
            threshold,
            raw_score,
            null_score,
            perfect_score,
            normalized_score: (span > 0.0).then(|| 100.0 * (raw_score - null_score) / span),
            counts,
            files,
        }
    }
}

fn score_file(f: &PreparedFile, profile: &CostProfile, threshold: f64) -> FileScore {
    // Best credit so far in each window; None while no row in it is flagged.
    let mut best: Vec<Option<f64>> = vec![None; f.scored_windows.len()];
    let mut false_positive_cost = 0.0;
    let mut counts = RowCounts::default();

    for (role, &score) in f.roles.iter().zip(f.scores) {
        let flagged = score >= threshold;
        match *role {
            RowRole::Probation => {}
            RowRole::InWindow { window, credit } if flagged => {
                counts.true_positives += 1;
                let earned = profile.tp_weight * credit;
                if best[window].is_none_or(|b| earned > b) {
                    best[window] = Some(earned);
                }
            }
            RowRole::InWindow { .. } => counts.false_negatives += 1,
            RowRole::Outside { penalty } if flagged => {
                counts.false_positives += 1;
                false_positive_cost += profile.fp_weight * penalty;
            }
            RowRole::Outside { .. } => counts.true_negatives += 1,
        }
    }

    let window_score: f64 = best
        .iter()
        .zip(&f.scored_windows)
        .filter(|(_, &scored)| scored)
        .map(|(b, _)| b.unwrap_or(-profile.fn_weight))
        .sum();
    FileScore {
        file: f.file.name().to_string(),
        raw_score: false_positive_cost + window_score,
        counts,
    }
}
