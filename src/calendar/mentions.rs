//! Dates and time-zone abbreviations written in free text ("Thursday 15 January 2026 … (CEST,
//! Paris Time)", "jeudi 15 janvier", "jueves 15 de enero de 2026"), found so that `check` can
//! compare them with the calendar: a weekday that does not match its date, a date that does
//! not exist, summer time named in winter.
//!
//! Owns the patterns for English, French and Spanish dates and the table of abbreviations
//! (each tied to the place whose clocks it names). It must not decide what is an error: it
//! reports what is written and what the calendar says; `check` words the findings.

use std::ops::Range;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use regex::Regex;

/// A date as written in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateMention {
    /// Byte range in the text.
    pub range: Range<usize>,
    /// What the editor wrote, e.g. `Thursday 15 January 2026`.
    pub written: String,
    /// The weekday written with it, if any.
    pub weekday: Option<Weekday>,
    /// The date meant; `None` when it does not exist (`31 February`).
    pub date: Option<NaiveDate>,
    /// Whether the year was written (otherwise it was inferred from the reference date).
    pub year_written: bool,
}

/// A time-zone abbreviation as written, e.g. `CEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneMention {
    pub range: Range<usize>,
    pub abbreviation: &'static str,
}

struct Words {
    weekdays: &'static [(&'static str, Weekday)],
    months: &'static [(&'static str, u32)],
}

const EN: Words = Words {
    weekdays: &super::days::WEEKDAYS,
    months: &[
        ("january", 1),
        ("february", 2),
        ("march", 3),
        ("april", 4),
        ("may", 5),
        ("june", 6),
        ("july", 7),
        ("august", 8),
        ("september", 9),
        ("october", 10),
        ("november", 11),
        ("december", 12),
    ],
};

const FR: Words = Words {
    weekdays: &[
        ("lundi", Weekday::Mon),
        ("mardi", Weekday::Tue),
        ("mercredi", Weekday::Wed),
        ("jeudi", Weekday::Thu),
        ("vendredi", Weekday::Fri),
        ("samedi", Weekday::Sat),
        ("dimanche", Weekday::Sun),
    ],
    months: &[
        ("janvier", 1),
        ("février", 2),
        ("fevrier", 2),
        ("mars", 3),
        ("avril", 4),
        ("mai", 5),
        ("juin", 6),
        ("juillet", 7),
        ("août", 8),
        ("aout", 8),
        ("septembre", 9),
        ("octobre", 10),
        ("novembre", 11),
        ("décembre", 12),
        ("decembre", 12),
    ],
};

const ES: Words = Words {
    weekdays: &[
        ("lunes", Weekday::Mon),
        ("martes", Weekday::Tue),
        ("miércoles", Weekday::Wed),
        ("miercoles", Weekday::Wed),
        ("jueves", Weekday::Thu),
        ("viernes", Weekday::Fri),
        ("sábado", Weekday::Sat),
        ("sabado", Weekday::Sat),
        ("domingo", Weekday::Sun),
    ],
    months: &[
        ("enero", 1),
        ("febrero", 2),
        ("marzo", 3),
        ("abril", 4),
        ("mayo", 5),
        ("junio", 6),
        ("julio", 7),
        ("agosto", 8),
        ("septiembre", 9),
        ("setiembre", 9),
        ("octubre", 10),
        ("noviembre", 11),
        ("diciembre", 12),
    ],
};

fn alternatives(words: &[(&str, impl Copy)]) -> String {
    words.iter().map(|(w, _)| *w).collect::<Vec<_>>().join("|")
}

/// One language's patterns: each has the named groups `weekday`, `day`, `month`, `year`.
struct Patterns {
    words: &'static Words,
    regexes: Vec<Regex>,
}

fn patterns(words: &'static Words, shapes: &[&str]) -> Patterns {
    let weekday = alternatives(words.weekdays);
    let month = alternatives(words.months);
    let regexes = shapes
        .iter()
        .map(|shape| {
            let source = shape.replace("WEEKDAY", &weekday).replace("MONTH", &month);
            // The shapes are constants of this file; a test compiles every one.
            Regex::new(&format!("(?i){source}")).expect("a valid date pattern")
        })
        .collect();
    Patterns { words, regexes }
}

static ENGLISH: LazyLock<Patterns> = LazyLock::new(|| {
    patterns(
        &EN,
        &[
            // Thursday 15 January 2026, Tuesday, 20 January, 1st February
            r"\b(?:(?P<weekday>WEEKDAY),?\s+(?:the\s+)?)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>MONTH)\b(?:,?\s+(?P<year>\d{4})\b)?",
            // Thursday, January 15, 2026
            r"\b(?:(?P<weekday>WEEKDAY),?\s+)?(?P<month>MONTH)\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4})\b)?",
        ],
    )
});

static FRENCH: LazyLock<Patterns> = LazyLock::new(|| {
    patterns(
        &FR,
        &[r"\b(?:(?P<weekday>WEEKDAY),?\s+)?(?P<day>\d{1,2})(?:er)?\s+(?P<month>MONTH)\b(?:\s+(?P<year>\d{4})\b)?"],
    )
});

