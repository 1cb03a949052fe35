//! M4 competition metrics for the hourly series, and the benchmark forecasts they are
//! compared with.
//!
//! For one series with in-sample values `x_1..x_n`, actuals `y_1..y_h` and forecasts `f_1..f_h`:
//!
//! ```text
//! sMAPE = (1/h) * sum_j 200 * |y_j - f_j| / (|y_j| + |f_j|)
//! MASE  = ((1/h) * sum_j |y_j - f_j|) / ((1/(n-m)) * sum_{t>m} |x_t - x_{t-m}|)
//! ```
//!
//! with `m = 24` for hourly data. Both are averaged over all series, and
//! `OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2` on those averages.
//!
//! **Naive2**, the benchmark OWA is relative to: the series is seasonal when it has at least
//! `3m` values and `|r_m| > 1.645 * sqrt((1 + 2 * sum_{k=1}^{m-1} r_k^2) / n)`, `r_k` the
//! sample autocorrelation at lag `k` (a 90% two-sided test). A seasonal series is divided by its
//! seasonal indices from a classical multiplicative decomposition, forecast by its last value,
//! and multiplied back; a non-seasonal one is forecast by its last value.
//!
//! **Classical multiplicative decomposition** (Hyndman & Athanasopoulos, *Forecasting:
//! Principles and Practice*, 2nd ed., section 6.3): the trend is the centred moving average of
//! order `m` (a `2 x m` MA for even `m`: weights `1/(2m)` on the two ends, `1/m` in between); the
//! index of season position `p` is the mean of `x_t / trend_t` over the `t` with `t mod m = p`
//! (counted from the first value) where the trend exists; the indices are then divided by their
//! mean so that they average 1.
//!
//! **Seasonal naive** repeats the last `m` values.
//!
//! # Limitations
//!
//! The multiplicative decomposition needs a positive trend; when the moving average is 0 or
//! negative anywhere, [`naive2`] forecasts the series as non-seasonal (M4's data is positive).

use std::path::Path;

use serde::Serialize;

use crate::{Error, Result};

/// Season length of the hourly series.
pub const HOURLY_PERIOD: usize = 24;

/// Forecast horizon of the hourly series.
pub const HOURLY_HORIZON: usize = 48;

/// z value of the seasonality test (90%, two-sided).
const SEASONALITY_Z: f64 = 1.645;

/// One series from an M4 file: its id (`H1`, ...) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct M4Series {
    /// The series id, the first field of its row.
    pub id: String,
    /// The values, without the trailing empty cells.
    pub values: Vec<f64>,
}

/// A series with its training part and the test part forecasts are scored on.
#[derive(Debug, Clone, PartialEq)]
pub struct M4Task {
    /// The series id.
    pub id: String,
    /// In-sample values.
    pub train: Vec<f64>,
    /// The values to forecast.
    pub test: Vec<f64>,
}

/// Average accuracy over a set of series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Accuracy {
    /// Mean sMAPE (percent, 0 to 200).
    pub smape: f64,
    /// Mean MASE.
    pub mase: f64,
}

