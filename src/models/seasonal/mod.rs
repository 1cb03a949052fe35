//! The seasonal forecaster: MSTL seasonal profiles plus exponential smoothing of the rest.
//!
//! # Model
//!
//! For a regularly spaced series `y_0..y_{n-1}`, seasonal periods `m_1 < m_2 < ...` (in
//! steps) and the transform `g` (identity for additive seasonality, `ln` for multiplicative):
//!
//! ```text
//! g(y_t) = S_1(t) + S_2(t) + ... + d_t           seasonal components plus the rest
//! l_t    = l_{t-1} + alpha * (d_t - l_{t-1})     simple exponential smoothing of d
//! ŷ_{n+h} = g⁻¹( l_{n-1} + S_1(n+h) + S_2(n+h) + ... )
//! ```
//!
//! The components `S_i` come from MSTL (Bandara, Hyndman and Bergmeir 2021, "MSTL: A
//! Seasonal-Trend Decomposition Algorithm for Time Series with Multiple Seasonal Patterns"),
//! computed by the `stlrs` crate through `augurs-mstl`. A component is kept only when its
//! strength `F = max(0, 1 - Var(R) / Var(S_i + R))` (Wang, Smith and Hyndman 2006) is at least
//! [`MIN_SEASONAL_STRENGTH`]; otherwise it would add its own estimation noise to every forecast.
//! Beyond the fitted window each component repeats its last cycle; the level is expressed
//! against that repeated cycle (it carries the component's drift over the last cycle,
//! `S_i(n-1) - S_i(n-1-m_i)`), so the first forecast does not jump where the cycle wraps.
//!
//! The rest `d` follows ETS(A,N,N) (Hyndman et al. 2008, "Forecasting with Exponential
//! Smoothing", §2.3). `alpha` is chosen on a grid by the least sum of squared one-step errors,
//! which for ETS(A,N,N) is the maximum-likelihood criterion. At `alpha = 0` the level never
//! moves; at `alpha = 1` it follows the last value (a random walk).
//!
//! The band at level `p` is distribution-free: the half-width is the `p`-quantile of the
//! absolute one-step errors in the fitted window, widened for `h` steps ahead by
//! `sqrt(1 + (h - 1) * alpha^2)`, the ETS(A,N,N) variance ratio (Hyndman et al. 2008,
//! Table 6.1). Quantiles of observed errors keep heavy-tailed metrics from getting a band that
//! is too narrow, which a Gaussian band would give them; above the 98th percentile the
//! quantile is extrapolated from an exponential tail ([`tail_quantile`]).
//!
//! Fitting costs one MSTL decomposition and `O(n)` per grid point; [`FittedSeasonal::update`]
//! is `O(1)`, so a detector can score every sample and refit only now and then.
//!
//! # Limitations
//!
//! - The seasonal shape is frozen between fits: a change of daily shape is learned at the
//!   next fit, not sample by sample.
//! - A period is used only once the history covers two full cycles of it.
//! - There is no trend term: over a refit interval the level follows a drift through
//!   smoothing, which suits anomaly scoring; long-horizon planning uses the trend models.
//! - Multiplicative mode needs strictly positive history; with any value `<= 0` the fit falls
//!   back to additive and says so in [`FittedSeasonal::mode`].

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Seasonal components weaker than this are left out of the forecast.
pub const MIN_SEASONAL_STRENGTH: f64 = 0.3;

/// The smoothing weights `fit` chooses from.
const ALPHA_GRID: [f64; 13] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
];

/// How seasonality combines with the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeasonalityMode {
    /// `y = level + season`: the daily swing is the same size whatever the level.
    #[default]
    Additive,
    /// `y = level * season`: the swing grows with the level (fitted on `ln y`).
    Multiplicative,
}

impl std::fmt::Display for SeasonalityMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SeasonalityMode::Additive => "additive",
            SeasonalityMode::Multiplicative => "multiplicative",
        })
    }
}

/// The unfitted model: seasonal periods (in steps of the series) and mode.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonalModel {
    periods: Vec<usize>,
    mode: SeasonalityMode,
}

