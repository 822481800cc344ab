//! The on-duty roster page (24 小时值班): a week with the days as columns, each day's shifts
//! and how much of its 24 hours is covered; the manager adds and removes shifts and copies
//! last week. Also the working-hours form on the service-levels page.

use super::PageQuery;
use super::{Ctx, Flash, FormErrors, field, query_url, render};
use crate::AppState;
use crate::auth::PageUser;
use crate::error::PageError;
use aftercare_domain::{FieldErrors, ShiftId};
use aftercare_service::roster::{DutyPerson, ShiftRow};
use aftercare_service::roster::{ShiftInput, WorkingHoursInput, local_to_utc, week_start};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

const PATH: &str = "/roster";

/// One shift as a day's column shows it: clipped to that day.
pub struct ShiftCard {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub initial: String,
    pub phone: String,
    /// `08:00–17:30` within the day.
    pub time: String,
    /// It began the day before (the tail of a night shift).
    pub from_before: bool,
    /// It goes on into the next day.
    pub into_next: bool,
    /// It is on now.
    pub now: bool,
    pub note: String,
}

/// A stretch of a day's bar, in percent of 24 hours.
pub struct Segment {
    pub left: String,
    pub width: String,
}

pub struct RosterDay {
    pub date: String,
    pub label: String,
    pub weekday: String,
    pub today: bool,
    pub weekend: bool,
    pub shifts: Vec<ShiftCard>,
    pub covered: Vec<Segment>,
    /// Minutes of the day nobody is on duty.
    pub gap_minutes: i64,
}

/// The add-a-shift form: as typed, with its errors.
#[derive(Default)]
pub struct ShiftForm {
    pub user_id: String,
    pub day: String,
    pub start: String,
    pub end: String,
    pub note: String,
    pub errors: FormErrors,
}

#[derive(Template)]
#[template(path = "roster.html")]
pub struct RosterPage {
    pub c: Ctx,
    pub can_edit: bool,
    pub week: String,
    pub period: String,
    pub prev: String,
    pub next: String,
    pub this_week: bool,
    pub days: Vec<RosterDay>,
    pub people: Vec<DutyPerson>,
    pub on_duty: Vec<ShiftCard>,
    pub form: ShiftForm,
    /// Open the add form (a day was picked, or the last add failed).
    pub open_form: bool,
    /// The working hours as preset times: (start, end).
    pub day_start: String,
    pub day_end: String,
    pub total_shifts: usize,
}

impl RosterPage {
    pub fn gap_label(&self, minutes: &i64) -> String {
        let (h, m) = (minutes / 60, minutes % 60);
        let text = match (h, m) {
            (0, m) => self.c.tr.tf("roster.minutes", &[("m", &m.to_string())]),
            (h, 0) => self.c.tr.tf("roster.hours", &[("h", &h.to_string())]),
            (h, m) => self.c.tr.tf("roster.hours_minutes", &[("h", &h.to_string()), ("m", &m.to_string())]),
        };
        self.c.tr.tf("roster.gap", &[("t", &text)])
    }
    pub fn add_href(&self, day: &str) -> String {
        query_url(PATH, &[("week", self.week.clone()), ("day", day.to_owned())]) + "#add-shift"
    }
    pub fn daily_href(&self, user: &i64, day: &str) -> String {
        query_url("/contacts/daily", &[("agent", user.to_string()), ("date", day.to_owned())])
    }
    pub fn is_person(&self, id: &i64) -> bool {
        self.form.user_id == id.to_string()
    }
    pub fn role_labels(&self, roles: &str) -> String {
        roles
            .split(',')
            .filter(|r| matches!(*r, "agent" | "engineer" | "technician"))
            .map(|r| self.c.tr.role(r))
            .collect::<Vec<_>>()
            .join(" · ")
    }
    pub fn week_count(&self) -> String {
        self.c.tr.tf("roster.week_count", &[("n", &self.total_shifts.to_string())])
    }
}

