//! Turns the raw TOML into the validated model, reporting every problem of the file in one pass.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;
use toml::value::Datetime;
use toml::Spanned;

use super::raw;
use super::*;
use crate::calendar;
use crate::diagnostics::{Report, Severity, Source};
use crate::markdown;

#[derive(Debug, thiserror::Error)]
pub enum EditionError {
    #[error("cannot read the edition file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file has errors; the report also holds any warnings found on the way.
    #[error("the edition has {n} error(s); fix them and run again:\n{report}", n = .0.count(Severity::Error), report = .0)]
    Invalid(Report),
}

/// The most weeks `[international_days] weeks` may reach ahead (as `[calendar] days_weeks`).
const MAX_DAYS_WEEKS: u32 = 52;

/// Reads and validates the edition at `path`.
pub fn load(path: &Path, settings: &EditionSettings) -> Result<(Edition, Report), EditionError> {
    parse(&read_text(path)?, path, settings)
}

/// The text of an edition (or overlay) file; not UTF-8 is an error in the content, reported
/// like any other.
pub(super) fn read_text(path: &Path) -> Result<String, EditionError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        // Not UTF-8 is a problem with the content, for the editor to fix like any other.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            let mut report = Report::new();
            report.at(
                Severity::Error,
                path,
                None,
                "the file is not UTF-8: save it as UTF-8 text",
            );
            Err(EditionError::Invalid(report))
        }
        Err(source) => Err(EditionError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Validates an edition given as text; `path` names it in messages and gives its id (the file
/// name without `.toml`). Returns the edition with its warnings, or every error found.
pub fn parse(text: &str, path: &Path, settings: &EditionSettings) -> Result<(Edition, Report), EditionError> {
    let source = Source::new(path, text);
    let mut loader = Loader::new(&source, settings);
    let raw: raw::File = loader.read(text)?;
    let edition = loader.edition(raw);
    match edition {
        Some(edition) if !loader.report.has_errors() => Ok((edition, loader.report.sorted())),
        _ => Err(EditionError::Invalid(loader.report.sorted())),
    }
}

struct Loader<'a> {
    source: &'a Source,
    settings: &'a EditionSettings,
    report: Report,
    /// The edition's main language, once known.
    main: Option<Language>,
}

/// A translatable field: its name, whether the main language has it, and whether a
/// translation has it.
type OrphanRule<'f, T> = (&'f str, bool, &'f dyn Fn(&T) -> bool);

/// Spanned values from the TOML parser, reported at their start.
type S<T> = Spanned<T>;

/// The time keys of a session or an event row, with where to report a problem.
struct Timed<'r> {
    date: Option<NaiveDate>,
    start: Option<&'r S<String>>,
    end: Option<&'r S<String>>,
    time_zone: Option<&'r S<String>>,
    /// The line of its table.
    line: usize,
    /// Where a problem with no key of its own is reported.
    at: usize,
}

/// A zone, and the exact start and end when the times are given.
type Times = (Option<Tz>, Option<chrono::DateTime<Tz>>, Option<chrono::DateTime<Tz>>);

impl<'a> Loader<'a> {
    /// A one-line text of the edition's head (subtitle, greeting), trimmed; an empty one is an
    /// error at its line, since leaving the key out is how the default is asked for.
    fn head_text(&mut self, value: &S<String>, key: &str) -> String {
        let text = value.get_ref().trim().to_string();
        if text.is_empty() {
            self.error(
                value.span().start,
                format!("`{key}` is empty: leave it out for the default"),
            );
        }
        text
    }

    fn new(source: &'a Source, settings: &'a EditionSettings) -> Self {
        Loader {
            source,
            settings,
            report: Report::new(),
            main: None,
        }
    }

    /// The file's TOML as `T`, with every string checked for control characters; a syntax or
    /// type error ends the load here, since nothing after it can be trusted.
    fn read<T: serde::de::DeserializeOwned>(&mut self, text: &str) -> Result<T, EditionError> {
        match toml::from_str(text) {
            Ok(raw) => {
                self.forbidden_controls(text);
                Ok(raw)
            }
            Err(e) => {
                self.report
                    .error_at(self.source, e.span().map_or(0, |s| s.start), e.message().trim());
                Err(EditionError::Invalid(std::mem::take(&mut self.report)))
            }
        }
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) {
        self.report.error_at(self.source, offset, message);
    }

    fn warning(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.source.line_of(offset);
        self.report
            .at(Severity::Warning, &self.source.path, Some(line), message);
    }

    fn error_line(&mut self, line: usize, message: impl Into<String>) {
        self.report.at(Severity::Error, &self.source.path, Some(line), message);
    }

    /// Runs a parser on a spanned value and reports its error at the value's position.
    fn parsed<T>(&mut self, value: &S<String>, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        parse(value.get_ref())
            .map_err(|e| self.error(value.span().start, e))
            .ok()
    }

    fn language(&mut self, code: &S<String>) -> Option<Language> {
        let language = self.parsed(code, |s| s.parse::<Language>())?;
        if self.settings.network.knows_language(&language) {
            Some(language)
        } else {
            let list = self.settings.network.language_list();
            self.error(code.span().start, format!("language `{language}` is not configured; use one of {list} or add it to `languages` in infoflash.toml"));
            None
        }
    }

    fn region(&mut self, id: &S<String>) -> Option<Region> {
        let region = self.parsed(id, |s| s.parse::<Region>())?;
        if self.settings.network.knows_region(&region) {
            Some(region)
        } else {
            let list = self.settings.network.region_list();
            self.error(
                id.span().start,
                format!("unknown region `{region}`; the regions are {list}"),
            );
            None
        }
    }

