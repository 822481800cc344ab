//! Spare parts: the catalogue, warehouses, on-hand stock and the append-only ledger.
//!
//! Stock changes only in [`post_many`], which in one write transaction updates the
//! `stock` rows, appends the movement with its balance and writes the audit entry. A
//! movement that takes stock does so with a conditional update (`… AND on_hand >= qty`):
//! on SQLite writers queue on the write lock; on PostgreSQL the row lock of the update
//! makes the losers re-check the condition against the winner's result. The CHECK on
//! `stock.on_hand` is the last line of defence.

use crate::db::{Arg, Conn, Filter, NullableText, WritePool, values_rows};
use crate::shortages::EFFECTIVE_MIN;
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, map_write_err, on_conn, on_db};
use aftercare_domain::defective::Outcome;
use aftercare_domain::parts::{
    AdjustDirection, MovementKind, NewMovement, NewPart, NewWarehouse, WarehouseKind, moving_average,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PartRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub spec: Option<String>,
    pub unit: String,
    pub category: Option<String>,
    pub systems: Option<String>,
    pub models: Option<String>,
    pub critical: bool,
    pub supplier: Option<String>,
    /// The catalogue price in fen (分); the API also gives `unit_cost` in yuan.
    pub unit_cost_fen: i64,
    pub lead_time_days: Option<i64>,
    pub min_qty: i64,
    pub max_qty: Option<i64>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PART_SELECT: &str = "SELECT id, code, name, spec, unit, category, systems, models, critical, supplier, \
    unit_cost_fen, \
    lead_time_days, min_qty, max_qty, active, version, created_at, updated_at FROM parts";

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WarehouseRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `depot` or `vehicle`.
    #[sqlx(try_from = "String")]
    pub kind: WarehouseKind,
    pub holder_user_id: Option<i64>,
    pub holder_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const WAREHOUSE_SELECT: &str = "SELECT w.id, w.code, w.name, w.kind, w.holder_user_id, u.display_name AS \
    holder_name, w.active, \
    w.created_at, w.updated_at FROM warehouses w LEFT JOIN users u ON u.id = w.holder_user_id";

/// On-hand of one part in one warehouse.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StockRow {
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub critical: bool,
    pub warehouse_id: i64,
    pub warehouse_code: String,
    pub warehouse_name: String,
    /// Usable units.
    pub on_hand: i64,
    /// Broken parts brought back, not usable.
    pub defective: i64,
    /// Moving-average cost in fen.
    pub avg_cost_fen: i64,
    /// The reserve quota: this warehouse's own, else the catalogue's.
    pub min_qty: i64,
    pub max_qty: Option<i64>,
}

// The quota columns are `shortages::EFFECTIVE_MIN` / `EFFECTIVE_MAX` written out (a const
// string cannot be spliced into another).
pub(crate) const STOCK_SELECT: &str = "SELECT s.part_id, p.code AS part_code, p.name AS part_name, p.unit, \
    p.critical, s.warehouse_id, \
    w.code AS warehouse_code, w.name AS warehouse_name, s.on_hand, s.defective, s.avg_cost_fen, \
    COALESCE(s.min_qty, CASE WHEN w.kind = 'depot' THEN p.min_qty ELSE 0 END) AS min_qty, \
    COALESCE(s.max_qty, CASE WHEN w.kind = 'depot' THEN p.max_qty END) AS max_qty \
    FROM stock s JOIN parts p ON p.id = s.part_id JOIN warehouses w ON w.id = s.warehouse_id";

/// One ledger row (领用记录表).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MovementRow {
    pub id: i64,
    /// e.g. `KC20261127-00042`.
    pub movement_no: String,
    #[sqlx(try_from = "String")]
    pub kind: MovementKind,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub warehouse_id: i64,
    pub warehouse_name: String,
    pub to_warehouse_id: Option<i64>,
    pub to_warehouse_name: Option<String>,
    pub qty: i64,
    /// An adjustment's `increase` or `decrease`.
    #[sqlx(try_from = "NullableText")]
    pub direction: Option<AdjustDirection>,
    /// Receipt: the purchase price; otherwise the average cost at the time, in fen.
    pub unit_cost_fen: i64,
    pub ticket_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub serial_no: Option<String>,
    pub old_serial_no: Option<String>,
    pub note: Option<String>,
    pub by_user_id: Option<i64>,
    pub by_name: Option<String>,
    pub at: DateTime<Utc>,
    /// On-hand at `warehouse_id` after this movement (the defective count for a defective return).
    pub balance_after: i64,
    /// A disposal of defective units only (kind `return` or `scrap`): `repaired|rma|scrap`.
    /// It, not the kind, says what the row did to the stock (`aftercare_domain::parts::effect`).
    #[sqlx(try_from = "NullableText")]
    pub outcome: Option<Outcome>,
}

