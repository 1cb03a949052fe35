//! The HTTP API of `seer serve`.
//!
//! | method and path | answers |
//! |---|---|
//! | `POST /api/v1/write` | Prometheus remote_write v1; see below |
//! | `POST /api/v1/push` | NDJSON samples (see [`super::push`]); same status codes |
//! | `GET /metrics` | seer's own telemetry (see [`super::metrics`]) |
//! | `GET /-/healthy` | 200 while the process runs |
//! | `GET /-/ready` | 200 once state is restored and history loaded, 503 before |
//! | `GET /api/v1/series?match=SELECTOR&limit=N` | series seer knows (default limit 1000) with each rule's counts and alert state |
//! | `GET /api/v1/series/{id}/forecast?steps=N&recent=M` | per rule: the band over the next `N` grid steps (default 60) and the last `M` points of history (default 120) |
//! | `GET /api/v1/alerts` | pending and firing alerts |
//!
//! # Status codes of the write endpoints
//!
//! | code | when | Prometheus then |
//! |---|---|---|
//! | 204 | accepted for scoring (also a request with no series, such as metadata) | sends the next batch |
//! | 400 | data seer will never accept: empty body, bad snappy, bad protobuf, a series without `__name__`, an invalid or repeated label name; the body says which series | drops the batch |
//! | 413 | body over `limits.max_body_bytes`, or decompressed over `limits.max_decoded_bytes` | drops the batch |
//! | 415 | a `Content-Type` other than `application/x-protobuf` (remote_write 2.0 included) or a `Content-Encoding` other than `snappy`; for push, other than NDJSON or JSON | drops the batch |
//! | 503 | the scoring queue is full, seer is still restoring state, or it is shutting down | retries with backoff; nothing is lost |
//!
//! Bad input is answered, counted in `seer_requests_rejected_total` and not logged; faults of
//! seer itself are logged once where they happen.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::config::LimitsConfig;
use super::metrics::{self, Metrics};
use super::remote_write::{self, DecodeError, Decoded};
use super::scoring::Shards;
use super::{now_ms, push};
use crate::alert::AlertState;
use crate::batch::SampleBatch;
use crate::rules::Selector;
use crate::series::SeriesId;
use crate::time::rfc3339;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Decoded requests on their way to the scoring thread.
    pub queue: mpsc::Sender<SampleBatch>,
    pub shards: Arc<Shards>,
    pub metrics: Arc<Metrics>,
    /// Set once state is restored and history loaded.
    pub ready: Arc<AtomicBool>,
    pub limits: LimitsConfig,
}

/// The router with every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/write", post(write))
        .route("/api/v1/push", post(push_ndjson))
        .route("/metrics", get(metrics_text))
        .route("/-/healthy", get(healthy))
        .route("/-/ready", get(ready))
        .route("/api/v1/series", get(series))
        .route("/api/v1/series/{id}/forecast", get(forecast))
        .route("/api/v1/alerts", get(alerts))
        .with_state(state)
}

/// A refused write: status, a reason for counters and a message for the client.
#[derive(Debug)]
struct Rejection {
    status: StatusCode,
    reason: &'static str,
    message: String,
    /// Samples in the request, when it was decoded far enough to know.
    samples: Option<usize>,
}

impl Rejection {
    fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Rejection {
            status,
            reason,
            message: message.into(),
            samples: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Write,
    Push,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::Write => "write",
            Endpoint::Push => "push",
        }
    }
}

async fn write(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    ingest(app, Endpoint::Write, headers, body).await
}

async fn push_ndjson(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    ingest(app, Endpoint::Push, headers, body).await
}

async fn ingest(app: AppState, endpoint: Endpoint, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let result = accept(&app, endpoint, &headers, body).await;
    let m = &app.metrics;
    let status = match result {
        Ok(samples) => {
            m.samples_received
                .get_or_create(&metrics::Endpoint {
                    endpoint: endpoint.name(),
                })
                .inc_by(samples as u64);
            StatusCode::NO_CONTENT
        }
        Err(ref rejection) => {
            m.requests_rejected
                .get_or_create(&metrics::Reason {
                    reason: rejection.reason,
                })
                .inc();
            if let Some(n) = rejection.samples {
                m.samples_rejected
                    .get_or_create(&metrics::Reason {
                        reason: rejection.reason,
                    })
                    .inc_by(n as u64);
            }
            rejection.status
        }
    };
    m.requests
        .get_or_create(&metrics::EndpointCode {
            endpoint: endpoint.name(),
            code: status.as_u16(),
        })
        .inc();
    m.request_duration
        .get_or_create(&metrics::Endpoint {
            endpoint: endpoint.name(),
        })
        .observe(started.elapsed().as_secs_f64());
    match result {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => (
            r.status,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", r.message),
        )
            .into_response(),
    }
}

