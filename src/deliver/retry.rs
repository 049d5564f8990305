//! What a failed attempt means, decided in one place: try the recipient again (after how
//! long), defer them to a later `send`, or fail them for good; whether the server asked every
//! connection to slow down; and whether the failure is the relay's (it counts against the
//! relay's health) or the recipient's (it does not). The worker and the relay pool act on the
//! [`Verdict`]; neither reads reply codes itself.
//!
//! ```
//! # use infoflash::deliver::retry::{Backoff, Next, RetryPolicy};
//! # use infoflash::deliver::transport::Failure;
//! # use std::time::Duration;
//! let policy = Backoff { max_attempts: 3, base: Duration::from_secs(1) };
//! let full = Failure::Temporary { code: Some(452), reply: "4.2.2 mailbox full".into() };
//! let verdict = policy.judge(&full, 1, 7);
//! assert!(matches!(verdict.next, Next::Retry(_)));
//! assert!(!verdict.relay_fault, "a full mailbox says nothing about the relay");
//! ```
//!
//! It must not send, record or sleep.

use std::time::Duration;

use super::transport::Failure;

/// What to do with the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again in this run, after this pause.
    Retry(Duration),
    /// Give up for this run; a later `send` tries again.
    Defer,
    /// Refused for good: never tried again.
    Fail,
}

/// The reading of one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub next: Next,
    /// The server asked for less traffic (throttling, greylisting): every connection pauses
    /// this long.
    pub slow_down: Option<Duration>,
    /// The relay itself is failing (down, refusing connections, closing with 421), not just
    /// refusing this recipient: it counts towards taking the relay out of the rotation, and
    /// the message may go to another relay at once.
    pub relay_fault: bool,
}

pub trait RetryPolicy: Send + Sync {
    /// Reads the failure of attempt number `attempt` (1-based); `seed` spreads the retries of
    /// different recipients apart.
    fn judge(&self, failure: &Failure, attempt: u32, seed: u64) -> Verdict;
}

/// Whether a failure is the relay's rather than the recipient's: a broken or refused
/// connection, a reply that speaks for the whole session (421 service not available, 454 TLS
/// not available), or a 4xx whose enhanced status (RFC 3463) is about the mail system, the
/// network, the protocol or policy (`4.3.0` system error, `4.7.1` try later). A 4xx about an
/// address or a mailbox (`4.1.x`, `4.2.2` mailbox full), or a 450/451/452 that gives no
/// enhanced status, names one recipient and says nothing about the relay.
pub fn is_relay_fault(failure: &Failure) -> bool {
    match failure {
        Failure::Connection { .. } => true,
        Failure::Temporary {
            code: Some(421 | 454) | None,
            ..
        } => true,
        Failure::Temporary { reply, .. } => enhanced_subject(reply).is_some_and(|subject| subject >= 3),
        Failure::Permanent { .. } | Failure::Local { .. } => false,
    }
}

/// The subject of the first enhanced status code in a reply: the `2` of `4.2.2`.
fn enhanced_subject(reply: &str) -> Option<u16> {
    reply
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(|word| {
            let mut parts = word.split('.');
            let class = parts.next()?;
            let subject = parts.next()?;
            let detail = parts.next()?;
            let digits = |p: &str| !p.is_empty() && p.len() <= 3;
            (matches!(class, "2" | "4" | "5") && digits(subject) && digits(detail) && parts.next().is_none())
                .then(|| subject.parse().ok())
                .flatten()
        })
}

/// Exponential backoff with jitter, `max_attempts` attempts per run.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub max_attempts: u32,
    /// The first retry's pause; it doubles each attempt.
    pub base: Duration,
}

impl Backoff {
    /// `base` × 2^(attempt-1) × a jitter in [0.5, 1.5).
    pub fn delay(&self, attempt: u32, seed: u64) -> Duration {
        self.base
            .mul_f64(2f64.powi(attempt.saturating_sub(1).min(10) as i32) * jitter(seed))
    }
}