/// A forecast: mean and band, one entry per step ahead (index 0 is one step after the last
/// observation).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Forecast {
    pub mean: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// The interval width the band was computed at, in (0, 1).
    pub level: f64,
}

/// A fitted [`SeasonalModel`]. Step indices count from the first fitted observation (0).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FittedSeasonal {
    mode: SeasonalityMode,
    /// Kept components: (period, last cycle indexed by `t % period`).
    components: Vec<(usize, Vec<f64>)>,
    alpha: f64,
    level: f64,
    /// Index of the next step to be observed.
    next: usize,
    /// Sorted absolute one-step errors (transformed scale) from the fit.
    abs_errors: Vec<f64>,
}

impl SeasonalModel {
    /// The fewest observations [`fit`](Self::fit) accepts.
    pub const MIN_OBSERVATIONS: usize = 10;

    /// A model with the given periods (steps per cycle). Periods below 2 are dropped; the rest
    /// are sorted and deduplicated.
    pub fn new(periods: impl IntoIterator<Item = usize>, mode: SeasonalityMode) -> Self {
        let mut periods: Vec<usize> = periods.into_iter().filter(|p| *p >= 2).collect();
        periods.sort_unstable();
        periods.dedup();
        SeasonalModel { periods, mode }
    }

    /// Fits the model to regularly spaced observations `y`.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] with fewer than [`Self::MIN_OBSERVATIONS`] points, a non-finite value,
    /// or when the decomposition fails.
    pub fn fit(&self, y: &[f64]) -> Result<FittedSeasonal> {
        let n = y.len();
        if n < Self::MIN_OBSERVATIONS {
            return Err(Error::model(
                "seasonal",
                format!("{n} observations, need at least {}", Self::MIN_OBSERVATIONS),
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::model(
                "seasonal",
                format!("observation {i} is not finite"),
            ));
        }
        let mode = match self.mode {
            SeasonalityMode::Multiplicative if y.iter().all(|v| *v > 0.0) => {
                SeasonalityMode::Multiplicative
            }
            _ => SeasonalityMode::Additive,
        };
        let x: Vec<f64> = y.iter().map(|v| forward(mode, *v)).collect();

        // Decompose, keeping only components strong enough to help.
        let periods: Vec<usize> = self
            .periods
            .iter()
            .copied()
            .filter(|p| 2 * p <= n)
            .collect();
        let mut seasonal_sum = vec![0.0; n];
        let mut components = Vec::new();
        // How far each kept cycle jumps where it wraps around (see the level below).
        let mut wrap = 0.0;
        if !periods.is_empty() {
            let x32: Vec<f32> = x.iter().map(|v| *v as f32).collect();
            let mstl = augurs_mstl::stlrs::MstlParams::new()
                .fit(&x32, &periods)
                .map_err(|e| Error::model("seasonal", format!("MSTL: {e}")))?;
            let remainder: Vec<f64> = mstl.remainder().iter().map(|v| *v as f64).collect();
            for (period, comp) in periods.iter().zip(mstl.seasonal()) {
                let comp: Vec<f64> = comp.iter().map(|v| *v as f64).collect();
                let with: Vec<f64> = comp.iter().zip(&remainder).map(|(s, r)| s + r).collect();
                let strength = 1.0 - variance(&remainder) / variance(&with).max(f64::MIN_POSITIVE);
                if strength < MIN_SEASONAL_STRENGTH {
                    continue;
                }
                let mut cycle = vec![0.0; *period];
                for (t, value) in comp.iter().enumerate().skip(n - period) {
                    cycle[t % period] = *value;
                }
                for (t, s) in seasonal_sum.iter_mut().enumerate() {
                    *s += comp[t];
                }
                wrap += comp[n - 1] - comp[n - 1 - period];
                components.push((*period, cycle));
            }
        }
        let d: Vec<f64> = x.iter().zip(&seasonal_sum).map(|(x, s)| x - s).collect();

        // Choose alpha by one-step squared error; keep that run's errors for the band.
        let (alpha, level, errors) = ALPHA_GRID
            .iter()
            .map(|&alpha| {
                let (level, errors) = smooth(&d, alpha);
                let sse: f64 = errors.iter().map(|e| e * e).sum();
                (sse, alpha, level, errors)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, alpha, level, errors)| (alpha, level, errors))
            .expect("the grid is not empty");
        // The level was smoothed against each component's newest values, but the forecast
        // repeats the last cycle, whose value after step n - 1 is the one from a cycle earlier
        // (step n - period). Where the seasonal shape drifted between cycles this is a jump
        // at the first forecast step; carrying the drift `S(n-1) - S(n-1-period)` in the level
        // makes the first forecast continue from the last observation by the previous cycle's
        // step, and later updates of the level keep it.
        let level = level + wrap;
        let mut abs_errors: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
        abs_errors.sort_by(f64::total_cmp);

        Ok(FittedSeasonal {
            mode,
            components,
            alpha,
            level,
            next: n,
            abs_errors,
        })
    }
}

/// Runs simple exponential smoothing over `d` from `l_0 = d_0`; returns the final level and the
/// one-step errors `d_t - l_{t-1}` for `t >= 1`.
fn smooth(d: &[f64], alpha: f64) -> (f64, Vec<f64>) {
    let mut level = d[0];
    let mut errors = Vec::with_capacity(d.len().saturating_sub(1));
    for &v in &d[1..] {
        let e = v - level;
        errors.push(e);
        level += alpha * e;
    }
    (level, errors)
}

fn variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n
}

