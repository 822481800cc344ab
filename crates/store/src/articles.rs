//! Know-how articles (维护心得): written, reviewed, published into the search, suggested on
//! tickets of the same model or fault.

use crate::db::WritePool;
use crate::{Db, Page, Paged, Result, StoreError, Writer, map_write_err, on_db, search};
use aftercare_domain::System;
use aftercare_domain::articles::{ArticleStatus, NewArticle};
use aftercare_domain::tickets::FaultType;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ArticleRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub cause: Option<String>,
    pub fix: Option<String>,
    pub prevention: Option<String>,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub system: Option<System>,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub fault_type: Option<FaultType>,
    pub subcategory: Option<String>,
    pub model: Option<String>,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ArticleStatus,
    pub review_note: Option<String>,
    pub author_id: i64,
    pub author_name: String,
    pub reviewed_by_name: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const SELECT: &str = "SELECT a.id, a.title, a.body, a.cause, a.fix, a.prevention, a.system, a.fault_type, \
    a.subcategory, a.model, a.ticket_id, t.number AS ticket_number, a.status, a.review_note, a.author_id, \
    u.display_name AS author_name, r.display_name AS reviewed_by_name, a.published_at, a.created_at, \
    a.updated_at, a.version \
    FROM articles a JOIN users u ON u.id = a.author_id LEFT JOIN users r ON r.id = a.reviewed_by \
    LEFT JOIN tickets t ON t.id = a.ticket_id";

/// The filters of the list.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub status: Option<ArticleStatus>,
    /// Only this author's (his own drafts and rejections).
    pub author_id: Option<i64>,
    /// Published ones, plus everything by this author (what a technician may read).
    pub readable_by: Option<i64>,
    pub system: Option<System>,
}

pub async fn create(db: &Db, w: &Writer, author: i64, a: &NewArticle, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO articles (title, body, cause, fix, prevention, system, fault_type, subcategory, model, \
                ticket_id, status, author_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11, $12, $12) RETURNING id",
        )
        .bind(&a.title)
        .bind(&a.body)
        .bind(&a.cause)
        .bind(&a.fix)
        .bind(&a.prevention)
        .bind(a.system.map(|s| s.as_str()))
        .bind(a.fault_type.map(|s| s.as_str()))
        .bind(&a.subcategory)
        .bind(&a.model)
        .bind(a.ticket_id)
        .bind(author)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["ticket_id"]))?;
        crate::audit::record(&mut *tx, w, "article", id, "create", &a.title, None, None).await?;
        tx.commit().await?;
        id
    }))
}

