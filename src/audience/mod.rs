//! The audience: who receives which variant. Recipient lists (CSV files in `recipients/`) are
//! read as a stream, validated row by row, merged by address, filtered by the sending office
//! and by segments, and checked against the suppression list.
//!
//! Owns the [`Recipient`] type and the one rule that must never break: a suppressed address is
//! never deliverable, whatever list it is on and whichever office sends. A bad row never stops
//! a list; it is reported as `file:line: why` and skipped. Memory grows only with the set of
//! addresses seen (for merging duplicates), never with rows or their columns. This module must
//! not render or send anything.
//!
//! ```no_run
//! # use infoflash::{audience::{self, Selection, Suppression}, config::Config};
//! # use std::path::Path;
//! let config = Config::load(Path::new("infoflash.toml")).unwrap();
//! let settings = &config.audience;
//! let (suppression, _problems) = Suppression::load(&settings.suppression).unwrap();
//! let selection = Selection::of(settings, None, &[], &[], &suppression, None);
//! let counts = audience::scan(&settings.network, &selection, |problem| eprintln!("{problem}"), |recipient| {
//!     println!("{}", recipient.email);
//! }).unwrap();
//! println!("{} deliverable", counts.deliverable);
//! ```

pub mod bounces;
mod lists;
pub mod segment;
pub mod suppression;

use std::collections::{BTreeMap, HashMap};

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use serde::Serialize;

pub use lists::{Dialect, Fields, ListReader, Row};
pub use segment::Filter;
pub use suppression::Suppression;

/// Where the audience is: the lists the international team mails (offices name their own in
/// the [`Network`]), the suppression list, and the languages and regions a row may name.
/// Built by `config`, read here.
#[derive(Debug, Clone)]
pub struct AudienceSettings {
    pub network: std::sync::Arc<Network>,
    /// The lists the international team mails (default: every `.csv` in `recipients/` but the
    /// suppression list and the offices' lists).
    pub lists: Vec<PathBuf>,
    pub suppression: PathBuf,
}

use crate::diagnostics::Diagnostic;
use crate::types::{EmailAddress, Language, Region};
use crate::types::{Network, Office};

#[derive(Debug, thiserror::Error)]
pub enum AudienceError {
    #[error("cannot read the list {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {why}", path.display())]
    File { path: PathBuf, why: String },
}

/// One person on a list, validated: the address parses, nothing that reaches a header holds a
/// control character, language and region are configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: EmailAddress,
    pub name: Option<String>,
    pub language: Option<Language>,
    pub region: Option<Region>,
    pub country: Option<String>,
    pub role: Option<String>,
    pub tags: Vec<String>,
    /// Every other column, for templates.
    pub attributes: BTreeMap<String, String>,
}

/// Columns with a meaning of their own; any other column is an attribute.
pub const KNOWN_COLUMNS: [&str; 7] = ["email", "name", "language", "region", "country", "role", "tags"];

impl Recipient {
    pub fn new(email: EmailAddress) -> Recipient {
        Recipient {
            email,
            name: None,
            language: None,
            region: None,
            country: None,
            role: None,
            tags: Vec::new(),
            attributes: BTreeMap::new(),
        }
    }

