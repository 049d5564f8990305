//! The form of a file: which fields each table has (per item kind), read from the document
//! with the lines each value spans, so that a diagnostic's line finds its field.
//!
//! Owns the editor's schema of the edition format (docs/edition-format.md); the loader stays
//! the judge of what is valid: a field shown here is only a place to type.

use toml_edit::Item;

use super::{display, lookup, FileKind};

/// What a field holds, which decides how it is typed and how the form shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Text,
    Markdown,
    Date,
    /// `HH:MM`, a string in the file.
    Time,
    Zone,
    Language,
    Languages,
    Regions,
    Region,
    Number,
    Bool,
    Kind,
    CallFor,
    /// Strings separated by commas (`hide`).
    List,
    Url,
    Email,
}

/// The shape of a key, wherever it is: the format uses each key name for one kind of value.
pub fn shape(key: &str) -> Shape {
    match key {
        "date" | "starts" | "ends" => Shape::Date,
        "start" | "end" => Shape::Time,
        "time_zone" => Shape::Zone,
        "language" => Shape::Language,
        "languages" | "also_in" => Shape::Languages,
        "regions" => Shape::Regions,
        "region" => Shape::Region,
        "number" | "weeks" => Shape::Number,
        "required" => Shape::Bool,
        "body" | "intro" | "eligibility" | "note" | "closing" => Shape::Markdown,
        "kind" => Shape::Kind,
        "call_for" => Shape::CallFor,
        "hide" => Shape::List,
        "link" | "url" | "title_link" | "image" => Shape::Url,
        "email" => Shape::Email,
        _ => Shape::Text,
    }
}