/// Checks, reads, decodes and enqueues one request; returns the number of samples.
async fn accept(
    app: &AppState,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: Body,
) -> Result<usize, Rejection> {
    if !app.ready.load(Ordering::Acquire) {
        return Err(Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "not ready: seer is restoring its state; retry later",
        ));
    }
    check_content_type(endpoint, headers)?;

    let limit = app.limits.max_body_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("body exceeds the limit of {limit} bytes (limits.max_body_bytes)"),
        )
    };
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(e) if is_length_limit(&e) => return Err(too_large()),
        Err(e) => {
            return Err(Rejection::new(
                StatusCode::BAD_REQUEST,
                "body",
                format!("reading the body: {e}"),
            ))
        }
    };

    let decoded = match endpoint {
        Endpoint::Write => {
            remote_write::decode(&bytes, app.limits.max_decoded_bytes).map_err(|e| {
                let status = match e {
                    DecodeError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Rejection::new(status, e.reason(), e.to_string())
            })?
        }
        Endpoint::Push => push::decode(&bytes, now_ms())
            .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, "ndjson", e.to_string()))?,
    };
    enqueue(app, decoded)
}

fn enqueue(app: &AppState, decoded: Decoded) -> Result<usize, Rejection> {
    let samples = decoded.batch.len();
    if samples == 0 {
        return Ok(0);
    }
    let m = &app.metrics;
    match app.queue.try_send(decoded.batch) {
        Ok(()) => {
            m.stale_markers.inc_by(decoded.stale_markers as u64);
            m.not_finite.inc_by(decoded.not_finite as u64);
            Ok(samples)
        }
        Err(mpsc::error::TrySendError::Full(_)) => Err(Rejection {
            samples: Some(samples),
            ..Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                format!(
                    "overloaded: {} requests are waiting to be scored \
                     (limits.queue_capacity_batches); retry later",
                    app.queue.max_capacity()
                ),
            )
        }),
        Err(mpsc::error::TrySendError::Closed(_)) => Err(Rejection {
            samples: Some(samples),
            ..Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "shutting down; retry later",
            )
        }),
    }
}

/// 415 unless the request says what the endpoint reads (or says nothing).
fn check_content_type(endpoint: Endpoint, headers: &HeaderMap) -> Result<(), Rejection> {
    let unsupported = |message: String| {
        Rejection::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type", message)
    };
    let content_type = headers.get(CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?"));
    let (media, params) = match content_type {
        Some(text) => match text.split_once(';') {
            Some((media, params)) => (media.trim().to_ascii_lowercase(), params.trim()),
            None => (text.trim().to_ascii_lowercase(), ""),
        },
        None => (String::new(), ""),
    };
    match endpoint {
        Endpoint::Write => {
            if !media.is_empty() && media != "application/x-protobuf" {
                return Err(unsupported(format!(
                    "Content-Type {:?} is not supported: send application/x-protobuf \
                     (remote_write v1)",
                    content_type.unwrap_or_default()
                )));
            }
            let proto = params
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("proto="))
                .next();
            if let Some(proto) = proto.filter(|p| *p != "prometheus.WriteRequest") {
                return Err(unsupported(format!(
                    "remote_write message {proto:?} is not supported: seer reads \
                     prometheus.WriteRequest (remote_write v1)"
                )));
            }
            let encoding = headers
                .get(CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap_or("?"));
            if let Some(encoding) = encoding.filter(|e| !e.eq_ignore_ascii_case("snappy")) {
                return Err(unsupported(format!(
                    "Content-Encoding {encoding:?} is not supported: send snappy"
                )));
            }
        }
        Endpoint::Push => {
            let ok = [
                "",
                "application/x-ndjson",
                "application/jsonl",
                "application/json",
            ];
            if !ok.contains(&media.as_str()) {
                return Err(unsupported(format!(
                    "Content-Type {:?} is not supported: send application/x-ndjson",
                    content_type.unwrap_or_default()
                )));
            }
        }
    }
    Ok(())
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

async fn metrics_text(State(app): State<AppState>) -> Response {
    let m = &app.metrics;
    let waiting = app.queue.max_capacity() - app.queue.capacity();
    m.queue_batches.set(waiting as i64);
    m.queue_capacity.set(app.queue.max_capacity() as i64);
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(now_ms()),
    )
        .into_response()
}

async fn healthy() -> &'static str {
    "seer is Healthy.\n"
}

async fn ready(State(app): State<AppState>) -> Response {
    if app.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "seer is Ready.\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "seer is not ready: restoring state.\n",
        )
            .into_response()
    }
}

/// `{"status": "error", "error": ...}` with `status`.
fn api_error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"status": "error", "error": message}))).into_response()
}

