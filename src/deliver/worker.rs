//! The workers of a send: each owns one connection (a [`Transport`]), takes the next
//! recipient from the queue, composes their message, sends it at the global pace, retries as
//! the [`super::retry`] policy says, and records the outcome before it sends another. The
//! first problem that must stop the send (the journal cannot be written, the outbox is
//! read-only) halts every worker; they drain the queue so that the intake never blocks. It
//! must not choose recipients: they come from [`super::run`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use super::plan::{Composed, Kind, Plan};
use super::report::{Breakdown, Fate};
use super::retry::{Backoff, Next, RetryPolicy};
use super::run::SendError;
use super::transport::{Failure, Transport};
use crate::audience::{self, Recipient};
use crate::render::RenderError;
use crate::state::{Outcome, Pending, Recorder, Status};

/// What the workers of one send share.
pub(super) struct Crew<'a, 'p> {
    pub plan: &'a Plan<'p>,
    pub jobs: Mutex<mpsc::Receiver<Recipient>>,
    pub progress: Progress,
    /// Raised by Ctrl-C or SIGTERM: no new attempt is retried.
    pub stop: &'a AtomicBool,
    /// The command that resumes this send, for the error that stops it.
    pub resume: String,
    halted: AtomicBool,
    trouble: Mutex<Option<SendError>>,
}

impl<'a, 'p> Crew<'a, 'p> {
    /// `total`: the audience, counted before the first message, for the progress bar.
    pub fn new(
        plan: &'a Plan<'p>,
        jobs: mpsc::Receiver<Recipient>,
        stop: &'a AtomicBool,
        resume: String,
        total: u64,
    ) -> Self {
        Crew {
            plan,
            jobs: Mutex::new(jobs),
            progress: Progress::new(total),
            stop,
            resume,
            halted: AtomicBool::new(false),
            trouble: Mutex::new(None),
        }
    }

    /// Whether a worker hit a problem that stops the send.
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }

    /// The problem that stopped the send, if one did.
    pub fn into_trouble(self) -> Option<SendError> {
        self.trouble.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the first problem, which the command prints once when the send ends; what other
    /// workers hit after it is only logged (`-v`).
    fn fail(&self, e: SendError) {
        let mut first = self.trouble.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_some() {
            tracing::info!("also: {e}");
        } else {
            *first = Some(e);
        }
        self.halted.store(true, Ordering::SeqCst);
    }

    fn next_job(&self) -> Option<Recipient> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner()).recv().ok()
    }

    /// Counts `recipient`'s outcome under their variant, its language and their region.
    pub fn record(&self, recipient: &Recipient, fate: Fate) {
        let (variant, _) = self.plan.variant_for(recipient);
        let region = recipient.region.as_ref().map_or("-", crate::types::Region::as_str);
        self.progress
            .record(&variant.id(), variant.language.as_str(), region, fate);
    }

    /// One worker, until the queue closes or the send halts.
    pub fn work(&self, mut transport: Box<dyn Transport>, recorder: Recorder) {
        // The previous outcome commits while the next message is composed; it must be
        // committed before that message is sent.
        let mut committing: Option<(Pending, Outcome, Recipient)> = None;
        loop {
            let next = if self.halted() { None } else { self.next_job() };
            let composed = next.as_ref().map(|r| self.plan.compose(r, Kind::Real));
            if let Some((pending, outcome, recipient)) = committing.take() {
                if let Err(e) = pending.wait() {
                    // Never go on with messages that cannot be recorded.
                    self.fail(e.into());
                    break;
                }
                let refused_by_server = outcome.code.is_some_and(|c| c >= 500);
                if outcome.status == Status::Failed
                    && refused_by_server
                    && self.plan.settings.delivery.suppress_hard_bounces
                {
                    suppress_hard_bounce(&self.plan.settings.audience.suppression, &recipient);
                }
                self.record(&recipient, outcome.status.into());
            }
            let (Some(recipient), Some(composed)) = (next, composed) else {
                break;
            };
            let outcome = match deliver_one(self.plan, &recipient, composed, transport.as_mut(), self.stop) {
                Ok(outcome) => outcome,
                Err(reply) => {
                    self.fail(SendError::Local {
                        reply,
                        resume: self.resume.clone(),
                    });
                    break;
                }
            };
            match recorder.submit(outcome.clone()) {
                Ok(pending) => committing = Some((pending, outcome, recipient)),
                Err(e) => {
                    self.fail(e.into());
                    break;
                }
            }
        }
        // Whatever is still queued is not sent; taking it lets the intake finish instead of
        // waiting on a full queue nobody reads.
        while self.halted() && self.next_job().is_some() {}
    }
}

