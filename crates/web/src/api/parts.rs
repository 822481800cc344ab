//! Spare parts: the catalogue, warehouses, on-hand stock and the stock ledger
//! (DESIGN.md §5: `parts`, `warehouses`, `stock`, `stock/movements`). Money is yuan in
//! the API (`unit_cost`, `avg_cost`) and fen in the store.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::parts::{MovementInput, MovementKind, PartInput, WarehouseInput, fen_to_yuan};
use aftercare_domain::{PartId, WarehouseId};
use aftercare_service::parts::{MovementQuery, MovementRow, PartQuery, PartRow, StockRow, WarehouseRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// A catalogue part, with its cost in yuan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartOut {
    #[serde(flatten)]
    pub part: PartRow,
    /// Yuan.
    pub unit_cost: f64,
}

impl From<PartRow> for PartOut {
    fn from(part: PartRow) -> Self {
        PartOut { unit_cost: fen_to_yuan(part.unit_cost_fen), part }
    }
}

/// On-hand of a part in a warehouse, with the moving-average cost in yuan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StockOut {
    #[serde(flatten)]
    pub stock: StockRow,
    /// Yuan per unit.
    pub avg_cost: f64,
    /// Yuan: on_hand × avg_cost.
    pub value: f64,
}

impl From<StockRow> for StockOut {
    fn from(stock: StockRow) -> Self {
        StockOut {
            avg_cost: fen_to_yuan(stock.avg_cost_fen),
            value: fen_to_yuan(stock.avg_cost_fen.saturating_mul(stock.on_hand)),
            stock,
        }
    }
}

/// A ledger movement, with its unit cost in yuan.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MovementOut {
    #[serde(flatten)]
    pub movement: MovementRow,
    /// Yuan.
    pub unit_cost: f64,
}

impl From<MovementRow> for MovementOut {
    fn from(movement: MovementRow) -> Self {
        MovementOut { unit_cost: fen_to_yuan(movement.unit_cost_fen), movement }
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct PartParams {
    /// Part of the code, name or specification.
    pub q: Option<String>,
    pub category: Option<String>,
    pub critical: Option<bool>,
    pub active: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PartBody {
    #[serde(flatten)]
    pub input: PartInput,
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/parts", params(PartParams), responses((status = 200, body = List<PartOut>), (status = 403, body = ErrorResponse)))]
pub async fn api_parts_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PartParams>,
) -> Result<Json<List<PartOut>>, ApiError> {
    let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
    let q = PartQuery { q: nonempty(&p.q), category: nonempty(&p.category), critical: p.critical, active: p.active };
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.list_parts(&u.actor, &q, page).await?;
    Ok(Json(List {
        items: rows.items.into_iter().map(PartOut::from).collect(),
        total: rows.total,
        total_capped: rows.capped,
    }))
}

#[utoipa::path(post, path = "/api/v1/parts", request_body = PartInput,
    responses((status = 201, body = PartOut), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_parts_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<PartInput>,
) -> Result<(StatusCode, Json<PartOut>), ApiError> {
    let row = st.svc.create_part(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(get, path = "/api/v1/parts/{id}", params(("id" = i64, Path)), responses((status = 403, body = ErrorResponse), (status = 200, body = PartOut), (status = 404, body = ErrorResponse)))]
pub async fn api_parts_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<PartOut>, ApiError> {
    let row = st.svc.get_part(&u.actor, PartId(id)).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(patch, path = "/api/v1/parts/{id}", params(("id" = i64, Path)), request_body = PartBody,
    responses((status = 403, body = ErrorResponse), (status = 200, body = PartOut), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_parts_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<PartBody>,
) -> Result<Json<PartOut>, ApiError> {
    let row = st.svc.update_part(&u.actor, PartId(id), b.version, &b.input).await?;
    Ok(Json(row.into()))
}

#[utoipa::path(get, path = "/api/v1/warehouses", responses((status = 200, body = List<WarehouseRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_warehouses_list(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<WarehouseRow>>, ApiError> {
    let items = st.svc.list_warehouses(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(post, path = "/api/v1/warehouses", request_body = WarehouseInput,
    responses((status = 201, body = WarehouseRow), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_warehouses_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<WarehouseInput>,
) -> Result<(StatusCode, Json<WarehouseRow>), ApiError> {
    let row = st.svc.create_warehouse(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(get, path = "/api/v1/warehouses/{id}", params(("id" = i64, Path)), responses((status = 403, body = ErrorResponse), (status = 200, body = WarehouseRow), (status = 404, body = ErrorResponse)))]
pub async fn api_warehouses_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<WarehouseRow>, ApiError> {
    let row = st.svc.get_warehouse(&u.actor, WarehouseId(id)).await?;
    Ok(Json(row))
}

#[utoipa::path(patch, path = "/api/v1/warehouses/{id}", params(("id" = i64, Path)), request_body = WarehouseInput,
    responses((status = 403, body = ErrorResponse), (status = 200, body = WarehouseRow), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_warehouses_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<WarehouseInput>,
) -> Result<Json<WarehouseRow>, ApiError> {
    let row = st.svc.update_warehouse(&u.actor, WarehouseId(id), &b).await?;
    Ok(Json(row))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct StockParams {
    pub part_id: Option<i64>,
    pub warehouse_id: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/stock", params(StockParams), responses((status = 200, body = List<StockOut>), (status = 403, body = ErrorResponse)))]
pub async fn api_stock_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<StockParams>,
) -> Result<Json<List<StockOut>>, ApiError> {
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.stock(&u.actor, p.part_id.map(PartId), p.warehouse_id.map(WarehouseId), page).await?;
    Ok(Json(List {
        items: rows.items.into_iter().map(StockOut::from).collect(),
        total: rows.total,
        total_capped: rows.capped,
    }))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct MovementParams {
    pub part_id: Option<i64>,
    /// Movements from or into this warehouse.
    pub warehouse_id: Option<i64>,
    /// `receipt|issue|return|defective_return|transfer|adjustment|scrap`.
    pub kind: Option<String>,
    pub ticket_id: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/stock/movements", params(MovementParams), responses((status = 200, body = List<MovementOut>), (status = 403, body = ErrorResponse)))]
pub async fn api_movements_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<MovementParams>,
) -> Result<Json<List<MovementOut>>, ApiError> {
    let kind = match p.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        None => None,
        // A kind the ledger does not know matches no movement.
        Some(k) => match MovementKind::parse(k) {
            Some(k) => Some(k),
            None => return Ok(Json(List { items: Vec::new(), total: 0, total_capped: false })),
        },
    };
    let q = MovementQuery {
        part_id: p.part_id,
        warehouse_id: p.warehouse_id,
        kind,
        ticket_id: p.ticket_id,
        ..Default::default()
    };
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.movements(&u.actor, &q, page).await?;
    Ok(Json(List {
        items: rows.items.into_iter().map(MovementOut::from).collect(),
        total: rows.total,
        total_capped: rows.capped,
    }))
}

#[utoipa::path(post, path = "/api/v1/stock/movements", request_body = MovementInput,
    responses((status = 201, body = MovementOut), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not enough stock: the message names the part and what is left"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_movements_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<MovementInput>,
) -> Result<(StatusCode, Json<MovementOut>), ApiError> {
    let row = st.svc.post_movement(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}
