//! `seer generate`: realistic synthetic metric history with known ground truth, so the planner
//! and the detectors have work at any scale and can be checked against the truth.
//!
//! Series come in three families, assigned round-robin by index (`i % 10`):
//!
//! | `i % 10` | metric | shape |
//! |---|---|---|
//! | 0–3 | `disk_usage` (percent of the volume) | a linear trend (filling, flat or shrinking) plus noise; half of the filling disks also have a log directory that grows for 6 hours and is cleaned away (a sawtooth) |
//! | 4–6 | `memory_growth` (percent of the pool) | a leak that grows with a damped (saturating) curve, or a leak reset by restarts every few days |
//! | 7–9 | `request_rate` (requests per second) | daily and weekly seasonality, noise, and a few holidays with a third less traffic |
//!
//! Ground truth is written to `truth.parquet` beside the history: for each disk and memory
//! series the time its *mean level* crosses 80 % (disk) or 90 % (memory) — the thresholds of the
//! default rules — or null when it never does. "Mean level" excludes noise and averages the
//! sawtooth over its cycle (a clean-up cycle of amplitude `A` adds `A / 2` on average), since
//! that is what a trend model can forecast.
//!
//! Everything is seeded: the same `--seed`, `--series`, `--days` and `--step` give the same
//! files. Generation is parallel (rayon); history is written in files of at most
//! [`SERIES_PER_FILE`] series, each sorted by series then time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;

use crate::batch::SampleBatchBuilder;
use crate::series::Labels;
use crate::time::Millis;
use crate::{Error, Result};

/// Series per history file.
pub const SERIES_PER_FILE: usize = 500;

const DAY_MS: Millis = 86_400_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// Number of series.
    pub series: usize,
    /// Days of history, ending at `end_ms`.
    pub days: u32,
    /// Sample spacing.
    pub step_ms: Millis,
    /// Time of the last sample (aligned down to the step).
    pub end_ms: Millis,
    /// Seed of the pseudo-random generator.
    pub seed: u64,
}

/// The family of a generated series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Disk,
    Memory,
    Traffic,
}

impl Family {
    fn of(index: usize) -> Family {
        match index % 10 {
            0..=3 => Family::Disk,
            4..=6 => Family::Memory,
            _ => Family::Traffic,
        }
    }

    /// The metric name of the family.
    pub fn metric(self) -> &'static str {
        match self {
            Family::Disk => "disk_usage",
            Family::Memory => "memory_growth",
            Family::Traffic => "request_rate",
        }
    }
}

/// The known truth about one generated series.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    pub labels: Labels,
    pub family: Family,
    /// A short description of the shape (`linear`, `sawtooth`, `flat`, `shrinking`, `damped`,
    /// `restarts`, `seasonal`).
    pub shape: &'static str,
    /// When the mean level crosses the family's threshold, if it does.
    pub crossing_ms: Option<Millis>,
    /// The threshold (percent) for disk and memory series.
    pub threshold: Option<f64>,
}

/// A small, fast, seedable generator (SplitMix64, Steele, Lea and Flood 2014).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// One series' generator: its labels, truth and the value at each step.
struct SeriesPlan {
    truth: Truth,
    shape: Shape,
    noise: f64,
    rng: Rng,
}

enum Shape {
    /// `level + rate_per_day * days` plus an optional sawtooth of `amplitude` over `cycle_ms`.
    Linear {
        level: f64,
        rate_per_day: f64,
        sawtooth: Option<(f64, Millis)>,
    },
    /// `base + gain * (1 - exp(-days / tau))`.
    Damped { base: f64, gain: f64, tau_days: f64 },
    /// A leak of `rate_per_day` from `base`, reset every `period_ms`.
    Restarts {
        base: f64,
        rate_per_day: f64,
        period_ms: Millis,
    },
    /// `level * daily(t) * weekly(t) * holiday(t)`.
    Seasonal {
        level: f64,
        daily_amp: f64,
        weekly_amp: f64,
        holidays: Vec<i64>,
    },
}

