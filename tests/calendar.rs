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
    assert_eq!(philosophy.map(|d| d["date"].clone()), Some("2026-11-19".into()), "{days:#?}");
    assert!(days.iter().all(|d| {
        let date = d["date"].as_str().unwrap();
        ("2026-11-01"..="2026-11-22").contains(&date)
    }));
    // The same rule falls on another day in 2027, and names follow --language.
    let out = infoflash(&root(), &["days", "--from", "2027-11-15", "--weeks", "1", "--language", "es"]);
    let text = stdout(&out);
    assert!(text.contains("jueves, 18 de noviembre de 2027  Día Mundial de la Filosofía"), "{text}");
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
    let day = |date: &str, name: &str| text.lines().any(|l| l.starts_with(&format!("- {date}")) && l.ends_with(name));
    assert!(day("24 janvier 2026", "Journée internationale de l'éducation"), "{text}");
    assert!(day("21 février 2026", "Journée internationale de la langue maternelle"), "{text}");
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
        report.contains(&format!("2026-01-days-1.toml:{line}: warning: `World Cheese Day` hides nothing")),
        "{report}"
    );
}
