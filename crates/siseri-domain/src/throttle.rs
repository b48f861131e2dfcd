//! Slowing down password guessing on one account (`access.md`, Authentication; OWASP ASVS
//! 2.2.1) without handing anyone a way to lock its owner out.
//!
//! Only failures count. A failure more than [`WINDOW_MINUTES`] after the previous one (or
//! after the end of the delay it set) starts the count again.
//! From the [`FREE_FAILURES`]th failure on, the next attempt on the account, from anywhere,
//! must wait a delay that doubles with each further failure, from one minute up to
//! [`MAX_DELAY_MINUTES`]. An attempt made during the delay is refused unchecked and does not
//! count: hammering the account does not push the delay further, so its owner waits at most
//! one delay after the attacker's last real attempt.

use chrono::{DateTime, Duration, Utc};

/// Failures allowed within the window before attempts are slowed.
pub const FREE_FAILURES: i64 = 5;
/// Failures further apart than this start the count again.
pub const WINDOW_MINUTES: i64 = 15;
/// The longest delay between two attempts on a slowed account.
pub const MAX_DELAY_MINUTES: i64 = 15;
/// The owner is told by e-mail at most once per this many hours.
pub const NOTICE_EVERY_HOURS: i64 = 24;

/// The throttle state of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountThrottle {
    /// Failures counted in the current run.
    pub failures: i64,
    /// The last failure.
    pub last_failure_at: DateTime<Utc>,
    /// No attempt is checked before then (none: not slowed).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the owner was last told that his account is being guessed.
    pub notified_at: Option<DateTime<Utc>>,
}

/// The delay after the `failures`th failure of a run: none before [`FREE_FAILURES`], then
/// 1, 2, 4, 8 minutes, then [`MAX_DELAY_MINUTES`].
pub fn delay_after(failures: i64) -> Option<Duration> {
    let beyond = failures.checked_sub(FREE_FAILURES).filter(|b| *b >= 0)?;
    let minutes = 1i64
        .checked_shl(u32::try_from(beyond.min(8)).unwrap_or(8))
        .unwrap_or(MAX_DELAY_MINUTES)
        .min(MAX_DELAY_MINUTES);
    Some(Duration::minutes(minutes))
}

impl AccountThrottle {
    /// Whether an attempt at `at` comes before the delay is over (refused unchecked).
    pub fn slowed_at(&self, at: DateTime<Utc>) -> bool {
        self.next_attempt_at.is_some_and(|n| at < n)
    }

    /// The state after a failure at `at`, from the previous one.
    pub fn after_failure(previous: Option<&AccountThrottle>, at: DateTime<Utc>) -> Self {
        // A run ends after a quiet window counted from when the account could be tried
        // again: an attacker who waits out each delay keeps his run (and its delay).
        let failures = match previous {
            Some(p)
                if at
                    - p.next_attempt_at
                        .unwrap_or(p.last_failure_at)
                        .max(p.last_failure_at)
                    <= Duration::minutes(WINDOW_MINUTES) =>
            {
                p.failures.saturating_add(1)
            }
            _ => 1,
        };
        AccountThrottle {
            failures,
            last_failure_at: at,
            next_attempt_at: delay_after(failures).map(|d| at + d),
            notified_at: previous.and_then(|p| p.notified_at),
        }
    }

    /// Whether the owner must be told now: the account is slowed and he was not told in the
    /// last [`NOTICE_EVERY_HOURS`] hours.
    pub fn owner_to_be_told(&self, at: DateTime<Utc>) -> bool {
        self.failures >= FREE_FAILURES
            && self
                .notified_at
                .is_none_or(|n| at - n >= Duration::hours(NOTICE_EVERY_HOURS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn delays_grow_from_the_fifth_failure_up_to_fifteen_minutes() {
        let delays: Vec<Option<i64>> = (1..=11)
            .map(|n| delay_after(n).map(|d| d.num_minutes()))
            .collect();
        assert_eq!(
            delays,
            [
                None,
                None,
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(15),
                Some(15),
                Some(15)
            ]
        );
        assert_eq!(delay_after(i64::MAX), Some(Duration::minutes(15)));
    }

    #[test]
    fn failures_within_the_window_add_up_and_slow_the_account() {
        let mut state: Option<AccountThrottle> = None;
        for minute in 0..5 {
            let next = AccountThrottle::after_failure(state.as_ref(), at(minute));
            state = Some(next);
        }
        let s = state.unwrap_or_else(|| panic!("state"));
        assert_eq!(s.failures, 5);
        assert!(s.slowed_at(at(4)) && !s.slowed_at(at(5)));
        assert!(s.owner_to_be_told(at(4)));
        // Told once a day at most.
        let told = AccountThrottle {
            notified_at: Some(at(4)),
            ..s
        };
        assert!(!told.owner_to_be_told(at(60)));
        assert!(told.owner_to_be_told(at(4 + 24 * 60)));
        // Waiting out the delay keeps the run…
        let kept = AccountThrottle::after_failure(Some(&s), at(5 + 15));
        assert_eq!(kept.failures, 6);
        // …a quiet quarter of an hour after it starts again.
        let fresh = AccountThrottle::after_failure(Some(&s), at(5 + 16));
        assert_eq!((fresh.failures, fresh.next_attempt_at), (1, None));
        assert_eq!(fresh.notified_at, None);
        assert!(!AccountThrottle::after_failure(None, at(0)).owner_to_be_told(at(0)));
    }
}
