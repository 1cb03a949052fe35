//! Fitting Holt and damped Holt, forecasting and finding threshold crossings.

use serde::{Deserialize, Serialize};

use crate::models::crossing::{horizon, Crossing, MAX_HORIZON_SECS};
use crate::models::dist::normal_quantile;
use crate::models::seasonal::Forecast;
use crate::{Error, Result};

/// Smallest damping factor tried.
pub const PHI_MIN: f64 = 0.8;
/// Largest damping factor tried: per step, so the slowest decay has a half-life of about 1400
/// steps.
pub const PHI_MAX: f64 = 0.9995;

/// Values used to start the level and the trend.
const INIT_POINTS: usize = 10;
/// Nelder–Mead stops after this many evaluations.
const MAX_EVALUATIONS: usize = 400;

/// Which trend form to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendSelection {
    /// Holt's linear trend (`φ = 1`).
    Holt,
    /// The damped trend (`φ` fitted in the model's range, by default [`PHI_MIN`] to
    /// [`PHI_MAX`]).
    Damped,
    /// Both; the smaller AICc wins.
    #[default]
    Auto,
}

/// The unfitted model: which trend forms to try and the probability mass of the band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoltModel {
    selection: TrendSelection,
    interval: f64,
    phi_range: (f64, f64),
}

/// A fitted Holt or damped Holt model, positioned after the last value it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FittedHolt {
    /// Level smoothing, in (0, 1).
    pub alpha: f64,
    /// Trend smoothing, in (0, alpha).
    pub beta: f64,
    /// Damping; 1 for Holt's linear trend.
    pub phi: f64,
    /// The current level `l_n`.
    pub level: f64,
    /// The current trend `b_n`, per step.
    pub trend: f64,
    /// Standard deviation of one-step errors, `√(SSE / (n - k))`.
    pub sigma: f64,
    /// Number of values fitted.
    pub n: usize,
    /// The AICc of the fit.
    pub aicc: f64,
    /// Probability mass of the band, in (0, 1).
    pub interval: f64,
}

impl HoltModel {
    /// The fewest values [`fit`](Self::fit) accepts.
    pub const MIN_OBSERVATIONS: usize = 12;

    /// A model of the trend forms `selection` whose bands hold `interval` of the probability.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when `interval` is not in (0, 1).
    pub fn new(selection: TrendSelection, interval: f64) -> Result<Self> {
        if !(interval > 0.0 && interval < 1.0) {
            return Err(Error::model(
                "exponential_smoothing",
                format!("interval {interval} is not in (0, 1)"),
            ));
        }
        Ok(HoltModel {
            selection,
            interval,
            phi_range: (PHI_MIN, PHI_MAX),
        })
    }

    /// The same model with the damping factor searched in `[low, high]` instead of
    /// [`PHI_MIN`]..[`PHI_MAX`]. A forecaster looking many steps ahead needs a trend that
    /// persists for a good share of those steps: at `φ = 0.99` the trend halves in 69 steps.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] unless `0 < low < high < 1`.
    pub fn with_phi_range(self, low: f64, high: f64) -> Result<Self> {
        if !(0.0 < low && low < high && high < 1.0) {
            return Err(Error::model(
                "exponential_smoothing",
                format!("damping range [{low}, {high}] is not inside (0, 1) and increasing"),
            ));
        }
        Ok(HoltModel {
            phi_range: (low, high),
            ..self
        })
    }

    /// Fits the model to regularly spaced values `y`.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] with fewer than [`Self::MIN_OBSERVATIONS`] values or a non-finite
    /// value.
    pub fn fit(&self, y: &[f64]) -> Result<FittedHolt> {
        let n = y.len();
        if n < Self::MIN_OBSERVATIONS {
            return Err(Error::model(
                "exponential_smoothing",
                format!("{n} values, need at least {}", Self::MIN_OBSERVATIONS),
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::model(
                "exponential_smoothing",
                format!("value {i} is not finite"),
            ));
        }
        let fits = match self.selection {
            TrendSelection::Holt => vec![fit_form(y, None, self.interval)],
            TrendSelection::Damped => vec![fit_form(y, Some(self.phi_range), self.interval)],
            TrendSelection::Auto => vec![
                fit_form(y, None, self.interval),
                fit_form(y, Some(self.phi_range), self.interval),
            ],
        };
        Ok(fits
            .into_iter()
            .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
            .expect("at least one form is fitted"))
    }
}

/// The starting level and trend: a least-squares line through the first values, with the
/// level placed one step before the first value.
fn initial_states(y: &[f64]) -> (f64, f64) {
    let m = y.len().min(INIT_POINTS);
    let mean_x = (m - 1) as f64 / 2.0;
    let mean_y = y[..m].iter().sum::<f64>() / m as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y[..m].iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (v - mean_y);
        sxx += dx * dx;
    }
    let b0 = sxy / sxx;
    let at_first = mean_y - b0 * mean_x;
    (at_first - b0, b0)
}

