//! The facts behind an alert, which become its annotations.
//!
//! A detector that finds a sample anomalous hands the alert lifecycle an [`Evidence`]: the value
//! it saw, what the model expected and how far off the value was. The lifecycle keeps the latest
//! evidence of an active alert and turns it into annotations whenever a notification goes out, so
//! a resolved notification repeats the facts of the last anomalous sample.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::template::format_value;

/// Annotation keys written from evidence.
pub mod keys {
    /// The observed value.
    pub const VALUE: &str = "value";
    /// The value the model expected.
    pub const EXPECTED: &str = "expected";
    /// The expected range, `[lower, upper]`.
    pub const EXPECTED_RANGE: &str = "expected_range";
    /// See [`super::Evidence::deviation`].
    pub const DEVIATION: &str = "deviation";
    /// The model that produced the expectation.
    pub const MODEL: &str = "model";
}

/// Significant digits kept for numbers a model computed. Forecasts carry no more precision than
/// this, and `45.61234567891234` in an alert only hides the digits that matter.
const MODEL_DIGITS: usize = 6;

/// What a detector found about one sample of one series.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The observed value; also what `{{ $value }}` renders in annotation templates.
    pub value: f64,
    /// The value the model expected at this time.
    pub expected: Option<f64>,
    /// Lower bound of the expected range; `None` when the range is open below.
    pub lower: Option<f64>,
    /// Upper bound of the expected range; `None` when the range is open above.
    pub upper: Option<f64>,
    /// How far the value lies outside the expected range, in half-widths of that range and
    /// signed: 0 inside the range, +1 one half-width above the upper bound, -2 two half-widths
    /// below the lower bound. [`Evidence::band_deviation`] computes it; a detector with another
    /// notion of distance should say so in `extra`.
    pub deviation: Option<f64>,
    /// Name of the model that produced the expectation (`seasonal`, `linear`, ...).
    pub model: Option<String>,
    /// Further annotations, e.g. `time_to_threshold` for capacity alerts. Formatted by the caller.
    pub extra: Vec<(String, String)>,
}

impl Evidence {
    /// Evidence with only the observed value.
    pub fn new(value: f64) -> Self {
        Evidence {
            value,
            ..Evidence::default()
        }
    }

    /// Sets the expected value.
    pub fn with_expected(mut self, expected: f64) -> Self {
        self.expected = Some(expected);
        self
    }

    /// Sets the expected range and the deviation computed from it with
    /// [`Evidence::band_deviation`].
    pub fn with_range(mut self, lower: f64, upper: f64) -> Self {
        self.lower = Some(lower);
        self.upper = Some(upper);
        self.deviation = Some(Self::band_deviation(self.value, lower, upper));
        self
    }

    /// Overrides the deviation.
    pub fn with_deviation(mut self, deviation: f64) -> Self {
        self.deviation = Some(deviation);
        self
    }

    /// Sets the model name.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Adds an extra annotation.
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    /// The signed distance of `value` outside `[lower, upper]` in half-widths of the range (see
    /// [`Evidence::deviation`]). A range of zero width gives +/-infinity for any value outside
    /// it; NaN in gives NaN out.
    pub fn band_deviation(value: f64, lower: f64, upper: f64) -> f64 {
        let half_width = (upper - lower) / 2.0;
        if value > upper {
            (value - upper) / half_width
        } else if value < lower {
            -(lower - value) / half_width
        } else if value.is_nan() || lower.is_nan() || upper.is_nan() {
            f64::NAN
        } else {
            0.0
        }
    }

    /// Writes the evidence annotations into `out`: `value`, then `expected`, `expected_range`
    /// (`[12.3, 45.6]`, an open side shown as `-Inf` or `+Inf`), `deviation` and `model` when
    /// known, then `extra`, which overrides the standard keys. Model outputs are rounded to six
    /// significant digits; the value is shown exactly.
    pub fn write_annotations(&self, out: &mut BTreeMap<String, String>) {
        out.insert(keys::VALUE.to_string(), format_value(self.value));
        if let Some(expected) = self.expected {
            out.insert(keys::EXPECTED.to_string(), format_model_number(expected));
        }
        if self.lower.is_some() || self.upper.is_some() {
            let lower = format_model_number(self.lower.unwrap_or(f64::NEG_INFINITY));
            let upper = format_model_number(self.upper.unwrap_or(f64::INFINITY));
            out.insert(
                keys::EXPECTED_RANGE.to_string(),
                format!("[{lower}, {upper}]"),
            );
        }
        if let Some(deviation) = self.deviation {
            out.insert(keys::DEVIATION.to_string(), format_model_number(deviation));
        }
        if let Some(model) = &self.model {
            out.insert(keys::MODEL.to_string(), model.clone());
        }
        for (key, value) in &self.extra {
            out.insert(key.clone(), value.clone());
        }
    }
}

/// Formats a model-computed number with [`MODEL_DIGITS`] significant digits.
fn format_model_number(value: f64) -> String {
    if !value.is_finite() || value == 0.0 {
        return format_value(value);
    }
    // Rounding through decimal text is exact: the digits printed are the digits kept.
    let rounded: f64 = format!("{:.*e}", MODEL_DIGITS - 1, value)
        .parse()
        .unwrap_or(value);
    format_value(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviation_in_half_widths() {
        // Range [10, 20]: half-width 5.
        assert_eq!(Evidence::band_deviation(15.0, 10.0, 20.0), 0.0);
        assert_eq!(Evidence::band_deviation(20.0, 10.0, 20.0), 0.0);
        assert_eq!(Evidence::band_deviation(25.0, 10.0, 20.0), 1.0);
        assert_eq!(Evidence::band_deviation(0.0, 10.0, 20.0), -2.0);
        assert_eq!(Evidence::band_deviation(11.0, 10.0, 10.0), f64::INFINITY);
        assert!(Evidence::band_deviation(f64::NAN, 10.0, 20.0).is_nan());
    }

    #[test]
    fn annotations_from_evidence() {
        let evidence = Evidence::new(57.25)
            .with_expected(30.123456789)
            .with_range(12.3, 45.6)
            .with_model("seasonal")
            .with_extra("time_to_threshold", "4h");
        let mut out = BTreeMap::new();
        evidence.write_annotations(&mut out);
        assert_eq!(out["value"], "57.25");
        assert_eq!(out["expected"], "30.1235");
        assert_eq!(out["expected_range"], "[12.3, 45.6]");
        // (57.25 - 45.6) / 16.65 = 0.6996996...
        assert_eq!(out["deviation"], "0.6997");
        assert_eq!(out["model"], "seasonal");
        assert_eq!(out["time_to_threshold"], "4h");
    }

    #[test]
    fn open_range_and_minimal_evidence() {
        let mut out = BTreeMap::new();
        Evidence {
            upper: Some(100.0),
            ..Evidence::new(120.0)
        }
        .write_annotations(&mut out);
        assert_eq!(out["expected_range"], "[-Inf, 100]");
        assert!(!out.contains_key("deviation"));

        let mut out = BTreeMap::new();
        Evidence::new(1.0).write_annotations(&mut out);
        assert_eq!(out.len(), 1);
    }
}
