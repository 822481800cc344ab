//! Meetings (技术研讨会议, 数据分析会): the meeting, its agenda points in order, who came.

use crate::db::WritePool;
use crate::{Db, Page, Paged, Result, StoreError, Writer, map_write_err, on_db};
use aftercare_domain::meetings::{Holding, MeetingKind, MeetingStatus, NewAgenda, NewMeeting};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MeetingRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: MeetingKind,
    pub held_on: NaiveDate,
    #[sqlx(try_from = "String")]
    pub status: MeetingStatus,
    pub title: String,
    pub minutes: Option<String>,
    pub decisions: Option<String>,
    pub held_at: Option<DateTime<Utc>>,
    /// Their names, joined by 、.
    pub attendee_names: String,
    pub agenda_points: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AgendaRow {
    pub id: i64,
    pub position: i64,
    pub title: String,
    pub detail: Option<String>,
    pub presenter_id: Option<i64>,
    pub presenter_name: Option<String>,
    pub proposed_by_name: Option<String>,
}

fn select(db: &Db) -> String {
    let names = match db {
        Db::Sqlite(_) => {
            "(SELECT COALESCE(group_concat(u.display_name, '、'), '') FROM meeting_attendees a \
                JOIN users u ON u.id = a.user_id WHERE a.meeting_id = m.id)"
        }
        Db::Postgres(_) => {
            "(SELECT COALESCE(string_agg(u.display_name, '、' ORDER BY u.id), '') FROM meeting_attendees a \
                JOIN users u ON u.id = a.user_id WHERE a.meeting_id = m.id)"
        }
    };
    format!(
        "SELECT m.id, m.kind, m.held_on, m.status, m.title, m.minutes, m.decisions, m.held_at, {names} AS attendee_names, \
            (SELECT COUNT(*) FROM meeting_agenda x WHERE x.meeting_id = m.id) AS agenda_points, m.created_at \
         FROM meetings m"
    )
}

async fn insert_agenda<'c>(
    tx: impl Into<crate::db::Conn<'c>>,
    w: &Writer,
    meeting: i64,
    first: i64,
    points: &[NewAgenda],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut conn = tx.into();
    for (i, a) in points.iter().enumerate() {
        crate::on_conn!(&mut conn, |c| {
            sqlx::query(
                "INSERT INTO meeting_agenda (meeting_id, position, title, detail, presenter_id, proposed_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(meeting)
            .bind(first + i as i64)
            .bind(&a.title)
            .bind(&a.detail)
            .bind(a.presenter_id)
            .bind(w.user_id)
            .bind(now)
            .execute(&mut **c)
            .await
            .map_err(|e| map_write_err(e, &["presenter_id"]))?;
        });
    }
    Ok(())
}

pub async fn create(db: &Db, w: &Writer, m: &NewMeeting, title: &str, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO meetings (kind, held_on, status, title, minutes, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'planned', $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(m.kind.as_str())
        .bind(m.held_on)
        .bind(title)
        .bind(&m.minutes)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for u in &m.attendee_ids {
            sqlx::query("INSERT INTO meeting_attendees (meeting_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(u)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_write_err(e, &["attendee_ids"]))?;
        }
        insert_agenda(&mut *tx, w, id, 1, &m.agenda, now).await?;
        crate::audit::record(&mut *tx, w, "meeting", id, "create", title, None, None).await?;
        tx.commit().await?;
        id
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<MeetingRow> {
    let sql = format!("{} WHERE m.id = $1", select(db));
    on_db!(db, |p| sqlx::query_as::<_, MeetingRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

pub async fn list(db: &Db, page: Page) -> Result<Paged<MeetingRow>> {
    let sql = format!("{} ORDER BY m.held_on DESC, m.id DESC {}", select(db), page.sql());
    let (items, total) = on_db!(db, |p| (
        sqlx::query_as::<_, MeetingRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM meetings").fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn agenda(db: &Db, meeting: i64) -> Result<Vec<AgendaRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, AgendaRow>(
        "SELECT a.id, a.position, a.title, a.detail, a.presenter_id, pu.display_name AS presenter_name, \
            bu.display_name AS proposed_by_name FROM meeting_agenda a LEFT JOIN users pu ON pu.id = a.presenter_id \
            LEFT JOIN users bu ON bu.id = a.proposed_by WHERE a.meeting_id = $1 ORDER BY a.position, a.id"
    )
    .bind(meeting)
    .fetch_all(p)
    .await?))
}

pub async fn attendees(db: &Db, meeting: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM meeting_attendees WHERE meeting_id = $1 ORDER BY user_id"
    )
    .bind(meeting)
    .fetch_all(p)
    .await?))
}

/// Adds a point at the end of a planned meeting's agenda; `Stale` once it was held.
pub async fn add_point(db: &Db, w: &Writer, meeting: i64, a: &NewAgenda, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT (SELECT COALESCE(MAX(position), 0) FROM meeting_agenda WHERE meeting_id = $1) FROM meetings \
             WHERE id = $1 AND status = 'planned'",
        )
        .bind(meeting)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) = last else { return Err(StoreError::Stale) };
        insert_agenda(&mut *tx, w, meeting, last + 1, std::slice::from_ref(a), now).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The engineer's order: `ids` first to last (every point of the meeting, each once).
pub async fn order(db: &Db, w: &Writer, meeting: i64, ids: &[i64]) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for (i, id) in ids.iter().enumerate() {
            let n = sqlx::query("UPDATE meeting_agenda SET position = $3 WHERE id = $2 AND meeting_id = $1")
                .bind(meeting)
                .bind(id)
                .bind(i as i64 + 1)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::Stale);
            }
        }
        crate::audit::record(&mut *tx, w, "meeting", meeting, "order", "", None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// `planned → held` with the minutes, decisions and who came.
pub async fn hold(db: &Db, w: &Writer, meeting: i64, h: &Holding, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE meetings SET status = 'held', minutes = $2, decisions = $3, held_at = $4, updated_at = $4 \
             WHERE id = $1 AND status = 'planned'",
        )
        .bind(meeting)
        .bind(&h.minutes)
        .bind(&h.decisions)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        sqlx::query("DELETE FROM meeting_attendees WHERE meeting_id = $1").bind(meeting).execute(&mut *tx).await?;
        for u in &h.attendee_ids {
            sqlx::query("INSERT INTO meeting_attendees (meeting_id, user_id) VALUES ($1, $2)")
                .bind(meeting)
                .bind(u)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_write_err(e, &["attendee_ids"]))?;
        }
        crate::audit::record(&mut *tx, w, "meeting", meeting, "hold", "", None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}