/// A key of a table, shown for these item kinds only (all when empty).
struct Key(&'static str, &'static [&'static str]);

const ALL: &[&str] = &[];
const TIMED: &[&str] = &["event", "invitation"];
const CALL: &[&str] = &["call"];

enum Translated {
    No,
    /// `translations.<language>.<key>`
    Keys(&'static [Key]),
    /// `translations.<language> = "…"` (deadlines and links).
    Text,
}

pub(crate) struct Schema {
    /// What one entry is called ("session").
    noun: &'static str,
    keys: &'static [Key],
    translated: Translated,
    /// Arrays of tables inside: key, schema, the item kinds that have them.
    children: &'static [(&'static str, &'static Schema, &'static [&'static str])],
    /// The keys a new entry starts with (`date` is the edition's date).
    seed: &'static [&'static str],
}

static EDITION: Schema = Schema {
    noun: "edition",
    keys: &[
        Key("series", ALL),
        Key("number", ALL),
        Key("date", ALL),
        Key("language", ALL),
        Key("languages", ALL),
        Key("time_zone", ALL),
        Key("subject", ALL),
        Key("subtitle", ALL),
        Key("greeting", ALL),
        Key("intro", ALL),
        Key("closing", ALL),
    ],
    translated: Translated::Keys(&[
        Key("series", ALL),
        Key("subject", ALL),
        Key("subtitle", ALL),
        Key("greeting", ALL),
        Key("intro", ALL),
        Key("closing", ALL),
    ]),
    children: &[],
    seed: &[],
};

static OFFICE: Schema = Schema {
    noun: "office",
    keys: &[Key("language", ALL), Key("greeting", ALL), Key("intro", ALL)],
    translated: Translated::Keys(&[Key("greeting", ALL), Key("intro", ALL)]),
    children: &[],
    seed: &[],
};

static ITEM: Schema = Schema {
    noun: "item",
    keys: &[
        Key("id", ALL),
        Key("kind", ALL),
        Key("call_for", CALL),
        Key("label", ALL),
        Key("title", ALL),
        Key("title_link", ALL),
        Key("regions", ALL),
        Key("starts", TIMED),
        Key("ends", TIMED),
        Key("place", TIMED),
        Key("eligibility", CALL),
        Key("body", ALL),
    ],
    translated: Translated::Keys(&[
        Key("label", ALL),
        Key("title", ALL),
        Key("place", TIMED),
        Key("eligibility", CALL),
        Key("body", ALL),
    ]),
    children: &[
        ("sessions", &SESSION, TIMED),
        ("events", &EVENT, &["events"]),
        ("deadlines", &DEADLINE, ALL),
        ("links", &LINK, ALL),
        ("contacts", &CONTACT, ALL),
    ],
    seed: &[],
};

static SESSION: Schema = Schema {
    noun: "session",
    keys: &[
        Key("name", ALL),
        Key("language", ALL),
        Key("also_in", ALL),
        Key("region", ALL),
        Key("date", ALL),
        Key("start", ALL),
        Key("end", ALL),
        Key("time_zone", ALL),
        Key("link", ALL),
        Key("link_text", ALL),
        Key("note", ALL),
    ],
    translated: Translated::Keys(&[Key("name", ALL), Key("link_text", ALL), Key("note", ALL)]),
    children: &[],
    seed: &["date"],
};

static EVENT: Schema = Schema {
    noun: "event",
    keys: &[
        Key("title", ALL),
        Key("date", ALL),
        Key("starts", ALL),
        Key("ends", ALL),
        Key("start", ALL),
        Key("end", ALL),
        Key("time_zone", ALL),
        Key("place", ALL),
        Key("link", ALL),
        Key("region", ALL),
    ],
    translated: Translated::Keys(&[Key("title", ALL), Key("place", ALL)]),
    children: &[],
    seed: &["title", "date"],
};

static DEADLINE: Schema = Schema {
    noun: "deadline",
    keys: &[Key("what", ALL), Key("date", ALL)],
    translated: Translated::Text,
    children: &[],
    seed: &["what", "date"],
};

static LINK: Schema = Schema {
    noun: "link",
    keys: &[Key("text", ALL), Key("url", ALL)],
    translated: Translated::Text,
    children: &[],
    seed: &["text", "url"],
};

static CONTACT: Schema = Schema {
    noun: "contact",
    keys: &[Key("name", ALL), Key("email", ALL)],
    translated: Translated::No,
    children: &[],
    seed: &["email"],
};

static DAYS: Schema = Schema {
    noun: "international days",
    keys: &[
        Key("weeks", ALL),
        Key("hide", ALL),
        Key("title", ALL),
        Key("label", ALL),
        Key("intro", ALL),
    ],
    translated: Translated::Keys(&[Key("title", ALL), Key("label", ALL), Key("intro", ALL)]),
    children: &[("days", &DAY, ALL)],
    seed: &[],
};

static DAY: Schema = Schema {
    noun: "day",
    keys: &[
        Key("date", ALL),
        Key("name", ALL),
        Key("link", ALL),
        Key("image", ALL),
        Key("image_alt", ALL),
    ],
    translated: Translated::Keys(&[Key("name", ALL), Key("image_alt", ALL)]),
    children: &[],
    seed: &["date", "name", "link"],
};

/// The schema of the entries of the array of tables at `path` (`items.3.sessions`,
/// `international_days.days`).
pub(crate) fn child_schema(path: &str) -> Option<&'static Schema> {
    let segs: Vec<&str> = path.split('.').collect();
    let parent = match segs.as_slice() {
        ["items", n, _] if n.parse::<usize>().is_ok() => &ITEM,
        ["international_days", _] => &DAYS,
        _ => return None,
    };
    let last = segs.last()?;
    parent.children.iter().find(|(k, _, _)| k == last).map(|(_, s, _)| *s)
}

/// A new entry of `schema`: its seed keys, empty (dates on `date`).
pub(crate) fn new_entry(schema: &Schema, date: Option<&str>) -> toml_edit::Table {
    let mut t = toml_edit::Table::new();
    for key in schema.seed {
        let value = match (shape(key), date) {
            (Shape::Date, Some(d)) => super::typed(Shape::Date, d),
            _ => toml_edit::Value::from(""),
        };
        t.insert(key, Item::Value(value));
    }
    t
}

/// The edition's date in the document, if it has one.
pub(crate) fn edition_date(doc: &toml_edit::DocumentMut) -> Option<String> {
    lookup(doc.as_item(), "edition.date")
        .and_then(Item::as_value)
        .map(display)
}

/// The text of a new item of `kind`, with what that kind needs to be complete (a session, a
/// deadline, a start date, an event row), an id no other item of `text` has, and an empty title.
pub(crate) fn new_item(text: &str, kind: &str) -> String {
    let doc: Option<toml_edit::DocumentMut> = text.parse().ok();
    let date = doc
        .as_ref()
        .and_then(edition_date)
        .unwrap_or_else(|| chrono::Local::now().date_naive().to_string());
    let ids: Vec<String> = doc
        .as_ref()
        .and_then(|d| d.get("items"))
        .and_then(Item::as_array_of_tables)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("id").and_then(Item::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let id = (1..)
        .map(|n| {
            if n == 1 {
                format!("new-{kind}")
            } else {
                format!("new-{kind}-{n}")
            }
        })
        .find(|id| !ids.contains(id))
        .unwrap_or_default();
    let mut block = format!("[[items]]\nid = \"{id}\"\nkind = \"{kind}\"\n");
    match kind {
        "call" => block += "call_for = \"participation\"\n",
        "event" => block += &format!("starts = {date}\n"),
        _ => {}
    }
    block += "title = \"\"\n";
    match kind {
        "invitation" => block += &format!("\n[[items.sessions]]\ndate = {date}\n"),
        "call" => block += &format!("\n[[items.deadlines]]\nwhat = \"\"\ndate = {date}\n"),
        "events" => block += &format!("\n[[items.events]]\ntitle = \"\"\ndate = {date}\n"),
        _ => {}
    }
    block
}

/// An edition's main language and every language it is built in, from its text (`en` and
/// `[en]` when it names none).
pub fn languages_of(text: &str) -> (String, Vec<String>) {
    let doc: Option<toml_edit::DocumentMut> = text.parse().ok();
    let get = |path: &str| {
        doc.as_ref()
            .and_then(|d| lookup(d.as_item(), path))
            .and_then(Item::as_value)
            .cloned()
    };
    let main = get("edition.language")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "en".into());
    let mut all: Vec<String> = get("edition.languages")
        .and_then(|v| {
            v.as_array()
                .map(|a| a.iter().filter_map(|l| l.as_str().map(str::to_string)).collect())
        })
        .unwrap_or_default();
    if !all.contains(&main) {
        all.insert(0, main.clone());
    }
    (main, all)
}

/// One field of the form.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its name in the form: the path of the value in the document.
    pub path: String,
    pub key: String,
    pub shape: Shape,
    /// As the form shows it (empty when the file does not have it).
    pub value: String,
    pub present: bool,
    /// The first and last line of its value in the file.
    pub lines: Option<(usize, usize)>,
}

/// A table of the file: the edition, an item, a session, …
#[derive(Debug, Clone)]
pub struct Section {
    /// `edition`, `items.3`, `items.3.sessions.1`
    pub path: String,
    /// `item`, `session`, …
    pub noun: &'static str,
    /// An item's kind.
    pub kind: Option<String>,
    pub fields: Vec<Field>,
    /// Per language other than the main one, its fields.
    pub translations: Vec<(String, Vec<Field>)>,
    pub children: Vec<Section>,
    /// The arrays of tables a new entry can be added to, with the noun of an entry.
    pub adds: Vec<(String, &'static str)>,
    /// Its header's line, and for an item its block's last line.
    pub lines: Option<(usize, usize)>,
}

/// The whole form of one file.
#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FileKind,
    pub main: String,
    pub languages: Vec<String>,
    /// The edition (or office) head, the items in reading order, the international days.
    pub head: Section,
    pub items: Vec<Section>,
    pub days: Option<Section>,
}

struct Builder<'t> {
    text: &'t str,
    /// The languages other than the main one.
    others: Vec<String>,
}

