//! The report of a send: what happened to each recipient of the audience, by variant, by
//! language and by region, beside what the lists held (invalid rows, duplicates, excluded,
//! suppressed) and when the run started and ended. `send` prints it and writes it as JSON
//! (through [`crate::state`], which owns the file); `status` reads it back. It must not count
//! anything itself: the intake and the workers tell it each recipient's outcome.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audience::Counts;

/// What became of the recipients of one group (a variant, a language, a region, or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Accepted by the server (or written to the outbox) in this run.
    pub delivered: u64,
    /// Refused for good in this run.
    pub failed: u64,
    /// Still refused for now after every attempt of this run: the next send retries them.
    pub deferred: u64,
    /// Delivered or refused by an earlier run: not sent again.
    pub skipped: u64,
    /// Unsubscribed or bounced while this run went on, before their turn: not mailed.
    pub suppressed: u64,
}

impl Outcomes {
    fn add(&mut self, fate: Fate) {
        *match fate {
            Fate::Delivered => &mut self.delivered,
            Fate::Failed => &mut self.failed,
            Fate::Deferred => &mut self.deferred,
            Fate::Skipped => &mut self.skipped,
            Fate::Suppressed => &mut self.suppressed,
        } += 1;
    }

    /// Everyone of the group this run dealt with, one way or another.
    pub fn total(&self) -> u64 {
        self.delivered + self.failed + self.deferred + self.skipped + self.suppressed
    }
}

/// One recipient's lot in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Failed,
    Deferred,
    Skipped,
    Suppressed,
}

impl From<crate::state::Status> for Fate {
    fn from(status: crate::state::Status) -> Fate {
        match status {
            crate::state::Status::Delivered => Fate::Delivered,
            crate::state::Status::Failed => Fate::Failed,
            crate::state::Status::Deferred => Fate::Deferred,
        }
    }
}

/// The outcomes of a run, by group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub total: Outcomes,
    /// By variant id (`en`, `es-santiago`).
    pub variants: BTreeMap<String, Outcomes>,
    /// By the language of the variant the recipient got.
    pub languages: BTreeMap<String, Outcomes>,
    /// By the recipient's region (`-` when their list gives none).
    pub regions: BTreeMap<String, Outcomes>,
}

impl Breakdown {
    pub fn add(&mut self, variant: &str, language: &str, region: &str, fate: Fate) {
        self.total.add(fate);
        for (groups, name) in [
            (&mut self.variants, variant),
            (&mut self.languages, language),
            (&mut self.regions, region),
        ] {
            groups.entry(name.to_string()).or_default().add(fate);
        }
    }
}

/// What the lists held, as the send read them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    /// Rows read (blank lines aside).
    pub rows: u64,
    /// Rows that could not be read as a recipient (an invalid address, an unknown region…).
    pub invalid: u64,
    /// Rows whose address was already on an earlier row (the first row wins).
    pub duplicates: u64,
    /// Left out by `--where`, the office's `where`, or (with `--shard`) another shard.
    pub excluded: u64,
    /// On the suppression list (for this sender) when the send started.
    pub suppressed: u64,
    /// Everyone else: the audience of this send.
    pub deliverable: u64,
}

impl From<&Counts> for Audience {
    fn from(c: &Counts) -> Audience {
        Audience {
            rows: c.rows,
            invalid: c.invalid,
            duplicates: c.duplicates,
            excluded: c.excluded,
            suppressed: c.suppressed,
            deliverable: c.deliverable,
        }
    }
}

/// The report of one run of `send`, as written to `state/<edition>[-<office>]/report.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub edition: String,
    /// The sending office; `null` for the international team.
    pub office: Option<String>,
    /// `K/N` for a sharded run.
    pub shard: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: String,
    /// `finished`, or `interrupted` (Ctrl-C, a stop on a full disk…).
    pub state: String,
    /// `outbox` or `smtp`.
    pub destination_kind: String,
    /// The outbox folder or the relay URLs (never a password).
    pub destination: String,
    pub audience: Audience,
    #[serde(flatten)]
    pub outcomes: Breakdown,
}

