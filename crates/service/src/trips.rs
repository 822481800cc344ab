//! Outings (外出, manual §3.1, §3.2.4, §2.2(3)(5), §2.6(3), form 6): vehicles and the town
//! travel times, trips planned by hand or from the day's proposal, what to bring, depart,
//! the stops, return with the odometer and the costs, the agent's verification by phone,
//! the manager's approval, the day board of who is where, and the numbers.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::trip_plan::{self, Job, JobRef, Proposal, Travel};
use aftercare_domain::trips::{
    AbsenceInput, AttendanceState, DepartInput, ItemInput, ItemKind, LeaveInput, ReturnInput, StopAction, StopInput,
    TravelInput, TripAction, TripContext, TripError, TripInput, TripPurpose, TripStatus, VehicleInput, VehicleStatus,
    VerifyInput, may_keep_vehicles, may_plan, may_read, may_set_absence, may_verify, purpose_of, stop_step, tools_for,
    transition, working_day,
};
use aftercare_domain::validation::clean;
use aftercare_domain::{FieldErrors, Role, System, TripId, TripItemId, TripStopId, VehicleId};
use aftercare_store::trips::{self as store, PlannedTrip};
use aftercare_store::{Page, Paged, StoreError};
use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub use aftercare_store::trips::{CostRow, ItemRow, StopJobRow, StopRow, TripFigures, TripQuery, TripRow, VehicleRow};

/// A trip as its page and the API show it: the row, the stops with their work, what to
/// bring, the costs and receipts, and what the viewer may do now. Six queries, whatever
/// the number of stops.
#[derive(Debug, Clone, Serialize)]
pub struct TripView {
    pub trip: TripRow,
    pub stops: Vec<StopRow>,
    pub jobs: Vec<StopJobRow>,
    pub items: Vec<ItemRow>,
    pub costs: Vec<CostRow>,
    pub photos: Vec<i64>,
    pub actions: Vec<TripAction>,
    /// The viewer is on the trip (or the manager): arrive, leave, tick, receipts.
    pub can_move: bool,
    /// The agent may record a verification call.
    pub can_verify: bool,
}

impl TripView {
    pub fn can(&self, a: TripAction) -> bool {
        self.actions.contains(&a)
    }
    pub fn jobs_of(&self, stop: &i64) -> Vec<&StopJobRow> {
        self.jobs.iter().filter(|j| j.stop_id == *stop).collect()
    }
    pub fn unticked(&self) -> usize {
        self.items.iter().filter(|i| !i.checked).count()
    }
    /// May `stop` be arrived at / left now by the viewer?
    pub fn may_step(&self, stop: &StopRow, a: StopAction) -> bool {
        self.can_move && self.trip.status == TripStatus::Out && {
            let ctx = TripContext { roles: vec![Role::Technician], is_staff: true, approved: false };
            stop_step(self.trip.status, a, stop.arrived_at.is_some(), stop.left_at.is_some(), &ctx).is_ok()
        }
    }
    /// Costs in yuan per kind, for the form.
    pub fn cost_of(&self, kind: &str) -> String {
        let c: i64 = self.costs.iter().filter(|c| c.kind.as_str() == kind).map(|c| c.amount_cents).sum();
        if c == 0 { String::new() } else { format!("{:.2}", c as f64 / 100.0) }
    }
}

/// Which trips a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TripScope {
    All,
    Mine,
    ToApprove,
    ToVerify,
}

impl TripScope {
    pub fn parse(s: &str) -> Option<TripScope> {
        match s {
            "all" | "" => Some(TripScope::All),
            "mine" => Some(TripScope::Mine),
            "to_approve" => Some(TripScope::ToApprove),
            "to_verify" => Some(TripScope::ToVerify),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TripScope::All => "all",
            TripScope::Mine => "mine",
            TripScope::ToApprove => "to_approve",
            TripScope::ToVerify => "to_verify",
        }
    }
}

/// The body of `POST /api/v1/trips/{id}/actions/{action}`: each action reads its fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripActionInput {
    pub odometer: Option<i64>,
    /// Depart: why lines are unticked; cancel: why it is called off.
    pub reason: Option<String>,
    pub costs: Option<Vec<aftercare_domain::trips::CostInput>>,
    pub summary: Option<String>,
}

/// The town matrix: each town's minutes from the depot and schools, and each pair's
/// minutes, set by the manager or estimated.
#[derive(Debug, Clone, Serialize)]
pub struct TownMatrix {
    /// (town, minutes from the depot, schools).
    pub towns: Vec<(String, i64, i64)>,
    /// (from, to) → (minutes, set by hand).
    pub pairs: BTreeMap<(String, String), (i64, bool)>,
}

