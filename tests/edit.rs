//! `infoflash serve --edit` over HTTP, as a browser without scripts uses it: the file stays
//! the truth (an unchanged form saves the same bytes, for every edition file of the
//! fixtures), a file changed on disk is never overwritten, an invalid value is shown beside
//! its field and writes nothing, every post needs the session's CSRF token, a password (an
//! Argon2 hash in the settings) guards it, and nothing outside `editions/` is written.
//! The same in Chromium, with clicks: `tests/browser.rs`.

mod common;

use std::path::{Path, PathBuf};

use common::editor::{draft, form_values, project_with, Editor};
use common::web::Service;
use common::*;

fn start(dir: &Path) -> Service {
    Service::start_with(dir, Some("the edit test's key, 32 bytes long+"), &["--edit"], &[])
}

fn sample_project() -> tempfile::TempDir {
    project_with(&root(), &[&sample_edition()])
}

const SAMPLE: &str = "2026-01-info-flash-22";

/// The sample project served with `--edit` (both kept until dropped), an editor with a
/// session on it, and the sample edition's file.
fn opened() -> ((tempfile::TempDir, Service), Editor, PathBuf) {
    let dir = sample_project();
    let service = start(dir.path());
    let editor = Editor::open(&service);
    let path = dir.path().join("editions/2026-01-info-flash-22.toml");
    ((dir, service), editor, path)
}

/// Every edition file under tests/fixtures, with the project whose settings it is written
/// for: the regional office project's editions and overlays with its own settings, the others
/// with the repository's.
fn fixture_editions() -> Vec<(PathBuf, Vec<PathBuf>)> {
    let fixtures = root().join("tests/fixtures");
    let tomls = |dir: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        v.sort();
        v
    };
    let mut own = tomls(&fixtures.join("format"));
    own.extend(tomls(&fixtures.join("invalid")));
    own.extend(tomls(&fixtures.join("handwritten")));
    let mut out = vec![(root(), own)];
    for project in std::fs::read_dir(fixtures.join("projects")).unwrap() {
        let project = project.unwrap().path();
        out.push((project.clone(), tomls(&project.join("editions"))));
    }
    out
}

#[test]
fn an_unchanged_form_saves_the_same_bytes_for_the_sample_and_every_fixture_edition() {
    let mut checked = 0;
    let mut not_editable = Vec::new();
    let sample_and_overlays = {
        let mut files = vec![sample_edition()];
        for overlay in std::fs::read_dir(root().join("tests/fixtures/overlays")).unwrap() {
            files.push(overlay.unwrap().path());
        }
        files
    };
    for (project, files) in fixture_editions().into_iter().chain([(root(), sample_and_overlays)]) {
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let dir = project_with(&project, &refs);
        let service = start(dir.path());
        let mut editor = Editor::open(&service);
        for file in &files {
            let name = file.file_stem().unwrap().to_str().unwrap();
            let path = dir.path().join("editions").join(file.file_name().unwrap());
            let before = std::fs::read(&path).unwrap();
            let page = editor.get(&format!("/edit/{name}"));
            if page.status == 422 && page.body.contains("cannot be edited here") {
                // Not TOML at all (tests/fixtures/invalid/toml-syntax.toml): no form to post.
                not_editable.push(name.to_string());
                continue;
            }
            assert_eq!(page.status, 200, "{name}: {}", page.body);
            let updated = editor.submit(name, &page.body, &[], "update");
            assert_eq!(updated.status, 200, "{name}: {}", updated.body);
            assert_eq!(
                draft(&updated.body).as_bytes(),
                before.as_slice(),
                "{name}: the unchanged form changed the draft"
            );
            let saved = editor.submit(name, &page.body, &[], "save");
            // A deliberately invalid fixture is refused (422) when the loader refuses it, or
            // saved with its error shown when only `check` finds it; every other one is saved.
            if file.starts_with(root().join("tests/fixtures/invalid")) {
                let shown = saved.status == 200 && saved.body.contains("error:");
                assert!(saved.status == 422 || shown, "{name}: {}", saved.body);
            } else {
                assert_eq!(saved.status, 200, "{name}: {}", saved.body);
                assert!(saved.body.contains("Saved."), "{name}: {}", saved.body);
            }
            assert_eq!(std::fs::read(&path).unwrap(), before, "{name}: the file changed");
            checked += 1;
        }
    }
    // Two fixtures are not TOML that toml_edit reads (a syntax error; February 30th, which
    // TOML itself refuses): they have no form, and are deliberately skipped.
    assert_eq!(
        not_editable,
        ["impossible-date", "toml-syntax"],
        "other files have no form"
    );
    assert!(checked >= 40, "only {checked} files were posted");
}

