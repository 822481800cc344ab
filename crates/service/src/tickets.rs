//! Work orders: creating tickets, the actions of the flow chart with their rules
//! (permissions, SLA clocks, repeat repairs, misdiagnoses, notifications), visits with the
//! school's signature, comments and the timeline.

use crate::{Actor, Result, ServiceError, Services};
use aftercare_domain::tickets::{
    self as rules, ActionContext, DiagnoseInput, EarlierTicket, EventKind, FaultType, Priority, SlaPolicy,
    TicketAction, TicketInput, TicketStatus, TransitionError, VisitInput,
};
use aftercare_domain::{CustomerId, FieldErrors, Role, TicketId, VisitId};
pub use aftercare_store::tickets::{EventRow, TicketQuery, TicketRow};
pub use aftercare_store::visits::VisitRow;
pub use view::TicketView;

mod handoffs;
mod view;

use aftercare_domain::assessments::PenaltyKind;
use aftercare_domain::notifications::NotificationKind;
use aftercare_store::notifications::NewNotification;
use aftercare_store::sla::{Breached, SweepNotification};
use aftercare_store::tickets::{self as store, NewEvent, NewPenalty, TicketChange, TicketPatch, TicketWrite};
use aftercare_store::visits::{VisitStockLine, VisitWrite};
use aftercare_store::{Page, Paged, StoreError};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A ticket with what belongs to it.
#[derive(Debug, Clone, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: TicketRow,
    pub equipment_ids: Vec<i64>,
    pub technician_ids: Vec<i64>,
    pub visits: Vec<VisitRow>,
}

/// The body of `POST /tickets/{id}/actions/{action}`: each action reads its own fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// Optimistic concurrency: the `version` the caller read; a stale one is a 409.
    pub version: Option<i64>,
    pub note: Option<String>,
    /// `decline`, `escalate`, `hold`, `cancel`.
    pub reason: Option<String>,
    /// `diagnose` (and optionally `escalate`: a new plan).
    #[serde(flatten)]
    pub diagnosis: DiagnoseInput,
    /// `schedule`.
    #[serde(default)]
    pub technician_ids: Vec<i64>,
    pub scheduled_at: Option<DateTime<Utc>>,
    /// `resolve`.
    pub resolution: Option<String>,
    pub remote: Option<bool>,
    /// `callback`: 1..5 and whether the fault is really fixed.
    pub satisfaction: Option<i32>,
    pub resolved: Option<bool>,
}

impl From<TransitionError> for ServiceError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Forbidden { .. } => ServiceError::Forbidden,
            TransitionError::IllegalState { action, status } => {
                ServiceError::Transition { action: action.as_str(), status: status.as_str(), reason: None }
            }
            TransitionError::Precondition { action, reason } => {
                ServiceError::Transition { action: action.as_str(), status: "", reason: Some(reason.as_str()) }
            }
        }
    }
}

/// What is true of this actor and this ticket, for the rules of the flow chart; the
/// choices made in an action's own form (`remote`, `callback_resolved`) are left false.
/// `window` is the repeat window in days (a closed ticket reopens inside it).
fn action_context(by: &Actor, d: &TicketDetail, now: DateTime<Utc>, window: i64) -> ActionContext {
    let t = &d.ticket;
    ActionContext {
        roles: by.roles.clone(),
        is_assigned_technician: d.technician_ids.contains(&by.id.0),
        remote: false,
        has_signed_visit: d.visits.iter().any(|v| v.signed),
        callback_resolved: false,
        failed_callback_attempts: u32::try_from(t.callback_attempts).unwrap_or(0),
        within_reopen_window: t.closed_at.is_some_and(|c| now - c <= Duration::days(window)),
        own_school: by.has(Role::Customer) && by.customer_id == Some(CustomerId(t.customer_id)),
    }
}

