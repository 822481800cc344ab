//! The global search box: every kind the user may see.

use crate::{Actor, Result, Services};
pub use aftercare_store::search::Hit;

impl Services {
    pub async fn search(&self, by: &Actor, q: &str, limit: i64) -> Result<Vec<Hit>> {
        let scope = by.customer_scope().map(|c| c.0);
        Ok(aftercare_store::search::search(&self.db, q, scope, limit.clamp(1, 200)).await?)
    }
}
