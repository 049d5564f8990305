//! Helpers shared by the integration tests: running the real binary, and finding the tools
//! (Chromium, Python) that some tests need — failing with install advice when they are absent.
#![allow(dead_code)]

pub mod disk;
pub mod editor;
pub mod smtp;
pub mod web;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample_edition() -> PathBuf {
    root().join("editions/2026-01-info-flash-22.toml")
}

/// The Santiago office's overlay of the sample edition: its own intro and event, in Spanish
/// with an English translation (`tests/fixtures/overlays/`).
pub fn santiago_overlay() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/overlays/2026-01-info-flash-22.santiago.toml"))
        .expect("the Santiago overlay fixture")
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

/// The regional office fixture project and its edition.
pub fn office_project() -> PathBuf {
    root().join("tests/fixtures/projects/regional-office")
}

pub const OFFICE_EDITION: &str = "editions/2026-02-office-flash-3.toml";

/// Runs `infoflash build ARGS --out DIR` in `cwd` with a fresh DIR, which it returns; panics
/// with the error output when the build fails.
pub fn build_into(cwd: &Path, args: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.path().to_str().unwrap()]);
    let run = infoflash(cwd, &all);
    assert_eq!(run.status.code(), Some(0), "build {args:?} failed:\n{}", stderr(&run));
    out
}

/// A copy of the office project with one template (`items/news.mjml.hbs`,
/// `partials/head.mjml.hbs`…) replaced by `template`.
pub fn office_project_with_template(name: &str, template: &str) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    let src = office_project();
    let template_path = project.path().join("templates").join(name);
    std::fs::create_dir_all(template_path.parent().unwrap()).unwrap();
    std::fs::create_dir_all(project.path().join("editions")).unwrap();
    std::fs::copy(src.join("infoflash.toml"), project.path().join("infoflash.toml")).unwrap();
    std::fs::copy(src.join(OFFICE_EDITION), project.path().join(OFFICE_EDITION)).unwrap();
    std::fs::write(template_path, template).unwrap();
    project
}

/// A copy of the project at `src` (settings, editions, recipients, templates, data: what a
/// project holds in git, not its `out/`, `outbox/` or `state/`), to send or build in.
pub fn copy_project(src: &Path) -> tempfile::TempDir {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_dir(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    for folder in ["editions", "recipients", "templates", "data"] {
        if src.join(folder).is_dir() {
            copy_dir(&src.join(folder), &dir.path().join(folder));
        }
    }
    dir
}

/// The `.eml` files in `dir` and its subfolders (the outbox files each message under
/// `<edition>/<variant>/`), sorted; hidden files (a write in progress) are not messages.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_dir() {
                folders.push(path);
            } else if !hidden && path.extension().is_some_and(|x| x == "eml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
