//! `seer eval m4`: fits a model to every M4 hourly series, forecasts the 48-step horizon and
//! scores it with sMAPE, MASE (m = 24) and OWA against Naive2, with fit times.
//!
//! Series are fitted in parallel (rayon, one series per task). Fit time is the wall time of
//! one series' fit plus forecast on its worker thread; the total is the wall time of the
//! whole run. A series whose model fails gets the seasonal naive forecast instead and is
//! counted in [`M4Report::fallbacks`], so one bad fit neither aborts the run nor goes unseen.
//!
//! Models (all tuned for hourly data with daily and weekly seasonality, never per series):
//!
//! - `sarima`: [`AutoSarima`] with period 24, weekly Fourier regressors (period 168) and the
//!   log transform chosen by rule;
//! - `prophet`: [`crate::models::prophet::ProphetModel`] with daily and weekly seasonality;
//! - `seasonal`: [`SeasonalModel`] with periods 24 and 168, additive;
//! - `snaive`: the seasonal naive forecast (no fit).

use std::fmt;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::m4::{self, Accuracy, M4Task, HOURLY_HORIZON, HOURLY_PERIOD};
use crate::models::prophet::ProphetModel;
use crate::models::sarima::{AutoSarima, FourierTerms};
use crate::models::seasonal::{SeasonalModel, SeasonalityMode};
use crate::Result;

/// Weekly period of hourly data, in steps.
pub const WEEKLY_PERIOD: f64 = 168.0;

/// Weekly Fourier pairs the SARIMA runner adds.
pub const WEEKLY_HARMONICS: usize = 3;

/// The models `seer eval m4` can score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum M4Model {
    Sarima,
    Prophet,
    Seasonal,
    Snaive,
}

impl std::str::FromStr for M4Model {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "sarima" => Ok(M4Model::Sarima),
            "prophet" => Ok(M4Model::Prophet),
            "seasonal" => Ok(M4Model::Seasonal),
            "snaive" => Ok(M4Model::Snaive),
            other => Err(format!(
                "unknown model {other:?}: expected sarima, prophet, seasonal or snaive"
            )),
        }
    }
}

impl fmt::Display for M4Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            M4Model::Sarima => "sarima",
            M4Model::Prophet => "prophet",
            M4Model::Seasonal => "seasonal",
            M4Model::Snaive => "snaive",
        })
    }
}

/// Fit-time statistics over series, in milliseconds (total in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitTimes {
    /// Median per-series fit time.
    pub median_ms: f64,
    /// 90th percentile per-series fit time.
    pub p90_ms: f64,
    /// Largest per-series fit time.
    pub max_ms: f64,
    /// Sum of per-series fit times (CPU-side cost).
    pub sum_s: f64,
    /// Wall time of the whole run (all series, in parallel).
    pub wall_s: f64,
    /// Worker threads used.
    pub threads: usize,
}

/// One series' outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesResult {
    pub id: String,
    pub smape: f64,
    pub mase: f64,
    pub fit_ms: f64,
    /// The fitted model's description (order, transform), or the error that forced the
    /// seasonal naive fallback.
    pub detail: String,
    pub fallback: bool,
}

/// The scores of one model on M4 hourly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct M4Report {
    pub model: M4Model,
    pub series: usize,
    pub horizon: usize,
    pub accuracy: Accuracy,
    /// Naive2 on the same series, computed by seer.
    pub naive2: Accuracy,
    pub owa: f64,
    pub fit_times: FitTimes,
    /// Series that fell back to the seasonal naive forecast.
    pub fallbacks: usize,
    pub per_series: Vec<SeriesResult>,
}

/// Scores `model` on `dir/Hourly-train.csv` and `dir/Hourly-test.csv`.
///
/// # Errors
///
/// As [`m4::load_hourly`], and [`Error::Input`] when a series' MASE scale is 0.
pub fn run(dir: &Path, model: M4Model) -> Result<M4Report> {
    let tasks = m4::load_hourly(dir)?;
    run_tasks(&tasks, model)
}