impl TownMatrix {
    pub fn cell(&self, a: &str, b: &str) -> (i64, bool) {
        let key = if a < b { (a.to_owned(), b.to_owned()) } else { (b.to_owned(), a.to_owned()) };
        self.pairs.get(&key).copied().unwrap_or((0, false))
    }
}

/// A proposed trip as the page and the API show it, with the body that plans it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposedTripView {
    pub staff_names: String,
    pub vehicle_plate: Option<String>,
    /// `HH:MM`.
    pub start: String,
    pub end: String,
    pub road_minutes: i64,
    pub stops: Vec<ProposedStopView>,
    /// Post it to `POST /api/v1/trips` to plan the trip.
    pub input: TripInput,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposedStopView {
    pub customer_id: i64,
    pub customer_name: String,
    pub town: String,
    pub arrive: String,
    pub leave: String,
    /// Ticket and round numbers.
    pub jobs: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub date: NaiveDate,
    pub trips: Vec<ProposedTripView>,
    /// Numbers of the jobs that do not fit the day.
    pub unplaced: Vec<String>,
    pub road_minutes: i64,
    pub one_trip_per_job_minutes: i64,
    pub ticket_order_minutes: i64,
    pub jobs: usize,
}

/// Where a field person is on a day (DESIGN.md §5).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttendanceRow {
    pub user_id: i64,
    pub name: String,
    pub phone: Option<String>,
    /// `depot`, `out` or `absent`.
    pub state: AttendanceState,
    /// Why away.
    pub reason: Option<String>,
    /// The trip out now, else the day's next or last one.
    pub trip_id: Option<i64>,
    pub trip_number: Option<String>,
    pub trip_status: Option<TripStatus>,
    /// The school they are at (or last left, or head to first).
    pub stop: Option<String>,
    /// They are at the stop now (arrived, not left).
    pub at_stop: bool,
    /// The stop is the last one they left (the trip is on its way back or back).
    pub stop_left: bool,
    pub expected_back: Option<DateTime<Utc>>,
    pub trips_today: usize,
}

/// Numbers over a period: per person and per vehicle.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TripReport {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub people: Vec<TripFigures>,
    pub vehicles: Vec<TripFigures>,
}

/// One month's trips for the sheet: the rows, their stops and their costs per kind.
#[derive(Debug, Clone)]
pub struct TripMonth {
    pub trips: Vec<TripRow>,
    pub stops: Vec<StopRow>,
    /// trip → kind → cents.
    pub costs: HashMap<i64, HashMap<String, i64>>,
    pub report: TripReport,
}

const MAX_MONTH_TRIPS: u32 = 5_000;

fn refused(e: TripError) -> ServiceError {
    match e {
        TripError::Forbidden { .. } => ServiceError::Forbidden,
        TripError::IllegalState { action, status } => {
            ServiceError::Transition { action: action_key(action), status: status_key(status), reason: None }
        }
        TripError::AlreadyApproved => {
            ServiceError::Transition { action: "trip_approve", status: "trip_returned", reason: Some("trip_approved") }
        }
    }
}

/// The keys the error messages look up (`ticket.action.<key>`, `ticket.status.<key>`).
fn action_key(a: TripAction) -> &'static str {
    match a {
        TripAction::Depart => "trip_depart",
        TripAction::Return => "trip_return",
        TripAction::Cancel => "trip_cancel",
        TripAction::Approve => "trip_approve",
    }
}

fn status_key(s: TripStatus) -> &'static str {
    match s {
        TripStatus::Planned => "trip_planned",
        TripStatus::Out => "trip_out",
        TripStatus::Returned => "trip_returned",
        TripStatus::Cancelled => "trip_cancelled",
    }
}

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes.div_euclid(60), minutes.rem_euclid(60))
}

impl Services {
    /// A time of a local day as an instant (a time a clock change skips counts as UTC).
    fn local(&self, day: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        let local = day.and_time(t);
        aftercare_domain::clock::local_to_utc(local, self.tz).unwrap_or_else(|| local.and_utc())
    }

    fn trip_context(by: &Actor, row: &TripRow) -> TripContext {
        TripContext { roles: by.roles.clone(), is_staff: row.has_staff(by.id.0), approved: row.approved_at.is_some() }
    }

    pub async fn vehicles(&self, by: &Actor) -> Result<Vec<VehicleRow>> {
        require(may_read(&by.roles))?;
        Ok(store::vehicles(&self.db).await?)
    }

