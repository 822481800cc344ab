//! Stock reports (issue 5, §2.5(3)(4)): valuation, turnover, slow movers, quality
//! feedback from defective returns, the stocktake book quantities, and the catalogue
//! import. Each figure is one SQL aggregate, so the reports stay fast over a ledger of
//! a million movements (indexes `stock_movements_kind_at` and `stock_movements_part_kind`).

use crate::db::WritePool;
use crate::{Db, Result, Writer, map_write_err, on_db};
use aftercare_domain::parts::NewPart;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Capital tied up in one group (a warehouse or a category).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ValueGroup {
    /// Warehouse id, or 0 for a category.
    pub id: i64,
    /// Warehouse name, or the category ('' when the part has none).
    pub name: String,
    /// Usable units on hand.
    pub units: i64,
    /// on_hand × moving-average cost, fen.
    pub value_fen: i64,
}

/// Capital tied up per warehouse (usable stock only; defective parts carry no value).
pub async fn value_by_warehouse(db: &Db) -> Result<Vec<ValueGroup>> {
    let sql = "SELECT w.id, w.name, CAST(COALESCE(SUM(s.on_hand), 0) AS BIGINT) AS units, \
        CAST(COALESCE(SUM(s.on_hand * s.avg_cost_fen), 0) AS BIGINT) AS value_fen \
        FROM warehouses w LEFT JOIN stock s ON s.warehouse_id = w.id GROUP BY w.id, w.name, w.kind, w.code \
        ORDER BY w.kind, w.code";
    Ok(on_db!(db, |p| sqlx::query_as::<_, ValueGroup>(sql).fetch_all(p).await?))
}

/// Capital tied up per part category.
pub async fn value_by_category(db: &Db) -> Result<Vec<ValueGroup>> {
    let sql = "SELECT CAST(0 AS BIGINT) AS id, COALESCE(p.category, '') AS name, \
        CAST(COALESCE(SUM(s.on_hand), 0) AS BIGINT) AS units, \
        CAST(COALESCE(SUM(s.on_hand * s.avg_cost_fen), 0) AS BIGINT) AS value_fen \
        FROM stock s JOIN parts p ON p.id = s.part_id GROUP BY COALESCE(p.category, '') \
        ORDER BY value_fen DESC, name";
    Ok(on_db!(db, |p| sqlx::query_as::<_, ValueGroup>(sql).fetch_all(p).await?))
}

/// The ledger's value flows in `[since, until)`: what was issued, and the net change of
/// usable stock value (receipts, returns and gains in; issues, scrap and losses out;
/// a transfer moves value between warehouses and nets to zero).
///
/// Disposals of defective units (rows with an `outcome`) are decided by that outcome, not
/// their kind:
/// - `repaired` (kind `return`) counts as value in at its recorded cost: usable stock
///   really grew by it, and the period's closing value is today's value less these flows,
///   so leaving it out would misstate the opening value. It is not an issue, so turnover's
///   numerator is unchanged.
/// - `rma` and `scrap` (kind `scrap`) are no loss of usable stock: a defective unit was
///   never in the stock's value. They are excluded by `outcome IS NULL`, not merely by
///   their zero cost, so a cost ever recorded on them could not leak into the figure.
///
/// Slow movers and the failure counts read only `issue` and `defective_return` rows, which
/// never carry an outcome: a disposal is neither a consumption nor a new failure.
#[derive(Debug, Clone, Copy, Default, Serialize, sqlx::FromRow)]
pub struct Flows {
    pub issued_fen: i64,
    pub issued_units: i64,
    pub net_change_fen: i64,
}

impl std::ops::Add for Flows {
    type Output = Flows;
    fn add(self, o: Flows) -> Flows {
        Flows {
            issued_fen: self.issued_fen + o.issued_fen,
            issued_units: self.issued_units + o.issued_units,
            net_change_fen: self.net_change_fen + o.net_change_fen,
        }
    }
}

