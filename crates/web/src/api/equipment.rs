//! Equipment: the installed base.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::EquipmentId;
use aftercare_domain::equipment::EquipmentInput;
use aftercare_service::equipment::{AuditEntry, EquipmentQuery, EquipmentRow, Page};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct EquipmentParams {
    /// Search words: 监控, a serial number, a model code, a school's name.
    pub q: Option<String>,
    pub customer_id: Option<i64>,
    pub town: Option<String>,
    /// `network`, `server_room`, `surveillance`, `classroom`, `cloud`, `broadcast`.
    pub system: Option<String>,
    /// `in_service`, `faulty`, `under_repair`, `retired`.
    pub status: Option<String>,
    pub critical: Option<bool>,
    /// `expired`, `expiring` (within 90 days), `valid`, `unknown`.
    pub warranty: Option<String>,
    /// `serial`, `customer`, `system`, `kind`, `installed`, `warranty`, `status`.
    pub sort: Option<String>,
    pub desc: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl EquipmentParams {
    pub fn query(&self) -> EquipmentQuery {
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
        EquipmentQuery {
            q: nonempty(&self.q),
            customer_id: self.customer_id,
            town: nonempty(&self.town),
            system: nonempty(&self.system),
            status: nonempty(&self.status),
            critical: self.critical,
            warranty: nonempty(&self.warranty),
            sort: nonempty(&self.sort),
            desc: self.desc.unwrap_or(false),
            ..Default::default()
        }
    }
    pub fn page(&self) -> Page {
        PageParams { page: self.page, per_page: self.per_page }.page()
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EquipmentBody {
    #[serde(flatten)]
    pub input: EquipmentInput,
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/equipment", params(EquipmentParams), responses((status = 200, body = List<EquipmentRow>)))]
pub async fn api_equipment_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<EquipmentParams>,
) -> Result<Json<List<EquipmentRow>>, ApiError> {
    let rows = st.svc.list_equipment(&u.actor, p.query(), p.page()).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/equipment", request_body = EquipmentInput,
    responses((status = 201, body = EquipmentRow), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_equipment_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<EquipmentInput>,
) -> Result<(StatusCode, Json<EquipmentRow>), ApiError> {
    let row = st.svc.create_equipment(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(get, path = "/api/v1/equipment/{id}", params(("id" = i64, Path)), responses((status = 200, body = EquipmentRow), (status = 404, body = ErrorResponse)))]
pub async fn api_equipment_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<EquipmentRow>, ApiError> {
    let row = st.svc.get_equipment(&u.actor, EquipmentId(id)).await?;
    Ok(Json(row))
}

#[utoipa::path(put, path = "/api/v1/equipment/{id}", params(("id" = i64, Path)), request_body = EquipmentBody,
    responses((status = 403, body = ErrorResponse), (status = 200, body = EquipmentRow), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_equipment_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<EquipmentBody>,
) -> Result<Json<EquipmentRow>, ApiError> {
    let row = st.svc.update_equipment(&u.actor, EquipmentId(id), b.version, &b.input).await?;
    Ok(Json(row))
}

#[utoipa::path(get, path = "/api/v1/equipment/{id}/history", params(("id" = i64, Path)), responses((status = 200, body = List<AuditEntry>), (status = 404, body = ErrorResponse)))]
pub async fn api_equipment_history(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    let items = st.svc.equipment_history(&u.actor, EquipmentId(id)).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}
