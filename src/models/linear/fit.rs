//! Fitting a line by least squares or Theil–Sen, with a confidence interval for the slope.

use serde::{Deserialize, Serialize};

use super::promql::{linear_regression, KahanSum};
use crate::models::crossing::{horizon, Crossing};
use crate::models::dist::{normal_quantile, t_quantile};
use crate::time::Millis;
use crate::{Error, Result};

/// Theil–Sen fits use at most this many points (O(n²) pairs); longer inputs are thinned evenly.
pub const THEIL_SEN_MAX_POINTS: usize = 1024;

/// How the line is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinearMethod {
    /// Ordinary least squares, as Prometheus' `predict_linear`.
    LeastSquares,
    /// Median of pairwise slopes (Theil 1950, Sen 1968): robust to clean-ups and outliers.
    #[default]
    TheilSen,
}

impl LinearMethod {
    /// The method's name in annotations: `least_squares` or `theil_sen`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinearMethod::LeastSquares => "least_squares",
            LinearMethod::TheilSen => "theil_sen",
        }
    }
}

/// The unfitted linear trend model: a method and the probability mass of the slope interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearTrend {
    method: LinearMethod,
    interval: f64,
}

/// A fitted line `y(s) = intercept + slope · s`, with `s` in seconds after `at_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FittedLinear {
    /// How it was fitted.
    pub method: LinearMethod,
    /// The evaluation time the line's time axis starts at.
    pub at_ms: Millis,
    /// Number of points fitted.
    pub n: usize,
    /// The line's value at `at_ms`.
    pub intercept: f64,
    /// Change per second.
    pub slope: f64,
    /// Lower end of the slope's confidence interval (`-∞` when it cannot be computed).
    pub slope_lower: f64,
    /// Upper end of the slope's confidence interval (`+∞` when it cannot be computed).
    pub slope_upper: f64,
    /// Probability mass of the slope interval.
    pub interval: f64,
}

impl LinearTrend {
    /// The fewest points [`fit`](Self::fit) accepts.
    pub const MIN_POINTS: usize = 3;

    /// A model fitted with `method`, whose slope interval holds `interval` of the probability.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when `interval` is not in (0, 1).
    pub fn new(method: LinearMethod, interval: f64) -> Result<Self> {
        if !(interval > 0.0 && interval < 1.0) {
            return Err(Error::model(
                "linear_regression",
                format!("interval {interval} is not in (0, 1)"),
            ));
        }
        Ok(LinearTrend { method, interval })
    }

    /// The fitting method.
    pub fn method(&self) -> LinearMethod {
        self.method
    }

    /// Fits a line to time-ordered `points` `(timestamp_ms, value)`, with time measured in
    /// seconds from `at_ms` (usually the last timestamp: the evaluation time).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] with fewer than [`Self::MIN_POINTS`] points, a non-finite value, or all
    /// points at one timestamp.
    pub fn fit(&self, points: &[(Millis, f64)], at_ms: Millis) -> Result<FittedLinear> {
        let n = points.len();
        if n < Self::MIN_POINTS {
            return Err(Error::model(
                "linear_regression",
                format!("{n} points, need at least {}", Self::MIN_POINTS),
            ));
        }
        if let Some(i) = points.iter().position(|p| !p.1.is_finite()) {
            return Err(Error::model(
                "linear_regression",
                format!("point {i} is not finite"),
            ));
        }
        if points.iter().all(|p| p.0 == points[0].0) {
            return Err(Error::model(
                "linear_regression",
                "all points have the same timestamp",
            ));
        }
        let x: Vec<f64> = points.iter().map(|p| (p.0 - at_ms) as f64 / 1e3).collect();
        let y: Vec<f64> = points.iter().map(|p| p.1).collect();
        let (intercept, slope, slope_lower, slope_upper) = match self.method {
            LinearMethod::LeastSquares => least_squares(points, at_ms, &x, &y, self.interval),
            LinearMethod::TheilSen => theil_sen(&x, &y, self.interval),
        };
        Ok(FittedLinear {
            method: self.method,
            at_ms,
            n,
            intercept,
            slope,
            slope_lower,
            slope_upper,
            interval: self.interval,
        })
    }
}

