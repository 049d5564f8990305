//! Bounces: delivery status notifications (DSNs, RFC 3464) read from a Maildir, an mbox file,
//! a `.eml` file or a folder of `.eml` files, and what they mean for the audience. A hard
//! bounce (`failed` with a 5.x.x status) puts the address on the suppression list; a soft one
//! (a 4.x.x status, or `delayed`) is counted once per address and edition in the state
//! database's `soft_bounces` table, and suppresses the address once it has soft-bounced in
//! `[bounces] soft_bounce_editions` distinct editions. Only reports about a message this
//! project sent are applied.
//!
//! Three parts: [`mailbox`] reads the messages out of a Maildir, an mbox or `.eml` files;
//! [`dsn`] recognises and classifies one notification; this file imports: it matches each
//! report to a message we sent, and applies it. It writes the suppression list only through
//! [`suppression::append`] and the soft bounces only through [`crate::state`], so an import
//! is safe beside a running send or the unsubscribe service, and safe to repeat. A message
//! that is not a bounce, or a file that cannot be read, is reported with where it is and
//! skipped, never a reason to stop. It must not send anything nor read recipient lists.

pub mod dsn;
pub mod mailbox;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

pub use dsn::{parse_dsn, Dsn, Kind, NotABounce, RecipientResult};
pub use mailbox::read_messages;

/// What an import reads and writes: `[bounces]`, the journals under the state folder (the
/// offices' too) and the suppression list. Built by `config`, read here.
#[derive(Debug, Clone)]
pub struct BounceSettings {
    /// An address is suppressed once it has soft-bounced in this many distinct editions.
    pub soft_bounce_editions: u32,
    pub state_dir: std::path::PathBuf,
    pub suppression: std::path::PathBuf,
    pub network: std::sync::Arc<Network>,
}

use super::suppression::{self, Suppression};
use super::AudienceError;
use crate::diagnostics::{self, Diagnostic};
use crate::state::{Journal, Journals, SoftBounceRecord, StateDir, StateError};
use crate::types::Network;
use crate::types::{message_id_hash, EditionId, EmailAddress, OfficeId};

#[derive(Debug, thiserror::Error)]
pub enum BounceError {
    #[error(
        "cannot read the bounces at {path} (give a Maildir folder with cur/ and new/, an mbox \
         file, a .eml file or a folder of .eml files)"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(
        "cannot add {address} to the suppression list {path} (make it writable and run the \
         import again: it is safe to repeat)"
    )]
    Suppress {
        path: PathBuf,
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    SuppressionList(#[from] AudienceError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HardBounce {
    pub address: EmailAddress,
    pub status: String,
    pub diagnostic: String,
    pub at: String,
    /// Whether this import added the address to the suppression list (with `--dry-run`: would
    /// add it); `false` when it was there already.
    pub added: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftBounce {
    pub address: EmailAddress,
    /// The edition id, or the DSN's date (`YYYY-MM-DD`) when the edition cannot be told.
    pub edition: String,
    pub status: String,
    pub diagnostic: String,
    pub at: String,
    /// Whether this address × edition was counted for the first time by this import.
    pub new: bool,
    /// The distinct editions this address has soft-bounced in, after this import.
    pub editions: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftSuppression {
    pub address: EmailAddress,
    pub editions: u32,
    /// As for [`HardBounce::added`].
    pub added: bool,
}

/// What an import found and changed (or, with `dry_run`, would change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub path: PathBuf,
    pub dry_run: bool,
    /// The setting in force: soft bounces in this many editions suppress an address.
    pub soft_bounce_editions: u32,
    /// Messages found, including those skipped.
    pub messages: usize,
    /// Messages that report at least one failed or delayed recipient.
    pub bounces: usize,
    pub hard: Vec<HardBounce>,
    pub soft: Vec<SoftBounce>,
    /// Addresses that reached `soft_bounce_editions`.
    pub soft_suppressed: Vec<SoftSuppression>,
    /// Messages that are not bounces: replies, auto-replies, success notifications.
    pub not_bounces: Vec<Diagnostic>,
    /// Files that could not be read, recipient entries without a readable address.
    pub problems: Vec<Diagnostic>,
    /// Bounces that match no message this project sent (neither one of our Message-IDs for
    /// that recipient nor a journal row for them): listed, and applied only with
    /// `--accept-unmatched`.
    pub unmatched: Vec<Unmatched>,
}

/// A failed recipient whose report could not be tied to a message we sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    pub address: EmailAddress,
    pub kind: Kind,
    pub status: String,
    pub at: String,
    /// Whether it was applied anyway (`--accept-unmatched`).
    pub applied: bool,
}

impl ImportReport {
    /// Addresses this import added to the suppression list (or would add, in a dry run).
    pub fn newly_suppressed(&self) -> usize {
        self.hard.iter().filter(|h| h.added).count() + self.soft_suppressed.iter().filter(|s| s.added).count()
    }
}

pub use crate::diagnostics::shorten;

/// How an import runs.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Report what would change; write nothing.
    pub dry_run: bool,
    /// Apply bounces that match no message this project sent (see [`ImportReport::unmatched`]).
    pub accept_unmatched: bool,
    /// The date of suppressions, and of soft bounces whose report has none.
    pub today: NaiveDate,
}

