//! Next week's work plan (下周工作计划, manual §3.2.3, §2.4(6)): the ISO week, the kinds of
//! work the engineer adds by hand, and the input. Pure.

use crate::Role;
use crate::validation::{FieldErrors, clean, optional, optional_date, optional_enum, required};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Work added by hand beside the scheduled repairs, rounds and trips.
    PlanKind {
        /// Preventive maintenance of a fault-prone point (§2.4(6)).
        Maintenance = "maintenance",
        /// A site survey (现场勘查).
        Survey = "survey",
        Training = "training",
        Other = "other",
    }
);

/// Who plans the week and publishes it: the engineer and the manager.
pub fn may_plan(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Manager | Role::Admin))
}

/// `2026-W50` → its Monday; a bad week is `None`.
pub fn parse_week(s: &str) -> Option<NaiveDate> {
    let (y, w) = s.trim().split_once("-W")?;
    NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, Weekday::Mon)
        .filter(|d| crate::validation::YEARS.contains(&d.year()))
}

/// The ISO week of a day, `2026-W50`.
pub fn week_of(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The Monday of a day's week.
pub fn monday_of(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// `POST /api/v1/work-plan/items`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanItemInput {
    pub user_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub day: Option<String>,
    /// `maintenance`, `survey`, `training` or `other` (default).
    pub kind: Option<String>,
    pub title: Option<String>,
    pub customer_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPlanItem {
    pub user_id: i64,
    pub day: NaiveDate,
    pub kind: PlanKind,
    pub title: String,
    pub customer_id: Option<i64>,
}

impl PlanItemInput {
    pub fn validate(&self) -> Result<NewPlanItem, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.user_id.is_none() {
            e.push("user_id", "required");
        }
        let day = optional_date(&mut e, "day", self.day.as_deref());
        if day.is_none() && clean(self.day.as_deref()).is_none() {
            e.push("day", "required");
        }
        let kind = optional_enum(&mut e, "kind", self.kind.as_deref(), PlanKind::parse).unwrap_or(PlanKind::Other);
        let title = required(&mut e, "title", self.title.as_deref(), 200);
        let (Some(user_id), Some(day)) = (self.user_id, day) else { return Err(e.in_area("work_plan")) };
        e.in_area("work_plan").into_result(NewPlanItem { user_id, day, kind, title, customer_id: self.customer_id })
    }
}

/// `POST /api/v1/work-plan/items/{id}`: done, or why it slipped.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanItemUpdate {
    pub done: Option<bool>,
    pub slipped_reason: Option<String>,
}

impl PlanItemUpdate {
    pub fn validate(&self) -> Result<(bool, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        let reason = optional(&mut e, "slipped_reason", self.slipped_reason.as_deref(), 500);
        e.in_area("work_plan").into_result((self.done.unwrap_or(false), reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_iso_weeks_starting_monday() {
        let mon = parse_week("2026-W50").unwrap();
        assert_eq!(mon, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert_eq!(week_of(mon + chrono::Duration::days(6)), "2026-W50");
        assert_eq!(monday_of(NaiveDate::from_ymd_opt(2026, 12, 13).unwrap()), mon);
        assert_eq!(parse_week("2026-W54"), None);
        assert_eq!(parse_week("next week"), None);
        assert_eq!(week_of(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()), "2026-W53");
    }

    #[test]
    fn a_plan_item_says_who_when_and_what() {
        let e = PlanItemInput::default().validate().unwrap_err();
        for f in ["user_id", "day", "title"] {
            assert!(e.has(f), "{f}");
        }
        let ok = PlanItemInput {
            user_id: Some(4),
            day: Some("2026-12-08".into()),
            kind: Some("maintenance".into()),
            title: Some("城关片区交换机除尘".into()),
            customer_id: None,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.kind, PlanKind::Maintenance);
    }
}