fn plan_series(config: &GenerateConfig, index: usize, start_ms: Millis) -> SeriesPlan {
    let mut rng = Rng::new(config.seed, index as u64);
    let family = Family::of(index);
    let host = format!("host-{:05}", index / 10);
    let (labels, shape, noise, shape_name, threshold) = match family {
        Family::Disk => {
            let labels = Labels::with_metric(
                family.metric(),
                [("host", host.as_str()), ("mountpoint", "/data")],
            );
            let level = rng.range(15.0, 55.0);
            let kind = rng.uniform();
            let (rate, name) = if kind < 0.15 {
                (0.0, "flat")
            } else if kind < 0.25 {
                (-rng.range(0.05, 0.5), "shrinking")
            } else {
                (rng.range(0.3, 3.0), "linear")
            };
            let sawtooth = if name == "linear" && index.is_multiple_of(2) {
                Some((rng.range(2.0, 6.0), 6 * 3_600_000))
            } else {
                None
            };
            let name = if sawtooth.is_some() { "sawtooth" } else { name };
            let shape = Shape::Linear {
                level,
                rate_per_day: rate,
                sawtooth,
            };
            (labels, shape, rng.range(0.1, 0.6), name, Some(80.0))
        }
        Family::Memory => {
            let labels = Labels::with_metric(
                family.metric(),
                [("instance", host.as_str()), ("pool", "heap")],
            );
            let base = rng.range(20.0, 50.0);
            if rng.uniform() < 0.6 {
                let gain = rng.range(20.0, 70.0);
                let shape = Shape::Damped {
                    base,
                    gain,
                    tau_days: rng.range(5.0, 40.0),
                };
                (labels, shape, rng.range(0.2, 0.8), "damped", Some(90.0))
            } else {
                let period = (rng.range(2.0, 6.0) * DAY_MS as f64) as Millis;
                let shape = Shape::Restarts {
                    base,
                    rate_per_day: rng.range(1.0, 8.0),
                    period_ms: period,
                };
                (labels, shape, rng.range(0.2, 0.8), "restarts", Some(90.0))
            }
        }
        Family::Traffic => {
            let labels = Labels::with_metric(
                family.metric(),
                [("service", format!("svc-{:04}", index / 10).as_str())],
            );
            let days = config.days as i64;
            let holidays = (0..(days / 14).max(1))
                .map(|_| (rng.uniform() * days as f64) as i64)
                .collect();
            let shape = Shape::Seasonal {
                level: rng.range(50.0, 5000.0),
                daily_amp: rng.range(0.2, 0.6),
                weekly_amp: rng.range(0.05, 0.25),
                holidays,
            };
            (labels, shape, rng.range(0.02, 0.08), "seasonal", None)
        }
    };
    let crossing_ms = threshold.and_then(|t| crossing(&shape, t, start_ms));
    SeriesPlan {
        truth: Truth {
            labels,
            family,
            shape: shape_name,
            crossing_ms,
            threshold,
        },
        shape,
        noise,
        rng,
    }
}

/// When the mean level of `shape` (time 0 at `start_ms`) crosses `threshold` upwards.
fn crossing(shape: &Shape, threshold: f64, start_ms: Millis) -> Option<Millis> {
    let at_days = |d: f64| start_ms + (d * DAY_MS as f64).round() as Millis;
    match shape {
        Shape::Linear {
            level,
            rate_per_day,
            sawtooth,
        } => {
            let mean = level + sawtooth.map(|(a, _)| a / 2.0).unwrap_or(0.0);
            if mean >= threshold {
                Some(start_ms)
            } else if *rate_per_day > 0.0 {
                Some(at_days((threshold - mean) / rate_per_day))
            } else {
                None
            }
        }
        Shape::Damped {
            base,
            gain,
            tau_days,
        } => {
            if base + gain <= threshold {
                None
            } else {
                // base + gain (1 - e^{-d/tau}) = threshold  =>  d = -tau ln(1 - (t - base)/gain)
                Some(at_days(-tau_days * (1.0 - (threshold - base) / gain).ln()))
            }
        }
        // A leak reset by restarts crosses only if it reaches the threshold within a period;
        // its mean level is a sawtooth, not a trend, so no crossing is claimed.
        Shape::Restarts { .. } | Shape::Seasonal { .. } => None,
    }
}

