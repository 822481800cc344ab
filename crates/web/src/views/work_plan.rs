//! The week's work plan for people: the grid of field staff by day (what is scheduled,
//! planned, on a trip or added by hand, done or not), the engineer's form to add work and
//! to publish the week, and the plan on A4 landscape.

use super::{Ctx, FormErrors, PageQuery, field, form_errors, render};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_domain::PlanItemId;
use aftercare_domain::work_plan::{PlanItemInput, PlanItemUpdate, PlanKind, may_plan, week_of};
use aftercare_service::work_plan::{PlanEntry, WorkPlan};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};

#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanPage {
    pub c: Ctx,
    pub p: WorkPlan,
    pub prev: String,
    pub next: String,
    pub can_plan: bool,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "print_plan.html")]
pub struct PlanSheet {
    pub c: Ctx,
    pub p: WorkPlan,
    pub title_zh: String,
    pub title_local: String,
}

/// The words both show.
pub trait Words {
    fn tr(&self) -> Tr;
    fn weekday(&self, i: &usize) -> String {
        self.tr().t(&format!("weekday.{}", i + 1))
    }
    fn entry_kind(&self, e: &PlanEntry) -> String {
        match PlanKind::parse(&e.detail).filter(|_| e.kind.as_str() == "item") {
            Some(k) => self.tr().t(&format!("plan_kind.{}", k.as_str())),
            None => self.tr().t(&format!("plan_entry.{}", e.kind.as_str())),
        }
    }
}

impl Words for PlanPage {
    fn tr(&self) -> Tr {
        self.c.tr
    }
}

impl Words for PlanSheet {
    fn tr(&self) -> Tr {
        self.c.tr
    }
}

impl PlanPage {
    pub fn kinds(&self) -> &'static [PlanKind] {
        PlanKind::ALL
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct WeekParams {
    pub week: Option<String>,
    pub ok: Option<String>,
}

async fn plan_page(
    st: &AppState,
    u: &PageUser,
    week: Option<&str>,
    ok: Option<&str>,
    errors: FormErrors,
) -> Result<PlanPage, PageError> {
    let monday = crate::api::work_plan::monday(week, st.svc.today())?;
    let p = st.svc.work_plan(&u.actor, monday).await?;
    let c = Ctx::new(st, u, "/plan", u.tr.t("plan.title")).flash_from(ok);
    Ok(PlanPage {
        c,
        prev: week_of(monday - Duration::days(7)),
        next: week_of(monday + Duration::days(7)),
        p,
        can_plan: may_plan(&u.actor.roles),
        errors,
    })
}

pub async fn view_plan_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<WeekParams>,
) -> Result<Response, PageError> {
    Ok(render(&plan_page(&st, &u, q.week.as_deref(), q.ok.as_deref(), FormErrors::default()).await?))
}

pub async fn view_plan_print_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<WeekParams>,
) -> Result<Response, PageError> {
    let monday = crate::api::work_plan::monday(q.week.as_deref(), st.svc.today())?;
    let p = st.svc.work_plan(&u.actor, monday).await?;
    let c = Ctx::new(&st, &u, "/plan", format!("{} {}", u.tr.t("print.plan"), p.week));
    let title_local = if c.lang() == "zh-CN" { String::new() } else { c.t("print.plan") };
    Ok(render(&PlanSheet { c, p, title_zh: Tr::new("zh-CN").t("print.plan"), title_local }))
}

/// Adds work by hand.
pub async fn view_plan_item_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = PlanItemInput {
        user_id: field(&form, "user_id").and_then(|s| s.parse().ok()),
        day: field(&form, "day"),
        kind: field(&form, "kind"),
        title: field(&form, "title"),
        customer_id: field(&form, "customer_id").and_then(|s| s.parse().ok()),
    };
    let week = input.day.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(week_of);
    match st.svc.add_plan_item(&u.actor, &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/plan?week={}&ok=plan_added", week.unwrap_or_default())).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = plan_page(&st, &u, week.as_deref(), None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

/// Done, or why an item slipped.
pub async fn view_plan_item_update_post(
    State(st): State<AppState>,
    u: PageUser,
    super::PageId(id): super::PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let week = field(&form, "week").unwrap_or_default();
    let input = PlanItemUpdate {
        done: Some(field(&form, "done").as_deref() == Some("1")),
        slipped_reason: field(&form, "slipped_reason"),
    };
    st.svc.update_plan_item(&u.actor, PlanItemId(id), &input).await?;
    Ok(Redirect::to(&format!("/plan?week={}", crate::error::url_encode(&week))).into_response())
}

pub async fn view_plan_publish_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let week = field(&form, "week");
    let monday = crate::api::work_plan::monday(week.as_deref(), st.svc.today())?;
    st.svc.publish_plan(&u.actor, monday, Utc::now()).await?;
    Ok(Redirect::to(&format!("/plan?week={}&ok=plan_published", week_of(monday))).into_response())
}
