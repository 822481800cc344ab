//! Work orders (工单): statuses, actions, priorities, fault types, and the state machine of
//! DESIGN.md §3 — who may do what, from which state, to which state. Pure: the caller says
//! who is acting and what is true of the ticket; this module answers.

use crate::Role;
use serde::{Deserialize, Serialize};

string_enum!(
    /// Where a ticket stands (DESIGN.md §3; these names are fixed).
    TicketStatus {
        New = "new",
        Triage = "triage",
        ToDispatch = "to_dispatch",
        Scheduled = "scheduled",
        InProgress = "in_progress",
        OnHold = "on_hold",
        Resolved = "resolved",
        Closed = "closed",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// What can be done to a ticket (the `{action}` of `POST /tickets/{id}/actions/{action}`).
    TicketAction {
        Accept = "accept",
        Diagnose = "diagnose",
        Schedule = "schedule",
        Decline = "decline",
        Start = "start",
        Escalate = "escalate",
        Hold = "hold",
        Resume = "resume",
        Resolve = "resolve",
        Callback = "callback",
        Close = "close",
        Reopen = "reopen",
        Cancel = "cancel",
    }
);

string_enum!(
    Priority {
        Urgent = "urgent",
        High = "high",
        Normal = "normal",
        Low = "low",
    }
);

string_enum!(
    /// 故障类型 (manual §2.4): 硬件, 线路, 软件, 其他.
    FaultType {
        Hardware = "hardware",
        Cabling = "cabling",
        Software = "software",
        Other = "other",
    }
);

string_enum!(
    /// How a ticket came in.
    TicketSource {
        Phone = "phone",
        Email = "email",
        Portal = "portal",
        Im = "im",
        WalkIn = "walk_in",
        Inspection = "inspection",
        Monitoring = "monitoring",
        Other = "other",
    }
);

impl TicketStatus {
    /// Open = still being worked on; cancel is allowed from these.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketStatus::New
                | TicketStatus::Triage
                | TicketStatus::ToDispatch
                | TicketStatus::Scheduled
                | TicketStatus::InProgress
                | TicketStatus::OnHold
        )
    }

    /// The SLA clock stops while on hold and once resolved.
    pub fn clock_runs(self) -> bool {
        self.is_open() && self != TicketStatus::OnHold
    }
}

impl Priority {
    /// Critical equipment raises the proposed priority one step (manual §2.5(2)).
    pub fn raised(self) -> Priority {
        match self {
            Priority::Low => Priority::Normal,
            Priority::Normal => Priority::High,
            Priority::High | Priority::Urgent => Priority::Urgent,
        }
    }
}

/// What is true of the actor and the ticket when an action is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionContext {
    pub roles: Vec<Role>,
    /// The actor is one of the ticket's assigned technicians.
    pub is_assigned_technician: bool,
    /// `resolve` with `remote: true` (solved by phone or remote access).
    pub remote: bool,
    /// At least one visit of this ticket carries the school's signature.
    pub has_signed_visit: bool,
    /// `callback` says the fault is really fixed.
    pub callback_resolved: bool,
    /// Failed callback attempts so far (three allow `close`).
    pub failed_callback_attempts: u32,
    /// The ticket closed within the repeat window (reopen is allowed inside it).
    pub within_reopen_window: bool,
    /// The actor is a user of the ticket's own school (confirming on the portal).
    pub own_school: bool,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The actor's roles do not allow this action (checked before the state): 403.
    #[error("{action} is not allowed for this user")]
    Forbidden { action: TicketAction },
    /// Not from this state: 409 naming the state.
    #[error("cannot {action} a ticket that is {status}")]
    IllegalState { action: TicketAction, status: TicketStatus },
    /// Allowed in principle, but a condition is missing: 409 with the reason.
    #[error("cannot {action}: {}", reason.as_str())]
    Precondition { action: TicketAction, reason: Precondition },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precondition {
    /// An on-site resolve needs a visit signed by the school.
    SignedVisitRequired,
    /// Only the engineer resolves remotely, and only before dispatch.
    RemoteOnlyBeforeDispatch,
    /// `close` without a successful callback needs three failed attempts.
    CallbackAttemptsRequired,
    /// A closed ticket reopens only within the repeat window.
    ReopenWindowPassed,
}

impl Precondition {
    pub fn as_str(self) -> &'static str {
        match self {
            Precondition::SignedVisitRequired => "signed_visit_required",
            Precondition::RemoteOnlyBeforeDispatch => "remote_only_before_dispatch",
            Precondition::CallbackAttemptsRequired => "callback_attempts_required",
            Precondition::ReopenWindowPassed => "reopen_window_passed",
        }
    }
}

/// Visits one technician can do in a day across the county's towns: the dispatch board
/// warns beyond it.
pub const DAILY_VISIT_LIMIT: usize = 4;

/// Failed callback attempts after which a resolved ticket may be closed with a note.
pub const CALLBACK_ATTEMPTS_BEFORE_CLOSE: u32 = 3;

/// May this actor do this action at all (before looking at the state)?
pub fn may(action: TicketAction, ctx: &ActionContext) -> bool {
    let has = |r: Role| ctx.roles.contains(&r);
    if has(Role::Manager) || has(Role::Admin) {
        return true;
    }
    use TicketAction as A;
    match action {
        A::Accept | A::Diagnose | A::Schedule | A::Escalate | A::Reopen => has(Role::Engineer),
        A::Decline | A::Start | A::Hold | A::Resume => has(Role::Technician) && ctx.is_assigned_technician,
        // Solved by phone or remote access is the engineer's word; on site, the technician's.
        A::Resolve if ctx.remote => has(Role::Engineer),
        A::Resolve => has(Role::Technician) && ctx.is_assigned_technician,
        // The school's own confirmation and rating on the portal counts as the callback.
        A::Callback => has(Role::Agent) || (has(Role::Customer) && ctx.own_school),
        A::Close => has(Role::Agent),
        A::Cancel => false,
    }
}

