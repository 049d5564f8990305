//! `infoflash next` on a copy of the sample project: the N°23 it writes passes `check`, carries
//! the open calls over as reminders in every language, and is never overwritten. Each defect of
//! issue 14 about `next` has its test here: subjects left at the old number, an invitation with
//! sessions ahead dropped as "no deadline", stale `hide` entries warned about two editions
//! later, past dates left in a reminder's prose.

mod common;
use common::*;

use std::path::{Path, PathBuf};

const SAMPLE: &str = "editions/2026-01-info-flash-22.toml";
const NEXT: &str = "editions/2026-01-info-flash-23.toml";

/// A project folder with the sample edition and the settings, as an editor has them.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::copy(sample_edition(), dir.path().join(SAMPLE)).unwrap();
    std::fs::copy(root().join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    dir
}

fn run_next(dir: &Path) -> (std::process::Output, PathBuf) {
    let out = infoflash(dir, &["next", SAMPLE]);
    (out, dir.join(NEXT))
}

/// `infoflash next` on the sample, which must succeed: its output and the file it wrote.
fn next_ok(dir: &Path) -> (std::process::Output, String) {
    let (out, path) = run_next(dir);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let text = std::fs::read_to_string(path).unwrap();
    (out, text)
}

/// `infoflash check FILE` in `dir`, which must pass (warnings allowed); returns its report.
fn check_passes(dir: &Path, file: &str) -> String {
    let check = infoflash(dir, &["check", file]);
    let report = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{report}{}", stderr(&check));
    assert!(report.contains(" 0 error(s)"), "{report}");
    report
}

fn items(doc: &toml::Table) -> Vec<&toml::Table> {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_table().unwrap())
        .collect()
}

fn label<'a>(item: &'a toml::Table, language: &str) -> Option<&'a str> {
    if language == "en" {
        item.get("label")?.as_str()
    } else {
        item.get("translations")?.get(language)?.get("label")?.as_str()
    }
}

#[test]
fn next_writes_edition_23_two_weeks_later_that_check_accepts() {
    let dir = project();
    let (out, path) = run_next(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains(NEXT), "{}", stdout(&out));

    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["edition"]["number"].as_integer(), Some(23));
    assert_eq!(doc["edition"]["date"].to_string(), "2026-01-27");

    check_passes(dir.path(), NEXT);
}

#[test]
fn open_calls_come_back_as_reminders_in_english_french_and_spanish() {
    let dir = project();
    let (_, text) = next_ok(dir.path());
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let items = items(&doc);
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "global-aspnet-conference-2026",
            "korean-aspnet-exchange-project-2026",
            "right-to-education-consultation"
        ]
    );
    let expected = [
        (
            "en",
            "REMINDER + CALL FOR PARTNERS",
            "REMINDER + CALL FOR PARTICIPATION",
        ),
        ("fr", "RAPPEL + APPEL À PARTENAIRES", "RAPPEL + APPEL À PARTICIPATION"),
        (
            "es",
            "RECORDATORIO + CONVOCATORIA DE SOCIOS",
            "RECORDATORIO + CONVOCATORIA DE PARTICIPACIÓN",
        ),
    ];
    for (language, partners, participation) in expected {
        assert_eq!(label(items[1], language), Some(partners), "{language}");
        assert_eq!(label(items[2], language), Some(participation), "{language}");
    }
    // The conference showed no label; as a reminder it says so, and nothing more.
    assert_eq!(label(items[0], "en"), Some("REMINDER"));
    assert_eq!(label(items[0], "fr"), Some("RAPPEL"));
    assert_eq!(label(items[0], "es"), Some("RECORDATORIO"));
}

#[test]
fn what_is_over_is_left_out() {
    let dir = project();
    let (out, text) = next_ok(dir.path());
    let doc: toml::Table = toml::from_str(&text).unwrap();
    // ISO dates sort as text.
    let after = |v: &toml::Value| v.to_string().as_str() >= "2026-01-27";
    for item in items(&doc) {
        for key in ["deadlines", "sessions"] {
            for entry in item.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
                assert!(after(&entry["date"]), "{}: {key} {}", item["id"], entry["date"]);
            }
        }
    }
    let days = doc["international_days"]["days"].as_array().unwrap();
    assert!(days.iter().all(|day| after(&day["date"])), "{days:?}");
    // The dropped items are named, with why.
    let text = stdout(&out);
    for (id, why) in [
        (
            "webinar-emergencies-and-disaster",
            "every deadline, session and event date is past",
        ),
        ("santo-domingo-roadmap", "no deadline, session or event date"),
        ("winds-of-peace-project", "no deadline, session or event date"),
        (
            "international-day-of-education-2026-event",
            "every deadline, session and event date is past",
        ),
    ] {
        assert!(text.contains(&format!("  {id}: {why}")), "{text}");
    }
}

