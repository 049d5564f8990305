//! Where a text names an edition number: "N°22", "N.º 22", "No. 22", "№ 22", "第22期",
//! "العدد 22", and whatever a label table's `number_format` writes ("N°{number}"); the digits
//! may be of any decimal script ("العدد ٢٢", "Nº ۲۲"), and a new number is written in the same.
//!
//! Owns these patterns, so that `next` (which moves them to the new number) and `check` (which
//! warns when one names another number than the edition's) agree on what counts. Only a number
//! written with such a marker counts: "4th session", "2026" or "44 schools" never do. It must
//! not decide what is wrong with a mention: callers compare it with the edition's number.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::types::digits;

/// An edition number written in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberMention {
    /// The whole mention, marker included (`N.º 22`).
    pub written: String,
    /// Byte range of the digits in the text.
    pub digits: Range<usize>,
    pub number: u64,
}

/// The markers people write before (or around) an edition's number, whatever the label tables
/// say. Group 1 is the number.
static MARKERS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // N°22, n° 22, Nº22, N.º 22, N. º 22
        r"(?i)\bN\.?\s?[°º]\s?(\d+)",
        // No. 22, Nr. 22, Núm. 22
        r"(?i)\b(?:No|Nr|Núm|Num)\.\s?(\d+)",
        r"№\s?(\d+)",
        r"第\s?(\d+)\s?期",
        r"العدد\s?(\d+)",
    ]
    .iter()
    .map(|p| Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}")))
    .collect()
});

/// A label table's `number_format` ("N°{number}") as a pattern; `None` without `{number}`.
fn format_pattern(format: &str) -> Option<Regex> {
    let (before, after) = format.split_once("{number}")?;
    let (before, after) = (before.trim(), after.trim());
    if before.is_empty() && after.is_empty() {
        // A bare number is any number: it would flag "2026".
        return None;
    }
    Regex::new(&format!(r"{}\s?(\d+){}", regex::escape(before), regex::escape(after))).ok()
}

/// The edition numbers `text` names, in order; `formats` are the `number_format`s of the label
/// tables that may apply (each adds its own way of writing a number).
pub fn find(text: &str, formats: &[&str]) -> Vec<NumberMention> {
    let extra: Vec<Regex> = formats.iter().filter_map(|f| format_pattern(f)).collect();
    let mut found: Vec<NumberMention> = Vec::new();
    for regex in MARKERS.iter().chain(&extra) {
        for caps in regex.captures_iter(text) {
            let (Some(whole), Some(digits)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            let Some(number) = digits::value(digits.as_str()) else {
                continue;
            };
            if found.iter().any(|f| f.digits == digits.range()) {
                continue;
            }
            found.push(NumberMention {
                written: whole.as_str().to_string(),
                digits: digits.range(),
                number,
            });
        }
    }
    found.sort_by_key(|m| m.digits.start);
    found
}

/// `text` with every mention of `from` written as `to` instead (in the digits it was written
/// in), and how many there were.
pub fn renumber(text: &str, formats: &[&str], from: u64, to: u64) -> (String, usize) {
    let mut out = text.to_string();
    let hits: Vec<_> = find(text, formats).into_iter().filter(|m| m.number == from).collect();
    // Back to front, so that the earlier ranges stay valid.
    for m in hits.iter().rev() {
        out.replace_range(m.digits.clone(), &digits::like(to, &text[m.digits.clone()]));
    }
    (out, hits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<u64> {
        find(text, &[]).iter().map(|m| m.number).collect()
    }

    #[test]
    fn the_ways_an_edition_number_is_written_are_found() {
        assert_eq!(numbers("ASPnet Info Flash N°22: Get ready"), [22]);
        assert_eq!(numbers("Info Flash ASPnet N.º 22: prepárese"), [22]);
        assert_eq!(
            numbers("n° 7, Nº8, No. 9, № 10, 第11期, العدد 12"),
            [7, 8, 9, 10, 11, 12]
        );
    }

    #[test]
    fn ordinary_numbers_years_and_ordinals_are_not_edition_numbers() {
        assert!(numbers("the 4th session of 2026, with 44 schools and no 5 hours").is_empty());
        assert!(numbers("la 4.ª sesión, la 4e session").is_empty());
    }

    #[test]
    fn a_label_tables_number_format_adds_its_own_pattern() {
        assert!(find("Ausgabe 22", &[]).is_empty());
        let found = find("Ausgabe 22", &["Ausgabe {number}"]);
        assert_eq!(found[0].number, 22);
        assert_eq!(found[0].written, "Ausgabe 22");
        // A format that is the bare number would match every number: it adds nothing.
        assert!(find("2026", &["{number}"]).is_empty());
    }

    #[test]
    fn renumbering_changes_the_mentions_of_one_number_only() {
        let (text, n) = renumber("N°22 after N°21, N.º 22 and 22 schools", &[], 22, 23);
        assert_eq!(text, "N°23 after N°21, N.º 23 and 22 schools");
        assert_eq!(n, 2);
        assert_eq!(renumber("N°221", &[], 22, 23), ("N°221".to_string(), 0));
    }

    #[test]
    fn a_number_in_arabic_indic_or_other_digits_is_found_and_renumbered_in_the_same_digits() {
        assert_eq!(numbers("نشرة Info Flash العدد ٢٢"), [22]);
        assert_eq!(numbers("العدد ۲۲، N°２２"), [22, 22]);
        assert_eq!(
            renumber("العدد ٢٩ و N°29 و العدد ۲۹", &[], 29, 30),
            ("العدد ٣٠ و N°30 و العدد ۳۰".to_string(), 3)
        );
        // Digits of two scripts are no number, and one too large for a u64 is none either.
        assert!(numbers("العدد ٢2").is_empty());
        assert!(numbers("N°99999999999999999999999").is_empty());
    }
}
