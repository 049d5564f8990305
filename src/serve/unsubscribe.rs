//! `/unsubscribe/{token}`: the confirmation page (`GET`, which never unsubscribes: mail
//! scanners follow links) and the one-click unsubscribe (`POST`, RFC 8058), in the reader's
//! language.
//!
//! A message from an office's list unsubscribes from that office's mail only (a suppression
//! entry scoped to the office); the page also offers to stop all Info Flash mail. A message
//! from the international team stops everything. The body is `List-Unsubscribe=One-Click`,
//! urlencoded or as a `multipart/form-data` field (both are RFC 8058 §3.1 forms), plus
//! `scope=all` from the page's second button. Each unsubscribe is logged once, the address
//! as a keyed hash. The token key is read again when its file changes. A proof's token
//! (`send --test`) gets a page that says it is a proof, and changes nothing.
//!
//! Owns these pages and the key's reloading; the tokens are `deliver::unsubscribe`'s and the
//! list is `audience::suppression`'s. It must not show or log an address.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::{page, Shared};
use crate::deliver::unsubscribe::{Key, Unsubscriber, KEY_ENV};
use crate::render::i18n::Labels;
use crate::types::{Language, Network, OfficeId};

/// The one pair a one-click unsubscribe carries (RFC 8058).
const ONE_CLICK: (&str, &str) = ("List-Unsubscribe", "One-Click");

/// The page labels, embedded; a project may override them in `templates/pages/`.
const EMBEDDED: &[(&str, &str)] = &[
    ("en", include_str!("../../templates/pages/en.toml")),
    ("fr", include_str!("../../templates/pages/fr.toml")),
    ("es", include_str!("../../templates/pages/es.toml")),
    ("ar", include_str!("../../templates/pages/ar.toml")),
    ("ru", include_str!("../../templates/pages/ru.toml")),
    ("zh", include_str!("../../templates/pages/zh.toml")),
];

/// The unsubscribe pages' labels in each language there is a table for.
pub struct PageLabels {
    tables: Vec<(Language, Labels)>,
    /// The language a reader gets when neither their token nor their browser names one of ours.
    fallback: Language,
}

impl PageLabels {
    /// The embedded tables, each replaced by `templates_dir/pages/<code>.toml` when that
    /// exists; every table must have the English one's keys. Also a table for each
    /// configured language that has none is an error, so that no reader gets a page in a
    /// language nobody chose for them.
    pub fn load(templates_dir: &Path, network: &Network) -> Result<PageLabels, String> {
        let read = |code: &str, embedded: Option<&str>| -> Result<Option<(PathBuf, String)>, String> {
            let path = templates_dir.join("pages").join(format!("{code}.toml"));
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some((path, text))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Ok(embedded.map(|t| (PathBuf::from(format!("templates/pages/{code}.toml")), t.to_string())))
                }
                Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            }
        };
        let parse = |path: &Path, text: &str, reference: Option<&Labels>| {
            Labels::parse(text, path, reference).map_err(|e| e.to_string())
        };
        let (en_path, en_text) = read("en", Some(EMBEDDED[0].1))?.unwrap_or_default();
        let english = parse(&en_path, &en_text, None)?;
        let mut codes: Vec<&str> = EMBEDDED.iter().map(|(code, _)| *code).collect();
        codes.extend(network.languages.iter().map(Language::as_str));
        codes.sort_unstable();
        codes.dedup();
        let mut tables = Vec::new();
        for code in codes {
            let embedded = EMBEDDED.iter().find(|(c, _)| *c == code).map(|(_, t)| *t);
            let Some((path, text)) = read(code, embedded)? else {
                return Err(format!(
                    "no unsubscribe page labels for `{code}`: create templates/pages/{code}.toml with the keys of templates/pages/en.toml"
                ));
            };
            let language: Language = code.parse().map_err(|e| format!("{}: {e}", path.display()))?;
            tables.push((language, parse(&path, &text, Some(&english))?));
        }
        let fallback = network.fallback_language.clone();
        Ok(PageLabels { tables, fallback })
    }

    /// The reader's language: the token's, else the first of the browser's that we have,
    /// else the sending office's, else the fallback.
    fn choose(
        &self,
        token: Option<&Language>,
        accept: Option<&str>,
        office: Option<&Language>,
    ) -> (&Language, &Labels) {
        let from_browser = accept.into_iter().flat_map(accepted).find_map(|code| {
            self.tables
                .iter()
                .find(|(l, _)| l.as_str().eq_ignore_ascii_case(&code))
                .map(|(l, _)| l.clone())
        });
        let candidates = [
            token.cloned(),
            from_browser,
            office.cloned(),
            Some(self.fallback.clone()),
        ];
        for language in candidates.into_iter().flatten() {
            if let Some((l, t)) = self.tables.iter().find(|(l, _)| *l == language) {
                return (l, t);
            }
        }
        let (l, t) = &self.tables[0];
        (l, t)
    }
}

