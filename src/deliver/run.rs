//! The send: recipients stream from the lists (through [`crate::audience`]), each is looked up
//! in the journal, and those not yet delivered or refused go to a pool of workers — one
//! connection each — that compose, pace, send, retry and record. Interruption (Ctrl-C,
//! SIGTERM) stops the intake; messages in flight finish and are recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::compose::{self, Prepared, Sender};
use super::rate::RateGate;
use super::relay::{Destination, Secret};
use super::relays;
use super::retry::{Backoff, Next, RetryPolicy};
use super::transport::{Failure, Outbox, Smtp, Transport};
use super::unsubscribe;
use crate::audience::shard::Shard;
use crate::audience::{self, AudienceError, Filter, Recipient, Selection, Suppression};
use crate::config::{Config, Office};
use crate::diagnostics::Report;
use crate::edition::{self, Edition, EditionError};
use crate::render::{self, RenderError, Scope, Templates, Variant};
use crate::state::{self, Journal, Journals, Outcome, RunRecord, RunState, SendKey, StateDir, StateError, Status};
use crate::types::EmailAddress;

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
    #[error(
        "{key} was sent to {before} by the run of {started_at}, and this run would send to {now}: \
         the recipients it recorded as delivered would not be mailed again, and the rest would go \
         elsewhere. To go on where it went, run `{resume}`; to send to {now} anyway, add --change-destination"
    )]
    OtherDestination {
        key: String,
        before: state::Destination,
        now: state::Destination,
        started_at: String,
        resume: String,
    },
    #[error("{0}")]
    Setup(String),
}

/// What to send, and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub office: Option<Office>,
    /// Replaces the settings' (or the office's) lists.
    pub lists: Vec<PathBuf>,
    pub filters: Vec<Filter>,
    pub dry_run: bool,
    /// Send every variant to these addresses only, `[TEST]` in the subject, no journal.
    pub test: Vec<EmailAddress>,
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
    pub interrupted: bool,
    /// Messages per variant (dry run and real sends).
    pub per_variant: BTreeMap<String, u64>,
    /// Over all runs of this edition and office.
    pub journal: state::Tally,
    /// Where this run sent.
    #[serde(skip)]
    pub destination: Option<state::Destination>,
    pub failures_csv: Option<PathBuf>,
}

/// Counters shared by the workers, shown as a progress bar on a terminal and as log lines
/// otherwise.
struct Progress {
    delivered: AtomicU64,
    failed: AtomicU64,
    deferred: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} handled ({per_sec}) {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            bar,
        }
    }

    fn count(&self, status: Status) {
        match status {
            Status::Delivered => &self.delivered,
            Status::Failed => &self.failed,
            Status::Deferred => &self.deferred,
        }
        .fetch_add(1, Ordering::Relaxed);
        let (d, f, r) = self.totals();
        let line = format!("delivered {d}, failed {f}, deferred {r}");
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(line);
            }
            None => {
                let mut last = self.last_line.lock().unwrap_or_else(|p| p.into_inner());
                if last.elapsed() >= Duration::from_secs(2) {
                    *last = Instant::now();
                    let rate = (d + f + r) as f64 / self.started.elapsed().as_secs_f64().max(0.001);
                    tracing::info!("{line} ({rate:.1}/s)");
                    eprintln!("send: {line} ({rate:.1}/s)");
                }
            }
        }
    }

    fn totals(&self) -> (u64, u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.deferred.load(Ordering::Relaxed),
        )
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Everything loaded once for a send, shared by the workers.
struct Plan<'a> {
    config: &'a Config,
    edition: Edition,
    templates: Templates,
    office: Option<&'a Office>,
    variants: BTreeMap<crate::types::Language, (Variant, Prepared)>,
    key: unsubscribe::Key,
    dkim: Option<lettre::message::dkim::DkimConfig>,
}

impl Plan<'_> {
    fn variant_for(&self, recipient: &Recipient) -> &(Variant, Prepared) {
        let available: Vec<_> = self.variants.keys().cloned().collect();
        let language = audience::language_for(
            recipient,
            &available,
            self.office.map(|o| &o.language),
            &self.config.fallback_language,
        );
        &self.variants[language]
    }

    fn sender(&self, subject_prefix: &str) -> Sender<'_> {
        Sender {
            config: self.config,
            edition: &self.edition,
            office: self.office,
            key: &self.key,
            subject_prefix: subject_prefix.to_string(),
            dkim: self.dkim.as_ref(),
        }
    }

    fn compose(&self, recipient: &Recipient, prefix: &str) -> Result<Composed, RenderError> {
        let (variant, prepared) = self.variant_for(recipient);
        let labels = self.templates.labels(&variant.language)?;
        let (envelope, bytes, id) =
            compose::message(prepared, recipient, &self.sender(prefix), &self.templates, labels)?;
        Ok((variant.id(), envelope, bytes, id))
    }
}

