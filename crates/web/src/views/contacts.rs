//! The agent's desk (客服工作台): a number typed or ringing in pops the caller — school,
//! person, equipment, open tickets, recent contacts — beside a form that logs the contact
//! with the keyboard alone; a repair call opens its ticket in the same step, an urge is
//! logged on the open ticket. Also the contact list and a contact's page (complaint review,
//! callbacks, suggestion read receipts).

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, PageId, Pager, field, fields, form_errors, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::contacts::{Category, Channel, ContactInput, Handling, Urgency};
use aftercare_domain::{AttachmentId, ContactId, EquipmentId, System};
use aftercare_service::contacts::{CallbackInput, OpenTicket, ReviewInput, ScreenPop};
use aftercare_service::contacts::{ContactQuery, ContactRow, Page, ReadRow, day_bounds};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct DeskParams {
    pub phone: Option<String>,
    pub ok: Option<String>,
    pub last: Option<i64>,
}

/// The values of the log form, kept when it comes back with errors.
#[derive(Debug, Default, Clone)]
pub struct DeskForm {
    pub channel: String,
    pub direction: String,
    pub category: String,
    /// What the agent typed to name the school (a name, code or phone) …
    pub customer: String,
    /// … and the school the picker chose, if any.
    pub customer_id: String,
    pub caller_name: String,
    pub caller_title: String,
    pub caller_phone: String,
    pub system: String,
    pub urgency: String,
    pub content: String,
    pub reply: String,
    pub handling: String,
    pub promised_at: String,
    pub ticket_id: String,
    pub open_ticket: bool,
    pub equipment_ids: Vec<String>,
    /// A complaint: the member of staff it is about.
    pub about_user_id: String,
}

impl DeskForm {
    pub fn picked(&self, id: &i64) -> bool {
        self.equipment_ids.iter().any(|e| e == &id.to_string())
    }
}

#[derive(Template)]
#[template(path = "desk.html")]
pub struct DeskPage {
    pub c: Ctx,
    pub phone: String,
    pub pop: Option<ScreenPop>,
    pub f: DeskForm,
    pub errors: FormErrors,
    pub after_hours: bool,
    pub on_duty: Vec<String>,
    pub missed: Vec<ContactRow>,
    pub today: Vec<ContactRow>,
    pub last: Option<ContactRow>,
    /// The courteous phrases, by scene in the order of a call.
    pub phrases: Vec<aftercare_service::phrases::PhraseRow>,
    pub channels: Vec<&'static str>,
    pub categories: Vec<&'static str>,
    pub systems: Vec<&'static str>,
    pub urgencies: Vec<&'static str>,
    pub handlings: Vec<&'static str>,
    /// Field and desk staff a complaint may name.
    pub people: Vec<(i64, String)>,
}

impl DeskPage {
    /// Whether the i-th phrase starts a new scene (for its heading).
    pub fn new_scene(&self, i: &usize) -> bool {
        let i = *i;
        i == 0 || self.phrases.get(i - 1).map(|p| &p.scene) != self.phrases.get(i).map(|p| &p.scene)
    }
}

#[derive(Template)]
#[template(path = "desk_pop.html")]
pub struct PopFragment {
    pub c: Ctx,
    pub phone: String,
    pub pop: Option<ScreenPop>,
    pub f: DeskForm,
}

fn enum_list<T: Copy>(all: &[T], s: impl Fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| s(*x)).collect()
}

async fn pop_for(st: &AppState, u: &PageUser, phone: &str) -> Option<ScreenPop> {
    if phone.trim().chars().count() < 2 {
        return None;
    }
    st.svc.screen_pop(&u.actor, phone).await.ok()
}

/// A form prefilled from the screen pop (the school and the person on the line).
fn prefill(phone: &str, pop: &Option<ScreenPop>) -> DeskForm {
    let mut f = DeskForm {
        channel: "phone".into(),
        direction: "inbound".into(),
        urgency: "normal".into(),
        ..Default::default()
    };
    if aftercare_domain::contacts::phone_digits(phone).len() >= 5 {
        f.caller_phone = phone.trim().to_owned();
    }
    if let Some(m) = pop.as_ref().and_then(|p| p.matches.first()) {
        f.customer_id = m.customer_id.to_string();
        f.customer = m.customer_name.clone();
        f.caller_name = m.person_name.clone().unwrap_or_default();
        f.caller_title = m.person_title.clone().unwrap_or_default();
    }
    f
}

