//! The send: recipients stream from the lists (through [`crate::audience`]), each is looked up
//! in the journal, and those not yet delivered or refused go to a pool of workers — one
//! connection each — that compose, pace, send, retry and record. Interruption (Ctrl-C,
//! SIGTERM) stops the intake; messages in flight finish and are recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use serde::Serialize;

pub use super::plan::{command_line, destination, send_key, variant_of};
use super::plan::{load_plan, Kind, Plan};
use super::report::{self, Fate};
use super::secrets::SecretError;
use super::settings::SendSettings;
use super::transport::Failure;
use super::worker::Crew;
use crate::audience::suppression::LiveSuppression;
use crate::audience::{self, AudienceError, Filter, Recipient, Selection, Suppression};
use crate::diagnostics::Report;
use crate::edition::EditionError;
use crate::render::RenderError;
use crate::state::{self, Journal, Journals, RunRecord, RunState, SendKey, StateDir, StateError};
use crate::types::Office;
use crate::types::Shard;
use crate::types::{EmailAddress, Language};

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Edition(#[from] EditionError),
    #[error("the edition has errors; nothing was sent. Fix them (`infoflash check` lists them):\n{0}")]
    NotReady(Report),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Audience(#[from] AudienceError),
    #[error("the suppression list has rows that cannot be read; nothing was sent, since an unreadable entry is an address we might mail:\n{0}")]
    Suppression(String),
    #[error(transparent)]
    State(#[from] StateError),
    /// The outbox folder (or another local resource) cannot be written: exit 2.
    #[error("{reply}; the send stopped, and nothing is recorded as delivered that was not written whole: fix it and run `{resume}` to go on")]
    Local { reply: String, resume: String },
    #[error(transparent)]
    OtherDestination(Box<OtherDestination>),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cannot create the outbox {path}")]
    Outbox {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the unsubscribe key cannot be loaded: {0}")]
    UnsubscribeKey(String),
    #[error("the DKIM key cannot be used: {0}")]
    Dkim(String),
    /// The archive pages the messages link to cannot be written: nothing is sent.
    #[error("nothing was sent: the web archive the messages link to cannot be written ({0})")]
    Publish(#[from] crate::site::SiteError),
    #[error("--language {language}: the edition has no such variant (its languages: {has})")]
    NoSuchLanguage { language: Language, has: String },
}

/// A send refused because its earlier runs went to the other kind of destination.
#[derive(Debug, thiserror::Error)]
#[error(
    "{key} was sent to {before} by the run of {started_at}, and this run would send to {now}: \
     the recipients it recorded as delivered would not be mailed again, and the rest would go \
     elsewhere. To go on where it went, run `{resume}`; to send to {now} anyway, add --change-destination"
)]
pub struct OtherDestination {
    pub key: String,
    pub before: state::Destination,
    pub now: state::Destination,
    pub started_at: String,
    pub resume: String,
}

/// What to send, and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub office: Option<Office>,
    /// Replaces the settings' (or the office's) lists.
    pub lists: Vec<PathBuf>,
    pub filters: Vec<Filter>,
    pub dry_run: bool,
    /// Send every variant to these addresses only, `[TEST]` in the subject, a proof's
    /// unsubscribe token, no journal.
    pub test: Vec<EmailAddress>,
    /// With `test`: only this language's variant.
    pub test_language: Option<Language>,
    /// Pace the outbox too (`--rate` was given); a relay is always paced.
    pub pace_outbox: bool,
    /// Only this shard of the audience, with its own journal.
    pub shard: Option<Shard>,
    /// The arguments (after `infoflash`) that run this send again: recorded with the run and
    /// shown as the command that resumes it.
    pub command: Vec<String>,
    /// Go on with a send whose earlier runs went to another kind of destination (outbox or
    /// SMTP).
    pub change_destination: bool,
}

/// What a send did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// In this run.
    pub delivered: u64,
    pub failed: u64,
    pub deferred: u64,
    /// Already delivered or refused in an earlier run.
    pub skipped: u64,
    /// Unsubscribed or bounced while this send ran, before their turn came: not mailed.
    pub suppressed_meanwhile: u64,
    pub interrupted: bool,
    /// Messages per variant (dry run and real sends).
    pub per_variant: BTreeMap<String, u64>,
    /// Over all runs of this edition and office.
    pub journal: state::Tally,
    /// Where this run sent.
    #[serde(skip)]
    pub destination: Option<state::Destination>,
    /// Whether messages kept a pace (not into the outbox, unless `--rate` said so).
    pub paced: bool,
    pub failures_csv: Option<PathBuf>,
    /// The archive index the messages' links lead to, written before the first message.
    pub published: Option<PathBuf>,
    /// The report of a real run (not a dry run nor a test send), and where it was written.
    pub report: Option<report::Report>,
    pub report_file: Option<PathBuf>,
}