/// A message ready to send: its variant's id, envelope, bytes and Message-ID.
type Composed = (String, lettre::address::Envelope, Vec<u8>, String);

fn load_plan<'a>(config: &'a Config, edition_path: &Path, office: Option<&'a Office>) -> Result<Plan<'a>, SendError> {
    let (edition, _warnings) = edition::load(edition_path, config)?;
    let templates = Templates::load(&config.templates_dir, &config.languages)?;
    let scope = match office {
        Some(o) => Scope::Office {
            id: o.id.clone(),
            regions: o.regions.clone(),
        },
        None => Scope::All,
    };
    let mut variants = BTreeMap::new();
    let mut rendered = Vec::new();
    for variant in render::variants(&edition, &[], &scope) {
        let prepared = compose::prepare(&edition, &variant, config, &templates)?;
        rendered.push(prepared.rendered.clone());
        variants.insert(variant.language.clone(), (variant, prepared));
    }
    let findings = crate::check::findings(&edition, &rendered);
    if findings.has_errors() {
        return Err(SendError::NotReady(findings.sorted()));
    }
    let key = unsubscribe::Key::load(&StateDir::new(&config.delivery.state_dir)).map_err(SendError::Setup)?;
    let dkim = config
        .delivery
        .dkim
        .as_ref()
        .map(compose::dkim_config)
        .transpose()
        .map_err(SendError::Setup)?;
    Ok(Plan {
        config,
        edition,
        templates,
        office,
        variants,
        key,
        dkim,
    })
}

/// The journal key of an edition's send by `office`.
pub fn send_key(edition: &crate::types::EditionId, office: Option<&Office>) -> SendKey {
    SendKey {
        edition: edition.clone(),
        office: office.map(|o| o.id.clone()),
    }
}

/// Where this send goes, as the journal records it (never with a password).
pub fn destination(config: &Config) -> state::Destination {
    let d = &config.delivery;
    if !d.relays.is_empty() {
        let urls: Vec<String> = d.relays.iter().map(|r| r.relay.to_string()).collect();
        return state::Destination::Smtp(urls.join(", "));
    }
    match &d.destination {
        Destination::Outbox => state::Destination::Outbox(d.outbox.display().to_string()),
        Destination::Smtp(relay) => state::Destination::Smtp(relay.to_string()),
    }
}

/// `infoflash ARGS…` as one line a shell reads back as the same arguments.
pub fn command_line(args: &[String]) -> String {
    let quoted: Vec<String> = std::iter::once("infoflash".to_string())
        .chain(args.iter().map(|a| {
            let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        }))
        .collect();
    quoted.join(" ")
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
        Some(before) if !before.destination.same_kind(now) => Err(SendError::OtherDestination {
            key: key.describe(),
            now: now.clone(),
            started_at: run.started_at,
            resume: command_line(&before.command),
            before: before.destination,
        }),
        _ => Ok(()),
    }
}

fn transport_for(
    config: &Config,
    password: &Option<Secret>,
    pool: &Option<Arc<relays::Pool>>,
) -> Result<Box<dyn Transport>, SendError> {
    let d = &config.delivery;
    if let Some(pool) = pool {
        return Ok(Box::new(relays::Multi::new(pool.clone())));
    }
    Ok(match &d.destination {
        Destination::Outbox => Box::new(
            Outbox::new(d.outbox.clone())
                .map_err(|e| SendError::Setup(format!("cannot create the outbox {}: {e}", d.outbox.display())))?,
        ),
        Destination::Smtp(relay) => Box::new(Smtp::new(relay.clone(), password.clone(), read_ca(config)?, d.timeout)),
    })
}

/// The extra certificate authorities of `tls_ca_file`, if set.
fn read_ca(config: &Config) -> Result<Option<Vec<u8>>, SendError> {
    config
        .delivery
        .tls_ca_file
        .as_ref()
        .map(|file| {
            std::fs::read(file)
                .map_err(|e| SendError::Setup(format!("cannot read tls_ca_file {}: {e}", file.display())))
        })
        .transpose()
}

