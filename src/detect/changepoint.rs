//! The change-point detector for `performance_degradation` rules: an
//! [`OnlineDetector`](crate::models::changepoint::OnlineDetector) per series, its steps turned
//! into verdicts.
//!
//! The rules, alert condition and annotations are documented on the detector type.

use serde::{Deserialize, Serialize};

use crate::alert::template::format_value;
use crate::detect::{DetectorStats, Evidence, Verdict};
use crate::models::changepoint::{OnlineConfig, OnlineDetector, Shift, Step};
use crate::time::{rfc3339, Millis};

/// The `model` name in evidence.
const MODEL: &str = "change_point_detection";

/// Per-series state of a `performance_degradation` rule.
///
/// # Alert condition
///
/// A sample is anomalous (the alert condition holds) from the sample that detects an alerting
/// change (see [`crate::models::changepoint`]: the rule's direction, and a shift of at least the
/// sensitivity's share of the old level) until the new level has been adopted
/// ([`MIN_BASELINE`](crate::models::changepoint::MIN_BASELINE) samples after the change) or the
/// change is called off. So a regression fires one alert (after `for`, if the rule has one),
/// which resolves once the new level is the baseline: **the detector re-baselines**, and a later
/// shift from the new level is a new alert. A `for` longer than that adoption period never
/// fires.
///
/// While the condition holds, the evidence carries these annotations:
///
/// | key | value |
/// |---|---|
/// | `level_before` | the baseline level before the change (median) |
/// | `level_after` | the level since the change (median, updated while it is adopted) |
/// | `shift` | `(after - before) / before` as a signed percentage, e.g. `+40.2%` |
/// | `direction` | `increase` or `decrease` |
/// | `change_started_at` | when the change started (RFC 3339) |
/// | `change_detected_at` | the sample that detected it (RFC 3339) |
///
/// `expected` is the level before; `deviation` is the shift in the old baseline's standard
/// deviations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePointDetector {
    model: OnlineDetector,
    stats: DetectorStats,
    last_ts: Option<Millis>,
}

impl ChangePointDetector {
    /// A detector with no history.
    pub fn new(config: OnlineConfig) -> Self {
        ChangePointDetector {
            model: OnlineDetector::new(config),
            stats: DetectorStats::default(),
            last_ts: None,
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> &DetectorStats {
        &self.stats
    }

    /// Feeds one sample (in time order) and judges it.
    pub fn observe(&mut self, timestamp_ms: Millis, value: f64) -> Verdict {
        if let Err(reason) = self.stats.admit(self.last_ts, timestamp_ms, value) {
            return Verdict::Skipped(reason);
        }
        self.last_ts = Some(timestamp_ms);

        let evidence = match self.model.observe(timestamp_ms, value) {
            Step::Learning => {
                self.stats.warming_up += 1;
                return Verdict::WarmingUp;
            }
            Step::Watching {
                level, z, progress, ..
            } => Evidence {
                timestamp_ms,
                value,
                expected: level,
                lower: f64::NAN,
                upper: f64::NAN,
                deviation: z,
                score: progress.clamp(0.0, 1.0),
                anomalous: false,
                model: MODEL,
                extra: Vec::new(),
            },
            Step::Shifted { shift, new } => {
                if new {
                    self.stats.fits += 1;
                }
                shift_evidence(timestamp_ms, value, &shift, shift.alerting)
            }
            Step::Reverted { shift } => shift_evidence(timestamp_ms, value, &shift, false),
        };
        self.stats.scored += 1;
        self.stats.anomalies += evidence.anomalous as u64;
        Verdict::Scored(evidence)
    }
}

fn shift_evidence(timestamp_ms: Millis, value: f64, shift: &Shift, anomalous: bool) -> Evidence {
    let relative = shift.relative();
    let shift_text = if relative.is_finite() {
        format!("{:+.1}%", 100.0 * relative)
    } else {
        format!("from {}", format_value(shift.before))
    };
    Evidence {
        timestamp_ms,
        value,
        expected: shift.before,
        lower: f64::NAN,
        upper: f64::NAN,
        deviation: (shift.after - shift.before) / shift.scale,
        score: 1.0,
        anomalous,
        model: MODEL,
        extra: vec![
            ("level_before".into(), format_level(shift.before)),
            ("level_after".into(), format_level(shift.after)),
            ("shift".into(), shift_text),
            ("direction".into(), shift.direction.as_str().into()),
            ("change_started_at".into(), rfc3339(shift.started_ms)),
            ("change_detected_at".into(), rfc3339(shift.detected_ms)),
        ],
    }
}

/// A level with six significant digits, as model outputs are shown elsewhere.
pub(crate) fn format_level(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return format_value(v);
    }
    format_value(format!("{v:.5e}").parse().unwrap_or(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::SkipReason;
    use crate::models::changepoint::{AlertOn, Sensitivity};

    #[test]
    fn verdicts_and_annotations_of_a_step() {
        let mut d = ChangePointDetector::new(OnlineConfig::new(Sensitivity::High, AlertOn::Any));
        let mut verdicts = Vec::new();
        for i in 0..200i64 {
            let base = if i < 100 { 100.0 } else { 150.0 };
            let wobble = [-2.0, 1.0, 0.0, 2.0, -1.0][(i % 5) as usize];
            verdicts.push(d.observe(i * 60_000, base + wobble));
        }
        assert!(matches!(verdicts[0], Verdict::WarmingUp));
        let first = verdicts
            .iter()
            .position(|v| matches!(v, Verdict::Scored(e) if e.anomalous))
            .unwrap();
        assert!((100..=102).contains(&first), "{first}");
        let Verdict::Scored(e) = &verdicts[first] else {
            unreachable!()
        };
        let get = |k: &str| e.extra.iter().find(|(key, _)| key == k).unwrap().1.clone();
        assert_eq!(get("level_before"), "100");
        assert_eq!(get("level_after"), "150");
        assert_eq!(get("shift"), "+50.0%");
        assert_eq!(get("direction"), "increase");
        assert_eq!(get("change_started_at"), "1970-01-01T01:40:00.000Z");

        // Duplicates, disorder and NaN are skipped and counted.
        assert_eq!(
            d.observe(199 * 60_000, 1.0),
            Verdict::Skipped(SkipReason::Duplicate)
        );
        assert_eq!(d.observe(10, 1.0), Verdict::Skipped(SkipReason::OutOfOrder));
        assert_eq!(
            d.observe(300 * 60_000, f64::NAN),
            Verdict::Skipped(SkipReason::NotFinite)
        );
        assert_eq!(d.stats().samples, 203);
        assert_eq!(d.stats().fits, 1);
    }

    #[test]
    fn state_survives_a_checkpoint() {
        // Mid-learning and mid-change, a JSON round trip continues with identical verdicts.
        let config = OnlineConfig::new(Sensitivity::Medium, AlertOn::Any);
        let value = |i: i64| if i < 60 { 10.0 } else { 20.0 } + (i % 3) as f64;
        for cut in [20, 62, 70] {
            let mut original = ChangePointDetector::new(config);
            for i in 0..cut {
                original.observe(i * 1000, value(i));
            }
            let json = serde_json::to_string(&original).unwrap();
            let mut restored: ChangePointDetector = serde_json::from_str(&json).unwrap();
            for i in cut..150 {
                // Debug text, because the unused band is NaN and NaN != NaN.
                assert_eq!(
                    format!("{:?}", original.observe(i * 1000, value(i))),
                    format!("{:?}", restored.observe(i * 1000, value(i))),
                    "cut {cut}, sample {i}"
                );
            }
        }
    }
}