#[test]
fn one_changed_title_changes_that_line_only_and_the_save_is_atomic() {
    let (_project, mut editor, path) = opened();
    let before = std::fs::read_to_string(&path).unwrap();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let saved = editor.submit(
        SAMPLE,
        &page.body,
        &[("items.2.title", "Santo Domingo Roadmap, adopted")],
        "save",
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Saved."), "{}", saved.body);
    let after = std::fs::read_to_string(&path).unwrap();
    let changed = changed_lines(&before, &after);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].1, "title = \"Santo Domingo Roadmap, adopted\"");
    assert_eq!(before.lines().count(), after.lines().count());
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["2026-01-info-flash-22.toml"], "a temporary file was left");
}

#[test]
fn a_file_saved_on_windows_keeps_its_line_ends_and_byte_order_mark_when_one_title_changes() {
    let dir = sample_project();
    let path = dir.path().join("editions/2026-01-info-flash-22.toml");
    let crlf = format!(
        "\u{feff}{}",
        std::fs::read_to_string(&path).unwrap().replace('\n', "\r\n")
    );
    std::fs::write(&path, &crlf).unwrap();
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let unchanged = editor.submit(SAMPLE, &page.body, &[], "save");
    assert_eq!(unchanged.status, 200, "{}", unchanged.body);
    assert!(
        std::fs::read_to_string(&path).unwrap() == crlf,
        "the unchanged form changed the file"
    );
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let saved = editor.submit(
        SAMPLE,
        &page.body,
        &[("items.2.title", "Santo Domingo Roadmap, adopted")],
        "save",
    );
    assert!(saved.body.contains("Saved."), "{}", saved.body);
    let after = std::fs::read_to_string(&path).unwrap();
    let changed = changed_lines(&crlf, &after);
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].1, "title = \"Santo Domingo Roadmap, adopted\"\r");
    assert_eq!(
        after.matches("\r\n").count(),
        after.matches('\n').count(),
        "a line lost its CR"
    );
}

#[test]
fn an_inline_session_is_edited_in_place_and_a_file_without_a_last_line_break_keeps_none() {
    let fixture = root().join("tests/fixtures/handwritten/2026-02-odd-5.toml");
    let dir = project_with(&root(), &[&fixture]);
    let path = dir.path().join("editions/2026-02-odd-5.toml");
    let before = std::fs::read_to_string(&path).unwrap();
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let name = "2026-02-odd-5";
    let page = editor.get(&format!("/edit/{name}"));
    assert_eq!(page.status, 200, "{}", page.body);
    // The inline session is a session of the form like any other.
    assert!(
        page.body.contains("name=\"items.0.sessions.0.start\" value=\"10:00\""),
        "{}",
        page.body
    );
    let saved = editor.submit(
        name,
        &page.body,
        &[("items.0.sessions.0.start", "10:30"), ("items.1.title", "More news")],
        "save",
    );
    assert!(saved.body.contains("Saved."), "{}", saved.body);
    let after = std::fs::read_to_string(&path).unwrap();
    let changed = changed_lines(&before, &after);
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(
        changed[0]
            .1
            .starts_with("\tsessions = [ { date = 2026-02-20, start = \"10:30\","),
        "{changed:?}"
    );
    assert_eq!(changed[1].1, "title = \"More news\"");
    assert!(!after.ends_with('\n'), "a line break was added after the last line");
    // A session added to an inline array is inline too, and the file still loads.
    let page = editor.get(&format!("/edit/{name}"));
    let added = editor.submit(name, &page.body, &[], "add:items.0.sessions");
    assert_eq!(added.status, 200, "{}", added.body);
    let draft = draft(&added.body);
    let sessions = draft
        .lines()
        .find(|l| l.trim_start().starts_with("sessions = ["))
        .unwrap();
    assert_eq!(sessions.matches("date =").count(), 2, "{draft}");
    assert!(!draft.contains("[[items.sessions]]"), "{draft}");
}

