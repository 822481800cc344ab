//! The global search page.

use super::PageQuery;
use super::{Ctx, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_service::search::Hit;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub c: Ctx,
    pub q: String,
    pub hits: Vec<Hit>,
}

#[derive(Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
}

pub async fn view_search_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<SearchParams>,
) -> Result<Response, PageError> {
    let q = p.q.unwrap_or_default();
    let hits = st.svc.search(&u.actor, &q, 100).await?;
    let c = Ctx::new(&st, &u, "/search", u.tr.t("search.title")).crumb(u.tr.t("search.title"), "/search");
    Ok(render(&SearchPage { c, q, hits }))
}
