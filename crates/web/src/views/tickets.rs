//! Work-order pages: the list with views and filters, a new ticket, a ticket's page with
//! the actions the user may take, the visit form with the signature pad, the technician's
//! "today", the callback queue, and the notifications.

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, PageId, Pager, field, fields, render};
use crate::AppState;
use crate::api::tickets::TicketParams;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::Role;
use aftercare_domain::tickets::{DiagnoseInput, SignatureInput, TicketInput, TicketStatus, VisitInput};
use aftercare_service::Page;
use aftercare_service::ServiceError;
use aftercare_service::assessments::NotificationRow;
use aftercare_service::equipment::{EquipmentQuery, EquipmentRow};
use aftercare_service::taxonomy::SubcategoryRow;
use aftercare_service::tickets::{ActionBody, TicketDetail};
use aftercare_service::tickets::{EventRow, TicketRow};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// How much time is left on a ticket's clocks, for the colour in lists.
pub struct Sla {
    /// `ok`, `soon` (under a quarter left), `late`, `paused`, `done`.
    pub class: &'static str,
    pub label: String,
}

pub fn sla_of(c: &Ctx, t: &TicketRow, now: DateTime<Utc>) -> Sla {
    let tr = c.tr;
    let status = t.status;
    if status == TicketStatus::OnHold {
        return Sla { class: "paused", label: tr.t("sla.paused") };
    }
    if !status.is_open() {
        return Sla { class: "done", label: String::new() };
    }
    // The next clock that is not yet met.
    let next = if t.responded_at.is_none() { t.respond_due } else { t.resolve_due };
    let Some(due) = next else { return Sla { class: "done", label: String::new() } };
    let left = due - now;
    let fmt = |m: i64| {
        let m = m.abs();
        if m >= 60 * 24 {
            tr.tf("sla.days", &[("n", &(m / (60 * 24)).to_string())])
        } else if m >= 60 {
            tr.tf("sla.hours", &[("h", &(m / 60).to_string()), ("m", &(m % 60).to_string())])
        } else {
            tr.tf("sla.minutes", &[("n", &m.to_string())])
        }
    };
    let total = (due - t.created_at).num_minutes().max(1);
    if left.num_minutes() < 0 || t.resolve_breached_at.is_some() || t.respond_breached_at.is_some() {
        Sla { class: "late", label: tr.tf("sla.overdue", &[("t", &fmt(left.num_minutes()))]) }
    } else if left.num_minutes() * 4 < total {
        Sla { class: "soon", label: tr.tf("sla.left", &[("t", &fmt(left.num_minutes()))]) }
    } else {
        Sla { class: "ok", label: tr.tf("sla.left", &[("t", &fmt(left.num_minutes()))]) }
    }
}

pub struct Row {
    pub t: TicketRow,
    pub sla: Sla,
}

/// The list's filters as the page's form sends them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListForm {
    pub q: Option<String>,
    pub view: Option<String>,
    pub status: Option<String>,
    pub town: Option<String>,
    pub system: Option<String>,
    pub fault_type: Option<String>,
    pub priority: Option<String>,
    pub customer_id: Option<String>,
    pub equipment_id: Option<String>,
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
    pub format: Option<String>,
}

impl ListForm {
    pub fn params(&self) -> TicketParams {
        let id = |s: &Option<String>| s.as_deref().and_then(|v| v.parse().ok());
        TicketParams {
            q: self.q.clone(),
            status: self.status.clone(),
            customer_id: id(&self.customer_id),
            equipment_id: id(&self.equipment_id),
            town: self.town.clone(),
            system: self.system.clone(),
            fault_type: self.fault_type.clone(),
            priority: self.priority.clone(),
            view: self.view.clone(),
            sort: self.sort.clone(),
            page: self.page,
            per_page: Some(25),
            ..Default::default()
        }
    }
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            ("q", s(&self.q)),
            ("view", s(&self.view)),
            ("status", s(&self.status)),
            ("town", s(&self.town)),
            ("system", s(&self.system)),
            ("fault_type", s(&self.fault_type)),
            ("priority", s(&self.priority)),
            ("customer_id", s(&self.customer_id)),
            ("equipment_id", s(&self.equipment_id)),
            ("sort", s(&self.sort)),
        ]
    }
}

