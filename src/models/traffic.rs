//! Traffic planning from a forecast: the expected peak over a horizon and the replica count
//! that serves it with headroom, for `traffic_prediction` rules (autoscaling).
//!
//! ```text
//! peak                 = max_h upper_h      (or mean_h, see TrafficRule::use_upper_band)
//! recommended_replicas = max(min_replicas, ceil(peak * (1 + headroom) / capacity_per_replica))
//! ```
//!
//! The forecast comes from SARIMA ([`crate::models::sarima::AutoSarima`]) with the daily
//! period and weekly Fourier terms. Planning on the upper band rather than the mean sizes for
//! the load that is exceeded with probability `(1 - level) / 2` at the peak hour.
//!
//! # Limitations
//!
//! - The history must be regularly spaced at the model's step; aggregate sub-step samples
//!   first (mean per step for rates), as [`aggregate_mean`] does.
//! - One series: a service's total request rate, not per-instance rates.

use serde::{Deserialize, Serialize};

use crate::models::sarima::{AutoSarima, FourierTerms};
use crate::models::seasonal::Forecast;
use crate::{Error, Result};

/// A traffic rule's planning parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficRule {
    /// Steps to look ahead (48 = two days of hourly steps).
    pub horizon_steps: usize,
    /// Steps per day (24 for hourly data); the SARIMA season.
    pub daily_period: usize,
    /// Add weekly Fourier terms (period `7 * daily_period`) when the history covers two weeks.
    pub weekly: bool,
    /// Band width in (0, 1). Default 0.95.
    pub level: f64,
    /// Plan for the upper band (true, the default) or the mean.
    pub use_upper_band: bool,
    /// Extra capacity as a fraction of the peak (0.2 = 20%).
    pub headroom: f64,
    /// Load one replica serves (same unit as the series, e.g. requests per second).
    pub capacity_per_replica: f64,
    /// Never recommend fewer replicas than this.
    pub min_replicas: u32,
}

impl Default for TrafficRule {
    fn default() -> Self {
        TrafficRule {
            horizon_steps: 48,
            daily_period: 24,
            weekly: true,
            level: 0.95,
            use_upper_band: true,
            headroom: 0.2,
            capacity_per_replica: 1.0,
            min_replicas: 1,
        }
    }
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficForecast {
    /// The planned-for peak load.
    pub peak: f64,
    /// Steps after the last observation (1 = the next step) at which the peak falls.
    pub peak_at: usize,
    /// `max(min_replicas, ceil(peak * (1 + headroom) / capacity_per_replica))`.
    pub recommended_replicas: u32,
    /// The forecast the plan was made from.
    pub forecast: Forecast,
    /// The SARIMA order chosen, for the alert's evidence.
    pub model: String,
}

impl TrafficRule {
    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming each bad field and value.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.horizon_steps == 0 {
            problems.push("traffic.horizon_steps = 0: must be at least 1".to_string());
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            problems.push(format!("traffic.level = {}: must be in (0, 1)", self.level));
        }
        if !(self.headroom >= 0.0 && self.headroom.is_finite()) {
            problems.push(format!(
                "traffic.headroom = {}: must be >= 0",
                self.headroom
            ));
        }
        if !(self.capacity_per_replica > 0.0 && self.capacity_per_replica.is_finite()) {
            problems.push(format!(
                "traffic.capacity_per_replica = {}: must be positive",
                self.capacity_per_replica
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config { problems })
        }
    }

    /// The replica count for a planned peak.
    pub fn replicas_for(&self, peak: f64) -> u32 {
        let need = (peak.max(0.0) * (1.0 + self.headroom) / self.capacity_per_replica).ceil();
        let need = if need.is_finite() {
            need.min(u32::MAX as f64) as u32
        } else {
            u32::MAX
        };
        need.max(self.min_replicas)
    }

