//! The files the editor may open: the editions in `editions/` and the office overlays beside
//! them, named as in their URLs (`2026-01-info-flash-22`, `2026-01-info-flash-22.santiago`),
//! with the loader that judges each and `check`'s findings; and starting the next edition.
//!
//! Owns which paths can be edited (only `editions/<slug>.toml` and
//! `editions/<slug>.<office>.toml`: a name cannot reach outside that folder). It must not
//! write anything but a new edition file (`next`), and never overwrites one.

use std::path::{Path, PathBuf};

use crate::diagnostics::{Report, Severity};
use crate::edition::{self, EditionError, EditionSettings};
use crate::render::RenderSettings;
use crate::types::{EditionId, Office, OfficeId};

use super::FileKind;

/// One editable file.
#[derive(Debug, Clone)]
pub struct EditFile {
    /// As in the URL: the edition id, or `<id>.<office>`.
    pub name: String,
    pub edition: EditionId,
    pub office: Option<OfficeId>,
    pub path: PathBuf,
    /// The edition's own file (the same as `path` for an edition).
    pub edition_path: PathBuf,
}

impl EditFile {
    /// The file `name` names in `dir`, if it is an edition or the overlay of a configured
    /// office and it exists.
    pub fn resolve(dir: &Path, name: &str, settings: &EditionSettings) -> Option<EditFile> {
        // People paste the file's name from a listing of `editions/`.
        let name = name.strip_suffix(".toml").unwrap_or(name);
        let (edition, office) = match name.split_once('.') {
            None => (name.parse::<EditionId>().ok()?, None),
            Some((e, o)) => {
                let office = o.parse::<OfficeId>().ok()?;
                settings.network.offices.get(&office)?;
                (e.parse::<EditionId>().ok()?, Some(office))
            }
        };
        let edition_path = dir.join(format!("{edition}.toml"));
        let path = dir.join(format!("{name}.toml"));
        path.is_file().then_some(EditFile {
            name: name.to_string(),
            edition,
            office,
            path,
            edition_path,
        })
    }

    pub fn kind(&self) -> FileKind {
        if self.office.is_some() {
            FileKind::Overlay
        } else {
            FileKind::Edition
        }
    }

    pub fn office<'s>(&self, settings: &'s EditionSettings) -> Option<&'s Office> {
        self.office.as_ref().and_then(|o| settings.network.offices.get(o))
    }

    /// The main language and every language of the form of `text` (an overlay takes the
    /// edition's languages, and its own or its office's language as the main one).
    pub fn languages(&self, text: &str, settings: &EditionSettings) -> (String, Vec<String>) {
        match self.office(settings) {
            None => super::languages_of(text),
            Some(office) => {
                let edition = std::fs::read_to_string(&self.edition_path).unwrap_or_default();
                let (_, languages) = super::languages_of(&edition);
                let own = text.parse::<toml_edit::DocumentMut>().ok().and_then(|d| {
                    d.get("office")
                        .and_then(|o| o.get("language"))
                        .and_then(|l| l.as_str().map(str::to_string))
                });
                (own.unwrap_or_else(|| office.language.to_string()), languages)
            }
        }
    }

    /// What the loader says of `text` as this file: `Ok` with its warnings, or `Err` with every
    /// error (an overlay is judged with its edition as it is on disk).
    pub fn validate(&self, text: &str, settings: &EditionSettings) -> Result<Report, Report> {
        let invalid = |e: EditionError| match e {
            EditionError::Invalid(report) => report,
            other => {
                let mut report = Report::new();
                report.at(Severity::Error, &self.path, None, other.to_string());
                report
            }
        };
        match self.office(settings) {
            None => edition::parse(text, &self.path, settings)
                .map(|(_, r)| r)
                .map_err(invalid),
            Some(office) => {
                let (base, _) = edition::load(&self.edition_path, settings).map_err(invalid)?;
                edition::parse_overlay(text, &self.path, settings, office, &base)
                    .map(|(_, r)| r)
                    .map_err(invalid)
            }
        }
    }

    /// `check`'s report on the file as it is on disk (an overlay: its office's variants).
    pub fn check(&self, edition: &EditionSettings, render: &RenderSettings) -> Report {
        let office = self.office(edition);
        match crate::check::check_variants(&self.edition_path, edition, render, office, None) {
            Ok(report) => report,
            Err(e) => {
                let mut report = Report::new();
                report.at(Severity::Error, &self.path, None, e.to_string());
                report
            }
        }
    }
}

