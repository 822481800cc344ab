//! The on-duty roster (24 小时值班) and the desk's working hours. Staff read; the manager
//! and the administrator write; schools are refused.

use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::roster::{CopyOutcome, ShiftInput, WorkingHoursInput, WorkingHoursSettings};
use aftercare_service::roster::{DutyPerson, ShiftRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct RosterParams {
    /// A day (`YYYY-MM-DD`, from its start, local time) or an RFC 3339 time; default: this
    /// week's Monday.
    pub from: Option<String>,
    /// A day (through its end) or an RFC 3339 time; default: a week after `from`.
    pub to: Option<String>,
}

/// Lists the shifts touching a period (at most 92 days), earliest first.
#[utoipa::path(get, path = "/api/v1/roster", params(RosterParams),
    responses((status = 200, body = List<ShiftRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_roster_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<RosterParams>,
) -> Result<Json<List<ShiftRow>>, ApiError> {
    let items = st.svc.roster_between(&u.actor, p.from.as_deref(), p.to.as_deref(), Utc::now()).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

/// Plans a shift (manager or administrator).
///
/// `starts_at`/`ends_at` are RFC 3339, or local `YYYY-MM-DDTHH:MM`; a night shift ends the
/// next morning. The person must hold the agent, engineer or technician role. An end not
/// after the start is 422 `ends_at`/`date_order`; a shift overlapping another of the same
/// person is 422 `starts_at`/`overlap`.
#[utoipa::path(post, path = "/api/v1/roster", request_body = ShiftInput,
    responses((status = 201, body = ShiftRow), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_roster_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<ShiftInput>,
) -> Result<(StatusCode, Json<ShiftRow>), ApiError> {
    let row = st.svc.create_shift(&u.actor, &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Removes a shift (manager or administrator).
#[utoipa::path(delete, path = "/api/v1/roster/{id}", params(("id" = i64, Path)),
    responses((status = 204, description = "removed"), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_roster_delete(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<StatusCode, ApiError> {
    st.svc.delete_shift(&u.actor, aftercare_domain::ShiftId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who is on duty now.
#[utoipa::path(get, path = "/api/v1/roster/now",
    responses((status = 200, body = List<ShiftRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_roster_now(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<ShiftRow>>, ApiError> {
    let items = st.svc.roster_now(&u.actor, Utc::now()).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

/// The people a shift may be planned for (active agents, engineers, technicians).
#[utoipa::path(get, path = "/api/v1/roster/people",
    responses((status = 200, body = List<DutyPerson>), (status = 403, body = ErrorResponse)))]
pub async fn api_roster_people(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<DutyPerson>>, ApiError> {
    let items = st.svc.duty_people(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct CopyBody {
    /// Any day of the week to fill (`YYYY-MM-DD`); the week before it is copied.
    pub week: Option<String>,
}

/// Copies last week's shifts into a week (manager or administrator); a shift whose person
/// is busy then, or no longer on the desk, is skipped and counted.
#[utoipa::path(post, path = "/api/v1/roster/copy", request_body = CopyBody,
    responses((status = 200, body = CopyOutcome), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_roster_copy(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<CopyBody>,
) -> Result<Json<CopyOutcome>, ApiError> {
    let out = st.svc.copy_roster_week(&u.actor, b.week.as_deref(), Utc::now()).await?;
    Ok(Json(out))
}

/// The desk's working hours and how soon a missed call must be called back.
#[utoipa::path(get, path = "/api/v1/settings/working-hours",
    responses((status = 200, body = WorkingHoursSettings), (status = 403, body = ErrorResponse)))]
pub async fn api_working_hours_get(
    State(st): State<AppState>,
    u: ApiUser,
) -> Result<Json<WorkingHoursSettings>, ApiError> {
    let s = st.svc.working_hours_settings(&u.actor).await?;
    Ok(Json(s))
}

/// Changes the working hours (manager or administrator).
///
/// `working_hours` is `HH:MM-HH:MM` (end after start), `working_days` the weekdays 1 (Monday)
/// to 7, `missed_callback_minutes` 1–1440; a bad value is 422 naming its field.
#[utoipa::path(put, path = "/api/v1/settings/working-hours", request_body = WorkingHoursInput,
    responses((status = 200, body = WorkingHoursSettings), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_working_hours_put(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<WorkingHoursInput>,
) -> Result<Json<WorkingHoursSettings>, ApiError> {
    let s = st.svc.set_working_hours(&u.actor, &b).await?;
    Ok(Json(s))
}
