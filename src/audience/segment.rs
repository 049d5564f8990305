//! Segments: `--where KEY=V1,V2` filters on recipients. Values of one filter are OR'ed,
//! several filters are AND'ed. Comparison ignores case and surrounding space, because lists
//! come from spreadsheets typed by many people.

pub use crate::types::segment::{Field, Filter};

use super::Recipient;
use crate::types::Network;

impl Filter {
    /// Checks region and language values against the settings, so a typo is an error rather
    /// than an empty audience.
    pub fn validate(&self, network: &Network) -> Result<(), String> {
        let unknown: Vec<&String> = match self.field {
            Field::Region => self
                .values
                .iter()
                .filter(|v| !network.regions.keys().any(|r| r.as_str() == v.as_str()))
                .collect(),
            Field::Language => self
                .values
                .iter()
                .filter(|v| !network.languages.iter().any(|l| l.as_str() == v.as_str()))
                .collect(),
            _ => return Ok(()),
        };
        match unknown.first() {
            None => Ok(()),
            Some(v) if self.field == Field::Region => Err(format!(
                "unknown region `{v}` in `--where {self}`; the regions are {}",
                network.region_list()
            )),
            Some(v) => Err(format!(
                "language `{v}` in `--where {self}` is not configured; use one of {}",
                network.language_list()
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Short values from a small alphabet, in any case, with surrounding spaces: collisions
        /// between generated values are frequent, so both outcomes of a match get exercised.
        fn value() -> impl Strategy<Value = String> {
            "[ ]{0,2}[abAB\u{e9}\u{c9}][abAB\u{e9}\u{c9} ]{0,2}[ ]{0,2}"
        }

        fn normalised(v: &str) -> String {
            v.trim().to_lowercase()
        }

        fn region() -> impl Strategy<Value = Option<crate::types::Region>> {
            proptest::option::of(
                prop::sample::select(vec!["africa", "arab-states", "asia-pacific"]).prop_map(|r| r.parse().unwrap()),
            )
        }

        fn language() -> impl Strategy<Value = Option<crate::types::Language>> {
            proptest::option::of(prop::sample::select(vec!["en", "fr", "es"]).prop_map(|l| l.parse().unwrap()))
        }

        prop_compose! {
            fn a_recipient()(
                region in region(),
                language in language(),
                country in proptest::option::of(value()),
                role in proptest::option::of(value()),
                tags in prop::collection::vec(value(), 0..3),
                school in proptest::option::of(value()),
            ) -> Recipient {
                let mut r = Recipient::new("ann@example.org".parse().unwrap());
                r.region = region;
                r.language = language;
                r.country = country;
                r.role = role;
                r.tags = tags;
                if let Some(s) = school {
                    r.attributes.insert("school".into(), s);
                }
                r
            }
        }

        fn key() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "region", "language", "country", "role", "tags", "tag", "school", " Role ",
            ])
        }

        /// The recipient's values for the filter's field, as the list gave them.
        fn field_values(field: &Field, r: &Recipient) -> Vec<String> {
            match field {
                Field::Region => r.region.iter().map(|x| x.as_str().to_string()).collect(),
                Field::Language => r.language.iter().map(|x| x.as_str().to_string()).collect(),
                Field::Country => r.country.iter().cloned().collect(),
                Field::Role => r.role.iter().cloned().collect(),
                Field::Tags => r.tags.clone(),
                Field::Attribute(name) => r.attributes.get(name).cloned().into_iter().collect(),
            }
        }

        fn filter_values() -> impl Strategy<Value = Vec<String>> {
            let region_or_language = prop::sample::select(vec!["Africa", " arab-states", "EN", "fr ", "xx"]);
            prop::collection::vec(prop_oneof![value(), region_or_language.prop_map(String::from)], 1..4)
        }

        proptest! {
            /// `KEY=V1,…,Vn` matches exactly when the field (trimmed, any case) is one of the
            /// values (trimmed, any case); for tags, when any tag is.
            #[test]
            fn a_filter_matches_iff_the_field_is_one_of_its_values(
                key in key(),
                values in filter_values(),
                r in a_recipient(),
            ) {
                let text = format!("{key}={}", values.join(","));
                let wanted: Vec<String> = values.iter().map(|v| normalised(v)).filter(|v| !v.is_empty()).collect();
                let Ok(filter) = text.parse::<Filter>() else {
                    prop_assert!(wanted.is_empty(), "`{}` was refused", text);
                    return Ok(());
                };
                prop_assert_eq!(&filter.values, &wanted);
                let expected = field_values(&filter.field, &r).iter().any(|v| wanted.contains(&normalised(v)));
                prop_assert_eq!(filter.matches(&r), expected, "{} on {:?}", filter, r);
            }

            /// Values are OR'ed: `KEY=V1,…,Vn` matches iff one of the `KEY=Vi` does.
            #[test]
            fn a_filter_is_the_union_of_its_single_values(key in key(), values in filter_values(), r in a_recipient()) {
                let Ok(filter) = format!("{key}={}", values.join(",")).parse::<Filter>() else {
                    return Ok(());
                };
                let any_single = filter.values.iter().any(|v| {
                    format!("{key}={v}").parse::<Filter>().unwrap().matches(&r)
                });
                prop_assert_eq!(filter.matches(&r), any_single);
            }

            /// Filters are AND'ed: the recipients kept by a set of filters are the intersection
            /// of those kept by each, whatever the order, and no filter keeps everyone.
            #[test]
            fn several_filters_keep_the_intersection(
                filters in prop::collection::vec((key(), filter_values()), 0..4),
                people in prop::collection::vec(a_recipient(), 1..8),
            ) {
                let filters: Vec<Filter> = filters
                    .iter()
                    .filter_map(|(k, vs)| format!("{k}={}", vs.join(",")).parse().ok())
                    .collect();
                let mut reversed = filters.clone();
                reversed.reverse();
                for r in &people {
                    let each = filters.iter().all(|f| matches_all(std::slice::from_ref(f), r));
                    prop_assert_eq!(matches_all(&filters, r), each);
                    prop_assert_eq!(matches_all(&reversed, r), each);
                    let (a, b) = filters.split_at(filters.len() / 2);
                    prop_assert_eq!(each, matches_all(a, r) && matches_all(b, r));
                }
                prop_assert!(people.iter().all(|r| matches_all(&[], r)));
            }

            /// What `--where` prints (`Display`) reads back as the same filter.
            #[test]
            fn a_filter_reads_back_from_its_display(key in "[ ]?[a-zA-Z_][a-zA-Z_ -]{0,8}", values in filter_values()) {
                if let Ok(filter) = format!("{key}={}", values.join(",")).parse::<Filter>() {
                    prop_assert_eq!(filter.to_string().parse::<Filter>(), Ok(filter));
                }
            }
        }
    }
}
