//! The online change detector: a two-sided CUSUM on robustly standardised values.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::time::Millis;
use crate::{Error, Result};

/// Standardised values are clipped to `±CLIP` before they enter the sums, so one wild sample
/// adds at most `CLIP - k`: it cannot raise an alarm alone.
pub const CLIP: f64 = 4.0;
/// Values the baseline keeps (the most recent in-control ones).
pub const BASELINE_SAMPLES: usize = 200;
/// Values needed before the first verdict, and to adopt a new level after a change.
pub const MIN_BASELINE: usize = 40;
/// Values after a detection before a return to the old level can call the change off.
pub const REVERT_AFTER: usize = 5;

/// `1 / Φ⁻¹(3/4)`: turns a median absolute deviation into a normal standard deviation.
const MAD_TO_SD: f64 = 1.482602218505602;
/// `√(π/2)`: turns a mean absolute deviation into a normal standard deviation.
const MEAN_AD_TO_SD: f64 = 1.2533141373155001;

/// How readily a change is declared (the rule's `sensitivity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Shifts of about 2 standard deviations and at least 30 % of the level.
    Low,
    /// Shifts of about 1.5 standard deviations and at least 20 % of the level.
    #[default]
    Medium,
    /// Shifts of about 1 standard deviation and at least 10 % of the level.
    High,
}

/// A direction of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The level went up.
    Increase,
    /// The level went down.
    Decrease,
}

impl Direction {
    /// `increase` or `decrease`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "increase",
            Direction::Decrease => "decrease",
        }
    }
}

/// Which changes alert (the rule's `alert_on`). Changes in the other direction are still
/// detected and adopted as the new normal, silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertOn {
    /// Only increases.
    Increase,
    /// Only decreases.
    Decrease,
    /// Both.
    #[default]
    Any,
}

impl AlertOn {
    fn includes(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (AlertOn::Any, _)
                | (AlertOn::Increase, Direction::Increase)
                | (AlertOn::Decrease, Direction::Decrease)
        )
    }
}

/// Validated settings of an [`OnlineDetector`]: every value of this type is usable (build it
/// with [`OnlineConfig::new`] from a sensitivity, or [`OnlineConfig::custom`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OnlineConfig {
    drift: f64,
    threshold: f64,
    min_relative_shift: f64,
    alert_on: AlertOn,
}

impl OnlineConfig {
    /// The documented settings for `sensitivity` (see the module docs for their false-alarm
    /// rates).
    pub fn new(sensitivity: Sensitivity, alert_on: AlertOn) -> Self {
        let (drift, threshold, min_relative_shift) = match sensitivity {
            Sensitivity::High => (0.5, 8.0, 0.1),
            Sensitivity::Medium => (0.75, 7.0, 0.2),
            Sensitivity::Low => (1.0, 7.0, 0.3),
        };
        OnlineConfig {
            drift,
            threshold,
            min_relative_shift,
            alert_on,
        }
    }

    /// Settings other than the documented ones: allowance `drift` (`k`, in standard deviations,
    /// half the shift the sums are tuned to), decision `threshold` (`h`), and the smallest
    /// alerting shift relative to the old level.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] naming the setting when `drift` or `min_relative_shift` is negative or
    /// not finite, or `threshold` is not finite and positive.
    pub fn custom(
        drift: f64,
        threshold: f64,
        min_relative_shift: f64,
        alert_on: AlertOn,
    ) -> Result<Self> {
        let bad = |name: &str, v: f64, what: &str| {
            Error::model(
                "change_point_detection",
                format!("{name} {v} must be finite and {what}"),
            )
        };
        if !(drift >= 0.0 && drift.is_finite()) {
            return Err(bad("drift", drift, "at least 0"));
        }
        if !(threshold > 0.0 && threshold.is_finite()) {
            return Err(bad("threshold", threshold, "positive"));
        }
        if !(min_relative_shift >= 0.0 && min_relative_shift.is_finite()) {
            return Err(bad("min_relative_shift", min_relative_shift, "at least 0"));
        }
        Ok(OnlineConfig {
            drift,
            threshold,
            min_relative_shift,
            alert_on,
        })
    }

    /// The allowance `k`, in standard deviations.
    pub fn drift(&self) -> f64 {
        self.drift
    }

    /// The decision threshold `h`.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The smallest alerting shift, relative to the old level.
    pub fn min_relative_shift(&self) -> f64 {
        self.min_relative_shift
    }

    /// Which directions alert.
    pub fn alert_on(&self) -> AlertOn {
        self.alert_on
    }
}

