//! `seer serve` between a real Prometheus 2.42 and a real Alertmanager 0.25, on loopback.
//!
//! Prometheus scrapes a target the test serves every second and remote-writes to seer; seer
//! starts warm from generated history of the same series (so the test need not wait for a
//! day of warm-up). One test walks through the whole life of an alert:
//!
//! 1. the target's value jumps: the alert must be in Alertmanager within 30 s;
//! 2. Alertmanager is stopped while the alert fires and started again: the alert must arrive
//!    again (Alertmanager 0.25 keeps alerts in memory only), through seer's spool;
//! 3. seer is killed with SIGKILL and restarted from its state directory: its API must show the
//!    series' learned state and the firing alert (same `firedAt`) at once, before new samples;
//! 4. the value returns: the alert must leave Alertmanager (resolved);
//! 5. SIGTERM stops seer cleanly.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use seer::batch::SampleBatchBuilder;
use seer::series::Labels;
use support::alertmanager::{free_port, Alertmanager};
use support::prometheus::Prometheus;
use support::seer::Seer;
use support::target::{noise, Target};

const METRIC: &str = "seer_e2e_value";
const ALERT: &str = "E2EValueJump";
const NORMAL: f64 = 10.0;
const JUMP: f64 = 1000.0;

fn rules() -> String {
    format!(
        "\
anomaly_detection:
  - name: {ALERT}
    match: '{{__name__=\"{METRIC}\"}}'
    model: seasonal
    interval_width: 0.9
    for: 0s
    warmup: 5m
    refit_every: 1h
    history: 1h
    min_deviation: 5
    labels: {{severity: page}}
    annotations: {{summary: 'value {{{{ $value }}}} of {{{{ $labels.instance }}}} jumped'}}
"
    )
}

/// Half an hour of 1-second history of the series Prometheus will produce, ending now.
fn write_history(path: &Path, instance: &str) {
    let now = seer::serve::now_ms();
    let mut builder = SampleBatchBuilder::new();
    let id = builder.intern(Labels::with_metric(
        METRIC,
        [("instance", instance), ("job", "e2e")],
    ));
    for k in 0..1800u64 {
        let ts = now - (1800 - k as i64) * 1000;
        builder.push(id, ts, NORMAL + noise(k));
    }
    seer::ingest::write_parquet(path, &[builder.finish()]).unwrap();
}

