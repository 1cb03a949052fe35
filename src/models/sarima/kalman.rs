//! The exact Gaussian likelihood of a stationary ARMA process by the Kalman filter, for a
//! response and any number of regressors at once, and the forecast-error covariance that
//! prediction intervals need.
//!
//! The ARMA process `w_t = sum_i a_i w_{t-i} + e_t + sum_j b_j e_{t-j}`, `Var(e_t) = 1`, is put
//! in the state-space form of Harvey (1989, "Forecasting, Structural Time Series Models and
//! the Kalman Filter", section 3.4) with `r = max(p, q + 1)`:
//!
//! ```text
//! w_t     = Z alpha_t,                 Z = (1, 0, ..., 0)
//! alpha_t = T alpha_{t-1} + R e_t,     T = [a | I_{r-1} over 0'],   R = (1, b_1, ..., b_{r-1})'
//! ```
//!
//! The stationary initial covariance, the solution of the discrete Lyapunov equation
//! `P = T P T' + R R'`, comes from the predictive state `s_t[k] = E(w_{t+k} | e up to t) =
//! sum_{j>=0} psi_{k+j} e_{t-j}` (Akaike 1974), whose covariance is
//!
//! ```text
//! S[0][l] = gamma(l),      S[k][l] = gamma(l - k) - sum_{j<k} psi_j psi_{j+l-k}   (k <= l)
//! ```
//!
//! Harvey's state is `alpha_t[k] = s_t[k] - sum_{i=1}^{k} a_i s_t[k-i]` (the known part of
//! `w_{t+k}`'s equation), i.e. `alpha = L s` with `L` unit lower triangular, so `P = L S L'`,
//!
//! with `gamma` the ARMA autocovariances (Brockwell and Davis 1991, "Time Series: Theory and
//! Methods", section 3.3, third method: a `(p+1) x (p+1)` linear system, then the
//! recursion). This costs one small solve instead of iterating the Lyapunov equation, the
//! simplification Gardner, Harvey and Phillips (1980, Applied Statistics 29, algorithm AS 154)
//! make for the same reason.
//!
//! The filter (Durbin and Koopman 2012, "Time Series Analysis by State Space Methods", 2nd
//! ed., section 4.3) gives innovations `v_t` and their variances `F_t` (in units of
//! `sigma^2`). Because the gain does not depend on the data, one pass filters the response
//! and every regressor column with the same `F_t`; the innovations are linear in the data, so
//! the regression coefficients are the weighted least-squares fit of the response's
//! innovations on the regressors' innovations (generalised least squares), and `sigma^2` is
//! concentrated out too:
//!
//! ```text
//! sigma^2 = (1/N) sum_t (v_t - V_t beta)^2 / F_t
//! log L   = -(N/2) (ln(2 pi sigma^2) + 1) - (1/2) sum_t ln F_t
//! ```
//!
//! The transition is a companion matrix, so `T P T'` costs `O(r^2)`, not `O(r^3)`; once `F_t`
//! is within `1e-10` of 1 the filter has reached its steady state (`P = R R'`, gain `R`) and
//! each further step costs `O(r)`.

use super::linalg;
use super::poly;

/// The ARMA model in state-space form.
#[derive(Debug, Clone)]
pub struct StateSpace {
    /// Transition first column `a_1..a_r` (zero-padded).
    phi: Vec<f64>,
    /// `R = (1, b_1, ..., b_{r-1})`.
    r_vec: Vec<f64>,
    /// The initial state covariance (row-major `r x r`).
    p0: Vec<f64>,
}

/// The result of filtering a response and its regressors.
#[derive(Debug, Clone)]
pub struct Filtered {
    /// Innovations, row-major `n x columns`.
    pub v: Vec<f64>,
    /// Innovation variances (units of `sigma^2`).
    pub f: Vec<f64>,
    /// Number of columns (response first).
    pub columns: usize,
    /// Predicted state after the last observation, one per column.
    pub state: Vec<Vec<f64>>,
    /// Its covariance (row-major `r x r`, units of `sigma^2`).
    pub p: Vec<f64>,
}

/// The likelihood with `sigma^2` and the regression coefficients concentrated out.
#[derive(Debug, Clone)]
pub struct Profile {
    pub loglik: f64,
    pub sigma2: f64,
    pub beta: Vec<f64>,
}

