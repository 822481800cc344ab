//! Outings (外出, form 6 《外出工作记录表》): vehicles, the town travel times, trips with
//! their staff, stops, the work done at each stop, what to bring, costs and receipts, the
//! agent's verification by phone, and the days away.
//!
//! Creating a trip checks, in its transaction, that none of its people and not its vehicle
//! is on another live trip whose planned window overlaps (`Overlap`, naming that trip);
//! on PostgreSQL the people's and the vehicle's rows are locked first so two plans made at
//! once cannot both pass, on SQLite the write lock does it. A status change is a
//! conditional update: of two people acting at once, one wins and the other gets `Stale`.

use crate::db::{Arg, Filter, WritePool};
use crate::{Db, Page, Paged, Result, StoreError, Writer, bind_args, map_write_err, on_db};
use aftercare_domain::trips::{
    CostKind, ItemKind, NewVehicle, Returning, StopAction, Transport, TripPurpose, TripStatus, VehicleStatus,
    Verification,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct VehicleRow {
    pub id: i64,
    pub plate: String,
    pub name: String,
    pub seats: i64,
    #[sqlx(try_from = "String")]
    pub status: VehicleStatus,
    pub note: Option<String>,
}

pub async fn vehicles(db: &Db) -> Result<Vec<VehicleRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, VehicleRow>(
        "SELECT id, plate, name, seats, status, note FROM vehicles ORDER BY status, plate"
    )
    .fetch_all(p)
    .await?))
}

/// Adds (`id` `None`) or changes a vehicle; a plate taken is `Duplicate { field: "plate" }`.
pub async fn save_vehicle(db: &Db, w: &Writer, id: Option<i64>, v: &NewVehicle, now: DateTime<Utc>) -> Result<i64> {
    let after = serde_json::json!({"plate": v.plate, "name": v.name, "seats": v.seats, "status": v.status.as_str()});
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let saved: Option<i64> = match id {
            None => sqlx::query_scalar(
                "INSERT INTO vehicles (plate, name, seats, status, note, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(&v.plate)
            .bind(&v.name)
            .bind(v.seats)
            .bind(v.status.as_str())
            .bind(&v.note)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| map_write_err(e, &["plate"]))?,
            Some(id) => sqlx::query_scalar(
                "UPDATE vehicles SET plate = $2, name = $3, seats = $4, status = $5, note = $6, updated_at = $7 \
                 WHERE id = $1 RETURNING id",
            )
            .bind(id)
            .bind(&v.plate)
            .bind(&v.name)
            .bind(v.seats)
            .bind(v.status.as_str())
            .bind(&v.note)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| map_write_err(e, &["plate"]))?,
        };
        let Some(saved) = saved else { return Err(StoreError::NotFound) };
        let action = if id.is_some() { "update" } else { "create" };
        crate::audit::record(&mut *tx, w, "vehicle", saved, action, &v.plate, None, Some(after)).await?;
        tx.commit().await?;
        saved
    }))
}

/// The pairs the manager set: (from, to, minutes), `from < to`.
pub async fn town_travel(db: &Db) -> Result<Vec<(String, String, i64)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (String, String, i64)>(
        "SELECT from_town, to_town, minutes FROM town_travel ORDER BY from_town, to_town"
    )
    .fetch_all(p)
    .await?))
}

