//! Failed sign-ins, counted per key (`user:NAME`, `ip:ADDR`) over a window, in the
//! database so every node sees the same count.

use crate::{Db, Result, on_db, write_once};
use chrono::{DateTime, Utc};

/// Counts one sign-in attempt under `key` before its password is checked, and answers how
/// many attempts the key now has in the window, this one included. Each insert commits on
/// its own before its count reads, so the n-th of any number of concurrent attempts sees at
/// least n: no more than the limit can ever get past it. The row stays as a failure unless
/// [`forgive`] takes it back.
pub async fn attempt(db: &Db, key: &str, at: DateTime<Utc>, since: DateTime<Utc>) -> Result<(i64, i64)> {
    let id = write_once!(db, |c| sqlx::query_scalar::<_, i64>(
        "INSERT INTO login_failures (key, at) VALUES ($1, $2) RETURNING id"
    )
    .bind(key)
    .bind(at)
    .fetch_one(&mut *c)
    .await?);
    let n =
        on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2")
            .bind(key)
            .bind(since)
            .fetch_one(p)
            .await?);
    Ok((id, n))
}

/// Takes back one attempt's row: it succeeded, or it was refused without a check.
pub async fn forgive(db: &Db, id: i64) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query("DELETE FROM login_failures WHERE id = $1").bind(id).execute(&mut *c).await?;
    });
    Ok(())
}

/// A successful sign-in forgives the user's earlier failures (not the address's).
pub async fn clear(db: &Db, key: &str) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&mut *c).await?;
    });
    Ok(())
}

pub async fn purge_before(db: &Db, before: DateTime<Utc>) -> Result<u64> {
    Ok(write_once!(db, |c| sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(&mut *c)
        .await?
        .rows_affected()))
}
