//! `predict_linear` and `deriv` parity with Prometheus 2.42.
//!
//! Every expected value was produced by Prometheus itself: `scripts/predict_linear_reference.sh`
//! runs `promtool test rules` (Debian's prometheus 2.42.0+ds-5+deb12u1) on these series and
//! evaluation times and prints the value promtool got in Go's shortest round-trip form, which is
//! the exact float64. The comparison is `==`: no tolerance.

use seer::models::linear::{deriv, predict_linear};

const S: i64 = 1000;
const M: i64 = 60 * S;

/// Values at 0, 15 s, 30 s, ... (promtool's `interval: 15s` from time 0).
fn every_15s(values: &[f64]) -> Vec<(i64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * 15 * S, *v))
        .collect()
}

fn tiny_example() -> Vec<(i64, f64)> {
    every_15s(&[10.0, 12.0, 15.0, 15.0, 20.0])
}

/// 61 points: a trend with a deterministic wobble (the script's `wobble`).
fn wobble() -> Vec<(i64, f64)> {
    every_15s(&[
        120.0, 123.81, 125.2, 123.51, 128.53, 131.13, 130.65, 136.88, 140.69, 132.95, 140.39,
        136.28, 138.88, 147.53, 144.63, 148.44, 149.83, 148.14, 153.16, 155.76, 155.28, 161.51,
        156.19, 157.58, 165.02, 160.91, 163.51, 172.16, 169.26, 173.07, 174.46, 172.77, 177.79,
        171.26, 179.91, 186.14, 180.82, 182.21, 189.65, 185.54, 188.14, 196.79, 193.89, 197.7,
        189.96, 197.4, 202.42, 195.89, 204.54, 210.77, 205.45, 206.84, 214.28, 210.17, 212.77,
        212.29, 218.52, 222.33, 214.59, 222.03, 227.05,
    ])
}

/// 41 byte counts near 1.2e11 (the script's `disk_bytes`): large values with small relative
/// changes, as disk usage in bytes is.
fn disk_bytes() -> Vec<(i64, f64)> {
    let v: [f64; 41] = [
        123456789012.0,
        123457793111.0,
        123458805402.0,
        123459825885.0,
        123460854560.0,
        123461791424.0,
        123462836483.0,
        123463789731.0,
        123464851174.0,
        123465820806.0,
        123466798630.0,
        123467884649.0,
        123468878857.0,
        123469881257.0,
        123470791846.0,
        123471810630.0,
        123472837606.0,
        123473872774.0,
        123474816131.0,
        123475867683.0,
        123476827424.0,
        123477795357.0,
        123478871485.0,
        123479855802.0,
        123480848311.0,
        123481849012.0,
        123482857905.0,
        123483874990.0,
        123484800264.0,
        123485833733.0,
        123486875394.0,
        123487825244.0,
        123488883289.0,
        123489849523.0,
        123490823949.0,
        123491806567.0,
        123492797377.0,
        123493796379.0,
        123494803573.0,
        123495818959.0,
        123496842537.0,
    ];
    every_15s(&v)
}

#[test]
fn worked_example() {
    // predict_linear(tiny_example[1m], 60) at 1m = 28.2 (INTEGRATION.md §5, and promtool).
    assert_eq!(predict_linear(&tiny_example(), M, M, 60.0), Some(28.2));
    // deriv(tiny_example[1m]) at 1m.
    assert_eq!(deriv(&tiny_example(), M, M), Some(0.15333333333333332));
}

#[test]
fn window_is_closed_at_both_ends() {
    // [59s] at 1m drops the sample at 0 (left end is t - 59s = 1 s).
    assert_eq!(
        predict_linear(&tiny_example(), M, 59 * S, 60.0),
        Some(28.700000000000003)
    );
    // [30s] at 45s keeps both the sample at 15 s (t - range, left end) and the one at 45 s
    // (t itself, right end): 12, 15, 15.
    assert_eq!(
        predict_linear(&tiny_example(), 45 * S, 30 * S, 60.0),
        Some(21.5)
    );
}

#[test]
fn constant_series_predicts_itself() {
    // 0.1 nine times: the all-equal rule returns y0 exactly (least squares would round).
    let constant = every_15s(&[0.1; 9]);
    assert_eq!(predict_linear(&constant, 2 * M, 2 * M, 3600.0), Some(0.1));
}

#[test]
fn evaluation_after_the_last_sample() {
    // At 1m30s with [2m]: time is measured from 1m30s, 30 s after the last sample.
    let at = M + 30 * S;
    assert_eq!(predict_linear(&tiny_example(), at, 2 * M, 60.0), Some(32.8));
    assert_eq!(predict_linear(&tiny_example(), at, 2 * M, 0.0), Some(23.6));
}

#[test]
fn longer_series_aligned_and_unaligned() {
    let w = wobble();
    assert_eq!(
        predict_linear(&w, 15 * M, 15 * M, 3600.0),
        Some(633.0113273400322)
    );
    assert_eq!(
        predict_linear(&w, 14 * M + 37 * S, 15 * M, 3600.0),
        Some(628.8407867523864)
    );
    assert_eq!(
        predict_linear(&w, 11 * M, 5 * M, 600.0),
        Some(262.7909523809525)
    );
    assert_eq!(deriv(&w, 15 * M, 15 * M), Some(0.11365489159175049));
}

#[test]
fn byte_counts_near_1e11() {
    let d = disk_bytes();
    assert_eq!(
        predict_linear(&d, 10 * M, 10 * M, 86400.0),
        Some(129258474573.72475)
    );
    assert_eq!(
        predict_linear(&d, 10 * M + 7 * S, 10 * M, 86400.0),
        Some(129258100655.40324)
    );
}

#[test]
fn fewer_than_two_samples_give_no_output() {
    assert_eq!(predict_linear(&tiny_example(), M, 10 * S, 60.0), None);
    assert_eq!(deriv(&[], M, M), None);
}