impl SeriesPlan {
    fn value(&mut self, t: Millis, start_ms: Millis) -> f64 {
        let days = (t - start_ms) as f64 / DAY_MS as f64;
        let noise = self.noise * self.rng.normal();
        match &self.shape {
            Shape::Linear {
                level,
                rate_per_day,
                sawtooth,
            } => {
                let saw = sawtooth
                    .map(|(amp, cycle)| amp * (t.rem_euclid(cycle)) as f64 / cycle as f64)
                    .unwrap_or(0.0);
                (level + rate_per_day * days + saw + noise).clamp(0.0, 100.0)
            }
            Shape::Damped {
                base,
                gain,
                tau_days,
            } => (base + gain * (1.0 - (-days / tau_days).exp()) + noise).clamp(0.0, 100.0),
            Shape::Restarts {
                base,
                rate_per_day,
                period_ms,
            } => {
                let since = (t - start_ms).rem_euclid(*period_ms) as f64 / DAY_MS as f64;
                (base + rate_per_day * since + noise).clamp(0.0, 100.0)
            }
            Shape::Seasonal {
                level,
                daily_amp,
                weekly_amp,
                holidays,
            } => {
                let day_phase = (t.rem_euclid(DAY_MS)) as f64 / DAY_MS as f64;
                let week_phase = (t.rem_euclid(7 * DAY_MS)) as f64 / (7 * DAY_MS) as f64;
                let tau = 2.0 * std::f64::consts::PI;
                let daily = 1.0 + daily_amp * (tau * (day_phase - 0.375)).sin();
                let weekly = 1.0 + weekly_amp * (tau * week_phase).cos();
                let holiday = if holidays.contains(&(days as i64)) {
                    0.67
                } else {
                    1.0
                };
                (level * daily * weekly * holiday * (1.0 + noise)).max(0.0)
            }
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    pub files: Vec<PathBuf>,
    pub truth_file: PathBuf,
    pub samples: u64,
    pub truths: Vec<Truth>,
}

/// Writes history (`history-NNNNN.parquet`, seer's long format) and `truth.parquet` into `dir`.
///
/// # Errors
///
/// [`Error::Config`] for zero series, days or step; I/O errors naming the file.
pub fn generate(config: &GenerateConfig, dir: &Path) -> Result<Generated> {
    let mut problems = Vec::new();
    if config.series == 0 {
        problems.push("--series must be at least 1".to_string());
    }
    if config.days == 0 {
        problems.push("--days must be at least 1".to_string());
    }
    if config.step_ms <= 0 {
        problems.push("--step must be a positive duration".to_string());
    }
    if !problems.is_empty() {
        return Err(Error::Config { problems });
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;

    let end = config.end_ms - config.end_ms.rem_euclid(config.step_ms);
    let steps = (config.days as i64 * DAY_MS / config.step_ms).max(1);
    let start = end - (steps - 1) * config.step_ms;
    let chunks: Vec<(usize, usize)> = (0..config.series)
        .step_by(SERIES_PER_FILE)
        .map(|first| (first, (first + SERIES_PER_FILE).min(config.series)))
        .collect();

    let written = chunks
        .par_iter()
        .map(|&(first, last)| {
            let path = dir.join(format!("history-{:05}.parquet", first / SERIES_PER_FILE));
            let mut truths = Vec::with_capacity(last - first);
            let mut batches = Vec::new();
            for index in first..last {
                let mut plan = plan_series(config, index, start);
                let mut builder = SampleBatchBuilder::new();
                let id = builder.intern(plan.truth.labels.clone());
                for k in 0..steps {
                    let t = start + k * config.step_ms;
                    let v = plan.value(t, start);
                    builder.push(id, t, v);
                }
                batches.push(builder.finish());
                truths.push(plan.truth);
            }
            crate::ingest::write_parquet(&path, &batches)?;
            Ok((path, truths))
        })
        .collect::<Result<Vec<_>>>()?;

    let mut files = Vec::new();
    let mut truths = Vec::new();
    for (path, t) in written {
        files.push(path);
        truths.extend(t);
    }
    let truth_file = dir.join("truth.parquet");
    write_truth(&truth_file, &truths)?;
    Ok(Generated {
        files,
        truth_file,
        samples: steps as u64 * config.series as u64,
        truths,
    })
}

fn write_truth(path: &Path, truths: &[Truth]) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("series", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("shape", DataType::Utf8, false),
        Field::new("threshold", DataType::Float64, true),
        Field::new(
            "crossing",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
    ]));
    let mut series = StringBuilder::new();
    let mut metric = StringBuilder::new();
    let mut shape = StringBuilder::new();
    let mut threshold = Float64Builder::new();
    let mut crossing = TimestampMillisecondBuilder::new();
    for t in truths {
        series.append_value(t.labels.to_string());
        metric.append_value(t.family.metric());
        shape.append_value(t.shape);
        threshold.append_option(t.threshold);
        crossing.append_option(t.crossing_ms);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(series.finish()),
        Arc::new(metric.finish()),
        Arc::new(shape.finish()),
        Arc::new(threshold.finish()),
        Arc::new(crossing.finish().with_timezone("UTC")),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let internal =
        |e: parquet::errors::ParquetError| Error::Internal(format!("{}: {e}", path.display()));
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).map_err(internal)?;
    writer.write(&batch).map_err(internal)?;
    writer.close().map_err(internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(series: usize) -> GenerateConfig {
        GenerateConfig {
            series,
            days: 3,
            step_ms: 300_000,
            end_ms: 1_700_000_000_000,
            seed: 7,
        }
    }

    #[test]
    fn same_seed_same_history() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ga = generate(&config(20), a.path()).unwrap();
        let gb = generate(&config(20), b.path()).unwrap();
        assert_eq!(ga.samples, 20 * 864);
        assert_eq!(ga.truths, gb.truths);
        let read = |p: &Path| crate::ingest::read_parquet(p).unwrap();
        let (ra, rb) = (read(&ga.files[0]), read(&gb.files[0]));
        let va: Vec<f64> = ra
            .iter()
            .flat_map(|b| b.rows().map(|s| s.value).collect::<Vec<_>>())
            .collect();
        let vb: Vec<f64> = rb
            .iter()
            .flat_map(|b| b.rows().map(|s| s.value).collect::<Vec<_>>())
            .collect();
        assert_eq!(va, vb);
        assert_eq!(va.len(), 20 * 864);
    }

    #[test]
    fn linear_truth_is_where_the_mean_line_crosses() {
        let shape = Shape::Linear {
            level: 50.0,
            rate_per_day: 2.0,
            sawtooth: Some((4.0, 1)),
        };
        // Mean level 52 (sawtooth adds 2); 28 points to go at 2 per day = 14 days.
        assert_eq!(crossing(&shape, 80.0, 0), Some(14 * DAY_MS));
        let flat = Shape::Linear {
            level: 50.0,
            rate_per_day: 0.0,
            sawtooth: None,
        };
        assert_eq!(crossing(&flat, 80.0, 0), None);
        // Damped: 30 + 70 (1 - e^{-d/10}) = 90 at d = -10 ln(1/7) = 19.459 days.
        let damped = Shape::Damped {
            base: 30.0,
            gain: 70.0,
            tau_days: 10.0,
        };
        let d = crossing(&damped, 90.0, 0).unwrap() as f64 / DAY_MS as f64;
        assert!((d - 19.459).abs() < 1e-3, "{d}");
        assert_eq!(
            crossing(
                &Shape::Damped {
                    base: 30.0,
                    gain: 50.0,
                    tau_days: 10.0
                },
                90.0,
                0
            ),
            None
        );
    }

    #[test]
    fn bad_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = generate(
            &GenerateConfig {
                series: 0,
                ..config(1)
            },
            dir.path(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--series"), "{err}");
    }
}
