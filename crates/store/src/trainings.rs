//! Trainings (培训): the training with its schools, systems and trainers, who attended,
//! the materials handed out, and what the coverage is counted from.

use crate::db::WritePool;
use crate::{Db, Page, Paged, Result, StoreError, Writer, map_write_err, on_db};
use aftercare_domain::System;
use aftercare_domain::inspections::Phase;
use aftercare_domain::trainings::{Completion, NewAttendee, NewTraining, TrainingKind, TrainingStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TrainingRow {
    pub id: i64,
    /// `PX20261206-01`.
    pub number: String,
    #[sqlx(try_from = "String")]
    pub kind: TrainingKind,
    pub title: String,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub phase: Option<Phase>,
    pub planned_on: NaiveDate,
    pub place: Option<String>,
    pub topics: Option<String>,
    pub provider: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: TrainingStatus,
    pub feedback_score: Option<i64>,
    pub feedback_note: Option<String>,
    pub summary: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The systems taught, comma-separated ids (`network,classroom`).
    pub systems: String,
    /// The schools' names, joined by 、.
    pub school_names: String,
    /// The trainers' names, joined by 、.
    pub trainer_names: String,
    /// People present.
    pub present: i64,
    pub created_at: DateTime<Utc>,
}

impl TrainingRow {
    pub fn system_list(&self) -> Vec<System> {
        self.systems.split(',').filter_map(System::parse).collect()
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AttendeeRow {
    pub id: i64,
    pub name: String,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub user_id: Option<i64>,
    pub present: bool,
    pub administrator: bool,
    pub result: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MaterialMeta {
    pub id: i64,
    pub training_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: DateTime<Utc>,
}

/// The filters of the list.
#[derive(Debug, Clone, Default)]
pub struct TrainingFilter {
    pub kind: Option<TrainingKind>,
    pub status: Option<TrainingStatus>,
    /// Only the trainings of this school (a school's own view).
    pub customer_id: Option<i64>,
    /// Only those this person trains or attends.
    pub person_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

fn agg(db: &Db, expr: &str, from: &str) -> String {
    match db {
        Db::Sqlite(_) => format!("(SELECT COALESCE(group_concat({expr}, '、'), '') {from})"),
        Db::Postgres(_) => format!("(SELECT COALESCE(string_agg({expr}, '、' ORDER BY 1), '') {from})"),
    }
}

fn select(db: &Db) -> String {
    let systems = match db {
        Db::Sqlite(_) => {
            "(SELECT COALESCE(group_concat(s.system, ','), '') FROM training_systems s WHERE s.training_id = t.id)"
                .to_owned()
        }
        Db::Postgres(_) => "(SELECT COALESCE(string_agg(s.system, ',' ORDER BY s.system), '') FROM training_systems s \
             WHERE s.training_id = t.id)"
            .to_owned(),
    };
    let schools = agg(
        db,
        "c.name",
        "FROM training_schools x JOIN customers c ON c.id = x.customer_id WHERE x.training_id = t.id",
    );
    let trainers = agg(
        db,
        "u.display_name",
        "FROM training_trainers x JOIN users u ON u.id = x.user_id WHERE x.training_id = t.id",
    );
    format!(
        "SELECT t.id, t.number, t.kind, t.title, t.phase, t.planned_on, t.place, t.topics, t.provider, t.status, \
            t.feedback_score, t.feedback_note, t.summary, t.completed_at, {systems} AS systems, \
            {schools} AS school_names, {trainers} AS trainer_names, \
            (SELECT COUNT(*) FROM training_attendees a WHERE a.training_id = t.id AND a.present) AS present, \
            t.created_at \
         FROM trainings t"
    )
}

pub async fn create(db: &Db, w: &Writer, t: &NewTraining, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let day = w.number_day(now);
        let n = crate::parts::next_number(&mut *tx, &format!("training:{day}")).await?;
        let number = format!("PX{day}-{n:02}");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO trainings (number, kind, title, phase, planned_on, place, topics, provider, status, \
                created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'planned', $9, $10, $10) RETURNING id",
        )
        .bind(&number)
        .bind(t.kind.as_str())
        .bind(&t.title)
        .bind(t.phase.map(|p| p.as_str()))
        .bind(t.planned_on)
        .bind(&t.place)
        .bind(&t.topics)
        .bind(&t.provider)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for c in &t.customer_ids {
            sqlx::query("INSERT INTO training_schools (training_id, customer_id) VALUES ($1, $2)")
                .bind(id)
                .bind(c)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_write_err(e, &["customer_ids"]))?;
        }
        for s in &t.systems {
            sqlx::query("INSERT INTO training_systems (training_id, system) VALUES ($1, $2)")
                .bind(id)
                .bind(s.as_str())
                .execute(&mut *tx)
                .await?;
        }
        for u in &t.trainer_ids {
            sqlx::query("INSERT INTO training_trainers (training_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(u)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_write_err(e, &["trainer_ids"]))?;
        }
        crate::audit::record(&mut *tx, w, "training", id, "create", &format!("{number} {}", t.title), None, None)
            .await?;
        tx.commit().await?;
        id
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<TrainingRow> {
    let sql = format!("{} WHERE t.id = $1", select(db));
    on_db!(db, |p| sqlx::query_as::<_, TrainingRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// The schools a training is for, with their names.
pub async fn schools(db: &Db, id: i64) -> Result<Vec<(i64, String)>> {
    Ok(on_db!(db, |p| sqlx::query_as(
        "SELECT x.customer_id, c.name FROM training_schools x JOIN customers c ON c.id = x.customer_id \
         WHERE x.training_id = $1 ORDER BY x.customer_id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

/// The trainers' user ids.
pub async fn trainers(db: &Db, id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, |p| sqlx::query_scalar(
        "SELECT user_id FROM training_trainers WHERE training_id = $1 ORDER BY user_id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

pub async fn list(db: &Db, f: &TrainingFilter, page: Page) -> Result<Paged<TrainingRow>> {
    let mut conds: Vec<String> = Vec::new();
    let mut n = 0;
    let mut arg = || {
        n += 1;
        format!("${n}")
    };
    if f.kind.is_some() {
        conds.push(format!("t.kind = {}", arg()));
    }
    if f.status.is_some() {
        conds.push(format!("t.status = {}", arg()));
    }
    if f.customer_id.is_some() {
        conds.push(format!(
            "EXISTS (SELECT 1 FROM training_schools x WHERE x.training_id = t.id AND x.customer_id = {})",
            arg()
        ));
    }
    if f.person_id.is_some() {
        let a = arg();
        conds.push(format!(
            "(EXISTS (SELECT 1 FROM training_trainers x WHERE x.training_id = t.id AND x.user_id = {a}) \
              OR EXISTS (SELECT 1 FROM training_attendees x WHERE x.training_id = t.id AND x.user_id = {a}))"
        ));
    }
    if f.from.is_some() {
        conds.push(format!("t.planned_on >= {}", arg()));
    }
    if f.until.is_some() {
        conds.push(format!("t.planned_on <= {}", arg()));
    }
    let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    let sql = format!("{}{filter} ORDER BY t.planned_on DESC, t.id DESC {}", select(db), page.sql());
    let count = format!("SELECT COUNT(*) FROM trainings t{filter}");
    macro_rules! bind_filter {
        ($q:expr) => {{
            let mut q = $q;
            if let Some(k) = f.kind {
                q = q.bind(k.as_str());
            }
            if let Some(s) = f.status {
                q = q.bind(s.as_str());
            }
            if let Some(c) = f.customer_id {
                q = q.bind(c);
            }
            if let Some(u) = f.person_id {
                q = q.bind(u);
            }
            if let Some(d) = f.from {
                q = q.bind(d);
            }
            if let Some(d) = f.until {
                q = q.bind(d);
            }
            q
        }};
    }
    let (items, total) = on_db!(db, |p| (
        bind_filter!(sqlx::query_as::<_, TrainingRow>(sqlx::AssertSqlSafe(sql.as_str()))).fetch_all(p).await?,
        bind_filter!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count.as_str()))).fetch_one(p).await?,
    ));
    Ok(Paged { items, total, capped: false })
}

pub async fn attendees(db: &Db, id: i64) -> Result<Vec<AttendeeRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, AttendeeRow>(
        "SELECT a.id, a.name, a.customer_id, c.name AS customer_name, a.user_id, a.present, a.administrator, a.result \
         FROM training_attendees a LEFT JOIN customers c ON c.id = a.customer_id \
         WHERE a.training_id = $1 ORDER BY a.position"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

/// Replaces the attendance of a training that is not cancelled (checked in the same
/// transaction, so a cancel in between is not overwritten). Returns the number present.
pub async fn set_attendance(db: &Db, w: &Writer, id: i64, people: &[NewAttendee], now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM trainings WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound),
            Some("cancelled") => return Err(StoreError::Stale),
            Some(_) => {}
        }
        sqlx::query("DELETE FROM training_attendees WHERE training_id = $1").bind(id).execute(&mut *tx).await?;
        for (i, a) in people.iter().enumerate() {
            sqlx::query(
                "INSERT INTO training_attendees (training_id, position, name, customer_id, user_id, present, \
                    administrator, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(i as i64 + 1)
            .bind(&a.name)
            .bind(a.customer_id)
            .bind(a.user_id)
            .bind(a.present)
            .bind(a.administrator)
            .bind(&a.result)
            .execute(&mut *tx)
            .await
            .map_err(|e| map_write_err(e, &["user_id"]))?;
        }
        sqlx::query("UPDATE trainings SET updated_at = $2 WHERE id = $1").bind(id).bind(now).execute(&mut *tx).await?;
        let present = people.iter().filter(|a| a.present).count() as i64;
        crate::audit::record(
            &mut *tx,
            w,
            "training",
            id,
            "attendance",
            &format!("{present}/{}", people.len()),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        present
    }))
}

/// Moves a planned training on; `Stale` when it is no longer planned (someone else was
/// first).
pub async fn finish(
    db: &Db,
    w: &Writer,
    id: i64,
    to: TrainingStatus,
    done: &Completion,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE trainings SET status = $2, feedback_score = $3, feedback_note = $4, summary = $5, \
                completed_at = $6, updated_at = $7 WHERE id = $1 AND status = 'planned'",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(done.feedback_score)
        .bind(&done.feedback_note)
        .bind(&done.summary)
        .bind((to == TrainingStatus::Completed).then_some(now))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(&mut *tx, w, "training", id, to.as_str(), to.as_str(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn add_material(
    db: &Db,
    w: &Writer,
    id: i64,
    f: &crate::attachments::NewAttachment,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let mid: i64 = sqlx::query_scalar(
            "INSERT INTO training_materials (training_id, filename, content_type, data, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(id)
        .bind(&f.filename)
        .bind(&f.content_type)
        .bind(&f.data)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["training_id"]))?;
        crate::audit::record(&mut *tx, w, "training", id, "material", &f.filename, None, None).await?;
        tx.commit().await?;
        mid
    }))
}

pub async fn materials(db: &Db, id: i64) -> Result<Vec<MaterialMeta>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, MaterialMeta>(
        "SELECT id, training_id, filename, content_type, CAST(LENGTH(data) AS BIGINT) AS size, created_at \
         FROM training_materials WHERE training_id = $1 ORDER BY id"
    )
    .bind(id)
    .fetch_all(p)
    .await?))
}

#[derive(sqlx::FromRow)]
struct MaterialFile {
    #[sqlx(flatten)]
    meta: MaterialMeta,
    data: Vec<u8>,
}

/// A material with its bytes.
pub async fn material(db: &Db, material_id: i64) -> Result<(MaterialMeta, Vec<u8>)> {
    let row: Option<MaterialFile> = on_db!(db, |p| sqlx::query_as(
        "SELECT id, training_id, filename, content_type, CAST(LENGTH(data) AS BIGINT) AS size, created_at, data \
         FROM training_materials WHERE id = $1"
    )
    .bind(material_id)
    .fetch_optional(p)
    .await?);
    let f = row.ok_or(StoreError::NotFound)?;
    Ok((f.meta, f.data))
}

/// Every school with the systems its equipment runs (the coverage's rows); `customer_id`
/// narrows it to one school.
pub async fn school_systems(db: &Db, customer_id: Option<i64>) -> Result<Vec<(i64, String, String)>> {
    let only = if customer_id.is_some() { " AND c.id = $1" } else { "" };
    let sql = format!(
        "SELECT c.id, c.name, e.system FROM customers c JOIN equipment e ON e.customer_id = c.id \
         WHERE 1 = 1{only} GROUP BY c.id, c.name, e.system ORDER BY c.id"
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, (i64, String, String)>(sqlx::AssertSqlSafe(sql.as_str()));
        if let Some(c) = customer_id {
            q = q.bind(c);
        }
        q.fetch_all(p).await?
    }))
}

/// What a completed customer training taught one of its schools.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaughtRow {
    pub customer_id: i64,
    pub phase: String,
    pub held_on: NaiveDate,
    /// Comma-separated system ids.
    pub systems: String,
    /// That school's people present.
    pub people: i64,
    /// Its administrators among them.
    pub administrators: i64,
}

/// What each completed customer training taught each of its schools: the phase, the
/// systems, the day, and that school's people present (administrators among them).
pub async fn taught(db: &Db, customer_id: Option<i64>) -> Result<Vec<TaughtRow>> {
    let only = if customer_id.is_some() { " AND x.customer_id = $1" } else { "" };
    let systems = match db {
        Db::Sqlite(_) => {
            "(SELECT COALESCE(group_concat(s.system, ','), '') FROM training_systems s \
            WHERE s.training_id = t.id)"
        }
        Db::Postgres(_) => {
            "(SELECT COALESCE(string_agg(s.system, ','), '') FROM training_systems s \
            WHERE s.training_id = t.id)"
        }
    };
    let sql = format!(
        "SELECT x.customer_id, t.phase, t.planned_on AS held_on, {systems} AS systems, \
            (SELECT COUNT(*) FROM training_attendees a WHERE a.training_id = t.id AND a.customer_id = x.customer_id \
                AND a.present) AS people, \
            (SELECT COUNT(*) FROM training_attendees a WHERE a.training_id = t.id AND a.customer_id = x.customer_id \
                AND a.present AND a.administrator) AS administrators \
         FROM trainings t JOIN training_schools x ON x.training_id = t.id \
         WHERE t.kind = 'customer' AND t.status = 'completed' AND t.phase IS NOT NULL{only}"
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, TaughtRow>(sqlx::AssertSqlSafe(sql.as_str()));
        if let Some(c) = customer_id {
            q = q.bind(c);
        }
        q.fetch_all(p).await?
    }))
}
