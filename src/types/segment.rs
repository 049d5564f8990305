//! A segment filter as written (`--where KEY=V1,V2`, an office's `where`): parsed once, here,
//! with no knowledge of the settings or the lists. Whether its values are configured and
//! whom it keeps are the audience's business ([`crate::audience::segment`]).

use std::fmt;
use std::str::FromStr;

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
