//! The handlebars templates and label tables, embedded in the binary and overridable file by
//! file from a project's `templates/` folder.
//!
//! A project copies only the file it wants to change (say `items/news.mjml.hbs`) into its
//! `templates/`; every other file keeps the embedded default. Handlebars runs in strict mode,
//! so a template that names a missing field fails loudly instead of printing nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;

use super::i18n::Labels;
use super::RenderError;
use crate::types::Language;

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

/// Every template, by its path under `templates/`.
pub const EMBEDDED_TEMPLATES: &[(&str, &str)] = embed!(
    "email.mjml.hbs",
    "index.html.hbs",
    "archive.html.hbs",
    "partials/head.mjml.hbs",
    "partials/header.mjml.hbs",
    "partials/footer.mjml.hbs",
    "partials/item-top.mjml.hbs",
    "partials/item-details.mjml.hbs",
    "partials/days.mjml.hbs",
    "items/invitation.mjml.hbs",
    "items/publication.mjml.hbs",
    "items/call.mjml.hbs",
    "items/news.mjml.hbs",
    "items/event.mjml.hbs",
    "items/information.mjml.hbs",
    "items/events.mjml.hbs",
);

/// Every label table, by language code; English first (it defines the keys).
pub const EMBEDDED_LABELS: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/labels/en.toml")),
    ("fr", include_str!("../../templates/labels/fr.toml")),
    ("es", include_str!("../../templates/labels/es.toml")),
    ("ar", include_str!("../../templates/labels/ar.toml")),
    ("ru", include_str!("../../templates/labels/ru.toml")),
    ("zh", include_str!("../../templates/labels/zh.toml")),
];

/// The registry name of a template file: `partials/header.mjml.hbs` → `header` (partials are
/// called by their short name), `items/news.mjml.hbs` → `items/news`.
fn registry_name(path: &str) -> String {
    let stem = path.split('.').next().unwrap_or(path);
    stem.strip_prefix("partials/").unwrap_or(stem).to_string()
}

/// Loaded templates and label tables, ready to render any variant.
pub struct Templates {
    pub(crate) registry: Handlebars<'static>,
    labels: BTreeMap<Language, Labels>,
    /// Which files came from the project instead of the embedded defaults.
    pub overridden: Vec<PathBuf>,
    /// Whether any template reads `recipient.…`: then each recipient's message is rendered
    /// on its own instead of substituting the personal parts of one rendering.
    pub uses_recipient: bool,
    /// The list columns templates name as `recipient.attributes.<column>`: a recipient whose
    /// list has no such column (or the preview's, which has none) shows it empty, where strict
    /// mode would stop the build.
    pub attributes: std::collections::BTreeSet<String>,
    /// The file each registered template came from, for messages.
    files: BTreeMap<String, PathBuf>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("overridden", &self.overridden)
            .finish_non_exhaustive()
    }
}

/// HTML escaping for `{{value}}`, plus the backslash: mrml writes attribute values with
/// Rust's `{:?}`, which doubles a literal `\\`; as `&#92;` it reaches the reader as one.
pub fn escape(text: &str) -> String {
    handlebars::html_escape(text).replace('\\', "&#92;")
}