/// OLS with Prometheus' arithmetic for the line, and the t-interval of the slope:
/// `b ± t_{n-2} · s / √Sxx`, `s² = Σ residual² / (n - 2)`.
fn least_squares(
    points: &[(Millis, f64)],
    at_ms: Millis,
    x: &[f64],
    y: &[f64],
    interval: f64,
) -> (f64, f64, f64, f64) {
    let (slope, intercept) = linear_regression(points, at_ms).unwrap_or((f64::NAN, f64::NAN));
    let n = x.len();
    let mean_x = x.iter().sum::<f64>() / n as f64;
    let mut sxx = KahanSum::default();
    let mut rss = KahanSum::default();
    for (xi, yi) in x.iter().zip(y) {
        sxx.add((xi - mean_x) * (xi - mean_x));
        let r = yi - (intercept + slope * xi);
        rss.add(r * r);
    }
    let se = (rss.value() / (n - 2) as f64 / sxx.value()).sqrt();
    let q = t_quantile(0.5 + interval / 2.0, (n - 2) as u64);
    let half = q * se;
    if half.is_finite() {
        (intercept, slope, slope - half, slope + half)
    } else {
        (intercept, slope, f64::NEG_INFINITY, f64::INFINITY)
    }
}

/// Theil–Sen: the median of the slopes of all pairs with distinct times, the intercept the
/// median of `y - slope · x`, and Sen's (1968) distribution-free interval: with `N` slopes and
/// `C = z · √(n (n - 1) (2n + 5) / 18)` (the normal approximation to Kendall's S, no ties), the
/// `M1`-th and `(M2 + 1)`-th smallest slopes (1-based), `M1 = round((N - C) / 2)`,
/// `M2 = round((N + C) / 2)` (Hollander and Wolfe 1973, §9.4).
fn theil_sen(x: &[f64], y: &[f64], interval: f64) -> (f64, f64, f64, f64) {
    // Thin long inputs evenly so the O(n²) pairs stay bounded.
    let step = x.len().div_ceil(THEIL_SEN_MAX_POINTS);
    let xs: Vec<f64> = x.iter().step_by(step).copied().collect();
    let ys: Vec<f64> = y.iter().step_by(step).copied().collect();
    let n = xs.len();

    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            if xs[j] != xs[i] {
                slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]));
            }
        }
    }
    let slope = median(&mut slopes);

    let count = slopes.len() as f64;
    let nf = n as f64;
    let kendall_sd = (nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0).sqrt();
    let c = normal_quantile(0.5 + interval / 2.0) * kendall_sd;
    let m1 = ((count - c) / 2.0).round();
    let m2 = ((count + c) / 2.0).round();
    let slope_lower = if m1 >= 1.0 {
        order_statistic(&mut slopes, m1 as usize - 1)
    } else {
        f64::NEG_INFINITY
    };
    let slope_upper = if m2 <= count - 1.0 {
        order_statistic(&mut slopes, m2 as usize)
    } else {
        f64::INFINITY
    };

    let mut offsets: Vec<f64> = x.iter().zip(y).map(|(xi, yi)| yi - slope * xi).collect();
    let intercept = median(&mut offsets);
    (intercept, slope, slope_lower, slope_upper)
}

/// The `k`-th smallest (0-based) of `values`, reordering them.
fn order_statistic(values: &mut [f64], k: usize) -> f64 {
    *values.select_nth_unstable_by(k, f64::total_cmp).1
}

/// The median (mean of the middle two for an even count), reordering `values`; NaN if empty.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let upper = order_statistic(values, n / 2);
    if n % 2 == 1 {
        return upper;
    }
    // After selection, the lower middle is the largest of the lower half.
    let lower = values[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

impl FittedLinear {
    /// The line's value at `t_ms`.
    pub fn value_at(&self, t_ms: Millis) -> f64 {
        self.intercept + self.slope * ((t_ms - self.at_ms) as f64 / 1e3)
    }

    /// The line `secs` after the evaluation time, with the range the slope interval gives:
    /// `(mean, lower, upper)`. The range covers the uncertainty of the slope only, not of the
    /// level nor the scatter of single samples.
    pub fn forecast(&self, secs: f64) -> (f64, f64, f64) {
        let a = self.intercept + self.slope_lower * secs;
        let b = self.intercept + self.slope_upper * secs;
        (self.intercept + self.slope * secs, a.min(b), a.max(b))
    }

    /// When the line reaches `level` from below (see [`Crossing`]): the interval from the ends
    /// of the slope interval with the level at the evaluation time held fixed, and the point
    /// estimate from the slope, but only when the whole slope interval is above 0. A trend
    /// that cannot be told from flat at the interval's level never reaches anything (the
    /// interval's far end is then "never" too). A level at or below the line's current value is
    /// reached.
    pub fn crossing(&self, level: f64) -> Crossing {
        let gap = level - self.intercept;
        if gap <= 0.0 {
            return Crossing::reached(level, self.interval);
        }
        let time_at = |slope: f64| {
            if slope > 0.0 {
                horizon(gap / slope)
            } else {
                None
            }
        };
        Crossing {
            level,
            estimate_secs: if self.slope_lower > 0.0 {
                time_at(self.slope)
            } else {
                None
            },
            earliest_secs: time_at(self.slope_upper),
            latest_secs: time_at(self.slope_lower),
            interval: self.interval,
        }
    }
}
