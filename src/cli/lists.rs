//! `infoflash lists [CSV…] [--office ID] [--where KEY=V1,V2]… [--strict] [--json]
//! [--addresses [--edition EDITION]]`

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::{configured_office, EXIT_INVALID};
use crate::audience::{self, segment::Field, Counts, Filter, ListReader, RowProblem, Selection, Suppression};
use crate::config::Config;
use crate::deliver::run::variant_of;
use crate::types::OfficeId;

/// At most this many problems are kept for `--json`, so that a broken million-row list cannot
/// exhaust memory; the counts stay exact.
const JSON_PROBLEMS: usize = 1000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Lists to read [default: the office's `lists` with --office, else `lists` from the settings]
    csv: Vec<PathBuf>,
    /// The audience of a regional office: its lists and its segment (see [offices] in infoflash.toml)
    #[arg(long, value_name = "ID")]
    office: Option<OfficeId>,
    /// Keep recipients whose KEY (region, language, country, role, tags or any column) is one of
    /// the values; repeat to require several
    #[arg(long = "where", value_name = "KEY=V1,V2")]
    filters: Vec<Filter>,
    /// Exit 1 if any row was invalid
    #[arg(long)]
    strict: bool,
    /// Print one JSON object: rows, valid, invalid, duplicates, excluded, suppressed,
    /// deliverable, table (region → language → count) and problems
    #[arg(long)]
    json: bool,
    /// Print the deliverable addresses instead, one line each with the variant it would
    /// receive (`address<TAB>variant`), by the rules `send` applies (office, --where,
    /// suppression, duplicates); with --json, an array of {email, variant, language, region}
    #[arg(long)]
    addresses: bool,
    /// With --addresses: the edition whose variants they would receive [default: the
    /// settings' `languages`]
    #[arg(long, value_name = "EDITION", requires = "addresses")]
    edition: Option<PathBuf>,
}

/// A deliverable address and the variant it would receive (`lists --addresses --json`).
#[derive(Serialize)]
struct Address {
    email: String,
    variant: String,
    language: String,
    /// `null` when the list gives none.
    region: Option<String>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    lists: &'a [PathBuf],
    suppression: &'a PathBuf,
    #[serde(flatten)]
    counts: &'a Counts,
    problems: &'a [RowProblem],
    problems_not_shown: usize,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let office = args
        .office
        .as_ref()
        .map(|id| configured_office(config, id))
        .transpose()?;
    let (suppression, mut problems) = Suppression::load(&config.audience.suppression)?;
    let selection = Selection::of(&config.audience, office, &args.csv, &args.filters, &suppression, None);
    anyhow::ensure!(
        !selection.lists.is_empty(),
        "no recipient lists: name CSV files, or set `lists` in infoflash.toml (or put .csv files in recipients/)"
    );
    check_filters(&selection.filters, &selection.lists, config)?;

    if !args.json {
        for p in &problems {
            eprintln!("{p}");
        }
    }
    if args.addresses {
        return addresses(&args, config, office, &selection, &problems);
    }
    let mut not_shown = 0;
    let counts = audience::scan(
        &config.network,
        &selection,
        |problem| {
            if !args.json {
                eprintln!("{problem}");
            } else if problems.len() < JSON_PROBLEMS {
                problems.push(problem.clone());
            } else {
                not_shown += 1;
            }
        },
        |_| {},
    )?;

    if args.json {
        let report = JsonReport {
            lists: &selection.lists,
            suppression: &config.audience.suppression,
            counts: &counts,
            problems: &problems,
            problems_not_shown: not_shown,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&counts));
    }
    Ok(if args.strict && counts.invalid > 0 {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--addresses`: every deliverable address with its variant, on stdout; the problems on stderr.
fn addresses(
    args: &Args,
    config: &Config,
    office: Option<&crate::types::Office>,
    selection: &Selection<'_>,
    problems: &[RowProblem],
) -> anyhow::Result<ExitCode> {
    let available = match &args.edition {
        Some(path) => {
            crate::edition::load(path, &config.edition)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                .0
                .languages
        }
        None => config.network.languages.clone(),
    };
    anyhow::ensure!(!available.is_empty(), "no languages to send in");
    // Without --json they were printed already.
    if args.json {
        for p in problems {
            eprintln!("{p}");
        }
    }
    let fallback = &config.network.fallback_language;
    let mut found = Vec::new();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut written = Ok(());
    let counts = audience::scan(
        &config.network,
        selection,
        |problem| eprintln!("{problem}"),
        |r| {
            let variant = variant_of(r, &available, office, fallback);
            if args.json {
                found.push(Address {
                    email: r.email.to_string(),
                    variant: variant.id(),
                    language: variant.language.to_string(),
                    region: r.region.as_ref().map(ToString::to_string),
                });
            } else if written.is_ok() {
                written = writeln!(out, "{}\t{}", r.email, variant.id());
            }
        },
    )?;
    if args.json {
        serde_json::to_writer_pretty(&mut out, &found)?;
        writeln!(out)?;
    }
    written?;
    out.flush()?;
    Ok(if args.strict && counts.invalid > 0 {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

/// Region and language values must be configured; an attribute must be a column of some list.
fn check_filters(filters: &[Filter], lists: &[PathBuf], config: &Config) -> anyhow::Result<()> {
    for f in filters {
        f.validate(&config.network).map_err(anyhow::Error::msg)?;
    }
    let attributes: Vec<&String> = filters
        .iter()
        .filter_map(|f| match &f.field {
            Field::Attribute(name) => Some(name),
            _ => None,
        })
        .collect();
    if attributes.is_empty() {
        return Ok(());
    }
    let mut columns = BTreeSet::new();
    for list in lists {
        columns.extend(ListReader::open(list)?.headers().iter().cloned());
    }
    for name in attributes {
        anyhow::ensure!(
            columns.contains(name),
            "no list has a column `{name}` to filter on; the columns are: {}",
            columns.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

fn summary(c: &Counts) -> String {
    let mut out = String::new();
    for (label, n) in [
        ("rows", c.rows),
        ("valid", c.valid),
        ("invalid", c.invalid),
        ("duplicates", c.duplicates),
        ("excluded", c.excluded),
        ("suppressed", c.suppressed),
        ("deliverable", c.deliverable),
    ] {
        out.push_str(&format!("{label:<12} {n:>9}\n"));
    }
    if c.smtputf8 > 0 {
        out.push_str(&format!(
            "{:<12} {:>9}  (of the deliverable: their relay must offer SMTPUTF8)\n",
            "smtputf8", c.smtputf8
        ));
    }
    let languages: BTreeSet<&String> = c.table.values().flat_map(|l| l.keys()).collect();
    if languages.is_empty() {
        return out;
    }
    out.push_str(&format!("\n{:<28}", "deliverable: region \\ lang"));
    for l in &languages {
        out.push_str(&format!("{l:>7}"));
    }
    out.push_str(&format!("{:>8}\n", "total"));
    for (region, by_language) in &c.table {
        out.push_str(&format!("{region:<28}"));
        for l in &languages {
            out.push_str(&format!("{:>7}", by_language.get(*l).copied().unwrap_or(0)));
        }
        out.push_str(&format!("{:>8}\n", by_language.values().sum::<u64>()));
    }
    out.push_str(&format!("{:<28}", "total"));
    for l in &languages {
        let total: u64 = c.table.values().filter_map(|m| m.get(*l)).sum();
        out.push_str(&format!("{total:>7}"));
    }
    out.push_str(&format!("{:>8}\n", c.deliverable));
    out
}
