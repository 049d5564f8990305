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

#[cfg(test)]
mod tests {
    use super::*;

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
