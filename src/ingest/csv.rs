//! Two-column CSV (`timestamp,value`), the format of NAB's data files.
//!
//! The first line is a header and must name the two columns `timestamp` and `value` (in that
//! order). Timestamps may be RFC 3339, `YYYY-MM-DD HH:MM:SS[.ffffff]` (read as UTC, as NAB
//! means them), or epoch seconds or milliseconds. Values are decimal numbers; `NaN` is accepted
//! and kept (the detectors skip and count it). Rows may be out of order or repeat a timestamp:
//! the file is read as given and the replay stage sorts and deduplicates (and counts both).

use std::path::Path;

use crate::batch::{SampleBatch, SampleBatchBuilder};
use crate::series::Labels;
use crate::time::parse_timestamp;
use crate::{Error, Result};

/// Reads `path` into one batch whose single series has `labels`.
///
/// # Errors
///
/// [`Error::Input`] naming the file and line for: an empty file, a header other than
/// `timestamp,value`, a line with other than two fields, an unparsable timestamp or value, and
/// a file with a header but no rows. [`Error::Io`] when the file cannot be read.
pub fn read_csv(path: &Path, labels: &Labels) -> Result<SampleBatch> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let name = path.display().to_string();
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));

    let mut builder = SampleBatchBuilder::new();
    let series = builder.intern(labels.clone());
    let mut record = ::csv::StringRecord::new();
    let mut saw_header = false;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::input(format!("{name}:{line}"), format!("unreadable CSV: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let at = || format!("{name}:{line}");
        if !saw_header {
            saw_header = true;
            let header: Vec<&str> = record.iter().collect();
            if header != ["timestamp", "value"] {
                return Err(Error::input(
                    at(),
                    format!("header is {header:?}, expected \"timestamp,value\""),
                ));
            }
            continue;
        }
        if record.len() != 2 {
            return Err(Error::input(
                at(),
                format!(
                    "expected 2 fields (timestamp,value), found {}",
                    record.len()
                ),
            ));
        }
        let ts = parse_timestamp(&record[0]).ok_or_else(|| {
            Error::input(
                at(),
                format!("timestamp {:?} is not a date or epoch number", &record[0]),
            )
        })?;
        let value = parse_value(&record[1])
            .ok_or_else(|| Error::input(at(), format!("value {:?} is not a number", &record[1])))?;
        builder.push(series, ts, value);
    }

    if !saw_header {
        return Err(Error::input(
            name,
            "empty file: expected a timestamp,value header",
        ));
    }
    if builder.is_empty() {
        return Err(Error::input(name, "no samples after the header"));
    }
    Ok(builder.finish())
}

/// Parses a sample value the way Prometheus' text format does: decimals, `NaN`, `+Inf`, `-Inf`.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" | "nan" | "NAN" => Some(f64::NAN),
        "+Inf" | "Inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ if text.is_empty() => None,
        _ => text.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn labels() -> Labels {
        Labels::with_metric("m", [("k", "v")])
    }

    #[test]
    fn reads_nab_format() {
        let f = file("timestamp,value\n2014-03-07 03:41:00,45.868\n2014-03-07 03:46:00,NaN\n");
        let batch = read_csv(f.path(), &labels()).unwrap();
        let rows: Vec<_> = batch.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].timestamp_ms, 1_394_163_660_000);
        assert_eq!(rows[0].value, 45.868);
        assert!(rows[1].value.is_nan());
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let f = file("timestamp,value\n2014-03-07 03:41:00,1\n2014-03-07 03:46:00,abc\n");
        let err = read_csv(f.path(), &labels()).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        assert!(err.contains("\"abc\" is not a number"), "{err}");
    }

    #[test]
    fn empty_and_header_only_files_are_errors() {
        let f = file("");
        assert!(read_csv(f.path(), &labels())
            .unwrap_err()
            .to_string()
            .contains("empty file"));
        let f = file("timestamp,value\n");
        assert!(read_csv(f.path(), &labels())
            .unwrap_err()
            .to_string()
            .contains("no samples"));
    }

    #[test]
    fn wrong_field_count_and_header() {
        let f = file("timestamp,value\n2014-03-07 03:41:00,1,2\n");
        assert!(read_csv(f.path(), &labels())
            .unwrap_err()
            .to_string()
            .contains("2 fields"));
        let f = file("time,val\n2014-03-07 03:41:00,1\n");
        assert!(read_csv(f.path(), &labels())
            .unwrap_err()
            .to_string()
            .contains("header"));
    }
}
