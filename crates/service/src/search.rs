//! The global search box: every kind the user may see, grouped by kind.

use crate::{Actor, Result, Services};
pub use aftercare_store::search::{Group, Hit};

impl Services {
    /// The best `per_kind` hits of each kind (open and recent first) with each kind's total.
    /// A school user finds only its own schools, equipment and tickets.
    pub async fn search(&self, by: &Actor, q: &str, per_kind: i64) -> Result<Vec<Group>> {
        let scope = by.customer_scope().map(|c| c.0);
        Ok(aftercare_store::search::search(&self.db, q, scope, per_kind.clamp(1, 100)).await?)
    }
}
