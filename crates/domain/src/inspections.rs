//! Periodic inspections (巡检, manual §2.3, DESIGN.md §3a, form 2): statuses, phases, line
//! results, checklist items and the rules — who may do what to an inspection now, which
//! phase a school is in, whether a measured value meets its standard, which lines a
//! template gives a school's equipment, and when an inspection may be completed. Pure.

use crate::tickets::SignatureInput;
use crate::validation::{FieldErrors, clean, optional, optional_date, optional_enum, required};
use crate::{Role, System};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

string_enum!(
    /// Where an inspection stands (DESIGN.md §3a; fixed).
    InspectionStatus {
        Planned = "planned",
        InProgress = "in_progress",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// What can be done to an inspection (`POST /api/v1/inspections/{id}/actions/{action}`).
    InspectionAction {
        Start = "start",
        Complete = "complete",
        Cancel = "cancel",
    }
);

string_enum!(
    /// The three phases of the service (§2.3): 前期 usage questions, 中期 equipment and
    /// cabling care with upgrade suggestions, 后期 full status, dust removal and the causes
    /// of frequent faults.
    Phase {
        Early = "early",
        Mid = "mid",
        Late = "late",
    }
);

string_enum!(
    /// A checklist line's result (DESIGN.md §3a; fixed).
    LineResult {
        /// 正常
        Ok = "ok",
        /// 异常: completing opens a ticket for it.
        Fault = "fault",
        /// 隐患: on the hazard list until resolved.
        Hazard = "hazard",
        /// 不适用
        Na = "na",
    }
);

string_enum!(
    /// How often an item is checked (DOMAIN.md §2: V 每次到校, M 每月, Q 每季度/学期, Y 每年).
    Frequency {
        EveryVisit = "every_visit",
        Monthly = "monthly",
        Quarterly = "quarterly",
        Yearly = "yearly",
        /// Before an exam (the broadcast system's listening test).
        BeforeExam = "before_exam",
    }
);

/// A checklist item of a template: what is checked, to which standard, how often, once
/// for the system or once per piece of equipment, with an optional numeric range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub system: System,
    /// A stable code (`nvr_retention_days`).
    pub code: String,
    pub text: String,
    pub standard: String,
    pub frequency: Frequency,
    /// Checked on each piece of equipment of the system (a line per device), else once.
    pub per_device: bool,
    /// The acceptable range of a measured value, inclusive; either end may be open.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub unit: Option<String>,
    /// The phases the item belongs to; empty: every phase.
    pub phases: Vec<Phase>,
}

impl ChecklistItem {
    pub fn in_phase(&self, p: Phase) -> bool {
        self.phases.is_empty() || self.phases.contains(&p)
    }
}

/// What a measured value says against an item's range: `Some(Fault)` outside it, `Some(Ok)`
/// inside, `None` when the item has no range (the technician judges).
pub fn judge(min: Option<f64>, max: Option<f64>, value: f64) -> Option<LineResult> {
    if min.is_none() && max.is_none() {
        return None;
    }
    let low = min.is_some_and(|m| value < m);
    let high = max.is_some_and(|m| value > m);
    Some(if low || high || !value.is_finite() { LineResult::Fault } else { LineResult::Ok })
}

/// A piece of a school's equipment, as the line generator needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub system: System,
}

/// A line an inspection starts with: the item, and the device when it is per device.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedLine<'a> {
    pub item: &'a ChecklistItem,
    pub equipment_id: Option<i64>,
}

/// The lines of an inspection of `systems` in `phase` at a school with `devices`: each
/// per-system item once, each per-device item once per device of its system, in template
/// order. A per-device item of a system where the school has no device is checked once
/// for the system (the technician still looks).
pub fn lines_for<'a>(
    template: &'a [ChecklistItem],
    phase: Phase,
    systems: &[System],
    devices: &[Device],
) -> Vec<PlannedLine<'a>> {
    let mut out = Vec::new();
    for item in template.iter().filter(|i| systems.contains(&i.system) && i.in_phase(phase)) {
        let of_system: Vec<&Device> = devices.iter().filter(|d| d.system == item.system).collect();
        if item.per_device && !of_system.is_empty() {
            out.extend(of_system.iter().map(|d| PlannedLine { item, equipment_id: Some(d.id) }));
        } else {
            out.push(PlannedLine { item, equipment_id: None });
        }
    }
    out
}

