//! Short-lived per-node memory of hot reads: who a bearer token or cookie belongs to, and
//! the SLA policies. Every request used to read these from the database, which was most of
//! the cost of a ticket create. Changes made on this node clear the entry at once; a change
//! made on another node is seen here within [`TTL`].

use crate::Actor;
use aftercare_domain::contacts::WorkingHours;
use aftercare_store::sla::SlaRow;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cached read is trusted.
pub const TTL: Duration = Duration::from_secs(3);
/// Beyond this many cached sessions the expired ones are swept, then all if still too many.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct CachedSession {
    pub actor: Actor,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    fetched: Instant,
}

type Timed<T> = Arc<Mutex<Option<(Instant, T)>>>;

#[derive(Debug, Default, Clone)]
pub(crate) struct Caches {
    sessions: Arc<Mutex<HashMap<String, CachedSession>>>,
    /// Active users by username (a PBX names the agent of every call).
    users: Arc<Mutex<HashMap<String, (Instant, Actor)>>>,
    sla: Timed<Vec<SlaRow>>,
    /// The desk's working hours, missed-call callback minutes and SLA calendar (read on every
    /// call event and every new ticket).
    hours: Timed<(WorkingHours, i64, bool)>,
    /// The write limits per minute (read on every write).
    limits: Timed<crate::rate::WriteLimits>,
}

impl Caches {
    /// The session behind a token hash, if read within the TTL and not expired.
    pub fn session(&self, hash: &str, now: DateTime<Utc>) -> Option<CachedSession> {
        let map = self.sessions.lock().ok()?;
        map.get(hash).filter(|s| s.fetched.elapsed() < TTL && s.expires_at > now).cloned()
    }

    pub fn put_session(&self, hash: &str, actor: Actor, csrf: String, expires_at: DateTime<Utc>) {
        let Ok(mut map) = self.sessions.lock() else { return };
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.fetched.elapsed() < TTL);
            if map.len() >= MAX_SESSIONS {
                map.clear();
            }
        }
        map.insert(hash.to_owned(), CachedSession { actor, csrf, expires_at, fetched: Instant::now() });
    }

    pub fn forget_session(&self, hash: &str) {
        if let Ok(mut map) = self.sessions.lock() {
            map.remove(hash);
        }
    }

    /// After a user's roles, name, password or active flag change.
    pub fn forget_user(&self, user_id: i64) {
        if let Ok(mut map) = self.sessions.lock() {
            map.retain(|_, s| s.actor.id.0 != user_id);
        }
        if let Ok(mut map) = self.users.lock() {
            map.retain(|_, (_, a)| a.id.0 != user_id);
        }
    }

    /// An active user by username, if read within the TTL.
    pub fn user(&self, username: &str) -> Option<Actor> {
        let map = self.users.lock().ok()?;
        map.get(username).filter(|(at, _)| at.elapsed() < TTL).map(|(_, a)| a.clone())
    }

    pub fn put_user(&self, actor: Actor) {
        let Ok(mut map) = self.users.lock() else { return };
        if map.len() >= MAX_SESSIONS {
            map.clear();
        }
        map.insert(actor.username.clone(), (Instant::now(), actor));
    }

    pub fn sla(&self) -> Option<Vec<SlaRow>> {
        let guard = self.sla.lock().ok()?;
        guard.as_ref().filter(|(at, _)| at.elapsed() < TTL).map(|(_, rows)| rows.clone())
    }

    pub fn put_sla(&self, rows: Vec<SlaRow>) {
        if let Ok(mut guard) = self.sla.lock() {
            *guard = Some((Instant::now(), rows));
        }
    }

    pub fn forget_sla(&self) {
        if let Ok(mut guard) = self.sla.lock() {
            *guard = None;
        }
    }

    pub fn hours(&self) -> Option<(WorkingHours, i64, bool)> {
        let guard = self.hours.lock().ok()?;
        guard.as_ref().filter(|(at, _)| at.elapsed() < TTL).map(|(_, h)| h.clone())
    }

    pub fn put_hours(&self, h: (WorkingHours, i64, bool)) {
        if let Ok(mut guard) = self.hours.lock() {
            *guard = Some((Instant::now(), h));
        }
    }

    pub fn limits(&self) -> Option<crate::rate::WriteLimits> {
        let guard = self.limits.lock().ok()?;
        guard.as_ref().filter(|(at, _)| at.elapsed() < TTL).map(|(_, l)| *l)
    }

    pub fn put_limits(&self, l: crate::rate::WriteLimits) {
        if let Ok(mut guard) = self.limits.lock() {
            *guard = Some((Instant::now(), l));
        }
    }

    pub fn forget_limits(&self) {
        if let Ok(mut guard) = self.limits.lock() {
            *guard = None;
        }
    }

    pub fn forget_hours(&self) {
        if let Ok(mut guard) = self.hours.lock() {
            *guard = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aftercare_domain::UserId;

    fn actor(id: i64) -> Actor {
        Actor {
            id: UserId(id),
            username: format!("u{id}"),
            display_name: String::new(),
            roles: vec![],
            customer_id: None,
            locale: "zh-CN".into(),
        }
    }

    #[test]
    fn sessions_expire_and_are_forgotten_per_user() {
        let c = Caches::default();
        let now = Utc::now();
        c.put_session("a", actor(1), "x".into(), now + chrono::Duration::hours(1));
        c.put_session("b", actor(2), "y".into(), now + chrono::Duration::hours(1));
        c.put_session("c", actor(3), "z".into(), now - chrono::Duration::seconds(1));
        assert_eq!(c.session("a", now).map(|s| s.csrf), Some("x".into()));
        assert!(c.session("c", now).is_none(), "an expired session is not served from memory");
        c.forget_user(1);
        assert!(c.session("a", now).is_none());
        assert!(c.session("b", now).is_some());
        c.forget_session("b");
        assert!(c.session("b", now).is_none());
    }

    #[test]
    fn sla_rows_are_cleared_on_change() {
        let c = Caches::default();
        assert!(c.sla().is_none());
        c.put_sla(vec![]);
        assert!(c.sla().is_some());
        c.forget_sla();
        assert!(c.sla().is_none());
    }
}
