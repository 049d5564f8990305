//! Everything infoflash keeps between runs, in the state folder (`[delivery] state`, default
//! `state/`): the send journals (`infoflash.sqlite`, and `infoflash.shard-K-of-N.sqlite` for
//! sharded sends), the run locks (`locks/`), the unsubscribe key (`unsubscribe.key`), the
//! failures files (`<edition>[-<office>]/failures.csv`) and the reports of the last run
//! (`<edition>[-<office>]/report.json`, `report.shard-K-of-N.json` for a shard).
//!
//! This module owns those files: their names, the journal's schema and its versions, every
//! SQL statement, and the lock that makes one run of an edition and office exclusive. Other
//! modules go through [`StateDir`] and [`Journal`]; none builds a path under `state/` or
//! writes SQL. It must not decide who is deliverable nor send anything.
//!
//! ```no_run
//! # use infoflash::state::{StateDir, SendKey, Journals};
//! let state = StateDir::new("state");
//! let key = SendKey { edition: "2026-01-info-flash-22".parse().unwrap(), office: None };
//! let journals = Journals::open_existing(&state).unwrap();
//! println!("{:?}", journals.tally(&key).unwrap());
//! ```
//!
//! Every error is a [`StateError`], which says which file and what to do. A full disk, a
//! read-only folder or a permission problem is an [`StateError::Io`]: the journal is never
//! called foreign because it could not be read or written.

mod journal;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use journal::{
    Destination, Failure, Journal, Journals, Outcome, PastRun, Pending, Recorder, RunId, RunRecord, SoftBounceRecord,
    Status, Tally, SCHEMA_VERSION,
};

use crate::types::Shard;
use crate::types::{EditionId, OfficeId};

/// Which send a record belongs to: an edition, by the international team (`office: None`) or
/// by a regional office.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SendKey {
    pub edition: EditionId,
    pub office: Option<OfficeId>,
}

impl SendKey {
    /// The office as stored in the journal's `office` column: `''` for the international team.
    fn office_column(&self) -> &str {
        self.office.as_ref().map_or("", OfficeId::as_str)
    }

    /// `2026-01-info-flash-22` or `2026-01-info-flash-22-santiago`: a folder or file name.
    fn file_stem(&self) -> String {
        match &self.office {
            Some(o) => format!("{}-{o}", self.edition),
            None => self.edition.to_string(),
        }
    }

    /// `edition X` or `edition X for office Y`, for messages.
    pub fn describe(&self) -> String {
        match &self.office {
            Some(o) => format!("edition {} for office {o}", self.edition),
            None => format!("edition {}", self.edition),
        }
    }
}

/// How a run ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Finished,
    Interrupted,
}

impl RunState {
    fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Finished => "finished",
            RunState::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Option<RunState> {
        match s {
            "running" => Some(RunState::Running),
            "finished" => Some(RunState::Finished),
            "interrupted" => Some(RunState::Interrupted),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The disk is full, the folder read-only, a permission is missing: the file is fine, the
    /// system around it is not.
    #[error("cannot {doing} {path}: {cause}; nothing in it was lost: fix that (free space, write permission) and run the same command again")]
    Io {
        doing: &'static str,
        path: PathBuf,
        cause: String,
    },
    #[error("{path} is not an infoflash send journal ({why}): {advice}; nothing was sent")]
    NotAJournal {
        path: PathBuf,
        why: String,
        advice: &'static str,
    },
    #[error("{path} was written by a newer infoflash (journal schema version {found}; this one knows up to {SCHEMA_VERSION}): use that release, or a newer one, for this project")]
    Newer { path: PathBuf, found: i64 },
    #[error(
        "another `infoflash send` is sending {what} right now{pid} (it holds {lock}); wait for it, or stop it first"
    )]
    Busy { what: String, pid: String, lock: PathBuf },
    #[error("the send journal {path} cannot be used: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the journal writer stopped ({cause}); outcomes can no longer be recorded, so the send stopped")]
    WriterGone { cause: String },
}

impl StateError {
    fn io(doing: &'static str, path: &Path, e: &std::io::Error) -> StateError {
        StateError::Io {
            doing,
            path: path.to_path_buf(),
            cause: e.to_string(),
        }
    }
}

/// The state folder.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

