//! Mail in and out: every message fetched from the IMAP mailbox is kept raw in
//! `mail_messages` before anything is done with it (so a crash or a malformed message loses
//! nothing, and `UNIQUE (mailbox, uidvalidity, uid)` makes a re-fetch a no-op); processing
//! then records the contact, the attachments and the ticket's timeline entry and marks the
//! message processed in one transaction. Also the few reads mail out needs: who at a school
//! gets mail, in which language.

use crate::db::WritePool;
use crate::{Db, Page, Paged, Result, StoreError, on_db, write_once};
use aftercare_domain::mail::MailStatus;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The highest UID kept for this mailbox and UIDVALIDITY (0: none yet). A new UIDVALIDITY
/// (the server renumbered the mailbox) starts again from 0; contacts are still recorded once,
/// by Message-ID.
pub async fn last_uid(db: &Db, mailbox: &str, uidvalidity: i64) -> Result<i64> {
    let n = on_db!(db, |p| sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(uid) FROM mail_messages WHERE mailbox = $1 AND uidvalidity = $2"
    )
    .bind(mailbox)
    .bind(uidvalidity)
    .fetch_one(p)
    .await?);
    Ok(n.unwrap_or(0))
}

/// A message as fetched, with the header fields read from it for the list (if any).
#[derive(Debug, Clone)]
pub struct RawMail<'a> {
    pub mailbox: &'a str,
    pub uidvalidity: i64,
    pub uid: i64,
    pub message_id: Option<String>,
    pub from_addr: Option<String>,
    pub subject: Option<String>,
    pub raw: &'a [u8],
    /// `New`, or `Error` when it is already known that it cannot be processed (too large).
    pub status: MailStatus,
    pub error: Option<String>,
    pub now: DateTime<Utc>,
}

/// Keeps a fetched message; `None` when this UID was kept before (a re-fetch).
pub async fn store_raw(db: &Db, m: &RawMail<'_>) -> Result<Option<i64>> {
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO mail_messages (mailbox, uidvalidity, uid, message_id, from_addr, subject, raw, fetched_at, \
                status, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING \
             RETURNING id",
        )
        .bind(m.mailbox)
        .bind(m.uidvalidity)
        .bind(m.uid)
        .bind(&m.message_id)
        .bind(&m.from_addr)
        .bind(&m.subject)
        .bind(m.raw)
        .bind(m.now)
        .bind(m.status.as_str())
        .bind(&m.error)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        id
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MailRow {
    pub id: i64,
    pub mailbox: String,
    pub uidvalidity: i64,
    pub uid: i64,
    pub message_id: Option<String>,
    pub from_addr: Option<String>,
    pub subject: Option<String>,
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub fetched_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: MailStatus,
    pub error: Option<String>,
    pub contact_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub processed_at: Option<DateTime<Utc>>,
}

pub async fn get(db: &Db, id: i64) -> Result<MailRow> {
    let row = on_db!(db, |p| sqlx::query_as::<_, MailRow>("SELECT * FROM mail_messages WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

/// Messages kept but not processed yet (also those a dead process left behind), oldest first.
pub async fn pending(db: &Db, limit: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM mail_messages WHERE status = 'new' ORDER BY id LIMIT $1"
    )
    .bind(limit)
    .fetch_all(p)
    .await?))
}

/// The message cannot become a contact (malformed, no sender, too large): it stays kept raw
/// with the reason, for someone to look at.
pub async fn mark_error(db: &Db, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "UPDATE mail_messages SET status = 'error', error = $2, processed_at = $3 WHERE id = $1 AND status = 'new'",
        )
        .bind(id)
        .bind(error)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Processing failed for a reason outside the message (the database): keep it `new`, so the
/// next run tries again, and note why.
pub async fn note_retry(db: &Db, id: i64, error: &str) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query("UPDATE mail_messages SET error = $2 WHERE id = $1 AND status = 'new'")
            .bind(id)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The email's entry on a ticket's timeline.
#[derive(Debug, Clone)]
pub struct TicketEmail {
    pub ticket_id: i64,
    pub actor_name: String,
    pub note: String,
    pub data: serde_json::Value,
}

/// What processing one message produced, written in one transaction.
#[derive(Debug, Clone)]
pub struct Processed {
    pub mail_id: i64,
    pub contact_id: i64,
    pub ticket: Option<TicketEmail>,
    pub attachments: Vec<NewAttachment>,
    pub now: DateTime<Utc>,
}

/// Marks the message processed with what it became. `false` (and nothing written) when it
/// was processed meanwhile: the status guard is what keeps a message from being processed twice.
pub async fn finish(db: &Db, done: &Processed) -> Result<bool> {
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE mail_messages SET status = 'processed', error = NULL, contact_id = $2, \
            ticket_id = $3, processed_at = $4 \
                             WHERE id = $1 AND status = 'new'",
        )
        .bind(done.mail_id)
        .bind(done.contact_id)
        .bind(done.ticket.as_ref().map(|t| t.ticket_id))
        .bind(done.now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        for a in &done.attachments {
            sqlx::query(
                "INSERT INTO mail_attachments (mail_id, contact_id, filename, content_type, data) VALUES \
                ($1, $2, $3, $4, $5)",
            )
            .bind(done.mail_id)
            .bind(done.contact_id)
            .bind(&a.filename)
            .bind(&a.content_type)
            .bind(&a.data)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(t) = &done.ticket {
            sqlx::query(
                "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, note, data_json) \
                VALUES ($1, $2, NULL, $3, 'email', $4, $5)",
            )
            .bind(t.ticket_id)
            .bind(done.now)
            .bind(&t.actor_name)
            .bind(&t.note)
            .bind(t.data.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        true
    }))
}

/// Another message (the same Message-ID delivered twice) already became this contact.
pub async fn contact_taken(db: &Db, contact_id: i64, except_mail: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT id FROM mail_messages WHERE contact_id = $1 AND id <> $2 AND status = 'processed' ORDER BY id LIMIT 1"
    )
    .bind(contact_id)
    .bind(except_mail)
    .fetch_optional(p)
    .await?))
}

