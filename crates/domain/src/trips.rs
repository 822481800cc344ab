//! Outings (外出, manual §3.1, §3.2.4, §2.6(3), DESIGN.md §3a, form 6 《外出工作记录表》):
//! vehicles, trips with their stops, what to bring, the costs, and the rules — who may do
//! what to a trip now, when two trips collide, what the odometer may say. Pure.

use crate::validation::{FieldErrors, clean, optional, optional_date, optional_enum, required};
use crate::{Role, System};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Where a trip stands (DESIGN.md §3a; fixed).
    TripStatus {
        Planned = "planned",
        Out = "out",
        Returned = "returned",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// `POST /api/v1/trips/{id}/actions/{action}`.
    TripAction {
        Depart = "depart",
        Return = "return",
        Cancel = "cancel",
        /// The manager's 审批 of a returned trip.
        Approve = "approve",
    }
);

string_enum!(
    /// `POST /api/v1/trips/{id}/stops/{stop_id}/{action}`.
    StopAction {
        Arrive = "arrive",
        Leave = "leave",
    }
);

string_enum!(
    /// 交通工具 (DOMAIN.md §1.6).
    Transport {
        /// 公司车, with a plate.
        CompanyVehicle = "company_vehicle",
        /// 私车公用.
        PrivateCar = "private_car",
        /// 公共交通.
        PublicTransport = "public_transport",
    }
);

string_enum!(
    /// 外出事由 (DOMAIN.md §1.6): 维修 / 巡检 / 培训 / 勘查 / 送件.
    TripPurpose {
        Repair = "repair",
        Inspection = "inspection",
        Training = "training",
        Survey = "survey",
        Delivery = "delivery",
        Other = "other",
    }
);

string_enum!(
    /// A cost of the trip, reimbursed on the receipts (报销依据).
    CostKind {
        Fuel = "fuel",
        Toll = "toll",
        Meal = "meal",
        Other = "other",
    }
);

string_enum!(
    VehicleStatus {
        Active = "active",
        /// In the garage: not offered for trips.
        InRepair = "in_repair",
        Retired = "retired",
    }
);

string_enum!(
    /// A line of what to bring (§2.6(3)).
    ItemKind {
        /// From a stop's requisition or its ticket's "parts to bring".
        Part = "part",
        Tool = "tool",
        /// 《巡检记录表》 for a round, forms to be signed.
        Form = "form",
        Other = "other",
    }
);

string_enum!(
    /// Where a field person is on a day (`GET /api/v1/attendance`; fixed).
    AttendanceState {
        Depot = "depot",
        Out = "out",
        Absent = "absent",
    }
);

/// What is true of the actor and the trip when an action is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TripContext {
    pub roles: Vec<Role>,
    /// The actor is one of the trip's staff.
    pub is_staff: bool,
    /// The manager approved it already.
    pub approved: bool,
}

impl TripContext {
    fn has(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
    fn is_manager(&self) -> bool {
        self.has(Role::Manager) || self.has(Role::Admin)
    }
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TripError {
    #[error("{action} is not allowed for this user")]
    Forbidden { action: TripAction },
    #[error("cannot {action} a trip that is {status}")]
    IllegalState { action: TripAction, status: TripStatus },
    #[error("already approved")]
    AlreadyApproved,
}

/// Who may plan a trip (and accept a proposal): the engineer, the agent, the manager.
pub fn may_plan(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Agent | Role::Manager | Role::Admin))
}

/// Who sees trips at all: staff, never a school.
pub fn may_read(roles: &[Role]) -> bool {
    roles.iter().any(|r| !matches!(r, Role::Customer))
}

/// Who keeps the vehicles and the town travel times, and sets a day's absence: the manager
/// (and the engineer, who plans the week, for absences).
pub fn may_keep_vehicles(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Manager | Role::Admin))
}

pub fn may_set_absence(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Manager | Role::Admin | Role::Engineer))
}

/// The agent phones the schools to verify attendance (出勤核实).
pub fn may_verify(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Agent | Role::Manager | Role::Admin))
}

