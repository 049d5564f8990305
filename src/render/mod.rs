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

use crate::config::Config;
use crate::edition::Edition;
use crate::types::{Language, OfficeId, Region};
pub use templates::Templates;
pub use view::EmailView;

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
    #[error("{}: {message}", path.display())]
    Labels { path: PathBuf, message: String },
    #[error("template `{template}`{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Render {
        template: String,
        line: Option<usize>,
        message: String,
    },
    #[error("the templates produced MJML that mrml cannot {stage} (variant {variant}): {message}; check your templates/ overrides")]
    Mjml {
        variant: String,
        stage: &'static str,
        message: String,
    },
    #[error("cannot build the message for variant {variant}: {message}")]
    Message { variant: String, message: String },
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
    pub fn preview(config: &Config, edition: &Edition, variant: &Variant, labels: &i18n::Labels) -> Personal {
        let base = config.base_url.as_str().trim_end_matches('/');
        Personal {
            greeting: labels.greeting(None),
            view_online_url: format!("{base}/archive/{}/{}/", edition.id, variant.id()),
            unsubscribe_url: format!("{base}/unsubscribe/preview"),
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
    config: &Config,
    templates: &Templates,
    personal: &Personal,
) -> Result<Rendered, RenderError> {
    let labels = templates.labels(&variant.language)?;
    let mut view = EmailView::build(edition, variant, config, labels, personal);
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
    let (html, mjml_warnings) = mjml_to_html(&mjml, variant)?;
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
    config: &Config,
    templates: &Templates,
) -> Vec<Result<Rendered, RenderError>> {
    let one = |variant: &Variant| {
        let personal = Personal::preview(config, edition, variant, templates.labels(&variant.language)?);
        render(edition, variant, config, templates, &personal)
    };
    crate::parallel::map(variants, one)
}

/// MJML → HTML with mrml, keeping its warnings with their line in the MJML.
pub fn mjml_to_html(mjml: &str, variant: &Variant) -> Result<(String, Vec<MjmlWarning>), RenderError> {
    let parsed = mrml::parse(mjml).map_err(|e| RenderError::Mjml {
        variant: variant.id(),
        stage: "parse",
        message: e.to_string(),
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
        })?;
    Ok((html, warnings))
}
