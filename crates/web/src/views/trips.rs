//! Outings (外出) for people: the trip list with its queues, planning a trip by hand or
//! from the day's proposal, the trip on a phone (what to bring, depart, each stop, the
//! visit there, return with the odometer and the costs), the agent's verification call,
//! the manager's approval, the day board of who is where, the vehicles and the town travel
//! times, the numbers, and form 6 《外出工作记录表》 on A4 and in Excel.

use super::{Ctx, FormErrors, PageId, PageQuery, Pager, field, fields, form_errors, render};
use crate::auth::PageUser;
use crate::error::PageError;
use crate::{AppState, Tr};
use aftercare_domain::trips::{
    AbsenceInput, AttendanceState, CostInput, CostKind, ItemInput, LeaveInput, StopAction, StopInput, Transport,
    TravelInput, TripAction, TripInput, TripPurpose, TripStatus, VehicleInput, VehicleStatus, VerifyInput,
};
use aftercare_domain::{FieldErrors, TripId, TripItemId, TripStopId, VehicleId};
use aftercare_service::trips::{
    AttendanceRow, ProposalView, StopRow, TownMatrix, TripActionInput, TripMonth, TripReport, TripRow, TripScope,
    TripView, VehicleRow,
};
use aftercare_service::{Page, ServiceError, Services};
use askama::Template;
use axum::Form;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

/// The status, purpose and transport words every trip page uses.
pub trait Words {
    fn tr(&self) -> Tr;
    fn tz(&self) -> chrono_tz::Tz;
    fn status(&self, s: &TripStatus) -> String {
        self.tr().t(&format!("trip_status.{}", s.as_str()))
    }
    fn purpose(&self, p: &TripPurpose) -> String {
        self.tr().t(&format!("trip_purpose.{}", p.as_str()))
    }
    fn transport(&self, t: &TripRow) -> String {
        let word = self.tr().t(&format!("trip_transport.{}", t.transport.as_str()));
        match &t.vehicle_plate {
            Some(p) => self.tr().paren(&word, p),
            None => word,
        }
    }
    /// `HH:MM` of a time, in the department's zone.
    fn hm(&self, t: &Option<DateTime<Utc>>) -> String {
        t.map(|t| t.with_timezone(&self.tz()).format("%H:%M").to_string()).unwrap_or_default()
    }
    fn window(&self, t: &TripRow) -> String {
        format!("{}–{}", self.hm(&Some(t.planned_start)), self.hm(&Some(t.planned_end)))
    }
    fn km(&self, t: &TripRow) -> String {
        t.distance_km.map(|k| format!("{k} km")).unwrap_or_default()
    }
    fn yuan(&self, cents: &i64) -> String {
        if *cents == 0 { String::new() } else { format!("¥{:.2}", *cents as f64 / 100.0) }
    }
}

macro_rules! words {
    ($($t:ty),*) => {$(
        impl Words for $t {
            fn tr(&self) -> Tr {
                self.c.tr
            }
            fn tz(&self) -> chrono_tz::Tz {
                self.c.tz
            }
        }
    )*};
}

fn not_found(u: &PageUser) -> PageError {
    PageError::from_service(u.tr, ServiceError::NotFound)
}

fn id_of(u: &PageUser, s: &str) -> Result<i64, PageError> {
    s.parse().map_err(|_| not_found(u))
}

// ---------------------------------------------------------------------------------------
// The list.

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    /// `all` (default), `mine`, `to_approve`, `to_verify`.
    pub view: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub page: Option<u32>,
    pub ok: Option<String>,
}

#[derive(Template)]
#[template(path = "trips.html")]
pub struct TripsPage {
    pub c: Ctx,
    pub rows: Vec<TripRow>,
    pub pager: Pager,
    pub view: String,
    pub status: String,
    pub from: String,
    pub until: String,
    pub can_plan: bool,
    pub is_manager: bool,
    pub month: String,
    pub errors: FormErrors,
}
words!(TripsPage);

impl TripsPage {
    pub fn views(&self) -> [&'static str; 4] {
        ["all", "mine", "to_approve", "to_verify"]
    }
    pub fn statuses(&self) -> &'static [TripStatus] {
        TripStatus::ALL
    }
}

