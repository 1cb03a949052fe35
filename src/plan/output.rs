//! The planner's Parquet outputs, readable by DataFusion, polars or pandas:
//!
//! - `capacity.parquet`: one row per (capacity rule, series);
//! - `traffic.parquet`: one row per (traffic rule, series);
//! - `forecast.parquet`: the forecast paths behind both (`rule`, `series`, `timestamp`, `mean`,
//!   `lower`, `upper`), for notebooks that redraw the report's charts.
//!
//! Every table has `series` (the label set in Prometheus notation, e.g.
//! `disk_usage{host="a"}`), `metric` and `labels` (`Map<Utf8, Utf8>`, the other labels), so
//! results join back to history on `metric` and `labels`.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, MapBuilder, StringBuilder,
    TimestampMillisecondBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::series::Labels;
use crate::{Error, Result};

use super::result::{CapacityRow, TrafficRow};

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
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

struct SeriesColumns {
    rule: StringBuilder,
    series: StringBuilder,
    metric: StringBuilder,
    labels: MapBuilder<StringBuilder, StringBuilder>,
}

impl SeriesColumns {
    fn new() -> Self {
        SeriesColumns {
            rule: StringBuilder::new(),
            series: StringBuilder::new(),
            metric: StringBuilder::new(),
            labels: MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()),
        }
    }

    fn push(&mut self, rule: &str, labels: &Labels) -> Result<()> {
        self.rule.append_value(rule);
        self.series.append_value(labels.to_string());
        self.metric.append_value(labels.metric());
        for (k, v) in labels.without_metric() {
            self.labels.keys().append_value(k);
            self.labels.values().append_value(v);
        }
        self.labels
            .append(true)
            .map_err(|e| Error::Internal(e.to_string()))
    }

    fn fields() -> Vec<Field> {
        vec![
            Field::new("rule", DataType::Utf8, false),
            Field::new("series", DataType::Utf8, false),
            Field::new("metric", DataType::Utf8, false),
            Field::new("labels", labels_type(), false),
        ]
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.rule.finish()),
            Arc::new(self.series.finish()),
            Arc::new(self.metric.finish()),
            Arc::new(self.labels.finish()),
        ]
    }
}