impl Builder<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    fn field(&self, table: Option<&Item>, path: &str, key: &str) -> Field {
        let item = table.and_then(|t| t.get(key));
        let value = item.and_then(Item::as_value);
        Field {
            path: format!("{path}.{key}"),
            key: key.to_string(),
            shape: shape(key),
            value: value.map(display).unwrap_or_default(),
            present: value.is_some(),
            lines: value
                .and_then(toml_edit::Value::span)
                .map(|s| (self.line(s.start), self.line(s.end.saturating_sub(1).max(s.start)))),
        }
    }

    fn section(&self, table: Option<&Item>, path: &str, schema: &'static Schema) -> Section {
        let kind = table
            .and_then(|t| t.get("kind"))
            .and_then(Item::as_str)
            .map(str::to_string);
        let applies = |kinds: &[&str]| kinds.is_empty() || kind.as_deref().is_some_and(|k| kinds.contains(&k));
        let present = |key: &str| table.and_then(|t| t.get(key)).is_some();
        let mut fields: Vec<Field> = schema
            .keys
            .iter()
            .filter(|Key(k, kinds)| applies(kinds) || present(k))
            .map(|Key(k, _)| self.field(table, path, k))
            .collect();
        let children_keys: Vec<&str> = schema.children.iter().map(|(k, _, _)| *k).collect();
        // Keys the schema does not know are shown too, so that nothing in the file is hidden.
        if let Some(t) = table.and_then(Item::as_table_like) {
            for (k, v) in t.iter() {
                let known =
                    schema.keys.iter().any(|Key(s, _)| *s == k) || children_keys.contains(&k) || k == "translations";
                if !known && v.is_value() && !v.as_value().is_some_and(toml_edit::Value::is_inline_table) {
                    fields.push(self.field(table, path, k));
                }
            }
        }
        let translations_item = table.and_then(|t| t.get("translations"));
        let mut translations = Vec::new();
        if translations_item.is_some_and(|t| t.as_value().is_some_and(|v| !v.is_inline_table())) {
            // `translations = "required"`
            fields.push(self.field(table, path, "translations"));
        } else if !matches!(schema.translated, Translated::No) {
            let tpath = format!("{path}.translations");
            if translations_item.and_then(|t| t.get("required")).is_some() {
                fields.push(self.field(translations_item, &tpath, "required"));
            }
            let mut languages = self.others.clone();
            if let Some(t) = translations_item.and_then(Item::as_table_like) {
                for (l, _) in t.iter() {
                    if l != "required" && !languages.iter().any(|x| x == l) {
                        languages.push(l.to_string());
                    }
                }
            }
            for language in languages {
                let fields = match &schema.translated {
                    Translated::Keys(keys) => {
                        let lt = translations_item.and_then(|t| t.get(&language));
                        let lpath = format!("{tpath}.{language}");
                        let mut fs: Vec<Field> = keys
                            .iter()
                            .filter(|Key(k, kinds)| applies(kinds) || lt.and_then(|t| t.get(k)).is_some())
                            .map(|Key(k, _)| self.field(lt, &lpath, k))
                            .collect();
                        if let Some(t) = lt.and_then(Item::as_table_like) {
                            for (k, v) in t.iter() {
                                if !keys.iter().any(|Key(s, _)| *s == k) && v.is_value() {
                                    fs.push(self.field(lt, &lpath, k));
                                }
                            }
                        }
                        fs
                    }
                    Translated::Text => vec![Field {
                        shape: Shape::Text,
                        ..self.field(translations_item, &tpath, &language)
                    }],
                    Translated::No => Vec::new(),
                };
                translations.push((language, fields));
            }
        }
        let mut children = Vec::new();
        let mut adds = Vec::new();
        for (key, child, kinds) in schema.children {
            let list = table.and_then(|t| t.get(key));
            // `[[items.sessions]]` tables, or an inline array of inline tables
            // (`sessions = [{ date = … }]`): both are the same entries to the form.
            let starts: Option<Vec<Option<usize>>> = match list {
                Some(Item::ArrayOfTables(a)) => Some(a.iter().map(|t| t.span().map(|s| s.start)).collect()),
                Some(Item::Value(toml_edit::Value::Array(a))) if a.iter().all(toml_edit::Value::is_inline_table) => {
                    Some(a.iter().map(|v| v.span().map(|s| s.start)).collect())
                }
                _ => None,
            };
            if !applies(kinds) && starts.is_none() {
                continue;
            }
            for (j, start) in starts.into_iter().flatten().enumerate() {
                let cpath = format!("{path}.{key}.{j}");
                let mut section = self.section(list.and_then(|a| a.get(j)), &cpath, child);
                section.lines = start.map(|s| (self.line(s), self.line(s)));
                children.push(section);
            }
            adds.push((format!("{path}.{key}"), child.noun));
        }
        Section {
            path: path.to_string(),
            noun: schema.noun,
            kind,
            fields,
            translations,
            children,
            adds,
            lines: table
                .and_then(Item::as_table)
                .and_then(toml_edit::Table::span)
                .map(|s| (self.line(s.start), self.line(s.start))),
        }
    }
}

