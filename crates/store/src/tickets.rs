//! Work orders: tickets, their timeline and the changes the flow chart makes to them.
//! Visits, SLA clocks, settings, the taxonomy, notifications and assessments have their
//! own modules.

use crate::db::{Arg, Conn, Filter, NullableText, WritePool, values_rows};
use crate::notifications::NewNotification;
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, on_conn, on_db, search};
use aftercare_domain::System;
use aftercare_domain::assessments::PenaltyKind;
use aftercare_domain::tickets::{EventKind, FaultType, Priority, TicketSource, TicketStatus};
use aftercare_domain::{TicketId, UserId};
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TicketRow {
    pub id: i64,
    /// Human number, e.g. `GD20261127-0042`.
    pub number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub source: TicketSource,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    #[sqlx(try_from = "String")]
    pub status: TicketStatus,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub fault_type: Option<FaultType>,
    pub fault_subcategory: Option<String>,
    pub needs_site_survey: bool,
    pub diagnosis: Option<String>,
    pub plan: Option<String>,
    pub parts_to_bring: Option<String>,
    pub impact_scope: Option<String>,
    pub root_cause: Option<String>,
    pub cause_class: Option<String>,
    pub responsibility: Option<String>,
    pub prevention: Option<String>,
    pub engineer_id: Option<i64>,
    pub diagnosed_by: Option<i64>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub escalation_level: i32,
    pub repeat_of: Option<i64>,
    pub resolution: Option<String>,
    pub satisfaction: Option<i32>,
    pub callback_attempts: i32,
    pub respond_due: Option<DateTime<Utc>>,
    pub arrive_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub respond_breached_at: Option<DateTime<Utc>>,
    pub arrive_breached_at: Option<DateTime<Utc>>,
    pub resolve_breached_at: Option<DateTime<Utc>>,
    /// The visit time agreed with the school (§2.2(5)) and who recorded it.
    pub agreed_visit_at: Option<DateTime<Utc>>,
    pub agreed_by: Option<i64>,
    /// 故障发生时间 and 诊断过程 of the fault analysis.
    pub occurred_at: Option<DateTime<Utc>>,
    pub diagnosis_steps: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const SELECT: &str =
    "SELECT t.*, c.name AS customer_name, c.town FROM tickets t JOIN customers c ON c.id = t.customer_id";

/// What a new ticket is stored with (the service has checked and completed it).
#[derive(Debug, Clone)]
pub struct TicketWrite {
    pub customer_id: i64,
    /// The school's name and town, as the caller read them: the search document holds the
    /// name, and the answer both.
    pub customer_name: String,
    pub town: String,
    /// The search document's words but the number's, when the caller worked them out
    /// beforehand ([`with_search_body`]; the group commit does, in each caller's task, so
    /// that the one writer does not); `None` has the write work them out.
    pub search_body: Option<String>,
    pub equipment_ids: Vec<i64>,
    pub system: System,
    pub title: String,
    pub description: String,
    pub source: TicketSource,
    pub priority: Priority,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub respond_due: DateTime<Utc>,
    pub arrive_due: DateTime<Utc>,
    pub resolve_due: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub now: DateTime<Utc>,
}

/// One entry of the timeline.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EventRow {
    pub id: i64,
    pub ticket_id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    /// Who: a person's display name, or `system`.
    #[serde(rename = "actor")]
    pub actor_name: String,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    #[sqlx(try_from = "NullableText")]
    pub from_status: Option<TicketStatus>,
    #[sqlx(try_from = "NullableText")]
    pub to_status: Option<TicketStatus>,
    pub note: Option<String>,
    pub data_json: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub from_status: Option<TicketStatus>,
    pub to_status: Option<TicketStatus>,
    pub note: Option<String>,
    pub data: Option<serde_json::Value>,
}

impl NewEvent {
    /// An entry of this kind with no statuses, note or data yet.
    pub fn new(kind: EventKind) -> NewEvent {
        NewEvent { kind, from_status: None, to_status: None, note: None, data: None }
    }
}

#[derive(Debug, Clone)]
pub struct NewPenalty {
    pub kind: PenaltyKind,
    pub user_id: i64,
    pub related_ticket_id: Option<i64>,
    pub reason: String,
}

/// The columns one change sets, by name in the type: `None` leaves a column as it is,
/// `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPatch {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub fault_type: Option<FaultType>,
    pub fault_subcategory: Option<Option<String>>,
    pub needs_site_survey: Option<bool>,
    pub diagnosis: Option<String>,
    pub plan: Option<String>,
    pub parts_to_bring: Option<Option<String>>,
    pub impact_scope: Option<Option<String>>,
    pub root_cause: Option<Option<String>>,
    pub cause_class: Option<Option<String>>,
    pub responsibility: Option<Option<String>>,
    pub prevention: Option<Option<String>>,
    pub diagnosed_by: Option<UserId>,
    pub engineer_id: Option<UserId>,
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
    pub escalation_level: Option<i32>,
    pub repeat_of: Option<TicketId>,
    pub resolution: Option<String>,
    pub satisfaction: Option<i32>,
    pub callback_attempts: Option<i32>,
    pub respond_due: Option<Option<DateTime<Utc>>>,
    pub arrive_due: Option<Option<DateTime<Utc>>>,
    pub resolve_due: Option<Option<DateTime<Utc>>>,
    pub responded_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<Option<DateTime<Utc>>>,
    pub paused_at: Option<Option<DateTime<Utc>>>,
    pub agreed_visit_at: Option<Option<DateTime<Utc>>>,
    pub agreed_by: Option<UserId>,
    pub occurred_at: Option<Option<DateTime<Utc>>>,
    pub diagnosis_steps: Option<Option<String>>,
}