impl EditFile {
    /// Runs `f` with a temporary folder that holds `text` under this file's name (and, for an
    /// overlay, its edition as it is on disk), so that what reads files (`check`, the
    /// preview) sees the draft; the folder is removed after.
    pub fn with_draft<T>(&self, text: &str, f: impl FnOnce(&Path) -> T) -> std::io::Result<T> {
        // Made new and private (0700, a random name): a folder another local user created
        // first, with a link inside, would otherwise take the draft's write elsewhere.
        let dir = tempfile::Builder::new().prefix("infoflash-draft-").tempdir()?;
        if self.office.is_some() {
            std::fs::copy(&self.edition_path, dir.path().join(format!("{}.toml", self.edition)))?;
        }
        std::fs::write(dir.path().join(format!("{}.toml", self.name)), text)?;
        Ok(f(dir.path()))
    }

    /// `check`'s report on `text` as this file, at this file's lines (and its edition's).
    pub fn check_draft(&self, text: &str, edition: &EditionSettings, render: &RenderSettings) -> Report {
        let checked = self.with_draft(text, |dir| {
            let copy = EditFile {
                path: dir.join(format!("{}.toml", self.name)),
                edition_path: dir.join(format!("{}.toml", self.edition)),
                ..self.clone()
            };
            let mut report = Report::new();
            for d in copy.check(edition, render).iter() {
                let mut d = d.clone();
                if d.file == copy.path {
                    d.file = self.path.clone();
                } else if d.file == copy.edition_path {
                    d.file = self.edition_path.clone();
                }
                report.push(d);
            }
            report
        });
        checked.unwrap_or_else(|e| {
            let mut report = Report::new();
            report.at(
                Severity::Error,
                &self.path,
                None,
                format!("cannot check the draft: {e}"),
            );
            report
        })
    }
}

/// Every edition and overlay in `dir`, newest edition first, each edition followed by its
/// offices' overlays.
pub fn list(dir: &Path, settings: &EditionSettings) -> Vec<EditFile> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut files: Vec<EditFile> = names
        .iter()
        .filter_map(|n| EditFile::resolve(dir, n, settings))
        .collect();
    files.sort_by(|a, b| b.edition.cmp(&a.edition).then(a.office.cmp(&b.office)));
    files
}

/// Writes the next edition after `file` (as `infoflash next` does, beside it) and returns its
/// path; `Err` with why when the edition has errors or the next file exists already.
pub fn start_next(file: &EditFile, edition: &EditionSettings, render: &RenderSettings) -> Result<PathBuf, String> {
    use std::io::Write as _;
    let text = std::fs::read_to_string(&file.edition_path).map_err(|e| e.to_string())?;
    let (model, _) = match edition::parse(&text, &file.edition_path, edition) {
        Ok(loaded) => loaded,
        Err(EditionError::Invalid(report)) => {
            return Err(format!(
                "{} has {} error(s): fix them first\n{report}",
                file.edition,
                report.count(Severity::Error)
            ))
        }
        Err(e) => return Err(e.to_string()),
    };
    let templates = render.templates().map_err(|e| e.to_string())?;
    let labels = |l: &crate::types::Language, key: &str| templates.labels(l).ok().map(|t| t.get(key).to_string());
    let next = edition::next::next_edition(&model, &text, edition, edition.calendar.cadence_days, &labels)
        .map_err(|report| report.to_string())?;
    // `create_new`: a file that exists (or appears meanwhile) is never overwritten.
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&next.path)
        .map_err(|e| format!("{}: {e}", next.path.display()))?;
    out.write_all(next.text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(|e| format!("{}: {e}", next.path.display()))?;
    Ok(next.path)
}
