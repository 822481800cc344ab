//! Stored files sent back to a browser: photos, signatures, mail attachments, raw mail.
//! Whatever the uploader declared, the bytes decide: a raster image we recognise is shown
//! inline with its real type, anything else is a download of `application/octet-stream`.
//! Every such response forbids sniffing and carries a policy that runs nothing, so a file
//! that is really HTML or SVG can never execute in the product's origin.

use aftercare_service::attachments::sniff_image;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The policy of every stored file: no script, no style, no frame, no form.
pub const FILE_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

/// The file's bytes: inline when they are a JPEG, PNG, GIF or WebP, else an attachment.
pub fn stored_file(data: Vec<u8>, filename: &str) -> Response {
    match sniff_image(&data) {
        Some(ctype) => send(data, ctype, "inline", filename),
        None => send(data, "application/octet-stream", "attachment", filename),
    }
}

/// Bytes of a type we chose ourselves (e.g. `message/rfc822`), always as a download.
pub fn download(data: Vec<u8>, ctype: &str, filename: &str) -> Response {
    send(data, ctype, "attachment", filename)
}

/// A training's material: an image inline, anything else (PDF, slides) as a download of
/// the type its bytes were checked to be.
pub fn material(data: Vec<u8>, ctype: &str, filename: &str) -> Response {
    match sniff_image(&data) {
        Some(image) => send(data, image, "inline", filename),
        None => send(data, ctype, "attachment", filename),
    }
}

fn send(data: Vec<u8>, ctype: &str, disposition: &str, filename: &str) -> Response {
    let mut r = data.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(FILE_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    let d = format!("{disposition}; filename*=UTF-8''{}", crate::error::url_encode(filename).replace('/', "%2F"));
    if let Ok(v) = HeaderValue::from_str(&d) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
