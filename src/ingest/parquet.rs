//! seer's long Parquet format: one row per sample, readable by people and by any Parquet tool.
//!
//! | column      | Arrow type                         | notes                                  |
//! |-------------|------------------------------------|----------------------------------------|
//! | `timestamp` | `Timestamp(Millisecond, "UTC")`    | also accepted: other units, no zone    |
//! | `metric`    | `Utf8`                             | also accepted: `LargeUtf8`, dictionary |
//! | `labels`    | `Map<Utf8, Utf8>` (sorted keys)    | optional column; other labels          |
//! | `value`     | `Float64`                          | NaN allowed                            |
//!
//! Columns are found by name; extra columns are ignored. A missing required column, a column of
//! the wrong type, a null in a required column or an invalid metric or label name is an error
//! naming the file, the row group batch and the column.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, MapArray, MapBuilder};
use arrow::array::{StringArray, StringBuilder, TimestampMillisecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::batch::{SampleBatch, SampleBatchBuilder};
use crate::series::{Labels, SeriesId};
use crate::{Error, Result};

/// Rows per record batch when reading and writing.
const BATCH_ROWS: usize = 64 * 1024;

/// The long format's Arrow schema, as written by [`write_parquet`].
pub fn long_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(
                    "timestamp",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    false,
                ),
                Field::new("metric", DataType::Utf8, false),
                Field::new("labels", labels_type(), false),
                Field::new("value", DataType::Float64, false),
            ]))
        })
        .clone()
}

fn labels_type() -> DataType {
    let entries = Fields::from(vec![
        Field::new("keys", DataType::Utf8, false),
        Field::new("values", DataType::Utf8, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

/// Reads a long-format Parquet file into sample batches.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be opened; [`Error::Input`] naming the file when it is
/// not Parquet, lacks a required column, has a column of the wrong type, holds nulls in a
/// required column, or an invalid metric or label name.
pub fn read_parquet(path: &Path) -> Result<Vec<SampleBatch>> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::input(&name, format!("not a readable Parquet file: {e}")))?;
    check_schema(&name, builder.schema())?;
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| Error::input(&name, format!("cannot read Parquet: {e}")))?;

    let mut out = Vec::new();
    let mut first_row = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| Error::input(&name, format!("cannot decode: {e}")))?;
        let rows = batch.num_rows();
        out.push(convert_long(&name, first_row, &batch)?);
        first_row += rows;
    }
    Ok(out)
}

/// Checks that `path` is a Parquet file in seer's long format (schema only; no data is read).
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be opened; [`Error::Input`] naming the file when it is
/// empty, not Parquet, or lacks or mistypes a column.
pub fn check_file(path: &Path) -> Result<()> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return Err(Error::input(
            &name,
            "empty file (0 bytes), not a Parquet file",
        ));
    }
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| Error::input(&name, format!("not a readable Parquet file: {e}")))?;
    check_schema(&name, builder.schema())
}

/// Checks the file's schema before reading any data, naming each bad column.
fn check_schema(name: &str, schema: &Schema) -> Result<()> {
    let mut problems = Vec::new();
    let mut column =
        |col: &str, ok: fn(&DataType) -> bool, expected: &str, required: bool| match schema
            .field_with_name(col)
        {
            Ok(f) if ok(f.data_type()) => {}
            Ok(f) => problems.push(format!(
                "column `{col}` has type {}, expected {expected}",
                f.data_type()
            )),
            Err(_) if required => problems.push(format!("missing column `{col}` ({expected})")),
            Err(_) => {}
        };
    column(
        "timestamp",
        |t| matches!(t, DataType::Timestamp(_, _) | DataType::Int64),
        "Timestamp(Millisecond, UTC)",
        true,
    );
    column(
        "metric",
        |t| match t {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
            DataType::Dictionary(_, v) => matches!(**v, DataType::Utf8 | DataType::LargeUtf8),
            _ => false,
        },
        "Utf8",
        true,
    );
    column(
        "labels",
        |t| match t {
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(f) => {
                    f.len() == 2
                        && f.iter()
                            .all(|f| matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8))
                }
                _ => false,
            },
            _ => false,
        },
        "Map<Utf8, Utf8>",
        false,
    );
    column(
        "value",
        |t| matches!(t, DataType::Float64 | DataType::Float32),
        "Float64",
        true,
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::input(
            name,
            format!("not in seer's long format: {}", problems.join("; ")),
        ))
    }
}

