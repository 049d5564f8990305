//! `check`: everything an editor should fix before an edition goes out, in one report.
//!
//! Owns the rules that need more than one field or the rendered output: missing translations
//! for the languages the edition is built in, dates (`dates`, including past dates left in a
//! reminder's prose), edition numbers (`numbers`), mrml's warnings, and the size
//! of the HTML part as it will be encoded (Gmail clips messages above about 102 KB). Format errors, dead links and
//! malformed addresses come from the edition loader, which this module runs first. It must not
//! write files.

mod dates;
mod numbers;

use std::path::Path;

use crate::diagnostics::{Diagnostic, Report, Severity};
use crate::edition::{self, Edition, EditionError, EditionSettings, Localized};
use crate::render::{self, message, RenderError, RenderSettings, Rendered};
use crate::types::{Language, Office, Region};

/// Above this many bytes (decimal kilobytes, as Gmail counts) the HTML part gets a warning.
pub const HTML_WARN_BYTES: usize = 90_000;
/// Above this the HTML part is an error: Gmail clips the message and hides the footer, with
/// the unsubscribe link.
pub const HTML_MAX_BYTES: usize = 102_000;

/// Loads, renders and checks the edition at `path`. `Err` only when the file cannot be read;
/// every problem with its content is in the report.
pub fn check(
    path: &Path,
    edition_settings: &EditionSettings,
    render_settings: &RenderSettings,
) -> Result<Report, EditionError> {
    check_variants(path, edition_settings, render_settings, None, None)
}

/// [`check`] for the variants one office sends (its overlay file included) or one region
/// reads: the same rules, on what those readers get.
pub fn check_variants(
    path: &Path,
    edition_settings: &EditionSettings,
    render_settings: &RenderSettings,
    office: Option<&Office>,
    region: Option<&Region>,
) -> Result<Report, EditionError> {
    let (edition, mut report) = match edition::load_for_office(path, edition_settings, office) {
        Ok(loaded) => loaded,
        Err(EditionError::Invalid(report)) => return Ok(report),
        Err(e) => return Err(e),
    };
    let scope = match (office, region) {
        (Some(o), _) => render::Scope::Office {
            id: o.id.clone(),
            regions: o.regions.clone(),
        },
        (None, Some(r)) => render::Scope::Regions(vec![r.clone()]),
        (None, None) => render::Scope::All,
    };
    let templates = match render_settings.templates() {
        Ok(t) => t,
        Err(e) => {
            report.push(render_problem(&e, path));
            return Ok(report.sorted());
        }
    };
    let variants = render::variants(&edition, &[], &scope);
    let mut rendered = Vec::new();
    for result in render::render_all(&edition, &variants, render_settings, &templates) {
        match result {
            Ok(r) => rendered.push(r),
            Err(e) => report.push(render_problem(&e, path)),
        }
    }
    report.extend(findings_for(&edition, &rendered, Stage::Draft));
    cities(&edition, &templates, &mut report);
    numbers::check(&edition, &templates, &mut report);
    dates::carried_prose(&edition, |item| is_reminder(&edition, item, &templates), &mut report);
    if render_settings.postal_address.is_none() {
        report.at(
            Severity::Warning,
            Path::new("infoflash.toml"),
            None,
            "no `postal_address`: bulk mail must say where its sender is (CAN-SPAM), and Gmail and Yahoo expect it; add the postal address to the settings",
        );
    }
    Ok(report.sorted())
}

/// A rendering failure as a diagnostic, at the template's file and line when it has them.
pub fn render_problem(error: &RenderError, edition_path: &Path) -> Diagnostic {
    match error {
        RenderError::Template {
            path,
            line,
            column,
            message,
        } => Diagnostic {
            column: *column,
            ..Diagnostic::error(path, *line, format!("template error: {message}"))
        },
        RenderError::Labels { path, line, message } => Diagnostic::error(path, *line, message.clone()),
        RenderError::Render {
            template,
            line,
            message,
        } => Diagnostic::error(Path::new(template), *line, format!("template error: {message}")),
        other => Diagnostic::error(edition_path, None, other.to_string()),
    }
}