#[derive(Deserialize)]
pub struct RosterParams {
    pub week: Option<String>,
    /// Preselects the day of the add form.
    pub day: Option<String>,
    pub ok: Option<String>,
    pub copied: Option<usize>,
    pub skipped: Option<usize>,
}

fn initial(name: &str) -> String {
    name.chars().next().map(String::from).unwrap_or_default()
}

/// The cards and covered stretches of one local day.
fn day_of(shifts: &[ShiftRow], date: NaiveDate, tz: chrono_tz::Tz, now: DateTime<Utc>) -> RosterDay {
    let bound = |d: NaiveDate| local_to_utc(d.and_time(NaiveTime::MIN), tz).unwrap_or_default();
    let (start, end) = (bound(date), bound(date + Duration::days(1)));
    let day_minutes = (end - start).num_minutes().max(1);
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    let mut cards = Vec::new();
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for s in shifts.iter().filter(|s| s.starts_at < end && s.ends_at > start) {
        let (a, b) = (s.starts_at.max(start), s.ends_at.min(end));
        spans.push(((a - start).num_minutes(), (b - start).num_minutes()));
        let into_next = s.ends_at > end;
        cards.push(ShiftCard {
            id: s.id,
            user_id: s.user_id,
            name: s.user_name.clone(),
            initial: initial(&s.user_name),
            phone: s.user_phone.clone().unwrap_or_default(),
            // A shift reaching the day's end shows 24:00, not 00:00.
            time: format!("{}–{}", hm(a), if b >= end { "24:00".into() } else { hm(b) }),
            from_before: s.starts_at < start,
            into_next,
            now: s.starts_at <= now && now < s.ends_at,
            note: s.note.clone().unwrap_or_default(),
        });
    }
    // The union of the stretches: what the bar paints and what is left uncovered.
    spans.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let covered_minutes: i64 = merged.iter().map(|(a, b)| b - a).sum();
    let pct = |m: i64| format!("{:.2}", m as f64 * 100.0 / day_minutes as f64);
    let wd = date.weekday().number_from_monday();
    RosterDay {
        date: date.to_string(),
        label: date.format("%m-%d").to_string(),
        weekday: String::new(),
        today: false,
        weekend: wd >= 6,
        shifts: cards,
        covered: merged.iter().map(|(a, b)| Segment { left: pct(*a), width: pct(b - a) }).collect(),
        gap_minutes: (day_minutes - covered_minutes).max(0),
    }
}

fn parse_day(s: Option<&str>) -> Option<NaiveDate> {
    s.and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
}

