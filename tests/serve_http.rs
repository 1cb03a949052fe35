//! `seer serve`'s HTTP API in process: every malformed-request case gets its documented status
//! and message (and the server keeps answering, so nothing panicked), backpressure gives 503,
//! and a whole server takes NDJSON pushes, answers its query endpoints, backfills from a
//! (fake) Prometheus query API in chunks and checkpoints on shutdown.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use seer::engine::EngineOptions;
use seer::serve::config::LimitsConfig;
use seer::serve::http::{router, AppState};
use seer::serve::metrics::Metrics;
use seer::serve::remote_write::{encode, series, WriteRequest};
use seer::serve::scoring::Shards;
use seer::serve::{warm, ServeConfig, Server};
use tokio::sync::mpsc;

const RULES: &str = "\
anomaly_detection:
  - name: jump
    match: '{__name__=\"m\"}'
    model: seasonal
    interval_width: 0.9
    warmup: 5m
    refit_every: 1h
    history: 1h
    min_deviation: 5
";

struct Api {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    /// Holds the queue's receiving end: nothing scores, so the queue fills.
    _queue: mpsc::Receiver<seer::batch::SampleBatch>,
}

/// The router alone, with a queue of `capacity` requests that nobody drains.
async fn api(capacity: usize, ready: bool) -> Api {
    let rules = seer::rules::parse("rules.yaml", RULES).unwrap();
    let (queue, rx) = mpsc::channel(capacity);
    let metrics = Arc::new(Metrics::new(0));
    let state = AppState {
        queue,
        shards: Arc::new(Shards::new(&rules, EngineOptions::default(), 2)),
        metrics: Arc::clone(&metrics),
        ready: Arc::new(AtomicBool::new(ready)),
        limits: LimitsConfig {
            max_body_bytes: 4096,
            max_decoded_bytes: 16_384,
            queue_capacity_batches: capacity,
        },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Api {
        addr,
        metrics,
        _queue: rx,
    }
}

fn valid_body() -> Vec<u8> {
    encode(&WriteRequest {
        timeseries: vec![series(&[("__name__", "m"), ("job", "a")], 1000, 1.0)],
    })
}

/// POSTs `body` to `path` with the given headers; returns status and body text.
async fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut request = client.post(format!("http://{addr}{path}")).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

const PROTOBUF: &[(&str, &str)] = &[
    ("Content-Type", "application/x-protobuf"),
    ("Content-Encoding", "snappy"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

async fn write(addr: SocketAddr, body: Vec<u8>) -> (u16, String) {
    post(addr, "/api/v1/write", PROTOBUF, body).await
}

#[tokio::test]
async fn a_valid_request_is_accepted_with_204() {
    let api = api(8, true).await;
    assert_eq!(write(api.addr, valid_body()).await, (204, String::new()));
    // Prometheus' metadata-only requests carry no series.
    let empty = encode(&WriteRequest::default());
    assert_eq!(write(api.addr, empty).await, (204, String::new()));
}

#[tokio::test]
async fn truncated_snappy_is_400() {
    let api = api(8, true).await;
    let body = valid_body();
    let (status, message) = write(api.addr, body[..body.len() / 2].to_vec()).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("snappy: "), "{message}");
    // Snappy's framed format is not what remote_write uses.
    let mut framed = snap::write::FrameEncoder::new(Vec::new());
    framed.write_all(b"hello").unwrap();
    let (status, message) = write(api.addr, framed.into_inner().unwrap()).await;
    assert_eq!(status, 400, "{message}");
}

#[tokio::test]
async fn garbage_protobuf_is_400() {
    let api = api(8, true).await;
    let garbage = snap::raw::Encoder::new()
        .compress_vec(b"\x0a\xff\xff\xff\xff\x0fnot a protobuf at all")
        .unwrap();
    let (status, message) = write(api.addr, garbage).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("protobuf: "), "{message}");
    assert!(
        message.contains("not a prometheus.WriteRequest"),
        "{message}"
    );
}

#[tokio::test]
async fn wrong_content_type_or_encoding_is_415() {
    let api = api(8, true).await;
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("Content-Type", "text/plain")],
            "Content-Type \"text/plain\" is not supported",
        ),
        (
            &[(
                "Content-Type",
                "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            )],
            "\"io.prometheus.write.v2.Request\" is not supported",
        ),
        (
            &[
                ("Content-Type", "application/x-protobuf"),
                ("Content-Encoding", "gzip"),
            ],
            "Content-Encoding \"gzip\" is not supported",
        ),
    ];
    for (headers, expected) in cases {
        let (status, message) = post(api.addr, "/api/v1/write", headers, valid_body()).await;
        assert_eq!(status, 415, "{headers:?}: {message}");
        assert!(message.contains(expected), "{message}");
    }
    let (status, message) = post(
        api.addr,
        "/api/v1/push",
        &[("Content-Type", "application/x-protobuf")],
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 415, "{message}");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let api = api(8, true).await;
    // Declared too large.
    let (status, message) = write(api.addr, vec![0u8; 5000]).await;
    assert_eq!(status, 413);
    assert_eq!(
        message,
        "body exceeds the limit of 4096 bytes (limits.max_body_bytes)\n"
    );

    // Too large without a declared length (chunked): found while reading.
    let addr = api.addr;
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        for _ in 0..5 {
            let _ = write!(stream, "400\r\n{}\r\n", "x".repeat(1024));
        }
        let _ = write!(stream, "0\r\n\r\n");
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");

    // Small on the wire, too large once decompressed.
    let bomb = snap::raw::Encoder::new()
        .compress_vec(&vec![0u8; 50_000])
        .unwrap();
    assert!(bomb.len() < 4096);
    let (status, message) = write(api.addr, bomb).await;
    assert_eq!(status, 413);
    assert!(
        message.starts_with("decompressed body of 50000 bytes"),
        "{message}"
    );
}

