//! Periodic inspections (巡检, form 2 《巡检记录表》): the checklist templates, the rounds
//! with their lines, questions and photos, the findings a completion turns into tickets,
//! the hazard list and the callback.
//!
//! A status change is a conditional update (`… WHERE status = <expected>`): of two people
//! acting at once, one wins and the other gets `Stale`. Completing is one transaction: the
//! status (only when no line is left open), a ticket per fault line linked both ways, the
//! upgrade suggestions and the audit entry.

use crate::db::{Arg, Conn, Filter, WritePool, values_rows};
use crate::tickets::{TicketRow, TicketWrite};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, on_conn, on_db};
use aftercare_domain::System;
use aftercare_domain::inspections::{
    Callback, ChecklistItem, Frequency, InspectionStatus, LineResult, NewLineResult, Phase, phases_from, phases_text,
    systems_text,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A template item as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChecklistRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub code: String,
    pub text: String,
    pub standard: String,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    pub per_device: bool,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub unit: Option<String>,
    /// `early,mid`; empty: every phase.
    pub phases: String,
    pub position: i64,
    pub active: bool,
}

impl ChecklistRow {
    pub fn item(&self) -> ChecklistItem {
        ChecklistItem {
            system: self.system,
            code: self.code.clone(),
            text: self.text.clone(),
            standard: self.standard.clone(),
            frequency: self.frequency,
            per_device: self.per_device,
            min: self.min_value,
            max: self.max_value,
            unit: self.unit.clone(),
            phases: phases_from(&self.phases),
        }
    }
}

const CHECKLIST_SELECT: &str = "SELECT id, system, code, text, standard, frequency, per_device, min_value, max_value, \
    unit, phases, position, active FROM checklist_items";

/// The templates' current versions, in order; the department's first version (DOMAIN.md
/// §2) is written the first time they are read. `active_only` leaves out the items the
/// engineer retired.
pub async fn checklist(db: &Db, active_only: bool) -> Result<Vec<ChecklistRow>> {
    let n: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM checklist_items").fetch_one(p).await?);
    if n == 0 {
        seed_checklist(db).await?;
    }
    let w = if active_only { " WHERE NOT superseded AND active" } else { " WHERE NOT superseded" };
    let sql = format!("{CHECKLIST_SELECT}{w} ORDER BY position, id");
    Ok(on_db!(db, |p| sqlx::query_as::<_, ChecklistRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

async fn seed_checklist(db: &Db) -> Result<()> {
    let now = Utc::now();
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for (i, it) in aftercare_domain::inspection_checklist::seed().iter().enumerate() {
            // Two first readers at once: the second finds the rows there.
            sqlx::query(
                "INSERT INTO checklist_items (system, code, text, standard, frequency, per_device, min_value, \
                    max_value, unit, phases, position, active, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, TRUE, $12) \
                 ON CONFLICT (system, code) WHERE NOT superseded DO NOTHING",
            )
            .bind(it.system.as_str())
            .bind(&it.code)
            .bind(&it.text)
            .bind(&it.standard)
            .bind(it.frequency.as_str())
            .bind(it.per_device)
            .bind(it.min)
            .bind(it.max)
            .bind(&it.unit)
            .bind(phases_text(&it.phases))
            .bind((i as i64 + 1) * 10)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Adds a template item (`id` `None`, placed last) or changes one: a change of what is
/// checked writes a new version in the same place and marks the old one superseded (the
/// rounds planned with it keep it); a change of `active` alone is made in place. A code
/// taken in its system is `Duplicate { field: "code" }`; a superseded id is `NotFound`.
/// Returns the current version's id.
pub async fn save_checklist_item(
    db: &Db,
    w: &Writer,
    id: Option<i64>,
    it: &ChecklistItem,
    active: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    const INSERT: &str = "INSERT INTO checklist_items (system, code, text, standard, frequency, per_device, min_value, \
        max_value, unit, phases, position, active, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let position: i64 = match id {
            None => {
                sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 10 FROM checklist_items")
                    .fetch_one(&mut *tx)
                    .await?
            }
            Some(id) => {
                let old: Option<ChecklistRow> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("{CHECKLIST_SELECT} WHERE id = $1 AND NOT superseded")))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let Some(old) = old else { return Err(StoreError::NotFound) };
                if old.item() == *it {
                    sqlx::query("UPDATE checklist_items SET active = $2, updated_at = $3 WHERE id = $1")
                        .bind(id)
                        .bind(active)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let after = serde_json::json!({"active": active});
                    crate::audit::record(&mut *tx, w, "checklist_item", id, "update", &it.code, None, Some(after))
                        .await?;
                    tx.commit().await?;
                    return Ok(id);
                }
                sqlx::query(
                    "UPDATE checklist_items SET superseded = TRUE, active = FALSE, updated_at = $2 WHERE id = $1",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                old.position
            }
        };
        let saved: i64 = sqlx::query_scalar(INSERT)
            .bind(it.system.as_str())
            .bind(&it.code)
            .bind(&it.text)
            .bind(&it.standard)
            .bind(it.frequency.as_str())
            .bind(it.per_device)
            .bind(it.min)
            .bind(it.max)
            .bind(&it.unit)
            .bind(phases_text(&it.phases))
            .bind(position)
            .bind(active)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| crate::map_write_err(e, &["code"]))?;
        let after = serde_json::json!({"system": it.system, "code": it.code, "text": it.text, "standard": it.standard,
            "min": it.min, "max": it.max, "active": active, "replaces": id});
        let action = if id.is_some() { "update" } else { "create" };
        crate::audit::record(&mut *tx, w, "checklist_item", saved, action, &it.code, None, Some(after)).await?;
        tx.commit().await?;
        saved
    }))
}

