//! Spare parts: who may keep the catalogue and warehouses and post stock movements, and
//! the checks before anything is written (DESIGN.md §2, §5; issue 5).

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::parts::{
    MovementInput, PartInput, WarehouseInput, WarehouseKind, can_manage_stock, can_post, can_read_stock,
};
use aftercare_domain::{FieldErrors, PartId, WarehouseId};
use aftercare_store::StoreError;
use aftercare_store::parts::{self as store, MovementWrite, Posted};

/// The rows and queries of this area, for the web crate (which does not name the store).
pub use aftercare_store::parts::{MovementQuery, MovementRow, PartQuery, PartRow, StockRow, WarehouseRow};
/// Paging of the lists.
pub use aftercare_store::{Page, Paged};
use chrono::{SubsecRound, Utc};

/// A referenced record that does not exist is a field error, not a 404 of the request.
fn missing(field: &'static str) -> impl FnOnce(StoreError) -> ServiceError {
    move |e| match e {
        StoreError::NotFound => ServiceError::Invalid(FieldErrors::single(field, "not_found")),
        other => other.into(),
    }
}

/// A part as the API shows it: the row plus its cost in yuan.
pub fn part_input_of(p: &PartRow) -> PartInput {
    PartInput {
        code: Some(p.code.clone()),
        name: Some(p.name.clone()),
        spec: p.spec.clone(),
        unit: Some(p.unit.clone()),
        category: p.category.clone(),
        systems: p.systems.clone(),
        models: p.models.clone(),
        critical: Some(p.critical),
        supplier: p.supplier.clone(),
        unit_cost: Some(aftercare_domain::parts::fen_to_yuan(p.unit_cost_fen)),
        lead_time_days: p.lead_time_days,
        min_qty: Some(p.min_qty),
        max_qty: p.max_qty,
        active: Some(p.active),
    }
}

/// `patch` over `base`: a field the patch leaves out keeps its value; an empty string
/// clears an optional text.
fn merge_part(base: PartInput, patch: &PartInput) -> PartInput {
    PartInput {
        code: patch.code.clone().or(base.code),
        name: patch.name.clone().or(base.name),
        spec: patch.spec.clone().or(base.spec),
        unit: patch.unit.clone().or(base.unit),
        category: patch.category.clone().or(base.category),
        systems: patch.systems.clone().or(base.systems),
        models: patch.models.clone().or(base.models),
        critical: patch.critical.or(base.critical),
        supplier: patch.supplier.clone().or(base.supplier),
        unit_cost: patch.unit_cost.or(base.unit_cost),
        lead_time_days: patch.lead_time_days.or(base.lead_time_days),
        min_qty: patch.min_qty.or(base.min_qty),
        max_qty: patch.max_qty.or(base.max_qty),
        active: patch.active.or(base.active),
    }
}

impl Services {
    pub async fn create_part(&self, by: &Actor, input: &PartInput) -> Result<PartRow> {
        require(can_manage_stock(by))?;
        let p = input.validate()?;
        let id = store::create_part(&self.db, &self.writer(by), &p, Utc::now()).await?;
        Ok(store::get_part(&self.db, id).await?)
    }

    /// Changes the fields given; `version`, when given, must be the current one.
    pub async fn update_part(
        &self,
        by: &Actor,
        id: PartId,
        version: Option<i64>,
        patch: &PartInput,
    ) -> Result<PartRow> {
        require(can_manage_stock(by))?;
        let id = id.0;
        let before = store::get_part(&self.db, id).await?;
        let p = merge_part(part_input_of(&before), patch).validate()?;
        store::update_part(&self.db, &self.writer(by), id, version, &p, Utc::now()).await?;
        Ok(store::get_part(&self.db, id).await?)
    }

    pub async fn get_part(&self, by: &Actor, id: PartId) -> Result<PartRow> {
        require(can_read_stock(by))?;
        Ok(store::get_part(&self.db, id.0).await?)
    }

    pub async fn list_parts(&self, by: &Actor, q: &PartQuery, page: Page) -> Result<Paged<PartRow>> {
        require(can_read_stock(by))?;
        Ok(store::list_parts(&self.db, q, page).await?)
    }

    async fn check_holder(&self, input: &WarehouseInput) -> Result<()> {
        if let Some(u) = input.holder_user_id {
            aftercare_store::users::get(&self.db, u).await.map_err(missing("holder_user_id"))?;
        }
        Ok(())
    }

    pub async fn create_warehouse(&self, by: &Actor, input: &WarehouseInput) -> Result<WarehouseRow> {
        require(can_manage_stock(by))?;
        let h = input.validate()?;
        self.check_holder(input).await?;
        let id = store::create_warehouse(&self.db, &self.writer(by), &h, Utc::now()).await?;
        Ok(store::get_warehouse(&self.db, id).await?)
    }

    /// Changes the fields given.
    pub async fn update_warehouse(&self, by: &Actor, id: WarehouseId, patch: &WarehouseInput) -> Result<WarehouseRow> {
        require(can_manage_stock(by))?;
        let id = id.0;
        let b = store::get_warehouse(&self.db, id).await?;
        let input = WarehouseInput {
            code: patch.code.clone().or(Some(b.code)),
            name: patch.name.clone().or(Some(b.name)),
            kind: patch.kind.clone().or(Some(b.kind.as_str().to_string())),
            holder_user_id: patch.holder_user_id.or(b.holder_user_id),
            active: patch.active.or(Some(b.active)),
        };
        let h = input.validate()?;
        self.check_holder(&input).await?;
        store::update_warehouse(&self.db, &self.writer(by), id, &h, Utc::now()).await?;
        Ok(store::get_warehouse(&self.db, id).await?)
    }

