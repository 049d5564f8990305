//! `next`: the next edition's file, planned on the current one's validated model and written by
//! editing its text.
//!
//! Owns the carry-over rules (see [`next_edition`]): the number and the date move on, the
//! edition's own texts follow the number, items with something still ahead of the new date come
//! back relabelled as reminders, and what is over (past deadlines, sessions and listed days,
//! items with nothing left ahead, `hide` entries that would hide nothing) is dropped. The plan
//! is made on the [`Edition`] that `edition::parse` validated; only the edit goes through
//! `toml_edit`, so the comments and layout of whatever is kept survive. An office's overlay,
//! read as an edition of its own (`parse_overlay`), is planned the same way and becomes the
//! next edition's overlay.
//!
//! It must not read or write files, nor load label tables: the caller passes the renderer's
//! labels in. Every problem is a `diagnostics::Diagnostic` with its file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use toml_edit::{Datetime, Document, DocumentMut, Item as TomlItem, Table, Value};

use super::{numbering, Edition, EditionSettings, Item, ItemKind};
use crate::diagnostics::{Report, Severity, Source};
use crate::types::Language;

/// The renderer's label tables, as the emails will show them: the text of `key` in `language`
/// (`label_call_partners` → `CALL FOR PARTNERS`), `None` when that language has no table.
pub type Labels<'a> = &'a dyn Fn(&Language, &str) -> Option<String>;

/// The next edition, ready to be written.
#[derive(Debug, Clone)]
pub struct Next {
    /// Where it belongs: beside the input, named after the new date and number.
    pub path: PathBuf,
    pub number: u32,
    pub date: NaiveDate,
    /// The whole file.
    pub text: String,
    /// The items carried over, in reading order.
    pub carried: Vec<Carried>,
    /// The items left out, in reading order.
    pub dropped: Vec<Dropped>,
    /// How many listed `[[international_days.days]]` were before the new date.
    pub past_days: usize,
    /// The `[international_days] hide` entries dropped: they would hide nothing any more.
    pub stale_hides: Vec<String>,
    /// How many mentions of the old number in the edition's own texts now name the new one.
    pub renumbered: usize,
    /// What the editor should look at in the new file (each at the line of the old one).
    pub warnings: Report,
}

/// An item that comes back as a reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub id: String,
    /// Its label in the main language, as the reader will see it.
    pub label: String,
    pub past_deadlines: usize,
    pub past_sessions: usize,
    /// Rows of an event list (`kind = "events"`) already over.
    pub past_events: usize,
}

/// An item left out of the next edition, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub id: String,
    pub reason: DropReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// No deadline, session or event date at all: it was this edition's news.
    Undated,
    /// Its deadlines, sessions and event dates are all before the new date; `last` is the
    /// latest of them.
    Over { last: NaiveDate },
    /// An open deadline, but every session is over: an invitation needs at least one.
    SessionsOver { last: NaiveDate },
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Undated => f.write_str("no deadline, session or event date (it was this edition's news)"),
            DropReason::Over { last } => {
                write!(
                    f,
                    "every deadline, session and event date is past (the last was {last})"
                )
            }
            DropReason::SessionsOver { last } => write!(f, "every session is over (the last was {last})"),
        }
    }
}

/// Writes the edition that follows `edition` (loaded from `source`, its file's text)
/// `cadence_days` later. `settings` give the calendar its computed international days come
/// from; `labels` the label tables.
///
/// - `[edition]`: `number` + 1, `date` + `cadence_days`. In `subject` and `intro`, in every
///   language, the old number written as a number ("N°22", "N.º 22": see
///   [`numbering`]) becomes the new one. A mention of another number is left alone (`check`
///   warns about it); one the file writes with an escape is left alone and warned about at
///   its line. The rest is kept.
/// - An item is carried over when one of its deadlines, one of its sessions, or (for an event)
///   its last day, or a row of an event list, is on or after the new date D. Its deadlines,
///   sessions and event rows before D are
///   dropped; an invitation whose sessions are all before D is dropped whole, and so is a
///   call with no open deadline. Other items are dropped.
/// - A carried item is relabelled `REMINDER + <its label in capitals>`, in every language (the
///   `reminder` label), unless the label already starts with the reminder word. An item with
///   no `label` gets its kind's default label; one with `label = ""` (no label shown) gets the
///   bare reminder word, since a reminder must say so.
/// - Any other place of the new file that still names the old number (a comment, a carried
///   item's title or prose) is left as written and warned about at its line in the new file.
/// - Listed `[[international_days.days]]` before D are dropped, and so are `hide` entries that
///   no computed day of the new edition's window matches; the rest of the block is kept.
pub fn next_edition(
    edition: &Edition,
    source: &str,
    settings: &EditionSettings,
    cadence_days: u32,
    labels: Labels<'_>,
) -> Result<Next, Report> {
    let file = Source::new(&edition.path, source);
    let doc = Document::parse(source).map_err(|e| {
        let mut report = Report::new();
        report.error_at(&file, e.span().map_or(0, |s| s.start), e.message().trim());
        report
    })?;
    let planner = Planner {
        edition,
        file: &file,
        labels,
        errors: Report::new(),
        warnings: Report::new(),
    };
    let (plan, mut warnings) = planner.plan(doc.as_table(), settings, cadence_days)?;
    let mut doc = doc.into_mut();
    let renumbered = apply(&mut doc, &plan, edition, labels, &mut warnings);
    let text = super::keep_file_form(source, doc.to_string());

    let next_of = |path: &Path| {
        path.with_file_name(next_file_name(
            path,
            edition.number.into(),
            plan.new_number.into(),
            plan.new_date,
        ))
    };
    let path = match &edition.overlay {
        // An office's overlay read as an edition of its own follows its edition:
        // `<the next edition's name>.<office>.toml`.
        Some(overlay) if overlay.path == edition.path => {
            let base = super::split_overlay_path(&edition.path).map_or_else(|| edition.path.clone(), |(base, _)| base);
            super::overlay_path(&next_of(&base), &overlay.office)
        }
        _ => next_of(&edition.path),
    };
    left_over_numbers(edition, &text, &path, labels, &mut warnings);
    Ok(Next {
        path,
        number: plan.new_number,
        date: plan.new_date,
        text,
        carried: plan.carried,
        dropped: plan.dropped,
        past_days: plan.days.iter().filter(|keep| !**keep).count(),
        stale_hides: plan.stale_hides.iter().map(|h| h.1.clone()).collect(),
        renumbered,
        warnings: warnings.sorted(),
    })
}

