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
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

type Limiter<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

pub use crate::types::Pace;

/// At most `limit` sends in any window of `length`.
struct Window<I> {
    limit: usize,
    length: Duration,
    sent: std::collections::VecDeque<I>,
}

/// The shared gate every worker passes before each message.
pub struct RateGate<C: Clock + Clone = MonotonicClock> {
    clock: C,
    limiters: Vec<Limiter<C>>,
    /// The hour and day quotas, as sliding windows of send times: governor's bucket would let
    /// a full quota go at once and then keep the pace, almost twice the quota in one window.
    windows: Mutex<Vec<Window<C::Instant>>>,
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
        let limiters = vec![RateLimiter::direct_with_clock(
            Quota::with_period(Duration::from_secs(1) / pace.per_second.get())
                .unwrap_or_else(|| Quota::per_second(pace.per_second))
                .allow_burst(bucket),
            clock.clone(),
        )];
        let windows = [(pace.per_hour, 3_600), (pace.per_day, 86_400)]
            .into_iter()
            .filter_map(|(limit, seconds)| {
                limit.map(|limit| Window {
                    limit: limit.get() as usize,
                    length: Duration::from_secs(seconds),
                    sent: std::collections::VecDeque::new(),
                })
            })
            .collect();
        RateGate {
            clock,
            limiters,
            windows: Mutex::new(windows),
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
        // Quotas first, so that a refusal there does not spend a per-second permit.
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        for w in windows.iter_mut() {
            let length = Nanos::from(w.length);
            while w.sent.front().is_some_and(|first| now.duration_since(*first) >= length) {
                w.sent.pop_front();
            }
            if w.sent.len() >= w.limit {
                let first = w.sent.front().copied().unwrap_or(now);
                return Err(Duration::from(length) - Duration::from(now.duration_since(first)));
            }
        }
        for limiter in &self.limiters {
            if let Err(not_until) = limiter.check() {
                return Err(not_until.wait_time_from(now));
            }
        }
        for w in windows.iter_mut() {
            w.sent.push_back(now);
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// At most how many of `sent` (sorted times) fall in one window `[t, t + window)`.
        fn max_in_window(sent: &[Duration], window: Duration) -> usize {
            let mut most = 0;
            let mut start = 0;
            for end in 0..sent.len() {
                while sent[end] >= sent[start] + window {
                    start += 1;
                }
                most = most.max(end - start + 1);
            }
            most
        }

        fn pace() -> impl Strategy<Value = Pace> {
            (1u32..200, prop::option::of(1u32..30)).prop_map(|(rate, burst)| Pace {
                burst: burst.map_or(Pace::new(n(rate)).burst, n),
                ..Pace::new(n(rate))
            })
        }

        /// What a worker does: try at `now`; record a send, or learn how long to wait.
        struct Driver {
            clock: FakeRelativeClock,
            gate: RateGate<FakeRelativeClock>,
            now: Duration,
            sent: Vec<Duration>,
        }

        impl Driver {
            fn new(pace: Pace) -> Driver {
                let clock = FakeRelativeClock::default();
                Driver {
                    gate: RateGate::fake(pace, clock.clone()),
                    clock,
                    now: Duration::ZERO,
                    sent: Vec::new(),
                }
            }

            fn advance(&mut self, by: Duration) {
                self.clock.advance(by);
                self.now += by;
            }

            fn try_send(&mut self) -> Result<(), Duration> {
                let result = self.gate.try_acquire();
                if result.is_ok() {
                    self.sent.push(self.now);
                }
                result
            }

            /// Sends whenever allowed for `span`, never late: after a refusal it sleeps the
            /// advised wait or less (a worker woken early), after a send it tries again at once.
            fn eager(&mut self, span: Duration, early: &[u64]) {
                let end = self.now + span;
                let mut steps = 0usize;
                while self.now < end {
                    steps += 1;
                    assert!(steps < 1_000_000, "the gate keeps refusing without advising a wait");
                    if let Err(wait) = self.try_send() {
                        assert!(wait > Duration::ZERO, "refused, with nothing to wait");
                        let cut = early.get(steps % early.len().max(1)).copied().unwrap_or(0);
                        let wait = wait
                            .saturating_sub(wait * (cut % 4) as u32 / 4)
                            .max(Duration::from_micros(1));
                        self.advance(wait.min(end - self.now));
                    }
                }
            }
        }

        proptest! {
            /// However workers poll (any gaps, several tries at one instant, throttles), no
            /// 1-second window holds more than rate + burst sends.
            #[test]
            fn no_second_holds_more_than_rate_plus_burst(
                pace in pace(),
                attempts in prop::collection::vec((0u64..400_000, 1usize..4, prop::bool::weighted(0.02)), 1..400),
            ) {
                let mut d = Driver::new(pace);
                for (gap_us, tries, throttle) in attempts {
                    d.advance(Duration::from_micros(gap_us));
                    if throttle {
                        d.gate.throttle(Duration::from_millis(gap_us % 1000));
                    }
                    for _ in 0..tries {
                        let _ = d.try_send();
                    }
                }
                let limit = (pace.per_second.get() + pace.burst.get()) as usize;
                prop_assert!(max_in_window(&d.sent, Duration::from_secs(1)) <= limit);
            }

            /// A worker that always comes back when told keeps up the rate: over `s` seconds it
            /// sends at least rate × s − burst, and never more than rate × s + burst.
            #[test]
            fn an_eager_sender_keeps_up_the_rate(pace in pace(), seconds in 1u64..6, early in prop::collection::vec(any::<u64>(), 1..8)) {
                let mut d = Driver::new(pace);
                d.eager(Duration::from_secs(seconds), &early);
                let (rate, burst) = (u64::from(pace.per_second.get()), u64::from(pace.burst.get()));
                let sent = d.sent.len() as u64;
                prop_assert!(sent + burst >= rate * seconds, "{} sent in {} s at {:?}", sent, seconds, pace);
                prop_assert!(sent <= rate * seconds + burst, "{} sent in {} s at {:?}", sent, seconds, pace);
                prop_assert!(max_in_window(&d.sent, Duration::from_secs(1)) <= (rate + burst) as usize);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(32))]

            /// A per-hour quota of h: over the run, no window of one hour holds more than h
            /// sends, however eagerly the workers try.
            #[test]
            fn no_hour_holds_more_than_the_hourly_quota(rate in 1u32..100, per_hour in 1u32..60, hours in 1u64..3) {
                let pace = Pace { per_hour: Some(n(per_hour)), ..Pace::new(n(rate)) };
                let mut d = Driver::new(pace);
                d.eager(Duration::from_secs(3600 * hours), &[0]);
                let most = max_in_window(&d.sent, Duration::from_secs(3600));
                prop_assert!(most <= per_hour as usize, "{} sends in one hour with per_hour = {}", most, per_hour);
            }

            /// What the hourly quota does hold to: the quota goes at most at once, then one
            /// every 3600/h s, so the first 3600/h seconds hold h, and the total after t seconds
            /// is at most h + t·h/3600.
            #[test]
            fn an_hourly_quota_bounds_the_pace(rate in 1u32..100, per_hour in 1u32..60, seconds in 1u64..7200) {
                let pace = Pace { per_hour: Some(n(per_hour)), ..Pace::new(n(rate)) };
                let mut d = Driver::new(pace);
                d.eager(Duration::from_secs(seconds), &[0]);
                let h = u64::from(per_hour);
                prop_assert!(d.sent.len() as u64 <= h + seconds * h / 3600, "{} in {} s with per_hour = {}", d.sent.len(), seconds, h);
                prop_assert!(max_in_window(&d.sent, Duration::from_secs(1)) <= (rate + pace.burst.get()) as usize);
            }
        }
    }
}