const MOVEMENT_SELECT: &str = "SELECT m.id, m.movement_no, m.kind, m.part_id, p.code AS part_code, p.name AS \
    part_name, \
    m.warehouse_id, w.name AS warehouse_name, m.to_warehouse_id, t.name AS to_warehouse_name, m.qty, m.direction, \
    m.unit_cost_fen, m.ticket_id, m.equipment_id, m.serial_no, m.old_serial_no, m.note, m.by_user_id, \
    u.display_name AS by_name, \
    m.at, m.balance_after, m.outcome FROM stock_movements m JOIN parts p ON p.id = m.part_id JOIN warehouses w ON \
    w.id = m.warehouse_id \
    LEFT JOIN warehouses t ON t.id = m.to_warehouse_id LEFT JOIN users u ON u.id = m.by_user_id";

// ---- parts ----

pub async fn create_part(db: &Db, w: &Writer, p: &NewPart, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO parts (code, name, spec, unit, category, systems, models, critical, supplier, \
                unit_cost_fen, lead_time_days, \
             min_qty, max_qty, active, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) RETURNING id",
        )
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.spec)
        .bind(&p.unit)
        .bind(&p.category)
        .bind(&p.systems)
        .bind(&p.models)
        .bind(p.critical)
        .bind(&p.supplier)
        .bind(p.unit_cost_fen)
        .bind(p.lead_time_days)
        .bind(p.min_qty)
        .bind(p.max_qty)
        .bind(p.active)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["code"]))?;
        crate::audit::record(
            &mut *tx,
            w,
            "part",
            id,
            "create",
            &format!("{} {}", p.code, p.name),
            None,
            Some(serde_json::to_value(p).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

/// Replaces a part's fields. `version`, when given, must match (else `Stale`).
pub async fn update_part(
    db: &Db,
    w: &Writer,
    id: i64,
    version: Option<i64>,
    p: &NewPart,
    now: DateTime<Utc>,
) -> Result<()> {
    let before = get_part(db, id).await?;
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE parts SET code = $2, name = $3, spec = $4, unit = $5, category = $6, systems = $7, models = $8, \
                critical = $9, \
             supplier = $10, unit_cost_fen = $11, lead_time_days = $12, min_qty = $13, max_qty = $14, active = $15, \
             version = version + 1, updated_at = $16 WHERE id = $1 AND ($17 < 0 OR version = $17)",
        )
        .bind(id)
        .bind(&p.code)
        .bind(&p.name)
        .bind(&p.spec)
        .bind(&p.unit)
        .bind(&p.category)
        .bind(&p.systems)
        .bind(&p.models)
        .bind(p.critical)
        .bind(&p.supplier)
        .bind(p.unit_cost_fen)
        .bind(p.lead_time_days)
        .bind(p.min_qty)
        .bind(p.max_qty)
        .bind(p.active)
        .bind(now)
        .bind(version.unwrap_or(-1))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["code"]))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(
            &mut *tx,
            w,
            "part",
            id,
            "update",
            &format!("{} {}", p.code, p.name),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(p).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn get_part(db: &Db, id: i64) -> Result<PartRow> {
    let sql = format!("{PART_SELECT} WHERE id = $1");
    on_db!(db, |p| sqlx::query_as::<_, PartRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct PartQuery {
    /// Part of the code or the name.
    pub q: Option<String>,
    pub category: Option<String>,
    pub critical: Option<bool>,
    pub active: Option<bool>,
}

pub async fn list_parts(db: &Db, q: &PartQuery, page: Page) -> Result<Paged<PartRow>> {
    let mut f = Filter::default();
    if let Some(s) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let a = f.arg(Arg::Text(format!("%{}%", s.to_uppercase())));
        let b = f.arg(Arg::Text(format!("%{s}%")));
        f.and(format!("(code LIKE {a} OR name LIKE {b} OR spec LIKE {b})"));
    }
    if let Some(c) = &q.category {
        let a = f.arg(Arg::Text(c.clone()));
        f.and(format!("category = {a}"));
    }
    for (col, v) in [("critical", q.critical), ("active", q.active)] {
        if let Some(v) = v {
            let a = f.arg(Arg::Bool(v));
            f.and(format!("{col} = {a}"));
        }
    }
    let w = f.where_sql();
    let sql = format!("{PART_SELECT} {w} ORDER BY code {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM parts {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, PartRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

// ---- warehouses ----

pub async fn create_warehouse(db: &Db, w: &Writer, h: &NewWarehouse, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO warehouses (code, name, kind, holder_user_id, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(&h.code)
        .bind(&h.name)
        .bind(h.kind.as_str())
        .bind(h.holder_user_id)
        .bind(h.active)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["code"]))?;
        crate::audit::record(
            &mut *tx,
            w,
            "warehouse",
            id,
            "create",
            &format!("{} {}", h.code, h.name),
            None,
            Some(serde_json::to_value(h).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

pub async fn update_warehouse(db: &Db, w: &Writer, id: i64, h: &NewWarehouse, now: DateTime<Utc>) -> Result<()> {
    let before = get_warehouse(db, id).await?;
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE warehouses SET code = $2, name = $3, kind = $4, holder_user_id = $5, active = $6, updated_at = \
                $7 WHERE id = $1",
        )
        .bind(id)
        .bind(&h.code)
        .bind(&h.name)
        .bind(h.kind.as_str())
        .bind(h.holder_user_id)
        .bind(h.active)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["code"]))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::record(
            &mut *tx,
            w,
            "warehouse",
            id,
            "update",
            &format!("{} {}", h.code, h.name),
            Some(serde_json::to_value(&before).unwrap_or_default()),
            Some(serde_json::to_value(h).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn get_warehouse(db: &Db, id: i64) -> Result<WarehouseRow> {
    let sql = format!("{WAREHOUSE_SELECT} WHERE w.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, WarehouseRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// Every warehouse, depots first.
pub async fn list_warehouses(db: &Db) -> Result<Vec<WarehouseRow>> {
    let sql = format!("{WAREHOUSE_SELECT} ORDER BY w.kind, w.code");
    Ok(on_db!(db, |p| sqlx::query_as::<_, WarehouseRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

// ---- stock and the ledger ----

/// On-hand rows, optionally of one part and/or one warehouse, by warehouse then part code.
pub async fn stock(db: &Db, part_id: Option<i64>, warehouse_id: Option<i64>, page: Page) -> Result<Paged<StockRow>> {
    let mut f = Filter::default();
    for (col, v) in [("s.part_id", part_id), ("s.warehouse_id", warehouse_id)] {
        if let Some(v) = v {
            let a = f.arg(Arg::I64(v));
            f.and(format!("{col} = {a}"));
        }
    }
    let w = f.where_sql();
    let sql = format!("{STOCK_SELECT} {w} ORDER BY w.code, p.code {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM stock s {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, StockRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

#[derive(Debug, Clone, Default)]
pub struct MovementQuery {
    pub part_id: Option<i64>,
    /// Movements from or into this warehouse.
    pub warehouse_id: Option<i64>,
    pub kind: Option<MovementKind>,
    pub ticket_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Ledger rows, newest first.
pub async fn movements(db: &Db, q: &MovementQuery, page: Page) -> Result<Paged<MovementRow>> {
    let mut f = Filter::default();
    for (col, v) in [("m.part_id", q.part_id), ("m.ticket_id", q.ticket_id)] {
        if let Some(v) = v {
            let a = f.arg(Arg::I64(v));
            f.and(format!("{col} = {a}"));
        }
    }
    if let Some(v) = q.warehouse_id {
        let a = f.arg(Arg::I64(v));
        f.and(format!("(m.warehouse_id = {a} OR m.to_warehouse_id = {a})"));
    }
    if let Some(k) = &q.kind {
        let a = f.arg(Arg::Text(k.as_str().to_string()));
        f.and(format!("m.kind = {a}"));
    }
    if let Some(t) = q.since {
        let a = f.arg(Arg::Time(t));
        f.and(format!("m.at >= {a}"));
    }
    if let Some(t) = q.until {
        let a = f.arg(Arg::Time(t));
        f.and(format!("m.at < {a}"));
    }
    let w = f.where_sql();
    let sql = format!("{MOVEMENT_SELECT} {w} ORDER BY m.id DESC {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM stock_movements m {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, MovementRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn get_movement(db: &Db, id: i64) -> Result<MovementRow> {
    let sql = format!("{MOVEMENT_SELECT} WHERE m.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, MovementRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// Takes the next number of the counter `scope` (`stock:20261127`, `requisition:…`) inside
/// the caller's transaction. The counter row is held until commit: take it late.
pub(crate) async fn next_number<'c>(conn: impl Into<Conn<'c>>, scope: &str) -> Result<i64> {
    let sql = "INSERT INTO number_counters (scope, last) VALUES ($1, 1) \
         ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + 1 RETURNING last";
    Ok(on_conn!(&mut conn.into(), |c| sqlx::query_scalar::<_, i64>(sql).bind(scope).fetch_one(&mut **c).await?))
}

/// The next stock movement number, `KC20261127-00042`, for `w`'s day of `now`.
pub(crate) async fn next_movement_no<'c>(conn: impl Into<Conn<'c>>, w: &Writer, now: DateTime<Utc>) -> Result<String> {
    let day = w.number_day(now);
    let n = next_number(conn, &format!("stock:{day}")).await?;
    Ok(format!("KC{day}-{n:05}"))
}

/// Adds to a stock row (creating it when there is none) and returns (on_hand, defective,
/// avg_cost_fen) after; the update holds the row's lock until commit. Only for amounts of
/// zero or more: both databases check the row to be inserted against the CHECKs before
/// they see the conflict, so a negative amount fails even on an existing row.
pub(crate) async fn add_stock<'c>(
    conn: impl Into<Conn<'c>>,
    part: i64,
    wh: i64,
    on_hand: i64,
    defective: i64,
) -> Result<(i64, i64, i64)> {
    let sql = "INSERT INTO stock (part_id, warehouse_id, on_hand, defective, avg_cost_fen) VALUES ($1, $2, $3, $4, 0) \
         ON CONFLICT (part_id, warehouse_id) DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand, \
         defective = stock.defective + excluded.defective RETURNING on_hand, defective, avg_cost_fen";
    Ok(on_conn!(&mut conn.into(), |c| sqlx::query_as::<_, (i64, i64, i64)>(sql)
        .bind(part)
        .bind(wh)
        .bind(on_hand)
        .bind(defective)
        .fetch_one(&mut **c)
        .await?))
}

/// Sets a stock row's moving-average cost.
pub(crate) async fn set_avg_cost<'c>(conn: impl Into<Conn<'c>>, part: i64, wh: i64, avg_fen: i64) -> Result<()> {
    let sql = "UPDATE stock SET avg_cost_fen = $3 WHERE part_id = $1 AND warehouse_id = $2";
    on_conn!(&mut conn.into(), |c| {
        sqlx::query(sql).bind(part).bind(wh).bind(avg_fen).execute(&mut **c).await?;
    });
    Ok(())
}

/// Takes usable units from a stock row only if that many are there: `Ok((on_hand after,
/// avg_cost_fen))`, or `Err(on_hand left)` having changed nothing.
pub(crate) async fn try_take_stock<'c>(
    conn: impl Into<Conn<'c>>,
    part: i64,
    wh: i64,
    qty: i64,
) -> Result<std::result::Result<(i64, i64), i64>> {
    let mut conn = conn.into();
    let take = "UPDATE stock SET on_hand = on_hand - $3 WHERE part_id = $1 AND warehouse_id = $2 AND on_hand >= $3 \
         RETURNING on_hand, avg_cost_fen";
    let r: Option<(i64, i64)> =
        on_conn!(&mut conn, |c| sqlx::query_as(take).bind(part).bind(wh).bind(qty).fetch_optional(&mut **c).await?);
    if let Some(r) = r {
        return Ok(Ok(r));
    }
    let left_sql = "SELECT on_hand FROM stock WHERE part_id = $1 AND warehouse_id = $2";
    let left: Option<i64> =
        on_conn!(&mut conn, |c| sqlx::query_scalar(left_sql).bind(part).bind(wh).fetch_optional(&mut **c).await?);
    Ok(Err(left.unwrap_or(0)))
}

/// [`try_take_stock`] that fails with `Insufficient` (with what is left), so the caller
/// drops its transaction. Returns (on_hand after, avg_cost_fen).
pub(crate) async fn take_stock<'c>(conn: impl Into<Conn<'c>>, part: i64, wh: i64, qty: i64) -> Result<(i64, i64)> {
    try_take_stock(conn, part, wh, qty).await?.map_err(|on_hand| StoreError::Insufficient {
        part_id: part,
        warehouse_id: wh,
        on_hand,
    })
}

/// Rows per insert statement of [`post_many`]: 16 values each stays far inside SQLite's
/// 32,766 and PostgreSQL's 65,535 bound values.
const INSERT_CHUNK: usize = 500;

/// PostgreSQL: locks the existing stock rows of `pairs` (part, warehouse) in one order —
/// by part, then warehouse — before the transaction takes any other lock, so transactions
/// that touch several rows (a group of movements, a requisition, a visit, another node's
/// group) cannot wait for each other in a circle. Rows made later by the transaction are
/// new and locked by their insert. SQLite needs none: a writer holds the whole database.
pub(crate) async fn lock_stock_rows<'c>(conn: impl Into<Conn<'c>>, mut pairs: Vec<(i64, i64)>) -> Result<()> {
    pairs.sort_unstable();
    pairs.dedup();
    if pairs.is_empty() {
        return Ok(());
    }
    // Integers formatted by us; both databases name a VALUES list's columns column1, column2.
    let values = pairs.iter().map(|(p, w)| format!("({p}, {w})")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT 1 FROM stock s JOIN (VALUES {values}) v ON s.part_id = v.column1 AND s.warehouse_id = v.column2 \
         ORDER BY s.part_id, s.warehouse_id FOR UPDATE OF s"
    );
    on_conn!(&mut conn.into(), |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(&mut **c).await?;
    });
    Ok(())
}

/// One movement for [`post_many`], with the moment it was asked for (microseconds, so
/// the answer equals a read-back).
#[derive(Debug, Clone)]
pub struct MovementWrite {
    pub movement: NewMovement,
    pub now: DateTime<Utc>,
    /// A stocktake's book on-hand the variance was worked out from: with `atomic`, the
    /// group is `Stale` (nothing written) when the stock is no longer at it.
    pub expect_on_hand: Option<i64>,
}

/// What became of one movement of a group.
#[derive(Debug, Clone)]
pub enum Posted {
    /// Written: the ledger row as read back, and the shortage alerts it raised (to be mailed).
    Done(Box<MovementRow>, Vec<i64>),
    /// Not enough usable stock: nothing of this movement was written. The part (code and
    /// name), the warehouse's name, and what is left there.
    Short { part: String, warehouse: String, on_hand: i64 },
    /// The part or a warehouse does not exist (the field that names it): nothing written.
    Missing(&'static str),
}

/// Why one movement of a group was not posted.
enum Unposted {
    Short(i64),
    Missing(&'static str),
}

/// Posts movements in one write transaction, in order: stock rows, the ledger rows with
/// their balances, the audit entries, and the reserve-quota check of every stock row
/// touched. A movement short of stock, or naming a part or warehouse that does not exist,
/// changes nothing and is answered `Short` or `Missing` while the others are written (the
/// group commit of concurrent requests); with `atomic` (a stocktake) it is `Insufficient`
/// or `MissingReference` and nothing at all is written.
///
/// Each movement's stock is taken by a conditional update before anything else of it is
/// written, so a short one needs no savepoint: there is nothing of it to undo.
pub async fn post_many(db: &Db, items: &[(Writer, MovementWrite)], atomic: bool) -> Result<Vec<Posted>> {
    use std::collections::HashMap;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let postgres = matches!(db, Db::Postgres(_));
    let list = |ids: &mut Vec<i64>| {
        ids.sort_unstable();
        ids.dedup();
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    };
    let part_ids = list(&mut items.iter().map(|(_, i)| i.movement.part_id).collect());
    let warehouse_ids = list(
        &mut items
            .iter()
            .flat_map(|(_, i)| std::iter::once(i.movement.warehouse_id).chain(i.movement.to_warehouse_id))
            .collect(),
    );
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        if postgres {
            let pairs = items.iter().flat_map(|(_, i)| {
                let m = &i.movement;
                std::iter::once((m.part_id, m.warehouse_id)).chain(m.to_warehouse_id.map(|t| (m.part_id, t)))
            });
            lock_stock_rows(&mut *tx, pairs.collect()).await?;
        }
        // Integers formatted by us: nothing from the request reaches the SQL text.
        let parts: HashMap<i64, (String, String, i64)> = sqlx::query_as::<_, (i64, String, String, i64)>(
            sqlx::AssertSqlSafe(format!("SELECT id, code, name, unit_cost_fen FROM parts WHERE id IN ({part_ids})")),
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id, c, n, f)| (id, (c, n, f)))
        .collect();
        let warehouses: HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT id, name FROM warehouses WHERE id IN ({warehouse_ids})"
        )))
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        // Per movement: Ok((balance after, unit cost)) or why it was not posted.
        let mut results: Vec<std::result::Result<(i64, i64), Unposted>> = Vec::with_capacity(items.len());
        let mut touched: Vec<(i64, i64, usize)> = Vec::new();
        for (i, (_, item)) in items.iter().enumerate() {
            let m = &item.movement;
            let fx = m.effect();
            let missing = if !parts.contains_key(&m.part_id) {
                Some("part_id")
            } else if !warehouses.contains_key(&m.warehouse_id) {
                Some("warehouse_id")
            } else if m.to_warehouse_id.is_some_and(|t| !warehouses.contains_key(&t)) {
                Some("to_warehouse_id")
            } else {
                None
            };
            if let Some(field) = missing {
                if atomic {
                    return Err(StoreError::MissingReference { field });
                }
                results.push(Err(Unposted::Missing(field)));
                continue;
            }
            let catalogue_cost = parts.get(&m.part_id).map(|p| p.2).unwrap_or_default();
            if let (Some(book), true) = (item.expect_on_hand, atomic) {
                // A stocktake's variance was worked out from the count sheet's book: if the
                // stock moved since, the count no longer says what to post.
                let now_on_hand: Option<i64> =
                    sqlx::query_scalar("SELECT on_hand FROM stock WHERE part_id = $1 AND warehouse_id = $2")
                        .bind(m.part_id)
                        .bind(m.warehouse_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if now_on_hand.unwrap_or(0) != book {
                    return Err(StoreError::Stale);
                }
            }
            let posted = if fx.on_hand < 0 {
                match try_take_stock(&mut *tx, m.part_id, m.warehouse_id, m.qty).await? {
                    Err(on_hand) if atomic => {
                        return Err(StoreError::Insufficient {
                            part_id: m.part_id,
                            warehouse_id: m.warehouse_id,
                            on_hand,
                        });
                    }
                    Err(on_hand) => Err(Unposted::Short(on_hand)),
                    Ok((after, avg)) => {
                        if let Some(to) = m.to_warehouse_id {
                            let (to_after, _, to_avg) = add_stock(&mut *tx, m.part_id, to, fx.to_on_hand, 0).await?;
                            let new_avg = moving_average(to_after - m.qty, to_avg, m.qty, avg);
                            if new_avg != to_avg {
                                set_avg_cost(&mut *tx, m.part_id, to, new_avg).await?;
                            }
                            touched.push((m.part_id, to, i));
                        }
                        Ok((after, avg))
                    }
                }
            } else {
                let (after, defective, avg) =
                    add_stock(&mut *tx, m.part_id, m.warehouse_id, fx.on_hand, fx.defective).await?;
                if fx.on_hand > 0 {
                    let before = after - fx.on_hand;
                    // A receipt brings its price; a return or a stocktake gain comes back at the
                    // current average (the catalogue price when there has never been any).
                    let cost = match m.kind {
                        MovementKind::Receipt => m.unit_cost_fen.unwrap_or(catalogue_cost),
                        _ if before > 0 || avg > 0 => avg,
                        _ => catalogue_cost,
                    };
                    let new_avg = moving_average(before, avg, fx.on_hand, cost);
                    if new_avg != avg {
                        set_avg_cost(&mut *tx, m.part_id, m.warehouse_id, new_avg).await?;
                    }
                    Ok((after, cost))
                } else {
                    Ok((defective, avg))
                }
            };
            if posted.is_ok() {
                touched.push((m.part_id, m.warehouse_id, i));
            }
            results.push(posted);
        }
        // Numbers: one counter update per day for the whole group, taken last, so the
        // counter row is held only from here to commit.
        // In day order, so two groups spanning midnight lock the counters alike.
        let mut next: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for ((w, item), r) in items.iter().zip(&results) {
            if r.is_ok() {
                *next.entry(w.number_day(item.now)).or_default() += 1;
            }
        }
        for (day, n) in next.iter_mut() {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO number_counters (scope, last) VALUES ($1, $2) \
                 ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + $2 RETURNING last",
            )
            .bind(format!("stock:{day}"))
            .bind(*n)
            .fetch_one(&mut *tx)
            .await?;
            *n = last - *n;
        }
        let mut written: Vec<(usize, String, i64, i64)> = Vec::new();
        for (i, ((w, item), r)) in items.iter().zip(&results).enumerate() {
            if let Ok((balance, cost)) = r {
                let day = w.number_day(item.now);
                let n = next
                    .get_mut(&day)
                    .map(|n| {
                        *n += 1;
                        *n
                    })
                    .ok_or(StoreError::NotFound)?;
                written.push((i, format!("KC{day}-{n:05}"), *balance, *cost));
            }
        }
        let mut ids: HashMap<String, i64> = HashMap::new();
        let mut raised: HashMap<usize, Vec<i64>> = HashMap::new();
        if !written.is_empty() {
            // One statement per table for a whole group; a stocktake of thousands of lines
            // in chunks, within the databases' limits on bound values.
            for chunk in written.chunks(INSERT_CHUNK) {
                let rows = values_rows(chunk.len(), 1, &format!("({})", ["?"; 16].join(", ")));
                let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, to_warehouse_id, qty, \
                        direction, unit_cost_fen, \
                     ticket_id, equipment_id, serial_no, old_serial_no, note, by_user_id, at, balance_after) VALUES \
                     {rows} \
                     RETURNING id, movement_no"
                )));
                for (i, no, balance, cost) in chunk {
                    let (w, item) = &items[*i];
                    let m = &item.movement;
                    q = q
                        .bind(no)
                        .bind(m.kind.as_str())
                        .bind(m.part_id)
                        .bind(m.warehouse_id)
                        .bind(m.to_warehouse_id)
                        .bind(m.qty)
                        .bind(m.direction.map(|d| d.as_str()))
                        .bind(*cost)
                        .bind(m.ticket_id)
                        .bind(m.equipment_id)
                        .bind(&m.serial_no)
                        .bind(&m.old_serial_no)
                        .bind(&m.note)
                        .bind(w.user_id)
                        .bind(item.now)
                        .bind(*balance);
                }
                // RETURNING promises no order: match the rows back by their unique numbers.
                ids.extend(
                    q.fetch_all(&mut *tx)
                        .await
                        .map_err(|e| map_write_err(e, &["movement_no"]))?
                        .into_iter()
                        .map(|(id, no)| (no, id)),
                );
                let rows = values_rows(chunk.len(), 1, "(?, ?, ?, 'stock_movement', ?, ?, ?, NULL, ?)");
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO audit_log (at, actor_id, actor_name, entity, entity_id, action, summary, \
                        before_json, after_json) VALUES {rows}"
                )));
                let at = Utc::now();
                for (i, no, _, _) in chunk {
                    let (w, item) = &items[*i];
                    let id = ids.get(no).copied().ok_or(StoreError::NotFound)?;
                    q = q
                        .bind(at)
                        .bind(w.user_id)
                        .bind(&w.name)
                        .bind(id)
                        .bind(item.movement.kind.as_str())
                        .bind(no)
                        .bind(serde_json::to_value(&item.movement).unwrap_or_default().to_string());
                }
                q.execute(&mut *tx).await?;
            }
            // Reserve quotas, checked before commit: read the rows touched at once and write
            // only where an alert opens or closes. The last movement on a row owns its alert.
            touched.sort_unstable();
            let mut last: HashMap<(i64, i64), usize> = HashMap::new();
            for (p, w, i) in &touched {
                last.insert((*p, *w), *i);
            }
            // Both databases name a VALUES list's columns column1, column2, …
            let pairs = last.keys().map(|(p, w)| format!("({p}, {w})")).collect::<Vec<_>>().join(", ");
            let states: Vec<(i64, i64, i64, i64, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT s.part_id, s.warehouse_id, s.on_hand, {EFFECTIVE_MIN}, EXISTS (SELECT 1 FROM shortage_alerts a \
                 WHERE a.part_id = s.part_id AND a.warehouse_id = s.warehouse_id AND a.closed_at IS NULL) \
                 FROM (VALUES {pairs}) v JOIN stock s ON s.part_id = v.column1 AND s.warehouse_id = v.column2 \
                 JOIN parts p ON p.id = s.part_id JOIN warehouses w ON w.id = s.warehouse_id"
            )))
            .fetch_all(&mut *tx)
            .await?;
            for (p, w, on_hand, min, open) in states {
                let Some(&i) = last.get(&(p, w)) else { continue };
                if aftercare_domain::shortages::is_short(on_hand, min) == open {
                    continue;
                }
                if let crate::shortages::Level::Raised(id) =
                    crate::shortages::level_in_tx(&mut *tx, p, w, items[i].1.now).await?
                {
                    raised.entry(i).or_default().push(id);
                }
            }
        }
        // A failed commit may or may not have written the group: say so, never retry it.
        tx.commit().await.map_err(StoreError::Commit)?;
        let mut out = Vec::with_capacity(items.len());
        let mut written = written.into_iter();
        for (i, ((w, item), r)) in items.iter().zip(results).enumerate() {
            match r {
                Err(Unposted::Short(on_hand)) => {
                    let (code, name, _) = parts.get(&item.movement.part_id).cloned().unwrap_or_default();
                    let warehouse = warehouses.get(&item.movement.warehouse_id).cloned().unwrap_or_default();
                    out.push(Posted::Short { part: format!("{code} {name}"), warehouse, on_hand });
                    continue;
                }
                Err(Unposted::Missing(field)) => {
                    out.push(Posted::Missing(field));
                    continue;
                }
                Ok(_) => {}
            }
            let Some((_, no, balance, cost)) = written.next() else { return Err(StoreError::NotFound) };
            let m = &item.movement;
            let (code, name, _) = parts.get(&m.part_id).cloned().unwrap_or_default();
            let row = MovementRow {
                id: ids.get(&no).copied().ok_or(StoreError::NotFound)?,
                movement_no: no,
                kind: m.kind,
                part_id: m.part_id,
                part_code: code,
                part_name: name,
                warehouse_id: m.warehouse_id,
                warehouse_name: warehouses.get(&m.warehouse_id).cloned().unwrap_or_default(),
                to_warehouse_id: m.to_warehouse_id,
                to_warehouse_name: m.to_warehouse_id.and_then(|t| warehouses.get(&t).cloned()),
                qty: m.qty,
                direction: m.direction,
                unit_cost_fen: cost,
                ticket_id: m.ticket_id,
                equipment_id: m.equipment_id,
                serial_no: m.serial_no.clone(),
                old_serial_no: m.old_serial_no.clone(),
                note: m.note.clone(),
                by_user_id: w.user_id,
                by_name: w.user_id.map(|_| w.name.clone()),
                at: item.now,
                balance_after: balance,
                outcome: None,
            };
            out.push(Posted::Done(Box::new(row), raised.remove(&i).unwrap_or_default()));
        }
        out
    }))
}

