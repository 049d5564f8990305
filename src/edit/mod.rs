//! Editing an edition file (or an office's overlay file) field by field: what the browser
//! editor (`serve --edit`) shows and writes, with no HTTP in it.
//!
//! A form is a flat list of fields named by their path in the document (`edition.subject`,
//! `items.3.sessions.1.start`, `items.3.translations.fr.body`), grouped in [`Section`]s, plus
//! structural [`Action`]s (add, remove and move items; add and remove sessions, deadlines,
//! links, contacts, event rows and listed days). [`apply`] takes the draft's text and the
//! submitted values, sets only the values that differ (with `toml_edit`, keeping each value's
//! comments and spacing) and applies the action; items move as blocks of text
//! ([`blocks`]), so the rest of the file stays byte for byte as written. An unchanged form
//! gives back the same text; one changed title changes one line.
//!
//! [`save`] writes a draft only when the file on disk is still the one the form was loaded
//! from (its [`hash`]) and the draft loads without errors, atomically (a temporary file
//! renamed over it). [`Form::place`] maps a diagnostic's line to the field (or section) it
//! concerns.
//!
//! Owns these rules. Validation is the loader's and `check`'s; it must not render, and never
//! writes anything but the one file it saves (nothing under `recipients/` or `state/`).

pub mod blocks;
mod files;
mod form;

use std::path::Path;

pub use files::{list, start_next, EditFile};
pub use form::{languages_of, Field, Form, Section, Shape};

use toml_edit::{DocumentMut, Item, Value};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("the draft is not valid TOML: {0}")]
    Syntax(String),
    #[error("the items are written inline (`items = [ … ]`): edit this file in a text editor")]
    Inline,
    #[error("there is no item {0}")]
    NoSuchItem(usize),
    #[error("`{0}` is not a field or table of this file")]
    NoSuchPath(String),
    #[error("unknown action `{0}`")]
    UnknownAction(String),
}

/// An edition file, or an office's overlay beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Edition,
    Overlay,
}

/// The item kinds a form can add.
pub const KINDS: [&str; 7] = [
    "invitation",
    "publication",
    "call",
    "news",
    "event",
    "events",
    "information",
];

/// A structural change to the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Only the values.
    Update,
    AddItem(String),
    RemoveItem(usize),
    MoveItem {
        from: usize,
        to: usize,
    },
    /// A new entry in the array of tables at this path (`items.3.sessions`).
    AddEntry(String),
    /// The entry at this path (`items.3.sessions.1`).
    RemoveEntry(String),
}

impl std::str::FromStr for Action {
    type Err = EditError;

    /// `update`, `add-item:call`, `remove-item:3`, `up:3`, `down:3`, `add:items.3.sessions`,
    /// `remove:items.3.sessions.1` (the values of the form's buttons), `move:3:0` (the
    /// script's drag and drop).
    fn from_str(s: &str) -> Result<Action, EditError> {
        let bad = || EditError::UnknownAction(s.to_string());
        let index = |n: &str| n.parse::<usize>().map_err(|_| bad());
        Ok(match s.split_once(':') {
            None if s == "update" || s == "save" => Action::Update,
            Some(("add-item", kind)) if KINDS.contains(&kind) => Action::AddItem(kind.to_string()),
            Some(("remove-item", n)) => Action::RemoveItem(index(n)?),
            Some(("up", n)) => {
                let n = index(n)?;
                Action::MoveItem {
                    from: n,
                    to: n.checked_sub(1).ok_or_else(bad)?,
                }
            }
            Some(("move", fromto)) => {
                let (from, to) = fromto.split_once(':').ok_or_else(bad)?;
                Action::MoveItem {
                    from: index(from)?,
                    to: index(to)?,
                }
            }
            Some(("down", n)) => {
                let n = index(n)?;
                Action::MoveItem {
                    from: n,
                    to: n.checked_add(1).ok_or_else(bad)?,
                }
            }
            Some(("add", path)) if form::child_schema(path).is_some() => Action::AddEntry(path.to_string()),
            Some(("remove", path)) if path.rsplit_once('.').is_some_and(|(_, n)| n.parse::<usize>().is_ok()) => {
                Action::RemoveEntry(path.to_string())
            }
            _ => return Err(bad()),
        })
    }
}

