//! The `seer serve` configuration file and the command-line flags that override it.
//!
//! The file is YAML. Every key is optional and has the default shown; unknown keys are errors
//! naming the file, line and key. A minimal file:
//!
//! ```yaml
//! listen_address: 127.0.0.1:9977
//! rules: [models/default.yaml]
//! state_dir: /var/lib/seer
//! alertmanager:
//!   urls: [http://127.0.0.1:9093]
//! ```
//!
//! The README lists every key; the doc comment of each field below is the reference.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::alert::{AlertmanagerConfig, LifecycleConfig};
use crate::error::Error;
use crate::time::parse_duration;

/// Where the server listens when nothing says otherwise: loopback only.
pub const DEFAULT_LISTEN_ADDRESS: &str = "127.0.0.1:9977";

/// Everything `seer serve` can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Address and port to listen on. Default `127.0.0.1:9977` (loopback only); use
    /// `0.0.0.0:9977` to accept remote_write from other machines.
    pub listen_address: String,
    /// Rule files; a directory stands for the `*.yaml` and `*.yml` files in it. Default
    /// `[models/default.yaml]`.
    pub rules: Vec<PathBuf>,
    /// Directory for checkpoints and the spool of undelivered alerts; created if missing.
    /// Default none: nothing survives a restart and undelivered alerts are kept in memory only.
    pub state_dir: Option<PathBuf>,
    /// Alertmanagers to send alerts to (see [`AlertmanagerConfig`]: `urls`,
    /// `max_batch_size` 64, `timeout_ms` 10000, `max_attempts` 3, `initial_backoff_ms` 500,
    /// `max_backoff_ms` 5000). Default: no URL; alerts are then only logged.
    pub alertmanager: AlertmanagerConfig,
    /// Alert timing (see [`LifecycleConfig`]: `resend_delay_ms` 60000,
    /// `resolved_retention_ms` 900000, `eval_interval_ms` 60000). Set `eval_interval_ms` to
    /// your scrape interval.
    pub lifecycle: LifecycleConfig,
    /// Request and queue limits.
    pub limits: LimitsConfig,
    /// How scoring is split across cores.
    pub scoring: ScoringConfig,
    /// Seconds between two checkpoints of the state (when `state_dir` is set). Default 60.
    /// A checkpoint is also written on SIGTERM and SIGINT.
    pub checkpoint_interval_secs: u64,
    /// A series with no sample for this long has its alerts evaluated as if the condition no
    /// longer held (so a firing alert resolves), as Prometheus does when a series goes away.
    /// Default 300 (Prometheus' 5-minute lookback).
    pub stale_after_secs: u64,
    /// A series with no sample for this long, and no alert still being reported, is dropped
    /// from memory and from checkpoints. Default 1209600 (14 days, the default `history` of a
    /// rule: after that gap a detector would start learning again anyway).
    pub forget_after_secs: u64,
    /// Seconds between two sweeps for stale and forgotten series. Default 10.
    pub sweep_interval_secs: u64,
    /// Undelivered alerts.
    pub spool: SpoolConfig,
    /// History loaded before serving.
    pub warm_start: WarmStartConfig,
    /// `json`, `text` or `auto` (text when standard output is a terminal, JSON lines
    /// otherwise). Default `auto`.
    pub log_format: LogFormat,
}

/// Request and queue limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body accepted, as sent (snappy-compressed for remote_write); larger
    /// requests get 413. Default 33554432 (32 MiB). Prometheus sends about 10 KB per 500
    /// samples.
    pub max_body_bytes: usize,
    /// Largest remote_write body after snappy decompression; larger gets 413. Default
    /// 268435456 (256 MiB).
    pub max_decoded_bytes: usize,
    /// Decoded requests waiting to be scored. When the queue is full, writes get 503 and
    /// Prometheus retries them. Default 256 (about 128,000 samples at Prometheus' 500
    /// samples per request).
    pub queue_capacity_batches: usize,
}