impl StateSpace {
    /// The state space of `w_t = sum a_i w_{t-i} + e_t + sum b_j e_{t-j}`. `None` when the AR
    /// part is not stationary (the autocovariance system is singular or gives `gamma(0) <= 0`).
    pub fn new(ar: &[f64], ma: &[f64]) -> Option<Self> {
        let r = ar.len().max(ma.len() + 1);
        let mut phi = vec![0.0; r];
        phi[..ar.len()].copy_from_slice(ar);
        let mut r_vec = vec![0.0; r];
        r_vec[0] = 1.0;
        r_vec[1..=ma.len()].copy_from_slice(ma);

        // psi weights of the ARMA part: b(B) / a(B) with a(B) = 1 - sum a_i B^i.
        let mut den = vec![1.0];
        den.extend(ar.iter().map(|c| -c));
        let mut num = vec![1.0];
        num.extend_from_slice(ma);
        let psi = poly::divide(&num, &den, r.max(ma.len() + 1));
        let gamma = autocovariances(ar, ma, &psi, r)?;

        // Covariance of the predictive state s_t[k] = E(w_{t+k} | e up to t).
        let mut ps = vec![0.0; r * r];
        for k in 0..r {
            for l in k..r {
                let mut v = gamma[l - k];
                for j in 0..k {
                    v -= psi[j] * psi[j + l - k];
                }
                ps[k * r + l] = v;
                ps[l * r + k] = v;
            }
        }
        // Harvey's state is alpha = L s, L unit lower triangular with L[k][k-i] = -a_i.
        let p = ar.len();
        let mut x = ps.clone();
        for k in 0..r {
            for i in 1..=k.min(p) {
                for l in 0..r {
                    x[k * r + l] -= ar[i - 1] * ps[(k - i) * r + l];
                }
            }
        }
        let mut p0 = x.clone();
        for l in 0..r {
            for i in 1..=l.min(p) {
                for k in 0..r {
                    p0[k * r + l] -= ar[i - 1] * x[k * r + l - i];
                }
            }
        }
        Some(StateSpace { phi, r_vec, p0 })
    }

    /// State dimension.
    pub fn dim(&self) -> usize {
        self.phi.len()
    }

    /// Runs the filter over equally long columns (response first).
    pub fn filter(&self, columns: &[&[f64]]) -> Filtered {
        let r = self.dim();
        let nc = columns.len();
        let n = columns.first().map_or(0, |c| c.len());
        let mut states = vec![vec![0.0; r]; nc];
        let mut p = self.p0.clone();
        let mut v = vec![0.0; n * nc];
        let mut f = vec![1.0; n];
        let mut steady = false;
        let mut gain = vec![0.0; r];

        for t in 0..n {
            let ft = if steady { 1.0 } else { p[0].max(1e-12) };
            f[t] = ft;
            if steady {
                gain.copy_from_slice(&self.r_vec);
            } else {
                for i in 0..r {
                    gain[i] = p[i * r] / ft;
                }
            }

            // Update then predict each column's state: a <- T (a + K v).
            for (c, col) in columns.iter().enumerate() {
                let a = &mut states[c];
                let vt = col[t] - a[0];
                v[t * nc + c] = vt;
                for i in 0..r {
                    a[i] += gain[i] * vt;
                }
                let a0 = a[0];
                for i in 0..r {
                    let next = if i + 1 < r { a[i + 1] } else { 0.0 };
                    a[i] = self.phi[i] * a0 + next;
                }
            }
            if steady {
                continue;
            }

            // P <- T (P - P[:,0] P[0,:] / F) T' + R R'. The update zeroes the first row and
            // column (w_t is observed exactly), so T only shifts: P_new[i][j] =
            // P[i+1][j+1] - P[i+1][0] P[0][j+1] / F + R_i R_j. In place, row by row: row i
            // reads row i + 1, which is not yet overwritten.
            self.shift_update(&mut p, ft);
            if (p[0] - 1.0).abs() < 1e-10 {
                steady = true;
                for i in 0..r {
                    for j in 0..r {
                        p[i * r + j] = self.r_vec[i] * self.r_vec[j];
                    }
                }
            }
        }
        Filtered {
            v,
            f,
            columns: nc,
            state: states,
            p,
        }
    }

    /// One step of the filter for a single series: observes `value` against the predicted
    /// state `a` (covariance `p`) and leaves the prediction for the next step in both.
    pub fn step(&self, a: &mut [f64], p: &mut [f64], value: f64) {
        let r = self.dim();
        let f = p[0].max(1e-12);
        let v = value - a[0];
        let gain: Vec<f64> = (0..r).map(|i| p[i * r] / f).collect();
        for i in 0..r {
            a[i] += gain[i] * v;
        }
        let predicted = self.predict(a);
        a.copy_from_slice(&predicted);

        self.shift_update(p, f);
    }