/// Scores `model` on already loaded tasks (see [`run`]).
///
/// # Errors
///
/// As [`run`].
pub fn run_tasks(tasks: &[M4Task], model: M4Model) -> Result<M4Report> {
    let started = Instant::now();
    let outcomes: Vec<(Vec<f64>, f64, String, bool)> = tasks
        .par_iter()
        .map(|task| {
            let t0 = Instant::now();
            let result = forecast_one(model, &task.train, HOURLY_HORIZON);
            let fit_ms = t0.elapsed().as_secs_f64() * 1e3;
            match result {
                Ok((f, detail)) if f.len() == HOURLY_HORIZON && f.iter().all(|v| v.is_finite()) => {
                    (f, fit_ms, detail, false)
                }
                Ok((_, detail)) => (
                    m4::seasonal_naive(&task.train, HOURLY_PERIOD, HOURLY_HORIZON),
                    fit_ms,
                    format!("non-finite forecast from {detail}"),
                    true,
                ),
                Err(e) => (
                    m4::seasonal_naive(&task.train, HOURLY_PERIOD, HOURLY_HORIZON),
                    fit_ms,
                    e.to_string(),
                    true,
                ),
            }
        })
        .collect();
    let wall_s = started.elapsed().as_secs_f64();

    let forecasts: Vec<Vec<f64>> = outcomes.iter().map(|o| o.0.clone()).collect();
    let accuracy = m4::evaluate(tasks, &forecasts, HOURLY_PERIOD)?;
    let naive2: Vec<Vec<f64>> = tasks
        .iter()
        .map(|t| m4::naive2(&t.train, HOURLY_PERIOD, HOURLY_HORIZON))
        .collect();
    let naive2 = m4::evaluate(tasks, &naive2, HOURLY_PERIOD)?;

    let per_series: Vec<SeriesResult> = tasks
        .iter()
        .zip(&outcomes)
        .map(|(task, (f, fit_ms, detail, fallback))| SeriesResult {
            id: task.id.clone(),
            smape: m4::smape(&task.test, f),
            mase: m4::mase(&task.train, &task.test, f, HOURLY_PERIOD).unwrap_or(f64::NAN),
            fit_ms: *fit_ms,
            detail: detail.clone(),
            fallback: *fallback,
        })
        .collect();
    let mut times: Vec<f64> = outcomes.iter().map(|o| o.1).collect();
    times.sort_by(f64::total_cmp);
    let fit_times = FitTimes {
        median_ms: crate::models::seasonal::quantile_sorted(&times, 0.5),
        p90_ms: crate::models::seasonal::quantile_sorted(&times, 0.9),
        max_ms: times.last().copied().unwrap_or(0.0),
        sum_s: times.iter().sum::<f64>() / 1e3,
        wall_s,
        threads: rayon::current_num_threads(),
    };
    Ok(M4Report {
        model,
        series: tasks.len(),
        horizon: HOURLY_HORIZON,
        accuracy,
        naive2,
        owa: m4::owa(accuracy, naive2),
        fit_times,
        fallbacks: per_series.iter().filter(|s| s.fallback).count(),
        per_series,
    })
}

/// Fits `model` to one training series and forecasts `horizon` steps; returns the forecast
/// and a short description of the fitted model.
///
/// # Errors
///
/// The model's fit or forecast error.
pub fn forecast_one(model: M4Model, train: &[f64], horizon: usize) -> Result<(Vec<f64>, String)> {
    match model {
        M4Model::Snaive => Ok((
            m4::seasonal_naive(train, HOURLY_PERIOD, horizon),
            "seasonal naive".into(),
        )),
        M4Model::Seasonal => {
            let fitted = SeasonalModel::new([24, 168], SeasonalityMode::Additive).fit(train)?;
            let f = fitted.forecast(horizon, 0.95)?;
            Ok((f.mean, format!("periods {:?}", fitted.periods())))
        }
        M4Model::Sarima => {
            let auto = AutoSarima::new(HOURLY_PERIOD).with_fourier(FourierTerms {
                period: WEEKLY_PERIOD,
                harmonics: WEEKLY_HARMONICS,
            })?;
            let fitted = auto.fit(train)?;
            let f = fitted.model.forecast(horizon, 0.95)?;
            let detail = format!(
                "SARIMA{} {:?} weekly terms {}",
                fitted.model.order(),
                fitted.summary.transform,
                fitted.model.regression().len()
            );
            Ok((f.mean, detail))
        }
        M4Model::Prophet => {
            let fitted = ProphetModel::hourly().fit_steps(train)?;
            let f = fitted.forecast(horizon, 0.95)?;
            Ok((f.mean, fitted.describe()))
        }
    }
}

impl fmt::Display for M4Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "M4 hourly: {} series, horizon {}, model {}",
            self.series, self.horizon, self.model
        )?;
        writeln!(
            f,
            "{:<10} {:>8} {:>8} {:>7}",
            "method", "sMAPE", "MASE", "OWA"
        )?;
        writeln!(
            f,
            "{:<10} {:>8.3} {:>8.3} {:>7.3}",
            self.model.to_string(),
            self.accuracy.smape,
            self.accuracy.mase,
            self.owa
        )?;
        writeln!(
            f,
            "{:<10} {:>8.3} {:>8.3} {:>7.3}",
            "naive2", self.naive2.smape, self.naive2.mase, 1.0
        )?;
        let t = &self.fit_times;
        writeln!(
            f,
            "fit time per series: median {:.1} ms, p90 {:.1} ms, max {:.1} ms; sum {:.1} s; \
             wall {:.1} s on {} threads",
            t.median_ms, t.p90_ms, t.max_ms, t.sum_s, t.wall_s, t.threads
        )?;
        writeln!(f, "fallbacks to seasonal naive: {}", self.fallbacks)?;
        for s in self.per_series.iter().filter(|s| s.fallback) {
            writeln!(f, "  {}: {}", s.id, s.detail)?;
        }
        Ok(())
    }
}
