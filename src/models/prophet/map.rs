//! The MAP estimate of Prophet's model by L-BFGS: the log-posterior of Prophet's Stan model
//! and its gradient, written out, and an [`Optimizer`] that augurs' Prophet calls in place of
//! Stan.

use std::sync::{Arc, Mutex};

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use augurs_prophet::optimizer::{
    Data, Error as OptError, InitialParams, OptimizeOpts, OptimizedParams, Optimizer,
};
use augurs_prophet::TrendIndicator;

/// `|delta|` is smoothed as `sqrt(delta^2 + EPS^2) - EPS` so that L-BFGS sees a gradient
/// everywhere. On Prophet's scaled data (`y / max|y|`, time in [0, 1]) the final `EPS` moves
/// the optimum by far less than the changepoint effects that matter (`tau = 0.05`).
pub const ABS_SMOOTHING: f64 = 1e-6;

/// The smoothing is tightened in stages (a continuation): with `EPS = 1e-6` from the start the
/// curvature at `delta = 0`, where every delta starts, is `1 / (tau EPS)` and L-BFGS's first
/// line searches stall; each stage starts from the previous one's optimum.
const SMOOTHING_STAGES: [f64; 3] = [1e-2, 1e-4, ABS_SMOOTHING];

/// L-BFGS runs per stage at most; a run that stops early (a stalled line search) is restarted
/// with fresh curvature memory while the objective still improves.
const MAX_RESTARTS: usize = 10;

/// Iteration cap, as Prophet's default L-BFGS run (Stan's `iter`).
const MAX_ITERS: u64 = 10_000;

/// Prophet's negative log-posterior (additive constants dropped) over
/// `theta = (k, m, delta_1..delta_S, ln sigma, beta_1..beta_K)`, for the linear or flat trend.
///
/// ```text
/// trend_t = (k + sum_j A_tj delta_j) t_t + (m - sum_j A_tj c_j delta_j)   A_tj = [t_t >= c_j]
///           (flat: trend_t = m)
/// mu_t    = trend_t (1 + sum_j X_tj s_m,j beta_j) + sum_j X_tj s_a,j beta_j
/// -log p  = k^2/50 + m^2/50 + sum_j |delta_j| / tau + sigma^2 / 0.5 + sum_j beta_j^2 / (2 s_j^2)
///           + T ln sigma + sum_t (y_t - mu_t)^2 / (2 sigma^2)   [- ln sigma with the Jacobian]
/// ```
///
/// the priors `k, m ~ N(0, 5)`, `delta ~ Laplace(0, tau)`, `sigma ~ N+(0, 0.5)`,
/// `beta ~ N(0, s)` and the Gaussian likelihood of Prophet's Stan model (Taylor and Letham
/// 2018, "Forecasting at scale", The American Statistician 72(1), sections 3.1–3.2).
#[derive(Debug, Clone)]
pub struct Objective {
    t: Vec<f64>,
    y: Vec<f64>,
    /// Changepoint times, sorted.
    c: Vec<f64>,
    /// `x[t * k + j]`.
    x: Vec<f64>,
    k: usize,
    s_a: Vec<f64>,
    s_m: Vec<f64>,
    sigmas: Vec<f64>,
    tau: f64,
    flat: bool,
    jacobian: bool,
    /// The smoothing of `|delta|` in use.
    eps: f64,
}

impl Objective {
    /// The objective of `data`; `jacobian` adds Stan's log-Jacobian of `sigma = exp(.)`.
    ///
    /// # Errors
    ///
    /// The logistic trend is not supported.
    pub fn new(data: &Data, jacobian: bool) -> Result<Self, OptError> {
        let flat = match data.trend_indicator {
            TrendIndicator::Linear => false,
            TrendIndicator::Flat => true,
            TrendIndicator::Logistic => {
                return Err(OptError::static_str(
                    "the logistic trend is not supported by seer's optimiser",
                ))
            }
        };
        Ok(Objective {
            t: data.t.clone(),
            y: data.y.clone(),
            c: data.t_change.clone(),
            x: data.X.clone(),
            k: data.K as usize,
            s_a: data.s_a.iter().map(|v| *v as f64).collect(),
            s_m: data.s_m.iter().map(|v| *v as f64).collect(),
            sigmas: data.sigmas.iter().map(|s| **s).collect(),
            tau: *data.tau,
            flat,
            jacobian,
            eps: ABS_SMOOTHING,
        })
    }