fn api_ok(data: Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

#[derive(Debug, Deserialize)]
struct SeriesQuery {
    #[serde(rename = "match")]
    selector: Option<String>,
    limit: Option<usize>,
}

async fn series(State(app): State<AppState>, Query(q): Query<SeriesQuery>) -> Response {
    let selector = match q.selector.as_deref().map(Selector::parse).transpose() {
        Ok(s) => s,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, format!("match: {e}")),
    };
    let limit = q.limit.unwrap_or(1000);
    let shards = Arc::clone(&app.shards);
    let listed = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut total = 0usize;
        for i in 0..shards.len() {
            let shard = shards.lock(i);
            shard.engine.for_each_series(|id, labels, watches| {
                if selector.as_ref().is_some_and(|s| !s.matches(labels)) {
                    return;
                }
                total += 1;
                if out.len() >= limit {
                    return;
                }
                let rules: Vec<Value> = watches
                    .iter()
                    .map(|w| {
                        let s = w.detector.stats();
                        json!({
                            "rule": w.rule,
                            "alert_state": w.tracker.state().to_string(),
                            "samples": s.samples,
                            "warming_up": s.warming_up,
                            "scored": s.scored,
                            "anomalies": s.anomalies,
                            "fits": s.fits,
                            "not_finite": s.not_finite,
                            "out_of_order": s.out_of_order,
                            "duplicates": s.duplicates,
                        })
                    })
                    .collect();
                out.push(json!({
                    "id": id.to_string(),
                    "labels": labels_json(labels),
                    "last_sample_ms": shard.last_seen.get(&id),
                    "rules": rules,
                }));
            });
        }
        (out, total)
    })
    .await;
    match listed {
        Ok((list, total)) => Json(json!({
            "status": "success",
            "data": list,
            "total": total,
            "truncated": total > limit,
        }))
        .into_response(),
        Err(e) => internal(e),
    }
}

fn labels_json(labels: &crate::series::Labels) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
struct ForecastQuery {
    steps: Option<usize>,
    recent: Option<usize>,
}

async fn forecast(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ForecastQuery>,
) -> Response {
    let Ok(raw) = u64::from_str_radix(&id, 16) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            format!("series id {id:?} is not a hexadecimal fingerprint"),
        );
    };
    let id = SeriesId(raw);
    let steps = q.steps.unwrap_or(60).min(10_000);
    let recent = q.recent.unwrap_or(120).min(100_000);
    let shard = app.shards.lock(app.shards.index(id));
    let (Some(labels), Some(watches)) = (shard.engine.labels(id), shard.engine.watches(id)) else {
        return api_error(StatusCode::NOT_FOUND, format!("series {id} is not known"));
    };
    let rules: Vec<Value> = watches
        .iter()
        .map(|w| {
            let band: Vec<Value> = w
                .detector
                .band_ahead(steps)
                .iter()
                .map(|p| {
                    json!({
                        "timestamp_ms": p.timestamp_ms,
                        "expected": finite(p.expected),
                        "lower": finite(p.lower),
                        "upper": finite(p.upper),
                    })
                })
                .collect();
            let history: Vec<Value> = w
                .detector
                .recent(recent)
                .iter()
                .map(|(t, v)| json!([t, v]))
                .collect();
            json!({
                "rule": w.rule,
                "alert_state": w.tracker.state().to_string(),
                "band": band,
                "recent": history,
            })
        })
        .collect();
    api_ok(json!({
        "id": id.to_string(),
        "labels": labels_json(labels),
        "rules": rules,
    }))
}

/// A number, or null when it is not finite (JSON has no NaN).
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

async fn alerts(State(app): State<AppState>) -> Response {
    let shards = Arc::clone(&app.shards);
    let listed = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for i in 0..shards.len() {
            let shard = shards.lock(i);
            for id in shard.engine.series_with_alerts() {
                let Some(watches) = shard.engine.watches(id) else {
                    continue;
                };
                for w in watches {
                    let state = w.tracker.state();
                    if state == AlertState::Inactive {
                        continue;
                    }
                    let series = w.tracker.series();
                    let annotations = w
                        .tracker
                        .evidence()
                        .map(|e| w.alert_rule.render_annotations(series, e))
                        .unwrap_or_default();
                    out.push(json!({
                        "series": id.to_string(),
                        "labels": labels_json(&w.alert_rule.alert_labels(series)),
                        "annotations": annotations,
                        "state": state.to_string(),
                        "activeAt": w.tracker.active_at().map(rfc3339),
                        "firedAt": w.tracker.fired_at().map(rfc3339),
                        "value": w.tracker.evidence().map(|e| e.value.to_string()),
                    }));
                }
            }
        }
        out
    })
    .await;
    match listed {
        Ok(list) => api_ok(json!({ "alerts": list })),
        Err(e) => internal(e),
    }
}

fn internal(error: impl std::fmt::Display) -> Response {
    tracing::error!(error = %error, "API request failed");
    api_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("internal error: {error}"),
    )
}
