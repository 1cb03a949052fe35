//! Change-point scoring on the Turing Change Point Dataset (TCPD): F1 with a margin, and
//! segment covering, both against several annotators.
//!
//! Change points are 0-based row indices; a change point at `c` starts a new segment at row `c`.
//! Before scoring, index 0 is added to every annotator's set and to the predictions (so the
//! start of the series always counts as found), and duplicates are dropped.
//!
//! **F1 with margin `M` (5 in TCPD).** Matching a set of true change points `T` against the
//! predictions `X`: the points of `T` are taken in increasing order, and each is matched by the
//! closest prediction within `M` that no earlier point has used (the smaller index on a tie in
//! distance). With `T*` the union of all annotators' sets and `K` annotators,
//!
//! ```text
//! precision P = |matches(T*, X)| / |X|
//! recall    R = (1 / K) * sum_k |matches(T_k, X)| / |T_k|
//! F1          = 2 P R / (P + R)
//! ```
//!
//! **Covering.** A set of change points cuts rows `0..n` into segments. For one annotator, each
//! of its segments `A` is scored by its best Jaccard overlap `|A ∩ B| / |A ∪ B|` with a predicted
//! segment `B`, weighted by `|A|`:
//! `C_k = (1 / n) * sum_A |A| * max_B J(A, B)`. The covering is the mean of `C_k` over
//! annotators. Change points at or after `n` cut nothing.
//!
//! Files read: `DIR/datasets/<name>/<name>.json` (series in `series[].raw`, `null` for a
//! missing value) and `annotations.json` (`{"<dataset>": {"<annotator>": [indices]}}`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The margin TCPD's F1 allows between a true and a predicted change point.
pub const DEFAULT_MARGIN: usize = 5;

/// Change points per annotator (annotator id to indices), for one dataset.
pub type DatasetAnnotations = BTreeMap<String, Vec<usize>>;

/// Annotations of every dataset, by dataset name.
pub type Annotations = BTreeMap<String, DatasetAnnotations>;

/// One dimension of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpdSeries {
    /// The series' label in the file (`V1` when the source had none).
    pub label: String,
    /// One value per observation; `None` where the value is missing.
    pub values: Vec<Option<f64>>,
}

/// A TCPD dataset: `n_obs` observations of one or more series.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpdDataset {
    /// Dataset name (`nile`, `run_log`, ...).
    pub name: String,
    /// Number of observations, the same for every series.
    pub n_obs: usize,
    /// The series, one per dimension.
    pub series: Vec<TcpdSeries>,
}

impl TcpdDataset {
    /// Whether the dataset has more than one series.
    pub fn is_multivariate(&self) -> bool {
        self.series.len() > 1
    }

    /// Number of missing values over all series.
    pub fn missing(&self) -> usize {
        self.series
            .iter()
            .map(|s| s.values.iter().filter(|v| v.is_none()).count())
            .sum()
    }
}

#[derive(Deserialize)]
struct DatasetJson {
    name: String,
    n_obs: usize,
    n_dim: usize,
    series: Vec<SeriesJson>,
}

#[derive(Deserialize)]
struct SeriesJson {
    label: Option<String>,
    raw: Vec<Option<f64>>,
}

/// Reads one dataset file (`<name>.json`).
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file when the JSON
/// does not have the dataset shape, or `n_dim` or `n_obs` disagree with the series.
pub fn read_dataset(path: &Path) -> Result<TcpdDataset> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let location = path.display().to_string();
    let raw: DatasetJson = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            &location,
            format!("not a TCPD dataset (name, n_obs, n_dim, series[].raw): {e}"),
        )
    })?;

    if raw.series.len() != raw.n_dim {
        return Err(Error::input(
            &location,
            format!(
                "n_dim is {} but there are {} series",
                raw.n_dim,
                raw.series.len()
            ),
        ));
    }
    let series = raw
        .series
        .into_iter()
        .enumerate()
        .map(|(k, s)| {
            if s.raw.len() != raw.n_obs {
                return Err(Error::input(
                    &location,
                    format!(
                        "series {k} has {} values, n_obs is {}",
                        s.raw.len(),
                        raw.n_obs
                    ),
                ));
            }
            Ok(TcpdSeries {
                label: s.label.unwrap_or_else(|| format!("V{}", k + 1)),
                values: s.raw,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TcpdDataset {
        name: raw.name,
        n_obs: raw.n_obs,
        series,
    })
}

/// Reads every dataset under `dir/datasets/`, each from `<name>/<name>.json`, sorted by name.
///
/// # Errors
///
/// As [`read_dataset`], and [`Error::Io`] when the folder cannot be listed.
pub fn load_datasets(dir: &Path) -> Result<Vec<TcpdDataset>> {
    let root = dir.join("datasets");
    let entries = std::fs::read_dir(&root).map_err(|e| Error::io(&root, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&root, e))?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    names
        .iter()
        .map(|name| read_dataset(&root.join(name).join(format!("{name}.json"))))
        .collect()
}

/// Reads `annotations.json`.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file when the JSON
/// is not `{"dataset": {"annotator": [non-negative integers]}}`.
pub fn load_annotations(path: &Path) -> Result<Annotations> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(
            path.display().to_string(),
            format!("expected {{\"dataset\": {{\"annotator\": [indices]}}}}: {e}"),
        )
    })
}

