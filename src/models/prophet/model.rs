//! The Prophet-style forecaster: configuration, fit through augurs' Prophet with seer's
//! optimiser, forecasts with seeded uncertainty sampling.

use std::num::NonZeroU32;

use augurs_prophet::{
    optimizer::OptimizeOpts, FeatureMode, IncludeHistory, Prophet, ProphetOptions,
    SeasonalityOption, TrainingData,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::map::{Captured, LbfgsOptimizer};
use crate::models::seasonal::{Forecast, SeasonalityMode};
use crate::{Error, Result};

const MODEL: &str = "prophet";

/// Seconds in an hour, the default step of [`ProphetModel::fit_steps`].
pub const HOUR_SECS: i64 = 3600;

/// The unfitted model. Defaults are Prophet's, with daily and weekly seasonality on and
/// yearly off (metrics histories are weeks, not years, long).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProphetModel {
    /// Additive (`y = trend + season`) or multiplicative (`y = trend * (1 + season)`).
    /// Default additive.
    pub seasonality_mode: SeasonalityMode,
    /// Daily Fourier pairs (0 = none). Default 4, Prophet's.
    pub daily_harmonics: u32,
    /// Weekly Fourier pairs (0 = none). Default 3, Prophet's.
    pub weekly_harmonics: u32,
    /// Potential changepoints, spread over the first `changepoint_range` of the history.
    /// Default 25.
    pub n_changepoints: u32,
    /// Share of the history where changepoints may sit. Default 0.8.
    pub changepoint_range: f64,
    /// Laplace scale `tau` of the changepoint deltas: near 0 the trend is one straight line,
    /// large values let it bend at every changepoint. Default 0.05.
    pub changepoint_prior_scale: f64,
    /// Normal scale of the seasonal coefficients: small values damp the seasonality.
    /// Default 10.
    pub seasonality_prior_scale: f64,
    /// Default band width of [`FittedProphet::forecast`] callers, in (0, 1). Default 0.8.
    pub interval_width: f64,
    /// Simulated paths for the band. Default 1000.
    pub uncertainty_samples: u32,
    /// Seed of the simulation, so bands are reproducible. Default 0.
    pub seed: u64,
}

impl Default for ProphetModel {
    fn default() -> Self {
        ProphetModel {
            seasonality_mode: SeasonalityMode::Additive,
            daily_harmonics: 4,
            weekly_harmonics: 3,
            n_changepoints: 25,
            changepoint_range: 0.8,
            changepoint_prior_scale: 0.05,
            seasonality_prior_scale: 10.0,
            interval_width: 0.8,
            uncertainty_samples: 1000,
            seed: 0,
        }
    }
}

/// A fitted [`ProphetModel`].
#[derive(Debug, Clone)]
pub struct FittedProphet {
    config: ProphetModel,
    prophet: Prophet<LbfgsOptimizer>,
    params: Captured,
    /// First and last training timestamps (seconds) and the step between samples.
    start: i64,
    end: i64,
    step: i64,
    /// Prophet's scale of `y` (`max |y|`, or 1 for an all-zero series).
    y_scale: f64,
}

impl ProphetModel {
    /// Defaults for hourly metrics (the same as [`Default`]).
    pub fn hourly() -> Self {
        Self::default()
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the field and value that is out of range.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if !(self.changepoint_range > 0.0 && self.changepoint_range <= 1.0) {
            problems.push(format!(
                "prophet.changepoint_range = {}: must be in (0, 1]",
                self.changepoint_range
            ));
        }
        for (name, v) in [
            ("changepoint_prior_scale", self.changepoint_prior_scale),
            ("seasonality_prior_scale", self.seasonality_prior_scale),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                problems.push(format!("prophet.{name} = {v}: must be positive"));
            }
        }
        if !(self.interval_width > 0.0 && self.interval_width < 1.0) {
            problems.push(format!(
                "prophet.interval_width = {}: must be in (0, 1)",
                self.interval_width
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config { problems })
        }
    }

    /// Fits hourly samples `y` (step `t` at `t` hours after an arbitrary Monday midnight).
    ///
    /// # Errors
    ///
    /// As [`fit`](Self::fit).
    pub fn fit_steps(&self, y: &[f64]) -> Result<FittedProphet> {
        // 1970-01-05 was a Monday, so weekly terms line up with weekdays.
        let start = 4 * 24 * HOUR_SECS;
        let ds: Vec<i64> = (0..y.len() as i64).map(|i| start + i * HOUR_SECS).collect();
        self.fit(&ds, y)
    }

