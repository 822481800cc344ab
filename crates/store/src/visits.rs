//! Visits to a ticket's school: the record of each trip (times, work done, result, the
//! parts used and brought back, the school's signature), its photos, and what the
//! equipment pages read of them.

use crate::db::NullableText;
use crate::db::WritePool;
use crate::notifications::NewNotification;
use crate::tickets::{NewEvent, record_event};
use crate::{Db, Result, StoreError, Writer, map_write_err, on_db, write_once};
use aftercare_domain::tickets::{EventKind, VisitResult, VisitVerdict};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct VisitRow {
    pub id: i64,
    pub ticket_id: i64,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub work_done: String,
    #[sqlx(try_from = "String")]
    pub result: VisitResult,
    pub parts_used: Option<String>,
    pub defective_parts: Option<String>,
    pub signer_name: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
    /// The school signed this visit: [`SIGNED`], the one definition.
    pub signed: bool,
    /// 对客户说明/预防建议 and 工时 (minutes, all who went together).
    pub advice: Option<String>,
    pub labor_minutes: Option<i64>,
    /// The engineer's check (复核): the verdict, its note, who and when.
    #[sqlx(try_from = "NullableText")]
    pub review_verdict: Option<VisitVerdict>,
    pub review_note: Option<String>,
    pub reviewed_by: Option<i64>,
    pub reviewer_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Comma-separated user ids of who went.
    #[sqlx(default)]
    pub technician_ids: String,
}

/// A visit is signed when it carries both the school's name and its handwritten signature:
/// what an on-site resolve needs and what pages and printed forms show as signed.
macro_rules! signed {
    () => {
        "(v.signer_name IS NOT NULL AND v.signature_png IS NOT NULL)"
    };
}

const VISIT_COLUMNS: &str = concat!(
    "v.id, v.ticket_id, v.departed_at, v.arrived_at, v.finished_at, v.returned_at, v.work_done, v.result, \
    v.parts_used, v.defective_parts, v.signer_name, v.signed_at, ",
    signed!(),
    " AS signed, v.advice, v.labor_minutes, v.review_verdict, v.review_note, v.reviewed_by, \
    (SELECT r.display_name FROM users r WHERE r.id = v.reviewed_by) AS reviewer_name, v.reviewed_at, \
    v.created_by, v.created_at"
);

