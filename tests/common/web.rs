//! `infoflash serve` for the tests: started in a project folder on a free loopback port (the
//! port it prints), stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A copy of the repository's project (settings, the sample edition) with an empty
/// suppression list of its own, built so that the archive exists.
pub fn built_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(super::root().join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::copy(
        super::sample_edition(),
        dir.path().join("editions/2026-01-info-flash-22.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("recipients")).unwrap();
    std::fs::write(dir.path().join("recipients/suppression.csv"), "email,reason,date\n").unwrap();
    let out = super::infoflash(dir.path(), &["build", "editions/2026-01-info-flash-22.toml"]);
    assert!(out.status.success(), "{}", super::stderr(&out));
    dir
}

pub struct Service {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Service {
    /// With `key`, tokens are checked with it (INFOFLASH_UNSUBSCRIBE_KEY); without, with the
    /// project's `state/unsubscribe.key`, the one `send` signed with.
    pub fn start(dir: &Path, key: Option<&str>) -> Service {
        Service::start_with_rate(dir, key, 10_000)
    }

    /// As [`Service::start`], answering at most `rate` requests a second.
    pub fn start_with_rate(dir: &Path, key: Option<&str>, rate: u32) -> Service {
        let mut command = Command::new(env!("CARGO_BIN_EXE_infoflash"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--rate", &rate.to_string()])
            .current_dir(dir)
            .env_remove("INFOFLASH_UNSUBSCRIBE_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(key) = key {
            command.env("INFOFLASH_UNSUBSCRIBE_KEY", key);
        }
        let mut child = command.spawn().expect("infoflash serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Service { child, base }
    }

    /// SIGTERM, as a service manager stops it; the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
