//! Where notifications go: the [`Sink`] trait and the NDJSON sink.
//!
//! The Alertmanager sink is in [`super::alertmanager`].

use std::io::Write;

use super::notification::Notification;
use super::payload::ndjson_line;
use crate::error::Error;

/// Something that takes batches of notifications, in the order the lifecycle produced them.
pub trait Sink {
    /// Delivers `notifications`. An empty batch is a no-op.
    ///
    /// # Errors
    ///
    /// When the batch could not be delivered; the error names the destination.
    fn send(&mut self, notifications: &[Notification]) -> Result<(), Error>;
}

/// Collects notifications in memory; for tests and for callers that post-process them.
impl Sink for Vec<Notification> {
    fn send(&mut self, notifications: &[Notification]) -> Result<(), Error> {
        self.extend_from_slice(notifications);
        Ok(())
    }
}

/// Writes one JSON object per line (the Alertmanager alert plus `status`) to any writer, such as
/// stdout or a file, and flushes after each batch so that a reader sees whole batches promptly.
#[derive(Debug)]
pub struct NdjsonSink<W: Write> {
    out: W,
    destination: String,
}

impl<W: Write> NdjsonSink<W> {
    /// A sink writing to `out`; `destination` (a path, or `stdout`) names it in errors.
    pub fn new(out: W, destination: impl Into<String>) -> Self {
        NdjsonSink {
            out,
            destination: destination.into(),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for NdjsonSink<W> {
    fn send(&mut self, notifications: &[Notification]) -> Result<(), Error> {
        if notifications.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for notification in notifications {
            text.push_str(&ndjson_line(notification));
            text.push('\n');
        }
        self.out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|source| Error::io(&self.destination, source))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::alert::notification::{AlertStatus, NotificationKind};
    use crate::series::Labels;

    fn notification(status: AlertStatus) -> Notification {
        Notification {
            kind: NotificationKind::Fired,
            status,
            labels: Labels::new([("alertname", "A"), ("instance", "x")]),
            annotations: BTreeMap::new(),
            starts_at: 0,
            ends_at: 60_000,
            generator_url: None,
        }
    }

    #[test]
    fn writes_one_object_per_line() {
        let mut sink = NdjsonSink::new(Vec::new(), "memory");
        sink.send(&[
            notification(AlertStatus::Firing),
            notification(AlertStatus::Resolved),
        ])
        .unwrap();
        sink.send(&[]).unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["status"], "firing");
        assert_eq!(first["labels"]["instance"], "x");
        assert_eq!(first["startsAt"], "1970-01-01T00:00:00.000Z");
        let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(second["status"], "resolved");
    }

    #[test]
    fn write_errors_name_the_destination() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut sink = NdjsonSink::new(Broken, "/var/log/seer/alerts.ndjson");
        let err = sink
            .send(&[notification(AlertStatus::Firing)])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "/var/log/seer/alerts.ndjson: disk full");
    }

    #[test]
    fn vec_collects() {
        let mut sink: Vec<Notification> = Vec::new();
        sink.send(&[notification(AlertStatus::Firing)]).unwrap();
        assert_eq!(sink.len(), 1);
    }
}