/// An inspection as lists and its page show it, with its technicians and line counts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InspectionRow {
    pub id: i64,
    /// e.g. `XJ20261206-0001`.
    pub number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_code: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    /// The inspected systems, comma-separated.
    pub systems: String,
    #[sqlx(try_from = "String")]
    pub status: InspectionStatus,
    pub planned_on: NaiveDate,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub summary: Option<String>,
    /// 已现场处理事项: dust removed, screws tightened, devices restarted.
    pub handled_on_site: Option<String>,
    pub signer_name: Option<String>,
    /// The school signed (the image is at `/api/v1/inspections/{id}/signature`).
    pub signed: bool,
    pub callback_at: Option<DateTime<Utc>>,
    pub callback_by_name: Option<String>,
    pub callback_attended: Option<bool>,
    pub callback_on_time: Option<bool>,
    pub callback_satisfaction: Option<i64>,
    pub callback_note: Option<String>,
    /// Comma-separated user ids.
    pub technician_ids: String,
    /// Their names, joined by 、.
    pub technician_names: String,
    pub lines: i64,
    pub open_lines: i64,
    pub faults: i64,
    pub hazards: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InspectionRow {
    pub fn system_list(&self) -> Vec<System> {
        aftercare_domain::inspections::systems_from(&self.systems)
    }
    pub fn technicians(&self) -> Vec<i64> {
        self.technician_ids.split(',').filter_map(|s| s.trim().parse().ok()).collect()
    }
    pub fn is_assigned(&self, user: i64) -> bool {
        self.technicians().contains(&user)
    }
}

fn inspection_select(db: &Db) -> String {
    let (ids, names) = match db {
        Db::Sqlite(_) => (
            "(SELECT COALESCE(group_concat(user_id, ','), '') FROM inspection_technicians it WHERE it.inspection_id = i.id)",
            "(SELECT COALESCE(group_concat(u.display_name, '、'), '') FROM inspection_technicians it \
                JOIN users u ON u.id = it.user_id WHERE it.inspection_id = i.id)",
        ),
        Db::Postgres(_) => (
            "(SELECT COALESCE(string_agg(user_id::text, ',' ORDER BY user_id), '') FROM inspection_technicians it \
                WHERE it.inspection_id = i.id)",
            "(SELECT COALESCE(string_agg(u.display_name, '、' ORDER BY u.id), '') FROM inspection_technicians it \
                JOIN users u ON u.id = it.user_id WHERE it.inspection_id = i.id)",
        ),
    };
    format!(
        "SELECT i.id, i.number, i.customer_id, c.name AS customer_name, c.code AS customer_code, c.town, i.phase, \
            i.systems, i.status, i.planned_on, i.started_at, i.completed_at, i.cancelled_at, i.cancel_reason, \
            i.summary, i.handled_on_site, i.signer_name, (i.signature_png IS NOT NULL) AS signed, i.callback_at, \
            cu.display_name AS callback_by_name, i.callback_attended, i.callback_on_time, i.callback_satisfaction, \
            i.callback_note, {ids} AS technician_ids, {names} AS technician_names, \
            (SELECT COUNT(*) FROM inspection_items x WHERE x.inspection_id = i.id) AS lines, \
            (SELECT COUNT(*) FROM inspection_items x WHERE x.inspection_id = i.id AND x.result IS NULL) AS open_lines, \
            (SELECT COUNT(*) FROM inspection_items x WHERE x.inspection_id = i.id AND x.result = 'fault') AS faults, \
            (SELECT COUNT(*) FROM inspection_items x WHERE x.inspection_id = i.id AND x.result = 'hazard') AS hazards, \
            i.created_at, i.updated_at \
         FROM inspections i JOIN customers c ON c.id = i.customer_id LEFT JOIN users cu ON cu.id = i.callback_by"
    )
}

/// A line of a round.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InspectionItemRow {
    pub id: i64,
    pub inspection_id: i64,
    pub position: i64,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub equipment_id: Option<i64>,
    /// The device: kind, model and location.
    pub equipment_label: Option<String>,
    pub serial_no: Option<String>,
    /// Tickets the device has had over its life (后期: the causes of frequent faults).
    pub equipment_faults: Option<i64>,
    pub code: String,
    pub text: String,
    pub standard: String,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub unit: Option<String>,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub result: Option<LineResult>,
    pub value: Option<f64>,
    pub note: Option<String>,
    pub suggest_replace: bool,
    /// The ticket a fault line opened.
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub hazard_resolved_at: Option<DateTime<Utc>>,
    pub hazard_resolution: Option<String>,
}

const ITEM_SELECT: &str = "SELECT l.id, l.inspection_id, l.position, l.system, l.equipment_id, \
    CASE WHEN e.id IS NULL THEN NULL ELSE e.kind || COALESCE(' ' || e.model, '') || COALESCE(' · ' || e.location, '') \
    END AS equipment_label, e.serial_no, \
    CASE WHEN l.equipment_id IS NULL THEN NULL ELSE \
        (SELECT COUNT(*) FROM ticket_equipment te WHERE te.equipment_id = l.equipment_id) END AS equipment_faults, \
    ci.code, ci.text, ci.standard, ci.min_value, ci.max_value, ci.unit, l.result, l.value, l.note, l.suggest_replace, \
    l.ticket_id, t.number AS ticket_number, l.hazard_resolved_at, l.hazard_resolution \
    FROM inspection_items l JOIN checklist_items ci ON ci.id = l.item_id LEFT JOIN equipment e ON e.id = l.equipment_id \
    LEFT JOIN tickets t ON t.id = l.ticket_id";

