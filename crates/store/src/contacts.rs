//! Contact records (客服记录), missed calls and their callbacks, complaint reviews,
//! suggestion read receipts, and the screen pop behind the agent's desk.

use crate::db::{Arg, Filter, NullableText, WritePool, values_rows};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, on_db, search};
use aftercare_domain::System;
use aftercare_domain::contacts::{CallbackFor, Category, Channel, Direction, Handling, Urgency, Verdict};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ContactRow {
    pub id: i64,
    /// Human number, e.g. `KF20261127-0007`.
    pub record_no: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    #[sqlx(try_from = "String")]
    pub direction: Direction,
    pub received_at: DateTime<Utc>,
    /// False: a missed call.
    pub answered: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wait_seconds: Option<i32>,
    pub talk_seconds: Option<i32>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub town: Option<String>,
    pub caller_name: Option<String>,
    pub caller_title: Option<String>,
    pub caller_phone: Option<String>,
    pub caller_email: Option<String>,
    #[sqlx(try_from = "String")]
    pub category: Category,
    #[sqlx(try_from = "NullableText")]
    pub system: Option<System>,
    #[sqlx(try_from = "String")]
    pub urgency: Urgency,
    pub content: String,
    pub reply: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub handling: Option<Handling>,
    /// Free text today (`dispatched` when a repair call made a ticket), kept a string.
    pub result: Option<String>,
    pub mood: Option<String>,
    pub promised_at: Option<DateTime<Utc>>,
    pub after_hours: bool,
    pub handler_id: Option<i64>,
    pub handler_name: Option<String>,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub callback_owner_id: Option<i64>,
    pub callback_owner_name: Option<String>,
    pub callback_due: Option<DateTime<Utc>>,
    pub called_back_at: Option<DateTime<Utc>>,
    pub callback_contact_id: Option<i64>,
    #[sqlx(try_from = "NullableText")]
    pub review_verdict: Option<Verdict>,
    pub review_action: Option<String>,
    pub review_note: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub source_ref: Option<String>,
    /// A consultation handed to the engineers (转工程师) and their answer.
    pub engineer_reply: Option<String>,
    pub engineer_replied_by: Option<i64>,
    pub engineer_replied_at: Option<DateTime<Utc>>,
    /// A complaint: the member of staff it is about.
    pub about_user_id: Option<i64>,
    pub about_user_name: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// The names a contact row shows beside its ids, when the caller already knows them.
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    pub customer_name: Option<String>,
    pub town: Option<String>,
    pub handler_name: Option<String>,
    pub callback_owner_name: Option<String>,
    pub about_user_name: Option<String>,
}

