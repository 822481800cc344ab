//! The manager's review of proposed penalty events (§3.2.7–3.2.9), the scorecards, SLA
//! policies, and each user's notifications.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::assessments::PenaltyStatus;
use aftercare_domain::tickets::Priority;
use aftercare_domain::{FieldErrors, Role};
pub use aftercare_store::assessments::PenaltyRow;
use aftercare_store::assessments::ScoreRow;
pub use aftercare_store::notifications::NotificationRow;
pub use aftercare_store::sla::SlaRow;
use aftercare_store::taxonomy::SubcategoryRow;
use aftercare_store::{Page, Paged};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    #[serde(flatten)]
    pub raw: ScoreRow,
    /// Share of visited tickets fixed on the first visit, 0..1.
    pub first_time_fix_rate: Option<f64>,
    pub average_satisfaction: Option<f64>,
    /// Share of resolved tickets that met the resolve clock, 0..1.
    pub sla_compliance: Option<f64>,
    /// Missed share of the inbound phone calls this person took or owned, 0..1.
    pub missed_call_rate: Option<f64>,
}

impl From<ScoreRow> for Scorecard {
    fn from(raw: ScoreRow) -> Self {
        Scorecard {
            first_time_fix_rate: ratio(raw.first_time_fixed, raw.tickets_visited),
            average_satisfaction: ratio(raw.satisfaction_sum, raw.satisfaction_n),
            sla_compliance: ratio(raw.resolved_in_time, raw.resolved),
            missed_call_rate: ratio(raw.calls_missed, raw.calls_in),
            raw,
        }
    }
}