/// The hash a form carries of the file it was loaded from (SHA-256, hex).
pub fn hash(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The segments of a path: numbers index arrays, the rest are keys.
fn segments(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

fn child<'a>(item: &'a Item, segment: &str) -> Option<&'a Item> {
    match segment.parse::<usize>() {
        Ok(n) => item.get(n),
        Err(_) => item.get(segment),
    }
}

fn child_mut<'a>(item: &'a mut Item, segment: &str) -> Option<&'a mut Item> {
    match segment.parse::<usize>() {
        Ok(n) => item.get_mut(n),
        Err(_) => item.get_mut(segment),
    }
}

/// The item at `path`, if the document has it.
pub(crate) fn lookup<'a>(root: &'a Item, path: &str) -> Option<&'a Item> {
    segments(path).into_iter().try_fold(root, child)
}

/// A value as the form shows it: strings as they are, lists joined by commas, the rest as TOML
/// writes them.
pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.value().clone(),
        Value::Integer(i) => i.value().to_string(),
        Value::Float(f) => f.value().to_string(),
        Value::Boolean(b) => b.value().to_string(),
        Value::Datetime(d) => d.value().to_string(),
        Value::Array(a) => a.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::InlineTable(_) => String::new(),
    }
}

/// Keys kept as `""` when emptied, since a missing one means something else (a required key,
/// or `label = ""`, which hides the label); any other emptied key is removed.
const KEEP_EMPTY: [&str; 8] = ["id", "title", "series", "what", "text", "url", "email", "label"];

/// The value typed for a key of this shape: a date, number, flag or list when it reads as
/// one, else a string, which the loader then reports at its line with the words it uses for
/// any file.
fn typed(shape: Shape, text: &str) -> Value {
    let trimmed = text.trim();
    match shape {
        Shape::Date => {
            if let Ok(d) = trimmed.parse::<toml_edit::Datetime>() {
                return Value::from(d);
            }
        }
        Shape::Number => {
            if let Ok(n) = trimmed.parse::<i64>() {
                return Value::from(n);
            }
        }
        Shape::Bool if trimmed == "true" || trimmed == "false" => return Value::from(trimmed == "true"),
        Shape::List | Shape::Languages | Shape::Regions => {
            let mut array = toml_edit::Array::new();
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                array.push(part);
            }
            return Value::Array(array);
        }
        _ => {}
    }
    string_value(text)
}

/// A string as TOML: text with line breaks as a `'''` literal when it can be one (the way
/// Markdown is written by hand), else as `toml_edit` writes it.
fn string_value(text: &str) -> Value {
    let literal_ok = !text.contains("'''") && !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    if text.contains('\n') && literal_ok {
        if let Ok(v) = format!("'''\n{text}'''").parse::<Value>() {
            if v.as_str() == Some(text) {
                return v;
            }
        }
    }
    Value::from(text)
}

/// Sets `path` to `text` in `doc` when it differs from what is there; returns whether it
/// changed anything.
fn set(doc: &mut DocumentMut, path: &str, text: &str) -> Result<bool, EditError> {
    let segs = segments(path);
    let (key, parents) = segs.split_last().ok_or_else(|| EditError::NoSuchPath(path.into()))?;
    let shape = form::shape(key);
    let existing = lookup(doc.as_item(), path).and_then(Item::as_value).map(display);
    // A textarea sends CRLF line breaks; the file's strings have what TOML read (a value that
    // holds a CRLF itself is unchanged when it comes back as it is).
    let raw = text;
    let text = &text.replace("\r\n", "\n");
    let empty = text.trim().is_empty();
    match existing {
        Some(old) if old == *text || old == raw => Ok(false),
        Some(_) if empty && !KEEP_EMPTY.contains(key) => {
            let parent = segments_mut(doc.as_item_mut(), parents).ok_or_else(|| EditError::NoSuchPath(path.into()))?;
            if let Some(t) = parent.as_table_like_mut() {
                t.remove(key);
            }
            Ok(true)
        }
        Some(_) => {
            let item = segments_mut(doc.as_item_mut(), &segs).ok_or_else(|| EditError::NoSuchPath(path.into()))?;
            let mut value = typed(shape, text);
            if let Some(old) = item.as_value() {
                *value.decor_mut() = old.decor().clone();
            }
            *item = Item::Value(value);
            Ok(true)
        }
        None if empty => Ok(false),
        None => {
            if lookup(doc.as_item(), path).is_some() {
                // A table where the form has a field: nothing to set.
                return Err(EditError::NoSuchPath(path.into()));
            }
            create(doc.as_item_mut(), parents, key, typed(shape, text))
                .ok_or_else(|| EditError::NoSuchPath(path.into()))?;
            Ok(true)
        }
    }
}

