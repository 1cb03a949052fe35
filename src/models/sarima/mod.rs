//! SARIMA placeholder docs (expanded below).

mod auto;
mod kalman;
mod linalg;
mod model;
mod optim;
mod poly;
mod prepare;

pub use model::{Coefficients, FittedSarima, FourierTerms, Method, Order, SarimaModel, Transform};
pub use prepare::{Regressor, MAX_GAP_STEPS};
pub use auto::{
    kpss, prefers_log, seasonal_strength, AutoSarima, FittedAutoSarima, SearchSummary, TransformRule,
};
