//! Appraisals (考核) and the periods' study plans (学习计划): the appraisal as recorded, the
//! decision that freezes its figures, and the period's facts it is weighed on that the
//! scorecards do not hold (trainings attended, callbacks made).

use crate::db::WritePool;
use crate::{Db, Result, StoreError, Writer, map_write_err, on_db};
use aftercare_domain::appraisals::{AppraisalOutcome, Decision, NewAppraisal};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AppraisalRow {
    pub id: i64,
    pub user_id: i64,
    pub display_name: String,
    pub period: String,
    pub period_from: NaiveDate,
    pub period_until: NaiveDate,
    pub exam_score: Option<f64>,
    pub note: Option<String>,
    #[sqlx(try_from = "crate::db::NullableText")]
    pub outcome: Option<AppraisalOutcome>,
    pub decision_note: Option<String>,
    /// Frozen at the decision; before it, the figures are read live.
    pub total: Option<f64>,
    #[serde(skip)]
    pub parts_json: Option<String>,
    #[serde(skip)]
    pub weights_json: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const SELECT: &str = "SELECT a.id, a.user_id, u.display_name, a.period, a.period_from, a.period_until, a.exam_score, \
    a.note, a.outcome, a.decision_note, a.total, a.parts_json, a.weights_json, d.display_name AS decided_by_name, \
    a.decided_at, a.created_at \
    FROM appraisals a JOIN users u ON u.id = a.user_id LEFT JOIN users d ON d.id = a.decided_by";

pub async fn create(db: &Db, w: &Writer, a: &NewAppraisal, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO appraisals (user_id, period, period_from, period_until, exam_score, note, created_by, \
                created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(a.user_id)
        .bind(a.period.label())
        .bind(a.period.from)
        .bind(a.period.until)
        .bind(a.exam_score)
        .bind(&a.note)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_write_err(e, &["period", "user_id"]))?;
        crate::audit::record(&mut *tx, w, "appraisal", id, "create", &a.period.label(), None, None).await?;
        tx.commit().await?;
        id
    }))
}

pub async fn get(db: &Db, id: i64) -> Result<AppraisalRow> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    on_db!(db, |p| sqlx::query_as::<_, AppraisalRow>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(p)
        .await?)
    .ok_or(StoreError::NotFound)
}

/// The appraisals of some periods (all when empty), of one person or everyone.
pub async fn list(db: &Db, periods: &[String], user: Option<i64>) -> Result<Vec<AppraisalRow>> {
    let mut conds = Vec::new();
    let n = periods.len();
    if !periods.is_empty() {
        conds.push(format!("a.period IN ({})", (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")));
    }
    if user.is_some() {
        conds.push(format!("a.user_id = ${}", n + 1));
    }
    let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    let sql = format!("{SELECT}{filter} ORDER BY a.period_from DESC, u.display_name, a.id LIMIT 2000");
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, AppraisalRow>(sqlx::AssertSqlSafe(sql.as_str()));
        for period in periods {
            q = q.bind(period);
        }
        if let Some(u) = user {
            q = q.bind(u);
        }
        q.fetch_all(p).await?
    }))
}

/// What a decision was made on, kept with it.
#[derive(Debug, Clone)]
pub struct Frozen {
    pub exam_score: Option<f64>,
    pub total: Option<f64>,
    pub parts_json: String,
    pub weights_json: String,
}

/// Records the decision and freezes what it was made on; `Stale` when it was decided
/// meanwhile.
pub async fn decide(db: &Db, w: &Writer, id: i64, d: &Decision, f: &Frozen, now: DateTime<Utc>) -> Result<()> {
    on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let n = sqlx::query(
            "UPDATE appraisals SET outcome = $2, decision_note = $3, exam_score = $4, total = $5, parts_json = $6, \
                weights_json = $7, decided_by = $8, decided_at = $9, updated_at = $9 \
             WHERE id = $1 AND outcome IS NULL",
        )
        .bind(id)
        .bind(d.outcome.as_str())
        .bind(&d.note)
        .bind(f.exam_score)
        .bind(f.total)
        .bind(&f.parts_json)
        .bind(&f.weights_json)
        .bind(w.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Stale);
        }
        crate::audit::record(&mut *tx, w, "appraisal", id, "decide", d.outcome.as_str(), None, None).await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Trainings each person attended (present) that were completed in `[from, until)`:
/// everyone's in one statement, or one person's (`user`).
pub async fn trainings_attended(
    db: &Db,
    user: Option<i64>,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<(i64, i64)>> {
    let only = if user.is_some() { " AND a.user_id = $3" } else { "" };
    let sql = format!(
        "SELECT a.user_id, COUNT(DISTINCT t.id) FROM trainings t JOIN training_attendees a ON a.training_id = t.id \
         WHERE a.user_id IS NOT NULL AND a.present AND t.status = 'completed' AND t.planned_on >= $1 \
         AND t.planned_on < $2{only} GROUP BY a.user_id"
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql.as_str())).bind(from).bind(until);
        if let Some(u) = user {
            q = q.bind(u);
        }
        q.fetch_all(p).await?
    }))
}

/// Callbacks each person made in `[from, to)` — a resolved ticket called back (closed or
/// reopened), or an attempt that did not get through: everyone's in one statement (one
/// read of the period's events however many people are appraised), or one person's.
pub async fn callbacks(db: &Db, user: Option<i64>, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    let only = if user.is_some() { " AND actor_id = $3" } else { "" };
    let sql = format!(
        "SELECT actor_id, COUNT(*) FROM ticket_events WHERE actor_id IS NOT NULL AND at >= $1 AND at < $2 \
         AND (kind = 'callback_attempt' OR (kind = 'transition' AND from_status = 'resolved')){only} \
         GROUP BY actor_id"
    );
    Ok(on_db!(db, |p| {
        let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql.as_str())).bind(from).bind(to);
        if let Some(u) = user {
            q = q.bind(u);
        }
        q.fetch_all(p).await?
    }))
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StudyPlanRow {
    pub id: i64,
    pub period: String,
    pub title: String,
    pub content: Option<String>,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn add_study_plan(
    db: &Db,
    w: &Writer,
    period: &str,
    title: &str,
    content: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(on_db!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO study_plans (period, title, content, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(period)
        .bind(title)
        .bind(content)
        .bind(w.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        crate::audit::record(&mut *tx, w, "study_plan", id, "create", title, None, None).await?;
        tx.commit().await?;
        id
    }))
}

pub async fn study_plans(db: &Db, period: &str) -> Result<Vec<StudyPlanRow>> {
    Ok(on_db!(db, |p| sqlx::query_as::<_, StudyPlanRow>(
        "SELECT s.id, s.period, s.title, s.content, u.display_name AS created_by_name, s.created_at \
         FROM study_plans s LEFT JOIN users u ON u.id = s.created_by WHERE s.period = $1 ORDER BY s.id"
    )
    .bind(period)
    .fetch_all(p)
    .await?))
}