impl TicketPatch {
    /// `column = $n` for every field that is set, its value bound in `f`. Column names come
    /// from this list only, never from input.
    fn assignments(&self, f: &mut Filter) -> Vec<String> {
        let text = |v: &Option<String>| Arg::OptText(v.clone());
        let time = |v: &Option<DateTime<Utc>>| Arg::OptTime(*v);
        let mut cols: Vec<(&str, Arg)> = Vec::new();
        let mut put = |col, a: Option<Arg>| {
            if let Some(a) = a {
                cols.push((col, a));
            }
        };
        put("status", self.status.map(|v| Arg::Text(v.as_str().into())));
        put("priority", self.priority.map(|v| Arg::Text(v.as_str().into())));
        put("fault_type", self.fault_type.map(|v| Arg::Text(v.as_str().into())));
        put("fault_subcategory", self.fault_subcategory.as_ref().map(text));
        put("needs_site_survey", self.needs_site_survey.map(Arg::Bool));
        put("diagnosis", self.diagnosis.clone().map(Arg::Text));
        put("plan", self.plan.clone().map(Arg::Text));
        put("parts_to_bring", self.parts_to_bring.as_ref().map(text));
        put("impact_scope", self.impact_scope.as_ref().map(text));
        put("root_cause", self.root_cause.as_ref().map(text));
        put("cause_class", self.cause_class.as_ref().map(text));
        put("responsibility", self.responsibility.as_ref().map(text));
        put("prevention", self.prevention.as_ref().map(text));
        put("diagnosed_by", self.diagnosed_by.map(|v| Arg::I64(v.0)));
        put("engineer_id", self.engineer_id.map(|v| Arg::I64(v.0)));
        put("scheduled_at", self.scheduled_at.as_ref().map(time));
        put("escalation_level", self.escalation_level.map(|v| Arg::I64(i64::from(v))));
        put("repeat_of", self.repeat_of.map(|v| Arg::I64(v.0)));
        put("resolution", self.resolution.clone().map(Arg::Text));
        put("satisfaction", self.satisfaction.map(|v| Arg::I64(i64::from(v))));
        put("callback_attempts", self.callback_attempts.map(|v| Arg::I64(i64::from(v))));
        put("respond_due", self.respond_due.as_ref().map(time));
        put("arrive_due", self.arrive_due.as_ref().map(time));
        put("resolve_due", self.resolve_due.as_ref().map(time));
        put("responded_at", self.responded_at.map(Arg::Time));
        put("arrived_at", self.arrived_at.map(Arg::Time));
        put("resolved_at", self.resolved_at.as_ref().map(time));
        put("closed_at", self.closed_at.as_ref().map(time));
        put("paused_at", self.paused_at.as_ref().map(time));
        put("agreed_visit_at", self.agreed_visit_at.as_ref().map(time));
        put("agreed_by", self.agreed_by.map(|v| Arg::I64(v.0)));
        put("occurred_at", self.occurred_at.as_ref().map(time));
        put("diagnosis_steps", self.diagnosis_steps.as_ref().map(text));
        cols.into_iter().map(|(col, a)| format!("{col} = {}", f.arg(a))).collect()
    }
}

/// A change to one ticket, applied atomically and only if nobody changed it meanwhile.
#[derive(Debug, Clone, Default)]
pub struct TicketChange {
    pub patch: TicketPatch,
    pub technicians: Option<Vec<i64>>,
    pub events: Vec<NewEvent>,
    pub penalties: Vec<NewPenalty>,
    pub notifications: Vec<NewNotification>,
    pub audit_action: &'static str,
}

/// Appends one timeline entry inside the caller's transaction (`&mut *tx`).
pub async fn record_event<'c>(
    conn: impl Into<Conn<'c>>,
    w: &Writer,
    ticket_id: i64,
    e: &NewEvent,
    now: DateTime<Utc>,
) -> Result<()> {
    let sql = "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, \
        data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let data = e.data.as_ref().map(|d| d.to_string());
    on_conn!(&mut conn.into(), |c| {
        sqlx::query(sql)
            .bind(ticket_id)
            .bind(now)
            .bind(w.user_id)
            .bind(&w.name)
            .bind(e.kind.as_str())
            .bind(e.from_status.map(TicketStatus::as_str))
            .bind(e.to_status.map(TicketStatus::as_str))
            .bind(&e.note)
            .bind(&data)
            .execute(&mut **c)
            .await?;
    });
    Ok(())
}

fn search_text(t: &TicketWrite, number: &str, customer: &str) -> String {
    format!(
        "{number} {} {} {customer} {} {}",
        t.title,
        t.description,
        t.reporter_name.as_deref().unwrap_or_default(),
        t.reporter_phone.as_deref().unwrap_or_default()
    )
}

