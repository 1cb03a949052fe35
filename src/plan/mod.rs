//! `seer plan`: the batch capacity-planning job over Parquet history.
//!
//! 1. **Select** ([`query`]): the history files are registered with DataFusion and one SQL
//!    query selects the rules' metrics over their look-back and resamples them to the model
//!    step with `date_bin` (metric and time filters are pushed down to the Parquet scan).
//! 2. **Fit** ([`fit`]): every (rule, series) pair is fitted in parallel (rayon) — capacity
//!    rules with a linear trend or damped Holt smoothing and a time-to-threshold, traffic rules
//!    with the traffic forecaster — with a progress bar on a terminal.
//! 3. **Write** ([`output`], [`report`]): `capacity.parquet`, `traffic.parquet`,
//!    `forecast.parquet`, `report.html` and `summary.md` in the output directory; optionally
//!    capacity alerts to Alertmanager for crossings inside each rule's window.
//!
//! "Now" is the time of the newest sample in the history, so planning last month's history
//! gives the answers one would have had then.

pub mod fit;
pub mod output;
pub mod query;
pub mod report;
pub mod result;

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::rules::{CapacityRule, RuleSet, TrafficRule};
use crate::time::Millis;
use crate::{Error, Result};

use query::SelectedSeries;
use result::{CapacityRow, Skipped, TrafficRow};

/// What `seer plan` was asked to do.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// History files or directories (searched recursively for `.parquet`).
    pub history: Vec<PathBuf>,
    /// A selection query replacing [`query::default_query`].
    pub sql: Option<String>,
    /// Output directory.
    pub out: PathBuf,
    /// The model step the history is resampled to.
    pub step_ms: Millis,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

/// Where the time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Reading and resampling (the DataFusion query), seconds.
    pub select_secs: f64,
    /// Fitting every series, seconds.
    pub fit_secs: f64,
    /// Writing outputs and the report, seconds.
    pub write_secs: f64,
}

/// What a plan produced.
#[derive(Debug, Clone)]
pub struct PlanOutcome {
    pub capacity: Vec<CapacityRow>,
    pub traffic: Vec<TrafficRow>,
    pub skipped: Vec<Skipped>,
    pub files: usize,
    pub series_selected: usize,
    pub timings: Timings,
    /// `summary.md`'s text.
    pub summary: String,
}

enum Job<'a> {
    Capacity(&'a CapacityRule),
    Traffic(&'a TrafficRule),
}

/// Runs the plan.
///
/// # Errors
///
/// Bad history (named file), a failing selection query, or an output that cannot be written.
pub fn run(config: &PlanConfig, rules: &RuleSet) -> Result<PlanOutcome> {
    let started = Instant::now();
    if config.step_ms <= 0 {
        return Err(Error::Config {
            problems: vec!["--step must be a positive duration".into()],
        });
    }
    let files = query::history_files(&config.history)?;
    if rules.capacity.is_empty() && rules.traffic.is_empty() {
        return Err(Error::Config {
            problems: vec![
                "the rules have no capacity_planning or traffic_prediction rule; \
                            nothing to plan"
                    .into(),
            ],
        });
    }

    // Select and resample.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("tokio runtime: {e}")))?;
    let query = match &config.sql {
        Some(sql) => sql.clone(),
        None => {
            let newest = runtime.block_on(query::newest_timestamp(&files))?;
            let lookback = rules
                .capacity
                .iter()
                .map(|r| r.forecast_window_ms)
                .chain(rules.traffic.iter().map(traffic_lookback_ms))
                .max()
                .unwrap_or(0);
            let mut metrics: Vec<&str> = rules
                .capacity
                .iter()
                .map(|r| &r.selector)
                .chain(rules.traffic.iter().map(|r| &r.selector))
                .filter_map(|s| s.metric_name())
                .collect();
            metrics.sort_unstable();
            metrics.dedup();
            query::default_query(&metrics, config.step_ms, newest - lookback)
        }
    };
    let selected = runtime.block_on(query::select(&files, &query))?;
    drop(runtime);
    let select_secs = started.elapsed().as_secs_f64();

    // Pair series with the rules that match them, then fit in parallel.
    let mut jobs: Vec<(Job<'_>, &SelectedSeries)> = Vec::new();
    for series in &selected {
        for rule in &rules.capacity {
            if rule.selector.matches(&series.labels) {
                jobs.push((Job::Capacity(rule), series));
            }
        }
        for rule in &rules.traffic {
            if rule.selector.matches(&series.labels) {
                jobs.push((Job::Traffic(rule), series));
            }
        }
    }
    let fit_started = Instant::now();
    let bar = if config.progress {
        let bar = indicatif::ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "fitting {bar:40} {pos}/{len} series ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    enum Fitted {
        Capacity(CapacityRow),
        Traffic(TrafficRow),
        Skipped(Skipped),
    }
    let fitted: Vec<Fitted> = jobs
        .par_iter()
        .map(|(job, series)| {
            let (name, result) = match job {
                Job::Capacity(rule) => (
                    &rule.alert.name,
                    fit::capacity(rule, series).map(Fitted::Capacity),
                ),
                Job::Traffic(rule) => (
                    &rule.alert.name,
                    fit::traffic(rule, series).map(Fitted::Traffic),
                ),
            };
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            result.unwrap_or_else(|e| {
                Fitted::Skipped(Skipped {
                    rule: name.clone(),
                    labels: series.labels.clone(),
                    reason: e.to_string(),
                })
            })
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let (mut capacity, mut traffic, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for f in fitted {
        match f {
            Fitted::Capacity(r) => capacity.push(r),
            Fitted::Traffic(r) => traffic.push(r),
            Fitted::Skipped(s) => skipped.push(s),
        }
    }
    let fit_secs = fit_started.elapsed().as_secs_f64();

    // Write.
    let write_started = Instant::now();
    std::fs::create_dir_all(&config.out).map_err(|e| Error::io(&config.out, e))?;
    output::write_capacity(&config.out.join("capacity.parquet"), &capacity)?;
    output::write_traffic(&config.out.join("traffic.parquet"), &traffic)?;
    output::write_forecasts(&config.out.join("forecast.parquet"), &capacity, &traffic)?;
    let samples: u64 = selected.iter().map(|s| s.values.len() as u64).sum();
    let input = report::ReportInput {
        generated_ms: jiff::Timestamp::now().as_millisecond(),
        capacity: &capacity,
        traffic: &traffic,
        skipped: &skipped,
        history_files: files.len(),
        samples,
        wall_secs: started.elapsed().as_secs_f64(),
    };
    let html = report::html(&input);
    let summary = report::markdown(&input);
    let write_file = |name: &str, text: &str| {
        let path = config.out.join(name);
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
    };
    write_file("report.html", &html)?;
    write_file("summary.md", &summary)?;
    let write_secs = write_started.elapsed().as_secs_f64();

    Ok(PlanOutcome {
        capacity,
        traffic,
        skipped,
        files: files.len(),
        series_selected: selected.len(),
        timings: Timings {
            select_secs,
            fit_secs,
            write_secs,
        },
        summary,
    })
}

/// Traffic models learn from four weeks of history (two cycles of the weekly season).
fn traffic_lookback_ms(_rule: &TrafficRule) -> Millis {
    28 * 86_400_000
}
