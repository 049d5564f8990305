//! The calendar stage through the binary: `infoflash days`, the computed *upcoming
//! international days* of an edition (with the edition's own additions, overrides and hides),
//! and the calendar files of sessions and events.

mod common;

use common::*;

#[test]
fn days_lists_the_window_with_rule_based_days_on_their_date_for_the_year() {
    let out = infoflash(&root(), &["days", "--from", "2026-11-01", "--weeks", "3", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let days: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let days = days.as_array().unwrap();
    let philosophy = days.iter().find(|d| d["rule"] == "third thursday of november");
    assert_eq!(
        philosophy.map(|d| d["date"].clone()),
        Some("2026-11-19".into()),
        "{days:#?}"
    );
    assert!(days.iter().all(|d| {
        let date = d["date"].as_str().unwrap();
        ("2026-11-01"..="2026-11-22").contains(&date)
    }));
    // The same rule falls on another day in 2027, and names follow --language.
    let out = infoflash(
        &root(),
        &["days", "--from", "2027-11-15", "--weeks", "1", "--language", "es"],
    );
    let text = stdout(&out);
    assert!(
        text.contains("jueves, 18 de noviembre de 2027  Día Mundial de la Filosofía"),
        "{text}"
    );
}

#[test]
fn days_without_from_lists_the_weeks_from_today() {
    let today = chrono::Local::now().date_naive();
    let out = infoflash(&root(), &["days", "--weeks", "8", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let explicit = infoflash(
        &root(),
        &["days", "--weeks", "8", "--json", "--from", &today.to_string()],
    );
    let dates = |o: &std::process::Output| -> Vec<String> {
        let days: serde_json::Value = serde_json::from_str(&stdout(o)).unwrap();
        days.as_array()
            .unwrap()
            .iter()
            .map(|d| d["date"].as_str().unwrap().to_string())
            .collect()
    };
    let (implicit, given) = (dates(&out), dates(&explicit));
    assert!(
        !implicit.is_empty(),
        "eight weeks of a full year's calendar hold no day?"
    );
    assert_eq!(implicit, given, "without --from, the window does not start today");
    let last = (today + chrono::Duration::weeks(8)).to_string();
    assert!(
        implicit.iter().all(|d| (today.to_string()..=last.clone()).contains(d)),
        "{implicit:?}"
    );
}

#[test]
fn days_refuses_a_language_that_is_not_configured() {
    let out = infoflash(&root(), &["days", "--language", "de"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not configured"), "{}", stderr(&out));
}

fn edition(days_block: &str) -> String {
    format!(
        r#"[edition]
series = "Info Flash"
number = 1
date = 2026-01-13
language = "en"
languages = ["en", "fr"]
time_zone = "Europe/Paris"

[[items]]
id = "a"
kind = "news"
title = "A"
body = "Text."
translations.fr = {{ title = "A", body = "Texte." }}
{days_block}
"#
    )
}

fn build_text(edition_text: &str, language: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2026-01-days-1.toml"), edition_text).unwrap();
    let out = build_into(dir.path(), &["2026-01-days-1.toml", "--language", language]);
    std::fs::read_to_string(out.path().join(format!("2026-01-days-1/{language}/email.txt"))).unwrap()
}

#[test]
fn an_edition_without_a_days_block_announces_the_days_of_the_next_six_weeks() {
    let text = build_text(&edition(""), "fr");
    // (French puts a narrow no-break space before the colon.)
    let day = |date: &str, name: &str| {
        text.lines()
            .any(|l| l.starts_with(&format!("- {date}")) && l.ends_with(name))
    };
    assert!(
        day("24 janvier 2026", "Journée internationale de l'éducation"),
        "{text}"
    );
    assert!(
        day("21 février 2026", "Journée internationale de la langue maternelle"),
        "{text}"
    );
    // 13 January + 6 weeks = 24 February: World Day of Social Justice (20 February) is in,
    // International Women's Day (8 March) is not.
    assert!(text.contains("Journée mondiale de la justice sociale"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("- 8 mars")), "{text}");
}

#[test]
fn an_edition_adds_overrides_and_hides_days() {
    let block = r#"
[international_days]
weeks = 3
hide = ["World Wetlands Day", "https://www.un.org/en/observances/human-fraternity"]

[[international_days.days]]
date = 2026-01-24
name = "Education Day, with our picture"
link = "https://www.unesco.org/en/days/education"
image = "https://www.example.org/education.jpg"
image_alt = "Children in a classroom"

[[international_days.days]]
date = 2026-03-14
name = "Our own school day"
link = "https://www.example.org/school-day"
"#;
    let text = build_text(&edition(block), "en");
    let days: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("UPCOMING INTERNATIONAL DAYS"))
        .filter(|l| l.starts_with("- "))
        .collect();
    assert_eq!(
        days,
        vec![
            "- 24 January 2026: Education Day, with our picture",
            "- 27 January 2026: International Day of Commemoration in Memory of the",
            "- 14 March 2026: Our own school day",
        ],
        "{text}"
    );
}

#[test]
fn a_hide_that_matches_no_day_is_a_warning_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = edition("\n[international_days]\nhide = [\"World Cheese Day\"]\n");
    std::fs::write(dir.path().join("2026-01-days-1.toml"), &text).unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-days-1.toml"]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let line = text.lines().position(|l| l.starts_with("hide")).unwrap() + 1;
    assert!(
        report.contains(&format!(
            "2026-01-days-1.toml:{line}: warning: `World Cheese Day` hides nothing"
        )),
        "{report}"
    );
}

#[test]
fn office_variants_give_each_session_in_the_offices_own_time_too() {
    let out = build_into(
        &root(),
        &["editions/2026-01-info-flash-22.toml", "--office", "santiago"],
    );
    let text = std::fs::read_to_string(out.path().join("2026-01-info-flash-22/en-santiago/email.txt")).unwrap();
    // 10:00 in Paris (UTC+1) is 06:00 in Santiago, on summer time (UTC-3) in January.
    assert!(
        text.contains("Tuesday 20 January 2026, 10:00 CET (Paris) = 06:00 in Santiago"),
        "{text}"
    );
    let international = build_into(&root(), &["editions/2026-01-info-flash-22.toml", "--language", "en"]);
    let text = std::fs::read_to_string(international.path().join("2026-01-info-flash-22/en/email.txt")).unwrap();
    assert!(!text.contains(" = "), "only office variants add a local time");
}

#[test]
fn a_session_late_in_paris_is_on_the_next_day_in_bangkok() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    let settings = std::fs::read_to_string(root().join("infoflash.toml")).unwrap();
    std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
    std::fs::create_dir_all(dir.path().join("recipients")).unwrap();
    let text = r#"[edition]
series = "Info Flash"
number = 1
date = 2026-01-13
language = "en"
time_zone = "Europe/Paris"

[[items]]
id = "webinar"
kind = "invitation"
title = "Evening webinar"
body = "Join us."

[[items.sessions]]
language = "en"
date = 2026-01-20
start = "19:30"
end = "20:30"
link = "https://zoom.example.org/evening"
"#;
    std::fs::write(dir.path().join("editions/2026-01-evening-1.toml"), text).unwrap();
    let out = build_into(
        dir.path(),
        &[
            "editions/2026-01-evening-1.toml",
            "--office",
            "bangkok",
            "--language",
            "en",
        ],
    );
    let text = std::fs::read_to_string(out.path().join("2026-01-evening-1/en-bangkok/email.txt")).unwrap();
    // The text part wraps the line; read it as one.
    let text = text.replace("\n  ", " ");
    assert!(
        text.contains("ENGLISH: Tuesday 20 January 2026, 19:30–20:30 CET (Paris) = 21 January 01:30–02:30 in Bangkok"),
        "{text}"
    );
}

/// Reads every .ics file given and prints, per file: UID, DTSTART and DTEND as UTC ISO
/// instants (or dates), SUMMARY — through the `icalendar` package, not our writer.
const READ_ICS: &str = r#"
import sys, json, icalendar, datetime
out = {}
for path in sys.argv[1:]:
    cal = icalendar.Calendar.from_ical(open(path, "rb").read())
    (event,) = cal.walk("VEVENT")
    def when(key):
        v = event.get(key)
        if v is None: return None
        v = v.dt
        if isinstance(v, datetime.datetime): return v.astimezone(datetime.timezone.utc).isoformat()
        return v.isoformat()
    out[path.rsplit("/", 1)[1]] = {"uid": str(event["UID"]), "start": when("DTSTART"),
                                   "end": when("DTEND"), "summary": str(event["SUMMARY"])}
print(json.dumps(out))
"#;

fn read_calendar(dir: &std::path::Path) -> serde_json::Value {
    let python = require("python3", "apt-get install -y python3");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import icalendar"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the Python package icalendar is needed: python3 -m pip install icalendar (./scripts/test does this)"
    );
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no calendar files in {}", dir.display());
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(READ_ICS)
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn calendar_files_parse_independently_at_the_right_instants_with_stable_uids() {
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml"]);
    let base = out.path().join("2026-01-info-flash-22");
    let en = read_calendar(&base.join("en/calendar"));
    let meeting = &en["global-aspnet-conference-2026-1.ics"];
    // 09:30–10:30 in Paris in January (CET, UTC+1).
    assert_eq!(meeting["start"], "2026-01-15T08:30:00+00:00", "{en:#}");
    assert_eq!(meeting["end"], "2026-01-15T09:30:00+00:00");
    assert_eq!(
        meeting["uid"],
        "2026-01-info-flash-22-global-aspnet-conference-2026-1@example.org"
    );
    assert_eq!(
        meeting["summary"],
        "Global ASPnet Conference 2026 — Asia and the Pacific"
    );
    // The conference itself: whole days, the end exclusive.
    let conference = &en["global-aspnet-conference-2026.ics"];
    assert_eq!(
        (conference["start"].as_str(), conference["end"].as_str()),
        (Some("2026-03-31"), Some("2026-04-03"))
    );
    // A session whose time is still to be announced has no calendar file.
    assert!(en.get("global-aspnet-conference-2026-3.ics").is_none(), "{en:#}");

    // The same sessions in French: same instants and UIDs, French summaries.
    let fr = read_calendar(&base.join("fr/calendar"));
    assert_eq!(fr["global-aspnet-conference-2026-1.ics"]["uid"], meeting["uid"]);
    assert_eq!(fr["global-aspnet-conference-2026-1.ics"]["start"], meeting["start"]);
    assert_ne!(fr["global-aspnet-conference-2026-1.ics"]["summary"], meeting["summary"]);

    // A rebuild writes the same bytes, so calendars see an update, not a new event.
    let again = build_into(&root(), &["editions/2026-01-info-flash-22.toml", "--language", "en"]);
    let file = "2026-01-info-flash-22/en/calendar/global-aspnet-conference-2026-1.ics";
    assert_eq!(
        std::fs::read(out.path().join(file)).unwrap(),
        std::fs::read(again.path().join(file)).unwrap()
    );
}

#[test]
fn weeks_zero_computes_no_day_even_one_on_the_editions_own_date() {
    // 24 January 2026 is the International Day of Education.
    let text = edition("\n[international_days]\nweeks = 0\n").replace("date = 2026-01-13", "date = 2026-01-24");
    let built = build_text(&text, "en");
    assert!(!built.contains("International Day of Education"), "{built}");
    let default = build_text(&edition("").replace("date = 2026-01-13", "date = 2026-01-24"), "en");
    assert!(default.contains("International Day of Education"), "{default}");
}

#[test]
fn the_settings_may_turn_the_computed_days_off_with_days_weeks_zero() {
    let dir = tempfile::tempdir().unwrap();
    let settings = std::fs::read_to_string(root().join("infoflash.toml"))
        .unwrap()
        .replace("days_weeks = 6", "days_weeks = 0");
    let settings = if settings.contains("days_weeks = 0") {
        settings
    } else {
        format!("{settings}\n[calendar]\ndays_weeks = 0\n")
    };
    std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
    std::fs::write(dir.path().join("2026-01-days-1.toml"), edition("")).unwrap();
    let out = build_into(dir.path(), &["2026-01-days-1.toml", "--language", "en"]);
    let text = std::fs::read_to_string(out.path().join("2026-01-days-1/en/email.txt")).unwrap();
    assert!(!text.contains("International Day of Education"), "{text}");
}

#[test]
fn a_day_is_announced_only_from_the_year_it_was_first_observed() {
    // The International Day of Play (11 June) was proclaimed in 2024.
    let listed = |from: &str| {
        let out = infoflash(&root(), &["days", "--from", from, "--weeks", "2"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert!(!listed("2020-06-05").contains("International Day of Play"));
    assert!(listed("2020-06-05").contains("World Day Against Child Labour"));
    assert!(listed("2024-06-05").contains("International Day of Play"));

    let edition = edition("").replace("date = 2026-01-13", "date = 2020-06-05");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2020-06-days-1.toml"), edition).unwrap();
    let out = build_into(dir.path(), &["2020-06-days-1.toml", "--language", "en"]);
    let text = std::fs::read_to_string(out.path().join("2020-06-days-1/en/email.txt")).unwrap();
    assert!(text.contains("World Day Against Child Labour"), "{text}");
    assert!(!text.contains("International Day of Play"), "{text}");
}

#[test]
fn a_calendar_without_a_languages_column_is_one_warning_and_a_missing_name_one_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    // Three days in the window; French names for all but one, no Arabic column at all.
    std::fs::write(
        dir.path().join("data/international-days.csv"),
        "rule,en,fr,link\n\
         01-24,International Day of Education,Journée internationale de l'éducation,https://example.org/education\n\
         01-27,Holocaust Remembrance Day,,https://example.org/holocaust\n\
         02-04,International Day of Human Fraternity,Journée internationale de la fraternité humaine,https://example.org/fraternity\n",
    )
    .unwrap();
    let settings = std::fs::read_to_string(root().join("infoflash.toml")).unwrap();
    std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
    let text = edition("").replace("languages = [\"en\", \"fr\"]", "languages = [\"en\", \"fr\", \"ar\"]").replace(
        "translations.fr = { title = \"A\", body = \"Texte.\" }",
        "translations.fr = { title = \"A\", body = \"Texte.\" }\ntranslations.ar = { title = \"أ\", body = \"نص.\" }",
    );
    std::fs::write(dir.path().join("2026-01-days-1.toml"), text).unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-days-1.toml"]);
    let report = stdout(&out);
    let calendar: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("data/international-days.csv"))
        .collect();
    assert_eq!(calendar.len(), 2, "{report}");
    assert!(
        calendar.iter().any(
            |l| l.starts_with("data/international-days.csv:1: warning: the 3 international days")
                && l.contains("no `ar` name")
                && l.contains("add a `ar` column")
        ),
        "{report}"
    );
    assert!(
        calendar.iter().any(|l| l.starts_with(
            "data/international-days.csv:3: warning: international day `Holocaust Remembrance Day` has no `fr` name"
        )),
        "{report}"
    );
    assert_eq!(out.status.code(), Some(0), "{report}");
}

#[test]
fn the_built_in_calendar_names_the_days_in_arabic_russian_and_chinese_too() {
    let text = edition("")
        .replace(
            "languages = [\"en\", \"fr\"]",
            "languages = [\"en\", \"fr\", \"ar\", \"ru\", \"zh\"]",
        )
        .replace(
            "translations.fr = { title = \"A\", body = \"Texte.\" }",
            "translations.fr = { title = \"A\", body = \"Texte.\" }\n\
             translations.ar = { title = \"أ\", body = \"نص.\" }\n\
             translations.ru = { title = \"А\", body = \"Текст.\" }\n\
             translations.zh = { title = \"甲\", body = \"文本。\" }",
        );
    // 13 January 2026: the International Day of Education (24 January) is in the window.
    for (language, name) in [
        ("ar", "اليوم الدولي للتعليم"),
        ("ru", "Международный день просвещения"),
        ("zh", "国际教育日"),
    ] {
        let body = build_text(&text, language);
        assert!(body.contains(name), "{language}: {body}");
        assert!(!body.contains("International Day of Education"), "{language}: {body}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2026-01-days-1.toml"), &text).unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-days-1.toml"]);
    assert!(!stdout(&out).contains("international day"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
