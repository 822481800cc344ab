//! The global search page.

use super::PageQuery;
use super::{Ctx, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_service::search::Group;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub c: Ctx,
    pub q: String,
    pub groups: Vec<Group>,
}

impl SearchPage {
    /// The kind's own list filtered by the same words ("all N").
    pub fn list_url(&self, g: &Group) -> String {
        crate::api::search::list_url(g.kind, &self.q)
    }
    /// "All 12" under a group that shows fewer.
    pub fn all_label(&self, g: &Group) -> String {
        self.c.tr.tf("search.all", &[("n", &g.total.to_string())])
    }
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
    let groups = st.svc.search(&u.actor, &q, 10).await?;
    let c = Ctx::new(&st, &u, "/search", u.tr.t("search.title")).crumb(u.tr.t("search.title"), "/search");
    Ok(render(&SearchPage { c, q, groups }))
}
