//! Requisition pages (领用单): the lists (mine / to approve / to issue), a new requisition
//! picked from the catalogue, one requisition with the actions open to the viewer, the
//! printable 领条, and the 《备件仓库领用记录表》 ledger report (print-ready and Excel).

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, PageId, Pager, field, render};
use crate::AppState;
use crate::api::import::{XLSX, download};
use crate::auth::PageUser;
use crate::error::{ApiError, PageError};
use aftercare_domain::FieldErrors;
use aftercare_domain::parts::fen_display;
use aftercare_domain::requisitions::{
    BORROW_DAYS, IssueLine, IssueType, ReqAction, ReqStatus, RequisitionInput, RequisitionLineInput, borrow_overdue,
    can_approve, can_issue, can_request, sees_all,
};
use aftercare_domain::{RequisitionId, TicketId, WarehouseId};
use aftercare_service::ServiceError;
use aftercare_service::parts::{Page, PartQuery, PartRow, WarehouseRow};
use aftercare_service::requisitions::{ActionInput, LedgerRow, RequisitionRow, RequisitionView, Scope};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;

/// Status and action words of this area, shared by the templates. An issued borrow is
/// "lent out" (已借出): it is still to come back.
fn status_label(c: &Ctx, r: &RequisitionRow) -> String {
    if r.lent_out() {
        return c.t("requisition.status.lent");
    }
    c.t(&format!("requisition.status.{}", r.status))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListForm {
    pub scope: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "requisitions.html")]
pub struct ListPage {
    pub c: Ctx,
    pub scope: &'static str,
    pub tabs: Vec<(&'static str, String)>,
    pub rows: Vec<RequisitionRow>,
    pub pager: Pager,
    pub can_request: bool,
}

impl ListPage {
    pub fn status(&self, r: &RequisitionRow) -> String {
        status_label(&self.c, r)
    }
    pub fn sclass(&self, s: &ReqStatus) -> &'static str {
        status_class(*s)
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "—".into())
    }
    /// A borrow out longer than [`BORROW_DAYS`]: "逾期 3 天" to chase, else empty.
    pub fn overdue(&self, r: &RequisitionRow) -> String {
        overdue_text(&self.c, r)
    }
}

/// "逾期 N 天" for an issued borrow past its days, else empty.
fn overdue_text(c: &Ctx, r: &RequisitionRow) -> String {
    match r.issued_at {
        Some(at) if r.lent_out() && borrow_overdue(at, Utc::now()) => {
            let late = (Utc::now() - at).num_days() - BORROW_DAYS;
            c.tr.tf("requisition.overdue", &[("days", &late.max(1).to_string())])
        }
        _ => String::new(),
    }
}

