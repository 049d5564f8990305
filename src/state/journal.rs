//! The journal databases: SQLite in WAL mode, one row per edition × office × recipient with
//! its outcome, one row per run with where it sent, and the soft bounces. The schema is
//! versioned with `PRAGMA user_version` and upgraded in place by ordered migrations; a
//! journal from a newer release is refused rather than misread.
//!
//! Schema version 2 (see docs/delivery.md for the meaning of each column):
//!
//! ```sql
//! CREATE TABLE runs (
//!   id INTEGER PRIMARY KEY, edition TEXT NOT NULL, office TEXT NOT NULL,  -- '' = international
//!   pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
//!   state TEXT NOT NULL,             -- running, finished, interrupted
//!   destination TEXT,                -- the outbox folder or the relay URLs (never a password)
//!   destination_kind TEXT,           -- outbox | smtp
//!   command TEXT                     -- the arguments that resume this run, a JSON array
//! );
//! CREATE TABLE deliveries (
//!   edition TEXT NOT NULL, office TEXT NOT NULL,
//!   email TEXT NOT NULL,             -- the canonical address, lowercased (EmailAddress::key)
//!   variant TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
//!   code INTEGER, reply TEXT, message_id TEXT NOT NULL,
//!   first_attempt_at TEXT NOT NULL, updated_at TEXT NOT NULL,
//!   PRIMARY KEY (edition, office, email)
//! );
//! CREATE TABLE soft_bounces (
//!   email TEXT NOT NULL, edition TEXT NOT NULL, status TEXT, diagnostic TEXT,
//!   seen_at TEXT NOT NULL, PRIMARY KEY (email, edition)
//! );
//! ```
//!
//! A worker records each outcome as soon as the server has answered the final `.` and waits
//! for the commit before sending its next message: one writer thread commits whatever
//! outcomes have queued up in one transaction. After `kill -9` at any moment, at most the
//! messages in flight — one per connection — can be sent again, and none is lost.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use super::{RunState, SendKey, StateDir, StateError};
use crate::types::EmailAddress;

/// The schema this release writes. Version 1 is the unversioned schema of earlier releases.
pub const SCHEMA_VERSION: i64 = 2;

/// The schema of the releases before versioning: applied to a new file, and a no-op on theirs.
const V1: &str = "
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, edition TEXT NOT NULL, office TEXT NOT NULL,
  pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  edition TEXT NOT NULL, office TEXT NOT NULL, email TEXT NOT NULL, variant TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('delivered', 'failed', 'deferred')),
  attempts INTEGER NOT NULL, code INTEGER, reply TEXT, message_id TEXT NOT NULL,
  first_attempt_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (edition, office, email)
);
CREATE TABLE IF NOT EXISTS soft_bounces (
  email TEXT NOT NULL, edition TEXT NOT NULL, status TEXT, diagnostic TEXT, seen_at TEXT NOT NULL,
  PRIMARY KEY (email, edition)
);
";

/// Version 2: each run records where it sent and how to resume it.
const V2: &str = "
ALTER TABLE runs ADD COLUMN destination TEXT;
ALTER TABLE runs ADD COLUMN destination_kind TEXT;
ALTER TABLE runs ADD COLUMN command TEXT;
";

const OUR_TABLES: [&str; 3] = ["runs", "deliveries", "soft_bounces"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Retry later. Ordered weakest first: across journals the strongest outcome wins.
    Deferred,
    /// Refused for good (5xx).
    Failed,
    Delivered,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Deferred => "deferred",
        }
    }

    fn parse(s: &str) -> Option<Status> {
        match s {
            "delivered" => Some(Status::Delivered),
            "failed" => Some(Status::Failed),
            "deferred" => Some(Status::Deferred),
            _ => None,
        }
    }

    /// Delivered or refused: a later send skips the recipient.
    pub fn is_done(self) -> bool {
        self != Status::Deferred
    }
}

/// What happened to one recipient in this run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub address: EmailAddress,
    pub variant: String,
    pub status: Status,
    /// Attempts made in this run.
    pub attempts: u32,
    pub code: Option<u16>,
    pub reply: String,
    pub message_id: String,
}

/// Counts by status for `status` and the end-of-send summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub delivered: u64,
    pub failed: u64,
    pub deferred: u64,
}

