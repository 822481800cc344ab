//! Write limits per user: a token bucket each, refilled at the configured writes per minute
//! and holding at most a minute's worth, so a burst (a stocktake, a morning's call log) goes
//! through and a script hammering the API is stopped. Schools get far fewer writes than
//! staff. The limits are settings; 0 means no limit. The buckets are per node — with N nodes
//! a user can write N times the limit, which still bounds the damage a token can do.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::{FieldErrors, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Instant;

pub const SCHOOL_KEY: &str = "write_limit_school_per_minute";
pub const STAFF_KEY: &str = "write_limit_staff_per_minute";
/// A school reports a fault, adds photos, rates a repair: a few writes a minute at most.
pub const DEFAULT_SCHOOL_PER_MINUTE: u32 = 30;
/// An agent logging calls all day, a storekeeper counting stock: far below this.
pub const DEFAULT_STAFF_PER_MINUTE: u32 = 600;
pub const MAX_PER_MINUTE: u32 = 1_000_000;
/// Beyond this many buckets the full ones (idle users) are dropped.
const MAX_BUCKETS: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WriteLimits {
    /// Writes per minute for a school's user (0: no limit).
    pub school_per_minute: u32,
    /// Writes per minute for any staff user (0: no limit).
    pub staff_per_minute: u32,
}

impl Default for WriteLimits {
    fn default() -> Self {
        WriteLimits { school_per_minute: DEFAULT_SCHOOL_PER_MINUTE, staff_per_minute: DEFAULT_STAFF_PER_MINUTE }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of this node.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    buckets: std::sync::Mutex<HashMap<i64, Bucket>>,
}

impl Limiter {
    /// Takes one write from `user`'s bucket, or says in how many seconds one is back.
    fn take(&self, user: i64, per_minute: u32, now: Instant) -> std::result::Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let Ok(mut map) = self.buckets.lock() else { return Ok(()) };
        let cap = f64::from(per_minute);
        let rate = cap / 60.0;
        if map.len() >= MAX_BUCKETS {
            map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < cap);
        }
        let b = map.entry(user).or_insert(Bucket { tokens: cap, at: now });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

fn parse(v: Option<String>, default: u32) -> u32 {
    v.and_then(|s| s.parse().ok()).unwrap_or(default)
}

impl Services {
    /// The configured limits (cached for a few seconds like the other settings).
    pub async fn write_limits(&self) -> Result<WriteLimits> {
        if let Some(l) = self.caches.limits() {
            return Ok(l);
        }
        let school = aftercare_store::settings::setting(&self.db, SCHOOL_KEY).await?;
        let staff = aftercare_store::settings::setting(&self.db, STAFF_KEY).await?;
        let l = WriteLimits {
            school_per_minute: parse(school, DEFAULT_SCHOOL_PER_MINUTE),
            staff_per_minute: parse(staff, DEFAULT_STAFF_PER_MINUTE),
        };
        self.caches.put_limits(l);
        Ok(l)
    }

    /// Changes the limits (manager, admin); audited.
    pub async fn set_write_limits(&self, by: &Actor, l: &WriteLimits) -> Result<WriteLimits> {
        require(by.is_admin_or_manager())?;
        let mut e = FieldErrors::default();
        for (field, v) in [("school_per_minute", l.school_per_minute), ("staff_per_minute", l.staff_per_minute)] {
            if v > MAX_PER_MINUTE {
                e.push(field, "out_of_range");
            }
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let w = self.writer(by);
        aftercare_store::settings::set_setting(&self.db, &w, SCHOOL_KEY, &l.school_per_minute.to_string()).await?;
        aftercare_store::settings::set_setting(&self.db, &w, STAFF_KEY, &l.staff_per_minute.to_string()).await?;
        self.caches.forget_limits();
        Ok(*l)
    }

    /// Counts one write by `by`: `RateLimited` with the seconds to wait when over its limit.
    pub async fn count_write(&self, by: &Actor) -> Result<()> {
        let l = self.write_limits().await?;
        let per_minute =
            if by.has(Role::Customer) && !by.is_staff() { l.school_per_minute } else { l.staff_per_minute };
        self.limiter
            .take(by.id.0, per_minute, Instant::now())
            .map_err(|retry_after| ServiceError::RateLimited { retry_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_of_a_minutes_worth_then_the_steady_rate() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..30 {
            assert_eq!(l.take(1, 30, t0), Ok(()));
        }
        assert_eq!(l.take(1, 30, t0), Err(2), "one write every two seconds");
        assert_eq!(l.take(2, 30, t0), Ok(()), "another user has his own bucket");
        assert_eq!(l.take(1, 30, t0 + Duration::from_secs(2)), Ok(()));
        assert!(l.take(1, 30, t0 + Duration::from_secs(2)).is_err());
        assert_eq!(l.take(1, 0, t0), Ok(()), "0 is no limit");
    }
}
