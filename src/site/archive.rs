//! The public web archive that the emails' "view in browser" and "Add to calendar" links point
//! at (`base_url/archive/…`): under `OUT/archive/`, one page per edition variant
//! (`<edition>/<variant>/index.html`, the email's HTML with a way back to the archive), its
//! calendar files, an `index.html` of every edition built into `OUT` (newest first, a list
//! per language) and an Atom feed (`feed.xml`).
//!
//! Each build adds or replaces one edition: it leaves a small `edition.json` next to the
//! edition's pages, and the index and feed are rebuilt from all of them, so the archive grows
//! edition by edition in one output folder. It must not send anything or know any recipient:
//! the pages are the preview variants (polite greeting, no personal links).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{replace_dir, write, write_invites, SiteError};
use crate::edition::Edition;
use crate::render::{RenderSettings, Rendered, Templates};

/// What the archive knows of one built edition (`archive/<edition>/edition.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub series: String,
    pub number: u32,
    pub date: NaiveDate,
    pub variants: Vec<ManifestVariant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestVariant {
    /// `en`, `es-santiago`…
    pub id: String,
    pub language: String,
    pub subject: String,
    /// For an office's edition, the office's name in the variant's language: the archive
    /// labels it with that, under the edition's own title.
    #[serde(default)]
    pub office: Option<String>,
}

#[derive(Serialize)]
struct ArchiveView {
    lang: String,
    title: String,
    languages: Vec<LanguageView>,
}

#[derive(Serialize)]
struct LanguageView {
    code: String,
    dir: &'static str,
    name: String,
    editions: Vec<EntryView>,
}

#[derive(Serialize)]
struct EntryView {
    href: String,
    subject: String,
    date: String,
    office: Option<String>,
}

/// Writes `edition`'s pages into `OUT/archive/` and rebuilds the index and the feed. Returns
/// the archive's index.
pub fn write_archive(
    out: &Path,
    edition: &Edition,
    rendered: &[Rendered],
    settings: &RenderSettings,
    templates: &Templates,
) -> Result<PathBuf, SiteError> {
    let archive = out.join("archive");
    let edition_dir = archive.join(edition.id.as_str());
    for r in rendered {
        let back = templates.labels(&r.variant.language)?.get("archive").to_string();
        replace_dir(&edition_dir.join(r.variant.id()), |dir| {
            write(&dir.join("index.html"), framed(&r.html, &back))?;
            write_invites(dir, r, edition)
        })?;
    }
    // Variants built earlier for this edition (another office, another language) stay listed.
    let mut variants: Vec<ManifestVariant> = read_manifest(&edition_dir.join("edition.json"))
        .map(|m| m.variants)
        .unwrap_or_default();
    for r in rendered {
        variants.retain(|v| v.id != r.variant.id());
        let office = match &r.variant.scope {
            crate::render::Scope::Office { id, .. } => settings
                .network
                .offices
                .get(id)
                .map(|o| o.names.name_in(&r.variant.language).to_string()),
            _ => None,
        };
        variants.push(ManifestVariant {
            id: r.variant.id(),
            language: r.variant.language.to_string(),
            subject: r.view.subject.clone(),
            office,
        });
    }
    variants.sort_by(|a, b| a.id.cmp(&b.id));
    let manifest = Manifest {
        id: edition.id.to_string(),
        series: edition.series.main.clone(),
        number: edition.number,
        date: edition.date,
        variants,
    };
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| SiteError::Write {
        path: edition_dir.join("edition.json"),
        source: std::io::Error::other(e),
    })?;
    write(&edition_dir.join("edition.json"), json)?;

    let mut all = manifests(&archive);
    all.sort_by(|a, b| (b.date, &b.id).cmp(&(a.date, &a.id)));
    write(&archive.join("index.html"), index(&all, settings, templates)?)?;
    write(&archive.join("feed.xml"), feed(&all, settings))?;
    Ok(archive.join("index.html"))
}

/// What `send` does before its first message: renders the archive pages of `variants` (the
/// ones it will mail) and writes them, with their calendar files, into `OUT/archive/`, so that
/// every "view in browser" and "Add to calendar" link resolves once `serve` answers at
/// `base_url`. The pages are stamped with the edition's date, so publishing again writes the
/// same bytes. Returns the archive's index.
pub fn publish(
    out: &Path,
    edition: &Edition,
    variants: &[crate::render::Variant],
    settings: &RenderSettings,
    templates: &Templates,
) -> Result<PathBuf, SiteError> {
    let rendered = crate::render::render_all(edition, variants, settings, templates)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    write_archive(out, edition, &rendered, settings, templates)
}

