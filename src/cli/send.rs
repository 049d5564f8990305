//! `infoflash send EDITION [--office ID] [--where …] [--list CSV…] [--dry-run] [--test ADDR…]`
//! and `infoflash status EDITION [--office ID] [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::{edition_and_office, EXIT_INVALID};
use crate::audience::{self, Filter, Selection, Suppression};
use crate::config::{Config, MAX_CONNECTIONS};
use crate::deliver::report::Report;
use crate::deliver::run::{self, Options, SendError, Summary};
use crate::state::{Journals, StateDir};
use crate::types::Shard;
use crate::types::{EmailAddress, Language, OfficeId};

/// The highest `--rate`: far beyond any relay.
const MAX_RATE: u32 = 100_000;

/// Exit code after Ctrl-C or SIGTERM: the conventional 128 + SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

static STOP: AtomicBool = AtomicBool::new(false);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The edition file, e.g. editions/2026-01-info-flash-22.toml
    edition: PathBuf,
    /// Send a regional office's edition to its lists (see [offices] in infoflash.toml)
    #[arg(long, value_name = "ID")]
    office: Option<OfficeId>,
    /// Only recipients whose KEY is one of the values (repeat to require several)
    #[arg(long = "where", value_name = "KEY=V1,V2")]
    filters: Vec<Filter>,
    /// Lists to send to, instead of the settings' (or the office's)
    #[arg(long = "list", value_name = "CSV", num_args = 1..)]
    lists: Vec<PathBuf>,
    /// Resolve everything and print the plan (messages per variant, the first messages' headers); send nothing
    #[arg(long)]
    dry_run: bool,
    /// Send proofs: each variant to these addresses only (`ana@example.org` or, as copied from
    /// a mail client, `Ana <ana@example.org>`), "[TEST]" in the subject, with an unsubscribe
    /// link that changes nothing; the journal is not touched
    #[arg(long, value_name = "ADDR", num_args = 1.., value_parser = test_address)]
    test: Vec<EmailAddress>,
    /// With --test: only this language's variant (one of the edition's languages)
    #[arg(long, value_name = "L", requires = "test")]
    language: Option<Language>,
    /// Relay URL (smtp://host:port, smtps://host, or outbox), instead of [delivery] relay
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
    /// Messages per second over all connections, instead of [delivery] rate (1 to 100000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RATE)))]
    rate: Option<u32>,
    /// SMTP connections in parallel, instead of [delivery] connections (1 to 256)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CONNECTIONS)))]
    connections: Option<u32>,
    /// Send only shard K of N of the audience (by a stable hash of the address), with its own
    /// journal file: N machines can send one edition in parallel without overlap. Whatever
    /// layout earlier runs used, anyone they delivered or refused is skipped (see
    /// docs/delivery.md, "Shards")
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Go on with a send whose earlier runs went to another kind of destination (the outbox
    /// folder rather than SMTP, or the other way round): those they recorded as delivered are
    /// not mailed again
    #[arg(long)]
    change_destination: bool,
}

