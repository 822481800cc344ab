//! Stock report pages (issue 5, §2.5(3)(4)): valuation with turnover, slow movers and
//! quality feedback (`/stock/valuation`), the stocktake count sheet for paper or phone
//! (`/stock/count`), and the catalogue's Excel export and import (`/parts/export.xlsx`,
//! `/parts/import`).

use super::PageQuery;
use super::import::{ImportKind, ImportPage, answer_upload};
use super::{Ctx, FormErrors, field, render};
use crate::AppState;
use crate::api::import::{XLSX, download};
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::WarehouseId;
use aftercare_domain::parts::fen_display;
use aftercare_service::ServiceError;
use aftercare_service::excel::table_to_xlsx_with;
use aftercare_service::parts::WarehouseRow;
use aftercare_service::stock_reports::CountLine;
use aftercare_service::stock_reports::{CountInput, CountLineInput, Failure, Quality, Valuation};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Default, Deserialize)]
pub struct PeriodForm {
    pub from: Option<String>,
    pub to: Option<String>,
}

fn date(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref().and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

#[derive(Template)]
#[template(path = "stock_valuation.html")]
pub struct ValuationPage {
    pub c: Ctx,
    pub v: Valuation,
    pub q: Quality,
}

impl ValuationPage {
    /// "共 91 件" / "91 units": the capital's unit count.
    pub fn units_total(&self) -> String {
        self.c.tr.tf("stock_reports.units_total", &[("n", &self.v.total_units.to_string())])
    }
    pub fn money(&self, fen: &i64) -> String {
        fen_display(*fen)
    }
    pub fn ratio(&self, v: &Option<f64>) -> String {
        v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
    }
    pub fn days(&self, v: &Option<f64>) -> String {
        v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "—".into())
    }
    pub fn rate(&self, f: &Failure) -> String {
        f.rate.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
    }
    pub fn or_none(&self, s: &str) -> String {
        if s.is_empty() { self.c.t("stock_reports.unknown") } else { s.to_owned() }
    }
}

pub async fn view_valuation_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<PeriodForm>,
) -> Result<Response, PageError> {
    let (from, to) = (date(&f.from), date(&f.to));
    // A period typed backwards is shown as the default rather than refused.
    let (from, to) = if from.zip(to).is_some_and(|(a, b)| a > b) { (None, None) } else { (from, to) };
    let v = st.svc.stock_valuation(&u.actor, from, to).await?;
    let q = st.svc.stock_quality(&u.actor, from, to).await?;
    let title = u.tr.t("stock_reports.valuation");
    let c = Ctx::new(&st, &u, "/stock", title.clone())
        .crumb(u.tr.t("stock.title"), "/stock")
        .crumb(title, "/stock/valuation");
    Ok(render(&ValuationPage { c, v, q }))
}

#[derive(Debug, Default, Deserialize)]
pub struct CountForm {
    pub warehouse: Option<String>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "stock_count.html")]
pub struct CountPage {
    pub c: Ctx,
    pub warehouses: Vec<WarehouseRow>,
    pub warehouse: Option<WarehouseRow>,
    pub lines: Vec<CountLine>,
    pub reason: String,
    /// What was typed per part, kept when the form comes back with errors.
    pub typed: HashMap<i64, String>,
    pub errors: FormErrors,
    pub ok: Option<String>,
    pub today: String,
}

impl CountPage {
    pub fn selected(&self, id: &i64) -> bool {
        self.warehouse.as_ref().is_some_and(|w| w.id == *id)
    }
    pub fn typed(&self, part: &i64) -> String {
        self.typed.get(part).cloned().unwrap_or_default()
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn done(&self, n: &str) -> String {
        self.c.tr.tf("stock_reports.count_done", &[("n", n)])
    }
}

async fn count_page(
    st: &AppState,
    u: &PageUser,
    warehouse_id: Option<i64>,
    reason: String,
    typed: HashMap<i64, String>,
    errors: FormErrors,
    ok: Option<String>,
) -> Result<CountPage, PageError> {
    let warehouses = st.svc.list_warehouses(&u.actor).await?;
    let warehouse = warehouse_id.and_then(|id| warehouses.iter().find(|w| w.id == id).cloned());
    let lines = match &warehouse {
        Some(w) => st.svc.count_sheet(&u.actor, WarehouseId(w.id)).await?,
        None => Vec::new(),
    };
    let title = u.tr.t("stock_reports.count");
    let c =
        Ctx::new(st, u, "/stock", title.clone()).crumb(u.tr.t("stock.title"), "/stock").crumb(title, "/stock/count");
    let today = chrono::Utc::now().with_timezone(&st.svc.tz).date_naive().to_string();
    Ok(CountPage { c, warehouses, warehouse, lines, reason, typed, errors, ok, today })
}

pub async fn view_count_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<CountForm>,
) -> Result<Response, PageError> {
    let wh = f.warehouse.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let ok = f.ok.filter(|s| s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty());
    let p = count_page(&st, &u, wh, String::new(), HashMap::new(), FormErrors::default(), ok).await?;
    Ok(render(&p))
}

