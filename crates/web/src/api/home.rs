//! The start page as data: the caller's counts (each with the list it opens), a
//! technician's stops of the day, a manager's workload and month.

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::home::Home;
use axum::Json;
use axum::extract::State;

#[utoipa::path(get, path = "/api/v1/home", responses((status = 200, body = Home), (status = 403, body = ErrorResponse)))]
pub async fn api_home(State(st): State<AppState>, u: ApiUser) -> Result<Json<Home>, ApiError> {
    Ok(Json(st.svc.home(&u.actor, chrono::Utc::now()).await?))
}
