//! The week's work plan (DESIGN.md §5 `work-plan`): per person and day, the scheduled
//! repairs, planned rounds, trips and the engineer's own items; for a past week, done or not.

use super::{ApiId, ApiJson, ApiQuery};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::work_plan::{PlanItemInput, PlanItemUpdate, monday_of, parse_week};
use aftercare_domain::{FieldErrors, PlanItemId};
use aftercare_service::ServiceError;
use aftercare_service::work_plan::WorkPlan;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
pub struct WeekParams {
    /// `2026-W50`; default next week.
    pub week: Option<String>,
}

/// The Monday of the week asked for (next week when none is).
pub(crate) fn monday(week: Option<&str>, today: NaiveDate) -> Result<NaiveDate, ServiceError> {
    match week.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(monday_of(today) + chrono::Duration::days(7)),
        Some(w) => parse_week(w).ok_or_else(|| FieldErrors::single("week", "invalid").into()),
    }
}

#[utoipa::path(get, path = "/api/v1/work-plan", params(WeekParams),
    responses((status = 200, body = WorkPlan), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_work_plan_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<WeekParams>,
) -> Result<Json<WorkPlan>, ApiError> {
    let monday = monday(p.week.as_deref(), st.svc.today())?;
    Ok(Json(st.svc.work_plan(&u.actor, monday).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemCreated {
    pub id: i64,
}

#[utoipa::path(post, path = "/api/v1/work-plan/items", request_body = PlanItemInput,
    responses((status = 201, body = ItemCreated), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_work_plan_item_add(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<PlanItemInput>,
) -> Result<(StatusCode, Json<ItemCreated>), ApiError> {
    let id = st.svc.add_plan_item(&u.actor, &b, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(ItemCreated { id })))
}

#[utoipa::path(post, path = "/api/v1/work-plan/items/{id}", params(("id" = i64, Path)), request_body = PlanItemUpdate,
    responses((status = 204, description = "saved"), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_work_plan_item_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<PlanItemUpdate>,
) -> Result<StatusCode, ApiError> {
    st.svc.update_plan_item(&u.actor, PlanItemId(id), &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/work-plan/publish", request_body = WeekParams,
    responses((status = 204, description = "published"), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_work_plan_publish(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<WeekParams>,
) -> Result<StatusCode, ApiError> {
    let monday = monday(b.week.as_deref(), st.svc.today())?;
    st.svc.publish_plan(&u.actor, monday, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