impl Form {
    /// The form of `text` (an edition or an overlay), with translation fields for every
    /// language of `languages` but `main` (and any other the file has).
    pub fn build(text: &str, kind: FileKind, main: &str, languages: &[String]) -> Result<Form, super::EditError> {
        let doc = toml_edit::Document::parse(text).map_err(|e| super::EditError::Syntax(e.to_string()))?;
        let b = Builder {
            text,
            others: languages.iter().filter(|l| *l != main).cloned().collect(),
        };
        let root = doc.as_item();
        let head = match kind {
            FileKind::Edition => b.section(root.get("edition"), "edition", &EDITION),
            FileKind::Overlay => b.section(root.get("office"), "office", &OFFICE),
        };
        let blocks = super::blocks::blocks(text)?;
        let items = match root.get("items").and_then(Item::as_array_of_tables) {
            Some(a) => (0..a.len())
                .map(|i| {
                    let mut s = b.section(root.get("items").and_then(|a| a.get(i)), &format!("items.{i}"), &ITEM);
                    if let Some(r) = blocks.items.get(i) {
                        s.lines = Some((b.line(r.start), b.line(r.end.saturating_sub(1).max(r.start))));
                    }
                    s
                })
                .collect(),
            None => Vec::new(),
        };
        let days =
            (kind == FileKind::Edition).then(|| b.section(root.get("international_days"), "international_days", &DAYS));
        Ok(Form {
            kind,
            main: main.to_string(),
            languages: languages.to_vec(),
            head,
            items,
            days,
        })
    }