#[derive(Template)]
#[template(path = "tickets.html")]
pub struct TicketsPage {
    pub c: Ctx,
    pub rows: Vec<Row>,
    pub f: ListForm,
    pub towns: Vec<(String, String)>,
    pub pager: Pager,
    pub views: Vec<(&'static str, String, bool)>,
    pub export_xlsx: String,
    pub export_csv: String,
    pub saved: Vec<(String, String)>,
    pub current_query: String,
}

impl TicketsPage {
    pub fn sel(&self, v: &Option<String>, want: &str) -> bool {
        v.as_deref() == Some(want)
    }
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
}

fn views_for(c: &Ctx, u: &PageUser, current: Option<&str>) -> Vec<(&'static str, String, bool)> {
    let mut v = vec![("", c.t("tickets.view.all"))];
    if u.actor.has(Role::Technician) {
        v.push(("mine", c.t("tickets.view.mine")));
    }
    if u.actor.has(Role::Engineer) {
        v.push(("mine_engineer", c.t("tickets.view.mine_engineer")));
    }
    if u.actor.is_staff() {
        v.push(("unassigned", c.t("tickets.view.unassigned")));
        v.push(("overdue", c.t("tickets.view.overdue")));
        v.push(("at_risk", c.t("tickets.view.at_risk")));
        v.push(("escalated", c.t("tickets.view.escalated")));
        v.push(("to_review", c.t("tickets.view.to_review")));
        v.push(("callback", c.t("tickets.view.callback")));
    }
    v.into_iter().map(|(k, l)| (k, l, current.unwrap_or_default() == k)).collect()
}

pub async fn view_tickets_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(f): PageQuery<ListForm>,
) -> Result<Response, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let p = f.params();
    let q = p.query(u.actor.id.0);
    if f.format.is_some() {
        let rows = st.svc.list_tickets(&u.actor, q, Page::all()).await.map_err(e)?;
        let table = ticket_table(u.tr, &rows.items, st.cfg.tz);
        return crate::api::import::table_response(&table, f.format.as_deref(), &u.tr.t("nav.tickets"), st.svc.tz)
            .map_err(e);
    }
    let page = p.page();
    let rows = st.svc.list_tickets(&u.actor, q, page).await.map_err(e)?;
    let towns = st.svc.towns(&u.actor).await.map_err(e)?;
    let c = Ctx::new(&st, &u, "/tickets", u.tr.t("nav.tickets"))
        .crumb(u.tr.t("nav.tickets"), "/tickets")
        .flash_from(f.ok.as_deref());
    let now = Utc::now();
    let pairs = f.pairs();
    let mut ex = pairs.clone();
    ex.push(("format", "xlsx".into()));
    let export_xlsx = super::query_url("/tickets", &ex);
    ex.pop();
    ex.push(("format", "csv".into()));
    let export_csv = super::query_url("/tickets", &ex);
    let current_query = super::query_url("", &pairs).trim_start_matches('?').to_owned();
    let saved = st.svc.saved_filters(&u.actor, "tickets").await.map_err(e)?;
    let views = views_for(&c, &u, f.view.as_deref());
    let pager = Pager::of("/tickets", &pairs, page, &rows);
    let rows: Vec<Row> = rows.items.into_iter().map(|t| Row { sla: sla_of(&c, &t, now), t }).collect();
    Ok(render(&TicketsPage { pager, c, rows, f, towns, views, export_xlsx, export_csv, saved, current_query }))
}

/// The list as a table for Excel or CSV, in the user's language.
fn ticket_table(tr: crate::Tr, rows: &[TicketRow], tz: chrono_tz::Tz) -> Vec<Vec<String>> {
    let t = |k: &str| tr.t(k);
    let dt = |d: Option<DateTime<Utc>>| {
        d.map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    };
    let mut out = vec![
        [
            "field.number",
            "field.customer",
            "field.town",
            "field.system",
            "field.title",
            "field.priority",
            "field.status",
            "field.fault_type",
            "field.created_at",
            "field.scheduled_at",
            "tickets.resolved_at",
            "field.satisfaction",
        ]
        .iter()
        .map(|k| t(k))
        .collect(),
    ];
    for r in rows {
        out.push(vec![
            r.number.clone(),
            r.customer_name.clone(),
            r.town.clone(),
            tr.system(r.system),
            r.title.clone(),
            t(&format!("priority.{}", r.priority)),
            t(&format!("ticket.status.{}", r.status)),
            r.fault_type.map(|f| t(&format!("fault_type.{f}"))).unwrap_or_default(),
            dt(Some(r.created_at)),
            dt(r.scheduled_at),
            dt(r.resolved_at),
            r.satisfaction.map(|s| s.to_string()).unwrap_or_default(),
        ]);
    }
    out
}

#[derive(Deserialize)]
pub struct SaveFilterForm {
    pub _csrf: String,
    pub name: String,
    pub query: String,
}

pub async fn view_tickets_save_filter_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(f): Form<SaveFilterForm>,
) -> Result<Response, PageError> {
    u.check_csrf(&f._csrf)?;
    st.svc.save_filter(&u.actor, "tickets", &f.name, &f.query).await?;
    Ok(Redirect::to(&format!("/tickets?{}", f.query)).into_response())
}

// ---------------------------------------------------------------------------------------
// New ticket.

#[derive(Template)]
#[template(path = "ticket_new.html")]
pub struct TicketNewPage {
    pub c: Ctx,
    /// The school as named in the picker (its name once chosen, or what was typed).
    pub customer_text: String,
    pub customer_id: Option<i64>,
    pub equipment: Vec<EquipmentRow>,
    pub input: TicketInput,
    pub errors: FormErrors,
    pub is_school: bool,
}

impl TicketNewPage {
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn checked(&self, id: &i64) -> bool {
        self.input.equipment_ids.iter().any(|e| e.0 == *id)
    }
    pub fn is(&self, v: &Option<String>, want: &str) -> bool {
        v.as_deref() == Some(want)
    }
}

#[derive(Deserialize)]
pub struct NewParams {
    pub customer_id: Option<i64>,
    pub equipment_id: Option<i64>,
}

async fn new_page(
    st: &AppState,
    u: &PageUser,
    customer_id: Option<i64>,
    typed: &str,
    input: TicketInput,
    errors: FormErrors,
) -> Result<TicketNewPage, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let is_school = !u.actor.is_staff();
    let customer_id = if is_school { u.actor.customer_id.map(|c| c.0) } else { customer_id };
    // The picker shows the chosen school by name (and keeps what was typed when it matched none).
    let customer_text = match customer_id {
        Some(c) if !is_school => st
            .svc
            .get_customer(&u.actor, aftercare_domain::CustomerId(c))
            .await
            .map(|d| d.customer.name)
            .unwrap_or(typed.to_owned()),
        _ => typed.to_owned(),
    };
    let equipment = match customer_id {
        Some(c) => {
            st.svc
                .list_equipment(
                    &u.actor,
                    EquipmentQuery { customer_id: Some(c), sort: Some("kind".into()), ..Default::default() },
                    Page::all(),
                )
                .await
                .map_err(e)?
                .items
        }
        None => Vec::new(),
    };
    let title = u.tr.t("tickets.new");
    let c = Ctx::new(st, u, "/tickets", title.clone())
        .crumb(u.tr.t("nav.tickets"), "/tickets")
        .crumb(title, "/tickets/new");
    Ok(TicketNewPage { c, customer_text, customer_id, equipment, input, errors, is_school })
}