/// A question the school asked on the round and the answer given.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct QuestionRow {
    pub id: i64,
    pub question: String,
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A line to write when an inspection is planned: the template item's current version and
/// the device when it is checked per device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedItem {
    pub system: System,
    pub equipment_id: Option<i64>,
    pub item_id: i64,
}

/// An inspection to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedInspection {
    pub customer_id: i64,
    pub phase: Phase,
    pub systems: Vec<System>,
    pub planned_on: NaiveDate,
    pub technician_ids: Vec<i64>,
    pub items: Vec<PlannedItem>,
}

/// Rows per multi-row INSERT (five values each: under both databases' limits).
const LINE_CHUNK: usize = 1000;
/// Rounds per multi-row INSERT of rounds and of their audit entries.
const ROUND_CHUNK: usize = 1000;

/// Writes planned inspections, their technicians and lines in one transaction; their ids
/// with their numbers, in order. A school or technician that does not exist is
/// `MissingReference`.
pub async fn create_many(
    db: &Db,
    w: &Writer,
    plans: &[PlannedInspection],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, String)>> {
    if plans.is_empty() {
        return Ok(Vec::new());
    }
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let day = w.number_day(now);
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO number_counters (scope, last) VALUES ($1, $2) \
             ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + $2 RETURNING last",
        )
        .bind(format!("inspection:{day}"))
        .bind(plans.len() as i64)
        .fetch_one(&mut *tx)
        .await?;
        let first = last - plans.len() as i64 + 1;
        // A thousand rounds a statement: a term's planning is thousands of them.
        let numbers: Vec<String> = (0..plans.len()).map(|k| format!("XJ{day}-{:04}", first + k as i64)).collect();
        let mut ids = Vec::with_capacity(plans.len());
        for (chunk, nos) in plans.chunks(ROUND_CHUNK).zip(numbers.chunks(ROUND_CHUNK)) {
            let rows = values_rows(chunk.len(), 3, "(?, ?, ?, ?, 'planned', ?, $1, $2, $2)");
            let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(format!(
                "INSERT INTO inspections (number, customer_id, phase, systems, status, planned_on, created_by, \
                    created_at, updated_at) VALUES {rows} RETURNING id, number"
            )))
            .bind(w.user_id)
            .bind(now);
            for (p, no) in chunk.iter().zip(nos) {
                q = q
                    .bind(no)
                    .bind(p.customer_id)
                    .bind(p.phase.as_str())
                    .bind(systems_text(&p.systems))
                    .bind(p.planned_on);
            }
            // RETURNING promises no order: match the rows back by their unique numbers.
            let got: std::collections::HashMap<String, i64> = q
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| crate::map_write_err(e, &["customer_id"]))?
                .into_iter()
                .map(|(id, n)| (n, id))
                .collect();
            for no in nos {
                ids.push((got.get(no).copied().ok_or(StoreError::NotFound)?, no.clone()));
            }
        }
        let techs: Vec<(i64, i64)> =
            plans.iter().zip(&ids).flat_map(|(p, (id, _))| p.technician_ids.iter().map(move |t| (*id, *t))).collect();
        for chunk in techs.chunks(LINE_CHUNK) {
            let rows = values_rows(chunk.len(), 1, "(?, ?)");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO inspection_technicians (inspection_id, user_id) VALUES {rows}"
            )));
            for (i, u) in chunk {
                q = q.bind(i).bind(u);
            }
            q.execute(&mut *tx).await.map_err(|e| crate::map_write_err(e, &["technician_ids"]))?;
        }
        let lines: Vec<(i64, i64, &PlannedItem)> = plans
            .iter()
            .zip(&ids)
            .flat_map(|(p, (id, _))| p.items.iter().enumerate().map(move |(n, l)| (*id, n as i64 + 1, l)))
            .collect();
        for chunk in lines.chunks(BULK_LINES) {
            insert_lines(&mut *tx, chunk).await?;
        }
        let at = Utc::now();
        for (chunk, made) in plans.chunks(ROUND_CHUNK).zip(ids.chunks(ROUND_CHUNK)) {
            let rows = values_rows(chunk.len(), 4, "($1, $2, $3, 'inspection', ?, 'plan', ?, NULL, ?)");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, before_json, \
                    after_json) VALUES {rows}"
            )))
            .bind(at)
            .bind(w.user_id)
            .bind(&w.name);
            for (p, (id, number)) in chunk.iter().zip(made) {
                let after = serde_json::json!({"customer_id": p.customer_id, "phase": p.phase,
                    "planned_on": p.planned_on, "technician_ids": p.technician_ids, "lines": p.items.len()});
                q = q.bind(id).bind(number).bind(after.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        ids
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<InspectionRow> {
    let sql = format!("{} WHERE i.id = $1", inspection_select(db));
    on_db!(db, |p| sqlx::query_as::<_, InspectionRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// The school an inspection is at (a scope check before anything else is read).
pub async fn school_of(db: &Db, id: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar("SELECT customer_id FROM inspections WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?))
}

pub async fn items(db: &Db, id: i64) -> Result<Vec<InspectionItemRow>> {
    let sql = format!("{ITEM_SELECT} WHERE l.inspection_id = $1 ORDER BY l.position");
    Ok(on_db!(db, |p| sqlx::query_as::<_, InspectionItemRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_all(p)
        .await?))
}

pub async fn questions(db: &Db, id: i64) -> Result<Vec<QuestionRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, QuestionRow>(
        "SELECT id, question, answer, created_at FROM inspection_questions WHERE inspection_id = $1 ORDER BY id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

/// The photos of a round: (photo id, line id).
pub async fn photos(db: &Db, id: i64) -> Result<Vec<(i64, Option<i64>)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, Option<i64>)>(
        "SELECT id, item_id FROM inspection_photos WHERE inspection_id = $1 ORDER BY id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

/// Which inspections a list shows.
#[derive(Debug, Clone, Default)]
pub struct InspectionQuery {
    /// A school's user sees his school's only.
    pub scope: Option<i64>,
    pub customer_id: Option<i64>,
    pub status: Option<InspectionStatus>,
    pub technician_id: Option<i64>,
    pub town: Option<String>,
    pub phase: Option<Phase>,
    pub planned_from: Option<NaiveDate>,
    pub planned_until: Option<NaiveDate>,
    /// Planned or under way with the planned day before this one.
    pub overdue_before: Option<NaiveDate>,
    /// Completed and not yet called back (the agent's queue).
    pub to_call: bool,
    /// Soonest first (a calendar, a day's work) instead of the latest planned first.
    pub soonest_first: bool,
}

fn filter(q: &InspectionQuery) -> Filter {
    let mut f = Filter::default();
    for (col, v) in [("i.customer_id", q.scope), ("i.customer_id", q.customer_id)] {
        if let Some(v) = v {
            let a = f.arg(Arg::I64(v));
            f.and(format!("{col} = {a}"));
        }
    }
    if let Some(s) = q.status {
        let a = f.arg(Arg::Text(s.as_str().into()));
        f.and(format!("i.status = {a}"));
    }
    if let Some(p) = q.phase {
        let a = f.arg(Arg::Text(p.as_str().into()));
        f.and(format!("i.phase = {a}"));
    }
    if let Some(t) = q.technician_id {
        let a = f.arg(Arg::I64(t));
        f.and(format!(
            "EXISTS (SELECT 1 FROM inspection_technicians it WHERE it.inspection_id = i.id AND it.user_id = {a})"
        ));
    }
    if let Some(t) = &q.town {
        let a = f.arg(Arg::Text(t.clone()));
        f.and(format!("i.customer_id IN (SELECT id FROM customers WHERE town = {a})"));
    }
    if let Some(d) = q.planned_from {
        let a = f.arg(Arg::Date(d));
        f.and(format!("i.planned_on >= {a}"));
    }
    if let Some(d) = q.planned_until {
        let a = f.arg(Arg::Date(d));
        f.and(format!("i.planned_on <= {a}"));
    }
    if let Some(d) = q.overdue_before {
        let a = f.arg(Arg::Date(d));
        f.and(format!("i.status IN ('planned', 'in_progress') AND i.planned_on < {a}"));
    }
    if q.to_call {
        f.and("i.status = 'completed' AND i.callback_at IS NULL".into());
    }
    f
}

pub async fn list(db: &Db, q: &InspectionQuery, page: Page) -> Result<Paged<InspectionRow>> {
    let f = filter(q);
    let w = f.where_sql();
    let order = if q.to_call {
        "i.completed_at, i.id"
    } else if q.soonest_first {
        "i.planned_on, c.town, i.id"
    } else {
        "i.planned_on DESC, i.id DESC"
    };
    let sql = format!("{} {w} ORDER BY {order} {}", inspection_select(db), page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM inspections i {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, InspectionRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

/// How many inspections a list would show (a home card).
pub async fn count(db: &Db, q: &InspectionQuery) -> Result<i64> {
    let f = filter(q);
    let sql = format!("SELECT COUNT(*) FROM inspections i {}", f.where_sql());
    Ok(on_db!(db, |p| bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
        .fetch_one(p)
        .await?))
}

/// Rounds already planned per technician and day in a range (cancelled ones not), for
/// the planner's daily limit.
pub async fn booked(db: &Db, from: NaiveDate, until: NaiveDate) -> Result<Vec<(i64, NaiveDate, i64)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, NaiveDate, i64)>(
        "SELECT it.user_id, i.planned_on, COUNT(*) FROM inspections i \
         JOIN inspection_technicians it ON it.inspection_id = i.id \
         WHERE i.planned_on >= $1 AND i.planned_on <= $2 AND i.status <> 'cancelled' GROUP BY it.user_id, i.planned_on"
    )
    .bind(from)
    .bind(until)
    .fetch_all(p)
    .await?))
}

/// A status change that needs nothing but the status: `planned → in_progress` (start) or
/// `planned|in_progress → cancelled` (cancel, with the reason). `Stale` when the status
/// moved meanwhile.
pub async fn set_status(
    db: &Db,
    w: &Writer,
    id: i64,
    from: &[InspectionStatus],
    to: InspectionStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let from_sql = from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
    let stamp = match to {
        InspectionStatus::InProgress => "started_at",
        InspectionStatus::Cancelled => "cancelled_at",
        _ => "updated_at",
    };
    let sql = format!(
        "UPDATE inspections SET status = $2, {stamp} = $3, updated_at = $3, \
            cancel_reason = COALESCE($4, cancel_reason) WHERE id = $1 AND status IN ({from_sql})"
    );
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .bind(to.as_str())
            .bind(now)
            .bind(reason)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(&mut *tx, w, "inspection", id, to.as_str(), reason.unwrap_or_default(), None, None)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Saves lines' results on a round under way; `Stale` when it is not under way any more
/// or a line is not this inspection's (the caller checked both first).
pub async fn record(db: &Db, w: &Writer, id: i64, results: &[NewLineResult], now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query("UPDATE inspections SET updated_at = $2 WHERE id = $1 AND status = 'in_progress'")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        for r in results {
            let n = sqlx::query(
                "UPDATE inspection_items SET result = $3, value = $4, note = $5, suggest_replace = $6, \
                    recorded_by = $7, recorded_at = $8 WHERE id = $1 AND inspection_id = $2",
            )
            .bind(r.item_id)
            .bind(id)
            .bind(r.result.as_str())
            .bind(r.value)
            .bind(&r.note)
            .bind(r.suggest_replace)
            .bind(w.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::Stale);
            }
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Records a question the school asked and the answer given, on a round under way.
pub async fn add_question(
    db: &Db,
    w: &Writer,
    id: i64,
    question: &str,
    answer: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let ok: Option<i64> = sqlx::query_scalar("SELECT id FROM inspections WHERE id = $1 AND status = 'in_progress'")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if ok.is_none() {
            return Err(StoreError::Stale);
        }
        let qid: i64 = sqlx::query_scalar(
            "INSERT INTO inspection_questions (inspection_id, question, answer, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id)
        .bind(question)
        .bind(answer)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        qid
    }))
}

pub async fn add_photo(
    db: &Db,
    id: i64,
    item_id: Option<i64>,
    content_type: &str,
    data: &[u8],
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let pid: i64 = sqlx::query_scalar(
            "INSERT INTO inspection_photos (inspection_id, item_id, content_type, data, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(id)
        .bind(item_id)
        .bind(content_type)
        .bind(data)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        pid
    }))
}

/// A photo's inspection and school, then its bytes (the scope is checked between).
pub async fn photo_owner(db: &Db, photo: i64) -> Result<Option<(i64, i64)>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, (i64, i64)>(
        "SELECT i.id, i.customer_id FROM inspection_photos f JOIN inspections i ON i.id = f.inspection_id WHERE f.id = $1"
    )
    .bind(photo)
    .fetch_optional(p)
    .await?
    }))
}

