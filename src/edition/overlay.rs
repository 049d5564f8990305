//! Office editions: a regional office adds its own items (and, optionally, its own intro) to
//! an edition in an overlay file beside it, `editions/<edition id>.<office id>.toml`:
//!
//! ```toml
//! [office]
//! # language = "es"          # the office's `language` by default
//! intro = "Estimados coordinadores: …"
//!
//! [[items]]
//! id = "encuentro-santiago"
//! kind = "event"
//! title = "Encuentro regional de la red PEA"
//! …
//! ```
//!
//! Owns finding that file and joining it to the edition for that office only: the
//! international edition and every other office never see it. Loading its content is the
//! loader's (`load::parse_overlay`), with the same rules as an edition file. It must not
//! render or write anything.

use std::path::{Path, PathBuf};

use super::load::{parse, parse_overlay, read_text};
use super::{Edition, EditionError, EditionSettings};
use crate::diagnostics::Report;
use crate::types::{Office, OfficeId};

/// `editions/2026-01-info-flash-22.toml` + `santiago` → `editions/2026-01-info-flash-22.santiago.toml`.
pub fn overlay_path(edition: &Path, office: &OfficeId) -> PathBuf {
    let stem = edition.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    edition.with_file_name(format!("{stem}.{office}.toml"))
}

/// For an overlay file's path, the edition it belongs to and the office id it names
/// (`….santiago.toml` → (`….toml`, `santiago`)); `None` for any other file. Lets a command
/// given the overlay itself work on the office's edition.
pub fn split_overlay_path(path: &Path) -> Option<(PathBuf, String)> {
    let stem = path.file_stem()?.to_str()?;
    let (edition, office) = stem.rsplit_once('.')?;
    Some((path.with_file_name(format!("{edition}.toml")), office.to_string()))
}

/// An edition and, for an office, its overlay read as an edition of its own (see
/// `parse_overlay`), with the warnings of both.
#[derive(Debug)]
pub struct Parts {
    pub edition: Edition,
    pub overlay: Option<Edition>,
    pub warnings: Report,
}

impl Parts {
    /// What the office's variants render: the edition with the overlay joined.
    pub fn joined(&self) -> Edition {
        match &self.overlay {
            Some(overlay) => self.edition.clone().with_overlay(overlay),
            None => self.edition.clone(),
        }
    }
}

/// Loads the edition at `path` and, for `office`, its overlay when there is one. Errors in
/// either are reported together.
pub fn load_parts(path: &Path, settings: &EditionSettings, office: Option<&Office>) -> Result<Parts, EditionError> {
    let base = parse(&read_text(path)?, path, settings);
    let Some(office) = office else {
        let (edition, warnings) = base?;
        return Ok(Parts {
            edition,
            overlay: None,
            warnings,
        });
    };
    let file = overlay_path(path, &office.id);
    if !file.exists() {
        let (edition, warnings) = base?;
        return Ok(Parts {
            edition,
            overlay: None,
            warnings,
        });
    }
    let (edition, mut warnings) = base?;
    match parse_overlay(&read_text(&file)?, &file, settings, office, &edition) {
        Ok((overlay, more)) => {
            warnings.extend(more);
            Ok(Parts {
                edition,
                overlay: Some(overlay),
                warnings: warnings.sorted(),
            })
        }
        Err(EditionError::Invalid(mut report)) => {
            report.extend(warnings);
            Err(EditionError::Invalid(report.sorted()))
        }
        Err(e) => Err(e),
    }
}

/// The edition at `path` as `office` sends it: its overlay's items joined (none without an
/// office). What `build`, `send` and the preview render.
pub fn load_for_office(
    path: &Path,
    settings: &EditionSettings,
    office: Option<&Office>,
) -> Result<(Edition, Report), EditionError> {
    let parts = load_parts(path, settings, office)?;
    let edition = parts.joined();
    Ok((edition, parts.warnings))
}

impl Edition {
    /// This edition with an office's overlay joined: the office's items first (they are the
    /// reason its readers open this edition), then the edition's; the overlay's intro, if it
    /// has one, in place of the edition's.
    pub fn with_overlay(mut self, overlay: &Edition) -> Edition {
        let mut items = overlay.items.clone();
        items.append(&mut self.items);
        self.items = items;
        // Written in the overlay's language, which is then one of their translations.
        fn own<T: Clone>(text: &super::Localized<T>, language: &crate::types::Language) -> super::Localized<T> {
            let mut text = text.clone();
            text.translations
                .entry(language.clone())
                .or_insert_with(|| text.main.clone());
            text
        }
        if let Some(intro) = &overlay.intro {
            self.intro = Some(own(intro, &overlay.language));
        }
        if let Some(greeting) = &overlay.greeting {
            self.greeting = Some(own(greeting, &overlay.language));
            self.head_lines.greeting = overlay.head_lines.greeting;
        }
        self.overlay = overlay.overlay.clone();
        self
    }

    /// The file an item was written in: the edition's, or its office's overlay.
    pub fn file_of(&self, item: &super::Item) -> &Path {
        match (&item.office, &self.overlay) {
            (Some(_), Some(o)) => &o.path,
            _ => &self.path,
        }
    }

    /// The language an item's main texts are written in: the edition's, or its overlay's.
    pub fn language_of(&self, item: &super::Item) -> &crate::types::Language {
        match (&item.office, &self.overlay) {
            (Some(_), Some(o)) => &o.language,
            _ => &self.language,
        }
    }

    /// The file the intro was written in, and its language.
    pub fn intro_written(&self) -> (&Path, &crate::types::Language) {
        match &self.overlay {
            Some(o) if o.own_intro => (&o.path, &o.language),
            _ => (&self.path, &self.language),
        }
    }

    /// The file the greeting was written in, and its language.
    pub fn greeting_written(&self) -> (&Path, &crate::types::Language) {
        match &self.overlay {
            Some(o) if o.own_greeting => (&o.path, &o.language),
            _ => (&self.path, &self.language),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlay_is_named_after_its_edition_and_office() {
        let office: OfficeId = "santiago".parse().unwrap();
        let path = overlay_path(Path::new("editions/2026-01-info-flash-22.toml"), &office);
        assert_eq!(path, Path::new("editions/2026-01-info-flash-22.santiago.toml"));
        assert_eq!(
            split_overlay_path(&path),
            Some((
                PathBuf::from("editions/2026-01-info-flash-22.toml"),
                "santiago".to_string()
            ))
        );
        assert_eq!(
            split_overlay_path(Path::new("editions/2026-01-info-flash-22.toml")),
            None
        );
    }
}
