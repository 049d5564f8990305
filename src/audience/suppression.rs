//! The suppression list (`recipients/suppression.csv`: `email`, `reason`, `date`): addresses
//! and whole domains (`*@example.net`) that are never mailed, whatever list they are on and
//! whichever office sends.
//!
//! Owns the file's one reader ([`Suppression::load`]) and one writer ([`append`]). Entries
//! are compared in the canonical form of [`EmailAddress`]: an address matches however it is
//! spelt (quotes, case, Unicode or ASCII domain), and `*@domain` matches every form of the
//! domain. Wildcards exist only here; a recipient is always one mailbox. The writer keeps the
//! file as its author saved it (delimiter, quoting, line ending, column order) and writes
//! cells that a spreadsheet would run as a formula so that it does not (OWASP CSV injection);
//! the reader undoes that. It must not read recipient lists nor send anything.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::lists::{Dialect, ListReader, Row};
use super::{AudienceError, RowProblem};
use crate::types::{canonical_domain, EmailAddress};

/// How a list file is written, and its columns in order: what an appended row must follow.
type FileFormat = (Dialect, Vec<String>);

#[derive(Debug, Default, Clone)]
pub struct Suppression {
    /// [`EmailAddress::key`]s.
    addresses: HashSet<String>,
    /// Canonical (A-label, lowercase) domains.
    domains: HashSet<String>,
    pub path: Option<PathBuf>,
}

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether [`defuse`] prefixes `cell`: it starts like a formula, or like a cell already
/// prefixed (so that reading it back with [`undefuse`] gives it unchanged).
fn needs_prefix(cell: &str) -> bool {
    cell.starts_with(FORMULA_START) || cell.strip_prefix('\'').is_some_and(needs_prefix)
}

/// A cell as written: with a leading `'` when a spreadsheet would take it for a formula.
fn defuse(cell: &str) -> String {
    if needs_prefix(cell) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// A cell as read: the `'` that [`defuse`] added, removed.
fn undefuse(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_prefix(rest) => rest,
        _ => cell,
    }
}

impl Suppression {
    /// Reads the list at `path`; a missing file is an empty list (a new project has none yet).
    /// Rows that cannot be understood are returned as problems: they must be fixed, since an
    /// entry we cannot read is an address we might mail.
    pub fn load(path: &Path) -> Result<(Suppression, Vec<RowProblem>), AudienceError> {
        if !path.exists() {
            let empty = Suppression {
                path: Some(path.to_path_buf()),
                ..Suppression::default()
            };
            return Ok((empty, Vec::new()));
        }
        let (suppression, problems, _) = Suppression::read(path)?;
        Ok((suppression, problems))
    }

    /// Reads an existing list, once: its entries, its unreadable rows, and how it is written
    /// (delimiter, quoting, line ending) with its columns, for [`append`].
    fn read(path: &Path) -> Result<(Suppression, Vec<RowProblem>, FileFormat), AudienceError> {
        let mut suppression = Suppression {
            path: Some(path.to_path_buf()),
            ..Suppression::default()
        };
        let mut problems = Vec::new();
        let mut reader = ListReader::open(path)?;
        let format = (reader.dialect(), reader.headers().to_vec());
        while let Some(row) = reader.next_row()? {
            match row {
                Row::Blank => {}
                Row::Fields(fields) => {
                    let line = fields.line;
                    let email = fields.get("email").unwrap_or("").trim();
                    if let Err(why) = suppression.add(email) {
                        problems.push(RowProblem::invalid_row(path, line, why));
                    }
                }
                Row::Broken { line, why } => problems.push(RowProblem::invalid_row(path, line, why)),
            }
        }
        Ok((suppression, problems, format))
    }