pub async fn view_trips_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<ListParams>,
) -> Result<Response, PageError> {
    let api = crate::api::trips::TripParams {
        scope: p.view.clone(),
        status: p.status.clone(),
        from: p.from.clone(),
        until: p.until.clone(),
        ..Default::default()
    };
    let (scope, q, errors) = match crate::api::trips::query_of(&api) {
        Ok((s, q)) => (s, q, FormErrors::default()),
        Err(e) => (TripScope::All, Default::default(), form_errors(u.tr, e)?),
    };
    let page = Page::new(p.page, Some(25));
    let rows = st.svc.list_trips(&u.actor, scope, q, page).await?;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let params = [("view", v(&p.view)), ("status", v(&p.status)), ("from", v(&p.from)), ("until", v(&p.until))];
    let pager = Pager::new("/trips", &params, page, rows.total);
    let c = Ctx::new(&st, &u, "/trips", u.tr.t("trips.title")).flash_from(p.ok.as_deref());
    Ok(render(&TripsPage {
        c,
        rows: rows.items,
        pager,
        view: scope.as_str().to_owned(),
        status: v(&p.status),
        from: v(&p.from),
        until: v(&p.until),
        can_plan: aftercare_domain::trips::may_plan(&u.actor.roles),
        is_manager: u.actor.is_admin_or_manager(),
        month: st.svc.today().format("%Y-%m").to_string(),
        errors,
    }))
}

// ---------------------------------------------------------------------------------------
// Planning by hand.

/// How many stop rows the form offers.
const STOP_ROWS: usize = 6;

#[derive(Template)]
#[template(path = "trip_new.html")]
pub struct TripNewPage {
    pub c: Ctx,
    pub staff: Vec<(i64, String)>,
    pub vehicles: Vec<VehicleRow>,
    pub values: Vec<(String, String)>,
    pub errors: FormErrors,
}

impl TripNewPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == name && v == value)
    }
    pub fn rows(&self) -> std::ops::Range<usize> {
        0..STOP_ROWS
    }
    pub fn stop_val(&self, what: &str, i: &usize) -> String {
        self.val(&format!("{what}_{i}"))
    }
    pub fn stop_label(&self, i: &usize) -> String {
        self.c.tr.tf("trips.stop_n", &[("n", &(i + 1).to_string())])
    }
    pub fn stop_err(&self, i: &usize) -> Option<String> {
        self.errors.by_field.get(&format!("stops[{i}].customer_id")).cloned()
    }
    pub fn purposes(&self) -> &'static [TripPurpose] {
        TripPurpose::ALL
    }
    pub fn transports(&self) -> &'static [Transport] {
        Transport::ALL
    }
    pub fn usable(&self) -> Vec<&VehicleRow> {
        self.vehicles.iter().filter(|v| v.status == VehicleStatus::Active).collect()
    }
}

async fn new_page(
    st: &AppState,
    u: &PageUser,
    values: Vec<(String, String)>,
    errors: FormErrors,
) -> Result<TripNewPage, PageError> {
    let staff = st.svc.trip_staff_choices(&u.actor).await?;
    let vehicles = st.svc.vehicles(&u.actor).await?;
    let title = u.tr.t("trips.new");
    let c = Ctx::new(st, u, "/trips", title).crumb(u.tr.t("trips.title"), "/trips");
    Ok(TripNewPage { c, staff, vehicles, values, errors })
}

/// The form, empty for tomorrow, or filled in from the query (a proposed trip to edit:
/// `trip_date`, `staff_ids`, `vehicle_id`, `stop_0`/`school_0` …).
pub async fn view_trip_new_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !aftercare_domain::trips::may_plan(&u.actor.roles) {
        return Err(PageError::from_service(u.tr, ServiceError::Forbidden));
    }
    let mut values = q;
    if field(&values, "trip_date").is_none() {
        let tomorrow = st.svc.today().succ_opt().unwrap_or_else(|| st.svc.today());
        values.push(("trip_date".to_owned(), tomorrow.to_string()));
    }
    Ok(render(&new_page(&st, &u, values, FormErrors::default()).await?))
}

/// The trip the form describes (stops in the rows filled).
fn trip_input(form: &[(String, String)]) -> TripInput {
    let stops = (0..STOP_ROWS)
        .filter_map(|i| {
            let id = field(form, &format!("stop_{i}")).filter(|s| !s.trim().is_empty());
            let typed = field(form, &format!("school_{i}")).filter(|s| !s.trim().is_empty());
            match (id, typed) {
                (None, None) => None,
                // A name typed and not picked: no id, which the check names.
                (id, _) => {
                    Some(StopInput { customer_id: id.and_then(|s| s.trim().parse().ok()), ..Default::default() })
                }
            }
        })
        .collect();
    TripInput {
        trip_date: field(form, "trip_date"),
        staff_ids: Some(fields(form, "staff_ids").iter().filter_map(|s| s.parse().ok()).collect()),
        vehicle_id: field(form, "vehicle_id").and_then(|s| s.parse().ok()),
        transport: field(form, "transport").filter(|s| !s.is_empty()),
        purpose: field(form, "purpose").filter(|s| !s.is_empty()),
        planned_start: field(form, "planned_start"),
        planned_end: field(form, "planned_end"),
        note: field(form, "note"),
        stops: Some(stops),
    }
}

