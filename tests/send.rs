//! `infoflash send` against a real SMTP server: Postfix's `smtp-sink`, started by each test on
//! a free loopback port, with its options injecting hard and soft rejects, 421s, disconnects
//! and delays, and `-d` dumping every message it accepts to a file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::disk::*;
use common::smtp::*;
use common::*;

#[test]
fn delivers_every_recipient_exactly_once_in_their_language_and_a_rerun_sends_nothing() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 2000, &[("rate", "5000"), ("connections", "8")]);
    // Invalid and suppressed rows on top of the 2,000 good ones.
    let mut list = std::fs::read_to_string(dir.path().join("recipients/people.csv")).unwrap();
    list.push_str(
        "not-an-address,Broken,en,africa
PERSON7@example.org,Duplicate,en,africa
",
    );
    std::fs::write(dir.path().join("recipients/people.csv"), list).unwrap();
    std::fs::write(
        dir.path().join("recipients/suppression.csv"),
        "email,reason,date
person5@example.org,unsubscribed,2026-01-01
*@blocked.example.org,closed,2026-01-01
",
    )
    .unwrap();
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let received = sink.received();
    assert_eq!(received.len(), 1999, "2,000 less one suppressed");
    assert!(received.values().all(|&n| n == 1), "duplicates");
    assert!(!received.contains_key("person5@example.org") && !received.contains_key("not-an-address"));
    // The right variant: Arabic for every third person, as the list says.
    for m in sink.messages().iter().filter(|m| {
        m.contains("X-Rcpt-Args: <person3@example.org>") || m.contains("X-Rcpt-Args: <person4@example.org>")
    }) {
        let arabic = m.contains("person3@");
        assert_eq!(m.contains("Content-Language: ar"), arabic, "wrong variant");
        assert_eq!(m.contains("Content-Language: en"), !arabic, "wrong variant");
    }
    let expected: std::collections::BTreeSet<String> = received.keys().cloned().collect();
    assert_eq!(
        journal_delivered(dir.path()),
        expected,
        "the journal disagrees with the server"
    );
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["pending"].as_u64()),
        (Some(1999), Some(0)),
        "{s}"
    );

    let again = send(dir.path(), &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stdout(&again).contains("1999 already done"), "{}", stdout(&again));
    assert_eq!(sink.received().values().sum::<usize>(), 1999, "a rerun sent again");
}

#[test]
fn a_line_that_starts_with_a_dot_arrives_whole() {
    // SMTP ends a message at a line holding a lone dot: every line that starts with one must be
    // sent with a second, which the server removes.
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 2, &[]);
    let edition = dir.path().join(OFFICE_EDITION);
    let text = std::fs::read_to_string(&edition).unwrap();
    let text = text.replacen(
        "body = \"Everyone reads this.",
        "body = \".NET clubs too.\\n\\n.\\n\\nEveryone reads this.",
        1,
    );
    std::fs::write(&edition, text).unwrap();
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sink.received().len(), 2, "a message was cut short or refused");
    for m in sink.messages().iter().filter(|m| m.contains("Content-Language: en")) {
        assert!(
            m.contains("\n.NET clubs too."),
            "the dot line was lost or doubled:\n{m}"
        );
        assert!(!m.contains("\n..NET"), "the dot was doubled:\n{m}");
    }
}

#[test]
fn a_hard_bounce_can_be_added_to_the_suppression_list() {
    let sink = Sink::start(&["-f", "rcpt"]);
    let dir = project(sink.port, 2, &[("suppress_hard_bounces", "true")]);
    assert_eq!(send(dir.path(), &[]).status.code(), Some(1));
    let suppression = std::fs::read_to_string(dir.path().join("recipients/suppression.csv")).unwrap();
    assert!(suppression.starts_with("email,reason,date\n"), "{suppression}");
    assert!(
        suppression.contains("person0@example.org,hard bounce,")
            && suppression.contains("person1@example.org,hard bounce,"),
        "{suppression}"
    );
}

