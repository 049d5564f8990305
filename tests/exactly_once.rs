//! The product's promise, tried the way an attacker or a careless user would break it: every
//! deliverable recipient gets an edition exactly once, and nobody suppressed ever gets it.
//! Each test reproduces one way it broke (spellings of one address, forged bounces, shard
//! layouts, a resume to another destination, a full disk, a read-only outbox) against the real
//! binary, with Postfix's `smtp-sink` as the server where one is needed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::disk::*;
use common::smtp::*;
use common::*;

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn settings_with(dir: &Path, from: &str, to: &str) {
    let path = dir.join("infoflash.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "no `{from}` in the settings");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

/// Sends to the outbox folder instead of the project's relay; `extra` is added to [delivery].
fn to_outbox(dir: &Path, extra: &str) {
    let settings = std::fs::read_to_string(dir.join("infoflash.toml")).unwrap();
    let relay = settings
        .lines()
        .find(|l| l.starts_with("relay = "))
        .unwrap()
        .to_string();
    settings_with(dir, &relay, &format!("relay = \"outbox\"\n{extra}"));
}

/// The recipient of each `.eml` file in `outbox` (filed under `<edition>/<variant>/`), with
/// how many files name them.
fn outbox_recipients(outbox: &Path) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    if !outbox.exists() {
        return found;
    }
    for path in eml_files(outbox) {
        {
            let text = std::fs::read_to_string(&path).unwrap();
            let to = text
                .lines()
                .find(|l| l.starts_with("To: "))
                .unwrap_or_else(|| panic!("no To: in {}", path.display()));
            let address = to.rsplit('<').next().unwrap().trim_end_matches('>').to_lowercase();
            *found.entry(address).or_default() += 1;
        }
    }
    found
}

const PEOPLE: &str = "recipients/people.csv";

/// `infoflash lists --json` in `dir`, and the lines of its problems of `kind`.
fn lists_report(dir: &Path, kind: &str) -> (serde_json::Value, Vec<u64>) {
    let out = infoflash(dir, &["lists", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let lines = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    (report, lines)
}

#[test]
fn every_spelling_of_a_suppressed_or_repeated_address_is_one_mailbox() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 0, &[]);
    // A quoted local part inside a CSV cell is written with the CSV's own quotes doubled:
    // the cell `"""dup""@example.org"` holds `"dup"@example.org`.
    write(
        dir.path(),
        PEOPLE,
        "email,name,language,region
\"\"\"jonas.lindqvist\"\"@example.net\",Jonas,en,africa
dup@example.org,Dup,en,africa
\"\"\"dup\"\"@example.org\",Dup quoted,en,africa
\"\"\"DUP\"\"@EXAMPLE.ORG\",Dup shouting,en,africa
x@xn--bcher-kva.example,Ex,en,africa
y@BÜCHER.example,Why,en,africa
zoe@example.org,Zoe,en,africa
jose\u{301}@example.org,José typed with a combining accent,en,africa
ok@example.org,Ok,en,africa
",
    );
    write(
        dir.path(),
        "recipients/suppression.csv",
        "email,reason,date
Jonas.Lindqvist@example.net,unsubscribed,2026-01-01
*@bücher.example,closed,2026-01-01
\"\"\"zoe\"\"@Example.org\",unsubscribed,2026-01-01
jos\u{e9}@example.org,unsubscribed,2026-01-01
",
    );
    let (report, merged) = lists_report(dir.path(), "duplicate");
    assert_eq!(
        (
            report["invalid"].as_u64(),
            report["duplicates"].as_u64(),
            report["suppressed"].as_u64()
        ),
        (Some(0), Some(2), Some(5)),
        "{report}"
    );
    assert_eq!(merged, [4, 5], "{report}");
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let received = sink.received();
    assert_eq!(
        received,
        [("dup@example.org".to_string(), 1), ("ok@example.org".to_string(), 1)].into(),
        "only the two deliverable mailboxes, once each"
    );
}

#[test]
fn a_wildcard_or_a_domain_literal_is_an_invalid_recipient_row_reported_at_its_line() {
    let dir = project(free_port(), 0, &[]);
    write(
        dir.path(),
        PEOPLE,
        "email,name
ann@example.org,Ann
*@example.com,Everyone
ann@[192.0.2.1],Literal
a*b@example.org,Star
who?@example.org,Question
",
    );
    let (report, lines) = lists_report(dir.path(), "invalid");
    assert_eq!(
        (report["invalid"].as_u64(), report["deliverable"].as_u64()),
        (Some(4), Some(1)),
        "{report}"
    );
    assert_eq!(lines, [3, 4, 5, 6], "{report}");
    let strict = infoflash(dir.path(), &["lists", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        stderr(&strict).contains(&format!("{PEOPLE}:3: skipped")),
        "{}",
        stderr(&strict)
    );
}

#[test]
fn an_address_that_needs_smtputf8_is_reported_and_failed_with_its_reason_by_a_relay_without_it() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 0, &[]);
    write(
        dir.path(),
        PEOPLE,
        "email,name\nann@example.org,Ann\njosé@example.org,José\n",
    );
    let lists = infoflash(dir.path(), &["lists"]);
    assert!(
        stderr(&lists).contains(&format!("{PEOPLE}:3: needs SMTPUTF8")),
        "{}",
        stderr(&lists)
    );
    assert!(stdout(&lists).contains("smtputf8"), "{}", stdout(&lists));
    // smtp-sink does not offer SMTPUTF8: the address fails at once, with the reason.
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(sink.received().keys().collect::<Vec<_>>(), ["ann@example.org"]);
    let s = status(dir.path());
    assert_eq!(
        (s["failed"].as_u64(), s["deferred"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    let failures = std::fs::read_to_string(dir.path().join("state/2026-02-office-flash-3/failures.csv")).unwrap();
    assert!(
        failures.contains("SMTPUTF8") && failures.trim_end().ends_with(",1"),
        "{failures}"
    );
    assert!(
        !std::fs::read_to_string(dir.path().join("recipients/suppression.csv"))
            .unwrap_or_default()
            .contains("jos"),
        "a relay's missing extension is not a bounce"
    );
}

/// Postfix's bounce (`tests/fixtures/dsn/postfix.eml`) reporting `recipient` (the value of its
/// Final-Recipient field after `rfc822;`, as a forger may write it) with `status`, returning the message
/// `message_id` (one that is not ours when `None`).
fn dsn(recipient: &str, status: &str, message_id: Option<&str>) -> String {
    [
        ("recipient", recipient),
        ("status", status),
        ("action", "failed"),
        ("diagnostic", "550 5.1.1 no such user"),
        ("message_id", message_id.unwrap_or("<x@elsewhere.example>")),
        ("date", "Tue, 10 Feb 2026 10:00:00 +0000"),
        ("subject", "Undelivered Mail Returned to Sender"),
    ]
    .iter()
    .fold(
        include_str!("fixtures/dsn/postfix.eml").to_string(),
        |text, (name, value)| text.replace(&format!("{{{name}}}"), value),
    )
}

#[test]
fn a_forged_delivery_report_changes_nothing_and_a_genuine_one_is_applied() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 3, &[]);
    assert!(send(dir.path(), &[]).status.success());
    let genuine_id = sink
        .messages()
        .iter()
        .find(|m| m.contains("X-Rcpt-Args: <person1@example.org>"))
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_string))
        })
        .expect("the message to person1 has a Message-ID");
    let bounces = dir.path().join("bounces");
    for (name, text) in [
        ("wildcard.eml", dsn("*@example.com", "5.1.1", None)),
        (
            "two.eml",
            dsn("person0@example.org, person2@example.org", "5.1.1", None),
        ),
        ("stranger.eml", dsn("stranger@example.com", "5.1.1", None)),
        (
            "borrowed-id.eml",
            dsn("outsider@example.com", "5.1.1", Some(&genuine_id)),
        ),
        ("genuine.eml", dsn("person1@example.org", "5.1.1", Some(&genuine_id))),
    ] {
        write(&bounces, name, &text);
    }
    let suppression = dir.path().join("recipients/suppression.csv");
    let out = infoflash(dir.path(), &["bounces", "import", "bounces", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let unmatched: Vec<&str> = report["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["address"].as_str().unwrap())
        .collect();
    assert_eq!(unmatched, ["outsider@example.com", "stranger@example.com"], "{report}");
    let list = std::fs::read_to_string(&suppression).unwrap();
    assert_eq!(list.lines().count(), 2, "only the genuine bounce applies: {list}");
    assert!(list.contains("person1@example.org"), "{list}");
    let problems = report["problems"].to_string();
    assert!(
        problems.contains("*@example.com") && problems.contains("person2@example.org"),
        "{problems}"
    );

    // Told to, it applies the unmatched ones; never an entry that is not one mailbox.
    let out = infoflash(dir.path(), &["bounces", "import", "bounces", "--accept-unmatched"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list = std::fs::read_to_string(&suppression).unwrap();
    assert!(
        list.contains("stranger@example.com") && list.contains("outsider@example.com"),
        "{list}"
    );
    assert!(
        !list.contains('*') && !list.contains("person0") && !list.contains("person2"),
        "{list}"
    );
    // The domain of the wildcard is still mailed.
    write(dir.path(), PEOPLE, "email\nsomeone@example.com\n");
    assert!(send(dir.path(), &[]).status.success());
    assert_eq!(sink.received().get("someone@example.com"), Some(&1));
}

#[test]
fn a_bounce_without_our_message_id_applies_only_to_someone_a_journal_knows() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 2, &[]);
    assert!(send(dir.path(), &[]).status.success());
    let bounces = dir.path().join("bounces");
    // Relays that return no headers: the report names only the recipient.
    write(&bounces, "known.eml", &dsn("PERSON0@Example.org", "5.1.1", None));
    write(&bounces, "unknown.eml", &dsn("person7@example.org", "5.1.1", None));
    let out = infoflash(dir.path(), &["bounces", "import", "bounces", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["unmatched"][0]["address"], "person7@example.org", "{report}");
    let list = std::fs::read_to_string(dir.path().join("recipients/suppression.csv")).unwrap();
    assert!(
        list.contains("PERSON0@example.org") && !list.contains("person7"),
        "{list}"
    );
    // The list's own spelling of that address is suppressed now.
    let (counts, _) = lists_report(dir.path(), "invalid");
    assert_eq!(
        (counts["suppressed"].as_u64(), counts["deliverable"].as_u64()),
        (Some(1), Some(1)),
        "{counts}"
    );
}

#[test]
fn someone_who_unsubscribes_while_a_long_send_runs_is_not_mailed_when_their_turn_comes() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 16, &[("rate", "5"), ("connections", "1")]);
    let child = spawn_send(dir.path(), &[]);
    wait_for_first_message(&sink);
    // As `serve` does for a one-click unsubscribe.
    let late: infoflash::types::EmailAddress = "Person14@Example.org".parse().unwrap();
    let today = chrono::Utc::now().date_naive();
    assert!(infoflash::audience::suppression::append(
        &dir.path().join("recipients/suppression.csv"),
        &late,
        "unsubscribed (one-click)",
        today
    )
    .unwrap());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let received = sink.received();
    assert!(
        received.len() < 16 && !received.contains_key("person14@example.org"),
        "{received:?}"
    );
    assert_eq!(received.len(), 15, "everyone else was mailed: {received:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("not mailed: 1 address(es) unsubscribed or bounced while the send ran"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn no_shard_layout_sends_anyone_twice_and_status_counts_each_recipient_once() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 200, &[("rate", "5000")]);
    assert!(send(dir.path(), &[]).status.success());
    assert_eq!(sink.received().len(), 200);
    for shard in ["1/2", "2/2", "3/4"] {
        let dry = send(dir.path(), &["--shard", shard, "--dry-run"]);
        assert!(
            stdout(&dry).contains("0 message(s) would be sent"),
            "{shard}: {}",
            stdout(&dry)
        );
        let out = send(dir.path(), &["--shard", shard]);
        assert_eq!(out.status.code(), Some(0), "{shard}: {}", stderr(&out));
    }
    assert_eq!(
        sink.received().values().sum::<usize>(),
        200,
        "a shard sent again what was delivered"
    );
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["pending"].as_u64()),
        (Some(200), Some(0)),
        "{s}"
    );

    // The other way round: shards of two layouts, then the whole list.
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 120, &[("rate", "5000")]);
    for shard in ["1/4", "2/3"] {
        assert!(send(dir.path(), &["--shard", shard]).status.success());
    }
    let dry = send(dir.path(), &["--dry-run"]);
    let done = sink.received().len();
    assert!(
        stdout(&dry).contains(&format!("{} message(s) would be sent", 120 - done)),
        "{}",
        stdout(&dry)
    );
    assert!(send(dir.path(), &[]).status.success());
    let received = sink.received();
    assert_eq!(received.len(), 120);
    assert!(received.values().all(|&n| n == 1), "someone got it twice");
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["pending"].as_u64()),
        (Some(120), Some(0)),
        "{s}"
    );
}

