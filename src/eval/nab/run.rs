//! `seer eval nab`: runs seer's anomaly detection over the NAB corpus on the production path
//! and scores it, or scores another detector's published results.
//!
//! # What runs
//!
//! Every corpus file `DIR/data/<category>/<file>.csv` becomes one series
//! `<file>{source="nab", category="<category>", file="<file>"}`, read by the replay stage's
//! decoder ([`crate::replay::load_labelled`]) and fed, with event time, through
//! [`Engine::process_grouped_with`]: the same rule compilation, detectors and alert lifecycles
//! `seer replay` and `seer serve` run. The rules are [`EVAL_RULES`] unless the caller gives
//! others. Each row's anomaly score is the [`Evidence::score`](crate::detect::Evidence::score)
//! of the first rule that watches the series; a row that was not judged (warming up, or
//! skipped as a duplicate, out of order or not finite) scores 0.
//!
//! The engine sorts a series' samples by time with a stable sort, so the `k`-th verdict of a
//! series belongs to the `k`-th row of the file in that order; scores are put back in file
//! order before scoring and writing. NAB's data repeats or steps back a timestamp in a few
//! places (see [`super::corpus`]); those rows keep their place in the file.
//!
//! # Output
//!
//! [`NabEvaluation`] holds the [`NabReport`] (every profile at its swept threshold, with
//! per-file rows), the scale of the run (samples, wall time, samples/s, peak resident memory)
//! and prints as a table or serialises to JSON. [`write_results`] writes NAB's results layout
//! (`OUT/<category>/<name>_<file>.csv` with `timestamp,value,anomaly_score`, where `<name>` is
//! the last component of `OUT`), which [`super::load_detector_scores`] reads back.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use super::corpus::{load_detector_scores, NabCorpus, ScoresByFile};
use super::profile::{read_profiles, CostProfile};
use super::score::{score_corpus, NabReport};
use crate::detect::Verdict;
use crate::engine::{Engine, EngineOptions, VerdictEvent};
use crate::replay::{self, CsvNaming};
use crate::rules::RuleSet;
use crate::series::{Labels, SeriesId};
use crate::{Error, Result};

/// The rules `seer eval nab` runs when none are given: one seasonal anomaly rule watching
/// every corpus series, with the rule defaults for everything the benchmark does not need to
/// set. Its `interval_width` is what the alert condition uses; the NAB score is the evidence
/// score, which does not depend on it (see [`crate::detect`]).
pub const EVAL_RULES: &str = r#"# seer eval nab: one seasonal rule over every corpus series.
anomaly_detection:
  - name: nab_anomaly
    match: '{source="nab"}'
    model: seasonal
    interval_width: 0.9999
    seasonality_mode: additive
    for: 0s
"#;

/// The detector name seer's own results are reported under.
pub const SEER_DETECTOR: &str = "seer";

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct NabEvalOptions {
    /// The corpus folder (`labels/`, `data/`, optionally `config/profiles.json`).
    pub data_dir: PathBuf,
    /// Score this results folder (NAB's `results/<detector>/` layout) instead of running seer.
    pub detector_scores: Option<PathBuf>,
    /// Rules to run instead of [`EVAL_RULES`].
    pub rules: Option<RuleSet>,
    /// Write seer's per-row scores here in NAB's results layout.
    pub out_dir: Option<PathBuf>,
}

impl NabEvalOptions {
    /// Runs seer on the corpus in `data_dir` with the built-in rules, writing nothing.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        NabEvalOptions {
            data_dir: data_dir.into(),
            detector_scores: None,
            rules: None,
            out_dir: None,
        }
    }
}

/// How much work a run did and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunScale {
    /// Samples fed through the detectors (0 when scoring existing results).
    pub samples: u64,
    /// Wall time of detection alone (reading the files included), in seconds.
    pub detect_secs: f64,
    /// Wall time of the whole evaluation (loading, detecting, scoring, writing), in seconds.
    pub wall_secs: f64,
    /// Samples per second of detection wall time.
    pub samples_per_sec: f64,
    /// Peak resident memory of the process (`VmHWM`), in bytes, where the platform reports it.
    pub peak_memory_bytes: Option<u64>,
}

/// A detector's NAB evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NabEvaluation {
    /// `seer`, or the results folder's detector name.
    pub detector: String,
    /// The scores at each profile's best threshold, with per-file rows.
    #[serde(flatten)]
    pub report: NabReport,
    pub run: RunScale,
}

