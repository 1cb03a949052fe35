//! seer: streaming time-series analytics and anomaly detection for Prometheus users.
//!
//! The crate is organised by stage of the data path (see `DESIGN.md` in the shared design notes
//! and the README):
//!
//! - [`series`]: label sets, fingerprints and the series dictionary;
//! - [`batch`]: the fixed Arrow schema samples travel in between stages;
//! - [`ingest`]: decoders from CSV and Parquet (and later remote_write) into batches;
//! - [`rules`]: the YAML rule files, their validation and PromQL-style selectors;
//! - [`models`]: forecasting model families, one module each;
//! - [`detect`]: per-series detectors that turn a model into anomaly verdicts;
//! - [`alert`]: the alert state machine and the sinks alerts leave through;
//! - [`replay`]: feeds history through the streaming stages with event time;
//! - [`serve`]: the detector service on Prometheus remote_write.

pub mod alert;
pub mod batch;
pub mod detect;
pub mod engine;
pub mod error;
pub mod eval;
pub mod generate;
pub mod ingest;
pub mod models;
#[cfg(feature = "plan")]
pub mod plan;
pub mod replay;
pub mod rules;
pub mod series;
pub mod serve;
pub mod time;

pub use error::{Error, Result};
