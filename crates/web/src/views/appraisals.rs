//! Study and appraisal for people: the period's appraisals (the manager appraises, sets the
//! weights and decides; anyone else sees his own), the period's study plan, and the
//! comparison of people over periods on screen and on A4.

use super::{Ctx, FormErrors, PageId, PageQuery, field, render};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_domain::appraisals::{AppraisalInput, AppraisalOutcome, DecideInput, Period, Weights, may_appraise};
use aftercare_domain::{AppraisalId, Role};
use aftercare_service::appraisals::{AppraisalView, StudyPlanInput, StudyPlanRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};

/// The quarter `today` is in.
fn this_quarter(today: chrono::NaiveDate) -> String {
    format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn num(v: Option<f64>) -> String {
    v.map(|r| format!("{r:.1}")).unwrap_or_else(|| "—".into())
}

#[derive(Template)]
#[template(path = "appraisals.html")]
pub struct AppraisalsPage {
    pub c: Ctx,
    pub period: String,
    pub rows: Vec<AppraisalView>,
    pub plans: Vec<StudyPlanRow>,
    pub staff: Vec<(i64, String)>,
    pub weights: Weights,
    pub can_appraise: bool,
    pub can_plan_study: bool,
    pub errors: FormErrors,
}

impl AppraisalsPage {
    pub fn outcomes(&self) -> &'static [AppraisalOutcome] {
        AppraisalOutcome::ALL
    }
    pub fn outcome_name(&self, o: &Option<AppraisalOutcome>) -> String {
        o.map(|o| self.c.t(&format!("appraisal_outcome.{}", o.as_str()))).unwrap_or_default()
    }
    pub fn pct(&self, v: &Option<f64>) -> String {
        pct(*v)
    }
    pub fn num(&self, v: &Option<f64>) -> String {
        num(*v)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PeriodParams {
    pub period: Option<String>,
    pub ok: Option<String>,
}

async fn appraisals_page(
    st: &AppState,
    u: &PageUser,
    period: Option<&str>,
    ok: Option<&str>,
    errors: FormErrors,
) -> Result<AppraisalsPage, PageError> {
    let period = period.and_then(Period::parse).map(|p| p.label()).unwrap_or_else(|| this_quarter(st.svc.today()));
    let rows = st.svc.appraisals(&u.actor, std::slice::from_ref(&period)).await?;
    let plans = st.svc.study_plans(&u.actor, &period).await?;
    let can_appraise = may_appraise(&u.actor.roles);
    let staff = if can_appraise { st.svc.rectification_owners(&u.actor).await.unwrap_or_default() } else { Vec::new() };
    let weights = st.svc.appraisal_weights().await?;
    let c = Ctx::new(st, u, "/appraisals", u.tr.t("appraisals.title")).flash_from(ok);
    Ok(AppraisalsPage {
        c,
        period,
        rows,
        plans,
        staff,
        weights,
        can_appraise,
        can_plan_study: can_appraise || u.actor.has(Role::Engineer),
        errors,
    })
}

pub async fn view_appraisals_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<PeriodParams>,
) -> Result<Response, PageError> {
    Ok(render(&appraisals_page(&st, &u, p.period.as_deref(), p.ok.as_deref(), FormErrors::default()).await?))
}

async fn refused(
    st: &AppState,
    u: &PageUser,
    period: &str,
    e: aftercare_service::ServiceError,
) -> Result<Response, PageError> {
    let errors = super::refusal_errors(u.tr, e)?;
    let page = appraisals_page(st, u, Some(period), None, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

fn score(form: &[(String, String)], name: &str) -> Option<f64> {
    // A score that does not parse is sent on as out of range, so the field is named.
    field(form, name).filter(|s| !s.trim().is_empty()).map(|s| s.trim().parse().unwrap_or(f64::NAN))
}

pub async fn view_appraisals_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let period = field(&form, "period").unwrap_or_default();
    let input = AppraisalInput {
        user_id: field(&form, "user_id").and_then(|s| s.parse().ok()),
        period: Some(period.clone()),
        exam_score: score(&form, "exam_score"),
        note: field(&form, "note"),
    };
    match st.svc.appraise(&u.actor, &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/appraisals?period={period}&ok=appraisal_added")).into_response()),
        Err(e) => refused(&st, &u, &period, e).await,
    }
}

pub async fn view_appraisal_decide_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let period = field(&form, "period").unwrap_or_default();
    let input = DecideInput {
        outcome: field(&form, "outcome"),
        note: field(&form, "note"),
        exam_score: score(&form, "exam_score"),
    };
    match st.svc.decide_appraisal(&u.actor, AppraisalId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/appraisals?period={period}&ok=appraisal_decided")).into_response()),
        Err(e) => refused(&st, &u, &period, e).await,
    }
}

pub async fn view_appraisal_weights_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let period = field(&form, "period").unwrap_or_default();
    let get = |n: &str| score(&form, n).unwrap_or(f64::NAN);
    let w = Weights {
        exam: get("exam"),
        first_time_fix: get("first_time_fix"),
        satisfaction: get("satisfaction"),
        sla: get("sla"),
        trainings: get("trainings"),
        penalty_points: get("penalty_points"),
    };
    match st.svc.set_appraisal_weights(&u.actor, &w).await {
        Ok(_) => Ok(Redirect::to(&format!("/appraisals?period={period}&ok=weights_saved")).into_response()),
        Err(e) => refused(&st, &u, &period, e).await,
    }
}

