//! Trainings for people: the list (a school sees its own) with the plan form for the
//! manager and the engineer, the training page (attendance, completion with feedback,
//! materials), and the coverage of every school × phase × system.

use super::{Ctx, FormErrors, PageId, PageQuery, Pager, field, fields, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::inspections::Phase;
use aftercare_domain::trainings::{
    AttendanceInput, AttendeeInput, TrainingAction, TrainingCompleteInput, TrainingInput, TrainingKind, TrainingStatus,
    may_plan,
};
use aftercare_domain::{System, TrainingId};
use aftercare_service::attachments::Upload;
use aftercare_service::trainings::{CoverageSchool, TrainingFilter, TrainingRow, TrainingView};
use aftercare_service::{Page, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

/// Empty attendance rows offered below the recorded ones.
const BLANK_ROWS: usize = 6;
/// The coverage page shows this many schools (worst first).
const COVERAGE_SHOWN: usize = 200;

#[derive(Template)]
#[template(path = "trainings.html")]
pub struct TrainingsPage {
    pub c: Ctx,
    pub rows: Vec<TrainingRow>,
    pub pager: Pager,
    pub kind: String,
    pub can_plan: bool,
    pub towns: Vec<(String, String)>,
    pub staff: Vec<(i64, String)>,
    pub values: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl TrainingsPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn checked(&self, name: &str, value: &str) -> bool {
        fields(&self.values, name).iter().any(|v| v == value)
    }
    pub fn kinds(&self) -> &'static [TrainingKind] {
        TrainingKind::ALL
    }
    pub fn phases(&self) -> &'static [Phase] {
        Phase::ALL
    }
    pub fn systems(&self) -> [System; 6] {
        System::ALL
    }
    pub fn kind_name(&self, k: &TrainingKind) -> String {
        self.c.t(&format!("training_kind.{}", k.as_str()))
    }
    pub fn status_name(&self, s: &TrainingStatus) -> String {
        self.c.t(&format!("training_status.{}", s.as_str()))
    }
    pub fn phase_name(&self, p: &Option<Phase>) -> String {
        p.map(|p| self.c.t(&format!("inspection_phase.{}", p.as_str()))).unwrap_or_default()
    }
    pub fn systems_of(&self, r: &TrainingRow) -> String {
        r.system_list().into_iter().map(|s| self.c.tr.system(s)).collect::<Vec<_>>().join("、")
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub kind: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

async fn list_page(
    st: &AppState,
    u: &PageUser,
    p: &ListParams,
    values: Vec<(String, String)>,
    errors: FormErrors,
) -> Result<TrainingsPage, PageError> {
    let page = Page::new(p.page, Some(25));
    let kind = p.kind.as_deref().and_then(TrainingKind::parse);
    let rows = st.svc.trainings(&u.actor, TrainingFilter { kind, ..Default::default() }, page).await?;
    let kind_s = kind.map(|k| k.as_str().to_owned()).unwrap_or_default();
    let pager = Pager::new("/trainings", &[("kind", kind_s.clone())], page, rows.total);
    let title = u.tr.t("trainings.title");
    let c = Ctx::new(st, u, "/trainings", title).flash_from(p.ok.as_deref());
    let can_plan = may_plan(&u.actor.roles);
    let (towns, staff) = if can_plan {
        (st.svc.towns(&u.actor).await?, st.svc.rectification_owners(&u.actor).await.unwrap_or_default())
    } else {
        (Vec::new(), Vec::new())
    };
    let mut values = values;
    if field(&values, "planned_on").is_none() {
        values.push(("planned_on".into(), st.svc.today().to_string()));
    }
    Ok(TrainingsPage { c, rows: rows.items, pager, kind: kind_s, can_plan, towns, staff, values, errors })
}

pub async fn view_trainings_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    Ok(render(&list_page(&st, &u, &p, Vec::new(), FormErrors::default()).await?))
}

/// The plan form: one school (the picker) or every school of a town.
pub async fn view_trainings_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let mut customer_ids: Vec<i64> = field(&form, "customer_id").and_then(|s| s.parse().ok()).into_iter().collect();
    if let Some(town) = field(&form, "town").filter(|t| !t.is_empty()) {
        customer_ids.extend(st.svc.town_school_ids(&u.actor, &town).await?);
    }
    let ids = |name: &str| -> Vec<i64> { fields(&form, name).iter().filter_map(|s| s.parse().ok()).collect() };
    let input = TrainingInput {
        kind: field(&form, "kind"),
        title: field(&form, "title"),
        phase: field(&form, "phase").filter(|s| !s.is_empty()),
        systems: Some(fields(&form, "systems")),
        customer_ids: Some(customer_ids),
        planned_on: field(&form, "planned_on"),
        place: field(&form, "place"),
        trainer_ids: Some(ids("trainer_ids")),
        topics: field(&form, "topics"),
        provider: field(&form, "provider"),
    };
    match st.svc.plan_training(&u.actor, &input, Utc::now()).await {
        Ok(v) => Ok(Redirect::to(&format!("/trainings/{}?ok=training_planned", v.training.id)).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = list_page(&st, &u, &ListParams::default(), form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "training.html")]
pub struct TrainingPage {
    pub c: Ctx,
    pub v: TrainingView,
    /// The training's schools, for the attendance rows' choice.
    pub schools: Vec<(i64, String)>,
    pub staff: Vec<(i64, String)>,
    pub blanks: Vec<usize>,
    pub errors: FormErrors,
    /// `attendance`, `complete` or `material`: the form the errors are about.
    pub error_form: String,
}

impl TrainingPage {
    pub fn customer(&self) -> bool {
        self.v.training.kind == TrainingKind::Customer
    }
    pub fn can(&self, a: &str) -> bool {
        self.v.actions.iter().any(|x| x.as_str() == a)
    }
    pub fn err_in(&self, form: &str) -> bool {
        self.errors.any() && self.error_form == form
    }
    pub fn kind_name(&self) -> String {
        self.c.t(&format!("training_kind.{}", self.v.training.kind.as_str()))
    }
    pub fn status_name(&self) -> String {
        self.c.t(&format!("training_status.{}", self.v.training.status.as_str()))
    }
    pub fn phase_name(&self) -> String {
        self.v.training.phase.map(|p| self.c.t(&format!("inspection_phase.{}", p.as_str()))).unwrap_or_default()
    }
    pub fn systems(&self) -> String {
        self.v.training.system_list().into_iter().map(|s| self.c.tr.system(s)).collect::<Vec<_>>().join("、")
    }
    pub fn size(&self, bytes: &i64) -> String {
        if *bytes >= 1024 * 1024 {
            format!("{:.1} MB", *bytes as f64 / 1048576.0)
        } else {
            format!("{} KB", (*bytes + 1023) / 1024)
        }
    }
    pub fn scores(&self) -> [i64; 5] {
        [5, 4, 3, 2, 1]
    }
}

async fn training_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    errors: FormErrors,
    error_form: &str,
) -> Result<TrainingPage, PageError> {
    let v = st.svc.training(&u.actor, TrainingId(id)).await?;
    let names = v.schools.iter().map(|s| (s.customer_id, s.name.clone())).collect();
    let staff = if v.can_record { st.svc.rectification_owners(&u.actor).await.unwrap_or_default() } else { Vec::new() };
    let blanks = if v.can_record { (0..BLANK_ROWS).map(|i| v.attendees.len() + i).collect() } else { Vec::new() };
    let c = Ctx::new(st, u, "/trainings", format!("{} {}", v.training.number, v.training.title))
        .crumb(u.tr.t("trainings.title"), "/trainings")
        .flash_from(ok);
    Ok(TrainingPage { c, v, schools: names, staff, blanks, errors, error_form: error_form.to_owned() })
}

pub async fn view_training_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&training_page(&st, &u, id, p.ok.as_deref(), FormErrors::default(), "").await?))
}

