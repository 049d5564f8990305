//! Dates and times in the world's time zones: turning an editor's "10:00 Europe/Paris on 20
//! January" into an exact instant, and refusing the times that do not exist or happen twice.
//!
//! Owns time-zone arithmetic (chrono-tz). It must not format dates for people (that is
//! `render::i18n`, which knows languages) nor read files.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;

pub mod days;
pub mod ics;
pub mod mentions;

/// `[calendar]` settings: where the international days come from and the rhythm of editions.
#[derive(Debug, Clone)]
pub struct CalendarSettings {
    /// The CSV of international days (`data/international-days.csv`); when the default file
    /// is absent, the copy embedded in the binary is used.
    pub international_days: std::path::PathBuf,
    /// How far ahead of an edition's date its *upcoming international days* reach.
    pub days_weeks: u32,
    /// Days between two editions, for `infoflash next`.
    pub cadence_days: u32,
    /// Whether `[calendar] international_days` names a file (which then must exist).
    pub custom_days_file: bool,
    /// The days themselves: the file's when it exists, otherwise the embedded copy.
    pub days: std::sync::Arc<Vec<days::InternationalDay>>,
}

/// Parses an IANA zone name such as `Europe/Paris`.
///
/// Abbreviations such as `CET` or `EST` are refused even where the time-zone database still
/// knows them as legacy zones: they name one offset, not a place, and are exactly the slip
/// ("CEST" in January) that computed times are meant to prevent.
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    if !name.contains('/') && name != "UTC" {
        return Err(format!(
            "`{name}` is an abbreviation, not a place: use an IANA name like `Europe/Paris`, `America/Santiago` or `UTC`"
        ));
    }
    name.parse::<Tz>()
        .map_err(|_| format!("`{name}` is not an IANA time zone: use a name like `Europe/Paris` or `America/Santiago`"))
}

/// Parses a wall-clock time written `HH:MM` (24-hour).
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("`{text}` is not a time: write it as HH:MM on a 24-hour clock, like `09:30` or `17:00`"))
}

/// The instant at which the clocks of `zone` show `time` on `date`. Times skipped or repeated
/// by a daylight-saving change are errors: an invitation must name one instant.
pub fn zoned(date: NaiveDate, time: NaiveTime, zone: Tz) -> Result<DateTime<Tz>, String> {
    match zone.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(t) => Ok(t),
        LocalResult::None => Err(format!(
            "{date} {} does not exist in {zone}: the clocks skip it for daylight saving",
            time.format("%H:%M")
        )),
        LocalResult::Ambiguous(..) => Err(format!(
            "{date} {} happens twice in {zone} (the clocks go back): choose another time",
            time.format("%H:%M")
        )),
    }
}

/// The city part of an IANA name, for people: `America/Santiago` → `Santiago`.
pub fn city(zone: Tz) -> String {
    zone.name().rsplit('/').next().unwrap_or(zone.name()).replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn paris_is_cet_in_january_and_cest_in_july() {
        let t = parse_time("10:00").unwrap();
        let jan = zoned(d(2026, 1, 20), t, chrono_tz::Europe::Paris).unwrap();
        let jul = zoned(d(2026, 7, 20), t, chrono_tz::Europe::Paris).unwrap();
        assert_eq!(jan.format("%Z").to_string(), "CET");
        assert_eq!(jul.format("%Z").to_string(), "CEST");
        assert_eq!(jan.naive_utc().format("%H:%M").to_string(), "09:00");
    }

    #[test]
    fn rejects_a_time_skipped_by_daylight_saving() {
        let err = zoned(d(2026, 3, 29), parse_time("02:30").unwrap(), chrono_tz::Europe::Paris).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
        let err = zoned(d(2026, 10, 25), parse_time("02:30").unwrap(), chrono_tz::Europe::Paris).unwrap_err();
        assert!(err.contains("twice"), "{err}");
    }

    #[test]
    fn daylight_saving_changes_in_santiago_and_sydney_are_refused_too() {
        // Santiago springs forward at midnight on the first Sunday of September 2026...
        let santiago = chrono_tz::America::Santiago;
        assert!(zoned(d(2026, 9, 6), parse_time("00:30").unwrap(), santiago)
            .unwrap_err()
            .contains("does not exist"));
        // ...and falls back at midnight on the first Sunday of April.
        assert!(zoned(d(2026, 4, 4), parse_time("23:30").unwrap(), santiago)
            .unwrap_err()
            .contains("twice"));
        let sydney = chrono_tz::Australia::Sydney;
        assert!(zoned(d(2026, 10, 4), parse_time("02:30").unwrap(), sydney)
            .unwrap_err()
            .contains("does not exist"));
        assert!(zoned(d(2026, 4, 5), parse_time("02:30").unwrap(), sydney)
            .unwrap_err()
            .contains("twice"));
        // Sydney is 11 hours ahead of UTC in its summer (January), 10 in winter.
        let jan = zoned(d(2026, 1, 15), parse_time("10:00").unwrap(), sydney).unwrap();
        assert_eq!(jan.naive_utc().format("%d %H:%M").to_string(), "14 23:00");
        let jul = zoned(d(2026, 7, 15), parse_time("10:00").unwrap(), sydney).unwrap();
        assert_eq!(jul.naive_utc().format("%d %H:%M").to_string(), "15 00:00");
    }

    #[test]
    fn rejects_times_not_written_as_hours_and_minutes() {
        assert!(parse_time("10 a.m.").is_err());
        assert!(parse_time("25:00").is_err());
        assert!(parse_zone("CET/Paris").is_err());
        assert!(parse_zone("CET").unwrap_err().contains("abbreviation"));
        assert!(parse_zone("UTC").is_ok());
        assert!(parse_zone("CET").unwrap_err().contains("abbreviation"));
        assert!(parse_zone("UTC").is_ok());
        assert_eq!(city(chrono_tz::America::Port_of_Spain), "Port of Spain");
    }
}
