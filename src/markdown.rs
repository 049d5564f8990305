//! The Markdown that editors write in item bodies: what links and images it holds (for
//! validation), and its two renderings — sanitised HTML for the email and wrapped plain text for
//! the text part.
//!
//! Owns every use of pulldown-cmark and ammonia. Raw HTML an editor types is never trusted: the
//! HTML output always passes through ammonia. It must not know about editions or templates.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES
}

/// A link or image found in Markdown, with its byte offset in the Markdown text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub url: String,
    pub offset: usize,
    /// For images: the alt text (empty when missing). For links: the link text.
    pub text: String,
    pub is_image: bool,
}

/// What validation needs to know about a piece of Markdown.
#[derive(Debug, Default)]
pub struct Scan {
    pub references: Vec<Reference>,
    /// Byte offsets of raw HTML, which will be sanitised.
    pub raw_html: Vec<usize>,
}

pub fn scan(markdown: &str) -> Scan {
    let mut scan = Scan::default();
    let mut open: Vec<Reference> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => open.push(Reference {
                url: dest_url.to_string(),
                offset: range.start,
                text: String::new(),
                is_image: false,
            }),
            Event::Start(Tag::Image { dest_url, .. }) => open.push(Reference {
                url: dest_url.to_string(),
                offset: range.start,
                text: String::new(),
                is_image: true,
            }),
            Event::Text(t) | Event::Code(t) => {
                if let Some(r) = open.last_mut() {
                    r.text.push_str(&t);
                }
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if let Some(r) = open.pop() {
                    scan.references.push(r);
                }
            }
            Event::Html(_) | Event::InlineHtml(_) => scan.raw_html.push(range.start),
            _ => {}
        }
    }
    scan
}

/// Built once: an ammonia builder holds sets of every allowed tag and attribute, and an
/// edition has a hundred Markdown fields per variant.
static SANITISER: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener"))
        .url_schemes(["http", "https", "mailto"].into());
    builder
});

/// Markdown → HTML safe to put in an email: only ammonia's allow-list of tags and attributes
/// survives, so `<script>`, event handlers and `javascript:` links are removed.
///
/// Two changes on the way, so that the HTML part says what the text part says:
/// - headings go two levels down (`#` is an `h3`): a body sits under its item's `h2`, and a
///   reader (or a screen reader) of the email never meets a level that skips one;
/// - a stray `<style>` or `<script>` tag shows as the text it is, and what follows it stays
///   Markdown (see [`content_tags_as_text`]). (`check` warns about raw HTML.)
pub fn to_html(markdown: &str) -> String {
    let markdown = &content_tags_as_text(markdown);
    let deeper = |level: HeadingLevel| match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    };
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: deeper(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(deeper(level))),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    // Column alignment as the `align` attribute ammonia keeps (it drops every `style`).
    let html = html.replace(" style=\"text-align: ", " align=\"");
    // A literal backslash as a reference, for mrml (see `render::for_mrml`).
    let clean = SANITISER.clean(&html).to_string().trim_end().replace('\\', "&#92;");
    table_cells_spaced(&clean)
}

/// A table's cells with room between them, and words that wrap only between words: the
/// email's stylesheet lets layout cells break long words anywhere, which split a column
/// header mid-word on a phone. Added after sanitising, so these styles are ours alone.
fn table_cells_spaced(html: &str) -> String {
    static CELL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"<(th|td)((?: align="[a-z]+")?)>"#).unwrap_or_else(|e| panic!("{e}"))
    });
    if !html.contains("<table") {
        return html.to_string();
    }
    let html = html.replace("<table>", "<table style=\"border-collapse:collapse;margin:0 0 10px;\">");
    CELL.replace_all(
        &html,
        r#"<$1$2 style="padding:4px 10px 4px 0;vertical-align:top;word-break:normal;overflow-wrap:normal;">"#,
    )
    .into_owned()
}

/// The Markdown without `<script>…</script>` and `<style>…</style>` elements (code, never
/// the editor's text: ammonia would drop them whole anyway), and with any stray tag of those
/// two written as text (`&lt;style>`): an unclosed one would otherwise swallow the rest of the
/// item, in Markdown and in HTML, and a registration deadline vanished from the HTML part.
fn content_tags_as_text(markdown: &str) -> std::borrow::Cow<'_, str> {
    static ELEMENTS: std::sync::LazyLock<[regex::Regex; 2]> = std::sync::LazyLock::new(|| {
        ["script", "style"].map(|tag| {
            regex::Regex::new(&format!(r"(?is)<{tag}\b[^>]*>.*?</\s*{tag}\s*>")).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    static STRAY_TAG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)<(/?\s*(?:script|style)\b)").unwrap_or_else(|e| panic!("{e}"))
    });
    if !STRAY_TAG.is_match(markdown) {
        return std::borrow::Cow::Borrowed(markdown);
    }
    let mut text = markdown.to_string();
    for element in ELEMENTS.iter() {
        text = element.replace_all(&text, "").into_owned();
    }
    std::borrow::Cow::Owned(STRAY_TAG.replace_all(&text, "&lt;$1").into_owned())
}