pub async fn view_ticket_new_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<NewParams>,
) -> Result<Response, PageError> {
    if !u.actor.has_any(&[Role::Agent, Role::Engineer, Role::Customer]) {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let mut input = TicketInput::default();
    if let Some(e) = p.equipment_id {
        input.equipment_ids.push(aftercare_domain::EquipmentId(e));
    }
    Ok(render(&new_page(&st, &u, p.customer_id, "", input, FormErrors::default()).await?))
}

pub async fn view_ticket_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let g = |k: &str| field(&form, k).filter(|s| !s.trim().is_empty());
    let typed = g("customer").unwrap_or_default();
    let picked = g("customer_id").and_then(|s| s.parse::<i64>().ok());
    // A school's own login names no school; staff name it by what they know.
    let (customer_id, bad) = if !u.actor.is_staff() {
        (picked, None)
    } else {
        match st.svc.pick_school(&u.actor, "customer_id", &typed, picked).await {
            Ok(c) => (c.map(|c| c.0), None),
            Err(aftercare_service::ServiceError::Invalid(e)) => (None, Some(e)),
            Err(other) => return Err(other.into()),
        }
    };
    let input = TicketInput {
        customer_id: customer_id.map(aftercare_domain::CustomerId),
        equipment_ids: fields(&form, "equipment_ids")
            .iter()
            .filter_map(|s| s.parse().ok())
            .map(aftercare_domain::EquipmentId)
            .collect(),
        system: g("system"),
        title: g("title"),
        description: g("description"),
        source: g("source"),
        priority: g("priority"),
        reporter_name: g("reporter_name"),
        reporter_phone: g("reporter_phone"),
    };
    // Choosing the school first reloads the form with its equipment.
    if field(&form, "pick_school").is_some() || bad.is_some() {
        let errors = bad.map(|e| FormErrors::from_fields(u.tr, &e)).unwrap_or_default();
        let status = if errors.any() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok((status, render(&new_page(&st, &u, customer_id, &typed, input, errors).await?)).into_response());
    }
    match st.svc.create_ticket(&u.actor, &input, Utc::now()).await {
        Ok(d) => Ok(Redirect::to(&format!("/tickets/{}?ok=created", d.ticket.id)).into_response()),
        Err(err) => {
            let errors = super::form_errors(u.tr, err)?;
            let page = new_page(&st, &u, customer_id, &typed, input, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// A ticket's page.

pub struct TimelineItem {
    pub e: EventRow,
    pub title: String,
    pub detail: Vec<String>,
}

#[derive(Template)]
#[template(path = "ticket.html")]
pub struct TicketPage {
    pub c: Ctx,
    pub d: TicketDetail,
    pub equipment: Vec<EquipmentRow>,
    pub technicians: Vec<(i64, String)>,
    pub assigned: Vec<String>,
    pub timeline: Vec<TimelineItem>,
    pub actions: Vec<&'static str>,
    pub subcategories: Vec<SubcategoryRow>,
    pub errors: FormErrors,
    pub open_action: String,
    pub sla: Sla,
    pub can_visit: bool,
    pub can_attempt: bool,
    pub can_request_escalation: bool,
    pub can_review_visits: bool,
    pub can_agree_visit: bool,
    pub can_suggest: bool,
    pub read_at: String,
    pub default_schedule: String,
    /// Photos the school (or anyone) attached.
    pub attachments: Vec<aftercare_service::attachments::AttachmentMeta>,
    /// Photos taken on visits: (visit id, photo id).
    pub photos: Vec<(i64, i64)>,
    /// Know-how on the same model or fault; "write it down" when nothing covers it.
    pub know_how: aftercare_service::articles::TicketKnowHow,
}

impl TicketPage {
    /// The likely next step is the primary button: resolving once the school has signed a
    /// visit (not holding it), otherwise the first allowed action.
    pub fn is_primary(&self, a: &&str) -> bool {
        // Resolve leads only once someone is on site; before, it is the engineer's remote
        // way out, not the next step.
        let on_site = self.d.ticket.status == TicketStatus::InProgress;
        let primary =
            if on_site && self.actions.contains(&"resolve") { Some("resolve") } else { self.actions.first().copied() };
        primary == Some(*a)
    }
    /// The resolution starts from what the last visit did.
    /// The photos of one visit.
    pub fn photos_of(&self, visit: &i64) -> Vec<i64> {
        self.photos.iter().filter(|(v, _)| v == visit).map(|(_, p)| *p).collect()
    }
    /// A time as a `datetime-local` value in the department's zone (empty for none).
    pub fn local_opt(&self, t: &Option<DateTime<Utc>>) -> String {
        t.map(|t| t.with_timezone(&self.c.tz).format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
    }
    /// The agreed-time field starts from the agreed time, else the planned one.
    pub fn agreed_default(&self) -> String {
        let t = &self.d.ticket;
        match t.agreed_visit_at.or(t.scheduled_at) {
            Some(x) => self.local_opt(&Some(x)),
            None => self.default_schedule.clone(),
        }
    }
    /// Labour minutes as hours (`1.5 h` / `1.5 小时`).
    pub fn hours(&self, m: &i64) -> String {
        self.c.tr.tf("value.hours", &[("n", &aftercare_service::paperwork::hours_text(*m))])
    }
    pub fn resolution_default(&self) -> String {
        self.d.visits.last().map(|v| v.work_done.clone()).unwrap_or_default()
    }
    pub fn close_hint(&self) -> String {
        self.c.tr.tf("tickets.close_hint", &[("n", &self.d.ticket.callback_attempts.to_string())])
    }
    pub fn is_assigned(&self, id: &i64) -> bool {
        self.d.technician_ids.contains(id)
    }
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn is_fault(&self, f: &str) -> bool {
        self.d.ticket.fault_type.map(|t| t.as_str()) == Some(f)
    }
    pub fn sub_label(&self, s: &SubcategoryRow) -> String {
        let name = if self.c.tr.is_en() { &s.name_en } else { &s.name_zh };
        format!("{} · {}", self.c.tr.system(&s.system), name)
    }
    /// A subcategory code as its name in the user's language (the code if unknown).
    pub fn sub_name(&self, code: &str) -> String {
        self.subcategories
            .iter()
            .find(|s| s.code == code)
            .map(|s| if self.c.tr.is_en() { s.name_en.clone() } else { s.name_zh.clone() })
            .unwrap_or_else(|| code.to_owned())
    }
    pub fn is_sub(&self, code: &str) -> bool {
        self.d.ticket.fault_subcategory.as_deref() == Some(code)
    }
    pub fn tech_names(&self, csv: &str) -> String {
        csv.split(',')
            .filter_map(|x| x.parse::<i64>().ok())
            .map(|id| {
                self.technicians
                    .iter()
                    .find(|(t, _)| *t == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_else(|| format!("#{id}"))
            })
            .collect::<Vec<_>>()
            .join(self.c.tr.list_sep())
    }
}

fn describe_event(tr: crate::Tr, e: &EventRow) -> (String, Vec<String>) {
    let data: serde_json::Value = e.data_json.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
    let status = |s: &Option<TicketStatus>| s.map(|s| tr.t(&format!("ticket.status.{s}"))).unwrap_or_default();
    let mut detail = Vec::new();
    let title = match e.kind.as_str() {
        "action" => {
            let a = data["action"].as_str().unwrap_or_default();
            if let Some(l) = data["level"].as_i64() {
                detail.push(tr.tf("timeline.level", &[("n", &l.to_string())]));
            }
            if let Some(p) = data["old"]["plan"].as_str().filter(|_| data["new"]["plan"].is_string()) {
                detail.push(tr.tf("timeline.old_plan", &[("p", p)]));
            }
            if let Some(s) = data["satisfaction"].as_i64() {
                detail.push(format!(
                    "{}{}{}",
                    tr.t("field.satisfaction"),
                    tr.colon(),
                    "★".repeat(s.clamp(0, 5) as usize)
                ));
            }
            if data["by_school"].as_bool() == Some(true) {
                detail.push(tr.t("timeline.by_school"));
            }
            format!("{} · {} → {}", tr.t(&format!("ticket.action.{a}")), status(&e.from_status), status(&e.to_status))
        }
        "diagnosis" => {
            if let Some(f) = data["fault_type"].as_str() {
                detail.push(format!("{}{}{}", tr.t("field.fault_type"), tr.colon(), tr.t(&format!("fault_type.{f}"))));
            }
            tr.t("timeline.diagnosis")
        }
        "visit" => {
            if let Some(r) = data["result"].as_str() {
                detail.push(format!("{}{}{}", tr.t("field.result"), tr.colon(), tr.t(&format!("visit_result.{r}"))));
            }
            if let Some(s) = data["signed_by"].as_str() {
                detail.push(tr.tf("timeline.signed_by", &[("name", s)]));
            }
            tr.t("timeline.visit")
        }
        "sla_breach" => {
            let clocks: Vec<String> = data["clocks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str())
                .map(|c| tr.t(&format!("sla.clock.{c}")))
                .collect();
            tr.tf("timeline.sla_breach", &[("clocks", &clocks.join(tr.list_sep()))])
        }
        "callback_attempt" => {
            tr.tf("timeline.callback_attempt", &[("n", &data["attempt"].as_i64().unwrap_or(0).to_string())])
        }
        "repeat" => tr.tf("timeline.repeat", &[("id", &data["repeat_of"].as_i64().unwrap_or(0).to_string())]),
        other => tr.t(&format!("timeline.{other}")),
    };
    (title, detail)
}

async fn ticket_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    errors: FormErrors,
    open_action: &str,
) -> Result<TicketPage, PageError> {
    let v = st.svc.ticket_view(&u.actor, aftercare_domain::TicketId(id), Utc::now()).await?;
    let assigned =
        v.detail.technician_ids.iter().map(|t| v.technician_name(*t).unwrap_or_default().to_owned()).collect();
    let timeline = v
        .timeline
        .into_iter()
        .rev()
        .map(|ev| {
            let (title, detail) = describe_event(u.tr, &ev);
            TimelineItem { e: ev, title, detail }
        })
        .collect();
    let d = v.detail;
    let title = format!("{} {}", d.ticket.number, d.ticket.title);
    let list_label = if u.actor.is_staff() { u.tr.t("nav.tickets") } else { u.tr.t("nav.my_tickets") };
    let c = Ctx::new(st, u, "/tickets", title)
        .crumb(list_label, "/tickets")
        .crumb(d.ticket.number.clone(), &format!("/tickets/{id}"));
    let sla = sla_of(&c, &d.ticket, Utc::now());
    let default_schedule = d
        .ticket
        .scheduled_at
        .unwrap_or_else(|| aftercare_domain::clock::next_quarter(Utc::now() + chrono::Duration::hours(2)))
        .with_timezone(&st.cfg.tz)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    Ok(TicketPage {
        c,
        equipment: v.equipment,
        technicians: v.technicians,
        assigned,
        timeline,
        actions: v.actions.iter().map(|a| a.as_str()).collect(),
        subcategories: v.subcategories,
        errors,
        open_action: open_action.to_owned(),
        sla,
        can_visit: v.can_visit,
        can_attempt: v.can_attempt,
        can_request_escalation: v.can_request_escalation,
        can_review_visits: v.can_review_visits,
        can_agree_visit: v.can_agree_visit,
        can_suggest: v.can_suggest,
        read_at: Utc::now().to_rfc3339(),
        default_schedule,
        attachments: v.attachments,
        photos: v.photos,
        know_how: v.know_how,
        d,
    })
}

pub async fn view_ticket_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    let mut page = ticket_page(&st, &u, id, FormErrors::default(), "").await?;
    page.c = page.c.flash_from(q.ok.as_deref());
    Ok(render(&page))
}

pub async fn view_ticket_act_post(
    State(st): State<AppState>,
    u: PageUser,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id: i64 = id.parse().map_err(|_| PageError::status(u.tr, StatusCode::NOT_FOUND, "error.not_found"))?;
    let g = |k: &str| field(&form, k).filter(|s| !s.trim().is_empty());
    let tz = st.cfg.tz;
    let mut bad = aftercare_domain::FieldErrors::default();
    let scheduled_at = super::local_datetime(g("scheduled_at"), "scheduled_at", tz, &mut bad);
    let satisfaction = match g("satisfaction") {
        Some(s) => match s.parse::<i32>() {
            Ok(v) => Some(v),
            Err(_) => {
                bad.push("satisfaction", "invalid");
                None
            }
        },
        None => None,
    };
    let body = ActionBody {
        version: g("version").and_then(|v| v.parse().ok()),
        note: g("note"),
        reason: g("reason"),
        diagnosis: DiagnoseInput {
            fault_type: g("fault_type"),
            fault_subcategory: g("fault_subcategory"),
            needs_site_survey: Some(g("needs_site_survey").is_some()),
            diagnosis: g("diagnosis"),
            plan: g("plan"),
            parts_to_bring: g("parts_to_bring"),
            impact_scope: g("impact_scope"),
            root_cause: g("root_cause"),
            cause_class: g("cause_class"),
            responsibility: g("responsibility"),
            prevention: g("prevention"),
            priority: g("priority"),
            occurred_at: super::local_datetime(g("occurred_at"), "occurred_at", tz, &mut bad),
            diagnosis_steps: g("diagnosis_steps"),
        },
        technician_ids: fields(&form, "technician_ids").iter().filter_map(|s| s.parse().ok()).collect(),
        scheduled_at,
        resolution: g("resolution"),
        remote: Some(g("remote").is_some()),
        satisfaction,
        resolved: g("resolved").map(|v| v == "true"),
    };
    let result = if bad.is_empty() {
        st.svc.ticket_action(&u.actor, aftercare_domain::TicketId(id), &action, &body, Utc::now()).await.map(|_| ())
    } else {
        Err(bad.into())
    };
    action_result(&st, &u, id, &action, result, field(&form, "read_at")).await
}

/// After a form on the ticket page: back to the page, or the page again with the problem.
async fn action_result(
    st: &AppState,
    u: &PageUser,
    id: i64,
    action: &str,
    result: Result<(), ServiceError>,
    read_at: Option<String>,
) -> Result<Response, PageError> {
    let err = match result {
        Ok(()) => return Ok(Redirect::to(&format!("/tickets/{id}?ok=action_done")).into_response()),
        Err(e) => e,
    };
    let status = match &err {
        ServiceError::Stale | ServiceError::Transition { .. } => StatusCode::CONFLICT,
        ServiceError::Invalid(_) | ServiceError::Duplicate(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return Err(PageError::from_service(u.tr, err)),
    };
    let stale = matches!(err, ServiceError::Stale);
    let mut errors = match err {
        ServiceError::Invalid(fe) => FormErrors::from_fields(u.tr, &fe),
        other => FormErrors::message(crate::error::ApiError::from_service(u.tr, other).body.message),
    };
    let mut page = ticket_page(st, u, id, FormErrors::default(), action).await?;
    if stale {
        // Show what changed since the user read the page.
        let since = read_at.and_then(|r| DateTime::parse_from_rfc3339(&r).ok()).map(|d| d.with_timezone(&Utc));
        for item in page.timeline.iter().filter(|i| since.is_some_and(|s| i.e.at > s)) {
            errors.summary.push(format!("{} · {} · {}", page.c.dt(&item.e.at), item.e.actor_name, item.title));
        }
    }
    page.errors = errors;
    Ok((status, render(&page)).into_response())
}

pub async fn view_ticket_comment_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let r = st
        .svc
        .comment_ticket(&u.actor, aftercare_domain::TicketId(id), &field(&form, "body").unwrap_or_default(), Utc::now())
        .await;
    action_result(&st, &u, id, "comment", r, None).await
}

pub async fn view_ticket_escalation_request_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let note = field(&form, "note").unwrap_or_default();
    let r = st.svc.request_escalation(&u.actor, aftercare_domain::TicketId(id), &note, Utc::now()).await;
    action_result(&st, &u, id, "request_escalation", r, None).await
}

pub async fn view_ticket_agreed_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let mut bad = aftercare_domain::FieldErrors::default();
    let raw = field(&form, "agreed_at").filter(|s| !s.trim().is_empty());
    let agreed_at = super::local_datetime(raw, "agreed_at", st.cfg.tz, &mut bad);
    let r = if !bad.is_empty() {
        Err(bad.into())
    } else {
        let input = aftercare_domain::tickets::AgreedVisitInput { agreed_at, note: field(&form, "note") };
        st.svc.agree_visit_time(&u.actor, aftercare_domain::TicketId(id), &input, Utc::now()).await.map(|_| ())
    };
    action_result(&st, &u, id, "agree_visit", r, None).await
}

/// An upgrade or replacement suggested from the ticket, for one of its equipment.
pub async fn view_ticket_suggest_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let t = st.svc.get_ticket(&u.actor, aftercare_domain::TicketId(id)).await?;
    let equipment = field(&form, "equipment_id").and_then(|e| e.parse::<i64>().ok());
    let r = match equipment.filter(|e| t.equipment_ids.contains(e)) {
        None => Err(aftercare_domain::FieldErrors::single("equipment_id", "required").into()),
        Some(e) => {
            let input = aftercare_domain::equipment::SuggestionInput {
                kind: field(&form, "kind"),
                reason: field(&form, "reason"),
                ticket: Some(t.ticket.number.clone()),
            };
            st.svc.suggest(&u.actor, aftercare_domain::EquipmentId(e), &input, Utc::now()).await.map(|_| ())
        }
    };
    action_result(&st, &u, id, "suggest", r, None).await
}

/// The engineer's check of a visit, from the ticket page.
pub async fn view_visit_review_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(visit): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input =
        aftercare_domain::tickets::VisitReviewInput { verdict: field(&form, "verdict"), note: field(&form, "note") };
    match st.svc.review_visit(&u.actor, aftercare_domain::VisitId(visit), &input, Utc::now()).await {
        Ok(v) => {
            Ok(Redirect::to(&format!("/tickets/{}?ok=visit_reviewed#visit-review-{}", v.ticket_id, v.id))
                .into_response())
        }
        Err(e) => {
            // Back on the visit's ticket with the problem; a visit the user cannot see is "not found".
            let ticket = st.svc.visit_ticket(&u.actor, aftercare_domain::VisitId(visit)).await?;
            action_result(&st, &u, ticket.0, "review_visit", Err(e), None).await
        }
    }
}

pub async fn view_ticket_attempt_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let r = st
        .svc
        .callback_attempt(&u.actor, aftercare_domain::TicketId(id), field(&form, "note").as_deref(), Utc::now())
        .await
        .map(|_| ());
    action_result(&st, &u, id, "attempt", r, None).await
}

