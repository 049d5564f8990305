//! `infoflash bounces import` on a corpus of delivery status notifications built here in the
//! forms real servers send (Postfix, Exchange, Gmail), read from a Maildir, an mbox file and
//! `.eml` files: hard bounces reach the suppression list, soft ones are counted per edition
//! and suppress after `soft_bounce_editions`, re-imports change nothing, and dry runs write
//! nothing.

mod common;

use std::path::Path;

use common::*;

const SETTINGS: &str = r#"
base_url = "https://news.example.org"
sender = "Info Flash <flash@example.org>"
languages = ["en"]
fallback_language = "en"
lists = ["recipients/people.csv"]
suppression = "recipients/suppression.csv"

[regions.africa]
name = "Africa"

[bounces]
soft_bounce_editions = 3
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("infoflash.toml"), SETTINGS).unwrap();
    dir
}

/// The Message-ID infoflash gives its message of `edition` to `recipient` (see
/// `deliver::compose`): a bounce is applied only when it returns the one we sent them.
fn our_id(edition: &str, recipient: &str) -> String {
    let hash = infoflash::types::message_id_hash(&edition.parse().unwrap(), None, &recipient.parse().unwrap());
    format!("<{hash}.{edition}@example.org>")
}

/// A bounce of `tests/fixtures/dsn/` (shared with the unit tests of `audience::bounces`),
/// filled in.
fn fixture(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
}

/// Postfix's bounce: notification, delivery report, returned headers.
fn postfix(recipient: &str, action: &str, status: &str, diagnostic: &str, message_id: &str, date: &str) -> String {
    let subject = if action == "delayed" {
        "Delayed Mail (still being retried)"
    } else {
        "Undelivered Mail Returned to Sender"
    };
    fixture(
        include_str!("fixtures/dsn/postfix.eml"),
        &[
            ("recipient", recipient),
            ("action", action),
            ("status", status),
            ("diagnostic", diagnostic),
            ("message_id", message_id),
            ("date", date),
            ("subject", subject),
        ],
    )
}

/// Exchange's non-delivery report, with the original message attached.
fn exchange(recipient: &str, message_id: &str) -> String {
    fixture(
        include_str!("fixtures/dsn/exchange.eml"),
        &[("recipient", recipient), ("message_id", message_id)],
    )
}

/// Gmail's notification: `Failure` (5.1.1) or `Delay` (4.4.1), HTML and text, the original
/// named in `X-Original-Message-ID`.
fn gmail(kind: &str, recipient: &str, message_id: &str) -> String {
    let (action, status, diagnostic) = if kind == "Failure" {
        (
            "failed",
            "5.1.1",
            "The email account that you tried to reach does not exist. Please try\n double-checking the recipient's email address for typos or unnecessary spaces.\n a1b2c3d4e5si123456.123 - gsmtp",
        )
    } else {
        (
            "delayed",
            "4.4.1",
            "The recipient server did not accept our requests to connect. Learn more at\n https://support.google.com/mail/answer/7720 [mx.slow.example.net. 198.51.100.2: timed out]",
        )
    };
    let failed = if kind == "Failure" {
        format!("X-Failed-Recipients: {recipient}\n")
    } else {
        String::new()
    };
    fixture(
        include_str!("fixtures/dsn/gmail.eml"),
        &[
            ("kind", kind),
            ("failed_header", &failed),
            ("recipient", recipient),
            ("message_id", message_id),
            ("action", action),
            ("status", status),
            ("diagnostic", diagnostic),
        ],
    )
}

/// An out-of-office reply: in a bounce mailbox, but not a bounce.
fn out_of_office(message_id: &str) -> String {
    format!(
        "From: Ann <ann@school.example.net>
To: flash@example.org
Subject: Automatic reply: Info Flash
Auto-Submitted: auto-replied
In-Reply-To: {message_id}
Date: Tue, 20 Jan 2026 09:20:00 +0000

I am out of the office until 2 February; 550 pupils are on holiday too.
"
    )
}

const E22: &str = "2026-01-info-flash-22";

