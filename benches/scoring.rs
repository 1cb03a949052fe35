//! Per-sample scoring cost of the seasonal detector.
//!
//! - `detect/seasonal/observe-warm/1-day-of-5m-samples`: one sample through a detector that has
//!   learned 14 days of a 5-minute series (daily and weekly shape), averaged over a day of
//!   samples so refits are included at their real rate (one per 6 hours of event time).
//! - `detect/seasonal/observe-no-refit/1-day-of-5m-samples`: the same without refits, which is
//!   the per-sample scoring cost (level update, band lookup, score).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use seer::detect::{DetectorConfig, SeasonalDetector, Verdict};

const STEP_MS: i64 = 300_000;
const PER_DAY: usize = 288;

/// A seeded series: daily and weekly shape plus xorshift noise.
fn series(n: usize) -> Vec<f64> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 1000.0 - 0.5;
            let day = 2.0 * std::f64::consts::PI * (i % PER_DAY) as f64 / PER_DAY as f64;
            let week =
                2.0 * std::f64::consts::PI * (i % (7 * PER_DAY)) as f64 / (7 * PER_DAY) as f64;
            100.0 + 20.0 * day.sin() + 5.0 * week.cos() + 3.0 * noise
        })
        .collect()
}

fn observe(c: &mut Criterion) {
    let history = 14 * PER_DAY;
    let values = series(history + PER_DAY);
    let warm_up = |config: DetectorConfig| {
        let mut detector = SeasonalDetector::new(config);
        for (i, v) in values[..history].iter().enumerate() {
            detector.observe(i as i64 * STEP_MS, *v);
        }
        detector
    };
    let with_refits = warm_up(DetectorConfig::default());
    // A refit interval longer than the history means one fit (at the end of warm-up) and none
    // in the measured day: what is left is the per-sample cost.
    let without = warm_up(DetectorConfig {
        refit_every_ms: 30 * 86_400_000,
        ..DetectorConfig::default()
    });

    let mut group = c.benchmark_group("detect/seasonal");
    group.throughput(Throughput::Elements(PER_DAY as u64));
    group.sample_size(20);
    for (name, warm) in [
        ("observe-warm", &with_refits),
        ("observe-no-refit", &without),
    ] {
        group.bench_function(format!("{name}/1-day-of-5m-samples"), |b| {
            b.iter_batched(
                || warm.clone(),
                |mut detector| {
                    let mut scored = 0usize;
                    for (i, v) in values[history..].iter().enumerate() {
                        let ts = (history + i) as i64 * STEP_MS;
                        if let Verdict::Scored(e) = detector.observe(ts, *v) {
                            scored += 1;
                            black_box(e.deviation);
                        }
                    }
                    // Every sample of a warm detector is scored; anything else is a bug.
                    assert_eq!(scored, PER_DAY);
                    detector
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
