//! The network the digest serves: its languages, its regions and its regional offices.
//!
//! Several stages read these (an edition's items name regions, the lists name languages, the
//! renderer prints region and office names, the sender picks an office's lists and `From`), so
//! they are leaf values here rather than part of any one stage's settings. `config` builds one
//! [`Network`] from the settings file and hands each stage a shared reference. This module
//! must not read files or know the settings file's layout.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Filter, Language, OfficeId, Region};

/// A display name in the main language and in others, for a region or an office.
#[derive(Debug, Clone)]
pub struct Names {
    pub name: String,
    pub translations: BTreeMap<Language, String>,
}

impl Names {
    pub fn name_in(&self, language: &Language) -> &str {
        self.translations.get(language).unwrap_or(&self.name)
    }
}

/// A configured region: its names.
pub type RegionInfo = Names;

/// A regional office: sends its regions' items, by default in its language, to its own lists.
#[derive(Debug, Clone)]
pub struct Office {
    pub id: OfficeId,
    /// "UNESCO Regional Office in Santiago", and in other languages ("Oficina Regional…").
    pub names: Names,
    pub regions: Vec<Region>,
    pub language: Language,
    pub from: lettre::message::Mailbox,
    pub reply_to: Option<lettre::message::Mailbox>,
    pub lists: Vec<PathBuf>,
    /// The office's own segment, AND'ed with any `--where`.
    pub filters: Vec<Filter>,
    pub time_zone: Option<chrono_tz::Tz>,
}

/// Languages, regions and offices, validated against each other (an office's regions and
/// language are configured ones).
#[derive(Debug, Clone)]
pub struct Network {
    /// The languages editions are written in; the first is the main one.
    pub languages: Vec<Language>,
    /// The language a reader gets when theirs has no translation.
    pub fallback_language: Language,
    pub regions: BTreeMap<Region, RegionInfo>,
    pub offices: BTreeMap<OfficeId, Office>,
}

impl Network {
    /// The valid region ids, for error messages.
    pub fn region_list(&self) -> String {
        quoted_list(self.regions.keys().map(Region::as_str))
    }

    /// The configured language codes, for error messages.
    pub fn language_list(&self) -> String {
        quoted_list(self.languages.iter().map(Language::as_str))
    }

    pub fn knows_language(&self, language: &Language) -> bool {
        self.languages.contains(language)
    }

    pub fn knows_region(&self, region: &Region) -> bool {
        self.regions.contains_key(region)
    }
}

fn quoted_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