impl Report {
    /// The report as a person reads it: the lists, then a table of outcomes by variant,
    /// language and region.
    pub fn table(&self) -> String {
        let a = &self.audience;
        let mut out = format!(
            "lists: {} rows, {} invalid, {} duplicates, {} excluded, {} suppressed, {} deliverable\n",
            a.rows, a.invalid, a.duplicates, a.excluded, a.suppressed, a.deliverable
        );
        let groups = [
            ("variant", &self.outcomes.variants),
            ("language", &self.outcomes.languages),
            ("region", &self.outcomes.regions),
        ];
        let mut rows: Vec<(String, &Outcomes)> = groups
            .iter()
            .flat_map(|(kind, groups)| groups.iter().map(move |(name, o)| (format!("{kind} {name}"), o)))
            .collect();
        rows.push(("total".into(), &self.outcomes.total));
        let width = rows.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0) + 2;
        out.push_str(&format!(
            "{:<width$}{:>10}{:>8}{:>10}{:>9}{:>12}\n",
            "", "delivered", "failed", "deferred", "skipped", "withdrawn"
        ));
        for (label, o) in rows {
            out.push_str(&format!(
                "{label:<width$}{:>10}{:>8}{:>10}{:>9}{:>12}\n",
                o.delivered, o.failed, o.deferred, o.skipped, o.suppressed
            ));
        }
        // The lists' suppressed rows never reach a group; without this line a reader takes
        // the column for them and sees the totals disagree.
        out.push_str("withdrawn: unsubscribed or bounced while this run went on, so not mailed\n");
        out.push_str(&format!(
            "started {}, ended {} ({})\n",
            self.started_at, self.ended_at, self.state
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_counts_once_in_its_variant_language_region_and_the_total() {
        let mut b = Breakdown::default();
        b.add("es-santiago", "es", "latin-america-caribbean", Fate::Delivered);
        b.add("en-santiago", "en", "latin-america-caribbean", Fate::Skipped);
        b.add("es-santiago", "es", "-", Fate::Suppressed);
        assert_eq!(b.total.total(), 3);
        assert_eq!(b.variants["es-santiago"].delivered, 1);
        assert_eq!(b.variants["es-santiago"].suppressed, 1);
        assert_eq!(b.languages["en"].skipped, 1);
        assert_eq!(b.regions["latin-america-caribbean"].total(), 2);
        assert_eq!(b.regions["-"].suppressed, 1);
        for groups in [&b.variants, &b.languages, &b.regions] {
            assert_eq!(groups.values().map(Outcomes::total).sum::<u64>(), b.total.total());
        }
    }

    #[test]
    fn the_printed_table_keeps_the_lists_suppressed_apart_from_those_withdrawn_during_the_run() {
        let mut b = Breakdown::default();
        b.add("en", "en", "africa", Fate::Delivered);
        b.add("en", "en", "africa", Fate::Suppressed);
        let report = Report {
            edition: "2026-01-info-flash-22".into(),
            office: None,
            shard: None,
            started_at: "2026-01-13T08:00:02Z".into(),
            ended_at: "2026-01-13T08:00:04Z".into(),
            state: "finished".into(),
            destination_kind: "outbox".into(),
            destination: "outbox".into(),
            audience: Audience {
                rows: 4,
                invalid: 0,
                duplicates: 0,
                excluded: 0,
                suppressed: 2,
                deliverable: 2,
            },
            outcomes: b,
        };
        let table = report.table();
        assert!(
            table.starts_with("lists: 4 rows, 0 invalid, 0 duplicates, 0 excluded, 2 suppressed, 2 deliverable\n"),
            "{table}"
        );
        let header = table.lines().nth(1).unwrap();
        assert!(
            header
                .split_whitespace()
                .eq(["delivered", "failed", "deferred", "skipped", "withdrawn"])
                && !header.contains("suppressed"),
            "{table}"
        );
        let total = table.lines().find(|l| l.starts_with("total")).unwrap();
        assert_eq!(
            total.split_whitespace().collect::<Vec<_>>(),
            ["total", "1", "0", "0", "0", "1"],
            "{table}"
        );
        assert!(
            table.contains("\nwithdrawn: unsubscribed or bounced while this run went on"),
            "{table}"
        );
    }
}
