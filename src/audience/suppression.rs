//! The suppression list (`recipients/suppression.csv`: `email`, `reason`, `date`, and an
//! optional `scope`): addresses and whole domains (`*@example.net`) that are not mailed. An
//! entry with an empty `scope` (or in a file without the column) is never mailed, whatever
//! list it is on and whichever office sends; an entry whose `scope` is an office id is not
//! mailed by that office only (someone who left the Santiago office's list still gets the
//! international team's and other offices' editions).
//!
//! Owns the file's one reader ([`Suppression::load`]) and one writer ([`append`]). Entries
//! are compared in the canonical form of [`EmailAddress`]: an address matches however it is
//! spelt (quotes, case, Unicode or ASCII domain), and `*@domain` matches every form of the
//! domain. Wildcards exist only here; a recipient is always one mailbox. The writer keeps the
//! file as its author saved it (delimiter, quoting, line ending, column order) and writes
//! cells that a spreadsheet would run as a formula so that it does not (OWASP CSV injection);
//! the reader undoes that. It must not read recipient lists nor send anything.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::lists::{Dialect, ListReader, Row};
use super::{AudienceError, RowProblem};
use crate::types::{canonical_domain, EmailAddress, OfficeId};

/// How a list file is written, and its columns in order: what an appended row must follow.
type FileFormat = (Dialect, Vec<String>);

#[derive(Debug, Default, Clone)]
pub struct Suppression {
    /// Entries that no sender mails.
    everyone: Entries,
    /// Entries that one office does not mail (the `scope` column).
    offices: HashMap<OfficeId, Entries>,
    pub path: Option<PathBuf>,
}

/// Addresses and domains, in the canonical forms [`Suppression::contains`] compares.
#[derive(Debug, Default, Clone)]
struct Entries {
    /// [`EmailAddress::key`]s.
    addresses: HashSet<String>,
    /// Canonical (A-label, lowercase) domains.
    domains: HashSet<String>,
}

impl Entries {
    fn contains(&self, address: &EmailAddress) -> bool {
        self.domains.contains(address.domain()) || self.addresses.contains(address.key())
    }

    fn len(&self) -> usize {
        self.addresses.len() + self.domains.len()
    }

    fn extend(&mut self, other: Entries) {
        self.addresses.extend(other.addresses);
        self.domains.extend(other.domains);
    }

    fn add_entry(&mut self, entry: &str) -> Result<(), String> {
        if let Some(domain) = entry.strip_prefix("*@") {
            let domain = canonical_domain(domain.trim())
                .map_err(|why| format!("`{entry}` is not a valid domain entry ({why}): write *@example.org"))?;
            self.domains.insert(domain);
        } else {
            // `Name <address>` as a mail client copies it suppresses that address: an entry
            // pasted that way must stop the mail, not be skipped as invalid.
            let (_, address) = EmailAddress::parse_mailbox(entry)
                .map_err(|why| format!("{why}; an entry is one address, or *@domain for a whole domain"))?;
            self.addresses.insert(address.key().to_string());
        }
        Ok(())
    }
}

