//! Service-level clocks: the policies per priority and the sweep that flags breached
//! tickets and tells their managers.

use crate::db::{WritePool, values_rows};
use crate::notifications::NewNotification;
use crate::{Db, Result, Writer, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A ticket the SLA sweep flagged, with the clocks it flagged (`respond`, `arrive`, `resolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breached {
    pub id: i64,
    pub number: String,
    pub engineer_id: Option<i64>,
    pub clocks: Vec<&'static str>,
}

/// id, number, engineer and whether each clock (respond, arrive, resolve) was flagged now.
type SweptRow = (i64, String, Option<i64>, Option<bool>, Option<bool>, Option<bool>);

/// A notification of the sweep, about one ticket or (`ticket_id` None) about many.
#[derive(Debug, Clone)]
pub struct SweepNotification {
    pub ticket_id: Option<i64>,
    pub note: NewNotification,
}

/// One wave of the sweep: the tickets flagged, and whether more may be waiting (the wave
/// was full).
#[derive(Debug, Clone, Default)]
pub struct Swept {
    pub breached: Vec<Breached>,
    pub more: bool,
}

const RESPOND: &str = "responded_at IS NULL AND respond_breached_at IS NULL AND respond_due < $1";
const ARRIVE: &str = "status IN ('to_dispatch', 'scheduled', 'in_progress') AND arrived_at IS NULL AND \
    arrive_breached_at IS NULL AND arrive_due < $1";
const RESOLVE: &str = "resolved_at IS NULL AND resolve_breached_at IS NULL AND resolve_due < $1";
/// The open states, written exactly as the partial index `tickets_open_clocks` is (SQLite
/// uses a partial index only for a query that repeats its condition).
const OPEN: &str = "status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress')";

/// SQLite: up to `$2` tickets with a clock run out by `$1`, by id — each clock sought in an
/// index of open tickets, never by reading the table: the sweep ran its search as a scan of
/// every ticket (2 s at a million) inside the writer's turn, and every create waited for it
/// once a minute (docs/BENCHMARKS.md, session 17). The indexes are named, so the plan does
/// not depend on the statistics. The resolve clock has an index of its own (migration
/// 0027): behind the respond clock in `tickets_open_clocks`, it was found by reading every
/// open ticket's entry.
pub fn late_candidates_sqlite() -> String {
    format!(
        "SELECT id FROM tickets INDEXED BY tickets_open_clocks WHERE {OPEN} AND {RESPOND} \
         UNION SELECT id FROM tickets INDEXED BY tickets_status WHERE {ARRIVE} \
         UNION SELECT id FROM tickets INDEXED BY tickets_resolve_clock WHERE {OPEN} AND {RESOLVE} \
         ORDER BY id LIMIT $2"
    )
}

/// Flags up to `limit` open tickets whose clocks ran out by `now` — the rules of
/// `aftercare_domain::tickets::breaches` in SQL: a clock runs in the open states, the
/// arrive clock only once a visit is needed — and writes their timeline events and the
/// notifications `notify` makes of them, each table with multi-row statements, all in one
/// transaction. Ten thousand tickets opened together breach together: one `update` per
/// ticket cost minutes of CPU per wave.
///
/// On SQLite the late tickets are found first, on a reader's connection
/// ([`late_candidates_sqlite`]); the writer's turn is taken only when there are some, and
/// its update checks each again, so one answered or resolved meanwhile is left alone.
pub async fn sweep_breaches(
    db: &Db,
    w: &Writer,
    now: DateTime<Utc>,
    limit: i64,
    notify: impl Fn(&[Breached]) -> Vec<SweepNotification>,
) -> Result<Swept> {
    let late = format!("{OPEN} AND (({RESPOND}) OR ({ARRIVE}) OR ({RESOLVE}))");
    let set = format!(
        "respond_breached_at = CASE WHEN {RESPOND} THEN $1 ELSE respond_breached_at END, \
         arrive_breached_at = CASE WHEN {ARRIVE} THEN $1 ELSE arrive_breached_at END, \
         resolve_breached_at = CASE WHEN {RESOLVE} THEN $1 ELSE resolve_breached_at END, \
         updated_at = $1, version = version + 1"
    );
    let returning = "RETURNING id, number, engineer_id, respond_breached_at = $1, arrive_breached_at = $1, \
        resolve_breached_at = $1";
    // SQLite: the late tickets' ids, found off the writer's turn, as a JSON array.
    let candidates = match db {
        Db::Sqlite(p) => {
            let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(late_candidates_sqlite()))
                .bind(now)
                .bind(limit)
                .fetch_all(p)
                .await?;
            if ids.is_empty() {
                return Ok(Swept::default());
            }
            Some((ids.len() as i64, serde_json::Value::from(ids).to_string()))
        }
        Db::Postgres(_) => None,
    };
    let sql = match candidates {
        Some(_) => {
            format!("UPDATE tickets SET {set} WHERE id IN (SELECT value FROM json_each($2)) AND {late} {returning}")
        }
        // The late condition is repeated outside the subquery so that PostgreSQL, rechecking
        // a row someone changed meanwhile, skips it when it is no longer late.
        None => format!(
            "UPDATE tickets SET {set} WHERE id IN (SELECT id FROM tickets WHERE {late} ORDER BY id LIMIT $2 FOR UPDATE \
             SKIP LOCKED) AND {late} {returning}"
        ),
    };
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(now);
        let q = match &candidates {
            Some((_, ids)) => q.bind(ids),
            None => q.bind(limit),
        };
        let rows: Vec<SweptRow> = q.fetch_all(&mut *tx).await?;
        // A full wave of candidates (SQLite) or of flagged tickets (PostgreSQL): look again.
        let more = candidates.as_ref().map_or(rows.len() as i64, |(n, _)| *n) >= limit;
        let mut hit: Vec<Breached> = rows
            .into_iter()
            .map(|(id, number, engineer_id, r, a, s)| {
                let clocks = [(r, "respond"), (a, "arrive"), (s, "resolve")]
                    .into_iter()
                    .filter(|(b, _)| b.unwrap_or(false))
                    .map(|(_, c)| c)
                    .collect();
                Breached { id, number, engineer_id, clocks }
            })
            .collect();
        hit.sort_by_key(|b| b.id);
        // 1,000 rows a statement keeps within either database's limit of bound values.
        for chunk in hit.chunks(1000) {
            let rows = values_rows(chunk.len(), 4, "(?, $1, $2, $3, 'sla_breach', NULL, NULL, NULL, ?)");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, \
                    note, data_json) VALUES {rows}"
            )))
            .bind(now)
            .bind(w.user_id)
            .bind(&w.name);
            for b in chunk {
                q = q.bind(b.id).bind(serde_json::json!({"clocks": b.clocks}).to_string());
            }
            q.execute(&mut *tx).await?;
        }
        let notes = if hit.is_empty() { Vec::new() } else { notify(&hit) };
        for chunk in notes.chunks(1000) {
            let rows = values_rows(chunk.len(), 2, "(?, $1, ?, ?, ?)");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO notifications (user_id, at, kind, ticket_id, args_json) VALUES {rows}"
            )))
            .bind(now);
            for n in chunk {
                q = q.bind(n.note.user_id).bind(n.note.kind.as_str()).bind(n.ticket_id).bind(n.note.args.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Swept { breached: hit, more }
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SlaRow {
    pub priority: String,
    pub respond_minutes: i32,
    pub arrive_minutes: i32,
    pub resolve_minutes: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn sla_policies(db: &Db) -> Result<Vec<SlaRow>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, SlaRow>(
            "SELECT * FROM sla_policies ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' \
            THEN 2 ELSE 3 END",
        )
        .fetch_all(p)
        .await?
    }))
}

pub async fn set_sla_policy(db: &Db, w: &Writer, row: &SlaRow) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO sla_policies (priority, respond_minutes, arrive_minutes, resolve_minutes, updated_at) \
                VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (priority) DO UPDATE SET respond_minutes = excluded.respond_minutes, arrive_minutes = \
             excluded.arrive_minutes, \
             resolve_minutes = excluded.resolve_minutes, updated_at = excluded.updated_at",
        )
        .bind(&row.priority)
        .bind(row.respond_minutes)
        .bind(row.arrive_minutes)
        .bind(row.resolve_minutes)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            &mut *tx,
            w,
            "sla_policy",
            0_i64,
            "update",
            &row.priority,
            None,
            Some(serde_json::json!({"priority": row.priority, "respond_minutes": row.respond_minutes,
                    "arrive_minutes": row.arrive_minutes, "resolve_minutes": row.resolve_minutes})),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}
