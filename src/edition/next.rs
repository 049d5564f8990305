//! `next`: the next edition's file, written from the current one.
//!
//! Owns the carry-over rules (see [`next_edition`]): the number and the date move on, items whose
//! deadlines are still open at the new date come back relabelled as reminders, and what is over
//! (past deadlines, sessions already held, items with nothing left to act on, past international
//! days) is dropped. It edits the TOML text with `toml_edit`, so the comments and layout of
//! whatever is kept survive, and it only reads the keys these rules need.
//!
//! It must not read or write files, and it does not validate the edition: `check` does that, on
//! the file this produces (the rules here leave it no past deadline or session to report).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use toml_edit::{Datetime, Document, DocumentMut, Item, Table, TableLike, Value};

use crate::diagnostics::{Place, Source};

/// The default label texts of each language, keyed like `templates/labels/<lang>.toml`
/// (`label_call_partners` → `CALL FOR PARTNERS`). The caller chooses where they come from (the
/// project's tables or the embedded ones), which keeps this module free of files.
#[derive(Debug, Clone, Default)]
pub struct DefaultLabels {
    tables: BTreeMap<String, BTreeMap<String, String>>,
}

impl DefaultLabels {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the table of `language`.
    pub fn insert(&mut self, language: &str, table: BTreeMap<String, String>) {
        self.tables.insert(language.to_string(), table);
    }

    fn get(&self, language: &str, key: &str) -> Option<&str> {
        self.tables.get(language)?.get(key).map(String::as_str)
    }

    /// The word that marks a reminder in `language`: the `reminder` key of its label table
    /// ("RAPPEL", as in the published "RAPPEL + APPEL À PARTICIPATION").
    fn reminder(&self, language: &str) -> String {
        self.get(language, "reminder").unwrap_or("REMINDER").to_string()
    }
}

/// The next edition, ready to be written.
#[derive(Debug, Clone)]
pub struct Next {
    /// Where it belongs: beside the input, named after the new date and number.
    pub path: PathBuf,
    pub number: i64,
    pub date: NaiveDate,
    /// The whole file.
    pub text: String,
    /// The items carried over, in reading order.
    pub carried: Vec<Carried>,
    /// The items left out, in reading order.
    pub dropped: Vec<Dropped>,
    /// How many `[[international_days.days]]` were before the new date.
    pub past_days: usize,
}

/// An item that comes back as a reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub id: String,
    /// Its label in the main language, as the reader will see it.
    pub label: String,
    pub past_deadlines: usize,
    pub past_sessions: usize,
}

