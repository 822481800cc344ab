//! Outings (外出, DESIGN.md §5 `vehicles`, `trips`, `attendance`): vehicles and the town
//! travel times, trips with stops, depart/arrive/leave/return, what to bring, receipts,
//! the agent's verification, the manager's approval, the day's proposal, the day board and
//! the numbers.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::trips::{
    AbsenceInput, ItemInput, LeaveInput, StopAction, TravelInput, TripAction, TripInput, TripStatus, VehicleInput,
    VerifyInput,
};
use aftercare_domain::validation::{optional_date, optional_enum};
use aftercare_domain::{FieldErrors, TripId, TripItemId, TripStopId, VehicleId};
use aftercare_service::ServiceError;
use aftercare_service::trips::{
    AttendanceRow, CostRow, ItemRow, ProposalView, StopJobRow, StopRow, TripActionInput, TripQuery, TripReport,
    TripRow, TripScope, TripView, VehicleRow,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// A trip with its stops, the work at each, what to bring, costs, receipts and what the
/// caller may do now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TripOut {
    #[serde(flatten)]
    pub trip: TripRow,
    pub stops: Vec<StopRow>,
    /// The tickets and rounds at the stops (`stop_id` says which).
    pub jobs: Vec<StopJobRow>,
    pub items: Vec<ItemRow>,
    pub costs: Vec<CostRow>,
    /// Receipt photo ids (at `/api/v1/trips/photos/{id}`).
    pub photos: Vec<i64>,
    /// `depart|return|cancel|approve`, those open to the caller.
    pub actions: Vec<String>,
    pub can_move: bool,
    pub can_verify: bool,
}

fn out(d: TripView) -> TripOut {
    TripOut {
        actions: d.actions.iter().map(|a| a.as_str().to_string()).collect(),
        trip: d.trip,
        stops: d.stops,
        jobs: d.jobs,
        items: d.items,
        costs: d.costs,
        photos: d.photos,
        can_move: d.can_move,
        can_verify: d.can_verify,
    }
}

fn bad(field: &str, code: &'static str) -> ServiceError {
    ServiceError::Invalid(FieldErrors::single(field, code).in_area("trips"))
}

fn date_param(field: &str, v: Option<&str>) -> Result<Option<chrono::NaiveDate>, ServiceError> {
    let mut e = FieldErrors::default();
    let d = optional_date(&mut e, field, v);
    e.into_result(d).map_err(ServiceError::Invalid)
}

#[utoipa::path(get, path = "/api/v1/vehicles",
    responses((status = 200, body = List<VehicleRow>), (status = 403, body = ErrorResponse)))]
pub async fn api_vehicles_list(State(st): State<AppState>, u: ApiUser) -> Result<Json<List<VehicleRow>>, ApiError> {
    let items = st.svc.vehicles(&u.actor).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(post, path = "/api/v1/vehicles", request_body = VehicleInput,
    responses((status = 201, body = VehicleRow), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the plate is taken"), (status = 422, body = ErrorResponse)))]
pub async fn api_vehicles_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<VehicleInput>,
) -> Result<(StatusCode, Json<VehicleRow>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.save_vehicle(&u.actor, None, &b, chrono::Utc::now()).await?)))
}

