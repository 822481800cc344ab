//! The courteous phrase library (客服文明用语): staff read the active phrases; the manager
//! and the administrator add, change, deactivate and reorder them.

use super::{ApiId, ApiJson, ApiQuery};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::phrases::PhraseRow;
use aftercare_service::phrases::{FORBIDDEN_PHRASES, PhraseInput, PhrasePatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PhraseParams {
    /// `true`: deactivated phrases too (manager or administrator).
    pub all: Option<bool>,
}

/// The phrases, with the forbidden phrases (禁用语) as a reminder.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhraseList {
    pub items: Vec<PhraseRow>,
    pub total: i64,
    /// What an agent must never say.
    pub forbidden: Vec<String>,
}

/// Lists the phrases by scene, in the order of a call; `display` has the company's name
/// filled in for `{公司}`.
#[utoipa::path(get, path = "/api/v1/phrases", params(PhraseParams),
    responses((status = 200, body = PhraseList), (status = 403, body = ErrorResponse)))]
pub async fn api_phrases_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PhraseParams>,
) -> Result<Json<PhraseList>, ApiError> {
    let items = if p.all == Some(true) { st.svc.all_phrases(&u.actor).await } else { st.svc.phrases(&u.actor).await }?;
    let total = items.len() as i64;
    Ok(Json(PhraseList { items, total, forbidden: FORBIDDEN_PHRASES.iter().map(|s| s.to_string()).collect() }))
}

/// Adds a phrase (manager or administrator). An unknown scene is 422 `scene`/`unknown_value`.
#[utoipa::path(post, path = "/api/v1/phrases", request_body = PhraseInput,
    responses((status = 201, body = PhraseRow), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_phrases_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<PhraseInput>,
) -> Result<(StatusCode, Json<PhraseRow>), ApiError> {
    let row = st.svc.create_phrase(&u.actor, &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Changes a phrase (manager or administrator): omitted fields stay; `active: false`
/// deactivates it, `position` reorders it within its scene.
#[utoipa::path(patch, path = "/api/v1/phrases/{id}", params(("id" = i64, Path)), request_body = PhrasePatch,
    responses((status = 200, body = PhraseRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_phrases_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<PhrasePatch>,
) -> Result<Json<PhraseRow>, ApiError> {
    let row = st.svc.update_phrase(&u.actor, aftercare_domain::PhraseId(id), &b, Utc::now()).await?;
    Ok(Json(row))
}