// ---------------------------------------------------------------------------------------
// The visit form (technician, on a phone), with photos and the signature pad.

#[derive(Template)]
#[template(path = "visit.html")]
pub struct VisitPage {
    pub c: Ctx,
    pub d: TicketDetail,
    pub errors: FormErrors,
    pub now_local: String,
    pub values: Vec<(String, String)>,
    /// The technician's vehicle stock with something on hand: the parts-used picker.
    pub stock: Vec<aftercare_service::parts::StockRow>,
    /// The catalogue, for the defective parts brought back.
    pub parts: Vec<aftercare_service::parts::PartRow>,
    /// Know-how on the same model or fault, read on site.
    pub know_how: aftercare_service::articles::TicketKnowHow,
}

/// How many "defective part brought back" lines the visit form offers: one shows, the
/// others open on demand ("one more").
const DEFECTIVE_LINES: usize = 10;

impl VisitPage {
    pub fn val(&self, k: &str) -> String {
        self.values.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    pub fn defective_lines(&self) -> std::ops::Range<usize> {
        0..DEFECTIVE_LINES
    }
    pub fn line_val(&self, prefix: &str, i: &usize) -> String {
        self.val(&format!("{prefix}_{i}"))
    }
    /// The first line shows, and every line already filled in (after a refused submit).
    pub fn line_shown(&self, i: &usize) -> bool {
        *i == 0 || !self.line_val("def_part", i).is_empty()
    }

    pub fn is_result(&self, r: &str) -> bool {
        self.val("result") == r
    }
}

async fn visit_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    errors: FormErrors,
    values: Vec<(String, String)>,
) -> Result<VisitPage, PageError> {
    let d = st.svc.get_ticket(&u.actor, aftercare_domain::TicketId(id)).await?;
    let title = u.tr.t("ticket.action.visit");
    let c = Ctx::new(st, u, "/tickets", title.clone())
        .crumb(u.tr.t("nav.tickets"), "/tickets")
        .crumb(d.ticket.number.clone(), &format!("/tickets/{id}"))
        .crumb(title, &format!("/tickets/{id}/visit"));
    let now_local = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%dT%H:%M").to_string();
    let (stock, parts) = st.svc.visit_part_choices(&u.actor).await?;
    let mut values = values;
    // A visit at a trip's stop starts with the trip's times: nobody types them twice.
    if values.is_empty()
        && let Some((departed, arrived, returned)) = st.svc.visit_trip_times(&u.actor, d.ticket.id.into()).await?
    {
        let local = |t: chrono::DateTime<Utc>| t.with_timezone(&st.cfg.tz).format("%Y-%m-%dT%H:%M").to_string();
        for (k, t) in [("departed_at", departed), ("arrived_at", arrived), ("returned_at", returned)] {
            if let Some(t) = t {
                values.push((k.to_owned(), local(t)));
            }
        }
    }
    let know_how = st.svc.ticket_know_how(&u.actor, d.ticket.id.into(), d.ticket.status).await?;
    Ok(VisitPage { c, d, errors, now_local, values, stock, parts, know_how })
}