/// Runs the evaluation `options` describe.
///
/// # Errors
///
/// [`Error::Io`] or [`Error::Input`] (naming the file) when the corpus, a data file, a
/// results file or the profiles cannot be read; [`Error::Io`] when a result file cannot be
/// written.
pub fn evaluate(options: &NabEvalOptions) -> Result<NabEvaluation> {
    let started = Instant::now();
    let corpus = NabCorpus::load(&options.data_dir)?;
    let profiles = corpus_profiles(&options.data_dir)?;

    let (detector, scores, samples, detect_secs) = match &options.detector_scores {
        Some(results) => {
            let scores = load_detector_scores(&corpus, results)?;
            let name = results
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("detector")
                .to_string();
            (name, scores, 0, 0.0)
        }
        None => {
            let rules = match &options.rules {
                Some(rules) => rules.clone(),
                None => crate::rules::parse("<seer eval nab rules>", EVAL_RULES)?,
            };
            let detect_started = Instant::now();
            let (scores, samples) = detect(&options.data_dir, &corpus, &rules)?;
            let secs = detect_started.elapsed().as_secs_f64();
            (SEER_DETECTOR.to_string(), scores, samples, secs)
        }
    };
    if let (Some(out), None) = (&options.out_dir, &options.detector_scores) {
        write_results(out, &options.data_dir, &corpus, &scores)?;
    }

    let report = score_corpus(&corpus, &scores, &profiles)?;
    Ok(NabEvaluation {
        detector,
        report,
        run: RunScale {
            samples,
            detect_secs,
            wall_secs: started.elapsed().as_secs_f64(),
            samples_per_sec: if detect_secs > 0.0 {
                samples as f64 / detect_secs
            } else {
                0.0
            },
            peak_memory_bytes: peak_memory_bytes(),
        },
    })
}

/// The profiles in `DIR/config/profiles.json`, or NAB's defaults when the file is absent.
fn corpus_profiles(dir: &Path) -> Result<Vec<CostProfile>> {
    let path = dir.join("config").join("profiles.json");
    if path.is_file() {
        read_profiles(&path)
    } else {
        Ok(super::profile::default_profiles())
    }
}

/// Runs every corpus file through the engine with `rules`; returns each file's per-row
/// anomaly scores (file order) and the number of samples fed.
///
/// # Errors
///
/// A data file that cannot be read (the error names it), or one whose rows do not match the
/// corpus' reading of it.
pub fn detect(data_dir: &Path, corpus: &NabCorpus, rules: &RuleSet) -> Result<(ScoresByFile, u64)> {
    // One series per file, labelled so that no two files can collide.
    let files: Vec<(PathBuf, Labels)> = corpus
        .files()
        .iter()
        .map(|f| {
            let (category, _) = f.name().rsplit_once('/').unwrap_or(("", f.name()));
            let naming = CsvNaming {
                metric: None,
                labels: vec![
                    ("source".to_string(), "nab".to_string()),
                    ("category".to_string(), category.to_string()),
                ],
            };
            let path = data_dir.join("data").join(f.name());
            let labels = naming.labels_for(&path);
            (path, labels)
        })
        .collect();
    let slot: BTreeMap<SeriesId, usize> = files
        .iter()
        .enumerate()
        .map(|(i, (_, labels))| (labels.id(), i))
        .collect();
    // Per file and rule, the scores in the order the detector judged the samples.
    let recorded: Vec<Mutex<BTreeMap<usize, Vec<f64>>>> =
        files.iter().map(|_| Mutex::default()).collect();

    let groups = replay::load_labelled(&files)?;
    let samples: u64 = groups.iter().map(|(_, s)| s.len() as u64).sum();
    let mut engine = Engine::new(rules, EngineOptions::default());
    engine.process_grouped_with(groups, |event: &VerdictEvent<'_>| {
        let Some(&i) = slot.get(&event.labels.id()) else {
            return;
        };
        let score = match event.verdict {
            Verdict::Scored(e) if e.score.is_finite() => e.score.clamp(0.0, 1.0),
            _ => 0.0,
        };
        // Each series runs on one worker, so this lock is never contended.
        let mut rows = recorded[i].lock().unwrap_or_else(|e| e.into_inner());
        rows.entry(event.rule).or_default().push(score);
    });

    let mut out = ScoresByFile::new();
    for (file, recorded) in corpus.files().iter().zip(recorded) {
        let recorded = recorded.into_inner().unwrap_or_else(|e| e.into_inner());
        let sorted = match recorded.into_iter().next() {
            Some((_, scores)) => scores,
            // No rule watches this series: it never flags anything.
            None => vec![0.0; file.len()],
        };
        if sorted.len() != file.len() {
            return Err(Error::input(
                file.name(),
                format!(
                    "the engine judged {} samples but the file has {} rows",
                    sorted.len(),
                    file.len()
                ),
            ));
        }
        // The engine's order is a stable sort of the rows by time: undo it.
        let mut order: Vec<usize> = (0..file.len()).collect();
        order.sort_by_key(|&i| file.timestamps()[i]);
        let mut scores = vec![0.0; file.len()];
        for (k, row) in order.into_iter().enumerate() {
            scores[row] = sorted[k];
        }
        out.insert(file.name().to_string(), scores);
    }
    Ok((out, samples))
}

