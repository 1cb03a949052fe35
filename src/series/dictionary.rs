//! The dictionary that travels beside Arrow batches: fingerprint to interned labels.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Labels, SeriesId};

/// Maps series fingerprints to their label sets. Labels are interned behind `Arc`, so a batch
/// can carry only the `u64` fingerprint per row.
#[derive(Debug, Clone, Default)]
pub struct SeriesDictionary {
    by_id: HashMap<SeriesId, Arc<Labels>>,
}

impl SeriesDictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns `labels` and returns its fingerprint.
    pub fn intern(&mut self, labels: Labels) -> SeriesId {
        let id = labels.id();
        self.by_id.entry(id).or_insert_with(|| Arc::new(labels));
        id
    }

    /// The labels of `id`.
    pub fn get(&self, id: SeriesId) -> Option<&Arc<Labels>> {
        self.by_id.get(&id)
    }

    /// Number of series.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no series is known.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// All series.
    pub fn iter(&self) -> impl Iterator<Item = (SeriesId, &Arc<Labels>)> {
        self.by_id.iter().map(|(id, l)| (*id, l))
    }

    /// Adds every entry of `other`.
    pub fn merge(&mut self, other: &SeriesDictionary) {
        for (id, labels) in other.iter() {
            self.by_id.entry(id).or_insert_with(|| labels.clone());
        }
    }
}
