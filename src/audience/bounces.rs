//! Bounces: delivery status notifications (DSNs, RFC 3464) read from a Maildir, an mbox file,
//! a `.eml` file or a folder of `.eml` files, and what they mean for the audience. A hard
//! bounce (`failed` with a 5.x.x status) puts the address on the suppression list; a soft one
//! (a 4.x.x status, or `delayed`) is counted once per address and edition in the state
//! database's `soft_bounces` table, and suppresses the address once it has soft-bounced in
//! `[bounces] soft_bounce_editions` distinct editions.
//!
//! Owns reading those mailboxes, recognising and classifying DSNs, and the `soft_bounces`
//! table. It writes the suppression list only through [`suppression::append`], so an import
//! is safe beside a running send or the unsubscribe service, and safe to repeat. A message
//! that is not a bounce, or a file that cannot be read, is reported with where it is and
//! skipped, never a reason to stop. It must not send anything nor read recipient lists.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::NaiveDate;
use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};
use regex::Regex;
use serde::Serialize;

use super::suppression::{self, Suppression};
use super::AudienceError;
use crate::config::Config;
use crate::deliver::compose::message_id_hash;
use crate::state::{Journal, Journals, SoftBounceRecord, StateDir, StateError};
use crate::types::{EditionId, EmailAddress, OfficeId};

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

/// How a failed recipient counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Permanent (5.x.x): the address is suppressed at once.
    Hard,
    /// Temporary (4.x.x, or still being retried): counted, suppressed only when it persists.
    Soft,
}

/// One recipient a DSN reports as failed or delayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientResult {
    pub address: EmailAddress,
    pub kind: Kind,
    /// The enhanced status code (`5.1.1`), else the SMTP reply code (`550`), else empty.
    pub status: String,
    /// The remote server's words, without the `smtp;` type, unfolded onto one line.
    pub diagnostic: String,
}

/// What a delivery status notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    pub recipients: Vec<RecipientResult>,
    /// Recipients reported `delivered`, `relayed` or `expanded` (as `address: action`):
    /// notifications, not bounces.
    pub not_failures: Vec<String>,
    /// Recipient entries that name no address we can read, with what they say instead.
    pub unreadable: Vec<String>,
    /// The edition of the returned message, read from its Message-ID (`<hex.EDITION@domain>`).
    pub edition: Option<EditionId>,
    /// Every Message-ID of ours the report mentions, as (hash, edition): what a recipient is
    /// matched against, to tell a report about a message we sent from a forged one.
    pub message_ids: Vec<(String, EditionId)>,
    /// The DSN's own `Date`, as written (the sender's local day).
    pub date: Option<NaiveDate>,
    /// The same in RFC 3339, for the record.
    pub timestamp: Option<String>,
}

/// Why a message was not taken as a bounce.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotABounce {
    #[error("not an email message (no header could be read)")]
    NotAMessage,
    #[error(
        "no delivery status: neither a message/delivery-status part nor an X-Failed-Recipients \
         header (subject: {subject:?})"
    )]
    NoStatus { subject: String },
}

/// A message or recipient left aside, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file, or `file:line` for a message of an mbox (the line of its `From ` separator).
    pub at: String,
    pub why: String,
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
    pub not_bounces: Vec<Skipped>,
    /// Files that could not be read, recipient entries without a readable address.
    pub problems: Vec<Skipped>,
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

/// The Message-ID of a message infoflash sent: `<32 hex digits>.<edition id>@<domain>` (see
/// `deliver::compose`). Matched anywhere, so it is found in returned headers, in Gmail's
/// `X-Original-Message-ID` or in a quoted copy alike; the shape is specific enough not to match
/// a stranger's ID.
static OUR_MESSAGE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([0-9a-f]{32})\.([a-z0-9-]+)@[A-Za-z0-9.-]+").expect("a valid Message-ID pattern"));

/// An enhanced status code (RFC 3463) standing alone: `5.1.1`, not the `5.6.7` of `5.6.7.8`.
static ENHANCED_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r##"(?:^|[\s(\[<:;'"#])([245]\.\d{1,3}\.\d{1,3})(?:$|[\s)\]>:;,'"]|\.\s|\.$)"##)
        .expect("a valid status pattern")
});

