//! The JSON that notifications travel in.
//!
//! Alertmanager's API v2 (`POST /api/v2/alerts`) takes an array of objects with `labels`,
//! `annotations`, `startsAt`, `endsAt` and `generatorURL`, timestamps as RFC 3339 strings. The
//! NDJSON output writes the same object per line plus `"status": "firing" | "resolved"`.
//!
//! Alertmanager 0.25 behaviour these functions are built around:
//!
//! - A label with an empty value is dropped silently, so none is ever written; a set left empty
//!   is refused with 400 `at least one label pair required`.
//! - `startsAt` is always written: without it Alertmanager uses the time of arrival, or
//!   `endsAt` when only that is given.
//! - A resolve without annotations blanks them, so resolved notifications carry them again.
//! - `generatorURL` must parse as a URL (422 otherwise) and is left out when the rule has none.

use std::collections::BTreeMap;

use serde::Serialize;

use super::notification::Notification;
use crate::time::rfc3339;

/// One alert in Alertmanager's API v2 form.
#[derive(Debug, Serialize)]
struct ApiAlert<'a> {
    labels: BTreeMap<&'a str, &'a str>,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    generator_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

impl<'a> ApiAlert<'a> {
    fn new(notification: &'a Notification, with_status: bool) -> Self {
        ApiAlert {
            labels: notification
                .labels
                .iter()
                .filter(|(_, value)| !value.is_empty())
                .collect(),
            annotations: &notification.annotations,
            starts_at: rfc3339(notification.starts_at),
            ends_at: rfc3339(notification.ends_at),
            generator_url: notification.generator_url.as_deref(),
            status: with_status.then(|| notification.status.as_str()),
        }
    }
}

/// The body of `POST /api/v2/alerts` for `notifications`: a JSON array.
pub fn alertmanager_body(notifications: &[Notification]) -> Vec<u8> {
    let alerts: Vec<ApiAlert<'_>> = notifications
        .iter()
        .map(|n| ApiAlert::new(n, false))
        .collect();
    // Maps with string keys, strings and options cannot fail to serialise.
    serde_json::to_vec(&alerts).unwrap_or_else(|_| b"[]".to_vec())
}

/// One NDJSON line for `notification`, without the trailing newline.
pub fn ndjson_line(notification: &Notification) -> String {
    serde_json::to_string(&ApiAlert::new(notification, true)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::notification::{AlertStatus, NotificationKind};
    use crate::series::Labels;

    fn notification(status: AlertStatus) -> Notification {
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".to_string(), "disk \"db1\" full".to_string());
        Notification {
            kind: NotificationKind::Fired,
            status,
            labels: Labels::new([
                ("alertname", "DiskFull"),
                ("instance", "db1"),
                ("empty", ""),
            ]),
            annotations,
            // 2024-01-01T00:00:00Z and two minutes later.
            starts_at: 1_704_067_200_000,
            ends_at: 1_704_067_320_500,
            generator_url: None,
        }
    }

    #[test]
    fn alertmanager_body_shape() {
        let body = alertmanager_body(&[notification(AlertStatus::Firing)]);
        let text = String::from_utf8(body).unwrap();
        assert_eq!(
            text,
            r#"[{"labels":{"alertname":"DiskFull","instance":"db1"},"#.to_string()
                + r#""annotations":{"summary":"disk \"db1\" full"},"#
                + r#""startsAt":"2024-01-01T00:00:00.000Z","endsAt":"2024-01-01T00:02:00.500Z"}]"#
        );
        assert_eq!(alertmanager_body(&[]), b"[]");
    }

    #[test]
    fn ndjson_line_has_status_and_generator_url() {
        let mut n = notification(AlertStatus::Resolved);
        n.generator_url = Some("http://seer.example/r".to_string());
        let value: serde_json::Value = serde_json::from_str(&ndjson_line(&n)).unwrap();
        assert_eq!(value["status"], "resolved");
        assert_eq!(value["generatorURL"], "http://seer.example/r");
        assert_eq!(value["endsAt"], "2024-01-01T00:02:00.500Z");
        assert!(!ndjson_line(&n).contains('\n'));
    }
}
