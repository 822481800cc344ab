//! Periodic inspections (巡检) for people: the list with its queues, the month calendar,
//! planning one school or a town's term, the round on a phone (each line saved as it is
//! judged), completion with the school's signature, the callback, the hazard list, the
//! checklist templates, the numbers, and form 2 《巡检记录表》 on A4 and in Excel.

use super::{Ctx, FormErrors, PageId, PageQuery, Pager, field, fields, form_errors, query_url, render};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_domain::inspections::{
    ChecklistItemInput, CompleteInput, InspectionAction, InspectionCallbackInput, InspectionInput, InspectionStatus,
    LineResult, LineResultInput, Phase, PlanInput, QuestionInput, ResultsInput, judge,
};
use aftercare_domain::tickets::SignatureInput;
use aftercare_domain::{ChecklistItemId, InspectionId, InspectionItemId, Role, System};
use aftercare_service::Page;
use aftercare_service::Services;
use aftercare_service::inspections::{
    AvailabilityRow, ChecklistRow, CompletionBy, CompletionRow, HazardRow, InspectionItemRow, InspectionRow,
    InspectionView, Scope,
};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// `all` (default), `mine`, `overdue`, `to_call`.
    pub view: Option<String>,
    pub status: Option<String>,
    pub town: Option<String>,
    pub phase: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "inspections.html")]
pub struct InspectionsPage {
    pub c: Ctx,
    pub rows: Vec<InspectionRow>,
    pub pager: Pager,
    pub view: String,
    pub status: String,
    pub town: String,
    pub phase: String,
    pub from: String,
    pub until: String,
    pub towns: Vec<String>,
    pub can_plan: bool,
    pub errors: FormErrors,
}

impl InspectionsPage {
    pub fn views(&self) -> Vec<&'static str> {
        let mut v = vec!["all"];
        if self.c.is_staff {
            v.extend(["mine", "overdue", "to_call"]);
        }
        v
    }
}

/// The phase, status and system words every inspection page uses.
pub trait Words {
    fn tr(&self) -> Tr;
    fn phase(&self, p: &Phase) -> String {
        self.tr().t(&format!("inspection_phase.{}", p.as_str()))
    }
    fn status(&self, s: &InspectionStatus) -> String {
        self.tr().t(&format!("inspection_status.{}", s.as_str()))
    }
    fn systems(&self, r: &InspectionRow) -> String {
        r.system_list().iter().map(|s| self.tr().system(s)).collect::<Vec<_>>().join(self.tr().list_sep())
    }
    fn result(&self, r: &Option<LineResult>) -> String {
        r.map(|r| self.tr().t(&format!("inspection_result.{}", r.as_str()))).unwrap_or_default()
    }
}

impl Words for InspectionsPage {
    fn tr(&self) -> Tr {
        self.c.tr
    }
}

pub async fn view_inspections_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    let api = crate::api::inspections::InspectionParams {
        scope: p.view.clone(),
        status: p.status.clone(),
        town: p.town.clone(),
        phase: p.phase.clone(),
        from: p.from.clone(),
        until: p.until.clone(),
        ..Default::default()
    };
    let (scope, q, errors) = match crate::api::inspections::query_of(&api) {
        Ok((s, q)) => (s, q, FormErrors::default()),
        Err(e) => (Scope::All, Default::default(), form_errors(u.tr, e)?),
    };
    let page = Page::new(p.page, Some(25));
    let rows = st.svc.list_inspections(&u.actor, scope, q, page).await?;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let params = [
        ("view", v(&p.view)),
        ("status", v(&p.status)),
        ("town", v(&p.town)),
        ("phase", v(&p.phase)),
        ("from", v(&p.from)),
        ("until", v(&p.until)),
    ];
    let towns = st.svc.towns(&u.actor).await?.into_iter().map(|(t, _)| t).collect();
    let page_html = InspectionsPage {
        c: Ctx::new(&st, &u, "/inspections", u.tr.t("inspections.title")).flash_from(p.ok.as_deref()),
        pager: Pager::new("/inspections", &params, page, rows.total),
        rows: rows.items,
        view: p.view.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "all".into()),
        status: v(&p.status),
        town: v(&p.town),
        phase: v(&p.phase),
        from: v(&p.from),
        until: v(&p.until),
        towns,
        can_plan: u.actor.has_any(&[Role::Engineer]),
        errors,
    };
    Ok(render(&page_html))
}

/// A day of the month calendar.
pub struct Day {
    pub date: NaiveDate,
    pub in_month: bool,
    pub today: bool,
    pub rounds: Vec<InspectionRow>,
}

#[derive(Template)]
#[template(path = "inspection_calendar.html")]
pub struct CalendarPage {
    pub c: Ctx,
    pub month: String,
    pub prev: String,
    pub next: String,
    pub weeks: Vec<Vec<Day>>,
    pub total: i64,
    /// Rounds drawn (at most a page of 500): fewer than `total` says so and offers a town.
    pub shown: i64,
    pub town: String,
    pub towns: Vec<String>,
    pub can_plan: bool,
    pub mine: bool,
}

