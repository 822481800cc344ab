//! The courteous phrase library (客服文明用语, DOMAIN.md §4): what agents say, by scene.

use crate::db::WritePool;
use crate::{Db, Result, StoreError, Writer, on_db};
use aftercare_domain::contacts::Scene;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PhraseRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub scene: Scene,
    /// A short label for a prompt button (没听清).
    pub title: String,
    /// As stored, with the `{公司}` placeholder.
    pub text: String,
    /// As said: `{公司}` replaced by the company's name (filled by the service).
    #[sqlx(skip)]
    pub display: String,
    /// Order within its scene (smaller first).
    pub position: i32,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

/// A phrase as the service decided it.
#[derive(Debug, Clone)]
pub struct PhraseWrite {
    pub scene: Scene,
    pub title: String,
    pub text: String,
    pub position: i32,
    pub active: bool,
}

const COLS: &str = "id, scene, title, text, position, active, updated_at";

/// Every phrase (or only the active ones), by position.
pub async fn list(db: &Db, include_inactive: bool) -> Result<Vec<PhraseRow>> {
    let sql = if include_inactive {
        format!("SELECT {COLS} FROM phrases ORDER BY position, id")
    } else {
        format!("SELECT {COLS} FROM phrases WHERE active ORDER BY position, id")
    };
    Ok(on_db!(db, |p| sqlx::query_as::<_, PhraseRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

pub async fn get(db: &Db, id: i64) -> Result<PhraseRow> {
    let sql = format!("SELECT {COLS} FROM phrases WHERE id = $1");
    let row = on_db!(db, |p| sqlx::query_as::<_, PhraseRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

/// The next free position (after every phrase).
pub async fn next_position(db: &Db) -> Result<i32> {
    let max: Option<i32> =
        on_db!(db, |p| sqlx::query_scalar::<_, Option<i32>>("SELECT MAX(position) FROM phrases").fetch_one(p).await?);
    Ok(max.unwrap_or(0).saturating_add(1))
}

pub async fn create(db: &Db, w: &Writer, ph: &PhraseWrite, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO phrases (scene, title, text, position, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                RETURNING id",
        )
        .bind(ph.scene.as_str())
        .bind(&ph.title)
        .bind(&ph.text)
        .bind(ph.position)
        .bind(ph.active)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        crate::audit::record(
            &mut *tx,
            w,
            "phrase",
            id,
            "create",
            &ph.title,
            None,
            Some(serde_json::json!({"scene": ph.scene, "title": ph.title, "text": ph.text, "position": ph.position,
                    "active": ph.active})),
        )
        .await?;
        tx.commit().await?;
        id
    }))
}

/// Replaces a phrase's fields; audited with before and after.
pub async fn update(
    db: &Db,
    w: &Writer,
    id: i64,
    before: &PhraseRow,
    ph: &PhraseWrite,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE phrases SET scene = $1, title = $2, text = $3, position = $4, active = $5, \
            updated_at = $6 WHERE id = $7",
        )
        .bind(ph.scene.as_str())
        .bind(&ph.title)
        .bind(&ph.text)
        .bind(ph.position)
        .bind(ph.active)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::record(
            &mut *tx,
            w,
            "phrase",
            id,
            "update",
            &ph.title,
            Some(serde_json::json!({"scene": before.scene, "title": before.title, "text": before.text,
                    "position": before.position, "active": before.active})),
            Some(serde_json::json!({"scene": ph.scene, "title": ph.title, "text": ph.text, "position": ph.position,
                    "active": ph.active})),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Sets several phrases' positions at once (a reorder); audited as one move.
pub async fn set_positions(
    db: &Db,
    w: &Writer,
    moved: i64,
    positions: &[(i64, i32)],
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        for (id, pos) in positions {
            sqlx::query("UPDATE phrases SET position = $1, updated_at = $2 WHERE id = $3 AND position <> $1")
                .bind(*pos)
                .bind(now)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        crate::audit::record(
            &mut *tx,
            w,
            "phrase",
            moved,
            "reorder",
            "reorder",
            None,
            Some(serde_json::json!(
                positions.iter().map(|(id, pos)| serde_json::json!({"id": id, "position": pos})).collect::<Vec<_>>()
            )),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}