#[test]
fn every_message_carries_the_list_headers_and_a_stable_message_id() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 3, &[]);
    assert!(send(dir.path(), &[]).status.success());
    let messages = sink.messages();
    assert_eq!(messages.len(), 3);
    for m in &messages {
        for header in [
            "Message-ID: <",
            "Date: ",
            "List-Id: ",
            "List-Unsubscribe: <https://news.example.org/unsubscribe/",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "multipart/alternative",
        ] {
            assert!(m.contains(header), "missing {header} in:\n{}", &m[..m.len().min(1500)]);
        }
        let text_at = m.find("Content-Type: text/plain").unwrap();
        let html_at = m.find("Content-Type: text/html").unwrap();
        assert!(text_at < html_at, "the text part must come first");
    }
    // A test send to the same address gets the same Message-ID as the real one.
    let id_of = |m: &str| m.lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_string();
    let first = messages
        .iter()
        .find(|m| m.contains("X-Rcpt-Args: <person1@example.org>"))
        .unwrap();
    let out = send(dir.path(), &["--test", "person1@example.org"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tests: Vec<String> = sink.messages().into_iter().filter(|m| m.contains("[TEST]")).collect();
    assert_eq!(tests.len(), 2, "one test message per variant (en, ar)");
    assert!(
        tests.iter().any(|t| id_of(t) == id_of(first)),
        "Message-ID changed between sends"
    );
}

#[test]
fn a_test_send_and_a_dry_run_leave_the_journal_alone() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 5, &[]);
    let out = send(dir.path(), &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("5 message(s) would be sent"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("List-Unsubscribe:"),
        "the plan shows the first headers"
    );
    assert_eq!(sink.received().len(), 0, "a dry run sent mail");
    assert!(
        !dir.path().join("state/infoflash.sqlite").exists(),
        "a dry run created the journal"
    );
    let out = send(dir.path(), &["--test", "editor@example.org"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sink.received().get("editor@example.org"), Some(&2));
    assert_eq!(status(dir.path())["pending"], 5, "a test send touched the journal");
}

#[test]
fn a_test_send_can_be_limited_to_one_language_and_refuses_a_language_the_edition_lacks() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 3, &[]);
    let out = send(dir.path(), &["--test", "editor@example.org", "--language", "ar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sink.received().get("editor@example.org"), Some(&1));
    let proof = &sink.messages()[0];
    assert!(proof.contains("Content-Language: ar"), "{proof}");
    // French is a configured language, but this edition has no French variant.
    let out = send(dir.path(), &["--test", "editor@example.org", "--language", "fr"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("--language fr") && stderr(&out).contains("en, ar"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sink.received().get("editor@example.org"), Some(&1), "sent anyway");
    // --language belongs to --test.
    assert_eq!(send(dir.path(), &["--language", "ar"]).status.code(), Some(2));
    assert_eq!(status(dir.path())["pending"], 3, "a test send touched the journal");
}

#[test]
fn a_test_address_may_be_pasted_with_its_name_and_a_bad_one_sends_nothing() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 3, &[]);
    let out = send(
        dir.path(),
        &["--test", "Ana Tavares <Ana.Tavares@Example.ORG>", "--language", "ar"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The name is dropped (the sink counts addresses in lower case).
    assert_eq!(
        sink.received().get("ana.tavares@example.org"),
        Some(&1),
        "{:?}",
        sink.received()
    );
    let out = send(dir.path(), &["--test", "editor@example.org", "Ana <ana@@example.org>"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("ana@@example.org"), "{}", stderr(&out));
    assert_eq!(sink.received().len(), 1, "a list with a bad address sent mail");
}

#[test]
fn a_hard_reject_is_failed_once_recorded_and_not_retried() {
    let sink = Sink::start(&["-f", "rcpt"]);
    let dir = project(sink.port, 3, &[]);
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "failures must show in the exit code");
    let s = status(dir.path());
    assert_eq!(s["failed"], 3, "{s}");
    let failures = std::fs::read_to_string(dir.path().join("state/2026-02-office-flash-3/failures.csv")).unwrap();
    assert!(failures.starts_with("address,status,code,reply,attempts"), "{failures}");
    assert!(
        failures
            .lines()
            .skip(1)
            .all(|l| l.contains(",failed,5") && l.ends_with(",1")),
        "{failures}"
    );
    // A later send does not try refused addresses again.
    let again = send(dir.path(), &[]);
    assert!(stdout(&again).contains("3 already done"), "{}", stdout(&again));
}

#[test]
fn soft_rejects_are_retried_then_deferred_and_a_later_send_delivers_them() {
    let port = free_port();
    let dir = project(port, 6, &[]);
    {
        let _rejecting = Sink::start_on(port, &["-r", "rcpt"]);
        let out = send(dir.path(), &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let s = status(dir.path());
        assert_eq!(s["deferred"], 6, "{s}");
        let failures = std::fs::read_to_string(dir.path().join("state/2026-02-office-flash-3/failures.csv")).unwrap();
        assert!(
            failures
                .lines()
                .skip(1)
                .all(|l| l.contains(",deferred,4") && l.ends_with(",2")),
            "two attempts each: {failures}"
        );
    }
    let sink = Sink::start_on(port, &[]);
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(sink.received().len(), 6);
    assert_eq!(status(dir.path())["delivered"], 6);
}

#[test]
fn a_421_or_a_dropped_connection_is_retried_on_a_new_connection() {
    for option in ["-Q", "-q"] {
        let port = free_port();
        let dir = project(port, 4, &[]);
        {
            let _sink = Sink::start_on(port, &[option, "data"]);
            let out = send(dir.path(), &[]);
            assert_eq!(out.status.code(), Some(1), "{option}: {}", stdout(&out));
            assert_eq!(status(dir.path())["deferred"], 4, "{option}");
        }
        let sink = Sink::start_on(port, &[]);
        assert!(send(dir.path(), &[]).status.success());
        assert_eq!(sink.received().len(), 4, "{option}");
    }
}

#[test]
fn a_suppressed_address_is_never_sent() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 5, &[]);
    std::fs::write(
        dir.path().join("recipients/suppression.csv"),
        "email,reason,date\nPERSON2@example.org,unsubscribed,2026-01-01\n",
    )
    .unwrap();
    assert!(send(dir.path(), &[]).status.success());
    let received = sink.received();
    assert_eq!(received.len(), 4);
    assert!(!received.contains_key("person2@example.org"));
}

#[test]
fn a_second_send_of_the_same_edition_is_refused_while_the_first_runs() {
    // Slow answers keep the first send busy.
    let sink = Sink::start(&["-w", "1"]);
    let dir = project(sink.port, 8, &[("connections", "1")]);
    let first = Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args(["send", OFFICE_EDITION])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = KillOnDrop(first);
    let db = dir.path().join("state/infoflash.sqlite");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !db.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let second = send(dir.path(), &[]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another `infoflash send`"),
        "{}",
        stderr(&second)
    );
    let _ = first.0.kill();
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// After `kill -9` at several moments and a re-run, nobody is missing and at most one message
/// per connection went twice for each kill.
#[test]
fn after_kill_9_a_rerun_loses_nobody_and_repeats_at_most_the_messages_in_flight() {
    let sink = Sink::start(&[]);
    let connections = 4;
    let dir = project(sink.port, 1500, &[("rate", "1000"), ("connections", "4")]);
    let kills = [150u64, 420, 260];
    for kill_after in kills {
        let mut child = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_infoflash"))
                .args(["send", OFFICE_EDITION])
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_millis(kill_after));
        child.0.kill().unwrap(); // SIGKILL
        let _ = child.0.wait();
    }
    let before = sink.received().values().sum::<usize>();
    assert!(
        before > 0 && before < 1500,
        "the kills should land mid-send (received {before})"
    );
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let received = sink.received();
    assert_eq!(received.len(), 1500, "someone is missing");
    let duplicates: usize = received.values().map(|n| n - 1).sum();
    assert!(
        duplicates <= kills.len() * connections,
        "{duplicates} duplicates after {} kills with {connections} connections",
        kills.len()
    );
    assert_eq!(status(dir.path())["delivered"], 1500);
}

#[test]
fn sigterm_stops_cleanly_with_exit_130_and_the_rest_is_sent_on_resume() {
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 60, &[("rate", "20"), ("connections", "2")]);
    let child = spawn_send(dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(800));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("again to resume"));
    let sent = sink.received().len();
    let s = status(dir.path());
    assert_eq!(
        s["delivered"].as_u64().unwrap() as usize,
        sent,
        "every message sent was recorded: {s}"
    );
    assert!(sent < 60);
    // The stopped run's report says so, and counts what it did.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("state/2026-02-office-flash-3/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["state"], "interrupted", "{report}");
    assert_eq!(
        report["total"]["delivered"].as_u64().unwrap() as usize,
        sent,
        "{report}"
    );
    assert!(send(dir.path(), &[]).status.success());
    assert_eq!(sink.received().len(), 60);
    assert!(
        sink.received().values().all(|&n| n == 1),
        "a clean stop must not cause duplicates"
    );
}

