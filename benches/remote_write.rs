//! remote_write ingestion: decoding alone, and decoding plus scoring.
//!
//! Requests are what Prometheus sends: 500 time series of one sample each, about 10 KB
//! snappy-compressed, with realistic label sets (`__name__`, `instance`, `job`, `method`,
//! `path`, `code`).
//!
//! - `ingest/remote_write/500-samples`: snappy, protobuf and label checks into an Arrow batch.
//! - `serve/remote_write+score/500-samples`: the same, then a scoring round over the shards
//!   (one per core) for 500 series whose seasonal detectors are warm (1 hour of 15-second
//!   history, refitted every 30 minutes of event time, so refits are included at their real
//!   rate: one request in 120 refits all 500 series).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use seer::engine::EngineOptions;
use seer::serve::remote_write::{decode, encode, series, WriteRequest};
use seer::serve::scoring::Shards;

const SERIES: usize = 500;
const STEP_MS: i64 = 15_000;
const RULES: &str = "\
anomaly_detection:
  - name: request_rate_anomaly
    match: '{__name__=\"http_requests_per_second\"}'
    model: seasonal
    interval_width: 0.99
    warmup: 30m
    refit_every: 30m
    history: 1h
";

/// The request Prometheus would send at step `t`: every series' sample at that time, with
/// seeded xorshift noise around a per-series level.
fn request(t: i64) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (t as u64).wrapping_mul(0x2545_F491_4F6C_DD1D);
    let methods = ["GET", "POST", "PUT", "DELETE"];
    let timeseries = (0..SERIES)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 100.0;
            let instance = format!("10.0.{}.{}:9100", i / 250, i % 250);
            let path = format!("/api/v1/resource/{}", i % 25);
            let code = if i % 10 == 0 { "500" } else { "200" };
            series(
                &[
                    ("__name__", "http_requests_per_second"),
                    ("instance", &instance),
                    ("job", "api"),
                    ("method", methods[i % 4]),
                    ("path", &path),
                    ("code", code),
                ],
                1_700_000_000_000 + t * STEP_MS,
                100.0 + (i % 50) as f64 + noise,
            )
        })
        .collect();
    encode(&WriteRequest { timeseries })
}

fn bench(c: &mut Criterion) {
    let body = request(0);
    let mut group = c.benchmark_group("ingest/remote_write");
    group.throughput(Throughput::Elements(SERIES as u64));
    group.bench_function("500-samples", |b| {
        b.iter(|| {
            let decoded = decode(black_box(&body), usize::MAX).unwrap();
            assert_eq!(decoded.batch.len(), SERIES);
            decoded
        })
    });
    group.finish();

    let rules = seer::rules::parse("bench.yaml", RULES).unwrap();
    let shards = Shards::new(
        &rules,
        EngineOptions::default(),
        rayon::current_num_threads(),
    );
    let warm_steps = 240; // one hour
    for t in 0..warm_steps {
        let decoded = decode(&request(t), usize::MAX).unwrap();
        shards.score(&[decoded.batch]);
    }
    assert!(shards.fit_totals().0 >= SERIES as u64, "series are fitted");

    let mut t = warm_steps;
    let mut group = c.benchmark_group("serve/remote_write+score");
    group.throughput(Throughput::Elements(SERIES as u64));
    group.sample_size(30);
    group.bench_function("500-samples", |b| {
        b.iter_batched(
            || {
                t += 1;
                request(t)
            },
            |body| {
                let decoded = decode(&body, usize::MAX).unwrap();
                let outcome = shards.score(&[decoded.batch]);
                // Every sample reached a detector; anything else is a bug.
                assert_eq!(outcome.samples, SERIES as u64);
                black_box(outcome.emitted.len())
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
