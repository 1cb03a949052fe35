//! The linear trend: a straight line through recent history, extrapolated to say when a
//! resource reaches a threshold.
//!
//! # Model
//!
//! With time `x_i` in seconds relative to the evaluation time `T` (so `x_i <= 0` for past
//! samples) and values `y_i`:
//!
//! ```text
//! y_i = a + b · x_i + e_i           a: the level at T,  b: the change per second
//! ŷ(T + s) = a + b · s
//! ```
//!
//! Two ways to fit it ([`LinearMethod`]):
//!
//! - **Least squares**, with the arithmetic of Prometheus' `predict_linear` (Prometheus 2.42,
//!   `promql/functions.go`): every sum compensated (Kahan 1965, "Further remarks on reducing
//!   truncation errors"; Neumaier 1974), `b = (Σxy - ΣxΣy/n) / (Σx² - (Σx)²/n)`,
//!   `a = Σy/n - b · Σx/n`, and `a = y_0, b = 0` when all values are equal. [`predict_linear`]
//!   and [`deriv`] reproduce the PromQL functions bit for bit, range selection included (the
//!   window `[T - range, T]` is closed at both ends). The slope interval is the t-interval
//!   `b ± t_{n-2, (1+p)/2} · s / √Σ(x - x̄)²` with `s² = Σ residual² / (n - 2)` (Draper and
//!   Smith 1998, "Applied Regression Analysis", §1.4).
//! - **Theil–Sen** (Theil 1950; Sen 1968, "Estimates of the regression coefficient based on
//!   Kendall's tau", JASA 63): `b` is the median of the pairwise slopes
//!   `(y_j - y_i) / (x_j - x_i)`, `a` the median of `y_i - b · x_i`, and the slope interval is
//!   Sen's distribution-free one (order statistics of the pairwise slopes around the median;
//!   Hollander and Wolfe 1973, §9.4). Up to 29 % of the points can be arbitrarily wrong without
//!   moving the slope far, so the periodic drops of a disk that is cleaned up every few hours
//!   tilt the line much less than they tilt least squares over a short window.
//!
//! # Time to threshold
//!
//! For a level `L` above the current level `a`, the line reaches it after `(L - a) / b`
//! seconds. The interval holds `a` fixed and takes the two ends of the slope interval:
//! `[(L - a) / b_upper, (L - a) / b_lower]`, an end being "never" when its slope is `<= 0`
//! (see [`Crossing`](crate::models::crossing::Crossing)). The point estimate is "never" unless
//! the slope is significantly positive (`b_lower > 0`): a flat series with noise has a slope
//! of random sign, and a crossing years away computed from it would be noise too.
//!
//! # Limitations
//!
//! - Both slope intervals assume independent errors. Metrics are autocorrelated (a daily
//!   cycle, a sawtooth), so the intervals are too narrow when the residuals are; they describe
//!   the uncertainty of the fit, not the risk of a change of trend.
//! - The interval of the time to threshold ignores the uncertainty of the level `a`; for a
//!   threshold far above the current value the slope's uncertainty dominates.
//! - Theil–Sen costs O(n²) time and memory: inputs longer than [`THEIL_SEN_MAX_POINTS`] are
//!   thinned evenly before the pairwise slopes are taken. Its interval uses the normal
//!   approximation to Kendall's S without a correction for ties.

mod fit;
mod promql;

pub(crate) use fit::median;
pub use fit::{FittedLinear, LinearMethod, LinearTrend, THEIL_SEN_MAX_POINTS};
pub use promql::{deriv, linear_regression, predict_linear, range_window, KahanSum};

#[cfg(test)]
mod tests;
