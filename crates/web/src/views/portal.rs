//! The school portal (学校报修平台), for a school administrator (role `customer`): the
//! school's tickets with their status in plain words, reporting a fault with photos,
//! following a ticket on a timeline written for the school, confirming the repair and
//! rating it. Phone first. Every page is scoped to the user's own school by the services;
//! staff have their own pages and get 403 here. Photos are served at `/attachments/{id}`
//! to whoever may see their ticket (staff too).

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, PageId, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::tickets::{TicketInput, TicketStatus};
use aftercare_domain::{AttachmentId, EquipmentId, FieldErrors, TicketId};
use aftercare_service::ServiceError;
use aftercare_service::attachments::{MAX_ATTACHMENT_BYTES, MAX_FILES_PER_UPLOAD, Upload};
use aftercare_service::portal::{Confirmation, PortalTicket, SchoolEvent};
use aftercare_service::portal::{EquipmentRow, TicketRow, status_of};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};

/// A short local time a school reads easily: "12月1日 09:00" / "1 Dec 09:00".
fn when(c: &Ctx, at: &DateTime<Utc>) -> String {
    let local = at.with_timezone(&c.tz);
    if c.tr.is_en() { local.format("%-d %b %H:%M").to_string() } else { local.format("%-m月%-d日 %H:%M").to_string() }
}

/// The status in words written for a school, with the agreed visit time when there is one.
fn status_words(c: &Ctx, t: &TicketRow) -> String {
    let label = c.t(&format!("portal.status.{}", t.status));
    match (status_of(t), t.scheduled_at) {
        (Some(TicketStatus::Scheduled), Some(at)) => format!("{label} · {}", when(c, &at)),
        _ => label,
    }
}

fn status_hint(c: &Ctx, t: &TicketRow) -> String {
    c.t(&format!("portal.hint.{}", t.status))
}

pub struct PortalRow {
    pub t: TicketRow,
    pub status: String,
    pub reported: String,
    /// Fixed: waiting for the school to confirm.
    pub resolved: bool,
}

fn row(c: &Ctx, t: TicketRow) -> PortalRow {
    PortalRow {
        status: status_words(c, &t),
        reported: when(c, &t.created_at),
        resolved: status_of(&t) == Some(TicketStatus::Resolved),
        t,
    }
}

fn forbidden_unless_school(u: &PageUser) -> Result<(), PageError> {
    if u.actor.has(aftercare_domain::Role::Customer) && u.actor.customer_id.is_some() {
        Ok(())
    } else {
        Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"))
    }
}

// ---------------------------------------------------------------------------------------
// Home.

#[derive(Template)]
#[template(path = "portal_home.html")]
pub struct PortalHomePage {
    pub c: Ctx,
    pub school: String,
    pub open: Vec<PortalRow>,
    pub done: Vec<PortalRow>,
    /// "N repairs wait for your confirmation", or nothing.
    pub waiting: String,
}

pub async fn view_portal_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    forbidden_unless_school(&u)?;
    let home = st.svc.portal_home(&u.actor).await?;
    let c = Ctx::new(&st, &u, "/", u.tr.t("portal.title")).flash_from(q.ok.as_deref());
    let waiting = match home.open.iter().filter(|t| status_of(t) == Some(TicketStatus::Resolved)).count() {
        0 => String::new(),
        n => u.tr.tf("portal.waiting", &[("n", &n.to_string())]),
    };
    let open = home.open.into_iter().map(|t| row(&c, t)).collect();
    let done = home.done.into_iter().map(|t| row(&c, t)).collect();
    Ok(render(&PortalHomePage { c, school: home.school_name, open, done, waiting }))
}

// ---------------------------------------------------------------------------------------
// Reporting a fault.

pub struct EquipmentGroup {
    pub system: String,
    pub label: String,
    pub items: Vec<EquipmentRow>,
}

