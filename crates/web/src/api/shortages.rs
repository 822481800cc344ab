//! Reserve quotas, shortage alerts and the purchase suggestion (§2.5(1), §3.2.9):
//! `PUT stock/quotas`, `GET stock/shortages`, `POST stock/shortages/{id}/acknowledge`,
//! `GET stock/purchase-suggestions`.

use super::parts::StockOut;
use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::parts::fen_to_yuan;
use aftercare_domain::shortages::QuotaInput;
use aftercare_domain::{ShortageId, WarehouseId};
use aftercare_service::shortages::AlertRow;
use aftercare_service::shortages::Suggestion;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[utoipa::path(put, path = "/api/v1/stock/quotas", request_body = QuotaInput,
    responses((status = 200, body = StockOut), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "min above max, a negative quantity, an unknown part or warehouse")))]
pub async fn api_quota_set(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<QuotaInput>,
) -> Result<Json<StockOut>, ApiError> {
    let row = st.svc.set_quota(&u.actor, &b).await?;
    Ok(Json(row.into()))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct ShortageParams {
    /// Only open alerts (the default); `false` for all.
    pub open: Option<bool>,
    pub warehouse_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/stock/shortages", params(ShortageParams),
    responses((status = 200, body = List<AlertRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_shortages_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<ShortageParams>,
) -> Result<Json<List<AlertRow>>, ApiError> {
    let items = st.svc.shortages(&u.actor, p.open.unwrap_or(true), p.warehouse_id.map(WarehouseId)).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(post, path = "/api/v1/stock/shortages/{id}/acknowledge", params(("id" = i64, Path)),
    responses((status = 200, body = AlertRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_shortage_acknowledge(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<AlertRow>, ApiError> {
    let row = st.svc.acknowledge_shortage(&u.actor, ShortageId(id)).await?;
    Ok(Json(row))
}

/// A purchase suggestion line, with the unit cost and the order's value in yuan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuggestionOut {
    #[serde(flatten)]
    pub line: Suggestion,
    /// Yuan per unit (catalogue price).
    pub unit_cost: f64,
    /// Yuan: order_qty × unit_cost.
    pub value: f64,
}

impl From<Suggestion> for SuggestionOut {
    fn from(line: Suggestion) -> Self {
        SuggestionOut {
            unit_cost: fen_to_yuan(line.row.unit_cost_fen),
            value: fen_to_yuan(line.row.unit_cost_fen.saturating_mul(line.order_qty)),
            line,
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct SuggestionParams {
    pub warehouse_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/stock/purchase-suggestions", params(SuggestionParams),
    responses((status = 200, body = List<SuggestionOut>, description = "critical parts first; order_qty fills up to max"),
        (status = 403, body = ErrorResponse)))]
pub async fn api_purchase_suggestions(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<SuggestionParams>,
) -> Result<Json<List<SuggestionOut>>, ApiError> {
    let rows = st.svc.purchase_suggestions(&u.actor, p.warehouse_id.map(WarehouseId), Utc::now()).await?;
    let total = rows.len() as i64;
    Ok(Json(List { items: rows.into_iter().map(SuggestionOut::from).collect(), total, total_capped: false }))
}
