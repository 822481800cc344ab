//! Customers (schools) and their contact people.

use crate::db::{Arg, Conn, Filter, WritePool};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, map_write_err, on_conn, on_db, search};
use aftercare_domain::CustomerId;
use aftercare_domain::customers::{NewCustomer, phone_digits};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub county: String,
    pub town: String,
    pub address: Option<String>,
    pub travel_minutes: Option<i32>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Pieces of equipment (filled by lists; 0 elsewhere).
    #[sqlx(default)]
    pub equipment_count: i64,
}

// Named apart from the contact record (`contacts::ContactRow`): both were `ContactRow` in
// the OpenAPI document, where the second silently replaced the first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = CustomerContact)]
pub struct ContactRow {
    pub id: i64,
    pub customer_id: i64,
    pub position: i32,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub im: Option<String>,
}

/// The text a customer is found by: its fields and its contact people.
pub fn search_text(c: &NewCustomer) -> String {
    let mut s = format!("{} {} {} {} {}", c.name, c.code, c.county, c.town, c.address.as_deref().unwrap_or_default());
    for p in &c.contacts {
        for v in
            [Some(&p.name), p.title.as_ref(), p.phone.as_ref(), p.email.as_ref(), p.im.as_ref()].into_iter().flatten()
        {
            s.push(' ');
            s.push_str(v);
        }
        if let Some(ph) = &p.phone {
            s.push(' ');
            s.push_str(&phone_digits(ph));
        }
    }
    s
}

/// Inserts customer, contacts, search document and audit entry on an open transaction.
pub(crate) async fn insert_customer<'c>(
    conn: impl Into<Conn<'c>>,
    w: &Writer,
    c: &NewCustomer,
    now: DateTime<Utc>,
) -> Result<CustomerId> {
    let mut conn = conn.into();
    let sql = "INSERT INTO customers (name, code, county, town, address, travel_minutes, version, created_at, \
        updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id";
    let id: i64 = on_conn!(&mut conn, |x| {
        sqlx::query_scalar(sql)
            .bind(&c.name)
            .bind(&c.code)
            .bind(&c.county)
            .bind(&c.town)
            .bind(&c.address)
            .bind(c.travel_minutes)
            .bind(now)
            .fetch_one(&mut **x)
            .await
            .map_err(|e| map_write_err(e, &["code"]))?
    });
    insert_contacts(conn.reborrow(), id, c).await?;
    search::index_doc(conn.reborrow(), "customer", id, id, &search_text(c)).await?;
    let json = serde_json::to_value(c).unwrap_or_default();
    crate::audit::record(conn, w, "customer", id, "create", &c.name, None, Some(json)).await?;
    Ok(CustomerId(id))
}

/// Writes a customer's contact people, in order, on an open transaction.
async fn insert_contacts<'c>(conn: impl Into<Conn<'c>>, id: i64, c: &NewCustomer) -> Result<()> {
    let mut conn = conn.into();
    let sql = "INSERT INTO customer_contacts (customer_id, position, name, title, phone, phone_digits, email, im) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    for (i, p) in c.contacts.iter().enumerate() {
        on_conn!(&mut conn, |x| {
            sqlx::query(sql)
                .bind(id)
                .bind(i as i32)
                .bind(&p.name)
                .bind(&p.title)
                .bind(&p.phone)
                .bind(p.phone.as_deref().map(phone_digits))
                .bind(&p.email)
                .bind(&p.im)
                .execute(&mut **x)
                .await?;
        });
    }
    Ok(())
}

pub async fn create(db: &Db, w: &Writer, c: &NewCustomer) -> Result<i64> {
    let now = Utc::now();
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let id = insert_customer(&mut *tx, w, c, now).await?;
        tx.commit().await?;
        i64::from(id)
    }))
}

/// Creates many customers in one transaction: all or nothing. Returns their ids in order.
pub async fn create_many(db: &Db, w: &Writer, cs: &[NewCustomer]) -> Result<Vec<i64>> {
    let now = Utc::now();
    Ok(on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let mut ids = Vec::with_capacity(cs.len());
        for c in cs {
            ids.push(i64::from(insert_customer(&mut *tx, w, c, now).await?));
        }
        tx.commit().await?;
        ids
    }))
}

/// Replaces a customer's fields and contacts. `version`, when given, must match the stored
/// one (optimistic concurrency).
pub async fn update(db: &Db, w: &Writer, id: i64, version: Option<i64>, c: &NewCustomer) -> Result<()> {
    let now = Utc::now();
    let before = get(db, id).await?;
    let before_contacts = contacts(db, id).await?;
    let before_json = serde_json::json!({
        "name": before.name, "code": before.code, "county": before.county, "town": before.town,
        "address": before.address, "travel_minutes": before.travel_minutes,
        "contacts": before_contacts.iter().map(|p| serde_json::json!({"name": p.name, "title": p.title,
            "phone": p.phone, "email": p.email, "im": p.im})).collect::<Vec<_>>(),
    });
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE customers SET name = $2, code = $3, county = $4, town = $5, address = $6, travel_minutes = $7, \
             version = version + 1, updated_at = $8 WHERE id = $1 AND ($9 < 0 OR version = $9)",
        )
        .bind(id)
        .bind(&c.name)
        .bind(&c.code)
        .bind(&c.county)
        .bind(&c.town)
        .bind(&c.address)
        .bind(c.travel_minutes)
        .bind(now)
        .bind(version.unwrap_or(-1))
        .execute(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["code"]))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        sqlx::query("DELETE FROM customer_contacts WHERE customer_id = $1").bind(id).execute(&mut *tx).await?;
        insert_contacts(&mut *tx, id, c).await?;
        search::index_doc(&mut *tx, "customer", id, id, &search_text(c)).await?;
        crate::audit::record(
            &mut *tx,
            w,
            "customer",
            id,
            "update",
            &c.name,
            Some(before_json),
            Some(serde_json::to_value(c).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
    });
    if before.name != c.name || before.town != c.town {
        crate::equipment::reindex_customer(db, id).await?;
    }
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<CustomerRow> {
    let row = on_db!(db, |p| {
        sqlx::query_as::<_, CustomerRow>(
            "SELECT c.*, (SELECT COUNT(*) FROM equipment e WHERE e.customer_id = c.id) AS equipment_count FROM \
            customers c WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(p)
        .await?
    });
    row.ok_or(StoreError::NotFound)
}

pub async fn contacts(db: &Db, customer_id: i64) -> Result<Vec<ContactRow>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, ContactRow>(
        "SELECT id, customer_id, position, name, title, phone, email, im FROM customer_contacts WHERE customer_id = \
            $1 ORDER BY position")
        .bind(customer_id).fetch_all(p).await?
    }))
}

