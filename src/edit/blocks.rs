//! Items as blocks of text: an item is its `[[items]]` header with the comment lines directly
//! above it, through the line before the next block (the next item's, or the next table that is
//! not part of an item). Adding, removing and reordering items move these blocks whole, so
//! every other byte of the file stays as written: `toml_edit` keeps a table's place in the
//! document by its position, which a reordered array of tables would not follow.
//!
//! Owns only the block arithmetic; it must not change a value inside a block.

use std::ops::Range;

use super::EditError;

/// Where the blocks of a file are: each item's byte range, in reading order, and where a new
/// item goes (after the last item, or before the first table that follows the items).
#[derive(Debug, Clone)]
pub struct Blocks {
    pub items: Vec<Range<usize>>,
    pub insert_at: usize,
}

/// The header of every table in the file: its byte offset and its dotted path without
/// indexes (`items.sessions`), in file order.
fn headers(text: &str) -> Result<Vec<(usize, Vec<String>)>, EditError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| EditError::Syntax(e.to_string()))?;
    let mut out = Vec::new();
    walk(doc.as_item(), &mut Vec::new(), &mut out);
    out.sort_by_key(|(at, _)| *at);
    Ok(out)
}

fn walk(item: &toml_edit::Item, path: &mut Vec<String>, out: &mut Vec<(usize, Vec<String>)>) {
    let table = |t: &toml_edit::Table, path: &mut Vec<String>, out: &mut Vec<(usize, Vec<String>)>| {
        if let Some(span) = t.span() {
            if !t.is_implicit() && !t.is_dotted() && !path.is_empty() {
                out.push((span.start, path.clone()));
            }
        }
        for (key, child) in t.iter() {
            path.push(key.to_string());
            walk(child, path, out);
            path.pop();
        }
    };
    match item {
        toml_edit::Item::Table(t) => table(t, path, out),
        toml_edit::Item::ArrayOfTables(a) => {
            for t in a.iter() {
                table(t, path, out);
            }
        }
        _ => {}
    }
}

/// The start of the line holding `at`, moved up over the comment lines directly above it.
fn block_start(text: &str, at: usize) -> usize {
    let mut start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    while start > 0 {
        let above = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        if text[above..start].trim_start().starts_with('#') {
            start = above;
        } else {
            break;
        }
    }
    start
}

/// The item blocks of `text`. Items written inline (`items = [{ … }]`) have no blocks.
pub fn blocks(text: &str) -> Result<Blocks, EditError> {
    let headers = headers(text)?;
    let mut items: Vec<Range<usize>> = Vec::new();
    let mut open: Option<usize> = None;
    let mut insert_at = None;
    for (at, path) in &headers {
        let is_item = path.len() == 1 && path[0] == "items";
        let inside_item = path.first().is_some_and(|p| p == "items") && !is_item;
        if inside_item {
            continue;
        }
        let start = block_start(text, *at);
        if let Some(s) = open.take() {
            items.push(s..start);
            if !is_item {
                insert_at.get_or_insert(start);
            }
        }
        if is_item {
            open = Some(start);
        }
    }
    if let Some(s) = open {
        items.push(s..text.len());
    }
    if items.is_empty() && text.contains("items") {
        let doc = toml_edit::Document::parse(text).map_err(|e| EditError::Syntax(e.to_string()))?;
        if doc.get("items").is_some_and(|i| i.is_value()) {
            return Err(EditError::Inline);
        }
    }
    let insert_at = insert_at.unwrap_or_else(|| items.last().map_or(text.len(), |r| r.end));
    Ok(Blocks { items, insert_at })
}

/// `text` with every block ending in a line break, so that blocks can be moved.
fn with_final_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// Item `from` moved to index `to` (both in reading order).
pub fn move_item(text: &str, from: usize, to: usize) -> Result<String, EditError> {
    let text = with_final_newline(text);
    let b = blocks(&text)?;
    if from >= b.items.len() || to >= b.items.len() {
        return Err(EditError::NoSuchItem(from.max(to)));
    }
    if from == to {
        return Ok(text);
    }
    let span = b.items[0].start..b.items[b.items.len() - 1].end;
    let mut pieces: Vec<&str> = b.items.iter().map(|r| &text[r.clone()]).collect();
    let moved = pieces.remove(from);
    pieces.insert(to, moved);
    Ok(format!(
        "{}{}{}",
        &text[..span.start],
        pieces.concat(),
        &text[span.end..]
    ))
}

/// Item `index` removed, with the comments directly above it.
pub fn remove_item(text: &str, index: usize) -> Result<String, EditError> {
    let b = blocks(text)?;
    let r = b.items.get(index).ok_or(EditError::NoSuchItem(index))?;
    Ok(format!("{}{}", &text[..r.start], &text[r.end..]))
}

/// `block` (a whole item, header first) added after the last item.
pub fn add_item(text: &str, block: &str) -> Result<String, EditError> {
    let text = with_final_newline(text);
    let b = blocks(&text)?;
    let at = b.insert_at;
    // A blank line before the new item, as between the others.
    let before = &text[..at];
    let gap = if before.is_empty() || before.ends_with("\n\n") {
        ""
    } else {
        "\n"
    };
    let after = &text[at..];
    let tail = if after.is_empty() { "" } else { "\n" };
    Ok(format!("{before}{gap}{block}{tail}{after}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[edition]\nnumber = 1\n\n# first\n[[items]]\nid = \"a\"\nbody = '''\n[[items]]\n'''\n[[items.sessions]]\ndate = 2026-01-01\n\n# second\n# still second\n[[items]]\nid = \"b\"\n\n# the days\n[international_days]\ntitle = \"x\"\n";

    #[test]
    fn items_are_their_headers_with_the_comments_above_and_text_lookalikes_do_not_count() {
        let b = blocks(TEXT).unwrap();
        assert_eq!(b.items.len(), 2);
        assert!(TEXT[b.items[0].clone()].starts_with("# first\n[[items]]\nid = \"a\""));
        assert!(TEXT[b.items[0].clone()].ends_with("date = 2026-01-01\n\n"));
        assert_eq!(
            &TEXT[b.items[1].clone()],
            "# second\n# still second\n[[items]]\nid = \"b\"\n\n"
        );
        assert!(TEXT[b.insert_at..].starts_with("# the days"));
    }

    #[test]
    fn moving_an_item_moves_its_block_and_nothing_else() {
        let moved = move_item(TEXT, 1, 0).unwrap();
        assert!(
            moved.starts_with("[edition]\nnumber = 1\n\n# second\n# still second\n[[items]]\nid = \"b\"\n\n# first\n")
        );
        assert!(moved.ends_with("# the days\n[international_days]\ntitle = \"x\"\n"));
        assert_eq!(moved.len(), TEXT.len());
        assert_eq!(move_item(&moved, 0, 1).unwrap(), TEXT);
    }

    #[test]
    fn a_new_item_goes_after_the_last_and_a_removed_one_takes_its_comments() {
        let added = add_item(TEXT, "[[items]]\nid = \"c\"\n").unwrap();
        assert!(
            added.contains("id = \"b\"\n\n[[items]]\nid = \"c\"\n\n# the days"),
            "{added}"
        );
        let removed = remove_item(TEXT, 0).unwrap();
        assert!(!removed.contains("# first") && !removed.contains("id = \"a\""));
        assert!(removed.starts_with("[edition]\nnumber = 1\n\n# second"));
    }
}