/// One movement that takes stock for [`issue_in_tx`]: an `issue` out of `from` when `to`
/// is `None`, else a `transfer` from `from` into the warehouse `to`.
pub(crate) struct Outgoing<'a> {
    pub part: i64,
    pub from: i64,
    pub to: Option<i64>,
    pub qty: i64,
    pub ticket: Option<i64>,
    pub serial: Option<&'a str>,
    pub note: Option<&'a str>,
    pub now: DateTime<Utc>,
    /// PostgreSQL: lock the two stock rows of a transfer in warehouse order first, as
    /// [`post_many`] does, so opposite transfers cannot wait for each other.
    pub postgres: bool,
}

/// Posts one movement that takes stock inside the caller's write transaction (a
/// requisition issues all its lines in one, all or nothing). Takes the stock through
/// [`take_stock`] (`Insufficient` when it is not there: the caller drops its transaction
/// and nothing is written), adds it to `to` at the moving average, appends the ledger row
/// and its audit entry. Returns (movement id, unit cost in fen).
pub(crate) async fn issue_in_tx<'c>(conn: impl Into<Conn<'c>>, w: &Writer, o: &Outgoing<'_>) -> Result<(i64, i64)> {
    let mut conn = conn.into();
    let (part, from, qty) = (o.part, o.from, o.qty);
    if let (Some(to), true) = (o.to, o.postgres) {
        let make = "INSERT INTO stock (part_id, warehouse_id, on_hand, defective, avg_cost_fen) \
             VALUES ($1, $2, 0, 0, 0) ON CONFLICT (part_id, warehouse_id) DO NOTHING";
        let lock = "SELECT on_hand FROM stock WHERE part_id = $1 AND warehouse_id IN ($2, $3) ORDER BY warehouse_id \
             FOR UPDATE";
        on_conn!(&mut conn, |c| {
            sqlx::query(make).bind(part).bind(to).execute(&mut **c).await?;
            sqlx::query(lock).bind(part).bind(from).bind(to).fetch_all(&mut **c).await?;
        });
    }
    let (after, avg) = take_stock(conn.reborrow(), part, from, qty).await?;
    if let Some(to) = o.to {
        let (to_after, _, to_avg) = add_stock(conn.reborrow(), part, to, qty, 0).await?;
        let new_avg = moving_average(to_after - qty, to_avg, qty, avg);
        if new_avg != to_avg {
            set_avg_cost(conn.reborrow(), part, to, new_avg).await?;
        }
    }
    let kind = if o.to.is_some() { MovementKind::Transfer } else { MovementKind::Issue };
    let movement_no = next_movement_no(conn.reborrow(), w, o.now).await?;
    let sql = "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, to_warehouse_id, qty, \
         unit_cost_fen, ticket_id, serial_no, note, by_user_id, at, balance_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
    let id: i64 = on_conn!(&mut conn, |c| sqlx::query_scalar(sql)
        .bind(&movement_no)
        .bind(kind.as_str())
        .bind(part)
        .bind(from)
        .bind(o.to)
        .bind(qty)
        .bind(avg)
        .bind(o.ticket)
        .bind(o.serial)
        .bind(o.note)
        .bind(w.user_id)
        .bind(o.now)
        .bind(after)
        .fetch_one(&mut **c)
        .await?);
    let after_json = serde_json::json!({"part_id": part, "warehouse_id": from, "to_warehouse_id": o.to, "qty": qty,
        "ticket_id": o.ticket, "note": o.note});
    crate::audit::record(conn, w, "stock_movement", id, kind.as_str(), &movement_no, None, Some(after_json)).await?;
    Ok((id, avg))
}

