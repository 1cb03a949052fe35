//! Prometheus' `predict_linear` and `deriv`, reproduced to the last bit.

use crate::time::Millis;

/// A compensated sum (Kahan 1965, with Neumaier's 1974 improvement for terms larger than the
/// running sum), as Prometheus sums its regression terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct KahanSum {
    sum: f64,
    compensation: f64,
}

impl KahanSum {
    /// Adds `x`, keeping the low-order bits the addition loses in the compensation.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum with its compensation added.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// The samples of a range selector `v[range]` evaluated at `eval_ms`: those with
/// `eval_ms - range_ms <= t <= eval_ms`, closed at both ends as in Prometheus 2.42 (`samples` in
/// time order).
pub fn range_window(
    samples: &[(Millis, f64)],
    eval_ms: Millis,
    range_ms: Millis,
) -> &[(Millis, f64)] {
    let start = samples.partition_point(|s| s.0 < eval_ms - range_ms);
    let end = samples.partition_point(|s| s.0 <= eval_ms);
    &samples[start..end.max(start)]
}

/// Least-squares line through `samples` with time in seconds relative to `origin_ms`:
/// `(slope, intercept)`, the intercept being the line's value at `origin_ms`.
///
/// Exactly Prometheus' `linearRegression`: every sum is compensated ([`KahanSum`]), and when
/// all values are equal the result is slope 0 and intercept the first value (so a constant
/// series predicts itself without rounding). `None` with fewer than two samples, and NaN when
/// all timestamps are equal.
pub fn linear_regression(samples: &[(Millis, f64)], origin_ms: Millis) -> Option<(f64, f64)> {
    if samples.len() < 2 {
        return None;
    }
    let first = samples[0].1;
    if samples.iter().all(|s| s.1 == first) {
        if first.is_infinite() {
            return Some((f64::NAN, f64::NAN));
        }
        return Some((0.0, first));
    }

    let (mut sx, mut sy, mut sxy, mut sxx) = (
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
    );
    for &(t, y) in samples {
        let x = (t - origin_ms) as f64 / 1e3;
        sx.add(x);
        sy.add(y);
        sxy.add(x * y);
        sxx.add(x * x);
    }
    let n = samples.len() as f64;
    let (sx, sy, sxy, sxx) = (sx.value(), sy.value(), sxy.value(), sxx.value());
    let cov_xy = sxy - sx * sy / n;
    let var_x = sxx - sx * sx / n;
    let slope = cov_xy / var_x;
    let intercept = sy / n - slope * sx / n;
    Some((slope, intercept))
}

/// `predict_linear(v[range], duration_secs)` evaluated at `eval_ms` over time-ordered
/// `samples`: the least-squares line through the window, with time measured from `eval_ms`,
/// extrapolated `duration_secs` beyond it. `None` (no output in Prometheus) with fewer than two
/// samples in the window.
pub fn predict_linear(
    samples: &[(Millis, f64)],
    eval_ms: Millis,
    range_ms: Millis,
    duration_secs: f64,
) -> Option<f64> {
    let (slope, intercept) = linear_regression(range_window(samples, eval_ms, range_ms), eval_ms)?;
    Some(slope * duration_secs + intercept)
}

/// `deriv(v[range])` evaluated at `eval_ms`: the least-squares slope per second, with time
/// measured from the window's first sample. `None` with fewer than two samples in the window.
pub fn deriv(samples: &[(Millis, f64)], eval_ms: Millis, range_ms: Millis) -> Option<f64> {
    let window = range_window(samples, eval_ms, range_ms);
    let (slope, _) = linear_regression(window, window.first()?.0)?;
    Some(slope)
}