    /// Number of parameters: `k, m`, the `S` deltas, `ln sigma` and the `K` betas.
    pub fn dim(&self) -> usize {
        3 + self.c.len() + self.k
    }

    /// The trend at every time point.
    pub fn trend(&self, theta: &[f64]) -> Vec<f64> {
        let s = self.c.len();
        let (k, m, delta) = (theta[0], theta[1], &theta[2..2 + s]);
        if self.flat {
            return vec![m; self.t.len()];
        }
        let mut rate = k;
        let mut offset = m;
        let mut next = 0;
        self.t
            .iter()
            .map(|&t| {
                while next < s && t >= self.c[next] {
                    rate += delta[next];
                    offset -= self.c[next] * delta[next];
                    next += 1;
                }
                rate * t + offset
            })
            .collect()
    }

    /// The negative log-posterior and its gradient at `theta`.
    pub fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let s = self.c.len();
        let kk = self.k;
        let n = self.t.len();
        let ln_sigma = theta[2 + s];
        let sigma = ln_sigma.exp();
        let beta = &theta[3 + s..];
        let trend = self.trend(theta);

        let mut grad = vec![0.0; theta.len()];
        let mut ssr = 0.0;
        // d(-log p)/d trend_t, for the trend parameters.
        let mut g_trend = vec![0.0; n];
        for i in 0..n {
            let row = &self.x[i * kk..(i + 1) * kk];
            let mut mult = 1.0;
            let mut add = 0.0;
            for j in 0..kk {
                mult += row[j] * self.s_m[j] * beta[j];
                add += row[j] * self.s_a[j] * beta[j];
            }
            let r = self.y[i] - (trend[i] * mult + add);
            ssr += r * r;
            // d/dmu of r^2 / (2 sigma^2) is -r / sigma^2.
            let g_mu = -r / (sigma * sigma);
            g_trend[i] = g_mu * mult;
            for j in 0..kk {
                grad[3 + s + j] += g_mu * row[j] * (self.s_m[j] * trend[i] + self.s_a[j]);
            }
        }

        // Trend parameters: dk = sum g t, dm = sum g, d delta_j = sum_{t >= c_j} g (t - c_j).
        if self.flat {
            grad[1] = g_trend.iter().sum();
        } else {
            grad[0] = g_trend.iter().zip(&self.t).map(|(g, t)| g * t).sum();
            grad[1] = g_trend.iter().sum();
            // Suffix sums of g and g t from the first index at or after each changepoint.
            let mut first = 0;
            let mut suffix_g = vec![0.0; n + 1];
            let mut suffix_gt = vec![0.0; n + 1];
            for i in (0..n).rev() {
                suffix_g[i] = suffix_g[i + 1] + g_trend[i];
                suffix_gt[i] = suffix_gt[i + 1] + g_trend[i] * self.t[i];
            }
            for j in 0..s {
                while first < n && self.t[first] < self.c[j] {
                    first += 1;
                }
                grad[2 + j] = suffix_gt[first] - self.c[j] * suffix_g[first];
            }
        }

        // Priors.
        let (k, m) = (theta[0], theta[1]);
        let mut value = k * k / 50.0 + m * m / 50.0;
        grad[0] += k / 25.0;
        grad[1] += m / 25.0;
        for j in 0..s {
            let d = theta[2 + j];
            let smooth = (d * d + self.eps * self.eps).sqrt();
            value += (smooth - self.eps) / self.tau;
            grad[2 + j] += d / smooth / self.tau;
        }
        for j in 0..kk {
            let sj = self.sigmas[j];
            value += beta[j] * beta[j] / (2.0 * sj * sj);
            grad[3 + s + j] += beta[j] / (sj * sj);
        }

