//! The global search across every kind the caller may see, grouped by kind.

use super::ApiQuery;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;
use aftercare_domain::search::SearchKind;
use aftercare_service::search::Hit;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Every word must match; Chinese by contiguous characters (监控 finds 校门口监控立杆).
    pub q: String,
    /// At most this many hits of each kind (default 10, up to 100).
    pub limit: Option<i64>,
}

/// One kind's count in a search answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupTotal {
    pub kind: SearchKind,
    /// Hits of this kind in all; at least this many when `capped`.
    pub total: i64,
    pub capped: bool,
    /// This kind's own list, filtered by the same words.
    pub list: String,
}

/// The best hits of each kind, kind by kind (tickets, schools, equipment, contacts, parts),
/// and each kind's total.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchAnswer {
    pub items: Vec<Hit>,
    /// Hits in all, every kind.
    pub total: i64,
    pub total_capped: bool,
    pub groups: Vec<GroupTotal>,
}

/// `?q=` for a kind's list: the words, percent-encoded.
pub fn list_url(kind: SearchKind, q: &str) -> String {
    let enc: String = q
        .trim()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{}?q={enc}", kind.path())
}

#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses((status = 200, body = SearchAnswer)))]
pub async fn api_search(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let groups = st.svc.search(&u.actor, &p.q, p.limit.unwrap_or(10)).await?;
    let total = groups.iter().map(|g| g.total).sum();
    let total_capped = groups.iter().any(|g| g.capped);
    let totals = groups
        .iter()
        .map(|g| GroupTotal { kind: g.kind, total: g.total, capped: g.capped, list: list_url(g.kind, &p.q) })
        .collect();
    let items = groups.into_iter().flat_map(|g| g.hits).collect();
    Ok(Json(SearchAnswer { items, total, total_capped, groups: totals }))
}