/// The primary language codes of an `Accept-Language` header, most wanted first.
fn accepted(header: &str) -> Vec<String> {
    let mut ranked: Vec<(u32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next()?.to_ascii_lowercase();
            // Weights are at most three decimals (RFC 9110): thousandths compare exactly.
            let weight = (weight.clamp(0.0, 1.0) * 1000.0).round() as u32;
            (weight > 0 && !primary.is_empty() && primary != "*").then_some((weight, i, primary))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, code)| code).collect()
}

/// The token key, read again when its file changes (at most once a second): a key rotated
/// on disk takes effect without a restart, and the log says so. A key from
/// `INFOFLASH_UNSUBSCRIBE_KEY` is fixed for the life of the process.
pub struct KeyWatch {
    current: RwLock<Key>,
    file: Option<PathBuf>,
    stamp: Mutex<(Option<Stamp>, Instant)>,
}

/// What tells a changed file: its inode (a key replaced by rename), modification time and
/// length.
type Stamp = (u64, std::time::SystemTime, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, meta.modified().ok()?, meta.len()))
}

impl KeyWatch {
    const EVERY: Duration = Duration::from_secs(1);

    pub fn load(state: &crate::state::StateDir) -> Result<KeyWatch, String> {
        let key = Key::load(state)?;
        let file = std::env::var_os(KEY_ENV)
            .is_none()
            .then(|| state.unsubscribe_key_file());
        let now = file.as_deref().and_then(stamp);
        Ok(KeyWatch {
            current: RwLock::new(key),
            file,
            stamp: Mutex::new((now, Instant::now())),
        })
    }

    /// The key now.
    pub fn key(&self) -> Key {
        self.refresh();
        match self.current.read() {
            Ok(key) => key.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn refresh(&self) {
        let Some(file) = &self.file else { return };
        let Ok(mut seen) = self.stamp.lock() else { return };
        if seen.1.elapsed() < Self::EVERY {
            return;
        }
        seen.1 = Instant::now();
        let now = stamp(file);
        if now == seen.0 {
            return;
        }
        seen.0 = now;
        // Read as is, never made anew: a key file that went missing keeps the key we have,
        // since a new key would void every link already mailed.
        match std::fs::read(file) {
            Ok(bytes) if bytes.len() >= 16 => {
                if let Ok(mut key) = self.current.write() {
                    *key = Key::from_bytes(&bytes);
                }
                tracing::warn!("the unsubscribe key file {} changed: tokens are now checked with the new key", file.display());
            }
            Ok(_) => tracing::error!(
                "the unsubscribe key file {} changed and is shorter than 16 bytes: still using the previous key; write a key of 32 random bytes",
                file.display()
            ),
            Err(e) => tracing::error!(
                "the unsubscribe key file {} changed and cannot be read ({e}): still using the previous key",
                file.display()
            ),
        }
    }
}

/// What the reader asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The mail of the office named in the token (the international team's: everything).
    Sender,
    /// All Info Flash mail (`scope=all`).
    All,
}

/// The fields of a form body, urlencoded or `multipart/form-data`; `None` when the body is
/// neither.
fn form_fields(headers: &HeaderMap, body: &[u8]) -> Option<Vec<(String, String)>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media == "multipart/form-data" {
        let boundary = content_type.split(';').skip(1).find_map(|p| {
            let (name, value) = p.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_string())
        })?;
        return multipart_fields(body, &boundary);
    }
    let text = std::str::from_utf8(body).ok()?;
    Some(
        url::form_urlencoded::parse(text.trim().as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
    )
}

