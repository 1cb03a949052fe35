//! Forecasting model families, one module each, all with the same shape: a validated
//! configuration, `fit` on history returning a fitted model, and `forecast(horizon, level)`.

pub mod changepoint;
pub mod crossing;
pub mod dist;
pub mod linear;
pub mod prophet;
pub mod sarima;
pub mod seasonal;
pub mod smoothing;
pub mod traffic;
