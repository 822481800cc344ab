//! The on-duty roster (24 小时值班, §3.2.2): who answers the phone when, nights and
//! holidays included; and the desk's settings written together (working hours).

use crate::db::WritePool;
use crate::{Db, Result, StoreError, Writer, on_db};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The longest shift the roster takes: a week of holiday standby (国庆 on call). Lookups
/// of "who is on duty at t" only need to look this far back, which keeps them one short
/// index range however long the roster's history grows.
pub const MAX_SHIFT_HOURS: i64 = 7 * 24;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ShiftRow {
    pub id: i64,
    pub user_id: i64,
    pub user_name: String,
    /// The person's phone, to reach whoever is on duty.
    pub user_phone: Option<String>,
    /// Comma-separated role ids of the person (`agent,engineer`).
    pub user_roles: String,
    pub starts_at: DateTime<Utc>,
    /// Exclusive: a shift ending at 08:00 and one starting at 08:00 do not overlap.
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT s.id, s.user_id, u.display_name AS user_name, u.phone AS user_phone, u.roles AS \
    user_roles, \
     s.starts_at, s.ends_at, s.note, s.created_by, s.created_at FROM duty_shifts s JOIN users u ON u.id = s.user_id";

/// A shift as the service decided it.
#[derive(Debug, Clone)]
pub struct ShiftWrite {
    pub user_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// What happened to a shift asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftOutcome {
    Created(i64),
    /// The person already has this shift (id) at an overlapping time; nothing written.
    Overlaps(i64),
}

/// Writes shifts in one transaction, each checked against the person's other shifts
/// (those already stored and those earlier in `items`); an overlapping one is skipped
/// and reported. On PostgreSQL the person's row is locked first, so two managers
/// planning the same person at once cannot both pass the check.
pub async fn create_shifts(db: &Db, w: &Writer, items: &[ShiftWrite], now: DateTime<Utc>) -> Result<Vec<ShiftOutcome>> {
    let lock = match db {
        Db::Postgres(_) => "SELECT id FROM users WHERE id = $1 FOR UPDATE",
        Db::Sqlite(_) => "SELECT id FROM users WHERE id = $1",
    };
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let mut out = Vec::with_capacity(items.len());
        for s in items {
            let user: Option<i64> = sqlx::query_scalar(lock).bind(s.user_id).fetch_optional(&mut *tx).await?;
            if user.is_none() {
                return Err(StoreError::MissingReference { field: "user_id" });
            }
            let clash: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM duty_shifts WHERE user_id = $1 AND starts_at < $2 AND ends_at > $3 ORDER BY \
                    starts_at LIMIT 1",
            )
            .bind(s.user_id)
            .bind(s.ends_at)
            .bind(s.starts_at)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(other) = clash {
                out.push(ShiftOutcome::Overlaps(other));
                continue;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO duty_shifts (user_id, starts_at, ends_at, note, created_by, created_at) VALUES ($1, \
                    $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(s.user_id)
            .bind(s.starts_at)
            .bind(s.ends_at)
            .bind(&s.note)
            .bind(w.user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            crate::audit::record(
                &mut *tx,
                w,
                "duty_shift",
                id,
                "create",
                &format!("{} – {}", s.starts_at.to_rfc3339(), s.ends_at.to_rfc3339()),
                None,
                Some(serde_json::json!({"user_id": s.user_id, "starts_at": s.starts_at, "ends_at": s.ends_at,
                        "note": s.note})),
            )
            .await?;
            out.push(ShiftOutcome::Created(id));
        }
        tx.commit().await?;
        out
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<ShiftRow> {
    let sql = format!("{SELECT} WHERE s.id = $1");
    let row = on_db!(db, |p| sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

/// Shifts that touch [from, to), in start order.
pub async fn between(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ShiftRow>> {
    // The lower bound on starts_at keeps the index range short (see MAX_SHIFT_HOURS).
    let sql = format!(
        "{SELECT} WHERE s.starts_at < $1 AND s.starts_at >= $2 AND s.ends_at > $3 ORDER BY s.starts_at, \
            u.display_name, s.id"
    );
    let earliest = from - Duration::hours(MAX_SHIFT_HOURS);
    Ok(on_db!(db, |p| sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(to)
        .bind(earliest)
        .bind(from)
        .fetch_all(p)
        .await?))
}

/// Who is on duty at `at`: one indexed query, earliest start first.
pub async fn on_duty(db: &Db, at: DateTime<Utc>) -> Result<Vec<ShiftRow>> {
    let sql = format!(
        "{SELECT} WHERE s.starts_at <= $1 AND s.starts_at > $2 AND s.ends_at > $1 AND u.active ORDER BY \
            s.starts_at, s.id"
    );
    let earliest = at - Duration::hours(MAX_SHIFT_HOURS);
    Ok(on_db!(db, |p| sqlx::query_as::<_, ShiftRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(at)
        .bind(earliest)
        .fetch_all(p)
        .await?))
}

/// Removes a shift; audited with what it was.
pub async fn delete(db: &Db, w: &Writer, id: i64) -> Result<ShiftRow> {
    let row = get(db, id).await?;
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("DELETE FROM duty_shifts WHERE id = $1").bind(id).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::record(
            &mut *tx,
            w,
            "duty_shift",
            id,
            "delete",
            &row.user_name,
            Some(serde_json::json!({
            "user_id": row.user_id, "starts_at": row.starts_at, "ends_at": row.ends_at, "note": row.note})),
            None,
        )
        .await?;
        tx.commit().await?;
    });
    Ok(row)
}

/// A person who may be put on the roster.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DutyPerson {
    pub id: i64,
    pub display_name: String,
    pub roles: String,
    pub phone: Option<String>,
}

/// Active users holding any of `roles`, by name.
pub async fn people_with_roles(db: &Db, roles: &[&str]) -> Result<Vec<DutyPerson>> {
    let mut clauses = Vec::new();
    for i in 0..roles.len() {
        clauses.push(format!("(',' || roles || ',') LIKE ${}", i + 1));
    }
    if clauses.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, display_name, roles, phone FROM users WHERE active AND ({}) ORDER BY display_name, id",
        clauses.join(" OR ")
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, DutyPerson>(sqlx::AssertSqlSafe(sql.as_str()));
        for r in roles {
            q = q.bind(format!("%,{r},%"));
        }
        q.fetch_all(p).await?
    }))
}

/// Several settings in one transaction, each audited.
pub async fn set_settings(db: &Db, w: &Writer, values: &[(&str, String)]) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        for (key, value) in values {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = \
                excluded.value",
            )
            .bind(*key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
            crate::audit::record(
                &mut *tx,
                w,
                "setting",
                0_i64,
                "update",
                key,
                None,
                Some(serde_json::json!({*key: value})),
            )
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Several settings at once: (key, value) for the keys that exist.
pub async fn settings(db: &Db, keys: &[&str]) -> Result<Vec<(String, String)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=keys.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT key, value FROM settings WHERE key IN ({list})");
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql.as_str()));
        for k in keys {
            q = q.bind(*k);
        }
        q.fetch_all(p).await?
    }))
}
