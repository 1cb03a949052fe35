//! SARIMA with a fixed order: configuration, the CSS and maximum-likelihood fits, the fitted
//! model, its forecasts and its O(1)-in-history update.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::kalman::StateSpace;
use super::{linalg, optim, poly, prepare};
use crate::models::seasonal::Forecast;
use crate::{Error, Result};

/// Name used in errors.
pub(crate) const MODEL: &str = "sarima";

/// Iteration cap of the conditional-sum-of-squares optimiser.
const CSS_MAX_ITERS: u64 = 100;

/// Iteration cap of the exact-likelihood optimiser. It starts from the CSS estimates, which
/// are close; each iteration costs `O(k n r^2)` for `k` coefficients and state dimension `r`.
const ML_MAX_ITERS: u64 = 60;

/// The orders of SARIMA(p,d,q)(P,D,Q)m.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Order {
    /// Non-seasonal AR order `p`.
    pub p: usize,
    /// Non-seasonal differences `d`.
    pub d: usize,
    /// Non-seasonal MA order `q`.
    pub q: usize,
    /// Seasonal AR order `P`.
    pub seasonal_p: usize,
    /// Seasonal differences `D`.
    pub seasonal_d: usize,
    /// Seasonal MA order `Q`.
    pub seasonal_q: usize,
    /// Season length `m` in steps (ignored when `P = D = Q = 0`).
    pub period: usize,
}

impl Order {
    /// A non-seasonal ARIMA(p,d,q).
    pub fn arima(p: usize, d: usize, q: usize) -> Self {
        Order {
            p,
            d,
            q,
            ..Order::default()
        }
    }

    /// SARIMA(p,d,q)(P,D,Q)m.
    pub fn sarima(p: usize, d: usize, q: usize, sp: usize, sd: usize, sq: usize, m: usize) -> Self {
        Order {
            p,
            d,
            q,
            seasonal_p: sp,
            seasonal_d: sd,
            seasonal_q: sq,
            period: m,
        }
    }

    /// True when the model has a seasonal part.
    pub fn is_seasonal(&self) -> bool {
        self.seasonal_p + self.seasonal_d + self.seasonal_q > 0
    }

    /// The season length the polynomials use (1 without a seasonal part).
    pub(crate) fn step(&self) -> usize {
        if self.is_seasonal() {
            self.period
        } else {
            1
        }
    }

    /// Number of ARMA coefficients.
    pub fn n_arma(&self) -> usize {
        self.p + self.q + self.seasonal_p + self.seasonal_q
    }

    /// Lag of the expanded AR polynomial `phi(B) Phi(B^m)`.
    pub(crate) fn ar_degree(&self) -> usize {
        self.p + self.step() * self.seasonal_p
    }

    /// The differencing operator `(1 - B)^d (1 - B^m)^D` in lag form.
    pub(crate) fn differencing(&self) -> Vec<f64> {
        poly::differencing(self.d, self.seasonal_d, self.step())
    }

    fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::model(MODEL, what));
        if self.d > 2 || self.seasonal_d > 1 {
            return bad(format!(
                "order {self}: at most 2 differences and 1 seasonal difference are supported"
            ));
        }
        if self.p > 10 || self.q > 10 || self.seasonal_p > 3 || self.seasonal_q > 3 {
            return bad(format!(
                "order {self}: p and q must be at most 10, P and Q at most 3"
            ));
        }
        if self.is_seasonal() && self.period < 2 {
            return bad(format!(
                "order {self}: a seasonal part needs a period of at least 2 steps"
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({},{},{})", self.p, self.d, self.q)?;
        if self.is_seasonal() {
            write!(
                f,
                "({},{},{})[{}]",
                self.seasonal_p, self.seasonal_d, self.seasonal_q, self.period
            )?;
        }
        Ok(())
    }
}

/// Fourier terms for one seasonal period: `sin(2 pi k t / period)` and `cos(2 pi k t / period)`
/// for `k = 1..=harmonics`, `t` the step index from the first fitted observation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FourierTerms {
    /// The period in steps (need not be whole: 168 for weekly on hourly data).
    pub period: f64,
    /// Number of sine/cosine pairs.
    pub harmonics: usize,
}

