//! The NAB corpus (files, their row timestamps and their anomaly windows) and the readers for
//! NAB's folder layout and a detector's results.
//!
//! A label window `[start, end]` covers the rows whose timestamps lie within it, both ends
//! included: as a row range, from the first such row to the last. Timestamps normally increase,
//! but NAB's data repeats a timestamp or steps back in a few places (a clock change in
//! `ec2_request_latency_system_failure.csv`, for one); rows are kept in file order, and a row
//! between the first and last row of a window counts as inside it whatever its timestamp. A
//! window that covers no row, or windows whose row ranges overlap, are input errors. Layout read
//! by [`NabCorpus::load`] and [`load_detector_scores`]:
//!
//! ```text
//! DIR/labels/combined_windows.json       {"category/file.csv": [["start", "end"], ...], ...}
//! DIR/data/<category>/<file>.csv         timestamp,value
//! RESULTS/<category>/<detector>_<file>.csv   timestamp,anomaly_score[,...]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::time::{parse_timestamp, Millis};
use crate::{Error, Result};

/// Anomaly scores of one detector, keyed by corpus file name (`category/file.csv`), one per row.
pub type ScoresByFile = BTreeMap<String, Vec<f64>>;

/// A labelled anomaly window in time, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelWindow {
    /// First instant of the window (ms since the epoch).
    pub start: Millis,
    /// Last instant of the window (ms since the epoch), included.
    pub end: Millis,
}

/// A window as the rows it covers: `first_row..=last_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowWindow {
    /// Index of the first row inside the window.
    pub first_row: usize,
    /// Index of the last row inside the window (included).
    pub last_row: usize,
}

impl RowWindow {
    /// Number of rows in the window.
    pub fn width(&self) -> usize {
        self.last_row - self.first_row + 1
    }
}

/// One data file of the corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct NabFile {
    name: String,
    timestamps: Vec<Millis>,
    windows: Vec<RowWindow>,
}

impl NabFile {
    /// A file named `name` (`category/file.csv`) with the given row timestamps, its label
    /// windows mapped to the rows they cover.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] naming the file when a window ends before it starts, covers no row, or
    /// overlaps another.
    pub fn new(
        name: impl Into<String>,
        timestamps: Vec<Millis>,
        windows: &[LabelWindow],
    ) -> Result<Self> {
        let name = name.into();
        let mut rows = Vec::with_capacity(windows.len());
        for (k, w) in windows.iter().enumerate() {
            if w.end < w.start {
                return Err(Error::input(
                    &name,
                    format!(
                        "window {k} ends ({}) before it starts ({})",
                        crate::time::rfc3339(w.end),
                        crate::time::rfc3339(w.start)
                    ),
                ));
            }
            // A scan rather than a binary search: timestamps may step back (see the module docs).
            let inside = |t: &Millis| (w.start..=w.end).contains(t);
            let first_row = timestamps.iter().position(inside);
            let last_row = timestamps.iter().rposition(inside);
            let (Some(first_row), Some(last_row)) = (first_row, last_row) else {
                return Err(Error::input(
                    &name,
                    format!(
                        "window {k} [{}, {}] covers no row",
                        crate::time::rfc3339(w.start),
                        crate::time::rfc3339(w.end)
                    ),
                ));
            };
            rows.push(RowWindow {
                first_row,
                last_row,
            });
        }
        Self::with_row_windows(name, timestamps, rows)
    }

    /// A file whose windows are already given as row ranges.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] naming the file when a window is empty, reaches past the last row, or
    /// overlaps another.
    pub fn with_row_windows(
        name: impl Into<String>,
        timestamps: Vec<Millis>,
        mut windows: Vec<RowWindow>,
    ) -> Result<Self> {
        let name = name.into();
        windows.sort_by_key(|w| w.first_row);
        for (k, w) in windows.iter().enumerate() {
            if w.last_row < w.first_row || w.last_row >= timestamps.len() {
                return Err(Error::input(
                    &name,
                    format!(
                        "window rows {}..={} are not within the file's {} rows",
                        w.first_row,
                        w.last_row,
                        timestamps.len()
                    ),
                ));
            }
            if k > 0 && windows[k - 1].last_row >= w.first_row {
                return Err(Error::input(
                    &name,
                    format!(
                        "windows over rows {}..={} and {}..={} overlap",
                        windows[k - 1].first_row,
                        windows[k - 1].last_row,
                        w.first_row,
                        w.last_row
                    ),
                ));
            }
        }
        Ok(NabFile {
            name,
            timestamps,
            windows,
        })
    }