fn segments_mut<'a>(root: &'a mut Item, segs: &[&str]) -> Option<&'a mut Item> {
    segs.iter().try_fold(root, |item, s| child_mut(item, s))
}

/// Adds `key = value` under `parents`, making the tables that are missing: a table of its own
/// (`[items.translations.fr]`) under a table, an inline table inside an inline one.
fn create(root: &mut Item, parents: &[&str], key: &str, value: Value) -> Option<()> {
    let mut item = root;
    for (i, seg) in parents.iter().enumerate() {
        let missing = child(item, seg).is_none();
        if missing {
            let last = i + 1 == parents.len();
            let new = if item.is_table() {
                let mut t = toml_edit::Table::new();
                t.set_implicit(!last);
                Item::Table(t)
            } else {
                Item::Value(Value::InlineTable(toml_edit::InlineTable::new()))
            };
            item.as_table_like_mut()?.insert(seg, new);
        }
        item = child_mut(item, seg)?;
    }
    let table = item.as_table_like_mut()?;
    table.insert(key, Item::Value(value));
    Some(())
}

/// The draft `text` with the submitted `values` (field path → text as typed) set where they
/// differ, then `action` applied. Text with nothing to change comes back as it was.
pub fn apply(text: &str, values: &[(String, String)], action: &Action) -> Result<String, EditError> {
    edit(text, values, action).map(|edited| crate::edition::keep_file_form(text, edited))
}

fn edit(text: &str, values: &[(String, String)], action: &Action) -> Result<String, EditError> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| EditError::Syntax(e.to_string()))?;
    let mut changed = false;
    for (path, value) in values {
        changed |= set(&mut doc, path, value)?;
    }
    let mut text = if changed { doc.to_string() } else { text.to_string() };
    match action {
        Action::Update => {}
        Action::AddItem(kind) => text = blocks::add_item(&text, &form::new_item(&text, kind))?,
        Action::RemoveItem(n) => text = blocks::remove_item(&text, *n)?,
        Action::MoveItem { from, to } => text = blocks::move_item(&text, *from, *to)?,
        Action::AddEntry(path) => {
            let mut doc: DocumentMut = text
                .parse()
                .map_err(|e: toml_edit::TomlError| EditError::Syntax(e.to_string()))?;
            let date = form::edition_date(&doc);
            let (parents, key) = path
                .rsplit_once('.')
                .ok_or_else(|| EditError::NoSuchPath(path.clone()))?;
            let schema = form::child_schema(path).ok_or_else(|| EditError::NoSuchPath(path.clone()))?;
            let parent = segments_mut(doc.as_item_mut(), &segments(parents))
                .and_then(Item::as_table_mut)
                .ok_or_else(|| EditError::NoSuchPath(path.clone()))?;
            let entry = form::new_entry(schema, date.as_deref());
            match parent.get_mut(key) {
                Some(Item::ArrayOfTables(a)) => a.push(entry),
                // Written inline, the new entry is inline too.
                Some(Item::Value(Value::Array(a))) => a.push(entry.into_inline_table()),
                Some(_) => return Err(EditError::NoSuchPath(path.clone())),
                None => {
                    let mut a = toml_edit::ArrayOfTables::new();
                    a.push(entry);
                    parent.insert(key, Item::ArrayOfTables(a));
                }
            }
            text = doc.to_string();
        }
        Action::RemoveEntry(path) => {
            let mut doc: DocumentMut = text
                .parse()
                .map_err(|e: toml_edit::TomlError| EditError::Syntax(e.to_string()))?;
            let (parents, n) = path
                .rsplit_once('.')
                .ok_or_else(|| EditError::NoSuchPath(path.clone()))?;
            let n: usize = n.parse().map_err(|_| EditError::NoSuchPath(path.clone()))?;
            match segments_mut(doc.as_item_mut(), &segments(parents)) {
                Some(Item::ArrayOfTables(a)) if n < a.len() => {
                    a.remove(n);
                }
                Some(Item::Value(Value::Array(a))) if n < a.len() => {
                    a.remove(n);
                }
                _ => return Err(EditError::NoSuchPath(path.clone())),
            }
            text = doc.to_string();
        }
    }
    Ok(text)
}