        // sigma: half-normal prior, T ln sigma and the residuals; derivatives by ln sigma.
        let nf = n as f64;
        value += sigma * sigma / 0.5 + nf * ln_sigma + ssr / (2.0 * sigma * sigma);
        grad[2 + s] = 2.0 * sigma * sigma / 0.5 + nf - ssr / (sigma * sigma);
        if self.jacobian {
            value -= ln_sigma;
            grad[2 + s] -= 1.0;
        }
        (value, grad)
    }

    /// The negative log-posterior alone.
    pub fn value(&self, theta: &[f64]) -> f64 {
        self.value_and_gradient(theta).0
    }
}

/// The objective divided by the number of observations, which is what L-BFGS minimises: the
/// optimum is the same, and gradients of order 1 keep the first line search (unit step along
/// the negative gradient) from leaping out of the region where the posterior is finite.
#[derive(Debug, Clone)]
struct PerObservation(Objective);

impl CostFunction for PerObservation {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        let v = self.0.value(theta) / self.0.t.len().max(1) as f64;
        Ok(if v.is_finite() { v } else { f64::MAX / 4.0 })
    }
}

impl Gradient for PerObservation {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        let n = self.0.t.len().max(1) as f64;
        Ok(self
            .0
            .value_and_gradient(theta)
            .1
            .iter()
            .map(|g| g / n)
            .collect())
    }
}

/// One L-BFGS run from `theta0`; returns the best point and the iterations used.
fn lbfgs(
    objective: &Objective,
    theta0: &[f64],
    max_iters: u64,
) -> Result<(Vec<f64>, u64), OptError> {
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-8)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| OptError::string(e.to_string()))?;
    let result = Executor::new(PerObservation(objective.clone()), solver)
        .configure(|state| state.param(theta0.to_vec()).max_iters(max_iters))
        .run()
        .map_err(|e| OptError::string(format!("L-BFGS: {e}")))?;
    let state = result.state();
    let theta = state
        .get_best_param()
        .cloned()
        .ok_or_else(|| OptError::static_str("L-BFGS returned no parameters"))?;
    Ok((theta, state.get_iter().max(1)))
}

/// What the last optimisation found, kept for uncertainty sampling (augurs does not expose
/// its fitted parameters).
#[derive(Debug, Clone)]
pub struct Captured {
    pub k: f64,
    pub m: f64,
    pub delta: Vec<f64>,
    pub sigma_obs: f64,
    pub beta: Vec<f64>,
    /// Changepoint times (scaled time).
    pub t_change: Vec<f64>,
    /// Whether the trend is flat.
    pub flat: bool,
    /// The objective at the optimum.
    pub objective: f64,
    /// L-BFGS iterations.
    pub iterations: u64,
}

/// Prophet's [`Optimizer`], by L-BFGS on [`Objective`] (argmin, More–Thuente line search).
#[derive(Debug, Clone, Default)]
pub struct LbfgsOptimizer {
    captured: Arc<Mutex<Option<Captured>>>,
}

impl LbfgsOptimizer {
    /// A fresh optimiser.
    pub fn new() -> Self {
        Self::default()
    }

    /// The result of the last [`Optimizer::optimize`] call.
    pub fn captured(&self) -> Option<Captured> {
        self.captured.lock().ok().and_then(|c| c.clone())
    }
}