pub async fn view_visit_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    Ok(render(&visit_page(&st, &u, id, FormErrors::default(), Vec::new()).await?))
}

/// The parts-used picker: `use_{part}_{warehouse}` is the quantity of that vehicle-stock
/// row (empty or 0: not used), `useserial_{part}_{warehouse}` the fitted part's serial.
fn visit_parts_used(
    values: &[(String, String)],
    bad: &mut aftercare_domain::FieldErrors,
) -> Vec<aftercare_domain::tickets::VisitPartInput> {
    let mut out = Vec::new();
    for (k, v) in values {
        let Some((part, wh)) = k.strip_prefix("use_").and_then(|r| r.split_once('_')) else {
            continue;
        };
        let (Ok(part_id), Ok(warehouse_id)) = (part.parse::<i64>(), wh.parse::<i64>()) else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() || v == "0" {
            continue;
        }
        let Ok(qty) = v.parse::<i64>() else {
            bad.push(format!("parts_used[{}].qty", out.len()), "invalid");
            continue;
        };
        let serial_no = values
            .iter()
            .find(|(n, _)| *n == format!("useserial_{part_id}_{warehouse_id}"))
            .map(|(_, s)| s.clone())
            .filter(|s| !s.trim().is_empty());
        out.push(aftercare_domain::tickets::VisitPartInput {
            part_id: Some(part_id),
            warehouse_id: Some(warehouse_id),
            qty: Some(qty),
            serial_no,
        });
    }
    out
}

