//! `infoflash serve`: the small web service behind the links in every email.
//!
//! - `/archive/…` serves the archive that `build` writes (`OUT/archive/`): the "view in
//!   browser" pages, the index, the Atom feed and the calendar files.
//! - `/unsubscribe/{token}`: `GET` shows a page with a button (mail scanners follow links, so
//!   a `GET` never unsubscribes); `POST` with `List-Unsubscribe=One-Click` (RFC 8058, what mail
//!   providers send, and what the button sends) adds the token's address to the suppression
//!   list. Tokens are checked with the same key `send` signs them with; a forged, altered or
//!   expired token gets 403 and changes nothing. No page says whether an address is on a list.
//! - `/preview/` lists the editions in `editions/` and renders any of them from the file as it
//!   is now, with `check`'s findings above the email, so an editor sees a saved change on reload.
//!
//! Requests are limited in body size and in rate; logs never show an address in clear (a
//! short hash stands for it); Ctrl-C or SIGTERM stops it after the requests in flight.
//! It owns HTTP only: rendering, checking and the suppression list are the library's.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::deliver::unsubscribe::Key;
use crate::types::{EditionId, Language};

/// The one body a one-click unsubscribe carries (RFC 8058).
const ONE_CLICK: &str = "List-Unsubscribe=One-Click";
/// Bodies above this are refused: the only body we accept is 26 bytes long.
const MAX_BODY: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the unsubscribe key cannot be loaded: {0}")]
    Key(String),
    #[error("the web service stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// What the web service reads: the editions to preview (checked and rendered as `check` and
/// `build` do), the published archive, the unsubscribe key and the suppression list it
/// appends to. Built by `config`, read here.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub editions_dir: PathBuf,
    pub edition: crate::edition::EditionSettings,
    pub render: crate::render::RenderSettings,
    pub suppression: PathBuf,
    pub state_dir: PathBuf,
}

struct App {
    settings: ServeSettings,
    key: Key,
    limiter: governor::DefaultDirectRateLimiter,
}

type Shared = Arc<App>;

/// Serves until Ctrl-C or SIGTERM. `requests_per_second` bounds the whole service.
pub fn serve(settings: ServeSettings, listen: SocketAddr, requests_per_second: u32) -> Result<(), ServeError> {
    let key = Key::load(&crate::state::StateDir::new(&settings.state_dir)).map_err(ServeError::Key)?;
    let rate = std::num::NonZeroU32::new(requests_per_second.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
    let app = Arc::new(App {
        key,
        limiter: governor::RateLimiter::direct(governor::Quota::per_second(rate)),
        settings,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Listen { addr: listen, source })?;
        let local = listener.local_addr()?;
        // Printed so that scripts (and tests) know the port when asked for port 0.
        println!("serving http://{local}/ (archive, unsubscribe, preview); Ctrl-C stops");
        axum::serve(listener, router(app))
            .with_graceful_shutdown(stop_signal())
            .await?;
        Ok(())
    })
}

fn router(app: Shared) -> Router {
    let archive = tower_http::services::ServeDir::new(app.settings.render.out_dir.join("archive"));
    Router::new()
        .route("/", get(|| async { Redirect::permanent("/archive/") }))
        .route("/unsubscribe/{token}", get(confirm_page).post(unsubscribe))
        .route("/preview/", get(preview_list))
        .route("/preview/{edition}", get(preview_edition))
        .nest_service("/archive", archive)
        .layer(axum::middleware::from_fn_with_state(app.clone(), limit_rate))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("stopping after the requests in flight");
}

async fn limit_rate(
    State(app): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if app.limiter.check().is_err() {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "too many requests",
        )
            .into_response();
    }
    next.run(request).await
}

