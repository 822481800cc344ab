//! Know-how articles (DESIGN.md §5 `articles`): written by staff, reviewed by the engineer,
//! published into the search and onto the tickets of the same model or fault.

use super::{ApiId, ApiJson, ApiQuery, List};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ErrorResponse};
use aftercare_domain::articles::{ArticleAction, ArticleInput, ArticleReviewInput, ArticleStatus};
use aftercare_domain::{ArticleId, FieldErrors, System, TicketId};
use aftercare_service::ServiceError;
use aftercare_service::articles::{ArticleFilter, ArticleRow, ArticleView, TicketKnowHow};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ArticleParams {
    /// `submitted`, `published` or `rejected`.
    pub status: Option<String>,
    pub system: Option<String>,
    /// Only mine.
    pub mine: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl ArticleParams {
    fn filter(&self, me: i64) -> Result<ArticleFilter, ServiceError> {
        let mut e = FieldErrors::default();
        let status = self.status.as_deref().filter(|s| !s.is_empty()).and_then(|s| {
            let v = ArticleStatus::parse(s);
            if v.is_none() {
                e.push("status", "unknown_value");
            }
            v
        });
        let system = self.system.as_deref().filter(|s| !s.is_empty()).and_then(|s| {
            let v = System::parse(s);
            if v.is_none() {
                e.push("system", "unknown_value");
            }
            v
        });
        let f =
            ArticleFilter { status, system, author_id: self.mine.unwrap_or(false).then_some(me), readable_by: None };
        Ok(e.in_area("articles").into_result(f)?)
    }
}

#[utoipa::path(get, path = "/api/v1/articles", params(ArticleParams),
    responses((status = 200, body = List<ArticleRow>), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_articles_list(
    State(st): State<AppState>,
    u: ApiUser,
    ApiQuery(p): ApiQuery<ArticleParams>,
) -> Result<Json<List<ArticleRow>>, ApiError> {
    let page = aftercare_service::Page::new(p.page, p.per_page);
    let rows = st.svc.articles(&u.actor, p.filter(u.actor.id.0)?, page).await?;
    Ok(Json(List { items: rows.items, total: rows.total, total_capped: rows.capped }))
}

#[utoipa::path(post, path = "/api/v1/articles", request_body = ArticleInput,
    responses((status = 201, body = ArticleView), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
pub async fn api_articles_create(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(b): ApiJson<ArticleInput>,
) -> Result<(StatusCode, Json<ArticleView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.write_article(&u.actor, &b, chrono::Utc::now()).await?)))
}

#[utoipa::path(get, path = "/api/v1/articles/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ArticleView), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
pub async fn api_articles_get(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<ArticleView>, ApiError> {
    Ok(Json(st.svc.article(&u.actor, ArticleId(id)).await?))
}

/// An edit: the article's fields and the version it was read at.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ArticleEdit {
    #[serde(flatten)]
    pub article: ArticleInput,
    pub version: Option<i64>,
}

#[utoipa::path(put, path = "/api/v1/articles/{id}", params(("id" = i64, Path)), request_body = ArticleEdit,
    responses((status = 200, body = ArticleView), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "changed meanwhile"),
        (status = 422, body = ErrorResponse)))]
pub async fn api_articles_update(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
    ApiJson(b): ApiJson<ArticleEdit>,
) -> Result<Json<ArticleView>, ApiError> {
    let version = b.version.ok_or_else(|| ServiceError::from(FieldErrors::single("version", "required")))?;
    Ok(Json(st.svc.edit_article(&u.actor, ArticleId(id), version, &b.article, chrono::Utc::now()).await?))
}

#[utoipa::path(post, path = "/api/v1/articles/{id}/actions/{action}",
    params(("id" = i64, Path), ("action" = String, Path, description = "publish or reject")),
    request_body = ArticleReviewInput,
    responses((status = 200, body = ArticleView), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "not submitted"),
        (status = 422, body = ErrorResponse, description = "a rejection without its reason")))]
pub async fn api_articles_action(
    State(st): State<AppState>,
    u: ApiUser,
    Path((id, action)): Path<(String, String)>,
    ApiJson(b): ApiJson<ArticleReviewInput>,
) -> Result<Json<ArticleView>, ApiError> {
    let id = ArticleId(id.parse().map_err(|_| ServiceError::NotFound)?);
    let action = ArticleAction::parse(&action).ok_or(ServiceError::NotFound)?;
    Ok(Json(st.svc.review_article(&u.actor, id, action, &b, chrono::Utc::now()).await?))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/articles", params(("id" = i64, Path)),
    responses((status = 200, body = TicketKnowHow), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
pub async fn api_ticket_articles(
    State(st): State<AppState>,
    u: ApiUser,
    ApiId(id): ApiId,
) -> Result<Json<TicketKnowHow>, ApiError> {
    let t = st.svc.get_ticket(&u.actor, TicketId(id)).await?;
    Ok(Json(st.svc.ticket_know_how(&u.actor, TicketId(id), t.ticket.status).await?))
}
