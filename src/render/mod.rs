//! Rendering: one edition variant (a language, optionally one region) to MJML with handlebars,
//! to HTML with mrml, to plain text, and to a MIME message.
//!
//! ```text
//! Edition ──view::EmailView──▶ handlebars (templates/*.mjml.hbs) ──▶ MJML ──mrml──▶ HTML
//!                        └────▶ text::render ──────────────────────────────────────▶ text
//! ```
//!
//! Owns templates, label tables, the view structs and the message layout. Templates only ever
//! see view structs; everything a reader could control is HTML-escaped by handlebars, and only
//! Markdown we rendered and sanitised is inserted raw. It must not write files (that is
//! [`crate::site`]) or decide who receives what.

pub mod i18n;
pub mod message;
pub mod templates;
pub mod text;
pub mod view;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::edition::Edition;
use crate::types::{Language, OfficeId, Region};
pub use templates::Templates;
pub use view::EmailView;

/// What rendering needs besides the edition: the network's names, where links point, who the
/// mail is from and where templates and output live. Built by `config`, read here and by
/// `site`.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    pub network: std::sync::Arc<crate::types::Network>,
    /// Where the archive is published; every public link starts here.
    pub base_url: url::Url,
    pub sender: lettre::message::Mailbox,
    pub reply_to: Option<lettre::message::Mailbox>,
    /// A project's own templates, overriding the embedded ones file by file.
    pub templates_dir: std::path::PathBuf,
    /// Where `build` writes emails, previews and the archive.
    pub out_dir: std::path::PathBuf,
    /// The sender's postal address, printed in every footer; `check` warns when it is unset.
    pub postal_address: Option<String>,
}

impl RenderSettings {
    /// The project's templates over the embedded ones, for the configured languages.
    pub fn templates(&self) -> Result<Templates, RenderError> {
        Templates::load(&self.templates_dir, &self.network.languages)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{}{}: template error: {message}", path.display(), line.map(|l| format!(":{l}{}", column.map(|c| format!(":{c}")).unwrap_or_default())).unwrap_or_default())]
    Template {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Labels {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    /// A template failed while rendering; `template` is its file (`templates/items/news.mjml.hbs`,
    /// or `<embedded>/templates/…`).
    #[error("{template}{}: template error: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Render {
        template: String,
        line: Option<usize>,
        message: String,
    },
    #[error("the templates produced MJML that mrml cannot {stage} (variant {variant}): {message}; {}", overrides_hint(.overrides))]
    Mjml {
        variant: String,
        stage: &'static str,
        message: String,
        /// The project's template files, one of which must be at fault.
        overrides: Vec<PathBuf>,
    },
    #[error("cannot build the message for variant {variant}: {message}")]
    Message { variant: String, message: String },
}

fn overrides_hint(overrides: &[PathBuf]) -> String {
    if overrides.is_empty() {
        "check your templates/ overrides".into()
    } else {
        let files: Vec<String> = overrides.iter().map(|p| p.display().to_string()).collect();
        format!("check your templates: {}", files.join(", "))
    }
}

/// Which items an email carries: all of them, or those of some regions (a regional
/// variant, or a regional office's edition).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Scope {
    All,
    /// `--region R`: the items that concern R.
    Regions(Vec<Region>),
    /// A regional office's edition: the items that concern any of its regions.
    Office {
        id: OfficeId,
        regions: Vec<Region>,
    },
}

impl Scope {
    pub fn regions(&self) -> &[Region] {
        match self {
            Scope::All => &[],
            Scope::Regions(r) | Scope::Office { regions: r, .. } => r,
        }
    }

    /// Whether an item belongs in the email: one for these regions, and an office's own item
    /// only in that office's edition.
    pub fn shows(&self, item: &crate::edition::Item) -> bool {
        let office_ok = match (&item.office, self) {
            (None, _) => true,
            (Some(own), Scope::Office { id, .. }) => own == id,
            (Some(_), _) => false,
        };
        office_ok && self.includes(&item.regions)
    }

