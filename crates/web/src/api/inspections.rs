//! Periodic inspections (巡检, DESIGN.md §5 `inspections`): plan one school or many, the
//! round's results, questions, photos, start/complete/cancel, the callback, the hazard
//! list, the checklist templates and the numbers.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::inspections::{
    ChecklistItemInput, CompleteInput, InspectionAction, InspectionCallbackInput, InspectionInput, InspectionStatus,
    Phase, PlanInput, PlanSettings, PlanSettingsInput, QuestionInput, ResultsInput,
};
use aftercare_domain::tickets::SignatureInput;
use aftercare_domain::validation::optional_date;
use aftercare_domain::{ChecklistItemId, FieldErrors, InspectionId, InspectionItemId};
use aftercare_service::ServiceError;
use aftercare_service::inspections::{
    AvailabilityRow, ChecklistRow, CompletionBy, CompletionRow, HazardRow, InspectionItemRow, InspectionQuery,
    InspectionRow, InspectionView, PlannedRound, QuestionRow, Scope,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// An inspection with its lines, the school's questions, its photos and what the caller
/// may do now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InspectionOut {
    #[serde(flatten)]
    pub inspection: InspectionRow,
    pub items: Vec<InspectionItemRow>,
    pub questions: Vec<QuestionRow>,
    /// Photo ids (at `/api/v1/inspections/photos/{id}`) with the line each shows.
    pub photos: Vec<PhotoRef>,
    /// `start|complete|cancel`, those open to the caller.
    pub actions: Vec<String>,
    /// Results, questions and photos may be recorded now.
    pub can_record: bool,
    pub can_callback: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhotoRef {
    pub id: i64,
    pub item_id: Option<i64>,
}

pub(crate) fn out(d: InspectionView) -> InspectionOut {
    InspectionOut {
        actions: d.actions.iter().map(|a| a.as_str().to_string()).collect(),
        photos: d.photos.iter().map(|(id, item_id)| PhotoRef { id: *id, item_id: *item_id }).collect(),
        inspection: d.inspection,
        items: d.items,
        questions: d.questions,
        can_record: d.can_record,
        can_callback: d.can_callback,
    }
}

fn bad(field: &str, code: &'static str) -> ServiceError {
    ServiceError::Invalid(FieldErrors::single(field, code))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct InspectionParams {
    /// `all` (default), `mine` (the caller's rounds, soonest first), `overdue`, `to_call`
    /// (completed, waiting for the callback).
    pub scope: Option<String>,
    /// `planned|in_progress|completed|cancelled`.
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub town: Option<String>,
    /// `early|mid|late`.
    pub phase: Option<String>,
    /// Planned on or after, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Planned on or before.
    pub until: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The list's filters as the service takes them; every bad one named at once.
pub(crate) fn query_of(p: &InspectionParams) -> Result<(Scope, InspectionQuery), ServiceError> {
    let mut e = FieldErrors::default();
    let scope = match p.scope.as_deref() {
        None => Scope::All,
        Some(s) => Scope::parse(s).unwrap_or_else(|| {
            e.push("scope", "unknown_value");
            Scope::All
        }),
    };
    let status =
        aftercare_domain::validation::optional_enum(&mut e, "status", p.status.as_deref(), InspectionStatus::parse);
    let phase = aftercare_domain::validation::optional_enum(&mut e, "phase", p.phase.as_deref(), Phase::parse);
    let planned_from = optional_date(&mut e, "from", p.from.as_deref());
    let planned_until = optional_date(&mut e, "until", p.until.as_deref());
    let town = aftercare_domain::validation::clean(p.town.as_deref());
    if town.as_ref().is_some_and(|t| t.chars().count() > 50) {
        e.push("town", "too_long");
    }
    let q = InspectionQuery {
        customer_id: p.customer_id,
        status,
        phase,
        town,
        planned_from,
        planned_until,
        ..Default::default()
    };
    e.into_result((scope, q)).map_err(ServiceError::Invalid)
}

#[utoipa::path(get, path = "/api/v1/inspections", params(InspectionParams),
    responses((status = 200, body = List<InspectionRow>), (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<InspectionParams>,
) -> Result<Json<List<InspectionRow>>, ApiError> {
    let (scope, q) = query_of(&p)?;
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.list_inspections(&u.actor, scope, q, page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/inspections", request_body = InspectionInput,
    responses((status = 201, body = InspectionOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<InspectionInput>,
) -> Result<(StatusCode, Json<InspectionOut>), ApiError> {
    let d = st.svc.plan_inspection(&u.actor, &b, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(out(d))))
}

#[utoipa::path(post, path = "/api/v1/inspections/plan", request_body = PlanInput,
    responses((status = 201, body = List<PlannedRound>), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "a bad field, an unknown school or technician, a range without a working day, or more schools than the technicians' free rounds in the range")))]
pub async fn api_inspections_plan(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<PlanInput>,
) -> Result<(StatusCode, Json<List<PlannedRound>>), ApiError> {
    let items = st.svc.plan_inspections(&u.actor, &b, chrono::Utc::now()).await?;
    let total = items.len() as i64;
    Ok((StatusCode::CREATED, Json(List { items, total, total_capped: false })))
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = InspectionOut), (status = 404, body = ErrorResponse)))]
pub async fn api_inspections_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<InspectionOut>, ApiError> {
    Ok(Json(out(st.svc.inspection(&u.actor, InspectionId(id)).await?)))
}

