//! Prometheus remote_write v1: snappy block format around a protobuf `prometheus.WriteRequest`.
//!
//! The message types are written out with prost's derive macros, so no `.proto` file or
//! `protoc` is needed. Only the fields seer uses are declared; prost skips the others
//! (exemplars, native histograms, metadata), so they are accepted and ignored.
//!
//! ```text
//! WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
//! TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; ... }
//! Label        { string name = 1; string value = 2; }
//! Sample       { double value = 1; int64 timestamp = 2; }     // timestamp in milliseconds
//! ```
//!
//! [`decode`] checks every series before anything is kept, so a request is taken whole or not
//! at all (as Prometheus' own receiver does): a request seer will never accept is refused with
//! a [`DecodeError`] naming the series and the problem, which the HTTP layer answers with 400
//! (or 413 for [`DecodeError::TooLarge`]), so Prometheus drops it instead of retrying forever.
//!
//! Values are kept bit for bit, so Prometheus' stale markers ([`STALE_NAN_BITS`]) reach the
//! scoring side, which ends the series' alerts on them. Other NaN and infinite values are
//! scored as "not finite" (skipped and counted).

use crate::batch::{SampleBatch, SampleBatchBuilder};
use crate::series::{Labels, METRIC_NAME};

/// The bit pattern of Prometheus' stale marker, a NaN that says "this series is gone".
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// True when `value` is a Prometheus stale marker (not any other NaN).
pub fn is_stale_marker(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Why a remote_write body was refused. Every variant but [`DecodeError::TooLarge`] is data
/// seer will never accept (HTTP 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// A zero-length body.
    #[error("empty body: expected a snappy-compressed prometheus.WriteRequest")]
    Empty,
    /// Not snappy block format (a framed-format body lands here too).
    #[error("snappy: {0} (the body must be in snappy's block format)")]
    Snappy(String),
    /// The decompressed body would exceed the limit.
    #[error("decompressed body of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// Not a `prometheus.WriteRequest`.
    #[error("protobuf: {0}: not a prometheus.WriteRequest")]
    Protobuf(String),
    /// A series without a metric name.
    #[error("timeseries {index} {labels}: no __name__ label (seer needs the metric name)")]
    MissingName { index: usize, labels: String },
    /// A label name outside `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("timeseries {index} {labels}: invalid label name {name:?}")]
    InvalidLabelName {
        index: usize,
        labels: String,
        name: String,
    },
    /// A metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("timeseries {index}: invalid metric name {name:?}")]
    InvalidMetricName { index: usize, name: String },
    /// The same label name twice in one series.
    #[error("timeseries {index} {labels}: label name {name:?} repeated")]
    DuplicateLabel {
        index: usize,
        labels: String,
        name: String,
    },
}

impl DecodeError {
    /// A short reason for counters: `empty`, `snappy`, `too_large`, `protobuf`, `labels`.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::Snappy(_) => "snappy",
            DecodeError::TooLarge { .. } => "too_large",
            DecodeError::Protobuf(_) => "protobuf",
            DecodeError::MissingName { .. }
            | DecodeError::InvalidLabelName { .. }
            | DecodeError::InvalidMetricName { .. }
            | DecodeError::DuplicateLabel { .. } => "labels",
        }
    }
}

/// A decoded request.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The samples, stale markers included, in request order.
    pub batch: SampleBatch,
    /// Series in the request.
    pub series: usize,
    /// Stale markers among the samples.
    pub stale_markers: usize,
    /// Other NaN or infinite values among the samples.
    pub not_finite: usize,
}

/// Decodes a remote_write body: snappy block format, then protobuf, then label checks.
///
/// # Errors
///
/// A [`DecodeError`] saying what is wrong and, for label problems, which series.
pub fn decode(body: &[u8], max_decoded_bytes: usize) -> Result<Decoded, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    let size = snap::raw::decompress_len(body).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if size > max_decoded_bytes {
        return Err(DecodeError::TooLarge {
            size,
            limit: max_decoded_bytes,
        });
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| DecodeError::Snappy(e.to_string()))?;
    let request = <WriteRequest as prost::Message>::decode(raw.as_slice())
        .map_err(|e| DecodeError::Protobuf(e.to_string()))?;
    to_batch(request)
}

/// Checks the labels of every series and builds the batch.
///
/// # Errors
///
/// The first series with a label problem.
pub fn to_batch(request: WriteRequest) -> Result<Decoded, DecodeError> {
    for (index, series) in request.timeseries.iter().enumerate() {
        check_labels(index, &series.labels)?;
    }

    let mut builder = SampleBatchBuilder::new();
    let series = request.timeseries.len();
    let (mut stale_markers, mut not_finite) = (0, 0);
    for ts in request.timeseries {
        // The decoded strings move into the label set: no copy per label.
        let id = builder.intern(Labels::new(
            ts.labels.into_iter().map(|l| (l.name, l.value)),
        ));
        for sample in &ts.samples {
            if is_stale_marker(sample.value) {
                stale_markers += 1;
            } else if !sample.value.is_finite() {
                not_finite += 1;
            }
            builder.push(id, sample.timestamp, sample.value);
        }
    }
    Ok(Decoded {
        batch: builder.finish(),
        series,
        stale_markers,
        not_finite,
    })
}