    /// Whether an item or session for these regions belongs in the email.
    pub fn includes(&self, regions: &crate::edition::Regions) -> bool {
        let mine = self.regions();
        mine.is_empty() || mine.iter().any(|r| regions.includes(r))
    }
}

/// What one email is built for: a language and a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Variant {
    pub language: Language,
    pub scope: Scope,
}

impl Variant {
    /// `en`, `fr-africa` for a regional variant, `es-santiago` for an office's; a folder name.
    pub fn id(&self) -> String {
        match &self.scope {
            Scope::All => self.language.to_string(),
            Scope::Regions(r) => {
                let ids: Vec<&str> = r.iter().map(Region::as_str).collect();
                format!("{}-{}", self.language, ids.join("+"))
            }
            Scope::Office { id, .. } => format!("{}-{id}", self.language),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// The per-recipient parts of a message: greeting, links and the recipient's own columns. A
/// build fills them with preview values; sending fills each recipient's own.
#[derive(Debug, Clone, Default)]
pub struct Personal {
    pub greeting: String,
    pub view_online_url: String,
    pub unsubscribe_url: String,
    pub name: Option<String>,
    /// The recipient's other list columns, for templates (`recipient.attributes.school`).
    pub attributes: std::collections::BTreeMap<String, String>,
}

impl Personal {
    /// What a preview shows: the polite greeting with no name, the variant's archive page and
    /// a sample unsubscribe link.
    pub fn preview(settings: &RenderSettings, edition: &Edition, variant: &Variant, labels: &i18n::Labels) -> Personal {
        let links = crate::links::Links::new(&settings.base_url);
        Personal {
            greeting: labels.greeting(None),
            view_online_url: links.variant_page(&edition.id, variant.id()),
            unsubscribe_url: links.unsubscribe("preview"),
            name: None,
            attributes: Default::default(),
        }
    }

    /// A recipient's own parts; the links are the preview's until delivery provides its own.
    pub fn for_recipient(
        preview: &Personal,
        recipient: &crate::audience::Recipient,
        labels: &i18n::Labels,
    ) -> Personal {
        Personal {
            greeting: labels.greeting(recipient.name.as_deref()),
            name: recipient.name.clone(),
            attributes: recipient.attributes.clone(),
            ..preview.clone()
        }
    }
}

/// A warning mrml gave about the MJML, at a line of `email.mjml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MjmlWarning {
    pub line: usize,
    pub message: String,
}

/// One variant, rendered every way.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub variant: Variant,
    pub view: EmailView,
    pub mjml: String,
    pub html: String,
    pub text: String,
    /// The HTML as encoded for the message (lettre picks the transfer encoding). Encoded once:
    /// both the size check and the message use it.
    pub html_body: lettre::message::Body,
    pub mjml_warnings: Vec<MjmlWarning>,
}

/// The variants an edition is built in: each of `languages` (default: the edition's), with
/// the same scope.
pub fn variants(edition: &Edition, languages: &[Language], scope: &Scope) -> Vec<Variant> {
    let languages = if languages.is_empty() {
        &edition.languages[..]
    } else {
        languages
    };
    languages
        .iter()
        .map(|l| Variant {
            language: l.clone(),
            scope: scope.clone(),
        })
        .collect()
}

#[derive(Serialize)]
struct ItemContext<'a> {
    item: &'a view::ItemView,
    labels: &'a std::collections::BTreeMap<String, String>,
    dir: &'static str,
    align: &'static str,
}

