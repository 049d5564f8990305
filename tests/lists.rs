//! `infoflash lists` and the audience rules on crafted CSV files: encodings and delimiters,
//! row-by-row validation, duplicates, suppression, segments and offices — with exact counts.

mod common;

use std::path::Path;

use common::*;
use infoflash::audience::{self, Selection, Suppression};
use infoflash::config::Config;

const SETTINGS: &str = r#"
base_url = "https://news.example.org"
sender = "Info Flash <flash@example.org>"
languages = ["en", "fr", "es", "ar"]
fallback_language = "en"
lists = ["recipients/main.csv"]

[regions.africa]
name = "Africa"
[regions.arab-states]
name = "Arab States"
[regions.latin-america-caribbean]
name = "Latin America and the Caribbean"

[offices.dakar]
name = "Dakar office"
regions = ["africa"]
language = "fr"
from = "Dakar <dakar@example.org>"
lists = ["recipients/dakar.csv"]
where = ["role=teacher"]
"#;

/// A project folder with the settings above and the given files (path, bytes).
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("infoflash.toml"), SETTINGS).unwrap();
    std::fs::create_dir_all(dir.path().join("recipients")).unwrap();
    for (path, bytes) in files {
        std::fs::write(dir.path().join(path), bytes).unwrap();
    }
    dir
}

fn lists_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["lists", "--json"];
    all.extend_from_slice(args);
    let out = infoflash(dir, &all);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        stderr(&out)
    );
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

/// The project's lists read through the library, as `send` reads them: the counts and the
/// recipients who would be mailed.
fn deliverable(dir: &Path, suppression: &Suppression) -> (audience::Counts, Vec<audience::Recipient>) {
    let config = Config::load(&dir.join("infoflash.toml")).unwrap();
    let selection = Selection {
        lists: config.audience.lists.clone(),
        filters: vec![],
        suppression,
        shard: None,
        sender: None,
    };
    let mut delivered = Vec::new();
    let counts = audience::scan(&config.network, &selection, |_| {}, |r| delivered.push(r.clone())).unwrap();
    (counts, delivered)
}

fn counts(json: &serde_json::Value) -> [u64; 7] {
    [
        "rows",
        "valid",
        "invalid",
        "duplicates",
        "excluded",
        "suppressed",
        "deliverable",
    ]
    .map(|k| json[k].as_u64().unwrap_or_else(|| panic!("no `{k}` in {json}")))
}

fn problems(json: &serde_json::Value) -> Vec<String> {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}:{}: {}",
                p["file"].as_str().unwrap(),
                p["line"],
                p["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn refuses_names_that_would_forge_or_break_a_header_with_their_lines() {
    let long = "N".repeat(infoflash::types::MAX_HEADER_TEXT + 1);
    let csv = format!(
        "email,name\n\
         ok@example.org,{}\n\
         long@example.org,{long}\n\
         encoded@example.org,=?utf-8?b?QWRtaW4=?=\n\
         override@example.org,Ann {rlo}gnp.exe\n\
         isolate@example.org,Ann {rli}x\n\
         mark@example.org,فاطمة{rlm}\n",
        "N".repeat(infoflash::types::MAX_HEADER_TEXT),
        rlo = '\u{202e}',
        rli = '\u{2067}',
        rlm = '\u{200f}',
    );
    let dir = project(&[("recipients/main.csv", csv.as_bytes())]);
    let json = lists_json(dir.path(), &[]);
    assert_eq!(counts(&json), [6, 2, 4, 0, 0, 0, 2], "{json}");
    let p = problems(&json).join("\n");
    for expected in [
        "main.csv:3: the name `NNNN",
        "is 201 characters long; it goes into a mail header, where at most 200 fit",
        "main.csv:4: the name `=?utf-8?b?QWRtaW4=?=` contains `=?…?=`, which mail programs decode",
        "main.csv:5: the name `Ann \\u{202e}gnp.exe` contains the invisible direction control \\u{202e}",
        "main.csv:6: the name `Ann \\u{2067}x` contains the invisible direction control",
    ] {
        assert!(p.contains(expected), "missing `{expected}` in:\n{p}");
    }
}