    pub async fn save_vehicle(
        &self,
        by: &Actor,
        id: Option<VehicleId>,
        input: &VehicleInput,
        now: DateTime<Utc>,
    ) -> Result<VehicleRow> {
        require(may_keep_vehicles(&by.roles))?;
        let v = input.validate()?;
        let saved = store::save_vehicle(&self.db, &self.writer(by), id.map(|i| i.0), &v, now).await?;
        store::vehicles(&self.db).await?.into_iter().find(|r| r.id == saved).ok_or(ServiceError::NotFound)
    }

    /// The road minutes the proposal and the matrix page use.
    async fn travel(&self) -> Result<(Travel, Vec<(String, i64, i64)>)> {
        let towns = store::town_minutes(&self.db).await?;
        let mut t = Travel::default();
        let mut out = Vec::with_capacity(towns.len());
        for (town, avg, n) in towns {
            let m = avg.map(|a| a.round() as i64).unwrap_or(trip_plan::UNKNOWN_TOWN_MINUTES);
            t.depot.insert(town.clone(), m);
            out.push((town, m, n));
        }
        for (a, b, m) in store::town_travel(&self.db).await? {
            t.between.insert((a, b), m);
        }
        Ok((t, out))
    }

    /// The town × town matrix, set pairs and estimates.
    pub async fn town_matrix(&self, by: &Actor) -> Result<TownMatrix> {
        require(may_read(&by.roles))?;
        let (travel, towns) = self.travel().await?;
        let mut pairs = BTreeMap::new();
        for (i, (a, _, _)) in towns.iter().enumerate() {
            for (b, _, _) in &towns[i + 1..] {
                let set = travel.between.contains_key(&(a.clone(), b.clone()));
                pairs.insert((a.clone(), b.clone()), (travel.between(a, b), set));
            }
        }
        Ok(TownMatrix { towns, pairs })
    }

    pub async fn set_town_travel(&self, by: &Actor, input: &TravelInput, now: DateTime<Utc>) -> Result<()> {
        require(may_keep_vehicles(&by.roles))?;
        let (a, b, m) = input.validate()?;
        let (_, towns) = self.travel().await?;
        let mut e = FieldErrors::default();
        for (f, t) in [("from_town", &a), ("to_town", &b)] {
            if !towns.iter().any(|(n, _, _)| n == t) {
                e.push(f, "not_found");
            }
        }
        e.in_area("trips").into_result(())?;
        Ok(store::set_town_travel(&self.db, &self.writer(by), &a, &b, m, now).await?)
    }

    /// Plans a trip: the staff must be field staff, the vehicle in service, each stop's
    /// work at that school; a stop without ids takes the school's work of the day for the
    /// staff. What to bring is drawn from that work. 409 when a person or the vehicle is
    /// on another trip at that time.
    pub async fn plan_trip(&self, by: &Actor, input: &TripInput, now: DateTime<Utc>) -> Result<TripView> {
        require(may_plan(&by.roles))?;
        let t = input.validate()?;
        let mut e = FieldErrors::default();
        let field = self.field_staff().await?;
        for (i, s) in t.staff_ids.iter().enumerate() {
            if !field.iter().any(|(id, _, _)| id == s) {
                e.push(format!("staff_ids[{i}]"), "not_found");
            }
        }
        if let Some(v) = t.vehicle_id {
            match store::vehicles(&self.db).await?.iter().find(|r| r.id == v) {
                None => e.push("vehicle_id", "not_found"),
                Some(r) if r.status != VehicleStatus::Active => e.push("vehicle_id", "vehicle_unavailable"),
                Some(_) => {}
            }
        }
        let mut stops = Vec::with_capacity(t.stops.len());
        let (mut all_tickets, mut all_rounds) = (Vec::new(), Vec::new());
        for (i, s) in t.stops.iter().enumerate() {
            let (tickets, rounds) = match (&s.ticket_ids, &s.inspection_ids) {
                (None, None) => store::school_work(&self.db, s.customer_id, t.trip_date, &t.staff_ids).await?,
                (tk, r) => {
                    let tk = tk.clone().unwrap_or_default();
                    let r = r.clone().unwrap_or_default();
                    let (ok_t, ok_r) = store::of_school(&self.db, s.customer_id, &tk, &r).await?;
                    for (j, x) in tk.iter().enumerate() {
                        if !ok_t.contains(x) {
                            e.push(format!("stops[{i}].ticket_ids[{j}]"), "not_found");
                        }
                    }
                    for (j, x) in r.iter().enumerate() {
                        if !ok_r.contains(x) {
                            e.push(format!("stops[{i}].inspection_ids[{j}]"), "not_found");
                        }
                    }
                    (ok_t, ok_r)
                }
            };
            all_tickets.extend(tickets.iter().copied());
            all_rounds.extend(rounds.iter().copied());
            stops.push((s.customer_id, tickets, rounds));
        }
        e.in_area("trips").into_result(())?;
        let items = self.to_bring(&all_tickets, &all_rounds).await?;
        let plan = PlannedTrip {
            trip_date: t.trip_date,
            staff_ids: t.staff_ids.clone(),
            vehicle_id: t.vehicle_id,
            transport: t.transport,
            purpose: t.purpose.unwrap_or_else(|| purpose_of(all_tickets.len(), all_rounds.len())),
            planned_start: self.local(t.trip_date, t.planned_start),
            planned_end: self.local(t.trip_date, t.planned_end),
            note: t.note.clone(),
            stops,
            items,
        };
        let (id, _) = match store::create(&self.db, &self.writer(by), &plan, now).await {
            Ok(made) => made,
            Err(StoreError::Overlap { trip, user_id }) => {
                let who = match user_id {
                    Some(u) => field.iter().find(|(id, _, _)| *id == u).map(|(_, n, _)| n.clone()).unwrap_or_default(),
                    None => store::vehicles(&self.db)
                        .await?
                        .into_iter()
                        .find(|v| Some(v.id) == t.vehicle_id)
                        .map(|v| v.plate)
                        .unwrap_or_default(),
                };
                return Err(ServiceError::Overlap { who, trip });
            }
            Err(other) => return Err(other.into()),
        };
        self.trip(by, TripId(id)).await
    }

