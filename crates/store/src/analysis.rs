//! Data analysis (数据分析) and rectifications (整改项): a period's faults grouped one way
//! or another with repeat repairs and mean hours to fix, the hot spots (equipment, models and
//! schools with the most faults), and the rectifications with their effect afterwards.
//!
//! A period is `[from, until)` in UTC (the service turns local days into instants); it is
//! read through `tickets_created`, and cancelled tickets are no faults.

use crate::db::{Arg, Filter, WritePool};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, map_write_err, on_db};
use aftercare_domain::System;
use aftercare_domain::analysis::{FaultBy, NewRectification, RectSource, RectStatus};
use aftercare_domain::kpis::{ANSWER_SECONDS, FCR_DAYS};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// One group of a period's faults.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FaultRow {
    /// What the group is: a system, a fault type, a subcategory code, a town, a school id,
    /// "brand model", a user id; empty for tickets without one.
    pub key: String,
    /// Its name (a school's, a person's, a subcategory's in Chinese); the key where the key
    /// is its own name.
    pub label: String,
    /// The subcategory's English name.
    pub label_en: Option<String>,
    pub tickets: i64,
    /// Of them, repeat repairs (返修: `repeat_of` set).
    pub repeat: i64,
    /// Of them, resolved.
    pub resolved: i64,
    /// Mean hours from report to resolution over the resolved ones.
    pub mean_hours_to_fix: Option<f64>,
}

/// One group's counts over some days, as counted live or kept per month (`fault_months`);
/// counts of disjoint periods add up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, sqlx::FromRow)]
pub struct FaultCount {
    pub key: String,
    pub label: String,
    pub label_en: Option<String>,
    pub tickets: i64,
    pub repeat: i64,
    /// Of them, resolved, and their hours from report to resolution summed.
    pub resolved: i64,
    pub hours: f64,
}

impl FaultCount {
    /// Adds (`sign` 1) or takes away (`sign` -1) another period's counts of the same group.
    pub fn add(&mut self, o: &FaultCount, sign: i64) {
        self.tickets += sign * o.tickets;
        self.repeat += sign * o.repeat;
        self.resolved += sign * o.resolved;
        self.hours += sign as f64 * o.hours;
    }
}

impl From<FaultCount> for FaultRow {
    fn from(c: FaultCount) -> Self {
        FaultRow {
            // To the hundredth: SQLite's day fractions are not exact hours.
            mean_hours_to_fix: (c.resolved > 0).then(|| (c.hours * 100.0 / c.resolved as f64).round() / 100.0),
            key: c.key,
            label: c.label,
            label_en: c.label_en,
            tickets: c.tickets,
            repeat: c.repeat,
            resolved: c.resolved,
        }
    }
}

fn hours(db: &Db, t: &str) -> String {
    match db {
        Db::Sqlite(_) => format!("(julianday({t}.resolved_at) - julianday({t}.created_at)) * 24.0"),
        Db::Postgres(_) => {
            format!("CAST(EXTRACT(EPOCH FROM ({t}.resolved_at - {t}.created_at)) AS DOUBLE PRECISION) / 3600.0")
        }
    }
}

/// The most groups a grouping answers (schools, models: the long tail is not a chart).
pub const MAX_GROUPS: usize = 500;