/// Sets a pair (`from < to`), or removes it (`None`: back to the estimate).
pub async fn set_town_travel(
    db: &Db,
    w: &Writer,
    from: &str,
    to: &str,
    minutes: Option<i64>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        match minutes {
            Some(m) => {
                sqlx::query(
                    "INSERT INTO town_travel (from_town, to_town, minutes, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (from_town, to_town) DO UPDATE SET minutes = $3, updated_at = $4",
                )
                .bind(from)
                .bind(to)
                .bind(m)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM town_travel WHERE from_town = $1 AND to_town = $2")
                    .bind(from)
                    .bind(to)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let summary = format!("{from}–{to}: {}", minutes.map(|m| m.to_string()).unwrap_or_default());
        crate::audit::record(&mut *tx, w, "town_travel", 0, "update", &summary, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Per town: the mean minutes of its schools from the depot (where known) and how many
/// schools it has.
pub async fn town_minutes(db: &Db) -> Result<Vec<(String, Option<f64>, i64)>> {
    Ok(on_db!(db, |p| {
        sqlx::query_as::<_, (String, Option<f64>, i64)>(
        "SELECT town, AVG(CAST(travel_minutes AS DOUBLE PRECISION)), COUNT(*) FROM customers GROUP BY town ORDER BY town"
    )
    .fetch_all(p)
    .await?
    }))
}

/// A trip as lists and its page show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TripRow {
    pub id: i64,
    /// e.g. `WC20261207-0001`.
    pub number: String,
    pub trip_date: NaiveDate,
    #[sqlx(try_from = "String")]
    pub status: TripStatus,
    #[sqlx(try_from = "String")]
    pub transport: Transport,
    pub vehicle_id: Option<i64>,
    pub vehicle_plate: Option<String>,
    pub vehicle_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub purpose: TripPurpose,
    pub note: Option<String>,
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    pub departed_at: Option<DateTime<Utc>>,
    pub depart_odometer: Option<i64>,
    pub depart_note: Option<String>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_odometer: Option<i64>,
    /// Odometer in − out.
    pub distance_km: Option<i64>,
    pub summary: Option<String>,
    pub cost_cents: i64,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by_name: Option<String>,
    /// Comma-separated user ids.
    pub staff_ids: String,
    /// Their names, joined by 、.
    pub staff_names: String,
    /// How many stops (their rows are the trip's `stops`).
    pub stop_count: i64,
    pub stops_verified: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TripRow {
    pub fn staff(&self) -> Vec<i64> {
        self.staff_ids.split(',').filter_map(|s| s.trim().parse().ok()).collect()
    }
    pub fn has_staff(&self, user: i64) -> bool {
        self.staff().contains(&user)
    }
    pub fn cost_yuan(&self) -> String {
        format!("{:.2}", self.cost_cents as f64 / 100.0)
    }
}

fn trip_select(db: &Db) -> String {
    let (ids, names) = match db {
        Db::Sqlite(_) => (
            "(SELECT COALESCE(group_concat(user_id, ','), '') FROM trip_staff s WHERE s.trip_id = t.id)",
            "(SELECT COALESCE(group_concat(u.display_name, '、'), '') FROM trip_staff s \
                JOIN users u ON u.id = s.user_id WHERE s.trip_id = t.id)",
        ),
        Db::Postgres(_) => (
            "(SELECT COALESCE(string_agg(user_id::text, ',' ORDER BY user_id), '') FROM trip_staff s \
                WHERE s.trip_id = t.id)",
            "(SELECT COALESCE(string_agg(u.display_name, '、' ORDER BY u.id), '') FROM trip_staff s \
                JOIN users u ON u.id = s.user_id WHERE s.trip_id = t.id)",
        ),
    };
    format!(
        "SELECT t.id, t.number, t.trip_date, t.status, t.transport, t.vehicle_id, v.plate AS vehicle_plate, \
            v.name AS vehicle_name, t.purpose, t.note, t.planned_start, t.planned_end, t.departed_at, \
            t.depart_odometer, t.depart_note, t.returned_at, t.return_odometer, t.distance_km, t.summary, \
            t.cost_cents, t.cancelled_at, t.cancel_reason, t.approved_at, au.display_name AS approved_by_name, \
            {ids} AS staff_ids, {names} AS staff_names, \
            (SELECT COUNT(*) FROM trip_stops x WHERE x.trip_id = t.id) AS stop_count, \
            (SELECT COUNT(*) FROM trip_stops x WHERE x.trip_id = t.id AND x.verified_at IS NOT NULL) AS stops_verified, \
            t.created_at, t.updated_at \
         FROM trips t LEFT JOIN vehicles v ON v.id = t.vehicle_id LEFT JOIN users au ON au.id = t.approved_by"
    )
}

/// A stop, with its school and the verification.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StopRow {
    pub id: i64,
    pub trip_id: i64,
    pub position: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_code: String,
    pub town: String,
    /// The school's first contact's phone, for the agent's verification call.
    pub contact_phone: Option<String>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<String>,
    pub note: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by_name: Option<String>,
    pub verified_ok: Option<bool>,
    pub verified_contact: Option<String>,
    pub verified_note: Option<String>,
}

const STOP_SELECT: &str = "SELECT s.id, s.trip_id, s.position, s.customer_id, c.name AS customer_name, \
    c.code AS customer_code, c.town, \
    (SELECT cc.phone FROM customer_contacts cc WHERE cc.customer_id = c.id ORDER BY cc.id LIMIT 1) AS contact_phone, \
    s.arrived_at, s.left_at, s.confirmed_by, s.note, s.verified_at, vu.display_name AS verified_by_name, \
    s.verified_ok, s.verified_contact, s.verified_note \
    FROM trip_stops s JOIN customers c ON c.id = s.customer_id LEFT JOIN users vu ON vu.id = s.verified_by";

/// The work done at a stop: a ticket or a round, with its number, title and status.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StopJobRow {
    pub stop_id: i64,
    /// `ticket` or `inspection`.
    pub kind: String,
    pub id: i64,
    pub number: String,
    pub title: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ItemRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: ItemKind,
    pub text: String,
    pub qty: Option<i64>,
    pub checked: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CostRow {
    #[sqlx(try_from = "String")]
    pub kind: CostKind,
    pub amount_cents: i64,
}

/// A trip ready to write: the service resolved the times, the work at each stop and what
/// to bring.
#[derive(Debug, Clone)]
pub struct PlannedTrip {
    pub trip_date: NaiveDate,
    pub staff_ids: Vec<i64>,
    pub vehicle_id: Option<i64>,
    pub transport: Transport,
    pub purpose: TripPurpose,
    pub planned_start: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    pub note: Option<String>,
    /// (school, tickets, inspections), in order.
    pub stops: Vec<(i64, Vec<i64>, Vec<i64>)>,
    pub items: Vec<(ItemKind, String, Option<i64>)>,
}

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() { "NULL".into() } else { ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ") }
}

/// Writes a trip with its staff, stops, work and checklist; `Overlap` when a person or the
/// vehicle is on another live trip whose window overlaps.
pub async fn create(db: &Db, w: &Writer, t: &PlannedTrip, now: DateTime<Utc>) -> Result<(i64, String)> {
    let staff = id_list(&t.staff_ids);
    let lock_pg = format!("SELECT id FROM users WHERE id IN ({staff}) ORDER BY id FOR UPDATE");
    let clash = format!(
        "SELECT t.number, s.user_id FROM trips t JOIN trip_staff s ON s.trip_id = t.id \
         WHERE t.trip_date = $1 AND t.status IN ('planned', 'out') AND t.planned_start < $3 AND $2 < t.planned_end \
           AND s.user_id IN ({staff}) ORDER BY t.id LIMIT 1"
    );
    let vehicle_clash = "SELECT number FROM trips WHERE vehicle_id = $4 AND trip_date = $1 \
        AND status IN ('planned', 'out') AND planned_start < $3 AND $2 < planned_end ORDER BY id LIMIT 1";
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        if matches!(db, Db::Postgres(_)) {
            sqlx::query(sqlx::AssertSqlSafe(lock_pg.as_str())).execute(&mut *tx).await?;
            if let Some(v) = t.vehicle_id {
                sqlx::query("SELECT id FROM vehicles WHERE id = $1 FOR UPDATE").bind(v).execute(&mut *tx).await?;
            }
        }
        let person: Option<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(clash.as_str()))
            .bind(t.trip_date)
            .bind(t.planned_start)
            .bind(t.planned_end)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((number, user)) = person {
            return Err(StoreError::Overlap { trip: number, user_id: Some(user) });
        }
        if let Some(v) = t.vehicle_id {
            let other: Option<String> = sqlx::query_scalar(vehicle_clash)
                .bind(t.trip_date)
                .bind(t.planned_start)
                .bind(t.planned_end)
                .bind(v)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(number) = other {
                return Err(StoreError::Overlap { trip: number, user_id: None });
            }
        }
        let day = w.number_day(now);
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO number_counters (scope, last) VALUES ($1, 1) \
             ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + 1 RETURNING last",
        )
        .bind(format!("trip:{day}"))
        .fetch_one(&mut *tx)
        .await?;
        let number = format!("WC{day}-{n:04}");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO trips (number, trip_date, status, transport, vehicle_id, purpose, note, planned_start, \
                planned_end, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'planned', $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(&number)
        .bind(t.trip_date)
        .bind(t.transport.as_str())
        .bind(t.vehicle_id)
        .bind(t.purpose.as_str())
        .bind(&t.note)
        .bind(t.planned_start)
        .bind(t.planned_end)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["vehicle_id"]))?;
        for u in &t.staff_ids {
            sqlx::query("INSERT INTO trip_staff (trip_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(u)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_write_err(e, &["staff_ids"]))?;
        }
        for (pos, (school, tickets, rounds)) in t.stops.iter().enumerate() {
            let stop: i64 = sqlx::query_scalar(
                "INSERT INTO trip_stops (trip_id, position, customer_id) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(id)
            .bind(pos as i64 + 1)
            .bind(school)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| map_write_err(e, &["customer_id"]))?;
            for tk in tickets {
                sqlx::query("INSERT INTO trip_stop_tickets (stop_id, ticket_id) VALUES ($1, $2)")
                    .bind(stop)
                    .bind(tk)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| map_write_err(e, &["ticket_ids"]))?;
            }
            for r in rounds {
                sqlx::query("INSERT INTO trip_stop_inspections (stop_id, inspection_id) VALUES ($1, $2)")
                    .bind(stop)
                    .bind(r)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| map_write_err(e, &["inspection_ids"]))?;
            }
        }
        for (kind, text, qty) in &t.items {
            sqlx::query("INSERT INTO trip_items (trip_id, kind, text, qty) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(kind.as_str())
                .bind(text)
                .bind(qty)
                .execute(&mut *tx)
                .await?;
        }
        let after = serde_json::json!({"trip_date": t.trip_date, "staff_ids": t.staff_ids, "stops": t.stops.len()});
        crate::audit::record(&mut *tx, w, "trip", id, "create", &number, None, Some(after)).await?;
        tx.commit().await?;
        (id, number)
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<TripRow> {
    let sql = format!("{} WHERE t.id = $1", trip_select(db));
    on_db!(db, |p| sqlx::query_as::<_, TripRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
}

/// The stops of some trips, in order.
pub async fn stops_of(db: &Db, trips: &[i64]) -> Result<Vec<StopRow>> {
    if trips.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{STOP_SELECT} WHERE s.trip_id IN ({}) ORDER BY s.trip_id, s.position", id_list(trips));
    Ok(on_db!(db, |p| sqlx::query_as::<_, StopRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}

/// The tickets and rounds at a trip's stops.
pub async fn stop_jobs(db: &Db, trip: i64) -> Result<Vec<StopJobRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, StopJobRow>(
        "SELECT x.stop_id, 'ticket' AS kind, k.id, k.number, k.title, k.status FROM trip_stop_tickets x \
            JOIN tickets k ON k.id = x.ticket_id JOIN trip_stops s ON s.id = x.stop_id WHERE s.trip_id = $1 \
         UNION ALL \
         SELECT x.stop_id, 'inspection' AS kind, i.id, i.number, i.systems AS title, i.status \
            FROM trip_stop_inspections x JOIN inspections i ON i.id = x.inspection_id \
            JOIN trip_stops s ON s.id = x.stop_id WHERE s.trip_id = $1 \
         ORDER BY 1, 2 DESC, 3"
    )
    .bind(trip)
    .fetch_all(p)
    .await?))
}

pub async fn items(db: &Db, trip: i64) -> Result<Vec<ItemRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, ItemRow>(
        "SELECT id, kind, text, qty, checked FROM trip_items WHERE trip_id = $1 ORDER BY id"
    )
    .bind(trip)
    .fetch_all(p)
    .await?))
}

