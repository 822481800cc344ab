//! The fault taxonomy: subcategories under each fault type, added, renamed,
//! deactivated and reactivated by the manager, never deleted (tickets keep their codes).

use crate::db::WritePool;
use crate::{Db, Result, StoreError, Writer, on_db};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SubcategoryRow {
    pub code: String,
    pub system: String,
    pub fault_type: String,
    pub name_zh: String,
    pub name_en: String,
    pub typical_cause: Option<String>,
    pub active: bool,
}

pub async fn subcategories(db: &Db) -> Result<Vec<SubcategoryRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, SubcategoryRow>(
        "SELECT * FROM fault_subcategories ORDER BY system, fault_type, code"
    )
    .fetch_all(p)
    .await?))
}

pub async fn subcategory(db: &Db, code: &str) -> Result<Option<SubcategoryRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, SubcategoryRow>("SELECT * FROM fault_subcategories WHERE code = $1")
        .bind(code)
        .fetch_optional(p)
        .await?))
}

fn subcategory_json(r: &SubcategoryRow) -> serde_json::Value {
    serde_json::json!({"code": r.code, "system": r.system, "fault_type": r.fault_type, "name_zh": r.name_zh,
        "name_en": r.name_en, "typical_cause": r.typical_cause, "active": r.active})
}

/// What the manager may change, as the audit trail records it.
fn subcategory_editable(r: &SubcategoryRow) -> serde_json::Value {
    serde_json::json!({"name_zh": r.name_zh, "name_en": r.name_en, "typical_cause": r.typical_cause,
        "active": r.active})
}

/// Adds a subcategory with its audit entry; a taken code is `Duplicate { field: "code" }`.
pub async fn create_subcategory(db: &Db, w: &Writer, row: &SubcategoryRow) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO fault_subcategories (code, system, fault_type, name_zh, name_en, typical_cause, active) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.code)
        .bind(&row.system)
        .bind(&row.fault_type)
        .bind(&row.name_zh)
        .bind(&row.name_en)
        .bind(&row.typical_cause)
        .bind(row.active)
        .execute(&mut *tx)
        .await
        .map_err(|e| match crate::map_write_err(e, &[]) {
            StoreError::Duplicate { .. } => StoreError::Duplicate { field: "code" },
            other => other,
        })?;
        crate::audit::record(
            &mut *tx,
            w,
            "fault_subcategory",
            0_i64,
            "create",
            &row.code,
            None,
            Some(subcategory_json(row)),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Changes a subcategory's names, typical cause and active flag (its code, system and
/// fault type stay); the audit entry holds what changed, before and after.
pub async fn update_subcategory(db: &Db, w: &Writer, row: &SubcategoryRow) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let before = sqlx::query_as::<_, SubcategoryRow>("SELECT * FROM fault_subcategories WHERE code = $1")
            .bind(&row.code)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE fault_subcategories SET name_zh = $2, name_en = $3, typical_cause = $4, active = $5 \
            WHERE code = $1",
        )
        .bind(&row.code)
        .bind(&row.name_zh)
        .bind(&row.name_en)
        .bind(&row.typical_cause)
        .bind(row.active)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(
            &mut *tx,
            w,
            "fault_subcategory",
            0_i64,
            "update",
            &row.code,
            Some(subcategory_editable(&before)),
            Some(subcategory_editable(row)),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// How many tickets name each subcategory: (code, tickets).
pub async fn subcategory_usage(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (String, i64)>(
        "SELECT fault_subcategory, COUNT(*) FROM tickets WHERE fault_subcategory IS NOT NULL GROUP BY fault_subcategory"
    )
    .fetch_all(p)
    .await?))
}
