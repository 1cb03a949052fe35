//! Capacity and degradation rules through the streaming engine (the path `seer replay` and
//! `seer serve` share), on generated series whose true change time or crossing time is known.
//!
//! Noise is seeded (xorshift64* with Box–Muller), so every run sees the same samples.

use std::collections::BTreeMap;
use std::sync::Arc;

use seer::alert::{Notification, NotificationKind};
use seer::detect::{CapacityConfig, CapacityDetector, CapacityModel, Verdict};
use seer::engine::{Engine, EngineOptions};
use seer::models::linear::LinearMethod;
use seer::series::Labels;
use seer::time::{parse_timestamp, Millis};

const SECOND: Millis = 1000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// Samples start here (2024-01-01T00:00:00Z).
const T0: Millis = 1_704_067_200_000;

struct Normal(u64);

impl Normal {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (bits as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn next(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Runs `samples` of the series `metric` through the rules in `yaml`; returns the
/// notifications with their event times.
fn replay(yaml: &str, metric: &str, samples: Vec<(Millis, f64)>) -> Vec<(Millis, Notification)> {
    let rules = seer::rules::parse("test.yaml", yaml).expect("valid rules");
    assert!(rules.rules().all(|r| r.available), "{:?}", rules.warnings);
    let mut engine = Engine::new(&rules, EngineOptions::default());
    let labels = Arc::new(Labels::with_metric(metric, [("instance", "db-1")]));
    engine
        .process_grouped(vec![(labels, samples)])
        .into_iter()
        .map(|e| (e.at_ms, e.notification))
        .collect()
}

fn of_kind(
    sent: &[(Millis, Notification)],
    kind: NotificationKind,
) -> Vec<&(Millis, Notification)> {
    sent.iter().filter(|(_, n)| n.kind == kind).collect()
}

fn time(text: &str) -> Millis {
    parse_timestamp(text).unwrap_or_else(|| panic!("not a timestamp: {text:?}"))
}

/// `[a, b]` of two RFC 3339 times (or `never`, as `None`).
fn interval(text: &str) -> (Option<Millis>, Option<Millis>) {
    let inner = text.trim_start_matches('[').trim_end_matches(']');
    let (a, b) = inner.split_once(", ").unwrap();
    let parse = |s: &str| (s != "never").then(|| time(s));
    (parse(a), parse(b))
}

fn number(annotations: &BTreeMap<String, String>, key: &str) -> f64 {
    annotations[key].parse().unwrap()
}

const DEGRADATION: &str = "
predictive_monitoring:
  performance_degradation:
    - {metric: response_time, model: change_point_detection, sensitivity: high,
       alert_on: significant_increase}
";

/// Latency of 200 ms with 8 % noise every 15 s; from sample 1000 on, times `factor`.
fn latency(factor: f64) -> Vec<(Millis, f64)> {
    let mut noise = Normal(42);
    (0..2000)
        .map(|i| {
            let level = if i >= 1000 { 0.2 * factor } else { 0.2 };
            (T0 + i * 15 * SECOND, level * (1.0 + 0.08 * noise.next()))
        })
        .collect()
}

#[test]
fn latency_step_up_alerts_once_then_re_baselines() {
    let sent = replay(DEGRADATION, "response_time", latency(1.4));
    let step_at = T0 + 1000 * 15 * SECOND;

    // One alert, fired within 5 samples of the step.
    let fired = of_kind(&sent, NotificationKind::Fired);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    let (at, alert) = fired[0];
    eprintln!(
        "fired {} samples after the step: {:?}",
        (at - step_at) / (15 * SECOND),
        alert.annotations
    );
    assert!(
        *at >= step_at && *at <= step_at + 5 * 15 * SECOND,
        "fired {} samples after the step",
        (at - step_at) / (15 * SECOND)
    );

    // It says what changed: 0.2 -> 0.28, +40 %, starting at the step (within one sample).
    let a = &alert.annotations;
    assert_eq!(a["model"], "change_point_detection");
    assert_eq!(a["direction"], "increase");
    assert!((number(a, "level_before") - 0.2).abs() < 0.01, "{a:?}");
    assert!((number(a, "level_after") - 0.28).abs() < 0.02, "{a:?}");
    assert!(a["shift"].starts_with('+'), "{a:?}");
    assert!(
        (time(&a["change_started_at"]) - step_at).abs() <= 15 * SECOND,
        "{a:?}"
    );

    // Resolved once the new level is the baseline: MIN_BASELINE (40) samples after the change,
    // and nothing fires again at the new level.
    let resolved = of_kind(&sent, NotificationKind::Resolved);
    assert_eq!(resolved.len(), 1, "{resolved:#?}");
    let (resolved_at, _) = resolved[0];
    let samples_to_resolve = (resolved_at - step_at) / (15 * SECOND);
    eprintln!("resolved {samples_to_resolve} samples after the step");
    assert!(
        (39..=41).contains(&samples_to_resolve),
        "resolved {samples_to_resolve} samples after the step"
    );
}

#[test]
fn latency_step_down_does_not_alert_on_significant_increase() {
    let sent = replay(DEGRADATION, "response_time", latency(0.6));
    assert!(
        of_kind(&sent, NotificationKind::Fired).is_empty(),
        "{sent:#?}"
    );
}

const DISK: &str = "
predictive_monitoring:
  capacity_planning:
    - {metric: disk_usage, model: linear_regression, forecast_window: 30d, alert_threshold: 80%}
";

/// Disk usage in percent every 5 minutes for 10 days, `trend(t)` plus N(0, 0.3²) noise.
fn disk(trend: impl Fn(Millis) -> f64) -> Vec<(Millis, f64)> {
    let mut noise = Normal(7);
    (0..10 * DAY / (5 * MINUTE))
        .map(|i| {
            let t = i * 5 * MINUTE;
            (T0 + t, trend(t) + 0.3 * noise.next())
        })
        .collect()
}

/// The last notification of a firing capacity alert: its time and annotations.
fn last_capacity_notice(sent: &[(Millis, Notification)]) -> (Millis, BTreeMap<String, String>) {
    assert_eq!(
        of_kind(sent, NotificationKind::Fired).len(),
        1,
        "one alert, kept firing"
    );
    let (at, last) = sent.last().unwrap();
    assert_ne!(last.kind, NotificationKind::Resolved);
    (*at, last.annotations.clone())
}

#[test]
fn linear_disk_growth_time_to_threshold_within_10_percent() {
    // 2 % a day from 36 %: 56 % after 10 days, 80 % twelve days after the last sample.
    let per_ms = 2.0 / DAY as f64;
    let samples = disk(|t| 36.0 + per_ms * t as f64);
    let truth = T0 + 22 * DAY;
    let sent = replay(DISK, "disk_usage", samples);

    let (at, a) = last_capacity_notice(&sent);
    assert_eq!(a["threshold"], "80");
    assert_eq!(a["fit"], "theil_sen");
    let estimate = time(&a["threshold_crossing_at"]);
    let error = (estimate - truth).abs() as f64 / (truth - at) as f64;
    eprintln!("error {:.2} %: {a:?}", 100.0 * error);
    assert!(
        error <= 0.10,
        "estimate {} vs truth {}: {:.1} %",
        a["threshold_crossing_at"],
        seer::time::rfc3339(truth),
        100.0 * error
    );
    assert!(a["time_to_threshold"].starts_with("11d") || a["time_to_threshold"].starts_with("12d"));
    let (earliest, latest) = interval(&a["threshold_crossing_interval"]);
    assert!(
        earliest.unwrap() <= estimate && estimate <= latest.unwrap(),
        "{a:?}"
    );
}

#[test]
fn sawtooth_disk_with_six_hourly_cleanups_within_15_percent() {
    // The same net 2 % a day, but usage climbs 3 % faster within each 6-hour cycle and a
    // clean-up drops it back at the end: a sawtooth of 3 % around the trend. The disk first
    // reaches 80 % at a sawtooth peak, 0.75 days before the trend line does.
    let per_ms = 2.0 / DAY as f64;
    let cycle = 6 * HOUR;
    let sawtooth = move |t: Millis| 3.0 * ((t % cycle) as f64 / cycle as f64 - 0.5);
    let samples = disk(move |t| 36.0 + per_ms * t as f64 + sawtooth(t));
    let truth = (0..)
        .map(|i| i * 5 * MINUTE)
        .find(|&t| 36.0 + per_ms * t as f64 + sawtooth(t) >= 80.0)
        .unwrap()
        + T0;
    let sent = replay(DISK, "disk_usage", samples);

    let (at, a) = last_capacity_notice(&sent);
    let estimate = time(&a["threshold_crossing_at"]);
    let error = (estimate - truth).abs() as f64 / (truth - at) as f64;
    eprintln!("error {:.2} %: {a:?}", 100.0 * error);
    assert!(
        error <= 0.15,
        "estimate {} vs truth {}: {:.1} %",
        a["threshold_crossing_at"],
        seer::time::rfc3339(truth),
        100.0 * error
    );
}

/// The last verdict's `time_to_threshold` of a detector fed `samples`.
fn time_to_threshold(config: CapacityConfig, samples: &[(Millis, f64)]) -> String {
    let mut detector = CapacityDetector::new(config);
    let mut last = None;
    for &(t, v) in samples {
        if let Verdict::Scored(e) = detector.observe(t, v) {
            last = Some(e);
        }
    }
    let evidence = last.expect("scored after the warm-up");
    evidence
        .extra
        .iter()
        .find(|(k, _)| k == "time_to_threshold")
        .unwrap()
        .1
        .clone()
}

#[test]
fn flat_or_shrinking_disk_never_reaches_the_threshold() {
    let config = CapacityConfig::for_window(
        CapacityModel::Linear(LinearMethod::TheilSen),
        30 * DAY,
        80.0,
    );
    let flat = disk(|_| 50.0);
    assert_eq!(time_to_threshold(config, &flat), "never");
    assert!(replay(DISK, "disk_usage", flat).is_empty());

    let shrinking = disk(|t| 60.0 - t as f64 / DAY as f64);
    assert_eq!(time_to_threshold(config, &shrinking), "never");
    assert!(replay(DISK, "disk_usage", shrinking).is_empty());
}

#[test]
fn damped_memory_growth_interval_contains_the_true_crossing() {
    // Memory approaching 95 % as 95 - 45 e^(-t / 4d), every 10 minutes for 4 days, with
    // N(0, 0.3²) noise: it reaches 90 % at t = 4d · ln 9 = 8.79 days, 4.79 days after the last
    // sample, inside the 7-day window.
    let rules = "
predictive_monitoring:
  capacity_planning:
    - {metric: memory_usage, model: exponential_smoothing, forecast_window: 7d,
       alert_threshold: 90%}
";
    let tau = 4.0 * DAY as f64;
    let mut noise = Normal(3);
    let samples: Vec<(Millis, f64)> = (0..4 * DAY / (10 * MINUTE))
        .map(|i| {
            let t = i * 10 * MINUTE;
            (
                T0 + t,
                95.0 - 45.0 * (-(t as f64) / tau).exp() + 0.3 * noise.next(),
            )
        })
        .collect();
    let truth = T0 + (tau * 9f64.ln()) as Millis;
    let sent = replay(rules, "memory_usage", samples);

    let (_, a) = last_capacity_notice(&sent);
    assert_eq!(a["model"], "exponential_smoothing");
    let (earliest, latest) = interval(&a["threshold_crossing_interval"]);
    let (earliest, latest) = (earliest.unwrap(), latest.expect("a bounded interval"));
    eprintln!("truth {}: {a:?}", seer::time::rfc3339(truth));
    assert!(
        earliest <= truth && truth <= latest,
        "interval {} does not contain {}",
        a["threshold_crossing_interval"],
        seer::time::rfc3339(truth)
    );
}