#[derive(Debug, Clone)]
pub struct VisitWrite {
    pub technician_ids: Vec<i64>,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub work_done: String,
    pub result: VisitResult,
    pub parts_used: Option<String>,
    pub defective_parts: Option<String>,
    pub signature: Option<(String, Vec<u8>)>,
    pub advice: Option<String>,
    pub labor_minutes: i64,
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
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE tickets SET arrived_at = COALESCE(arrived_at, $3), updated_at = $4, version = version + 1 WHERE \
                id = $1 AND version = $2",
        )
        .bind(ticket_id)
        .bind(version)
        .bind(v.arrived_at)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO visits (ticket_id, departed_at, arrived_at, finished_at, returned_at, work_done, result, \
                parts_used, defective_parts, \
             signer_name, signed_at, signature_png, created_by, created_at, advice, labor_minutes) VALUES ($1, $2, $3, \
             $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(ticket_id)
        .bind(v.departed_at)
        .bind(v.arrived_at)
        .bind(v.finished_at)
        .bind(v.returned_at)
        .bind(&v.work_done)
        .bind(v.result.as_str())
        .bind(&v.parts_used)
        .bind(&v.defective_parts)
        .bind(&signer)
        .bind(signed_at)
        .bind(&png)
        .bind(w.user_id)
        .bind(now)
        .bind(&v.advice)
        .bind(v.labor_minutes)
        .fetch_one(&mut *tx)
        .await?;
        for u in &v.technician_ids {
            sqlx::query("INSERT INTO visit_technicians (visit_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(u)
                .execute(&mut *tx)
                .await?;
        }
        if matches!(db, Db::Postgres(_)) {
            crate::parts::lock_stock_rows(&mut *tx, v.parts.iter().map(|l| (l.part_id, l.warehouse_id)).collect())
                .await?;
        }
        for l in &v.parts {
            // Usable stock is taken only if it is there (else the whole visit is undone);
            // a broken part goes to the separate defective count, never to usable stock.
            let (balance_after, cost): (i64, i64) =
                if l.defective {
                    sqlx::query(
                    "INSERT INTO stock (part_id, warehouse_id, on_hand, defective, avg_cost_fen) VALUES ($1, $2, 0, \
                        0, 0) \
                     ON CONFLICT (part_id, warehouse_id) DO NOTHING")
                    .bind(l.part_id).bind(l.warehouse_id).execute(&mut *tx).await?;
                    sqlx::query_as(
                    "UPDATE stock SET defective = defective + $3 WHERE part_id = $1 AND warehouse_id = $2 RETURNING \
                        defective, avg_cost_fen")
                    .bind(l.part_id).bind(l.warehouse_id).bind(l.qty).fetch_one(&mut *tx).await?
                } else {
                    crate::parts::take_stock(&mut *tx, l.part_id, l.warehouse_id, l.qty).await?
                };
            let kind = if l.defective { "defective_return" } else { "issue" };
            let movement_no = crate::parts::next_movement_no(&mut *tx, w, now).await?;
            let note = format!("visit {id}");
            let mid: i64 = sqlx::query_scalar(
                "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, unit_cost_fen, \
                    ticket_id, equipment_id, \
                 serial_no, old_serial_no, note, by_user_id, at, balance_after) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            )
            .bind(&movement_no)
            .bind(kind)
            .bind(l.part_id)
            .bind(l.warehouse_id)
            .bind(l.qty)
            .bind(cost)
            .bind(ticket_id)
            .bind(v.equipment_id)
            .bind(&l.serial_no)
            .bind(&l.old_serial_no)
            .bind(&note)
            .bind(w.user_id)
            .bind(now)
            .bind(balance_after)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| map_write_err(e, &["movement_no"]))?;
            crate::audit::record(
                &mut *tx,
                w,
                "stock_movement",
                mid,
                kind,
                &movement_no,
                None,
                Some(serde_json::json!({
                "part_id": l.part_id, "warehouse_id": l.warehouse_id, "qty": l.qty, "ticket_id": ticket_id,
                "equipment_id": v.equipment_id, "serial_no": l.serial_no, "old_serial_no": l.old_serial_no,
                    "visit_id": id})),
            )
            .await?;
        }
        let mut ev = event.clone();
        let mut data = ev.data.take().unwrap_or_else(|| serde_json::json!({}));
        data["visit_id"] = serde_json::json!(id);
        ev.data = Some(data);
        record_event(&mut *tx, w, ticket_id, &ev, now).await?;
        tx.commit().await?;
        id
    }))
}

/// Who went on visit `v`, as comma-separated ids (each backend's string aggregate).
fn technician_ids_sql(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => {
            "(SELECT COALESCE(group_concat(user_id, ','), '') FROM visit_technicians vt WHERE vt.visit_id = v.id)"
        }
        Db::Postgres(_) => {
            "(SELECT COALESCE(string_agg(user_id::text, ','), '') FROM visit_technicians vt WHERE vt.visit_id = v.id)"
        }
    }
}

pub async fn visits(db: &Db, ticket_id: i64) -> Result<Vec<VisitRow>> {
    let techs = technician_ids_sql(db);
    let sql =
        format!("SELECT {VISIT_COLUMNS}, {techs} AS technician_ids FROM visits v WHERE v.ticket_id = $1 ORDER BY v.id");
    Ok(on_db!(db, |p| sqlx::query_as::<_, VisitRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(ticket_id)
        .fetch_all(p)
        .await?))
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
    /// The part's model or specification (规格型号), for the printed record.
    pub part_spec: Option<String>,
    pub qty: i64,
    pub serial_no: Option<String>,
    pub old_serial_no: Option<String>,
}