    /// Fits samples at timestamps `ds` (seconds, increasing, evenly spaced); NaN values are
    /// missing and left out, as Prophet does.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for invalid settings; [`Error::Model`] when there are fewer than 3
    /// finite values, the timestamps are not increasing and evenly spaced, the series is
    /// constant, or the optimiser fails.
    pub fn fit(&self, ds: &[i64], y: &[f64]) -> Result<FittedProphet> {
        self.validate()?;
        if ds.len() != y.len() {
            return Err(Error::model(
                MODEL,
                format!("{} timestamps for {} values", ds.len(), y.len()),
            ));
        }
        let (ds_used, y_used): (Vec<i64>, Vec<f64>) = ds
            .iter()
            .zip(y)
            .filter(|(_, v)| v.is_finite())
            .map(|(t, v)| (*t, *v))
            .unzip();
        if y_used.len() < 3 {
            return Err(Error::model(
                MODEL,
                format!("{} finite values, need at least 3", y_used.len()),
            ));
        }
        let step = ds.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(0);
        if step <= 0 || ds.windows(2).any(|w| (w[1] - w[0]) % step != 0) {
            return Err(Error::model(
                MODEL,
                "timestamps must be increasing and evenly spaced (gaps as NaN values)",
            ));
        }
        let first = y_used[0];
        if y_used.iter().all(|v| *v == first) {
            return Err(Error::model(
                MODEL,
                format!("the series is constant ({first}); there is nothing to fit"),
            ));
        }

        let mut opts = ProphetOptions {
            n_changepoints: self.n_changepoints,
            changepoint_range: self
                .changepoint_range
                .try_into()
                .map_err(|e| Error::model(MODEL, format!("changepoint_range: {e}")))?,
            yearly_seasonality: SeasonalityOption::Manual(false),
            weekly_seasonality: harmonics(self.weekly_harmonics),
            daily_seasonality: harmonics(self.daily_harmonics),
            seasonality_mode: match self.seasonality_mode {
                SeasonalityMode::Additive => FeatureMode::Additive,
                SeasonalityMode::Multiplicative => FeatureMode::Multiplicative,
            },
            seasonality_prior_scale: self
                .seasonality_prior_scale
                .try_into()
                .map_err(|e| Error::model(MODEL, format!("seasonality_prior_scale: {e}")))?,
            changepoint_prior_scale: self
                .changepoint_prior_scale
                .try_into()
                .map_err(|e| Error::model(MODEL, format!("changepoint_prior_scale: {e}")))?,
            // augurs samples with an unseeded generator; seer samples itself.
            uncertainty_samples: 0,
            ..ProphetOptions::default()
        };
        opts.interval_width = self
            .interval_width
            .try_into()
            .map_err(|e| Error::model(MODEL, format!("interval_width: {e}")))?;

        let optimizer = LbfgsOptimizer::new();
        let mut prophet = Prophet::new(opts, optimizer.clone());
        let data = TrainingData::new(ds_used.clone(), y_used.clone())
            .map_err(|e| Error::model(MODEL, format!("training data: {e}")))?;
        prophet
            .fit(data, OptimizeOpts::default())
            .map_err(|e| Error::model(MODEL, format!("fit: {e}")))?;
        let params = optimizer
            .captured()
            .ok_or_else(|| Error::Internal("prophet: optimiser left no parameters".into()))?;
        let y_scale = y_used.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        Ok(FittedProphet {
            config: self.clone(),
            prophet,
            params,
            start: ds_used[0],
            end: *ds_used.last().unwrap_or(&ds_used[0]),
            step,
            y_scale: if y_scale > 0.0 { y_scale } else { 1.0 },
        })
    }
}

fn harmonics(n: u32) -> SeasonalityOption {
    match NonZeroU32::new(n) {
        Some(n) => SeasonalityOption::Fourier(n),
        None => SeasonalityOption::Manual(false),
    }
}

impl FittedProphet {
    /// The MAP parameters (on Prophet's scaled data) and the objective there.
    pub fn params(&self) -> &Captured {
        &self.params
    }

    /// A one-line description for reports.
    pub fn describe(&self) -> String {
        format!(
            "prophet {} k={:.4} sigma={:.4} iters={}",
            self.config.seasonality_mode,
            self.params.k,
            self.params.sigma_obs,
            self.params.iterations
        )
    }