/// Counters shared by the intake and the workers: a progress bar on a terminal (total,
/// percentage, rate, time left), log lines otherwise, and the breakdown of the report.
pub(super) struct Progress {
    delivered: AtomicU64,
    failed: AtomicU64,
    deferred: AtomicU64,
    /// Everyone dealt with: sent, skipped or suppressed meanwhile.
    handled: AtomicU64,
    total: u64,
    started: Instant,
    last_line: Mutex<Instant>,
    bar: Option<indicatif::ProgressBar>,
    breakdown: Mutex<Breakdown>,
}

impl Progress {
    pub fn new(total: u64) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{wide_bar} {pos}/{len} ({percent}%) {per_sec} {eta} left\n{msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            total,
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            bar,
            breakdown: Mutex::new(Breakdown::default()),
        }
    }

    /// One recipient's outcome, under their variant, its language and their region.
    pub fn record(&self, variant: &str, language: &str, region: &str, fate: Fate) {
        self.breakdown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(variant, language, region, fate);
        let counter = match fate {
            Fate::Delivered => Some(&self.delivered),
            Fate::Failed => Some(&self.failed),
            Fate::Deferred => Some(&self.deferred),
            Fate::Skipped | Fate::Suppressed => None,
        };
        if let Some(n) = counter {
            n.fetch_add(1, Ordering::Relaxed);
        }
        let handled = self.handled.fetch_add(1, Ordering::Relaxed) + 1;
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
                    let percent = handled * 100 / self.total.max(1);
                    tracing::info!("{handled}/{} ({percent}%): {line} ({rate:.1}/s)", self.total);
                    eprintln!("send: {handled}/{} ({percent}%): {line} ({rate:.1}/s)", self.total);
                }
            }
        }
    }

    /// A line on stderr (a list's problem) that does not tear the bar.
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn totals(&self) -> (u64, u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.deferred.load(Ordering::Relaxed),
        )
    }

    /// The outcomes so far, by variant, language and region.
    pub fn breakdown(&self) -> Breakdown {
        self.breakdown.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Appends a permanently refused address to the suppression list (`suppress_hard_bounces`).
fn suppress_hard_bounce(suppression: &std::path::Path, recipient: &Recipient) {
    let today = chrono::Utc::now().date_naive();
    if let Err(e) = audience::suppression::append(suppression, &recipient.email, "hard bounce", today) {
        tracing::error!("cannot add a hard bounce to {}: {e}", suppression.display());
    }
}

/// Tries one recipient until delivered, refused, or out of attempts (then deferred).
/// `Err` when our own side cannot work (the outbox cannot be written): the send must stop.
fn deliver_one(
    plan: &Plan<'_>,
    recipient: &Recipient,
    composed: Result<Composed, RenderError>,
    transport: &mut dyn Transport,
    stop: &AtomicBool,
) -> Result<Outcome, String> {
    let email = recipient.email.to_string();
    let Composed {
        variant,
        folder,
        envelope,
        bytes,
        message_id,
    } = match composed {
        Ok(composed) => composed,
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
        max_attempts: plan.settings.delivery.max_attempts.get(),
        base: plan.settings.delivery.retry_delay,
    };
    let seed = email.bytes().fold(std::process::id() as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let mut attempt = 0;
    loop {
        attempt += 1;
        if plan.paced {
            plan.gate.acquire();
        }
        let failure = match transport.send(&envelope, &bytes, &folder) {
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
            plan.gate.throttle(pause);
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
