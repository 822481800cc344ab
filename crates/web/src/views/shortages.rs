//! The shortages page (`/stock/shortages`): open shortage alerts with their acknowledgement,
//! the purchase suggestion (采购建议), and the reserve quota form of one stock row
//! (储备定额, reached from the row's link on `/stock`).

use super::PageQuery;
use super::{Ctx, FormErrors, PageId, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::parts::WarehouseKind;
use aftercare_domain::parts::fen_display;
use aftercare_domain::shortages::{QuotaInput, can_manage_quotas};
use aftercare_domain::{PartId, ShortageId, WarehouseId};
use aftercare_service::parts::{Page, StockRow, WarehouseRow};
use aftercare_service::shortages::{AlertRow, Suggestion};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

const PATH: &str = "/stock/shortages";

#[derive(Debug, Default, Deserialize)]
pub struct ShortagesParams {
    pub warehouse_id: Option<String>,
    /// With `warehouse_id`: the stock row whose quota the form edits.
    pub part_id: Option<String>,
    pub ok: Option<String>,
}

/// The quota form's values, as saved or as typed.
#[derive(Default, Clone)]
pub struct QuotaForm {
    pub min_qty: String,
    pub max_qty: String,
}

#[derive(Template)]
#[template(path = "shortages.html")]
pub struct ShortagesPage {
    pub c: Ctx,
    pub can_manage: bool,
    pub warehouses: Vec<WarehouseRow>,
    pub warehouse_id: Option<i64>,
    pub alerts: Vec<AlertRow>,
    pub suggestions: Vec<Suggestion>,
    /// The stock row being given a quota, when one was picked.
    pub quota_row: Option<StockRow>,
    pub quota_form: QuotaForm,
    pub quota_errors: FormErrors,
}

impl ShortagesPage {
    pub fn selected(&self, id: &i64) -> bool {
        self.warehouse_id == Some(*id)
    }
    pub fn kind(&self, k: &WarehouseKind) -> String {
        self.c.tr.t(&format!("warehouse.kind.{k}"))
    }
    pub fn at(&self, t: &chrono::DateTime<Utc>) -> String {
        t.with_timezone(&self.c.tz).format("%Y-%m-%d %H:%M").to_string()
    }
    pub fn opt(&self, v: &Option<i64>) -> String {
        v.map(|m| m.to_string()).unwrap_or_else(|| "—".into())
    }
    pub fn value(&self, s: &Suggestion) -> String {
        fen_display(s.row.unit_cost_fen.saturating_mul(s.order_qty))
    }
    pub fn total_value(&self) -> String {
        fen_display(self.suggestions.iter().map(|s| s.row.unit_cost_fen.saturating_mul(s.order_qty)).sum())
    }
}

fn id_of(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|v| v.trim().parse::<i64>().ok())
}

async fn page(
    st: &AppState,
    u: &PageUser,
    warehouse_id: Option<i64>,
    quota_of: Option<(i64, i64)>,
    ok: Option<&str>,
) -> Result<ShortagesPage, PageError> {
    let warehouses = st.svc.list_warehouses(&u.actor).await?;
    let alerts = st.svc.shortages(&u.actor, true, warehouse_id.map(WarehouseId)).await?;
    let suggestions = st.svc.purchase_suggestions(&u.actor, warehouse_id.map(WarehouseId), Utc::now()).await?;
    let quota_row = match quota_of {
        Some((p, w)) => {
            st.svc.stock(&u.actor, Some(PartId(p)), Some(WarehouseId(w)), Page::new(None, None)).await?.items.pop()
        }
        None => None,
    };
    let quota_form = quota_row
        .as_ref()
        .map(|r| QuotaForm {
            min_qty: r.min_qty.to_string(),
            max_qty: r.max_qty.map(|m| m.to_string()).unwrap_or_default(),
        })
        .unwrap_or_default();
    let title = u.tr.t("shortage.title");
    let stock = u.tr.t("stock.title");
    let c = Ctx::new(st, u, "/stock", title.clone()).crumb(stock, "/stock").crumb(title, PATH).flash_from(ok);
    Ok(ShortagesPage {
        c,
        can_manage: can_manage_quotas(&u.actor),
        warehouses,
        warehouse_id,
        alerts,
        suggestions,
        quota_row,
        quota_form,
        quota_errors: FormErrors::default(),
    })
}

pub async fn view_shortages_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<ShortagesParams>,
) -> Result<Response, PageError> {
    let warehouse_id = id_of(&q.warehouse_id);
    let quota_of = id_of(&q.part_id).zip(warehouse_id);
    Ok(render(&page(&st, &u, warehouse_id, quota_of, q.ok.as_deref()).await?))
}

/// A whole number typed on the form; empty is none, anything else unreadable is -1 so
/// that validation names the field.
fn qty(form: &[(String, String)], k: &str) -> Option<i64> {
    let v = field(form, k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    Some(v.parse::<i64>().unwrap_or(-1))
}

pub async fn view_quota_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let part_id = qty(&form, "part_id");
    let warehouse_id = qty(&form, "warehouse_id");
    let input = QuotaInput { part_id, warehouse_id, min_qty: qty(&form, "min_qty"), max_qty: qty(&form, "max_qty") };
    let errors = match st.svc.set_quota(&u.actor, &input).await {
        Ok(r) => {
            return Ok(Redirect::to(&format!(
                "{PATH}?ok=quota_saved&part_id={}&warehouse_id={}#quota",
                r.part_id, r.warehouse_id
            ))
            .into_response());
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut p = page(&st, &u, warehouse_id, part_id.zip(warehouse_id), None).await?;
    p.quota_form = QuotaForm {
        min_qty: field(&form, "min_qty").unwrap_or_default(),
        max_qty: field(&form, "max_qty").unwrap_or_default(),
    };
    p.quota_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}

pub async fn view_acknowledge_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    st.svc.acknowledge_shortage(&u.actor, ShortageId(id)).await?;
    Ok(Redirect::to(&format!("{PATH}?ok=shortage_acknowledged#shortage-{id}")).into_response())
}