impl CalendarPage {
    pub fn capped_text(&self) -> String {
        self.c.tr.tf(
            "inspections.calendar_capped",
            &[("shown", &self.shown.to_string()), ("total", &self.total.to_string())],
        )
    }
}

impl Words for CalendarPage {
    fn tr(&self) -> Tr {
        self.c.tr
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CalendarParams {
    /// `YYYY-MM`; default this month.
    pub month: Option<String>,
    /// `1`: only the viewer's rounds.
    pub mine: Option<String>,
    /// One town's rounds (a county's month can hold thousands).
    pub town: Option<String>,
    pub ok: Option<String>,
}

pub async fn view_calendar_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<CalendarParams>,
) -> Result<Response, PageError> {
    let today = st.svc.today();
    let first = p
        .month
        .as_deref()
        .and_then(|m| NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok())
        .filter(|d| (1970..=2100).contains(&d.year()))
        .unwrap_or(today);
    let (first, last) = Services::month_of(first);
    let mine = p.mine.as_deref() == Some("1");
    let q = aftercare_service::inspections::InspectionQuery {
        planned_from: Some(first),
        planned_until: Some(last),
        soonest_first: true,
        town: p.town.clone().filter(|t| !t.trim().is_empty()),
        ..Default::default()
    };
    let scope = if mine { Scope::Mine } else { Scope::All };
    let rows = st.svc.list_inspections(&u.actor, scope, q, Page::new(Some(1), Some(Page::MAX_PER_PAGE))).await?;
    // Weeks from Monday: the grid starts on the Monday on or before the first.
    let start = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
    let mut weeks = Vec::new();
    let mut d = start;
    let shown = rows.items.len() as i64;
    let mut items = rows.items;
    while d <= last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            let (of_day, rest): (Vec<_>, Vec<_>) = items.into_iter().partition(|r| r.planned_on == d);
            items = rest;
            week.push(Day { date: d, in_month: d.month() == first.month(), today: d == today, rounds: of_day });
            d += Duration::days(1);
        }
        weeks.push(week);
    }
    let month_key = |d: NaiveDate| d.format("%Y-%m").to_string();
    let prev = month_key(first - Duration::days(1));
    let next = month_key(last + Duration::days(1));
    let page = CalendarPage {
        c: Ctx::new(&st, &u, "/inspections", u.tr.tf("inspections.calendar_of", &[("month", &month_key(first))]))
            .crumb(u.tr.t("inspections.title"), "/inspections")
            .flash_from(p.ok.as_deref()),
        month: month_key(first),
        prev,
        next,
        weeks,
        total: rows.total,
        shown,
        town: p.town.clone().unwrap_or_default(),
        towns: st.svc.towns(&u.actor).await?.into_iter().map(|(t, _)| t).collect(),
        can_plan: u.actor.has_any(&[Role::Engineer]),
        mine,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "inspection_new.html")]
pub struct PlanPage {
    pub c: Ctx,
    pub towns: Vec<String>,
    pub technicians: Vec<(i64, String)>,
    pub errors: FormErrors,
    /// Which form the errors belong to: `one` or `many`.
    pub form: String,
    pub values: Vec<(String, String)>,
}

impl PlanPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == name && v == value)
    }
    pub fn systems(&self) -> [System; 6] {
        System::ALL
    }
    pub fn err(&self, form: &str, name: &str) -> bool {
        self.form == form && self.errors.has(name)
    }
}

async fn plan_page(
    st: &AppState,
    u: &PageUser,
    form: &str,
    values: Vec<(String, String)>,
    errors: FormErrors,
) -> Result<PlanPage, PageError> {
    Ok(PlanPage {
        c: Ctx::new(st, u, "/inspections", u.tr.t("inspections.plan"))
            .crumb(u.tr.t("inspections.title"), "/inspections"),
        towns: st.svc.towns(&u.actor).await?.into_iter().map(|(t, _)| t).collect(),
        technicians: st.svc.technicians(&u.actor).await?,
        errors,
        form: form.into(),
        values,
    })
}

pub async fn view_plan_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    if !u.actor.has_any(&[Role::Engineer]) {
        return Err(PageError::from_service(u.tr, aftercare_service::ServiceError::Forbidden));
    }
    let today = st.svc.today();
    let values = vec![
        ("planned_on".to_owned(), today.to_string()),
        ("planned_from".to_owned(), today.to_string()),
        ("planned_until".to_owned(), (today + Duration::days(27)).to_string()),
    ];
    Ok(render(&plan_page(&st, &u, "", values, FormErrors::default()).await?))
}

fn ids(form: &[(String, String)], name: &str) -> Vec<i64> {
    fields(form, name).iter().filter_map(|s| s.trim().parse().ok()).collect()
}