/// Markdown → plain text, wrapped to `width` columns: paragraphs separated by a blank line,
/// bullets as `- ` (nested ones indented), numbered lists as `1. `, links as `text <url>`.
pub fn to_text(markdown: &str, width: usize) -> String {
    TextWriter::new(width).write(&content_tags_as_text(markdown))
}

struct ListState {
    next_number: Option<u64>,
}

struct TextWriter {
    width: usize,
    out: Vec<String>,
    lists: Vec<ListState>,
    /// Text of the block being collected, and the marker (`- `, `1. `) of its first line.
    current: String,
    marker: Option<String>,
    /// Open links and images: their URL and where their text starts in `current`.
    links: Vec<(String, usize)>,
    heading: bool,
    /// A list item's first paragraph continues the item's line instead of starting a block.
    item_opened: bool,
    /// The table being read: its rows of cells, the header first.
    table: Option<Vec<Vec<String>>>,
    /// How many block quotes are open: each line of their text starts with `> `.
    quotes: usize,
}

impl TextWriter {
    fn new(width: usize) -> Self {
        TextWriter {
            width,
            out: Vec::new(),
            lists: Vec::new(),
            current: String::new(),
            marker: None,
            links: Vec::new(),
            heading: false,
            item_opened: false,
            table: None,
            quotes: 0,
        }
    }

