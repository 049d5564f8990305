//! The rendered email in a real browser (headless Chromium), at a phone's 375 px and a desktop
//! client's 640 px: no horizontal scrolling, every item title visible. Screenshots are written
//! to `target/screenshots/` for people to look at.
//!
//! Headless windows are at least 500 px wide, so the email is shown in an iframe of the exact
//! width inside a small harness page that measures it and writes the result into the DOM.
//!
//! The browser editor (`serve --edit`) is clicked through here too (module `editor`): add an
//! invitation, reorder items, an invalid time, a conflict; its screenshots at 1280 and 375 px.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    require("chromium", "apt-get install -y chromium")
}

const HARNESS: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body style="margin:0;background:#888">
<iframe id="email" src="SRC" style="width:WIDTHpx;height:800px;border:0;display:block;background:#fff"></iframe>
<pre id="result">pending</pre>
<script>
document.getElementById('email').addEventListener('load', function () {
  var frame = this, w = frame.contentWindow, d = frame.contentDocument;
  var titles = Array.prototype.map.call(d.querySelectorAll('.if-item-title'), function (h) {
    var r = h.getBoundingClientRect(), s = w.getComputedStyle(h);
    return { text: h.textContent, width: r.width, height: r.height, left: r.left, right: r.right,
             shown: s.visibility !== 'hidden' && s.display !== 'none' && parseFloat(s.opacity) > 0 };
  });
  // Every block holding text, by its computed direction.
  var directions = {};
  Array.prototype.forEach.call(d.body.querySelectorAll('p,li,h1,h2,h3,h4,h5,h6,td,div,span,a,strong'), function (e) {
    var own = Array.prototype.some.call(e.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    if (!own) return;
    var dir = w.getComputedStyle(e).direction;
    (directions[dir] = directions[dir] || []).push(e.textContent.trim().slice(0, 40));
  });
  // Where the start and the end of the first time range ("09:00–12:00") are drawn.
  var range = null, walker = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT), node;
  while (!range && (node = walker.nextNode())) {
    var m = /(\d\d:\d\d)\u2013(\d\d:\d\d)/.exec(node.textContent);
    if (!m) continue;
    var at = function (offset, length) { var r = d.createRange(); r.setStart(node, offset); r.setEnd(node, offset + length); return r.getBoundingClientRect().left; };
    range = { text: m[0], start: at(m.index, 5), end: at(m.index + 6, 5) };
  }
  var result = { innerWidth: w.innerWidth, scrollWidth: d.documentElement.scrollWidth,
                 bodyScrollWidth: d.body.scrollWidth, height: d.documentElement.scrollHeight, titles: titles,
                 directions: directions, range: range };
  frame.style.height = result.height + 'px';
  document.getElementById('result').textContent = JSON.stringify(result);
});
</script></body></html>"#;

/// Headless, and quiet on a machine without network: without the background-networking flags
/// Chromium keeps trying to reach Google's hosts.
const HEADLESS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

