//! The alert lifecycle and the Alertmanager sink against a real Alertmanager 0.25, plus the
//! sink's retry and batching behaviour against a scripted local HTTP server.
//!
//! The lifecycle runs on explicit times a little before the real clock, so that a firing
//! alert's `endsAt` lies in the future and a resolved one's in the past, as Alertmanager sees
//! them.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use seer::alert::{
    AlertRule, AlertStatus, AlertTracker, AlertmanagerClient, AlertmanagerConfig, AlertmanagerSink,
    Evidence, LifecycleConfig, Notification, NotificationKind, Sink, Template,
};
use seer::series::Labels;
use seer::time::Millis;
use support::alertmanager::{free_port, Alertmanager};

const RULE: &str = "SeerIntegrationAnomaly";

fn real_now() -> Millis {
    jiff::Timestamp::now().as_millisecond()
}

fn parse_time(text: &serde_json::Value) -> Millis {
    let text = text.as_str().expect("timestamp string");
    text.parse::<jiff::Timestamp>()
        .expect("RFC 3339 timestamp")
        .as_millisecond()
}

fn rule() -> AlertRule {
    AlertRule {
        for_ms: 60_000,
        labels: Labels::new([("severity", "page")]),
        annotations: vec![(
            "summary".to_string(),
            Template::parse("{{ $labels.instance }} serves {{ $value | humanize }} req/s").unwrap(),
        )],
        generator_url: Some("http://seer.test/rules/SeerIntegrationAnomaly".to_string()),
        ..AlertRule::new(RULE)
    }
}

fn series() -> Labels {
    Labels::new([
        ("__name__", "http_requests"),
        ("instance", "web-1"),
        ("job", "api"),
    ])
}

fn evidence(value: f64) -> Option<Evidence> {
    Some(
        Evidence::new(value)
            .with_expected(120.0)
            .with_range(100.0, 140.0)
            .with_model("seasonal"),
    )
}

fn sink_for(urls: &[String]) -> AlertmanagerSink {
    let config = AlertmanagerConfig {
        max_attempts: 2,
        initial_backoff_ms: 10,
        ..AlertmanagerConfig::new(urls.iter().cloned())
    };
    AlertmanagerSink::new(config).expect("valid config")
}

fn string_map(value: &serde_json::Value) -> BTreeMap<String, String> {
    serde_json::from_value(value.clone()).expect("a map of strings")
}

