//! Alerts: the Prometheus rule-manager lifecycle and the sinks notifications leave through.
//!
//! - [`lifecycle`]: the per (rule, series) state machine, inactive -> pending -> firing ->
//!   resolved, driven by the caller's clock;
//! - [`evidence`]: the facts a detector reports, which become annotations;
//! - [`template`]: Prometheus-style annotation templates (`{{ $labels.x }}`, `{{ $value }}`);
//! - [`notification`]: what the lifecycle emits;
//! - [`payload`]: the Alertmanager API v2 JSON and the NDJSON line;
//! - [`sink`] and [`alertmanager`]: where notifications go.

pub mod alertmanager;
pub mod evidence;
pub mod lifecycle;
pub mod notification;
pub mod payload;
pub mod sink;
pub mod template;

pub use alertmanager::{AlertmanagerClient, AlertmanagerConfig, AlertmanagerSink};
pub use evidence::Evidence;
pub use lifecycle::{AlertRule, AlertState, AlertTracker, LifecycleConfig};
pub use notification::{AlertStatus, Notification, NotificationKind};
pub use sink::{NdjsonSink, Sink};
pub use template::Template;
