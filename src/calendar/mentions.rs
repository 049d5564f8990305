//! Dates and time-zone abbreviations written in free text ("Thursday 15 January 2026 … (CEST,
//! Paris Time)", "jeudi 15 janvier", "jueves 15 de enero de 2026", "четверг, 15 января 2026",
//! "الخميس 15 كانون الثاني/يناير 2026", "2026年1月15日（星期四）"), found so that `check` can
//! compare them with the calendar: a weekday that does not match its date, a date that does
//! not exist, summer time named in winter.
//!
//! Owns the patterns for dates in the six languages of the network (English, French, Spanish,
//! Russian, Arabic, Chinese; digits of any script) and the table of abbreviations
//! (each tied to the place whose clocks it names). It must not decide what is an error: it
//! reports what is written and what the calendar says; `check` words the findings.

use std::ops::Range;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use regex::Regex;

use crate::types::digits;

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

const RU: Words = Words {
    weekdays: &[
        ("понедельник", Weekday::Mon),
        ("вторник", Weekday::Tue),
        ("среда", Weekday::Wed),
        ("среду", Weekday::Wed),
        ("четверг", Weekday::Thu),
        ("пятница", Weekday::Fri),
        ("пятницу", Weekday::Fri),
        ("суббота", Weekday::Sat),
        ("субботу", Weekday::Sat),
        ("воскресенье", Weekday::Sun),
    ],
    // The genitive ("15 января") is how a date is written; the nominative for "май 2026".
    months: &[
        ("января", 1),
        ("январь", 1),
        ("февраля", 2),
        ("февраль", 2),
        ("марта", 3),
        ("март", 3),
        ("апреля", 4),
        ("апрель", 4),
        ("мая", 5),
        ("май", 5),
        ("июня", 6),
        ("июнь", 6),
        ("июля", 7),
        ("июль", 7),
        ("августа", 8),
        ("август", 8),
        ("сентября", 9),
        ("сентябрь", 9),
        ("октября", 10),
        ("октябрь", 10),
        ("ноября", 11),
        ("ноябрь", 11),
        ("декабря", 12),
        ("декабрь", 12),
    ],
};

const AR: Words = Words {
    weekdays: &[
        ("الاثنين", Weekday::Mon),
        ("الإثنين", Weekday::Mon),
        ("الثلاثاء", Weekday::Tue),
        ("الأربعاء", Weekday::Wed),
        ("الاربعاء", Weekday::Wed),
        ("الخميس", Weekday::Thu),
        ("الجمعة", Weekday::Fri),
        ("السبت", Weekday::Sat),
        ("الأحد", Weekday::Sun),
        ("الاحد", Weekday::Sun),
    ],
    // The names used in Egypt and the Maghreb, and in the Levant and Iraq; United Nations
    // texts write both ("كانون الثاني/يناير"). Longer names first: "كانون الثاني" before "كانون".
    months: &[
        ("كانون الثاني", 1),
        ("يناير", 1),
        ("شباط", 2),
        ("فبراير", 2),
        ("آذار", 3),
        ("مارس", 3),
        ("نيسان", 4),
        ("أبريل", 4),
        ("ابريل", 4),
        ("إبريل", 4),
        ("أيار", 5),
        ("مايو", 5),
        ("حزيران", 6),
        ("يونيو", 6),
        ("يونيه", 6),
        ("تموز", 7),
        ("يوليو", 7),
        ("يوليه", 7),
        ("آب", 8),
        ("أغسطس", 8),
        ("اغسطس", 8),
        ("أيلول", 9),
        ("سبتمبر", 9),
        ("تشرين الأول", 10),
        ("أكتوبر", 10),
        ("اكتوبر", 10),
        ("تشرين الثاني", 11),
        ("نوفمبر", 11),
        ("كانون الأول", 12),
        ("ديسمبر", 12),
    ],
};

