//! Periodic inspections (巡检, manual §2.3, DESIGN.md §3a, form 2): statuses, phases, line
//! results, checklist items and the rules — who may do what to an inspection now, which
//! phase a school is in, whether a measured value meets its standard, which lines a
//! template gives a school's equipment, and when an inspection may be completed. Pure.

use crate::{Role, System};
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