impl ContactRow {
    /// What a call back would answer for this contact (the domain's rule), or why nothing.
    pub fn callback_for(&self) -> std::result::Result<CallbackFor, &'static str> {
        aftercare_domain::contacts::callback_for(aftercare_domain::contacts::CallbackFacts {
            answered: self.answered,
            direction: self.direction,
            called_back: self.called_back_at.is_some(),
            category: self.category,
            reviewed: self.review_verdict.is_some(),
            closed: self.closed_at.is_some(),
            engineer_replied: self.engineer_replied_at.is_some(),
        })
    }

    /// A contact as [`create_numbered`] wrote it, so a busy writer (the PBX) needs no read back.
    pub fn fresh(id: i64, record_no: String, k: &ContactWrite, names: KnownNames) -> ContactRow {
        use chrono::SubsecRound;
        let us = |t: DateTime<Utc>| t.trunc_subsecs(6);
        ContactRow {
            id,
            record_no,
            channel: k.channel,
            direction: k.direction,
            received_at: us(k.received_at),
            answered: k.answered,
            answered_at: k.answered_at.map(us),
            ended_at: k.ended_at.map(us),
            wait_seconds: k.wait_seconds,
            talk_seconds: k.talk_seconds,
            customer_id: k.customer_id,
            customer_name: names.customer_name,
            town: names.town,
            caller_name: k.caller_name.clone(),
            caller_title: k.caller_title.clone(),
            caller_phone: k.caller_phone.clone(),
            caller_email: k.caller_email.clone(),
            category: k.category,
            system: k.system,
            urgency: k.urgency,
            content: k.content.clone(),
            reply: k.reply.clone(),
            handling: k.handling,
            result: k.result.clone(),
            mood: k.mood.clone(),
            promised_at: k.promised_at.map(us),
            after_hours: k.after_hours,
            handler_id: k.handler_id,
            handler_name: names.handler_name,
            ticket_id: k.ticket_id,
            ticket_number: None,
            callback_owner_id: k.callback_owner_id,
            callback_owner_name: names.callback_owner_name,
            callback_due: k.callback_due.map(us),
            called_back_at: None,
            callback_contact_id: None,
            review_verdict: None,
            review_action: None,
            review_note: None,
            reviewed_by: None,
            reviewed_at: None,
            closed_at: None,
            source_ref: k.source_ref.clone(),
            engineer_reply: None,
            engineer_replied_by: None,
            engineer_replied_at: None,
            about_user_id: k.about_user_id,
            about_user_name: names.about_user_name,
            created_by: k.created_by,
            created_at: us(k.now),
            version: 1,
        }
    }
}

const SELECT: &str = "SELECT k.*, c.name AS customer_name, c.town, h.display_name AS handler_name, \
     o.display_name AS callback_owner_name, t.number AS ticket_number, ab.display_name AS about_user_name \
     FROM contacts k LEFT JOIN customers c ON c.id = k.customer_id LEFT JOIN users h ON h.id = k.handler_id \
     LEFT JOIN users o ON o.id = k.callback_owner_id LEFT JOIN tickets t ON t.id = k.ticket_id \
     LEFT JOIN users ab ON ab.id = k.about_user_id";

/// A contact as the service decided it: everything but its number and id.
#[derive(Debug, Clone, Default)]
pub struct ContactWrite {
    pub channel: Channel,
    pub direction: Direction,
    pub category: Category,
    pub customer_id: Option<i64>,
    pub caller_name: Option<String>,
    pub caller_title: Option<String>,
    pub caller_phone: Option<String>,
    pub caller_email: Option<String>,
    pub system: Option<System>,
    pub urgency: Urgency,
    pub content: String,
    pub reply: Option<String>,
    pub handling: Option<Handling>,
    pub result: Option<String>,
    pub mood: Option<String>,
    pub promised_at: Option<DateTime<Utc>>,
    pub after_hours: bool,
    pub received_at: DateTime<Utc>,
    pub answered: bool,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wait_seconds: Option<i32>,
    pub talk_seconds: Option<i32>,
    pub handler_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// A complaint: the member of staff it is about.
    pub about_user_id: Option<i64>,
    /// Missed calls: who calls back, by when.
    pub callback_owner_id: Option<i64>,
    pub callback_due: Option<DateTime<Utc>>,
    /// A PBX call id or a mail Message-ID: the same source is recorded once.
    pub source_ref: Option<String>,
    pub created_by: Option<i64>,
    /// A missed call this (outbound) contact calls back.
    pub callback_of: Option<i64>,
    /// Log the contact on `ticket_id`'s timeline as an urge (催单).
    pub urge: bool,
    pub now: DateTime<Utc>,
}

/// The digits the screen pop matches on (the domain's rule), `None` for no number.
fn digits(p: &Option<String>) -> Option<String> {
    p.as_deref().map(aftercare_domain::customers::phone_digits).filter(|d| !d.is_empty())
}

/// Writes contacts in one transaction (group commit), each with its number, search
/// document and audit entry; an outbound call closes the open missed calls from the number
/// it calls. Returns each contact's id; one already recorded under the same `source_ref`
/// answers with the existing id.
pub async fn create_many(db: &Db, items: &[(Writer, ContactWrite)]) -> Result<Vec<i64>> {
    Ok(create_numbered(db, items).await?.into_iter().map(|m| m.id).collect())
}

