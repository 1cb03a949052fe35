//! Anomaly scores from forecast errors: how rare an error is against the series' own recent
//! errors, and how much rarer than anything the series did in the last few samples.
//!
//! # Method
//!
//! For each judged sample the detector hands over its absolute one-step forecast error `|e_t|`
//! and a resolution floor `f_t` (see below). With `E` the last [`SurpriseConfig::errors`]
//! absolute errors (the current one excluded), sorted, the **tail probability** of the
//! current error is
//!
//! ```text
//! x   = |e_t| - f_t
//! p_t = 1                                      if x <= 0
//!     = #{E >= x} / |E|                        if x <= u      (u: the 98th percentile of E)
//!     = 0.02 * exp(-(x - u) / s)               if x > u       (s: mean excess of E over u)
//! ```
//!
//! the empirical survival function, continued beyond the 98th percentile by an exponential
//! (generalised Pareto, shape 0) tail fitted by maximum likelihood to the excesses: the
//! peaks-over-threshold method (Pickands 1975; Balkema and de Haan 1974) as Siffer et al.
//! 2017 ("Anomaly Detection in Streams with Extreme Value Theory", KDD) use it on streams.
//! It is the same tail the seasonal band uses ([`crate::models::seasonal::tail_quantile`]),
//! so each series is judged against its own noise: a heavy-tailed metric needs a much larger
//! error than a quiet one for the same `p_t`. Turning a forecast residual into a tail
//! probability against its own recent distribution is the idea of the "anomaly likelihood"
//! of Ahmad, Lavin, Purdy and Agha 2017 ("Unsupervised real-time anomaly detection for
//! streaming data", Neurocomputing 262); we use the empirical and extreme-value tail rather
//! than their Gaussian one, because operational metrics are rarely Gaussian.
//!
//! The **novelty** of the sample discounts what the series has just done: with `r_t` the
//! smallest tail probability among the previous [`SurpriseConfig::recent`] samples (1 when
//! there were none),
//!
//! ```text
//! score_t = max(0, 1 - p_t / min(1, r_t))
//! ```
//!
//! A first surprising error scores `1 - p_t`; an error no rarer than one a few samples ago
//! scores 0, and one ten times rarer than the worst recent one scores 0.9. One incident
//! (a spike, the first samples after a level shift, a burst) so gives one high score at its
//! onset and not a run of them, which is what an on-call person and NAB's scoring (early
//! detection credited once per window, every later flag a false positive) both want. An
//! escalating incident keeps scoring, because each new error is rarer than the last.
//!
//! The **resolution floor** `f_t` (a fraction [`SurpriseConfig::resolution`] of the forecast's
//! magnitude) keeps a series whose errors are all exactly zero (a flat line, a noiseless
//! synthetic shape) from calling a floating-point wobble infinitely surprising.
//!
//! # How the score relates to the band
//!
//! The seasonal band at `interval_width` `w` is the `w`-quantile of the same recent errors,
//! so outside the band means `p_t < 1 - w`. When nothing rare happened in the last
//! [`SurpriseConfig::recent`] samples, `score_t = 1 - p_t`, and `score_t > w` exactly when the
//! error (less the floor) is outside the band. During an incident the band keeps flagging
//! every sample outside it (the alert stays firing), while the score only rises again for
//! errors rarer than the incident's worst so far.
//!
//! # Cost
//!
//! O(log n + n/64) per sample for `n` kept errors: a binary search, and an insertion and a
//! removal in a sorted vector (a memmove of at most `n` floats); the recent minimum is a
//! monotonic deque, O(1) amortised.
//!
//! # Limitations
//!
//! - A slow drift whose one-step errors stay ordinary is not seen: the forecast follows it.
//! - An error no larger than recent ones is not news, even if the incident is long; the band
//!   (and the alert lifecycle) covers its duration.
//! - Errors are judged as exchangeable within the window: a change of noise level is learned
//!   within [`SurpriseConfig::errors`] samples, and scores are conservative until then.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::models::seasonal::TAIL_START;

/// Settings of a [`SurpriseScorer`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurpriseConfig {
    /// Absolute errors kept as the reference distribution. More is steadier, fewer adapts
    /// faster to a new noise level.
    pub errors: usize,
    /// Samples whose surprise discounts the current one (the novelty horizon). At 0 every
    /// sample scores `1 - p_t`; large values suppress repeats for longer.
    pub recent: usize,
    /// Errors smaller than this fraction of the forecast's magnitude count as zero.
    pub resolution: f64,
    /// Fewest reference errors before scoring (fewer: score 0).
    pub min_errors: usize,
}

impl Default for SurpriseConfig {
    fn default() -> Self {
        SurpriseConfig {
            errors: 2048,
            recent: 100,
            resolution: 1e-3,
            min_errors: 50,
        }
    }
}

/// Per-series state: recent errors (in arrival order and sorted) and recent tail
/// probabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SurpriseScorer {
    config: SurpriseConfig,
    errors: VecDeque<f64>,
    sorted: Vec<f64>,
    /// (sample number, tail probability), increasing probabilities: the front is the minimum.
    recent: VecDeque<(u64, f64)>,
    seen: u64,
}

/// A sample's tail probability and score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Surprise {
    /// `p_t`: the chance of an error at least this large, in (0, 1].
    pub tail_probability: f64,
    /// The novelty score in [0, 1].
    pub score: f64,
}

impl SurpriseScorer {
    /// A scorer with no history.
    pub fn new(config: SurpriseConfig) -> Self {
        SurpriseScorer {
            config,
            errors: VecDeque::with_capacity(config.errors + 1),
            sorted: Vec::with_capacity(config.errors + 1),
            recent: VecDeque::new(),
            seen: 0,
        }
    }