/// One school's round, from the plan page.
pub async fn view_plan_one_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let text = field(&form, "customer").unwrap_or_default();
    let id = field(&form, "customer_id").and_then(|s| s.parse().ok());
    let result = async {
        let school = st.svc.pick_school(&u.actor, "customer_id", &text, id).await?;
        let input = InspectionInput {
            customer_id: school.map(|c| c.0),
            phase: field(&form, "phase"),
            systems: Some(fields(&form, "systems")),
            planned_on: field(&form, "planned_on"),
            technician_ids: Some(ids(&form, "technician_ids")),
        };
        st.svc.plan_inspection(&u.actor, &input, Utc::now()).await
    }
    .await;
    match result {
        Ok(d) => Ok(Redirect::to(&format!("/inspections/{}?ok=inspection_planned", d.inspection.id)).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = plan_page(&st, &u, "one", form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

/// A town's (or a list's) term, from the plan page; to the calendar of its first month.
pub async fn view_plan_many_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = PlanInput {
        phase: field(&form, "phase"),
        systems: Some(fields(&form, "systems")),
        planned_from: field(&form, "planned_from"),
        planned_until: field(&form, "planned_until"),
        town: field(&form, "town"),
        customer_ids: None,
        technician_ids: Some(ids(&form, "technician_ids")),
    };
    match st.svc.plan_inspections(&u.actor, &input, Utc::now()).await {
        Ok(made) => {
            let month = made.iter().map(|r| r.planned_on).min().unwrap_or_else(|| st.svc.today());
            Ok(Redirect::to(&format!("/inspections/calendar?month={}&ok=inspections_planned", month.format("%Y-%m")))
                .into_response())
        }
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = plan_page(&st, &u, "many", form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "inspection.html")]
pub struct InspectionPage {
    pub c: Ctx,
    pub d: InspectionView,
    pub errors: FormErrors,
    /// The line the errors are about (its form shows them).
    pub error_line: Option<i64>,
    pub values: Vec<(String, String)>,
    pub is_school: bool,
}

impl Words for InspectionPage {
    fn tr(&self) -> Tr {
        self.c.tr
    }
}

impl InspectionPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn can(&self, a: &str) -> bool {
        InspectionAction::parse(a).is_some_and(|a| self.d.can(a))
    }
    /// The standard's range as the technician reads it: "18–27 ℃", "≤ 70%", "≥ 30 天".
    pub fn range(&self, l: &InspectionItemRow) -> String {
        let unit = l.unit.clone().unwrap_or_default();
        match (l.min_value, l.max_value) {
            (Some(a), Some(b)) => format!("{}–{} {unit}", num(a), num(b)),
            (Some(a), None) => format!("≥ {} {unit}", num(a)),
            (None, Some(b)) => format!("≤ {} {unit}", num(b)),
            (None, None) => String::new(),
        }
    }
    /// A measured value outside the standard's range.
    pub fn out_of_range(&self, l: &InspectionItemRow) -> bool {
        l.value.is_some_and(|v| judge(l.min_value, l.max_value, v) == Some(LineResult::Fault))
    }
    pub fn value_text(&self, l: &InspectionItemRow) -> String {
        l.value.map(num).unwrap_or_default()
    }
    pub fn results(&self) -> [LineResult; 4] {
        [LineResult::Ok, LineResult::Fault, LineResult::Hazard, LineResult::Na]
    }
    pub fn done_lines(&self) -> usize {
        self.d.items.iter().filter(|l| l.result.is_some()).count()
    }
    /// Lines judged, as a percentage (the progress meter's width).
    pub fn done_pct(&self) -> usize {
        self.done_lines() * 100 / self.d.items.len().max(1)
    }
    pub fn device_faults(&self, n: &i64) -> String {
        self.c.tr.tf("inspection.device_faults", &[("n", &n.to_string())])
    }
    pub fn is_error_line(&self, line: &i64) -> bool {
        self.error_line == Some(*line) && self.errors.any()
    }
    pub fn open_lines_text(&self) -> String {
        self.c.tr.tf("inspection.open_lines", &[("n", &self.d.inspection.open_lines.to_string())])
    }
    /// Late-phase rounds show each device's fault count over its life (故障多发原因).
    pub fn shows_faults(&self) -> bool {
        self.d.inspection.phase == Phase::Late
    }
}

/// A decimal typed on a phone (`24,5` as well as `24.5`): an empty box is none, anything
/// else that is not a number the field error `invalid`.
fn decimal(form: &[(String, String)], name: &'static str, e: &mut aftercare_domain::FieldErrors) -> Option<f64> {
    let v = field(form, name).map(|v| v.trim().replace(',', ".")).filter(|v| !v.is_empty())?;
    v.parse::<f64>().ok().or_else(|| {
        e.push(name, "invalid");
        None
    })
}

/// A measured value without a needless ".0".
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

async fn inspection_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    errors: FormErrors,
    error_line: Option<i64>,
    values: Vec<(String, String)>,
) -> Result<InspectionPage, PageError> {
    let d = st.svc.inspection(&u.actor, InspectionId(id)).await?;
    let title = format!("{} {}", u.tr.t("inspection.title"), d.inspection.number);
    let c = Ctx::new(st, u, "/inspections", title).crumb(u.tr.t("inspections.title"), "/inspections").flash_from(ok);
    Ok(InspectionPage { c, d, errors, error_line, values, is_school: !u.actor.is_staff() })
}

pub async fn view_inspection_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&inspection_page(&st, &u, id, p.ok.as_deref(), FormErrors::default(), None, Vec::new()).await?))
}