/// Every stock movement linked to this piece of equipment, newest first.
pub async fn parts_of_equipment(db: &Db, equipment_id: i64) -> Result<Vec<EquipmentPartRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, EquipmentPartRow>(
        "SELECT m.movement_no, m.kind, m.at, m.ticket_id, t.number AS ticket_number, m.part_id, pa.code AS part_code, \
         pa.name AS part_name, pa.unit, pa.spec AS part_spec, m.qty, m.serial_no, m.old_serial_no \
         FROM stock_movements m JOIN parts pa ON pa.id = m.part_id LEFT JOIN tickets t ON t.id = m.ticket_id \
         WHERE m.equipment_id = $1 ORDER BY m.id DESC LIMIT 500"
    )
    .bind(equipment_id)
    .fetch_all(p)
    .await?))
}

/// The parts fitted (`issue`) and broken parts brought back (`defective_return`) on a
/// ticket's visits, oldest first: the printed record's 更换配件 and 旧件回收.
pub async fn parts_of_ticket(db: &Db, ticket_id: i64) -> Result<Vec<EquipmentPartRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, EquipmentPartRow>(
        "SELECT m.movement_no, m.kind, m.at, m.ticket_id, t.number AS ticket_number, m.part_id, pa.code AS part_code, \
         pa.name AS part_name, pa.unit, pa.spec AS part_spec, m.qty, m.serial_no, m.old_serial_no \
         FROM stock_movements m JOIN parts pa ON pa.id = m.part_id LEFT JOIN tickets t ON t.id = m.ticket_id \
         WHERE m.ticket_id = $1 AND m.kind IN ('issue', 'defective_return') ORDER BY m.id LIMIT 500"
    )
    .bind(ticket_id)
    .fetch_all(p)
    .await?))
}

/// Every visit to tickets that name this piece of equipment, newest first.
pub async fn visits_of_equipment(db: &Db, equipment_id: i64) -> Result<Vec<VisitRow>> {
    let sql = format!(
        "SELECT {VISIT_COLUMNS} FROM visits v JOIN ticket_equipment te ON te.ticket_id = v.ticket_id WHERE \
            te.equipment_id = $1 ORDER BY v.arrived_at DESC LIMIT 100"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, VisitRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(equipment_id)
        .fetch_all(p)
        .await?))
}

/// The signature image of a visit.
pub async fn signature(db: &Db, visit_id: i64) -> Result<Option<(i64, Vec<u8>)>> {
    let row: Option<(i64, Option<Vec<u8>>)> =
        on_db!(db, |p| sqlx::query_as("SELECT ticket_id, signature_png FROM visits WHERE id = $1")
            .bind(visit_id)
            .fetch_optional(p)
            .await?);
    Ok(row.and_then(|(t, png)| png.map(|p| (t, p))))
}

/// Is there a visit that failed after the last diagnosis (or any, if never diagnosed)?
pub async fn failed_visit_since_diagnosis(db: &Db, ticket_id: i64) -> Result<bool> {
    let n: i64 =
        on_db!(db, |p| {
            sqlx::query_scalar(
        "SELECT COUNT(*) FROM visits v WHERE v.ticket_id = $1 AND v.result IN ('not_fixed', 'escalated') AND NOT \
            EXISTS ( \
           SELECT 1 FROM ticket_events e WHERE e.ticket_id = $1 AND e.kind = 'diagnosis' AND e.at > v.created_at)")
        .bind(ticket_id).fetch_one(p).await?
        });
    Ok(n > 0)
}

pub async fn visits_ticket(db: &Db, visit_id: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT ticket_id FROM visits WHERE id = $1")
        .bind(visit_id)
        .fetch_optional(p)
        .await?))
}

/// Every user who went on a visit of this ticket.
pub async fn visit_technicians(db: &Db, ticket_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| {
        sqlx::query_scalar::<_, i64>(
        "SELECT DISTINCT vt.user_id FROM visit_technicians vt JOIN visits v ON v.id = vt.visit_id WHERE v.ticket_id \
            = $1 ORDER BY vt.user_id")
        .bind(ticket_id).fetch_all(p).await?
    }))
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
        "SELECT t.id, te.equipment_id, t.fault_type, t.closed_at FROM tickets t JOIN ticket_equipment te ON \
            te.ticket_id = t.id \
         WHERE te.equipment_id IN ({list}) AND t.status = 'closed' AND t.id <> $1"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, i64, Option<String>, Option<DateTime<Utc>>)>(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(except)
    .fetch_all(p)
    .await?))
}