/// Whether `item` came back from an earlier edition: its label starts with the `reminder`
/// word of the label tables (as `next` writes it: "REMINDER + CALL FOR PARTNERS", "RAPPEL + …"),
/// in the main language or in a translation.
fn is_reminder(edition: &Edition, item: &edition::Item, templates: &render::Templates) -> bool {
    let Some(label) = &item.label else { return false };
    let starts = |language: &Language, text: &str| {
        let word = templates.labels(language).map_or("REMINDER", |l| l.get("reminder"));
        edition::next::is_reminder_label(text, word)
    };
    starts(&edition.language, &label.main) || label.translations.iter().any(|(l, t)| starts(l, t))
}

/// The rules that look at the whole edition and at its rendered variants.
/// A session's time shows its city in the reader's language ("(Santiago du Chili)"): a zone
/// a label table does not name shows its IANA city instead, which the editor should know.
fn cities(edition: &Edition, templates: &render::Templates, report: &mut Report) {
    for (item, session) in edition
        .items
        .iter()
        .flat_map(|i| i.sessions.iter().map(move |s| (i, s)))
    {
        for language in &edition.languages {
            let Ok(labels) = templates.labels(language) else {
                continue;
            };
            if session.start.is_some() && labels.city_name(session.time_zone).is_none() {
                report.at(
                    Severity::Warning,
                    edition.file_of(item),
                    Some(session.line),
                    format!(
                        "the `{language}` variant names the city of {} as `{}`: add `\"city {}\" = \"…\"` to templates/labels/{language}.toml",
                        session.time_zone.name(),
                        crate::calendar::city(session.time_zone),
                        session.time_zone.name()
                    ),
                );
            }
        }
    }
}

/// Whom the findings are for: an editor checking a draft, or a send (and the build that
/// says what a send would refuse). They differ only where a draft may be unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Draft,
    Send,
}

/// What stands between the edition and its send: every rule, with the ones a draft may break
/// (a link still to be announced) as errors.
pub fn findings(edition: &Edition, rendered: &[Rendered]) -> Report {
    findings_for(edition, rendered, Stage::Send)
}

fn findings_for(edition: &Edition, rendered: &[Rendered], stage: Stage) -> Report {
    let mut report = Report::new();
    pending_links(edition, stage, &mut report);
    for language in &edition.languages {
        translations(edition, language, &mut report);
    }
    dates::check(edition, &mut report);
    for r in rendered {
        size(edition, r, &mut report);
        for w in &r.mjml_warnings {
            // Named as `build` writes it, under the output folder.
            let file = Path::new(edition.id.as_str()).join(r.variant.id()).join("email.mjml");
            report.at(Severity::Warning, &file, Some(w.line), format!("mrml: {}", w.message));
        }
    }
    report
}

/// Links written `"tba"`: readers see "link to be announced", fine while the edition is a
/// draft; a send would go out with the address missing for good.
fn pending_links(edition: &Edition, stage: Stage, report: &mut Report) {
    for (file, line) in edition.pending_links() {
        let (severity, message) = match stage {
            Stage::Draft => (
                Severity::Warning,
                "the link is still to be announced (`tba`): readers see \"link to be announced\"; give the address before sending (`send` refuses it)",
            ),
            Stage::Send => (
                Severity::Error,
                "the link is still to be announced (`tba`): give its address before sending",
            ),
        };
        report.at(severity, file, Some(line), message);
    }
}