#[derive(Template)]
#[template(path = "portal_report.html")]
pub struct PortalReportPage {
    pub c: Ctx,
    pub groups: Vec<EquipmentGroup>,
    pub equipment_id: Option<i64>,
    pub input: TicketInput,
    pub errors: FormErrors,
    pub systems: Vec<(String, String)>,
    pub photos_hint: String,
    /// The size over which the page makes a photo smaller before sending it.
    pub max_bytes: usize,
}

impl PortalReportPage {
    pub fn v(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }
    pub fn picked(&self, id: &i64) -> bool {
        self.equipment_id == Some(*id)
    }
    pub fn is_system(&self, s: &str) -> bool {
        self.input.system.as_deref() == Some(s)
    }
    /// How an option reads: kind, where, and model/serial to tell twins apart.
    pub fn label(&self, e: &EquipmentRow) -> String {
        let mut s = e.kind.clone();
        if let Some(l) = e.location.as_deref().filter(|l| !l.is_empty()) {
            s.push_str(" · ");
            s.push_str(l);
        }
        s.push_str(" · ");
        s.push_str(&e.serial_no);
        s
    }
}

async fn report_page(
    st: &AppState,
    u: &PageUser,
    equipment_id: Option<i64>,
    mut input: TicketInput,
    errors: FormErrors,
) -> Result<PortalReportPage, PageError> {
    let equipment = st.svc.portal_equipment(&u.actor).await?;
    // First visit: who reports is the signed-in user.
    if input.reporter_name.is_none() && input.reporter_phone.is_none() && !errors.any() {
        let r = st.svc.portal_reporter(&u.actor).await?;
        input.reporter_name = Some(r.name);
        input.reporter_phone = r.phone;
    }
    let mut groups: Vec<EquipmentGroup> = Vec::new();
    for row in equipment {
        match groups.iter_mut().find(|g| g.system == row.system.as_str()) {
            Some(g) => g.items.push(row),
            None => groups.push(EquipmentGroup {
                system: row.system.as_str().into(),
                label: u.tr.system(row.system.as_str()),
                items: vec![row],
            }),
        }
    }
    let systems =
        aftercare_domain::System::ALL.iter().map(|s| (s.as_str().to_owned(), u.tr.system(s.as_str()))).collect();
    let title = u.tr.t("portal.report");
    let c = Ctx::new(st, u, "/portal/report", title.clone()).crumb(title, "/portal/report");
    Ok(PortalReportPage {
        c,
        groups,
        equipment_id,
        input,
        errors,
        systems,
        photos_hint: u.tr.tf(
            "portal.photos_hint",
            &[("n", &MAX_FILES_PER_UPLOAD.to_string()), ("mb", &(MAX_ATTACHMENT_BYTES / (1024 * 1024)).to_string())],
        ),
        max_bytes: MAX_ATTACHMENT_BYTES,
    })
}

#[derive(serde::Deserialize)]
pub struct ReportParams {
    pub equipment_id: Option<i64>,
}

pub async fn view_portal_report_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ReportParams>,
) -> Result<Response, PageError> {
    forbidden_unless_school(&u)?;
    Ok(render(&report_page(&st, &u, p.equipment_id, TicketInput::default(), FormErrors::default()).await?))
}

/// A form's errors with the portal's own names: one equipment select (`equipment_id`) and
/// numbered photos ("第 2 张照片：不是图片").
fn portal_errors(tr: crate::Tr, e: &FieldErrors) -> FormErrors {
    let mut f = FormErrors::default();
    let sep = if tr.is_en() { ": " } else { "：" };
    for x in &e.0 {
        let rule = tr.t(&format!("rule.{}", x.code));
        let (field, label) = if let Some(i) = x.field.strip_prefix("photos[") {
            let n = i.trim_end_matches(']').parse::<usize>().map(|n| n + 1).unwrap_or(1);
            ("photos".to_owned(), tr.tf("portal.photo_n", &[("n", &n.to_string())]))
        } else if x.field.starts_with("equipment_ids") {
            ("equipment_id".to_owned(), tr.t("field.equipment_id"))
        } else {
            (x.field.clone(), tr.field(&x.field))
        };
        f.by_field.entry(field).or_insert_with(|| rule.clone());
        f.summary.push(format!("{label}{sep}{rule}"));
    }
    f
}

