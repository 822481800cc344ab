//! Loading for trusted callers that act for nobody signed in — the demo county and the
//! command line: bulk writes of the installed base signed with a name in the audit trail,
//! the user behind a username, and contacts recorded exactly as given (backdated, without
//! the notifications a live contact sends). Never called on a request path.

use crate::{Actor, Result, Services};
use aftercare_domain::contacts::NewContact;
use aftercare_domain::customers::NewCustomer;
use aftercare_domain::equipment::NewEquipment;
use chrono::{DateTime, Utc};

impl Services {
    /// How many schools the database holds; a first run has none.
    pub async fn customer_count(&self) -> Result<i64> {
        Ok(aftercare_store::customers::count(&self.db).await?)
    }

    /// Writes validated schools in one statement, signed `writer`; their ids in order.
    pub async fn load_customers(&self, writer: &str, customers: &[NewCustomer]) -> Result<Vec<i64>> {
        Ok(aftercare_store::customers::create_many(&self.db, &self.writer_named(writer), customers).await?)
    }

    /// Writes validated equipment in one statement, signed `writer`; their ids in order.
    pub async fn load_equipment(&self, writer: &str, equipment: &[NewEquipment]) -> Result<Vec<i64>> {
        Ok(aftercare_store::equipment::create_many(&self.db, &self.writer_named(writer), equipment).await?)
    }

    /// The user `username` as an acting user, if there is one.
    pub async fn actor_by_username(&self, username: &str) -> Result<Option<Actor>> {
        Ok(aftercare_store::users::by_username(&self.db, username).await?.as_ref().map(crate::auth::actor_from_row))
    }

    /// Records a contact exactly as given, by `by`, as of `now`: handler, after-hours flag and
    /// missed-call owner as for any contact, but no check of the live desk's rules (a past
    /// after-hours call needs no promise) and no notification. Returns the new record's ids.
    pub async fn load_contact(&self, by: &Actor, k: NewContact, now: DateTime<Utc>) -> Result<Vec<i64>> {
        let w = self.contact_write(by, k, now).await?;
        Ok(aftercare_store::contacts::create_many(&self.db, &[(self.writer(by), w)]).await?)
    }
}
