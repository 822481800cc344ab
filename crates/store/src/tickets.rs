//! Work orders: tickets, their timeline, visits, SLA policies and settings, the fault
//! taxonomy, notifications and proposed penalty events.

use crate::db::{Arg, Filter, WritePool};
use crate::{Db, Page, Paged, Result, StoreError, Writer, audit_append, bind_args, map_write_err, on_db, search};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
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
    pub system: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub priority: String,
    pub status: String,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub fault_type: Option<String>,
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
    pub equipment_ids: Vec<i64>,
    pub system: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub priority: String,
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
    /// `created`, `action`, `comment`, `visit`, `callback_attempt`, `sla_breach`, `repeat`, `misdiagnosis`.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub data_json: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub kind: &'static str,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: i64,
    /// `assigned`, `escalated`, `sla_breach`, `sla_breach_many` (the SLA sweep's one line for
    /// many tickets; no ticket id), `callback_due`, `declined`, `penalty`.
    pub kind: &'static str,
    pub args: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct NewPenalty {
    /// `repeat_repair`, `misdiagnosis`, `missed_call`, `unreported_shortage`.
    pub kind: &'static str,
    pub user_id: i64,
    pub related_ticket_id: Option<i64>,
    pub reason: String,
}

/// A change to one ticket, applied atomically and only if nobody changed it meanwhile.
#[derive(Debug, Clone, Default)]
pub struct TicketChange {
    /// Columns to set (names from this module's callers, never from input).
    pub sets: Vec<(&'static str, Arg)>,
    pub technicians: Option<Vec<i64>>,
    pub events: Vec<NewEvent>,
    pub penalties: Vec<NewPenalty>,
    pub notifications: Vec<NewNotification>,
    pub audit_action: &'static str,
}

macro_rules! insert_event {
    ($tx:expr, $w:expr, $ticket:expr, $e:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, data_json) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($ticket)
        .bind($now)
        .bind($w.user_id)
        .bind(&$w.name)
        .bind($e.kind)
        .bind(&$e.from_status)
        .bind(&$e.to_status)
        .bind(&$e.note)
        .bind($e.data.as_ref().map(|d: &serde_json::Value| d.to_string()))
        .execute(&mut *$tx)
        .await?
    };
}