#[utoipa::path(put, path = "/api/v1/vehicles/{id}", params(("id" = i64, Path)), request_body = VehicleInput,
    responses((status = 200, body = VehicleRow), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the plate is taken"), (status = 422, body = ErrorResponse)))]
pub async fn api_vehicles_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<VehicleInput>,
) -> Result<Json<VehicleRow>, ApiError> {
    Ok(Json(st.svc.save_vehicle(&u.actor, Some(VehicleId(id)), &b, chrono::Utc::now()).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TownOut {
    pub town: String,
    /// The mean of its schools' minutes from the depot.
    pub depot_minutes: i64,
    pub schools: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TownPairOut {
    pub from_town: String,
    pub to_town: String,
    pub minutes: i64,
    /// Set by the manager; else estimated from the towns' minutes from the depot.
    pub set: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TownMatrixOut {
    pub towns: Vec<TownOut>,
    pub pairs: Vec<TownPairOut>,
}

#[utoipa::path(get, path = "/api/v1/vehicles/towns",
    responses((status = 200, body = TownMatrixOut), (status = 403, body = ErrorResponse)))]
pub async fn api_towns_get(State(st): State<AppState>, u: ApiUser) -> Result<Json<TownMatrixOut>, ApiError> {
    let m = st.svc.town_matrix(&u.actor).await?;
    Ok(Json(TownMatrixOut {
        towns: m
            .towns
            .into_iter()
            .map(|(town, depot_minutes, schools)| TownOut { town, depot_minutes, schools })
            .collect(),
        pairs: m
            .pairs
            .into_iter()
            .map(|((from_town, to_town), (minutes, set))| TownPairOut { from_town, to_town, minutes, set })
            .collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/vehicles/towns", request_body = TravelInput,
    responses((status = 204, description = "set (or, without minutes, back to the estimate)"),
        (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_towns_put(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<TravelInput>,
) -> Result<StatusCode, ApiError> {
    st.svc.set_town_travel(&u.actor, &b, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct TripParams {
    /// `all` (default), `mine`, `to_approve` (returned, not approved), `to_verify` (a stop
    /// reached and not yet verified by phone).
    pub scope: Option<String>,
    /// `planned|out|returned|cancelled`.
    pub status: Option<String>,
    /// Trip date on or after, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub until: Option<String>,
    pub user_id: Option<i64>,
    pub vehicle_id: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

pub(crate) fn query_of(p: &TripParams) -> Result<(TripScope, TripQuery), ServiceError> {
    let mut e = FieldErrors::default();
    let scope = match p.scope.as_deref() {
        None => TripScope::All,
        Some(s) => TripScope::parse(s).unwrap_or_else(|| {
            e.push("scope", "unknown_value");
            TripScope::All
        }),
    };
    let status = optional_enum(&mut e, "status", p.status.as_deref(), TripStatus::parse);
    let from = optional_date(&mut e, "from", p.from.as_deref());
    let until = optional_date(&mut e, "until", p.until.as_deref());
    let q = TripQuery { from, until, user_id: p.user_id, vehicle_id: p.vehicle_id, status, ..Default::default() };
    e.into_result((scope, q)).map_err(ServiceError::Invalid)
}

#[utoipa::path(get, path = "/api/v1/trips", params(TripParams),
    responses((status = 200, body = List<TripRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_trips_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<TripParams>,
) -> Result<Json<List<TripRow>>, ApiError> {
    let (scope, q) = query_of(&p)?;
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.list_trips(&u.actor, scope, q, page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/trips", request_body = TripInput,
    responses((status = 201, body = TripOut), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "a person or the vehicle is on another trip at that time (named)"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trips_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<TripInput>,
) -> Result<(StatusCode, Json<TripOut>), ApiError> {
    Ok((StatusCode::CREATED, Json(out(st.svc.plan_trip(&u.actor, &b, chrono::Utc::now()).await?))))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct DateParams {
    /// `YYYY-MM-DD`; default today.
    pub date: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/trips/proposal", params(DateParams),
    responses((status = 200, body = ProposalView), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_trips_proposal(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<DateParams>,
) -> Result<Json<ProposalView>, ApiError> {
    let date = date_param("date", p.date.as_deref())?.unwrap_or_else(|| st.svc.today());
    Ok(Json(st.svc.trip_proposal(&u.actor, date).await?))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct RangeParams {
    /// `YYYY-MM-DD`; default the first of this month.
    pub from: Option<String>,
    /// Default the last of this month.
    pub until: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/trips/report", params(RangeParams),
    responses((status = 200, body = TripReport), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_trips_report(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Json<TripReport>, ApiError> {
    let (first, last) = aftercare_service::Services::month_of(st.svc.today());
    let from = date_param("from", p.from.as_deref())?.unwrap_or(first);
    let until = date_param("until", p.until.as_deref())?.unwrap_or(last);
    Ok(Json(st.svc.trip_report(&u.actor, from, until).await?))
}

#[utoipa::path(get, path = "/api/v1/trips/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = TripOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_trips_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<TripOut>, ApiError> {
    Ok(Json(out(st.svc.trip(&u.actor, TripId(id)).await?)))
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "depart, return, cancel, approve")),
    request_body = TripActionInput,
    responses((status = 200, body = TripOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not possible from this status (depart a cancelled trip, approve twice)"),
        (status = 422, body = ErrorResponse, description = "a return odometer below departure, unticked lines without a reason, cancel without a reason")))]
pub async fn api_trips_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<TripActionInput>,
) -> Result<Json<TripOut>, ApiError> {
    let id = TripId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let action = TripAction::parse(&action).ok_or(ServiceError::NotFound)?;
    Ok(Json(out(st.svc.trip_action(&u.actor, id, action, &b, chrono::Utc::now()).await?)))
}

/// `arrive` takes nothing; `leave` the school's confirming person and a note; `verify`
/// (the agent's call) `{confirmed, contact?, note?}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct StopBody {
    pub confirmed_by: Option<String>,
    pub note: Option<String>,
    pub confirmed: Option<bool>,
    pub contact: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/stops/{stop_id}/{action}",
    params(("id" = i64, Path), ("stop_id" = i64, Path), ("action" = String, Path, description = "arrive, leave, verify")),
    request_body = StopBody,
    responses((status = 200, body = TripOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the trip is not out, or the stop was not reached (leave) or reached already"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trips_stop(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, stop, action)): Path<(String, String, String)>,
    ApiJson(b): ApiJson<StopBody>,
) -> Result<Json<TripOut>, ApiError> {
    let id = TripId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let stop = TripStopId(stop.parse().map_err(|_| ServiceError::NotFound)?);
    let now = chrono::Utc::now();
    let d = if action == "verify" {
        let v = VerifyInput { confirmed: b.confirmed, contact: b.contact, note: b.note };
        st.svc.verify_stop(&u.actor, id, stop, &v, now).await?
    } else {
        let a = StopAction::parse(&action).ok_or(ServiceError::NotFound)?;
        let l = LeaveInput { confirmed_by: b.confirmed_by, note: b.note };
        st.svc.stop_action(&u.actor, id, stop, a, &l, now).await?
    };
    Ok(Json(out(d)))
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/items", params(("id" = i64, Path)), request_body = ItemInput,
    responses((status = 201, body = TripOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the trip left already"), (status = 422, body = ErrorResponse)))]
pub async fn api_trips_item_add(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ItemInput>,
) -> Result<(StatusCode, Json<TripOut>), ApiError> {
    Ok((StatusCode::CREATED, Json(out(st.svc.add_trip_item(&u.actor, TripId(id), &b).await?))))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TickBody {
    pub checked: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/items/{item_id}",
    params(("id" = i64, Path), ("item_id" = i64, Path)), request_body = TickBody,
    responses((status = 200, body = TripOut), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the trip left already"), (status = 422, body = ErrorResponse)))]
pub async fn api_trips_item_tick(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, item)): Path<(String, String)>,
    ApiJson(b): ApiJson<TickBody>,
) -> Result<Json<TripOut>, ApiError> {
    let id = TripId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let item = TripItemId(item.parse().map_err(|_| ServiceError::NotFound)?);
    let checked = b.checked.ok_or_else(|| bad("checked", "required"))?;
    Ok(Json(out(st.svc.tick_item(&u.actor, id, item, checked, chrono::Utc::now()).await?)))
}

/// A receipt sent as base64 (JPEG, PNG or WebP; the bytes are checked).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReceiptInput {
    pub data_base64: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReceiptCreated {
    pub id: i64,
}

#[utoipa::path(post, path = "/api/v1/trips/{id}/photos", params(("id" = i64, Path)), request_body = ReceiptInput,
    responses((status = 201, body = ReceiptCreated), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_trips_photo(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ReceiptInput>,
) -> Result<(StatusCode, Json<ReceiptCreated>), ApiError> {
    let up = aftercare_service::attachments::AttachmentInput { data_base64: b.data_base64, ..Default::default() }
        .upload()
        .map_err(ServiceError::Invalid)?;
    let id = st.svc.add_trip_photo(&u.actor, TripId(id), &up.data, chrono::Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(ReceiptCreated { id })))
}

#[utoipa::path(get, path = "/api/v1/trips/photos/{id}", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "the receipt"), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
pub async fn api_trips_photo_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<axum::response::Response, ApiError> {
    let (_, data) = st.svc.trip_photo(&u.actor, id).await?;
    Ok(crate::files::stored_file(data, &format!("trip-receipt-{id}")))
}

#[utoipa::path(get, path = "/api/v1/attendance", params(DateParams),
    responses((status = 200, body = List<AttendanceRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_attendance(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<DateParams>,
) -> Result<Json<List<AttendanceRow>>, ApiError> {
    let date = date_param("date", p.date.as_deref())?.unwrap_or_else(|| st.svc.today());
    let items = st.svc.attendance(&u.actor, date).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(post, path = "/api/v1/attendance/absences", request_body = AbsenceInput,
    responses((status = 204, description = "set (or, with an empty reason, cleared)"), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_absence_set(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<AbsenceInput>,
) -> Result<StatusCode, ApiError> {
    st.svc.set_absence(&u.actor, &b, chrono::Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
