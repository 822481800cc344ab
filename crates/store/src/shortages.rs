//! Reserve quotas and shortage alerts (§2.5(1), §3.2.9).
//!
//! A shortage alert is raised once per shortage: the partial unique index
//! `shortage_alerts_open` allows one open alert per part and warehouse, and the insert
//! does nothing when one is open, so two writers checking at once raise one alert. The
//! alert closes by itself when usable on-hand is back at min. The §3.2.9 penalty is
//! proposed at most once per alert: the update that marks it is conditional.

use crate::db::{Conn, WritePool};
use crate::{Db, Result, StoreError, Writer, on_conn, on_db};
use aftercare_domain::shortages::Quota;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One shortage alert with its part and warehouse.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AlertRow {
    pub id: i64,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub critical: bool,
    pub warehouse_id: i64,
    pub warehouse_name: String,
    /// Usable on-hand when the alert was raised.
    pub on_hand: i64,
    /// The min in force when the alert was raised.
    pub min_qty: i64,
    /// Usable on-hand now.
    pub current_on_hand: i64,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_by_name: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Set when stock came back at or above min.
    pub closed_at: Option<DateTime<Utc>>,
    /// Set when the §3.2.9 penalty was proposed for this alert.
    pub penalty_proposed_at: Option<DateTime<Utc>>,
    pub penalty_event_id: Option<i64>,
}

const ALERT_SELECT: &str = "SELECT a.id, a.part_id, p.code AS part_code, p.name AS part_name, p.unit, p.critical, \
    a.warehouse_id, w.name AS warehouse_name, a.on_hand, a.min_qty, COALESCE(s.on_hand, 0) AS current_on_hand, \
    a.raised_at, \
    a.acknowledged_by, u.display_name AS acknowledged_by_name, a.acknowledged_at, a.closed_at, a.penalty_proposed_at, \
    a.penalty_event_id FROM shortage_alerts a JOIN parts p ON p.id = a.part_id JOIN warehouses w ON w.id = \
    a.warehouse_id \
    LEFT JOIN stock s ON s.part_id = a.part_id AND s.warehouse_id = a.warehouse_id \
    LEFT JOIN users u ON u.id = a.acknowledged_by";

/// The effective min of a stock row: the warehouse's own, else the catalogue's.
/// The catalogue's min and max are the depot's default (the county's reserve, §2.5(1)); a
/// vehicle stock carries a kit and has only the quota set for it. Needs `s`, `p` and `w`.
pub(crate) const EFFECTIVE_MIN: &str = "COALESCE(s.min_qty, CASE WHEN w.kind = 'depot' THEN p.min_qty ELSE 0 END)";
pub(crate) const EFFECTIVE_MAX: &str = "COALESCE(s.max_qty, CASE WHEN w.kind = 'depot' THEN p.max_qty END)";

/// What a level check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A new alert was raised (its id); the managers were notified in the app.
    Raised(i64),
    /// An open alert was closed: stock is back at min.
    Closed,
    /// Nothing changed (still short with an open alert, or fine with none).
    Unchanged,
}