    /// Seeds the reference distribution (for example with a fit's one-step errors) without
    /// scoring; only the last [`SurpriseConfig::errors`] are kept.
    pub fn seed(&mut self, abs_errors: impl IntoIterator<Item = f64>) {
        for e in abs_errors {
            self.push_error(e);
        }
    }

    /// Number of reference errors held.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no reference error is held yet.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The reference errors, sorted.
    pub fn sorted_errors(&self) -> &[f64] {
        &self.sorted
    }

    /// Scores one absolute error with resolution floor `floor`, then adds it to the reference.
    pub fn observe(&mut self, abs_error: f64, floor: f64) -> Surprise {
        let p = if self.sorted.len() < self.config.min_errors.max(1) {
            1.0
        } else {
            tail_probability(&self.sorted, abs_error - floor.max(0.0))
        };
        let reference = self.recent.front().map_or(1.0, |(_, r)| r.min(1.0));
        let score = (1.0 - p / reference).clamp(0.0, 1.0);

        // Keep the recent minimum: drop expired entries and those no smaller than `p`.
        self.seen += 1;
        while let Some(&(_, r)) = self.recent.back() {
            if r >= p {
                self.recent.pop_back();
            } else {
                break;
            }
        }
        self.recent.push_back((self.seen, p));
        let horizon = self.config.recent as u64;
        while let Some(&(at, _)) = self.recent.front() {
            if at + horizon <= self.seen {
                self.recent.pop_front();
            } else {
                break;
            }
        }

        if abs_error.is_finite() {
            self.push_error(abs_error);
        }
        Surprise {
            tail_probability: p,
            score,
        }
    }

    fn push_error(&mut self, e: f64) {
        let at = self.sorted.partition_point(|x| *x < e);
        self.sorted.insert(at, e);
        self.errors.push_back(e);
        if self.errors.len() > self.config.errors.max(1) {
            if let Some(old) = self.errors.pop_front() {
                let at = self.sorted.partition_point(|x| *x < old);
                self.sorted.remove(at);
            }
        }
    }
}

/// `P(E >= x)` for sorted non-negative errors: empirical up to their [`TAIL_START`] quantile,
/// an exponential tail fitted to the excesses beyond it (see the module docs). 1 for `x <= 0`
/// or no errors.
pub fn tail_probability(sorted: &[f64], x: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || x <= 0.0 || x.is_nan() {
        return 1.0;
    }
    let u_at = ((TAIL_START * (n - 1) as f64) as usize).min(n - 1);
    let u = sorted[u_at];
    if x <= u {
        let at_least = n - sorted.partition_point(|e| *e < x);
        return at_least.max(1) as f64 / n as f64;
    }
    let excess = &sorted[u_at + 1..];
    let scale = if excess.is_empty() {
        0.0
    } else {
        excess.iter().sum::<f64>() / excess.len() as f64 - u
    };
    if scale <= 0.0 {
        // Every error above the threshold equals it: anything larger is beyond all experience.
        return f64::MIN_POSITIVE;
    }
    ((1.0 - TAIL_START) * (-(x - u) / scale).exp()).max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact quantiles of Exp(scale 1): `-ln(1 - (i + 0.5) / n)`.
    fn exponential(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| -(1.0 - (i as f64 + 0.5) / n as f64).ln())
            .collect()
    }

    #[test]
    fn tail_probability_is_empirical_then_exponential() {
        let sorted = exponential(1000);
        // Half the errors are at least the median.
        let median = sorted[500];
        assert!((tail_probability(&sorted, median) - 0.5).abs() < 0.002);
        // Beyond the 98th percentile the survival of Exp(1) is exp(-x): at x = 10 it is
        // 4.54e-5; the fitted tail lands within 20% of it.
        let p = tail_probability(&sorted, 10.0);
        assert!((p / (-10.0f64).exp() - 1.0).abs() < 0.2, "{p}");
        assert_eq!(tail_probability(&sorted, 0.0), 1.0);
        assert_eq!(tail_probability(&[], 3.0), 1.0);
    }

    #[test]
    fn a_repeat_of_a_recent_surprise_is_not_news() {
        let mut s = SurpriseScorer::new(SurpriseConfig::default());
        s.seed(exponential(1000).into_iter().map(|e| e * 0.1));
        let first = s.observe(2.0, 0.0);
        assert!(first.score > 0.999, "{first:?}");
        let again = s.observe(2.0, 0.0);
        assert!(again.score < 0.1, "{again:?}");
        // A much larger error is news again (the two errors of 2.0 are now part of the tail,
        // so "larger" has to be well beyond them).
        let larger = s.observe(20.0, 0.0);
        assert!(larger.score > 0.99, "{larger:?}");
        // After the novelty horizon the discount is gone.
        for _ in 0..SurpriseConfig::default().recent {
            s.observe(0.01, 0.0);
        }
        assert!(s.observe(2.0, 0.0).score > 0.99);
    }

    #[test]
    fn errors_within_the_resolution_are_not_surprising() {
        let mut s = SurpriseScorer::new(SurpriseConfig::default());
        s.seed(std::iter::repeat_n(0.0, 500));
        let wobble = s.observe(1e-9, 1e-3);
        assert_eq!(wobble.score, 0.0);
        let step = s.observe(1.0, 1e-3);
        assert!(step.score > 0.999, "{step:?}");
    }

    #[test]
    fn the_window_forgets_old_errors() {
        let config = SurpriseConfig {
            errors: 100,
            ..SurpriseConfig::default()
        };
        let mut s = SurpriseScorer::new(config);
        s.seed((0..500).map(|i| i as f64));
        assert_eq!(s.len(), 100);
        assert_eq!(s.sorted_errors()[0], 400.0);
    }
}