/// Years in service after which a school's systems are proposed the middle and the late
/// phase (a setting; these are the defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseThresholds {
    pub mid_after_years: f64,
    pub late_after_years: f64,
}

impl Default for PhaseThresholds {
    fn default() -> Self {
        PhaseThresholds { mid_after_years: 1.0, late_after_years: 4.0 }
    }
}

/// The phase proposed for systems that have been in service `years` (the oldest of the
/// inspected systems decides; unknown age: the early phase, where questions are gathered).
pub fn proposed_phase(years: Option<f64>, t: PhaseThresholds) -> Phase {
    match years {
        Some(y) if y >= t.late_after_years => Phase::Late,
        Some(y) if y >= t.mid_after_years => Phase::Mid,
        _ => Phase::Early,
    }
}

/// What is true of the actor and the inspection when an action is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InspectionContext {
    pub roles: Vec<Role>,
    /// The actor is one of the inspection's technicians.
    pub is_assigned: bool,
    /// Lines without a result.
    pub open_lines: usize,
    /// The school signed (complete carries the signature).
    pub signed: bool,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectionError {
    #[error("{action} is not allowed for this user")]
    Forbidden { action: InspectionAction },
    #[error("cannot {action} an inspection that is {status}")]
    IllegalState { action: InspectionAction, status: InspectionStatus },
    /// Completing needs every line judged…
    #[error("{0} lines have no result")]
    OpenLines(usize),
    /// … and the school's signature.
    #[error("the school's signature is required")]
    SignatureRequired,
}

/// May this actor do this action at all (before looking at the state)?
pub fn may(action: InspectionAction, ctx: &InspectionContext) -> bool {
    let has = |r: Role| ctx.roles.contains(&r);
    if has(Role::Manager) || has(Role::Admin) {
        return true;
    }
    match action {
        InspectionAction::Start | InspectionAction::Complete => has(Role::Technician) && ctx.is_assigned,
        InspectionAction::Cancel => has(Role::Engineer),
    }
}

/// The state an action leads to, or why not: role, then state, then the action's own rule.
pub fn transition(
    status: InspectionStatus,
    action: InspectionAction,
    ctx: &InspectionContext,
) -> Result<InspectionStatus, InspectionError> {
    use InspectionAction as A;
    use InspectionStatus as S;
    if !may(action, ctx) {
        return Err(InspectionError::Forbidden { action });
    }
    match (action, status) {
        (A::Start, S::Planned) => Ok(S::InProgress),
        (A::Complete, S::InProgress) if ctx.open_lines > 0 => Err(InspectionError::OpenLines(ctx.open_lines)),
        (A::Complete, S::InProgress) if !ctx.signed => Err(InspectionError::SignatureRequired),
        (A::Complete, S::InProgress) => Ok(S::Completed),
        (A::Cancel, S::Planned | S::InProgress) => Ok(S::Cancelled),
        _ => Err(InspectionError::IllegalState { action, status }),
    }
}

/// Results are recorded while the round is under way, by its technicians (or a manager).
pub fn may_record(status: InspectionStatus, ctx: &InspectionContext) -> bool {
    status == InspectionStatus::InProgress && may(InspectionAction::Start, ctx)
}

/// The most schools one plan request may name, and the longest range it may spread over.
pub const MAX_PLAN_SCHOOLS: usize = 10_000;
pub const MAX_PLAN_DAYS: i64 = 366;
/// The most lines one results request may carry (a large school's round has a few hundred).
pub const MAX_RESULT_LINES: usize = 1_000;

