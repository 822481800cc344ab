//! The faults of past months kept per grouping (migration 0021), so that an analysis over a
//! year reads a few thousand kept rows instead of counting half a million tickets. The
//! service decides which months are whole and past; this module reads, writes and drops
//! them, and tells which months the tickets' changes since the last look have touched.

use crate::analysis::FaultCount;
use crate::db::WritePool;
use crate::{Db, Result, on_db};
use aftercare_domain::analysis::FaultBy;
use chrono::{DateTime, NaiveDate, Utc};

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Of `months`, those of the grouping kept and counted after `fresh_after`.
pub async fn counted(db: &Db, by: FaultBy, months: &[NaiveDate], fresh_after: DateTime<Utc>) -> Result<Vec<NaiveDate>> {
    if months.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT month FROM fault_month_counts WHERE grouped_by = $1 AND counted_at > $2 AND month IN ({})",
        placeholders(3, months.len())
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())).bind(by.as_str()).bind(fresh_after);
        for m in months {
            q = q.bind(*m);
        }
        q.fetch_all(p).await?
    }))
}

/// The kept groups of `months` added up, one row per group (the latest label of each).
pub async fn sum(db: &Db, by: FaultBy, months: &[NaiveDate]) -> Result<Vec<FaultCount>> {
    if months.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT key, MAX(label) AS label, MAX(label_en) AS label_en, CAST(SUM(tickets) AS BIGINT) AS tickets, \
            CAST(SUM(repeat) AS BIGINT) AS repeat, CAST(SUM(resolved) AS BIGINT) AS resolved, SUM(hours) AS hours \
         FROM fault_months WHERE grouped_by = $1 AND month IN ({}) GROUP BY key",
        placeholders(2, months.len())
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, FaultCount>(sqlx::AssertSqlSafe(sql.as_str())).bind(by.as_str());
        for m in months {
            q = q.bind(*m);
        }
        q.fetch_all(p).await?
    }))
}

/// Rows per statement when a month is written (9 parameters each).
const CHUNK: usize = 200;

/// Keeps a month's groups as counted at `now`, replacing what was kept.
pub async fn keep(db: &Db, by: FaultBy, month: NaiveDate, rows: &[FaultCount], now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query("DELETE FROM fault_months WHERE grouped_by = $1 AND month = $2")
            .bind(by.as_str())
            .bind(month)
            .execute(&mut *tx)
            .await?;
        for chunk in rows.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", placeholders(i * 9 + 1, 9))).collect();
            // Two readers may count the same month at once: the later one's rows win.
            let sql = format!(
                "INSERT INTO fault_months (grouped_by, month, key, label, label_en, tickets, repeat, resolved, hours) \
                 VALUES {} ON CONFLICT (grouped_by, month, key) DO UPDATE SET label = excluded.label, \
                 label_en = excluded.label_en, tickets = excluded.tickets, repeat = excluded.repeat, \
                 resolved = excluded.resolved, hours = excluded.hours",
                values.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(by.as_str())
                    .bind(month)
                    .bind(&r.key)
                    .bind(&r.label)
                    .bind(&r.label_en)
                    .bind(r.tickets)
                    .bind(r.repeat)
                    .bind(r.resolved)
                    .bind(r.hours);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO fault_month_counts (grouped_by, month, counted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (grouped_by, month) DO UPDATE SET counted_at = excluded.counted_at",
        )
        .bind(by.as_str())
        .bind(month)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// How many changed tickets are looked at one by one; past that, every month from the
/// earliest one on is counted again.
pub const CHANGES_ONE_BY_ONE: i64 = 5_000;

/// The tickets changed since the kept months last looked.
pub struct Changes {
    /// The newest ticket event: the watermark to move to.
    pub seen: i64,
    /// When the changed tickets were reported (at most [`CHANGES_ONE_BY_ONE`]).
    pub reported: Vec<DateTime<Utc>>,
    /// When there were more: the earliest report time among them all.
    pub earliest: Option<DateTime<Utc>>,
}

/// The tickets' changes since the kept months last looked (none when no ticket event is new).
pub async fn changes(db: &Db) -> Result<Option<Changes>> {
    Ok(on_db!(db, |p| {
        let seen: i64 = sqlx::query_scalar("SELECT event_id FROM fault_month_watermark WHERE id = 1")
            .fetch_optional(p)
            .await?
            .unwrap_or(0);
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM ticket_events").fetch_one(p).await?;
        match newest {
            Some(newest) if newest > seen => {
                let reported: Vec<DateTime<Utc>> = sqlx::query_scalar(
                    "SELECT DISTINCT t.created_at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
                     WHERE e.id > $1 AND e.id <= $2 LIMIT $3",
                )
                .bind(seen)
                .bind(newest)
                .bind(CHANGES_ONE_BY_ONE + 1)
                .fetch_all(p)
                .await?;
                let earliest = if reported.len() as i64 > CHANGES_ONE_BY_ONE {
                    sqlx::query_scalar(
                        "SELECT MIN(t.created_at) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
                         WHERE e.id > $1 AND e.id <= $2",
                    )
                    .bind(seen)
                    .bind(newest)
                    .fetch_one(p)
                    .await?
                } else {
                    None
                };
                Some(Changes { seen: newest, reported, earliest })
            }
            _ => None,
        }
    }))
}

/// Drops the kept `months` (all groupings) and moves the watermark to `seen`, in one
/// transaction.
pub async fn forget(db: &Db, months: &[NaiveDate], seen: i64) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        if !months.is_empty() {
            let list = placeholders(1, months.len());
            for table in ["fault_months", "fault_month_counts"] {
                let sql = format!("DELETE FROM {table} WHERE month IN ({list})");
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for m in months {
                    q = q.bind(*m);
                }
                q.execute(&mut *tx).await?;
            }
        }
        sqlx::query("UPDATE fault_month_watermark SET event_id = $1 WHERE id = 1 AND event_id < $1")
            .bind(seen)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}
