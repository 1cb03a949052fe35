//! The table `seer replay` ends with.

use std::fmt;
use std::time::Duration;

use crate::detect::DetectorStats;
use crate::engine::{EngineStats, SeriesSummary};

/// Everything a replay counted, printable as a table.
#[derive(Debug, Clone)]
pub struct ReplaySummary {
    pub series: Vec<SeriesSummary>,
    pub engine: EngineStats,
    pub wall: Duration,
    /// Rules skipped because their model is not built in this version (name and origin).
    pub unavailable: Vec<String>,
}

impl ReplaySummary {
    /// Detector counts over all series and rules.
    pub fn totals(&self) -> (DetectorStats, u64, u64) {
        let mut stats = DetectorStats::default();
        let (mut fired, mut resolved) = (0, 0);
        for w in self.series.iter().flat_map(|s| &s.watches) {
            stats.add(&w.detector);
            fired += w.fired;
            resolved += w.resolved;
        }
        (stats, fired, resolved)
    }

    /// Samples per second of wall time.
    pub fn samples_per_sec(&self) -> f64 {
        self.engine.samples as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for ReplaySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = [
            "series",
            "rule",
            "samples",
            "warmup",
            "scored",
            "anomalies",
            "fired",
            "resolved",
            "skipped",
        ];
        let mut rows: Vec<[String; 9]> = Vec::new();
        for s in &self.series {
            if s.watches.is_empty() {
                rows.push([
                    s.labels.to_string(),
                    "(no rule matches)".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
            for w in &s.watches {
                rows.push(row(
                    s.labels.to_string(),
                    w.rule.clone(),
                    &w.detector,
                    w.fired,
                    w.resolved,
                ));
            }
        }
        let (totals, fired, resolved) = self.totals();
        rows.push(row("total".into(), String::new(), &totals, fired, resolved));

        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                if i < 2 {
                    write!(f, "{cell:<w$}  ")?;
                } else {
                    write!(f, "{cell:>w$}  ")?;
                }
            }
            writeln!(f)
        };
        line(f, &header.map(String::from))?;
        for r in &rows {
            line(f, r)?;
        }
        writeln!(
            f,
            "\n{} series, {} samples in {:.2} s ({:.0} samples/s)",
            self.series.len(),
            self.engine.samples,
            self.wall.as_secs_f64(),
            self.samples_per_sec()
        )?;
        writeln!(
            f,
            "skipped: {} not finite, {} duplicate timestamps, {} out of order; {} reordered \
             within the input; {} samples of series no rule watches; {} restarts after long gaps",
            totals.not_finite,
            totals.duplicates,
            totals.out_of_order,
            self.engine.reordered,
            self.engine.unwatched,
            totals.resets
        )?;
        for rule in &self.unavailable {
            writeln!(f, "not run: {rule}")?;
        }
        Ok(())
    }
}

fn row(series: String, rule: String, s: &DetectorStats, fired: u64, resolved: u64) -> [String; 9] {
    [
        series,
        rule,
        s.samples.to_string(),
        s.warming_up.to_string(),
        s.scored.to_string(),
        s.anomalies.to_string(),
        fired.to_string(),
        resolved.to_string(),
        (s.not_finite + s.duplicates + s.out_of_order).to_string(),
    ]
}
