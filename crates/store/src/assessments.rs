//! Assessments: proposed penalty events and their review, and the scorecards per person.

use crate::db::WritePool;
use crate::{Db, Page, Paged, Result, StoreError, Writer, on_db};
use aftercare_domain::assessments::{PenaltyKind, PenaltyStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PenaltyRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: PenaltyKind,
    pub user_id: i64,
    pub user_name: String,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    pub related_ticket_id: Option<i64>,
    pub at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: PenaltyStatus,
    pub reason: String,
    pub reviewed_by: Option<i64>,
    /// Who reviewed it, by name.
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    /// The missed call a `missed_call` event is about.
    pub contact_id: Option<i64>,
}

const PENALTY_SELECT: &str = "SELECT pe.id, pe.kind, pe.user_id, u.display_name AS user_name, pe.ticket_id, \
    t.number AS ticket_number, \
    pe.related_ticket_id, pe.at, pe.status, pe.reason, pe.reviewed_by, rv.display_name AS reviewed_by_name, \
    pe.reviewed_at, pe.review_note, pe.contact_id \
    FROM penalty_events pe JOIN users u ON u.id = pe.user_id LEFT JOIN tickets t ON t.id = pe.ticket_id \
    LEFT JOIN users rv ON rv.id = pe.reviewed_by";

pub async fn penalties(
    db: &Db,
    status: Option<PenaltyStatus>,
    user_id: Option<i64>,
    page: Page,
) -> Result<Paged<PenaltyRow>> {
    let sql = format!(
        "{PENALTY_SELECT} WHERE ($1 = '' OR pe.status = $1) AND ($2 < 0 OR pe.user_id = $2) ORDER BY pe.id DESC {}",
        page.sql()
    );
    let (items, total) = on_db!(db, |p| {
        (
        sqlx::query_as::<_, PenaltyRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(status.map(PenaltyStatus::as_str).unwrap_or_default())
            .bind(user_id.unwrap_or(-1))
            .fetch_all(p)
            .await?,
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM penalty_events pe WHERE ($1 = '' OR pe.status = $1) AND ($2 < 0 OR pe.user_id = $2)"
        )
        .bind(status.map(PenaltyStatus::as_str).unwrap_or_default())
        .bind(user_id.unwrap_or(-1))
        .fetch_one(p)
        .await?,
    )
    });
    Ok(Paged { items, total, capped: false })
}

/// Confirms or dismisses a proposed event (only once).
pub async fn review_penalty(
    db: &Db,
    w: &Writer,
    id: i64,
    status: PenaltyStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    on_db!(db, |p| {
        let mut tx = p.begin_write().await?;
        let n = sqlx::query(
            "UPDATE penalty_events SET status = $2, reviewed_by = $3, reviewed_at = $4, review_note \
            = $5 WHERE id = $1 AND status = 'proposed'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(w.user_id)
        .bind(now)
        .bind(note)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM penalty_events WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(if exists.is_some() { StoreError::Stale } else { StoreError::NotFound });
        }
        crate::audit::record(
            &mut *tx,
            w,
            "penalty",
            id,
            status.as_str(),
            status.as_str(),
            None,
            note.map(|n| serde_json::json!({"note": n})),
        )
        .await?;
        tx.commit().await?;
    });
    Ok(())
}

/// Per-person numbers for the scorecard, over tickets created in [from, to) — ticket-bound
/// penalty events count by their ticket's date too, so a row describes one set of tickets.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ScoreRow {
    pub user_id: i64,
    pub display_name: String,
    pub roles: String,
    /// Tickets this person went to (visits).
    pub tickets_visited: i64,
    /// Of those, fixed on the first visit.
    pub first_time_fixed: i64,
    pub repeat_repairs: i64,
    pub misdiagnoses: i64,
    pub missed_calls: i64,
    /// Inbound phone calls this person took or owned (missed ones count against the owner).
    pub calls_in: i64,
    pub calls_missed: i64,
    pub satisfaction_sum: i64,
    pub satisfaction_n: i64,
    /// Resolved tickets of this person and how many met the resolve clock.
    pub resolved: i64,
    pub resolved_in_time: i64,
    /// Visits this person went on that the engineer checked: accepted, and sent back.
    pub visits_accepted: i64,
    pub visits_returned: i64,
    /// Visits this person checked (复核), by when the check was made.
    pub visits_reviewed: i64,
    /// Complaints about this person the manager found valid, by when they came in.
    pub complaints_valid: i64,
}