pub async fn costs(db: &Db, trip: i64) -> Result<Vec<CostRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, CostRow>(
        "SELECT kind, amount_cents FROM trip_costs WHERE trip_id = $1 ORDER BY id"
    )
    .bind(trip)
    .fetch_all(p)
    .await?))
}

pub async fn photos(db: &Db, trip: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar::<_, i64>("SELECT id FROM trip_photos WHERE trip_id = $1 ORDER BY id")
        .bind(trip)
        .fetch_all(p)
        .await?))
}

/// Which trips a list shows.
#[derive(Debug, Clone, Default)]
pub struct TripQuery {
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub user_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub status: Option<TripStatus>,
    /// Returned and not yet approved (the manager's queue).
    pub to_approve: bool,
    /// Out or returned with a stop not yet verified by phone (the agent's queue).
    pub to_verify: bool,
    /// Earliest first (a day's board, a month's sheet) instead of the latest first.
    pub soonest_first: bool,
}

fn filter(q: &TripQuery) -> Filter {
    let mut f = Filter::default();
    if let Some(d) = q.from {
        let a = f.arg(Arg::Date(d));
        f.and(format!("t.trip_date >= {a}"));
    }
    if let Some(d) = q.until {
        let a = f.arg(Arg::Date(d));
        f.and(format!("t.trip_date <= {a}"));
    }
    if let Some(u) = q.user_id {
        let a = f.arg(Arg::I64(u));
        f.and(format!("EXISTS (SELECT 1 FROM trip_staff s WHERE s.trip_id = t.id AND s.user_id = {a})"));
    }
    if let Some(v) = q.vehicle_id {
        let a = f.arg(Arg::I64(v));
        f.and(format!("t.vehicle_id = {a}"));
    }
    if let Some(s) = q.status {
        let a = f.arg(Arg::Text(s.as_str().into()));
        f.and(format!("t.status = {a}"));
    }
    if q.to_approve {
        f.and("t.status = 'returned' AND t.approved_at IS NULL".into());
    }
    if q.to_verify {
        f.and(
            "t.status IN ('out', 'returned') AND EXISTS (SELECT 1 FROM trip_stops x WHERE x.trip_id = t.id \
                AND x.arrived_at IS NOT NULL AND x.verified_at IS NULL)"
                .into(),
        );
    }
    f
}