/// What [`create_numbered`] answers for each contact.
#[derive(Debug, Clone)]
pub struct Made {
    pub id: i64,
    pub record_no: String,
    /// False: the same `source_ref` was already recorded and this is that record.
    pub new: bool,
}

/// [`create_many`], answering each contact's id, record number and whether it is new.
pub async fn create_numbered(db: &Db, items: &[(Writer, ContactWrite)]) -> Result<Vec<Made>> {
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        // Already recorded (the PBX or the mailbox sent it again): answer with what exists;
        // the same source twice in one group is written once.
        enum Slot {
            Existing((i64, String)),
            Fresh(usize),
        }
        let refs: Vec<&String> = items.iter().filter_map(|(_, k)| k.source_ref.as_ref()).collect();
        let mut known: HashMap<String, (i64, String)> = HashMap::new();
        if !refs.is_empty() {
            let ps = (1..=refs.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let mut q = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(format!(
                "SELECT id, record_no, source_ref FROM contacts WHERE source_ref IN ({ps})"
            )));
            for r in &refs {
                q = q.bind(*r);
            }
            for (id, no, r) in q.fetch_all(&mut *tx).await? {
                known.insert(r, (id, no));
            }
        }
        let mut slots = Vec::with_capacity(items.len());
        let mut fresh: Vec<(&Writer, &ContactWrite)> = Vec::with_capacity(items.len());
        for (w, k) in items {
            let existing = k.source_ref.as_ref().and_then(|r| known.get(r)).cloned();
            let earlier =
                k.source_ref.as_ref().and_then(|r| fresh.iter().position(|(_, x)| x.source_ref.as_ref() == Some(r)));
            slots.push(match (existing, earlier) {
                (Some(id), _) => Slot::Existing(id),
                (None, Some(i)) => Slot::Fresh(i),
                (None, None) => {
                    fresh.push((w, k));
                    Slot::Fresh(fresh.len() - 1)
                }
            });
        }
        // One counter update per day for the whole group, not one per contact.
        let mut next: HashMap<String, i64> = HashMap::new();
        for (w, k) in &fresh {
            *next.entry(w.number_day(k.received_at)).or_default() += 1;
        }
        for (day, n) in next.iter_mut() {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO number_counters (scope, last) VALUES ($1, $2) \
                 ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + $2 RETURNING last",
            )
            .bind(format!("contact:{day}"))
            .bind(*n)
            .fetch_one(&mut *tx)
            .await?;
            *n = last - *n;
        }
        let mut numbers = Vec::with_capacity(fresh.len());
        for (w, k) in &fresh {
            let day = w.number_day(k.received_at);
            let n = next
                .get_mut(&day)
                .map(|n| {
                    *n += 1;
                    *n
                })
                .ok_or(StoreError::NotFound)?;
            numbers.push(format!("KF{day}-{n:04}"));
        }
        let mut written: Vec<(i64, String)> = Vec::with_capacity(fresh.len());
        if !fresh.is_empty() {
            // One statement per table for the whole group, not one per contact.
            const COLS: usize = 33;
            let rows = values_rows(fresh.len(), 1, &format!("({}, 1)", ["?"; COLS].join(", ")));
            let sql = format!(
                "INSERT INTO contacts (record_no, channel, direction, received_at, answered, answered_at, ended_at, \
                    wait_seconds, talk_seconds, \
                 customer_id, caller_name, caller_title, caller_phone, phone_digits, caller_email, category, \
                 system, urgency, content, reply, \
                 handling, result, mood, promised_at, after_hours, handler_id, ticket_id, callback_owner_id, \
                 callback_due, source_ref, created_by, created_at, about_user_id, version) \
                 VALUES {rows} RETURNING id, record_no"
            );
            let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
            for ((_, k), number) in fresh.iter().zip(&numbers) {
                q = q
                    .bind(number)
                    .bind(k.channel.as_str())
                    .bind(k.direction.as_str())
                    .bind(k.received_at)
                    .bind(k.answered)
                    .bind(k.answered_at)
                    .bind(k.ended_at)
                    .bind(k.wait_seconds)
                    .bind(k.talk_seconds)
                    .bind(k.customer_id)
                    .bind(&k.caller_name)
                    .bind(&k.caller_title)
                    .bind(&k.caller_phone)
                    .bind(digits(&k.caller_phone))
                    .bind(&k.caller_email)
                    .bind(k.category.as_str())
                    .bind(k.system.map(|x| x.as_str()))
                    .bind(k.urgency.as_str())
                    .bind(&k.content)
                    .bind(&k.reply)
                    .bind(k.handling.map(|x| x.as_str()))
                    .bind(&k.result)
                    .bind(&k.mood)
                    .bind(k.promised_at)
                    .bind(k.after_hours)
                    .bind(k.handler_id)
                    .bind(k.ticket_id)
                    .bind(k.callback_owner_id)
                    .bind(k.callback_due)
                    .bind(&k.source_ref)
                    .bind(k.created_by)
                    .bind(k.now)
                    .bind(k.about_user_id);
            }
            // RETURNING promises no order: match the rows back by their unique numbers.
            let got: HashMap<String, i64> = q.fetch_all(&mut *tx).await?.into_iter().map(|(id, n)| (n, id)).collect();
            for n in &numbers {
                written.push((got.get(n).copied().ok_or(StoreError::NotFound)?, n.clone()));
            }
            // What only some contacts do: close the missed calls they call back, log an urge.
            for ((w, k), (id, number)) in fresh.iter().zip(&written) {
                if let Some(of) = k.callback_of {
                    sqlx::query(
                        "UPDATE contacts SET called_back_at = $1, callback_contact_id = $2, version = \
                        version + 1 WHERE id = $3 AND called_back_at IS NULL",
                    )
                    .bind(k.received_at)
                    .bind(id)
                    .bind(of)
                    .execute(&mut *tx)
                    .await?;
                }
                if k.direction == Direction::Outbound
                    && let Some(d) = digits(&k.caller_phone)
                {
                    sqlx::query(
                        "UPDATE contacts SET called_back_at = $1, callback_contact_id = $2, version = \
                        version + 1 \
                                 WHERE phone_digits = $3 AND answered = FALSE AND called_back_at IS NULL AND \
                                 direction = 'inbound' AND received_at <= $1",
                    )
                    .bind(k.received_at)
                    .bind(id)
                    .bind(d)
                    .execute(&mut *tx)
                    .await?;
                }
                if k.urge
                    && let Some(t) = k.ticket_id
                {
                    sqlx::query(
                        "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, note, \
                        data_json) VALUES ($1, $2, $3, $4, 'urge', $5, $6)",
                    )
                    .bind(t)
                    .bind(k.now)
                    .bind(w.user_id)
                    .bind(&w.name)
                    .bind(&k.content)
                    .bind(serde_json::json!({"contact_id": id, "record_no": number}).to_string())
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(search::upsert_many_sql(
                matches!(db, Db::Sqlite(_)),
                "contact",
                fresh.len(),
                1,
            )));
            for ((_, k), (id, number)) in fresh.iter().zip(&written) {
                let text = format!(
                    "{number} {} {} {} {} {}",
                    k.content,
                    k.caller_name.as_deref().unwrap_or_default(),
                    k.caller_phone.as_deref().unwrap_or_default(),
                    digits(&k.caller_phone).unwrap_or_default(),
                    k.caller_email.as_deref().unwrap_or_default()
                );
                q = q.bind(id).bind(k.customer_id).bind(search::index_body(&text));
            }
            q.execute(&mut *tx).await?;
            let rows = values_rows(fresh.len(), 1, "(?, ?, ?, 'contact', ?, 'create', ?, NULL, ?)");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, before_json, \
                    after_json) VALUES {rows}"
            )));
            let at = Utc::now();
            for ((w, k), (id, number)) in fresh.iter().zip(&written) {
                let after = serde_json::json!({"channel": k.channel, "category": k.category,
                    "answered": k.answered, "customer_id": k.customer_id})
                .to_string();
                q = q.bind(at).bind(w.user_id).bind(&w.name).bind(id).bind(number).bind(after);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await.map_err(StoreError::Commit)?;
        let mut out = Vec::with_capacity(slots.len());
        for slot in slots {
            out.push(match slot {
                Slot::Existing((id, record_no)) => Made { id, record_no, new: false },
                // A repeat inside the group is not new either: only its first copy is.
                Slot::Fresh(i) => {
                    let (id, record_no) = written.get(i).cloned().ok_or(StoreError::NotFound)?;
                    let new = !out.iter().any(|m: &Made| m.id == id);
                    Made { id, record_no, new }
                }
            });
        }
        out
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<ContactRow> {
    let sql = format!("{SELECT} WHERE k.id = $1");
    let row = on_db!(db, |p| sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    pub q: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub customer_id: Option<i64>,
    pub handler_id: Option<i64>,
    /// Handled by this user, or a missed call this user must call back (the agent's
    /// daily call record).
    pub handler_or_owner: Option<i64>,
    pub answered: Option<bool>,
    /// Missed calls not yet called back.
    pub missed_open: bool,
    /// Complaints without a verdict.
    pub unreviewed_complaints: bool,
    /// Consultations handed to the engineers and not yet answered.
    pub to_engineer_open: bool,
    /// Answers (complaint verdicts, engineers' replies) waiting to be passed on to the school.
    pub to_pass_on: bool,
    /// Complaints about this person.
    pub about_user_id: Option<i64>,
    /// A callback was due before this time (with `missed_open`: the overdue ones).
    pub due_before: Option<DateTime<Utc>>,
    /// No school matched (mail from unknown senders).
    pub unmatched: bool,
    pub ticket_id: Option<i64>,
    pub phone_digits: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `newest` (default), `oldest`, `due`.
    pub sort: Option<String>,
}

pub fn filter(db: &Db, q: &ContactQuery) -> Filter {
    let mut f = Filter::default();
    for (col, v) in [
        ("k.customer_id", q.customer_id),
        ("k.handler_id", q.handler_id),
        ("k.ticket_id", q.ticket_id),
        ("k.about_user_id", q.about_user_id),
    ] {
        if let Some(v) = v {
            let p = f.arg(Arg::I64(v));
            f.and(format!("{col} = {p}"));
        }
    }
    if let Some(t) = q.due_before {
        let p = f.arg(Arg::Time(t));
        f.and(format!("k.callback_due < {p}"));
    }
    if let Some(u) = q.handler_or_owner {
        let p = f.arg(Arg::I64(u));
        f.and(format!("(k.handler_id = {p} OR k.callback_owner_id = {p})"));
    }
    for (col, v) in [("k.channel", &q.channel), ("k.category", &q.category), ("k.phone_digits", &q.phone_digits)] {
        if let Some(v) = v {
            let p = f.arg(Arg::Text(v.clone()));
            f.and(format!("{col} = {p}"));
        }
    }
    if let Some(a) = q.answered {
        let p = f.arg(Arg::Bool(a));
        f.and(format!("k.answered = {p}"));
    }
    if q.missed_open {
        f.and("k.answered = FALSE AND k.called_back_at IS NULL AND k.direction = 'inbound'".into());
    }
    if q.unreviewed_complaints {
        f.and("k.category = 'complaint' AND k.review_verdict IS NULL".into());
    }
    if q.to_engineer_open {
        f.and("k.handling = 'to_engineer' AND k.engineer_replied_at IS NULL".into());
    }
    if q.to_pass_on {
        f.and(
            "k.closed_at IS NULL AND ((k.category = 'complaint' AND k.review_verdict IS NOT NULL) OR \
             k.engineer_replied_at IS NOT NULL)"
                .into(),
        );
    }
    if q.unmatched {
        f.and("k.customer_id IS NULL".into());
    }
    if let Some(t) = q.from {
        let p = f.arg(Arg::Time(t));
        f.and(format!("k.received_at >= {p}"));
    }
    if let Some(t) = q.to {
        let p = f.arg(Arg::Time(t));
        f.and(format!("k.received_at < {p}"));
    }
    if let Some(q) = &q.q
        && let Some(expr) = search::match_expr(db, q)
    {
        let p = f.arg(Arg::Text(expr));
        f.and(search::in_clause(db, "contact", "k.id", &p));
    }
    f
}

pub async fn list(db: &Db, q: &ContactQuery, page: Page) -> Result<Paged<ContactRow>> {
    let f = filter(db, q);
    let order = match q.sort.as_deref() {
        Some("oldest") => "k.received_at ASC, k.id ASC",
        Some("due") => "k.callback_due ASC, k.id ASC",
        _ => "k.received_at DESC, k.id DESC",
    };
    let w = f.where_sql();
    let sql = format!(
        "{SELECT} WHERE k.id IN (SELECT k.id FROM contacts k {w} ORDER BY {order} {}) ORDER BY {order}",
        page.sql()
    );
    // Searching counts at most COUNT_CAP + 1 matches.
    let searching = q.q.as_deref().is_some_and(|s| search::match_expr(db, s).is_some());
    let count_sql = crate::db::count_sql(&format!("FROM contacts k {w}"), searching);
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged::counted(items, total, searching))
}

/// The columns one change to a contact sets, by name in the type: `None` leaves a column
/// as it is, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactPatch {
    pub channel: Option<Channel>,
    pub category: Option<Category>,
    pub customer_id: Option<Option<i64>>,
    pub caller_name: Option<Option<String>>,
    pub caller_title: Option<Option<String>>,
    pub system: Option<Option<System>>,
    pub urgency: Option<Urgency>,
    pub content: Option<String>,
    pub reply: Option<Option<String>>,
    pub handling: Option<Option<Handling>>,
    pub mood: Option<Option<String>>,
    pub promised_at: Option<Option<DateTime<Utc>>>,
    /// The manager's review of a complaint.
    pub review_verdict: Option<Verdict>,
    pub review_action: Option<Option<String>>,
    pub review_note: Option<Option<String>>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub callback_due: Option<DateTime<Utc>>,
    /// A complaint answered by a callback.
    pub closed_at: Option<DateTime<Utc>>,
    pub callback_contact_id: Option<i64>,
    pub about_user_id: Option<Option<i64>>,
    pub ticket_id: Option<Option<i64>>,
    /// The engineer's answer to a consultation handed to him.
    pub engineer_reply: Option<String>,
    pub engineer_replied_by: Option<i64>,
    pub engineer_replied_at: Option<DateTime<Utc>>,
    pub callback_owner_id: Option<i64>,
}