macro_rules! insert_notifications {
    ($tx:expr, $ticket:expr, $list:expr, $now:expr) => {
        for n in $list {
            sqlx::query(
                "INSERT INTO notifications (user_id, at, kind, ticket_id, args_json) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(n.user_id)
            .bind($now)
            .bind(n.kind)
            .bind($ticket)
            .bind(n.args.to_string())
            .execute(&mut *$tx)
            .await?;
        }
    };
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
    fn fresh(id: i64, number: String, customer_name: String, town: String, t: &TicketWrite) -> TicketRow {
        // The databases keep microseconds; answer with what a later read returns.
        let now = t.now.trunc_subsecs(6);
        TicketRow {
            id,
            number,
            customer_id: t.customer_id,
            customer_name,
            town,
            system: t.system.clone(),
            title: t.title.clone(),
            description: t.description.clone(),
            source: t.source.clone(),
            priority: t.priority.clone(),
            status: "new".into(),
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
    Ok(on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let mut made = Vec::with_capacity(items.len());
        // A group takes its numbers with one counter update per day, not one per ticket,
        // and reads each school once.
        let mut next: HashMap<String, i64> = HashMap::new();
        for (w, t) in items {
            *next.entry(w.number_day(t.now)).or_default() += 1;
        }
        for (day, n) in next.iter_mut() {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO number_counters (scope, last) VALUES ($1, $2) \
                 ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + $2 RETURNING last")
                .bind(format!("ticket:{day}")).bind(*n).fetch_one(&mut *tx).await?;
            *n = last - *n;
        }
        // Each statement below writes the whole group at once: one round trip to the
        // database per table, not one per ticket.
        let mut ids: Vec<i64> = items.iter().map(|(_, t)| t.customer_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let found: Vec<(i64, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, name, town FROM customers WHERE id IN ({list})")))
            .fetch_all(&mut *tx).await?;
        let schools: HashMap<i64, (String, String)> = found.into_iter().map(|(id, n, t)| (id, (n, t))).collect();
        let mut numbers = Vec::with_capacity(items.len());
        for (w, t) in items {
            if !schools.contains_key(&t.customer_id) {
                return Err(StoreError::MissingReference);
            }
            let day = w.number_day(t.now);
            let n = next.get_mut(&day).map(|n| { *n += 1; *n }).ok_or(StoreError::NotFound)?;
            numbers.push(format!("GD{day}-{n:04}"));
        }
        let rows = (0..items.len()).map(|i| {
            let b = i * 14;
            format!("(${}, ${}, ${}, ${}, ${}, ${}, ${}, 'new', ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 1)",
                b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 14)
        }).collect::<Vec<_>>().join(", ");
        let sql = format!("INSERT INTO tickets (number, customer_id, system, title, description, source, priority, status, reporter_name, reporter_phone, \
             respond_due, arrive_due, resolve_due, created_by, created_at, updated_at, version) VALUES {rows} RETURNING id, number");
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for ((_, t), number) in items.iter().zip(&numbers) {
            q = q.bind(number).bind(t.customer_id).bind(&t.system).bind(&t.title).bind(&t.description).bind(&t.source).bind(&t.priority)
                .bind(&t.reporter_name).bind(&t.reporter_phone).bind(t.respond_due).bind(t.arrive_due).bind(t.resolve_due)
                .bind(t.created_by).bind(t.now);
        }
        // RETURNING promises no order: match the rows back by their unique numbers.
        let got: HashMap<String, i64> = q.fetch_all(&mut *tx).await?.into_iter().map(|(id, n)| (n, id)).collect();
        let ticket_ids = numbers.iter().map(|n| got.get(n).copied().ok_or(StoreError::NotFound)).collect::<Result<Vec<i64>>>()?;
        let links: Vec<(i64, i64)> = items.iter().zip(&ticket_ids).flat_map(|((_, t), id)| t.equipment_ids.iter().map(move |e| (*id, *e))).collect();
        if !links.is_empty() {
            let rows = (0..links.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect::<Vec<_>>().join(", ");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO ticket_equipment (ticket_id, equipment_id) VALUES {rows}")));
            for (t, e) in &links {
                q = q.bind(t).bind(e);
            }
            q.execute(&mut *tx).await?;
        }
        let rows = (0..items.len()).map(|i| {
            let b = i * 5;
            format!("(${}, ${}, ${}, ${}, 'created', NULL, 'new', ${}, NULL)", b + 1, b + 2, b + 3, b + 4, b + 5)
        }).collect::<Vec<_>>().join(", ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, data_json) VALUES {rows}")));
        for ((w, t), id) in items.iter().zip(&ticket_ids) {
            q = q.bind(id).bind(t.now).bind(w.user_id).bind(&w.name).bind(&t.title);
        }
        q.execute(&mut *tx).await?;
        let mut q = sqlx::query(sqlx::AssertSqlSafe(search::upsert_many_sql(db, "ticket", items.len())));
        for (((_, t), id), number) in items.iter().zip(&ticket_ids).zip(&numbers) {
            let customer = schools.get(&t.customer_id).map(|(n, _)| n.as_str()).unwrap_or_default();
            q = q.bind(id).bind(t.customer_id).bind(search::index_body(&search_text(t, number, customer)));
        }
        q.execute(&mut *tx).await?;
        if let Db::Sqlite(_) = db {
            sqlx::query(search::MERGE_STEP_SQLITE).execute(&mut *tx).await?;
        }
        let rows = (0..items.len()).map(|i| {
            let b = i * 6;
            format!("(${}, ${}, ${}, 'ticket', ${}, 'create', ${}, NULL, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6)
        }).collect::<Vec<_>>().join(", ");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, before_json, after_json) VALUES {rows}")));
        let at = Utc::now();
        for (((w, t), id), number) in items.iter().zip(&ticket_ids).zip(&numbers) {
            let after = serde_json::json!({"title": t.title, "customer_id": t.customer_id, "priority": t.priority}).to_string();
            q = q.bind(at).bind(w.user_id).bind(&w.name).bind(id).bind(number).bind(after);
        }
        q.execute(&mut *tx).await?;
        for (((_, t), id), number) in items.iter().zip(&ticket_ids).zip(numbers) {
            let (customer, town) = schools.get(&t.customer_id).cloned().unwrap_or_default();
            made.push(TicketRow::fresh(*id, number, customer, town, t));
        }
        tx.commit().await.map_err(StoreError::Commit)?;
        made
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<TicketRow> {
    let sql = format!("{SELECT} WHERE t.id = $1");
    let row = on_db!(db, p => sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn by_number(db: &Db, number: &str) -> Result<Option<i64>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT id FROM tickets WHERE number = $1").bind(number).fetch_optional(p).await?),
    )
}

pub async fn equipment_of(db: &Db, id: i64) -> Result<Vec<i64>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT equipment_id FROM ticket_equipment WHERE ticket_id = $1 ORDER BY equipment_id")
        .bind(id).fetch_all(p).await?),
    )
}

pub async fn technicians_of(db: &Db, id: i64) -> Result<Vec<i64>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT user_id FROM ticket_technicians WHERE ticket_id = $1 ORDER BY user_id")
        .bind(id).fetch_all(p).await?),
    )
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
    let mut sets = Vec::new();
    for (col, v) in &change.sets {
        let p = f.arg(v.clone());
        sets.push(format!("{col} = {p}"));
    }
    let pn = f.arg(Arg::Time(now));
    sets.push(format!("updated_at = {pn}"));
    sets.push("version = version + 1".into());
    let pid = f.arg(Arg::I64(id));
    let pv = f.arg(Arg::I64(version));
    let sql = format!("UPDATE tickets SET {} WHERE id = {pid} AND version = {pv}", sets.join(", "));
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), f.args).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        if let Some(techs) = &change.technicians {
            sqlx::query("DELETE FROM ticket_technicians WHERE ticket_id = $1").bind(id).execute(&mut *tx).await?;
            for u in techs {
                sqlx::query("INSERT INTO ticket_technicians (ticket_id, user_id) VALUES ($1, $2)").bind(id).bind(u).execute(&mut *tx).await?;
            }
        }
        for e in &change.events {
            insert_event!(tx, w, id, e, now);
        }
        for pe in &change.penalties {
            sqlx::query(
                "INSERT INTO penalty_events (kind, user_id, ticket_id, related_ticket_id, at, status, reason) VALUES ($1, $2, $3, $4, $5, 'proposed', $6)")
                .bind(pe.kind).bind(pe.user_id).bind(id).bind(pe.related_ticket_id).bind(now).bind(&pe.reason)
                .execute(&mut *tx).await?;
        }
        insert_notifications!(tx, id, &change.notifications, now);
        if !change.audit_action.is_empty() {
            let summary = change.events.first().and_then(|e| e.to_status.clone()).unwrap_or_default();
            audit_append!(tx, w, "ticket", id, change.audit_action, &summary, None, None);
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn events(db: &Db, id: i64) -> Result<Vec<EventRow>> {
    Ok(
        on_db!(db, p => sqlx::query_as::<_, EventRow>("SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY id").bind(id).fetch_all(p).await?),
    )
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct VisitRow {
    pub id: i64,
    pub ticket_id: i64,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub work_done: String,
    /// `fixed`, `partial`, `not_fixed`, `escalated`.
    pub result: String,
    pub parts_used: Option<String>,
    pub defective_parts: Option<String>,
    pub signer_name: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Comma-separated user ids of who went.
    #[sqlx(default)]
    pub technician_ids: String,
}

const VISIT_COLUMNS: &str = "v.id, v.ticket_id, v.departed_at, v.arrived_at, v.finished_at, v.returned_at, v.work_done, v.result, \
    v.parts_used, v.defective_parts, v.signer_name, v.signed_at, v.created_by, v.created_at";

#[derive(Debug, Clone)]
pub struct VisitWrite {
    pub technician_ids: Vec<i64>,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub work_done: String,
    pub result: String,
    pub parts_used: Option<String>,
    pub defective_parts: Option<String>,
    pub signature: Option<(String, Vec<u8>)>,
    /// The equipment the part movements are linked to (the ticket's first).
    pub equipment_id: Option<i64>,
    /// Catalogue parts used and defective parts brought back, posted as movements in the
    /// visit's own transaction.
    pub parts: Vec<VisitStockLine>,
}

/// One stock movement of a visit.
#[derive(Debug, Clone)]
pub struct VisitStockLine {
    /// `false`: an `issue` (a part used); `true`: a `defective_return`.
    pub defective: bool,
    pub part_id: i64,
    pub warehouse_id: i64,
    pub qty: i64,
    /// The fitted part's serial.
    pub serial_no: Option<String>,
    /// The broken part's serial.
    pub old_serial_no: Option<String>,
}

/// Records a visit on a ticket that still has `version`; the first arrival stamps the
/// ticket's arrive clock. Its parts are posted in the same transaction: a part used that
/// its warehouse lacks is `Insufficient` and nothing at all is written. Returns the visit id.
pub async fn add_visit(
    db: &Db,
    w: &Writer,
    ticket_id: i64,
    version: i64,
    v: &VisitWrite,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (signer, png) = match &v.signature {
        Some((n, p)) => (Some(n.clone()), Some(p.clone())),
        None => (None, None),
    };
    let signed_at = signer.as_ref().map(|_| now);
    Ok(on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE tickets SET arrived_at = COALESCE(arrived_at, $3), updated_at = $4, version = version + 1 WHERE id = $1 AND version = $2")
            .bind(ticket_id).bind(version).bind(v.arrived_at).bind(now).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO visits (ticket_id, departed_at, arrived_at, finished_at, returned_at, work_done, result, parts_used, defective_parts, \
             signer_name, signed_at, signature_png, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id")
            .bind(ticket_id).bind(v.departed_at).bind(v.arrived_at).bind(v.finished_at).bind(v.returned_at).bind(&v.work_done).bind(&v.result)
            .bind(&v.parts_used).bind(&v.defective_parts).bind(&signer).bind(signed_at).bind(&png).bind(w.user_id).bind(now)
            .fetch_one(&mut *tx).await?;
        for u in &v.technician_ids {
            sqlx::query("INSERT INTO visit_technicians (visit_id, user_id) VALUES ($1, $2)").bind(id).bind(u).execute(&mut *tx).await?;
        }
        if matches!(db, Db::Postgres(_)) {
            crate::parts::lock_stock_rows!(tx, v.parts.iter().map(|l| (l.part_id, l.warehouse_id)).collect::<Vec<_>>());
        }
        for l in &v.parts {
            // Usable stock is taken only if it is there (else the whole visit is undone);
            // a broken part goes to the separate defective count, never to usable stock.
            let (balance_after, cost): (i64, i64) = if l.defective {
                sqlx::query(
                    "INSERT INTO stock (part_id, warehouse_id, on_hand, defective, avg_cost_fen) VALUES ($1, $2, 0, 0, 0) \
                     ON CONFLICT (part_id, warehouse_id) DO NOTHING")
                    .bind(l.part_id).bind(l.warehouse_id).execute(&mut *tx).await?;
                sqlx::query_as(
                    "UPDATE stock SET defective = defective + $3 WHERE part_id = $1 AND warehouse_id = $2 RETURNING defective, avg_cost_fen")
                    .bind(l.part_id).bind(l.warehouse_id).bind(l.qty).fetch_one(&mut *tx).await?
            } else {
                crate::parts::take_stock!(tx, l.part_id, l.warehouse_id, l.qty)
            };
            let kind = if l.defective { "defective_return" } else { "issue" };
            let movement_no = crate::parts::next_movement_no!(tx, w, now);
            let note = format!("visit {id}");
            let mid: i64 = sqlx::query_scalar(
                "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, unit_cost_fen, ticket_id, equipment_id, \
                 serial_no, old_serial_no, note, by_user_id, at, balance_after) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id")
                .bind(&movement_no).bind(kind).bind(l.part_id).bind(l.warehouse_id).bind(l.qty).bind(cost).bind(ticket_id)
                .bind(v.equipment_id).bind(&l.serial_no).bind(&l.old_serial_no).bind(&note).bind(w.user_id).bind(now).bind(balance_after)
                .fetch_one(&mut *tx).await.map_err(|e| map_write_err(e, &["movement_no"]))?;
            audit_append!(tx, w, "stock_movement", mid, kind, &movement_no, None, Some(serde_json::json!({
                "part_id": l.part_id, "warehouse_id": l.warehouse_id, "qty": l.qty, "ticket_id": ticket_id,
                "equipment_id": v.equipment_id, "serial_no": l.serial_no, "old_serial_no": l.old_serial_no, "visit_id": id})));
        }
        let mut ev = event.clone();
        let mut data = ev.data.take().unwrap_or_else(|| serde_json::json!({}));
        data["visit_id"] = serde_json::json!(id);
        ev.data = Some(data);
        insert_event!(tx, w, ticket_id, ev, now);
        tx.commit().await?;
        id
    }))
}

pub async fn visits(db: &Db, ticket_id: i64) -> Result<Vec<VisitRow>> {
    let techs = match db {
        Db::Sqlite(_) => {
            "(SELECT COALESCE(group_concat(user_id, ','), '') FROM visit_technicians vt WHERE vt.visit_id = v.id)"
        }
        Db::Postgres(_) => {
            "(SELECT COALESCE(string_agg(user_id::text, ','), '') FROM visit_technicians vt WHERE vt.visit_id = v.id)"
        }
    };
    let sql =
        format!("SELECT {VISIT_COLUMNS}, {techs} AS technician_ids FROM visits v WHERE v.ticket_id = $1 ORDER BY v.id");
    Ok(
        on_db!(db, p => sqlx::query_as::<_, VisitRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(ticket_id).fetch_all(p).await?),
    )
}

/// A part movement linked to a piece of equipment (its page: parts used over its life).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EquipmentPartRow {
    pub movement_no: String,
    /// `issue` (fitted) or `defective_return` (taken out), or any other kind linked to it.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub qty: i64,
    pub serial_no: Option<String>,
    pub old_serial_no: Option<String>,
}

