//! The files `infoflash build` writes: for each variant a folder with `email.mjml`,
//! `email.html`, `email.txt` and a preview `message.eml`, and an `index.html` linking them.
//!
//! Layout: `OUT/index.html` and `OUT/<edition-id>/<variant>/…`, so several editions can share
//! one output folder. Every file is written to a temporary name and renamed into place, and a
//! variant's folder is filled beside the old one and swapped in, so an interrupted or failed
//! build never leaves a half-written page. It must not decide what is rendered; it receives
//! rendered variants.

pub mod archive;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::edition::Edition;
use crate::render::{message, RenderError, RenderSettings, Rendered, Templates};

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Where one variant's files went.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub variant: String,
    pub dir: PathBuf,
}

#[derive(Serialize)]
struct IndexView<'a> {
    lang: &'a str,
    title: String,
    edition: &'a str,
    date: String,
    variants: Vec<IndexEntry>,
}

#[derive(Serialize)]
struct IndexEntry {
    id: String,
    language: String,
    subject: String,
}

/// A variant's calendar files, under `dir/calendar/`. Stamped with the edition's date so that
/// a rebuild writes the same bytes.
fn write_invites(dir: &Path, r: &Rendered, edition: &Edition) -> Result<(), SiteError> {
    let stamp = edition.date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    for invite in r.view.invites() {
        write(&dir.join("calendar").join(&invite.file), invite.entry.to_ics(stamp))?;
    }
    Ok(())
}

/// Writes a file whole or not at all: into a temporary sibling, then renamed over `path`, so
/// that a reader (or the web service) never sees half a page and a failed build leaves the
/// previous file.
fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), SiteError> {
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SiteError::Write { path, source }
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err(parent))?;
    }
    let temporary = sibling(path, "tmp");
    std::fs::write(&temporary, contents).map_err(err(&temporary))?;
    std::fs::rename(&temporary, path).map_err(|source| {
        let _ = std::fs::remove_file(&temporary);
        SiteError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// `.name.<what>-<pid>` beside `path`: hidden, and distinct for two builds at once.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// Fills a new folder and puts it in place of `dir` in one rename: a variant's folder is
/// either the old one or the complete new one, never a mix. On failure nothing changes.
fn replace_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<(), SiteError>) -> Result<(), SiteError> {
    let temporary = sibling(dir, "tmp");
    let _ = std::fs::remove_dir_all(&temporary);
    if let Err(e) = fill(&temporary) {
        let _ = std::fs::remove_dir_all(&temporary);
        return Err(e);
    }
    let old = sibling(dir, "old");
    let had_old = std::fs::rename(dir, &old).is_ok();
    let result = std::fs::rename(&temporary, dir).map_err(|source| SiteError::Write {
        path: dir.to_path_buf(),
        source,
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&temporary);
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
    } else if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    result
}

/// Writes every rendered variant under `out` and the index page; returns the variant folders.
pub fn write_build(
    out: &Path,
    edition: &Edition,
    rendered: &[Rendered],
    settings: &RenderSettings,
    templates: &Templates,
) -> Result<Vec<Written>, SiteError> {
    let written = crate::parallel::map(rendered, |r| {
        let dir = out.join(edition.id.as_str()).join(r.variant.id());
        replace_dir(&dir, |dir| {
            write(&dir.join("email.mjml"), &r.mjml)?;
            write(&dir.join("email.html"), &r.html)?;
            write(&dir.join("email.txt"), &r.text)?;
            let message = message::build(r, edition, settings, settings.sender.clone())?;
            write(&dir.join("message.eml"), message.formatted())?;
            write_invites(dir, r, edition)
        })?;
        Ok(Written {
            variant: r.variant.id(),
            dir,
        })
    })
    .into_iter()
    .collect::<Result<Vec<_>, SiteError>>()?;
    let labels = templates.labels(&edition.language)?;
    let index = IndexView {
        lang: edition.language.as_str(),
        title: format!("{} {}", edition.series.main, labels.number(edition.number)),
        edition: edition.id.as_str(),
        date: labels.date(edition.date),
        variants: rendered
            .iter()
            .map(|r| IndexEntry {
                id: format!("{}/{}", edition.id, r.variant.id()),
                language: r.variant.language.to_string(),
                subject: r.view.subject.clone(),
            })
            .collect(),
    };
    write(&out.join("index.html"), templates.render("index", &index)?)?;
    Ok(written)
}