/// A refused form on the inspection page: the page again with the errors, 422.
async fn refused(
    st: &AppState,
    u: &PageUser,
    id: i64,
    e: aftercare_service::ServiceError,
    line: Option<i64>,
    form: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let errors = form_errors(u.tr, e)?;
    let page = inspection_page(st, u, id, None, errors, line, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// Start or cancel.
pub async fn view_inspection_act_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let not_found = || PageError::from_service(u.tr, aftercare_service::ServiceError::NotFound);
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let action = InspectionAction::parse(&action).ok_or_else(not_found)?;
    let reason = field(&form, "reason");
    match st.svc.inspection_action(&u.actor, InspectionId(id), action, reason.as_deref(), Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{id}?ok=inspection_{}", action.as_str())).into_response()),
        Err(e) => refused(&st, &u, id, e, None, form).await,
    }
}

/// One line's result (the phone saves each line as it is judged; without script, the
/// line's own button).
pub async fn view_inspection_line_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let line: Option<i64> = field(&form, "item_id").and_then(|s| s.parse().ok());
    // An empty box is no value (the phone sends the field either way).
    let mut bad = aftercare_domain::FieldErrors::default();
    let value = decimal(&form, "value", &mut bad);
    if !bad.is_empty() {
        return refused(&st, &u, id, bad.into(), line, form).await;
    }
    let input = ResultsInput {
        items: Some(vec![LineResultInput {
            item_id: line,
            result: field(&form, "result"),
            value,
            note: field(&form, "note"),
            suggest_replace: Some(field(&form, "suggest_replace").is_some()),
        }]),
    };
    match st.svc.record_results(&u.actor, InspectionId(id), &input, Utc::now()).await {
        Ok(_) => {
            let anchor = line.map(|l| format!("#line-{l}")).unwrap_or_default();
            Ok(Redirect::to(&format!("/inspections/{id}?ok=line_saved{anchor}")).into_response())
        }
        Err(e) => refused(&st, &u, id, e, line, form).await,
    }
}

pub async fn view_inspection_question_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = QuestionInput { question: field(&form, "question"), answer: field(&form, "answer") };
    match st.svc.add_inspection_question(&u.actor, InspectionId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{id}?ok=question_saved#questions")).into_response()),
        Err(e) => refused(&st, &u, id, e, None, form).await,
    }
}

/// Photos of the round (of one line when `item_id` is given).
pub async fn view_inspection_photos_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut line = None;
    let mut files: Vec<Vec<u8>> = Vec::new();
    let too_big = || PageError::from_service(u.tr, aftercare_domain::FieldErrors::single("photos", "too_large").into());
    while let Ok(Some(f)) = mp.next_field().await {
        match f.name().unwrap_or_default() {
            "_csrf" => csrf = f.text().await.unwrap_or_default(),
            "item_id" => line = f.text().await.ok().and_then(|s| s.trim().parse::<i64>().ok()),
            "photos" => {
                let b = f.bytes().await.map_err(|_| too_big())?;
                if !b.is_empty() && files.len() < aftercare_service::attachments::MAX_FILES_PER_UPLOAD {
                    files.push(b.to_vec());
                }
            }
            _ => {}
        }
    }
    u.check_csrf(&csrf)?;
    for data in &files {
        if let Err(e) =
            st.svc.add_inspection_photo(&u.actor, InspectionId(id), line.map(InspectionItemId), data, Utc::now()).await
        {
            return refused(&st, &u, id, e, line, Vec::new()).await;
        }
    }
    let anchor = line.map(|l| format!("#line-{l}")).unwrap_or_else(|| "#photos".into());
    Ok(Redirect::to(&format!("/inspections/{id}?ok=photos_saved{anchor}")).into_response())
}

pub async fn view_inspection_complete_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let signature = match (field(&form, "signer_name"), field(&form, "signature_png")) {
        (None, None) => None,
        (name, png) => Some(SignatureInput { signer_name: name, image_png_base64: png }),
    };
    let input =
        CompleteInput { signature, summary: field(&form, "summary"), handled_on_site: field(&form, "handled_on_site") };
    match st.svc.complete_inspection(&u.actor, InspectionId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{id}?ok=inspection_complete")).into_response()),
        Err(e) => {
            let mut form = form;
            form.retain(|(k, _)| k != "signature_png");
            refused(&st, &u, id, e, None, form).await
        }
    }
}

