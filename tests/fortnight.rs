//! The editor's fortnight, end to end, as the team and a regional office live it: the links in
//! what `send` delivers answer from `serve` without a separate `build`.

mod common;

use std::path::Path;

use common::web::Service;
use common::*;

const EDITION: &str = "editions/2026-01-info-flash-22.toml";
const BASE_URL: &str = "https://infoflash.example.org";

fn get(url: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    agent.get(url).call().expect("the service answers").status().as_u16()
}

/// Every link to the service in a message: its headers (List-Unsubscribe), its HTML part's
/// `href`s and its text part's `<…>` links.
pub fn service_links(eml: &Path) -> Vec<String> {
    let bytes = std::fs::read(eml).unwrap();
    let message = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    let mut texts = vec![
        message.header_raw("List-Unsubscribe").unwrap_or_default().to_string(),
        message.body_text(0).unwrap_or_default().into_owned(),
    ];
    texts.push(message.body_html(0).unwrap_or_default().replace("&amp;", "&"));
    let pattern = regex::Regex::new(&format!(r#"{}[^\s"<>'\)]*"#, regex::escape(BASE_URL))).unwrap();
    let mut links: Vec<String> = texts
        .iter()
        .flat_map(|t| pattern.find_iter(t).map(|m| m.as_str().to_string()).collect::<Vec<_>>())
        .collect();
    links.sort();
    links.dedup();
    links
}

/// Each link in each message, asked of the service: all must answer 200.
fn assert_every_link_answers(dir: &Path, server: &Service) -> usize {
    let mut asked = 0;
    let mut broken = Vec::new();
    for eml in eml_files(&dir.join("outbox")) {
        let links = service_links(&eml);
        assert!(
            links.iter().any(|l| l.contains("/archive/")) && links.iter().any(|l| l.contains("/unsubscribe/")),
            "{}: {links:?}",
            eml.display()
        );
        for link in links {
            let status = get(&link.replace(BASE_URL, &server.base));
            asked += 1;
            if status != 200 {
                broken.push(format!("{}: {link} → {status}", eml.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    asked
}

#[test]
fn every_link_in_every_message_answers_200_without_a_build_first() {
    let dir = copy_project(&root());
    assert!(!dir.path().join("out").exists());
    for extra in [&[][..], &["--office", "santiago"], &["--office", "bangkok"]] {
        let out = infoflash(dir.path(), &[&["send", EDITION][..], extra].concat());
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("published: "), "{}", stdout(&out));
    }
    let server = Service::start(dir.path(), None);
    let asked = assert_every_link_answers(dir.path(), &server);
    assert!(asked > 50, "{asked} links");
}

#[test]
fn a_send_refused_for_errors_publishes_nothing() {
    let dir = copy_project(&root());
    let file = dir.path().join(EDITION);
    let text = std::fs::read_to_string(&file).unwrap();
    // An HTML part above Gmail's limit is an error only the rendered edition shows.
    let long = "Long news. ".repeat(12_000);
    std::fs::write(
        &file,
        text.replacen("intro = '''\n", &format!("intro = '''\n{long}\n"), 1),
    )
    .unwrap();
    let out = infoflash(dir.path(), &["send", EDITION]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        !dir.path().join("out/archive").exists(),
        "a refused send publishes nothing"
    );
}