/// A failed recipient that will be applied: matched to a message we sent (or let through).
struct Applied<'d> {
    at: &'d str,
    dsn: &'d Dsn,
    recipient: &'d RecipientResult,
    /// The edition of the matching Message-ID, else the report's.
    edition: Option<&'d EditionId>,
}

/// Reads every message at `path` and applies what the bounces say: hard ones to the
/// suppression list (reason `hard bounce STATUS: diagnostic`, dated `today`), soft ones to
/// the journal's soft bounces, and the addresses that reached `[bounces]
/// soft_bounce_editions` to the suppression list (reason `soft bounces in N editions`). A soft
/// bounce counts under its edition, else under the report's date (else `today`), so that it
/// still counts once per day.
///
/// A bounce is applied only when it is about a message this project sent: the report carries
/// one of our Message-IDs and it is the one we gave that recipient (it is derived from
/// edition, office and address), or a journal has a row for the recipient. Anything else
/// could be forged by anyone who can send us mail, and is listed as unmatched instead,
/// unless `accept_unmatched`.
pub fn import(settings: &BounceSettings, path: &Path, options: ImportOptions) -> Result<ImportReport, BounceError> {
    let ImportOptions {
        dry_run,
        accept_unmatched,
        today,
    } = options;
    let mut report = ImportReport {
        path: path.to_path_buf(),
        dry_run,
        soft_bounce_editions: settings.soft_bounce_editions,
        ..ImportReport::default()
    };
    let mut found: Vec<(String, Dsn)> = Vec::new();
    read_messages(path, |at, raw| {
        report.messages += 1;
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                report.problems.push(Diagnostic::at_place(
                    diagnostics::Kind::Unreadable,
                    at,
                    format!("cannot be read: {e}"),
                ));
                return;
            }
        };
        match parse_dsn(raw) {
            Err(why) => {
                report
                    .not_bounces
                    .push(Diagnostic::at_place(diagnostics::Kind::NotABounce, at, why.to_string()))
            }
            Ok(dsn) => {
                for why in &dsn.unreadable {
                    report
                        .problems
                        .push(Diagnostic::at_place(diagnostics::Kind::Unreadable, at, why.clone()));
                }
                if !dsn.recipients.is_empty() {
                    report.bounces += 1;
                    found.push((at.to_string(), dsn));
                } else if !dsn.not_failures.is_empty() {
                    report.not_bounces.push(Diagnostic::at_place(
                        diagnostics::Kind::NotABounce,
                        at,
                        format!("a delivery report without failures ({})", dsn.not_failures.join(", ")),
                    ));
                }
            }
        }
    })?;

    let state = StateDir::new(&settings.state_dir);
    let journals = Journals::open_existing(&state)?;
    let offices: Vec<Option<&OfficeId>> = std::iter::once(None)
        .chain(settings.network.offices.keys().map(Some))
        .collect();
    let mut applied = Vec::new();
    for (at, dsn) in &found {
        for recipient in &dsn.recipients {
            let ours = dsn.message_ids.iter().find(|(hash, edition)| {
                offices
                    .iter()
                    .any(|office| message_id_hash(edition, *office, &recipient.address) == *hash)
            });
            let matched = ours.is_some() || journals.knows(&recipient.address)?;
            if !matched {
                report.unmatched.push(Unmatched {
                    address: recipient.address.clone(),
                    kind: recipient.kind,
                    status: recipient.status.clone(),
                    at: at.clone(),
                    applied: accept_unmatched,
                });
                if !accept_unmatched {
                    continue;
                }
            }
            applied.push(Applied {
                at,
                dsn,
                recipient,
                edition: ours.map(|(_, edition)| edition).or(dsn.edition.as_ref()),
            });
        }
    }

    let mut suppressor = Suppressor::new(&settings.suppression, dry_run)?;
    for a in applied.iter().filter(|a| a.recipient.kind == Kind::Hard) {
        let r = a.recipient;
        let reason = format!("hard bounce {}: {}", r.status, shorten(&r.diagnostic, 120));
        let added = suppressor.add(&r.address, &reason, today)?;
        report.hard.push(HardBounce {
            address: r.address.clone(),
            status: r.status.clone(),
            diagnostic: r.diagnostic.clone(),
            at: a.at.to_string(),
            added,
        });
    }

    let editions = count_soft_bounces(&state, &applied, dry_run, today, &mut report)?;
    for (address, count) in editions {
        if count >= settings.soft_bounce_editions {
            let added = suppressor.add(&address, &format!("soft bounces in {count} editions"), today)?;
            report.soft_suppressed.push(SoftSuppression {
                address,
                editions: count,
                added,
            });
        }
    }
    Ok(report)
}

