//! The one translation rule (docs/edition-format.md, *Translations*): a missing translation
//! falls back to the edition's language with a warning at the line of what lacks it;
//! `translations = "required"` makes it an error; a build in a language the edition is not
//! written in is a usage error.

mod common;

use common::*;

const ENGLISH_AND_FRENCH: &str = r#"[edition]
series = "Info Flash"
number = 3
date = 2026-01-13
language = "en"
languages = ["en", "fr"]
time_zone = "Europe/Paris"
intro = "Welcome."
POLICY
[[items]]
id = "a"
kind = "news"
title = "A title"
body = "Some news."
"#;

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(start))
        .expect("the line is there")
        + 1
}

fn project_with(edition: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("editions")).unwrap();
    std::fs::write(dir.path().join("editions/2026-01-info-flash-3.toml"), edition).unwrap();
    dir
}

#[test]
fn a_missing_translation_falls_back_with_a_warning_at_its_line() {
    let edition = ENGLISH_AND_FRENCH.replace("POLICY", "");
    let dir = project_with(&edition);
    let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-3.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The intro and the item each have a warning at their own line, which names the variants
    // that fall back.
    for (line, what) in [
        (line_of(&edition, "intro"), "the edition's intro"),
        (line_of(&edition, "[[items]]"), "item `a` (title, body)"),
    ] {
        let wanted = format!("editions/2026-01-info-flash-3.toml:{line}");
        assert!(
            text.lines().any(|l| l.starts_with(&wanted)
                && l.contains("warning:")
                && l.contains(what)
                && l.contains("the `fr` variants show the `en` text")),
            "{wanted} {what}: {text}"
        );
    }
    assert!(text.contains("0 error(s), 2 warning(s)"), "{text}");
}

#[test]
fn translations_required_makes_a_missing_translation_an_error() {
    for policy in ["translations = \"required\"", "[edition.translations]\nrequired = true"] {
        let edition = ENGLISH_AND_FRENCH.replace("POLICY", policy);
        let dir = project_with(&edition);
        let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-3.toml"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{policy}: {text}");
        let at = format!(
            ":{}: error: item `a` (title, body) has no `fr` translation",
            line_of(&edition, "[[items]]")
        );
        assert!(text.contains(&at), "{policy}: {text}");
    }
}

#[test]
fn required_translations_that_are_all_there_pass() {
    let edition = ENGLISH_AND_FRENCH.replace(
        "POLICY",
        "[edition.translations]\nrequired = true\n[edition.translations.fr]\nintro = \"Bienvenue.\"\n",
    ) + "[items.translations.fr]\ntitle = \"Un titre\"\nbody = \"Des nouvelles.\"\n";
    let dir = project_with(&edition);
    let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-3.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn an_unknown_translation_policy_is_refused_at_its_line() {
    let dir = project_with(&ENGLISH_AND_FRENCH.replace("POLICY", "translations = \"sometimes\""));
    let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-3.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(":9:") && text.contains("\"required\""), "{text}");
}

#[test]
fn building_a_language_the_edition_does_not_list_is_a_usage_error() {
    let dir = project_with(&ENGLISH_AND_FRENCH.replace("POLICY", "").replace(", \"fr\"", ""));
    let out = infoflash(
        dir.path(),
        &["build", "editions/2026-01-info-flash-3.toml", "--language", "fr"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not written in `fr`") && err.contains("`en`"), "{err}");
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn building_a_listed_language_with_gaps_shows_the_main_text_and_warns() {
    let dir = project_with(&ENGLISH_AND_FRENCH.replace("POLICY", ""));
    let out = infoflash(
        dir.path(),
        &["build", "editions/2026-01-info-flash-3.toml", "--language", "fr"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("the `fr` variants show the `en` text"), "{err}");
    let text = std::fs::read_to_string(dir.path().join("out/2026-01-info-flash-3/fr/email.txt")).unwrap();
    assert!(text.contains("A title") && text.contains("Some news."), "{text}");
}

#[test]
fn a_greeting_subtitle_or_closing_without_a_translation_is_warned_at_its_line() {
    let edition = ENGLISH_AND_FRENCH.replace(
        "POLICY",
        "subtitle = \"Jointly organized\"\ngreeting = \"Dear National Coordinators,\"\nclosing = \"The ASPnet team\"\n[edition.translations.fr]\nintro = \"Bienvenue.\"\n",
    ) + "[items.translations.fr]\ntitle = \"Un titre\"\nbody = \"Des nouvelles.\"\n";
    let dir = project_with(&edition);
    let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-3.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for key in ["subtitle", "greeting", "closing"] {
        let wanted = format!(
            "editions/2026-01-info-flash-3.toml:{}: warning: the edition's {key} has no `fr` translation",
            line_of(&edition, key)
        );
        assert!(text.contains(&wanted), "{wanted}\n{text}");
    }
    assert!(text.contains("0 error(s), 3 warning(s)"), "{text}");
}
