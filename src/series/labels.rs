//! A series is its sorted label set; `__name__` carries the metric name, as in Prometheus.

use std::fmt;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// A series fingerprint: the XXH3 hash of its sorted label pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesId(pub u64);

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A label set sorted by name, without empty values (Prometheus drops those too).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// Builds a label set from pairs in any order. Pairs with an empty value are dropped; when a
    /// name repeats, the last value wins.
    pub fn new<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        // Keep the last of equal names: reverse, dedup keeps the first, reverse back.
        pairs.reverse();
        pairs.dedup_by(|a, b| a.0 == b.0);
        pairs.reverse();
        Labels(pairs)
    }

    /// A metric name plus other labels.
    pub fn with_metric<K, V>(metric: &str, others: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut pairs: Vec<(String, String)> = others
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        pairs.retain(|(k, _)| k != METRIC_NAME);
        pairs.push((METRIC_NAME.to_string(), metric.to_string()));
        Labels::new(pairs)
    }

    /// The value of label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// The metric name, or "" when the set has none.
    pub fn metric(&self) -> &str {
        self.get(METRIC_NAME).unwrap_or("")
    }

    /// All pairs, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The pairs other than `__name__`.
    pub fn without_metric(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter(|(k, _)| *k != METRIC_NAME)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the set holds no pair.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fingerprint. Names and values are separated by 0xff, a byte that cannot occur in
    /// UTF-8, so `{a="bc"}` and `{ab="c"}` hash differently.
    pub fn id(&self) -> SeriesId {
        let mut hasher = Xxh3::new();
        for (k, v) in &self.0 {
            hasher.update(k.as_bytes());
            hasher.update(&[0xff]);
            hasher.update(v.as_bytes());
            hasher.update(&[0xff]);
        }
        SeriesId(hasher.digest())
    }

    /// True when `name` is a valid Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    pub fn valid_name(name: &str) -> bool {
        let mut chars = name.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    /// True when `name` is a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    pub fn valid_metric_name(name: &str) -> bool {
        let mut chars = name.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
}

impl fmt::Display for Labels {
    /// Prometheus notation: `metric{a="1", b="2"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{{", self.metric())?;
        for (i, (k, v)) in self.without_metric().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{k}={v:?}")?;
        }
        write!(f, "}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_change_identity() {
        let a = Labels::new([("b", "2"), ("a", "1"), (METRIC_NAME, "up")]);
        let b = Labels::new([(METRIC_NAME, "up"), ("a", "1"), ("b", "2")]);
        assert_eq!(a, b);
        assert_eq!(a.id(), b.id());
        assert_eq!(a.to_string(), r#"up{a="1", b="2"}"#);
    }

    #[test]
    fn separator_prevents_collisions() {
        let a = Labels::new([("a", "bc")]);
        let b = Labels::new([("ab", "c")]);
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn empty_values_dropped_last_duplicate_wins() {
        let l = Labels::new([("a", ""), ("b", "1"), ("b", "2")]);
        assert_eq!(l.len(), 1);
        assert_eq!(l.get("b"), Some("2"));
    }

    #[test]
    fn name_validation() {
        assert!(Labels::valid_name("instance"));
        assert!(!Labels::valid_name("bad-name"));
        assert!(!Labels::valid_name("1x"));
        assert!(Labels::valid_metric_name("job:rate5m"));
    }
}
