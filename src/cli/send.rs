//! `infoflash send EDITION [--office ID] [--where …] [--list CSV…] [--dry-run] [--test ADDR…]`
//! and `infoflash status EDITION [--office ID] [--json]`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::{configured_office, EXIT_INVALID};
use crate::audience::shard::Shard;
use crate::audience::{self, Filter, Selection, Suppression};
use crate::config::Config;
use crate::deliver::journal;
use crate::deliver::run::{self, Options, SendError, Summary};
use crate::types::{EmailAddress, OfficeId};

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
    /// Send each variant to these addresses only, "[TEST]" in the subject; the journal is not touched
    #[arg(long, value_name = "ADDR", num_args = 1..)]
    test: Vec<EmailAddress>,
    /// Relay URL (smtp://host:port, smtps://host, or outbox), instead of [delivery] relay
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
    /// Messages per second over all connections, instead of [delivery] rate
    #[arg(long, value_name = "N")]
    rate: Option<std::num::NonZeroU32>,
    /// SMTP connections in parallel, instead of [delivery] connections
    #[arg(long, value_name = "N")]
    connections: Option<std::num::NonZeroU32>,
    /// Send only shard K of N of the audience (by a stable hash of the address), with its own
    /// journal: N machines can send one edition in parallel without overlap
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let mut config = config.clone();
    if let Some(relay) = &args.relay {
        let destination = crate::deliver::relay::Destination::parse(relay).map_err(anyhow::Error::msg)?;
        destination.check_auth_is_safe().map_err(anyhow::Error::msg)?;
        config.delivery.destination = destination;
        // --relay means this relay only.
        config.delivery.relays.clear();
    }
    if let Some(rate) = args.rate {
        config.delivery.pace = crate::deliver::rate::Pace {
            per_hour: config.delivery.pace.per_hour,
            per_day: config.delivery.pace.per_day,
            ..crate::deliver::rate::Pace::new(rate)
        };
    }
    if let Some(n) = args.connections {
        config.delivery.connections = n;
    }
    let office = args
        .office
        .as_ref()
        .map(|id| configured_office(&config, id))
        .transpose()?
        .cloned();
    for f in &args.filters {
        f.validate(&config).map_err(anyhow::Error::msg)?;
    }
    let options = Options {
        office,
        lists: args.lists.clone(),
        filters: args.filters.clone(),
        dry_run: args.dry_run,
        test: args.test.clone(),
        shard: args.shard,
    };
    // Ctrl-C and SIGTERM stop the intake; in-flight messages finish and are recorded.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            eprintln!("send: still finishing the messages in flight…");
        } else {
            eprintln!("send: stopping: finishing the messages in flight, then recording them");
        }
    });
    let summary = match run::send(&config, &args.edition, &options, &STOP) {
        Ok(summary) => summary,
        Err(SendError::Edition(crate::edition::EditionError::Invalid(report))) | Err(SendError::NotReady(report)) => {
            eprint!("{report}");
            eprintln!("{}: nothing was sent; fix the errors above", args.edition.display());
            return Ok(ExitCode::from(EXIT_INVALID));
        }
        Err(e) => return Err(e.into()),
    };
    print_summary(&summary, &args, &config);
    Ok(if summary.interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if !args.dry_run && (summary.failed > 0 || summary.deferred > 0) {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(s: &Summary, args: &Args, config: &Config) {
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
        "sent through {}: delivered {}, failed {}, deferred {}; {} already done in earlier runs",
        describe(config),
        s.delivered,
        s.failed,
        s.deferred,
        s.skipped
    );
    println!(
        "edition total: delivered {}, failed {}, deferred {}",
        s.journal.delivered, s.journal.failed, s.journal.deferred
    );
    if let Some(file) = &s.failures_csv {
        println!("not delivered: see {}", file.display());
    }
    if s.interrupted {
        let office = args
            .office
            .as_ref()
            .map(|o| format!(" --office {o}"))
            .unwrap_or_default();
        println!(
            "interrupted: run `infoflash send {}{office}` again to resume",
            args.edition.display()
        );
    } else if s.deferred > 0 || s.journal.deferred > 0 {
        println!("deferred recipients are retried by the next `infoflash send` of this edition");
    }
}

fn describe(config: &Config) -> String {
    match &config.delivery.destination {
        crate::deliver::relay::Destination::Outbox => format!("the outbox {}", config.delivery.outbox.display()),
        crate::deliver::relay::Destination::Smtp(r) => r.to_string(),
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The edition file
    edition: PathBuf,
    /// A regional office's send
    #[arg(long, value_name = "ID")]
    office: Option<OfficeId>,
    /// Print one JSON object: delivered, failed, deferred, pending
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
}

pub fn status(args: StatusArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let office = args
        .office
        .as_ref()
        .map(|id| configured_office(config, id))
        .transpose()?;
    let edition_id = args
        .edition
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| anyhow::anyhow!("{} is not an edition file name", args.edition.display()))?
        .to_string();
    let key = run::journal_key(&edition_id, office);
    // A sharded send leaves one journal per shard: the report is their sum.
    let mut connections = Vec::new();
    for path in run::all_journals(config) {
        connections.push(journal::open_read_only(&path)?);
    }
    let mut tally = journal::Tally::default();
    for c in &connections {
        let t = journal::tally(c, &key)?;
        tally.delivered += t.delivered;
        tally.failed += t.failed;
        tally.deferred += t.deferred;
    }
    let (suppression, _) = Suppression::load(&config.suppression)?;
    let lists = office.map_or_else(|| config.lists.clone(), |o| o.lists.clone());
    let filters = office.map(|o| o.filters.clone()).unwrap_or_default();
    let selection = Selection {
        lists,
        filters,
        suppression: &suppression,
        shard: None,
    };
    let mut lookups = connections
        .iter()
        .map(|c| journal::Lookup::new(c, &key))
        .collect::<Result<Vec<_>, _>>()?;
    let mut pending = 0;
    audience::scan(
        config,
        &selection,
        |_| {},
        |r| {
            let known = lookups
                .iter_mut()
                .any(|l| l.status(r.email.as_str()).ok().flatten().is_some());
            if !known {
                pending += 1;
            }
        },
    )?;
    let report = StatusReport {
        edition: edition_id,
        office: office.map(|o| o.id.to_string()),
        delivered: tally.delivered,
        failed: tally.failed,
        deferred: tally.deferred,
        pending,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "delivered {:>8}\nfailed    {:>8}\ndeferred  {:>8}\npending   {:>8}",
            report.delivered, report.failed, report.deferred, report.pending
        );
    }
    Ok(ExitCode::SUCCESS)
}
