//! The hand-offs around a ticket that are not steps of the flow chart: the visit time the
//! desk agreed with the school (§2.2(5)) and the engineer's check of each visit (复核,
//! §2.4(4)).

use super::{TicketDetail, VisitRow};
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::notifications::NotificationKind;
use aftercare_domain::tickets::{
    self as rules, AgreedVisitInput, EventKind, TicketStatus, VisitReviewInput, VisitVerdict,
};
use aftercare_domain::{TicketId, VisitId};
use aftercare_store::StoreError;
use aftercare_store::notifications::NewNotification;
use aftercare_store::tickets::{self as store, NewEvent, TicketChange, TicketPatch};
use chrono::{DateTime, Utc};

impl Services {
    /// Records the visit time agreed with the school on a scheduled ticket; its technicians
    /// are told, the school sees it on its timeline.
    pub async fn agree_visit_time(
        &self,
        by: &Actor,
        id: TicketId,
        input: &AgreedVisitInput,
        now: DateTime<Utc>,
    ) -> Result<TicketDetail> {
        let d = self.get_ticket(by, id).await?;
        let t = &d.ticket;
        require(by.is_staff() && rules::may_agree_visit_time(TicketStatus::Scheduled, &by.roles))?;
        if !rules::may_agree_visit_time(t.status, &by.roles) {
            return Err(ServiceError::Transition { action: "agree_visit", status: t.status.as_str(), reason: None });
        }
        let (at, note) = input.validate(now)?;
        let args = serde_json::json!({"number": t.number, "title": t.title, "at": at, "by": by.display_name});
        let change = TicketChange {
            patch: TicketPatch { agreed_visit_at: Some(Some(at)), agreed_by: Some(by.id), ..Default::default() },
            events: vec![NewEvent {
                note: note.clone(),
                data: Some(serde_json::json!({"agreed_at": at})),
                ..NewEvent::new(EventKind::VisitAgreed)
            }],
            notifications: d
                .technician_ids
                .iter()
                .map(|&user_id| NewNotification { user_id, kind: NotificationKind::VisitAgreed, args: args.clone() })
                .collect(),
            audit_action: "agree_visit",
            ..Default::default()
        };
        store::update(&self.db, &self.writer(by), id.0, t.version, &change, now).await?;
        self.get_ticket(by, id).await
    }

    /// The ticket of a visit, if the actor may see it.
    pub async fn visit_ticket(&self, by: &Actor, visit: VisitId) -> Result<TicketId> {
        let t = aftercare_store::visits::visits_ticket(&self.db, visit.0).await?.ok_or(ServiceError::NotFound)?;
        self.get_ticket(by, TicketId(t)).await?;
        Ok(TicketId(t))
    }

    /// The engineer's check of a visit: accepted, or returned to its technicians with a
    /// note. Each visit is checked once.
    pub async fn review_visit(
        &self,
        by: &Actor,
        visit: VisitId,
        input: &VisitReviewInput,
        now: DateTime<Utc>,
    ) -> Result<VisitRow> {
        require(by.is_staff() && rules::may_review_visits(&by.roles))?;
        let v = aftercare_store::visits::visit(&self.db, visit.0).await?.ok_or(ServiceError::NotFound)?;
        let d = self.get_ticket(by, TicketId(v.ticket_id)).await?;
        if v.review_verdict.is_some() {
            return Err(ServiceError::Transition { action: "review", status: "reviewed", reason: None });
        }
        let (verdict, note) = input.validate()?;
        let notify: Vec<NewNotification> = if verdict == VisitVerdict::Returned {
            let args = serde_json::json!({"number": d.ticket.number, "title": d.ticket.title, "by": by.display_name,
                "reason": note});
            v.technician_ids
                .split(',')
                .filter_map(|s| s.parse::<i64>().ok())
                .map(|user_id| NewNotification { user_id, kind: NotificationKind::VisitReturned, args: args.clone() })
                .collect()
        } else {
            Vec::new()
        };
        aftercare_store::visits::review(&self.db, &self.writer(by), &v, verdict, note.as_deref(), &notify, now)
            .await
            .map_err(|e| match e {
            StoreError::Stale => ServiceError::Transition { action: "review", status: "reviewed", reason: None },
            other => other.into(),
        })?;
        aftercare_store::visits::visit(&self.db, v.id).await?.ok_or(ServiceError::NotFound)
    }
}
