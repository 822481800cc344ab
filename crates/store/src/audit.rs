//! The audit trail: append-only rows of who changed what, when, before → after.

use crate::db::Conn;
use crate::db::Filter;
use crate::{Db, Page, Paged, Result, Writer, bind_args, db::Arg, on_conn, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// `customer`, `equipment`, `user`, …
    pub entity: String,
    pub entity_id: i64,
    /// `create`, `update`, `delete`, `import`, `login`, …
    pub action: String,
    /// A one-line description (the record's name or serial number).
    pub summary: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// Appends one entry inside the caller's transaction (`&mut *tx`).
#[allow(clippy::too_many_arguments)]
pub async fn record<'c>(
    conn: impl Into<Conn<'c>>,
    w: &Writer,
    entity: &str,
    entity_id: i64,
    action: &str,
    summary: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    let before = before.map(|v| v.to_string());
    let after = after.map(|v| v.to_string());
    let sql = "INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, before_json, \
        after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    on_conn!(&mut conn.into(), |c| {
        sqlx::query(sql)
            .bind(chrono::Utc::now())
            .bind(w.user_id)
            .bind(&w.name)
            .bind(entity)
            .bind(entity_id)
            .bind(action)
            .bind(summary)
            .bind(&before)
            .bind(&after)
            .execute(&mut **c)
            .await?;
    });
    Ok(())
}

/// Appends an entry that is not part of another write (sign-ins, exports).
pub async fn append(db: &Db, w: &Writer, entity: &str, entity_id: i64, action: &str, summary: &str) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin().await?;
        record(&mut *tx, w, entity, entity_id, action, summary, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub async fn list(db: &Db, q: &AuditQuery, page: Page) -> Result<Paged<AuditEntry>> {
    let mut f = Filter::default();
    if let Some(v) = &q.entity {
        let p = f.arg(Arg::Text(v.clone()));
        f.and(format!("entity = {p}"));
    }
    if let Some(v) = q.entity_id {
        let p = f.arg(Arg::I64(v));
        f.and(format!("entity_id = {p}"));
    }
    if let Some(v) = q.actor_id {
        let p = f.arg(Arg::I64(v));
        f.and(format!("actor_id = {p}"));
    }
    if let Some(v) = &q.action {
        let p = f.arg(Arg::Text(v.clone()));
        f.and(format!("action = {p}"));
    }
    let mut time_args = Vec::new();
    if let Some(v) = q.from {
        time_args.push(("at >= ", v));
    }
    if let Some(v) = q.to {
        time_args.push(("at < ", v));
    }
    // Times bind as their own type so both backends compare them natively.
    let base = f.args.len();
    for (i, (op, _)) in time_args.iter().enumerate() {
        f.and(format!("{op}${}", base + i + 1));
    }
    let w = f.where_sql();
    let sql = format!("SELECT * FROM audit_log {w} ORDER BY id DESC {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM audit_log {w}");
    let (items, total) = on_db!(db, |p| {
        let mut q1 = bind_args!(sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql.as_str())), f.args);
        let mut q2 = bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args);
        for (_, t) in &time_args {
            q1 = q1.bind(*t);
            q2 = q2.bind(*t);
        }
        (q1.fetch_all(p).await?, q2.fetch_one(p).await?)
    });
    Ok(Paged { items, total, capped: false })
}
