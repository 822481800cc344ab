//! Users: accounts, password hashes, roles, the school a `customer` user belongs to.

use crate::{Db, Page, Paged, Result, StoreError, Writer, db::WritePool, map_write_err, on_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub display_name: String,
    /// Comma-separated role ids.
    pub roles: String,
    pub customer_id: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct UserWrite {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub roles: String,
    pub customer_id: Option<i64>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub locale: String,
}

fn public_json(u: &UserWrite) -> serde_json::Value {
    serde_json::json!({
        "username": u.username, "display_name": u.display_name, "roles": u.roles,
        "customer_id": u.customer_id, "email": u.email, "phone": u.phone, "locale": u.locale,
    })
}

pub async fn create(db: &Db, w: &Writer, u: &UserWrite) -> Result<i64> {
    let now = Utc::now();
    let sql = "INSERT INTO users (username, password_hash, display_name, roles, customer_id, email, phone, locale, \
        active, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $9) RETURNING id";
    let id = on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id: i64 = sqlx::query_scalar(sql)
            .bind(&u.username)
            .bind(&u.password_hash)
            .bind(&u.display_name)
            .bind(&u.roles)
            .bind(u.customer_id)
            .bind(&u.email)
            .bind(&u.phone)
            .bind(&u.locale)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| map_write_err(e, &["username", "customer_id"]))?;
        crate::audit::record(&mut *tx, w, "user", id, "create", &u.username, None, Some(public_json(u))).await?;
        tx.commit().await?;
        id
    });
    Ok(id)
}

pub async fn get(db: &Db, id: i64) -> Result<UserRow> {
    let row = on_db!(db, |p| sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?);
    row.ok_or(StoreError::NotFound)
}

pub async fn by_username(db: &Db, username: &str) -> Result<Option<UserRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, UserRow>("SELECT * FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(p)
        .await?))
}

pub async fn list(db: &Db, page: Page) -> Result<Paged<UserRow>> {
    let sql = format!("SELECT * FROM users ORDER BY username {}", page.sql());
    let (items, total) = on_db!(db, |p| (
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(p).await?))
}

/// Users of one role (roles are stored comma-separated, so match whole items).
/// Display names of these users, by id (one query, whatever the number).
pub async fn names(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Ids are numbers, never text from a request: the list is written into the statement.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT id, display_name FROM users WHERE id IN ({list})");
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

pub async fn with_role(db: &Db, role: &str) -> Result<Vec<UserRow>> {
    let pat = format!("%,{role},%");
    Ok(on_db!(db, |p| sqlx::query_as::<_, UserRow>(
        "SELECT * FROM users WHERE (',' || roles || ',') LIKE $1 AND active ORDER BY display_name"
    )
    .bind(pat)
    .fetch_all(p)
    .await?))
}

/// Changes profile fields (not the password); `None` leaves a field as it is.
pub async fn update(
    db: &Db,
    w: &Writer,
    id: i64,
    display_name: Option<&str>,
    roles: Option<&str>,
    active: Option<bool>,
    locale: Option<&str>,
) -> Result<()> {
    let before = get(db, id).await?;
    let now = Utc::now();
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE users SET display_name = COALESCE($2, display_name), roles = COALESCE($3, roles), \
             active = COALESCE($4, active), locale = COALESCE($5, locale), updated_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(display_name)
        .bind(roles)
        .bind(active)
        .bind(locale)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let b = serde_json::json!({"display_name": before.display_name, "roles": before.roles,
            "active": before.active, "locale": before.locale});
        let a = serde_json::json!({"display_name": display_name.unwrap_or(&before.display_name),
            "roles": roles.unwrap_or(&before.roles),
            "active": active.unwrap_or(before.active), "locale": locale.unwrap_or(&before.locale)});
        crate::audit::record(&mut *tx, w, "user", id, "update", &before.username, Some(b), Some(a)).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Sets a user's e-mail and phone (`None` clears one); audited.
pub async fn set_contact(db: &Db, w: &Writer, id: i64, email: Option<&str>, phone: Option<&str>) -> Result<()> {
    let before = get(db, id).await?;
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        sqlx::query("UPDATE users SET email = $2, phone = $3, updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(email)
            .bind(phone)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
        let b = serde_json::json!({"email": before.email, "phone": before.phone});
        let a = serde_json::json!({"email": email, "phone": phone});
        crate::audit::record(&mut *tx, w, "user", id, "update", &before.username, Some(b), Some(a)).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn set_password(db: &Db, w: &Writer, id: i64, password_hash: &str) -> Result<()> {
    let now = Utc::now();
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let name: Option<String> =
            sqlx::query_scalar("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 RETURNING username")
                .bind(id)
                .bind(password_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(name) = name else { return Err(StoreError::NotFound) };
        crate::audit::record(&mut *tx, w, "user", id, "password", &name, None, None).await?;
        // A new password signs the user out everywhere.
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
    });
    Ok(())
}