fn write(path: &Path, schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<()> {
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::Internal(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("parquet.tmp");
    let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let internal =
        |e: parquet::errors::ParquetError| Error::Internal(format!("{}: {e}", path.display()));
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).map_err(internal)?;
    writer.write(&batch).map_err(internal)?;
    writer.close().map_err(internal)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Writes `capacity.parquet`.
pub fn write_capacity(path: &Path, rows: &[CapacityRow]) -> Result<()> {
    let mut fields = SeriesColumns::fields();
    fields.extend([
        Field::new("model", DataType::Utf8, false),
        Field::new("at", ts_type(), false),
        Field::new("current", DataType::Float64, false),
        Field::new("threshold", DataType::Float64, false),
        Field::new("crossing", ts_type(), true),
        Field::new("crossing_earliest", ts_type(), true),
        Field::new("crossing_latest", ts_type(), true),
        Field::new("window_end", ts_type(), false),
        Field::new("crosses_in_window", DataType::Boolean, false),
        Field::new("forecast_mean", DataType::Float64, false),
        Field::new("forecast_lower", DataType::Float64, false),
        Field::new("forecast_upper", DataType::Float64, false),
        Field::new("points", DataType::UInt64, false),
    ]);
    let mut ids = SeriesColumns::new();
    let mut model = StringBuilder::new();
    let mut at = TimestampMillisecondBuilder::new();
    let mut current = Float64Builder::new();
    let mut threshold = Float64Builder::new();
    let mut crossing = TimestampMillisecondBuilder::new();
    let mut earliest = TimestampMillisecondBuilder::new();
    let mut latest = TimestampMillisecondBuilder::new();
    let mut window_end = TimestampMillisecondBuilder::new();
    let mut in_window = BooleanBuilder::new();
    let (mut mean, mut lower, mut upper) = (
        Float64Builder::new(),
        Float64Builder::new(),
        Float64Builder::new(),
    );
    let mut points = UInt64Builder::new();
    for r in rows {
        ids.push(&r.rule, &r.labels)?;
        model.append_value(&r.model);
        at.append_value(r.at_ms);
        current.append_value(r.current);
        threshold.append_value(r.threshold);
        crossing.append_option(r.crossing_ms);
        earliest.append_option(r.earliest_ms);
        latest.append_option(r.latest_ms);
        window_end.append_value(r.at_ms + r.window_ms);
        in_window.append_value(r.crosses_within_window());
        mean.append_value(r.end_mean);
        lower.append_value(r.end_lower);
        upper.append_value(r.end_upper);
        points.append_value(r.points as u64);
    }
    let mut columns = ids.finish();
    columns.extend::<[ArrayRef; 13]>([
        Arc::new(model.finish()),
        Arc::new(at.finish().with_timezone("UTC")),
        Arc::new(current.finish()),
        Arc::new(threshold.finish()),
        Arc::new(crossing.finish().with_timezone("UTC")),
        Arc::new(earliest.finish().with_timezone("UTC")),
        Arc::new(latest.finish().with_timezone("UTC")),
        Arc::new(window_end.finish().with_timezone("UTC")),
        Arc::new(in_window.finish()),
        Arc::new(mean.finish()),
        Arc::new(lower.finish()),
        Arc::new(upper.finish()),
        Arc::new(points.finish()),
    ]);
    write(path, Arc::new(Schema::new(fields)), columns)
}

/// Writes `traffic.parquet`.
pub fn write_traffic(path: &Path, rows: &[TrafficRow]) -> Result<()> {
    let mut fields = SeriesColumns::fields();
    fields.extend([
        Field::new("model", DataType::Utf8, false),
        Field::new("at", ts_type(), false),
        Field::new("current", DataType::Float64, false),
        Field::new("peak", DataType::Float64, false),
        Field::new("peak_at", ts_type(), false),
        Field::new("peak_upper", DataType::Float64, false),
        Field::new("replicas", DataType::UInt64, true),
        Field::new("horizon_end", ts_type(), false),
        Field::new("points", DataType::UInt64, false),
    ]);
    let mut ids = SeriesColumns::new();
    let mut model = StringBuilder::new();
    let mut at = TimestampMillisecondBuilder::new();
    let mut current = Float64Builder::new();
    let mut peak = Float64Builder::new();
    let mut peak_at = TimestampMillisecondBuilder::new();
    let mut peak_upper = Float64Builder::new();
    let mut replicas = UInt64Builder::new();
    let mut horizon_end = TimestampMillisecondBuilder::new();
    let mut points = UInt64Builder::new();
    for r in rows {
        ids.push(&r.rule, &r.labels)?;
        model.append_value(&r.model);
        at.append_value(r.at_ms);
        current.append_value(r.current);
        peak.append_value(r.peak);
        peak_at.append_value(r.peak_at_ms);
        peak_upper.append_value(r.peak_upper);
        replicas.append_option(r.replicas);
        horizon_end.append_value(r.at_ms + r.horizon_ms);
        points.append_value(r.points as u64);
    }
    let mut columns = ids.finish();
    columns.extend::<[ArrayRef; 9]>([
        Arc::new(model.finish()),
        Arc::new(at.finish().with_timezone("UTC")),
        Arc::new(current.finish()),
        Arc::new(peak.finish()),
        Arc::new(peak_at.finish().with_timezone("UTC")),
        Arc::new(peak_upper.finish()),
        Arc::new(replicas.finish()),
        Arc::new(horizon_end.finish().with_timezone("UTC")),
        Arc::new(points.finish()),
    ]);
    write(path, Arc::new(Schema::new(fields)), columns)
}

/// Writes `forecast.parquet`: every forecast point of every row.
pub fn write_forecasts(
    path: &Path,
    capacity: &[CapacityRow],
    traffic: &[TrafficRow],
) -> Result<()> {
    let mut fields = SeriesColumns::fields();
    fields.extend([
        Field::new("timestamp", ts_type(), false),
        Field::new("mean", DataType::Float64, false),
        Field::new("lower", DataType::Float64, false),
        Field::new("upper", DataType::Float64, false),
    ]);
    let mut ids = SeriesColumns::new();
    let mut ts = TimestampMillisecondBuilder::new();
    let (mut mean, mut lower, mut upper) = (
        Float64Builder::new(),
        Float64Builder::new(),
        Float64Builder::new(),
    );
    let paths = capacity
        .iter()
        .map(|r| (&r.rule, &r.labels, &r.chart))
        .chain(traffic.iter().map(|r| (&r.rule, &r.labels, &r.chart)));
    for (rule, labels, chart) in paths {
        for &(t, m, lo, hi) in &chart.forecast {
            ids.push(rule, labels)?;
            ts.append_value(t);
            mean.append_value(m);
            lower.append_value(lo);
            upper.append_value(hi);
        }
    }
    let mut columns = ids.finish();
    columns.extend::<[ArrayRef; 4]>([
        Arc::new(ts.finish().with_timezone("UTC")),
        Arc::new(mean.finish()),
        Arc::new(lower.finish()),
        Arc::new(upper.finish()),
    ]);
    write(path, Arc::new(Schema::new(fields)), columns)
}