    /// `P <- T (P - P[:,0] P[0,:] / f) T' + R R'` (see [`Self::filter`]).
    fn shift_update(&self, p: &mut [f64], f: f64) {
        let r = self.dim();
        let head: Vec<f64> = (0..r).map(|j| p[j] / f).collect();
        for i in 0..r {
            let ri = self.r_vec[i];
            if i + 1 < r {
                let pi = p[(i + 1) * r];
                let (upper, lower) = p.split_at_mut((i + 1) * r);
                let dst = &mut upper[i * r..i * r + r];
                let src = &lower[1..r];
                for j in 0..r - 1 {
                    dst[j] = src[j] - pi * head[j + 1] + ri * self.r_vec[j];
                }
                dst[r - 1] = ri * self.r_vec[r - 1];
            } else {
                for j in 0..r {
                    p[i * r + j] = ri * self.r_vec[j];
                }
            }
        }
    }

    /// `T a`: the state one step on with no new observation.
    pub fn predict(&self, a: &[f64]) -> Vec<f64> {
        let r = self.dim();
        (0..r)
            .map(|i| self.phi[i] * a[0] + if i + 1 < r { a[i + 1] } else { 0.0 })
            .collect()
    }

    /// Forecast-error variances (units of `sigma^2`) of the integrated series for `1..=h`
    /// steps after the filtered sample, when the ARMA process is the series after applying
    /// the differencing operator `diff` (lag form).
    ///
    /// The error of the ARMA forecast `h` steps ahead is `g_h' delta + sum_{j=2}^{h}
    /// psi_{h-j} e_{n+j}`, `g_h = Z T^{h-1}` and `delta ~ N(0, P_{n+1})`; undoing the
    /// differencing sums these errors with the weights `lambda` of `1 / diff(B)`, which turns
    /// the `psi` into the psi weights of the whole ARIMA model.
    pub fn forecast_variance(&self, p_end: &[f64], diff: &[f64], h: usize) -> Vec<f64> {
        let r = self.dim();
        let lambda = poly::divide(&[1.0], diff, h);

        // g_k rows: g_1 = Z, g_{k+1} = g_k T with (g T)_0 = sum_i g_i phi_i and
        // (g T)_j = g_{j-1}.
        let mut g = vec![vec![0.0; r]; h];
        if h > 0 {
            g[0][0] = 1.0;
        }
        for k in 1..h {
            g[k][0] = g[k - 1].iter().zip(&self.phi).map(|(a, b)| a * b).sum();
            for j in 1..r {
                g[k][j] = g[k - 1][j - 1];
            }
        }
        // psi weights of the ARMA part: psi_i = g_{i+1} R.
        let psi_arma: Vec<f64> = g
            .iter()
            .map(|gk| gk.iter().zip(&self.r_vec).map(|(a, b)| a * b).sum())
            .collect();
        // psi weights of the integrated model.
        let psi: Vec<f64> = (0..h)
            .map(|i| (0..=i).map(|k| lambda[i - k] * psi_arma[k]).sum())
            .collect();

        let mut out = Vec::with_capacity(h);
        let mut noise = 0.0;
        for step in 1..=h {
            // q = sum_{k=1}^{step} lambda_{step-k} g_k.
            let mut q = vec![0.0; r];
            for k in 1..=step {
                let w = lambda[step - k];
                for j in 0..r {
                    q[j] += w * g[k - 1][j];
                }
            }
            let mut quad = 0.0;
            for i in 0..r {
                for j in 0..r {
                    quad += q[i] * p_end[i * r + j] * q[j];
                }
            }
            if step >= 2 {
                noise += psi[step - 2] * psi[step - 2];
            }
            out.push(quad + noise);
        }
        out
    }
}

/// `gamma(0..r)` (units of `sigma^2`) of the ARMA process, from the `(p+1)`-equation system
/// `gamma(k) - sum_i a_i gamma(|k-i|) = sum_{j=k}^{q} b_j psi_{j-k}` and then the recursion.
fn autocovariances(ar: &[f64], ma: &[f64], psi: &[f64], r: usize) -> Option<Vec<f64>> {
    let p = ar.len();
    let q = ma.len();
    let b = |j: usize| if j == 0 { 1.0 } else { ma[j - 1] };
    let rhs = |k: usize| -> f64 { (k..=q).map(|j| b(j) * psi[j - k]).sum() };

    let size = p + 1;
    let mut m = vec![0.0; size * size];
    let mut y = vec![0.0; size];
    for k in 0..size {
        m[k * size + k] += 1.0;
        for i in 1..=p {
            let lag = k.abs_diff(i);
            m[k * size + lag] -= ar[i - 1];
        }
        y[k] = rhs(k);
    }
    let solved = linalg::solve(&mut m, &mut y, size)?;
    if solved[0].is_nan() || solved[0] <= 0.0 || solved.iter().any(|g| !g.is_finite()) {
        return None;
    }
    let mut gamma = solved;
    for k in size..r.max(size) {
        let mut g = rhs(k);
        for i in 1..=p {
            g += ar[i - 1] * gamma[k - i];
        }
        gamma.push(g);
    }
    Some(gamma)
}