pub async fn photo(db: &Db, photo: i64) -> Result<Option<(String, Vec<u8>)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (String, Vec<u8>)>(
        "SELECT content_type, data FROM inspection_photos WHERE id = $1"
    )
    .bind(photo)
    .fetch_optional(p)
    .await?))
}

pub async fn signature(db: &Db, id: i64) -> Result<Option<Vec<u8>>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, Option<Vec<u8>>>("SELECT signature_png FROM inspections WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?)
    .flatten())
}

/// What a completion writes besides the status.
#[derive(Debug, Clone)]
pub struct Completing {
    pub signer_name: String,
    pub signature_png: Vec<u8>,
    pub summary: Option<String>,
    pub handled_on_site: Option<String>,
    /// A ticket per fault line: (line id, the ticket to open).
    pub findings: Vec<(i64, TicketWrite)>,
    /// Upgrade or replacement suggested on a line: (equipment id, reason).
    pub suggestions: Vec<(i64, String)>,
}

/// Completes a round under way with every line judged: the signature, a ticket per fault
/// line (each line and ticket pointing at the other), the suggestions, the audit entry —
/// one transaction. `Stale` when it is not under way or a line was left open meanwhile.
pub async fn complete(db: &Db, w: &Writer, id: i64, c: &Completing, now: DateTime<Utc>) -> Result<Vec<TicketRow>> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE inspections SET status = 'completed', completed_at = $2, updated_at = $2, signer_name = $3, \
                signature_png = $4, summary = $5, handled_on_site = $6 \
             WHERE id = $1 AND status = 'in_progress' AND NOT EXISTS \
                (SELECT 1 FROM inspection_items x WHERE x.inspection_id = $1 AND x.result IS NULL)",
        )
        .bind(id)
        .bind(now)
        .bind(&c.signer_name)
        .bind(&c.signature_png)
        .bind(&c.summary)
        .bind(&c.handled_on_site)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        count_round(&mut *tx, id).await?;
        let writes: Vec<(Writer, TicketWrite)> = c.findings.iter().map(|(_, t)| (w.clone(), t.clone())).collect();
        let made = if writes.is_empty() { Vec::new() } else { crate::tickets::insert_many(&mut *tx, &writes).await? };
        for ((line, _), t) in c.findings.iter().zip(&made) {
            link_finding(&mut *tx, *line, t.id).await?;
        }
        for (equipment, reason) in &c.suggestions {
            sqlx::query(
                "INSERT INTO equipment_suggestions (equipment_id, inspection_id, kind, reason, status, created_by, \
                    created_at) VALUES ($1, $2, 'replace', $3, 'open', $4, $5)",
            )
            .bind(equipment)
            .bind(id)
            .bind(reason)
            .bind(w.user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let after = serde_json::json!({"tickets": made.iter().map(|t| t.id).collect::<Vec<_>>(),
            "suggestions": c.suggestions.len(), "signed_by": c.signer_name});
        crate::audit::record(&mut *tx, w, "inspection", id, "complete", "", None, Some(after)).await?;
        tx.commit().await.map_err(StoreError::Commit)?;
        made
    }))
}