fn forward(mode: SeasonalityMode, v: f64) -> f64 {
    match mode {
        SeasonalityMode::Additive => v,
        SeasonalityMode::Multiplicative => v.ln(),
    }
}

/// The `p`-quantile of sorted values (linear interpolation between order statistics).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Errors above this quantile form the tail that [`tail_quantile`] extrapolates from.
pub const TAIL_START: f64 = 0.98;

/// The `p`-quantile of sorted non-negative errors, extrapolated beyond the data's reach.
///
/// Up to [`TAIL_START`] it is the empirical quantile. Above it, the excesses over the
/// `TAIL_START` quantile `u` are modelled as exponential (a generalised Pareto tail of shape 0,
/// the peaks-over-threshold approach of Pickands 1975 and Balkema and de Haan 1974, as used
/// for streams by Siffer et al. 2017, "Anomaly Detection in Streams with Extreme Value
/// Theory"), whose maximum-likelihood scale is the mean excess `s`:
///
/// ```text
/// q(p) = u + s * ln((1 - TAIL_START) / (1 - p))
/// ```
///
/// So a band at 0.9999 is meaningful even with a few thousand errors, where the empirical
/// quantile would just be the largest error seen.
pub fn tail_quantile(sorted: &[f64], p: f64) -> f64 {
    if p <= TAIL_START || sorted.len() < 50 {
        return quantile_sorted(sorted, p);
    }
    let u = quantile_sorted(sorted, TAIL_START);
    let start = sorted.partition_point(|e| *e <= u);
    let excess = &sorted[start..];
    if excess.is_empty() {
        return u;
    }
    let scale = excess.iter().map(|e| e - u).sum::<f64>() / excess.len() as f64;
    let p = p.min(1.0 - 1e-12);
    u + scale * ((1.0 - TAIL_START) / (1.0 - p)).ln()
}

impl FittedSeasonal {
    /// The mode actually fitted (multiplicative falls back to additive on non-positive data).
    pub fn mode(&self) -> SeasonalityMode {
        self.mode
    }

    /// The periods whose components the forecast uses.
    pub fn periods(&self) -> Vec<usize> {
        self.components.iter().map(|(p, _)| *p).collect()
    }

    /// The chosen smoothing weight.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Index of the next step to be observed.
    pub fn next_step(&self) -> usize {
        self.next
    }

    /// Maps a value to the model's scale (`ln` in multiplicative mode).
    pub fn transform(&self, v: f64) -> f64 {
        forward(self.mode, v)
    }

    /// Maps a value on the model's scale back.
    pub fn untransform(&self, v: f64) -> f64 {
        match self.mode {
            SeasonalityMode::Additive => v,
            SeasonalityMode::Multiplicative => v.exp(),
        }
    }