fn systems_of(e: &mut FieldErrors, raw: Option<&[String]>) -> Vec<System> {
    let mut out = Vec::new();
    for (i, s) in raw.unwrap_or_default().iter().enumerate() {
        match System::parse(s.trim()) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => e.push(format!("systems[{i}]"), "unknown_value"),
        }
    }
    out
}

fn date_of(e: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    let d = optional_date(e, field, v);
    if d.is_none() && clean(v).is_none() {
        e.push(field, "required");
    }
    d
}

fn technicians(ids: Option<&[i64]>) -> Vec<i64> {
    let mut t = ids.unwrap_or_default().to_vec();
    t.sort_unstable();
    t.dedup();
    t
}

/// One inspection as typed in (`POST /api/v1/inspections`). Without a phase the school's
/// proposed phase is taken; without systems, every system the school has equipment in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InspectionInput {
    pub customer_id: Option<i64>,
    /// `early`, `mid` or `late`.
    pub phase: Option<String>,
    pub systems: Option<Vec<String>>,
    /// `YYYY-MM-DD`.
    pub planned_on: Option<String>,
    pub technician_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewInspection {
    pub customer_id: i64,
    pub phase: Option<Phase>,
    pub systems: Vec<System>,
    pub planned_on: NaiveDate,
    pub technician_ids: Vec<i64>,
}

impl InspectionInput {
    pub fn validate(&self) -> Result<NewInspection, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.customer_id.is_none() {
            e.push("customer_id", "required");
        }
        let phase = optional_enum(&mut e, "phase", self.phase.as_deref(), Phase::parse);
        let systems = systems_of(&mut e, self.systems.as_deref());
        let planned_on = date_of(&mut e, "planned_on", self.planned_on.as_deref());
        let technician_ids = technicians(self.technician_ids.as_deref());
        if technician_ids.is_empty() {
            e.push("technician_ids", "required");
        }
        let (Some(customer_id), Some(planned_on)) = (self.customer_id, planned_on) else {
            return Err(e.in_area("inspections"));
        };
        e.in_area("inspections").into_result(NewInspection { customer_id, phase, systems, planned_on, technician_ids })
    }
}

/// Many schools at once (`POST /api/v1/inspections/plan`): a town's or a list's, spread
/// over a date range and the technicians ([`crate::inspection_plan::spread`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanInput {
    /// Without one, each school gets its proposed phase.
    pub phase: Option<String>,
    pub systems: Option<Vec<String>>,
    pub planned_from: Option<String>,
    pub planned_until: Option<String>,
    pub town: Option<String>,
    pub customer_ids: Option<Vec<i64>>,
    /// Without them, every active technician.
    pub technician_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPlan {
    pub phase: Option<Phase>,
    pub systems: Vec<System>,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub town: Option<String>,
    pub customer_ids: Vec<i64>,
    pub technician_ids: Vec<i64>,
}

impl PlanInput {
    pub fn validate(&self) -> Result<NewPlan, FieldErrors> {
        let mut e = FieldErrors::default();
        let phase = optional_enum(&mut e, "phase", self.phase.as_deref(), Phase::parse);
        let systems = systems_of(&mut e, self.systems.as_deref());
        let from = date_of(&mut e, "planned_from", self.planned_from.as_deref());
        let until = date_of(&mut e, "planned_until", self.planned_until.as_deref());
        if let (Some(f), Some(u)) = (from, until) {
            if u < f {
                e.push("planned_until", "date_order");
            } else if (u - f).num_days() >= MAX_PLAN_DAYS {
                e.push("planned_until", "out_of_range");
            }
        }
        let town = optional(&mut e, "town", self.town.as_deref(), 50);
        let mut customer_ids = self.customer_ids.clone().unwrap_or_default();
        customer_ids.sort_unstable();
        customer_ids.dedup();
        if customer_ids.len() > MAX_PLAN_SCHOOLS {
            e.push("customer_ids", "too_long");
        }
        if town.is_none() && customer_ids.is_empty() {
            e.push("customer_ids", "required");
        }
        let technician_ids = technicians(self.technician_ids.as_deref());
        let (Some(from), Some(until)) = (from, until) else {
            return Err(e.in_area("inspections"));
        };
        e.in_area("inspections").into_result(NewPlan {
            phase,
            systems,
            from,
            until,
            town,
            customer_ids,
            technician_ids,
        })
    }
}