/// A transform applied before fitting and undone on forecasts.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    /// Fit the values as they are.
    #[default]
    None,
    /// Fit `ln y` (Box–Cox with lambda 0); forecasts are medians `exp(mean)`. Needs `y > 0`.
    Log,
}

/// How the coefficients are estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Conditional sum of squares for starting values, then exact maximum likelihood.
    #[default]
    CssMl,
    /// Exact maximum likelihood from zero coefficients.
    Ml,
    /// Conditional sum of squares only (fast; what the order search compares models with).
    Css,
}

/// An unfitted SARIMA model: order, regressors and transform.
#[derive(Debug, Clone, PartialEq)]
pub struct SarimaModel {
    pub(crate) order: Order,
    pub(crate) constant: bool,
    pub(crate) fourier: Vec<FourierTerms>,
    pub(crate) transform: Transform,
    pub(crate) method: Method,
}

/// A fitted [`SarimaModel`].
#[derive(Debug, Clone)]
pub struct FittedSarima {
    order: Order,
    transform: Transform,
    ar: Vec<f64>,
    ma: Vec<f64>,
    sar: Vec<f64>,
    sma: Vec<f64>,
    /// Regression coefficients, one per name in `regressors`.
    beta: Vec<f64>,
    regressors: Vec<prepare::Regressor>,
    sigma2: f64,
    loglik: f64,
    n_obs: usize,
    ss: StateSpace,
    /// Predicted ARMA state of the regression residual's differences, and its covariance.
    state: Vec<f64>,
    cov: Vec<f64>,
    /// The last `diff.len() - 1` regression residuals `u_t = g(y_t) - x_t' beta`, oldest first.
    u_tail: Vec<f64>,
    diff: Vec<f64>,
    /// Index of the next step to be observed.
    next: usize,
}

/// ARMA coefficients in the sign conventions of Box and Jenkins (and statsmodels and R):
/// `phi(B) = 1 - ar_1 B - ...`, `theta(B) = 1 + ma_1 B + ...`, and likewise in `B^m`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Coefficients {
    pub ar: Vec<f64>,
    pub ma: Vec<f64>,
    pub sar: Vec<f64>,
    pub sma: Vec<f64>,
}

impl Coefficients {
    pub(crate) fn from_unconstrained(order: &Order, u: &[f64]) -> Self {
        let (a, rest) = u.split_at(order.p);
        let (b, rest) = rest.split_at(order.q);
        let (c, d) = rest.split_at(order.seasonal_p);
        Coefficients {
            ar: poly::constrain_stationary(a),
            ma: poly::constrain_invertible(b),
            sar: poly::constrain_stationary(c),
            sma: poly::constrain_invertible(d),
        }
    }

    pub(crate) fn to_unconstrained(&self) -> Vec<f64> {
        let mut u = poly::unconstrain_stationary(&self.ar);
        u.extend(poly::unconstrain_invertible(&self.ma));
        u.extend(poly::unconstrain_stationary(&self.sar));
        u.extend(poly::unconstrain_invertible(&self.sma));
        u
    }

    /// The expanded `a_i` of `w_t = sum a_i w_{t-i} + ...` and `b_j` of the MA part.
    pub(crate) fn expanded(&self, step: usize) -> (Vec<f64>, Vec<f64>) {
        let ar = poly::multiply(
            &poly::ar_lag_form(&self.ar, 1),
            &poly::ar_lag_form(&self.sar, step),
        );
        let ma = poly::multiply(
            &poly::ma_lag_form(&self.ma, 1),
            &poly::ma_lag_form(&self.sma, step),
        );
        let a: Vec<f64> = ar[1..].iter().map(|c| -c).collect();
        (a, ma[1..].to_vec())
    }
}

