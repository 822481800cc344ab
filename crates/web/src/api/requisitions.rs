//! Requisitions (领用单, DESIGN.md §5): `GET/POST /api/v1/requisitions`,
//! `GET /api/v1/requisitions/{id}` and `POST /api/v1/requisitions/{id}/actions/{action}`
//! with `approve {note?}`, `reject {reason}`, `issue {lines?: [{line_id, qty}], note?}`,
//! `cancel {reason}`, and `return {note?}` (a borrow's tools taken back).

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::parts::fen_to_yuan;
use aftercare_domain::requisitions::{IssueLine, ReqAction, ReqStatus, RequisitionInput};
use aftercare_domain::{RequisitionId, TicketId};
use aftercare_service::ServiceError;
use aftercare_service::requisitions::{ActionInput, RequisitionLineRow, RequisitionRow, RequisitionView, Scope};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// A requisition line, with its cost in yuan once issued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequisitionLineOut {
    #[serde(flatten)]
    pub line: RequisitionLineRow,
    /// Yuan per unit at issue.
    pub unit_cost: Option<f64>,
    /// Yuan: qty_issued × unit_cost.
    pub amount: Option<f64>,
}

/// A requisition with its lines and what the caller may do with it now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequisitionOut {
    #[serde(flatten)]
    pub requisition: RequisitionRow,
    pub lines: Vec<RequisitionLineOut>,
    /// `approve|reject|issue|cancel|return`, those open to the caller.
    pub actions: Vec<String>,
}

fn out(d: RequisitionView) -> RequisitionOut {
    let actions = d.actions.iter().map(|a| a.as_str().to_string()).collect();
    RequisitionOut {
        lines: d
            .lines
            .into_iter()
            .map(|line| RequisitionLineOut {
                unit_cost: line.unit_cost_fen.map(fen_to_yuan),
                amount: line.amount_fen.map(fen_to_yuan),
                line,
            })
            .collect(),
        requisition: d.requisition,
        actions,
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct RequisitionParams {
    /// `mine` (default), `to_approve`, `to_issue`, `borrowed` (lent tools not back) or `all`.
    pub scope: Option<String>,
    /// `requested|approved|rejected|issued|cancelled|returned`.
    pub status: Option<String>,
    pub ticket_id: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn bad(field: &str, code: &'static str) -> ServiceError {
    ServiceError::Invalid(aftercare_domain::FieldErrors::single(field, code))
}

#[utoipa::path(get, path = "/api/v1/requisitions", params(RequisitionParams),
    responses((status = 200, body = List<RequisitionRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_requisitions_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<RequisitionParams>,
) -> Result<Json<List<RequisitionRow>>, ApiError> {
    let scope = match p.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        None => Scope::Mine,
        Some(s) => Scope::parse(s).ok_or_else(|| bad("scope", "unknown_value"))?,
    };
    let status = match p.status.as_deref().filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(s) => Some(ReqStatus::parse(s).ok_or_else(|| bad("status", "unknown_value"))?),
    };
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.list_requisitions(&u.actor, scope, status, p.ticket_id.map(TicketId), page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/requisitions", request_body = RequisitionInput,
    responses((status = 201, body = RequisitionOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_requisitions_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<RequisitionInput>,
) -> Result<(StatusCode, Json<RequisitionOut>), ApiError> {
    let d = st.svc.create_requisition(&u.actor, &b).await?;
    Ok((StatusCode::CREATED, Json(out(d))))
}

#[utoipa::path(get, path = "/api/v1/requisitions/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = RequisitionOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_requisitions_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<RequisitionOut>, ApiError> {
    let d = st.svc.requisition_view(&u.actor, RequisitionId(id)).await?;
    Ok(Json(out(d)))
}

/// The body of an action; each action reads what it needs.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RequisitionActionBody {
    /// approve, issue: a note.
    pub note: Option<String>,
    /// reject, cancel: required.
    pub reason: Option<String>,
    /// issue: less than asked for these lines (others are issued in full).
    pub lines: Option<Vec<IssueLine>>,
}

#[utoipa::path(post, path = "/api/v1/requisitions/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "approve, reject, issue, cancel, return")),
    request_body = RequisitionActionBody,
    responses((status = 200, body = RequisitionOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not possible from this status, one's own requisition, a return of what was not lent, or not enough stock (naming the part, the warehouse and what is left; nothing moves)"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_requisitions_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<RequisitionActionBody>,
) -> Result<Json<RequisitionOut>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ServiceError::NotFound)?;
    let action = ReqAction::parse(&action).ok_or(ServiceError::NotFound)?;
    let input = ActionInput { note: b.note, reason: b.reason, lines: b.lines.unwrap_or_default() };
    let d = st.svc.act_requisition(&u.actor, RequisitionId(id), action, &input).await?;
    Ok(Json(out(d)))
}