pub async fn view_trip_new_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    match st.svc.plan_trip(&u.actor, &trip_input(&form), Utc::now()).await {
        Ok(v) => Ok(Redirect::to(&format!("/trips/{}?ok=trip_planned", v.trip.id)).into_response()),
        Err(e) => {
            let errors = match e {
                ServiceError::Overlap { .. } => {
                    FormErrors::message(PageError::from_service(u.tr, e).message().unwrap_or_default())
                }
                other => form_errors(u.tr, other)?,
            };
            let page = new_page(&st, &u, form, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// The day's proposal.

#[derive(Template)]
#[template(path = "trip_proposal.html")]
pub struct ProposalPage {
    pub c: Ctx,
    pub p: ProposalView,
    pub prev: String,
    pub next: String,
}

impl ProposalPage {
    /// The new-trip form filled in with a proposed trip, to change before planning it.
    pub fn edit_url(&self, t: &aftercare_service::trips::ProposedTripView) -> String {
        let i = &t.input;
        let mut q: Vec<(String, String)> = vec![("trip_date".into(), self.p.date.to_string())];
        for s in i.staff_ids.iter().flatten() {
            q.push(("staff_ids".into(), s.to_string()));
        }
        if let Some(v) = i.vehicle_id {
            q.push(("vehicle_id".into(), v.to_string()));
        }
        for (k, v) in [("planned_start", &i.planned_start), ("planned_end", &i.planned_end)] {
            if let Some(v) = v {
                q.push((k.into(), v.clone()));
            }
        }
        for (n, s) in t.stops.iter().enumerate() {
            q.push((format!("stop_{n}"), s.customer_id.to_string()));
            q.push((format!("school_{n}"), s.customer_name.clone()));
        }
        let q: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", crate::error::url_encode(v))).collect();
        format!("/trips/new?{}", q.join("&"))
    }
    pub fn saving(&self) -> String {
        let p = &self.p;
        self.c.tr.tf(
            "trips.proposal_saving",
            &[
                ("ours", &p.road_minutes.to_string()),
                ("order", &p.ticket_order_minutes.to_string()),
                ("each", &p.one_trip_per_job_minutes.to_string()),
            ],
        )
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DateParams {
    pub date: Option<String>,
    pub ok: Option<String>,
}

fn date_or_today(st: &AppState, u: &PageUser, d: Option<&str>) -> Result<NaiveDate, PageError> {
    let mut e = FieldErrors::default();
    let d = aftercare_domain::validation::optional_date(&mut e, "date", d);
    if !e.is_empty() {
        return Err(PageError::from_service(u.tr, ServiceError::Invalid(e)));
    }
    Ok(d.unwrap_or_else(|| st.svc.today()))
}

pub async fn view_proposal_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<DateParams>,
) -> Result<Response, PageError> {
    let date = date_or_today(&st, &u, q.date.as_deref())?;
    let p = st.svc.trip_proposal(&u.actor, date).await?;
    let c = Ctx::new(&st, &u, "/trips", u.tr.t("trips.proposal")).crumb(u.tr.t("trips.title"), "/trips");
    let prev = date.pred_opt().unwrap_or(date).to_string();
    let next = date.succ_opt().unwrap_or(date).to_string();
    Ok(render(&ProposalPage { c, p, prev, next }))
}

pub async fn view_proposal_accept_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let date = date_or_today(&st, &u, field(&form, "date").as_deref())?;
    let index: usize = field(&form, "index").and_then(|s| s.parse().ok()).ok_or_else(|| not_found(&u))?;
    let v = st.svc.accept_proposal(&u.actor, date, index, Utc::now()).await?;
    Ok(Redirect::to(&format!("/trips/{}?ok=trip_planned", v.trip.id)).into_response())
}

// ---------------------------------------------------------------------------------------
// The trip.

#[derive(Template)]
#[template(path = "trip.html")]
pub struct TripPage {
    pub c: Ctx,
    pub d: TripView,
    pub errors: FormErrors,
    /// The form the errors are about (`depart`, `return`, `stop-<id>`, `verify-<id>` …).
    pub error_form: String,
    pub values: Vec<(String, String)>,
    pub can_plan: bool,
}
words!(TripPage);

impl TripPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn can(&self, a: &str) -> bool {
        TripAction::parse(a).is_some_and(|a| self.d.can(a))
    }
    pub fn err_in(&self, form: &str) -> bool {
        self.errors.any() && self.error_form == form
    }
    pub fn may_arrive(&self, s: &StopRow) -> bool {
        self.d.may_step(s, StopAction::Arrive)
    }
    pub fn may_leave(&self, s: &StopRow) -> bool {
        self.d.may_step(s, StopAction::Leave)
    }
    pub fn cost_kinds(&self) -> &'static [CostKind] {
        CostKind::ALL
    }
    pub fn is_planned(&self) -> bool {
        self.d.trip.status == TripStatus::Planned
    }
    pub fn is_out(&self) -> bool {
        self.d.trip.status == TripStatus::Out
    }
    pub fn ticked(&self) -> usize {
        self.d.items.len() - self.d.unticked()
    }
    pub fn verified(&self, s: &StopRow) -> String {
        match s.verified_ok {
            Some(true) => self.c.t("trip.verified_ok"),
            Some(false) => self.c.t("trip.verified_not"),
            None => String::new(),
        }
    }
}

async fn trip_page(
    st: &AppState,
    u: &PageUser,
    id: i64,
    ok: Option<&str>,
    errors: FormErrors,
    error_form: &str,
    values: Vec<(String, String)>,
) -> Result<TripPage, PageError> {
    let d = st.svc.trip(&u.actor, TripId(id)).await?;
    let title = format!("{} {}", u.tr.t("trip.title"), d.trip.number);
    let c = Ctx::new(st, u, "/trips", title).crumb(u.tr.t("trips.title"), "/trips").flash_from(ok);
    let can_plan = aftercare_domain::trips::may_plan(&u.actor.roles);
    Ok(TripPage { c, d, errors, error_form: error_form.to_owned(), values, can_plan })
}

pub async fn view_trip_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&trip_page(&st, &u, id, p.ok.as_deref(), FormErrors::default(), "", Vec::new()).await?))
}