#[test]
fn an_interrupted_smtp_send_names_the_whole_resume_command_and_is_not_resumed_elsewhere() {
    let sink = Sink::start(&["-w", "1"]);
    let dir = project(sink.port, 12, &[("connections", "1")]);
    let relay = format!("smtp://127.0.0.1:{}", sink.port);
    settings_with(dir.path(), &format!("relay = \"{relay}\""), "relay = \"outbox\"");
    let child = spawn_send(dir.path(), &["--relay", &relay]);
    wait_for_first_message(&sink);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let hint = stdout(&out);
    let resume = format!("infoflash send {OFFICE_EDITION} --relay {relay}");
    assert!(hint.contains(&format!("`{resume}` again to resume")), "{hint}");
    let sent = sink.received().len();
    assert!(sent < 12, "the send was not interrupted");

    // Without --relay it would go to the outbox and record people as delivered who never got
    // the mail: refused, with the command that resumes.
    let elsewhere = send(dir.path(), &[]);
    assert_eq!(elsewhere.status.code(), Some(2), "{}", stdout(&elsewhere));
    assert!(
        stderr(&elsewhere).contains(&format!("`{resume}`")),
        "{}",
        stderr(&elsewhere)
    );
    assert!(
        stderr(&elsewhere).contains("--change-destination"),
        "{}",
        stderr(&elsewhere)
    );
    let dry = send(dir.path(), &["--dry-run"]);
    assert_eq!(dry.status.code(), Some(2), "a dry run says what the send would do");
    assert!(!dir.path().join("outbox").exists(), "something went to the outbox");
    assert_eq!(status(dir.path())["delivered"].as_u64(), Some(sent as u64));

    // The printed command resumes it where it went.
    let args: Vec<&str> = resume.split(' ').skip(1).collect();
    let resumed = infoflash(dir.path(), &args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(sink.received().len(), 12);
    assert!(sink.received().values().all(|&n| n == 1));
    // Saying so explicitly lets a send go to the other kind of destination.
    let explicit = send(dir.path(), &["--change-destination"]);
    assert_eq!(explicit.status.code(), Some(0), "{}", stderr(&explicit));
    assert!(stdout(&explicit).contains("12 already done"), "{}", stdout(&explicit));
}

#[test]
fn a_file_size_limit_mid_send_is_an_io_error_and_no_message_is_left_truncated_or_unrecorded() {
    let dir = project(free_port(), 300, &[("rate", "5000"), ("connections", "2")]);
    to_outbox(dir.path(), "");
    // bash counts `ulimit -f` in KiB; a message is far smaller, the journal's WAL soon larger.
    let out = Command::new("bash")
        .args([
            "-c",
            "ulimit -f 256 && exec \"$@\"",
            "limited",
            env!("CARGO_BIN_EXE_infoflash"),
        ])
        .args(["send", OFFICE_EDITION])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{}{err}", stdout(&out));
    assert!(
        err.contains("state/infoflash.sqlite") && err.contains("journal"),
        "{err}"
    );
    assert!(
        !err.contains("not an infoflash send journal"),
        "an I/O error called the journal foreign: {err}"
    );
    let outbox = dir.path().join("outbox");
    let folder = outbox.join("2026-02-office-flash-3");
    let mut names = Vec::new();
    for variant in std::fs::read_dir(&folder).unwrap() {
        for file in std::fs::read_dir(variant.unwrap().path()).unwrap() {
            names.push(file.unwrap().path());
        }
    }
    assert!(!names.is_empty(), "nothing in {}", folder.display());
    assert!(
        names.iter().all(|n| {
            let name = n.file_name().unwrap().to_string_lossy();
            name.ends_with(".eml") && !name.starts_with('.')
        }),
        "temporary files left: {names:?}"
    );
    for name in &names {
        let text = std::fs::read_to_string(name).unwrap();
        assert!(text.trim_end().ends_with("--"), "{} is truncated", name.display());
    }
    let written = outbox_recipients(&outbox);
    assert!(written.len() < 300, "the limit never bit");
    let recorded = status(dir.path())["delivered"].as_u64().unwrap() as usize;
    assert!(
        recorded <= written.len() && written.len() <= recorded + 2,
        "{recorded} recorded, {} written",
        written.len()
    );

    // Once the limit is gone, the same command goes on, and nobody is lost.
    let again = send(dir.path(), &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let written = outbox_recipients(&outbox);
    assert_eq!(written.len(), 300);
    assert!(
        written.values().sum::<usize>() <= 302,
        "more repeats than messages in flight"
    );
}

#[test]
fn a_read_only_outbox_stops_the_send_at_once_with_exit_2_naming_the_folder() {
    let disk = SmallDisk::mount("4m");
    let dir = project(free_port(), 20, &[]);
    to_outbox(dir.path(), &format!("outbox = \"{}\"", disk.0.path().display()));
    disk.remount_read_only();
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains(&disk.0.path().display().to_string()),
        "{}",
        stderr(&out)
    );
    // Nobody deferred: the first failed write stopped the send instead of being retried for
    // each recipient in turn.
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["deferred"].as_u64(), s["pending"].as_u64()),
        (Some(0), Some(0), Some(20)),
        "{s}"
    );
}

