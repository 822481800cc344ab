//! Data analysis (数据分析, manual §2.7, §2.4(4)(6)) and rectifications (整改项, §2.4(7)):
//! the groupings of the fault counts, the period, the rates, and who may do what to a
//! rectification now. Pure.

use crate::Role;
use crate::validation::{FieldErrors, clean, optional, optional_date, optional_enum, required};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

string_enum!(
    /// How fault counts are grouped (`GET /api/v1/analysis/faults?by=`; fixed).
    FaultBy {
        System = "system",
        FaultType = "fault_type",
        Subcategory = "subcategory",
        Town = "town",
        Customer = "customer",
        Model = "model",
        Technician = "technician",
        Engineer = "engineer",
    }
);

/// The longest period one request may cover.
pub const MAX_PERIOD_DAYS: i64 = 3 * 366;

/// A period as typed in: `from` and `to`, both days included; `to` before `from` or a span
/// over three years is the field error on `to`.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    default: (NaiveDate, NaiveDate),
) -> Result<(NaiveDate, NaiveDate), FieldErrors> {
    let mut e = FieldErrors::default();
    let f = optional_date(&mut e, "from", from).unwrap_or(default.0);
    let t = optional_date(&mut e, "to", to).unwrap_or(default.1);
    if e.is_empty() {
        if t < f {
            e.push("to", "date_order");
        } else if (t - f).num_days() > MAX_PERIOD_DAYS {
            e.push("to", "out_of_range");
        }
    }
    e.in_area("analysis").into_result((f, t))
}

/// `part` of `whole` as a percentage with one decimal, `None` when there is no whole (an
/// empty period has no rate, not a rate of zero).
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The change from `before` to `after` in percent (`None` from nothing).
pub fn change(before: i64, after: i64) -> Option<f64> {
    (before > 0).then(|| ((after - before) as f64 * 1000.0 / before as f64).round() / 10.0)
}

string_enum!(
    /// Where a rectification stands (DESIGN.md §3a; fixed).
    RectStatus {
        Proposed = "proposed",
        Open = "open",
        Done = "done",
        Rejected = "rejected",
    }
);

string_enum!(
    /// `POST /api/v1/rectifications/{id}/actions/{action}`.
    RectAction {
        Accept = "accept",
        Reject = "reject",
        Done = "done",
    }
);

string_enum!(
    /// Where a rectification came from.
    RectSource {
        Engineer = "engineer",
        Meeting = "meeting",
        /// A hazard found on an inspection round.
        Inspection = "inspection",
        /// A fault hot spot of the analysis.
        Hotspot = "hotspot",
    }
);

/// Who proposes: the engineer and the manager (整改建议上报部门经理, §2.4(7)).
pub fn may_propose(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Manager | Role::Admin))
}

/// Who reads the analysis and the rectifications: staff, never a school.
pub fn may_read(roles: &[Role]) -> bool {
    !roles.is_empty() && roles.iter().all(|r| !matches!(r, Role::Customer))
}

/// What is true of the actor and the rectification when an action is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RectContext {
    pub roles: Vec<Role>,
    /// The actor owns it (carries it out).
    pub is_owner: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RectError {
    #[error("{action} is not allowed for this user")]
    Forbidden { action: RectAction },
    #[error("cannot {action} a rectification that is {status}")]
    IllegalState { action: RectAction, status: RectStatus },
}

/// The state an action leads to: accept and reject are the manager's (on a proposal);
/// done is the owner's, the engineer's or the manager's (on an open one).
pub fn transition(status: RectStatus, action: RectAction, ctx: &RectContext) -> Result<RectStatus, RectError> {
    let has = |r: Role| ctx.roles.contains(&r);
    let manager = has(Role::Manager) || has(Role::Admin);
    let allowed = match action {
        RectAction::Accept | RectAction::Reject => manager,
        RectAction::Done => manager || has(Role::Engineer) || ctx.is_owner,
    };
    if !allowed {
        return Err(RectError::Forbidden { action });
    }
    match (action, status) {
        (RectAction::Accept, RectStatus::Proposed) => Ok(RectStatus::Open),
        (RectAction::Reject, RectStatus::Proposed) => Ok(RectStatus::Rejected),
        (RectAction::Done, RectStatus::Open) => Ok(RectStatus::Done),
        _ => Err(RectError::IllegalState { action, status }),
    }
}

/// `POST /api/v1/rectifications`: what must change, where, by whom and when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RectificationInput {
    pub title: Option<String>,
    pub detail: Option<String>,
    /// `engineer` (default), `meeting`, `inspection` or `hotspot`.
    pub source: Option<String>,
    pub meeting_id: Option<i64>,
    pub inspection_id: Option<i64>,
    /// The hazard line of the round it comes from.
    pub hazard_item_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// One of the six systems.
    pub system: Option<String>,
    pub equipment_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewRectification {
    pub title: String,
    pub detail: Option<String>,
    pub source: RectSource,
    pub meeting_id: Option<i64>,
    pub inspection_id: Option<i64>,
    pub hazard_item_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub system: Option<crate::System>,
    pub equipment_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub due_on: Option<NaiveDate>,
}

