//! Delivery to Prometheus Alertmanager through its API v2.
//!
//! Every batch goes to every configured Alertmanager (`POST {url}/api/v2/alerts`), as Prometheus
//! does for a high-availability pair, in requests of at most `max_batch_size` alerts. Connection
//! failures, timeouts and 5xx replies are retried with exponential backoff up to `max_attempts`
//! attempts; any other reply that is not 2xx is final and reported with its body, because
//! Alertmanager answers 4xx only for alerts it will never accept.
//!
//! A batch counts as delivered when at least one Alertmanager took all of it; the failures of the
//! others are logged as warnings. When all fail, the error names each URL and what it answered.
//!
//! [`AlertmanagerClient`] is async, for the service. [`AlertmanagerSink`] wraps it with a small
//! runtime of its own for batch commands such as `replay`, and implements [`Sink`].
//!
//! # Limitations
//!
//! No authentication or custom TLS settings yet; Alertmanager behind a proxy that needs them
//! cannot be reached. A batch that Alertmanager refuses with 400 may still have been partly
//! stored (0.25 keeps the valid alerts of a mixed batch).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::notification::Notification;
use super::payload::alertmanager_body;
use super::sink::Sink;
use crate::error::Error;

/// The path alerts are posted to, below each base URL.
pub const ALERTS_PATH: &str = "/api/v2/alerts";

/// Longest part of a refusal's body quoted in an error.
const MAX_BODY_IN_ERROR: usize = 512;

/// Where and how to send alerts to Alertmanager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertmanagerConfig {
    /// Base URLs of the Alertmanagers, such as `http://127.0.0.1:9093` (a path prefix is kept:
    /// `http://proxy/am` posts to `http://proxy/am/api/v2/alerts`). Every alert goes to all of
    /// them. Default: none; at least one is required.
    pub urls: Vec<String>,
    /// Most alerts in one request. Default 64, as Prometheus' notifier.
    pub max_batch_size: usize,
    /// Time limit for one request, in milliseconds. Default 10000 (Prometheus' default).
    pub timeout_ms: u64,
    /// Attempts per request, the first included; 1 disables retries. Default 3.
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; it doubles for each further retry.
    /// Default 500.
    pub initial_backoff_ms: u64,
    /// Longest wait between two attempts, in milliseconds. Default 5000.
    pub max_backoff_ms: u64,
}

impl Default for AlertmanagerConfig {
    fn default() -> Self {
        AlertmanagerConfig {
            urls: Vec::new(),
            max_batch_size: 64,
            timeout_ms: 10_000,
            max_attempts: 3,
            initial_backoff_ms: 500,
            max_backoff_ms: 5_000,
        }
    }
}

impl AlertmanagerConfig {
    /// A default configuration for `urls`.
    pub fn new<S: Into<String>>(urls: impl IntoIterator<Item = S>) -> Self {
        AlertmanagerConfig {
            urls: urls.into_iter().map(Into::into).collect(),
            ..AlertmanagerConfig::default()
        }
    }

    /// Checks the values. `location` names where the config came from and starts every problem.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] listing every bad field with its value.
    pub fn validate(&self, location: &str) -> Result<(), Error> {
        let mut problems = Vec::new();
        if self.urls.is_empty() {
            problems.push(format!(
                "{location}: urls: at least one Alertmanager URL is required"
            ));
        }
        for url in &self.urls {
            if let Err(reason) = parse_base_url(url) {
                problems.push(format!("{location}: urls: {url:?}: {reason}"));
            }
        }
        let mut positive = |ok: bool, key: &str, value: u64| {
            if !ok {
                problems.push(format!("{location}: {key}: {value} must be > 0"));
            }
        };
        positive(
            self.max_batch_size > 0,
            "max_batch_size",
            self.max_batch_size as u64,
        );
        positive(self.timeout_ms > 0, "timeout_ms", self.timeout_ms);
        positive(
            self.max_attempts > 0,
            "max_attempts",
            u64::from(self.max_attempts),
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config { problems })
        }
    }

    /// The wait before retry number `retry` (1 for the first retry):
    /// `min(initial_backoff_ms * 2^(retry - 1), max_backoff_ms)`.
    pub fn backoff_ms(&self, retry: u32) -> u64 {
        let factor = 1u64
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.initial_backoff_ms
            .saturating_mul(factor)
            .min(self.max_backoff_ms)
    }
}