fn decode_png(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

impl Services {
    async fn users_with(&self, role: Role) -> Result<Vec<i64>> {
        Ok(aftercare_store::users::with_role(&self.db, role.as_str()).await?.into_iter().map(|u| u.id).collect())
    }

    pub async fn sla_policy(&self, priority: Priority) -> Result<SlaPolicy> {
        let rows = match self.caches.sla() {
            Some(rows) => rows,
            None => {
                let rows = aftercare_store::sla::sla_policies(&self.db).await?;
                self.caches.put_sla(rows.clone());
                rows
            }
        };
        let r = rows.iter().find(|r| r.priority == priority.as_str());
        Ok(match r {
            Some(r) => SlaPolicy {
                respond_minutes: i64::from(r.respond_minutes),
                arrive_minutes: i64::from(r.arrive_minutes),
                resolve_minutes: i64::from(r.resolve_minutes),
            },
            None => SlaPolicy { respond_minutes: 120, arrive_minutes: 2880, resolve_minutes: 4320 },
        })
    }

    pub async fn repeat_window_days(&self) -> Result<i64> {
        Ok(aftercare_store::settings::setting(&self.db, "repeat_window_days")
            .await?
            .and_then(|v| v.parse().ok())
            .unwrap_or(rules::DEFAULT_REPEAT_WINDOW_DAYS))
    }

    /// When a new ticket of `priority` opened at `now` must be answered, reached and
    /// resolved: its SLA policy, on the working calendar when the department counts so.
    pub(crate) async fn sla_due(&self, priority: rules::Priority, now: DateTime<Utc>) -> Result<rules::SlaDue> {
        let policy = self.sla_policy(priority).await?;
        Ok(if self.sla_on_working_hours().await {
            // On the calendar, only working time counts toward each clock.
            let hours = self.working_hours().await;
            let local = now.with_timezone(&self.tz).naive_local();
            let at = |m: i64| {
                let t = hours.add_working(local, m);
                chrono::TimeZone::from_local_datetime(&self.tz, &t)
                    .earliest()
                    .map_or(now, |x| x.with_timezone(&chrono::Utc))
            };
            rules::SlaDue {
                respond: at(policy.respond_minutes),
                arrive: at(policy.arrive_minutes),
                resolve: at(policy.resolve_minutes),
            }
        } else {
            rules::sla_due(now, &policy)
        })
    }

    /// Opens a ticket: staff for any school, a school user for its own (from the portal).
    pub async fn create_ticket(&self, by: &Actor, input: &TicketInput, now: DateTime<Utc>) -> Result<TicketDetail> {
        let staff = by.has_any(&[Role::Agent, Role::Engineer]);
        let own_school = by.has(Role::Customer) && input.customer_id.is_some() && input.customer_id == by.customer_id;
        if !staff && !own_school {
            return Err(if by.has(Role::Customer) { ServiceError::NotFound } else { ServiceError::Forbidden });
        }
        let t = input.validate()?;
        // The databases keep microseconds; the answer is built from what is written.
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        if !by.can_see_customer(t.customer_id) {
            return Err(ServiceError::NotFound);
        }
        // Equipment must belong to the school; its system and criticality inform the ticket.
        // The school's name and town come with its equipment's rows, or are read here: the
        // write itself reads nothing first, since it is one of a group.
        let mut system = t.system;
        let mut any_critical = false;
        let mut school = None;
        for (i, e) in t.equipment_ids.iter().enumerate() {
            let row =
                aftercare_store::equipment::get(&self.db, e.0).await.ok().filter(|r| r.customer_id == t.customer_id.0);
            let Some(row) = row else {
                return Err(FieldErrors::single(format!("equipment_ids[{i}]"), "not_found").into());
            };
            any_critical |= row.critical;
            if system.is_none() {
                system = aftercare_domain::System::parse(row.system.as_str());
            }
            school.get_or_insert((row.customer_name, row.town));
        }
        let (customer_name, town) = match school {
            Some(s) => s,
            None => match aftercare_store::customers::get(&self.db, t.customer_id.0).await {
                Ok(c) => (c.name, c.town),
                Err(aftercare_store::StoreError::NotFound) => {
                    return Err(FieldErrors::single("customer_id", "not_found").into());
                }
                Err(e) => return Err(e.into()),
            },
        };
        let Some(system) = system else { return Err(FieldErrors::single("system", "required").into()) };
        let priority = t.priority.unwrap_or_else(|| rules::proposed_priority(any_critical));
        let due = self.sla_due(priority, now).await?;
        let source = if by.has(Role::Customer) { rules::TicketSource::Portal } else { t.source };
        let ticket = self
            .tickets
            .write(
                &self.db,
                self.writer(by),
                TicketWrite {
                    customer_id: t.customer_id.0,
                    customer_name,
                    town,
                    search_body: None,
                    equipment_ids: t.equipment_ids.iter().map(|e| e.0).collect(),
                    system,
                    title: t.title,
                    description: t.description,
                    source,
                    priority,
                    reporter_name: t.reporter_name,
                    reporter_phone: t.reporter_phone,
                    respond_due: due.respond,
                    arrive_due: due.arrive,
                    resolve_due: due.resolve,
                    created_by: Some(by.id.0),
                    now,
                },
            )
            .await?;
        self.mail_school(&ticket, "opened", &[]).await;
        // A new ticket has no technicians or visits yet: one read instead of four.
        let equipment_ids = t.equipment_ids.iter().map(|e| e.0).collect();
        Ok(TicketDetail { ticket, equipment_ids, technician_ids: Vec::new(), visits: Vec::new() })
    }

    /// A ticket, if the actor may see it (a school only its own: others are "not found").
    pub async fn get_ticket(&self, by: &Actor, id: TicketId) -> Result<TicketDetail> {
        let id = id.0;
        let ticket = store::get(&self.db, id).await?;
        if !by.can_see_customer(CustomerId(ticket.customer_id)) {
            return Err(ServiceError::NotFound);
        }
        Ok(TicketDetail {
            equipment_ids: store::equipment_of(&self.db, id).await?,
            technician_ids: store::technicians_of(&self.db, id).await?,
            visits: aftercare_store::visits::visits(&self.db, id).await?,
            ticket,
        })
    }

    /// A page of tickets; the total stops at 1,000 ("1,000+", `capped`).
    pub async fn list_tickets(&self, by: &Actor, mut q: TicketQuery, page: Page) -> Result<Paged<TicketRow>> {
        q.scope = by.customer_scope().map(|c| c.0);
        Ok(store::list(&self.db, &q, page).await?)
    }

    /// How many tickets the actor may see match, exactly (a queue on the start page).
    pub async fn count_tickets(&self, by: &Actor, mut q: TicketQuery) -> Result<i64> {
        q.scope = by.customer_scope().map(|c| c.0);
        Ok(store::count(&self.db, &q).await?)
    }

    /// The timeline; a school sees status changes, visits and comments, not internal notes.
    pub async fn timeline(&self, by: &Actor, id: TicketId) -> Result<Vec<EventRow>> {
        let d = self.get_ticket(by, id).await?;
        self.timeline_of(by, &d).await
    }

    /// The timeline of a ticket the actor has already been allowed to read.
    pub async fn timeline_of(&self, by: &Actor, d: &TicketDetail) -> Result<Vec<EventRow>> {
        let mut events = store::events(&self.db, d.ticket.id).await?;
        if !by.is_staff() {
            events.retain(|e| e.kind.school_sees());
            for e in &mut events {
                if e.kind == EventKind::Action {
                    // The school reads which step it was (the action's name), not the
                    // internal details that came with it.
                    let action = e
                        .data_json
                        .as_deref()
                        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                        .and_then(|d| d["action"].as_str().map(|a| serde_json::json!({ "action": a }).to_string()));
                    e.note = None;
                    e.data_json = action;
                }
            }
        }
        Ok(events)
    }

    /// The technician on site asks for escalation (§2.6(4)): the request goes on the
    /// timeline and the ticket's engineer (every engineer when none is named yet) is told
    /// at once; the engineer answers on the ticket.
    pub async fn request_escalation(&self, by: &Actor, id: TicketId, note: &str, now: DateTime<Utc>) -> Result<()> {
        let d = self.get_ticket(by, id).await?;
        let t = &d.ticket;
        let ctx = action_context(by, &d, now, 0);
        crate::require(by.has(Role::Technician) && ctx.is_assigned_technician)?;
        if !rules::may_request_escalation(t.status, &ctx) {
            return Err(ServiceError::Transition {
                action: "request_escalation",
                status: t.status.as_str(),
                reason: None,
            });
        }
        let text = note.trim();
        if text.is_empty() {
            return Err(FieldErrors::single("note", "required").into());
        }
        if text.chars().count() > 2000 {
            return Err(FieldErrors::single("note", "too_long").into());
        }
        let engineers = match t.engineer_id {
            Some(e) => vec![e],
            None => self.users_with(Role::Engineer).await?,
        };
        let args = serde_json::json!({"number": t.number, "title": t.title, "by": by.display_name, "reason": text});
        let change = TicketChange {
            events: vec![NewEvent { note: Some(text.to_owned()), ..NewEvent::new(EventKind::EscalationRequest) }],
            notifications: engineers
                .into_iter()
                .map(|user_id| NewNotification {
                    user_id,
                    kind: NotificationKind::EscalationRequested,
                    args: args.clone(),
                })
                .collect(),
            ..Default::default()
        };
        store::update(&self.db, &self.writer(by), id.0, t.version, &change, now).await?;
        Ok(())
    }

    /// A comment on the timeline: staff, or the school on its own ticket.
    pub async fn comment_ticket(&self, by: &Actor, id: TicketId, body: &str, now: DateTime<Utc>) -> Result<()> {
        let t = self.get_ticket(by, id).await?;
        let text = body.trim();
        if text.is_empty() {
            return Err(FieldErrors::single("body", "required").into());
        }
        if text.chars().count() > 4000 {
            return Err(FieldErrors::single("body", "too_long").into());
        }
        let change = TicketChange {
            events: vec![NewEvent { note: Some(text.to_owned()), ..NewEvent::new(EventKind::Comment) }],
            ..Default::default()
        };
        store::update(&self.db, &self.writer(by), id.0, t.ticket.version, &change, now).await?;
        Ok(())
    }

    /// A callback that did not reach the school (agent); three allow `close`.
    pub async fn callback_attempt(
        &self,
        by: &Actor,
        ticket: TicketId,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TicketDetail> {
        let id = ticket.0;
        let t = self.get_ticket(by, ticket).await?;
        crate::require(rules::may_log_callback_attempts(&action_context(by, &t, now, 0)))?;
        if t.ticket.status != TicketStatus::Resolved {
            return Err(ServiceError::Transition {
                action: "callback",
                status: t.ticket.status.as_str(),
                reason: None,
            });
        }
        let change = TicketChange {
            patch: TicketPatch { callback_attempts: Some(t.ticket.callback_attempts + 1), ..Default::default() },
            events: vec![NewEvent {
                note: note.map(str::to_owned).filter(|s| !s.trim().is_empty()),
                data: Some(serde_json::json!({"attempt": t.ticket.callback_attempts + 1})),
                ..NewEvent::new(EventKind::CallbackAttempt)
            }],
            ..Default::default()
        };
        store::update(&self.db, &self.writer(by), id, t.ticket.version, &change, now).await?;
        self.get_ticket(by, ticket).await
    }

    /// Does `action` on the ticket. Role, then state, then the action's own fields.
    pub async fn ticket_action(
        &self,
        by: &Actor,
        ticket: TicketId,
        action: &str,
        body: &ActionBody,
        now: DateTime<Utc>,
    ) -> Result<TicketDetail> {
        let id = ticket.0;
        let Some(action) = TicketAction::parse(action) else { return Err(ServiceError::NotFound) };
        let d = self.get_ticket(by, ticket).await?;
        let t = &d.ticket;
        if let Some(v) = body.version
            && v != t.version
        {
            return Err(ServiceError::Stale);
        }
        let status = t.status;
        let window = self.repeat_window_days().await?;
        let ctx = ActionContext {
            remote: body.remote.unwrap_or(false),
            callback_resolved: body.resolved.unwrap_or(false),
            ..action_context(by, &d, now, window)
        };
        let to = rules::transition(status, action, &ctx)?;
        let mut change = TicketChange { audit_action: action.as_str(), ..Default::default() };
        let mut note = body.note.clone().filter(|s| !s.trim().is_empty());
        let mut data = serde_json::json!({"action": action.as_str()});
        let need = |field: &str, v: &Option<String>| -> Result<String> {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| FieldErrors::single(field, "required").into())
        };
        use TicketAction as A;
        match action {
            A::Accept => {
                change.patch.responded_at = Some(now);
                if t.engineer_id.is_none() && by.has(Role::Engineer) {
                    change.patch.engineer_id = Some(by.id);
                }
            }
            A::Diagnose => {
                let dg = body.diagnosis.validate()?;
                if let Some(code) = &dg.fault_subcategory {
                    let sub = aftercare_store::taxonomy::subcategory(&self.db, code).await?;
                    if sub.as_ref().is_none_or(|s| s.fault_type != dg.fault_type.as_str() || !s.active) {
                        return Err(FieldErrors::single("fault_subcategory", "unknown_value").into());
                    }
                }
                self.rediagnosis_rules(by, &d, dg.fault_type, &dg.plan, now, window, &mut change).await?;
                change.patch = TicketPatch {
                    fault_type: Some(dg.fault_type),
                    fault_subcategory: Some(dg.fault_subcategory.clone()),
                    needs_site_survey: Some(dg.needs_site_survey),
                    diagnosis: Some(dg.diagnosis.clone()),
                    plan: Some(dg.plan.clone()),
                    parts_to_bring: Some(dg.parts_to_bring.clone()),
                    impact_scope: Some(dg.impact_scope.clone()),
                    root_cause: Some(dg.root_cause.clone()),
                    cause_class: Some(dg.cause_class.clone()),
                    responsibility: Some(dg.responsibility.clone()),
                    prevention: Some(dg.prevention.clone()),
                    diagnosis_steps: Some(dg.diagnosis_steps.clone()),
                    occurred_at: dg.occurred_at.map(Some),
                    diagnosed_by: Some(by.id),
                    ..std::mem::take(&mut change.patch)
                };
                if t.responded_at.is_none() {
                    change.patch.responded_at = Some(now);
                }
                if t.engineer_id.is_none() {
                    change.patch.engineer_id = Some(by.id);
                }
                if let Some(p) = dg.priority
                    && p != t.priority
                {
                    change.patch.priority = Some(p);
                }
                data["fault_type"] = serde_json::json!(dg.fault_type.as_str());
                data["old"] = serde_json::json!({"fault_type": t.fault_type, "plan": t.plan});
                change.events.push(NewEvent {
                    note: Some(dg.plan.clone()),
                    data: Some(serde_json::json!({"fault_type": dg.fault_type.as_str(), "diagnosis": dg.diagnosis, "plan": dg.plan})),
                    ..NewEvent::new(EventKind::Diagnosis)
                });
            }
            A::Schedule => {
                let Some(at) = body.scheduled_at else {
                    return Err(FieldErrors::single("scheduled_at", "required").into());
                };
                let mut techs = body.technician_ids.clone();
                techs.sort();
                techs.dedup();
                if techs.is_empty() {
                    return Err(FieldErrors::single("technician_ids", "required").into());
                }
                let known = self.users_with(Role::Technician).await?;
                if let Some(i) = techs.iter().position(|u| !known.contains(u)) {
                    return Err(FieldErrors::single(format!("technician_ids[{i}]"), "not_found").into());
                }
                change.patch.scheduled_at = Some(Some(at));
                // A new plan needs a new word with the school: the old agreed time goes.
                if t.agreed_visit_at.is_some() && t.scheduled_at != Some(at) {
                    change.patch.agreed_visit_at = Some(None);
                }
                if t.engineer_id.is_none() && by.has(Role::Engineer) {
                    change.patch.engineer_id = Some(by.id);
                }
                for u in &techs {
                    change.notifications.push(NewNotification {
                        user_id: *u,
                        kind: NotificationKind::Assigned,
                        args: serde_json::json!({"number": t.number, "title": t.title, "at": at}),
                    });
                }
                data["technician_ids"] = serde_json::json!(techs);
                data["scheduled_at"] = serde_json::json!(at);
                change.technicians = Some(techs);
            }
            A::Decline => {
                note = Some(need("reason", &body.reason)?);
                change.technicians = Some(Vec::new());
                change.patch.scheduled_at = Some(None);
                change.patch.agreed_visit_at = Some(None);
                let to_tell = match t.engineer_id {
                    Some(e) => vec![e],
                    None => self.users_with(Role::Engineer).await?,
                };
                for u in to_tell {
                    change.notifications.push(NewNotification {
                        user_id: u,
                        kind: NotificationKind::Declined,
                        args: serde_json::json!({"number": t.number, "by": by.display_name, "reason": note}),
                    });
                }
            }
            A::Start => {
                if t.arrived_at.is_none() {
                    change.patch.arrived_at = Some(now);
                }
            }
            A::Escalate => {
                note = Some(need("reason", &body.reason)?);
                let level = t.escalation_level + 1;
                change.patch.escalation_level = Some(level);
                // A new plan may come with the escalation; keep the old one in the timeline.
                let new_plan = body.diagnosis.plan.as_deref().map(str::trim).filter(|s| !s.is_empty());
                let new_type = match body.diagnosis.fault_type.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    None => None,
                    Some(s) => {
                        Some(FaultType::parse(s).ok_or_else(|| FieldErrors::single("fault_type", "unknown_value"))?)
                    }
                };
                if new_plan.is_some() || new_type.is_some() {
                    let ft = new_type.or(t.fault_type).unwrap_or(FaultType::Other);
                    let plan = new_plan.map(str::to_owned).or(t.plan.clone()).unwrap_or_default();
                    self.rediagnosis_rules(by, &d, ft, &plan, now, window, &mut change).await?;
                    change.patch.fault_type = Some(ft);
                    change.patch.plan = Some(plan.clone());
                    change.patch.diagnosed_by = Some(by.id);
                    change.events.push(NewEvent {
                        note: Some(plan.clone()),
                        data: Some(serde_json::json!({"fault_type": ft.as_str(), "plan": plan})),
                        ..NewEvent::new(EventKind::Diagnosis)
                    });
                }
                data["level"] = serde_json::json!(level);
                data["old"] = serde_json::json!({"plan": t.plan, "fault_type": t.fault_type});
                data["new"] = serde_json::json!({"plan": new_plan, "fault_type": new_type.map(|f| f.as_str())});
                let mut to_tell = match t.engineer_id {
                    Some(e) => vec![e],
                    None => self.users_with(Role::Engineer).await?,
                };
                if level >= 2 {
                    to_tell.extend(self.users_with(Role::Manager).await?);
                }
                to_tell.sort();
                to_tell.dedup();
                to_tell.retain(|u| *u != by.id.0);
                for u in to_tell {
                    change.notifications.push(NewNotification {
                        user_id: u,
                        kind: NotificationKind::Escalated,
                        args: serde_json::json!({"number": t.number, "level": level, "reason": note}),
                    });
                }
            }
            A::Hold => {
                note = Some(need("reason", &body.reason)?);
                change.patch.paused_at = Some(Some(now));
            }
            A::Resume => {
                if let Some(p) = t.paused_at {
                    change.patch.respond_due = Some(rules::resume_due(t.respond_due, t.responded_at.is_some(), p, now));
                    change.patch.arrive_due = Some(rules::resume_due(t.arrive_due, t.arrived_at.is_some(), p, now));
                    change.patch.resolve_due = Some(rules::resume_due(t.resolve_due, t.resolved_at.is_some(), p, now));
                    data["paused_minutes"] = serde_json::json!((now - p).num_minutes());
                }
                change.patch.paused_at = Some(None);
            }
            A::Resolve => {
                let resolution = need("resolution", &body.resolution)?;
                change.patch.resolution = Some(resolution.clone());
                change.patch.resolved_at = Some(Some(now));
                if t.responded_at.is_none() {
                    change.patch.responded_at = Some(now);
                }
                data["remote"] = serde_json::json!(ctx.remote);
                note = Some(resolution);
                for u in self.users_with(Role::Agent).await? {
                    change.notifications.push(NewNotification {
                        user_id: u,
                        kind: NotificationKind::CallbackDue,
                        args: serde_json::json!({"number": t.number, "title": t.title}),
                    });
                }
            }
            A::Callback => {
                let s = body.satisfaction.ok_or_else(|| FieldErrors::single("satisfaction", "required"))?;
                if !(1..=5).contains(&s) {
                    return Err(FieldErrors::single("satisfaction", "out_of_range").into());
                }
                if body.resolved.is_none() {
                    return Err(FieldErrors::single("resolved", "required").into());
                }
                change.patch.satisfaction = Some(s);
                data["satisfaction"] = serde_json::json!(s);
                data["resolved"] = serde_json::json!(ctx.callback_resolved);
                // The school confirmed and rated it itself (portal or API): the timeline says so.
                if ctx.own_school {
                    data["by_school"] = serde_json::json!(true);
                }
                if ctx.callback_resolved {
                    change.patch.closed_at = Some(Some(now));
                } else {
                    // Not really fixed: back to triage, and the visit's technicians repaired it twice.
                    change.patch.resolved_at = Some(None);
                    self.propose_repeat(id, "callback_not_fixed", &mut change).await?;
                }
            }
            A::Close => {
                note = Some(need("note", &body.note)?);
                change.patch.closed_at = Some(Some(now));
            }
            A::Reopen => {
                note = Some(need("note", &body.note)?);
                change.patch.closed_at = Some(None);
                change.patch.resolved_at = Some(None);
                self.propose_repeat(id, "reopened", &mut change).await?;
            }
            A::Cancel => {
                note = Some(need("reason", &body.reason)?);
            }
        }
        change.patch.status = Some(to);
        change.events.insert(
            0,
            NewEvent {
                kind: EventKind::Action,
                from_status: Some(t.status),
                to_status: Some(to),
                note,
                data: Some(data),
            },
        );
        store::update(&self.db, &self.writer(by), id, t.version, &change, now).await?;
        let done = self.get_ticket(by, ticket).await?;
        self.mail_after_action(&done, action.as_str()).await;
        Ok(done)
    }

    /// When fault type or plan are set: the repeat rule (first diagnosis) and the
    /// misdiagnosis rule (a change after a failed visit).
    #[allow(clippy::too_many_arguments)]
    async fn rediagnosis_rules(
        &self,
        by: &Actor,
        d: &TicketDetail,
        fault_type: FaultType,
        plan: &str,
        now: DateTime<Utc>,
        window: i64,
        change: &mut TicketChange,
    ) -> Result<()> {
        let t = &d.ticket;
        if t.repeat_of.is_none() && !d.equipment_ids.is_empty() {
            let earlier = self.earlier_tickets(&d.equipment_ids, t.id).await?;
            if let Some(prev) = rules::repeat_of(&d.equipment_ids, fault_type, &earlier, now, window) {
                change.patch.repeat_of = Some(TicketId(prev));
                for u in aftercare_store::visits::visit_technicians(&self.db, prev).await? {
                    change.penalties.push(NewPenalty {
                        kind: PenaltyKind::RepeatRepair,
                        user_id: u,
                        related_ticket_id: Some(prev),
                        reason: format!("repeat_of:{prev}"),
                    });
                }
                change.events.push(NewEvent {
                    data: Some(serde_json::json!({"repeat_of": prev})),
                    ..NewEvent::new(EventKind::Repeat)
                });
            }
        }
        let old = (t.fault_type, t.plan.as_deref());
        let failed = aftercare_store::visits::failed_visit_since_diagnosis(&self.db, t.id).await?;
        if rules::is_misdiagnosis(failed, old, (fault_type, plan))
            && let Some(engineer) = t.diagnosed_by
        {
            change.penalties.push(NewPenalty {
                kind: PenaltyKind::Misdiagnosis,
                user_id: engineer,
                related_ticket_id: None,
                reason: format!("{} → {}", t.fault_type.map_or("-", FaultType::as_str), fault_type.as_str()),
            });
            change.events.push(NewEvent {
                data: Some(serde_json::json!({"engineer_id": engineer, "by": by.id.0})),
                ..NewEvent::new(EventKind::Misdiagnosis)
            });
        }
        Ok(())
    }

    async fn earlier_tickets(&self, equipment_ids: &[i64], except: i64) -> Result<Vec<EarlierTicket>> {
        let rows = aftercare_store::visits::closed_on_equipment(&self.db, equipment_ids, except).await?;
        let mut out: Vec<EarlierTicket> = Vec::new();
        for (id, eq, ft, closed) in rows {
            match out.iter_mut().find(|t| t.id == id) {
                Some(t) => t.equipment_ids.push(eq),
                None => out.push(EarlierTicket {
                    id,
                    equipment_ids: vec![eq],
                    fault_type: ft.as_deref().and_then(FaultType::parse),
                    closed_at: closed,
                }),
            }
        }
        Ok(out)
    }

    /// The technicians of this ticket's visits repaired the same fault twice.
    async fn propose_repeat(&self, id: i64, why: &str, change: &mut TicketChange) -> Result<()> {
        for u in aftercare_store::visits::visit_technicians(&self.db, id).await? {
            change.penalties.push(NewPenalty {
                kind: PenaltyKind::RepeatRepair,
                user_id: u,
                related_ticket_id: Some(id),
                reason: why.into(),
            });
        }
        Ok(())
    }

    /// Records a visit: an assigned technician (or the manager) while the work is under way.
    pub async fn add_visit(
        &self,
        by: &Actor,
        ticket: TicketId,
        input: &VisitInput,
        version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<VisitRow> {
        let id = ticket.0;
        let d = self.get_ticket(by, ticket).await?;
        crate::require(rules::may_record_visits(&action_context(by, &d, now, 0)))?;
        if !rules::takes_visits(d.ticket.status) {
            return Err(ServiceError::Transition { action: "visit", status: d.ticket.status.as_str(), reason: None });
        }
        if let Some(v) = version
            && v != d.ticket.version
        {
            return Err(ServiceError::Stale);
        }
        // A visit at a trip's stop takes the trip's times, so nobody types them twice.
        let mut input = std::borrow::Cow::Borrowed(input);
        if let Some((departed, arrived, returned)) = self.visit_trip_times(by, ticket).await? {
            let i = input.to_mut();
            i.departed_at = i.departed_at.or(departed);
            i.arrived_at = i.arrived_at.or(arrived);
            i.returned_at = i.returned_at.or(returned);
        }
        let v = input.validate(decode_png)?;
        let mut techs: Vec<i64> = v.technician_ids.iter().map(|u| u.0).collect();
        if techs.is_empty() {
            techs.push(by.id.0);
        }
        let known = self.users_with(Role::Technician).await?;
        if let Some(i) = techs.iter().position(|u| !known.contains(u)) {
            return Err(FieldErrors::single(format!("technician_ids[{i}]"), "not_found").into());
        }
        let (parts, names) = self.visit_stock_lines(by, &v, &techs).await?;
        let event = NewEvent {
            note: Some(v.work_done.clone()),
            data: Some(
                serde_json::json!({"result": v.result.as_str(), "signed_by": v.signature.as_ref().map(|s| s.0.clone())}),
            ),
            ..NewEvent::new(EventKind::Visit)
        };
        let write = VisitWrite {
            technician_ids: techs,
            departed_at: v.departed_at,
            arrived_at: v.arrived_at,
            finished_at: v.finished_at,
            returned_at: v.returned_at,
            work_done: v.work_done,
            result: v.result,
            parts_used: v.parts_used,
            defective_parts: v.defective_parts,
            signature: v.signature,
            advice: v.advice,
            labor_minutes: v.labor_minutes,
            equipment_id: d.equipment_ids.first().copied(),
            parts,
        };
        let visit_id =
            aftercare_store::visits::add_visit(&self.db, &self.writer(by), id, d.ticket.version, &write, &event, now)
                .await
                .map_err(|e| match e {
                    StoreError::Insufficient { part_id, warehouse_id, on_hand } => ServiceError::Insufficient {
                        part: names.parts.get(&part_id).cloned().unwrap_or_else(|| format!("#{part_id}")),
                        warehouse: names
                            .warehouses
                            .get(&warehouse_id)
                            .cloned()
                            .unwrap_or_else(|| format!("#{warehouse_id}")),
                        on_hand,
                    },
                    other => other.into(),
                })?;
        // Reserve quotas: what the visit took may have raised a shortage.
        for l in write.parts.iter().filter(|l| !l.defective) {
            self.check_stock_level(
                aftercare_domain::PartId(l.part_id),
                aftercare_domain::WarehouseId(l.warehouse_id),
                now,
            )
            .await;
        }
        let visits = aftercare_store::visits::visits(&self.db, id).await?;
        visits.into_iter().find(|v| v.id == visit_id).ok_or(ServiceError::NotFound)
    }

    /// The signature PNG of a visit, if the actor may see the ticket.
    pub async fn visit_signature(&self, by: &Actor, visit_id: VisitId) -> Result<Vec<u8>> {
        let visit_id = visit_id.0;
        let (ticket, png) =
            aftercare_store::visits::signature(&self.db, visit_id).await?.ok_or(ServiceError::NotFound)?;
        self.get_ticket(by, TicketId(ticket)).await?;
        Ok(png)
    }

    /// A photo taken on a visit (by whoever may record the visit).
    pub async fn add_visit_photo(&self, by: &Actor, visit_id: VisitId, content_type: &str, data: &[u8]) -> Result<i64> {
        let visit_id = visit_id.0;
        let ticket = aftercare_store::visits::visits_ticket(&self.db, visit_id).await?.ok_or(ServiceError::NotFound)?;
        let d = self.get_ticket(by, TicketId(ticket)).await?;
        crate::require(by.is_admin_or_manager() || d.technician_ids.contains(&by.id.0))?;
        // The stored type is what the bytes are; the declared one only has to agree.
        let real = crate::attachments::sniff_image(data).ok_or_else(|| FieldErrors::single("photos", "not_image"))?;
        if real != content_type {
            return Err(FieldErrors::single("photos", "not_image").into());
        }
        Ok(aftercare_store::visits::add_photo(&self.db, visit_id, real, data, Utc::now()).await?)
    }

    pub async fn visit_photo(&self, by: &Actor, id: aftercare_domain::PhotoId) -> Result<(String, Vec<u8>)> {
        let id = id.0;
        // Whose it is first, so another school's photo is never read from disk at all.
        let school = aftercare_store::visits::photo_school(&self.db, id).await?.ok_or(ServiceError::NotFound)?;
        if !by.can_see_customer(CustomerId(school)) {
            return Err(ServiceError::NotFound);
        }
        let (_, ct, data) = aftercare_store::visits::photo(&self.db, id).await?.ok_or(ServiceError::NotFound)?;
        Ok((ct, data))
    }

    pub async fn visit_photos(&self, by: &Actor, ticket: TicketId) -> Result<Vec<(i64, i64)>> {
        self.get_ticket(by, ticket).await?;
        Ok(aftercare_store::visits::photos_of(&self.db, ticket.0).await?)
    }

    pub async fn saved_filters(&self, by: &Actor, area: &str) -> Result<Vec<(String, String)>> {
        Ok(aftercare_store::settings::saved_filters(&self.db, by.id.0, area).await?)
    }

    pub async fn save_filter(&self, by: &Actor, area: &str, name: &str, query: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(FieldErrors::single("name", "required").into());
        }
        if name.chars().count() > 40 || query.len() > 1000 {
            return Err(FieldErrors::single("name", "too_long").into());
        }
        Ok(aftercare_store::settings::save_filter(&self.db, by.id.0, area, name, query).await?)
    }

    /// Flags every clock that ran out by `now` and tells the managers and the engineer.
    /// Run by the jobs worker; tests pass their own `now`. Works in waves of
    /// [`SLA_WAVE`] tickets, each one statement and one transaction (see
    /// `aftercare_store::sla::sweep_breaches`); each recipient hears once per wave.
    pub async fn check_sla(&self, now: DateTime<Utc>) -> Result<usize> {
        let managers = self.users_with(Role::Manager).await?;
        let system = self.writer_named("system");
        let mut flagged = 0;
        loop {
            let wave = aftercare_store::sla::sweep_breaches(&self.db, &system, now, SLA_WAVE, |w| {
                breach_notifications(&managers, w)
            })
            .await?;
            flagged += wave.breached.len();
            if self.mail.smtp.is_some() {
                for b in &wave.breached {
                    if let Ok(t) = store::get(&self.db, b.id).await {
                        self.mail_sla_breach(&t, &b.clocks).await;
                    }
                }
            }
            if !wave.more {
                return Ok(flagged);
            }
        }
    }
}

