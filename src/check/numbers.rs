//! `check`'s rule on edition numbers: a subject, intro or item title that names another
//! edition's number ("N°22" in N°23, left over from the file `next` started from, or copied
//! from an older one) is a warning at its line.
//!
//! What counts as naming a number is `edition::numbering`'s (markers such as "N°", "N.º",
//! "№", and the label tables' `number_format`), so "4th session" or "2026" never do. It must
//! not change the edition.

use super::dates::{localized, localized_markdown, Text};
use crate::diagnostics::{Report, Severity};
use crate::edition::{numbering, Edition};
use crate::render::Templates;
use crate::types::Language;

/// Warns about every mention of a number other than the edition's in its subject, intro and
/// item titles, in every language.
pub fn check(edition: &Edition, templates: &Templates, report: &mut Report) {
    let mut texts: Vec<Text<'_>> = Vec::new();
    if let (Some(subject), Some(lines)) = (&edition.subject, &edition.subject_lines) {
        let mut subjects = localized((&edition.path, &edition.language), "the subject", subject, |s| {
            (s.as_str(), lines.main, false)
        });
        for t in subjects.iter_mut() {
            if let Some(line) = t
                .language
                .parse::<Language>()
                .ok()
                .and_then(|l| lines.translations.get(&l))
            {
                t.line = *line;
            }
        }
        texts.extend(subjects);
    }
    if let Some(intro) = &edition.intro {
        texts.extend(localized_markdown(edition.intro_written(), "the intro", intro));
    }
    for item in &edition.items {
        let name = format!("the title of item `{}`", item.id);
        let written = (edition.file_of(item), edition.language_of(item));
        let mut titles = localized(written, &name, &item.title, |t| (t.as_str(), item.line, false));
        if let Some(main) = titles.first_mut() {
            main.line = item.title_line;
        }
        texts.extend(titles);
    }
    for t in &texts {
        let format = t
            .language
            .parse::<Language>()
            .ok()
            .and_then(|l| templates.labels(&l).ok())
            .map(|l| l.get("number_format").to_string());
        let formats: Vec<&str> = format.iter().map(String::as_str).collect();
        for m in numbering::find(t.text, &formats) {
            if m.number == u64::from(edition.number) {
                continue;
            }
            report.at(
                Severity::Warning,
                t.file,
                Some(t.line_at(m.digits.start)),
                format!(
                    "{} (`{}`) names \"{}\", but this is edition {}: write this edition's number, or say which edition it means",
                    t.what, t.language, m.written, edition.number
                ),
            );
        }
    }
}
