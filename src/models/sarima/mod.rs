//! SARIMA: seasonal ARIMA in state-space form, fitted by exact maximum likelihood, with
//! automatic order selection, Fourier terms for a second season, and forecasts with
//! prediction intervals. The traffic-prediction model.
//!
//! # Model
//!
//! Regression with SARIMA(p,d,q)(P,D,Q)m errors (Box, Jenkins, Reinsel and Ljung 2015, "Time
//! Series Analysis", chapter 9; Hyndman and Athanasopoulos, FPP3 section 10.2), on `g(y)`
//! with `g` the identity or `ln`:
//!
//! ```text
//! g(y_t) = x_t' beta + u_t
//! phi(B) Phi(B^m) (1 - B)^d (1 - B^m)^D u_t = theta(B) Theta(B^m) e_t,   e_t ~ N(0, sigma^2)
//! phi(B)   = 1 - phi_1 B - ... - phi_p B^p        Phi(B^m)   = 1 - Phi_1 B^m - ...
//! theta(B) = 1 + theta_1 B + ... + theta_q B^q    Theta(B^m) = 1 + Theta_1 B^m + ...
//! ```
//!
//! `x_t` holds an optional constant (the mean when `d + D = 0`, a linear trend, i.e. a drift,
//! when `d + D = 1`) and Fourier terms `sin(2 pi k t / P)`, `cos(2 pi k t / P)`, `k <= K`, for a
//! second period `P` (weekly, `P = 168`, on hourly data): the approach of Hyndman and
//! Athanasopoulos (FPP3 section 12.1, "dynamic harmonic regression") for multiple seasonality.
//!
//! **Likelihood.** The series and regressors are differenced; the differenced errors
//! `w_t = (1 - B)^d (1 - B^m)^D u_t` are a stationary ARMA process, put in Harvey's
//! state-space form and started from its stationary distribution (the discrete Lyapunov
//! equation, solved through the autocovariances as in Gardner, Harvey and Phillips 1980). The
//! Kalman filter gives the exact Gaussian log-likelihood of the `n - d - mD` differenced
//! values, with `sigma^2` and `beta` concentrated out (generalised least squares on the
//! filtered regressors); see the `kalman` module for the equations. This is the likelihood of
//! the differenced data, which equals the exact diffuse likelihood of the original series
//! (Durbin and Koopman 2012, section 5.7); it is what statsmodels' SARIMAX computes with
//! `simple_differencing=True, concentrate_scale=True`, which the golden tests check.
//!
//! **Estimation.** Coefficients are optimised without constraints through the
//! reparameterisation of Jones (1980) and Monahan (1984): unconstrained reals become partial
//! autocorrelations in (-1, 1), and the Durbin–Levinson recursion turns those into the
//! coefficients of a stationary AR (or, with the sign flipped, an invertible MA) polynomial,
//! separately for each of the four polynomials. Starting values come from minimising the
//! conditional sum of squares (CSS, Box et al. section 7.1); the exact likelihood is then
//! maximised by L-BFGS (argmin) with a finite-difference gradient ("CSS-ML", as R's `arima`).
//!
//! **Order selection** ([`AutoSarima`], Hyndman and Khandakar 2008, "Automatic time series
//! forecasting: the forecast package for R", JSS 27(3)): `D = 1` when the STL seasonal
//! strength `max(0, 1 - Var(R) / Var(S + R))` is at least 0.64 (the forecast package's
//! `nsdiffs(test = "seas")`); then `d` is increased while the KPSS test (Kwiatkowski et al.
//! 1992, lag `floor(4 (n/100)^(1/4))`) rejects level stationarity at 5%, up to 2. The ARMA
//! orders come from the stepwise search of Hyndman and Khandakar (four starting models, then
//! moves of `p`, `q`, `P`, `Q` by one, `p` with `q`, `P` with `Q`, and the constant switched,
//! while AICc improves), comparing CSS fits on a common sample as their "approximation"
//! option does for long seasonal series; the winner is refitted by exact maximum likelihood.
//! The log transform is chosen by rule ([`prefers_log`]): all values positive and the
//! seasonal swing correlated with the level.
//!
//! **Forecasts.** The ARMA state after the last observation gives the differenced forecasts;
//! the differencing is undone recursively and the regression added back. The forecast
//! variance is the exact one given the filtered state: `g_h' P g_h + sigma^2 sum_{j<h-1}
//! psi_j^2`, with `psi` the weights of the whole ARIMA model (Box et al. section 5.2) and
//! `P` the final state covariance. Bands are Gaussian on the transformed scale and mapped back;
//! under `ln` the mean forecast is the median.
//!
//! **Update.** [`FittedSarima::update`] runs one Kalman step per new value: `O(r^2)` for state
//! dimension `r = max(p + mP, q + mQ + 1)`, independent of the history.
//!
//! # Input
//!
//! Values must be regularly spaced at the model's step. Sub-step samples (e.g. 15 s scrapes
//! for an hourly model) are aggregated first by the mean per step, the right aggregate for
//! rates such as request rates ([`crate::models::traffic::aggregate_mean`]); steps without
//! samples become NaN. Interior runs of up to [`MAX_GAP_STEPS`] NaNs are filled by linear
//! interpolation; longer gaps, or a missing first or last value, are errors naming the
//! position.
//!
//! # Limitations
//!
//! - At most `d = 2`, `D = 1`; the search uses `P, Q <= 1` (see [`AutoSarima::new`]).
//! - Fitting costs `O(k n r^2)` per optimiser iteration; with a daily season on hourly data
//!   (`r` about 30) a fit takes around a second, so it runs in the background refits, not per
//!   sample.
//! - Prediction intervals ignore the uncertainty of the estimated coefficients (as R's and
//!   statsmodels' do).
//! - A series that differencing (and the regression) makes exactly constant has no ARMA
//!   part: [`AutoSarima`] then fits `ARIMA(0,d,0)(0,D,0)` with zero variance and says so in
//!   [`SearchSummary::degenerate`]; a fixed-order [`SarimaModel`] returns an error.

mod auto;
mod kalman;
mod linalg;
mod model;
mod optim;
mod poly;
mod prepare;

pub use auto::{
    kpss, prefers_log, seasonal_strength, AutoSarima, FittedAutoSarima, SearchSummary,
    TransformRule, KPSS_CRITICAL_5PCT, SEASONAL_STRENGTH_THRESHOLD,
};
pub use model::{Coefficients, FittedSarima, FourierTerms, Method, Order, SarimaModel, Transform};
pub use prepare::{Regressor, MAX_GAP_STEPS};