/// Refuses to go on, in another kind of place, with a send whose earlier runs went to the
/// outbox or to SMTP: the journal would mark as delivered people who never got the mail.
fn check_destination(
    journals: &Journals,
    key: &SendKey,
    now: &state::Destination,
    options: &Options,
) -> Result<(), SendError> {
    if options.change_destination {
        return Ok(());
    }
    let Some(run) = journals.last_run(key)? else {
        return Ok(());
    };
    match run.record {
        Some(before) if !before.destination.same_kind(now) => {
            Err(SendError::OtherDestination(Box::new(OtherDestination {
                key: key.describe(),
                now: now.clone(),
                started_at: run.started_at,
                resume: command_line(&before.command),
                before: before.destination,
            })))
        }
        _ => Ok(()),
    }
}

fn load_suppression(path: &Path) -> Result<Suppression, SendError> {
    let (suppression, problems) = Suppression::load(path)?;
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(SendError::Suppression(text.join("\n")));
    }
    Ok(suppression)
}

/// Sends `edition_path` as `options` say. `stop` is raised by Ctrl-C or SIGTERM.
pub fn send(
    settings: SendSettings<'_>,
    edition_path: &Path,
    options: &Options,
    stop: &AtomicBool,
) -> Result<Summary, SendError> {
    let office = options.office.as_ref();
    let plan = load_plan(settings, edition_path, office, options.pace_outbox)?;
    if !options.test.is_empty() {
        return send_tests(&plan, options);
    }
    let suppression = load_suppression(&settings.audience.suppression)?;
    let selection = Selection::of(
        settings.audience,
        office,
        &options.lists,
        &options.filters,
        &suppression,
        options.shard,
    );
    let key = send_key(&plan.edition.id, office);
    let state = StateDir::new(&settings.delivery.state_dir);
    let here = destination(settings.delivery);
    if options.dry_run {
        return dry_run(&plan, &selection, &state, &key, &here, options);
    }

    // A list that cannot be read at all stops the send before the journal records a run.
    for list in &selection.lists {
        audience::ListReader::open(list)?;
    }
    let started_at = now();
    // Counted before the first message, for the progress bar's total and time left; the
    // problems are reported by the pass that sends.
    let audience_size = audience::scan(&settings.audience.network, &selection, |_| {}, |_| {})?.deliverable;
    let own = Journal::open(&state.journal_path(options.shard))?;
    let _lock = state.lock_run(&key, options.shard)?;
    // Every journal counts, whatever shard layout wrote it: nobody is mailed twice.
    let journals = Journals::with_own(own, &state)?;
    check_destination(&journals, &key, &here, options)?;
    // Every link in every message must resolve when the first one arrives: the archive pages
    // and calendar files of the variants this send mails are written before it.
    let variants: Vec<_> = plan.variants.values().map(|(v, _)| v.clone()).collect();
    let published = crate::site::archive::publish(
        &settings.render.out_dir,
        &plan.edition,
        &variants,
        settings.render,
        &plan.templates,
    )?;
    let record = RunRecord {
        destination: here.clone(),
        command: options.command.clone(),
    };
    let Some(own) = journals.own() else {
        unreachable!("Journals::with_own keeps the journal it is given");
    };
    let run_id = own.begin_run(&key, &record)?;
    let (recorder, writer) = own.start_writer(&key)?;
    let (here_kind, here_place) = (here.kind().to_string(), here.place().to_string());
    let mut summary = Summary {
        destination: Some(here),
        published: Some(published),
        paced: plan.paced,
        ..Summary::default()
    };
    let connections = settings.delivery.connections.get() as usize;
    let (jobs, queue) = mpsc::sync_channel::<Recipient>(connections * 2);
    let crew = Crew::new(&plan, queue, stop, command_line(&options.command), audience_size);
    // The list read at the start may grow while a long send runs.
    let mut live = LiveSuppression::new(suppression.clone());

    let scan_result = std::thread::scope(|scope| -> Result<audience::Counts, SendError> {
        for _ in 0..connections {
            let (transport, recorder, crew) = (plan.transport()?, recorder.clone(), &crew);
            scope.spawn(move || crew.work(transport, recorder));
        }
        drop(recorder);
        let mut lookup_error = None;
        let counts = audience::scan(
            &settings.audience.network,
            &selection,
            |p| crew.progress.say(&p.to_string()),
            |recipient| {
                if stop.load(Ordering::SeqCst) || crew.halted() || lookup_error.is_some() {
                    return;
                }
                match journals.status_of(&key, &recipient.email) {
                    Ok(Some(done)) if done.is_done() => {
                        summary.skipped += 1;
                        crew.record(recipient, Fate::Skipped);
                    }
                    Ok(_) if live.suppresses(&recipient.email, office.map(|o| &o.id)) => {
                        summary.suppressed_meanwhile += 1;
                        crew.record(recipient, Fate::Suppressed);
                    }
                    Ok(_) => {
                        *summary
                            .per_variant
                            .entry(plan.variant_for(recipient).0.id())
                            .or_default() += 1;
                        // Blocks while the queue is full; halted workers drain it, so this
                        // never waits for good.
                        let _ = jobs.send(recipient.clone());
                    }
                    Err(e) => lookup_error = Some(e),
                }
            },
        );
        drop(jobs);
        if let Some(e) = lookup_error {
            return Err(e.into());
        }
        Ok(counts?)
    });
    crew.progress.finish();
    let _ = writer.join();
    let (delivered, failed, deferred) = crew.progress.totals();
    summary.delivered = delivered;
    summary.failed = failed;
    summary.deferred = deferred;
    summary.interrupted = stop.load(Ordering::SeqCst);
    let breakdown = crew.progress.breakdown();
    let trouble = crew.into_trouble();
    let end_state = if summary.interrupted || trouble.is_some() || scan_result.is_err() {
        RunState::Interrupted
    } else {
        RunState::Finished
    };
    let ended = own.end_run(run_id, end_state);
    // Written however the run ended, so that what it did is known; a problem that stopped
    // it is what the command reports, not a report that could not be written after it.
    let report = report::Report {
        edition: key.edition.to_string(),
        office: key.office.as_ref().map(ToString::to_string),
        shard: options.shard.map(|s| s.to_string()),
        started_at,
        ended_at: now(),
        state: if end_state == RunState::Finished {
            "finished"
        } else {
            "interrupted"
        }
        .to_string(),
        destination_kind: here_kind,
        destination: here_place,
        audience: scan_result.as_ref().map(report::Audience::from).unwrap_or_default(),
        outcomes: breakdown,
    };
    let written = serde_json::to_string_pretty(&report)
        .map_err(|e| StateError::Io {
            doing: "write the report",
            path: state.report_path(&key, options.shard),
            cause: e.to_string(),
        })
        .and_then(|json| state.write_report(&key, options.shard, &json));
    summary.report = Some(report);
    scan_result?;
    if let Some(e) = trouble {
        return Err(e);
    }
    ended?;
    summary.report_file = Some(written?);
    summary.journal = journals.tally(&key)?;
    summary.failures_csv = state.write_failures(&key, &journals.failures(&key)?)?;
    Ok(summary)
}