/// Reads an M4 file (`Hourly-train.csv`, `Hourly-test.csv`, ...): a header line, then one row
/// per series with the id first and the values after it; shorter series end in empty cells.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file and line for a
/// value that is not a finite number, an empty cell before a value, or a row without values.
pub fn read_series(path: &Path) -> Result<Vec<M4Series>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));

    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::input(format!("{name}:{line}"), format!("unreadable CSV: {e}"))
        })?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let at = || format!("{name}:{line}");

        let id = record.get(0).unwrap_or_default().trim().to_string();
        // Cells after the last value are empty; an empty cell before a value is an error.
        let cells: Vec<&str> = record.iter().skip(1).map(str::trim).collect();
        let used = cells
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |i| i + 1);
        if used == 0 {
            return Err(Error::input(at(), format!("series {id:?} has no values")));
        }
        let values = cells[..used]
            .iter()
            .enumerate()
            .map(|(k, cell)| {
                cell.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        Error::input(
                            at(),
                            format!("series {id:?} value {} is {cell:?}, not a number", k + 1),
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(M4Series { id, values });
    }
    Ok(out)
}

/// Reads `dir/Hourly-train.csv` and `dir/Hourly-test.csv` and pairs the series by id.
///
/// # Errors
///
/// As [`read_series`], and [`Error::Input`] naming the series when the two files do not list
/// the same ids in the same order, or a test part is not [`HOURLY_HORIZON`] values long.
pub fn load_hourly(dir: &Path) -> Result<Vec<M4Task>> {
    let test_path = dir.join("Hourly-test.csv");
    let train = read_series(&dir.join("Hourly-train.csv"))?;
    let test = read_series(&test_path)?;
    let location = test_path.display().to_string();
    if train.len() != test.len() {
        return Err(Error::input(
            location,
            format!(
                "{} test series for {} training series",
                test.len(),
                train.len()
            ),
        ));
    }

    train
        .into_iter()
        .zip(test)
        .map(|(train, test)| {
            if train.id != test.id {
                return Err(Error::input(
                    &location,
                    format!(
                        "series {:?} where the training file has {:?}",
                        test.id, train.id
                    ),
                ));
            }
            if test.values.len() != HOURLY_HORIZON {
                return Err(Error::input(
                    &location,
                    format!(
                        "series {:?} has {} test values, expected {HOURLY_HORIZON}",
                        test.id,
                        test.values.len()
                    ),
                ));
            }
            Ok(M4Task {
                id: train.id,
                train: train.values,
                test: test.values,
            })
        })
        .collect()
}

/// Symmetric MAPE in percent. A step where actual and forecast are both 0 counts as 0.
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let terms = actual.iter().zip(forecast).map(|(&y, &f)| {
        let scale = y.abs() + f.abs();
        if scale == 0.0 {
            0.0
        } else {
            200.0 * (y - f).abs() / scale
        }
    });
    terms.sum::<f64>() / actual.len().min(forecast.len()) as f64
}

/// In-sample scale of MASE: the mean absolute seasonal difference `|x_t - x_{t-period}|`.
/// `None` when the series has no more than `period` values or the scale is 0.
pub fn mase_scale(insample: &[f64], period: usize) -> Option<f64> {
    if insample.len() <= period {
        return None;
    }
    let diffs = insample.len() - period;
    let sum: f64 = (period..insample.len())
        .map(|t| (insample[t] - insample[t - period]).abs())
        .sum();
    let scale = sum / diffs as f64;
    (scale > 0.0).then_some(scale)
}

/// Mean absolute scaled error of `forecast` against `actual`, scaled by [`mase_scale`].
/// `None` when the scale is undefined or 0.
pub fn mase(insample: &[f64], actual: &[f64], forecast: &[f64], period: usize) -> Option<f64> {
    let scale = mase_scale(insample, period)?;
    let mae = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| (y - f).abs())
        .sum::<f64>()
        / actual.len().min(forecast.len()) as f64;
    Some(mae / scale)
}

/// Averages sMAPE and MASE over `tasks`, `forecasts[i]` being the forecast of `tasks[i]`.
///
/// # Errors
///
/// [`Error::Input`] naming the series when the forecast count or a forecast's length is wrong,
/// a forecast is not finite, or a series' MASE scale is 0.
pub fn evaluate(tasks: &[M4Task], forecasts: &[Vec<f64>], period: usize) -> Result<Accuracy> {
    if tasks.len() != forecasts.len() || tasks.is_empty() {
        return Err(Error::input(
            "M4 forecasts",
            format!("{} forecasts for {} series", forecasts.len(), tasks.len()),
        ));
    }
    let mut smape_sum = 0.0;
    let mut mase_sum = 0.0;
    for (task, forecast) in tasks.iter().zip(forecasts) {
        if forecast.len() != task.test.len() || forecast.iter().any(|f| !f.is_finite()) {
            return Err(Error::input(
                &task.id,
                format!(
                    "forecast has {} values (finite: {}), expected {} finite values",
                    forecast.len(),
                    forecast.iter().all(|f| f.is_finite()),
                    task.test.len()
                ),
            ));
        }
        smape_sum += smape(&task.test, forecast);
        mase_sum += mase(&task.train, &task.test, forecast, period).ok_or_else(|| {
            Error::input(
                &task.id,
                "MASE is undefined: the in-sample seasonal differences are 0",
            )
        })?;
    }
    let n = tasks.len() as f64;
    Ok(Accuracy {
        smape: smape_sum / n,
        mase: mase_sum / n,
    })
}