    /// Every section, depth first.
    pub fn sections(&self) -> Vec<&Section> {
        fn walk<'s>(s: &'s Section, out: &mut Vec<&'s Section>) {
            out.push(s);
            for c in &s.children {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.head, &mut out);
        for i in &self.items {
            walk(i, &mut out);
        }
        if let Some(d) = &self.days {
            walk(d, &mut out);
        }
        out
    }

    /// Every field, translations included.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections()
            .into_iter()
            .flat_map(|s| s.fields.iter().chain(s.translations.iter().flat_map(|(_, f)| f.iter())))
    }

    /// Where a diagnostic at `line` belongs: the field whose value spans it, else the table
    /// whose header is on it, else the item whose block holds it; `None` for the summary.
    pub fn place(&self, line: usize) -> Option<String> {
        let field = self
            .fields()
            .filter_map(|f| {
                f.lines
                    .filter(|(a, b)| (*a..=*b).contains(&line))
                    .map(|(a, b)| (b - a, f))
            })
            .min_by_key(|(size, _)| *size);
        if let Some((_, f)) = field {
            return Some(f.path.clone());
        }
        if let Some(s) = self
            .sections()
            .into_iter()
            .find(|s| s.lines.is_some_and(|(a, _)| a == line))
        {
            return Some(s.path.clone());
        }
        self.items
            .iter()
            .find(|s| s.lines.is_some_and(|(a, b)| (a..=b).contains(&line)))
            .map(|s| s.path.clone())
    }
}