/// Renders one variant of `edition`.
pub fn render(
    edition: &Edition,
    variant: &Variant,
    settings: &RenderSettings,
    templates: &Templates,
    personal: &Personal,
) -> Result<Rendered, RenderError> {
    let labels = templates.labels(&variant.language)?;
    let mut view = EmailView::build(edition, variant, settings, labels, personal);
    for column in &templates.attributes {
        view.recipient.attributes.entry(column.clone()).or_default();
    }
    let mut items = std::mem::take(&mut view.items);
    for item in &mut items {
        let context = ItemContext {
            item,
            labels: &view.labels,
            dir: view.dir,
            align: view.align,
        };
        let mjml = templates.render(&format!("items/{}", item.kind), &context)?;
        item.mjml = mjml;
    }
    view.items = items;
    let mjml = templates.render("email", &view)?;
    let (html, mjml_warnings) = mjml_to_html(&mjml, variant).map_err(|mut e| {
        // The MJML came from the templates: name the project's own, one of which is at fault.
        if let RenderError::Mjml { overrides, .. } = &mut e {
            overrides.extend(
                templates
                    .overridden
                    .iter()
                    .filter(|p| p.extension().is_some_and(|x| x == "hbs"))
                    .cloned(),
            );
        }
        e
    })?;
    let text = text::render(&view);
    let html_body = lettre::message::Body::new(html.clone());
    Ok(Rendered {
        variant: variant.clone(),
        view,
        mjml,
        html,
        text,
        html_body,
        mjml_warnings,
    })
}

/// Renders every variant with its preview personal parts, on as many threads as there are
/// cores: variants are independent, and an edition is usually built in several languages.
/// Results come back in the order of `variants`.
pub fn render_all(
    edition: &Edition,
    variants: &[Variant],
    settings: &RenderSettings,
    templates: &Templates,
) -> Vec<Result<Rendered, RenderError>> {
    let one = |variant: &Variant| {
        let personal = Personal::preview(settings, edition, variant, templates.labels(&variant.language)?);
        render(edition, variant, settings, templates, &personal)
    };
    crate::parallel::map(variants, one)
}

/// The MJML as mrml needs it to render what the official compiler renders, without changing
/// its lines (warnings keep their line numbers):
///
/// - mrml writes every attribute value with Rust's `{:?}`, which turns a no-break space, a
///   combining mark (Arabic harakat), a right-to-left mark and the like into `\u{a0}` text
///   that readers (and screen readers, in the `aria-label` it copies the title into) then
///   see. As numeric character references they pass through mrml untouched, and mean the
///   same wherever HTML reads them. (`\` and `"` are escaped where text enters the MJML:
///   [`templates::escape`] and the Markdown renderer.)
/// - mrml ignores a whole `padding` whose first value is a unitless `0` when it works out
///   column and image widths (`padding="0 24px 16px"`), where CSS and the official compiler
///   read `0` as `0px`.
pub fn for_mrml(mjml: &str) -> std::borrow::Cow<'_, str> {
    static PADDING: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(\spadding(?:-[a-z]+)?=")([^"]*)""#).unwrap_or_else(|e| panic!("{e}"))
    });
    let debug_escaped = |c: char| !c.is_ascii() && c.escape_debug().nth(1).is_some();
    let mut text = std::borrow::Cow::Borrowed(mjml);
    if mjml.chars().any(debug_escaped) {
        let mut out = String::with_capacity(mjml.len() + 64);
        for c in mjml.chars() {
            if debug_escaped(c) {
                out.push_str(&format!("&#x{:X};", u32::from(c)));
            } else {
                out.push(c);
            }
        }
        text = std::borrow::Cow::Owned(out);
    }
    if PADDING.is_match(&text) {
        let padded = PADDING.replace_all(&text, |c: &regex::Captures<'_>| {
            let values: Vec<&str> = c[2]
                .split_whitespace()
                .map(|v| if v == "0" { "0px" } else { v })
                .collect();
            format!("{}{}\"", &c[1], values.join(" "))
        });
        if let std::borrow::Cow::Owned(padded) = padded {
            text = std::borrow::Cow::Owned(padded);
        }
    }
    text
}