async fn refused(st: &AppState, u: &PageUser, id: i64, e: ServiceError, form: &str) -> Result<Response, PageError> {
    let errors = super::refusal_errors(u.tr, e)?;
    let page = training_page(st, u, id, None, errors, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// The attendance rows `name_{i}`, `customer_id_{i}` or `user_id_{i}`, `present_{i}`,
/// `administrator_{i}`, `result_{i}`; a row without a name and a person is left out.
pub async fn view_attendance_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let rows: usize = field(&form, "rows").and_then(|s| s.parse().ok()).unwrap_or(0).min(500);
    let mut attendees = Vec::new();
    for i in 0..rows {
        let get = |n: &str| field(&form, &format!("{n}_{i}")).filter(|s| !s.trim().is_empty());
        let user_id = get("user_id").and_then(|s| s.parse().ok());
        if get("name").is_none() && user_id.is_none() {
            continue;
        }
        attendees.push(AttendeeInput {
            name: get("name"),
            customer_id: get("customer_id").and_then(|s| s.parse().ok()),
            user_id,
            present: Some(get("present").is_some()),
            administrator: Some(get("administrator").is_some()),
            result: get("result"),
        });
    }
    // A staff row chosen from the list and left without a name takes the person's name.
    if attendees.iter().any(|a| a.name.is_none()) {
        let staff = st.svc.rectification_owners(&u.actor).await.unwrap_or_default();
        for a in attendees.iter_mut().filter(|a| a.name.is_none()) {
            a.name = a.user_id.and_then(|u| staff.iter().find(|(id, _)| *id == u).map(|(_, n)| n.clone()));
        }
    }
    let input = AttendanceInput { attendees: Some(attendees) };
    match st.svc.record_attendance(&u.actor, TrainingId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/trainings/{id}?ok=attendance_saved#attendance")).into_response()),
        Err(e) => refused(&st, &u, id, e, "attendance").await,
    }
}

/// `complete` (with the feedback) or `cancel`.
pub async fn view_training_action_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let not_found = || PageError::from_service(u.tr, ServiceError::NotFound);
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let action = TrainingAction::parse(&action).ok_or_else(not_found)?;
    let score = field(&form, "feedback_score").filter(|s| !s.is_empty());
    let feedback_score = match score.as_deref().map(str::parse::<i64>) {
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => Some(0),
        None => None,
    };
    let input = TrainingCompleteInput {
        feedback_score,
        feedback_note: field(&form, "feedback_note"),
        summary: field(&form, "summary"),
    };
    match st.svc.training_action(&u.actor, TrainingId(id), action, &input, Utc::now()).await {
        Ok(_) => {
            let ok = if action == TrainingAction::Complete { "training_completed" } else { "training_cancelled" };
            Ok(Redirect::to(&format!("/trainings/{id}?ok={ok}")).into_response())
        }
        Err(e) => refused(&st, &u, id, e, "complete").await,
    }
}

