//! `check`'s date rules: the slips people make when they type dates into free text (a weekday
//! that does not match its date, a day that does not exist, summer time named in winter), and
//! the structured dates that cannot be right at the edition's date (deadlines already past or
//! after the event they are for, sessions already held).
//!
//! Finding dates in text is `calendar::mentions`' job; this module decides what is worth
//! telling the editor, and where. It must not change the edition.

use chrono::{Datelike, NaiveDate};

use crate::calendar::{self, mentions};
use crate::diagnostics::{Report, Severity};
use crate::edition::{Edition, Item, Localized, Markdown};

/// One piece of free text and where its first line is.
pub(super) struct Text<'a> {
    pub what: String,
    /// The file it is written in: the edition's, or an office's overlay.
    pub file: &'a std::path::Path,
    pub language: &'a str,
    pub text: &'a str,
    pub line: usize,
    /// Plain strings (titles) sit on one line; Markdown counts its line breaks.
    pub multiline: bool,
}

impl Text<'_> {
    /// The line of the file that byte `offset` of the text is on.
    pub fn line_at(&self, offset: usize) -> usize {
        if self.multiline {
            self.line + self.text[..offset.min(self.text.len())].matches('\n').count()
        } else {
            self.line
        }
    }
}

/// Every language's version of a localized text; `place` gives its text, first line and
/// whether it spans lines.
pub(super) fn localized<'a, T>(
    (file, main): (&'a std::path::Path, &'a crate::types::Language),
    what: &str,
    l: &'a Localized<T>,
    place: impl Fn(&'a T) -> (&'a str, usize, bool),
) -> Vec<Text<'a>> {
    std::iter::once((main.as_str(), &l.main))
        .chain(l.translations.iter().map(|(lang, t)| (lang.as_str(), t)))
        .map(|(language, value)| {
            let (text, line, multiline) = place(value);
            Text {
                what: what.to_string(),
                file,
                language,
                text,
                line,
                multiline,
            }
        })
        .collect()
}

pub(super) fn localized_markdown<'a>(
    written: (&'a std::path::Path, &'a crate::types::Language),
    what: &str,
    l: &'a Localized<Markdown>,
) -> Vec<Text<'a>> {
    localized(written, what, l, |md| (md.text.as_str(), md.line, true))
}

fn item_texts<'a>(edition: &'a Edition, item: &'a Item) -> Vec<Text<'a>> {
    let name = format!("item `{}`", item.id);
    let edition = (edition.file_of(item), edition.language_of(item));
    // Plain strings sit on one line: the item's, or the title's own for the main text.
    let mut texts = localized(edition, &name, &item.title, |t| (t.as_str(), item.line, false));
    if let Some(main) = texts.first_mut() {
        main.line = item.title_line;
    }
    texts.extend(localized_markdown(edition, &name, &item.body));
    if let Some(e) = &item.eligibility {
        texts.extend(localized_markdown(edition, &name, e));
    }
    for s in &item.sessions {
        if let Some(note) = &s.note {
            texts.extend(localized_markdown(edition, &name, note));
        }
    }
    texts
}

/// Every date rule, added to `report`.
pub fn check(edition: &Edition, report: &mut Report) {
    let mut texts = Vec::new();
    if let Some(intro) = &edition.intro {
        texts.extend(localized_markdown(edition.intro_written(), "the intro", intro));
    }
    for item in &edition.items {
        texts.extend(item_texts(edition, item));
    }
    for text in &texts {
        free_text(edition, text, report);
    }
    for item in &edition.items {
        structured(edition, item, report);
    }
}

/// A carried item's prose (body, eligibility, session notes) that names a date before the
/// edition's: "register by 15 January 2026" was true in the edition it was written for, and
/// `next` moves the item on without touching its prose. `carried` says which items came back
/// from an earlier edition (`check` takes those with a reminder label). Warnings: the editor
/// may mean a past date on purpose ("held on 12 November 2025").
pub fn carried_prose(edition: &Edition, carried: impl Fn(&Item) -> bool, report: &mut Report) {
    for item in edition.items.iter().filter(|i| carried(i)) {
        let name = format!("item `{}`", item.id);
        let written = (edition.file_of(item), edition.language_of(item));
        let mut texts = localized_markdown(written, &name, &item.body);
        if let Some(e) = &item.eligibility {
            texts.extend(localized_markdown(written, &name, e));
        }
        for note in item.sessions.iter().filter_map(|s| s.note.as_ref()) {
            texts.extend(localized_markdown(written, &name, note));
        }
        for t in &texts {
            for m in mentions::find_dates(t.text, t.language, edition.date) {
                let Some(date) = m.date.filter(|d| *d < edition.date) else {
                    continue;
                };
                report.at(
                    Severity::Warning,
                    t.file,
                    Some(t.line_at(m.range.start)),
                    format!(
                        "{}: this reminder's `{}` text still says \"{}\" ({}), before the edition's date ({}); update or remove it",
                        t.what,
                        t.language,
                        m.written,
                        long(date),
                        long(edition.date)
                    ),
                );
            }
        }
    }
}