async fn desk_page(
    st: &AppState,
    u: &PageUser,
    phone: String,
    f: Option<DeskForm>,
    errors: FormErrors,
    last: Option<i64>,
    ok: Option<&str>,
) -> Result<DeskPage, PageError> {
    let now = Utc::now();
    let pop = pop_for(st, u, &phone).await;
    let f = f.unwrap_or_else(|| prefill(&phone, &pop));
    let after_hours = st.svc.is_after_hours(now).await?;
    let on_duty = st.svc.on_duty(now).await?.into_iter().map(|s| s.user_name).collect();
    let page = Page::new(Some(1), Some(20));
    let missed = st
        .svc
        .list_contacts(
            &u.actor,
            &ContactQuery { missed_open: true, sort: Some("due".into()), ..Default::default() },
            page,
        )
        .await?
        .items;
    let day = now.with_timezone(&st.cfg.tz).date_naive();
    let (from, to) = day_bounds(day, st.cfg.tz);
    let today = st
        .svc
        .list_contacts(
            &u.actor,
            &ContactQuery { handler_id: Some(u.actor.id.0), from: Some(from), to: Some(to), ..Default::default() },
            page,
        )
        .await?
        .items;
    let last = match last {
        Some(id) => st.svc.get_contact(&u.actor, ContactId(id)).await.ok(),
        None => None,
    };
    let phrases = st.svc.phrases(&u.actor).await?;
    Ok(DeskPage {
        phrases,
        // The logged contact's own banner says it better than a generic flash.
        c: Ctx::new(st, u, "/desk", u.tr.t("desk.title")).flash_from(ok.filter(|_| last.is_none())),
        phone,
        pop,
        f,
        errors,
        after_hours,
        on_duty,
        missed,
        today,
        last,
        channels: enum_list(Channel::ALL, Channel::as_str),
        categories: enum_list(Category::ALL, Category::as_str),
        systems: System::ALL.iter().map(|s| s.as_str()).collect(),
        urgencies: enum_list(Urgency::ALL, Urgency::as_str),
        handlings: enum_list(Handling::ALL, Handling::as_str),
        people: st.svc.field_and_desk_people(&u.actor).await?,
    })
}

pub async fn view_contacts_desk_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<DeskParams>,
) -> Result<Response, PageError> {
    require_staff(&u)?;
    let page =
        desk_page(&st, &u, p.phone.unwrap_or_default(), None, FormErrors::default(), p.last, p.ok.as_deref()).await?;
    Ok(render(&page))
}

/// The screen pop alone, fetched by the desk's script as the number is typed.
pub async fn view_contacts_desk_pop_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<DeskParams>,
) -> Result<Response, PageError> {
    require_staff(&u)?;
    let phone = p.phone.unwrap_or_default();
    let pop = pop_for(&st, &u, &phone).await;
    let f = prefill(&phone, &pop);
    Ok(render(&PopFragment { c: Ctx::new(&st, &u, "/desk", String::new()), phone, pop, f }))
}

fn require_staff(u: &PageUser) -> Result<(), PageError> {
    if u.actor.is_staff() {
        Ok(())
    } else {
        Err(PageError::from_service(u.tr, aftercare_service::ServiceError::NotFound))
    }
}