/// The defective lines `def_part_{i}` (the part by code or name, as the picker shows it),
/// `def_qty_{i}`, `def_old_{i}`, `def_new_{i}`; a line without a part is left out.
async fn visit_defective_parts(
    st: &AppState,
    u: &PageUser,
    values: &[(String, String)],
    bad: &mut aftercare_domain::FieldErrors,
) -> Result<Vec<aftercare_domain::tickets::DefectivePartInput>, PageError> {
    let g =
        |k: String| values.iter().find(|(n, _)| *n == k).map(|(_, v)| v.trim().to_owned()).filter(|s| !s.is_empty());
    let mut out = Vec::new();
    for i in 0..DEFECTIVE_LINES {
        let Some(part) = g(format!("def_part_{i}")) else {
            continue;
        };
        let n = out.len();
        let part_id = match st.svc.pick_part(&u.actor, &format!("defective_parts[{n}].part_id"), &part).await {
            Ok(p) => p.map(|p| p.0),
            Err(ServiceError::Invalid(e)) => {
                bad.0.extend(e.0);
                None
            }
            Err(other) => return Err(other.into()),
        };
        let qty = match g(format!("def_qty_{i}")) {
            None => Some(1),
            Some(q) => {
                let q = q.parse::<i64>().ok();
                if q.is_none() {
                    bad.push(format!("defective_parts[{n}].qty"), "invalid");
                }
                q
            }
        };
        out.push(aftercare_domain::tickets::DefectivePartInput {
            part_id,
            qty,
            serial_no: g(format!("def_old_{i}")),
            new_serial_no: g(format!("def_new_{i}")),
            warehouse_id: None,
        });
    }
    Ok(out)
}