/// Whether `label` already says the item is a reminder: it starts with `word` (the label
/// table's `reminder` in the label's language, "RAPPEL") or with the English "REMINDER",
/// which editors write in every language. `next` does not relabel such an item, and `check`
/// takes it for one carried over.
pub fn is_reminder_label(label: &str, word: &str) -> bool {
    let label = label.trim().to_uppercase();
    let word = word.trim().to_uppercase();
    (!word.is_empty() && label.starts_with(&word)) || label.starts_with("REMINDER")
}

/// The file name of the next edition: a leading `YYYY-MM` becomes the new date's, and a
/// trailing `-<number>` the new number (appended when the name does not end in the number).
pub fn next_file_name(path: &Path, number: i64, new_number: i64, new_date: NaiveDate) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("edition");
    let extension = path.extension().and_then(|s| s.to_str()).unwrap_or("toml");
    let mut name = stem.to_string();
    let b = stem.as_bytes();
    let dated = b.len() >= 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && (b.len() == 7 || b[7] == b'-');
    if dated {
        name.replace_range(..7, &format!("{:04}-{:02}", new_date.year(), new_date.month()));
    }
    let old = number.to_string();
    // Only a whole trailing number counts: `flash-122` does not end in the number 22.
    let numbered = name
        .strip_suffix(&old)
        .is_some_and(|rest| rest.is_empty() || rest.ends_with('-'));
    if numbered {
        name.truncate(name.len() - old.len());
        name.push_str(&new_number.to_string());
    } else {
        name.push_str(&format!("-{new_number}"));
    }
    format!("{name}.{extension}")
}

/// What to change, decided on the model (with the lines the parsed document gives the listed
/// days and `hide` entries, which is how the two are matched).
struct Plan {
    new_number: u32,
    new_date: NaiveDate,
    /// By item id: `None` to drop the item, or what to change in it.
    items: BTreeMap<String, Option<ItemPlan>>,
    carried: Vec<Carried>,
    dropped: Vec<Dropped>,
    /// Per `[[international_days.days]]` of the file, in order: whether to keep it.
    days: Vec<bool>,
    /// The `hide` entries to drop: their index in the array, and their text.
    stale_hides: Vec<(usize, String)>,
}

struct ItemPlan {
    /// Per deadline and session, in the file's order (the model keeps it): whether to keep it.
    deadlines: Vec<bool>,
    sessions: Vec<bool>,
    /// Per row of an event list: whether to keep it.
    events: Vec<bool>,
    /// The new main label, when it changes.
    label: Option<LabelChange>,
    /// New `translations.<lang>.label` texts.
    translations: Vec<(Language, String)>,
}

struct LabelChange {
    text: String,
    /// The item had `label = ""`: a comment beside it explains an empty label, so it goes.
    was_empty: bool,
}

struct Planner<'a> {
    edition: &'a Edition,
    file: &'a Source,
    labels: Labels<'a>,
    errors: Report,
    warnings: Report,
}

