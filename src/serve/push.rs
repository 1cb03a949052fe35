//! `POST /api/v1/push`: samples as NDJSON, for producers that are not Prometheus.
//!
//! One JSON object per line; blank lines are ignored:
//!
//! ```json
//! {"labels": {"__name__": "queue_depth", "queue": "emails"}, "timestamp_ms": 1700000000000, "value": 42}
//! ```
//!
//! - `labels`: the series, with its metric name in `__name__`; names as in Prometheus.
//! - `timestamp_ms`: milliseconds since the Unix epoch; optional, default the time of arrival.
//! - `value`: a number, or one of the strings `"NaN"`, `"+Inf"`, `"-Inf"`, `"stale"` (the last
//!   ends the series' alerts, as a Prometheus stale marker does).
//!
//! A request is taken whole or refused whole; a refusal names the line and the problem.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::remote_write::{self, DecodeError, Label, TimeSeries, WriteRequest, STALE_NAN_BITS};
use crate::time::Millis;

/// One line of a push.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    timestamp_ms: Option<i64>,
    value: Value,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Value {
    Number(f64),
    Text(String),
}

/// Why a push was refused (HTTP 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PushError {
    /// A line that is not a sample object.
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    /// A body that is not UTF-8.
    #[error("body is not UTF-8 text")]
    NotText,
    /// No sample at all.
    #[error("empty body: expected one JSON sample per line")]
    Empty,
}

/// Decodes an NDJSON push; samples without a timestamp get `now_ms`.
///
/// # Errors
///
/// [`PushError`] naming the first bad line (label problems included, with the messages of
/// [`remote_write::decode`]).
pub fn decode(body: &[u8], now_ms: Millis) -> Result<remote_write::Decoded, PushError> {
    let text = std::str::from_utf8(body).map_err(|_| PushError::NotText)?;
    let mut request = WriteRequest::default();
    let mut line_of = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| PushError::Line {
            line: i + 1,
            message,
        };
        let parsed: Line = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let value = match parsed.value {
            Value::Number(v) => v,
            Value::Text(t) if t == "stale" => f64::from_bits(STALE_NAN_BITS),
            Value::Text(t) => t.parse().map_err(|_| {
                bad(format!(
                    "value {t:?} is not a number, \"NaN\", \"+Inf\", \"-Inf\" or \"stale\""
                ))
            })?,
        };
        request.timeseries.push(TimeSeries {
            labels: parsed
                .labels
                .into_iter()
                .map(|(name, value)| Label { name, value })
                .collect(),
            samples: vec![remote_write::Sample {
                value,
                timestamp: parsed.timestamp_ms.unwrap_or(now_ms),
            }],
        });
        line_of.push(i + 1);
    }
    if request.timeseries.is_empty() {
        return Err(PushError::Empty);
    }
    remote_write::to_batch(request).map_err(|e| {
        let index = match &e {
            DecodeError::MissingName { index, .. }
            | DecodeError::InvalidLabelName { index, .. }
            | DecodeError::InvalidMetricName { index, .. }
            | DecodeError::DuplicateLabel { index, .. } => *index,
            _ => 0,
        };
        let message = e.to_string();
        // "timeseries N ..." is remote_write's wording; a push user thinks in lines.
        let message = message
            .split_once(' ')
            .and_then(|(_, rest)| rest.split_once(' '))
            .map(|(_, rest)| rest.to_string())
            .unwrap_or(message);
        PushError::Line {
            line: line_of.get(index).copied().unwrap_or(0),
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_samples() {
        let body = br#"{"labels":{"__name__":"q","x":"1"},"timestamp_ms":5,"value":2.5}

{"labels":{"__name__":"q","x":"1"},"value":"stale"}
"#;
        let decoded = decode(body, 99).unwrap();
        let rows: Vec<_> = decoded.batch.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].timestamp_ms, rows[0].value), (5, 2.5));
        assert_eq!(rows[1].timestamp_ms, 99);
        assert_eq!(decoded.stale_markers, 1);
    }

    #[test]
    fn bad_lines_are_named() {
        let err = decode(b"{\"labels\":{},\"value\":1}", 0).unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: {}: no __name__"),
            "{err}"
        );
        let err = decode(b"\n{oops}", 0).unwrap_err();
        assert!(err.to_string().starts_with("line 2: "), "{err}");
        let err = decode(b"{\"labels\":{\"__name__\":\"q\"},\"value\":\"many\"}", 0).unwrap_err();
        assert!(
            err.to_string().contains("\"many\" is not a number"),
            "{err}"
        );
        let err = decode(
            b"{\"labels\":{\"__name__\":\"q\"},\"value\":1}\n{\"labels\":{\"__name__\":\"q\",\"a-b\":\"1\"},\"value\":1}",
            0,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("line 2: "), "{err}");
        assert!(
            err.to_string().contains("invalid label name \"a-b\""),
            "{err}"
        );
        assert_eq!(decode(b"  \n", 0).unwrap_err(), PushError::Empty);
    }
}