/// Conditional sum of squares of an ARMA with expanded coefficients over `w`, counting the
/// residuals from `start` on (pre-sample residuals are 0; residuals before the AR lags exist
/// are not formed). Returns the sum of squares.
pub(crate) fn css(ar: &[f64], ma: &[f64], w: &[f64], start: usize) -> f64 {
    let ar_terms: Vec<(usize, f64)> = ar
        .iter()
        .enumerate()
        .filter(|(_, c)| **c != 0.0)
        .map(|(i, c)| (i + 1, *c))
        .collect();
    let ma_terms: Vec<(usize, f64)> = ma
        .iter()
        .enumerate()
        .filter(|(_, c)| **c != 0.0)
        .map(|(i, c)| (i + 1, *c))
        .collect();
    let p = ar.len();
    let mut e = vec![0.0; w.len()];
    let mut ssr = 0.0;
    for t in p..w.len() {
        let mut v = w[t];
        for &(lag, c) in &ar_terms {
            v -= c * w[t - lag];
        }
        for &(lag, c) in &ma_terms {
            if lag <= t {
                v -= c * e[t - lag];
            }
        }
        e[t] = v;
        if t >= start {
            ssr += v * v;
        }
    }
    ssr
}

/// Gaussian log-likelihood of `count` residuals with sum of squares `ssr` at the MLE variance.
pub(crate) fn css_loglik(ssr: f64, count: usize) -> f64 {
    let n = count as f64;
    -0.5 * n * ((2.0 * std::f64::consts::PI * ssr / n).ln() + 1.0)
}

/// AICc for `k` estimated parameters (the variance included) and `n` observations.
pub(crate) fn aicc(loglik: f64, k: usize, n: usize) -> f64 {
    let (k, n) = (k as f64, n as f64);
    let aic = -2.0 * loglik + 2.0 * k;
    if n - k - 1.0 > 0.0 {
        aic + 2.0 * k * (k + 1.0) / (n - k - 1.0)
    } else {
        f64::INFINITY
    }
}

impl SarimaModel {
    /// A model of the given order with no regressors, no transform, fitted by CSS-ML.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] naming the order when it is unsupported (more than 2 differences or 1
    /// seasonal difference, `p` or `q` above 10, `P` or `Q` above 3) or seasonal without a
    /// period of at least 2.
    pub fn new(order: Order) -> Result<Self> {
        order.validate()?;
        Ok(SarimaModel {
            order,
            constant: false,
            fourier: Vec::new(),
            transform: Transform::None,
            method: Method::CssMl,
        })
    }

    /// Adds a constant: the mean when `d + D = 0`, a drift (a linear trend in the original
    /// series) when `d + D = 1`; with more differences a constant is not identifiable and is
    /// dropped.
    pub fn with_constant(mut self, constant: bool) -> Self {
        self.constant = constant;
        self
    }

    /// Adds Fourier regressors for a further seasonal period.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the period is not above 2 or `2 * harmonics` reaches the period.
    pub fn with_fourier(mut self, terms: FourierTerms) -> Result<Self> {
        if !(terms.period > 2.0 && terms.period.is_finite())
            || (2 * terms.harmonics) as f64 >= terms.period
        {
            return Err(Error::model(
                MODEL,
                format!(
                    "Fourier period {} with {} harmonics: need period > 2 and 2 * harmonics < period",
                    terms.period, terms.harmonics
                ),
            ));
        }
        if terms.harmonics > 0 {
            self.fourier.push(terms);
        }
        Ok(self)
    }