/// A material from the page's file field (multipart).
pub async fn view_material_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut upload = Upload::default();
    while let Ok(Some(part)) = form.next_field().await {
        match part.name().unwrap_or_default() {
            "_csrf" => csrf = part.text().await.unwrap_or_default(),
            "file" => {
                upload.filename = part.file_name().unwrap_or_default().to_owned();
                upload.content_type = part.content_type().unwrap_or_default().to_owned();
                upload.data = part.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            }
            _ => {}
        }
    }
    u.check_csrf(&csrf)?;
    match st.svc.add_training_material(&u.actor, TrainingId(id), &upload, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/trainings/{id}?ok=material_added#materials")).into_response()),
        Err(e) => refused(&st, &u, id, e, "material").await,
    }
}

pub async fn view_material_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let (meta, data) = st.svc.training_material(&u.actor, id).await?;
    Ok(crate::files::material(data, &meta.content_type, &meta.filename))
}

#[derive(Template)]
#[template(path = "training_coverage.html")]
pub struct CoveragePage {
    pub c: Ctx,
    pub schools: Vec<CoverageSchool>,
    pub total: usize,
    pub shown: usize,
}

impl CoveragePage {
    pub fn phase_name(&self, p: &Phase) -> String {
        self.c.t(&format!("inspection_phase.{}", p.as_str()))
    }
    pub fn system_name(&self, s: &System) -> String {
        self.c.tr.system(s)
    }
}

pub async fn view_coverage_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let mut schools = st.svc.training_coverage(&u.actor, None).await?;
    let total = schools.len();
    schools.truncate(COVERAGE_SHOWN);
    let c = Ctx::new(&st, &u, "/trainings/coverage", u.tr.t("trainings.coverage"))
        .crumb(u.tr.t("trainings.title"), "/trainings");
    let shown = schools.len();
    Ok(render(&CoveragePage { c, schools, total, shown }))
}