fn long(date: NaiveDate) -> String {
    date.format("%A %-d %B %Y").to_string()
}

fn free_text(edition: &Edition, t: &Text<'_>, report: &mut Report) {
    let line_at = |offset: usize| t.line_at(offset);
    let dates = mentions::find_dates(t.text, t.language, edition.date);
    let mut error = |offset: usize, message: String| {
        report.at(
            Severity::Error,
            t.file,
            Some(line_at(offset)),
            format!("{}: {message}", t.what),
        );
    };
    for m in &dates {
        match (m.date, m.weekday) {
            (None, _) => error(
                m.range.start,
                format!(
                    "\"{}\" is not a date in the calendar; correct the day or the month",
                    m.written
                ),
            ),
            (Some(date), Some(weekday)) if date.weekday() != weekday => {
                let year = if m.year_written {
                    String::new()
                } else {
                    format!(" (taking the year {} from the edition)", date.year())
                };
                error(
                    m.range.start,
                    format!(
                        "\"{}\": {} is a {}, not a {weekday_name}{year}; correct the weekday or the date",
                        m.written,
                        date.format("%-d %B %Y"),
                        date.format("%A"),
                        weekday_name = weekday_name(weekday),
                    ),
                )
            }
            _ => {}
        }
    }
    for zone in mentions::find_zones(t.text) {
        // The date an abbreviation goes with: the last one before it on the same line, else
        // the first one after it on that line.
        let line_start = t.text[..zone.range.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = t.text[zone.range.end..]
            .find('\n')
            .map_or(t.text.len(), |i| zone.range.end + i);
        let on_line = |m: &&mentions::DateMention| m.range.start >= line_start && m.range.end <= line_end;
        let before = dates.iter().filter(on_line).rfind(|m| m.range.end <= zone.range.start);
        let after = dates.iter().filter(on_line).find(|m| m.range.start >= zone.range.end);
        let Some(mention) = before.or(after) else { continue };
        let Some(date) = mention.date else { continue };
        if let Some((right, place)) = mentions::correct_abbreviation(zone.abbreviation, date) {
            error(
                zone.range.start,
                format!(
                    "\"{}\" with \"{}\": on {} {} time is {right}, not {}; better, give the session a `start` and a `time_zone` and let infoflash write the time",
                    zone.abbreviation,
                    mention.written,
                    long(date),
                    calendar::city(place),
                    zone.abbreviation
                ),
            );
        }
    }
}

/// `Monday`: the English name of the calendar's table, capitalised as in a sentence.
fn weekday_name(w: chrono::Weekday) -> String {
    let name = crate::calendar::days::WEEKDAYS
        .iter()
        .find(|(_, d)| *d == w)
        .map_or("", |(name, _)| *name);
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn structured(edition: &Edition, item: &Item, report: &mut Report) {
    let file = edition.file_of(item);
    let event_end = item
        .dates
        .map(|d| d.ends)
        .or_else(|| item.sessions.iter().map(|s| s.date).max());
    for d in &item.deadlines {
        if d.date < edition.date {
            report.at(
                Severity::Error,
                file,
                Some(d.line),
                format!(
                    "item `{}`: the deadline \"{}\" ({}) is already past on the edition's date ({}); drop it or move it",
                    item.id,
                    d.what.main,
                    long(d.date),
                    long(edition.date)
                ),
            );
        }
        if let Some(end) = event_end.filter(|end| d.date > *end) {
            report.at(
                Severity::Warning,
                file,
                Some(d.line),
                format!(
                    "item `{}`: the deadline \"{}\" ({}) is after the event it belongs to, which ends {}",
                    item.id,
                    d.what.main,
                    long(d.date),
                    long(end)
                ),
            );
        }
    }
    for s in &item.sessions {
        if s.date < edition.date {
            report.at(
                Severity::Warning,
                file,
                Some(s.line),
                format!(
                    "item `{}`: a session on {} is already over on the edition's date ({})",
                    item.id,
                    long(s.date),
                    long(edition.date)
                ),
            );
        }
    }
}
