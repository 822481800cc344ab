//! HTTP for Aftercare: the JSON API v1 for programs and server-rendered pages for people,
//! both calling the same services. Templates are compiled in; assets are embedded.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

rust_i18n::i18n!("locales", fallback = "zh-CN");

pub mod api;
mod assets;
mod auth;
mod error;
mod files;
mod headers;
mod i18n;
mod input;
mod views;

use aftercare_service::Services;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::sync::Arc;

pub use error::row_message as api_row_message_full;
pub use i18n::Tr;

/// An import row error as a sentence ("第 12 行：序列号：已存在").
/// The words of notifications for the group robots, in the department's language (Chinese):
/// the same sentences as the bell's.
pub fn robot_words(tz: chrono_tz::Tz) -> aftercare_service::robots::Words {
    aftercare_service::robots::Words(std::sync::Arc::new(move |n| {
        let tr = Tr::new(i18n::DEFAULT_LOCALE);
        (tr.t("robot.title"), views::notification_text(tr, tz, n))
    }))
}

pub fn api_row_message(tr: Tr, r: &aftercare_service::excel::RowError) -> String {
    error::row_message(tr, r).message
}

/// The largest request body: an Excel import of a whole county fits well within it.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Times are stored in UTC and shown in this zone.
    pub tz: chrono_tz::Tz,
    /// Mark cookies `Secure` (set when served behind HTTPS).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client; nobody else's is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { tz: chrono_tz::Asia::Shanghai, secure_cookies: false, trusted_proxies: Vec::new() }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub svc: Services,
    pub cfg: Arc<WebConfig>,
}

/// The whole application: pages, API, assets, health.
pub fn router(svc: Services, cfg: WebConfig) -> Router {
    let state = AppState { svc, cfg: Arc::new(cfg) };
    Router::new()
        .merge(views::routes())
        .nest("/api/v1", api::routes())
        .route("/healthz", axum::routing::get(api::health::healthz))
        .route("/assets/{*path}", axum::routing::get(assets::serve))
        .fallback(views::not_found)
        .layer(axum::middleware::from_fn(i18n::request_locale))
        .layer(axum::middleware::from_fn(input::check_input))
        .layer(axum::middleware::from_fn(auth::same_origin_writes))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