/// A line's result as typed in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineResultInput {
    pub item_id: Option<i64>,
    /// `ok`, `fault`, `hazard` or `na`.
    pub result: Option<String>,
    /// The measured value, in the item's unit.
    pub value: Option<f64>,
    pub note: Option<String>,
    /// Suggest upgrading or replacing the line's equipment.
    pub suggest_replace: Option<bool>,
}

/// `POST /api/v1/inspections/{id}/results`: some lines at a time (each saved as it is done).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultsInput {
    pub items: Option<Vec<LineResultInput>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewLineResult {
    pub item_id: i64,
    pub result: LineResult,
    pub value: Option<f64>,
    pub note: Option<String>,
    pub suggest_replace: bool,
}

impl ResultsInput {
    pub fn validate(&self) -> Result<Vec<NewLineResult>, FieldErrors> {
        let mut e = FieldErrors::default();
        let raw = self.items.as_deref().unwrap_or_default();
        if raw.is_empty() {
            e.push("items", "required");
        } else if raw.len() > MAX_RESULT_LINES {
            e.push("items", "too_long");
        }
        let mut out = Vec::with_capacity(raw.len());
        for (i, l) in raw.iter().enumerate() {
            let f = |name: &str| format!("items[{i}].{name}");
            if l.item_id.is_none() {
                e.push(f("item_id"), "required");
            }
            let result = match l.result.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => {
                    e.push(f("result"), "required");
                    None
                }
                Some(s) => LineResult::parse(s).or_else(|| {
                    e.push(f("result"), "unknown_value");
                    None
                }),
            };
            if l.value.is_some_and(|v| !v.is_finite() || v.abs() > 1e12) {
                e.push(f("value"), "out_of_range");
            }
            let note = optional(&mut e, &f("note"), l.note.as_deref(), 1000);
            if let (Some(item_id), Some(result)) = (l.item_id, result) {
                if out.iter().any(|o: &NewLineResult| o.item_id == item_id) {
                    e.push(f("item_id"), "duplicate");
                }
                out.push(NewLineResult {
                    item_id,
                    result,
                    value: l.value,
                    note,
                    suggest_replace: l.suggest_replace.unwrap_or(false),
                });
            }
        }
        e.in_area("inspections").into_result(out)
    }
}

/// `POST /api/v1/inspections/{id}/actions/complete`: the school's signature, the summary,
/// what was handled on the spot (除尘, 紧固, 重启).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompleteInput {
    pub signature: Option<SignatureInput>,
    pub summary: Option<String>,
    pub handled_on_site: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Signer's name and PNG; `None` when missing (the transition refuses it).
    pub signature: Option<(String, Vec<u8>)>,
    pub summary: Option<String>,
    pub handled_on_site: Option<String>,
}

impl CompleteInput {
    /// `decode` turns base64 into bytes (the domain stays free of encoding crates).
    pub fn validate(&self, decode: impl Fn(&str) -> Option<Vec<u8>>) -> Result<Completion, FieldErrors> {
        let mut e = FieldErrors::default();
        let signature = self.signature.as_ref().and_then(|s| s.validate(&mut e, "signature", &decode));
        let summary = optional(&mut e, "summary", self.summary.as_deref(), 2000);
        let handled_on_site = optional(&mut e, "handled_on_site", self.handled_on_site.as_deref(), 2000);
        e.in_area("inspections").into_result(Completion { signature, summary, handled_on_site })
    }
}

/// `POST /api/v1/inspections/{id}/callback` (巡检回访, §2.2(3)): did the inspector come, on
/// time, and how satisfied the school is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InspectionCallbackInput {
    pub attended: Option<bool>,
    pub on_time: Option<bool>,
    /// 1..5.
    pub satisfaction: Option<i64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    pub attended: bool,
    pub on_time: Option<bool>,
    pub satisfaction: Option<i64>,
    pub note: Option<String>,
}