pub async fn view_study_plan_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let period = field(&form, "period").unwrap_or_default();
    let input =
        StudyPlanInput { period: Some(period.clone()), title: field(&form, "title"), content: field(&form, "content") };
    match st.svc.add_study_plan(&u.actor, &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/appraisals?period={period}&ok=study_plan_added#study")).into_response()),
        Err(e) => refused(&st, &u, &period, e).await,
    }
}

/// One person's line of the comparison: a total per period asked for.
pub struct CompareRow {
    pub name: String,
    pub totals: Vec<(Option<f64>, Option<AppraisalOutcome>)>,
}

#[derive(Template)]
#[template(path = "appraisals_compare.html")]
pub struct ComparePage {
    pub c: Ctx,
    pub periods: Vec<String>,
    pub rows: Vec<CompareRow>,
    pub query: String,
}

#[derive(Template)]
#[template(path = "print_appraisals.html")]
pub struct CompareSheet {
    pub c: Ctx,
    pub periods: Vec<String>,
    pub rows: Vec<CompareRow>,
    pub query: String,
    pub title_zh: String,
    pub printed_on: String,
}

fn cell(c: &Ctx, t: &(Option<f64>, Option<AppraisalOutcome>)) -> String {
    match t {
        (None, _) => "—".into(),
        (Some(v), None) => format!("{v:.1}"),
        (Some(v), Some(o)) => format!("{v:.1} · {}", c.t(&format!("appraisal_outcome.{}", o.as_str()))),
    }
}

impl ComparePage {
    pub fn cell(&self, t: &(Option<f64>, Option<AppraisalOutcome>)) -> String {
        cell(&self.c, t)
    }
}

impl CompareSheet {
    pub fn cell(&self, t: &(Option<f64>, Option<AppraisalOutcome>)) -> String {
        cell(&self.c, t)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct CompareParams {
    /// `2026-Q3,2026-Q4`.
    pub periods: Option<String>,
}

/// The periods asked for (the last two quarters by default) and each person's line.
async fn compare(st: &AppState, u: &PageUser, p: &CompareParams) -> Result<(Vec<String>, Vec<CompareRow>), PageError> {
    let today = st.svc.today();
    let mut periods: Vec<String> = p
        .periods
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| Period::parse(s).map(|p| p.label()))
        .take(8)
        .collect();
    if periods.is_empty() {
        let q = Period::parse(&this_quarter(today)).map(|p| p.from).unwrap_or(today);
        let before = q.checked_sub_months(chrono::Months::new(3)).unwrap_or(q);
        periods = vec![this_quarter(before), this_quarter(today)];
    }
    let views = st.svc.appraisals(&u.actor, &periods).await?;
    let mut rows: Vec<CompareRow> = Vec::new();
    for v in &views {
        let Some(at) = periods.iter().position(|p| *p == v.appraisal.period) else { continue };
        let name = &v.appraisal.display_name;
        if !rows.iter().any(|r| r.name == *name) {
            rows.push(CompareRow { name: name.clone(), totals: vec![(None, None); periods.len()] });
        }
        if let Some(row) = rows.iter_mut().find(|r| r.name == *name) {
            row.totals[at] = (v.total, v.appraisal.outcome);
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((periods, rows))
}

pub async fn view_appraisals_compare_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<CompareParams>,
) -> Result<Response, PageError> {
    let (periods, rows) = compare(&st, &u, &p).await?;
    let c =
        Ctx::new(&st, &u, "/appraisals", u.tr.t("appraisals.compare")).crumb(u.tr.t("appraisals.title"), "/appraisals");
    Ok(render(&ComparePage { c, query: periods.join(","), periods, rows }))
}

pub async fn view_appraisals_print_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<CompareParams>,
) -> Result<Response, PageError> {
    let (periods, rows) = compare(&st, &u, &p).await?;
    let c = Ctx::new(&st, &u, "/appraisals", u.tr.t("appraisals.compare"));
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(render(&CompareSheet {
        c,
        query: periods.join(","),
        periods,
        rows,
        title_zh: Tr::new("zh-CN").t("appraisals.compare"),
        printed_on,
    }))
}