    /// Plans from an existing forecast.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for invalid parameters; [`Error::Model`] for an empty forecast.
    pub fn plan_forecast(&self, forecast: Forecast, model: String) -> Result<TrafficForecast> {
        self.validate()?;
        let values = if self.use_upper_band {
            &forecast.upper
        } else {
            &forecast.mean
        };
        let (index, peak) = values
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .ok_or_else(|| Error::model("traffic", "the forecast has no finite values"))?;
        Ok(TrafficForecast {
            peak,
            peak_at: index + 1,
            recommended_replicas: self.replicas_for(peak),
            forecast,
            model,
        })
    }
}

/// Fits SARIMA to `history` (regular steps, gaps as NaN) and plans for the rule's horizon.
///
/// # Errors
///
/// [`Error::Config`] for invalid parameters; the SARIMA fit's [`Error::Model`] for a history
/// that is too short, all missing, or has long gaps.
pub fn plan(history: &[f64], rule: &TrafficRule) -> Result<TrafficForecast> {
    rule.validate()?;
    let mut auto = AutoSarima::new(rule.daily_period);
    let weekly = (7 * rule.daily_period) as f64;
    if rule.weekly && rule.daily_period >= 2 && history.len() as f64 >= 2.0 * weekly {
        auto = auto.with_fourier(FourierTerms {
            period: weekly,
            harmonics: 3,
        })?;
    }
    let fitted = auto.fit(history)?;
    let forecast = fitted.model.forecast(rule.horizon_steps, rule.level)?;
    rule.plan_forecast(forecast, format!("SARIMA{}", fitted.model.order()))
}

/// Aggregates samples `(timestamp_ms, value)` to steps of `step_ms` by the mean per step
/// (the right aggregate for rates), from the step holding the first sample to the one holding
/// the last. Steps with no samples are NaN (a gap), which the SARIMA fit fills when short.
///
/// # Errors
///
/// [`Error::Input`] when `step_ms` is not positive or timestamps are not sorted.
pub fn aggregate_mean(samples: &[(i64, f64)], step_ms: i64) -> Result<Vec<f64>> {
    if step_ms <= 0 {
        return Err(Error::input(
            "aggregate",
            format!("step {step_ms} ms is not positive"),
        ));
    }
    if samples.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(Error::input("aggregate", "timestamps are not sorted"));
    }
    let Some(first) = samples.first() else {
        return Ok(Vec::new());
    };
    let base = first.0.div_euclid(step_ms);
    let last = samples[samples.len() - 1].0.div_euclid(step_ms);
    let len = (last - base + 1) as usize;
    let mut sums = vec![0.0; len];
    let mut counts = vec![0usize; len];
    for (ts, v) in samples {
        if v.is_finite() {
            let i = (ts.div_euclid(step_ms) - base) as usize;
            sums[i] += v;
            counts[i] += 1;
        }
    }
    Ok(sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| if *c > 0 { s / *c as f64 } else { f64::NAN })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_round_up_with_headroom() {
        // peak 95 rps, 20% headroom, 10 rps per replica: ceil(114 / 10) = 12.
        let rule = TrafficRule {
            capacity_per_replica: 10.0,
            ..TrafficRule::default()
        };
        assert_eq!(rule.replicas_for(95.0), 12);
        // Exactly 100 * 1.2 / 10 = 12 needs 12, not 13.
        assert_eq!(rule.replicas_for(100.0), 12);
        // Never below the minimum, even for zero or negative forecasts.
        assert_eq!(rule.replicas_for(-5.0), 1);
    }

    #[test]
    fn plan_picks_the_peak_of_the_upper_band() {
        let forecast = Forecast {
            mean: vec![10.0, 30.0, 20.0],
            lower: vec![5.0, 25.0, 15.0],
            upper: vec![15.0, 35.0, 40.0],
            level: 0.95,
        };
        let rule = TrafficRule {
            capacity_per_replica: 10.0,
            headroom: 0.0,
            ..TrafficRule::default()
        };
        let plan = rule.plan_forecast(forecast.clone(), "test".into()).unwrap();
        assert_eq!(
            (plan.peak, plan.peak_at, plan.recommended_replicas),
            (40.0, 3, 4)
        );
        let mean_rule = TrafficRule {
            use_upper_band: false,
            ..rule
        };
        let plan = mean_rule.plan_forecast(forecast, "test".into()).unwrap();
        assert_eq!(
            (plan.peak, plan.peak_at, plan.recommended_replicas),
            (30.0, 2, 3)
        );
    }

    #[test]
    fn invalid_rules_name_the_field() {
        let rule = TrafficRule {
            capacity_per_replica: 0.0,
            ..TrafficRule::default()
        };
        let err = rule.validate().unwrap_err().to_string();
        assert!(err.contains("capacity_per_replica"), "{err}");
    }

    #[test]
    fn aggregation_averages_per_step_and_marks_gaps() {
        // Steps of 60 s: [0, 60) has 1 and 3 -> 2; [60, 120) empty -> NaN; [120, 180) 5.
        let v = aggregate_mean(&[(0, 1.0), (30_000, 3.0), (150_000, 5.0)], 60_000).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], 2.0);
        assert!(v[1].is_nan());
        assert_eq!(v[2], 5.0);
    }

    #[test]
    fn plans_daily_traffic_end_to_end() {
        // Three weeks of hourly traffic: 100 + 50 sin(2 pi t / 24) plus a small deterministic
        // wiggle. The peak of the mean forecast over 48 h is near 150 at an hour t with
        // t mod 24 = 6.
        let y: Vec<f64> = (0..24 * 21)
            .map(|t| {
                let phase = 2.0 * std::f64::consts::PI * t as f64 / 24.0;
                100.0 + 50.0 * phase.sin() + ((t * 7919) % 11) as f64 / 11.0
            })
            .collect();
        let rule = TrafficRule {
            capacity_per_replica: 20.0,
            use_upper_band: false,
            weekly: false,
            ..TrafficRule::default()
        };
        let plan = plan(&y, &rule).unwrap();
        assert!((plan.peak - 150.5).abs() < 3.0, "{plan:?}");
        assert_eq!((y.len() + plan.peak_at - 1) % 24, 6, "{plan:?}");
        // ceil(~150.5 * 1.2 / 20) = 10.
        assert_eq!(plan.recommended_replicas, 10);
    }
}
