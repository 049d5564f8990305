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
    /// Where the service's stderr (its log) goes.
    log: std::path::PathBuf,
}

impl Service {
    /// With `key`, tokens are checked with it (INFOFLASH_UNSUBSCRIBE_KEY); without, with the
    /// project's `state/unsubscribe.key`, the one `send` signed with.
    pub fn start(dir: &Path, key: Option<&str>) -> Service {
        Service::start_with_rate(dir, key, 10_000)
    }

    /// As [`Service::start`], answering at most `rate` requests a second per client.
    pub fn start_with_rate(dir: &Path, key: Option<&str>, rate: u32) -> Service {
        Service::start_with(dir, key, &["--rate", &rate.to_string()], &[])
    }

    /// `infoflash serve ARGS` with `env` set; on 127.0.0.1:0 at 10,000 requests a second
    /// unless ARGS say `--listen` or `--rate`.
    pub fn start_with(dir: &Path, key: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Service {
        Service::try_start(dir, key, args, env).unwrap_or_else(|log| panic!("infoflash serve did not start:\n{log}"))
    }

    /// As [`Service::start_with`]; `Err` with what it printed when it does not start.
    pub fn try_start(dir: &Path, key: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Result<Service, String> {
        let log = dir.join(format!("serve-{}.log", uuid_ish()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_infoflash"));
        command
            .arg("serve")
            .args(args)
            .current_dir(dir)
            .env_remove("INFOFLASH_UNSUBSCRIBE_KEY")
            .env_remove("INFOFLASH_PREVIEW_TOKEN")
            .env_remove("INFOFLASH_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        for (option, default) in [("--listen", "127.0.0.1:0"), ("--rate", "10000")] {
            if !args.contains(&option) {
                command.args([option, default]);
            }
        }
        if let Some(key) = key {
            command.env("INFOFLASH_UNSUBSCRIBE_KEY", key);
        }
        let mut child = command.spawn().expect("infoflash serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(address) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.wait();
            return Err(std::fs::read_to_string(&log).unwrap_or_default());
        };
        // A service on all addresses is reached on loopback.
        let base = address.trim_end_matches('/').replace("0.0.0.0", "127.0.0.1");
        Ok(Service { child, base, log })
    }

    /// What the service logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// A name no other service of this test process uses.
fn uuid_ish() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
}

/// The regional project: ann is on the international list and on both offices' lists.
pub fn scoped_project() -> tempfile::TempDir {
    let dir = built_project();
    let lists = [
        ("national-coordinators.csv", "email,name,language,region\nann@example.org,Ann,en,africa\nbob@example.org,Bob,en,africa\n"),
        ("santiago-office.csv", "email,name,language,region\nann@example.org,Ann,es,latin-america-caribbean\ncarla@example.org,Carla,es,latin-america-caribbean\n"),
        ("bangkok-office.csv", "email,name,language,region,role\nann@example.org,Ann,en,asia-pacific,teacher\n"),
    ];
    for (name, text) in lists {
        std::fs::write(dir.path().join("recipients").join(name), text).unwrap();
    }
    dir
}

/// `infoflash lists [--office ID] --json`: (suppressed, deliverable).
pub fn audience(dir: &Path, office: Option<&str>) -> (u64, u64) {
    let mut args = vec!["lists", "--json"];
    if let Some(office) = office {
        args.extend(["--office", office]);
    }
    let out = super::infoflash(dir, &args);
    let json: serde_json::Value = serde_json::from_str(&super::stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", super::stdout(&out), super::stderr(&out)));
    (
        json["suppressed"].as_u64().unwrap(),
        json["deliverable"].as_u64().unwrap(),
    )
}
