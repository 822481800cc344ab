//! The jobs table: work queued in the database and claimed by a worker on any node.
//! A claim is an `UPDATE … RETURNING` with a lease, so a crashed worker's job is taken
//! again when the lease runs out; PostgreSQL adds `FOR UPDATE SKIP LOCKED`.

use crate::{Db, Result, on_db, write_once};
use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
}

pub async fn enqueue(db: &Db, kind: &str, payload: &str, run_at: DateTime<Utc>) -> Result<i64> {
    Ok(write_once!(db, |c| sqlx::query_scalar::<_, i64>(
        "INSERT INTO jobs (kind, payload, run_at) VALUES ($1, $2, $3) RETURNING id"
    )
    .bind(kind)
    .bind(payload)
    .bind(run_at)
    .fetch_one(&mut *c)
    .await?))
}

/// Enqueues `kind` unless one is already waiting (for periodic jobs).
pub async fn ensure_pending(db: &Db, kind: &str, run_at: DateTime<Utc>) -> Result<()> {
    let n =
        on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM jobs WHERE kind = $1 AND done_at IS NULL")
            .bind(kind)
            .fetch_one(p)
            .await?);
    if n == 0 {
        enqueue(db, kind, "{}", run_at).await?;
    }
    Ok(())
}

/// Claims the oldest due job for `lease`.
pub async fn claim(db: &Db, now: DateTime<Utc>, lease: Duration) -> Result<Option<JobRow>> {
    let until = now + lease;
    let sql = match db {
        Db::Sqlite(_) => {
            "UPDATE jobs SET locked_until = $2, attempts = attempts + 1 WHERE id = (
                SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR \
                locked_until < $1)
                ORDER BY run_at LIMIT 1) RETURNING id, kind, payload, run_at, attempts"
        }
        Db::Postgres(_) => {
            "UPDATE jobs SET locked_until = $2, attempts = attempts + 1 WHERE id = (
                SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR \
                locked_until < $1)
                ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, kind, payload, run_at, attempts"
        }
    };
    let job =
        write_once!(db, |c| sqlx::query_as::<_, JobRow>(sql).bind(now).bind(until).fetch_optional(&mut *c).await?);
    Ok(job)
}

pub async fn finish(db: &Db, id: i64, now: DateTime<Utc>) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query("UPDATE jobs SET done_at = $2, locked_until = NULL, last_error = NULL WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Records a failure and retries later.
pub async fn fail(db: &Db, id: i64, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query("UPDATE jobs SET last_error = $2, run_at = $3, locked_until = NULL WHERE id = $1")
            .bind(id)
            .bind(error)
            .bind(retry_at)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Removes jobs that finished without error before `before`: the periodic ones add a row
/// every few seconds. Given-up jobs keep their reason and stay.
pub async fn purge_done(db: &Db, before: DateTime<Utc>) -> Result<u64> {
    Ok(write_once!(db, |c| sqlx::query(
        "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < $1 AND last_error IS NULL"
    )
    .bind(before)
    .execute(&mut *c)
    .await?
    .rows_affected()))
}