/// Every stock movement linked to this piece of equipment, newest first.
pub async fn parts_of_equipment(db: &Db, equipment_id: i64) -> Result<Vec<EquipmentPartRow>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, EquipmentPartRow>(
        "SELECT m.movement_no, m.kind, m.at, m.ticket_id, t.number AS ticket_number, m.part_id, pa.code AS part_code, \
         pa.name AS part_name, pa.unit, m.qty, m.serial_no, m.old_serial_no FROM stock_movements m \
         JOIN parts pa ON pa.id = m.part_id LEFT JOIN tickets t ON t.id = m.ticket_id \
         WHERE m.equipment_id = $1 ORDER BY m.id DESC LIMIT 500")
        .bind(equipment_id).fetch_all(p).await?))
}

/// Every visit to tickets that name this piece of equipment, newest first.
pub async fn visits_of_equipment(db: &Db, equipment_id: i64) -> Result<Vec<VisitRow>> {
    let sql = format!(
        "SELECT {VISIT_COLUMNS} FROM visits v JOIN ticket_equipment te ON te.ticket_id = v.ticket_id WHERE te.equipment_id = $1 ORDER BY v.arrived_at DESC LIMIT 100"
    );
    Ok(
        on_db!(db, p => sqlx::query_as::<_, VisitRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(equipment_id).fetch_all(p).await?),
    )
}