/// Lines per bulk statement: a term's planning writes half a million.
const BULK_LINES: usize = 50_000;

/// Writes planned lines in one statement that carries them as one value — a JSON array on
/// SQLite (`json_each`), arrays on PostgreSQL (`unnest`) — instead of five bound parameters
/// a line: binding parameters one by one cost 30 µs a line, most of a term's planning.
async fn insert_lines<'c>(conn: impl Into<Conn<'c>>, lines: &[(i64, i64, &PlannedItem)]) -> Result<()> {
    let map = |e| crate::map_write_err(e, &["equipment_id"]);
    match conn.into() {
        Conn::Sqlite(c) => {
            let rows: Vec<serde_json::Value> = lines
                .iter()
                .map(|(id, n, l)| serde_json::json!([id, n, l.system.as_str(), l.equipment_id, l.item_id]))
                .collect();
            sqlx::query(
                "INSERT INTO inspection_items (inspection_id, position, system, equipment_id, item_id) \
                 SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), \
                    json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]') FROM json_each($1) j",
            )
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&mut *c)
            .await
            .map_err(map)?;
        }
        Conn::Postgres(c) => {
            let ids: Vec<i64> = lines.iter().map(|(id, _, _)| *id).collect();
            let positions: Vec<i64> = lines.iter().map(|(_, n, _)| *n).collect();
            let systems: Vec<&str> = lines.iter().map(|(_, _, l)| l.system.as_str()).collect();
            let devices: Vec<Option<i64>> = lines.iter().map(|(_, _, l)| l.equipment_id).collect();
            let items: Vec<i64> = lines.iter().map(|(_, _, l)| l.item_id).collect();
            sqlx::query(
                "INSERT INTO inspection_items (inspection_id, position, system, equipment_id, item_id) \
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])",
            )
            .bind(ids)
            .bind(positions)
            .bind(systems)
            .bind(devices)
            .bind(items)
            .execute(&mut *c)
            .await
            .map_err(map)?;
        }
    }
    Ok(())
}