    fn date(&mut self, value: &S<Datetime>, key: &str) -> Option<NaiveDate> {
        let dt = value.get_ref();
        let date = match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
            _ => None,
        };
        if date.is_none() {
            self.error(
                value.span().start,
                format!("`{key}` must be a date like 2026-01-20 (no time; times go in `start`/`end`)"),
            );
        }
        date
    }

    /// One rule for every text of the file: a control character that no reader can see and
    /// XML forbids (written as an escape such as `\u001a`, since TOML refuses them raw) is an
    /// error at its line, whichever field holds it.
    fn forbidden_controls(&mut self, text: &str) {
        fn walk(item: &toml_edit::Item, key: &str, found: &mut Vec<(usize, String, char)>) {
            match item {
                toml_edit::Item::Value(v) => value(v, key, found),
                toml_edit::Item::Table(t) => {
                    for (k, i) in t.iter() {
                        walk(i, &join(key, k), found);
                    }
                }
                toml_edit::Item::ArrayOfTables(a) => {
                    for t in a.iter() {
                        for (k, i) in t.iter() {
                            walk(i, &join(key, k), found);
                        }
                    }
                }
                toml_edit::Item::None => {}
            }
        }
        fn value(v: &toml_edit::Value, key: &str, found: &mut Vec<(usize, String, char)>) {
            match v {
                toml_edit::Value::String(s) => {
                    if let Some(c) = s.value().chars().find(|c| crate::types::is_forbidden_control(*c)) {
                        found.push((s.span().map_or(0, |r| r.start), key.to_string(), c));
                    }
                }
                toml_edit::Value::Array(a) => a.iter().for_each(|v| value(v, key, found)),
                toml_edit::Value::InlineTable(t) => {
                    for (k, v) in t.iter() {
                        value(v, &join(key, k), found);
                    }
                }
                _ => {}
            }
        }
        fn join(key: &str, k: &str) -> String {
            if key.is_empty() {
                k.to_string()
            } else {
                format!("{key}.{k}")
            }
        }
        let Ok(doc) = toml_edit::Document::parse(text) else {
            return;
        };
        let mut found = Vec::new();
        walk(doc.as_item(), "", &mut found);
        for (offset, key, c) in found {
            self.error(
                offset,
                format!(
                    "`{key}` contains the invisible control character U+{:04X}, which no reader can see and HTML email forbids: delete it",
                    u32::from(c)
                ),
            );
        }
    }

    /// A text that must stay on one line because it goes into `place` (a message header, say):
    /// a line break or control character there would break it, or start a header of its own.
    /// A text that goes into a header (`place`): [`crate::types::check_header_text`].
    fn one_line(&mut self, value: &S<String>, key: &str, place: &str) -> String {
        let text = value.get_ref();
        // The invisible ones are reported for every field already (`forbidden_controls`).
        if !text.chars().any(crate::types::is_forbidden_control) {
            if let Err(why) = crate::types::check_header_text(text) {
                self.error(value.span().start, format!("`{key}` {why} (it goes into {place})"));
            }
        }
        text.clone()
    }

    /// The series names the mailing list in every List-Id (`Info Flash <info-flash.…>`):
    /// angle brackets in it would let a careless reader of the header take another list id
    /// for ours.
    fn series(&mut self, value: &S<String>) -> String {
        let text = self.one_line(value, "series", "the Subject and List-Id of every message");
        if text.contains(['<', '>']) {
            self.error(
                value.span().start,
                "`series` contains `<` or `>`, which would read as another list id in the List-Id header: remove them",
            );
        }
        text
    }

    fn url(&mut self, value: &S<String>) -> Option<WebUrl> {
        self.parsed(value, |s| s.parse::<WebUrl>())
    }

    /// A link that may still be to be announced: `"tba"` (any case) instead of an address.
    fn href(&mut self, value: &S<String>) -> Option<Href> {
        if value.get_ref().trim().eq_ignore_ascii_case(Href::TBA) {
            return Some(Href::Tba);
        }
        self.url(value).map(Href::Url)
    }

    fn zone(&mut self, value: &S<String>) -> Option<Tz> {
        self.parsed(value, calendar::parse_zone)
    }

    /// The line a string value's text starts on: a `"""` string's text starts on the next line
    /// when the opening quotes end their line (TOML drops that first newline).
    fn text_line(&self, value_start: usize) -> usize {
        let line = self.source.line_of(value_start);
        let rest = &self.source.text[value_start..];
        let multi = rest.starts_with("\"\"\"") || rest.starts_with("'''");
        if multi && (rest[3..].starts_with('\n') || rest[3..].starts_with("\r\n")) {
            line + 1
        } else {
            line
        }
    }

    /// Reads Markdown and checks the links and images in it.
    fn markdown(&mut self, value: &S<String>) -> Markdown {
        let md = Markdown {
            text: value.get_ref().clone(),
            line: self.text_line(value.span().start),
        };
        let scan = markdown::scan(&md.text);
        let line_at = |offset: usize| md.line + md.text[..offset.min(md.text.len())].matches('\n').count();
        for r in scan.references {
            let line = line_at(r.offset);
            if let Err(e) = r.url.parse::<WebUrl>() {
                self.error_line(line, e);
            }
            if r.is_image && r.text.trim().is_empty() {
                self.error_line(
                    line,
                    format!(
                        "the image `{}` has no alt text: write ![what it shows]({})",
                        r.url, r.url
                    ),
                );
            }
        }
        for offset in scan.raw_html {
            self.report.at(
                Severity::Warning,
                &self.source.path,
                Some(line_at(offset)),
                "raw HTML in Markdown: only safe tags survive (scripts, styles and event handlers are removed)",
            );
        }
        md
    }

    /// Validates the languages of a translation table, keeping the valid entries.
    fn translations<'t, T>(&mut self, table: &'t raw::Translations<T>) -> Vec<(Language, &'t T)> {
        let mut out = Vec::new();
        for (code, value) in table {
            let Some(language) = self.language(code) else { continue };
            if Some(&language) == self.main.as_ref() {
                self.error(code.span().start, format!("`{language}` is the edition's own language: put that text in the main fields, not in a translation"));
                continue;
            }
            out.push((language, value));
        }
        out
    }

    /// The entries of a translation table whose language [`Self::translations`] accepts,
    /// without reporting the others again.
    fn valid_translations<'t, T>(&self, table: &'t raw::Translations<T>) -> Vec<(Language, &'t T)> {
        table
            .iter()
            .filter_map(|(code, value)| Some((code.get_ref().parse::<Language>().ok()?, value)))
            .filter(|(l, _)| self.settings.network.knows_language(l) && Some(l) != self.main.as_ref())
            .collect()
    }

    /// Reports translated fields whose main-language field is missing: they would never be
    /// shown, and the main language would silently lack them.
    fn orphans<T>(&mut self, table: &raw::Translations<T>, owner: &str, fields: &[OrphanRule<'_, T>]) {
        for (code, value) in table {
            for (name, main_present, has) in fields {
                if !main_present && has(value) {
                    self.error(
                        code.span().start,
                        format!("the `{}` translation of {owner} has `{name}`, but {owner} has no `{name}` in the main language: add it there too", code.get_ref()),
                    );
                }
            }
        }
    }

    fn edition(&mut self, raw: raw::File) -> Option<Edition> {
        let e = raw.edition.into_inner();
        let language = self.language(&e.language);
        self.main = language.clone();
        let id = self.edition_id();
        let date = self.date(&e.date, "date");
        let time_zone = self.zone(&e.time_zone);

        let mut languages = vec![];
        if let Some(list) = &e.languages {
            for code in list {
                if let Some(l) = self.language(code) {
                    if languages.contains(&l) {
                        self.error(code.span().start, format!("language `{l}` is listed twice"));
                    } else {
                        languages.push(l);
                    }
                }
            }
            if let Some(main) = &language {
                if !languages.contains(main) {
                    let at = list.first().map_or(e.language.span().start, |c| c.span().start);
                    self.error(
                        at,
                        format!("`languages` must include the edition's own language `{main}`"),
                    );
                }
            }
        }
        if let Some(main) = &language {
            languages.retain(|l| l != main);
            languages.insert(0, main.clone());
        }

        self.orphans(
            &e.translations.by_language,
            "the edition",
            &[
                ("subject", e.subject.is_some(), &|t: &raw::EditionTranslation| {
                    t.subject.is_some()
                }),
                ("intro", e.intro.is_some(), &|t: &raw::EditionTranslation| {
                    t.intro.is_some()
                }),
            ],
        );
        let translations = self.translations(&e.translations.by_language);
        let translations_required = e.translations.required.as_ref().is_some_and(|r| *r.get_ref());
        let mut series = Localized::new(self.series(&e.series));
        let mut subject = e
            .subject
            .as_ref()
            .map(|s| Localized::new(self.one_line(s, "subject", "the Subject of every message")));
        let mut subject_lines = e
            .subject
            .as_ref()
            .map(|s| Localized::new(self.source.line_of(s.span().start)));
        let mut intro = e.intro.as_ref().map(|i| Localized::new(self.markdown(i)));
        for (l, t) in translations {
            if let Some(s) = &t.series {
                let s = self.series(s);
                series.translations.insert(l.clone(), s);
            }
            if let Some(s) = &t.subject {
                let s = self.one_line(s, "subject", "the Subject of every message");
                if let Some(subject) = subject.as_mut() {
                    subject.translations.insert(l.clone(), s);
                }
                if let (Some(lines), Some(at)) = (subject_lines.as_mut(), &t.subject) {
                    lines
                        .translations
                        .insert(l.clone(), self.source.line_of(at.span().start));
                }
            }
            if let Some(i) = &t.intro {
                let md = self.markdown(i);
                if let Some(intro) = intro.as_mut() {
                    intro.translations.insert(l.clone(), md);
                }
            }
        }
        if *e.number.get_ref() == 0 {
            self.error(e.number.span().start, "`number` starts at 1");
        }

        let zone = time_zone.unwrap_or(chrono_tz::UTC);
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        for item in &raw.items {
            if let Some(item) = self.item(item, zone) {
                if !seen.insert(item.id.clone()) {
                    self.error_line(
                        item.line,
                        format!("item id `{}` is used twice: ids must be unique in an edition", item.id),
                    );
                }
                items.push(item);
            }
        }
        if raw.items.is_empty() {
            self.error(0, "the edition has no `[[items]]`");
        }
        let days = self.days(
            raw.international_days.as_ref().map(|d| d.get_ref()),
            date,
            language.as_ref(),
        );
        let (subtitle, greeting, closing) = self.edition_texts(&e);
        let head_lines = HeadLines {
            subtitle: e.subtitle.as_ref().map(|v| self.source.line_of(v.span().start)),
            greeting: e.greeting.as_ref().map(|v| self.source.line_of(v.span().start)),
        };

        Some(Edition {
            id: id?,
            path: self.source.path.clone(),
            series,
            number: *e.number.get_ref(),
            date: date?,
            language: language?,
            languages,
            time_zone: time_zone?,
            subject,
            subject_lines,
            head_lines,
            intro,
            subtitle,
            greeting,
            closing,
            items,
            days,
            translations_required,
            overlay: None,
        })
    }

    fn edition_id(&mut self) -> Option<EditionId> {
        let stem = self
            .source
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match stem.parse::<EditionId>() {
            Ok(id) => Some(id),
            Err(e) => {
                self.report.at(
                    Severity::Error,
                    &self.source.path,
                    None,
                    format!("{e}; rename the file"),
                );
                None
            }
        }
    }

    fn item(&mut self, spanned: &S<raw::Item>, zone: Tz) -> Option<Item> {
        let line = self.source.line_of(spanned.span().start);
        let raw = spanned.get_ref();
        let id = self.parsed(&raw.id, |s| s.parse::<ItemId>());
        let kind = match (raw.kind.get_ref().as_str(), &raw.call_for) {
            ("call", Some(c)) => match c.get_ref().as_str() {
                "partners" => Some(ItemKind::Call(CallFor::Partners)),
                "participation" => Some(ItemKind::Call(CallFor::Participation)),
                other => {
                    self.error(
                        c.span().start,
                        format!("`call_for` is `partners` or `participation`, not `{other}`"),
                    );
                    None
                }
            },
            ("call", None) => {
                self.error(
                    raw.kind.span().start,
                    "a call needs `call_for = \"partners\"` or `call_for = \"participation\"`",
                );
                None
            }
            (other, call_for) => {
                if let Some(c) = call_for {
                    self.error(c.span().start, "`call_for` belongs to items of kind `call` only");
                }
                match other {
                    "invitation" => Some(ItemKind::Invitation),
                    "publication" => Some(ItemKind::Publication),
                    "news" => Some(ItemKind::News),
                    "event" => Some(ItemKind::Event),
                    "information" => Some(ItemKind::Information),
                    "events" => Some(ItemKind::Events),
                    _ => {
                        self.error(
                            raw.kind.span().start,
                            format!("unknown item kind `{other}`; use one of {}", ItemKind::NAMES.join(", ")),
                        );
                        None
                    }
                }
            }
        };

        let regions = match &raw.regions {
            None => Regions::All,
            Some(list) if list.get_ref().is_empty() => {
                self.error(
                    list.span().start,
                    "`regions` is empty: leave it out to address every region",
                );
                Regions::All
            }
            Some(list) => Regions::Only(list.get_ref().iter().filter_map(|r| self.region(r)).collect()),
        };

        let owner = format!("item `{}`", raw.id.get_ref());
        self.orphans(
            &raw.translations,
            &owner,
            &[
                ("label", raw.label.is_some(), &|t: &raw::ItemTranslation| {
                    t.label.is_some()
                }),
                ("place", raw.place.is_some(), &|t: &raw::ItemTranslation| {
                    t.place.is_some()
                }),
                ("eligibility", raw.eligibility.is_some(), &|t: &raw::ItemTranslation| {
                    t.eligibility.is_some()
                }),
            ],
        );
        let translations = self.translations(&raw.translations);
        let mut title = Localized::new(raw.title.get_ref().trim().to_string());
        if title.main.is_empty() {
            self.error(raw.title.span().start, "the title is empty");
        }
        let mut label = raw.label.clone().map(Localized::new);
        let body_md = raw.body.as_ref().map(|b| self.markdown(b)).unwrap_or_default();
        let mut body = Localized::new(body_md);
        let mut place = raw.place.as_ref().map(|p| Localized::new(p.get_ref().clone()));
        let mut eligibility = raw.eligibility.as_ref().map(|e| Localized::new(self.markdown(e)));
        for (l, t) in &translations {
            if let Some(v) = &t.title {
                title.translations.insert(l.clone(), v.trim().to_string());
            }
            if let (Some(label), Some(v)) = (label.as_mut(), &t.label) {
                label.translations.insert(l.clone(), v.clone());
            }
            if let Some(v) = &t.body {
                let md = self.markdown(v);
                body.translations.insert(l.clone(), md);
            }
            if let (Some(place), Some(v)) = (place.as_mut(), &t.place) {
                place.translations.insert(l.clone(), v.clone());
            }
            if let Some(v) = &t.eligibility {
                let md = self.markdown(v);
                if let Some(e) = eligibility.as_mut() {
                    e.translations.insert(l.clone(), md);
                }
            }
        }

        let is = |k: &[&str]| k.contains(&raw.kind.get_ref().as_str());
        if let Some(e) = &raw.eligibility {
            if !is(&["call"]) {
                self.error(e.span().start, "`eligibility` belongs to items of kind `call` only");
            }
        }
        for (field, value) in [
            ("starts", raw.starts.as_ref().map(|s| s.span().start)),
            ("ends", raw.ends.as_ref().map(|s| s.span().start)),
            ("place", raw.place.as_ref().map(|s| s.span().start)),
        ] {
            if let Some(at) = value {
                if !is(&["event", "invitation"]) {
                    self.error(
                        at,
                        format!("`{field}` belongs to items of kind `event` or `invitation`"),
                    );
                }
            }
        }
        let starts = raw.starts.as_ref().and_then(|s| self.date(s, "starts"));
        let ends = raw.ends.as_ref().and_then(|s| self.date(s, "ends"));
        let dates = match (starts, ends) {
            (Some(starts), ends) => {
                let ends = ends.unwrap_or(starts);
                if ends < starts {
                    let at = raw.ends.as_ref().map_or(0, |e| e.span().start);
                    self.error(at, format!("the event ends ({ends}) before it starts ({starts})"));
                }
                Some(DateRange { starts, ends })
            }
            (None, Some(_)) => {
                let at = raw.ends.as_ref().map_or(0, |e| e.span().start);
                self.error(at, "`ends` without `starts`: give the first day too");
                None
            }
            (None, None) => None,
        };
        if raw.kind.get_ref() == "event" && raw.starts.is_none() {
            self.error_line(line, "an event needs `starts` (and `ends` if it lasts more than a day)");
        }
        if raw.kind.get_ref() == "invitation" && raw.sessions.is_empty() {
            self.error_line(
                line,
                "an invitation needs at least one `[[items.sessions]]` (date, time, time zone, link)",
            );
        }
        if raw.kind.get_ref() == "call" && raw.deadlines.is_empty() {
            self.error_line(line, "a call needs at least one `[[items.deadlines]]`");
        }
        if !raw.sessions.is_empty() && !is(&["event", "invitation"]) {
            self.error_line(line, "sessions belong to items of kind `invitation` or `event`");
        }

        let item_name = raw.id.get_ref().clone();
        let sessions = raw
            .sessions
            .iter()
            .filter_map(|s| self.session(s, zone, &item_name))
            .collect();
        let deadlines = raw
            .deadlines
            .iter()
            .filter_map(|spanned| {
                let line = self.source.line_of(spanned.span().start);
                let d = spanned.get_ref();
                let date = self.date(&d.date, "date");
                let what = self.localized_text(&d.what, &d.translations);
                Some(Deadline {
                    what,
                    date: date?,
                    line,
                })
            })
            .collect();
        let links = raw
            .links
            .iter()
            .filter_map(|l| {
                let line = self.source.line_of(l.span().start);
                let l = l.get_ref();
                let url = self.href(&l.url);
                let text = self.localized_text(&l.text, &l.translations);
                Some(Link { text, url: url?, line })
            })
            .collect();
        let contacts = raw
            .contacts
            .iter()
            .filter_map(|c| {
                let c = c.get_ref();
                let email = self.parsed(&c.email, |s| s.parse::<EmailAddress>());
                let name = c.name.as_ref().map(|n| self.one_line(n, "name", "the contact line"));
                Some(Contact { name, email: email? })
            })
            .collect();

        let events = self.event_rows(raw, line, zone);
        let title_link = raw.title_link.as_ref().and_then(|l| self.url(l));
        Some(Item {
            id: id?,
            line,
            kind: kind?,
            label,
            title_line: self.source.line_of(raw.title.span().start),
            title_link,
            title,
            body,
            regions,
            dates,
            place,
            eligibility,
            sessions,
            deadlines,
            links,
            contacts,
            office: None,
            events,
        })
    }

    /// A short text with a `translations = { fr = "…" }` table beside it.
    fn localized_text(&mut self, main: &str, table: &raw::Translations<String>) -> Localized<String> {
        let mut text = Localized::new(main.to_string());
        for (l, t) in self.translations(table) {
            text.translations.insert(l, t.clone());
        }
        text
    }

    fn session(&mut self, spanned: &S<raw::Session>, default_zone: Tz, item: &str) -> Option<Session> {
        let line = self.source.line_of(spanned.span().start);
        let s = spanned.get_ref();
        let date = self.date(&s.date, "date");
        let language = s.language.as_ref().and_then(|l| self.language(l));
        let region = s.region.as_ref().and_then(|r| self.region(r));
        let (zone, start, end) = self.times(
            Timed {
                date,
                start: s.start.as_ref(),
                end: s.end.as_ref(),
                time_zone: s.time_zone.as_ref(),
                line,
                at: spanned.span().start,
            },
            default_zone,
            "session",
            &format!("a session of item `{item}`: "),
        );

        self.orphans(
            &s.translations,
            "the session",
            &[
                ("name", s.name.is_some(), &|t: &raw::SessionTranslation| {
                    t.name.is_some()
                }),
                ("note", s.note.is_some(), &|t: &raw::SessionTranslation| {
                    t.note.is_some()
                }),
                ("link_text", s.link_text.is_some(), &|t: &raw::SessionTranslation| {
                    t.link_text.is_some()
                }),
            ],
        );
        let translations = self.translations(&s.translations);
        let mut name = s.name.clone().map(Localized::new);
        let mut note = s.note.as_ref().map(|n| Localized::new(self.markdown(n)));
        let mut link_text = Localized::new(s.link_text.clone().unwrap_or_default());
        for (l, t) in translations {
            if let (Some(name), Some(v)) = (name.as_mut(), &t.name) {
                name.translations.insert(l.clone(), v.clone());
            }
            if let Some(v) = &t.note {
                let md = self.markdown(v);
                if let Some(note) = note.as_mut() {
                    note.translations.insert(l.clone(), md);
                }
            }
            if let Some(v) = &t.link_text {
                link_text.translations.insert(l.clone(), v.clone());
            }
        }
        if name.is_none() && language.is_none() && region.is_none() {
            self.error_line(
                line,
                "give the session a `name`, a `language` or a `region`, so readers know which one it is",
            );
        }
        let also_in = self.also_in(s, language.as_ref());
        let link = match &s.link {
            Some(url) => Some(Link {
                text: link_text,
                url: self.href(url)?,
                line: self.source.line_of(url.span().start),
            }),
            None => None,
        };
        Some(Session {
            name,
            language,
            also_in,
            region,
            date: date?,
            start,
            end,
            time_zone: zone?,
            link,
            note,
            line,
        })
    }

    /// The *upcoming international days*: computed from the calendar for the weeks after the
    /// edition's date, merged with the days the edition lists (which win over a computed day
    /// with the same link, or the same date and name), minus the ones it hides.
    fn days(
        &mut self,
        d: Option<&raw::Days>,
        date: Option<NaiveDate>,
        language: Option<&Language>,
    ) -> Option<DaysSection> {
        let empty = raw::Days::default();
        let mut listed = self.listed_days(d.unwrap_or(&empty))?;
        let weeks = match d.and_then(|d| d.weeks.as_ref()) {
            None => self.settings.calendar.days_weeks,
            Some(w) if *w.get_ref() <= MAX_DAYS_WEEKS => *w.get_ref(),
            Some(w) => {
                self.error(
                    w.span().start,
                    format!("`weeks` must be between 0 and {MAX_DAYS_WEEKS}"),
                );
                return Some(listed);
            }
        };
        listed.weeks = weeks;
        let (Some(date), Some(language)) = (date, language) else {
            return Some(listed);
        };
        // `weeks = 0` computes none, as documented (the window would otherwise still hold the
        // edition's own date).
        if weeks == 0 {
            return Some(listed);
        }
        let until = date + chrono::Duration::days(7 * i64::from(weeks));
        let hide: Vec<&S<String>> = d.map(|d| d.hide.iter().collect()).unwrap_or_default();
        let mut used = vec![false; hide.len()];
        let mut section = listed;
        let calendar = &self.settings.calendar;
        for (on, day) in crate::calendar::days::between(&calendar.days, date, until) {
            let english = day.names.get("en").map(String::as_str).unwrap_or_default();
            let hidden = hide.iter().position(|h| hides(h.get_ref(), day));
            if let Some(i) = hidden {
                used[i] = true;
                continue;
            }
            let names = day
                .names
                .iter()
                .filter_map(|(l, n)| Some((l.parse::<Language>().ok()?, n.clone())));
            let names: BTreeMap<Language, String> = names.collect();
            if let Some(listed) = section.days.iter_mut().find(|l| {
                l.link.as_str().trim_end_matches('/') == day.link.trim_end_matches('/')
                    || (l.date == on && l.name.main.eq_ignore_ascii_case(english))
            }) {
                // The edition's entry wins; the calendar fills in the languages it lacks.
                for (l, n) in &names {
                    if *l != *language && !listed.name.has(l) {
                        listed.name.translations.insert(l.clone(), n.clone());
                    }
                }
                continue;
            }
            let Ok(link) = day.link.parse::<WebUrl>() else { continue };
            let main = names.get(language).cloned();
            let mut name = Localized::new(main.unwrap_or_else(|| english.to_string()));
            name.translations = names.into_iter().filter(|(l, _)| l != language).collect();
            section.days.push(Day {
                date: on,
                name,
                link,
                image: None,
                line: day.line,
                calendar: Some(calendar.international_days.clone()),
            });
        }
        for (h, used) in hide.iter().zip(used) {
            if !used {
                self.warning(
                    h.span().start,
                    format!(
                        "`{}` hides nothing: no day in the calendar between {date} and {until} has that link or English name",
                        h.get_ref()
                    ),
                );
            }
        }
        section
            .days
            .sort_by(|a, b| (a.date, &a.name.main).cmp(&(b.date, &b.name.main)));
        Some(section)
    }

    fn listed_days(&mut self, d: &raw::Days) -> Option<DaysSection> {
        self.orphans(
            &d.translations,
            "the international days block",
            &[
                ("title", d.title.is_some(), &|t: &raw::DaysTranslation| {
                    t.title.is_some()
                }),
                ("label", d.label.is_some(), &|t: &raw::DaysTranslation| {
                    t.label.is_some()
                }),
                ("intro", d.intro.is_some(), &|t: &raw::DaysTranslation| {
                    t.intro.is_some()
                }),
            ],
        );
        let translations = self.translations(&d.translations);
        let mut title = d.title.clone().map(Localized::new);
        let mut label = d.label.clone().map(Localized::new);
        let mut intro = d.intro.as_ref().map(|i| Localized::new(self.markdown(i)));
        for (l, t) in translations {
            if let (Some(x), Some(v)) = (title.as_mut(), &t.title) {
                x.translations.insert(l.clone(), v.clone());
            }
            if let (Some(x), Some(v)) = (label.as_mut(), &t.label) {
                x.translations.insert(l.clone(), v.clone());
            }
            if let Some(v) = &t.intro {
                let md = self.markdown(v);
                if let Some(x) = intro.as_mut() {
                    x.translations.insert(l.clone(), md);
                }
            }
        }
        let mut days = Vec::new();
        for spanned in &d.days {
            let line = self.source.line_of(spanned.span().start);
            let day = spanned.get_ref();
            let date = self.date(&day.date, "date");
            let link = self.url(&day.link);
            self.orphans(
                &day.translations,
                "the day",
                &[("image_alt", day.image_alt.is_some(), &|t: &raw::DayTranslation| {
                    t.image_alt.is_some()
                })],
            );
            let translations = self.translations(&day.translations);
            let mut name = Localized::new(day.name.clone());
            let mut alt = day.image_alt.clone().map(Localized::new);
            for (l, t) in translations {
                if let Some(v) = &t.name {
                    name.translations.insert(l.clone(), v.clone());
                }
                if let (Some(alt), Some(v)) = (alt.as_mut(), &t.image_alt) {
                    alt.translations.insert(l.clone(), v.clone());
                }
            }
            let image = match (&day.image, alt) {
                (None, _) => None,
                (Some(url), Some(alt)) if !alt.main.trim().is_empty() => self.url(url).map(|url| Image { url, alt }),
                (Some(url), _) => {
                    self.error(
                        url.span().start,
                        "the image has no alt text: add `image_alt` saying what it shows",
                    );
                    None
                }
            };
            if let (Some(date), Some(link)) = (date, link) {
                days.push(Day {
                    date,
                    name,
                    link,
                    image,
                    line,
                    calendar: None,
                });
            }
        }
        let hide = d
            .hide
            .iter()
            .map(|h| Hide {
                text: h.get_ref().clone(),
                line: self.source.line_of(h.span().start),
            })
            .collect();
        Some(DaysSection {
            title,
            label,
            intro,
            days,
            weeks: self.settings.calendar.days_weeks,
            hide,
        })
    }

    /// The edition's subtitle, greeting and closing, with their translations.
    #[allow(clippy::type_complexity)]
    fn edition_texts(
        &mut self,
        e: &raw::Edition,
    ) -> (
        Option<Localized<String>>,
        Option<Localized<String>>,
        Option<Localized<Markdown>>,
    ) {
        self.orphans(
            &e.translations.by_language,
            "the edition",
            &[
                ("subtitle", e.subtitle.is_some(), &|t: &raw::EditionTranslation| {
                    t.subtitle.is_some()
                }),
                ("greeting", e.greeting.is_some(), &|t: &raw::EditionTranslation| {
                    t.greeting.is_some()
                }),
                ("closing", e.closing.is_some(), &|t: &raw::EditionTranslation| {
                    t.closing.is_some()
                }),
            ],
        );
        let line = |this: &mut Self, value: &S<String>, key: &str| this.head_text(value, key);
        let mut subtitle = e.subtitle.as_ref().map(|v| Localized::new(line(self, v, "subtitle")));
        let mut greeting = e.greeting.as_ref().map(|v| Localized::new(line(self, v, "greeting")));
        let mut closing = e.closing.as_ref().map(|c| Localized::new(self.markdown(c)));
        // `edition()` has reported the table's bad languages already.
        for (l, t) in self.valid_translations(&e.translations.by_language) {
            if let (Some(x), Some(v)) = (subtitle.as_mut(), &t.subtitle) {
                x.translations.insert(l.clone(), line(self, v, "subtitle"));
            }
            if let (Some(x), Some(v)) = (greeting.as_mut(), &t.greeting) {
                x.translations.insert(l.clone(), line(self, v, "greeting"));
            }
            if let Some(v) = &t.closing {
                let md = self.markdown(v);
                if let Some(x) = closing.as_mut() {
                    x.translations.insert(l.clone(), md);
                }
            }
        }
        (subtitle, greeting, closing)
    }

    /// The other languages a session can be followed in: configured, not the language it is
    /// held in, none twice.
    fn also_in(&mut self, s: &raw::Session, language: Option<&Language>) -> Vec<Language> {
        let Some(list) = &s.also_in else { return Vec::new() };
        if s.language.is_none() {
            self.error(
                list.span().start,
                "`also_in` needs `language`, the language the session is held in",
            );
        }
        let mut out: Vec<Language> = Vec::new();
        for code in list.get_ref() {
            let Some(l) = self.language(code) else { continue };
            if Some(&l) == language {
                self.error(
                    code.span().start,
                    format!("`{l}` is the session's own `language`: list only the other languages in `also_in`"),
                );
            } else if out.contains(&l) {
                self.error(code.span().start, format!("language `{l}` is listed twice"));
            } else {
                out.push(l);
            }
        }
        out
    }

    /// The zone and the exact start and end of a session or event row: an `end` needs a
    /// `start` and comes after it, and both must exist in the zone (`what`: `session` or
    /// `event`; `prefix` opens a message about the zone).
    fn times(&mut self, t: Timed<'_>, default_zone: Tz, what: &str, prefix: &str) -> Times {
        let zone = match t.time_zone {
            Some(z) => self.zone(z),
            None => Some(default_zone),
        };
        let start_time = t.start.and_then(|v| self.parsed(v, calendar::parse_time));
        let end_time = t.end.and_then(|v| self.parsed(v, calendar::parse_time));
        if t.end.is_some() && t.start.is_none() {
            self.error_line(t.line, format!("the {what} has an `end` but no `start`"));
        }
        let mut instant = |time: Option<chrono::NaiveTime>, value: Option<&S<String>>| {
            let (time, date, zone) = (time?, t.date?, zone?);
            calendar::zoned(date, time, zone)
                .map_err(|e| self.error(value.map_or(t.at, |v| v.span().start), format!("{prefix}{e}")))
                .ok()
        };
        let start = instant(start_time, t.start);
        let end = instant(end_time, t.end);
        if let (Some(a), Some(b)) = (start, end) {
            if b <= a {
                self.error_line(
                    t.line,
                    format!(
                        "the {what} ends ({}) before it starts ({})",
                        b.format("%H:%M"),
                        a.format("%H:%M")
                    ),
                );
            }
        }
        (zone, start, end)
    }

    /// The rows of an event list (`kind = "events"`, which needs at least one).
    fn event_rows(&mut self, item: &raw::Item, line: usize, default_zone: Tz) -> Vec<EventRow> {
        let is_list = item.kind.get_ref() == "events";
        if !is_list {
            if let Some(first) = item.events.first() {
                self.error(
                    first.span().start,
                    "`[[items.events]]` belong to items of kind `events` only",
                );
            }
            return Vec::new();
        }
        if item.events.is_empty() {
            self.error_line(line, "an event list needs at least one `[[items.events]]`");
        }
        if !item.sessions.is_empty() {
            self.error_line(
                line,
                "an event list has no sessions: give each event its own `[[items.events]]` row",
            );
        }
        item.events
            .iter()
            .filter_map(|row| self.event_row(row, default_zone))
            .collect()
    }

    fn event_row(&mut self, spanned: &S<raw::EventRow>, default_zone: Tz) -> Option<EventRow> {
        let line = self.source.line_of(spanned.span().start);
        let r = spanned.get_ref();
        let title = r.title.get_ref().trim().to_string();
        if title.is_empty() {
            self.error(r.title.span().start, "the event's title is empty");
        }
        let date = r.date.as_ref().and_then(|d| self.date(d, "date"));
        let starts = r.starts.as_ref().and_then(|d| self.date(d, "starts"));
        let ends = r.ends.as_ref().and_then(|d| self.date(d, "ends"));
        let dates = match (&r.date, &r.starts) {
            (Some(d), Some(_)) => {
                self.error(
                    d.span().start,
                    "give an event either `date` or `starts` (and `ends`), not both",
                );
                None
            }
            (Some(_), None) if r.ends.is_some() => {
                let at = r.ends.as_ref().map_or(0, |e| e.span().start);
                self.error(at, "`ends` goes with `starts`: write `starts` instead of `date`");
                None
            }
            (Some(_), None) => date.map(|d| DateRange { starts: d, ends: d }),
            (None, Some(_)) => {
                let starts = starts?;
                let ends = ends.unwrap_or(starts);
                if ends < starts {
                    let at = r.ends.as_ref().map_or(0, |e| e.span().start);
                    self.error(at, format!("the event ends ({ends}) before it starts ({starts})"));
                }
                Some(DateRange { starts, ends })
            }
            (None, None) => {
                self.error_line(line, "the event needs a `date` (or `starts` and `ends`)");
                None
            }
        };
        if r.start.is_some() && dates.is_some_and(|d| d.starts != d.ends) {
            self.error_line(line, "a time belongs to a one-day event: use `date` with `start`");
        }
        let (zone, start, end) = self.times(
            Timed {
                date: dates.map(|d| d.starts),
                start: r.start.as_ref(),
                end: r.end.as_ref(),
                time_zone: r.time_zone.as_ref(),
                line,
                at: spanned.span().start,
            },
            default_zone,
            "event",
            "",
        );
        self.orphans(
            &r.translations,
            "the event",
            &[("place", r.place.is_some(), &|t: &raw::EventRowTranslation| {
                t.place.is_some()
            })],
        );
        let mut title = Localized::new(title);
        let mut place = r
            .place
            .as_ref()
            .map(|p| Localized::new(self.one_line(p, "place", "the event list's row")));
        for (l, t) in self.translations(&r.translations) {
            if let Some(v) = &t.title {
                title.translations.insert(l.clone(), v.trim().to_string());
            }
            if let (Some(x), Some(v)) = (place.as_mut(), &t.place) {
                x.translations.insert(l.clone(), v.clone());
            }
        }
        let link = match &r.link {
            Some(l) => Some(self.href(l)?),
            None => None,
        };
        let region = match &r.region {
            Some(id) => Some(self.region(id)?),
            None => None,
        };
        Some(EventRow {
            title,
            dates: dates?,
            start,
            end,
            time_zone: zone?,
            place,
            link,
            region,
            line,
        })
    }
}