impl TicketRow {
    /// The row as [`create_many`] wrote it, so a create needs no read back.
    fn fresh(id: i64, number: String, t: &TicketWrite) -> TicketRow {
        // The databases keep microseconds; answer with what a later read returns.
        let now = t.now.trunc_subsecs(6);
        TicketRow {
            id,
            number,
            customer_id: t.customer_id,
            customer_name: t.customer_name.clone(),
            town: t.town.clone(),
            system: t.system,
            title: t.title.clone(),
            description: t.description.clone(),
            source: t.source,
            priority: t.priority,
            status: TicketStatus::New,
            reporter_name: t.reporter_name.clone(),
            reporter_phone: t.reporter_phone.clone(),
            fault_type: None,
            fault_subcategory: None,
            needs_site_survey: false,
            diagnosis: None,
            plan: None,
            parts_to_bring: None,
            impact_scope: None,
            root_cause: None,
            cause_class: None,
            responsibility: None,
            prevention: None,
            engineer_id: None,
            diagnosed_by: None,
            scheduled_at: None,
            escalation_level: 0,
            repeat_of: None,
            resolution: None,
            satisfaction: None,
            callback_attempts: 0,
            respond_due: Some(t.respond_due.trunc_subsecs(6)),
            arrive_due: Some(t.arrive_due.trunc_subsecs(6)),
            resolve_due: Some(t.resolve_due.trunc_subsecs(6)),
            responded_at: None,
            arrived_at: None,
            resolved_at: None,
            closed_at: None,
            paused_at: None,
            respond_breached_at: None,
            arrive_breached_at: None,
            resolve_breached_at: None,
            agreed_visit_at: None,
            agreed_by: None,
            occurred_at: None,
            diagnosis_steps: None,
            created_by: t.created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// Creates a ticket with its number, equipment, first timeline entry, search document
/// and audit entry; returns the new row.
pub async fn create(db: &Db, w: &Writer, t: &TicketWrite) -> Result<TicketRow> {
    let mut made = create_many(db, &[(w.clone(), t.clone())]).await?;
    made.pop().ok_or(StoreError::NotFound)
}

/// Creates several tickets in one transaction (group commit): all or none. Each carries
/// its own writer for its timeline and audit entries.
pub async fn create_many(db: &Db, items: &[(Writer, TicketWrite)]) -> Result<Vec<TicketRow>> {
    match db {
        Db::Sqlite(p) => {
            let mut tx = p.begin_write().await?;
            let made = insert_many(&mut *tx, items).await?;
            tx.commit().await.map_err(StoreError::Commit)?;
            Ok(made)
        }
        // The group is one statement, its own transaction: no BEGIN and COMMIT round trips.
        // An answer lost on the way (the connection broke) may follow a commit, so it is
        // reported as one, and the group is not written again row by row.
        Db::Postgres(p) => {
            let mut c = p.acquire().await?;
            insert_many(&mut *c, items).await.map_err(|e| match e {
                StoreError::Db(e) if !matches!(e, sqlx::Error::Database(_)) => StoreError::Commit(e),
                e => e,
            })
        }
    }
}

/// [`create_many`] inside a transaction the caller holds (an inspection's completion opens
/// its findings' tickets in its own). The school's name and town come with each item, as the
/// caller read them: the write reads nothing first (a missing school is the foreign key's
/// `customer_id` error).
pub(crate) async fn insert_many<'c>(
    conn: impl Into<Conn<'c>>,
    items: &[(Writer, TicketWrite)],
) -> Result<Vec<TicketRow>> {
    let mut conn = conn.into();
    let afters: Vec<String> = items
        .iter()
        .map(|(_, t)| {
            serde_json::json!({"title": t.title, "customer_id": t.customer_id, "priority": t.priority}).to_string()
        })
        .collect();
    let body = |t: &TicketWrite, number: &str| {
        let rest = match &t.search_body {
            Some(b) => std::borrow::Cow::Borrowed(b.as_str()),
            None => std::borrow::Cow::Owned(search::index_body(&search_text(t, "", &t.customer_name))),
        };
        numbered_body(number, &rest)
    };
    let written = match &mut conn {
        Conn::Postgres(c) => {
            // The number is taken inside the statement: its words join the document there.
            let bodies = items.iter().map(|(_, t)| body(t, "")).collect();
            insert_group_postgres(c, items, bodies, &afters).await?
        }
        Conn::Sqlite(c) => {
            let (numbers, first_id) = take_numbers(c, items).await?;
            let bodies = items.iter().zip(&numbers).map(|((_, t), number)| body(t, number)).collect();
            insert_group_sqlite(c, items, first_id, numbers, bodies, &afters).await?
        }
    };
    Ok(items.iter().zip(written).map(|((_, t), (id, number))| TicketRow::fresh(id, number, t)).collect())
}

/// `t` with its search document's words worked out, all but the number's (given once the
/// ticket is numbered, in the write).
pub fn with_search_body(mut t: TicketWrite) -> TicketWrite {
    t.search_body = Some(search::index_body(&search_text(&t, "", &t.customer_name)));
    t
}

/// A ticket's search document: the number's words, then the rest's (`rest` as
/// `search::index_body` gives them), each word once, as `index_body` of the whole text
/// would be.
fn numbered_body(number: &str, rest: &str) -> String {
    let words = search::index_tokens(number);
    let mut out = words.join(" ");
    for w in rest.split(' ').filter(|w| !w.is_empty() && !words.iter().any(|n| n == w)) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// The group's numbers, `GD{day}-{n:04}` in the writer's day, with one counter update per
/// day, not one per ticket; and the id the group's first ticket takes (the writer holds the
/// database until it commits, so the ids after the largest stay free).
async fn take_numbers(c: &mut sqlx::SqliteConnection, items: &[(Writer, TicketWrite)]) -> Result<(Vec<String>, i64)> {
    let mut next: HashMap<String, i64> = HashMap::new();
    for (w, t) in items {
        *next.entry(w.number_day(t.now)).or_default() += 1;
    }
    let mut first_id = 1;
    for (day, n) in next.iter_mut() {
        let (last, largest): (i64, i64) = sqlx::query_as(
            "INSERT INTO number_counters (scope, last) VALUES ($1, $2) \
             ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + $2 \
             RETURNING last, (SELECT coalesce(max(id), 0) FROM tickets)",
        )
        .bind(format!("ticket:{day}"))
        .bind(*n)
        .fetch_one(&mut *c)
        .await?;
        *n = last - *n;
        first_id = largest + 1;
    }
    let numbers = items
        .iter()
        .map(|(w, t)| {
            let day = w.number_day(t.now);
            let n = next.get_mut(&day).ok_or(StoreError::NotFound)?;
            *n += 1;
            Ok(format!("GD{day}-{n:04}"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((numbers, first_id))
}

/// PostgreSQL: the group in one statement, its columns bound as arrays: the numbers
/// (one counter update per day), the tickets, their equipment, timeline entries, search
/// documents and audit entries. One round trip instead of eight, and one statement text for
/// any group size, prepared and planned once per connection (a `VALUES` list per size was
/// planned again and again). Returns each ticket's id and number, in the items' order.
async fn insert_group_postgres(
    c: &mut sqlx::PgConnection,
    items: &[(Writer, TicketWrite)],
    bodies: Vec<String>,
    afters: &[String],
) -> Result<Vec<(i64, String)>> {
    let ts = |f: fn(&TicketWrite) -> DateTime<Utc>| items.iter().map(|(_, t)| f(t)).collect::<Vec<_>>();
    // Each link names its ticket by the ticket's place in the group (1-based, as ORDINALITY).
    let (link_ords, link_equipment): (Vec<i64>, Vec<i64>) =
        items.iter().zip(1_i64..).flat_map(|((_, t), ord)| t.equipment_ids.iter().map(move |e| (ord, *e))).unzip();
    let mut got: Vec<(i64, String, i64)> = sqlx::query_as(INSERT_GROUP_PG)
        .bind(items.iter().map(|(w, t)| w.number_day(t.now)).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.customer_id).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.system.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.title.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.description.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.source.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.priority.as_str()).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.reporter_name.as_deref()).collect::<Vec<_>>())
        .bind(items.iter().map(|(_, t)| t.reporter_phone.as_deref()).collect::<Vec<_>>())
        .bind(ts(|t| t.respond_due))
        .bind(ts(|t| t.arrive_due))
        .bind(ts(|t| t.resolve_due))
        .bind(items.iter().map(|(_, t)| t.created_by).collect::<Vec<_>>())
        .bind(ts(|t| t.now))
        .bind(items.iter().map(|(w, _)| w.user_id).collect::<Vec<_>>())
        .bind(items.iter().map(|(w, _)| w.name.as_str()).collect::<Vec<_>>())
        .bind(bodies)
        .bind(afters)
        .bind(link_ords)
        .bind(link_equipment)
        .bind(Utc::now())
        .fetch_all(c)
        .await
        .map_err(|e| crate::map_write_err(e, &["customer_id"]))?;
    got.sort_unstable_by_key(|(_, _, ord)| *ord);
    if got.len() != items.len() {
        return Err(StoreError::NotFound);
    }
    Ok(got.into_iter().map(|(id, number, _)| (id, number)).collect())
}

// `n` numbers each ticket within its day in the group's order, after the day's counter;
// a search document starts with the number's words (`gd20261207`, `0042`), as
// `index_body` would split it.
const INSERT_GROUP_PG: &str = "\
WITH x AS (
    SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::bigint[],
        $14::timestamptz[], $15::bigint[], $16::text[], $17::text[], $18::text[]) WITH ORDINALITY
    AS x (day, customer_id, system, title, description, source, priority, reporter_name, reporter_phone,
        respond_due, arrive_due, resolve_due, created_by, at, actor_id, actor_name, body, after_json, ord)
), counters AS (
    INSERT INTO number_counters (scope, last)
    SELECT 'ticket:' || day, count(*) FROM x GROUP BY day
    ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + excluded.last
    RETURNING scope, last
), n AS (
    SELECT x.*, 'GD' || x.day || '-' || lpad(s.seq::text, greatest(4, length(s.seq::text)), '0') AS number
    FROM x JOIN (
        SELECT x.ord, counters.last - count(*) OVER (PARTITION BY x.day)
            + row_number() OVER (PARTITION BY x.day ORDER BY x.ord) AS seq
        FROM x JOIN counters ON counters.scope = 'ticket:' || x.day
    ) s USING (ord)
), t AS (
    INSERT INTO tickets (number, customer_id, system, title, description, source, priority, status,
        reporter_name, reporter_phone, respond_due, arrive_due, resolve_due, created_by, created_at, updated_at,
        version)
    SELECT number, customer_id, system, title, description, source, priority, 'new', reporter_name,
        reporter_phone, respond_due, arrive_due, resolve_due, created_by, at, at, 1 FROM n
    RETURNING id, number
), w AS (
    SELECT t.id, n.* FROM n JOIN t USING (number)
), equipment AS (
    INSERT INTO ticket_equipment (ticket_id, equipment_id)
    SELECT w.id, l.equipment_id FROM UNNEST($19::bigint[], $20::bigint[]) AS l (ord, equipment_id)
    JOIN w USING (ord)
), events AS (
    INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, data_json)
    SELECT id, at, actor_id, actor_name, 'created', NULL, 'new', title, NULL FROM w
), docs AS (
    INSERT INTO search_docs (kind, ref_id, customer_id, tsv)
    SELECT 'ticket', w.id, w.customer_id, array_to_tsvector(string_to_array(
        concat_ws(' ', lower('gd' || w.day), split_part(w.number, '-', 2), NULLIF(w.body, '')), ' '))
    FROM w
), audit AS (
    INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, before_json, after_json)
    SELECT $21, actor_id, actor_name, 'ticket', id, 'create', number, NULL, after_json FROM w
)
SELECT id, number, ord FROM w";

