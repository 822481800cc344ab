//! Excel: the import template, imports, and exports of filtered lists as .xlsx or CSV.

use super::ApiQuery;
use super::customers::CustomerParams;
use super::equipment::EquipmentParams;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::excel::{ImportSummary, table_to_csv, table_to_xlsx_with};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportOut {
    pub customers: usize,
    pub equipment: usize,
}

impl From<ImportSummary> for ImportOut {
    fn from(s: ImportSummary) -> Self {
        ImportOut { customers: s.customers, equipment: s.equipment }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FormatParam {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// A download with a file name in the user's language (RFC 6266 `filename*`).
pub fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    let ascii: String =
        file_name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    let disposition =
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", crate::error::url_encode(file_name));
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

pub fn table_response(
    table: &[Vec<String>],
    format: Option<&str>,
    base_name: &str,
    tz: chrono_tz::Tz,
) -> Result<Response, aftercare_service::ServiceError> {
    table_response_with(table, format, base_name, tz, &[])
}

/// [`table_response`] whose `numeric` columns are numbers in the workbook.
pub fn table_response_with(
    table: &[Vec<String>],
    format: Option<&str>,
    base_name: &str,
    tz: chrono_tz::Tz,
    numeric: &[usize],
) -> Result<Response, aftercare_service::ServiceError> {
    // The department's day, as on its record numbers.
    let stamp = chrono::Utc::now().with_timezone(&tz).format("%Y%m%d");
    Ok(match format {
        Some("csv") => {
            download(table_to_csv(table).into_bytes(), "text/csv; charset=utf-8", &format!("{base_name}-{stamp}.csv"))
        }
        _ => download(table_to_xlsx_with(base_name, table, numeric)?, XLSX, &format!("{base_name}-{stamp}.xlsx")),
    })
}

#[utoipa::path(post, path = "/api/v1/import", request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "a workbook with the 学校 and/or 设备 sheets of the template"),
    responses((status = 200, body = ImportOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "every bad row, nothing written")))]
pub async fn api_import(State(st): State<AppState>, u: ApiUser, body: Bytes) -> Result<Json<ImportOut>, ApiError> {
    let s = st.svc.import_xlsx(&u.actor, &body).await?;
    Ok(Json(s.into()))
}

#[utoipa::path(get, path = "/api/v1/import/template", responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", description = "the import template")))]
pub async fn api_import_template(State(st): State<AppState>, u: ApiUser) -> Result<Response, ApiError> {
    let bytes = st.svc.import_template(u.tr.is_en())?;
    Ok(download(bytes, XLSX, &u.tr.t("import.template_file")))
}

#[utoipa::path(get, path = "/api/v1/customers/export", params(CustomerParams, FormatParam), responses((status = 200, description = "xlsx or csv")))]
pub async fn api_customers_export(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<CustomerParams>,
    ApiQuery(f): ApiQuery<FormatParam>,
) -> Result<Response, ApiError> {
    let e = |e| ApiError::from_service(u.tr, e);
    let table = st.svc.customer_table(&u.actor, p.query(), u.tr.is_en()).await.map_err(e)?;
    table_response(&table, f.format.as_deref(), &u.tr.t("nav.customers"), st.svc.tz).map_err(e)
}

#[utoipa::path(get, path = "/api/v1/equipment/export", params(EquipmentParams, FormatParam), responses((status = 200, description = "xlsx or csv")))]
pub async fn api_equipment_export(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<EquipmentParams>,
    ApiQuery(f): ApiQuery<FormatParam>,
) -> Result<Response, ApiError> {
    let e = |e| ApiError::from_service(u.tr, e);
    let table = st.svc.equipment_table(&u.actor, p.query(), u.tr.is_en()).await.map_err(e)?;
    table_response(&table, f.format.as_deref(), &u.tr.t("nav.equipment"), st.svc.tz).map_err(e)
}
