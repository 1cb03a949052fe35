//! Seasonal forecaster.