/// The `subject` of each language in the written file.
fn subjects(doc: &toml::Table) -> Vec<String> {
    let edition = &doc["edition"];
    let mut all = vec![edition["subject"].as_str().unwrap().to_string()];
    for language in ["fr", "es"] {
        all.push(
            edition["translations"][language]["subject"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    all
}

#[test]
fn the_subjects_name_the_new_number_in_every_language_and_check_finds_no_other() {
    let dir = project();
    let (out, text) = next_ok(dir.path());
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let subjects = subjects(&doc);
    assert!(subjects[0].starts_with("ASPnet Info Flash N°23: "), "{subjects:?}");
    assert!(
        subjects[1].starts_with("Info Flash ASPnet N°23\u{a0}: "),
        "{subjects:?}"
    );
    assert!(subjects[2].starts_with("Info Flash ASPnet N.º 23: "), "{subjects:?}");
    // Only the number changed: "2026" and the rest of each subject are as written.
    assert!(
        subjects[2].ends_with("Conferencia Mundial de la ASPnet 2026"),
        "{subjects:?}"
    );
    // What still names N°22 is the comment on the first line: left for the editor, and said.
    assert_eq!(
        text.matches("N°22").count() + text.matches("N.º 22").count(),
        1,
        "{text}"
    );
    assert!(text.starts_with("# ASPnet Bi-weekly Info Flash N°22 (13 January 2026)"));
    assert!(
        stdout(&out).contains(&format!("{NEXT}:1: warning: still names \"N°22\"")),
        "{}",
        stdout(&out)
    );

    let report = check_passes(dir.path(), NEXT);
    assert!(!report.contains("names \""), "{report}");
}

#[test]
fn an_invitation_whose_sessions_are_after_the_new_date_is_carried_without_a_deadline() {
    let dir = project();
    // The English and Spanish sessions of the webinar move to February (the French one stays
    // on 21 January): it has no deadline, but readers can still join.
    let sample = dir.path().join(SAMPLE);
    let text = std::fs::read_to_string(&sample).unwrap();
    let moved = text
        .replace(
            "language = \"en\"\ndate = 2026-01-20",
            "language = \"en\"\ndate = 2026-02-03",
        )
        .replace(
            "language = \"es\"\ndate = 2026-01-20",
            "language = \"es\"\ndate = 2026-02-04",
        );
    assert_ne!(moved, text, "the sample's webinar sessions moved");
    std::fs::write(&sample, moved).unwrap();

    let (out, path) = run_next(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = stdout(&out);
    let dropped = summary.split("Dropped:").nth(1).unwrap_or_default();
    assert!(!dropped.contains("webinar-emergencies-and-disaster"), "{summary}");
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let webinar = items(&doc)
        .into_iter()
        .find(|i| i["id"].as_str() == Some("webinar-emergencies-and-disaster"))
        .expect("the webinar is carried over");
    assert_eq!(label(webinar, "en"), Some("REMINDER + INVITATION"));
    assert_eq!(label(webinar, "es"), Some("RECORDATORIO + INVITACIÓN"));
    // The French session of 21 January is over and goes; the two in February stay.
    let languages: Vec<&str> = webinar["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["language"].as_str().unwrap())
        .collect();
    assert_eq!(languages, ["en", "es"]);

    check_passes(dir.path(), NEXT);
}

#[test]
fn next_twice_drops_the_hide_entries_that_would_hide_nothing_and_n24_checks_without_errors() {
    let dir = project();
    let (first, _) = run_next(dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let second = infoflash(dir.path(), &["next", NEXT]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let n24 = "editions/2026-02-info-flash-24.toml";
    let text = std::fs::read_to_string(dir.path().join(n24)).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(doc["edition"]["number"].as_integer(), Some(24));
    assert!(subjects(&doc)[0].contains("N°24"), "{:?}", subjects(&doc));
    // World Wetlands Day (2 February) and Human Fraternity (4 February) are before N°24.
    let hide: Vec<&str> = doc["international_days"]["hide"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(
        hide,
        [
            "International Day of Women and Girls in Science",
            "World Radio Day",
            "World Day of Social Justice"
        ]
    );
    assert!(
        stdout(&second).contains("World Wetlands Day, International Day of Human Fraternity"),
        "{}",
        stdout(&second)
    );
    // The comment above `hide` stays with what is kept.
    assert!(
        text.contains("so the UN-wide ones of these weeks are hidden.\nhide = ["),
        "{text}"
    );

    let report = check_passes(dir.path(), n24);
    assert!(!report.contains("hides nothing"), "{report}");
    assert!(report.contains(" 0 error(s)"), "{report}");
}

#[test]
fn check_of_n23_warns_at_each_past_date_left_in_a_reminders_prose() {
    let dir = project();
    let (_, text) = next_ok(dir.path());
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;

    let report = check_passes(dir.path(), NEXT);
    // The conference's body still says "by 15 January 2026" and "by 26 January 2026", in three
    // languages; N°23 is dated 27 January.
    for written in [
        "**15 January 2026**",
        "**26 January 2026**",
        "**15 janvier 2026**",
        "**26 janvier 2026**",
        "**15 de enero de 2026**",
        "**26 de enero de 2026**",
    ] {
        let wanted = format!(
            "{NEXT}:{}: warning: item `global-aspnet-conference-2026`",
            line_of(written)
        );
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&wanted) && l.contains(written.trim_matches('*'))),
            "{wanted} … {written}:\n{report}"
        );
    }
    assert!(report.contains("0 error(s), 6 warning(s)"), "{report}");
}

#[test]
fn next_never_overwrites_an_existing_file() {
    let dir = project();
    let (first, path) = run_next(dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    std::fs::write(&path, "# edited by hand\n").unwrap();

    let (again, _) = run_next(dir.path());
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# edited by hand\n");
}

#[test]
fn out_names_the_file_or_the_folder_to_write_into() {
    let dir = project();
    std::fs::create_dir(dir.path().join("drafts")).unwrap();
    let out = infoflash(dir.path(), &["next", SAMPLE, "--out", "drafts"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("drafts/2026-01-info-flash-23.toml").is_file());

    let out = infoflash(dir.path(), &["next", SAMPLE, "--out", "drafts/2026-01-special-23.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("drafts/2026-01-special-23.toml").is_file());
    assert!(!dir.path().join(NEXT).exists());
}

#[test]
fn a_file_that_is_not_an_edition_is_refused_with_its_line() {
    let dir = project();
    std::fs::write(
        dir.path().join("editions/broken-1.toml"),
        "[edition]\nnumber = \"one\"\n",
    )
    .unwrap();
    let out = infoflash(dir.path(), &["next", "editions/broken-1.toml"]);
    assert_eq!(out.status.code(), Some(1));
    // The loader's own diagnostic, as `check` prints it.
    assert!(
        stderr(&out).contains("editions/broken-1.toml:2:10: error: invalid type: string \"one\""),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("editions/broken-2.toml").exists());
}

#[test]
fn a_file_saved_on_windows_gets_a_next_edition_with_the_same_line_ends_and_byte_order_mark() {
    let dir = project();
    let sample = dir.path().join(SAMPLE);
    let crlf = format!(
        "\u{feff}{}",
        std::fs::read_to_string(&sample).unwrap().replace('\n', "\r\n")
    );
    std::fs::write(&sample, crlf).unwrap();
    let (_, text) = next_ok(dir.path());
    assert!(text.contains("number = 23\r\n"), "{text}");
    assert_eq!(
        text.matches("\r\n").count(),
        text.matches('\n').count(),
        "a line lost its CR"
    );
    check_passes(dir.path(), NEXT);
}

#[test]
fn an_event_list_comes_back_with_only_its_rows_still_ahead() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::copy(root().join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    let file = "editions/2026-03-community-7.toml";
    let source = std::fs::read_to_string(root().join("tests/fixtures/format/2026-03-community-7.toml")).unwrap();
    std::fs::write(dir.path().join(file), &source).unwrap();
    let out = infoflash(dir.path(), &["next", file]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("events-of-the-month: \"REMINDER + EVENTS\" (dropped"),
        "{}",
        stdout(&out)
    );
    let written = std::fs::read_to_string(dir.path().join("editions/2026-03-community-8.toml")).unwrap();
    let doc: toml::Table = written.parse().unwrap();
    let list = items(&doc)
        .into_iter()
        .find(|i| i["id"].as_str() == Some("events-of-the-month"))
        .expect("the event list is carried over");
    let rows = list["events"].as_array().unwrap();
    let before = source.matches("[[items.events]]").count();
    assert!(
        !rows.is_empty() && rows.len() < before,
        "{} of {before} rows",
        rows.len()
    );
    for row in rows {
        let last = ["ends", "starts", "date"]
            .iter()
            .find_map(|k| row.get(*k))
            .and_then(toml::Value::as_datetime)
            .unwrap_or_else(|| panic!("a row without a date: {row}"));
        // The next edition is dated 17 March 2026.
        assert!(last.to_string().as_str() >= "2026-03-17", "a past row was kept: {row}");
    }
}