// ---------------------------------------------------------------------------------------
// Visit photos and saved filters.

pub async fn add_photo(db: &Db, visit_id: i64, content_type: &str, data: &[u8], now: DateTime<Utc>) -> Result<i64> {
    Ok(write_once!(db, |c| sqlx::query_scalar::<_, i64>(
        "INSERT INTO visit_photos (visit_id, content_type, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id"
    )
    .bind(visit_id)
    .bind(content_type)
    .bind(data)
    .bind(now)
    .fetch_one(&mut *c)
    .await?))
}

/// The school a visit photo belongs to (the access check, before any bytes are read).
pub async fn photo_school(db: &Db, id: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>(
        "SELECT t.customer_id FROM visit_photos ph JOIN visits v ON v.id = ph.visit_id \
         JOIN tickets t ON t.id = v.ticket_id WHERE ph.id = $1"
    )
    .bind(id)
    .fetch_optional(p)
    .await?))
}

/// A photo with the ticket it belongs to: (ticket id, content type, bytes).
pub async fn photo(db: &Db, id: i64) -> Result<Option<(i64, String, Vec<u8>)>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, (i64, String, Vec<u8>)>(
            "SELECT v.ticket_id, ph.content_type, ph.data FROM visit_photos ph JOIN visits v ON v.id = ph.visit_id \
            WHERE ph.id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await?
    }))
}

/// Photo ids per visit of a ticket: (visit id, photo id).
pub async fn photos_of(db: &Db, ticket_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT ph.visit_id, ph.id FROM visit_photos ph JOIN visits v ON v.id = ph.visit_id WHERE v.ticket_id = $1 \
            ORDER BY ph.id",
        )
        .bind(ticket_id)
        .fetch_all(p)
        .await?
    }))
}

// ---------------------------------------------------------------------------------------
// The engineer's check of visits (复核, §2.4(4)).

/// One visit, with who went.
pub async fn visit(db: &Db, visit_id: i64) -> Result<Option<VisitRow>> {
    let sql =
        format!("SELECT {VISIT_COLUMNS}, {} AS technician_ids FROM visits v WHERE v.id = $1", technician_ids_sql(db));
    Ok(on_db!(db, |p| sqlx::query_as::<_, VisitRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(visit_id)
        .fetch_optional(p)
        .await?))
}

/// Records the check of a visit not yet checked, with its timeline entry, the technicians'
/// notifications and the audit entry, in one transaction. `Stale` when someone checked it
/// first.
pub async fn review(
    db: &Db,
    w: &Writer,
    visit: &VisitRow,
    verdict: VisitVerdict,
    note: Option<&str>,
    notify: &[NewNotification],
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE visits SET review_verdict = $2, review_note = $3, reviewed_by = $4, reviewed_at = $5 \
             WHERE id = $1 AND review_verdict IS NULL",
        )
        .bind(visit.id)
        .bind(verdict.as_str())
        .bind(note)
        .bind(w.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        let ev = NewEvent {
            note: note.map(str::to_owned),
            data: Some(serde_json::json!({"visit_id": visit.id, "verdict": verdict.as_str()})),
            ..NewEvent::new(EventKind::VisitReview)
        };
        record_event(&mut *tx, w, visit.ticket_id, &ev, now).await?;
        crate::notifications::record(&mut *tx, Some(visit.ticket_id), notify, now).await?;
        crate::audit::record(
            &mut *tx,
            w,
            "visit",
            visit.id,
            "review",
            verdict.as_str(),
            None,
            Some(serde_json::json!({"verdict": verdict.as_str(), "note": note, "ticket_id": visit.ticket_id})),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}
