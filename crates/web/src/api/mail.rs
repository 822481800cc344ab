//! Mail in, for the desk: the files that came with a contact's email, and the kept messages
//! (those that could not be read are listed with `status=error` and their error note; the raw
//! message can be downloaded). Files from outside are never shown inline unless they are
//! images: anything else downloads as bytes, so a mailed HTML file cannot run on our origin.

use super::{ApiId, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::mail::{AttachmentRow, MailRow, Page};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/contacts/{id}/mail-attachments", params(("id" = i64, Path)),
    responses((status = 200, body = List<AttachmentRow>, description = "the files of the email this contact came from, without their bytes"),
        (status = 403, body = ErrorResponse)))]
pub async fn api_contact_mail_attachments(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<List<AttachmentRow>>, ApiError> {
    let items = st.svc.mail_attachments(&u.actor, aftercare_domain::ContactId(id)).await?;
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
    let (meta, data) = st.svc.mail_attachment(&u.actor, aftercare_domain::AttachmentId(id)).await?;
    Ok(crate::files::stored_file(data, &meta.filename))
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
    let r = st.svc.list_mail(&u.actor, p.status.as_deref(), Page::new(p.page, p.per_page)).await?;
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
    let m = st.svc.mail_raw(&u.actor, aftercare_domain::MailId(id)).await?;
    Ok(crate::files::download(m.raw, "message/rfc822", &format!("mail-{id}.eml")))
}