/// What the figures read of a completed round: its hazards, and per system its devices
/// and how many were sound (a device with a fault or hazard on any line is not; one judged
/// not applicable on every line is left out) — the school's latest for those systems.
pub async fn count_round<'c>(conn: impl Into<Conn<'c>>, id: i64) -> Result<()> {
    let mut conn = conn.into();
    on_conn!(&mut conn, |c| {
        sqlx::query(
            "UPDATE inspections SET hazards_found = \
                (SELECT COUNT(*) FROM inspection_items x WHERE x.inspection_id = $1 AND x.result = 'hazard') WHERE id = $1",
        )
        .bind(id)
        .execute(&mut **c)
        .await?;
        // This round is now the school's latest of its systems.
        sqlx::query(
            "UPDATE inspection_systems SET latest = FALSE WHERE latest AND inspection_id IN \
                (SELECT o.id FROM inspections o JOIN inspections me ON me.customer_id = o.customer_id WHERE me.id = $1) \
             AND system IN (SELECT system FROM inspection_items WHERE inspection_id = $1 AND equipment_id IS NOT NULL)",
        )
        .bind(id)
        .execute(&mut **c)
        .await?;
        sqlx::query(
            "INSERT INTO inspection_systems (inspection_id, system, devices, devices_ok) \
             SELECT $1, d.system, COUNT(*), SUM(CASE WHEN d.bad = 0 THEN 1 ELSE 0 END) FROM ( \
                SELECT system, equipment_id, MAX(CASE WHEN result IN ('fault', 'hazard') THEN 1 ELSE 0 END) AS bad, \
                    MIN(CASE WHEN result = 'na' THEN 1 ELSE 0 END) AS na \
                FROM inspection_items WHERE inspection_id = $1 AND equipment_id IS NOT NULL \
                GROUP BY system, equipment_id) d \
             WHERE d.na = 0 GROUP BY d.system",
        )
        .bind(id)
        .execute(&mut **c)
        .await?;
    });
    Ok(())
}

async fn link_finding<'c>(conn: impl Into<Conn<'c>>, line: i64, ticket: i64) -> Result<()> {
    let mut conn = conn.into();
    on_conn!(&mut conn, |c| {
        sqlx::query("UPDATE inspection_items SET ticket_id = $2 WHERE id = $1")
            .bind(line)
            .bind(ticket)
            .execute(&mut **c)
            .await?;
        sqlx::query("UPDATE tickets SET inspection_item_id = $1 WHERE id = $2")
            .bind(line)
            .bind(ticket)
            .execute(&mut **c)
            .await?;
    });
    Ok(())
}