/// SQLite: the group's rows in one trip to the writer's thread, a text of several
/// statements with its `$n` numbered across them: the tickets (with the ids [`take_numbers`]
/// gave), their equipment, timeline entries, search documents, the index's step and the
/// audit entries. Each trip is a hand-off between the async side and SQLite's thread, both
/// ways, and with one trip per table they were much of a group's time on two busy cores. The
/// text depends only on the group's size (the equipment travels as one JSON array), so it
/// is prepared once per size and kept.
async fn insert_group_sqlite(
    c: &mut sqlx::SqliteConnection,
    items: &[(Writer, TicketWrite)],
    first_id: i64,
    numbers: Vec<String>,
    bodies: Vec<String>,
    afters: &[String],
) -> Result<Vec<(i64, String)>> {
    let ids: Vec<i64> = (first_id..).take(items.len()).collect();
    let mut q = sqlx::query(sqlx::AssertSqlSafe(group_sql_sqlite(items.len())));
    for (((_, t), number), id) in items.iter().zip(&numbers).zip(&ids) {
        q = q
            .bind(id)
            .bind(number)
            .bind(t.customer_id)
            .bind(t.system.as_str())
            .bind(&t.title)
            .bind(&t.description)
            .bind(t.source.as_str())
            .bind(t.priority.as_str())
            .bind(&t.reporter_name)
            .bind(&t.reporter_phone)
            .bind(t.respond_due)
            .bind(t.arrive_due)
            .bind(t.resolve_due)
            .bind(t.created_by)
            .bind(t.now)
            .bind(t.now);
    }
    let links: Vec<(i64, i64)> =
        items.iter().zip(&ids).flat_map(|((_, t), id)| t.equipment_ids.iter().map(move |e| (*id, *e))).collect();
    q = q.bind(serde_json::to_string(&links).map_err(|e| StoreError::Other(e.to_string()))?);
    for ((w, t), id) in items.iter().zip(&ids) {
        q = q.bind(id).bind(t.now).bind(w.user_id).bind(&w.name).bind(&t.title);
    }
    for (((_, t), id), body) in items.iter().zip(&ids).zip(&bodies) {
        q = q.bind(id).bind(t.customer_id).bind(body);
    }
    let at = Utc::now();
    for ((((w, _), id), number), after) in items.iter().zip(&ids).zip(&numbers).zip(afters) {
        q = q.bind(at).bind(w.user_id).bind(&w.name).bind(id).bind(number).bind(after);
    }
    q.execute(&mut *c).await.map_err(|e| crate::map_write_err(e, &["customer_id"]))?;
    Ok(ids.into_iter().zip(numbers).collect())
}

