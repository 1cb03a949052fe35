//! `seer serve`: the long-running detector service on Prometheus remote_write.
//!
//! ```text
//! Prometheus ─remote_write─> http (decode to Arrow batches) ─bounded queue─> scoring thread
//!                                                                 │ shards in parallel (rayon)
//!     Alertmanager(s) <─ delivery workers + spool <─ notifications ┘
//!     state_dir/ <─ checkpoints (periodic, SIGTERM/SIGINT);  sweeps for silent series
//! ```
//!
//! - [`config`], the configuration file and flags;
//! - [`http`], the HTTP API and its status codes;
//! - [`remote_write`] and [`push`], the request decoders;
//! - [`scoring`], shards and scoring rounds;
//! - [`state`], checkpoints;
//! - [`spool`], delivery to Alertmanager with a disk spool;
//! - [`warm`], history files and Prometheus backfill;
//! - [`metrics`] and [`logging`], telemetry.
//!
//! [`Server`] ties them together: [`Server::bind`] loads the rules and binds the address,
//! [`Server::run`] serves until its shutdown future completes.

pub mod config;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod push;
pub mod remote_write;
mod run;
pub mod scoring;
pub mod spool;
pub mod state;
pub mod warm;

pub use config::{LogFormat, Overrides, ServeConfig};
pub use run::{now_ms, run, shutdown_signal, Server};