/// The state an action leads to, or why it is refused. Role first, then state, then the
/// action's own condition.
pub fn transition(
    status: TicketStatus,
    action: TicketAction,
    ctx: &ActionContext,
) -> Result<TicketStatus, TransitionError> {
    use TicketAction as A;
    use TicketStatus as S;
    if !may(action, ctx) {
        return Err(TransitionError::Forbidden { action });
    }
    let illegal = Err(TransitionError::IllegalState { action, status });
    let unmet = |reason| Err(TransitionError::Precondition { action, reason });
    match (action, status) {
        (A::Accept, S::New) => Ok(S::Triage),
        // Diagnosing again before the visit revises the plan.
        (A::Diagnose, S::Triage | S::ToDispatch) => Ok(S::ToDispatch),
        // Scheduling again re-plans the visit (改派改约).
        (A::Schedule, S::ToDispatch | S::Scheduled) => Ok(S::Scheduled),
        (A::Decline, S::Scheduled) => Ok(S::ToDispatch),
        (A::Start, S::Scheduled) => Ok(S::InProgress),
        (A::Escalate, S::InProgress) => Ok(S::InProgress),
        (A::Hold, S::InProgress) => Ok(S::OnHold),
        (A::Resume, S::OnHold) => Ok(S::InProgress),
        (A::Resolve, S::Triage | S::ToDispatch) if ctx.remote => Ok(S::Resolved),
        (A::Resolve, S::Triage | S::ToDispatch) => unmet(Precondition::RemoteOnlyBeforeDispatch),
        // Once someone is on site, only the school's signature on a visit resolves it:
        // `remote` is no way around the rule, for anyone.
        (A::Resolve, S::InProgress) if ctx.has_signed_visit => Ok(S::Resolved),
        (A::Resolve, S::InProgress) if ctx.remote => unmet(Precondition::RemoteOnlyBeforeDispatch),
        (A::Resolve, S::InProgress) => unmet(Precondition::SignedVisitRequired),
        (A::Callback, S::Resolved) if ctx.callback_resolved => Ok(S::Closed),
        // Not really fixed: back to the engineer; counts as a repeat repair.
        (A::Callback, S::Resolved) => Ok(S::Triage),
        (A::Close, S::Resolved) if ctx.failed_callback_attempts >= CALLBACK_ATTEMPTS_BEFORE_CLOSE => Ok(S::Closed),
        (A::Close, S::Resolved) => unmet(Precondition::CallbackAttemptsRequired),
        (A::Reopen, S::Closed) if ctx.within_reopen_window => Ok(S::Triage),
        (A::Reopen, S::Closed) => unmet(Precondition::ReopenWindowPassed),
        (A::Cancel, s) if s.is_open() => Ok(S::Cancelled),
        _ => illegal,
    }
}

/// The actions this actor may take on a ticket in `status` now: those [`transition`]
/// allows for some choice made in the action's own form (remote or on site; fixed or not).
/// The page draws its buttons from this; the chosen action is then checked by `transition`
/// with what was really chosen.
pub fn available_actions(status: TicketStatus, ctx: &ActionContext) -> Vec<TicketAction> {
    let choices = [(false, false), (false, true), (true, false), (true, true)];
    TicketAction::ALL
        .iter()
        .copied()
        .filter(|&a| {
            choices.iter().any(|&(remote, callback_resolved)| {
                let c = ActionContext { remote, callback_resolved, ..ctx.clone() };
                transition(status, a, &c).is_ok()
            })
        })
        .collect()
}

/// Who records visits (派工单): a manager, or one of the ticket's assigned technicians.
pub fn may_record_visits(ctx: &ActionContext) -> bool {
    let boss = ctx.roles.iter().any(|r| matches!(r, Role::Admin | Role::Manager));
    boss || (ctx.roles.contains(&Role::Technician) && ctx.is_assigned_technician)
}

/// The assigned technician on site may ask the engineer to escalate (§2.6(4)) while the
/// ticket is being worked on; the engineer decides (`escalate`) and answers on the ticket.
pub fn may_request_escalation(status: TicketStatus, ctx: &ActionContext) -> bool {
    takes_visits(status) && ctx.roles.contains(&Role::Technician) && ctx.is_assigned_technician
}

/// Visits are recorded while someone is working on the ticket.
pub fn takes_visits(status: TicketStatus) -> bool {
    matches!(status, TicketStatus::InProgress | TicketStatus::OnHold)
}