/// The most photos one visit takes, and the largest photo.
const MAX_PHOTOS: usize = 6;
const MAX_PHOTO_BYTES: usize = 4 * 1024 * 1024;

pub async fn view_visit_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut photos: Vec<(String, Vec<u8>)> = Vec::new();
    let mut bad = aftercare_domain::FieldErrors::default();
    while let Ok(Some(f)) = mp.next_field().await {
        let name = f.name().unwrap_or_default().to_owned();

        let Ok(bytes) = f.bytes().await else {
            bad.push("photos", "too_long");
            break;
        };
        if name == "photos" {
            if bytes.is_empty() {
                continue;
            }
            // The bytes decide, never the declared type: an SVG or HTML "photo" would run
            // script in whoever opens it.
            match aftercare_service::attachments::sniff_image(&bytes) {
                None => bad.push("photos", "not_image"),
                Some(_) if bytes.len() > MAX_PHOTO_BYTES || photos.len() >= MAX_PHOTOS => {
                    bad.push("photos", "too_long")
                }
                Some(real) => photos.push((real.to_owned(), bytes.to_vec())),
            }
        } else {
            match crate::input::multipart_text(&bytes) {
                Ok(v) => values.push((name, v)),
                Err(code) => bad.push(name, code),
            }
        }
    }
    let g = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|s| !s.trim().is_empty());
    u.check_csrf(&g("_csrf").unwrap_or_default())?;
    let tz = st.cfg.tz;
    let mut time = |k: &'static str| super::local_datetime(g(k), k, tz, &mut bad);
    let input = VisitInput {
        technician_ids: Vec::new(),
        departed_at: time("departed_at"),
        arrived_at: time("arrived_at"),
        finished_at: time("finished_at"),
        returned_at: time("returned_at"),
        work_done: g("work_done"),
        result: g("result"),
        parts_used_text: g("parts_used_text"),
        defective_parts_text: g("defective_parts_text"),
        signature: g("signature_png")
            .map(|png| SignatureInput { signer_name: g("signer_name"), image_png_base64: Some(png) }),
        parts_used: visit_parts_used(&values, &mut bad),
        defective_parts: visit_defective_parts(&st, &u, &values, &mut bad).await?,
        advice: g("advice"),
        labor_hours: match g("labor_hours") {
            None => None,
            Some(h) => match h.trim().parse::<f64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    bad.push("labor_hours", "invalid");
                    None
                }
            },
        },
    };
    let result = if bad.is_empty() {
        st.svc
            .add_visit(
                &u.actor,
                aftercare_domain::TicketId(id),
                &input,
                g("version").and_then(|v| v.parse().ok()),
                Utc::now(),
            )
            .await
    } else {
        Err(bad.into())
    };
    match result {
        Ok(v) => {
            for (ct, data) in photos {
                st.svc.add_visit_photo(&u.actor, aftercare_domain::VisitId(v.id), &ct, &data).await?;
            }
            Ok(Redirect::to(&format!("/tickets/{id}?ok=visit_saved")).into_response())
        }
        Err(e) => {
            let (status, errors) = match e {
                ServiceError::Invalid(fe) => (StatusCode::UNPROCESSABLE_ENTITY, FormErrors::from_fields(u.tr, &fe)),
                ServiceError::Stale | ServiceError::Transition { .. } | ServiceError::Insufficient { .. } => (
                    StatusCode::CONFLICT,
                    FormErrors::message(crate::error::ApiError::from_service(u.tr, e).body.message),
                ),
                other => return Err(PageError::from_service(u.tr, other)),
            };
            values.retain(|(k, _)| k != "signature_png");
            Ok((status, render(&visit_page(&st, &u, id, errors, values).await?)).into_response())
        }
    }
}

pub async fn view_signature_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let png = st.svc.visit_signature(&u.actor, aftercare_domain::VisitId(id)).await?;
    Ok(crate::files::stored_file(png, &format!("signature-{id}.png")))
}