pub async fn view_portal_report_post(
    State(st): State<AppState>,
    u: PageUser,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    forbidden_unless_school(&u)?;
    let mut values: Vec<(String, String)> = Vec::new();
    let mut photos: Vec<Upload> = Vec::new();
    let mut too_big = false;
    loop {
        let mut f = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // The body is over the server's limit (or broken): the photos are too large.
            Err(_) => {
                too_big = true;
                break;
            }
        };
        let name = f.name().unwrap_or_default().to_owned();
        if name == "photos" {
            let filename = f.file_name().unwrap_or_default().to_owned();
            let content_type = f.content_type().unwrap_or_default().to_owned();
            // Read no more than one byte over the limit: that is enough to refuse it.
            let mut data = Vec::new();
            loop {
                match f.chunk().await {
                    Ok(Some(chunk)) => {
                        data.extend_from_slice(&chunk);
                        if data.len() > MAX_ATTACHMENT_BYTES {
                            data.truncate(MAX_ATTACHMENT_BYTES + 1);
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        too_big = true;
                        break;
                    }
                }
            }
            // An empty file input sends an empty part without a name.
            if !(data.is_empty() && filename.is_empty()) {
                photos.push(Upload { filename, content_type, data });
            }
        } else {
            match f.bytes().await {
                Ok(b) => match crate::input::multipart_text(&b) {
                    Ok(v) => values.push((name, v)),
                    Err(code) => return Err(crate::input::refuse_page(u.tr, &name, code)),
                },
                Err(_) => too_big = true,
            }
        }
        if too_big {
            break;
        }
    }
    let g = |k: &str| field(&values, k).filter(|s| !s.trim().is_empty());
    u.check_csrf(&g("_csrf").unwrap_or_default())?;
    let equipment_id = g("equipment_id").and_then(|s| s.parse::<i64>().ok());
    let input = TicketInput {
        customer_id: u.actor.customer_id,
        equipment_ids: equipment_id.map(EquipmentId).into_iter().collect(),
        system: g("system"),
        title: g("title"),
        description: g("description"),
        source: None,
        priority: None,
        reporter_name: g("reporter_name"),
        reporter_phone: g("reporter_phone"),
    };
    let result = if too_big {
        Err(FieldErrors::single("photos", "too_large").into())
    } else {
        st.svc.report_fault(&u.actor, &input, &photos, Utc::now()).await
    };
    match result {
        Ok(d) => Ok(Redirect::to(&format!("/portal/tickets/{}?ok=reported", d.ticket.id)).into_response()),
        Err(ServiceError::Invalid(fe)) => {
            let errors = portal_errors(u.tr, &fe);
            let page = report_page(&st, &u, equipment_id, input, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(PageError::from_service(u.tr, e)),
    }
}

// ---------------------------------------------------------------------------------------
// A ticket as the school follows it.

/// One step of the progress bar: `done`, `now` or `todo`.
pub struct Step {
    pub label: String,
    pub state: &'static str,
}

pub struct Line {
    pub kind: String,
    pub at: String,
    pub who: String,
    pub mine: bool,
    pub title: String,
    pub text: Option<String>,
    pub detail: Vec<String>,
}

pub struct VisitView {
    pub when: String,
    pub result: String,
    pub result_class: String,
    pub work_done: String,
    pub technicians: String,
    /// "王老师 签字确认".
    pub signed_by: Option<String>,
    /// The visit's photos (ids for `/photos/{id}`).
    pub photos: Vec<i64>,
}

#[derive(Template)]
#[template(path = "portal_ticket.html")]
pub struct PortalTicketPage {
    pub c: Ctx,
    pub p: PortalTicket,
    pub status: String,
    pub hint: String,
    pub steps: Vec<Step>,
    pub lines: Vec<Line>,
    pub visits: Vec<VisitView>,
    pub reported: String,
    pub can_confirm: bool,
    pub errors: FormErrors,
    /// What the confirmation form had, when it comes back with an error.
    pub resolved: String,
    pub satisfaction: String,
    pub note: String,
}

impl PortalTicketPage {
    pub fn rated(&self, i: &i32) -> bool {
        self.satisfaction == i.to_string()
    }
}

fn steps(c: &Ctx, status: Option<TicketStatus>) -> Vec<Step> {
    use TicketStatus as S;
    let Some(status) = status else { return Vec::new() };
    let now = match status {
        S::New => 0,
        S::Triage => 1,
        S::ToDispatch => 2,
        S::Scheduled | S::InProgress | S::OnHold => 3,
        S::Resolved => 4,
        S::Closed => 5,
        S::Cancelled => return Vec::new(),
    };
    ["reported", "accepted", "diagnosed", "repair", "fixed", "done"]
        .iter()
        .enumerate()
        .map(|(i, k)| Step {
            label: c.t(&format!("portal.step.{k}")),
            state: if i < now || (i == now && status == S::Closed) {
                "done"
            } else if i == now {
                "now"
            } else {
                "todo"
            },
        })
        .collect()
}

fn line(c: &Ctx, e: &SchoolEvent) -> Line {
    let tr = c.tr;
    let mut detail = Vec::new();
    let title = match e.kind.as_str() {
        "schedule" => {
            if !e.technicians.is_empty() {
                detail.push(tr.tf("portal.tl.technicians", &[("names", &e.technicians.join(tr.list_sep()))]));
            }
            match e.scheduled_at {
                Some(at) => tr.tf("portal.tl.schedule", &[("time", &when(c, &at))]),
                None => tr.t("portal.tl.schedule_no_time"),
            }
        }
        "visit" => {
            if let Some(r) = &e.visit_result {
                detail.push(format!("{}{}", tr.t("portal.visit_result"), tr.t(&format!("visit_result.{r}"))));
            }
            if !e.technicians.is_empty() {
                detail.push(tr.tf("portal.tl.technicians", &[("names", &e.technicians.join(tr.list_sep()))]));
            }
            if let Some(s) = &e.signer {
                detail.push(tr.tf("timeline.signed_by", &[("name", s)]));
            }
            tr.t("portal.tl.visit")
        }
        "callback" => {
            if let Some(s) = e.satisfaction {
                detail.push(format!(
                    "{} {}",
                    "★".repeat(usize::try_from(s.clamp(0, 5)).unwrap_or(0)),
                    tr.t(&format!("satisfaction.{s}"))
                ));
            }
            let key = match (e.by_school, e.fixed.unwrap_or(false)) {
                (true, true) => "portal.tl.confirmed_by_school",
                (true, false) => "portal.tl.not_fixed_by_school",
                (false, true) => "portal.tl.confirmed_on_call",
                (false, false) => "portal.tl.not_fixed_on_call",
            };
            tr.t(key)
        }
        "attachment" => tr.tf("portal.tl.attachment", &[("n", &e.photos.to_string())]),
        other => tr.t(&format!("portal.tl.{other}")),
    };
    Line {
        kind: e.kind.clone(),
        at: when(c, &e.at),
        who: if e.mine { tr.t("portal.me") } else { e.actor.clone() },
        mine: e.mine,
        title,
        text: e.text.clone(),
        detail,
    }
}

async fn ticket_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    errors: FormErrors,
    form: &[(String, String)],
) -> Result<PortalTicketPage, PageError> {
    let p = st.svc.portal_ticket(&u.actor, TicketId(id)).await?;
    let t = &p.detail.ticket;
    let title = format!("{} {}", t.number, t.title);
    let c = Ctx::new(st, u, "/", title).crumb(t.number.clone(), &format!("/portal/tickets/{id}"));
    let status = status_words(&c, t);
    let hint = status_hint(&c, t);
    let steps = steps(&c, status_of(t));
    let lines = p.timeline.iter().rev().map(|e| line(&c, e)).collect();
    let visits = p
        .detail
        .visits
        .iter()
        .zip(p.visit_technicians.iter())
        .map(|(v, names)| VisitView {
            when: format!("{} – {}", when(&c, &v.arrived_at), v.finished_at.with_timezone(&c.tz).format("%H:%M")),
            result: c.t(&format!("visit_result.{}", v.result)),
            result_class: v.result.as_str().to_owned(),
            work_done: v.work_done.clone(),
            technicians: names.join(c.tr.list_sep()),
            signed_by: v
                .signer_name
                .as_ref()
                .filter(|_| v.signed)
                .map(|s| c.tr.tf("timeline.signed_by", &[("name", s)])),
            photos: p.photos.iter().filter(|(visit, _)| *visit == v.id).map(|(_, ph)| *ph).collect(),
        })
        .collect();
    let reported = when(&c, &t.created_at);
    let can_confirm = status_of(t) == Some(TicketStatus::Resolved);
    let val = |k: &str| field(form, k).unwrap_or_default();
    Ok(PortalTicketPage {
        status,
        hint,
        steps,
        lines,
        visits,
        reported,
        can_confirm,
        errors,
        resolved: val("resolved"),
        satisfaction: val("satisfaction"),
        note: val("note"),
        c,
        p,
    })
}

pub async fn view_portal_ticket_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    forbidden_unless_school(&u)?;
    let mut page = ticket_page(&st, &u, id, FormErrors::default(), &[]).await?;
    page.c = page.c.flash_from(q.ok.as_deref());
    Ok(render(&page))
}