/// The flows of `[since, until)`: the whole hours from `stock_flow_hours` (kept by a
/// trigger on the ledger, migration 0011), the partial hours at either end from the ledger.
pub async fn flows(db: &Db, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Flows> {
    use chrono::{DurationRound, TimeDelta};
    if until <= since {
        return Ok(Flows::default());
    }
    let hour = TimeDelta::hours(1);
    let floor = |t: DateTime<Utc>| t.duration_trunc(hour).unwrap_or(t);
    let first = match floor(since) {
        t if t == since => t,
        t => t + hour,
    };
    let last = floor(until);
    if first >= last {
        return flows_in_ledger(db, since, until).await;
    }
    let sql = "SELECT CAST(COALESCE(SUM(issued_fen), 0) AS BIGINT) AS issued_fen, \
        CAST(COALESCE(SUM(issued_units), 0) AS BIGINT) AS issued_units, \
        CAST(COALESCE(SUM(net_change_fen), 0) AS BIGINT) AS net_change_fen \
        FROM stock_flow_hours WHERE hour >= $1 AND hour < $2";
    let mut f: Flows = on_db!(db, |p| sqlx::query_as::<_, Flows>(sql).bind(first).bind(last).fetch_one(p).await?);
    if since < first {
        f = f + flows_in_ledger(db, since, first).await?;
    }
    if last < until {
        f = f + flows_in_ledger(db, last, until).await?;
    }
    Ok(f)
}

/// The flows of `[since, until)` summed from the ledger's rows (the same sums as the
/// trigger of migration 0011).
async fn flows_in_ledger(db: &Db, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Flows> {
    let sql = "SELECT \
        CAST(COALESCE(SUM(CASE WHEN kind = 'issue' THEN qty * unit_cost_fen ELSE 0 END), 0) AS BIGINT) AS issued_fen, \
        CAST(COALESCE(SUM(CASE WHEN kind = 'issue' THEN qty ELSE 0 END), 0) AS BIGINT) AS issued_units, \
        CAST(COALESCE(SUM(CASE \
            WHEN kind IN ('receipt', 'return') THEN qty * unit_cost_fen \
            WHEN kind = 'adjustment' AND direction = 'increase' THEN qty * unit_cost_fen \
            WHEN kind = 'issue' THEN -(qty * unit_cost_fen) \
            WHEN kind = 'scrap' AND outcome IS NULL THEN -(qty * unit_cost_fen) \
            WHEN kind = 'adjustment' AND direction = 'decrease' THEN -(qty * unit_cost_fen) \
            ELSE 0 END), 0) AS BIGINT) AS net_change_fen \
        FROM stock_movements WHERE kind IN ('issue', 'receipt', 'return', 'adjustment', 'scrap') AND at >= $1 AND \
        at < $2";
    Ok(on_db!(db, |p| sqlx::query_as::<_, Flows>(sql).bind(since).bind(until).fetch_one(p).await?))
}

/// Stock that has not moved out: usable on-hand with no issue from its warehouse since
/// `cutoff`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SlowMover {
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub unit: String,
    pub warehouse_id: i64,
    pub warehouse_name: String,
    pub on_hand: i64,
    pub value_fen: i64,
}

pub async fn slow_movers(db: &Db, cutoff: DateTime<Utc>) -> Result<Vec<SlowMover>> {
    // NOT EXISTS seeks the (part_id, warehouse_id, kind, at) index once per stock row.
    let sql = "SELECT s.part_id, p.code AS part_code, p.name AS part_name, p.unit, s.warehouse_id, w.name AS \
        warehouse_name, \
        s.on_hand, s.on_hand * s.avg_cost_fen AS value_fen \
        FROM stock s JOIN parts p ON p.id = s.part_id JOIN warehouses w ON w.id = s.warehouse_id \
        WHERE s.on_hand > 0 AND NOT EXISTS (SELECT 1 FROM stock_movements m WHERE m.part_id = s.part_id \
            AND m.warehouse_id = s.warehouse_id AND m.kind = 'issue' AND m.at >= $1) \
        ORDER BY value_fen DESC, p.code, w.code";
    Ok(on_db!(db, |p| sqlx::query_as::<_, SlowMover>(sql).bind(cutoff).fetch_all(p).await?))
}

/// Failures (defective returns) and issues of one part, model or supplier in a period.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct FailureRow {
    /// The part's id; 0 for a model or supplier.
    pub id: i64,
    /// Part code, equipment model or supplier ('' when unknown).
    pub key: String,
    /// Part name; '' otherwise.
    pub name: String,
    /// Units brought back broken.
    pub failures: i64,
    /// Units issued in the same period (0 for a model: issues are not tied to a model).
    pub issued: i64,
    /// The part's supplier ('' when none, and for a model or supplier row).
    #[serde(skip)]
    pub supplier: String,
}

