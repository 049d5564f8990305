//! The preview `message.eml` parsed by an independent MIME parser (Python's `email` package):
//! multipart/alternative, text part first and HTML last, each equal to the build's files.

mod common;

use std::process::Command;

use common::*;

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
