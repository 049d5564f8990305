//! `infoflash bounces import PATH [--dry-run] [--json]`: reads bounce messages and prints what
//! changed per address. Reading, classifying and recording belong to
//! [`crate::audience::bounces`]; this file only turns arguments into that call and the report
//! into text or JSON.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::audience::bounces::{self, ImportReport};
use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Read bounces from a Maildir, an mbox file or .eml files and apply them
    ///
    /// Reads delivery status notifications (RFC 3464): a hard bounce (5.x.x) puts the address
    /// on the suppression list; a soft one (4.x.x, or delayed) is counted once per edition, and
    /// the address is suppressed once it has soft-bounced in `soft_bounce_editions` editions
    /// ([bounces] in infoflash.toml, default 3). Safe to repeat on the same messages: nothing
    /// counts twice. Messages that are not bounces are listed and skipped.
    #[command(after_help = "Examples:\n  infoflash bounces import ~/Maildir/.Bounces\n  \
        infoflash bounces import bounces.mbox --dry-run\n  infoflash bounces import saved/ --json")]
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A Maildir folder (with cur/ and new/), an mbox file, a .eml file or a folder of .eml files
    path: PathBuf,
    /// Show what would change without writing the suppression list or the state database
    #[arg(long)]
    dry_run: bool,
    /// Also apply bounces that match no message this project sent (no Message-ID of ours for
    /// that recipient, no journal row for them); by default they are listed and change nothing
    #[arg(long)]
    accept_unmatched: bool,
    /// Print one JSON object: messages, bounces, hard, soft, soft_suppressed (per address),
    /// unmatched, not_bounces and problems (each with `at`, the file or `mbox:line`)
    #[arg(long)]
    json: bool,
}

/// Exit 0 whenever the import ran, even with messages skipped (they are listed); an unreadable
/// PATH, state database or suppression list is an error (exit 2).
pub fn run(command: Command, config: &Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import(args) => {
            let today = chrono::Local::now().date_naive();
            let options = bounces::ImportOptions {
                dry_run: args.dry_run,
                accept_unmatched: args.accept_unmatched,
                today,
            };
            let report = bounces::import(&config.bounces, &args.path, options)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", text(&report, config));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The start of a server's words, enough to recognise them; `--json` has them whole.
fn brief(diagnostic: &str) -> String {
    bounces::shorten(diagnostic, 80)
}

/// The report for a person: a summary line, then one line per address under what happened.
fn text(report: &ImportReport, config: &Config) -> String {
    let mut out = String::new();
    let suppressed = |added: bool| match (added, report.dry_run) {
        (true, false) => "suppressed",
        (true, true) => "would be suppressed",
        (false, _) => "already suppressed",
    };
    let _ = writeln!(
        out,
        "{} read from {}: {}, {}.",
        plural(report.messages, "message", "messages"),
        report.path.display(),
        plural(report.bounces, "bounce", "bounces"),
        plural(report.not_bounces.len(), "not a bounce", "not bounces"),
    );
    let width = report
        .hard
        .iter()
        .map(|h| h.address.as_str().len())
        .chain(report.soft.iter().map(|s| s.address.as_str().len()))
        .chain(report.soft_suppressed.iter().map(|s| s.address.as_str().len()))
        .max()
        .unwrap_or(0);
    if !report.hard.is_empty() {
        let _ = writeln!(out, "\nHard bounces → {}:", config.bounces.suppression.display());
        for h in &report.hard {
            let _ = writeln!(
                out,
                "  {:<width$}  {:<6} {:<19}  {}  {}",
                h.address.as_str(),
                h.status,
                suppressed(h.added),
                h.at,
                brief(&h.diagnostic)
            );
        }
    }
    if !report.soft.is_empty() {
        let _ = writeln!(
            out,
            "\nSoft bounces, counted once per edition (suppressed at {} editions):",
            report.soft_bounce_editions
        );
        for s in &report.soft {
            let _ = writeln!(
                out,
                "  {:<width$}  {:<6} {:<15}  {}, {}  {}  {}",
                s.address.as_str(),
                s.status,
                if s.new { "counted" } else { "already counted" },
                s.edition,
                plural(s.editions as usize, "edition so far", "editions so far"),
                s.at,
                brief(&s.diagnostic)
            );
        }
    }
    if !report.soft_suppressed.is_empty() {
        let _ = writeln!(
            out,
            "\nSoft bounces in {} editions or more → {}:",
            report.soft_bounce_editions,
            config.bounces.suppression.display()
        );
        for s in &report.soft_suppressed {
            let _ = writeln!(
                out,
                "  {:<width$}  {:<19}  {}",
                s.address.as_str(),
                suppressed(s.added),
                plural(s.editions as usize, "edition", "editions")
            );
        }
    }
    if !report.unmatched.is_empty() {
        let applied = report.unmatched.iter().any(|u| u.applied);
        let _ = writeln!(
            out,
            "\nBounces about no message this project sent ({}):",
            if applied {
                "applied anyway, --accept-unmatched"
            } else {
                "not applied; --accept-unmatched applies them"
            }
        );
        for u in &report.unmatched {
            let kind = match u.kind {
                bounces::Kind::Hard => "hard",
                bounces::Kind::Soft => "soft",
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {kind} {:<6}  {}",
                u.address.as_str(),
                u.status,
                u.at
            );
        }
    }
    if !report.not_bounces.is_empty() {
        let _ = writeln!(out, "\nNot bounces, skipped:");
        for s in &report.not_bounces {
            let _ = writeln!(out, "  {}: {}", s.place(), s.message);
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(out, "\nProblems, skipped:");
        for s in &report.problems {
            let _ = writeln!(out, "  {}: {}", s.place(), s.message);
        }
    }
    let suppressed = plural(report.newly_suppressed(), "address", "addresses");
    let counted = plural(
        report.soft.iter().filter(|s| s.new).count(),
        "soft bounce",
        "soft bounces",
    );
    let _ = if report.dry_run {
        writeln!(
            out,
            "\nDry run, nothing was written: {suppressed} would be suppressed, {counted} would be counted."
        )
    } else {
        writeln!(out, "\n{suppressed} newly suppressed, {counted} newly counted.")
    };
    out
}
