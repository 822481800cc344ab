//! The audit trail, as the administrator and manager read it, and per record.

use crate::{Actor, Result, Services, require};
pub use aftercare_store::audit::{AuditEntry, AuditQuery};
use aftercare_store::{Page, Paged};

impl Services {
    pub async fn list_audit(&self, by: &Actor, q: &AuditQuery, page: Page) -> Result<Paged<AuditEntry>> {
        require(by.can_read_audit())?;
        Ok(aftercare_store::audit::list(&self.db, q, page).await?)
    }

    /// The record numbers of the tickets these entries are about (the trail names a ticket
    /// by its number, not its id).
    pub async fn audit_ticket_numbers(&self, by: &Actor, entries: &[AuditEntry]) -> Result<Vec<(i64, String)>> {
        require(by.can_read_audit())?;
        let mut ids: Vec<i64> = entries.iter().filter(|e| e.entity == "ticket").map(|e| e.entity_id).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(aftercare_store::tickets::numbers(&self.db, &ids).await?)
    }

    /// A customer's own trail, shown on its page to staff.
    pub async fn customer_history(&self, by: &Actor, id: aftercare_domain::CustomerId) -> Result<Vec<AuditEntry>> {
        self.get_customer(by, id).await?;
        if !by.is_staff() {
            return Ok(Vec::new());
        }
        let q = AuditQuery { entity: Some("customer".into()), entity_id: Some(id.0), ..Default::default() };
        Ok(aftercare_store::audit::list(&self.db, &q, Page::new(Some(1), Some(100))).await?.items)
    }
}
