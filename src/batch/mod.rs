//! The fixed Arrow schema samples travel in between stages.
//!
//! A [`SampleBatch`] is an Arrow [`RecordBatch`] with three columns,
//!
//! | column      | Arrow type                 | meaning                         |
//! |-------------|----------------------------|---------------------------------|
//! | `timestamp` | `Timestamp(Millisecond, "UTC")` | sample time                |
//! | `series`    | `UInt64`                   | fingerprint of the label set    |
//! | `value`     | `Float64`                  | sample value (NaN allowed)      |
//!
//! plus a [`SeriesDictionary`] from fingerprint to labels. Decoders build batches with
//! [`SampleBatchBuilder`]; the scoring side reads them with [`SampleBatch::rows`].

use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayBuilder, Float64Array, Float64Builder, TimestampMillisecondArray};
use arrow::array::{TimestampMillisecondBuilder, UInt64Array, UInt64Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::series::{Labels, SeriesDictionary, SeriesId};
use crate::time::Millis;

/// The schema every [`SampleBatch`] has.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new(
                    "timestamp",
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    false,
                ),
                Field::new("series", DataType::UInt64, false),
                Field::new("value", DataType::Float64, false),
            ]))
        })
        .clone()
}

/// One sample as the scoring side sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub series: SeriesId,
    pub timestamp_ms: Millis,
    pub value: f64,
}

/// A record batch in the fixed schema plus the labels of the series it mentions.
#[derive(Debug, Clone)]
pub struct SampleBatch {
    pub batch: RecordBatch,
    pub dictionary: Arc<SeriesDictionary>,
}

impl SampleBatch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// True when the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    fn columns(&self) -> (&TimestampMillisecondArray, &UInt64Array, &Float64Array) {
        // The constructor only accepts batches in `schema()`, so these downcasts hold.
        let ts = self
            .batch
            .column(0)
            .as_any()
            .downcast_ref()
            .expect("timestamp column");
        let series = self
            .batch
            .column(1)
            .as_any()
            .downcast_ref()
            .expect("series column");
        let value = self
            .batch
            .column(2)
            .as_any()
            .downcast_ref()
            .expect("value column");
        (ts, series, value)
    }

    /// The samples in row order.
    pub fn rows(&self) -> impl Iterator<Item = Sample> + '_ {
        let (ts, series, value) = self.columns();
        (0..self.len()).map(move |i| Sample {
            series: SeriesId(series.value(i)),
            timestamp_ms: ts.value(i),
            value: value.value(i),
        })
    }

    /// Wraps a record batch, checking that it has the fixed schema and that every fingerprint
    /// is in the dictionary.
    pub fn try_new(batch: RecordBatch, dictionary: Arc<SeriesDictionary>) -> crate::Result<Self> {
        if batch.schema().fields() != schema().fields() {
            return Err(crate::Error::Internal(format!(
                "sample batch has schema {:?}, expected {:?}",
                batch.schema(),
                schema()
            )));
        }
        let this = SampleBatch { batch, dictionary };
        let (_, series, _) = this.columns();
        if series.null_count() > 0 {
            return Err(crate::Error::Internal(
                "null series fingerprint in batch".into(),
            ));
        }
        if let Some(missing) = series
            .values()
            .iter()
            .find(|id| this.dictionary.get(SeriesId(**id)).is_none())
        {
            return Err(crate::Error::Internal(format!(
                "series {:016x} is not in the batch dictionary",
                missing
            )));
        }
        Ok(this)
    }
}

/// Appends samples and finishes them into a [`SampleBatch`].
#[derive(Debug, Default)]
pub struct SampleBatchBuilder {
    timestamps: TimestampMillisecondBuilder,
    series: UInt64Builder,
    values: Float64Builder,
    dictionary: SeriesDictionary,
}

impl SampleBatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns `labels` and returns the fingerprint to pass to [`Self::push`].
    pub fn intern(&mut self, labels: Labels) -> SeriesId {
        self.dictionary.intern(labels)
    }

    /// Appends one sample of a series interned with [`Self::intern`].
    pub fn push(&mut self, series: SeriesId, timestamp_ms: Millis, value: f64) {
        self.timestamps.append_value(timestamp_ms);
        self.series.append_value(series.0);
        self.values.append_value(value);
    }

    /// Samples appended so far.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Finishes the batch; the builder is empty afterwards (its dictionary too).
    pub fn finish(&mut self) -> SampleBatch {
        let timestamps = self.timestamps.finish().with_timezone("UTC");
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(timestamps),
                Arc::new(self.series.finish()),
                Arc::new(self.values.finish()),
            ],
        )
        .expect("builder columns match the fixed schema");
        SampleBatch {
            batch,
            dictionary: Arc::new(std::mem::take(&mut self.dictionary)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_round_trips_rows() {
        let mut b = SampleBatchBuilder::new();
        let id = b.intern(Labels::with_metric("up", [("job", "a")]));
        b.push(id, 1000, 1.0);
        b.push(id, 2000, f64::NAN);
        let batch = b.finish();
        assert_eq!(batch.batch.schema(), schema());
        let rows: Vec<_> = batch.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            Sample {
                series: id,
                timestamp_ms: 1000,
                value: 1.0
            }
        );
        assert!(rows[1].value.is_nan());
        assert_eq!(batch.dictionary.get(id).unwrap().metric(), "up");
        assert!(SampleBatch::try_new(batch.batch.clone(), batch.dictionary.clone()).is_ok());
    }

    #[test]
    fn try_new_rejects_unknown_series() {
        let mut b = SampleBatchBuilder::new();
        let id = b.intern(Labels::with_metric("up", [("job", "a")]));
        b.push(id, 1000, 1.0);
        let batch = b.finish();
        let err = SampleBatch::try_new(batch.batch, Arc::new(SeriesDictionary::new()));
        assert!(err.is_err());
    }
}