async fn roster_page(
    st: &AppState,
    u: &PageUser,
    week: Option<&str>,
    pick: Option<&str>,
    ok: Option<&str>,
) -> Result<RosterPage, PageError> {
    let tz = st.svc.tz;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let monday = week_start(parse_day(week).unwrap_or(today));
    let bound = |d: NaiveDate| local_to_utc(d.and_time(NaiveTime::MIN), tz).unwrap_or_default();
    let shifts = st.svc.roster(&u.actor, bound(monday), bound(monday + Duration::days(7))).await?;
    let people = st.svc.duty_people(&u.actor).await?;
    let on_duty = st.svc.roster_now(&u.actor, now).await?;
    let hours = st.svc.working_hours().await;
    let days = (0..7)
        .map(|i| {
            let date = monday + Duration::days(i);
            let mut d = day_of(&shifts, date, tz, now);
            d.today = date == today;
            d.weekday = u.tr.t(&format!("weekday.{}", date.weekday().number_from_monday()));
            d
        })
        .collect();
    let on_duty = on_duty
        .iter()
        .map(|s| {
            let until = s.ends_at.with_timezone(&tz);
            let time = if until.date_naive() == today {
                until.format("%H:%M").to_string()
            } else {
                until.format("%m-%d %H:%M").to_string()
            };
            ShiftCard {
                id: s.id,
                user_id: s.user_id,
                name: s.user_name.clone(),
                initial: initial(&s.user_name),
                phone: s.user_phone.clone().unwrap_or_default(),
                time,
                from_before: false,
                into_next: false,
                now: true,
                note: s.note.clone().unwrap_or_default(),
            }
        })
        .collect();
    let title = u.tr.t("nav.roster");
    let c = Ctx::new(st, u, PATH, title.clone()).crumb(title, PATH).flash_from(ok);
    let picked = parse_day(pick);
    let last = monday + Duration::days(6);
    Ok(RosterPage {
        can_edit: u.actor.is_admin_or_manager(),
        week: monday.to_string(),
        period: format!("{} – {}", monday.format("%Y-%m-%d"), last.format("%m-%d")),
        prev: (monday - Duration::days(7)).to_string(),
        next: (monday + Duration::days(7)).to_string(),
        this_week: week_start(today) == monday,
        total_shifts: shifts.iter().filter(|s| s.starts_at >= bound(monday)).count(),
        days,
        people,
        on_duty,
        form: ShiftForm {
            day: picked.unwrap_or(if week_start(today) == monday { today } else { monday }).to_string(),
            start: hours.start.format("%H:%M").to_string(),
            end: hours.end.format("%H:%M").to_string(),
            ..Default::default()
        },
        open_form: picked.is_some(),
        day_start: hours.start.format("%H:%M").to_string(),
        day_end: hours.end.format("%H:%M").to_string(),
        c,
    })
}

pub async fn view_roster_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<RosterParams>,
) -> Result<Response, PageError> {
    let mut page = roster_page(&st, &u, p.week.as_deref(), p.day.as_deref(), p.ok.as_deref()).await?;
    if let (Some(n), Some(k)) = (p.copied, p.skipped) {
        let message = u.tr.tf("roster.copied", &[("n", &n.to_string()), ("k", &k.to_string())]);
        page.c.flash = Some(Flash { kind: "ok", message });
    }
    Ok(render(&page))
}

/// Only the manager and the administrator plan the roster; anyone else is refused before
/// their input is looked at.
fn may_edit(u: &PageUser) -> Result<(), PageError> {
    if u.actor.is_admin_or_manager() {
        Ok(())
    } else {
        Err(PageError::status(u.tr, StatusCode::FORBIDDEN, "error.forbidden"))
    }
}