pub async fn view_inspection_callback_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let yes_no = |n: &str| field(&form, n).map(|v| v == "yes");
    let input = InspectionCallbackInput {
        attended: yes_no("attended"),
        on_time: yes_no("on_time"),
        satisfaction: field(&form, "satisfaction").and_then(|s| s.parse().ok()),
        note: field(&form, "note"),
    };
    match st.svc.inspection_callback(&u.actor, InspectionId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspections/{id}?ok=inspection_called")).into_response()),
        Err(e) => refused(&st, &u, id, e, None, form).await,
    }
}

pub async fn view_inspection_signature_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let png = st.svc.inspection_signature(&u.actor, InspectionId(id)).await?;
    Ok(crate::files::stored_file(png, &format!("inspection-signature-{id}.png")))
}

pub async fn view_inspection_photo_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let (_, data) = st.svc.inspection_photo(&u.actor, id).await?;
    Ok(crate::files::stored_file(data, &format!("inspection-photo-{id}")))
}

// ---------------------------------------------------------------------------------------
// Form 2 《巡检记录表》: A4 and Excel.

#[derive(Template)]
#[template(path = "print_inspection.html")]
pub struct InspectionSheet {
    pub c: Ctx,
    pub d: InspectionView,
    pub title_zh: String,
    pub title_local: String,
    pub printed_on: String,
}

impl Words for InspectionSheet {
    fn tr(&self) -> Tr {
        self.c.tr
    }
}

impl InspectionSheet {
    pub fn value(&self, l: &InspectionItemRow) -> String {
        match l.value {
            Some(v) => format!("{}{}", num(v), l.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default()),
            None => String::new(),
        }
    }
    pub fn when(&self, at: &Option<chrono::DateTime<Utc>>) -> String {
        at.map(|a| a.with_timezone(&self.c.tz).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    }
    /// What was done about the line: its ticket, or the note.
    pub fn action(&self, l: &InspectionItemRow) -> String {
        match (&l.ticket_number, l.result) {
            (Some(n), _) => self.c.tr.tf("inspection.ticket_opened", &[("number", n)]),
            (None, Some(LineResult::Hazard)) => self.c.t("inspection.on_hazard_list"),
            _ => String::new(),
        }
    }
    pub fn counts_text(&self) -> String {
        let (ok, bad) = self.d.counts();
        self.c.tr.tf(
            "inspection.counts_text",
            &[("total", &self.d.items.len().to_string()), ("ok", &ok.to_string()), ("bad", &bad.to_string())],
        )
    }
    /// The form as rows for Excel: the header, then a row per line.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let c = &self.c;
        let i = &self.d.inspection;
        let mut rows = vec![
            vec![c.t("paper.inspection_no"), i.number.clone()],
            vec![c.t("field.phase"), self.phase(&i.phase)],
            vec![c.t("paper.school"), i.customer_name.clone()],
            vec![c.t("field.town"), i.town.clone()],
            vec![c.t("field.planned_on"), i.planned_on.to_string()],
            vec![c.t("inspection.started"), self.when(&i.started_at)],
            vec![c.t("inspection.completed"), self.when(&i.completed_at)],
            vec![c.t("paper.technicians"), i.technician_names.clone()],
            vec![c.t("inspection.counts"), self.counts_text()],
            vec![c.t("field.handled_on_site"), i.handled_on_site.clone().unwrap_or_default()],
            vec![c.t("field.summary"), i.summary.clone().unwrap_or_default()],
            vec![c.t("field.signature.signer_name"), i.signer_name.clone().unwrap_or_default()],
            Vec::new(),
            vec![
                c.t("field.system"),
                c.t("paper.device_name"),
                c.t("inspection.item"),
                c.t("inspection.standard"),
                c.t("inspection.measured"),
                c.t("field.result"),
                c.t("field.note"),
                c.t("inspection.action"),
            ],
        ];
        for l in &self.d.items {
            rows.push(vec![
                c.tr.system(l.system),
                l.equipment_label.clone().unwrap_or_default(),
                l.text.clone(),
                l.standard.clone(),
                self.value(l),
                self.result(&l.result),
                l.note.clone().unwrap_or_default(),
                self.action(l),
            ]);
        }
        if !self.d.questions.is_empty() {
            rows.push(Vec::new());
            rows.push(vec![c.t("inspection.question"), c.t("inspection.answer")]);
            for q in &self.d.questions {
                rows.push(vec![q.question.clone(), q.answer.clone().unwrap_or_default()]);
            }
        }
        rows
    }
}

async fn sheet(st: &AppState, u: &PageUser, id: i64) -> Result<InspectionSheet, PageError> {
    let d = st.svc.inspection(&u.actor, InspectionId(id)).await?;
    let key = "print.inspection";
    let c = Ctx::new(st, u, "/inspections", format!("{} {}", u.tr.t(key), d.inspection.number));
    let title_local = if c.lang() == "zh-CN" { String::new() } else { c.t(key) };
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(InspectionSheet { c, d, title_zh: Tr::new("zh-CN").t(key), title_local, printed_on })
}

pub async fn view_inspection_print_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    Ok(render(&sheet(&st, &u, id).await?))
}

