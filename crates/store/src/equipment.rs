//! Equipment: the installed base at each school.

use crate::db::{Arg, Conn, Filter, WritePool};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, map_write_err, on_conn, on_db, search};
use aftercare_domain::EquipmentId;
use aftercare_domain::System;
use aftercare_domain::equipment::{EquipmentStatus, NewEquipment};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct EquipmentRow {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub town: String,
    #[sqlx(try_from = "String")]
    pub system: System,
    pub kind: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial_no: String,
    pub location: Option<String>,
    pub installed_on: Option<NaiveDate>,
    pub warranty_until: Option<NaiveDate>,
    pub critical: bool,
    #[sqlx(try_from = "String")]
    pub status: EquipmentStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT e.id, e.customer_id, c.name AS customer_name, c.town, e.system, e.kind, e.brand, \
    e.model, e.serial_no, \
    e.location, e.installed_on, e.warranty_until, e.critical, e.status, e.version, e.created_at, e.updated_at \
    FROM equipment e JOIN customers c ON c.id = e.customer_id";

/// The text a piece of equipment is found by: its fields, its system's Chinese name and
/// its school's name and town.
pub fn search_text(e: &NewEquipment, customer_name: &str, town: &str) -> String {
    format!(
        "{} {} {} {} {} {} {} {}",
        e.system.zh(),
        e.kind,
        e.brand.as_deref().unwrap_or_default(),
        e.model.as_deref().unwrap_or_default(),
        e.serial_no,
        e.location.as_deref().unwrap_or_default(),
        customer_name,
        town
    )
}

fn row_text(r: &EquipmentRow) -> String {
    format!(
        "{} {} {} {} {} {} {} {}",
        r.system.zh(),
        r.kind,
        r.brand.as_deref().unwrap_or_default(),
        r.model.as_deref().unwrap_or_default(),
        r.serial_no,
        r.location.as_deref().unwrap_or_default(),
        r.customer_name,
        r.town
    )
}

/// Inserts a piece, its search document and audit entry on an open transaction.
pub(crate) async fn insert_equipment<'c>(
    conn: impl Into<Conn<'c>>,
    w: &Writer,
    e: &NewEquipment,
    now: DateTime<Utc>,
) -> Result<EquipmentId> {
    let mut conn = conn.into();
    let sql = "INSERT INTO equipment (customer_id, system, kind, brand, model, serial_no, location, installed_on, \
        warranty_until, critical, status, version, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id";
    let (cname, town): (String, String) = on_conn!(&mut conn, |x| {
        sqlx::query_as("SELECT name, town FROM customers WHERE id = $1")
            .bind(e.customer_id.0)
            .fetch_optional(&mut **x)
            .await?
            .ok_or(StoreError::MissingReference { field: "customer_id" })?
    });
    let id: i64 = on_conn!(&mut conn, |x| {
        sqlx::query_scalar(sql)
            .bind(e.customer_id.0)
            .bind(e.system.as_str())
            .bind(&e.kind)
            .bind(&e.brand)
            .bind(&e.model)
            .bind(&e.serial_no)
            .bind(&e.location)
            .bind(e.installed_on)
            .bind(e.warranty_until)
            .bind(e.critical)
            .bind(e.status.as_str())
            .bind(now)
            .fetch_one(&mut **x)
            .await
            .map_err(|err| map_write_err(err, &["serial_no"]))?
    });
    search::index_doc(conn.reborrow(), "equipment", id, e.customer_id.0, &search_text(e, &cname, &town)).await?;
    let json = serde_json::to_value(e).unwrap_or_default();
    crate::audit::record(conn, w, "equipment", id, "create", &e.serial_no, None, Some(json)).await?;
    Ok(EquipmentId(id))
}

pub async fn create(db: &Db, w: &Writer, e: &NewEquipment) -> Result<i64> {
    let now = Utc::now();
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id = insert_equipment(&mut *tx, w, e, now).await?;
        tx.commit().await?;
        i64::from(id)
    }))
}

/// Creates many pieces in one transaction: all or nothing.
pub async fn create_many(db: &Db, w: &Writer, es: &[NewEquipment]) -> Result<Vec<i64>> {
    let now = Utc::now();
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let mut ids = Vec::with_capacity(es.len());
        for e in es {
            ids.push(i64::from(insert_equipment(&mut *tx, w, e, now).await?));
        }
        tx.commit().await?;
        ids
    }))
}