/// May this actor do this action at all (before looking at the state)?
pub fn may(action: TripAction, ctx: &TripContext) -> bool {
    match action {
        TripAction::Approve => ctx.is_manager(),
        TripAction::Depart | TripAction::Return => ctx.is_staff || ctx.is_manager(),
        TripAction::Cancel => may_plan(&ctx.roles),
    }
}

/// The state an action leads to, or why not: role, then state.
pub fn transition(status: TripStatus, action: TripAction, ctx: &TripContext) -> Result<TripStatus, TripError> {
    use TripAction as A;
    use TripStatus as S;
    if !may(action, ctx) {
        return Err(TripError::Forbidden { action });
    }
    match (action, status) {
        (A::Depart, S::Planned) => Ok(S::Out),
        (A::Return, S::Out) => Ok(S::Returned),
        (A::Cancel, S::Planned) => Ok(S::Cancelled),
        (A::Approve, S::Returned) if ctx.approved => Err(TripError::AlreadyApproved),
        (A::Approve, S::Returned) => Ok(S::Returned),
        _ => Err(TripError::IllegalState { action, status }),
    }
}

/// Arriving at or leaving a stop: the trip's staff while it is out, a stop reached before
/// it is left, each once. `Err` carries the reason's key.
pub fn stop_step(
    status: TripStatus,
    action: StopAction,
    arrived: bool,
    left: bool,
    ctx: &TripContext,
) -> Result<(), &'static str> {
    if !(ctx.is_staff || ctx.is_manager()) {
        return Err("forbidden");
    }
    if status != TripStatus::Out {
        return Err("trip_not_out");
    }
    match action {
        StopAction::Arrive if arrived => Err("stop_already_arrived"),
        StopAction::Arrive => Ok(()),
        StopAction::Leave if !arrived => Err("stop_not_reached"),
        StopAction::Leave if left => Err("stop_already_left"),
        StopAction::Leave => Ok(()),
    }
}

