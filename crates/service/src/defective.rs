//! Defective parts after they come back (issue 5): who may dispose of them and the checks
//! before the store takes them out of the defective count.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::defective::{DisposeInput, Outcome};
use aftercare_domain::parts::can_manage_stock;
use aftercare_domain::{FieldErrors, PartId, WarehouseId};
use aftercare_store::parts::{self as parts_store, MovementRow, StockRow};
use aftercare_store::{StoreError, defective as store};
use chrono::Utc;

/// A referenced record that does not exist is a field error, not a 404 of the request.
fn missing(field: &'static str) -> impl FnOnce(StoreError) -> ServiceError {
    move |e| match e {
        StoreError::NotFound => ServiceError::Invalid(FieldErrors::single(field, "not_found")),
        other => other.into(),
    }
}

impl Services {
    /// Repairs, returns to the vendor or scraps `qty` defective units. Bad input changes
    /// nothing; fewer defective units than `qty` is [`ServiceError::Insufficient`] naming
    /// the part, the warehouse and the defective count left (`on_hand`). Returns the
    /// ledger row and its outcome.
    pub async fn dispose_defective(&self, by: &Actor, input: &DisposeInput) -> Result<(MovementRow, Outcome)> {
        require(can_manage_stock(by))?;
        let d = input.validate()?;
        let part = parts_store::get_part(&self.db, d.part_id).await.map_err(missing("part_id"))?;
        let wh = parts_store::get_warehouse(&self.db, d.warehouse_id).await.map_err(missing("warehouse_id"))?;
        let id = store::dispose(&self.db, &self.writer(by), &d, Utc::now()).await.map_err(|e| match e {
            // The count left is the defective one; the web layer says so in the user's
            // language (`error.insufficient_defective`), since only a disposal answers this.
            StoreError::Insufficient { on_hand, .. } => ServiceError::Insufficient {
                part: format!("{} {}", part.code, part.name),
                warehouse: wh.name.clone(),
                on_hand,
            },
            other => other.into(),
        })?;
        if d.outcome == Outcome::Repaired {
            // Usable stock went up: an open shortage may close.
            self.check_stock_level(PartId(d.part_id), WarehouseId(d.warehouse_id), Utc::now()).await;
        }
        Ok((parts_store::get_movement(&self.db, id).await?, d.outcome))
    }
}

impl Services {
    /// Stock rows with defective parts waiting for a decision (at most 200).
    pub async fn defective_stock(&self, by: &Actor, warehouse_id: Option<WarehouseId>) -> Result<Vec<StockRow>> {
        require(aftercare_domain::parts::can_read_stock(by))?;
        Ok(store::defective_stock(&self.db, warehouse_id.map(i64::from), 200).await?)
    }
}
