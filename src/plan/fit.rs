//! Fitting one selected series under one rule: the capacity and traffic models of `seer plan`.

use crate::models::linear::{LinearMethod, LinearTrend};
use crate::models::seasonal::{SeasonalModel, SeasonalityMode};
use crate::models::smoothing::{HoltModel, TrendSelection};
use crate::rules::{Capacity, CapacityRule, Model, TrafficRule};
use crate::time::Millis;
use crate::{Error, Result};

use super::query::SelectedSeries;
use super::result::{CapacityRow, Chart, TrafficRow};

/// Probability mass of the bands and crossing intervals the planner reports.
pub const INTERVAL: f64 = 0.95;

/// Points of history kept for a chart.
const CHART_POINTS: usize = 240;

/// Fits a capacity rule to one series.
///
/// The model sees the last `forecast_window` of the series (the window the rule looks ahead
/// is also the window it looks back, as `linear_regression over 30 days` reads).
///
/// # Errors
///
/// [`Error::Model`] when the series is too short or the model cannot be fitted, and
/// [`Error::Config`] for a capacity given as a selector (not supported by the planner yet).
pub fn capacity(rule: &CapacityRule, series: &SelectedSeries) -> Result<CapacityRow> {
    let at_ms = *series
        .timestamps
        .last()
        .ok_or_else(|| Error::model("plan", "no points"))?;
    let since = at_ms - rule.forecast_window_ms;
    let points: Vec<(Millis, f64)> = series
        .timestamps
        .iter()
        .copied()
        .zip(series.values.iter().copied())
        .filter(|(t, v)| *t >= since && v.is_finite())
        .collect();
    let capacity = match &rule.capacity {
        None => None,
        Some(Capacity::Value(v)) => Some(*v),
        Some(Capacity::Selector(s)) => {
            return Err(Error::Config {
                problems: vec![format!(
                    "{}: capacity selector {s} is not supported by `seer plan` in this version; \
                     give the capacity as a number",
                    rule.origin
                )],
            })
        }
    };
    let threshold = rule.alert_threshold.level(capacity);
    let current = points.last().map(|p| p.1).unwrap_or(f64::NAN);
    let step_ms = median_step(&points).unwrap_or(3_600_000);
    let window_steps = (rule.forecast_window_ms / step_ms).max(1) as usize;
    let stride = (window_steps / 120).max(1);

    let (model, crossing, forecast) = match rule.model {
        Model::ExponentialSmoothing => {
            let y: Vec<f64> = points.iter().map(|p| p.1).collect();
            let fitted = HoltModel::new(TrendSelection::Auto, INTERVAL)?.fit(&y)?;
            let crossing = fitted.crossing(threshold, step_ms as f64 / 1000.0);
            let f = fitted.forecast(window_steps, INTERVAL);
            let forecast: Vec<(Millis, f64, f64, f64)> = (0..window_steps)
                .step_by(stride)
                .chain(std::iter::once(window_steps - 1))
                .map(|h| {
                    (
                        at_ms + (h as i64 + 1) * step_ms,
                        f.mean[h],
                        f.lower[h],
                        f.upper[h],
                    )
                })
                .collect();
            (
                format!("exponential_smoothing ({})", fitted.form()),
                crossing,
                forecast,
            )
        }
        _ => {
            let fitted = LinearTrend::new(LinearMethod::TheilSen, INTERVAL)?.fit(&points, at_ms)?;
            let crossing = fitted.crossing(threshold);
            let forecast: Vec<(Millis, f64, f64, f64)> = (0..=window_steps)
                .step_by(stride)
                .chain(std::iter::once(window_steps))
                .map(|h| {
                    let secs = (h as i64 * step_ms) as f64 / 1000.0;
                    let (m, lo, hi) = fitted.forecast(secs);
                    (at_ms + h as i64 * step_ms, m, lo, hi)
                })
                .collect();
            (
                "linear_regression (theil_sen)".to_string(),
                crossing,
                forecast,
            )
        }
    };
    let to_time = |s: Option<f64>| s.map(|s| at_ms + (s * 1000.0).round() as Millis);
    let end = *forecast.last().expect("at least one forecast point");
    Ok(CapacityRow {
        rule: rule.alert.name.clone(),
        labels: series.labels.clone(),
        model,
        at_ms,
        current,
        threshold,
        crossing_ms: to_time(crossing.estimate_secs),
        earliest_ms: to_time(crossing.earliest_secs),
        latest_ms: to_time(crossing.latest_secs),
        window_ms: rule.forecast_window_ms,
        end_mean: end.1,
        end_lower: end.2,
        end_upper: end.3,
        points: points.len(),
        chart: Chart {
            history: thin(&points, CHART_POINTS),
            forecast,
            threshold: Some(threshold),
        },
    })
}