/// The corpus: (file name, message) — three hard bounces, two soft ones, one not a bounce.
fn corpus() -> Vec<(&'static str, String)> {
    let id = |recipient| our_id(E22, recipient);
    vec![
        (
            "1768900443.M1P1.mx",
            postfix(
                "gone@school.example.net",
                "failed",
                "5.1.1",
                "550 5.1.1 <gone@school.example.net>: Recipient address\r\n    rejected: User unknown in virtual mailbox table",
                &id("gone@school.example.net"),
                "Tue, 20 Jan 2026 09:14:03 +0000 (UTC)",
            ),
        ),
        ("1768989731.M2P1.mx", exchange("jane.doe@contoso.example", &id("jane.doe@contoso.example"))),
        ("1769074230.M3P1.mx", gmail("Failure", "nobody.here@gmail.com", &id("nobody.here@gmail.com"))),
        ("1769074231.M4P1.mx", gmail("Delay", "slow@slow.example.net", &id("slow@slow.example.net"))),
        (
            "1769074232.M5P1.mx",
            postfix(
                "full@example.net",
                "failed",
                "4.2.2",
                "452 4.2.2 Mailbox full",
                &id("full@example.net"),
                "Thu, 22 Jan 2026 03:00:00 +0000",
            ),
        ),
        ("1769074233.M6P1.mx", out_of_office(&id("reader@example.org"))),
    ]
}

const HARD: [&str; 3] = [
    "gone@school.example.net",
    "jane.doe@contoso.example",
    "nobody.here@gmail.com",
];
const SOFT: [&str; 2] = ["slow@slow.example.net", "full@example.net"];

/// The corpus as a Maildir in `project/bounces`: the first half in `cur/`, the rest in `new/`.
fn maildir(project: &Path) {
    for (i, (name, message)) in corpus().into_iter().enumerate() {
        let folder = project.join("bounces").join(if i < 3 { "cur" } else { "new" });
        std::fs::create_dir_all(&folder).unwrap();
        let name = if i < 3 { format!("{name}:2,S") } else { name.to_string() };
        std::fs::write(folder.join(name), message).unwrap();
    }
    std::fs::create_dir_all(project.join("bounces/tmp")).unwrap();
}