impl Tally {
    fn add(&mut self, status: Status) {
        match status {
            Status::Delivered => self.delivered += 1,
            Status::Failed => self.failed += 1,
            Status::Deferred => self.deferred += 1,
        }
    }
}

/// A row of `failures.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub address: String,
    pub status: String,
    pub code: Option<u16>,
    pub reply: String,
    pub attempts: u32,
}

/// Where a run sent: the kind decides whether a resume may go elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The outbox folder.
    Outbox(String),
    /// The relay URLs, without passwords (they never hold one).
    Smtp(String),
}

impl Destination {
    /// `outbox` or `smtp`, as the journal's `destination_kind` says.
    pub fn kind(&self) -> &'static str {
        match self {
            Destination::Outbox(_) => "outbox",
            Destination::Smtp(_) => "smtp",
        }
    }

    /// The outbox folder, or the relay URLs.
    pub fn place(&self) -> &str {
        match self {
            Destination::Outbox(p) | Destination::Smtp(p) => p,
        }
    }

    pub fn same_kind(&self, other: &Destination) -> bool {
        self.kind() == other.kind()
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Outbox(p) => write!(f, "the outbox folder {p}"),
            Destination::Smtp(p) => write!(f, "SMTP ({p})"),
        }
    }
}

/// What a run records about itself when it starts.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub destination: Destination,
    /// The command-line arguments (after `infoflash`) that resume this run.
    pub command: Vec<String>,
}

/// A run of an earlier process.
#[derive(Debug, Clone)]
pub struct PastRun {
    pub state: RunState,
    pub started_at: String,
    /// Unknown for runs of releases before schema version 2.
    pub record: Option<RunRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunId(i64);

/// A soft bounce to count, once per address and edition.
#[derive(Debug, Clone)]
pub struct SoftBounceRecord<'a> {
    pub address: &'a EmailAddress,
    /// The edition id, or the notification's date when the edition cannot be told.
    pub edition: &'a str,
    pub status: &'a str,
    pub diagnostic: &'a str,
    pub seen_at: &'a str,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const MOVE_AWAY: &str = "move it away, or set [delivery] state to another folder";
const RESTORE: &str =
    "restore it from a backup; moving it away starts a new record, and everyone would be mailed again";

/// Sorts an SQLite error by what the user can do about it: the system's fault (space,
/// permissions) is never taken for a foreign or damaged file.
fn classify(path: &Path, doing: &'static str, e: rusqlite::Error) -> StateError {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(NotADatabase) => StateError::NotAJournal {
            path: path.to_path_buf(),
            why: "it is not an SQLite database".into(),
            advice: MOVE_AWAY,
        },
        Some(DatabaseCorrupt) => StateError::NotAJournal {
            path: path.to_path_buf(),
            why: "it is damaged".into(),
            advice: RESTORE,
        },
        Some(
            DiskFull | SystemIoFailure | CannotOpen | ReadOnly | PermissionDenied | DatabaseBusy | DatabaseLocked
            | OutOfMemory,
        ) => StateError::Io {
            doing,
            path: path.to_path_buf(),
            cause: e.to_string(),
        },
        _ => StateError::Db {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// One journal file, open.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    version: i64,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({}, v{})", self.path.display(), self.version)
    }
}

