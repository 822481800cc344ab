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
        if throttle::failures_since(&self.db, &user_key, since).await? >= MAX_FAILURES_PER_USER
            || throttle::failures_since(&self.db, &addr_key, since).await? >= MAX_FAILURES_PER_ADDR
        {
            return Err(ServiceError::Throttled);
        }
        let user = aftercare_store::users::by_username(&self.db, &username).await?;
        let ok = match &user {
            Some(u) if u.active => password_auth::verify_password(password, &u.password_hash).is_ok(),
            _ => false,
        };
        let Some(user) = user.filter(|_| ok) else {
            throttle::record_failure(&self.db, &user_key, now).await?;
            throttle::record_failure(&self.db, &addr_key, now).await?;
            return Err(ServiceError::Unauthorized);
        };
        throttle::clear(&self.db, &user_key).await?;
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

    /// The user behind a session cookie or bearer token, with the session's CSRF token.
    pub async fn authenticate(&self, token: &str) -> Result<(Actor, String)> {
        let now = Utc::now();
        let h = hash(token);
        if let Some(s) = self.caches.session(&h, now) {
            return Ok((s.actor, s.csrf));
        }
        let s = sessions::get(&self.db, &h, now).await?.ok_or(ServiceError::Unauthorized)?;
        let u = aftercare_store::users::get(&self.db, s.user_id).await.map_err(|_| ServiceError::Unauthorized)?;
        if !u.active {
            return Err(ServiceError::Unauthorized);
        }
        let actor = actor_from_row(&u);
        self.caches.put_session(&h, actor.clone(), s.csrf_token.clone(), s.expires_at);
        Ok((actor, s.csrf_token))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        let h = hash(token);
        self.caches.forget_session(&h);
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
