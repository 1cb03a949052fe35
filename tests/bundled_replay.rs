//! `seer replay` on the bundled NAB series with the default rules: every labelled anomaly
//! window of `ec2_request_latency_system_failure` and `machine_temperature_system_failure` gets
//! at least one alert whose `startsAt` lies inside the window or at most one window-width
//! before it. The windows are NAB's (`data/windows.json`, copied from NAB's
//! `labels/combined_windows.json`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use seer::alert::NotificationKind;
use seer::engine::EngineOptions;
use seer::replay::{self, CsvNaming};
use seer::time::parse_timestamp;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn default_rules_alert_on_every_labelled_window() {
    let windows: BTreeMap<String, Vec<[String; 2]>> =
        serde_json::from_str(&std::fs::read_to_string(root().join("data/windows.json")).unwrap())
            .unwrap();
    let rules = seer::rules::load(root().join("models/default.yaml")).unwrap();
    let mut fired: Vec<seer::alert::Notification> = Vec::new();
    let files = [
        root().join("data/ec2_request_latency_system_failure.parquet"),
        root().join("data/machine_temperature_system_failure.parquet"),
    ];
    let summary = replay::run(
        &files,
        &CsvNaming::default(),
        &rules,
        EngineOptions::default(),
        &mut [(&mut fired, replay::Delivery::Transitions)],
    )
    .unwrap();
    assert_eq!(summary.engine.samples, 4032 + 22695);

    for name in [
        "ec2_request_latency_system_failure",
        "machine_temperature_system_failure",
    ] {
        let starts: Vec<i64> = fired
            .iter()
            .filter(|n| n.kind == NotificationKind::Fired && n.labels.get("file") == Some(name))
            .map(|n| n.starts_at)
            .collect();
        let spans: Vec<(i64, i64)> = windows[&format!("realKnownCause/{name}.csv")]
            .iter()
            .map(|[a, b]| (parse_timestamp(a).unwrap(), parse_timestamp(b).unwrap()))
            .collect();
        for (start, end) in &spans {
            let width = end - start;
            assert!(
                starts.iter().any(|s| start - width <= *s && s <= end),
                "{name}: no alert for the window {} .. {}; alerts at {:?}",
                seer::time::rfc3339(*start),
                seer::time::rfc3339(*end),
                starts
                    .iter()
                    .map(|s| seer::time::rfc3339(*s))
                    .collect::<Vec<_>>()
            );
        }
        let outside = starts
            .iter()
            .filter(|s| !spans.iter().any(|(a, b)| a - (b - a) <= **s && *s <= b))
            .count();
        println!(
            "{name}: {} alerts, {outside} outside every window",
            starts.len()
        );
    }
}
