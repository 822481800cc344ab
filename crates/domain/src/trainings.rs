//! Training (培训, manual §2.1, §3.2.5): the schools' staff trained in three phases per
//! system (customer), the department's own people trained by a vendor (厂方) or by the
//! engineer (内部); kinds, statuses, who may do what, the inputs, the plan's weighting and
//! the coverage of schools × phases × systems. Pure.

use crate::inspections::Phase;
use crate::validation::{FieldErrors, clean, optional, optional_date, optional_enum, required};
use crate::{Role, System};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

string_enum!(
    /// `customer`, `vendor` or `internal` (DESIGN.md §5; fixed).
    TrainingKind {
        /// 客户培训: a school's teachers and administrators.
        Customer = "customer",
        /// 厂方培训: the department's staff, trained by a manufacturer.
        Vendor = "vendor",
        /// 内部培训: the department's staff, trained by the engineer.
        Internal = "internal",
    }
);

string_enum!(
    TrainingStatus {
        Planned = "planned",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// `POST /api/v1/trainings/{id}/actions/{action}`.
    TrainingAction {
        Complete = "complete",
        Cancel = "cancel",
    }
);

/// Who plans trainings, records attendance and completes them (DESIGN.md §3a): the
/// engineer and the manager.
pub fn may_plan(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Manager | Role::Admin))
}

/// What may be done to a training in `status`: attendance and completion while planned,
/// cancelling while planned; nothing once completed or cancelled.
pub fn allowed_actions(roles: &[Role], status: TrainingStatus) -> Vec<TrainingAction> {
    if !may_plan(roles) || status != TrainingStatus::Planned {
        return Vec::new();
    }
    vec![TrainingAction::Complete, TrainingAction::Cancel]
}

/// Why a training takes no attendance now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    #[error("the training is cancelled")]
    Cancelled,
    #[error("the training is completed")]
    Completed,
    #[error("nobody was present")]
    NobodyPresent,
}

/// Attendance may be recorded on a planned training, and corrected on a completed one
/// (a name spelt wrong, a certificate that came later); never on a cancelled one.
pub fn check_attendance(status: TrainingStatus) -> Result<(), TrainingError> {
    match status {
        TrainingStatus::Cancelled => Err(TrainingError::Cancelled),
        _ => Ok(()),
    }
}

/// `complete` needs the training planned and somebody present; `cancel` needs it planned.
pub fn check_action(status: TrainingStatus, action: TrainingAction, present: usize) -> Result<(), TrainingError> {
    match status {
        TrainingStatus::Cancelled => Err(TrainingError::Cancelled),
        TrainingStatus::Completed => Err(TrainingError::Completed),
        TrainingStatus::Planned if action == TrainingAction::Complete && present == 0 => {
            Err(TrainingError::NobodyPresent)
        }
        TrainingStatus::Planned => Ok(()),
    }
}

/// Sessions the plan proposes per school and system in a phase: the early and mid phases
/// cover more ground and weigh more (§2.1(5)).
pub fn proposed_sessions(phase: Phase) -> u32 {
    match phase {
        Phase::Early => 3,
        Phase::Mid => 2,
        Phase::Late => 1,
    }
}

/// The most schools, systems, trainers or attendees one training takes.
pub const MAX_LIST: usize = 500;

/// `POST /api/v1/trainings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrainingInput {
    /// `customer`, `vendor` or `internal`.
    pub kind: Option<String>,
    pub title: Option<String>,
    /// `early`, `mid` or `late`; a customer training's.
    pub phase: Option<String>,
    /// The systems taught (`network`, `server_room`, …).
    pub systems: Option<Vec<String>>,
    /// The schools whose staff attend; a customer training's.
    pub customer_ids: Option<Vec<i64>>,
    /// `YYYY-MM-DD`.
    pub planned_on: Option<String>,
    /// Where: a school, the depot, the vendor's office.
    pub place: Option<String>,
    /// The training team (staff user ids).
    pub trainer_ids: Option<Vec<i64>>,
    /// What is taught, a line per topic.
    pub topics: Option<String>,
    /// The manufacturer who trains (a vendor training's).
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTraining {
    pub kind: TrainingKind,
    pub title: String,
    pub phase: Option<Phase>,
    pub systems: Vec<System>,
    pub customer_ids: Vec<i64>,
    pub planned_on: NaiveDate,
    pub place: Option<String>,
    pub trainer_ids: Vec<i64>,
    pub topics: Option<String>,
    pub provider: Option<String>,
}