/// Now, as the report writes times: RFC 3339, UTC, to the second.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What a send would do, from the same journals a send reads; writes nothing.
fn dry_run(
    plan: &Plan<'_>,
    selection: &Selection<'_>,
    state: &StateDir,
    key: &SendKey,
    here: &state::Destination,
    options: &Options,
) -> Result<Summary, SendError> {
    let mut summary = Summary {
        destination: Some(here.clone()),
        ..Summary::default()
    };
    let journals = Journals::open_existing(state)?;
    check_destination(&journals, key, here, options)?;
    let mut shown = 0;
    let mut lookup_error = None;
    audience::scan(
        &plan.settings.audience.network,
        selection,
        |p| eprintln!("{p}"),
        |recipient| {
            match journals.status_of(key, &recipient.email) {
                Ok(Some(done)) if done.is_done() => {
                    summary.skipped += 1;
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    lookup_error.get_or_insert(e);
                    return;
                }
            }
            *summary
                .per_variant
                .entry(plan.variant_for(recipient).0.id())
                .or_default() += 1;
            if shown < 3 {
                shown += 1;
                if let Ok(message) = plan.compose(recipient, Kind::Real) {
                    println!("--- message {shown} ---\n{}", readable_headers(&message.bytes));
                }
            }
        },
    )?;
    if let Some(e) = lookup_error {
        return Err(e.into());
    }
    Ok(summary)
}

