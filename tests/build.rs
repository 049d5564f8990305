//! `infoflash build`: the files it writes, the index, regional and right-to-left variants,
//! escaping, template overrides — and insta snapshots of the sample edition's MJML and text.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use infoflash::config::Config;
use infoflash::render::{self, Personal};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn builds_every_language_of_the_sample_with_an_index_linking_each_variant() {
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml"]);
    let index = read(&out.path().join("index.html"));
    for variant in ["en", "fr", "es"] {
        let dir = out.path().join("2026-01-info-flash-22").join(variant);
        for file in ["email.mjml", "email.html", "email.txt", "message.eml"] {
            assert!(dir.join(file).is_file(), "{variant}/{file} missing");
        }
        let href = format!("href=\"2026-01-info-flash-22/{variant}/email.html\"");
        assert!(index.contains(&href), "index lacks {href}");
    }
    let fr = read(&out.path().join("2026-01-info-flash-22/fr/email.html"));
    assert!(fr.contains("lang=\"fr\""));
    assert!(fr.contains("mardi 13 janvier 2026"), "French date missing");
    let en_text = read(&out.path().join("2026-01-info-flash-22/en/email.txt"));
    assert!(
        en_text.contains("Thursday 15 January 2026, 09:30–10:30 CET (Paris)"),
        "{en_text}"
    );
    assert!(!en_text.contains("CEST"), "January in Paris is CET");
}

#[test]
fn every_text_line_of_every_variant_is_below_78_columns() {
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml"]);
    for variant in ["en", "fr", "es"] {
        let text = read(&out.path().join("2026-01-info-flash-22").join(variant).join("email.txt"));
        // A link longer than the width gets a line of its own and is never broken.
        let lone_link = |l: &str| {
            let l = l.trim_start_matches(['-', ' ']);
            l.starts_with('<') && l.ends_with('>') && !l.contains(' ')
        };
        for line in text.lines().filter(|l| !lone_link(l)) {
            assert!(
                line.chars().count() < 78,
                "{variant}: {} columns: {line}",
                line.chars().count()
            );
        }
    }
}

#[test]
fn a_regional_variant_keeps_only_that_regions_items_and_sessions() {
    let out = build_into(&office_project(), &[OFFICE_EDITION, "--region", "arab-states"]);
    let text = read(&out.path().join("2026-02-office-flash-3/en-arab-states/email.txt"));
    assert!(text.contains("CALL FOR SCHOOL PROJECTS IN THE ARAB STATES"), "{text}");
    assert!(text.contains("News for everyone"), "items for all regions stay");
    assert!(
        !text.contains("Nairobi"),
        "an Africa-only item leaked into the Arab States variant:\n{text}"
    );
}

#[test]
fn arabic_variants_render_right_to_left_with_arabic_labels() {
    let out = build_into(&office_project(), &[OFFICE_EDITION, "--language", "ar"]);
    let html = read(&out.path().join("2026-02-office-flash-3/ar/email.html"));
    assert!(html.contains("dir=\"rtl\""), "no rtl direction");
    assert!(html.contains("lang=\"ar\""));
    assert!(
        html.contains("إلغاء الاشتراك"),
        "the Arabic unsubscribe label is missing"
    );
    assert!(html.contains("text-align:right"), "text is not aligned right");
}

#[test]
fn edition_text_is_escaped_and_raw_html_in_markdown_is_sanitised() {
    let out = build_into(&office_project(), &[OFFICE_EDITION, "--language", "en"]);
    let html = read(&out.path().join("2026-02-office-flash-3/en/email.html"));
    assert!(
        html.contains("News for everyone &lt;b&gt;&amp;&lt;/b&gt; &quot;all&quot;"),
        "title not escaped"
    );
    assert!(!html.contains("<script"), "a script survived");
    assert!(!html.contains("alert("), "script content survived");
}

#[test]
fn a_project_template_overrides_the_embedded_one() {
    let out = build_into(&office_project(), &[OFFICE_EDITION]);
    let html = read(&out.path().join("2026-02-office-flash-3/en/email.html"));
    assert!(
        html.contains("OFFICE NEWS"),
        "the project's items/news template was not used"
    );
    let call = read(&out.path().join("2026-02-office-flash-3/en/email.mjml"));
    assert!(call.contains("if-call"), "other kinds keep the embedded template");
}

