//! Sign-in, sign-out and the language switch.

use super::PageQuery;
use super::{Ctx, field, render};
use crate::AppState;
use crate::auth::{
    LANG_COOKIE, LOGIN_CSRF_COOKIE, PageUser, PeerAddr, SESSION_COOKIE, anonymous_tr, constant_time_eq, session_cookie,
};
use crate::i18n::Tr;
use aftercare_service::ServiceError;
use aftercare_service::auth::{SessionKind, random_token};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub c: Ctx,
    pub next: String,
    pub username: String,
    pub login_csrf: String,
    pub error: String,
}

#[derive(Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
}

/// Only a path of this site may follow sign-in or a language switch (no open redirect).
/// Control characters refuse the whole value (a browser drops a tab, so `/\t/evil` would be
/// `//evil`); non-ASCII is percent-encoded so the `Location` header is always valid.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else { return "/".into() };
    if n.chars().any(|c| c.is_control()) || n.contains('\\') {
        return "/".into();
    }
    let mut out = String::with_capacity(n.len());
    for b in n.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    let local = out.starts_with('/') && !out.starts_with("//");
    if local && out.parse::<axum::http::uri::PathAndQuery>().is_ok() { out } else { "/".into() }
}

fn login_page(tr: Tr, jar: CookieJar, next: String, username: String, error: String, status: StatusCode) -> Response {
    let token = random_token();
    let jar = jar.add(
        Cookie::build((LOGIN_CSRF_COOKIE, token.clone()))
            .path("/login")
            .http_only(true)
            .same_site(SameSite::Strict)
            .build(),
    );
    let page = LoginPage { c: Ctx::anonymous(tr, tr.t("login.title")), next, username, login_csrf: token, error };
    (status, jar, render(&page)).into_response()
}

pub async fn view_login_get(headers: HeaderMap, jar: CookieJar, PageQuery(q): PageQuery<NextParam>) -> Response {
    login_page(anonymous_tr(&headers), jar, safe_next(q.next.as_deref()), String::new(), String::new(), StatusCode::OK)
}

pub async fn view_login_post(
    State(st): State<AppState>,
    PeerAddr(addr): PeerAddr,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let tr = anonymous_tr(&headers);
    let username = field(&form, "username").unwrap_or_default();
    let password = field(&form, "password").unwrap_or_default();
    let next = safe_next(field(&form, "next").as_deref());
    let sent = field(&form, "_csrf").unwrap_or_default();
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return login_page(tr, jar, next, username, tr.t("error.csrf"), StatusCode::FORBIDDEN);
    }
    if username.trim().is_empty() || password.is_empty() {
        return login_page(tr, jar, next, username, tr.t("login.missing"), StatusCode::UNPROCESSABLE_ENTITY);
    }
    match st.svc.login(&username, &password, &addr, SessionKind::Web).await {
        Ok(s) => {
            let jar = jar
                .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login"))
                .add(session_cookie(s.token, st.cfg.secure_cookies))
                .add(Cookie::build((LANG_COOKIE, s.actor.locale.clone())).path("/").same_site(SameSite::Lax).build());
            (jar, Redirect::to(&next)).into_response()
        }
        Err(ServiceError::Unauthorized) => {
            login_page(tr, jar, next, username, tr.t("login.failed"), StatusCode::UNAUTHORIZED)
        }
        Err(ServiceError::Throttled) => {
            login_page(tr, jar, next, username, tr.t("error.throttled"), StatusCode::TOO_MANY_REQUESTS)
        }
        Err(e) => crate::error::PageError::from_service(tr, e).into_response(),
    }
}

pub async fn view_logout_post(
    State(st): State<AppState>,
    u: PageUser,
    jar: CookieJar,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = u.check_csrf(&field(&form, "_csrf").unwrap_or_default()) {
        return e.into_response();
    }
    if let Some(c) = jar.get(SESSION_COOKIE) {
        let _ = st.svc.logout(c.value()).await;
    }
    (jar.remove(Cookie::build(SESSION_COOKIE).path("/")), Redirect::to("/login")).into_response()
}

/// Switches the language: saved on the user when signed in, in a cookie always.
pub async fn view_lang_post(
    State(st): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let lang = Tr::new(&field(&form, "lang").unwrap_or_default()).0;
    let back = safe_next(field(&form, "next").as_deref());
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Ok((actor, csrf)) = st.svc.authenticate(&token, aftercare_service::auth::SessionKind::Web).await
    {
        let sent = field(&form, "_csrf").unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
            return crate::error::PageError::status(anonymous_tr(&headers), StatusCode::FORBIDDEN, "error.csrf")
                .into_response();
        }
        if let Err(e) = st.svc.set_locale(&actor, lang).await {
            return crate::error::PageError::from_service(Tr::new(lang), e).into_response();
        }
    }
    let jar = jar.add(Cookie::build((LANG_COOKIE, lang)).path("/").same_site(SameSite::Lax).build());
    (jar, Redirect::to(&back)).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_only_ever_a_local_path() {
        assert_eq!(safe_next(Some("/equipment?q=1")), "/equipment?q=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
        // A tab or newline the browser would drop, DEL, and a path that reads as a host.
        assert_eq!(safe_next(Some("/\t/evil.example/phish")), "/");
        assert_eq!(safe_next(Some("/x\r\nSet-Cookie: a=b")), "/");
        assert_eq!(safe_next(Some("/x\u{7f}")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/%20/evil.example");
        assert_eq!(safe_next(Some("/search?q=网络")), "/search?q=%E7%BD%91%E7%BB%9C");
        assert_eq!(safe_next(Some("")), "/");
    }
}
