//! The week's work per person and day: scheduled repairs, planned rounds, trips and the
//! engineer's own items, each with whether it was done; and the week's publication.

use crate::db::WritePool;
use crate::{Db, Result, StoreError, Writer, map_write_err, on_db};
use aftercare_domain::work_plan::{NewPlanItem, PlanKind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A repair of the week: its technician, when, and where it stands.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlannedRepair {
    pub user_id: i64,
    pub id: i64,
    pub number: String,
    pub title: String,
    pub customer_name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
}

/// A round, a trip or an item of the week on its day.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlannedDay {
    pub user_id: i64,
    pub id: i64,
    pub day: NaiveDate,
    pub label: String,
    pub place: Option<String>,
    pub status: String,
    pub done: bool,
    pub slipped_reason: Option<String>,
}

pub async fn repairs(db: &Db, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<PlannedRepair>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, PlannedRepair>(
        "SELECT tt.user_id, t.id, t.number, t.title, c.name AS customer_name, t.scheduled_at, t.status \
         FROM tickets t JOIN ticket_technicians tt ON tt.ticket_id = t.id JOIN customers c ON c.id = t.customer_id \
         WHERE t.scheduled_at >= $1 AND t.scheduled_at < $2 AND t.status <> 'cancelled' ORDER BY t.scheduled_at, t.id"
    )
    .bind(from)
    .bind(until)
    .fetch_all(p)
    .await?))
}

pub async fn rounds(db: &Db, from: NaiveDate, until: NaiveDate) -> Result<Vec<PlannedDay>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, PlannedDay>(
        "SELECT it.user_id, i.id, i.planned_on AS day, i.number AS label, c.name AS place, i.status, \
            (i.status = 'completed') AS done, i.cancel_reason AS slipped_reason \
         FROM inspections i JOIN inspection_technicians it ON it.inspection_id = i.id \
            JOIN customers c ON c.id = i.customer_id \
         WHERE i.planned_on >= $1 AND i.planned_on <= $2 ORDER BY i.planned_on, i.id"
    )
    .bind(from)
    .bind(until)
    .fetch_all(p)
    .await?))
}

pub async fn trips(db: &Db, from: NaiveDate, until: NaiveDate) -> Result<Vec<PlannedDay>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, PlannedDay>(
        "SELECT s.user_id, t.id, t.trip_date AS day, t.number AS label, \
            (SELECT c.town FROM trip_stops x JOIN customers c ON c.id = x.customer_id WHERE x.trip_id = t.id \
                ORDER BY x.position LIMIT 1) AS place, t.status, (t.status = 'returned') AS done, \
            t.cancel_reason AS slipped_reason \
         FROM trips t JOIN trip_staff s ON s.trip_id = t.id \
         WHERE t.trip_date >= $1 AND t.trip_date <= $2 ORDER BY t.trip_date, t.id"
    )
    .bind(from)
    .bind(until)
    .fetch_all(p)
    .await?))
}

pub async fn items(db: &Db, from: NaiveDate, until: NaiveDate) -> Result<Vec<PlannedDay>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, PlannedDay>(
        "SELECT w.user_id, w.id, w.day, w.title AS label, c.name AS place, w.kind AS status, w.done, w.slipped_reason \
         FROM work_plan_items w LEFT JOIN customers c ON c.id = w.customer_id \
         WHERE w.day >= $1 AND w.day <= $2 ORDER BY w.day, w.id"
    )
    .bind(from)
    .bind(until)
    .fetch_all(p)
    .await?))
}

pub async fn add_item(db: &Db, w: &Writer, i: &NewPlanItem, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO work_plan_items (day, user_id, kind, title, customer_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(i.day)
        .bind(i.user_id)
        .bind(i.kind.as_str())
        .bind(&i.title)
        .bind(i.customer_id)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["user_id", "customer_id"]))?;
        crate::audit::record(&mut *tx, w, "work_plan_item", id, "create", &i.title, None, None).await?;
        tx.commit().await?;
        id
    }))
}

/// Done, or why it slipped.
pub async fn update_item(db: &Db, w: &Writer, id: i64, done: bool, reason: Option<&str>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query("UPDATE work_plan_items SET done = $2, slipped_reason = $3 WHERE id = $1")
            .bind(id)
            .bind(done)
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::record(&mut *tx, w, "work_plan_item", id, "update", reason.unwrap_or_default(), None, None)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// When the week was published, and by whom.
pub async fn published(db: &Db, monday: NaiveDate) -> Result<Option<(DateTime<Utc>, Option<String>)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (DateTime<Utc>, Option<String>)>(
        "SELECT w.published_at, u.display_name FROM work_plans w LEFT JOIN users u ON u.id = w.published_by \
         WHERE w.week_monday = $1"
    )
    .bind(monday)
    .fetch_optional(p)
    .await?))
}

pub async fn publish(db: &Db, w: &Writer, monday: NaiveDate, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO work_plans (week_monday, published_at, published_by) VALUES ($1, $2, $3) \
             ON CONFLICT (week_monday) DO UPDATE SET published_at = $2, published_by = $3",
        )
        .bind(monday)
        .bind(now)
        .bind(w.user_id)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(&mut *tx, w, "work_plan", 0, "publish", &monday.to_string(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The kind a manual item's `status` column carries.
pub fn kind_of(row: &PlannedDay) -> Option<PlanKind> {
    PlanKind::parse(&row.status)
}