/// The named text fields of a `multipart/form-data` body (RFC 7578); `None` when it is not
/// one. Bodies here are at most a kilobyte, so the whole body is at hand.
fn multipart_fields(body: &[u8], boundary: &str) -> Option<Vec<(String, String)>> {
    if boundary.is_empty() || boundary.len() > 70 {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let delimiter = format!("--{boundary}");
    let mut parts = text.split(delimiter.as_str());
    // Before the first delimiter: a preamble, ignored.
    parts.next()?;
    let mut fields = Vec::new();
    let mut closed = false;
    for part in parts {
        if part.starts_with("--") {
            closed = true;
            break;
        }
        let part = part.strip_prefix("\r\n").or_else(|| part.strip_prefix('\n'))?;
        let (head, value) = part.split_once("\r\n\r\n").or_else(|| part.split_once("\n\n"))?;
        let value = value
            .strip_suffix("\r\n")
            .or_else(|| value.strip_suffix('\n'))
            .unwrap_or(value);
        let name = head.lines().find_map(|line| {
            let (field, rest) = line.split_once(':')?;
            if !field.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            rest.split(';').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_string())
            })
        })?;
        fields.push((name, value.to_string()));
    }
    closed.then_some(fields)
}

/// The scope a one-click body asks for; `None` when it is not a one-click body.
fn one_click(headers: &HeaderMap, body: &[u8]) -> Option<Scope> {
    let fields = form_fields(headers, body)?;
    fields
        .iter()
        .any(|(n, v)| n == ONE_CLICK.0 && v.trim() == ONE_CLICK.1)
        .then_some(())?;
    let all = fields.iter().any(|(n, v)| n == "scope" && v == "all");
    Some(if all { Scope::All } else { Scope::Sender })
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The page's words in `labels`, `{office}` filled in, escaped for HTML.
fn say(labels: &Labels, key: &str, office: &str) -> String {
    handlebars::html_escape(&labels.get(key).replace("{office}", office))
}

struct Reader<'a> {
    language: &'a Language,
    labels: &'a Labels,
    /// The sending office's name, for the pages.
    office_name: Option<String>,
}