/// The signature image of a visit.
pub async fn signature(db: &Db, visit_id: i64) -> Result<Option<(i64, Vec<u8>)>> {
    let row: Option<(i64, Option<Vec<u8>>)> = on_db!(db, p => sqlx::query_as("SELECT ticket_id, signature_png FROM visits WHERE id = $1")
        .bind(visit_id).fetch_optional(p).await?);
    Ok(row.and_then(|(t, png)| png.map(|p| (t, p))))
}

/// Is there a visit that failed after the last diagnosis (or any, if never diagnosed)?
pub async fn failed_visit_since_diagnosis(db: &Db, ticket_id: i64) -> Result<bool> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM visits v WHERE v.ticket_id = $1 AND v.result IN ('not_fixed', 'escalated') AND NOT EXISTS ( \
           SELECT 1 FROM ticket_events e WHERE e.ticket_id = $1 AND e.kind = 'diagnosis' AND e.at > v.created_at)")
        .bind(ticket_id).fetch_one(p).await?);
    Ok(n > 0)
}

pub async fn has_signed_visit(db: &Db, ticket_id: i64) -> Result<bool> {
    let n: i64 = on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM visits WHERE ticket_id = $1 AND signer_name IS NOT NULL AND signature_png IS NOT NULL")
        .bind(ticket_id).fetch_one(p).await?);
    Ok(n > 0)
}

pub async fn visits_ticket(db: &Db, visit_id: i64) -> Result<Option<i64>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT ticket_id FROM visits WHERE id = $1").bind(visit_id).fetch_optional(p).await?),
    )
}

/// Every user who went on a visit of this ticket.
pub async fn visit_technicians(db: &Db, ticket_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT DISTINCT vt.user_id FROM visit_technicians vt JOIN visits v ON v.id = vt.visit_id WHERE v.ticket_id = $1 ORDER BY vt.user_id")
        .bind(ticket_id).fetch_all(p).await?))
}

