//! Selecting and resampling history with DataFusion SQL.
//!
//! History files (seer's long Parquet format) are registered as the table `history`. The
//! selection query returns one row per series and model step:
//!
//! | column   | type        | meaning                                               |
//! |----------|-------------|-------------------------------------------------------|
//! | `metric` | `Utf8`      | metric name                                           |
//! | `series` | `Utf8`      | `seer_series_key(labels)`: the label set as JSON pairs |
//! | `bucket` | `Timestamp` | start of the step (`date_bin`)                        |
//! | `value`  | `Float64`   | mean of the samples in the step                       |
//!
//! [`default_query`] writes it for the rules' metrics with the metric and time filters in the
//! `WHERE` clause, so DataFusion prunes row groups by their statistics (pushdown) and reads
//! only the columns it needs. `seer plan --sql` replaces it with a user's query that returns the
//! same columns; label matchers of the rules' selectors are applied afterwards in Rust.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray, StringBuilder};
use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{exec_err, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::series::Labels;
use crate::time::Millis;
use crate::{Error, Result};

/// One selected series: labels and its resampled points in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedSeries {
    pub labels: Labels,
    pub timestamps: Vec<Millis>,
    pub values: Vec<f64>,
}

/// The default selection: the given metrics since `since_ms`, averaged per `step_ms`.
pub fn default_query(metrics: &[&str], step_ms: Millis, since_ms: Millis) -> String {
    let names: Vec<String> = metrics
        .iter()
        .map(|m| format!("'{}'", m.replace('\'', "''")))
        .collect();
    format!(
        "SELECT metric, seer_series_key(labels) AS series, \
         date_bin(INTERVAL '{step} milliseconds', timestamp, TIMESTAMP '1970-01-01T00:00:00Z') \
         AS bucket, avg(value) AS value \
         FROM history \
         WHERE metric IN ({names}) AND timestamp >= to_timestamp_millis({since}) \
         GROUP BY metric, series, bucket \
         ORDER BY metric, series, bucket",
        step = step_ms,
        names = names.join(", "),
        since = since_ms,
    )
}

/// Expands directories into their `.parquet` files (recursively), sorted.
///
/// # Errors
///
/// [`Error::Io`] for a missing path; [`Error::Input`] for a directory without Parquet files.
pub fn history_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().and_then(|e| e.to_str()) == Some("parquet") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let before = out.len();
            walk(path, &mut out)?;
            if out.len() == before {
                return Err(Error::input(
                    path.display().to_string(),
                    "directory holds no .parquet history file",
                ));
            }
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Runs `query` over `files` and collects the selected series.
///
/// Each file's schema is checked first, so a bad file is named rather than reported as a
/// DataFusion planning error.
///
/// # Errors
///
/// [`Error::Input`] naming a file with a wrong schema, or the query when it fails or does not
/// return the documented columns.
pub async fn select(files: &[PathBuf], query: &str) -> Result<Vec<SelectedSeries>> {
    for file in files {
        crate::ingest::parquet::check_file(file)?;
    }
    let ctx = SessionContext::new();
    ctx.register_udf(ScalarUDF::from(SeriesKey::new()));
    let urls: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let history = ctx
        .read_parquet(urls, ParquetReadOptions::default())
        .await
        .map_err(|e| Error::input("history", format!("cannot read the history files: {e}")))?;
    ctx.register_table("history", history.into_view())
        .map_err(|e| Error::Internal(e.to_string()))?;

    let bad_query = |e: datafusion::error::DataFusionError| {
        Error::input("selection query", format!("{e}\nquery: {query}"))
    };
    let batches = ctx
        .sql(query)
        .await
        .map_err(bad_query)?
        .collect()
        .await
        .map_err(bad_query)?;

    let mut out: Vec<SelectedSeries> = Vec::new();
    let mut last_key: Option<(String, String)> = None;
    for batch in &batches {
        let column = |name: &str| {
            batch.column_by_name(name).cloned().ok_or_else(|| {
                Error::input("selection query", format!("result has no `{name}` column"))
            })
        };
        let metric = arrow::compute::cast(&column("metric")?, &DataType::Utf8)
            .map_err(|e| Error::input("selection query", format!("`metric`: {e}")))?;
        let metric = metric.as_string::<i32>();
        let series = arrow::compute::cast(&column("series")?, &DataType::Utf8)
            .map_err(|e| Error::input("selection query", format!("`series`: {e}")))?;
        let bucket = arrow::compute::cast(
            &column("bucket")?,
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )
        .map_err(|e| Error::input("selection query", format!("`bucket`: {e}")))?;
        let value = arrow::compute::cast(&column("value")?, &DataType::Float64)
            .map_err(|e| Error::input("selection query", format!("`value`: {e}")))?;
        let series = series.as_string::<i32>();
        let bucket = bucket.as_primitive::<arrow::datatypes::TimestampMillisecondType>();
        let value = value.as_primitive::<arrow::datatypes::Float64Type>();
        for row in 0..batch.num_rows() {
            if metric.is_null(row)
                || series.is_null(row)
                || bucket.is_null(row)
                || value.is_null(row)
            {
                continue;
            }
            let key = (metric.value(row), series.value(row));
            if last_key.as_ref().map(|(m, k)| (m.as_str(), k.as_str())) != Some(key) {
                let pairs = parse_series_key(key.1).ok_or_else(|| {
                    Error::input(
                        "selection query",
                        format!("`series` value {:?} is not a seer_series_key", key.1),
                    )
                })?;
                let labels = Labels::with_metric(key.0, pairs);
                out.push(SelectedSeries {
                    labels,
                    timestamps: Vec::new(),
                    values: Vec::new(),
                });
                last_key = Some((key.0.to_string(), key.1.to_string()));
            }
            let s = out.last_mut().expect("pushed above");
            s.timestamps.push(bucket.value(row));
            s.values.push(value.value(row));
        }
    }
    // A user's query may not be ordered: merge runs of the same series and sort by time.
    out.sort_by_key(|s| series_key(&s.labels));
    let mut merged: Vec<SelectedSeries> = Vec::new();
    for s in out {
        match merged.last_mut() {
            Some(last) if last.labels == s.labels => {
                last.timestamps.extend(s.timestamps);
                last.values.extend(s.values);
            }
            _ => merged.push(s),
        }
    }
    for s in &mut merged {
        let mut pairs: Vec<(Millis, f64)> = s
            .timestamps
            .iter()
            .copied()
            .zip(s.values.iter().copied())
            .collect();
        pairs.sort_by_key(|p| p.0);
        s.timestamps = pairs.iter().map(|p| p.0).collect();
        s.values = pairs.iter().map(|p| p.1).collect();
    }
    Ok(merged)
}