fn ids(e: &mut FieldErrors, field: &str, v: Option<&Vec<i64>>) -> Vec<i64> {
    let mut v = v.cloned().unwrap_or_default();
    if v.len() > MAX_LIST {
        e.push(field, "too_long");
    }
    v.sort_unstable();
    v.dedup();
    v
}

impl TrainingInput {
    pub fn validate(&self) -> Result<NewTraining, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = optional_enum(&mut e, "kind", self.kind.as_deref(), TrainingKind::parse);
        if kind.is_none() && clean(self.kind.as_deref()).is_none() {
            e.push("kind", "required");
        }
        let title = required(&mut e, "title", self.title.as_deref(), 200);
        let phase = optional_enum(&mut e, "phase", self.phase.as_deref(), Phase::parse);
        let mut systems = Vec::new();
        for (i, s) in self.systems.as_deref().unwrap_or_default().iter().enumerate() {
            match System::parse(s) {
                Some(s) if !systems.contains(&s) => systems.push(s),
                Some(_) => {}
                None => e.push(format!("systems[{i}]"), "unknown_value"),
            }
        }
        let customer_ids = ids(&mut e, "customer_ids", self.customer_ids.as_ref());
        let trainer_ids = ids(&mut e, "trainer_ids", self.trainer_ids.as_ref());
        let planned_on = optional_date(&mut e, "planned_on", self.planned_on.as_deref());
        if planned_on.is_none() && clean(self.planned_on.as_deref()).is_none() {
            e.push("planned_on", "required");
        }
        let place = optional(&mut e, "place", self.place.as_deref(), 200);
        let topics = optional(&mut e, "topics", self.topics.as_deref(), 5_000);
        let provider = optional(&mut e, "provider", self.provider.as_deref(), 200);
        match kind {
            Some(TrainingKind::Customer) => {
                if phase.is_none() && clean(self.phase.as_deref()).is_none() {
                    e.push("phase", "required");
                }
                if customer_ids.is_empty() {
                    e.push("customer_ids", "required");
                }
                if systems.is_empty() && self.systems.as_deref().unwrap_or_default().is_empty() {
                    e.push("systems", "required");
                }
            }
            Some(k @ (TrainingKind::Vendor | TrainingKind::Internal)) => {
                if k == TrainingKind::Vendor && provider.is_none() {
                    e.push("provider", "required");
                }
                if !customer_ids.is_empty() {
                    e.push("customer_ids", "not_allowed");
                }
            }
            None => {}
        }
        let (Some(kind), Some(planned_on)) = (kind, planned_on) else { return Err(e.in_area("trainings")) };
        // Phases belong to the schools' service; a staff training has none.
        let phase = if kind == TrainingKind::Customer { phase } else { None };
        e.in_area("trainings").into_result(NewTraining {
            kind,
            title,
            phase,
            systems,
            customer_ids,
            planned_on,
            place,
            trainer_ids,
            topics,
            provider,
        })
    }
}

/// `POST /api/v1/trainings/{id}/attendance`: the whole list (it replaces the one recorded).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttendanceInput {
    pub attendees: Option<Vec<AttendeeInput>>,
}

/// One person at a training.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttendeeInput {
    pub name: Option<String>,
    /// The attendee's school (a customer training's attendees).
    pub customer_id: Option<i64>,
    /// The attendee's account (a vendor or internal training's attendees).
    pub user_id: Option<i64>,
    /// Absent when false; present by default.
    pub present: Option<bool>,
    /// The school's administrator (信息管理员): every school's must be trained (§2.1(4)).
    pub administrator: Option<bool>,
    /// A certificate number or a result (合格, 优秀, 85 分) — staff trainings.
    pub result: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAttendee {
    pub name: String,
    pub customer_id: Option<i64>,
    pub user_id: Option<i64>,
    pub present: bool,
    pub administrator: bool,
    pub result: Option<String>,
}

