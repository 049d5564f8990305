//! The send journal: an SQLite database (`state/infoflash.sqlite`, WAL mode) with one row per
//! edition × office × recipient and its outcome, so that an interrupted `send` resumes without
//! losing or repeating anyone.
//!
//! Schema (open it with the `sqlite3` shell to look):
//!
//! ```sql
//! CREATE TABLE runs (
//!   id INTEGER PRIMARY KEY, edition TEXT NOT NULL, office TEXT NOT NULL,  -- '' = international
//!   pid INTEGER NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
//!   state TEXT NOT NULL             -- running, finished, interrupted
//! );
//! CREATE TABLE deliveries (
//!   edition TEXT NOT NULL, office TEXT NOT NULL,
//!   email TEXT NOT NULL,            -- lowercased address
//!   variant TEXT NOT NULL,          -- en, es-santiago…
//!   status TEXT NOT NULL,           -- delivered, failed (permanent), deferred (retry later)
//!   attempts INTEGER NOT NULL,      -- over all runs
//!   code INTEGER,                   -- the server's last reply code
//!   reply TEXT,                     -- and its text
//!   message_id TEXT NOT NULL,
//!   first_attempt_at TEXT NOT NULL, updated_at TEXT NOT NULL,   -- RFC 3339, UTC
//!   PRIMARY KEY (edition, office, email)
//! );
//! ```
//!
//! A worker records each outcome as soon as the server has answered the final `.` and waits
//! for the commit before taking its next message: one writer thread commits whatever outcomes
//! have queued up in one transaction (so commits are batched, milliseconds apart, never more
//! than 100 ms). After `kill -9` at any moment, at most the messages in flight — one per
//! connection — can be sent again, and none is lost.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the send journal {path} cannot be used: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the state folder {path}: {source}")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another `infoflash send` (pid {pid}) is sending edition {edition}{office} right now; wait for it, or stop it first")]
    Busy { pid: i64, edition: String, office: String },
    #[error("the journal writer stopped; outcomes can no longer be recorded")]
    WriterGone,
    #[error("{path} is not an infoflash send journal ({why}): move it away, or set [delivery] state to another folder; nothing was sent")]
    NotAJournal { path: PathBuf, why: String },
}

/// Refuses a file that is not a journal — garbage, or another program's database — before
/// anything is written to it or sent on its word.
fn verify(conn: &Connection, path: &Path) -> Result<(), JournalError> {
    let not = |why: String| JournalError::NotAJournal {
        path: path.to_path_buf(),
        why,
    };
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| not(e.to_string()))?;
    let ours = ["runs", "deliveries", "soft_bounces"];
    let foreign: Vec<&String> = tables.iter().filter(|t| !ours.contains(&t.as_str())).collect();
    if !foreign.is_empty() {
        let names: Vec<&str> = foreign.iter().map(|t| t.as_str()).collect();
        return Err(not(format!("it has the tables {}", names.join(", "))));
    }
    Ok(())
}

/// Opens an existing journal for reading only (`status`, dry runs), after checking it is one.
pub fn open_read_only(path: &Path) -> Result<Connection, JournalError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
        JournalError::Db {
            path: path.to_path_buf(),
            source,
        }
    })?;
    verify(&conn, path)?;
    let has_deliveries = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(|e| JournalError::NotAJournal {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
    if has_deliveries == 0 {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
            why: "it has no deliveries table".into(),
        });
    }
    Ok(conn)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Delivered,
    Failed,
    Deferred,
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
}

/// What happened to one recipient in this run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub email: String,
    pub variant: String,
    pub status: Status,
    /// Attempts made in this run.
    pub attempts: u32,
    pub code: Option<u16>,
    pub reply: String,
    pub message_id: String,
}

/// Which edition and office a journal handle works for.
#[derive(Debug, Clone)]
pub struct Key {
    pub edition: String,
    /// `""` for the international team's send.
    pub office: String,
}