/// A detected change of level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shift {
    /// Up or down.
    pub direction: Direction,
    /// When the change started: within the run of values that ended in the alarm, the start
    /// of the most anomalous suffix.
    pub started_ms: Millis,
    /// The sample that raised the alarm.
    pub detected_ms: Millis,
    /// The level before (median of the baseline).
    pub before: f64,
    /// The level after: the median of the values since the start, updated as more arrive
    /// until the new level is adopted.
    pub after: f64,
    /// The standard deviation of the old baseline (robust estimate).
    pub scale: f64,
    /// True when the shift is in an alerting direction and large enough.
    pub alerting: bool,
}

impl Shift {
    /// `(after - before) / |before|`; infinite when `before` is 0.
    pub fn relative(&self) -> f64 {
        (self.after - self.before) / self.before.abs()
    }
}

/// What the detector made of one value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Still collecting the first baseline.
    Learning,
    /// Compared with the baseline; no change.
    Watching {
        /// The baseline level (median).
        level: f64,
        /// The baseline's robust standard deviation.
        scale: f64,
        /// The clipped standardised value.
        z: f64,
        /// The larger CUSUM sum over the threshold, in [0, 1).
        progress: f64,
    },
    /// A change has been detected (on this value or before) and the new level is being
    /// learned; `new` is true on the value that raised the alarm.
    Shifted {
        /// The change.
        shift: Shift,
        /// True on the detecting value.
        new: bool,
    },
    /// The change was called off: the values went back to the old level.
    Reverted {
        /// The change that did not last.
        shift: Shift,
    },
}

/// One value of a run: time, value and clipped standardised value.
type RunValue = (Millis, f64, f64);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Side {
    sum: f64,
    /// The values since the sum last left 0.
    run: VecDeque<RunValue>,
}

impl Side {
    fn push(&mut self, increment: f64, sample: RunValue) {
        self.sum = (self.sum + increment).max(0.0);
        if self.sum == 0.0 {
            self.run.clear();
        } else {
            if self.run.len() == BASELINE_SAMPLES {
                self.run.pop_front();
            }
            self.run.push_back(sample);
        }
    }