#[test]
fn the_settings_out_dir_is_relative_to_the_settings_file() {
    let project = tempfile::tempdir().unwrap();
    let src = office_project();
    std::fs::create_dir_all(project.path().join("editions")).unwrap();
    std::fs::copy(src.join("infoflash.toml"), project.path().join("infoflash.toml")).unwrap();
    std::fs::copy(src.join(OFFICE_EDITION), project.path().join(OFFICE_EDITION)).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let config = project.path().join("infoflash.toml");
    let edition = project.path().join(OFFICE_EDITION);
    let run = infoflash(
        elsewhere.path(),
        &["--config", config.to_str().unwrap(), "build", edition.to_str().unwrap()],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(project.path().join("build/index.html").is_file());
}

#[test]
fn an_unknown_language_or_region_is_a_usage_error() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let run = infoflash(
        &root(),
        &[
            "build",
            "editions/2026-01-info-flash-22.toml",
            "--language",
            "de",
            "--out",
            o,
        ],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("language `de` is not configured"),
        "{}",
        stderr(&run)
    );
    let run = infoflash(
        &root(),
        &[
            "build",
            "editions/2026-01-info-flash-22.toml",
            "--region",
            "atlantis",
            "--out",
            o,
        ],
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("the regions are `africa`"), "{}", stderr(&run));
}

#[test]
fn a_broken_edition_is_not_built() {
    let out = tempfile::tempdir().unwrap();
    let run = infoflash(
        &root().join("tests/fixtures/invalid"),
        &[
            "build",
            "placeholder-link-in-body.toml",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("placeholder-link-in-body.toml:18: error"),
        "{}",
        stderr(&run)
    );
    assert!(!out.path().join("index.html").exists());
}

#[test]
fn runs_on_embedded_defaults_in_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample_edition(), dir.path().join("2026-01-info-flash-22.toml")).unwrap();
    let run = infoflash(dir.path(), &["build", "2026-01-info-flash-22.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(dir.path().join("out/2026-01-info-flash-22/en/email.html").is_file());
}

/// The sample rendered through the library, for snapshots.
fn render_sample(language: &str) -> render::Rendered {
    let config = Config::load(&root().join("infoflash.toml")).unwrap();
    let (edition, _) = infoflash::edition::load(&sample_edition(), &config.edition).unwrap();
    let templates = config.render.templates().unwrap();
    let variant = render::Variant {
        language: language.parse().unwrap(),
        scope: render::Scope::All,
    };
    let personal = Personal::preview(
        &config.render,
        &edition,
        &variant,
        templates.labels(&variant.language).unwrap(),
    );
    render::render(&edition, &variant, &config.render, &templates, &personal).unwrap()
}

#[test]
fn sample_snapshots() {
    for language in ["en", "fr"] {
        let rendered = render_sample(language);
        insta::assert_snapshot!(format!("sample_{language}_mjml"), rendered.mjml);
        insta::assert_snapshot!(format!("sample_{language}_text"), rendered.text);
    }
}

#[test]
fn an_office_build_keeps_its_regions_items_and_names_the_office() {
    let out = build_into(
        &root(),
        &[
            "editions/2026-01-info-flash-22.toml",
            "--office",
            "bangkok",
            "--language",
            "en",
        ],
    );
    let text = read(&out.path().join("2026-01-info-flash-22/en-bangkok/email.txt"));
    assert!(text.contains("UNESCO Regional Office in Bangkok"), "{text}");
    assert!(
        !text.contains("Santo Domingo Roadmap"),
        "a Latin America item reached the Bangkok edition"
    );
    assert!(
        text.contains("Asia and the Pacific: Thursday 15 January 2026"),
        "its own regional meeting is missing"
    );
    assert!(
        !text.contains("Arab States: Monday 2 February"),
        "another region's meeting leaked in"
    );
    let out = build_into(
        &root(),
        &[
            "editions/2026-01-info-flash-22.toml",
            "--office",
            "santiago",
            "--language",
            "es",
        ],
    );
    let text = read(&out.path().join("2026-01-info-flash-22/es-santiago/email.txt"));
    assert!(text.to_lowercase().contains("santo domingo"), "{text}");
}

fn sample_rendered_for(recipient: &infoflash::audience::Recipient, template_dir: Option<&Path>) -> render::Rendered {
    let mut config = Config::load(&root().join("infoflash.toml")).unwrap();
    if let Some(dir) = template_dir {
        config.render.templates_dir = dir.to_path_buf();
    }
    let (edition, _) = infoflash::edition::load(&sample_edition(), &config.edition).unwrap();
    let templates = config.render.templates().unwrap();
    let variant = render::Variant {
        language: "fr".parse().unwrap(),
        scope: render::Scope::All,
    };
    let labels = templates.labels(&variant.language).unwrap();
    let preview = Personal::preview(&config.render, &edition, &variant, labels);
    let personal = Personal::for_recipient(&preview, recipient, labels);
    render::render(&edition, &variant, &config.render, &templates, &personal).unwrap()
}

#[test]
fn greets_the_recipient_by_name_escaped_or_politely_without_one() {
    let mut ann = infoflash::audience::Recipient::new("ann@example.org".parse().unwrap());
    ann.name = Some("Ann <b>Example</b> & Co".into());
    let r = sample_rendered_for(&ann, None);
    assert!(
        r.html.contains("Bonjour Ann &lt;b&gt;Example&lt;/b&gt; &amp; Co,"),
        "greeting not escaped"
    );
    assert!(r.text.contains("Bonjour Ann <b>Example</b> & Co,"));
    let nameless = infoflash::audience::Recipient::new("team@example.org".parse().unwrap());
    let r = sample_rendered_for(&nameless, None);
    assert!(r.html.contains("Madame, Monsieur,"), "no polite fallback");
}

#[test]
fn list_columns_reach_templates_as_recipient_attributes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("partials")).unwrap();
    std::fs::write(
        dir.path().join("partials/header.mjml.hbs"),
        "<mj-section><mj-column><mj-text><p>School: {{recipient.attributes.school}}</p></mj-text></mj-column></mj-section>",
    )
    .unwrap();
    let mut ann = infoflash::audience::Recipient::new("ann@example.org".parse().unwrap());
    ann.attributes.insert("school".into(), "Lycée <Molière>".into());
    let r = sample_rendered_for(&ann, Some(dir.path()));
    assert!(
        r.html.contains("School: Lycée &lt;Molière&gt;"),
        "attribute missing or unescaped"
    );
    // The documented form needs no `{{#if}}`: a recipient without the column, and the build's
    // preview (which has no recipient), show it empty instead of failing in strict mode.
    let bob = infoflash::audience::Recipient::new("bob@example.org".parse().unwrap());
    let r = sample_rendered_for(&bob, Some(dir.path()));
    assert!(r.html.contains("School: </p>"), "{}", &r.html[..400.min(r.html.len())]);
    let project = copy_project(&root());
    std::fs::create_dir_all(project.path().join("templates/partials")).unwrap();
    std::fs::copy(
        dir.path().join("partials/header.mjml.hbs"),
        project.path().join("templates/partials/header.mjml.hbs"),
    )
    .unwrap();
    build_into(project.path(), &["editions/2026-01-info-flash-22.toml"]);
}

