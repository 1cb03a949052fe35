//! Exponential smoothing with a trend: Holt's linear method and its damped form, for growth
//! that may be slowing down (memory that approaches a plateau).
//!
//! # Model
//!
//! ETS(A,Ad,N), the additive-error state-space form of damped Holt (Hyndman, Koehler, Ord and
//! Snyder 2008, "Forecasting with Exponential Smoothing: The State Space Approach", §2.5 and
//! Table 2.2), for regularly spaced `y_1..y_n`:
//!
//! ```text
//! ŷ_t = l_{t-1} + φ b_{t-1}                    one-step forecast
//! e_t = y_t - ŷ_t
//! l_t = l_{t-1} + φ b_{t-1} + α e_t            level
//! b_t = φ b_{t-1} + β e_t                      trend (change per step)
//! ŷ_{n+h} = l_n + (φ + φ² + … + φ^h) b_n       h steps ahead
//! ```
//!
//! `φ = 1` is Holt's linear trend (ETS(A,A,N)); `φ < 1` makes the trend die out, so the
//! forecast levels off at `l_n + b_n φ / (1 - φ)`. At `α = 0` the level only follows the trend;
//! at `α = 1` it jumps to every value. At `β = 0` the trend never changes; at `β = α` it moves
//! as fast as the level.
//!
//! **Fitting.** `l_0` and `b_0` come from a least-squares line through the first ten values.
//! `α ∈ (0, 1)`, `β ∈ (0, α)` and `φ ∈ [0.8, `[`PHI_MAX`]`]` minimise the sum of squared one-step
//! errors (the maximum-likelihood criterion for Gaussian additive errors, Hyndman et al. 2008
//! §5.2), found by a coarse grid and then Nelder–Mead (Nelder and Mead 1965) on logistic
//! transforms of the three parameters. [`TrendSelection::Auto`] fits both forms and keeps the
//! one with the smaller AICc, `n ln(SSE/n) + 2k + 2k(k+1)/(n-k-1)` with `k` = 5 (Holt: α, β,
//! l_0, b_0, σ²) or 6 (damped: also φ) (§7.1).
//!
//! **Intervals.** The h-step forecast variance is (Hyndman et al. 2008, Table 6.1, class 1)
//!
//! ```text
//! v_h = σ² (1 + Σ_{j=1}^{h-1} c_j²),   c_j = α + β (φ + … + φ^j)
//! ```
//!
//! with `σ² = SSE / (n - k)`, and the band is `ŷ ± z_{(1+p)/2} √v_h`. The time to a threshold
//! (see [`Crossing`](crate::models::crossing::Crossing)) is found by walking this band forward step by step: the first step where
//! the upper edge, the mean and the lower edge reach the level, linearly interpolated within
//! the step.
//!
//! # Limitations
//!
//! - No seasonality: a daily cycle is noise to this model and widens the band. Capacity series
//!   are usually averaged to steps of many minutes first, which removes most of it.
//! - Intervals ignore the uncertainty of the fitted parameters, so they are too narrow on short
//!   histories.
//! - `φ` stops at [`PHI_MAX`]: a trend that decays more slowly than that per step is fitted as
//!   Holt's undamped trend or as the slowest damping allowed.

mod fit;

pub use fit::{FittedHolt, HoltModel, TrendSelection, PHI_MAX, PHI_MIN};

#[cfg(test)]
mod tests;