#[tokio::test]
async fn invalid_labels_are_400_naming_the_series() {
    let api = api(8, true).await;
    let cases = [
        (
            vec![("__name__", "m"), ("bad-name", "x")],
            "timeseries 0 {__name__=\"m\", bad-name=\"x\"}: invalid label name \"bad-name\"\n",
        ),
        (
            vec![("job", "a")],
            "timeseries 0 {job=\"a\"}: no __name__ label (seer needs the metric name)\n",
        ),
        (
            vec![("__name__", "1m")],
            "timeseries 0: invalid metric name \"1m\"\n",
        ),
    ];
    for (labels, expected) in cases {
        let body = encode(&WriteRequest {
            timeseries: vec![
                series(&[("__name__", "ok")], 1, 1.0),
                series(&labels, 1, 1.0),
            ],
        });
        let (status, message) = write(api.addr, body).await;
        assert_eq!(status, 400);
        // The second series is the bad one; messages count from 0.
        assert_eq!(message, expected.replace("timeseries 0", "timeseries 1"));
    }
}

#[tokio::test]
async fn an_empty_body_is_400() {
    let api = api(8, true).await;
    let (status, message) = write(api.addr, Vec::new()).await;
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "empty body: expected a snappy-compressed prometheus.WriteRequest\n"
    );
    let (status, message) = post(api.addr, "/api/v1/push", &[], Vec::new()).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("empty body"), "{message}");
}

