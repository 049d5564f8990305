//! Numbers written in the decimal digits of any script an edition's languages use: "22",
//! Arabic-Indic "٢٢", Persian "۲۲", fullwidth "２２"… Read where a number is found in free text
//! (edition numbers, dates), and written back in the digits it was read in.
//!
//! Owns the table of scripts; it must not decide what a number means.

/// The zeros of the decimal scripts (each script's ten digits follow its zero in Unicode):
/// ASCII, Arabic-Indic, Eastern Arabic-Indic (Persian, Urdu), Devanagari, Bengali, Thai,
/// Myanmar, fullwidth.
const ZEROS: &[char] = &[
    '0', '\u{660}', '\u{6F0}', '\u{966}', '\u{9E6}', '\u{E50}', '\u{1040}', '\u{FF10}',
];

/// The zero of the script digit `c` is written in, and its value.
fn digit(c: char) -> Option<(char, u32)> {
    ZEROS.iter().find_map(|&zero| {
        let value = (c as u32).checked_sub(zero as u32)?;
        (value < 10).then_some((zero, value))
    })
}

/// The number `digits` writes, all in one script (`None` for a mix, another character, an
/// empty string, or a number too large).
pub fn value(digits: &str) -> Option<u64> {
    let mut script = None;
    let mut count = 0;
    let n = digits.chars().try_fold(0u64, |n, c| {
        let (zero, d) = digit(c)?;
        if *script.get_or_insert(zero) != zero {
            return None;
        }
        count += 1;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })?;
    (count > 0).then_some(n)
}

/// `number` written in the digits `example` is written in (ASCII when it has none).
pub fn like(number: u64, example: &str) -> String {
    let zero = example.chars().next().and_then(digit).map_or('0', |(zero, _)| zero);
    number
        .to_string()
        .bytes()
        .filter_map(|b| char::from_u32(zero as u32 + u32::from(b - b'0')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_one_script_are_a_number_and_a_mix_is_not() {
        assert_eq!(value("22"), Some(22));
        assert_eq!(value("\u{662}\u{662}"), Some(22));
        assert_eq!(value("\u{6F2}\u{6F9}"), Some(29));
        assert_eq!(value("\u{FF12}\u{FF12}"), Some(22));
        assert_eq!(value("\u{662}2"), None);
        assert_eq!(value(""), None);
        assert_eq!(value("2a"), None);
        assert_eq!(value("99999999999999999999999"), None);
    }

    #[test]
    fn a_number_is_written_back_in_the_digits_it_was_read_in() {
        assert_eq!(like(30, "\u{662}\u{669}"), "\u{663}\u{660}");
        assert_eq!(like(30, "29"), "30");
        assert_eq!(like(7, ""), "7");
    }
}
