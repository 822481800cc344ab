//! Customers (schools): who may read and change them, and what a school page shows.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::CustomerId;
use aftercare_domain::customers::CustomerInput;
pub use aftercare_store::Page;
use aftercare_store::Paged;
pub use aftercare_store::audit::AuditEntry;
pub use aftercare_store::customers::{ContactRow, CustomerQuery, CustomerRow};
pub use aftercare_store::equipment::{EquipmentQuery, EquipmentRow};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: CustomerRow,
    pub contacts: Vec<ContactRow>,
}

impl Services {
    pub async fn create_customer(&self, by: &Actor, input: &CustomerInput) -> Result<CustomerDetail> {
        require(by.can_edit_installed_base())?;
        let c = input.validate()?;
        let id = aftercare_store::customers::create(&self.db, &self.writer(by), &c).await?;
        self.get_customer(by, CustomerId(id)).await
    }

    pub async fn update_customer(
        &self,
        by: &Actor,
        id: CustomerId,
        version: Option<i64>,
        input: &CustomerInput,
    ) -> Result<CustomerDetail> {
        require(by.can_edit_installed_base())?;
        let c = input.validate()?;
        aftercare_store::customers::update(&self.db, &self.writer(by), id.0, version, &c).await?;
        self.get_customer(by, id).await
    }

    /// A school user asking for another school gets "not found": existence is not leaked.
    pub async fn get_customer(&self, by: &Actor, id: CustomerId) -> Result<CustomerDetail> {
        if !by.can_see_customer(id) {
            return Err(ServiceError::NotFound);
        }
        let customer = aftercare_store::customers::get(&self.db, id.0).await?;
        let contacts = aftercare_store::customers::contacts(&self.db, id.0).await?;
        Ok(CustomerDetail { customer, contacts })
    }

    pub async fn list_customers(&self, by: &Actor, mut q: CustomerQuery, page: Page) -> Result<Paged<CustomerRow>> {
        q.scope = by.customer_scope().map(|c| c.0);
        Ok(aftercare_store::customers::list(&self.db, &q, page).await?)
    }

    /// List rows with their contacts (exports, API).
    pub async fn list_customers_with_contacts(
        &self,
        by: &Actor,
        q: CustomerQuery,
        page: Page,
    ) -> Result<Paged<CustomerDetail>> {
        let rows = self.list_customers(by, q, page).await?;
        let ids: Vec<i64> = rows.items.iter().map(|c| c.id).collect();
        let mut contacts = aftercare_store::customers::contacts_of(&self.db, &ids).await?;
        let items = rows
            .items
            .into_iter()
            .map(|customer| {
                let mine: Vec<ContactRow> = contacts.extract_if(.., |p| p.customer_id == customer.id).collect();
                CustomerDetail { customer, contacts: mine }
            })
            .collect();
        Ok(Paged { items, total: rows.total, capped: rows.capped })
    }

    /// Towns (with their county) for filters; a school user sees only its own.
    pub async fn towns(&self, by: &Actor) -> Result<Vec<(String, String)>> {
        if by.customer_scope().is_some() {
            return Ok(Vec::new());
        }
        Ok(aftercare_store::customers::towns(&self.db).await?)
    }
}