    /// Forecasts `horizon` steps after the last training sample with a band of width `level`.
    ///
    /// The mean is Prophet's `yhat`. The band follows Prophet's simulation (Taylor and Letham
    /// 2018, section 3.1.4): each path draws future changepoints at the historical rate with
    /// Laplace deltas of scale `mean |delta|`, recomputes the trend, and adds Gaussian noise
    /// `sigma_obs`; the band is the `(1 - level)/2` and `(1 + level)/2` quantiles of
    /// [`ProphetModel::uncertainty_samples`] paths from a ChaCha8 generator seeded with
    /// [`ProphetModel::seed`], so it is reproducible.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when `level` is not in (0, 1) or the prediction fails.
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast> {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::model(
                MODEL,
                format!("level {level} is not in (0, 1)"),
            ));
        }
        let mut out = Forecast {
            level,
            ..Forecast::default()
        };
        let Some(h) = NonZeroU32::new(horizon as u32) else {
            return Ok(out);
        };
        let future = self
            .prophet
            .make_future_dataframe(h, IncludeHistory::No)
            .map_err(|e| Error::model(MODEL, format!("future dates: {e}")))?;
        let ds: Vec<i64> = (1..=horizon as i64)
            .map(|i| self.end + i * self.step)
            .collect();
        let pred = self
            .prophet
            .predict(future)
            .map_err(|e| Error::model(MODEL, format!("predict: {e}")))?;
        out.mean = pred.yhat.point.clone();

        // Scaled time of each forecast step, as Prophet scales it (0 at the first sample, 1
        // at the last).
        let span = (self.end - self.start).max(1) as f64;
        let t: Vec<f64> = ds.iter().map(|d| (d - self.start) as f64 / span).collect();
        let p = &self.params;
        let t_max = t.iter().copied().fold(1.0f64, f64::max);
        let rate =
            p.delta.iter().map(|d| d.abs()).sum::<f64>() / p.delta.len().max(1) as f64 + 1e-8;
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        let samples = self.config.uncertainty_samples.max(1) as usize;
        let mut paths = vec![Vec::with_capacity(samples); horizon];
        for _ in 0..samples {
            // New changepoints on (1, t_max]: Poisson count with mean S (t_max - 1).
            let mean_count = p.t_change.len() as f64 * (t_max - 1.0);
            let count = poisson(&mut rng, mean_count);
            let mut cps: Vec<(f64, f64)> = (0..count)
                .map(|_| {
                    let at = 1.0 + rng.gen::<f64>() * (t_max - 1.0);
                    (at, laplace(&mut rng, rate))
                })
                .collect();
            cps.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (i, ti) in t.iter().enumerate() {
                let mut trend = trend_at(p, *ti);
                if !p.flat {
                    for (at, d) in &cps {
                        if *ti >= *at {
                            trend += d * (ti - at);
                        }
                    }
                }
                let trend = trend * self.y_scale;
                let base_trend = pred.trend.point[i];
                // yhat = trend (1 + mult) + add; swap in the simulated trend.
                let mult = pred.multiplicative.point[i];
                let add = pred.additive.point[i];
                let noise = normal(&mut rng) * p.sigma_obs * self.y_scale;
                let _ = base_trend;
                paths[i].push(trend * (1.0 + mult) + add + noise);
            }
        }
        let lo = (1.0 - level) / 2.0;
        let hi = (1.0 + level) / 2.0;
        for path in &mut paths {
            path.sort_by(f64::total_cmp);
            out.lower
                .push(crate::models::seasonal::quantile_sorted(path, lo));
            out.upper
                .push(crate::models::seasonal::quantile_sorted(path, hi));
        }
        Ok(out)
    }
}

/// The fitted trend (scaled) at scaled time `t`, changepoints included.
fn trend_at(p: &Captured, t: f64) -> f64 {
    if p.flat {
        return p.m;
    }
    let mut rate = p.k;
    let mut offset = p.m;
    for (c, d) in p.t_change.iter().zip(&p.delta) {
        if t >= *c {
            rate += d;
            offset -= c * d;
        }
    }
    rate * t + offset
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Laplace(0, scale) draw by inversion.
fn laplace(rng: &mut ChaCha8Rng, scale: f64) -> f64 {
    let u: f64 = rng.gen::<f64>() - 0.5;
    -scale * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
}

/// A Poisson draw: Knuth's product method for small means, a rounded normal for large ones.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    if mean > 50.0 {
        return (mean + mean.sqrt() * normal(rng)).round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let mut k = 0;
    let mut prod: f64 = rng.gen();
    while prod > limit {
        k += 1;
        prod *= rng.gen::<f64>();
    }
    k
}
