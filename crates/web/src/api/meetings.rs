//! Meetings (DESIGN.md §5 `meetings`): the weekly technical meeting and the data-analysis
//! meeting, their agenda points, the order, the minutes with decisions and attendance, and
//! a summary of the material each gathers.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::MeetingId;
use aftercare_domain::meetings::{AgendaInput, HoldInput, MeetingInput};
use aftercare_service::ServiceError;
use aftercare_service::analysis::RectificationRow;
use aftercare_service::meetings::{AgendaRow, MeetingRow, MeetingView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How much of each kind of material the meeting has before it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MaterialOut {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub faults: i64,
    pub faults_before: i64,
    pub repeat: i64,
    pub hot_equipment: usize,
    pub escalated: i64,
    /// Repeat repairs and misdiagnoses proposed.
    pub penalties_proposed: usize,
    pub hazards_open: i64,
    pub complaints_open: i64,
    pub parts_short: usize,
    pub rectifications_open: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeetingOut {
    #[serde(flatten)]
    pub meeting: MeetingRow,
    pub agenda: Vec<AgendaRow>,
    pub attendee_ids: Vec<i64>,
    /// Proposed from this meeting.
    pub rectifications: Vec<RectificationRow>,
    pub material: MaterialOut,
}

fn out(v: MeetingView) -> MeetingOut {
    let m = &v.material;
    let material = MaterialOut {
        from: m.from,
        to: m.to,
        faults: m.faults.total.tickets,
        faults_before: m.faults.previous.tickets,
        repeat: m.faults.total.repeat,
        hot_equipment: m.hotspots.equipment.len(),
        escalated: m.escalated.total,
        penalties_proposed: m.penalties.len(),
        hazards_open: m.hazards.total,
        complaints_open: m.complaints,
        parts_short: m.shortages.len(),
        rectifications_open: m.rectifications.total,
    };
    MeetingOut {
        meeting: v.meeting,
        agenda: v.agenda,
        attendee_ids: v.attendee_ids,
        rectifications: v.rectifications,
        material,
    }
}

#[utoipa::path(get, path = "/api/v1/meetings", params(PageParams),
    responses((status = 200, body = List<MeetingRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_meetings_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<List<MeetingRow>>, ApiError> {
    let rows = st.svc.meetings(&u.actor, p.page()).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/meetings", request_body = MeetingInput,
    responses((status = 201, body = MeetingOut), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_meetings_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<MeetingInput>,
) -> Result<(StatusCode, Json<MeetingOut>), ApiError> {
    Ok((StatusCode::CREATED, Json(out(st.svc.plan_meeting(&u.actor, &b, chrono::Utc::now()).await?))))
}

#[utoipa::path(get, path = "/api/v1/meetings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = MeetingOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_meetings_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<MeetingOut>, ApiError> {
    Ok(Json(out(st.svc.meeting(&u.actor, MeetingId(id)).await?)))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda", params(("id" = i64, Path)), request_body = AgendaInput,
    responses((status = 201, body = MeetingOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the meeting was held"), (status = 422, body = ErrorResponse)))]
pub async fn api_meetings_agenda(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<AgendaInput>,
) -> Result<(StatusCode, Json<MeetingOut>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(out(st.svc.add_agenda_point(&u.actor, MeetingId(id), &b, chrono::Utc::now()).await?)),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct OrderInput {
    /// Every agenda point's id, first to last.
    pub ids: Option<Vec<i64>>,
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/agenda/order", params(("id" = i64, Path)), request_body = OrderInput,
    responses((status = 200, body = MeetingOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "not every point, each once")))]
pub async fn api_meetings_order(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<OrderInput>,
) -> Result<Json<MeetingOut>, ApiError> {
    let ids = b.ids.unwrap_or_default();
    Ok(Json(out(st.svc.order_agenda(&u.actor, MeetingId(id), &ids).await?)))
}

#[utoipa::path(post, path = "/api/v1/meetings/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "hold")), request_body = HoldInput,
    responses((status = 200, body = MeetingOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "held already"), (status = 422, body = ErrorResponse)))]
pub async fn api_meetings_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<HoldInput>,
) -> Result<Json<MeetingOut>, ApiError> {
    let id = MeetingId(id.parse().map_err(|_| ServiceError::NotFound)?);
    if action != "hold" {
        return Err(ServiceError::NotFound.into());
    }
    Ok(Json(out(st.svc.hold_meeting(&u.actor, id, &b, chrono::Utc::now()).await?)))
}
