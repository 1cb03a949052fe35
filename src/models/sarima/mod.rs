//! SARIMA placeholder docs (expanded below).

mod kalman;
mod linalg;
mod model;
mod optim;
mod poly;
mod prepare;

pub use model::{Coefficients, FittedSarima, FourierTerms, Method, Order, SarimaModel, Transform};
pub use prepare::{Regressor, MAX_GAP_STEPS};