    pub async fn get_warehouse(&self, by: &Actor, id: WarehouseId) -> Result<WarehouseRow> {
        require(can_read_stock(by))?;
        Ok(store::get_warehouse(&self.db, id.0).await?)
    }

    pub async fn list_warehouses(&self, by: &Actor) -> Result<Vec<WarehouseRow>> {
        require(can_read_stock(by))?;
        Ok(store::list_warehouses(&self.db).await?)
    }

    pub async fn stock(
        &self,
        by: &Actor,
        part_id: Option<PartId>,
        warehouse_id: Option<WarehouseId>,
        page: Page,
    ) -> Result<Paged<StockRow>> {
        require(can_read_stock(by))?;
        Ok(store::stock(&self.db, part_id.map(i64::from), warehouse_id.map(i64::from), page).await?)
    }

    pub async fn movements(&self, by: &Actor, q: &MovementQuery, page: Page) -> Result<Paged<MovementRow>> {
        require(can_read_stock(by))?;
        Ok(store::movements(&self.db, q, page).await?)
    }

    /// Posts one ledger movement. Bad input (a zero quantity, an unknown part or warehouse,
    /// a transfer to the same warehouse) changes nothing; not enough stock is
    /// [`ServiceError::Insufficient`], naming the part and what is left.
    pub async fn post_movement(&self, by: &Actor, input: &MovementInput) -> Result<MovementRow> {
        require(can_read_stock(by))?;
        let m = input.validate()?;
        require(can_post(by, m.kind))?;
        // A technician's movement is bounded by the ledger; checked and written under one
        // lock so that concurrent returns cannot each spend the same allowance.
        let _bounded = if can_manage_stock(by) {
            None
        } else {
            let guard = self.technician_moves.clone().lock_owned().await;
            self.check_technician_movement(by, &m).await?;
            Some(guard)
        };
        // The part and the warehouses are looked up by the write itself (`Posted::Missing`).
        if let Some(t) = m.ticket_id {
            aftercare_store::tickets::get(&self.db, t).await.map_err(missing("ticket_id"))?;
        }
        if let Some(e) = m.equipment_id {
            aftercare_store::equipment::get(&self.db, e).await.map_err(missing("equipment_id"))?;
        }
        let item = MovementWrite { movement: m, now: Utc::now().trunc_subsecs(6), expect_on_hand: None };
        // Written with whatever movements arrive meanwhile; the reserve-quota check of the
        // rows it touched is part of the same transaction.
        match self.movements.write(&self.db, self.writer(by), item).await? {
            Posted::Done(row, raised) => {
                for alert in raised {
                    self.mail_shortage(alert).await;
                }
                Ok(*row)
            }
            Posted::Short { part, warehouse, on_hand } => Err(ServiceError::Insufficient { part, warehouse, on_hand }),
            Posted::Missing(field) => {
                Err(ServiceError::Invalid(FieldErrors::single(field, "not_found").in_area("stock")))
            }
        }
    }

    /// What a technician may post: a transfer out of his own vehicle into a depot, a
    /// return of no more than his requisitions issued to him (less what he returned), and
    /// defective parts against a ticket he was sent to, no more than were fitted there.
    async fn check_technician_movement(&self, by: &Actor, m: &aftercare_domain::parts::NewMovement) -> Result<()> {
        use aftercare_domain::parts::MovementKind as K;
        let over = |field: &'static str, code: &'static str| {
            Err(ServiceError::Invalid(FieldErrors::single(field, code).in_area("stock")))
        };
        match m.kind {
            K::Transfer => {
                let from = aftercare_store::parts::get_warehouse(&self.db, m.warehouse_id)
                    .await
                    .map_err(missing("warehouse_id"))?;
                require(from.holder_user_id == Some(by.id.0))?;
                if let Some(to) = m.to_warehouse_id {
                    let to = aftercare_store::parts::get_warehouse(&self.db, to)
                        .await
                        .map_err(missing("to_warehouse_id"))?;
                    require(to.kind == WarehouseKind::Depot)?;
                }
                Ok(())
            }
            K::Return => {
                let a = aftercare_store::parts::return_allowance(&self.db, by.id.0, m.part_id, None).await?;
                if m.qty > a.issued { over("qty", "exceeds_issued") } else { Ok(()) }
            }
            K::DefectiveReturn => {
                let Some(ticket) = m.ticket_id else { return over("ticket_id", "required") };
                let d = self.get_ticket(by, aftercare_domain::TicketId(ticket)).await?;
                require(d.technician_ids.contains(&by.id.0))?;
                let a = aftercare_store::parts::return_allowance(&self.db, by.id.0, m.part_id, Some(ticket)).await?;
                if m.qty > a.used_on_ticket { over("qty", "exceeds_used") } else { Ok(()) }
            }
            _ => Err(ServiceError::Forbidden),
        }
    }
}