/// The agent's callback on a completed round (once); `Stale` when it was called already
/// or is not completed.
pub async fn callback(db: &Db, w: &Writer, id: i64, cb: &Callback, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE inspections SET callback_at = $2, callback_by = $3, callback_attended = $4, \
                callback_on_time = $5, callback_satisfaction = $6, callback_note = $7, updated_at = $2 \
             WHERE id = $1 AND status = 'completed' AND callback_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(w.user_id)
        .bind(cb.attended)
        .bind(cb.on_time)
        .bind(cb.satisfaction)
        .bind(&cb.note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        let after = serde_json::json!({"attended": cb.attended, "on_time": cb.on_time,
            "satisfaction": cb.satisfaction});
        crate::audit::record(
            &mut *tx,
            w,
            "inspection",
            id,
            "callback",
            cb.note.as_deref().unwrap_or_default(),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// An open (or resolved) hazard: the line, its round and school.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HazardRow {
    pub id: i64,
    pub inspection_id: i64,
    pub inspection_number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub equipment_id: Option<i64>,
    pub equipment_label: Option<String>,
    pub text: String,
    pub note: Option<String>,
    pub found_on: Option<DateTime<Utc>>,
    pub hazard_resolved_at: Option<DateTime<Utc>>,
    pub hazard_resolution: Option<String>,
}

const HAZARD_SELECT: &str = "SELECT l.id, l.inspection_id, i.number AS inspection_number, i.customer_id, \
    c.name AS customer_name, c.town, l.system, l.equipment_id, \
    CASE WHEN e.id IS NULL THEN NULL ELSE e.kind || COALESCE(' · ' || e.location, '') END AS equipment_label, \
    ci.text, l.note, i.completed_at AS found_on, l.hazard_resolved_at, l.hazard_resolution \
    FROM inspection_items l JOIN checklist_items ci ON ci.id = l.item_id JOIN inspections i ON i.id = l.inspection_id \
    JOIN customers c ON c.id = i.customer_id LEFT JOIN equipment e ON e.id = l.equipment_id";

/// Hazards found on completed rounds and not yet resolved (隐患清单), oldest first.
pub async fn open_hazards(db: &Db, scope: Option<i64>, page: Page) -> Result<Paged<HazardRow>> {
    let mut f = Filter::default();
    f.and("l.result = 'hazard' AND l.hazard_resolved_at IS NULL AND i.status = 'completed'".into());
    if let Some(s) = scope {
        let a = f.arg(Arg::I64(s));
        f.and(format!("i.customer_id = {a}"));
    }
    let w = f.where_sql();
    let sql = format!("{HAZARD_SELECT} {w} ORDER BY i.completed_at, l.id {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM inspection_items l JOIN inspections i ON i.id = l.inspection_id {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, HazardRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn hazard(db: &Db, line: i64) -> Result<HazardRow> {
    let sql = format!("{HAZARD_SELECT} WHERE l.id = $1 AND l.result = 'hazard'");
    on_db!(db, |p| sqlx::query_as::<_, HazardRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(line)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// Marks a hazard resolved (once); `Stale` when it already was.
pub async fn resolve_hazard(db: &Db, w: &Writer, line: i64, how: &str, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE inspection_items SET hazard_resolved_at = $2, hazard_resolved_by = $3, hazard_resolution = $4 \
             WHERE id = $1 AND result = 'hazard' AND hazard_resolved_at IS NULL",
        )
        .bind(line)
        .bind(now)
        .bind(w.user_id)
        .bind(how)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        sqlx::query(
            "UPDATE inspections SET hazards_resolved = hazards_resolved + 1 \
             WHERE id = (SELECT inspection_id FROM inspection_items WHERE id = $1)",
        )
        .bind(line)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(&mut *tx, w, "inspection_item", line, "resolve_hazard", how, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The inspection lines that looked at a piece of equipment (its page's history).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EquipmentLineRow {
    pub inspection_id: i64,
    pub number: String,
    pub planned_on: NaiveDate,
    pub text: String,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub result: Option<LineResult>,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub note: Option<String>,
}

pub async fn lines_of_equipment(db: &Db, equipment: i64, limit: i64) -> Result<Vec<EquipmentLineRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, EquipmentLineRow>(
        // Through the school's rounds (a handful a year), not an index of every line's device.
        "SELECT i.id AS inspection_id, i.number, i.planned_on, ci.text, l.result, l.value, ci.unit, l.note \
         FROM inspections i JOIN inspection_items l ON l.inspection_id = i.id \
         JOIN checklist_items ci ON ci.id = l.item_id \
         WHERE i.customer_id = (SELECT customer_id FROM equipment WHERE id = $1) AND l.equipment_id = $1 \
         AND i.status = 'completed' ORDER BY i.planned_on DESC, l.position LIMIT $2"
    )
    .bind(equipment)
    .bind(limit)
    .fetch_all(p)
    .await?))
}

/// Planned against done over a period, grouped (the completion rate, DOMAIN.md §5).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CompletionRow {
    /// The town, the school's id, or the phase.
    pub key: String,
    pub label: String,
    /// Planned in the period (cancelled ones not counted).
    pub planned: i64,
    pub completed: i64,
    pub hazards_found: i64,
    pub hazards_resolved: i64,
}

/// How a completion report groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionBy {
    Town,
    Customer,
    Phase,
}

/// A page of rows (by school there are thousands: a county's schools come a page at a time).
pub async fn completion(
    db: &Db,
    from: NaiveDate,
    until: NaiveDate,
    by: CompletionBy,
    page: Page,
) -> Result<Vec<CompletionRow>> {
    let (key, label, group) = match (by, db) {
        (CompletionBy::Town, _) => ("c.town", "c.town", "c.town"),
        (CompletionBy::Customer, Db::Sqlite(_)) => ("CAST(c.id AS TEXT)", "c.name", "c.id, c.name"),
        (CompletionBy::Customer, Db::Postgres(_)) => ("c.id::text", "c.name", "c.id, c.name"),
        (CompletionBy::Phase, _) => ("i.phase", "i.phase", "i.phase"),
    };
    // The rounds only: their hazards were counted when they completed.
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, COUNT(*) AS planned, \
            SUM(CASE WHEN i.status = 'completed' THEN 1 ELSE 0 END) AS completed, \
            CAST(SUM(i.hazards_found) AS BIGINT) AS hazards_found, \
            CAST(SUM(i.hazards_resolved) AS BIGINT) AS hazards_resolved \
         FROM inspections i JOIN customers c ON c.id = i.customer_id \
         WHERE i.planned_on >= $1 AND i.planned_on <= $2 AND i.status <> 'cancelled' \
         GROUP BY {group} ORDER BY {label}, {key} {}",
        page.sql()
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, CompletionRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(from)
        .bind(until)
        .fetch_all(p)
        .await?))
}

/// The period's totals over every group (the report's tiles).
pub async fn completion_totals(db: &Db, from: NaiveDate, until: NaiveDate) -> Result<CompletionRow> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, CompletionRow>(
        "SELECT 'all' AS key, 'all' AS label, COUNT(*) AS planned, \
            COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS completed, \
            CAST(COALESCE(SUM(hazards_found), 0) AS BIGINT) AS hazards_found, \
            CAST(COALESCE(SUM(hazards_resolved), 0) AS BIGINT) AS hazards_resolved \
         FROM inspections WHERE planned_on >= $1 AND planned_on <= $2 AND status <> 'cancelled'"
    )
    .bind(from)
    .bind(until)
    .fetch_one(p)
    .await?))
}

/// How many rows [`completion`] has in all (schools, towns or phases with rounds).
pub async fn completion_groups(db: &Db, from: NaiveDate, until: NaiveDate, by: CompletionBy) -> Result<i64> {
    let key = match by {
        CompletionBy::Town => "c.town",
        CompletionBy::Customer => "c.id",
        CompletionBy::Phase => "i.phase",
    };
    let sql = format!(
        "SELECT COUNT(DISTINCT {key}) FROM inspections i JOIN customers c ON c.id = i.customer_id \
         WHERE i.planned_on >= $1 AND i.planned_on <= $2 AND i.status <> 'cancelled'"
    );
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(from)
        .bind(until)
        .fetch_one(p)
        .await?))
}

