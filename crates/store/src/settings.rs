//! Settings (key → value, audited) and each user's saved list filters.

use crate::db::WritePool;
use crate::{Db, Result, Writer, on_db, write_once};

pub async fn setting(db: &Db, key: &str) -> Result<Option<String>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(p)
        .await?))
}

pub async fn set_setting(db: &Db, w: &Writer, key: &str, value: &str) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        crate::audit::record(&mut *tx, w, "setting", 0_i64, "update", key, None, Some(serde_json::json!({key: value})))
            .await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn saved_filters(db: &Db, user_id: i64, area: &str) -> Result<Vec<(String, String)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (String, String)>(
        "SELECT name, query FROM saved_filters WHERE user_id = $1 AND area = $2 ORDER BY name"
    )
    .bind(user_id)
    .bind(area)
    .fetch_all(p)
    .await?))
}

pub async fn save_filter(db: &Db, user_id: i64, area: &str, name: &str, query: &str) -> Result<()> {
    write_once!(db, |c| {
        sqlx::query(
            "INSERT INTO saved_filters (user_id, area, name, query) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id, area, name) DO UPDATE SET query = excluded.query",
        )
        .bind(user_id)
        .bind(area)
        .bind(name)
        .bind(query)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}
