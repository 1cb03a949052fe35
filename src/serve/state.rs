//! Checkpoints: every series' detector and alert state in one file in the state directory.
//!
//! # Format (version 1)
//!
//! `checkpoint.cbor.sz` is a snappy frame-format stream (with its CRCs) holding a sequence of
//! CBOR items (RFC 8949, as serde writes them with `ciborium`):
//!
//! 1. a header map: `format: "seer-checkpoint"`, `version: 1`, `written_at_ms`,
//!    `seer_version`;
//! 2. one `Series` entry per series: `last_ms` (its latest sample time) and `state`: its
//!    labels and, per watching rule by name, the rule's detector settings, the detector state
//!    (model, downsampled history, recent errors) and the alert tracker (pending, firing or
//!    resolved, with times and evidence);
//! 3. an `End` entry with the number of series, so that a cut-off file is detected.
//!
//! CBOR keeps NaN (empty history buckets are NaN) and names fields, so a field added later
//! with a serde default still reads old checkpoints; a change that cannot be read that way
//! bumps `version`, and a checkpoint of another version is refused with a message rather than
//! misread.
//!
//! A checkpoint is written to `checkpoint.cbor.sz.tmp`, fsynced, renamed over the previous one
//! and the directory fsynced, so a crash at any point leaves the previous or the new
//! checkpoint, never half of one. Each shard is encoded in memory under its lock and written
//! after the lock is released, so scoring waits for at most one shard's encoding.
//!
//! # Limitations
//!
//! The design asks for Parquet for the history part of the state. The history a detector
//! keeps is part of its serde state, so this version writes all of it in the one versioned
//! serde format above; it is compact and exact, but not readable by Parquet tools.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::scoring::Shards;
use crate::engine::{RestoreOutcome, SeriesSnapshot, SeriesSnapshotRef};
use crate::error::Error;
use crate::time::Millis;

/// The checkpoint's file name in the state directory.
pub const FILE_NAME: &str = "checkpoint.cbor.sz";
/// The `format` of the header.
pub const FORMAT: &str = "seer-checkpoint";
/// The format version this seer writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    written_at_ms: Millis,
    seer_version: String,
}

#[derive(Debug, Serialize)]
enum EntryRef<'a> {
    Series {
        last_ms: Option<Millis>,
        state: SeriesSnapshotRef<'a>,
    },
    End {
        series: u64,
    },
}

#[derive(Debug, Deserialize)]
enum Entry {
    Series {
        last_ms: Option<Millis>,
        state: SeriesSnapshot,
    },
    End {
        series: u64,
    },
}

/// What a checkpoint wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub series: u64,
    pub bytes: u64,
}

/// What a restore read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub written_at_ms: Millis,
    pub outcome: RestoreOutcome,
}