    /// The file's corpus name, `category/file.csv`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Row timestamps, in file order.
    pub fn timestamps(&self) -> &[Millis] {
        &self.timestamps
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.timestamps.len()
    }

    /// Whether the file has no rows.
    pub fn is_empty(&self) -> bool {
        self.timestamps.is_empty()
    }

    /// Anomaly windows as row ranges, sorted and disjoint.
    pub fn windows(&self) -> &[RowWindow] {
        &self.windows
    }
}

/// The files a detector is scored on, in name order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NabCorpus {
    files: Vec<NabFile>,
}

impl NabCorpus {
    /// A corpus of `files`, sorted by name.
    ///
    /// # Errors
    ///
    /// [`Error::Input`] when two files have the same name.
    pub fn new(mut files: Vec<NabFile>) -> Result<Self> {
        files.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(pair) = files.windows(2).find(|p| p[0].name == p[1].name) {
            return Err(Error::input(
                &pair[0].name,
                "file appears twice in the corpus",
            ));
        }
        Ok(NabCorpus { files })
    }

    /// Reads the corpus under `dir`: every file named in `dir/labels/combined_windows.json`,
    /// with its rows from `dir/data/<name>`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a file cannot be read; [`Error::Input`] naming the file (and line)
    /// for malformed JSON or CSV, an unparsable timestamp, or a window that does not fit the
    /// rows (see [`NabFile::new`]).
    pub fn load(dir: &Path) -> Result<Self> {
        let windows = read_windows(&dir.join("labels").join("combined_windows.json"))?;
        let data = dir.join("data");
        let files = windows
            .into_par_iter()
            .map(|(name, windows)| {
                let timestamps = read_timestamps(&data.join(&name))?;
                NabFile::new(name, timestamps, &windows)
            })
            .collect::<Result<Vec<_>>>()?;
        Self::new(files)
    }

    /// The files, sorted by name.
    pub fn files(&self) -> &[NabFile] {
        &self.files
    }