/// Who logs a callback that did not reach the school: an agent (or a manager). They are
/// logged while the resolved ticket waits for its callback; three of them allow `close`.
pub fn may_log_callback_attempts(ctx: &ActionContext) -> bool {
    ctx.roles.iter().any(|r| matches!(r, Role::Admin | Role::Manager | Role::Agent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketAction as A;
    use TicketStatus as S;

    #[test]
    fn available_actions_follow_the_rules_with_the_real_facts() {
        let tech = ActionContext { roles: vec![Role::Technician], is_assigned_technician: true, ..Default::default() };
        // On site without the school's signature there is nothing to resolve yet.
        assert_eq!(available_actions(S::InProgress, &tech), vec![A::Hold]);
        let signed = ActionContext { has_signed_visit: true, ..tech.clone() };
        assert!(available_actions(S::InProgress, &signed).contains(&A::Resolve));
        // Someone else's ticket: no buttons at all.
        let other = ActionContext { is_assigned_technician: false, ..signed };
        assert!(available_actions(S::InProgress, &other).is_empty());
        // An engineer may resolve remotely before dispatch.
        let eng = ActionContext { roles: vec![Role::Engineer], ..Default::default() };
        assert!(available_actions(S::ToDispatch, &eng).contains(&A::Resolve));
        // An agent closes only after three failed callbacks; the callback itself is always there.
        let agent = ActionContext { roles: vec![Role::Agent], failed_callback_attempts: 2, ..Default::default() };
        assert_eq!(available_actions(S::Resolved, &agent), vec![A::Callback]);
        let agent3 = ActionContext { failed_callback_attempts: 3, ..agent };
        assert_eq!(available_actions(S::Resolved, &agent3), vec![A::Callback, A::Close]);
        // Reopen only inside the repeat window.
        assert!(!available_actions(S::Closed, &eng).contains(&A::Reopen));
        let inside = ActionContext { within_reopen_window: true, ..eng };
        assert!(available_actions(S::Closed, &inside).contains(&A::Reopen));
        // Whatever the state, an engineer is never offered a technician's or an agent's step.
        for s in TicketStatus::ALL {
            for a in available_actions(*s, &inside) {
                assert!(
                    !matches!(a, A::Decline | A::Start | A::Hold | A::Callback | A::Close),
                    "{a:?} offered in {s:?}"
                );
            }
        }
    }

    #[test]
    fn visits_and_callback_attempts_have_their_own_rules() {
        let tech = ActionContext { roles: vec![Role::Technician], is_assigned_technician: true, ..Default::default() };
        assert!(may_record_visits(&tech) && may_record_visits(&boss()));
        assert!(!may_record_visits(&ActionContext { is_assigned_technician: false, ..tech.clone() }));
        assert!(takes_visits(S::InProgress) && takes_visits(S::OnHold) && !takes_visits(S::Scheduled));
        assert!(may_log_callback_attempts(&ActionContext { roles: vec![Role::Agent], ..Default::default() }));
        assert!(!may_log_callback_attempts(&tech));
    }

    fn boss() -> ActionContext {
        ActionContext { roles: vec![Role::Manager], ..Default::default() }
    }

    /// Every state × action pair, as the manager (who passes every role check) with every
    /// condition met: exactly these move, everything else is an illegal state.
    #[test]
    fn every_state_and_action_pair() {
        let ok = ActionContext {
            roles: vec![Role::Manager],
            remote: false,
            has_signed_visit: true,
            callback_resolved: true,
            failed_callback_attempts: 3,
            within_reopen_window: true,
            is_assigned_technician: true,
            own_school: false,
        };
        let expected: &[(S, A, S)] = &[
            (S::New, A::Accept, S::Triage),
            (S::New, A::Cancel, S::Cancelled),
            (S::Triage, A::Diagnose, S::ToDispatch),
            (S::Triage, A::Cancel, S::Cancelled),
            (S::ToDispatch, A::Diagnose, S::ToDispatch),
            (S::ToDispatch, A::Schedule, S::Scheduled),
            (S::ToDispatch, A::Cancel, S::Cancelled),
            (S::Scheduled, A::Schedule, S::Scheduled),
            (S::Scheduled, A::Decline, S::ToDispatch),
            (S::Scheduled, A::Start, S::InProgress),
            (S::Scheduled, A::Cancel, S::Cancelled),
            (S::InProgress, A::Escalate, S::InProgress),
            (S::InProgress, A::Hold, S::OnHold),
            (S::InProgress, A::Resolve, S::Resolved),
            (S::InProgress, A::Cancel, S::Cancelled),
            (S::OnHold, A::Resume, S::InProgress),
            (S::OnHold, A::Cancel, S::Cancelled),
            (S::Resolved, A::Callback, S::Closed),
            (S::Resolved, A::Close, S::Closed),
            (S::Closed, A::Reopen, S::Triage),
        ];
        for &status in S::ALL {
            for &action in A::ALL {
                let got = transition(status, action, &ok);
                match expected.iter().find(|(s, a, _)| *s == status && *a == action) {
                    Some((_, _, to)) => assert_eq!(got, Ok(*to), "{status} × {action}"),
                    None if (action == A::Resolve) && matches!(status, S::Triage | S::ToDispatch) => {
                        assert_eq!(
                            got,
                            Err(TransitionError::Precondition {
                                action,
                                reason: Precondition::RemoteOnlyBeforeDispatch
                            })
                        )
                    }
                    None => {
                        assert_eq!(got, Err(TransitionError::IllegalState { action, status }), "{status} × {action}")
                    }
                }
            }
        }
    }

    #[test]
    fn remote_resolve_before_dispatch() {
        let eng = ActionContext { roles: vec![Role::Engineer], remote: true, ..Default::default() };
        assert_eq!(transition(S::Triage, A::Resolve, &eng), Ok(S::Resolved));
        assert_eq!(transition(S::ToDispatch, A::Resolve, &eng), Ok(S::Resolved));
        assert!(matches!(transition(S::Scheduled, A::Resolve, &eng), Err(TransitionError::IllegalState { .. })));
        // Not remote: an engineer may not resolve at all.
        let eng = ActionContext { roles: vec![Role::Engineer], ..Default::default() };
        assert_eq!(transition(S::Triage, A::Resolve, &eng), Err(TransitionError::Forbidden { action: A::Resolve }));
    }

    #[test]
    fn on_site_resolve_needs_a_signed_visit() {
        let mut tech =
            ActionContext { roles: vec![Role::Technician], is_assigned_technician: true, ..Default::default() };
        assert_eq!(
            transition(S::InProgress, A::Resolve, &tech),
            Err(TransitionError::Precondition { action: A::Resolve, reason: Precondition::SignedVisitRequired })
        );
        tech.has_signed_visit = true;
        assert_eq!(transition(S::InProgress, A::Resolve, &tech), Ok(S::Resolved));
        // An engineer cannot resolve an on-site ticket remotely once it is under way.
        let eng = ActionContext { roles: vec![Role::Engineer], remote: true, ..Default::default() };
        assert!(matches!(transition(S::InProgress, A::Resolve, &eng), Err(TransitionError::Precondition { .. })));
        // Nor can the assigned technician skip the signature by calling it remote…
        let tech = ActionContext {
            roles: vec![Role::Technician],
            is_assigned_technician: true,
            remote: true,
            ..Default::default()
        };
        assert_eq!(
            transition(S::InProgress, A::Resolve, &tech),
            Err(TransitionError::Forbidden { action: A::Resolve })
        );
        assert_eq!(
            transition(S::ToDispatch, A::Resolve, &tech),
            Err(TransitionError::Forbidden { action: A::Resolve })
        );
        // …nor the manager once someone is on site.
        let boss = ActionContext { roles: vec![Role::Manager], remote: true, ..Default::default() };
        assert!(matches!(transition(S::InProgress, A::Resolve, &boss), Err(TransitionError::Precondition { .. })));
        assert_eq!(transition(S::ToDispatch, A::Resolve, &boss), Ok(S::Resolved));
    }

    #[test]
    fn callbacks_close_or_reopen_and_three_failures_allow_close() {
        let mut agent = ActionContext { roles: vec![Role::Agent], callback_resolved: true, ..Default::default() };
        assert_eq!(transition(S::Resolved, A::Callback, &agent), Ok(S::Closed));
        agent.callback_resolved = false;
        assert_eq!(transition(S::Resolved, A::Callback, &agent), Ok(S::Triage));
        agent.failed_callback_attempts = 2;
        assert!(matches!(transition(S::Resolved, A::Close, &agent), Err(TransitionError::Precondition { .. })));
        agent.failed_callback_attempts = 3;
        assert_eq!(transition(S::Resolved, A::Close, &agent), Ok(S::Closed));
    }

    #[test]
    fn reopen_only_inside_the_window() {
        let mut eng = ActionContext { roles: vec![Role::Engineer], ..Default::default() };
        assert!(matches!(transition(S::Closed, A::Reopen, &eng), Err(TransitionError::Precondition { .. })));
        eng.within_reopen_window = true;
        assert_eq!(transition(S::Closed, A::Reopen, &eng), Ok(S::Triage));
    }

    /// The role check comes first: a forbidden action is refused in every state.
    #[test]
    fn roles_are_checked_before_states() {
        let cases: &[(Vec<Role>, bool, &[A])] = &[
            (vec![Role::Agent], false, &[A::Callback, A::Close]),
            (vec![Role::Engineer], false, &[A::Accept, A::Diagnose, A::Schedule, A::Escalate, A::Reopen]),
            (vec![Role::Technician], true, &[A::Decline, A::Start, A::Hold, A::Resume, A::Resolve]),
            (vec![Role::Technician], false, &[]),
            (vec![Role::Storekeeper], false, &[]),
            (vec![Role::Customer], false, &[]),
        ];
        for (roles, assigned, allowed) in cases {
            let ctx = ActionContext { roles: roles.clone(), is_assigned_technician: *assigned, ..Default::default() };
            for &action in A::ALL {
                let permitted = may(action, &ctx);
                assert_eq!(permitted, allowed.contains(&action), "{roles:?} {action}");
                if !permitted {
                    for &status in S::ALL {
                        assert_eq!(transition(status, action, &ctx), Err(TransitionError::Forbidden { action }));
                    }
                }
            }
        }
        // Only the manager (or administrator) cancels.
        assert!(may(A::Cancel, &boss()));
        assert!(may(A::Cancel, &ActionContext { roles: vec![Role::Admin], ..Default::default() }));
    }

    /// A school confirms and rates the repair of its own resolved ticket (the callback),
    /// and may do nothing else; another school's ticket is refused.
    #[test]
    fn a_school_may_call_back_its_own_resolved_ticket_only() {
        let mut school = ActionContext {
            roles: vec![Role::Customer],
            own_school: true,
            callback_resolved: true,
            ..Default::default()
        };
        assert_eq!(transition(S::Resolved, A::Callback, &school), Ok(S::Closed));
        school.callback_resolved = false;
        assert_eq!(transition(S::Resolved, A::Callback, &school), Ok(S::Triage));
        for &status in S::ALL.iter().filter(|s| **s != S::Resolved) {
            assert_eq!(
                transition(status, A::Callback, &school),
                Err(TransitionError::IllegalState { action: A::Callback, status }),
                "{status}"
            );
        }
        for &action in A::ALL.iter().filter(|a| **a != A::Callback) {
            assert!(!may(action, &school), "{action}");
            for &status in S::ALL {
                assert_eq!(transition(status, action, &school), Err(TransitionError::Forbidden { action }));
            }
        }
        // Someone else's school, or own_school without the customer role: no callback.
        let other = ActionContext { roles: vec![Role::Customer], callback_resolved: true, ..Default::default() };
        assert_eq!(
            transition(S::Resolved, A::Callback, &other),
            Err(TransitionError::Forbidden { action: A::Callback })
        );
        let staff = ActionContext { roles: vec![Role::Technician], own_school: true, ..Default::default() };
        assert!(!may(A::Callback, &staff));
    }

    #[test]
    fn clocks_and_priorities() {
        assert!(S::InProgress.clock_runs());
        assert!(!S::OnHold.clock_runs());
        assert!(!S::Resolved.clock_runs());
        assert_eq!(Priority::Normal.raised(), Priority::High);
        assert_eq!(Priority::Urgent.raised(), Priority::Urgent);
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(*s));
        }
        assert_eq!(A::parse("teleport"), None);
    }
}

