//! The international-days calendar: the rules that say when a day falls each year (`01-24`,
//! `third thursday of november`) and the CSV of UN/UNESCO days (`data/international-days.csv`)
//! from which an edition's *upcoming international days* are computed.
//!
//! Owns date rules, reading and checking the CSV, and listing the days that fall between two
//! dates. It must not format dates or names for people (that is `render::i18n`) nor decide which
//! days an edition shows or how (that is the edition's business).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::diagnostics::{Diagnostic, Report, Severity};
use crate::types::{Language, WebUrl};

/// Which occurrence of a weekday in its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

/// When a day falls each year: a fixed month and day, or the nth weekday of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateRule {
    Fixed { month: u32, day: u32 },
    Nth { nth: Nth, weekday: Weekday, month: u32 },
}

const ORDINALS: [(&str, Nth); 5] = [
    ("first", Nth::First),
    ("second", Nth::Second),
    ("third", Nth::Third),
    ("fourth", Nth::Fourth),
    ("last", Nth::Last),
];

/// English weekday names, as rules and editors write them.
pub(crate) const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

const FORMS: &str =
    "write a month and day like `01-24`, or `<first|second|third|fourth|last> <weekday> of <month>` like `third thursday of november`";

impl DateRule {
    /// The date the rule gives in `year`; `None` for `02-29` outside leap years.
    pub fn on(&self, year: i32) -> Option<NaiveDate> {
        match *self {
            DateRule::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            DateRule::Nth { nth, weekday, month } => {
                let occurrence = |n| NaiveDate::from_weekday_of_month_opt(year, month, weekday, n);
                match nth {
                    Nth::Last => occurrence(5).or_else(|| occurrence(4)),
                    n => occurrence(n as u8 + 1),
                }
            }
        }
    }
}

impl FromStr for DateRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if let Some((m, d)) = text.split_once('-') {
            let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
            if !two_digits(m) || !two_digits(d) {
                return Err(format!("`{text}` is not a date rule: {FORMS}"));
            }
            let (month, day) = (m.parse().unwrap_or(0), d.parse().unwrap_or(0));
            // 2000 is a leap year, so `02-29` is accepted and falls only in leap years.
            return match NaiveDate::from_ymd_opt(2000, month, day) {
                Some(_) => Ok(DateRule::Fixed { month, day }),
                None => Err(format!(
                    "`{text}` is not a day of the year: the month is 01 to 12 and the day must exist in it (`02-29` is allowed)"
                )),
            };
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let [ordinal, weekday, of, month] = words[..] else {
            return Err(format!("`{text}` is not a date rule: {FORMS}"));
        };
        let unknown = |what: &str, word: &str, choices: &str| {
            format!("`{text}`: `{word}` is not {what} (use {choices}); {FORMS}")
        };
        let nth = ORDINALS.iter().find(|(w, _)| *w == ordinal).map(|&(_, n)| n);
        let nth = nth.ok_or_else(|| unknown("an ordinal", ordinal, "first, second, third, fourth or last"))?;
        let day = WEEKDAYS.iter().find(|(w, _)| *w == weekday).map(|&(_, d)| d);
        let weekday = day.ok_or_else(|| unknown("a weekday", weekday, "monday to sunday, in lower case"))?;
        if of != "of" {
            return Err(unknown("`of`", of, "`<ordinal> <weekday> of <month>`"));
        }
        let number = MONTHS.iter().position(|m| *m == month).map(|i| i as u32 + 1);
        let month = number.ok_or_else(|| unknown("a month", month, "january to december, in lower case"))?;
        Ok(DateRule::Nth { nth, weekday, month })
    }
}

impl fmt::Display for DateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DateRule::Fixed { month, day } => write!(f, "{month:02}-{day:02}"),
            DateRule::Nth { nth, weekday, month } => {
                let ordinal = ORDINALS.iter().find(|(_, n)| *n == nth).map_or("", |(w, _)| w);
                let day = WEEKDAYS.iter().find(|(_, d)| *d == weekday).map_or("", |(w, _)| w);
                let month = month.checked_sub(1).and_then(|i| MONTHS.get(i as usize)).unwrap_or(&"");
                write!(f, "{ordinal} {day} of {month}")
            }
        }
    }
}

/// One row of the international-days CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct InternationalDay {
    pub rule: DateRule,
    /// Language code → the day's official name in that language; always has `en`.
    pub names: BTreeMap<String, String>,
    pub link: String,
    /// The first year the day is observed (the year it was proclaimed for): an edition of an
    /// earlier year does not announce it. `None`: every year.
    pub since: Option<i32>,
    /// The CSV line the day was read from (the header is line 1).
    pub line: usize,
}