/// The command that runs this send again: what it was given, less the one-off options
/// (`--dry-run`, `--test`, `--change-destination`).
fn resume_command(args: &Args, config: &Config) -> Vec<String> {
    let mut command = Vec::new();
    if let Some(path) = config
        .path
        .as_ref()
        .filter(|p| p.as_path() != std::path::Path::new("infoflash.toml"))
    {
        command.extend(["--config".to_string(), path.display().to_string()]);
    }
    command.extend(["send".to_string(), args.edition.display().to_string()]);
    if let Some(office) = &args.office {
        command.extend(["--office".to_string(), office.to_string()]);
    }
    for f in &args.filters {
        command.extend(["--where".to_string(), f.to_string()]);
    }
    if !args.lists.is_empty() {
        command.push("--list".to_string());
        command.extend(args.lists.iter().map(|l| l.display().to_string()));
    }
    if let Some(relay) = &args.relay {
        command.extend(["--relay".to_string(), relay.clone()]);
    }
    if let Some(rate) = args.rate {
        command.extend(["--rate".to_string(), rate.to_string()]);
    }
    if let Some(n) = args.connections {
        command.extend(["--connections".to_string(), n.to_string()]);
    }
    if let Some(shard) = args.shard {
        command.extend(["--shard".to_string(), shard.to_string()]);
    }
    command
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let mut config = config.clone();
    if let Some(relay) = &args.relay {
        let destination = crate::types::Destination::parse(relay).map_err(anyhow::Error::msg)?;
        destination.check_auth_is_safe().map_err(anyhow::Error::msg)?;
        config.delivery.destination = destination;
        // --relay means this relay only.
        config.delivery.relays.clear();
    }
    if let Some(rate) = args.rate.and_then(std::num::NonZeroU32::new) {
        config.delivery.pace = crate::deliver::rate::Pace {
            per_hour: config.delivery.pace.per_hour,
            per_day: config.delivery.pace.per_day,
            ..crate::deliver::rate::Pace::new(rate)
        };
    }
    if let Some(n) = args.connections.and_then(std::num::NonZeroU32::new) {
        config.delivery.connections = n;
    }
    let (edition_path, office) = edition_and_office(&config, &args.edition, args.office.as_ref())?;
    for f in &args.filters {
        f.validate(&config.network).map_err(anyhow::Error::msg)?;
    }
    let options = Options {
        office,
        lists: args.lists.clone(),
        filters: args.filters.clone(),
        dry_run: args.dry_run,
        test: args.test.clone(),
        test_language: args.language.clone(),
        pace_outbox: args.rate.is_some(),
        shard: args.shard,
        command: resume_command(&args, &config),
        change_destination: args.change_destination,
    };
    // Ctrl-C and SIGTERM stop the intake; in-flight messages finish and are recorded.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("send: still finishing the messages in flight…");
        } else {
            eprintln!("send: stopping: finishing the messages in flight, then recording them");
        }
    });
    let summary = match run::send(config.send(), &edition_path, &options, &STOP) {
        Ok(summary) => summary,
        Err(SendError::Edition(crate::edition::EditionError::Invalid(report))) | Err(SendError::NotReady(report)) => {
            eprint!("{report}");
            eprintln!("{}: nothing was sent; fix the errors above", args.edition.display());
            return Ok(ExitCode::from(EXIT_INVALID));
        }
        Err(e) => return Err(e.into()),
    };
    print_summary(&summary, &args, &options);
    Ok(if summary.interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if !args.dry_run && (summary.failed > 0 || summary.deferred > 0) {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(s: &Summary, args: &Args, options: &Options) {
    let variants: Vec<String> = s.per_variant.iter().map(|(v, n)| format!("{v}: {n}")).collect();
    if args.dry_run {
        println!(
            "dry run: {} message(s) would be sent ({}); {} already done",
            s.per_variant.values().sum::<u64>(),
            variants.join(", "),
            s.skipped
        );
        return;
    }
    if !args.test.is_empty() {
        println!("test: {} sent, {} not sent", s.delivered, s.failed);
        return;
    }
    println!(
        "sent through {}{}: delivered {}, failed {}, deferred {}; {} already done in earlier runs",
        s.destination.as_ref().map_or_else(String::new, ToString::to_string),
        if s.paced { "" } else { " (not paced)" },
        s.delivered,
        s.failed,
        s.deferred,
        s.skipped
    );
    println!(
        "edition total: delivered {}, failed {}, deferred {}",
        s.journal.delivered, s.journal.failed, s.journal.deferred
    );
    if s.suppressed_meanwhile > 0 {
        println!(
            "not mailed: {} address(es) unsubscribed or bounced while the send ran",
            s.suppressed_meanwhile
        );
    }
    if let Some(report) = &s.report {
        print!("\n{}", report.table());
    }
    if let Some(file) = &s.report_file {
        println!("report: {}", file.display());
    }
    if let Some(file) = &s.failures_csv {
        println!("not delivered: see {}", file.display());
    }
    if let Some(index) = &s.published {
        println!(
            "published: {} (the pages and calendar files the messages link to; `infoflash serve` answers for them at base_url)",
            index.display()
        );
    }
    if s.interrupted {
        println!(
            "interrupted: run `{}` again to resume",
            run::command_line(&options.command)
        );
    } else if s.deferred > 0 || s.journal.deferred > 0 {
        println!("deferred recipients are retried by the next `infoflash send` of this edition");
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The edition file
    edition: PathBuf,
    /// A regional office's send
    #[arg(long, value_name = "ID")]
    office: Option<OfficeId>,
    /// Print one JSON object: delivered, failed, deferred, pending, and the reports of the
    /// last runs (see docs/delivery.md, "The report")
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct StatusReport {
    edition: String,
    office: Option<String>,
    delivered: u64,
    failed: u64,
    deferred: u64,
    /// Deliverable now and not yet attempted.
    pending: u64,
    /// The report of the last run (one per shard that ran), as `send` wrote it.
    reports: Vec<Report>,
}

/// The reports of `key`'s last runs; one that cannot be read is named on stderr and left out,
/// since the journal's counts do not depend on it.
fn last_reports(state: &StateDir, key: &crate::state::SendKey) -> anyhow::Result<Vec<Report>> {
    let mut reports = Vec::new();
    for (path, text) in state.reports(key)? {
        match serde_json::from_str(&text) {
            Ok(report) => reports.push(report),
            Err(e) => eprintln!("{}: not a report this release can read ({e}); left out", path.display()),
        }
    }
    Ok(reports)
}

pub fn status(args: StatusArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let (edition_path, office) = edition_and_office(config, &args.edition, args.office.as_ref())?;
    let office = office.as_ref();
    let edition_id = edition_path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| anyhow::anyhow!("{} is not an edition file name", args.edition.display()))?
        .to_string();
    let edition_id: crate::types::EditionId = edition_id
        .parse()
        .map_err(|e: String| anyhow::anyhow!("{}: {e}", args.edition.display()))?;
    let key = run::send_key(&edition_id, office);
    // Every journal, whatever shard layout wrote it; each recipient counts once.
    let state = StateDir::new(&config.delivery.state_dir);
    let journals = Journals::open_existing(&state)?;
    let tally = journals.tally(&key)?;
    let (suppression, _) = Suppression::load(&config.audience.suppression)?;
    let selection = Selection::of(&config.audience, office, &[], &[], &suppression, None);
    let mut pending = 0;
    let mut lookup_error = None;
    audience::scan(
        &config.network,
        &selection,
        |_| {},
        |r| match journals.status_of(&key, &r.email) {
            Ok(None) => pending += 1,
            Ok(Some(_)) => {}
            Err(e) => {
                lookup_error.get_or_insert(e);
            }
        },
    )?;
    if let Some(e) = lookup_error {
        return Err(e.into());
    }
    let report = StatusReport {
        edition: edition_id.to_string(),
        office: office.map(|o| o.id.to_string()),
        delivered: tally.delivered,
        failed: tally.failed,
        deferred: tally.deferred,
        pending,
        reports: last_reports(&state, &key)?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "delivered {:>8}\nfailed    {:>8}\ndeferred  {:>8}\npending   {:>8}",
            report.delivered, report.failed, report.deferred, report.pending
        );
        for last in &report.reports {
            let shard = last
                .shard
                .as_ref()
                .map_or_else(String::new, |s| format!(" (shard {s})"));
            print!("\nlast run{shard}:\n{}", last.table());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A `--test` address: a bare address, or a mailbox as a mail client copies it
/// (`Ana Tavares <ana@example.org>`, the name dropped).
fn test_address(text: &str) -> Result<EmailAddress, String> {
    EmailAddress::parse_mailbox(text).map(|(_, address)| address)
}
