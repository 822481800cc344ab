//! The audit trail, as the administrator and manager read it, and per record.

use crate::{Actor, Result, Services, require};
pub use aftercare_store::audit::{AuditEntry, AuditQuery};
use aftercare_store::{Page, Paged};

impl Services {
    pub async fn list_audit(&self, by: &Actor, q: &AuditQuery, page: Page) -> Result<Paged<AuditEntry>> {
        require(by.can_read_audit())?;
        Ok(aftercare_store::audit::list(&self.db, q, page).await?)
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