impl InternationalDay {
    /// Whether the day is observed in `year`.
    pub fn observed_in(&self, year: i32) -> bool {
        self.since.is_none_or(|since| year >= since)
    }
}

/// Parses the international-days CSV (`rule`, `link`, an optional `since` year and one column
/// per language code, `en` required). Every problem is reported as `{source}:{line}: {why}`, all of them in one pass.
pub fn parse_days(text: &str, source: &str) -> Result<Vec<InternationalDay>, Report> {
    let file = PathBuf::from(source);
    let at = |line: u64, why: String| Diagnostic::error(&file, usize::try_from(line).ok(), why);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| Report::from(vec![at(1, e.to_string())]))?
        .clone();

    let mut problems = Vec::new();
    let (mut rule_column, mut link_column, mut languages) = (None, None, Vec::new());
    let mut since_column = None;
    for (column, name) in header.iter().enumerate() {
        let slot = match name {
            "rule" => &mut rule_column,
            "link" => &mut link_column,
            "since" => &mut since_column,
            code => {
                match code.parse::<Language>() {
                    Ok(_) if languages.iter().any(|(_, l)| l == code) => {
                        problems.push(at(1, format!("the column `{code}` appears twice")))
                    }
                    Ok(_) => languages.push((column, code.to_string())),
                    Err(why) => problems.push(at(
                        1,
                        format!("unknown column: {why}; the other columns are `rule`, `link` and `since`"),
                    )),
                }
                continue;
            }
        };
        if slot.replace(column).is_some() {
            problems.push(at(1, format!("the column `{name}` appears twice")));
        }
    }
    let has_english = languages.iter().any(|(_, l)| l == "en");
    for (missing, what) in [
        (rule_column.is_none(), "rule"),
        (link_column.is_none(), "link"),
        (!has_english, "en"),
    ] {
        if missing {
            problems.push(at(
                1,
                format!(
                    "the header has no `{what}` column: it needs `rule`, `link`, `en` and any other language codes"
                ),
            ));
        }
    }
    let (Some(rule_column), Some(link_column), true) = (rule_column, link_column, problems.is_empty()) else {
        return Err(Report::from(problems));
    };

    let mut days = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(at(e.position().map_or(0, |p| p.line()), e.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != header.len() {
            problems.push(at(
                line,
                format!(
                    "the row has {} fields but the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let cell = |column: usize| record.get(column).unwrap_or("");
        let rule = cell(rule_column)
            .parse::<DateRule>()
            .map_err(|why| problems.push(at(line, why)));
        let link = match cell(link_column).parse::<WebUrl>() {
            Ok(url) if url.as_str().starts_with("https://") => Some(cell(link_column).to_string()),
            Ok(_) => {
                problems.push(at(
                    line,
                    format!("the link `{}` must be an https:// address", cell(link_column)),
                ));
                None
            }
            Err(why) => {
                problems.push(at(line, why));
                None
            }
        };
        let names: BTreeMap<String, String> = languages
            .iter()
            .filter(|(column, _)| !cell(*column).is_empty())
            .map(|(column, code)| (code.clone(), cell(*column).to_string()))
            .collect();
        if !names.contains_key("en") {
            problems.push(at(line, "the English name (`en`) is empty: every day needs one".into()));
            continue;
        }
        let since = match since_column.map(cell).filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(year) => parse_year(year).map(Some).map_err(|why| problems.push(at(line, why))),
        };
        if let (Ok(rule), Some(link), Ok(since)) = (rule, link, since) {
            days.push(InternationalDay {
                rule,
                names,
                link,
                since,
                line: line as usize,
            });
        }
    }
    if problems.is_empty() {
        Ok(days)
    } else {
        Err(Report::from(problems))
    }
}

/// A `since` cell: the four-digit year the day was first observed.
fn parse_year(text: &str) -> Result<i32, String> {
    match text.parse::<i32>() {
        Ok(year) if text.len() == 4 && (1900..=2999).contains(&year) => Ok(year),
        _ => Err(format!(
            "`{text}` is not a year: `since` is the four-digit year the day was first observed, like `2019`, or empty"
        )),
    }
}

/// Reads the international-days CSV at `path` and parses it (see [`parse_days`]).
/// The days shipped with infoflash (`data/international-days.csv`), used when a project has no
/// file of its own.
pub const EMBEDDED: &str = include_str!("../../data/international-days.csv");

/// [`EMBEDDED`], parsed once. A unit test makes sure it parses without a problem.
pub fn embedded() -> std::sync::Arc<Vec<InternationalDay>> {
    static DAYS: std::sync::LazyLock<std::sync::Arc<Vec<InternationalDay>>> = std::sync::LazyLock::new(|| {
        std::sync::Arc::new(parse_days(EMBEDDED, "<embedded international-days.csv>").unwrap_or_default())
    });
    DAYS.clone()
}

pub fn load_days(path: &Path) -> Result<Vec<InternationalDay>, Report> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let mut report = Report::new();
        report.at(
            Severity::Error,
            path,
            None,
            format!("cannot read the international days: {e}"),
        );
        report
    })?;
    parse_days(&text, &path.display().to_string())
}