#[test]
fn a_removed_item_takes_its_comments_and_session_with_it_and_the_rest_stays_as_written() {
    let (_project, mut editor, path) = opened();
    let before = std::fs::read_to_string(&path).unwrap();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let removed = editor.submit(SAMPLE, &page.body, &[], "remove-item:1");
    assert!(removed.body.contains("Not saved yet"));
    let fewer = editor.submit(SAMPLE, &removed.body, &[], "remove:items.0.sessions.3");
    let saved = editor.submit(SAMPLE, &fewer.body, &[], "save");
    assert_eq!(saved.status, 200, "{}", saved.body);
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(!after.contains("# 2. ASPnet Webinar Series") && !after.contains("webinar-emergencies-and-disaster"));
    assert_eq!(
        after.matches("[[items]]").count(),
        before.matches("[[items]]").count() - 1
    );
    // Every line left is one of the file's, in its order: only lines went away.
    let mut old = before.lines();
    for line in after.lines() {
        assert!(old.any(|l| l == line), "a line changed or moved: {line}");
    }
    let check = infoflash(
        path.parent().unwrap().parent().unwrap(),
        &["check", "editions/2026-01-info-flash-22.toml"],
    );
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn a_time_written_4_pm_is_shown_beside_its_field_and_the_file_is_not_written() {
    let (_project, mut editor, path) = opened();
    let before = std::fs::read(&path).unwrap();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let refused = editor.submit(SAMPLE, &page.body, &[("items.1.sessions.0.start", "4 pm")], "save");
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file was written");
    // The message sits in the field's own box, which the input names for screen readers.
    let field = refused
        .body
        .find("name=\"items.1.sessions.0.start\"")
        .expect("the field");
    let input_tag = &refused.body[refused.body[..field].rfind('<').unwrap()..];
    assert!(input_tag.contains("value=\"4 pm\""), "the typed value is kept");
    assert!(input_tag.contains("aria-describedby=\"e-items.1.sessions.0.start\""));
    let errors = &refused.body[refused.body.find("id=\"e-items.1.sessions.0.start\"").unwrap()..];
    assert!(
        errors[..errors.find("</div>").unwrap()].contains("is not a time: write it as HH:MM"),
        "{}",
        &errors[..400.min(errors.len())]
    );
    assert!(refused.body.contains("Not saved: 1 error(s)"), "{}", refused.body);
}

#[test]
fn checking_the_draft_shows_checks_findings_beside_the_field_and_writes_nothing() {
    let (_project, mut editor, path) = opened();
    let before = std::fs::read(&path).unwrap();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    // A weekday that does not match its date: `check`'s rule, not the loader's.
    let title = "Meeting on Friday 15 January 2026";
    let checked = editor.submit(SAMPLE, &page.body, &[("items.2.title", title)], "update");
    assert_eq!(checked.status, 200);
    assert!(checked.body.contains("Not saved yet"));
    let beside = &checked.body[checked
        .body
        .find("id=\"e-items.2.title\"")
        .expect("a finding beside the title")..];
    assert!(
        beside[..beside.find("</div>").unwrap()].contains("is a Thursday"),
        "{beside:.300}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // The draft carries the change to the next post: the preview shows it, unsaved.
    let preview = |editor: &mut Editor, language: &str, changes: &[(&str, &str)]| {
        let mut pairs = form_values(&checked.body);
        for (name, value) in changes.iter().chain(&[("preview_lang", language)]) {
            pairs.iter_mut().find(|(n, _)| n == name).unwrap().1 = value.to_string();
        }
        let answer = editor.post(&format!("/edit/{SAMPLE}/preview"), &pairs);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body
    };
    // Without the form's draft there is nothing to preview.
    let mut no_draft = form_values(&checked.body);
    no_draft.retain(|(n, _)| n != "draft");
    assert_eq!(editor.post(&format!("/edit/{SAMPLE}/preview"), &no_draft).status, 400);
    let english = preview(&mut editor, "en", &[]);
    assert!(
        english.contains("class=\"if-item-title\"") && english.matches(title).count() >= 2,
        "the email is not the draft's"
    );
    assert!(
        !english.contains("infoflash-draft-"),
        "the findings name a temporary file"
    );
    let typed = "Feuille de route, en cours de saisie";
    let french = preview(&mut editor, "fr", &[("items.2.translations.fr.title", typed)]);
    assert!(
        french.contains(typed),
        "the French variant does not show the typed value"
    );
    assert!(!french.contains(title), "the French variant shows the English title");
    assert_eq!(std::fs::read(&path).unwrap(), before, "the preview wrote the file");
}

#[test]
fn a_file_that_cannot_be_written_keeps_the_changes_in_the_form() {
    // editions/ on a disk of its own, made read-only once the form is open (as root, no
    // permission would stop the write).
    let dir = sample_project();
    let disk = common::disk::SmallDisk::mount("1m");
    let editions = dir.path().join("editions");
    let name = format!("{SAMPLE}.toml");
    std::fs::copy(editions.join(&name), disk.0.path().join(&name)).unwrap();
    std::fs::remove_dir_all(&editions).unwrap();
    std::os::unix::fs::symlink(disk.0.path(), &editions).unwrap();
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    assert_eq!(page.status, 200, "{}", page.body);
    disk.remount_read_only();
    let refused = editor.submit(SAMPLE, &page.body, &[("items.2.title", "Kept in the form")], "save");
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert!(
        refused.body.contains("Not saved: the file cannot be written"),
        "{}",
        refused.body
    );
    assert!(
        draft(&refused.body).contains("title = \"Kept in the form\""),
        "the changes were lost"
    );
    assert!(
        form_values(&refused.body)
            .iter()
            .any(|(name, value)| name == "items.2.title" && value == "Kept in the form"),
        "the form does not show the change"
    );
}

#[test]
fn a_file_changed_on_disk_since_the_form_was_loaded_is_never_overwritten() {
    let (_project, mut editor, path) = opened();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let theirs = std::fs::read_to_string(&path).unwrap().replace(
        "title = \"Santo Domingo Roadmap: Towards Lasting Peace\"",
        "title = \"Changed in a text editor\"",
    );
    std::fs::write(&path, &theirs).unwrap();
    let refused = editor.submit(
        SAMPLE,
        &page.body,
        &[("items.2.title", "Changed in the browser")],
        "save",
    );
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs, "overwritten");
    let on_disk = &refused.body[refused.body.find("id=\"on-disk\"").unwrap()..];
    let yours = &refused.body[refused.body.find("id=\"yours\"").unwrap()..];
    assert!(on_disk[..on_disk.find("</pre>").unwrap()].contains("Changed in a text editor"));
    assert!(yours[..yours.find("</pre>").unwrap()].contains("Changed in the browser"));
}

#[test]
fn a_post_without_the_sessions_csrf_token_or_cookie_changes_nothing() {
    let ((_dir, service), mut editor, path) = opened();
    let before = std::fs::read(&path).unwrap();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let mut pairs = form_values(&page.body);
    pairs.retain(|(n, _)| n != "csrf");
    pairs.push(("csrf".into(), "0".repeat(64)));
    pairs.push(("items.2.title".into(), "forged".into()));
    pairs.push(("action".into(), "save".into()));
    assert_eq!(editor.post(&format!("/edit/{SAMPLE}"), &pairs).status, 403);
    let mut stranger = Editor::with_cookie(&service, "infoflash_edit=guess");
    let real = form_values(&page.body);
    let mut with_real_token = real.clone();
    with_real_token.push(("action".into(), "save".into()));
    with_real_token.push(("items.2.title".into(), "forged".into()));
    assert_eq!(stranger.post(&format!("/edit/{SAMPLE}"), &with_real_token).status, 403);
    // Every other post of the editor asks for the token too.
    for route in ["/edit/next", "/edit/markdown", &format!("/edit/{SAMPLE}/preview")] {
        let forged = vec![("csrf".to_string(), "0".repeat(64)), ("file".into(), SAMPLE.into())];
        assert_eq!(editor.post(route, &forged).status, 403, "{route}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1,
        "next ran"
    );
}

#[test]
fn the_markdown_preview_is_sanitised_as_the_email_is() {
    let (_project, mut editor, _path) = opened();
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let csrf = form_values(&page.body).into_iter().find(|(n, _)| n == "csrf").unwrap();
    let text = "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>";
    let answer = editor.post("/edit/markdown", &[csrf, ("text".into(), text.into())]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains("<strong>bold</strong>"), "{}", answer.body);
    for bad in ["<script", "javascript:", "onerror"] {
        assert!(!answer.body.contains(bad), "{bad} in {}", answer.body);
    }
}

#[test]
fn the_editor_answers_with_the_services_security_headers_and_frames_only_its_own_preview() {
    let dir = sample_project();
    let service = start(dir.path());
    let response = common::editor::agent()
        .get(&format!("{}/edit/", service.base))
        .call()
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert!(header("content-security-policy").contains("script-src 'self'"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("cache-control"), "no-store");
    let cookie = header("set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let preview = common::editor::agent()
        .get(&format!("{}/preview/{SAMPLE}", service.base))
        .header("cookie", cookie.split(';').next().unwrap())
        .call()
        .unwrap();
    let csp = preview
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
}

#[test]
fn without_a_password_a_page_reaching_loopback_under_another_name_gets_no_session() {
    let dir = sample_project();
    let service = start(dir.path());
    let port = service.base.rsplit(':').next().unwrap().to_string();
    let ask = |path: &str, host: &str| {
        let response = common::editor::agent()
            .get(&format!("{}{path}", service.base))
            .header("host", host)
            .call()
            .unwrap();
        (
            response.status().as_u16(),
            response.headers().get("set-cookie").is_some(),
        )
    };
    // DNS rebinding: an attacker's name made to point at 127.0.0.1.
    assert_eq!(ask("/edit/", &format!("attacker.example:{port}")), (403, false));
    assert_eq!(ask("/edit/", &format!("localhost:{port}")), (200, true));
    assert_eq!(ask("/edit/", &format!("127.0.0.1:{port}")), (200, true));
    // The preview the editor shows holds the same drafts.
    for path in ["/preview/".to_string(), format!("/preview/{SAMPLE}")] {
        assert_eq!(ask(&path, &format!("attacker.example:{port}")).0, 403, "{path}");
        assert_eq!(ask(&path, &format!("127.0.0.1:{port}")).0, 200, "{path}");
    }
}

#[test]
fn with_a_password_the_editor_asks_for_it_and_refuses_a_wrong_one() {
    let dir = sample_project();
    let hashed = {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_infoflash"))
            .args(["serve", "--hash-password"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"a long editor password\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert!(hashed.starts_with("$argon2id$"), "{hashed}");
    let settings = dir.path().join("infoflash.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str(&format!("\n[serve]\nedit_password_hash = \"{hashed}\"\n"));
    std::fs::write(&settings, text).unwrap();
    // A password makes an address other than loopback possible.
    let service = Service::start_with(dir.path(), None, &["--edit", "--listen", "0.0.0.0:0"], &[]);
    let mut visitor = Editor::with_cookie(&service, "");
    let list = visitor.get("/edit/");
    assert_eq!((list.status, list.location.as_str()), (303, "/edit/login"));
    let preview = visitor.get(&format!("/preview/{SAMPLE}"));
    assert_eq!(preview.status, 404, "the preview is shown without a session");
    let password = ("password".to_string(), "a long editor password".to_string());
    // A login posted from elsewhere carries no token of the login form: even the right
    // password is refused.
    let forged = visitor.post("/edit/login", std::slice::from_ref(&password));
    assert_eq!(forged.status, 403, "{}", forged.body);
    let login = visitor.get("/edit/login");
    let token = form_values(&login.body)
        .into_iter()
        .find(|(name, _)| name == "csrf")
        .expect("the login form carries a token");
    let wrong = visitor.post("/edit/login", &[token.clone(), ("password".into(), "guess".into())]);
    assert_eq!(wrong.status, 403);
    let forged_token = visitor.post("/edit/login", &[("csrf".into(), "0".repeat(64)), password.clone()]);
    assert_eq!(forged_token.status, 403);
    let right = visitor.post("/edit/login", &[token, password]);
    assert_eq!(
        (right.status, right.location.as_str()),
        (303, "/edit/"),
        "{}",
        right.body
    );
    assert_eq!(visitor.get("/edit/").status, 200);
    assert_eq!(visitor.get(&format!("/preview/{SAMPLE}")).status, 200);
}

#[test]
fn edit_on_a_public_address_without_a_password_refuses_to_start() {
    let dir = sample_project();
    let refused = Service::try_start(dir.path(), None, &["--edit", "--listen", "0.0.0.0:0"], &[]);
    let Err(log) = refused else { panic!("it started") };
    assert!(log.contains("edit_password_hash"), "{log}");
}

#[test]
fn the_list_counts_findings_and_starts_the_next_edition_as_next_does() {
    let dir = sample_project();
    std::fs::write(
        dir.path().join("editions/2026-01-info-flash-22.santiago.toml"),
        santiago_overlay(),
    )
    .unwrap();
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let list = editor.get("/edit/");
    let edition = list
        .body
        .find("/edit/2026-01-info-flash-22\"")
        .expect("the edition is listed");
    let overlay = list
        .body
        .find("/edit/2026-01-info-flash-22.santiago\"")
        .expect("the overlay is listed");
    assert!(edition < overlay, "the overlay comes before its edition");
    assert!(list.body.contains("0 error(s)"), "{}", list.body);
    let csrf = form_values(&format!(
        "<form method=\"post\" action=\"/edit/x\">{}</form>",
        list.body
    ))
    .into_iter()
    .find(|(n, _)| n == "csrf")
    .unwrap()
    .1;
    let started = editor.post("/edit/next", &[("csrf".into(), csrf), ("file".into(), SAMPLE.into())]);
    assert_eq!(started.status, 303, "{}", started.body);
    assert_eq!(started.location, "/edit/2026-01-info-flash-23");
    let written = std::fs::read_to_string(dir.path().join("editions/2026-01-info-flash-23.toml")).unwrap();
    assert!(written.contains("number = 23"), "{written}");
    assert_eq!(editor.get(&started.location).status, 200);
    let list = editor.get("/edit/");
    let newest = list
        .body
        .find("/edit/2026-01-info-flash-23\"")
        .expect("the new edition is listed");
    assert!(
        newest < list.body.find("/edit/2026-01-info-flash-22\"").unwrap(),
        "newest first"
    );
}

#[test]
fn an_office_overlay_is_edited_as_its_own_file_in_its_offices_language() {
    let dir = sample_project();
    let path = dir.path().join("editions/2026-01-info-flash-22.santiago.toml");
    std::fs::write(&path, santiago_overlay()).unwrap();
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let name = "2026-01-info-flash-22.santiago";
    // The file's name, as pasted from a listing of editions/, opens the same form.
    let pasted = editor.get(&format!("/edit/{name}.toml"));
    assert_eq!(pasted.status, 200, "{}", pasted.body);
    assert!(
        pasted.body.contains(&format!("action=\"/edit/{name}\"")),
        "{}",
        pasted.body
    );
    let page = editor.get(&format!("/edit/{name}"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("/preview/2026-01-info-flash-22?office=santiago"));
    // Spanish is the office's language: the edition's English is a translation here.
    assert!(
        page.body.contains("name=\"items.0.translations.en.title\""),
        "{}",
        page.body
    );
    let saved = editor.submit(name, &page.body, &[("office.intro", "Estimados colegas.")], "save");
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        santiago_overlay().replace(
            "Estimados coordinadores y docentes de América Latina y el Caribe: este es el Info Flash de la Oficina de Santiago.",
            "Estimados colegas."
        )
    );
}

#[test]
fn editing_writes_the_edition_file_and_nothing_else() {
    let dir = sample_project();
    std::fs::create_dir_all(dir.path().join("recipients")).unwrap();
    std::fs::write(dir.path().join("recipients/suppression.csv"), "email,reason,date\n").unwrap();
    let snapshot = |dir: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut all = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if p.is_dir() {
                    stack.push(p);
                } else if !name.starts_with("serve-") && !p.starts_with(dir.join("editions")) {
                    all.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        all.sort();
        all
    };
    let before = snapshot(dir.path());
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let page = editor.get(&format!("/edit/{SAMPLE}"));
    let added = editor.submit(SAMPLE, &page.body, &[], "add-item:news");
    let saved = editor.submit(
        SAMPLE,
        &added.body,
        &[
            ("items.7.id", "more-news"),
            ("items.7.title", "More news"),
            ("items.7.body", "Some *news*."),
        ],
        "save",
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(snapshot(dir.path()), before, "a file outside editions/ changed");
    assert!(!dir.path().join("state").exists(), "state/ was made");
}

/// The lines that differ, as (before, after), each with its CR if it has one.
fn changed_lines<'t>(before: &'t str, after: &'t str) -> Vec<(&'t str, &'t str)> {
    before
        .split('\n')
        .zip(after.split('\n'))
        .filter(|(a, b)| a != b)
        .collect()
}

/// The opening tag of the field named `name` in `page`.
fn field_tag<'p>(page: &'p str, name: &str) -> &'p str {
    let at = page
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no field {name} in {page}"));
    let start = page[..at].rfind('<').unwrap();
    let end = at + page[at..].find('>').unwrap();
    &page[start..=end]
}

#[test]
fn arabic_fields_are_typed_right_to_left_and_every_prose_field_carries_its_language() {
    let dir = project_with(
        &root(),
        &[&root().join("tests/fixtures/format/2026-03-community-7.toml")],
    );
    let service = start(dir.path());
    let mut editor = Editor::open(&service);
    let page = editor.get("/edit/2026-03-community-7");
    assert_eq!(page.status, 200, "{}", page.body);
    for name in ["edition.translations.ar.greeting", "items.0.translations.ar.title"] {
        let tag = field_tag(&page.body, name);
        assert!(tag.contains("dir=\"rtl\"") && tag.contains("lang=\"ar\""), "{tag}");
    }
    for (name, language) in [
        ("edition.greeting", "en"),
        ("edition.translations.fr.greeting", "fr"),
        ("items.0.title", "en"),
    ] {
        let tag = field_tag(&page.body, name);
        assert!(
            !tag.contains("rtl") && tag.contains(&format!("lang=\"{language}\"")),
            "{tag}"
        );
    }
    // A date or a link is the same in every script: typed left to right, in no language.
    let tag = field_tag(&page.body, "edition.date");
    assert!(!tag.contains("rtl") && !tag.contains("lang="), "{tag}");
}