/// dkimpy verifies the message as sent, then each tampered copy: every one must fail.
const DKIM_VERIFY: &str = r#"
import json, re, sys, dkim
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
record = ("v=DKIM1; k=" + sys.argv[2] + "; p=" + sys.argv[3]).encode()
dns = lambda name, timeout=5: record
head, body = raw.split(b"\r\n\r\n", 1)
def replaced(name, value):
    return re.sub(rb"(?im)^" + name + rb":.*(\r\n[ \t].*)*", name + b": " + value, head, count=1) + b"\r\n\r\n" + body
tampered = {
    "one-click": raw.replace(b"List-Unsubscribe=One-Click", b"List-Unsubscribe=Two-Clicks"),
    "list-id": replaced(b"List-Id", b"Other <other.example.net>"),
    "reply-to added": b"Reply-To: attacker@example.net\r\n" + raw,
    "second from": b"From: attacker@example.net\r\n" + raw,
    "second subject": b"Subject: Pay now\r\n" + raw,
    "content-type": replaced(b"Content-Type", b"text/plain; charset=utf-8"),
    "mime-version": replaced(b"MIME-Version", b"1.1"),
}
print(json.dumps({"sent": dkim.verify(raw, dnsfunc=dns), **{k: dkim.verify(v, dnsfunc=dns) for k, v in tampered.items()}}))
"#;

