//! `seer eval tcpd`: the batch change-point detector with its default settings on every TCPD
//! dataset, scored and averaged like the published table.
//!
//! - Every dataset under `DIR/datasets` is read ([`super::tcpd::load_datasets`]) and scored
//!   against `DIR/annotations.json` with F1 (margin 5) and covering ([`super::tcpd`]).
//! - Only univariate datasets are run; multivariate ones are listed as skipped.
//! - The averages leave out the `quality_control_*` series and `uk_coal_employ`, as the
//!   published aggregate table does (TCPDBench's `zero_no_coal` strategy); those are still run
//!   and shown.
//! - One configuration for all datasets: [`BatchConfig::default`]. No per-dataset tuning.
//!
//! Run time is measured around the detector calls alone (`detect_ms`) and around the whole
//! run including reading the files (`total_ms`).

use std::fmt;
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::tcpd::{load_annotations, load_datasets, score_dataset, TcpdScore};
use crate::models::changepoint::{BatchConfig, Segmenter};
use crate::{Error, Result};

/// The result on one dataset.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetResult {
    /// Dataset name.
    pub name: String,
    /// Number of observations.
    pub n_obs: usize,
    /// Predicted change points (0-based rows), when the dataset was run.
    pub predicted: Vec<usize>,
    /// Both metrics, when the dataset was run.
    pub score: Option<TcpdScore>,
    /// Whether the dataset counts in the averages.
    pub in_average: bool,
    /// Why the dataset was not run, if it was not.
    pub skipped: Option<String>,
    /// Time spent in the detector, milliseconds.
    pub detect_ms: f64,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct TcpdReport {
    /// What ran: the detector and its settings.
    pub detector: String,
    /// The settings used for every dataset.
    pub config: BatchConfig,
    /// Mean F1 over the datasets in the average.
    pub f1: f64,
    /// Mean covering over the datasets in the average.
    pub cover: f64,
    /// Number of datasets in the averages.
    pub averaged: usize,
    /// Time in the detector over all datasets, milliseconds.
    pub detect_ms: f64,
    /// Wall time of the whole run, reading included, milliseconds.
    pub total_ms: f64,
    /// Every dataset, by name.
    pub datasets: Vec<DatasetResult>,
}

/// Whether the published averages include the dataset `name`.
pub fn in_published_average(name: &str) -> bool {
    !(name.starts_with("quality_control") || name == "uk_coal_employ")
}

/// Runs the batch detector with `config` on every dataset of `dir` and scores it.
///
/// # Errors
///
/// A dataset or the annotations cannot be read ([`Error::Io`], [`Error::Input`] naming the
/// file), a dataset has no annotations ([`Error::Input`] naming it), or the configuration is
/// invalid ([`Error::Model`]).
pub fn run(dir: &Path, config: BatchConfig) -> Result<TcpdReport> {
    let started = Instant::now();
    let segmenter = Segmenter::new(config)?;
    let annotations = load_annotations(&dir.join("annotations.json"))?;
    let datasets = load_datasets(dir)?;

    let mut results = Vec::with_capacity(datasets.len());
    for dataset in &datasets {
        let in_average = in_published_average(&dataset.name);
        if dataset.is_multivariate() {
            results.push(DatasetResult {
                name: dataset.name.clone(),
                n_obs: dataset.n_obs,
                predicted: Vec::new(),
                score: None,
                in_average: false,
                skipped: Some(format!("multivariate ({} series)", dataset.series.len())),
                detect_ms: 0.0,
            });
            continue;
        }
        let truth = annotations.get(&dataset.name).ok_or_else(|| {
            Error::input(
                dir.join("annotations.json").display().to_string(),
                format!("no annotations for dataset {}", dataset.name),
            )
        })?;
        let y: Vec<f64> = dataset.series[0]
            .values
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect();

        let t0 = Instant::now();
        let segmentation = segmenter
            .fit(&y)
            .map_err(|e| Error::input(&dataset.name, e.to_string()))?;
        let detect_ms = t0.elapsed().as_secs_f64() * 1e3;

        let score = score_dataset(
            &dataset.name,
            truth,
            &segmentation.change_points,
            dataset.n_obs,
        )?;
        results.push(DatasetResult {
            name: dataset.name.clone(),
            n_obs: dataset.n_obs,
            predicted: segmentation.change_points,
            score: Some(score),
            in_average,
            skipped: None,
            detect_ms,
        });
    }

    let counted: Vec<&TcpdScore> = results
        .iter()
        .filter(|r| r.in_average)
        .filter_map(|r| r.score.as_ref())
        .collect();
    let mean = |f: fn(&TcpdScore) -> f64| {
        counted.iter().map(|s| f(s)).sum::<f64>() / counted.len().max(1) as f64
    };
    Ok(TcpdReport {
        detector: "segment neighbourhood, piecewise-linear cost, Lavielle's rule".to_string(),
        config,
        f1: mean(|s| s.f1.f1),
        cover: mean(|s| s.cover),
        averaged: counted.len(),
        detect_ms: results.iter().map(|r| r.detect_ms).sum(),
        total_ms: started.elapsed().as_secs_f64() * 1e3,
        datasets: results,
    })
}

impl fmt::Display for TcpdReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>5} {:>6} {:>6} {:>6} {:>6}  change points",
            "dataset", "n", "F1", "P", "R", "cover"
        )?;
        for r in &self.datasets {
            let name = if r.in_average {
                r.name.clone()
            } else {
                format!("{} *", r.name)
            };
            match (&r.score, &r.skipped) {
                (Some(s), _) => writeln!(
                    f,
                    "{name:<20} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>6.3}  {:?}",
                    r.n_obs, s.f1.f1, s.f1.precision, s.f1.recall, s.cover, r.predicted
                )?,
                (None, reason) => writeln!(
                    f,
                    "{name:<20} {:>5} skipped: {}",
                    r.n_obs,
                    reason.as_deref().unwrap_or("")
                )?,
            }
        }
        writeln!(
            f,
            "\naverage over {} univariate datasets (* not in the average): F1 {:.3}, cover {:.3}",
            self.averaged, self.f1, self.cover
        )?;
        writeln!(
            f,
            "published defaults: binseg F1 0.698 cover 0.672, pelt 0.674 / 0.652, zero 0.645 / 0.566"
        )?;
        writeln!(
            f,
            "detector: {}; {:.1} ms detecting, {:.1} ms in all",
            self.detector, self.detect_ms, self.total_ms
        )
    }
}
