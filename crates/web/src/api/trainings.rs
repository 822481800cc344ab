//! Trainings (DESIGN.md §5 `trainings`): customer, vendor and internal trainings, their
//! attendance, completion with feedback, materials, and the coverage of every school ×
//! phase × system.

use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::inspections::Phase;
use aftercare_domain::trainings::{
    AttendanceInput, CoverageCell, TrainingAction, TrainingCompleteInput, TrainingInput, TrainingKind, TrainingStatus,
};
use aftercare_domain::{CustomerId, FieldErrors, TrainingId};
use aftercare_service::ServiceError;
use aftercare_service::attachments::{AttachmentInput, Upload};
use aftercare_service::trainings::{CoverageSchool, MaterialMeta, TrainingFilter, TrainingRow, TrainingView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct TrainingParams {
    /// `customer`, `vendor` or `internal`.
    pub kind: Option<String>,
    /// `planned`, `completed` or `cancelled`.
    pub status: Option<String>,
    pub customer_id: Option<i64>,
    /// `YYYY-MM-DD`: planned on or after.
    pub from: Option<NaiveDate>,
    /// `YYYY-MM-DD`: planned on or before.
    pub until: Option<NaiveDate>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl TrainingParams {
    pub fn filter(&self) -> Result<TrainingFilter, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = self.kind.as_deref().filter(|s| !s.is_empty()).and_then(|s| {
            let k = TrainingKind::parse(s);
            if k.is_none() {
                e.push("kind", "unknown_value");
            }
            k
        });
        let status = self.status.as_deref().filter(|s| !s.is_empty()).and_then(|s| {
            let k = TrainingStatus::parse(s);
            if k.is_none() {
                e.push("status", "unknown_value");
            }
            k
        });
        e.in_area("trainings").into_result(TrainingFilter {
            kind,
            status,
            customer_id: self.customer_id,
            person_id: None,
            from: self.from,
            until: self.until,
        })
    }

    pub fn page(&self) -> aftercare_service::Page {
        aftercare_service::Page::new(self.page, self.per_page)
    }
}

#[utoipa::path(get, path = "/api/v1/trainings", params(TrainingParams),
    responses((status = 200, body = List<TrainingRow>), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trainings_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<TrainingParams>,
) -> Result<Json<List<TrainingRow>>, ApiError> {
    let rows = st.svc.trainings(&u.actor, p.filter().map_err(ServiceError::from)?, p.page()).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/trainings", request_body = TrainingInput,
    responses((status = 201, body = TrainingView), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trainings_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<TrainingInput>,
) -> Result<(StatusCode, Json<TrainingView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.plan_training(&u.actor, &b, chrono::Utc::now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/trainings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = TrainingView), (status = 404, body = ErrorResponse)))]
pub async fn api_trainings_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<TrainingView>, ApiError> {
    Ok(Json(st.svc.training(&u.actor, TrainingId(id)).await?))
}

#[utoipa::path(post, path = "/api/v1/trainings/{id}/attendance", params(("id" = i64, Path)),
    request_body = AttendanceInput,
    responses((status = 200, body = TrainingView), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "the training is cancelled"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trainings_attendance(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<AttendanceInput>,
) -> Result<Json<TrainingView>, ApiError> {
    Ok(Json(st.svc.record_attendance(&u.actor, TrainingId(id), &b, chrono::Utc::now()).await?))
}

#[utoipa::path(post, path = "/api/v1/trainings/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "complete or cancel")),
    request_body = TrainingCompleteInput,
    responses((status = 200, body = TrainingView), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not planned, or nobody present"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trainings_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<TrainingCompleteInput>,
) -> Result<Json<TrainingView>, ApiError> {
    let id = TrainingId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let action = TrainingAction::parse(&action).ok_or(ServiceError::NotFound)?;
    Ok(Json(st.svc.training_action(&u.actor, id, action, &b, chrono::Utc::now()).await?))
}

#[utoipa::path(post, path = "/api/v1/trainings/{id}/materials", params(("id" = i64, Path)),
    request_body = AttachmentInput,
    responses((status = 201, body = MaterialMeta), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "not an image, PDF or Office file, or too large")))]
pub async fn api_trainings_material_add(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<AttachmentInput>,
) -> Result<(StatusCode, Json<MaterialMeta>), ApiError> {
    let upload: Upload =
        b.upload_up_to(aftercare_service::trainings::MAX_MATERIAL_BYTES).map_err(ServiceError::from)?;
    Ok((
        StatusCode::CREATED,
        Json(st.svc.add_training_material(&u.actor, TrainingId(id), &upload, chrono::Utc::now()).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/trainings/materials/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorResponse)))]
pub async fn api_trainings_material_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Response, ApiError> {
    let (meta, data) = st.svc.training_material(&u.actor, id).await?;
    Ok(crate::files::material(data, &meta.content_type, &meta.filename))
}

/// One cell of the coverage, with the school's name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CoverageItem {
    #[serde(flatten)]
    pub cell: CoverageCell,
    pub customer_name: String,
    /// Has the school's administrator ever been at a training?
    pub administrator_trained: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CoverageOut {
    /// Every school × phase × system, the schools whose administrator was never trained first.
    pub items: Vec<CoverageItem>,
    /// Per school: cells trained, and sessions held against those proposed per phase.
    pub schools: Vec<CoverageSchool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CoverageParams {
    pub customer_id: Option<i64>,
    /// Only this phase's cells (`early`, `mid`, `late`).
    pub phase: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/trainings/coverage", params(CoverageParams),
    responses((status = 200, body = CoverageOut), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_trainings_coverage(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<CoverageParams>,
) -> Result<Json<CoverageOut>, ApiError> {
    let phase =
        match p.phase.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(Phase::parse(s).ok_or_else(|| {
                ServiceError::from(FieldErrors::single("phase", "unknown_value").in_area("trainings"))
            })?),
            None => None,
        };
    let schools = st.svc.training_coverage(&u.actor, p.customer_id.map(CustomerId)).await?;
    let items = schools
        .iter()
        .flat_map(|s| {
            s.cells.iter().filter(|c| phase.is_none_or(|p| c.phase == p)).map(|c| CoverageItem {
                cell: c.clone(),
                customer_name: s.customer_name.clone(),
                administrator_trained: s.administrator_trained,
            })
        })
        .collect();
    Ok(Json(CoverageOut { items, schools }))
}
