//! Notifications: the bell's list per user, read marks, and those not tied to a ticket change.

use crate::db::Conn;
use crate::db::WritePool;
use crate::on_conn;
use crate::{Db, Page, Paged, Result, on_db, write_once};
use aftercare_domain::notifications::NotificationKind;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: i64,
    pub kind: NotificationKind,
    pub args: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub kind: NotificationKind,
    pub ticket_id: Option<i64>,
    pub args_json: String,
    pub read_at: Option<DateTime<Utc>>,
}

pub async fn notifications(db: &Db, user_id: i64, page: Page) -> Result<Paged<NotificationRow>> {
    let sql = format!("SELECT * FROM notifications WHERE user_id = $1 ORDER BY id DESC {}", page.sql());
    let (items, total) = on_db!(db, |p| (
        sqlx::query_as::<_, NotificationRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(user_id).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notifications WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(p)
            .await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn unread_count(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"
    )
    .bind(user_id)
    .fetch_one(p)
    .await?))
}

/// Marks one (or, with `None`, every) notification of the user read.
pub async fn mark_read(db: &Db, user_id: i64, id: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
    Ok(write_once!(db, |c| sqlx::query(
        "UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND read_at IS NULL AND ($2 < 0 OR id = $2)"
    )
    .bind(user_id)
    .bind(id.unwrap_or(-1))
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected()))
}

/// Notifications not tied to a ticket change (SLA breaches found by the job).
pub async fn notify(db: &Db, ticket_id: Option<i64>, list: &[NewNotification], now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        record(&mut *tx, ticket_id, list, now).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Appends notifications inside the caller's transaction (`&mut *tx`).
pub async fn record<'c>(
    conn: impl Into<Conn<'c>>,
    ticket_id: Option<i64>,
    list: &[NewNotification],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut conn = conn.into();
    let sql = "INSERT INTO notifications (user_id, at, kind, ticket_id, args_json) VALUES ($1, $2, $3, $4, $5)";
    for n in list {
        on_conn!(&mut conn, |c| {
            sqlx::query(sql)
                .bind(n.user_id)
                .bind(now)
                .bind(n.kind.as_str())
                .bind(ticket_id)
                .bind(n.args.to_string())
                .execute(&mut **c)
                .await?;
        });
    }
    Ok(())
}
