//! Benchmark scorers: how seer's detectors and models are measured against public benchmarks,
//! each implementing the benchmark's published scoring rules so that results compare with the
//! published tables.
//!
//! - [`nab`]: the Numenta Anomaly Benchmark (windowed, time-weighted anomaly detection score);
//! - [`tcpd`]: the Turing Change Point Dataset (F1 with a margin, and segment covering), and
//!   [`tcpd_run`], which runs seer's batch change-point detector over it;
//! - [`m4`]: the M4 forecasting competition, hourly series (sMAPE, MASE, OWA, Naive2);
//! - [`m4_run`]: fits seer's forecasting models to M4 hourly and scores them.

pub mod m4;
pub mod m4_run;
pub mod nab;
pub mod tcpd;
pub mod tcpd_run;

pub use nab::{load_detector_scores, score_corpus, NabCorpus, NabReport};