/// Rewrites an article at `version`; an edit of a rejected or published article by its
/// author sends it back to review (a reviewer's correction keeps it published). A
/// published article's search document is rewritten in the same transaction.
pub async fn update(
    db: &Db,
    w: &Writer,
    id: i64,
    version: i64,
    a: &NewArticle,
    status: ArticleStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE articles SET title = $3, body = $4, cause = $5, fix = $6, prevention = $7, system = $8, \
                fault_type = $9, subcategory = $10, model = $11, ticket_id = $12, status = $13, updated_at = $14, \
                version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(id)
        .bind(version)
        .bind(&a.title)
        .bind(&a.body)
        .bind(&a.cause)
        .bind(&a.fix)
        .bind(&a.prevention)
        .bind(a.system.map(|s| s.as_str()))
        .bind(a.fault_type.map(|s| s.as_str()))
        .bind(&a.subcategory)
        .bind(&a.model)
        .bind(a.ticket_id)
        .bind(status.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["ticket_id"]))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        index(&mut *tx, sqlx_backend(db), id, a, status).await?;
        crate::audit::record(&mut *tx, w, "article", id, "update", &a.title, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

fn sqlx_backend(db: &Db) -> bool {
    matches!(db, Db::Sqlite(_))
}

/// Writes (published) or removes (otherwise) the article's search document.
async fn index<'c>(
    conn: impl Into<crate::db::Conn<'c>>,
    sqlite: bool,
    id: i64,
    a: &NewArticle,
    status: ArticleStatus,
) -> Result<()> {
    let mut conn = conn.into();
    if status == ArticleStatus::Published {
        let text = [
            Some(a.title.as_str()),
            Some(a.body.as_str()),
            a.cause.as_deref(),
            a.fix.as_deref(),
            a.prevention.as_deref(),
            a.model.as_deref(),
            a.subcategory.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let sql = search::upsert_many_sql(sqlite, "article", 1, 1);
        crate::on_conn!(&mut conn, |c| {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .bind(None::<i64>)
                .bind(search::index_body(&text))
                .execute(&mut **c)
                .await?;
        });
    } else {
        crate::on_conn!(&mut conn, |c| {
            sqlx::query("DELETE FROM search_docs WHERE kind = 'article' AND ref_id = $1")
                .bind(id)
                .execute(&mut **c)
                .await?;
        });
    }
    Ok(())
}

/// Publishes or rejects a submitted article; `Stale` when it is no longer submitted.
pub async fn review(
    db: &Db,
    w: &Writer,
    id: i64,
    to: ArticleStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = get(db, id).await?;
    let a = NewArticle {
        title: row.title.clone(),
        body: row.body.clone(),
        cause: row.cause.clone(),
        fix: row.fix.clone(),
        prevention: row.prevention.clone(),
        system: row.system,
        fault_type: row.fault_type,
        subcategory: row.subcategory.clone(),
        model: row.model.clone(),
        ticket_id: row.ticket_id,
    };
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE articles SET status = $2, review_note = $3, reviewed_by = $4, \
                published_at = CASE WHEN $2 = 'published' THEN $5 ELSE published_at END, updated_at = $5, \
                version = version + 1 WHERE id = $1 AND status = 'submitted'",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(note)
        .bind(w.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        index(&mut *tx, sqlx_backend(db), id, &a, to).await?;
        crate::audit::record(&mut *tx, w, "article", id, to.as_str(), note.unwrap_or(&row.title), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<ArticleRow> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, ArticleRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

pub async fn list(db: &Db, f: &ArticleFilter, page: Page) -> Result<Paged<ArticleRow>> {
    let mut conds: Vec<String> = Vec::new();
    let mut n = 0;
    let mut arg = || {
        n += 1;
        format!("${n}")
    };
    if f.status.is_some() {
        conds.push(format!("a.status = {}", arg()));
    }
    if f.author_id.is_some() {
        conds.push(format!("a.author_id = {}", arg()));
    }
    if f.readable_by.is_some() {
        conds.push(format!("(a.status = 'published' OR a.author_id = {})", arg()));
    }
    if f.system.is_some() {
        conds.push(format!("a.system = {}", arg()));
    }
    let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    let sql = format!("{SELECT}{filter} ORDER BY a.updated_at DESC, a.id DESC {}", page.sql());
    let count = format!("SELECT COUNT(*) FROM articles a{filter}");
    macro_rules! bind_filter {
        ($q:expr) => {{
            let mut q = $q;
            if let Some(s) = f.status {
                q = q.bind(s.as_str());
            }
            if let Some(u) = f.author_id {
                q = q.bind(u);
            }
            if let Some(u) = f.readable_by {
                q = q.bind(u);
            }
            if let Some(s) = f.system {
                q = q.bind(s.as_str());
            }
            q
        }};
    }
    let (items, total) = on_db!(db, |p| (
        bind_filter!(sqlx::query_as::<_, ArticleRow>(sqlx::AssertSqlSafe(sql.as_str()))).fetch_all(p).await?,
        bind_filter!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.as_str()))).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

/// Published articles for a ticket: the same model as one of its pieces of equipment, or
/// the same fault subcategory; the closest (both) first, at most `limit`.
pub async fn for_ticket(db: &Db, ticket_id: i64, limit: i64) -> Result<Vec<ArticleRow>> {
    let sql = format!(
        "{SELECT} WHERE a.status = 'published' AND a.id IN ( \
            SELECT x.id FROM articles x JOIN equipment e ON e.model = x.model \
              JOIN ticket_equipment te ON te.equipment_id = e.id \
              WHERE x.status = 'published' AND te.ticket_id = $1 \
            UNION SELECT x.id FROM articles x JOIN tickets k ON k.fault_subcategory = x.subcategory \
              WHERE x.status = 'published' AND k.id = $1) \
         ORDER BY a.published_at DESC, a.id DESC LIMIT $2"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, ArticleRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(ticket_id)
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// How many articles were written about this ticket (any status).
pub async fn count_for_ticket(db: &Db, ticket_id: i64) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM articles WHERE ticket_id = $1")
        .bind(ticket_id)
        .fetch_one(p)
        .await?))
}