/// The form's day and times as the API's shift: an end not after the start is the next
/// day's (a night shift; 00:00–00:00 is a whole day).
fn shift_input(form: &[(String, String)]) -> ShiftInput {
    let get = |k: &str| field(form, k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let day = get("day");
    let (start, end) = (get("start"), get("end"));
    let time = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").ok();
    let starts_at = match (&day, &start) {
        (Some(d), Some(s)) => Some(format!("{d}T{s}")),
        _ => None,
    };
    let ends_at = match (&day, &start, &end) {
        (Some(d), Some(s), Some(e)) => {
            let next = match (parse_day(Some(d)), time(s), time(e)) {
                (Some(date), Some(a), Some(b)) if b <= a => Some(date + Duration::days(1)),
                _ => None,
            };
            Some(format!("{}T{e}", next.map(|n| n.to_string()).unwrap_or_else(|| d.clone())))
        }
        _ => None,
    };
    ShiftInput { user_id: get("user_id").and_then(|v| v.parse().ok()), starts_at, ends_at, note: get("note") }
}

pub async fn view_roster_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let input = shift_input(&form);
    let week = field(&form, "week").unwrap_or_default();
    let errors = match st.svc.create_shift(&u.actor, &input, Utc::now()).await {
        Ok(s) => {
            let day = s.starts_at.with_timezone(&st.svc.tz).date_naive();
            let to = query_url(PATH, &[("week", week_start(day).to_string()), ("ok", "shift_added".into())]);
            return Ok(Redirect::to(&format!("{to}#day-{day}")).into_response());
        }
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = roster_page(&st, &u, Some(&week), None, None).await?;
    let v = |k: &str| field(&form, k).unwrap_or_default();
    page.form =
        ShiftForm { user_id: v("user_id"), day: v("day"), start: v("start"), end: v("end"), note: v("note"), errors };
    page.open_form = true;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

pub async fn view_roster_delete_post(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let s = st.svc.delete_shift(&u.actor, ShiftId(id)).await?;
    let day = s.starts_at.with_timezone(&st.svc.tz).date_naive();
    let to = query_url(PATH, &[("week", week_start(day).to_string()), ("ok", "shift_removed".into())]);
    Ok(Redirect::to(&format!("{to}#day-{day}")).into_response())
}

pub async fn view_roster_copy_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let week = field(&form, "week");
    let out = st.svc.copy_roster_week(&u.actor, week.as_deref(), Utc::now()).await?;
    let to = query_url(
        PATH,
        &[("week", week.unwrap_or_default()), ("copied", out.copied.to_string()), ("skipped", out.skipped.to_string())],
    );
    Ok(Redirect::to(&to).into_response())
}

/// The working-hours section of the service-levels page (`sla.html` includes it).
pub struct HoursForm {
    pub working_hours: String,
    pub days: Vec<u32>,
    pub missed_callback_minutes: String,
    pub errors: FormErrors,
}

impl HoursForm {
    pub fn has_day(&self, d: &u32) -> bool {
        self.days.contains(d)
    }
    /// The weekdays, Monday (1) first.
    pub fn weekdays(&self) -> [u32; 7] {
        [1, 2, 3, 4, 5, 6, 7]
    }
}

/// The form as saved.
pub async fn hours_form(st: &AppState, u: &PageUser) -> Result<HoursForm, PageError> {
    let s = st.svc.working_hours_settings(&u.actor).await?;
    Ok(HoursForm {
        working_hours: s.working_hours,
        days: s.working_days,
        missed_callback_minutes: s.missed_callback_minutes.to_string(),
        errors: FormErrors::default(),
    })
}

pub async fn view_working_hours_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    may_edit(&u)?;
    let get = |k: &str| field(&form, k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    // Two time inputs make the `HH:MM-HH:MM` the setting stores.
    let working_hours = match (get("hours_start"), get("hours_end")) {
        (Some(a), Some(b)) => Some(format!("{a}-{b}")),
        _ => None,
    };
    let days: Vec<i64> = super::fields(&form, "working_days").iter().filter_map(|d| d.trim().parse().ok()).collect();
    let raw_minutes = get("missed_callback_minutes");
    let minutes = raw_minutes.as_deref().map(str::parse::<i64>);
    let result = match minutes {
        Some(Err(_)) => Err(FieldErrors::single("missed_callback_minutes", "invalid").into()),
        m => {
            let input = WorkingHoursInput {
                working_hours,
                working_days: Some(days.clone()),
                missed_callback_minutes: m.and_then(Result::ok),
            };
            st.svc.set_working_hours(&u.actor, &input).await
        }
    };
    let errors = match result {
        Ok(_) => return Ok(Redirect::to("/settings/sla?ok=hours_saved#working-hours").into_response()),
        Err(e) => super::form_errors(u.tr, e)?,
    };
    let mut page = super::settings::sla_page(&st, &u, None).await?;
    page.hours = HoursForm {
        working_hours: format!("{}-{}", get("hours_start").unwrap_or_default(), get("hours_end").unwrap_or_default()),
        days: days.iter().filter_map(|d| u32::try_from(*d).ok()).collect(),
        missed_callback_minutes: raw_minutes.unwrap_or_default(),
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

impl HoursForm {
    /// The `HH:MM` before the dash.
    pub fn start(&self) -> String {
        self.working_hours.split_once('-').map(|(a, _)| a.trim().to_owned()).unwrap_or_default()
    }
    pub fn end(&self) -> String {
        self.working_hours.split_once('-').map(|(_, b)| b.trim().to_owned()).unwrap_or_default()
    }
}
