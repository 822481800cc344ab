//! Photos on a ticket: list, upload (JSON with base64, one image per request), download.
//! Whoever may see the ticket may use them; another school's ticket is 404.

use super::{ApiJson, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::{AttachmentId, TicketId};
use aftercare_service::attachments::AttachmentInput;
use aftercare_service::attachments::AttachmentMeta;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;

fn path_id(tr: crate::Tr, s: &str) -> Result<i64, ApiError> {
    s.parse().map_err(|_| ApiError::from_service(tr, aftercare_service::ServiceError::NotFound))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments", params(("id" = i64, Path)),
    responses((status = 200, body = List<AttachmentMeta>, description = "the ticket's files, oldest first, without their bytes"),
        (status = 404, body = ErrorResponse)))]
pub async fn api_attachments_list(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<String>,
) -> Result<Json<List<AttachmentMeta>>, ApiError> {
    let id = path_id(u.tr, &id)?;
    let items = st.svc.attachments(&u.actor, TicketId(id)).await?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/attachments", params(("id" = i64, Path)),
    request_body(content = AttachmentInput, description = "One image (JPEG, PNG, GIF or WebP — the bytes are checked), base64 in `data_base64`, at most 5 MiB decoded; a ticket keeps at most 20 files."),
    responses((status = 201, body = AttachmentMeta), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "`data_base64`: required, invalid (not base64), not_image, too_large, too_many")))]
pub async fn api_attachments_create(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<AttachmentInput>,
) -> Result<(StatusCode, Json<AttachmentMeta>), ApiError> {
    let id = path_id(u.tr, &id)?;
    let a = st.svc.add_attachment_base64(&u.actor, TicketId(id), &b, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments/{attachment_id}",
    params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, content_type = "image/*", description = "the file's bytes, with its checked type"),
        (status = 404, body = ErrorResponse)))]
pub async fn api_attachments_get(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(u.tr, &id)?;
    let attachment_id = path_id(u.tr, &attachment_id)?;
    let (meta, data) = st.svc.attachment(&u.actor, AttachmentId(attachment_id)).await?;
    if meta.ticket_id != id {
        return Err(ApiError::from_service(u.tr, aftercare_service::ServiceError::NotFound));
    }
    Ok(crate::files::stored_file(data, &meta.filename))
}
