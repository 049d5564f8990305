//! `infoflash check EDITION [--json] [--office ID | --region R]`

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::{configured_region, edition_and_office, EXIT_INVALID, EXIT_TROUBLE};
use crate::config::Config;
use crate::diagnostics::{Report, Severity};
use crate::edition::EditionError;
use crate::types::{OfficeId, Region};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The edition file, e.g. editions/2026-01-info-flash-22.toml
    edition: PathBuf,
    /// Print one JSON object: {"edition", "errors", "warnings", "diagnostics": [...]}
    #[arg(long)]
    json: bool,
    /// Check a regional office's edition: its variants, with its overlay file
    /// (editions/<edition>.<office>.toml) if it has one
    #[arg(long, value_name = "ID")]
    office: Option<OfficeId>,
    /// Check the variants one region reads
    #[arg(long, value_name = "R", conflicts_with = "office")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    edition: &'a std::path::Path,
    errors: usize,
    warnings: usize,
    diagnostics: &'a Report,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let (path, office) = edition_and_office(config, &args.edition, args.office.as_ref())?;
    if let Some(region) = &args.region {
        anyhow::ensure!(
            office.is_none(),
            "--region and an office's edition do not go together: an office's edition has its own regions"
        );
        configured_region(config, region)?;
    }
    let checked = crate::check::check_variants(
        &path,
        &config.edition,
        &config.render,
        office.as_ref(),
        args.region.as_ref(),
    );
    let report = match checked {
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
