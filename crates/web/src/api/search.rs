//! The global search across every kind the caller may see.

use super::{ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;
use aftercare_service::search::Hit;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Every word must match; Chinese by contiguous characters (监控 finds 校门口监控立杆).
    pub q: String,
    /// At most this many hits (default 50, up to 200).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses((status = 200, body = List<Hit>)))]
pub async fn api_search(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<List<Hit>>, ApiError> {
    let items = st.svc.search(&u.actor, &p.q, p.limit.unwrap_or(50)).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}
