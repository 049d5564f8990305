//! The bad-input corpus, `tests/bad-input/` (its README describes a case): small projects with
//! something broken in them — TOML, types, dates, encodings, huge lines, header injection,
//! scripts in Markdown, templates, the state database — each with a `case.toml` saying what
//! every command given it must do: exit 1 or 2 (never panic, never hang) with an error that
//! names the place, and leave no partial output behind.
//!
//! Every run gets a fresh copy of its case; files too big or too binary to commit are generated
//! into that copy first. All failures are collected and reported together; runs marked
//! `known_gap` (a fix needed where this corpus cannot make it) are listed, not failed — until
//! they pass, which fails the test so that the mark is removed.

mod common;

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use serde::Deserialize;

/// A command still running after this long has hung: it is killed and the run fails.
const HANG: Duration = Duration::from_secs(120);

/// Files any command may create: the unsubscribe key is the project's secret, made on first use
/// (a dry run makes it too), not output.
const ALWAYS_ALLOWED: &[&str] = &["state/unsubscribe.key"];

/// Below this, files are compared by content; above it (the generated giants), by size and time.
const HASHED: u64 = 4 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case checks, in a sentence.
    description: String,
    #[serde(default)]
    generate: Vec<Generate>,
    #[serde(default)]
    run: Vec<Run>,
    // Defaults for every run; a run's own value wins.
    known_gap: Option<String>,
    exit: Option<i32>,
    expect: Option<String>,
    place: Option<Places>,
    may_create: Option<Vec<String>>,
    absent: Option<Vec<String>>,
    present: Option<Vec<String>>,
    present_output: Option<Vec<String>>,
    absent_output: Option<Vec<String>>,
    absent_in_mail: Option<Vec<String>>,
    max_memory_mb: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Run {
    args: Vec<String>,
    known_gap: Option<String>,
    exit: Option<i32>,
    expect: Option<String>,
    place: Option<Places>,
    may_create: Option<Vec<String>>,
    absent: Option<Vec<String>>,
    present: Option<Vec<String>>,
    present_output: Option<Vec<String>>,
    absent_output: Option<Vec<String>>,
    absent_in_mail: Option<Vec<String>>,
    max_memory_mb: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Places {
    One(String),
    Many(Vec<String>),
}

impl Places {
    fn list(&self) -> Vec<String> {
        match self {
            Places::One(p) => vec![p.clone()],
            Places::Many(ps) => ps.clone(),
        }
    }
}

/// A file made in the copy of the case before the command runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    kind: String,
    /// The case's file it is made from (UTF-8 text), for the kinds that need one.
    from: Option<String>,
    to: String,
    /// The size, for `long-line`, `garbage` and `sqlite-corrupted`.
    bytes: Option<usize>,
    /// What `long-line` repeats (default `x`); only whole copies are written.
    fill: Option<String>,
}

/// One command of a case, with the case's defaults applied.
#[derive(Debug, Clone)]
struct Job {
    case: String,
    dir: PathBuf,
    generate: Vec<Generate>,
    args: Vec<String>,
    known_gap: Option<String>,
    exit: i32,
    expect: String,
    places: Vec<String>,
    may_create: Vec<String>,
    absent: Vec<String>,
    present: Vec<String>,
    present_output: Vec<String>,
    absent_output: Vec<String>,
    absent_in_mail: Vec<String>,
    max_memory_mb: Option<u64>,
}

fn corpus() -> PathBuf {
    root().join("tests/bad-input")
}