/// Makes a key with `openssl ARGS -out KEY` and returns its DNS `k=` and `p=` (for Ed25519 the
/// raw 32-byte public key, RFC 8463; for RSA the SubjectPublicKeyInfo).
fn dkim_key(openssl: &Path, key: &Path, args: &[&str]) -> (&'static str, String) {
    let ok = Command::new(openssl)
        .args(args)
        .arg("-out")
        .arg(key)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl {args:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let der = Command::new(openssl)
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(key)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(der.status.success());
    let ed25519 = args.contains(&"ed25519");
    let public = if ed25519 {
        &der.stdout[der.stdout.len() - 32..]
    } else {
        &der.stdout[..]
    };
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, public);
    (if ed25519 { "ed25519" } else { "rsa" }, encoded)
}

#[test]
fn dkim_signatures_in_every_key_form_verify_independently_and_break_when_a_header_is_forged() {
    let python = require("python3", "apt-get install -y python3");
    let openssl = require("openssl", "apt-get install -y openssl");
    let has_dkimpy = Command::new(&python)
        .args(["-c", "import dkim, nacl"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_dkimpy,
        "the Python packages dkimpy and pynacl are needed: python3 -m pip install dkimpy pynacl (./scripts/test does this)"
    );
    let forms: [(&str, &[&str], &str); 3] = [
        ("RSA, PKCS#1 PEM", &["genrsa", "-traditional"], "rsa"),
        (
            "RSA, PKCS#8 PEM",
            &["genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048"],
            "rsa",
        ),
        ("Ed25519, PKCS#8 PEM", &["genpkey", "-algorithm", "ed25519"], "ed25519"),
    ];
    for (form, args, algorithm) in forms {
        let sink = Sink::start(&[]);
        let dir = project(sink.port, 2, &[]);
        let key = dir.path().join("dkim.pem");
        let (k, public) = dkim_key(&openssl, &key, args);
        let mut settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
        settings.push_str(&format!(
            "\n[delivery.dkim]\nselector = \"flash2026\"\ndomain = \"example.org\"\nkey_file = \"dkim.pem\"\nalgorithm = \"{algorithm}\"\n"
        ));
        std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
        let out = send(dir.path(), &[]);
        assert!(out.status.success(), "{form}: {}{}", stdout(&out), stderr(&out));
        let files: Vec<PathBuf> = std::fs::read_dir(sink.dump.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 2, "{form}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let signature: String = text
                .lines()
                .skip_while(|l| !l.starts_with("DKIM-Signature:"))
                .take_while(|l| l.starts_with("DKIM") || l.starts_with(' ') || l.starts_with('\t'))
                .collect::<String>()
                .to_lowercase();
            assert!(signature.contains(&format!("a={k}-sha256")), "{form}: {signature}");
            assert!(
                signature.contains("h=from:from:"),
                "{form}: From is over-signed: {signature}"
            );
            let verdict = Command::new(&python)
                .args(["-c", DKIM_VERIFY])
                .arg(&file)
                .arg(k)
                .arg(&public)
                .output()
                .unwrap();
            let verdict: serde_json::Value = serde_json::from_slice(&verdict.stdout)
                .unwrap_or_else(|_| panic!("{form}: {}", String::from_utf8_lossy(&verdict.stderr)));
            assert_eq!(verdict["sent"], true, "{form}: the signature must verify: {verdict}");
            for (forgery, verified) in verdict.as_object().unwrap() {
                if forgery != "sent" {
                    assert_eq!(verified, false, "{form}: still verifies after `{forgery}`: {verdict}");
                }
            }
        }
    }
}

#[test]
fn a_dkim_key_of_the_other_algorithm_is_refused_with_the_setting_to_change() {
    let openssl = require("openssl", "apt-get install -y openssl");
    let dir = project(1, 1, &[]);
    dkim_key(
        &openssl,
        &dir.path().join("dkim.pem"),
        &["genpkey", "-algorithm", "ed25519"],
    );
    let mut settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
    settings.push_str("\n[delivery.dkim]\nselector = \"s\"\ndomain = \"example.org\"\nkey_file = \"dkim.pem\"\n");
    std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
    let out = send(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("an Ed25519 key: set `algorithm = \"ed25519\"`"),
        "{}",
        stderr(&out)
    );
}

/// The journal's highest attempt count: above 1 when some message had to be tried again.
fn most_attempts(dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("state/infoflash.sqlite")).unwrap();
    conn.query_row("SELECT max(attempts) FROM deliveries", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_slow_server_is_waited_for_and_timed_out_messages_are_retried_without_loss() {
    // `-W DATA:3:40`: the reply to DATA waits a random multiple of 3 seconds (none with odds
    // 60%, 3 s or more with 40%), longer than the 2-second timeout below, so some attempts time
    // out and are tried again on a new connection; a later send picks up whatever ended
    // deferred. (With 1-second steps, 40 messages all under the timeout came out about one run
    // in fifteen, and the test failed for want of a slow reply.)
    let sink = Sink::start(&["-W", "DATA:3:40"]);
    let dir = project(
        sink.port,
        40,
        &[("timeout_seconds", "2"), ("max_attempts", "3"), ("connections", "8")],
    );
    for _ in 0..6 {
        send(dir.path(), &[]);
        let s = status(dir.path());
        if s["deferred"] == 0 && s["pending"] == 0 {
            break;
        }
    }
    let s = status(dir.path());
    assert_eq!(
        (s["delivered"].as_u64(), s["failed"].as_u64()),
        (Some(40), Some(0)),
        "{s}"
    );
    let received = sink.received();
    assert_eq!(received.len(), 40);
    assert!(
        received.values().all(|&n| n == 1),
        "a timeout on DATA must not cause a duplicate"
    );
    let journal = journal_delivered(dir.path());
    assert_eq!(journal, received.keys().cloned().collect());
    assert!(
        most_attempts(dir.path()) > 1,
        "the slow server never made an attempt time out"
    );
}

#[test]
fn authenticates_to_the_relay_and_never_prints_the_password() {
    const PASSWORD: &str = "correct-horse-battery-staple";
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 5, &[]);
    let settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
    let settings = settings.replace(
        &format!("relay = \"smtp://127.0.0.1:{}\"", sink.port),
        &format!(
            "relay = \"smtp://flash@127.0.0.1:{}\"\npassword_env = \"FLASH_RELAY_PASSWORD\"",
            sink.port
        ),
    );
    std::fs::write(dir.path().join("infoflash.toml"), settings).unwrap();
    let run = |password: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_infoflash"));
        cmd.args(["-vv", "send", OFFICE_EDITION]).current_dir(dir.path());
        match password {
            Some(p) => cmd.env("FLASH_RELAY_PASSWORD", p),
            None => cmd.env_remove("FLASH_RELAY_PASSWORD"),
        };
        cmd.output().unwrap()
    };

    let without = run(None);
    assert!(!without.status.success());
    assert!(
        stderr(&without).contains("FLASH_RELAY_PASSWORD"),
        "the error must name the variable to set: {}",
        stderr(&without)
    );
    assert!(sink.received().is_empty(), "nothing is sent without the password");

    let with = run(Some(PASSWORD));
    assert!(with.status.success(), "{}", stderr(&with));
    assert_eq!(sink.received().len(), 5);
    for text in [stdout(&with), stderr(&with)] {
        assert!(!text.contains(PASSWORD), "the password was printed:\n{text}");
    }
    let journal = std::fs::read(dir.path().join("state/infoflash.sqlite")).unwrap();
    assert!(
        !journal.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()),
        "the password was written to the journal"
    );
}