impl Optimizer for LbfgsOptimizer {
    fn optimize(
        &self,
        init: &InitialParams,
        data: &Data,
        opts: &OptimizeOpts,
    ) -> Result<OptimizedParams, OptError> {
        let objective = Objective::new(data, opts.jacobian.unwrap_or(false))?;
        let s = data.t_change.len();
        let mut theta0 = vec![init.k, init.m];
        theta0.extend_from_slice(&init.delta);
        theta0.push(init.sigma_obs.ln());
        theta0.extend_from_slice(&init.beta);
        if theta0.len() != objective.dim() {
            return Err(OptError::string(format!(
                "initial parameters have {} values, the model {}",
                theta0.len(),
                objective.dim()
            )));
        }

        let max_iters = opts.iter.map_or(MAX_ITERS, u64::from);
        let mut theta = theta0;
        let mut iterations = 0;
        for eps in SMOOTHING_STAGES {
            let staged = Objective {
                eps,
                ..objective.clone()
            };
            let mut best = staged.value(&theta);
            for _ in 0..MAX_RESTARTS {
                if iterations >= max_iters {
                    break;
                }
                let (next, used) = lbfgs(&staged, &theta, max_iters - iterations)?;
                iterations += used;
                let value = staged.value(&next);
                let gained = best - value;
                if value < best {
                    theta = next;
                    best = value;
                }
                if gained.is_nan() || gained <= 1e-10 * (1.0 + best.abs()) {
                    break;
                }
            }
        }
        let value = objective.value(&theta);
        if !value.is_finite() {
            return Err(OptError::static_str(
                "the log-posterior is not finite at the optimum",
            ));
        }

        let sigma_obs = theta[2 + s].exp();
        let params = OptimizedParams {
            k: theta[0],
            m: theta[1],
            sigma_obs: sigma_obs
                .try_into()
                .map_err(|_| OptError::static_str("sigma_obs is not positive"))?,
            delta: theta[2..2 + s].to_vec(),
            beta: theta[3 + s..].to_vec(),
            trend: objective.trend(&theta),
        };
        if let Ok(mut slot) = self.captured.lock() {
            *slot = Some(Captured {
                k: params.k,
                m: params.m,
                delta: params.delta.clone(),
                sigma_obs,
                beta: params.beta.clone(),
                t_change: data.t_change.clone(),
                flat: objective.flat,
                objective: value,
                iterations,
            });
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> Objective {
        // 40 points on [0, 1], two changepoints, two features (one additive, one
        // multiplicative).
        let n = 40;
        let t: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
        let y: Vec<f64> = t
            .iter()
            .map(|t| 0.3 + 0.2 * t + 0.05 * (12.0 * t).sin() + 0.01 * (37.0 * t).cos())
            .collect();
        let mut x = Vec::new();
        for t in &t {
            x.push((6.0 * t).sin());
            x.push((6.0 * t).cos());
        }
        Objective {
            t,
            y,
            c: vec![0.3, 0.6],
            x,
            k: 2,
            s_a: vec![1.0, 0.0],
            s_m: vec![0.0, 1.0],
            sigmas: vec![10.0, 10.0],
            tau: 0.05,
            flat: false,
            jacobian: false,
            eps: ABS_SMOOTHING,
        }
    }

    #[test]
    fn gradient_matches_central_differences() {
        // Central differences with h = 1e-6 have error O(h^2) ~ 1e-12 times the third
        // derivative; 1e-5 relative is ample and far below any real mistake.
        let obj = toy();
        let theta = [0.2, 0.3, 0.05, -0.02, -1.5, 0.1, -0.2];
        let (_, g) = obj.value_and_gradient(&theta);
        for i in 0..theta.len() {
            let h = 1e-6;
            let mut up = theta.to_vec();
            up[i] += h;
            let mut down = theta.to_vec();
            down[i] -= h;
            let fd = (obj.value(&up) - obj.value(&down)) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() <= 1e-5 * fd.abs().max(1.0),
                "parameter {i}: analytic {} vs numeric {fd}",
                g[i]
            );
        }
    }

    #[test]
    fn trend_is_continuous_piecewise_linear() {
        // k = 1, m = 0, delta = (1, -0.5) at c = (0.3, 0.6): slope 1, then 2, then 1.5,
        // continuous at the changepoints: trend(0.3) = 0.3, trend(0.6) = 0.9, trend(1) = 1.5.
        let mut obj = toy();
        obj.t = vec![0.0, 0.3, 0.6, 1.0];
        let tr = obj.trend(&[1.0, 0.0, 1.0, -0.5]);
        let want = [0.0, 0.3, 0.9, 1.5];
        for (a, b) in tr.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{tr:?}");
        }
    }
}
