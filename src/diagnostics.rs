//! Problems found in a user's files, each tied to a file, a line and a column.
//!
//! Owns the [`Diagnostic`] type that `check`, the edition loader, the config loader and the
//! international-days calendar all report with, and [`Source`], which turns byte offsets (from the TOML parser's spans) into line and
//! column numbers. It must not decide what is a problem: callers do that; this module only
//! collects, orders and prints.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a problem is. `check` exits 1 when any [`Severity::Error`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Where something is: a file, and its line when there is one (`file` or `file:line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub line: Option<usize>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match self.line {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// What became of a row or a message a diagnostic is about, where a reader needs more than
/// "error" or "warning": a row of a list skipped or merged, an address noted, a message of a
/// bounce mailbox left aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A row skipped: it cannot be used as it is.
    Invalid,
    /// A row merged into an earlier one with the same address.
    Duplicate,
    /// A deliverable address that only a relay offering SMTPUTF8 can take.
    Smtputf8,
    /// A message that is not a bounce (a reply, an out-of-office), left aside.
    NotABounce,
    /// A message, or a recipient in one, that cannot be read, left aside.
    Unreadable,
}

impl Kind {
    /// The word a reader sees in place of the severity.
    fn word(self) -> &'static str {
        match self {
            Kind::Invalid => "skipped",
            Kind::Duplicate => "merged",
            Kind::Smtputf8 => "needs SMTPUTF8",
            Kind::NotABounce => "not a bounce",
            Kind::Unreadable => "unreadable",
        }
    }
}

/// One problem, with where it is and what to do about it: the one type every "problem at
/// `file:line`" of the program is (editions, settings, templates, lists, calendars, mailboxes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based; `None` when the problem belongs to the whole file (e.g. the rendered size).
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    pub message: String,
    /// What became of the row or message, when that is the news.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
}

impl Diagnostic {
    /// An error in `file`, at `line` when there is one.
    pub fn error(file: &Path, line: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            line,
            column: None,
            message: message.into(),
            kind: None,
        }
    }

    /// What became of the row or message at `file:line` (a warning: the rest goes on).
    pub fn of_kind(kind: Kind, file: &Path, line: Option<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            kind: Some(kind),
            ..Diagnostic::error(file, line, message)
        }
    }

    /// What became of the message or row at `place`.
    pub fn at_place(kind: Kind, place: &Place, message: impl Into<String>) -> Diagnostic {
        Diagnostic::of_kind(kind, &place.file, place.line, message)
    }

    /// A skipped row of a list.
    pub fn invalid_row(file: &Path, line: u64, message: impl Into<String>) -> Diagnostic {
        Diagnostic::of_kind(Kind::Invalid, file, usize::try_from(line).ok(), message)
    }

    /// Where it is: `file`, `file:line` or `file:line:column`.
    pub fn place(&self) -> String {
        let place = Place {
            file: self.file.clone(),
            line: self.line,
        };
        match (self.line, self.column) {
            (Some(_), Some(column)) => format!("{place}:{column}"),
            _ => place.to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self
            .kind
            .map_or_else(|| self.severity.to_string(), |k| k.word().to_string());
        write!(f, "{}: {word}: {}", self.place(), self.message)
    }
}

/// The text of a file kept beside its path, so that spans can be reported as `file:line:col`.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    pub fn line_of(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }
}

/// An ordered collection of diagnostics, filled in one pass so that a user sees every problem at
/// once instead of fixing them one run at a time.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Report {
    items: Vec<Diagnostic>,
}

impl Report {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn at(&mut self, severity: Severity, file: &Path, line: Option<usize>, message: impl Into<String>) {
        self.push(Diagnostic {
            severity,
            ..Diagnostic::error(file, line, message)
        });
    }

    /// An error at a byte offset of `source`.
    pub fn error_at(&mut self, source: &Source, offset: usize, message: impl Into<String>) {
        self.spanned(Severity::Error, source, offset, message);
    }

    pub fn warning_at(&mut self, source: &Source, offset: usize, message: impl Into<String>) {
        self.spanned(Severity::Warning, source, offset, message);
    }

    fn spanned(&mut self, severity: Severity, source: &Source, offset: usize, message: impl Into<String>) {
        let (line, column) = source.line_col(offset);
        self.push(Diagnostic {
            severity,
            column: Some(column),
            ..Diagnostic::error(&source.path, Some(line), message)
        });
    }

    pub fn extend(&mut self, other: Report) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorts by file and line, errors first on a line, and drops exact repeats (the same link
    /// problem seen by two variants is one problem).
    pub fn sorted(mut self) -> Self {
        self.items.sort_by(|a, b| {
            (&a.file, a.line, a.column, a.severity, &a.message)
                .cmp(&(&b.file, b.line, b.column, b.severity, &b.message))
        });
        self.items.dedup();
        self
    }
}

impl From<Vec<Diagnostic>> for Report {
    fn from(items: Vec<Diagnostic>) -> Report {
        Report { items }
    }
}

impl Report {
    pub fn len(&self) -> usize {
        self.items.len()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The start of a text, at most `max` characters and `…`: enough to recognise a server's
/// words in a suppression reason (120), a report line (80) or a long value in a message (60).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one_and_in_characters() {
        let source = Source::new("e.toml", "a = 1\nb = \"é\" x\n");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(6), (2, 1));
        let x = source.text.find('x').unwrap();
        assert_eq!(source.line_col(x), (2, 9));
    }

    #[test]
    fn a_report_prints_file_line_and_column() {
        let source = Source::new("e.toml", "a = 1\nb = 2\n");
        let mut report = Report::new();
        report.error_at(&source, 6, "bad b");
        assert_eq!(report.to_string(), "e.toml:2:1: error: bad b\n");
        assert!(report.has_errors());
    }
}
