//! Photos and files attached to a ticket (a school's photos of the fault from the portal,
//! or anything uploaded through the API). The bytes live in `ticket_attachments`.

use crate::db::WritePool;
use crate::{Db, Result, Writer, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a list shows of an attachment: everything but the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AttachmentMeta {
    pub id: i64,
    pub ticket_id: i64,
    pub filename: String,
    /// The type the bytes really are (checked on upload), e.g. `image/jpeg`.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    pub uploaded_by: Option<i64>,
    /// The uploader's display name.
    pub uploaded_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One file to store (the service has checked name, type and size).
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

const META: &str = "SELECT a.id, a.ticket_id, a.filename, a.content_type, CAST(LENGTH(a.data) AS BIGINT) AS size, \
     a.uploaded_by, u.display_name AS uploaded_by_name, a.created_at \
     FROM ticket_attachments a LEFT JOIN users u ON u.id = a.uploaded_by";
const META_WITH_DATA: &str = "SELECT a.id, a.ticket_id, a.filename, a.content_type, CAST(LENGTH(a.data) AS BIGINT) \
    AS size, \
     a.uploaded_by, u.display_name AS uploaded_by_name, a.created_at, a.data \
     FROM ticket_attachments a LEFT JOIN users u ON u.id = a.uploaded_by";

/// Stores `files` on the ticket in one transaction, with one timeline entry and one audit
/// entry for them all; returns the new ids in order. The ticket's version is not bumped:
/// an attachment changes none of its fields.
pub async fn add_many(
    db: &Db,
    w: &Writer,
    ticket_id: i64,
    files: &[NewAttachment],
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
    let data = serde_json::json!({"count": files.len(), "filenames": names});
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let mut ids = Vec::with_capacity(files.len());
        for f in files {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO ticket_attachments (ticket_id, filename, content_type, data, uploaded_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(ticket_id)
            .bind(&f.filename)
            .bind(&f.content_type)
            .bind(&f.data)
            .bind(w.user_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, \
                data_json) \
             VALUES ($1, $2, $3, $4, 'attachment', NULL, NULL, NULL, $5)",
        )
        .bind(ticket_id)
        .bind(now)
        .bind(w.user_id)
        .bind(&w.name)
        .bind(data.to_string())
        .execute(&mut *tx)
        .await?;
        let summary = names.join(", ");
        crate::audit::record(
            &mut *tx,
            w,
            "ticket",
            ticket_id,
            "attach",
            &summary,
            None,
            Some(serde_json::json!({"attachment_ids": ids})),
        )
        .await?;
        tx.commit().await?;
        ids
    }))
}

/// The attachments of a ticket, oldest first, without their bytes.
pub async fn list(db: &Db, ticket_id: i64) -> Result<Vec<AttachmentMeta>> {
    let sql = format!("{META} WHERE a.ticket_id = $1 ORDER BY a.id");
    Ok(on_db!(db, |p| sqlx::query_as::<_, AttachmentMeta>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(ticket_id)
        .fetch_all(p)
        .await?))
}

/// How many files a ticket has.
pub async fn count(db: &Db, ticket_id: i64) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ticket_attachments WHERE ticket_id = $1")
        .bind(ticket_id)
        .fetch_one(p)
        .await?))
}

#[derive(sqlx::FromRow)]
struct WithData {
    #[sqlx(flatten)]
    meta: AttachmentMeta,
    data: Vec<u8>,
}

/// One attachment with its bytes: (metadata, data).
pub async fn get(db: &Db, id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
    let sql = format!("{META_WITH_DATA} WHERE a.id = $1");
    let row = on_db!(db, |p| sqlx::query_as::<_, WithData>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?);
    Ok(row.map(|r| (r.meta, r.data)))
}