/// Why a draft was not saved.
#[derive(Debug)]
pub enum SaveRefused {
    /// The file on disk is no longer the one the form was loaded from: `on_disk` is its text now.
    Conflict { on_disk: String },
    /// The draft does not load: the loader's report (errors at the draft's lines).
    Invalid(crate::diagnostics::Report),
    /// The file cannot be read or written.
    Io(String),
}

/// Writes `draft` to `path` if the file there still has hash `base` and `validate` (the
/// loader, for an edition or an overlay) accepts the draft; atomically, by a temporary file
/// beside it renamed over it. A draft equal to the file is not written at all.
pub fn save(
    path: &Path,
    base: &str,
    draft: &str,
    validate: impl FnOnce(&str) -> Result<(), crate::diagnostics::Report>,
) -> Result<(), SaveRefused> {
    // One save at a time, from the hash check to the rename: two saves from the same form
    // (two tabs, a double click) would both pass the check, and the second would silently
    // replace the first instead of being refused as a conflict.
    static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SAVING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let on_disk = std::fs::read_to_string(path).map_err(|e| SaveRefused::Io(format!("{}: {e}", path.display())))?;
    if hash(&on_disk) != base {
        return Err(SaveRefused::Conflict { on_disk });
    }
    validate(draft).map_err(SaveRefused::Invalid)?;
    if on_disk == draft {
        return Ok(());
    }
    crate::state::write_atomically(path, draft.as_bytes())
        .map_err(|e| SaveRefused::Io(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../editions/2026-01-info-flash-22.toml");

    fn unchanged_values(text: &str) -> Vec<(String, String)> {
        let (main, languages) = languages_of(text);
        Form::build(text, FileKind::Edition, &main, &languages)
            .unwrap()
            .fields()
            .map(|f| (f.path.clone(), f.value.clone()))
            .collect()
    }

    #[test]
    fn an_action_out_of_range_is_refused_not_a_panic() {
        assert!("down:18446744073709551615".parse::<Action>().is_err());
        assert!("up:0".parse::<Action>().is_err());
        assert!("move:1".parse::<Action>().is_err());
        // In range of usize but not of the items: the edit says so.
        let moved = apply(SAMPLE, &[], &"down:99".parse().unwrap());
        assert!(moved.is_err(), "{moved:?}");
        let removed = apply(SAMPLE, &[], &"remove-item:99".parse().unwrap());
        assert!(removed.is_err(), "{removed:?}");
    }

    #[test]
    fn of_two_saves_from_the_same_form_at_once_one_is_written_and_the_other_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.toml");
        std::fs::write(&path, "a = 1\n").unwrap();
        let base = hash("a = 1\n");
        let outcomes: Vec<Result<(), SaveRefused>> = std::thread::scope(|scope| {
            let saves: Vec<_> = ["a = 2\n", "a = 3\n"]
                .into_iter()
                .map(|draft| {
                    let (path, base) = (&path, &base);
                    scope.spawn(move || {
                        save(path, base, draft, |_| {
                            // Both have read the file by now, were they not one at a time.
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            Ok(())
                        })
                    })
                })
                .collect();
            saves.into_iter().map(|s| s.join().unwrap()).collect()
        });
        let written = outcomes.iter().filter(|o| o.is_ok()).count();
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Err(SaveRefused::Conflict { .. })))
            .count();
        assert_eq!((written, refused), (1, 1), "{outcomes:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["e.toml"], "a temporary file was left");
    }

    #[test]
    fn an_unchanged_form_gives_back_the_same_bytes() {
        let values = unchanged_values(SAMPLE);
        assert!(values.len() > 100, "{}", values.len());
        assert_eq!(apply(SAMPLE, &values, &Action::Update).unwrap(), SAMPLE);
    }

    #[test]
    fn one_changed_title_changes_one_line() {
        let mut values = unchanged_values(SAMPLE);
        let title = values.iter_mut().find(|(p, _)| p == "items.1.title").unwrap();
        title.1 = "A new title".into();
        let out = apply(SAMPLE, &values, &Action::Update).unwrap();
        let changed: Vec<(&str, &str)> = SAMPLE.lines().zip(out.lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0].1, "title = \"A new title\"");
        assert_eq!(SAMPLE.lines().count(), out.lines().count());
    }

    #[test]
    fn markdown_with_line_breaks_is_written_as_a_literal_and_read_back_the_same() {
        let text = "[edition]\nintro = \"x\" # kept\n";
        let out = apply(
            text,
            &[("edition.intro".into(), "- a\r\n- b\r\n".into())],
            &Action::Update,
        )
        .unwrap();
        assert_eq!(out, "[edition]\nintro = '''\n- a\n- b\n''' # kept\n");
    }

    #[test]
    fn a_translation_field_makes_its_table_and_an_emptied_optional_key_goes() {
        let text = "[[items]]\nid = \"a\"\nplace = \"Paris\"\ntitle = \"t\"\n";
        let out = apply(
            text,
            &[
                ("items.0.translations.fr.title".into(), "titre".into()),
                ("items.0.place".into(), "".into()),
                ("items.0.title".into(), "".into()),
            ],
            &Action::Update,
        )
        .unwrap();
        assert_eq!(
            out,
            "[[items]]\nid = \"a\"\ntitle = \"\"\n\n[items.translations.fr]\ntitle = \"titre\"\n"
        );
    }

    #[test]
    fn a_session_is_added_after_the_others_and_removed_by_its_path() {
        let text = "[edition]\ndate = 2026-01-13\n\n[[items]]\nid = \"a\"\n[[items.sessions]]\ndate = 2026-01-20\n\n[items.translations.fr]\ntitle = \"t\"\n";
        let out = apply(text, &[], &"add:items.0.sessions".parse().unwrap()).unwrap();
        assert!(
            out.contains("date = 2026-01-20\n\n[[items.sessions]]\ndate = 2026-01-13\n\n[items.translations.fr]"),
            "{out}"
        );
        let back = apply(&out, &[], &"remove:items.0.sessions.1".parse().unwrap()).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn a_time_that_is_not_a_date_stays_a_string_for_the_loader_to_name() {
        let text = "[[items]]\n[[items.sessions]]\ndate = 2026-01-20\nstart = \"10:00\"\n";
        let out = apply(
            text,
            &[
                ("items.0.sessions.0.start".into(), "4 pm".into()),
                ("items.0.sessions.0.date".into(), "tomorrow".into()),
            ],
            &Action::Update,
        )
        .unwrap();
        assert!(
            out.contains("start = \"4 pm\"") && out.contains("date = \"tomorrow\""),
            "{out}"
        );
    }

    #[test]
    fn a_save_refuses_a_file_changed_since_and_a_draft_that_does_not_load() {
        let dir = std::env::temp_dir().join(format!("infoflash-edit-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.toml");
        std::fs::write(&path, "a = 1\n").unwrap();
        let base = hash("a = 1\n");
        assert!(save(&path, &base, "a = 2\n", |_| Ok(())).is_ok());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        let conflict = save(&path, &base, "a = 3\n", |_| Ok(()));
        assert!(matches!(conflict, Err(SaveRefused::Conflict { on_disk }) if on_disk == "a = 2\n"));
        let invalid = save(&path, &hash("a = 2\n"), "a = 4\n", |_| {
            Err(crate::diagnostics::Report::new())
        });
        assert!(matches!(invalid, Err(SaveRefused::Invalid(_))));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "a temporary file was left");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
