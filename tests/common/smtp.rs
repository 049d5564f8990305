//! A real SMTP server for the delivery tests: Postfix's `smtp-sink` on a free loopback port,
//! dumping every message it accepts to a file, and a small project that sends to it.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

pub fn smtp_sink_binary() -> PathBuf {
    for candidate in ["/usr/sbin/smtp-sink", "/usr/bin/smtp-sink"] {
        if Path::new(candidate).is_file() {
            return PathBuf::from(candidate);
        }
    }
    require(
        "smtp-sink",
        "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections && DEBIAN_FRONTEND=noninteractive apt-get install -y postfix",
    )
}

/// A running smtp-sink, killed when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    pub dump: tempfile::TempDir,
}

impl Sink {
    pub fn start(options: &[&str]) -> Sink {
        Sink::start_on(free_port(), options)
    }

    pub fn start_on(port: u16, options: &[&str]) -> Sink {
        let dump = tempfile::tempdir().unwrap();
        // smtp-sink drops to `nobody` when run as root; the dump folder must be writable.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dump.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let mut cmd = Command::new(smtp_sink_binary());
        if is_root() {
            cmd.args(["-u", "nobody"]);
        }
        cmd.args(options)
            .arg("-d")
            .arg(format!("{}/%s.", dump.path().display()))
            .arg(format!("127.0.0.1:{port}"))
            .arg("100")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().expect("smtp-sink starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "smtp-sink did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Sink { child, port, dump }
    }

    /// Stops the server, as a relay that goes down; what it received stays readable.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The recipients of every message accepted so far, with how often each was received.
    pub fn received(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for entry in std::fs::read_dir(self.dump.path()).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
            for line in text.lines().filter_map(|l| l.strip_prefix("X-Rcpt-Args: <")) {
                *counts.entry(line.trim_end_matches('>').to_lowercase()).or_default() += 1;
            }
        }
        counts
    }

    pub fn messages(&self) -> Vec<String> {
        std::fs::read_dir(self.dump.path())
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A project sending the office fixture's edition to `n` recipients through `port`; `changes`
/// replace `[delivery]` settings (`("rate", "20")`).
pub fn project(port: u16, n: usize, changes: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let settings = format!(
        r#"
base_url = "https://news.example.org"
sender = "Office Flash <flash@example.org>"
languages = ["en", "ar"]
fallback_language = "en"
lists = ["recipients/people.csv"]

[regions.africa]
name = "Africa"
[regions.arab-states]
name = "Arab States"

[delivery]
relay = "smtp://127.0.0.1:{port}"
rate = 500
connections = 4
max_attempts = 2
retry_delay_ms = 20
timeout_seconds = 5
suppress_hard_bounces = false
"#
    );
    let settings = changes.iter().fold(settings, |text, (key, value)| {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key}"))
            .to_string();
        text.replace(&line, &format!("{key} = {value}"))
    });
    std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::copy(office_project().join(OFFICE_EDITION), dir.path().join(OFFICE_EDITION)).unwrap();
    std::fs::create_dir_all(dir.path().join("recipients")).unwrap();
    let mut csv = String::from("email,name,language,region\n");
    for i in 0..n {
        let language = if i % 3 == 0 { "ar" } else { "en" };
        csv.push_str(&format!("person{i}@example.org,Person {i},{language},africa\n"));
    }
    std::fs::write(dir.path().join("recipients/people.csv"), csv).unwrap();
    dir
}

/// `infoflash send` of the project's edition started in the background, its output piped.
pub fn spawn_send(dir: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args(["send", OFFICE_EDITION])
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("infoflash send starts")
}

/// Waits (20 s at most) until the sink has received a message: the send is under way.
pub fn wait_for_first_message(sink: &Sink) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while sink.received().is_empty() {
        assert!(Instant::now() < deadline, "no message reached the sink in 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn send(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["send", OFFICE_EDITION];
    args.extend_from_slice(extra);
    infoflash(dir, &args)
}

pub fn status(dir: &Path) -> serde_json::Value {
    let out = infoflash(dir, &["status", OFFICE_EDITION, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// The journal's view of who was delivered, to compare with what the server received.
pub fn journal_delivered(dir: &Path) -> std::collections::BTreeSet<String> {
    let conn = rusqlite::Connection::open(dir.join("state/infoflash.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT email FROM deliveries WHERE status = 'delivered'")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}