/// A basic SMTP reply code, as in `550 ` or `452-`.
static REPLY_CODE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:^|[\s(\[:;'"])([245]\d\d)(?:$|[\s-])"#).expect("a valid reply pattern"));

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> BounceError + '_ {
    move |source| BounceError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Calls `each` with every message at `path` and where it is: the file of a Maildir entry or
/// of an `.eml`, `file:line` for a message of an mbox. A Maildir is a folder with `cur/` or
/// `new/` (`tmp/` holds deliveries in progress and is left alone); any other folder is read
/// for its `.eml` files; a file that starts with `From ` is an mbox, any other file is one
/// message. A message file that cannot be read is passed on as its error, so that one bad file
/// never hides the others. `Err` only when `path` itself cannot be read.
pub fn read_messages(path: &Path, mut each: impl FnMut(&str, std::io::Result<&[u8]>)) -> Result<(), BounceError> {
    let metadata = std::fs::metadata(path).map_err(read_error(path))?;
    if metadata.is_dir() {
        let maildir = ["cur", "new"].iter().any(|d| path.join(d).is_dir());
        let folders = if maildir {
            vec![path.join("new"), path.join("cur")]
        } else {
            vec![path.to_path_buf()]
        };
        for folder in folders.iter().filter(|f| f.is_dir()) {
            for file in message_files(folder, !maildir).map_err(read_error(folder))? {
                let at = file.display().to_string();
                match std::fs::read(&file) {
                    Ok(raw) => each(&at, Ok(&raw)),
                    Err(e) => each(&at, Err(e)),
                }
            }
        }
        return Ok(());
    }
    let file = std::fs::File::open(path).map_err(read_error(path))?;
    let mut reader = std::io::BufReader::new(file);
    if reader.fill_buf().map_err(read_error(path))?.starts_with(b"From ") {
        read_mbox(path, reader, each).map_err(read_error(path))
    } else {
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw).map_err(read_error(path))?;
        each(&path.display().to_string(), Ok(&raw));
        Ok(())
    }
}

/// The files of a folder in name order (Maildir names start with the delivery time), without
/// hidden ones; only `.eml` files unless `every_file`.
fn message_files(folder: &Path, only_eml: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        let eml = path.extension().is_some_and(|x| x.eq_ignore_ascii_case("eml"));
        if path.is_file() && !hidden && (eml || !only_eml) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Splits an mbox into its messages, one in memory at a time. A message starts at a `From `
/// line at the top of the file or after an empty line (so an unquoted "From " in a paragraph
/// does not cut a message in two); `>From ` lines lose one `>` (mboxrd quoting).
fn read_mbox(
    path: &Path,
    mut reader: impl BufRead,
    mut each: impl FnMut(&str, std::io::Result<&[u8]>),
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut current: Option<(u64, Vec<u8>)> = None;
    let mut after_blank = true;
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if after_blank && line.starts_with(b"From ") {
            if let Some((start, raw)) = current.take() {
                each(&format!("{}:{start}", path.display()), Ok(&raw));
            }
            current = Some((number, Vec::new()));
            after_blank = false;
            continue;
        }
        after_blank = line == b"\n" || line == b"\r\n";
        if let Some((_, raw)) = &mut current {
            let quoted = line
                .iter()
                .position(|&b| b != b'>')
                .is_some_and(|i| i > 0 && line[i..].starts_with(b"From "));
            raw.extend_from_slice(if quoted { &line[1..] } else { &line });
        }
    }
    if let Some((start, raw)) = current {
        each(&format!("{}:{start}", path.display()), Ok(&raw));
    }
    Ok(())
}

fn is_type(part: &MessagePart<'_>, ctype: &str, subtypes: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| subtypes.iter().any(|x| s.eq_ignore_ascii_case(x)))
    })
}