fn xlsx(u: &PageUser, sheets: &[(String, Vec<Vec<String>>)], name: &str) -> Result<Response, PageError> {
    let bytes = aftercare_service::excel::tables_to_xlsx(sheets).map_err(|e| PageError::from_service(u.tr, e))?;
    Ok(crate::api::import::download(bytes, crate::api::import::XLSX, &format!("{name}.xlsx")))
}

pub async fn view_inspection_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let s = sheet(&st, &u, id).await?;
    let name = format!("{}-{}", s.title_zh, s.d.inspection.number);
    xlsx(&u, &[(s.c.t("print.inspection"), s.rows())], &name)
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodParams {
    pub from: Option<String>,
    pub until: Option<String>,
    /// `town` (default), `customer`, `phase`.
    pub by: Option<String>,
    pub page: Option<u32>,
}

/// A period's completed rounds as one workbook: a sheet of rounds, a sheet of every line.
pub async fn view_inspections_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<PeriodParams>,
) -> Result<Response, PageError> {
    let (from, until) = crate::api::inspections::period(p.from.as_deref(), p.until.as_deref(), st.svc.today())
        .map_err(|e| PageError::from_service(u.tr, e))?;
    let all = st.svc.inspections_with_lines(&u.actor, from, until).await?;
    let t = |k: &str| u.tr.t(k);
    let words = PeriodWords(u.tr);
    let mut rounds = vec![vec![
        t("paper.inspection_no"),
        t("field.phase"),
        t("paper.school"),
        t("field.town"),
        t("field.planned_on"),
        t("inspection.completed"),
        t("paper.technicians"),
        t("inspection.lines"),
        t("inspection_result.fault"),
        t("inspection_result.hazard"),
        t("field.signature.signer_name"),
        t("inspection.callback"),
    ]];
    let mut lines = vec![vec![
        t("paper.inspection_no"),
        t("paper.school"),
        t("field.system"),
        t("paper.device_name"),
        t("inspection.item"),
        t("inspection.standard"),
        t("inspection.measured"),
        t("field.result"),
        t("field.note"),
        t("inspection.ticket"),
    ]];
    for (r, items) in &all {
        let callback = match (r.callback_attended, r.callback_satisfaction) {
            (Some(false), _) => t("inspection.not_attended"),
            (Some(true), Some(s)) => format!("{s}/5"),
            _ => String::new(),
        };
        rounds.push(vec![
            r.number.clone(),
            words.phase(&r.phase),
            r.customer_name.clone(),
            r.town.clone(),
            r.planned_on.to_string(),
            r.completed_at
                .map(|a| a.with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
            r.technician_names.clone(),
            r.lines.to_string(),
            r.faults.to_string(),
            r.hazards.to_string(),
            r.signer_name.clone().unwrap_or_default(),
            callback,
        ]);
        for l in items {
            lines.push(vec![
                r.number.clone(),
                r.customer_name.clone(),
                u.tr.system(l.system),
                l.equipment_label.clone().unwrap_or_default(),
                l.text.clone(),
                l.standard.clone(),
                l.value.map(|v| format!("{}{}", num(v), l.unit.clone().unwrap_or_default())).unwrap_or_default(),
                words.result(&l.result),
                l.note.clone().unwrap_or_default(),
                l.ticket_number.clone().unwrap_or_default(),
            ]);
        }
    }
    let name = format!("{}-{from}-{until}", Tr::new("zh-CN").t("print.inspection"));
    xlsx(&u, &[(t("inspections.sheet_rounds"), rounds), (t("inspections.sheet_lines"), lines)], &name)
}

struct PeriodWords(Tr);
impl Words for PeriodWords {
    fn tr(&self) -> Tr {
        self.0
    }
}

// ---------------------------------------------------------------------------------------
// The hazard list, the templates, the numbers.

#[derive(Template)]
#[template(path = "hazards.html")]
pub struct HazardsPage {
    pub c: Ctx,
    pub rows: Vec<HazardRow>,
    pub pager: Pager,
    pub can_resolve: bool,
    /// The engineer and the manager turn a hazard into a rectification with one click.
    pub can_propose: bool,
    pub errors: FormErrors,
}

impl HazardsPage {
    /// The rectification form filled in from a hazard.
    pub fn rect_url(&self, h: &HazardRow) -> String {
        let mut q = vec![
            ("source", "inspection".to_owned()),
            ("inspection_id", h.inspection_id.to_string()),
            ("hazard_item_id", h.id.to_string()),
            ("customer_id", h.customer_id.to_string()),
            ("system", h.system.as_str().to_owned()),
            ("title", format!("{}：{}", h.customer_name, h.note.clone().unwrap_or_else(|| h.text.clone()))),
        ];
        if let Some(e) = h.equipment_id {
            q.push(("equipment_id", e.to_string()));
        }
        let q: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", crate::error::url_encode(v))).collect();
        format!("/rectifications/new?{}", q.join("&"))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct HazardParams {
    pub page: Option<u32>,
    pub ok: Option<String>,
}

async fn hazards_page(
    st: &AppState,
    u: &PageUser,
    p: &HazardParams,
    errors: FormErrors,
) -> Result<HazardsPage, PageError> {
    let page = Page::new(p.page, Some(25));
    let rows = st.svc.hazards(&u.actor, page).await?;
    Ok(HazardsPage {
        c: Ctx::new(st, u, "/hazards", u.tr.t("hazards.title")).flash_from(p.ok.as_deref()),
        pager: Pager::new("/hazards", &[], page, rows.total),
        rows: rows.items,
        can_resolve: u.actor.has_any(&[Role::Engineer, Role::Technician]),
        can_propose: aftercare_domain::analysis::may_propose(&u.actor.roles),
        errors,
    })
}

pub async fn view_hazards_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<HazardParams>,
) -> Result<Response, PageError> {
    Ok(render(&hazards_page(&st, &u, &p, FormErrors::default()).await?))
}

pub async fn view_hazard_resolve_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let how = field(&form, "resolution").unwrap_or_default();
    match st.svc.resolve_hazard(&u.actor, InspectionItemId(id), &how, Utc::now()).await {
        Ok(()) => Ok(Redirect::to("/hazards?ok=hazard_resolved").into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = hazards_page(&st, &u, &HazardParams::default(), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "checklist.html")]
pub struct ChecklistPage {
    pub c: Ctx,
    pub rows: Vec<ChecklistRow>,
    pub can_edit: bool,
    pub system: String,
    pub errors: FormErrors,
    /// The item whose form the errors belong to (`0` the new-item form, `-1` the settings).
    pub error_item: Option<i64>,
    pub values: Vec<(String, String)>,
    pub settings: aftercare_domain::inspections::PlanSettings,
}

impl ChecklistPage {
    pub fn systems(&self) -> [System; 6] {
        System::ALL
    }
    pub fn shown(&self) -> Vec<&ChecklistRow> {
        self.rows.iter().filter(|r| self.system.is_empty() || r.system.as_str() == self.system).collect()
    }
    pub fn range(&self, r: &ChecklistRow) -> String {
        let unit = r.unit.clone().unwrap_or_default();
        match (r.min_value, r.max_value) {
            (Some(a), Some(b)) => format!("{}–{} {unit}", num(a), num(b)),
            (Some(a), None) => format!("≥ {} {unit}", num(a)),
            (None, Some(b)) => format!("≤ {} {unit}", num(b)),
            (None, None) => String::new(),
        }
    }
    pub fn opt(&self, v: &Option<f64>) -> String {
        v.map(num).unwrap_or_default()
    }
    pub fn phases(&self, r: &ChecklistRow) -> String {
        let p = aftercare_domain::inspections::phases_from(&r.phases);
        if p.is_empty() {
            return self.c.t("inspection_phase.all");
        }
        p.iter().map(|p| self.c.t(&format!("inspection_phase.{}", p.as_str()))).collect::<Vec<_>>().join(" ")
    }
    pub fn has_phase(&self, r: &ChecklistRow, p: &str) -> bool {
        r.phases.split(',').any(|x| x == p)
    }
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ChecklistParams {
    pub system: Option<String>,
    pub ok: Option<String>,
}

async fn checklist_page(
    st: &AppState,
    u: &PageUser,
    system: Option<String>,
    ok: Option<&str>,
    errors: FormErrors,
    error_item: Option<i64>,
    values: Vec<(String, String)>,
) -> Result<ChecklistPage, PageError> {
    Ok(ChecklistPage {
        c: Ctx::new(st, u, "/inspections", u.tr.t("checklist.title"))
            .crumb(u.tr.t("inspections.title"), "/inspections")
            .flash_from(ok),
        rows: st.svc.checklist(&u.actor).await?,
        can_edit: u.actor.has_any(&[Role::Engineer]),
        system: system.filter(|s| System::parse(s).is_some()).unwrap_or_default(),
        errors,
        error_item,
        values,
        settings: st.svc.plan_settings(&u.actor).await?,
    })
}

pub async fn view_checklist_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ChecklistParams>,
) -> Result<Response, PageError> {
    Ok(render(&checklist_page(&st, &u, p.system, p.ok.as_deref(), FormErrors::default(), None, Vec::new()).await?))
}

fn checklist_input(form: &[(String, String)]) -> (ChecklistItemInput, Option<aftercare_domain::FieldErrors>) {
    let mut e = aftercare_domain::FieldErrors::default();
    let mut number =
        |name: &'static str| match field(form, name).map(|v| v.trim().replace(',', ".")).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => v.parse::<f64>().ok().or_else(|| {
                e.push(name, "invalid");
                None
            }),
        };
    let min = number("min");
    let max = number("max");
    let input = ChecklistItemInput {
        system: field(form, "system"),
        code: field(form, "code"),
        text: field(form, "text"),
        standard: field(form, "standard"),
        frequency: field(form, "frequency"),
        per_device: Some(field(form, "per_device").is_some()),
        min,
        max,
        unit: field(form, "unit"),
        phases: Some(fields(form, "phases")),
    };
    (input, (!e.is_empty()).then_some(e))
}