const FAIL: &str = "CAST(COALESCE(SUM(CASE WHEN m.kind = 'defective_return' THEN m.qty ELSE 0 END), 0) AS BIGINT)";
const ISSUED: &str = "CAST(COALESCE(SUM(CASE WHEN m.kind = 'issue' THEN m.qty ELSE 0 END), 0) AS BIGINT)";

/// Every part issued or brought back broken in the period (the service keeps those with
/// failures, and sums all of them per supplier).
pub async fn failures_by_part(db: &Db, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<FailureRow>> {
    let sql = format!(
        "SELECT p.id, p.code AS key, p.name, {FAIL} AS failures, {ISSUED} AS issued, COALESCE(p.supplier, '') AS \
            supplier \
         FROM stock_movements m JOIN parts p ON p.id = m.part_id \
         WHERE m.kind IN ('defective_return', 'issue') AND m.at >= $1 AND m.at < $2 \
         GROUP BY p.id, p.code, p.name, p.supplier ORDER BY failures DESC, p.code"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, FailureRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(since)
        .bind(until)
        .fetch_all(p)
        .await?))
}

/// Failures per equipment model: the movement's equipment, `brand model` as one key.
pub async fn failures_by_model(db: &Db, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<FailureRow>> {
    let sql = "SELECT CAST(0 AS BIGINT) AS id, COALESCE(e.model, '') AS key, '' AS name, \
         CAST(COALESCE(SUM(m.qty), 0) AS BIGINT) AS failures, CAST(0 AS BIGINT) AS issued, '' AS supplier \
         FROM stock_movements m LEFT JOIN equipment e ON e.id = m.equipment_id \
         WHERE m.kind = 'defective_return' AND m.at >= $1 AND m.at < $2 \
         GROUP BY COALESCE(e.model, '') ORDER BY failures DESC, key";
    Ok(on_db!(db, |p| sqlx::query_as::<_, FailureRow>(sql).bind(since).bind(until).fetch_all(p).await?))
}

/// One line of a count sheet: a part held in the warehouse and its book quantity.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CountLine {
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub spec: Option<String>,
    pub unit: String,
    /// Usable on-hand in the books.
    pub book: i64,
}

/// Every part the warehouse has a stock row for, by code.
pub async fn count_sheet(db: &Db, warehouse_id: i64) -> Result<Vec<CountLine>> {
    let sql = "SELECT s.part_id, p.code AS part_code, p.name AS part_name, p.spec, p.unit, s.on_hand AS book \
        FROM stock s JOIN parts p ON p.id = s.part_id WHERE s.warehouse_id = $1 ORDER BY p.code";
    Ok(on_db!(db, |p| sqlx::query_as::<_, CountLine>(sql).bind(warehouse_id).fetch_all(p).await?))
}

/// Writes a catalogue import in one transaction: a new code is inserted, a known code
/// has its fields replaced (version + 1). Returns (created, updated).
pub async fn import_parts(db: &Db, w: &Writer, parts: &[NewPart], now: DateTime<Utc>) -> Result<(usize, usize)> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let (mut created, mut updated) = (0, 0);
        for p in parts {
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM parts WHERE code = $1")
                .bind(&p.code)
                .fetch_optional(&mut *tx)
                .await?;
            let after = Some(serde_json::to_value(p).unwrap_or_default());
            match existing {
                Some(id) => {
                    sqlx::query(
                        "UPDATE parts SET name = $2, spec = $3, unit = $4, category = $5, systems = $6, models = \
                            $7, critical = $8, \
                         supplier = $9, unit_cost_fen = $10, lead_time_days = $11, min_qty = $12, max_qty = $13, \
                         active = $14, \
                         version = version + 1, updated_at = $15 WHERE id = $1",
                    )
                    .bind(id)
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
                    .execute(&mut *tx)
                    .await?;
                    crate::audit::record(
                        &mut *tx,
                        w,
                        "part",
                        id,
                        "import",
                        &format!("{} {}", p.code, p.name),
                        None,
                        after,
                    )
                    .await?;
                    updated += 1;
                }
                None => {
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO parts (code, name, spec, unit, category, systems, models, critical, supplier, \
                            unit_cost_fen, \
                         lead_time_days, min_qty, max_qty, active, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) \
                         RETURNING id",
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
                        "import",
                        &format!("{} {}", p.code, p.name),
                        None,
                        after,
                    )
                    .await?;
                    created += 1;
                }
            }
        }
        tx.commit().await?;
        (created, updated)
    }))
}
