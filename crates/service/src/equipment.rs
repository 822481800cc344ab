//! Equipment: the installed base, its rules and its history.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::EquipmentId;
use aftercare_domain::equipment::EquipmentInput;
pub use aftercare_domain::equipment::WarrantyState;
pub use aftercare_store::Page;
use aftercare_store::Paged;
pub use aftercare_store::audit::AuditEntry;
use aftercare_store::audit::AuditQuery;
pub use aftercare_store::customers::{CustomerQuery, CustomerRow};
pub use aftercare_store::equipment::{EquipmentQuery, EquipmentRow};
pub use aftercare_store::tickets::TicketRow;
pub use aftercare_store::visits::{EquipmentPartRow, VisitRow};

/// Everything the equipment page shows, read in one call with a fixed number of queries
/// (one per list, whatever the number of tickets, visits or parts).
#[derive(Debug, Clone)]
pub struct EquipmentView {
    pub equipment: EquipmentRow,
    /// The warranty as of today.
    pub warranty: WarrantyState,
    /// Its changes from the audit trail (staff only: they name who changed what; empty else).
    pub history: Vec<AuditEntry>,
    pub tickets: Vec<TicketRow>,
    pub visits: Vec<VisitRow>,
    /// Parts fitted to and taken out of it (those who may read stock; empty else).
    pub parts: Vec<EquipmentPartRow>,
    /// Upgrade and replacement suggestions for it (staff only), newest first.
    pub suggestions: Vec<crate::suggestions::SuggestionRow>,
    /// The viewer may suggest an upgrade or replacement.
    pub can_suggest: bool,
    /// The inspection lines that looked at it on completed rounds, latest first.
    pub inspection_lines: Vec<crate::inspections::EquipmentLineRow>,
}

impl Services {
    /// The equipment page: the piece and everything shown beside it, scoped to the actor.
    pub async fn equipment_view(&self, by: &Actor, id: EquipmentId) -> Result<EquipmentView> {
        let equipment = self.get_equipment(by, id).await?;
        // The same day the list filters by (`EquipmentQuery.today` defaults to it).
        let today = chrono::Utc::now().date_naive();
        let warranty = aftercare_domain::equipment::warranty_state(equipment.warranty_until, today);
        let history = if by.is_staff() { self.equipment_audit(id).await? } else { Vec::new() };
        let (tickets, visits) = self.equipment_tickets_visits(by, id).await?;
        let parts = if aftercare_domain::parts::can_read_stock(by) {
            aftercare_store::visits::parts_of_equipment(&self.db, id.0).await?
        } else {
            Vec::new()
        };
        let suggestions = if by.is_staff() {
            aftercare_store::suggestions::list(&self.db, None, Some(id.0), Page::new(Some(1), Some(50))).await?.items
        } else {
            Vec::new()
        };
        let can_suggest = crate::suggestions::may_suggest(by);
        // Seeing the piece is the permission (a school its own): the lines are of its rounds.
        let inspection_lines = self.equipment_inspection_lines(id.0).await?;
        Ok(EquipmentView {
            equipment,
            warranty,
            history,
            tickets,
            visits,
            parts,
            suggestions,
            can_suggest,
            inspection_lines,
        })
    }

    async fn equipment_audit(&self, id: EquipmentId) -> Result<Vec<AuditEntry>> {
        let q = AuditQuery { entity: Some("equipment".into()), entity_id: Some(id.0), ..Default::default() };
        Ok(aftercare_store::audit::list(&self.db, &q, Page::new(Some(1), Some(200))).await?.items)
    }

    async fn equipment_tickets_visits(&self, by: &Actor, id: EquipmentId) -> Result<(Vec<TicketRow>, Vec<VisitRow>)> {
        let q = aftercare_store::tickets::TicketQuery {
            equipment_id: Some(id.0),
            scope: by.customer_scope().map(|c| c.0),
            ..Default::default()
        };
        let tickets = aftercare_store::tickets::list(&self.db, &q, Page::new(Some(1), Some(100))).await?.items;
        let visits = aftercare_store::visits::visits_of_equipment(&self.db, id.0).await?;
        Ok((tickets, visits))
    }

    pub async fn create_equipment(&self, by: &Actor, input: &EquipmentInput) -> Result<EquipmentRow> {
        require(by.can_edit_installed_base())?;
        let e = input.validate()?;
        let id = aftercare_store::equipment::create(&self.db, &self.writer(by), &e).await?;
        Ok(aftercare_store::equipment::get(&self.db, id).await?)
    }

    pub async fn update_equipment(
        &self,
        by: &Actor,
        id: EquipmentId,
        version: Option<i64>,
        input: &EquipmentInput,
    ) -> Result<EquipmentRow> {
        require(by.can_edit_installed_base())?;
        let e = input.validate()?;
        self.get_equipment(by, id).await?;
        aftercare_store::equipment::update(&self.db, &self.writer(by), id.0, version, &e).await?;
        Ok(aftercare_store::equipment::get(&self.db, id.0).await?)
    }

    pub async fn get_equipment(&self, by: &Actor, id: EquipmentId) -> Result<EquipmentRow> {
        let e = aftercare_store::equipment::get(&self.db, id.0).await?;
        if !by.can_see_customer(aftercare_domain::CustomerId(e.customer_id)) {
            return Err(ServiceError::NotFound);
        }
        Ok(e)
    }

    pub async fn list_equipment(&self, by: &Actor, mut q: EquipmentQuery, page: Page) -> Result<Paged<EquipmentRow>> {
        q.scope = by.customer_scope().map(|c| c.0);
        q.expiring_days = aftercare_domain::equipment::EXPIRING_DAYS;
        Ok(aftercare_store::equipment::list(&self.db, &q, page).await?)
    }

    /// The equipment's history from the audit trail (staff only: it names who changed what).
    pub async fn equipment_history(&self, by: &Actor, id: EquipmentId) -> Result<Vec<AuditEntry>> {
        self.get_equipment(by, id).await?;
        if !by.is_staff() {
            return Ok(Vec::new());
        }
        self.equipment_audit(id).await
    }

    /// The tickets and visits of one piece of equipment (its page).
    pub async fn equipment_service_history(
        &self,
        by: &Actor,
        id: EquipmentId,
    ) -> Result<(Vec<TicketRow>, Vec<VisitRow>)> {
        self.get_equipment(by, id).await?;
        self.equipment_tickets_visits(by, id).await
    }

    pub async fn equipment_counts_by_system(
        &self,
        by: &Actor,
        customer: Option<aftercare_domain::CustomerId>,
    ) -> Result<Vec<(String, i64)>> {
        let customer = customer.map(|c| c.0);
        let scope = by.customer_scope().map(|c| c.0).or(customer);
        if let (Some(s), Some(c)) = (by.customer_scope(), customer)
            && s.0 != c
        {
            return Err(ServiceError::NotFound);
        }
        Ok(aftercare_store::equipment::count_by_system(&self.db, scope).await?)
    }
}