/// Sets a part's reserve quota in a warehouse (creating the stock row at zero).
pub async fn set_quota(db: &Db, w: &Writer, q: &Quota) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO stock (part_id, warehouse_id, on_hand, defective, avg_cost_fen, min_qty, max_qty) VALUES \
                ($1, $2, 0, 0, 0, $3, $4) \
             ON CONFLICT (part_id, warehouse_id) DO UPDATE SET min_qty = excluded.min_qty, max_qty = excluded.max_qty",
        )
        .bind(q.part_id)
        .bind(q.warehouse_id)
        .bind(q.min_qty)
        .bind(q.max_qty)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            &mut *tx,
            w,
            "stock_quota",
            q.part_id,
            "update",
            &format!("part {} warehouse {}", q.part_id, q.warehouse_id),
            None,
            Some(serde_json::to_value(q).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The write half of [`check_level`] inside the caller's write transaction (the
/// movements' group commit checks the rows it touched before it commits): raises an alert
/// (once) and notifies the managers when the stock row is short, closes the open alert
/// when it is not.
pub(crate) async fn level_in_tx<'c>(
    conn: impl Into<Conn<'c>>,
    part_id: i64,
    warehouse_id: i64,
    now: DateTime<Utc>,
) -> Result<Level> {
    let mut conn = conn.into();
    let read = format!(
        "SELECT s.on_hand, {EFFECTIVE_MIN}, p.code, p.name, w.name FROM stock s JOIN parts p ON p.id = s.part_id \
         JOIN warehouses w ON w.id = s.warehouse_id WHERE s.part_id = $1 AND s.warehouse_id = $2"
    );
    let row: Option<(i64, i64, String, String, String)> =
        on_conn!(&mut conn, |c| sqlx::query_as(sqlx::AssertSqlSafe(read.as_str()))
            .bind(part_id)
            .bind(warehouse_id)
            .fetch_optional(&mut **c)
            .await?);
    let Some((on_hand, min, code, name, wh)) = row else { return Ok(Level::Unchanged) };
    if !aftercare_domain::shortages::is_short(on_hand, min) {
        let close = "UPDATE shortage_alerts SET closed_at = $3 WHERE part_id = $1 AND warehouse_id = $2 AND \
             closed_at IS NULL";
        let n = on_conn!(&mut conn, |c| sqlx::query(close)
            .bind(part_id)
            .bind(warehouse_id)
            .bind(now)
            .execute(&mut **c)
            .await?
            .rows_affected());
        return Ok(if n > 0 { Level::Closed } else { Level::Unchanged });
    }
    let raise = "INSERT INTO shortage_alerts (part_id, warehouse_id, on_hand, min_qty, raised_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (part_id, warehouse_id) WHERE closed_at IS NULL DO NOTHING RETURNING id";
    let id: Option<i64> = on_conn!(&mut conn, |c| sqlx::query_scalar(raise)
        .bind(part_id)
        .bind(warehouse_id)
        .bind(on_hand)
        .bind(min)
        .bind(now)
        .fetch_optional(&mut **c)
        .await?);
    let Some(id) = id else { return Ok(Level::Unchanged) };
    // The manager is told, and the storekeeper who must reorder.
    let managers_sql = "SELECT id FROM users WHERE ((',' || roles || ',') LIKE '%,manager,%' OR (',' || roles || ',') \
        LIKE '%,storekeeper,%') AND active ORDER BY id";
    let notify = "INSERT INTO notifications (user_id, at, kind, args_json) VALUES ($1, $2, 'shortage', $3)";
    let args = serde_json::json!({
        "alert_id": id, "number": code, "title": format!("{name} · {wh}"),
        "reason": format!("{on_hand}/{min}"),
    })
    .to_string();
    on_conn!(&mut conn, |c| {
        let managers: Vec<i64> = sqlx::query_scalar(managers_sql).fetch_all(&mut **c).await?;
        for m in managers {
            sqlx::query(notify).bind(m).bind(now).bind(&args).execute(&mut **c).await?;
        }
    });
    Ok(Level::Raised(id))
}

/// Compares one stock row with its min: raises an alert (once) and notifies the managers
/// when short, closes the open alert when not.
pub async fn check_level(db: &Db, part_id: i64, warehouse_id: i64, now: DateTime<Utc>) -> Result<Level> {
    // Most movements change nothing here: find that out with a read, without taking the
    // writer (a second write transaction per movement halved the movement rate).
    let quick_sql = format!(
        "SELECT s.on_hand, {EFFECTIVE_MIN}, EXISTS (SELECT 1 FROM shortage_alerts a WHERE a.part_id = s.part_id \
         AND a.warehouse_id = s.warehouse_id AND a.closed_at IS NULL) FROM stock s JOIN parts p ON p.id = s.part_id \
         JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE s.part_id = $1 AND s.warehouse_id = $2"
    );
    let quick: Option<(i64, i64, bool)> = on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(quick_sql.as_str()))
        .bind(part_id)
        .bind(warehouse_id)
        .fetch_optional(pool)
        .await?);
    match quick {
        None => return Ok(Level::Unchanged),
        Some((on_hand, min, open)) if aftercare_domain::shortages::is_short(on_hand, min) == open => {
            return Ok(Level::Unchanged);
        }
        Some(_) => {}
    }
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let level = level_in_tx(&mut *tx, part_id, warehouse_id, now).await?;
        tx.commit().await?;
        level
    }))
}