impl ContactPatch {
    /// `column = $n` for every field that is set, its value bound in `f`. Column names come
    /// from this list only, never from input.
    fn assignments(&self, f: &mut Filter) -> Vec<String> {
        let text = |v: &Option<String>| Arg::OptText(v.clone());
        let name = |v: Option<&str>| Arg::OptText(v.map(str::to_owned));
        let mut cols: Vec<(&str, Arg)> = Vec::new();
        let mut put = |col, a: Option<Arg>| {
            if let Some(a) = a {
                cols.push((col, a));
            }
        };
        put("channel", self.channel.map(|v| Arg::Text(v.as_str().into())));
        put("category", self.category.map(|v| Arg::Text(v.as_str().into())));
        put("customer_id", self.customer_id.map(Arg::OptI64));
        put("caller_name", self.caller_name.as_ref().map(text));
        put("caller_title", self.caller_title.as_ref().map(text));
        put("system", self.system.map(|v| name(v.map(System::as_str))));
        put("urgency", self.urgency.map(|v| Arg::Text(v.as_str().into())));
        put("content", self.content.clone().map(Arg::Text));
        put("reply", self.reply.as_ref().map(text));
        put("handling", self.handling.map(|v| name(v.map(Handling::as_str))));
        put("mood", self.mood.as_ref().map(text));
        put("promised_at", self.promised_at.map(Arg::OptTime));
        put("review_verdict", self.review_verdict.map(|v| Arg::Text(v.as_str().into())));
        put("review_action", self.review_action.as_ref().map(text));
        put("review_note", self.review_note.as_ref().map(text));
        put("reviewed_by", self.reviewed_by.map(Arg::I64));
        put("reviewed_at", self.reviewed_at.map(Arg::Time));
        put("callback_due", self.callback_due.map(Arg::Time));
        put("closed_at", self.closed_at.map(Arg::Time));
        put("callback_contact_id", self.callback_contact_id.map(Arg::I64));
        put("about_user_id", self.about_user_id.map(Arg::OptI64));
        put("ticket_id", self.ticket_id.map(Arg::OptI64));
        put("engineer_reply", self.engineer_reply.clone().map(Arg::Text));
        put("engineer_replied_by", self.engineer_replied_by.map(Arg::I64));
        put("engineer_replied_at", self.engineer_replied_at.map(Arg::Time));
        put("callback_owner_id", self.callback_owner_id.map(Arg::I64));
        cols.into_iter().map(|(col, a)| format!("{col} = {}", f.arg(a))).collect()
    }
}

