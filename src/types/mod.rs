//! Small value types that carry meaning through the pipeline: [`Language`], [`Region`],
//! [`EditionId`], [`ItemId`], [`EmailAddress`], [`WebUrl`], and the values that several
//! stages share: the [`Network`] of languages, regions and offices, the relay ([`relay`]), a
//! segment [`Filter`], a [`Shard`], a [`Pace`], the hash
//! of a Message-ID, numbers in any script's [`digits`]. They import no stage, so every stage can use them without a cycle.
//!
//! Each is parsed and validated once, where text enters the program (edition, config, later the
//! recipient lists); inner code takes these types and never re-checks a string. This module must
//! not know where the text came from: callers attach file and line to the errors it returns.

pub mod digits;
pub mod network;
pub mod relay;
pub mod segment;
pub mod shard;

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use network::{Names, Network, Office, RegionInfo};
pub use relay::{Destination, Relay, Security};
pub use segment::{Field, Filter};
pub use shard::Shard;

/// A character no reader can see and XML (so HTML email, MJML, the feed) forbids: the C0
/// controls but tab, line feed and carriage return, and U+FFFE/U+FFFF. An editor's pasted ^Z or
/// stray backspace. Refused where text enters the program, with its line; never dropped
/// silently later.
pub fn is_forbidden_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}' | '\u{fffe}' | '\u{ffff}')
}

/// The longest name, subject or series, in characters: each goes into a mail header, where a
/// line may not pass 998 octets (RFC 5322) and clients cut a subject long before that.
pub const MAX_HEADER_TEXT: usize = 200;

/// The invisible characters that change the direction of the text after them (embeddings,
/// overrides, isolates). In a subject or a name they can make it read as something else
/// (U+202E before "moc.knab" shows "bank.com"). The marks U+200E/U+200F/U+061C stay allowed: they only
/// nudge neutral characters, which Arabic text needs.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The one rule for text that goes into a mail header (a subject, a series, a display name):
/// one line, no invisible direction controls, nothing a mail program would decode as an
/// RFC 2047 encoded word (`=?utf-8?b?…?=` shown as other text), at most [`MAX_HEADER_TEXT`]
/// characters. Applied where such text enters the program, with its file and line.
pub fn check_header_text(text: &str) -> Result<(), String> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains a line break or control character ({}), and it goes into a mail header: write it on one line",
            c.escape_unicode()
        ));
    }
    if let Some(c) = text.chars().find(|&c| is_bidi_control(c)) {
        return Err(format!(
            "contains the invisible direction control {}, which can make it read as other text in a mail program: delete it",
            c.escape_unicode()
        ));
    }
    if let Some(start) = text.find("=?") {
        if text[start + 2..].contains("?=") {
            return Err(
                "contains `=?…?=`, which mail programs decode as an encoded word and show as other text: rewrite it"
                    .to_string(),
            );
        }
    }
    let length = text.chars().count();
    if length > MAX_HEADER_TEXT {
        return Err(format!(
            "is {length} characters long; it goes into a mail header, where at most {MAX_HEADER_TEXT} fit: shorten it"
        ));
    }
    Ok(())
}

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

/// An email address in its one canonical form, the form that dedupe, suppression, the journal,
/// the shards, unsubscribe tokens and the SMTP envelope all use, so that two spellings of one
/// mailbox can never be told apart by one of them and not by another:
///
/// - the text is in Unicode normal form C (`é` typed as `e` and a combining accent is `é`);
/// - a quoted local part that needs no quoting loses its quotes (`"ann"@x` is `ann@x`), one
///   that does keeps the fewest escapes (`"a b"@x`);
/// - the domain is lowercase ASCII: an internationalised domain is written as its A-label
///   (`bücher.example` is `xn--bcher-kva.example`), through the `idna` crate (UTS #46);
/// - domain literals (`ann@[192.0.2.1]`) and the wildcard characters `*` and `?` are refused:
///   a recipient is one mailbox, and `*@domain` has a meaning only in the suppression list.
///
/// Two addresses are the same mailbox when their [`EmailAddress::key`]s are equal: the
/// canonical form lowercased, since case in a local part distinguishes no real mailbox and
/// refusing a mail we could have sent is a far smaller harm than sending one twice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress {
    address: lettre::Address,
    /// Worked out once: a send looks a recipient up, signs, hashes and records by it.
    key: Box<str>,
}

