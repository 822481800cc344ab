//! Work orders: tickets, actions, visits, timeline, comments, callback attempts.

use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::tickets::{TicketInput, VisitInput};
use aftercare_service::tickets::VisitRow;
use aftercare_service::tickets::{ActionBody, TicketDetail};
use aftercare_service::tickets::{EventRow, TicketQuery, TicketRow};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketOut {
    #[serde(flatten)]
    pub ticket: TicketRow,
    pub equipment_ids: Vec<i64>,
    pub technician_ids: Vec<i64>,
    pub visits: Vec<VisitRow>,
}

impl From<TicketDetail> for TicketOut {
    fn from(d: TicketDetail) -> Self {
        TicketOut {
            ticket: d.ticket,
            equipment_ids: d.equipment_ids,
            technician_ids: d.technician_ids,
            visits: d.visits,
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct TicketParams {
    pub q: Option<String>,
    /// One status or several, comma-separated (`new,triage`).
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
    pub town: Option<String>,
    pub system: Option<String>,
    pub fault_type: Option<String>,
    pub priority: Option<String>,
    pub technician_id: Option<i64>,
    pub engineer_id: Option<i64>,
    /// `mine` (assigned to me), `mine_engineer`, `unassigned`, `overdue`, `at_risk` (due within 2 h),
    /// `escalated`, `callback` (waiting for the callback).
    pub view: Option<String>,
    /// `newest`, `oldest`, `due`, `priority`, `scheduled`, `updated`.
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl TicketParams {
    pub fn query(&self, me: i64) -> TicketQuery {
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.trim().is_empty());
        let mut q = TicketQuery {
            q: nonempty(&self.q),
            statuses: self
                .status
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            customer_id: self.customer_id,
            equipment_id: self.equipment_id,
            town: nonempty(&self.town),
            system: nonempty(&self.system),
            fault_type: nonempty(&self.fault_type),
            priority: nonempty(&self.priority),
            technician_id: self.technician_id,
            engineer_id: self.engineer_id,
            sort: nonempty(&self.sort),
            ..Default::default()
        };
        match self.view.as_deref() {
            Some("mine") => q.technician_id = Some(me),
            Some("mine_engineer") => q.engineer_id = Some(me),
            Some("unassigned") => q.unassigned = true,
            Some("overdue") => q.overdue_at = Some(Utc::now()),
            Some("at_risk") => {
                let now = Utc::now();
                q.at_risk = Some((now, now + chrono::Duration::hours(aftercare_service::home::AT_RISK_HOURS)));
            }
            Some("escalated") => q.escalated = true,
            Some("to_review") => q.visits_to_review = true,
            Some("callback") => q.statuses = vec!["resolved".into()],
            _ => {}
        }
        q
    }
    pub fn page(&self) -> aftercare_service::Page {
        aftercare_service::Page::new(self.page, self.per_page)
    }
}

#[utoipa::path(get, path = "/api/v1/tickets", params(TicketParams), responses((status = 200, body = List<TicketRow>)))]
pub async fn api_tickets_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<TicketParams>,
) -> Result<Json<List<TicketRow>>, ApiError> {
    let rows = st.svc.list_tickets(&u.actor, p.query(u.actor.id.0), p.page()).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/tickets", request_body = TicketInput,
    responses((status = 404, body = ErrorResponse), (status = 201, body = TicketOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_tickets_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<TicketInput>,
) -> Result<(StatusCode, Json<TicketOut>), ApiError> {
    let d = st.svc.create_ticket(&u.actor, &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", params(("id" = i64, Path)), responses((status = 200, body = TicketOut), (status = 404, body = ErrorResponse)))]
pub async fn api_tickets_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<TicketOut>, ApiError> {
    let d = st.svc.get_ticket(&u.actor, aftercare_domain::TicketId(id)).await?;
    Ok(Json(d.into()))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "accept, diagnose, schedule, decline, start, escalate, hold, resume, resolve, callback, close, reopen, cancel")),
    request_body = ActionBody,
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "illegal transition, unmet condition or stale version"), (status = 422, body = ErrorResponse)))]
pub async fn api_tickets_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<ActionBody>,
) -> Result<Json<TicketOut>, ApiError> {
    let e = |e| ApiError::from_service(u.tr, e);
    let id: i64 = id.parse().map_err(|_| e(aftercare_service::ServiceError::NotFound))?;
    let d = st.svc.ticket_action(&u.actor, aftercare_domain::TicketId(id), &action, &b, Utc::now()).await.map_err(e)?;
    Ok(Json(d.into()))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/timeline", params(("id" = i64, Path)), responses((status = 200, body = List<EventRow>)))]
pub async fn api_tickets_timeline(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<List<EventRow>>, ApiError> {
    let items = st.svc.timeline(&u.actor, aftercare_domain::TicketId(id)).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VisitBody {
    #[serde(flatten)]
    pub visit: VisitInput,
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/visits", params(("id" = i64, Path)), request_body = VisitBody,
    responses((status = 201, body = VisitRow), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_tickets_visit(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<VisitBody>,
) -> Result<(StatusCode, Json<VisitRow>), ApiError> {
    let v = st.svc.add_visit(&u.actor, aftercare_domain::TicketId(id), &b.visit, b.version, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/visits/{id}/signature.png", params(("id" = i64, Path)), responses((status = 200, content_type = "image/png", description = "the school's signature")))]
pub async fn api_visit_signature(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Response, ApiError> {
    let png = st.svc.visit_signature(&u.actor, aftercare_domain::VisitId(id)).await?;
    Ok(crate::files::stored_file(png, &format!("signature-{id}.png")))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommentBody {
    pub body: String,
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", params(("id" = i64, Path)), request_body = CommentBody,
    responses((status = 204, description = "added to the timeline"), (status = 404, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_tickets_comment(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<CommentBody>,
) -> Result<StatusCode, ApiError> {
    st.svc.comment_ticket(&u.actor, aftercare_domain::TicketId(id), &b.body, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct EscalationRequestBody {
    /// What the technician found and why it needs escalating.
    pub note: String,
}

/// The technician on site asks the engineer to escalate (§2.6(4)); the engineer is told.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/escalation-request", params(("id" = i64, Path)), request_body = EscalationRequestBody,
    responses((status = 204, description = "on the timeline; the engineer is notified"), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_tickets_escalation_request(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<EscalationRequestBody>,
) -> Result<StatusCode, ApiError> {
    st.svc.request_escalation(&u.actor, aftercare_domain::TicketId(id), &b.note, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct AttemptBody {
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/callback-attempts", params(("id" = i64, Path)), request_body = AttemptBody,
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
pub async fn api_tickets_callback_attempt(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<AttemptBody>,
) -> Result<Json<TicketOut>, ApiError> {
    let d = st.svc.callback_attempt(&u.actor, aftercare_domain::TicketId(id), b.note.as_deref(), Utc::now()).await?;
    Ok(Json(d.into()))
}