impl Planner<'_> {
    fn error(&mut self, line: Option<usize>, message: impl Into<String>) {
        self.errors.at(Severity::Error, &self.edition.path, line, message);
    }

    fn line_of(&self, span: Option<std::ops::Range<usize>>) -> Option<usize> {
        span.map(|s| self.file.line_of(s.start))
    }

    fn plan(mut self, root: &Table, settings: &EditionSettings, cadence_days: u32) -> Result<(Plan, Report), Report> {
        let edition = self.edition;
        let key_line = |key: &str| {
            let table = root.get("edition").and_then(TomlItem::as_table);
            self.line_of(table.and_then(|t| t.get(key)).and_then(TomlItem::span))
        };
        let (number_line, date_line) = (key_line("number"), key_line("date"));
        let new_number = edition.number.checked_add(1);
        if new_number.is_none() {
            self.error(
                number_line,
                format!(
                    "`[edition] number` must be between 1 and {} for a next edition, not {}",
                    u32::MAX - 1,
                    edition.number
                ),
            );
        }
        // TOML dates end with the year 9999.
        let new_date = edition
            .date
            .checked_add_days(Days::new(cadence_days.into()))
            .filter(|d| d.year() <= 9999);
        if new_date.is_none() {
            self.error(
                date_line,
                "`[edition] date` is too far in the future: the next edition's date cannot be written",
            );
        }
        // The items are matched by id in the document's `[[items]]` tables; an inline array of
        // them is valid TOML but not something this edit can keep the layout of.
        if let Some(items) = root.get("items").filter(|i| !i.is_array_of_tables()) {
            let line = self.line_of(items.span());
            self.error(
                line,
                "`next` rewrites `[[items]]` tables: write the items as `[[items]]` tables, not as an inline array",
            );
        }
        let (Some(new_number), Some(new_date)) = (new_number, new_date) else {
            return Err(self.errors);
        };

        let mut plan = Plan {
            new_number,
            new_date,
            items: BTreeMap::new(),
            carried: Vec::new(),
            dropped: Vec::new(),
            days: Vec::new(),
            stale_hides: Vec::new(),
        };
        for item in &edition.items {
            let decided = match self.item(item, new_date) {
                Ok((item_plan, carried)) => {
                    plan.carried.push(carried);
                    Some(item_plan)
                }
                Err(reason) => {
                    plan.dropped.push(Dropped {
                        id: item.id.to_string(),
                        reason,
                    });
                    None
                }
            };
            plan.items.insert(item.id.to_string(), decided);
        }
        self.days(root, settings, &mut plan);
        if self.errors.has_errors() {
            return Err(self.errors.sorted());
        }
        Ok((plan, self.warnings))
    }

    /// `Ok` to carry the item over, `Err` with why it is dropped.
    fn item(&mut self, item: &Item, new_date: NaiveDate) -> Result<(ItemPlan, Carried), DropReason> {
        let open = |d: &NaiveDate| *d >= new_date;
        let deadlines: Vec<bool> = item.deadlines.iter().map(|d| open(&d.date)).collect();
        let sessions: Vec<bool> = item.sessions.iter().map(|s| open(&s.date)).collect();
        let event = item.dates.is_some_and(|d| open(&d.ends));
        let events: Vec<bool> = item.events.iter().map(|e| open(&e.dates.ends)).collect();
        let dates = item
            .deadlines
            .iter()
            .map(|d| d.date)
            .chain(item.sessions.iter().map(|s| s.date))
            .chain(item.dates.map(|d| d.ends))
            .chain(item.events.iter().map(|e| e.dates.ends));
        let Some(last) = dates.max() else {
            return Err(DropReason::Undated);
        };
        if !deadlines.contains(&true) && !sessions.contains(&true) && !event && !events.contains(&true) {
            return Err(DropReason::Over { last });
        }
        // An event list is its rows: with none ahead it has nothing to remind of.
        if item.kind == ItemKind::Events && !events.contains(&true) {
            return Err(DropReason::Over { last });
        }
        if item.kind == ItemKind::Invitation && !sessions.contains(&true) {
            let last = item.sessions.iter().map(|s| s.date).max().unwrap_or(last);
            return Err(DropReason::SessionsOver { last });
        }
        // A call needs a deadline; one left with none has nothing to remind of.
        if matches!(item.kind, ItemKind::Call(_)) && !deadlines.contains(&true) {
            return Err(DropReason::Over { last });
        }

        let (label, translations, shown) = self.relabel(item);
        let carried = Carried {
            id: item.id.to_string(),
            label: shown,
            past_deadlines: deadlines.iter().filter(|keep| !**keep).count(),
            past_sessions: sessions.iter().filter(|keep| !**keep).count(),
            past_events: events.iter().filter(|keep| !**keep).count(),
        };
        Ok((
            ItemPlan {
                deadlines,
                sessions,
                events,
                label,
                translations,
            },
            carried,
        ))
    }

    fn label(&mut self, item: &Item, language: &Language, key: &str) -> String {
        match (self.labels)(language, key) {
            Some(text) => text,
            None => {
                self.error(
                    Some(item.line),
                    format!("item `{}` is carried over as a reminder, but no label table exists for `{language}`: add `{language}` to `languages` in infoflash.toml, or give the item a `label`", item.id),
                );
                String::new()
            }
        }
    }

    /// The reminder labels of a carried item: the new main label (when it changes), the new
    /// translated labels, and the main label as the reader will see it.
    fn relabel(&mut self, item: &Item) -> (Option<LabelChange>, Vec<(Language, String)>, String) {
        let main_language = self.edition.language.clone();
        let reminder = |this: &mut Self, language: &Language, label: &str| -> Option<String> {
            let word = this.label(item, language, "reminder");
            if is_reminder_label(label, &word) {
                None
            } else {
                Some(format!("{word} + {}", label.trim().to_uppercase()))
            }
        };
        let main = item.label.as_ref().map(|l| l.main.trim().to_string());
        let label = match main.as_deref() {
            None => {
                let default = self.label(item, &main_language, item.kind.label_key());
                reminder(self, &main_language, &default)
            }
            Some("") => Some(self.label(item, &main_language, "reminder")),
            Some(text) => reminder(self, &main_language, text),
        };
        let shown = match (&label, &main) {
            (Some(new), _) => new.clone(),
            (None, Some(text)) => text.clone(),
            (None, None) => String::new(),
        };

        // Every language the edition is built in, and any other the item is translated into.
        let mut languages: BTreeSet<Language> = self.edition.languages.iter().cloned().collect();
        languages.extend(item.title.translations.keys().cloned());
        languages.extend(item.body.translations.keys().cloned());
        if let Some(l) = &item.label {
            languages.extend(l.translations.keys().cloned());
        }
        languages.remove(&main_language);
        let mut translations = Vec::new();
        for language in languages {
            let existing = item
                .label
                .as_ref()
                .and_then(|l| l.translations.get(&language))
                .filter(|t| !t.trim().is_empty());
            let new = match (existing, main.as_deref()) {
                (Some(e), _) => reminder(self, &language, e),
                (None, None) => {
                    let default = self.label(item, &language, item.kind.label_key());
                    reminder(self, &language, &default)
                }
                (None, Some("")) => Some(self.label(item, &language, "reminder")),
                // A custom label with no translation: `check` already asks for one, and a guess
                // in the main language would hide that.
                (None, Some(_)) => None,
            };
            if let Some(new) = new {
                translations.push((language, new));
            }
        }
        let label = label.map(|text| LabelChange {
            text,
            was_empty: main.as_deref() == Some(""),
        });
        (label, translations, shown)
    }

    /// Which listed days and `hide` entries stay. The model has the listed days (with their
    /// lines) and the `hide` entries; the file's order is the parsed document's.
    fn days(&mut self, root: &Table, settings: &EditionSettings, plan: &mut Plan) {
        let Some(section) = &self.edition.days else {
            return;
        };
        let block = root.get("international_days").and_then(TomlItem::as_table);
        let listed = block.and_then(|b| b.get("days")).and_then(TomlItem::as_array_of_tables);
        for table in listed.into_iter().flat_map(|a| a.iter()) {
            let line = self.line_of(table.span());
            let day = section
                .days
                .iter()
                .find(|d| d.calendar.is_none() && Some(d.line) == line);
            // A day the model does not know by its line is kept: dropping is the rule that
            // needs a reason.
            plan.days.push(day.is_none_or(|d| d.date >= plan.new_date));
        }
        if section.weeks == 0 {
            return;
        }
        let until = plan.new_date + chrono::Duration::days(7 * i64::from(section.weeks));
        let computed = crate::calendar::days::between(&settings.calendar.days, plan.new_date, until);
        for (i, hide) in section.hide.iter().enumerate() {
            if !computed.iter().any(|(_, day)| super::hides(&hide.text, day)) {
                plan.stale_hides.push((i, hide.text.clone()));
            }
        }
    }
}