/// The median spacing of time-ordered points.
pub fn median_step(points: &[(Millis, f64)]) -> Option<Millis> {
    let mut gaps: Vec<Millis> = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0)
        .collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied()
}

/// Every k-th point, so a chart has at most `max` points (the last point is always kept).
pub fn thin(points: &[(Millis, f64)], max: usize) -> Vec<(Millis, f64)> {
    let k = points.len().div_ceil(max.max(1)).max(1);
    let mut out: Vec<(Millis, f64)> = points.iter().step_by(k).copied().collect();
    if let (Some(last), Some(kept)) = (points.last(), out.last()) {
        if last.0 != kept.0 {
            out.push(*last);
        }
    }
    out
}

/// Fits a traffic rule to one series.
///
/// `model: seasonal` uses the seasonal forecaster (MSTL profiles of the rule's seasonal
/// periods plus a smoothed level) over the rule's `horizon`. Other traffic models are not
/// available in the planner of this version and give an error that the summary lists.
///
/// # Errors
///
/// [`Error::Model`] for a model not available here, too short a series, or a failed fit.
pub fn traffic(rule: &TrafficRule, series: &SelectedSeries) -> Result<TrafficRow> {
    if rule.model != Model::Seasonal {
        return Err(Error::model(
            rule.model.as_str(),
            "not available in the planner of this version (use model: seasonal)",
        ));
    }
    let points: Vec<(Millis, f64)> = series
        .timestamps
        .iter()
        .copied()
        .zip(series.values.iter().copied())
        .filter(|(_, v)| v.is_finite())
        .collect();
    let at_ms = points
        .last()
        .map(|p| p.0)
        .ok_or_else(|| Error::model("plan", "no points"))?;
    let step_ms = median_step(&points).unwrap_or(3_600_000);
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let periods = rule
        .seasonality
        .iter()
        .map(|s| (s.period_ms() / step_ms) as usize);
    let fitted = SeasonalModel::new(periods, SeasonalityMode::Multiplicative).fit(&values)?;
    let horizon = (rule.horizon_ms / step_ms).max(1) as usize;
    let f = fitted.forecast(horizon, INTERVAL)?;
    let (peak_index, peak) = f
        .mean
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or_else(|| Error::model("seasonal", "empty forecast"))?;
    let replicas = rule
        .capacity_per_replica
        .map(|c| (peak * (1.0 + rule.headroom) / c).ceil().max(1.0) as u64);
    let forecast: Vec<(Millis, f64, f64, f64)> = (0..horizon)
        .map(|h| {
            (
                at_ms + (h as i64 + 1) * step_ms,
                f.mean[h],
                f.lower[h],
                f.upper[h],
            )
        })
        .collect();
    Ok(TrafficRow {
        rule: rule.alert.name.clone(),
        labels: series.labels.clone(),
        model: format!("seasonal ({})", fitted.mode()),
        at_ms,
        current: values[values.len() - 1],
        peak,
        peak_at_ms: at_ms + (peak_index as i64 + 1) * step_ms,
        peak_upper: f.upper[peak_index],
        replicas,
        horizon_ms: rule.horizon_ms,
        points: points.len(),
        chart: Chart {
            history: thin(&points, CHART_POINTS),
            forecast,
            threshold: None,
        },
    })
}
