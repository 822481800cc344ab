//! Defective parts: repair, return to the vendor (RMA) or scrap (issue 5).

use super::ApiJson;
use super::parts::MovementOut;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::defective::DisposeInput;
use aftercare_service::ServiceError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

/// The ledger row a disposal appended, with its `outcome`; `balance_after` is the
/// defective count after.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisposalOut {
    #[serde(flatten)]
    pub movement: MovementOut,
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
    let (row, _) = st.svc.dispose_defective(&u.actor, &b).await.map_err(|e| match e {
        // What is short here is the defective count, not usable stock.
        ServiceError::Insufficient { part, warehouse, on_hand } => ApiError::new(
            StatusCode::CONFLICT,
            "insufficient_stock",
            u.tr.tf(
                "error.insufficient_defective",
                &[("part", &part), ("warehouse", &warehouse), ("on_hand", &on_hand.to_string())],
            ),
        ),
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(DisposalOut { movement: MovementOut::from(row) })))
}
