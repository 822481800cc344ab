//! Spare parts pages: the catalogue (`/parts`) and on-hand stock by warehouse (`/stock`),
//! with the disposal form for defective parts. Receipts, issues and transfers are posted
//! through the API (and requisitions, visits, stocktakes) until their own forms exist.

use super::{Ctx, FormErrors, Pager, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::parts::fen_text;
use aftercare_store::Page;
use aftercare_store::parts::{PartQuery, PartRow, StockRow, WarehouseRow};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
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
    pub ok: Option<String>,
}

/// What was typed into a defective row's form, kept when it is refused.
#[derive(Debug, Default)]
pub struct DisposeForm {
    pub part_id: i64,
    pub warehouse_id: i64,
    pub qty: String,
    pub outcome: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "stock.html")]
pub struct StockPage {
    pub c: Ctx,
    pub warehouses: Vec<WarehouseRow>,
    pub warehouse_id: Option<i64>,
    pub rows: Vec<StockRow>,
    pub pager: Pager,
    /// Rows holding defective parts, and whether this user may dispose of them.
    pub defective: Vec<StockRow>,
    pub can_dispose: bool,
    pub dispose_form: DisposeForm,
    pub dispose_errors: FormErrors,
}

impl StockPage {
    /// Whether the refused disposal form belongs to this row.
    pub fn is_refused(&self, r: &StockRow) -> bool {
        self.dispose_errors.any()
            && self.dispose_form.part_id == r.part_id
            && self.dispose_form.warehouse_id == r.warehouse_id
    }
    pub fn outcome_selected(&self, r: &StockRow, o: &str) -> bool {
        self.is_refused(r) && self.dispose_form.outcome == o
    }
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
    // An empty or unreadable choice is "all warehouses".
    let warehouse_id = f.warehouse_id.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    Ok(render(&stock_page(&st, &u, warehouse_id, f.page, f.ok.as_deref()).await?))
}

async fn stock_page(
    st: &AppState,
    u: &PageUser,
    warehouse_id: Option<i64>,
    page: Option<u32>,
    ok: Option<&str>,
) -> Result<StockPage, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let page = Page::new(page, Some(100));
    let warehouses = st.svc.list_warehouses(&u.actor).await.map_err(e)?;
    let rows = st.svc.stock(&u.actor, None, warehouse_id, page).await.map_err(e)?;
    let defective = st.svc.defective_stock(&u.actor, warehouse_id).await.map_err(e)?;
    let title = u.tr.t("stock.title");
    let c = Ctx::new(st, u, "/stock", title.clone()).crumb(title, "/stock").flash_from(ok);
    let pager = Pager::new(
        "/stock",
        &[("warehouse_id", warehouse_id.map(|w| w.to_string()).unwrap_or_default())],
        page,
        rows.total,
    );
    Ok(StockPage {
        c,
        warehouses,
        warehouse_id,
        rows: rows.items,
        pager,
        defective,
        can_dispose: aftercare_domain::parts::can_manage_stock(&u.actor),
        dispose_form: DisposeForm::default(),
        dispose_errors: FormErrors::default(),
    })
}

/// A number as typed: empty is absent, anything unreadable is `-1` so it is refused.
fn num(form: &[(String, String)], k: &str) -> Option<i64> {
    let v = field(form, k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    Some(v.parse::<i64>().unwrap_or(-1))
}

/// `POST /stock/defective/dispose`: one row's form on the stock page.
pub async fn view_dispose_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = aftercare_domain::defective::DisposeInput {
        part_id: num(&form, "part_id"),
        warehouse_id: num(&form, "warehouse_id"),
        qty: num(&form, "qty"),
        outcome: field(&form, "outcome"),
        note: field(&form, "note").filter(|n| !n.trim().is_empty()),
    };
    let errors = match st.svc.dispose_defective(&u.actor, &input).await {
        Ok(_) => return Ok(Redirect::to("/stock?ok=defective_disposed#defective").into_response()),
        Err(aftercare_service::ServiceError::Insufficient { part, warehouse, on_hand }) => {
            FormErrors::message(u.tr.tf(
                "error.insufficient_stock",
                &[("part", &part), ("warehouse", &warehouse), ("on_hand", &on_hand.to_string())],
            ))
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut p = stock_page(&st, &u, None, None, None).await?;
    p.dispose_form = DisposeForm {
        part_id: input.part_id.unwrap_or_default(),
        warehouse_id: input.warehouse_id.unwrap_or_default(),
        qty: field(&form, "qty").unwrap_or_default(),
        outcome: field(&form, "outcome").unwrap_or_default(),
        note: field(&form, "note").unwrap_or_default(),
    };
    p.dispose_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}
