//! The batch change-point detector: optimal segmentations for every number of changes, and
//! Lavielle's contrast-curvature rule to choose among them.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Longest series [`Segmenter::fit`] accepts: the search is O(K n²).
pub const MAX_POINTS: usize = 20_000;

/// What each segment is modelled as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentCost {
    /// A constant level: the cost is the sum of squared deviations from the segment mean.
    Constant,
    /// A straight line: the cost is the residual sum of squares of the segment's own
    /// least-squares line, so a steady trend is one segment, not a staircase.
    #[default]
    Linear,
}

/// Settings of the batch detector. The defaults are what `seer eval tcpd` and `seer plan` use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchConfig {
    /// Segment model. Default [`SegmentCost::Linear`].
    pub cost: SegmentCost,
    /// Fewest points in a segment. Default 3 (a line through 2 points fits them exactly).
    pub min_segment: usize,
    /// The most change points considered is `n / points_per_change`, clamped to
    /// `[min_changes_considered, max_changes_considered]`. Default 25.
    pub points_per_change: usize,
    /// Default 8.
    pub min_changes_considered: usize,
    /// Default 30.
    pub max_changes_considered: usize,
    /// Lavielle's curvature threshold `S`: a number of changes is kept when the normalised
    /// contrast bends by more than this there. Default 0.75, the value Lavielle (2005)
    /// recommends. Lower finds more changes.
    pub curvature: f64,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            cost: SegmentCost::Linear,
            min_segment: 3,
            points_per_change: 25,
            min_changes_considered: 8,
            max_changes_considered: 30,
            curvature: 0.75,
        }
    }
}

/// One segment of a [`Segmentation`]: rows `start..end` and its fitted model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Segment {
    /// First row.
    pub start: usize,
    /// One past the last row.
    pub end: usize,
    /// The model's value at the first row.
    pub first: f64,
    /// The model's value at the last row.
    pub last: f64,
    /// The mean of the segment's values.
    pub mean: f64,
}

/// The change points found in a series and the segments between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segmentation {
    /// Rows where a new segment starts, increasing, never 0.
    pub change_points: Vec<usize>,
    /// The segments, in order, covering every row.
    pub segments: Vec<Segment>,
}

/// The validated batch detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segmenter {
    config: BatchConfig,
}

impl Segmenter {
    /// The detector with `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] naming the setting when `min_segment` is below 1 (below 3 for the
    /// linear cost), `points_per_change` is 0, the change-count bounds are reversed, or
    /// `curvature` is not finite and positive.
    pub fn new(config: BatchConfig) -> Result<Self> {
        let floor = match config.cost {
            SegmentCost::Constant => 1,
            SegmentCost::Linear => 3,
        };
        let bad = |message: String| Error::model("change_point_detection", message);
        if config.min_segment < floor {
            return Err(bad(format!(
                "min_segment {} is below {floor} for this cost",
                config.min_segment
            )));
        }
        if config.points_per_change == 0 {
            return Err(bad("points_per_change must be at least 1".into()));
        }
        if config.min_changes_considered > config.max_changes_considered {
            return Err(bad(format!(
                "min_changes_considered {} is above max_changes_considered {}",
                config.min_changes_considered, config.max_changes_considered
            )));
        }
        if !(config.curvature > 0.0 && config.curvature.is_finite()) {
            return Err(bad(format!(
                "curvature {} must be finite and positive",
                config.curvature
            )));
        }
        Ok(Segmenter { config })
    }