/// Every group of the faults reported in `[from, until)`, counted from the tickets. A
/// ticket counts once in each of its groups: with two devices of one model, once for it.
pub async fn fault_counts(db: &Db, from: DateTime<Utc>, until: DateTime<Utc>, by: FaultBy) -> Result<Vec<FaultCount>> {
    let text = |e: &str| format!("CAST({e} AS TEXT)");
    // (key, label, English label, joins, whether a ticket can be in a group twice)
    let (key, label, label_en, join, fans_out) = match by {
        FaultBy::System => ("t.system".to_owned(), "t.system".to_owned(), "CAST(NULL AS TEXT)", "", false),
        FaultBy::FaultType => (
            "COALESCE(t.fault_type, '')".to_owned(),
            "COALESCE(t.fault_type, '')".to_owned(),
            "CAST(NULL AS TEXT)",
            "",
            false,
        ),
        FaultBy::Subcategory => (
            "COALESCE(t.fault_subcategory, '')".to_owned(),
            "COALESCE(fs.name_zh, '')".to_owned(),
            "fs.name_en",
            "LEFT JOIN fault_subcategories fs ON fs.code = t.fault_subcategory",
            false,
        ),
        FaultBy::Town => (
            "c.town".to_owned(),
            "c.town".to_owned(),
            "CAST(NULL AS TEXT)",
            "JOIN customers c ON c.id = t.customer_id",
            false,
        ),
        FaultBy::Customer => (
            text("t.customer_id"),
            "c.name".to_owned(),
            "CAST(NULL AS TEXT)",
            "JOIN customers c ON c.id = t.customer_id",
            false,
        ),
        FaultBy::Model => (
            "TRIM(COALESCE(e.brand, '') || ' ' || COALESCE(e.model, ''))".to_owned(),
            "TRIM(COALESCE(e.brand, '') || ' ' || COALESCE(e.model, ''))".to_owned(),
            "CAST(NULL AS TEXT)",
            "JOIN ticket_equipment te ON te.ticket_id = t.id JOIN equipment e ON e.id = te.equipment_id",
            true,
        ),
        FaultBy::Technician => (
            text("u.id"),
            "u.display_name".to_owned(),
            "CAST(NULL AS TEXT)",
            "JOIN ticket_technicians tt ON tt.ticket_id = t.id JOIN users u ON u.id = tt.user_id",
            true,
        ),
        FaultBy::Engineer => (
            format!("COALESCE({}, '')", text("t.engineer_id")),
            "COALESCE(u.display_name, '')".to_owned(),
            "CAST(NULL AS TEXT)",
            "LEFT JOIN users u ON u.id = t.engineer_id",
            false,
        ),
    };
    let distinct = if fans_out { "DISTINCT" } else { "" };
    let sql = format!(
        "SELECT x.key, x.label, x.label_en, COUNT(*) AS tickets, COUNT(x.repeat_of) AS repeat, \
            COUNT(x.resolved_at) AS resolved, COALESCE(SUM({h}), 0.0) AS hours \
         FROM (SELECT {distinct} t.id, t.repeat_of, t.resolved_at, t.created_at, {key} AS key, {label} AS label, \
                 {label_en} AS label_en \
               FROM tickets t {join} \
               WHERE t.created_at >= $1 AND t.created_at < $2 AND t.status <> 'cancelled') x \
         GROUP BY x.key, x.label, x.label_en",
        h = hours(db, "x")
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, FaultCount>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(from)
        .bind(until)
        .fetch_all(p)
        .await?))
}

/// When the first ticket was reported (none on a new database).
pub async fn first_ticket_at(db: &Db) -> Result<Option<DateTime<Utc>>> {
    Ok(on_db!(db, |p| sqlx::query_scalar("SELECT MIN(created_at) FROM tickets").fetch_one(p).await?))
}

/// A piece of equipment with repeated faults in the period (故障多发).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HotEquipment {
    pub equipment_id: i64,
    pub serial_no: String,
    pub kind: String,
    pub model: String,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub customer_id: i64,
    pub customer_name: String,
    pub tickets: i64,
    pub repeat: i64,
}

/// The devices with at least two faults in the period, worst first.
pub async fn hot_equipment(
    db: &Db,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<HotEquipment>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, HotEquipment>(
        "SELECT e.id AS equipment_id, e.serial_no, e.kind, TRIM(COALESCE(e.brand, '') || ' ' || COALESCE(e.model, '')) AS model, \
            e.system, e.customer_id, c.name AS customer_name, COUNT(DISTINCT t.id) AS tickets, \
            COUNT(DISTINCT CASE WHEN t.repeat_of IS NOT NULL THEN t.id END) AS repeat \
         FROM tickets t JOIN ticket_equipment te ON te.ticket_id = t.id JOIN equipment e ON e.id = te.equipment_id \
            JOIN customers c ON c.id = e.customer_id \
         WHERE t.created_at >= $1 AND t.created_at < $2 AND t.status <> 'cancelled' \
         GROUP BY e.id, e.serial_no, e.kind, e.brand, e.model, e.system, e.customer_id, c.name \
         HAVING COUNT(DISTINCT t.id) >= 2 ORDER BY tickets DESC, repeat DESC, e.id LIMIT $3"
    )
    .bind(from)
    .bind(until)
    .bind(limit)
    .fetch_all(p)
    .await?
    }))
}