impl EmailAddress {
    /// An address as people paste it: bare (`ana@example.org`) or as a mailbox, the way a
    /// mail client or a spreadsheet export writes it (`Ana Tavares <ana@example.org>`, `"Tavares,
    /// Ana" <ana@example.org>`); the name comes back apart, when there is one.
    pub fn parse_mailbox(text: &str) -> Result<(Option<String>, EmailAddress), String> {
        text.parse::<EmailAddress>().map(|a| (None, a)).or_else(|bare| {
            let text = text.trim();
            // Only what looks like a mailbox is read as one; anything else keeps the bare
            // address's own message, which says what is wrong with it.
            if !text.ends_with('>') {
                return Err(bare);
            }
            let mailbox: lettre::message::Mailbox = text.parse().map_err(|_| bare.clone())?;
            let address = mailbox.email.to_string().parse::<EmailAddress>()?;
            Ok((mailbox.name.filter(|n| !n.trim().is_empty()), address))
        })
    }

    fn new(address: lettre::Address) -> EmailAddress {
        // Case is folded a character at a time (`str::to_lowercase` would turn a word-final
        // `Σ` into `ς`, so `AΣ@x` and `aσ@x` would differ), with the final sigma folded too.
        let key = AsRef::<str>::as_ref(&address)
            .chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c == 'ς' { 'σ' } else { c })
            .collect();
        EmailAddress { address, key }
    }

    /// The canonical form, as it goes into the envelope and the `To:` header.
    pub fn as_str(&self) -> &str {
        self.address.as_ref()
    }

    pub fn address(&self) -> &lettre::Address {
        &self.address
    }

    /// The lowercase A-label domain.
    pub fn domain(&self) -> &str {
        self.address.domain()
    }

    /// The identity of the mailbox: equal keys are one recipient.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the envelope needs the SMTPUTF8 extension: a local part that is not ASCII (the
    /// domain never needs it, being an A-label).
    pub fn needs_smtputf8(&self) -> bool {
        !self.address.user().is_ascii()
    }
}

/// RFC 5322 `atext`, with the UTF-8 of RFC 6531.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn is_dot_atom(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// The canonical spelling of a local part: unquoted when quoting is not needed, else quoted
/// with only `"` and `\` escaped. `Err` for an unterminated quoted string.
fn canonical_local_part(local: &str) -> Result<String, String> {
    let Some(inner) = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .filter(|_| local.len() >= 2)
    else {
        return Ok(local.to_string());
    };
    let mut content = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => content.push(chars.next().ok_or("its quoted local part ends with a lone backslash")?),
            '"' => return Err("its local part has a quote inside quotes".into()),
            c => content.push(c),
        }
    }
    if is_dot_atom(&content) {
        return Ok(content);
    }
    let mut quoted = String::with_capacity(content.len() + 2);
    quoted.push('"');
    for c in content.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    Ok(quoted)
}

/// The canonical form of a domain: lowercase ASCII, an internationalised name as its A-label.
/// Domain literals (`[192.0.2.1]`) are refused: no list of ours names a mailbox that way, and
/// one literal can be written in many ways. Used for addresses and for the suppression
/// list's `*@domain` entries alike, so that both match every form of a domain.
pub fn canonical_domain(domain: &str) -> Result<String, String> {
    if domain.starts_with('[') {
        return Err(format!(
            "`{domain}` is a domain literal (an IP address): give the mailbox's domain name"
        ));
    }
    if domain.contains(['*', '?']) {
        return Err(format!("`{domain}` contains a wildcard character"));
    }
    let ascii = idna::domain_to_ascii(domain).map_err(|_| format!("`{domain}` is not a valid domain name"))?;
    if ascii.is_empty() || !ascii.contains('.') && ascii != "localhost" {
        return Err(format!("`{domain}` is not a valid domain name"));
    }
    Ok(ascii)
}