/// A new template item (`id` 0) or an edit of one.
pub async fn view_checklist_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id: i64 = id.parse().map_err(|_| PageError::from_service(u.tr, aftercare_service::ServiceError::NotFound))?;
    let (input, bad) = checklist_input(&form);
    let active = field(&form, "active").is_some() || id == 0;
    let result = match bad {
        Some(e) => Err(e.into()),
        None => {
            let item = (id != 0).then_some(ChecklistItemId(id));
            st.svc.save_checklist_item(&u.actor, item, &input, active, Utc::now()).await
        }
    };
    let system = field(&form, "system");
    match result {
        Ok(saved) => {
            let url = query_url(
                "/inspections/checklist",
                &[("system", system.unwrap_or_default()), ("ok", "checklist_saved".into())],
            );
            Ok(Redirect::to(&format!("{url}#item-{saved}")).into_response())
        }
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = checklist_page(&st, &u, system, None, errors, Some(id), form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "inspection_report.html")]
pub struct ReportPage {
    pub c: Ctx,
    pub from: String,
    pub until: String,
    pub by: String,
    pub rows: Vec<CompletionRow>,
    pub availability: Vec<AvailabilityRow>,
    pub totals: CompletionRow,
    pub questions: Vec<aftercare_service::inspections::AskedRow>,
    pub pager: Pager,
    pub errors: FormErrors,
}