/// The canonical text of a label set used as `series` in queries: JSON `[[name, value], ...]`,
/// sorted by name.
pub fn series_key(labels: &Labels) -> String {
    let pairs: Vec<(&str, &str)> = labels.iter().collect();
    serde_json::to_string(&pairs).unwrap_or_default()
}

fn parse_series_key(text: &str) -> Option<Vec<(String, String)>> {
    serde_json::from_str(text).ok()
}

/// `seer_series_key(labels)`: the SQL function that turns the `labels` map into [`series_key`]
/// text, a value DataFusion can group by. The metric name comes from the `metric` column.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesKey {
    signature: Signature,
}

impl SeriesKey {
    fn new() -> Self {
        SeriesKey {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SeriesKey {
    fn name(&self) -> &str {
        "seer_series_key"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let [labels] = args.args.as_slice() else {
            return exec_err!("seer_series_key takes one argument, the labels column");
        };
        let labels = labels.to_array(args.number_rows)?;
        let DataType::Map(_, _) = labels.data_type() else {
            return exec_err!(
                "seer_series_key expects a Map<Utf8, Utf8>, got {}",
                labels.data_type()
            );
        };
        let map = labels.as_map();
        let mut out = StringBuilder::with_capacity(map.len(), map.len() * 32);
        for row in 0..map.len() {
            let mut pairs: Vec<(String, String)> = Vec::new();
            if !map.is_null(row) {
                let entries = map.value(row);
                let keys = arrow::compute::cast(entries.column(0), &DataType::Utf8)?;
                let values = arrow::compute::cast(entries.column(1), &DataType::Utf8)?;
                let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
                for i in 0..keys.len() {
                    if !values.is_null(i) {
                        pairs.push((keys.value(i).to_string(), values.value(i).to_string()));
                    }
                }
            }
            out.append_value(series_key(&Labels::new(pairs)));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The newest sample time in the history files (one cheap aggregate over the `timestamp`
/// column, answered from Parquet statistics where possible).
///
/// # Errors
///
/// As [`select`]; [`Error::Input`] when the history holds no sample.
pub async fn newest_timestamp(files: &[PathBuf]) -> Result<Millis> {
    for file in files {
        crate::ingest::parquet::check_file(file)?;
    }
    let ctx = SessionContext::new();
    let urls: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let history = ctx
        .read_parquet(urls, ParquetReadOptions::default())
        .await
        .map_err(|e| Error::input("history", format!("cannot read the history files: {e}")))?;
    ctx.register_table("history", history.into_view())
        .map_err(|e| Error::Internal(e.to_string()))?;
    let failed = |e: datafusion::error::DataFusionError| Error::input("history", e.to_string());
    let batches = ctx
        .sql("SELECT CAST(max(timestamp) AS BIGINT) AS newest FROM history")
        .await
        .map_err(failed)?
        .collect()
        .await
        .map_err(failed)?;
    let newest = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            let col = arrow::compute::cast(b.column(0), &DataType::Int64).ok()?;
            let col = col.as_primitive::<arrow::datatypes::Int64Type>();
            (!col.is_null(0)).then(|| col.value(0))
        })
        .ok_or_else(|| Error::input("history", "the history files hold no sample"))?;
    Ok(newest)
}
