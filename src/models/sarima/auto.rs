//! Automatic SARIMA order selection in the manner of Hyndman and Khandakar (2008, "Automatic
//! time series forecasting: the forecast package for R", Journal of Statistical Software
//! 27(3), section 3.2).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{aicc, css_loglik, fit_css, Coefficients, FittedSarima, Method, MODEL};
use super::model::{FourierTerms, Order, SarimaModel, Transform};
use super::prepare::{self, Prepared};
use crate::{Error, Result};

/// Seasonal strength at or above which the series is differenced seasonally (the threshold of
/// the forecast package's `nsdiffs(test = "seas")`).
pub const SEASONAL_STRENGTH_THRESHOLD: f64 = 0.64;

/// KPSS critical value at 5% for level stationarity (Kwiatkowski, Phillips, Schmidt and Shin
/// 1992, Table 1).
pub const KPSS_CRITICAL_5PCT: f64 = 0.463;

/// How the transform is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransformRule {
    /// No transform.
    None,
    /// Always `ln` (fails on non-positive data).
    Log,
    /// `ln` when every value is positive and the seasonal swing grows with the level (see
    /// [`prefers_log`]); otherwise none.
    #[default]
    Auto,
}

/// The automatic SARIMA model: search limits and extra regressors.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoSarima {
    period: usize,
    max_p: usize,
    max_q: usize,
    max_seasonal_p: usize,
    max_seasonal_q: usize,
    max_d: usize,
    fourier: Vec<FourierTerms>,
    transform: TransformRule,
    max_models: usize,
}

/// What the search did, for reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchSummary {
    /// Models whose CSS fit was compared.
    pub models_tried: usize,
    /// The seasonal strength that decided `D` (None when the series was too short to test).
    pub seasonal_strength: Option<f64>,
    /// The transform used.
    pub transform: Transform,
    /// Whether the series was degenerate (constant after differencing) and got the fallback.
    pub degenerate: bool,
}

/// A fitted automatic model: the chosen SARIMA and how it was chosen.
#[derive(Debug, Clone)]
pub struct FittedAutoSarima {
    /// The chosen model, fitted by maximum likelihood.
    pub model: FittedSarima,
    /// How it was chosen.
    pub summary: SearchSummary,
}

/// A candidate in the search: the order and whether it has a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Candidate {
    order: Order,
    constant: bool,
}

impl AutoSarima {
    /// Search limits `p, q <= 5` (the forecast package's), `P, Q <= 1`, `d <= 2`, `D <= 1`;
    /// season length `period` (1 or 0 for none); log transform by rule.
    ///
    /// The forecast package allows `P, Q <= 2`. With a daily season on hourly data a second
    /// seasonal lag reaches back 48 steps and doubles the state (and the filter's cost, which
    /// grows with its square), while a month of history holds only about 30 seasons to
    /// identify it; the second season (weekly) enters as Fourier terms instead.
    pub fn new(period: usize) -> Self {
        AutoSarima {
            period,
            max_p: 5,
            max_q: 5,
            max_seasonal_p: 1,
            max_seasonal_q: 1,
            max_d: 2,
            fourier: Vec::new(),
            transform: TransformRule::Auto,
            max_models: 94,
        }
    }

    /// Adds Fourier regressors for a second seasonal period (regression with SARIMA errors).
    ///
    /// # Errors
    ///
    /// As [`SarimaModel::with_fourier`].
    pub fn with_fourier(mut self, terms: FourierTerms) -> Result<Self> {
        // Validate through the fixed-order model's rules.
        let probe = SarimaModel::new(Order::default())?.with_fourier(terms)?;
        self.fourier.extend(probe.fourier);
        Ok(self)
    }

    /// Sets how the transform is chosen.
    pub fn with_transform(mut self, rule: TransformRule) -> Self {
        self.transform = rule;
        self
    }

    /// Sets the largest orders searched.
    pub fn with_max_orders(
        mut self,
        p: usize,
        q: usize,
        seasonal_p: usize,
        seasonal_q: usize,
    ) -> Self {
        self.max_p = p.min(10);
        self.max_q = q.min(10);
        self.max_seasonal_p = seasonal_p.min(3);
        self.max_seasonal_q = seasonal_q.min(3);
        self
    }