/// The column that says which office an entry applies to; empty: every sender.
const SCOPE_COLUMN: &str = "scope";

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
                    // A row shorter than the header (written before the column was added)
                    // has no scope: it applies to every sender.
                    let scope = undefuse(fields.get(SCOPE_COLUMN).unwrap_or("").trim());
                    let added = if scope.is_empty() {
                        suppression.add(email)
                    } else {
                        match scope.parse::<OfficeId>() {
                            Ok(office) => suppression.add_for(email, Some(&office)),
                            // A scope nobody can read suppresses for every sender: the row
                            // still says "do not mail", and a send that runs while the file is
                            // being fixed must not mail the address. It is reported too.
                            Err(why) => suppression.add(email).and(Err(format!(
                                "the scope `{scope}` is not an office id ({why}), so the address is suppressed for every sender; write an office id, or leave it empty"
                            ))),
                        }
                    };
                    if let Err(why) = added {
                        problems.push(RowProblem::invalid_row(path, line, why));
                    }
                }
                Row::Broken { line, why } => problems.push(RowProblem::invalid_row(path, line, why)),
            }
        }
        Ok((suppression, problems, format))
    }

    /// Adds an address or a `*@domain` entry that no sender mails, as a cell of the file
    /// holds it.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        self.add_for(entry, None)
    }

    /// Adds an entry that `office` does not mail (`None`: nobody does).
    pub fn add_for(&mut self, entry: &str, office: Option<&OfficeId>) -> Result<(), String> {
        let entries = match office {
            None => &mut self.everyone,
            Some(office) => self.offices.entry(office.clone()).or_default(),
        };
        let plain = undefuse(entry);
        if plain != entry {
            // Written by us, or typed with a leading apostrophe by someone: suppressing
            // both readings is the safe side.
            let _ = entries.add_entry(entry);
        }
        entries.add_entry(plain)
    }

    /// Whether `address` is suppressed for every sender.
    pub fn contains(&self, address: &EmailAddress) -> bool {
        self.everyone.contains(address)
    }

    /// Whether `sender` (an office, or `None` for the international team) must not mail
    /// `address`: suppressed for everyone, or for that office.
    pub fn suppresses(&self, address: &EmailAddress, sender: Option<&OfficeId>) -> bool {
        self.everyone.contains(address)
            || sender
                .and_then(|office| self.offices.get(office))
                .is_some_and(|entries| entries.contains(address))
    }

    /// Entries of every scope.
    pub fn len(&self) -> usize {
        self.everyone.len() + self.offices.values().map(Entries::len).sum::<usize>()
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

    /// Whether `sender` (an office, `None` for the international team) must not mail
    /// `address` now.
    pub fn suppresses(&mut self, address: &EmailAddress, sender: Option<&OfficeId>) -> bool {
        self.refresh();
        self.list.suppresses(address, sender)
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
            self.list.everyone.extend(fresh.everyone);
            for (office, entries) in fresh.offices {
                self.list.offices.entry(office).or_default().extend(entries);
            }
        }
    }
}

