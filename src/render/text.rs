//! The plain-text part, written from the same view as the HTML (never scraped from it):
//! headings, bullets, `text <url>` links, every line below 78 columns.

use super::view::{EmailView, EventView, ItemView, LinkView, Rich, TEXT_WIDTH};
use crate::markdown::wrap;

struct Out(Vec<String>);

impl Out {
    fn blank(&mut self) {
        if self.0.last().is_some_and(|l| !l.is_empty()) {
            self.0.push(String::new());
        }
    }

    fn para(&mut self, text: &str) {
        self.0.extend(wrap(text, TEXT_WIDTH, "", ""));
    }

    fn bullet(&mut self, text: &str) {
        self.0.extend(wrap(text, TEXT_WIDTH, "- ", "  "));
    }

    /// A continuation line under a bullet.
    fn under(&mut self, text: &str) {
        self.0.extend(wrap(text, TEXT_WIDTH, "  ", "  "));
    }

    fn rich(&mut self, rich: &Option<Rich>) {
        if let Some(r) = rich {
            self.blank();
            self.0.extend(r.text.lines().map(str::to_string));
        }
    }

    /// `Label:` and, on the line below, `<url>`: the per-recipient URLs run past a line of
    /// their own already, and a label sharing it would push the line further.
    fn link(&mut self, label: &str, colon: &str, url: &str) {
        self.para(&format!("{label}{}", colon.trim_end()));
        self.0.push(format!("<{url}>"));
    }

    fn rule(&mut self, c: char) {
        self.blank();
        self.0.push(c.to_string().repeat(TEXT_WIDTH));
    }
}

pub fn render(view: &EmailView) -> String {
    let label = |k: &str| view.labels.get(k).map_or(k, String::as_str).to_string();
    let colon = label("colon");
    let mut out = Out(Vec::new());
    out.para(&format!("{} {}", view.series, view.number));
    if let Some(subtitle) = &view.subtitle {
        out.para(subtitle);
    }
    out.para(&view.date);
    if let Some(region) = &view.region {
        out.para(region);
    }
    out.blank();
    out.link(&label("view_in_browser"), &colon, &view.view_online_url);
    out.blank();
    out.para(&view.greeting);
    out.rich(&view.intro);

    out.rule('=');
    out.para(&label("in_this_issue").to_uppercase());
    for item in &view.items {
        out.bullet(&item.title);
    }
    if let Some(days) = &view.days {
        out.bullet(&days.title);
    }

    for item in &view.items {
        out.rule('=');
        write_item(&mut out, item, &label);
    }

    if let Some(days) = &view.days {
        out.rule('=');
        out.para(&days.label);
        out.para(&days.title.to_uppercase());
        out.rich(&days.intro);
        out.blank();
        for day in &days.days {
            out.bullet(&format!("{}{colon}{}", day.date, day.name));
            out.under(&format!("<{}>", day.url));
        }
    }

    if let Some(closing) = &view.closing {
        out.rule('=');
        out.0.extend(closing.text.lines().map(str::to_string));
    }

    out.rule('-');
    out.para(&label("footer_reason"));
    if let Some(address) = &view.postal_address {
        out.para(address);
    }
    out.blank();
    out.link(&label("view_in_browser"), &colon, &view.view_online_url);
    out.link(&label("unsubscribe"), &colon, &view.unsubscribe_url);
    if view.dir == "rtl" {
        // A mail program sets each plain-text paragraph's direction from its first strong
        // letter: a line opening with a Latin name, a bullet's number or a URL would be laid
        // out left to right. A right-to-left mark first makes every line read from the right.
        for line in out.0.iter_mut().filter(|l| !l.is_empty()) {
            line.insert(0, '\u{200f}');
        }
    }
    let mut text = out.0.join("\n");
    text.push('\n');
    text
}

fn write_item(out: &mut Out, item: &ItemView, label: &dyn Fn(&str) -> String) {
    let colon = label("colon");
    // A heading line such as "Deadlines:" ends with the colon, without its trailing space.
    let heading = |key: &str| format!("{}{}", label(key), colon.trim_end());
    if !item.label.is_empty() {
        out.para(&item.label);
    }
    out.para(&item.title.to_uppercase());
    if let Some(url) = &item.title_url {
        out.0.push(format!("<{url}>"));
    }
    if let Some(meta) = &item.meta {
        out.para(meta);
    }
    if let Some(url) = &item.calendar_url {
        out.para(&format!("{} <{url}>", label("add_to_calendar")));
    }
    out.rich(&item.body);
    if item.eligibility.is_some() {
        out.blank();
        out.para(&label("eligibility"));
        out.rich(&item.eligibility);
    }
    if !item.sessions.is_empty() {
        out.blank();
        out.para(&heading("sessions"));
        for s in &item.sessions {
            let head = if s.heading.is_empty() {
                s.when.clone()
            } else {
                format!("{}{colon}{}", s.heading, s.when)
            };
            out.bullet(&head);
            if let Some(languages) = &s.languages {
                out.under(languages);
            }
            if let Some(link) = &s.link {
                out.under(&link_line(link));
            }
            if let Some(url) = &s.calendar_url {
                out.under(&format!("{} <{url}>", label("add_to_calendar")));
            }
            if let Some(note) = &s.note {
                // Already wrapped two columns narrower by the view.
                out.0.extend(
                    note.text
                        .lines()
                        .map(|l| if l.is_empty() { String::new() } else { format!("  {l}") }),
                );
            }
        }
    }
    if !item.events.is_empty() {
        out.blank();
        for e in &item.events {
            write_event(out, e);
        }
    }
    if !item.deadlines.is_empty() {
        out.blank();
        out.para(&heading("deadlines"));
        for d in &item.deadlines {
            out.bullet(&format!("{}{colon}{}", d.what, d.date));
        }
    }
    if !item.links.is_empty() {
        out.blank();
        out.para(&heading("links"));
        for l in &item.links {
            out.bullet(&link_line(l));
        }
    }
    if !item.contacts.is_empty() {
        out.blank();
        out.para(&heading("contacts"));
        for c in &item.contacts {
            match &c.name {
                Some(name) => out.bullet(&format!("{name} <{}>", c.email)),
                None => out.bullet(&c.email),
            }
        }
    }
}

/// `text <url>`, or `text (link to be announced)` while the address is unknown.
fn link_line(link: &LinkView) -> String {
    match &link.url {
        Some(url) => format!("{} <{url}>", link.text),
        None if link.tba.is_empty() => link.text.clone(),
        None => format!("{} ({})", link.text, link.tba),
    }
}

/// One row of an event list: date, place and region on the bullet, the title and its link
/// under it. Its calendar file stays in the HTML, where the date links to it.
fn write_event(out: &mut Out, e: &EventView) {
    let mut head = e.date.clone();
    for part in [&e.place, &e.region].into_iter().flatten() {
        head = format!("{head} · {part}");
    }
    out.bullet(&head);
    out.under(&link_line(&LinkView {
        text: e.title.clone(),
        url: e.url.clone(),
        tba: e.tba.clone(),
    }));
}