/// Validates an office's overlay file given as text (`path` names it in messages), against the
/// edition it adds to. The result is an edition of its own: the overlay's items and intro, in
/// the overlay's language (the office's unless `[office] language` says otherwise), dated and
/// numbered like `base`, so that `check` reads it with the same rules as any edition and
/// reports at the overlay's own lines; [`Edition::with_overlay`] joins the two for rendering.
pub fn parse_overlay(
    text: &str,
    path: &Path,
    settings: &EditionSettings,
    office: &crate::types::Office,
    base: &Edition,
) -> Result<(Edition, Report), EditionError> {
    let source = Source::new(path, text);
    let mut loader = Loader::new(&source, settings);
    let raw: raw::OverlayFile = loader.read(text)?;
    let head = raw.office.map(Spanned::into_inner).unwrap_or_default();
    let language = match &head.language {
        Some(code) => loader.language(code),
        None => Some(office.language.clone()),
    };
    loader.main = language.clone();
    loader.orphans(
        &head.translations,
        "the office's overlay",
        &[
            ("intro", head.intro.is_some(), &|t: &raw::OverlayTranslation| {
                t.intro.is_some()
            }),
            ("greeting", head.greeting.is_some(), &|t: &raw::OverlayTranslation| {
                t.greeting.is_some()
            }),
        ],
    );
    let mut intro = head.intro.as_ref().map(|i| Localized::new(loader.markdown(i)));
    // The same rule as the edition's own greeting.
    let greeting_line = |loader: &mut Loader, value: &S<String>| loader.head_text(value, "greeting");
    let mut greeting = head
        .greeting
        .as_ref()
        .map(|g| Localized::new(greeting_line(&mut loader, g)));
    for (l, t) in loader.translations(&head.translations) {
        if let (Some(i), Some(intro)) = (&t.intro, intro.as_mut()) {
            let md = loader.markdown(i);
            intro.translations.insert(l.clone(), md);
        }
        if let (Some(g), Some(greeting)) = (&t.greeting, greeting.as_mut()) {
            let text = greeting_line(&mut loader, g);
            greeting.translations.insert(l, text);
        }
    }
    let zone = office.time_zone.unwrap_or(base.time_zone);
    let mut seen: HashSet<ItemId> = base.items.iter().map(|i| i.id.clone()).collect();
    let mut items = Vec::new();
    for item in &raw.items {
        if let Some(mut item) = loader.item(item, zone) {
            if !seen.insert(item.id.clone()) {
                loader.error_line(
                    item.line,
                    format!(
                        "item id `{}` is used twice (here or in {}): ids must be unique in an office's edition",
                        item.id,
                        base.path.display()
                    ),
                );
            }
            item.office = Some(office.id.clone());
            items.push(item);
        }
    }
    if raw.items.is_empty() && intro.is_none() && greeting.is_none() {
        loader.report.at(
            Severity::Warning,
            path,
            None,
            "the overlay adds nothing: give it `[[items]]`, an `[office] intro` or `greeting`, or delete it",
        );
    }
    let language = match language {
        Some(l) if !loader.report.has_errors() => l,
        _ => return Err(EditionError::Invalid(loader.report.sorted())),
    };
    // The office's variants are the edition's languages; the overlay's own comes first.
    let mut languages = base.languages.clone();
    languages.retain(|l| *l != language);
    languages.insert(0, language.clone());
    let overlay = Edition {
        overlay: Some(OfficeOverlay {
            office: office.id.clone(),
            path: path.to_path_buf(),
            language: language.clone(),
            own_intro: intro.is_some(),
            own_greeting: greeting.is_some(),
        }),
        id: base.id.clone(),
        path: path.to_path_buf(),
        series: base.series.clone(),
        number: base.number,
        date: base.date,
        language,
        languages,
        time_zone: zone,
        subject: None,
        subject_lines: None,
        subtitle: None,
        head_lines: HeadLines {
            subtitle: None,
            greeting: head.greeting.as_ref().map(|g| source.line_of(g.span().start)),
        },
        greeting,
        closing: None,
        intro,
        items,
        days: None,
        translations_required: base.translations_required,
    };
    Ok((overlay, loader.report.sorted()))
}