    /// Chooses the differencing by unit-root tests, the ARMA orders by a stepwise AICc search
    /// over conditional-sum-of-squares fits, and fits the chosen model by exact maximum
    /// likelihood.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] for a series with no usable values, fewer than
    /// [`Self::MIN_OBSERVATIONS`] values, or a gap too long to fill; a constant series is not an
    /// error (see [`SearchSummary::degenerate`]).
    pub fn fit(&self, y: &[f64]) -> Result<FittedAutoSarima> {
        let transform = match self.transform {
            TransformRule::None => Transform::None,
            TransformRule::Log => Transform::Log,
            TransformRule::Auto => {
                let raw = prepare::clean(y, Transform::None)?;
                if prefers_log(&raw, self.period) {
                    Transform::Log
                } else {
                    Transform::None
                }
            }
        };
        let x = prepare::clean(y, transform)?;
        let n = x.len();
        if n < Self::MIN_OBSERVATIONS {
            return Err(Error::model(
                MODEL,
                format!("{n} observations, need at least {}", Self::MIN_OBSERVATIONS),
            ));
        }

        // Seasonal part only with at least three full seasons.
        let seasonal = self.period >= 2 && n >= 3 * self.period;
        let m = if seasonal { self.period } else { 1 };
        let strength = seasonal.then(|| seasonal_strength(&x, m));
        let sd = usize::from(strength.is_some_and(|s| s >= SEASONAL_STRENGTH_THRESHOLD));
        let fourier: Vec<FourierTerms> = self
            .fourier
            .iter()
            .copied()
            .filter(|f| n as f64 >= 2.0 * f.period)
            .collect();

        // Non-seasonal differences: KPSS on the seasonally differenced series.
        let mut d = 0;
        let mut z = super::poly::apply(&super::poly::differencing(0, sd, m), &x);
        while d < self.max_d && kpss(&z) > KPSS_CRITICAL_5PCT {
            d += 1;
            z = super::poly::apply(&[1.0, -1.0], &z);
        }

        let mut summary = SearchSummary {
            models_tried: 0,
            seasonal_strength: strength,
            transform,
            degenerate: false,
        };
        let base = |p, q, sp, sq| Order::sarima(p, d, q, sp, sd, sq, m);

        // A series that differencing makes constant has nothing for ARMA terms to fit.
        let spread = z.iter().fold(0.0f64, |a, v| a.max((v - z[0]).abs()));
        if spread <= 1e-12 * x.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1e-300) {
            summary.degenerate = true;
            let model = SarimaModel {
                order: base(0, 0, 0, 0),
                constant: d + sd <= 1,
                fourier: Vec::new(),
                transform,
                method: Method::Ml,
            };
            let fitted = model.fit(y)?;
            return Ok(FittedAutoSarima {
                model: fitted,
                summary,
            });
        }

        // The data for both settings of the constant, with OLS residuals for CSS.
        let allow_constant = d + sd <= 1;
        let mut residuals: HashMap<bool, Vec<f64>> = HashMap::new();
        let mut n_beta: HashMap<bool, usize> = HashMap::new();
        for constant in [false, true] {
            if constant && !allow_constant {
                continue;
            }
            let data = Prepared::new(&x, &base(0, 0, 0, 0), constant, &fourier)?;
            n_beta.insert(constant, data.xd.len());
            residuals.insert(constant, data.ols_residuals()?);
        }