#[test]
fn fired_alert_is_active_and_resolved_alert_leaves() {
    let alertmanager = Alertmanager::start();
    let mut sink = sink_for(&[alertmanager.url()]);
    let (rule, config) = (rule(), LifecycleConfig::default());
    let mut tracker = AlertTracker::new(series());
    let filter = format!("alertname=\"{RULE}\"");

    // Pending two minutes ago, firing one minute ago: endsAt = fired + 4m, in the future.
    let t0 = real_now() - 120_000;
    assert_eq!(tracker.eval(&rule, &config, t0, evidence(250.0)), None);
    let fired = tracker
        .eval(&rule, &config, t0 + 60_000, evidence(1250.0))
        .expect("fires");
    assert_eq!(fired.kind, NotificationKind::Fired);
    sink.send(std::slice::from_ref(&fired))
        .expect("Alertmanager accepts the alert");

    let alerts = alertmanager.alerts(&[&filter]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    let expected_labels: BTreeMap<String, String> = [
        ("__name__", "http_requests"),
        ("alertname", RULE),
        ("instance", "web-1"),
        ("job", "api"),
        ("severity", "page"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(string_map(&alert["labels"]), expected_labels);
    let annotations = string_map(&alert["annotations"]);
    assert_eq!(annotations["summary"], "web-1 serves 1.25k req/s");
    assert_eq!(annotations["value"], "1250");
    assert_eq!(annotations["expected"], "120");
    assert_eq!(annotations["expected_range"], "[100, 140]");
    // (1250 - 140) / 20 half-widths.
    assert_eq!(annotations["deviation"], "55.5");
    assert_eq!(annotations["model"], "seasonal");
    assert_eq!(alert["status"]["state"], "active");
    assert_eq!(
        alert["generatorURL"],
        "http://seer.test/rules/SeerIntegrationAnomaly"
    );
    assert_eq!(parse_time(&alert["startsAt"]), t0 + 60_000);
    assert_eq!(parse_time(&alert["endsAt"]), fired.ends_at);
    assert!(fired.ends_at > real_now());

    // The condition stops half a minute ago: resolved with endsAt in the past.
    let resolved = tracker
        .eval(&rule, &config, t0 + 90_000, None)
        .expect("resolves");
    assert_eq!(resolved.kind, NotificationKind::Resolved);
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert!(resolved.ends_at < real_now());
    assert_eq!(resolved.annotations, fired.annotations);
    sink.send(&[resolved])
        .expect("Alertmanager accepts the resolution");

    let left = alertmanager.wait_for_alerts(&[&filter], Duration::from_secs(5), |a| a.is_empty());
    assert!(left.is_empty(), "resolved alert still listed: {left:#?}");
}

#[test]
fn refused_alerts_name_the_url_and_the_status() {
    let alertmanager = Alertmanager::start();
    let mut sink = sink_for(&[alertmanager.url()]);
    let endpoint = format!("{}/api/v2/alerts", alertmanager.url());
    let now = real_now();
    let notification = |labels: Labels| Notification {
        kind: NotificationKind::Fired,
        status: AlertStatus::Firing,
        labels,
        annotations: BTreeMap::new(),
        starts_at: now,
        ends_at: now + 60_000,
        generator_url: None,
    };

    // An invalid label name.
    let bad_name = notification(Labels::new([("alertname", "Bad"), ("bad-name", "x")]));
    let error = sink.send(&[bad_name]).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{endpoint}: HTTP 400")),
        "{error}"
    );
    assert!(error.contains("invalid label set"), "{error}");

    // No label at all (every empty value is dropped before sending).
    let no_labels = notification(Labels::new([("alertname", "")]));
    let error = sink.send(&[no_labels]).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{endpoint}: HTTP 400")),
        "{error}"
    );
    assert!(
        error.contains("at least one label pair required"),
        "{error}"
    );
}

#[test]
fn one_alertmanager_down_does_not_fail_the_batch() {
    let alertmanager = Alertmanager::start();
    let down = format!("http://127.0.0.1:{}", free_port());
    let mut sink = sink_for(&[down, alertmanager.url()]);
    let (rule, config) = (
        AlertRule {
            for_ms: 0,
            ..rule()
        },
        LifecycleConfig::default(),
    );
    let mut tracker = AlertTracker::new(Labels::new([("instance", "web-2")]));
    let fired = tracker
        .eval(&rule, &config, real_now(), evidence(300.0))
        .unwrap();

    sink.send(&[fired])
        .expect("one Alertmanager took the alert");
    let alerts = alertmanager.alerts(&["instance=\"web-2\""]);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
}

// ---- Retry and batching against a scripted server ----

/// A loopback HTTP server that answers request `i` with `codes[i]` (the last code repeats) and
/// records each request body.
struct ScriptedServer {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl ScriptedServer {
    fn start(codes: &[u16]) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let (codes, recorded) = (codes.to_vec(), Arc::clone(&bodies));
        std::thread::spawn(move || {
            for (i, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { return };
                let code = codes[i.min(codes.len() - 1)];
                answer(stream, code, &recorded);
            }
        });
        ScriptedServer { url, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

/// Reads one request, records its body, answers `code` and closes the connection. The body is
/// recorded before the reply so that the client never returns before the record exists.
fn answer(stream: std::net::TcpStream, code: u16, recorded: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    recorded
        .lock()
        .unwrap()
        .push(String::from_utf8_lossy(&body).into_owned());
    let reply_body = if code == 200 { "" } else { "scripted failure" };
    let reply = format!(
        "HTTP/1.1 {code} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply_body}",
        reply_body.len()
    );
    let _ = reader.get_mut().write_all(reply.as_bytes());
}

fn fired(instance: &str) -> Notification {
    let mut tracker = AlertTracker::new(Labels::new([("instance", instance)]));
    let rule = AlertRule::new("Scripted");
    tracker
        .eval(
            &rule,
            &LifecycleConfig::default(),
            1_704_067_200_000,
            evidence(1.0),
        )
        .unwrap()
}

fn fast_retries(urls: Vec<String>, max_attempts: u32) -> AlertmanagerConfig {
    AlertmanagerConfig {
        max_attempts,
        initial_backoff_ms: 1,
        max_backoff_ms: 5,
        ..AlertmanagerConfig::new(urls)
    }
}

#[test]
fn server_errors_are_retried_until_accepted() {
    let server = ScriptedServer::start(&[503, 500, 200]);
    let mut sink = AlertmanagerSink::new(fast_retries(vec![server.url.clone()], 3)).unwrap();
    sink.send(&[fired("a")])
        .expect("accepted on the third attempt");
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 3);
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "every attempt sends the same batch"
    );
}

#[test]
fn server_errors_give_up_after_max_attempts() {
    let server = ScriptedServer::start(&[503]);
    let mut sink = AlertmanagerSink::new(fast_retries(vec![server.url.clone()], 2)).unwrap();
    let error = sink.send(&[fired("a")]).unwrap_err().to_string();
    let expected = format!(
        "{}/api/v2/alerts: HTTP 503 Service Unavailable: scripted failure \
         (gave up after 2 attempts)",
        server.url
    );
    assert_eq!(error, expected);
    assert_eq!(server.bodies().len(), 2);
}

#[test]
fn client_errors_are_not_retried() {
    let server = ScriptedServer::start(&[422, 200]);
    let mut sink = AlertmanagerSink::new(fast_retries(vec![server.url.clone()], 3)).unwrap();
    let error = sink.send(&[fired("a")]).unwrap_err().to_string();
    assert!(error.contains("HTTP 422"), "{error}");
    assert!(error.contains("scripted failure"), "{error}");
    assert_eq!(server.bodies().len(), 1);
}

#[test]
fn connection_errors_are_retried_then_reported() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let mut sink = AlertmanagerSink::new(fast_retries(vec![url.clone()], 2)).unwrap();
    let error = sink.send(&[fired("a")]).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("{url}/api/v2/alerts: request failed")),
        "{error}"
    );
    assert!(error.ends_with("(gave up after 2 attempts)"), "{error}");
}

#[tokio::test]
async fn async_client_splits_batches() {
    let server = ScriptedServer::start(&[200]);
    let config = AlertmanagerConfig {
        max_batch_size: 2,
        ..AlertmanagerConfig::new([server.url.clone()])
    };
    let client = AlertmanagerClient::new(config).unwrap();
    let batch: Vec<Notification> = ["a", "b", "c", "d", "e"].map(fired).into();
    client.send(&batch).await.unwrap();
    client.send(&[]).await.unwrap();

    let sizes: Vec<usize> = server
        .bodies()
        .iter()
        .map(|body| {
            serde_json::from_str::<Vec<serde_json::Value>>(body)
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
}
