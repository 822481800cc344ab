//! The ticket page in one call: the ticket with its equipment, people, timeline and files,
//! and what the viewer may do to it now, decided by the flow chart's own rules.

use super::{EventRow, TicketDetail, action_context};
use crate::attachments::AttachmentMeta;
use crate::equipment::EquipmentRow;
use crate::taxonomy::SubcategoryRow;
use crate::{Actor, Result, Services};
use aftercare_domain::TicketId;
use aftercare_domain::tickets::{self as rules, TicketAction};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Everything the ticket page shows. Its queries are the same in number whatever the
/// ticket holds (equipment, visits, events, files).
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub detail: TicketDetail,
    /// The linked equipment, read together.
    pub equipment: Vec<EquipmentRow>,
    /// Technicians to choose from and to name (staff only; empty for a school).
    pub technicians: Vec<(i64, String)>,
    /// Oldest first; a school sees its filtered timeline ([`Services::timeline_of`]).
    pub timeline: Vec<EventRow>,
    pub attachments: Vec<AttachmentMeta>,
    /// Photos taken on visits: (visit id, photo id), oldest first.
    pub photos: Vec<(i64, i64)>,
    /// The fault subcategories for the diagnose form (staff only).
    pub subcategories: Vec<SubcategoryRow>,
    /// The actions the viewer may take now ([`rules::available_actions`]). A school user
    /// confirms on the portal's own page, so gets none here.
    pub actions: Vec<TicketAction>,
    /// The viewer may record a visit now.
    pub can_visit: bool,
    /// The viewer may log a callback that did not get through.
    pub can_attempt: bool,
    /// The viewer (the technician on site) may ask the engineer to escalate.
    pub can_request_escalation: bool,
    /// The viewer may check (复核) the visits not yet checked.
    pub can_review_visits: bool,
    /// The viewer may record the visit time agreed with the school.
    pub can_agree_visit: bool,
    /// The viewer may suggest an upgrade or replacement of the ticket's equipment.
    pub can_suggest: bool,
    /// Know-how on the same model or fault, and whether to offer "write it down" (staff).
    pub know_how: crate::articles::TicketKnowHow,
}

impl TicketView {
    /// The name of an assigned technician, for the page (empty if unknown).
    pub fn technician_name(&self, id: i64) -> Option<&str> {
        self.technicians.iter().find(|(t, _)| *t == id).map(|(_, n)| n.as_str())
    }
}

impl Services {
    /// The ticket page of `id` for this viewer (a school only its own: others "not found").
    pub async fn ticket_view(&self, by: &Actor, id: TicketId, now: DateTime<Utc>) -> Result<TicketView> {
        let detail = self.get_ticket(by, id).await?;
        let equipment = aftercare_store::equipment::of_ticket(&self.db, id.0).await?;
        let timeline = self.timeline_of(by, &detail).await?;
        let attachments = self.attachments_of(&detail).await?;
        let photos = aftercare_store::visits::photos_of(&self.db, id.0).await?;
        let staff = by.is_staff();
        let (technicians, subcategories, actions, can_visit, can_attempt, can_request_escalation) = if staff {
            let window = self.repeat_window_days().await?;
            let ctx = action_context(by, &detail, now, window);
            let status = detail.ticket.status;
            (
                self.technicians(by).await?,
                self.fault_subcategories(by).await?,
                rules::available_actions(status, &ctx),
                rules::takes_visits(status) && rules::may_record_visits(&ctx),
                status == rules::TicketStatus::Resolved && rules::may_log_callback_attempts(&ctx),
                rules::may_request_escalation(status, &ctx),
            )
        } else {
            Default::default()
        };
        let status = detail.ticket.status;
        let can_review_visits = staff && rules::may_review_visits(&by.roles);
        let can_agree_visit = staff && rules::may_agree_visit_time(status, &by.roles);
        let can_suggest = staff && !equipment.is_empty() && crate::suggestions::may_suggest(by);
        let know_how = self.ticket_know_how(by, id, status).await?;
        Ok(TicketView {
            detail,
            equipment,
            technicians,
            timeline,
            attachments,
            photos,
            subcategories,
            actions,
            can_visit,
            can_attempt,
            can_request_escalation,
            can_review_visits,
            can_agree_visit,
            can_suggest,
            know_how,
        })
    }
}