#[test]
fn reads_a_spreadsheet_export_with_bom_semicolons_crlf_quotes_and_blank_lines() {
    let csv = "\u{feff}email;name;language;region;school\r\n\
               ana@example.org;\"Pérez; Ana\";es;latin-america-caribbean;\"Liceo \"\"Norte\"\"\"\r\n\
               \r\n\
               bob@example.org;Bob;en;africa;\"Line one\r\nline two\"\r\n\
               ;;;;\r\n\
               carla@example.org;Carla;;;\r\n";
    let dir = project(&[("recipients/main.csv", csv.as_bytes())]);
    let json = lists_json(dir.path(), &[]);
    assert_eq!(counts(&json), [3, 3, 0, 0, 0, 0, 3], "{json}");
    assert_eq!(json["table"]["latin-america-caribbean"]["es"], 1);
    assert_eq!(json["table"]["africa"]["en"], 1);
    assert_eq!(json["table"]["-"]["-"], 1);
    assert!(problems(&json).is_empty(), "{:?}", problems(&json));
}

#[test]
fn skips_each_bad_row_with_its_line_and_reason_and_keeps_the_rest() {
    let csv = "email,name,language,region\n\
               good@example.org,Good,en,africa\n\
               not-an-address,Bad Address,en,africa\n\
               \"ann@example.org\",\"Ann\r\nBcc: x@example.org\",en,africa\n\
               zed@example.org,Zed,de,africa\n\
               yan@example.org,Yan,en,atlantis\n\
               few@example.org,Few\n\
               many@example.org,Many,en,africa,extra\n\
               ,No Address,en,africa\n\
               last@example.org,Last,FR,Africa\n";
    let dir = project(&[("recipients/main.csv", csv.as_bytes())]);
    let json = lists_json(dir.path(), &[]);
    assert_eq!(counts(&json), [9, 2, 7, 0, 0, 0, 2], "{json}");
    let p = problems(&json).join("\n");
    for expected in [
        "main.csv:3: `not-an-address` is not a valid email address",
        "main.csv:4: the name `Ann\\r\\nBcc: x@example.org` contains a line break",
        "main.csv:6: language `de` is not configured; use one of `en`, `fr`, `es`, `ar`",
        "main.csv:7: unknown region `atlantis`; the regions are `africa`, `arab-states`, `latin-america-caribbean`",
        "main.csv:8: has 2 fields but the header has 4",
        "main.csv:9: has 5 fields but the header has 4",
        "main.csv:10: has no email address",
    ] {
        assert!(p.contains(expected), "missing `{expected}` in:\n{p}");
    }
}

#[test]
fn a_name_with_a_line_break_never_reaches_a_header() {
    let csv = "email,name\n\"ann@example.org\",\"Ann\r\nBcc: x@example.org\"\nbob@example.org,\"Bob\nSmith\"\n";
    let dir = project(&[("recipients/main.csv", csv.as_bytes())]);
    let (counts, delivered) = deliverable(dir.path(), &Suppression::default());
    assert_eq!(counts.invalid, 2);
    assert!(delivered.is_empty(), "{delivered:?}");
}

#[test]
fn an_address_pasted_with_its_name_is_read_and_suppressed_like_a_bare_one() {
    // A mail client's export: `Name <address>` in the email column, the name column empty or
    // not; the suppression list written the same way.
    let csv = "email,name,language\n\
               Ana Tavares <ana@example.org>,,es\n\
               \"\"\"Okafor, Chidi\"\" <CHIDI@example.org>\",Chidi Okafor,en\n\
               Bob <bob@example.org>,,en\n\
               ana@example.org,Again,en\n\
               Eve <eve@@example.org>,,en\n";
    let suppression = "email,reason,date\nBob Stone <Bob@Example.org>,unsubscribed,2026-01-02\n";
    let dir = project(&[
        ("recipients/main.csv", csv.as_bytes()),
        ("recipients/suppression.csv", suppression.as_bytes()),
    ]);
    let json = lists_json(dir.path(), &[]);
    // rows, valid, invalid, duplicates, excluded, suppressed, deliverable
    assert_eq!(counts(&json), [5, 4, 1, 1, 0, 1, 2], "{json}");
    let p = problems(&json).join("\n");
    assert!(p.contains("main.csv:6:") && p.contains("eve@@example.org"), "{p}");
    let (suppression, _) = Suppression::load(&dir.path().join("recipients/suppression.csv")).unwrap();
    let (_, delivered) = deliverable(dir.path(), &suppression);
    let got: Vec<(String, Option<String>)> = delivered
        .iter()
        .map(|r| (r.email.to_string(), r.name.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("ana@example.org".to_string(), Some("Ana Tavares".to_string())),
            ("CHIDI@example.org".to_string(), Some("Chidi Okafor".to_string())),
        ],
        "the name column wins over a pasted name"
    );
}