/// How long a relay that keeps failing stays out of the rotation.
const RELAY_REST: Duration = Duration::from_secs(30);

/// The pool of `[[delivery.relays]]`, with their passwords, or `None` for a single relay.
fn relay_pool(config: &Config, global: &Arc<RateGate>) -> Result<Option<Arc<relays::Pool>>, SendError> {
    let d = &config.delivery;
    if d.relays.is_empty() {
        return Ok(None);
    }
    let ca = read_ca(config)?;
    let mut routes = Vec::new();
    for r in &d.relays {
        let password = match &r.relay.user {
            Some(_) => {
                let env = r.password_env.as_deref().unwrap_or(&d.password_env);
                let file = r.password_file.as_deref().or(d.password_file.as_deref());
                let secret = Secret::load(env, file).map_err(SendError::Setup)?;
                if secret.is_none() {
                    return Err(SendError::Setup(format!(
                        "the relay {} needs a password: set {env} or its `password_file`",
                        r.relay
                    )));
                }
                secret
            }
            None => None,
        };
        routes.push(relays::Route {
            relay: r.relay.clone(),
            password,
            ca: ca.clone(),
            weight: r.weight.get(),
            connections: r.connections.get(),
            gate: r.pace.map(RateGate::new),
        });
    }
    Ok(Some(relays::Pool::new(routes, RELAY_REST, d.timeout, global.clone())))
}

fn selection_lists(config: &Config, options: &Options) -> Vec<PathBuf> {
    if !options.lists.is_empty() {
        options.lists.clone()
    } else if let Some(o) = &options.office {
        o.lists.clone()
    } else {
        config.lists.clone()
    }
}

fn load_suppression(config: &Config) -> Result<Suppression, SendError> {
    let (suppression, problems) = Suppression::load(&config.suppression)?;
    if !problems.is_empty() {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(SendError::Suppression(text.join("\n")));
    }
    Ok(suppression)
}

