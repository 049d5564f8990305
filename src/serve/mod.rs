//! `infoflash serve`: the small web service behind the links in every email, made to sit on
//! the internet (behind an HTTPS proxy).
//!
//! - `/archive/…` serves the archive that `build` writes (`OUT/archive/`): the "view in
//!   browser" pages, the index, the Atom feed and the calendar files ([`archive`]: no
//!   symbolic link is followed, odd paths are 404s).
//! - `/unsubscribe/{token}`: `GET` shows a page with buttons (mail scanners follow links, so
//!   a `GET` never unsubscribes); `POST` with `List-Unsubscribe=One-Click` (RFC 8058, what mail
//!   providers send, and what the buttons send) adds the token's address to the suppression
//!   list, for the sending office only or for everyone ([`unsubscribe`]). Tokens are checked
//!   with the key `send` signs them with; a forged, altered or expired token gets 403 and
//!   changes nothing. No page says whether an address is on a list.
//! - `/preview/` (only with `--preview` or `--edit`) renders the editions in `editions/`
//!   ([`preview`]).
//! - `/edit/` (only with `--edit`) is the browser editor of those files ([`edit`]), behind a
//!   login when `[serve] edit_password_hash` is set, and on loopback only when it is not
//!   ([`session`]).
//!
//! Every response carries security headers (a strict `Content-Security-Policy` that forbids
//! framing, `nosniff`, no referrer; `no-store` on the unsubscribe and preview pages).
//! Requests are limited in body size, in rate per client and route ([`limit`]) and in time
//! ([`conn`]: header-read and idle timeouts); logs never show an address in clear (a keyed
//! hash stands for it); Ctrl-C or SIGTERM stops it after the requests in flight.
//! It owns HTTP only: rendering, checking and the suppression list are the library's.

mod archive;
mod conn;
mod edit;
mod limit;
mod preview;
mod session;
mod unsubscribe;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use conn::Timeouts;
pub use preview::TOKEN_ENV as PREVIEW_TOKEN_ENV;
pub use session::hash_password;

use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

/// Bodies above this are refused: the longest body we accept (a multipart one-click with
/// the page's `scope` field) is a few hundred bytes.
const MAX_BODY: usize = 1024;

/// The editor's posts carry the whole draft (twice: as fields and as text): a few hundred
/// kilobytes for the longest edition.
const MAX_EDIT_BODY: usize = 4 * 1024 * 1024;

/// What pages may load: their own styles and images (and images over HTTPS, which emails
/// use), nothing else; forms post back here only; no page may be framed (clickjacking an
/// unsubscribe button).
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; \
     font-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The editor's pages also run their own script, fetch Markdown previews and frame the preview.
const EDIT_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; \
     font-src 'self' https: data:; script-src 'self'; connect-src 'self'; frame-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// With the editor on, the preview is framed by the editor's pages (of this origin only).
const PREVIEW_IN_EDITOR_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; \
     font-src 'self' https: data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

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
    #[error("the unsubscribe pages' labels cannot be loaded: {0}")]
    Labels(String),
    #[error("{0}")]
    Preview(String),
    #[error("{0}")]
    Edit(String),
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
    /// `[serve] edit_password_hash`: the Argon2 hash (PHC string) the editor's login checks.
    pub edit_password_hash: Option<String>,
}

/// How this run of the service is set up (the command line's options).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    /// Requests a second per client, for each budget (pages; unsubscribes).
    pub requests_per_second: u32,
    /// Serve `/preview/`.
    pub preview: bool,
    /// Serve `/edit/` (and `/preview/`, which it frames).
    pub edit: bool,
    pub timeouts: Timeouts,
}

struct App {
    settings: ServeSettings,
    key: unsubscribe::KeyWatch,
    pages: unsubscribe::PageLabels,
    limits: limit::Limits,
    preview_token: Option<preview::PreviewToken>,
    sessions: session::Sessions,
    edit: bool,
}

type Shared = Arc<App>;

/// Serves until Ctrl-C or SIGTERM.
pub fn serve(settings: ServeSettings, mut options: ServeOptions) -> Result<(), ServeError> {
    if options.edit && settings.edit_password_hash.is_none() && !options.listen.ip().is_loopback() {
        return Err(ServeError::Edit(format!(
            "--edit on {} would let anyone who can reach it change the editions: set `edit_password_hash` \
             under [serve] in the settings (`infoflash serve --hash-password` makes it), or listen on 127.0.0.1",
            options.listen
        )));
    }
    // The editor shows the preview beside its form; its sessions admit it (see `preview`).
    let edit_admits_preview = options.edit && !options.preview;
    options.preview |= options.edit;
    let preview_token = if options.preview && !edit_admits_preview {
        let token = preview::PreviewToken::from_env().map_err(ServeError::Preview)?;
        if token.is_none() && !options.listen.ip().is_loopback() {
            return Err(ServeError::Preview(format!(
                "--preview on {} would show every draft in editions/ to anyone who can reach it: \
                 set {PREVIEW_TOKEN_ENV} (16+ characters; requests then carry ?token=…), or listen on 127.0.0.1",
                options.listen
            )));
        }
        token
    } else {
        None
    };
    let key =
        unsubscribe::KeyWatch::load(&crate::state::StateDir::new(&settings.state_dir)).map_err(ServeError::Key)?;
    let pages = unsubscribe::PageLabels::load(&settings.render.templates_dir, &settings.render.network)
        .map_err(ServeError::Labels)?;
    let app = Arc::new(App {
        key,
        pages,
        limits: limit::Limits::new(options.requests_per_second.max(1)),
        preview_token,
        sessions: session::Sessions::new(settings.edit_password_hash.clone()),
        edit: options.edit,
        settings,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| ServeError::Listen {
                addr: options.listen,
                source,
            })?;
        let local = listener.local_addr()?;
        let routes = match (options.edit, options.preview) {
            (true, _) => "archive, unsubscribe, preview, edit",
            (false, true) => "archive, unsubscribe, preview",
            (false, false) => "archive, unsubscribe",
        };
        // Printed so that scripts (and tests) know the port when asked for port 0.
        println!("serving http://{local}/ ({routes}); Ctrl-C stops");
        let forget = app.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                forget.limits.forget_idle();
            }
        });
        let edit = options.edit;
        conn::serve(
            listener,
            router(app, options.preview, edit),
            options.timeouts,
            stop_signal(),
        )
        .await;
        Ok(())
    })
}

