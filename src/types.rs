//! Small value types that carry meaning through the pipeline: [`Language`], [`Region`],
//! [`EditionId`], [`ItemId`], [`EmailAddress`] and [`WebUrl`].
//!
//! Each is parsed and validated once, where text enters the program (edition, config, later the
//! recipient lists); inner code takes these types and never re-checks a string. This module must
//! not know where the text came from: callers attach file and line to the errors it returns.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// An ISO 639-1 language code such as `en` or `fr`. Whether a code is *configured* is the
/// config's business; this type only guarantees the shape.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Scripts written right to left among the languages we have label tables for.
    pub fn is_right_to_left(&self) -> bool {
        matches!(self.0.as_str(), "ar" | "fa" | "he" | "ur")
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Language(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not a language code: use a two-letter ISO 639-1 code such as `en`"
            ))
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that `s` is a lowercase slug (`a-z`, `0-9`, `-`), the shape of every id we use in
/// file names, anchors and URLs.
fn slug(s: &str, what: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a valid {what}: use lowercase letters, digits and single dashes, like `asia-pacific`"
        ))
    }
}

macro_rules! slug_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                slug(s, $what).map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_type!(
    /// A region id such as `asia-pacific`, as defined in `infoflash.toml`.
    Region,
    "region id"
);
slug_type!(
    /// An edition's id: the edition file's name without `.toml`, e.g. `2026-01-info-flash-22`.
    EditionId,
    "edition id (the file name without .toml)"
);
slug_type!(
    /// A regional office's id, as in `[offices.<id>]` of `infoflash.toml`.
    OfficeId,
    "office id"
);
slug_type!(
    /// An item's id, unique in its edition; used as the HTML anchor and in calendar UIDs.
    ItemId,
    "item id"
);

/// An email address that lettre's parser accepts and that holds no control characters, so it is
/// safe to put in a header.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub fn address(&self) -> &lettre::Address {
        &self.0
    }
}

impl FromStr for EmailAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.chars().any(char::is_control) {
            return Err(format!(
                "`{}` contains a control character or a line break",
                s.escape_debug()
            ));
        }
        trimmed
            .parse::<lettre::Address>()
            .map(EmailAddress)
            .map_err(|e| format!("`{trimmed}` is not a valid email address ({e})"))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A link a reader can follow from an email: absolute `http`, `https` or `mailto` (with a valid
/// address). Empty, `#` and relative links are refused because they are dead in an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(url::Url);

impl WebUrl {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// For a `mailto:` link, the address it writes to.
    pub fn mailto_address(&self) -> Option<&str> {
        (self.0.scheme() == "mailto").then(|| self.0.path())
    }
}

impl FromStr for WebUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err("the link is empty: give its https:// address".into());
        }
        if s.starts_with('#') {
            return Err(format!("the link `{s}` is a placeholder: give its https:// address"));
        }
        let url = url::Url::parse(s).map_err(|e| match e {
            url::ParseError::RelativeUrlWithoutBase => {
                format!("the link `{s}` is relative: emails need absolute https:// links")
            }
            e => format!("the link `{s}` is not a valid URL ({e})"),
        })?;
        match url.scheme() {
            "http" | "https" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(format!("the link `{s}` has no host"));
                }
            }
            "mailto" => {
                let address = url.path();
                address
                    .parse::<EmailAddress>()
                    .map_err(|e| format!("the mailto link `{s}` has a malformed address: {e}"))?;
            }
            other => {
                return Err(format!(
                    "the link `{s}` uses `{other}:`; only http, https and mailto links work in an email"
                ))
            }
        }
        Ok(WebUrl(url))
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_two_letter_lowercase_language_codes_only() {
        assert!("fr".parse::<Language>().is_ok());
        assert!("FR".parse::<Language>().is_err());
        assert!("fra".parse::<Language>().is_err());
    }

    #[test]
    fn rejects_ids_with_spaces_or_capitals() {
        assert!("asia-pacific".parse::<Region>().is_ok());
        assert!("Asia Pacific".parse::<Region>().is_err());
        assert!("-x".parse::<ItemId>().is_err());
    }

    #[test]
    fn rejects_an_address_with_a_line_break() {
        assert!("ann@example.org\r\nBcc: x@y.org".parse::<EmailAddress>().is_err());
        assert!("ann@@example.org".parse::<EmailAddress>().is_err());
        assert_eq!(
            " ann@example.org ".parse::<EmailAddress>().unwrap().as_str(),
            "ann@example.org"
        );
    }

    #[test]
    fn rejects_dead_links_and_explains_why() {
        for (link, why) in [
            ("", "empty"),
            ("#", "placeholder"),
            ("/news", "relative"),
            ("javascript:alert(1)", "only http"),
            ("mailto:not-an-address", "malformed"),
        ] {
            let err = link.parse::<WebUrl>().unwrap_err();
            assert!(err.contains(why), "{link}: {err}");
        }
        assert!("https://www.unesco.org/en".parse::<WebUrl>().is_ok());
        assert_eq!(
            "mailto:aspnet@unesco.org".parse::<WebUrl>().unwrap().mailto_address(),
            Some("aspnet@unesco.org")
        );
    }
}