static SPANISH: LazyLock<Patterns> = LazyLock::new(|| {
    patterns(
        &ES,
        &[
            r"\b(?:(?P<weekday>WEEKDAY),?\s+)?(?P<day>\d{1,2})\s+de\s+(?P<month>MONTH)\b(?:\s+(?:de\s+|del\s+)?(?P<year>\d{4})\b)?",
        ],
    )
});

fn patterns_for(language: &str) -> Option<&'static Patterns> {
    match language {
        "en" => Some(&ENGLISH),
        "fr" => Some(&FRENCH),
        "es" => Some(&SPANISH),
        _ => None,
    }
}

fn lookup<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    let word = word.to_lowercase();
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// The dates written in `text` in `language` (`en`, `fr` or `es`; other languages have none).
/// A date written without a year takes the edition's year, unless that puts it more than three
/// months before `reference` (then it is next year's: "Monday 4 January" in a December
/// edition) or nine months after (last year's).
pub fn find_dates(text: &str, language: &str, reference: NaiveDate) -> Vec<DateMention> {
    let Some(patterns) = patterns_for(language) else {
        return Vec::new();
    };
    let mut found: Vec<DateMention> = Vec::new();
    for regex in &patterns.regexes {
        for caps in regex.captures_iter(text) {
            let whole = caps.get(0).map_or(0..0, |m| m.range());
            if found
                .iter()
                .any(|f| f.range.start < whole.end && whole.start < f.range.end)
            {
                continue;
            }
            let (Some(day), Some(month)) = (caps.name("day"), caps.name("month")) else {
                continue;
            };
            let Ok(day) = day.as_str().parse::<u32>() else { continue };
            let Some(month) = lookup(patterns.words.months, month.as_str()) else {
                continue;
            };
            let weekday = caps
                .name("weekday")
                .and_then(|w| lookup(patterns.words.weekdays, w.as_str()));
            let year = caps.name("year").and_then(|y| y.as_str().parse::<i32>().ok());
            let date = match year {
                Some(y) => NaiveDate::from_ymd_opt(y, month, day),
                None => nearest(reference, month, day),
            };
            found.push(DateMention {
                range: whole.clone(),
                written: text[whole].to_string(),
                weekday,
                date,
                year_written: year.is_some(),
            });
        }
    }
    found.sort_by_key(|m| m.range.start);
    found
}

/// The date with this month and day that an edition dated `reference` most likely means.
fn nearest(reference: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let y = reference.year();
    // 29 February takes the nearest leap year in the same direction.
    let on = |year: i32| NaiveDate::from_ymd_opt(year, month, day);
    let this_year = on(y).or_else(|| (1..4).find_map(|k| on(y + k)))?;
    let days = (this_year - reference).num_days();
    if days < -92 {
        on(y + 1).or_else(|| (2..5).find_map(|k| on(y + k)))
    } else if days > 273 {
        on(y - 1).or_else(|| (2..5).find_map(|k| on(y - k)))
    } else {
        Some(this_year)
    }
}

/// The abbreviations people write for time zones, each tied to the place whose clocks it
/// names, with its standard and daylight-saving forms.
const ABBREVIATIONS: &[(&str, &str, Tz)] = &[
    ("CET", "CEST", chrono_tz::Europe::Paris),
    ("GMT", "BST", chrono_tz::Europe::London),
    ("WET", "WEST", chrono_tz::Europe::Lisbon),
    ("EET", "EEST", chrono_tz::Europe::Athens),
    ("EST", "EDT", chrono_tz::America::New_York),
    ("CST", "CDT", chrono_tz::America::Chicago),
    ("MST", "MDT", chrono_tz::America::Denver),
    ("PST", "PDT", chrono_tz::America::Los_Angeles),
    ("AEST", "AEDT", chrono_tz::Australia::Sydney),
    ("NZST", "NZDT", chrono_tz::Pacific::Auckland),
];

static ABBREVIATION: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<&str> = ABBREVIATIONS.iter().flat_map(|(s, d, _)| [*s, *d]).collect();
    Regex::new(&format!(r"\b({})\b", names.join("|"))).expect("a valid abbreviation pattern")
});

/// The time-zone abbreviations written in `text` (upper case, as whole words).
pub fn find_zones(text: &str) -> Vec<ZoneMention> {
    ABBREVIATION
        .find_iter(text)
        .filter_map(|m| {
            let abbreviation = ABBREVIATIONS
                .iter()
                .flat_map(|(s, d, _)| [*s, *d])
                .find(|a| *a == m.as_str())?;
            Some(ZoneMention {
                range: m.range(),
                abbreviation,
            })
        })
        .collect()
}

