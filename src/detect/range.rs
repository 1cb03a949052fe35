//! Range novelty: is a value clearly outside the range the series has taken recently?
//!
//! # Method
//!
//! With `hi` and `lo` the largest and smallest of the last [`RangeNovelty::window`] values
//! (the current one excluded) and `r = hi - lo`, a value `x` is **new to the range** when
//!
//! ```text
//! x > hi + m * r     or     x < lo - m * r          (m: the margin, 0.05)
//! ```
//!
//! and its range score is then 1, otherwise 0. This is a different question from the forecast
//! error ([`super::likelihood`]): a forecaster that follows a switching or spiky series
//! produces large errors for ordinary values, and it can also follow a value into territory
//! the series has never visited (a sensor reading 1 where it always read 55 to 70). "Has the
//! series been here before?" is the spatial check that Numenta's detector combines with its
//! temporal score (Ahmad, Lavin, Purdy and Agha 2017, "Unsupervised real-time anomaly
//! detection for streaming data", Neurocomputing 262, §4: values outside the range seen so
//! far, with a tolerance, are flagged whatever the temporal model says); the seasonal detector
//! takes the larger of the two scores.
//!
//! The margin keeps a series that creeps upward (each value a new maximum by a hair) from
//! scoring on every sample: at 0 every new extreme scores, at 1 only values a whole range
//! beyond the extremes do. A window of constant values (`r = 0`) is judged by the forecast
//! error alone.
//!
//! # Cost
//!
//! O(1) amortised per sample and at most `window` entries per series: the window's maximum
//! and minimum are monotonic deques (each value is pushed and popped at most once).
//!
//! # Limitations
//!
//! - A level that returns to a range visited within the window is not new, however unusual
//!   the timing; the forecast error covers that.
//! - While the window fills (the first samples of a series) extremes are new often; the
//!   detector's warm-up covers the first of them.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Values the range is taken over, by default (about two weeks of 5-minute samples).
pub const RANGE_WINDOW: usize = 4096;

/// How far beyond the recent extremes, as a fraction of the recent range, a value must be to
/// be new (see the module docs).
pub const RANGE_MARGIN: f64 = 0.05;

/// Per-series state: the window's running maximum and minimum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeNovelty {
    window: usize,
    margin: f64,
    /// (sample number, value), decreasing values: the front is the window's maximum.
    max: VecDeque<(u64, f64)>,
    /// (sample number, value), increasing values: the front is the window's minimum.
    min: VecDeque<(u64, f64)>,
    seen: u64,
}

impl Default for RangeNovelty {
    fn default() -> Self {
        RangeNovelty::new(RANGE_WINDOW, RANGE_MARGIN)
    }
}

impl RangeNovelty {
    /// A tracker over the last `window` values (at least 1) with margin `margin` (at least 0).
    pub fn new(window: usize, margin: f64) -> Self {
        RangeNovelty {
            window: window.max(1),
            margin: margin.max(0.0),
            max: VecDeque::new(),
            min: VecDeque::new(),
            seen: 0,
        }
    }

    /// The range score of `value` against the window: 1 when it is new to the range, else 0.
    /// Does not learn the value (see [`push`](Self::push)).
    pub fn score(&self, value: f64) -> f64 {
        let (Some(&(_, hi)), Some(&(_, lo))) = (self.max.front(), self.min.front()) else {
            return 0.0;
        };
        let r = hi - lo;
        let new = r > 0.0 && (value > hi + self.margin * r || value < lo - self.margin * r);
        if new {
            1.0
        } else {
            0.0
        }
    }

    /// Adds a finite value to the window (others are ignored).
    pub fn push(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.seen += 1;
        while self.max.back().is_some_and(|(_, v)| *v <= value) {
            self.max.pop_back();
        }
        self.max.push_back((self.seen, value));
        while self.min.back().is_some_and(|(_, v)| *v >= value) {
            self.min.pop_back();
        }
        self.min.push_back((self.seen, value));

        // Drop what has left the window.
        let window = self.window as u64;
        while self
            .max
            .front()
            .is_some_and(|(at, _)| at + window <= self.seen)
        {
            self.max.pop_front();
        }
        while self
            .min
            .front()
            .is_some_and(|(at, _)| at + window <= self.seen)
        {
            self.min.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive reference: extremes of the last `window` values by a full scan.
    fn naive(history: &[f64], window: usize, margin: f64, value: f64) -> f64 {
        let recent = &history[history.len().saturating_sub(window)..];
        if recent.is_empty() {
            return 0.0;
        }
        let hi = recent.iter().copied().fold(f64::MIN, f64::max);
        let lo = recent.iter().copied().fold(f64::MAX, f64::min);
        let r = hi - lo;
        (r > 0.0 && (value > hi + margin * r || value < lo - margin * r)) as u8 as f64
    }

    #[test]
    fn matches_a_full_scan_of_the_window() {
        let mut tracker = RangeNovelty::new(50, 0.05);
        let mut history = Vec::new();
        // A wandering, occasionally spiking sequence (deterministic).
        for i in 0..2000u64 {
            let v = ((i * 7919) % 101) as f64 + if i % 333 == 0 { 150.0 } else { 0.0 }
                - (i / 400) as f64 * 30.0;
            assert_eq!(tracker.score(v), naive(&history, 50, 0.05, v), "at {i}");
            tracker.push(v);
            history.push(v);
        }
    }

    #[test]
    fn only_values_clearly_beyond_the_extremes_are_new() {
        let mut tracker = RangeNovelty::new(100, 0.05);
        for i in 0..100 {
            tracker.push(50.0 + (i % 20) as f64);
        }
        // Range 50..69, margin 0.95.
        assert_eq!(tracker.score(69.5), 0.0);
        assert_eq!(tracker.score(70.0), 1.0);
        assert_eq!(tracker.score(49.5), 0.0);
        assert_eq!(tracker.score(1.0), 1.0);
        // A constant window has no range: nothing is judged new by range.
        let mut flat = RangeNovelty::new(10, 0.05);
        for _ in 0..10 {
            flat.push(3.0);
        }
        assert_eq!(flat.score(300.0), 0.0);
    }
}