impl InspectionCallbackInput {
    pub fn validate(&self) -> Result<Callback, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.attended.is_none() {
            e.push("attended", "required");
        }
        match self.satisfaction {
            Some(s) if !(1..=5).contains(&s) => e.push("satisfaction", "out_of_range"),
            None if self.attended == Some(true) => e.push("satisfaction", "required"),
            _ => {}
        }
        let note = optional(&mut e, "note", self.note.as_deref(), 1000);
        if self.attended == Some(false) && note.is_none() {
            // "Did not come" goes to the manager: say what the school said.
            e.push("note", "required");
        }
        let attended = self.attended.unwrap_or(false);
        e.in_area("inspections").into_result(Callback {
            attended,
            on_time: if attended { self.on_time } else { Some(false) },
            satisfaction: self.satisfaction,
            note,
        })
    }
}

/// A question the school asked on the round and the answer given (前期).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionInput {
    pub question: Option<String>,
    pub answer: Option<String>,
}

impl QuestionInput {
    pub fn validate(&self) -> Result<(String, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        let q = required(&mut e, "question", self.question.as_deref(), 1000);
        let a = optional(&mut e, "answer", self.answer.as_deref(), 2000);
        e.in_area("inspections").into_result((q, a))
    }
}

/// A template item as the engineer edits it (`PUT /api/v1/inspections/checklist/{id}`,
/// `POST /api/v1/inspections/checklist`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChecklistItemInput {
    pub system: Option<String>,
    pub code: Option<String>,
    pub text: Option<String>,
    pub standard: Option<String>,
    pub frequency: Option<String>,
    pub per_device: Option<bool>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub unit: Option<String>,
    /// `early`, `mid`, `late`; empty: every phase.
    pub phases: Option<Vec<String>>,
}

impl ChecklistItemInput {
    pub fn validate(&self) -> Result<ChecklistItem, FieldErrors> {
        let mut e = FieldErrors::default();
        let system = optional_enum(&mut e, "system", self.system.as_deref(), System::parse);
        if clean(self.system.as_deref()).is_none() {
            e.push("system", "required");
        }
        let code = required(&mut e, "code", self.code.as_deref(), 40);
        if !code.is_empty() && !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            e.push("code", "invalid");
        }
        let text = required(&mut e, "text", self.text.as_deref(), 200);
        let standard = optional(&mut e, "standard", self.standard.as_deref(), 500).unwrap_or_default();
        let frequency = optional_enum(&mut e, "frequency", self.frequency.as_deref(), Frequency::parse)
            .unwrap_or(Frequency::EveryVisit);
        for (f, v) in [("min", self.min), ("max", self.max)] {
            if v.is_some_and(|v| !v.is_finite() || v.abs() > 1e12) {
                e.push(f, "out_of_range");
            }
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max)
            && lo > hi
        {
            e.push("max", "date_order");
        }
        let unit = optional(&mut e, "unit", self.unit.as_deref(), 20);
        let mut phases = Vec::new();
        for (i, p) in self.phases.as_deref().unwrap_or_default().iter().enumerate() {
            match Phase::parse(p.trim()) {
                Some(v) if !phases.contains(&v) => phases.push(v),
                Some(_) => {}
                None => e.push(format!("phases[{i}]"), "unknown_value"),
            }
        }
        let Some(system) = system else {
            return Err(e.in_area("inspections"));
        };
        e.in_area("inspections").into_result(ChecklistItem {
            system,
            code,
            text,
            standard,
            frequency,
            per_device: self.per_device.unwrap_or(false),
            min: self.min,
            max: self.max,
            unit,
            phases,
        })
    }
}