/// The scorecards of the period: everyone's, or one person's (`user`).
pub async fn scorecards(db: &Db, from: DateTime<Utc>, to: DateTime<Utc>, user: Option<i64>) -> Result<Vec<ScoreRow>> {
    // A person's tickets: visited as technician, or engineer of.
    let sql = "WITH mine AS ( \
            SELECT DISTINCT vt.user_id, v.ticket_id FROM visit_technicians vt JOIN visits v ON v.id = vt.visit_id \
            UNION SELECT engineer_id AS user_id, id AS ticket_id FROM tickets WHERE engineer_id IS NOT NULL), \
          first_visit AS (SELECT ticket_id, MIN(id) AS id FROM visits GROUP BY ticket_id) \
        SELECT u.id AS user_id, u.display_name, u.roles, \
          (SELECT COUNT(DISTINCT v.ticket_id) FROM visits v JOIN visit_technicians vt ON vt.visit_id = v.id JOIN \
          tickets t ON t.id = v.ticket_id \
             WHERE vt.user_id = u.id AND t.created_at >= $1 AND t.created_at < $2) AS tickets_visited, \
          (SELECT COUNT(*) FROM first_visit fv JOIN visits v ON v.id = fv.id JOIN visit_technicians vt ON \
          vt.visit_id = v.id JOIN tickets t ON t.id = v.ticket_id \
             WHERE vt.user_id = u.id AND v.result = 'fixed' AND t.created_at >= $1 AND t.created_at < $2) AS \
             first_time_fixed, \
          (SELECT COUNT(*) FROM penalty_events pe JOIN tickets pt ON pt.id = pe.ticket_id WHERE pe.user_id = u.id \
          AND pe.kind = 'repeat_repair' AND pe.status = 'confirmed' AND pt.created_at >= $1 AND pt.created_at < $2) \
          AS repeat_repairs, \
          (SELECT COUNT(*) FROM penalty_events pe JOIN tickets pt ON pt.id = pe.ticket_id WHERE pe.user_id = u.id \
          AND pe.kind = 'misdiagnosis' AND pe.status = 'confirmed' AND pt.created_at >= $1 AND pt.created_at < $2) \
          AS misdiagnoses, \
          (SELECT COUNT(*) FROM penalty_events pe WHERE pe.user_id = u.id AND pe.kind = 'missed_call' AND pe.status \
          = 'confirmed' AND pe.at >= $1 AND pe.at < $2) AS missed_calls, \
          (SELECT COUNT(*) FROM contacts k WHERE COALESCE(k.handler_id, k.callback_owner_id) = u.id AND k.channel = \
          'phone' AND k.direction = 'inbound' AND k.received_at >= $1 AND k.received_at < $2) AS calls_in, \
          (SELECT COUNT(*) FROM contacts k WHERE k.callback_owner_id = u.id AND k.answered = FALSE AND k.channel = \
          'phone' AND k.direction = 'inbound' AND k.received_at >= $1 AND k.received_at < $2) AS calls_missed, \
          (SELECT COALESCE(SUM(t.satisfaction), 0) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id \
          = u.id AND t.satisfaction IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2) AS satisfaction_sum, \
          (SELECT COUNT(t.satisfaction) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND \
          t.created_at >= $1 AND t.created_at < $2) AS satisfaction_n, \
          (SELECT COUNT(*) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND \
          t.resolved_at IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2) AS resolved, \
          (SELECT COUNT(*) FROM mine m JOIN tickets t ON t.id = m.ticket_id WHERE m.user_id = u.id AND \
          t.resolved_at IS NOT NULL AND t.resolved_at <= t.resolve_due AND t.created_at >= $1 AND t.created_at < \
          $2) AS resolved_in_time, \
          (SELECT COUNT(*) FROM visits v JOIN visit_technicians vt ON vt.visit_id = v.id JOIN tickets t ON t.id = \
          v.ticket_id WHERE vt.user_id = u.id AND v.review_verdict = 'accepted' AND t.created_at >= $1 AND \
          t.created_at < $2) AS visits_accepted, \
          (SELECT COUNT(*) FROM visits v JOIN visit_technicians vt ON vt.visit_id = v.id JOIN tickets t ON t.id = \
          v.ticket_id WHERE vt.user_id = u.id AND v.review_verdict = 'returned' AND t.created_at >= $1 AND \
          t.created_at < $2) AS visits_returned, \
          (SELECT COUNT(*) FROM visits v WHERE v.reviewed_by = u.id AND v.reviewed_at >= $1 AND v.reviewed_at < $2) \
          AS visits_reviewed, \
          (SELECT COUNT(*) FROM contacts k WHERE k.about_user_id = u.id AND k.review_verdict = 'valid' AND \
          k.received_at >= $1 AND k.received_at < $2) AS complaints_valid \
        FROM users u WHERE u.active AND (u.roles LIKE '%technician%' OR u.roles LIKE '%engineer%' OR u.roles LIKE \
          '%agent%')";
    let sql = match user {
        Some(_) => format!("{sql} AND u.id = $3"),
        None => format!("{sql} ORDER BY u.display_name"),
    };
    Ok(on_db!(db, |p| {
        let q = sqlx::query_as::<_, ScoreRow>(sqlx::AssertSqlSafe(sql.as_str())).bind(from).bind(to);
        match user {
            Some(id) => q.bind(id),
            None => q,
        }
        .fetch_all(p)
        .await?
    }))
}