/// The text of [`insert_group_sqlite`] for `n` tickets: 16 values a ticket, then the
/// equipment array, 5 values a timeline entry, 3 a search document, 6 an audit entry.
fn group_sql_sqlite(n: usize) -> String {
    let tickets = values_rows(n, 1, "(?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, 1)");
    let links = 16 * n + 1;
    let events = values_rows(n, links + 1, "(?, ?, ?, ?, 'created', NULL, 'new', ?, NULL)");
    let docs = search::upsert_many_sql(true, "ticket", n, links + 1 + 5 * n);
    let audit = values_rows(n, links + 1 + 8 * n, "(?, ?, ?, 'ticket', ?, 'create', ?, NULL, ?)");
    let index = search::INDEX_WITH_GROUP_SQLITE;
    format!(
        "INSERT INTO tickets (id, number, customer_id, system, title, description, source, priority, status, \
            reporter_name, reporter_phone, respond_due, arrive_due, resolve_due, created_by, created_at, \
            updated_at, version) VALUES {tickets};
        INSERT INTO ticket_equipment (ticket_id, equipment_id) SELECT value ->> 0, value ->> 1 FROM json_each(${links});
        INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, \
            data_json) VALUES {events};
        {docs};
        {index}
        INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, before_json, \
            after_json) VALUES {audit}"
    )
}

pub async fn get(db: &Db, id: i64) -> Result<TicketRow> {
    let sql = format!("{SELECT} WHERE t.id = $1");
    let row = on_db!(db, |p| sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn by_number(db: &Db, number: &str) -> Result<Option<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT id FROM tickets WHERE number = $1")
        .bind(number)
        .fetch_optional(p)
        .await?))
}

