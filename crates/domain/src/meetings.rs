//! The weekly technical meeting (技术研讨会议, manual §3.2.3, §2.4(6)(7)) and the data-
//! analysis meeting (§2.7(5)): kinds, statuses, who may do what, the inputs. Pure.

use crate::Role;
use crate::validation::{FieldErrors, clean, optional, optional_date, optional_enum, required};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

string_enum!(
    /// `weekly` or `analysis` (DESIGN.md §5; fixed).
    MeetingKind {
        Weekly = "weekly",
        Analysis = "analysis",
    }
);

string_enum!(
    MeetingStatus {
        /// Agenda points are gathered.
        Planned = "planned",
        /// Minutes, decisions and attendance recorded.
        Held = "held",
    }
);

/// Who schedules meetings, orders the agenda and records the minutes: the engineer and
/// the manager.
pub fn may_run(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Manager | Role::Admin))
}

/// Anyone on staff proposes agenda points and reads the meetings; a school never.
pub fn may_take_part(roles: &[Role]) -> bool {
    !roles.is_empty() && roles.iter().all(|r| !matches!(r, Role::Customer))
}

/// The most agenda points a meeting takes.
pub const MAX_AGENDA: usize = 100;

/// `POST /api/v1/meetings`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MeetingInput {
    /// `weekly` (default) or `analysis`.
    pub kind: Option<String>,
    /// `YYYY-MM-DD`.
    pub held_on: Option<String>,
    pub title: Option<String>,
    pub attendee_ids: Option<Vec<i64>>,
    pub agenda: Option<Vec<AgendaInput>>,
    pub minutes: Option<String>,
}

/// An agenda point.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgendaInput {
    pub title: Option<String>,
    pub detail: Option<String>,
    pub presenter_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAgenda {
    pub title: String,
    pub detail: Option<String>,
    pub presenter_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMeeting {
    pub kind: MeetingKind,
    pub held_on: NaiveDate,
    pub title: Option<String>,
    pub attendee_ids: Vec<i64>,
    pub agenda: Vec<NewAgenda>,
    pub minutes: Option<String>,
}

impl AgendaInput {
    /// The point's errors under `at` (`agenda[2].title`, or the bare names for one point).
    pub fn check(&self, e: &mut FieldErrors, at: &str) -> NewAgenda {
        let f = |n: &str| if at.is_empty() { n.to_owned() } else { format!("{at}.{n}") };
        NewAgenda {
            title: required(e, &f("title"), self.title.as_deref(), 200),
            detail: optional(e, &f("detail"), self.detail.as_deref(), 2000),
            presenter_id: self.presenter_id,
        }
    }

    pub fn validate(&self) -> Result<NewAgenda, FieldErrors> {
        let mut e = FieldErrors::default();
        let a = self.check(&mut e, "");
        e.in_area("meetings").into_result(a)
    }
}

impl MeetingInput {
    pub fn validate(&self) -> Result<NewMeeting, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind =
            optional_enum(&mut e, "kind", self.kind.as_deref(), MeetingKind::parse).unwrap_or(MeetingKind::Weekly);
        let held_on = optional_date(&mut e, "held_on", self.held_on.as_deref());
        if held_on.is_none() && clean(self.held_on.as_deref()).is_none() {
            e.push("held_on", "required");
        }
        let title = optional(&mut e, "title", self.title.as_deref(), 200);
        let mut attendee_ids = self.attendee_ids.clone().unwrap_or_default();
        attendee_ids.sort_unstable();
        attendee_ids.dedup();
        let raw = self.agenda.as_deref().unwrap_or_default();
        if raw.len() > MAX_AGENDA {
            e.push("agenda", "too_long");
        }
        let agenda = raw.iter().enumerate().map(|(i, a)| a.check(&mut e, &format!("agenda[{i}]"))).collect();
        let minutes = optional(&mut e, "minutes", self.minutes.as_deref(), 20_000);
        let Some(held_on) = held_on else { return Err(e.in_area("meetings")) };
        e.in_area("meetings").into_result(NewMeeting { kind, held_on, title, attendee_ids, agenda, minutes })
    }
}

/// `POST /api/v1/meetings/{id}/actions/hold`: the minutes, the decisions and who came.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HoldInput {
    pub minutes: Option<String>,
    pub decisions: Option<String>,
    pub attendee_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    pub minutes: String,
    pub decisions: Option<String>,
    pub attendee_ids: Vec<i64>,
}

impl HoldInput {
    pub fn validate(&self) -> Result<Holding, FieldErrors> {
        let mut e = FieldErrors::default();
        let minutes = required(&mut e, "minutes", self.minutes.as_deref(), 20_000);
        let decisions = optional(&mut e, "decisions", self.decisions.as_deref(), 10_000);
        let mut attendee_ids = self.attendee_ids.clone().unwrap_or_default();
        attendee_ids.sort_unstable();
        attendee_ids.dedup();
        if attendee_ids.is_empty() {
            e.push("attendee_ids", "required");
        }
        e.in_area("meetings").into_result(Holding { minutes, decisions, attendee_ids })
    }
}

/// The default title: "第 50 周技术研讨会" / "2026-12 数据分析会".
pub fn default_title(kind: MeetingKind, held_on: NaiveDate) -> String {
    use chrono::Datelike;
    match kind {
        MeetingKind::Weekly => format!("{} 年第 {} 周技术研讨会", held_on.iso_week().year(), held_on.iso_week().week()),
        MeetingKind::Analysis => format!("{} 数据分析会", held_on.format("%Y-%m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meeting_needs_its_day_and_each_point_its_title() {
        let e = MeetingInput {
            kind: Some("party".into()),
            agenda: Some(vec![
                AgendaInput::default(),
                AgendaInput { title: Some("监控掉线分析".into()), ..Default::default() },
            ]),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        for f in ["kind", "held_on", "agenda[0].title"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        assert!(!e.has("agenda[1].title"));
        let ok = MeetingInput {
            held_on: Some("2026-12-11".into()),
            attendee_ids: Some(vec![3, 2, 3]),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!((ok.kind, ok.attendee_ids), (MeetingKind::Weekly, vec![2, 3]));
    }

    #[test]
    fn holding_a_meeting_records_minutes_and_who_came() {
        let e = HoldInput::default().validate().unwrap_err();
        assert!(e.has("minutes") && e.has("attendee_ids"));
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
        assert_eq!(default_title(MeetingKind::Weekly, d), "2026 年第 50 周技术研讨会");
        assert_eq!(default_title(MeetingKind::Analysis, d), "2026-12 数据分析会");
    }
}
