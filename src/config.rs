//! Project settings from `infoflash.toml`: languages, regions, sender, base URL and folders.
//!
//! Owns reading and validating the settings file (every problem reported in one pass, with file
//! and line) and the embedded default used when a project has none. Paths in the file are
//! relative to the file's folder. The result, [`Config`], is each stage's own settings type
//! (defined by the stage) filled in, plus the shared [`Network`]; the command line hands each
//! stage its part. It must not read editions, templates or recipient lists, and no stage
//! imports it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use std::num::NonZeroU32;
use std::time::Duration;

use std::sync::Arc;

use crate::audience::bounces::BounceSettings;
use crate::audience::AudienceSettings;
use crate::calendar::CalendarSettings;
use crate::deliver::settings::{DeliverySettings, Dkim, RelaySettings, SendSettings};
use crate::diagnostics::{Report, Source};
use crate::edition::EditionSettings;
use crate::render::RenderSettings;
use crate::serve::ServeSettings;
use crate::types::{Destination, Filter, Language, Names, Network, Office, OfficeId, Pace, Region, RegionInfo};

/// The settings file shipped in the repository, compiled in so that the binary works anywhere.
pub const EMBEDDED: &str = include_str!("../infoflash.toml");

/// The file name looked for in the current folder when no `--config` is given.
pub const FILE_NAME: &str = "infoflash.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the settings file has problems; fix them and run again:\n{0}")]
    Invalid(Report),
    #[error("the international days file has problems; fix them and run again:\n{0}")]
    Days(Report),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    base_url: Spanned<String>,
    sender: Spanned<String>,
    #[serde(default)]
    reply_to: Option<Spanned<String>>,
    #[serde(default)]
    postal_address: Option<Spanned<String>>,
    languages: Spanned<Vec<Spanned<String>>>,
    fallback_language: Spanned<String>,
    #[serde(default)]
    out_dir: Option<String>,
    #[serde(default)]
    templates: Option<String>,
    #[serde(default)]
    regions: BTreeMap<Spanned<String>, RawRegion>,
    #[serde(default)]
    lists: Option<Vec<String>>,
    #[serde(default)]
    suppression: Option<String>,
    #[serde(default)]
    offices: BTreeMap<Spanned<String>, Spanned<RawOffice>>,
    #[serde(default)]
    delivery: Option<Spanned<RawDelivery>>,
    #[serde(default)]
    calendar: Option<RawCalendar>,
    #[serde(default)]
    bounces: Option<RawBounces>,
    #[serde(default)]
    serve: Option<RawServe>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServe {
    /// An Argon2 hash (PHC string) of the password `serve --edit` asks for.
    #[serde(default)]
    edit_password_hash: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    international_days: Option<String>,
    #[serde(default)]
    days_weeks: Option<Spanned<u32>>,
    #[serde(default)]
    cadence_days: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBounces {
    #[serde(default)]
    soft_bounce_editions: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    #[serde(default)]
    relay: Option<Spanned<String>>,
    #[serde(default)]
    outbox: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    connections: Option<Spanned<u32>>,
    #[serde(default)]
    rate: Option<Spanned<u32>>,
    #[serde(default)]
    burst: Option<Spanned<u32>>,
    #[serde(default)]
    per_hour: Option<Spanned<u32>>,
    #[serde(default)]
    per_day: Option<Spanned<u32>>,
    #[serde(default)]
    max_attempts: Option<Spanned<u32>>,
    #[serde(default)]
    retry_delay_ms: Option<u64>,
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<String>,
    #[serde(default)]
    suppress_hard_bounces: Option<bool>,
    #[serde(default)]
    tls_ca_file: Option<String>,
    #[serde(default)]
    dkim: Option<Spanned<RawDkim>>,
    #[serde(default)]
    relays: Vec<Spanned<RawRelay>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelay {
    url: Spanned<String>,
    #[serde(default)]
    weight: Option<Spanned<u32>>,
    #[serde(default)]
    connections: Option<Spanned<u32>>,
    #[serde(default)]
    rate: Option<Spanned<u32>>,
    #[serde(default)]
    burst: Option<Spanned<u32>>,
    #[serde(default)]
    per_hour: Option<Spanned<u32>>,
    #[serde(default)]
    per_day: Option<Spanned<u32>>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDkim {
    selector: Spanned<String>,
    domain: Spanned<String>,
    /// PKCS#1 PEM for RSA, base64 for Ed25519; readable by its owner only.
    key_file: String,
    #[serde(default)]
    algorithm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffice {
    name: String,
    #[serde(default)]
    translations: BTreeMap<Spanned<String>, String>,
    regions: Vec<Spanned<String>>,
    language: Spanned<String>,
    from: Spanned<String>,
    #[serde(default)]
    reply_to: Option<Spanned<String>>,
    lists: Vec<String>,
    #[serde(default, rename = "where")]
    segment: Vec<Spanned<String>>,
    #[serde(default)]
    time_zone: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    name: String,
    #[serde(default)]
    translations: BTreeMap<Spanned<String>, String>,
}

/// Where the international days are unless `[calendar]` says otherwise.
pub const DEFAULT_DAYS_FILE: &str = "data/international-days.csv";

/// Validated settings, each stage's part ready to hand to it. Every field is usable as is.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file the settings came from, or `None` for the embedded defaults.
    pub path: Option<PathBuf>,
    /// The folder relative paths are resolved against.
    pub root: PathBuf,
    /// Languages, regions and offices, shared by every stage below.
    pub network: Arc<Network>,
    pub edition: EditionSettings,
    pub audience: AudienceSettings,
    pub render: RenderSettings,
    pub delivery: DeliverySettings,
    pub bounces: BounceSettings,
    /// `[serve] edit_password_hash`: the Argon2 hash of the editor's password, checked to be one.
    pub edit_password_hash: Option<String>,
}

/// Parses `Name <address>` for a header; control characters are refused so that a value can
/// never start a header of its own.
fn mailbox(
    report: &mut Report,
    source: &Source,
    field: &Spanned<String>,
    key: &str,
) -> Option<lettre::message::Mailbox> {
    let text = field.get_ref();
    match text.parse::<lettre::message::Mailbox>() {
        Ok(m) if !text.chars().any(char::is_control) => {
            let name = m.name.as_deref().unwrap_or_default();
            match crate::types::check_header_text(name) {
                Ok(()) => Some(m),
                Err(why) => {
                    report.error_at(source, field.span().start, format!("the name in `{key}` {why}"));
                    None
                }
            }
        }
        _ => {
            report.error_at(
                source,
                field.span().start,
                format!(
                    "`{key}` must be an address like `Name <name@example.org>`, not `{}`",
                    text.escape_debug()
                ),
            );
            None
        }
    }
}

/// A pace from `rate`, `burst`, `per_hour` and `per_day` (in that order), `rate` defaulting to
/// `default_rate` messages per second.
fn pace_settings(report: &mut Report, source: &Source, limits: [&Option<Spanned<u32>>; 4], default_rate: u32) -> Pace {
    let [rate, burst, per_hour, per_day] = limits;
    let mut pace = Pace::new(positive(report, source, rate, "rate", default_rate));
    if burst.is_some() {
        pace.burst = positive(report, source, burst, "burst", 1);
    }
    if per_hour.is_some() {
        pace.per_hour = Some(positive(report, source, per_hour, "per_hour", 1));
    }
    if per_day.is_some() {
        pace.per_day = Some(positive(report, source, per_day, "per_day", 1));
    }
    pace
}

/// The most connections a send opens (`connections`, `--connections`): far beyond what any
/// relay allows one client, and small enough that the workers fit in memory.
pub const MAX_CONNECTIONS: u32 = 256;

/// `connections`, bounded by [`MAX_CONNECTIONS`].
fn connection_count(report: &mut Report, source: &Source, value: &Option<Spanned<u32>>, default: u32) -> NonZeroU32 {
    let n = positive(report, source, value, "connections", default);
    if let Some(v) = value.as_ref().filter(|_| n.get() > MAX_CONNECTIONS) {
        report.error_at(
            source,
            v.span().start,
            format!("`connections` must be at most {MAX_CONNECTIONS}"),
        );
    }
    n
}

/// `languages` (at least one, each once) and `fallback_language` (one of them).
fn language_settings(
    raw_languages: &Spanned<Vec<Spanned<String>>>,
    raw_fallback: &Spanned<String>,
    source: &Source,
    report: &mut Report,
) -> (Vec<Language>, Option<Language>) {
    let mut languages = Vec::new();
    for code in raw_languages.get_ref() {
        match code.get_ref().parse::<Language>() {
            Ok(l) if languages.contains(&l) => {
                report.error_at(source, code.span().start, format!("language `{l}` is listed twice"))
            }
            Ok(l) => languages.push(l),
            Err(e) => report.error_at(source, code.span().start, e),
        }
    }
    if raw_languages.get_ref().is_empty() {
        report.error_at(
            source,
            raw_languages.span().start,
            "`languages` must list at least one language",
        );
    }
    let fallback_language = match raw_fallback.get_ref().parse::<Language>() {
        Ok(l) if languages.contains(&l) => Some(l),
        Ok(l) => {
            report.error_at(
                source,
                raw_fallback.span().start,
                format!("`fallback_language` `{l}` is not in `languages`"),
            );
            None
        }
        Err(e) => {
            report.error_at(source, raw_fallback.span().start, e);
            None
        }
    };
    (languages, fallback_language)
}

/// `[regions.<id>]`: at least one, with names only in configured languages.
fn region_settings(
    raw: BTreeMap<Spanned<String>, RawRegion>,
    languages: &[Language],
    source: &Source,
    report: &mut Report,
) -> BTreeMap<Region, RegionInfo> {
    let mut regions = BTreeMap::new();
    for (id, region) in raw {
        let Ok(region_id) = id
            .get_ref()
            .parse::<Region>()
            .map_err(|e| report.error_at(source, id.span().start, e))
        else {
            continue;
        };
        let names = names(
            region.name,
            region.translations,
            &format!("region `{region_id}`"),
            languages,
            source,
            report,
        );
        regions.insert(region_id, names);
    }
    if regions.is_empty() {
        report.error_at(source, 0, "no `[regions.<id>]` are defined: define at least one region");
    }
    regions
}

/// A name and its `translations = { fr = "…" }`, each in a configured language.
fn names(
    name: String,
    translations: BTreeMap<Spanned<String>, String>,
    what: &str,
    languages: &[Language],
    source: &Source,
    report: &mut Report,
) -> Names {
    let mut names = Names {
        name,
        translations: BTreeMap::new(),
    };
    for (code, translated) in translations {
        match code.get_ref().parse::<Language>() {
            Ok(l) if languages.contains(&l) => {
                names.translations.insert(l, translated);
            }
            Ok(l) => report.error_at(
                source,
                code.span().start,
                format!("{what} has a name in `{l}`, which is not in `languages`"),
            ),
            Err(e) => report.error_at(source, code.span().start, e),
        }
    }
    names
}

/// One `[offices.<id>]`, or `None` (its problems reported) when it cannot be used.
fn office_settings(
    id: &Spanned<String>,
    office: &Spanned<RawOffice>,
    regions: &BTreeMap<Region, RegionInfo>,
    languages: &[Language],
    root: &Path,
    source: &Source,
    report: &mut Report,
) -> Option<Office> {
    let Ok(office_id) = id
        .get_ref()
        .parse::<OfficeId>()
        .map_err(|e| report.error_at(source, id.span().start, e))
    else {
        return None;
    };
    let o = office.get_ref();
    let mut office_regions = Vec::new();
    for r in &o.regions {
        match r.get_ref().parse::<Region>() {
            Ok(region) if regions.contains_key(&region) => office_regions.push(region),
            _ => {
                let list = regions.keys().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ");
                report.error_at(
                    source,
                    r.span().start,
                    format!("unknown region `{}`; the regions are {list}", r.get_ref()),
                );
            }
        }
    }
    if o.regions.is_empty() {
        report.error_at(
            source,
            office.span().start,
            format!("office `{office_id}` needs `regions`"),
        );
    }
    let language = match o.language.get_ref().parse::<Language>() {
        Ok(l) if languages.contains(&l) => Some(l),
        _ => {
            report.error_at(
                source,
                o.language.span().start,
                format!("office language `{}` is not in `languages`", o.language.get_ref()),
            );
            None
        }
    };
    let from = mailbox(report, source, &o.from, "from");
    let office_reply_to = o.reply_to.as_ref().map(|r| mailbox(report, source, r, "reply_to"));
    let mut filters = Vec::new();
    for w in &o.segment {
        match w.get_ref().parse::<Filter>() {
            Ok(f) => filters.push(f),
            Err(e) => report.error_at(source, w.span().start, e),
        }
    }
    let time_zone = o.time_zone.as_ref().and_then(|z| {
        crate::calendar::parse_zone(z.get_ref())
            .map_err(|e| report.error_at(source, z.span().start, e))
            .ok()
    });
    if o.lists.is_empty() {
        report.error_at(
            source,
            office.span().start,
            format!("office `{office_id}` needs `lists`: the CSV files of its recipients"),
        );
    }
    let names = names(
        o.name.clone(),
        o.translations.clone(),
        &format!("office `{office_id}`"),
        languages,
        source,
        report,
    );
    let (Some(language), Some(from)) = (language, from) else {
        return None;
    };
    Some(Office {
        id: office_id,
        names,
        regions: office_regions,
        language,
        from,
        reply_to: office_reply_to.flatten(),
        lists: o.lists.iter().map(|l| root.join(l)).collect(),
        filters,
        time_zone,
    })
}

/// A setting that must be at least 1, or its default; an error at its place otherwise.
fn positive(report: &mut Report, source: &Source, value: &Option<Spanned<u32>>, key: &str, default: u32) -> NonZeroU32 {
    match value {
        None => NonZeroU32::new(default).unwrap_or(NonZeroU32::MIN),
        Some(v) => NonZeroU32::new(*v.get_ref()).unwrap_or_else(|| {
            report.error_at(source, v.span().start, format!("`{key}` must be at least 1"));
            NonZeroU32::MIN
        }),
    }
}

/// `[[delivery.relays]]`, each with its own weight, connections, limits and password source.
fn relay_list(raw: &[Spanned<RawRelay>], root: &Path, source: &Source, report: &mut Report) -> Vec<RelaySettings> {
    let mut relays = Vec::new();
    for spanned in raw {
        let r = spanned.get_ref();
        let relay = match Destination::parse(r.url.get_ref()).and_then(|dest| dest.check_auth_is_safe().map(|()| dest))
        {
            Ok(Destination::Smtp(relay)) => relay,
            Ok(Destination::Outbox) => {
                report.error_at(
                    source,
                    r.url.span().start,
                    "a relay of [[delivery.relays]] must be an smtp:// or smtps:// URL",
                );
                continue;
            }
            Err(e) => {
                report.error_at(source, r.url.span().start, e);
                continue;
            }
        };
        let own_rate = r.rate.is_some() || r.per_hour.is_some() || r.per_day.is_some();
        let limits = [&r.rate, &r.burst, &r.per_hour, &r.per_day];
        let pace = own_rate.then(|| pace_settings(report, source, limits, 1_000_000));
        relays.push(RelaySettings {
            relay,
            weight: positive(report, source, &r.weight, "weight", 1),
            connections: connection_count(report, source, &r.connections, 2),
            pace,
            password_env: r.password_env.clone(),
            password_file: r.password_file.as_ref().map(|f| root.join(f)),
        });
    }
    relays
}

fn delivery_settings(
    raw: Option<&Spanned<RawDelivery>>,
    root: &Path,
    source: &Source,
    report: &mut Report,
) -> DeliverySettings {
    let empty = RawDelivery::default();
    let d = raw.map_or(&empty, |r| r.get_ref());
    let connections = connection_count(report, source, &d.connections, 4);
    let max_attempts = positive(report, source, &d.max_attempts, "max_attempts", 3);
    let limits = [&d.rate, &d.burst, &d.per_hour, &d.per_day];
    let pace = pace_settings(report, source, limits, 10);
    let destination = match &d.relay {
        None => Destination::Outbox,
        Some(relay) => {
            match Destination::parse(relay.get_ref()).and_then(|dest| dest.check_auth_is_safe().map(|()| dest)) {
                Ok(dest) => dest,
                Err(e) => {
                    report.error_at(source, relay.span().start, e);
                    Destination::Outbox
                }
            }
        }
    };
    if let (Some(relay), false) = (&d.relay, d.relays.is_empty()) {
        report.error_at(
            source,
            relay.span().start,
            "`relay` and `[[delivery.relays]]` exclude each other: list every relay under [[delivery.relays]]",
        );
    }
    let relays = relay_list(&d.relays, root, source, report);
    // With several relays, every relay's connections work at once.
    let connections = if relays.is_empty() || d.connections.is_some() {
        connections
    } else {
        NonZeroU32::new(
            relays
                .iter()
                .map(|r| r.connections.get())
                .sum::<u32>()
                .min(MAX_CONNECTIONS),
        )
        .unwrap_or(connections)
    };
    DeliverySettings {
        relays,
        destination,
        outbox: root.join(d.outbox.as_deref().unwrap_or("outbox")),
        state_dir: root.join(d.state.as_deref().unwrap_or("state")),
        connections,
        pace,
        max_attempts,
        retry_delay: Duration::from_millis(d.retry_delay_ms.unwrap_or(1000)),
        timeout: Duration::from_secs(d.timeout_seconds.unwrap_or(30).max(1)),
        password_env: d
            .password_env
            .clone()
            .unwrap_or_else(|| "INFOFLASH_SMTP_PASSWORD".into()),
        password_file: d.password_file.as_ref().map(|f| root.join(f)),
        suppress_hard_bounces: d.suppress_hard_bounces.unwrap_or(false),
        tls_ca_file: d.tls_ca_file.as_ref().map(|f| root.join(f)),
        dkim: d.dkim.as_ref().and_then(|k| dkim_settings(k, root, source, report)),
    }
}

/// `[delivery.dkim]`, or `None` with an error in `report`.
fn dkim_settings(k: &Spanned<RawDkim>, root: &Path, source: &Source, report: &mut Report) -> Option<Dkim> {
    let raw = k.get_ref();
    let ed25519 = match raw.algorithm.as_deref() {
        None | Some("rsa") => false,
        Some("ed25519") => true,
        Some(other) => {
            report.error_at(
                source,
                k.span().start,
                format!("DKIM `algorithm` is `rsa` or `ed25519`, not `{other}`"),
            );
            return None;
        }
    };
    // Both go into every DKIM-Signature header and name a DNS record: DNS characters only.
    for (field, key) in [(&raw.selector, "selector"), (&raw.domain, "domain")] {
        let text = field.get_ref();
        let dns = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
        if text.is_empty() || !text.chars().all(dns) {
            report.error_at(
                source,
                field.span().start,
                format!(
                    "DKIM `{key}` must be a DNS name (letters, digits, `-`, `.`, `_`), not `{}`",
                    text.escape_debug()
                ),
            );
            return None;
        }
    }
    Some(Dkim {
        selector: raw.selector.get_ref().clone(),
        domain: raw.domain.get_ref().clone(),
        key_file: root.join(&raw.key_file),
        ed25519,
    })
}

/// Every `.csv` in `dir` except the suppression list and the offices' own lists, sorted.
fn default_lists(dir: &Path, suppression: &Path, offices: &BTreeMap<OfficeId, Office>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut lists: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
        .filter(|p| p != suppression && !offices.values().any(|o| o.lists.contains(p)))
        .collect();
    lists.sort();
    lists
}

impl Config {
    /// Reads `path`, or the embedded defaults (rooted at `cwd`) when `path` is `None` and there
    /// is no `infoflash.toml` in `cwd`.
    pub fn discover(path: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
        Config::find(path, cwd)?.with_days_file()
    }

    /// Replaces the embedded international days with the project's file, when it has one.
    fn with_days_file(mut self) -> Result<Config, ConfigError> {
        let calendar = &mut self.edition.calendar;
        if calendar.international_days.is_file() || calendar.custom_days_file {
            calendar.days =
                Arc::new(crate::calendar::days::load_days(&calendar.international_days).map_err(ConfigError::Days)?);
        }
        Ok(self)
    }

    fn find(path: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
        match path {
            Some(path) => Config::load(path),
            None => {
                let candidate = cwd.join(FILE_NAME);
                if candidate.is_file() {
                    Config::load(&candidate)
                } else {
                    Config::parse(EMBEDDED, Path::new("<embedded infoflash.toml>"), cwd).map(|mut c| {
                        c.path = None;
                        c
                    })
                }
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // An empty root (settings in the current folder) keeps joined paths short and relative.
        let root = path.parent().unwrap_or(Path::new("")).to_path_buf();
        Config::parse(&text, path, &root)
    }

    /// Parses settings from text; `path` is only used in messages, `root` resolves paths.
    pub fn parse(text: &str, path: &Path, root: &Path) -> Result<Config, ConfigError> {
        let source = Source::new(path, text);
        let mut report = Report::new();
        let raw: RawConfig = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                report.error_at(&source, e.span().map_or(0, |s| s.start), e.message());
                return Err(ConfigError::Invalid(report));
            }
        };

        // The URL parser drops tabs and line breaks without a word; a URL that has them is a
        // mistake to show, not to repair.
        let base_url_text = raw.base_url.get_ref();
        let base_url = match url::Url::parse(base_url_text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !base_url_text.chars().any(char::is_control) => Some(u),
            _ => {
                report.error_at(
                    &source,
                    raw.base_url.span().start,
                    format!(
                        "`base_url` must be an absolute https:// URL, not `{}`",
                        raw.base_url.get_ref().escape_debug()
                    ),
                );
                None
            }
        };
        let sender = mailbox(&mut report, &source, &raw.sender, "sender");
        let reply_to = raw
            .reply_to
            .as_ref()
            .map(|r| mailbox(&mut report, &source, r, "reply_to"));

        let postal_address = raw.postal_address.as_ref().and_then(|a| {
            let text = a.get_ref().trim();
            if text.is_empty() || text.chars().any(char::is_control) {
                report.error_at(
                    &source,
                    a.span().start,
                    "`postal_address` must be the sender's address on one line, its parts separated by commas",
                );
                return None;
            }
            Some(text.to_string())
        });
        let (languages, fallback_language) =
            language_settings(&raw.languages, &raw.fallback_language, &source, &mut report);

        let regions = region_settings(raw.regions, &languages, &source, &mut report);

        let suppression = root.join(raw.suppression.as_deref().unwrap_or("recipients/suppression.csv"));
        let mut offices = BTreeMap::new();
        for (id, office) in &raw.offices {
            if let Some(o) = office_settings(id, office, &regions, &languages, root, &source, &mut report) {
                offices.insert(o.id.clone(), o);
            }
        }

        let delivery = delivery_settings(raw.delivery.as_ref(), root, &source, &mut report);
        let cal = raw.calendar.unwrap_or_default();
        let mut weeks_or_days =
            |field: &Option<Spanned<u32>>, key: &str, default: u32, range: std::ops::RangeInclusive<u32>| match field {
                Some(v) if !range.contains(v.get_ref()) => {
                    report.error_at(
                        &source,
                        v.span().start,
                        format!("`{key}` must be between {} and {}", range.start(), range.end()),
                    );
                    default
                }
                Some(v) => *v.get_ref(),
                None => default,
            };
        let calendar = CalendarSettings {
            international_days: root.join(cal.international_days.as_deref().unwrap_or(DEFAULT_DAYS_FILE)),
            days_weeks: weeks_or_days(&cal.days_weeks, "days_weeks", 6, 0..=52),
            cadence_days: weeks_or_days(&cal.cadence_days, "cadence_days", 14, 1..=366),
            days: crate::calendar::days::embedded(),
            custom_days_file: cal.international_days.is_some(),
        };
        let soft_bounce_editions = weeks_or_days(
            &raw.bounces.unwrap_or_default().soft_bounce_editions,
            "soft_bounce_editions",
            3,
            1..=100,
        );
        let edit_password_hash = raw
            .serve
            .as_ref()
            .and_then(|s| s.edit_password_hash.as_ref())
            .and_then(|h| match argon2::PasswordHash::new(h.get_ref()) {
                Ok(parsed) if parsed.algorithm.as_str().starts_with("argon2") => Some(h.get_ref().clone()),
                _ => {
                    report.error_at(
                        &source,
                        h.span().start,
                        "`edit_password_hash` is not an Argon2 hash: make one with `infoflash serve --hash-password` (it starts with `$argon2id$`)",
                    );
                    None
                }
            });

        if report.has_errors() {
            return Err(ConfigError::Invalid(report));
        }
        // Every `None` above pushed an error, so these are all present here.
        let (Some(base_url), Some(sender), Some(fallback_language)) = (base_url, sender, fallback_language) else {
            return Err(ConfigError::Invalid(report));
        };
        let lists = match &raw.lists {
            Some(lists) => lists.iter().map(|l| root.join(l)).collect(),
            None => default_lists(&root.join("recipients"), &suppression, &offices),
        };
        let network = Arc::new(Network {
            languages,
            fallback_language,
            regions,
            offices,
        });
        Ok(Config {
            path: Some(path.to_path_buf()),
            root: root.to_path_buf(),
            edition: EditionSettings {
                network: network.clone(),
                calendar,
            },
            audience: AudienceSettings {
                network: network.clone(),
                lists,
                suppression: suppression.clone(),
            },
            render: RenderSettings {
                network: network.clone(),
                base_url,
                sender,
                reply_to: reply_to.flatten(),
                postal_address,
                out_dir: root.join(raw.out_dir.as_deref().unwrap_or("out")),
                templates_dir: root.join(raw.templates.as_deref().unwrap_or("templates")),
            },
            bounces: BounceSettings {
                soft_bounce_editions,
                state_dir: delivery.state_dir.clone(),
                suppression,
                network: network.clone(),
            },
            delivery,
            network,
            edit_password_hash,
        })
    }

    /// What `serve` reads: previews as `check` and `build` make them, the archive, the
    /// unsubscribe key and the suppression list.
    pub fn serve(&self) -> ServeSettings {
        ServeSettings {
            editions_dir: self.root.join("editions"),
            edition: self.edition.clone(),
            render: self.render.clone(),
            suppression: self.audience.suppression.clone(),
            state_dir: self.delivery.state_dir.clone(),
            edit_password_hash: self.edit_password_hash.clone(),
        }
    }

    /// What `send` reads.
    pub fn send(&self) -> SendSettings<'_> {
        SendSettings {
            edition: &self.edition,
            audience: &self.audience,
            render: &self.render,
            delivery: &self.delivery,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("infoflash.toml"), Path::new("/project"))
    }

    #[test]
    fn the_embedded_defaults_are_valid_and_name_the_five_regions() {
        let config = parse(EMBEDDED).unwrap();
        let ids: Vec<_> = config.network.regions.keys().map(Region::as_str).collect();
        assert_eq!(
            ids,
            [
                "africa",
                "arab-states",
                "asia-pacific",
                "europe-north-america",
                "latin-america-caribbean"
            ]
        );
        assert_eq!(config.network.fallback_language.as_str(), "en");
        assert_eq!(config.render.out_dir, Path::new("/project/out"));
    }

    #[test]
    fn reports_every_problem_in_one_pass_with_lines() {
        let text = "base_url = \"ftp://x\"\nsender = \"no address\"\nlanguages = [\"en\", \"EN\"]\nfallback_language = \"de\"\n[regions.africa]\nname = \"Africa\"\n";
        let Err(ConfigError::Invalid(report)) = parse(text) else {
            panic!("accepted")
        };
        let text = report.to_string();
        assert!(text.contains("infoflash.toml:1:12: error: `base_url`"), "{text}");
        assert!(text.contains("infoflash.toml:2:"), "{text}");
        assert!(text.contains("infoflash.toml:3:20: error: `EN`"), "{text}");
        assert!(text.contains("infoflash.toml:4:"), "{text}");
    }

    #[test]
    fn rejects_unknown_keys() {
        let text = EMBEDDED.replace("out_dir", "output_dir");
        let Err(ConfigError::Invalid(report)) = parse(&text) else {
            panic!("accepted")
        };
        assert!(report.to_string().contains("unknown field `output_dir`"), "{report}");
    }
}