    /// The settings.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    /// Finds the change points of `y` (regularly spaced; NaN marks a missing value, which
    /// takes the previous value, or the next one at the start).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when every value is missing, infinite ones are present, or there are
    /// more than [`MAX_POINTS`]. A series
    /// too short for two segments has no change points (not an error).
    pub fn fit(&self, y: &[f64]) -> Result<Segmentation> {
        if y.len() > MAX_POINTS {
            return Err(Error::model(
                "change_point_detection",
                format!(
                    "{} values, at most {MAX_POINTS} can be segmented: average them into \
                     coarser steps first",
                    y.len()
                ),
            ));
        }
        let y = fill_missing(y)?;
        let n = y.len();
        let ms = self.config.min_segment;
        let considered = (n / self.config.points_per_change).clamp(
            self.config.min_changes_considered,
            self.config.max_changes_considered,
        );
        let max_changes = considered.min((n / ms).saturating_sub(1));

        let costs = CostTable::new(&y, self.config.cost, ms);
        let solutions = optimal_partitions(&costs, n, ms, max_changes);
        let k = lavielle(
            &solutions.iter().map(|s| s.0).collect::<Vec<_>>(),
            self.config.curvature,
        );
        let change_points = solutions
            .into_iter()
            .nth(k)
            .map(|s| s.1)
            .unwrap_or_default();
        let segments = describe(&y, &change_points, self.config.cost);
        Ok(Segmentation {
            change_points,
            segments,
        })
    }
}

/// Replaces NaN by the previous value (the next one for leading NaNs).
fn fill_missing(y: &[f64]) -> Result<Vec<f64>> {
    if y.iter().any(|v| v.is_infinite()) {
        return Err(Error::model(
            "change_point_detection",
            "infinite values cannot be segmented",
        ));
    }
    let first = y.iter().copied().find(|v| !v.is_nan()).ok_or_else(|| {
        Error::model(
            "change_point_detection",
            format!("all {} values are missing", y.len()),
        )
    })?;
    let mut last = first;
    Ok(y.iter()
        .map(|&v| {
            if !v.is_nan() {
                last = v;
            }
            last
        })
        .collect())
}

/// Segment costs for all `(start, end)` pairs, from prefix sums of the standardised series
/// (standardising keeps the sums of squares well conditioned for values such as 3e8).
struct CostTable {
    n: usize,
    cost: SegmentCost,
    min_segment: usize,
    /// Prefix sums of 1·t⁰y⁰... indexed 0..=n: Σy, Σy², Σt, Σt², Σty.
    sy: Vec<f64>,
    syy: Vec<f64>,
    st: Vec<f64>,
    stt: Vec<f64>,
    sty: Vec<f64>,
}