/// A refused form on the trip page: the page again with the errors, 422 (409 for a state
/// that moved, shown as a message).
async fn refused(
    st: &AppState,
    u: &PageUser,
    id: i64,
    e: ServiceError,
    form_name: &str,
    form: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let errors = super::refusal_errors(u.tr, e)?;
    let page = trip_page(st, u, id, None, errors, form_name, form).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

/// A yuan amount typed on a phone (`12,5` as well as `12.5`): empty is none.
fn amount(form: &[(String, String)], name: &str, e: &mut FieldErrors) -> Option<f64> {
    let v = field(form, name).map(|v| v.trim().replace(',', ".")).filter(|v| !v.is_empty())?;
    v.parse::<f64>().ok().or_else(|| {
        e.push(name, "invalid");
        None
    })
}

fn whole(form: &[(String, String)], name: &str, e: &mut FieldErrors) -> Option<i64> {
    let v = field(form, name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())?;
    v.parse::<i64>().ok().or_else(|| {
        e.push(name, "invalid");
        None
    })
}

/// Depart, return, cancel, approve.
pub async fn view_trip_act_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id = id_of(&u, &id)?;
    let action = TripAction::parse(&action).ok_or_else(|| not_found(&u))?;
    let mut e = FieldErrors::default();
    let odometer = whole(&form, "odometer", &mut e);
    let costs: Vec<CostInput> = CostKind::ALL
        .iter()
        .filter_map(|k| {
            amount(&form, &format!("cost_{}", k.as_str()), &mut e)
                .map(|a| CostInput { kind: Some(k.as_str().to_owned()), amount: Some(a) })
        })
        .collect();
    let form_name = action.as_str();
    if !e.is_empty() {
        return refused(&st, &u, id, ServiceError::Invalid(e.in_area("trips")), form_name, form).await;
    }
    let input = TripActionInput {
        odometer,
        reason: field(&form, "reason"),
        costs: Some(costs),
        summary: field(&form, "summary"),
    };
    match st.svc.trip_action(&u.actor, TripId(id), action, &input, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/trips/{id}?ok=trip_{}", action.as_str())).into_response()),
        Err(e) => refused(&st, &u, id, e, form_name, form).await,
    }
}

/// Arrive, leave or verify a stop.
pub async fn view_trip_stop_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, stop, action)): axum::extract::Path<(String, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id = id_of(&u, &id)?;
    let stop = id_of(&u, &stop)?;
    let now = Utc::now();
    let (r, form_name) = if action == "verify" {
        let v = VerifyInput {
            confirmed: field(&form, "confirmed").map(|v| v == "yes"),
            contact: field(&form, "contact"),
            note: field(&form, "note"),
        };
        (st.svc.verify_stop(&u.actor, TripId(id), TripStopId(stop), &v, now).await, format!("verify-{stop}"))
    } else {
        let a = StopAction::parse(&action).ok_or_else(|| not_found(&u))?;
        let l = LeaveInput { confirmed_by: field(&form, "confirmed_by"), note: field(&form, "note") };
        (st.svc.stop_action(&u.actor, TripId(id), TripStopId(stop), a, &l, now).await, format!("stop-{stop}"))
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/trips/{id}?ok=trip_{action}#stop-{stop}")).into_response()),
        Err(e) => refused(&st, &u, id, e, &form_name, form).await,
    }
}