pub async fn view_contacts_desk_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    require_staff(&u)?;
    let g = |k: &str| field(&form, k).unwrap_or_default();
    let f = DeskForm {
        channel: g("channel"),
        direction: g("direction"),
        category: g("category"),
        customer: g("customer"),
        customer_id: g("customer_id"),
        caller_name: g("caller_name"),
        caller_title: g("caller_title"),
        caller_phone: g("caller_phone"),
        system: g("system"),
        urgency: g("urgency"),
        content: g("content"),
        reply: g("reply"),
        handling: g("handling"),
        promised_at: g("promised_at"),
        ticket_id: g("ticket_id"),
        open_ticket: field(&form, "open_ticket").is_some(),
        equipment_ids: fields(&form, "equipment_ids"),
        about_user_id: g("about_user_id"),
    };
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|v| !v.is_empty());
    let mut bad = aftercare_domain::FieldErrors::default();
    let promised_at = super::local_datetime(opt(&f.promised_at), "promised_at", st.cfg.tz, &mut bad);
    let picked = opt(&f.customer_id).and_then(|s| s.parse::<i64>().ok());
    let customer_id = match st.svc.pick_school(&u.actor, "customer_id", &f.customer, picked).await {
        Ok(c) => c,
        Err(aftercare_service::ServiceError::Invalid(e)) => {
            bad.0.extend(e.0);
            None
        }
        Err(other) => return Err(other.into()),
    };
    let ticket_id = opt(&f.ticket_id).and_then(|s| s.parse::<i64>().ok());
    // An urge names the ticket; picking one implies it (a complaint about it is no urge).
    let complaint = f.category == Category::Complaint.as_str();
    let handling = opt(&f.handling)
        .or_else(|| ticket_id.filter(|_| !complaint).map(|_| "urge".to_owned()))
        .filter(|_| !f.open_ticket);
    let about_user_id = match opt(&f.about_user_id) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(v) => Some(aftercare_domain::UserId(v)),
            Err(_) => {
                bad.push("about_user_id", "invalid");
                None
            }
        },
    };
    let input = ContactInput {
        channel: opt(&f.channel),
        direction: opt(&f.direction),
        category: opt(&f.category),
        customer_id,
        caller_name: opt(&f.caller_name),
        caller_title: opt(&f.caller_title),
        caller_phone: opt(&f.caller_phone),
        system: opt(&f.system),
        urgency: opt(&f.urgency),
        content: opt(&f.content),
        reply: opt(&f.reply),
        handling,
        promised_at,
        ticket_id: if f.open_ticket { None } else { ticket_id },
        about_user_id,
        ..Default::default()
    };
    let open = f.open_ticket.then(|| OpenTicket {
        title: None,
        equipment_ids: f.equipment_ids.iter().filter_map(|s| s.parse().ok()).map(EquipmentId).collect(),
        priority: None,
    });
    let result = if bad.is_empty() {
        st.svc.create_contact(&u.actor, &input, open.as_ref(), Utc::now()).await
    } else {
        // Every mistake at once: the form's own rules too, not only the school.
        if let Err(e) = input.validate(Utc::now()) {
            bad.0.extend(e.0.into_iter().filter(|x| x.field != "customer_id"));
        }
        Err(bad.into())
    };
    match result {
        Ok(row) => {
            let ok = if row.ticket_id.is_some() && f.open_ticket { "contact_ticket" } else { "contact_logged" };
            Ok(Redirect::to(&format!("/desk?ok={ok}&last={}", row.id)).into_response())
        }
        Err(err) => {
            let errors = form_errors(u.tr, err)?;
            let phone = f.caller_phone.clone();
            let page = desk_page(&st, &u, phone, Some(f), errors, None, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// The contact list and a contact's page.

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    pub q: Option<String>,
    pub view: Option<String>,
    pub channel: Option<String>,
    pub category: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "contacts.html")]
pub struct ContactsPage {
    pub c: Ctx,
    pub rows: Vec<ContactRow>,
    pub pager: Pager,
    pub q: String,
    pub view: String,
    pub channel: String,
    pub category: String,
    pub channels: Vec<&'static str>,
    pub categories: Vec<&'static str>,
    pub views: Vec<&'static str>,
    /// Suggestions this reader (leadership) has not opened yet.
    pub unread_suggestions: i64,
}

pub async fn view_contacts_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    require_staff(&u)?;
    let params = crate::api::contacts::ContactParams {
        q: p.q.clone(),
        view: p.view.clone(),
        channel: p.channel.clone(),
        category: p.category.clone(),
        ..Default::default()
    };
    let page = Page::new(p.page, Some(25));
    let rows = st.svc.list_contacts(&u.actor, &params.query(u.actor.id.0), page).await?;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let keep = [("q", s(&p.q)), ("view", s(&p.view)), ("channel", s(&p.channel)), ("category", s(&p.category))];
    Ok(render(&ContactsPage {
        c: Ctx::new(&st, &u, "/contacts", u.tr.t("contacts.title")).flash_from(p.ok.as_deref()),
        pager: Pager::of("/contacts", &keep, page, &rows),
        rows: rows.items,
        q: s(&p.q),
        view: s(&p.view),
        channel: s(&p.channel),
        category: s(&p.category),
        channels: enum_list(Channel::ALL, Channel::as_str),
        categories: enum_list(Category::ALL, Category::as_str),
        views: vec!["missed", "overdue", "complaints", "to_engineer", "pass_on", "suggestions", "unmatched", "mine"],
        unread_suggestions: st.svc.unread_suggestions(&u.actor).await?,
    }))
}

#[derive(Template)]
#[template(path = "contact.html")]
pub struct ContactPage {
    pub c: Ctx,
    pub k: ContactRow,
    pub reads: Vec<ReadRow>,
    pub errors: FormErrors,
    pub can_review: bool,
    pub can_call_back: bool,
    /// The viewer (an engineer) may answer this consultation handed to the engineers.
    pub can_answer: bool,
    pub callback: Option<ContactRow>,
    /// Files that came with the contact's email.
    pub files: Vec<aftercare_service::mail::AttachmentRow>,
}

