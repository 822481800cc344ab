//! Appraisals (DESIGN.md §5 `appraisals`, staff 考核) with the manager's weights, and the
//! periods' study plans.

use super::{ApiId, ApiJson, ApiQuery};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::AppraisalId;
use aftercare_domain::appraisals::{AppraisalInput, DecideInput, Weights};
use aftercare_service::appraisals::{AppraisalView, StudyPlanInput, StudyPlanRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AppraisalParams {
    /// Periods, comma-separated: `2026-Q3,2026-Q4` or `2026-12`. Every period when absent.
    pub periods: Option<String>,
}

impl AppraisalParams {
    pub fn list(&self) -> Vec<String> {
        self.periods
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .take(12)
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppraisalList {
    pub items: Vec<AppraisalView>,
}

#[utoipa::path(get, path = "/api/v1/appraisals", params(AppraisalParams),
    responses((status = 200, body = AppraisalList), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "a period that is not `YYYY-Qn` or `YYYY-MM`")))]
pub async fn api_appraisals_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<AppraisalParams>,
) -> Result<Json<AppraisalList>, ApiError> {
    Ok(Json(AppraisalList { items: st.svc.appraisals(&u.actor, &p.list()).await? }))
}

#[utoipa::path(post, path = "/api/v1/appraisals", request_body = AppraisalInput,
    responses((status = 201, body = AppraisalView), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the person has one for the period"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_appraisals_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<AppraisalInput>,
) -> Result<(StatusCode, Json<AppraisalView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.appraise(&u.actor, &b, chrono::Utc::now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/appraisals/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = AppraisalView), (status = 404, body = ErrorResponse)))]
pub async fn api_appraisals_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<AppraisalView>, ApiError> {
    Ok(Json(st.svc.appraisal(&u.actor, AppraisalId(id)).await?))
}

#[utoipa::path(post, path = "/api/v1/appraisals/{id}/decide", params(("id" = i64, Path)), request_body = DecideInput,
    responses((status = 200, body = AppraisalView),
        (status = 403, body = ErrorResponse, description = "not the manager, or one's own appraisal"),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "decided already"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_appraisals_decide(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<DecideInput>,
) -> Result<Json<AppraisalView>, ApiError> {
    Ok(Json(st.svc.decide_appraisal(&u.actor, AppraisalId(id), &b, chrono::Utc::now()).await?))
}

#[utoipa::path(get, path = "/api/v1/appraisals/weights",
    responses((status = 200, body = Weights), (status = 403, body = ErrorResponse)))]
pub async fn api_appraisal_weights_get(State(st): State<AppState>, u: ApiUser) -> Result<Json<Weights>, ApiError> {
    if !u.actor.is_staff() {
        return Err(aftercare_service::ServiceError::Forbidden.into());
    }
    Ok(Json(st.svc.appraisal_weights().await?))
}

#[utoipa::path(put, path = "/api/v1/appraisals/weights", request_body = Weights,
    responses((status = 200, body = Weights), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "a weight outside 0–100")))]
pub async fn api_appraisal_weights_put(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<Weights>,
) -> Result<Json<Weights>, ApiError> {
    Ok(Json(st.svc.set_appraisal_weights(&u.actor, &b).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct StudyPlanParams {
    /// `2026-Q4` or `2026-12`.
    pub period: String,
}

#[utoipa::path(get, path = "/api/v1/study-plans", params(StudyPlanParams),
    responses((status = 200, body = Vec<StudyPlanRow>), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_study_plans_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<StudyPlanParams>,
) -> Result<Json<Vec<StudyPlanRow>>, ApiError> {
    Ok(Json(st.svc.study_plans(&u.actor, &p.period).await?))
}

#[utoipa::path(post, path = "/api/v1/study-plans", request_body = StudyPlanInput,
    responses((status = 201, body = StudyPlanRow), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_study_plans_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<StudyPlanInput>,
) -> Result<(StatusCode, Json<StudyPlanRow>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_study_plan(&u.actor, &b, chrono::Utc::now()).await?)))
}
