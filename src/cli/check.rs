//! `infoflash check EDITION [--json]`

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::{EXIT_INVALID, EXIT_TROUBLE};
use crate::config::Config;
use crate::diagnostics::{Report, Severity};
use crate::edition::EditionError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The edition file, e.g. editions/2026-01-info-flash-22.toml
    edition: PathBuf,
    /// Print one JSON object: {"edition", "errors", "warnings", "diagnostics": [...]}
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    edition: &'a std::path::Path,
    errors: usize,
    warnings: usize,
    diagnostics: &'a Report,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let report = match crate::check::check(&args.edition, &config.edition, &config.render) {
        Ok(report) => report,
        Err(e @ EditionError::Read { .. }) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_TROUBLE));
        }
        Err(EditionError::Invalid(report)) => report,
    };
    let (errors, warnings) = (report.count(Severity::Error), report.count(Severity::Warning));
    if args.json {
        let json = JsonReport {
            edition: &args.edition,
            errors,
            warnings,
            diagnostics: &report,
        };
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{report}");
        println!("{}: {errors} error(s), {warnings} warning(s)", args.edition.display());
    }
    Ok(if errors > 0 {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}