    /// Validates a row of a list.
    pub fn from_fields(fields: &Fields, network: &Network) -> Result<Recipient, String> {
        // One rule for every column, since templates may show any of them (the name, which
        // goes into a header, has a stricter one below).
        if let Some((column, value)) = fields
            .iter()
            .find(|(c, v)| *c != "name" && v.chars().any(crate::types::is_forbidden_control))
        {
            return Err(format!(
                "the `{column}` column holds an invisible control character (`{}`), which HTML email forbids: delete it",
                value.escape_debug()
            ));
        }
        let text = |column: &str| fields.get(column).map(str::trim).filter(|v| !v.is_empty());
        let email = text("email").ok_or("has no email address")?;
        // A list exported from a mail client may write `Name <address>`; its name serves when
        // the `name` column has none.
        let (pasted_name, email) = EmailAddress::parse_mailbox(email)?;
        let mut r = Recipient::new(email);
        if let Some(name) = text("name").or(pasted_name.as_deref()) {
            crate::types::check_header_text(name).map_err(|why| {
                format!(
                    "the name `{}` {why}",
                    crate::diagnostics::shorten(name, 60).escape_debug()
                )
            })?;
            r.name = Some(name.to_string());
        }
        if let Some(code) = text("language") {
            let language: Language = code.to_lowercase().parse()?;
            if !network.knows_language(&language) {
                return Err(format!(
                    "language `{code}` is not configured; use one of {}",
                    network.language_list()
                ));
            }
            r.language = Some(language);
        }
        if let Some(id) = text("region") {
            let region = id
                .to_lowercase()
                .parse::<Region>()
                .ok()
                .filter(|r| network.knows_region(r));
            r.region = Some(
                region.ok_or_else(|| format!("unknown region `{id}`; the regions are {}", network.region_list()))?,
            );
        }
        r.country = text("country").map(str::to_string);
        r.role = text("role").map(str::to_string);
        r.tags = text("tags")
            .map(|t| {
                t.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        for (column, value) in fields.iter() {
            if !column.is_empty() && !KNOWN_COLUMNS.contains(&column) && !value.trim().is_empty() {
                r.attributes.insert(column.to_string(), value.trim().to_string());
            }
        }
        Ok(r)
    }
}

/// A row that was not taken as is: a [`Diagnostic`] of kind invalid (skipped), duplicate
/// (merged) or smtputf8 (noted).
pub type RowProblem = Diagnostic;
pub use crate::diagnostics::Kind as ProblemKind;

/// Which lists to read and whom to keep.
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    pub lists: Vec<PathBuf>,
    /// All must match (an office's own filter and `--where`).
    pub filters: Vec<Filter>,
    pub suppression: &'a Suppression,
    /// Only this shard of the audience (`send --shard K/N`).
    pub shard: Option<crate::types::Shard>,
    /// Who sends (`None`: the international team): entries of the suppression list scoped to
    /// another office do not apply.
    pub sender: Option<crate::types::OfficeId>,
}

impl<'a> Selection<'a> {
    /// Whom a send or a count reads: `lists` when given, else the office's lists, else the
    /// settings'; the office's own segment and then `filters` must all match. The one place
    /// that turns an office into its lists and filters, for `lists`, `send` and `status` alike.
    pub fn of(
        settings: &AudienceSettings,
        office: Option<&Office>,
        lists: &[PathBuf],
        filters: &[Filter],
        suppression: &'a Suppression,
        shard: Option<crate::types::Shard>,
    ) -> Selection<'a> {
        let lists = if !lists.is_empty() {
            lists.to_vec()
        } else {
            office.map_or_else(|| settings.lists.clone(), |o| o.lists.clone())
        };
        let mut all = office.map(|o| o.filters.clone()).unwrap_or_default();
        all.extend(filters.iter().cloned());
        Selection {
            lists,
            filters: all,
            suppression,
            shard,
            sender: office.map(|o| o.id.clone()),
        }
    }
}

/// What a pass over the lists found. `rows` = `valid` + `invalid`; of the valid rows,
/// `duplicates` were merged; of the rest, `excluded` did not match the filters, `suppressed`
/// are on the suppression list, and `deliverable` remain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rows: u64,
    pub valid: u64,
    pub invalid: u64,
    pub duplicates: u64,
    pub excluded: u64,
    pub suppressed: u64,
    pub deliverable: u64,
    /// Deliverable recipients whose address needs a relay with SMTPUTF8.
    pub smtputf8: u64,
    /// Deliverable recipients by region, then language (`-` where the list gives none).
    pub table: BTreeMap<String, BTreeMap<String, u64>>,
}

/// A 128-bit fingerprint of an address's identity ([`EmailAddress::key`], the same one
/// suppression, shards and the journal use): the dedupe set holds these instead of the
/// addresses, so a million-row list costs a few tens of megabytes. Two independent 64-bit
/// hashes.
fn fingerprint(address: &EmailAddress) -> [u64; 2] {
    let key = address.key();
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    [half(1), half(2)]
}