/// Applies `patch` if the contact still has `version`; audited as `action` with `after`.
pub async fn update(
    db: &Db,
    w: &Writer,
    id: i64,
    version: Option<i64>,
    patch: &ContactPatch,
    action: &str,
    after: serde_json::Value,
) -> Result<()> {
    let mut f = Filter::default();
    let mut cols = patch.assignments(&mut f);
    cols.push("version = version + 1".into());
    let pid = f.arg(Arg::I64(id));
    let mut sql = format!("UPDATE contacts SET {} WHERE id = {pid}", cols.join(", "));
    if let Some(v) = version {
        let pv = f.arg(Arg::I64(v));
        sql.push_str(&format!(" AND version = {pv}"));
    }
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n =
            bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), f.args).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM contacts WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            return Err(if exists.is_some() { StoreError::Stale } else { StoreError::NotFound });
        }
        crate::audit::record(&mut *tx, w, "contact", id, action, action, None, Some(after)).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Marks a suggestion read by a user (once; the first reading counts).
pub async fn mark_read(db: &Db, contact_id: i64, user_id: i64, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO contact_reads (contact_id, user_id, read_at) VALUES ($1, $2, $3) ON CONFLICT \
            (contact_id, user_id) DO NOTHING",
        )
        .bind(contact_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReadRow {
    pub user_id: i64,
    pub display_name: String,
    pub read_at: DateTime<Utc>,
}

/// Who has read a suggestion, and when.
pub async fn reads(db: &Db, contact_id: i64) -> Result<Vec<ReadRow>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, ReadRow>(
            "SELECT r.user_id, u.display_name, r.read_at FROM contact_reads r JOIN users u ON u.id = r.user_id WHERE \
            r.contact_id = $1 ORDER BY r.read_at",
        )
        .bind(contact_id)
        .fetch_all(p)
        .await?
    }))
}

