//! Meetings (manual §3.2.3, §2.4(6)(7), §2.7(5)): the engineer schedules the weekly technical
//! meeting (or the month's data-analysis meeting), anyone proposes agenda points, the
//! engineer orders them; the meeting page gathers its material by itself — the period's
//! faults beside the one before, the hot spots, open escalations, repeat repairs and
//! misdiagnoses proposed, open hazards, complaints, parts short, open rectifications — and
//! the engineer records minutes, decisions and who came. Rectifications proposed from a
//! meeting carry its id.

use crate::analysis::{FaultAnalysis, Hotspots, RectScope};
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::analysis::FaultBy;
use aftercare_domain::assessments::PenaltyStatus;
use aftercare_domain::meetings::{
    AgendaInput, HoldInput, MeetingInput, MeetingKind, MeetingStatus, default_title, may_run, may_take_part,
};
use aftercare_domain::{FieldErrors, MeetingId};
use aftercare_store::contacts::ContactQuery;
use aftercare_store::meetings as store;
use aftercare_store::tickets::{TicketQuery, TicketRow};
use aftercare_store::{Page, Paged};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

pub use aftercare_store::meetings::{AgendaRow, MeetingRow};

/// What a meeting looks at, gathered for its period.
#[derive(Debug, Clone, Serialize)]
pub struct Material {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub faults: FaultAnalysis,
    pub hotspots: Hotspots,
    pub escalated: Paged<TicketRow>,
    /// Repeat repairs and misdiagnoses proposed, waiting for the manager.
    pub penalties: Vec<aftercare_store::assessments::PenaltyRow>,
    pub hazards: Paged<aftercare_store::inspections::HazardRow>,
    pub complaints: i64,
    pub shortages: Vec<aftercare_store::shortages::AlertRow>,
    pub rectifications: Paged<aftercare_store::analysis::RectificationRow>,
}

/// A meeting as its page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    pub meeting: MeetingRow,
    pub agenda: Vec<AgendaRow>,
    pub attendee_ids: Vec<i64>,
    /// The rectifications proposed from this meeting.
    pub rectifications: Vec<aftercare_store::analysis::RectificationRow>,
    pub material: Material,
    /// Order the agenda, record the minutes.
    pub can_run: bool,
}

/// The period a meeting looks at: the seven days before a weekly meeting, the month before
/// an analysis meeting.
pub fn material_period(kind: MeetingKind, held_on: NaiveDate) -> (NaiveDate, NaiveDate) {
    match kind {
        MeetingKind::Weekly => (held_on - Duration::days(7), held_on - Duration::days(1)),
        MeetingKind::Analysis => {
            let first = held_on.with_day(1).unwrap_or(held_on);
            let last = first.pred_opt().unwrap_or(first);
            (last.with_day(1).unwrap_or(last), last)
        }
    }
}

impl Services {
    pub async fn plan_meeting(&self, by: &Actor, input: &MeetingInput, now: DateTime<Utc>) -> Result<MeetingView> {
        require(may_run(&by.roles))?;
        let m = input.validate()?;
        let staff = self.rectification_owners(by).await?;
        let mut e = FieldErrors::default();
        for (i, u) in m.attendee_ids.iter().enumerate() {
            if !staff.iter().any(|(id, _)| id == u) {
                e.push(format!("attendee_ids[{i}]"), "not_found");
            }
        }
        for (i, a) in m.agenda.iter().enumerate() {
            if a.presenter_id.is_some_and(|p| !staff.iter().any(|(id, _)| *id == p)) {
                e.push(format!("agenda[{i}].presenter_id"), "not_found");
            }
        }
        e.in_area("meetings").into_result(())?;
        let title = m.title.clone().unwrap_or_else(|| default_title(m.kind, m.held_on));
        let id = store::create(&self.db, &self.writer(by), &m, &title, now).await?;
        self.meeting(by, MeetingId(id)).await
    }

    pub async fn meetings(&self, by: &Actor, page: Page) -> Result<Paged<MeetingRow>> {
        require(may_take_part(&by.roles))?;
        Ok(store::list(&self.db, page).await?)
    }