#[test]
fn after_a_successful_resume_the_failures_file_is_gone() {
    let port = free_port();
    let dir = project(port, 4, &[]);
    let failures = dir.path().join("state/2026-02-office-flash-3/failures.csv");
    {
        let _rejecting = Sink::start_on(port, &["-r", "rcpt"]);
        assert_eq!(send(dir.path(), &[]).status.code(), Some(1));
        assert_eq!(std::fs::read_to_string(&failures).unwrap().lines().count(), 5);
    }
    let _sink = Sink::start_on(port, &[]);
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!failures.exists(), "failures.csv still lists delivered recipients");
}

#[test]
fn numeric_options_out_of_bounds_are_usage_errors_not_aborts() {
    let dir = project(free_port(), 3, &[]);
    for args in [
        &["--connections", "1000000"][..],
        &["--connections", "0"],
        &["--rate", "0"],
        &["--rate", "99999999999"],
        &["--shard", "1/1000000"],
    ] {
        let out = send(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
    let dir = project(free_port(), 3, &[("connections", "1000000")]);
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("infoflash.toml:") && stderr(&out).contains("at most 256"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_journal_of_the_previous_release_is_upgraded_and_a_resume_sends_nothing_twice() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 20, &[]);
    let journal = dir.path().join("state/infoflash.sqlite");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/state/journal-before-versions.sqlite"),
        &journal,
    )
    .unwrap();
    // Status reads it as it is, without changing it.
    let before = status(dir.path());
    assert_eq!(
        (before["delivered"].as_u64(), before["deferred"].as_u64()),
        (Some(11), Some(1)),
        "{before}"
    );
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut received: Vec<String> = sink.received().into_keys().collect();
    received.sort();
    let mut expected: Vec<String> = std::iter::once(10)
        .chain(12..20)
        .map(|i| format!("person{i}@example.org"))
        .collect();
    expected.sort();
    assert_eq!(received, expected, "the upgraded journal's deliveries were sent again");
    let conn = rusqlite::Connection::open(&journal).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, infoflash::state::SCHEMA_VERSION);
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["pending"].as_u64()),
        (Some(20), Some(0)),
        "{s}"
    );
}