    /// A table as text: aligned columns under a rule when they fit the width, otherwise each
    /// row as `Header: value` lines, one row after another.
    fn table(&mut self, rows: Vec<Vec<String>>) {
        let Some((header, body)) = rows.split_first() else {
            return;
        };
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let cell = |row: &Vec<String>, c: usize| row.get(c).cloned().unwrap_or_default();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                rows.iter()
                    .map(|r| textwrap::core::display_width(&cell(r, c)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let indent = "> ".repeat(self.quotes);
        if !self.out.is_empty() {
            self.out.push(String::new());
        }
        let total = widths.iter().sum::<usize>() + 3 * columns.saturating_sub(1) + indent.len();
        if total <= self.width {
            let line = |row: &Vec<String>| {
                let cells: Vec<String> = (0..columns)
                    .map(|c| {
                        let text = cell(row, c);
                        let pad = widths[c] - textwrap::core::display_width(&text);
                        format!("{text}{}", " ".repeat(pad))
                    })
                    .collect();
                format!("{indent}{}", cells.join(" | ")).trim_end().to_string()
            };
            self.out.push(line(header));
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat((*w).max(1))).collect();
            self.out.push(format!("{indent}{}", rule.join("-+-")));
            for row in body {
                self.out.push(line(row));
            }
        } else {
            for (n, row) in body.iter().enumerate() {
                if n > 0 {
                    self.out.push(indent.trim_end().to_string());
                }
                for c in 0..columns {
                    let text = format!("{}: {}", cell(header, c), cell(row, c));
                    self.out
                        .extend(wrap(&text, self.width, &format!("{indent}- "), &format!("{indent}  ")));
                }
            }
        }
    }

    fn flush(&mut self) {
        let text = self.current.trim().to_string();
        self.current.clear();
        if text.is_empty() {
            return;
        }
        let text = if self.heading { text.to_uppercase() } else { text };
        // Each open list level indents by two; the marker hangs in the parent's indent.
        let quote = "> ".repeat(self.quotes);
        let indent = format!("{quote}{}", " ".repeat(self.lists.len().saturating_sub(1) * 2));
        let (first, rest) = match self.marker.take() {
            Some(marker) => (
                format!("{indent}{marker}"),
                format!("{indent}{}", " ".repeat(marker.len())),
            ),
            None if self.lists.is_empty() => (quote.clone(), quote.clone()),
            None => (format!("{indent}  "), format!("{indent}  ")),
        };
        // Top-level paragraphs are separated by a blank line; list items stay tight, as in the
        // editions people actually write.
        if !self.out.is_empty() && self.lists.is_empty() {
            self.out.push(quote.trim_end().to_string());
        }
        self.out.extend(wrap(&text, self.width, &first, &rest));
    }

    fn write(mut self, markdown: &str) -> String {
        for event in Parser::new_ext(markdown, options()) {
            match event {
                Event::Start(Tag::Paragraph) => {
                    let continues_item = std::mem::take(&mut self.item_opened);
                    if !continues_item {
                        self.flush();
                    }
                }
                Event::End(TagEnd::Paragraph) => self.flush(),
                Event::Start(Tag::Heading { level, .. }) => {
                    self.flush();
                    self.heading = level <= HeadingLevel::H3;
                }
                Event::End(TagEnd::Heading(_)) => {
                    self.flush();
                    self.heading = false;
                }
                Event::Start(Tag::List(start)) => {
                    self.flush();
                    if self.lists.is_empty() && !self.out.is_empty() {
                        self.out.push(String::new());
                    }
                    self.lists.push(ListState { next_number: start });
                }
                Event::End(TagEnd::List(_)) => {
                    self.flush();
                    self.lists.pop();
                }
                Event::Start(Tag::Item) => {
                    self.flush();
                    let marker = match self.lists.last_mut().and_then(|l| l.next_number.as_mut()) {
                        Some(n) => {
                            *n += 1;
                            format!("{}. ", *n - 1)
                        }
                        None => "- ".to_string(),
                    };
                    self.marker = Some(marker);
                    self.item_opened = true;
                }
                Event::End(TagEnd::Item) => self.flush(),
                Event::Start(Tag::Link { dest_url, .. }) => {
                    self.links.push((dest_url.to_string(), self.current.len()));
                }
                Event::Start(Tag::Image { dest_url, .. }) => {
                    self.current.push('[');
                    self.links.push((dest_url.to_string(), self.current.len()));
                }
                Event::End(TagEnd::Link) => {
                    if let Some((url, start)) = self.links.pop() {
                        let text = self.current[start..].trim();
                        let shown = url.strip_prefix("mailto:").unwrap_or(&url);
                        if text != shown && text != url {
                            self.current.push_str(&format!(" <{shown}>"));
                        }
                    }
                }
                Event::End(TagEnd::Image) => {
                    if let Some((url, _)) = self.links.pop() {
                        self.current.push_str(&format!("] <{url}>"));
                    }
                }
                Event::Start(Tag::BlockQuote(_)) => {
                    self.flush();
                    self.quotes += 1;
                }
                Event::End(TagEnd::BlockQuote(_)) => {
                    self.flush();
                    self.quotes = self.quotes.saturating_sub(1);
                }
                Event::Start(Tag::Table(_)) => {
                    self.flush();
                    self.table = Some(Vec::new());
                }
                Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                    if let Some(rows) = self.table.as_mut() {
                        rows.push(Vec::new());
                    }
                }
                Event::End(TagEnd::TableCell) => {
                    let text = std::mem::take(&mut self.current)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    if let Some(row) = self.table.as_mut().and_then(|rows| rows.last_mut()) {
                        row.push(text);
                    }
                }
                Event::End(TagEnd::Table) => {
                    if let Some(rows) = self.table.take() {
                        self.table(rows);
                    }
                }
                Event::Text(t) | Event::Code(t) => self.current.push_str(&t),
                Event::SoftBreak => self.current.push(' '),
                Event::HardBreak => self.current.push('\n'),
                Event::Rule => {
                    self.flush();
                    self.out.push(String::new());
                    self.out.push("-".repeat(self.width.min(40)));
                }
                _ => {}
            }
        }
        self.flush();
        self.out.join("\n")
    }
}

