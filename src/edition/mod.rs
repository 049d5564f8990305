//! The edition: what an editor writes in one TOML file, loaded once into a validated model that
//! every renderer reads.
//!
//! Owns the file format (see `docs/edition-format.md`), its loading ([`parse`] from text,
//! [`load`] from a path) and the model types. Everything an email reader could meet is checked
//! here, once: links are absolute, addresses parse, languages and regions are configured, times
//! exist in their zone. It must not render anything or know about recipients.
//!
//! ```
//! # use infoflash::{config::Config, edition};
//! # use std::path::Path;
//! let config = Config::parse(infoflash::config::EMBEDDED, Path::new("infoflash.toml"), Path::new(".")).unwrap();
//! let text = r#"
//! [edition]
//! series = "Info Flash"
//! number = 1
//! date = 2026-01-13
//! language = "en"
//! time_zone = "Europe/Paris"
//!
//! [[items]]
//! id = "hello"
//! kind = "news"
//! title = "Hello"
//! body = "Read [the news](https://www.unesco.org/en)."
//! "#;
//! let (edition, warnings) = edition::parse(text, Path::new("2026-01-info-flash-1.toml"), &config.edition).unwrap();
//! assert_eq!(edition.items[0].title.main, "Hello");
//! assert!(warnings.is_empty());
//! ```

mod load;
pub mod next;
pub mod numbering;
mod overlay;
mod raw;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;

pub use load::{load, parse, parse_overlay, EditionError};
pub use overlay::{load_for_office, load_parts, overlay_path, split_overlay_path, Parts};

/// What an edition is checked against: the network's languages and regions, and the calendar
/// its *upcoming international days* come from. Built by `config`, read here.
#[derive(Debug, Clone)]
pub struct EditionSettings {
    pub network: std::sync::Arc<crate::types::Network>,
    pub calendar: crate::calendar::CalendarSettings,
}

use crate::types::{EditionId, EmailAddress, ItemId, Language, OfficeId, Region, WebUrl};

/// A value in the edition's main language with optional translations.
#[derive(Debug, Clone, PartialEq)]
pub struct Localized<T> {
    pub main: T,
    pub translations: BTreeMap<Language, T>,
}

impl<T> Localized<T> {
    pub fn new(main: T) -> Self {
        Localized {
            main,
            translations: BTreeMap::new(),
        }
    }

    /// The text in `language`, or the main text when there is no translation.
    pub fn get(&self, language: &Language) -> &T {
        self.translations.get(language).unwrap_or(&self.main)
    }

    pub fn has(&self, language: &Language) -> bool {
        self.translations.contains_key(language)
    }
}

/// Markdown text with the line of the edition file its first line is on, so that problems
/// inside it (a dead link on its fourth line) can be reported at the right line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Markdown {
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Edition {
    pub id: EditionId,
    pub path: PathBuf,
    pub series: Localized<String>,
    pub number: u32,
    pub date: NaiveDate,
    /// The language the edition is written in.
    pub language: Language,
    /// The languages variants are built in by default (the main language first).
    pub languages: Vec<Language>,
    pub time_zone: Tz,
    /// Overrides the default subject line ("{series} N°{number}").
    pub subject: Option<Localized<String>>,
    /// The line of `subject` in each language, for messages about it.
    pub subject_lines: Option<Localized<usize>>,
    pub intro: Option<Localized<Markdown>>,
    /// A line under the title ("Jointly organized by …").
    pub subtitle: Option<Localized<String>>,
    /// The edition's own greeting for every reader ("Dear National Coordinators,"); `None`
    /// keeps the label tables' ("Dear colleague,", or the reader's name when the list has it).
    pub greeting: Option<Localized<String>>,
    /// A closing or signature after the items, outside the table of contents.
    pub closing: Option<Localized<Markdown>>,
    /// The lines of `subtitle` and `greeting`, for what `check` says about them.
    pub head_lines: HeadLines,
    pub items: Vec<Item>,
    pub days: Option<DaysSection>,
    /// `translations = "required"`: a missing translation is an error, not a fallback to the
    /// main language.
    pub translations_required: bool,
    /// For an office's edition: the overlay file its own items come from.
    pub overlay: Option<OfficeOverlay>,
}

