//! `/preview/`: the editions in `editions/`, drafts included, rendered from the file on each
//! request with `check`'s findings above the email, so an editor sees a saved change on
//! reload. Served only with `serve --preview`; on an address other than loopback only with a
//! preview token (`INFOFLASH_PREVIEW_TOKEN`), which every request must then carry as
//! `?token=…` (compared in constant time; the pages' own links carry it on).
//!
//! Owns these pages; rendering and checking are the library's. It must not write anything.

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
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
    region: Option<String>,
    office: Option<String>,
    token: Option<String>,
}

/// The variant a preview request asks for, each part as typed (checked against the edition
/// and the network once both are known).
#[derive(Debug, Clone, Default)]
struct Choice {
    lang: Option<String>,
    region: Option<String>,
    office: Option<String>,
}

impl Choice {
    /// The query string that selects this variant, with `token` (already a `token=…` pair or
    /// empty) carried on; `&amp;`-joined for use in an HTML attribute.
    fn href(&self, id: &EditionId, token: &str) -> String {
        let mut pairs: Vec<String> = Vec::new();
        for (key, value) in [("lang", &self.lang), ("office", &self.office), ("region", &self.region)] {
            if let Some(v) = value {
                pairs.push(format!(
                    "{key}={}",
                    url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                ));
            }
        }
        if !token.is_empty() {
            pairs.push(token.to_string());
        }
        if pairs.is_empty() {
            format!("/preview/{id}")
        } else {
            format!("/preview/{id}?{}", pairs.join("&amp;"))
        }
    }
}