#[utoipa::path(post, path = "/api/v1/inspections/{id}/results", params(("id" = i64, Path)), request_body = ResultsInput,
    responses((status = 200, body = List<InspectionItemRow>, description = "the lines as saved"), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "the round is not under way"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_results(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ResultsInput>,
) -> Result<Json<List<InspectionItemRow>>, ApiError> {
    let items = st.svc.record_results(&u.actor, InspectionId(id), &b, chrono::Utc::now()).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

/// The body of an action: `complete` takes the signature (and a summary, what was handled
/// on the spot); `cancel` a reason; `start` nothing.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct InspectionActionBody {
    pub signature: Option<SignatureInput>,
    pub summary: Option<String>,
    pub handled_on_site: Option<String>,
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/inspections/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "start, complete, cancel")),
    request_body = InspectionActionBody,
    responses((status = 200, body = InspectionOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not possible from this status, or a line has no result"),
        (status = 422, body = ErrorResponse, description = "complete without the school's signature, cancel without a reason")))]
pub async fn api_inspections_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<InspectionActionBody>,
) -> Result<Json<InspectionOut>, ApiError> {
    let id = InspectionId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let action = InspectionAction::parse(&action).ok_or(ServiceError::NotFound)?;
    let now = chrono::Utc::now();
    let d = match action {
        InspectionAction::Complete => {
            let input =
                CompleteInput { signature: b.signature, summary: b.summary, handled_on_site: b.handled_on_site };
            st.svc.complete_inspection(&u.actor, id, &input, now).await?
        }
        _ => st.svc.inspection_action(&u.actor, id, action, b.reason.as_deref(), now).await?,
    };
    Ok(Json(out(d)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

#[utoipa::path(post, path = "/api/v1/inspections/{id}/questions", params(("id" = i64, Path)), request_body = QuestionInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_question(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<QuestionInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = st.svc.add_inspection_question(&u.actor, InspectionId(id), &b, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A photo sent as base64 (JPEG, PNG or WebP; the bytes are checked).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PhotoInput {
    pub item_id: Option<i64>,
    pub data_base64: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/inspections/{id}/photos", params(("id" = i64, Path)), request_body = PhotoInput,
    responses((status = 201, body = Created), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_photo(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<PhotoInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let up = aftercare_service::attachments::AttachmentInput { data_base64: b.data_base64, ..Default::default() }
        .upload()
        .map_err(ServiceError::Invalid)?;
    let data = up.data;
    let line = b.item_id.map(InspectionItemId);
    let id = st.svc.add_inspection_photo(&u.actor, InspectionId(id), line, &data, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/inspections/photos/{id}", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "the photo"), (status = 404, body = ErrorResponse)))]
pub async fn api_inspection_photo_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<axum::response::Response, ApiError> {
    let (_, data) = st.svc.inspection_photo(&u.actor, id).await?;
    Ok(crate::files::stored_file(data, &format!("inspection-photo-{id}")))
}

#[utoipa::path(get, path = "/api/v1/inspections/{id}/signature.png", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/png", description = "the school's signature"), (status = 404, body = ErrorResponse)))]
pub async fn api_inspection_signature(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<axum::response::Response, ApiError> {
    let png = st.svc.inspection_signature(&u.actor, InspectionId(id)).await?;
    Ok(crate::files::stored_file(png, &format!("inspection-signature-{id}.png")))
}

#[utoipa::path(post, path = "/api/v1/inspections/{id}/callback", params(("id" = i64, Path)), request_body = InspectionCallbackInput,
    responses((status = 200, body = InspectionOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not completed, or called back already"), (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_callback(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<InspectionCallbackInput>,
) -> Result<Json<InspectionOut>, ApiError> {
    Ok(Json(out(st.svc.inspection_callback(&u.actor, InspectionId(id), &b, chrono::Utc::now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/hazards", params(PageParams),
    responses((status = 200, body = List<HazardRow>)))]
pub async fn api_hazards_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<List<HazardRow>>, ApiError> {
    let rows = st.svc.hazards(&u.actor, p.page()).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ResolveInput {
    /// How it was dealt with.
    pub resolution: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/hazards/{id}/resolve", params(("id" = i64, Path, description = "the hazard line's id")),
    request_body = ResolveInput,
    responses((status = 204, description = "resolved"), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "resolved already"), (status = 422, body = ErrorResponse)))]
pub async fn api_hazards_resolve(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ResolveInput>,
) -> Result<StatusCode, ApiError> {
    let how = b.resolution.unwrap_or_default();
    st.svc.resolve_hazard(&u.actor, InspectionItemId(id), &how, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/inspections/checklist",
    responses((status = 200, body = List<ChecklistRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_checklist_list(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<ChecklistRow>>, ApiError> {
    let items = st.svc.checklist(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

/// A template item and whether it is in use.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ChecklistItemBody {
    #[serde(flatten)]
    pub item: ChecklistItemInput,
    /// Default true; false retires the item from rounds planned from now on.
    pub active: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/inspections/checklist", request_body = ChecklistItemBody,
    responses((status = 201, body = Created), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_checklist_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<ChecklistItemBody>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = st.svc.save_checklist_item(&u.actor, None, &b.item, b.active.unwrap_or(true), chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(put, path = "/api/v1/inspections/checklist/{id}", params(("id" = i64, Path)), request_body = ChecklistItemBody,
    responses((status = 200, body = Created), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_checklist_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ChecklistItemBody>,
) -> Result<Json<Created>, ApiError> {
    let now = chrono::Utc::now();
    let id =
        st.svc.save_checklist_item(&u.actor, Some(ChecklistItemId(id)), &b.item, b.active.unwrap_or(true), now).await?;
    Ok(Json(Created { id }))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct ReportParams {
    /// `YYYY-MM-DD`; default the first of this year.
    pub from: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub until: Option<String>,
    /// `town` (default), `customer` or `phase`.
    pub by: Option<String>,
    /// Rows come a page at a time (by school a county has thousands): default 1.
    pub page: Option<u32>,
    /// At most 500; default 100.
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportOut {
    pub from: chrono::NaiveDate,
    pub until: chrono::NaiveDate,
    /// Done over planned per group, with hazards found and resolved (this page).
    pub rows: Vec<CompletionRow>,
    /// Groups in all (pages of `per_page`).
    pub total: i64,
    /// Over every group of the period.
    pub totals: CompletionRow,
    /// Device availability now, per town (or school, `by=customer`) and system, from each
    /// school's latest completed round of the system.
    pub availability: Vec<AvailabilityRow>,
}

/// The period a report covers; every bad field named at once.
pub(crate) fn period(
    from: Option<&str>,
    until: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ServiceError> {
    use chrono::Datelike;
    let mut e = FieldErrors::default();
    let f = optional_date(&mut e, "from", from);
    let u = optional_date(&mut e, "until", until);
    let f = f.unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today));
    let u = u.unwrap_or(today);
    if u < f {
        e.push("until", "date_order");
    }
    e.into_result((f, u)).map_err(ServiceError::Invalid)
}

#[utoipa::path(get, path = "/api/v1/inspections/report", params(ReportParams),
    responses((status = 200, body = ReportOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_inspections_report(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<Json<ReportOut>, ApiError> {
    let group = match p.by.as_deref().map(str::trim) {
        None | Some("") | Some("town") => CompletionBy::Town,
        Some("customer") => CompletionBy::Customer,
        Some("phase") => CompletionBy::Phase,
        Some(_) => return Err(bad("by", "unknown_value").into()),
    };
    let (from, until) = period(p.from.as_deref(), p.until.as_deref(), st.svc.today())?;
    let page = aftercare_service::Page::new(p.page, Some(p.per_page.unwrap_or(100)));
    let r = st.svc.inspection_report(&u.actor, from, until, group, page).await?;
    Ok(Json(ReportOut { from, until, rows: r.rows, total: r.groups, totals: r.totals, availability: r.availability }))
}

#[utoipa::path(get, path = "/api/v1/settings/inspections",
    responses((status = 200, body = PlanSettings), (status = 403, body = ErrorResponse)))]
pub async fn api_plan_settings_get(State(st): State<AppState>, u: ApiUser) -> Result<Json<PlanSettings>, ApiError> {
    Ok(Json(st.svc.plan_settings(&u.actor).await?))
}

/// The years in service after which a school is proposed the middle and the late phase
/// (0–50, late not before middle) and the most rounds a technician is given a day (1–20).
#[utoipa::path(put, path = "/api/v1/settings/inspections", request_body = PlanSettingsInput,
    responses((status = 200, body = PlanSettings), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_plan_settings_put(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<PlanSettingsInput>,
) -> Result<Json<PlanSettings>, ApiError> {
    Ok(Json(st.svc.set_plan_settings(&u.actor, &b).await?))
}