impl Filtered {
    /// Concentrates `sigma^2` and the regression coefficients out of the likelihood (see the
    /// module docs). `None` when the regressors are collinear in the filtered metric or the
    /// residual sum of squares is 0.
    pub fn profile(&self) -> Option<Profile> {
        let n = self.f.len();
        let k = self.columns - 1;
        let mut beta = vec![0.0; k];
        if k > 0 {
            let mut a = vec![0.0; k * k];
            let mut b = vec![0.0; k];
            for t in 0..n {
                let row = &self.v[t * self.columns..(t + 1) * self.columns];
                let w = 1.0 / self.f[t];
                for i in 0..k {
                    b[i] += w * row[i + 1] * row[0];
                    for j in 0..k {
                        a[i * k + j] += w * row[i + 1] * row[j + 1];
                    }
                }
            }
            beta = linalg::solve(&mut a, &mut b, k)?;
        }
        let mut ssr = 0.0;
        let mut scale = 0.0;
        let mut log_f = 0.0;
        for t in 0..n {
            let row = &self.v[t * self.columns..(t + 1) * self.columns];
            let e = row[0] - (0..k).map(|i| beta[i] * row[i + 1]).sum::<f64>();
            ssr += e * e / self.f[t];
            scale += row[0] * row[0] / self.f[t];
            log_f += self.f[t].ln();
        }
        let nf = n as f64;
        if !ssr.is_finite() || n == 0 {
            return None;
        }
        // Nothing left to explain: a perfect fit, reported as zero variance.
        if ssr <= 1e-20 * scale || scale == 0.0 {
            return Some(Profile {
                loglik: f64::INFINITY,
                sigma2: 0.0,
                beta,
            });
        }
        let sigma2 = ssr / nf;
        let loglik = -0.5 * nf * ((2.0 * std::f64::consts::PI * sigma2).ln() + 1.0) - 0.5 * log_f;
        Some(Profile {
            loglik,
            sigma2,
            beta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ar1_initial_variance_and_likelihood() {
        // AR(1), phi = 0.5: gamma(0) = 1 / (1 - 0.25) = 4/3.
        let ss = StateSpace::new(&[0.5], &[]).unwrap();
        assert!((ss.p0[0] - 4.0 / 3.0).abs() < 1e-12);

        // Exact AR(1) likelihood by hand (Box, Jenkins and Reinsel, section 7.1.2):
        // F_1 = 4/3, v_1 = w_1; F_t = 1, v_t = w_t - 0.5 w_{t-1} afterwards.
        let w = [1.0, 2.0, 0.5, -1.0];
        let filtered = ss.filter(&[&w]);
        let v: Vec<f64> = filtered.v.clone();
        assert!((v[1] - 1.5).abs() < 1e-12 && (v[2] + 0.5).abs() < 1e-12);
        assert!((filtered.f[0] - 4.0 / 3.0).abs() < 1e-12 && (filtered.f[3] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ma1_initial_covariance() {
        // MA(1), b = 0.4: r = 2, P0 = [[1 + b^2, b], [b, b^2]].
        let ss = StateSpace::new(&[], &[0.4]).unwrap();
        let want = [1.16, 0.4, 0.4, 0.16];
        for (g, w) in ss.p0.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{:?}", ss.p0);
        }
    }

    #[test]
    fn lyapunov_solution_is_a_fixed_point() {
        // P0 = T P0 T' + R R' for an ARMA(2, 3) (r = 4).
        let (ar, ma) = ([0.5, -0.3], [0.4, 0.2, -0.1]);
        let ss = StateSpace::new(&ar, &ma).unwrap();
        let r = ss.dim();
        let t = |i: usize, j: usize| -> f64 {
            if j == 0 {
                ss.phi[i]
            } else if j == i + 1 {
                1.0
            } else {
                0.0
            }
        };
        for i in 0..r {
            for j in 0..r {
                let mut v = ss.r_vec[i] * ss.r_vec[j];
                for k in 0..r {
                    for l in 0..r {
                        v += t(i, k) * ss.p0[k * r + l] * t(j, l);
                    }
                }
                assert!((v - ss.p0[i * r + j]).abs() < 1e-10, "({i}, {j})");
            }
        }
    }
}
