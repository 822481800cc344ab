//! Penalty review, scorecards, SLA policies, the fault taxonomy, notifications.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::assessments::PenaltyStatus;
use aftercare_service::assessments::NotificationRow;
use aftercare_service::assessments::PenaltyRow;
use aftercare_service::assessments::SlaRow;
use aftercare_service::assessments::{Scorecard, SlaInput};
use aftercare_service::taxonomy::SubcategoryRow;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PenaltyParams {
    /// `proposed`, `confirmed`, `dismissed`.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/penalties", params(PenaltyParams), responses((status = 200, body = List<PenaltyRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "`status`: unknown_value")))]
pub async fn api_penalties_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PenaltyParams>,
) -> Result<Json<List<PenaltyRow>>, ApiError> {
    let page = aftercare_service::Page::new(p.page, p.per_page);
    let status = match p.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(PenaltyStatus::parse(s).ok_or_else(|| {
            aftercare_service::ServiceError::Invalid(aftercare_domain::FieldErrors::single("status", "unknown_value"))
        })?),
    };
    let rows = st.svc.penalties(&u.actor, status, page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReviewBody {
    /// `confirm` or `dismiss`.
    pub verdict: String,
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/penalties/{id}/review", params(("id" = i64, Path)), request_body = ReviewBody,
    responses((status = 204, description = "reviewed"), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "already reviewed")))]
pub async fn api_penalties_review(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ReviewBody>,
) -> Result<StatusCode, ApiError> {
    st.svc.review_penalty(&u.actor, aftercare_domain::PenaltyId(id), &b.verdict, b.note.as_deref(), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PeriodParams {
    /// Start (default: 30 days ago).
    pub from: Option<DateTime<Utc>>,
    /// End (default: now).
    pub to: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/scorecards", params(PeriodParams), responses((status = 200, body = List<Scorecard>), (status = 403, body = ErrorResponse)))]
pub async fn api_scorecards(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Result<Json<List<Scorecard>>, ApiError> {
    let to = p.to.unwrap_or_else(Utc::now);
    let from = p.from.unwrap_or(to - Duration::days(30));
    let items = st.svc.scorecards(&u.actor, from, to).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(get, path = "/api/v1/sla-policies", responses((status = 403, body = ErrorResponse), (status = 200, body = List<SlaRow>)))]
pub async fn api_sla_list(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<SlaRow>>, ApiError> {
    let items = st.svc.sla_policies(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(put, path = "/api/v1/sla-policies/{priority}", params(("priority" = String, Path)), request_body = SlaInput,
    responses((status = 200, body = List<SlaRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_sla_set(
    State(st): State<AppState>,
    u: ApiUser,
    Path(priority): Path<String>,
    ApiJson(b): ApiJson<SlaInput>,
) -> Result<Json<List<SlaRow>>, ApiError> {
    let items = st.svc.set_sla_policy(&u.actor, &priority, &b, Utc::now()).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(get, path = "/api/v1/fault-subcategories", responses((status = 403, body = ErrorResponse), (status = 200, body = List<SubcategoryRow>)))]
pub async fn api_subcategories(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<SubcategoryRow>>, ApiError> {
    let items = st.svc.fault_subcategories(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(get, path = "/api/v1/notifications", params(PageParams), responses((status = 200, body = List<NotificationRow>)))]
pub async fn api_notifications(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<List<NotificationRow>>, ApiError> {
    let rows = st.svc.notifications(&u.actor, p.page()).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReadBody {
    /// One notification; omitted: all of mine.
    pub id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/notifications/read", request_body = ReadBody, responses((status = 204, description = "marked read")))]
pub async fn api_notifications_read(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<ReadBody>,
) -> Result<StatusCode, ApiError> {
    st.svc.mark_notifications_read(&u.actor, b.id.map(aftercare_domain::NotificationId), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which calendar the SLA clocks run on.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SlaCalendar {
    /// True: only working hours count toward the clocks (nights, weekends and days off do
    /// not); false: around the clock (the default).
    pub working_hours: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/settings/sla-calendar", responses((status = 200, body = SlaCalendar), (status = 403, body = ErrorResponse)))]
pub async fn api_sla_calendar_get(State(st): State<AppState>, u: ApiUser) -> Result<Json<SlaCalendar>, ApiError> {
    if !u.actor.is_staff() {
        return Err(ApiError::from_service(u.tr, aftercare_service::ServiceError::Forbidden));
    }
    Ok(Json(SlaCalendar { working_hours: Some(st.svc.sla_on_working_hours().await) }))
}

#[utoipa::path(put, path = "/api/v1/settings/sla-calendar", request_body = SlaCalendar,
    responses((status = 200, body = SlaCalendar), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_sla_calendar_set(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<SlaCalendar>,
) -> Result<Json<SlaCalendar>, ApiError> {
    let on = st.svc.set_sla_calendar(&u.actor, b.working_hours).await?;
    Ok(Json(SlaCalendar { working_hours: Some(on) }))
}

#[utoipa::path(get, path = "/api/v1/settings/write-limits",
    responses((status = 200, body = aftercare_service::rate::WriteLimits, description = "writes per minute per user; 0 is no limit"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)))]
pub async fn api_write_limits_get(
    State(st): State<AppState>,
    u: ApiUser,
) -> Result<Json<aftercare_service::rate::WriteLimits>, ApiError> {
    if !u.actor.is_staff() {
        return Err(ApiError::from_service(u.tr, aftercare_service::ServiceError::Forbidden));
    }
    Ok(Json(st.svc.write_limits().await?))
}

#[utoipa::path(put, path = "/api/v1/settings/write-limits", request_body = aftercare_service::rate::WriteLimits,
    responses((status = 200, body = aftercare_service::rate::WriteLimits), (status = 400, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "a limit over 1,000,000")))]
pub async fn api_write_limits_set(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<aftercare_service::rate::WriteLimits>,
) -> Result<Json<aftercare_service::rate::WriteLimits>, ApiError> {
    Ok(Json(st.svc.set_write_limits(&u.actor, &b).await?))
}
