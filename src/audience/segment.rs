//! Segments: `--where KEY=V1,V2` filters on recipients. Values of one filter are OR'ed,
//! several filters are AND'ed. Comparison ignores case and surrounding space, because lists
//! come from spreadsheets typed by many people.

use std::fmt;
use std::str::FromStr;

use super::Recipient;
use crate::config::Config;

/// What a filter looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Region,
    Language,
    Country,
    Role,
    /// Matches when any of the recipient's tags is one of the values.
    Tags,
    /// Any other column of the list.
    Attribute(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: Field,
    /// Lowercased, trimmed, never empty.
    pub values: Vec<String>,
}

impl FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage =
            || format!("`{s}` is not a filter: write KEY=VALUE or KEY=VALUE1,VALUE2 (e.g. region=africa,arab-states)");
        let (key, values) = s.split_once('=').ok_or_else(usage)?;
        let key = key.trim().to_lowercase();
        if key.is_empty() {
            return Err(usage());
        }
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            return Err(usage());
        }
        let field = match key.as_str() {
            "region" => Field::Region,
            "language" => Field::Language,
            "country" => Field::Country,
            "role" => Field::Role,
            "tags" | "tag" => Field::Tags,
            "email" | "name" => return Err(format!("filtering on `{key}` is not supported: use a segment column")),
            other => Field::Attribute(other.to_string()),
        };
        Ok(Filter { field, values })
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match &self.field {
            Field::Region => "region",
            Field::Language => "language",
            Field::Country => "country",
            Field::Role => "role",
            Field::Tags => "tags",
            Field::Attribute(a) => a,
        };
        write!(f, "{key}={}", self.values.join(","))
    }
}

impl Filter {
    /// Checks region and language values against the settings, so a typo is an error rather
    /// than an empty audience.
    pub fn validate(&self, config: &Config) -> Result<(), String> {
        let unknown: Vec<&String> = match self.field {
            Field::Region => self
                .values
                .iter()
                .filter(|v| !config.regions.keys().any(|r| r.as_str() == v.as_str()))
                .collect(),
            Field::Language => self
                .values
                .iter()
                .filter(|v| !config.languages.iter().any(|l| l.as_str() == v.as_str()))
                .collect(),
            _ => return Ok(()),
        };
        match unknown.first() {
            None => Ok(()),
            Some(v) if self.field == Field::Region => Err(format!(
                "unknown region `{v}` in `--where {self}`; the regions are {}",
                config.region_list()
            )),
            Some(v) => Err(format!(
                "language `{v}` in `--where {self}` is not configured; use one of {}",
                config.language_list()
            )),
        }
    }

    pub fn matches(&self, r: &Recipient) -> bool {
        let is = |value: Option<&str>| value.is_some_and(|v| self.values.contains(&v.trim().to_lowercase()));
        match &self.field {
            Field::Region => is(r.region.as_ref().map(|x| x.as_str())),
            Field::Language => is(r.language.as_ref().map(|x| x.as_str())),
            Field::Country => is(r.country.as_deref()),
            Field::Role => is(r.role.as_deref()),
            Field::Tags => r.tags.iter().any(|t| is(Some(t))),
            Field::Attribute(name) => is(r.attributes.get(name).map(String::as_str)),
        }
    }
}

/// True when `r` passes every filter.
pub fn matches_all(filters: &[Filter], r: &Recipient) -> bool {
    filters.iter().all(|f| f.matches(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient() -> Recipient {
        let mut r = Recipient::new("ann@example.org".parse().unwrap());
        r.region = Some("africa".parse().unwrap());
        r.role = Some("National Coordinator".into());
        r.tags = vec!["Teachers".into(), "board".into()];
        r.attributes.insert("school_level".into(), "Secondary".into());
        r
    }

    #[test]
    fn values_are_ored_and_case_is_ignored() {
        let f: Filter = "region=europe-north-america, AFRICA".parse().unwrap();
        assert!(f.matches(&recipient()));
        let f: Filter = "role=national coordinator".parse().unwrap();
        assert!(f.matches(&recipient()));
        let f: Filter = "tags=teachers".parse().unwrap();
        assert!(f.matches(&recipient()));
        let f: Filter = "school_level=primary".parse().unwrap();
        assert!(!f.matches(&recipient()));
    }

    #[test]
    fn several_filters_must_all_match() {
        let fs: Vec<Filter> = ["region=africa", "tags=nobody"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(!matches_all(&fs, &recipient()));
        assert!(matches_all(&fs[..1], &recipient()));
    }

    #[test]
    fn rejects_a_filter_without_values() {
        assert!("region=".parse::<Filter>().is_err());
        assert!("region".parse::<Filter>().is_err());
        assert!("=x".parse::<Filter>().is_err());
    }
}
