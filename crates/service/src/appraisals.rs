//! Study and appraisal (manual §3.2.5, §3.2.6): the manager appraises each person per period
//! on an exam and on the period's own figures — the scorecard (tickets, first-time fix,
//! repeat repairs, satisfaction, service levels, missed calls), the callbacks made, the
//! trainings attended and the penalty events confirmed — weighed by the weights he sets,
//! and decides the outcome, which freezes the figures. Nobody decides his own; a person
//! reads only his own appraisals. The comparison sets people beside each other over
//! periods, on screen and on A4. Each period may carry a study plan.

use crate::assessments::Scorecard;
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::appraisals::{
    AppraisalInput, DecideInput, Parts, Period, TRAININGS_FOR_FULL, Weights, may_appraise, total,
};
use aftercare_domain::{AppraisalId, FieldErrors};
use aftercare_store::appraisals::{self as store, Frozen};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use aftercare_store::appraisals::{AppraisalRow, StudyPlanRow};

/// The setting that holds the manager's weights (JSON).
pub const WEIGHTS_KEY: &str = "appraisal_weights";

/// An appraisal with the figures it is weighed on: frozen once decided, live before.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppraisalView {
    #[serde(flatten)]
    pub appraisal: AppraisalRow,
    pub parts: Parts,
    pub weights: Weights,
    /// The total, 0..=100 (the frozen one once decided).
    pub total: Option<f64>,
    /// The period's figures behind the parts (live; absent once decided and nothing read).
    pub figures: Option<Figures>,
    /// The viewer may decide it now (the manager, not his own, not yet decided).
    pub can_decide: bool,
}

/// What the period shows besides the parts (for the page and the comparison).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub tickets_visited: i64,
    pub first_time_fixed: i64,
    pub repeat_repairs: i64,
    pub misdiagnoses: i64,
    pub missed_calls: i64,
    pub callbacks: i64,
    pub resolved: i64,
    pub complaints_valid: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FrozenParts {
    parts: Parts,
    figures: Figures,
}

/// `POST /api/v1/study-plans`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StudyPlanInput {
    /// `2026-Q4` or `2026-12`.
    pub period: Option<String>,
    pub title: Option<String>,
    pub content: Option<String>,
}

/// What a period shows of everyone (or of one person): scorecards, trainings attended and
/// callbacks made, by person.
struct PeriodFacts {
    cards: HashMap<i64, Scorecard>,
    trainings: HashMap<i64, i64>,
    callbacks: HashMap<i64, i64>,
}

impl PeriodFacts {
    /// A person's parts and figures; no scorecard (nothing done in the period) is parts
    /// with nothing to weigh but the exam and the trainings.
    fn parts(&self, user: i64, exam: Option<f64>) -> (Parts, Figures) {
        let card = self.cards.get(&user);
        let callbacks = self.callbacks.get(&user).copied().unwrap_or(0);
        let parts = Parts {
            exam,
            first_time_fix: card.and_then(|c| c.first_time_fix_rate),
            satisfaction: card.and_then(|c| c.average_satisfaction),
            sla: card.and_then(|c| c.sla_compliance),
            trainings_attended: self.trainings.get(&user).copied().unwrap_or(0),
            penalties: card.map_or(0, |c| c.raw.repeat_repairs + c.raw.misdiagnoses + c.raw.missed_calls),
        };
        let figures = card.map_or_else(
            || Figures { callbacks, ..Default::default() },
            |c| Figures {
                tickets_visited: c.raw.tickets_visited,
                first_time_fixed: c.raw.first_time_fixed,
                repeat_repairs: c.raw.repeat_repairs,
                misdiagnoses: c.raw.misdiagnoses,
                missed_calls: c.raw.missed_calls,
                callbacks,
                resolved: c.raw.resolved,
                complaints_valid: c.raw.complaints_valid,
            },
        );
        (parts, figures)
    }
}

fn period_of_row(a: &AppraisalRow) -> Period {
    Period { from: a.period_from, until: a.period_until }
}