/// Lines of the edition's one-line texts in the file they are written in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadLines {
    pub subtitle: Option<usize>,
    pub greeting: Option<usize>,
}

/// Where an office's own items come from: `editions/<edition id>.<office id>.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeOverlay {
    pub office: OfficeId,
    pub path: PathBuf,
    /// The language its items are written in: their `main` texts are in it.
    pub language: Language,
    /// Whether the intro is the overlay's own.
    pub own_intro: bool,
    /// Whether the greeting is the overlay's own.
    pub own_greeting: bool,
}

impl Edition {
    /// Every link of the edition whose address is still to be announced, with its file and line:
    /// allowed in a draft, refused by `send`.
    pub fn pending_links(&self) -> Vec<(&std::path::Path, usize)> {
        let mut lines = Vec::new();
        for item in &self.items {
            let file = self.file_of(item);
            let links = item
                .links
                .iter()
                .chain(item.sessions.iter().filter_map(|s| s.link.as_ref()));
            lines.extend(links.filter(|l| l.url.is_tba()).map(|l| (file, l.line)));
            lines.extend(
                item.events
                    .iter()
                    .filter(|e| e.link.as_ref().is_some_and(Href::is_tba))
                    .map(|e| (file, e.line)),
            );
        }
        lines.sort_unstable();
        lines
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFor {
    Partners,
    Participation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Invitation,
    Publication,
    Call(CallFor),
    News,
    Event,
    Information,
    /// A compact list of events, one row each (`[[items.events]]`).
    Events,
}

impl ItemKind {
    /// The name used in the file (`kind = "…"`), in template names and in label tables.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Invitation => "invitation",
            ItemKind::Publication => "publication",
            ItemKind::Call(_) => "call",
            ItemKind::News => "news",
            ItemKind::Event => "event",
            ItemKind::Information => "information",
            ItemKind::Events => "events",
        }
    }

    pub const NAMES: [&'static str; 7] = [
        "invitation",
        "publication",
        "call",
        "news",
        "event",
        "information",
        "events",
    ];

    /// The key of the default label in the label tables.
    pub fn label_key(self) -> &'static str {
        match self {
            ItemKind::Invitation => "label_invitation",
            ItemKind::Publication => "label_publication",
            ItemKind::Call(CallFor::Partners) => "label_call_partners",
            ItemKind::Call(CallFor::Participation) => "label_call_participation",
            ItemKind::News => "label_news",
            ItemKind::Event => "label_event",
            ItemKind::Information => "label_information",
            ItemKind::Events => "label_events",
        }
    }
}

/// Which regions an item concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    All,
    Only(Vec<Region>),
}