/// Ticks or unticks a line of what to bring (`checked` = 1 or 0).
pub async fn view_trip_tick_post(
    State(st): State<AppState>,
    u: PageUser,
    axum::extract::Path((id, item)): axum::extract::Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let id = id_of(&u, &id)?;
    let item = id_of(&u, &item)?;
    let checked = field(&form, "checked").as_deref() == Some("1");
    match st.svc.tick_item(&u.actor, TripId(id), TripItemId(item), checked, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/trips/{id}#bring")).into_response()),
        Err(e) => refused(&st, &u, id, e, "bring", form).await,
    }
}

pub async fn view_trip_item_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let mut e = FieldErrors::default();
    let qty = whole(&form, "qty", &mut e);
    if !e.is_empty() {
        return refused(&st, &u, id, ServiceError::Invalid(e), "bring", form).await;
    }
    let input = ItemInput { text: field(&form, "text"), qty, kind: field(&form, "kind") };
    match st.svc.add_trip_item(&u.actor, TripId(id), &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/trips/{id}#bring")).into_response()),
        Err(e) => refused(&st, &u, id, e, "bring", form).await,
    }
}

pub async fn view_trip_receipts_post(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    let mut csrf = String::new();
    let mut files: Vec<Vec<u8>> = Vec::new();
    let too_big = || PageError::from_service(u.tr, FieldErrors::single("photo", "too_large").into());
    while let Ok(Some(f)) = mp.next_field().await {
        match f.name().unwrap_or_default() {
            "_csrf" => csrf = f.text().await.unwrap_or_default(),
            "photos" => {
                let b = f.bytes().await.map_err(|_| too_big())?;
                if !b.is_empty() && files.len() < aftercare_service::attachments::MAX_FILES_PER_UPLOAD {
                    files.push(b.to_vec());
                }
            }
            _ => {}
        }
    }
    u.check_csrf(&csrf)?;
    for data in &files {
        if let Err(e) = st.svc.add_trip_photo(&u.actor, TripId(id), data, Utc::now()).await {
            return refused(&st, &u, id, e, "receipts", Vec::new()).await;
        }
    }
    Ok(Redirect::to(&format!("/trips/{id}?ok=photos_saved#receipts")).into_response())
}

pub async fn view_trip_photo_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let (_, data) = st.svc.trip_photo(&u.actor, id).await?;
    Ok(crate::files::stored_file(data, &format!("trip-receipt-{id}")))
}

// ---------------------------------------------------------------------------------------
// Form 6 《外出工作记录表》: A4 per trip, Excel per month.

#[derive(Template)]
#[template(path = "print_trip.html")]
pub struct TripSheet {
    pub c: Ctx,
    pub d: TripView,
    pub title_zh: String,
    pub title_local: String,
    pub printed_on: String,
}
words!(TripSheet);