/// Checks a base URL: absolute, `http` or `https`, no query or fragment.
fn parse_base_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", parsed.scheme()));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("a base URL takes no query or fragment".to_string());
    }
    Ok(parsed)
}

/// The alerts endpoint below a base URL.
fn endpoint(base: &str) -> String {
    format!("{}{ALERTS_PATH}", base.trim_end_matches('/'))
}

/// Async Alertmanager client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    http: reqwest::Client,
    endpoints: Arc<[String]>,
    config: Arc<AlertmanagerConfig>,
}

impl AlertmanagerClient {
    /// A client for the Alertmanagers in `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the config is invalid, [`Error::Internal`] when the HTTP client
    /// cannot be built (for example, no TLS root certificates can be loaded).
    pub fn new(config: AlertmanagerConfig) -> Result<Self, Error> {
        config.validate("alertmanager")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .user_agent(concat!("seer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let endpoints = config.urls.iter().map(|url| endpoint(url)).collect();
        Ok(AlertmanagerClient {
            http,
            endpoints,
            config: Arc::new(config),
        })
    }

    /// The full URLs alerts are posted to.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Posts `notifications` to every Alertmanager, concurrently, in batches of at most
    /// `max_batch_size`. Returns once every Alertmanager has taken the batches or failed.
    ///
    /// # Errors
    ///
    /// [`Error::Remote`] when no Alertmanager took all batches, naming each URL with its status
    /// and reply body, or with the connection error after the last attempt.
    pub async fn send(&self, notifications: &[Notification]) -> Result<(), Error> {
        if notifications.is_empty() {
            return Ok(());
        }
        let bodies: Arc<[Vec<u8>]> = notifications
            .chunks(self.config.max_batch_size)
            .map(alertmanager_body)
            .collect();

        let count = notifications.len();
        let mut tasks = JoinSet::new();
        for endpoint in self.endpoints.iter() {
            let (http, config) = (self.http.clone(), Arc::clone(&self.config));
            let (endpoint, bodies) = (endpoint.clone(), Arc::clone(&bodies));
            tasks.spawn(async move {
                for body in bodies.iter() {
                    post_with_retries(&http, &config, &endpoint, body).await?;
                }
                tracing::debug!(
                    alertmanager = %endpoint,
                    alerts = count,
                    "alerts delivered"
                );
                Ok::<(), Error>(())
            });
        }

        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(error)) => failures.push(error),
                Err(join_error) => failures.push(Error::Internal(format!(
                    "alert delivery task failed: {join_error}"
                ))),
            }
        }

