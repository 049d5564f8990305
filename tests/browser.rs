//! The rendered email in a real browser (headless Chromium), at a phone's 375 px and a desktop
//! client's 640 px: no horizontal scrolling, every item title visible. Screenshots are written
//! to `target/screenshots/` for people to look at.
//!
//! Headless windows are at least 500 px wide, so the email is shown in an iframe of the exact
//! width inside a small harness page that measures it and writes the result into the DOM.

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
  var result = { innerWidth: w.innerWidth, scrollWidth: d.documentElement.scrollWidth,
                 bodyScrollWidth: d.body.scrollWidth, height: d.documentElement.scrollHeight, titles: titles };
  frame.style.height = result.height + 'px';
  document.getElementById('result').textContent = JSON.stringify(result);
});
</script></body></html>"#;

fn chromium_command(harness: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
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

fn check_layout(email: &Path, expected_titles: usize, work: &Path, name: &str) {
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
    }
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
        check_layout(&email, titles, &work, &format!("sample-{variant}"));
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
    check_layout(&email, 4, &work, "office-ar");
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