    /// Sets the transform.
    pub fn with_transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }

    /// Sets the estimation method.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// Fits the model to regularly spaced observations (gaps as NaN; see the module docs for
    /// how they are filled).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the series is too short for the order, has no usable values or a
    /// gap too long to fill, is not positive under the log transform, leaves zero variance
    /// after differencing and regression for a model with ARMA terms, or the regressors are
    /// collinear.
    pub fn fit(&self, y: &[f64]) -> Result<FittedSarima> {
        let y = prepare::clean(y, self.transform)?;
        let data = prepare::Prepared::new(&y, &self.order, self.constant, &self.fourier)?;
        let order = self.order;
        let n_coef = order.n_arma() + data.xd.len() + 1;
        if data.w.len() < n_coef + 3 {
            return Err(Error::model(
                MODEL,
                format!(
                    "{} observations leave {} after differencing, too few for {} parameters of \
                     SARIMA{order}",
                    y.len(),
                    data.w.len(),
                    n_coef
                ),
            ));
        }

        // Starting values: conditional sum of squares on the OLS regression residuals.
        let start = match self.method {
            Method::Ml => vec![0.0; order.n_arma()],
            Method::CssMl | Method::Css => {
                let resid = data.ols_residuals()?;
                fit_css(&order, &resid, order.ar_degree()).0
            }
        };
        let u = match self.method {
            Method::Css => start,
            Method::CssMl | Method::Ml => fit_ml(&order, &data, &start),
        };
        let coefficients = Coefficients::from_unconstrained(&order, &u);
        FittedSarima::build(self, &data, &y, coefficients)
    }

    /// Maximum likelihood from given starting coefficients (the order search passes its CSS
    /// estimates). The method is ignored: this is always exact maximum likelihood.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit).
    pub(crate) fn fit_from(&self, y: &[f64], start: &Coefficients) -> Result<FittedSarima> {
        let y = prepare::clean(y, self.transform)?;
        let data = prepare::Prepared::new(&y, &self.order, self.constant, &self.fourier)?;
        let u = fit_ml(&self.order, &data, &start.to_unconstrained());
        let coefficients = Coefficients::from_unconstrained(&self.order, &u);
        FittedSarima::build(self, &data, &y, coefficients)
    }

    /// The model at given ARMA coefficients, with the regression coefficients and `sigma^2`
    /// estimated (profiled) as in [`fit`](Self::fit): for checking the likelihood against
    /// other implementations and for refits that keep known coefficients.
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit), and [`Error::Model`] when the coefficient counts do not match
    /// the order or the AR part is not stationary.
    pub fn fit_at(&self, y: &[f64], coefficients: Coefficients) -> Result<FittedSarima> {
        let o = &self.order;
        let counts = [
            (coefficients.ar.len(), o.p),
            (coefficients.ma.len(), o.q),
            (coefficients.sar.len(), o.seasonal_p),
            (coefficients.sma.len(), o.seasonal_q),
        ];
        if counts.iter().any(|(got, want)| got != want) {
            return Err(Error::model(
                MODEL,
                format!("coefficients {coefficients:?} do not match order {o}"),
            ));
        }
        let y = prepare::clean(y, self.transform)?;
        let data = prepare::Prepared::new(&y, &self.order, self.constant, &self.fourier)?;
        FittedSarima::build(self, &data, &y, coefficients)
    }
}

/// Minimises the conditional sum of squares over `w` (residuals from `start` on). Returns the
/// unconstrained parameters and the sum of squares.
pub(crate) fn fit_css(order: &Order, w: &[f64], start: usize) -> (Vec<f64>, f64) {
    let step = order.step();
    let objective = |u: &[f64]| {
        let (ar, ma) = Coefficients::from_unconstrained(order, u).expanded(step);
        let ssr = css(&ar, &ma, w, start);
        // The log keeps the scale of the objective independent of the data's units.
        (ssr / (w.len() - start.min(w.len())).max(1) as f64).ln()
    };
    let x0 = vec![0.0; order.n_arma()];
    let (u, value) = optim::minimize(objective, &x0, CSS_MAX_ITERS, false);
    let count = (w.len() - start.min(w.len())).max(1) as f64;
    (u, value.exp() * count)
}

/// Maximises the exact profile likelihood from `start`; returns the unconstrained parameters.
fn fit_ml(order: &Order, data: &prepare::Prepared, start: &[f64]) -> Vec<f64> {
    let n = data.w.len() as f64;
    let objective = |u: &[f64]| match profile(order, data, u) {
        Some(p) if p.loglik.is_finite() => -p.loglik / n,
        _ => f64::INFINITY,
    };
    optim::minimize(objective, start, ML_MAX_ITERS, true).0
}

