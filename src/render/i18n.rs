//! Labels and dates in the reader's language.
//!
//! A label table is a flat TOML file per language (`templates/labels/en.toml` …), embedded in
//! the binary and overridable by a project's `templates/labels/`. Every table must have exactly
//! the keys of the English one, so a missing label is caught when the tables load, not in a
//! reader's inbox. Dates are formatted with chrono's locale data.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use chrono::{Locale, NaiveDate};

use super::RenderError;

/// The labels of one language.
#[derive(Debug, Clone)]
pub struct Labels {
    map: BTreeMap<String, String>,
    locale: Locale,
}

impl Labels {
    /// Parses a label table; `reference` (the English table) gives the keys it must have.
    pub fn parse(text: &str, path: &Path, reference: Option<&Labels>) -> Result<Labels, RenderError> {
        let err = |message: String| RenderError::Labels {
            path: path.to_path_buf(),
            line: None,
            message,
        };
        let err_at = |key: &str, message: String| RenderError::Labels {
            path: path.to_path_buf(),
            line: line_of_key(text, key),
            message,
        };
        let map: BTreeMap<String, String> = toml::from_str(text).map_err(|e| RenderError::Labels {
            path: path.to_path_buf(),
            line: Some(
                e.span()
                    .map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            ),
            message: e.message().trim().to_string(),
        })?;
        if let Some(reference) = reference {
            // City names are a dictionary, not labels: a table may name more or fewer cities
            // (a missing one shows its IANA name), so only the other keys must match.
            let missing: Vec<_> = reference
                .map
                .keys()
                .filter(|k| !k.starts_with(CITY) && !map.contains_key(*k))
                .cloned()
                .collect();
            let extra: Vec<_> = map
                .keys()
                .filter(|k| !k.starts_with(CITY) && !reference.map.contains_key(*k))
                .cloned()
                .collect();
            if !missing.is_empty() || !extra.is_empty() {
                return Err(err(format!(
                    "the keys must match templates/labels/en.toml; missing: [{}], unknown: [{}]",
                    missing.join(", "),
                    extra.join(", ")
                )));
            }
        }
        let locale_name = map
            .get("chrono_locale")
            .ok_or_else(|| err("`chrono_locale` is missing".into()))?;
        let locale = Locale::try_from(locale_name.as_str()).map_err(|_| {
            err(format!(
                "`chrono_locale` `{locale_name}` is not a known locale (use names like `fr_FR`)"
            ))
        })?;
        // A date format chrono cannot apply to a date (`%Q`, or `%H` for an hour a date has
        // not) would fail in the middle of a build: try each on a date now.
        let sample = NaiveDate::from_ymd_opt(2026, 1, 20).unwrap_or_default();
        for (key, format) in map
            .iter()
            .filter(|(k, _)| k.ends_with("_format") && *k != "number_format")
        {
            let mut out = String::new();
            if write!(out, "{}", sample.format_localized(format, locale)).is_err() {
                return Err(err_at(
                    key,
                    format!("`{key}` = `{format}` is not a date format: use strftime codes like `%A %-d %B %Y`"),
                ));
            }
        }
        if let Some(format) = map.get("number_format") {
            if format.chars().any(char::is_control) {
                return Err(err_at(
                    "number_format",
                    format!(
                        "`number_format` contains a line break or control character (`{}`); it goes into the Subject of every message: write it on one line",
                        format.escape_debug()
                    ),
                ));
            }
        }
        Ok(Labels { map, locale })
    }

    /// The label for `key`. Keys are checked when the tables load, so a miss is a bug in a
    /// template of ours; it shows as the key itself rather than aborting a send.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    pub fn all(&self) -> &BTreeMap<String, String> {
        &self.map
    }

    fn format(&self, date: NaiveDate, key: &str) -> String {
        // Formats are tried when the table loads; should one still fail, show the ISO date.
        let mut out = String::new();
        match write!(out, "{}", date.format_localized(self.get(key), self.locale)) {
            Ok(()) => out,
            Err(_) => date.to_string(),
        }
    }

    /// "Tuesday 20 January 2026", "mardi 20 janvier 2026".
    pub fn date(&self, date: NaiveDate) -> String {
        self.format(date, "date_format")
    }

    /// "20 January 2026", without the weekday.
    /// "15 January", "15 janvier".
    pub fn day_month(&self, date: NaiveDate) -> String {
        self.format(date, "day_month_format")
    }

    pub fn short_date(&self, date: NaiveDate) -> String {
        self.format(date, "short_date_format")
    }

    /// "31 March – 2 April 2026", or one date when both are the same day.
    pub fn date_range(&self, starts: NaiveDate, ends: NaiveDate) -> String {
        if starts == ends {
            self.date(starts)
        } else if chrono::Datelike::year(&starts) == chrono::Datelike::year(&ends) {
            format!(
                "{} – {}",
                self.format(starts, "day_month_format"),
                self.short_date(ends)
            )
        } else {
            format!("{} – {}", self.short_date(starts), self.short_date(ends))
        }
    }

    /// "Dear Ann Example," — or the polite form for a reader whose name we do not know.
    pub fn greeting(&self, name: Option<&str>) -> String {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => self.get("greeting").replace("{name}", name),
            None => self.get("greeting_anonymous").to_string(),
        }
    }

    /// "N°22", "第22期".
    pub fn number(&self, number: u32) -> String {
        self.get("number_format").replace("{number}", &number.to_string())
    }

    /// The city of `zone` in this language ("Santiago du Chili"), if the table names it.
    pub fn city_name(&self, zone: chrono_tz::Tz) -> Option<&str> {
        self.map.get(&format!("{CITY}{}", zone.name())).map(String::as_str)
    }

    /// The city of `zone` for a reader: this language's name for it, else its IANA name's.
    pub fn city(&self, zone: chrono_tz::Tz) -> String {
        self.city_name(zone)
            .map_or_else(|| crate::calendar::city(zone), str::to_string)
    }
}

