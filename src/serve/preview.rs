//! `/preview/`: the editions in `editions/`, drafts included, rendered from the file on each
//! request with `check`'s findings above the email, so an editor sees a saved change on
//! reload. Served only with `serve --preview`; on an address other than loopback only with a
//! preview token (`INFOFLASH_PREVIEW_TOKEN`), which every request must then carry as
//! `?token=…` (compared in constant time; the pages' own links carry it on).
//!
//! Owns these pages; rendering and checking are the library's. It must not write anything.

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::{page, App, Shared};
use crate::types::{EditionId, Language};

/// The variable that holds the preview token.
pub const TOKEN_ENV: &str = "INFOFLASH_PREVIEW_TOKEN";

/// A token shorter than this is refused at start: it could be guessed.
const MIN_TOKEN: usize = 16;

/// The secret a preview request must carry. Never printed.
#[derive(Clone)]
pub struct PreviewToken(String);

impl std::fmt::Debug for PreviewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreviewToken(***)")
    }
}

impl PreviewToken {
    /// The token from [`TOKEN_ENV`], if set; an error when it is too short to be a secret.
    pub fn from_env() -> Result<Option<PreviewToken>, String> {
        match std::env::var(TOKEN_ENV) {
            Ok(token) if token.len() < MIN_TOKEN => Err(format!(
                "{TOKEN_ENV} is too short: use at least {MIN_TOKEN} characters (e.g. `openssl rand -hex 16`)"
            )),
            Ok(token) => Ok(Some(PreviewToken(token))),
            Err(_) => Ok(None),
        }
    }

    /// Whether `given` is the token, in time that does not depend on where they differ.
    fn accepts(&self, given: Option<&str>) -> bool {
        use subtle::ConstantTimeEq as _;
        given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(self.0.as_bytes())))
    }

    /// `?token=…` for the pages' links.
    fn query(&self) -> String {
        format!(
            "token={}",
            url::form_urlencoded::byte_serialize(self.0.as_bytes()).collect::<String>()
        )
    }
}

#[derive(serde::Deserialize)]
pub struct PreviewQuery {
    lang: Option<String>,
    token: Option<String>,
}

/// The query the pages' links carry (empty without a token), when the token a request
/// carries is the configured one or none is configured; else `None`, answered with a 404,
/// which says no more than a service without previews would.
fn admitted(app: &App, query: &PreviewQuery) -> Option<String> {
    match &app.preview_token {
        None => Some(String::new()),
        Some(token) if token.accepts(query.token.as_deref()) => Some(token.query()),
        Some(_) => None,
    }
}

fn refused() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

fn en_page(title: &str, body: &str) -> String {
    page(title, body, "en", false)
}

pub async fn list(State(app): State<Shared>, Query(query): Query<PreviewQuery>) -> Response {
    let Some(token) = admitted(&app, &query) else {
        return refused();
    };
    let mut ids: Vec<String> = std::fs::read_dir(&app.settings.editions_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".toml").map(str::to_string)
                })
                .filter(|id| id.parse::<EditionId>().is_ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort_by(|a, b| b.cmp(a));
    let query = if token.is_empty() {
        String::new()
    } else {
        format!("?{token}")
    };
    let items: String = ids
        .iter()
        .map(|id| format!("<li><a href=\"/preview/{id}{query}\">{id}</a></li>\n"))
        .collect();
    let body = format!("<p>Editions in <code>editions/</code>, newest first. Each page is rendered from the file as it is now.</p>\n<ul>\n{items}</ul>");
    Html(en_page("Preview", &body)).into_response()
}

pub async fn edition(
    State(app): State<Shared>,
    UrlPath(edition): UrlPath<String>,
    Query(query): Query<PreviewQuery>,
) -> Response {
    let Some(token) = admitted(&app, &query) else {
        return refused();
    };
    // The id is a slug, so the path cannot leave editions/.
    let Ok(id) = edition.parse::<EditionId>() else {
        return (StatusCode::NOT_FOUND, "no such edition").into_response();
    };
    let language = query.lang.and_then(|l| l.parse::<Language>().ok());
    let app2 = app.clone();
    let rendered = tokio::task::spawn_blocking(move || preview(&app2, &id, language, &token)).await;
    match rendered {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err((status, message))) => (status, Html(en_page("Preview", &message))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The edition rendered now, with the findings of `check` in a box above it; `token` is the
/// query the page's links carry (empty without a preview token).
fn preview(app: &App, id: &EditionId, language: Option<Language>, token: &str) -> Result<String, (StatusCode, String)> {
    let settings = &app.settings;
    let path = settings.editions_dir.join(format!("{id}.toml"));
    if !path.is_file() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("<p>No edition <code>{id}</code> in editions/.</p>"),
        ));
    }
    let escape = |t: &str| handlebars::html_escape(t);
    let report = crate::check::check(&path, &settings.edition, &settings.render)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, escape(&e.to_string())))?;
    let findings = report.to_string();
    let findings_html = if findings.trim().is_empty() {
        "<p>check: no problems.</p>".to_string()
    } else {
        format!("<div class=\"finding\">{}</div>", escape(&findings))
    };
    let loaded = crate::edition::load(&path, &settings.edition);
    let (edition, _) = match loaded {
        Ok(loaded) => loaded,
        Err(_) => return Ok(en_page(&format!("Preview of {id}"), &findings_html)),
    };
    let templates = settings.render.templates().map_err(|e| {
        (
            StatusCode::OK,
            format!("{findings_html}<p>{}</p>", escape(&e.to_string())),
        )
    })?;
    let language = language
        .filter(|l| edition.languages.contains(l))
        .unwrap_or_else(|| edition.language.clone());
    let variant = crate::render::Variant {
        language: language.clone(),
        scope: crate::render::Scope::All,
    };
    let labels = templates
        .labels(&language)
        .map_err(|e| (StatusCode::OK, escape(&e.to_string())))?;
    let personal = crate::render::Personal::preview(&settings.render, &edition, &variant, labels);
    let rendered = crate::render::render(&edition, &variant, &settings.render, &templates, &personal).map_err(|e| {
        (
            StatusCode::OK,
            format!("{findings_html}<p>{}</p>", escape(&e.to_string())),
        )
    })?;
    let and = if token.is_empty() {
        String::new()
    } else {
        format!("&amp;{token}")
    };
    let alone = if token.is_empty() {
        String::new()
    } else {
        format!("?{token}")
    };
    let languages: String = edition
        .languages
        .iter()
        .map(|l| format!(" <a href=\"/preview/{id}?lang={l}{and}\">{l}</a>"))
        .collect();
    let banner = format!(
        "<div style=\"font-family:Helvetica,Arial,sans-serif;background:#fff8e1;border-bottom:1px solid #e0c36a;padding:12px 16px\">\
         <strong>Preview of {id}</strong> ({language}) —{languages} · <a href=\"/preview/{alone}\">all editions</a>{findings_html}</div>"
    );
    Ok(crate::site::archive::after_body(&rendered.html, &banner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_compared_whole_and_never_printed() {
        let token = PreviewToken("0123456789abcdef".into());
        assert!(token.accepts(Some("0123456789abcdef")));
        assert!(!token.accepts(Some("0123456789abcde")));
        assert!(!token.accepts(Some("0123456789abcdeF")));
        assert!(!token.accepts(None));
        assert_eq!(format!("{token:?}"), "PreviewToken(***)");
    }
}