fn stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Appends `address` to the suppression list at `path` for every sender (created with its
/// header if missing), unless it is already suppressed; see [`append_for`].
pub fn append(path: &Path, address: &EmailAddress, reason: &str, date: chrono::NaiveDate) -> std::io::Result<bool> {
    append_for(path, address, None, reason, date)
}

/// Appends `address` to the suppression list at `path` for `office` (`None`: every sender),
/// unless it is already suppressed for it. Safe against concurrent writers — the unsubscribe
/// service, a send recording hard bounces, a bounce import — because the file stays locked
/// from the check to the write; the line is written whole, so a crash never leaves half an
/// entry. The row is written as the file is: same delimiter, quoting, line ending and column
/// order. A scoped entry in a file without a `scope` column first adds the column to the
/// header (see [`add_scope_column`]). Returns whether the address was added.
pub fn append_for(
    path: &Path,
    address: &EmailAddress,
    office: Option<&OfficeId>,
    reason: &str,
    date: chrono::NaiveDate,
) -> std::io::Result<bool> {
    use std::io::{Read, Seek, Write};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = loop {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        file.lock()?;
        // Adding the scope column replaces the file: a writer that opened the old one while
        // it was being replaced opens the new one.
        if same_file(&file, path)? {
            break file;
        }
    };
    let mut tail = [0u8; 1];
    let length = file.seek(std::io::SeekFrom::End(0))?;
    let (dialect, mut columns) = if length == 0 {
        let dialect = Dialect {
            delimiter: b',',
            quote_all: false,
            crlf: false,
        };
        let mut columns = vec!["email".to_string(), "reason".to_string(), "date".to_string()];
        if office.is_some() {
            columns.push(SCOPE_COLUMN.to_string());
        }
        (dialect, columns)
    } else {
        // The one reader, once: what it finds suppressed is suppressed, and a file it cannot
        // read is not written to.
        let (present, _, format) = Suppression::read(path).map_err(|e| std::io::Error::other(e.to_string()))?;
        if present.suppresses(address, office) {
            return Ok(false);
        }
        format
    };
    if length > 0 && office.is_some() && !columns.iter().any(|c| c == SCOPE_COLUMN) {
        // The new file comes locked; the old one is unlocked when `file` is replaced.
        file = add_scope_column(path, &dialect)?;
        columns.push(SCOPE_COLUMN.to_string());
    }
    let length = file.seek(std::io::SeekFrom::End(0))?;
    let mut out = Vec::new();
    if length > 0 {
        file.seek(std::io::SeekFrom::Start(length - 1))?;
        file.read_exact(&mut tail)?;
        if tail[0] != b'\n' {
            out.extend_from_slice(if dialect.crlf { b"\r\n" } else { b"\n" });
        }
    }
    {
        let mut w = csv_writer(&dialect, &mut out);
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
                SCOPE_COLUMN => office.map_or_else(String::new, |o| o.as_str().to_string()),
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

fn csv_writer<W: std::io::Write>(dialect: &Dialect, out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
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
        .from_writer(out)
}

/// Whether the open `file` is still the one at `path`.
fn same_file(file: &std::fs::File, path: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let open = file.metadata()?;
        match std::fs::metadata(path) {
            Ok(now) => Ok(open.dev() == now.dev() && open.ino() == now.ino()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        Ok(true)
    }
}

/// Adds a `scope` column to the list at `path`, which the caller holds locked, and returns
/// the new file, open and locked. Each row gets one empty cell at its end (an empty scope:
/// every sender, as before); nothing else of the file changes, byte for byte. The new
/// content is written beside the file and renamed over it, so a crash leaves either the old
/// file or the new one, never half of one.
fn add_scope_column(path: &Path, dialect: &Dialect) -> std::io::Result<std::fs::File> {
    use std::io::Write;
    let text = std::fs::read(path)?;
    let bom: &[u8] = if text.starts_with(&[0xEF, 0xBB, 0xBF]) {
        &[0xEF, 0xBB, 0xBF]
    } else {
        &[]
    };
    let body = &text[bom.len()..];
    // Where each record starts, as the CSV reader finds it (a quoted cell may hold line
    // breaks, so lines are not records).
    let mut starts = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    loop {
        let at = reader.position().byte();
        if !reader.read_byte_record(&mut record).map_err(std::io::Error::other)? {
            break;
        }
        starts.push(usize::try_from(record.position().map_or(at, csv::Position::byte)).unwrap_or(usize::MAX));
    }
    let cell: &[u8] = if dialect.quote_all { b"\"\"" } else { b"" };
    let header_cell: Vec<u8> = if dialect.quote_all {
        format!("\"{SCOPE_COLUMN}\"").into_bytes()
    } else {
        SCOPE_COLUMN.as_bytes().to_vec()
    };
    let mut new = Vec::with_capacity(text.len() + starts.len() * 3 + 8);
    new.extend_from_slice(bom);
    new.extend_from_slice(&body[..starts.first().copied().unwrap_or(0).min(body.len())]);
    for (i, &from) in starts.iter().enumerate() {
        let to = starts.get(i + 1).copied().unwrap_or(body.len()).min(body.len());
        let raw = &body[from.min(to)..to];
        let kept = raw.len() - raw.iter().rev().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        new.extend_from_slice(&raw[..kept]);
        new.push(dialect.delimiter);
        new.extend_from_slice(if i == 0 { &header_cell } else { cell });
        new.extend_from_slice(&raw[kept..]);
    }
    let temporary = path.with_extension(format!("csv.tmp-{}", std::process::id()));
    let result = (|| {
        let mut out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)?.permissions().mode();
            out.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        out.write_all(&new)?;
        out.sync_all()?;
        // Locked before it takes the list's name, so that no other writer slips in between.
        out.lock()?;
        std::fs::rename(&temporary, path)?;
        Ok(out)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
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
    fn a_scoped_entry_keeps_the_files_dialect_adds_the_column_and_applies_to_its_office_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        std::fs::write(
            &path,
            "\u{feff}email;reason;date\r\nold@example.org;bounced;2025-01-01\r\n",
        )
        .unwrap();
        let santiago: OfficeId = "santiago".parse().unwrap();
        let bangkok: OfficeId = "bangkok".parse().unwrap();
        let ann: EmailAddress = "ann@example.org".parse().unwrap();
        assert!(append_for(&path, &ann, Some(&santiago), "unsubscribed", date).unwrap());
        assert!(!append_for(&path, &ann, Some(&santiago), "again", date).unwrap());
        assert!(append_for(&path, &ann, Some(&bangkok), "unsubscribed", date).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "\u{feff}email;reason;date;scope\r\nold@example.org;bounced;2025-01-01;\r\nann@example.org;unsubscribed;2026-01-20;santiago\r\nann@example.org;unsubscribed;2026-01-20;bangkok\r\n"
        );
        let (loaded, problems) = Suppression::load(&path).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let old: EmailAddress = "old@example.org".parse().unwrap();
        for sender in [None, Some(&santiago), Some(&bangkok)] {
            assert!(loaded.suppresses(&old, sender), "a row without a scope is for everyone");
        }
        assert!(loaded.suppresses(&ann, Some(&santiago)));
        assert!(!loaded.suppresses(&ann, None), "the international team still mails ann");
        assert!(!loaded.contains(&ann));
        // Stopping everything after an office-only unsubscribe is a new entry.
        assert!(append(&path, &ann, "unsubscribed from everything", date).unwrap());
        let (loaded, _) = Suppression::load(&path).unwrap();
        assert!(loaded.suppresses(&ann, None));
        assert!(!append_for(&path, &ann, Some(&santiago), "again", date).unwrap());
    }

    #[test]
    fn a_scope_that_is_not_an_office_id_is_reported_and_suppresses_for_every_sender() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        std::fs::write(
            &path,
            "email,reason,date,scope\nann@example.org,x,2026-01-01,Not An Office!\n",
        )
        .unwrap();
        let (list, problems) = Suppression::load(&path).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].to_string().contains(":2"), "{}", problems[0]);
        let ann: EmailAddress = "Ann@Example.org".parse().unwrap();
        let santiago: OfficeId = "santiago".parse().unwrap();
        for sender in [None, Some(&santiago)] {
            assert!(
                list.suppresses(&ann, sender),
                "a row that says suppress is never ignored"
            );
        }
    }

    #[test]
    fn a_running_send_sees_scoped_entries_added_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        std::fs::write(&path, "email,reason,date\n").unwrap();
        let (list, _) = Suppression::load(&path).unwrap();
        let mut live = LiveSuppression::new(list);
        let santiago: OfficeId = "santiago".parse().unwrap();
        let ann: EmailAddress = "ann@example.org".parse().unwrap();
        assert!(!live.suppresses(&ann, Some(&santiago)));
        append_for(&path, &ann, Some(&santiago), "unsubscribed", date).unwrap();
        std::thread::sleep(LiveSuppression::EVERY + std::time::Duration::from_millis(50));
        assert!(live.suppresses(&ann, Some(&santiago)));
        assert!(!live.suppresses(&ann, None));
    }

    #[test]
    fn concurrent_scoped_and_global_appends_lose_nothing_while_the_column_is_added() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suppression.csv");
        std::fs::write(&path, "email,reason,date\n").unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).unwrap();
        let santiago: OfficeId = "santiago".parse().unwrap();
        std::thread::scope(|s| {
            for t in 0..6 {
                let (path, santiago) = (&path, &santiago);
                s.spawn(move || {
                    for i in 0..20 {
                        let a: EmailAddress = format!("p{t}-{i}@example.org").parse().unwrap();
                        let scope = (t % 2 == 0).then_some(santiago);
                        assert!(append_for(path, &a, scope, "unsubscribed", date).unwrap());
                    }
                });
            }
        });
        let (loaded, problems) = Suppression::load(&path).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(loaded.len(), 120);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 121);
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
