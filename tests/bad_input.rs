//! Bad input never panics and never passes silently: each case below either fails with an error
//! that names the file (and line or column) and what is wrong, or is handled in a documented
//! way that the replay summary counts. Rule-file cases live in `tests/rules.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Float64Array, Int32Array, StringArray, TimestampMillisecondArray};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use seer::engine::EngineOptions;
use seer::replay::{self, CsvNaming, ReplaySummary};

const RULES: &str = r#"
anomaly_detection:
  - name: any
    match: '{__name__=~".+"}'
    model: seasonal
    warmup: 1h
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

fn replay_files(files: &[PathBuf]) -> seer::Result<ReplaySummary> {
    let dir = tempfile::tempdir().unwrap();
    let rules = seer::rules::load(write(dir.path(), "rules.yaml", RULES)).unwrap();
    replay::run(
        files,
        &CsvNaming::default(),
        &rules,
        EngineOptions::default(),
        &mut [],
    )
}

fn csv_rows(rows: &[(i64, &str)]) -> String {
    let mut text = String::from("timestamp,value\n");
    for (ts, v) in rows {
        text.push_str(&format!("{ts},{v}\n"));
    }
    text
}

#[test]
fn malformed_csv_line_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "bad.csv",
        "timestamp,value\n1700000000,1.5\n1700000060,1.2.3\n",
    );
    let err = replay_files(&[path]).unwrap_err().to_string();
    assert!(err.contains("bad.csv:3"), "{err}");
    assert!(err.contains("\"1.2.3\" is not a number"), "{err}");

    let path = write(dir.path(), "ts.csv", "timestamp,value\nlast tuesday,1\n");
    let err = replay_files(&[path]).unwrap_err().to_string();
    assert!(
        err.contains("ts.csv:2") && err.contains("\"last tuesday\""),
        "{err}"
    );
}

#[test]
fn empty_csv_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = replay_files(&[write(dir.path(), "empty.csv", "")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("empty.csv") && err.contains("empty file"),
        "{err}"
    );
    let err = replay_files(&[write(dir.path(), "header.csv", "timestamp,value\n")]);
    let err = err.unwrap_err().to_string();
    assert!(
        err.contains("header.csv") && err.contains("no samples"),
        "{err}"
    );
}

#[test]
fn nan_duplicates_and_disorder_are_counted_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    // 100 samples a minute apart, then: one NaN, one duplicate timestamp, two swapped rows.
    let mut rows: Vec<(i64, String)> = (0..100)
        .map(|i| (1_700_000_000 + 60 * i, format!("{}", 10 + i % 3)))
        .collect();
    rows[40].1 = "NaN".to_string();
    rows.insert(60, (rows[59].0, "11".to_string()));
    rows.swap(80, 81);
    let rows: Vec<(i64, &str)> = rows.iter().map(|(t, v)| (*t, v.as_str())).collect();
    let path = write(dir.path(), "messy.csv", &csv_rows(&rows));

    let summary = replay_files(&[path]).unwrap();
    let (totals, _, _) = summary.totals();
    assert_eq!(summary.engine.samples, 101);
    assert_eq!(totals.not_finite, 1, "{totals:?}");
    assert_eq!(totals.duplicates, 1, "{totals:?}");
    // The swapped pair is put back in order (both rows moved) and then scored normally.
    assert_eq!(summary.engine.reordered, 2);
    assert_eq!(totals.out_of_order, 0);
    assert_eq!(
        totals.warming_up + totals.scored + totals.not_finite + totals.duplicates,
        101
    );
    let table = summary.to_string();
    assert!(
        table.contains("1 not finite, 1 duplicate timestamps"),
        "{table}"
    );
    assert!(table.contains("2 reordered"), "{table}");
}

/// Writes a one-row Parquet file with the given columns (name, array) to `dir/name`.
fn write_parquet(dir: &Path, name: &str, columns: Vec<(&str, arrow::array::ArrayRef)>) -> PathBuf {
    let path = dir.join(name);
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

fn timestamps() -> arrow::array::ArrayRef {
    Arc::new(TimestampMillisecondArray::from(vec![1_000]))
}

#[test]
fn parquet_with_a_wrong_schema_names_the_file_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_parquet(
        dir.path(),
        "wrong.parquet",
        vec![
            ("timestamp", timestamps()),
            ("metric", Arc::new(Int32Array::from(vec![1]))),
            ("val", Arc::new(Float64Array::from(vec![1.0]))),
        ],
    );
    let err = replay_files(&[path]).unwrap_err().to_string();
    assert!(err.contains("wrong.parquet"), "{err}");
    assert!(
        err.contains("column `metric` has type Int32, expected Utf8"),
        "{err}"
    );
    assert!(err.contains("missing column `value`"), "{err}");
}

#[test]
fn parquet_with_an_invalid_metric_name_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_parquet(
        dir.path(),
        "names.parquet",
        vec![
            ("timestamp", timestamps()),
            ("metric", Arc::new(StringArray::from(vec!["bad metric"]))),
            ("value", Arc::new(Float64Array::from(vec![1.0]))),
        ],
    );
    let err = replay_files(&[path]).unwrap_err().to_string();
    assert!(
        err.contains("names.parquet") && err.contains("invalid metric name"),
        "{err}"
    );
}

#[test]
fn not_parquet_and_unknown_extensions_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "fake.parquet", "timestamp,value\n");
    let err = replay_files(&[path]).unwrap_err().to_string();
    assert!(
        err.contains("fake.parquet") && err.contains("not a readable Parquet file"),
        "{err}"
    );
    let path = write(dir.path(), "data.json", "{}");
    let err = replay_files(&[path]).unwrap_err().to_string();
    assert!(
        err.contains("data.json") && err.contains("unknown file type"),
        "{err}"
    );
}
