//! The browser editor (`serve --edit`) driven over HTTP the way a browser without scripts
//! does: a session cookie, the page's form read back field by field, posted with one button.

use std::path::Path;

use base64::Engine as _;

use super::web::Service;

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A client of the editor with its session cookie.
pub struct Editor {
    pub base: String,
    cookie: String,
}

/// One answer: status, the `Location` header, the body.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> (Answer, Option<String>) {
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (Answer { status, location, body }, cookie)
}

impl Editor {
    /// Opens `/edit/` on `service` (no password: the page gives the session).
    pub fn open(service: &Service) -> Editor {
        let mut editor = Editor {
            base: service.base.clone(),
            cookie: String::new(),
        };
        let list = editor.get("/edit/");
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(!editor.cookie.is_empty(), "no session cookie");
        editor
    }

    /// An editor that has logged in with `cookie` (`name=value`).
    pub fn with_cookie(service: &Service, cookie: &str) -> Editor {
        Editor {
            base: service.base.clone(),
            cookie: cookie.to_string(),
        }
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let response = agent()
            .get(&format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .call()
            .expect("the service answers");
        let (a, cookie) = answer(response);
        if let Some(c) = cookie {
            self.cookie = c;
        }
        a
    }

    pub fn post(&mut self, path: &str, pairs: &[(String, String)]) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let response = agent()
            .post(&format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .send(body)
            .expect("the service answers");
        let (a, cookie) = answer(response);
        if let Some(c) = cookie {
            self.cookie = c;
        }
        a
    }

    /// Posts the form of `page` (as the browser would send it) with `changes` made and the
    /// button `action` pressed.
    pub fn submit(&mut self, file: &str, page: &str, changes: &[(&str, &str)], action: &str) -> Answer {
        let mut pairs = form_values(page);
        for (name, value) in changes {
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = value.to_string(),
                None => panic!("the form has no field {name}"),
            }
        }
        pairs.push(("action".into(), action.into()));
        self.post(&format!("/edit/{file}"), &pairs)
    }
}

/// Text as it was before HTML escaping (the escapes handlebars writes, and numeric ones).
pub fn unescape(text: &str) -> String {
    let re = regex::Regex::new(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        let e = &c[1];
        let code = if let Some(hex) = e.strip_prefix("#x") {
            u32::from_str_radix(hex, 16).ok()
        } else if let Some(dec) = e.strip_prefix('#') {
            dec.parse().ok()
        } else {
            None
        };
        match (code.and_then(char::from_u32), e) {
            (Some(ch), _) => ch.to_string(),
            (None, "amp") => "&".into(),
            (None, "lt") => "<".into(),
            (None, "gt") => ">".into(),
            (None, "quot") => "\"".into(),
            (None, _) => "'".into(),
        }
    })
    .to_string()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"\s{name}="([^"]*)""#)).unwrap();
    re.captures(tag).map(|c| unescape(&c[1]))
}

/// The successful controls of the editor form in `page`, in document order, as a browser
/// without scripts sends them (no button: the caller adds the one pressed).
pub fn form_values(page: &str) -> Vec<(String, String)> {
    let start = page
        .find("<form method=\"post\" action=\"/edit/")
        .expect("an editor form");
    let end = start + page[start..].find("</form>").unwrap();
    let form = &page[start..end];
    let mut found: Vec<(usize, String, String)> = Vec::new();
    let input = regex::Regex::new(r"<input [^>]*>").unwrap();
    for m in input.find_iter(form) {
        if let Some(name) = attribute(m.as_str(), "name") {
            found.push((m.start(), name, attribute(m.as_str(), "value").unwrap_or_default()));
        }
    }
    let textarea = regex::Regex::new(r"(?s)<textarea ([^>]*)>(.*?)</textarea>").unwrap();
    for c in textarea.captures_iter(form) {
        let name = attribute(&format!(" {}", &c[1]), "name").unwrap();
        // A browser drops the line break that follows the opening tag.
        let text = unescape(&c[2]);
        let text = text.strip_prefix('\n').unwrap_or(&text).to_string();
        found.push((c.get(0).unwrap().start(), name, text));
    }
    let select = regex::Regex::new(r"(?s)<select ([^>]*)>(.*?)</select>").unwrap();
    let option = regex::Regex::new(r#"<option value="([^"]*)"( selected)?>"#).unwrap();
    for c in select.captures_iter(form) {
        let name = attribute(&format!(" {}", &c[1]), "name").unwrap();
        let options: Vec<(String, bool)> = option
            .captures_iter(&c[2])
            .map(|o| (unescape(&o[1]), o.get(2).is_some()))
            .collect();
        let value = options
            .iter()
            .find(|(_, s)| *s)
            .or(options.first())
            .map(|(v, _)| v.clone())
            .unwrap_or_default();
        found.push((c.get(0).unwrap().start(), name, value));
    }
    found.sort_by_key(|(at, _, _)| *at);
    found.into_iter().map(|(_, n, v)| (n, v)).collect()
}

/// The draft a form page carries, decoded.
pub fn draft(page: &str) -> String {
    let value = form_values(page)
        .into_iter()
        .find(|(n, _)| n == "draft")
        .expect("a draft")
        .1;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).unwrap()).unwrap()
}

/// A project folder with `infoflash.toml` from `project` and the given edition files.
pub fn project_with(project: &Path, files: &[&Path]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(project.join("infoflash.toml"), dir.path().join("infoflash.toml")).unwrap();
    if project.join("templates").is_dir() && project != super::root() {
        copy_dir(&project.join("templates"), &dir.path().join("templates"));
    }
    std::fs::create_dir_all(dir.path().join("editions")).unwrap();
    for f in files {
        std::fs::copy(f, dir.path().join("editions").join(f.file_name().unwrap())).unwrap();
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