/// A rectification as lists and its page show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RectificationRow {
    pub id: i64,
    pub title: String,
    pub detail: Option<String>,
    #[sqlx(try_from = "String")]
    pub source: RectSource,
    pub meeting_id: Option<i64>,
    pub inspection_id: Option<i64>,
    pub inspection_number: Option<String>,
    pub hazard_item_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub system: Option<System>,
    pub equipment_id: Option<i64>,
    pub equipment_serial: Option<String>,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    #[sqlx(try_from = "String")]
    pub status: RectStatus,
    pub reject_reason: Option<String>,
    pub done_note: Option<String>,
    pub proposed_by_name: Option<String>,
    pub proposed_at: DateTime<Utc>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const RECT_SELECT: &str = "SELECT r.id, r.title, r.detail, r.source, r.meeting_id, r.inspection_id, \
    i.number AS inspection_number, r.hazard_item_id, r.customer_id, c.name AS customer_name, r.system, \
    r.equipment_id, e.serial_no AS equipment_serial, r.owner_id, o.display_name AS owner_name, r.due_on, r.status, \
    r.reject_reason, r.done_note, pu.display_name AS proposed_by_name, r.proposed_at, \
    du.display_name AS decided_by_name, r.decided_at, r.done_at, r.updated_at \
    FROM rectifications r LEFT JOIN inspections i ON i.id = r.inspection_id \
    LEFT JOIN customers c ON c.id = r.customer_id LEFT JOIN equipment e ON e.id = r.equipment_id \
    LEFT JOIN users o ON o.id = r.owner_id LEFT JOIN users pu ON pu.id = r.proposed_by \
    LEFT JOIN users du ON du.id = r.decided_by";

/// Writes a proposal; a school, device, round, hazard line or owner that does not exist
/// is `MissingReference` naming it.
pub async fn create_rectification(db: &Db, w: &Writer, r: &NewRectification, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rectifications (title, detail, source, meeting_id, inspection_id, hazard_item_id, customer_id, \
                system, equipment_id, owner_id, due_on, status, proposed_by, proposed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'proposed', $12, $13, $13) RETURNING id",
        )
        .bind(&r.title)
        .bind(&r.detail)
        .bind(r.source.as_str())
        .bind(r.meeting_id)
        .bind(r.inspection_id)
        .bind(r.hazard_item_id)
        .bind(r.customer_id)
        .bind(r.system.map(|s| s.as_str()))
        .bind(r.equipment_id)
        .bind(r.owner_id)
        .bind(r.due_on)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            map_write_err(e, &["inspection_id", "hazard_item_id", "customer_id", "equipment_id", "owner_id"])
        })?;
        crate::audit::record(&mut *tx, w, "rectification", id, "create", &r.title, None, None).await?;
        tx.commit().await?;
        id
    }))
}