// ---------------------------------------------------------------------------------------
// Inputs: raw as typed, checked into values.

use crate::validation::{FieldErrors, optional, optional_enum as parse_enum, required};
use crate::{CustomerId, EquipmentId, System, UserId};
use chrono::{DateTime, Duration, Utc};

/// A new ticket as typed in (form, API, portal).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicketInput {
    pub customer_id: Option<CustomerId>,
    #[serde(default)]
    pub equipment_ids: Vec<EquipmentId>,
    /// One of the six systems; taken from the equipment when omitted.
    pub system: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `phone` (default), `email`, `portal`, `im`, `walk_in`, `inspection`, `monitoring`, `other`.
    pub source: Option<String>,
    /// `urgent`, `high`, `normal`, `low`; when omitted: `normal`, one step higher for critical equipment.
    pub priority: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewTicket {
    pub customer_id: CustomerId,
    pub equipment_ids: Vec<EquipmentId>,
    pub system: Option<System>,
    pub title: String,
    pub description: String,
    pub source: TicketSource,
    /// `None`: propose from the equipment.
    pub priority: Option<Priority>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
}

impl TicketInput {
    pub fn validate(&self) -> Result<NewTicket, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.customer_id.is_none() {
            e.push("customer_id", "required");
        }
        let system = parse_enum(&mut e, "system", self.system.as_deref(), System::parse);
        let title = required(&mut e, "title", self.title.as_deref(), 120);
        let description = optional(&mut e, "description", self.description.as_deref(), 4000).unwrap_or_default();
        let source =
            parse_enum(&mut e, "source", self.source.as_deref(), TicketSource::parse).unwrap_or(TicketSource::Phone);
        let priority = parse_enum(&mut e, "priority", self.priority.as_deref(), Priority::parse);
        let reporter_name = optional(&mut e, "reporter_name", self.reporter_name.as_deref(), 50);
        let reporter_phone = optional(&mut e, "reporter_phone", self.reporter_phone.as_deref(), 30);
        if let Some(p) = &reporter_phone
            && !crate::customers::is_phone(p)
        {
            e.push("reporter_phone", "invalid");
        }
        let mut equipment_ids = self.equipment_ids.clone();
        equipment_ids.sort();
        equipment_ids.dedup();
        match self.customer_id {
            Some(customer_id) if e.is_empty() => Ok(NewTicket {
                customer_id,
                equipment_ids,
                system,
                title,
                description,
                source,
                priority,
                reporter_name,
                reporter_phone,
            }),
            _ => Err(e),
        }
    }
}

/// The proposed priority: normal, or high when any equipment is critical (§2.5(2)).
pub fn proposed_priority(any_critical: bool) -> Priority {
    if any_critical { Priority::Normal.raised() } else { Priority::Normal }
}

/// The engineer's triage (`diagnose`): the fault analysis form's fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiagnoseInput {
    /// `hardware`, `cabling`, `software`, `other`.
    pub fault_type: Option<String>,
    /// A code of the fault taxonomy (e.g. `CCTV_NVR_DISK`).
    pub fault_subcategory: Option<String>,
    pub needs_site_survey: Option<bool>,
    pub diagnosis: Option<String>,
    pub plan: Option<String>,
    pub parts_to_bring: Option<String>,
    /// 单台 / 单教室 / 整栋 / 全校
    pub impact_scope: Option<String>,
    pub root_cause: Option<String>,
    pub cause_class: Option<String>,
    pub responsibility: Option<String>,
    pub prevention: Option<String>,
    pub priority: Option<String>,
    /// 故障发生时间: when the fault began, as the school tells it.
    pub occurred_at: Option<DateTime<Utc>>,
    /// 诊断过程: how it was narrowed down (先软后硬, 先电源后信号).
    pub diagnosis_steps: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub fault_type: FaultType,
    pub fault_subcategory: Option<String>,
    pub needs_site_survey: bool,
    pub diagnosis: String,
    pub plan: String,
    pub parts_to_bring: Option<String>,
    pub impact_scope: Option<String>,
    pub root_cause: Option<String>,
    pub cause_class: Option<String>,
    pub responsibility: Option<String>,
    pub prevention: Option<String>,
    pub priority: Option<Priority>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub diagnosis_steps: Option<String>,
}