/// How rounds are planned (`PUT /api/v1/settings/inspections`): the years in service after
/// which a school is proposed the middle and the late phase, and the most rounds one
/// technician is given a day.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanSettingsInput {
    pub mid_after_years: Option<f64>,
    pub late_after_years: Option<f64>,
    pub daily_limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PlanSettings {
    pub mid_after_years: f64,
    pub late_after_years: f64,
    pub daily_limit: i64,
}

impl PlanSettingsInput {
    pub fn validate(&self) -> Result<PlanSettings, FieldErrors> {
        let mut e = FieldErrors::default();
        let mut years = |f: &str, v: Option<f64>| match v {
            None => {
                e.push(f, "required");
                0.0
            }
            Some(y) if !y.is_finite() || !(0.0..=50.0).contains(&y) => {
                e.push(f, "out_of_range");
                0.0
            }
            Some(y) => y,
        };
        let mid = years("mid_after_years", self.mid_after_years);
        let late = years("late_after_years", self.late_after_years);
        if late < mid && !e.has("late_after_years") && !e.has("mid_after_years") {
            e.push("late_after_years", "date_order");
        }
        let limit = match self.daily_limit {
            Some(n) if (1..=20).contains(&n) => n,
            Some(_) => {
                e.push("daily_limit", "out_of_range");
                0
            }
            None => {
                e.push("daily_limit", "required");
                0
            }
        };
        e.in_area("inspections").into_result(PlanSettings {
            mid_after_years: mid,
            late_after_years: late,
            daily_limit: limit,
        })
    }
}

/// The phases as stored: comma-separated, empty for every phase.
pub fn phases_text(p: &[Phase]) -> String {
    p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
}

/// The stored phases back; an unknown word is dropped (never stored: written by `phases_text`).
pub fn phases_from(s: &str) -> Vec<Phase> {
    s.split(',').filter_map(|p| Phase::parse(p.trim())).collect()
}