    /// The file named `name`, if any.
    pub fn file(&self, name: &str) -> Option<&NabFile> {
        self.files
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Total number of anomaly windows.
    pub fn window_count(&self) -> usize {
        self.files.iter().map(|f| f.windows.len()).sum()
    }
}

/// Reads a windows file: a JSON object from file name to a list of `[start, end]` timestamp
/// pairs (any format [`parse_timestamp`] accepts).
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file and key when
/// the JSON has another shape or a timestamp does not parse.
pub fn read_windows(path: &Path) -> Result<BTreeMap<String, Vec<LabelWindow>>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let location = path.display().to_string();
    let raw: BTreeMap<String, Vec<[String; 2]>> = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            &location,
            format!("expected {{\"file\": [[start, end], ...]}}: {e}"),
        )
    })?;

    raw.into_iter()
        .map(|(name, pairs)| {
            let windows = pairs
                .iter()
                .map(|[start, end]| {
                    let parse = |text: &str| {
                        parse_timestamp(text).ok_or_else(|| {
                            Error::input(
                                format!("{location}: {name}"),
                                format!("window bound {text:?} is not a timestamp"),
                            )
                        })
                    };
                    Ok(LabelWindow {
                        start: parse(start)?,
                        end: parse(end)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((name, windows))
        })
        .collect()
}

/// Reads the `timestamp` column of a CSV file with a header line.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file and line for a
/// missing `timestamp` column, a short line, or an unparsable timestamp.
pub fn read_timestamps(path: &Path) -> Result<Vec<Millis>> {
    let mut timestamps = Vec::new();
    read_columns(path, &["timestamp"], |at, fields| {
        timestamps.push(parse_timestamp_at(at, fields[0])?);
        Ok(())
    })?;
    Ok(timestamps)
}

/// Reads a detector's results file: its `timestamp` and `anomaly_score` columns (found by
/// header name; other columns are ignored). Scores are parsed from their decimal text into the
/// nearest f64.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file and line for a
/// missing column, an unparsable timestamp, or a score that is not a number in [0, 1].
pub fn read_scores(path: &Path) -> Result<(Vec<Millis>, Vec<f64>)> {
    let mut timestamps = Vec::new();
    let mut scores = Vec::new();
    read_columns(path, &["timestamp", "anomaly_score"], |at, fields| {
        timestamps.push(parse_timestamp_at(at, fields[0])?);
        let score: f64 = fields[1].parse().map_err(|_| {
            Error::input(
                at(),
                format!("anomaly_score {:?} is not a number", fields[1]),
            )
        })?;
        if !(0.0..=1.0).contains(&score) {
            return Err(Error::input(
                at(),
                format!("anomaly_score {score} is outside [0, 1]"),
            ));
        }
        scores.push(score);
        Ok(())
    })?;
    Ok((timestamps, scores))
}

/// Reads one detector's scores for every file of `corpus` from `results_dir`, where the file
/// `category/file.csv` is `results_dir/category/<detector>_file.csv` and `<detector>` is the
/// last component of `results_dir` (NAB's `results/<detector>/` layout).
///
/// # Errors
///
/// [`Error::Io`] when a results file is missing or unreadable; [`Error::Input`] naming the
/// file for anything [`read_scores`] rejects, and when its row count or timestamps differ from
/// the corpus file's.
pub fn load_detector_scores(corpus: &NabCorpus, results_dir: &Path) -> Result<ScoresByFile> {
    let detector = results_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            Error::input(
                results_dir.display().to_string(),
                "cannot tell the detector's name from this directory's name",
            )
        })?;

    corpus
        .files()
        .par_iter()
        .map(|file| {
            let path = results_path(results_dir, detector, file.name());
            let (timestamps, scores) = read_scores(&path)?;
            let location = path.display().to_string();
            if timestamps.len() != file.len() {
                return Err(Error::input(
                    location,
                    format!(
                        "{} rows, but the data file {} has {}",
                        timestamps.len(),
                        file.name(),
                        file.len()
                    ),
                ));
            }
            if let Some(i) = (0..timestamps.len()).find(|&i| timestamps[i] != file.timestamps[i]) {
                return Err(Error::input(
                    format!("{location}:{}", i + 2),
                    format!(
                        "timestamp {} differs from the data file's {}",
                        crate::time::rfc3339(timestamps[i]),
                        crate::time::rfc3339(file.timestamps[i])
                    ),
                ));
            }
            Ok((file.name().to_string(), scores))
        })
        .collect()
}

/// `results_dir/category/<detector>_file.csv` for the corpus file `category/file.csv`.
fn results_path(results_dir: &Path, detector: &str, name: &str) -> PathBuf {
    let (category, file) = name.rsplit_once('/').unwrap_or(("", name));
    results_dir
        .join(category)
        .join(format!("{detector}_{file}"))
}

fn parse_timestamp_at(at: &dyn Fn() -> String, text: &str) -> Result<Millis> {
    parse_timestamp(text)
        .ok_or_else(|| Error::input(at(), format!("timestamp {text:?} is not a date")))
}

/// Streams the named columns of a headed CSV file to `row`, which gets a location builder
/// (`file:line`) and the fields in the order of `columns`.
fn read_columns(
    path: &Path,
    columns: &[&str],
    mut row: impl FnMut(&dyn Fn() -> String, &[&str]) -> Result<()>,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let csv_error = |e: ::csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        Error::input(format!("{name}:{line}"), format!("unreadable CSV: {e}"))
    };

    let header = reader.headers().map_err(csv_error)?.clone();
    let names: BTreeSet<&str> = header.iter().collect();
    let indices = columns
        .iter()
        .map(|&c| {
            header.iter().position(|h| h == c).ok_or_else(|| {
                Error::input(
                    format!("{name}:1"),
                    format!("no {c:?} column in the header {names:?}"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut record = ::csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let at = || format!("{name}:{line}");
        let fields = indices
            .iter()
            .map(|&i| {
                record.get(i).ok_or_else(|| {
                    let column = header.get(i).unwrap_or_default();
                    let found = record.len();
                    Error::input(
                        at(),
                        format!("{found} fields, but {column:?} is field {}", i + 1),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        row(&at, &fields)?;
    }
    Ok(())
}