fn alert_listed(am: &Alertmanager) -> Vec<serde_json::Value> {
    am.alerts(&[&format!("alertname=\"{ALERT}\"")])
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

/// The sum of the values of seer's metric lines that start with `name` and contain `part`.
fn metric_value(seer: &Seer, name: &str, part: &str) -> f64 {
    let (_, text) = seer.get("/metrics");
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(part))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn prometheus_remote_write_to_alertmanager_through_outages_and_restarts() {
    let started = Instant::now();
    let mut am = Alertmanager::start();
    let target = Target::start(METRIC, NORMAL);
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.parquet");
    write_history(&history, &target.address());
    let rules_path = dir.path().join("rules.yaml");
    std::fs::write(&rules_path, rules()).unwrap();

    let port = free_port();
    let config = dir.path().join("seer.yml");
    std::fs::write(
        &config,
        format!(
            "\
listen_address: 127.0.0.1:{port}
rules: [{rules}]
state_dir: {state}
alertmanager: {{urls: ['{am}'], max_attempts: 2, initial_backoff_ms: 100, timeout_ms: 2000}}
lifecycle: {{resend_delay_ms: 2000, eval_interval_ms: 1000, resolved_retention_ms: 60000}}
checkpoint_interval_secs: 1
sweep_interval_secs: 1
spool: {{redeliver_interval_secs: 1}}
warm_start: {{history: [{history}]}}
log_format: json
",
            rules = rules_path.display(),
            state = dir.path().join("state").display(),
            am = am.url(),
            history = history.display(),
        ),
    )
    .unwrap();
    let mut seer = Seer::start(&config, port, &dir.path().join("seer.log"));

    let prometheus = Prometheus::start(&format!(
        "\
global: {{scrape_interval: 1s, scrape_timeout: 900ms}}
scrape_configs:
  - job_name: e2e
    static_configs: [{{targets: ['{target}']}}]
remote_write:
  - url: http://127.0.0.1:{port}/api/v1/write
    queue_config: {{batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 1s}}
    metadata_config: {{send: false}}
",
        target = target.address()
    ));

    // Live samples reach the detector, which is warm from history.
    let series_path = format!("/api/v1/series?match={METRIC}");
    let history_end = seer::serve::now_ms();
    wait_for("live samples scored", Duration::from_secs(30), || {
        let data = seer.get_json(&series_path)["data"].clone();
        data[0]["last_sample_ms"].as_i64().unwrap_or(0) > history_end
    });
    let listed = seer.get_json(&series_path);
    let rule = &listed["data"][0]["rules"][0];
    assert_eq!(rule["rule"], ALERT, "{listed}");
    assert!(rule["fits"].as_u64().unwrap() >= 1, "{listed}");
    assert!(alert_listed(&am).is_empty());

    // Backfill reads the same series back from this Prometheus' query API.
    let rules = seer::rules::parse("rules.yaml", &rules()).unwrap();
    let fresh = std::sync::Arc::new(seer::serve::scoring::Shards::new(
        &rules,
        seer::engine::EngineOptions::default(),
        1,
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let backfilled = runtime
        .block_on(seer::serve::warm::backfill(
            &prometheus.url(),
            &[format!("{{__name__=\"{METRIC}\"}}")],
            std::sync::Arc::clone(&fresh),
            seer::serve::now_ms(),
            20_000,
            1_000,
            Duration::from_secs(10),
        ))
        .unwrap();
    assert!(backfilled >= 1, "{backfilled} samples backfilled");
    let labels = fresh.lock(0).engine.summaries()[0].labels.clone();
    assert_eq!(labels.get("instance"), Some(target.address().as_str()));

    // 1. The jump is in Alertmanager within 30 seconds.
    target.set(JUMP);
    let took = wait_for("alert in Alertmanager", Duration::from_secs(30), || {
        !alert_listed(&am).is_empty()
    });
    eprintln!("jump to alert in Alertmanager: {took:?}");
    let alert = &alert_listed(&am)[0];
    assert_eq!(alert["labels"]["severity"], "page");
    assert_eq!(alert["labels"]["instance"], target.address());
    assert!(alert["annotations"]["summary"]
        .as_str()
        .unwrap()
        .contains("jumped"));
    assert_eq!(alert["annotations"]["model"], "seasonal");

    // 2. Alertmanager goes away while the alert fires; what seer could not deliver is
    // spooled and arrives once Alertmanager is back.
    am.stop();
    wait_for("notifications spooled", Duration::from_secs(20), || {
        metric_value(&seer, "seer_spool_notifications", "") > 0.0
    });
    am.restart();
    let took = wait_for(
        "alert after Alertmanager restart",
        Duration::from_secs(20),
        || !alert_listed(&am).is_empty(),
    );
    eprintln!("Alertmanager restart to alert listed again: {took:?}");
    wait_for("spool redelivered", Duration::from_secs(20), || {
        let name = "seer_alertmanager_notifications_total";
        metric_value(&seer, name, "outcome=\"redelivered\"") > 0.0
            && metric_value(&seer, "seer_spool_notifications", "") == 0.0
    });

    // 3. SIGKILL and restart: state and the firing alert come back from the checkpoint.
    std::thread::sleep(Duration::from_millis(1500)); // at least one checkpoint since the jump
    let before = seer.get_json("/api/v1/alerts")["data"]["alerts"].clone();
    assert_eq!(before.as_array().unwrap().len(), 1, "{before}");
    assert_eq!(before[0]["state"], "firing");
    let scored_before = seer.get_json(&series_path)["data"][0]["rules"][0]["scored"]
        .as_u64()
        .unwrap();
    seer.kill_and_restart();
    let after = seer.get_json("/api/v1/alerts")["data"]["alerts"].clone();
    assert_eq!(after.as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after[0]["state"], "firing");
    assert_eq!(after[0]["firedAt"], before[0]["firedAt"]);
    let restored = seer.get_json(&series_path);
    let rule = &restored["data"][0]["rules"][0];
    assert!(rule["fits"].as_u64().unwrap() >= 1, "{restored}");
    // The checkpoint is at most a second or two older than the kill.
    assert!(
        rule["scored"].as_u64().unwrap() + 10 >= scored_before,
        "{restored} vs {scored_before}"
    );
    let id = restored["data"][0]["id"].as_str().unwrap().to_string();
    let forecast = seer.get_json(&format!("/api/v1/series/{id}/forecast?steps=5"));
    assert_eq!(
        forecast["data"]["rules"][0]["band"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert!(!alert_listed(&am).is_empty());

    // 4. The value returns: the alert resolves and leaves Alertmanager.
    target.set(NORMAL);
    let took = wait_for("alert resolved", Duration::from_secs(30), || {
        alert_listed(&am).is_empty()
    });
    eprintln!("value back to resolved in Alertmanager: {took:?}");
    assert!(seer.log().contains("\"message\":\"alert resolved\""));

    // 5. A clean stop writes a final checkpoint.
    seer.terminate();
    assert!(dir.path().join("state/checkpoint.cbor.sz").is_file());
    eprintln!("whole test: {:?}", started.elapsed());
}