/// Two planned windows overlap when each starts before the other ends (a trip back at
/// 12:00 and one leaving at 12:00 do not collide).
pub fn overlaps<T: PartialOrd>(a: (T, T), b: (T, T)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The kilometres driven, or the field error when the return reading is below departure.
pub fn distance(depart: Option<i64>, back: Option<i64>) -> Result<Option<i64>, FieldErrors> {
    match (depart, back) {
        (Some(d), Some(b)) if b < d => Err(FieldErrors::single("odometer", "below_departure").in_area("trips")),
        (Some(d), Some(b)) => Ok(Some(b - d)),
        _ => Ok(None),
    }
}

/// The most stops one trip may carry, the most staff, jobs per stop and lines to bring.
pub const MAX_STOPS: usize = 30;
pub const MAX_STAFF: usize = 10;
pub const MAX_JOBS_PER_STOP: usize = 50;
pub const MAX_ODOMETER: i64 = 10_000_000;
/// A single cost over ¥100,000 is a typing error.
pub const MAX_COST_CENTS: i64 = 10_000_000;

/// The working day a trip without times takes (DESIGN.md §3a), in local time.
pub fn working_day() -> (NaiveTime, NaiveTime) {
    (NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default(), NaiveTime::from_hms_opt(17, 30, 0).unwrap_or_default())
}

/// `HH:MM` (or `YYYY-MM-DDTHH:MM`, whose time is taken).
fn time_of(e: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<NaiveTime> {
    let v = clean(v)?;
    let t = v.rsplit('T').next().unwrap_or(&v);
    let t = NaiveTime::parse_from_str(t, "%H:%M").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"));
    match t {
        Ok(t) => Some(t),
        Err(_) => {
            e.push(field, "invalid");
            None
        }
    }
}

fn ids(raw: Option<&[i64]>) -> Vec<i64> {
    let mut v = raw.unwrap_or_default().to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// A stop as typed in: the school and the work done there. Without ticket and inspection
/// ids the service takes the school's work of the day for the trip's staff.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StopInput {
    pub customer_id: Option<i64>,
    pub ticket_ids: Option<Vec<i64>>,
    pub inspection_ids: Option<Vec<i64>>,
    /// Trainings are carried once the training area lands; today they must be empty.
    pub training_ids: Option<Vec<i64>>,
}

/// `POST /api/v1/trips`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TripInput {
    /// `YYYY-MM-DD`.
    pub trip_date: Option<String>,
    pub staff_ids: Option<Vec<i64>>,
    pub vehicle_id: Option<i64>,
    /// `company_vehicle` (with `vehicle_id`), `private_car` or `public_transport`.
    pub transport: Option<String>,
    /// `repair`, `inspection`, `training`, `survey`, `delivery` or `other`; without one,
    /// what the stops carry says.
    pub purpose: Option<String>,
    /// `HH:MM`; default the working day (08:30–17:30).
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    pub note: Option<String>,
    pub stops: Option<Vec<StopInput>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewStop {
    pub customer_id: i64,
    /// `None`: the school's work of the day.
    pub ticket_ids: Option<Vec<i64>>,
    pub inspection_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTrip {
    pub trip_date: NaiveDate,
    pub staff_ids: Vec<i64>,
    pub vehicle_id: Option<i64>,
    pub transport: Transport,
    pub purpose: Option<TripPurpose>,
    pub planned_start: NaiveTime,
    pub planned_end: NaiveTime,
    pub note: Option<String>,
    pub stops: Vec<NewStop>,
}

impl TripInput {
    pub fn validate(&self) -> Result<NewTrip, FieldErrors> {
        let mut e = FieldErrors::default();
        let trip_date = optional_date(&mut e, "trip_date", self.trip_date.as_deref());
        if trip_date.is_none() && clean(self.trip_date.as_deref()).is_none() {
            e.push("trip_date", "required");
        }
        let staff_ids = ids(self.staff_ids.as_deref());
        if staff_ids.is_empty() {
            e.push("staff_ids", "required");
        } else if staff_ids.len() > MAX_STAFF {
            e.push("staff_ids", "too_long");
        }
        let transport = optional_enum(&mut e, "transport", self.transport.as_deref(), Transport::parse);
        let transport = match (transport, self.vehicle_id) {
            (Some(Transport::CompanyVehicle) | None, Some(_)) => Transport::CompanyVehicle,
            (Some(Transport::CompanyVehicle), None) => {
                e.push("vehicle_id", "required");
                Transport::CompanyVehicle
            }
            (Some(t), Some(_)) => {
                // A plate with a private car is a contradiction: say which field.
                e.push("vehicle_id", "invalid");
                t
            }
            (Some(t), None) => t,
            (None, None) => Transport::PrivateCar,
        };
        let purpose = optional_enum(&mut e, "purpose", self.purpose.as_deref(), TripPurpose::parse);
        let (day_start, day_end) = working_day();
        let planned_start = time_of(&mut e, "planned_start", self.planned_start.as_deref()).unwrap_or(day_start);
        let planned_end = time_of(&mut e, "planned_end", self.planned_end.as_deref()).unwrap_or(day_end);
        if planned_end <= planned_start && !e.has("planned_start") && !e.has("planned_end") {
            e.push("planned_end", "date_order");
        }
        let note = optional(&mut e, "note", self.note.as_deref(), 1000);
        let raw = self.stops.as_deref().unwrap_or_default();
        if raw.is_empty() {
            e.push("stops", "required");
        } else if raw.len() > MAX_STOPS {
            e.push("stops", "too_long");
        }
        let mut stops: Vec<NewStop> = Vec::with_capacity(raw.len());
        for (i, s) in raw.iter().enumerate() {
            let Some(customer_id) = s.customer_id else {
                e.push(format!("stops[{i}].customer_id"), "required");
                continue;
            };
            if stops.iter().any(|x| x.customer_id == customer_id) {
                e.push(format!("stops[{i}].customer_id"), "duplicate");
            }
            if s.training_ids.as_ref().is_some_and(|t| !t.is_empty()) {
                e.push(format!("stops[{i}].training_ids"), "not_found");
            }
            let tickets = s.ticket_ids.as_deref().map(|t| ids(Some(t)));
            let inspections = s.inspection_ids.as_deref().map(|t| ids(Some(t)));
            let n = tickets.as_ref().map_or(0, Vec::len) + inspections.as_ref().map_or(0, Vec::len);
            if n > MAX_JOBS_PER_STOP {
                e.push(format!("stops[{i}].ticket_ids"), "too_long");
            }
            stops.push(NewStop { customer_id, ticket_ids: tickets, inspection_ids: inspections });
        }
        let Some(trip_date) = trip_date else { return Err(e.in_area("trips")) };
        e.in_area("trips").into_result(NewTrip {
            trip_date,
            staff_ids,
            vehicle_id: self.vehicle_id,
            transport,
            purpose,
            planned_start,
            planned_end,
            note,
            stops,
        })
    }
}

/// `depart` `{odometer?, reason?}`: the reading when leaving, and why it leaves with lines
/// of the checklist unticked (required then).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DepartInput {
    pub odometer: Option<i64>,
    pub reason: Option<String>,
}

impl DepartInput {
    /// `unticked`: lines of what to bring not ticked.
    pub fn validate(&self, unticked: usize) -> Result<(Option<i64>, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.odometer.is_some_and(|o| !(0..=MAX_ODOMETER).contains(&o)) {
            e.push("odometer", "out_of_range");
        }
        let reason = optional(&mut e, "reason", self.reason.as_deref(), 500);
        if unticked > 0 && reason.is_none() {
            e.push("reason", "unticked_items");
        }
        e.in_area("trips").into_result((self.odometer, reason))
    }
}

/// A cost as typed in: the kind and the amount in yuan (two decimals).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CostInput {
    /// `fuel`, `toll`, `meal` or `other`.
    pub kind: Option<String>,
    pub amount: Option<f64>,
}

/// `return` `{odometer?, costs?, summary?}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReturnInput {
    pub odometer: Option<i64>,
    pub costs: Option<Vec<CostInput>>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Returning {
    pub odometer: Option<i64>,
    pub distance_km: Option<i64>,
    /// (kind, cents); zero amounts left out.
    pub costs: Vec<(CostKind, i64)>,
    pub summary: Option<String>,
}

/// Yuan to cents: at most two decimals, not negative, not absurd.
pub fn cents(yuan: f64) -> Option<i64> {
    if !yuan.is_finite() || yuan < 0.0 {
        return None;
    }
    let c = (yuan * 100.0).round();
    if (c - yuan * 100.0).abs() > 1e-6 || c > MAX_COST_CENTS as f64 {
        return None;
    }
    Some(c as i64)
}

impl ReturnInput {
    /// `departed_odometer`: the reading the trip left with (the return may not be below it).
    pub fn validate(&self, departed_odometer: Option<i64>) -> Result<Returning, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.odometer.is_some_and(|o| !(0..=MAX_ODOMETER).contains(&o)) {
            e.push("odometer", "out_of_range");
        }
        if departed_odometer.is_some() && self.odometer.is_none() {
            e.push("odometer", "required");
        }
        let distance_km = match distance(departed_odometer, self.odometer) {
            Ok(d) => d,
            Err(err) => {
                e.0.extend(err.0);
                None
            }
        };
        let raw = self.costs.as_deref().unwrap_or_default();
        if raw.len() > 20 {
            e.push("costs", "too_long");
        }
        let mut costs = Vec::new();
        for (i, c) in raw.iter().enumerate() {
            let kind = match c.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => {
                    e.push(format!("costs[{i}].kind"), "required");
                    None
                }
                Some(s) => CostKind::parse(s).or_else(|| {
                    e.push(format!("costs[{i}].kind"), "unknown_value");
                    None
                }),
            };
            let amount = match c.amount {
                None => {
                    e.push(format!("costs[{i}].amount"), "required");
                    None
                }
                Some(a) => cents(a).or_else(|| {
                    e.push(format!("costs[{i}].amount"), "out_of_range");
                    None
                }),
            };
            if let (Some(k), Some(a)) = (kind, amount)
                && a > 0
            {
                costs.push((k, a));
            }
        }
        let summary = optional(&mut e, "summary", self.summary.as_deref(), 2000);
        e.in_area("trips").into_result(Returning { odometer: self.odometer, distance_km, costs, summary })
    }
}