/// How scoring is split across cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    /// Series shards, each with its own lock; a scoring round scores the shards in parallel.
    /// Default 0: one per core.
    pub shards: usize,
    /// Most queued requests merged into one scoring round. Default 64.
    pub max_batches_per_round: usize,
}

/// Undelivered alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Seconds between two attempts to deliver spooled alerts. Default 5.
    pub redeliver_interval_secs: u64,
    /// Most batches kept per Alertmanager; past it the oldest are dropped (and counted).
    /// Default 10000.
    pub max_batches: usize,
}

/// History loaded before serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WarmStartConfig {
    /// seer Parquet (or CSV) history files to learn from before serving. Default none.
    pub history: Vec<PathBuf>,
    /// Prometheus base URL to load the history of every series the rules match from, through
    /// `/api/v1/query_range`. Default none.
    pub backfill_url: Option<String>,
    /// How far back to backfill. Default 1209600 (14 days).
    pub backfill_window_secs: u64,
    /// Resolution of backfilled history. Default 60.
    pub backfill_step_secs: u64,
    /// Time limit of one query_range request. Default 60.
    pub backfill_timeout_secs: u64,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen_address: DEFAULT_LISTEN_ADDRESS.to_string(),
            rules: vec![PathBuf::from("models/default.yaml")],
            state_dir: None,
            alertmanager: AlertmanagerConfig::default(),
            lifecycle: LifecycleConfig::default(),
            limits: LimitsConfig::default(),
            scoring: ScoringConfig::default(),
            checkpoint_interval_secs: 60,
            stale_after_secs: 300,
            forget_after_secs: 14 * 86_400,
            sweep_interval_secs: 10,
            spool: SpoolConfig::default(),
            warm_start: WarmStartConfig::default(),
            log_format: LogFormat::Auto,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 32 << 20,
            max_decoded_bytes: 256 << 20,
            queue_capacity_batches: 256,
        }
    }
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            shards: 0,
            max_batches_per_round: 64,
        }
    }
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            redeliver_interval_secs: 5,
            max_batches: 10_000,
        }
    }
}

impl Default for WarmStartConfig {
    fn default() -> Self {
        WarmStartConfig {
            history: Vec::new(),
            backfill_url: None,
            backfill_window_secs: 14 * 86_400,
            backfill_step_secs: 60,
            backfill_timeout_secs: 60,
        }
    }
}

/// Command-line flags; each one that is set replaces the file's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--rules FILE` (repeatable).
    pub rules: Vec<PathBuf>,
    /// `--alertmanager URL` (repeatable): replaces the file's `alertmanager.urls`.
    pub alertmanagers: Vec<String>,
    /// `--state-dir DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--history FILE` (repeatable): replaces `warm_start.history`.
    pub history: Vec<PathBuf>,
    /// `--backfill-url URL`.
    pub backfill_url: Option<String>,
    /// `--backfill-window DURATION` (a Prometheus duration such as `14d`).
    pub backfill_window: Option<String>,
    /// `--log-format json|text|auto`.
    pub log_format: Option<LogFormat>,
}

impl ServeConfig {
    /// Reads the YAML file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when it cannot be read; [`Error::Config`] naming the file, line and key of
    /// a syntax error, an unknown key or a value of the wrong type.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses YAML `text`; `name` (a file name) starts every error.
    ///
    /// # Errors
    ///
    /// As [`ServeConfig::from_file`].
    pub fn parse(text: &str, name: &str) -> Result<Self, Error> {
        if text.trim().is_empty() {
            return Ok(ServeConfig::default());
        }
        marked_yaml::from_yaml(0, text).map_err(|e| Error::Config {
            problems: vec![describe_yaml_error(name, &e)],
        })
    }

    /// The file named by `--config` (or the defaults), with the other flags applied, then
    /// validated.
    ///
    /// # Errors
    ///
    /// As [`ServeConfig::from_file`], and [`ServeConfig::validate`]'s problems.
    pub fn load(overrides: &Overrides) -> Result<Self, Error> {
        let mut config = match &overrides.config {
            Some(path) => Self::from_file(path)?,
            None => ServeConfig::default(),
        };
        config.apply(overrides)?;
        let location = match &overrides.config {
            Some(path) => path.display().to_string(),
            None => "seer serve".to_string(),
        };
        config.validate(&location)?;
        Ok(config)
    }