fn period_of(raw: &str) -> Result<Period> {
    Period::parse(raw).ok_or_else(|| FieldErrors::single("period", "invalid").in_area("appraisals").into())
}

impl Services {
    pub async fn appraisal_weights(&self) -> Result<Weights> {
        let raw = aftercare_store::settings::setting(&self.db, WEIGHTS_KEY).await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default())
    }

    pub async fn set_appraisal_weights(&self, by: &Actor, w: &Weights) -> Result<Weights> {
        require(may_appraise(&by.roles))?;
        let w = w.validate()?;
        let json = serde_json::to_string(&w).map_err(|e| ServiceError::Internal(e.to_string()))?;
        aftercare_store::settings::set_setting(&self.db, &self.writer(by), WEIGHTS_KEY, &json).await?;
        Ok(w)
    }

    /// A period's facts, for one person (`user`) or everyone: each is one statement, so a
    /// list of appraisals reads a period once however many people it holds.
    async fn period_facts(&self, period: Period, user: Option<i64>) -> Result<PeriodFacts> {
        let last = period.until.pred_opt().unwrap_or(period.until);
        let (from, to) = self.days(period.from, last);
        let cards = aftercare_store::assessments::scorecards(&self.db, from, to, user)
            .await?
            .into_iter()
            .map(|r| (r.user_id, Scorecard::from(r)))
            .collect();
        Ok(PeriodFacts {
            cards,
            trainings: store::trainings_attended(&self.db, user, period.from, period.until)
                .await?
                .into_iter()
                .collect(),
            callbacks: store::callbacks(&self.db, user, from, to).await?.into_iter().collect(),
        })
    }

    /// The view of an appraisal; an undecided one is weighed on `facts` (its period's, read
    /// once for a list) or on its person's own, read here.
    async fn appraisal_view(
        &self,
        by: &Actor,
        a: AppraisalRow,
        facts: Option<&PeriodFacts>,
        weights: &Weights,
    ) -> Result<AppraisalView> {
        let can_decide = may_appraise(&by.roles) && a.user_id != by.id.0 && a.outcome.is_none();
        if a.outcome.is_some() {
            let frozen: Option<FrozenParts> = a.parts_json.as_deref().and_then(|j| serde_json::from_str(j).ok());
            let weights = a.weights_json.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
            let (parts, figures) = frozen.map_or((Parts::default(), None), |f| (f.parts, Some(f.figures)));
            return Ok(AppraisalView { total: a.total, parts, weights, figures, can_decide, appraisal: a });
        }
        let (parts, figures) = match facts {
            Some(f) => f.parts(a.user_id, a.exam_score),
            None => self.period_facts(period_of_row(&a), Some(a.user_id)).await?.parts(a.user_id, a.exam_score),
        };
        Ok(AppraisalView {
            total: total(&parts, weights),
            parts,
            weights: *weights,
            figures: Some(figures),
            can_decide,
            appraisal: a,
        })
    }

    /// A person's appraisal for a period (one per person and period: a second is a 409).
    pub async fn appraise(&self, by: &Actor, input: &AppraisalInput, now: DateTime<Utc>) -> Result<AppraisalView> {
        require(may_appraise(&by.roles))?;
        let a = input.validate()?;
        let person = aftercare_store::users::get(&self.db, a.user_id)
            .await
            .map_err(|_| ServiceError::from(FieldErrors::single("user_id", "not_found").in_area("appraisals")))?;
        if person.customer_id.is_some() || person.roles.split(',').any(|r| r == "customer") {
            return Err(FieldErrors::single("user_id", "not_found").in_area("appraisals").into());
        }
        let id = store::create(&self.db, &self.writer(by), &a, now).await?;
        self.appraisal(by, AppraisalId(id)).await
    }

    /// The manager reads every appraisal; anyone else only his own.
    pub async fn appraisal(&self, by: &Actor, id: AppraisalId) -> Result<AppraisalView> {
        let a = store::get(&self.db, id.0).await?;
        if !may_appraise(&by.roles) && a.user_id != by.id.0 {
            return Err(ServiceError::NotFound);
        }
        let weights = self.appraisal_weights().await?;
        self.appraisal_view(by, a, None, &weights).await
    }

    /// The appraisals of the given periods (every one when empty): everyone's for the
    /// manager, one's own for anyone else.
    pub async fn appraisals(&self, by: &Actor, periods: &[String]) -> Result<Vec<AppraisalView>> {
        require(by.is_staff())?;
        let mut labels = Vec::with_capacity(periods.len());
        for p in periods {
            labels.push(period_of(p)?.label());
        }
        let only = (!may_appraise(&by.roles)).then_some(by.id.0);
        let rows = store::list(&self.db, &labels, only).await?;
        let weights = self.appraisal_weights().await?;
        // The facts of each period with an undecided appraisal, read once for all its people.
        let mut facts: HashMap<(NaiveDate, NaiveDate), PeriodFacts> = HashMap::new();
        for r in rows.iter().filter(|r| r.outcome.is_none()) {
            if let std::collections::hash_map::Entry::Vacant(e) = facts.entry((r.period_from, r.period_until)) {
                e.insert(self.period_facts(period_of_row(r), only).await?);
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let f = facts.get(&(r.period_from, r.period_until));
            out.push(self.appraisal_view(by, r, f, &weights).await?);
        }
        Ok(out)
    }

    /// The manager decides; never his own (403). The figures are frozen with it.
    pub async fn decide_appraisal(
        &self,
        by: &Actor,
        id: AppraisalId,
        input: &DecideInput,
        now: DateTime<Utc>,
    ) -> Result<AppraisalView> {
        require(may_appraise(&by.roles))?;
        let a = store::get(&self.db, id.0).await?;
        require(a.user_id != by.id.0)?;
        if a.outcome.is_some() {
            return Err(ServiceError::Transition { action: "decide", status: "decided", reason: Some("decided") });
        }
        let d = input.validate()?;
        let exam = d.exam_score.or(a.exam_score);
        let (parts, figures) = self.period_facts(period_of_row(&a), Some(a.user_id)).await?.parts(a.user_id, exam);
        let weights = self.appraisal_weights().await?;
        // Our own plain types: serialising them cannot fail.
        let frozen = Frozen {
            exam_score: exam,
            total: total(&parts, &weights),
            parts_json: serde_json::to_string(&FrozenParts { parts, figures }).unwrap_or_default(),
            weights_json: serde_json::to_string(&weights).unwrap_or_default(),
        };
        store::decide(&self.db, &self.writer(by), id.0, &d, &frozen, now).await?;
        self.appraisal(by, id).await
    }

    pub async fn add_study_plan(&self, by: &Actor, input: &StudyPlanInput, now: DateTime<Utc>) -> Result<StudyPlanRow> {
        require(may_appraise(&by.roles) || by.has(aftercare_domain::Role::Engineer))?;
        let mut e = FieldErrors::default();
        let raw = aftercare_domain::validation::required(&mut e, "period", input.period.as_deref(), 10);
        let period = Period::parse(&raw);
        if period.is_none() && !raw.is_empty() {
            e.push("period", "invalid");
        }
        let title = aftercare_domain::validation::required(&mut e, "title", input.title.as_deref(), 200);
        let content = aftercare_domain::validation::optional(&mut e, "content", input.content.as_deref(), 10_000);
        let Some(period) = period else { return Err(e.in_area("appraisals").into()) };
        e.in_area("appraisals").into_result(())?;
        let label = period.label();
        let id = store::add_study_plan(&self.db, &self.writer(by), &label, &title, content.as_deref(), now).await?;
        store::study_plans(&self.db, &label).await?.into_iter().find(|s| s.id == id).ok_or(ServiceError::NotFound)
    }

    pub async fn study_plans(&self, by: &Actor, period: &str) -> Result<Vec<StudyPlanRow>> {
        require(by.is_staff())?;
        Ok(store::study_plans(&self.db, &period_of(period)?.label()).await?)
    }

    /// Trainings that make the trainings part full.
    pub fn trainings_for_full(&self) -> i64 {
        TRAININGS_FOR_FULL
    }
}
