//! The edition file exactly as serde reads it: every field that a message may point at is
//! `Spanned`, so the loader can name its line. Nothing here is validated beyond TOML types;
//! `load.rs` turns these into the model.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::value::Datetime;
use toml::Spanned;

pub type Translations<T> = BTreeMap<Spanned<String>, T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub edition: Spanned<Edition>,
    #[serde(default)]
    pub items: Vec<Spanned<Item>>,
    #[serde(default)]
    pub international_days: Option<Spanned<Days>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edition {
    pub series: Spanned<String>,
    pub number: Spanned<u32>,
    pub date: Spanned<Datetime>,
    pub language: Spanned<String>,
    #[serde(default)]
    pub languages: Option<Vec<Spanned<String>>>,
    pub time_zone: Spanned<String>,
    #[serde(default)]
    pub subject: Option<Spanned<String>>,
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
    #[serde(default)]
    pub subtitle: Option<Spanned<String>>,
    #[serde(default)]
    pub greeting: Option<Spanned<String>>,
    #[serde(default)]
    pub closing: Option<Spanned<String>>,
    #[serde(default)]
    pub translations: EditionTranslations,
}

/// `[edition] translations`: the texts per language, and whether a missing one is an error.
/// Written `translations = "required"` (or `"fallback"`, the default) when the edition has no
/// translated texts of its own, or `required = true` inside `[edition.translations]` when it has.
#[derive(Debug, Default)]
pub struct EditionTranslations {
    pub required: Option<Spanned<bool>>,
    pub by_language: Translations<EditionTranslation>,
}

impl<'de> Deserialize<'de> for EditionTranslations {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Visitor};

        struct Policy;
        impl<'de> Visitor<'de> for Policy {
            type Value = EditionTranslations;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`\"required\"`, `\"fallback\"`, or a table of translations per language")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let required = match v {
                    "required" => true,
                    "fallback" => false,
                    other => return Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                };
                Ok(EditionTranslations {
                    required: Some(Spanned::new(0..0, required)),
                    by_language: Translations::new(),
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = EditionTranslations::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    if key.get_ref() == "required" {
                        out.required = Some(map.next_value()?);
                    } else {
                        let value = map.next_value()?;
                        out.by_language.insert(key, value);
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_any(Policy)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditionTranslation {
    #[serde(default)]
    pub series: Option<Spanned<String>>,
    #[serde(default)]
    pub subject: Option<Spanned<String>>,
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
    #[serde(default)]
    pub subtitle: Option<Spanned<String>>,
    #[serde(default)]
    pub greeting: Option<Spanned<String>>,
    #[serde(default)]
    pub closing: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    #[serde(default)]
    pub call_for: Option<Spanned<String>>,
    #[serde(default)]
    pub label: Option<String>,
    pub title: Spanned<String>,
    #[serde(default)]
    pub title_link: Option<Spanned<String>>,
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    #[serde(default)]
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub starts: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub ends: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub place: Option<Spanned<String>>,
    #[serde(default)]
    pub eligibility: Option<Spanned<String>>,
    #[serde(default)]
    pub sessions: Vec<Spanned<Session>>,
    #[serde(default)]
    pub deadlines: Vec<Spanned<Deadline>>,
    #[serde(default)]
    pub links: Vec<Spanned<Link>>,
    #[serde(default)]
    pub contacts: Vec<Spanned<Contact>>,
    #[serde(default)]
    pub events: Vec<Spanned<EventRow>>,
    #[serde(default)]
    pub translations: Translations<ItemTranslation>,
}

/// One row of an event list (`[[items.events]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRow {
    pub title: Spanned<String>,
    #[serde(default)]
    pub date: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub starts: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub ends: Option<Spanned<Datetime>>,
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    #[serde(default)]
    pub end: Option<Spanned<String>>,
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
    #[serde(default)]
    pub place: Option<Spanned<String>>,
    #[serde(default)]
    pub link: Option<Spanned<String>>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub translations: Translations<EventRowTranslation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRowTranslation {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemTranslation {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub eligibility: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub language: Option<Spanned<String>>,
    #[serde(default)]
    pub also_in: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    pub date: Spanned<Datetime>,
    #[serde(default)]
    pub start: Option<Spanned<String>>,
    #[serde(default)]
    pub end: Option<Spanned<String>>,
    #[serde(default)]
    pub time_zone: Option<Spanned<String>>,
    #[serde(default)]
    pub link: Option<Spanned<String>>,
    #[serde(default)]
    pub link_text: Option<String>,
    #[serde(default)]
    pub note: Option<Spanned<String>>,
    #[serde(default)]
    pub translations: Translations<SessionTranslation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionTranslation {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub note: Option<Spanned<String>>,
    #[serde(default)]
    pub link_text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadline {
    pub what: String,
    pub date: Spanned<Datetime>,
    #[serde(default)]
    pub translations: Translations<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub text: String,
    pub url: Spanned<String>,
    #[serde(default)]
    pub translations: Translations<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    pub email: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Days {
    /// How many weeks after the edition's date the computed days reach (0: none).
    #[serde(default)]
    pub weeks: Option<Spanned<u32>>,
    /// Computed days not to show, by link or English name.
    #[serde(default)]
    pub hide: Vec<Spanned<String>>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
    #[serde(default)]
    pub translations: Translations<DaysTranslation>,
    #[serde(default)]
    pub days: Vec<Spanned<Day>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysTranslation {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Day {
    pub date: Spanned<Datetime>,
    pub name: String,
    pub link: Spanned<String>,
    #[serde(default)]
    pub image: Option<Spanned<String>>,
    #[serde(default)]
    pub image_alt: Option<String>,
    #[serde(default)]
    pub translations: Translations<DayTranslation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayTranslation {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub image_alt: Option<String>,
}

/// An office's overlay file, `editions/<edition id>.<office id>.toml`: the office's own items
/// and texts, added to the edition for that office's variants only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlayFile {
    #[serde(default)]
    pub office: Option<Spanned<OverlayHead>>,
    #[serde(default)]
    pub items: Vec<Spanned<Item>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlayHead {
    /// The language the overlay is written in; the office's `language` by default.
    #[serde(default)]
    pub language: Option<Spanned<String>>,
    /// Replaces the edition's intro in the office's variants.
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
    /// Replaces the greeting in the office's variants.
    #[serde(default)]
    pub greeting: Option<Spanned<String>>,
    #[serde(default)]
    pub translations: Translations<OverlayTranslation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlayTranslation {
    #[serde(default)]
    pub intro: Option<Spanned<String>>,
    #[serde(default)]
    pub greeting: Option<Spanned<String>>,
}