/// A small xorshift for retry jitter: no need for a crate to spread retries apart.
fn jitter(seed: u64) -> f64 {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    0.5 + (x % 1000) as f64 / 1000.0
}

impl RetryPolicy for Backoff {
    fn judge(&self, failure: &Failure, attempt: u32, seed: u64) -> Verdict {
        let relay_fault = is_relay_fault(failure);
        let (temporary, slow_down) = match failure {
            Failure::Permanent { .. } | Failure::Local { .. } => (false, None),
            Failure::Connection { .. } => (true, None),
            Failure::Temporary { code, .. } => {
                let asks_to_slow_down = matches!(code, Some(421 | 450 | 451 | 452 | 454));
                (true, asks_to_slow_down.then(|| self.delay(attempt, seed)))
            }
        };
        let next = if !temporary {
            Next::Fail
        } else if attempt >= self.max_attempts {
            Next::Defer
        } else {
            Next::Retry(self.delay(attempt, seed.wrapping_add(u64::from(attempt))))
        };
        Verdict {
            next,
            slow_down,
            relay_fault,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary(code: u16) -> Failure {
        Failure::Temporary {
            code: Some(code),
            reply: String::new(),
        }
    }

    fn replied(code: u16, reply: &str) -> Failure {
        Failure::Temporary {
            code: Some(code),
            reply: reply.into(),
        }
    }

    #[test]
    fn refusals_fail_at_once_and_temporaries_are_retried_then_deferred() {
        let policy = Backoff {
            max_attempts: 3,
            base: Duration::from_millis(100),
        };
        let permanent = Failure::Permanent {
            code: Some(550),
            reply: String::new(),
        };
        assert_eq!(policy.judge(&permanent, 1, 0).next, Next::Fail);
        assert!(matches!(policy.judge(&temporary(451), 1, 0).next, Next::Retry(_)));
        assert!(matches!(policy.judge(&temporary(451), 2, 0).next, Next::Retry(_)));
        assert_eq!(policy.judge(&temporary(451), 3, 0).next, Next::Defer);
        let dropped = Failure::Connection { reply: String::new() };
        assert_eq!(policy.judge(&dropped, 3, 0).next, Next::Defer);
        assert_eq!(policy.judge(&dropped, 1, 0).slow_down, None);
        assert!(policy.judge(&temporary(421), 1, 0).slow_down.is_some());
    }

    #[test]
    fn only_connection_failures_and_session_wide_replies_count_against_the_relay() {
        assert!(is_relay_fault(&Failure::Connection { reply: String::new() }));
        assert!(is_relay_fault(&temporary(421)));
        assert!(is_relay_fault(&temporary(454)));
        for code in [450, 451, 452] {
            assert!(!is_relay_fault(&temporary(code)), "{code}");
        }
        assert!(!is_relay_fault(&replied(
            452,
            "transient error (452): 4.2.2 Mailbox full"
        )));
        assert!(!is_relay_fault(&replied(450, "4.1.1 <x@example.org>: try again")));
        assert!(is_relay_fault(&replied(
            450,
            "transient error (450): 4.3.0 Error: command failed"
        )));
        assert!(is_relay_fault(&replied(
            451,
            "4.7.1 Please try again later (192.0.2.1)"
        )));
        assert!(!is_relay_fault(&Failure::Permanent {
            code: Some(550),
            reply: String::new()
        }));
    }

    #[test]
    fn the_delay_doubles_with_each_attempt_within_its_jitter() {
        let policy = Backoff {
            max_attempts: 5,
            base: Duration::from_millis(100),
        };
        for attempt in 1..=4u32 {
            let d = policy.delay(attempt, 42).as_secs_f64();
            let nominal = 0.1 * f64::from(1u32 << (attempt - 1));
            assert!((0.5 * nominal..1.5 * nominal).contains(&d), "{attempt}: {d}");
        }
    }
}
