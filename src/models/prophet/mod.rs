//! A Prophet-style forecaster: Prophet's model (augurs' implementation of its features,
//! scaling and prediction) with the MAP estimate computed by seer's own L-BFGS instead of Stan.
//!
//! # Model
//!
//! Taylor and Letham (2018, "Forecasting at scale", The American Statistician 72(1)), on
//! Prophet's scaled data (`y / max|y|`, time mapped to [0, 1] over the history):
//!
//! ```text
//! y_t     = trend_t * (1 + sum_j X_tj s_m,j beta_j) + sum_j X_tj s_a,j beta_j + eps_t
//! trend_t = (k + sum_j [t >= c_j] delta_j) t + (m - sum_j [t >= c_j] c_j delta_j)
//! X       = sin/cos(2 pi n t / P) for the daily (P = 1 day, n <= 4) and weekly (P = 7 days,
//!           n <= 3) seasonalities; s_a / s_m flag additive / multiplicative columns
//! priors  : k, m ~ N(0, 5); delta_j ~ Laplace(0, tau); beta_j ~ N(0, sigma_j);
//!           sigma ~ N+(0, 0.5); eps_t ~ N(0, sigma^2)
//! ```
//!
//! with 25 potential changepoints `c_j` evenly spread over the first 80% of the history. The
//! fit maximises the log-posterior ([`map::Objective`] writes it and its gradient out) by
//! L-BFGS (argmin), as Prophet does through Stan's optimiser; `sigma` is optimised on the log
//! scale without the Jacobian term, which is Stan's `optimize` default and so Prophet's MAP.
//! `|delta|` is smoothed by `1e-6` so that the gradient exists at 0 ([`map::ABS_SMOOTHING`]).
//!
//! The band: Prophet's simulation of future trend changes plus observation noise, drawn from
//! a seeded generator (see [`FittedProphet::forecast`]).
//!
//! # Limitations
//!
//! - The logistic (saturating) trend, holidays and extra regressors are not offered.
//! - Only the MAP estimate: no MCMC, so seasonal-coefficient uncertainty is not in the band
//!   (as in Prophet's default).
//! - Fitting costs `O(T (K + S))` per objective evaluation and a few hundred evaluations; it
//!   is much slower than [`crate::models::seasonal`] and meant for batch use and as the
//!   accuracy reference.

pub mod map;
mod model;

pub use map::{Captured, LbfgsOptimizer, Objective};
pub use model::{FittedProphet, ProphetModel, HOUR_SECS};