#[tokio::test]
async fn a_full_queue_is_503_and_counted() {
    let api = api(1, true).await;
    assert_eq!(write(api.addr, valid_body()).await.0, 204);
    let (status, message) = write(api.addr, valid_body()).await;
    assert_eq!(status, 503);
    assert!(
        message.starts_with("overloaded: 1 requests are waiting"),
        "{message}"
    );

    let text = api.metrics.encode(0);
    assert!(
        text.contains("seer_samples_rejected_total{reason=\"overloaded\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("seer_requests_total{endpoint=\"write\",code=\"503\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn writes_before_ready_are_503() {
    let api = api(8, false).await;
    let (status, message) = write(api.addr, valid_body()).await;
    assert_eq!(status, 503);
    assert!(message.starts_with("not ready"), "{message}");
}

#[tokio::test]
async fn malformed_ndjson_is_400_naming_the_line() {
    let api = api(8, true).await;
    let ndjson = [("Content-Type", "application/x-ndjson")];
    let good = br#"{"labels":{"__name__":"m"},"timestamp_ms":1,"value":1}"#.to_vec();
    assert_eq!(post(api.addr, "/api/v1/push", &ndjson, good).await.0, 204);
    let bad =
        b"{\"labels\":{\"__name__\":\"m\"},\"value\":1}\n{\"labels\":{},\"value\":1}".to_vec();
    let (status, message) = post(api.addr, "/api/v1/push", &ndjson, bad).await;
    assert_eq!(status, 400);
    assert!(message.starts_with("line 2: "), "{message}");
}

/// The (start, end, step) of each query_range request the fake Prometheus answered.
type Calls = Arc<Mutex<Vec<(f64, f64, f64)>>>;

/// A fake Prometheus `query_range`: a flat series at every step, recording each request.
async fn fake_prometheus(calls: Calls) -> SocketAddr {
    async fn query_range(
        State(calls): State<Calls>,
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> Json<serde_json::Value> {
        let start: f64 = q["start"].parse().unwrap();
        let end: f64 = q["end"].parse().unwrap();
        let step: f64 = q["step"].parse().unwrap();
        calls.lock().unwrap().push((start, end, step));
        let mut values = Vec::new();
        let mut t = start;
        while t <= end {
            values.push(serde_json::json!([
                t,
                format!("{}", 10.0 + (t as i64 % 7) as f64 / 7.0)
            ]));
            t += step;
        }
        Json(
            serde_json::json!({"status": "success", "data": {"resultType": "matrix",
            "result": [{"metric": {"__name__": "m", "job": "backfilled"}, "values": values}]}}),
        )
    }
    let app = Router::new()
        .route("/api/v1/query_range", get(query_range))
        .with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn backfill_queries_prometheus_in_chunks_under_its_point_limit() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let addr = fake_prometheus(Arc::clone(&calls)).await;
    let rules = seer::rules::parse("rules.yaml", RULES).unwrap();
    let shards = Arc::new(Shards::new(&rules, EngineOptions::default(), 2));
    // A day at 5 s is 17,280 steps: two queries.
    let now = 1_700_000_000_000;
    let samples = warm::backfill(
        &format!("http://{addr}"),
        &["{__name__=\"m\"}".to_string()],
        Arc::clone(&shards),
        now,
        86_400_000,
        5_000,
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "{calls:?}");
    for (start, end, step) in &calls {
        assert!((end - start) / step <= 11_000.0, "{calls:?}");
    }
    assert_eq!(samples, 86_400 / 5 + 1);
    assert_eq!(shards.series_count(), 1);
    assert!(
        shards.fit_totals().0 >= 1,
        "the backfilled series was fitted"
    );
}

#[tokio::test]
async fn a_server_takes_pushes_answers_queries_and_checkpoints_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let config = ServeConfig {
        listen_address: "127.0.0.1:0".into(),
        rules: vec![rules],
        state_dir: Some(dir.path().join("state")),
        ..ServeConfig::default()
    };
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    for _ in 0..200 {
        let ready = client.get(format!("{base}/-/ready")).send().await.unwrap();
        if ready.status() == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        client
            .get(format!("{base}/-/healthy"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Twenty minutes of 1-second samples: past warm-up, so the model is fitted.
    let mut body = String::new();
    for t in 0..1200 {
        let v = 10.0 + (t % 7) as f64 / 7.0;
        body.push_str(&format!(
            "{{\"labels\":{{\"__name__\":\"m\",\"job\":\"p\"}},\"timestamp_ms\":{},\"value\":{v}}}\n",
            1_700_000_000_000i64 + t * 1000
        ));
    }
    let pushed = client
        .post(format!("{base}/api/v1/push"))
        .header("Content-Type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 204);

    let mut listed = serde_json::Value::Null;
    for _ in 0..500 {
        listed = client
            .get(format!("{base}/api/v1/series?match=m"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
        if listed["data"][0]["rules"][0]["samples"] == 1200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(listed["data"][0]["rules"][0]["samples"], 1200, "{listed}");
    assert_eq!(listed["data"][0]["labels"]["job"], "p");
    let id = listed["data"][0]["id"].as_str().unwrap();

    let forecast: serde_json::Value = client
        .get(format!(
            "{base}/api/v1/series/{id}/forecast?steps=3&recent=4"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let rule = &forecast["data"]["rules"][0];
    assert_eq!(rule["band"].as_array().unwrap().len(), 3, "{forecast}");
    assert_eq!(rule["recent"].as_array().unwrap().len(), 4, "{forecast}");
    let band = &rule["band"][0];
    assert!(band["lower"].as_f64().unwrap() < band["upper"].as_f64().unwrap());

    let missing = client
        .get(format!("{base}/api/v1/series/0123/forecast"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let bad = client
        .get(format!("{base}/api/v1/series/xyz/forecast"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let alerts: serde_json::Value = client
        .get(format!("{base}/api/v1/alerts"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!(alerts["data"]["alerts"], serde_json::json!([]));
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("seer_samples_received_total{endpoint=\"push\"} 1200"),
        "{metrics}"
    );
    assert!(metrics.contains("seer_ready 1"), "{metrics}");

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(dir.path().join("state/checkpoint.cbor.sz").is_file());
}