/// Closed tickets on any of these pieces of equipment (for the repeat-repair rule).
pub async fn closed_on_equipment(
    db: &Db,
    equipment_ids: &[i64],
    except: i64,
) -> Result<Vec<(i64, i64, Option<String>, Option<DateTime<Utc>>)>> {
    if equipment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = equipment_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT t.id, te.equipment_id, t.fault_type, t.closed_at FROM tickets t JOIN ticket_equipment te ON te.ticket_id = t.id \
         WHERE te.equipment_id IN ({list}) AND t.status = 'closed' AND t.id <> $1"
    );
    Ok(
        on_db!(db, p => sqlx::query_as::<_, (i64, i64, Option<String>, Option<DateTime<Utc>>)>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(except).fetch_all(p).await?),
    )
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
    /// Scheduled within [from, to).
    pub scheduled_from: Option<DateTime<Utc>>,
    pub scheduled_to: Option<DateTime<Utc>>,
    /// `newest` (default), `oldest`, `due`, `priority`, `scheduled`, `updated`.
    pub sort: Option<String>,
    pub scope: Option<i64>,
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
        f.and(format!("t.customer_id IN (SELECT id FROM customers WHERE town = {p})"));
    }
    for (col, v) in [("t.system", &q.system), ("t.fault_type", &q.fault_type), ("t.priority", &q.priority)] {
        if let Some(v) = v {
            let p = f.arg(Arg::Text(v.clone()));
            f.and(format!("{col} = {p}"));
        }
    }
    if !q.statuses.is_empty() {
        let ps: Vec<String> = q.statuses.iter().map(|s| f.arg(Arg::Text(s.clone()))).collect();
        f.and(format!("t.status IN ({})", ps.join(", ")));
    }
    if q.unassigned {
        f.and("(t.status = 'new' OR (t.status = 'to_dispatch' AND NOT EXISTS (SELECT 1 FROM ticket_technicians x WHERE x.ticket_id = t.id)))".into());
    }
    if let Some(now) = q.overdue_at {
        let p = f.arg(Arg::Time(now));
        f.and(format!(
            "t.status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress') AND (\
             (t.responded_at IS NULL AND t.respond_due < {p}) OR (t.resolved_at IS NULL AND t.resolve_due < {p}) OR \
             t.respond_breached_at IS NOT NULL OR t.arrive_breached_at IS NOT NULL OR t.resolve_breached_at IS NOT NULL)"
        ));
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

pub async fn list(db: &Db, q: &TicketQuery, page: Page) -> Result<Paged<TicketRow>> {
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
    let n = f.args.len();
    // Page the ids on the tickets table alone, then join the page's rows (a "deferred join").
    let sql = format!(
        "{SELECT} WHERE t.id IN (SELECT t.id FROM tickets t {w} ORDER BY {order} LIMIT ${} OFFSET ${}) ORDER BY {order}",
        n + 1,
        n + 2
    );
    // Searching counts at most COUNT_CAP + 1 matches.
    let searching = q.q.as_deref().is_some_and(|s| search::match_expr(db, s).is_some());
    let count_sql = crate::db::count_sql(&format!("FROM tickets t {w}"), searching);
    let (items, total) = on_db!(db, p => (
        bind_args!(sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged::counted(items, total, searching))
}

/// (ticket id, technician id) for tickets scheduled in [from, to): the dispatch board.
pub async fn assignments_between(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, (i64, i64)>(
        "SELECT t.id, tt.user_id FROM tickets t JOIN ticket_technicians tt ON tt.ticket_id = t.id \
         WHERE t.scheduled_at >= $1 AND t.scheduled_at < $2 ORDER BY t.scheduled_at")
        .bind(from).bind(to).fetch_all(p).await?))
}

/// A ticket the SLA sweep flagged, with the clocks it flagged (`respond`, `arrive`, `resolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breached {
    pub id: i64,
    pub number: String,
    pub engineer_id: Option<i64>,
    pub clocks: Vec<&'static str>,
}

/// id, number, engineer and whether each clock (respond, arrive, resolve) was flagged now.
type SweptRow = (i64, String, Option<i64>, Option<bool>, Option<bool>, Option<bool>);

/// A notification of the sweep, about one ticket or (`ticket_id` None) about many.
#[derive(Debug, Clone)]
pub struct SweepNotification {
    pub ticket_id: Option<i64>,
    pub note: NewNotification,
}

/// Flags, with one statement, up to `limit` open tickets whose clocks ran out by `now` —
/// the rules of `aftercare_domain::tickets::breaches` in SQL: a clock runs in the open
/// states, the arrive clock only once a visit is needed — and writes their timeline
/// events and the notifications `notify` makes of them, each table with multi-row
/// statements, all in one transaction. Returns the tickets flagged (fewer than `limit`
/// when none are left). Ten thousand tickets opened together breach together: one
/// `update` per ticket cost minutes of CPU per wave.
pub async fn sweep_breaches(
    db: &Db,
    w: &Writer,
    now: DateTime<Utc>,
    limit: i64,
    notify: impl Fn(&[Breached]) -> Vec<SweepNotification>,
) -> Result<Vec<Breached>> {
    const RESPOND: &str = "responded_at IS NULL AND respond_breached_at IS NULL AND respond_due < $1";
    const ARRIVE: &str = "status IN ('to_dispatch', 'scheduled', 'in_progress') AND arrived_at IS NULL AND arrive_breached_at IS NULL AND arrive_due < $1";
    const RESOLVE: &str = "resolved_at IS NULL AND resolve_breached_at IS NULL AND resolve_due < $1";
    // The late condition is repeated outside the subquery so that PostgreSQL, rechecking a
    // row someone changed meanwhile, skips it when it is no longer late.
    let late = format!(
        "status IN ('new', 'triage', 'to_dispatch', 'scheduled', 'in_progress') AND (({RESPOND}) OR ({ARRIVE}) OR ({RESOLVE}))"
    );
    let lock = match db {
        Db::Sqlite(_) => "",
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE tickets SET \
           respond_breached_at = CASE WHEN {RESPOND} THEN $1 ELSE respond_breached_at END, \
           arrive_breached_at = CASE WHEN {ARRIVE} THEN $1 ELSE arrive_breached_at END, \
           resolve_breached_at = CASE WHEN {RESOLVE} THEN $1 ELSE resolve_breached_at END, \
           updated_at = $1, version = version + 1 \
         WHERE id IN (SELECT id FROM tickets WHERE {late} ORDER BY id LIMIT $2{lock}) AND {late} \
         RETURNING id, number, engineer_id, respond_breached_at = $1, arrive_breached_at = $1, resolve_breached_at = $1"
    );
    Ok(on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let rows: Vec<SweptRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(now).bind(limit).fetch_all(&mut *tx).await?;
        let mut hit: Vec<Breached> = rows
            .into_iter()
            .map(|(id, number, engineer_id, r, a, s)| {
                let clocks = [(r, "respond"), (a, "arrive"), (s, "resolve")]
                    .into_iter()
                    .filter(|(b, _)| b.unwrap_or(false))
                    .map(|(_, c)| c)
                    .collect();
                Breached { id, number, engineer_id, clocks }
            })
            .collect();
        hit.sort_by_key(|b| b.id);
        // 1,000 rows a statement keeps within either database's limit of bound values.
        for chunk in hit.chunks(1000) {
            let rows = (0..chunk.len())
                .map(|i| format!("(${}, $1, $2, $3, 'sla_breach', NULL, NULL, NULL, ${})", 2 * i + 4, 2 * i + 5))
                .collect::<Vec<_>>()
                .join(", ");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_name, kind, from_status, to_status, note, data_json) VALUES {rows}")))
                .bind(now).bind(w.user_id).bind(&w.name);
            for b in chunk {
                q = q.bind(b.id).bind(serde_json::json!({"clocks": b.clocks}).to_string());
            }
            q.execute(&mut *tx).await?;
        }
        let notes = if hit.is_empty() { Vec::new() } else { notify(&hit) };
        for chunk in notes.chunks(1000) {
            let rows = (0..chunk.len())
                .map(|i| format!("(${}, $1, ${}, ${}, ${})", 4 * i + 2, 4 * i + 3, 4 * i + 4, 4 * i + 5))
                .collect::<Vec<_>>()
                .join(", ");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO notifications (user_id, at, kind, ticket_id, args_json) VALUES {rows}"))).bind(now);
            for n in chunk {
                q = q.bind(n.note.user_id).bind(n.note.kind).bind(n.ticket_id).bind(n.note.args.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        hit
    }))
}