/// Writes `scores` in NAB's results layout: `out_dir/<category>/<name>_<file>.csv` with the
/// data file's `timestamp` and `value` text and the row's `anomaly_score`, where `<name>` is
/// the last component of `out_dir`.
///
/// # Errors
///
/// [`Error::Io`] when a data file cannot be read or a result cannot be written;
/// [`Error::Input`] when a data file is not a `timestamp,value` CSV or has another number of
/// rows than `scores` holds for it.
pub fn write_results(
    out_dir: &Path,
    data_dir: &Path,
    corpus: &NabCorpus,
    scores: &ScoresByFile,
) -> Result<()> {
    let name = out_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(SEER_DETECTOR);
    for file in corpus.files() {
        let Some(file_scores) = scores.get(file.name()) else {
            continue;
        };
        let (category, base) = file.name().rsplit_once('/').unwrap_or(("", file.name()));
        let dir = out_dir.join(category);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(format!("{name}_{base}"));
        let source = data_dir.join("data").join(file.name());
        let text = std::fs::read_to_string(&source).map_err(|e| Error::io(&source, e))?;

        let mut out = String::with_capacity(text.len() + 24 * file_scores.len());
        out.push_str("timestamp,value,anomaly_score\n");
        let mut rows = 0;
        for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let Some(score) = file_scores.get(rows) else {
                rows += 1;
                break;
            };
            let (ts, value) = line.trim().split_once(',').ok_or_else(|| {
                Error::input(
                    format!("{}:{}", source.display(), rows + 2),
                    "expected timestamp,value",
                )
            })?;
            out.push_str(&format!("{ts},{value},{score}\n"));
            rows += 1;
        }
        if rows != file_scores.len() {
            return Err(Error::input(
                source.display().to_string(),
                format!(
                    "{} scores for a file of {rows} or more rows",
                    file_scores.len()
                ),
            ));
        }
        let tmp = path.with_extension("csv.tmp");
        std::fs::write(&tmp, out).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Peak resident memory of this process in bytes (`VmHWM` in `/proc/self/status`), or `None`
/// where the platform does not report it.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

impl fmt::Display for NabEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        writeln!(
            f,
            "NAB: detector {}, {} files, {} windows, {} scored rows",
            self.detector, r.files, r.windows, r.rows_scored
        )?;
        writeln!(
            f,
            "{:<20} {:>16} {:>12} {:>11} {:>6} {:>6} {:>7} {:>8}",
            "profile", "threshold", "raw score", "normalised", "TP", "FP", "FN", "TN"
        )?;
        for p in &r.profiles {
            let normalised = p
                .normalized_score
                .map_or_else(|| "-".to_string(), |n| format!("{n:.6}"));
            writeln!(
                f,
                "{:<20} {:>16.12} {:>12.6} {:>11} {:>6} {:>6} {:>7} {:>8}",
                p.profile.name,
                p.threshold,
                p.raw_score,
                normalised,
                p.counts.true_positives,
                p.counts.false_positives,
                p.counts.false_negatives,
                p.counts.true_negatives
            )?;
        }

        // Per file and per category at the first profile's threshold (usually `standard`).
        if let Some(first) = r.profiles.first() {
            writeln!(f)?;
            writeln!(
                f,
                "per file at the {} threshold ({}):",
                first.profile.name, first.threshold
            )?;
            let mut categories: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
            for file in &first.files {
                let category = file.file.rsplit_once('/').map_or("", |(c, _)| c);
                let entry = categories.entry(category).or_default();
                entry.0 += file.raw_score;
                entry.1 += 1;
                writeln!(
                    f,
                    "  {:<58} {:>10.4} TP {:>4} FP {:>4}",
                    file.file,
                    file.raw_score,
                    file.counts.true_positives,
                    file.counts.false_positives
                )?;
            }
            for (category, (raw, n)) in categories {
                writeln!(f, "  category {category:<40} {raw:>10.4} ({n} files)")?;
            }
        }

        let run = &self.run;
        writeln!(f)?;
        if run.samples > 0 {
            write!(
                f,
                "run: {} samples, detection {:.2} s ({:.0} samples/s), total {:.2} s",
                run.samples, run.detect_secs, run.samples_per_sec, run.wall_secs
            )?;
        } else {
            write!(f, "run: scored existing results in {:.2} s", run.wall_secs)?;
        }
        match run.peak_memory_bytes {
            Some(bytes) => writeln!(
                f,
                ", peak memory {:.1} MiB",
                bytes as f64 / (1024.0 * 1024.0)
            ),
            None => writeln!(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_rules_parse_and_watch_nab_series() {
        let rules = crate::rules::parse("<eval>", EVAL_RULES).unwrap();
        assert_eq!(rules.anomaly.len(), 1);
        assert!(rules.anomaly[0].available);
        let labels = Labels::with_metric("x", [("source", "nab"), ("file", "x")]);
        assert!(rules.anomaly[0].selector.matches(&labels));
    }

    #[test]
    fn peak_memory_is_reported_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_memory_bytes().unwrap() > 0);
        }
    }
}