/// `leave` `{confirmed_by?, note?}`: who at the school confirmed the work (学校确认人).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaveInput {
    pub confirmed_by: Option<String>,
    pub note: Option<String>,
}

impl LeaveInput {
    pub fn validate(&self) -> Result<(Option<String>, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        let by = optional(&mut e, "confirmed_by", self.confirmed_by.as_deref(), 50);
        let note = optional(&mut e, "note", self.note.as_deref(), 1000);
        e.in_area("trips").into_result((by, note))
    }
}

/// The agent's phone verification of a stop (出勤核实): did the school see them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyInput {
    pub confirmed: Option<bool>,
    /// Whom the agent spoke to.
    pub contact: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub confirmed: bool,
    pub contact: Option<String>,
    pub note: Option<String>,
}

impl VerifyInput {
    pub fn validate(&self) -> Result<Verification, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.confirmed.is_none() {
            e.push("confirmed", "required");
        }
        let contact = optional(&mut e, "contact", self.contact.as_deref(), 50);
        let note = optional(&mut e, "note", self.note.as_deref(), 1000);
        if self.confirmed == Some(false) && note.is_none() {
            // "Nobody came" goes to the manager: say what the school said.
            e.push("note", "required");
        }
        e.in_area("trips").into_result(Verification { confirmed: self.confirmed.unwrap_or(false), contact, note })
    }
}

