//! Equipment pages: the filtered, sortable, paged list; a piece's page with its history;
//! the create/edit form.

use super::PageQuery;
use super::{Ctx, FormErrors, PageId, Pager, field, form_errors, render, sort_link};
use crate::AppState;
use crate::api::equipment::EquipmentParams;
use crate::api::import::table_response;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::equipment::{EquipmentInput, WarrantyState, warranty_state};
use aftercare_domain::{CustomerId, EquipmentId};
use aftercare_service::equipment::{
    AuditEntry, CustomerQuery, CustomerRow, EquipmentPartRow, EquipmentRow, Page, TicketRow, VisitRow,
};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// The list's filters as they arrive from the page's form (all text, so an empty select
/// is simply no filter).
#[derive(Debug, Default, Deserialize)]
pub struct ListForm {
    pub q: Option<String>,
    pub customer_id: Option<String>,
    pub town: Option<String>,
    pub system: Option<String>,
    pub status: Option<String>,
    pub critical: Option<String>,
    pub warranty: Option<String>,
    pub sort: Option<String>,
    pub desc: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub ok: Option<String>,
    pub format: Option<String>,
}

impl ListForm {
    fn params(&self) -> EquipmentParams {
        EquipmentParams {
            q: self.q.clone(),
            customer_id: self.customer_id.as_deref().and_then(|s| s.parse().ok()),
            town: self.town.clone(),
            system: self.system.clone(),
            status: self.status.clone(),
            critical: matches!(self.critical.as_deref(), Some("true" | "1" | "on")).then_some(true),
            warranty: self.warranty.clone(),
            sort: self.sort.clone(),
            desc: Some(self.desc.as_deref() == Some("true")),
            page: self.page,
            per_page: self.per_page,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("q", s(&self.q)),
            ("customer_id", s(&self.customer_id)),
            ("town", s(&self.town)),
            ("system", s(&self.system)),
            ("status", s(&self.status)),
            ("critical", s(&self.critical)),
            ("warranty", s(&self.warranty)),
            ("sort", s(&self.sort)),
            ("desc", s(&self.desc)),
        ]
    }
}

pub struct Row {
    pub e: EquipmentRow,
    pub warranty: &'static str,
}

fn warranty_class(w: WarrantyState) -> &'static str {
    match w {
        WarrantyState::Unknown => "unknown",
        WarrantyState::Valid => "valid",
        WarrantyState::Expiring => "expiring",
        WarrantyState::Expired => "expired",
    }
}

#[derive(Template)]
#[template(path = "equipment_list.html")]
pub struct EquipmentListPage {
    pub c: Ctx,
    pub rows: Vec<Row>,
    pub f: ListForm,
    pub towns: Vec<(String, String)>,
    pub customer_name: Option<String>,
    pub pager: Pager,
    pub sort_links: Vec<(&'static str, String)>,
    pub export_xlsx: String,
    pub export_csv: String,
    pub clear_customer: String,
}

impl EquipmentListPage {
    pub fn sort_href(&self, key: &str) -> String {
        self.sort_links.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    pub fn sel(&self, v: &Option<String>, want: &str) -> bool {
        v.as_deref() == Some(want)
    }
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn systems(&self) -> Vec<&'static str> {
        aftercare_domain::System::ALL.iter().map(|s| s.as_str()).collect()
    }
    pub fn statuses(&self) -> Vec<&'static str> {
        aftercare_domain::equipment::EquipmentStatus::ALL.iter().map(|s| s.as_str()).collect()
    }
    pub fn warranty_key(&self, w: &str) -> String {
        format!("warranty.{w}")
    }
}

pub async fn view_equipment_list_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<ListForm>,
) -> Result<Response, PageError> {
    let p = f.params();
    let page = p.page();
    let today = chrono::Utc::now().date_naive();
    let rows = st.svc.list_equipment(&u.actor, p.query(), page).await?;
    let towns = st.svc.towns(&u.actor).await?;
    let customer_name = match p.customer_id {
        Some(id) => Some(st.svc.get_customer(&u.actor, CustomerId(id)).await?.customer.name),
        None => None,
    };
    let pairs = f.pairs();
    let desc = f.desc.as_deref() == Some("true");
    let sort_links = ["serial", "customer", "system", "kind", "installed", "warranty", "status"]
        .into_iter()
        .map(|k| (k, sort_link("/equipment", &pairs, k, f.sort.as_deref(), desc)))
        .collect();
    let mut ex = pairs.clone();
    ex.push(("format", "xlsx".into()));
    let export_xlsx = super::query_url("/equipment/export", &ex);
    ex.pop();
    ex.push(("format", "csv".into()));
    let export_csv = super::query_url("/equipment/export", &ex);
    let clear_customer =
        super::query_url("/equipment", &pairs.iter().filter(|(k, _)| *k != "customer_id").cloned().collect::<Vec<_>>());
    let title = if u.actor.is_staff() { u.tr.t("nav.equipment") } else { u.tr.t("nav.my_equipment") };
    let c = Ctx::new(&st, &u, "/equipment", title.clone()).crumb(title, "/equipment").flash_from(f.ok.as_deref());
    let pager = Pager::of("/equipment", &pairs, page, &rows);
    let rows = rows
        .items
        .into_iter()
        .map(|e| Row { warranty: warranty_class(warranty_state(e.warranty_until, today)), e })
        .collect();
    Ok(render(&EquipmentListPage {
        c,
        pager,
        rows,
        f,
        towns,
        customer_name,
        sort_links,
        export_xlsx,
        export_csv,
        clear_customer,
    }))
}

