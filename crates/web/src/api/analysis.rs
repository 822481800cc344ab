//! Data analysis and rectifications (DESIGN.md §5 `analysis`, `rectifications`): a
//! period's faults grouped one way, the hot spots, and the rectifications with their
//! accept / reject / done.

use super::{ApiId, ApiJson, ApiQuery, List, PageParams};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::analysis::{FaultBy, RectAction, RectificationInput, period};
use aftercare_domain::{FieldErrors, RectificationId};
use aftercare_service::ServiceError;
use aftercare_service::analysis::{FaultAnalysis, FaultRow, Hotspots, RectScope, RectificationRow, RectificationView};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct PeriodParams {
    /// `YYYY-MM-DD`; default the first of this month.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, included; default the last of this month.
    pub to: Option<String>,
    /// `system` (default), `fault_type`, `subcategory`, `town`, `customer`, `model`,
    /// `technician`, `engineer`.
    pub by: Option<String>,
}

/// The period and grouping asked for, every bad one named at once.
pub(crate) fn parse(p: &PeriodParams, today: NaiveDate) -> Result<(NaiveDate, NaiveDate, FaultBy), ServiceError> {
    let mut e = FieldErrors::default();
    let by = aftercare_domain::validation::optional_enum(&mut e, "by", p.by.as_deref(), FaultBy::parse)
        .unwrap_or(FaultBy::System);
    let month = aftercare_service::Services::month_of(today);
    let range = period(p.from.as_deref(), p.to.as_deref(), month);
    match range {
        Ok((f, t)) if e.is_empty() => Ok((f, t, by)),
        Ok(_) => Err(ServiceError::Invalid(e.in_area("analysis"))),
        Err(more) => {
            e.0.extend(more.0);
            Err(ServiceError::Invalid(e.in_area("analysis")))
        }
    }
}

/// The period's totals (and the period before's).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PeriodTotals {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tickets: i64,
    pub repeat: i64,
    pub mean_hours_to_fix: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FaultsOut {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The grouping.
    pub by: String,
    pub rows: Vec<FaultRow>,
    /// Faults in the period.
    pub total: i64,
    pub repeat: i64,
    pub mean_hours_to_fix: Option<f64>,
    /// The period as long just before.
    pub previous: PeriodTotals,
}

pub(crate) fn faults_out(a: FaultAnalysis) -> FaultsOut {
    FaultsOut {
        from: a.from,
        to: a.to,
        by: a.by.as_str().to_owned(),
        total: a.total.tickets,
        repeat: a.total.repeat,
        mean_hours_to_fix: a.total.mean_hours_to_fix,
        previous: PeriodTotals {
            from: a.previous_from,
            to: a.previous_to,
            tickets: a.previous.tickets,
            repeat: a.previous.repeat,
            mean_hours_to_fix: a.previous.mean_hours_to_fix,
        },
        rows: a.rows,
    }
}

#[utoipa::path(get, path = "/api/v1/analysis/faults", params(PeriodParams),
    responses((status = 200, body = FaultsOut), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "an unknown grouping, `to` before `from`, a period over three years")))]
pub async fn api_analysis_faults(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Result<Json<FaultsOut>, ApiError> {
    let (from, to, by) = parse(&p, st.svc.today())?;
    Ok(Json(faults_out(st.svc.fault_analysis(&u.actor, from, to, by).await?)))
}

#[utoipa::path(get, path = "/api/v1/analysis/hotspots", params(PeriodParams),
    responses((status = 200, body = Hotspots), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_analysis_hotspots(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<PeriodParams>,
) -> Result<Json<Hotspots>, ApiError> {
    let (from, to, _) = parse(&p, st.svc.today())?;
    Ok(Json(st.svc.hotspots(&u.actor, from, to).await?))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct RectParams {
    /// `open` , `proposed`, `overdue`, `mine`, `done`, `rejected`, `all` (default).
    pub scope: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

pub(crate) fn scope_of(s: Option<&str>) -> Result<RectScope, ServiceError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(RectScope::All),
        Some(s) => RectScope::parse(s).ok_or_else(|| FieldErrors::single("scope", "unknown_value").into()),
    }
}

#[utoipa::path(get, path = "/api/v1/rectifications", params(RectParams),
    responses((status = 200, body = List<RectificationRow>), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_rectifications_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<RectParams>,
) -> Result<Json<List<RectificationRow>>, ApiError> {
    let scope = scope_of(p.scope.as_deref())?;
    let page = PageParams { page: p.page, per_page: p.per_page }.page();
    let rows = st.svc.list_rectifications(&u.actor, scope, page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/rectifications", request_body = RectificationInput,
    responses((status = 201, body = RectificationView), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_rectifications_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<RectificationInput>,
) -> Result<(StatusCode, Json<RectificationView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.propose_rectification(&u.actor, &b, chrono::Utc::now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/rectifications/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = RectificationView), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn api_rectifications_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<RectificationView>, ApiError> {
    Ok(Json(st.svc.rectification(&u.actor, RectificationId(id), chrono::Utc::now()).await?))
}

/// `reject` takes the reason; `done` a note of what was done; `accept` nothing.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RectActionBody {
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/rectifications/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "accept, reject, done")),
    request_body = RectActionBody,
    responses((status = 200, body = RectificationView), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "not possible from this status"),
        (status = 422, body = ErrorResponse, description = "reject without a reason")))]
pub async fn api_rectifications_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<RectActionBody>,
) -> Result<Json<RectificationView>, ApiError> {
    let id = RectificationId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let action = RectAction::parse(&action).ok_or(ServiceError::NotFound)?;
    Ok(Json(st.svc.rectification_action(&u.actor, id, action, b.reason.as_deref(), chrono::Utc::now()).await?))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct MonthParams {
    /// `YYYY-MM`; default this month.
    pub month: Option<String>,
}

/// The first day of the month asked for (this month when none is).
pub(crate) fn month_of(m: Option<&str>, today: NaiveDate) -> Result<NaiveDate, ServiceError> {
    match m.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(aftercare_service::Services::month_of(today).0),
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| aftercare_domain::validation::YEARS.contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| FieldErrors::single("month", "invalid_date").into()),
    }
}

#[utoipa::path(get, path = "/api/v1/analysis/kpis", params(MonthParams),
    responses((status = 200, body = aftercare_service::analysis::KpiTable), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_analysis_kpis(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<aftercare_service::analysis::KpiTable>, ApiError> {
    let month = month_of(p.month.as_deref(), st.svc.today())?;
    Ok(Json(st.svc.kpi_table(&u.actor, month).await?))
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct TrendParams {
    /// `YYYY-MM`, the last month shown; default this month.
    pub month: Option<String>,
    /// How many months up to it, 1–24; default 12.
    pub months: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/analysis/people/{id}", params(("id" = i64, Path,), TrendParams),
    responses((status = 200, body = aftercare_service::assessments::ScoreTrend), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
pub async fn api_analysis_person(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiQuery(p): ApiQuery<TrendParams>,
) -> Result<Json<aftercare_service::assessments::ScoreTrend>, ApiError> {
    let month = month_of(p.month.as_deref(), st.svc.today())?;
    let months = match p.months {
        Some(n) if !(1..=24).contains(&n) => {
            return Err(ServiceError::from(FieldErrors::single("months", "out_of_range")).into());
        }
        n => n.unwrap_or(12),
    };
    Ok(Json(st.svc.scorecard_trend(&u.actor, aftercare_domain::UserId(id), month, months).await?))
}