fn router(app: Shared, with_preview: bool, with_edit: bool) -> Router {
    let root = app.settings.render.out_dir.join("archive");
    let archive = move |request: axum::extract::Request| archive::answer(root.clone(), request);
    let mut router = Router::new()
        .route("/", get(|| async { Redirect::permanent("./archive/") }))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::confirm_page).post(unsubscribe::unsubscribe),
        )
        .route("/archive", get(archive.clone()))
        .route("/archive/", get(archive.clone()))
        .route("/archive/{*rest}", get(archive));
    if with_preview {
        let mut preview = Router::new()
            .route("/preview/", get(preview::list))
            .route("/preview/{edition}", get(preview::edition));
        if with_edit {
            // Without a password the editor trusts loopback; its preview shows the same
            // drafts, so a page reaching loopback under a name of its own (DNS rebinding)
            // must not read them either.
            preview = preview.layer(axum::middleware::from_fn_with_state(app.clone(), edit::loopback_only));
        }
        router = router.merge(preview);
    }
    if with_edit {
        let editor = Router::new()
            .route("/edit", get(|| async { Redirect::permanent("/edit/") }))
            .route("/edit/", get(edit::list))
            .route("/edit/login", get(edit::login_page).post(edit::login))
            .route("/edit/next", post(edit::next))
            .route("/edit/markdown", post(edit::markdown))
            .route("/edit/static/editor.js", get(edit::script))
            .route("/edit/{file}", get(edit::open).post(edit::post))
            .route("/edit/{file}/preview", post(edit::draft_preview))
            .layer(axum::middleware::from_fn_with_state(app.clone(), edit::loopback_only))
            .layer(DefaultBodyLimit::max(MAX_EDIT_BODY));
        router = router.merge(editor);
    }
    let prefix = base_path(&app.settings.render.base_url);
    let router = router
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(axum::middleware::from_fn_with_state(app.clone(), limit_rate))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(app.clone(), secure))
        .with_state(app);
    match prefix {
        // The links in the mail name base_url's path; a proxy may pass it on or strip it, so
        // the service answers both ways.
        Some(prefix) => Router::new()
            .nest_service(&prefix, router.clone())
            .fallback_service(router),
        None => router,
    }
}

/// The path of `base_url` without its last slash (`/news` for `https://example.org/news/`),
/// when it is not the root.
fn base_path(base_url: &url::Url) -> Option<String> {
    let path = base_url.path().trim_end_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

/// Adds the security headers to every response, whatever answered it (a handler, a
/// rejection, the rate limit, the fallback).
async fn secure(State(app): State<Shared>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let private = path.starts_with("/unsubscribe/") || path.starts_with("/preview/") || path.starts_with("/edit");
    let framed =
        (app.edit && path.starts_with("/preview/")) || (path.starts_with("/edit/") && path.ends_with("/preview"));
    let (policy, frame) = if framed {
        (PREVIEW_IN_EDITOR_CONTENT_SECURITY_POLICY, "SAMEORIGIN")
    } else if path.starts_with("/edit") {
        (EDIT_CONTENT_SECURITY_POLICY, "DENY")
    } else {
        (CONTENT_SECURITY_POLICY, "DENY")
    };
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Unsubscribe links carry a token (and preview links a secret): no page passes its URL on.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(frame));
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
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
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let budget = limit::Budget::of(request.uri().path());
    if !app.limits.allow(client, budget) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "too many requests",
        )
            .into_response();
    }
    next.run(request).await
}

/// A page of ours in `language` (`rtl`: written right to left).
fn page(title: &str, body: &str, language: &str, rtl: bool) -> String {
    let dir = if rtl { "rtl" } else { "ltr" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{language}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>body{{font-family:Helvetica,Arial,sans-serif;max-width:640px;margin:3em auto;padding:0 1em;color:#1f2933;line-height:1.5}}\
         form{{display:inline-block;margin:0 .5em .5em 0}}\
         button{{font-size:1rem;padding:.6em 1.4em;background:#0b5fa5;color:#fff;border:0;border-radius:4px;cursor:pointer}}\
         button.all{{background:#5c6b7a}}\
         .finding{{font-family:monospace;white-space:pre-wrap}}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n</body>\n</html>\n",
        title = handlebars::html_escape(title),
        language = handlebars::html_escape(language),
    )
}