impl Journal {
    /// Opens the journal at `path` for writing, creating it (and its folder) when missing and
    /// upgrading an older schema in place.
    pub fn open(path: &Path) -> Result<Journal, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StateError::io("create the state folder", dir, &e))?;
        }
        let err = |doing| move |e| classify(path, doing, e);
        let conn = Connection::open(path).map_err(err("open the send journal"))?;
        let mut journal = Journal {
            conn,
            path: path.to_path_buf(),
            version: 0,
        };
        journal.verify()?;
        journal
            .conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(err("open the send journal"))?;
        // WAL lets `status` read while `send` writes; NORMAL syncs at checkpoints, which is
        // durable across a killed process (the kernel has the pages), the failure we guard against.
        journal
            .conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(err("write the send journal"))?;
        journal
            .conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(err("write the send journal"))?;
        journal.migrate()?;
        Ok(journal)
    }

    /// Opens an existing journal for reading only (`status`, dry runs, other shards' files):
    /// never creates, upgrades or changes it. An older schema is read as it is.
    pub fn open_read_only(path: &Path) -> Result<Journal, StateError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| classify(path, "read the send journal", e))?;
        let mut journal = Journal {
            conn,
            path: path.to_path_buf(),
            version: 0,
        };
        journal.verify()?;
        let _ = journal.conn.busy_timeout(Duration::from_secs(5));
        Ok(journal)
    }

    /// Another process's journal, read-only; `None` while it has no tables yet (a shard that
    /// is starting), since it then holds nobody.
    fn open_other(path: &Path) -> Result<Option<Journal>, StateError> {
        let journal = Journal::open_read_only(path)?;
        Ok((journal.version > 0).then_some(journal))
    }

    /// A journal that lives in memory only (a dry run that must not create a file).
    pub fn in_memory() -> Result<Journal, StateError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| classify(&path, "open", e))?;
        let mut journal = Journal { conn, path, version: 0 };
        journal.migrate()?;
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        move |e| classify(&self.path, doing, e)
    }

    /// Refuses a file that is not a journal — garbage, or another program's database — and
    /// one from a newer release, before anything is written to it or sent on its word.
    fn verify(&mut self) -> Result<(), StateError> {
        let tables: Vec<String> = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("read the send journal"))?;
        let foreign: Vec<&str> = tables
            .iter()
            .map(String::as_str)
            .filter(|t| !OUR_TABLES.contains(t))
            .collect();
        if !foreign.is_empty() {
            return Err(StateError::NotAJournal {
                path: self.path.clone(),
                why: format!("it has the tables {}", foreign.join(", ")),
                advice: MOVE_AWAY,
            });
        }
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(self.err("read the send journal"))?;
        if version > SCHEMA_VERSION {
            return Err(StateError::Newer {
                path: self.path.clone(),
                found: version,
            });
        }
        // An unversioned file with our tables is a journal of the first schema.
        self.version = if version == 0 && !tables.is_empty() { 1 } else { version };
        Ok(())
    }

    /// Applies the migrations this file has not had, each in its own transaction.
    fn migrate(&mut self) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = |e| classify(&path, "upgrade the send journal", e);
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(err)?;
            // Another process may have upgraded it meanwhile.
            let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(err)?;
            let current = if found == 0 { self.version.max(0) } else { found };
            if current >= SCHEMA_VERSION {
                self.version = current;
                return Ok(());
            }
            let next = current + 1;
            match next {
                1 => tx.execute_batch(V1).map_err(err)?,
                2 => {
                    tx.execute_batch(V1).map_err(err)?;
                    tx.execute_batch(V2).map_err(err)?;
                    canonicalise_addresses(&tx).map_err(err)?;
                }
                _ => unreachable!("migrations stop at SCHEMA_VERSION"),
            }
            tx.pragma_update(None, "user_version", next).map_err(err)?;
            tx.commit().map_err(err)?;
            self.version = next;
        }
    }

    /// Registers a run of `key`; the caller holds its [`super::RunLock`], so a run still marked
    /// `running` was left by a process that died, and is marked interrupted.
    pub fn begin_run(&self, key: &SendKey, record: &RunRecord) -> Result<RunId, StateError> {
        let path = self.path.clone();
        let err = |e| classify(&path, "write the send journal", e);
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        tx.execute(
            "UPDATE runs SET state = 'interrupted', finished_at = ?3 WHERE edition = ?1 AND office = ?2 AND state = 'running'",
            params![key.edition.as_str(), key.office_column(), now()],
        )
        .map_err(err)?;
        let command = serde_json::to_string(&record.command).unwrap_or_default();
        tx.execute(
            "INSERT INTO runs (edition, office, pid, started_at, state, destination, destination_kind, command)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7)",
            params![
                key.edition.as_str(),
                key.office_column(),
                i64::from(std::process::id()),
                now(),
                record.destination.place(),
                record.destination.kind(),
                command
            ],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(err)?;
        Ok(RunId(id))
    }

    pub fn end_run(&self, run: RunId, state: RunState) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE runs SET state = ?2, finished_at = ?3 WHERE id = ?1",
                params![run.0, state.as_str(), now()],
            )
            .map(|_| ())
            .map_err(self.err("write the send journal"))
    }

    /// The latest run of `key` in this file.
    pub fn last_run(&self, key: &SendKey) -> Result<Option<PastRun>, StateError> {
        let extra = if self.version >= 2 {
            "destination, destination_kind, command"
        } else {
            "NULL, NULL, NULL"
        };
        let sql = format!(
            "SELECT state, started_at, {extra} FROM runs WHERE edition = ?1 AND office = ?2 ORDER BY id DESC LIMIT 1"
        );
        self.conn
            .query_row(&sql, params![key.edition.as_str(), key.office_column()], |r| {
                let place: Option<String> = r.get(2)?;
                let kind: Option<String> = r.get(3)?;
                let command: Option<String> = r.get(4)?;
                let destination = match (kind.as_deref(), place) {
                    (Some("outbox"), Some(p)) => Some(Destination::Outbox(p)),
                    (Some("smtp"), Some(p)) => Some(Destination::Smtp(p)),
                    _ => None,
                };
                Ok(PastRun {
                    state: RunState::parse(&r.get::<_, String>(0)?).unwrap_or(RunState::Interrupted),
                    started_at: r.get(1)?,
                    record: destination.map(|destination| RunRecord {
                        destination,
                        command: command.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
                    }),
                })
            })
            .optional()
            .map_err(self.err("read the send journal"))
    }

    /// One recipient's outcome so far, looked up (the journal is never loaded whole).
    pub fn status_of(&self, key: &SendKey, address: &EmailAddress) -> Result<Option<Status>, StateError> {
        let status: Option<String> = self
            .conn
            .prepare_cached("SELECT status FROM deliveries WHERE edition = ?1 AND office = ?2 AND email = ?3")
            .and_then(|mut stmt| {
                stmt.query_row(params![key.edition.as_str(), key.office_column(), address.key()], |r| {
                    r.get(0)
                })
                .optional()
            })
            .map_err(self.err("read the send journal"))?;
        Ok(status.as_deref().and_then(Status::parse))
    }

    pub fn tally(&self, key: &SendKey) -> Result<Tally, StateError> {
        let mut t = Tally::default();
        self.each_status(key, |_, status| t.add(status))?;
        Ok(t)
    }

    fn each_status(&self, key: &SendKey, mut each: impl FnMut(String, Status)) -> Result<(), StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT email, status FROM deliveries WHERE edition = ?1 AND office = ?2")
            .map_err(self.err("read the send journal"))?;
        let rows = stmt
            .query_map(params![key.edition.as_str(), key.office_column()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.err("read the send journal"))?;
        for row in rows {
            let (email, status) = row.map_err(self.err("read the send journal"))?;
            if let Some(status) = Status::parse(&status) {
                each(email, status);
            }
        }
        Ok(())
    }

    /// Everyone not delivered, by address.
    pub fn failures(&self, key: &SendKey) -> Result<Vec<Failure>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT email, status, code, reply, attempts FROM deliveries
                 WHERE edition = ?1 AND office = ?2 AND status != 'delivered' ORDER BY email",
            )
            .map_err(self.err("read the send journal"))?;
        let rows = stmt
            .query_map(params![key.edition.as_str(), key.office_column()], |r| {
                Ok(Failure {
                    address: r.get(0)?,
                    status: r.get(1)?,
                    code: r.get(2)?,
                    reply: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    attempts: r.get(4)?,
                })
            })
            .map_err(self.err("read the send journal"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.err("read the send journal"))
    }

    /// Whether any send of any edition has a row for `address`: it is someone we mailed.
    pub fn knows(&self, address: &EmailAddress) -> Result<bool, StateError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE email = ?1)",
                params![address.key()],
                |r| r.get(0),
            )
            .map_err(self.err("read the send journal"))
    }

    /// Counts soft bounces, once per address and edition, in one transaction, committed only
    /// when `commit` (a dry run rolls it back). Returns, per record, whether it was new, and
    /// per address key the distinct editions it has soft-bounced in afterwards.
    pub fn record_soft_bounces(
        &mut self,
        records: &[SoftBounceRecord<'_>],
        commit: bool,
    ) -> Result<(Vec<bool>, BTreeMap<String, u32>), StateError> {
        let path = self.path.clone();
        let err = |e| classify(&path, "write the soft bounces in", e);
        let tx = self.conn.transaction().map_err(err)?;
        let mut new = Vec::with_capacity(records.len());
        let mut editions = BTreeMap::new();
        for r in records {
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO soft_bounces (email, edition, status, diagnostic, seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![r.address.key(), r.edition, r.status, r.diagnostic, r.seen_at],
                )
                .map_err(err)?;
            new.push(inserted == 1);
            editions.insert(r.address.key().to_string(), 0);
        }
        for (email, count) in &mut editions {
            *count = tx
                .query_row(
                    "SELECT COUNT(*) FROM soft_bounces WHERE email = ?1",
                    params![email],
                    |row| row.get(0),
                )
                .map_err(err)?;
        }
        if commit {
            tx.commit().map_err(err)?;
        } else {
            tx.rollback().map_err(err)?;
        }
        Ok((new, editions))
    }

    /// Starts the writer thread on its own connection to this journal's file. It ends when
    /// every [`Recorder`] is dropped, or at the first outcome it cannot commit.
    pub fn start_writer(&self, key: &SendKey) -> Result<(Recorder, std::thread::JoinHandle<()>), StateError> {
        let mut conn = Journal::open(&self.path)?;
        let (tx, rx) = mpsc::channel::<(Outcome, mpsc::Sender<Result<(), String>>)>();
        let key = key.clone();
        let stopped_by = Arc::new(Mutex::new(None));
        let cause = stopped_by.clone();
        let handle = std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                // Group commit: everything already queued goes in the same transaction.
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                    if batch.len() >= 512 {
                        break;
                    }
                }
                let result = conn
                    .write_batch(&key, batch.iter().map(|(o, _)| o))
                    .map_err(|e| e.to_string());
                if let Err(e) = &result {
                    tracing::debug!("cannot record outcomes in the journal: {e}");
                    // Kept for whoever submits after the writer is gone: the real cause.
                    *cause.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
                }
                for (_, ack) in batch {
                    let _ = ack.send(result.clone());
                }
                if result.is_err() {
                    // Stop: senders must not go on with unrecorded messages.
                    return;
                }
            }
        });
        Ok((Recorder { tx, stopped_by }, handle))
    }

    fn write_batch<'o>(
        &mut self,
        key: &SendKey,
        outcomes: impl Iterator<Item = &'o Outcome>,
    ) -> Result<(), StateError> {
        let path = self.path.clone();
        let err = |e| classify(&path, "write the send journal", e);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO deliveries (edition, office, email, variant, status, attempts, code, reply, message_id, first_attempt_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
                     ON CONFLICT (edition, office, email) DO UPDATE SET
                       variant = excluded.variant, status = excluded.status, attempts = attempts + excluded.attempts,
                       code = excluded.code, reply = excluded.reply, message_id = excluded.message_id, updated_at = excluded.updated_at",
                )
                .map_err(err)?;
            let at = now();
            for o in outcomes {
                stmt.execute(params![
                    key.edition.as_str(),
                    key.office_column(),
                    o.address.key(),
                    o.variant,
                    o.status.as_str(),
                    o.attempts,
                    o.code,
                    o.reply,
                    o.message_id,
                    at
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}

/// Version 2 keys deliveries and soft bounces by the canonical address: rows written under
/// another spelling of the same mailbox (`"ann"@x`, an IDN domain in Unicode) are re-keyed, and
/// two rows of one mailbox merge into the stronger outcome, so a resume after the upgrade
/// sends nothing twice.
fn canonicalise_addresses(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rekey = |email: &str| -> Option<String> {
        let canonical = email.parse::<EmailAddress>().ok()?.key().to_string();
        (canonical != email).then_some(canonical)
    };
    let rows: Vec<(String, String, String, String, i64)> = tx
        .prepare("SELECT edition, office, email, status, attempts FROM deliveries")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<Result<_, _>>()?;
    for (edition, office, email, status, attempts) in rows {
        let Some(canonical) = rekey(&email) else { continue };
        let existing: Option<(String, i64)> = tx
            .query_row(
                "SELECT status, attempts FROM deliveries WHERE edition = ?1 AND office = ?2 AND email = ?3",
                params![edition, office, canonical],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match existing {
            None => {
                tx.execute(
                    "UPDATE deliveries SET email = ?4 WHERE edition = ?1 AND office = ?2 AND email = ?3",
                    params![edition, office, email, canonical],
                )?;
            }
            Some((other, other_attempts)) => {
                let strength = |s: &str| Status::parse(s).unwrap_or(Status::Deferred);
                if strength(&status) > strength(&other) {
                    tx.execute(
                        "DELETE FROM deliveries WHERE edition = ?1 AND office = ?2 AND email = ?3",
                        params![edition, office, canonical],
                    )?;
                    tx.execute(
                        "UPDATE deliveries SET email = ?4, attempts = ?5 WHERE edition = ?1 AND office = ?2 AND email = ?3",
                        params![edition, office, email, canonical, attempts + other_attempts],
                    )?;
                } else {
                    tx.execute(
                        "UPDATE deliveries SET attempts = ?4 WHERE edition = ?1 AND office = ?2 AND email = ?3",
                        params![edition, office, canonical, attempts + other_attempts],
                    )?;
                    tx.execute(
                        "DELETE FROM deliveries WHERE edition = ?1 AND office = ?2 AND email = ?3",
                        params![edition, office, email],
                    )?;
                }
            }
        }
    }
    let bounces: Vec<(String, String)> = tx
        .prepare("SELECT email, edition FROM soft_bounces")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (email, edition) in bounces {
        if let Some(canonical) = rekey(&email) {
            tx.execute(
                "UPDATE OR IGNORE soft_bounces SET email = ?3 WHERE email = ?1 AND edition = ?2",
                params![email, edition, canonical],
            )?;
            tx.execute(
                "DELETE FROM soft_bounces WHERE email = ?1 AND edition = ?2",
                params![email, edition],
            )?;
        }
    }
    Ok(())
}

/// The writer thread's handle.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<(Outcome, mpsc::Sender<Result<(), String>>)>,
    /// Why the writer stopped, once it has.
    stopped_by: Arc<Mutex<Option<String>>>,
}

impl Recorder {
    fn gone(&self) -> StateError {
        let cause = self.stopped_by.lock().unwrap_or_else(|p| p.into_inner()).clone();
        StateError::WriterGone {
            cause: cause.unwrap_or_else(|| "it ended".into()),
        }
    }

    /// Queues an outcome for the next commit; the caller may prepare its next message, but
    /// must [`Pending::wait`] before sending it, so that no more than one unrecorded message
    /// per connection exists at any moment.
    pub fn submit(&self, outcome: Outcome) -> Result<Pending, StateError> {
        let (ack_tx, ack_rx) = mpsc::channel();
        self.tx.send((outcome, ack_tx)).map_err(|_| self.gone())?;
        Ok(Pending(ack_rx, self.clone()))
    }

    /// Returns once the outcome is committed.
    pub fn record(&self, outcome: Outcome) -> Result<(), StateError> {
        self.submit(outcome)?.wait()
    }
}

/// An outcome on its way into the journal.
pub struct Pending(mpsc::Receiver<Result<(), String>>, Recorder);

impl Pending {
    /// Returns once the outcome is committed.
    pub fn wait(self) -> Result<(), StateError> {
        match self.0.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(cause)) => Err(StateError::WriterGone { cause }),
            Err(_) => Err(self.1.gone()),
        }
    }
}

/// Every journal of a state folder, read together: a sharded send leaves one file per shard,
/// and whatever layout an earlier send used, a recipient delivered or refused in any of them
/// is done. The first journal may be the one this process writes.
pub struct Journals {
    list: Vec<Journal>,
}

impl Journals {
    /// Every journal that exists, read-only.
    pub fn open_existing(state: &StateDir) -> Result<Journals, StateError> {
        let mut list = Vec::new();
        for path in state.journal_paths()? {
            list.extend(Journal::open_other(&path)?);
        }
        Ok(Journals { list })
    }

    /// `own` (which this process writes) first, then every other journal, read-only.
    pub fn with_own(own: Journal, state: &StateDir) -> Result<Journals, StateError> {
        let mut list = vec![own];
        for path in state.journal_paths()? {
            if !same_file(&path, list[0].path()) {
                list.extend(Journal::open_other(&path)?);
            }
        }
        Ok(Journals { list })
    }

    /// The journal this process writes (with [`Journals::with_own`]).
    pub fn own(&self) -> Option<&Journal> {
        self.list.first()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The strongest outcome any journal has for the recipient.
    pub fn status_of(&self, key: &SendKey, address: &EmailAddress) -> Result<Option<Status>, StateError> {
        let mut best = None;
        for j in &self.list {
            if let Some(s) = j.status_of(key, address)? {
                best = best.max(Some(s));
                if s == Status::Delivered {
                    break;
                }
            }
        }
        Ok(best)
    }

    /// Each recipient counted once, with their strongest outcome over every journal.
    pub fn tally(&self, key: &SendKey) -> Result<Tally, StateError> {
        if let [only] = self.list.as_slice() {
            return only.tally(key);
        }
        let merged = self.merged(key)?;
        let mut t = Tally::default();
        for status in merged.values() {
            t.add(*status);
        }
        Ok(t)
    }

    fn merged(&self, key: &SendKey) -> Result<HashMap<String, Status>, StateError> {
        let mut merged: HashMap<String, Status> = HashMap::new();
        for j in &self.list {
            j.each_status(key, |email, status| {
                let slot = merged.entry(email).or_insert(status);
                *slot = (*slot).max(status);
            })?;
        }
        Ok(merged)
    }

    /// Everyone whose strongest outcome is not delivered, by address.
    pub fn failures(&self, key: &SendKey) -> Result<Vec<Failure>, StateError> {
        if let [only] = self.list.as_slice() {
            return only.failures(key);
        }
        let merged = self.merged(key)?;
        let mut rows: BTreeMap<String, Failure> = BTreeMap::new();
        for j in &self.list {
            for f in j.failures(key)? {
                let strongest = merged.get(&f.address).copied();
                let this = Status::parse(&f.status);
                if strongest.is_some_and(|s| s != Status::Delivered) && this == strongest {
                    rows.entry(f.address.clone()).or_insert(f);
                }
            }
        }
        Ok(rows.into_values().collect())
    }

    /// The latest run of `key` over every journal.
    pub fn last_run(&self, key: &SendKey) -> Result<Option<PastRun>, StateError> {
        let mut latest: Option<PastRun> = None;
        for j in &self.list {
            if let Some(run) = j.last_run(key)? {
                if latest.as_ref().is_none_or(|l| run.started_at > l.started_at) {
                    latest = Some(run);
                }
            }
        }
        Ok(latest)
    }

    /// Whether any journal has a row for `address`, of any edition.
    pub fn knows(&self, address: &EmailAddress) -> Result<bool, StateError> {
        for j in &self.list {
            if j.knows(address)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(office: Option<&str>) -> SendKey {
        SendKey {
            edition: "e".parse().unwrap(),
            office: office.map(|o| o.parse().unwrap()),
        }
    }

    fn outcome(email: &str, status: Status) -> Outcome {
        Outcome {
            address: email.parse().unwrap(),
            variant: "en".into(),
            status,
            attempts: 1,
            code: Some(250),
            reply: "ok".into(),
            message_id: "<x@y>".into(),
        }
    }

    /// Records `rows` through the writer thread, as a send does, and waits for it to end.
    fn record_all(journal: &Journal, rows: &[(&str, Status)]) {
        let (rec, handle) = journal.start_writer(&key(None)).unwrap();
        for (email, status) in rows {
            rec.record(outcome(email, *status)).unwrap();
        }
        drop(rec);
        handle.join().unwrap();
    }

    #[test]
    fn records_outcomes_by_canonical_address_and_counts_attempts_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/j.sqlite");
        let journal = Journal::open(&path).unwrap();
        record_all(
            &journal,
            &[
                ("A@example.org", Status::Deferred),
                ("\"a\"@EXAMPLE.org", Status::Delivered),
                ("b@example.org", Status::Failed),
            ],
        );
        assert_eq!(
            journal.tally(&key(None)).unwrap(),
            Tally {
                delivered: 1,
                failed: 1,
                deferred: 0
            }
        );
        let a: EmailAddress = "a@example.org".parse().unwrap();
        assert_eq!(journal.status_of(&key(None), &a).unwrap(), Some(Status::Delivered));
        assert_eq!(journal.status_of(&key(Some("santiago")), &a).unwrap(), None);
        let attempts: u32 = journal
            .conn
            .query_row(
                "SELECT attempts FROM deliveries WHERE email = 'a@example.org'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(attempts, 2);
        assert_eq!(
            journal
                .conn
                .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
                .unwrap(),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn a_journal_of_the_unversioned_schema_is_upgraded_in_place_and_its_addresses_re_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("infoflash.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.execute_batch(
                "INSERT INTO runs (edition, office, pid, started_at, state) VALUES ('e', '', 1, '2026-01-01', 'interrupted');
                 INSERT INTO deliveries VALUES ('e', '', '\"dup\"@example.org', 'en', 'delivered', 1, 250, 'ok', '<m>', 't', 't');
                 INSERT INTO deliveries VALUES ('e', '', 'dup@example.org', 'en', 'deferred', 2, 451, 'later', '<m>', 't', 't');
                 INSERT INTO deliveries VALUES ('e', '', 'x@bücher.example', 'en', 'delivered', 1, 250, 'ok', '<m>', 't', 't');
                 INSERT INTO soft_bounces VALUES ('y@bücher.example', 'e', '4.2.2', 'full', 't');",
            )
            .unwrap();
        }
        // Read-only readers see the old schema as it is, and change nothing.
        let old = Journal::open_read_only(&path).unwrap();
        assert_eq!(old.version, 1);
        assert!(old.last_run(&key(None)).unwrap().unwrap().record.is_none());
        drop(old);
        let journal = Journal::open(&path).unwrap();
        assert_eq!(journal.version, SCHEMA_VERSION);
        let dup: EmailAddress = "dup@example.org".parse().unwrap();
        assert_eq!(journal.status_of(&key(None), &dup).unwrap(), Some(Status::Delivered));
        let idn: EmailAddress = "x@xn--bcher-kva.example".parse().unwrap();
        assert_eq!(journal.status_of(&key(None), &idn).unwrap(), Some(Status::Delivered));
        assert_eq!(journal.tally(&key(None)).unwrap().delivered, 2);
        assert_eq!(journal.tally(&key(None)).unwrap().deferred, 0);
        let soft: String = journal
            .conn
            .query_row("SELECT email FROM soft_bounces", [], |r| r.get(0))
            .unwrap();
        assert_eq!(soft, "y@xn--bcher-kva.example");
    }

    #[test]
    fn a_journal_from_a_newer_release_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("infoflash.sqlite");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99; CREATE TABLE runs (id INTEGER);")
            .unwrap();
        for result in [Journal::open(&path), Journal::open_read_only(&path)] {
            let err = result.unwrap_err();
            assert!(matches!(err, StateError::Newer { found: 99, .. }), "{err}");
            assert!(err.to_string().contains("newer infoflash"), "{err}");
        }
        let version: i64 = Connection::open(&path)
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 99);
    }

    #[test]
    fn garbage_and_foreign_databases_are_not_journals_but_a_missing_folder_is_an_io_problem() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.sqlite");
        std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
        assert!(matches!(Journal::open(&garbage), Err(StateError::NotAJournal { .. })));
        let foreign = dir.path().join("foreign.sqlite");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE invoices (id INTEGER)")
            .unwrap();
        assert!(matches!(
            Journal::open_read_only(&foreign),
            Err(StateError::NotAJournal { .. })
        ));
        let missing = dir.path().join("nowhere/infoflash.sqlite");
        let err = Journal::open_read_only(&missing).unwrap_err();
        assert!(matches!(err, StateError::Io { .. }), "{err}");
    }

    #[test]
    fn journals_of_several_shard_layouts_count_each_recipient_once_with_its_strongest_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let write = |shard: Option<&str>, rows: &[(&str, Status)]| {
            record_all(
                &Journal::open(&state.journal_path(shard.map(|s| s.parse().unwrap()))).unwrap(),
                rows,
            );
        };
        write(None, &[("a@x.org", Status::Delivered), ("b@x.org", Status::Deferred)]);
        write(
            Some("1/2"),
            &[("a@x.org", Status::Deferred), ("b@x.org", Status::Delivered)],
        );
        write(
            Some("2/2"),
            &[("c@x.org", Status::Failed), ("d@x.org", Status::Deferred)],
        );
        let all = Journals::open_existing(&state).unwrap();
        assert_eq!(
            all.tally(&key(None)).unwrap(),
            Tally {
                delivered: 2,
                failed: 1,
                deferred: 1
            }
        );
        let b: EmailAddress = "b@x.org".parse().unwrap();
        assert_eq!(all.status_of(&key(None), &b).unwrap(), Some(Status::Delivered));
        let failures: Vec<String> = all
            .failures(&key(None))
            .unwrap()
            .into_iter()
            .map(|f| f.address)
            .collect();
        assert_eq!(failures, ["c@x.org", "d@x.org"]);
        assert!(all.knows(&"c@x.org".parse().unwrap()).unwrap());
        assert!(!all.knows(&"z@x.org".parse().unwrap()).unwrap());
    }
}
