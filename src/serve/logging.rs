//! Logs: JSON lines for machines, text for people at a terminal.
//!
//! Each JSON line holds `timestamp` (RFC 3339, UTC, milliseconds), `level`, `service`
//! (`seer`), `version`, `message`, `target` and the event's structured fields (`series`,
//! `rule`, `alertmanager`, `duration_ms`, ...):
//!
//! ```json
//! {"timestamp":"2026-12-03T12:00:00.000Z","level":"INFO","service":"seer","version":"0.1.0","message":"listening","target":"seer::serve","address":"127.0.0.1:9977"}
//! ```
//!
//! The fixed keys come first, in that order. `RUST_LOG` filters as usual (default `info`).

use std::fmt;
use std::io::IsTerminal;

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// Installs the global subscriber. Does nothing when one is installed already (tests).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json {
        builder.event_format(JsonLines).try_init()
    } else {
        builder.try_init()
    };
}

/// The JSON-lines event format.
#[derive(Debug, Clone, Copy)]
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);

        // Fixed keys first, in this order, so that the lines read well; then the fields.
        let now = jiff::Timestamp::now();
        let head: [(&str, Value); 6] = [
            ("timestamp", format!("{now:.3}").into()),
            ("level", meta.level().as_str().into()),
            ("service", "seer".into()),
            ("version", env!("CARGO_PKG_VERSION").into()),
            ("message", fields.message.take().unwrap_or_default().into()),
            ("target", meta.target().into()),
        ];
        let mut line = String::from("{");
        let pairs = head
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .chain(fields.rest);
        for (i, (key, value)) in pairs.enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&Value::String(key).to_string());
            line.push(':');
            line.push_str(&value.to_string());
        }
        line.push('}');
        writeln!(writer, "{line}")
    }
}

/// Collects an event's fields in the order they were written.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    rest: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.rest.push((field.name().to_string(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_service_version_message_and_fields() {
        let buffer = Buffer::default();
        let out = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_writer(move || out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                series = "up{job=\"a\"}",
                duration_ms = 12u64,
                "checkpoint written"
            );
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["service"], "seer");
        assert_eq!(line["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(line["message"], "checkpoint written");
        assert_eq!(line["series"], "up{job=\"a\"}");
        assert_eq!(line["duration_ms"], 12);
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(text.starts_with("{\"timestamp\":"), "{text}");
    }
}
