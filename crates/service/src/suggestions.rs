//! Upgrade and replacement suggestions (§二 2.6): a technician or engineer proposes one for
//! a piece of equipment (from a ticket or its page); it goes on the manager's list, who
//! takes it up or declines it.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::equipment::{SuggestionDecisionInput, SuggestionInput, SuggestionStatus};
use aftercare_domain::notifications::NotificationKind;
use aftercare_domain::{EquipmentId, Role, SuggestionId};
use aftercare_store::notifications::NewNotification;
pub use aftercare_store::suggestions::SuggestionRow;
use aftercare_store::{Page, Paged, StoreError};
use chrono::{DateTime, Utc};

/// Who proposes: the people who see equipment in the field, and their managers.
pub fn may_suggest(by: &Actor) -> bool {
    by.is_staff() && by.has_any(&[Role::Technician, Role::Engineer])
}

impl Services {
    /// Files a suggestion for a piece of equipment and tells the managers.
    pub async fn suggest(
        &self,
        by: &Actor,
        equipment: EquipmentId,
        input: &SuggestionInput,
        now: DateTime<Utc>,
    ) -> Result<SuggestionRow> {
        require(may_suggest(by))?;
        let e = self.get_equipment(by, equipment).await?;
        let checked = input.validate();
        // The ticket is checked with the other fields, so all errors come at once.
        let ticket = match self.pick_ticket(by, "ticket", input.ticket.as_deref().unwrap_or_default()).await {
            Ok(t) => Ok(t),
            Err(ServiceError::Invalid(e)) => Err(e),
            Err(other) => return Err(other),
        };
        let (new, ticket) = match (checked, ticket) {
            (Ok(n), Ok(t)) => (n, t),
            (c, t) => {
                let mut errs = c.err().unwrap_or_default();
                errs.0.extend(t.err().unwrap_or_default().0);
                return Err(errs.into());
            }
        };
        let managers = aftercare_store::users::with_role(&self.db, Role::Manager.as_str()).await?;
        let args = serde_json::json!({"equipment_id": e.id, "title": format!("{} {}", e.kind,
            e.model.clone().unwrap_or_default()).trim().to_owned(), "by": by.display_name, "reason": new.reason,
            "kind": new.kind.as_str(), "customer": e.customer_name});
        let notify: Vec<NewNotification> = managers
            .iter()
            .map(|m| NewNotification { user_id: m.id, kind: NotificationKind::EquipmentSuggested, args: args.clone() })
            .collect();
        let row = aftercare_store::suggestions::NewSuggestionRow {
            equipment_id: e.id,
            ticket_id: ticket.map(|t| t.0),
            kind: new.kind,
            reason: new.reason,
        };
        let id = aftercare_store::suggestions::create(&self.db, &self.writer(by), &row, &notify, now).await?;
        Ok(aftercare_store::suggestions::get(&self.db, id).await?)
    }

    /// The manager's list (staff read it; a school does not).
    pub async fn suggestions(
        &self,
        by: &Actor,
        status: Option<SuggestionStatus>,
        equipment: Option<EquipmentId>,
        page: Page,
    ) -> Result<Paged<SuggestionRow>> {
        require(by.is_staff())?;
        Ok(aftercare_store::suggestions::list(&self.db, status, equipment.map(|e| e.0), page).await?)
    }

    /// The manager takes a suggestion up or declines it, once.
    pub async fn decide_suggestion(
        &self,
        by: &Actor,
        id: SuggestionId,
        input: &SuggestionDecisionInput,
        now: DateTime<Utc>,
    ) -> Result<SuggestionRow> {
        require(by.is_admin_or_manager())?;
        let row = aftercare_store::suggestions::get(&self.db, id.0).await?;
        let (status, note) = input.validate()?;
        let refused = || ServiceError::Transition { action: "decide", status: row.status.as_str(), reason: None };
        if !aftercare_domain::equipment::may_decide_suggestion(row.status) {
            return Err(refused());
        }
        aftercare_store::suggestions::decide(&self.db, &self.writer(by), id.0, status, note.as_deref(), now)
            .await
            .map_err(|e| match e {
                StoreError::Stale => refused(),
                other => other.into(),
            })?;
        Ok(aftercare_store::suggestions::get(&self.db, id.0).await?)
    }
}