impl DiagnoseInput {
    pub fn validate(&self) -> Result<Diagnosis, FieldErrors> {
        let mut e = FieldErrors::default();
        let fault_type = match self.fault_type.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("fault_type", "required");
                None
            }
            Some(s) => parse_enum(&mut e, "fault_type", Some(s), FaultType::parse),
        };
        let diagnosis = required(&mut e, "diagnosis", self.diagnosis.as_deref(), 4000);
        let plan = required(&mut e, "plan", self.plan.as_deref(), 4000);
        let o = |e: &mut FieldErrors, f: &str, v: &Option<String>| optional(e, f, v.as_deref(), 2000);
        let fault_subcategory = o(&mut e, "fault_subcategory", &self.fault_subcategory);
        let parts_to_bring = o(&mut e, "parts_to_bring", &self.parts_to_bring);
        let impact_scope = o(&mut e, "impact_scope", &self.impact_scope);
        let root_cause = o(&mut e, "root_cause", &self.root_cause);
        let cause_class = o(&mut e, "cause_class", &self.cause_class);
        let responsibility = o(&mut e, "responsibility", &self.responsibility);
        let prevention = o(&mut e, "prevention", &self.prevention);
        let priority = parse_enum(&mut e, "priority", self.priority.as_deref(), Priority::parse);
        let diagnosis_steps = optional(&mut e, "diagnosis_steps", self.diagnosis_steps.as_deref(), 4000);
        match fault_type {
            Some(fault_type) if e.is_empty() => Ok(Diagnosis {
                fault_type,
                fault_subcategory,
                needs_site_survey: self.needs_site_survey.unwrap_or(false),
                diagnosis,
                plan,
                parts_to_bring,
                impact_scope,
                root_cause,
                cause_class,
                responsibility,
                prevention,
                priority,
                occurred_at: self.occurred_at,
                diagnosis_steps,
            }),
            _ => Err(e),
        }
    }
}

string_enum!(
    /// What one entry of a ticket's timeline (append-only) records.
    EventKind {
        Created = "created",
        /// A step of the flow chart (`data.action` names it; the statuses say where it led).
        Action = "action",
        Diagnosis = "diagnosis",
        Comment = "comment",
        Visit = "visit",
        CallbackAttempt = "callback_attempt",
        SlaBreach = "sla_breach",
        /// Proposed as a repeat repair of an earlier ticket.
        Repeat = "repeat",
        Misdiagnosis = "misdiagnosis",
        /// The school attached a photo.
        Attachment = "attachment",
        /// A reply by mail.
        Email = "email",
        /// The school asked to hurry (催单).
        Urge = "urge",
        /// The technician on site asked the engineer to escalate (§2.6(4)).
        EscalationRequest = "escalation_request",
        /// The desk recorded the visit time agreed with the school (§2.2(5)).
        VisitAgreed = "visit_agreed",
        /// The engineer checked a visit (复核, §2.4(4)).
        VisitReview = "visit_review",
    }
);

impl EventKind {
    /// What a school user reads of the timeline: no internal notes, no bookkeeping.
    pub fn school_sees(self) -> bool {
        matches!(
            self,
            EventKind::Created | EventKind::Action | EventKind::Visit | EventKind::Comment | EventKind::VisitAgreed
        )
    }
}

string_enum!(
    /// The engineer's check of a completed visit (复核, §2.4(4)).
    VisitVerdict {
        Accepted = "accepted",
        /// Sent back to the technicians with a note (redo, complete the record).
        Returned = "returned",
    }
);

/// The engineer's check of a visit (`POST /api/v1/visits/{id}/review`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitReviewInput {
    /// `accepted` or `returned`.
    pub verdict: Option<String>,
    /// Required when returned: what to put right.
    pub note: Option<String>,
}

impl VisitReviewInput {
    pub fn validate(&self) -> Result<(VisitVerdict, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        let verdict = match self.verdict.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("verdict", "required");
                None
            }
            Some(v) => parse_enum(&mut e, "verdict", Some(v), VisitVerdict::parse),
        };
        let note = optional(&mut e, "note", self.note.as_deref(), 2000);
        if verdict == Some(VisitVerdict::Returned) && note.is_none() {
            e.push("note", "required");
        }
        match verdict {
            Some(v) if e.is_empty() => Ok((v, note)),
            _ => Err(e),
        }
    }
}

/// Who checks visits (复核): an engineer, or a manager.
pub fn may_review_visits(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Manager | Role::Admin))
}

/// Who records the visit time agreed with the school (§2.2(5)): the desk that called the
/// school, the engineer, a manager; while the visit is planned and not yet begun.
pub fn may_agree_visit_time(status: TicketStatus, roles: &[Role]) -> bool {
    status == TicketStatus::Scheduled
        && roles.iter().any(|r| matches!(r, Role::Agent | Role::Engineer | Role::Manager | Role::Admin))
}

/// The visit time agreed with the school (`POST /api/v1/tickets/{id}/agreed-visit`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreedVisitInput {
    pub agreed_at: Option<DateTime<Utc>>,
    /// Who at the school agreed, what was said.
    pub note: Option<String>,
}

impl AgreedVisitInput {
    /// The time may not lie in the past (a minute of slack for the clock).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, Option<String>), FieldErrors> {
        let mut e = FieldErrors::default();
        match self.agreed_at {
            None => e.push("agreed_at", "required"),
            Some(t) if t < now - chrono::Duration::minutes(1) => e.push("agreed_at", "in_past"),
            Some(_) => {}
        }
        let note = optional(&mut e, "note", self.note.as_deref(), 500);
        match self.agreed_at {
            Some(t) if e.is_empty() => Ok((t, note)),
            _ => Err(e),
        }
    }
}

string_enum!(
    /// How a visit ended.
    VisitResult {
        Fixed = "fixed",
        Partial = "partial",
        NotFixed = "not_fixed",
        Escalated = "escalated",
    }
);