impl Regions {
    pub fn includes(&self, region: &Region) -> bool {
        match self {
            Regions::All => true,
            Regions::Only(list) => list.contains(region),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: ItemId,
    /// The line of the item's `[[items]]` header.
    pub line: usize,
    pub kind: ItemKind,
    /// `Some` overrides the kind's label; an empty text hides the label.
    pub label: Option<Localized<String>>,
    pub title: Localized<String>,
    /// The line of the main title (translations are reported at the item's line).
    pub title_line: usize,
    /// Where the title leads, when it is a link (`title_link`).
    pub title_link: Option<WebUrl>,
    pub body: Localized<Markdown>,
    pub regions: Regions,
    /// For events: the dates, and the place.
    pub dates: Option<DateRange>,
    pub place: Option<Localized<String>>,
    /// For calls: who can take part.
    pub eligibility: Option<Localized<Markdown>>,
    pub sessions: Vec<Session>,
    pub deadlines: Vec<Deadline>,
    pub links: Vec<Link>,
    pub contacts: Vec<Contact>,
    /// `Some` for an office's own item, from its overlay file: only that office's variants
    /// show it.
    pub office: Option<OfficeId>,
    /// For an event list (`kind = "events"`): its rows, in the file's order.
    pub events: Vec<EventRow>,
}

impl Item {
    /// The names of the fields with no text in `language`; empty when the item is fully
    /// translated (or `language` is the edition's own).
    pub fn untranslated(&self, language: &Language) -> Vec<String> {
        let mut missing = Vec::new();
        let mut need = |has: bool, what: String| {
            if !has {
                missing.push(what);
            }
        };
        need(self.title.has(language), "title".into());
        need(
            self.body.main.text.trim().is_empty() || self.body.has(language),
            "body".into(),
        );
        if let Some(label) = &self.label {
            need(label.main.is_empty() || label.has(language), "label".into());
        }
        if let Some(place) = &self.place {
            need(place.has(language), "place".into());
        }
        if let Some(e) = &self.eligibility {
            need(e.has(language), "eligibility".into());
        }
        for (i, s) in self.sessions.iter().enumerate() {
            if let Some(name) = &s.name {
                need(name.has(language), format!("session {} name", i + 1));
            }
            if let Some(note) = &s.note {
                need(note.has(language), format!("session {} note", i + 1));
            }
            if let Some(link) = &s.link {
                need(
                    link.text.main.is_empty() || link.text.has(language),
                    format!("session {} link text", i + 1),
                );
            }
        }
        for (i, d) in self.deadlines.iter().enumerate() {
            need(d.what.has(language), format!("deadline {} (`{}`)", i + 1, d.what.main));
        }
        for (i, l) in self.links.iter().enumerate() {
            need(l.text.has(language), format!("link {} (`{}`)", i + 1, l.text.main));
        }
        // An event's place is usually a proper name, like a contact's: not required.
        for (i, e) in self.events.iter().enumerate() {
            need(e.title.has(language), format!("event {} (`{}`)", i + 1, e.title.main));
        }
        missing
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub starts: NaiveDate,
    pub ends: NaiveDate,
}

/// One sitting of a webinar or meeting, in one language or for one region.
#[derive(Debug, Clone)]
pub struct Session {
    pub name: Option<Localized<String>>,
    pub language: Option<Language>,
    /// Other languages the session can be followed in (interpretation, chat), besides the one
    /// it is held in (`language`); never contains it.
    pub also_in: Vec<Language>,
    pub region: Option<Region>,
    pub date: NaiveDate,
    /// Exact start and end; `None` when the time is still to be announced.
    pub start: Option<DateTime<Tz>>,
    pub end: Option<DateTime<Tz>>,
    pub time_zone: Tz,
    pub link: Option<Link>,
    pub note: Option<Localized<Markdown>>,
    /// The line of its `[[items.sessions]]` table.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Deadline {
    pub what: Localized<String>,
    pub date: NaiveDate,
    /// The line of its `[[items.deadlines]]` table.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Link {
    pub text: Localized<String>,
    pub url: Href,
    pub line: usize,
}

/// Where a link leads: an address, or one still to be announced (`"tba"` in the file), which
/// readers see as "link to be announced".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Href {
    Url(WebUrl),
    Tba,
}

impl Href {
    /// What the file writes for a link whose address is not known yet.
    pub const TBA: &'static str = "tba";

    pub fn is_tba(&self) -> bool {
        matches!(self, Href::Tba)
    }

    pub fn url(&self) -> Option<&WebUrl> {
        match self {
            Href::Url(url) => Some(url),
            Href::Tba => None,
        }
    }
}

/// One row of an event list: a dated event, where it is, its link and region.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub title: Localized<String>,
    pub dates: DateRange,
    /// The start and end when the row gives a time.
    pub start: Option<DateTime<Tz>>,
    pub end: Option<DateTime<Tz>>,
    pub time_zone: Tz,
    pub place: Option<Localized<String>>,
    pub link: Option<Href>,
    /// `None`: every region's editions list it.
    pub region: Option<Region>,
    /// The line of its `[[items.events]]` table.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub name: Option<String>,
    pub email: EmailAddress,
}

/// The *upcoming international days* block.
#[derive(Debug, Clone)]
pub struct DaysSection {
    pub title: Option<Localized<String>>,
    pub label: Option<Localized<String>>,
    pub intro: Option<Localized<Markdown>>,
    pub days: Vec<Day>,
    /// How many weeks after the edition's date the computed days reach (0: none).
    pub weeks: u32,
    /// The `hide` entries as written, with their lines (`next` drops the stale ones).
    pub hide: Vec<Hide>,
}

/// One `[international_days] hide` entry: a computed day's link or English name.
#[derive(Debug, Clone)]
pub struct Hide {
    pub text: String,
    pub line: usize,
}

/// Whether a `hide` entry hides `day`: it is the day's link or English name, in any case.
pub fn hides(entry: &str, day: &crate::calendar::days::InternationalDay) -> bool {
    let h = entry.trim();
    let english = day.names.get("en").map(String::as_str).unwrap_or_default();
    h.eq_ignore_ascii_case(&day.link) || h.eq_ignore_ascii_case(english)
}

#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    pub name: Localized<String>,
    pub link: WebUrl,
    pub image: Option<Image>,
    /// The line of its entry in the edition, or in the calendar file it was computed from.
    pub line: usize,
    /// The calendar file it comes from; `None` when the edition lists it.
    pub calendar: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub url: WebUrl,
    pub alt: Localized<String>,
}