pub async fn view_requisitions_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<ListForm>,
) -> Result<Response, PageError> {
    let a = &u.actor;
    let mut tabs: Vec<(&'static str, String)> = Vec::new();
    if can_request(a) {
        tabs.push(("mine", u.tr.t("requisition.scope.mine")));
    }
    if can_approve(a) {
        tabs.push(("to_approve", u.tr.t("requisition.scope.to_approve")));
    }
    if can_issue(a) {
        tabs.push(("to_issue", u.tr.t("requisition.scope.to_issue")));
    }
    // Tools lent and not back: the storekeeper chases them, a technician sees his own.
    tabs.push(("borrowed", u.tr.t("requisition.scope.borrowed")));
    if sees_all(a) {
        tabs.push(("all", u.tr.t("requisition.scope.all")));
    }
    // The storekeeper's first job is the queue to approve; a technician's his own slips.
    let default = if can_approve(a) && !a.has(aftercare_domain::Role::Technician) { "to_approve" } else { "mine" };
    let wanted = f.scope.as_deref().unwrap_or(default);
    let scope_name = tabs.iter().map(|(k, _)| *k).find(|k| *k == wanted).unwrap_or("mine");
    let scope = Scope::parse(scope_name).unwrap_or_default();
    let page = Page::new(f.page, Some(50));
    let rows = st.svc.list_requisitions(a, scope, None, None, page).await?;
    let title = u.tr.t("requisition.title");
    let c = Ctx::new(&st, &u, "/requisitions", title.clone()).crumb(title, "/requisitions").flash_from(f.ok.as_deref());
    let pager = Pager::new("/requisitions", &[("scope", scope_name.to_string())], page, rows.total);
    Ok(render(&ListPage { c, scope: scope_name, tabs, rows: rows.items, pager, can_request: can_request(a) }))
}

/// The new-requisition form: what was typed, to show again after an error.
#[derive(Debug, Default, Clone)]
pub struct NewForm {
    pub warehouse_id: String,
    pub ticket_id: String,
    pub purpose: String,
    pub issue_type: String,
    /// (part id, quantity, serial no.) per row.
    pub lines: Vec<(String, String, String)>,
}

/// Empty rows offered on the form; a slip rarely has more.
const FORM_ROWS: usize = 6;

#[derive(Template)]
#[template(path = "requisition_new.html")]
pub struct NewPage {
    pub c: Ctx,
    pub warehouses: Vec<WarehouseRow>,
    pub parts: Vec<PartRow>,
    pub form: NewForm,
    pub errors: FormErrors,
}

impl NewPage {
    /// Whether the form asks to borrow (借用) rather than consume.
    pub fn is_borrow(&self) -> bool {
        IssueType::parse(&self.form.issue_type) == Some(IssueType::Borrow)
    }
    pub fn is(&self, a: &str, b: &i64) -> bool {
        a == b.to_string()
    }
    /// A line's part as the picker shows it: what was typed, or the label of a part given
    /// by id (a link from a ticket).
    pub fn part_text(&self, p: &str) -> String {
        match p.parse::<i64>().ok().and_then(|id| self.parts.iter().find(|x| x.id == id)) {
            Some(pt) => format!("{} {}", pt.code, pt.name),
            None => p.to_owned(),
        }
    }
    pub fn line_error(&self, i: &usize) -> String {
        ["part_id", "qty", "serial_no"]
            .iter()
            .filter_map(|f| {
                let k = format!("lines[{i}].{f}");
                self.errors
                    .has(&k)
                    .then(|| format!("{}{}{}", self.c.t(&format!("field.{f}")), self.c.tr.colon(), self.errors.get(&k)))
            })
            .collect::<Vec<_>>()
            .join(self.c.tr.part_sep())
    }
}

async fn new_page(st: &AppState, u: &PageUser, form: NewForm, errors: FormErrors) -> Result<NewPage, PageError> {
    let warehouses = st.svc.list_warehouses(&u.actor).await?.into_iter().filter(|w| w.active).collect();
    let q = PartQuery { active: Some(true), ..Default::default() };
    let parts = st.svc.list_parts(&u.actor, &q, Page::new(Some(1), Some(Page::MAX_PER_PAGE))).await?.items;
    let title = u.tr.t("requisition.new");
    let c = Ctx::new(st, u, "/requisitions", title.clone())
        .crumb(u.tr.t("requisition.title"), "/requisitions")
        .crumb(title, "/requisitions/new");
    Ok(NewPage { c, warehouses, parts, form, errors })
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    pub ticket_id: Option<String>,
}

pub async fn view_requisition_new_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<NewQuery>,
) -> Result<Response, PageError> {
    if !can_request(&u.actor) {
        return Err(ServiceError::Forbidden.into());
    }
    // Opened from a ticket: the field shows the ticket's number, as a person knows it.
    let ticket = match q.ticket_id.as_deref().and_then(|s| s.trim().parse::<i64>().ok()) {
        Some(id) => st.svc.get_ticket(&u.actor, TicketId(id)).await.map(|d| d.ticket.number).unwrap_or_default(),
        None => String::new(),
    };
    let mut form = NewForm { ticket_id: ticket, ..Default::default() };
    form.lines = vec![Default::default(); FORM_ROWS];
    Ok(render(&new_page(&st, &u, form, FormErrors::default()).await?))
}