    /// The sum of seasonal components at step `t`.
    pub fn seasonal_at(&self, t: usize) -> f64 {
        self.components.iter().map(|(p, cycle)| cycle[t % p]).sum()
    }

    /// The one-step-ahead mean at step `t >= next_step()` on the model's scale.
    pub fn mean_at(&self, t: usize) -> f64 {
        self.level + self.seasonal_at(t)
    }

    /// Half-width of the band at level `p` for `h >= 1` steps ahead, on the model's scale.
    pub fn half_width(&self, p: f64, h: usize) -> f64 {
        let base = tail_quantile(&self.abs_errors, p);
        base * (1.0 + (h.max(1) - 1) as f64 * self.alpha * self.alpha).sqrt()
    }

    /// The absolute one-step errors of the fit, sorted (model scale).
    pub fn abs_errors(&self) -> &[f64] {
        &self.abs_errors
    }

    /// Observes the value of step `next_step()` (O(1)). A NaN leaves the level unchanged.
    pub fn update(&mut self, value: f64) {
        let x = self.transform(value);
        if x.is_finite() {
            let d = x - self.seasonal_at(self.next);
            self.level += self.alpha * (d - self.level);
        }
        self.next += 1;
    }

    /// Like [`update`](Self::update), but the one-step error moves the level by at most
    /// `clip` (on the model's scale): Huber-style robust smoothing (Gelper, Fried and Croux
    /// 2010, "Robust forecasting with exponential and Holt-Winters smoothing"), so a spike does
    /// not drag the level after it. A lasting shift is adopted at the next fit.
    pub fn update_clipped(&mut self, value: f64, clip: f64) {
        let x = self.transform(value);
        if x.is_finite() {
            let d = x - self.seasonal_at(self.next);
            let error = d - self.level;
            let error = if clip.is_finite() && clip > 0.0 {
                error.clamp(-clip, clip)
            } else {
                error
            };
            self.level += self.alpha * error;
        }
        self.next += 1;
    }

    /// Skips `steps` unobserved steps (a gap): the level stays, the season moves on.
    pub fn skip(&mut self, steps: usize) {
        self.next += steps;
    }

    /// Forecasts `horizon` steps after the last observation with a band of width `level`.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] when `level` is outside (0, 1).
    pub fn forecast(&self, horizon: usize, level: f64) -> Result<Forecast> {
        if !(level > 0.0 && level < 1.0) {
            return Err(Error::model(
                "seasonal",
                format!("level {level} is not in (0, 1)"),
            ));
        }
        let mut out = Forecast {
            level,
            ..Forecast::default()
        };
        for h in 1..=horizon {
            let m = self.mean_at(self.next + h - 1);
            let w = self.half_width(level, h);
            out.mean.push(self.untransform(m));
            out.lower.push(self.untransform(m - w));
            out.upper.push(self.untransform(m + w));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daily(n: usize, period: usize, level: f64, amp: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let phase = 2.0 * std::f64::consts::PI * (i % period) as f64 / period as f64;
                level + amp * phase.sin() + 0.5 * ((i * 7919) % 13) as f64 / 13.0
            })
            .collect()
    }

    #[test]
    fn forecasts_the_seasonal_shape() {
        let y = daily(24 * 14, 24, 100.0, 10.0);
        let fitted = SeasonalModel::new([24], SeasonalityMode::Additive)
            .fit(&y)
            .unwrap();
        assert_eq!(fitted.periods(), vec![24]);
        let f = fitted.forecast(24, 0.95).unwrap();
        for h in 0..24 {
            // The generator's mean is 100 + 10 sin(...) + 0.25 (the wiggle averages 6/13*0.5).
            let truth = 100.23 + 10.0 * (2.0 * std::f64::consts::PI * h as f64 / 24.0).sin();
            assert!(
                (f.mean[h] - truth).abs() < 0.6,
                "h={h}: {} vs {truth}",
                f.mean[h]
            );
            assert!(f.lower[h] < f.mean[h] && f.mean[h] < f.upper[h]);
        }
    }

