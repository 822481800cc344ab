//! Customers (schools) with their contacts.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::CustomerId;
use aftercare_domain::customers::CustomerInput;
use aftercare_service::customers::CustomerDetail;
use aftercare_service::customers::{ContactRow, CustomerQuery, CustomerRow, Page};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerOut {
    #[serde(flatten)]
    pub customer: CustomerRow,
    pub contacts: Vec<ContactRow>,
}

impl From<CustomerDetail> for CustomerOut {
    fn from(d: CustomerDetail) -> Self {
        CustomerOut { customer: d.customer, contacts: d.contacts }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CustomerParams {
    /// Search words (Chinese by contiguous characters, codes and phones by prefix).
    pub q: Option<String>,
    pub county: Option<String>,
    pub town: Option<String>,
    /// `name`, `code`, `town`, `equipment`, `travel`, `updated`.
    pub sort: Option<String>,
    pub desc: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl CustomerParams {
    pub fn query(&self) -> CustomerQuery {
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
        CustomerQuery {
            q: nonempty(&self.q),
            county: nonempty(&self.county),
            town: nonempty(&self.town),
            sort: nonempty(&self.sort),
            desc: self.desc.unwrap_or(false),
            scope: None,
        }
    }
    pub fn page(&self) -> Page {
        PageParams { page: self.page, per_page: self.per_page }.page()
    }
}

/// A customer body for create and update; `version`, on update, guards against
/// overwriting someone else's change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CustomerBody {
    #[serde(flatten)]
    pub input: CustomerInput,
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/customers", params(CustomerParams), responses((status = 200, body = List<CustomerOut>)))]
pub async fn api_customers_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<CustomerParams>,
) -> Result<Json<List<CustomerOut>>, ApiError> {
    let rows = st.svc.list_customers_with_contacts(&u.actor, p.query(), p.page()).await?;
    Ok(Json(List {
        items: rows.items.into_iter().map(CustomerOut::from).collect(),
        total: rows.total,
        total_capped: rows.capped,
    }))
}

#[utoipa::path(post, path = "/api/v1/customers", request_body = CustomerInput,
    responses((status = 201, body = CustomerOut), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_customers_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<CustomerInput>,
) -> Result<(StatusCode, Json<CustomerOut>), ApiError> {
    let d = st.svc.create_customer(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", params(("id" = i64, Path)), responses((status = 200, body = CustomerOut), (status = 404, body = ErrorResponse)))]
pub async fn api_customers_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<CustomerOut>, ApiError> {
    let d = st.svc.get_customer(&u.actor, CustomerId(id)).await?;
    Ok(Json(d.into()))
}

#[utoipa::path(put, path = "/api/v1/customers/{id}", params(("id" = i64, Path)), request_body = CustomerBody,
    responses((status = 403, body = ErrorResponse), (status = 200, body = CustomerOut), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_customers_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<CustomerBody>,
) -> Result<Json<CustomerOut>, ApiError> {
    st.svc.get_customer(&u.actor, CustomerId(id)).await?;
    let d = st.svc.update_customer(&u.actor, CustomerId(id), b.version, &b.input).await?;
    Ok(Json(d.into()))
}
