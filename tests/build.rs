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
    render_edition(&sample_edition(), language)
}

fn render_edition(path: &Path, language: &str) -> render::Rendered {
    let config = Config::load(&root().join("infoflash.toml")).unwrap();
    let (edition, _) = infoflash::edition::load(path, &config.edition).unwrap();
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

/// The edition that uses every addition of the format's issue 14: greeting, subtitle and
/// closing per language, a session followed in other languages, links to be announced, a
/// linked title and an event list of 62 rows over the five regions.
const FORMAT_EDITION: &str = "tests/fixtures/format/2026-03-community-7.toml";

/// The event list's table in an email's HTML.
fn events_table(html: &str) -> &str {
    let table = &html[html.find("class=\"if-events\"").unwrap()..];
    &table[..table.find("</table>").unwrap()]
}

fn format_build(args: &[&str]) -> tempfile::TempDir {
    let mut all = vec![FORMAT_EDITION];
    all.extend_from_slice(args);
    build_into(&root(), &all)
}

fn variant_file(out: &tempfile::TempDir, variant: &str, file: &str) -> String {
    read(&out.path().join("2026-03-community-7").join(variant).join(file))
}

#[test]
fn the_editions_greeting_subtitle_and_closing_reach_every_language_and_the_closing_is_not_in_the_contents() {
    let out = format_build(&[]);
    for (variant, greeting, subtitle, closing) in [
        (
            "en",
            "Dear National Coordinators, Dear Teachers and Students,",
            "Jointly organized by the network and its partners",
            "The Community Team",
        ),
        (
            "fr",
            "Chers coordinateurs nationaux, chers enseignants et élèves,",
            "Organisé conjointement par le réseau et ses partenaires",
            "L’équipe de la communauté",
        ),
        (
            "ar",
            "السادة المنسقون الوطنيون، السادة المعلمون والطلاب،",
            "بتنظيم مشترك بين الشبكة وشركائها",
            "فريق المجتمع",
        ),
    ] {
        let text = variant_file(&out, variant, "email.txt");
        let html = variant_file(&out, variant, "email.html");
        for part in [&text, &html] {
            assert!(part.contains(greeting), "{variant}: no greeting:\n{part}");
            assert!(part.contains(subtitle), "{variant}: no subtitle");
            assert!(part.contains(closing), "{variant}: no closing");
        }
        assert!(!text.contains("Dear colleague") && !text.contains("Madame, Monsieur"));
        // The subtitle is under the title, the closing after every item, before the footer.
        let at = |part: &str, what: &str| part.find(what).unwrap_or_else(|| panic!("{variant}: no {what}"));
        assert!(at(&text, "Community Digest") < at(&text, subtitle) && at(&text, subtitle) < at(&text, greeting));
        let last_event = "<https://community.example.org/events/60>";
        assert!(
            at(&text, last_event) < at(&text, closing),
            "{variant}: closing before the items"
        );
        assert!(at(&html, "events/60") < at(&html, closing) && at(&html, closing) < at(&html, "unsubscribe"));
        let toc = &html[at(&html, "if-toc")..];
        let toc = &toc[..toc.find("</ul>").unwrap()];
        assert!(!toc.contains(closing), "{variant}: the closing is in the contents");
        assert_eq!(toc.matches("<li>").count(), 3, "{variant}: {toc}");
    }
    // Right to left: the Arabic text part keeps every line reading from the right.
    let ar = variant_file(&out, "ar", "email.txt");
    assert!(ar.lines().filter(|l| !l.is_empty()).all(|l| l.starts_with('\u{200f}')));
}

#[test]
fn without_an_editions_greeting_readers_get_the_label_tables_polite_one() {
    let out = build_into(&root(), &["editions/2026-01-info-flash-22.toml", "--language", "en,fr"]);
    let en = read(&out.path().join("2026-01-info-flash-22/en/email.txt"));
    let fr = read(&out.path().join("2026-01-info-flash-22/fr/email.txt"));
    assert!(en.contains("\nDear colleague,\n"), "{en}");
    assert!(fr.contains("\nMadame, Monsieur,\n"), "{fr}");
}

#[test]
fn a_session_names_the_languages_it_can_be_followed_in_in_the_readers_language() {
    let out = format_build(&[]);
    for (variant, label, names) in [
        ("en", "Also in: ", "French, Spanish, Arabic"),
        ("fr", "Également en : ", "Français, Espagnol, Arabe"),
        ("ar", "متاحة أيضًا بـ: ", "الفرنسية، الإسبانية، العربية"),
    ] {
        let line = format!("{label}{names}");
        assert!(variant_file(&out, variant, "email.txt").contains(&line), "{variant}");
        // (The HTML writes Arabic's combining marks as character references.)
        assert!(
            variant_file(&out, variant, "email.html").contains(&format!(": {names}</li>")),
            "{variant}"
        );
    }
}

#[test]
fn a_link_to_be_announced_reads_so_in_both_parts_and_links_nowhere() {
    let out = format_build(&[]);
    let text = variant_file(&out, "en", "email.txt");
    assert!(text.contains("  Join (link to be announced)"), "{text}");
    assert!(text.contains("- Programme (link to be announced)"), "{text}");
    assert!(
        text.contains("  Worldwide online meet-up (link to be announced)"),
        "{text}"
    );
    let html = variant_file(&out, "en", "email.html");
    assert!(html.contains("Join <em>(link to be announced)</em>"), "session link");
    assert!(html.contains("Programme <em>(link to be announced)</em>"), "item link");
    assert!(html.contains("<strong>Worldwide online meet-up</strong> <em>(link to be announced)</em>"));
    assert!(!html.to_lowercase().contains("href=\"tba\""));
    assert!(variant_file(&out, "fr", "email.txt").contains("Rejoindre (lien à venir)"));
}

#[test]
fn contents_links_lead_to_each_item_on_the_variants_archive_page() {
    let out = format_build(&["--language", "fr"]);
    let html = variant_file(&out, "fr", "email.html");
    let toc = &html[html.find("if-toc").unwrap()..];
    let toc = &toc[..toc.find("</ul>").unwrap()];
    let page = "https://infoflash.example.org/archive/2026-03-community-7/fr/";
    let archive = read(&out.path().join("archive/2026-03-community-7/fr/index.html"));
    let hrefs: Vec<&str> = toc
        .split("href=\"")
        .skip(1)
        .map(|h| &h[..h.find('"').unwrap()])
        .collect();
    assert_eq!(hrefs.len(), 3, "{toc}");
    for href in hrefs {
        let anchor = href
            .strip_prefix(page)
            .and_then(|a| a.strip_prefix('#'))
            .unwrap_or_else(|| panic!("{href} is not an item of {page}"));
        assert!(
            archive.contains(&format!("id=\"{anchor}\"")),
            "the archive page has no #{anchor}"
        );
    }
    assert!(!html.contains("href=\"#"), "an in-message anchor link is left");
}

#[test]
fn an_item_title_may_be_a_link_in_both_parts() {
    let out = format_build(&["--language", "en"]);
    let html = variant_file(&out, "en", "email.html");
    assert!(html.contains(
        "<a href=\"https://www.unesco.org/en/articles/heritage-webinar\" style=\"color: #0b2e4f;\">Webinar on heritage education</a>"
    ));
    let text = variant_file(&out, "en", "email.txt");
    assert!(text.contains("WEBINAR ON HERITAGE EDUCATION\n<https://www.unesco.org/en/articles/heritage-webinar>\n"));
}

#[test]
fn an_event_list_has_one_row_and_one_calendar_file_per_event_and_one_contents_entry() {
    let out = format_build(&["--language", "en"]);
    let html = variant_file(&out, "en", "email.html");
    let table = events_table(&html);
    assert_eq!(table.matches("<tr>").count(), 62);
    assert!(table.contains(
        "<a href=\"https://community.example.org/events/18\"><strong>Community event 18: asia pacific gathering</strong></a><br />Bangkok, Thailand"
    ));
    assert!(table.contains("20 March 2026, 18:00 CET (Paris)"));
    assert!(table.contains("24 March – 26 March 2026"));
    // No label, button or links heading per event.
    assert_eq!(
        html.matches("Add to calendar</a>").count(),
        1,
        "only the webinar's session has a button"
    );
    assert_eq!(html.matches("EVENTS</p>").count(), 1);
    let calendar = out.path().join("2026-03-community-7/en/calendar");
    for n in 1..=62 {
        let file = format!("events-of-the-month-{n}.ics");
        let href = format!("https://infoflash.example.org/archive/2026-03-community-7/en/calendar/{file}");
        assert!(table.contains(&href), "row {n} does not link its calendar file");
        assert!(calendar.join(&file).is_file(), "{file} was not written");
        assert!(out
            .path()
            .join("archive/2026-03-community-7/en/calendar")
            .join(&file)
            .is_file());
    }
    let timed = read(&calendar.join("events-of-the-month-1.ics"));
    assert!(timed.contains("DTSTART:20260320T170000Z"), "{timed}");
    let days = read(&calendar.join("events-of-the-month-2.ics"));
    assert!(
        days.contains("DTSTART;VALUE=DATE:20260324") && days.contains("LOCATION:Santiago\\, Chile"),
        "{days}"
    );
    let text = variant_file(&out, "en", "email.txt");
    assert!(text.contains(
        "- 6 March 2026 · Bangkok, Thailand · Asia and the Pacific\n  Community event 3: asia pacific gathering\n  <https://community.example.org/events/3>\n"
    ), "{text}");
    let contents = &text[text.find("IN THIS ISSUE").unwrap()..];
    let contents = &contents[..contents.find("=====").unwrap()];
    assert_eq!(contents.matches("\n- ").count(), 3, "{contents}");
}

#[test]
fn a_regional_build_keeps_only_its_regions_events_and_those_for_every_region() {
    let out = format_build(&["--language", "en", "--region", "latin-america-caribbean"]);
    let html = variant_file(&out, "en-latin-america-caribbean", "email.html");
    let table = events_table(&html);
    // 12 of the 60 numbered rows, the regional forum and the worldwide meet-up.
    assert_eq!(table.matches("<tr>").count(), 14, "{table}");
    assert!(table.contains("Worldwide online meet-up") && table.contains("Regional forum"));
    assert!(!table.contains("Nairobi") && !table.contains("Bangkok"));
    // A row keeps its calendar file's name in every variant.
    assert!(table.contains("/en-latin-america-caribbean/calendar/events-of-the-month-7.ics"));
    let text = variant_file(&out, "en-latin-america-caribbean", "email.txt");
    assert!(!text.contains("Africa\n") && text.contains("Latin America and the Caribbean"));
}

#[test]
fn sixty_events_keep_the_html_part_far_below_gmails_clipping_limit() {
    let out = format_build(&[]);
    for variant in ["en", "fr", "ar"] {
        let message = read(&out.path().join("2026-03-community-7").join(variant).join("message.eml"));
        let html = variant_file(&out, variant, "email.html");
        // Gmail clips above 102 kB; sixty events as cards made 187 kB.
        assert!(html.len() < 60_000, "{variant}: the HTML part is {} bytes", html.len());
        assert!(
            message.len() < 102_000,
            "{variant}: the message is {} bytes",
            message.len()
        );
    }
}

#[test]
fn format_snapshots() {
    let path = root().join(FORMAT_EDITION);
    let en = render_edition(&path, "en");
    insta::assert_snapshot!("format_en_mjml", en.mjml);
    insta::assert_snapshot!("format_en_text", en.text);
    insta::assert_snapshot!("format_ar_text", render_edition(&path, "ar").text);
}