impl VisitResult {
    /// A visit that did not fix the fault: a later change of fault type or plan is a
    /// misdiagnosis (§3.2.8).
    pub fn failed(self) -> bool {
        matches!(self, VisitResult::NotFixed | VisitResult::Escalated)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignatureInput {
    pub signer_name: Option<String>,
    /// The PNG drawn on the signature pad, base64 (a `data:image/png;base64,` prefix is accepted).
    pub image_png_base64: Option<String>,
}

impl SignatureInput {
    /// The signer's name and the PNG, or the errors under `field` (`signature.signer_name`,
    /// `signature.image_png_base64`): the visit form and the inspection's completion take
    /// the same pad.
    pub fn validate(
        &self,
        e: &mut FieldErrors,
        field: &str,
        decode: impl Fn(&str) -> Option<Vec<u8>>,
    ) -> Option<(String, Vec<u8>)> {
        let name = required(e, &format!("{field}.signer_name"), self.signer_name.as_deref(), 50);
        let raw = self.image_png_base64.as_deref().unwrap_or_default().trim();
        let raw = raw.strip_prefix("data:image/png;base64,").unwrap_or(raw);
        match decode(raw) {
            Some(png) if png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() <= MAX_SIGNATURE_BYTES => Some((name, png)),
            Some(png) if png.len() > MAX_SIGNATURE_BYTES => {
                e.push(format!("{field}.image_png_base64"), "too_long");
                None
            }
            _ => {
                e.push(format!("{field}.image_png_base64"), "invalid");
                None
            }
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitInput {
    #[serde(default)]
    pub technician_ids: Vec<UserId>,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub work_done: Option<String>,
    /// `fixed`, `partial`, `not_fixed`, `escalated`.
    pub result: Option<String>,
    /// Free text for what is not in the parts catalogue.
    pub parts_used_text: Option<String>,
    pub defective_parts_text: Option<String>,
    pub signature: Option<SignatureInput>,
    /// Catalogue parts fitted on this visit, each posted as an `issue` from its warehouse.
    #[serde(default)]
    pub parts_used: Vec<VisitPartInput>,
    /// Broken parts brought back, each posted as a `defective_return`.
    #[serde(default)]
    pub defective_parts: Vec<DefectivePartInput>,
    /// 对客户说明/预防建议: what the school was told of the cause and how to avoid it.
    pub advice: Option<String>,
    /// 工时, in hours (0.25 steps make sense); default: time on site × people who went.
    pub labor_hours: Option<f64>,
}

/// A part used on a visit (API `{part_id, warehouse_id, qty, serial_no?}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitPartInput {
    pub part_id: Option<i64>,
    /// Where it came from: normally the technician's vehicle stock.
    pub warehouse_id: Option<i64>,
    pub qty: Option<i64>,
    /// The fitted part's serial number.
    pub serial_no: Option<String>,
}

/// A defective part brought back (API `{part_id, qty, serial_no?, new_serial_no?, warehouse_id?}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DefectivePartInput {
    pub part_id: Option<i64>,
    pub qty: Option<i64>,
    /// The broken part's serial number.
    pub serial_no: Option<String>,
    /// The serial number of the part fitted in its place.
    pub new_serial_no: Option<String>,
    /// Where it is kept; default: the technician's vehicle stock, else the depot.
    pub warehouse_id: Option<i64>,
}

/// A validated part line of a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitPart {
    pub part_id: i64,
    /// Always set for a part used; `None` on a defective part means "the default".
    pub warehouse_id: Option<i64>,
    pub qty: i64,
    /// The fitted (new) part's serial.
    pub serial_no: Option<String>,
    /// The broken (old) part's serial; defective parts only.
    pub old_serial_no: Option<String>,
}

/// The most part lines one visit takes, of each kind.
pub const MAX_VISIT_PARTS: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    pub technician_ids: Vec<UserId>,
    pub departed_at: Option<DateTime<Utc>>,
    pub arrived_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
    pub work_done: String,
    pub result: VisitResult,
    pub parts_used: Option<String>,
    pub defective_parts: Option<String>,
    /// Signer's name and the PNG bytes.
    pub signature: Option<(String, Vec<u8>)>,
    /// Catalogue parts used (`warehouse_id` always set).
    pub parts_issued: Vec<VisitPart>,
    /// Defective parts brought back.
    pub parts_defective: Vec<VisitPart>,
    pub advice: Option<String>,
    pub labor_minutes: i64,
}

/// The most labour one visit records (a long day for a team of four).
pub const MAX_LABOR_HOURS: f64 = 100.0;

/// Labour of a visit when none is given: minutes on site times the people who went, at
/// least one.
pub fn default_labor_minutes(arrived: DateTime<Utc>, finished: DateTime<Utc>, people: usize) -> i64 {
    (finished - arrived).num_minutes().max(0) * people.max(1) as i64
}

/// A serial number: trimmed, upper case like the ledger keeps them, at most 64 characters.
fn serial(e: &mut FieldErrors, field: &str, v: Option<&str>) -> Option<String> {
    optional(e, field, v, 64).map(|s| s.to_uppercase())
}

fn part_qty(e: &mut FieldErrors, field: String, v: Option<i64>) -> i64 {
    match v {
        None => {
            e.push(field, "required");
            0
        }
        Some(q) if q <= 0 || q > crate::parts::MAX_QTY => {
            e.push(field, "out_of_range");
            0
        }
        Some(q) => q,
    }
}

/// The largest signature image accepted.
pub const MAX_SIGNATURE_BYTES: usize = 512 * 1024;

impl VisitInput {
    /// `decode` turns base64 into bytes (the domain stays free of encoding crates).
    pub fn validate(&self, decode: impl Fn(&str) -> Option<Vec<u8>>) -> Result<NewVisit, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.arrived_at.is_none() {
            e.push("arrived_at", "required");
        }
        if self.finished_at.is_none() {
            e.push("finished_at", "required");
        }
        // Departed ≤ arrived ≤ finished ≤ returned.
        let order = [
            ("arrived_at", self.departed_at, self.arrived_at),
            ("finished_at", self.arrived_at, self.finished_at),
            ("returned_at", self.finished_at, self.returned_at),
        ];
        for (field, a, b) in order {
            if let (Some(a), Some(b)) = (a, b)
                && b < a
            {
                e.push(field, "time_order");
            }
        }
        let work_done = required(&mut e, "work_done", self.work_done.as_deref(), 4000);
        let result = match self.result.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.push("result", "required");
                None
            }
            Some(s) => parse_enum(&mut e, "result", Some(s), VisitResult::parse),
        };
        let parts_used = optional(&mut e, "parts_used_text", self.parts_used_text.as_deref(), 2000);
        let defective_parts = optional(&mut e, "defective_parts_text", self.defective_parts_text.as_deref(), 2000);
        if self.parts_used.len() > MAX_VISIT_PARTS {
            e.push("parts_used", "too_long");
        }
        if self.defective_parts.len() > MAX_VISIT_PARTS {
            e.push("defective_parts", "too_long");
        }
        let mut parts_issued = Vec::new();
        for (i, p) in self.parts_used.iter().enumerate() {
            if p.part_id.is_none() {
                e.push(format!("parts_used[{i}].part_id"), "required");
            }
            if p.warehouse_id.is_none() {
                e.push(format!("parts_used[{i}].warehouse_id"), "required");
            }
            let qty = part_qty(&mut e, format!("parts_used[{i}].qty"), p.qty);
            let serial_no = serial(&mut e, &format!("parts_used[{i}].serial_no"), p.serial_no.as_deref());
            if let (Some(part_id), Some(w)) = (p.part_id, p.warehouse_id) {
                parts_issued.push(VisitPart { part_id, warehouse_id: Some(w), qty, serial_no, old_serial_no: None });
            }
        }
        let mut parts_defective = Vec::new();
        for (i, p) in self.defective_parts.iter().enumerate() {
            if p.part_id.is_none() {
                e.push(format!("defective_parts[{i}].part_id"), "required");
            }
            let qty = part_qty(&mut e, format!("defective_parts[{i}].qty"), p.qty);
            let old = serial(&mut e, &format!("defective_parts[{i}].serial_no"), p.serial_no.as_deref());
            let new = serial(&mut e, &format!("defective_parts[{i}].new_serial_no"), p.new_serial_no.as_deref());
            if let Some(part_id) = p.part_id {
                parts_defective.push(VisitPart {
                    part_id,
                    warehouse_id: p.warehouse_id,
                    qty,
                    serial_no: new,
                    old_serial_no: old,
                });
            }
        }
        let signature = self.signature.as_ref().and_then(|s| s.validate(&mut e, "signature", &decode));
        let mut technician_ids = self.technician_ids.clone();
        technician_ids.sort();
        technician_ids.dedup();
        let advice = optional(&mut e, "advice", self.advice.as_deref(), 2000);
        let labor = match self.labor_hours {
            Some(h) if !h.is_finite() || h <= 0.0 || h > MAX_LABOR_HOURS => {
                e.push("labor_hours", "out_of_range");
                None
            }
            Some(h) => Some((h * 60.0).round() as i64),
            None => None,
        };
        match (self.arrived_at, self.finished_at, result) {
            (Some(arrived_at), Some(finished_at), Some(result)) if e.is_empty() => Ok(NewVisit {
                technician_ids,
                departed_at: self.departed_at,
                arrived_at,
                finished_at,
                returned_at: self.returned_at,
                work_done,
                result,
                parts_used,
                defective_parts,
                signature,
                parts_issued,
                parts_defective,
                advice,
                labor_minutes: labor
                    .unwrap_or_else(|| default_labor_minutes(arrived_at, finished_at, self.technician_ids.len())),
            }),
            _ => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------
// SLA clocks.

/// Minutes allowed per priority: to respond (accept), to arrive on site, to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SlaPolicy {
    pub respond_minutes: i64,
    pub arrive_minutes: i64,
    pub resolve_minutes: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlaDue {
    pub respond: DateTime<Utc>,
    pub arrive: DateTime<Utc>,
    pub resolve: DateTime<Utc>,
}

pub fn sla_due(from: DateTime<Utc>, p: &SlaPolicy) -> SlaDue {
    SlaDue {
        respond: from + Duration::minutes(p.respond_minutes),
        arrive: from + Duration::minutes(p.arrive_minutes),
        resolve: from + Duration::minutes(p.resolve_minutes),
    }
}

/// After a pause, a due time not yet met moves on by the time spent paused.
pub fn resume_due(
    due: Option<DateTime<Utc>>,
    met: bool,
    paused_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match due {
        Some(d) if !met => Some(d + (now - paused_at).max(Duration::zero())),
        other => other,
    }
}

/// Which clocks a ticket has broken at `now` and not yet been flagged for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breaches {
    pub respond: bool,
    pub arrive: bool,
    pub resolve: bool,
}