pub async fn view_equipment_export_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<ListForm>,
) -> Result<Response, PageError> {
    let table = st.svc.equipment_table(&u.actor, f.params().query(), u.tr.is_en()).await?;
    table_response(&table, f.format.as_deref(), &u.tr.t("nav.equipment"), st.svc.tz).map_err(PageError::from)
}

/// One change in the history: which fields went from what to what.
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

pub struct HistoryItem {
    pub entry: AuditEntry,
    pub changes: Vec<Change>,
}

/// The fields that differ between an entry's before and after.
pub fn changes(tr: crate::Tr, e: &AuditEntry) -> Vec<Change> {
    let parse = |s: &Option<String>| {
        s.as_deref().and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()).unwrap_or_default()
    };
    let (b, a) = (parse(&e.before_json), parse(&e.after_json));
    let Some(after) = a.as_object() else {
        return Vec::new();
    };
    // Values read as the pages show them: 在用, not in_service.
    let show = |k: &str, v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "—".to_owned(),
        Some(serde_json::Value::String(s)) if k == "status" => tr.status(s),
        Some(serde_json::Value::String(s)) if k == "system" => tr.system(s),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Bool(b)) => tr.t(if *b { "value.yes" } else { "value.no" }),
        Some(v) => v.to_string(),
    };
    after
        .iter()
        .filter(|(k, v)| b.get(k.as_str()) != Some(v) && k.as_str() != "contacts")
        .map(|(k, v)| Change { field: tr.field(k), before: show(k, b.get(k.as_str())), after: show(k, Some(v)) })
        .collect()
}

#[derive(Template)]
#[template(path = "equipment.html")]
pub struct EquipmentPage {
    pub c: Ctx,
    pub e: EquipmentRow,
    pub warranty: &'static str,
    pub history: Vec<HistoryItem>,
    pub tickets: Vec<TicketRow>,
    pub visits: Vec<VisitRow>,
    /// Parts fitted to and taken out of it over its life (staff only).
    pub parts: Vec<EquipmentPartRow>,
    pub suggestions: Vec<aftercare_service::suggestions::SuggestionRow>,
    pub can_suggest: bool,
    pub inspection_lines: Vec<aftercare_service::inspections::EquipmentLineRow>,
    pub errors: FormErrors,
}

impl EquipmentPage {
    pub fn warranty_key(&self) -> String {
        format!("warranty.{}", self.warranty)
    }
    pub fn part_kind_key(&self, kind: &str) -> String {
        match kind {
            "issue" | "defective_return" => format!("visit_parts.kind.{kind}"),
            _ => "visit_parts.kind.other".into(),
        }
    }
}

pub async fn view_equipment_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(f): PageQuery<ListForm>,
) -> Result<Response, PageError> {
    Ok(render(&equipment_page(&st, &u, id, f.ok.as_deref(), FormErrors::default()).await?))
}

/// The equipment page again with a form's problem (422).
pub async fn equipment_page_with(
    st: &AppState,
    u: &PageUser,
    id: i64,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let page = equipment_page(st, u, id, None, errors).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

async fn equipment_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    errors: FormErrors,
) -> Result<EquipmentPage, PageError> {
    let v = st.svc.equipment_view(&u.actor, EquipmentId(id)).await?;
    let e = v.equipment;
    let history = v
        .history
        .into_iter()
        .map(|entry| HistoryItem {
            changes: if entry.action == "update" { changes(u.tr, &entry) } else { Vec::new() },
            entry,
        })
        .collect();
    let warranty = warranty_class(v.warranty);
    let c = Ctx::new(st, u, "/equipment", format!("{} {}", e.kind, e.serial_no))
        .crumb(u.tr.t("nav.equipment"), "/equipment")
        .crumb(e.customer_name.clone(), &format!("/customers/{}", e.customer_id))
        .crumb(e.serial_no.clone(), &format!("/equipment/{id}"))
        .flash_from(ok);
    let (tickets, visits, parts) = (v.tickets, v.visits, v.parts);
    Ok(EquipmentPage {
        c,
        e,
        warranty,
        history,
        tickets,
        visits,
        parts,
        suggestions: v.suggestions,
        can_suggest: v.can_suggest,
        inspection_lines: v.inspection_lines,
        errors,
    })
}

#[derive(Template)]
#[template(path = "equipment_form.html")]
pub struct EquipmentFormPage {
    pub c: Ctx,
    pub action: String,
    pub input: EquipmentInput,
    pub version: i64,
    pub errors: FormErrors,
    pub customers: Vec<CustomerRow>,
    pub kinds: Vec<&'static str>,
}