/// Why seer refuses the labels of series `index`, if it does.
fn check_labels(index: usize, labels: &[Label]) -> Result<(), DecodeError> {
    let shown = || show(labels);
    let mut metric = None;
    for (i, label) in labels.iter().enumerate() {
        if !Labels::valid_name(&label.name) {
            return Err(DecodeError::InvalidLabelName {
                index,
                labels: shown(),
                name: label.name.clone(),
            });
        }
        if labels[..i].iter().any(|l| l.name == label.name) {
            return Err(DecodeError::DuplicateLabel {
                index,
                labels: shown(),
                name: label.name.clone(),
            });
        }
        if label.name == METRIC_NAME && !label.value.is_empty() {
            metric = Some(&label.value);
        }
    }
    match metric {
        None => Err(DecodeError::MissingName {
            index,
            labels: shown(),
        }),
        Some(name) if !Labels::valid_metric_name(name) => Err(DecodeError::InvalidMetricName {
            index,
            name: name.clone(),
        }),
        Some(_) => Ok(()),
    }
}

/// `{a="1", b="2"}` in request order, cut after 200 characters.
fn show(labels: &[Label]) -> String {
    let mut text = String::from("{");
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("{}={:?}", l.name, l.value));
        if text.len() > 200 {
            text.push_str(", ...");
            break;
        }
    }
    text.push('}');
    text
}

/// Encodes `request` as Prometheus sends it (protobuf, then snappy block format); for tests,
/// benchmarks and the load generator.
pub fn encode(request: &WriteRequest) -> Vec<u8> {
    let raw = prost::Message::encode_to_vec(request);
    // Compressing a byte slice in memory cannot fail short of the 4 GiB format limit.
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// A one-sample series with `labels` (name, value pairs in any order).
pub fn series(labels: &[(&str, &str)], timestamp_ms: i64, value: f64) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(name, value)| Label {
                name: name.to_string(),
                value: value.to_string(),
            })
            .collect(),
        samples: vec![Sample {
            value,
            timestamp: timestamp_ms,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(series: Vec<TimeSeries>) -> Vec<u8> {
        encode(&WriteRequest { timeseries: series })
    }

    #[test]
    fn round_trip_keeps_values_and_stale_markers() {
        let body = request(vec![
            series(&[("__name__", "up"), ("job", "a")], 1000, 1.0),
            series(&[("job", "a"), ("__name__", "up")], 2000, f64::NAN),
            series(
                &[("__name__", "up"), ("job", "a")],
                3000,
                f64::from_bits(STALE_NAN_BITS),
            ),
        ]);
        let decoded = decode(&body, 1 << 20).unwrap();
        assert_eq!(decoded.series, 3);
        assert_eq!(decoded.stale_markers, 1);
        assert_eq!(decoded.not_finite, 1);
        let rows: Vec<_> = decoded.batch.rows().collect();
        assert_eq!(rows.len(), 3);
        // Label order does not matter: one series.
        assert!(rows.iter().all(|r| r.series == rows[0].series));
        assert_eq!(rows[0].value, 1.0);
        assert!(is_stale_marker(rows[2].value));
        assert!(!is_stale_marker(rows[1].value));
    }

    #[test]
    fn refusals_name_the_series_and_problem() {
        let bad = |labels: &[(&str, &str)]| {
            decode(&request(vec![series(labels, 1, 1.0)]), 1 << 20).unwrap_err()
        };
        assert!(matches!(
            bad(&[("job", "a")]),
            DecodeError::MissingName { .. }
        ));
        assert!(matches!(
            bad(&[("__name__", "up"), ("bad-name", "x")]),
            DecodeError::InvalidLabelName { .. }
        ));
        assert!(matches!(
            bad(&[("__name__", "1up")]),
            DecodeError::InvalidMetricName { .. }
        ));
        assert!(matches!(
            bad(&[("__name__", "up"), ("a", "1"), ("a", "2")]),
            DecodeError::DuplicateLabel { .. }
        ));
        let message = bad(&[("__name__", "up"), ("bad-name", "x")]).to_string();
        assert_eq!(
            message,
            "timeseries 0 {__name__=\"up\", bad-name=\"x\"}: invalid label name \"bad-name\""
        );

        assert_eq!(decode(b"", 100).unwrap_err(), DecodeError::Empty);
        assert!(matches!(
            decode(b"\xff\xff\xff\xff\xff", 100).unwrap_err(),
            DecodeError::Snappy(_)
        ));
        let big = request(vec![series(&[("__name__", "up")], 1, 1.0)]);
        assert!(matches!(
            decode(&big, 3).unwrap_err(),
            DecodeError::TooLarge { .. }
        ));
    }
}
