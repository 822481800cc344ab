//! Requisitions (领用单/领条) and the issue ledger report (领用记录表).
//!
//! A status change is a conditional update (`… WHERE status = <expected>`): of two people
//! acting at once, one wins and the other gets `Stale`. Issuing changes the status and
//! posts every line's movement in ONE write transaction through
//! [`crate::parts::issue_in_tx`]: when one line lacks stock the whole transaction is
//! dropped and nothing is issued. When the requester holds a vehicle stock (随车备件) the
//! lines are `transfer`s into it, because the visit form then takes the parts used from
//! the vehicle: issuing them out of the depot as well would count them twice. Without
//! one they are `issue`s.

use crate::db::{Arg, Filter, WritePool};
use crate::parts::{Outgoing, add_stock, issue_in_tx, next_movement_no, set_avg_cost};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, on_db};
use aftercare_domain::UserId;
use aftercare_domain::parts::MovementKind;
use aftercare_domain::requisitions::{IssueType, NewRequisition, ReqFacts, ReqStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RequisitionRow {
    pub id: i64,
    /// e.g. `LY20261127-0003`.
    pub requisition_no: String,
    pub requester_id: i64,
    pub requester_name: String,
    pub warehouse_id: i64,
    pub warehouse_name: String,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub purpose: Option<String>,
    /// `issue` or `borrow`.
    #[sqlx(try_from = "String")]
    pub issue_type: IssueType,
    /// `requested|approved|rejected|issued|cancelled|returned` (a borrow taken back).
    #[sqlx(try_from = "String")]
    pub status: ReqStatus,
    /// Who approved or rejected.
    pub approver_id: Option<i64>,
    pub approver_name: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    /// The approval note, or the reason for a rejection.
    pub approval_note: Option<String>,
    pub issuer_id: Option<i64>,
    pub issuer_name: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub issue_note: Option<String>,
    pub cancel_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A borrow taken back: when, by whom, with what note.
    pub returned_at: Option<DateTime<Utc>>,
    pub returned_by_name: Option<String>,
    pub return_note: Option<String>,
}

impl RequisitionRow {
    /// What decides the actions open on it (`aftercare_domain::requisitions::check_action`).
    pub fn facts(&self) -> ReqFacts {
        ReqFacts { status: self.status, issue_type: self.issue_type, requester_id: UserId(self.requester_id) }
    }

    /// Issued and lent: still to come back (已借出).
    pub fn lent_out(&self) -> bool {
        self.facts().lent_out()
    }
}

const REQ_SELECT: &str = "SELECT r.id, r.requisition_no, r.requester_id, ru.display_name AS requester_name, \
    r.warehouse_id, \
    w.name AS warehouse_name, r.ticket_id, t.number AS ticket_number, r.purpose, r.issue_type, r.status, \
    r.approver_id, \
    au.display_name AS approver_name, r.approved_at, r.approval_note, r.issuer_id, iu.display_name AS issuer_name, \
    r.issued_at, \
    r.issue_note, r.cancel_reason, r.requested_at, r.updated_at, r.returned_at, bu.display_name AS \
    returned_by_name, r.return_note \
    FROM requisitions r JOIN users ru ON ru.id = r.requester_id \
    JOIN warehouses w ON w.id = r.warehouse_id LEFT JOIN tickets t ON t.id = r.ticket_id \
    LEFT JOIN users au ON au.id = r.approver_id LEFT JOIN users iu ON iu.id = r.issuer_id \
    LEFT JOIN users bu ON bu.id = r.returned_by";

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RequisitionLineRow {
    pub id: i64,
    pub requisition_id: i64,
    pub line_no: i64,
    pub part_id: i64,
    pub part_code: String,
    pub part_name: String,
    pub spec: Option<String>,
    pub unit: String,
    pub qty_requested: i64,
    /// Set when issued (0 for a line not given).
    pub qty_issued: Option<i64>,
    pub serial_no: Option<String>,
    /// The average cost at issue, in fen.
    pub unit_cost_fen: Option<i64>,
    /// qty_issued × unit_cost_fen.
    pub amount_fen: Option<i64>,
    /// The movement this line posted: an `issue`, or a `transfer` into the requester's
    /// vehicle stock.
    pub movement_id: Option<i64>,
}

const LINE_SELECT: &str = "SELECT l.id, l.requisition_id, l.line_no, l.part_id, p.code AS part_code, p.name AS \
    part_name, \
    p.spec, p.unit, l.qty_requested, l.qty_issued, l.serial_no, l.unit_cost_fen, l.amount_fen, l.movement_id \
    FROM requisition_lines l JOIN parts p ON p.id = l.part_id";

pub async fn create(db: &Db, w: &Writer, requester_id: i64, r: &NewRequisition, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let day = w.number_day(now);
        let n = crate::parts::next_number(&mut *tx, &format!("requisition:{day}")).await?;
        let no = format!("LY{day}-{n:04}");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO requisitions (requisition_no, requester_id, warehouse_id, ticket_id, purpose, issue_type, \
                status, \
             requested_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'requested', $7, $7) RETURNING id",
        )
        .bind(&no)
        .bind(requester_id)
        .bind(r.warehouse_id)
        .bind(r.ticket_id)
        .bind(&r.purpose)
        .bind(r.issue_type.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| crate::map_write_err(e, &["requisition_no"]))?;
        for (i, l) in r.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO requisition_lines (requisition_id, line_no, part_id, qty_requested, serial_no) VALUES \
                    ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(i as i64 + 1)
            .bind(l.part_id)
            .bind(l.qty_requested)
            .bind(&l.serial_no)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::map_write_err(e, &["part_id"]))?;
        }
        crate::audit::record(
            &mut *tx,
            w,
            "requisition",
            id,
            "create",
            &no,
            None,
            Some(serde_json::to_value(r).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<RequisitionRow> {
    let sql = format!("{REQ_SELECT} WHERE r.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, RequisitionRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

pub async fn lines(db: &Db, id: i64) -> Result<Vec<RequisitionLineRow>> {
    let sql = format!("{LINE_SELECT} WHERE l.requisition_id = $1 ORDER BY l.line_no");
    Ok(on_db!(db, |p| sqlx::query_as::<_, RequisitionLineRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_all(p)
        .await?))
}

#[derive(Debug, Clone, Default)]
pub struct RequisitionQuery {
    pub requester_id: Option<i64>,
    pub status: Option<ReqStatus>,
    pub issue_type: Option<IssueType>,
    /// Oldest issue first (the borrows to chase), instead of newest first.
    pub oldest_issued_first: bool,
    pub ticket_id: Option<i64>,
    pub warehouse_id: Option<i64>,
}

/// Requisitions, newest first.
pub async fn list(db: &Db, q: &RequisitionQuery, page: Page) -> Result<Paged<RequisitionRow>> {
    let mut f = Filter::default();
    for (col, v) in
        [("r.requester_id", q.requester_id), ("r.ticket_id", q.ticket_id), ("r.warehouse_id", q.warehouse_id)]
    {
        if let Some(v) = v {
            let a = f.arg(Arg::I64(v));
            f.and(format!("{col} = {a}"));
        }
    }
    if let Some(s) = &q.status {
        let a = f.arg(Arg::Text(s.as_str().to_string()));
        f.and(format!("r.status = {a}"));
    }
    if let Some(t) = &q.issue_type {
        let a = f.arg(Arg::Text(t.as_str().to_string()));
        f.and(format!("r.issue_type = {a}"));
    }
    let w = f.where_sql();
    let order = if q.oldest_issued_first { "r.issued_at, r.id" } else { "r.id DESC" };
    let sql = format!("{REQ_SELECT} {w} ORDER BY {order} {}", page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM requisitions r {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, RequisitionRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

/// Approves (`to` = `approved`) or rejects (`rejected`) a requisition still `requested`;
/// `Stale` if it no longer is.
pub async fn decide(
    db: &Db,
    w: &Writer,
    id: i64,
    to: ReqStatus,
    by: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE requisitions SET status = $2, approver_id = $3, approved_at = $4, approval_note = $5, \
                updated_at = $4 \
             WHERE id = $1 AND status = 'requested'",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(by)
        .bind(now)
        .bind(note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(&mut *tx, w, "requisition", id, to.as_str(), note.unwrap_or_default(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Cancels a requisition still `requested`; `Stale` if it no longer is.
pub async fn cancel(db: &Db, w: &Writer, id: i64, reason: &str, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE requisitions SET status = 'cancelled', cancel_reason = $2, updated_at = $3 WHERE id = $1 AND \
                status = 'requested'",
        )
        .bind(id)
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(&mut *tx, w, "requisition", id, "cancel", reason, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Issues an `approved` requisition: `qty` is (line id, quantity to issue) for every
/// line. One transaction: the status, one movement per line with a quantity (linked to
/// the requisition's ticket) — a `transfer` into the requester's active vehicle
/// warehouse when he holds one (other than the warehouse issued from), else an `issue` —
/// the lines' issued quantities and costs. Not
/// enough stock of any line is `Insufficient` and nothing is written; not `approved` any
/// more is `Stale`.
pub async fn issue(
    db: &Db,
    w: &Writer,
    id: i64,
    qty: &[(i64, i64)],
    by: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut todo: Vec<(i64, i64, i64, Option<String>)> = Vec::with_capacity(qty.len());
    for l in lines(db, id).await? {
        let q = qty.iter().find(|(lid, _)| *lid == l.id).map_or(l.qty_requested, |(_, q)| *q);
        todo.push((l.id, l.part_id, q, l.serial_no));
    }
    // PostgreSQL: requisitions issued at the same time lock their stock rows in one order
    // (by part), so two slips with the same parts cannot wait for each other.
    todo.sort_by_key(|(lid, part, _, _)| (*part, *lid));
    let postgres = matches!(db, Db::Postgres(_));
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let r: Option<(i64, Option<i64>, String)> = sqlx::query_as(
            "UPDATE requisitions SET status = 'issued', issuer_id = $2, issued_at = $3, issue_note = $4, updated_at \
                = $3 \
             WHERE id = $1 AND status = 'approved' RETURNING warehouse_id, ticket_id, requisition_no",
        )
        .bind(id)
        .bind(by)
        .bind(now)
        .bind(note)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((wh, ticket, no)) = r else {
            return Err(StoreError::Stale);
        };
        // The lowest id when someone holds several, so the choice is stable.
        let vehicle: Option<i64> = sqlx::query_scalar(
            "SELECT w.id FROM warehouses w JOIN requisitions r ON r.requester_id = w.holder_user_id \
             WHERE r.id = $1 AND w.kind = 'vehicle' AND w.active AND w.id <> r.warehouse_id ORDER BY w.id LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if postgres {
            let pairs = todo
                .iter()
                .filter(|l| l.2 > 0)
                .flat_map(|(_, part, _, _)| std::iter::once((*part, wh)).chain(vehicle.map(|v| (*part, v))));
            crate::parts::lock_stock_rows(&mut *tx, pairs.collect()).await?;
        }
        let movement_note = format!("领用单 {no}");
        for (lid, part, q, serial) in &todo {
            if *q > 0 {
                let out = Outgoing {
                    part: *part,
                    from: wh,
                    to: vehicle,
                    qty: *q,
                    ticket,
                    serial: serial.as_deref(),
                    note: Some(&movement_note),
                    now,
                    postgres,
                };
                let (mid, cost) = issue_in_tx(&mut *tx, w, &out).await?;
                sqlx::query(
                    "UPDATE requisition_lines SET qty_issued = $2, unit_cost_fen = $3, amount_fen = $4, movement_id \
                        = $5 WHERE id = $1",
                )
                .bind(*lid)
                .bind(*q)
                .bind(cost)
                .bind(cost.saturating_mul(*q))
                .bind(mid)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query("UPDATE requisition_lines SET qty_issued = 0 WHERE id = $1")
                    .bind(*lid)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        crate::audit::record(
            &mut *tx,
            w,
            "requisition",
            id,
            "issue",
            &no,
            None,
            Some(serde_json::json!(
                todo.iter()
                    .map(|(lid, part, q, _)| serde_json::json!({"line_id": lid, "part_id": part, "qty": q}))
                    .collect::<Vec<_>>()
            )),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// One line of a borrow as it went out: (line id, part, qty issued, unit cost in fen, the
/// vehicle it went into, serial number).
type LentLine = (i64, i64, i64, Option<i64>, Option<i64>, Option<String>);

/// Takes a borrow (借用) back: marks it `returned` and, in the same transaction, puts every
/// issued unit back where it came from — a `transfer` out of the borrower's vehicle when
/// the issue went there, else a `return` into the issuing warehouse at the cost it left
/// at. `Stale` when it is no longer an issued borrow; `Insufficient` (nothing written) when
/// the vehicle no longer holds what was lent.
pub async fn return_borrowed(
    db: &Db,
    w: &Writer,
    id: i64,
    by: i64,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    let postgres = matches!(db, Db::Postgres(_));
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let r: Option<(i64, Option<i64>, String)> = sqlx::query_as(
            "UPDATE requisitions SET status = 'returned', returned_at = $2, returned_by = $3, return_note = $4, \
                updated_at = $2 \
             WHERE id = $1 AND status = 'issued' AND issue_type = 'borrow' RETURNING warehouse_id, ticket_id, \
             requisition_no",
        )
        .bind(id)
        .bind(now)
        .bind(by)
        .bind(note)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((wh, ticket, no)) = r else {
            return Err(StoreError::Stale);
        };
        let lines: Vec<LentLine> = sqlx::query_as(
            "SELECT l.id, l.part_id, l.qty_issued, l.unit_cost_fen, m.to_warehouse_id, l.serial_no FROM \
                requisition_lines l \
             LEFT JOIN stock_movements m ON m.id = l.movement_id WHERE l.requisition_id = $1 AND l.qty_issued > 0 \
             ORDER BY l.part_id, l.id",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        if postgres {
            let pairs = lines.iter().flat_map(|(_, part, _, _, vehicle, _)| {
                std::iter::once((*part, wh)).chain(vehicle.map(|v| (*part, v)))
            });
            crate::parts::lock_stock_rows(&mut *tx, pairs.collect()).await?;
        }
        let movement_note = format!("归还 {no}");
        for (line, part, qty, cost, vehicle, serial) in &lines {
            // Out of the vehicle it went to (at the vehicle's average cost, as any transfer),
            // else back into the warehouse at the cost it left at.
            let mid = if let Some(v) = vehicle {
                let out = Outgoing {
                    part: *part,
                    from: *v,
                    to: Some(wh),
                    qty: *qty,
                    ticket,
                    serial: serial.as_deref(),
                    note: Some(&movement_note),
                    now,
                    postgres,
                };
                issue_in_tx(&mut *tx, w, &out).await?.0
            } else {
                let (after, _, avg) = add_stock(&mut *tx, *part, wh, *qty, 0).await?;
                let cost = cost.unwrap_or(avg);
                let new_avg = aftercare_domain::parts::moving_average(after - qty, avg, *qty, cost);
                if new_avg != avg {
                    set_avg_cost(&mut *tx, *part, wh, new_avg).await?;
                }
                let movement_no = next_movement_no(&mut *tx, w, now).await?;
                let mid: i64 = sqlx::query_scalar(
                    "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, unit_cost_fen, \
                    ticket_id, serial_no, note, \
                 by_user_id, at, balance_after) VALUES ($1, 'return', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 RETURNING id",
                )
                .bind(&movement_no)
                .bind(*part)
                .bind(wh)
                .bind(*qty)
                .bind(cost)
                .bind(ticket)
                .bind(serial)
                .bind(&movement_note)
                .bind(w.user_id)
                .bind(now)
                .bind(after)
                .fetch_one(&mut *tx)
                .await?;
                crate::audit::record(
                    &mut *tx,
                    w,
                    "stock_movement",
                    mid,
                    "return",
                    &movement_no,
                    None,
                    Some(serde_json::json!({"part_id": part, "warehouse_id": wh, "qty": qty, "requisition_id": id})),
                )
                .await?;
                mid
            };
            sqlx::query("UPDATE requisition_lines SET return_movement_id = $2 WHERE id = $1")
                .bind(*line)
                .bind(mid)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::record(
            &mut *tx,
            w,
            "requisition",
            id,
            "return",
            &no,
            None,
            Some(serde_json::json!({"note": note})),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// One row of the issue ledger report (《备件仓库领用记录表》): an `issue` or a `return`
/// movement, or the `transfer` a requisition posted into a vehicle stock, with the
/// requisition it came from, when there is one.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LedgerRow {
    pub movement_id: i64,
    pub movement_no: String,
    #[sqlx(try_from = "String")]
    pub kind: MovementKind,
    pub at: DateTime<Utc>,
    pub part_code: String,
    pub part_name: String,
    pub spec: Option<String>,
    pub unit: String,
    pub warehouse_name: String,
    pub qty: i64,
    pub unit_cost_fen: i64,
    pub balance_after: i64,
    pub by_name: Option<String>,
    pub ticket_number: Option<String>,
    pub requisition_no: Option<String>,
    pub requester_name: Option<String>,
    pub approver_name: Option<String>,
    pub purpose: Option<String>,
}

/// Issues, returns of unused parts and requisition transfers (out to a vehicle, and a lent
/// tool's way back) between `from` (inclusive) and `to` (exclusive), optionally of one
/// warehouse, oldest first; at most `limit` rows.
pub async fn ledger(
    db: &Db,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    warehouse_id: Option<i64>,
    limit: i64,
) -> Result<Vec<LedgerRow>> {
    let mut f = Filter::default();
    let a = f.arg(Arg::Time(from));
    f.and(format!("m.at >= {a}"));
    let a = f.arg(Arg::Time(to));
    f.and(format!("m.at < {a}"));
    // A repaired defective part rejoining stock is a `return` row too, but no unused part
    // handed back: the issue ledger (领用记录表) leaves disposals out.
    f.and("(m.kind = 'issue' OR (m.kind = 'return' AND m.outcome IS NULL) OR l.id IS NOT NULL)".to_string());
    if let Some(wh) = warehouse_id {
        // A lent tool taken back out of a vehicle comes into this warehouse.
        let a = f.arg(Arg::I64(wh));
        f.and(format!("(m.warehouse_id = {a} OR (l.return_movement_id = m.id AND m.to_warehouse_id = {a}))"));
    }
    let w = f.where_sql();
    let n = f.args.len();
    let sql = format!(
        "SELECT m.id AS movement_id, m.movement_no, m.kind, m.at, p.code AS part_code, p.name AS part_name, p.spec, \
            p.unit, \
         wh.name AS warehouse_name, m.qty, m.unit_cost_fen, m.balance_after, u.display_name AS by_name, t.number AS \
         ticket_number, \
         r.requisition_no, ru.display_name AS requester_name, au.display_name AS approver_name, r.purpose \
         FROM stock_movements m JOIN parts p ON p.id = m.part_id JOIN warehouses wh ON wh.id = m.warehouse_id \
         LEFT JOIN users u ON u.id = m.by_user_id LEFT JOIN tickets t ON t.id = m.ticket_id \
         LEFT JOIN requisition_lines l ON l.movement_id = m.id OR l.return_movement_id = m.id \
         LEFT JOIN requisitions r ON r.id = l.requisition_id \
         LEFT JOIN users ru ON ru.id = r.requester_id LEFT JOIN users au ON au.id = r.approver_id \
         {w} ORDER BY m.at, m.id LIMIT ${}",
        n + 1
    );
    Ok(on_db!(db, |p| bind_args!(sqlx::query_as::<_, LedgerRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
        .bind(limit)
        .fetch_all(p)
        .await?))
}
