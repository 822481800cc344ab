//! `/healthz`: answers 200 when the database does, 503 when it does not.

use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(get, path = "/healthz", security(()), responses((status = 200, description = "ok"), (status = 503, description = "database unreachable")))]
pub async fn healthz(State(st): State<AppState>) -> (StatusCode, &'static str) {
    match st.svc.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