impl CostTable {
    fn new(y: &[f64], cost: SegmentCost, min_segment: usize) -> Self {
        let n = y.len();
        let mean = y.iter().sum::<f64>() / n as f64;
        let sd = (y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt();
        let scale = if sd > 0.0 { sd } else { 1.0 };
        let mut table = CostTable {
            n,
            cost,
            min_segment,
            sy: vec![0.0; n + 1],
            syy: vec![0.0; n + 1],
            st: vec![0.0; n + 1],
            stt: vec![0.0; n + 1],
            sty: vec![0.0; n + 1],
        };
        for (i, v) in y.iter().enumerate() {
            let z = (v - mean) / scale;
            let t = i as f64;
            table.sy[i + 1] = table.sy[i] + z;
            table.syy[i + 1] = table.syy[i] + z * z;
            table.st[i + 1] = table.st[i] + t;
            table.stt[i + 1] = table.stt[i] + t * t;
            table.sty[i + 1] = table.sty[i] + t * z;
        }
        table
    }

    /// The cost of rows `s..e`; infinite below the minimum segment length.
    fn cost(&self, s: usize, e: usize) -> f64 {
        debug_assert!(e <= self.n);
        let m = (e - s) as f64;
        if e - s < self.min_segment {
            return f64::INFINITY;
        }
        let sy = self.sy[e] - self.sy[s];
        let mut rss = (self.syy[e] - self.syy[s]) - sy * sy / m;
        if self.cost == SegmentCost::Linear {
            let st = self.st[e] - self.st[s];
            let sxx = (self.stt[e] - self.stt[s]) - st * st / m;
            let sxy = (self.sty[e] - self.sty[s]) - st * sy / m;
            if sxx > 0.0 {
                rss -= sxy * sxy / sxx;
            }
        }
        rss.max(0.0)
    }
}

/// For every number of change points `k` in `0..=max_changes`, the least total cost of a
/// partition of `0..n` into `k + 1` segments and its change points: the segment neighbourhood
/// dynamic programme of Auger and Lawrence (1989), O(max_changes · n²).
fn optimal_partitions(
    costs: &CostTable,
    n: usize,
    ms: usize,
    max_changes: usize,
) -> Vec<(f64, Vec<usize>)> {
    // best[k][t]: least cost of rows 0..t in k + 1 segments; from[k][t]: where the last starts.
    let mut best: Vec<Vec<f64>> = vec![(0..=n).map(|t| costs.cost(0, t)).collect()];
    let mut from = vec![vec![0usize; n + 1]];
    for k in 1..=max_changes {
        let previous = &best[k - 1];
        let mut row = vec![f64::INFINITY; n + 1];
        let mut starts = vec![0usize; n + 1];
        for t in (k + 1) * ms..=n {
            let first = k * ms;
            let (arg, low) = previous[first..=t - ms]
                .iter()
                .enumerate()
                .map(|(i, f)| (first + i, f + costs.cost(first + i, t)))
                .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            row[t] = low;
            starts[t] = arg;
        }
        best.push(row);
        from.push(starts);
    }

    (0..=max_changes)
        .map(|k| {
            let mut points = Vec::with_capacity(k);
            let mut t = n;
            for level in (1..=k).rev() {
                t = from[level][t];
                points.push(t);
            }
            points.reverse();
            (best[k][n], points)
        })
        .take_while(|(cost, _)| cost.is_finite())
        .collect()
}

/// Lavielle (2005), "Using penalized contrasts for the change-point problem", Signal
/// Processing 85(8), §4: with `R_k` the least cost with `k` change points (`k = 0..=K`), the
/// normalised contrast `J_k = (R_K - R_k) / (R_K - R_0) · K + 1` runs from `K + 1` down to 1;
/// the chosen `k` is the largest with a second difference `J_{k-1} - 2 J_k + J_{k+1}` above
/// `curvature`, and 0 when there is none.
fn lavielle(costs: &[f64], curvature: f64) -> usize {
    let big_k = costs.len().saturating_sub(1);
    if big_k < 2 {
        return 0;
    }
    let (r0, rk) = (costs[0], costs[big_k]);
    if r0 - rk <= f64::EPSILON * r0.abs().max(1.0) {
        return 0;
    }
    let j: Vec<f64> = costs
        .iter()
        .map(|r| (rk - r) / (rk - r0) * big_k as f64 + 1.0)
        .collect();
    (1..big_k)
        .rev()
        .find(|&k| j[k - 1] - 2.0 * j[k] + j[k + 1] > curvature)
        .unwrap_or(0)
}

/// The fitted model of each segment, on the original scale.
fn describe(y: &[f64], change_points: &[usize], cost: SegmentCost) -> Vec<Segment> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(change_points);
    bounds.push(y.len());
    bounds
        .windows(2)
        .map(|w| {
            let (s, e) = (w[0], w[1]);
            let values = &y[s..e];
            let m = values.len() as f64;
            let mean = values.iter().sum::<f64>() / m;
            let slope = match cost {
                SegmentCost::Constant => 0.0,
                SegmentCost::Linear => {
                    let mid = (m - 1.0) / 2.0;
                    let (mut sxy, mut sxx) = (0.0, 0.0);
                    for (i, v) in values.iter().enumerate() {
                        sxy += (i as f64 - mid) * (v - mean);
                        sxx += (i as f64 - mid) * (i as f64 - mid);
                    }
                    if sxx > 0.0 {
                        sxy / sxx
                    } else {
                        0.0
                    }
                }
            };
            let half = (m - 1.0) / 2.0;
            Segment {
                start: s,
                end: e,
                first: mean - slope * half,
                last: mean + slope * half,
                mean,
            }
        })
        .collect()
}

#[cfg(test)]
pub(super) fn lavielle_for_test(costs: &[f64], curvature: f64) -> usize {
    lavielle(costs, curvature)
}