    /// What to bring for this work (§2.6(3)): the requisitions' parts, the tickets' "parts
    /// to bring", a 《巡检记录表》 per round, and the tools for the systems.
    async fn to_bring(&self, tickets: &[i64], rounds: &[i64]) -> Result<Vec<(ItemKind, String, Option<i64>)>> {
        let n = store::needs(&self.db, tickets, rounds).await?;
        let mut out: Vec<(ItemKind, String, Option<i64>)> = Vec::new();
        for (part, qty, req) in n.parts {
            out.push((ItemKind::Part, format!("{part}（{req}）"), Some(qty)));
        }
        for (number, text) in n.to_bring {
            out.push((ItemKind::Part, format!("{text}（{number}）"), None));
        }
        let mut systems: Vec<System> = n.systems.iter().filter_map(|s| System::parse(s)).collect();
        for (number, school, sys) in n.rounds {
            out.push((ItemKind::Form, format!("《巡检记录表》{number} {school}"), None));
            systems.extend(aftercare_domain::inspections::systems_from(&sys));
        }
        systems.sort();
        systems.dedup();
        for s in systems {
            for tool in tools_for(s) {
                if !out.iter().any(|(_, t, _)| t == tool) {
                    out.push((ItemKind::Tool, (*tool).to_owned(), None));
                }
            }
        }
        Ok(out)
    }

    /// Technicians and engineers, active: (id, name, phone).
    async fn field_staff(&self) -> Result<Vec<(i64, String, Option<String>)>> {
        let mut out: Vec<(i64, String, Option<String>)> = Vec::new();
        for role in [Role::Technician, Role::Engineer] {
            for u in aftercare_store::users::with_role(&self.db, role.as_str()).await? {
                if !out.iter().any(|(id, _, _)| *id == u.id) {
                    out.push((u.id, u.display_name, u.phone));
                }
            }
        }
        Ok(out)
    }

    /// The people a trip can carry (the forms' choices).
    pub async fn trip_staff_choices(&self, by: &Actor) -> Result<Vec<(i64, String)>> {
        require(may_read(&by.roles))?;
        Ok(self.field_staff().await?.into_iter().map(|(i, n, _)| (i, n)).collect())
    }

    pub async fn trip(&self, by: &Actor, id: TripId) -> Result<TripView> {
        require(may_read(&by.roles))?;
        let row = store::get(&self.db, id.0).await?;
        let stops = store::stops_of(&self.db, &[id.0]).await?;
        let jobs = store::stop_jobs(&self.db, id.0).await?;
        let items = store::items(&self.db, id.0).await?;
        let costs = store::costs(&self.db, id.0).await?;
        let photos = store::photos(&self.db, id.0).await?;
        let ctx = Self::trip_context(by, &row);
        let actions = TripAction::ALL.iter().copied().filter(|a| transition(row.status, *a, &ctx).is_ok()).collect();
        let can_move = ctx.is_staff || by.is_admin_or_manager();
        let can_verify = may_verify(&by.roles) && matches!(row.status, TripStatus::Out | TripStatus::Returned);
        Ok(TripView { trip: row, stops, jobs, items, costs, photos, actions, can_move, can_verify })
    }