/// Warns at each place of the new file that still names the old number: a comment, a carried
/// item's title or prose ("as announced in N°22"). They may mean that edition on purpose, so
/// they are the editor's to rewrite; `check` warns about titles too.
fn left_over_numbers(edition: &Edition, text: &str, path: &Path, labels: Labels<'_>, warnings: &mut Report) {
    let formats: Vec<String> = edition
        .languages
        .iter()
        .filter_map(|l| labels(l, "number_format"))
        .collect();
    let formats: Vec<&str> = formats.iter().map(String::as_str).collect();
    let new_file = Source::new(path, text);
    for m in numbering::find(text, &formats) {
        if m.number == u64::from(edition.number) {
            warnings.at(
                Severity::Warning,
                path,
                Some(new_file.line_of(m.digits.start)),
                format!(
                    "still names \"{}\", the edition this one was made from: if it means this edition, write N°{}",
                    m.written,
                    edition.number + 1
                ),
            );
        }
    }
}

/// Writes `new` as the number `from` was written in a string value (`subject`, `intro`),
/// keeping its quotes, layout and comments. Returns how many mentions changed, or `Err` when
/// the file writes one in a way that cannot be edited safely (an escape inside it).
fn renumber_value(value: &mut Value, formats: &[&str], from: u64, to: u64) -> Result<usize, ()> {
    let Value::String(old) = value else { return Ok(0) };
    let (expected, count) = numbering::renumber(old.value(), formats, from, to);
    if count == 0 {
        return Ok(0);
    }
    let raw = old.display_repr().into_owned();
    let (new_raw, raw_count) = numbering::renumber(&raw, formats, from, to);
    if raw_count != count {
        return Err(());
    }
    let Ok(mut new) = new_raw.parse::<Value>() else {
        return Err(());
    };
    if new.as_str() != Some(expected.as_str()) {
        return Err(());
    }
    *new.decor_mut() = old.decor().clone();
    *value = new;
    Ok(count)
}