    #[test]
    fn band_covers_about_the_requested_share() {
        // Independent uniform noise on a seasonal shape: a 90% band should hold about 90%.
        let y = daily(24 * 30, 24, 50.0, 5.0);
        let fitted = SeasonalModel::new([24], SeasonalityMode::Additive).fit(&y[..24 * 20]);
        let mut fitted = fitted.unwrap();
        let mut inside = 0;
        for &v in &y[24 * 20..] {
            let f = fitted.forecast(1, 0.9).unwrap();
            inside += (f.lower[0] <= v && v <= f.upper[0]) as usize;
            fitted.update(v);
        }
        let share = inside as f64 / (24.0 * 10.0);
        assert!((0.8..=1.0).contains(&share), "coverage {share}");
    }

    #[test]
    fn non_seasonal_data_drops_the_component() {
        let y: Vec<f64> = (0..200).map(|i| ((i * 7919) % 101) as f64).collect();
        let fitted = SeasonalModel::new([24], SeasonalityMode::Additive)
            .fit(&y)
            .unwrap();
        assert!(fitted.periods().is_empty());
    }

    #[test]
    fn level_follows_a_shift() {
        let mut y = vec![10.0; 100];
        y.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v += (i % 3) as f64 * 0.1);
        let mut fitted = SeasonalModel::new([], SeasonalityMode::Additive)
            .fit(&y)
            .unwrap();
        for _ in 0..200 {
            fitted.update(20.0);
        }
        let f = fitted.forecast(1, 0.95).unwrap();
        assert!((f.mean[0] - 20.0).abs() < 0.5, "{}", f.mean[0]);
    }

    #[test]
    fn multiplicative_falls_back_on_non_positive_data() {
        let mut y = daily(24 * 4, 24, 10.0, 5.0);
        y[3] = -1.0;
        let fitted = SeasonalModel::new([24], SeasonalityMode::Multiplicative)
            .fit(&y)
            .unwrap();
        assert_eq!(fitted.mode(), SeasonalityMode::Additive);
        let y = daily(24 * 4, 24, 10.0, 5.0);
        let fitted = SeasonalModel::new([24], SeasonalityMode::Multiplicative)
            .fit(&y)
            .unwrap();
        assert_eq!(fitted.mode(), SeasonalityMode::Multiplicative);
    }

    #[test]
    fn short_or_bad_input_is_an_error() {
        let m = SeasonalModel::new([24], SeasonalityMode::Additive);
        assert!(m.fit(&[1.0; 5]).is_err());
        let mut y = daily(100, 24, 10.0, 1.0);
        y[50] = f64::NAN;
        assert!(m
            .fit(&y)
            .unwrap_err()
            .to_string()
            .contains("observation 50"));
        assert!(m
            .fit(&daily(100, 24, 10.0, 1.0))
            .unwrap()
            .forecast(3, 1.5)
            .is_err());
    }

    #[test]
    fn tail_quantile_extrapolates_an_exponential_tail() {
        // |errors| drawn as exact exponential quantiles with scale 2: the p-quantile of
        // Exp(scale 2) is -2 ln(1 - p), e.g. 18.42 at p = 0.9999 (from the closed form).
        let n = 10_000;
        let sorted: Vec<f64> = (0..n)
            .map(|i| -2.0 * (1.0 - (i as f64 + 0.5) / n as f64).ln())
            .collect();
        let q = tail_quantile(&sorted, 0.9999);
        assert!((q - 18.42).abs() < 0.3, "{q}");
        // Below the tail start it is the empirical quantile.
        assert_eq!(tail_quantile(&sorted, 0.5), quantile_sorted(&sorted, 0.5));
        // With 1,000 errors the extrapolation still lands near the truth.
        let sorted: Vec<f64> = (0..1000)
            .map(|i| -2.0 * (1.0 - (i as f64 + 0.5) / 1000.0).ln())
            .collect();
        let q = tail_quantile(&sorted, 0.9999);
        assert!((q - 18.42).abs() < 1.0, "{q}");
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile_sorted(&[1.0, 2.0], 0.5), 1.5);
        assert!(quantile_sorted(&[], 0.5).is_nan());
    }
}