/// MJML → HTML with mrml, keeping its warnings with their line in the MJML.
pub fn mjml_to_html(mjml: &str, variant: &Variant) -> Result<(String, Vec<MjmlWarning>), RenderError> {
    // The edition and the lists refuse control characters that XML forbids at load, with
    // their line; one can still come from a template or a label file, and is named here rather
    // than dropped or left to mrml's less helpful refusal.
    if let Some((at, c)) = mjml
        .char_indices()
        .find(|(_, c)| crate::types::is_forbidden_control(*c))
    {
        return Err(RenderError::Mjml {
            variant: variant.id(),
            stage: "parse",
            message: format!(
                "line {} of the MJML holds the invisible control character U+{:04X}, which HTML email forbids: delete it from the template or label file that wrote it",
                mjml[..at].matches('\n').count() + 1,
                u32::from(c)
            ),
            overrides: Vec::new(),
        });
    }
    let prepared = for_mrml(mjml);
    let parsed = mrml::parse(prepared.as_ref()).map_err(|e| RenderError::Mjml {
        variant: variant.id(),
        stage: "parse",
        message: e.to_string(),
        overrides: Vec::new(),
    })?;
    let warnings = parsed
        .warnings
        .iter()
        .map(|w| MjmlWarning {
            line: mjml[..w.span.start.min(mjml.len())].matches('\n').count() + 1,
            message: w.kind.as_str().replace('-', " "),
        })
        .collect();
    let html = parsed
        .element
        .render(&mrml::prelude::render::RenderOptions::default())
        .map_err(|e| RenderError::Mjml {
            variant: variant.id(),
            stage: "render",
            message: e.to_string(),
            overrides: Vec::new(),
        })?;
    Ok((integer_sizes(html), warnings))
}