/// How many tickets one statement of the SLA sweep flags at most.
pub const SLA_WAVE: i64 = 5000;

/// What a wave of breaches tells whom: every manager and each ticket's engineer hear once
/// per wave — of the ticket itself when it is the only one of theirs, else one line
/// counting them (10,000 tickets breaching together made 10,000 lines per manager).
pub fn breach_notifications(managers: &[i64], wave: &[Breached]) -> Vec<SweepNotification> {
    let mut by_user: std::collections::BTreeMap<i64, Vec<&Breached>> = Default::default();
    for b in wave {
        for u in managers.iter().copied().chain(b.engineer_id) {
            let list = by_user.entry(u).or_default();
            if list.last().map(|l| l.id) != Some(b.id) {
                list.push(b);
            }
        }
    }
    by_user
        .into_iter()
        .filter_map(|(user_id, list)| match list.as_slice() {
            [] => None,
            [one] => Some(SweepNotification {
                ticket_id: Some(one.id),
                note: NewNotification {
                    user_id,
                    kind: NotificationKind::SlaBreach,
                    args: serde_json::json!({"number": one.number, "clocks": one.clocks}),
                },
            }),
            many => {
                let clocks: Vec<&str> = ["respond", "arrive", "resolve"]
                    .into_iter()
                    .filter(|c| many.iter().any(|b| b.clocks.contains(c)))
                    .collect();
                Some(SweepNotification {
                    ticket_id: None,
                    note: NewNotification {
                        user_id,
                        kind: NotificationKind::SlaBreachMany,
                        args: serde_json::json!({"count": many.len(), "number": many[0].number, "clocks": clocks}),
                    },
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_decode_from_base64() {
        assert!(decode_png("iVBORw0KGgo=").is_some_and(|b| b.starts_with(b"\x89PNG")));
    }
}

/// The names of a visit's parts and warehouses, so that a 409 names them.
#[derive(Debug, Default)]
struct StockNames {
    parts: std::collections::HashMap<i64, String>,
    warehouses: std::collections::HashMap<i64, String>,
}

impl Services {
    /// The parts fitted to and taken out of one piece of equipment over its life (its
    /// page); staff only, a school sees none.
    pub async fn equipment_parts(
        &self,
        by: &Actor,
        id: aftercare_domain::EquipmentId,
    ) -> Result<Vec<aftercare_store::visits::EquipmentPartRow>> {
        self.get_equipment(by, id).await?;
        if !aftercare_domain::parts::can_read_stock(by) {
            return Ok(Vec::new());
        }
        Ok(aftercare_store::visits::parts_of_equipment(&self.db, id.0).await?)
    }

    /// What the visit form offers: the usable stock (on-hand > 0) of the vehicle stocks the
    /// actor holds, and the active catalogue for defective parts brought back.
    pub async fn visit_part_choices(
        &self,
        by: &Actor,
    ) -> Result<(Vec<aftercare_store::parts::StockRow>, Vec<aftercare_store::parts::PartRow>)> {
        if !aftercare_domain::parts::can_read_stock(by) {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut stock = Vec::new();
        for w in aftercare_store::parts::list_warehouses(&self.db).await? {
            if w.active
                && w.kind == aftercare_domain::parts::WarehouseKind::Vehicle
                && w.holder_user_id == Some(by.id.0)
            {
                let rows = aftercare_store::parts::stock(&self.db, None, Some(w.id), Page::all()).await?;
                stock.extend(rows.items.into_iter().filter(|r| r.on_hand > 0));
            }
        }
        let q = aftercare_store::parts::PartQuery { active: Some(true), ..Default::default() };
        let parts = aftercare_store::parts::list_parts(&self.db, &q, Page::new(Some(1), Some(500))).await?.items;
        Ok((stock, parts))
    }

    /// Checks a visit's part lines and turns them into stock movements.
    ///
    /// Decisions: a part used comes from the warehouse the line names; a technician may
    /// take only from a vehicle stock he holds (the manager and the storekeeper from any),
    /// so a technician cannot empty the depot from his phone. A defective part brought
    /// back is kept, unless the line names a warehouse, in the vehicle stock of the one
    /// recording the visit, else of the first technician of the visit who holds one, else
    /// in the first depot (by code): it travels with the technician until he hands it in.
    async fn visit_stock_lines(
        &self,
        by: &Actor,
        v: &aftercare_domain::tickets::NewVisit,
        techs: &[i64],
    ) -> Result<(Vec<VisitStockLine>, StockNames)> {
        let mut out = Vec::new();
        let mut names = StockNames::default();
        if v.parts_issued.is_empty() && v.parts_defective.is_empty() {
            return Ok((out, names));
        }
        let warehouses = aftercare_store::parts::list_warehouses(&self.db).await?;
        for w in &warehouses {
            names.warehouses.insert(w.id, w.name.clone());
        }
        let any_stock = aftercare_domain::parts::can_manage_stock(by);
        let mut e = FieldErrors::default();
        let lines = v.parts_issued.iter().map(|l| (false, "parts_used", l));
        let lines = lines.chain(v.parts_defective.iter().map(|l| (true, "defective_parts", l)));
        let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (defective, list, l) in lines {
            let i = {
                let c = counts.entry(list).or_insert(0);
                *c += 1;
                *c - 1
            };
            match aftercare_store::parts::get_part(&self.db, l.part_id).await {
                Ok(p) => {
                    names.parts.insert(p.id, format!("{} {}", p.code, p.name));
                }
                Err(aftercare_store::StoreError::NotFound) => e.push(format!("{list}[{i}].part_id"), "not_found"),
                Err(other) => return Err(other.into()),
            }
            let wh = match l.warehouse_id {
                Some(id) => match warehouses.iter().find(|w| w.id == id) {
                    None => {
                        e.push(format!("{list}[{i}].warehouse_id"), "not_found");
                        continue;
                    }
                    Some(w) if !defective && !any_stock && w.holder_user_id != Some(by.id.0) => {
                        e.push(format!("{list}[{i}].warehouse_id"), "not_your_stock");
                        continue;
                    }
                    Some(w) => w.id,
                },
                None => {
                    let vehicle = std::iter::once(by.id.0).chain(techs.iter().copied()).find_map(|u| {
                        warehouses.iter().find(|w| {
                            w.active
                                && w.kind == aftercare_domain::parts::WarehouseKind::Vehicle
                                && w.holder_user_id == Some(u)
                        })
                    });
                    let depot = || {
                        warehouses.iter().find(|w| w.active && w.kind == aftercare_domain::parts::WarehouseKind::Depot)
                    };
                    match vehicle.or_else(depot) {
                        Some(w) => w.id,
                        None => {
                            e.push(format!("{list}[{i}].warehouse_id"), "required");
                            continue;
                        }
                    }
                }
            };
            out.push(VisitStockLine {
                defective,
                part_id: l.part_id,
                warehouse_id: wh,
                qty: l.qty,
                serial_no: l.serial_no.clone(),
                old_serial_no: l.old_serial_no.clone(),
            });
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        Ok((out, names))
    }
}