/// Runs the recursions over `y`: the sum of squared one-step errors and the final states.
fn run(y: &[f64], alpha: f64, beta: f64, phi: f64, l0: f64, b0: f64) -> (f64, f64, f64) {
    let (mut level, mut trend) = (l0, b0);
    let mut sse = 0.0;
    for &v in y {
        let forecast = level + phi * trend;
        let e = v - forecast;
        sse += e * e;
        level = forecast + alpha * e;
        trend = phi * trend + beta * e;
    }
    (sse, level, trend)
}

/// The model with fixed parameters and starting states run over `y`, and its SSE.
#[cfg(test)]
pub(super) fn run_fixed(
    y: &[f64],
    alpha: f64,
    beta: f64,
    phi: f64,
    (l0, b0): (f64, f64),
    interval: f64,
) -> (FittedHolt, f64) {
    let (sse, level, trend) = run(y, alpha, beta, phi, l0, b0);
    let n = y.len() as f64;
    let k = if phi < 1.0 { 6.0 } else { 5.0 };
    let fitted = FittedHolt {
        alpha,
        beta,
        phi,
        level,
        trend,
        sigma: (sse / (n - k)).sqrt(),
        n: y.len(),
        aicc: f64::NAN,
        interval,
    };
    (fitted, sse)
}