/// Replaces the fields of one piece. `version`, when given, must match (else `Stale`).
pub async fn update(db: &Db, w: &Writer, id: i64, version: Option<i64>, e: &NewEquipment) -> Result<()> {
    let now = Utc::now();
    let before = get(db, id).await?;
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let (cname, town): (String, String) = sqlx::query_as("SELECT name, town FROM customers WHERE id = $1")
            .bind(e.customer_id.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::MissingReference { field: "customer_id" })?;
        let n = sqlx::query(
            "UPDATE equipment SET customer_id = $2, system = $3, kind = $4, brand = $5, model = $6, serial_no = $7, \
                location = $8, \
             installed_on = $9, warranty_until = $10, critical = $11, status = $12, version = version + 1, \
             updated_at = $13 \
             WHERE id = $1 AND ($14 < 0 OR version = $14)",
        )
        .bind(id)
        .bind(e.customer_id.0)
        .bind(e.system.as_str())
        .bind(&e.kind)
        .bind(&e.brand)
        .bind(&e.model)
        .bind(&e.serial_no)
        .bind(&e.location)
        .bind(e.installed_on)
        .bind(e.warranty_until)
        .bind(e.critical)
        .bind(e.status.as_str())
        .bind(now)
        .bind(version.unwrap_or(-1))
        .execute(&mut *tx)
        .await
        .map_err(|err| map_write_err(err, &["serial_no"]))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        search::index_doc(&mut *tx, "equipment", id, e.customer_id.0, &search_text(e, &cname, &town)).await?;
        let before_json = serde_json::json!({
            "customer_id": before.customer_id, "system": before.system, "kind": before.kind, "brand": before.brand,
            "model": before.model, "serial_no": before.serial_no, "location": before.location,
            "installed_on": before.installed_on, "warranty_until": before.warranty_until,
            "critical": before.critical, "status": before.status,
        });
        crate::audit::record(
            &mut *tx,
            w,
            "equipment",
            id,
            "update",
            &e.serial_no,
            Some(before_json),
            Some(serde_json::to_value(e).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Rewrites the search documents of a customer's equipment (after the school is renamed).
pub async fn reindex_customer(db: &Db, customer_id: i64) -> Result<()> {
    let rows =
        list(db, &EquipmentQuery { customer_id: Some(customer_id), ..Default::default() }, Page::all()).await?.items;
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        for r in &rows {
            search::index_doc(&mut *tx, "equipment", r.id, r.customer_id, &row_text(r)).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<EquipmentRow> {
    let sql = format!("{SELECT} WHERE e.id = $1");
    let row = on_db!(db, |p| sqlx::query_as::<_, EquipmentRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

/// The equipment a ticket is about, in one query however many there are.
pub async fn of_ticket(db: &Db, ticket_id: i64) -> Result<Vec<EquipmentRow>> {
    let sql =
        format!("{SELECT} JOIN ticket_equipment te ON te.equipment_id = e.id WHERE te.ticket_id = $1 ORDER BY e.id");
    Ok(on_db!(db, |p| sqlx::query_as::<_, EquipmentRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(ticket_id)
        .fetch_all(p)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct EquipmentQuery {
    pub q: Option<String>,
    pub customer_id: Option<i64>,
    pub town: Option<String>,
    pub system: Option<String>,
    pub status: Option<String>,
    pub critical: Option<bool>,
    /// `expired`, `expiring` (within the next `expiring_days`), `valid`, `unknown`.
    pub warranty: Option<String>,
    pub today: Option<NaiveDate>,
    pub expiring_days: i64,
    /// `serial` (default order is newest first), `customer`, `system`, `kind`, `installed`, `warranty`, `status`.
    pub sort: Option<String>,
    pub desc: bool,
    /// Only this customer (a school user's scope).
    pub scope: Option<i64>,
}

fn filter(db: &Db, q: &EquipmentQuery) -> Filter {
    let mut f = Filter::default();
    for (col, v) in [("e.customer_id", q.scope), ("e.customer_id", q.customer_id)] {
        if let Some(v) = v {
            let p = f.arg(Arg::I64(v));
            f.and(format!("{col} = {p}"));
        }
    }
    // The town filter is a subquery so that counting needs no join.
    if let Some(t) = &q.town {
        let p = f.arg(Arg::Text(t.clone()));
        f.and(format!("e.customer_id IN (SELECT id FROM customers WHERE town = {p})"));
    }
    for (col, v) in [("e.system", &q.system), ("e.status", &q.status)] {
        if let Some(v) = v {
            let p = f.arg(Arg::Text(v.clone()));
            f.and(format!("{col} = {p}"));
        }
    }
    if let Some(v) = q.critical {
        let p = f.arg(Arg::Bool(v));
        f.and(format!("e.critical = {p}"));
    }
    let today = q.today.unwrap_or_else(|| Utc::now().date_naive());
    match q.warranty.as_deref() {
        Some("expired") => {
            let p = f.arg(Arg::Date(today));
            f.and(format!("e.warranty_until < {p}"));
        }
        Some("expiring") => {
            let a = f.arg(Arg::Date(today));
            let b = f.arg(Arg::Date(today + chrono::Duration::days(q.expiring_days)));
            f.and(format!("e.warranty_until >= {a} AND e.warranty_until <= {b}"));
        }
        Some("valid") => {
            let p = f.arg(Arg::Date(today));
            f.and(format!("e.warranty_until >= {p}"));
        }
        Some("unknown") => f.and("e.warranty_until IS NULL".into()),
        _ => {}
    }
    if let Some(expr) = q.q.as_deref().and_then(|s| search::match_expr(db, s)) {
        let p = f.arg(Arg::Text(expr));
        // With a school or town narrowing the rows, `+e.id` keeps the planner on that index and
        // probes the matches, instead of looking up every match by id.
        let narrowed = q.town.is_some() || q.customer_id.is_some() || q.scope.is_some();
        f.and(search::in_clause(db, "equipment", if narrowed { "+e.id" } else { "e.id" }, &p));
    }
    f
}

pub async fn list(db: &Db, q: &EquipmentQuery, page: Page) -> Result<Paged<EquipmentRow>> {
    let f = filter(db, q);
    let order = match q.sort.as_deref() {
        Some("serial") => "e.serial_no",
        Some("customer") => "c.name",
        Some("system") => "e.system",
        Some("kind") => "e.kind",
        Some("installed") => "e.installed_on",
        Some("warranty") => "e.warranty_until",
        Some("status") => "e.status",
        _ => "e.id",
    };
    let dir = if q.desc || q.sort.is_none() { "DESC" } else { "ASC" };
    let w = f.where_sql();
    // Page the ids on the equipment table alone, then join the 25 rows (a "deferred join"):
    // the join never steers the plan into sorting the whole table.
    let join = if order.starts_with("c.") { "JOIN customers c ON c.id = e.customer_id" } else { "" };
    let sql = format!(
        "{SELECT} WHERE e.id IN (SELECT e.id FROM equipment e {join} {w} ORDER BY {order} {dir}, e.id {dir} {}) \
         ORDER BY {order} {dir}, e.id {dir}",
        page.sql()
    );
    // Searching counts at most COUNT_CAP + 1 matches.
    let searching = q.q.as_deref().is_some_and(|s| search::match_expr(db, s).is_some());
    let count_sql = crate::db::count_sql(&format!("FROM equipment e {w}"), searching);
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, EquipmentRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged::counted(items, total, searching))
}

/// Of `serials`, those already taken (imports check before writing).
pub async fn existing_serials(db: &Db, serials: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in serials.chunks(500) {
        let mut f = Filter::default();
        let ps: Vec<String> = chunk.iter().map(|c| f.arg(Arg::Text(c.clone()))).collect();
        let sql = format!("SELECT serial_no FROM equipment WHERE serial_no IN ({})", ps.join(","));
        out.extend(on_db!(db, |p| bind_args!(
            sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.as_str())),
            f.args
        )
        .fetch_all(p)
        .await?));
    }
    Ok(out)
}

/// Counts per system for one customer (the school page) or all.
pub async fn count_by_system(db: &Db, customer_id: Option<i64>) -> Result<Vec<(String, i64)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (String, i64)>(
        "SELECT system, COUNT(*) FROM equipment WHERE ($1 < 0 OR customer_id = $1) GROUP BY system ORDER BY system"
    )
    .bind(customer_id.unwrap_or(-1))
    .fetch_all(p)
    .await?))
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM equipment").fetch_one(p).await?))
}

/// Which of these pieces of equipment are critical (a finding on one is urgent).
pub async fn critical_among(db: &Db, ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT id FROM equipment WHERE critical AND id IN ({list})");
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}
