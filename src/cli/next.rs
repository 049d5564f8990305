//! `infoflash next EDITION [--out PATH]`: loads and validates the edition, then writes the next
//! edition's file from it (the rules are `edition::next`'s, the labels the renderer's tables).
//! It never overwrites a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_INVALID;
use crate::config::Config;
use crate::diagnostics::{Diagnostic, Severity};
use crate::edition::next::{next_edition, Next};
use crate::edition::{self, EditionError};
use crate::types::Language;

#[derive(Debug, clap::Args)]
// The variant's doc comment in `cli/mod.rs` is the short help and replaces any `long_about`
// set here, so the details go after the options, in `--help` only.
#[command(
    after_help = "Example:\n  infoflash next editions/2026-01-info-flash-22.toml\n  infoflash check editions/2026-01-info-flash-23.toml",
    after_long_help = "Writes the next edition's file from EDITION, as `infoflash check` loads it (a file \
        with errors has no next edition): `number` + 1, `date` + the cadence (`cadence_days` under \
        [calendar] in infoflash.toml, 14 by default). In the subject and intro, in every language, the \
        old number becomes the new one (\"N°22\" → \"N°23\", \"N.º 22\" → \"N.º 23\"); the rest of \
        [edition] is kept as written: rewrite the intro.\n\n\
        An item is carried over when something is still ahead on the new date: a deadline, a session \
        or (for an event) its last day, or a row of an event list, so an invitation whose sessions are after the new date is \
        kept even without a deadline. It is relabelled as a reminder (\"REMINDER + CALL FOR \
        PARTICIPATION\", \"RAPPEL + …\", \"RECORDATORIO + …\", from the same label tables as the \
        emails), without its past deadlines and sessions. Other items are dropped, with why. Past \
        listed international days go too, and so do `hide` entries that would hide nothing in the \
        new edition's weeks.\n\n\
        Places that still name the old number (a comment, a carried title: \"as announced in \
        N°22\") are kept and warned about at their line. `check` on the new file then warns about \
        a subject or title naming another number and about past dates left in a reminder's prose.\n\n\
        The new file is named like EDITION with the new year-month and number \
        (2026-01-info-flash-22.toml → 2026-01-info-flash-23.toml). An existing file is never \
        overwritten.\n\n\
        Given an office's overlay (2026-01-info-flash-22.santiago.toml), it writes the overlay of \
        the next edition (2026-01-info-flash-23.santiago.toml) by the same rules.\n\n\
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
    // An office's overlay (`….santiago.toml`) is planned as the edition of its own that
    // `check` reads it as, against the edition it adds to.
    let (base_path, office) = super::edition_and_office(config, &args.edition, None)?;
    let loaded = match &office {
        // The overlay text read above is the one planned and edited.
        Some(office) => edition::load(&base_path, &config.edition)
            .and_then(|(base, _)| edition::parse_overlay(&text, &args.edition, &config.edition, office, &base)),
        // The plan is made on the validated edition: a file `check` refuses has no next one.
        None => edition::parse(&text, &args.edition, &config.edition),
    };
    let edition = match loaded {
        Ok((edition, _)) => edition,
        Err(EditionError::Invalid(report)) => {
            eprint!("{report}");
            eprintln!(
                "error: {} has {} error(s): fix them (`infoflash check` explains) and run again",
                args.edition.display(),
                report.count(Severity::Error)
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
        Err(e) => return Err(e.into()),
    };
    // The renderer's own label tables (the project's, else the embedded ones).
    let templates = config.render.templates().context("cannot load the label tables")?;
    let labels = |language: &Language, key: &str| templates.labels(language).ok().map(|l| l.get(key).to_string());
    let cadence = config.edition.calendar.cadence_days;
    let next = match next_edition(&edition, &text, &config.edition, cadence, &labels) {
        Ok(next) => next,
        Err(report) => {
            eprint!("{report}");
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
    print_summary(&next, &path, cadence);
    if let Some(edition) = office
        .as_ref()
        .and_then(|_| edition::split_overlay_path(&path))
        .map(|(e, _)| e)
    {
        if !edition.exists() {
            println!(
                "The overlay adds to {}, which does not exist yet: the international team writes it with `infoflash next {}`.",
                edition.display(),
                base_path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
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
        if c.past_events > 0 {
            past.push(format!("{} past event row(s)", c.past_events));
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
    if !next.stale_hides.is_empty() {
        println!(
            "`hide` entries dropped (they would hide nothing now): {}",
            next.stale_hides.join(", ")
        );
    }
    if next.renumbered > 0 {
        println!(
            "N°{} → N°{} in the subject and intro: {} place(s).",
            next.number - 1,
            next.number,
            next.renumbered
        );
    }
    if !next.warnings.is_empty() {
        println!("To look at:");
        for d in next.warnings.iter() {
            // Written elsewhere with --out: the lines are the same, the file is that one.
            let file = if d.file == next.path { path } else { &d.file };
            println!(
                "{}",
                Diagnostic {
                    file: file.to_path_buf(),
                    ..d.clone()
                }
            );
        }
    }
    println!(
        "Next: rewrite the intro, add this edition's items, then run `infoflash check {}`.",
        path.display()
    );
}
