//! Request rate limits, per client address and per kind of route: each client has its own
//! budget, so one client's flood does not refuse everyone else; and unsubscribes have a
//! budget of their own, so a client reading (or flooding) the archive never uses up its
//! unsubscribes (a mail provider's one-click POSTs come from a few addresses that also fetch
//! pages).
//!
//! Behind a reverse proxy every request comes from the proxy's address: the proxy must then
//! limit per client itself. Owns the limiters only; it must not look at what is asked for
//! beyond the route's kind.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The budgets a request can be counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `/unsubscribe/…`
    Unsubscribe,
    /// Everything else: the archive, the preview.
    Pages,
}

impl Budget {
    pub fn of(path: &str) -> Budget {
        if path.starts_with("/unsubscribe/") {
            Budget::Unsubscribe
        } else {
            Budget::Pages
        }
    }
}

pub struct Limits {
    pages: DefaultKeyedRateLimiter<IpAddr>,
    unsubscribe: DefaultKeyedRateLimiter<IpAddr>,
}

impl Limits {
    /// `per_second` requests a second per client, for each budget; the burst is the same
    /// number, so a client may spend a second's budget at once.
    pub fn new(per_second: u32) -> Limits {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Limits {
            pages: RateLimiter::keyed(Quota::per_second(rate)),
            unsubscribe: RateLimiter::keyed(Quota::per_second(rate)),
        }
    }

    /// Whether `client` may make one more request of `budget` now.
    pub fn allow(&self, client: IpAddr, budget: Budget) -> bool {
        let limiter = match budget {
            Budget::Unsubscribe => &self.unsubscribe,
            Budget::Pages => &self.pages,
        };
        limiter.check_key(&client).is_ok()
    }

    /// Forgets clients whose budget is full again, so that memory follows the clients of the
    /// last moments rather than every address ever seen.
    pub fn forget_idle(&self) {
        self.pages.retain_recent();
        self.unsubscribe.retain_recent();
        self.pages.shrink_to_fit();
        self.unsubscribe.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_and_each_budget_is_counted_apart() {
        let limits = Limits::new(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let allowed = (0..10).filter(|_| limits.allow(a, Budget::Pages)).count();
        assert_eq!(allowed, 3);
        assert!(
            limits.allow(a, Budget::Unsubscribe),
            "pages used up the unsubscribe budget"
        );
        assert!(limits.allow(b, Budget::Pages), "one client used up another's budget");
        assert_eq!(Budget::of("/unsubscribe/abc"), Budget::Unsubscribe);
        assert_eq!(Budget::of("/archive/feed.xml"), Budget::Pages);
    }
}
