//! Who is asking: session cookies for people, bearer tokens for programs, CSRF checks.

use crate::AppState;
use crate::error::{ApiError, PageError};
use crate::i18n::{Tr, negotiate};
use aftercare_service::{Actor, ServiceError};
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

pub const SESSION_COOKIE: &str = "ac_session";
pub const LANG_COOKIE: &str = "ac_lang";
pub const LOGIN_CSRF_COOKIE: &str = "ac_login_csrf";

/// A short id for an error, written to the log and shown to the user.
pub fn operation_id() -> String {
    aftercare_service::auth::random_token()[..12].to_owned()
}

/// The locale for someone not signed in: the language cookie, else `Accept-Language`.
pub fn anonymous_tr(headers: &HeaderMap) -> Tr {
    let jar = CookieJar::from_headers(headers);
    if let Some(c) = jar.get(LANG_COOKIE) {
        return Tr::new(c.value());
    }
    Tr::new(negotiate(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())))
}

pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(time_days(aftercare_service::auth::WEB_SESSION_DAYS))
        .build()
}

fn time_days(d: i64) -> cookie::time::Duration {
    cookie::time::Duration::days(d)
}

/// Does this request count against its user's writes per minute? Every write does but
/// signing out (a limited user may always leave) and the PBX's call events (a call centre
/// reports every call; losing one would lose a record).
fn counts_as_write(parts: &Parts) -> bool {
    let path = parts.uri.path();
    !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !matches!(path, "/api/v1/session" | "/logout" | "/api/v1/telephony/calls")
}

/// A program calling the API with `Authorization: Bearer <token>`.
pub struct ApiUser {
    pub actor: Actor,
    pub tr: Tr,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let tr = anonymous_tr(&parts.headers);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::from_service(tr, ServiceError::Unauthorized))?;
        let (actor, _) = state.svc.authenticate(token, aftercare_service::auth::SessionKind::Api).await?;
        let tr = Tr::new(&actor.locale);
        crate::i18n::set_current(tr);
        if counts_as_write(parts) {
            state.svc.count_write(&actor).await?;
        }
        Ok(ApiUser { actor, tr })
    }
}

/// A person signed in with the session cookie.
pub struct PageUser {
    pub actor: Actor,
    pub csrf: String,
    pub tr: Tr,
    /// Unread notifications, for the bell.
    pub unread: i64,
}

impl PageUser {
    /// Checks the form's CSRF token against the session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if !token.is_empty() && constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::status(self.tr, StatusCode::FORBIDDEN, "error.csrf"))
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
            return Err(PageError::Login { next });
        };
        match state.svc.authenticate(&token, aftercare_service::auth::SessionKind::Web).await {
            Ok((actor, csrf)) => {
                let tr = Tr::new(&actor.locale);
                crate::i18n::set_current(tr);
                if counts_as_write(parts) {
                    state.svc.count_write(&actor).await?;
                }
                let unread = state.svc.unread_notifications(&actor).await.unwrap_or(0);
                Ok(PageUser { actor, csrf, tr, unread })
            }
            Err(ServiceError::Unauthorized) => Err(PageError::Login { next }),
            Err(e) => Err(PageError::from_service(anonymous_tr(&parts.headers), e)),
        }
    }
}

/// Refuses writes that a browser sends from another site: `Sec-Fetch-Site: cross-site`
/// or an `Origin` whose host is not ours. Programs with bearer tokens send neither.
pub async fn same_origin_writes(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let h = req.headers();
        let cross_site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site");
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let bad_origin = h
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|o| *o != "null")
            .is_some_and(|o| o.split_once("://").map(|(_, rest)| rest) != Some(host));
        if cross_site || bad_origin {
            let tr = anonymous_tr(h);
            return PageError::status(tr, StatusCode::FORBIDDEN, "error.csrf").into_response();
        }
    }
    next.run(req).await
}

/// The client's address: the socket peer, or — when the peer is one of the configured
/// trusted proxies — the last address in `X-Forwarded-For` that is not a trusted proxy
/// (earlier entries are whatever the client chose to send).
pub struct PeerAddr(pub String);

impl FromRequestParts<AppState> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let Some(peer) = peer else {
            return Ok(PeerAddr("unknown".into()));
        };
        let trusted = &st.cfg.trusted_proxies;
        if !trusted.contains(&peer) {
            return Ok(PeerAddr(peer.to_string()));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<std::net::IpAddr>().ok())
            .collect::<Vec<_>>();
        let client = forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer);
        Ok(PeerAddr(client.to_string()))
    }
}