#[test]
fn a_row_with_an_invisible_control_character_in_any_column_is_skipped_at_its_line() {
    let list = "email,name,school\nann@example.org,Ann,Lyc\u{e9}e\nbob@example.org,Bob,School\u{1a}\n";
    let dir = project(&[("recipients/main.csv", list.as_bytes())]);
    let json = lists_json(dir.path(), &["recipients/main.csv"]);
    assert_eq!(
        (json["invalid"].as_u64(), json["deliverable"].as_u64()),
        (Some(1), Some(1)),
        "{json}"
    );
    let p = problems(&json).join("\n");
    assert!(
        p.contains("main.csv:3:") && p.contains("`school` column") && p.contains("control character"),
        "{p}"
    );
}

#[test]
fn merges_duplicates_ignoring_case_and_space_and_the_first_row_wins() {
    let main = "email,name,region\nann@example.org,Ann,africa\n  ANN@Example.ORG ,Ann Again,arab-states\nbob@example.org,Bob,africa\n";
    let second = "email,region\nbob@EXAMPLE.org,latin-america-caribbean\n";
    let dir = project(&[
        ("recipients/main.csv", main.as_bytes()),
        ("recipients/second.csv", second.as_bytes()),
    ]);
    let json = lists_json(dir.path(), &["recipients/main.csv", "recipients/second.csv"]);
    assert_eq!(counts(&json), [4, 4, 0, 2, 0, 0, 2], "{json}");
    assert_eq!(
        json["table"]["africa"]["-"], 2,
        "the first rows' region must win: {json}"
    );
    assert!(json["table"].get("arab-states").is_none());
    let p = problems(&json).join("\n");
    assert!(
        p.contains("main.csv:3: ANN@example.org is already at recipients/main.csv:2"),
        "{p}"
    );
    assert!(
        p.contains("second.csv:2: bob@example.org is already at recipients/main.csv:4"),
        "{p}"
    );
}

#[test]
fn segments_or_values_and_and_filters_on_any_column() {
    let csv = "email,region,role,tags,level\n\
               a@example.org,africa,Teacher,climate;peace,secondary\n\
               b@example.org,africa,Principal,peace,primary\n\
               c@example.org,arab-states,teacher,heritage,secondary\n\
               d@example.org,latin-america-caribbean,Teacher,,primary\n";
    let dir = project(&[("recipients/main.csv", csv.as_bytes())]);
    let deliverable = |args: &[&str]| lists_json(dir.path(), args)["deliverable"].as_u64().unwrap();
    assert_eq!(deliverable(&["--where", "region=africa,arab-states"]), 3);
    assert_eq!(
        deliverable(&["--where", "region=africa,arab-states", "--where", "role=TEACHER"]),
        2
    );
    assert_eq!(deliverable(&["--where", "tags=peace"]), 2);
    assert_eq!(deliverable(&["--where", "level=primary"]), 2);
    assert_eq!(
        deliverable(&["--where", "level=primary", "--where", "tags=heritage"]),
        0
    );
    let json = lists_json(dir.path(), &["--where", "role=principal"]);
    assert_eq!(counts(&json), [4, 4, 0, 0, 3, 0, 1]);
}