impl AttendanceInput {
    /// Checks each attendee against the training: a customer training's attendee comes from
    /// one of its schools; a staff training's is one of the staff (`user_id`).
    pub fn validate(&self, kind: TrainingKind, schools: &[i64]) -> Result<Vec<NewAttendee>, FieldErrors> {
        let mut e = FieldErrors::default();
        let raw = self.attendees.as_deref().unwrap_or_default();
        if raw.len() > MAX_LIST {
            e.push("attendees", "too_long");
        }
        let mut out = Vec::with_capacity(raw.len());
        for (i, a) in raw.iter().enumerate() {
            let at = |f: &str| format!("attendees[{i}].{f}");
            let name = required(&mut e, &at("name"), a.name.as_deref(), 60);
            match kind {
                TrainingKind::Customer => match a.customer_id {
                    None => e.push(at("customer_id"), "required"),
                    Some(c) if !schools.contains(&c) => e.push(at("customer_id"), "not_in_training"),
                    Some(_) => {}
                },
                TrainingKind::Vendor | TrainingKind::Internal if a.user_id.is_none() => {
                    e.push(at("user_id"), "required")
                }
                _ => {}
            }
            let result = optional(&mut e, &at("result"), a.result.as_deref(), 200);
            out.push(NewAttendee {
                name,
                customer_id: if kind == TrainingKind::Customer { a.customer_id } else { None },
                user_id: a.user_id,
                present: a.present.unwrap_or(true),
                administrator: kind == TrainingKind::Customer && a.administrator.unwrap_or(false),
                result,
            });
        }
        e.in_area("trainings").into_result(out)
    }
}

/// `POST /api/v1/trainings/{id}/actions/complete`: how it went.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrainingCompleteInput {
    /// The trainees' feedback, 1 (poor) to 5 (excellent).
    pub feedback_score: Option<i64>,
    pub feedback_note: Option<String>,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    pub feedback_score: Option<i64>,
    pub feedback_note: Option<String>,
    pub summary: Option<String>,
}

impl TrainingCompleteInput {
    pub fn validate(&self) -> Result<Completion, FieldErrors> {
        let mut e = FieldErrors::default();
        if let Some(s) = self.feedback_score
            && !(1..=5).contains(&s)
        {
            e.push("feedback_score", "out_of_range");
        }
        let feedback_note = optional(&mut e, "feedback_note", self.feedback_note.as_deref(), 2_000);
        let summary = optional(&mut e, "summary", self.summary.as_deref(), 5_000);
        e.in_area("trainings").into_result(Completion { feedback_score: self.feedback_score, feedback_note, summary })
    }
}

/// A school and the systems it runs (from its equipment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolSystems {
    pub customer_id: i64,
    pub systems: Vec<System>,
}

/// What a completed customer training taught one school: the phase and systems, the day,
/// and how many of its people were present (administrators among them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taught {
    pub customer_id: i64,
    pub phase: Phase,
    pub systems: Vec<System>,
    pub held_on: NaiveDate,
    pub people: i64,
    pub administrators: i64,
}

/// One cell of the coverage: a school × phase × system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CoverageCell {
    pub customer_id: i64,
    pub phase: Phase,
    pub system: System,
    pub trained: bool,
    /// The last day it was taught.
    pub last_on: Option<NaiveDate>,
    /// The school's people present, over every session of the cell.
    pub people: i64,
}

/// A school's line of the coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolCoverage {
    pub customer_id: i64,
    /// Has the school's administrator ever been at a training (§2.1(4))?
    pub administrator_trained: bool,
    /// The cells trained, of all the cells (three phases × its systems).
    pub trained: usize,
    pub cells: Vec<CoverageCell>,
}

