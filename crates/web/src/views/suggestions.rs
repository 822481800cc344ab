//! Upgrade and replacement suggestions (§二 2.6): the manager's list with the decision
//! form, and the form on an equipment page.

use super::PageQuery;
use super::{Ctx, FormErrors, PageId, Pager, field, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::equipment::{SuggestionDecisionInput, SuggestionInput, SuggestionStatus};
use aftercare_domain::{EquipmentId, SuggestionId};
use aftercare_service::Page;
use aftercare_service::suggestions::SuggestionRow;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// `open` (default), `accepted`, `declined`, `all`.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "suggestions.html")]
pub struct SuggestionsPage {
    pub c: Ctx,
    pub rows: Vec<SuggestionRow>,
    pub pager: Pager,
    pub status: String,
    pub can_decide: bool,
    pub errors: FormErrors,
}

async fn page(st: &AppState, u: &PageUser, p: &ListParams, errors: FormErrors) -> Result<SuggestionsPage, PageError> {
    let status = p.status.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
    let filter = SuggestionStatus::parse(&status);
    let page = Page::new(p.page, Some(25));
    let rows = st.svc.suggestions(&u.actor, filter, None, page).await?;
    Ok(SuggestionsPage {
        c: Ctx::new(st, u, "/suggestions", u.tr.t("suggestions.title")).flash_from(p.ok.as_deref()),
        pager: Pager::new("/suggestions", &[("status", status.clone())], page, rows.total),
        rows: rows.items,
        status,
        can_decide: u.actor.is_admin_or_manager(),
        errors,
    })
}

pub async fn view_suggestions_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    Ok(render(&page(&st, &u, &p, FormErrors::default()).await?))
}

pub async fn view_suggestion_decide_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = SuggestionDecisionInput { status: field(&form, "status"), note: field(&form, "note") };
    match st.svc.decide_suggestion(&u.actor, SuggestionId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to("/suggestions?ok=suggestion_decided").into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let p = ListParams::default();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page(&st, &u, &p, errors).await?)).into_response())
        }
    }
}

/// A suggestion from the equipment page; back to it, with the problem when refused.
pub async fn view_equipment_suggest_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input =
        SuggestionInput { kind: field(&form, "kind"), reason: field(&form, "reason"), ticket: field(&form, "ticket") };
    match st.svc.suggest(&u.actor, EquipmentId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/equipment/{id}?ok=suggestion_filed#suggestions")).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            super::equipment::equipment_page_with(&st, &u, id, errors).await
        }
    }
}