impl TripSheet {
    pub fn jobs_text(&self, stop: &i64) -> String {
        self.d.jobs_of(stop).iter().map(|j| format!("{} {}", j.number, j.title)).collect::<Vec<_>>().join("；")
    }
    pub fn verification(&self, s: &StopRow) -> String {
        let word = match s.verified_ok {
            Some(true) => self.c.t("trip.verified_ok"),
            Some(false) => self.c.t("trip.verified_not"),
            None => return String::new(),
        };
        let who = [s.verified_contact.clone(), s.verified_by_name.clone()].into_iter().flatten().collect::<Vec<_>>();
        if who.is_empty() { word } else { self.c.tr.paren(&word, &who.join(" / ")) }
    }
    pub fn carried(&self) -> String {
        self.d
            .items
            .iter()
            .map(|i| {
                let mark = if i.checked { "☑" } else { "☐" };
                match i.qty {
                    Some(q) => format!("{mark} {} ×{q}", i.text),
                    None => format!("{mark} {}", i.text),
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    }
    pub fn total(&self) -> String {
        self.yuan(&self.d.trip.cost_cents)
    }
}

pub async fn view_trip_print_get(
    State(st): State<AppState>,
    u: PageUser,
    PageId(id): PageId,
) -> Result<Response, PageError> {
    let d = st.svc.trip(&u.actor, TripId(id)).await?;
    let key = "print.trip";
    let c = Ctx::new(&st, &u, "/trips", format!("{} {}", u.tr.t(key), d.trip.number));
    let title_local = if c.lang() == "zh-CN" { String::new() } else { c.t(key) };
    let printed_on = Utc::now().with_timezone(&st.cfg.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(render(&TripSheet { c, d, title_zh: Tr::new("zh-CN").t(key), title_local, printed_on }))
}

#[derive(Debug, Default, Deserialize)]
pub struct MonthParams {
    /// `YYYY-MM`; default this month.
    pub month: Option<String>,
    pub user_id: Option<String>,
    pub vehicle_id: Option<String>,
}

/// The month asked for, read as the analysis reads it (`YYYY-MM`, this month by default).
fn month_of(st: &AppState, m: Option<&str>) -> Result<NaiveDate, PageError> {
    Ok(crate::api::analysis::month_of(m, st.svc.today())?)
}

fn opt_id(s: &Option<String>) -> Option<i64> {
    s.as_deref().and_then(|s| s.trim().parse().ok())
}

/// The month's trips as a workbook: a sheet of trips (form 6's columns), one per person,
/// one per vehicle.
pub async fn view_trips_xlsx_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<MonthParams>,
) -> Result<Response, PageError> {
    let month = month_of(&st, p.month.as_deref())?;
    let m = st.svc.trip_month(&u.actor, month, opt_id(&p.user_id), opt_id(&p.vehicle_id)).await?;
    let sheets = month_sheets(u.tr, st.cfg.tz, &m);
    let bytes = aftercare_service::excel::tables_to_xlsx(&sheets).map_err(|e| PageError::from_service(u.tr, e))?;
    let name = format!("{}-{}", Tr::new("zh-CN").t("print.trip").trim_matches(['《', '》']), month.format("%Y-%m"));
    Ok(crate::api::import::download(bytes, crate::api::import::XLSX, &format!("{name}.xlsx")))
}

/// The sheets of a month: trips, per person, per vehicle.
pub fn month_sheets(tr: Tr, tz: chrono_tz::Tz, m: &TripMonth) -> Vec<(String, Vec<Vec<String>>)> {
    let t = |k: &str| tr.t(k);
    let hm =
        |x: &Option<DateTime<Utc>>| x.map(|x| x.with_timezone(&tz).format("%H:%M").to_string()).unwrap_or_default();
    let yuan = |c: i64| if c == 0 { String::new() } else { format!("{:.2}", c as f64 / 100.0) };
    let mut trips = vec![vec![
        t("paper.trip_no"),
        t("field.trip_date"),
        t("field.staff_ids"),
        t("field.transport"),
        t("field.trips.purpose"),
        t("trip.stops"),
        t("trip.departed"),
        t("trip.returned"),
        t("trip.odometer_out"),
        t("trip.odometer_in"),
        t("trip.km"),
        t("trip_cost.fuel"),
        t("trip_cost.toll"),
        t("trip_cost.meal"),
        t("trip_cost.other"),
        t("trip.cost_total"),
        t("trip.verified"),
        t("trip.approved_by"),
        t("field.status"),
    ]];
    for r in &m.trips {
        let stops: Vec<String> =
            m.stops.iter().filter(|s| s.trip_id == r.id).map(|s| s.customer_name.clone()).collect();
        let costs = m.costs.get(&r.id);
        let cost = |k: &str| yuan(costs.and_then(|c| c.get(k)).copied().unwrap_or(0));
        let transport = tr.t(&format!("trip_transport.{}", r.transport.as_str()));
        trips.push(vec![
            r.number.clone(),
            r.trip_date.to_string(),
            r.staff_names.clone(),
            r.vehicle_plate.clone().map(|p| tr.paren(&transport, &p)).unwrap_or(transport),
            tr.t(&format!("trip_purpose.{}", r.purpose.as_str())),
            stops.join("、"),
            hm(&r.departed_at),
            hm(&r.returned_at),
            r.depart_odometer.map(|v| v.to_string()).unwrap_or_default(),
            r.return_odometer.map(|v| v.to_string()).unwrap_or_default(),
            r.distance_km.map(|v| v.to_string()).unwrap_or_default(),
            cost("fuel"),
            cost("toll"),
            cost("meal"),
            cost("other"),
            yuan(r.cost_cents),
            format!("{}/{}", r.stops_verified, r.stop_count),
            r.approved_by_name.clone().unwrap_or_default(),
            tr.t(&format!("trip_status.{}", r.status.as_str())),
        ]);
    }
    let figures = |rows: &[aftercare_service::trips::TripFigures], first: &str| {
        let mut out = vec![vec![
            t(first),
            t("trips.report_trips"),
            t("trip.km"),
            t("trip.cost_total"),
            t("trips.report_stops"),
            t("trips.report_verified"),
            t("trips.report_visits"),
        ]];
        for f in rows {
            out.push(vec![
                f.label.clone(),
                f.trips.to_string(),
                f.km.to_string(),
                yuan(f.cost_cents),
                f.stops.to_string(),
                f.stops_verified.to_string(),
                f.visits.to_string(),
            ]);
        }
        out
    };
    vec![
        (t("trips.sheet_trips"), trips),
        (t("trips.sheet_people"), figures(&m.report.people, "field.staff_ids")),
        (t("trips.sheet_vehicles"), figures(&m.report.vehicles, "field.vehicle_id")),
    ]
}

#[derive(Template)]
#[template(path = "trip_report.html")]
pub struct TripReportPage {
    pub c: Ctx,
    pub r: TripReport,
    pub month: String,
}
words!(TripReportPage);

impl TripReportPage {
    pub fn tables(&self) -> [(String, String, &Vec<aftercare_service::trips::TripFigures>); 2] {
        [
            (self.c.t("trips.sheet_people"), self.c.t("field.staff_ids"), &self.r.people),
            (self.c.t("trips.sheet_vehicles"), self.c.t("field.vehicle_id"), &self.r.vehicles),
        ]
    }
    /// The export's filter for a table's rows: a person's or a vehicle's.
    pub fn key_param(&self, title: &str) -> &'static str {
        if title == self.c.t("trips.sheet_vehicles") { "vehicle_id" } else { "user_id" }
    }
    pub fn rate(&self, done: &i64, of: &i64) -> String {
        if *of == 0 { "—".into() } else { format!("{}%", done * 100 / of) }
    }
    pub fn per_trip(&self, n: &i64, trips: &i64) -> String {
        if *trips == 0 { "—".into() } else { format!("{:.1}", *n as f64 / *trips as f64) }
    }
}

pub async fn view_trip_report_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<MonthParams>,
) -> Result<Response, PageError> {
    let month = month_of(&st, p.month.as_deref())?;
    let (from, until) = Services::month_of(month);
    let r = st.svc.trip_report(&u.actor, from, until).await?;
    let c = Ctx::new(&st, &u, "/trips", u.tr.t("trips.report")).crumb(u.tr.t("trips.title"), "/trips");
    Ok(render(&TripReportPage { c, r, month: month.format("%Y-%m").to_string() }))
}

// ---------------------------------------------------------------------------------------
// The day board.

#[derive(Template)]
#[template(path = "attendance.html")]
pub struct AttendancePage {
    pub c: Ctx,
    pub date: NaiveDate,
    pub prev: String,
    pub next: String,
    pub rows: Vec<AttendanceRow>,
    pub can_absence: bool,
    pub errors: FormErrors,
}
words!(AttendancePage);

impl AttendancePage {
    pub fn state(&self, s: &AttendanceState) -> String {
        self.c.t(&format!("attendance_state.{}", s.as_str()))
    }
    pub fn count(&self, s: AttendanceState) -> usize {
        self.rows.iter().filter(|r| r.state == s).count()
    }
    pub fn states(&self) -> [AttendanceState; 3] {
        [AttendanceState::Out, AttendanceState::Depot, AttendanceState::Absent]
    }
}

async fn attendance_page(
    st: &AppState,
    u: &PageUser,
    date: NaiveDate,
    ok: Option<&str>,
    errors: FormErrors,
) -> Result<AttendancePage, PageError> {
    let rows = st.svc.attendance(&u.actor, date).await?;
    let c = Ctx::new(st, u, "/attendance", u.tr.t("attendance.title")).flash_from(ok);
    Ok(AttendancePage {
        c,
        date,
        prev: date.pred_opt().unwrap_or(date).to_string(),
        next: date.succ_opt().unwrap_or(date).to_string(),
        rows,
        can_absence: aftercare_domain::trips::may_set_absence(&u.actor.roles),
        errors,
    })
}

pub async fn view_attendance_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(q): PageQuery<DateParams>,
) -> Result<Response, PageError> {
    let date = date_or_today(&st, &u, q.date.as_deref())?;
    Ok(render(&attendance_page(&st, &u, date, q.ok.as_deref(), FormErrors::default()).await?))
}

