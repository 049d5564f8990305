//! The preview `message.eml` parsed by an independent MIME parser (Python's `email` package):
//! multipart/alternative, text part first and HTML last, each equal to the build's files.

mod common;

use std::process::Command;

use common::*;
use infoflash::types;

const PARSER: &str = r#"
import email, json, sys
from email import policy
msg = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=policy.default)
print(json.dumps({
    "type": msg.get_content_type(),
    "subject": str(msg["subject"]),
    "from": str(msg["from"]),
    "message_id": str(msg["message-id"]),
    "date": str(msg["date"]),
    "parts": [{"type": p.get_content_type(), "charset": p.get_content_charset(), "content": p.get_content()} for p in msg.iter_parts()],
}))
"#;

fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").trim_end().to_string()
}

#[test]
fn the_preview_message_parses_into_text_then_html_matching_the_build() {
    let python = require("python3", "apt-get install -y python3");
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml"]);
    for variant in ["en", "fr", "es"] {
        let dir = out.path().join("2026-01-info-flash-22").join(variant);
        let parsed = Command::new(&python)
            .arg("-c")
            .arg(PARSER)
            .arg(dir.join("message.eml"))
            .output()
            .unwrap();
        assert!(
            parsed.status.success(),
            "python: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
        assert_eq!(json["type"], "multipart/alternative", "{variant}");
        let parts = json["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 2, "{variant}");
        assert_eq!(
            parts[0]["type"], "text/plain",
            "{variant}: the text part must come first"
        );
        assert_eq!(parts[1]["type"], "text/html", "{variant}: the HTML part must come last");
        assert_eq!(parts[0]["charset"], "utf-8");
        let text = std::fs::read_to_string(dir.join("email.txt")).unwrap();
        let html = std::fs::read_to_string(dir.join("email.html")).unwrap();
        assert_eq!(
            normalise(parts[0]["content"].as_str().unwrap()),
            normalise(&text),
            "{variant}: text part differs"
        );
        assert_eq!(
            normalise(parts[1]["content"].as_str().unwrap()),
            normalise(&html),
            "{variant}: HTML part differs"
        );
        assert!(json["subject"].as_str().unwrap().contains("22"), "{json}");
        assert!(json["message_id"]
            .as_str()
            .unwrap()
            .contains(&format!("2026-01-info-flash-22.{variant}@")));
        assert!(
            json["date"].as_str().unwrap().contains("13 Jan 2026"),
            "{}",
            json["date"]
        );
    }
}

/// Runs the independent standards checker (`tests/tools/mail_standards.py`) over `files`:
/// file → {"problems": [...], "headers": {...}} as Python's `email` package decodes them.
fn standards(files: &[std::path::PathBuf]) -> serde_json::Map<String, serde_json::Value> {
    let python = require("python3", "apt-get install -y python3");
    let out = Command::new(python)
        .arg(root().join("tests/tools/mail_standards.py"))
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    match serde_json::from_slice(&out.stdout).unwrap() {
        serde_json::Value::Object(map) => map,
        other => panic!("{other}"),
    }
}

/// Recipients (email, name, language) whose names push the headers: the longest name allowed
/// in Latin, accented and CJK letters (no space to fold at), quotes and commas, Arabic with a
/// right-to-left mark, and text that only looks like the start of an encoded word.
fn edge_recipients() -> Vec<(&'static str, String, &'static str)> {
    let longest = types::MAX_HEADER_TEXT;
    vec![
        ("long.ascii@example.org", "A".repeat(longest), "en"),
        ("long.accents@example.org", "É".repeat(longest), "fr"),
        ("long.cjk@example.org", "教".repeat(longest), "en"),
        (
            "quotes@example.org",
            "Dr. \"Quote\", Jr. (the \\ one) <x@evil.test>".into(),
            "es",
        ),
        ("arabic@example.org", "فاطمة الزهراء\u{200f}".into(), "en"),
        ("almost.encoded@example.org", "Ann =? Lee".into(), "en"),
    ]
}

#[test]
fn every_message_of_every_send_meets_the_mail_standards_by_an_independent_checker() {
    // The repository's project (team and both offices; en, fr, es) with the edge list, and the
    // office fixture (en, fr, ar).
    let (sample, _office, files) = send_everything(true);
    assert!(files.len() >= 50, "{} messages", files.len());
    let report = standards(&files);
    let mut problems = Vec::new();
    let mut list_ids = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for (file, found) in &report {
        for p in found["problems"].as_array().unwrap() {
            problems.push(format!("{file}: {}", p.as_str().unwrap()));
        }
        list_ids.insert(found["headers"]["list-id"].as_str().unwrap().to_string());
        // The per-recipient unsubscribe URL is long: it stands on a line of its own, and the
        // sender's postal address is in the footer.
        let text = found["text"].as_str().unwrap();
        // (A right-to-left variant opens each line with a right-to-left mark.)
        let line = text
            .lines()
            .find(|l| l.contains("/unsubscribe/"))
            .unwrap()
            .trim_start_matches('\u{200f}');
        assert!(line.starts_with('<') && line.ends_with('>'), "{file}: `{line}`");
        if file.contains(&sample.path().display().to_string()) {
            assert!(
                text.contains("7 place de Fontenoy, 75352 Paris 07 SP, France"),
                "{file}"
            );
        }
        names.insert(found["headers"]["to name"].as_str().unwrap().to_string());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The phrase decodes to the series as written, whole, in every language.
    assert!(
        list_ids.contains("Info Flash bimensuel de l’ASPnet <info-flash.example.org>"),
        "{list_ids:#?}"
    );
    assert!(list_ids.iter().all(|id| id.matches('<').count() == 1), "{list_ids:#?}");
    // Names decode to what the list says.
    for (_, name, _) in edge_recipients() {
        assert!(names.contains(&name), "{name}: {names:#?}");
    }
}

/// Sends the repository's project (the team and both offices; en, fr, es), with the edge
/// recipients when `edge`, and the office fixture (en, fr, ar) to their outboxes; returns both
/// projects and every message written.
fn send_everything(edge: bool) -> (tempfile::TempDir, tempfile::TempDir, Vec<std::path::PathBuf>) {
    let sample = copy_project(&root());
    if edge {
        let national = sample.path().join("recipients/national-coordinators.csv");
        let mut list = std::fs::read_to_string(&national).unwrap();
        let columns = list.lines().next().unwrap().matches(',').count();
        for (email, name, language) in edge_recipients() {
            // email,name,language then the list's other columns, empty.
            let name = format!("\"{}\"", name.replace('"', "\"\""));
            list.push_str(&format!("{email},{name},{language}{}\n", ",".repeat(columns - 2)));
        }
        std::fs::write(&national, list).unwrap();
    }
    for extra in [&[][..], &["--office", "bangkok"], &["--office", "santiago"]] {
        let mut args = vec!["send", "editions/2026-01-info-flash-22.toml", "--rate", "100000"];
        args.extend_from_slice(extra);
        let out = infoflash(sample.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let office = copy_project(&office_project());
    std::fs::create_dir_all(office.path().join("recipients")).unwrap();
    std::fs::write(
        office.path().join("recipients/people.csv"),
        "email,name,language,region\nsalma@example.org,سلمى,ar,arab-states\nluc@example.org,Luc,fr,africa\nann@example.org,Ann,en,africa\n",
    )
    .unwrap();
    let out = infoflash(office.path(), &["send", OFFICE_EDITION, "--rate", "100000"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut files = eml_files(&sample.path().join("outbox"));
    files.extend(eml_files(&office.path().join("outbox")));
    (sample, office, files)
}

/// One message of each variant the sample's three sends and the office fixture's send write
/// (team en/fr/es, both offices, and Arabic): every other message differs only in its
/// recipient.
fn one_message_per_variant() -> (Vec<tempfile::TempDir>, Vec<std::path::PathBuf>) {
    let (sample, office, files) = send_everything(false);
    let report = standards(&files);
    let mut seen = std::collections::BTreeSet::new();
    let picked = files
        .into_iter()
        .filter(|f| {
            let headers = &report[&f.display().to_string()]["headers"];
            seen.insert((headers["content-language"].to_string(), headers["list-id"].to_string()))
        })
        .collect();
    (vec![sample, office], picked)
}

#[test]
fn spamassassin_scores_every_variant_low_and_finds_nothing_wrong_with_content_or_format() {
    let spamassassin = require("spamassassin", "apt-get install -y spamassassin");
    let (_projects, files) = one_message_per_variant();
    assert!(files.len() >= 6, "{files:?}");
    // One mbox, one run: SpamAssassin's start-up is most of its time.
    let mut mbox = Vec::new();
    for file in &files {
        mbox.extend_from_slice(b"From infoflash@example.org Thu Jan  1 00:00:00 2026\n");
        mbox.extend_from_slice(
            &std::fs::read(file)
                .unwrap()
                .into_iter()
                .filter(|&b| b != b'\r')
                .collect::<Vec<u8>>(),
        );
        mbox.push(b'\n');
    }
    let mut child = Command::new(spamassassin)
        .args(["-L", "-t", "--mbox"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&mbox).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let reports: Vec<&str> = text.split("Content analysis details:").skip(1).collect();
    assert_eq!(reports.len(), files.len(), "{text}");
    let rule = regex::Regex::new(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s").unwrap();
    for (file, report) in files.iter().zip(&reports) {
        let score: f64 = report
            .trim_start()
            .strip_prefix('(')
            .and_then(|r| r.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no score in {report}"));
        // The table of rules: after its `---- ----` rule, up to the first blank line.
        let fired: Vec<String> = report
            .lines()
            .skip_while(|l| !l.starts_with("----"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter_map(|l| rule.captures(l))
            .filter(|c| c[1].parse::<f64>().unwrap() > 0.0)
            .map(|c| format!("{} {}", &c[1], &c[2]))
            .collect();
        assert!(score < 2.0, "{}: {score} points:{report}", file.display());
        assert!(fired.is_empty(), "{}: rules scored: {fired:?}", file.display());
    }
}

#[test]
fn a_dry_run_shows_the_headers_decoded_as_a_person_reads_them() {
    let project = copy_project(&root());
    let out = infoflash(
        project.path(),
        &[
            "send",
            "editions/2026-01-info-flash-22.toml",
            "--office",
            "santiago",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        shown.contains("\nTo: Carmen López <docente.lopez@example.org>\n"),
        "{shown}"
    );
    assert!(
        shown.contains("\nSubject: Info Flash ASPnet N.º 22: prepárese"),
        "{shown}"
    );
    assert!(
        shown.contains("List-ID: Info Flash quincenal de la ASPnet <santiago.info-flash.example.org>"),
        "{shown}"
    );
    assert!(!shown.contains("=?utf-8?"), "{shown}");
    // Ids keep their angle brackets, as in the message.
    let id = shown
        .lines()
        .find(|l| l.starts_with("Message-ID: "))
        .expect("a Message-ID");
    assert!(id.starts_with("Message-ID: <") && id.ends_with("@example.org>"), "{id}");
    assert!(!project.path().join("outbox").exists(), "a dry run writes nothing");
}