/// One SLA clock of a ticket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    pub due: Option<DateTime<Utc>>,
    /// The thing the clock waits for has happened (responded, arrived, resolved).
    pub met: bool,
    /// A breach was already recorded.
    pub flagged: bool,
}

impl Clock {
    fn late(&self, now: DateTime<Utc>) -> bool {
        !self.met && !self.flagged && self.due.is_some_and(|d| d < now)
    }
}

pub struct ClockState {
    pub status: TicketStatus,
    pub respond: Clock,
    pub arrive: Clock,
    pub resolve: Clock,
}

pub fn breaches(c: &ClockState, now: DateTime<Utc>) -> Breaches {
    if !c.status.clock_runs() {
        return Breaches::default();
    }
    // The arrive clock only counts once a visit is needed (dispatch decided).
    let needs_visit = matches!(c.status, TicketStatus::ToDispatch | TicketStatus::Scheduled | TicketStatus::InProgress);
    Breaches { respond: c.respond.late(now), arrive: needs_visit && c.arrive.late(now), resolve: c.resolve.late(now) }
}

// ---------------------------------------------------------------------------------------
// Repeat repair (§3.2.7) and misdiagnosis (§3.2.8).

/// Default window for repeat repairs, in days.
pub const DEFAULT_REPEAT_WINDOW_DAYS: i64 = 30;

/// An earlier ticket, as the repeat rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierTicket {
    pub id: i64,
    pub equipment_ids: Vec<i64>,
    pub fault_type: Option<FaultType>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The most recent earlier ticket that the new fault repeats: same equipment, same fault
/// type, closed within the window before `now`.
pub fn repeat_of(
    equipment_ids: &[i64],
    fault_type: FaultType,
    earlier: &[EarlierTicket],
    now: DateTime<Utc>,
    window_days: i64,
) -> Option<i64> {
    earlier
        .iter()
        .filter(|t| t.fault_type == Some(fault_type))
        .filter(|t| t.equipment_ids.iter().any(|e| equipment_ids.contains(e)))
        .filter(|t| t.closed_at.is_some_and(|c| c <= now && now - c <= Duration::days(window_days)))
        .max_by_key(|t| t.closed_at)
        .map(|t| t.id)
}