/// `POST /api/v1/vehicles`, `PUT /api/v1/vehicles/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VehicleInput {
    pub plate: Option<String>,
    pub name: Option<String>,
    pub seats: Option<i64>,
    /// `active`, `in_repair` or `retired`.
    pub status: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewVehicle {
    pub plate: String,
    pub name: String,
    pub seats: i64,
    pub status: VehicleStatus,
    pub note: Option<String>,
}

impl VehicleInput {
    pub fn validate(&self) -> Result<NewVehicle, FieldErrors> {
        let mut e = FieldErrors::default();
        let plate = required(&mut e, "plate", self.plate.as_deref(), 20).to_uppercase();
        let name = required(&mut e, "name", self.name.as_deref(), 50);
        let seats = self.seats.unwrap_or(5);
        if !(1..=60).contains(&seats) {
            e.push("seats", "out_of_range");
        }
        let status = optional_enum(&mut e, "status", self.status.as_deref(), VehicleStatus::parse)
            .unwrap_or(VehicleStatus::Active);
        let note = optional(&mut e, "note", self.note.as_deref(), 500);
        e.in_area("trips").into_result(NewVehicle { plate, name, seats, status, note })
    }
}

/// A day away (`POST /api/v1/attendance/absences`): leave, sick, training elsewhere.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AbsenceInput {
    pub user_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub day: Option<String>,
    /// Empty removes the absence.
    pub reason: Option<String>,
}

impl AbsenceInput {
    pub fn validate(&self) -> Result<(i64, NaiveDate, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        if self.user_id.is_none() {
            e.push("user_id", "required");
        }
        let day = optional_date(&mut e, "day", self.day.as_deref());
        if day.is_none() && clean(self.day.as_deref()).is_none() {
            e.push("day", "required");
        }
        let reason = optional(&mut e, "reason", self.reason.as_deref(), 200);
        let (Some(u), Some(d)) = (self.user_id, day) else { return Err(e.in_area("trips")) };
        e.in_area("trips").into_result((u, d, reason))
    }
}

/// One pair of the town matrix (`PUT /api/v1/vehicles/towns`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TravelInput {
    pub from_town: Option<String>,
    pub to_town: Option<String>,
    /// Minutes on the road; empty removes the pair (back to the estimate).
    pub minutes: Option<i64>,
}

impl TravelInput {
    /// The pair in its stored order (`from < to`) and the minutes.
    pub fn validate(&self) -> Result<(String, String, Option<i64>), FieldErrors> {
        let mut e = FieldErrors::default();
        let a = required(&mut e, "from_town", self.from_town.as_deref(), 50);
        let b = required(&mut e, "to_town", self.to_town.as_deref(), 50);
        if !a.is_empty() && a == b {
            e.push("to_town", "duplicate");
        }
        if self.minutes.is_some_and(|m| !(0..=1440).contains(&m)) {
            e.push("minutes", "out_of_range");
        }
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        e.in_area("trips").into_result((a, b, self.minutes))
    }
}