/// Suggestions this user has not read yet.
pub async fn unread_suggestions(db: &Db, user_id: i64) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM contacts k WHERE k.category = 'suggestion' AND NOT EXISTS \
         (SELECT 1 FROM contact_reads r WHERE r.contact_id = k.id AND r.user_id = $1)"
    )
    .bind(user_id)
    .fetch_one(p)
    .await?))
}

/// Who a phone number belongs to: the schools whose contact people have it, the person's
/// name and title. The caller's own past contacts are found separately.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PhoneMatch {
    pub customer_id: i64,
    pub customer_name: String,
    pub town: String,
    pub person_name: Option<String>,
    pub person_title: Option<String>,
}

pub async fn match_phone(db: &Db, digits: &str) -> Result<Vec<PhoneMatch>> {
    // The school's registered contact people first, then whoever last called from it.
    let rows = on_db!(db, |p| {
        sqlx::query_as::<_, PhoneMatch>(
            "SELECT * FROM ( \
           SELECT c.id AS customer_id, c.name AS customer_name, c.town, p.name AS person_name, p.title AS \
           person_title, 0 AS rank \
           FROM customer_contacts p JOIN customers c ON c.id = p.customer_id WHERE p.phone_digits = $1 \
           UNION ALL \
           SELECT c.id, c.name, c.town, k.caller_name, k.caller_title, 1 FROM ( \
             SELECT customer_id, caller_name, caller_title FROM contacts WHERE phone_digits = $1 AND customer_id IS \
             NOT NULL \
             ORDER BY received_at DESC LIMIT 1) k JOIN customers c ON c.id = k.customer_id \
         ) m ORDER BY rank, customer_id LIMIT 10",
        )
        .bind(digits)
        .fetch_all(p)
        .await?
    });
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|m| seen.insert(m.customer_id)).collect())
}