/// F1 with a margin and its two parts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct F1Score {
    /// Matched points of the union of annotations over the number of predictions.
    pub precision: f64,
    /// Mean over annotators of the fraction of their points that were matched.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// Both TCPD metrics for one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TcpdScore {
    /// F1 with margin [`DEFAULT_MARGIN`].
    #[serde(flatten)]
    pub f1: F1Score,
    /// Covering, averaged over annotators.
    pub cover: f64,
}

/// Scores `predictions` on dataset `name` of `n_obs` observations against its annotations.
///
/// # Errors
///
/// [`Error::Input`] naming the dataset when it has no annotators or no observations.
pub fn score_dataset(
    name: &str,
    annotations: &DatasetAnnotations,
    predictions: &[usize],
    n_obs: usize,
) -> Result<TcpdScore> {
    let annotators: Vec<Vec<usize>> = annotations.values().cloned().collect();
    let f1 = f1_with_margin(&annotators, predictions, DEFAULT_MARGIN)
        .ok_or_else(|| Error::input(name, "no annotators: F1 is undefined"))?;
    let cover = covering(&annotators, predictions, n_obs).ok_or_else(|| {
        Error::input(
            name,
            "no annotators or no observations: covering is undefined",
        )
    })?;
    Ok(TcpdScore { f1, cover })
}

/// F1 with `margin` of `predictions` against each annotator's change points (see the module
/// docs). `None` when there are no annotators.
pub fn f1_with_margin(
    annotators: &[Vec<usize>],
    predictions: &[usize],
    margin: usize,
) -> Option<F1Score> {
    if annotators.is_empty() {
        return None;
    }
    let predicted = with_origin(predictions);
    let per_annotator: Vec<BTreeSet<usize>> = annotators.iter().map(|a| with_origin(a)).collect();
    let union: BTreeSet<usize> = per_annotator.iter().flatten().copied().collect();

    // Both sets hold 0, which matches itself, so precision and recall are > 0.
    let precision = count_matches(&union, &predicted, margin) as f64 / predicted.len() as f64;
    let recall = per_annotator
        .iter()
        .map(|truth| count_matches(truth, &predicted, margin) as f64 / truth.len() as f64)
        .sum::<f64>()
        / per_annotator.len() as f64;
    Some(F1Score {
        precision,
        recall,
        f1: 2.0 * precision * recall / (precision + recall),
    })
}

/// Segment covering of `predictions` over rows `0..n_obs`, averaged over annotators (see the
/// module docs). `None` when there are no annotators or no rows.
pub fn covering(annotators: &[Vec<usize>], predictions: &[usize], n_obs: usize) -> Option<f64> {
    if annotators.is_empty() || n_obs == 0 {
        return None;
    }
    let predicted = segments(predictions, n_obs);
    let total: f64 = annotators
        .iter()
        .map(|a| {
            let weighted: f64 = segments(a, n_obs)
                .iter()
                .map(|&truth| {
                    let best = predicted
                        .iter()
                        .map(|&p| jaccard(truth, p))
                        .fold(0.0, f64::max);
                    (truth.1 - truth.0) as f64 * best
                })
                .sum();
            weighted / n_obs as f64
        })
        .sum();
    Some(total / annotators.len() as f64)
}

/// `points` with 0 added, deduplicated and sorted.
fn with_origin(points: &[usize]) -> BTreeSet<usize> {
    let mut set: BTreeSet<usize> = points.iter().copied().collect();
    set.insert(0);
    set
}

/// How many points of `truth` (in increasing order) find an unused prediction within `margin`.
fn count_matches(truth: &BTreeSet<usize>, predicted: &BTreeSet<usize>, margin: usize) -> usize {
    let mut unused = predicted.clone();
    let mut matches = 0;
    for &t in truth {
        // The closest unused prediction in [t - margin, t + margin]; ties go to the smaller one.
        let nearest = unused
            .range(t.saturating_sub(margin)..=t.saturating_add(margin))
            .min_by_key(|&&x| (x.abs_diff(t), x))
            .copied();
        if let Some(x) = nearest {
            unused.remove(&x);
            matches += 1;
        }
    }
    matches
}

/// The half-open segments `[start, end)` that `change_points` (plus 0) cut `0..n_obs` into.
fn segments(change_points: &[usize], n_obs: usize) -> Vec<(usize, usize)> {
    let cuts: Vec<usize> = with_origin(change_points)
        .into_iter()
        .filter(|&c| c < n_obs)
        .collect();
    cuts.iter()
        .enumerate()
        .map(|(k, &start)| (start, cuts.get(k + 1).copied().unwrap_or(n_obs)))
        .collect()
}