/// An item left out of the next edition, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub id: String,
    pub reason: DropReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Nothing to act on: it was this edition's news.
    NoDeadline,
    /// Every deadline is before the new date; `last` is the latest of them.
    DeadlinesPast { last: NaiveDate },
    /// Deadlines are open but every session is over: an invitation needs at least one.
    SessionsOver { last: NaiveDate },
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::NoDeadline => f.write_str("no deadline (it was this edition's news)"),
            DropReason::DeadlinesPast { last } => write!(f, "every deadline is past (the last was {last})"),
            DropReason::SessionsOver { last } => write!(f, "every session is over (the last was {last})"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NextError {
    #[error("{at}: not valid TOML: {message}; fix it (`infoflash check` explains) and run again")]
    Syntax { at: Place, message: String },
    /// A key these rules need is missing or has the wrong type.
    #[error("{at}: {message}")]
    Invalid { at: Place, message: String },
    #[error("{at}: item `{item}` has no `label` and no default label exists in `{language}`: add `{language}` to `languages` in infoflash.toml, or give the item a `label`")]
    NoLabels { at: Place, item: String, language: String },
}

/// Writes the edition that follows `source` (the text of the edition file at `path`, which
/// only names it: nothing is read) `cadence_days` later.
///
/// - `[edition]`: `number` + 1, `date` + `cadence_days`; every other key is kept as written (the
///   editor rewrites the intro and subject).
/// - An item is carried over when at least one of its `[[items.deadlines]]` is on or after the
///   new date D. Its deadlines and sessions before D are dropped; if it had sessions and none is
///   left, the item is dropped (an invitation needs one). Items without deadlines are dropped.
/// - A carried item is relabelled `REMINDER + <its label in capitals>`, in every language (see
///   [`DefaultLabels`] for the word), unless the label already starts with the reminder word. An
///   item with no `label` gets its kind's default label; one with `label = ""` (no label shown)
///   gets the bare reminder word, since a reminder must say so.
/// - `[[international_days.days]]` before D are dropped; the rest of the block is kept.
pub fn next_edition(source: &str, path: &Path, cadence_days: u32, labels: &DefaultLabels) -> Result<Next, NextError> {
    let reader = Reader {
        source: Source::new(path, source),
    };
    let doc = Document::parse(source).map_err(|e| NextError::Syntax {
        at: reader.at(e.span()),
        message: e.message().trim().to_string(),
    })?;
    let plan = reader.plan(doc.as_table(), cadence_days, labels)?;
    let mut doc = doc.into_mut();
    apply(&mut doc, &plan);

    let path = path.with_file_name(next_file_name(path, plan.number, plan.new_number, plan.new_date));
    Ok(Next {
        path,
        number: plan.new_number,
        date: plan.new_date,
        text: doc.to_string(),
        carried: plan.carried,
        dropped: plan.dropped,
        past_days: plan.days.iter().filter(|keep| !**keep).count(),
    })
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

/// What to change, decided on the parsed document (which still has its spans, for messages).
struct Plan {
    number: i64,
    new_number: i64,
    new_date: NaiveDate,
    /// Per item, in order: `None` to drop it, or what to change in it.
    items: Vec<Option<ItemPlan>>,
    carried: Vec<Carried>,
    dropped: Vec<Dropped>,
    /// Per `[[international_days.days]]`: whether to keep it.
    days: Vec<bool>,
}

struct ItemPlan {
    deadlines: Vec<bool>,
    sessions: Vec<bool>,
    /// The new main label, when it changes.
    label: Option<LabelChange>,
    /// New `translations.<lang>.label` texts.
    translations: Vec<(String, String)>,
}

struct LabelChange {
    text: String,
    /// The item had `label = ""`: a comment beside it explains an empty label, so it goes.
    was_empty: bool,
}

/// The item's main label as written.
enum MainLabel {
    Absent,
    Empty,
    Text(String),
}

struct Reader {
    source: Source,
}

impl Reader {
    fn at(&self, span: Option<Range<usize>>) -> Place {
        Place {
            file: self.source.path.clone(),
            line: span.map(|s| self.source.line_of(s.start)),
        }
    }

    fn invalid(&self, span: Option<Range<usize>>, message: impl Into<String>) -> NextError {
        NextError::Invalid {
            at: self.at(span),
            message: message.into(),
        }
    }

    /// A required date: `table.key`, where `what` names the table in messages.
    fn date(&self, table: &Table, key: &str, what: &str) -> Result<NaiveDate, NextError> {
        let item = table.get(key).ok_or_else(|| {
            self.invalid(
                table.span(),
                format!("{what} has no `{key}`: add one, like `{key} = 2026-01-20`"),
            )
        })?;
        item.as_datetime().and_then(local_date).ok_or_else(|| {
            self.invalid(
                item.span(),
                format!("`{key}` of {what} must be a date like `{key} = 2026-01-20` (no quotes, no time)"),
            )
        })
    }

    /// An optional string: `Ok(None)` when absent.
    fn string<'t>(&self, table: &'t dyn TableLike, key: &str, what: &str) -> Result<Option<&'t str>, NextError> {
        match table.get(key) {
            None => Ok(None),
            Some(item) => item.as_str().map(Some).ok_or_else(|| {
                self.invalid(
                    item.span(),
                    format!("`{key}` of {what} must be a string, not {}", item.type_name()),
                )
            }),
        }
    }

    /// Dates of the `[[<key>]]` tables of `table`, in order (none when absent).
    fn dates(&self, table: &Table, key: &str, what: &str) -> Result<Vec<NaiveDate>, NextError> {
        let Some(item) = table.get(key) else {
            return Ok(Vec::new());
        };
        let tables = item
            .as_array_of_tables()
            .ok_or_else(|| self.invalid(item.span(), format!("write `{key}` of {what} as `[[…{key}]]` tables")))?;
        tables
            .iter()
            .map(|t| self.date(t, "date", &format!("a `{key}` entry of {what}")))
            .collect()
    }

    fn plan(&self, root: &Table, cadence_days: u32, labels: &DefaultLabels) -> Result<Plan, NextError> {
        let edition = root
            .get("edition")
            .and_then(Item::as_table)
            .ok_or_else(|| self.invalid(None, "there is no `[edition]` table: is this an edition file?"))?;
        let number_item = edition.get("number").ok_or_else(|| {
            self.invalid(
                edition.span(),
                "`[edition] number` is missing: add the edition's number, like `number = 22`",
            )
        })?;
        let number = number_item.as_integer().ok_or_else(|| {
            self.invalid(
                number_item.span(),
                format!(
                    "`[edition] number` must be an integer like `number = 22`, not {}",
                    number_item.type_name()
                ),
            )
        })?;
        // An edition's number is a u32 (see the loader): the next one must be one too.
        let new_number = number
            .checked_add(1)
            .filter(|n| u32::try_from(*n).is_ok_and(|n| n > 1))
            .ok_or_else(|| {
                self.invalid(
                    number_item.span(),
                    format!(
                        "`[edition] number` must be between 1 and {}, not {number}",
                        u32::MAX - 1
                    ),
                )
            })?;
        let date = self.date(edition, "date", "`[edition]`")?;
        // TOML dates end with the year 9999.
        let new_date = date
            .checked_add_days(Days::new(cadence_days.into()))
            .filter(|d| d.year() <= 9999)
            .ok_or_else(|| {
                self.invalid(
                    edition.get("date").and_then(Item::span),
                    "`[edition] date` is too far in the future",
                )
            })?;
        let language = self.string(edition, "language", "`[edition]`")?.ok_or_else(|| {
            self.invalid(
                edition.span(),
                "`[edition] language` is missing: add the language it is written in, like `language = \"en\"`",
            )
        })?;
        // The languages the edition is built in; the loader validates them, here they only say
        // which translations need a label.
        let built: Vec<&str> = edition
            .get("languages")
            .and_then(Item::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();

        let mut plan = Plan {
            number,
            new_number,
            new_date,
            items: Vec::new(),
            carried: Vec::new(),
            dropped: Vec::new(),
            days: Vec::new(),
        };
        if let Some(items) = root.get("items") {
            let items = items
                .as_array_of_tables()
                .ok_or_else(|| self.invalid(items.span(), "write the items as `[[items]]` tables"))?;
            for (i, item) in items.iter().enumerate() {
                let decided = self.item(item, i, new_date, language, &built, labels)?;
                plan.items.push(match decided {
                    Ok((item_plan, carried)) => {
                        plan.carried.push(carried);
                        Some(item_plan)
                    }
                    Err(dropped) => {
                        plan.dropped.push(dropped);
                        None
                    }
                });
            }
        }
        if let Some(days) = root.get("international_days").and_then(Item::as_table) {
            plan.days = self
                .dates(days, "days", "`[international_days]`")?
                .into_iter()
                .map(|d| d >= new_date)
                .collect();
        }
        Ok(plan)
    }

    /// `Ok(Ok(..))` to carry the item over, `Ok(Err(..))` to drop it.
    fn item(
        &self,
        item: &Table,
        index: usize,
        new_date: NaiveDate,
        language: &str,
        built: &[&str],
        labels: &DefaultLabels,
    ) -> Result<Result<(ItemPlan, Carried), Dropped>, NextError> {
        let id = match self.string(item, "id", "an item")? {
            Some(id) => id.to_string(),
            None => format!("#{}", index + 1),
        };
        let what = format!("item `{id}`");
        let deadlines = self.dates(item, "deadlines", &what)?;
        let sessions = self.dates(item, "sessions", &what)?;
        let drop = |reason| Ok(Err(Dropped { id: id.clone(), reason }));
        let Some(last) = deadlines.iter().max().copied() else {
            return drop(DropReason::NoDeadline);
        };
        if last < new_date {
            return drop(DropReason::DeadlinesPast { last });
        }
        if let Some(last) = sessions.iter().max().copied().filter(|last| *last < new_date) {
            return drop(DropReason::SessionsOver { last });
        }

        let main = match self.string(item, "label", &what)? {
            None => MainLabel::Absent,
            Some(t) if t.trim().is_empty() => MainLabel::Empty,
            Some(t) => MainLabel::Text(t.to_string()),
        };
        let default = |lang: &str| -> Result<String, NextError> {
            let kind = self.string(item, "kind", &what)?.unwrap_or("");
            let call_for = self.string(item, "call_for", &what)?.unwrap_or("");
            let key = default_label_key(kind, call_for).ok_or_else(|| {
                self.invalid(
                    item.get("kind").and_then(Item::span).or(item.span()),
                    format!("{what} has no `label` and its kind (`{kind}`, call_for `{call_for}`) has no default label: fix `kind`/`call_for`, or give it a `label`"),
                )
            })?;
            labels
                .get(lang, key)
                .map(str::to_string)
                .ok_or_else(|| NextError::NoLabels {
                    at: self.at(item.span()),
                    item: id.clone(),
                    language: lang.to_string(),
                })
        };
        let reminder = |lang: &str, label: &str| -> Option<String> {
            let word = labels.reminder(lang);
            let upper = label.trim().to_uppercase();
            if upper.starts_with(&word.to_uppercase()) || upper.starts_with("REMINDER") {
                None
            } else {
                Some(format!("{word} + {upper}"))
            }
        };
        let label = match &main {
            MainLabel::Absent => reminder(language, &default(language)?),
            MainLabel::Empty => Some(labels.reminder(language)),
            MainLabel::Text(t) => reminder(language, t),
        };
        let shown = match (&label, &main) {
            (Some(new), _) => new.clone(),
            (None, MainLabel::Text(t)) => t.clone(),
            (None, _) => String::new(),
        };

        // Every language the edition is built in, and any other the item is translated into.
        let translated = item.get("translations").and_then(Item::as_table_like);
        let mut languages: Vec<String> = built.iter().map(|l| l.to_string()).collect();
        if let Some(t) = translated {
            languages.extend(t.iter().map(|(l, _)| l.to_string()));
        }
        languages.retain(|l| l != language);
        languages.sort();
        languages.dedup();
        let mut translations = Vec::new();
        for lang in languages {
            let table = translated.and_then(|t| t.get(&lang)).and_then(Item::as_table_like);
            let existing = match table {
                Some(t) => self.string(t, "label", &format!("the `{lang}` translation of {what}"))?,
                None => None,
            };
            let new = match (existing.filter(|e| !e.trim().is_empty()), &main) {
                (Some(e), _) => reminder(&lang, e),
                (None, MainLabel::Absent) => reminder(&lang, &default(&lang)?),
                (None, MainLabel::Empty) => Some(labels.reminder(&lang)),
                // A custom label with no translation: `check` already asks for one, and a guess
                // in the main language would hide that.
                (None, MainLabel::Text(_)) => None,
            };
            if let Some(new) = new {
                translations.push((lang, new));
            }
        }

        let keep = |dates: &[NaiveDate]| dates.iter().map(|d| *d >= new_date).collect::<Vec<_>>();
        let carried = Carried {
            id,
            label: shown,
            past_deadlines: deadlines.iter().filter(|d| **d < new_date).count(),
            past_sessions: sessions.iter().filter(|d| **d < new_date).count(),
        };
        let plan = ItemPlan {
            deadlines: keep(&deadlines),
            sessions: keep(&sessions),
            label: label.map(|text| LabelChange {
                text,
                was_empty: matches!(main, MainLabel::Empty),
            }),
            translations,
        };
        Ok(Ok((plan, carried)))
    }
}

/// The key of a kind's default label in the label tables (as `ItemKind::label_key`, from the
/// names written in the file).
fn default_label_key(kind: &str, call_for: &str) -> Option<&'static str> {
    Some(match (kind, call_for) {
        ("invitation", _) => "label_invitation",
        ("publication", _) => "label_publication",
        ("call", "partners") => "label_call_partners",
        ("call", "participation") => "label_call_participation",
        ("news", _) => "label_news",
        ("event", _) => "label_event",
        ("information", _) => "label_information",
        _ => return None,
    })
}