async fn contact_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    errors: FormErrors,
    ok: Option<&str>,
) -> Result<ContactPage, PageError> {
    let v = st.svc.contact_view(&u.actor, ContactId(id), Utc::now()).await?;
    let k = v.contact;
    Ok(ContactPage {
        c: Ctx::new(st, u, "/contacts", k.record_no.clone())
            .crumb(u.tr.t("contacts.title"), "/contacts")
            .flash_from(ok),
        can_review: v.can_review,
        can_call_back: v.can_call_back,
        can_answer: k.handling == Some(aftercare_domain::contacts::Handling::ToEngineer)
            && k.engineer_replied_at.is_none()
            && aftercare_service::consultations::may_answer(&u.actor),
        reads: v.reads,
        errors,
        callback: v.callback,
        files: v.files,
        k,
    })
}

pub async fn view_contact_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    require_staff(&u)?;
    Ok(render(&contact_page(&st, &u, id, FormErrors::default(), p.ok.as_deref()).await?))
}

pub async fn view_contact_review_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = ReviewInput {
        verdict: field(&form, "verdict"),
        action: field(&form, "action"),
        note: field(&form, "note"),
        version: field(&form, "version").and_then(|v| v.parse().ok()),
    };
    let done = st.svc.review_complaint(&u.actor, ContactId(id), &input, Utc::now()).await.map(|_| ());
    after_contact_form(&st, &u, id, done, "reviewed").await
}

pub async fn view_contact_engineer_reply_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = aftercare_service::consultations::EngineerReplyInput { reply: field(&form, "reply") };
    let done = st.svc.reply_consultation(&u.actor, ContactId(id), &input, Utc::now()).await.map(|_| ());
    after_contact_form(&st, &u, id, done, "answered").await
}

pub async fn view_contact_callback_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = CallbackInput {
        answered: Some(field(&form, "answered").as_deref() != Some("no")),
        content: field(&form, "content"),
    };
    let done = st.svc.call_back(&u.actor, ContactId(id), &input, Utc::now()).await.map(|_| ());
    after_contact_form(&st, &u, id, done, "called_back").await
}

/// After a form on a contact's page: back to the page with `ok`, or the page again with
/// the form's errors (422) when the service refused.
async fn after_contact_form(
    st: &AppState,
    u: &PageUser,
    id: i64,
    done: aftercare_service::Result<()>,
    ok: &str,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/contacts/{id}?ok={ok}")).into_response()),
        Err(err) => {
            let errors = form_errors(u.tr, err)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&contact_page(st, u, id, errors, None).await?))
                .into_response())
        }
    }
}

/// A file that came with a contact's email, for a signed-in member of staff.
pub async fn view_contact_file_get(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((_, file)): axum::extract::Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (meta, data) = st.svc.mail_attachment(&u.actor, AttachmentId(file)).await?;
    Ok(crate::files::stored_file(data, &meta.filename))
}

/// Names the school of a contact that came without one (mail from an unknown address).
pub async fn view_contact_school_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let picked = field(&form, "customer_id").and_then(|s| s.trim().parse::<i64>().ok());
    let text = field(&form, "customer").unwrap_or_default();
    let version = field(&form, "version").and_then(|v| v.parse().ok());
    let result = match st.svc.pick_school(&u.actor, "customer_id", &text, picked).await {
        Ok(Some(c)) => {
            let input = ContactInput { customer_id: Some(c), ..Default::default() };
            st.svc.update_contact(&u.actor, ContactId(id), &input, version).await.map(|_| ())
        }
        Ok(None) => Err(aftercare_domain::FieldErrors::single("customer_id", "required").into()),
        Err(e) => Err(e),
    };
    after_contact_form(&st, &u, id, result, "school_set").await
}

#[derive(Deserialize)]
pub struct PickParams {
    pub q: Option<String>,
}

/// Suggestions for a school picker: the schools the words find (name, code, contact,
/// phone), as `{id, name, code}` for the page's script.
pub async fn view_pick_schools_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<PickParams>,
) -> Result<Response, PageError> {
    require_staff(&u)?;
    let q = p.q.unwrap_or_default();
    let groups = st.svc.search(&u.actor, &q, 8).await?;
    let items: Vec<serde_json::Value> = groups
        .into_iter()
        .filter(|g| g.kind == aftercare_domain::search::SearchKind::Customer)
        .flat_map(|g| g.hits)
        .map(|h| serde_json::json!({"id": h.id, "name": h.title, "code": h.number}))
        .collect();
    Ok(axum::Json(items).into_response())
}
