//! `infoflash days [--from DATE] [--weeks N] [--language L] [--json]`: the international days
//! an edition dated DATE would announce, from the calendar file (or the embedded copy).

use std::process::ExitCode;

use chrono::NaiveDate;
use serde::Serialize;

use super::configured_language;
use crate::calendar::days;
use crate::config::Config;
use crate::types::Language;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// First day of the window, YYYY-MM-DD [default: today]
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// Length of the window in weeks [default: `days_weeks` in [calendar], 6]
    #[arg(long, value_name = "N")]
    weeks: Option<u32>,
    /// Names and dates in this language (falls back to English where the calendar has no name)
    #[arg(long, value_name = "L")]
    language: Option<Language>,
    /// Print a JSON array of {date, name, link, rule}
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct JsonDay<'a> {
    date: NaiveDate,
    name: &'a str,
    link: &'a str,
    rule: String,
}

pub fn run(args: Args, config: &Config) -> anyhow::Result<ExitCode> {
    let language = args
        .language
        .unwrap_or_else(|| config.network.fallback_language.clone());
    configured_language(config, &language)?;
    let from = args.from.unwrap_or_else(|| chrono::Local::now().date_naive());
    let weeks = args.weeks.unwrap_or(config.edition.calendar.days_weeks);
    let until = from + chrono::Duration::days(7 * i64::from(weeks));
    let found = days::between(&config.edition.calendar.days, from, until);
    let name = |day: &'_ days::InternationalDay| -> String {
        let names = &day.names;
        names
            .get(language.as_str())
            .or_else(|| names.get("en"))
            .cloned()
            .unwrap_or_default()
    };
    if args.json {
        let list: Vec<(NaiveDate, String, &days::InternationalDay)> =
            found.iter().map(|(date, day)| (*date, name(day), *day)).collect();
        let json: Vec<JsonDay<'_>> = list
            .iter()
            .map(|(date, name, day)| JsonDay {
                date: *date,
                name,
                link: &day.link,
                rule: day.rule.to_string(),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    let templates = config.render.templates()?;
    let labels = templates.labels(&language)?;
    for (date, day) in &found {
        println!("{}  {}  <{}>", labels.date(*date), name(day), day.link);
    }
    eprintln!("{} day(s) from {from} to {until}", found.len());
    Ok(ExitCode::SUCCESS)
}
