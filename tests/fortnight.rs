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
    // Santiago's own event, with a calendar file of its own that only its variants link to.
    std::fs::write(
        dir.path().join("editions/2026-01-info-flash-22.santiago.toml"),
        santiago_overlay(),
    )
    .unwrap();
    for extra in [&[][..], &["--office", "santiago"], &["--office", "bangkok"]] {
        let out = infoflash(dir.path(), &[&["send", EDITION][..], extra].concat());
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {}", stderr(&out));
        assert!(stdout(&out).contains("published: "), "{}", stdout(&out));
    }
    let server = Service::start(dir.path(), None);
    let asked = assert_every_link_answers(dir.path(), &server);
    assert!(asked > 50, "{asked} links");
    let overlay_calendar = eml_files(&dir.path().join("outbox"))
        .iter()
        .flat_map(|eml| service_links(eml))
        .any(|l| l.contains("encuentro-santiago") && l.ends_with(".ics"));
    assert!(overlay_calendar, "no message links the overlay event's calendar file");
}

#[test]
fn a_base_url_with_a_path_is_served_under_it_and_its_unsubscribe_form_posts_there() {
    let dir = copy_project(&root());
    let settings = dir.path().join("infoflash.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(text.contains(&format!("base_url = \"{BASE_URL}\"")));
    std::fs::write(
        &settings,
        text.replace(
            &format!("base_url = \"{BASE_URL}\""),
            &format!("base_url = \"{BASE_URL}/news/\""),
        ),
    )
    .unwrap();
    let out = infoflash(dir.path(), &["send", EDITION]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let server = Service::start(dir.path(), None);
    let links: Vec<String> = eml_files(&dir.path().join("outbox"))
        .iter()
        .flat_map(|eml| service_links(eml))
        .collect();
    assert!(
        links.iter().all(|l| l.starts_with(&format!("{BASE_URL}/news/"))),
        "{links:?}"
    );
    // A proxy that passes the path on: every link, as written, answers.
    let asked = assert_every_link_answers(dir.path(), &server);
    assert!(asked > 50, "{asked} links");
    // The unsubscribe page's form posts to the page's own address, so under /news/ too.
    let page_url = links
        .iter()
        .find(|l| l.contains("/news/unsubscribe/"))
        .unwrap()
        .replace(BASE_URL, &server.base);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let page = agent
        .get(&page_url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let form = &page[page.find("<form").unwrap()..];
    let tag = &form[..form.find('>').unwrap()];
    assert!(!tag.contains("action="), "{tag}");
    let posted = agent
        .post(&page_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .send("List-Unsubscribe=One-Click")
        .unwrap();
    assert_eq!(posted.status().as_u16(), 200);
    let suppression = std::fs::read_to_string(dir.path().join("recipients/suppression.csv")).unwrap();
    assert!(suppression.contains("unsubscribed (one-click)"), "{suppression}");
    // A redirect keeps the path: a folder asked for without its slash.
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let folder = no_redirects
        .get(&format!("{}/news/archive/2026-01-info-flash-22/en", server.base))
        .call()
        .unwrap();
    assert_eq!(folder.status().as_u16(), 308);
    assert_eq!(folder.headers().get("location").unwrap().to_str().unwrap(), "./en/");
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

/// A Postfix bounce (`tests/fixtures/dsn/postfix.eml`) of a message to `recipient`.
fn hard_bounce(recipient: &str, message_id: &str) -> String {
    [
        ("recipient", recipient),
        ("action", "failed"),
        ("status", "5.1.1"),
        (
            "diagnostic",
            "smtp; 550 5.1.1 <x>: Recipient address rejected: User unknown",
        ),
        ("message_id", message_id),
        ("date", "Tue, 27 Jan 2026 10:00:00 +0100"),
        ("subject", "Undelivered Mail Returned to Sender"),
    ]
    .iter()
    .fold(
        include_str!("fixtures/dsn/postfix.eml").to_string(),
        |text, (name, value)| text.replace(&format!("{{{name}}}"), value),
    )
}

fn lists_json(dir: &Path) -> serde_json::Value {
    let out = infoflash(dir, &["lists", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn the_whole_fortnight_runs_on_the_sample() {
    use common::smtp::Sink;
    let sink = Sink::start(&[]);
    let dir = copy_project(&root());
    let p = dir.path();
    let settings = std::fs::read_to_string(p.join("infoflash.toml")).unwrap()
        + &format!(
            "\n[delivery]\nrelay = \"smtp://127.0.0.1:{}\"\nrate = 1000\nconnections = 2\n",
            sink.port
        );
    std::fs::write(p.join("infoflash.toml"), settings).unwrap();

    // `next`: N°23, two weeks on.
    let out = infoflash(p, &["next", EDITION]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let next = "editions/2026-01-info-flash-23.toml";
    let text = std::fs::read_to_string(p.join(next)).unwrap_or_else(|e| panic!("{next}: {e}\n{}", stdout(&out)));
    assert!(
        text.contains("number = 23") && text.contains("date = 2026-01-27"),
        "{text}"
    );

    // An edit by script, as an editor would make it: a news item of this fortnight.
    let edited = text
        + r#"
[[items]]
id = "fortnight-news"
kind = "news"
title = "News of the fortnight"
body = "Schools of the network share [their projects](https://www.unesco.org/en/aspnet)."

[items.translations.fr]
title = "Les nouvelles de la quinzaine"
body = "Les écoles du réseau partagent [leurs projets](https://www.unesco.org/en/aspnet)."

[items.translations.es]
title = "Las noticias de la quincena"
body = "Las escuelas de la red comparten [sus proyectos](https://www.unesco.org/en/aspnet)."
"#;
    std::fs::write(p.join(next), edited).unwrap();
    let out = infoflash(p, &["check", next]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(" 0 error(s)"), "{}", stdout(&out));

    // A proof to a colleague: one message per variant, nothing in the journal.
    let out = infoflash(p, &["send", next, "--test", "colleague@example.org"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let proofs = sink.received();
    assert_eq!(proofs.len(), 1, "{proofs:?}");
    assert!(proofs["colleague@example.org"] >= 1);
    let proof_links: Vec<String> = {
        let dump = tempfile::tempdir().unwrap();
        for (i, m) in sink.messages().iter().enumerate() {
            std::fs::write(dump.path().join(format!("{i}.eml")), m).unwrap();
        }
        eml_files(dump.path()).iter().flat_map(|m| service_links(m)).collect()
    };
    let proof_unsubscribe = proof_links
        .iter()
        .find(|l| l.contains("/unsubscribe/"))
        .expect("a proof has an unsubscribe link")
        .clone();

    // The send: every deliverable recipient exactly once.
    let deliverable = lists_json(p)["deliverable"].as_u64().unwrap();
    let out = infoflash(p, &["send", next]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let mut received = sink.received();
    received.remove("colleague@example.org");
    assert_eq!(received.len() as u64, deliverable, "{received:?}");
    assert!(received.values().all(|n| *n == 1), "{received:?}");
    let out = infoflash(p, &["status", next, "--json"]);
    let status: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["delivered"].as_u64(), Some(deliverable), "{status}");
    assert_eq!(status["pending"].as_u64(), Some(0), "{status}");
    // The report breaks the send down by variant, language and region, and the parts add up.
    let report = &status["reports"][0];
    assert_eq!(report["total"]["delivered"].as_u64(), Some(deliverable), "{status}");
    for group in ["variants", "languages", "regions"] {
        let sum: u64 = report[group]
            .as_object()
            .unwrap_or_else(|| panic!("no {group}: {status}"))
            .values()
            .map(|o| o["delivered"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, deliverable, "{group}: {status}");
    }
    assert!(report["languages"]["fr"]["delivered"].as_u64().unwrap() > 0, "{status}");

    // Every link in every delivered message answers from the service.
    let messages = tempfile::tempdir().unwrap();
    for (i, m) in sink.messages().iter().enumerate() {
        std::fs::write(messages.path().join(format!("{i}.eml")), m).unwrap();
    }
    let server = Service::start(p, None);
    let mut broken = Vec::new();
    for eml in eml_files(messages.path()) {
        for link in service_links(&eml) {
            let status = get(&link.replace(BASE_URL, &server.base));
            if status != 200 {
                broken.push(format!("{link} → {status}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // The colleague who clicks "unsubscribe" in the proof is told it was a proof, and stays.
    let before = std::fs::read_to_string(p.join("recipients/suppression.csv")).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut page = agent
        .get(&proof_unsubscribe.replace(BASE_URL, &server.base))
        .call()
        .unwrap();
    let page = page.body_mut().read_to_string().unwrap();
    // In the proof's language: each page table's `proof_title`.
    let titles: Vec<String> = std::fs::read_dir(root().join("templates/pages"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter_map(|t| {
            let table: toml::Table = t.parse().ok()?;
            Some(table.get("proof_title")?.as_str()?.to_string())
        })
        .collect();
    assert!(titles.len() >= 6, "{titles:?}");
    assert!(titles.iter().any(|t| page.contains(&format!("<h1>{t}</h1>"))), "{page}");
    let post = agent
        .post(&proof_unsubscribe.replace(BASE_URL, &server.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("List-Unsubscribe=One-Click")
        .unwrap();
    assert_eq!(post.status().as_u16(), 200);
    assert_eq!(
        std::fs::read_to_string(p.join("recipients/suppression.csv")).unwrap(),
        before
    );

    // A hard bounce comes back: that reader is suppressed from then on.
    let bounced = received.keys().next().unwrap().clone();
    std::fs::write(p.join("bounce.eml"), hard_bounce(&bounced, "<whatever@example.org>")).unwrap();
    let out = infoflash(p, &["bounces", "import", "bounce.eml"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(lists_json(p)["deliverable"].as_u64(), Some(deliverable - 1));
    let suppression = std::fs::read_to_string(p.join("recipients/suppression.csv")).unwrap();
    assert!(suppression.to_lowercase().contains(&bounced), "{suppression}");

    // And the next fortnight starts from this one.
    let out = infoflash(p, &["next", next]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let out = infoflash(p, &["check", "editions/2026-02-info-flash-24.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