    pub async fn list_trips(
        &self,
        by: &Actor,
        scope: TripScope,
        mut q: TripQuery,
        page: Page,
    ) -> Result<Paged<TripRow>> {
        require(may_read(&by.roles))?;
        match scope {
            TripScope::All => {}
            TripScope::Mine => q.user_id = Some(by.id.0),
            TripScope::ToApprove => q.to_approve = true,
            TripScope::ToVerify => q.to_verify = true,
        }
        Ok(store::list(&self.db, &q, page).await?)
    }

    pub async fn count_trips(&self, by: &Actor, scope: TripScope) -> Result<i64> {
        require(may_read(&by.roles))?;
        let mut q = TripQuery::default();
        match scope {
            TripScope::All => {}
            TripScope::Mine => {
                q.user_id = Some(by.id.0);
                q.from = Some(self.today());
                q.until = Some(self.today());
            }
            TripScope::ToApprove => q.to_approve = true,
            TripScope::ToVerify => q.to_verify = true,
        }
        Ok(store::count(&self.db, &q).await?)
    }

    /// Depart, return, cancel or approve.
    pub async fn trip_action(
        &self,
        by: &Actor,
        id: TripId,
        action: TripAction,
        input: &TripActionInput,
        now: DateTime<Utc>,
    ) -> Result<TripView> {
        let view = self.trip(by, id).await?;
        let row = &view.trip;
        let ctx = Self::trip_context(by, row);
        transition(row.status, action, &ctx).map_err(refused)?;
        let w = self.writer(by);
        match action {
            TripAction::Depart => {
                let d = DepartInput { odometer: input.odometer, reason: input.reason.clone() };
                let (odo, reason) = d.validate(view.unticked())?;
                store::depart(&self.db, &w, id.0, odo, reason.as_deref(), now).await?;
            }
            TripAction::Return => {
                let r = ReturnInput {
                    odometer: input.odometer,
                    costs: input.costs.clone(),
                    summary: input.summary.clone(),
                };
                let r = r.validate(row.depart_odometer)?;
                store::return_trip(&self.db, &w, id.0, &r, now).await?;
            }
            TripAction::Cancel => {
                let reason = match clean(input.reason.as_deref()) {
                    None => return Err(FieldErrors::single("reason", "required").into()),
                    Some(r) if r.chars().count() > 500 => return Err(FieldErrors::single("reason", "too_long").into()),
                    Some(r) => r,
                };
                store::cancel(&self.db, &w, id.0, &reason, now).await?;
            }
            TripAction::Approve => store::approve(&self.db, &w, id.0, now).await?,
        }
        self.trip(by, id).await
    }

    /// Arrive at or leave a stop.
    pub async fn stop_action(
        &self,
        by: &Actor,
        id: TripId,
        stop: TripStopId,
        action: StopAction,
        input: &LeaveInput,
        now: DateTime<Utc>,
    ) -> Result<TripView> {
        let view = self.trip(by, id).await?;
        let s = view.stops.iter().find(|s| s.id == stop.0).ok_or(ServiceError::NotFound)?;
        let ctx = Self::trip_context(by, &view.trip);
        if let Err(why) = stop_step(view.trip.status, action, s.arrived_at.is_some(), s.left_at.is_some(), &ctx) {
            if why == "forbidden" {
                return Err(ServiceError::Forbidden);
            }
            return Err(ServiceError::Transition {
                action: if action == StopAction::Arrive { "trip_arrive" } else { "trip_leave" },
                status: status_key(view.trip.status),
                reason: Some(why),
            });
        }
        let (confirmed_by, note) = input.validate()?;
        let leaving = (confirmed_by.as_deref(), note.as_deref());
        store::stop_step(&self.db, &self.writer(by), (id.0, stop.0), action, leaving, now).await?;
        self.trip(by, id).await
    }

    /// The agent's call to a stop's school (出勤核实).
    pub async fn verify_stop(
        &self,
        by: &Actor,
        id: TripId,
        stop: TripStopId,
        input: &VerifyInput,
        now: DateTime<Utc>,
    ) -> Result<TripView> {
        require(may_verify(&by.roles))?;
        let view = self.trip(by, id).await?;
        if !view.stops.iter().any(|s| s.id == stop.0) {
            return Err(ServiceError::NotFound);
        }
        if !view.can_verify {
            return Err(ServiceError::Transition {
                action: "trip_verify",
                status: status_key(view.trip.status),
                reason: None,
            });
        }
        let v = input.validate()?;
        store::verify(&self.db, &self.writer(by), id.0, stop.0, &v, now).await?;
        self.trip(by, id).await
    }

