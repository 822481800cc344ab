//! Group robots: the webhooks notifications are forwarded to, and the forwarder's cursor
//! over the notifications table with the send jobs it queues (one transaction each step).

use crate::db::WritePool;
use crate::notifications::NotificationRow;
use crate::{Db, Result, StoreError, Writer, map_write_err, on_db};
use aftercare_domain::robots::{NewRobot, Platform};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RobotRow {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub platform: Platform,
    /// The webhook address holds the group's secret key: only managers and admins read it.
    pub url: String,
    pub role: Option<String>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT r.id, r.name, r.platform, r.url, r.role, r.user_id, u.display_name AS user_name, \
    r.active, r.created_at FROM robot_hooks r LEFT JOIN users u ON u.id = r.user_id";

pub async fn list(db: &Db, active_only: bool) -> Result<Vec<RobotRow>> {
    let sql = format!("{SELECT}{} ORDER BY r.id", if active_only { " WHERE r.active" } else { "" });
    Ok(on_db!(db, |p| sqlx::query_as::<_, RobotRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

pub async fn create(db: &Db, w: &Writer, r: &NewRobot, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO robot_hooks (name, platform, url, role, user_id, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7) RETURNING id",
        )
        .bind(&r.name)
        .bind(r.platform.as_str())
        .bind(&r.url)
        .bind(r.role.map(|x| x.as_str()))
        .bind(r.user_id.map(|u| u.0))
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["user_id"]))?;
        // The address is a secret: the audit names the robot, not its key.
        crate::audit::record(&mut *tx, w, "robot", id, "create", &r.name, None, None).await?;
        tx.commit().await?;
        id
    }))
}

/// Switches a robot off (it is kept, so the audit trail still names it).
pub async fn deactivate(db: &Db, w: &Writer, id: i64) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE robot_hooks SET active = FALSE WHERE id = $1 AND active")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::record(&mut *tx, w, "robot", id, "delete", "", None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// A notification waiting to be forwarded, with the roles of whom it is for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    #[sqlx(flatten)]
    pub n: NotificationRow,
    pub roles: String,
}

const CURSOR: &str = "robot_forwarded_id";

/// The cursor and the next notifications after it (oldest first, at most `limit`).
pub async fn pending(db: &Db, limit: i64) -> Result<(i64, Vec<Pending>)> {
    let cursor: i64 = crate::settings::setting(db, CURSOR).await?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let rows = on_db!(db, |p| sqlx::query_as::<_, Pending>(
        "SELECT n.*, u.roles FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.id > $1 ORDER BY n.id \
         LIMIT $2"
    )
    .bind(cursor)
    .bind(limit)
    .fetch_all(p)
    .await?);
    Ok((cursor, rows))
}

/// Queues the send jobs and moves the cursor from `from` to `to`, in one transaction; `Stale`
/// when another node moved it first (its jobs stand, these are not queued twice).
pub async fn forward(db: &Db, from: i64, to: i64, jobs: &[(String, String)], now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE settings SET value = $2 WHERE key = $1 AND value = $3")
            .bind(CURSOR)
            .bind(to.to_string())
            .bind(from.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        for (kind, payload) in jobs {
            sqlx::query("INSERT INTO jobs (kind, payload, run_at) VALUES ($1, $2, $3)")
                .bind(kind)
                .bind(payload)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