/// Prints, for a message on stdin: the List-Unsubscribe URL, then each part's content type,
/// transfer encoding and decoded text, as JSON.
const PARTS: &str = r#"
import sys, json, email
from email import policy
msg = email.message_from_binary_file(sys.stdin.buffer, policy=policy.default)
url = msg["List-Unsubscribe"].split(">")[0].lstrip("<")
parts = [[p.get_content_type(), p["Content-Transfer-Encoding"], p.get_content()]
         for p in msg.iter_parts()]
print(json.dumps({"to": str(msg["To"]), "url": url, "parts": parts}))
"#;

#[test]
fn each_message_greets_its_recipient_by_name_and_carries_their_own_unsubscribe_link() {
    let python = require("python3", "apt-get install -y python3");
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 0, &[]);
    std::fs::write(
        dir.path().join("recipients/people.csv"),
        "email,name,language,region\n\
         ann@example.org,Ann Lee,en,africa\n\
         jose@example.org,José <Müller> & Co,en,africa\n\
         anon@example.org,,en,africa\n\
         samir@example.org,سمير,ar,arab-states\n",
    )
    .unwrap();
    assert!(send(dir.path(), &[]).status.success());
    let mut seen = Vec::new();
    for text in sink.messages() {
        let mut child = Command::new(&python)
            .args(["-c", PARTS])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let to = parsed["to"].as_str().unwrap().to_string();
        let url = parsed["url"].as_str().unwrap();
        let (text, html) = (&parsed["parts"][0], &parsed["parts"][1]);
        assert_eq!(
            (text[0].as_str(), html[0].as_str()),
            (Some("text/plain"), Some("text/html"))
        );
        let (text, html) = (text[2].as_str().unwrap(), html[2].as_str().unwrap());
        let greeting = if to.contains("ann@") {
            ("Dear Ann Lee,", "Dear Ann Lee,")
        } else if to.contains("jose@") {
            ("Dear José <Müller> & Co,", "Dear José &lt;Müller&gt; &amp; Co,")
        } else if to.contains("anon@") {
            ("Dear colleague,", "Dear colleague,")
        } else {
            ("عزيزي/عزيزتي سمير،", "عزيزي/عزيزتي سمير،")
        };
        assert!(text.contains(greeting.0), "{to}: no {:?} in the text part", greeting.0);
        assert!(html.contains(greeting.1), "{to}: no {:?} in the HTML part", greeting.1);
        assert!(
            text.contains(url) && html.contains(url),
            "{to}: the body's unsubscribe link is not {url}:\n{text}\n{html}"
        );
        assert!(
            !text.contains("Xinfoflash") && !html.contains("Xinfoflash"),
            "{to}: a marker was left"
        );
        seen.push(to);
    }
    assert_eq!(seen.len(), 4);
}

