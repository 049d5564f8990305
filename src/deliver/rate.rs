//! One global pace for all connections: a `governor` limiter (messages per second with a
//! burst, optional per-hour and per-day quotas) shared by every worker, plus a throttle that
//! pauses everyone when the server says it is overloaded.
//!
//! The clock is injected: production uses governor's `MonotonicClock` (std's `Instant`; the
//! default TSC clock has a known non-monotonic bug), tests a `FakeRelativeClock` they advance.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::{Clock, FakeRelativeClock, MonotonicClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

type Limiter<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The limits, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub per_second: NonZeroU32,
    /// How many messages may go at once after a quiet spell; at most a tenth of the rate by
    /// default, so no 1-second window holds more than `per_second + burst`.
    pub burst: NonZeroU32,
    pub per_hour: Option<NonZeroU32>,
    pub per_day: Option<NonZeroU32>,
}

impl Pace {
    pub fn new(per_second: NonZeroU32) -> Pace {
        let burst = NonZeroU32::new((per_second.get() / 10).max(1)).unwrap_or(NonZeroU32::MIN);
        Pace {
            per_second,
            burst,
            per_hour: None,
            per_day: None,
        }
    }
}

/// The shared gate every worker passes before each message.
pub struct RateGate<C: Clock + Clone = MonotonicClock> {
    clock: C,
    limiters: Vec<Limiter<C>>,
    /// While throttled, nobody sends before this instant.
    paused_until: Mutex<Option<C::Instant>>,
}

impl RateGate<MonotonicClock> {
    pub fn new(pace: Pace) -> Self {
        RateGate::with_clock(pace, MonotonicClock)
    }
}

impl RateGate<FakeRelativeClock> {
    pub fn fake(pace: Pace, clock: FakeRelativeClock) -> Self {
        RateGate::with_clock(pace, clock)
    }
}

impl<C: Clock + Clone> RateGate<C> {
    pub fn with_clock(pace: Pace, clock: C) -> Self {
        // Governor's burst is the bucket size; a per-second quota with bucket B lets B go at
        // once and then one every 1/rate, so a 1-second window holds at most rate + B. The
        // bucket is one smaller than the burst: the server, not the sender, counts the window,
        // and a message released early in it can arrive later than one released at its end.
        // That message of headroom keeps what the server sees within rate + burst.
        let bucket = NonZeroU32::new(pace.burst.get() - 1).unwrap_or(NonZeroU32::MIN);
        let mut limiters = vec![RateLimiter::direct_with_clock(
            Quota::with_period(Duration::from_secs(1) / pace.per_second.get())
                .unwrap_or_else(|| Quota::per_second(pace.per_second))
                .allow_burst(bucket),
            clock.clone(),
        )];
        if let Some(h) = pace.per_hour {
            limiters.push(RateLimiter::direct_with_clock(Quota::per_hour(h), clock.clone()));
        }
        if let Some(d) = pace.per_day {
            limiters.push(RateLimiter::direct_with_clock(
                Quota::with_period(Duration::from_secs(86_400) / d.get())
                    .unwrap_or(Quota::per_hour(d))
                    .allow_burst(d),
                clock.clone(),
            ));
        }
        RateGate {
            clock,
            limiters,
            paused_until: Mutex::new(None),
        }
    }

    /// Takes one permit now, or says how long to wait before asking again.
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Some(until) = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) {
            if until > now {
                return Err(until.duration_since(now).into());
            }
        }
        for limiter in &self.limiters {
            if let Err(not_until) = limiter.check() {
                return Err(not_until.wait_time_from(now));
            }
        }
        Ok(())
    }

    /// Blocks the calling worker until it may send one message.
    pub fn acquire(&self) {
        while let Err(wait) = self.try_acquire() {
            std::thread::sleep(wait.max(Duration::from_micros(200)));
        }
    }

    /// The server signalled overload (421, 450, 451, 452, 454): every worker holds back for
    /// `pause`, which lowers the pace until the server recovers.
    pub fn throttle(&self, pause: Duration) {
        let until = self.clock.now() + pause.into();
        let mut slot = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none_or(|current| current < until) {
            *slot = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    /// Drives the gate with a fake clock in 1 ms steps for `seconds`, always trying to send,
    /// and returns the send times in ms.
    fn run(pace: Pace, seconds: u64, throttle_at: Option<u64>) -> Vec<u64> {
        let clock = FakeRelativeClock::default();
        let gate = RateGate::fake(pace, clock.clone());
        let mut sent = Vec::new();
        for ms in 0..seconds * 1000 {
            if Some(ms) == throttle_at {
                gate.throttle(Duration::from_millis(500));
            }
            while gate.try_acquire().is_ok() {
                sent.push(ms);
            }
            clock.advance(Duration::from_millis(1));
        }
        sent
    }

    fn max_in_any_window(sent: &[u64], window_ms: u64) -> usize {
        (0..sent.len())
            .map(|i| sent[i..].iter().take_while(|&&t| t < sent[i] + window_ms).count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn no_one_second_window_holds_more_than_rate_plus_burst() {
        for (rate, burst) in [(10, 1), (100, 10), (50, 5), (7, 1)] {
            let pace = Pace {
                burst: n(burst),
                ..Pace::new(n(rate))
            };
            let sent = run(pace, 5, None);
            // One message of headroom below rate + burst, for the network's jitter.
            assert!(
                max_in_any_window(&sent, 1000) < (rate + burst.max(2)) as usize,
                "rate {rate} burst {burst}"
            );
            // And it does keep up the rate: about rate per second over 5 s.
            assert!(
                sent.len() as u32 >= rate * 5 - 1,
                "rate {rate}: only {} in 5 s",
                sent.len()
            );
        }
    }

    #[test]
    fn the_default_burst_is_a_tenth_of_the_rate() {
        assert_eq!(Pace::new(n(100)).burst, n(10));
        assert_eq!(Pace::new(n(5)).burst, n(1));
    }

    #[test]
    fn a_throttle_pauses_everyone_then_the_pace_recovers() {
        let pace = Pace::new(n(100));
        let sent = run(pace, 3, Some(1000));
        assert!(!sent.iter().any(|&t| (1000..1500).contains(&t)), "sent while throttled");
        assert!(
            sent.iter().filter(|&&t| t >= 2000).count() >= 95,
            "the pace did not recover"
        );
    }

    #[test]
    fn an_hourly_quota_caps_the_total() {
        let pace = Pace {
            per_hour: Some(n(30)),
            ..Pace::new(n(100))
        };
        assert_eq!(run(pace, 3, None).len(), 30);
    }
}