/// Jaccard index of two half-open segments.
fn jaccard(a: (usize, usize), b: (usize, usize)) -> f64 {
    let overlap = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let union = (a.1 - a.0) + (b.1 - b.0) - overlap;
    overlap as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn perfect_prediction_scores_one() {
        // Two annotators agree on {10, 20}; predicting exactly that gives X = T* = {0, 10, 20}:
        // 3 of 3 matched, so P = 1, R = 1, F1 = 1; the partitions are equal, so cover = 1.
        let annotators = vec![vec![10, 20], vec![10, 20]];
        let f1 = f1_with_margin(&annotators, &[10, 20], 5).unwrap();
        assert_eq!((f1.precision, f1.recall, f1.f1), (1.0, 1.0, 1.0));
        assert_eq!(covering(&annotators, &[10, 20], 30), Some(1.0));
    }

    #[test]
    fn no_prediction_scores_like_the_zero_detector() {
        // One annotator at {10}, n = 30, no prediction: X = {0}, T* = {0, 10}.
        // Precision: 0 matches 0, 10 finds nothing -> 1 match / |X| = 1 -> P = 1.
        // Recall: 1 of {0, 10} -> R = 1/2. F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
        let annotators = vec![vec![10]];
        let f1 = f1_with_margin(&annotators, &[], 5).unwrap();
        assert!(close(f1.precision, 1.0));
        assert!(close(f1.recall, 0.5));
        assert!(close(f1.f1, 2.0 / 3.0));
        // Annotator segments [0,10) and [10,30) against the single predicted [0,30):
        // J = 10/30 and 20/30, so C = (10 * 1/3 + 20 * 2/3) / 30 = (50/3) / 30 = 5/9.
        assert!(close(covering(&annotators, &[], 30).unwrap(), 5.0 / 9.0));
    }

    #[test]
    fn margin_of_five_matches_and_six_does_not() {
        // Truth {0, 20}. A prediction at 25 is 5 away: matched, P = 2/2, R = 2/2, F1 = 1.
        let annotators = vec![vec![20]];
        let f1 = f1_with_margin(&annotators, &[25], 5).unwrap();
        assert!(close(f1.f1, 1.0));
        // At 26 it is 6 away: X = {0, 26} has 1 match, P = 1/2; R = 1/2; F1 = 1/2.
        let f1 = f1_with_margin(&annotators, &[26], 5).unwrap();
        assert!(close(f1.precision, 0.5));
        assert!(close(f1.recall, 0.5));
        assert!(close(f1.f1, 0.5));
        // Below the truth too: 15 is matched, 14 is not.
        assert!(close(
            f1_with_margin(&annotators, &[15], 5).unwrap().f1,
            1.0
        ));
        assert!(close(
            f1_with_margin(&annotators, &[14], 5).unwrap().f1,
            0.5
        ));
    }

    #[test]
    fn a_prediction_is_used_once() {
        // Truth {0, 10, 14}, X = {0, 12}: 0 takes 0, 10 takes 12 (distance 2), 14 finds nothing
        // unused. P = 2/2 = 1, R = 2/3, F1 = 2 * (2/3) / (5/3) = 0.8.
        let f1 = f1_with_margin(&[vec![10, 14]], &[12], 5).unwrap();
        assert!(close(f1.precision, 1.0));
        assert!(close(f1.recall, 2.0 / 3.0));
        assert!(close(f1.f1, 0.8));
    }

    #[test]
    fn precision_uses_the_union_and_recall_the_mean() {
        // Annotators {10} and {30}, prediction {10}, n = 50. X = {0, 10}.
        // Union {0, 10, 30}: 0 and 10 matched -> P = 2/2 = 1.
        // Recall: {0, 10} all matched (1); {0, 30} half (1/2) -> R = 0.75.
        // F1 = 2 * 0.75 / 1.75 = 6/7.
        let annotators = vec![vec![10], vec![30]];
        let f1 = f1_with_margin(&annotators, &[10], 5).unwrap();
        assert!(close(f1.precision, 1.0));
        assert!(close(f1.recall, 0.75));
        assert!(close(f1.f1, 6.0 / 7.0));
        // Covering. First annotator's segments equal the prediction's: C_1 = 1.
        // Second: [0,30) vs [0,10) J = 10/30, vs [10,50) J = 20/50 = 0.4 -> 0.4;
        // [30,50) vs [10,50) J = 20/40 = 0.5. C_2 = (30 * 0.4 + 20 * 0.5) / 50 = 22/50 = 0.44.
        // Mean (1 + 0.44) / 2 = 0.72.
        assert!(close(covering(&annotators, &[10], 50).unwrap(), 0.72));
    }

    #[test]
    fn change_points_past_the_end_cut_nothing() {
        assert_eq!(segments(&[5, 10, 99], 10), vec![(0, 5), (5, 10)]);
        assert_eq!(covering(&[vec![5]], &[5, 10, 99], 10), Some(1.0));
    }

    #[test]
    fn undefined_without_annotators_or_rows() {
        assert_eq!(f1_with_margin(&[], &[3], 5), None);
        assert_eq!(covering(&[], &[3], 10), None);
        assert_eq!(covering(&[vec![1]], &[3], 0), None);
        let err = score_dataset("empty", &BTreeMap::new(), &[], 10).unwrap_err();
        assert!(err.to_string().starts_with("empty:"), "{err}");
    }
}
