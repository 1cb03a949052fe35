//! NAB (Numenta Anomaly Benchmark) scoring.
//!
//! A detector gives every row of every corpus file an anomaly score in [0, 1]. The score it
//! earns, under each cost profile `(A_TP, A_FP, A_FN)`:
//!
//! 1. The first `min(floor(0.15 * N), 750)` rows of an `N`-row file are probationary and not
//!    scored.
//! 2. At threshold `T`, a row whose anomaly score is `>= T` is a detection.
//! 3. `sigma(y) = 2 / (1 + exp(5 y)) - 1`, taken as exactly -1 for `y > 3` (as NAB's scorer does).
//! 4. A window (the rows whose timestamps lie within a labelled `[start, end]`, both included)
//!    of width `w` ending at row `right` credits only its best (earliest) detection `i`, with
//!    `A_TP * sigma(y) / sigma(-1)`, `y = -(right - i + 1) / w`: `A_TP` at the first row,
//!    `A_TP * sigma(-1 / w) / sigma(-1)` at the last. A window without a detection costs
//!    `-A_FN`.
//! 5. Every detection outside the windows is a false positive: `-A_FP` before the first window,
//!    `A_FP * sigma((i - prev_right) / (prev_width - 1))` after one, measured from the last window
//!    that ended before it.
//! 6. One threshold per detector and profile for the whole corpus: the one that maximises the
//!    summed raw score `S`, swept over the distinct anomaly scores (highest threshold on ties;
//!    1.1 when flagging nothing is best).
//! 7. Normalised score `100 * (S - S_null) / (S_perfect - S_null)` with `S_perfect = A_TP * W`
//!    and `S_null = -A_FN * W` for `W` windows.
//!
//! [`NabCorpus::load`] reads NAB's folder layout, [`load_detector_scores`] a detector's results
//! folder, and [`score_corpus`] produces the [`NabReport`]. [`evaluate`] is `seer eval nab`:
//! it runs seer's detectors over the corpus on the production path (or reads a detector's
//! results) and scores them.

mod corpus;
mod profile;
mod rules;
mod run;
mod score;
mod sweep;

pub use corpus::{
    load_detector_scores, read_scores, read_timestamps, read_windows, LabelWindow, NabCorpus,
    NabFile, RowWindow, ScoresByFile,
};
pub use profile::{default_profiles, read_profiles, CostProfile};
pub use rules::{probationary_rows, scaled_sigmoid, MAX_PROBATION_ROWS, PROBATION_FRACTION};
pub use run::{
    detect, evaluate, peak_memory_bytes, write_results, NabEvalOptions, NabEvaluation, RunScale,
    EVAL_RULES, SEER_DETECTOR,
};
pub use score::{
    score_at_threshold, score_corpus, FileScore, NabReport, ProfileReport, RowCounts,
    NO_DETECTION_THRESHOLD,
};
pub use sweep::{ThresholdScore, ThresholdSweep};