pub async fn equipment_of(db: &Db, id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT equipment_id FROM ticket_equipment WHERE ticket_id = $1 ORDER BY equipment_id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

pub async fn technicians_of(db: &Db, id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM ticket_technicians WHERE ticket_id = $1 ORDER BY user_id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

/// Applies `change` if the ticket still has `version`; bumps the version.
pub async fn update(
    db: &Db,
    w: &Writer,
    id: i64,
    version: i64,
    change: &TicketChange,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut f = Filter::default();
    let mut sets = change.patch.assignments(&mut f);
    let pn = f.arg(Arg::Time(now));
    sets.push(format!("updated_at = {pn}"));
    sets.push("version = version + 1".into());
    let pid = f.arg(Arg::I64(id));
    let pv = f.arg(Arg::I64(version));
    let sql = format!("UPDATE tickets SET {} WHERE id = {pid} AND version = {pv}", sets.join(", "));
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n =
            bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), f.args).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        if let Some(techs) = &change.technicians {
            sqlx::query("DELETE FROM ticket_technicians WHERE ticket_id = $1").bind(id).execute(&mut *tx).await?;
            for u in techs {
                sqlx::query("INSERT INTO ticket_technicians (ticket_id, user_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(u)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for e in &change.events {
            record_event(&mut *tx, w, id, e, now).await?;
        }
        for pe in &change.penalties {
            sqlx::query(
                "INSERT INTO penalty_events (kind, user_id, ticket_id, related_ticket_id, at, status, reason) \
                    VALUES ($1, $2, $3, $4, $5, 'proposed', $6)",
            )
            .bind(pe.kind.as_str())
            .bind(pe.user_id)
            .bind(id)
            .bind(pe.related_ticket_id)
            .bind(now)
            .bind(&pe.reason)
            .execute(&mut *tx)
            .await?;
        }
        crate::notifications::record(&mut *tx, Some(id), &change.notifications, now).await?;
        if !change.audit_action.is_empty() {
            let summary = change.events.first().and_then(|e| e.to_status).map(|s| s.as_str()).unwrap_or_default();
            crate::audit::record(&mut *tx, w, "ticket", id, change.audit_action, summary, None, None).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn events(db: &Db, id: i64) -> Result<Vec<EventRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, EventRow>("SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(p)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct TicketQuery {
    pub q: Option<String>,
    pub statuses: Vec<String>,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub town: Option<String>,
    pub system: Option<String>,
    pub fault_type: Option<String>,
    pub priority: Option<String>,
    /// Assigned to this technician.
    pub technician_id: Option<i64>,
    pub engineer_id: Option<i64>,
    /// New, or waiting for dispatch with nobody assigned.
    pub unassigned: bool,
    /// Open with a due time passed or a breach flagged, at `now`.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Open, nothing breached yet, but the response or the resolve falls due in [now, until).
    pub at_risk: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Open and escalated at least once.
    pub escalated: bool,
    /// With a visit the engineer has not checked yet (复核).
    pub visits_to_review: bool,
    /// Scheduled within [from, to).
    pub scheduled_from: Option<DateTime<Utc>>,
    pub scheduled_to: Option<DateTime<Utc>>,
    /// `newest` (default), `oldest`, `due`, `priority`, `scheduled`, `updated`.
    pub sort: Option<String>,
    pub scope: Option<i64>,
}

fn town_clause(p: &str) -> String {
    format!("t.customer_id IN (SELECT id FROM customers WHERE town = {p})")
}

pub fn filter(db: &Db, q: &TicketQuery) -> Filter {
    let mut f = Filter::default();
    for (col, v) in [("t.customer_id", q.scope), ("t.customer_id", q.customer_id), ("t.engineer_id", q.engineer_id)] {
        if let Some(v) = v {
            let p = f.arg(Arg::I64(v));
            f.and(format!("{col} = {p}"));
        }
    }
    if let Some(e) = q.equipment_id {
        let p = f.arg(Arg::I64(e));
        f.and(format!("t.id IN (SELECT ticket_id FROM ticket_equipment WHERE equipment_id = {p})"));
    }
    if let Some(u) = q.technician_id {
        let p = f.arg(Arg::I64(u));
        f.and(format!("t.id IN (SELECT ticket_id FROM ticket_technicians WHERE user_id = {p})"));
    }
    // The town filter is a subquery so that counting needs no join.
    if let Some(t) = &q.town {
        let p = f.arg(Arg::Text(t.clone()));
        f.and(town_clause(&p));
    }
    for (col, v) in [("t.system", &q.system), ("t.fault_type", &q.fault_type), ("t.priority", &q.priority)] {
        if let Some(v) = v {
            let p = f.arg(Arg::Text(v.clone()));
            f.and(format!("{col} = {p}"));
        }
    }
    if !q.statuses.is_empty() {
        // A known status is written into the statement: PostgreSQL then plans each list once
        // per connection, and that plan can still walk the closed tickets' own index, which
        // a plan for any `status IN ($1)` could not. Anything else stays a bound value.
        let ps: Vec<String> = q
            .statuses
            .iter()
            .map(|s| match TicketStatus::parse(s) {
                Some(known) => format!("'{}'", known.as_str()),
                None => f.arg(Arg::Text(s.clone())),
            })
            .collect();
        f.and(format!("t.status IN ({})", ps.join(", ")));
    }
    if q.unassigned {
        f.and(
            "(t.status = 'new' OR (t.status = 'to_dispatch' AND NOT EXISTS (SELECT 1 FROM ticket_technicians x \
            WHERE x.ticket_id = t.id)))"
                .into(),
        );
    }
    if let Some(now) = q.overdue_at {
        let p = f.arg(Arg::Time(now));
        f.and(format!(
            "t.status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress') AND (\
             (t.responded_at IS NULL AND t.respond_due < {p}) OR (t.resolved_at IS NULL AND t.resolve_due < {p}) OR \
             t.respond_breached_at IS NOT NULL OR t.arrive_breached_at IS NOT NULL OR t.resolve_breached_at IS NOT \
             NULL)"
        ));
    }
    if let Some((now, until)) = q.at_risk {
        let (a, b) = (f.arg(Arg::Time(now)), f.arg(Arg::Time(until)));
        f.and(format!(
            "t.status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress') AND \
             t.respond_breached_at IS NULL AND t.arrive_breached_at IS NULL AND t.resolve_breached_at IS NULL AND (\
             (t.responded_at IS NULL AND t.respond_due >= {a} AND t.respond_due < {b}) OR \
             (t.resolve_due >= {a} AND t.resolve_due < {b}))"
        ));
    }
    if q.visits_to_review {
        f.and(
            "t.status <> 'cancelled' AND EXISTS (SELECT 1 FROM visits v WHERE v.ticket_id = t.id AND \
             v.review_verdict IS NULL)"
                .into(),
        );
    }
    if q.escalated {
        f.and("t.escalation_level > 0 AND t.status IN ('in_progress', 'on_hold')".into());
    }
    if let Some(from) = q.scheduled_from {
        let p = f.arg(Arg::Time(from));
        f.and(format!("t.scheduled_at >= {p}"));
    }
    if let Some(to) = q.scheduled_to {
        let p = f.arg(Arg::Time(to));
        f.and(format!("t.scheduled_at < {p}"));
    }
    if let Some(expr) = q.q.as_deref().and_then(|s| search::match_expr(db, s)) {
        let p = f.arg(Arg::Text(expr));
        f.and(search::in_clause(db, "ticket", "t.id", &p));
    }
    f
}

/// A list's two statements, the page's rows and its capped count, and the values both bind.
pub struct ListStatements {
    pub page: String,
    pub count: String,
    /// The page again, read another way, for when `page` came back short while the count
    /// says there is more ([`town_by_school`]'s window held too few).
    pub short_page: Option<String>,
    pub filter: Filter,
}

pub fn list_statements(db: &Db, q: &TicketQuery, page: Page) -> ListStatements {
    if let Some(list) = town_by_school(db, q, page) {
        return list;
    }
    let f = filter(db, q);
    let order = match q.sort.as_deref() {
        Some("oldest") => "t.id ASC",
        Some("due") => "t.resolve_due ASC, t.id ASC",
        Some("priority") => {
            "CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, t.id DESC"
        }
        Some("scheduled") => "t.scheduled_at ASC, t.id ASC",
        Some("updated") => "t.updated_at DESC, t.id DESC",
        _ => "t.id DESC",
    };
    let w = f.where_sql();
    // Page the ids on the tickets table alone, then join the page's rows (a "deferred join").
    let sql = format!(
        "{SELECT} WHERE t.id IN (SELECT t.id FROM tickets t {w} ORDER BY {order} {}) ORDER BY {order}",
        page.sql()
    );
    // The count stops past COUNT_CAP ("1,000+"), searching or not: counting every match
    // grows with the years of tickets, and on PostgreSQL a filter as broad as one town's
    // closed tickets (120,000 of a million) made the API list's p99 79 ms. The start
    // page's counts of the open queues are exact ([`count`]).
    let count = crate::db::count_sql(&format!("FROM tickets t {w}"), true);
    ListStatements { page: sql, count, short_page: None, filter: f }
}

/// A town's list on PostgreSQL, newest (or oldest) first, at a cost bounded whatever the
/// planner believes. The plain statement lets PostgreSQL walk the whole table by id when it
/// takes the town and another filter as independent: a town that never had a cloud desktop,
/// asked for its cloud tickets, took 0.5–1.7 s at a million tickets, every ticket visited
/// (docs/BENCHMARKS.md, session 21). Here the page comes from each school's first
/// `offset + limit` matches, read from an index ordered by id within the school (and its
/// system, or status: migration 0030) and merged: bounded by the town's schools and the
/// page's depth, not the table.
///
/// With no system, fault type or priority asked, the town's share of the tickets is the
/// matches' share, seldom rare: the page is first read from a window of the newest tickets
/// (of the one status asked, from that status's index), at the plain statement's cost, and
/// from the schools only when that page comes back short while the count says there is more
/// (a town without tickets yet, or few of that status). One statement doing both, with
/// PostgreSQL skipping the half not needed, cost a tenth more on the common page.
///
/// The count is the plain one: it reads the town's schools through their indexes, however
/// rare the matches. SQLite's indexes end in the row id already, and it plans the plain
/// statement well. Searches, a school, an engineer, a technician or a device narrow the list
/// by their own indexes, and the work views (overdue, unassigned…) by the open tickets'.
fn town_by_school(db: &Db, q: &TicketQuery, page: Page) -> Option<ListStatements> {
    let town = q.town.clone()?;
    let dir = match q.sort.as_deref() {
        None | Some("newest") => "DESC",
        Some("oldest") => "ASC",
        _ => return None,
    };
    let narrowed = q.q.is_some()
        || q.scope.is_some()
        || q.customer_id.is_some()
        || q.engineer_id.is_some()
        || q.technician_id.is_some()
        || q.equipment_id.is_some();
    let view = q.unassigned
        || q.overdue_at.is_some()
        || q.at_risk.is_some()
        || q.escalated
        || q.visits_to_review
        || q.scheduled_from.is_some()
        || q.scheduled_to.is_some();
    if !matches!(db, Db::Postgres(_)) || narrowed || view {
        return None;
    }
    let mut f = filter(db, &TicketQuery { town: None, ..q.clone() });
    let p = f.arg(Arg::Text(town));
    let per_school = format!("WHERE {}", [&f.clauses[..], &["t.customer_id = c.id".to_owned()]].concat().join(" AND "));
    f.and(town_clause(&p));
    let w = f.where_sql();
    let first = page.offset().saturating_add(page.limit());
    let schools = format!(
        "SELECT s.id FROM customers c CROSS JOIN LATERAL (SELECT t.id FROM tickets t {per_school} \
         ORDER BY t.id {dir} LIMIT {first}) s WHERE c.town = {p}"
    );
    let by_school = format!("{SELECT} WHERE t.id IN ({schools} ORDER BY 1 {dir} {}) ORDER BY t.id {dir}", page.sql());
    let count = crate::db::count_sql(&format!("FROM tickets t {w}"), true);
    if q.system.is_some() || q.fault_type.is_some() || q.priority.is_some() {
        return Some(ListStatements { page: by_school, count, short_page: None, filter: f });
    }
    // Enough newest tickets to hold a page of a town with 1 in 40 of them, and few enough
    // that missing costs less than the merge after it (1,000 rows: 1–2 ms).
    let window = first.saturating_mul(40).clamp(1_000, 20_000);
    let status = match q.statuses.as_slice() {
        [s] => TicketStatus::parse(s).map(|k| format!("WHERE t.status = '{}'", k.as_str())),
        _ => None,
    }
    .unwrap_or_default();
    let sql = format!(
        "{SELECT} WHERE t.id IN (SELECT t.id FROM (SELECT t.id, t.customer_id, t.status FROM tickets t {status} \
         ORDER BY t.id {dir} LIMIT {window}) t {w} ORDER BY t.id {dir} {}) ORDER BY t.id {dir}",
        page.sql()
    );
    Some(ListStatements { page: sql, count, short_page: Some(by_school), filter: f })
}

pub async fn list(db: &Db, q: &TicketQuery, page: Page) -> Result<Paged<TicketRow>> {
    let ListStatements { page: sql, count: count_sql, short_page, filter: f } = list_statements(db, q, page);
    let (mut items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    // Short while the count says more, or cannot say (capped, as for a whole export).
    let more = total > crate::db::COUNT_CAP || total > page.offset().saturating_add(items.len() as i64);
    let short = items.len() < page.per_page as usize && more;
    if let Some(sql) = short_page.filter(|_| short) {
        items = on_db!(db, |p| bind_args!(sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
            .fetch_all(p)
            .await?);
    }
    Ok(Paged::counted(items, total, true))
}

/// How many tickets the query matches, exactly: for the start page's queues (open states,
/// which stay small however long the history), not for lists of everything.
pub async fn count(db: &Db, q: &TicketQuery) -> Result<i64> {
    let f = filter(db, q);
    let sql = crate::db::count_sql(&format!("FROM tickets t {}", f.where_sql()), false);
    Ok(on_db!(db, |p| bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
        .fetch_one(p)
        .await?))
}

/// (ticket id, technician id) for tickets scheduled in [from, to): the dispatch board.
pub async fn assignments_between(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, i64)>(
        "SELECT t.id, tt.user_id FROM tickets t JOIN ticket_technicians tt ON tt.ticket_id = t.id \
         WHERE t.scheduled_at >= $1 AND t.scheduled_at < $2 ORDER BY t.scheduled_at"
    )
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await?))
}

/// Tickets opened in [from, to) by status and system: the manager's month chart.
pub async fn count_by_status_and_system(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, String, i64)>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, (String, String, i64)>(
        "SELECT status, system, COUNT(*) FROM tickets WHERE created_at >= $1 AND created_at < $2 GROUP BY status, system"
    )
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await?
    }))
}

