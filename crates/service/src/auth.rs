//! Sign-in: password check, throttling per username and per address, sessions for
//! browsers and bearer tokens for programs.

use crate::{Actor, Result, ServiceError, Services};
use aftercare_domain::{CustomerId, Role, UserId};
use aftercare_store::{audit, sessions, throttle, users::UserRow};
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// At most this many failures per username, and per address, in [`THROTTLE_WINDOW_MIN`].
pub const MAX_FAILURES_PER_USER: i64 = 5;
pub const MAX_FAILURES_PER_ADDR: i64 = 20;
pub const THROTTLE_WINDOW_MIN: i64 = 15;
pub const WEB_SESSION_DAYS: i64 = 7;
pub const API_TOKEN_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The secret for the cookie or the `Authorization: Bearer` header; only its hash is stored.
    pub token: String,
    pub csrf: String,
    pub actor: Actor,
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn actor_from_row(u: &UserRow) -> Actor {
    Actor {
        id: UserId(u.id),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: u.roles.split(',').filter_map(Role::parse).collect(),
        customer_id: u.customer_id.map(CustomerId),
        locale: u.locale.clone(),
    }
}

/// What an unknown username's password is checked against: a real argon2 hash with the
/// same parameters as every user's, made once.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| password_auth::generate_hash("no user has this password"));

/// Hashes with argon2 (the password-auth defaults).
pub fn hash_password(p: &str) -> String {
    password_auth::generate_hash(p)
}

impl Services {
    /// Checks the password and opens a session. Wrong user and wrong password answer the
    /// same, so usernames cannot be probed.
    pub async fn login(&self, username: &str, password: &str, addr: &str, kind: SessionKind) -> Result<SignedIn> {
        let username = username.trim().to_lowercase();
        let now = Utc::now();
        let since = now - Duration::minutes(THROTTLE_WINDOW_MIN);
        let user_key = format!("user:{username}");
        let addr_key = format!("addr:{addr}");
        // Both attempts are counted before the password is looked at, so concurrent guesses
        // cannot all slip past the limit.
        let (user_try, user_n) = throttle::attempt(&self.db, &user_key, now, since).await?;
        let (addr_try, addr_n) = throttle::attempt(&self.db, &addr_key, now, since).await?;
        if user_n > MAX_FAILURES_PER_USER || addr_n > MAX_FAILURES_PER_ADDR {
            // Refused unchecked: not a failure of its own, or a locked-out user would stay
            // locked out for as long as someone kept knocking.
            throttle::forgive(&self.db, user_try).await?;
            throttle::forgive(&self.db, addr_try).await?;
            return Err(ServiceError::Throttled);
        }
        let user = aftercare_store::users::by_username(&self.db, &username).await?;
        // An unknown or inactive user is checked against a dummy hash, so the answer takes
        // as long as for a real one and timing names nobody. Argon2 runs off the async workers.
        let stored = match &user {
            Some(u) if u.active => u.password_hash.clone(),
            _ => DUMMY_HASH.clone(),
        };
        let password = password.to_owned();
        let verified = tokio::task::spawn_blocking(move || password_auth::verify_password(password, &stored).is_ok())
            .await
            .unwrap_or(false);
        let ok = verified && user.as_ref().is_some_and(|u| u.active);
        let Some(user) = user.filter(|_| ok) else {
            // Both attempt rows stay: they are the failures.
            return Err(ServiceError::Unauthorized);
        };
        throttle::clear(&self.db, &user_key).await?;
        throttle::forgive(&self.db, addr_try).await?;
        let token = random_token();
        let csrf = random_token();
        let days = match kind {
            SessionKind::Web => WEB_SESSION_DAYS,
            SessionKind::Api => API_TOKEN_DAYS,
        };
        sessions::create(&self.db, &hash(&token), user.id, kind.as_str(), &csrf, now + Duration::days(days)).await?;
        let actor = actor_from_row(&user);
        audit::append(&self.db, &self.writer(&actor), "user", user.id, "login", &format!("{} ({addr})", user.username))
            .await?;
        Ok(SignedIn { token, csrf, actor })
    }

    /// The user behind a session cookie (`Web`) or bearer token (`Api`), with the session's
    /// CSRF token. A token works only as what it was issued for: an API token sent as a page
    /// cookie, or a cookie sent as a bearer token, is unauthorized.
    pub async fn authenticate(&self, token: &str, kind: SessionKind) -> Result<(Actor, String)> {
        let now = Utc::now();
        // The kind is part of the cache key, so a cached session answers only its own kind.
        let h = hash(token);
        let key = format!("{}:{h}", kind.as_str());
        if let Some(s) = self.caches.session(&key, now) {
            return Ok((s.actor, s.csrf));
        }
        let s = sessions::get(&self.db, &h, now).await?.ok_or(ServiceError::Unauthorized)?;
        if s.kind != kind.as_str() {
            return Err(ServiceError::Unauthorized);
        }
        let u = aftercare_store::users::get(&self.db, s.user_id).await.map_err(|_| ServiceError::Unauthorized)?;
        if !u.active {
            return Err(ServiceError::Unauthorized);
        }
        let actor = actor_from_row(&u);
        self.caches.put_session(&key, actor.clone(), s.csrf_token.clone(), s.expires_at);
        Ok((actor, s.csrf_token))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let h = hash(token);
        for kind in [SessionKind::Web, SessionKind::Api] {
            self.caches.forget_session(&format!("{}:{h}", kind.as_str()));
        }
        sessions::delete(&self.db, &h).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(hash("x"), hash("x"));
        assert_ne!(hash("x"), "x");
    }
}