const JOURNAL: &str = "infoflash.sqlite";

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> StateDir {
        StateDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `infoflash.sqlite`, or for a shard `infoflash.shard-2-of-4.sqlite`: each machine of a
    /// sharded send writes its own, and every reader consults them all.
    pub fn journal_path(&self, shard: Option<Shard>) -> PathBuf {
        match shard {
            Some(s) => self
                .root
                .join(format!("infoflash.shard-{}-of-{}.sqlite", s.index(), s.count())),
            None => self.root.join(JOURNAL),
        }
    }

    /// The journal that holds what is not per shard (soft bounces).
    pub fn main_journal_path(&self) -> PathBuf {
        self.journal_path(None)
    }

    /// Every journal in the folder, the unsharded one first. A missing folder has none.
    pub fn journal_paths(&self) -> Result<Vec<PathBuf>, StateError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StateError::io("read the state folder", &self.root, &e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| StateError::io("read the state folder", &self.root, &e))?
                .path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == JOURNAL || (name.starts_with("infoflash.shard-") && name.ends_with(".sqlite")) {
                found.push(path);
            }
        }
        found.sort_by_key(|p| (p.file_name().and_then(|n| n.to_str()) != Some(JOURNAL), p.clone()));
        Ok(found)
    }

    /// `<edition>[-<office>]/failures.csv`.
    pub fn failures_path(&self, key: &SendKey) -> PathBuf {
        self.root.join(key.file_stem()).join("failures.csv")
    }

    /// Makes the failures file say what `failures` says: written whole under a temporary name
    /// and renamed, or removed when nobody is left, so that it never lists a recipient the
    /// journal has as delivered. Returns the file when there is one.
    pub fn write_failures(&self, key: &SendKey, failures: &[Failure]) -> Result<Option<PathBuf>, StateError> {
        let file = self.failures_path(key);
        if failures.is_empty() {
            return match std::fs::remove_file(&file) {
                Ok(()) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(StateError::io("remove the failures file", &file, &e)),
            };
        }
        let mut text = Vec::new();
        {
            let mut w = csv::Writer::from_writer(&mut text);
            for f in failures {
                w.serialize(f).map_err(|e| StateError::Io {
                    doing: "write the failures file",
                    path: file.clone(),
                    cause: e.to_string(),
                })?;
            }
            w.flush()
                .map_err(|e| StateError::io("write the failures file", &file, &e))?;
        }
        write_atomically(&file, &text).map_err(|e| StateError::io("write the failures file", &file, &e))?;
        Ok(Some(file))
    }

    /// `<edition>[-<office>]/report.json`, or `report.shard-K-of-N.json` for a shard: the
    /// report of the last run of that send (each shard has its own, as it has its journal).
    pub fn report_path(&self, key: &SendKey, shard: Option<Shard>) -> PathBuf {
        let name = match shard {
            Some(s) => format!("report.shard-{}-of-{}.json", s.index(), s.count()),
            None => "report.json".to_string(),
        };
        self.root.join(key.file_stem()).join(name)
    }

    /// Writes the report of a run (JSON the caller made), whole or not at all.
    pub fn write_report(&self, key: &SendKey, shard: Option<Shard>, json: &str) -> Result<PathBuf, StateError> {
        let file = self.report_path(key, shard);
        write_atomically(&file, json.as_bytes()).map_err(|e| StateError::io("write the report", &file, &e))?;
        Ok(file)
    }

    /// The reports of `key`'s runs, one per shard layout piece that ran (the unsharded one
    /// first), with their files. None when nothing was sent yet.
    pub fn reports(&self, key: &SendKey) -> Result<Vec<(PathBuf, String)>, StateError> {
        let dir = self.root.join(key.file_stem());
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StateError::io("read the reports folder", &dir, &e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| StateError::io("read the reports folder", &dir, &e))?
                .path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "report.json" || (name.starts_with("report.shard-") && name.ends_with(".json")) {
                let text = std::fs::read_to_string(&path).map_err(|e| StateError::io("read the report", &path, &e))?;
                found.push((path, text));
            }
        }
        found.sort_by_key(|(p, _)| (p.file_name().and_then(|n| n.to_str()) != Some("report.json"), p.clone()));
        Ok(found)
    }

    /// Takes the run lock of `key` (and of its shard), held until the returned guard drops.
    /// An unsharded run is exclusive; shards of one edition may run side by side, each alone
    /// on its shard. The lock is the kernel's (`flock`), so it ends with its process however
    /// that ends, and no process id can be mistaken for another.
    pub fn lock_run(&self, key: &SendKey, shard: Option<Shard>) -> Result<RunLock, StateError> {
        let dir = self.root.join("locks");
        std::fs::create_dir_all(&dir).map_err(|e| StateError::io("create the lock folder", &dir, &e))?;
        let whole = dir.join(format!("{}.lock", key.file_stem()));
        let busy = |lock: &Path| StateError::Busy {
            what: key.describe(),
            pid: std::fs::read_to_string(lock)
                .ok()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default(),
            lock: lock.to_path_buf(),
        };
        let open = |path: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| StateError::io("open the lock file", path, &e))
        };
        let mut files = Vec::new();
        let whole_file = open(&whole)?;
        let exclusive = match shard {
            None => {
                try_lock(&whole_file, false, &whole).map_err(|e| e.unwrap_or_else(|| busy(&whole)))?;
                (whole_file, whole)
            }
            Some(s) => {
                try_lock(&whole_file, true, &whole).map_err(|e| e.unwrap_or_else(|| busy(&whole)))?;
                files.push(whole_file);
                // Shards of one layout split the audience between them; shards of two layouts
                // (1/2 beside 1/3) would overlap. Each holds its layout's file shared, and none
                // starts while another layout's file is held.
                let stem = key.file_stem();
                let layout = dir.join(format!("{stem}.layout-{}.lock", s.count()));
                let layout_file = open(&layout)?;
                try_lock(&layout_file, true, &layout).map_err(|e| e.unwrap_or_else(|| busy(&layout)))?;
                files.push(layout_file);
                let prefix = format!("{stem}.layout-");
                let entries = std::fs::read_dir(&dir).map_err(|e| StateError::io("read the lock folder", &dir, &e))?;
                for other in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                    let name = other.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if other == layout || !(name.starts_with(&prefix) && name.ends_with(".lock")) {
                        continue;
                    }
                    // Free unless a running shard of that layout holds it.
                    try_lock(&open(&other)?, false, &other).map_err(|e| e.unwrap_or_else(|| busy(&other)))?;
                }
                let own = dir.join(format!("{}.shard-{}-of-{}.lock", key.file_stem(), s.index(), s.count()));
                let own_file = open(&own)?;
                try_lock(&own_file, false, &own).map_err(|e| e.unwrap_or_else(|| busy(&own)))?;
                (own_file, own)
            }
        };
        // Who holds it, for the message a second sender gets.
        let (mut file, path) = exclusive;
        let _ = file.set_len(0).and_then(|()| write!(file, "{}", std::process::id()));
        files.push(file);
        Ok(RunLock { _files: files, path })
    }

    /// Where the unsubscribe key is kept, for a service that watches it change.
    pub fn unsubscribe_key_file(&self) -> PathBuf {
        self.root.join("unsubscribe.key")
    }

    /// The unsubscribe signing key's bytes: read from `unsubscribe.key`, or created there (mode
    /// 0600, 32 random bytes) when missing, so that links stay valid across runs.
    pub fn unsubscribe_key(&self) -> Result<Vec<u8>, String> {
        let file = self.unsubscribe_key_file();
        if let Ok(bytes) = std::fs::read(&file) {
            if bytes.len() >= 16 {
                return Ok(bytes);
            }
        }
        let mut bytes = [0u8; 32];
        let mut random = File::open("/dev/urandom").map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
        std::io::Read::read_exact(&mut random, &mut bytes).map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
        std::fs::create_dir_all(&self.root).map_err(|e| format!("cannot create {}: {e}", self.root.display()))?;
        // Written whole under a temporary name, then linked into place: several sends starting
        // at once (shards) agree on one key, and none reads a half-written file.
        let temporary = file.with_extension(format!("key.tmp-{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&temporary)
            .map_err(|e| format!("cannot create the key file {}: {e}", temporary.display()))?;
        f.write_all(&bytes)
            .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
        drop(f);
        let linked = std::fs::hard_link(&temporary, &file);
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => Ok(bytes.to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let existing = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                if existing.len() < 16 {
                    return Err(format!(
                        "the key file {} is too short to be a key: delete it (links already sent stop working) or restore it",
                        file.display()
                    ));
                }
                Ok(existing)
            }
            Err(e) => Err(format!("cannot create the key file {}: {e}", file.display())),
        }
    }
}