/// The abbreviation that is right on `date` for the clocks that `abbreviation` names, when it
/// is not `abbreviation` itself: `("CEST", 15 January 2026)` → `Some("CET")`. Read at noon,
/// the hour at which no clock in the table changes.
pub fn correct_abbreviation(abbreviation: &str, date: NaiveDate) -> Option<(String, Tz)> {
    let (_, _, zone) = ABBREVIATIONS
        .iter()
        .find(|(s, d, _)| *s == abbreviation || *d == abbreviation)?;
    let noon = super::zoned(date, NaiveTime::from_hms_opt(12, 0, 0)?, *zone).ok()?;
    let right = noon.format("%Z").to_string();
    (right != abbreviation).then_some((right, *zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const REF: fn() -> NaiveDate = || d(2026, 1, 13);

    #[test]
    fn finds_english_dates_with_and_without_weekday_or_year() {
        let text = "Thursday 15 January 2026 from 9:30; Tuesday, 20 January at 10 a.m.; \
                    by **1 February 2026**; Friday, January 23, 2026.";
        let found = find_dates(text, "en", REF());
        let summary: Vec<_> = found.iter().map(|m| (m.weekday, m.date, m.year_written)).collect();
        assert_eq!(
            summary,
            vec![
                (Some(Weekday::Thu), Some(d(2026, 1, 15)), true),
                (Some(Weekday::Tue), Some(d(2026, 1, 20)), false),
                (None, Some(d(2026, 2, 1)), true),
                (Some(Weekday::Fri), Some(d(2026, 1, 23)), true),
            ]
        );
        assert_eq!(found[0].written, "Thursday 15 January 2026");
    }

    #[test]
    fn finds_french_dates_with_their_accents_and_the_first_of_the_month() {
        let found = find_dates(
            "le jeudi 15 janvier 2026, puis le dimanche 1er février et le 3 août.",
            "fr",
            REF(),
        );
        let summary: Vec<_> = found.iter().map(|m| (m.weekday, m.date)).collect();
        assert_eq!(
            summary,
            vec![
                (Some(Weekday::Thu), Some(d(2026, 1, 15))),
                (Some(Weekday::Sun), Some(d(2026, 2, 1))),
                (None, Some(d(2026, 8, 3))),
            ]
        );
    }

    #[test]
    fn finds_spanish_dates_written_with_de() {
        let found = find_dates(
            "El jueves 15 de enero de 2026 y el miércoles, 21 de enero.",
            "es",
            REF(),
        );
        let summary: Vec<_> = found.iter().map(|m| (m.weekday, m.date)).collect();
        assert_eq!(
            summary,
            vec![
                (Some(Weekday::Thu), Some(d(2026, 1, 15))),
                (Some(Weekday::Wed), Some(d(2026, 1, 21)))
            ]
        );
    }

    #[test]
    fn an_impossible_date_is_found_without_a_date() {
        let found = find_dates("Tuesday 31 February 2026", "en", REF());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].date, None);
    }

    #[test]
    fn a_date_without_year_is_the_one_nearest_the_edition() {
        let found = find_dates("Monday 4 January", "en", d(2026, 12, 20));
        assert_eq!(found[0].date, Some(d(2027, 1, 4)));
        let found = find_dates("Friday 18 December", "en", d(2027, 1, 5));
        assert_eq!(found[0].date, Some(d(2026, 12, 18)));
    }

    #[test]
    fn other_languages_and_plain_numbers_are_not_dates() {
        assert!(find_dates("15 января 2026", "ru", REF()).is_empty());
        assert!(find_dates("Room 15, building 2026", "en", REF()).is_empty());
        assert!(find_dates("mayo", "es", REF()).is_empty());
    }

    #[test]
    fn summer_time_in_winter_is_named_with_the_right_abbreviation() {
        assert_eq!(
            correct_abbreviation("CEST", d(2026, 1, 15)).map(|r| r.0),
            Some("CET".into())
        );
        assert_eq!(
            correct_abbreviation("CET", d(2026, 7, 15)).map(|r| r.0),
            Some("CEST".into())
        );
        assert_eq!(correct_abbreviation("CET", d(2026, 1, 20)), None);
        assert_eq!(
            correct_abbreviation("BST", d(2026, 12, 1)).map(|r| r.0),
            Some("GMT".into())
        );
        // Sydney's summer is in January.
        assert_eq!(
            correct_abbreviation("AEST", d(2026, 1, 15)).map(|r| r.0),
            Some("AEDT".into())
        );
        assert_eq!(correct_abbreviation("AEST", d(2026, 7, 15)), None);
        // The last Sunday of March 2026 is the change in Paris: the day after is CEST.
        assert_eq!(
            correct_abbreviation("CET", d(2026, 3, 30)).map(|r| r.0),
            Some("CEST".into())
        );
        assert_eq!(correct_abbreviation("CET", d(2026, 3, 28)), None);
    }

    #[test]
    fn zone_abbreviations_are_whole_upper_case_words() {
        let found = find_zones("10:00 (CEST, Paris Time), not cest, not CESTA, but EST.");
        let names: Vec<_> = found.iter().map(|z| z.abbreviation).collect();
        assert_eq!(names, vec!["CEST", "EST"]);
    }
}
