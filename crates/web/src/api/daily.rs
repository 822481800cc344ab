//! The daily call record (《客服代表电话接听记录表》) as JSON: one agent's contacts of one day
//! and the day's totals. An agent reads their own; the manager and the administrator anyone's.

use super::ApiQuery;
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_service::daily::DailyRecord;
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DailyParams {
    /// The agent (a user id); default: the caller.
    pub agent_id: Option<i64>,
    /// `YYYY-MM-DD`, local; default: today.
    pub date: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/contacts/daily", params(DailyParams),
    responses((status = 200, body = DailyRecord), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_contacts_daily(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<DailyParams>,
) -> Result<Json<DailyRecord>, ApiError> {
    let e = |e| ApiError::from_service(u.tr, e);
    let (agent, date) = st.svc.daily_params(&u.actor, p.agent_id, p.date.as_deref(), Utc::now()).await.map_err(e)?;
    let rec = st.svc.daily_call_record(&u.actor, aftercare_domain::UserId(agent), date).await.map_err(e)?;
    Ok(Json(rec))
}