/// Stands for an address in logs.
fn anonymous(address: &crate::types::EmailAddress) -> String {
    let digest = Sha256::digest(address.key().as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>body{{font-family:Helvetica,Arial,sans-serif;max-width:640px;margin:3em auto;padding:0 1em;color:#1f2933;line-height:1.5}}\
         button{{font-size:1rem;padding:.6em 1.4em;background:#0b5fa5;color:#fff;border:0;border-radius:4px;cursor:pointer}}\
         .finding{{font-family:monospace;white-space:pre-wrap}}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        title = handlebars::html_escape(title),
    )
}

fn forbidden() -> Response {
    let body = "<p>This unsubscribe link is not valid: it may have been altered or be too old. \
                Use the link in a recent email, or write to us.</p>";
    (StatusCode::FORBIDDEN, Html(page("Link not valid", body))).into_response()
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

async fn confirm_page(State(app): State<Shared>, UrlPath(token): UrlPath<String>) -> Response {
    if app.key.verify(&token, today()).is_none() {
        return forbidden();
    }
    let token = handlebars::html_escape(&token);
    let body = format!(
        "<p>Press the button to stop receiving this newsletter at the address it was sent to.</p>\n\
         <form method=\"post\" action=\"/unsubscribe/{token}\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form>"
    );
    Html(page("Unsubscribe", &body)).into_response()
}

async fn unsubscribe(State(app): State<Shared>, UrlPath(token): UrlPath<String>, body: String) -> Response {
    if body.trim() != ONE_CLICK {
        return (StatusCode::BAD_REQUEST, format!("the body must be `{ONE_CLICK}`")).into_response();
    }
    let Some((office, address)) = app.key.verify(&token, today()) else {
        tracing::info!("refused an unsubscribe with an invalid token");
        return forbidden();
    };
    let path = app.settings.suppression.clone();
    let reason = match office {
        None => "unsubscribed (one-click)".to_string(),
        Some(office) => format!("unsubscribed (one-click) from the {office} office"),
    };
    let who = anonymous(&address);
    let result =
        tokio::task::spawn_blocking(move || crate::audience::suppression::append(&path, &address, &reason, today()))
            .await;
    match result {
        Ok(Ok(added)) => {
            tracing::info!("unsubscribed {who} (new entry: {added})");
            let body = "<p>You are unsubscribed: you will receive no more of these emails at this address.</p>";
            Html(page("Unsubscribed", body)).into_response()
        }
        other => {
            tracing::error!("cannot record the unsubscribe of {who}: {other:?}");
            let body = "<p>Your request could not be recorded just now. Please try again in a minute.</p>";
            (StatusCode::SERVICE_UNAVAILABLE, Html(page("Please try again", body))).into_response()
        }
    }
}

async fn preview_list(State(app): State<Shared>) -> Response {
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
    let items: String = ids
        .iter()
        .map(|id| format!("<li><a href=\"/preview/{id}\">{id}</a></li>\n"))
        .collect();
    let body = format!("<p>Editions in <code>editions/</code>, newest first. Each page is rendered from the file as it is now.</p>\n<ul>\n{items}</ul>");
    Html(page("Preview", &body)).into_response()
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    lang: Option<String>,
}

async fn preview_edition(
    State(app): State<Shared>,
    UrlPath(edition): UrlPath<String>,
    Query(query): Query<PreviewQuery>,
) -> Response {
    // The id is a slug, so the path cannot leave editions/.
    let Ok(id) = edition.parse::<EditionId>() else {
        return (StatusCode::NOT_FOUND, "no such edition").into_response();
    };
    let language = query.lang.and_then(|l| l.parse::<Language>().ok());
    let app2 = app.clone();
    let rendered = tokio::task::spawn_blocking(move || preview(&app2, &id, language)).await;
    match rendered {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err((status, message))) => (status, Html(page("Preview", &message))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The edition rendered now, with the findings of `check` in a box above it.
fn preview(app: &App, id: &EditionId, language: Option<Language>) -> Result<String, (StatusCode, String)> {
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
        Err(_) => return Ok(page(&format!("Preview of {id}"), &findings_html)),
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
    let languages: String = edition
        .languages
        .iter()
        .map(|l| format!(" <a href=\"/preview/{id}?lang={l}\">{l}</a>"))
        .collect();
    let banner = format!(
        "<div style=\"font-family:Helvetica,Arial,sans-serif;background:#fff8e1;border-bottom:1px solid #e0c36a;padding:12px 16px\">\
         <strong>Preview of {id}</strong> ({language}) —{languages} · <a href=\"/preview/\">all editions</a>{findings_html}</div>"
    );
    Ok(crate::site::archive::after_body(&rendered.html, &banner))
}