pub async fn rectification(db: &Db, id: i64) -> Result<RectificationRow> {
    let sql = format!("{RECT_SELECT} WHERE r.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, RectificationRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// Which rectifications a list shows.
#[derive(Debug, Clone, Default)]
pub struct RectQuery {
    pub status: Option<RectStatus>,
    /// Open with the due day before this one.
    pub overdue_before: Option<NaiveDate>,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub owner_id: Option<i64>,
}

fn rect_filter(q: &RectQuery) -> Filter {
    let mut f = Filter::default();
    if let Some(s) = q.status {
        let a = f.arg(Arg::Text(s.as_str().into()));
        f.and(format!("r.status = {a}"));
    }
    if let Some(d) = q.overdue_before {
        let a = f.arg(Arg::Date(d));
        f.and(format!("r.status = 'open' AND r.due_on < {a}"));
    }
    for (col, v) in [("r.customer_id", q.customer_id), ("r.equipment_id", q.equipment_id), ("r.owner_id", q.owner_id)] {
        if let Some(v) = v {
            let a = f.arg(Arg::I64(v));
            f.and(format!("{col} = {a}"));
        }
    }
    f
}

pub async fn rectifications(db: &Db, q: &RectQuery, page: Page) -> Result<Paged<RectificationRow>> {
    let f = rect_filter(q);
    let w = f.where_sql();
    let sql = format!("{RECT_SELECT} {w} ORDER BY r.id DESC {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM rectifications r {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, RectificationRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
            .fetch_all(p)
            .await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn count_rectifications(db: &Db, q: &RectQuery) -> Result<i64> {
    let f = rect_filter(q);
    let sql = format!("SELECT COUNT(*) FROM rectifications r {}", f.where_sql());
    Ok(on_db!(db, |p| bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
        .fetch_one(p)
        .await?))
}

/// Accept (`open`), reject (with the reason) or done (with a note), from `from`; `Stale`
/// when it moved meanwhile.
pub async fn decide_rectification(
    db: &Db,
    w: &Writer,
    id: i64,
    from: RectStatus,
    to: RectStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    // Each statement numbers exactly the parameters it binds.
    let sql = match to {
        RectStatus::Open => {
            "UPDATE rectifications SET status = $2, decided_by = $4, decided_at = $3, updated_at = $3 \
             WHERE id = $1 AND status = $5"
        }
        RectStatus::Rejected => {
            "UPDATE rectifications SET status = $2, decided_by = $4, decided_at = $3, reject_reason = $5, \
                updated_at = $3 WHERE id = $1 AND status = $6"
        }
        _ => {
            "UPDATE rectifications SET status = $2, done_at = $3, done_note = $4, updated_at = $3 \
             WHERE id = $1 AND status = $5"
        }
    };
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let q = sqlx::query(sql).bind(id).bind(to.as_str()).bind(now);
        let q = match to {
            RectStatus::Open => q.bind(w.user_id).bind(from.as_str()),
            RectStatus::Rejected => q.bind(w.user_id).bind(note).bind(from.as_str()),
            _ => q.bind(note).bind(from.as_str()),
        };
        let n = q.execute(&mut *tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(&mut *tx, w, "rectification", id, to.as_str(), note.unwrap_or_default(), None, None)
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Faults on what a rectification is about (a device, else a school — of a system when
/// it names one —, else a system) reported in `[from, until)`.
pub async fn faults_on(db: &Db, r: &RectificationRow, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<i64> {
    let mut f = Filter::default();
    let a = f.arg(Arg::Time(from));
    let b = f.arg(Arg::Time(until));
    f.and(format!("t.created_at >= {a} AND t.created_at < {b} AND t.status <> 'cancelled'"));
    if let Some(e) = r.equipment_id {
        let x = f.arg(Arg::I64(e));
        f.and(format!(
            "EXISTS (SELECT 1 FROM ticket_equipment te WHERE te.ticket_id = t.id AND te.equipment_id = {x})"
        ));
    } else {
        if let Some(c) = r.customer_id {
            let x = f.arg(Arg::I64(c));
            f.and(format!("t.customer_id = {x}"));
        }
        if let Some(s) = r.system {
            let x = f.arg(Arg::Text(s.as_str().into()));
            f.and(format!("t.system = {x}"));
        }
    }
    let sql = format!("SELECT COUNT(*) FROM tickets t {}", f.where_sql());
    Ok(on_db!(db, |p| bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
        .fetch_one(p)
        .await?))
}

/// The counts the KPIs are computed from, over `[from, until)` (instants) and the days
/// `[first, last]` (rounds, trips): tickets reported, calls received, requisitions issued.
pub async fn kpi_counts(
    db: &Db,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<aftercare_domain::kpis::KpiCounts> {
    type Tickets = (i64, i64, i64, i64, i64, i64, i64, f64, i64, i64, i64, i64, i64, i64);
    let tickets_sql = format!(
        "SELECT COUNT(*), COUNT(t.responded_at), \
            COUNT(CASE WHEN t.responded_at IS NOT NULL AND t.respond_breached_at IS NOT NULL THEN 1 END), \
            COUNT(t.arrived_at), COUNT(CASE WHEN t.arrived_at IS NOT NULL AND t.arrive_breached_at IS NOT NULL THEN 1 END), \
            COUNT(t.resolved_at), COUNT(CASE WHEN t.resolved_at IS NOT NULL AND t.resolve_breached_at IS NOT NULL THEN 1 END), \
            COALESCE(SUM(CASE WHEN t.resolved_at IS NOT NULL THEN {h} END), 0.0), \
            COUNT(CASE WHEN EXISTS (SELECT 1 FROM visits v WHERE v.ticket_id = t.id) THEN 1 END), \
            COUNT(CASE WHEN (SELECT v.result FROM visits v WHERE v.ticket_id = t.id ORDER BY v.id LIMIT 1) = 'fixed' \
                THEN 1 END), \
            COUNT(t.repeat_of), COUNT(t.satisfaction), CAST(COALESCE(SUM(t.satisfaction), 0) AS BIGINT), \
            COUNT(CASE WHEN t.satisfaction >= 4 THEN 1 END) \
         FROM tickets t WHERE t.created_at >= $1 AND t.created_at < $2 AND t.status <> 'cancelled'",
        h = hours(db, "t")
    );
    // First-contact resolution: a repair or a question settled on the call, and the school
    // not back within FCR_DAYS.
    let within = match db {
        Db::Sqlite(_) => format!("julianday(k2.received_at) < julianday(k.received_at) + {FCR_DAYS}"),
        Db::Postgres(_) => format!("k2.received_at < k.received_at + INTERVAL '{FCR_DAYS} days'"),
    };
    let fcr_sql = format!(
        "SELECT COUNT(*), COUNT(CASE WHEN k.handling IN ('answered', 'remote') AND NOT EXISTS ( \
            SELECT 1 FROM contacts k2 WHERE k2.customer_id = k.customer_id AND k2.direction = 'inbound' \
            AND k2.received_at > k.received_at AND {within}) THEN 1 END) \
         FROM contacts k WHERE k.received_at >= $1 AND k.received_at < $2 AND k.direction = 'inbound' \
            AND k.category IN ('repair', 'consultation')"
    );
    Ok(on_db!(db, |p| {
        let t: Tickets =
            sqlx::query_as(sqlx::AssertSqlSafe(tickets_sql.as_str())).bind(from).bind(until).fetch_one(p).await?;
        let misdiagnoses: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM penalty_events WHERE kind = 'misdiagnosis' AND status <> 'dismissed' \
             AND at >= $1 AND at < $2",
        )
        .bind(from)
        .bind(until)
        .fetch_one(p)
        .await?;
        let (complaints, calls_in, calls_fast, calls_missed, missed_called_back): (i64, i64, i64, i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(CASE WHEN category = 'complaint' THEN 1 END), \
                    COUNT(CASE WHEN {call} THEN 1 END), \
                    COUNT(CASE WHEN {call} AND answered AND COALESCE(wait_seconds, 0) <= {ANSWER_SECONDS} THEN 1 END), \
                    COUNT(CASE WHEN {call} AND NOT answered THEN 1 END), \
                    COUNT(CASE WHEN {call} AND NOT answered AND called_back_at IS NOT NULL THEN 1 END) \
                 FROM contacts WHERE received_at >= $1 AND received_at < $2",
                call = "channel = 'phone' AND direction = 'inbound'"
            )))
            .bind(from)
            .bind(until)
            .fetch_one(p)
            .await?;
        let (fcr_contacts, fcr_settled): (i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(fcr_sql.as_str())).bind(from).bind(until).fetch_one(p).await?;
        let (rounds_planned, rounds_done, hazards_found, hazards_resolved): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(CASE WHEN status <> 'cancelled' THEN 1 END), COUNT(CASE WHEN status = 'completed' THEN 1 END), \
                CAST(COALESCE(SUM(CASE WHEN status = 'completed' THEN hazards_found END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN status = 'completed' THEN hazards_resolved END), 0) AS BIGINT) \
             FROM inspections WHERE planned_on >= $1 AND planned_on <= $2",
        )
        .bind(first)
        .bind(last)
        .fetch_one(p)
        .await?;
        let (devices, devices_ok): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(s.devices), 0) AS BIGINT), CAST(COALESCE(SUM(s.devices_ok), 0) AS BIGINT) \
             FROM inspections i JOIN inspection_systems s ON s.inspection_id = i.id AND s.latest \
             WHERE i.status = 'completed' AND i.planned_on >= $1 AND i.planned_on <= $2",
        )
        .bind(first)
        .bind(last)
        .fetch_one(p)
        .await?;
        // Units fitted on a ticket in the period against the broken ones brought back for the
        // same ticket and part (since the period began), never more than were fitted.
        let (parts_fitted, parts_returned): (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(f.q), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN r.q >= f.q THEN f.q ELSE COALESCE(r.q, 0) END), 0) AS BIGINT) \
             FROM (SELECT ticket_id, part_id, SUM(qty) AS q FROM stock_movements \
                   WHERE kind = 'issue' AND ticket_id IS NOT NULL AND at >= $1 AND at < $2 GROUP BY ticket_id, part_id) f \
             LEFT JOIN (SELECT ticket_id, part_id, SUM(qty) AS q FROM stock_movements \
                   WHERE kind = 'defective_return' AND ticket_id IS NOT NULL AND at >= $1 GROUP BY ticket_id, part_id) r \
               ON r.ticket_id = f.ticket_id AND r.part_id = f.part_id",
        )
        .bind(from)
        .bind(until)
        .fetch_one(p)
        .await?;
        let (resolved_visited, technicians): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(DISTINCT t.id), COUNT(DISTINCT vt.user_id) FROM tickets t \
             JOIN visits v ON v.ticket_id = t.id JOIN visit_technicians vt ON vt.visit_id = v.id \
             WHERE t.created_at >= $1 AND t.created_at < $2 AND t.resolved_at IS NOT NULL AND t.status <> 'cancelled'",
        )
        .bind(from)
        .bind(until)
        .fetch_one(p)
        .await?;
        let (lines_issued, lines_full): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(CASE WHEN l.qty_issued >= l.qty_requested THEN 1 END) \
             FROM requisition_lines l JOIN requisitions r ON r.id = l.requisition_id \
             WHERE r.issued_at >= $1 AND r.issued_at < $2",
        )
        .bind(from)
        .bind(until)
        .fetch_one(p)
        .await?;
        let (stops, stops_verified): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(CASE WHEN s.verified_ok THEN 1 END) FROM trip_stops s \
             JOIN trips t ON t.id = s.trip_id WHERE t.status = 'returned' AND t.trip_date >= $1 AND t.trip_date <= $2",
        )
        .bind(first)
        .bind(last)
        .fetch_one(p)
        .await?;
        aftercare_domain::kpis::KpiCounts {
            tickets: t.0,
            responded: t.1,
            responded_late: t.2,
            arrived: t.3,
            arrived_late: t.4,
            resolved: t.5,
            resolved_late: t.6,
            hours_to_fix: t.7,
            visited: t.8,
            fixed_first: t.9,
            repeat: t.10,
            called_back: t.11,
            satisfaction_sum: t.12,
            satisfied: t.13,
            misdiagnoses,
            complaints,
            calls_in,
            calls_fast,
            calls_missed,
            missed_called_back,
            fcr_contacts,
            fcr_settled,
            rounds_planned,
            rounds_done,
            hazards_found,
            hazards_resolved,
            devices,
            devices_ok,
            lines_issued,
            lines_full,
            parts_fitted,
            parts_returned,
            resolved_visited,
            technicians,
            stops,
            stops_verified,
            // The stock's values come from the warehouse's own report (the service's).
            issued_fen: 0,
            average_stock_fen: 0,
            stock_fen: 0,
            stale_fen: 0,
        }
    }))
}