fn jobs() -> Vec<Job> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut jobs = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(dir.join("case.toml"))
            .unwrap_or_else(|e| panic!("{name}: cannot read case.toml: {e}"));
        let case: Case = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/case.toml: {e}"));
        assert!(!case.description.trim().is_empty(), "{name}: no description");
        assert!(!case.run.is_empty(), "{name}: no [[run]]");
        for run in &case.run {
            let exit = run
                .exit
                .or(case.exit)
                .unwrap_or_else(|| panic!("{name}: a run has no `exit`"));
            assert!(matches!(exit, 0..=2), "{name}: `exit` is 0, 1 or 2");
            let list = |own: &Option<Vec<String>>, default: &Option<Vec<String>>| {
                own.clone().or_else(|| default.clone()).unwrap_or_default()
            };
            jobs.push(Job {
                case: name.clone(),
                dir: dir.clone(),
                generate: case.generate.clone(),
                args: run.args.clone(),
                known_gap: run.known_gap.clone().or_else(|| case.known_gap.clone()),
                exit,
                expect: run
                    .expect
                    .clone()
                    .or_else(|| case.expect.clone())
                    .unwrap_or_else(|| panic!("{name}: a run has no `expect`")),
                places: run
                    .place
                    .as_ref()
                    .or(case.place.as_ref())
                    .unwrap_or_else(|| panic!("{name}: a run has no `place`"))
                    .list(),
                may_create: list(&run.may_create, &case.may_create),
                absent: list(&run.absent, &case.absent),
                present: list(&run.present, &case.present),
                present_output: list(&run.present_output, &case.present_output),
                absent_output: list(&run.absent_output, &case.absent_output),
                absent_in_mail: list(&run.absent_in_mail, &case.absent_in_mail),
                max_memory_mb: run.max_memory_mb.or(case.max_memory_mb),
            });
        }
    }
    jobs
}

// ------------------------------------------------------------------------------ generators

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "case.toml" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Deterministic bytes that are neither text nor any known file format.
fn garbage(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn generate(g: &Generate, project: &Path) -> Result<(), String> {
    let to = project.join(&g.to);
    std::fs::create_dir_all(to.parent().unwrap()).map_err(|e| e.to_string())?;
    let source = || -> Result<String, String> {
        let from = g.from.as_ref().ok_or(format!("`{}` needs `from`", g.kind))?;
        std::fs::read_to_string(project.join(from)).map_err(|e| format!("{from}: {e}"))
    };
    let size = || g.bytes.ok_or(format!("`{}` needs `bytes`", g.kind));
    let bytes: Vec<u8> = match g.kind.as_str() {
        // ISO-8859-1: one byte per character (the source must stay below U+0100).
        "latin1" => source()?
            .chars()
            .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("`{c}` is not in Latin-1")))
            .collect::<Result<_, _>>()?,
        "utf16le" => [0xFF, 0xFE]
            .into_iter()
            .chain(source()?.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        "utf16le-no-bom" => source()?.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "utf16be" => [0xFE, 0xFF]
            .into_iter()
            .chain(source()?.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
        // `{{LONG}}` in the source becomes `bytes` bytes of `fill`, streamed to the file.
        "long-line" => {
            let text = source()?;
            let (before, after) = text.split_once("{{LONG}}").ok_or("the source has no {{LONG}}")?;
            let fill = g.fill.as_deref().filter(|f| !f.is_empty()).unwrap_or("x");
            let copies = (size()? / fill.len()).max(1);
            let per_chunk = (1 << 16) / fill.len() + 1;
            let chunk = fill.repeat(per_chunk);
            let write = || -> std::io::Result<()> {
                let mut w = std::io::BufWriter::new(std::fs::File::create(&to)?);
                w.write_all(before.as_bytes())?;
                for done in (0..copies).step_by(per_chunk) {
                    let n = per_chunk.min(copies - done);
                    w.write_all(&chunk.as_bytes()[..n * fill.len()])?;
                }
                w.write_all(after.as_bytes())?;
                w.flush()
            };
            return write().map_err(|e| e.to_string());
        }
        "garbage" => garbage(size()?, 0x1234_5678),
        // A real SQLite database (a table, some rows) whose pages after the header are overwritten.
        "sqlite-corrupted" => {
            let conn = rusqlite::Connection::open(&to).map_err(|e| e.to_string())?;
            conn.execute_batch(
                "CREATE TABLE deliveries (email TEXT PRIMARY KEY, status TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                 INSERT INTO deliveries SELECT 'r' || i || '@example.org', 'delivered' FROM n;",
            )
            .map_err(|e| e.to_string())?;
            drop(conn);
            let mut db = std::fs::read(&to).map_err(|e| e.to_string())?;
            let junk = garbage(db.len(), 0x9E37_79B9);
            db[100..].copy_from_slice(&junk[100..]);
            db.truncate(size()?.max(200));
            db
        }
        // A valid SQLite database of another program.
        "sqlite-foreign" => {
            let conn = rusqlite::Connection::open(&to).map_err(|e| e.to_string())?;
            conn.execute_batch(
                "CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL);
                 INSERT INTO invoices (customer, amount) VALUES ('ACME', 1250.0), ('Globex', 99.5);",
            )
            .map_err(|e| e.to_string())?;
            return Ok(());
        }
        other => return Err(format!("unknown generator `{other}`")),
    };
    std::fs::write(&to, bytes).map_err(|e| e.to_string())
}

// ------------------------------------------------------------------------------ running

/// What a project folder holds: path → (size, content hash or modification time).
fn snapshot(dir: &Path) -> BTreeMap<String, (u64, u64)> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, (u64, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walk(base, &path, out);
                continue;
            }
            let mut h = std::hash::DefaultHasher::new();
            if meta.len() <= HASHED {
                std::fs::read(&path).unwrap_or_default().hash(&mut h);
            } else {
                meta.modified().ok().hash(&mut h);
            }
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, (meta.len(), h.finish()));
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

