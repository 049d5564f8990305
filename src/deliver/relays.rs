//! Several relays (`[[delivery.relays]]`): when one relay's quota is smaller than the list,
//! messages are spread over the organisation's relays or a provider's SMTP endpoints.
//!
//! A [`Pool`] shared by all workers knows each relay's weight, its connection count, its own
//! pace (rate, hour and day quotas) and its health. Each worker sends through a [`Multi`]
//! transport, which asks the pool for the relay that is furthest behind its share (sent ÷
//! weight) among those that are in rotation, have a free connection and whose own pace allows
//! a message now. A relay that fails three times in a row (down, refusing connections, or
//! closing the session with 421: see [`super::retry::is_relay_fault`]) leaves the rotation for a
//! cooldown, and the message that failed is offered at once to another relay. A refusal
//! (5xx) or a reply about one mailbox (450–452: busy, full) is about the recipient, not the
//! relay, and is returned as is.
//! The global pace still holds: `run` acquires it before a message, and a message offered to
//! a second relay acquires it again.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lettre::address::Envelope;

use super::rate::RateGate;
use super::retry::is_relay_fault;
use super::secrets::Secret;
use super::transport::{Accepted, Failure, Smtp, Transport};
use crate::types::Relay;

/// Failures in a row after which a relay leaves the rotation.
const FAILURES_TO_REST: u32 = 3;

/// What the pool needs to know of one relay.
pub struct Route {
    pub relay: Relay,
    pub password: Option<Secret>,
    pub ca: Option<Vec<u8>>,
    pub weight: u32,
    pub connections: u32,
    pub gate: Option<RateGate>,
}

struct State {
    route: Route,
    in_use: AtomicU32,
    sent: AtomicU64,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    failures_in_a_row: u32,
    resting_until: Option<Instant>,
}

/// The relays and what they are doing, shared by every worker.
pub struct Pool {
    states: Vec<State>,
    cooldown: Duration,
    timeout: Duration,
    /// The global pace: a message offered to a second relay is a second message on the wire.
    global: Arc<RateGate>,
}

impl Pool {
    pub fn new(routes: Vec<Route>, cooldown: Duration, timeout: Duration, global: Arc<RateGate>) -> Arc<Pool> {
        let states = routes
            .into_iter()
            .map(|route| State {
                route,
                in_use: AtomicU32::new(0),
                sent: AtomicU64::new(0),
                health: Mutex::new(Health::default()),
            })
            .collect();
        Arc::new(Pool {
            states,
            cooldown,
            timeout,
            global,
        })
    }

    /// Messages each relay accepted so far, in the order of the settings.
    pub fn sent(&self) -> Vec<u64> {
        self.states.iter().map(|s| s.sent.load(Ordering::SeqCst)).collect()
    }

    fn in_rotation(&self, i: usize, now: Instant) -> bool {
        let health = self.states[i].health.lock().unwrap_or_else(|p| p.into_inner());
        health.resting_until.is_none_or(|until| until <= now)
    }

    /// The relay to use next, with a connection and a pace permit taken; `None` when every
    /// relay not yet `tried` is out of rotation. Waits while the candidates are only busy or
    /// at their pace.
    fn pick(&self, tried: &[bool]) -> Option<usize> {
        loop {
            let now = Instant::now();
            let mut candidates: Vec<usize> = (0..self.states.len())
                .filter(|&i| !tried[i] && self.in_rotation(i, now))
                .collect();
            if candidates.is_empty() {
                return None;
            }
            // Furthest behind its share first.
            candidates.sort_by(|&a, &b| {
                let share = |i: usize| {
                    let s = &self.states[i];
                    (s.sent.load(Ordering::SeqCst) + u64::from(s.in_use.load(Ordering::SeqCst))) as f64
                        / f64::from(s.route.weight.max(1))
                };
                share(a).total_cmp(&share(b)).then(a.cmp(&b))
            });
            let mut wait = Duration::from_millis(5);
            for i in candidates {
                let s = &self.states[i];
                let taken = s
                    .in_use
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < s.route.connections).then_some(n + 1)
                    })
                    .is_ok();
                if !taken {
                    // Busy, not at a limit: wait for it rather than give its share to a
                    // relay already ahead of its own.
                    wait = Duration::from_millis(1);
                    break;
                }
                match s.route.gate.as_ref().map_or(Ok(()), RateGate::try_acquire) {
                    Ok(()) => return Some(i),
                    // At its own pace: its messages overflow to the next relay.
                    Err(until) => {
                        s.in_use.fetch_sub(1, Ordering::SeqCst);
                        wait = wait.min(until.max(Duration::from_millis(1)));
                    }
                }
            }
            std::thread::sleep(wait);
        }
    }

    fn done(&self, i: usize, outcome: &Result<Accepted, Failure>) {
        let s = &self.states[i];
        s.in_use.fetch_sub(1, Ordering::SeqCst);
        let mut health = s.health.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(_) => {
                s.sent.fetch_add(1, Ordering::SeqCst);
                *health = Health::default();
            }
            // The recipient's problem, not the relay's: a refusal, a full mailbox.
            Err(failure) if !is_relay_fault(failure) => {}
            Err(failure) => {
                health.failures_in_a_row += 1;
                if health.failures_in_a_row >= FAILURES_TO_REST {
                    health.failures_in_a_row = 0;
                    health.resting_until = Some(Instant::now() + self.cooldown);
                    tracing::warn!(
                        "relay {} leaves the rotation for {} s after {FAILURES_TO_REST} failures in a row (last: {})",
                        s.route.relay,
                        self.cooldown.as_secs(),
                        match failure {
                            Failure::Temporary { reply, .. }
                            | Failure::Connection { reply }
                            | Failure::Local { reply } => {
                                reply.as_str()
                            }
                            Failure::Permanent { reply, .. } => reply.as_str(),
                        }
                    );
                }
            }
        }
    }
}

/// One worker's transport over the pool: a connection per relay, opened when first used.
pub struct Multi {
    pool: Arc<Pool>,
    connections: Vec<Option<Smtp>>,
}

impl Multi {
    pub fn new(pool: Arc<Pool>) -> Multi {
        let connections = pool.states.iter().map(|_| None).collect();
        Multi { pool, connections }
    }
}

impl Transport for Multi {
    fn send(&mut self, envelope: &Envelope, message: &[u8], folder: &str) -> Result<Accepted, Failure> {
        let mut tried = vec![false; self.pool.states.len()];
        let mut last = None;
        while let Some(i) = self.pool.pick(&tried) {
            // The first attempt's global permit was taken by the caller.
            if tried.iter().any(|t| *t) {
                self.pool.global.acquire();
            }
            tried[i] = true;
            let route = &self.pool.states[i].route;
            let timeout = self.pool.timeout;
            let connection = self.connections[i].get_or_insert_with(|| {
                Smtp::new(route.relay.clone(), route.password.clone(), route.ca.clone(), timeout)
            });
            let outcome = connection.send(envelope, message, folder);
            self.pool.done(i, &outcome);
            match outcome {
                Ok(accepted) => return Ok(accepted),
                // Another relay would hear the same about this recipient.
                Err(failure) if !is_relay_fault(&failure) => return Err(failure),
                Err(other) => {
                    tracing::debug!("relay {} failed, trying another: {other:?}", route.relay);
                    last = Some(other);
                }
            }
        }
        Err(last.unwrap_or(Failure::Connection {
            reply: "every relay is out of rotation for now".into(),
        }))
    }
}
