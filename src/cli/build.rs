//! `infoflash build EDITION [--out DIR] [--language L]... [--region R | --office ID]`

use std::path::PathBuf;
use std::process::ExitCode;

use super::{configured_language, configured_region, edition_and_office, EXIT_INVALID};
use crate::config::Config;
use crate::diagnostics::Severity;
use crate::edition::{self, EditionError};

use crate::render::{self, Scope};
use crate::types::{Language, OfficeId, Region};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The edition file, e.g. editions/2026-01-info-flash-22.toml
    edition: PathBuf,
    /// Output folder [default: `out_dir` from the settings, `out/`]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Build only these languages (repeat or separate with commas) [default: the edition's `languages`]
    #[arg(long, value_name = "L", value_delimiter = ',', value_parser = parse_language)]
    language: Vec<Language>,
    /// Build the regional variant: only the items that concern this region
    #[arg(long, value_name = "R", value_parser = parse_region)]
    region: Option<Region>,
    /// Build a regional office's variants: the items of its regions and its own overlay items
    /// (editions/<edition>.<office>.toml; see [offices] in infoflash.toml)
    #[arg(long, value_name = "ID", conflicts_with = "region")]
    office: Option<OfficeId>,
}

fn parse_language(s: &str) -> Result<Language, String> {
    s.parse()
}

fn parse_region(s: &str) -> Result<Region, String> {
    s.parse()
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    for language in &args.language {
        configured_language(config, language)?;
    }
    let (path, office) = edition_and_office(config, &args.edition, args.office.as_ref())?;
    let scope = match (&args.region, &office) {
        (Some(_), Some(office)) => anyhow::bail!(
            "--region and office `{}` do not go together: an office's edition has its own regions",
            office.id
        ),
        (Some(region), None) => {
            configured_region(config, region)?;
            Scope::Regions(vec![region.clone()])
        }
        (None, Some(office)) => Scope::Office {
            id: office.id.clone(),
            regions: office.regions.clone(),
        },
        (None, None) => Scope::All,
    };
    // Compiling the templates and loading the edition are independent; do both at once.
    let (loaded, templates) = std::thread::scope(|scope| {
        let templates = scope.spawn(|| config.render.templates());
        let loaded = edition::load_for_office(&path, &config.edition, office.as_ref());
        (
            loaded,
            templates
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    let (edition, warnings) = match loaded {
        Ok(loaded) => loaded,
        Err(EditionError::Invalid(report)) => {
            eprint!("{report}");
            eprintln!(
                "{}: not built; fix the errors above (`infoflash check` lists them too)",
                path.display()
            );
            return Ok(ExitCode::from(EXIT_INVALID));
        }
        Err(e) => return Err(e.into()),
    };
    eprint!("{warnings}");
    // French labels around English text is not a French edition: only the edition's languages.
    if let Some(language) = args.language.iter().find(|l| !edition.languages.contains(l)) {
        anyhow::bail!(
            "{}: the edition is not written in `{language}` (its `languages` are {}); add `{language}` to `languages` with its translations, or build one of those",
            path.display(),
            edition.languages.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let templates = templates?;
    let variants = render::variants(&edition, &args.language, &scope);
    let rendered = render::render_all(&edition, &variants, &config.render, &templates)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let out = args.out.clone().unwrap_or_else(|| config.render.out_dir.clone());
    let written = crate::site::write_build(&out, &edition, &rendered, &config.render, &templates)?;
    let archive = crate::site::archive::write_archive(&out, &edition, &rendered, &config.render, &templates)?;
    // What `check` would say about the rendered result, so nobody is surprised at send time.
    let findings = crate::check::findings(&edition, &rendered).sorted();
    eprint!("{findings}");
    for w in &written {
        println!("{}: {}", w.variant, w.dir.display());
    }
    println!(
        "built {} variant(s); open {} (the web archive: {})",
        written.len(),
        out.join("index.html").display(),
        archive.display()
    );
    if findings.count(Severity::Error) > 0 {
        eprintln!("note: the edition has errors to fix before it is sent (see above)");
    }
    Ok(ExitCode::SUCCESS)
}