/// A line to add to what to bring.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    pub text: Option<String>,
    pub qty: Option<i64>,
    /// `part`, `tool`, `form` or `other` (default).
    pub kind: Option<String>,
}

impl ItemInput {
    pub fn validate(&self) -> Result<(ItemKind, String, Option<i64>), FieldErrors> {
        let mut e = FieldErrors::default();
        let text = required(&mut e, "text", self.text.as_deref(), 200);
        if self.qty.is_some_and(|q| !(1..=10_000).contains(&q)) {
            e.push("qty", "out_of_range");
        }
        let kind = optional_enum(&mut e, "kind", self.kind.as_deref(), ItemKind::parse).unwrap_or(ItemKind::Other);
        e.in_area("trips").into_result((kind, text, self.qty))
    }
}

/// The tools a technician takes for work on a system (§2.6(3)); the trip's checklist starts
/// with them. Department data, in the department's language.
pub fn tools_for(system: System) -> &'static [&'static str] {
    match system {
        System::Network => &["网线钳、水晶头、测线仪", "笔记本电脑与 Console 线", "光功率计"],
        System::ServerRoom => &["笔记本电脑与 Console 线", "防静电手环", "吹尘器与毛刷"],
        System::Surveillance => &["工程宝（监控测试仪）", "网线钳、水晶头、测线仪", "梯子"],
        System::Classroom => &["HDMI/VGA 线与转接头", "触控笔与校准工具", "螺丝刀套装"],
        System::Cloud => &["备用云终端", "笔记本电脑", "网线钳、水晶头、测线仪"],
        System::Broadcast => &["万用表", "音频线与转接头", "螺丝刀套装"],
    }
}

