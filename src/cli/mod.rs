//! The command line: argument parsing (clap) and one file per command. Each command turns its
//! arguments into library calls and prints the outcome; no pipeline logic lives here.
//!
//! Exit codes: 0 success; 1 the input has errors (`check` found some, an edition does not
//! load); 2 usage or I/O problems.

mod bounces;
mod build;
mod check;
mod days;
mod lists;
mod next;
mod send;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::types::{Language, OfficeId, Region};

/// Exit code for input with errors.
pub const EXIT_INVALID: u8 = 1;
/// Exit code for usage and I/O problems (clap uses 2 for usage too).
pub const EXIT_TROUBLE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "infoflash",
    version,
    about = "Builds and checks the bi-weekly Info Flash email digest from an edition file.",
    long_about = "Builds and checks the bi-weekly Info Flash email digest.\n\n\
        An edition is one TOML file (see docs/edition-format.md). `infoflash check` reports \
        what to fix; `infoflash build` writes each variant (language, optionally region) as \
        MJML, HTML, plain text and a preview message, with an index.html to browse them.\n\n\
        Settings come from ./infoflash.toml (or --config); without one, the embedded defaults \
        are used and the embedded templates apply.",
    after_help = "Examples:\n  infoflash check editions/2026-01-info-flash-22.toml\n  infoflash build editions/2026-01-info-flash-22.toml --language fr --region africa"
)]
pub struct Cli {
    /// Settings file [default: ./infoflash.toml if present, else the embedded defaults]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// Print more about what is happening (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render an edition: MJML, HTML, text and a preview .eml per variant, plus index.html
    Build(build::Args),
    /// Report problems in an edition (exit 1 if there are errors; warnings do not fail)
    Check(check::Args),
    /// Write the next edition's file: number + 1, date + the cadence, what is still ahead carried over as reminders
    Next(next::Args),
    /// Read recipient lists: count valid, invalid, duplicate, suppressed and deliverable rows
    Lists(lists::Args),
    /// Deliver an edition to its audience (default: to the outbox folder), resumably
    Send(send::Args),
    /// How far the send of an edition got: delivered, failed, deferred, pending
    Status(send::StatusArgs),
    /// List the international days of the coming weeks, from the calendar file
    Days(days::Args),
    /// Read bounce messages (delivery status notifications): hard bounces are suppressed, soft ones counted
    #[command(subcommand)]
    Bounces(bounces::Command),
    /// Serve the web archive, one-click unsubscribe and the editors' preview over HTTP
    Serve(serve::Args),
}

/// Parses the command line, runs the command and turns the outcome into an exit code; an error
/// is printed once, with its chain of causes.
pub fn main() -> ExitCode {
    ignore_file_size_signal();
    let cli = Cli::parse();
    // A service's log is its record of what it did (each unsubscribe): info by default.
    let verbose = if matches!(cli.command, Command::Serve(_)) {
        cli.verbose.max(1)
    } else {
        cli.verbose
    };
    init_logging(verbose);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_TROUBLE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Relative to the current folder, so that messages show short paths.
    let config = Config::discover(cli.config.as_deref(), std::path::Path::new(""))?;
    match &config.path {
        Some(path) => tracing::debug!("settings from {}", path.display()),
        None => tracing::debug!("no infoflash.toml here: using the embedded defaults"),
    }
    match cli.command {
        Command::Build(args) => build::run(args, &config),
        Command::Check(args) => check::run(args, &config),
        Command::Lists(args) => lists::run(args, &config),
        Command::Next(args) => next::run(args, &config),
        Command::Send(args) => send::run(args, &config),
        Command::Status(args) => send::status(args, &config),
        Command::Days(args) => days::run(args, &config),
        Command::Bounces(cmd) => bounces::run(cmd, &config),
        Command::Serve(args) => serve::run(args, &config),
    }
}

/// A write past a file-size limit (`ulimit -f`) kills the process with SIGXFSZ by default,
/// before anything can be recorded or reported. Ignored, the write fails with EFBIG instead,
/// which the journal and the outbox handle like a full disk: a clear error, exit 2, nothing
/// recorded that was not written.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN at start-up, before any thread exists,
    // has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("INFOFLASH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("infoflash={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

/// Checks that a `--language` is configured; a usage error otherwise.
fn configured_language(config: &Config, language: &Language) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.network.knows_language(language),
        "language `{language}` is not configured; use one of {}",
        config.network.language_list()
    );
    Ok(())
}

fn configured_region(config: &Config, region: &Region) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.network.knows_region(region),
        "unknown region `{region}`; the regions are {}",
        config.network.region_list()
    );
    Ok(())
}

fn configured_office<'c>(config: &'c Config, id: &OfficeId) -> anyhow::Result<&'c crate::types::Office> {
    config.network.offices.get(id).ok_or_else(|| {
        let known: Vec<String> = config.network.offices.keys().map(|o| format!("`{o}`")).collect();
        if known.is_empty() {
            anyhow::anyhow!("unknown office `{id}`: no offices are defined; add [offices.{id}] to infoflash.toml")
        } else {
            anyhow::anyhow!("unknown office `{id}`; the offices are {}", known.join(", "))
        }
    })
}

/// The edition file and office a command works on. An office's overlay file given as the
/// edition (`editions/2026-01-info-flash-22.santiago.toml`) means that office's edition of
/// `editions/2026-01-info-flash-22.toml`, as `--office santiago` would.
fn edition_and_office(
    config: &Config,
    path: &std::path::Path,
    office: Option<&OfficeId>,
) -> anyhow::Result<(PathBuf, Option<crate::types::Office>)> {
    let (edition, from_file) = match crate::edition::split_overlay_path(path) {
        Some((edition, id)) => {
            let id: OfficeId = id
                .parse()
                .map_err(|e: String| anyhow::anyhow!("{}: not an edition file name ({e})", path.display()))?;
            (edition, Some(id))
        }
        None => (path.to_path_buf(), None),
    };
    let id = match (from_file, office) {
        (Some(a), Some(b)) if a != *b => anyhow::bail!(
            "{} is office `{a}`'s overlay, but --office says `{b}`: give the edition file, or leave out --office",
            path.display()
        ),
        (a, b) => a.or_else(|| b.cloned()),
    };
    let office = id.map(|id| configured_office(config, &id).cloned()).transpose()?;
    Ok((edition, office))
}
