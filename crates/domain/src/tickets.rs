//! Work orders (工单): statuses, actions, priorities, fault types, and the state machine of
//! DESIGN.md §3 — who may do what, from which state, to which state. Pure: the caller says
//! who is acting and what is true of the ticket; this module answers.

use crate::Role;
use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s.trim())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

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
        A::Resolve => (has(Role::Technician) && ctx.is_assigned_technician) || (has(Role::Engineer) && ctx.remote),
        A::Callback | A::Close => has(Role::Agent),
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
        (A::Resolve, S::InProgress) if ctx.remote && !ctx.is_assigned_technician && !is_boss(ctx) => {
            unmet(Precondition::RemoteOnlyBeforeDispatch)
        }
        (A::Resolve, S::InProgress) if ctx.remote || ctx.has_signed_visit => Ok(S::Resolved),
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

fn is_boss(ctx: &ActionContext) -> bool {
    ctx.roles.contains(&Role::Manager) || ctx.roles.contains(&Role::Admin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketAction as A;
    use TicketStatus as S;

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
