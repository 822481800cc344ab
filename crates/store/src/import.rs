//! Imports: schools and equipment written in one transaction, all or nothing.

use crate::customers::insert_customer;
use crate::db::WritePool;
use crate::equipment::insert_equipment;
use crate::{Db, Result, StoreError, Writer, on_db};
use aftercare_domain::CustomerId;
use aftercare_domain::customers::NewCustomer;
use aftercare_domain::equipment::NewEquipment;
use chrono::Utc;
use std::collections::HashMap;

/// Inserts `customers`, then `equipment` whose school is given by code (a school of this
/// same import or one already stored).
pub async fn apply(db: &Db, w: &Writer, customers: &[NewCustomer], equipment: &[(String, NewEquipment)]) -> Result<()> {
    let now = Utc::now();
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let mut ids: HashMap<String, i64> = HashMap::new();
        for c in customers {
            let id = insert_customer(&mut *tx, w, c, now).await?;
            ids.insert(c.code.clone(), id.0);
        }
        for (code, e) in equipment {
            let id = match ids.get(code) {
                Some(id) => *id,
                None => {
                    let id: i64 = sqlx::query_scalar("SELECT id FROM customers WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::MissingReference { field: "customer_code" })?;
                    ids.insert(code.clone(), id);
                    id
                }
            };
            let e = NewEquipment { customer_id: CustomerId(id), ..e.clone() };
            insert_equipment(&mut *tx, w, &e, now).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