pub async fn view_requisition_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(raw): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&raw, "_csrf").unwrap_or_default())?;
    let v = |k: &str| field(&raw, k).unwrap_or_default();
    let mut form = NewForm {
        warehouse_id: v("warehouse_id"),
        ticket_id: v("ticket_id"),
        purpose: v("purpose"),
        issue_type: v("issue_type"),
        lines: Vec::new(),
    };
    for i in 0..FORM_ROWS {
        form.lines.push((v(&format!("part_{i}")), v(&format!("qty_{i}")), v(&format!("serial_{i}"))));
    }
    let mut bad = FieldErrors::default();
    let num = |bad: &mut FieldErrors, name: String, s: &str| -> Option<i64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        s.parse::<i64>().map_err(|_| bad.push(name, "invalid")).ok()
    };
    let warehouse_id = num(&mut bad, "warehouse_id".into(), &form.warehouse_id);
    let ticket_id = match st.svc.pick_ticket(&u.actor, "ticket_id", &form.ticket_id).await {
        Ok(t) => t.map(i64::from),
        Err(ServiceError::Invalid(e)) => {
            bad.0.extend(e.0);
            None
        }
        Err(other) => return Err(other.into()),
    };
    // A row with neither a part nor a quantity is an unused row; the service numbers the
    // lines as sent, so errors name the rows that were filled in.
    let mut lines = Vec::new();
    for (p, q, s) in &form.lines {
        if p.trim().is_empty() && q.trim().is_empty() {
            continue;
        }
        let i = lines.len();
        // The part as people know it: its code, or the picker's "code name" label.
        let part_id = match st.svc.pick_part(&u.actor, &format!("lines[{i}].part_id"), p).await {
            Ok(id) => id.map(|p| p.0),
            Err(ServiceError::Invalid(e)) => {
                bad.0.extend(e.0);
                None
            }
            Err(other) => return Err(other.into()),
        };
        if part_id.is_none() && p.trim().is_empty() {
            bad.push(format!("lines[{i}].part_id"), "required");
        }
        lines.push(RequisitionLineInput {
            part_id,
            qty: num(&mut bad, format!("lines[{i}].qty"), q),
            serial_no: Some(s.clone()),
        });
    }
    let result = if bad.is_empty() {
        let input = RequisitionInput {
            warehouse_id,
            ticket_id,
            purpose: Some(form.purpose.clone()),
            issue_type: Some(form.issue_type.clone()),
            lines: Some(lines),
        };
        st.svc.create_requisition(&u.actor, &input).await
    } else {
        Err(bad.in_area("requisitions").into())
    };
    let errors = match result {
        Ok(d) => {
            return Ok(
                Redirect::to(&format!("/requisitions/{}?ok=requisition_created", d.requisition.id)).into_response()
            );
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let page = new_page(&st, &u, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "requisition.html")]
pub struct DetailPage {
    pub c: Ctx,
    pub d: RequisitionView,
    pub error: Option<String>,
}

impl DetailPage {
    pub fn overdue(&self) -> String {
        overdue_text(&self.c, &self.d.requisition)
    }
    pub fn status(&self) -> String {
        status_label(&self.c, &self.d.requisition)
    }
    pub fn sclass(&self) -> &'static str {
        status_class(self.d.requisition.status)
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "—".into())
    }
    pub fn when(&self, v: &Option<chrono::DateTime<Utc>>) -> String {
        v.as_ref().map(|t| self.c.dt(t)).unwrap_or_else(|| "—".into())
    }
    pub fn issued(&self, v: &Option<i64>) -> String {
        v.map(|q| q.to_string()).unwrap_or_else(|| "—".into())
    }
    pub fn money(&self, v: &Option<i64>) -> String {
        v.map(|f| format!("¥{}", fen_display(f))).unwrap_or_else(|| "—".into())
    }
    pub fn issue_type(&self) -> String {
        self.c.t(&format!("requisition.type.{}", self.d.requisition.issue_type))
    }
}

async fn detail_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    error: Option<String>,
) -> Result<DetailPage, PageError> {
    let d = st.svc.requisition_view(&u.actor, RequisitionId(id)).await?;
    let title = d.requisition.requisition_no.clone();
    let c = Ctx::new(st, u, "/requisitions", title.clone())
        .crumb(u.tr.t("requisition.title"), "/requisitions")
        .crumb(title, &format!("/requisitions/{id}"))
        .flash_from(ok);
    Ok(DetailPage { c, d, error })
}

pub async fn view_requisition_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(ok): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&detail_page(&st, &u, id, ok.ok.as_deref(), None).await?))
}

