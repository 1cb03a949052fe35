//! Problems found in rule files and the report `seer check` prints.

use std::fmt;
use std::path::PathBuf;

/// Whether a problem stops the rules from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file is rejected.
    Error,
    /// The file loads; the affected rule is kept but may be skipped (see `available`).
    Warning,
}

/// One problem in a rule file, located by file, line and key path.
///
/// Displayed as `file:line: key: reason "value": detail`, with `warning: ` before the reason for
/// warnings, and without the parts that are empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule file, as the caller named it.
    pub file: PathBuf,
    /// 1-based line, or 0 when the problem concerns the whole file (it could not be read).
    pub line: usize,
    /// Key path such as `anomaly_detection[0].for`; empty for problems with the file itself.
    pub key: String,
    /// The offending value as written, when there is one.
    pub value: Option<String>,
    /// What is wrong, e.g. `bad duration`.
    pub reason: String,
    /// What is expected instead or what follows from it; may be empty.
    pub detail: String,
    /// Error or warning.
    pub severity: Severity,
}

impl Problem {
    /// An error at `line` of `file` about `key`.
    pub(crate) fn error(
        file: impl Into<PathBuf>,
        line: usize,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.into(),
            line,
            key: key.into(),
            value: None,
            reason: reason.into(),
            detail: String::new(),
            severity: Severity::Error,
        }
    }

    /// A warning at `line` of `file` about `key`.
    pub(crate) fn warning(
        file: impl Into<PathBuf>,
        line: usize,
        key: impl Into<String>,
        reason: impl Into<String>,
    ) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(file, line, key, reason)
        }
    }

    /// Sets the offending value.
    pub(crate) fn value(mut self, value: impl Into<String>) -> Problem {
        self.value = Some(value.into());
        self
    }

    /// Sets the detail.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = detail.into();
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file.display())?;
        if self.line > 0 {
            write!(f, "{}:", self.line)?;
        }
        if !self.key.is_empty() {
            write!(f, " {}:", self.key)?;
        }
        if self.severity == Severity::Warning {
            f.write_str(" warning:")?;
        }
        write!(f, " {}", self.reason)?;
        if let Some(value) = &self.value {
            write!(f, " {value:?}")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// The outcome of checking rule files: every problem found, sorted by file and line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// All problems, errors and warnings.
    pub problems: Vec<Problem>,
    /// Number of files read.
    pub files: usize,
    /// Number of rules that loaded (including rules whose model is not available).
    pub rules: usize,
}

impl Report {
    /// The problems that reject a file.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The problems that do not reject a file.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

impl fmt::Display for Report {
    /// One problem per line, in file and line order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "{problem}")?;
        }
        Ok(())
    }
}
