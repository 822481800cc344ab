//! The service desk: contact records, the screen pop, PBX call events, complaint reviews,
//! callbacks of missed calls and complaints, suggestion read receipts.

use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::ContactId;
use aftercare_domain::contacts::{CallEvent, ContactInput};
use aftercare_service::contacts::{CallbackInput, OpenTicket, ReviewInput, ScreenPop};
use aftercare_service::contacts::{ContactQuery, ContactRow, Page, ReadRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct ContactParams {
    pub q: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub customer_id: Option<i64>,
    pub handler_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub answered: Option<bool>,
    pub phone: Option<String>,
    /// `missed` (missed calls not yet called back), `complaints` (without a verdict),
    /// `unmatched` (no school: mail from unknown senders), `suggestions` (the leadership's
    /// inbox), `mine`.
    pub view: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `newest` (default), `oldest`, `due`.
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl ContactParams {
    pub fn query(&self, me: i64) -> ContactQuery {
        let nonempty = |s: &Option<String>| s.clone().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut q = ContactQuery {
            q: nonempty(&self.q),
            channel: nonempty(&self.channel),
            category: nonempty(&self.category),
            customer_id: self.customer_id,
            handler_id: self.handler_id,
            ticket_id: self.ticket_id,
            answered: self.answered,
            phone_digits: nonempty(&self.phone).map(|p| aftercare_domain::contacts::phone_digits(&p)),
            from: self.from,
            to: self.to,
            sort: nonempty(&self.sort),
            ..Default::default()
        };
        match self.view.as_deref() {
            Some("missed") => {
                q.missed_open = true;
                q.sort.get_or_insert_with(|| "due".into());
            }
            // Missed calls whose callback time has passed.
            Some("overdue") => {
                q.missed_open = true;
                q.due_before = Some(chrono::Utc::now());
                q.sort.get_or_insert_with(|| "due".into());
            }
            Some("complaints") => q.unreviewed_complaints = true,
            Some("suggestions") => q.category = Some("suggestion".into()),
            Some("unmatched") => q.unmatched = true,
            Some("to_engineer") => q.to_engineer_open = true,
            Some("pass_on") => q.to_pass_on = true,
            Some("mine") => q.handler_id = Some(me),
            _ => {}
        }
        q
    }
}

/// A contact, optionally opening its ticket in the same step.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContactCreate {
    #[serde(flatten)]
    pub contact: ContactInput,
    /// For a repair contact: open a ticket now and link it.
    pub open_ticket: Option<OpenTicket>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ContactUpdate {
    #[serde(flatten)]
    pub contact: ContactInput,
    pub version: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LookupParams {
    pub phone: String,
}

#[utoipa::path(get, path = "/api/v1/contacts", params(ContactParams), responses((status = 200, body = List<ContactRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_contacts_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<ContactParams>,
) -> Result<Json<List<ContactRow>>, ApiError> {
    let page = Page::new(p.page, p.per_page);
    let rows = st.svc.list_contacts(&u.actor, &p.query(u.actor.id.0), page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/contacts", request_body = ContactCreate,
    responses((status = 201, body = ContactRow), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_contacts_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<ContactCreate>,
) -> Result<(StatusCode, Json<ContactRow>), ApiError> {
    let row = st.svc.create_contact(&u.actor, &b.contact, b.open_ticket.as_ref(), Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", params(("id" = i64, Path)), responses((status = 403, body = ErrorResponse), (status = 200, body = ContactRow), (status = 404, body = ErrorResponse)))]
pub async fn api_contacts_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<ContactRow>, ApiError> {
    Ok(Json(st.svc.get_contact(&u.actor, ContactId(id)).await?))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", params(("id" = i64, Path)), request_body = ContactUpdate,
    responses((status = 403, body = ErrorResponse), (status = 200, body = ContactRow), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_contacts_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ContactUpdate>,
) -> Result<Json<ContactRow>, ApiError> {
    let row = st.svc.update_contact(&u.actor, ContactId(id), &b.contact, b.version).await?;
    Ok(Json(row))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/review", params(("id" = i64, Path)), request_body = ReviewInput,
    responses((status = 200, body = ContactRow), (status = 403, body = ErrorResponse, description = "managers only"), (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_contacts_review(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ReviewInput>,
) -> Result<Json<ContactRow>, ApiError> {
    let row = st.svc.review_complaint(&u.actor, ContactId(id), &b, Utc::now()).await?;
    Ok(Json(row))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/callback", params(("id" = i64, Path)), request_body = CallbackInput,
    responses((status = 403, body = ErrorResponse), (status = 201, body = ContactRow, description = "the outbound call"), (status = 409, body = ErrorResponse, description = "nothing to call back"), (status = 422, body = ErrorResponse)))]
pub async fn api_contacts_callback(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<CallbackInput>,
) -> Result<(StatusCode, Json<ContactRow>), ApiError> {
    let row = st.svc.call_back(&u.actor, ContactId(id), &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/read", params(("id" = i64, Path)),
    responses((status = 403, body = ErrorResponse), (status = 200, body = Vec<ReadRow>, description = "who has read the suggestion"), (status = 404, body = ErrorResponse)))]
pub async fn api_contacts_read(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<Vec<ReadRow>>, ApiError> {
    Ok(Json(st.svc.read_suggestion(&u.actor, ContactId(id), Utc::now()).await?))
}

#[utoipa::path(get, path = "/api/v1/desk/lookup", params(LookupParams), responses((status = 200, body = ScreenPop), (status = 422, body = ErrorResponse)))]
pub async fn api_desk_lookup(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<LookupParams>,
) -> Result<Json<ScreenPop>, ApiError> {
    Ok(Json(st.svc.screen_pop(&u.actor, &p.phone).await?))
}

#[utoipa::path(post, path = "/api/v1/telephony/calls", request_body = CallEvent,
    responses((status = 201, body = ContactRow), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse, description = "the token's user lacks the agent role"), (status = 422, body = ErrorResponse)))]
pub async fn api_telephony_call(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<CallEvent>,
) -> Result<(StatusCode, Json<ContactRow>), ApiError> {
    let row = st.svc.telephony_call(&u.actor, &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(row)))
}