    fn may_prepare(&self, by: &Actor, view: &TripView) -> Result<()> {
        if !view.can_move && !may_plan(&by.roles) {
            return Err(ServiceError::Forbidden);
        }
        if view.trip.status != TripStatus::Planned {
            return Err(ServiceError::Transition {
                action: "trip_tick",
                status: status_key(view.trip.status),
                reason: None,
            });
        }
        Ok(())
    }

    /// Ticks (or unticks) a line of what to bring, before departure.
    pub async fn tick_item(
        &self,
        by: &Actor,
        id: TripId,
        item: TripItemId,
        checked: bool,
        now: DateTime<Utc>,
    ) -> Result<TripView> {
        let view = self.trip(by, id).await?;
        self.may_prepare(by, &view)?;
        if !view.items.iter().any(|i| i.id == item.0) {
            return Err(ServiceError::NotFound);
        }
        store::tick(&self.db, &self.writer(by), id.0, item.0, checked, now).await?;
        self.trip(by, id).await
    }

    pub async fn add_trip_item(&self, by: &Actor, id: TripId, input: &ItemInput) -> Result<TripView> {
        let view = self.trip(by, id).await?;
        self.may_prepare(by, &view)?;
        let (kind, text, qty) = input.validate()?;
        if view.items.len() >= 200 {
            return Err(FieldErrors::single("text", "too_long").into());
        }
        store::add_item(&self.db, id.0, kind, &text, qty).await?;
        self.trip(by, id).await
    }

    /// A receipt photo, by the trip's staff while out or back; only checked raster images.
    pub async fn add_trip_photo(&self, by: &Actor, id: TripId, data: &[u8], now: DateTime<Utc>) -> Result<i64> {
        let view = self.trip(by, id).await?;
        if !view.can_move {
            return Err(ServiceError::Forbidden);
        }
        if !matches!(view.trip.status, TripStatus::Out | TripStatus::Returned) || view.trip.approved_at.is_some() {
            return Err(ServiceError::Transition {
                action: "trip_receipt",
                status: status_key(view.trip.status),
                reason: None,
            });
        }
        if data.len() > crate::attachments::MAX_ATTACHMENT_BYTES {
            return Err(FieldErrors::single("photo", "too_long").into());
        }
        let ct = crate::attachments::sniff_image(data).ok_or_else(|| FieldErrors::single("photo", "not_image"))?;
        Ok(store::add_photo(&self.db, &self.writer(by), id.0, ct, data, now).await?)
    }

    pub async fn trip_photo(&self, by: &Actor, photo: i64) -> Result<(String, Vec<u8>)> {
        require(may_read(&by.roles))?;
        let (_, ct, data) = store::photo(&self.db, photo).await?.ok_or(ServiceError::NotFound)?;
        Ok((ct, data))
    }

    /// The day's proposal: the scheduled repairs and planned rounds not yet on a trip, by
    /// team and town within the working day, with the road minutes against ticket order.
    pub async fn trip_proposal(&self, by: &Actor, date: NaiveDate) -> Result<ProposalView> {
        require(may_plan(&by.roles))?;
        let (day_start, day_end) = working_day();
        let (from, until) = aftercare_domain::clock::day_bounds(date, self.tz);
        let rows = store::day_jobs(&self.db, date, from, until).await?;
        let (travel, _) = self.travel().await?;
        let jobs: Vec<Job> = rows
            .iter()
            .map(|r| Job {
                job: if r.kind == "ticket" { JobRef::Ticket(r.id) } else { JobRef::Inspection(r.id) },
                customer_id: r.customer_id,
                town: r.town.clone(),
                depot_minutes: r.travel_minutes,
                on_site: if r.kind == "ticket" { trip_plan::REPAIR_MINUTES } else { trip_plan::ROUND_MINUTES },
                staff: r.staff_ids.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
            })
            .collect();
        let mins = |t: NaiveTime| i64::from(t.hour() * 60 + t.minute());
        let busy = store::list(
            &self.db,
            &TripQuery { from: Some(date), until: Some(date), ..Default::default() },
            Page::all(),
        )
        .await?;
        let vehicles: Vec<i64> = store::vehicles(&self.db)
            .await?
            .into_iter()
            .filter(|v| v.status == VehicleStatus::Active)
            .filter(|v| !busy.items.iter().any(|t| t.vehicle_id == Some(v.id) && t.status != TripStatus::Cancelled))
            .map(|v| v.id)
            .collect();
        let p: Proposal = trip_plan::propose(&jobs, &travel, (mins(day_start), mins(day_end)), &vehicles);
        self.proposal_view(date, &rows, p).await
    }

