//! Turning raw observations into what the likelihood needs: gap filling, the transform, the
//! regressors (constant, drift, Fourier terms) and the differenced series.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::model::{ols_residuals, FourierTerms, Order, Transform, MODEL};
use super::poly;
use crate::{Error, Result};

/// The longest run of missing values (NaN) that [`clean`] fills by linear interpolation.
pub const MAX_GAP_STEPS: usize = 6;

/// A regressor column, a function of the step index `t` (0 = first fitted observation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Regressor {
    /// 1: the mean of a series with no differencing.
    Mean,
    /// `t`: a linear trend, which after one difference is a drift.
    Drift,
    /// `sin(2 pi k t / period)`.
    Sin { period: f64, k: usize },
    /// `cos(2 pi k t / period)`.
    Cos { period: f64, k: usize },
}

impl Regressor {
    /// The column's value at step `t`.
    pub fn value(&self, t: usize) -> f64 {
        let t = t as f64;
        match *self {
            Regressor::Mean => 1.0,
            Regressor::Drift => t,
            Regressor::Sin { period, k } => (2.0 * PI * k as f64 * t / period).sin(),
            Regressor::Cos { period, k } => (2.0 * PI * k as f64 * t / period).cos(),
        }
    }

    /// A readable name.
    pub fn name(&self) -> String {
        match *self {
            Regressor::Mean => "mean".into(),
            Regressor::Drift => "drift".into(),
            Regressor::Sin { period, k } => format!("sin(2pi*{k}t/{period})"),
            Regressor::Cos { period, k } => format!("cos(2pi*{k}t/{period})"),
        }
    }
}

/// `g(v)` for the transform, or `None` when `v` is outside its domain.
pub fn forward(transform: Transform, v: f64) -> Option<f64> {
    match transform {
        Transform::None if v.is_finite() => Some(v),
        Transform::Log if v.is_finite() && v > 0.0 => Some(v.ln()),
        _ => None,
    }
}

/// `g^-1(v)`; the exponential is capped so that a wild forecast stays finite.
pub fn inverse(transform: Transform, v: f64) -> f64 {
    match transform {
        Transform::None => v,
        Transform::Log => v.min(700.0).exp(),
    }
}

/// Checks and transforms observations: fills interior runs of up to [`MAX_GAP_STEPS`] NaNs by
/// linear interpolation, then applies the transform.
///
/// # Errors
///
/// [`Error::Model`] for an empty or all-NaN series, a NaN first or last value, a longer gap,
/// an infinite value, or a value outside the transform's domain; each names the position.
pub fn clean(y: &[f64], transform: Transform) -> Result<Vec<f64>> {
    let bad = |message: String| Err(Error::model(MODEL, message));
    if y.is_empty() || y.iter().all(|v| v.is_nan()) {
        return bad(format!(
            "the series has no values ({} points, all missing)",
            y.len()
        ));
    }
    if y[0].is_nan() || y[y.len() - 1].is_nan() {
        return bad("the first and last values must be present (trim missing ends)".into());
    }
    let mut x = y.to_vec();
    let mut t = 0;
    while t < x.len() {
        if !x[t].is_nan() {
            t += 1;
            continue;
        }
        let end = (t..x.len()).find(|&i| !x[i].is_nan()).unwrap_or(x.len());
        if end - t > MAX_GAP_STEPS {
            return bad(format!(
                "gap of {} missing values at steps {t}..{end} is longer than {MAX_GAP_STEPS}",
                end - t
            ));
        }
        let (left, right) = (x[t - 1], x[end]);
        let span = (end - t + 1) as f64;
        for (i, v) in x[t..end].iter_mut().enumerate() {
            *v = left + (right - left) * (i + 1) as f64 / span;
        }
        t = end;
    }
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            forward(transform, *v).ok_or_else(|| {
                Error::model(
                    MODEL,
                    format!("value {v} at step {i} cannot be used with transform {transform:?}"),
                )
            })
        })
        .collect()
}

/// The data one model's likelihood is computed on.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The differenced series.
    pub w: Vec<f64>,
    /// The differenced regressor columns that are kept.
    pub xd: Vec<Vec<f64>>,
    /// The kept regressors, one per column of `xd`.
    pub regressors: Vec<Regressor>,
}

impl Prepared {
    /// Differences `y` and the regressors of `order`, `constant` and `fourier`; drops the
    /// regressors that differencing annihilates (a mean under any difference, a drift under
    /// two).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the series is not longer than the differencing lag.
    pub fn new(y: &[f64], order: &Order, constant: bool, fourier: &[FourierTerms]) -> Result<Self> {
        let diff = order.differencing();
        if y.len() <= diff.len() {
            return Err(Error::model(
                MODEL,
                format!(
                    "{} observations: SARIMA{order} needs more than {} to difference",
                    y.len(),
                    diff.len() - 1
                ),
            ));
        }
        let w = poly::apply(&diff, y);
        let mut candidates = Vec::new();
        let integrated = order.d + order.seasonal_d;
        if constant && integrated == 0 {
            candidates.push(Regressor::Mean);
        } else if constant && integrated == 1 {
            candidates.push(Regressor::Drift);
        }
        for terms in fourier {
            for k in 1..=terms.harmonics {
                candidates.push(Regressor::Sin {
                    period: terms.period,
                    k,
                });
                candidates.push(Regressor::Cos {
                    period: terms.period,
                    k,
                });
            }
        }
        let mut xd = Vec::new();
        let mut regressors = Vec::new();
        for reg in candidates {
            let column: Vec<f64> = (0..y.len()).map(|t| reg.value(t)).collect();
            let differenced = poly::apply(&diff, &column);
            let size = column.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let left = differenced.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            if left > 1e-9 * size.max(1.0) {
                xd.push(differenced);
                regressors.push(reg);
            }
        }
        Ok(Prepared { w, xd, regressors })
    }

    /// `x_t' beta` at step `t`.
    pub fn regression_at(&self, t: usize, beta: &[f64]) -> f64 {
        self.regressors
            .iter()
            .zip(beta)
            .map(|(r, b)| b * r.value(t))
            .sum()
    }

    /// Residuals of the differenced series on the differenced regressors.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the regressors are collinear.
    pub fn ols_residuals(&self) -> Result<Vec<f64>> {
        ols_residuals(&self.w, &self.xd)
            .ok_or_else(|| Error::model(MODEL, "the regressors are collinear after differencing"))
    }
}