/// The field groups of a `message/delivery-status` body (RFC 3464 §2.1): the per-message
/// group, then one per recipient; names lowercased, folded values joined onto one line.
fn field_groups(text: &str) -> Vec<Vec<(String, String)>> {
    let mut groups = Vec::new();
    let mut group: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !group.is_empty() {
                groups.push(std::mem::take(&mut group));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = group.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            group.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

fn field<'a>(group: &'a [(String, String)], name: &str) -> Option<&'a str> {
    group
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `rfc822; <Ann@example.org>` → the address. Other address types (`x400;`) do not parse.
fn address_in(value: &str) -> Option<EmailAddress> {
    let address = value.split_once(';').map_or(value, |(_, a)| a).trim();
    address.trim_start_matches('<').trim_end_matches('>').parse().ok()
}

/// `smtp; 550 5.1.1 …` → `550 5.1.1 …`: the diagnostic type says nothing to a reader.
fn without_type(diagnostic: &str) -> &str {
    match diagnostic.split_once(';') {
        Some((kind, rest)) if !kind.trim().contains(' ') && kind.len() <= 20 => rest.trim(),
        _ => diagnostic.trim(),
    }
}

/// The status a text gives: an enhanced code if there is one, else an SMTP reply code.
fn status_in(text: &str) -> Option<String> {
    ENHANCED_CODE
        .captures(text)
        .or_else(|| REPLY_CODE.captures(text))
        .map(|c| c[1].to_string())
}

/// RFC 3464's `Action` with the status class: only a permanent failure is hard. A `failed`
/// with a 4.x.x status (a server that gave up retrying) or with no status at all is soft: it
/// suppresses only if it keeps happening, which is the safer mistake.
fn classify(action: Option<&str>, status: &str) -> Option<Kind> {
    let class = status.chars().next();
    match action {
        Some("delivered" | "relayed" | "expanded") => None,
        Some("failed") if class == Some('5') => Some(Kind::Hard),
        Some("delayed" | "failed") => Some(Kind::Soft),
        _ => match class {
            Some('5') => Some(Kind::Hard),
            Some('4') => Some(Kind::Soft),
            _ => None,
        },
    }
}

fn edition_in(text: &str) -> Option<EditionId> {
    OUR_MESSAGE_ID.captures_iter(text).find_map(|c| c[2].parse().ok())
}

/// Every Message-ID of ours anywhere in the message: headers, parts, the returned copy.
fn our_message_ids(message: &Message<'_>, raw: &[u8]) -> Vec<(String, EditionId)> {
    let mut found: Vec<(String, EditionId)> = Vec::new();
    let mut add = |text: &str| {
        for c in OUR_MESSAGE_ID.captures_iter(text) {
            if let Ok(edition) = c[2].parse::<EditionId>() {
                let id = (c[1].to_string(), edition);
                if !found.contains(&id) {
                    found.push(id);
                }
            }
        }
    };
    add(&String::from_utf8_lossy(raw));
    for part in message.parts.iter().filter(|p| !p.is_multipart()) {
        add(&String::from_utf8_lossy(part.contents()));
    }
    found
}

/// The edition of the message that bounced: from the Message-ID of the returned message
/// (`message/rfc822` or `text/rfc822-headers`) if there is one, else from one of our
/// Message-IDs anywhere in the report, else from the DSN's `In-Reply-To` or `References`.
fn returned_edition(message: &Message<'_>) -> Option<EditionId> {
    let returned = message.parts.iter().find_map(|part| match &part.body {
        PartType::Message(m) => m.message_id().and_then(edition_in),
        PartType::Text(text) if is_type(part, "text", &["rfc822-headers"]) => MessageParser::new()
            .parse_headers(text.as_bytes())
            .and_then(|h| h.message_id().and_then(edition_in)),
        _ => None,
    });
    returned
        .or_else(|| {
            message
                .parts
                .iter()
                .filter(|p| !p.is_multipart())
                .find_map(|p| edition_in(&String::from_utf8_lossy(p.contents())))
        })
        .or_else(|| {
            message
                .headers_raw()
                .filter(|(name, _)| name.eq_ignore_ascii_case("in-reply-to") || name.eq_ignore_ascii_case("references"))
                .find_map(|(_, value)| edition_in(value))
        })
}

/// mail-parser panics on some malformed multiparts (found by fuzzing: a `message/rfc822`
/// part right after a boundary with no line break). One such message in a mailbox must not
/// stop an import: it is simply not a message we can read.
fn parse_without_panicking(raw: &[u8]) -> Option<mail_parser::Message<'_>> {
    quietly(|| MessageParser::new().parse(raw)).flatten()
}

/// Runs `f`, catching a panic and keeping it off stderr. Swapping the process's panic hook
/// around the call would race with another thread doing the same (and could leave the
/// process silenced for good), so one hook is installed once: it stays quiet on a thread
/// that is inside `quietly` and hands every other panic to the hook that was there before.
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    use std::cell::Cell;
    thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(f).ok();
    QUIET.with(|q| q.set(outer));
    result
}