/// Records the soft bounces of `applied` in one transaction (rolled back in a dry run) and
/// fills `report.soft`; returns each soft-bounced address, in order, with its number of
/// editions.
fn count_soft_bounces(
    state: &StateDir,
    applied: &[Applied<'_>],
    dry_run: bool,
    today: NaiveDate,
    report: &mut ImportReport,
) -> Result<Vec<(EmailAddress, u32)>, BounceError> {
    let soft: Vec<&Applied<'_>> = applied.iter().filter(|a| a.recipient.kind == Kind::Soft).collect();
    if soft.is_empty() {
        return Ok(Vec::new());
    }
    let path = state.main_journal_path();
    // A dry run must not even create the database.
    let mut journal = if dry_run && !path.exists() {
        Journal::in_memory()?
    } else {
        Journal::open(&path)?
    };
    let keys: Vec<(String, String, String)> = soft
        .iter()
        .map(|a| {
            let date = a.dsn.date.unwrap_or(today);
            let edition = a.edition.map_or_else(|| date.to_string(), EditionId::to_string);
            let seen_at = a.dsn.timestamp.clone().unwrap_or_else(|| date.to_string());
            (a.at.to_string(), edition, seen_at)
        })
        .collect();
    let records: Vec<SoftBounceRecord<'_>> = soft
        .iter()
        .zip(&keys)
        .map(|(a, (_, edition, seen_at))| SoftBounceRecord {
            address: &a.recipient.address,
            edition,
            status: &a.recipient.status,
            diagnostic: &a.recipient.diagnostic,
            seen_at,
        })
        .collect();
    let (new, counts) = journal.record_soft_bounces(&records, !dry_run)?;
    let mut editions: Vec<(EmailAddress, u32)> = Vec::new();
    for ((a, (at, edition, _)), new) in soft.iter().zip(&keys).zip(new) {
        let r = a.recipient;
        let count = counts.get(r.address.key()).copied().unwrap_or(0);
        if !editions.iter().any(|(e, _)| e.key() == r.address.key()) {
            editions.push((r.address.clone(), count));
        }
        report.soft.push(SoftBounce {
            address: r.address.clone(),
            edition: edition.clone(),
            status: r.status.clone(),
            diagnostic: r.diagnostic.clone(),
            at: at.clone(),
            new,
            editions: count,
        });
    }
    Ok(editions)
}

/// Adds to the suppression list through [`suppression::append`], or, in a dry run, only tells
/// whether it would (remembering what it would have added, so an address counts once).
struct Suppressor<'c> {
    path: &'c Path,
    /// Only in a dry run: the list as it is, plus what this run would add.
    simulated: Option<Suppression>,
}

impl<'c> Suppressor<'c> {
    fn new(path: &'c Path, dry_run: bool) -> Result<Suppressor<'c>, BounceError> {
        let simulated = if dry_run {
            // Unreadable rows are `infoflash lists`' to report; here they only cannot match.
            Some(Suppression::load(path)?.0)
        } else {
            None
        };
        Ok(Suppressor { path, simulated })
    }

    fn add(&mut self, address: &EmailAddress, reason: &str, date: NaiveDate) -> Result<bool, BounceError> {
        match &mut self.simulated {
            Some(list) => {
                let added = !list.contains(address);
                // The address parsed already, so it is a valid entry.
                let _ = list.add(address.as_str());
                Ok(added)
            }
            None => suppression::append(self.path, address, reason, date).map_err(|source| BounceError::Suppress {
                path: self.path.to_path_buf(),
                address: address.to_string(),
                source,
            }),
        }
    }
}