/// The counts typed on the sheet: `counted_<part id>`; a box left empty was not counted.
pub async fn view_count_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let warehouse_id = field(&form, "warehouse_id").and_then(|s| s.trim().parse::<i64>().ok());
    let reason = field(&form, "reason").unwrap_or_default();
    let mut typed = HashMap::new();
    let mut lines = Vec::new();
    for (k, v) in &form {
        let Some(part) = k.strip_prefix("counted_").and_then(|p| p.parse::<i64>().ok()) else { continue };
        if v.trim().is_empty() {
            continue;
        }
        typed.insert(part, v.clone());
        // Not a whole number: out of range, so the message names the line.
        let counted = Some(v.trim().parse::<i64>().unwrap_or(-1));
        lines.push(CountLineInput { part_id: Some(part), counted });
    }
    let input = CountInput { warehouse_id, reason: Some(reason.clone()), lines: Some(lines) };
    let errors = match st.svc.post_count(&u.actor, &input).await {
        Ok(r) => {
            let to = format!("/stock/count?warehouse={}&ok={}", r.warehouse_id, r.adjustments.len());
            return Ok(Redirect::to(&to).into_response());
        }
        Err(ServiceError::Insufficient { part, warehouse, on_hand }) => FormErrors::message(u.tr.tf(
            "error.insufficient_stock",
            &[("part", &part), ("warehouse", &warehouse), ("on_hand", &on_hand.to_string())],
        )),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let p = count_page(&st, &u, warehouse_id, reason, typed, errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}

pub async fn view_parts_export_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    let table = st.svc.parts_table(&u.actor, u.tr.is_en()).await?;
    let name = u.tr.t("parts.title");
    let bytes = table_to_xlsx_with(&name, &table, &aftercare_service::Services::PARTS_NUMERIC)?;
    let stamp = chrono::Utc::now().with_timezone(&st.svc.tz).format("%Y%m%d");
    Ok(download(bytes, XLSX, &format!("{name}-{stamp}.xlsx")))
}

fn import_ctx(st: &AppState, u: &PageUser) -> Ctx {
    let title = u.tr.t("stock_reports.import");
    Ctx::new(st, u, "/stock", title.clone()).crumb(u.tr.t("parts.title"), "/parts").crumb(title, "/parts/import")
}

/// The catalogue's import starts from its own export: what is there, to edit and upload.
fn catalogue(u: &PageUser) -> ImportKind {
    ImportKind {
        heading: u.tr.t("stock_reports.import"),
        step1_text: u.tr.t("stock_reports.import_step1"),
        start_href: "/parts/export.xlsx",
        start_id: "parts-export-link",
        start_label: u.tr.t("action.export_xlsx"),
        action: "/parts/import",
        form_id: "parts-import-form",
    }
}

pub async fn view_parts_import_get(State(st): State<AppState>, u: PageUser) -> Result<Response, PageError> {
    Ok(render(&ImportPage::new(import_ctx(&st, &u), catalogue(&u))))
}

pub async fn view_parts_import_post(
    State(st): State<AppState>,
    u: PageUser,
    mp: Multipart,
) -> Result<Response, PageError> {
    let p = ImportPage::new(import_ctx(&st, &u), catalogue(&u));
    let (tr, actor) = (u.tr, u.actor.clone());
    answer_upload(&u, p, mp, |bytes| async move {
        let (created, updated) = st.svc.import_parts(&actor, &bytes).await?;
        Ok(tr.tf("stock_reports.import_done", &[("created", &created.to_string()), ("updated", &updated.to_string())]))
    })
    .await
}