fn read_manifest(path: &Path) -> Option<Manifest> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Every edition in the archive folder.
pub fn manifests(archive: &Path) -> Vec<Manifest> {
    let Ok(entries) = std::fs::read_dir(archive) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| read_manifest(&e.ok()?.path().join("edition.json")))
        .collect()
}

/// The email's HTML as a web page: the same document, with a link back to the archive at the
/// top of the body (the email's own `lang`, `dir` and anchors are kept).
fn framed(html: &str, back: &str) -> String {
    let nav = format!(
        "<nav style=\"font-family:Helvetica,Arial,sans-serif;font-size:14px;padding:12px 16px;\"><a href=\"../../\">← {}</a></nav>",
        handlebars::html_escape(back)
    );
    after_body(html, &nav)
}

/// `html` with `fragment` at the start of its `<body>` (or first, if it has none).
pub fn after_body(html: &str, fragment: &str) -> String {
    match html
        .find("<body")
        .and_then(|at| html[at..].find('>').map(|end| at + end + 1))
    {
        Some(after) => format!("{}{fragment}{}", &html[..after], &html[after..]),
        None => format!("{fragment}{html}"),
    }
}

fn index(all: &[Manifest], settings: &RenderSettings, templates: &Templates) -> Result<String, SiteError> {
    let main = &settings.network.fallback_language;
    let series = all
        .first()
        .map_or_else(|| "Info Flash".to_string(), |m| m.series.clone());
    let mut languages = Vec::new();
    for language in &settings.network.languages {
        let labels = templates.labels(language)?;
        let editions: Vec<EntryView> = all
            .iter()
            .flat_map(|m| {
                m.variants
                    .iter()
                    .filter(|v| v.language == language.as_str())
                    .map(move |v| EntryView {
                        href: format!("{}/{}/", m.id, v.id),
                        subject: v.subject.clone(),
                        date: labels.date(m.date),
                        office: v.office.clone(),
                    })
            })
            .collect();
        if editions.is_empty() {
            continue;
        }
        languages.push(LanguageView {
            code: language.to_string(),
            dir: if language.is_right_to_left() { "rtl" } else { "ltr" },
            // Each language named in itself: "Français", "Español".
            name: capitalised(labels.get(&format!("lang_{language}"))),
            editions,
        });
    }
    let view = ArchiveView {
        lang: main.to_string(),
        title: format!("{series} — {}", templates.labels(main)?.get("archive")),
        languages,
    };
    Ok(templates.render("archive", &view)?)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The Atom feed: one entry per edition variant, newest first.
fn feed(all: &[Manifest], settings: &RenderSettings) -> String {
    use atom_syndication::{Entry, Feed, Link, Text};
    let links = crate::links::Links::new(&settings.base_url);
    let stamp = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().fixed_offset();
    let link = |href: String, rel: &str, lang: Option<&str>| Link {
        href,
        rel: rel.to_string(),
        hreflang: lang.map(str::to_string),
        mime_type: Some(
            if rel == "self" {
                "application/atom+xml"
            } else {
                "text/html"
            }
            .to_string(),
        ),
        ..Link::default()
    };
    let entries: Vec<Entry> = all
        .iter()
        .flat_map(|m| {
            m.variants.iter().map(|v| {
                let url = links.variant_page(&m.id, &v.id);
                let title = match &v.office {
                    Some(office) => format!("{} — {office}", v.subject),
                    None => v.subject.clone(),
                };
                Entry {
                    id: url.clone(),
                    title: Text::plain(title),
                    updated: stamp(m.date),
                    published: Some(stamp(m.date)),
                    links: vec![link(url, "alternate", Some(&v.language))],
                    ..Entry::default()
                }
            })
        })
        .collect();
    let feed = Feed {
        id: links.archive(),
        title: Text::plain(
            all.first()
                .map_or_else(|| "Info Flash".to_string(), |m| m.series.clone()),
        ),
        updated: all.first().map_or_else(|| stamp(NaiveDate::MIN), |m| stamp(m.date)),
        links: vec![
            link(links.feed(), "self", None),
            link(links.archive(), "alternate", None),
        ],
        entries,
        ..Feed::default()
    };
    feed.to_string()
}
