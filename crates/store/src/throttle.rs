//! Failed sign-ins, counted per key (`user:NAME`, `ip:ADDR`) over a window, in the
//! database so every node sees the same count.

use crate::{Db, Result, on_db};
use chrono::{DateTime, Utc};

pub async fn record_failure(db: &Db, key: &str, at: DateTime<Utc>) -> Result<()> {
    on_db!(db, p => { sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(key).bind(at).execute(p).await?; });
    Ok(())
}

pub async fn failures_since(db: &Db, key: &str, since: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2")
        .bind(key).bind(since).fetch_one(p).await?))
}

/// A successful sign-in forgives the user's earlier failures (not the address's).
pub async fn clear(db: &Db, key: &str) -> Result<()> {
    on_db!(db, p => { sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(p).await?; });
    Ok(())
}

pub async fn purge_before(db: &Db, before: DateTime<Utc>) -> Result<u64> {
    Ok(
        on_db!(db, p => sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(before).execute(p).await?.rows_affected()),
    )
}