pub async fn view_absence_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let input = AbsenceInput {
        user_id: field(&form, "user_id").and_then(|s| s.parse().ok()),
        day: field(&form, "day"),
        reason: field(&form, "reason"),
    };
    let date = date_or_today(&st, &u, input.day.as_deref())?;
    match st.svc.set_absence(&u.actor, &input, Utc::now()).await {
        Ok(()) => Ok(Redirect::to(&format!("/attendance?date={date}&ok=absence_saved")).into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = attendance_page(&st, &u, date, None, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------
// Vehicles and the town travel times.

#[derive(Template)]
#[template(path = "vehicles.html")]
pub struct VehiclesPage {
    pub c: Ctx,
    pub vehicles: Vec<VehicleRow>,
    pub m: TownMatrix,
    pub can_edit: bool,
    pub errors: FormErrors,
    pub values: Vec<(String, String)>,
}

impl VehiclesPage {
    pub fn val(&self, name: &str) -> String {
        field(&self.values, name).unwrap_or_default()
    }
    pub fn statuses(&self) -> &'static [VehicleStatus] {
        VehicleStatus::ALL
    }
    pub fn cell(&self, a: &str, b: &str) -> (i64, bool) {
        self.m.cell(a, b)
    }
    /// Later towns of the matrix than `i` (the upper triangle is edited).
    pub fn after(&self, i: &usize) -> Vec<&(String, i64, i64)> {
        self.m.towns.iter().skip(i + 1).collect()
    }
}

async fn vehicles_page(
    st: &AppState,
    u: &PageUser,
    ok: Option<&str>,
    errors: FormErrors,
    values: Vec<(String, String)>,
) -> Result<VehiclesPage, PageError> {
    let vehicles = st.svc.vehicles(&u.actor).await?;
    let m = st.svc.town_matrix(&u.actor).await?;
    let c = Ctx::new(st, u, "/trips", u.tr.t("vehicles.title")).crumb(u.tr.t("trips.title"), "/trips").flash_from(ok);
    let can_edit = aftercare_domain::trips::may_keep_vehicles(&u.actor.roles);
    Ok(VehiclesPage { c, vehicles, m, can_edit, errors, values })
}

pub async fn view_vehicles_get(
    State(st): State<AppState>,
    u: PageUser,
    PageQuery(p): PageQuery<super::OkParam>,
) -> Result<Response, PageError> {
    Ok(render(&vehicles_page(&st, &u, p.ok.as_deref(), FormErrors::default(), Vec::new()).await?))
}

/// Adds a vehicle (`id` empty) or changes one.
pub async fn view_vehicle_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    let mut e = FieldErrors::default();
    let seats = whole(&form, "seats", &mut e);
    let id = field(&form, "id").and_then(|s| s.parse().ok()).map(VehicleId);
    let input = VehicleInput {
        plate: field(&form, "plate"),
        name: field(&form, "name"),
        seats,
        status: field(&form, "status"),
        note: field(&form, "note"),
    };
    let r = if e.is_empty() {
        st.svc.save_vehicle(&u.actor, id, &input, Utc::now()).await.map(|_| ())
    } else {
        Err(ServiceError::Invalid(e))
    };
    match r {
        Ok(()) => Ok(Redirect::to("/vehicles?ok=vehicle_saved").into_response()),
        Err(e) => {
            let errors = form_errors(u.tr, e)?;
            let page = vehicles_page(&st, &u, None, errors, form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
    }
}

/// The matrix form: every pair whose box changed (`m|A|B` = minutes, empty = estimate).
pub async fn view_towns_post(
    State(st): State<AppState>,
    u: PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    u.check_csrf(&field(&form, "_csrf").unwrap_or_default())?;
    if !aftercare_domain::trips::may_keep_vehicles(&u.actor.roles) {
        return Err(PageError::from_service(u.tr, ServiceError::Forbidden));
    }
    let m = st.svc.town_matrix(&u.actor).await?;
    let now = Utc::now();
    for (k, v) in &form {
        let Some(pair) = k.strip_prefix("m|") else { continue };
        let Some((a, b)) = pair.split_once('|') else { continue };
        let (was, set) = m.cell(a, b);
        let v = v.trim();
        let minutes = if v.is_empty() { None } else { v.parse::<i64>().ok().or(Some(-1)) };
        let unchanged = match minutes {
            None => !set,
            Some(x) => set && x == was,
        };
        if unchanged {
            continue;
        }
        let input = TravelInput { from_town: Some(a.to_owned()), to_town: Some(b.to_owned()), minutes };
        if let Err(e) = st.svc.set_town_travel(&u.actor, &input, now).await {
            let errors = form_errors(u.tr, e)?;
            let page = vehicles_page(&st, &u, None, errors, Vec::new()).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
    }
    Ok(Redirect::to("/vehicles?ok=towns_saved#towns").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_a_typed_school_that_was_not_picked() {
        let form: Vec<(String, String)> = vec![
            ("trip_date".into(), "2026-12-07".into()),
            ("staff_ids".into(), "4".into()),
            ("staff_ids".into(), "5".into()),
            ("stop_0".into(), "12".into()),
            ("school_1".into(), "城关小学".into()),
        ];
        let t = trip_input(&form);
        assert_eq!(t.staff_ids, Some(vec![4, 5]));
        let stops = t.stops.unwrap_or_default();
        assert_eq!(stops.len(), 2);
        assert_eq!(stops[0].customer_id, Some(12));
        assert_eq!(stops[1].customer_id, None, "typed, not picked: the check names stops[1]");
    }
}