/// Wraps `text` (which may contain hard line breaks) to `width` columns without breaking words,
/// so a long URL stays whole on its own line.
pub fn wrap(text: &str, width: usize, first_indent: &str, rest_indent: &str) -> Vec<String> {
    let options = textwrap::Options::new(width)
        .initial_indent(first_indent)
        .subsequent_indent(rest_indent)
        .break_words(false)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut lines = Vec::new();
    for (i, part) in text.split('\n').enumerate() {
        let opts = if i == 0 {
            options.clone()
        } else {
            options.clone().initial_indent(rest_indent)
        };
        lines.extend(
            textwrap::wrap(part.trim(), opts)
                .into_iter()
                .map(|l| l.trim_end().to_string()),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_style_or_script_tag_never_takes_the_text_after_it() {
        for md in [
            "Register now.\n\n<style>\n\nDeadline: **20 January**.",
            "Register <style>now. Deadline: **20 January**.",
            "Register <SCRIPT type=x>now. Deadline: **20 January**.",
        ] {
            let html = to_html(md);
            assert!(
                html.contains("Deadline: <strong>20 January</strong>"),
                "{md:?} → {html}"
            );
            let lower = html.to_lowercase();
            assert!(!lower.contains("<style") && !lower.contains("<script"), "{html}");
            assert!(
                lower.contains("&lt;style") || lower.contains("&lt;script"),
                "shown as text: {html}"
            );
            assert!(to_text(md, 78).contains("20 January"));
        }
    }

    #[test]
    fn a_table_reads_as_aligned_columns_in_text_and_keeps_its_alignment_in_html() {
        let md = "Results:\n\n| (instructions:u) | mean | range | count |\n|:--|--:|:-:|--:|\n| Regressions ❌ (primary) | 0.6% | [0.1%, 1.8%] | 25 |\n| Improvements | -1.2% | [-3.0%, -0.2%] | 7 |\n\nAfter the table.\nSame paragraph.";
        let text = to_text(md, 78);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines.contains(&"(instructions:u)         | mean  | range          | count"),
            "{text}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with("Regressions ❌ (primary) | 0.6%")),
            "{text}"
        );
        assert!(text.contains("\n\nAfter the table. Same paragraph."), "{text}");
        let html = to_html(md);
        assert!(html.contains("<td align=\"right\" style=\"padding:"), "{html}");
        assert!(html.contains("<th align=\"center\""), "{html}");
        // Too wide for the text width: each row as `Header: value` lines.
        let narrow = to_text(md, 40);
        assert!(
            narrow.contains("- (instructions:u): Regressions ❌\n  (primary)\n- mean: 0.6%"),
            "{narrow}"
        );
    }

    #[test]
    fn a_block_quote_keeps_its_marks_in_text() {
        let text = to_text("Before.\n\n> Quoted words that go on and on until they wrap onto a second line of the text.\n>\n> Second paragraph.\n\nAfter.", 40);
        assert!(text.contains("\n> Quoted words"), "{text}");
        assert!(text.lines().filter(|l| l.starts_with("> ")).count() >= 3, "{text}");
        assert!(text.contains("\n>\n> Second paragraph."), "{text}");
        assert!(text.ends_with("\n\nAfter."), "{text}");
    }

    #[test]
    fn headings_sit_two_levels_below_so_they_never_skip_the_items_h2() {
        let html = to_html("# One\n\n## Two\n\n### Three\n\n#### Four");
        assert_eq!(html.matches("<h3>").count(), 1, "{html}");
        assert_eq!(html.matches("<h4>").count(), 1, "{html}");
        assert_eq!(html.matches("<h5>").count(), 1, "{html}");
        assert_eq!(html.matches("<h6>").count(), 1, "{html}");
        assert!(!html.contains("<h1>") && !html.contains("<h2>"), "{html}");
    }

    #[test]
    fn finds_links_and_images_with_their_offsets() {
        let md = "See [the form](https://a.org/f).\n\n![](https://a.org/i.png)";
        let scan = scan(md);
        assert_eq!(scan.references.len(), 2);
        assert_eq!(scan.references[0].url, "https://a.org/f");
        assert_eq!(scan.references[0].text, "the form");
        assert_eq!(scan.references[0].offset, 4);
        assert!(scan.references[1].is_image);
        assert_eq!(scan.references[1].text, "");
    }

    #[test]
    fn removes_scripts_and_event_handlers_from_html() {
        let html = to_html("Hi <script>alert(1)</script> <b onclick=\"x()\">there</b> [x](javascript:alert(1))");
        // A whole script element is code: it goes, with its content.
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<b>there</b>"), "{html}");
    }

    #[test]
    fn text_shows_bullets_numbers_and_links_in_angle_brackets() {
        let md = "Intro with a [link](https://a.org/x).\n\n- one\n- two\n  1. first\n  2. second\n";
        let text = to_text(md, 77);
        assert_eq!(
            text,
            "Intro with a link <https://a.org/x>.\n\n- one\n- two\n  1. first\n  2. second"
        );
    }

    #[test]
    fn text_wraps_below_78_columns_with_hanging_indent() {
        let md = format!("- {}", "word ".repeat(40));
        let text = to_text(&md, 77);
        assert!(text.lines().count() > 2);
        for line in text.lines() {
            assert!(line.chars().count() <= 77, "{line:?}");
        }
        assert!(text.lines().nth(1).unwrap().starts_with("  word"));
    }
}
