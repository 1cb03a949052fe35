//! When a forecast reaches a level: the answer capacity models give, with its interval.
//!
//! A trend model forecasts a mean path `m(s)` and a band `[lo(s), hi(s)]` at `s` seconds after
//! its evaluation time. For a level `L` above the current value:
//!
//! ```text
//! estimate = first s with m(s)  >= L     (the point forecast crosses)
//! earliest = first s with hi(s) >= L     (the optimistic edge of the band crosses)
//! latest   = first s with lo(s) >= L     (the pessimistic edge crosses)
//! ```
//!
//! Each is "never" when it does not happen within [`MAX_HORIZON_SECS`]; a `latest` of never
//! means the data are also consistent with the level never being reached. A level at or below
//! the current value has been reached: all three are 0.

use serde::{Deserialize, Serialize};

/// Crossings further out than this (ten years) are reported as never.
pub const MAX_HORIZON_SECS: f64 = 10.0 * 365.25 * 86_400.0;

/// When a forecast reaches a level, in seconds after the model's evaluation time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    /// The level.
    pub level: f64,
    /// When the point forecast reaches the level; `None` is never.
    pub estimate_secs: Option<f64>,
    /// When the upper edge of the interval reaches it; `None` is never.
    pub earliest_secs: Option<f64>,
    /// When the lower edge of the interval reaches it; `None` is possibly never.
    pub latest_secs: Option<f64>,
    /// Probability mass of the interval, in (0, 1).
    pub interval: f64,
}

impl Crossing {
    /// A level that has been reached already.
    pub fn reached(level: f64, interval: f64) -> Self {
        Crossing {
            level,
            estimate_secs: Some(0.0),
            earliest_secs: Some(0.0),
            latest_secs: Some(0.0),
            interval,
        }
    }

    /// True when the level is reached now.
    pub fn is_reached(&self) -> bool {
        self.estimate_secs == Some(0.0)
    }

    /// True when the point forecast reaches the level within `window_secs`.
    pub fn within(&self, window_secs: f64) -> bool {
        self.estimate_secs.is_some_and(|s| s <= window_secs)
    }
}

/// `Some(s)` for a finite, non-negative `s` within [`MAX_HORIZON_SECS`], otherwise `None`.
pub(crate) fn horizon(secs: f64) -> Option<f64> {
    (0.0..=MAX_HORIZON_SECS).contains(&secs).then_some(secs)
}