/// Reads one message. `Err` says why it is not a bounce; a DSN that reports only deliveries
/// is `Ok` with no recipients (see [`Dsn::not_failures`]).
pub fn parse_dsn(raw: &[u8]) -> Result<Dsn, NotABounce> {
    let message = parse_without_panicking(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(NotABounce::NotAMessage)?;
    let mut dsn = Dsn {
        edition: returned_edition(&message),
        message_ids: our_message_ids(&message, raw),
        date: message
            .date()
            .and_then(|d| NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))),
        timestamp: message.date().map(mail_parser::DateTime::to_rfc3339),
        ..Dsn::default()
    };
    let status_part = message
        .parts
        .iter()
        .find(|p| is_type(p, "message", &["delivery-status", "global-delivery-status"]));
    if let Some(part) = status_part {
        let text = String::from_utf8_lossy(part.contents());
        let recipients = field_groups(&text)
            .into_iter()
            .filter(|g| field(g, "final-recipient").or(field(g, "original-recipient")).is_some());
        for group in recipients {
            read_recipient(&group, &mut dsn);
        }
        if dsn.recipients.is_empty() && dsn.not_failures.is_empty() && dsn.unreadable.is_empty() {
            dsn.unreadable.push("its delivery status names no recipient".into());
        }
        return Ok(dsn);
    }
    // Exim and some gateways send a plain-text bounce with only this header to say who failed.
    let failed: Vec<&str> = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-failed-recipients"))
        .flat_map(|(_, value)| value.split([',', ' ', '\t', '\r', '\n']))
        .filter(|a| !a.is_empty())
        .collect();
    if failed.is_empty() {
        return Err(NotABounce::NoStatus {
            subject: message.subject().unwrap_or("").to_string(),
        });
    }
    let text: String = message
        .parts
        .iter()
        .filter_map(|p| match &p.body {
            PartType::Text(t) if !is_type(p, "text", &["rfc822-headers"]) => Some(t.as_ref()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let status = status_in(&text).unwrap_or_default();
    let diagnostic: String = text
        .lines()
        .find(|l| !status.is_empty() && l.contains(&status))
        .map(|l| l.trim().chars().take(200).collect())
        .unwrap_or_default();
    for entry in failed {
        match address_in(entry) {
            Some(address) => dsn.recipients.push(RecipientResult {
                address,
                kind: classify(Some("failed"), &status).unwrap_or(Kind::Soft),
                status: status.clone(),
                diagnostic: diagnostic.clone(),
            }),
            None => dsn
                .unreadable
                .push(format!("X-Failed-Recipients names `{entry}`, not an address")),
        }
    }
    Ok(dsn)
}

fn read_recipient(group: &[(String, String)], dsn: &mut Dsn) {
    // The original recipient is the address on our list; the final one may be where it was
    // forwarded to.
    let address = ["original-recipient", "final-recipient"]
        .iter()
        .filter_map(|name| field(group, name))
        .find_map(address_in);
    let Some(address) = address else {
        let named = field(group, "final-recipient")
            .or(field(group, "original-recipient"))
            .unwrap_or("");
        dsn.unreadable
            .push(format!("a recipient without a readable address (`{named}`)"));
        return;
    };
    let action = field(group, "action")
        .and_then(|a| a.split_whitespace().next())
        .map(str::to_ascii_lowercase);
    let diagnostic = field(group, "diagnostic-code").map_or("", without_type).to_string();
    let status = field(group, "status")
        .and_then(|s| ENHANCED_CODE.captures(s).map(|c| c[1].to_string()))
        .or_else(|| status_in(&diagnostic))
        .unwrap_or_default();
    match classify(action.as_deref(), &status) {
        Some(kind) => dsn.recipients.push(RecipientResult {
            address,
            kind,
            status,
            diagnostic,
        }),
        None => dsn
            .not_failures
            .push(format!("{address}: {}", action.as_deref().unwrap_or("no action"))),
    }
}

/// A suppression reason should fit on a line of the CSV: the start of the server's words.
fn short(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

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
pub fn import(config: &Config, path: &Path, options: ImportOptions) -> Result<ImportReport, BounceError> {
    let ImportOptions {
        dry_run,
        accept_unmatched,
        today,
    } = options;
    let mut report = ImportReport {
        path: path.to_path_buf(),
        dry_run,
        soft_bounce_editions: config.bounces.soft_bounce_editions,
        ..ImportReport::default()
    };
    let mut found: Vec<(String, Dsn)> = Vec::new();
    read_messages(path, |at, raw| {
        report.messages += 1;
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) => {
                report.problems.push(Skipped {
                    at: at.to_string(),
                    why: format!("cannot be read: {e}"),
                });
                return;
            }
        };
        match parse_dsn(raw) {
            Err(why) => report.not_bounces.push(Skipped {
                at: at.to_string(),
                why: why.to_string(),
            }),
            Ok(dsn) => {
                for why in &dsn.unreadable {
                    report.problems.push(Skipped {
                        at: at.to_string(),
                        why: why.clone(),
                    });
                }
                if !dsn.recipients.is_empty() {
                    report.bounces += 1;
                    found.push((at.to_string(), dsn));
                } else if !dsn.not_failures.is_empty() {
                    report.not_bounces.push(Skipped {
                        at: at.to_string(),
                        why: format!("a delivery report without failures ({})", dsn.not_failures.join(", ")),
                    });
                }
            }
        }
    })?;

    let state = StateDir::new(&config.delivery.state_dir);
    let journals = Journals::open_existing(&state)?;
    let offices: Vec<Option<&OfficeId>> = std::iter::once(None).chain(config.offices.keys().map(Some)).collect();
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

    let mut suppressor = Suppressor::new(config, dry_run)?;
    for a in applied.iter().filter(|a| a.recipient.kind == Kind::Hard) {
        let r = a.recipient;
        let reason = format!("hard bounce {}: {}", r.status, short(&r.diagnostic));
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
        if count >= config.bounces.soft_bounce_editions {
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
        let count = counts.get(&r.address.key()).copied().unwrap_or(0);
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
    fn new(config: &'c Config, dry_run: bool) -> Result<Suppressor<'c>, BounceError> {
        let simulated = if dry_run {
            // Unreadable rows are `infoflash lists`' to report; here they only cannot match.
            Some(Suppression::load(&config.suppression)?.0)
        } else {
            None
        };
        Ok(Suppressor {
            path: &config.suppression,
            simulated,
        })
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

#[cfg(test)]
mod fuzz_findings {
    use super::*;

    /// Runs in a child process of its own, where no hook was installed yet: its own counting
    /// hook stands for the process's, and must see every panic but the quiet ones.
    #[test]
    fn concurrent_quiet_parses_never_silence_the_panics_of_other_code() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        const NAME: &str =
            "audience::bounces::fuzz_findings::concurrent_quiet_parses_never_silence_the_panics_of_other_code";
        if std::env::var_os("INFOFLASH_QUIET_CHILD").is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", NAME, "--test-threads=1"])
                .env("INFOFLASH_QUIET_CHILD", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success() && text.contains("1 passed"), "{text}");
            return;
        }
        static REPORTED: AtomicUsize = AtomicUsize::new(0);
        std::panic::set_hook(Box::new(|_| {
            REPORTED.fetch_add(1, Ordering::SeqCst);
        }));
        let raw: &[u8] = b"Content-Type:multipart;boundary=b\n\n--bContent-Type:message/rfc822\n\nContent-Type:message/rfc822\n\n\n--b--";
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        assert!(parse_without_panicking(raw).is_none());
                        assert_eq!(quietly(|| -> u8 { panic!("quiet") }), None);
                    }
                });
            }
        });
        assert_eq!(REPORTED.load(Ordering::SeqCst), 0, "a quiet panic was reported");
        let _ = std::thread::spawn(|| panic!("loud")).join();
        assert_eq!(REPORTED.load(Ordering::SeqCst), 1, "a panic elsewhere went unreported");
    }

    #[test]
    fn a_multipart_that_makes_mail_parser_panic_is_not_a_message() {
        let raw = b"Content-Type:multipart;boundary=b\n\n--bContent-Type:message/rfc822\n\nContent-Type:message/rfc822\n\n\n--b--";
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let panics = std::panic::catch_unwind(|| MessageParser::new().parse(&raw[..])).is_err();
        std::panic::set_hook(quiet);
        assert!(
            panics,
            "mail-parser no longer panics here: this guard may be simplified"
        );
        assert!(matches!(parse_dsn(raw), Err(NotABounce::NotAMessage)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUR_ID: &str = "<3f2a9c0d1e2b3a4f5061728394a5b6c9.2026-01-info-flash-22@example.org>";

    /// Postfix's bounce for an unknown user: notification text, delivery report and the
    /// returned headers.
    fn postfix(recipient: &str, action: &str, status: &str, diagnostic: &str) -> String {
        format!(
            "Return-Path: <>\r
Received: by mail.example.org (Postfix) id 4F3A21C0042; Tue, 20 Jan 2026 09:14:03 +0000 (UTC)\r
Date: Tue, 20 Jan 2026 09:14:03 +0000 (UTC)\r
From: MAILER-DAEMON@mail.example.org (Mail Delivery System)\r
Subject: Undelivered Mail Returned to Sender\r
To: aspnet-infoflash@example.org\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status;\r
\tboundary=\"4F3A21C0042.1768900443/mail.example.org\"\r
Content-Transfer-Encoding: 7bit\r
Message-Id: <20260120091403.4F3A21C0042@mail.example.org>\r
\r
This is a MIME-encapsulated message.\r
\r
--4F3A21C0042.1768900443/mail.example.org\r
Content-Description: Notification\r
Content-Type: text/plain; charset=us-ascii\r
\r
This is the mail system at host mail.example.org.\r
\r
I'm sorry to have to inform you that your message could not\r
be delivered to one or more recipients. It's attached below.\r
\r
<{recipient}>: host mx.school.example.net[203.0.113.7] said: {diagnostic}\r
    (in reply to RCPT TO command)\r
\r
--4F3A21C0042.1768900443/mail.example.org\r
Content-Description: Delivery report\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mail.example.org\r
X-Postfix-Queue-ID: 4F3A21C0042\r
X-Postfix-Sender: rfc822; aspnet-infoflash@example.org\r
Arrival-Date: Tue, 20 Jan 2026 09:14:01 +0000 (UTC)\r
\r
Final-Recipient: rfc822; {recipient}\r
Original-Recipient: rfc822;{recipient}\r
Action: {action}\r
Status: {status}\r
Remote-MTA: dns; mx.school.example.net\r
Diagnostic-Code: smtp; {diagnostic}\r
\r
--4F3A21C0042.1768900443/mail.example.org\r
Content-Description: Undelivered Message Headers\r
Content-Type: text/rfc822-headers\r
Content-Transfer-Encoding: 7bit\r
\r
Return-Path: <aspnet-infoflash@example.org>\r
Date: Tue, 20 Jan 2026 09:14:00 +0000\r
From: ASPnet Info Flash <aspnet-infoflash@example.org>\r
To: {recipient}\r
Message-ID: {OUR_ID}\r
Subject: Info Flash 22\r
\r
--4F3A21C0042.1768900443/mail.example.org--\r
"
        )
    }

    const EXCHANGE: &str = "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>
To: <aspnet-infoflash@example.org>
Date: Wed, 21 Jan 2026 10:02:11 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary=\"_000_0f1e2d3c4b5a69788796a5b4c3d2e1f0_\"
Content-Language: en-US
X-MS-Exchange-Message-Is-Ndr:
Message-ID: <0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@EX01.contoso.example>
Subject: Undeliverable: Info Flash 22
Auto-Submitted: auto-replied
MIME-Version: 1.0

--_000_0f1e2d3c4b5a69788796a5b4c3d2e1f0_
Content-Type: text/plain; charset=\"us-ascii\"

Delivery has failed to these recipients or groups:

Jane Doe (jane.doe@contoso.example)
The email address you entered couldn't be found. Please check the recipient's email address
and try to resend the message.

Diagnostic information for administrators:

Generating server: EX01.contoso.example

jane.doe@contoso.example
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

--_000_0f1e2d3c4b5a69788796a5b4c3d2e1f0_
Content-Type: message/delivery-status

Reporting-MTA: dns;EX01.contoso.example
Received-From-MTA: dns;mail.example.org
Arrival-Date: Wed, 21 Jan 2026 10:02:09 +0000

Final-Recipient: rfc822;jane.doe@contoso.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found
X-Display-Name: Jane Doe

--_000_0f1e2d3c4b5a69788796a5b4c3d2e1f0_
Content-Type: message/rfc822

From: ASPnet Info Flash <aspnet-infoflash@example.org>
To: Jane Doe <jane.doe@contoso.example>
Subject: Info Flash 22
Message-ID: <11111111111111111111111111111111.2026-02-info-flash-23@example.org>
Date: Wed, 21 Jan 2026 10:02:00 +0000
Content-Type: text/plain

Dear Jane,

--_000_0f1e2d3c4b5a69788796a5b4c3d2e1f0_--
";

    fn gmail(kind: &str, action: &str, status: &str, diagnostic: &str) -> String {
        format!(
            "Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: aspnet-infoflash@example.org
Auto-Submitted: auto-replied
Subject: Delivery Status Notification ({kind})
Message-ID: <65a1b2c3.050a0220.abc123.4567.GMR@mx.google.com>
Date: Thu, 22 Jan 2026 01:30:30 -0800 (PST)
MIME-Version: 1.0
Content-Type: multipart/report; boundary=\"000000000000a1b2c3d4e5f60718\"; report-type=delivery-status

--000000000000a1b2c3d4e5f60718
Content-Type: multipart/related; boundary=\"000000000000a1b2c3d4e5f60719\"

--000000000000a1b2c3d4e5f60719
Content-Type: multipart/alternative; boundary=\"000000000000a1b2c3d4e5f6071a\"

--000000000000a1b2c3d4e5f6071a
Content-Type: text/plain; charset=\"UTF-8\"

** Message {kind} **

--000000000000a1b2c3d4e5f6071a
Content-Type: text/html; charset=\"UTF-8\"

<html><body><h2>Message {kind}</h2></body></html>

--000000000000a1b2c3d4e5f6071a--
--000000000000a1b2c3d4e5f60719--
--000000000000a1b2c3d4e5f60718
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; aspnet-infoflash@example.org
Arrival-Date: Thu, 22 Jan 2026 01:30:29 -0800 (PST)
X-Original-Message-ID: {OUR_ID}

Final-Recipient: rfc822; nobody.here@gmail.com
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}
Last-Attempt-Date: Thu, 22 Jan 2026 01:30:30 -0800 (PST)

--000000000000a1b2c3d4e5f60718--
"
        )
    }

    fn only(dsn: &Dsn) -> &RecipientResult {
        assert_eq!(dsn.recipients.len(), 1, "{dsn:?}");
        &dsn.recipients[0]
    }

    #[test]
    fn a_postfix_user_unknown_is_a_hard_bounce_of_the_edition_in_the_returned_headers() {
        let raw = postfix(
            "gone@school.example.net",
            "failed",
            "5.1.1",
            "550 5.1.1 <gone@school.example.net>: Recipient address\r\n    rejected: User unknown in virtual mailbox table",
        );
        let dsn = parse_dsn(raw.as_bytes()).unwrap();
        let r = only(&dsn);
        assert_eq!(r.address.as_str(), "gone@school.example.net");
        assert_eq!(r.kind, Kind::Hard);
        assert_eq!(r.status, "5.1.1");
        assert_eq!(
            r.diagnostic,
            "550 5.1.1 <gone@school.example.net>: Recipient address rejected: User unknown in virtual mailbox table"
        );
        assert_eq!(dsn.edition.unwrap().as_str(), "2026-01-info-flash-22");
        assert_eq!(dsn.date, NaiveDate::from_ymd_opt(2026, 1, 20));
    }

    #[test]
    fn a_full_mailbox_is_a_soft_bounce_even_when_the_server_gave_up() {
        let raw = postfix("full@example.net", "failed", "4.2.2", "452 4.2.2 Mailbox full");
        let r = only(&parse_dsn(raw.as_bytes()).unwrap()).clone();
        assert_eq!((r.kind, r.status.as_str()), (Kind::Soft, "4.2.2"));
        assert_eq!(r.diagnostic, "452 4.2.2 Mailbox full");
    }

    #[test]
    fn an_exchange_recipient_not_found_is_a_hard_bounce_with_its_resolver_words() {
        let dsn = parse_dsn(EXCHANGE.as_bytes()).unwrap();
        let r = only(&dsn);
        assert_eq!(r.address.as_str(), "jane.doe@contoso.example");
        assert_eq!(r.kind, Kind::Hard);
        assert_eq!(r.status, "5.1.1");
        assert_eq!(r.diagnostic, "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found");
        assert_eq!(dsn.edition.unwrap().as_str(), "2026-02-info-flash-23");
    }

    #[test]
    fn a_gmail_failure_is_hard_and_a_gmail_delay_is_soft() {
        let failure = gmail(
            "Failure",
            "failed",
            "5.1.1",
            "The email account that you tried to reach does not exist. Please try\n double-checking the recipient's email address. a1b2c3si123.4 - gsmtp",
        );
        let dsn = parse_dsn(failure.as_bytes()).unwrap();
        let r = only(&dsn);
        assert_eq!((r.kind, r.status.as_str()), (Kind::Hard, "5.1.1"));
        assert!(r
            .diagnostic
            .starts_with("The email account that you tried to reach does not exist. Please try double-checking"));
        // Gmail returns no headers here, but names the original in X-Original-Message-ID.
        assert_eq!(dsn.edition.unwrap().as_str(), "2026-01-info-flash-22");
        assert_eq!(dsn.date, NaiveDate::from_ymd_opt(2026, 1, 22));

        let delay = gmail(
            "Delay",
            "delayed",
            "4.4.1",
            "The recipient server did not accept our requests to connect. [mx.slow.example.net. 198.51.100.2: timed out]",
        );
        let r = only(&parse_dsn(delay.as_bytes()).unwrap()).clone();
        assert_eq!((r.kind, r.status.as_str()), (Kind::Soft, "4.4.1"));
    }

    #[test]
    fn a_reply_or_an_auto_reply_is_not_a_bounce_and_says_which_message_it_was() {
        let reply = format!(
            "From: Ann <ann@school.example.net>\nTo: aspnet-infoflash@example.org\nSubject: Out of office\nAuto-Submitted: auto-replied\nIn-Reply-To: {OUR_ID}\n\nI am away until Monday; 550 people will read your mail.\n"
        );
        let Err(why) = parse_dsn(reply.as_bytes()) else {
            panic!("taken as a bounce")
        };
        assert!(why.to_string().contains("\"Out of office\""), "{why}");
        assert_eq!(parse_dsn(b"\n\njust text"), Err(NotABounce::NotAMessage));
    }

    #[test]
    fn a_delivery_report_of_success_has_no_bounced_recipient() {
        let raw = postfix("ann@example.net", "delivered", "2.0.0", "250 2.0.0 Ok: queued as 123");
        let dsn = parse_dsn(raw.as_bytes()).unwrap();
        assert!(dsn.recipients.is_empty());
        assert_eq!(dsn.not_failures, ["ann@example.net: delivered"]);
    }

    #[test]
    fn an_exim_bounce_without_a_status_part_is_read_from_x_failed_recipients() {
        let raw = "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\nTo: aspnet-infoflash@example.org\nSubject: Mail delivery failed: returning message to sender\nX-Failed-Recipients: old@example.net\nDate: Fri, 23 Jan 2026 08:00:00 +0000\n\nThis message was created automatically by mail delivery software.\n\n  old@example.net\n    SMTP error from remote mail server after RCPT TO:<old@example.net>:\n    550 5.1.1 No such user here\n";
        let r = only(&parse_dsn(raw.as_bytes()).unwrap()).clone();
        assert_eq!(r.address.as_str(), "old@example.net");
        assert_eq!((r.kind, r.status.as_str()), (Kind::Hard, "5.1.1"));
        assert_eq!(r.diagnostic, "550 5.1.1 No such user here");
    }

    #[test]
    fn status_codes_are_told_from_ip_addresses_and_reply_codes_stand_in_for_them() {
        assert_eq!(
            status_in("host 5.6.7.8 said: 550 5.1.1 unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(status_in("host 5.6.7.8 said: 452 too many").as_deref(), Some("452"));
        assert_eq!(status_in("timed out").as_deref(), None);
    }

    #[test]
    fn the_action_and_status_class_decide_hard_soft_or_nothing() {
        assert_eq!(classify(Some("failed"), "5.7.1"), Some(Kind::Hard));
        assert_eq!(classify(Some("failed"), "4.4.7"), Some(Kind::Soft));
        assert_eq!(classify(Some("failed"), ""), Some(Kind::Soft));
        assert_eq!(classify(Some("delayed"), "5.0.0"), Some(Kind::Soft));
        assert_eq!(classify(Some("delivered"), "2.0.0"), None);
        assert_eq!(classify(Some("relayed"), "2.0.0"), None);
        assert_eq!(classify(Some("expanded"), "2.0.0"), None);
        assert_eq!(classify(None, "4.2.2"), Some(Kind::Soft));
        assert_eq!(classify(None, ""), None);
    }

    #[test]
    fn an_mbox_is_split_at_from_lines_after_blank_lines_with_their_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bounces.mbox");
        std::fs::write(
            &path,
            "From MAILER-DAEMON Tue Jan 20 09:14:03 2026\nSubject: one\n\nAs we wrote:\nFrom the start\n>From quoted\n\nFrom MAILER-DAEMON Wed Jan 21 10:00:00 2026\nSubject: two\n\nbody\n",
        )
        .unwrap();
        let mut seen = Vec::new();
        read_messages(&path, |at, raw| {
            seen.push((at.to_string(), String::from_utf8(raw.unwrap().to_vec()).unwrap()))
        })
        .unwrap();
        let at = |line: u32| format!("{}:{line}", path.display());
        assert_eq!(
            seen,
            [
                (
                    at(1),
                    "Subject: one\n\nAs we wrote:\nFrom the start\nFrom quoted\n\n".to_string()
                ),
                (at(8), "Subject: two\n\nbody\n".to_string()),
            ]
        );
    }

    #[test]
    fn a_maildir_is_read_new_then_cur_and_a_missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, name) in [("cur", "1.host:2,S"), ("new", "2.host"), ("tmp", "3.host")] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(name), "Subject: x\n\n").unwrap();
        }
        let mut seen = Vec::new();
        read_messages(dir.path(), |at, _| seen.push(at.to_string())).unwrap();
        assert_eq!(
            seen,
            [
                dir.path().join("new/2.host").display().to_string(),
                dir.path().join("cur/1.host:2,S").display().to_string()
            ]
        );
        let missing = read_messages(&dir.path().join("nowhere"), |_, _| {}).unwrap_err();
        assert!(missing.to_string().contains("give a Maildir folder"), "{missing}");
        assert!(
            std::error::Error::source(&missing).is_some(),
            "the cause is kept in the chain"
        );
    }
}