/// The Kalman-filter profile likelihood at unconstrained parameters `u`.
pub(crate) fn profile(
    order: &Order,
    data: &prepare::Prepared,
    u: &[f64],
) -> Option<super::kalman::Profile> {
    let (ar, ma) = Coefficients::from_unconstrained(order, u).expanded(order.step());
    let ss = StateSpace::new(&ar, &ma)?;
    let mut columns: Vec<&[f64]> = vec![&data.w];
    columns.extend(data.xd.iter().map(|c| c.as_slice()));
    ss.filter(&columns).profile()
}

impl FittedSarima {
    fn build(
        model: &SarimaModel,
        data: &prepare::Prepared,
        y: &[f64],
        coefficients: Coefficients,
    ) -> Result<Self> {
        let order = model.order;
        let (ar_full, ma_full) = coefficients.expanded(order.step());
        let ss = StateSpace::new(&ar_full, &ma_full).ok_or_else(|| {
            Error::model(
                MODEL,
                format!("SARIMA{order}: the AR polynomial is not stationary"),
            )
        })?;
        let mut columns: Vec<&[f64]> = vec![&data.w];
        columns.extend(data.xd.iter().map(|c| c.as_slice()));
        let filtered = ss.filter(&columns);
        let profile = filtered.profile().ok_or_else(|| {
            Error::model(
                MODEL,
                format!(
                    "SARIMA{order}: the series has no variance left after differencing and \
                     regression, or its regressors are collinear"
                ),
            )
        })?;

        // The residual state: response state minus beta times the regressors' states.
        let mut state = filtered.state[0].clone();
        for (j, b) in profile.beta.iter().enumerate() {
            for (s, x) in state.iter_mut().zip(&filtered.state[j + 1]) {
                *s -= b * x;
            }
        }
        let diff = order.differencing();
        let n = y.len();
        let u_tail: Vec<f64> = (n + 1 - diff.len()..n)
            .map(|t| y[t] - data.regression_at(t, &profile.beta))
            .collect();
        if profile.sigma2 == 0.0 && order.n_arma() > 0 {
            return Err(Error::model(
                MODEL,
                format!(
                    "SARIMA{order}: the series is exactly explained by its differencing and \
                     regressors (zero residual variance); there is nothing for ARMA terms to fit"
                ),
            ));
        }
        let n_obs = data.w.len();
        let loglik = profile.loglik;
        Ok(FittedSarima {
            order,
            transform: model.transform,
            ar: coefficients.ar,
            ma: coefficients.ma,
            sar: coefficients.sar,
            sma: coefficients.sma,
            beta: profile.beta,
            regressors: data.regressors.clone(),
            sigma2: profile.sigma2,
            loglik,
            n_obs,
            ss,
            state,
            cov: filtered.p,
            u_tail,
            diff,
            next: n,
        })
    }

    /// The order.
    pub fn order(&self) -> Order {
        self.order
    }

    /// All ARMA coefficients.
    pub fn coefficients(&self) -> Coefficients {
        Coefficients {
            ar: self.ar.clone(),
            ma: self.ma.clone(),
            sar: self.sar.clone(),
            sma: self.sma.clone(),
        }
    }

    /// Non-seasonal AR coefficients `phi_1..phi_p` of `1 - phi_1 B - ...`.
    pub fn ar(&self) -> &[f64] {
        &self.ar
    }

    /// Non-seasonal MA coefficients `theta_1..theta_q` of `1 + theta_1 B + ...`.
    pub fn ma(&self) -> &[f64] {
        &self.ma
    }

    /// Seasonal AR coefficients `Phi_1..Phi_P`.
    pub fn seasonal_ar(&self) -> &[f64] {
        &self.sar
    }

    /// Seasonal MA coefficients `Theta_1..Theta_Q`.
    pub fn seasonal_ma(&self) -> &[f64] {
        &self.sma
    }

    /// Regression coefficients with their names (`mean`, `drift`, `sin(2pi*1t/168)`, ...).
    pub fn regression(&self) -> Vec<(String, f64)> {
        self.regressors
            .iter()
            .zip(&self.beta)
            .map(|(r, b)| (r.name(), *b))
            .collect()
    }

    /// The innovation variance `sigma^2` (on the transformed scale).
    pub fn sigma2(&self) -> f64 {
        self.sigma2
    }

