//! Consultations the desk hands to the engineers (转工程师, §2.4(1)): a task in the
//! engineers' queue until one answers; the answer goes back to the school by the channel
//! the question came from — a mail is answered by mail, a call by the agent calling back.

use crate::mail::OutgoingMail;
use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::contacts::{Channel, Handling};
use aftercare_domain::notifications::NotificationKind;
use aftercare_domain::validation::required;
use aftercare_domain::{ContactId, FieldErrors, Role};
use aftercare_store::contacts::{self as store, ContactPatch, ContactRow};
use aftercare_store::notifications::NewNotification;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// `POST /api/v1/contacts/{id}/engineer-reply`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct EngineerReplyInput {
    pub reply: Option<String>,
}

/// Who answers the questions handed to engineers.
pub fn may_answer(by: &Actor) -> bool {
    by.is_staff() && by.has_any(&[Role::Engineer])
}

impl Services {
    /// The engineer answers a consultation handed to him. By mail when it came by mail
    /// (then it is done); otherwise the agent who took it is told to call the school back.
    pub async fn reply_consultation(
        &self,
        by: &Actor,
        id: ContactId,
        input: &EngineerReplyInput,
        now: DateTime<Utc>,
    ) -> Result<ContactRow> {
        require(may_answer(by))?;
        let row = store::get(&self.db, id.0).await?;
        if row.handling != Some(Handling::ToEngineer) || row.engineer_replied_at.is_some() {
            let status = if row.engineer_replied_at.is_some() { "answered" } else { "not_to_engineer" };
            return Err(ServiceError::Transition { action: "engineer_reply", status, reason: None });
        }
        let mut e = FieldErrors::default();
        let reply = required(&mut e, "reply", input.reply.as_deref(), 4000);
        if !e.is_empty() {
            return Err(e.into());
        }
        let by_mail = row.channel == Channel::Email && row.caller_email.is_some() && self.mail().smtp.is_some();
        let owner = row.handler_id.unwrap_or(by.id.0);
        let patch = ContactPatch {
            engineer_reply: Some(reply.clone()),
            engineer_replied_by: Some(by.id.0),
            engineer_replied_at: Some(now),
            callback_owner_id: (!by_mail).then_some(owner),
            callback_due: (!by_mail).then(|| now + Duration::days(1)),
            closed_at: by_mail.then_some(now),
            ..Default::default()
        };
        store::update(
            &self.db,
            &self.writer(by),
            id.0,
            None,
            &patch,
            "engineer_reply",
            serde_json::json!({"reply": reply, "by_mail": by_mail}),
        )
        .await?;
        let row = store::get(&self.db, id.0).await?;
        if by_mail && let Some(to) = row.caller_email.clone() {
            let text = crate::mail_text::consultation_answer(&row, &reply, &self.company_name().await);
            let m = OutgoingMail {
                to,
                to_name: row.caller_name.clone(),
                subject: text.subject,
                body: text.body,
                kind: "consultation_answer".into(),
                ticket: row.ticket_number.clone(),
                contact: Some(row.record_no.clone()),
                lang: "zh-CN".into(),
            };
            if let Err(e) = self.enqueue_mail(&m).await {
                tracing::warn!(contact = %row.record_no, error = %e, "could not queue the engineer's answer");
            }
        }
        let n = NewNotification {
            user_id: owner,
            kind: NotificationKind::ConsultationAnswered,
            args: serde_json::json!({"contact_id": row.id, "number": row.record_no, "by": by.display_name,
                "by_mail": by_mail}),
        };
        if let Err(e) = aftercare_store::notifications::notify(&self.db, row.ticket_id, &[n], now).await {
            tracing::warn!("notifying of the answer to {}: {e}", row.record_no);
        }
        Ok(row)
    }
}