/// Reads every list of `selection` once, calling `on_problem` for each row skipped or merged and
/// `on_deliverable` for each recipient who should receive the edition (in list order, each
/// address once). `Err` only when a list cannot be read at all.
pub fn scan(
    network: &Network,
    selection: &Selection<'_>,
    mut on_problem: impl FnMut(&RowProblem),
    mut on_deliverable: impl FnMut(&Recipient),
) -> Result<Counts, AudienceError> {
    let mut counts = Counts::default();
    let mut seen: HashMap<[u64; 2], (u16, u32)> = HashMap::new();
    for (index, path) in selection.lists.iter().enumerate() {
        let file_index = u16::try_from(index).unwrap_or(u16::MAX);
        let mut reader = ListReader::open(path)?;
        while let Some(row) = reader.next_row()? {
            let fields = match row {
                Row::Blank => continue,
                Row::Broken { line, why } => {
                    counts.rows += 1;
                    counts.invalid += 1;
                    on_problem(&Diagnostic::invalid_row(path, line, why));
                    continue;
                }
                Row::Fields(fields) => fields,
            };
            counts.rows += 1;
            let recipient = match Recipient::from_fields(&fields, network) {
                Ok(r) => r,
                Err(why) => {
                    counts.invalid += 1;
                    on_problem(&Diagnostic::invalid_row(path, fields.line, why));
                    continue;
                }
            };
            counts.valid += 1;
            match seen.entry(fingerprint(&recipient.email)) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    counts.duplicates += 1;
                    let (first_file, first_line) = *first.get();
                    let first_path = selection.lists.get(usize::from(first_file)).unwrap_or(path);
                    on_problem(&Diagnostic::of_kind(
                        ProblemKind::Duplicate,
                        path,
                        usize::try_from(fields.line).ok(),
                        format!(
                            "{} is already at {}:{first_line}; the first row wins",
                            recipient.email,
                            first_path.display()
                        ),
                    ));
                    continue;
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert((file_index, u32::try_from(fields.line).unwrap_or(u32::MAX)));
                }
            }
            let other_shard = selection.shard.is_some_and(|s| !s.contains(&recipient.email));
            if other_shard || !segment::matches_all(&selection.filters, &recipient) {
                counts.excluded += 1;
                continue;
            }
            if selection
                .suppression
                .suppresses(&recipient.email, selection.sender.as_ref())
            {
                counts.suppressed += 1;
                continue;
            }
            counts.deliverable += 1;
            if recipient.email.needs_smtputf8() {
                counts.smtputf8 += 1;
                on_problem(&Diagnostic::of_kind(
                    ProblemKind::Smtputf8,
                    path,
                    usize::try_from(fields.line).ok(),
                    format!(
                        "{}: its local part is not ASCII, so only a relay that offers SMTPUTF8 can take it (the outbox always can)",
                        recipient.email
                    ),
                ));
            }
            let region = recipient.region.as_ref().map_or("-", Region::as_str);
            let language = recipient.language.as_ref().map_or("-", Language::as_str);
            *counts
                .table
                .entry(region.to_string())
                .or_default()
                .entry(language.to_string())
                .or_default() += 1;
            on_deliverable(&recipient);
        }
    }
    Ok(counts)
}

