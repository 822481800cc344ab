//! Mail in, for the desk: the files that came with a contact's email, and the kept messages
//! (those that could not be read are listed with `status=error` and their error note; the raw
//! message can be downloaded). Files from outside are never shown inline unless they are
//! images: anything else downloads as bytes, so a mailed HTML file cannot run on our origin.

use super::{ApiId, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_store::mail::{AttachmentRow, MailRow};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/contacts/{id}/mail-attachments", params(("id" = i64, Path)),
    responses((status = 200, body = List<AttachmentRow>, description = "the files of the email this contact came from, without their bytes"),
        (status = 403, body = ErrorResponse)))]
pub async fn api_contact_mail_attachments(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<List<AttachmentRow>>, ApiError> {
    let items = st.svc.mail_attachments(&u.actor, id).await.map_err(|e| ApiError::from_service(u.tr, e))?;
    let total = items.len() as i64;
    Ok(Json(List { items, total, total_capped: false }))
}

#[utoipa::path(get, path = "/api/v1/mail/attachments/{id}", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", description = "the file's bytes (images inline, anything else as a download)"),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_mail_attachment_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Response, ApiError> {
    let (meta, data) = st.svc.mail_attachment(&u.actor, id).await.map_err(|e| ApiError::from_service(u.tr, e))?;
    Ok(file_response(&meta, data))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MailParams {
    /// `new`, `processed` or `error`.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/mail/messages", params(MailParams),
    responses((status = 200, body = List<MailRow>, description = "kept messages, newest first (without the raw bytes)"),
        (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse, description = "`status`: unknown_value")))]
pub async fn api_mail_messages(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<MailParams>,
) -> Result<Json<List<MailRow>>, ApiError> {
    let r = st
        .svc
        .list_mail(&u.actor, p.status.as_deref(), aftercare_store::Page::new(p.page, p.per_page))
        .await
        .map_err(|e| ApiError::from_service(u.tr, e))?;
    Ok(Json(List { items: r.items, total: r.total, total_capped: r.capped }))
}

#[utoipa::path(get, path = "/api/v1/mail/messages/{id}/raw", params(("id" = i64, Path)),
    responses((status = 200, content_type = "message/rfc822", description = "the message as it was fetched"),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_mail_message_raw(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Response, ApiError> {
    let m = st.svc.mail_raw(&u.actor, id).await.map_err(|e| ApiError::from_service(u.tr, e))?;
    Ok(bytes(m.raw, "message/rfc822", "attachment", &format!("mail-{id}.eml")))
}

/// A file from outside as a response: images inline, anything else as a download.
pub(crate) fn file_response(meta: &AttachmentRow, data: Vec<u8>) -> Response {
    let image = matches!(meta.content_type.as_str(), "image/jpeg" | "image/png" | "image/gif" | "image/webp");
    let ctype = if image { meta.content_type.as_str() } else { "application/octet-stream" };
    bytes(data, ctype, if image { "inline" } else { "attachment" }, &meta.filename)
}

fn bytes(data: Vec<u8>, ctype: &str, disposition: &str, filename: &str) -> Response {
    let mut r = data.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    let d = format!("{disposition}; filename*=UTF-8''{}", crate::error::url_encode(filename).replace('/', "%2F"));
    if let Ok(v) = HeaderValue::from_str(&d) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