const SCHEMA: &str = "
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
";

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Opens (creating if needed) the database at `path` in WAL mode.
pub fn open(path: &Path) -> Result<Connection, JournalError> {
    let db = |source| JournalError::Db {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Folder {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let conn = Connection::open(path).map_err(db)?;
    verify(&conn, path)?;
    conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
    // WAL lets `status` read while `send` writes; NORMAL syncs at checkpoints, which is
    // durable across a killed process (the kernel has the pages), the failure we guard against.
    conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
    conn.execute_batch(SCHEMA).map_err(db)?;
    Ok(conn)
}

fn process_alive(pid: i64) -> bool {
    pid > 0 && Path::new(&format!("/proc/{pid}")).exists()
}

/// Registers this process as the sender of `key`, refusing when another live process is.
/// Returns the run id. A run left `running` by a process that died is taken over.
pub fn begin_run(conn: &mut Connection, path: &Path, key: &Key) -> Result<i64, JournalError> {
    let db = |source| JournalError::Db {
        path: path.to_path_buf(),
        source,
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    let running: Vec<(i64, i64)> = {
        let mut stmt = tx
            .prepare("SELECT id, pid FROM runs WHERE edition = ?1 AND office = ?2 AND state = 'running'")
            .map_err(db)?;
        let rows = stmt
            .query_map(params![key.edition, key.office], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)?
    };
    for (id, pid) in running {
        if pid != i64::from(std::process::id()) && process_alive(pid) {
            let office = if key.office.is_empty() {
                String::new()
            } else {
                format!(" for office {}", key.office)
            };
            return Err(JournalError::Busy {
                pid,
                edition: key.edition.clone(),
                office,
            });
        }
        tx.execute(
            "UPDATE runs SET state = 'interrupted', finished_at = ?2 WHERE id = ?1",
            params![id, now()],
        )
        .map_err(db)?;
    }
    tx.execute(
        "INSERT INTO runs (edition, office, pid, started_at, state) VALUES (?1, ?2, ?3, ?4, 'running')",
        params![key.edition, key.office, i64::from(std::process::id()), now()],
    )
    .map_err(db)?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(db)?;
    Ok(id)
}

pub fn end_run(conn: &Connection, path: &Path, run: i64, state: &str) -> Result<(), JournalError> {
    conn.execute(
        "UPDATE runs SET state = ?2, finished_at = ?3 WHERE id = ?1",
        params![run, state, now()],
    )
    .map(|_| ())
    .map_err(|source| JournalError::Db {
        path: path.to_path_buf(),
        source,
    })
}

/// Looks recipients up one at a time: the journal is queried, never loaded whole.
pub struct Lookup<'c> {
    stmt: rusqlite::Statement<'c>,
    key: Key,
}

impl<'c> Lookup<'c> {
    pub fn new(conn: &'c Connection, key: &Key) -> rusqlite::Result<Self> {
        let stmt = conn.prepare("SELECT status FROM deliveries WHERE edition = ?1 AND office = ?2 AND email = ?3")?;
        Ok(Lookup { stmt, key: key.clone() })
    }

    pub fn status(&mut self, email: &str) -> rusqlite::Result<Option<Status>> {
        let status: Option<String> = self
            .stmt
            .query_row(params![self.key.edition, self.key.office, email.to_lowercase()], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(status.as_deref().and_then(Status::parse))
    }
}

/// Counts by status for `status` and the end-of-send summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub delivered: u64,
    pub failed: u64,
    pub deferred: u64,
}

pub fn tally(conn: &Connection, key: &Key) -> rusqlite::Result<Tally> {
    let mut stmt =
        conn.prepare("SELECT status, COUNT(*) FROM deliveries WHERE edition = ?1 AND office = ?2 GROUP BY status")?;
    let mut t = Tally::default();
    let rows = stmt.query_map(params![key.edition, key.office], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?))
    })?;
    for row in rows {
        let (status, n) = row?;
        match Status::parse(&status) {
            Some(Status::Delivered) => t.delivered = n,
            Some(Status::Failed) => t.failed = n,
            Some(Status::Deferred) => t.deferred = n,
            None => {}
        }
    }
    Ok(t)
}

/// A row of `failures.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub address: String,
    pub status: String,
    pub code: Option<u16>,
    pub reply: String,
    pub attempts: u32,
}