/// The last contacts from one number, newest first.
pub async fn recent_by_phone(db: &Db, digits: &str, limit: i64) -> Result<Vec<ContactRow>> {
    let sql = format!(
        "{SELECT} WHERE k.id IN (SELECT id FROM contacts WHERE phone_digits = $1 ORDER BY received_at DESC LIMIT \
            $2) ORDER BY k.received_at DESC"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(digits)
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// The last contacts with one school, newest first.
pub async fn recent_by_customer(db: &Db, customer_id: i64, limit: i64) -> Result<Vec<ContactRow>> {
    let sql = format!(
        "{SELECT} WHERE k.id IN (SELECT id FROM contacts WHERE customer_id = $1 ORDER BY received_at DESC LIMIT $2) \
            ORDER BY k.received_at DESC"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(customer_id)
        .bind(limit)
        .fetch_all(p)
        .await?))
}

/// Missed calls in working hours whose callback is overdue at `now` and that have no
/// penalty event yet: (contact id, owner, record number).
pub async fn overdue_missed(db: &Db, now: DateTime<Utc>) -> Result<Vec<(i64, i64, String)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, i64, String)>(
        "SELECT k.id, k.callback_owner_id, k.record_no FROM contacts k \
         WHERE k.answered = FALSE AND k.called_back_at IS NULL AND k.direction = 'inbound' AND k.after_hours = FALSE \
           AND k.callback_due < $1 AND k.callback_owner_id IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM penalty_events e WHERE e.contact_id = k.id) \
         ORDER BY k.callback_due LIMIT 500"
    )
    .bind(now)
    .fetch_all(p)
    .await?))
}

/// Proposes the missed-call penalty (§3.2.8) and notifies the owner, in one transaction.
pub async fn propose_missed_penalty(
    db: &Db,
    contact_id: i64,
    user_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM penalty_events WHERE contact_id = $1")
            .bind(contact_id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_none() {
            sqlx::query(
                "INSERT INTO penalty_events (kind, user_id, contact_id, at, status, reason) VALUES \
                ('missed_call', $1, $2, $3, 'proposed', $4)",
            )
            .bind(user_id)
            .bind(contact_id)
            .bind(now)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO notifications (user_id, at, kind, args_json) VALUES ($1, $2, 'missed_call_overdue', $3)",
            )
            .bind(user_id)
            .bind(now)
            .bind(serde_json::json!({"contact_id": contact_id, "number": reason}).to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
