//! Stock reports and the stocktake (issue 5, §2.5(3)(4)): valuation with turnover and
//! slow movers, quality feedback from defective returns, stocktake counts, and the
//! catalogue's Excel export and import.

use super::ApiJson;
use super::ApiQuery;
use super::import::table_response_with;
use super::parts::MovementOut;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::stock_reports::{CountInput, Quality, Valuation};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct PeriodParams {
    /// First day of the period (local date); default a year before `to`.
    pub from: Option<NaiveDate>,
    /// Last day of the period; default today. Slow movers are counted back from it.
    pub to: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/stock/valuation", params(PeriodParams),
    responses((status = 200, body = Valuation), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_stock_valuation(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Result<Json<Valuation>, ApiError> {
    let v = st.svc.stock_valuation(&u.actor, p.from, p.to).await?;
    Ok(Json(v))
}

#[utoipa::path(get, path = "/api/v1/stock/quality", params(PeriodParams),
    responses((status = 200, body = Quality), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_stock_quality(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Result<Json<Quality>, ApiError> {
    let q = st.svc.stock_quality(&u.actor, p.from, p.to).await?;
    Ok(Json(q))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CountOut {
    pub warehouse_id: i64,
    pub lines: usize,
    pub unchanged: usize,
    pub adjustments: Vec<MovementOut>,
}

#[utoipa::path(post, path = "/api/v1/stock/counts", request_body = CountInput,
    responses((status = 201, body = CountOut, description = "one adjustment per variance"), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "no reason, bad lines: nothing posted")))]
pub async fn api_stock_counts(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<CountInput>,
) -> Result<(axum::http::StatusCode, Json<CountOut>), ApiError> {
    let r = st.svc.post_count(&u.actor, &b).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(CountOut {
            warehouse_id: r.warehouse_id,
            lines: r.lines,
            unchanged: r.unchanged,
            adjustments: r.adjustments.into_iter().map(MovementOut::from).collect(),
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportFormat {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/parts/export", params(ExportFormat), responses((status = 403, body = ErrorResponse), (status = 200, description = "the catalogue as xlsx or csv")))]
pub async fn api_parts_export(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(f): ApiQuery<ExportFormat>,
) -> Result<Response, ApiError> {
    let table = st.svc.parts_table(&u.actor, u.tr.is_en()).await?;
    let numeric = aftercare_service::Services::PARTS_NUMERIC;
    Ok(table_response_with(&table, f.format.as_deref(), &u.tr.t("parts.title"), st.svc.tz, &numeric)?)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartsImportOut {
    pub created: usize,
    pub updated: usize,
}

#[utoipa::path(post, path = "/api/v1/parts/import", request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "the catalogue sheet (备件), headers as in the export"),
    responses((status = 200, body = PartsImportOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "every bad row, nothing written")))]
pub async fn api_parts_import(
    State(st): State<AppState>,
    u: ApiUser,
    body: Bytes,
) -> Result<Json<PartsImportOut>, ApiError> {
    let (created, updated) = st.svc.import_parts(&u.actor, &body).await?;
    Ok(Json(PartsImportOut { created, updated }))
}