fn toml_date(d: NaiveDate) -> Option<Datetime> {
    Some(Datetime {
        date: Some(toml_edit::Date {
            year: u16::try_from(d.year()).ok()?,
            month: u8::try_from(d.month()).ok()?,
            day: u8::try_from(d.day()).ok()?,
        }),
        time: None,
        offset: None,
    })
}

/// Changes the document as planned; returns how many number mentions now name the new number.
fn apply(doc: &mut DocumentMut, plan: &Plan, edition: &Edition, labels: Labels<'_>, warnings: &mut Report) -> usize {
    let mut renumbered = 0;
    // `[edition]`, or an office overlay's `[office]` (its intro and greeting), which has no
    // number or date of its own.
    for head in ["edition", "office"] {
        let Some(table) = doc.get_mut(head).and_then(TomlItem::as_table_mut) else {
            continue;
        };
        if let Some(number) = table.get_mut("number") {
            replace(number, Value::from(i64::from(plan.new_number)));
        }
        if let (Some(date), Some(new)) = (table.get_mut("date"), toml_date(plan.new_date)) {
            replace(date, Value::from(new));
        }
        let mut texts = Texts {
            edition,
            labels,
            new_number: plan.new_number,
            warnings,
            renumbered: 0,
        };
        texts.renumber(table, None);
        if let Some(translations) = table.get_mut("translations").and_then(TomlItem::as_table_like_mut) {
            for (code, t) in translations.iter_mut() {
                let (Ok(language), Some(t)) = (code.parse::<Language>(), t.as_table_like_mut()) else {
                    continue;
                };
                texts.renumber(t, Some(&language));
            }
        }
        renumbered += texts.renumbered;
    }
    if let Some(items) = doc.get_mut("items").and_then(TomlItem::as_array_of_tables_mut) {
        let id = |t: &Table| t.get("id").and_then(TomlItem::as_str).map(str::to_string);
        items.retain(|t| id(t).is_none_or(|id| plan.items.get(&id).is_none_or(Option::is_some)));
        for item in items.iter_mut() {
            if let Some(Some(p)) = id(item).and_then(|id| plan.items.get(&id)) {
                apply_item(item, p);
            }
        }
    }
    if let Some(days) = doc.get_mut("international_days").and_then(TomlItem::as_table_mut) {
        retain(days, "days", &plan.days);
        if let Some(hide) = days.get_mut("hide").and_then(TomlItem::as_array_mut) {
            for (i, _) in plan.stale_hides.iter().rev() {
                if *i < hide.len() {
                    hide.remove(*i);
                }
            }
            if hide.is_empty() {
                days.remove("hide");
            }
        }
    }
    renumbered
}

/// The edition's own texts, moved to the new number.
struct Texts<'a> {
    edition: &'a Edition,
    labels: Labels<'a>,
    new_number: u32,
    warnings: &'a mut Report,
    renumbered: usize,
}

impl Texts<'_> {
    /// `subject` and `intro` of `table`: the `[edition]` table (`language` `None`) or one of
    /// its translations.
    fn renumber(&mut self, table: &mut dyn toml_edit::TableLike, language: Option<&Language>) {
        let edition = self.edition;
        let shown = language.unwrap_or(&edition.language);
        let formats: Vec<String> = (self.labels)(shown, "number_format").into_iter().collect();
        let formats: Vec<&str> = formats.iter().map(String::as_str).collect();
        let subject_line = edition.subject_lines.as_ref().map(|l| match language {
            Some(l2) => l.translations.get(l2).copied().unwrap_or(l.main),
            None => l.main,
        });
        let intro_line = edition.intro.as_ref().map(|i| match language {
            Some(l2) => i.translations.get(l2).map_or(i.main.line, |m| m.line),
            None => i.main.line,
        });
        for (key, line) in [("subject", subject_line), ("intro", intro_line)] {
            let Some(value) = table.get_mut(key).and_then(TomlItem::as_value_mut) else {
                continue;
            };
            match renumber_value(value, &formats, edition.number.into(), self.new_number.into()) {
                Ok(n) => self.renumbered += n,
                Err(()) => self.warnings.at(
                    Severity::Warning,
                    &edition.path,
                    line,
                    format!(
                        "the `{shown}` {key} names N°{} in a way `next` cannot rewrite safely (an escape inside it): write N°{} there by hand",
                        edition.number, self.new_number
                    ),
                ),
            }
        }
    }
}

/// Replaces a value, keeping the whitespace and comments around it.
fn replace(item: &mut TomlItem, new: Value) {
    if let Some(old) = item.as_value_mut() {
        let decor = old.decor().clone();
        *old = new;
        *old.decor_mut() = decor;
    } else {
        *item = TomlItem::Value(new);
    }
}