/// A TOML local date (no time, no offset) as a chrono date.
fn local_date(d: &Datetime) -> Option<NaiveDate> {
    match d {
        Datetime {
            date: Some(date),
            time: None,
            offset: None,
        } => NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into()),
        _ => None,
    }
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

/// Replaces a value, keeping the whitespace and comments around it.
fn replace(item: &mut Item, new: Value) {
    if let Some(old) = item.as_value_mut() {
        let decor = old.decor().clone();
        *old = new;
        *old.decor_mut() = decor;
    } else {
        *item = Item::Value(new);
    }
}

/// Keeps the `[[key]]` entries of `table` whose flag is set. A comment above the first entry
/// heads the whole list (`# Online regional preparatory meetings.`), so when that entry goes,
/// the comment moves to the first one kept.
fn retain(table: &mut Table, key: &str, keep: &[bool]) {
    let Some(tables) = table.get_mut(key).and_then(Item::as_array_of_tables_mut) else {
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

fn apply(doc: &mut DocumentMut, plan: &Plan) {
    if let Some(edition) = doc.get_mut("edition").and_then(Item::as_table_mut) {
        if let Some(number) = edition.get_mut("number") {
            replace(number, Value::from(plan.new_number));
        }
        if let (Some(date), Some(new)) = (edition.get_mut("date"), toml_date(plan.new_date)) {
            replace(date, Value::from(new));
        }
    }
    if let Some(items) = doc.get_mut("items").and_then(Item::as_array_of_tables_mut) {
        // Back to front, so that removing one does not shift the next.
        for (i, decided) in plan.items.iter().enumerate().rev() {
            match decided {
                None => {
                    items.remove(i);
                }
                Some(p) => {
                    if let Some(item) = items.get_mut(i) {
                        apply_item(item, p);
                    }
                }
            }
        }
    }
    if let Some(days) = doc.get_mut("international_days").and_then(Item::as_table_mut) {
        retain(days, "days", &plan.days);
    }
}

fn apply_item(item: &mut Table, plan: &ItemPlan) {
    retain(item, "deadlines", &plan.deadlines);
    retain(item, "sessions", &plan.sessions);
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
        let translations = item.entry("translations").or_insert_with(|| {
            let mut t = Table::new();
            // No `[items.translations]` header: only its language tables are written.
            t.set_implicit(true);
            Item::Table(t)
        });
        let Some(translations) = translations.as_table_like_mut() else {
            continue;
        };
        if translations.get(lang).is_none() {
            translations.insert(lang, Item::Table(Table::new()));
        }
        let Some(table) = translations.get_mut(lang) else {
            continue;
        };
        // `Item::get_mut` would insert an empty `label` at the end: look through the table.
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
    use crate::render::templates::EMBEDDED_LABELS;

    fn labels() -> DefaultLabels {
        let mut labels = DefaultLabels::new();
        for (code, text) in EMBEDDED_LABELS {
            labels.insert(code, toml::from_str(text).unwrap());
        }
        labels
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
intro = "Old intro, kept for the editor to rewrite."
"#;

    fn next(body: &str) -> Next {
        next_edition(
            &format!("{HEAD}{body}"),
            Path::new("editions/2026-01-info-flash-22.toml"),
            14,
            &labels(),
        )
        .unwrap()
    }

    fn parsed(n: &Next) -> toml::Table {
        toml::from_str(&n.text).unwrap()
    }

    fn item<'a>(doc: &'a toml::Table, id: &str) -> Option<&'a toml::Table> {
        doc["items"]
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
body = "Texte."

[items.translations.es]
title = "Participe en el intercambio"

[[items.deadlines]]
what = "Apply"
date = 2026-01-20

[[items.deadlines]]
what = "Send the report"
date = 2026-03-31
"#;

    #[test]
    fn the_number_goes_up_by_one_and_the_date_moves_on_by_the_cadence() {
        let n = next(CALL);
        assert_eq!((n.number, n.date), (23, d(2026, 1, 27)));
        let doc = parsed(&n);
        assert_eq!(doc["edition"]["number"].as_integer(), Some(23));
        assert_eq!(doc["edition"]["date"].to_string(), "2026-01-27");
        assert!(
            n.text.contains("number = 23  # the number\ndate = 2026-01-27\n"),
            "{}",
            n.text
        );
        assert!(n.text.starts_with("# N°22, a comment that must survive\n"));
        assert!(n
            .text
            .contains("intro = \"Old intro, kept for the editor to rewrite.\""));
    }

    #[test]
    fn the_date_crosses_a_month_end_and_a_year_end() {
        let n = next_edition(
            &format!("{HEAD}{CALL}").replace("2026-01-13", "2025-12-23"),
            Path::new("2025-12-info-flash-22.toml"),
            14,
            &labels(),
        )
        .unwrap();
        assert_eq!(n.date, d(2026, 1, 6));
        assert_eq!(n.path, Path::new("2026-01-info-flash-23.toml"));
        let n = next_edition(&format!("{HEAD}{CALL}"), Path::new("x.toml"), 21, &labels()).unwrap();
        assert_eq!(n.date, d(2026, 2, 3));
    }

    #[test]
    fn an_open_call_is_carried_over_without_its_past_deadlines() {
        let n = next(CALL);
        let doc = parsed(&n);
        let call = item(&doc, "exchange").unwrap();
        let deadlines = call["deadlines"].as_array().unwrap();
        assert_eq!(deadlines.len(), 1);
        assert_eq!(deadlines[0]["what"].as_str(), Some("Send the report"));
        assert_eq!(
            n.carried,
            vec![Carried {
                id: "exchange".into(),
                label: "REMINDER + CALL FOR PARTNERS".into(),
                past_deadlines: 1,
                past_sessions: 0,
            }]
        );
    }

    #[test]
    fn a_default_label_becomes_a_reminder_in_english_french_and_spanish() {
        let doc = parsed(&next(CALL));
        let call = item(&doc, "exchange").unwrap();
        assert_eq!(label(call, None), Some("REMINDER + CALL FOR PARTNERS"));
        assert_eq!(label(call, Some("fr")), Some("RAPPEL + APPEL À PARTENAIRES"));
        assert_eq!(label(call, Some("es")), Some("RECORDATORIO + CONVOCATORIA DE SOCIOS"));
    }

    #[test]
    fn a_new_label_is_written_after_call_for_and_a_translated_one_after_the_title() {
        let n = next(CALL);
        assert!(
            n.text
                .contains("call_for = \"partners\"\nlabel = \"REMINDER + CALL FOR PARTNERS\"\ntitle ="),
            "{}",
            n.text
        );
        assert!(
            n.text
                .contains("[items.translations.fr]\ntitle = \"Participez à l’échange\"\nlabel = \"RAPPEL + APPEL À PARTENAIRES\"\nbody ="),
            "{}",
            n.text
        );
    }

    #[test]
    fn a_written_label_is_put_in_capitals_after_the_reminder_word() {
        let body = CALL
            .replace(
                "title = \"Join the exchange\"",
                "label = \"Call for schools\"\ntitle = \"Join the exchange\"",
            )
            .replace(
                "title = \"Participez à l’échange\"",
                "title = \"x\"\nlabel = \"Appel aux écoles\"",
            );
        let doc = parsed(&next(&body));
        let call = item(&doc, "exchange").unwrap();
        assert_eq!(label(call, None), Some("REMINDER + CALL FOR SCHOOLS"));
        assert_eq!(label(call, Some("fr")), Some("RAPPEL + APPEL AUX ÉCOLES"));
        // No Spanish label was written: `check` asks for it; no guess hides that.
        assert_eq!(label(call, Some("es")), None);
    }

    #[test]
    fn a_label_that_already_is_a_reminder_stays_as_it_is() {
        let body = CALL
            .replace(
                "title = \"Join the exchange\"",
                "label = \"REMINDER + CALL FOR PARTNERS\"\ntitle = \"Join the exchange\"",
            )
            .replace(
                "title = \"Participez à l’échange\"",
                "title = \"x\"\nlabel = \"RAPPEL + APPEL À PARTENAIRES\"",
            )
            .replace(
                "title = \"Participe en el intercambio\"",
                "title = \"y\"\nlabel = \"RECORDATORIO + CONVOCATORIA DE SOCIOS\"",
            );
        let n = next(&body);
        let doc = parsed(&n);
        let call = item(&doc, "exchange").unwrap();
        assert_eq!(label(call, None), Some("REMINDER + CALL FOR PARTNERS"));
        assert_eq!(label(call, Some("fr")), Some("RAPPEL + APPEL À PARTENAIRES"));
        assert_eq!(label(call, Some("es")), Some("RECORDATORIO + CONVOCATORIA DE SOCIOS"));
        assert_eq!(n.text.matches("REMINDER").count(), 1);
    }

    #[test]
    fn an_empty_label_becomes_the_bare_reminder_word_and_loses_its_comment() {
        let body = CALL.replace(
            "title = \"Join the exchange\"",
            "label = \"\"  # no label on this one\ntitle = \"Join the exchange\"",
        );
        let n = next(&body);
        let doc = parsed(&n);
        let call = item(&doc, "exchange").unwrap();
        assert_eq!(label(call, None), Some("REMINDER"));
        assert_eq!(label(call, Some("fr")), Some("RAPPEL"));
        assert_eq!(label(call, Some("es")), Some("RECORDATORIO"));
        assert!(!n.text.contains("no label on this one"), "{}", n.text);
    }

    #[test]
    fn a_missing_translation_table_is_created_for_a_built_language() {
        let body = CALL.replace("[items.translations.es]\ntitle = \"Participe en el intercambio\"\n", "");
        let n = next(&body);
        let doc = parsed(&n);
        let call = item(&doc, "exchange").unwrap();
        assert_eq!(label(call, Some("es")), Some("RECORDATORIO + CONVOCATORIA DE SOCIOS"));
        assert!(n.text.contains("[items.translations.es]\nlabel ="), "{}", n.text);
        assert!(!n.text.contains("[items.translations]\n"), "{}", n.text);
    }

    #[test]
    fn inline_translations_get_their_label_inline() {
        let body = CALL
            .replace("[items.translations.fr]\ntitle = \"Participez à l’échange\"\n", "")
            .replace(
                "[items.translations.es]\ntitle = \"Participe en el intercambio\"\n",
                "",
            )
            .replace(
                "title = \"Join the exchange\"",
                "title = \"Join the exchange\"\ntranslations.fr = { title = \"a\" }\ntranslations.es = { title = \"b\" }",
            );
        let n = next(&body);
        let doc = parsed(&n);
        let call = item(&doc, "exchange").unwrap();
        assert_eq!(label(call, Some("fr")), Some("RAPPEL + APPEL À PARTENAIRES"));
        assert_eq!(label(call, Some("es")), Some("RECORDATORIO + CONVOCATORIA DE SOCIOS"));
    }

    #[test]
    fn items_without_deadlines_or_with_every_deadline_past_are_dropped() {
        let body = format!(
            "{CALL}\n[[items]]\nid = \"news\"\nkind = \"news\"\ntitle = \"News\"\n\n\
             [[items]]\nid = \"closed\"\nkind = \"call\"\ncall_for = \"participation\"\ntitle = \"Closed\"\n\
             [[items.deadlines]]\nwhat = \"Apply\"\ndate = 2026-01-26\n"
        );
        let n = next(&body);
        assert_eq!(
            n.dropped,
            vec![
                Dropped {
                    id: "news".into(),
                    reason: DropReason::NoDeadline
                },
                Dropped {
                    id: "closed".into(),
                    reason: DropReason::DeadlinesPast { last: d(2026, 1, 26) }
                },
            ]
        );
        let doc = parsed(&n);
        assert_eq!(doc["items"].as_array().unwrap().len(), 1);
        assert!(item(&doc, "news").is_none() && item(&doc, "closed").is_none());
    }

    #[test]
    fn a_deadline_on_the_new_date_is_still_open() {
        let n = next(&CALL.replace("2026-03-31", "2026-01-27"));
        assert_eq!(n.carried.len(), 1);
    }

    const INVITATION: &str = r#"
[[items]]
id = "webinar"
kind = "invitation"
title = "Webinar"

# The sessions, one per language.
[[items.sessions]]
language = "en"
date = 2026-01-20

[[items.sessions]]
language = "fr"
date = 2026-02-03

[[items.deadlines]]
what = "Register"
date = 2026-02-01
"#;

    #[test]
    fn an_invitation_keeps_its_sessions_still_to_come() {
        let n = next(INVITATION);
        let doc = parsed(&n);
        let webinar = item(&doc, "webinar").unwrap();
        let sessions = webinar["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["language"].as_str(), Some("fr"));
        assert_eq!(label(webinar, None), Some("REMINDER + INVITATION"));
        assert_eq!(label(webinar, Some("es")), Some("RECORDATORIO + INVITACIÓN"));
        assert_eq!(n.carried[0].past_sessions, 1);
        assert!(
            n.text
                .contains("# The sessions, one per language.\n[[items.sessions]]\nlanguage = \"fr\""),
            "{}",
            n.text
        );
    }

    #[test]
    fn an_invitation_whose_sessions_are_all_over_is_dropped_even_with_an_open_deadline() {
        let n = next(&INVITATION.replace("2026-02-03", "2026-01-21"));
        assert_eq!(
            n.dropped,
            vec![Dropped {
                id: "webinar".into(),
                reason: DropReason::SessionsOver { last: d(2026, 1, 21) }
            }]
        );
        assert!(parsed(&n).get("items").is_none());
    }

    #[test]
    fn past_international_days_are_dropped_and_the_rest_of_the_block_kept() {
        let body = format!(
            "{CALL}\n[international_days]\ntitle = \"Next days\"\n\n\
             [[international_days.days]]\ndate = 2026-01-24\nname = \"Past\"\nlink = \"https://example.org/a\"\n\n\
             [[international_days.days]]\ndate = 2026-01-27\nname = \"Today\"\nlink = \"https://example.org/b\"\n"
        );
        let n = next(&body);
        assert_eq!(n.past_days, 1);
        let doc = parsed(&n);
        let days = doc["international_days"]["days"].as_array().unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0]["name"].as_str(), Some("Today"));
        assert_eq!(doc["international_days"]["title"].as_str(), Some("Next days"));
    }

    #[test]
    fn the_file_name_takes_the_new_month_and_number() {
        let name = |p: &str, n: i64, date: NaiveDate| next_file_name(Path::new(p), n, n + 1, date);
        assert_eq!(
            name("editions/2026-01-info-flash-22.toml", 22, d(2026, 1, 27)),
            "2026-01-info-flash-23.toml"
        );
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
        assert_eq!(name("22.toml", 22, d(2026, 1, 27)), "23.toml");
    }

    #[test]
    fn the_new_file_sits_beside_the_old_one() {
        assert_eq!(next(CALL).path, Path::new("editions/2026-01-info-flash-23.toml"));
    }

    fn error(text: &str) -> String {
        next_edition(text, Path::new("editions/x-1.toml"), 14, &labels())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_missing_or_mistyped_number_is_an_error_at_its_line() {
        let e = error(&HEAD.replace("number = 22  # the number\n", ""));
        assert!(
            e.starts_with("editions/x-1.toml:2: `[edition] number` is missing"),
            "{e}"
        );
        let e = error(&HEAD.replace("number = 22", "number = \"22\""));
        assert!(
            e.starts_with("editions/x-1.toml:4: `[edition] number` must be an integer"),
            "{e}"
        );
    }

    #[test]
    fn a_date_with_a_time_is_an_error_that_says_how_to_write_it() {
        let e = error(&HEAD.replace("date = 2026-01-13", "date = 2026-01-13T10:00:00"));
        assert!(
            e.starts_with("editions/x-1.toml:5: `date` of `[edition]` must be a date like"),
            "{e}"
        );
        let e = error(&format!(
            "{HEAD}{}",
            CALL.replace("date = 2026-01-20", "date = \"soon\"")
        ));
        assert!(
            e.contains("`date` of a `deadlines` entry of item `exchange` must be a date"),
            "{e}"
        );
    }

    #[test]
    fn invalid_toml_is_reported_with_its_line() {
        let e = error(&format!("{HEAD}\n[[items]\n"));
        assert!(e.starts_with("editions/x-1.toml:11: not valid TOML"), "{e}");
    }

    #[test]
    fn a_language_without_label_table_is_named() {
        let mut only_en = DefaultLabels::new();
        only_en.insert("en", toml::from_str(EMBEDDED_LABELS[0].1).unwrap());
        let e = next_edition(&format!("{HEAD}{CALL}"), Path::new("x-22.toml"), 14, &only_en)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no default label exists in `es`"), "{e}");
    }
}