/// One rule for a missing translation, the one `docs/edition-format.md` promises: the
/// language's variants show the main-language text instead, which `check` warns about at the
/// line of what lacks it; an edition with `translations = "required"` makes it an error.
fn translations(edition: &Edition, language: &Language, report: &mut Report) {
    // An office's own items and intro are written in the overlay's language, in its file.
    let mut missing_at = |file: &Path, main: &Language, line: Option<usize>, what: String| {
        if main == language {
            return;
        }
        let hint = if edition.translations_required {
            format!("the edition requires translations (`translations = \"required\"`); add the `{language}` text or remove `{language}` from `languages`")
        } else {
            format!("the `{language}` variants show the `{main}` text instead; add the translation, or set `translations = \"required\"` in [edition] to make this an error")
        };
        let severity = if edition.translations_required {
            Severity::Error
        } else {
            Severity::Warning
        };
        report.at(
            severity,
            file,
            line,
            format!("{what} has no `{language}` translation: {hint}"),
        );
    };
    let needs = |l: &Option<Localized<String>>| l.as_ref().is_some_and(|l| !l.main.is_empty() && !l.has(language));
    // The series name is a brand and often stays the same; it is not required.
    if let Some(intro) = edition.intro.as_ref().filter(|i| !i.has(language)) {
        let (file, main) = edition.intro_written();
        missing_at(file, main, Some(intro.main.line), "the edition's intro".into());
    }
    if edition.greeting.as_ref().is_some_and(|g| !g.has(language)) {
        let (file, main) = edition.greeting_written();
        missing_at(file, main, edition.head_lines.greeting, "the edition's greeting".into());
    }
    if edition.subtitle.as_ref().is_some_and(|s| !s.has(language)) {
        let line = edition.head_lines.subtitle;
        missing_at(&edition.path, &edition.language, line, "the edition's subtitle".into());
    }
    if let Some(closing) = edition.closing.as_ref().filter(|c| !c.has(language)) {
        let line = Some(closing.main.line);
        missing_at(&edition.path, &edition.language, line, "the edition's closing".into());
    }
    for item in &edition.items {
        let missing = item.untranslated(language);
        if !missing.is_empty() {
            missing_at(
                edition.file_of(item),
                edition.language_of(item),
                Some(item.line),
                format!("item `{}` ({})", item.id, missing.join(", ")),
            );
        }
    }
    let mut missing_at = |line: Option<usize>, what: String| missing_at(&edition.path, &edition.language, line, what);
    if let Some(days) = edition.days.as_ref().filter(|_| *language != edition.language) {
        if needs(&days.title) || needs(&days.label) || days.intro.as_ref().is_some_and(|i| !i.has(language)) {
            missing_at(
                days.intro.as_ref().map(|i| i.main.line),
                "the international days block (title, label or intro)".into(),
            );
        }
        for day in days.days.iter().filter(|d| d.calendar.is_none()) {
            let alt = day.image.as_ref().is_some_and(|i| !i.alt.has(language));
            if !day.name.has(language) || alt {
                missing_at(Some(day.line), format!("international day `{}`", day.name.main));
            }
        }
        // A computed day falls back to its main name; the calendar file is where to fix it.
        // When no day of a file has the language, the column is what is missing: one finding
        // at its header says so, instead of one a day.
        let mut files: Vec<&std::path::Path> = days.days.iter().filter_map(|d| d.calendar.as_deref()).collect();
        files.sort();
        files.dedup();
        for file in files {
            let from_file: Vec<_> = days
                .days
                .iter()
                .filter(|d| d.calendar.as_deref() == Some(file))
                .collect();
            let lacking: Vec<_> = from_file.iter().filter(|d| !d.name.has(language)).collect();
            if lacking.len() > 1 && lacking.len() == from_file.len() {
                let mut names: Vec<String> = lacking.iter().take(3).map(|d| format!("`{}`", d.name.main)).collect();
                if lacking.len() > 3 {
                    names.push(format!("{} more", lacking.len() - 3));
                }
                report.at(
                    Severity::Warning,
                    file,
                    Some(1),
                    format!(
                        "the {} international days of this edition have no `{language}` name ({}), so the `{language}` variant shows them as written in `{}`: add a `{language}` column",
                        lacking.len(),
                        names.join(", "),
                        edition.language
                    ),
                );
                continue;
            }
            for day in lacking {
                report.at(
                    Severity::Warning,
                    file,
                    Some(day.line),
                    format!(
                        "international day `{}` has no `{language}` name, so the `{language}` variant shows `{}`: add a `{language}` name in its `{language}` column",
                        day.name.main, day.name.main
                    ),
                );
            }
        }
    }
}

fn size(edition: &Edition, r: &Rendered, report: &mut Report) {
    let bytes = message::encoded_html_size(r);
    let kb = |b: usize| format!("{:.1} KB", b as f64 / 1000.0);
    let (severity, advice) = if bytes > HTML_MAX_BYTES {
        (
            Severity::Error,
            format!(
                "above {}: Gmail will clip it and hide the footer; shorten or split the edition",
                kb(HTML_MAX_BYTES)
            ),
        )
    } else if bytes > HTML_WARN_BYTES {
        (
            Severity::Warning,
            format!("close to Gmail's clipping limit of {}", kb(HTML_MAX_BYTES)),
        )
    } else {
        return;
    };
    report.at(
        severity,
        &edition.path,
        None,
        format!(
            "the HTML part of the `{}` variant is {} as encoded in the message, {advice}",
            r.variant.id(),
            kb(bytes)
        ),
    );
}
