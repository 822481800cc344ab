//! Photos attached to a ticket: a school's pictures of the fault from the portal, or files
//! uploaded through the API. Only images are taken — the bytes are checked, not the name or
//! the declared type — each within a size limit, and only by someone who may see the ticket.

use crate::tickets::TicketDetail;
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::FieldErrors;
pub use aftercare_store::attachments::AttachmentMeta;
use aftercare_store::attachments::{self as store, NewAttachment};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The largest file accepted (a phone photo, or one made smaller by the portal's page).
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// The most files one upload (one report) takes.
pub const MAX_FILES_PER_UPLOAD: usize = 6;
/// The most files one ticket keeps.
pub const MAX_FILES_PER_TICKET: i64 = 20;
const MAX_FILENAME_CHARS: usize = 100;

/// One file as received.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub filename: String,
    /// As the client declared it; only informative (the bytes decide).
    pub content_type: String,
    pub data: Vec<u8>,
}

/// `POST /tickets/{id}/attachments`: one image as base64.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentInput {
    /// Shown to people; a path is cut to its last part. Default `photo.<ext>`.
    pub filename: Option<String>,
    /// Informative only: the stored type is what the bytes are (JPEG, PNG, GIF or WebP).
    pub content_type: Option<String>,
    /// The file, base64 (standard alphabet; a `data:image/...;base64,` prefix is accepted).
    /// At most 5 MiB once decoded.
    pub data_base64: Option<String>,
}

/// The image type the bytes really are, if one we take.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        Some("image/webp")
    } else {
        None
    }
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "jpg",
    }
}

/// A name safe to show and to send back in a header: the last part of a path, without
/// control characters or quotes, not too long; `photo.<ext>` when nothing is left.
pub fn clean_filename(name: &str, content_type: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        last.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>')).take(MAX_FILENAME_CHARS).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() { format!("photo.{}", extension(content_type)) } else { cleaned }
}

/// One file checked: a real image within the size limit, with the type its bytes are.
fn check_one(u: &Upload) -> Result<NewAttachment, &'static str> {
    if u.data.is_empty() {
        return Err("required");
    }
    if u.data.len() > MAX_ATTACHMENT_BYTES {
        return Err("too_large");
    }
    let ct = sniff_image(&u.data).ok_or("not_image")?;
    Ok(NewAttachment { filename: clean_filename(&u.filename, ct), content_type: ct.to_owned(), data: u.data.clone() })
}

/// Room left on a ticket that has `already` files.
fn room(already: i64) -> usize {
    usize::try_from((MAX_FILES_PER_TICKET - already).max(0)).unwrap_or(0)
}

/// Checks what is to be attached: not too many (counting the `already` stored ones), each
/// a real image within the size limit. Errors name `{field}[i]` for a file and `{field}`
/// for the count. Answers the files with the type their bytes are.
pub fn check_uploads(field: &str, uploads: &[Upload], already: i64) -> Result<Vec<NewAttachment>, FieldErrors> {
    if uploads.len() > MAX_FILES_PER_UPLOAD || uploads.len() > room(already) {
        return Err(FieldErrors::single(field, "too_many"));
    }
    let mut e = FieldErrors::default();
    let mut out = Vec::with_capacity(uploads.len());
    for (i, u) in uploads.iter().enumerate() {
        match check_one(u) {
            Ok(f) => out.push(f),
            Err(code) => e.push(format!("{field}[{i}]"), code),
        }
    }
    e.into_result(out)
}

impl AttachmentInput {
    /// The upload this body describes; a missing, malformed or oversized `data_base64` is a
    /// field error.
    pub fn upload(&self) -> Result<Upload, FieldErrors> {
        self.upload_up_to(MAX_ATTACHMENT_BYTES)
    }

    /// [`AttachmentInput::upload`] with another size limit (a training's slides).
    pub fn upload_up_to(&self, max: usize) -> Result<Upload, FieldErrors> {
        let raw = self.data_base64.as_deref().unwrap_or_default().trim();
        let raw = match raw.strip_prefix("data:") {
            Some(rest) => rest.split_once(";base64,").map(|(_, b)| b).unwrap_or_default(),
            None => raw,
        };
        if raw.is_empty() {
            return Err(FieldErrors::single("data_base64", "required"));
        }
        // Four characters carry three bytes: refuse before decoding a huge body.
        if raw.len() / 4 * 3 > max + 3 {
            return Err(FieldErrors::single("data_base64", "too_large"));
        }
        let data = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .map_err(|_| FieldErrors::single("data_base64", "invalid"))?;
        Ok(Upload {
            filename: self.filename.clone().unwrap_or_default(),
            content_type: self.content_type.clone().unwrap_or_default(),
            data,
        })
    }
}

impl Services {
    /// Attaches files to a ticket: whoever may see it (staff, or the school on its own
    /// ticket; another school's is "not found"). All or none are stored; errors name
    /// `{field}[i]`.
    pub async fn add_attachments(
        &self,
        by: &Actor,
        ticket_id: aftercare_domain::TicketId,
        field: &str,
        uploads: &[Upload],
        now: DateTime<Utc>,
    ) -> Result<Vec<AttachmentMeta>> {
        let ticket_id = ticket_id.0;
        self.get_ticket(by, aftercare_domain::TicketId(ticket_id)).await?;
        let already = store::count(&self.db, ticket_id).await?;
        let files = check_uploads(field, uploads, already)?;
        self.store_files(by, ticket_id, &files, now).await
    }