/// `edited` in the form `original` was written in: its byte-order mark, its line ends when
/// those are all CRLF (a file saved on Windows), and no line break after the last line when it
/// had none. `toml_edit` drops the mark and writes the
/// lines it makes with LF, so without this one changed title (in the browser editor) or a
/// next edition (`next`) would change the first line or mix LF into a CRLF file. A file that
/// already mixes both line ends is left as the edit wrote them.
pub fn keep_file_form(original: &str, edited: String) -> String {
    const BOM: char = '\u{feff}';
    let crlf = original.matches("\r\n").count();
    let mut edited = if crlf == 0 || crlf != original.matches('\n').count() {
        edited
    } else {
        edited.replace("\r\n", "\n").replace('\n', "\r\n")
    };
    if original.starts_with(BOM) && !edited.starts_with(BOM) {
        edited.insert(0, BOM);
    }
    // A last line without its line break keeps going without one.
    if !original.is_empty() && !original.ends_with('\n') {
        let trimmed = edited.strip_suffix('\n').map(|e| e.strip_suffix('\r').unwrap_or(e));
        if let Some(trimmed) = trimmed {
            edited.truncate(trimmed.len());
        }
    }
    edited
}

#[cfg(test)]
mod line_end_tests {
    use super::*;

    #[test]
    fn crlf_line_ends_come_back_only_to_a_file_written_with_them_throughout() {
        assert_eq!(keep_file_form("a\r\nb\r\n", "a\nc\r\nd\n".into()), "a\r\nc\r\nd\r\n");
        assert_eq!(keep_file_form("a\nb\n", "a\nc\n".into()), "a\nc\n");
        // A file that mixes both is left as the edit wrote it.
        assert_eq!(keep_file_form("a\r\nb\n", "a\nc\n".into()), "a\nc\n");
    }

    #[test]
    fn a_byte_order_mark_stays_at_the_start() {
        assert_eq!(keep_file_form("\u{feff}a\n", "b\n".into()), "\u{feff}b\n");
        assert_eq!(keep_file_form("\u{feff}a\n", "\u{feff}b\n".into()), "\u{feff}b\n");
        assert_eq!(keep_file_form("a\n", "b\n".into()), "b\n");
    }

    #[test]
    fn a_last_line_without_a_line_break_stays_without() {
        assert_eq!(keep_file_form("a\nb", "a\nc\n".into()), "a\nc");
        assert_eq!(keep_file_form("a\r\nb", "a\nc\n".into()), "a\r\nc");
        assert_eq!(keep_file_form("a\nb\n", "a\nc\n".into()), "a\nc\n");
        assert_eq!(keep_file_form("a\nb", "a\nc".into()), "a\nc");
    }
}
