//! The suppression list (`recipients/suppression.csv`: `email`, `reason`, `date`): addresses
//! and whole domains (`*@example.net`) that are never mailed, whatever list they are on and
//! whichever office sends. Matching ignores case: refusing a mail we could have sent is a far
//! smaller harm than sending one to someone who asked us not to.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::lists::{ListReader, Row};
use super::{AudienceError, RowProblem};
use crate::types::EmailAddress;

#[derive(Debug, Default, Clone)]
pub struct Suppression {
    addresses: HashSet<String>,
    domains: HashSet<String>,
    pub path: Option<PathBuf>,
}

impl Suppression {
    /// Reads the list at `path`; a missing file is an empty list (a new project has none yet).
    /// Rows that cannot be understood are returned as problems: they must be fixed, since an
    /// entry we cannot read is an address we might mail.
    pub fn load(path: &Path) -> Result<(Suppression, Vec<RowProblem>), AudienceError> {
        let mut suppression = Suppression {
            path: Some(path.to_path_buf()),
            ..Suppression::default()
        };
        let mut problems = Vec::new();
        if !path.exists() {
            return Ok((suppression, problems));
        }
        let mut reader = ListReader::open(path)?;
        while let Some(row) = reader.next_row()? {
            match row {
                Row::Blank => {}
                Row::Fields(fields) => {
                    let line = fields.line;
                    let email = fields.get("email").unwrap_or("").trim().to_string();
                    if let Err(why) = suppression.add(&email) {
                        problems.push(RowProblem::invalid(path, line, why));
                    }
                }
                Row::Broken { line, why } => problems.push(RowProblem::invalid(path, line, why)),
            }
        }
        Ok((suppression, problems))
    }

    /// Adds an address or a `*@domain` entry.
    pub fn add(&mut self, entry: &str) -> Result<(), String> {
        if let Some(domain) = entry.strip_prefix("*@") {
            let check = format!("postmaster@{domain}");
            check
                .parse::<EmailAddress>()
                .map_err(|_| format!("`{entry}` is not a valid domain entry: write *@example.org"))?;
            self.domains.insert(domain.to_lowercase());
        } else {
            let address: EmailAddress = entry.parse()?;
            self.addresses.insert(address.as_str().to_lowercase());
        }
        Ok(())
    }

    pub fn contains(&self, address: &EmailAddress) -> bool {
        let lower = address.as_str().to_lowercase();
        if self.addresses.contains(&lower) {
            return true;
        }
        lower
            .rsplit_once('@')
            .is_some_and(|(_, domain)| self.domains.contains(domain))
    }

    pub fn len(&self) -> usize {
        self.addresses.len() + self.domains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Appends `address` to the suppression list at `path` (created with its header if missing),
/// unless it is already suppressed. Safe against concurrent writers — the unsubscribe service,
/// a send recording hard bounces, a bounce import — because the file stays locked from the
/// check to the write; the line is written whole, so a crash never leaves half an entry.
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
    let mut text = String::new();
    file.seek(std::io::SeekFrom::Start(0))?;
    file.read_to_string(&mut text)?;
    let mut present = Suppression::default();
    for line in text.lines().skip(1) {
        let first = line.split([',', ';']).next().unwrap_or("").trim().trim_matches('"');
        let _ = present.add(first);
    }
    if present.contains(address) {
        return Ok(false);
    }
    let mut entry = String::new();
    if text.is_empty() {
        entry.push_str("email,reason,date\n");
    } else if !text.ends_with('\n') {
        entry.push('\n');
    }
    // The reason is ours, not a recipient's; keep it free of the CSV's separators anyway.
    let reason = reason.replace([',', ';', '"', '\n', '\r'], " ");
    entry.push_str(&format!("{},{reason},{date}\n", address.as_str()));
    file.write_all(entry.as_bytes())?;
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
        assert!(!append(&path, &"ann@EXAMPLE.org".parse().unwrap(), "again", date).unwrap());
        assert!(append(&path, &"bob@example.org".parse().unwrap(), "hard bounce", date).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "email,reason,date\nAnn@example.org,unsubscribed  one-click,2026-01-20\nbob@example.org,hard bounce,2026-01-20\n"
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