    /// Applies the flags that are set.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a `--backfill-window` that is not a duration.
    pub fn apply(&mut self, o: &Overrides) -> Result<(), Error> {
        if let Some(listen) = &o.listen {
            self.listen_address = listen.clone();
        }
        if !o.rules.is_empty() {
            self.rules = o.rules.clone();
        }
        if !o.alertmanagers.is_empty() {
            self.alertmanager.urls = o.alertmanagers.clone();
        }
        if let Some(dir) = &o.state_dir {
            self.state_dir = Some(dir.clone());
        }
        if !o.history.is_empty() {
            self.warm_start.history = o.history.clone();
        }
        if let Some(url) = &o.backfill_url {
            self.warm_start.backfill_url = Some(url.clone());
        }
        if let Some(window) = &o.backfill_window {
            let ms = parse_duration(window)
                .filter(|ms| *ms > 0)
                .ok_or_else(|| Error::Config {
                    problems: vec![format!(
                        "--backfill-window: {window:?} is not a positive duration such as 14d"
                    )],
                })?;
            self.warm_start.backfill_window_secs = (ms / 1000).max(1) as u64;
        }
        if let Some(format) = o.log_format {
            self.log_format = format;
        }
        Ok(())
    }

    /// Checks every value; `location` (the file, or `seer serve`) starts each problem.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing every bad key with its value.
    pub fn validate(&self, location: &str) -> Result<(), Error> {
        let mut problems = Vec::new();
        if let Err(e) = self.listen_address.parse::<SocketAddr>() {
            problems.push(format!(
                "{location}: listen_address: {:?}: {e} (expected host:port, such as {})",
                self.listen_address, DEFAULT_LISTEN_ADDRESS
            ));
        }
        if self.rules.is_empty() {
            problems.push(format!(
                "{location}: rules: at least one rule file is required"
            ));
        }
        if !self.alertmanager.urls.is_empty() {
            if let Err(Error::Config { problems: more }) = self
                .alertmanager
                .validate(&format!("{location}: alertmanager"))
            {
                problems.extend(more);
            }
        }
        if let Err(Error::Config { problems: more }) =
            self.lifecycle.validate(&format!("{location}: lifecycle"))
        {
            problems.extend(more);
        }
        let mut positive = |value: u64, key: &str| {
            if value == 0 {
                problems.push(format!("{location}: {key}: 0 must be > 0"));
            }
        };
        positive(self.limits.max_body_bytes as u64, "limits.max_body_bytes");
        positive(
            self.limits.max_decoded_bytes as u64,
            "limits.max_decoded_bytes",
        );
        positive(
            self.limits.queue_capacity_batches as u64,
            "limits.queue_capacity_batches",
        );
        positive(
            self.scoring.max_batches_per_round as u64,
            "scoring.max_batches_per_round",
        );
        positive(self.checkpoint_interval_secs, "checkpoint_interval_secs");
        positive(self.stale_after_secs, "stale_after_secs");
        positive(self.forget_after_secs, "forget_after_secs");
        positive(self.sweep_interval_secs, "sweep_interval_secs");
        positive(
            self.spool.redeliver_interval_secs,
            "spool.redeliver_interval_secs",
        );
        positive(self.spool.max_batches as u64, "spool.max_batches");
        positive(
            self.warm_start.backfill_window_secs,
            "warm_start.backfill_window_secs",
        );
        positive(
            self.warm_start.backfill_step_secs,
            "warm_start.backfill_step_secs",
        );
        positive(
            self.warm_start.backfill_timeout_secs,
            "warm_start.backfill_timeout_secs",
        );
        if let Some(url) = &self.warm_start.backfill_url {
            match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                Ok(u) => problems.push(format!(
                    "{location}: warm_start.backfill_url: {url:?}: scheme {:?} is not http or https",
                    u.scheme()
                )),
                Err(e) => problems.push(format!(
                    "{location}: warm_start.backfill_url: {url:?}: {e}"
                )),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config { problems })
        }
    }

    /// The listen address (valid after [`ServeConfig::validate`]).
    pub fn socket_addr(&self) -> Result<SocketAddr, Error> {
        self.listen_address.parse().map_err(|e| Error::Config {
            problems: vec![format!("listen_address: {:?}: {e}", self.listen_address)],
        })
    }
}