#[test]
fn a_filter_on_an_unknown_column_or_region_is_a_usage_error() {
    let dir = project(&[("recipients/main.csv", b"email,region\na@example.org,africa\n")]);
    let out = infoflash(dir.path(), &["lists", "--where", "shoe_size=42"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no list has a column `shoe_size`"),
        "{}",
        stderr(&out)
    );
    let out = infoflash(dir.path(), &["lists", "--where", "region=europe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown region `europe`"), "{}", stderr(&out));
}

#[test]
fn strict_exits_1_when_any_row_is_invalid() {
    let dir = project(&[("recipients/main.csv", b"email\nok@example.org\nbroken\n")]);
    assert_eq!(infoflash(dir.path(), &["lists"]).status.code(), Some(0));
    let out = infoflash(dir.path(), &["lists", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("recipients/main.csv:3: skipped: `broken` is not a valid email address"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_utf16_or_headerless_file_is_refused_with_advice() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("email\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let dir = project(&[
        ("recipients/main.csv", &utf16),
        ("recipients/other.csv", b"mail,name\nx@example.org,X\n"),
    ]);
    let out = infoflash(dir.path(), &["lists"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("UTF-16: save it as CSV UTF-8"),
        "{}",
        stderr(&out)
    );
    let out = infoflash(dir.path(), &["lists", "recipients/other.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no `email` column"), "{}", stderr(&out));
}

#[test]
fn a_row_that_is_not_utf8_is_skipped_alone() {
    let mut bytes = b"email,name\na@example.org,A\nb@example.org,".to_vec();
    bytes.extend_from_slice(&[0xE9, b'\n']);
    bytes.extend_from_slice(b"c@example.org,C\n");
    let dir = project(&[("recipients/main.csv", &bytes)]);
    let json = lists_json(dir.path(), &[]);
    assert_eq!(counts(&json), [3, 2, 1, 0, 0, 0, 2], "{json}");
    assert!(
        problems(&json)[0].contains("main.csv:3: is not valid UTF-8"),
        "{:?}",
        problems(&json)
    );
}

const SUPPRESSION: &str =
    "email,reason,date\nann@example.org,unsubscribed,2025-11-03\n*@closed.example.net,domain closed,2025-06-01\n";

#[test]
fn suppressed_addresses_and_domains_are_never_deliverable() {
    let main = "email,region,role\nANN@example.org,africa,teacher\nx@closed.example.net,africa,teacher\nbob@example.org,africa,teacher\n";
    let dir = project(&[
        ("recipients/main.csv", main.as_bytes()),
        ("recipients/suppression.csv", SUPPRESSION.as_bytes()),
    ]);
    let json = lists_json(dir.path(), &[]);
    assert_eq!(counts(&json), [3, 3, 0, 0, 0, 2, 1], "{json}");
}

/// The rule that must never break, checked for every office and several segments through the
/// library: whatever the selection, no suppressed address is handed out for delivery.
#[test]
fn no_suppressed_address_gets_through_for_any_office_or_segment() {
    let main = "email,region,role,tags\n\
                ann@example.org,africa,teacher,a\n\
                Ann@Example.org,arab-states,principal,b\n\
                x@closed.example.net,africa,teacher,a\n\
                y@CLOSED.example.NET,latin-america-caribbean,principal,b\n\
                ok@example.org,africa,teacher,a\n";
    let dakar = "email,region,role\nann@example.org,africa,teacher\nz@closed.example.net,africa,teacher\nfine@example.org,africa,teacher\n";
    let dir = project(&[
        ("recipients/main.csv", main.as_bytes()),
        ("recipients/dakar.csv", dakar.as_bytes()),
        ("recipients/suppression.csv", SUPPRESSION.as_bytes()),
    ]);
    let config = Config::load(&dir.path().join("infoflash.toml")).unwrap();
    let (suppression, bad) = Suppression::load(&config.audience.suppression).unwrap();
    assert!(bad.is_empty());
    let segments: Vec<Vec<&str>> = vec![
        vec![],
        vec!["region=africa"],
        vec!["role=teacher,principal"],
        vec!["tags=a,b"],
    ];
    let mut audiences = vec![(config.audience.lists.clone(), vec![])];
    for office in config.network.offices.values() {
        audiences.push((office.lists.clone(), office.filters.clone()));
    }
    let mut delivered_total = 0;
    for (lists, office_filters) in &audiences {
        for segment in &segments {
            let mut filters = office_filters.clone();
            filters.extend(segment.iter().map(|s| s.parse().unwrap()));
            let selection = Selection {
                lists: lists.clone(),
                filters,
                suppression: &suppression,
                shard: None,
                sender: None,
            };
            audience::scan(
                &config.network,
                &selection,
                |_| {},
                |r| {
                    delivered_total += 1;
                    let address = r.email.as_str().to_lowercase();
                    assert!(
                        address != "ann@example.org" && !address.ends_with("@closed.example.net"),
                        "{address} was deliverable for {lists:?} {segment:?}"
                    );
                },
            )
            .unwrap();
        }
    }
    assert!(
        delivered_total > 0,
        "the test delivered nothing at all, so it proved nothing"
    );
}

#[test]
fn an_office_reads_its_own_lists_through_its_own_segment() {
    let dakar = "email,region,role\nt@example.org,africa,teacher\np@example.org,africa,principal\n";
    let dir = project(&[
        ("recipients/main.csv", b"email\nm@example.org\n"),
        ("recipients/dakar.csv", dakar.as_bytes()),
    ]);
    let json = lists_json(dir.path(), &["--office", "dakar"]);
    assert_eq!(counts(&json), [2, 2, 0, 0, 1, 0, 1], "{json}");
    let out = infoflash(dir.path(), &["lists", "--office", "lagos"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown office `lagos`; the offices are `dakar`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_sample_lists_read_cleanly() {
    let out = infoflash(&root(), &["lists", "--strict", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(json["deliverable"].as_u64().unwrap() >= 25, "{json}");
    let regions = json["table"].as_object().unwrap();
    for region in [
        "africa",
        "arab-states",
        "asia-pacific",
        "europe-north-america",
        "latin-america-caribbean",
    ] {
        assert!(regions.contains_key(region), "no national coordinator in {region}");
    }
    for office in ["santiago", "bangkok"] {
        let out = infoflash(&root(), &["lists", "--strict", "--office", office]);
        assert_eq!(out.status.code(), Some(0), "{office}: {}", stderr(&out));
    }
}

#[test]
fn addresses_lists_each_deliverable_address_once_with_the_variant_send_would_give_it() {
    let dakar = "email,name,language,region,role\n\
                 t@example.org,T,ar,africa,teacher\n\
                 p@example.org,P,en,africa,principal\n\
                 T@Example.org,Again,en,africa,teacher\n\
                 s@example.org,S,,africa,teacher\n\
                 g@example.org,G,,africa,teacher\n\
                 x@closed.example.net,X,en,africa,teacher\n";
    let main = "email,language,region\ns@example.org,es,arab-states\nm@example.org,,\n";
    let suppression = "email,reason,date,scope\n\
                       s@example.org,unsubscribed from the dakar office's mail,2026-01-20,dakar\n\
                       *@closed.example.net,closed,2026-01-01,\n";
    let dir = project(&[
        ("recipients/main.csv", main.as_bytes()),
        ("recipients/dakar.csv", dakar.as_bytes()),
        ("recipients/suppression.csv", suppression.as_bytes()),
    ]);
    // The office: its segment (no principal), the first of two spellings, nobody suppressed
    // for it; a recipient without a language gets the office's.
    let out = infoflash(dir.path(), &["lists", "--office", "dakar", "--addresses"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "t@example.org\tar-dakar\ng@example.org\tfr-dakar\n");
    assert!(
        stderr(&out).contains("dakar.csv:4"),
        "the merged row is reported: {}",
        stderr(&out)
    );
    // The team: the unsubscribe scoped to Dakar does not apply to its mail.
    let out = infoflash(dir.path(), &["lists", "--addresses"]);
    assert_eq!(
        stdout(&out),
        "s@example.org\tes\nm@example.org\ten\n",
        "{}",
        stderr(&out)
    );
    // With an edition, only its languages are variants: no French one, so the fallback.
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::copy(office_project().join(OFFICE_EDITION), dir.path().join(OFFICE_EDITION)).unwrap();
    let out = infoflash(
        dir.path(),
        &[
            "lists",
            "--office",
            "dakar",
            "--addresses",
            "--edition",
            OFFICE_EDITION,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"email": "t@example.org", "variant": "ar-dakar", "language": "ar", "region": "africa"},
            {"email": "g@example.org", "variant": "en-dakar", "language": "en", "region": "africa"}
        ])
    );
    // --edition belongs to --addresses.
    assert_eq!(
        infoflash(dir.path(), &["lists", "--edition", OFFICE_EDITION])
            .status
            .code(),
        Some(2)
    );
}