#[test]
fn an_unpaced_outbox_send_killed_mid_way_resumes_with_everyone_once_and_no_numbered_file_replaced() {
    // One message a second in the settings: only the outbox's own lack of pace lets 3,000
    // files be written while the test waits.
    let dir = project(free_port(), 3000, &[("rate", "1"), ("connections", "4")]);
    to_outbox(dir.path(), "");
    let outbox = dir.path().join("outbox");
    let mut child = spawn_send(dir.path(), &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while outbox_recipients(&outbox).values().sum::<usize>() < 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the outbox is paced: 200 files took a minute"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let before = outbox_recipients(&outbox);
    assert!(before.len() < 3000, "the kill should land mid-send");
    let files_before: Vec<(std::path::PathBuf, Vec<u8>)> = eml_files(&outbox)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect();

    let again = send(dir.path(), &[]);
    assert_eq!(again.status.code(), Some(0), "{}{}", stdout(&again), stderr(&again));
    assert!(stdout(&again).contains("not paced"), "{}", stdout(&again));
    let written = outbox_recipients(&outbox);
    assert_eq!(written.len(), 3000, "someone is missing");
    let repeats: usize = written.values().map(|n| n - 1).sum();
    assert!(
        repeats <= 4,
        "{repeats} repeats: more than one message per connection in flight"
    );
    // Every file of the first run is still there as it was: the resume numbered on.
    for (file, bytes) in &files_before {
        assert_eq!(&std::fs::read(file).unwrap(), bytes, "{} was replaced", file.display());
    }
    for file in eml_files(&outbox) {
        let relative = file.strip_prefix(&outbox).unwrap().display().to_string();
        let parts: Vec<&str> = relative.split('/').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "2026-02-office-flash-3"
                && ["en", "ar"].contains(&parts[1])
                && parts[2].strip_suffix(".eml").is_some_and(|n| n.parse::<u64>().is_ok()),
            "{relative}"
        );
    }
    assert_eq!(status(dir.path())["delivered"], 3000);
}