/// A message's headers as a person reads them: encoded words decoded (`To: Carmen López
/// <…>`, not `=?utf-8?b?…?=`), folded lines joined; the DKIM signature left out.
fn readable_headers(message: &[u8]) -> String {
    let Some(parsed) = mail_parser::MessageParser::default().parse(message) else {
        return String::from_utf8_lossy(message)
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
    };
    let mut out = String::new();
    for header in parsed.headers() {
        let name = header.name();
        if name.eq_ignore_ascii_case("DKIM-Signature") {
            continue;
        }
        // Message ids read as the parser's bare ids would lose their angle brackets.
        let as_written = ["Message-ID", "In-Reply-To", "References"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
        let value = match header.value() {
            _ if as_written => raw_value(message, header),
            mail_parser::HeaderValue::Text(t) => t.to_string(),
            mail_parser::HeaderValue::TextList(list) => list.join(", "),
            mail_parser::HeaderValue::Address(address) => address
                .iter()
                .map(|a| match (a.name(), a.address()) {
                    (Some(name), Some(address)) => format!("{name} <{address}>"),
                    (None, Some(address)) => address.to_string(),
                    (name, None) => name.unwrap_or_default().to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            // Everything else as written.
            _ => raw_value(message, header),
        };
        out.push_str(&format!("{name}: {value}\n"));
    }
    out
}

/// A header's value as written in `message`, unfolded.
fn raw_value(message: &[u8], header: &mail_parser::Header<'_>) -> String {
    let raw = &message[header.offset_start() as usize..header.offset_end() as usize];
    String::from_utf8_lossy(raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Proofs: each variant (or the one of `--language`) to each test address.
fn send_tests(plan: &Plan<'_>, options: &Options) -> Result<Summary, SendError> {
    if let Some(language) = options
        .test_language
        .as_ref()
        .filter(|l| !plan.variants.contains_key(*l))
    {
        let has: Vec<&str> = plan.edition.languages.iter().map(Language::as_str).collect();
        return Err(SendError::NoSuchLanguage {
            language: language.clone(),
            has: has.join(", "),
        });
    }
    let mut summary = Summary::default();
    let mut transport = plan.transport()?;
    for address in &options.test {
        let chosen = plan
            .variants
            .iter()
            .filter(|(l, _)| options.test_language.as_ref().is_none_or(|only| only == *l));
        for (_, (variant, _)) in chosen {
            let mut r = Recipient::new(address.clone());
            r.language = Some(variant.language.clone());
            let message = plan.compose(&r, Kind::Proof)?;
            let id = message.variant;
            match transport.send(&message.envelope, &message.bytes, &message.folder) {
                Ok(a) => {
                    summary.delivered += 1;
                    println!("{address} ({id}): {} {}", a.code, a.reply);
                }
                Err(Failure::Local { reply }) => {
                    return Err(SendError::Local {
                        reply,
                        resume: command_line(&options.command),
                    })
                }
                Err(e) => {
                    summary.failed += 1;
                    println!("{address} ({id}): not sent: {e:?}");
                }
            }
            *summary.per_variant.entry(id).or_default() += 1;
        }
    }
    Ok(summary)
}