/// The language a recipient receives: their own if the edition is built in it, else the
/// office's, else the configured fallback, else the edition's own language.
pub fn language_for<'a>(
    recipient: &'a Recipient,
    available: &'a [Language],
    office_language: Option<&'a Language>,
    fallback: &'a Language,
) -> &'a Language {
    [recipient.language.as_ref(), office_language, Some(fallback)]
        .into_iter()
        .flatten()
        .find(|l| available.contains(l))
        .unwrap_or(&available[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_case_and_surrounding_space() {
        let f = |s: &str| fingerprint(&s.parse().unwrap());
        assert_eq!(f(" Ann@Example.org "), f("ann@example.org"));
        assert_eq!(f("\"ann\"@EXAMPLE.org"), f("ann@example.org"));
        assert_ne!(f("ann@example.org"), f("anne@example.org"));
    }

    #[test]
    fn a_recipient_gets_their_language_or_the_office_or_the_fallback() {
        let l = |c: &str| c.parse::<Language>().unwrap();
        let available = [l("en"), l("fr"), l("es")];
        let mut r = Recipient::new("a@example.org".parse().unwrap());
        r.language = Some(l("fr"));
        assert_eq!(language_for(&r, &available, None, &l("en")), &l("fr"));
        r.language = Some(l("ar"));
        assert_eq!(language_for(&r, &available, Some(&l("es")), &l("en")), &l("es"));
        assert_eq!(language_for(&r, &available, None, &l("en")), &l("en"));
        assert_eq!(language_for(&r, &[l("fr")], None, &l("en")), &l("fr"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// An address-like string over a small alphabet (so that generated pairs often collide)
        /// with letters whose lowercase is not ASCII.
        fn address() -> impl Strategy<Value = String> {
            "[abAB\u{c9}\u{e9}\u{3a3}\u{3c3}.]{1,4}@[abAB]{1,3}\\.org"
        }

        /// The same address as someone else might type it: each letter's case flipped at
        /// will, spaces and tabs around it.
        fn retyped(address: &str) -> impl Strategy<Value = String> {
            let n = address.chars().count();
            let address = address.to_string();
            (prop::collection::vec(any::<bool>(), n), "[ \t]{0,2}", "[ \t]{0,2}").prop_map(
                move |(flips, before, after)| {
                    let body: String = address
                        .chars()
                        .zip(flips)
                        .map(|(c, flip)| {
                            if !flip {
                                c.to_string()
                            } else if c.is_lowercase() {
                                c.to_uppercase().to_string()
                            } else {
                                c.to_lowercase().to_string()
                            }
                        })
                        .collect();
                    format!("{before}{body}{after}")
                },
            )
        }

        /// Equal addresses for the dedupe, computed independently of `EmailAddress::key`: the
        /// same characters once trimmed and case-folded one by one (`ς` is `σ`).
        fn same_address(a: &str, b: &str) -> bool {
            let key = |s: &str| {
                s.trim()
                    .chars()
                    .flat_map(char::to_lowercase)
                    .map(|c| if c == 'ς' { 'σ' } else { c })
                    .collect::<String>()
            };
            key(a) == key(b)
        }

        fn language() -> impl Strategy<Value = Language> {
            prop::sample::select(vec!["en", "fr", "es", "ar", "ru", "zh"]).prop_map(|l| l.parse().unwrap())
        }

        proptest! {
            /// Two fingerprints are equal iff the addresses are, ignoring case and surrounding
            /// space.
            #[test]
            fn fingerprints_are_equal_iff_the_addresses_are(a in address(), b in address()) {
                let (Ok(x), Ok(y)) = (a.parse::<EmailAddress>(), b.parse::<EmailAddress>()) else {
                    return Ok(());
                };
                prop_assert_eq!(fingerprint(&x) == fingerprint(&y), same_address(&a, &b), "{:?} {:?}", a, b);
            }

            /// However an address is retyped (case, surrounding space), it is the same person.
            #[test]
            fn a_retyped_address_has_the_same_fingerprint((a, b) in address().prop_flat_map(|a| (Just(a.clone()), retyped(&a)))) {
                let (Ok(x), Ok(y)) = (a.parse::<EmailAddress>(), b.parse::<EmailAddress>()) else {
                    return Ok(());
                };
                prop_assert_eq!(fingerprint(&x), fingerprint(&y), "{:?} {:?}", a, b);
            }

            /// Variant choice: always a language the edition has; the recipient's own when the
            /// edition has it, else the office's, else the fallback, else the edition's first.
            #[test]
            fn a_recipient_always_gets_a_language_of_the_edition(
                available in prop::collection::vec(language(), 1..4),
                own in proptest::option::of(language()),
                office in proptest::option::of(language()),
                fallback in language(),
            ) {
                let mut r = Recipient::new("a@example.org".parse().unwrap());
                r.language = own.clone();
                let chosen = language_for(&r, &available, office.as_ref(), &fallback);
                prop_assert!(available.contains(chosen));
                let expected = [own.as_ref(), office.as_ref(), Some(&fallback)]
                    .into_iter()
                    .flatten()
                    .find(|l| available.contains(l))
                    .unwrap_or(&available[0]);
                prop_assert_eq!(chosen, expected);
                if let Some(own) = own.as_ref().filter(|l| available.contains(l)) {
                    prop_assert_eq!(chosen, own);
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(48))]

            /// Through a whole scan of lists on disk: each address is deliverable once (its
            /// first row wins), every later row with the same address (in any case, with
            /// spaces) is counted and reported as a duplicate, across lists too.
            #[test]
            fn a_scan_delivers_each_address_once(
                lists in prop::collection::vec(
                    prop::collection::vec(address().prop_flat_map(|a| retyped(&a)), 0..12),
                    1..3,
                ),
            ) {
                let config = crate::config::Config::parse(crate::config::EMBEDDED, std::path::Path::new("x"), std::path::Path::new("")).unwrap();
                let dir = tempfile::tempdir().unwrap();
                let mut paths = Vec::new();
                for (i, rows) in lists.iter().enumerate() {
                    let path = dir.path().join(format!("list-{i}.csv"));
                    let mut text = String::from("email,name\n");
                    for (n, email) in rows.iter().enumerate() {
                        text.push_str(&format!("\"{email}\",Person {n}\n"));
                    }
                    std::fs::write(&path, text).unwrap();
                    paths.push(path);
                }
                let suppression = Suppression::default();
                let selection = Selection { lists: paths, filters: vec![], suppression: &suppression, shard: None, sender: None };
                let mut problems = Vec::new();
                let mut delivered = Vec::new();
                let counts = scan(&config.audience.network, &selection, |p| problems.push(p.clone()), |r| delivered.push(r.email.to_string()))
                    .unwrap();
                // What lettre accepts is the reference: rows it refuses are invalid, not duplicates.
                let valid: Vec<&String> = lists.iter().flatten().filter(|e| e.parse::<EmailAddress>().is_ok()).collect();
                let mut first: Vec<&String> = Vec::new();
                for e in &valid {
                    if !first.iter().any(|f| same_address(f, e)) {
                        first.push(e);
                    }
                }
                prop_assert_eq!(counts.valid as usize, valid.len());
                prop_assert_eq!(counts.duplicates as usize, valid.len() - first.len());
                prop_assert_eq!(counts.deliverable as usize, first.len());
                prop_assert_eq!(
                    delivered,
                    first.iter().map(|e| e.parse::<EmailAddress>().unwrap().to_string()).collect::<Vec<_>>()
                );
                let reported = problems.iter().filter(|p| p.kind == Some(ProblemKind::Duplicate)).count();
                prop_assert_eq!(reported, valid.len() - first.len());
            }
        }
    }
}