/// `file:line: key: message` from a YAML error, as far as the error knows them.
fn describe_yaml_error(name: &str, error: &marked_yaml::FromYamlError) -> String {
    use marked_yaml::FromYamlError;
    match error {
        FromYamlError::ParseYaml(e) => format!("{name}: {e}"),
        // The error's own text starts with the key path (`limits.max_body: ...`).
        FromYamlError::FromNode(e) => match e.start_mark() {
            Some(mark) => format!("{name}:{}: {e}", mark.line()),
            None => format!("{name}: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_for_an_empty_file() {
        let config = ServeConfig::parse("", "seer.yml").unwrap();
        assert_eq!(config, ServeConfig::default());
        assert_eq!(config.listen_address, "127.0.0.1:9977");
        assert!(config.validate("seer.yml").is_ok());
    }

    #[test]
    fn every_section_parses_and_flags_override() {
        let text = "\
listen_address: 127.0.0.1:1234
rules: [a.yaml]
state_dir: /tmp/x
alertmanager: {urls: [http://127.0.0.1:9093], max_attempts: 5}
lifecycle: {resend_delay_ms: 2000}
limits: {max_body_bytes: 1000}
scoring: {shards: 3}
checkpoint_interval_secs: 5
spool: {redeliver_interval_secs: 1}
warm_start: {history: [h.parquet], backfill_step_secs: 15}
log_format: json
";
        let mut config = ServeConfig::parse(text, "seer.yml").unwrap();
        assert_eq!(config.alertmanager.max_attempts, 5);
        assert_eq!(config.alertmanager.timeout_ms, 10_000);
        assert_eq!(config.lifecycle.resend_delay_ms, 2000);
        assert_eq!(config.limits.max_body_bytes, 1000);
        assert_eq!(config.limits.queue_capacity_batches, 256);
        assert_eq!(config.scoring.shards, 3);
        assert_eq!(config.warm_start.backfill_step_secs, 15);
        assert_eq!(config.log_format, LogFormat::Json);

        config
            .apply(&Overrides {
                listen: Some("127.0.0.1:9".into()),
                alertmanagers: vec!["http://a:1".into(), "http://b:2".into()],
                backfill_window: Some("2d".into()),
                ..Overrides::default()
            })
            .unwrap();
        assert_eq!(config.listen_address, "127.0.0.1:9");
        assert_eq!(config.alertmanager.urls.len(), 2);
        assert_eq!(config.warm_start.backfill_window_secs, 2 * 86_400);
        assert_eq!(config.rules, vec![PathBuf::from("a.yaml")]);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file_and_key() {
        let err = ServeConfig::parse("limits:\n  max_body: 5\n", "seer.yml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("seer.yml:"), "{err}");
        assert!(err.contains("max_body"), "{err}");

        let config = ServeConfig {
            listen_address: "nowhere".into(),
            checkpoint_interval_secs: 0,
            ..ServeConfig::default()
        };
        let err = config.validate("seer.yml").unwrap_err().to_string();
        assert!(
            err.contains("seer.yml: listen_address: \"nowhere\""),
            "{err}"
        );
        assert!(
            err.contains("seer.yml: checkpoint_interval_secs: 0 must be > 0"),
            "{err}"
        );

        let mut config = ServeConfig::default();
        let err = config
            .apply(&Overrides {
                backfill_window: Some("two weeks".into()),
                ..Overrides::default()
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("--backfill-window"), "{err}");
    }
}
