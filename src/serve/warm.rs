//! Warm start: history learned before serving, from files or from Prometheus.
//!
//! History goes through the same scoring path as live samples, with event time, so detectors
//! finish warm; the notifications it causes are about the past and are not sent. Samples
//! older than what a restored series has already seen are skipped (counted as out of order),
//! so loading the same history after a restart does no harm.
//!
//! # Backfill from Prometheus
//!
//! For each rule, `GET {url}/api/v1/query_range` with the rule's selector, from
//! `now - window` to `now` at `step`. Prometheus refuses more than 11,000 points per series in
//! one query, so the window is split into chunks of at most [`MAX_POINTS`] steps and loaded
//! oldest first; each chunk is scored before the next is fetched.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::scoring::Shards;
use crate::error::Error;
use crate::replay::{CsvNaming, SeriesSamples};
use crate::series::Labels;
use crate::time::Millis;

/// Most steps per query_range request: Prometheus answers 400 when `(end - start) / step`
/// exceeds 11,000.
pub const MAX_POINTS: i64 = 11_000;

/// Loads history files into `shards`; returns the number of samples.
///
/// # Errors
///
/// The first file that cannot be read, naming it.
pub fn load_history(files: &[PathBuf], shards: &Shards) -> Result<u64, Error> {
    let files = crate::replay::expand_inputs(files)?;
    let groups = crate::replay::load(&files, &CsvNaming::default())?;
    Ok(shards.score_grouped(groups).samples)
}

/// The `[start, end]` ranges (milliseconds, inclusive) a backfill of `window_ms` up to `end_ms`
/// at `step_ms` is split into, oldest first; consecutive ranges do not share a point.
pub fn chunks(end_ms: Millis, window_ms: Millis, step_ms: Millis) -> Vec<(Millis, Millis)> {
    let step_ms = step_ms.max(1);
    let span = step_ms * MAX_POINTS;
    let mut out = Vec::new();
    let mut start = end_ms - window_ms;
    while start <= end_ms {
        let end = (start + span).min(end_ms);
        out.push((start, end));
        start = end + step_ms;
    }
    out
}

#[derive(Debug, Deserialize)]
struct QueryResponse {
    status: String,
    #[serde(default)]
    data: Option<QueryData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct QueryData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<MatrixSeries>,
}

#[derive(Debug, Deserialize)]
struct MatrixSeries {
    metric: HashMap<String, String>,
    values: Vec<(f64, String)>,
}

/// Backfills the series of every rule from Prometheus at `base_url`; returns the number of
/// samples loaded.
///
/// # Errors
///
/// [`Error::Remote`] naming the URL and query when Prometheus cannot be reached or refuses a
/// query.
pub async fn backfill(
    base_url: &str,
    selectors: &[String],
    shards: Arc<Shards>,
    now_ms: Millis,
    window_ms: Millis,
    step_ms: Millis,
    timeout: Duration,
) -> Result<u64, Error> {
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("seer/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
    let endpoint = format!("{}/api/v1/query_range", base_url.trim_end_matches('/'));
    let mut total = 0;
    for (start, end) in chunks(now_ms, window_ms, step_ms) {
        let mut groups: Vec<SeriesSamples> = Vec::new();
        for selector in selectors {
            groups.extend(query(&http, &endpoint, selector, start, end, step_ms).await?);
        }
        let shards = Arc::clone(&shards);
        total += tokio::task::spawn_blocking(move || shards.score_grouped(groups).samples)
            .await
            .map_err(|e| Error::Internal(format!("backfill scoring failed: {e}")))?;
    }
    Ok(total)
}

async fn query(
    http: &reqwest::Client,
    endpoint: &str,
    selector: &str,
    start: Millis,
    end: Millis,
    step_ms: Millis,
) -> Result<Vec<SeriesSamples>, Error> {
    let remote = |message: String| Error::Remote {
        peer: format!("{endpoint}?query={selector}"),
        message,
    };
    let mut url = reqwest::Url::parse(endpoint).map_err(|e| remote(e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("query", selector)
        .append_pair("start", &seconds(start))
        .append_pair("end", &seconds(end))
        .append_pair("step", &seconds(step_ms));
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| remote(format!("request failed: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| remote(format!("reading the reply: {e}")))?;
    let parsed: QueryResponse = serde_json::from_slice(&body).map_err(|e| {
        remote(format!(
            "HTTP {status}: not a query_range reply: {e}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ))
    })?;
    let data = match (parsed.status.as_str(), parsed.data) {
        ("success", Some(data)) if data.result_type == "matrix" => data,
        _ => {
            return Err(remote(format!(
                "HTTP {status}: {}",
                parsed
                    .error
                    .unwrap_or_else(|| "no matrix in the reply".into())
            )))
        }
    };
    Ok(data
        .result
        .into_iter()
        .map(|series| {
            let labels = Arc::new(Labels::new(series.metric));
            let samples = series
                .values
                .into_iter()
                .filter_map(|(ts, v)| Some(((ts * 1000.0).round() as Millis, v.parse().ok()?)))
                .collect();
            (labels, samples)
        })
        .collect())
}

/// Milliseconds as the decimal seconds Prometheus' API takes.
fn seconds(ms: Millis) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_the_point_limit_and_cover_the_window() {
        let step = 60_000;
        let end = 1_700_000_000_000;
        let window = 14 * 86_400_000;
        let chunks = chunks(end, window, step);
        // 14 days at 1m is 20,160 steps: two chunks.
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].0, end - window);
        assert_eq!(chunks.last().unwrap().1, end);
        for (s, e) in &chunks {
            assert!((e - s) / step <= MAX_POINTS);
        }
        assert_eq!(chunks[1].0, chunks[0].1 + step);
        assert_eq!(seconds(1_500), "1.500");
    }
}
