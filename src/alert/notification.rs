//! What the alert lifecycle hands to the sinks.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::series::Labels;
use crate::time::Millis;

/// The status an Alertmanager receiver sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlertStatus {
    /// The alert is active; `endsAt` lies in the future.
    Firing,
    /// The alert has ended; `endsAt` is when it did.
    Resolved,
}

impl AlertStatus {
    /// `firing` or `resolved`, as in Alertmanager's webhook payload.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a notification goes out, so that a caller can report only the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotificationKind {
    /// The alert started firing (a transition).
    Fired,
    /// The current state is repeated because the resend delay has passed since the last send;
    /// the status may be firing or resolved.
    Resent,
    /// The alert stopped firing (a transition).
    Resolved,
}

impl NotificationKind {
    /// True for [`NotificationKind::Fired`] and [`NotificationKind::Resolved`].
    pub fn is_transition(self) -> bool {
        self != NotificationKind::Resent
    }

    /// `fired`, `resent` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Fired => "fired",
            NotificationKind::Resent => "resent",
            NotificationKind::Resolved => "resolved",
        }
    }
}

impl fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert as sent to Alertmanager (or printed as an NDJSON line). Serialisable, so that
/// undelivered notifications can be spooled to disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Why it is sent now.
    pub kind: NotificationKind,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// The alert's identity: series labels, overridden by the rule's labels, plus `alertname`.
    /// [`Labels`] holds no empty values, which Alertmanager would drop silently.
    pub labels: Labels,
    /// Rendered rule annotations and evidence annotations.
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing (not when it became pending), as Prometheus reports it.
    pub starts_at: Millis,
    /// For a firing alert, how long Alertmanager keeps it active without hearing from us again;
    /// for a resolved alert, when it was resolved.
    pub ends_at: Millis,
    /// A link back to the source of the alert, when the rule has one.
    pub generator_url: Option<String>,
}