    async fn proposal_view(&self, date: NaiveDate, rows: &[store::DayJobRow], p: Proposal) -> Result<ProposalView> {
        let names: HashMap<i64, String> = self.field_staff().await?.into_iter().map(|(i, n, _)| (i, n)).collect();
        let plates: HashMap<i64, String> =
            store::vehicles(&self.db).await?.into_iter().map(|v| (v.id, v.plate)).collect();
        let label = |j: &JobRef| -> String {
            let (kind, id) = match j {
                JobRef::Ticket(i) => ("ticket", *i),
                JobRef::Inspection(i) => ("inspection", *i),
            };
            rows.iter().find(|r| r.kind == kind && r.id == id).map(|r| r.number.clone()).unwrap_or_default()
        };
        let school = |c: i64| rows.iter().find(|r| r.customer_id == c).map(|r| r.customer_name.clone());
        let trips = p
            .trips
            .iter()
            .map(|t| {
                let stops = t
                    .stops
                    .iter()
                    .map(|s| ProposedStopView {
                        customer_id: s.customer_id,
                        customer_name: school(s.customer_id).unwrap_or_default(),
                        town: s.town.clone(),
                        arrive: hhmm(s.arrive),
                        leave: hhmm(s.leave),
                        jobs: s.jobs.iter().map(label).collect(),
                    })
                    .collect();
                let input = TripInput {
                    trip_date: Some(date.to_string()),
                    staff_ids: Some(t.staff.clone()),
                    vehicle_id: t.vehicle_id,
                    transport: None,
                    purpose: None,
                    planned_start: Some(hhmm(t.start)),
                    planned_end: Some(hhmm(t.end.max(t.start + 1))),
                    note: None,
                    stops: Some(
                        t.stops
                            .iter()
                            .map(|s| StopInput {
                                customer_id: Some(s.customer_id),
                                ticket_ids: Some(
                                    s.jobs
                                        .iter()
                                        .filter_map(|j| if let JobRef::Ticket(i) = j { Some(*i) } else { None })
                                        .collect(),
                                ),
                                inspection_ids: Some(
                                    s.jobs
                                        .iter()
                                        .filter_map(|j| if let JobRef::Inspection(i) = j { Some(*i) } else { None })
                                        .collect(),
                                ),
                                training_ids: None,
                            })
                            .collect(),
                    ),
                };
                ProposedTripView {
                    staff_names: t.staff.iter().filter_map(|s| names.get(s).cloned()).collect::<Vec<_>>().join("、"),
                    vehicle_plate: t.vehicle_id.and_then(|v| plates.get(&v).cloned()),
                    start: hhmm(t.start),
                    end: hhmm(t.end),
                    road_minutes: t.road_minutes,
                    stops,
                    input,
                }
            })
            .collect();
        Ok(ProposalView {
            date,
            trips,
            unplaced: p.unplaced.iter().map(label).collect(),
            road_minutes: p.road_minutes,
            one_trip_per_job_minutes: p.one_trip_per_job_minutes,
            ticket_order_minutes: p.ticket_order_minutes,
            jobs: rows.len(),
        })
    }

    /// Plans the `index`th trip of the day's proposal as it stands now (the page's accept).
    pub async fn accept_proposal(
        &self,
        by: &Actor,
        date: NaiveDate,
        index: usize,
        now: DateTime<Utc>,
    ) -> Result<TripView> {
        let p = self.trip_proposal(by, date).await?;
        let t = p.trips.get(index).ok_or(ServiceError::NotFound)?;
        self.plan_trip(by, &t.input, now).await
    }