    pub async fn meeting(&self, by: &Actor, id: MeetingId) -> Result<MeetingView> {
        require(may_take_part(&by.roles))?;
        let meeting = store::get(&self.db, id.0).await?;
        let agenda = store::agenda(&self.db, id.0).await?;
        let attendee_ids = store::attendees(&self.db, id.0).await?;
        let mut rectifications =
            self.list_rectifications(by, RectScope::All, Page::new(Some(1), Some(200))).await?.items;
        rectifications.retain(|r| r.meeting_id == Some(id.0));
        let material = self.material(by, meeting.kind, meeting.held_on).await?;
        Ok(MeetingView { meeting, agenda, attendee_ids, rectifications, material, can_run: may_run(&by.roles) })
    }

    /// What the meeting looks at, gathered now.
    async fn material(&self, by: &Actor, kind: MeetingKind, held_on: NaiveDate) -> Result<Material> {
        let (from, to) = material_period(kind, held_on);
        let ten = Page::new(Some(1), Some(10));
        let escalated = self.list_tickets(by, TicketQuery { escalated: true, ..Default::default() }, ten).await?;
        let penalties =
            aftercare_store::assessments::penalties(&self.db, Some(PenaltyStatus::Proposed), None, ten).await?.items;
        let one = Page::new(Some(1), Some(1));
        let complaints = self
            .list_contacts(by, &ContactQuery { unreviewed_complaints: true, ..Default::default() }, one)
            .await?
            .total;
        Ok(Material {
            from,
            to,
            faults: self.fault_analysis(by, from, to, FaultBy::System).await?,
            hotspots: self.hotspots(by, from, to).await?,
            escalated,
            penalties,
            hazards: self.hazards(by, ten).await?,
            complaints,
            shortages: aftercare_store::shortages::list(&self.db, true, None).await?,
            rectifications: self.list_rectifications(by, RectScope::Open, ten).await?,
        })
    }

    /// Anyone on staff proposes a point for a planned meeting.
    pub async fn add_agenda_point(
        &self,
        by: &Actor,
        id: MeetingId,
        input: &AgendaInput,
        now: DateTime<Utc>,
    ) -> Result<MeetingView> {
        require(may_take_part(&by.roles))?;
        let m = store::get(&self.db, id.0).await?;
        let a = input.validate()?;
        if a.presenter_id.is_some_and(|p| p <= 0) {
            return Err(FieldErrors::single("presenter_id", "not_found").into());
        }
        if m.status != MeetingStatus::Planned {
            return Err(held(m.status));
        }
        store::add_point(&self.db, &self.writer(by), id.0, &a, now).await?;
        self.meeting(by, id).await
    }

    /// The engineer's order of the agenda: every point, each once.
    pub async fn order_agenda(&self, by: &Actor, id: MeetingId, ids: &[i64]) -> Result<MeetingView> {
        require(may_run(&by.roles))?;
        let m = store::get(&self.db, id.0).await?;
        if m.status != MeetingStatus::Planned {
            return Err(held(m.status));
        }
        let mut now: Vec<i64> = store::agenda(&self.db, id.0).await?.iter().map(|a| a.id).collect();
        let mut asked = ids.to_vec();
        now.sort_unstable();
        asked.sort_unstable();
        if now != asked {
            return Err(FieldErrors::single("ids", "invalid").into());
        }
        store::order(&self.db, &self.writer(by), id.0, ids).await?;
        self.meeting(by, id).await
    }

    /// Records the minutes, decisions and who came: the meeting is held.
    pub async fn hold_meeting(
        &self,
        by: &Actor,
        id: MeetingId,
        input: &HoldInput,
        now: DateTime<Utc>,
    ) -> Result<MeetingView> {
        require(may_run(&by.roles))?;
        let m = store::get(&self.db, id.0).await?;
        let h = input.validate()?;
        let staff = self.rectification_owners(by).await?;
        let mut e = FieldErrors::default();
        for (i, u) in h.attendee_ids.iter().enumerate() {
            if !staff.iter().any(|(id, _)| id == u) {
                e.push(format!("attendee_ids[{i}]"), "not_found");
            }
        }
        e.in_area("meetings").into_result(())?;
        if m.status != MeetingStatus::Planned {
            return Err(held(m.status));
        }
        store::hold(&self.db, &self.writer(by), id.0, &h, now).await?;
        self.meeting(by, id).await
    }
}

fn held(_: MeetingStatus) -> ServiceError {
    ServiceError::Transition { action: "meeting_change", status: "meeting_held", reason: None }
}