/// Keeps the `[[key]]` entries of `table` whose flag is set. A comment above the first entry
/// heads the whole list (`# Online regional preparatory meetings.`), so when that entry goes,
/// the comment moves to the first one kept.
fn retain(table: &mut Table, key: &str, keep: &[bool]) {
    // Written inline (`sessions = [{ … }, { … }]`): the same entries, in the same order.
    if let Some(array) = table.get_mut(key).and_then(TomlItem::as_array_mut) {
        let mut flags = keep.iter();
        array.retain(|_| flags.next().copied().unwrap_or(true));
        if array.is_empty() {
            table.remove(key);
        }
        return;
    }
    let Some(tables) = table.get_mut(key).and_then(TomlItem::as_array_of_tables_mut) else {
        return;
    };
    let heading = match (keep.first(), tables.get(0)) {
        (Some(false), Some(first)) => comment(first).map(str::to_string),
        _ => None,
    };
    let mut flags = keep.iter();
    tables.retain(|_| flags.next().copied().unwrap_or(true));
    if let (Some(heading), Some(first)) = (heading, tables.get_mut(0)) {
        if comment(first).is_none() {
            first.decor_mut().set_prefix(heading);
        }
    }
    if tables.is_empty() {
        table.remove(key);
    }
}

/// The text above a table's header, when it holds a comment.
fn comment(table: &Table) -> Option<&str> {
    table
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .filter(|p| p.contains('#'))
}

fn apply_item(item: &mut Table, plan: &ItemPlan) {
    retain(item, "deadlines", &plan.deadlines);
    retain(item, "sessions", &plan.sessions);
    retain(item, "events", &plan.events);
    if let Some(change) = &plan.label {
        match item.get_mut("label") {
            Some(label) => {
                replace(label, Value::from(change.text.as_str()));
                if change.was_empty {
                    if let Some(v) = label.as_value_mut() {
                        v.decor_mut().set_suffix("");
                    }
                }
            }
            None => insert_after(item, &["call_for", "kind", "id"], "label", change.text.as_str()),
        }
    }
    for (lang, text) in &plan.translations {
        let lang = lang.as_str();
        let translations = item.entry("translations").or_insert_with(|| {
            let mut t = Table::new();
            // No `[items.translations]` header: only its language tables are written.
            t.set_implicit(true);
            TomlItem::Table(t)
        });
        let Some(translations) = translations.as_table_like_mut() else {
            continue;
        };
        if translations.get(lang).is_none() {
            translations.insert(lang, TomlItem::Table(Table::new()));
        }
        let Some(table) = translations.get_mut(lang) else {
            continue;
        };
        // `TomlItem::get_mut` would insert an empty `label` at the end: look through the table.
        if let Some(t) = table.as_table_mut() {
            match t.get_mut("label") {
                Some(label) => replace(label, Value::from(text.as_str())),
                // Where an editor would write it, after the title.
                None => insert_after(t, &["title"], "label", text),
            }
        } else if let Some(t) = table.as_table_like_mut() {
            match t.get_mut("label") {
                Some(label) => replace(label, Value::from(text.as_str())),
                None => {
                    t.insert("label", toml_edit::value(text.as_str()));
                }
            }
        }
    }
}

/// Inserts `key = text` right after the first of `anchors` present in `table` (at the end when
/// none is).
fn insert_after(table: &mut Table, anchors: &[&str], key: &str, text: &str) {
    let order: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    table.insert(key, toml_edit::value(text));
    let Some(anchor) = anchors.iter().find_map(|a| order.iter().position(|k| k == a)) else {
        return;
    };
    // Even ranks for the keys as they were, the odd one after the anchor for the new key; the
    // sort is stable and leaves sub-tables where their headers put them.
    let rank = |k: &str| match order.iter().position(|o| o == k) {
        Some(i) => 2 * i,
        None => 2 * anchor + 1,
    };
    table.sort_values_by(|a, _, b, _| rank(a.get()).cmp(&rank(b.get())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_a_reminder_in_its_own_language_or_in_english() {
        assert!(is_reminder_label("RAPPEL + APPEL", "RAPPEL"));
        assert!(is_reminder_label("reminder + call", "RAPPEL"));
        assert!(is_reminder_label(" Recordatorio + evento", "RECORDATORIO"));
        assert!(!is_reminder_label("CALL FOR PARTNERS", "RAPPEL"));
        assert!(!is_reminder_label("NEWS", ""));
    }
    use crate::config::{Config, EMBEDDED};
    use crate::render::Templates;

    fn config() -> Config {
        Config::parse(EMBEDDED, Path::new("infoflash.toml"), Path::new(".")).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const HEAD: &str = r#"# N°22, a comment that must survive
[edition]
series = "Info Flash"
number = 22  # the number
date = 2026-01-13
language = "en"
languages = ["en", "fr", "es"]
time_zone = "Europe/Paris"
subject = "Info Flash N°22: the news"  # written by hand
intro = "Old intro, kept for the editor to rewrite."

[edition.translations.fr]
subject = "Info Flash N°22 : les nouvelles"
intro = "Intro."

[edition.translations.es]
subject = 'Info Flash N.º 22: las noticias'
intro = "Intro."
"#;

    fn next(body: &str) -> Next {
        try_next(&format!("{HEAD}{body}")).unwrap()
    }

    fn try_next(text: &str) -> Result<Next, Report> {
        let config = config();
        let path = Path::new("editions/2026-01-info-flash-22.toml");
        let (edition, _) = crate::edition::parse(text, path, &config.edition).unwrap_or_else(|e| panic!("{e}"));
        let templates = Templates::load(Path::new("/nonexistent"), &config.network.languages).unwrap();
        let labels = |l: &Language, k: &str| templates.labels(l).ok().map(|t| t.get(k).to_string());
        next_edition(&edition, text, &config.edition, 14, &labels)
    }

    fn parsed(n: &Next) -> toml::Table {
        toml::from_str(&n.text).unwrap()
    }

    fn item<'a>(doc: &'a toml::Table, id: &str) -> Option<&'a toml::Table> {
        doc.get("items")?
            .as_array()?
            .iter()
            .filter_map(|i| i.as_table())
            .find(|i| i["id"].as_str() == Some(id))
    }

    fn label<'a>(item: &'a toml::Table, lang: Option<&str>) -> Option<&'a str> {
        match lang {
            None => item.get("label")?.as_str(),
            Some(l) => item.get("translations")?.get(l)?.get("label")?.as_str(),
        }
    }

    const CALL: &str = r#"