pub async fn view_requisition_act_post(
    State(st): State<AppState>,
    u: PageUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id: i64 = id.parse().map_err(|_| ServiceError::NotFound)?;
    let action = ReqAction::parse(&action).ok_or(ServiceError::NotFound)?;
    // The issue form has a `qty_<line id>` box per line.
    let mut bad = FieldErrors::default();
    let mut lines = Vec::new();
    for (k, v) in &form {
        if let Some(line) = k.strip_prefix("qty_").and_then(|s| s.parse::<i64>().ok()) {
            match v.trim().parse::<i64>() {
                Ok(qty) => lines.push(IssueLine { line_id: line, qty }),
                Err(_) => bad.push(format!("lines[{}].qty", lines.len()), "invalid"),
            }
        }
    }
    let input = ActionInput { note: field(&form, "note"), reason: field(&form, "reason"), lines };
    let result = if bad.is_empty() {
        st.svc.act_requisition(&u.actor, RequisitionId(id), action, &input).await
    } else {
        Err(bad.into())
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/requisitions/{id}?ok=requisition_{}", action.as_str())).into_response()),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Transition { .. } | ServiceError::Insufficient { .. })) => {
            let api = ApiError::from_service(u.tr, e);
            let page = detail_page(&st, &u, id, None, Some(api.body.message)).await?;
            Ok((api.status, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "print_requisition.html")]
pub struct PrintPage {
    pub c: Ctx,
    pub d: RequisitionView,
    pub printed_on: String,
    pub org: String,
    /// Half A4 (A5 landscape, two slips cut from one A4 sheet) instead of a full A4 page.
    pub a5: bool,
}

/// `?size=a5` prints the compact half-A4 slip; anything else (or nothing) is A4, so an old
/// or mistyped link still prints.
#[derive(Debug, Default, Deserialize)]
pub struct PrintForm {
    pub size: Option<String>,
}

impl PrintPage {
    pub fn day(&self, v: &Option<chrono::DateTime<Utc>>) -> String {
        v.as_ref().map(|t| t.with_timezone(&self.c.tz).format("%Y-%m-%d").to_string()).unwrap_or_default()
    }
    pub fn requested_on(&self) -> String {
        self.d.requisition.requested_at.with_timezone(&self.c.tz).format("%Y-%m-%d").to_string()
    }
    pub fn issued(&self, v: &Option<i64>) -> String {
        v.map(|q| q.to_string()).unwrap_or_default()
    }
    pub fn money(&self, v: &Option<i64>) -> String {
        v.map(fen_display).unwrap_or_default()
    }
    pub fn total(&self) -> String {
        let t: i64 = self.d.lines.iter().filter_map(|l| l.amount_fen).sum();
        if self.d.lines.iter().any(|l| l.amount_fen.is_some()) { fen_display(t) } else { String::new() }
    }
    pub fn is_type(&self, t: IssueType) -> &'static str {
        if self.d.requisition.issue_type == t { "☑" } else { "☐" }
    }
    pub fn status(&self) -> String {
        status_label(&self.c, &self.d.requisition)
    }
    /// Blank lines so the slip keeps its shape with few lines.
    pub fn blanks(&self) -> Vec<usize> {
        (self.d.lines.len()..5).collect()
    }
}

pub async fn view_requisition_print_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(f): PageQuery<PrintForm>,
) -> Result<Response, PageError> {
    let a5 = f.size.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("a5"));
    let d = st.svc.requisition_view(&u.actor, RequisitionId(id)).await?;
    let title = format!("{} {}", u.tr.t("requisition.slip"), d.requisition.requisition_no);
    let c = Ctx::new(&st, &u, "/requisitions", title);
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    let org = st.svc.company_name().await;
    Ok(render(&PrintPage { c, d, printed_on, org, a5 }))
}

#[derive(Debug, Default, Deserialize)]
pub struct LedgerForm {
    pub from: Option<String>,
    pub to: Option<String>,
    pub warehouse: Option<String>,
}