/// Overall weighted average of `accuracy` relative to Naive2's: 1 for Naive2 itself, lower is
/// better.
pub fn owa(accuracy: Accuracy, naive2: Accuracy) -> f64 {
    (accuracy.smape / naive2.smape + accuracy.mase / naive2.mase) / 2.0
}

/// Sample autocorrelations `r_1..=r_max_lag`:
/// `r_k = sum_{t<n-k} (x_t - mean)(x_{t+k} - mean) / sum_t (x_t - mean)^2`.
/// All NaN when the series is constant; lags at or past `n` are 0.
pub fn acf(x: &[f64], max_lag: usize) -> Vec<f64> {
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n as f64;
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let denominator: f64 = centred.iter().map(|d| d * d).sum();
    (1..=max_lag)
        .map(|k| {
            let numerator: f64 = (0..n.saturating_sub(k))
                .map(|t| centred[t] * centred[t + k])
                .sum();
            numerator / denominator
        })
        .collect()
}

/// M4's seasonality test: at least `3 * period` values and
/// `|r_period| > 1.645 * sqrt((1 + 2 * sum_{k<period} r_k^2) / n)`.
pub fn is_seasonal(x: &[f64], period: usize) -> bool {
    if period < 2 || x.len() < 3 * period {
        return false;
    }
    let r = acf(x, period);
    let spread: f64 = r[..period - 1].iter().map(|v| v * v).sum();
    let limit = SEASONALITY_Z * ((1.0 + 2.0 * spread) / x.len() as f64).sqrt();
    // A constant series gives NaN, which is not seasonal.
    r[period - 1].abs() > limit
}

/// Seasonal indices of a classical multiplicative decomposition, one per position `t mod
/// period`, averaging 1. `None` when the series is shorter than `period + 1` values (even
/// period) or `period` values (odd), or the trend is not positive everywhere.
pub fn seasonal_indices(x: &[f64], period: usize) -> Option<Vec<f64>> {
    let half = period / 2;
    let even = period.is_multiple_of(2);
    // The centred MA needs `half` values on each side.
    if period < 2 || x.len() < 2 * half + 1 {
        return None;
    }

    let mut sums = vec![0.0; period];
    let mut counts = vec![0usize; period];
    for t in half..x.len() - half {
        let trend = if even {
            let inner: f64 = x[t + 1 - half..t + half].iter().sum();
            (inner + 0.5 * (x[t - half] + x[t + half])) / period as f64
        } else {
            x[t - half..=t + half].iter().sum::<f64>() / period as f64
        };
        if trend <= 0.0 {
            return None;
        }
        sums[t % period] += x[t] / trend;
        counts[t % period] += 1;
    }

    let mut indices = Vec::with_capacity(period);
    for (sum, count) in sums.iter().zip(&counts) {
        if *count == 0 {
            return None;
        }
        indices.push(sum / *count as f64);
    }
    let mean = indices.iter().sum::<f64>() / period as f64;
    Some(indices.iter().map(|i| i / mean).collect())
}

/// Repeats the last value `horizon` times (empty for an empty series).
pub fn naive(x: &[f64], horizon: usize) -> Vec<f64> {
    x.last().map(|&v| vec![v; horizon]).unwrap_or_default()
}

/// Repeats the last `period` values; the plain naive forecast when the series is shorter.
pub fn seasonal_naive(x: &[f64], period: usize, horizon: usize) -> Vec<f64> {
    let n = x.len();
    if period == 0 || n < period {
        return naive(x, horizon);
    }
    (0..horizon).map(|j| x[n - period + j % period]).collect()
}