fn convert_long(name: &str, first_row: usize, batch: &RecordBatch) -> Result<SampleBatch> {
    let col = |c: &str| batch.column_by_name(c).cloned();
    let bad = |c: &str, what: String| {
        Error::input(name, format!("column `{c}` near row {first_row}: {what}"))
    };

    // Normalise types: timestamps to ms, names to Utf8, values to f64.
    let ts_col = col("timestamp").ok_or_else(|| bad("timestamp", "missing".into()))?;
    let ts = match ts_col.data_type() {
        DataType::Int64 => ts_col.clone(),
        _ => cast(&ts_col, &DataType::Timestamp(TimeUnit::Millisecond, None))
            .map_err(|e| bad("timestamp", e.to_string()))?,
    };
    let ts: Vec<i64> = match ts.data_type() {
        DataType::Int64 => ts
            .as_primitive::<arrow::datatypes::Int64Type>()
            .values()
            .to_vec(),
        _ => ts
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or_else(|| bad("timestamp", "cannot read as milliseconds".into()))?
            .values()
            .to_vec(),
    };
    let metric = cast(
        &col("metric").ok_or_else(|| bad("metric", "missing".into()))?,
        &DataType::Utf8,
    )
    .map_err(|e| bad("metric", e.to_string()))?;
    let metric: &StringArray = metric.as_string::<i32>();
    let value = cast(
        &col("value").ok_or_else(|| bad("value", "missing".into()))?,
        &DataType::Float64,
    )
    .map_err(|e| bad("value", e.to_string()))?;
    let value: &Float64Array = value.as_primitive();
    let labels: Option<ArrayRef> = col("labels");
    let labels: Option<&MapArray> = labels.as_ref().map(|l| l.as_map());

    for (c, nulls) in [
        ("timestamp", ts_col.null_count()),
        ("metric", metric.null_count()),
        ("value", value.null_count()),
    ] {
        if nulls > 0 {
            return Err(bad(c, format!("{nulls} null values in a required column")));
        }
    }

    let mut builder = SampleBatchBuilder::new();
    // Consecutive rows usually belong to the same series: reuse the last fingerprint.
    let mut last: Option<(usize, SeriesId)> = None;
    for (row, &timestamp) in ts.iter().enumerate() {
        let same = match (last, labels) {
            (Some((prev, _)), Some(map)) => {
                metric.value(prev) == metric.value(row) && map.value(prev) == map.value(row)
            }
            (Some((prev, _)), None) => metric.value(prev) == metric.value(row),
            (None, _) => false,
        };
        let id = if let (true, Some((_, id))) = (same, last) {
            id
        } else {
            let series = row_labels(name, first_row + row, metric.value(row), labels, row)?;
            builder.intern(series)
        };
        last = Some((row, id));
        builder.push(id, timestamp, value.value(row));
    }
    Ok(builder.finish())
}

fn row_labels(
    name: &str,
    row: usize,
    metric: &str,
    labels: Option<&MapArray>,
    index: usize,
) -> Result<Labels> {
    if !Labels::valid_metric_name(metric) {
        return Err(Error::input(
            name,
            format!("row {row}: invalid metric name {metric:?}"),
        ));
    }
    let mut pairs = Vec::new();
    if let Some(map) = labels {
        if !map.is_null(index) {
            let entries = map.value(index);
            let keys = cast(entries.column(0), &DataType::Utf8)
                .map_err(|e| Error::input(name, format!("row {row}: label keys: {e}")))?;
            let values = cast(entries.column(1), &DataType::Utf8)
                .map_err(|e| Error::input(name, format!("row {row}: label values: {e}")))?;
            let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
            for i in 0..keys.len() {
                let key = keys.value(i);
                if !Labels::valid_name(key) || key == crate::series::METRIC_NAME {
                    return Err(Error::input(
                        name,
                        format!("row {row}: invalid label name {key:?}"),
                    ));
                }
                if !values.is_null(i) {
                    pairs.push((key.to_string(), values.value(i).to_string()));
                }
            }
        }
    }
    Ok(Labels::with_metric(metric, pairs))
}

/// Writes sample batches to `path` in the long format (snappy-compressed Parquet). The file is
/// written to a temporary name beside `path` and renamed, so readers never see half a file.
///
/// # Errors
///
/// [`Error::Io`] for file-system failures; [`Error::Internal`] if Arrow or Parquet refuse the
/// data (which would be a bug in seer).
pub fn write_parquet(path: &Path, batches: &[SampleBatch]) -> Result<()> {
    let tmp = path.with_extension("parquet.tmp");
    let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let internal =
        |e: parquet::errors::ParquetError| Error::Internal(format!("{}: {e}", path.display()));
    let mut writer = ArrowWriter::try_new(file, long_schema(), Some(props)).map_err(internal)?;
    for batch in batches {
        let long = to_long(batch)?;
        writer.write(&long).map_err(internal)?;
    }
    let file = writer.into_inner().map_err(internal)?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    Ok(())
}

/// Converts a sample batch to the long format through its dictionary.
pub fn to_long(batch: &SampleBatch) -> Result<RecordBatch> {
    let n = batch.len();
    let mut ts = Vec::with_capacity(n);
    let mut metric = StringBuilder::with_capacity(n, n * 16);
    let mut labels = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut value = Vec::with_capacity(n);
    for sample in batch.rows() {
        let series = batch.dictionary.get(sample.series).ok_or_else(|| {
            Error::Internal(format!("series {} missing from dictionary", sample.series))
        })?;
        ts.push(sample.timestamp_ms);
        metric.append_value(series.metric());
        for (k, v) in series.without_metric() {
            labels.keys().append_value(k);
            labels.values().append_value(v);
        }
        labels
            .append(true)
            .map_err(|e| Error::Internal(e.to_string()))?;
        value.push(sample.value);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        Arc::new(metric.finish()),
        Arc::new(labels.finish()),
        Arc::new(Float64Array::from(value)),
    ];
    // MapBuilder names its fields "keys"/"values" inside "entries", as `labels_type` does.
    RecordBatch::try_new(long_schema(), columns).map_err(|e| Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_format_round_trip() {
        let mut b = SampleBatchBuilder::new();
        let a = b.intern(Labels::with_metric(
            "disk_used",
            [("host", "a"), ("dev", "sda")],
        ));
        let c = b.intern(Labels::with_metric("disk_used", [("host", "c")]));
        b.push(a, 1000, 1.5);
        b.push(c, 1000, 2.5);
        b.push(a, 2000, f64::NAN);
        let batch = b.finish();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.parquet");
        write_parquet(&path, &[batch]).unwrap();
        let back = read_parquet(&path).unwrap();
        let rows: Vec<_> = back
            .iter()
            .flat_map(|b| b.rows().collect::<Vec<_>>())
            .collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].series, a);
        assert_eq!(rows[1].series, c);
        assert!(rows[2].value.is_nan());
        let labels = back[0].dictionary.get(a).unwrap();
        assert_eq!(labels.get("dev"), Some("sda"));
        assert_eq!(labels.metric(), "disk_used");
    }
}