/// Every occurrence of `days` from `from` to `until` (both included), across as many years as the
/// span covers, sorted by date and then by English name.
pub fn between(days: &[InternationalDay], from: NaiveDate, until: NaiveDate) -> Vec<(NaiveDate, &InternationalDay)> {
    let mut found: Vec<_> = (from.year()..=until.year())
        .flat_map(|year| {
            days.iter()
                .filter(move |day| day.observed_in(year))
                .filter_map(move |day| Some((day.rule.on(year)?, day)))
        })
        .filter(|(date, _)| (from..=until).contains(date))
        .collect();
    let english = |day: &InternationalDay| day.names.get("en").cloned().unwrap_or_default();
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| english(a.1).cmp(&english(b.1))));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rule(text: &str) -> DateRule {
        text.parse().unwrap()
    }

    const SAMPLE: &str = "\
rule,en,fr,link
12-18,International Migrants Day,Journée internationale des migrants,https://www.un.org/en/observances/migrants-day
12-20,International Human Solidarity Day,,https://www.un.org/en/observances/human-solidarity-day
01-04,World Braille Day,Journée mondiale du braille,https://www.un.org/en/observances/braille-day
01-24,International Day of Education,Journée internationale de l'éducation,https://www.unesco.org/en/days/education
03-21,World Poetry Day,Journée mondiale de la poésie,https://www.unesco.org/en/days/poetry
03-21,\"International Day for the Elimination of Racial Discrimination\",,https://www.un.org/en/observances/end-racism-day
02-29,Leap Day,,https://www.un.org/en/observances/leap-day
";

    #[test]
    fn fixed_rules_fall_on_their_day_every_year() {
        for year in 2025..=2030 {
            assert_eq!(rule("01-24").on(year), Some(d(year, 1, 24)));
            assert_eq!(rule("12-31").on(year), Some(d(year, 12, 31)));
        }
    }

    #[test]
    fn february_29_falls_only_in_leap_years() {
        let leap = rule("02-29");
        assert_eq!(leap.on(2028), Some(d(2028, 2, 29)));
        assert_eq!(leap.on(2027), None);
        assert_eq!(leap.on(2000), Some(d(2000, 2, 29)));
        assert_eq!(leap.on(2100), None);
    }

    #[test]
    fn last_saturday_of_september_from_2025_to_2030() {
        let last = rule("last saturday of september");
        let expected = [(2025, 27), (2026, 26), (2027, 25), (2028, 30), (2029, 29), (2030, 28)];
        for (year, day) in expected {
            assert_eq!(last.on(year), Some(d(year, 9, day)), "{year}");
        }
    }

    #[test]
    fn third_thursday_of_november_over_several_years() {
        let philosophy = rule("third thursday of november");
        let expected = [(2025, 20), (2026, 19), (2027, 18), (2028, 16), (2029, 15), (2030, 21)];
        for (year, day) in expected {
            assert_eq!(philosophy.on(year), Some(d(year, 11, day)), "{year}");
        }
        assert_eq!(rule("first monday of october").on(2026), Some(d(2026, 10, 5)));
        assert_eq!(rule("last thursday of september").on(2027), Some(d(2027, 9, 30)));
    }

    #[test]
    fn rules_are_written_back_as_they_were_read() {
        for text in [
            "01-24",
            "02-29",
            "first saturday of july",
            "second monday of may",
            "fourth sunday of march",
            "last thursday of september",
        ] {
            assert_eq!(rule(text).to_string(), text);
        }
        assert_eq!(
            rule("third thursday of november"),
            DateRule::Nth {
                nth: Nth::Third,
                weekday: Weekday::Thu,
                month: 11
            }
        );
    }

    #[test]
    fn bad_rules_are_rejected_with_a_message() {
        for bad in ["02-30", "13-01", "00-10", "04-31"] {
            let err = bad.parse::<DateRule>().unwrap_err();
            assert!(err.contains("not a day of the year"), "{bad}: {err}");
        }
        for bad in [
            "1-24",
            "24 january",
            "",
            "third thursday in november",
            "thursday of november",
        ] {
            let err = bad.parse::<DateRule>().unwrap_err();
            assert!(
                err.contains("third thursday of november") && err.contains("01-24"),
                "{bad}: {err}"
            );
        }
        let err = "fifth monday of may".parse::<DateRule>().unwrap_err();
        assert!(err.contains("`fifth` is not an ordinal"), "{err}");
        let err = "third funday of may".parse::<DateRule>().unwrap_err();
        assert!(err.contains("`funday` is not a weekday"), "{err}");
        let err = "third thursday of novembre".parse::<DateRule>().unwrap_err();
        assert!(err.contains("`novembre` is not a month"), "{err}");
    }

    #[test]
    fn between_crosses_the_year_boundary_in_date_order() {
        let days = parse_days(SAMPLE, "sample.csv").unwrap();
        let found: Vec<_> = between(&days, d(2026, 12, 20), d(2027, 1, 31))
            .into_iter()
            .map(|(date, day)| (date, day.names["en"].as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (d(2026, 12, 20), "International Human Solidarity Day"),
                (d(2027, 1, 4), "World Braille Day"),
                (d(2027, 1, 24), "International Day of Education"),
            ]
        );
    }

    #[test]
    fn between_covers_several_years_and_sorts_a_shared_date_by_english_name() {
        let days = parse_days(SAMPLE, "sample.csv").unwrap();
        let found = between(&days, d(2026, 1, 1), d(2028, 12, 31));
        assert_eq!(
            found.len(),
            3 * 6 + 1,
            "six days a year for three years, and 2028's leap day"
        );
        let march: Vec<_> = found
            .iter()
            .filter(|(date, _)| *date == d(2027, 3, 21))
            .map(|(_, day)| day.line)
            .collect();
        assert_eq!(march, [7, 6], "Racial Discrimination sorts before Poetry");
        assert!(between(&days, d(2027, 2, 1), d(2027, 1, 1)).is_empty());
    }

    #[test]
    fn an_empty_name_cell_means_no_name_in_that_language() {
        let days = parse_days(SAMPLE, "sample.csv").unwrap();
        assert_eq!(
            days[0].names.get("fr").map(String::as_str),
            Some("Journée internationale des migrants")
        );
        assert_eq!(days[1].names.get("fr"), None);
        assert_eq!((days[0].line, days[1].line), (2, 3));
    }

    /// Each problem as `file:line: message`, to compare with what a reader is told.
    fn places(report: &Report) -> Vec<String> {
        report
            .iter()
            .map(|d| match d.line {
                Some(line) => format!("{}:{line}: {}", d.file.display(), d.message),
                None => format!("{}: {}", d.file.display(), d.message),
            })
            .collect()
    }

    #[test]
    fn a_csv_with_two_bad_rows_reports_both_with_their_line_numbers() {
        let text = "\
rule,en,es,link
01-24,International Day of Education,Día Internacional de la Educación,https://www.unesco.org/en/days/education
02-30,Not a Day,,https://www.un.org/en/observances/none
03-08,International Women's Day,Día Internacional de la Mujer,https://www.un.org/en/observances/womens-day
fifth friday of may,,,http://www.un.org/en/observances/none
";
        let problems = parse_days(text, "days.csv").unwrap_err();
        let problems = places(&problems);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(
            problems[0].starts_with("days.csv:3: `02-30` is not a day of the year"),
            "{problems:#?}"
        );
        assert!(
            problems[1..].iter().all(|p| p.starts_with("days.csv:5: ")),
            "{problems:#?}"
        );
        assert!(problems.iter().any(|p| p.contains("English name")), "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("https://")), "{problems:#?}");
    }

    #[test]
    fn the_header_names_rule_link_and_language_codes_only() {
        let problems = parse_days("rule,English,fr,link\n01-24,x,y,https://www.un.org/\n", "h.csv").unwrap_err();
        let problems = places(&problems);
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("h.csv:1: unknown column: `English`")),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("h.csv:1: the header has no `en` column")),
            "{problems:#?}"
        );
        let problems = parse_days("rule,en,en\n", "h.csv").unwrap_err();
        let problems = places(&problems);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("`en` appears twice") && problems[1].contains("no `link` column"));
    }

    #[test]
    fn a_missing_file_is_reported_with_its_path() {
        let problems = load_days(Path::new("/nonexistent/international-days.csv")).unwrap_err();
        let problems = places(&problems);
        assert!(
            problems[0].starts_with("/nonexistent/international-days.csv: cannot read"),
            "{problems:#?}"
        );
    }

    #[test]
    fn the_data_file_parses_and_covers_every_month() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/international-days.csv");
        let days = load_days(&path).unwrap_or_else(|problems| panic!("{problems:#?}"));
        assert!(days.len() >= 45, "only {} days", days.len());
        for day in &days {
            for language in ["en", "fr", "es"] {
                assert!(
                    day.names.contains_key(language),
                    "line {}: no `{language}` name",
                    day.line
                );
            }
            assert!(
                ["https://www.un.org/", "https://www.unesco.org/"]
                    .iter()
                    .any(|site| day.link.starts_with(site)),
                "line {}: {}",
                day.line,
                day.link
            );
        }
        let year = between(&days, d(2027, 1, 1), d(2027, 12, 31));
        assert_eq!(year.len(), days.len(), "every day falls once in 2027");
        let months: std::collections::BTreeSet<u32> = year.iter().map(|(date, _)| date.month()).collect();
        assert_eq!(months.len(), 12, "{months:?}");
        // Rows are ordered by date; a rule such as `last thursday of september` sits where it
        // usually falls, so only its month is checked.
        let months: Vec<u32> = days
            .iter()
            .filter_map(|day| day.rule.on(2027))
            .map(|date| date.month())
            .collect();
        assert!(months.is_sorted(), "rows are ordered by month");
        let fixed: Vec<_> = days
            .iter()
            .filter_map(|day| match day.rule {
                DateRule::Fixed { month, day } => Some((month, day)),
                DateRule::Nth { .. } => None,
            })
            .collect();
        assert!(fixed.is_sorted(), "fixed days are ordered by date");
    }

    #[test]
    fn a_day_is_listed_only_from_its_since_year() {
        let text = "rule,since,en,link\n06-11,2024,International Day of Play,https://www.un.org/en/observances/play-day\n06-05,,World Environment Day,https://www.un.org/en/observances/environment-day\n";
        let days = parse_days(text, "days.csv").unwrap();
        assert_eq!(days[0].since, Some(2024));
        assert_eq!(days[1].since, None);
        let names = |from: NaiveDate, until: NaiveDate| -> Vec<String> {
            between(&days, from, until)
                .iter()
                .map(|(_, day)| day.names["en"].clone())
                .collect()
        };
        assert_eq!(names(d(2020, 6, 1), d(2020, 6, 30)), ["World Environment Day"]);
        assert_eq!(
            names(d(2024, 6, 1), d(2024, 6, 30)),
            ["World Environment Day", "International Day of Play"]
        );
        // A window across the new year counts each occurrence in its own year.
        assert!(names(d(2023, 6, 1), d(2024, 6, 30)).contains(&"International Day of Play".to_string()));
        assert_eq!(
            names(d(2023, 6, 1), d(2024, 6, 1))
                .iter()
                .filter(|n| n.as_str() == "International Day of Play")
                .count(),
            0
        );
    }

    #[test]
    fn a_since_that_is_not_a_year_is_reported_at_its_line() {
        let text = "rule,since,en,link\n06-11,24,International Day of Play,https://www.un.org/en/observances/play-day\n06-12,2002,World Day Against Child Labour,https://www.un.org/en/observances/world-day-against-child-labour\n";
        let report = parse_days(text, "days.csv").unwrap_err();
        let text = report.to_string();
        assert!(text.contains("days.csv:2"), "{text}");
        assert!(text.contains("`24` is not a year"), "{text}");
        assert!(!text.contains("days.csv:3"), "{text}");
    }

    #[test]
    fn every_day_of_the_shipped_calendar_is_observed_by_2026_and_some_start_late() {
        let days = parse_days(EMBEDDED, "data/international-days.csv").unwrap();
        assert!(days.iter().all(|day| day.observed_in(2026)));
        let play = days
            .iter()
            .find(|day| day.names["en"] == "International Day of Play")
            .unwrap();
        assert!(!play.observed_in(2020) && play.observed_in(2024));
        assert!(days.iter().filter(|day| day.since.is_some()).count() > days.len() / 2);
    }
}
