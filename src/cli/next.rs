//! `infoflash next EDITION [--out PATH]`: writes the next edition's file from this one (the
//! rules are `edition::next`'s). It never overwrites a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_INVALID;
use crate::config::Config;
use crate::edition::next::{next_edition, DefaultLabels, Next};

#[derive(Debug, clap::Args)]
// The variant's doc comment in `cli/mod.rs` is the short help and replaces any `long_about`
// set here, so the details go after the options, in `--help` only.
#[command(
    after_help = "Example:\n  infoflash next editions/2026-01-info-flash-22.toml\n  infoflash check editions/2026-01-info-flash-23.toml",
    after_long_help = "Writes the next edition's file from EDITION: `number` + 1, `date` + the cadence \
        (`cadence_days` under [calendar] in infoflash.toml, 14 by default), and the rest of \
        [edition] as it was: rewrite the intro and subject.\n\n\
        Items with a deadline still open on the new date are carried over and relabelled as \
        reminders (\"REMINDER + CALL FOR PARTICIPATION\", \"RAPPEL + …\", \"RECORDATORIO + …\"), \
        without their past deadlines and sessions. Items with no open deadline are dropped, and so \
        is an invitation whose sessions are all over; past international days go too.\n\n\
        The new file is named like EDITION with the new year-month and number \
        (2026-01-info-flash-22.toml → 2026-01-info-flash-23.toml). An existing file is never \
        overwritten.\n\n\
        Example:\n  infoflash next editions/2026-01-info-flash-22.toml\n  infoflash check editions/2026-01-info-flash-23.toml"
)]
pub struct Args {
    /// The current edition file, e.g. editions/2026-01-info-flash-22.toml
    edition: PathBuf,
    /// Where to write: a file, or a folder to write the new file into [default: beside EDITION]
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.edition)
        .with_context(|| format!("cannot read the edition file {}", args.edition.display()))?;
    let labels = default_labels(config)?;
    let next = match next_edition(&text, &args.edition, config.edition.calendar.cadence_days, &labels) {
        Ok(next) => next,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    let path = match &args.out {
        Some(out) if out.is_dir() => out.join(next.path.file_name().unwrap_or_default()),
        Some(out) => out.clone(),
        None => next.path.clone(),
    };
    // `create_new` fails if the file exists, even if it appears between a check and the write.
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
    let mut file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {} already exists; `infoflash next` never overwrites a file: move it away, or choose another name with --out",
                path.display()
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    file.write_all(next.text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    print_summary(&next, &path, config.edition.calendar.cadence_days);
    Ok(ExitCode::SUCCESS)
}

/// The kind labels of every configured language, from the project's label tables or the
/// embedded ones, exactly as the emails will show them.
fn default_labels(config: &Config) -> anyhow::Result<DefaultLabels> {
    let templates = config.render.templates().context("cannot load the label tables")?;
    let mut labels = DefaultLabels::new();
    for language in &config.network.languages {
        labels.insert(language.as_str(), templates.labels(language)?.all().clone());
    }
    Ok(labels)
}

fn print_summary(next: &Next, path: &Path, cadence_days: u32) {
    println!(
        "Wrote {}: N°{}, {} ({cadence_days} days later).",
        path.display(),
        next.number,
        next.date.format("%A %-d %B %Y")
    );
    println!("Carried over as reminders: {}", next.carried.len());
    for c in &next.carried {
        let mut past = Vec::new();
        if c.past_deadlines > 0 {
            past.push(format!("{} past deadline(s)", c.past_deadlines));
        }
        if c.past_sessions > 0 {
            past.push(format!("{} past session(s)", c.past_sessions));
        }
        let past = if past.is_empty() {
            String::new()
        } else {
            format!(" (dropped {})", past.join(" and "))
        };
        println!("  {}: \"{}\"{past}", c.id, c.label);
    }
    println!("Dropped: {}", next.dropped.len());
    for d in &next.dropped {
        println!("  {}: {}", d.id, d.reason);
    }
    if next.past_days > 0 {
        println!("Past international days dropped: {}", next.past_days);
    }
    println!(
        "Next: rewrite the intro and subject, add this edition's items, then run `infoflash check {}`.",
        path.display()
    );
}
