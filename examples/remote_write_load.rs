//! Load generator for `seer serve`: many concurrent remote_write clients, many active series.
//!
//! ```sh
//! scripts/load-test.sh            # builds, starts seer, runs this, stops seer
//! ```
//!
//! or by hand against a running seer:
//!
//! ```sh
//! cargo run --release --example remote_write_load -- \
//!     --url http://127.0.0.1:9977/api/v1/write --series 100000 --clients 16 \
//!     --duration-secs 60 --seer-pid "$SEER_PID"
//! ```
//!
//! Each client owns an equal share of the series and sends them in requests of 500 samples
//! (one sample per series, as Prometheus does), round after round, each round 15 seconds of
//! event time after the previous one, starting a day in the past so that detectors warm up
//! during the run. A 503 is retried after 10 ms, as Prometheus would (with its backoff).
//!
//! Bounded: it stops after `--duration-secs` or `--max-rounds` rounds (each series gets at most
//! one sample per round), whichever comes first, and it only talks to the URL given, which
//! must be on loopback.
//!
//! Prints requests, samples accepted per second, latency percentiles per request, status
//! counts, seer's own count of scored samples, and (with `--seer-pid`) seer's resident memory
//! and resident memory per active series.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use seer::serve::remote_write::{encode, series, TimeSeries, WriteRequest};

#[derive(Debug, Parser)]
struct Args {
    /// The remote_write endpoint (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:9977/api/v1/write")]
    url: String,
    /// Active series.
    #[arg(long, default_value_t = 100_000)]
    series: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Samples per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// Stop after this many rounds (a round is one sample for every series).
    #[arg(long, default_value_t = 5_000)]
    max_rounds: u64,
    /// Event time between rounds, in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    step_ms: i64,
    /// seer's process id, to report its resident memory.
    #[arg(long)]
    seer_pid: Option<u32>,
}

#[derive(Default)]
struct Totals {
    accepted_samples: AtomicU64,
    ok: AtomicU64,
    overloaded: AtomicU64,
    other: AtomicU64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = reqwest::Url::parse(&args.url)?;
    let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    anyhow::ensure!(loopback, "--url must be a loopback address, not {url}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

/// Resident memory of `pid` in bytes, from /proc.
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A counter's value from seer's /metrics.
async fn seer_counter(client: &reqwest::Client, base: &str, name: &str) -> Option<f64> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let base = args.url.trim_end_matches("/api/v1/write").to_string();
    let rss_before = args.seer_pid.and_then(rss_bytes);
    let scored_before = seer_counter(&client, &base, "seer_samples_scored_total")
        .await
        .unwrap_or(0.0);

    let start_ms = seer::serve::now_ms() - 86_400_000;
    let totals = Arc::new(Totals::default());
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + Duration::from_secs(args.duration_secs);
    let per_client = args.series.div_ceil(args.clients);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let first = c * per_client;
        let last = ((c + 1) * per_client).min(args.series);
        if first >= last {
            break;
        }
        let (client, url, totals, stop) = (
            client.clone(),
            args.url.clone(),
            Arc::clone(&totals),
            Arc::clone(&stop),
        );
        let (batch, step_ms, max_rounds) = (args.batch, args.step_ms, args.max_rounds);
        tasks.push(tokio::spawn(async move {
            // The label sets are built once; only timestamps and values change.
            let mut requests: Vec<Vec<TimeSeries>> = (first..last)
                .collect::<Vec<_>>()
                .chunks(batch)
                .map(|ids| {
                    ids.iter()
                        .map(|i| {
                            let instance =
                                format!("10.{}.{}.{}:9100", i >> 16, (i >> 8) & 255, i & 255);
                            series(
                                &[
                                    ("__name__", "load_test_value"),
                                    ("instance", &instance),
                                    ("job", "load"),
                                ],
                                0,
                                0.0,
                            )
                        })
                        .collect()
                })
                .collect();
            let mut latencies = Vec::new();
            let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ first as u64;
            'rounds: for round in 0..max_rounds as i64 {
                for timeseries in requests.iter_mut() {
                    for ts in timeseries.iter_mut() {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        ts.samples[0].timestamp = start_ms + round * step_ms;
                        ts.samples[0].value = 100.0 + (state % 1000) as f64 / 100.0;
                    }
                    let body = encode(&WriteRequest {
                        timeseries: timeseries.clone(),
                    });
                    loop {
                        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                            break 'rounds;
                        }
                        let sent = Instant::now();
                        let reply = client
                            .post(&url)
                            .header("Content-Type", "application/x-protobuf")
                            .header("Content-Encoding", "snappy")
                            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                            .body(body.clone())
                            .send()
                            .await;
                        latencies.push(sent.elapsed().as_micros() as u32);
                        match reply.map(|r| r.status().as_u16()) {
                            Ok(204) => {
                                totals.ok.fetch_add(1, Ordering::Relaxed);
                                totals
                                    .accepted_samples
                                    .fetch_add(timeseries.len() as u64, Ordering::Relaxed);
                                break;
                            }
                            Ok(503) => {
                                totals.overloaded.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            _ => {
                                totals.other.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies: Vec<u32> = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();

    // Let seer finish what is queued before reading its counters.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let scored_after = seer_counter(&client, &base, "seer_samples_scored_total")
        .await
        .unwrap_or(0.0);
    let active = seer_counter(&client, &base, "seer_active_series").await;
    let rss_after = args.seer_pid.and_then(rss_bytes);

    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies[i] as f64 / 1000.0
    };
    let accepted = totals.accepted_samples.load(Ordering::Relaxed);
    println!(
        "series: {}, clients: {}, samples per request: {}",
        args.series, args.clients, args.batch
    );
    println!("elapsed: {elapsed:.1} s");
    println!(
        "requests: {} accepted (204), {} overloaded (503, retried), {} other",
        totals.ok.load(Ordering::Relaxed),
        totals.overloaded.load(Ordering::Relaxed),
        totals.other.load(Ordering::Relaxed)
    );
    println!(
        "samples accepted: {accepted} ({:.0} samples/s)",
        accepted as f64 / elapsed
    );
    println!(
        "samples scored by seer: {:.0} ({:.0} samples/s over the run)",
        scored_after - scored_before,
        (scored_after - scored_before) / elapsed
    );
    println!(
        "request latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    if let Some(active) = active {
        println!("active series (seer): {active:.0}");
    }
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let per_series = active
            .filter(|a| *a > 0.0)
            .map(|a| (after.saturating_sub(before)) as f64 / a);
        println!(
            "seer resident memory: {:.1} MiB before, {:.1} MiB after{}",
            before as f64 / 1048576.0,
            after as f64 / 1048576.0,
            per_series
                .map(|b| format!(", {b:.0} bytes per active series"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
