//! The library's error type, grouped by who has to act on it.
//!
//! - [`Error::Input`]: the data handed to seer is malformed (a CSV line, a Parquet schema). The
//!   producer of the data must fix it.
//! - [`Error::Config`]: a rule file or setting is invalid. The operator must fix it.
//! - [`Error::Resource`]: the machine or a remote peer failed (I/O, network). Retrying may help.
//! - [`Error::Model`]: a model could not be fitted on the data it was given.
//! - [`Error::Internal`]: a bug in seer.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the library returns. Messages name the input they are about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input data. `location` is a file (and line) or another description of the source.
    #[error("{location}: {message}")]
    Input { location: String, message: String },

    /// Invalid configuration or rules; each problem names file, line, key and value.
    #[error("{}", .problems.join("\n"))]
    Config { problems: Vec<String> },

    /// An I/O failure on a path.
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A remote peer (Alertmanager, Prometheus) failed or refused.
    #[error("{peer}: {message}")]
    Remote { peer: String, message: String },

    /// A model could not be fitted or could not forecast.
    #[error("model {model}: {message}")]
    Model { model: String, message: String },

    /// A fault in seer itself.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Bad input at `location`.
    pub fn input(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input {
            location: location.into(),
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A model failure.
    pub fn model(model: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Model {
            model: model.into(),
            message: message.into(),
        }
    }
}