#[cfg(test)]
mod format_tests {
    //! The format's greeting, subtitle, closing, `also_in`, `"tba"` links, linked titles and
    //! event lists, read from text.

    use super::*;
    use crate::types::{Names, Network};

    fn settings() -> EditionSettings {
        let language = |c: &str| c.parse::<Language>().unwrap();
        let regions = ["africa", "europe"]
            .iter()
            .map(|r| {
                (
                    r.parse::<Region>().unwrap(),
                    Names {
                        name: r.to_string(),
                        translations: BTreeMap::new(),
                    },
                )
            })
            .collect();
        EditionSettings {
            network: std::sync::Arc::new(Network {
                languages: vec![language("en"), language("fr"), language("ar")],
                fallback_language: language("en"),
                regions,
                offices: BTreeMap::new(),
            }),
            calendar: calendar::CalendarSettings {
                international_days: PathBuf::from("days.csv"),
                days_weeks: 0,
                cadence_days: 14,
                custom_days_file: false,
                days: std::sync::Arc::new(Vec::new()),
            },
        }
    }

    const HEAD: &str = "[edition]\nseries = \"Digest\"\nnumber = 1\ndate = 2026-03-03\nlanguage = \"en\"\nlanguages = [\"en\", \"fr\"]\ntime_zone = \"Europe/Paris\"\n";