pub fn failures(conn: &Connection, key: &Key) -> rusqlite::Result<Vec<Failure>> {
    let mut stmt = conn.prepare(
        "SELECT email, status, code, reply, attempts FROM deliveries
         WHERE edition = ?1 AND office = ?2 AND status != 'delivered' ORDER BY email",
    )?;
    let rows = stmt.query_map(params![key.edition, key.office], |r| {
        Ok(Failure {
            address: r.get(0)?,
            status: r.get(1)?,
            code: r.get(2)?,
            reply: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            attempts: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The writer thread's handle: `record` returns once the outcome is committed.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<(Outcome, mpsc::Sender<Result<(), String>>)>,
}

impl Recorder {
    pub fn record(&self, outcome: Outcome) -> Result<(), JournalError> {
        self.submit(outcome)?.wait()
    }

    /// Queues an outcome for the next commit; the caller may prepare its next message, but
    /// must [`Pending::wait`] before sending it, so that no more than one unrecorded message
    /// per connection exists at any moment.
    pub fn submit(&self, outcome: Outcome) -> Result<Pending, JournalError> {
        let (ack_tx, ack_rx) = mpsc::channel();
        self.tx.send((outcome, ack_tx)).map_err(|_| JournalError::WriterGone)?;
        Ok(Pending(ack_rx))
    }
}

/// An outcome on its way into the journal.
pub struct Pending(mpsc::Receiver<Result<(), String>>);

impl Pending {
    /// Returns once the outcome is committed.
    pub fn wait(self) -> Result<(), JournalError> {
        match self.0.recv() {
            Ok(Ok(())) => Ok(()),
            _ => Err(JournalError::WriterGone),
        }
    }
}

/// Starts the writer on its own connection. It ends when every `Recorder` is dropped.
pub fn start_writer(path: &Path, key: &Key) -> Result<(Recorder, std::thread::JoinHandle<()>), JournalError> {
    let mut conn = open(path)?;
    let (tx, rx) = mpsc::channel::<(Outcome, mpsc::Sender<Result<(), String>>)>();
    let key = key.clone();
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
            let result = write_batch(&mut conn, &key, batch.iter().map(|(o, _)| o)).map_err(|e| e.to_string());
            if let Err(e) = &result {
                tracing::error!("cannot record outcomes in the journal: {e}");
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
    Ok((Recorder { tx }, handle))
}

fn write_batch<'o>(
    conn: &mut Connection,
    key: &Key,
    outcomes: impl Iterator<Item = &'o Outcome>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO deliveries (edition, office, email, variant, status, attempts, code, reply, message_id, first_attempt_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT (edition, office, email) DO UPDATE SET
               variant = excluded.variant, status = excluded.status, attempts = attempts + excluded.attempts,
               code = excluded.code, reply = excluded.reply, message_id = excluded.message_id, updated_at = excluded.updated_at",
        )?;
        let at = now();
        for o in outcomes {
            stmt.execute(params![
                key.edition,
                key.office,
                o.email.to_lowercase(),
                o.variant,
                o.status.as_str(),
                o.attempts,
                o.code,
                o.reply,
                o.message_id,
                at
            ])?;
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(email: &str, status: Status) -> Outcome {
        Outcome {
            email: email.into(),
            variant: "en".into(),
            status,
            attempts: 1,
            code: Some(250),
            reply: "ok".into(),
            message_id: "<x@y>".into(),
        }
    }

    #[test]
    fn records_outcomes_and_counts_attempts_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/j.sqlite");
        let key = Key {
            edition: "e".into(),
            office: String::new(),
        };
        let (rec, handle) = start_writer(&path, &key).unwrap();
        rec.record(outcome("A@example.org", Status::Deferred)).unwrap();
        rec.record(outcome("a@example.org", Status::Delivered)).unwrap();
        rec.record(outcome("b@example.org", Status::Failed)).unwrap();
        drop(rec);
        handle.join().unwrap();
        let conn = open(&path).unwrap();
        assert_eq!(
            tally(&conn, &key).unwrap(),
            Tally {
                delivered: 1,
                failed: 1,
                deferred: 0
            }
        );
        let mut lookup = Lookup::new(&conn, &key).unwrap();
        assert_eq!(lookup.status("A@EXAMPLE.org").unwrap(), Some(Status::Delivered));
        assert_eq!(lookup.status("c@example.org").unwrap(), None);
        let attempts: u32 = conn
            .query_row(
                "SELECT attempts FROM deliveries WHERE email = 'a@example.org'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(attempts, 2);
    }

    #[test]
    fn a_second_live_sender_of_the_same_edition_is_refused_and_a_dead_ones_run_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let key = Key {
            edition: "e".into(),
            office: "santiago".into(),
        };
        let mut conn = open(&path).unwrap();
        // A run by a live process other than us (pid 1 always exists).
        conn.execute(
            "INSERT INTO runs (edition, office, pid, started_at, state) VALUES ('e', 'santiago', 1, 'x', 'running')",
            [],
        )
        .unwrap();
        assert!(matches!(
            begin_run(&mut conn, &path, &key),
            Err(JournalError::Busy { pid: 1, .. })
        ));
        // Another office is independent.
        let other = Key {
            edition: "e".into(),
            office: String::new(),
        };
        assert!(begin_run(&mut conn, &path, &other).is_ok());
        // A dead process's run is marked interrupted and taken over.
        conn.execute("UPDATE runs SET pid = 999999999 WHERE pid = 1", [])
            .unwrap();
        let run = begin_run(&mut conn, &path, &key).unwrap();
        end_run(&conn, &path, run, "finished").unwrap();
        let interrupted: u32 = conn
            .query_row("SELECT COUNT(*) FROM runs WHERE state = 'interrupted'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(interrupted, 1);
    }
}
