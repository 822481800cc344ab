//! Disposing of defective parts: takes units out of `stock.defective` with a conditional
//! update (never below zero), puts repaired ones back into usable on-hand, and appends the
//! ledger row and audit entry, all in one write transaction.

use crate::db::WritePool;
use crate::parts::{add_stock, next_movement_no, set_avg_cost};
use crate::{Db, Result, StoreError, Writer, map_write_err, on_db};
use aftercare_domain::defective::{NewDisposal, Outcome};
use aftercare_domain::parts::moving_average;
use chrono::{DateTime, Utc};

/// Posts one disposal; returns the movement's id. Not enough defective units is
/// `Insufficient` with the defective count left in `on_hand`.
pub async fn dispose(db: &Db, w: &Writer, d: &NewDisposal, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let catalogue_cost: i64 = sqlx::query_scalar("SELECT unit_cost_fen FROM parts WHERE id = $1")
            .bind(d.part_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::MissingReference { field: "part_id" })?;
        // The condition in the update is what keeps two disposals from taking the same
        // units: the loser re-checks it against the winner's result.
        let taken: Option<i64> = sqlx::query_scalar(
            "UPDATE stock SET defective = defective - $3 WHERE part_id = $1 AND warehouse_id = $2 AND defective >= $3 \
             RETURNING defective",
        )
        .bind(d.part_id)
        .bind(d.warehouse_id)
        .bind(d.qty)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(defective_after) = taken else {
            let left: Option<i64> =
                sqlx::query_scalar("SELECT defective FROM stock WHERE part_id = $1 AND warehouse_id = $2")
                    .bind(d.part_id)
                    .bind(d.warehouse_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(StoreError::Insufficient {
                part_id: d.part_id,
                warehouse_id: d.warehouse_id,
                on_hand: left.unwrap_or(0),
            });
        };
        let (kind, unit_cost_fen) = match d.outcome {
            Outcome::Repaired => {
                let (after, _, avg) = add_stock(&mut *tx, d.part_id, d.warehouse_id, d.qty, 0).await?;
                let before = after - d.qty;
                // Back at the current average, like a return (the catalogue price when
                // there has never been any).
                let cost = if before > 0 || avg > 0 { avg } else { catalogue_cost };
                let new_avg = moving_average(before, avg, d.qty, cost);
                if new_avg != avg {
                    set_avg_cost(&mut *tx, d.part_id, d.warehouse_id, new_avg).await?;
                }
                ("return", cost)
            }
            // A defective unit was never in the stock's value: nothing is written off.
            Outcome::Rma | Outcome::Scrap => ("scrap", 0_i64),
        };
        let movement_no = next_movement_no(&mut *tx, w, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO stock_movements (movement_no, kind, part_id, warehouse_id, qty, unit_cost_fen, note, \
                by_user_id, at, \
             balance_after, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&movement_no)
        .bind(kind)
        .bind(d.part_id)
        .bind(d.warehouse_id)
        .bind(d.qty)
        .bind(unit_cost_fen)
        .bind(&d.note)
        .bind(w.user_id)
        .bind(now)
        .bind(defective_after)
        .bind(d.outcome.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["movement_no"]))?;
        crate::audit::record(
            &mut *tx,
            w,
            "stock_movement",
            id,
            "dispose_defective",
            &movement_no,
            None,
            Some(serde_json::to_value(d).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

/// Stock rows holding defective parts (in `warehouse_id`, or all), warehouse then part
/// code; at most `limit`.
pub async fn defective_stock(db: &Db, warehouse_id: Option<i64>, limit: i64) -> Result<Vec<crate::parts::StockRow>> {
    let sql = format!(
        "{} WHERE s.defective > 0 AND ($1 IS NULL OR s.warehouse_id = $1) ORDER BY w.code, p.code LIMIT $2",
        crate::parts::STOCK_SELECT
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, crate::parts::StockRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(warehouse_id)
        .bind(limit)
        .fetch_all(p)
        .await?))
}