/// Chinese writes the month as a number ("1月"); only the weekdays are words.
const ZH: Words = Words {
    weekdays: &[
        ("星期一", Weekday::Mon),
        ("星期二", Weekday::Tue),
        ("星期三", Weekday::Wed),
        ("星期四", Weekday::Thu),
        ("星期五", Weekday::Fri),
        ("星期六", Weekday::Sat),
        ("星期日", Weekday::Sun),
        ("星期天", Weekday::Sun),
        ("周一", Weekday::Mon),
        ("周二", Weekday::Tue),
        ("周三", Weekday::Wed),
        ("周四", Weekday::Thu),
        ("周五", Weekday::Fri),
        ("周六", Weekday::Sat),
        ("周日", Weekday::Sun),
        ("周天", Weekday::Sun),
    ],
    months: &[],
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

static RUSSIAN: LazyLock<Patterns> = LazyLock::new(|| {
    patterns(
        &RU,
        // четверг, 15 января 2026 г.
        &[r"\b(?:(?P<weekday>WEEKDAY),?\s+)?(?P<day>\d{1,2})\s+(?P<month>MONTH)\b(?:\s+(?P<year>\d{4})\b)?"],
    )
});

static ARABIC: LazyLock<Patterns> = LazyLock::new(|| {
    patterns(
        &AR,
        // (يوم) الخميس، 15 كانون الثاني/يناير 2026 — the second name of a pair is the same month.
        &[
            r"(?:(?:يوم\s+)?(?P<weekday>WEEKDAY)[،,]?\s+)?\b(?P<day>\d{1,2})\s+(?P<month>MONTH)(?:\s*/\s*(?:MONTH))?\b(?:\s+(?P<year>\d{4})\b)?",
        ],
    )
});

static CHINESE: LazyLock<Patterns> = LazyLock::new(|| {
    patterns(
        &ZH,
        // 2026年1月15日（星期四）, 1月15日 周四; no `\b`: Chinese runs its words together.
        &[
            r"(?:(?P<year>\d{4})\s*年\s*)?(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号](?:\s*[（(]?\s*(?P<weekday>WEEKDAY)\s*[)）]?)?",
        ],
    )
});

fn patterns_for(language: &str) -> Option<&'static Patterns> {
    match language {
        "en" => Some(&ENGLISH),
        "fr" => Some(&FRENCH),
        "es" => Some(&SPANISH),
        "ru" => Some(&RUSSIAN),
        "ar" => Some(&ARABIC),
        "zh" => Some(&CHINESE),
        _ => None,
    }
}

/// A month written as a word of the language, or as a number (Chinese "1月").
fn month_of(words: &Words, written: &str) -> Option<u32> {
    lookup(words.months, written).or_else(|| {
        let n = u32::try_from(digits::value(written)?).ok()?;
        (1..=12).contains(&n).then_some(n)
    })
}

fn lookup<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    let word = word.to_lowercase();
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// The dates written in `text` in `language` (`en`, `fr`, `es`, `ru`, `ar` or `zh`; other
/// languages have none), with digits of any script (Arabic-Indic too).
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
            let Some(day) = digits::value(day.as_str()).and_then(|d| u32::try_from(d).ok()) else {
                continue;
            };
            let Some(month) = month_of(patterns.words, month.as_str()) else {
                continue;
            };
            let weekday = caps
                .name("weekday")
                .and_then(|w| lookup(patterns.words.weekdays, w.as_str()));
            let year = caps
                .name("year")
                .and_then(|y| digits::value(y.as_str()))
                .and_then(|y| i32::try_from(y).ok());
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
    fn finds_russian_arabic_and_chinese_dates_in_any_digits() {
        let summary = |text: &str, language: &str| -> Vec<(Option<Weekday>, Option<NaiveDate>)> {
            find_dates(text, language, REF())
                .iter()
                .map(|m| (m.weekday, m.date))
                .collect()
        };
        assert_eq!(
            summary("в четверг, 15 января 2026 г., и 3 февраля", "ru"),
            [(Some(Weekday::Thu), Some(d(2026, 1, 15))), (None, Some(d(2026, 2, 3)))]
        );
        assert_eq!(
            summary(
                "يوم الخميس، 15 كانون الثاني/يناير 2026، ثم ٣ فبراير ٢٠٢٦ و 20 تشرين الأول 2026",
                "ar"
            ),
            [
                (Some(Weekday::Thu), Some(d(2026, 1, 15))),
                (None, Some(d(2026, 2, 3))),
                (None, Some(d(2026, 10, 20))),
            ]
        );
        assert_eq!(
            summary("会议于2026年1月15日（星期四）举行，截止日期为2月3日 周二。", "zh"),
            [
                (Some(Weekday::Thu), Some(d(2026, 1, 15))),
                (Some(Weekday::Tue), Some(d(2026, 2, 3)))
            ]
        );
        assert_eq!(summary("2026年2月30日", "zh"), [(None, None)]);
        assert!(find_dates("13月5日", "zh", REF()).is_empty());
    }

    #[test]
    fn other_languages_and_plain_numbers_are_not_dates() {
        assert!(find_dates("15 января 2026", "de", REF()).is_empty());
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
