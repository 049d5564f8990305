//! `/archive/…`: the files `build` wrote under `OUT/archive/`, served by tower-http's
//! `ServeDir` once this module has let the path through.
//!
//! A path is answered only when every folder and file it names is a plain folder or file
//! inside the archive: any symbolic link is refused (404), wherever it points. `build` never
//! writes links, so a link there was put by someone else; and deciding whether a target
//! "stays inside" would race with whoever can change the link between the check and the
//! open, while refusing them all leaves nothing to decide. A path that cannot name a file
//! (a `..` segment, a NUL byte, a segment longer than a file name may be, bad percent
//! encoding) is a 404, never a 500. A folder asked for without its trailing slash is
//! redirected to `/archive/<folder>/`, so that the page's relative links resolve inside the
//! archive. It must not serve anything outside the archive folder nor write there.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// Longer segments cannot be a file name on any file system we run on (NAME_MAX).
const MAX_SEGMENT: usize = 255;
/// Paths in the archive are a few segments deep; anything much longer is not ours.
const MAX_PATH: usize = 1024;

/// What a request path leads to.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// A file, or a folder asked for with its slash: `ServeDir` answers.
    Serve,
    /// A folder asked for without its slash.
    Folder,
    Nothing,
}

/// The answer to a `GET` or `HEAD` of `/archive…`.
pub async fn answer(root: PathBuf, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let rest = path.strip_prefix("/archive").unwrap_or_default();
    let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    let found = {
        let (root, rest) = (root.clone(), rest.to_string());
        tokio::task::spawn_blocking(move || find(&root, &rest)).await
    };
    match found {
        Ok(Found::Serve) if !rest.is_empty() => {}
        Ok(Found::Serve | Found::Folder) => {
            // Relative ("./fr/"), so that it holds under whatever path a proxy serves us at
            // (base_url's), and can never lead off the site.
            let last = path.rsplit('/').next().unwrap_or("archive");
            return Redirect::permanent(&format!("./{last}/{query}")).into_response();
        }
        _ => return not_found(),
    }
    let (mut parts, body) = request.into_parts();
    let Ok(uri) = format!("{rest}{query}").parse() else {
        return not_found();
    };
    parts.uri = uri;
    let request = Request::from_parts(parts, body);
    match tower_http::services::ServeDir::new(&root).try_call(request).await {
        // A file that vanished or became unreadable between the check and the read.
        Ok(response) if response.status().is_server_error() => not_found(),
        Ok(response) => response.map(axum::body::Body::new),
        Err(_) => not_found(),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// Where `rest` (the path after `/archive`, still percent-encoded) leads in `root`.
fn find(root: &Path, rest: &str) -> Found {
    if rest.len() > MAX_PATH {
        return Found::Nothing;
    }
    let Some(decoded) = percent_decode(rest) else {
        return Found::Nothing;
    };
    let segments: Vec<&str> = decoded.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut here = root.to_path_buf();
    for (i, segment) in segments.iter().enumerate() {
        // The last segment is empty when the path ends with a slash; none other may be.
        if segment.is_empty() && i == last {
            break;
        }
        let odd = segment.is_empty()
            || *segment == "."
            || *segment == ".."
            || segment.len() > MAX_SEGMENT
            || segment.contains(['\0', '\\']);
        if odd {
            return Found::Nothing;
        }
        here.push(segment);
        match std::fs::symlink_metadata(&here) {
            Ok(meta) if meta.file_type().is_symlink() => {
                tracing::warn!(
                    "refused {}: a symbolic link in the archive is never followed",
                    here.display()
                );
                return Found::Nothing;
            }
            Ok(_) => {}
            Err(_) => return Found::Nothing,
        }
    }
    let Ok(meta) = std::fs::symlink_metadata(&here) else {
        return Found::Nothing;
    };
    if meta.is_file() {
        return if decoded.ends_with('/') {
            Found::Nothing
        } else {
            Found::Serve
        };
    }
    if !meta.is_dir() {
        return Found::Nothing;
    }
    if !decoded.ends_with('/') {
        return Found::Folder;
    }
    // ServeDir answers a folder with its index.html: that must be a plain file too.
    match std::fs::symlink_metadata(here.join("index.html")) {
        Ok(index) if index.is_file() => Found::Serve,
        _ => Found::Nothing,
    }
}

/// `%XX` decoded; `None` when an escape is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lead_to_plain_files_and_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        std::fs::create_dir_all(root.join("ed/en")).unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("ed/en/index.html"), "x").unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::write(dir.path().join("state/unsubscribe.key"), "secret").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("state"), root.join("x")).unwrap();
            std::os::unix::fs::symlink(root.join("ed"), root.join("inside")).unwrap();
        }
        assert_eq!(find(&root, "/"), Found::Serve);
        assert_eq!(find(&root, "/ed/en/"), Found::Serve);
        assert_eq!(find(&root, "/ed/en"), Found::Folder);
        assert_eq!(find(&root, "/ed/en/index.html"), Found::Serve);
        assert_eq!(find(&root, "/ed/en/index.html/"), Found::Nothing);
        assert_eq!(find(&root, "/x/unsubscribe.key"), Found::Nothing);
        assert_eq!(
            find(&root, "/inside/en/"),
            Found::Nothing,
            "links are refused wherever they point"
        );
        assert_eq!(find(&root, "/ed/../x/unsubscribe.key"), Found::Nothing);
        assert_eq!(find(&root, "/ed/%2e%2e/index.html"), Found::Nothing);
        assert_eq!(find(&root, &format!("/{}", "a".repeat(300))), Found::Nothing);
        assert_eq!(find(&root, "/%00"), Found::Nothing);
        assert_eq!(find(&root, "/%zz"), Found::Nothing);
        assert_eq!(find(&root, "/%ff"), Found::Nothing);
        assert_eq!(find(&root, "/ed//en/"), Found::Nothing);
    }
}