        // Every model's residuals are summed from the same point, so the AICcs compare.
        let start = self.max_p + m * if seasonal { self.max_seasonal_p } else { 0 };
        let w_len = residuals[&false].len();
        if w_len <= start + 10 {
            return Err(Error::model(
                MODEL,
                format!("{n} observations are too few for the order search"),
            ));
        }
        let count = w_len - start;
        let mut cache: HashMap<Candidate, (f64, Vec<f64>)> = HashMap::new();
        let evaluate = |c: Candidate, cache: &mut HashMap<Candidate, (f64, Vec<f64>)>| {
            if let Some(hit) = cache.get(&c) {
                return hit.0;
            }
            let (u, ssr) = fit_css(&c.order, &residuals[&c.constant], start);
            let k = c.order.n_arma() + n_beta[&c.constant] + 1;
            let score = if ssr > 0.0 && ssr.is_finite() {
                aicc(css_loglik(ssr, count), k, count)
            } else {
                f64::INFINITY
            };
            cache.insert(c, (score, u));
            score
        };

        let (sp1, sq1) = if seasonal { (1, 1) } else { (0, 0) };
        let starts = [
            base(2, 2, sp1, sq1),
            base(0, 0, 0, 0),
            base(1, 0, sp1, 0),
            base(0, 1, 0, sq1),
        ];
        let mut best: Option<(Candidate, f64)> = None;
        for order in starts {
            let c = Candidate {
                order,
                constant: allow_constant,
            };
            if !self.within_limits(&c.order) {
                continue;
            }
            let score = evaluate(c, &mut cache);
            if best.is_none_or(|(_, s)| score < s) {
                best = Some((c, score));
            }
        }
        let Some((mut current, mut current_score)) = best else {
            return Err(Error::Internal(
                "SARIMA search had no starting model".into(),
            ));
        };
        while cache.len() < self.max_models {
            let mut improved = false;
            for c in self.neighbours(current, allow_constant, seasonal) {
                if cache.contains_key(&c) {
                    continue;
                }
                let score = evaluate(c, &mut cache);
                if score < current_score {
                    current = c;
                    current_score = score;
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
        summary.models_tried = cache.len();

        // Fit the best models by maximum likelihood; fall back along the ranking on failure.
        let mut ranked: Vec<(Candidate, f64)> = cache.iter().map(|(c, (s, _))| (*c, *s)).collect();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut last_error = None;
        for (c, _) in ranked.iter().take(3) {
            let model = SarimaModel {
                order: c.order,
                constant: c.constant,
                fourier: fourier.clone(),
                transform,
                method: Method::CssMl,
            };
            let start_u = &cache[c].1;
            match model.fit_from(y, &Coefficients::from_unconstrained(&c.order, start_u)) {
                Ok(fitted) => {
                    return Ok(FittedAutoSarima {
                        model: fitted,
                        summary,
                    })
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| Error::Internal("SARIMA search found no model".into())))
    }

    /// The fewest observations [`fit`](Self::fit) accepts.
    pub const MIN_OBSERVATIONS: usize = 16;

    fn within_limits(&self, o: &Order) -> bool {
        o.p <= self.max_p
            && o.q <= self.max_q
            && o.seasonal_p <= self.max_seasonal_p
            && o.seasonal_q <= self.max_seasonal_q
    }

    /// The stepwise moves of Hyndman and Khandakar: each of `p, q, P, Q` by one, `p` and `q`
    /// together, `P` and `Q` together, and the constant switched.
    fn neighbours(&self, c: Candidate, allow_constant: bool, seasonal: bool) -> Vec<Candidate> {
        let o = c.order;
        let mut out = Vec::new();
        let moves: [(i32, i32, i32, i32); 12] = [
            (1, 0, 0, 0),
            (-1, 0, 0, 0),
            (0, 1, 0, 0),
            (0, -1, 0, 0),
            (1, 1, 0, 0),
            (-1, -1, 0, 0),
            (0, 0, 1, 0),
            (0, 0, -1, 0),
            (0, 0, 0, 1),
            (0, 0, 0, -1),
            (0, 0, 1, 1),
            (0, 0, -1, -1),
        ];
        for (dp, dq, dsp, dsq) in moves {
            if !seasonal && (dsp != 0 || dsq != 0) {
                continue;
            }
            let shift =
                |v: usize, by: i32| -> Option<usize> { usize::try_from(v as i32 + by).ok() };
            let (Some(p), Some(q), Some(sp), Some(sq)) = (
                shift(o.p, dp),
                shift(o.q, dq),
                shift(o.seasonal_p, dsp),
                shift(o.seasonal_q, dsq),
            ) else {
                continue;
            };
            let order = Order::sarima(p, o.d, q, sp, o.seasonal_d, sq, o.period);
            if self.within_limits(&order) {
                out.push(Candidate {
                    order,
                    constant: c.constant,
                });
            }
        }
        if allow_constant {
            out.push(Candidate {
                order: o,
                constant: !c.constant,
            });
        }
        out
    }
}

/// The KPSS statistic for level stationarity (Kwiatkowski et al. 1992): with `e_t` the
/// deviations from the mean and `S_t` their partial sums,
/// `eta = sum_t S_t^2 / (n^2 s^2(l))`, `s^2(l)` the Newey–West long-run variance with Bartlett
/// weights and `l = floor(4 (n / 100)^(1/4))` lags. A constant series gives 0 (stationary).
pub fn kpss(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 3 {
        return 0.0;
    }
    let nf = n as f64;
    let mean = x.iter().sum::<f64>() / nf;
    let e: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let mut s = 0.0;
    let mut eta = 0.0;
    for v in &e {
        s += v;
        eta += s * s;
    }
    eta /= nf * nf;
    let lags = (4.0 * (nf / 100.0).powf(0.25)).floor() as usize;
    let mut lrv = e.iter().map(|v| v * v).sum::<f64>() / nf;
    for lag in 1..=lags.min(n - 1) {
        let weight = 1.0 - lag as f64 / (lags as f64 + 1.0);
        let cov: f64 = (lag..n).map(|t| e[t] * e[t - lag]).sum::<f64>() / nf;
        lrv += 2.0 * weight * cov;
    }
    if lrv > 0.0 {
        eta / lrv
    } else {
        0.0
    }
}

/// Seasonal strength `F_s = max(0, 1 - Var(R) / Var(S + R))` of an STL decomposition (Wang,
/// Smith and Hyndman 2006; Hyndman and Athanasopoulos, FPP3 section 4.3). 0 when STL cannot
/// run (fewer than two seasons).
pub fn seasonal_strength(x: &[f64], period: usize) -> f64 {
    if period < 2 || x.len() < 2 * period {
        return 0.0;
    }
    let x32: Vec<f32> = x.iter().map(|v| *v as f32).collect();
    let Ok(stl) = augurs_mstl::stlrs::params().fit(&x32, period) else {
        return 0.0;
    };
    let r: Vec<f64> = stl.remainder().iter().map(|v| *v as f64).collect();
    let sr: Vec<f64> = stl
        .seasonal()
        .iter()
        .zip(&r)
        .map(|(s, r)| *s as f64 + r)
        .collect();
    let var = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
    };
    let total = var(&sr);
    if total > 0.0 {
        (1.0 - var(&r) / total).max(0.0)
    } else {
        0.0
    }
}

/// The log rule: every value positive, and the seasonal swing grows with the level. Each
/// whole season gives its mean and its standard deviation; when their correlation across
/// seasons is above 0.5 the swing is proportional to the level and `ln` makes it constant
/// (the reasoning behind a Box–Cox transform, Box and Cox 1964; Hyndman and Athanasopoulos,
/// FPP3 section 3.1). Series with fewer than four seasons keep their scale.
pub fn prefers_log(y: &[f64], period: usize) -> bool {
    if y.iter().any(|v| v.is_nan() || *v <= 0.0) || period < 2 || y.len() < 4 * period {
        return false;
    }
    let (means, sds): (Vec<f64>, Vec<f64>) = y
        .chunks_exact(period)
        .map(|c| {
            let m = c.iter().sum::<f64>() / c.len() as f64;
            let v = c.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / c.len() as f64;
            (m, v.sqrt())
        })
        .unzip();
    correlation(&means, &sds) > 0.5
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let mut sab = 0.0;
    let mut saa = 0.0;
    let mut sbb = 0.0;
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa > 0.0 && sbb > 0.0 {
        sab / (saa * sbb).sqrt()
    } else {
        0.0
    }
}