// ---------------------------------------------------------------------------------------
// SLA policies, settings, taxonomy.

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SlaRow {
    pub priority: String,
    pub respond_minutes: i32,
    pub arrive_minutes: i32,
    pub resolve_minutes: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn sla_policies(db: &Db) -> Result<Vec<SlaRow>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, SlaRow>(
        "SELECT * FROM sla_policies ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END")
        .fetch_all(p).await?))
}

pub async fn set_sla_policy(db: &Db, w: &Writer, row: &SlaRow) -> Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO sla_policies (priority, respond_minutes, arrive_minutes, resolve_minutes, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (priority) DO UPDATE SET respond_minutes = excluded.respond_minutes, arrive_minutes = excluded.arrive_minutes, \
             resolve_minutes = excluded.resolve_minutes, updated_at = excluded.updated_at")
            .bind(&row.priority).bind(row.respond_minutes).bind(row.arrive_minutes).bind(row.resolve_minutes).bind(row.updated_at)
            .execute(&mut *tx).await?;
        audit_append!(tx, w, "sla_policy", 0_i64, "update", &row.priority, None,
            Some(serde_json::json!({"priority": row.priority, "respond_minutes": row.respond_minutes, "arrive_minutes": row.arrive_minutes, "resolve_minutes": row.resolve_minutes})));
        tx.commit().await?;
    });
    Ok(())
}

pub async fn setting(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await?),
    )
}

pub async fn set_setting(db: &Db, w: &Writer, key: &str, value: &str) -> Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key).bind(value).execute(&mut *tx).await?;
        audit_append!(tx, w, "setting", 0_i64, "update", key, None, Some(serde_json::json!({key: value})));
        tx.commit().await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SubcategoryRow {
    pub code: String,
    pub system: String,
    pub fault_type: String,
    pub name_zh: String,
    pub name_en: String,
    pub typical_cause: Option<String>,
    pub active: bool,
}

pub async fn subcategories(db: &Db) -> Result<Vec<SubcategoryRow>> {
    Ok(
        on_db!(db, p => sqlx::query_as::<_, SubcategoryRow>("SELECT * FROM fault_subcategories ORDER BY system, fault_type, code").fetch_all(p).await?),
    )
}

pub async fn subcategory(db: &Db, code: &str) -> Result<Option<SubcategoryRow>> {
    Ok(
        on_db!(db, p => sqlx::query_as::<_, SubcategoryRow>("SELECT * FROM fault_subcategories WHERE code = $1").bind(code).fetch_optional(p).await?),
    )
}

// ---------------------------------------------------------------------------------------
// Notifications.

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub ticket_id: Option<i64>,
    pub args_json: String,
    pub read_at: Option<DateTime<Utc>>,
}

