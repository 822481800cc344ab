//! Upgrade and replacement suggestions for the installed base (§二 2.6): proposed by a
//! technician or engineer on a piece of equipment, decided by the manager.

use crate::db::{Arg, Filter, WritePool};
use crate::notifications::NewNotification;
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, map_write_err, on_db};
use aftercare_domain::equipment::{SuggestionKind, SuggestionStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SuggestionRow {
    pub id: i64,
    pub equipment_id: i64,
    /// What the equipment is, where: for the list without a second read.
    pub equipment_kind: String,
    pub equipment_model: Option<String>,
    pub equipment_location: Option<String>,
    pub customer_id: i64,
    pub customer_name: String,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    #[sqlx(try_from = "String")]
    pub kind: SuggestionKind,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub status: SuggestionStatus,
    pub decision_note: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the equipment was installed (its age, for leadership's decision).
    pub installed_on: Option<chrono::NaiveDate>,
    /// Tickets the equipment has had over its life.
    pub fault_count: i64,
    /// The inspection round the suggestion came from.
    pub inspection_id: Option<i64>,
    pub inspection_number: Option<String>,
}

const SELECT: &str = "SELECT s.id, s.equipment_id, e.kind AS equipment_kind, e.model AS equipment_model, \
    e.location AS equipment_location, e.customer_id, c.name AS customer_name, s.ticket_id, t.number AS ticket_number, \
    s.kind, s.reason, s.status, s.decision_note, s.decided_by, d.display_name AS decided_by_name, s.decided_at, \
    s.created_by, u.display_name AS created_by_name, s.created_at, e.installed_on, \
    (SELECT COUNT(*) FROM ticket_equipment te WHERE te.equipment_id = s.equipment_id) AS fault_count, \
    s.inspection_id, i.number AS inspection_number \
    FROM equipment_suggestions s JOIN equipment e ON e.id = s.equipment_id JOIN customers c ON c.id = e.customer_id \
    LEFT JOIN tickets t ON t.id = s.ticket_id LEFT JOIN users d ON d.id = s.decided_by \
    LEFT JOIN users u ON u.id = s.created_by LEFT JOIN inspections i ON i.id = s.inspection_id";

/// A suggestion as the service decided it.
#[derive(Debug, Clone)]
pub struct NewSuggestionRow {
    pub equipment_id: i64,
    pub ticket_id: Option<i64>,
    pub kind: SuggestionKind,
    pub reason: String,
}

/// Files a suggestion and tells the managers, in one transaction; returns its id.
pub async fn create(
    db: &Db,
    w: &Writer,
    s: &NewSuggestionRow,
    notify: &[NewNotification],
    now: DateTime<Utc>,
) -> Result<i64> {
    let NewSuggestionRow { equipment_id, ticket_id, kind, reason } = s;
    let (equipment_id, ticket_id, kind) = (*equipment_id, *ticket_id, *kind);
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO equipment_suggestions (equipment_id, ticket_id, kind, reason, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id",
        )
        .bind(equipment_id)
        .bind(ticket_id)
        .bind(kind.as_str())
        .bind(reason)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["equipment_id", "ticket_id"]))?;
        crate::notifications::record(&mut *tx, ticket_id, notify, now).await?;
        crate::audit::record(
            &mut *tx,
            w,
            "suggestion",
            id,
            "create",
            kind.as_str(),
            None,
            Some(serde_json::json!({"equipment_id": equipment_id, "ticket_id": ticket_id, "reason": reason})),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<SuggestionRow> {
    let sql = format!("{SELECT} WHERE s.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, SuggestionRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// The manager's list: by status (all when `None`), newest first; or one equipment's.
pub async fn list(
    db: &Db,
    status: Option<SuggestionStatus>,
    equipment_id: Option<i64>,
    page: Page,
) -> Result<Paged<SuggestionRow>> {
    let mut f = Filter::default();
    if let Some(st) = status {
        let p = f.arg(Arg::Text(st.as_str().into()));
        f.and(format!("s.status = {p}"));
    }
    if let Some(e) = equipment_id {
        let p = f.arg(Arg::I64(e));
        f.and(format!("s.equipment_id = {p}"));
    }
    let w = f.where_sql();
    let count = format!("SELECT COUNT(*) FROM equipment_suggestions s {w}");
    let sql = format!("{SELECT} {w} ORDER BY s.id DESC {}", page.sql());
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, SuggestionRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

/// Open suggestions, for the manager's start page.
pub async fn open_count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM equipment_suggestions WHERE status = 'open'")
        .fetch_one(p)
        .await?))
}

/// Decides an open suggestion; `Stale` when it was decided meanwhile.
pub async fn decide(
    db: &Db,
    w: &Writer,
    id: i64,
    status: SuggestionStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE equipment_suggestions SET status = $2, decision_note = $3, decided_by = $4, decided_at = $5 \
             WHERE id = $1 AND status = 'open'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(note)
        .bind(w.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(
            &mut *tx,
            w,
            "suggestion",
            id,
            "decide",
            status.as_str(),
            None,
            Some(serde_json::json!({"status": status.as_str(), "note": note})),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}