    /// The exact Gaussian log-likelihood of the differenced (transformed) series.
    pub fn loglik(&self) -> f64 {
        self.loglik
    }

    /// Observations in the likelihood (`n - d - m D`).
    pub fn n_obs(&self) -> usize {
        self.n_obs
    }

    /// Number of estimated parameters, the variance included.
    pub fn n_params(&self) -> usize {
        self.order.n_arma() + self.beta.len() + 1
    }

    /// Akaike's criterion with the small-sample correction (Hurvich and Tsai 1989).
    pub fn aicc(&self) -> f64 {
        aicc(self.loglik, self.n_params(), self.n_obs)
    }

    /// The transform the model was fitted under.
    pub fn transform(&self) -> Transform {
        self.transform
    }

    /// Index of the next step to be observed (the number of observations so far).
    pub fn next_step(&self) -> usize {
        self.next
    }

    fn regression_at(&self, t: usize) -> f64 {
        self.regressors
            .iter()
            .zip(&self.beta)
            .map(|(r, b)| b * r.value(t))
            .sum()
    }

    /// Observes the value of step [`next_step`](Self::next_step): one Kalman step, `O(r^2)`
    /// for a state of dimension `r` and independent of the history's length.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when the value is not finite, or not positive under the log transform;
    /// the model is left unchanged.
    pub fn update(&mut self, value: f64) -> Result<()> {
        let g = prepare::forward(self.transform, value).ok_or_else(|| {
            Error::model(
                MODEL,
                format!("update at step {}: value {value} cannot be used", self.next),
            )
        })?;
        let u = g - self.regression_at(self.next);
        // e_t = diff(B) u_t.
        let k = self.diff.len() - 1;
        let mut e = u;
        for i in 1..=k {
            e += self.diff[i] * self.u_tail[k - i];
        }
        self.ss.step(&mut self.state, &mut self.cov, e);
        if k > 0 {
            self.u_tail.remove(0);
            self.u_tail.push(u);
        }
        self.next += 1;
        Ok(())
    }

    /// Forecasts `horizon` steps after the last observation with a band of width `level`.
    ///
    /// The band is Gaussian on the transformed scale (`mean +/- z sqrt(var_h)`) and mapped
    /// back, so under the log transform it is asymmetric and the mean is the median.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when `level` is not in (0, 1).
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast> {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::model(
                MODEL,
                format!("level {level} is not in (0, 1)"),
            ));
        }
        let z = Normal::standard().inverse_cdf(0.5 + level / 2.0);
        let r = self.ss.dim();
        let k = self.diff.len() - 1;

        // ARMA forecasts e_{n+h} = Z T^{h-1} a, then u by undoing the differencing.
        let mut a = self.state.clone();
        let mut u_hist = self.u_tail.clone();
        let variances = self.ss.forecast_variance(&self.cov, &self.diff, horizon);
        let mut out = Forecast {
            level,
            ..Forecast::default()
        };
        for (h, var) in variances.iter().enumerate() {
            let e = a[0];
            a = self.ss.predict(&a);
            debug_assert_eq!(a.len(), r);
            let len = u_hist.len();
            let mut u = e;
            for i in 1..=k {
                u -= self.diff[i] * u_hist[len - i];
            }
            u_hist.push(u);
            let mean = u + self.regression_at(self.next + h);
            let half = z * (var * self.sigma2).max(0.0).sqrt();
            out.mean.push(prepare::inverse(self.transform, mean));
            out.lower
                .push(prepare::inverse(self.transform, mean - half));
            out.upper
                .push(prepare::inverse(self.transform, mean + half));
        }
        Ok(out)
    }
}

/// Ordinary least squares residuals of `w` on `x` (or `w` itself without regressors).
pub(crate) fn ols_residuals(w: &[f64], x: &[Vec<f64>]) -> Option<Vec<f64>> {
    if x.is_empty() {
        return Some(w.to_vec());
    }
    let beta = linalg::least_squares(x, w)?;
    Some(
        (0..w.len())
            .map(|t| w[t] - x.iter().zip(&beta).map(|(c, b)| b * c[t]).sum::<f64>())
            .collect(),
    )
}