impl EquipmentFormPage {
    pub fn v(&self, s: &Option<String>) -> String {
        s.clone().unwrap_or_default()
    }
    pub fn is_customer(&self, id: &i64) -> bool {
        self.input.customer_id == Some(CustomerId(*id))
    }
    pub fn is_system(&self, s: &str) -> bool {
        self.input.system.as_deref() == Some(s)
    }
    pub fn is_status(&self, s: &str) -> bool {
        self.input.status.as_deref().unwrap_or("in_service") == s
    }
}

/// Common kinds offered while typing (any text is allowed).
const KINDS: &[&str] = &[
    "核心交换机",
    "接入交换机",
    "路由器",
    "防火墙",
    "无线AP",
    "光纤收发器",
    "服务器",
    "存储",
    "UPS",
    "精密空调",
    "机柜",
    "网络摄像机",
    "NVR",
    "监控硬盘",
    "拼接屏",
    "交互式一体机",
    "投影机",
    "电子白板",
    "教师电脑",
    "中控",
    "功放",
    "展台",
    "云桌面服务器",
    "云终端",
    "IP广播主机",
    "音柱",
    "IP网络广播终端",
];

fn parse_form(form: &[(String, String)]) -> EquipmentInput {
    let g = |k: &str| field(form, k).filter(|s| !s.trim().is_empty());
    EquipmentInput {
        customer_id: g("customer_id").and_then(|s| s.parse().ok()).map(CustomerId),
        system: g("system"),
        kind: g("kind"),
        brand: g("brand"),
        model: g("model"),
        serial_no: g("serial_no"),
        location: g("location"),
        installed_on: g("installed_on"),
        warranty_until: g("warranty_until"),
        critical: Some(g("critical").is_some()),
        status: g("status"),
    }
}

async fn form_page(
    st: &AppState,
    u: &PageUser,
    title: String,
    action: String,
    input: EquipmentInput,
    version: i64,
    errors: FormErrors,
) -> Result<EquipmentFormPage, PageError> {
    let customers = st
        .svc
        .list_customers(&u.actor, CustomerQuery { sort: Some("town".into()), ..Default::default() }, Page::all())
        .await?
        .items;
    let c =
        Ctx::new(st, u, "/equipment", title.clone()).crumb(u.tr.t("nav.equipment"), "/equipment").crumb(title, &action);
    Ok(EquipmentFormPage { c, action, input, version, errors, customers, kinds: KINDS.to_vec() })
}

#[derive(Deserialize)]
pub struct NewParams {
    pub customer_id: Option<i64>,
}

pub async fn view_equipment_new_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<NewParams>,
) -> Result<Response, PageError> {
    if !u.actor.can_edit_installed_base() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let input = EquipmentInput { customer_id: q.customer_id.map(CustomerId), ..Default::default() };
    let page =
        form_page(&st, &u, u.tr.t("equipment.new"), "/equipment/new".into(), input, 0, FormErrors::default()).await?;
    Ok(render(&page))
}

pub async fn view_equipment_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = parse_form(&form);
    let errors = match st.svc.create_equipment(&u.actor, &input).await {
        Ok(e) => {
            return Ok(Redirect::to(&format!("/equipment/{}?ok=created", e.id)).into_response());
        }
        Err(e) => form_errors(u.tr, e)?,
    };
    let page = form_page(&st, &u, u.tr.t("equipment.new"), "/equipment/new".into(), input, 0, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_equipment_edit_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    if !u.actor.can_edit_installed_base() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let e = st.svc.get_equipment(&u.actor, EquipmentId(id)).await?;
    let input = EquipmentInput {
        customer_id: Some(CustomerId(e.customer_id)),
        system: Some(e.system.as_str().into()),
        kind: Some(e.kind.clone()),
        brand: e.brand.clone(),
        model: e.model.clone(),
        serial_no: Some(e.serial_no.clone()),
        location: e.location.clone(),
        installed_on: e.installed_on.map(|d| d.to_string()),
        warranty_until: e.warranty_until.map(|d| d.to_string()),
        critical: Some(e.critical),
        status: Some(e.status.as_str().into()),
    };
    let title = format!("{} · {}", u.tr.t("action.edit"), e.serial_no);
    let page =
        form_page(&st, &u, title, format!("/equipment/{id}/edit"), input, e.version, FormErrors::default()).await?;
    Ok(render(&page))
}

pub async fn view_equipment_edit_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = parse_form(&form);
    let version = field(&form, "version").and_then(|v| v.parse::<i64>().ok());
    let errors = match st.svc.update_equipment(&u.actor, EquipmentId(id), version, &input).await {
        Ok(_) => return Ok(Redirect::to(&format!("/equipment/{id}?ok=saved")).into_response()),
        Err(e) => form_errors(u.tr, e)?,
    };
    let title = format!("{} · {}", u.tr.t("action.edit"), input.serial_no.clone().unwrap_or_default());
    let page = form_page(&st, &u, title, format!("/equipment/{id}/edit"), input, version.unwrap_or(0), errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
