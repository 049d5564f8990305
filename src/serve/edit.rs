//! `/edit/` (only with `serve --edit`): the browser editor of the files in `editions/`.
//!
//! - `GET /edit/`: every edition and office overlay, newest first, with its findings count,
//!   and a button that starts the next edition (as `infoflash next`).
//! - `GET /edit/{file}`: the whole file as a form beside its preview (`/preview/`).
//! - `POST /edit/{file}`: the form's values, its draft (base64, so that no browser changes
//!   its line breaks), the hash of the file it was loaded from, the CSRF token and the button
//!   pressed. Anything but Save answers with the form of the new draft ("not saved yet");
//!   Save writes it (`edit::save`) unless the file changed on disk meanwhile (409, both
//!   versions shown) or the draft has errors (422, each beside its field).
//! - `POST /edit/markdown`: a Markdown text rendered, for the live preview of a field.
//!
//! Works without scripts; `/edit/static/editor.js` adds the live Markdown preview and
//! reordering by drag and drop. Owns these pages only: the form, the edit and the save are
//! `crate::edit`'s, the findings `check`'s.

use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{App, Shared};
use crate::diagnostics::{Report, Severity};
use crate::edit::{self, Action, EditFile, Field, FileKind, Form, Section, Shape};

/// The zones offered first: where the network's meetings are usually held.
const COMMON_ZONES: &[&str] = &[
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Mexico_City",
    "America/Santiago",
    "America/Sao_Paulo",
    "Africa/Nairobi",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Asia/Beirut",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
];

const SCRIPT: &str = include_str!("editor.js");