impl FromStr for EmailAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // One mailbox typed on two keyboards: `é` as one character or as `e` and a combining
        // accent (NFC and NFD). RFC 6532 asks for NFC; the domain is normalised by UTS #46 below.
        let normalized = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(s.trim());
        let trimmed = normalized.as_ref();
        if trimmed.chars().any(char::is_control) {
            return Err(format!(
                "`{}` contains a control character or a line break",
                s.escape_debug()
            ));
        }
        let invalid = |why: &str| format!("`{trimmed}` is not a valid email address ({why})");
        let (local, domain) = trimmed.rsplit_once('@').ok_or_else(|| invalid("it has no @"))?;
        let local = canonical_local_part(local).map_err(|why| invalid(&why))?;
        if local.contains(['*', '?']) {
            return Err(format!(
                "`{trimmed}` contains a wildcard character (`*` or `?`): a recipient is one mailbox; \
                 to block a whole domain, put `*@domain` in the suppression list"
            ));
        }
        let domain = canonical_domain(domain).map_err(|why| invalid(&why))?;
        lettre::Address::new(&local, &domain)
            .map(EmailAddress::new)
            .map_err(|e| invalid(&e.to_string()))
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

/// The limits of a pace, as configured: messages per second, the burst after a pause, and
/// optional hour and day quotas. Enforced by [`crate::deliver::rate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub per_second: NonZeroU32,
    /// How many messages may go at once after a quiet spell; at most a tenth of the rate by
    /// default, so no 1-second window holds more than `per_second + burst`.
    pub burst: NonZeroU32,
    pub per_hour: Option<NonZeroU32>,
    pub per_day: Option<NonZeroU32>,
}

impl Pace {
    pub fn new(per_second: NonZeroU32) -> Pace {
        let burst = NonZeroU32::new((per_second.get() / 10).max(1)).unwrap_or(NonZeroU32::MIN);
        Pace {
            per_second,
            burst,
            per_hour: None,
            per_day: None,
        }
    }
}

