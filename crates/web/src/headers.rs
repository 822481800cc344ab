//! Security headers on every response: a Content-Security-Policy that runs only the
//! product's own scripts and styles (every behaviour lives in /assets/*.js, none inline),
//! no framing, no sniffing, no referrer leaving the site, and nothing of a signed-in page
//! kept in a cache. A response that set its own policy (a stored file's stricter one, an
//! asset's cache lifetime) keeps it.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The pages' policy. `img-src data: blob:` for the signature pad and the photo previews.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let defaults: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        // Only assets and stored files say how long they may be kept; everything else is
        // someone's data, never written to a disk cache or shown again by "back" after sign-out.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}