impl Templates {
    /// The embedded templates with the project's overrides from `dir` (which need not exist),
    /// and label tables for each of `languages`.
    pub fn load(dir: &Path, languages: &[Language]) -> Result<Templates, RenderError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(escape);
        registry.set_dev_mode(false);
        let mut overridden = Vec::new();
        let mut uses_recipient = false;
        let mut attributes = std::collections::BTreeSet::new();
        static ATTRIBUTE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"recipient\.attributes\.([A-Za-z0-9_-]+)").unwrap_or_else(|e| panic!("{e}"))
        });
        let mut files = BTreeMap::new();
        for (name, embedded) in EMBEDDED_TEMPLATES {
            let path = dir.join(name);
            let (text, shown) = match read_override(&path)? {
                Some(text) => {
                    overridden.push(path.clone());
                    (text, path)
                }
                None => (embedded.to_string(), Path::new("<embedded>/templates").join(name)),
            };
            uses_recipient |= text.contains("recipient.");
            attributes.extend(ATTRIBUTE.captures_iter(&text).map(|c| c[1].to_string()));
            files.insert(registry_name(name), shown.clone());
            registry
                .register_template_string(&registry_name(name), text)
                .map_err(|e| RenderError::Template {
                    path: shown,
                    line: e.pos().map(|p| p.0),
                    column: e.pos().map(|p| p.1),
                    message: e.reason().to_string(),
                })?;
        }

        let en_path = dir.join("labels/en.toml");
        let en_text = read_override(&en_path)?.unwrap_or_else(|| EMBEDDED_LABELS[0].1.to_string());
        let english = Labels::parse(&en_text, &en_path, None)?;
        let mut labels = BTreeMap::new();
        for language in languages {
            let path = dir.join(format!("labels/{language}.toml"));
            let table = match read_override(&path)? {
                Some(text) => {
                    overridden.push(path.clone());
                    Labels::parse(&text, &path, Some(&english))?
                }
                None => match EMBEDDED_LABELS.iter().find(|(code, _)| *code == language.as_str()) {
                    Some((_, text)) => Labels::parse(text, &path, Some(&english))?,
                    None => {
                        return Err(RenderError::Labels {
                            path,
                            line: None,
                            message: format!(
                                "no labels for language `{language}`: create this file with the keys of labels/en.toml"
                            ),
                        })
                    }
                },
            };
            labels.insert(language.clone(), table);
        }
        Ok(Templates {
            registry,
            labels,
            overridden,
            uses_recipient,
            attributes,
            files,
        })
    }

    pub fn labels(&self, language: &Language) -> Result<&Labels, RenderError> {
        self.labels.get(language).ok_or_else(|| RenderError::Labels {
            path: PathBuf::from(format!("templates/labels/{language}.toml")),
            line: None,
            message: format!("language `{language}` is not configured in infoflash.toml"),
        })
    }

    pub fn render<T: serde::Serialize>(&self, name: &str, data: &T) -> Result<String, RenderError> {
        self.registry.render(name, data).map_err(|e| {
            let template = e.template_name.as_deref().unwrap_or(name);
            RenderError::Render {
                template: self
                    .files
                    .get(template)
                    .map_or_else(|| template.to_string(), |f| f.display().to_string()),
                line: e.line_no,
                message: e.reason().to_string(),
            }
        })
    }
}

fn read_override(path: &Path) -> Result<Option<String>, RenderError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RenderError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_are_registered_by_their_short_name() {
        assert_eq!(registry_name("partials/header.mjml.hbs"), "header");
        assert_eq!(registry_name("items/news.mjml.hbs"), "items/news");
        assert_eq!(registry_name("email.mjml.hbs"), "email");
    }

    #[test]
    fn a_project_template_overrides_the_embedded_one_and_bad_syntax_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("items")).unwrap();
        let en: Language = "en".parse().unwrap();
        std::fs::write(dir.path().join("items/news.mjml.hbs"), "NEWS {{item.title}}").unwrap();
        let t = Templates::load(dir.path(), std::slice::from_ref(&en)).unwrap();
        assert_eq!(t.overridden, vec![dir.path().join("items/news.mjml.hbs")]);
        let out = t
            .render("items/news", &serde_json::json!({"item": {"title": "<b>"}}))
            .unwrap();
        assert_eq!(out, "NEWS &lt;b&gt;");

        std::fs::write(dir.path().join("items/news.mjml.hbs"), "line one\n{{#if x}}unclosed").unwrap();
        let err = Templates::load(dir.path(), &[en]).unwrap_err().to_string();
        assert!(err.contains("items/news.mjml.hbs:2"), "{err}");
    }
}