    fn load(text: &str) -> Result<Edition, String> {
        parse(text, Path::new("2026-03-digest-1.toml"), &settings())
            .map(|(e, _)| e)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn greeting_subtitle_and_closing_are_read_with_their_translations() {
        let e = load(&format!(
            "{HEAD}greeting = \"Dear all,\"\nsubtitle = \"Jointly organized\"\nclosing = \"**Team**\"\n[edition.translations.fr]\ngreeting = \"Bonjour à tous,\"\nclosing = \"**Équipe**\"\n[[items]]\nid = \"a\"\nkind = \"news\"\ntitle = \"A\"\n"
        ))
        .unwrap();
        let fr = "fr".parse().unwrap();
        assert_eq!(e.greeting.as_ref().unwrap().get(&fr), "Bonjour à tous,");
        assert_eq!(e.subtitle.as_ref().unwrap().get(&fr), "Jointly organized");
        assert_eq!(e.closing.as_ref().unwrap().get(&fr).text, "**Équipe**");
        assert_eq!(e.closing.as_ref().unwrap().main.line, 10);
    }

    #[test]
    fn a_translated_greeting_needs_the_main_one_and_may_not_be_empty() {
        let orphan = load(&format!(
            "{HEAD}[edition.translations.fr]\ngreeting = \"Bonjour,\"\n[[items]]\nid = \"a\"\nkind = \"news\"\ntitle = \"A\"\n"
        ))
        .unwrap_err();
        assert!(orphan.contains("has no `greeting` in the main language"), "{orphan}");
        let empty = load(&format!(
            "{HEAD}greeting = \" \"\n[[items]]\nid = \"a\"\nkind = \"news\"\ntitle = \"A\"\n"
        ))
        .unwrap_err();
        assert!(empty.contains("2026-03-digest-1.toml:8:"), "{empty}");
        assert!(empty.contains("`greeting` is empty"), "{empty}");
    }

    #[test]
    fn tba_links_load_and_are_listed_with_their_lines() {
        let e = load(&format!(
            "{HEAD}[[items]]\nid = \"w\"\nkind = \"invitation\"\ntitle = \"W\"\ntitle_link = \"https://example.org/w\"\n[[items.sessions]]\nlanguage = \"en\"\nalso_in = [\"fr\", \"ar\"]\ndate = 2026-03-20\nlink = \"TBA\"\n[[items.links]]\ntext = \"Programme\"\nurl = \"https://example.org/p\"\n"
        ))
        .unwrap();
        let item = &e.items[0];
        assert_eq!(
            item.title_link.as_ref().map(|u| u.as_str()),
            Some("https://example.org/w")
        );
        let session = &item.sessions[0];
        assert!(session.link.as_ref().unwrap().url.is_tba());
        let codes: Vec<&str> = session.also_in.iter().map(Language::as_str).collect();
        assert_eq!(codes, ["fr", "ar"]);
        assert!(!item.links[0].url.is_tba());
        assert_eq!(e.pending_links(), vec![(e.path.as_path(), 17)]);
    }

    #[test]
    fn event_rows_load_with_dates_times_and_regions() {
        let e = load(&format!(
            "{HEAD}[[items]]\nid = \"agenda\"\nkind = \"events\"\ntitle = \"Agenda\"\n[[items.events]]\ndate = 2026-03-20\nstart = \"18:00\"\ntitle = \"Meet-up\"\nlink = \"tba\"\n[[items.events]]\nstarts = 2026-03-24\nends = 2026-03-26\ntitle = \"Forum\"\nplace = \"Nairobi\"\nregion = \"africa\"\n"
        ))
        .unwrap();
        let rows = &e.items[0].events;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].start.unwrap().to_rfc3339(), "2026-03-20T18:00:00+01:00");
        assert_eq!(rows[0].dates.starts, rows[0].dates.ends);
        assert_eq!(rows[1].dates.ends.to_string(), "2026-03-26");
        assert_eq!(rows[1].region.as_ref().map(Region::as_str), Some("africa"));
        assert_eq!(e.pending_links(), vec![(e.path.as_path(), 12)]);
    }

    #[test]
    fn event_rows_refuse_both_date_forms_a_time_over_several_days_and_an_unknown_region() {
        let err = load(&format!(
            "{HEAD}[[items]]\nid = \"agenda\"\nkind = \"events\"\ntitle = \"Agenda\"\n[[items.events]]\ndate = 2026-03-20\nstarts = 2026-03-20\ntitle = \"A\"\n[[items.events]]\nstarts = 2026-03-24\nends = 2026-03-26\nstart = \"10:00\"\ntitle = \"B\"\n[[items.events]]\ndate = 2026-03-27\ntitle = \"C\"\nregion = \"mars\"\n"
        ))
        .unwrap_err();
        assert!(
            err.contains(":13:") && err.contains("either `date` or `starts`"),
            "{err}"
        );
        assert!(
            err.contains(":16:") && err.contains("a time belongs to a one-day event"),
            "{err}"
        );
        assert!(err.contains(":24:") && err.contains("unknown region `mars`"), "{err}");
    }
}
