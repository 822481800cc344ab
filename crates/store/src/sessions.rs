//! Sessions in the database, so any node serves any user: browser cookies and API
//! bearer tokens alike. Only a hash of the secret is stored.

use crate::{Db, Result, on_db, write_once};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    /// `web` (cookie) or `api` (bearer token).
    pub kind: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(
    db: &Db,
    id_hash: &str,
    user_id: i64,
    kind: &str,
    csrf: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, kind, csrf_token, created_at, expires_at) VALUES ($1, $2, \
            $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(kind)
        .bind(csrf)
        .bind(Utc::now())
        .bind(expires_at)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// A live session by the hash of its secret.
pub async fn get(db: &Db, id_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, SessionRow>("SELECT * FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id_hash)
        .bind(now)
        .fetch_optional(p)
        .await?))
}

pub async fn delete(db: &Db, id_hash: &str) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id_hash).execute(&mut *c).await?;
    });
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired(db: &Db, now: DateTime<Utc>) -> Result<u64> {
    Ok(write_once!(db, |c| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected()))
}
