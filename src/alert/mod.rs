//! Alerts: the Prometheus rule-manager lifecycle and the sinks notifications leave through.
