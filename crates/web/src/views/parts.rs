//! Spare parts pages (read-only for now): the catalogue (`/parts`) and on-hand stock by
//! warehouse (`/stock`). Movements are posted through the API until the forms exist.

use super::{Ctx, Pager, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::parts::fen_text;
use aftercare_store::Page;
use aftercare_store::parts::{PartQuery, PartRow, StockRow, WarehouseRow};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct PartsForm {
    pub q: Option<String>,
    pub page: Option<u32>,
}

#[derive(Template)]
#[template(path = "parts.html")]
pub struct PartsPage {
    pub c: Ctx,
    pub q: String,
    pub rows: Vec<PartRow>,
    pub pager: Pager,
}

impl PartsPage {
    pub fn cost(&self, fen: &i64) -> String {
        fen_text(*fen)
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn max(&self, v: &Option<i64>) -> String {
        v.map(|m| m.to_string()).unwrap_or_else(|| "—".into())
    }
}

pub async fn view_parts_get(
    State(st): State<AppState>,
    u: PageUser,
    Query(f): Query<PartsForm>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let page = Page::new(f.page, Some(50));
    let q = f.q.clone().unwrap_or_default();
    let query = PartQuery { q: Some(q.clone()).filter(|s| !s.trim().is_empty()), ..Default::default() };
    let rows = st.svc.list_parts(&u.actor, &query, page).await.map_err(e)?;
    let title = u.tr.t("parts.title");
    // The catalogue sits under the stock entry of the navigation.
    let c = Ctx::new(&st, &u, "/stock", title.clone()).crumb(title, "/parts");
    let pager = Pager::new("/parts", &[("q", q.clone())], page, rows.total);
    Ok(render(&PartsPage { c, q, rows: rows.items, pager }))
}

#[derive(Debug, Default, Deserialize)]
pub struct StockForm {
    pub warehouse_id: Option<String>,
    pub page: Option<u32>,
}

#[derive(Template)]
#[template(path = "stock.html")]
pub struct StockPage {
    pub c: Ctx,
    pub warehouses: Vec<WarehouseRow>,
    pub warehouse_id: Option<i64>,
    pub rows: Vec<StockRow>,
    pub pager: Pager,
}

impl StockPage {
    pub fn cost(&self, fen: &i64) -> String {
        fen_text(*fen)
    }
    pub fn value(&self, r: &StockRow) -> String {
        fen_text(r.avg_cost_fen.saturating_mul(r.on_hand))
    }
    pub fn low(&self, r: &StockRow) -> bool {
        r.min_qty > 0 && r.on_hand < r.min_qty
    }
    pub fn selected(&self, id: &i64) -> bool {
        self.warehouse_id == Some(*id)
    }
    pub fn kind(&self, k: &str) -> String {
        self.c.tr.t(&format!("warehouse.kind.{k}"))
    }
}

pub async fn view_stock_get(
    State(st): State<AppState>,
    u: PageUser,
    Query(f): Query<StockForm>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let page = Page::new(f.page, Some(100));
    // An empty or unreadable choice is "all warehouses".
    let warehouse_id = f.warehouse_id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let warehouses = st.svc.list_warehouses(&u.actor).await.map_err(e)?;
    let rows = st.svc.stock(&u.actor, None, warehouse_id, page).await.map_err(e)?;
    let title = u.tr.t("stock.title");
    let c = Ctx::new(&st, &u, "/stock", title.clone()).crumb(title, "/stock");
    let pager = Pager::new(
        "/stock",
        &[("warehouse_id", warehouse_id.map(|w| w.to_string()).unwrap_or_default())],
        page,
        rows.total,
    );
    Ok(render(&StockPage { c, warehouses, warehouse_id, rows: rows.items, pager }))
}