/// A person's month: no card when the person was not among the scored (inactive, or no
/// field or desk role).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreMonth {
    /// The month's first day.
    pub month: chrono::NaiveDate,
    pub card: Option<Scorecard>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScoreTrend {
    pub user_id: i64,
    pub display_name: String,
    pub months: Vec<ScoreMonth>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SlaInput {
    pub respond_minutes: Option<i32>,
    pub arrive_minutes: Option<i32>,
    pub resolve_minutes: Option<i32>,
}

impl Services {
    pub async fn penalties(&self, by: &Actor, status: Option<PenaltyStatus>, page: Page) -> Result<Paged<PenaltyRow>> {
        require(by.is_admin_or_manager())?;
        Ok(aftercare_store::assessments::penalties(&self.db, status, None, page).await?)
    }

    /// Confirms (`confirm`) or dismisses (`dismiss`) a proposed event.
    pub async fn review_penalty(
        &self,
        by: &Actor,
        penalty: aftercare_domain::PenaltyId,
        verdict: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let id = penalty.0;
        require(by.is_admin_or_manager())?;
        let Some(status) = PenaltyStatus::from_verdict(verdict) else {
            return Err(FieldErrors::single("verdict", "unknown_value").into());
        };
        let note = note.map(str::trim).filter(|s| !s.is_empty());
        aftercare_store::assessments::review_penalty(&self.db, &self.writer(by), id, status, note, now).await.map_err(
            |e| match e {
                aftercare_store::StoreError::Stale => {
                    ServiceError::Transition { action: "review", status: "reviewed", reason: None }
                }
                other => other.into(),
            },
        )
    }

    pub async fn scorecards(&self, by: &Actor, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Scorecard>> {
        require(by.is_admin_or_manager())?;
        Ok(aftercare_store::assessments::scorecards(&self.db, from, to, None)
            .await?
            .into_iter()
            .map(Scorecard::from)
            .collect())
    }

    /// The people a scorecard is kept for (technicians, engineers, agents), by name: the
    /// manager and the engineer see everyone, anyone else himself only.
    pub async fn scored_people(&self, by: &Actor) -> Result<Vec<(i64, String)>> {
        let everyone = by.is_admin_or_manager() || by.has(Role::Engineer);
        require(everyone || by.is_staff())?;
        let mut out: Vec<(i64, String)> = Vec::new();
        for role in [Role::Technician, Role::Engineer, Role::Agent] {
            for u in aftercare_store::users::with_role(&self.db, role.as_str()).await? {
                if (everyone || u.id == by.id.0) && !out.iter().any(|(i, _)| *i == u.id) {
                    out.push((u.id, u.display_name));
                }
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// One person's scorecard month by month (§2.4(4): the engineer reads the field staff's
    /// records), the `months` months up to and including `until`'s, oldest first. The
    /// manager and the engineer read anyone's; a person reads his own.
    pub async fn scorecard_trend(
        &self,
        by: &Actor,
        user: aftercare_domain::UserId,
        until: chrono::NaiveDate,
        months: u32,
    ) -> Result<ScoreTrend> {
        require(by.is_admin_or_manager() || by.has(Role::Engineer) || by.id == user)?;
        let months = months.clamp(1, 24);
        let person = aftercare_store::users::get(&self.db, user.0).await?;
        let (mut first, _) = Self::month_of(until);
        let mut out = Vec::with_capacity(months as usize);
        for _ in 0..months {
            let (f, l) = Self::month_of(first);
            let (a, b) = self.days(f, l);
            let card = aftercare_store::assessments::scorecards(&self.db, a, b, Some(user.0))
                .await?
                .into_iter()
                .next()
                .map(Scorecard::from);
            out.push(ScoreMonth { month: f, card });
            first = f.pred_opt().unwrap_or(f);
        }
        out.reverse();
        Ok(ScoreTrend { user_id: user.0, display_name: person.display_name, months: out })
    }

    pub async fn sla_policies(&self, by: &Actor) -> Result<Vec<SlaRow>> {
        require(by.is_staff())?;
        Ok(aftercare_store::sla::sla_policies(&self.db).await?)
    }

    pub async fn set_sla_policy(
        &self,
        by: &Actor,
        priority: &str,
        input: &SlaInput,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlaRow>> {
        require(by.is_admin_or_manager())?;
        let Some(p) = Priority::parse(priority) else { return Err(ServiceError::NotFound) };
        let mut e = FieldErrors::default();
        let mut get = |f: &'static str, v: Option<i32>| match v {
            None => {
                e.push(f, "required");
                0
            }
            Some(m) if !(1..=60 * 24 * 60).contains(&m) => {
                e.push(f, "out_of_range");
                0
            }
            Some(m) => m,
        };
        let respond = get("respond_minutes", input.respond_minutes);
        let arrive = get("arrive_minutes", input.arrive_minutes);
        let resolve = get("resolve_minutes", input.resolve_minutes);
        if e.is_empty() && resolve < respond {
            e.push("resolve_minutes", "out_of_range");
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let row = SlaRow {
            priority: p.as_str().into(),
            respond_minutes: respond,
            arrive_minutes: arrive,
            resolve_minutes: resolve,
            updated_at: now,
        };
        aftercare_store::sla::set_sla_policy(&self.db, &self.writer(by), &row).await?;
        self.caches.forget_sla();
        Ok(aftercare_store::sla::sla_policies(&self.db).await?)
    }

    pub async fn fault_subcategories(&self, by: &Actor) -> Result<Vec<SubcategoryRow>> {
        require(by.is_staff())?;
        Ok(aftercare_store::taxonomy::subcategories(&self.db).await?)
    }

    pub async fn notifications(&self, by: &Actor, page: Page) -> Result<Paged<NotificationRow>> {
        Ok(aftercare_store::notifications::notifications(&self.db, by.id.0, page).await?)
    }

    pub async fn unread_notifications(&self, by: &Actor) -> Result<i64> {
        Ok(aftercare_store::notifications::unread_count(&self.db, by.id.0).await?)
    }

    pub async fn mark_notifications_read(
        &self,
        by: &Actor,
        which: Option<aftercare_domain::NotificationId>,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let id = which.map(|n| n.0);
        Ok(aftercare_store::notifications::mark_read(&self.db, by.id.0, id, now).await?)
    }

    /// The people who do field or desk work (technicians, engineers, agents), by name: whom
    /// a complaint or a scorecard can be about.
    pub async fn field_and_desk_people(&self, by: &Actor) -> Result<Vec<(i64, String)>> {
        require(by.is_staff())?;
        let mut out: Vec<(i64, String)> = Vec::new();
        for role in [Role::Technician, Role::Engineer, Role::Agent] {
            for u in aftercare_store::users::with_role(&self.db, role.as_str()).await? {
                if !out.iter().any(|(id, _)| *id == u.id) {
                    out.push((u.id, u.display_name));
                }
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    /// Staff who can be scheduled: technicians, with their display names.
    pub async fn technicians(&self, by: &Actor) -> Result<Vec<(i64, String)>> {
        require(by.is_staff())?;
        Ok(aftercare_store::users::with_role(&self.db, Role::Technician.as_str())
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect())
    }
}
