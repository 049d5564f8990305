//! Helpers shared by the integration tests: running the real binary, and finding the tools
//! (Chromium, Python) that some tests need — failing with install advice when they are absent.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample_edition() -> PathBuf {
    root().join("editions/2026-01-info-flash-22.toml")
}

/// Runs `infoflash ARGS` in `cwd`.
pub fn infoflash(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args(args)
        .current_dir(cwd)
        .env_remove("INFOFLASH_LOG")
        .output()
        .expect("the infoflash binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The path of a program, or a panic that says how to install it: a test that needs a real
/// component never passes without it.
pub fn require(program: &str, install: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("`{program}` is needed by this test and was not found on PATH; install it with: {install} (./scripts/test does this)"))
}