/// Marks a repeated delivery processed, pointing at the contact it already is.
pub async fn finish_duplicate(db: &Db, id: i64, contact_id: i64, note: &str, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "UPDATE mail_messages SET status = 'processed', error = $3, contact_id = $2, processed_at = $4 \
            WHERE id = $1 AND status = 'new'",
        )
        .bind(id)
        .bind(contact_id)
        .bind(note)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The schools a sender address belongs to: their contact people's and their portal users'
/// addresses, compared without case.
pub async fn schools_of_sender(db: &Db, email: &str) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| {
        sqlx::query_scalar::<_, i64>(
            "SELECT customer_id FROM customer_contacts WHERE LOWER(TRIM(email)) = LOWER($1) \
         UNION SELECT customer_id FROM users WHERE customer_id IS NOT NULL AND active AND LOWER(TRIM(email)) = \
         LOWER($1) \
         ORDER BY 1 LIMIT 5",
        )
        .bind(email.trim())
        .fetch_all(p)
        .await?
    }))
}

/// The school's contact people's addresses (their names beside them), in their order.
pub async fn school_addresses(db: &Db, customer_id: i64) -> Result<Vec<(String, String)>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT TRIM(email), name FROM customer_contacts WHERE customer_id = $1 AND email IS NOT NULL AND \
            TRIM(email) <> '' ORDER BY position, id",
        )
        .bind(customer_id)
        .fetch_all(p)
        .await?
    }))
}

/// The language the school's portal users chose (the first active one's), if it has any.
pub async fn school_locale(db: &Db, customer_id: i64) -> Result<Option<String>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, String>(
        "SELECT locale FROM users WHERE customer_id = $1 AND active ORDER BY id LIMIT 1"
    )
    .bind(customer_id)
    .fetch_optional(p)
    .await?))
}

