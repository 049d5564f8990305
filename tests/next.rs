//! `infoflash next` on a copy of the sample project: the N°23 it writes passes `check`, carries
//! the open calls over as reminders in every language, and is never overwritten.

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

    let check = infoflash(dir.path(), &["check", NEXT]);
    let report = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{report}{}", stderr(&check));
    assert!(report.contains(" 0 error(s)"), "{report}");
}

#[test]
fn open_calls_come_back_as_reminders_in_english_french_and_spanish() {
    let dir = project();
    let (out, path) = run_next(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
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
    let (out, path) = run_next(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
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
    for id in [
        "webinar-emergencies-and-disaster",
        "santo-domingo-roadmap",
        "winds-of-peace-project",
        "international-day-of-education-2026-event",
    ] {
        assert!(text.contains(&format!("  {id}: no deadline")), "{text}");
    }
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
    assert!(
        stderr(&out).contains("editions/broken-1.toml:2: `[edition] number` must be an integer"),
        "{}",
        stderr(&out)
    );
}
