//! Defective parts: repair, return to the vendor (RMA) or scrap (issue 5).

use super::ApiJson;
use super::parts::MovementOut;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::defective::{DisposeInput, Outcome};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

/// The ledger row a disposal appended; `balance_after` is the defective count after.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisposalOut {
    #[serde(flatten)]
    pub movement: MovementOut,
    pub outcome: Outcome,
}

#[utoipa::path(post, path = "/api/v1/stock/defective/dispose", request_body = DisposeInput,
    responses((status = 201, body = DisposalOut), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "fewer defective units: the message names the part and the defective count left"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_defective_dispose(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<DisposeInput>,
) -> Result<(StatusCode, Json<DisposalOut>), ApiError> {
    let (row, outcome) = st.svc.dispose_defective(&u.actor, &b).await.map_err(|e| ApiError::from_service(u.tr, e))?;
    Ok((StatusCode::CREATED, Json(DisposalOut { movement: row.into(), outcome })))
}