pub async fn notifications(db: &Db, user_id: i64, page: Page) -> Result<Paged<NotificationRow>> {
    let (items, total) = on_db!(db, p => (
        sqlx::query_as::<_, NotificationRow>("SELECT * FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3")
            .bind(user_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notifications WHERE user_id = $1").bind(user_id).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn unread_count(db: &Db, user_id: i64) -> Result<i64> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
        .bind(user_id).fetch_one(p).await?),
    )
}

/// Marks one (or, with `None`, every) notification of the user read.
pub async fn mark_read(db: &Db, user_id: i64, id: Option<i64>, now: DateTime<Utc>) -> Result<u64> {
    Ok(
        on_db!(db, p => sqlx::query("UPDATE notifications SET read_at = $3 WHERE user_id = $1 AND read_at IS NULL AND ($2 < 0 OR id = $2)")
        .bind(user_id).bind(id.unwrap_or(-1)).bind(now).execute(p).await?.rows_affected()),
    )
}

/// Notifications not tied to a ticket change (SLA breaches found by the job).
pub async fn notify(db: &Db, ticket_id: Option<i64>, list: &[NewNotification], now: DateTime<Utc>) -> Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        insert_notifications!(tx, ticket_id, list, now);
        tx.commit().await?;
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Penalty events.

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PenaltyRow {
    pub id: i64,
    pub kind: String,
    pub user_id: i64,
    pub user_name: String,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub related_ticket_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// `proposed`, `confirmed`, `dismissed`.
    pub status: String,
    pub reason: String,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    /// The missed call a `missed_call` event is about.
    pub contact_id: Option<i64>,
}

const PENALTY_SELECT: &str = "SELECT pe.id, pe.kind, pe.user_id, u.display_name AS user_name, pe.ticket_id, t.number AS ticket_number, \
    pe.related_ticket_id, pe.at, pe.status, pe.reason, pe.reviewed_by, pe.reviewed_at, pe.review_note, pe.contact_id \
    FROM penalty_events pe JOIN users u ON u.id = pe.user_id LEFT JOIN tickets t ON t.id = pe.ticket_id";

pub async fn penalties(db: &Db, status: Option<&str>, user_id: Option<i64>, page: Page) -> Result<Paged<PenaltyRow>> {
    let sql = format!(
        "{PENALTY_SELECT} WHERE ($1 = '' OR pe.status = $1) AND ($2 < 0 OR pe.user_id = $2) ORDER BY pe.id DESC LIMIT $3 OFFSET $4"
    );
    let (items, total) = on_db!(db, p => (
        sqlx::query_as::<_, PenaltyRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(status.unwrap_or_default()).bind(user_id.unwrap_or(-1))
            .bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM penalty_events pe WHERE ($1 = '' OR pe.status = $1) AND ($2 < 0 OR pe.user_id = $2)")
            .bind(status.unwrap_or_default()).bind(user_id.unwrap_or(-1)).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

/// Confirms or dismisses a proposed event (only once).
pub async fn review_penalty(
    db: &Db,
    w: &Writer,
    id: i64,
    status: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query("UPDATE penalty_events SET status = $2, reviewed_by = $3, reviewed_at = $4, review_note = $5 WHERE id = $1 AND status = 'proposed'")
            .bind(id).bind(status).bind(w.user_id).bind(now).bind(note).execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM penalty_events WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            return Err(if exists.is_some() { StoreError::Stale } else { StoreError::NotFound });
        }
        audit_append!(tx, w, "penalty", id, status, status, None, note.map(|n| serde_json::json!({"note": n})));
        tx.commit().await?;
    });
    Ok(())
}

/// Per-person numbers for the scorecard, over tickets created in [from, to) — ticket-bound
/// penalty events count by their ticket's date too, so a row describes one set of tickets.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ScoreRow {
    pub user_id: i64,
    pub display_name: String,
    pub roles: String,
    /// Tickets this person went to (visits).
    pub tickets_visited: i64,
    /// Of those, fixed on the first visit.
    pub first_time_fixed: i64,
    pub repeat_repairs: i64,
    pub misdiagnoses: i64,
    pub missed_calls: i64,
    /// Inbound phone calls this person took or owned (missed ones count against the owner).
    pub calls_in: i64,
    pub calls_missed: i64,
    pub satisfaction_sum: i64,
    pub satisfaction_n: i64,
    /// Resolved tickets of this person and how many met the resolve clock.
    pub resolved: i64,
    pub resolved_in_time: i64,
}

pub async fn scorecards(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ScoreRow>> {
    // A person's tickets: visited as technician, or engineer of.
    let sql = "WITH mine AS ( \
            SELECT DISTINCT vt.user_id, v.ticket_id FROM visit_technicians vt JOIN visits v ON v.id = vt.visit_id \
            UNION SELECT engineer_id AS user_id, id AS ticket_id FROM tickets WHERE engineer_id IS NOT NULL), \
          first_visit AS (SELECT ticket_id, MIN(id) AS id FROM visits GROUP BY ticket_id) \
        SELECT u.id AS user_id, u.display_name, u.roles, \
          (SELECT COUNT(DISTINCT v.ticket_id) FROM visits v JOIN visit_technicians vt ON vt.visit_id = v.id JOIN tickets t ON t.id = v.ticket_id \
             WHERE vt.user_id = u.id AND t.created_at >= $1 AND t.created_at < $2) AS tickets_visited, \
          (SELECT COUNT(*) FROM first_visit fv JOIN visits v ON v.id = fv.id JOIN visit_technicians vt ON vt.visit_id = v.id JOIN tickets t ON t.id = v.ticket_id \
             WHERE vt.user_id = u.id AND v.result = 'fixed' AND t.created_at >= $1 AND t.created_at < $2) AS first_time_fixed, \
          (SELECT COUNT(*) FROM penalty_events pe JOIN tickets pt ON pt.id = pe.ticket_id WHERE pe.user_id = u.id AND pe.kind = 'repeat_repair' AND pe.status = 'confirmed' AND pt.created_at >= $1 AND pt.created_at < $2) AS repeat_repairs, \
          (SELECT COUNT(*) FROM penalty_events pe JOIN tickets pt ON pt.id = pe.ticket_id WHERE pe.user_id = u.id AND pe.kind = 'misdiagnosis' AND pe.status = 'confirmed' AND pt.created_at >= $1 AND pt.created_at < $2) AS misdiagnoses, \
          (SELECT COUNT(*) FROM penalty_events pe WHERE pe.user_id = u.id AND pe.kind = 'missed_call' AND pe.status = 'confirmed' AND pe.at >= $1 AND pe.at < $2) AS missed_calls, \
          (SELECT COUNT(*) FROM contacts k WHERE COALESCE(k.handler_id, k.callback_owner_id) = u.id AND k.channel = 'phone' AND k.direction = 'inbound' AND k.received_at >= $1 AND k.received_at < $2) AS calls_in, \
          (SELECT COUNT(*) FROM contacts k WHERE k.callback_owner_id = u.id AND k.answered = FALSE AND k.channel = 'phone' AND k.direction = 'inbound' AND k.received_at >= $1 AND k.received_at < $2) AS calls_missed, \
          (SELECT COALESCE(SUM(t.satisfaction), 0) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND t.satisfaction IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2) AS satisfaction_sum, \
          (SELECT COUNT(t.satisfaction) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND t.created_at >= $1 AND t.created_at < $2) AS satisfaction_n, \
          (SELECT COUNT(*) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND t.resolved_at IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2) AS resolved, \
          (SELECT COUNT(*) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND t.resolved_at IS NOT NULL AND t.resolved_at <= t.resolve_due AND t.created_at >= $1 AND t.created_at < $2) AS resolved_in_time \
        FROM users u WHERE u.active AND u.roles NOT LIKE '%customer%' ORDER BY u.display_name";
    Ok(on_db!(db, p => sqlx::query_as::<_, ScoreRow>(sql).bind(from).bind(to).fetch_all(p).await?))
}

/// Day boundaries for lists and boards, in UTC.
pub fn day_bounds(day: NaiveDate, tz: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::TimeZone;
    let start = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    };
    (start(day), start(day + chrono::Duration::days(1)))
}