[[items]]
id = "exchange"
kind = "call"
call_for = "partners"
title = "Join the exchange"

[items.translations.fr]
title = "Participez à l’échange"

[items.translations.es]
title = "Participe en el intercambio"

[[items.deadlines]]
what = "Apply"
date = 2026-01-20
translations = { fr = "Candidater", es = "Postular" }

[[items.deadlines]]
what = "Send the report"
date = 2026-03-31
translations = { fr = "Envoyer", es = "Enviar" }
"#;

    #[test]
    fn the_number_goes_up_by_one_and_the_date_moves_on_by_the_cadence() {
        let n = next(CALL);
        assert_eq!((n.number, n.date), (23, d(2026, 1, 27)));
        assert!(
            n.text.contains("number = 23  # the number\ndate = 2026-01-27\n"),
            "{}",
            n.text
        );
        assert!(n.text.starts_with("# N°22, a comment that must survive\n"));
        assert_eq!(n.path, Path::new("editions/2026-01-info-flash-23.toml"));
    }

    #[test]
    fn the_subject_follows_the_number_in_every_language_keeping_quotes_and_comments() {
        let n = next(CALL);
        assert!(
            n.text
                .contains("subject = \"Info Flash N°23: the news\"  # written by hand\n"),
            "{}",
            n.text
        );
        assert!(
            n.text.contains("subject = \"Info Flash N°23 : les nouvelles\"\n"),
            "{}",
            n.text
        );
        assert!(
            n.text.contains("subject = 'Info Flash N.º 23: las noticias'\n"),
            "{}",
            n.text
        );
        assert_eq!(n.renumbered, 3);
        // What is left is the comment on the first line, for the editor.
        assert_eq!(
            n.warnings.to_string(),
            "editions/2026-01-info-flash-23.toml:1: warning: still names \"N°22\", the edition this one was made from: if it means this edition, write N°23\n"
        );
    }

    #[test]
    fn a_number_written_with_an_escape_is_left_alone_and_warned_about_at_its_line() {
        let text = format!("{HEAD}{CALL}").replace("N°22: the news", "N\\u00B022: the news");
        let n = try_next(&text).unwrap();
        assert!(n.text.contains("N\\u00B022: the news"), "{}", n.text);
        let warning = n.warnings.to_string();
        assert!(
            warning.starts_with("editions/2026-01-info-flash-22.toml:9: warning: the `en` subject names N°22"),
            "{warning}"
        );
    }

    #[test]
    fn an_open_call_is_carried_over_without_its_past_deadlines_as_a_reminder_in_every_language() {
        let n = next(CALL);
        let doc = parsed(&n);
        let call = item(&doc, "exchange").unwrap();
        let deadlines = call["deadlines"].as_array().unwrap();
        assert_eq!(deadlines.len(), 1);
        assert_eq!(deadlines[0]["what"].as_str(), Some("Send the report"));
        assert_eq!(label(call, None), Some("REMINDER + CALL FOR PARTNERS"));
        assert_eq!(label(call, Some("fr")), Some("RAPPEL + APPEL À PARTENAIRES"));
        assert_eq!(label(call, Some("es")), Some("RECORDATORIO + CONVOCATORIA DE SOCIOS"));
        assert_eq!(n.carried[0].past_deadlines, 1);
        assert!(
            n.text
                .contains("call_for = \"partners\"\nlabel = \"REMINDER + CALL FOR PARTNERS\"\ntitle ="),
            "{}",
            n.text
        );
    }

    const INVITATION: &str = r#"