/// The school's name.
pub async fn school_name(db: &Db, customer_id: i64) -> Result<Option<String>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, String>("SELECT name FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_optional(p)
        .await?))
}

/// Users' display names by id, in the order asked (unknown ids left out).
pub async fn user_names(db: &Db, ids: &[i64]) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(ids.len());
    for id in ids {
        let n = on_db!(db, |p| sqlx::query_scalar::<_, String>("SELECT display_name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await?);
        names.extend(n);
    }
    Ok(names)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AttachmentRow {
    pub id: i64,
    pub mail_id: i64,
    pub contact_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

/// The files that came with a contact's email.
pub async fn attachments_of_contact(db: &Db, contact_id: i64) -> Result<Vec<AttachmentRow>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, AttachmentRow>(
            "SELECT id, mail_id, contact_id, filename, content_type, CAST(LENGTH(data) AS BIGINT) AS size FROM \
            mail_attachments WHERE contact_id = $1 ORDER BY id",
        )
        .bind(contact_id)
        .fetch_all(p)
        .await?
    }))
}

/// One attachment with its bytes.
pub async fn attachment(db: &Db, id: i64) -> Result<Option<(AttachmentRow, Vec<u8>)>> {
    let row = on_db!(db, |p| sqlx::query_as::<_, (i64, i64, Option<i64>, String, String, Vec<u8>)>(
        "SELECT id, mail_id, contact_id, filename, content_type, data FROM mail_attachments WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await?);
    Ok(row.map(|(id, mail_id, contact_id, filename, content_type, data)| {
        let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
        (AttachmentRow { id, mail_id, contact_id, filename, content_type, size }, data)
    }))
}

/// Kept messages, newest first, optionally of one status (`error` is the list to look at).
pub async fn list(db: &Db, status: Option<MailStatus>, page: Page) -> Result<Paged<MailRow>> {
    // The raw message is not read for a list.
    const COLS: &str = "id, mailbox, uidvalidity, uid, message_id, from_addr, subject, CAST(x'' AS BLOB) AS raw, \
        fetched_at, status, error, contact_id, ticket_id, processed_at";
    let cols = match db {
        Db::Sqlite(_) => COLS.to_owned(),
        Db::Postgres(_) => COLS.replace("CAST(x'' AS BLOB)", "''::bytea"),
    };
    let sql =
        format!("SELECT {cols} FROM mail_messages WHERE ($1 = '' OR status = $1) ORDER BY id DESC {}", page.sql());
    let status = status.map(MailStatus::as_str).unwrap_or_default();
    let (items, total) = on_db!(db, |p| (
        sqlx::query_as::<_, MailRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(status).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM mail_messages WHERE ($1 = '' OR status = $1)")
            .bind(status)
            .fetch_one(p)
            .await?,
    ));
    Ok(Paged { items, total, capped: false })
}

/// Ends a job that cannot succeed (a mail the server refused for good, or after too many
/// tries): done, with the reason kept in `last_error`.
pub async fn give_up_job(db: &Db, job_id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query("UPDATE jobs SET done_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1")
            .bind(job_id)
            .bind(now)
            .bind(error)
            .execute(&mut *c)
            .await?;
    });
    Ok(())
}

/// Jobs of `kind` waiting or running, other than `except`.
pub async fn other_pending_jobs(db: &Db, kind: &str, except: i64) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM jobs WHERE kind = $1 AND done_at IS NULL AND id <> $2"
    )
    .bind(kind)
    .bind(except)
    .fetch_one(p)
    .await?))
}

/// Outgoing mail jobs by state, for the tests and the admin's eye: (id, payload, attempts,
/// run_at, last_error, done).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailJobRow {
    pub id: i64,
    pub payload: String,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
}

pub async fn mail_jobs(db: &Db, kind: &str) -> Result<Vec<MailJobRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, MailJobRow>(
        "SELECT id, payload, attempts, run_at, last_error, done_at FROM jobs WHERE kind = $1 ORDER BY id"
    )
    .bind(kind)
    .fetch_all(p)
    .await?))
}