// ---------------------------------------------------------------------------------------
// Visit photos and saved filters.

pub async fn add_photo(db: &Db, visit_id: i64, content_type: &str, data: &[u8], now: DateTime<Utc>) -> Result<i64> {
    Ok(
        on_db!(db, p => sqlx::query_scalar::<_, i64>("INSERT INTO visit_photos (visit_id, content_type, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(visit_id).bind(content_type).bind(data).bind(now).fetch_one(p).await?),
    )
}

/// A photo with the ticket it belongs to: (ticket id, content type, bytes).
pub async fn photo(db: &Db, id: i64) -> Result<Option<(i64, String, Vec<u8>)>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, (i64, String, Vec<u8>)>(
        "SELECT v.ticket_id, ph.content_type, ph.data FROM visit_photos ph JOIN visits v ON v.id = ph.visit_id WHERE ph.id = $1")
        .bind(id).fetch_optional(p).await?))
}

/// Photo ids per visit of a ticket: (visit id, photo id).
pub async fn photos_of(db: &Db, ticket_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, (i64, i64)>(
        "SELECT ph.visit_id, ph.id FROM visit_photos ph JOIN visits v ON v.id = ph.visit_id WHERE v.ticket_id = $1 ORDER BY ph.id")
        .bind(ticket_id).fetch_all(p).await?))
}

pub async fn saved_filters(db: &Db, user_id: i64, area: &str) -> Result<Vec<(String, String)>> {
    Ok(
        on_db!(db, p => sqlx::query_as::<_, (String, String)>("SELECT name, query FROM saved_filters WHERE user_id = $1 AND area = $2 ORDER BY name")
        .bind(user_id).bind(area).fetch_all(p).await?),
    )
}

pub async fn save_filter(db: &Db, user_id: i64, area: &str, name: &str, query: &str) -> Result<()> {
    on_db!(db, p => {
        sqlx::query("INSERT INTO saved_filters (user_id, area, name, query) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, area, name) DO UPDATE SET query = excluded.query")
            .bind(user_id).bind(area).bind(name).bind(query).execute(p).await?;
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The fault taxonomy as the manager changes it: subcategories are added, renamed,
// deactivated and reactivated, never deleted (tickets keep their codes).

fn subcategory_json(r: &SubcategoryRow) -> serde_json::Value {
    serde_json::json!({"code": r.code, "system": r.system, "fault_type": r.fault_type, "name_zh": r.name_zh,
        "name_en": r.name_en, "typical_cause": r.typical_cause, "active": r.active})
}

/// What the manager may change, as the audit trail records it.
fn subcategory_editable(r: &SubcategoryRow) -> serde_json::Value {
    serde_json::json!({"name_zh": r.name_zh, "name_en": r.name_en, "typical_cause": r.typical_cause, "active": r.active})
}

/// Adds a subcategory with its audit entry; a taken code is `Duplicate { field: "code" }`.
pub async fn create_subcategory(db: &Db, w: &Writer, row: &SubcategoryRow) -> Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO fault_subcategories (code, system, fault_type, name_zh, name_en, typical_cause, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&row.code).bind(&row.system).bind(&row.fault_type).bind(&row.name_zh).bind(&row.name_en)
            .bind(&row.typical_cause).bind(row.active)
            .execute(&mut *tx).await
            .map_err(|e| match crate::map_write_err(e, &[]) {
                StoreError::Duplicate { .. } => StoreError::Duplicate { field: "code" },
                other => other,
            })?;
        audit_append!(tx, w, "fault_subcategory", 0_i64, "create", &row.code, None, Some(subcategory_json(row)));
        tx.commit().await?;
    });
    Ok(())
}

/// Changes a subcategory's names, typical cause and active flag (its code, system and
/// fault type stay); the audit entry holds what changed, before and after.
pub async fn update_subcategory(db: &Db, w: &Writer, row: &SubcategoryRow) -> Result<()> {
    on_db!(db, p => {
        let mut tx = p.begin_write().await?;
        let before = sqlx::query_as::<_, SubcategoryRow>("SELECT * FROM fault_subcategories WHERE code = $1")
            .bind(&row.code).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE fault_subcategories SET name_zh = $2, name_en = $3, typical_cause = $4, active = $5 WHERE code = $1")
            .bind(&row.code).bind(&row.name_zh).bind(&row.name_en).bind(&row.typical_cause).bind(row.active)
            .execute(&mut *tx).await?;
        audit_append!(tx, w, "fault_subcategory", 0_i64, "update", &row.code, Some(subcategory_editable(&before)), Some(subcategory_editable(row)));
        tx.commit().await?;
    });
    Ok(())
}

/// How many tickets name each subcategory: (code, tickets).
pub async fn subcategory_usage(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(on_db!(db, p => sqlx::query_as::<_, (String, i64)>(
        "SELECT fault_subcategory, COUNT(*) FROM tickets WHERE fault_subcategory IS NOT NULL GROUP BY fault_subcategory")
        .fetch_all(p).await?))
}
