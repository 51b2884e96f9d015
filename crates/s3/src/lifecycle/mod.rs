//! S3 Lifecycle: the configuration ([`config`]), when a rule is due (the
//! [`Clock`], with AWS's rounding to the next midnight UTC), the
//! `x-amz-expiration` answer, and the background worker ([`worker`]).
//!
//! S3 User Guide, "Lifecycle configuration elements"
//! (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html):
//! "Amazon S3 calculates the time by adding the number of days specified in the
//! rule to the object creation time and rounding the resulting time to the next
//! day midnight UTC"; for noncurrent versions the days count from the time the
//! version became noncurrent (its successor's creation); incomplete uploads from
//! their initiation.

pub mod config;
pub mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

pub use config::{LifecycleConfig, Rule};

/// Milliseconds in a real day.
const DAY_MS: i64 = 86_400_000;
/// Cached configurations kept at most (the cache is emptied when full).
const MAX_CACHED: usize = 4096;

/// What a lifecycle "day" is. AWS's is 86,400 s; tests scale it down
/// (`serve --lifecycle-day-seconds`) so that rules come due in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    day_ms: i64,
}

impl Default for Clock {
    fn default() -> Clock {
        Clock { day_ms: DAY_MS }
    }
}

impl Clock {
    /// A clock whose day lasts `seconds` (at least one).
    pub fn with_day_seconds(seconds: u64) -> Clock {
        let ms = i64::try_from(seconds.max(1).saturating_mul(1000)).unwrap_or(DAY_MS);
        Clock { day_ms: ms }
    }

    /// `start` plus `days`, rounded up to the next (scaled) midnight UTC.
    pub fn after_days(&self, start: Timestamp, days: u32) -> Timestamp {
        let end = start
            .as_millisecond()
            .saturating_add(i64::from(days).saturating_mul(self.day_ms));
        let midnight = (end.div_euclid(self.day_ms) + 1).saturating_mul(self.day_ms);
        Timestamp::from_millisecond(midnight).unwrap_or(Timestamp::MAX)
    }
}

impl LifecycleConfig {
    /// When the current version described by (`key`, `size`, `tags`, created
    /// `created`) expires, and by which rule: the earliest Expiration (Days or
    /// Date) of the enabled rules that match it.
    pub fn current_expiry(
        &self,
        clock: &Clock,
        key: &str,
        size: u64,
        tags: &[(String, String)],
        created: Timestamp,
    ) -> Option<(Timestamp, &Rule)> {
        self.rules
            .iter()
            .filter(|r| r.enabled && r.filter.matches(key, size, tags))
            .filter_map(|r| {
                let e = r.expiration.as_ref()?;
                let due = match (e.days, e.date_ms) {
                    (Some(days), _) => clock.after_days(created, days),
                    (None, Some(ms)) => Timestamp::from_millisecond(ms).ok()?,
                    (None, None) => return None,
                };
                Some((due, r))
            })
            .min_by_key(|(due, _)| *due)
    }
}

/// The `x-amz-expiration` value S3 sends for an object a rule will expire:
/// `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`
/// (API Reference, GetObject / HeadObject / PutObject response headers).
pub fn expiration_header(due: Timestamp, rule: &Rule) -> String {
    format!(
        "expiry-date=\"{}\", rule-id=\"{}\"",
        crate::dates::http_date(due),
        rule.id.replace(['"', '\\'], "")
    )
}

/// A bucket incarnation (name, creation ms) → its configuration, if any.
type ConfigCache = HashMap<(String, i64), Option<Arc<LifecycleConfig>>>;

/// The service's lifecycle state: the clock, and the parsed configurations of
/// recently used buckets (so GET/HEAD/PUT do not parse JSON for `x-amz-expiration`).
#[derive(Default)]
pub struct Lifecycle {
    pub clock: Clock,
    cache: Mutex<ConfigCache>,
}

impl Lifecycle {
    pub fn new(clock: Clock) -> Lifecycle {
        Lifecycle {
            clock,
            cache: Mutex::default(),
        }
    }

    /// The cached configuration of a bucket incarnation, when known.
    pub(crate) fn cached(
        &self,
        bucket: &str,
        created: Timestamp,
    ) -> Option<Option<Arc<LifecycleConfig>>> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(&(bucket.to_string(), created.as_millisecond()))
            .cloned()
    }

    pub(crate) fn remember(
        &self,
        bucket: &str,
        created: Timestamp,
        config: Option<Arc<LifecycleConfig>>,
    ) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert((bucket.to_string(), created.as_millisecond()), config);
        }
    }

    /// Forgets a bucket's configuration (after Put/DeleteBucketLifecycle).
    pub(crate) fn forget(&self, bucket: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|(b, _), _| b != bucket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn days_round_up_to_the_next_midnight_utc() {
        // The User Guide's example: created 2014-01-15 10:30 UTC, 3 days → 2014-01-19 00:00 UTC.
        let c = Clock::default();
        assert_eq!(
            c.after_days(at("2014-01-15T10:30:00Z"), 3),
            at("2014-01-19T00:00:00Z")
        );
        // A scaled day of 10 s: 7 s + 2 days = 27 s → 30 s.
        let c = Clock::with_day_seconds(10);
        assert_eq!(
            c.after_days(Timestamp::from_second(7).unwrap(), 2),
            Timestamp::from_second(30).unwrap()
        );
    }
}
