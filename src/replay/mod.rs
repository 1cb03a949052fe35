//! Replay: feeds history files through the engine with event time, as fast as the CPU allows.
//!
//! Files are read in parallel, their samples grouped by series across all files, and the
//! groups handed to [`Engine::process_grouped`](crate::engine::Engine::process_grouped) — the
//! same per-series stages the service runs on live samples. Because time is the samples' own
//! timestamps, a replay is deterministic: the same files and rules give the same alerts.

mod summary;

pub use summary::ReplaySummary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::alert::{Notification, Sink};
use crate::engine::{Engine, EngineOptions};
use crate::ingest;
use crate::rules::RuleSet;
use crate::series::{Labels, SeriesId};
use crate::time::Millis;
use crate::{Error, Result};

/// Samples of one series, as read.
pub type SeriesSamples = (Arc<Labels>, Vec<(Millis, f64)>);

/// How CSV inputs are labelled (Parquet carries its own labels).
#[derive(Debug, Clone, Default)]
pub struct CsvNaming {
    /// Metric name; default: the file name without extension, made a valid metric name.
    pub metric: Option<String>,
    /// Extra labels. A `file` label with the file name (without extension) is added unless
    /// given here, so several CSV files never collapse into one series.
    pub labels: Vec<(String, String)>,
}

impl CsvNaming {
    /// The label set for the CSV file at `path`.
    pub fn labels_for(&self, path: &Path) -> Labels {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("series")
            .to_string();
        let metric = self
            .metric
            .clone()
            .unwrap_or_else(|| metric_name_from(&stem));
        let mut pairs = self.labels.clone();
        if !pairs.iter().any(|(k, _)| k == "file") {
            pairs.push(("file".to_string(), stem));
        }
        Labels::with_metric(&metric, pairs)
    }
}

/// Turns a file stem into a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
fn metric_name_from(stem: &str) -> String {
    let mut out: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Expands directories into the `.parquet` and `.csv` files inside them (not recursive),
/// sorted by name; plain files are kept as given.
///
/// # Errors
///
/// [`Error::Io`] for a path that does not exist or cannot be listed; [`Error::Input`] for a
/// directory holding no history file.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("parquet") | Some("csv")
                    )
            })
            .collect();
        if found.is_empty() {
            return Err(Error::input(
                path.display().to_string(),
                "directory holds no .parquet or .csv history file",
            ));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Reads every file in parallel and groups the samples by series across files.
///
/// # Errors
///
/// The first file that fails to read, with its decoder's error (which names the file).
pub fn load(files: &[PathBuf], csv: &CsvNaming) -> Result<Vec<SeriesSamples>> {
    let labelled: Vec<(PathBuf, Labels)> = files
        .iter()
        .map(|path| (path.clone(), csv.labels_for(path)))
        .collect();
    load_labelled(&labelled)
}

/// Like [`load`], with the labels of each CSV file given (Parquet files carry their own).
///
/// # Errors
///
/// As [`load`].
pub fn load_labelled(files: &[(PathBuf, Labels)]) -> Result<Vec<SeriesSamples>> {
    let batches = files
        .par_iter()
        .map(|(path, labels)| ingest::read_history(path, labels))
        .collect::<Result<Vec<_>>>()?;

    let mut groups: HashMap<SeriesId, SeriesSamples> = HashMap::new();
    for batch in batches.iter().flatten() {
        for s in batch.rows() {
            let entry = groups.entry(s.series).or_insert_with(|| {
                let labels = batch.dictionary.get(s.series).cloned().unwrap_or_default();
                (labels, Vec::new())
            });
            entry.1.push((s.timestamp_ms, s.value));
        }
    }
    let mut out: Vec<SeriesSamples> = groups.into_values().collect();
    out.sort_by_key(|(labels, _)| labels.id());
    Ok(out)
}

/// Which notifications a sink receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Every notification, resends included (what an Alertmanager should get).
    All,
    /// Only firing and resolved transitions (what a person reading the output wants).
    Transitions,
}

/// Replays `files` through the available rules of `rules` and hands notifications to
/// `sinks` in event-time order. Returns the summary table.
///
/// # Errors
///
/// A file that cannot be read (the error names it) or a sink that fails.
pub fn run(
    files: &[PathBuf],
    csv: &CsvNaming,
    rules: &RuleSet,
    options: EngineOptions,
    sinks: &mut [(&mut dyn Sink, Delivery)],
) -> Result<ReplaySummary> {
    let started = std::time::Instant::now();
    let groups = load(files, csv)?;
    let mut engine = Engine::new(rules, options);
    let emitted = engine.process_grouped(groups);
    let all: Vec<Notification> = emitted.into_iter().map(|e| e.notification).collect();
    let transitions: Vec<Notification> = all
        .iter()
        .filter(|n| n.kind.is_transition())
        .cloned()
        .collect();
    for (sink, delivery) in sinks.iter_mut() {
        match delivery {
            Delivery::All => sink.send(&all)?,
            Delivery::Transitions => sink.send(&transitions)?,
        }
    }
    Ok(ReplaySummary {
        series: engine.summaries(),
        engine: engine.stats(),
        wall: started.elapsed(),
        unavailable: rules
            .rules()
            .filter(|r| !r.available)
            .map(|r| {
                // A built model can still be unavailable for a feature of the rule (such as a
                // capacity read from a series); its warning names the feature.
                let feature = rules.warnings.iter().find(|w| {
                    r.model.is_built(r.kind)
                        && w.file == r.origin.file
                        && w.key.starts_with(&format!("{}.", r.origin.key))
                });
                let reason = match feature {
                    Some(w) => format!(
                        "{} {:?} is not available in this version",
                        w.reason,
                        w.value.as_deref().unwrap_or_default()
                    ),
                    None => format!("model {} is not available in this version", r.model),
                };
                format!("{} ({}): {reason}", r.alert.name, r.origin)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_labels_default_to_file_name() {
        let naming = CsvNaming::default();
        let l = naming.labels_for(Path::new("/x/ec2-latency.csv"));
        assert_eq!(l.metric(), "ec2_latency");
        assert_eq!(l.get("file"), Some("ec2-latency"));
        let naming = CsvNaming {
            metric: Some("m".into()),
            labels: vec![("file".into(), "f".into())],
        };
        assert_eq!(
            naming.labels_for(Path::new("a.csv")).to_string(),
            r#"m{file="f"}"#
        );
        assert_eq!(metric_name_from("1abc"), "_1abc");
    }

    #[test]
    fn a_directory_without_history_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = expand_inputs(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no .parquet or .csv"), "{err}");
        assert!(expand_inputs(&[dir.path().join("missing")]).is_err());
    }
}