pub async fn list(db: &Db, q: &TripQuery, page: Page) -> Result<Paged<TripRow>> {
    let f = filter(q);
    let w = f.where_sql();
    let order = if q.soonest_first { "t.trip_date, t.planned_start, t.id" } else { "t.trip_date DESC, t.id DESC" };
    let sql = format!("{} {w} ORDER BY {order} {}", trip_select(db), page.sql());
    let count_sql = format!("SELECT COUNT(*) FROM trips t {w}");
    let (items, total) = on_db!(db, |p| (
        bind_args!(sqlx::query_as::<_, TripRow>(sqlx::AssertSqlSafe(sql.as_str())), f.args).fetch_all(p).await?,
        bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql.as_str())), f.args).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn count(db: &Db, q: &TripQuery) -> Result<i64> {
    let f = filter(q);
    let sql = format!("SELECT COUNT(*) FROM trips t {}", f.where_sql());
    Ok(on_db!(db, |p| bind_args!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.as_str())), f.args)
        .fetch_one(p)
        .await?))
}

fn changed(n: u64) -> Result<()> {
    if n == 0 { Err(StoreError::Stale) } else { Ok(()) }
}

/// `planned → out`, with the reading and the reason for unticked lines.
pub async fn depart(
    db: &Db,
    w: &Writer,
    id: i64,
    odometer: Option<i64>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE trips SET status = 'out', departed_at = $2, depart_odometer = $3, depart_note = $4, \
                updated_at = $2 WHERE id = $1 AND status = 'planned'",
        )
        .bind(id)
        .bind(now)
        .bind(odometer)
        .bind(note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed(n)?;
        crate::audit::record(&mut *tx, w, "trip", id, "depart", note.unwrap_or_default(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// `out → returned`: the reading, the distance, the costs and the summary. The visits
/// recorded at its stops while it was out take the return time when they have none.
pub async fn return_trip(db: &Db, w: &Writer, id: i64, r: &Returning, now: DateTime<Utc>) -> Result<()> {
    let total: i64 = r.costs.iter().map(|(_, c)| c).sum();
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE trips SET status = 'returned', returned_at = $2, return_odometer = $3, distance_km = $4, \
                summary = $5, cost_cents = $6, updated_at = $2 WHERE id = $1 AND status = 'out'",
        )
        .bind(id)
        .bind(now)
        .bind(r.odometer)
        .bind(r.distance_km)
        .bind(&r.summary)
        .bind(total)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed(n)?;
        for (kind, cents) in &r.costs {
            sqlx::query("INSERT INTO trip_costs (trip_id, kind, amount_cents) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(kind.as_str())
                .bind(cents)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE visits SET returned_at = $2 WHERE returned_at IS NULL \
               AND ticket_id IN (SELECT x.ticket_id FROM trip_stop_tickets x JOIN trip_stops s ON s.id = x.stop_id \
                                 WHERE s.trip_id = $1) \
               AND created_at >= (SELECT departed_at FROM trips WHERE id = $1)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({"distance_km": r.distance_km, "cost_cents": total});
        crate::audit::record(
            &mut *tx,
            w,
            "trip",
            id,
            "return",
            r.summary.as_deref().unwrap_or_default(),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn cancel(db: &Db, w: &Writer, id: i64, reason: &str, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE trips SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3, updated_at = $2 \
             WHERE id = $1 AND status = 'planned'",
        )
        .bind(id)
        .bind(now)
        .bind(reason)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed(n)?;
        crate::audit::record(&mut *tx, w, "trip", id, "cancel", reason, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn approve(db: &Db, w: &Writer, id: i64, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE trips SET approved_at = $2, approved_by = $3, updated_at = $2 \
             WHERE id = $1 AND status = 'returned' AND approved_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(w.user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed(n)?;
        crate::audit::record(&mut *tx, w, "trip", id, "approve", "", None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Arrive at or leave a stop of a trip that is out; `Stale` when the stop moved meanwhile.
pub async fn stop_step(
    db: &Db,
    w: &Writer,
    (trip, stop): (i64, i64),
    action: StopAction,
    (confirmed_by, note): (Option<&str>, Option<&str>),
    now: DateTime<Utc>,
) -> Result<()> {
    let sql = match action {
        StopAction::Arrive => {
            "UPDATE trip_stops SET arrived_at = $3 WHERE id = $2 AND trip_id = $1 AND arrived_at IS NULL \
               AND EXISTS (SELECT 1 FROM trips WHERE id = $1 AND status = 'out')"
        }
        StopAction::Leave => {
            "UPDATE trip_stops SET left_at = $3, confirmed_by = COALESCE($4, confirmed_by), note = COALESCE($5, note) \
             WHERE id = $2 AND trip_id = $1 AND arrived_at IS NOT NULL AND left_at IS NULL \
               AND EXISTS (SELECT 1 FROM trips WHERE id = $1 AND status = 'out')"
        }
    };
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let q = sqlx::query(sql).bind(trip).bind(stop).bind(now);
        let q = if action == StopAction::Leave { q.bind(confirmed_by).bind(note) } else { q };
        let n = q.execute(&mut *tx).await?.rows_affected();
        changed(n)?;
        sqlx::query("UPDATE trips SET updated_at = $2 WHERE id = $1").bind(trip).bind(now).execute(&mut *tx).await?;
        crate::audit::record(&mut *tx, w, "trip", trip, action.as_str(), &stop.to_string(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// The agent's verification of a stop by phone (a later call replaces an earlier one).
pub async fn verify(db: &Db, w: &Writer, trip: i64, stop: i64, v: &Verification, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE trip_stops SET verified_at = $3, verified_by = $4, verified_ok = $5, verified_contact = $6, \
                verified_note = $7 WHERE id = $2 AND trip_id = $1",
        )
        .bind(trip)
        .bind(stop)
        .bind(now)
        .bind(w.user_id)
        .bind(v.confirmed)
        .bind(&v.contact)
        .bind(&v.note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let summary = if v.confirmed { "confirmed" } else { "not_confirmed" };
        crate::audit::record(&mut *tx, w, "trip", trip, "verify", summary, None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Ticks or unticks a line of what to bring, before departure.
pub async fn tick(db: &Db, w: &Writer, trip: i64, item: i64, checked: bool, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE trip_items SET checked = $3, checked_by = $4, checked_at = $5 WHERE id = $2 AND trip_id = $1 \
               AND EXISTS (SELECT 1 FROM trips WHERE id = $1 AND status = 'planned')",
        )
        .bind(trip)
        .bind(item)
        .bind(checked)
        .bind(w.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed(n)?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn add_item(db: &Db, trip: i64, kind: ItemKind, text: &str, qty: Option<i64>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO trip_items (trip_id, kind, text, qty) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM trips WHERE id = $1 AND status = 'planned') RETURNING id",
        )
        .bind(trip)
        .bind(kind.as_str())
        .bind(text)
        .bind(qty)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else { return Err(StoreError::Stale) };
        tx.commit().await?;
        id
    }))
}

pub async fn add_photo(db: &Db, w: &Writer, trip: i64, ct: &str, data: &[u8], now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO trip_photos (trip_id, content_type, data, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(trip)
        .bind(ct)
        .bind(data)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        id
    }))
}

/// A receipt: its trip, then its bytes.
pub async fn photo(db: &Db, photo: i64) -> Result<Option<(i64, String, Vec<u8>)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, String, Vec<u8>)>(
        "SELECT trip_id, content_type, data FROM trip_photos WHERE id = $1"
    )
    .bind(photo)
    .fetch_optional(p)
    .await?))
}

/// Who is away on a day, and why.
pub async fn absences(db: &Db, day: NaiveDate) -> Result<Vec<(i64, String)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, String)>(
        "SELECT user_id, reason FROM absences WHERE day = $1 ORDER BY user_id"
    )
    .bind(day)
    .fetch_all(p)
    .await?))
}

/// Sets a day away, or clears it (`None`).
pub async fn set_absence(
    db: &Db,
    w: &Writer,
    user: i64,
    day: NaiveDate,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        match reason {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO absences (user_id, day, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (user_id, day) DO UPDATE SET reason = $3",
                )
                .bind(user)
                .bind(day)
                .bind(r)
                .bind(w.user_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_write_err(e, &["user_id"]))?;
            }
            None => {
                sqlx::query("DELETE FROM absences WHERE user_id = $1 AND day = $2")
                    .bind(user)
                    .bind(day)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        crate::audit::record(&mut *tx, w, "absence", user, "update", &day.to_string(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// A job of a day as the proposal needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayJobRow {
    /// `ticket` or `inspection`.
    pub kind: String,
    pub id: i64,
    pub number: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub town: String,
    pub travel_minutes: Option<i64>,
    /// Comma-separated.
    pub staff_ids: String,
}

/// The day's work not yet on a live trip: tickets scheduled in `[from, until)` (scheduled
/// or under way) and rounds planned that day (planned or under way), in filing order.
pub async fn day_jobs(db: &Db, day: NaiveDate, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<DayJobRow>> {
    let (tk, it) = match db {
        Db::Sqlite(_) => (
            "(SELECT COALESCE(group_concat(user_id, ','), '') FROM ticket_technicians x WHERE x.ticket_id = k.id)",
            "(SELECT COALESCE(group_concat(user_id, ','), '') FROM inspection_technicians x \
                WHERE x.inspection_id = i.id)",
        ),
        Db::Postgres(_) => (
            "(SELECT COALESCE(string_agg(user_id::text, ','), '') FROM ticket_technicians x WHERE x.ticket_id = k.id)",
            "(SELECT COALESCE(string_agg(user_id::text, ','), '') FROM inspection_technicians x \
                WHERE x.inspection_id = i.id)",
        ),
    };
    let sql = format!(
        "SELECT 'ticket' AS kind, k.id, k.number, k.customer_id, c.name AS customer_name, c.town, CAST(c.travel_minutes AS BIGINT) AS travel_minutes, {tk} AS staff_ids, k.created_at \
            FROM tickets k JOIN customers c ON c.id = k.customer_id \
            WHERE k.scheduled_at >= $2 AND k.scheduled_at < $3 AND k.status IN ('scheduled', 'in_progress') \
              AND NOT EXISTS (SELECT 1 FROM trip_stop_tickets x JOIN trip_stops s ON s.id = x.stop_id \
                JOIN trips t ON t.id = s.trip_id WHERE x.ticket_id = k.id AND t.status IN ('planned', 'out')) \
         UNION ALL \
         SELECT 'inspection' AS kind, i.id, i.number, i.customer_id, c.name AS customer_name, c.town, CAST(c.travel_minutes AS BIGINT) AS travel_minutes, {it} AS staff_ids, i.created_at \
            FROM inspections i JOIN customers c ON c.id = i.customer_id \
            WHERE i.planned_on = $1 AND i.status IN ('planned', 'in_progress') \
              AND NOT EXISTS (SELECT 1 FROM trip_stop_inspections x JOIN trip_stops s ON s.id = x.stop_id \
                JOIN trips t ON t.id = s.trip_id WHERE x.inspection_id = i.id AND t.status IN ('planned', 'out')) \
         ORDER BY 9, 1 DESC, 2"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, DayJobRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(day)
        .bind(from)
        .bind(until)
        .fetch_all(p)
        .await?))
}

/// A school's work that a stop without ids takes: its tickets scheduled or under way
/// assigned to one of `staff` (or to nobody), and its rounds planned that day.
pub async fn school_work(db: &Db, school: i64, day: NaiveDate, staff: &[i64]) -> Result<(Vec<i64>, Vec<i64>)> {
    let staff = id_list(staff);
    let tickets = format!(
        "SELECT k.id FROM tickets k WHERE k.customer_id = $1 AND k.status IN ('scheduled', 'in_progress') \
           AND (EXISTS (SELECT 1 FROM ticket_technicians x WHERE x.ticket_id = k.id AND x.user_id IN ({staff})) \
                OR NOT EXISTS (SELECT 1 FROM ticket_technicians x WHERE x.ticket_id = k.id)) ORDER BY k.id LIMIT 50"
    );
    Ok(on_db!(db, |p| (
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(tickets.as_str())).bind(school).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM inspections WHERE customer_id = $1 AND planned_on = $2 \
               AND status IN ('planned', 'in_progress') ORDER BY id LIMIT 50"
        )
        .bind(school)
        .bind(day)
        .fetch_all(p)
        .await?,
    )))
}

/// What the tickets and rounds of a trip need brought: requisition lines (part, qty,
/// requisition number), the tickets' "parts to bring", the rounds' numbers and systems,
/// and the tickets' systems.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub parts: Vec<(String, i64, String)>,
    pub to_bring: Vec<(String, String)>,
    pub rounds: Vec<(String, String, String)>,
    pub systems: Vec<String>,
}

pub async fn needs(db: &Db, tickets: &[i64], rounds: &[i64]) -> Result<Needs> {
    let t = id_list(tickets);
    let r = id_list(rounds);
    let parts = format!(
        "SELECT p.name, l.qty_requested, q.requisition_no FROM requisitions q \
            JOIN requisition_lines l ON l.requisition_id = q.id JOIN parts p ON p.id = l.part_id \
         WHERE q.ticket_id IN ({t}) AND q.status IN ('requested', 'approved', 'issued') ORDER BY q.id, l.line_no"
    );
    let to_bring = format!(
        "SELECT number, parts_to_bring FROM tickets WHERE id IN ({t}) AND parts_to_bring IS NOT NULL \
            AND parts_to_bring <> '' ORDER BY id"
    );
    let round_sql = format!(
        "SELECT i.number, c.name, i.systems FROM inspections i JOIN customers c ON c.id = i.customer_id \
         WHERE i.id IN ({r}) ORDER BY i.id"
    );
    let systems = format!("SELECT DISTINCT system FROM tickets WHERE id IN ({t})");
    Ok(on_db!(db, |p| Needs {
        parts: sqlx::query_as(sqlx::AssertSqlSafe(parts.as_str())).fetch_all(p).await?,
        to_bring: sqlx::query_as(sqlx::AssertSqlSafe(to_bring.as_str())).fetch_all(p).await?,
        rounds: sqlx::query_as(sqlx::AssertSqlSafe(round_sql.as_str())).fetch_all(p).await?,
        systems: sqlx::query_scalar(sqlx::AssertSqlSafe(systems.as_str())).fetch_all(p).await?,
    }))
}

/// Which of `tickets` belong to `school`, and which of `rounds` (the ids a stop names).
pub async fn of_school(db: &Db, school: i64, tickets: &[i64], rounds: &[i64]) -> Result<(Vec<i64>, Vec<i64>)> {
    let t = format!("SELECT id FROM tickets WHERE customer_id = $1 AND id IN ({})", id_list(tickets));
    let r = format!("SELECT id FROM inspections WHERE customer_id = $1 AND id IN ({})", id_list(rounds));
    Ok(on_db!(db, |p| (
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(t.as_str())).bind(school).fetch_all(p).await?,
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(r.as_str())).bind(school).fetch_all(p).await?,
    )))
}