struct Outcome {
    code: Option<i32>,
    output: String,
    elapsed: Duration,
    /// Peak resident memory seen while it ran, in MB (Linux).
    peak_mb: Option<u64>,
    hung: bool,
}

fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Runs `infoflash ARGS` in `cwd`, killing it after [`HANG`]; stdout and stderr go to files
/// outside the project so that they are not mistaken for its output.
fn run_binary(cwd: &Path, args: &[String]) -> Outcome {
    let logs = tempfile::tempdir().unwrap();
    let out_path = logs.path().join("stdout");
    let err_path = logs.path().join("stderr");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args(args)
        .current_dir(cwd)
        .env_remove("INFOFLASH_LOG")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the infoflash binary runs");
    let mut peak_mb = None;
    let mut hung = false;
    let status = loop {
        if let Some(mb) = peak_rss_mb(child.id()) {
            peak_mb = Some(peak_mb.unwrap_or(0).max(mb));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG {
            hung = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Outcome {
        code: status.code(),
        output: format!("{}{}", read(&out_path), read(&err_path)),
        elapsed: started.elapsed(),
        peak_mb,
        hung,
    }
}

/// `place` occurs in `line`, and not as the start of a longer line number (`x.toml:4` in
/// `x.toml:41`).
fn names_place(line: &str, place: &str) -> bool {
    line.match_indices(place)
        .any(|(i, _)| !line[i + place.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 3000;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// Runs one job; returns what went wrong (nothing when it behaved).
fn check(job: &Job) -> Vec<String> {
    let project = tempfile::tempdir().unwrap();
    copy_dir(&job.dir, project.path());
    for g in &job.generate {
        if let Err(e) = generate(g, project.path()) {
            return vec![format!("cannot generate {} ({}): {e}", g.to, g.kind)];
        }
    }
    let before = snapshot(project.path());
    let out = run_binary(project.path(), &job.args);
    let mut problems = Vec::new();

    if out.hung {
        problems.push(format!("still running after {} s: killed", HANG.as_secs()));
    }
    match out.code {
        None => problems.push("killed by a signal".into()),
        Some(101) => problems.push("panicked (exit 101)".into()),
        Some(code) if code != job.exit => problems.push(format!("exit {code}, expected {}", job.exit)),
        Some(_) => {}
    }
    if out.output.contains("panicked") {
        problems.push("the output mentions a panic".into());
    }
    for place in &job.places {
        let hit = out
            .output
            .lines()
            .any(|l| names_place(l, place) && l.contains(&job.expect));
        if !hit {
            problems.push(format!("no line names `{place}` with `{}`", job.expect));
        }
    }
    for s in &job.present_output {
        if !out.output.contains(s.as_str()) {
            problems.push(format!("the output lacks {s:?}"));
        }
    }
    for s in &job.absent_output {
        if out.output.contains(s.as_str()) {
            problems.push(format!("the output contains {s:?}"));
        }
    }
    if let (Some(max), Some(peak)) = (job.max_memory_mb, out.peak_mb) {
        if peak > max {
            problems.push(format!("used {peak} MB of memory (at most {max} MB)"));
        }
    }

    // No partial output: every file created or changed must be allowed.
    let after = snapshot(project.path());
    let touched: Vec<&String> = after
        .iter()
        .filter(|(path, meta)| before.get(*path) != Some(*meta))
        .map(|(path, _)| path)
        .collect();
    for path in &touched {
        let allowed = ALWAYS_ALLOWED.contains(&path.as_str())
            || job.may_create.iter().any(|prefix| path.starts_with(prefix.as_str()));
        if !allowed {
            problems.push(format!("left `{path}` behind (created or changed)"));
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        problems.push(format!("removed `{path}`"));
    }
    let read = |path: &str| {
        String::from_utf8_lossy(&std::fs::read(project.path().join(path)).unwrap_or_default()).into_owned()
    };
    let pages: Vec<(&String, String)> = touched
        .iter()
        .filter(|p| p.ends_with(".html") || p.ends_with(".mjml"))
        .map(|p| (*p, read(p)))
        .collect();
    for s in &job.absent {
        for (path, text) in &pages {
            if text.to_lowercase().contains(&s.to_lowercase()) {
                problems.push(format!("`{path}` contains {s:?}"));
            }
        }
    }
    for s in &job.present {
        if !pages.iter().any(|(_, text)| text.contains(s.as_str())) {
            problems.push(format!("no HTML or MJML file written contains {s:?}"));
        }
    }
    let mails: Vec<(&String, String)> = touched
        .iter()
        .filter(|p| p.starts_with("outbox/"))
        .map(|p| (*p, read(p)))
        .collect();
    for s in &job.absent_in_mail {
        for (path, text) in &mails {
            if text.contains(s.as_str()) {
                problems.push(format!("`{path}` contains {s:?}"));
            }
        }
    }

    if !problems.is_empty() {
        problems.push(format!(
            "(ran {:.1} s, peak {} MB) output:\n{}",
            out.elapsed.as_secs_f64(),
            out.peak_mb.map_or("?".into(), |m| m.to_string()),
            shorten(&out.output)
        ));
    }
    problems
}

#[test]
fn every_bad_input_fails_cleanly_naming_the_place() {
    let jobs = jobs();
    let cases: std::collections::BTreeSet<&str> = jobs.iter().map(|j| j.case.as_str()).collect();
    assert!(cases.len() >= 40, "the corpus shrank: {} cases", cases.len());

    // A few commands at a time: each is a process of its own.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(i) else { break };
                let problems = check(job);
                results.lock().unwrap().push((i, problems));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);

    let mut failures = Vec::new();
    let mut gaps = Vec::new();
    for (i, problems) in results {
        let job = &jobs[i];
        let name = format!("{} `infoflash {}`", job.case, job.args.join(" ").escape_debug());
        match (&job.known_gap, problems.is_empty()) {
            (None, true) => {}
            (None, false) => failures.push(format!("{name}:\n  {}", problems.join("\n  "))),
            (Some(gap), false) => gaps.push(format!("{name}: {gap}\n  {}", problems.join("\n  "))),
            (Some(_), true) => failures.push(format!(
                "{name} passes now: remove its `known_gap` from tests/bad-input/{}/case.toml",
                job.case
            )),
        }
    }
    if !gaps.is_empty() {
        eprintln!("known gaps ({}), not failed:\n\n{}\n", gaps.len(), gaps.join("\n\n"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs misbehaved:\n\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n\n")
    );
}
