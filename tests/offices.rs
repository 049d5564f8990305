//! Office editions: a regional office's overlay file (`editions/<edition>.<office>.toml`) adds
//! its own items to its edition, and to nobody else's (docs/edition-format.md, *Office
//! editions*).

mod common;

use std::path::Path;

use common::*;

const EDITION: &str = "editions/2026-01-info-flash-22.toml";
const OVERLAY: &str = "editions/2026-01-info-flash-22.santiago.toml";

fn project_with_overlay() -> tempfile::TempDir {
    let dir = copy_project(&root());
    std::fs::write(dir.path().join(OVERLAY), santiago_overlay()).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The decoded text part and the From and Content-Language of one message.
fn parts(eml: &Path) -> (String, String, String) {
    let bytes = std::fs::read(eml).unwrap();
    let message = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    let from = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_string();
    let language = message
        .header_raw("Content-Language")
        .unwrap_or_default()
        .trim()
        .to_string();
    let text = message.body_text(0).unwrap_or_default().into_owned();
    (text, from, language)
}

#[test]
fn the_santiago_edition_has_its_regions_items_and_its_own_in_spanish_from_its_sender() {
    let dir = project_with_overlay();
    let out = infoflash(dir.path(), &["send", EDITION, "--office", "santiago"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let messages = eml_files(&dir.path().join("outbox"));
    let lists = infoflash(dir.path(), &["lists", "--office", "santiago", "--json"]);
    let lists: serde_json::Value = serde_json::from_str(&stdout(&lists)).unwrap();
    assert_eq!(
        messages.len() as u64,
        lists["deliverable"].as_u64().unwrap(),
        "one message per deliverable reader on the office's list"
    );
    let mut spanish = 0;
    for eml in &messages {
        let (text, from, language) = parts(eml);
        assert_eq!(from, "aspnet-santiago@example.org", "{}", eml.display());
        // Its own item first, in the reader's language when translated, else in Spanish (the
        // overlay's language); the region's own publication; the shared items.
        let (own, shared) = match language.as_str() {
            "es" => {
                spanish += 1;
                assert!(
                    text.contains("Estimados coordinadores y docentes de América Latina"),
                    "{text}"
                );
                (
                    "Encuentro regional de escuelas asociadas",
                    "Conferencia Mundial de la ASPnet 2026",
                )
            }
            "en" => (
                "Regional meeting of associated schools",
                "Global ASPnet Conference 2026",
            ),
            "fr" => (
                "Encuentro regional de escuelas asociadas",
                "Conférence mondiale de l’ASPnet 2026",
            ),
            other => panic!("{}: unexpected language {other}", eml.display()),
        };
        let own = text
            .find(own)
            .unwrap_or_else(|| panic!("the office's own item:\n{text}"));
        let shared = text.find(shared).unwrap_or_else(|| panic!("the shared items:\n{text}"));
        assert!(own < shared, "the office's own item comes first:\n{text}");
        assert!(
            text.contains("Santo Domingo") || text.contains("Saint-Domingue"),
            "{text}"
        );
        // No other region's sessions.
        for other in [
            "Asia y el Pacífico:",
            "Estados Árabes:",
            "Asia and the Pacific:",
            "Arab States:",
            "États arabes :",
            "États arabes:",
        ] {
            assert!(!text.contains(other), "{other} leaked in:\n{text}");
        }
    }
    assert!(
        spanish >= 2,
        "the office's readers are mostly Spanish-speaking: {spanish}"
    );
}

#[test]
fn the_international_edition_and_other_offices_never_contain_the_overlay_item() {
    let dir = project_with_overlay();
    let out = infoflash(dir.path(), &["send", EDITION]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let out = infoflash(dir.path(), &["send", EDITION, "--office", "bangkok"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let messages = eml_files(&dir.path().join("outbox"));
    assert!(messages.len() > 3, "{messages:?}");
    for eml in &messages {
        let (text, from, _) = parts(eml);
        assert_ne!(from, "aspnet-santiago@example.org");
        for own in [
            "Encuentro regional",
            "Regional meeting of associated schools",
            "Oficina de Santiago invita",
        ] {
            assert!(!text.contains(own), "{}: {own}", eml.display());
        }
    }
    // Nor does any build of them.
    let build = build_into(dir.path(), &[EDITION]);
    let bangkok = build_into(dir.path(), &[EDITION, "--office", "bangkok"]);
    for out in [build.path(), bangkok.path()] {
        for text in texts_under(out) {
            assert!(!text.contains("Encuentro regional") && !text.contains("Regional meeting of associated"));
        }
    }
}

fn texts_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "email.txt") {
                found.push(read(&p));
            }
        }
    }
    assert!(!found.is_empty(), "no email.txt under {}", dir.display());
    found
}

#[test]
fn build_and_check_of_an_office_include_its_overlay_and_name_its_lines() {
    let dir = project_with_overlay();
    let out = build_into(dir.path(), &[EDITION, "--office", "santiago"]);
    let es = read(&out.path().join("2026-01-info-flash-22/es-santiago/email.txt"));
    let en = read(&out.path().join("2026-01-info-flash-22/en-santiago/email.txt"));
    assert!(es.contains("Encuentro regional de escuelas asociadas"), "{es}");
    assert!(en.contains("Regional meeting of associated schools"), "{en}");
    // The archive keeps the edition's one title and labels the office's variants.
    let index = read(&out.path().join("archive/index.html"));
    assert!(
        index.contains("UNESCO Regional Office in Santiago")
            || index.contains("Oficina Regional de la UNESCO en Santiago"),
        "{index}"
    );

    // `check --office` reads the overlay, and the overlay given as the edition means the same.
    for args in [&["check", EDITION, "--office", "santiago"][..], &["check", OVERLAY]] {
        let out = infoflash(dir.path(), args);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {text}");
        // No French: a warning at the item's line in the overlay file, in its language.
        let item_line = santiago_overlay().lines().position(|l| l == "[[items]]").unwrap() + 1;
        let wanted = format!("{OVERLAY}:{item_line}: warning: item `encuentro-santiago` (title, body, place) has no `fr` translation: the `fr` variants show the `es` text");
        assert!(text.contains(&wanted), "{args:?}: {wanted}\n{text}");
        assert!(!text.contains("has no `es` translation"), "{text}");
    }
    // Without the office, the overlay is not read at all.
    let out = infoflash(dir.path(), &["check", EDITION]);
    assert!(!stdout(&out).contains("encuentro-santiago"), "{}", stdout(&out));
}

#[test]
fn a_broken_overlay_is_reported_at_its_own_file_and_line_and_nothing_is_sent() {
    let dir = copy_project(&root());
    let broken = santiago_overlay().replace("kind = \"event\"", "kind = \"event\"\nofices = [\"santiago\"]");
    std::fs::write(dir.path().join(OVERLAY), &broken).unwrap();
    let line = broken.lines().position(|l| l.starts_with("ofices")).unwrap() + 1;
    let out = infoflash(dir.path(), &["check", EDITION, "--office", "santiago"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains(&format!("{OVERLAY}:{line}")), "{}", stdout(&out));
    let out = infoflash(dir.path(), &["send", EDITION, "--office", "santiago"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!dir.path().join("outbox").exists() || eml_files(&dir.path().join("outbox")).is_empty());
}

#[test]
fn an_empty_overlay_greeting_is_an_error_at_its_line_as_in_the_edition() {
    let dir = copy_project(&root());
    let overlay = santiago_overlay().replace("[office]\n", "[office]\ngreeting = \"  \"\n");
    std::fs::write(dir.path().join(OVERLAY), &overlay).unwrap();
    let line = overlay.lines().position(|l| l.starts_with("greeting")).unwrap() + 1;
    let out = infoflash(dir.path(), &["check", OVERLAY]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let wanted = format!("{OVERLAY}:{line}");
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with(&wanted) && l.contains("`greeting` is empty")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_overlay_item_id_that_the_edition_uses_is_refused() {
    let dir = copy_project(&root());
    let clash = santiago_overlay().replace("id = \"encuentro-santiago\"", "id = \"santo-domingo-roadmap\"");
    std::fs::write(dir.path().join(OVERLAY), &clash).unwrap();
    let out = infoflash(dir.path(), &["check", OVERLAY]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("`santo-domingo-roadmap` is used twice"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_overlay_for_an_unknown_office_is_a_usage_error() {
    let dir = project_with_overlay();
    std::fs::rename(
        dir.path().join(OVERLAY),
        dir.path().join("editions/2026-01-info-flash-22.lima.toml"),
    )
    .unwrap();
    let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-22.lima.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown office `lima`"), "{}", stderr(&out));
}

fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut response = agent.get(url).call().expect("the service answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn the_preview_switches_language_region_and_office_and_an_unknown_one_is_a_404() {
    let dir = project_with_overlay();
    let server = common::web::Service::start_with(dir.path(), Some("k".repeat(32).as_str()), &["--preview"], &[]);
    let page = |query: &str| get(&format!("{}/preview/2026-01-info-flash-22{query}", server.base));

    let (status, list) = get(&format!("{}/preview/", server.base));
    assert_eq!(status, 200);
    assert!(
        list.contains("/preview/2026-01-info-flash-22?office=santiago"),
        "{list}"
    );

    let (status, santiago) = page("?office=santiago&lang=es");
    assert_eq!(status, 200, "{santiago}");
    assert!(santiago.contains("Encuentro regional de escuelas asociadas") && santiago.contains("lang=\"es\""));
    assert!(
        santiago.contains("Preview of 2026-01-info-flash-22</strong> (es-santiago)"),
        "{santiago}"
    );
    let (_, everyone) = page("?lang=es");
    assert!(!everyone.contains("Encuentro regional de escuelas asociadas"));
    let (status, africa) = page("?region=africa&lang=fr");
    assert_eq!(status, 200);
    assert!(
        africa.contains("(fr-africa)") && !africa.contains("Feuille de route de Saint-Domingue"),
        "{africa}"
    );

    for (query, says) in [
        ("?lang=de", "no <code>de</code> variant"),
        ("?lang=zh", "no <code>zh</code> variant"),
        ("?office=lima", "No office <code>lima</code>"),
        ("?region=atlantis", "No region <code>atlantis</code>"),
        ("?office=santiago&region=africa", "not both"),
    ] {
        let (status, body) = page(query);
        assert_eq!(status, 404, "{query}: {body}");
        assert!(body.contains(says), "{query}: {body}");
        assert!(
            !body.contains("ASPnet"),
            "{query}: no edition in place of the one asked for"
        );
    }
}

#[test]
fn an_overlay_greets_in_its_own_words_and_its_links_to_be_announced_stop_only_its_send() {
    let dir = copy_project(&root());
    let overlay = santiago_overlay().replace(
        "[office]\n",
        "[office]\ngreeting = \"Estimadas coordinadoras y estimados coordinadores:\"\n",
    ) + "\n[[items.links]]\ntext = \"Programa\"\nurl = \"tba\"\n";
    std::fs::write(dir.path().join(OVERLAY), &overlay).unwrap();
    // Reported at the link's table, as in an edition.
    let line = overlay.lines().position(|l| l == "[[items.links]]").unwrap() + 1;

    let out = infoflash(dir.path(), &["check", OVERLAY]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a draft may hold a link to be announced: {text}"
    );
    assert!(
        text.contains(&format!("{OVERLAY}:{line}: warning: the link is still to be announced")),
        "{text}"
    );

    let build = build_into(dir.path(), &[EDITION, "--office", "santiago", "--language", "es"]);
    let es = read(&build.path().join("2026-01-info-flash-22/es-santiago/email.txt"));
    assert!(
        es.contains("Estimadas coordinadoras y estimados coordinadores:"),
        "{es}"
    );

    let out = infoflash(dir.path(), &["send", EDITION, "--office", "santiago"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("{OVERLAY}:{line}")), "{}", stderr(&out));
    // The international send does not read the overlay, so nothing of it stops it.
    let out = infoflash(dir.path(), &["send", EDITION]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn next_on_an_overlay_writes_the_next_editions_overlay_with_what_is_still_ahead() {
    let dir = project_with_overlay();
    // A second item, over before the next edition: it is dropped.
    let overlay = dir.path().join(OVERLAY);
    let mut text = read(&overlay);
    text.push_str(
        "\n[[items]]\nid = \"taller-pasado\"\nkind = \"event\"\ntitle = \"Taller\"\nstarts = 2026-01-20\nplace = \"Lima\"\nbody = \"Un taller.\"\n",
    );
    std::fs::write(&overlay, text).unwrap();
    let out = infoflash(dir.path(), &["next", OVERLAY]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = stdout(&out);
    let written = dir.path().join("editions/2026-01-info-flash-23.santiago.toml");
    assert!(
        report.contains("Wrote editions/2026-01-info-flash-23.santiago.toml: N°23"),
        "{report}"
    );
    assert!(report.contains("taller-pasado"), "{report}");
    // The edition N°23 is not there yet: the office is told who writes it.
    assert!(
        report.contains("infoflash next editions/2026-01-info-flash-22.toml"),
        "{report}"
    );
    let next = read(&written);
    assert!(next.contains("label = \"RECORDATORIO + EVENTO\""), "{next}");
    assert!(next.contains("label = \"REMINDER + EVENT\""), "{next}");
    assert!(
        next.contains("[office]") && next.contains("# The Santiago office's additions"),
        "{next}"
    );
    assert!(!next.contains("taller-pasado"), "{next}");
    // Once the team has written N°23, the office's edition of it checks clean of errors and
    // includes the carried event.
    let out = infoflash(dir.path(), &["next", EDITION]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-23.santiago.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Never overwritten.
    let again = infoflash(dir.path(), &["next", OVERLAY]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert_eq!(read(&written), next);
}