/// M4's Naive2 benchmark (see the module docs).
pub fn naive2(x: &[f64], period: usize, horizon: usize) -> Vec<f64> {
    let n = x.len();
    let indices = if is_seasonal(x, period) {
        seasonal_indices(x, period)
    } else {
        None
    };
    match indices {
        Some(si) => {
            let level = x[n - 1] / si[(n - 1) % period];
            (0..horizon).map(|j| level * si[(n + j) % period]).collect()
        }
        None => naive(x, horizon),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smape_by_hand() {
        // 200 * 10 / 210 = 9.523809523809524 and 200 * 20 / 380 = 10.526315789473685;
        // their mean is 10.025062656641604.
        let s = smape(&[100.0, 200.0], &[110.0, 180.0]);
        assert!((s - 10.025062656641604).abs() < 1e-12);
        assert_eq!(smape(&[0.0], &[0.0]), 0.0);
    }

    #[test]
    fn mase_by_hand() {
        // Period 2 on [1, 2, 3, 4]: |3 - 1| = |4 - 2| = 2, scale 2. Errors |5 - 4| = 1 and
        // |6 - 8| = 2, mean 1.5; MASE = 1.5 / 2 = 0.75.
        let m = mase(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0], &[4.0, 8.0], 2);
        assert_eq!(m, Some(0.75));
        assert_eq!(mase(&[1.0, 1.0, 1.0], &[1.0], &[1.0], 1), None);
        assert_eq!(mase(&[1.0], &[1.0], &[1.0], 1), None);
    }

    #[test]
    fn decomposition_recovers_exact_seasonality() {
        // x_t = 10 * s[t mod 4], s = [0.5, 1, 1.5, 1] (mean 1). The 2x4 MA at t is
        // (0.5 x_{t-2} + x_{t-1} + x_t + x_{t+1} + 0.5 x_{t+2}) / 4; x_{t-2} = x_{t+2}, so it
        // is one full season / 4 = 10 * 4 / 4 = 10, and every ratio is s[t mod 4].
        let s = [0.5, 1.0, 1.5, 1.0];
        let x: Vec<f64> = (0..20).map(|t| 10.0 * s[t % 4]).collect();
        let si = seasonal_indices(&x, 4).unwrap();
        for (got, want) in si.iter().zip(s) {
            assert!((got - want).abs() < 1e-12, "{si:?}");
        }

        // Naive2 then continues the pattern: n = 20, so the forecast starts at position 0.
        assert!(is_seasonal(&x, 4));
        let f = naive2(&x, 4, 6);
        let want = [5.0, 10.0, 15.0, 10.0, 5.0, 10.0];
        for (got, want) in f.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{f:?}");
        }
        assert_eq!(seasonal_naive(&x, 4, 6), want.to_vec());
    }

    #[test]
    fn non_seasonal_and_short_series_use_the_last_value() {
        // Fewer than 3 * period values: not tested, forecast flat.
        let x = [1.0, 5.0, 2.0, 4.0, 3.0];
        assert!(!is_seasonal(&x, 4));
        assert_eq!(naive2(&x, 4, 3), vec![3.0; 3]);
        // A constant series has no autocorrelation (0 / 0) and is not seasonal.
        assert!(!is_seasonal(&[2.0; 30], 4));
    }

    #[test]
    fn acf_by_hand() {
        // x = [1, 2, 3, 4], mean 2.5, centred [-1.5, -0.5, 0.5, 1.5], sum of squares 5.
        // r_1 = (0.75 - 0.25 + 0.75) / 5 = 0.25; r_2 = (-0.75 - 0.75) / 5 = -0.3.
        let r = acf(&[1.0, 2.0, 3.0, 4.0], 2);
        assert!(
            (r[0] - 0.25).abs() < 1e-12 && (r[1] + 0.3).abs() < 1e-12,
            "{r:?}"
        );
    }
}
