//! Decoders that turn outside data into [`SampleBatch`](crate::batch::SampleBatch)es.
//!
//! - [`csv`]: two-column `timestamp,value` files as NAB ships them; the series' labels come
//!   from the caller.
//! - [`parquet`]: seer's long format (`timestamp`, `metric`, `labels`, `value`), read and written.

pub mod csv;
pub mod parquet;

pub use self::csv::read_csv;
pub use self::parquet::{long_schema, read_parquet, write_parquet};

use std::path::Path;

use crate::batch::SampleBatch;
use crate::series::Labels;
use crate::Result;

/// Reads a history file, choosing the decoder by extension: `.parquet` is seer's long format,
/// `.csv` a two-column file whose series gets `labels` (its metric name included).
///
/// # Errors
///
/// An [`Error::Input`](crate::Error::Input) naming the file for an unknown extension, and
/// whatever the decoder reports.
pub fn read_history(path: &Path, csv_labels: &Labels) -> Result<Vec<SampleBatch>> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("parquet") => read_parquet(path),
        Some("csv") => Ok(vec![read_csv(path, csv_labels)?]),
        _ => Err(crate::Error::input(
            path.display().to_string(),
            "unknown file type: expected a .parquet file in seer's long format or a .csv file \
             with timestamp,value columns",
        )),
    }
}