const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;margin:0;color:#1f2933;line-height:1.4}\
header{padding:.6em 1em;background:#0b5fa5;color:#fff}header a{color:#fff}h1{font-size:1.3em;margin:.2em 0}\
.layout{display:flex;gap:1em;padding:0 1em}.form{flex:1 1 0;min-width:0}aside{flex:0 0 44%;position:sticky;top:0;height:100vh}\
aside iframe{width:100%;height:calc(100vh - 4em);border:1px solid #c5ccd3}\
@media (max-width:900px){.layout{display:block}aside{position:static;height:auto}aside iframe{height:80vh}}\
fieldset{border:1px solid #c5ccd3;border-radius:4px;margin:1em 0;padding:.5em 1em;min-width:0}legend{font-weight:bold}\
fieldset fieldset{background:#f7f9fb}.field{margin:.5em 0}label{display:block;font-size:.9em;color:#3e4c59}\
input,textarea,select{font:inherit;width:100%;box-sizing:border-box;padding:.3em;border:1px solid #7b8794;border-radius:3px}\
textarea{min-height:6em}:focus{outline:3px solid #f0a500;outline-offset:1px}\
button{font:inherit;padding:.35em .8em;margin:.15em;border:1px solid #0b5fa5;background:#fff;color:#0b5fa5;border-radius:3px;cursor:pointer}\
button.save{background:#0b5fa5;color:#fff}.bar{position:sticky;top:0;background:#fff;padding:.4em 0;z-index:1;border-bottom:1px solid #c5ccd3}\
.sr{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}\
.finding{margin:.2em 0;padding:.2em .5em;border-left:4px solid #c0392b;background:#fdecea;white-space:pre-wrap}\
.finding.warning{border-color:#e0a100;background:#fff8e1}.status{padding:.5em 1em;margin:.5em 0;background:#e8f4fd}\
.status.bad{background:#fdecea}.md{border:1px dashed #c5ccd3;padding:.2em .6em;margin-top:.2em;font-size:.9em}\
details{margin:.4em 0}summary{cursor:pointer}pre{white-space:pre-wrap;border:1px solid #c5ccd3;padding:.5em;max-height:30em;overflow:auto}\
label.inline{display:inline;font-size:1em}select.inline{width:auto}.versions{display:flex;gap:1em}.versions>div{flex:1 1 0;min-width:0}@media (max-width:900px){.versions{display:block}}\
li.dragging{opacity:.5}";

fn escape(text: &str) -> String {
    handlebars::html_escape(text)
}

/// An editor page (its own style and script; no one else's).
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n<script src=\"/edit/static/editor.js\" defer></script>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        title = escape(title)
    )
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(page(title, body))).into_response()
}

fn forbidden(why: &str) -> Response {
    html(
        StatusCode::FORBIDDEN,
        "Not allowed",
        &format!(
            "<main><h1>Not allowed</h1><p>{}</p><p><a href=\"/edit/\">Start again</a></p></main>",
            escape(why)
        ),
    )
}

/// The request's CSRF token, opening a session first when no password is asked for (the
/// cookie to set comes with it); `None` when the editor must log in first.
fn session(app: &App, headers: &HeaderMap) -> Option<(String, Option<String>)> {
    let sessions = &app.sessions;
    if let Some(csrf) = sessions.csrf(headers) {
        return Some((csrf, None));
    }
    if sessions.needs_login() {
        return None;
    }
    let (cookie, csrf) = sessions.open();
    Some((csrf, Some(cookie)))
}

fn with_cookie(response: Response, cookie: Option<String>) -> Response {
    match cookie.and_then(|c| c.parse().ok()) {
        Some(value) => {
            let mut response = response;
            response.headers_mut().append(header::SET_COOKIE, value);
            response
        }
        None => response,
    }
}

/// Without a password, the editor answers only requests addressed to loopback by name
/// (`127.0.0.1`, `[::1]`, `localhost`): a web page whose own name is made to point at
/// 127.0.0.1 (DNS rebinding) would otherwise get a session of its own and edit the files.
pub async fn loopback_only(
    State(app): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !app.sessions.needs_login() {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        let loopback = name.eq_ignore_ascii_case("localhost")
            || name
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return forbidden("Without a password the editor answers at http://127.0.0.1 (or localhost) only.");
        }
    }
    next.run(request).await
}

/// The pairs of a form posted from the request's own session (its CSRF token checked), or
/// `None` for any other post.
fn from_session(app: &App, headers: &HeaderMap, body: &[u8]) -> Option<Vec<(String, String)>> {
    let pairs = pairs(body);
    app.sessions
        .check(headers, take(&pairs, "csrf").as_deref())
        .then_some(pairs)
}

/// What a post from another session (or an expired one) gets.
fn not_from_session() -> Response {
    forbidden("This form is not from your session (it may have expired): open the page again. Nothing was saved.")
}

/// The pairs of an urlencoded body, in order.
fn pairs(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn take(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

pub async fn login_page(State(app): State<Shared>) -> Response {
    let (cookie, token) = app.sessions.login_token();
    let page = html(
        StatusCode::OK,
        "Log in to the editor",
        &format!(
            "<main style=\"max-width:30em;margin:3em auto\"><h1>Log in to the editor</h1>\
             <form method=\"post\" action=\"/edit/login\"><input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
             <div class=\"field\"><label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required autofocus></div>\
             <button class=\"save\" type=\"submit\">Log in</button></form></main>"
        ),
    );
    with_cookie(page, Some(cookie))
}

pub async fn login(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let pairs = pairs(&body);
    // Checked before the password, so that a forged post costs no Argon2 run either.
    if !app.sessions.login_token_ok(&headers, take(&pairs, "csrf").as_deref()) {
        return forbidden("This login form is not from this browser's visit (it may be from another site): open the login page again.");
    }
    let password = take(&pairs, "password").unwrap_or_default();
    let app2 = app.clone();
    let ok = tokio::task::spawn_blocking(move || app2.sessions.password_ok(&password))
        .await
        .unwrap_or(Some(false));
    let Some(ok) = ok else {
        return html(
            StatusCode::TOO_MANY_REQUESTS,
            "Try again",
            "<main><h1>Try again in a moment</h1><p>Another login is being checked. <a href=\"/edit/login\">Log in</a></p></main>",
        );
    };
    if !ok {
        tracing::warn!("edit: a login with a wrong password");
        return forbidden("Wrong password.");
    }
    let (cookie, _) = app.sessions.open();
    with_cookie(Redirect::to("/edit/").into_response(), Some(cookie))
}

pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT).into_response()
}

pub async fn list(State(app): State<Shared>, headers: HeaderMap) -> Response {
    let Some((csrf, cookie)) = session(&app, &headers) else {
        return Redirect::to("/edit/login").into_response();
    };
    let app2 = app.clone();
    let body = tokio::task::spawn_blocking(move || list_body(&app2, &csrf))
        .await
        .unwrap_or_else(|e| escape(&e.to_string()));
    with_cookie(html(StatusCode::OK, "Editions", &body), cookie)
}

fn list_body(app: &App, csrf: &str) -> String {
    let s = &app.settings;
    let mut rows = String::new();
    for file in edit::list(&s.editions_dir, &s.edition) {
        let report = file.check(&s.edition, &s.render);
        let (errors, warnings) = (report.count(Severity::Error), report.count(Severity::Warning));
        let what = match &file.office {
            Some(o) => format!("office {o}"),
            None => "edition".into(),
        };
        let next = if file.office.is_none() {
            format!(
                "<form method=\"post\" action=\"/edit/next\" style=\"display:inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"file\" value=\"{n}\"><button type=\"submit\">Start the next edition from {n}</button></form>",
                n = escape(&file.name)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            rows,
            "<li><a href=\"/edit/{n}\">{n}</a> ({what}): <span class=\"count\">{errors} error(s), {warnings} warning(s)</span> {next}</li>",
            n = escape(&file.name)
        );
    }
    format!(
        "<header><h1>Editions</h1></header><main style=\"padding:0 1em\"><p>Every edition and office overlay in <code>editions/</code>, newest first, \
         with what <code>infoflash check</code> finds in it.</p><ul class=\"files\">\n{rows}</ul></main>"
    )
}

pub async fn next(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(pairs) = from_session(&app, &headers, &body) else {
        return not_from_session();
    };
    let name = take(&pairs, "file").unwrap_or_default();
    let app2 = app.clone();
    let made = tokio::task::spawn_blocking(move || {
        let s = &app2.settings;
        let file = EditFile::resolve(&s.editions_dir, &name, &s.edition).ok_or_else(|| format!("no edition {name}"))?;
        edit::start_next(&file, &s.edition, &s.render)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match made {
        Ok(path) => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            Redirect::to(&format!("/edit/{stem}")).into_response()
        }
        Err(why) => html(
            StatusCode::CONFLICT,
            "No next edition",
            &format!(
                "<main><h1>No next edition</h1><pre>{}</pre><p><a href=\"/edit/\">All editions</a></p></main>",
                escape(&why)
            ),
        ),
    }
}

pub async fn markdown(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(pairs) = from_session(&app, &headers, &body) else {
        return not_from_session();
    };
    let text = take(&pairs, "text").unwrap_or_default();
    // Up to the body limit of Markdown: parsed off the async threads, like every other page.
    let html = tokio::task::spawn_blocking(move || crate::markdown::to_html(&text))
        .await
        .unwrap_or_default();
    Html(html).into_response()
}

pub async fn open(State(app): State<Shared>, UrlPath(name): UrlPath<String>, headers: HeaderMap) -> Response {
    let Some((csrf, cookie)) = session(&app, &headers) else {
        return Redirect::to("/edit/login").into_response();
    };
    let app2 = app.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let s = &app2.settings;
        let Some(file) = EditFile::resolve(&s.editions_dir, &name, &s.edition) else {
            return html(
                StatusCode::NOT_FOUND,
                "Not found",
                "<main><p>No such file in editions/.</p></main>",
            );
        };
        let text = match std::fs::read_to_string(&file.path) {
            Ok(t) => t,
            Err(e) => return html(StatusCode::INTERNAL_SERVER_ERROR, "Error", &escape(&e.to_string())),
        };
        let report = file.check(&s.edition, &s.render);
        let view = View {
            app: &app2,
            file: &file,
            csrf: &csrf,
            base: &edit::hash(&text),
            status: ("", false),
        };
        view.answer(StatusCode::OK, &text, &report)
    })
    .await
    .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response());
    with_cookie(answer, cookie)
}

/// The controls every editor form carries; everything else it sends is a field.
const CONTROLS: [&str; 5] = ["csrf", "base", "draft", "action", "preview_lang"];

/// The draft an editor form carries (base64, decoded), if it is one, and its fields.
fn draft_and_values(pairs: &[(String, String)]) -> (Option<String>, Vec<(String, String)>) {
    use base64::Engine as _;
    let draft = take(pairs, "draft")
        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .and_then(|d| String::from_utf8(d).ok());
    let values = pairs
        .iter()
        .filter(|(k, _)| !CONTROLS.contains(&k.as_str()))
        .cloned()
        .collect();
    (draft, values)
}

pub async fn post(
    State(app): State<Shared>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(pairs) = from_session(&app, &headers, &body) else {
        return not_from_session();
    };
    let csrf = take(&pairs, "csrf").unwrap_or_default();
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || submit(&app2, &name, &csrf, &pairs))
        .await
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

fn submit(app: &App, name: &str, csrf: &str, pairs: &[(String, String)]) -> Response {
    let s = &app.settings;
    let Some(file) = EditFile::resolve(&s.editions_dir, name, &s.edition) else {
        return html(
            StatusCode::NOT_FOUND,
            "Not found",
            "<main><p>No such file in editions/.</p></main>",
        );
    };
    let base = take(pairs, "base").unwrap_or_default();
    let (draft, values) = draft_and_values(pairs);
    let Some(draft) = draft else {
        return html(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<main><p>The form has no draft.</p></main>",
        );
    };
    let action_text = take(pairs, "action").unwrap_or_else(|| "update".into());
    let saving = action_text == "save";
    let new = action_text
        .parse::<Action>()
        .and_then(|action| edit::apply(&draft, &values, &action));
    let new = match new {
        Ok(new) => new,
        Err(e) => {
            let v = View {
                app,
                file: &file,
                csrf,
                base: &base,
                status: (&format!("Not applied: {e}. Nothing was saved."), true),
            };
            return v.answer(StatusCode::UNPROCESSABLE_ENTITY, &draft, &Report::new());
        }
    };
    if !saving {
        let report = file.check_draft(&new, &s.edition, &s.render);
        let v = View {
            app,
            file: &file,
            csrf,
            base: &base,
            status: ("Not saved yet: press Save to write the file.", false),
        };
        return v.answer(StatusCode::OK, &new, &report);
    }
    // A refused save answers with the form as it was posted, its draft and the reason.
    let not_saved = |status: StatusCode, why: &str, report: &Report| {
        let v = View {
            app,
            file: &file,
            csrf,
            base: &base,
            status: (why, true),
        };
        v.answer(status, &new, report)
    };
    match edit::save(&file.path, &base, &new, |t| file.validate(t, &s.edition).map(|_| ())) {
        Ok(()) => {
            tracing::info!("edit: saved {}", file.path.display());
            let report = file.check(&s.edition, &s.render);
            let v = View {
                app,
                file: &file,
                csrf,
                base: &edit::hash(&new),
                status: ("Saved.", false),
            };
            v.answer(StatusCode::OK, &new, &report)
        }
        Err(edit::SaveRefused::Conflict { on_disk }) => conflict(&file, &on_disk, &new),
        Err(edit::SaveRefused::Invalid(report)) => {
            let n = report.count(Severity::Error);
            let why = format!("Not saved: {n} error(s), shown beside their fields. The file is unchanged.");
            not_saved(StatusCode::UNPROCESSABLE_ENTITY, &why, &report)
        }
        // The form comes back with the draft in it: a file that cannot be written (a full
        // disk, a permission) must not cost the editor their changes.
        Err(edit::SaveRefused::Io(e)) => {
            tracing::warn!("edit: cannot save {}: {e}", file.path.display());
            let why = format!("Not saved: the file cannot be written ({e}). Your changes are still in this form: fix the cause and press Save again.");
            not_saved(StatusCode::INTERNAL_SERVER_ERROR, &why, &Report::new())
        }
    }
}

/// `POST /edit/{file}/preview`: the draft with the form's values, previewed in the editor's
/// frame as `/preview/` shows a saved file (the "Preview the draft" button, and the script's
/// live refresh). Writes nothing in `editions/`.
pub async fn draft_preview(
    State(app): State<Shared>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(pairs) = from_session(&app, &headers, &body) else {
        return not_from_session();
    };
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || {
        let s = &app2.settings;
        let Some(file) = EditFile::resolve(&s.editions_dir, &name, &s.edition) else {
            return html(
                StatusCode::NOT_FOUND,
                "Not found",
                "<main><p>No such file in editions/.</p></main>",
            );
        };
        let (draft, values) = draft_and_values(&pairs);
        // Without the form's draft there is nothing to preview (an empty one would show an
        // edition that does not exist).
        let Some(draft) = draft else {
            return html(
                StatusCode::BAD_REQUEST,
                "Preview",
                "<main><p>This preview needs the form's draft: open the file again.</p></main>",
            );
        };
        let text = match edit::apply(&draft, &values, &Action::Update) {
            Ok(text) => text,
            Err(e) => return html(StatusCode::UNPROCESSABLE_ENTITY, "Preview", &escape(&e.to_string())),
        };
        let language = take(&pairs, "preview_lang").filter(|l| !l.is_empty());
        let office = file.office.as_ref().map(|o| o.to_string());
        let rendered = file.with_draft(&text, |dir| {
            // The findings name the files where they are, not the temporary copies.
            super::preview::draft(&app2, dir, &file.edition, language, office)
                .map(|page| page.replace(&dir.display().to_string(), &s.editions_dir.display().to_string()))
        });
        match rendered {
            Ok(Ok(page)) => Html(page).into_response(),
            Ok(Err((status, message))) => html(status, "Preview", &message),
            Err(e) => html(StatusCode::INTERNAL_SERVER_ERROR, "Preview", &escape(&e.to_string())),
        }
    })
    .await
    .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

fn conflict(file: &EditFile, on_disk: &str, yours: &str) -> Response {
    let body = format!(
        "<header><h1>Not saved: {n} changed on disk</h1></header><main style=\"padding:0 1em\">\
         <p class=\"status bad\" role=\"alert\">Someone (or something) changed <code>{path}</code> since you opened it. \
         Nothing was overwritten. Copy what you need from your version, then \
         <a href=\"/edit/{n}\">open the file as it is now</a>.</p>\
         <div class=\"versions\"><div><h2>On disk now</h2><pre id=\"on-disk\">{disk}</pre></div>\
         <div><h2>Yours (not saved)</h2><pre id=\"yours\">{yours}</pre></div></div></main>",
        n = escape(&file.name),
        path = escape(&file.path.display().to_string()),
        disk = escape(on_disk),
        yours = escape(yours),
    );
    html(StatusCode::CONFLICT, "Conflict", &body)
}

/// What a form page shows besides the draft.
struct View<'a> {
    app: &'a App,
    file: &'a EditFile,
    csrf: &'a str,
    base: &'a str,
    /// A message and whether it is bad news.
    status: (&'a str, bool),
}

impl View<'_> {
    fn answer(&self, status: StatusCode, text: &str, report: &Report) -> Response {
        let settings = &self.app.settings.edition;
        let (main, languages) = self.file.languages(text, settings);
        match Form::build(text, self.file.kind(), &main, &languages) {
            Ok(form) => html(
                status,
                &format!("Edit {}", self.file.name),
                &self.form_page(&form, text, report),
            ),
            Err(e) => html(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Cannot edit",
                &format!(
                    "<main><h1>{} cannot be edited here</h1><p>{}</p><pre>{}</pre></main>",
                    escape(&self.file.name),
                    escape(&e.to_string()),
                    escape(text)
                ),
            ),
        }
    }

    fn form_page(&self, form: &Form, text: &str, report: &Report) -> String {
        use base64::Engine as _;
        // Each finding goes to its field (or table), else to the summary.
        let mut placed: std::collections::HashMap<String, Vec<(Severity, String)>> = Default::default();
        let mut summary = Vec::new();
        for d in report.iter() {
            let here = d.file == self.file.path;
            match d.line.filter(|_| here).and_then(|l| form.place(l)) {
                Some(path) => placed.entry(path).or_default().push((d.severity, d.message.clone())),
                None => summary.push(d),
            }
        }
        let errors = report.count(Severity::Error);
        let warnings = report.count(Severity::Warning);
        let mut out = String::new();
        let n = escape(&self.file.name);
        let _ = write!(
            out,
            "<header><h1>Editing {n}</h1><a href=\"/edit/\">All editions</a> · <a href=\"{preview}\" target=\"preview\">preview</a></header>",
            preview = self.preview_src(None)
        );
        let (message, bad) = self.status;
        let _ = write!(out, "<div class=\"layout\"><div class=\"form\">");
        if !message.is_empty() {
            let _ = write!(
                out,
                "<p class=\"status{}\" role=\"status\" id=\"status\">{}</p>",
                if bad { " bad" } else { "" },
                escape(message)
            );
        }
        let _ = write!(
            out,
            "<section id=\"summary\" aria-label=\"Findings\"><p><strong>check: {errors} error(s), {warnings} warning(s)</strong>{}</p>",
            if errors + warnings > 0 { " — each shown beside its field" } else { "" }
        );
        for d in &summary {
            let _ = write!(
                out,
                "<p class=\"finding {}\">{}</p>",
                d.severity,
                escape(&d.to_string())
            );
        }
        // The others, each a link to its field (or table), for a page read without scripts.
        let mut beside: Vec<(&String, &Vec<(Severity, String)>)> = placed.iter().collect();
        beside.sort_by_key(|(path, _)| form.fields().position(|f| &f.path == *path).unwrap_or(usize::MAX));
        if !beside.is_empty() {
            out += "<ul class=\"beside\">";
            for (path, list) in beside {
                let target = if form.fields().any(|f| &f.path == path) {
                    "f"
                } else {
                    "s"
                };
                for (severity, message) in list {
                    let _ = write!(
                        out,
                        "<li>{severity}: <a href=\"#{target}-{p}\">{p}</a>: {m}</li>",
                        p = escape(path),
                        m = escape(message)
                    );
                }
            }
            out += "</ul>";
        }
        out += "</section>";
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/edit/{n}\" id=\"editor\">\
             <button type=\"submit\" name=\"action\" value=\"update\" class=\"sr\" tabindex=\"-1\">Update</button>\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"base\" value=\"{base}\">\
             <input type=\"hidden\" name=\"draft\" value=\"{draft}\">\
             <div class=\"bar\"><button type=\"submit\" name=\"action\" value=\"save\" class=\"save\">Save</button>\
             <button type=\"submit\" name=\"action\" value=\"update\">Check the draft</button>\
             <button type=\"submit\" name=\"action\" value=\"update\" formaction=\"/edit/{n}/preview\" formtarget=\"preview\" id=\"preview-draft\">Preview the draft</button>\
             <label class=\"inline\" for=\"preview-lang\">in</label> <select id=\"preview-lang\" name=\"preview_lang\" class=\"inline\">{langs}</select></div>",
            langs = form
                .languages
                .iter()
                .map(|l| format!("<option value=\"{l}\">{l}</option>", l = escape(l)))
                .collect::<String>(),
            csrf = escape(self.csrf),
            base = escape(self.base),
            draft = base64::engine::general_purpose::STANDARD.encode(text),
        );
        let head = match form.kind {
            FileKind::Edition => "Edition",
            FileKind::Overlay => "Office",
        };
        self.section(&mut out, form, &form.head, head, &placed, None);
        out += "<h2>Items</h2><ol class=\"items\">";
        let count = form.items.len();
        for (i, item) in form.items.iter().enumerate() {
            let title = item
                .fields
                .iter()
                .find(|f| f.key == "title")
                .map(|f| f.value.clone())
                .unwrap_or_default();
            let legend = format!("{} — {}", item.kind.as_deref().unwrap_or("item"), title);
            let _ = write!(out, "<li data-index=\"{i}\">");
            self.section(&mut out, form, item, &legend, &placed, Some((i, count)));
            out += "</li>";
        }
        out += "</ol><fieldset><legend>Add an item</legend>";
        for kind in edit::KINDS {
            let _ = write!(
                out,
                "<button type=\"submit\" name=\"action\" value=\"add-item:{kind}\">Add {kind}</button>"
            );
        }
        out += "</fieldset>";
        if let Some(days) = &form.days {
            self.section(&mut out, form, days, "International days", &placed, None);
        }
        out += "<div class=\"bar\"><button type=\"submit\" name=\"action\" value=\"save\" class=\"save\">Save</button></div></form>";
        out += &self.datalists();
        let _ = write!(out, "</div><aside aria-label=\"Preview\"><p>The email as saved, in");
        for l in &form.languages {
            let _ = write!(
                out,
                " <a href=\"{}\" target=\"preview\">{}</a>",
                self.preview_src(Some(l)),
                escape(l)
            );
        }
        let _ = write!(
            out,
            "</p><iframe name=\"preview\" title=\"The email\" src=\"{}\"></iframe></aside></div>",
            self.preview_src(None)
        );
        out
    }

    fn preview_src(&self, language: Option<&str>) -> String {
        let mut query = Vec::new();
        if let Some(l) = language {
            query.push(format!("lang={}", escape(l)));
        }
        if let Some(o) = &self.file.office {
            query.push(format!("office={o}"));
        }
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&amp;"))
        };
        format!("/preview/{}{query}", self.file.edition)
    }

    fn datalists(&self) -> String {
        let mut out = String::from("<datalist id=\"zones\">");
        for z in COMMON_ZONES {
            let _ = write!(out, "<option value=\"{z}\">");
        }
        for z in chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()) {
            if !COMMON_ZONES.contains(&z) {
                let _ = write!(out, "<option value=\"{z}\">");
            }
        }
        out += "</datalist><datalist id=\"languages\">";
        let network = &self.app.settings.edition.network;
        for l in &network.languages {
            let _ = write!(out, "<option value=\"{l}\">");
        }
        out += "</datalist><datalist id=\"regions\">";
        for r in network.regions.keys() {
            let _ = write!(out, "<option value=\"{r}\">");
        }
        out += "</datalist>";
        out
    }

    fn section(
        &self,
        out: &mut String,
        form: &Form,
        section: &Section,
        legend: &str,
        placed: &std::collections::HashMap<String, Vec<(Severity, String)>>,
        item: Option<(usize, usize)>,
    ) {
        let _ = write!(
            out,
            "<fieldset id=\"s-{p}\"><legend>{legend}</legend>",
            p = escape(&section.path),
            legend = escape(legend)
        );
        if let Some((i, count)) = item {
            if i > 0 {
                let _ = write!(
                    out,
                    "<button type=\"submit\" name=\"action\" value=\"up:{i}\">Move up</button>"
                );
            }
            if i + 1 < count {
                let _ = write!(
                    out,
                    "<button type=\"submit\" name=\"action\" value=\"down:{i}\">Move down</button>"
                );
            }
            let _ = write!(
                out,
                "<button type=\"submit\" name=\"action\" value=\"remove-item:{i}\">Remove this item</button>"
            );
        }
        findings(out, placed.get(&section.path), &section.path);
        for f in &section.fields {
            self.field(out, f, placed, Some(form.main.as_str()));
        }
        for (language, fields) in &section.translations {
            let has = fields.iter().any(|f| f.present);
            let errs = fields.iter().any(|f| placed.contains_key(&f.path));
            let _ = write!(
                out,
                "<details{open} lang=\"{l}\"{dir}><summary>{l} translation{state}</summary>",
                open = if errs { " open" } else { "" },
                l = escape(language),
                dir = if rtl(language) { " dir=\"rtl\"" } else { "" },
                state = if has { "" } else { " (none yet)" },
            );
            for f in fields {
                self.field(out, f, placed, Some(language.as_str()));
            }
            out.push_str("</details>");
        }
        for child in &section.children {
            let noun = child.noun;
            let index = child.path.rsplit('.').next().unwrap_or("0");
            let number = index.parse::<usize>().map_or(1, |n| n + 1);
            let _ = write!(out, "<div class=\"child\">");
            let mut inner = String::new();
            self.section(&mut inner, form, child, &format!("{noun} {number}"), placed, None);
            // The remove button goes inside the child's fieldset, after its legend.
            let button = format!(
                "<button type=\"submit\" name=\"action\" value=\"remove:{p}\">Remove this {noun}</button>",
                p = escape(&child.path)
            );
            if let Some(at) = inner.find("</legend>") {
                inner.insert_str(at + "</legend>".len(), &button);
            }
            out.push_str(&inner);
            out.push_str("</div>");
        }
        for (path, noun) in &section.adds {
            let _ = write!(
                out,
                "<button type=\"submit\" name=\"action\" value=\"add:{p}\">Add a {noun}</button>",
                p = escape(path)
            );
        }
        out.push_str("</fieldset>");
    }

    fn field(
        &self,
        out: &mut String,
        f: &Field,
        placed: &std::collections::HashMap<String, Vec<(Severity, String)>>,
        language: Option<&str>,
    ) {
        let id = format!("f-{}", f.path);
        let name = escape(&f.path);
        let value = escape(&f.value);
        let label = escape(&f.key.replace('_', " "));
        let described = if placed.contains_key(&f.path) {
            format!(" aria-describedby=\"e-{name}\" aria-invalid=\"true\"")
        } else {
            String::new()
        };
        // Prose fields are typed in their language: a right-to-left one (Arabic, Persian,
        // Hebrew, Urdu) must be typed right to left, and `lang` picks the spell checker.
        let dir = match language.filter(|_| matches!(f.shape, Shape::Text | Shape::Markdown)) {
            Some(l) if rtl(l) => format!(" dir=\"rtl\" lang=\"{}\"", escape(l)),
            Some(l) => format!(" lang=\"{}\"", escape(l)),
            None => String::new(),
        };
        let _ = write!(
            out,
            "<div class=\"field\"><label for=\"{id}\">{label}</label>",
            id = escape(&id)
        );
        let input = |kind: &str, extra: &str| {
            format!(
                "<input type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{value}\"{extra}{described}{dir}>",
                id = escape(&id)
            )
        };
        let select = |options: &[&str]| {
            let mut s = format!("<select id=\"{id}\" name=\"{name}\"{described}>", id = escape(&id));
            let mut options: Vec<&str> = options.to_vec();
            if !options.contains(&f.value.as_str()) {
                options.insert(0, &f.value);
            }
            for o in options {
                let selected = if o == f.value { " selected" } else { "" };
                let _ = write!(s, "<option value=\"{v}\"{selected}>{v}</option>", v = escape(o));
            }
            s + "</select>"
        };
        let multiline = f.value.contains('\n');
        let html = match f.shape {
            Shape::Markdown => {
                // `to_html` sanitises already, as the email does.
                let preview = crate::markdown::to_html(&f.value);
                format!(
                    "<textarea id=\"{id}\" name=\"{name}\" rows=\"6\" data-markdown{described}{dir}>\n{value}</textarea>\
                     <div class=\"md\" id=\"md-{name}\" aria-live=\"polite\"{dir}>{preview}</div>",
                    id = escape(&id)
                )
            }
            _ if multiline => format!(
                "<textarea id=\"{id}\" name=\"{name}\" rows=\"3\"{described}{dir}>\n{value}</textarea>",
                id = escape(&id)
            ),
            Shape::Date => input("text", " placeholder=\"2026-01-20\" inputmode=\"numeric\""),
            Shape::Time => input("text", " placeholder=\"14:30 (24-hour clock)\""),
            Shape::Zone => input(
                "text",
                " list=\"zones\" placeholder=\"Europe/Paris\" autocomplete=\"off\"",
            ),
            Shape::Language => input("text", " list=\"languages\" placeholder=\"en\""),
            Shape::Languages => input("text", " placeholder=\"en, fr\""),
            Shape::Region => input("text", " list=\"regions\""),
            Shape::Regions => input("text", " placeholder=\"africa, asia-pacific\""),
            Shape::Number => input("text", " inputmode=\"numeric\""),
            Shape::Url => input("text", " inputmode=\"url\" placeholder=\"https://…\""),
            Shape::Email => input("text", " inputmode=\"email\""),
            Shape::Bool => select(&["", "true", "false"]),
            Shape::Kind => select(&edit::KINDS),
            Shape::CallFor => select(&["", "participation", "partners"]),
            Shape::Text | Shape::List => input("text", ""),
        };
        out.push_str(&html);
        findings(out, placed.get(&f.path), &f.path);
        out.push_str("</div>");
    }
}

/// Whether a language code of the form (as written in the file) is written right to left.
fn rtl(language: &str) -> bool {
    language
        .parse::<crate::types::Language>()
        .is_ok_and(|l| l.is_right_to_left())
}

fn findings(out: &mut String, list: Option<&Vec<(Severity, String)>>, path: &str) {
    let Some(list) = list else { return };
    let _ = write!(out, "<div id=\"e-{}\" class=\"findings\">", escape(path));
    for (severity, message) in list {
        let _ = write!(
            out,
            "<p class=\"finding {severity}\" role=\"alert\">{severity}: {}</p>",
            escape(message)
        );
    }
    out.push_str("</div>");
}
