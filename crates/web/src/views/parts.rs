//! Spare parts pages: the catalogue (`/parts`) and on-hand stock by warehouse (`/stock`),
//! with the disposal form for defective parts and the storekeeper's movement forms
//! (receipt, transfer, adjustment, return, scrap). Issues go through requisitions and
//! visits, so the stock page offers no bare issue form.

use super::PageQuery;
use super::{Ctx, FormErrors, Pager, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::defective::Outcome;
use aftercare_domain::parts::{AdjustDirection, MovementInput, MovementKind, WarehouseKind, fen_display};
use aftercare_domain::{FieldErrors, WarehouseId};
use aftercare_service::ServiceError;
use aftercare_service::parts::{Page, PartQuery, PartRow, StockRow, WarehouseRow};
use askama::Template;
use axum::Form;
use axum::extract::State;
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
        fen_display(*fen)
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
    PageQuery(f): PageQuery<PartsForm>,
) -> Result<Response, PageError> {
    let page = Page::new(f.page, Some(50));
    let q = f.q.clone().unwrap_or_default();
    let query = PartQuery { q: Some(q.clone()).filter(|s| !s.trim().is_empty()), ..Default::default() };
    let rows = st.svc.list_parts(&u.actor, &query, page).await?;
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
    /// The movement forms: shown only to those who may post every kind.
    pub can_post: bool,
    /// Active parts for the part picker (empty unless `can_post`).
    pub parts: Vec<PartRow>,
    pub move_form: MoveForm,
    pub move_errors: FormErrors,
}

/// What was typed into one of the movement forms, kept when it is refused.
#[derive(Debug, Default)]
pub struct MoveForm {
    /// `None` when the form named no kind the page offers.
    pub kind: Option<MovementKind>,
    pub values: Vec<(String, String)>,
}

/// The kinds the stock page's forms post. Issues go through requisitions and visits, and
/// defective returns through visits, so they have no bare form here.
pub const MOVE_KINDS: [MovementKind; 5] = [
    MovementKind::Receipt,
    MovementKind::Transfer,
    MovementKind::Adjustment,
    MovementKind::Return,
    MovementKind::Scrap,
];

impl StockPage {
    /// Whether the refused movement form is this kind's (so it opens with its errors).
    pub fn move_open(&self, kind: &MovementKind) -> bool {
        self.move_errors.any() && self.move_form.kind == Some(*kind)
    }
    /// The value typed into a refused form of this kind, else empty.
    pub fn move_val(&self, kind: &MovementKind, name: &str) -> String {
        if self.move_open(kind) { field(&self.move_form.values, name).unwrap_or_default() } else { String::new() }
    }
    pub fn move_has(&self, kind: &MovementKind, name: &str) -> bool {
        self.move_open(kind) && self.move_errors.has(name)
    }
    pub fn move_err(&self, kind: &MovementKind, name: &str) -> String {
        if self.move_open(kind) { self.move_errors.get(name) } else { String::new() }
    }
    /// Whether `id` is chosen in a select: as typed in a refused form, else the warehouse
    /// the page is filtered on (the storekeeper usually posts into the one he looks at).
    pub fn move_sel(&self, kind: &MovementKind, name: &str, id: &i64) -> bool {
        if self.move_open(kind) {
            return self.move_val(kind, name).trim() == id.to_string();
        }
        name == "warehouse_id" && self.warehouse_id == Some(*id)
    }
    pub fn move_kinds(&self) -> [MovementKind; 5] {
        MOVE_KINDS
    }
    pub fn kind_label(&self, kind: &MovementKind) -> String {
        self.c.tr.t(&format!("move.kind.{kind}"))
    }
    /// The warehouse a movement of this kind takes from or puts into.
    pub fn wh_label(&self, kind: &MovementKind) -> String {
        self.c.tr.t(if *kind == MovementKind::Transfer { "move.from_warehouse" } else { "field.warehouse_id" })
    }
    /// A receipt's note names the supplier; an adjustment's is its required reason.
    pub fn note_label(&self, kind: &MovementKind) -> String {
        match kind {
            MovementKind::Receipt => self.c.tr.t("move.supplier_note"),
            MovementKind::Adjustment => format!("{} *", self.c.tr.t("field.reason")),
            _ => self.c.tr.t("field.note"),
        }
    }
    /// The name the note's error goes by (see [`adjustment_fields`]).
    pub fn note_field(&self, kind: &MovementKind) -> &'static str {
        if *kind == MovementKind::Adjustment { "reason" } else { "note" }
    }
    /// A transfer names the warehouse it goes to.
    pub fn is_transfer(&self, kind: &MovementKind) -> bool {
        *kind == MovementKind::Transfer
    }
    /// An adjustment has a direction and a required reason.
    pub fn is_adjustment(&self, kind: &MovementKind) -> bool {
        *kind == MovementKind::Adjustment
    }
    /// A receipt brings its purchase price.
    pub fn is_receipt(&self, kind: &MovementKind) -> bool {
        *kind == MovementKind::Receipt
    }
    pub fn directions(&self) -> &'static [AdjustDirection] {
        AdjustDirection::ALL
    }
    pub fn dir_sel(&self, kind: &MovementKind, d: &AdjustDirection) -> bool {
        self.move_val(kind, "direction") == d.as_str()
    }
    pub fn outcomes(&self) -> &'static [Outcome] {
        Outcome::ALL
    }
    /// Whether the refused disposal form belongs to this row.
    pub fn is_refused(&self, r: &StockRow) -> bool {
        self.dispose_errors.any()
            && self.dispose_form.part_id == r.part_id
            && self.dispose_form.warehouse_id == r.warehouse_id
    }
    pub fn outcome_selected(&self, r: &StockRow, o: &Outcome) -> bool {
        self.is_refused(r) && self.dispose_form.outcome == o.as_str()
    }
    pub fn cost(&self, fen: &i64) -> String {
        fen_display(*fen)
    }
    pub fn value(&self, r: &StockRow) -> String {
        fen_display(r.avg_cost_fen.saturating_mul(r.on_hand))
    }
    pub fn low(&self, r: &StockRow) -> bool {
        r.min_qty > 0 && r.on_hand < r.min_qty
    }
    pub fn selected(&self, id: &i64) -> bool {
        self.warehouse_id == Some(*id)
    }
    pub fn kind(&self, k: &WarehouseKind) -> String {
        self.c.tr.t(&format!("warehouse.kind.{k}"))
    }
}