/// The systems as stored: comma-separated.
pub fn systems_text(s: &[System]) -> String {
    s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

pub fn systems_from(s: &str) -> Vec<System> {
    s.split(',').filter_map(|p| System::parse(p.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(system: System, code: &str, per_device: bool, phases: &[Phase]) -> ChecklistItem {
        ChecklistItem {
            system,
            code: code.into(),
            text: code.into(),
            standard: String::new(),
            frequency: Frequency::EveryVisit,
            per_device,
            min: None,
            max: None,
            unit: None,
            phases: phases.to_vec(),
        }
    }

    #[test]
    fn a_measured_value_is_judged_against_its_range() {
        // Server-room temperature 18–27 ℃; retention at least 30 days; no range: no opinion.
        assert_eq!(judge(Some(18.0), Some(27.0), 23.0), Some(LineResult::Ok));
        assert_eq!(judge(Some(18.0), Some(27.0), 27.0), Some(LineResult::Ok), "inclusive");
        assert_eq!(judge(Some(18.0), Some(27.0), 31.5), Some(LineResult::Fault));
        assert_eq!(judge(Some(30.0), None, 7.0), Some(LineResult::Fault));
        assert_eq!(judge(None, Some(70.0), 99.0), Some(LineResult::Fault), "CPU at 99%");
        assert_eq!(judge(None, None, 12.0), None);
        assert_eq!(judge(Some(0.0), Some(1.0), f64::NAN), Some(LineResult::Fault));
    }

    #[test]
    fn a_template_gives_a_line_per_device_or_per_system_in_its_phase() {
        let t = vec![
            item(System::Surveillance, "nvr_disk_status", true, &[]),
            item(System::Surveillance, "cam_online", false, &[]),
            item(System::Surveillance, "lens_clean", false, &[Phase::Late]),
            item(System::Network, "sw_led_status", true, &[]),
        ];
        let devices = [
            Device { id: 1, system: System::Surveillance },
            Device { id: 2, system: System::Surveillance },
            Device { id: 3, system: System::Classroom },
        ];
        let lines = lines_for(&t, Phase::Mid, &[System::Surveillance, System::Network], &devices);
        let got: Vec<(&str, Option<i64>)> = lines.iter().map(|l| (l.item.code.as_str(), l.equipment_id)).collect();
        assert_eq!(
            got,
            [("nvr_disk_status", Some(1)), ("nvr_disk_status", Some(2)), ("cam_online", None), ("sw_led_status", None)],
            "per device for each NVR, once for the system, the late item left out, a network with no device once"
        );
        assert_eq!(lines_for(&t, Phase::Late, &[System::Surveillance], &devices).len(), 4);
    }

    #[test]
    fn the_phase_follows_the_years_in_service() {
        let t = PhaseThresholds::default();
        assert_eq!(proposed_phase(None, t), Phase::Early);
        assert_eq!(proposed_phase(Some(0.5), t), Phase::Early);
        assert_eq!(proposed_phase(Some(1.0), t), Phase::Mid);
        assert_eq!(proposed_phase(Some(6.0), t), Phase::Late);
        let short = PhaseThresholds { mid_after_years: 0.25, late_after_years: 2.0 };
        assert_eq!(proposed_phase(Some(0.5), short), Phase::Mid);
    }

    #[test]
    fn only_a_judged_and_signed_round_completes() {
        let tech = InspectionContext { roles: vec![Role::Technician], is_assigned: true, ..Default::default() };
        use InspectionAction as A;
        use InspectionStatus as S;
        assert_eq!(transition(S::Planned, A::Start, &tech), Ok(S::InProgress));
        let open = InspectionContext { open_lines: 3, signed: true, ..tech.clone() };
        assert_eq!(transition(S::InProgress, A::Complete, &open), Err(InspectionError::OpenLines(3)));
        let unsigned = InspectionContext { open_lines: 0, signed: false, ..tech.clone() };
        assert_eq!(transition(S::InProgress, A::Complete, &unsigned), Err(InspectionError::SignatureRequired));
        let done = InspectionContext { open_lines: 0, signed: true, ..tech.clone() };
        assert_eq!(transition(S::InProgress, A::Complete, &done), Ok(S::Completed));
        assert!(matches!(transition(S::Completed, A::Start, &tech), Err(InspectionError::IllegalState { .. })));
        assert!(!may_record(S::Completed, &tech), "nothing is recorded on a completed round");
        assert!(may_record(S::InProgress, &tech));
    }

    #[test]
    fn planning_settings_keep_late_after_middle_and_a_sane_daily_limit() {
        let ok = PlanSettingsInput { mid_after_years: Some(1.0), late_after_years: Some(4.0), daily_limit: Some(3) };
        assert_eq!(ok.validate().map(|s| s.daily_limit), Ok(3));
        let bad = PlanSettingsInput { mid_after_years: Some(5.0), late_after_years: Some(2.0), daily_limit: Some(0) };
        let e = bad.validate().err().unwrap_or_default();
        let got: Vec<(&str, &str)> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(got, [("late_after_years", "date_order"), ("daily_limit", "out_of_range")]);
        let none = PlanSettingsInput { mid_after_years: Some(f64::NAN), ..Default::default() };
        assert_eq!(none.validate().err().unwrap_or_default().0.len(), 3, "NaN, and two missing");
    }

    #[test]
    fn roles_come_before_states() {
        use InspectionAction as A;
        let other = InspectionContext { roles: vec![Role::Technician], is_assigned: false, ..Default::default() };
        assert_eq!(
            transition(InspectionStatus::Planned, A::Start, &other),
            Err(InspectionError::Forbidden { action: A::Start })
        );
        let agent = InspectionContext { roles: vec![Role::Agent], ..Default::default() };
        assert!(!may(A::Cancel, &agent) && !may(A::Start, &agent));
        let eng = InspectionContext { roles: vec![Role::Engineer], ..Default::default() };
        assert_eq!(transition(InspectionStatus::Planned, A::Cancel, &eng), Ok(InspectionStatus::Cancelled));
        assert!(!may(A::Start, &eng), "the engineer plans; the technicians go");
        let boss = InspectionContext { roles: vec![Role::Manager], ..Default::default() };
        assert!(may(A::Complete, &boss));
    }
}