/// A change of fault type or plan after a failed visit is the engineer's misdiagnosis.
pub fn is_misdiagnosis(
    failed_visit_since_diagnosis: bool,
    old: (Option<FaultType>, Option<&str>),
    new: (FaultType, &str),
) -> bool {
    let had_diagnosis = old.0.is_some() || old.1.is_some();
    had_diagnosis
        && failed_visit_since_diagnosis
        && (old.0 != Some(new.0) || old.1.map(str::trim) != Some(new.1.trim()))
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn decode(s: &str) -> Option<Vec<u8>> {
        (s == "PNG").then(|| b"\x89PNG\r\n\x1a\nrest".to_vec())
    }

    #[test]
    fn ticket_input_checks_fields() {
        let e = TicketInput { system: Some("lights".into()), priority: Some("asap".into()), ..Default::default() }
            .validate();
        let e = e.err().unwrap_or_default();
        let got: Vec<_> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            [
                ("customer_id", "required"),
                ("system", "unknown_value"),
                ("title", "required"),
                ("priority", "unknown_value")
            ]
        );
        let ok = TicketInput {
            customer_id: Some(CustomerId(1)),
            equipment_ids: vec![EquipmentId(3), EquipmentId(2), EquipmentId(3)],
            title: Some("监控黑屏".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(ok.equipment_ids, [EquipmentId(2), EquipmentId(3)]);
        assert_eq!(ok.source, TicketSource::Phone);
        assert_eq!(ok.priority, None);
        assert_eq!(proposed_priority(true), Priority::High);
        assert_eq!(proposed_priority(false), Priority::Normal);
    }

    #[test]
    fn visit_part_lines_name_their_index() {
        let base = VisitInput {
            arrived_at: Some(t("2026-11-27T02:00:00Z")),
            finished_at: Some(t("2026-11-27T03:00:00Z")),
            work_done: Some("更换硬盘".into()),
            result: Some("fixed".into()),
            ..Default::default()
        };
        let good = VisitInput {
            parts_used: vec![VisitPartInput {
                part_id: Some(1),
                warehouse_id: Some(2),
                qty: Some(2),
                serial_no: Some(" wx-1 ".into()),
            }],
            defective_parts: vec![DefectivePartInput {
                part_id: Some(1),
                qty: Some(1),
                serial_no: Some("old".into()),
                new_serial_no: Some("wx-1".into()),
                warehouse_id: None,
            }],
            ..base.clone()
        };
        let v = good.validate(decode).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            v.parts_issued,
            vec![VisitPart {
                part_id: 1,
                warehouse_id: Some(2),
                qty: 2,
                serial_no: Some("WX-1".into()),
                old_serial_no: None
            }]
        );
        assert_eq!(v.parts_defective[0].old_serial_no.as_deref(), Some("OLD"));
        assert_eq!(v.parts_defective[0].serial_no.as_deref(), Some("WX-1"));
        assert_eq!(v.parts_defective[0].warehouse_id, None);
        let bad = VisitInput {
            parts_used: vec![
                VisitPartInput { part_id: Some(1), warehouse_id: Some(2), qty: Some(1), serial_no: None },
                VisitPartInput { part_id: None, warehouse_id: Some(2), qty: Some(0), serial_no: None },
            ],
            defective_parts: vec![DefectivePartInput { part_id: Some(1), qty: None, ..Default::default() }],
            ..base
        };
        let e = bad.validate(decode).err().unwrap_or_default();
        let got: Vec<(&str, &str)> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert_eq!(
            got,
            vec![
                ("parts_used[1].part_id", "required"),
                ("parts_used[1].qty", "out_of_range"),
                ("defective_parts[0].qty", "required")
            ]
        );
    }

    #[test]
    fn visits_need_times_in_order_and_a_real_png() {
        let base = VisitInput {
            arrived_at: Some(t("2026-11-27T02:00:00Z")),
            finished_at: Some(t("2026-11-27T01:00:00Z")),
            work_done: Some("更换硬盘".into()),
            result: Some("fixed".into()),
            ..Default::default()
        };
        let e = base.validate(decode).err().unwrap_or_default();
        assert_eq!(e.0[0].field, "finished_at");
        assert_eq!(e.0[0].code, "time_order");
        let mut ok = base.clone();
        ok.finished_at = Some(t("2026-11-27T03:00:00Z"));
        ok.signature = Some(SignatureInput {
            signer_name: Some("王老师".into()),
            image_png_base64: Some("data:image/png;base64,PNG".into()),
        });
        let v = ok.validate(decode).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(v.signature.map(|s| s.0), Some("王老师".into()));
        let mut bad = ok.clone();
        bad.signature = Some(SignatureInput { signer_name: None, image_png_base64: Some("GIF".into()) });
        let e = bad.validate(decode).err().unwrap_or_default();
        let got: Vec<_> = e.0.iter().map(|x| x.field.as_str()).collect();
        assert_eq!(got, ["signature.signer_name", "signature.image_png_base64"]);
    }

    #[test]
    fn sla_clocks_pause_and_breach() {
        let p = SlaPolicy { respond_minutes: 30, arrive_minutes: 240, resolve_minutes: 1440 };
        let d = sla_due(t("2026-11-27T00:00:00Z"), &p);
        assert_eq!(d.respond, t("2026-11-27T00:30:00Z"));
        // Two hours on hold push unmet due times by two hours.
        let moved = resume_due(Some(d.resolve), false, t("2026-11-27T01:00:00Z"), t("2026-11-27T03:00:00Z"));
        assert_eq!(moved, Some(t("2026-11-28T02:00:00Z")));
        assert_eq!(
            resume_due(Some(d.respond), true, t("2026-11-27T01:00:00Z"), t("2026-11-27T03:00:00Z")),
            Some(d.respond)
        );
        let clock = |due| Clock { due: Some(due), met: false, flagged: false };
        let c = ClockState {
            status: TicketStatus::New,
            respond: clock(d.respond),
            arrive: clock(d.arrive),
            resolve: clock(d.resolve),
        };
        assert_eq!(breaches(&c, t("2026-11-27T00:29:00Z")), Breaches::default());
        assert_eq!(breaches(&c, t("2026-11-27T05:00:00Z")), Breaches { respond: true, arrive: false, resolve: false });
        let c = ClockState { status: TicketStatus::Scheduled, respond: Clock { met: true, ..c.respond }, ..c };
        assert_eq!(breaches(&c, t("2026-11-29T00:00:00Z")), Breaches { respond: false, arrive: true, resolve: true });
        let held = ClockState { status: TicketStatus::OnHold, ..c };
        assert_eq!(breaches(&held, t("2026-11-29T00:00:00Z")), Breaches::default());
        let flagged = ClockState {
            status: TicketStatus::Scheduled,
            arrive: Clock { flagged: true, ..held.arrive },
            resolve: Clock { flagged: true, ..held.resolve },
            ..held
        };
        assert_eq!(breaches(&flagged, t("2026-11-29T00:00:00Z")), Breaches::default());
    }

    #[test]
    fn repeat_repairs_need_same_equipment_same_fault_inside_the_window() {
        let now = t("2026-11-27T00:00:00Z");
        let earlier = vec![
            EarlierTicket {
                id: 1,
                equipment_ids: vec![7],
                fault_type: Some(FaultType::Hardware),
                closed_at: Some(t("2026-11-01T00:00:00Z")),
            },
            EarlierTicket {
                id: 2,
                equipment_ids: vec![7],
                fault_type: Some(FaultType::Hardware),
                closed_at: Some(t("2026-11-20T00:00:00Z")),
            },
            EarlierTicket {
                id: 3,
                equipment_ids: vec![7],
                fault_type: Some(FaultType::Software),
                closed_at: Some(t("2026-11-25T00:00:00Z")),
            },
            EarlierTicket {
                id: 4,
                equipment_ids: vec![8],
                fault_type: Some(FaultType::Hardware),
                closed_at: Some(t("2026-11-26T00:00:00Z")),
            },
            EarlierTicket { id: 5, equipment_ids: vec![7], fault_type: Some(FaultType::Hardware), closed_at: None },
        ];
        assert_eq!(repeat_of(&[7], FaultType::Hardware, &earlier, now, 30), Some(2));
        assert_eq!(repeat_of(&[7], FaultType::Cabling, &earlier, now, 30), None);
        assert_eq!(repeat_of(&[7], FaultType::Hardware, &earlier, now, 5), None);
        assert_eq!(repeat_of(&[9], FaultType::Hardware, &earlier, now, 30), None);
        assert_eq!(repeat_of(&[7, 8], FaultType::Hardware, &earlier, now, 30), Some(4));
    }

    #[test]
    fn misdiagnosis_is_a_change_after_a_failed_visit() {
        let old = (Some(FaultType::Software), Some("重装系统"));
        assert!(is_misdiagnosis(true, old, (FaultType::Hardware, "重装系统")));
        assert!(is_misdiagnosis(true, old, (FaultType::Software, "更换硬盘")));
        assert!(!is_misdiagnosis(true, old, (FaultType::Software, " 重装系统 ")));
        assert!(!is_misdiagnosis(false, old, (FaultType::Hardware, "更换硬盘")));
        assert!(!is_misdiagnosis(true, (None, None), (FaultType::Hardware, "更换硬盘")));
        assert!(VisitResult::NotFixed.failed() && VisitResult::Escalated.failed() && !VisitResult::Partial.failed());
    }
}
