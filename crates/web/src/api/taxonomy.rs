//! The fault taxonomy as the manager changes it: add a subcategory, rename it, deactivate
//! or reactivate it (`GET /fault-subcategories` lists them, in `assessments.rs`).

use super::ApiJson;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::taxonomy::SubcategoryRow;
use aftercare_service::taxonomy::{SubcategoryInput, SubcategoryUpdate};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Adds a fault subcategory (manager or administrator).
///
/// The code is 3–40 uppercase letters, digits or underscores (lower case is raised) and must
/// not be taken; a taken code is 409 `duplicate` naming the field `code`.
#[utoipa::path(post, path = "/api/v1/fault-subcategories", request_body = SubcategoryInput,
    responses((status = 201, body = SubcategoryRow), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the code is taken"), (status = 422, body = ErrorResponse)))]
pub async fn api_subcategory_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<SubcategoryInput>,
) -> Result<(StatusCode, Json<SubcategoryRow>), ApiError> {
    let row = st.svc.create_subcategory(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Changes a fault subcategory (manager or administrator).
///
/// Replaces both names and the typical cause; `active: false` deactivates it (no longer
/// offered when diagnosing; tickets keep the code), `true` reactivates it, omitted keeps it.
/// Code, system and fault type cannot change: a different value is a field error.
#[utoipa::path(put, path = "/api/v1/fault-subcategories/{code}", params(("code" = String, Path)), request_body = SubcategoryUpdate,
    responses((status = 200, body = SubcategoryRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_subcategory_update(
    State(st): State<AppState>,
    u: ApiUser,
    Path(code): Path<String>,
    ApiJson(b): ApiJson<SubcategoryUpdate>,
) -> Result<Json<SubcategoryRow>, ApiError> {
    let row = st.svc.update_subcategory(&u.actor, &code, &b).await?;
    Ok(Json(row))
}
