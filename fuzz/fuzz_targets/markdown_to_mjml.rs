//! Markdown in an item body → sanitised HTML → inside `<mj-text>` of an MJML document → HTML
//! with mrml, as the item templates do (`{{{item.body.html}}}`), plus the plain-text rendering
//! and the link scan. Whatever an editor types, the sanitised HTML keeps no script and mrml
//! can parse and render the MJML around it.
//!
//! Characters that XML 1.0 forbids (`types::is_forbidden_control`: C0 controls other than tab,
//! line feed and carriage return; U+FFFE, U+FFFF) never reach a body: the edition loader
//! refuses them with their line (issue 7's finding, fixed so). Such inputs skip the MJML
//! check. (NUL is kept: pulldown-cmark turns it into U+FFFD.)
#![no_main]

use infoflash::render::{mjml_to_html, Scope, Variant};
use libfuzzer_sys::fuzz_target;

fn forbidden_in_xml(c: char) -> bool {
    c != '\u{0}' && infoflash::types::is_forbidden_control(c)
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the text width (as configured: at least 20 columns).
    let Some((&width, rest)) = data.split_first() else {
        return;
    };
    let Ok(markdown) = std::str::from_utf8(rest) else {
        return;
    };
    let scan = infoflash::markdown::scan(markdown);
    for r in &scan.references {
        assert!(r.offset <= markdown.len());
    }
    let _ = infoflash::markdown::to_text(markdown, 20 + usize::from(width));
    let html = infoflash::markdown::to_html(markdown);
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "a script survived sanitising: {html}"
    );
    if markdown.chars().any(forbidden_in_xml) {
        return;
    }
    let mjml = format!(
        "<mjml><mj-body><mj-section><mj-column><mj-text>{html}</mj-text></mj-column></mj-section></mj-body></mjml>"
    );
    let variant = Variant {
        language: "en".parse().unwrap(),
        scope: Scope::All,
    };
    if let Err(e) = mjml_to_html(&mjml, &variant) {
        panic!("sanitised Markdown broke the MJML: {e}\nmarkdown: {markdown:?}\nhtml: {html:?}");
    }
});