[[items]]
id = "webinar"
kind = "invitation"
title = "Webinar"
translations.fr = { title = "Webinaire" }
translations.es = { title = "Seminario" }

# The sessions, one per language.
[[items.sessions]]
language = "en"
date = 2026-01-20

[[items.sessions]]
language = "fr"
date = 2026-02-03
"#;

    #[test]
    fn an_invitation_without_deadline_whose_session_is_still_ahead_is_carried() {
        let n = next(INVITATION);
        let doc = parsed(&n);
        let webinar = item(&doc, "webinar").unwrap();
        let sessions = webinar["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["language"].as_str(), Some("fr"));
        assert_eq!(label(webinar, None), Some("REMINDER + INVITATION"));
        assert!(
            n.text
                .contains("# The sessions, one per language.\n[[items.sessions]]\nlanguage = \"fr\""),
            "{}",
            n.text
        );
    }

    #[test]
    fn inline_sessions_lose_their_past_entries_too() {
        let body = INVITATION
            .replace(
                "# The sessions, one per language.\n[[items.sessions]]\nlanguage = \"en\"\ndate = 2026-01-20\n\n[[items.sessions]]\nlanguage = \"fr\"\ndate = 2026-02-03\n",
                "sessions = [{ language = \"en\", date = 2026-01-20 }, { language = \"fr\", date = 2026-02-03 }]\n",
            );
        assert!(body.contains("sessions = ["), "{body}");
        let n = next(&body);
        let doc = parsed(&n);
        let sessions = item(&doc, "webinar").unwrap()["sessions"].as_array().unwrap().clone();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["language"].as_str(), Some("fr"));
    }

    #[test]
    fn items_with_nothing_ahead_are_dropped_with_why() {
        let body = format!(
            "{CALL}{}\n[[items]]\nid = \"news\"\nkind = \"news\"\ntitle = \"News\"\ntranslations.fr = {{ title = \"N\" }}\ntranslations.es = {{ title = \"N\" }}\n",
            INVITATION.replace("2026-02-03", "2026-01-21")
        );
        let n = next(&body);
        assert_eq!(
            n.dropped,
            vec![
                Dropped {
                    id: "webinar".into(),
                    reason: DropReason::Over { last: d(2026, 1, 21) }
                },
                Dropped {
                    id: "news".into(),
                    reason: DropReason::Undated
                },
            ]
        );
        let doc = parsed(&n);
        assert_eq!(doc["items"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn a_carried_title_naming_the_old_number_is_left_as_written_and_warned_about_at_its_new_line() {
        let n = next(&CALL.replace("Join the exchange", "Join the exchange announced in N°22"));
        let line = n.text.lines().position(|l| l.contains("announced in N°22")).unwrap() + 1;
        let warning = n.warnings.to_string();
        assert!(
            warning.contains(&format!(
                "editions/2026-01-info-flash-23.toml:{line}: warning: still names \"N°22\""
            )),
            "{warning}"
        );
        // The title is left as written: it may mean that edition.
        assert!(n.text.contains("title = \"Join the exchange announced in N°22\""));
    }

    #[test]
    fn stale_hide_entries_and_past_listed_days_are_dropped() {
        let body = format!(
            "{CALL}\n[international_days]\nhide = [\n  \"World Wetlands Day\",\n  \"International Day of Education\",\n]\n\n\
             [[international_days.days]]\ndate = 2026-01-24\nname = \"Past\"\nlink = \"https://example.org/a\"\n\
             translations.fr = {{ name = \"a\" }}\ntranslations.es = {{ name = \"a\" }}\n\n\
             [[international_days.days]]\ndate = 2026-01-27\nname = \"Today\"\nlink = \"https://example.org/b\"\n\
             translations.fr = {{ name = \"b\" }}\ntranslations.es = {{ name = \"b\" }}\n"
        );
        let n = next(&body);
        assert_eq!(n.past_days, 1);
        assert_eq!(n.stale_hides, ["International Day of Education"]);
        let doc = parsed(&n);
        let days = doc["international_days"]["days"].as_array().unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0]["name"].as_str(), Some("Today"));
        let hide = doc["international_days"]["hide"].as_array().unwrap();
        assert_eq!(hide.len(), 1);
        assert_eq!(hide[0].as_str(), Some("World Wetlands Day"));
    }

    #[test]
    fn the_file_name_takes_the_new_month_and_number() {
        let name = |p: &str, n: i64, date: NaiveDate| next_file_name(Path::new(p), n, n + 1, date);
        assert_eq!(
            name("2026-01-info-flash-22.toml", 22, d(2026, 2, 3)),
            "2026-02-info-flash-23.toml"
        );
        assert_eq!(name("2025-12-flash-9.toml", 9, d(2026, 1, 6)), "2026-01-flash-10.toml");
        assert_eq!(name("special.toml", 22, d(2026, 1, 27)), "special-23.toml");
        assert_eq!(
            name("2026-01-flash-122.toml", 22, d(2026, 1, 27)),
            "2026-01-flash-122-23.toml"
        );
    }
}