/// Every school × phase × system it runs, trained or not; the schools whose administrator
/// has never been trained first, then the least covered, then by id.
pub fn coverage(schools: &[SchoolSystems], taught: &[Taught]) -> Vec<SchoolCoverage> {
    let mut by_cell: HashMap<(i64, Phase, System), (NaiveDate, i64)> = HashMap::new();
    let mut admins: HashMap<i64, i64> = HashMap::new();
    for t in taught {
        *admins.entry(t.customer_id).or_default() += t.administrators;
        for s in &t.systems {
            let c = by_cell.entry((t.customer_id, t.phase, *s)).or_insert((t.held_on, 0));
            c.0 = c.0.max(t.held_on);
            c.1 += t.people;
        }
    }
    let mut out: Vec<SchoolCoverage> = schools
        .iter()
        .map(|s| {
            let mut systems = s.systems.clone();
            systems.sort_by_key(|s| System::ALL.iter().position(|a| a == s));
            systems.dedup();
            let cells: Vec<CoverageCell> = [Phase::Early, Phase::Mid, Phase::Late]
                .into_iter()
                .flat_map(|phase| systems.iter().map(move |system| (phase, *system)))
                .map(|(phase, system)| {
                    let hit = by_cell.get(&(s.customer_id, phase, system));
                    CoverageCell {
                        customer_id: s.customer_id,
                        phase,
                        system,
                        trained: hit.is_some(),
                        last_on: hit.map(|h| h.0),
                        people: hit.map_or(0, |h| h.1),
                    }
                })
                .collect();
            SchoolCoverage {
                customer_id: s.customer_id,
                administrator_trained: admins.get(&s.customer_id).copied().unwrap_or(0) > 0,
                trained: cells.iter().filter(|c| c.trained).count(),
                cells,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let share = |c: &SchoolCoverage| (c.trained * 1000).checked_div(c.cells.len()).unwrap_or(1000);
        (a.administrator_trained, share(a), a.customer_id).cmp(&(b.administrator_trained, share(b), b.customer_id))
    });
    out
}

/// How many sessions each phase has had, per system, against what the plan proposes — the
/// plan page's summary for one school.
pub fn sessions_due(phase: Phase, systems: &[System], held: &BTreeMap<System, u32>) -> Vec<(System, u32, u32)> {
    systems.iter().map(|s| (*s, held.get(s).copied().unwrap_or(0), proposed_sessions(phase))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_customer_training_names_its_phase_schools_and_systems() {
        let e = TrainingInput {
            kind: Some("customer".into()), title: Some("班班通使用".into()), ..Default::default()
        }
        .validate()
        .unwrap_err();
        for f in ["phase", "customer_ids", "systems", "planned_on"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let e = TrainingInput {
            kind: Some("party".into()),
            phase: Some("middle".into()),
            systems: Some(vec!["network".into(), "lasers".into()]),
            planned_on: Some("2026-02-30".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        for f in ["kind", "title", "phase", "systems[1]", "planned_on"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let ok = TrainingInput {
            kind: Some("customer".into()),
            title: Some("前期：班班通使用与日常维护".into()),
            phase: Some("early".into()),
            systems: Some(vec!["classroom".into(), "classroom".into()]),
            customer_ids: Some(vec![7, 3, 7]),
            planned_on: Some("2026-12-10".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!((ok.phase, ok.systems, ok.customer_ids), (Some(Phase::Early), vec![System::Classroom], vec![3, 7]));
    }

    #[test]
    fn a_vendor_training_names_its_vendor_and_no_schools() {
        let e = TrainingInput {
            kind: Some("vendor".into()),
            title: Some("海康 NVR 认证".into()),
            planned_on: Some("2026-12-10".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.has("provider"));
        let e = TrainingInput {
            kind: Some("internal".into()),
            title: Some("交换机环路排查".into()),
            planned_on: Some("2026-12-10".into()),
            customer_ids: Some(vec![1]),
            phase: Some("early".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.has("customer_ids"));
        let ok = TrainingInput {
            kind: Some("internal".into()),
            title: Some("交换机环路排查".into()),
            planned_on: Some("2026-12-10".into()),
            phase: Some("early".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.phase, None, "a staff training has no phase");
    }

    #[test]
    fn attendance_comes_from_the_trainings_schools_or_staff() {
        let input = AttendanceInput {
            attendees: Some(vec![
                AttendeeInput { name: Some("王老师".into()), customer_id: Some(3), ..Default::default() },
                AttendeeInput { name: Some("李老师".into()), customer_id: Some(9), ..Default::default() },
                AttendeeInput { name: None, customer_id: None, ..Default::default() },
            ]),
        };
        let e = input.validate(TrainingKind::Customer, &[3, 7]).unwrap_err();
        for f in ["attendees[1].customer_id", "attendees[2].name", "attendees[2].customer_id"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        assert!(!e.has("attendees[0].customer_id"));
        let e = AttendanceInput {
            attendees: Some(vec![AttendeeInput { name: Some("张工".into()), ..Default::default() }]),
        }
        .validate(TrainingKind::Vendor, &[])
        .unwrap_err();
        assert!(e.has("attendees[0].user_id"));
        assert_eq!(check_attendance(TrainingStatus::Cancelled), Err(TrainingError::Cancelled));
        assert_eq!(check_attendance(TrainingStatus::Completed), Ok(()));
    }

    #[test]
    fn completing_needs_somebody_present_and_feedback_in_range() {
        assert_eq!(
            check_action(TrainingStatus::Planned, TrainingAction::Complete, 0),
            Err(TrainingError::NobodyPresent)
        );
        assert_eq!(check_action(TrainingStatus::Planned, TrainingAction::Cancel, 0), Ok(()));
        assert_eq!(check_action(TrainingStatus::Planned, TrainingAction::Complete, 2), Ok(()));
        assert_eq!(check_action(TrainingStatus::Cancelled, TrainingAction::Complete, 2), Err(TrainingError::Cancelled));
        assert_eq!(check_action(TrainingStatus::Completed, TrainingAction::Cancel, 2), Err(TrainingError::Completed));
        let e = TrainingCompleteInput { feedback_score: Some(6), ..Default::default() }.validate().unwrap_err();
        assert!(e.has("feedback_score"));
        assert!(TrainingCompleteInput { feedback_score: Some(5), ..Default::default() }.validate().is_ok());
        assert!(allowed_actions(&[Role::Technician], TrainingStatus::Planned).is_empty());
        assert_eq!(allowed_actions(&[Role::Engineer], TrainingStatus::Planned).len(), 2);
        assert!(allowed_actions(&[Role::Manager], TrainingStatus::Completed).is_empty());
    }

    #[test]
    fn the_plan_weighs_the_early_and_mid_phases_more() {
        assert!(proposed_sessions(Phase::Early) > proposed_sessions(Phase::Late));
        assert!(proposed_sessions(Phase::Mid) > proposed_sessions(Phase::Late));
        let held = BTreeMap::from([(System::Network, 1)]);
        assert_eq!(
            sessions_due(Phase::Early, &[System::Network, System::Classroom], &held),
            vec![(System::Network, 1, 3), (System::Classroom, 0, 3)]
        );
    }

    #[test]
    fn coverage_lists_every_cell_and_untrained_administrators_first() {
        let schools = [
            SchoolSystems { customer_id: 1, systems: vec![System::Network, System::Classroom] },
            SchoolSystems { customer_id: 2, systems: vec![System::Surveillance] },
            SchoolSystems { customer_id: 3, systems: vec![] },
        ];
        let taught = [
            Taught {
                customer_id: 1,
                phase: Phase::Early,
                systems: vec![System::Network, System::Classroom],
                held_on: day(3),
                people: 5,
                administrators: 1,
            },
            Taught {
                customer_id: 1,
                phase: Phase::Early,
                systems: vec![System::Network],
                held_on: day(9),
                people: 2,
                administrators: 0,
            },
            // Taught a system the school does not run: not a cell of its coverage.
            Taught {
                customer_id: 2,
                phase: Phase::Mid,
                systems: vec![System::Broadcast],
                held_on: day(4),
                people: 3,
                administrators: 0,
            },
        ];
        let c = coverage(&schools, &taught);
        assert_eq!(c.iter().map(|s| s.customer_id).collect::<Vec<_>>(), vec![2, 3, 1]);
        let one = &c[2];
        assert!(one.administrator_trained);
        assert_eq!((one.cells.len(), one.trained), (6, 2));
        let net = one.cells.iter().find(|x| x.phase == Phase::Early && x.system == System::Network).unwrap();
        assert_eq!((net.trained, net.last_on, net.people), (true, Some(day(9)), 7));
        let mid = one.cells.iter().find(|x| x.phase == Phase::Mid && x.system == System::Network).unwrap();
        assert_eq!((mid.trained, mid.last_on, mid.people), (false, None, 0));
        assert!(!c[0].administrator_trained);
        assert_eq!((c[0].cells.len(), c[0].trained), (3, 0));
        assert!(c[1].cells.is_empty());
    }
}