/// The 32 hex digits before `.EDITION@` in the Message-ID of the message sent to `address`:
/// SHA-256 of edition, office (`""` for the international team) and the canonical address.
/// Delivery writes it; bounce handling recomputes it to tell a report about a message we sent
/// from a forged one.
pub fn message_id_hash(edition: &EditionId, office: Option<&OfficeId>, address: &EmailAddress) -> String {
    let digest = Sha256::digest(format!(
        "{edition}\n{}\n{}",
        office.map_or("", OfficeId::as_str),
        address.key()
    ));
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
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
    fn a_mailbox_pasted_from_a_mail_client_gives_its_address_and_name() {
        let (name, address) = EmailAddress::parse_mailbox("Ana Tavares <Ana@Example.ORG>").unwrap();
        assert_eq!(
            (name.as_deref(), address.key()),
            (Some("Ana Tavares"), "ana@example.org")
        );
        let (name, _) = EmailAddress::parse_mailbox("\"Tavares, Ana\" <ana@example.org>").unwrap();
        assert_eq!(name.as_deref(), Some("Tavares, Ana"));
        let (name, address) = EmailAddress::parse_mailbox(" <ana@example.org> ").unwrap();
        assert_eq!((name, address.key()), (None, "ana@example.org"));
        assert_eq!(EmailAddress::parse_mailbox("ana@example.org").unwrap().0, None);
        // What is wrong stays named: the bare address's own message.
        let bad = EmailAddress::parse_mailbox("Ana <ana@@example.org>").unwrap_err();
        assert!(bad.contains("not a valid email address"), "{bad}");
        assert!(EmailAddress::parse_mailbox("Ana <ana@example.org>, Bob <bob@example.org>").is_err());
        assert!(EmailAddress::parse_mailbox("Ana\r\nBcc: x@example.org <ana@example.org>").is_err());
    }

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
    fn spells_every_address_in_its_one_canonical_form() {
        let canonical = |s: &str| {
            s.parse::<EmailAddress>()
                .unwrap_or_else(|e| panic!("{s}: {e}"))
                .to_string()
        };
        assert_eq!(
            canonical("\"jonas.lindqvist\"@example.net"),
            "jonas.lindqvist@example.net"
        );
        assert_eq!(canonical("\"dup\"@Example.ORG"), "dup@example.org");
        assert_eq!(canonical("\"d\\up\"@example.org"), "dup@example.org");
        assert_eq!(canonical("x@bücher.example"), "x@xn--bcher-kva.example");
        assert_eq!(canonical("x@XN--BCHER-KVA.example"), "x@xn--bcher-kva.example");
        assert_eq!(canonical("\"john doe\"@example.org"), "\"john doe\"@example.org");
        assert_eq!(canonical("\"a\\\"b\"@example.org"), "\"a\\\"b\"@example.org");
        assert_eq!(canonical("Ann@example.org"), "Ann@example.org");
        assert_eq!(
            canonical("Jose\u{301}@example.org"),
            "Jos\u{e9}@example.org",
            "NFD is NFC"
        );
        let key = |s: &str| s.parse::<EmailAddress>().unwrap().key().to_string();
        assert_eq!(key("\"Ann\"@BÜCHER.example"), key("ann@xn--bcher-kva.example"));
        assert_eq!(key("ΑΣ@example.org"), key("ας@example.org"));
        assert_eq!(key("ΑΣ@example.org"), key("ασ@example.org"));
    }

    #[test]
    fn refuses_wildcards_and_domain_literals_in_an_address() {
        for bad in [
            "*@example.com",
            "a*b@example.com",
            "who?@example.com",
            "\"*\"@example.com",
            "ann@[192.0.2.1]",
            "ann@[IPv6:::1]",
            "ann@*.example.com",
        ] {
            let err = bad.parse::<EmailAddress>().unwrap_err();
            assert!(err.contains("wildcard") || err.contains("literal"), "{bad}: {err}");
        }
    }

    #[test]
    fn tells_which_addresses_need_smtputf8() {
        assert!("josé@example.org".parse::<EmailAddress>().unwrap().needs_smtputf8());
        assert!(!"jose@bücher.example".parse::<EmailAddress>().unwrap().needs_smtputf8());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A local part that needs no quoting, over a small alphabet so that pairs collide.
        fn local() -> impl Strategy<Value = String> {
            "[abAB\u{e9}\u{c9}+=][abAB.\u{e9}]{0,3}[abB]".prop_filter("no double dots", |l| !l.contains(".."))
        }

        /// The same domain in the forms a person or a server writes it.
        fn domain_forms() -> impl Strategy<Value = (usize, usize)> {
            (0..2usize, 0..4usize)
        }

        fn spell_domain(domain: usize, form: usize) -> String {
            let forms: [[&str; 4]; 2] = [
                [
                    "bücher.example",
                    "BÜCHER.example",
                    "xn--bcher-kva.example",
                    "XN--BCHER-KVA.EXAMPLE",
                ],
                ["example.org", "EXAMPLE.org", "Example.Org", "example.ORG"],
            ];
            forms[domain][form].to_string()
        }

        fn spell_local(local: &str, quoted: bool, upper: bool) -> String {
            let l = if upper { local.to_uppercase() } else { local.to_string() };
            if quoted {
                format!("\"{l}\"")
            } else {
                l
            }
        }

        proptest! {
            /// Two spellings are one mailbox exactly when their local parts agree ignoring
            /// case and quotes, and their domains are forms of one domain.
            #[test]
            fn spellings_are_equal_iff_they_name_one_mailbox(
                a in local(), b in local(),
                (da, fa) in domain_forms(), (db, fb) in domain_forms(),
                qa in any::<bool>(), qb in any::<bool>(), ua in any::<bool>(), ub in any::<bool>(),
            ) {
                let x: EmailAddress = format!("{}@{}", spell_local(&a, qa, ua), spell_domain(da, fa)).parse().unwrap();
                let y: EmailAddress = format!("{}@{}", spell_local(&b, qb, ub), spell_domain(db, fb)).parse().unwrap();
                let same = a.to_lowercase() == b.to_lowercase() && da == db;
                prop_assert_eq!(x.key() == y.key(), same, "{} {}", x, y);
                // The canonical form is a fixed point: parsing it again changes nothing.
                prop_assert_eq!(x.as_str().parse::<EmailAddress>().unwrap(), x.clone());
                prop_assert!(!x.as_str().starts_with('"'));
                prop_assert!(x.domain().is_ascii() && x.domain() == x.domain().to_lowercase());
            }
        }
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
