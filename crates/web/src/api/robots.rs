//! Group robots (企业微信 / 钉钉): where notifications are also posted.

use super::{ApiId, ApiJson, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::RobotId;
use aftercare_domain::robots::RobotInput;
use aftercare_service::robots::RobotRow;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};

/// The robots, active or switched off (managers and admins: the addresses hold group keys).
#[utoipa::path(get, path = "/api/v1/robots", responses((status = 200, body = List<RobotRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_robots_list(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<RobotRow>>, ApiError> {
    let items = st.svc.robots(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

/// Adds a robot: `{name, platform: wecom|dingtalk, url, role | user_id}`.
#[utoipa::path(post, path = "/api/v1/robots", request_body = RobotInput,
    responses((status = 201, body = RobotRow), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_robots_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<RobotInput>,
) -> Result<(StatusCode, Json<RobotRow>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_robot(&u.actor, &b, Utc::now()).await?)))
}

/// Switches a robot off.
#[utoipa::path(delete, path = "/api/v1/robots/{id}", params(("id" = i64, Path)),
    responses((status = 204, description = "switched off"), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_robots_delete(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<StatusCode, ApiError> {
    st.svc.remove_robot(&u.actor, RobotId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicUrl {
    /// The product's address as people reach it (`http://192.168.1.10:8080`); empty: no links.
    pub public_url: String,
}

#[utoipa::path(put, path = "/api/v1/settings/public-url", request_body = PublicUrl,
    responses((status = 200, body = PublicUrl), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_public_url_set(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<PublicUrl>,
) -> Result<Json<PublicUrl>, ApiError> {
    st.svc.set_public_url(&u.actor, &b.public_url).await?;
    Ok(Json(PublicUrl { public_url: st.svc.public_url().await.unwrap_or_default() }))
}