        if failures.len() < self.endpoints.len() {
            for failure in &failures {
                tracing::warn!(error = %failure, "alerts not delivered to one Alertmanager");
            }
            return Ok(());
        }
        if failures.len() == 1 {
            return Err(failures.remove(0));
        }
        Err(Error::Remote {
            peer: self.endpoints.join(", "),
            message: failures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

/// One POST with retries on connection errors and 5xx replies.
async fn post_with_retries(
    http: &reqwest::Client,
    config: &AlertmanagerConfig,
    endpoint: &str,
    body: &[u8],
) -> Result<(), Error> {
    let remote = |message: String| Error::Remote {
        peer: endpoint.to_string(),
        message,
    };
    let mut attempt = 1;
    loop {
        let sent = http
            .post(endpoint)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await;

        let failure = match sent {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => {
                let status = response.status();
                let reply = response.text().await.unwrap_or_default();
                let message = format!("HTTP {status}: {}", excerpt(reply.trim()));
                if !status.is_server_error() {
                    return Err(remote(message));
                }
                message
            }
            // The endpoint already starts the message; reqwest would repeat it.
            Err(error) => format!("request failed: {}", error_chain(&error.without_url())),
        };

        if attempt >= config.max_attempts {
            return Err(remote(format!(
                "{failure} (gave up after {attempt} attempts)"
            )));
        }
        let wait_ms = config.backoff_ms(attempt);
        tracing::warn!(alertmanager = %endpoint, attempt, wait_ms, error = %failure, "retrying");
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        attempt += 1;
    }
}

/// An error and its sources on one line: reqwest's own message omits the cause (such as
/// "Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn excerpt(text: &str) -> String {
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    match text.char_indices().nth(MAX_BODY_IN_ERROR) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// A blocking [`AlertmanagerClient`] that owns a single-threaded tokio runtime, for commands
/// that run without one (`replay`).
///
/// # Panics
///
/// [`AlertmanagerSink::send`] and dropping the sink panic when called from within an async
/// runtime (tokio forbids blocking there); async code uses [`AlertmanagerClient`] directly.
#[derive(Debug)]
pub struct AlertmanagerSink {
    runtime: tokio::runtime::Runtime,
    client: AlertmanagerClient,
}

impl AlertmanagerSink {
    /// A sink for the Alertmanagers in `config`.
    ///
    /// # Errors
    ///
    /// As [`AlertmanagerClient::new`], and [`Error::Internal`] when the runtime cannot start.
    pub fn new(config: AlertmanagerConfig) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the alert runtime: {e}")))?;
        let client = AlertmanagerClient::new(config)?;
        Ok(AlertmanagerSink { runtime, client })
    }

    /// The async client inside.
    pub fn client(&self) -> &AlertmanagerClient {
        &self.client
    }
}

impl Sink for AlertmanagerSink {
    fn send(&mut self, notifications: &[Notification]) -> Result<(), Error> {
        self.runtime.block_on(self.client.send(notifications))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_validation() {
        let config: AlertmanagerConfig =
            serde_json::from_str(r#"{"urls": ["http://127.0.0.1:9093/"]}"#).unwrap();
        assert_eq!(config.max_batch_size, 64);
        assert!(config.validate("seer.yml: alertmanager").is_ok());
        assert_eq!(
            endpoint(&config.urls[0]),
            "http://127.0.0.1:9093/api/v2/alerts"
        );
        assert_eq!(endpoint("http://proxy/am"), "http://proxy/am/api/v2/alerts");
        assert!(serde_json::from_str::<AlertmanagerConfig>(r#"{"url": "x"}"#).is_err());

        let bad = AlertmanagerConfig {
            urls: vec!["ftp://x".to_string(), "not a url".to_string()],
            max_attempts: 0,
            ..AlertmanagerConfig::default()
        };
        let message = bad
            .validate("seer.yml: alertmanager")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"ftp://x\": scheme \"ftp\""), "{message}");
        assert!(message.contains("\"not a url\""), "{message}");
        assert!(message.contains("max_attempts: 0 must be > 0"), "{message}");
        let none = AlertmanagerConfig::default()
            .validate("x")
            .unwrap_err()
            .to_string();
        assert!(none.contains("at least one Alertmanager URL"), "{none}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = AlertmanagerConfig::default();
        let waits: Vec<u64> = (1..=6).map(|retry| config.backoff_ms(retry)).collect();
        assert_eq!(waits, [500, 1_000, 2_000, 4_000, 5_000, 5_000]);
        assert_eq!(config.backoff_ms(200), 5_000);
    }

    #[test]
    fn long_bodies_are_cut() {
        assert_eq!(excerpt(""), "(empty body)");
        assert_eq!(excerpt(&"x".repeat(600)).len(), MAX_BODY_IN_ERROR + 3);
    }
}