#[test]
fn four_shards_sent_one_after_another_or_at_once_cover_the_list_without_overlap() {
    for parallel in [false, true] {
        let sink = Sink::start(&[]);
        let dir = project(sink.port, 300, &[("rate", "5000")]);
        let shards = ["1/4", "2/4", "3/4", "4/4"];
        if parallel {
            let children: Vec<_> = shards
                .iter()
                .map(|s| {
                    Command::new(env!("CARGO_BIN_EXE_infoflash"))
                        .args(["send", OFFICE_EDITION, "--shard", s])
                        .current_dir(dir.path())
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for child in children {
                let out = child.wait_with_output().unwrap();
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            }
        } else {
            let mut sizes = Vec::new();
            for s in shards {
                let out = send(dir.path(), &["--shard", s]);
                assert!(out.status.success(), "{}", stderr(&out));
                sizes.push(sink.received().len());
            }
            // Each shard added a share of the list.
            assert!(sizes.windows(2).all(|w| w[1] > w[0]), "{sizes:?}");
        }
        let received = sink.received();
        assert_eq!(received.len(), 300, "parallel: {parallel}");
        assert!(
            received.values().all(|&n| n == 1),
            "a recipient got two messages (parallel: {parallel})"
        );
        for k in 1..=4 {
            assert!(dir
                .path()
                .join(format!("state/infoflash.shard-{k}-of-4.sqlite"))
                .exists());
        }
        // status adds the shards' journals up.
        let s = status(dir.path());
        assert_eq!(
            (s["delivered"].as_u64(), s["pending"].as_u64()),
            (Some(300), Some(0)),
            "{s}"
        );
        // A shard sent again sends nothing.
        assert!(send(dir.path(), &["--shard", "2/4"]).status.success());
        assert_eq!(sink.received().values().sum::<usize>(), 300);
    }
}

#[test]
fn a_full_state_disk_stops_the_send_with_no_more_unrecorded_messages_than_in_flight() {
    let disk = SmallDisk::mount("160k");
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 3000, &[("rate", "5000"), ("connections", "4")]);
    with_state_in(dir.path(), disk.0.path());
    let out = send(dir.path(), &[]);
    assert!(!out.status.success(), "the send went on with a full disk");
    assert!(stderr(&out).to_lowercase().contains("journal"), "{}", stderr(&out));
    let received = sink.received().len();
    assert!(received < 3000, "everything was sent: the disk never filled");
    // What the journal holds is what we can read back from the (full) disk.
    let conn = rusqlite::Connection::open(disk.0.path().join("infoflash.sqlite")).unwrap();
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM deliveries WHERE status = 'delivered'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let unrecorded = received as i64 - recorded;
    assert!(
        (0..=4).contains(&unrecorded),
        "{received} received, {recorded} recorded: more unrecorded than the 4 connections in flight"
    );
}

#[test]
fn a_read_only_state_folder_stops_the_send_before_any_message() {
    let disk = SmallDisk::mount("4m");
    let sink = Sink::start(&[]);
    let dir = project(sink.port, 50, &[]);
    with_state_in(dir.path(), disk.0.path());
    // The journal exists (one earlier test send), then the folder becomes read-only.
    assert!(send(dir.path(), &["--dry-run"]).status.success());
    std::fs::write(dir.path().join("one.csv"), "email\nperson0@example.org\n").unwrap();
    let first = send(dir.path(), &["--list", "one.csv"]);
    assert!(first.status.success(), "{}", stderr(&first));
    disk.remount_read_only();
    let before = sink.received().len();
    let out = send(dir.path(), &[]);
    assert!(!out.status.success(), "a send with a read-only journal went on");
    assert_eq!(
        sink.received().len(),
        before,
        "messages went out that could not be recorded"
    );
    assert!(
        stderr(&out).contains(&disk.0.path().display().to_string()),
        "{}",
        stderr(&out)
    );
}

/// Postfix's smtp-sink behind stunnel: a relay with implicit TLS (smtps) and a certificate of
/// the test's own certificate authority, as an organisation's relay often has.
struct TlsRelay {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl TlsRelay {
    fn start(sink_port: u16) -> TlsRelay {
        TlsRelay::start_with(sink_port, "")
    }

    /// `protocol = "smtp"` makes stunnel answer like a server offering STARTTLS.
    fn start_with(sink_port: u16, protocol: &str) -> TlsRelay {
        let stunnel = ["/usr/bin/stunnel4", "/usr/bin/stunnel"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| require("stunnel4", "apt-get install -y stunnel4"));
        let openssl = require("openssl", "apt-get install -y openssl");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Infoflash Test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        ];
        for args in steps {
            let ok = Command::new(&openssl)
                .args(args)
                .current_dir(d)
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(ok.success(), "openssl {args:?}");
        }
        let port = free_port();
        std::fs::write(
            d.join("stunnel.conf"),
            format!(
                "foreground = yes\npid =\n[smtps]\naccept = 127.0.0.1:{port}\nconnect = 127.0.0.1:{sink_port}\ncert = {0}/server.pem\nkey = {0}/server.key\n{1}",
                d.display(),
                if protocol.is_empty() { String::new() } else { format!("protocol = {protocol}\n") }
            ),
        )
        .unwrap();
        let child = Command::new(stunnel)
            .arg(d.join("stunnel.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("stunnel starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "stunnel did not listen on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsRelay { child, port, dir }
    }
}

impl Drop for TlsRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn implicit_tls_with_the_organisations_ca_and_auth_delivers_and_an_unknown_ca_is_refused() {
    let sink = Sink::start(&[]);
    let relay = TlsRelay::start(sink.port);
    let dir = project(sink.port, 5, &[]);
    let settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
    let settings = settings.replace(
        &format!("relay = \"smtp://127.0.0.1:{}\"", sink.port),
        &format!(
            "relay = \"smtps://flash@localhost:{}\"\npassword_env = \"FLASH_TLS_PASSWORD\"",
            relay.port
        ),
    );
    std::fs::write(dir.path().join("infoflash.toml"), &settings).unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_infoflash"))
            .args(["send", OFFICE_EDITION])
            .current_dir(dir.path())
            .env("FLASH_TLS_PASSWORD", "s3cret-over-tls")
            .output()
            .unwrap()
    };

    // Without the CA the certificate cannot be trusted: nothing is sent, all is deferred.
    let refused = run();
    assert!(!refused.status.success());
    assert!(
        sink.received().is_empty(),
        "a message went over an untrusted connection"
    );
    let s = status(dir.path());
    assert_eq!(s["deferred"].as_u64(), Some(5), "{s}");
    let failures = std::fs::read_to_string(dir.path().join("state/2026-02-office-flash-3/failures.csv")).unwrap();
    assert!(
        failures.to_lowercase().contains("certificate"),
        "{failures}\n{}",
        stdout(&refused)
    );

    // With the organisation's CA: delivered over TLS, with AUTH.
    let ca = relay.dir.path().join("ca.pem");
    std::fs::write(
        dir.path().join("infoflash.toml"),
        format!("{settings}tls_ca_file = \"{}\"\n", ca.display()),
    )
    .unwrap();
    let delivered = run();
    assert!(delivered.status.success(), "{}", stderr(&delivered));
    assert_eq!(sink.received().len(), 5);
    assert_eq!(status(dir.path())["delivered"].as_u64(), Some(5));
}

#[test]
fn starttls_upgrades_the_connection_before_auth() {
    let sink = Sink::start(&[]);
    let relay = TlsRelay::start_with(sink.port, "smtp");
    let dir = project(sink.port, 3, &[]);
    let settings = std::fs::read_to_string(dir.path().join("infoflash.toml")).unwrap();
    let settings = settings.replace(
        &format!("relay = \"smtp://127.0.0.1:{}\"", sink.port),
        &format!(
            "relay = \"smtp://flash@localhost:{}?tls=starttls\"\npassword_env = \"FLASH_TLS_PASSWORD\"\ntls_ca_file = \"{}\"",
            relay.port,
            relay.dir.path().join("ca.pem").display()
        ),
    );
    std::fs::write(dir.path().join("infoflash.toml"), &settings).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_infoflash"))
        .args(["send", OFFICE_EDITION])
        .current_dir(dir.path())
        .env("FLASH_TLS_PASSWORD", "s3cret-over-tls")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(sink.received().len(), 3);
}

/// The list of the report tests: four deliverable teachers (two variants, two regions), and a
/// principal, a suppressed teacher, a repeated address and an invalid row.
fn report_project(port: u16) -> tempfile::TempDir {
    let dir = project(port, 0, &[("rate", "5000")]);
    std::fs::write(
        dir.path().join("recipients/people.csv"),
        "email,name,language,region,role
a1@example.org,A1,en,africa,teacher
a2@example.org,A2,ar,arab-states,teacher
a3@example.org,A3,ar,africa,teacher
a4@example.org,A4,en,arab-states,teacher
p1@example.org,P1,en,africa,principal
s1@example.org,S1,en,africa,teacher
A1@Example.org,Again,en,africa,teacher
not-an-address,Bad,en,africa,teacher
",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("recipients/suppression.csv"),
        "email,reason,date\ns1@example.org,unsubscribed,2026-01-01\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_send_reports_each_variant_language_and_region_with_the_lists_counts_and_status_shows_it() {
    let sink = Sink::start(&[]);
    let dir = report_project(sink.port);
    let out = send(dir.path(), &["--where", "role=teacher"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(sink.received().len(), 4);
    let printed = stdout(&out);
    assert!(
        printed.contains("lists: 8 rows, 1 invalid, 1 duplicates, 1 excluded, 1 suppressed, 4 deliverable"),
        "{printed}"
    );
    let row = |label: &str| {
        printed
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` row in:\n{printed}"))
            .split_whitespace()
            .skip(label.split_whitespace().count())
            .map(|n| n.parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(row("variant ar "), [2, 0, 0, 0, 0]);
    assert_eq!(row("language en "), [2, 0, 0, 0, 0]);
    assert_eq!(row("region arab-states "), [2, 0, 0, 0, 0]);
    assert_eq!(row("total "), [4, 0, 0, 0, 0]);

    let file = dir.path().join("state/2026-02-office-flash-3/report.json");
    assert!(printed.contains("report: "), "{printed}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        report["audience"],
        serde_json::json!({"rows": 8, "invalid": 1, "duplicates": 1, "excluded": 1, "suppressed": 1, "deliverable": 4}),
        "{report}"
    );
    assert_eq!(report["variants"]["en"]["delivered"], 2, "{report}");
    assert_eq!(report["regions"]["africa"]["delivered"], 2, "{report}");
    assert_eq!(
        (report["state"].as_str(), report["destination_kind"].as_str()),
        (Some("finished"), Some("smtp"))
    );
    let time = |k: &str| chrono::DateTime::parse_from_rfc3339(report[k].as_str().unwrap()).unwrap();
    assert!(time("started_at") <= time("ended_at"));

    // A second run sends nothing and says so, group by group; status shows that last report.
    let again = send(dir.path(), &["--where", "role=teacher"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let s = status(dir.path());
    let last = &s["reports"][0];
    assert_eq!(last["total"]["skipped"], 4, "{s}");
    assert_eq!(last["languages"]["ar"]["skipped"], 2, "{s}");
    assert_eq!(last["total"]["delivered"], 0, "{s}");
    assert_eq!(s["delivered"], 4, "{s}");
    let text = infoflash(dir.path(), &["status", OFFICE_EDITION]);
    assert!(
        stdout(&text).contains("last run:") && stdout(&text).contains("region africa"),
        "{}",
        stdout(&text)
    );
}

#[test]
fn refusals_are_counted_in_their_groups_and_a_later_run_counts_them_as_skipped() {
    let sink = Sink::start(&["-f", "rcpt"]);
    let dir = report_project(sink.port);
    let report = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("state/2026-02-office-flash-3/report.json")).unwrap())
            .unwrap()
    };
    let out = send(dir.path(), &["--where", "role=teacher"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let first = report(dir.path());
    assert_eq!(first["total"]["failed"], 4, "{first}");
    assert_eq!(first["variants"]["ar"]["failed"], 2, "{first}");
    assert_eq!(first["regions"]["arab-states"]["failed"], 2, "{first}");
    let again = send(dir.path(), &["--where", "role=teacher"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let second = report(dir.path());
    assert_eq!(
        (second["total"]["failed"].as_u64(), second["total"]["skipped"].as_u64()),
        (Some(0), Some(4)),
        "{second}"
    );
}

#[test]
fn on_a_terminal_the_send_shows_a_progress_bar_with_total_percentage_rate_and_time_left_and_elsewhere_log_lines() {
    let script = require("script", "apt-get install -y bsdutils");
    let sink = Sink::start(&[]);
    // About three seconds at this pace: the bar is drawn several times.
    let dir = project(sink.port, 90, &[("rate", "30")]);
    let command = format!("'{}' send {OFFICE_EDITION}", env!("CARGO_BIN_EXE_infoflash"));
    let out = Command::new(script)
        .args(["-qefc", &command, "/dev/null"])
        .current_dir(dir.path())
        .env_remove("INFOFLASH_LOG")
        .output()
        .unwrap();
    let terminal = stdout(&out);
    assert!(out.status.success(), "{terminal}");
    assert_eq!(sink.received().len(), 90);
    // `pos/len (percent%) rate time left`, the total counted before the first message.
    let bar = regex::Regex::new(r"\d+/90 \(\d+%\) [\d.]+/s \d+s left").unwrap();
    assert!(bar.is_match(&terminal), "no progress bar in:\n{terminal}");

    // Not a terminal: no bar, no control characters; a line every two seconds at most.
    let dir = project(sink.port, 90, &[("rate", "30")]);
    let piped = send(dir.path(), &[]);
    assert!(piped.status.success(), "{}", stderr(&piped));
    let err = stderr(&piped);
    assert!(
        !bar.is_match(&err) && !err.contains('\r') && !err.contains('\u{1b}'),
        "{err:?}"
    );
    assert!(err.contains("/90 ("), "no progress line in {err:?}");
}