/// Gives every active part with a catalogue min a stock row (at zero) in every active
/// depot that has none, so a part catalogued with a quota but never received is short
/// there like any other. Returns how many rows were made.
pub async fn ensure_depot_rows(db: &Db) -> Result<u64> {
    let sql = "INSERT INTO stock (part_id, warehouse_id, on_hand, defective, avg_cost_fen) \
         SELECT p.id, w.id, 0, 0, 0 FROM parts p CROSS JOIN warehouses w \
         WHERE p.min_qty > 0 AND p.active = TRUE AND w.kind = 'depot' AND w.active = TRUE \
         AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.part_id = p.id AND s.warehouse_id = w.id) \
         ON CONFLICT (part_id, warehouse_id) DO NOTHING";
    // Read first: nearly always there is nothing to make, and then no writer is taken.
    let missing: bool = on_db!(db, |p| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM parts p CROSS JOIN warehouses w WHERE p.min_qty > 0 AND p.active = TRUE \
         AND w.kind = 'depot' AND w.active = TRUE \
         AND NOT EXISTS (SELECT 1 FROM stock s WHERE s.part_id = p.id AND s.warehouse_id = w.id))"
    )
    .fetch_one(p)
    .await?);
    if !missing {
        return Ok(0);
    }
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(sql).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        n
    }))
}

/// Stock rows whose alert state is out of date: short with no open alert, or with an open
/// alert and no longer short. For the sweep that catches movements posted elsewhere and
/// quotas changed in the catalogue.
pub async fn out_of_date(db: &Db) -> Result<Vec<(i64, i64)>> {
    let sql = format!(
        "SELECT s.part_id, s.warehouse_id FROM stock s JOIN parts p ON p.id = s.part_id JOIN warehouses w ON w.id = \
            s.warehouse_id \
         WHERE (({EFFECTIVE_MIN} > 0 AND s.on_hand < {EFFECTIVE_MIN} AND p.active = TRUE) AND NOT EXISTS \
           (SELECT 1 FROM shortage_alerts a WHERE a.part_id = s.part_id AND a.warehouse_id = s.warehouse_id AND \
           a.closed_at IS NULL)) \
         OR (NOT ({EFFECTIVE_MIN} > 0 AND s.on_hand < {EFFECTIVE_MIN}) AND EXISTS \
           (SELECT 1 FROM shortage_alerts a WHERE a.part_id = s.part_id AND a.warehouse_id = s.warehouse_id AND \
           a.closed_at IS NULL)) \
         ORDER BY s.part_id, s.warehouse_id LIMIT 1000"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

/// Open alerts nobody acknowledged that were raised before `before` and have no penalty
/// proposed yet: (alert id, reason text).
pub async fn overdue(db: &Db, before: DateTime<Utc>) -> Result<Vec<(i64, String)>> {
    let rows: Vec<(i64, String, String, String, i64, i64)> =
        on_db!(db, |p| {
            sqlx::query_as(
        "SELECT a.id, p.code, p.name, w.name, a.on_hand, a.min_qty FROM shortage_alerts a JOIN parts p ON p.id = \
            a.part_id \
         JOIN warehouses w ON w.id = a.warehouse_id \
         WHERE a.closed_at IS NULL AND a.acknowledged_at IS NULL AND a.penalty_proposed_at IS NULL AND a.raised_at \
         < $1 \
         ORDER BY a.raised_at LIMIT 500")
        .bind(before).fetch_all(p).await?
        });
    Ok(rows
        .into_iter()
        .map(|(id, code, name, wh, on_hand, min)| (id, format!("{code} {name} · {wh}: {on_hand} < {min}")))
        .collect())
}

/// Proposes the §3.2.9 penalty (`unreported_shortage`) against each of `users` and
/// notifies them, once per alert: false when it was already proposed, acknowledged or
/// closed meanwhile.
pub async fn propose_penalty(db: &Db, alert_id: i64, users: &[i64], reason: &str, now: DateTime<Utc>) -> Result<bool> {
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE shortage_alerts SET penalty_proposed_at = $2 WHERE id = $1 AND penalty_proposed_at IS NULL \
             AND acknowledged_at IS NULL AND closed_at IS NULL",
        )
        .bind(alert_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let mut first = None;
        for u in users {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO penalty_events (kind, user_id, at, status, reason) VALUES ('unreported_shortage', $1, \
                    $2, 'proposed', $3) RETURNING id",
            )
            .bind(*u)
            .bind(now)
            .bind(reason)
            .fetch_one(&mut *tx)
            .await?;
            first.get_or_insert(id);
            sqlx::query(
                "INSERT INTO notifications (user_id, at, kind, args_json) VALUES ($1, $2, 'shortage_overdue', $3)",
            )
            .bind(*u)
            .bind(now)
            .bind(serde_json::json!({"alert_id": alert_id, "reason": reason}).to_string())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE shortage_alerts SET penalty_event_id = $2 WHERE id = $1")
            .bind(alert_id)
            .bind(first)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        true
    }))
}