/// mrml writes an image's `width` attribute as the exact share of its column (`207.2`), which
/// HTML does not allow there (a whole number of pixels) and some clients then ignore; the
/// official compiler writes the whole number (`207`).
fn integer_sizes(html: String) -> String {
    static SIZE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(\s(?:width|height)=")(\d+)\.\d+""#).unwrap_or_else(|e| panic!("{e}"))
    });
    match SIZE.replace_all(&html, "$1$2\"") {
        std::borrow::Cow::Borrowed(_) => html,
        std::borrow::Cow::Owned(fixed) => fixed,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_control_character_that_xml_forbids_is_named_with_its_line_not_dropped() {
        // Found by fuzzing: a pasted ^Z made mrml refuse the whole document with no clue. The
        // edition refuses it at load; from a template it is named here.
        let mjml = "<mjml><mj-body><mj-section><mj-column>\n<mj-text>x\u{1a} y</mj-text></mj-column></mj-section></mj-body></mjml>";
        let variant = Variant {
            language: "en".parse().unwrap(),
            scope: Scope::All,
        };
        let err = mjml_to_html(mjml, &variant).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("U+001A"), "{err}");
    }

    use super::*;

    mod properties {
        use super::*;
        use crate::edition::Regions;
        use proptest::prelude::*;

        const REGIONS: [&str; 5] = [
            "africa",
            "arab-states",
            "asia-pacific",
            "europe-north-america",
            "latin-america-caribbean",
        ];

        fn config() -> crate::config::Config {
            crate::config::Config::parse(
                crate::config::EMBEDDED,
                std::path::Path::new("x"),
                std::path::Path::new(""),
            )
            .unwrap()
        }

        /// A valid edition in `languages` (the first is its own).
        fn edition(languages: &[&str]) -> Edition {
            let list: Vec<String> = languages.iter().map(|l| format!("\"{l}\"")).collect();
            let mut text = format!(
                "[edition]\nseries = \"S\"\nnumber = 1\ndate = 2026-01-13\nlanguage = \"{}\"\nlanguages = [{}]\ntime_zone = \"Europe/Paris\"\n",
                languages[0],
                list.join(", ")
            );
            for l in &languages[1..] {
                text.push_str(&format!("\n[edition.translations.{l}]\nseries = \"S {l}\"\n"));
            }
            text.push_str("\n[[items]]\nid = \"a\"\nkind = \"news\"\ntitle = \"A\"\nbody = \"B\"\n");
            for l in &languages[1..] {
                text.push_str(&format!(
                    "\n[items.translations.{l}]\ntitle = \"A {l}\"\nbody = \"B {l}\"\n"
                ));
            }
            match crate::edition::parse(&text, std::path::Path::new("editions/e.toml"), &config().edition) {
                Ok((edition, _)) => edition,
                Err(e) => panic!("{e}\n{text}"),
            }
        }

        fn languages() -> impl Strategy<Value = Vec<&'static str>> {
            prop::sample::subsequence(vec!["en", "fr", "es", "ar", "ru", "zh"], 1..=6).prop_shuffle()
        }

        fn region_list() -> impl Strategy<Value = Vec<Region>> {
            prop::sample::subsequence(REGIONS.to_vec(), 0..=5)
                .prop_shuffle()
                .prop_map(|rs| rs.iter().map(|r| r.parse().unwrap()).collect())
        }

        fn scope() -> impl Strategy<Value = Scope> {
            prop_oneof![
                Just(Scope::All),
                region_list().prop_map(Scope::Regions),
                region_list().prop_map(|regions| Scope::Office {
                    id: "santiago".parse().unwrap(),
                    regions
                }),
            ]
        }

        fn item_regions() -> impl Strategy<Value = Regions> {
            prop_oneof![Just(Regions::All), region_list().prop_map(Regions::Only)]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// Without `--language`, an edition is built in exactly its languages, main one
            /// first; with it, in exactly those asked for. Every variant has the scope asked for,
            /// and no two variants share a folder name.
            #[test]
            fn variants_are_the_editions_languages_or_those_asked_for(
                own in languages(),
                asked in prop::option::of(languages()),
                scope in scope(),
            ) {
                let edition = edition(&own);
                let asked: Vec<Language> = asked.unwrap_or_default().iter().map(|l| l.parse().unwrap()).collect();
                let built = variants(&edition, &asked, &scope);
                let expected = if asked.is_empty() { &edition.languages } else { &asked };
                prop_assert_eq!(built.iter().map(|v| &v.language).collect::<Vec<_>>(), expected.iter().collect::<Vec<_>>());
                prop_assert_eq!(&edition.languages[0], &edition.language);
                prop_assert!(built.iter().all(|v| v.scope == scope));
                let mut ids: Vec<String> = built.iter().map(Variant::id).collect();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), built.len());
            }
        }

        proptest! {
            /// An item belongs in an email iff the email is for everyone, or the item is for
            /// everyone, or they share a region; an office's scope behaves like `--region` with
            /// its regions.
            #[test]
            fn a_scope_includes_an_item_iff_they_share_a_region(scope in scope(), item in item_regions()) {
                let mine = scope.regions();
                let expected = match &item {
                    Regions::All => true,
                    Regions::Only(list) => mine.is_empty() || mine.iter().any(|r| list.contains(r)),
                };
                prop_assert_eq!(scope.includes(&item), expected);
                prop_assert!(Scope::All.includes(&item));
                prop_assert_eq!(Scope::Regions(mine.to_vec()).includes(&item), scope.includes(&item));
            }

            /// Widening either side never drops an item: more regions in the scope, or more
            /// regions on the item, keep everything that was included.
            #[test]
            fn including_is_monotonic(a in region_list(), b in region_list(), item in region_list(), more in region_list()) {
                prop_assume!(!a.is_empty());
                let narrow = Scope::Regions(a.clone());
                let wide = Scope::Regions(a.iter().chain(&b).cloned().collect());
                let only = Regions::Only(item.clone());
                let wider_item = Regions::Only(item.iter().chain(&more).cloned().collect());
                if narrow.includes(&only) {
                    prop_assert!(wide.includes(&only));
                    prop_assert!(narrow.includes(&wider_item));
                }
            }
        }
    }
}