/// The checkpoint path in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Writes every shard's state to `dir` (which must exist), replacing the previous checkpoint.
///
/// # Errors
///
/// [`Error::Io`] naming the file when writing, syncing or renaming fails; the previous
/// checkpoint is then left as it was.
pub fn write(dir: &Path, shards: &Shards, now_ms: Millis) -> Result<Written, Error> {
    let final_path = path(dir);
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let io = |e: std::io::Error| Error::io(&tmp, e);
    let file = File::create(&tmp).map_err(io)?;
    let mut out = snap::write::FrameEncoder::new(BufWriter::new(file));

    let header = Header {
        format: FORMAT.to_string(),
        version: VERSION,
        written_at_ms: now_ms,
        seer_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    encode(&header, &mut out).map_err(io)?;
    let mut series = 0u64;
    for i in 0..shards.len() {
        let mut buffer = Vec::new();
        {
            let shard = shards.lock(i);
            for (id, state) in shard.engine.snapshots() {
                let last_ms = shard.last_seen.get(&id).copied();
                encode(&EntryRef::Series { last_ms, state }, &mut buffer).map_err(io)?;
                series += 1;
            }
        }
        out.write_all(&buffer).map_err(io)?;
    }
    encode(&EntryRef::End { series }, &mut out).map_err(io)?;

    let buffered = out.into_inner().map_err(|e| io(e.into_error()))?;
    let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    drop(file);
    std::fs::rename(&tmp, &final_path).map_err(|e| Error::io(&final_path, e))?;
    // The rename is durable only once the directory is synced.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    Ok(Written { series, bytes })
}

/// Reads the checkpoint in `dir` into `shards`; `Ok(None)` when there is none.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be read; [`Error::Input`] naming the file when it is not
/// a seer checkpoint, is of another format version, or is cut off or corrupt.
pub fn read(dir: &Path, shards: &Shards) -> Result<Option<Restored>, Error> {
    let path = path(dir);
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let bad = |message: String| Error::input(path.display().to_string(), message);
    let mut input = snap::read::FrameDecoder::new(BufReader::new(file));

    let header: Header = ciborium::from_reader(&mut input)
        .map_err(|e| bad(format!("not a seer checkpoint, or cut off or corrupt: {e}")))?;
    if header.format != FORMAT {
        return Err(bad(format!(
            "not a seer checkpoint (format {:?})",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(bad(format!(
            "checkpoint format version {} (written by seer {}) cannot be read by this seer, \
             which reads version {VERSION}; move the file away to start without state",
            header.version, header.seer_version
        )));
    }

    let mut outcome = RestoreOutcome::default();
    let mut count = 0u64;
    loop {
        let entry: Entry = ciborium::from_reader(&mut input).map_err(|e| {
            bad(format!(
                "series entry {count}: {e} (file cut off or corrupt)"
            ))
        })?;
        match entry {
            Entry::Series { last_ms, state } => {
                let id = state.labels().id();
                let mut shard = shards.lock(shards.index(id));
                shard.engine.restore(state, &mut outcome);
                if let Some(last) = last_ms {
                    shard.last_seen.insert(id, last);
                }
                count += 1;
            }
            Entry::End { series } if series == count => break,
            Entry::End { series } => {
                return Err(bad(format!(
                    "the end entry counts {series} series but {count} were read"
                )))
            }
        }
    }
    Ok(Some(Restored {
        written_at_ms: header.written_at_ms,
        outcome,
    }))
}

fn encode<T: Serialize, W: Write>(value: &T, out: &mut W) -> std::io::Result<()> {
    ciborium::into_writer(value, out).map_err(|e| match e {
        ciborium::ser::Error::Io(e) => e,
        ciborium::ser::Error::Value(message) => std::io::Error::other(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertState;
    use crate::batch::SampleBatchBuilder;
    use crate::engine::EngineOptions;
    use crate::series::Labels;

    const RULES: &str = "\
anomaly_detection:
  - name: jump
    match: '{__name__=\"m\"}'
    model: seasonal
    interval_width: 0.9
    warmup: 5m
    refit_every: 10m
    history: 1h
    min_deviation: 5
";

    fn shards() -> Shards {
        let rules = crate::rules::parse("rules.yaml", RULES).unwrap();
        Shards::new(&rules, EngineOptions::default(), 3)
    }

    fn feed(shards: &Shards, from: i64, to: i64, value: impl Fn(i64) -> f64) -> usize {
        let mut b = SampleBatchBuilder::new();
        let ids: Vec<_> = (0..4)
            .map(|s| b.intern(Labels::with_metric("m", [("s", s.to_string())])))
            .collect();
        for t in from..to {
            for id in &ids {
                b.push(*id, t * 1000, value(t));
            }
        }
        shards.score(&[b.finish()]).emitted.len()
    }

    fn noise(t: i64) -> f64 {
        10.0 + ((t * 7919) % 17) as f64 / 17.0
    }

    #[test]
    fn a_restored_checkpoint_continues_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let before = shards();
        feed(&before, 0, 1200, noise);
        // Four series jump: each fires once.
        assert_eq!(feed(&before, 1200, 1201, |_| 100.0), 4);
        let written = write(dir.path(), &before, 1_201_000).unwrap();
        assert_eq!(written.series, 4);

        let after = shards();
        let restored = read(dir.path(), &after).unwrap().unwrap();
        assert_eq!(restored.written_at_ms, 1_201_000);
        assert_eq!(restored.outcome.series, 4);
        assert_eq!(restored.outcome.watches_restored, 4);
        for i in 0..after.len() {
            let shard = after.lock(i);
            shard.engine.for_each_series(|_, _, watches| {
                assert_eq!(watches[0].tracker.state(), AlertState::Firing);
                assert!(watches[0].detector.stats().fits > 0);
            });
        }
        // Still anomalous: resends at most, no new firing; then a normal value resolves.
        let emitted = after.score(&[]).emitted;
        assert!(emitted.is_empty());
        assert_eq!(feed(&after, 1201, 1202, noise), 4);
        assert_eq!(after.fit_totals().0, before.fit_totals().0);
    }

    #[test]
    fn corrupt_and_foreign_files_are_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path(), &shards()).unwrap().is_none());
        std::fs::write(path(dir.path()), b"not a checkpoint").unwrap();
        let err = read(dir.path(), &shards()).unwrap_err().to_string();
        assert!(err.contains(FILE_NAME), "{err}");

        // A cut-off file: the header and part of the entries.
        let full = shards();
        feed(&full, 0, 30, noise);
        write(dir.path(), &full, 0).unwrap();
        let bytes = std::fs::read(path(dir.path())).unwrap();
        std::fs::write(path(dir.path()), &bytes[..bytes.len() / 2]).unwrap();
        let err = read(dir.path(), &shards()).unwrap_err().to_string();
        assert!(err.contains("cut off or corrupt"), "{err}");
    }
}