/// The query the pages' links carry (empty without a token), when the token a request
/// carries is the configured one or none is configured; else `None`, answered with a 404,
/// which says no more than a service without previews would.
fn admitted(app: &App, query: &PreviewQuery, headers: &HeaderMap) -> Option<String> {
    match &app.preview_token {
        // An editor's session admits the preview its pages frame.
        _ if app.edit && app.sessions.csrf(headers).is_some() => Some(String::new()),
        None if app.edit && app.sessions.needs_login() => None,
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

pub async fn list(State(app): State<Shared>, Query(query): Query<PreviewQuery>, headers: HeaderMap) -> Response {
    let Some(token) = admitted(&app, &query, &headers) else {
        return refused();
    };
    let names: Vec<String> = std::fs::read_dir(&app.settings.editions_dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .strip_suffix(".toml")
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut ids: Vec<EditionId> = names.iter().filter_map(|n| n.parse().ok()).collect();
    ids.sort_by(|a, b| b.cmp(a));
    let query = if token.is_empty() {
        String::new()
    } else {
        format!("?{token}")
    };
    let items: String = ids
        .iter()
        .map(|id| {
            // An office's overlay (`<id>.<office>.toml`) is previewed as that office's edition.
            let offices: String = names
                .iter()
                .filter_map(|n| n.strip_prefix(&format!("{id}.")))
                .filter(|o| app.settings.edition.network.offices.keys().any(|k| k.as_str() == *o))
                .map(|o| {
                    let choice = Choice {
                        office: Some(o.to_string()),
                        ..Choice::default()
                    };
                    format!(" · <a href=\"{}\">office {o}</a>", choice.href(id, &token))
                })
                .collect();
            format!("<li><a href=\"/preview/{id}{query}\">{id}</a>{offices}</li>\n")
        })
        .collect();
    let body = format!("<p>Editions in <code>editions/</code>, newest first. Each page is rendered from the file as it is now.</p>\n<ul>\n{items}</ul>");
    Html(en_page("Preview", &body)).into_response()
}

pub async fn edition(
    State(app): State<Shared>,
    UrlPath(edition): UrlPath<String>,
    Query(query): Query<PreviewQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = admitted(&app, &query, &headers) else {
        return refused();
    };
    // The id is a slug, so the path cannot leave editions/.
    let Ok(id) = edition.parse::<EditionId>() else {
        return (StatusCode::NOT_FOUND, "no such edition").into_response();
    };
    let choice = Choice {
        lang: query.lang,
        region: query.region,
        office: query.office,
    };
    let app2 = app.clone();
    let rendered = tokio::task::spawn_blocking(move || preview(&app2, &id, &choice, &token)).await;
    match rendered {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err((status, message))) => (status, Html(en_page("Preview", &message))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A 404 page saying what the edition does have, for a variant it has not.
/// `what` is a sentence with `{}` where the value asked for goes.
fn unknown(what: &str, value: &str, known: impl Iterator<Item = String>) -> (StatusCode, String) {
    let code = |t: &str| format!("<code>{}</code>", handlebars::html_escape(t));
    let known: Vec<String> = known.map(|k| code(&k)).collect();
    (
        StatusCode::NOT_FOUND,
        format!(
            "<p>{}; there are: {}.</p>",
            what.replace("{}", &code(value)),
            known.join(", ")
        ),
    )
}

/// The edition rendered now, as the variant `choice` names (language, and an office or a
/// region), with the findings of `check` for those variants in a box above it; `token` is the
/// query the page's links carry (empty without a preview token). A variant the edition does
/// not have is a 404 page, never another variant in its place.
fn preview(app: &App, id: &EditionId, choice: &Choice, token: &str) -> Result<String, (StatusCode, String)> {
    preview_in(app, &app.settings.editions_dir, id, choice, token)
}

/// The editor's draft (written with its edition into `dir`, a temporary folder) previewed as
/// `/preview/` shows a file, in `language` (the edition's own by default) for `office`.
pub(super) fn draft(
    app: &App,
    dir: &std::path::Path,
    id: &EditionId,
    language: Option<String>,
    office: Option<String>,
) -> Result<String, (StatusCode, String)> {
    let choice = Choice {
        lang: language,
        region: None,
        office,
    };
    preview_in(app, dir, id, &choice, "")
}

fn preview_in(
    app: &App,
    dir: &std::path::Path,
    id: &EditionId,
    choice: &Choice,
    token: &str,
) -> Result<String, (StatusCode, String)> {
    let settings = &app.settings;
    let network = &settings.edition.network;
    let path = dir.join(format!("{id}.toml"));
    if !path.is_file() {
        return Err((
            StatusCode::NOT_FOUND,
            format!("<p>No edition <code>{id}</code> in editions/.</p>"),
        ));
    }
    let office = match &choice.office {
        None => None,
        Some(o) => Some(
            o.parse::<crate::types::OfficeId>()
                .ok()
                .and_then(|o| network.offices.get(&o))
                .ok_or_else(|| unknown("No office {}", o, network.offices.keys().map(|k| k.to_string())))?,
        ),
    };
    let region = match &choice.region {
        None => None,
        Some(_) if office.is_some() => {
            return Err((
                StatusCode::NOT_FOUND,
                "<p>An office's edition has its own regions: choose an office or a region, not both.</p>".into(),
            ))
        }
        Some(r) => Some(
            r.parse::<crate::types::Region>()
                .ok()
                .filter(|r| network.knows_region(r))
                .ok_or_else(|| unknown("No region {}", r, network.regions.keys().map(|k| k.to_string())))?,
        ),
    };
    let escape = |t: &str| handlebars::html_escape(t);
    let report = crate::check::check_variants(&path, &settings.edition, &settings.render, office, region.as_ref())
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, escape(&e.to_string())))?;
    let findings = report.to_string();
    let findings_html = if findings.trim().is_empty() {
        "<p>check: no problems.</p>".to_string()
    } else {
        // One finding a line: the banner sits inside the email's own HTML, whose styles
        // know nothing of ours.
        format!(
            "<div class=\"finding\" style=\"white-space:pre-wrap;font-family:monospace;font-size:13px\">{}</div>",
            escape(&findings)
        )
    };
    let loaded = crate::edition::load_for_office(&path, &settings.edition, office);
    let (edition, _) = match loaded {
        Ok(loaded) => loaded,
        Err(_) => return Ok(en_page(&format!("Preview of {id}"), &findings_html)),
    };
    let language = match &choice.lang {
        None => edition.language.clone(),
        Some(l) => l
            .parse::<Language>()
            .ok()
            .filter(|l| edition.languages.contains(l))
            .ok_or_else(|| {
                unknown(
                    &format!("Edition {id} has no {{}} variant"),
                    l,
                    edition.languages.iter().map(|l| l.to_string()),
                )
            })?,
    };
    let templates = settings.render.templates().map_err(|e| {
        (
            StatusCode::OK,
            format!("{findings_html}<p>{}</p>", escape(&e.to_string())),
        )
    })?;
    let scope = match (office, &region) {
        (Some(o), _) => crate::render::Scope::Office {
            id: o.id.clone(),
            regions: o.regions.clone(),
        },
        (None, Some(r)) => crate::render::Scope::Regions(vec![r.clone()]),
        (None, None) => crate::render::Scope::All,
    };
    let variant = crate::render::Variant {
        language: language.clone(),
        scope,
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
    let alone = if token.is_empty() {
        String::new()
    } else {
        format!("?{token}")
    };
    let link = |c: Choice, text: &str| format!(" <a href=\"{}\">{}</a>", c.href(id, token), escape(text));
    let languages: String = edition
        .languages
        .iter()
        .map(|l| {
            link(
                Choice {
                    lang: Some(l.to_string()),
                    ..choice.clone()
                },
                l.as_str(),
            )
        })
        .collect();
    let mut scopes = link(
        Choice {
            lang: Some(language.to_string()),
            ..Choice::default()
        },
        "everyone",
    );
    for r in network.regions.keys() {
        scopes += &link(
            Choice {
                lang: Some(language.to_string()),
                region: Some(r.to_string()),
                office: None,
            },
            r.as_str(),
        );
    }
    for o in network.offices.keys() {
        scopes += &link(
            Choice {
                lang: Some(language.to_string()),
                region: None,
                office: Some(o.to_string()),
            },
            &format!("office {o}"),
        );
    }
    let banner = format!(
        "<div style=\"font-family:Helvetica,Arial,sans-serif;background:#fff8e1;border-bottom:1px solid #e0c36a;padding:12px 16px\">\
         <strong>Preview of {id}</strong> ({}) — languages:{languages} · readers:{scopes} · <a href=\"/preview/{alone}\">all editions</a>{findings_html}</div>",
        escape(&variant.id())
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