impl RectificationInput {
    pub fn validate(&self) -> Result<NewRectification, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = required(&mut e, "title", self.title.as_deref(), 200);
        let detail = optional(&mut e, "detail", self.detail.as_deref(), 4000);
        let source =
            optional_enum(&mut e, "source", self.source.as_deref(), RectSource::parse).unwrap_or(RectSource::Engineer);
        let system = optional_enum(&mut e, "system", self.system.as_deref(), crate::System::parse);
        let due_on = optional_date(&mut e, "due_on", self.due_on.as_deref());
        if self.hazard_item_id.is_some() && self.inspection_id.is_none() {
            e.push("inspection_id", "required");
        }
        if clean(self.title.as_deref()).is_some()
            && self.customer_id.is_none()
            && self.equipment_id.is_none()
            && system.is_none()
            && !e.has("system")
        {
            // A rectification is about something: a school, a system or a device.
            e.push("customer_id", "required");
        }
        e.in_area("rectifications").into_result(NewRectification {
            title,
            detail,
            source,
            meeting_id: self.meeting_id,
            inspection_id: self.inspection_id,
            hazard_item_id: self.hazard_item_id,
            customer_id: self.customer_id,
            system,
            equipment_id: self.equipment_id,
            owner_id: self.owner_id,
            due_on,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_period_must_run_forward_and_not_forever() {
        let def = (d("2026-12-01"), d("2026-12-31"));
        assert_eq!(period(None, None, def), Ok(def));
        assert_eq!(period(Some("2026-01-01"), Some("2026-06-30"), def), Ok((d("2026-01-01"), d("2026-06-30"))));
        let e = period(Some("2026-06-30"), Some("2026-01-01"), def).unwrap_err();
        assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("to", "date_order"));
        assert!(period(Some("2020-01-01"), Some("2026-01-01"), def).unwrap_err().has("to"));
        assert!(period(Some("2026-02-30"), None, def).unwrap_err().has("from"));
    }

    #[test]
    fn rates_of_nothing_are_no_rate() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(1, 3), Some(33.3));
        assert_eq!(rate(3, 3), Some(100.0));
        assert_eq!(change(0, 5), None);
        assert_eq!(change(10, 4), Some(-60.0));
        assert_eq!(change(4, 6), Some(50.0));
    }

    #[test]
    fn the_manager_decides_and_the_owner_finishes() {
        let mgr = RectContext { roles: vec![Role::Manager], is_owner: false };
        let eng = RectContext { roles: vec![Role::Engineer], is_owner: false };
        let owner = RectContext { roles: vec![Role::Technician], is_owner: true };
        let other = RectContext { roles: vec![Role::Technician], is_owner: false };
        assert_eq!(transition(RectStatus::Proposed, RectAction::Accept, &mgr), Ok(RectStatus::Open));
        assert_eq!(transition(RectStatus::Proposed, RectAction::Reject, &mgr), Ok(RectStatus::Rejected));
        assert!(matches!(transition(RectStatus::Proposed, RectAction::Accept, &eng), Err(RectError::Forbidden { .. })));
        assert_eq!(transition(RectStatus::Open, RectAction::Done, &owner), Ok(RectStatus::Done));
        assert_eq!(transition(RectStatus::Open, RectAction::Done, &eng), Ok(RectStatus::Done));
        assert!(matches!(transition(RectStatus::Open, RectAction::Done, &other), Err(RectError::Forbidden { .. })));
        assert!(matches!(
            transition(RectStatus::Proposed, RectAction::Done, &mgr),
            Err(RectError::IllegalState { .. })
        ));
        assert!(matches!(transition(RectStatus::Open, RectAction::Accept, &mgr), Err(RectError::IllegalState { .. })));
    }

    #[test]
    fn a_rectification_names_what_and_where() {
        let e = RectificationInput::default().validate().unwrap_err();
        assert!(e.has("title"));
        let e = RectificationInput { title: Some("更换立杆".into()), ..Default::default() }.validate().unwrap_err();
        assert!(e.has("customer_id"), "about something: {e:?}");
        let e = RectificationInput {
            title: Some("x".into()),
            system: Some("telepathy".into()),
            hazard_item_id: Some(3),
            due_on: Some("2026-13-01".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        for f in ["system", "inspection_id", "due_on"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let ok = RectificationInput {
            title: Some("监控立杆加固".into()),
            system: Some("surveillance".into()),
            source: Some("hotspot".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!((ok.source, ok.system), (RectSource::Hotspot, Some(crate::System::Surveillance)));
    }
}
