//! Service levels: the SLA clocks per priority and the repeat-repair window. Every member
//! of staff may look; the manager and the administrator may change them.

use super::PageQuery;
use super::{Ctx, FormErrors, OkParam, field, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::FieldErrors;
use aftercare_service::assessments::SlaInput;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

/// The three clocks of a policy, as form fields.
pub const CLOCKS: [&str; 3] = ["respond_minutes", "arrive_minutes", "resolve_minutes"];

/// One priority's form: the values shown (saved, or as typed after an error) and its errors.
pub struct PolicyForm {
    pub priority: String,
    pub values: Vec<(&'static str, String)>,
    pub errors: FormErrors,
    pub updated_at: String,
}

impl PolicyForm {
    pub fn val(&self, f: &str) -> String {
        self.values.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "sla.html")]
pub struct SlaPage {
    pub c: Ctx,
    pub forms: Vec<PolicyForm>,
    pub can_edit: bool,
    /// The window's field: the saved number of days, or what was typed after an error.
    pub window: String,
    pub window_days: i64,
    pub window_errors: FormErrors,
    /// Whether the SLA clocks run on the working-hours calendar.
    pub sla_working_hours: bool,
    /// The desk's working hours (`working_hours_partial.html`, views/roster.rs).
    pub hours: super::roster::HoursForm,
    /// Writes per minute for a school's user and for staff: saved, or as typed after an error.
    pub limits: (String, String),
    pub limit_errors: FormErrors,
}

impl SlaPage {
    pub fn clocks(&self) -> &'static [&'static str] {
        &CLOCKS
    }
    /// Minutes also as hours (and days), e.g. "= 48 小时 · 2 天".
    pub fn hours(&self, minutes: &str) -> String {
        let Ok(m) = minutes.trim().parse::<i64>() else { return String::new() };
        if m <= 0 {
            return String::new();
        }
        let num = |v: f64| {
            let s = format!("{v:.1}");
            s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
        };
        let mut s = self.c.tr.tf("levels.as_hours", &[("h", &num(m as f64 / 60.0))]);
        if m >= 24 * 60 {
            s.push_str(" · ");
            s.push_str(&self.c.tr.tf("levels.as_days", &[("d", &num(m as f64 / 1440.0))]));
        }
        s
    }
    pub fn window_label(&self) -> String {
        self.c.tr.tf("levels.window_now", &[("n", &self.window_days.to_string())])
    }
}

pub(super) async fn sla_page(st: &AppState, u: &PageUser, ok: Option<&str>) -> Result<SlaPage, PageError> {
    let e = |e| PageError::from_service(u.tr, e);
    let rows = st.svc.sla_policies(&u.actor).await.map_err(e)?;
    let window = st.svc.repeat_window_days().await.map_err(e)?;
    let title = u.tr.t("nav.sla");
    let c = Ctx::new(st, u, "/settings/sla", title.clone()).crumb(title, "/settings/sla").flash_from(ok);
    let forms = rows
        .into_iter()
        .map(|r| PolicyForm {
            values: vec![
                ("respond_minutes", r.respond_minutes.to_string()),
                ("arrive_minutes", r.arrive_minutes.to_string()),
                ("resolve_minutes", r.resolve_minutes.to_string()),
            ],
            errors: FormErrors::default(),
            updated_at: c.dt(&r.updated_at),
            priority: r.priority,
        })
        .collect();
    let sla_working_hours = st.svc.sla_on_working_hours().await;
    let l = st.svc.write_limits().await.map_err(e)?;
    Ok(SlaPage {
        limits: (l.school_per_minute.to_string(), l.staff_per_minute.to_string()),
        limit_errors: FormErrors::default(),
        sla_working_hours,
        c,
        forms,
        can_edit: u.actor.is_admin_or_manager(),
        window: window.to_string(),
        window_days: window,
        window_errors: FormErrors::default(),
        hours: super::roster::hours_form(st, u).await?,
    })
}

pub async fn view_sla_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&sla_page(&st, &u, q.ok.as_deref()).await?))
}

/// Only the manager and the administrator change service levels: anyone else is refused
/// before their input is looked at.
fn may_edit(u: &PageUser) -> Result<(), PageError> {
    if u.actor.is_admin_or_manager() {
        Ok(())
    } else {
        Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"))
    }
}

pub async fn view_sla_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(priority): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let mut bad = FieldErrors::default();
    let mut minutes = |f: &'static str| match field(&form, f).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match v.parse::<i32>() {
            Ok(m) => Some(m),
            Err(_) => {
                bad.push(f, "invalid");
                None
            }
        },
    };
    let input = SlaInput {
        respond_minutes: minutes("respond_minutes"),
        arrive_minutes: minutes("arrive_minutes"),
        resolve_minutes: minutes("resolve_minutes"),
    };
    let result = if bad.is_empty() {
        st.svc.set_sla_policy(&u.actor, &priority, &input, Utc::now()).await.map(|_| ())
    } else {
        Err(bad.into())
    };
    let errors = match result {
        Ok(()) => return Ok(Redirect::to(&format!("/settings/sla?ok=sla_saved#sla-{priority}")).into_response()),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = sla_page(&st, &u, None).await?;
    if let Some(f) = page.forms.iter_mut().find(|f| f.priority == priority) {
        f.values = CLOCKS.iter().map(|k| (*k, field(&form, k).unwrap_or_default())).collect();
        f.errors = errors;
    }
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_repeat_window_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let raw = field(&form, "repeat_window_days").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let result = match raw.as_deref().map(str::parse::<i64>) {
        Some(Err(_)) => Err(FieldErrors::single("repeat_window_days", "invalid").into()),
        days => st.svc.set_repeat_window_days(&u.actor, days.and_then(Result::ok)).await,
    };
    let errors = match result {
        Ok(_) => return Ok(Redirect::to("/settings/sla?ok=window_saved#repeat-window").into_response()),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = sla_page(&st, &u, None).await?;
    page.window = raw.unwrap_or_default();
    page.window_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// Chooses the SLA calendar: around the clock, or working hours only.
pub async fn view_sla_calendar_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let on = match field(&form, "calendar").as_deref() {
        Some("working_hours") => Some(true),
        Some("24x7") => Some(false),
        _ => None,
    };
    match st.svc.set_sla_calendar(&u.actor, on).await {
        Ok(_) => Ok(Redirect::to("/settings/sla?ok=calendar_saved#sla-calendar").into_response()),
        Err(e) => Err(PageError::from_service(u.tr, e)),
    }
}

/// Sets the writes per minute per user (0: no limit).
pub async fn view_write_limits_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let raw = |k: &str| field(&form, k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let (school, staff) = (raw("school_per_minute"), raw("staff_per_minute"));
    let mut bad = FieldErrors::default();
    let mut num = |k: &'static str, v: &str| match v.parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            bad.push(k, if v.is_empty() { "required" } else { "invalid" });
            0
        }
    };
    let limits = aftercare_service::rate::WriteLimits {
        school_per_minute: num("school_per_minute", &school),
        staff_per_minute: num("staff_per_minute", &staff),
    };
    let result =
        if bad.is_empty() { st.svc.set_write_limits(&u.actor, &limits).await.map(|_| ()) } else { Err(bad.into()) };
    let errors = match result {
        Ok(()) => return Ok(Redirect::to("/settings/sla?ok=limits_saved#write-limits").into_response()),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = sla_page(&st, &u, None).await?;
    page.limits = (school, staff);
    page.limit_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