    /// Adds an address or a `*@domain` entry, as a cell of the file holds it.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        let plain = undefuse(entry);
        if plain != entry {
            // Written by us, or typed with a leading apostrophe by someone: suppressing
            // both readings is the safe side.
            let _ = self.add_entry(entry);
        }
        self.add_entry(plain)
    }

    fn add_entry(&mut self, entry: &str) -> Result<(), String> {
        if let Some(domain) = entry.strip_prefix("*@") {
            let domain = canonical_domain(domain.trim())
                .map_err(|why| format!("`{entry}` is not a valid domain entry ({why}): write *@example.org"))?;
            self.domains.insert(domain);
        } else {
            let address: EmailAddress = entry
                .parse()
                .map_err(|why| format!("{why}; an entry is one address, or *@domain for a whole domain"))?;
            self.addresses.insert(address.key().to_string());
        }
        Ok(())
    }

    pub fn contains(&self, address: &EmailAddress) -> bool {
        self.domains.contains(address.domain()) || self.addresses.contains(address.key())
    }

    pub fn len(&self) -> usize {
        self.addresses.len() + self.domains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The suppression list of a send that is running: someone who unsubscribes (through
/// `serve`) or bounces (`bounces import`) while a long send goes on is not mailed either. The
/// file is looked at (its modification time and length) at most once a second, and read again
/// only when it changed; entries are only ever added during a send, so a file that has become
/// unreadable meanwhile keeps what was known and adds what can be read.
#[derive(Debug)]
pub struct LiveSuppression {
    list: Suppression,
    stamp: Option<(std::time::SystemTime, u64)>,
    checked: std::time::Instant,
}

impl LiveSuppression {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(1);

    /// Watches the file `list` was loaded from.
    pub fn new(list: Suppression) -> LiveSuppression {
        let stamp = list.path.as_deref().and_then(stamp);
        LiveSuppression {
            list,
            stamp,
            checked: std::time::Instant::now(),
        }
    }

    /// Whether `address` is suppressed now.
    pub fn contains(&mut self, address: &EmailAddress) -> bool {
        self.refresh();
        self.list.contains(address)
    }

    fn refresh(&mut self) {
        if self.checked.elapsed() < Self::EVERY {
            return;
        }
        self.checked = std::time::Instant::now();
        let Some(path) = self.list.path.clone() else { return };
        let now = stamp(&path);
        if now == self.stamp {
            return;
        }
        self.stamp = now;
        if let Ok((fresh, _)) = Suppression::load(&path) {
            self.list.addresses.extend(fresh.addresses);
            self.list.domains.extend(fresh.domains);
        }
    }
}

fn stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Appends `address` to the suppression list at `path` (created with its header if missing),
/// unless it is already suppressed. Safe against concurrent writers — the unsubscribe service,
/// a send recording hard bounces, a bounce import — because the file stays locked from the
/// check to the write; the line is written whole, so a crash never leaves half an entry. The
/// row is written as the file is: same delimiter, quoting, line ending and column order.
/// Returns whether the address was added.
pub fn append(path: &Path, address: &EmailAddress, reason: &str, date: chrono::NaiveDate) -> std::io::Result<bool> {
    use std::io::{Read, Seek, Write};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    file.lock()?;
    let mut tail = [0u8; 1];
    let length = file.seek(std::io::SeekFrom::End(0))?;
    let (dialect, columns) = if length == 0 {
        let dialect = Dialect {
            delimiter: b',',
            quote_all: false,
            crlf: false,
        };
        (
            dialect,
            vec!["email".to_string(), "reason".to_string(), "date".to_string()],
        )
    } else {
        // The one reader, once: what it finds suppressed is suppressed, and a file it cannot
        // read is not written to.
        let (present, _, format) = Suppression::read(path).map_err(|e| std::io::Error::other(e.to_string()))?;
        if present.contains(address) {
            return Ok(false);
        }
        format
    };
    let mut out = Vec::new();
    if length > 0 {
        file.seek(std::io::SeekFrom::Start(length - 1))?;
        file.read_exact(&mut tail)?;
        if tail[0] != b'\n' {
            out.extend_from_slice(if dialect.crlf { b"\r\n" } else { b"\n" });
        }
    }
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(dialect.delimiter)
            .quote_style(if dialect.quote_all {
                csv::QuoteStyle::Always
            } else {
                csv::QuoteStyle::Necessary
            })
            .terminator(if dialect.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(&mut out);
        if length == 0 {
            w.write_record(&columns)?;
        }
        let date = date.to_string();
        let reason: String = reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let row: Vec<String> = columns
            .iter()
            .map(|column| match column.as_str() {
                "email" => defuse(address.as_str()),
                "reason" => defuse(&reason),
                "date" => date.clone(),
                _ => String::new(),
            })
            .collect();
        w.write_record(&row)?;
        w.flush()?;
    }
    file.write_all(&out)?;
    file.sync_data()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_is_idempotent_and_creates_the_file_with_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recipients/suppression.csv");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let ann: EmailAddress = "Ann@example.org".parse().unwrap();
        assert!(append(&path, &ann, "unsubscribed, one-click", date).unwrap());
        assert!(!append(&path, &"\"ann\"@EXAMPLE.org".parse().unwrap(), "again", date).unwrap());
        assert!(append(&path, &"bob@example.org".parse().unwrap(), "hard bounce", date).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "email,reason,date\nAnn@example.org,\"unsubscribed, one-click\",2026-01-20\nbob@example.org,hard bounce,2026-01-20\n"
        );
        let (loaded, problems) = Suppression::load(&path).unwrap();
        assert!(problems.is_empty());
        assert!(loaded.contains(&ann));
    }

    #[test]
    fn concurrent_appends_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        std::thread::scope(|s| {
            for t in 0..8 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..25 {
                        let a: EmailAddress = format!("p{t}-{i}@example.org").parse().unwrap();
                        append(path, &a, "unsubscribed", date).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1 + 200);
        assert_eq!(text.matches("email,reason,date").count(), 1);
    }

    #[test]
    fn appending_keeps_the_files_delimiter_quoting_line_ending_and_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        std::fs::write(
            &path,
            "\u{feff}\"date\";\"email\";\"note\";\"reason\"\r\n\"2026-01-01\";\"ann@example.org\";\"x\";\"bounced\"",
        )
        .unwrap();
        assert!(append(
            &path,
            &"bob@example.org".parse().unwrap(),
            "unsubscribed; one-click",
            date
        )
        .unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "\u{feff}\"date\";\"email\";\"note\";\"reason\"\r\n\"2026-01-01\";\"ann@example.org\";\"x\";\"bounced\"\r\n\"2026-01-20\";\"bob@example.org\";\"\";\"unsubscribed; one-click\"\r\n"
        );
        let (loaded, problems) = Suppression::load(&path).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(loaded.contains(&"ann@example.org".parse().unwrap()));
        assert!(loaded.contains(&"bob@example.org".parse().unwrap()));
        assert_eq!(loaded.len(), 2);
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_written_inert_and_read_back_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let addresses = [
            "=cmd|'/C_calc'!A0@example.org",
            "+1@example.org",
            "-x@example.org",
            "'=y@example.org",
            "plain@example.org",
        ];
        for a in addresses {
            let address: EmailAddress = a.parse().unwrap_or_else(|e| panic!("{a}: {e}"));
            assert!(append(&path, &address, "=HYPERLINK(\"http://evil.test\")", date).unwrap());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().skip(1) {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            for cell in record.iter() {
                assert!(!cell.starts_with(FORMULA_START), "a live formula: {cell:?} in {line}");
            }
        }
        let (loaded, problems) = Suppression::load(&path).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        for a in addresses {
            assert!(
                loaded.contains(&a.parse().unwrap()),
                "{a} is not suppressed after reading back"
            );
            assert!(
                !append(&path, &a.parse().unwrap(), "again", date).unwrap(),
                "{a} was added twice"
            );
        }
    }

    #[test]
    fn every_spelling_of_an_address_or_a_domain_is_suppressed() {
        let mut s = Suppression::default();
        s.add("\"jonas.lindqvist\"@example.net").unwrap();
        s.add("*@bücher.example").unwrap();
        s.add("*@XN--STRAE-OQA.example").unwrap();
        for spelling in [
            "jonas.lindqvist@example.net",
            "\"Jonas.Lindqvist\"@EXAMPLE.NET",
            "x@xn--bcher-kva.example",
            "y@BÜCHER.example",
            "z@straße.example",
        ] {
            assert!(s.contains(&spelling.parse().unwrap()), "{spelling}");
        }
        assert!(!s.contains(&"x@sub.bücher.example".parse().unwrap()));
        assert!(s.add("*@[192.0.2.1]").is_err());
        assert!(s.add("a*@example.org").is_err(), "wildcards only as *@domain");
    }

    #[test]
    fn suppresses_addresses_ignoring_case_and_whole_domains() {
        let mut s = Suppression::default();
        s.add("Ann@Example.org").unwrap();
        s.add("*@blocked.example.net").unwrap();
        assert!(s.contains(&"ann@example.ORG".parse().unwrap()));
        assert!(s.contains(&"anyone@Blocked.Example.net".parse().unwrap()));
        assert!(!s.contains(&"anyone@example.net".parse().unwrap()));
        assert!(!s.contains(&"bob@example.org".parse().unwrap()));
        assert!(s.add("*@").is_err());
        assert!(s.add("not an address").is_err());
    }
}
