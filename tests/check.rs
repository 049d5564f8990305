//! `infoflash check` against the sample edition and the corpus of deliberately broken editions
//! in `tests/fixtures/invalid/`, each of which names the error it must produce.

mod common;

use std::path::Path;

use common::*;

#[test]
fn the_sample_edition_checks_clean() {
    let out = infoflash(&root(), &["check", "editions/2026-01-info-flash-22.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.ends_with("0 error(s), 0 warning(s)\n"), "{text}");
}

/// Reads `# expect: …` (a fragment of the message) and the line the error must be on: either
/// `# expect-line: N` or the line marked `# <- here`.
fn expectation(path: &Path) -> (String, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let message = text
        .lines()
        .find_map(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()))
        .to_string();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# expect-line: ").map(|n| n.trim().parse().unwrap()))
        .or_else(|| text.lines().position(|l| l.ends_with("# <- here")).map(|i| i + 1))
        .unwrap_or_else(|| panic!("{} marks no line", path.display()));
    (message, line)
}

#[test]
fn every_broken_edition_fails_with_its_error_at_its_line() {
    let dir = root().join("tests/fixtures/invalid");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 20, "the corpus shrank: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let (message, line) = expectation(case);
        let name = case.file_name().unwrap().to_str().unwrap();
        let out = infoflash(&dir, &["check", name]);
        let text = stdout(&out);
        let wanted = format!("{name}:{line}");
        let hit = text
            .lines()
            .any(|l| l.starts_with(&wanted) && l.contains("error:") && l.contains(&message));
        if out.status.code() != Some(1) || !hit {
            failures.push(format!(
                "{name}: expected exit 1 and `{wanted}…{message}`, got {:?}:\n{text}",
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_output_counts_errors_and_names_lines() {
    let dir = root().join("tests/fixtures/invalid");
    let out = infoflash(&dir, &["check", "--json", "unknown-region.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["errors"], 1);
    let d = &json["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert!(d["line"].as_u64().unwrap() > 1);
    assert!(d["file"].as_str().unwrap().ends_with("unknown-region.toml"));
}

#[test]
fn a_missing_file_is_an_io_problem_with_exit_2() {
    let out = infoflash(&root(), &["check", "editions/no-such-edition.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-edition.toml"), "{}", stderr(&out));
}

#[test]
fn a_usage_error_exits_2() {
    let out = infoflash(&root(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn reports_every_problem_of_a_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"[edition]
series = "Info Flash"
number = 1
date = 2026-01-13
language = "en"
time_zone = "Mars/Olympus"

[[items]]
id = "a"
kind = "news"
title = "A"
body = "[one](#) and [two](/relative)"
regions = ["atlantis"]
"#;
    std::fs::write(dir.path().join("2026-01-bad-1.toml"), text).unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-bad-1.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    for fragment in [
        "2026-01-bad-1.toml:6:",
        "2026-01-bad-1.toml:12: error: the link `#`",
        "2026-01-bad-1.toml:12: error: the link `/relative`",
        "2026-01-bad-1.toml:13:",
    ] {
        assert!(text.contains(fragment), "missing {fragment} in:\n{text}");
    }
    assert!(text.contains("4 error(s)"), "{text}");
}

fn edition_with_body(body: &str) -> String {
    format!(
        r#"[edition]
series = "Info Flash"
number = 1
date = 2026-01-13
language = "en"
time_zone = "Europe/Paris"

[[items]]
id = "a"
kind = "news"
title = "A"
body = """
{body}
"""
"#
    )
}

#[test]
fn an_html_part_near_gmails_clipping_limit_is_a_warning_and_above_it_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // Each paragraph adds a known amount; find sizes on both sides of the limits.
    let paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n\n";
    let check = |n: usize| {
        std::fs::write(
            dir.path().join("2026-01-big-1.toml"),
            edition_with_body(&paragraph.repeat(n)),
        )
        .unwrap();
        let out = infoflash(dir.path(), &["check", "--json", "2026-01-big-1.toml"]);
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let small = check(10);
    assert_eq!(
        (small["errors"].as_u64(), small["warnings"].as_u64()),
        (Some(0), Some(0)),
        "{small}"
    );
    let big = check(1400);
    assert_eq!(big["errors"], 1, "{big}");
    let message = big["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("as encoded in the message") && message.contains("clip"),
        "{message}"
    );
    // Somewhere between, a warning and no error.
    let middle = (10..1400).step_by(40).map(check).find(|r| r["warnings"] == 1);
    let middle = middle.expect("some size gives a warning");
    assert_eq!(middle["errors"], 0, "{middle}");
}

#[test]
fn mrml_warnings_are_reported_with_the_mjml_line() {
    // mrml renders inline styles as a plain <style>: it warns, and so must check.
    let project = office_project_with_template(
        "partials/head.mjml.hbs",
        "<mj-head>\n<mj-title>{{subject}}</mj-title>\n<mj-style inline=\"inline\">a { color: red; }</mj-style>\n</mj-head>",
    );
    let out = infoflash(project.path(), &["check", "editions/2026-02-office-flash-3.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "warnings must not fail the check:\n{text}");
    let warning = text
        .lines()
        .find(|l| l.contains("warning: mrml: inline style unsupported"));
    let warning = warning.unwrap_or_else(|| panic!("no mrml warning in:\n{text}"));
    assert!(
        warning.starts_with("2026-02-office-flash-3/") && warning.contains("/email.mjml:4:"),
        "{warning}"
    );
}

#[test]
fn a_template_syntax_error_names_the_template_file_and_line() {
    let project = office_project_with_template(
        "items/news.mjml.hbs",
        "<mj-section>\n{{#if item.title}}\n<mj-column></mj-column>\n</mj-section>\n",
    );
    let out = infoflash(project.path(), &["check", "editions/2026-02-office-flash-3.toml"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("templates/items/news.mjml.hbs:"), "{text}");
    assert!(text.contains("template error"), "{text}");
}

#[test]
fn an_edition_that_is_not_utf8_is_an_error_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("2026-01-latin1-1.toml"),
        b"[edition]\nseries = \"Caf\xe9\"\n",
    )
    .unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-latin1-1.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("2026-01-latin1-1.toml: error: the file is not UTF-8"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_seeds_two_summer_time_sentences_are_reported_and_nothing_else() {
    // Lines 28–29 and 43–45 of Info Flash N°22 as the editors wrote them: January meetings in
    // "CEST" (wrong: Paris is on CET in January) and January webinars in "CET" (right).
    let body = "\
- **Asia and Pacific regions:** Thursday 15 January 2026 from 9:30 to 10:30 (CEST, Paris Time). Please join here: [Zoom meeting link](https://zoom.example.org/1)
- **European, North American:** Thursday 22 January 2026 from 3:00 to 4:00 pm (CEST, Paris Time). Please join here: [Zoom meeting link](https://zoom.example.org/2)
- **Arab States:** Monday 2 February 2026. Time and zoom link will be shared shortly.
- **ENGLISH:** Tuesday, 20 January at 10 a.m. (CET, Paris Time) Please register [here via the link](https://forms.example.org/en).
- **FRENCH:** Wednesday, 21 January at 1 p.m. (CET, Paris Time) Please register [here via the link](https://forms.example.org/fr).
- **SPANISH:** Tuesday, 20 January at 5 p.m. (CET, Paris Time) Please register [here via the link](https://forms.example.org/es).";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("2026-01-seed-1.toml"), edition_with_body(body)).unwrap();
    let out = infoflash(dir.path(), &["check", "--json", "2026-01-seed-1.toml"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let found: Vec<(u64, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["message"].as_str().unwrap().to_string()))
        .collect();
    // The body starts on line 13 of the generated edition.
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].0, found[1].0), (13, 14), "{found:#?}");
    assert!(
        found[0].1.contains("\"CEST\" with \"Thursday 15 January 2026\""),
        "{}",
        found[0].1
    );
    assert!(found[1].1.contains("Paris time is CET, not CEST"), "{}", found[1].1);
    assert_eq!(out.status.code(), Some(1));

    // A wrong weekday typed into the body is reported at its line.
    let body = format!("{body}\n\nSee you on Friday 15 January 2026.");
    std::fs::write(dir.path().join("2026-01-seed-1.toml"), edition_with_body(&body)).unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-seed-1.toml"]);
    let text = stdout(&out);
    assert!(
        text.contains("2026-01-seed-1.toml:20: error: item `a`: \"Friday 15 January 2026\": 15 January 2026 is a Thursday, not a Friday"),
        "{text}"
    );
}

#[test]
fn a_wrong_weekday_is_found_in_russian_arabic_and_chinese_text_too() {
    // 15 January 2026 is a Thursday; each translation calls it a Friday, in its own words (and
    // the Arabic one in Arabic-Indic digits).
    let text = r#"[edition]
series = "Info Flash"
number = 1
date = 2026-01-13
language = "en"
languages = ["en", "ru", "ar", "zh"]
time_zone = "Europe/Paris"

[[items]]
id = "a"
kind = "news"
title = "A"
body = "We meet on Thursday 15 January 2026."

[items.translations.ru]
title = "А"
body = "Встречаемся в пятницу, 15 января 2026 г."

[items.translations.ar]
title = "أ"
body = "نلتقي يوم الجمعة ١٥ كانون الثاني/يناير ٢٠٢٦."

[items.translations.zh]
title = "甲"
body = "我们于2026年1月15日（星期五）见面。"
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    std::fs::write(dir.path().join("2026-01-seed-1.toml"), text).unwrap();
    let out = infoflash(dir.path(), &["check", "2026-01-seed-1.toml"]);
    let report = stdout(&out);
    for needle in ["пятницу, 15 января 2026", "الجمعة ١٥ كانون", "2026年1月15日（星期五）"]
    {
        let wanted = format!("2026-01-seed-1.toml:{}: error: item `a`", line_of(text, needle));
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&wanted) && l.contains("is a Thursday, not a Friday")),
            "{wanted}:\n{report}"
        );
    }
    assert_eq!(report.matches("not a Friday").count(), 3, "{report}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_project_without_a_postal_address_is_warned_and_the_sample_shows_its_own() {
    // The office fixture's settings have no `postal_address`.
    let out = infoflash(&office_project(), &["check", OFFICE_EDITION]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("infoflash.toml: warning: no `postal_address`: bulk mail must say where its sender is"),
        "{text}"
    );
    let sample = infoflash(&root(), &["check", "editions/2026-01-info-flash-22.toml"]);
    assert!(!stdout(&sample).contains("postal_address"), "{}", stdout(&sample));
}

#[test]
fn a_session_in_a_zone_whose_city_a_language_does_not_name_is_warned_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    let edition = "[edition]\nseries = \"Info Flash\"\nnumber = 1\ndate = 2026-01-13\nlanguage = \"en\"\ntime_zone = \"Europe/Paris\"\n\n\
                   [[items]]\nid = \"w\"\nkind = \"invitation\"\ntitle = \"Webinar\"\nbody = \"Join us.\"\n\n\
                   [[items.sessions]]\nlanguage = \"en\"\ndate = 2026-02-03\nstart = \"10:00\"\nend = \"11:00\"\ntime_zone = \"America/Havana\"\nlink = \"https://example.org/j/1\"\n\n\
                   [[items.sessions]]\nlanguage = \"fr\"\ndate = 2026-02-04\nstart = \"10:00\"\ntime_zone = \"America/Santiago\"\nlink = \"https://example.org/j/2\"\n";
    std::fs::write(dir.path().join("editions/2026-01-w-1.toml"), edition).unwrap();
    let out = infoflash(dir.path(), &["check", "editions/2026-01-w-1.toml"]);
    let text = stdout(&out);
    assert!(
        text.contains("2026-01-w-1.toml:14: warning: the `en` variant names the city of America/Havana as `Havana`"),
        "{text}{}",
        stderr(&out)
    );
    assert!(!text.contains("America/Santiago"), "the tables name Santiago: {text}");
}

/// A copy of the sample project (settings and N°22) in a temporary folder, with `edit` applied
/// to the edition, saved as `name`.
fn sample_copy(name: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    let text = std::fs::read_to_string(sample_edition()).unwrap();
    std::fs::write(dir.path().join(name), edit(text)).unwrap();
    dir
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle}"))
        + 1
}

#[test]
fn a_subject_or_title_naming_another_edition_number_is_warned_at_its_line() {
    // N°22's file made into N°23 by changing only the number: every subject still says N°22.
    let edit = |text: String| {
        text.replace("number = 22", "number = 23").replace(
            "title = \"The Winds of Peace Project\"",
            "title = \"The Winds of Peace Project (see N°21)\"",
        )
    };
    let name = "2026-01-info-flash-23.toml";
    let dir = sample_copy(name, edit);
    let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
    let out = infoflash(dir.path(), &["check", name]);
    let report = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings must not fail the check:\n{report}"
    );
    for (needle, written) in [
        ("subject = \"ASPnet Info Flash N°22", "N°22"),
        ("subject = \"Info Flash ASPnet N°22", "N°22"),
        ("subject = \"Info Flash ASPnet N.º 22", "N.º 22"),
        ("(see N°21)", "N°21"),
    ] {
        let wanted = format!("{name}:{}: warning: ", line_of(&text, needle));
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&wanted) && l.contains(&format!("names \"{written}\", but this is edition 23"))),
            "{wanted}… {written}:\n{report}"
        );
    }
    // "4th session", "2026", "44 schools" and the like are not edition numbers.
    assert_eq!(report.matches("but this is edition 23").count(), 4, "{report}");
}

#[test]
fn a_reminders_prose_naming_a_date_before_the_edition_is_warned_and_other_items_are_not() {
    let name = "2026-02-info-flash-23.toml";
    let dir = sample_copy(name, |text| {
        text.replace("number = 22", "number = 23")
            .replace("date = 2026-01-13", "date = 2026-02-16")
            .replace("N°22", "N°23")
            .replace("N.º 22", "N.º 23")
    });
    let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
    let out = infoflash(dir.path(), &["check", name]);
    let report = stdout(&out);
    // The consultation is a reminder ("REMINDER + CALL FOR PARTICIPATION"): its "15 February
    // 2026" is now past, in each language.
    for written in [
        "**15 February 2026**",
        "**15 février 2026**",
        "**15 de febrero de 2026**",
    ] {
        let wanted = format!(
            "{name}:{}: warning: item `right-to-education-consultation`",
            line_of(&text, written)
        );
        assert!(
            report.lines().any(|l| l.starts_with(&wanted)
                && l.contains("this reminder's")
                && l.contains(written.trim_matches('*'))),
            "{wanted}… {written}:\n{report}"
        );
    }
    // The Santo Domingo roadmap (news, no reminder label) may name its past meeting.
    assert!(!report.contains("`santo-domingo-roadmap`: this reminder"), "{report}");
    assert_eq!(report.matches("this reminder's").count(), 3, "{report}");
}

#[test]
fn a_link_to_be_announced_is_a_warning_at_its_line_in_check_and_stops_send() {
    let edition = "tests/fixtures/format/2026-03-community-7.toml";
    let out = infoflash(&root(), &["check", edition]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a draft may hold links to be announced:\n{text}"
    );
    let warned = |line: usize| {
        text.lines().any(|l| {
            l.starts_with(&format!("{edition}:{line}: warning:")) && l.contains("still to be announced (`tba`)")
        })
    };
    // The session's `link`, the item's `[[items.links]]`, the event row.
    for line in [45, 50, 65] {
        assert!(warned(line), "no warning at line {line}:\n{text}");
    }

    let project = copy_project(&root());
    std::fs::copy(
        root().join(edition),
        project.path().join("editions/2026-03-community-7.toml"),
    )
    .unwrap();
    let send = infoflash(project.path(), &["send", "editions/2026-03-community-7.toml"]);
    let err = stderr(&send);
    assert_eq!(send.status.code(), Some(1), "{err}");
    assert!(
        err.contains("2026-03-community-7.toml:45: error: the link is still to be announced"),
        "{err}"
    );
    assert!(err.contains("nothing was sent"), "{err}");
    let outbox = project.path().join("outbox");
    assert!(
        !outbox.exists() || eml_files_below(&outbox).is_empty(),
        "a message left"
    );
}

#[test]
fn once_its_links_are_known_the_edition_is_sent_with_its_own_greeting_to_named_readers_too() {
    let edition = "tests/fixtures/format/2026-03-community-7.toml";
    let text = std::fs::read_to_string(root().join(edition))
        .unwrap()
        .replace("\"tba\"", "\"https://example.org/known\"")
        .replace("\"TBA\"", "\"https://example.org/known\"");
    let project = copy_project(&root());
    std::fs::write(project.path().join("editions/2026-03-community-7.toml"), text).unwrap();
    let send = infoflash(project.path(), &["send", "editions/2026-03-community-7.toml"]);
    assert_eq!(send.status.code(), Some(0), "{}", stderr(&send));
    let mut seen = 0;
    for file in eml_files_below(&project.path().join("outbox")) {
        let raw = std::fs::read(&file).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let to = message
            .to()
            .and_then(|t| t.first())
            .and_then(|a| a.address())
            .unwrap_or_default();
        if to != "amina.diallo@example.org" {
            continue;
        }
        seen += 1;
        let body = message.body_text(0).unwrap();
        assert!(
            body.contains("Chers coordinateurs nationaux, chers enseignants et élèves,"),
            "{body}"
        );
        assert!(
            !body.contains("Amina"),
            "the edition's greeting is every reader's: {body}"
        );
        let html = message.body_html(0).unwrap();
        assert!(html.contains("Chers coordinateurs nationaux"));
    }
    assert_eq!(seen, 1, "Amina Diallo's message was not found");
}

fn eml_files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(eml_files_below(&path));
        } else if path.extension().is_some_and(|x| x == "eml") {
            found.push(path);
        }
    }
    found
}
