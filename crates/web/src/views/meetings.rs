//! Meetings for people: the list with the engineer's form for the next one, the meeting page
//! (the agenda anyone adds to and the engineer orders, the material gathered for it, the
//! minutes with decisions and attendance, the rectifications proposed from it) and the
//! minutes on A4.

use super::{Ctx, FormErrors, PageId, PageQuery, Pager, field, fields, form_errors, render};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_domain::meetings::{AgendaInput, HoldInput, MeetingInput, MeetingKind, MeetingStatus, may_run};
use aftercare_domain::{MeetingId, System};
use aftercare_service::meetings::{MeetingRow, MeetingView};
use aftercare_service::{Page, ServiceError};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

#[derive(Template)]
#[template(path = "meetings.html")]
pub struct MeetingsPage {
    pub c: Ctx,
    pub rows: Vec<MeetingRow>,
    pub pager: Pager,
    pub can_run: bool,
    pub values: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl MeetingsPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn kinds(&self) -> &'static [MeetingKind] {
        MeetingKind::ALL
    }
}

async fn list_page(
    st: &AppState,
    u: &PageUser,
    page: Option<u32>,
    ok: Option<&str>,
    values: Vec<(String, String)>,
    errors: FormErrors,
) -> Result<MeetingsPage, PageError> {
    let page = Page::new(page, Some(25));
    let rows = st.svc.meetings(&u.actor, page).await?;
    let pager = Pager::new("/meetings", &[], page, rows.total);
    let c = Ctx::new(st, u, "/meetings", u.tr.t("meetings.title")).flash_from(ok);
    let mut values = values;
    if field(&values, "held_on").is_none() {
        values.push(("held_on".into(), st.svc.today().to_string()));
    }
    Ok(MeetingsPage { c, rows: rows.items, pager, can_run: may_run(&u.actor.roles), values, errors })
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    pub page: Option<u32>,
    pub ok: Option<String>,
}

pub async fn view_meetings_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    Ok(render(&list_page(&st, &u, p.page, p.ok.as_deref(), Vec::new(), FormErrors::default()).await?))
}

pub async fn view_meetings_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = MeetingInput {
        kind: field(&form, "kind"),
        held_on: field(&form, "held_on"),
        title: field(&form, "title"),
        ..Default::default()
    };
    match st.svc.plan_meeting(&u.actor, &input, Utc::now()).await {
        Ok(v) => Ok(Redirect::to(&format!("/meetings/{}?ok=meeting_planned", v.meeting.id)).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = list_page(&st, &u, None, None, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "meeting.html")]
pub struct MeetingPage {
    pub c: Ctx,
    pub v: MeetingView,
    pub staff: Vec<(i64, String)>,
    pub errors: FormErrors,
    /// `agenda` or `hold`: the form the errors are about.
    pub error_form: String,
}

impl MeetingPage {
    pub fn planned(&self) -> bool {
        self.v.meeting.status == MeetingStatus::Planned
    }
    pub fn err_in(&self, form: &str) -> bool {
        self.errors.any() && self.error_form == form
    }
    pub fn attended(&self, id: &i64) -> bool {
        self.v.attendee_ids.contains(id)
    }
    pub fn system_name(&self, key: &str) -> String {
        System::parse(key).map(|s| self.c.tr.system(s)).unwrap_or_else(|| key.to_owned())
    }
    pub fn rect_url(&self) -> String {
        format!("/rectifications/new?source=meeting&meeting_id={}", self.v.meeting.id)
    }
    pub fn status(&self, s: &MeetingStatus) -> String {
        self.c.t(&format!("meeting_status.{}", s.as_str()))
    }
    pub fn kind(&self, k: &MeetingKind) -> String {
        self.c.t(&format!("meeting_kind.{}", k.as_str()))
    }
    pub fn analysis_url(&self) -> String {
        format!("/analysis?from={}&to={}", self.v.material.from, self.v.material.to)
    }
}

async fn meeting_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    errors: FormErrors,
    error_form: &str,
) -> Result<MeetingPage, PageError> {
    let v = st.svc.meeting(&u.actor, MeetingId(id)).await?;
    let staff = st.svc.rectification_owners(&u.actor).await?;
    let c = Ctx::new(st, u, "/meetings", v.meeting.title.clone())
        .crumb(u.tr.t("meetings.title"), "/meetings")
        .flash_from(ok);
    Ok(MeetingPage { c, v, staff, errors, error_form: error_form.to_owned() })
}