fn logistic(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The parameters `(α, β, φ)` a point of the unconstrained search space stands for; `φ` is 1
/// without a damping range.
fn parameters(u: &[f64], damping: Option<(f64, f64)>) -> (f64, f64, f64) {
    let alpha = 1e-4 + (1.0 - 2e-4) * logistic(u[0]);
    let beta = alpha * logistic(u[1]);
    let phi = match damping {
        Some((low, high)) => low + (high - low) * logistic(u[2]),
        None => 1.0,
    };
    (alpha, beta, phi)
}

fn fit_form(y: &[f64], damping: Option<(f64, f64)>, interval: f64) -> FittedHolt {
    let (l0, b0) = initial_states(y);
    let objective = |u: &[f64]| {
        let (alpha, beta, phi) = parameters(u, damping);
        let sse = run(y, alpha, beta, phi, l0, b0).0;
        if sse.is_finite() {
            sse
        } else {
            f64::MAX
        }
    };

    // A coarse grid over (α, β/α, φ) finds the basin; Nelder–Mead polishes it. The φ points
    // sit at 12 %, 38 %, 73 % and 95 % of the damping range.
    let mut best: Option<(f64, Vec<f64>)> = None;
    let phi_points: &[f64] = if damping.is_some() {
        &[-2.0, -0.5, 1.0, 3.0]
    } else {
        &[0.0]
    };
    for &alpha in &[0.05, 0.2, 0.5, 0.8] {
        for &ratio in &[0.01, 0.1, 0.5] {
            for &phi_u in phi_points {
                let mut u = vec![logit((alpha - 1e-4) / (1.0 - 2e-4)), logit(ratio)];
                if damping.is_some() {
                    u.push(phi_u);
                }
                let f = objective(&u);
                if best.as_ref().is_none_or(|(b, _)| f < *b) {
                    best = Some((f, u));
                }
            }
        }
    }
    let start = best.map(|(_, u)| u).unwrap_or_else(|| vec![0.0; 3]);
    let u = nelder_mead(objective, &start, 0.5, MAX_EVALUATIONS);

    let (alpha, beta, phi) = parameters(&u, damping);
    let (sse, level, trend) = run(y, alpha, beta, phi, l0, b0);
    let n = y.len() as f64;
    let k = if damping.is_some() { 6.0 } else { 5.0 };
    let sse_floor = sse.max(f64::MIN_POSITIVE);
    let aicc = n * (sse_floor / n).ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (n - k - 1.0).max(1.0);
    FittedHolt {
        alpha,
        beta,
        phi,
        level,
        trend,
        sigma: (sse / (n - k).max(1.0)).sqrt(),
        n: y.len(),
        aicc,
        interval,
    }
}

/// Minimises `f` from `start` with the Nelder–Mead simplex method (reflection 1, expansion 2,
/// contraction 1/2, shrink 1/2), starting from a simplex of side `size`; stops after
/// `max_evaluations` or when the simplex's values agree to 1e-10 relative.
fn nelder_mead(
    f: impl Fn(&[f64]) -> f64,
    start: &[f64],
    size: f64,
    max_evaluations: usize,
) -> Vec<f64> {
    let d = start.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    simplex.push((start.to_vec(), f(start)));
    for i in 0..d {
        let mut p = start.to_vec();
        p[i] += size;
        let v = f(&p);
        simplex.push((p, v));
    }
    let mut evaluations = d + 1;
    let combine = |a: &[f64], b: &[f64], t: f64| -> Vec<f64> {
        a.iter().zip(b).map(|(x, y)| x + t * (y - x)).collect()
    };

    while evaluations < max_evaluations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[d].1);
        if (worst - best).abs() <= 1e-10 * best.abs().max(1e-300) {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| simplex[..d].iter().map(|p| p.0[j]).sum::<f64>() / d as f64)
            .collect();

        // Reflect the worst point through the centroid of the others.
        let reflected = combine(&centroid, &simplex[d].0, -1.0);
        let fr = f(&reflected);
        evaluations += 1;
        if fr < simplex[0].1 {
            let expanded = combine(&centroid, &simplex[d].0, -2.0);
            let fe = f(&expanded);
            evaluations += 1;
            simplex[d] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[d - 1].1 {
            simplex[d] = (reflected, fr);
        } else {
            // Contract towards the better of the worst and its reflection.
            let (toward, ft) = if fr < simplex[d].1 {
                (reflected, fr)
            } else {
                (simplex[d].0.clone(), simplex[d].1)
            };
            let contracted = combine(&centroid, &toward, 0.5);
            let fc = f(&contracted);
            evaluations += 1;
            if fc < ft {
                simplex[d] = (contracted, fc);
            } else {
                let best_point = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    p.0 = combine(&best_point, &p.0, 0.5);
                    p.1 = f(&p.0);
                    evaluations += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

impl FittedHolt {
    /// True for the damped form.
    pub fn is_damped(&self) -> bool {
        self.phi < 1.0
    }

    /// The trend form's name: `holt` or `damped_holt`.
    pub fn form(&self) -> &'static str {
        if self.is_damped() {
            "damped_holt"
        } else {
            "holt"
        }
    }

    /// Feeds the next value in O(1): the level and trend move as in the fit.
    pub fn update(&mut self, y: f64) {
        let forecast = self.level + self.phi * self.trend;
        let e = y - forecast;
        self.level = forecast + self.alpha * e;
        self.trend = self.phi * self.trend + self.beta * e;
    }

    /// Mean and standard deviation of the forecasts 1..=steps ahead.
    fn paths(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        // φ_h = φ + … + φ^h; c_{h} = α + β φ_h; v_h = σ² (1 + Σ_{j<h} c_j²).
        let mut phi_power = 1.0;
        let mut phi_sum = 0.0;
        let mut c_squares = 0.0;
        (1..).map(move |_| {
            let previous_phi_sum = phi_sum;
            phi_power *= self.phi;
            phi_sum += phi_power;
            if previous_phi_sum > 0.0 {
                let c = self.alpha + self.beta * previous_phi_sum;
                c_squares += c * c;
            }
            let mean = self.level + phi_sum * self.trend;
            (mean, self.sigma * (1.0 + c_squares).sqrt())
        })
    }

    /// Forecasts `steps` values ahead with the band at `level` (index 0 is one step ahead).
    pub fn forecast(&self, steps: usize, level: f64) -> Forecast {
        let z = normal_quantile(0.5 + level / 2.0);
        let mut out = Forecast {
            level,
            ..Forecast::default()
        };
        for (mean, sd) in self.paths().take(steps) {
            out.mean.push(mean);
            out.lower.push(mean - z * sd);
            out.upper.push(mean + z * sd);
        }
        out
    }

    /// When the forecast reaches `threshold` from below, for steps of `step_secs` seconds (see
    /// [`Crossing`]); the band is the model's `interval`. A threshold at or below the current
    /// level is reached.
    pub fn crossing(&self, threshold: f64, step_secs: f64) -> Crossing {
        if self.level >= threshold {
            return Crossing::reached(threshold, self.interval);
        }
        let z = normal_quantile(0.5 + self.interval / 2.0);
        let max_steps = (MAX_HORIZON_SECS / step_secs).ceil().min(1e6) as usize;

        // Walk forward from (0, level, no spread); interpolate within the step that crosses.
        let mut found: [Option<f64>; 3] = [None; 3];
        let mut previous = [self.level; 3];
        for (h, (mean, sd)) in self.paths().take(max_steps).enumerate() {
            let now = [mean + z * sd, mean, mean - z * sd];
            for k in 0..3 {
                if found[k].is_none() && now[k] >= threshold {
                    let fraction = if now[k] > previous[k] {
                        (threshold - previous[k]) / (now[k] - previous[k])
                    } else {
                        1.0
                    };
                    found[k] = Some((h as f64 + fraction.clamp(0.0, 1.0)) * step_secs);
                }
            }
            if found.iter().all(Option::is_some) {
                break;
            }
            previous = now;
        }
        let [earliest, estimate, latest] = found.map(|s| s.and_then(horizon));
        Crossing {
            level: threshold,
            estimate_secs: estimate,
            earliest_secs: earliest,
            latest_secs: latest,
            interval: self.interval,
        }
    }
}