fn chromium_command(harness: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args(HEADLESS);
    c.args([
        "--hide-scrollbars",
        "--allow-file-access-from-files",
        "--virtual-time-budget=10000",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c.arg(format!("file://{}", harness.display()));
    c
}

fn measure(email: &Path, width: u32, work: &Path, name: &str) -> serde_json::Value {
    let harness = work.join(format!("harness-{name}.html"));
    let page = HARNESS
        .replace("SRC", &format!("file://{}", email.display()))
        .replace("WIDTH", &width.to_string());
    std::fs::write(&harness, page).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = chromium_command(&harness, profile.path())
        .arg("--dump-dom")
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| {
            panic!(
                "no result from chromium for {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let result: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"));

    let height = result["height"].as_u64().unwrap_or(3000) + 60;
    let shot = root().join("target/screenshots").join(format!("{name}.png"));
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let status = chromium_command(&harness, profile.path())
        .arg(format!("--window-size={},{}", width.max(500), height))
        .arg(format!("--screenshot={}", shot.display()))
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "no screenshot for {name}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    result
}

/// Checks the layout at a phone's and a desktop's width; returns the measurements.
fn check_layout(email: &Path, expected_titles: usize, work: &Path, name: &str) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    for width in [375, 640] {
        let r = measure(email, width, work, &format!("{name}-{width}"));
        assert_eq!(
            r["innerWidth"].as_u64(),
            Some(width as u64),
            "{name}: the frame is not {width} px: {r}"
        );
        let scroll = r["scrollWidth"].as_u64().unwrap();
        assert!(
            scroll <= width as u64,
            "{name} at {width} px scrolls sideways: scrollWidth {scroll}"
        );
        let titles = r["titles"].as_array().unwrap();
        assert_eq!(titles.len(), expected_titles, "{name} at {width} px: titles {titles:?}");
        for t in titles {
            let ok = t["shown"] == true
                && t["width"].as_f64().unwrap() > 0.0
                && t["height"].as_f64().unwrap() > 0.0
                && t["left"].as_f64().unwrap() >= 0.0
                && t["right"].as_f64().unwrap() <= width as f64;
            assert!(ok, "{name} at {width} px: title not fully visible: {t}");
        }
        all.push(r);
    }
    all
}

#[test]
fn the_sample_fits_a_phone_and_a_desktop_with_every_title_visible() {
    let work = root().join("target/browser");
    let out = work.join("sample");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&work).unwrap();
    let run = infoflash(
        &root(),
        &[
            "build",
            "editions/2026-01-info-flash-22.toml",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    for variant in ["en", "fr", "es"] {
        let email = out.join("2026-01-info-flash-22").join(variant).join("email.html");
        let html = std::fs::read_to_string(&email).unwrap();
        let titles = html.matches("class=\"if-item-title\"").count();
        assert!(titles >= 8, "{variant}: only {titles} titles in the HTML");
        for r in check_layout(&email, titles, &work, &format!("sample-{variant}")) {
            assert!(r["directions"].get("rtl").is_none(), "{variant}: {}", r["directions"]);
        }
    }
}

#[test]
fn an_arabic_variant_fits_a_phone_right_to_left() {
    let work = root().join("target/browser");
    let out = work.join("office");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&work).unwrap();
    let project = office_project();
    let run = infoflash(
        &project,
        &[
            "build",
            "editions/2026-02-office-flash-3.toml",
            "--language",
            "ar",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let email = out.join("2026-02-office-flash-3/ar/email.html");
    // Three items, and the upcoming international days computed for the weeks after 10 February.
    for r in check_layout(&email, 4, &work, "office-ar") {
        // Every block of text reads from the right: sections and columns too (mrml writes
        // `direction:ltr` on each unless told otherwise).
        let ltr = &r["directions"]["ltr"];
        assert!(ltr.is_null(), "blocks laid out left to right: {ltr}");
        assert!(
            r["directions"]["rtl"].as_array().is_some_and(|b| b.len() > 20),
            "{}",
            r["directions"]
        );
        // A session's time range in reading order: its start is drawn right of its end.
        let range = &r["range"];
        assert!(
            range["start"].as_f64().unwrap() > range["end"].as_f64().unwrap(),
            "{range}"
        );
    }
}

/// The measurement itself must be able to fail: an item template that forces a 900 px wide
/// block is caught at 375 px.
#[test]
fn the_harness_catches_an_email_that_scrolls_sideways() {
    let work = root().join("target/browser");
    std::fs::create_dir_all(&work).unwrap();
    let project = office_project_with_template(
        "items/news.mjml.hbs",
        "<mj-section><mj-column><mj-text><h2 class=\"if-item-title\">{{item.title}}</h2><div style=\"width:900px\">wide</div></mj-text></mj-column></mj-section>",
    );
    let edition = OFFICE_EDITION;
    let out = project.path().join("build");
    let run = infoflash(
        project.path(),
        &["build", edition, "--language", "en", "--out", out.to_str().unwrap()],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let email = out.join("2026-02-office-flash-3/en/email.html");
    let r = measure(&email, 375, &work, "too-wide-375");
    assert!(
        r["scrollWidth"].as_u64().unwrap() > 375,
        "the overflow went unnoticed: {r}"
    );
}

/// A headless Chromium driven over the DevTools protocol, for pages a person clicks through:
/// open a URL, run a line of JavaScript, click, take a screenshot.
struct Browser {
    child: std::process::Child,
    socket: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Browser {
        use std::io::BufRead;
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium())
            .args(HEADLESS)
            .args(["--remote-debugging-port=0", "--window-size=800,1000"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("chromium starts");
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut endpoint = None;
        for line in stderr.lines() {
            let line = line.unwrap_or_default();
            if let Some(url) = line.split("DevTools listening on ").nth(1) {
                endpoint = Some(url.trim().to_string());
                break;
            }
        }
        let endpoint = endpoint.expect("chromium printed its DevTools address");
        let port = endpoint.split(':').nth(2).and_then(|p| p.split('/').next()).unwrap();
        let list = ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let targets: serde_json::Value = serde_json::from_str(&list).unwrap();
        let page = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let (socket, _) = tungstenite::connect(page["webSocketDebuggerUrl"].as_str().unwrap()).unwrap();
        if let tungstenite::stream::MaybeTlsStream::Plain(s) = socket.get_ref() {
            s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
        }
        let mut browser = Browser {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        };
        browser.call("Page.enable", serde_json::json!({}));
        browser
    }

    fn read(&mut self) -> serde_json::Value {
        loop {
            match self.socket.read().expect("a DevTools message") {
                tungstenite::Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                _ => continue,
            }
        }
    }

    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = serde_json::json!({"id": id, "method": method, "params": params});
        self.socket
            .send(tungstenite::Message::text(message.to_string()))
            .unwrap();
        loop {
            let reply = self.read();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    fn wait_for_load(&mut self) {
        while self.read()["method"] != "Page.loadEventFired" {}
    }

    fn open(&mut self, url: &str) {
        self.call("Page.navigate", serde_json::json!({ "url": url }));
        self.wait_for_load();
    }

    fn eval(&mut self, js: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": js, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// Clicks the first element matching `selector` and waits for the page it leads to.
    fn click(&mut self, selector: &str) {
        let found = self.eval(&format!(
            "(function(){{var e=document.querySelector({selector:?}); if(!e) return false; e.click(); return true;}})()"
        ));
        assert_eq!(found, true, "nothing matches {selector}");
        self.wait_for_load();
    }

    fn screenshot(&mut self, name: &str) {
        use base64::Engine as _;
        let shot = self.call("Page.captureScreenshot", serde_json::json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_reader_browses_the_archive_and_unsubscribes_with_the_button() {
    let dir = common::web::built_project();
    let key = "the browser test's key, 32 bytes+";
    let service = common::web::Service::start(dir.path(), Some(key));
    let mut browser = Browser::launch();

    // The archive's index links each edition page, which keeps the email's language and anchors.
    browser.open(&format!("{}/archive/", service.base));
    browser.screenshot("archive-index");
    assert_eq!(browser.eval("document.documentElement.lang"), "en");
    browser.click("a[href='2026-01-info-flash-22/fr/']");
    browser.screenshot("archive-edition-fr");
    assert_eq!(browser.eval("document.documentElement.lang"), "fr");
    assert_eq!(
        browser.eval("document.querySelectorAll('img:not([alt])').length"),
        0,
        "images without alt"
    );
    let anchors = browser.eval(
        "Array.from(document.querySelectorAll('.if-toc a')).every(a => { const u = new URL(a.href); return u.pathname === location.pathname && !!document.getElementById(u.hash.slice(1)); })",
    );
    assert_eq!(anchors, true, "a table-of-contents link leads nowhere");
    browser.click("nav a");
    assert!(browser
        .eval("location.pathname")
        .as_str()
        .unwrap()
        .ends_with("/archive/"));

    // The unsubscribe page: nothing happens until the button is pressed.
    let today = chrono::Utc::now().date_naive();
    let token = infoflash::deliver::unsubscribe::Key::from_bytes(key.as_bytes()).token(
        None,
        &"reader@example.org".parse().unwrap(),
        today,
    );
    browser.open(&format!("{}/unsubscribe/{token}", service.base));
    browser.screenshot("unsubscribe-confirm");
    let list = || std::fs::read_to_string(dir.path().join("recipients/suppression.csv")).unwrap();
    assert!(!list().contains("reader@example.org"), "opening the page unsubscribed");
    browser.click("button[type=submit]");
    browser.screenshot("unsubscribe-done");
    let text = browser.eval("document.body.innerText");
    assert!(text.as_str().unwrap().contains("You are unsubscribed"), "{text}");
    assert!(
        list().contains("reader@example.org,unsubscribed (one-click)"),
        "{}",
        list()
    );
}

#[test]
fn a_reader_of_an_office_stops_that_offices_mail_then_all_mail_with_the_buttons() {
    let dir = common::web::scoped_project();
    let key = "the browser test's key, 32 bytes+";
    let service = common::web::Service::start(dir.path(), Some(key));
    let mut browser = Browser::launch();
    let today = chrono::Utc::now().date_naive();
    let signer = infoflash::deliver::unsubscribe::Key::from_bytes(key.as_bytes());
    let santiago = "santiago".parse().unwrap();
    let ann = "ann@example.org".parse().unwrap();
    let spanish = "es".parse().unwrap();
    let token = signer.token_in(Some(&santiago), &spanish, &ann, today);
    let url = format!("{}/unsubscribe/{token}", service.base);
    let audience = |office| common::web::audience(dir.path(), office);

    // The office's button: Santiago stops, the international team and Bangkok go on.
    browser.open(&url);
    browser.screenshot("unsubscribe-office-confirm");
    assert_eq!(browser.eval("document.documentElement.lang"), "es");
    assert_eq!(browser.eval("document.querySelectorAll('form button').length"), 2);
    assert_eq!(audience(Some("santiago")), (0, 2), "opening the page unsubscribed");
    browser.click("button.office");
    browser.screenshot("unsubscribe-office-done");
    let text = browser.eval("document.body.innerText");
    assert!(
        text.as_str()
            .unwrap()
            .contains("Oficina Regional de la UNESCO en Santiago"),
        "{text}"
    );
    assert_eq!(audience(Some("santiago")), (1, 1));
    assert_eq!(audience(None), (0, 2));
    assert_eq!(audience(Some("bangkok")), (0, 1));

    // Back on the page, the other button stops all Info Flash mail.
    browser.open(&url);
    browser.click("button.all");
    browser.screenshot("unsubscribe-all-done");
    assert_eq!(audience(None), (1, 1));
    assert_eq!(audience(Some("bangkok")), (1, 0));
    assert_eq!(audience(Some("santiago")), (1, 1));

    // An Arabic reader's page is written right to left.
    let arabic = signer.token_in(
        Some(&santiago),
        &"ar".parse().unwrap(),
        &"bob@example.org".parse().unwrap(),
        today,
    );
    browser.open(&format!("{}/unsubscribe/{arabic}", service.base));
    browser.screenshot("unsubscribe-ar");
    assert_eq!(browser.eval("getComputedStyle(document.body).direction"), "rtl");
}

/// The official MJML compiler (npm `mjml`), which `./scripts/test` installs under
/// `target/mjml/`.
fn official_mjml() -> PathBuf {
    let path = root().join("target/mjml/node_modules/.bin/mjml");
    assert!(
        path.is_file(),
        "the official MJML compiler is needed: npm install --prefix target/mjml mjml@5 (./scripts/test does this)"
    );
    path
}

const COMPARE: &str = r#"<!DOCTYPE html>
<html><body><pre id="result">pending</pre>
<script>
var a = new Image(), b = new Image(), loaded = 0;
a.onload = b.onload = function () {
  if (++loaded < 2) return;
  var w = Math.max(a.width, b.width), h = Math.max(a.height, b.height);
  function pixels(img) {
    var c = document.createElement('canvas'); c.width = w; c.height = h;
    var x = c.getContext('2d'); x.fillStyle = '#ff00ff'; x.fillRect(0, 0, w, h); x.drawImage(img, 0, 0);
    return x.getImageData(0, 0, w, h).data;
  }
  var p = pixels(a), q = pixels(b), differ = 0;
  for (var i = 0; i < p.length; i += 4) {
    if (Math.abs(p[i] - q[i]) > 24 || Math.abs(p[i + 1] - q[i + 1]) > 24 || Math.abs(p[i + 2] - q[i + 2]) > 24) differ++;
  }
  document.getElementById('result').textContent = JSON.stringify({ differ: differ, total: w * h, a: [a.width, a.height], b: [b.width, b.height] });
};
a.src = 'data:image/png;base64,A'; b.src = 'data:image/png;base64,B';
</script></body></html>"#;

/// The share of pixels that differ between two screenshots (a pixel outside the smaller one
/// differs).
fn differing_pixels(a: &Path, b: &Path, work: &Path, name: &str) -> (f64, serde_json::Value) {
    use base64::Engine as _;
    let encode = |p: &Path| base64::engine::general_purpose::STANDARD.encode(std::fs::read(p).unwrap());
    let page = work.join(format!("compare-{name}.html"));
    std::fs::write(
        &page,
        COMPARE
            .replacen("base64,A", &format!("base64,{}", encode(a)), 1)
            .replacen("base64,B", &format!("base64,{}", encode(b)), 1),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = chromium_command(&page, profile.path())
        .arg("--dump-dom")
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_else(|| panic!("no comparison for {name}: {}", String::from_utf8_lossy(&out.stderr)))
        .replace("&quot;", "\"");
    let result: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}: {json}"));
    (
        result["differ"].as_f64().unwrap() / result["total"].as_f64().unwrap(),
        result,
    )
}

#[test]
fn the_email_looks_as_the_official_mjml_compiler_renders_it_in_every_language() {
    let mjml = official_mjml();
    let work = root().join("target/browser");
    std::fs::create_dir_all(&work).unwrap();
    let sample = build_into(&root(), &["editions/2026-01-info-flash-22.toml"]);
    let office = build_into(&office_project(), &[OFFICE_EDITION, "--language", "ar"]);
    let variants = [
        (sample.path().join("2026-01-info-flash-22/en"), "en"),
        (sample.path().join("2026-01-info-flash-22/fr"), "fr"),
        (sample.path().join("2026-01-info-flash-22/es"), "es"),
        (office.path().join("2026-02-office-flash-3/ar"), "ar"),
    ];
    let mut report = Vec::new();
    for (dir, name) in &variants {
        let official = dir.join("official.html");
        let compiled = std::process::Command::new(&mjml)
            .arg(dir.join("email.mjml"))
            .arg("-o")
            .arg(&official)
            .output()
            .unwrap();
        assert!(
            compiled.status.success(),
            "mjml: {}",
            String::from_utf8_lossy(&compiled.stderr)
        );
        for width in [375, 640] {
            let ours = measure(
                &dir.join("email.html"),
                width,
                &work,
                &format!("mjml-ours-{name}-{width}"),
            );
            let theirs = measure(&official, width, &work, &format!("mjml-official-{name}-{width}"));
            if *name == "ar" {
                // The official rendering of the same MJML is right to left too.
                assert!(theirs["directions"]["ltr"].is_null(), "{}", theirs["directions"]);
                assert!(ours["directions"]["ltr"].is_null(), "{}", ours["directions"]);
            }
            let shots = root().join("target/screenshots");
            let (share, detail) = differing_pixels(
                &shots.join(format!("mjml-ours-{name}-{width}.png")),
                &shots.join(format!("mjml-official-{name}-{width}.png")),
                &work,
                &format!("{name}-{width}"),
            );
            report.push(format!(
                "{name} at {width} px: {:.3}% of pixels differ {detail}",
                share * 100.0
            ));
            assert!(share <= 0.005, "{}", report.join("\n"));
        }
    }
    // The comparison can fail: two languages of the same edition differ well beyond 0.5 %.
    let shots = root().join("target/screenshots");
    let (share, _) = differing_pixels(
        &shots.join("mjml-ours-en-640.png"),
        &shots.join("mjml-ours-fr-640.png"),
        &work,
        "en-fr-640",
    );
    assert!(
        share > 0.005,
        "the comparison sees no difference between en and fr: {share}"
    );
    eprintln!("{}", report.join("\n"));
}

/// The browser editor (`serve --edit`, issue 15) clicked through in Chromium.
mod editor {
    use super::*;

    const SAMPLE: &str = "2026-01-info-flash-22";

    /// Sets the fields named in `values` as typing would (with the events a page sees).
    fn fill(browser: &mut Browser, values: &[(&str, &str)]) {
        for (name, value) in values {
            let done = browser.eval(&format!(
                "(function(){{var e=document.querySelector('[name=\"{name}\"]'); if(!e) return false; e.focus(); e.value={value:?}; \
                 e.dispatchEvent(new Event('input',{{bubbles:true}})); return true;}})()"
            ));
            assert_eq!(done, true, "no field {name}");
        }
    }

    fn text(browser: &mut Browser) -> String {
        browser
            .eval("document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn at_width(browser: &mut Browser, width: u32, mobile: bool) {
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    /// `git diff --no-index --numstat`: (lines added, lines deleted) from `a` to `b`.
    fn numstat(a: &Path, b: &Path) -> (usize, usize) {
        let out = Command::new("git")
            .args(["diff", "--no-index", "--numstat"])
            .arg(a)
            .arg(b)
            .output()
            .expect("git runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut parts = text.split_whitespace();
        let added = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let deleted = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        (added, deleted)
    }

    #[test]
    fn an_editor_adds_an_invitation_reorders_items_meets_an_error_and_a_conflict() {
        let dir = common::editor::project_with(&root(), &[&sample_edition()]);
        let service = common::web::Service::start_with(
            dir.path(),
            Some("the browser editor's key, 32 bytes+"),
            &["--edit"],
            &[],
        );
        let file = dir.path().join("editions/2026-01-info-flash-22.toml");
        let original = dir.path().join("original.toml");
        std::fs::copy(&file, &original).unwrap();
        let mut browser = Browser::launch();

        // The list, then the sample's form beside its preview, at a desktop's and a phone's width.
        browser.open(&format!("{}/edit/", service.base));
        assert!(text(&mut browser).contains("0 error(s)"), "{}", text(&mut browser));
        browser.click(&format!("a[href='/edit/{SAMPLE}']"));
        at_width(&mut browser, 1280, false);
        browser.screenshot("editor-1280");
        let unlabelled = browser.eval(
            "Array.from(document.querySelectorAll('#editor input:not([type=hidden]), #editor textarea, #editor select'))\
             .filter(e => !(e.id && document.querySelector('label[for=\"' + e.id + '\"]'))).length",
        );
        assert_eq!(unlabelled, 0, "fields without a label");
        assert_eq!(
            browser.eval("document.querySelector('iframe[name=preview]').contentDocument.querySelectorAll('.if-item-title').length > 0"),
            true,
            "the preview beside the form shows the email"
        );
        at_width(&mut browser, 375, true);
        browser.screenshot("editor-375");
        let scroll = browser.eval("document.documentElement.scrollWidth").as_u64().unwrap();
        assert!(scroll <= 375, "the editor scrolls sideways at 375 px: {scroll}");
        at_width(&mut browser, 1280, false);

        // An invitation with two sessions, in two zones and two languages.
        browser.click("button[value='add-item:invitation']");
        assert!(text(&mut browser).contains("Not saved yet"));
        assert_eq!(
            std::fs::read(&file).unwrap(),
            std::fs::read(&original).unwrap(),
            "written before Save"
        );
        fill(
            &mut browser,
            &[
                ("items.7.id", "webinar-series-5"),
                ("items.7.title", "5th session of the ASPnet Webinar Series"),
                (
                    "items.7.body",
                    "- The **5th session** will focus on heritage education.\n- Register below.\n",
                ),
                ("items.7.sessions.0.language", "en"),
                ("items.7.sessions.0.date", "2026-02-10"),
                ("items.7.sessions.0.start", "10:00"),
                ("items.7.sessions.0.time_zone", "Europe/Paris"),
            ],
        );
        browser.click("button[value='add:items.7.sessions']");
        fill(
            &mut browser,
            &[
                ("items.7.sessions.1.language", "es"),
                ("items.7.sessions.1.date", "2026-02-11"),
                ("items.7.sessions.1.start", "09:00"),
                ("items.7.sessions.1.end", "10:30"),
                ("items.7.sessions.1.time_zone", "America/Santiago"),
                (
                    "items.7.translations.fr.title",
                    "5e session de la série de webinaires de l’ASPnet",
                ),
                (
                    "items.7.translations.es.title",
                    "5.ª sesión de la serie de seminarios web de la ASPnet",
                ),
            ],
        );
        // The body typed above kept its rendering (the server's, like the email's).
        assert_eq!(
            browser
                .eval("document.getElementById('md-items.7.body').innerHTML.includes('<strong>5th session</strong>')"),
            true
        );
        browser.click("button[value='save']");
        let page = text(&mut browser);
        assert!(page.contains("Saved."), "{page}");
        let check = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-22.toml"]);
        assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
        let (added, deleted) = numstat(&original, &file);
        assert_eq!(deleted, 0, "lines were changed or removed");
        assert!(added >= 20, "only {added} lines added");
        let saved = std::fs::read_to_string(&file).unwrap();
        for comment in std::fs::read_to_string(&original)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('#'))
        {
            assert!(saved.contains(comment), "comment lost: {comment}");
        }
        assert!(
            saved.contains("time_zone = \"America/Santiago\"") && saved.contains("body = '''\n- The **5th session**")
        );

        // The first two items change places, each with its comments.
        browser.click("button[value='down:0']");
        browser.click("button[value='save']");
        assert!(text(&mut browser).contains("Saved."));
        let reordered = std::fs::read_to_string(&file).unwrap();
        let first = reordered.find("# 1. Global ASPnet Conference 2026").unwrap();
        let second = reordered.find("# 2. ASPnet Webinar Series, 4th session").unwrap();
        assert!(second < first, "not reordered");
        assert!(
            reordered.find("id = \"webinar-emergencies-and-disaster\"").unwrap()
                < reordered.find("id = \"global-aspnet-conference-2026\"").unwrap()
        );
        let check = infoflash(dir.path(), &["check", "editions/2026-01-info-flash-22.toml"]);
        assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));

        // The email beside the form follows the draft as it is typed, unsaved.
        let before = std::fs::read(&file).unwrap();
        fill(&mut browser, &[("items.2.title", "Santo Domingo Roadmap, as typed")]);
        let shown = browser.call(
            "Runtime.evaluate",
            serde_json::json!({
                "expression": "new Promise(function (done) { var n = 0; (function poll() { \
                    var d = frames['preview'].document; \
                    if (d && d.body && d.body.innerText.includes('Santo Domingo Roadmap, as typed')) return done(true); \
                    if (++n > 100) return done(false); setTimeout(poll, 100); })(); })",
                "awaitPromise": true,
                "returnByValue": true,
            }),
        );
        assert_eq!(shown["result"]["value"], true, "the preview did not follow the draft");
        browser.screenshot("editor-live-preview");
        assert_eq!(std::fs::read(&file).unwrap(), before, "a preview wrote the file");

        // "4 pm": the error beside the field, the file unchanged.
        fill(&mut browser, &[("items.0.sessions.0.start", "4 pm")]);
        browser.click("button[value='save']");
        browser.screenshot("editor-error");
        let beside = browser.eval("(document.getElementById('e-items.0.sessions.0.start') || {}).innerText || ''");
        assert!(beside.as_str().unwrap().contains("is not a time"), "{beside}");
        assert_eq!(
            browser.eval("document.querySelector('[name=\"items.0.sessions.0.start\"]').getAttribute('aria-invalid')"),
            "true"
        );
        assert_eq!(
            browser.eval("document.activeElement.name"),
            "items.0.sessions.0.start",
            "the field with the error does not have the focus"
        );
        assert_eq!(
            browser.eval("document.querySelector('#summary a[href=\"#f-items.0.sessions.0.start\"]') !== null"),
            true,
            "the summary does not link the field"
        );
        assert_eq!(std::fs::read(&file).unwrap(), before, "written with an error");

        // The same file changed on disk meanwhile: the save is refused, both versions shown.
        browser.open(&format!("{}/edit/{SAMPLE}", service.base));
        let theirs = String::from_utf8(before)
            .unwrap()
            .replace("number = 22", "number = 22 # edited in a text editor");
        std::fs::write(&file, &theirs).unwrap();
        fill(&mut browser, &[("items.2.title", "Changed in the browser")]);
        browser.click("button[value='save']");
        browser.screenshot("editor-conflict");
        let page = text(&mut browser);
        assert!(page.contains("changed on disk"), "{page}");
        assert!(page.contains("edited in a text editor") && page.contains("Changed in the browser"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), theirs, "overwritten");
    }
}