/// Marks an alert acknowledged (the storekeeper reported it, §3.2.9). Acknowledging it
/// again changes nothing.
pub async fn acknowledge(db: &Db, w: &Writer, id: i64, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM shortage_alerts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let n = sqlx::query(
            "UPDATE shortage_alerts SET acknowledged_by = $2, acknowledged_at = $3 WHERE id = $1 \
            AND acknowledged_at IS NULL",
        )
        .bind(id)
        .bind(w.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            crate::audit::record(
                &mut *tx,
                w,
                "shortage_alert",
                id,
                "acknowledge",
                &format!("shortage {id}"),
                None,
                None,
            )
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<AlertRow> {
    let sql = format!("{ALERT_SELECT} WHERE a.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
}

/// Alerts, newest first: only open ones when `open`; of one warehouse when given.
pub async fn list(db: &Db, open: bool, warehouse_id: Option<i64>) -> Result<Vec<AlertRow>> {
    let sql = format!(
        "{ALERT_SELECT} WHERE ($1 = FALSE OR a.closed_at IS NULL) AND ($2 < 0 OR a.warehouse_id = $2) ORDER BY a.id \
            DESC LIMIT 500"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(open)
        .bind(warehouse_id.unwrap_or(-1))
        .fetch_all(p)
        .await?))
}

/// A stock row below min, with what was issued from it since a time.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BelowMinRow {
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub critical: bool,
    pub supplier: Option<String>,
    pub lead_time_days: Option<i64>,
    pub unit_cost_fen: i64,
    pub warehouse_id: i64,
    pub warehouse_name: String,
    pub on_hand: i64,
    pub min_qty: i64,
    pub max_qty: Option<i64>,
    /// Units issued from this warehouse since the given time.
    pub consumed: i64,
}

/// Stock rows below their min (of one warehouse when given), with issues since `since`.
pub async fn below_min(db: &Db, warehouse_id: Option<i64>, since: DateTime<Utc>) -> Result<Vec<BelowMinRow>> {
    let sql = format!(
        "SELECT s.part_id, p.code AS part_code, p.name AS part_name, p.unit, p.critical, p.supplier, p.lead_time_days, \
         p.unit_cost_fen, s.warehouse_id, w.name AS warehouse_name, s.on_hand, {EFFECTIVE_MIN} AS min_qty, \
         {EFFECTIVE_MAX} AS max_qty, \
         CAST(COALESCE((SELECT SUM(m.qty) FROM stock_movements m WHERE m.part_id = s.part_id AND m.warehouse_id = \
         s.warehouse_id \
           AND m.kind = 'issue' AND m.at >= $1), 0) AS BIGINT) AS consumed \
         FROM stock s JOIN parts p ON p.id = s.part_id JOIN warehouses w ON w.id = s.warehouse_id \
         WHERE {EFFECTIVE_MIN} > 0 AND s.on_hand < {EFFECTIVE_MIN} AND p.active = TRUE AND ($2 < 0 OR \
         s.warehouse_id = $2) \
         ORDER BY p.code, w.code LIMIT 2000"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, BelowMinRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(since)
        .bind(warehouse_id.unwrap_or(-1))
        .fetch_all(p)
        .await?))
}