/// Device availability (设备完好率) now, from each school's latest completed round of each
/// system, summed per town (or school) and system: devices judged sound over devices judged.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AvailabilityRow {
    /// The town, or the school's id.
    pub key: String,
    pub label: String,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub devices: i64,
    pub ok: i64,
}

/// `schools`: only these (the page of schools a report by school shows).
pub async fn availability(db: &Db, by: CompletionBy, schools: Option<&[i64]>) -> Result<Vec<AvailabilityRow>> {
    let (key, label, group) = match (by, db) {
        (CompletionBy::Customer, Db::Sqlite(_)) => ("CAST(c.id AS TEXT)", "c.name", "c.id, c.name"),
        (CompletionBy::Customer, Db::Postgres(_)) => ("c.id::text", "c.name", "c.id, c.name"),
        // A phase has no devices of its own: by town.
        _ => ("c.town", "c.town", "c.town"),
    };
    let only = match schools {
        None => String::new(),
        Some([]) => "AND 1 = 0".to_owned(),
        Some(ids) => format!("AND i.customer_id IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
    };
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, s.system, CAST(SUM(s.devices) AS BIGINT) AS devices, \
            CAST(SUM(s.devices_ok) AS BIGINT) AS ok \
         FROM inspection_systems s JOIN inspections i ON i.id = s.inspection_id JOIN customers c ON c.id = i.customer_id \
         WHERE s.latest {only} GROUP BY {group}, s.system ORDER BY {label}, s.system"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, AvailabilityRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

/// A period's completed rounds with their lines, for the workbook: (round, its lines).
pub async fn with_lines(
    db: &Db,
    from: NaiveDate,
    until: NaiveDate,
    limit: i64,
) -> Result<Vec<(InspectionRow, Vec<InspectionItemRow>)>> {
    let sql = format!(
        "{} WHERE i.planned_on >= $1 AND i.planned_on <= $2 AND i.status = 'completed' ORDER BY i.planned_on, i.id \
         LIMIT $3",
        inspection_select(db)
    );
    let rounds: Vec<InspectionRow> =
        on_db!(db, |p| sqlx::query_as::<_, InspectionRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(from)
            .bind(until)
            .bind(limit)
            .fetch_all(p)
            .await?);
    if rounds.is_empty() {
        return Ok(Vec::new());
    }
    let ids = rounds.iter().map(|r| r.id.to_string()).collect::<Vec<_>>().join(",");
    let sql = format!("{ITEM_SELECT} WHERE l.inspection_id IN ({ids}) ORDER BY l.inspection_id, l.position");
    let lines: Vec<InspectionItemRow> =
        on_db!(db, |p| sqlx::query_as::<_, InspectionItemRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?);
    let mut by: std::collections::HashMap<i64, Vec<InspectionItemRow>> = std::collections::HashMap::new();
    for l in lines {
        by.entry(l.inspection_id).or_default().push(l);
    }
    Ok(rounds
        .into_iter()
        .map(|r| {
            let l = by.remove(&r.id).unwrap_or_default();
            (r, l)
        })
        .collect())
}

/// A school to plan for: id, town.
pub async fn schools(db: &Db, town: Option<&str>, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    if let Some(t) = town {
        out = on_db!(db, |p| sqlx::query_as::<_, (i64, String)>(
            "SELECT id, town FROM customers WHERE town = $1 ORDER BY code, id"
        )
        .bind(t)
        .fetch_all(p)
        .await?);
    }
    for chunk in ids.chunks(LINE_CHUNK) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!("SELECT id, town FROM customers WHERE id IN ({list}) ORDER BY code, id");
        let got: Vec<(i64, String)> =
            on_db!(db, |p| sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?);
        for g in got {
            if !out.iter().any(|(o, _)| *o == g.0) {
                out.push(g);
            }
        }
    }
    Ok(out)
}

/// The equipment at the schools (retired pieces not): (school, device, system, installed on).
pub async fn devices_of(db: &Db, schools: &[i64]) -> Result<Vec<(i64, i64, String, Option<NaiveDate>)>> {
    let mut out = Vec::new();
    for chunk in schools.chunks(LINE_CHUNK) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT customer_id, id, system, installed_on FROM equipment WHERE customer_id IN ({list}) \
             AND status <> 'retired' ORDER BY customer_id, system, id"
        );
        let got: Vec<(i64, i64, String, Option<NaiveDate>)> =
            on_db!(db, |p| sqlx::query_as::<_, (i64, i64, String, Option<NaiveDate>)>(sqlx::AssertSqlSafe(
                sql.as_str()
            ))
            .fetch_all(p)
            .await?);
        out.extend(got);
    }
    Ok(out)
}

/// A school's question asked on a round, with its school and round (for leadership).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AskedRow {
    pub inspection_id: i64,
    pub number: String,
    pub customer_name: String,
    pub question: String,
    pub answer: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The questions schools asked on rounds planned in a period, latest first.
pub async fn questions_between(db: &Db, from: NaiveDate, until: NaiveDate, limit: i64) -> Result<Vec<AskedRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, AskedRow>(
        "SELECT i.id AS inspection_id, i.number, c.name AS customer_name, q.question, q.answer, q.created_at \
         FROM inspection_questions q JOIN inspections i ON i.id = q.inspection_id \
         JOIN customers c ON c.id = i.customer_id \
         WHERE i.planned_on >= $1 AND i.planned_on <= $2 ORDER BY q.id DESC LIMIT $3"
    )
    .bind(from)
    .bind(until)
    .bind(limit)
    .fetch_all(p)
    .await?))
}