/// What a technician may still bring back of a part: `issued` is what his requisitions
/// issued to him less what he has returned since (kind `return`, not a disposal); `used`
/// is what was fitted on the ticket's visits less the defective units already returned
/// against that ticket. Both read the ledger, so a number in a request cannot raise them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReturnAllowance {
    pub issued: i64,
    pub used_on_ticket: i64,
}

pub async fn return_allowance(db: &Db, user_id: i64, part_id: i64, ticket_id: Option<i64>) -> Result<ReturnAllowance> {
    let issued_sql = "SELECT CAST(COALESCE((SELECT SUM(l.qty_issued) FROM requisition_lines l \
            JOIN requisitions r ON r.id = l.requisition_id JOIN stock_movements m ON m.id = l.movement_id \
            WHERE m.kind = 'issue' AND r.requester_id = $1 AND l.part_id = $2 AND l.qty_issued IS NOT NULL AND \
            l.return_movement_id IS NULL), 0) \
        - COALESCE((SELECT SUM(qty) FROM stock_movements \
            WHERE by_user_id = $1 AND part_id = $2 AND kind = 'return' AND outcome IS NULL), 0) AS BIGINT)";
    let used_sql = "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'issue' THEN qty \
            WHEN kind = 'defective_return' THEN -qty ELSE 0 END), 0) AS BIGINT) \
        FROM stock_movements WHERE ticket_id = $1 AND part_id = $2 AND kind IN ('issue', 'defective_return')";
    let issued =
        on_db!(db, |p| sqlx::query_scalar::<_, i64>(issued_sql).bind(user_id).bind(part_id).fetch_one(p).await?);
    let used_on_ticket = match ticket_id {
        None => 0,
        Some(t) => on_db!(db, |p| sqlx::query_scalar::<_, i64>(used_sql).bind(t).bind(part_id).fetch_one(p).await?),
    };
    Ok(ReturnAllowance { issued: issued.max(0), used_on_ticket: used_on_ticket.max(0) })
}