    fn reset(&mut self) {
        self.sum = 0.0;
        self.run.clear();
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Phase {
    Learning,
    Watching,
    Adopting {
        shift: Shift,
        /// The baseline before the change, restored if the change is called off.
        previous: VecDeque<f64>,
        /// Values since the detection.
        since: usize,
    },
}

/// Where in the run the change most likely started: the suffix whose standardised values are
/// least likely under the old level, maximising `(Σ z)² / length` with `Σ z` of the change's
/// sign (the likelihood ratio of a mean shift of unknown size starting there). The run can begin
/// with a few ordinary values that lifted the sum off 0 before the change.
fn change_start(run: &VecDeque<RunValue>, direction: Direction) -> usize {
    let sign = match direction {
        Direction::Increase => 1.0,
        Direction::Decrease => -1.0,
    };
    let mut best = (f64::NEG_INFINITY, run.len().saturating_sub(1));
    let mut tail = 0.0;
    for (i, &(_, _, z)) in run.iter().enumerate().rev() {
        tail += sign * z;
        let length = (run.len() - i) as f64;
        let score = if tail > 0.0 {
            tail * tail / length
        } else {
            0.0
        };
        if score >= best.0 {
            best = (score, i);
        }
    }
    best.1
}

/// Per-series state of the online change detector. See the module docs for the method.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OnlineDetector {
    config: OnlineConfig,
    baseline: VecDeque<f64>,
    level: f64,
    scale: f64,
    up: Side,
    down: Side,
    phase: Phase,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl OnlineDetector {
    /// A detector with no history.
    pub fn new(config: OnlineConfig) -> Self {
        OnlineDetector {
            config,
            baseline: VecDeque::with_capacity(BASELINE_SAMPLES),
            // Placeholders until the first baseline is learned (finite, so state serialises to
            // any format).
            level: 0.0,
            scale: 1.0,
            up: Side::default(),
            down: Side::default(),
            phase: Phase::Learning,
            scratch: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &OnlineConfig {
        &self.config
    }

    /// The current baseline level and robust standard deviation, once learned.
    pub fn baseline(&self) -> Option<(f64, f64)> {
        (!matches!(self.phase, Phase::Learning)).then_some((self.level, self.scale))
    }

    /// Feeds one finite value (in time order) and says what it means.
    pub fn observe(&mut self, at_ms: Millis, x: f64) -> Step {
        match &mut self.phase {
            Phase::Learning => {
                self.remember(x);
                if self.baseline.len() >= MIN_BASELINE {
                    self.phase = Phase::Watching;
                }
                Step::Learning
            }
            Phase::Adopting { .. } => self.adopt(at_ms, x),
            Phase::Watching => self.watch(at_ms, x),
        }
    }

    fn watch(&mut self, at_ms: Millis, x: f64) -> Step {
        let k = self.config.drift;
        let z = ((x - self.level) / self.scale).clamp(-CLIP, CLIP);
        self.up.push(z - k, (at_ms, x, z));
        self.down.push(-z - k, (at_ms, x, z));

        let h = self.config.threshold;
        if self.up.sum <= h && self.down.sum <= h {
            self.remember(x);
            return Step::Watching {
                level: self.level,
                scale: self.scale,
                z,
                progress: self.up.sum.max(self.down.sum) / h,
            };
        }

        // Alarm: the run since the sum left 0 holds the change.
        let (direction, run) = if self.up.sum >= self.down.sum {
            (Direction::Increase, std::mem::take(&mut self.up.run))
        } else {
            (Direction::Decrease, std::mem::take(&mut self.down.run))
        };
        self.up.reset();
        self.down.reset();
        let start = change_start(&run, direction);
        let started_ms = run.get(start).map_or(at_ms, |s| s.0);
        let previous = std::mem::take(&mut self.baseline);
        for &(_, v, _) in run.iter().skip(start) {
            self.baseline.push_back(v);
        }
        let after = self.median_of_baseline();
        let mut shift = Shift {
            direction,
            started_ms,
            detected_ms: at_ms,
            before: self.level,
            after,
            scale: self.scale,
            alerting: false,
        };
        shift.alerting = self.is_alerting(&shift);
        self.phase = Phase::Adopting {
            shift,
            previous,
            since: 0,
        };
        Step::Shifted { shift, new: true }
    }

    /// After a detection: learn the new level; call the change off if the values return.
    fn adopt(&mut self, _at_ms: Millis, x: f64) -> Step {
        if self.baseline.len() == BASELINE_SAMPLES {
            self.baseline.pop_front();
        }
        self.baseline.push_back(x);
        let after = self.median_of_baseline();
        let Phase::Adopting {
            shift,
            previous,
            since,
        } = &mut self.phase
        else {
            return Step::Learning;
        };
        *since += 1;
        let detected_after = shift.after;
        shift.after = after;

        // Back nearer the old level than the detected one: it was a transient.
        if *since >= REVERT_AFTER && (after - shift.before).abs() < (after - detected_after).abs() {
            let shift = *shift;
            self.baseline = std::mem::take(previous);
            self.phase = Phase::Watching;
            return Step::Reverted { shift };
        }

        // Enough values: the new level is the baseline from now on.
        let shift = *shift;
        if self.baseline.len() >= MIN_BASELINE {
            self.phase = Phase::Watching;
            self.refresh();
        }
        Step::Shifted { shift, new: false }
    }

    fn is_alerting(&self, shift: &Shift) -> bool {
        let large = shift.before == 0.0
            || (shift.after - shift.before).abs()
                >= self.config.min_relative_shift * shift.before.abs();
        large && self.config.alert_on.includes(shift.direction)
    }

    /// Adds an in-control value to the baseline and re-estimates level and scale.
    fn remember(&mut self, x: f64) {
        if self.baseline.len() == BASELINE_SAMPLES {
            self.baseline.pop_front();
        }
        self.baseline.push_back(x);
        self.refresh();
    }

    fn median_of_baseline(&mut self) -> f64 {
        self.scratch.clear();
        self.scratch.extend(self.baseline.iter().copied());
        crate::models::linear::median(&mut self.scratch)
    }

    /// Level = median of the baseline; scale = 1.4826 × MAD, falling back to the mean absolute
    /// deviation (× √(π/2)) for values so discrete that the MAD is 0, and to a tiny positive
    /// number for a constant baseline (then any change is detected, and the relative-shift
    /// rule decides whether it alerts).
    fn refresh(&mut self) {
        let level = self.median_of_baseline();
        for v in self.scratch.iter_mut() {
            *v = (*v - level).abs();
        }
        let mean_abs = self.scratch.iter().sum::<f64>() / self.scratch.len() as f64;
        let mad = crate::models::linear::median(&mut self.scratch);
        let scale = if mad > 0.0 {
            MAD_TO_SD * mad
        } else if mean_abs > 0.0 {
            MEAN_AD_TO_SD * mean_abs
        } else {
            (level.abs() * 1e-9).max(f64::MIN_POSITIVE)
        };
        self.level = level;
        self.scale = scale;
    }
}