/// The purpose a trip's work says when none is given: inspections only → 巡检, else 维修.
pub fn purpose_of(tickets: usize, inspections: usize) -> TripPurpose {
    match (tickets, inspections) {
        (0, 0) => TripPurpose::Other,
        (0, _) => TripPurpose::Inspection,
        _ => TripPurpose::Repair,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(roles: &[Role], staff: bool) -> TripContext {
        TripContext { roles: roles.to_vec(), is_staff: staff, approved: false }
    }

    #[test]
    fn only_the_staff_move_a_trip_and_only_forward() {
        let tech = ctx(&[Role::Technician], true);
        assert_eq!(transition(TripStatus::Planned, TripAction::Depart, &tech), Ok(TripStatus::Out));
        assert_eq!(transition(TripStatus::Out, TripAction::Return, &tech), Ok(TripStatus::Returned));
        let other = ctx(&[Role::Technician], false);
        assert!(matches!(
            transition(TripStatus::Planned, TripAction::Depart, &other),
            Err(TripError::Forbidden { .. })
        ));
        assert!(matches!(
            transition(TripStatus::Cancelled, TripAction::Depart, &tech),
            Err(TripError::IllegalState { .. })
        ));
        assert!(matches!(transition(TripStatus::Out, TripAction::Cancel, &ctx(&[Role::Engineer], false)), Err(_)));
        assert_eq!(
            transition(TripStatus::Planned, TripAction::Cancel, &ctx(&[Role::Agent], false)),
            Ok(TripStatus::Cancelled)
        );
        assert!(matches!(transition(TripStatus::Returned, TripAction::Approve, &tech), Err(_)));
        let mgr = TripContext { approved: true, ..ctx(&[Role::Manager], false) };
        assert_eq!(transition(TripStatus::Returned, TripAction::Approve, &mgr), Err(TripError::AlreadyApproved));
    }

    #[test]
    fn a_stop_is_left_only_after_it_was_reached() {
        let tech = ctx(&[Role::Technician], true);
        assert_eq!(stop_step(TripStatus::Out, StopAction::Leave, false, false, &tech), Err("stop_not_reached"));
        assert_eq!(stop_step(TripStatus::Out, StopAction::Arrive, false, false, &tech), Ok(()));
        assert_eq!(stop_step(TripStatus::Out, StopAction::Leave, true, false, &tech), Ok(()));
        assert_eq!(stop_step(TripStatus::Out, StopAction::Leave, true, true, &tech), Err("stop_already_left"));
        assert_eq!(stop_step(TripStatus::Planned, StopAction::Arrive, false, false, &tech), Err("trip_not_out"));
        assert_eq!(
            stop_step(TripStatus::Out, StopAction::Arrive, false, false, &ctx(&[Role::Agent], false)),
            Err("forbidden")
        );
    }

    #[test]
    fn windows_that_touch_do_not_overlap() {
        assert!(overlaps((8, 12), (11, 17)));
        assert!(overlaps((8, 17), (9, 10)));
        assert!(!overlaps((8, 12), (12, 17)));
        assert!(!overlaps((13, 17), (8, 12)));
    }

    #[test]
    fn the_odometer_may_not_run_backwards() {
        assert_eq!(distance(Some(1200), Some(1290)), Ok(Some(90)));
        let e = distance(Some(1200), Some(1100)).unwrap_err();
        assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("odometer", "below_departure"));
        let r = ReturnInput { odometer: None, ..Default::default() }.validate(Some(1200));
        assert!(r.unwrap_err().has("odometer"), "a trip that left with a reading returns with one");
        let ok = ReturnInput {
            odometer: Some(1263),
            costs: Some(vec![
                CostInput { kind: Some("toll".into()), amount: Some(25.5) },
                CostInput { kind: Some("fuel".into()), amount: Some(0.0) },
            ]),
            summary: None,
        }
        .validate(Some(1200))
        .unwrap();
        assert_eq!(ok.distance_km, Some(63));
        assert_eq!(ok.costs, vec![(CostKind::Toll, 2550)]);
        let bad = ReturnInput {
            odometer: Some(1300),
            costs: Some(vec![CostInput { kind: Some("toll".into()), amount: Some(-3.0) }]),
            summary: None,
        };
        assert!(bad.validate(Some(1200)).unwrap_err().has("costs[0].amount"));
        assert_eq!(cents(12.345), None, "three decimals are a typing error");
        assert_eq!(cents(0.1 + 0.2), Some(30));
    }

    #[test]
    fn a_trip_input_says_every_wrong_field() {
        let t = TripInput {
            trip_date: Some("2026-13-01".into()),
            staff_ids: Some(vec![]),
            transport: Some("company_vehicle".into()),
            planned_start: Some("15:00".into()),
            planned_end: Some("09:00".into()),
            stops: Some(vec![StopInput::default()]),
            ..Default::default()
        };
        let e = t.validate().unwrap_err();
        for f in ["trip_date", "staff_ids", "vehicle_id", "planned_end", "stops[0].customer_id"] {
            assert!(e.has(f), "{f} in {e:?}");
        }
        let ok = TripInput {
            trip_date: Some("2026-12-07".into()),
            staff_ids: Some(vec![3, 2, 3]),
            vehicle_id: Some(1),
            stops: Some(vec![StopInput { customer_id: Some(9), ..Default::default() }]),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.staff_ids, vec![2, 3]);
        assert_eq!(ok.transport, Transport::CompanyVehicle);
        assert_eq!((ok.planned_start, ok.planned_end), working_day());
        assert_eq!(ok.stops[0].ticket_ids, None, "no ids: the school's work of the day");
    }

    #[test]
    fn leaving_with_unticked_lines_needs_a_reason() {
        assert!(DepartInput::default().validate(2).unwrap_err().has("reason"));
        assert!(DepartInput::default().validate(0).is_ok());
        let d = DepartInput { odometer: Some(5), reason: Some("光功率计借出".into()) };
        assert_eq!(d.validate(1).unwrap(), (Some(5), Some("光功率计借出".into())));
        assert!(DepartInput { odometer: Some(-1), reason: None }.validate(0).unwrap_err().has("odometer"));
    }
}
