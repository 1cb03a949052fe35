//! End to end against a real Alertmanager 0.25: a series with a known anomaly goes through the
//! CSV decoder, the rules, the engine (detector and alert lifecycle) and the Alertmanager sink;
//! `GET /api/v2/alerts` must show the alert with the rule's and the series' labels and the
//! evidence annotations, and must stop listing it once the series is back to normal.
//!
//! The series ends two minutes before the real clock, so the firing alert's `endsAt` (event
//! time plus four resend intervals) lies in the future and the resolution's in the past.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use seer::alert::{AlertmanagerConfig, AlertmanagerSink, Notification, NotificationKind, Sink};
use seer::engine::{Engine, EngineOptions};
use seer::ingest::read_csv;
use seer::series::Labels;
use support::alertmanager::Alertmanager;

const RULES: &str = r#"
anomaly_detection:
  - name: CheckoutLatencyAnomaly
    match: '{__name__="checkout_latency_seconds", env="test"}'
    model: seasonal
    interval_width: 0.99
    seasonality_mode: multiplicative
    for: 2m
    warmup: 1d
    history: 3d
    labels: {severity: page, team: payments}
    annotations:
      summary: "Checkout latency on {{ $labels.instance }} left its usual range"
"#;

const STEP_MS: i64 = 60_000;

/// A day-periodic latency around 0.2 s with deterministic noise.
fn normal(i: i64) -> f64 {
    let day = 2.0 * std::f64::consts::PI * (i % 1440) as f64 / 1440.0;
    let noise = ((i * 7919) % 23) as f64 / 23.0 - 0.5;
    0.2 * (1.0 + 0.3 * day.sin()) * (1.0 + 0.02 * noise)
}

fn csv(rows: &[(i64, f64)]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    writeln!(file, "timestamp,value").unwrap();
    for (ts, v) in rows {
        writeln!(file, "{ts},{v}").unwrap();
    }
    file
}

fn string_map(value: &serde_json::Value) -> BTreeMap<String, String> {
    serde_json::from_value(value.clone()).expect("a map of strings")
}

#[test]
fn replayed_anomaly_reaches_alertmanager_and_resolves() {
    let alertmanager = Alertmanager::start();
    let rules_file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(rules_file.path(), RULES).unwrap();
    let rules = seer::rules::load(rules_file.path()).expect("rules load");
    let labels = Labels::with_metric(
        "checkout_latency_seconds",
        [("env", "test"), ("instance", "web-7")],
    );

    // Three days of history ending two minutes ago; the last eight minutes are 4x too slow.
    let end = (jiff::Timestamp::now().as_millisecond() / STEP_MS - 2) * STEP_MS;
    let n = 3 * 1440;
    let history: Vec<(i64, f64)> = (0..n)
        .map(|i| {
            let ts = end - (n - 1 - i) * STEP_MS;
            let v = if i >= n - 8 {
                4.0 * normal(i)
            } else {
                normal(i)
            };
            (ts / 1000, v)
        })
        .collect();
    let mut engine = Engine::new(&rules, EngineOptions::default());
    let batch = read_csv(csv(&history).path(), &labels).unwrap();
    let emitted = engine.process(&batch);
    let sent: Vec<Notification> = emitted.into_iter().map(|e| e.notification).collect();
    assert!(
        sent.iter().any(|n| n.kind == NotificationKind::Fired),
        "the anomaly fired: {sent:#?}"
    );
    let mut sink = AlertmanagerSink::new(AlertmanagerConfig::new([alertmanager.url()])).unwrap();
    sink.send(&sent).expect("Alertmanager accepts the alerts");

    let filter = "alertname=\"CheckoutLatencyAnomaly\"";
    let alerts = alertmanager.wait_for_alerts(&[filter], Duration::from_secs(5), |a| !a.is_empty());
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    let expected: BTreeMap<String, String> = [
        ("__name__", "checkout_latency_seconds"),
        ("alertname", "CheckoutLatencyAnomaly"),
        ("env", "test"),
        ("instance", "web-7"),
        ("severity", "page"),
        ("team", "payments"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(string_map(&alert["labels"]), expected);
    let annotations = string_map(&alert["annotations"]);
    assert_eq!(
        annotations["summary"],
        "Checkout latency on web-7 left its usual range"
    );
    assert_eq!(annotations["model"], "seasonal");
    // The annotations are those of one of the slow samples: about 4x what the model expected,
    // and the expectation within the series' normal range (0.2 s +- 30%).
    let value: f64 = annotations["value"].parse().unwrap();
    let expected_value: f64 = annotations["expected"].parse().unwrap();
    let slow: Vec<f64> = (n - 8..n).map(|i| 4.0 * normal(i)).collect();
    assert!(
        slow.iter().any(|v| (v - value).abs() < 1e-9),
        "{annotations:?}"
    );
    assert!((0.13..0.27).contains(&expected_value), "{annotations:?}");
    assert!(value / expected_value > 3.0, "{annotations:?}");
    assert!(
        annotations["expected_range"].starts_with('['),
        "{annotations:?}"
    );
    assert_eq!(alert["status"]["state"], "active");

    // One normal sample a minute later resolves it; Alertmanager then stops listing it.
    let back = [((end + STEP_MS) / 1000, normal(n))];
    let batch = read_csv(csv(&back).path(), &labels).unwrap();
    let emitted = engine.process(&batch);
    let resolved: Vec<Notification> = emitted.into_iter().map(|e| e.notification).collect();
    assert_eq!(resolved.len(), 1, "{resolved:#?}");
    assert_eq!(resolved[0].kind, NotificationKind::Resolved);
    sink.send(&resolved)
        .expect("Alertmanager accepts the resolution");
    let alerts = alertmanager.wait_for_alerts(&[filter], Duration::from_secs(5), |a| a.is_empty());
    assert!(
        alerts.is_empty(),
        "still listed after resolution: {alerts:#?}"
    );
}