impl ReportPage {
    pub fn by_label(&self) -> String {
        self.c.t(&format!("inspection_report.by_{}", self.by))
    }
    pub fn label(&self, r: &CompletionRow) -> String {
        match self.by.as_str() {
            "phase" => self.c.t(&format!("inspection_phase.{}", r.label)),
            _ => r.label.clone(),
        }
    }
    /// Done over planned, as a percentage ("—" for nothing planned).
    pub fn rate(&self, done: &i64, of: &i64) -> String {
        if *of == 0 { "—".into() } else { format!("{:.1}%", *done as f64 * 100.0 / *of as f64) }
    }
    pub fn width(&self, done: &i64, of: &i64) -> String {
        if *of == 0 { "0".into() } else { format!("{:.1}", *done as f64 * 100.0 / *of as f64) }
    }
    /// The tiles: over every group of the period, not only the page shown.
    pub fn total(&self) -> (i64, i64, i64, i64) {
        let t = &self.totals;
        (t.planned, t.completed, t.hazards_found, t.hazards_resolved)
    }
}

pub async fn view_inspection_report_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<PeriodParams>,
) -> Result<Response, PageError> {
    let by =
        p.by.clone().filter(|b| ["town", "customer", "phase"].contains(&b.as_str())).unwrap_or_else(|| "town".into());
    let group = match by.as_str() {
        "customer" => CompletionBy::Customer,
        "phase" => CompletionBy::Phase,
        _ => CompletionBy::Town,
    };
    let today = st.svc.today();
    let (errors, (from, until)) = match crate::api::inspections::period(p.from.as_deref(), p.until.as_deref(), today) {
        Ok(r) => (FormErrors::default(), r),
        Err(e) => (form_errors(u.tr, e)?, crate::api::inspections::period(None, None, today).unwrap_or((today, today))),
    };
    let page = Page::new(p.page, Some(100));
    let r = st.svc.inspection_report(&u.actor, from, until, group, page).await?;
    let params = [("from", from.to_string()), ("until", until.to_string()), ("by", by.clone())];
    let pager = Pager::new("/inspections/report", &params, page, r.groups);
    let (rows, availability, totals) = (r.rows, r.availability, r.totals);
    let questions = st.svc.inspection_questions(&u.actor, from, until).await?;
    let page = ReportPage {
        c: Ctx::new(&st, &u, "/inspections", u.tr.t("inspection_report.title"))
            .crumb(u.tr.t("inspections.title"), "/inspections"),
        from: from.to_string(),
        until: until.to_string(),
        by,
        rows,
        availability,
        totals,
        questions,
        pager,
        errors,
    };
    Ok(render(&page))
}

/// The planning settings, from the checklist page.
pub async fn view_plan_settings_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let mut bad = aftercare_domain::FieldErrors::default();
    let input = aftercare_domain::inspections::PlanSettingsInput {
        mid_after_years: decimal(&form, "mid_after_years", &mut bad),
        late_after_years: decimal(&form, "late_after_years", &mut bad),
        daily_limit: decimal(&form, "daily_limit", &mut bad).map(|n| n as i64),
    };
    let result =
        if bad.is_empty() { st.svc.set_plan_settings(&u.actor, &input).await.map(|_| ()) } else { Err(bad.into()) };
    match result {
        Ok(()) => Ok(Redirect::to("/inspections/checklist?ok=settings_saved#plan-settings").into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = checklist_page(&st, &u, None, None, errors, Some(-1), form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}