/// `Ok` when locked, `Err(None)` when another process holds it, `Err(Some(_))` on I/O trouble.
fn try_lock(file: &File, shared: bool, path: &Path) -> Result<(), Option<StateError>> {
    let result = if shared {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match result {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(None),
        Err(std::fs::TryLockError::Error(e)) => Err(Some(StateError::io("lock", path, &e))),
    }
}

/// A held run lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunLock {
    _files: Vec<File>,
    path: PathBuf,
}

impl RunLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // The exclusive file names its holder; once released it names nobody.
        if let Some(file) = self._files.last() {
            let _ = file.set_len(0);
        }
    }
}

/// Writes `bytes` to `path` whole or not at all: a temporary file in the same folder, synced,
/// then renamed over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A name of its own for each write: two writes of the same file at once (two saves in
    // the editor's threads) must not share, and truncate, one temporary file.
    let temporary = path.with_file_name(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = File::create_new(&temporary)?;
        f.write_all(bytes)?;
        f.sync_data()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(office: Option<&str>) -> SendKey {
        SendKey {
            edition: "2026-01-flash-1".parse().unwrap(),
            office: office.map(|o| o.parse().unwrap()),
        }
    }

    #[test]
    fn a_second_run_of_the_same_send_is_refused_while_the_lock_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let held = state.lock_run(&key(None), None).unwrap();
        let err = state.lock_run(&key(None), None).unwrap_err();
        assert!(matches!(err, StateError::Busy { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        // Another office is another send; a shard waits for the whole send to end.
        let other = state.lock_run(&key(Some("santiago")), None).unwrap();
        assert!(state.lock_run(&key(None), Some("1/2".parse().unwrap())).is_err());
        drop(held);
        drop(other);
        let one = state.lock_run(&key(None), Some("1/2".parse().unwrap())).unwrap();
        let two = state.lock_run(&key(None), Some("2/2".parse().unwrap())).unwrap();
        assert!(state.lock_run(&key(None), Some("2/2".parse().unwrap())).is_err());
        assert!(
            state.lock_run(&key(None), None).is_err(),
            "a whole send beside running shards"
        );
        drop((one, two));
        assert!(state.lock_run(&key(None), None).is_ok());
    }

    #[test]
    fn the_failures_file_is_removed_when_nobody_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let failure = Failure {
            address: "ann@example.org".into(),
            status: "deferred".into(),
            code: Some(451),
            reply: "try later".into(),
            attempts: 3,
        };
        let file = state
            .write_failures(&key(Some("santiago")), &[failure])
            .unwrap()
            .unwrap();
        assert!(file.ends_with("2026-01-flash-1-santiago/failures.csv"));
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("ann@example.org,deferred,451"));
        assert_eq!(state.write_failures(&key(Some("santiago")), &[]).unwrap(), None);
        assert!(!file.exists());
    }

    #[test]
    fn reports_live_beside_the_failures_file_one_per_shard() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let key = key(Some("santiago"));
        assert!(state.reports(&key).unwrap().is_empty());
        let shard = state
            .write_report(&key, Some("2/3".parse().unwrap()), "{\"b\":2}")
            .unwrap();
        let whole = state.write_report(&key, None, "{\"a\":1}").unwrap();
        assert!(whole.ends_with("2026-01-flash-1-santiago/report.json"));
        assert!(shard.ends_with("2026-01-flash-1-santiago/report.shard-2-of-3.json"));
        let found = state.reports(&key).unwrap();
        assert_eq!(
            found.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
            ["{\"a\":1}", "{\"b\":2}"]
        );
        assert!(state.reports(&self::key(None)).unwrap().is_empty());
    }

    #[test]
    fn journals_are_listed_unsharded_first() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join("state"));
        assert!(state.journal_paths().unwrap().is_empty());
        std::fs::create_dir_all(state.root()).unwrap();
        for name in [
            "infoflash.shard-1-of-2.sqlite",
            "infoflash.sqlite",
            "other.sqlite",
            "infoflash.sqlite-wal",
        ] {
            std::fs::write(state.root().join(name), "").unwrap();
        }
        let names: Vec<String> = state
            .journal_paths()
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["infoflash.sqlite", "infoflash.shard-1-of-2.sqlite"]);
    }
}