pub async fn view_meeting_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&meeting_page(&st, &u, id, p.ok.as_deref(), FormErrors::default(), "").await?))
}

async fn refused(st: &AppState, u: &PageUser, id: i64, e: ServiceError, form: &str) -> Result<Response, PageError> {
    let errors = super::refusal_errors(u.tr, e)?;
    let page = meeting_page(st, u, id, None, errors, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// A point for the agenda (anyone on staff).
pub async fn view_agenda_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = AgendaInput {
        title: field(&form, "title"),
        detail: field(&form, "detail"),
        presenter_id: field(&form, "presenter_id").and_then(|s| s.parse().ok()),
    };
    match st.svc.add_agenda_point(&u.actor, MeetingId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/meetings/{id}?ok=agenda_added#agenda")).into_response()),
        Err(e) => refused(&st, &u, id, e, "agenda").await,
    }
}

/// Moves a point one place up or down (`dir` = `up` or `down`).
pub async fn view_agenda_move_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, point)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let not_found = || PageError::from_service(u.tr, ServiceError::NotFound);
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let point: i64 = point.parse().map_err(|_| not_found())?;
    let v = st.svc.meeting(&u.actor, MeetingId(id)).await?;
    let mut ids: Vec<i64> = v.agenda.iter().map(|a| a.id).collect();
    let at = ids.iter().position(|x| *x == point).ok_or_else(not_found)?;
    match field(&form, "dir").as_deref() {
        Some("up") if at > 0 => ids.swap(at, at - 1),
        Some("down") if at + 1 < ids.len() => ids.swap(at, at + 1),
        _ => {}
    }
    match st.svc.order_agenda(&u.actor, MeetingId(id), &ids).await {
        Ok(_) => Ok(Redirect::to(&format!("/meetings/{id}#agenda")).into_response()),
        Err(e) => refused(&st, &u, id, e, "agenda").await,
    }
}

/// The minutes, decisions and who came.
pub async fn view_hold_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = HoldInput {
        minutes: field(&form, "minutes"),
        decisions: field(&form, "decisions"),
        attendee_ids: Some(fields(&form, "attendee_ids").iter().filter_map(|s| s.parse().ok()).collect()),
    };
    match st.svc.hold_meeting(&u.actor, MeetingId(id), &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/meetings/{id}?ok=meeting_held")).into_response()),
        Err(e) => refused(&st, &u, id, e, "hold").await,
    }
}

#[derive(Template)]
#[template(path = "print_minutes.html")]
pub struct MinutesSheet {
    pub c: Ctx,
    pub v: MeetingView,
    pub title_zh: String,
    pub title_local: String,
    pub printed_on: String,
}

impl MinutesSheet {
    pub fn kind(&self, k: &MeetingKind) -> String {
        self.c.t(&format!("meeting_kind.{}", k.as_str()))
    }
}

pub async fn view_minutes_print_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let v = st.svc.meeting(&u.actor, MeetingId(id)).await?;
    let c = Ctx::new(&st, &u, "/meetings", format!("{} {}", u.tr.t("print.minutes"), v.meeting.title));
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    let title_local = if c.lang() == "zh-CN" { String::new() } else { c.t("print.minutes") };
    Ok(render(&MinutesSheet { c, v, title_zh: Tr::new("zh-CN").t("print.minutes"), title_local, printed_on }))
}