/// The period asked for: both ends as typed, or this month so far.
fn period(f: &LedgerForm, today: NaiveDate) -> Result<(NaiveDate, NaiveDate, Option<i64>), FieldErrors> {
    let mut e = FieldErrors::default();
    let mut date = |name: &str, v: &Option<String>, default: NaiveDate| match v.as_deref().map(str::trim) {
        None | Some("") => default,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
            e.push(name, "invalid_date");
            default
        }),
    };
    let first = today.with_day(1).unwrap_or(today);
    let from = date("from", &f.from, first);
    let to = date("to", &f.to, today);
    let warehouse = match f.warehouse.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => s.parse::<i64>().map_err(|_| e.push("warehouse", "invalid")).ok(),
    };
    if e.is_empty() { Ok((from, to, warehouse)) } else { Err(e) }
}

#[derive(Template)]
#[template(path = "print_ledger.html")]
pub struct LedgerPage {
    pub c: Ctx,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub warehouse: Option<i64>,
    pub warehouses: Vec<WarehouseRow>,
    pub rows: Vec<LedgerRow>,
    pub org: String,
    pub printed_on: String,
    pub xlsx: String,
}

impl LedgerPage {
    pub fn selected(&self, id: &i64) -> bool {
        self.warehouse == Some(*id)
    }
    pub fn warehouse_name(&self) -> String {
        self.warehouses
            .iter()
            .find(|w| Some(w.id) == self.warehouse)
            .map(|w| w.name.clone())
            .unwrap_or_else(|| self.c.t("stock.all_warehouses"))
    }
    pub fn at(&self, r: &LedgerRow) -> String {
        r.at.with_timezone(&self.c.tz).format("%m-%d %H:%M").to_string()
    }
    pub fn kind(&self, r: &LedgerRow) -> String {
        self.c.t(&format!("stock.kind.{}", r.kind))
    }
    pub fn cost(&self, fen: &i64) -> String {
        fen_display(*fen)
    }
    pub fn amount(&self, r: &LedgerRow) -> String {
        fen_display(r.unit_cost_fen.saturating_mul(r.qty))
    }
    pub fn opt(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
}

pub async fn view_ledger_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<LedgerForm>,
) -> Result<Response, PageError> {
    let today = Utc::now().with_timezone(&st.cfg.tz).date_naive();
    let (from, to, warehouse) = period(&f, today).map_err(ServiceError::from)?;
    let rows = st.svc.issue_ledger(&u.actor, from, to, warehouse.map(WarehouseId)).await?;
    let warehouses = st.svc.list_warehouses(&u.actor).await?;
    let title = u.tr.t("ledger.title");
    let c = Ctx::new(&st, &u, "/stock", title);
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    let xlsx = format!(
        "/stock/ledger.xlsx?from={from}&to={to}{}",
        warehouse.map(|w| format!("&warehouse={w}")).unwrap_or_default()
    );
    let org = st.svc.company_name().await;
    Ok(render(&LedgerPage { c, from, to, warehouse, warehouses, rows, org, printed_on, xlsx }))
}

pub async fn view_ledger_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<LedgerForm>,
) -> Result<Response, PageError> {
    let today = Utc::now().with_timezone(&st.cfg.tz).date_naive();
    let (from, to, warehouse) = period(&f, today).map_err(ServiceError::from)?;
    let tr = u.tr;
    let word = move |key: &str| tr.t(key);
    let (name, bytes) = st.svc.issue_ledger_xlsx(&u.actor, from, to, warehouse.map(WarehouseId), &word).await?;
    Ok(download(bytes, XLSX, &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_defaults_to_this_month() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        let (from, to, w) = period(&LedgerForm::default(), today).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((from.to_string(), to.to_string(), w), ("2026-11-01".into(), "2026-11-27".into(), None));
        let f = LedgerForm { from: Some("2026-13-01".into()), to: None, warehouse: Some("x".into()) };
        assert_eq!(period(&f, today).err().map(|e| e.0.len()), Some(2));
    }
}

/// The colour of a status pill.
pub fn status_class(s: ReqStatus) -> &'static str {
    match s {
        ReqStatus::Requested => "tstatus-new",
        ReqStatus::Approved => "tstatus-scheduled",
        ReqStatus::Issued => "tstatus-closed",
        ReqStatus::Returned => "tstatus-resolved",
        ReqStatus::Rejected | ReqStatus::Cancelled => "tstatus-cancelled",
    }
}