fn import(project: &Path, args: &[&str]) -> String {
    let mut all = vec!["bounces", "import"];
    all.extend_from_slice(args);
    let out = infoflash(project, &all);
    assert_eq!(out.status.code(), Some(0), "{all:?}:\n{}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

fn import_json(project: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = import(project, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn suppression(project: &Path) -> String {
    std::fs::read_to_string(project.join("recipients/suppression.csv")).unwrap_or_default()
}

fn suppressed_line<'a>(list: &'a str, address: &str) -> Option<&'a str> {
    list.lines().find(|l| l.starts_with(&format!("{address},")))
}

/// The soft bounces recorded for `address`, as (edition, status).
fn soft_rows(project: &Path, address: &str) -> Vec<(String, String)> {
    let path = project.join("state/infoflash.sqlite");
    if !path.exists() {
        return Vec::new();
    }
    let db = rusqlite::Connection::open(path).unwrap();
    let mut query = db
        .prepare("SELECT edition, status FROM soft_bounces WHERE email = ?1 ORDER BY edition")
        .unwrap();
    query
        .query_map([address], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn addresses(json: &serde_json::Value, list: &str) -> Vec<String> {
    json[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["address"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn postfix_exchange_and_gmail_bounces_in_a_maildir_are_each_classified_and_applied() {
    let project = project();
    maildir(project.path());
    let out = import(project.path(), &["bounces"]);

    assert!(
        out.starts_with("6 messages read from bounces: 5 bounces, 1 not a bounce."),
        "{out}"
    );
    let list = suppression(project.path());
    for address in HARD {
        let line = suppressed_line(&list, address).unwrap_or_else(|| panic!("{address} not suppressed:\n{list}"));
        assert!(line.contains("hard bounce 5.1.1"), "{line}");
        assert!(out.contains(address), "{out}");
    }
    assert!(
        suppressed_line(&list, "jane.doe@contoso.example")
            .unwrap()
            .contains("RESOLVER.ADR.RecipNotFound"),
        "{list}"
    );
    assert_eq!(list.lines().count(), 1 + HARD.len(), "{list}");
    for (address, status) in SOFT.iter().zip(["4.4.1", "4.2.2"]) {
        assert!(
            suppressed_line(&list, address).is_none(),
            "{address} suppressed:\n{list}"
        );
        assert_eq!(
            soft_rows(project.path(), address),
            [(E22.to_string(), status.to_string())]
        );
        let line = out.lines().find(|l| l.contains(address)).unwrap();
        assert!(
            line.contains("counted") && line.contains(E22) && line.contains("1 edition so far"),
            "{line}"
        );
    }
    let skipped = out
        .split("Not bounces, skipped:")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        skipped.contains("bounces/new/1769074233.M6P1.mx: no delivery status"),
        "{out}"
    );
    assert!(skipped.contains("Automatic reply: Info Flash"), "{out}");
    assert!(
        out.contains("3 addresses newly suppressed, 2 soft bounces newly counted."),
        "{out}"
    );
}

#[test]
fn importing_the_same_bounces_again_changes_nothing() {
    let project = project();
    maildir(project.path());
    let first = import_json(project.path(), &["bounces"]);
    let list = suppression(project.path());
    let again = import_json(project.path(), &["bounces"]);

    assert_eq!(suppression(project.path()), list, "the suppression list changed");
    assert_eq!(addresses(&first, "hard"), addresses(&again, "hard"));
    for entry in again["hard"].as_array().unwrap() {
        assert_eq!(entry["added"], false, "{entry}");
    }
    for (before, after) in first["soft"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["soft"].as_array().unwrap())
    {
        assert_eq!(before["new"], true, "{before}");
        assert_eq!(after["new"], false, "{after}");
        assert_eq!(after["editions"], 1, "{after}");
    }
    for address in SOFT {
        assert_eq!(soft_rows(project.path(), address).len(), 1, "{address}");
    }
    let text = import(project.path(), &["bounces"]);
    assert!(
        text.contains("already suppressed") && text.contains("already counted"),
        "{text}"
    );
    assert!(
        text.contains("0 addresses newly suppressed, 0 soft bounces newly counted."),
        "{text}"
    );
}

#[test]
fn an_mbox_a_folder_of_eml_files_and_a_single_eml_are_read_alike() {
    let project = project();
    let mut mbox = String::new();
    for (_, message) in corpus() {
        mbox.push_str("From MAILER-DAEMON Tue Jan 20 09:14:03 2026\n");
        mbox.push_str(&message.replace("\r\n", "\n"));
        mbox.push('\n');
    }
    std::fs::write(project.path().join("bounces.mbox"), &mbox).unwrap();
    let json = import_json(project.path(), &["bounces.mbox", "--dry-run"]);
    assert_eq!(json["messages"], 6, "{json}");
    assert_eq!(addresses(&json, "hard"), HARD);
    assert_eq!(addresses(&json, "soft"), SOFT);
    assert_eq!(json["hard"][0]["at"], "bounces.mbox:1", "{json}");
    // What was left aside is a diagnostic like any other: its file, its line, what it is.
    let skipped = &json["not_bounces"][0];
    assert_eq!(skipped["file"], "bounces.mbox", "{json}");
    assert!(skipped["line"].as_u64().is_some_and(|l| l > 1), "{json}");
    assert_eq!(skipped["kind"], "not_a_bounce", "{json}");

    let folder = project.path().join("saved");
    std::fs::create_dir_all(&folder).unwrap();
    for (i, (_, message)) in corpus().into_iter().enumerate() {
        std::fs::write(folder.join(format!("{i}.eml")), message).unwrap();
    }
    std::fs::write(folder.join("notes.txt"), "not a message").unwrap();
    let json = import_json(project.path(), &["saved", "--dry-run"]);
    assert_eq!(json["messages"], 6, "only .eml files are read: {json}");
    assert_eq!(addresses(&json, "hard"), HARD);
    assert_eq!(addresses(&json, "soft"), SOFT);

    let json = import_json(project.path(), &["saved/1.eml"]);
    assert_eq!(addresses(&json, "hard"), ["jane.doe@contoso.example"]);
    assert_eq!(json["hard"][0]["status"], "5.1.1");
    assert!(suppressed_line(&suppression(project.path()), "jane.doe@contoso.example").is_some());
}

/// A mailbox-full bounce of `address` for a message of `edition`.
fn mailbox_full(address: &str, edition: &str, date: &str) -> String {
    postfix(
        address,
        "failed",
        "4.2.2",
        "452 4.2.2 Mailbox full",
        &our_id(edition, address),
        date,
    )
}

#[test]
fn soft_bounces_in_three_editions_suppress_an_address_but_two_editions_do_not() {
    let project = project();
    let dir = project.path();
    let flaky = "flaky@example.net";
    std::fs::create_dir_all(dir.join("first")).unwrap();
    std::fs::create_dir_all(dir.join("later")).unwrap();
    let date = "Tue, 20 Jan 2026 09:14:03 +0000";
    std::fs::write(
        dir.join("first/a.eml"),
        mailbox_full(flaky, "2026-01-info-flash-22", date),
    )
    .unwrap();
    std::fs::write(
        dir.join("first/b.eml"),
        mailbox_full(flaky, "2026-02-info-flash-23", date),
    )
    .unwrap();
    // The same edition again (a delay warning, then the final failure) counts once.
    std::fs::write(
        dir.join("first/c.eml"),
        mailbox_full(flaky, "2026-02-info-flash-23", date),
    )
    .unwrap();
    std::fs::write(
        dir.join("later/d.eml"),
        mailbox_full(flaky, "2026-02-info-flash-24", date),
    )
    .unwrap();

    let json = import_json(dir, &["first"]);
    assert_eq!(soft_rows(dir, flaky).len(), 2);
    assert_eq!(json["soft"][2]["new"], false, "{json}");
    assert_eq!(json["soft"][2]["editions"], 2, "{json}");
    assert_eq!(json["soft_suppressed"], serde_json::json!([]));
    assert!(suppressed_line(&suppression(dir), flaky).is_none());

    let dry = import(dir, &["later", "--dry-run"]);
    assert!(dry.contains("would be suppressed"), "{dry}");
    assert!(suppressed_line(&suppression(dir), flaky).is_none());
    assert_eq!(soft_rows(dir, flaky).len(), 2, "the dry run recorded a soft bounce");

    let out = import(dir, &["later"]);
    let list = suppression(dir);
    let line = suppressed_line(&list, flaky).unwrap_or_else(|| panic!("{out}\n{list}"));
    assert!(line.contains("soft bounces in 3 editions"), "{line}");
    assert!(out.contains("Soft bounces in 3 editions or more"), "{out}");
    assert_eq!(soft_rows(dir, flaky).len(), 3);
}

#[test]
fn without_a_returned_message_id_a_soft_bounce_counts_once_per_day() {
    let project = project();
    let dir = project.path();
    std::fs::create_dir_all(dir.join("in")).unwrap();
    let anonymous = |date: &str| {
        postfix(
            "lost@example.net",
            "delayed",
            "4.4.1",
            "connection timed out",
            "<x@elsewhere.example>",
            date,
        )
    };
    std::fs::write(dir.join("in/1.eml"), anonymous("Mon, 19 Jan 2026 08:00:00 +0000")).unwrap();
    std::fs::write(dir.join("in/2.eml"), anonymous("Mon, 19 Jan 2026 20:00:00 +0000")).unwrap();
    std::fs::write(dir.join("in/3.eml"), anonymous("Tue, 20 Jan 2026 08:00:00 +0000")).unwrap();
    // Nothing ties these reports to a message of ours: by default they are listed only.
    let listed = import(dir, &["in"]);
    assert!(
        listed.contains("not applied; --accept-unmatched applies them"),
        "{listed}"
    );
    assert!(soft_rows(dir, "lost@example.net").is_empty());
    import(dir, &["in", "--accept-unmatched"]);
    let rows = soft_rows(dir, "lost@example.net");
    let days: Vec<&str> = rows.iter().map(|(edition, _)| edition.as_str()).collect();
    assert_eq!(days, ["2026-01-19", "2026-01-20"]);
}

#[test]
fn a_dry_run_writes_neither_the_suppression_list_nor_the_state_database() {
    let project = project();
    maildir(project.path());
    let out = import(project.path(), &["bounces", "--dry-run"]);
    assert!(!project.path().join("recipients/suppression.csv").exists());
    assert!(!project.path().join("state").exists());
    assert!(out.contains("would be suppressed"), "{out}");
    assert!(
        out.contains("Dry run, nothing was written: 3 addresses would be suppressed, 2 soft bounces would be counted."),
        "{out}"
    );
}

#[test]
fn a_path_that_cannot_be_read_exits_2_and_says_what_to_give() {
    let project = project();
    let out = infoflash(project.path(), &["bounces", "import", "no-such-folder"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no-such-folder") && err.contains("give a Maildir folder"),
        "{err}"
    );

    let help = stdout(&infoflash(project.path(), &["bounces", "import", "--help"]));
    assert!(help.contains("--dry-run") && help.contains("Maildir"), "{help}");
}

#[test]
fn soft_bounce_editions_out_of_range_is_reported_at_its_line() {
    let project = project();
    let settings = SETTINGS.replace("soft_bounce_editions = 3", "soft_bounce_editions = 0");
    std::fs::write(project.path().join("infoflash.toml"), &settings).unwrap();
    let out = infoflash(project.path(), &["bounces", "import", "."]);
    assert_eq!(out.status.code(), Some(2));
    let line = settings
        .lines()
        .position(|l| l.starts_with("soft_bounce_editions"))
        .unwrap()
        + 1;
    let err = stderr(&out);
    assert!(
        err.contains(&format!("infoflash.toml:{line}:"))
            && err.contains("`soft_bounce_editions` must be between 1 and 100"),
        "{err}"
    );
}