impl<'a> Reader<'a> {
    fn of(app: &'a super::App, who: Option<&Unsubscriber>, headers: &HeaderMap) -> Reader<'a> {
        let office = who
            .and_then(|w| w.office.as_ref())
            .and_then(|id| app.settings.render.network.offices.get(id));
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let (language, labels) = app.pages.choose(
            who.and_then(|w| w.language.as_ref()),
            accept,
            office.map(|o| &o.language),
        );
        let office_name = office.map(|o| o.names.name_in(language).to_string());
        Reader {
            language,
            labels,
            office_name,
        }
    }

    fn office(&self) -> String {
        self.office_name
            .clone()
            .unwrap_or_else(|| self.labels.get("international_team").to_string())
    }

    fn page(&self, title_key: &str, body: &str) -> String {
        page(
            self.labels.get(title_key),
            body,
            self.language.as_str(),
            self.labels.get("dir") == "rtl",
        )
    }

    fn paragraph(&self, key: &str) -> String {
        format!("<p>{}</p>", say(self.labels, key, &self.office()))
    }

    /// The answer to a proof's token (`send --test`), to the page and to a one-click alike:
    /// it says so and changes nothing. 200, so that a mail program's one-click does not retry.
    fn proof(&self) -> Response {
        Html(self.page("proof_title", &self.paragraph("proof_text"))).into_response()
    }

    fn refused(&self) -> Response {
        let body = self.paragraph("invalid_text");
        (StatusCode::FORBIDDEN, Html(self.page("invalid_title", &body))).into_response()
    }
}

/// The token of the path; `None` (a 404) when the path segment is not text.
fn token_of(path: Result<UrlPath<String>, axum::extract::rejection::PathRejection>) -> Option<String> {
    path.ok().map(|UrlPath(token)| token)
}

pub async fn confirm_page(
    State(app): State<Shared>,
    path: Result<UrlPath<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = token_of(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let who = app.key.key().verify(&token, today());
    let reader = Reader::of(&app, who.as_ref(), &headers);
    let Some(who) = who else {
        return reader.refused();
    };
    if who.proof {
        return reader.proof();
    }
    let office = reader.office();
    let form = |extra: &str, label: &str, class: &str| {
        format!(
            // No action: the form posts to the page's own address, whatever path base_url puts
            // the service under.
            "<form method=\"post\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">{extra}\
             <button type=\"submit\" class=\"{class}\">{}</button></form>\n",
            say(reader.labels, label, &office)
        )
    };
    let body = if who.office.is_some() {
        format!(
            "{}\n{}{}",
            reader.paragraph("confirm_office_text"),
            form("", "button_office", "office"),
            form(
                "<input type=\"hidden\" name=\"scope\" value=\"all\">",
                "button_all",
                "all"
            )
        )
    } else {
        format!("{}\n{}", reader.paragraph("confirm_text"), form("", "button", "all"))
    };
    Html(reader.page("confirm_title", &body)).into_response()
}

pub async fn unsubscribe(
    State(app): State<Shared>,
    path: Result<UrlPath<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(token) = token_of(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let Some(scope) = one_click(&headers, &body) else {
        return (
            StatusCode::BAD_REQUEST,
            "the body must be `List-Unsubscribe=One-Click` (RFC 8058), urlencoded or as a multipart/form-data field",
        )
            .into_response();
    };
    let key = app.key.key();
    let who = key.verify(&token, today());
    let reader = Reader::of(&app, who.as_ref(), &headers);
    let Some(who) = who else {
        tracing::info!("refused an unsubscribe with an invalid token");
        return reader.refused();
    };
    if who.proof {
        tracing::info!("a proof's unsubscribe link was used: nothing changed");
        return reader.proof();
    }
    // Only an office's list can be left alone; from the international team it is everything.
    let only: Option<OfficeId> = match scope {
        Scope::All => None,
        Scope::Sender => who.office.clone(),
    };
    let reason = match (&who.office, &only) {
        (None, _) => "unsubscribed (one-click)".to_string(),
        (Some(office), Some(_)) => format!("unsubscribed (one-click) from the {office} office's mail"),
        (Some(office), None) => format!("unsubscribed (one-click) from all mail, via the {office} office"),
    };
    let pseudonym = key.pseudonym(&who.address);
    let path = app.settings.suppression.clone();
    let (address, scoped) = (who.address.clone(), only.clone());
    let result = tokio::task::spawn_blocking(move || {
        crate::audience::suppression::append_for(&path, &address, scoped.as_ref(), &reason, today())
    })
    .await;
    let scope_name = only.as_ref().map_or("all", OfficeId::as_str);
    let from = who.office.as_ref().map_or("international", OfficeId::as_str);
    match result {
        Ok(Ok(added)) => {
            tracing::info!(
                "unsubscribe: address {pseudonym} from {from}, stops {scope_name}, {}",
                if added {
                    "added to the suppression list"
                } else {
                    "already on it"
                }
            );
            let text = if only.is_some() {
                "done_office_text"
            } else {
                "done_text"
            };
            Html(reader.page("done_title", &reader.paragraph(text))).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(
                "unsubscribe: cannot record address {pseudonym} ({from}, {scope_name}) in {}: {e}",
                app.settings.suppression.display()
            );
            retry(&reader)
        }
        Err(e) => {
            tracing::error!("unsubscribe: the recording of address {pseudonym} stopped: {e}");
            retry(&reader)
        }
    }
}

fn retry(reader: &Reader<'_>) -> Response {
    let body = reader.paragraph("retry_text");
    (StatusCode::SERVICE_UNAVAILABLE, Html(reader.page("retry_title", &body))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        h
    }

    #[test]
    fn one_click_bodies_urlencoded_and_multipart() {
        let form = headers("application/x-www-form-urlencoded");
        assert_eq!(one_click(&form, b"List-Unsubscribe=One-Click"), Some(Scope::Sender));
        assert_eq!(
            one_click(&form, b"List-Unsubscribe=One-Click&scope=all"),
            Some(Scope::All)
        );
        assert_eq!(
            one_click(&HeaderMap::new(), b"List-Unsubscribe=One-Click\r\n"),
            Some(Scope::Sender)
        );
        assert_eq!(one_click(&form, b"unsubscribe please"), None);
        let multipart = headers("multipart/form-data; boundary=\"XyZ\"");
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        assert_eq!(one_click(&multipart, body.as_bytes()), Some(Scope::Sender));
        let wrong = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nNo\r\n--XyZ--\r\n";
        assert_eq!(one_click(&multipart, wrong.as_bytes()), None);
        let unclosed = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n";
        assert_eq!(one_click(&multipart, unclosed.as_bytes()), None);
        assert_eq!(one_click(&headers("multipart/form-data"), body.as_bytes()), None);
    }

    #[test]
    fn the_browsers_languages_are_ranked_by_weight_then_order() {
        assert_eq!(accepted("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"), ["fr", "fr", "en"]);
        assert_eq!(accepted("en;q=0.2, ar"), ["ar", "en"]);
        assert_eq!(accepted("es;q=0"), Vec::<String>::new());
    }
}