/// Each technician's load: tickets scheduled in [from, to) and open tickets assigned.
pub async fn technician_load(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(i64, i64, i64)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, i64, i64)>(
        "SELECT x.user_id, \
           SUM(CASE WHEN t.scheduled_at >= $1 AND t.scheduled_at < $2 AND t.status <> 'cancelled' THEN 1 ELSE 0 END), \
           SUM(CASE WHEN t.status IN ('scheduled', 'in_progress', 'on_hold') THEN 1 ELSE 0 END) \
         FROM ticket_technicians x JOIN tickets t ON t.id = x.ticket_id \
         WHERE t.status IN ('scheduled', 'in_progress', 'on_hold') OR (t.scheduled_at >= $1 AND t.scheduled_at < $2) \
         GROUP BY x.user_id"
    )
    .bind(from)
    .bind(to)
    .fetch_all(p)
    .await?))
}

/// The numbers of these tickets (`GD20261206-0022`), in one query.
pub async fn numbers(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT id, number FROM tickets WHERE id IN ({list})");
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_worked_out_beforehand_is_the_one_the_write_would_make() {
        let now = Utc::now();
        let t = TicketWrite {
            customer_id: 1,
            customer_name: "城关镇第一小学".into(),
            town: "城关镇".into(),
            search_body: None,
            equipment_ids: Vec::new(),
            system: System::Network,
            title: "交换机断网".into(),
            // The number's own words again in the text: each word is in the document once.
            description: "来电编号 0042，GD20261207 批次".into(),
            source: TicketSource::Phone,
            priority: Priority::Normal,
            reporter_name: Some("王老师".into()),
            reporter_phone: Some("13905661111".into()),
            respond_due: now,
            arrive_due: now,
            resolve_due: now,
            created_by: None,
            now,
        };
        let number = "GD20261207-0042";
        let whole = search::index_body(&search_text(&t, number, &t.customer_name));
        let rest = with_search_body(t.clone()).search_body.unwrap_or_default();
        assert_eq!(numbered_body(number, &rest), whole);
        assert!(whole.starts_with("gd20261207 0042 "), "{whole}");
        assert_eq!(numbered_body("", &rest), rest, "PostgreSQL adds the number's words in its statement");
    }
}
