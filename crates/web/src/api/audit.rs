//! The audit trail (administrator and manager).

use super::{ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::audit::{AuditEntry, AuditQuery};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// `customer`, `equipment`, `user`.
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    /// `create`, `update`, `login`, `password`.
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl AuditParams {
    pub fn query(&self) -> AuditQuery {
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
        AuditQuery {
            entity: nonempty(&self.entity),
            entity_id: self.entity_id,
            actor_id: self.actor_id,
            action: nonempty(&self.action),
            from: self.from,
            to: self.to,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), responses((status = 200, body = List<AuditEntry>), (status = 403, body = ErrorResponse)))]
pub async fn api_audit_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<List<AuditEntry>>, ApiError> {
    let page = aftercare_service::Page::new(p.page, p.per_page);
    let rows = st.svc.list_audit(&u.actor, &p.query(), page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}