/// After a form on the school's ticket page: back to the page, or the page again with
/// what was wrong (422 for a bad value, 409 when the ticket moved on meanwhile).
async fn after_form(
    st: &AppState,
    u: &PageUser,
    id: i64,
    result: Result<&'static str, ServiceError>,
    form: &[(String, String)],
) -> Result<Response, PageError> {
    let (status, errors) = match result {
        Ok(ok) => return Ok(Redirect::to(&format!("/portal/tickets/{id}?ok={ok}")).into_response()),
        Err(ServiceError::Invalid(fe)) => (StatusCode::UNPROCESSABLE_ENTITY, portal_errors(u.tr, &fe)),
        Err(e @ (ServiceError::Stale | ServiceError::Transition { .. })) => {
            (StatusCode::CONFLICT, FormErrors::message(crate::error::ApiError::from_service(u.tr, e).body.message))
        }
        Err(e) => return Err(PageError::from_service(u.tr, e)),
    };
    let page = ticket_page(st, u, id, errors, form).await?;
    Ok((status, render(&page)).into_response())
}

pub async fn view_portal_confirm_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    forbidden_unless_school(&u)?;
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let g = |k: &str| field(&form, k).filter(|s| !s.trim().is_empty());
    let satisfaction = match g("satisfaction") {
        None => Ok(None),
        Some(s) => s.trim().parse::<i32>().map(Some).map_err(|_| FieldErrors::single("satisfaction", "invalid")),
    };
    let result = match satisfaction {
        Err(fe) => Err(fe.into()),
        Ok(satisfaction) => {
            let c = Confirmation {
                resolved: g("resolved").map(|v| v == "true"),
                satisfaction,
                note: g("note"),
                version: g("version").and_then(|v| v.parse().ok()),
            };
            st.svc
                .confirm_repair(&u.actor, TicketId(id), &c, Utc::now())
                .await
                .map(|d| if status_of(&d.ticket) == Some(TicketStatus::Closed) { "confirmed" } else { "not_fixed" })
        }
    };
    after_form(&st, &u, id, result, &form).await
}

pub async fn view_portal_comment_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    forbidden_unless_school(&u)?;
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let body = field(&form, "body").unwrap_or_default();
    let result =
        st.svc.comment_ticket(&u.actor, aftercare_domain::TicketId(id), &body, Utc::now()).await.map(|()| "commented");
    after_form(&st, &u, id, result, &form).await
}

/// A photo of a ticket, to whoever may see the ticket (the school, and staff).
pub async fn view_attachment_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let (meta, data) = st.svc.attachment(&u.actor, AttachmentId(id)).await?;
    Ok(crate::files::stored_file(data, &meta.filename))
}
