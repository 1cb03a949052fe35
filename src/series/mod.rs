//! Series identity: label sets, their 64-bit fingerprints and the dictionary that maps one to the
//! other.

mod dictionary;
mod labels;

pub use dictionary::SeriesDictionary;
pub use labels::{Labels, SeriesId, METRIC_NAME};
