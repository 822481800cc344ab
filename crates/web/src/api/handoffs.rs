//! The hand-offs between roles: the visit time agreed with the school, the engineer's
//! check of a visit, the engineer's answer to a consultation, and upgrade or replacement
//! suggestions for the manager.

use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::equipment::{SuggestionDecisionInput, SuggestionInput, SuggestionStatus};
use aftercare_domain::tickets::{AgreedVisitInput, VisitReviewInput};
use aftercare_domain::{ContactId, EquipmentId, SuggestionId, TicketId, VisitId};
use aftercare_service::consultations::EngineerReplyInput;
use aftercare_service::contacts::ContactRow;
use aftercare_service::suggestions::SuggestionRow;
use aftercare_service::tickets::VisitRow;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;

use super::tickets::TicketOut;

/// The desk records the visit time agreed with the school (§2.2(5)); the technicians are told.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/agreed-visit", params(("id" = i64, Path)), request_body = AgreedVisitInput,
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_tickets_agreed_visit(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<AgreedVisitInput>,
) -> Result<Json<TicketOut>, ApiError> {
    let d = st.svc.agree_visit_time(&u.actor, TicketId(id), &b, Utc::now()).await?;
    Ok(Json(d.into()))
}

/// The engineer checks a visit (复核, §2.4(4)): `accepted`, or `returned` with a note.
#[utoipa::path(post, path = "/api/v1/visits/{id}/review", params(("id" = i64, Path)), request_body = VisitReviewInput,
    responses((status = 200, body = VisitRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_visits_review(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<VisitReviewInput>,
) -> Result<Json<VisitRow>, ApiError> {
    Ok(Json(st.svc.review_visit(&u.actor, VisitId(id), &b, Utc::now()).await?))
}

/// The engineer answers a consultation handed to him (转工程师, §2.4(1)): by mail when it
/// came by mail, else the agent who took it calls the school back.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/engineer-reply", params(("id" = i64, Path)), request_body = EngineerReplyInput,
    responses((status = 200, body = ContactRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_contacts_engineer_reply(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<EngineerReplyInput>,
) -> Result<Json<ContactRow>, ApiError> {
    Ok(Json(st.svc.reply_consultation(&u.actor, ContactId(id), &b, Utc::now()).await?))
}

/// A technician or engineer suggests an upgrade or replacement of a piece of equipment.
#[utoipa::path(post, path = "/api/v1/equipment/{id}/suggestions", params(("id" = i64, Path)), request_body = SuggestionInput,
    responses((status = 201, body = SuggestionRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_equipment_suggest(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<SuggestionInput>,
) -> Result<(StatusCode, Json<SuggestionRow>), ApiError> {
    let row = st.svc.suggest(&u.actor, EquipmentId(id), &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionParams {
    /// `open`, `accepted`, `declined`; all when omitted.
    pub status: Option<String>,
    pub equipment_id: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The manager's list of suggestions, newest first.
#[utoipa::path(get, path = "/api/v1/suggestions", params(SuggestionParams),
    responses((status = 200, body = List<SuggestionRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_suggestions_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<SuggestionParams>,
) -> Result<Json<List<SuggestionRow>>, ApiError> {
    let status = match p.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(SuggestionStatus::parse(s).ok_or_else(|| {
            ApiError::from_service(u.tr, aftercare_domain::FieldErrors::single("status", "unknown_value").into())
        })?),
    };
    let page = aftercare_service::Page::new(p.page, p.per_page);
    let rows = st.svc.suggestions(&u.actor, status, p.equipment_id.map(EquipmentId), page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

/// The manager takes a suggestion up (`accepted`) or declines it, once.
#[utoipa::path(post, path = "/api/v1/suggestions/{id}/decision", params(("id" = i64, Path)), request_body = SuggestionDecisionInput,
    responses((status = 200, body = SuggestionRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_suggestions_decide(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<SuggestionDecisionInput>,
) -> Result<Json<SuggestionRow>, ApiError> {
    Ok(Json(st.svc.decide_suggestion(&u.actor, SuggestionId(id), &b, Utc::now()).await?))
}
