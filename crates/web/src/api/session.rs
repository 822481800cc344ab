//! Sign in for programs: a bearer token; `me`.

use super::ApiJson;
use crate::AppState;
use crate::api::users::UserOut;
use crate::auth::{ApiUser, PeerAddr};
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::auth::SessionKind;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    /// Send as `Authorization: Bearer <token>`; valid 30 days.
    pub token: String,
    pub user: UserOut,
}

#[utoipa::path(post, path = "/api/v1/session", security(()), request_body = LoginBody,
    responses((status = 200, body = SessionOut), (status = 401, body = ErrorResponse), (status = 429, body = ErrorResponse)))]
pub async fn api_session_create(
    State(st): State<AppState>,
    PeerAddr(addr): PeerAddr,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<Json<SessionOut>, ApiError> {
    // Errors in the caller's language (the request's, not yet the user's).
    let s = st.svc.login(&b.username, &b.password, &addr, SessionKind::Api).await?;
    let user = st.svc.get_user(&s.actor, s.actor.id).await?;
    Ok(Json(SessionOut { token: s.token, user: UserOut::from(&user) }))
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204, description = "signed out")))]
pub async fn api_session_delete(
    State(st): State<AppState>,
    // Only a signed-in caller may sign out; the token it names is the one to end.
    _u: ApiUser,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_owned()))
        .unwrap_or_default();
    st.svc.logout(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = UserOut), (status = 401, body = ErrorResponse)))]
pub async fn api_me_get(State(st): State<AppState>, u: ApiUser) -> Result<Json<UserOut>, ApiError> {
    let row = st.svc.get_user(&u.actor, u.actor.id).await?;
    Ok(Json(UserOut::from(&row)))
}
