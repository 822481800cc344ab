//! Know-how for people: the list (published, to review, mine), the form (filled from a
//! resolved ticket by "write it down"), the article page with the engineer's review.

use super::{Ctx, FormErrors, PageId, PageQuery, Pager, field, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::articles::{ArticleAction, ArticleInput, ArticleReviewInput, ArticleStatus, may_review};
use aftercare_domain::tickets::FaultType;
use aftercare_domain::{ArticleId, System, TicketId};
use aftercare_service::articles::{ArticleFilter, ArticleRow, ArticleView};
use aftercare_service::{Page, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

#[derive(Template)]
#[template(path = "articles.html")]
pub struct ArticlesPage {
    pub c: Ctx,
    pub rows: Vec<ArticleRow>,
    pub pager: Pager,
    /// `published`, `submitted` (to review), `mine`.
    pub tab: String,
    pub can_review: bool,
}

impl ArticlesPage {
    pub fn status_name(&self, s: &ArticleStatus) -> String {
        self.c.t(&format!("article_status.{}", s.as_str()))
    }
    pub fn system_name(&self, s: &Option<System>) -> String {
        s.map(|s| self.c.tr.system(s)).unwrap_or_default()
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub tab: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

pub async fn view_articles_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    let page = Page::new(p.page, Some(25));
    let can_review = may_review(&u.actor.roles);
    let tab = match p.tab.as_deref() {
        Some("submitted") if can_review => "submitted",
        Some("mine") => "mine",
        _ => "published",
    };
    let f = match tab {
        "submitted" => ArticleFilter { status: Some(ArticleStatus::Submitted), ..Default::default() },
        "mine" => ArticleFilter { author_id: Some(u.actor.id.0), ..Default::default() },
        _ => ArticleFilter { status: Some(ArticleStatus::Published), ..Default::default() },
    };
    let rows = st.svc.articles(&u.actor, f, page).await?;
    let pager = Pager::new("/articles", &[("tab", tab.to_owned())], page, rows.total);
    let c = Ctx::new(&st, &u, "/articles", u.tr.t("articles.title")).flash_from(p.ok.as_deref());
    Ok(render(&ArticlesPage { c, rows: rows.items, pager, tab: tab.to_owned(), can_review }))
}

#[derive(Template)]
#[template(path = "article_form.html")]
pub struct ArticleForm {
    pub c: Ctx,
    /// `/articles` (new) or `/articles/{id}/edit`.
    pub action: String,
    pub values: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl ArticleForm {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn systems(&self) -> [System; 6] {
        System::ALL
    }
    pub fn fault_types(&self) -> &'static [FaultType] {
        FaultType::ALL
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct NewParams {
    /// "Write it down" from this ticket: the form starts from its system, fault, model and fix.
    pub ticket_id: Option<i64>,
}

fn input_of(form: &[(String, String)]) -> ArticleInput {
    let get = |n: &str| field(form, n).filter(|s| !s.trim().is_empty());
    ArticleInput {
        title: get("title"),
        body: get("body"),
        cause: get("cause"),
        fix: get("fix"),
        prevention: get("prevention"),
        system: get("system"),
        fault_type: get("fault_type"),
        subcategory: get("subcategory"),
        model: get("model"),
        ticket_id: get("ticket_id").and_then(|s| s.parse().ok()),
    }
}

pub async fn view_article_new_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<NewParams>,
) -> Result<Response, PageError> {
    let mut values: Vec<(String, String)> = Vec::new();
    if let Some(id) = p.ticket_id {
        let v = st.svc.ticket_view(&u.actor, TicketId(id), Utc::now()).await?;
        let t = &v.detail.ticket;
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                values.push((k.to_owned(), v));
            }
        };
        put("ticket_id", Some(id.to_string()));
        put("title", Some(t.title.clone()));
        put("body", Some(if t.description.is_empty() { t.title.clone() } else { t.description.clone() }));
        put("cause", t.root_cause.clone().or_else(|| t.diagnosis.clone()));
        put("fix", t.resolution.clone());
        put("prevention", t.prevention.clone());
        put("system", Some(t.system.as_str().to_owned()));
        put("fault_type", t.fault_type.map(|f| f.as_str().to_owned()));
        put("subcategory", t.fault_subcategory.clone());
        put("model", v.equipment.iter().find_map(|e| e.model.clone()));
    }
    let c = Ctx::new(&st, &u, "/articles", u.tr.t("articles.new")).crumb(u.tr.t("articles.title"), "/articles");
    Ok(render(&ArticleForm { c, action: "/articles".into(), values, errors: FormErrors::default() }))
}

pub async fn view_articles_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    match st.svc.write_article(&u.actor, &input_of(&form), Utc::now()).await {
        Ok(v) => Ok(Redirect::to(&format!("/articles/{}?ok=article_submitted", v.article.id)).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let c = Ctx::new(&st, &u, "/articles", u.tr.t("articles.new")).crumb(u.tr.t("articles.title"), "/articles");
            let page = ArticleForm { c, action: "/articles".into(), values: form, errors };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

pub async fn view_article_edit_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let v = st.svc.article(&u.actor, ArticleId(id)).await?;
    if !v.can_edit {
        return Err(PageError::from_service(u.tr, ServiceError::Forbidden));
    }
    let a = &v.article;
    let mut values = vec![
        ("title".to_owned(), a.title.clone()),
        ("body".to_owned(), a.body.clone()),
        ("version".to_owned(), a.version.to_string()),
    ];
    for (k, v) in [
        ("cause", a.cause.clone()),
        ("fix", a.fix.clone()),
        ("prevention", a.prevention.clone()),
        ("system", a.system.map(|s| s.as_str().to_owned())),
        ("fault_type", a.fault_type.map(|s| s.as_str().to_owned())),
        ("subcategory", a.subcategory.clone()),
        ("model", a.model.clone()),
        ("ticket_id", a.ticket_id.map(|t| t.to_string())),
    ] {
        if let Some(v) = v {
            values.push((k.to_owned(), v));
        }
    }
    let c = Ctx::new(&st, &u, "/articles", a.title.clone()).crumb(u.tr.t("articles.title"), "/articles");
    Ok(render(&ArticleForm { c, action: format!("/articles/{id}/edit"), values, errors: FormErrors::default() }))
}

pub async fn view_article_edit_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let version = field(&form, "version").and_then(|s| s.parse().ok()).unwrap_or(0);
    match st.svc.edit_article(&u.actor, ArticleId(id), version, &input_of(&form), Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/articles/{id}?ok=article_saved")).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let c =
                Ctx::new(&st, &u, "/articles", u.tr.t("articles.edit")).crumb(u.tr.t("articles.title"), "/articles");
            let page = ArticleForm { c, action: format!("/articles/{id}/edit"), values: form, errors };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "article.html")]
pub struct ArticlePage {
    pub c: Ctx,
    pub v: ArticleView,
    pub errors: FormErrors,
}

impl ArticlePage {
    pub fn status_name(&self) -> String {
        self.c.t(&format!("article_status.{}", self.v.article.status.as_str()))
    }
    pub fn can(&self, a: &str) -> bool {
        self.v.actions.iter().any(|x| x.as_str() == a)
    }
    pub fn system_name(&self) -> String {
        self.v.article.system.map(|s| self.c.tr.system(s)).unwrap_or_default()
    }
    pub fn fault_type_name(&self) -> String {
        self.v.article.fault_type.map(|f| self.c.t(&format!("fault_type.{}", f.as_str()))).unwrap_or_default()
    }
}

pub async fn view_article_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    let v = st.svc.article(&u.actor, ArticleId(id)).await?;
    let c = Ctx::new(&st, &u, "/articles", v.article.title.clone())
        .crumb(u.tr.t("articles.title"), "/articles")
        .flash_from(p.ok.as_deref());
    Ok(render(&ArticlePage { c, v, errors: FormErrors::default() }))
}

/// `publish`, or `reject` with the reason.
pub async fn view_article_action_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let not_found = || PageError::from_service(u.tr, ServiceError::NotFound);
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let action = ArticleAction::parse(&action).ok_or_else(not_found)?;
    let input = ArticleReviewInput { reason: field(&form, "reason") };
    match st.svc.review_article(&u.actor, ArticleId(id), action, &input, Utc::now()).await {
        Ok(_) => {
            let ok = if action == ArticleAction::Publish { "article_published" } else { "article_rejected" };
            Ok(Redirect::to(&format!("/articles/{id}?ok={ok}")).into_response())
        }
        Err(e) => {
            let errors = super::refusal_errors(u.tr, e)?;
            let v = st.svc.article(&u.actor, ArticleId(id)).await?;
            let c =
                Ctx::new(&st, &u, "/articles", v.article.title.clone()).crumb(u.tr.t("articles.title"), "/articles");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&ArticlePage { c, v, errors })).into_response())
        }
    }
}