/// The times of the latest trip that carried `ticket` to its school with `user` aboard and
/// is out or back: (departed, arrived at the stop, returned).
pub async fn ticket_trip_times(
    db: &Db,
    ticket: i64,
    user: i64,
) -> Result<Option<(i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>(
        "SELECT t.id, t.departed_at, s.arrived_at, t.returned_at FROM trip_stop_tickets x \
            JOIN trip_stops s ON s.id = x.stop_id JOIN trips t ON t.id = s.trip_id \
            JOIN trip_staff st ON st.trip_id = t.id AND st.user_id = $2 \
         WHERE x.ticket_id = $1 AND t.status IN ('out', 'returned') ORDER BY t.departed_at DESC, t.id DESC LIMIT 1"
    )
    .bind(ticket)
    .bind(user)
    .fetch_optional(p)
    .await?))
}

/// A person's or a vehicle's figures over a period.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TripFigures {
    pub key: i64,
    pub label: String,
    pub trips: i64,
    pub km: i64,
    pub cost_cents: i64,
    pub stops: i64,
    pub stops_verified: i64,
    /// Visits recorded on the tickets its stops carried.
    pub visits: i64,
}

/// Kilometres, costs, stops verified and visits per person (`by_vehicle` false) or per
/// vehicle, over the trips back in `[from, until]`.
pub async fn figures(db: &Db, from: NaiveDate, until: NaiveDate, by_vehicle: bool) -> Result<Vec<TripFigures>> {
    let (key, label, join) = if by_vehicle {
        ("v.id", "v.plate", "JOIN vehicles v ON v.id = t.vehicle_id")
    } else {
        ("u.id", "u.display_name", "JOIN trip_staff ts ON ts.trip_id = t.id JOIN users u ON u.id = ts.user_id")
    };
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, COUNT(*) AS trips, \
            CAST(COALESCE(SUM(t.distance_km), 0) AS BIGINT) AS km, \
            CAST(COALESCE(SUM(t.cost_cents), 0) AS BIGINT) AS cost_cents, \
            CAST(COALESCE(SUM((SELECT COUNT(*) FROM trip_stops s WHERE s.trip_id = t.id)), 0) AS BIGINT) AS stops, \
            CAST(COALESCE(SUM((SELECT COUNT(*) FROM trip_stops s WHERE s.trip_id = t.id AND s.verified_ok)), 0) \
                AS BIGINT) AS stops_verified, \
            CAST(COALESCE(SUM((SELECT COUNT(*) FROM visits vi JOIN trip_stop_tickets x ON x.ticket_id = vi.ticket_id \
                JOIN trip_stops s ON s.id = x.stop_id WHERE s.trip_id = t.id AND vi.created_at >= t.departed_at \
                AND vi.created_at <= t.returned_at)), 0) AS BIGINT) AS visits \
         FROM trips t {join} WHERE t.status = 'returned' AND t.trip_date >= $1 AND t.trip_date <= $2 \
         GROUP BY {key}, {label} ORDER BY {label}"
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, TripFigures>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(from)
        .bind(until)
        .fetch_all(p)
        .await?))
}

/// Costs per kind over the trips of `ids` (the month's sheet): (trip, kind, cents).
pub async fn costs_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String, i64)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT trip_id, kind, CAST(SUM(amount_cents) AS BIGINT) FROM trip_costs WHERE trip_id IN ({}) GROUP BY trip_id, kind",
        id_list(ids)
    );
    Ok(on_db!(db, |p| sqlx::query_as::<_, (i64, String, i64)>(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?))
}