/// The prefix of a city name's key in a label table: `"city Europe/Paris" = "Paris"`.
const CITY: &str = "city ";

/// The name of the offset a time is given in: the zone's abbreviation where it has one in
/// common use ("CET", "EAT"), else "UTC+3", "UTC−3" (with a minus sign), "UTC+5:45" — never
/// the database's bare "-03", which reads as a negative number.
pub fn zone_label<Tz: chrono::TimeZone>(time: &chrono::DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let abbreviation = time.format("%Z").to_string();
    if !abbreviation.starts_with(['+', '-']) {
        return abbreviation;
    }
    let seconds = chrono::Offset::fix(time.offset()).local_minus_utc();
    if seconds == 0 {
        return "UTC".to_string();
    }
    let sign = if seconds < 0 { '\u{2212}' } else { '+' };
    let (hours, minutes) = (seconds.abs() / 3600, seconds.abs() % 3600 / 60);
    if minutes == 0 {
        format!("UTC{sign}{hours}")
    } else {
        format!("UTC{sign}{hours}:{minutes:02}")
    }
}

/// The line of a label table where `key` is set, for messages.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::templates::EMBEDDED_LABELS;

    fn table(code: &str) -> Labels {
        let en = Labels::parse(EMBEDDED_LABELS[0].1, Path::new("en.toml"), None).unwrap();
        let text = EMBEDDED_LABELS.iter().find(|(c, _)| *c == code).unwrap().1;
        Labels::parse(text, Path::new("x.toml"), Some(&en)).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_embedded_table_has_the_english_keys_and_a_known_locale() {
        for (code, _) in EMBEDDED_LABELS {
            let labels = table(code);
            assert!(!labels.date(d(2026, 1, 20)).is_empty(), "{code}");
        }
    }

    #[test]
    fn a_zone_without_an_abbreviation_reads_as_an_offset_from_utc_with_a_minus_sign() {
        use chrono::TimeZone;
        let at = |zone: chrono_tz::Tz, month: u32| zone.with_ymd_and_hms(2026, month, 15, 12, 0, 0).unwrap();
        assert_eq!(zone_label(&at(chrono_tz::America::Santiago, 1)), "UTC\u{2212}3");
        assert_eq!(zone_label(&at(chrono_tz::America::Santiago, 7)), "UTC\u{2212}4");
        assert_eq!(zone_label(&at(chrono_tz::Asia::Kathmandu, 1)), "UTC+5:45");
        assert_eq!(zone_label(&at(chrono_tz::Asia::Dubai, 1)), "UTC+4");
        assert_eq!(zone_label(&at(chrono_tz::Europe::Paris, 1)), "CET");
        assert_eq!(zone_label(&at(chrono_tz::Europe::Paris, 7)), "CEST");
        assert_eq!(zone_label(&at(chrono_tz::UTC, 1)), "UTC");
    }

    #[test]
    fn dates_read_naturally_in_english_french_and_spanish() {
        assert_eq!(table("en").date(d(2026, 1, 20)), "Tuesday 20 January 2026");
        assert_eq!(table("fr").date(d(2026, 1, 20)), "mardi 20 janvier 2026");
        assert_eq!(table("es").date(d(2026, 1, 20)), "martes, 20 de enero de 2026");
        assert_eq!(
            table("en").date_range(d(2026, 3, 31), d(2026, 4, 2)),
            "31 March – 2 April 2026"
        );
        assert_eq!(table("zh").number(22), "第22期");
    }

    #[test]
    fn rejects_a_date_format_that_cannot_format_a_date_or_a_number_format_on_two_lines() {
        let en = table("en");
        for (from, to, expected) in [
            (
                "date_format = \"%A %-d %B %Y\"",
                "date_format = \"%A %Q\"",
                "x.toml:5: `date_format`",
            ),
            (
                "short_date_format = \"%-d %B %Y\"",
                "short_date_format = \"%H:%M\"",
                "x.toml:6: `short_date_format`",
            ),
            (
                "number_format = \"N°{number}\"",
                "number_format = \"N°\\r\\nBcc: x\"",
                "x.toml:8: `number_format`",
            ),
        ] {
            let text = EMBEDDED_LABELS[0].1.replace(from, to);
            assert_ne!(text, EMBEDDED_LABELS[0].1);
            let err = Labels::parse(&text, Path::new("x.toml"), Some(&en))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    #[test]
    fn rejects_a_table_with_a_missing_key() {
        let en = table("en");
        let text = EMBEDDED_LABELS[0].1.replace("unsubscribe = ", "unsubscribed = ");
        let err = Labels::parse(&text, Path::new("de.toml"), Some(&en))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing: [unsubscribe]") && err.contains("unknown: [unsubscribed]"),
            "{err}"
        );
    }
}