pub async fn view_stock_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<StockForm>,
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
    let page = Page::new(page, Some(100));
    let warehouses = st.svc.list_warehouses(&u.actor).await?;
    let rows = st.svc.stock(&u.actor, None, warehouse_id.map(WarehouseId), page).await?;
    let defective = st.svc.defective_stock(&u.actor, warehouse_id.map(WarehouseId)).await?;
    let can_post = aftercare_domain::parts::can_manage_stock(&u.actor);
    let parts = if can_post {
        let q = PartQuery { active: Some(true), ..Default::default() };
        st.svc.list_parts(&u.actor, &q, Page::all()).await?.items
    } else {
        Vec::new()
    };
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
        can_post,
        parts,
        move_form: MoveForm::default(),
        move_errors: FormErrors::default(),
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
                "error.insufficient_defective",
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

/// An adjustment's note is its reason and its direction is increase/decrease: name them so.
fn adjustment_fields(mut fe: FieldErrors) -> FieldErrors {
    for x in &mut fe.0 {
        match x.field.as_str() {
            "note" => x.field = "reason".to_owned(),
            "direction" => x.field = "adjust_direction".to_owned(),
            _ => {}
        }
    }
    fe
}

/// `POST /stock/movements`: one of the movement forms on the stock page (storekeeper,
/// manager, admin). A refused form shows the page again with its errors, nothing posted.
pub async fn view_movement_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    // A technician may post returns through the API (from his vehicle), but these forms
    // are the storekeeper's desk.
    if !aftercare_domain::parts::can_manage_stock(&u.actor) {
        return Err(ServiceError::Forbidden.into());
    }
    let kind = field(&form, "kind").unwrap_or_default();
    let move_kind = MovementKind::parse(&kind).filter(|k| MOVE_KINDS.contains(k));
    let text = |k: &str| field(&form, k).filter(|v| !v.trim().is_empty());
    let mut bad = FieldErrors::default();
    if move_kind.is_none() {
        bad.push("kind", "unknown_value");
    }
    // Yuan as typed, with or without the sign; the domain turns it into fen.
    let unit_cost = text("unit_cost").and_then(|v| {
        let v = v.trim().trim_start_matches(['¥', '￥']).trim().to_owned();
        v.parse::<f64>().map_err(|_| bad.push("unit_cost", "invalid")).ok()
    });
    let input = MovementInput {
        kind: Some(kind.clone()),
        part_id: num(&form, "part_id"),
        warehouse_id: num(&form, "warehouse_id"),
        qty: num(&form, "qty"),
        to_warehouse_id: num(&form, "to_warehouse_id"),
        direction: text("direction"),
        unit_cost,
        note: text("note"),
        ..Default::default()
    };
    let result =
        if bad.is_empty() { st.svc.post_movement(&u.actor, &input).await } else { Err(bad.in_area("stock").into()) };
    let errors = match result {
        Ok(m) => {
            let to = format!(
                "/stock?warehouse_id={}&ok=movement_posted#stock-{}-{}",
                m.warehouse_id, m.part_id, m.warehouse_id
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Err(ServiceError::Insufficient { part, warehouse, on_hand }) => FormErrors::message(u.tr.tf(
            "error.insufficient_stock",
            &[("part", &part), ("warehouse", &warehouse), ("on_hand", &on_hand.to_string())],
        )),
        Err(ServiceError::Invalid(fe)) if move_kind == Some(MovementKind::Adjustment) => {
            FormErrors::from_fields(u.tr, &adjustment_fields(fe))
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut p = stock_page(&st, &u, num(&form, "view_warehouse"), None, None).await?;
    // The page comes back as it was: filtered on the warehouse the storekeeper was looking at.
    p.move_form = MoveForm { kind: move_kind, values: form.into_iter().filter(|(k, _)| k != "_csrf").collect() };
    p.move_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}