#[test]
fn a_rebuild_swaps_each_variant_folder_whole_and_leaves_no_temporary_files() {
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml", "--language", "en"]);
    let variant = out.path().join("2026-01-info-flash-22/en");
    std::fs::write(variant.join("stale.txt"), "from an older build").unwrap();
    let run = infoflash(
        &root(),
        &[
            "build",
            "editions/2026-01-info-flash-22.toml",
            "--language",
            "en",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!variant.join("stale.txt").exists(), "the old folder was not replaced");
    assert!(variant.join("email.html").is_file());
    let leftovers: Vec<_> = walk(out.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_build_that_cannot_write_fails_and_changes_nothing() {
    let out = tempfile::tempdir().unwrap();
    // A file where the edition's folder must go: nothing can be written under it.
    std::fs::write(out.path().join("2026-01-info-flash-22"), "in the way").unwrap();
    let run = infoflash(
        &root(),
        &[
            "build",
            "editions/2026-01-info-flash-22.toml",
            "--out",
            out.path().to_str().unwrap(),
        ],
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("2026-01-info-flash-22"), "{}", stderr(&run));
    let entries: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        entries,
        vec![std::ffi::OsString::from("2026-01-info-flash-22")],
        "partial output left"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(walk(&path));
        }
        all.push(path);
    }
    all
}

/// Every attribute value of `html` (and the `<title>`) as a browser reads it, by Python's
/// `html.parser`, which decodes character references.
fn attributes(html: &Path) -> Vec<(String, String)> {
    let python = require("python3", "apt-get install -y python3");
    const SCRIPT: &str = r#"
import json, sys
from html.parser import HTMLParser
found = []
class P(HTMLParser):
    title = False
    def handle_starttag(self, tag, attrs):
        self.title = tag == "title"
        found.extend([n, v or ""] for n, v in attrs)
    def handle_data(self, data):
        if self.title:
            found.append(["<title>", data])
            self.title = False
P(convert_charrefs=True).feed(open(sys.argv[1], encoding="utf-8").read())
print(json.dumps(found))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .arg(html)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn attribute_values_reach_the_reader_exactly_as_written() {
    // A no-break space (French typography), Arabic harakat (combining marks), a
    // right-to-left mark, a backslash and quotes: in the subject (which mrml copies into the
    // aria-label), an image's alt text and a Markdown link's title.
    let subject = "Info Flash\u{a0}: «\u{a0}C:\\dossiers\u{a0}» \"guillemets\" مَدْرَسَة\u{200f}";
    let alt = "Élèves\u{a0}: مَدْرَسَة \\ \"x\"";
    let title = "t\u{a0}\\ \"q\" مَ";
    // Markdown escapes `\` and `"` inside a link title and the alt text takes `\` literally
    // only when escaped: write both as Markdown source.
    let markdown_escaped = |t: &str| t.replace('\\', "\\\\").replace('"', "\\\"");
    let body = format!(
        "![{}](https://example.org/i.png \"{}\")\n\n[lien](https://example.org/ \"{}\")\n",
        markdown_escaped(alt),
        markdown_escaped(title),
        markdown_escaped(title)
    );
    let toml = |t: &str| {
        format!(
            "\"{}\"",
            t.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
        )
    };
    let edition = format!(
        "[edition]\nseries = \"Info Flash\"\nnumber = 1\ndate = 2026-01-13\nlanguage = \"fr\"\ntime_zone = \"Europe/Paris\"\nsubject = {}\n\n\
         [[items]]\nid = \"a\"\nkind = \"news\"\ntitle = \"Titre\"\nbody = {}\n",
        toml(subject),
        toml(&body)
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::write(dir.path().join("editions/2026-01-info-flash-1.toml"), edition).unwrap();
    let out = build_into(dir.path(), &["editions/2026-01-info-flash-1.toml"]);
    let html = out.path().join("2026-01-info-flash-1/fr/email.html");
    let raw = read(&html);
    assert!(!raw.contains("\\u{"), "a Rust escape reached the HTML");
    let found = attributes(&html);
    let value = |name: &str| -> Vec<&str> {
        found
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert!(value("aria-label").contains(&subject), "{:?}", value("aria-label"));
    assert!(value("<title>").contains(&subject), "{:?}", value("<title>"));
    assert!(value("alt").contains(&alt), "{:?}", value("alt"));
    assert!(value("title").contains(&title), "{:?}", value("title"));
    for (name, v) in &found {
        assert!(
            !v.contains("\\\\") && !v.contains("\\\"") && !v.contains("\\u{"),
            "{name}={v:?}"
        );
    }
}

#[test]
fn column_and_image_widths_follow_the_sections_padding_as_the_official_compiler_does() {
    // The days section has `padding="0 24px 16px"`: 592 px inside, 35 % and 65 % of it.
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml"]);
    let html = read(&out.path().join("2026-01-info-flash-22/en/email.html"));
    let images: Vec<&str> = html
        .match_indices("<img")
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()])
        .collect();
    assert!(!images.is_empty());
    for img in &images {
        let width = img.split("width=\"").nth(1).map(|w| &w[..w.find('"').unwrap()]);
        if let Some(width) = width {
            assert!(width.parse::<u32>().is_ok(), "a whole number of pixels: {img}");
            assert!(width != "224", "the padding was ignored: {img}");
        }
    }
    assert!(html.contains("width=\"207\""), "35 % of 592 px");
    assert!(
        !html.contains("width:224px") && !html.contains("width:416px"),
        "Outlook cells ignore the padding"
    );
}

#[test]
fn the_footer_names_the_editions_own_series_in_both_parts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    std::fs::write(
        dir.path().join("editions/2026-01-digest-1.toml"),
        "[edition]\nseries = \"Community Digest\"\nnumber = 1\ndate = 2026-01-13\nlanguage = \"en\"\ntime_zone = \"Europe/Paris\"\n\n[[items]]\nid = \"a\"\nkind = \"news\"\ntitle = \"A\"\nbody = \"Text.\"\n",
    )
    .unwrap();
    let out = build_into(dir.path(), &["editions/2026-01-digest-1.toml"]);
    let dir = out.path().join("2026-01-digest-1/en");
    let text = read(&dir.join("email.txt")).replace('\n', " ");
    assert!(text.contains("You receive Community Digest as a member"), "{text}");
    assert!(!text.contains("Info Flash"), "{text}");
    assert!(read(&dir.join("email.html")).contains("You receive Community Digest as a member"));
}