pub async fn view_photo_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let (_, data) = st.svc.visit_photo(&u.actor, aftercare_domain::PhotoId(id)).await?;
    Ok(crate::files::stored_file(data, &format!("photo-{id}")))
}

// ---------------------------------------------------------------------------------------
// The technician's day, the callback queue, notifications.

#[derive(Template)]
#[template(path = "today.html")]
pub struct TodayPage {
    pub c: Ctx,
    pub rows: Vec<Row>,
    pub rounds: Vec<aftercare_service::inspections::InspectionRow>,
    pub day: String,
    pub prev: String,
    pub next: String,
}

#[derive(Deserialize)]
pub struct DayParam {
    pub day: Option<String>,
}

pub async fn view_today_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<DayParam>,
) -> Result<Response, PageError> {
    // Staff work lists: a school has its own page (/portal), never these.
    if !u.actor.is_staff() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let tz = st.cfg.tz;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let day = p.day.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).unwrap_or(today);
    let (from, to) = aftercare_domain::clock::day_bounds(day, tz);
    let q = aftercare_service::tickets::TicketQuery {
        technician_id: Some(u.actor.id.0),
        scheduled_from: Some(from),
        scheduled_to: Some(to),
        sort: Some("scheduled".into()),
        ..Default::default()
    };
    let rows = st.svc.list_tickets(&u.actor, q, Page::all()).await?;
    let c = Ctx::new(&st, &u, "/today", u.tr.t("nav.today"));
    let now = Utc::now();
    let rows = rows.items.into_iter().map(|t| Row { sla: sla_of(&c, &t, now), t }).collect();
    let d = |n: i64| (day + chrono::Duration::days(n)).to_string();
    let rounds = st.svc.rounds_of_day(&u.actor, day).await?;
    Ok(render(&TodayPage { c, rows, rounds, day: day.to_string(), prev: d(-1), next: d(1) }))
}

#[derive(Template)]
#[template(path = "callbacks.html")]
pub struct CallbacksPage {
    pub c: Ctx,
    pub rows: Vec<Row>,
    pub rounds: Vec<aftercare_service::inspections::InspectionRow>,
}

pub async fn view_callbacks_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    // Staff work lists: a school has its own page (/portal), never these.
    if !u.actor.is_staff() {
        return Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"));
    }
    let query = aftercare_service::tickets::TicketQuery {
        statuses: vec!["resolved".into()],
        sort: Some("oldest".into()),
        ..Default::default()
    };
    let rows = st.svc.list_tickets(&u.actor, query, Page::new(Some(1), Some(200))).await?;
    let c = Ctx::new(&st, &u, "/callbacks", u.tr.t("nav.callbacks"))
        .crumb(u.tr.t("nav.callbacks"), "/callbacks")
        .flash_from(q.ok.as_deref());
    let now = Utc::now();
    let rows = rows.items.into_iter().map(|t| Row { sla: sla_of(&c, &t, now), t }).collect();
    // Completed inspections are called back too (巡检回访, §2.2(3)).
    let rounds = st
        .svc
        .list_inspections(
            &u.actor,
            aftercare_service::inspections::Scope::ToCall,
            Default::default(),
            Page::new(Some(1), Some(200)),
        )
        .await?
        .items;
    Ok(render(&CallbacksPage { c, rows, rounds }))
}

pub struct NoteItem {
    pub n: NotificationRow,
    pub text: String,
    /// Where the notification leads: the record that needs the reader.
    pub link: String,
}

/// The record a notification is about: its ticket, requisition, contact or shortage list.
pub fn notification_link(n: &NotificationRow) -> String {
    aftercare_service::robots::notification_path(n)
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub c: Ctx,
    pub items: Vec<NoteItem>,
    pub pager: Pager,
}

#[derive(Deserialize)]
pub struct PageParam {
    pub page: Option<u32>,
}

pub fn notification_text(tr: crate::Tr, tz: chrono_tz::Tz, n: &NotificationRow) -> String {
    let a: serde_json::Value = serde_json::from_str(&n.args_json).unwrap_or_default();
    let s = |k: &str| match &a[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(v) => v
            .iter()
            .filter_map(|x| x.as_str())
            .map(|c| tr.t(&format!("sla.clock.{c}")))
            .collect::<Vec<_>>()
            .join(tr.list_sep()),
        other => other.to_string(),
    };
    tr.tf(
        &format!("notification.{}", n.kind),
        &[
            ("number", &s("number")),
            ("title", &s("title")),
            ("level", &s("level")),
            ("reason", &s("reason")),
            ("by", &s("by")),
            ("clocks", &s("clocks")),
            ("count", &s("count")),
            ("customer", &s("customer")),
            ("first", &s("first")),
            (
                "at",
                &a["at"]
                    .as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
            ),
        ],
    )
}

pub async fn view_notifications_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<PageParam>,
) -> Result<Response, PageError> {
    let page = Page::new(p.page, Some(50));
    let rows = st.svc.notifications(&u.actor, page).await?;
    let c = Ctx::new(&st, &u, "/notifications", u.tr.t("nav.notifications"))
        .crumb(u.tr.t("nav.notifications"), "/notifications");
    let items = rows
        .items
        .into_iter()
        .map(|n| NoteItem { text: notification_text(u.tr, st.cfg.tz, &n), link: notification_link(&n), n })
        .collect();
    Ok(render(&NotificationsPage { c, items, pager: Pager::new("/notifications", &[], page, rows.total) }))
}

pub async fn view_notifications_read_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id = field(&form, "id").and_then(|v| v.parse::<i64>().ok()).map(aftercare_domain::NotificationId);
    st.svc.mark_notifications_read(&u.actor, id, Utc::now()).await?;
    let to = match field(&form, "go") {
        Some(go) => super::login::safe_next(Some(&go)),
        None => "/notifications".into(),
    };
    Ok(Redirect::to(&to).into_response())
}