/// Sends `edition_path` as `options` say. `stop` is raised by Ctrl-C or SIGTERM.
pub fn send(config: &Config, edition_path: &Path, options: &Options, stop: &AtomicBool) -> Result<Summary, SendError> {
    let office = options.office.as_ref();
    let plan = load_plan(config, edition_path, office)?;
    let password = match &config.delivery.destination {
        Destination::Smtp(r) if r.user.is_some() => {
            let secret = Secret::load(&config.delivery.password_env, config.delivery.password_file.as_deref())
                .map_err(SendError::Setup)?;
            if secret.is_none() {
                return Err(SendError::Setup(format!(
                    "the relay needs a password: set {} or `password_file` in [delivery]",
                    config.delivery.password_env
                )));
            }
            secret
        }
        _ => None,
    };
    let gate = Arc::new(RateGate::new(config.delivery.pace));
    let pool = relay_pool(config, &gate)?;
    if !options.test.is_empty() {
        return send_tests(&plan, options, &password, &pool);
    }
    let suppression = load_suppression(config)?;
    let mut filters = office.map(|o| o.filters.clone()).unwrap_or_default();
    filters.extend(options.filters.iter().cloned());
    let selection = Selection {
        lists: selection_lists(config, options),
        filters,
        suppression: &suppression,
        shard: options.shard,
    };
    let key = send_key(&plan.edition.id, office);
    let state = StateDir::new(&config.delivery.state_dir);
    let here = destination(config);
    if options.dry_run {
        return dry_run(&plan, &selection, &state, &key, &here, options);
    }

    // A list that cannot be read at all stops the send before the journal records a run.
    for list in &selection.lists {
        audience::ListReader::open(list)?;
    }
    let own = Journal::open(&state.journal_path(options.shard))?;
    let _lock = state.lock_run(&key, options.shard)?;
    // Every journal counts, whatever shard layout wrote it: nobody is mailed twice.
    let mut journals = Journals::with_own(own, &state)?;
    check_destination(&journals, &key, &here, options)?;
    let Some(own) = journals.own_mut() else {
        return Err(SendError::Setup("no journal".into()));
    };
    let record = RunRecord {
        destination: here.clone(),
        command: options.command.clone(),
    };
    let run_id = own.begin_run(&key, &record)?;
    let (recorder, writer) = own.start_writer(&key)?;
    let progress = Progress::new();
    let mut summary = Summary {
        destination: Some(here),
        ..Summary::default()
    };
    let connections = config.delivery.connections.get() as usize;
    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<Recipient>(connections * 2);
    let jobs_rx = Mutex::new(jobs_rx);
    let halted = AtomicBool::new(false);
    let trouble: Mutex<Option<SendError>> = Mutex::new(None);
    let fail = |e: SendError| {
        tracing::error!("{e}");
        let mut slot = trouble.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
        halted.store(true, Ordering::SeqCst);
    };
    let resume = command_line(&options.command);

    let scan_result = std::thread::scope(|scope| -> Result<(), SendError> {
        for _ in 0..connections {
            let mut transport = transport_for(config, &password, &pool)?;
            let (plan, gate, recorder, progress, jobs_rx, halted, fail, resume) = (
                &plan,
                &*gate,
                recorder.clone(),
                &progress,
                &jobs_rx,
                &halted,
                &fail,
                &resume,
            );
            scope.spawn(move || {
                // The previous outcome commits while the next message is composed; it must be
                // committed before that message is sent.
                let mut committing: Option<(state::Pending, Outcome, Recipient)> = None;
                loop {
                    let next = if halted.load(Ordering::SeqCst) {
                        Err(mpsc::RecvError)
                    } else {
                        jobs_rx.lock().unwrap_or_else(|p| p.into_inner()).recv()
                    };
                    let composed = next.as_ref().ok().map(|r| plan.compose(r, ""));
                    if let Some((pending, outcome, recipient)) = committing.take() {
                        if let Err(e) = pending.wait() {
                            // Never go on with messages that cannot be recorded.
                            fail(e.into());
                            break;
                        }
                        let refused_by_server = outcome.code.is_some_and(|c| c >= 500);
                        if outcome.status == Status::Failed
                            && refused_by_server
                            && plan.config.delivery.suppress_hard_bounces
                        {
                            suppress_hard_bounce(plan.config, &recipient);
                        }
                        progress.count(outcome.status);
                    }
                    let (Ok(recipient), Some(composed)) = (next, composed) else {
                        break;
                    };
                    let outcome = match deliver_one(plan, &recipient, composed, transport.as_mut(), gate, stop) {
                        Ok(outcome) => outcome,
                        Err(reply) => {
                            fail(SendError::Local {
                                reply,
                                resume: resume.clone(),
                            });
                            break;
                        }
                    };
                    match recorder.submit(outcome.clone()) {
                        Ok(pending) => committing = Some((pending, outcome, recipient)),
                        Err(e) => {
                            fail(e.into());
                            break;
                        }
                    }
                }
            });
        }
        drop(recorder);
        let mut lookup_error = None;
        let counts = audience::scan(
            config,
            &selection,
            |p| eprintln!("{p}"),
            |recipient| {
                if stop.load(Ordering::SeqCst) || halted.load(Ordering::SeqCst) || lookup_error.is_some() {
                    return;
                }
                match journals.status_of(&key, &recipient.email) {
                    Ok(Some(done)) if done.is_done() => summary.skipped += 1,
                    Ok(_) => {
                        *summary
                            .per_variant
                            .entry(plan.variant_for(recipient).0.id())
                            .or_default() += 1;
                        // Never block for good on a full queue: if the workers stopped (the
                        // journal cannot be written), nobody will take from it again.
                        let mut job = recipient.clone();
                        loop {
                            match jobs_tx.try_send(job) {
                                Ok(()) => break,
                                Err(mpsc::TrySendError::Full(back)) => {
                                    if halted.load(Ordering::SeqCst) {
                                        break;
                                    }
                                    job = back;
                                    std::thread::sleep(Duration::from_millis(1));
                                }
                                Err(mpsc::TrySendError::Disconnected(_)) => break,
                            }
                        }
                    }
                    Err(e) => lookup_error = Some(e),
                }
            },
        );
        drop(jobs_tx);
        if let Some(e) = lookup_error {
            return Err(e.into());
        }
        counts?;
        Ok(())
    });
    progress.finish();
    let _ = writer.join();
    let (delivered, failed, deferred) = progress.totals();
    summary.delivered = delivered;
    summary.failed = failed;
    summary.deferred = deferred;
    summary.interrupted = stop.load(Ordering::SeqCst);
    let trouble = trouble.into_inner().unwrap_or_else(|p| p.into_inner());
    let ended = if summary.interrupted || trouble.is_some() || scan_result.is_err() {
        RunState::Interrupted
    } else {
        RunState::Finished
    };
    let own = journals.own().ok_or_else(|| SendError::Setup("no journal".into()))?;
    let ended = own.end_run(run_id, ended);
    scan_result?;
    if let Some(e) = trouble {
        return Err(e);
    }
    ended?;
    summary.journal = journals.tally(&key)?;
    summary.failures_csv = state.write_failures(&key, &journals.failures(&key)?)?;
    Ok(summary)
}