/// Contacts of many customers at once (list pages and exports), keyed by customer.
pub async fn contacts_of(db: &Db, ids: &[i64]) -> Result<Vec<ContactRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT id, customer_id, position, name, title, phone, email, im FROM customer_contacts WHERE customer_id \
            IN ({list}) ORDER BY customer_id, position"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, ContactRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    pub q: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    /// `name` (default), `code`, `town`, `equipment`, `travel`, `updated`.
    pub sort: Option<String>,
    pub desc: bool,
    /// Only this customer (a school user's scope).
    pub scope: Option<i64>,
}

pub async fn list(db: &Db, q: &CustomerQuery, page: Page) -> Result<Paged<CustomerRow>> {
    let mut f = Filter::default();
    if let Some(id) = q.scope {
        let p = f.arg(Arg::I64(id));
        f.and(format!("c.id = {p}"));
    }
    if let Some(v) = &q.county {
        let p = f.arg(Arg::Text(v.clone()));
        f.and(format!("c.county = {p}"));
    }
    if let Some(v) = &q.town {
        let p = f.arg(Arg::Text(v.clone()));
        f.and(format!("c.town = {p}"));
    }
    if let Some(expr) = q.q.as_deref().and_then(|s| search::match_expr(db, s)) {
        let p = f.arg(Arg::Text(expr));
        f.and(search::in_clause(db, "customer", "c.id", &p));
    }
    let order = match q.sort.as_deref() {
        Some("code") => "c.code",
        Some("town") => "c.town",
        Some("equipment") => "equipment_count",
        Some("travel") => "c.travel_minutes",
        Some("updated") => "c.updated_at",
        _ => "c.name",
    };
    let dir = if q.desc { "DESC" } else { "ASC" };
    let w = f.where_sql();
    let sql = format!(
        "SELECT c.*, (SELECT COUNT(*) FROM equipment e WHERE e.customer_id = c.id) AS equipment_count FROM \
            customers c {w} \
         ORDER BY {order} {dir}, c.id {dir} {}",
        page.sql()
    );
    // Searching counts at most COUNT_CAP + 1 matches.
    let searching = q.q.as_deref().is_some_and(|s| search::match_expr(db, s).is_some());
    let count_sql = crate::db::count_sql(&format!("FROM customers c {w}"), searching);
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, CustomerRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged::counted(items, total, searching))
}

/// Every (county, town) pair in use, for filters and forms.
pub async fn towns(db: &Db) -> Result<Vec<(String, String)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (String, String)>(
        "SELECT DISTINCT county, town FROM customers ORDER BY county, town"
    )
    .fetch_all(p)
    .await?))
}

/// Customers whose code is one of `codes` (imports check these before writing).
pub async fn ids_by_code(db: &Db, codes: &[String]) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for chunk in codes.chunks(500) {
        let mut f = Filter::default();
        let ps: Vec<String> = chunk.iter().map(|c| f.arg(Arg::Text(c.clone()))).collect();
        let sql = format!("SELECT code, id FROM customers WHERE code IN ({})", ps.join(","));
        out.extend(on_db!(db, |p| bind_args!(
            sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql.as_str())),
            f.args
        )
        .fetch_all(p)
        .await?));
    }
    Ok(out)
}

pub async fn count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM customers").fetch_one(p).await?))
}

/// Where a technician goes and whom to call there: a school's address and its first
/// contact, for each of `ids`, in one query.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SiteRow {
    pub id: i64,
    pub name: String,
    pub county: String,
    pub town: String,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
}

pub async fn sites(db: &Db, ids: &[i64]) -> Result<Vec<SiteRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let sql = format!(
        // Name and phone of one and the same person: the first contact with a phone, else the
        // first contact.
        "SELECT c.id, c.name, c.county, c.town, c.address, \
           (SELECT k.name FROM customer_contacts k WHERE k.customer_id = c.id \
             ORDER BY CASE WHEN k.phone IS NULL THEN 1 ELSE 0 END, k.position, k.id LIMIT 1) AS contact_name, \
           (SELECT k.phone FROM customer_contacts k WHERE k.customer_id = c.id \
             ORDER BY CASE WHEN k.phone IS NULL THEN 1 ELSE 0 END, k.position, k.id LIMIT 1) AS contact_phone \
         FROM customers c WHERE c.id IN ({list})"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, SiteRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}