    /// One file sent as base64 through the API; errors name `data_base64`.
    pub async fn add_attachment_base64(
        &self,
        by: &Actor,
        ticket_id: aftercare_domain::TicketId,
        input: &AttachmentInput,
        now: DateTime<Utc>,
    ) -> Result<AttachmentMeta> {
        let ticket_id = ticket_id.0;
        self.get_ticket(by, aftercare_domain::TicketId(ticket_id)).await?;
        let upload = input.upload()?;
        if room(store::count(&self.db, ticket_id).await?) == 0 {
            return Err(FieldErrors::single("data_base64", "too_many").into());
        }
        let file = check_one(&upload).map_err(|code| FieldErrors::single("data_base64", code))?;
        let made = self.store_files(by, ticket_id, std::slice::from_ref(&file), now).await?;
        made.into_iter().next().ok_or(ServiceError::NotFound)
    }

    async fn store_files(
        &self,
        by: &Actor,
        ticket_id: i64,
        files: &[NewAttachment],
        now: DateTime<Utc>,
    ) -> Result<Vec<AttachmentMeta>> {
        // Seeing the ticket is the permission; an account without any role has none.
        require(!by.roles.is_empty())?;
        let ids = store::add_many(&self.db, &self.writer(by), ticket_id, files, now).await?;
        Ok(store::list(&self.db, ticket_id).await?.into_iter().filter(|a| ids.contains(&a.id)).collect())
    }

    /// The files of a ticket the actor may see.
    pub async fn attachments(&self, by: &Actor, ticket_id: aftercare_domain::TicketId) -> Result<Vec<AttachmentMeta>> {
        let ticket_id = ticket_id.0;
        let d = self.get_ticket(by, aftercare_domain::TicketId(ticket_id)).await?;
        self.attachments_of(&d).await
    }

    /// The files of a ticket the caller has already been allowed to read.
    pub async fn attachments_of(&self, d: &TicketDetail) -> Result<Vec<AttachmentMeta>> {
        Ok(store::list(&self.db, d.ticket.id).await?)
    }

    /// One file with its bytes, if the actor may see its ticket (otherwise "not found").
    pub async fn attachment(
        &self,
        by: &Actor,
        id: aftercare_domain::AttachmentId,
    ) -> Result<(AttachmentMeta, Vec<u8>)> {
        let id = id.0;
        let (meta, data) = store::get(&self.db, id).await?.ok_or(ServiceError::NotFound)?;
        self.get_ticket(by, aftercare_domain::TicketId(meta.ticket_id)).await?;
        Ok((meta, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(data: &[u8]) -> Upload {
        Upload { filename: "C:\\照片\\教室.jpg".into(), content_type: "image/jpeg".into(), data: data.to_vec() }
    }

    #[test]
    fn only_real_images_within_limits() {
        let jpeg = b"\xFF\xD8\xFF\xE0 jpeg";
        let png = b"\x89PNG\r\n\x1a\n....";
        let ok = check_uploads("photos", &[up(jpeg), up(png)], 0).unwrap_or_default();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].filename, "教室.jpg");
        assert_eq!((ok[0].content_type.as_str(), ok[1].content_type.as_str()), ("image/jpeg", "image/png"));
        // A text file named like a photo, an empty one, an oversized one.
        let big = vec![0xFF; MAX_ATTACHMENT_BYTES + 1];
        let e = check_uploads("photos", &[up(b"hello"), up(b""), up(&big)], 0).err().unwrap_or_default();
        let got: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(got, [("photos[0]", "not_image"), ("photos[1]", "required"), ("photos[2]", "too_large")]);
        // Too many at once, or more than the ticket has room for.
        let seven = vec![up(jpeg); MAX_FILES_PER_UPLOAD + 1];
        assert_eq!(check_uploads("photos", &seven, 0).err().unwrap_or_default().0[0].code, "too_many");
        assert!(check_uploads("photos", &[up(jpeg)], MAX_FILES_PER_TICKET).is_err());
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff_image(b"<svg"), None);
    }

    #[test]
    fn filenames_are_cut_to_a_safe_last_part() {
        assert_eq!(clean_filename("../../etc/passwd", "image/png"), "passwd");
        assert_eq!(clean_filename("a\"b<c>\n.jpg", "image/jpeg"), "abc.jpg");
        assert_eq!(clean_filename("", "image/png"), "photo.png");
        assert_eq!(clean_filename("/dir/", "image/gif"), "photo.gif");
    }

    #[test]
    fn base64_bodies_decode_with_or_without_a_data_prefix() {
        let b =
            AttachmentInput { data_base64: Some("data:image/png;base64,iVBORw0KGgo=".into()), ..Default::default() };
        assert!(b.upload().is_ok_and(|u| u.data.starts_with(b"\x89PNG")));
        let b = AttachmentInput { data_base64: Some("@@@".into()), ..Default::default() };
        assert_eq!(b.upload().err().unwrap_or_default().0[0].code, "invalid");
        assert_eq!(AttachmentInput::default().upload().err().unwrap_or_default().0[0].code, "required");
    }
}