/// Appends a permanently refused address to the suppression list (`suppress_hard_bounces`).
fn suppress_hard_bounce(config: &Config, recipient: &Recipient) {
    let today = chrono::Utc::now().date_naive();
    if let Err(e) = audience::suppression::append(&config.suppression, &recipient.email, "hard bounce", today) {
        tracing::error!("cannot add a hard bounce to {}: {e}", config.suppression.display());
    }
}

/// Tries one recipient until delivered, refused, or out of attempts (then deferred).
fn deliver_one(
    plan: &Plan<'_>,
    recipient: &Recipient,
    composed: Result<Composed, RenderError>,
    transport: &mut dyn Transport,
    gate: &RateGate,
    stop: &AtomicBool,
) -> Result<Outcome, String> {
    let email = recipient.email.to_string();
    let (variant, envelope, bytes, message_id) = match composed {
        Ok(parts) => parts,
        Err(e) => {
            return Ok(Outcome {
                address: recipient.email.clone(),
                variant: String::new(),
                status: Status::Failed,
                attempts: 0,
                code: None,
                reply: e.to_string(),
                message_id: String::new(),
            })
        }
    };
    let policy = Backoff {
        max_attempts: plan.config.delivery.max_attempts.get(),
        base: plan.config.delivery.retry_delay,
    };
    let seed = email.bytes().fold(std::process::id() as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let mut attempt = 0;
    loop {
        attempt += 1;
        gate.acquire();
        let failure = match transport.send(&envelope, &bytes) {
            Ok(accepted) => {
                return Ok(Outcome {
                    address: recipient.email.clone(),
                    variant,
                    status: Status::Delivered,
                    attempts: attempt,
                    code: Some(accepted.code),
                    reply: accepted.reply,
                    message_id,
                })
            }
            Err(Failure::Local { reply }) => return Err(reply),
            Err(failure) => failure,
        };
        let verdict = policy.judge(&failure, attempt, seed);
        if let Some(pause) = verdict.slow_down {
            gate.throttle(pause);
        }
        let (code, reply) = match failure {
            Failure::Temporary { code, reply } | Failure::Permanent { code, reply } => (code, reply),
            Failure::Connection { reply } | Failure::Local { reply } => (None, reply),
        };
        let status = match verdict.next {
            Next::Retry(pause) if !stop.load(Ordering::SeqCst) => {
                tracing::debug!("retrying {email} after: {reply}");
                std::thread::sleep(pause);
                continue;
            }
            Next::Retry(_) | Next::Defer => Status::Deferred,
            Next::Fail => Status::Failed,
        };
        return Ok(Outcome {
            address: recipient.email.clone(),
            variant,
            status,
            attempts: attempt,
            code,
            reply,
            message_id,
        });
    }
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
        plan.config,
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
                if let Ok((_, _, bytes, _)) = plan.compose(recipient, "") {
                    let text = String::from_utf8_lossy(&bytes);
                    let headers = text.split("\r\n\r\n").next().unwrap_or_default();
                    println!("--- message {shown} ---\n{}\n", headers.replace("\r\n", "\n"));
                }
            }
        },
    )?;
    if let Some(e) = lookup_error {
        return Err(e.into());
    }
    Ok(summary)
}

fn send_tests(
    plan: &Plan<'_>,
    options: &Options,
    password: &Option<Secret>,
    pool: &Option<Arc<relays::Pool>>,
) -> Result<Summary, SendError> {
    let mut summary = Summary::default();
    let mut transport = transport_for(plan.config, password, pool)?;
    for address in &options.test {
        for (variant, _) in plan.variants.values() {
            let mut r = Recipient::new(address.clone());
            r.language = Some(variant.language.clone());
            let (id, envelope, bytes, _) = plan.compose(&r, "[TEST] ")?;
            match transport.send(&envelope, &bytes) {
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