    /// The day board: every field person — away, out (the trip, the stop, expected back)
    /// or at the depot.
    pub async fn attendance(&self, by: &Actor, date: NaiveDate) -> Result<Vec<AttendanceRow>> {
        require(may_read(&by.roles))?;
        let people = self.field_staff().await?;
        let away: HashMap<i64, String> = store::absences(&self.db, date).await?.into_iter().collect();
        let trips = store::list(
            &self.db,
            &TripQuery { from: Some(date), until: Some(date), soonest_first: true, ..Default::default() },
            Page::all(),
        )
        .await?
        .items;
        let trips: Vec<TripRow> = trips.into_iter().filter(|t| t.status != TripStatus::Cancelled).collect();
        let ids: Vec<i64> = trips.iter().map(|t| t.id).collect();
        let stops = store::stops_of(&self.db, &ids).await?;
        let mut out = Vec::with_capacity(people.len());
        for (uid, name, phone) in people {
            let mine: Vec<&TripRow> = trips.iter().filter(|t| t.has_staff(uid)).collect();
            let current = mine
                .iter()
                .find(|t| t.status == TripStatus::Out)
                .or_else(|| mine.iter().find(|t| t.status == TripStatus::Planned))
                .or_else(|| mine.last())
                .copied();
            let state = if away.contains_key(&uid) {
                AttendanceState::Absent
            } else if mine.iter().any(|t| t.status == TripStatus::Out) {
                AttendanceState::Out
            } else {
                AttendanceState::Depot
            };
            let (stop, at_stop, stop_left) = match current {
                Some(t) => {
                    let of: Vec<&StopRow> = stops.iter().filter(|s| s.trip_id == t.id).collect();
                    let here = of.iter().find(|s| s.arrived_at.is_some() && s.left_at.is_none());
                    let next = of.iter().find(|s| s.arrived_at.is_none());
                    let last = of.iter().rev().find(|s| s.left_at.is_some());
                    match (here, next, last) {
                        (Some(s), _, _) => (Some(s.customer_name.clone()), true, false),
                        (None, Some(s), _) => (Some(s.customer_name.clone()), false, false),
                        (None, None, Some(s)) => (Some(s.customer_name.clone()), false, true),
                        _ => (None, false, false),
                    }
                }
                None => (None, false, false),
            };
            out.push(AttendanceRow {
                user_id: uid,
                name,
                phone,
                state,
                reason: away.get(&uid).cloned(),
                trip_id: current.map(|t| t.id),
                trip_number: current.map(|t| t.number.clone()),
                trip_status: current.map(|t| t.status),
                stop,
                at_stop,
                stop_left,
                expected_back: current.filter(|t| t.status != TripStatus::Returned).map(|t| t.planned_end),
                trips_today: mine.len(),
            });
        }
        Ok(out)
    }

    /// Sets or clears a day away for a field person.
    pub async fn set_absence(&self, by: &Actor, input: &AbsenceInput, now: DateTime<Utc>) -> Result<()> {
        require(may_set_absence(&by.roles))?;
        let (user, day, reason) = input.validate()?;
        if !self.field_staff().await?.iter().any(|(id, _, _)| *id == user) {
            return Err(FieldErrors::single("user_id", "not_found").into());
        }
        Ok(store::set_absence(&self.db, &self.writer(by), user, day, reason.as_deref(), now).await?)
    }

    /// Kilometres, costs, verified stops and visits per person and per vehicle.
    pub async fn trip_report(&self, by: &Actor, from: NaiveDate, until: NaiveDate) -> Result<TripReport> {
        require(by.has_any(&[Role::Manager, Role::Admin, Role::Engineer, Role::Agent]))?;
        if until < from || (until - from).num_days() > 366 {
            return Err(FieldErrors::single("until", "date_order").into());
        }
        Ok(TripReport {
            from,
            until,
            people: store::figures(&self.db, from, until, false).await?,
            vehicles: store::figures(&self.db, from, until, true).await?,
        })
    }

    /// A month's trips for form 6's sheet, optionally of one person or one vehicle.
    pub async fn trip_month(
        &self,
        by: &Actor,
        month: NaiveDate,
        user: Option<i64>,
        vehicle: Option<i64>,
    ) -> Result<TripMonth> {
        let (from, until) = Self::month_of(month);
        let report = self.trip_report(by, from, until).await?;
        let q = TripQuery {
            from: Some(from),
            until: Some(until),
            user_id: user,
            vehicle_id: vehicle,
            soonest_first: true,
            ..Default::default()
        };
        let trips = store::list(&self.db, &q, Page { page: 1, per_page: MAX_MONTH_TRIPS }).await?.items;
        let ids: Vec<i64> = trips.iter().map(|t| t.id).collect();
        let stops = store::stops_of(&self.db, &ids).await?;
        let mut costs: HashMap<i64, HashMap<String, i64>> = HashMap::new();
        for (trip, kind, cents) in store::costs_of(&self.db, &ids).await? {
            *costs.entry(trip).or_default().entry(kind).or_default() += cents;
        }
        Ok(TripMonth { trips, stops, costs, report })
    }

    /// The times a visit to `ticket` recorded by `by` takes from the trip that carried him
    /// there: (departed, arrived at the stop, returned).
    pub async fn visit_trip_times(
        &self,
        by: &Actor,
        ticket: aftercare_domain::TicketId,
    ) -> Result<Option<(Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>> {
        Ok(store::ticket_trip_times(&self.db, ticket.0, by.id.0).await?.map(|(_, d, a, r)| (d, a, r)))
    }

    /// A trip's purpose when the page shows it (for the form's label).
    pub fn purposes() -> &'static [TripPurpose] {
        TripPurpose::ALL
    }
}
