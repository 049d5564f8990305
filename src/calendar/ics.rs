//! Calendar files (RFC 5545 `.ics`, written with the `icalendar` crate) for the sessions,
//! meetings and events an edition announces, so that a reader adds one to their calendar with
//! a click instead of copying a time across zones.
//!
//! Owns the shape of an entry and its stable identity: the UID is derived from the edition,
//! the item and the session's position, so a re-render (or a corrected time) updates the
//! entry people already have instead of adding a second one. Times are written in UTC, which
//! every calendar converts to the reader's zone. It must not choose texts or languages: the
//! caller (`render`) gives the summary and description in the variant's language.

use chrono::{DateTime, NaiveDate, Utc};
use icalendar::{Calendar, Component, Event, EventLike};

/// When an entry happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// A session with a start (and maybe an end) time.
    Timed {
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
    },
    /// Whole days, `first` to `last` inclusive (an event's date range).
    Days { first: NaiveDate, last: NaiveDate },
}

/// One calendar entry, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable across re-renders: `<edition>-<item>[-<n>]@<domain>`.
    pub uid: String,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub url: Option<String>,
    pub when: When,
}

impl Entry {
    /// The `.ics` text. `stamp` (the DTSTAMP) is passed in so that the same edition always
    /// gives the same bytes.
    pub fn to_ics(&self, stamp: DateTime<Utc>) -> String {
        let mut event = Event::new();
        event
            .uid(&self.uid)
            .timestamp(stamp)
            .summary(&self.summary)
            .description(&self.description);
        match &self.when {
            When::Timed { start, end } => {
                event.starts(*start);
                if let Some(end) = end {
                    event.ends(*end);
                }
            }
            When::Days { first, last } => {
                // DTEND of an all-day event is exclusive.
                event.starts(*first).ends(last.succ_opt().unwrap_or(*last));
            }
        }
        if let Some(location) = &self.location {
            event.location(location);
        }
        if let Some(url) = &self.url {
            event.url(url);
        }
        let mut calendar = Calendar::new();
        calendar.push(event.done());
        calendar.done().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(when: When) -> Entry {
        Entry {
            uid: "2026-01-info-flash-22-meetings-1@example.org".into(),
            summary: "Regional meeting, Asia and the Pacific".into(),
            description: "Zoom: https://zoom.example.org/1".into(),
            location: None,
            url: Some("https://zoom.example.org/1".into()),
            when,
        }
    }

    #[test]
    fn a_session_is_written_in_utc_with_its_uid_and_a_fixed_stamp() {
        let start = Utc.with_ymd_and_hms(2026, 1, 15, 8, 30, 0).unwrap();
        let stamp = Utc.with_ymd_and_hms(2026, 1, 13, 0, 0, 0).unwrap();
        let ics = entry(When::Timed {
            start,
            end: Some(start + chrono::Duration::hours(1)),
        })
        .to_ics(stamp);
        for line in [
            "BEGIN:VCALENDAR",
            "BEGIN:VEVENT",
            "UID:2026-01-info-flash-22-meetings-1@example.org",
            "DTSTAMP:20260113T000000Z",
            "DTSTART:20260115T083000Z",
            "DTEND:20260115T093000Z",
            "URL:https://zoom.example.org/1",
        ] {
            assert!(ics.lines().any(|l| l == line), "no {line} in:\n{ics}");
        }
        assert!(ics.contains("\r\n"), "RFC 5545 lines end with CRLF");
        assert_eq!(
            ics,
            entry(When::Timed {
                start,
                end: Some(start + chrono::Duration::hours(1))
            })
            .to_ics(stamp)
        );
    }

    #[test]
    fn an_event_over_several_days_ends_the_day_after_its_last() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        let ics = entry(When::Days {
            first: d(31),
            last: d(31),
        })
        .to_ics(Utc::now());
        assert!(ics.contains("DTSTART;VALUE=DATE:20260331"), "{ics}");
        assert!(ics.contains("DTEND;VALUE=DATE:20260401"), "{ics}");
    }
}
