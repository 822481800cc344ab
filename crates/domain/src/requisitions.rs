//! Requisitions (领用单/领条, DOMAIN.md §1.5): a technician asks for parts, usually for a
//! ticket; the storekeeper or the manager approves or rejects; the storekeeper issues,
//! which posts one `issue` movement per line. Pure: the state machine, the input checks
//! and who may do what.
//!
//! Decisions:
//! - Nobody approves their own requisition, whatever their roles (four eyes on stock).
//! - Issuing may give less than was asked for a line (not enough on the shelf, or the
//!   storekeeper judges less is needed), never more; a line issued at 0 posts nothing, but
//!   something must be issued.
//! - A rejected, cancelled or issued requisition is final; a correction is a new one (or
//!   a `return` movement for parts given back). The one exception is a borrow (借用, a
//!   tool lent): issued, it is out until the storekeeper takes it back (`return`), which
//!   puts every issued unit back where it came from; it is due back within
//!   [`BORROW_DAYS`] days and overdue after.

use crate::Role;
use crate::parts::MAX_QTY;
use crate::users::Actor;
use crate::validation::{FieldErrors, optional};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Where a requisition stands.
    ReqStatus {
        Requested = "requested",
        Approved = "approved",
        Rejected = "rejected",
        Issued = "issued",
        Cancelled = "cancelled",
        Returned = "returned",
    }
);

string_enum!(
    /// 领用 (consumed) or 借用 (a tool lent, to come back).
    IssueType { Issue = "issue", Borrow = "borrow" }
);

string_enum!(
    /// What can be done to a requisition.
    ReqAction { Approve = "approve", Reject = "reject", Issue = "issue", Cancel = "cancel", Return = "return" }
);

impl ReqStatus {
    pub fn zh(self) -> &'static str {
        match self {
            ReqStatus::Requested => "待审批",
            ReqStatus::Approved => "已批准",
            ReqStatus::Rejected => "已驳回",
            ReqStatus::Issued => "已发料",
            ReqStatus::Cancelled => "已撤销",
            ReqStatus::Returned => "已归还",
        }
    }

    /// The status an action leads to from this one, or `None` if it is not possible
    /// (`return` only for a borrow: see [`may_return`]).
    pub fn next(self, action: ReqAction) -> Option<ReqStatus> {
        match (self, action) {
            (ReqStatus::Issued, ReqAction::Return) => Some(ReqStatus::Returned),
            (ReqStatus::Requested, ReqAction::Approve) => Some(ReqStatus::Approved),
            (ReqStatus::Requested, ReqAction::Reject) => Some(ReqStatus::Rejected),
            (ReqStatus::Requested, ReqAction::Cancel) => Some(ReqStatus::Cancelled),
            (ReqStatus::Approved, ReqAction::Issue) => Some(ReqStatus::Issued),
            _ => None,
        }
    }
}

/// Days a borrowed tool may stay out.
pub const BORROW_DAYS: i64 = 7;

/// Only what was lent comes back through its requisition; consumed parts come back with a
/// `return` movement.
pub fn may_return(issue_type: IssueType) -> bool {
    issue_type == IssueType::Borrow
}

/// The facts about one requisition that decide what may be done to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReqFacts {
    pub status: ReqStatus,
    pub issue_type: IssueType,
    pub requester_id: crate::UserId,
}

impl ReqFacts {
    /// Issued and lent: still to come back (已借出).
    pub fn lent_out(&self) -> bool {
        self.status == ReqStatus::Issued && may_return(self.issue_type)
    }
}

/// Why an action on a requisition is refused, in the order it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqRefusal {
    /// The actor's roles do not allow it at all (403).
    Forbidden,
    /// Not from this status (see [`ReqStatus::next`]).
    Status,
    /// `return` of a requisition that lent nothing.
    NotBorrowed,
    /// Approving or rejecting one's own requisition.
    OwnRequisition,
}

/// May `a` take `action` on the requisition now? The one place the rules live: the page
/// draws its buttons from [`allowed_actions`], the service checks the action with this.
/// Who: approve/reject the storekeeper or the manager, never on their own requisition;
/// issue and return the storekeeper (the storekeeper takes a lent tool back, not the
/// borrower); cancel the requester or an approver.
pub fn check_action(a: &Actor, r: &ReqFacts, action: ReqAction) -> Result<(), ReqRefusal> {
    let mine = r.requester_id == a.id;
    let allowed = match action {
        ReqAction::Approve | ReqAction::Reject => can_approve(a),
        ReqAction::Issue | ReqAction::Return => can_issue(a),
        ReqAction::Cancel => mine || can_approve(a),
    };
    if !allowed {
        return Err(ReqRefusal::Forbidden);
    }
    if r.status.next(action).is_none() {
        return Err(ReqRefusal::Status);
    }
    if action == ReqAction::Return && !may_return(r.issue_type) {
        return Err(ReqRefusal::NotBorrowed);
    }
    if matches!(action, ReqAction::Approve | ReqAction::Reject) && mine {
        return Err(ReqRefusal::OwnRequisition);
    }
    Ok(())
}

/// The actions `a` may take on the requisition now (for the page's buttons).
pub fn allowed_actions(a: &Actor, r: &ReqFacts) -> Vec<ReqAction> {
    ReqAction::ALL.iter().copied().filter(|x| check_action(a, r, *x).is_ok()).collect()
}

/// Whether a borrow issued at `issued_at` and not yet back is overdue at `now`.
pub fn borrow_overdue(issued_at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    now - issued_at > chrono::Duration::days(BORROW_DAYS)
}

/// One line as typed in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequisitionLineInput {
    pub part_id: Option<i64>,
    /// Units asked for: 1 or more.
    pub qty: Option<i64>,
    /// The new part's serial number, for serialised parts.
    pub serial_no: Option<String>,
}

/// A requisition as typed in (API `POST /api/v1/requisitions`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequisitionInput {
    /// The warehouse to issue from.
    pub warehouse_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// 用途: 维修, 巡检养护, 借用工具 …
    pub purpose: Option<String>,
    /// `issue` (default) or `borrow`.
    pub issue_type: Option<String>,
    pub lines: Option<Vec<RequisitionLineInput>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRequisitionLine {
    pub part_id: i64,
    pub qty_requested: i64,
    pub serial_no: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRequisition {
    pub warehouse_id: i64,
    pub ticket_id: Option<i64>,
    pub purpose: Option<String>,
    pub issue_type: IssueType,
    pub lines: Vec<NewRequisitionLine>,
}

/// The most lines on one slip: a real slip has a handful.
pub const MAX_LINES: usize = 100;

impl RequisitionInput {
    pub fn validate(&self) -> Result<NewRequisition, FieldErrors> {
        let mut e = FieldErrors::default();
        if self.warehouse_id.is_none() {
            e.push("warehouse_id", "required");
        }
        let purpose = optional(&mut e, "purpose", self.purpose.as_deref(), 200);
        let issue_type = match self.issue_type.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => IssueType::Issue,
            Some(s) => IssueType::parse(s).unwrap_or_else(|| {
                e.push("issue_type", "unknown_value");
                IssueType::Issue
            }),
        };
        let raw = self.lines.as_deref().unwrap_or_default();
        if raw.is_empty() {
            e.push("lines", "required");
        } else if raw.len() > MAX_LINES {
            e.push("lines", "too_long");
        }
        let mut lines = Vec::with_capacity(raw.len());
        for (i, l) in raw.iter().enumerate() {
            if l.part_id.is_none() {
                e.push(format!("lines[{i}].part_id"), "required");
            }
            match l.qty {
                None => e.push(format!("lines[{i}].qty"), "required"),
                Some(q) if q <= 0 || q > MAX_QTY => e.push(format!("lines[{i}].qty"), "out_of_range"),
                Some(_) => {}
            }
            let serial_no = optional(&mut e, &format!("lines[{i}].serial_no"), l.serial_no.as_deref(), 100);
            if let (Some(part_id), Some(q)) = (l.part_id, l.qty) {
                lines.push(NewRequisitionLine { part_id, qty_requested: q, serial_no });
            }
        }
        match (e.is_empty(), self.warehouse_id) {
            (true, Some(warehouse_id)) => {
                Ok(NewRequisition { warehouse_id, ticket_id: self.ticket_id, purpose, issue_type, lines })
            }
            _ => Err(e.in_area("requisitions")),
        }
    }
}

/// How much of a line the issuer gives (API `issue` body).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssueLine {
    pub line_id: i64,
    pub qty: i64,
}

/// The quantity to issue per line, in the lines' order: what was asked for unless the
/// issuer says otherwise; never more than asked, never negative, not all zero.
/// `lines` are (line id, quantity requested).
pub fn issue_quantities(lines: &[(i64, i64)], given: &[IssueLine]) -> Result<Vec<(i64, i64)>, FieldErrors> {
    let mut e = FieldErrors::default();
    for (i, g) in given.iter().enumerate() {
        match lines.iter().find(|(id, _)| *id == g.line_id) {
            None => e.push(format!("lines[{i}].line_id"), "not_found"),
            Some((_, asked)) if g.qty < 0 || g.qty > *asked => e.push(format!("lines[{i}].qty"), "out_of_range"),
            Some(_) => {}
        }
    }
    let out: Vec<(i64, i64)> = lines
        .iter()
        .map(|(id, asked)| (*id, given.iter().rev().find(|g| g.line_id == *id).map_or(*asked, |g| g.qty)))
        .collect();
    if e.is_empty() && out.iter().all(|(_, q)| *q == 0) {
        e.push("lines", "out_of_range");
    }
    if e.is_empty() { Ok(out) } else { Err(e.in_area("requisitions")) }
}

/// Who may ask for parts: field staff and the storekeeper (and the manager and admin).
pub fn can_request(a: &Actor) -> bool {
    a.has_any(&[Role::Technician, Role::Engineer, Role::Storekeeper])
}

/// Who approves or rejects: the storekeeper and the manager (and admin) — never their own.
pub fn can_approve(a: &Actor) -> bool {
    a.has_any(&[Role::Storekeeper])
}

/// Who hands the parts out: the storekeeper (and the manager and admin).
pub fn can_issue(a: &Actor) -> bool {
    crate::parts::can_manage_stock(a)
}

/// Who sees every requisition rather than only their own.
pub fn sees_all(a: &Actor) -> bool {
    a.has_any(&[Role::Storekeeper, Role::Engineer])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;

    fn actor(roles: &[Role]) -> Actor {
        Actor {
            id: UserId(1),
            username: "u".into(),
            display_name: "u".into(),
            roles: roles.to_vec(),
            customer_id: None,
            locale: "zh-CN".into(),
        }
    }

    fn fields(e: &FieldErrors) -> Vec<(&str, &str)> {
        e.0.iter().map(|x| (x.field.as_str(), x.code)).collect()
    }

    #[test]
    fn the_state_machine() {
        use ReqAction::*;
        use ReqStatus::*;
        assert_eq!(Requested.next(Approve), Some(Approved));
        assert_eq!(Requested.next(Reject), Some(Rejected));
        assert_eq!(Requested.next(Cancel), Some(Cancelled));
        assert_eq!(Approved.next(Issue), Some(Issued));
        // Issuing needs an approval first; a final status goes nowhere.
        assert_eq!(Requested.next(Issue), None);
        assert_eq!(Approved.next(Approve), None);
        for s in [Rejected, Cancelled, Returned] {
            for a in ReqAction::ALL {
                assert_eq!(s.next(*a), None, "{s} {a}");
            }
        }
        // Issued is final but for taking a lent tool back.
        for a in ReqAction::ALL {
            assert_eq!(Issued.next(*a), (*a == Return).then_some(Returned), "{a}");
        }
        assert!(may_return(IssueType::Borrow) && !may_return(IssueType::Issue));
        let t = chrono::Utc::now();
        assert!(!borrow_overdue(t - chrono::Duration::days(BORROW_DAYS), t));
        assert!(borrow_overdue(t - chrono::Duration::days(BORROW_DAYS) - chrono::Duration::minutes(1), t));
        assert_eq!(ReqStatus::parse("issued"), Some(Issued));
        assert_eq!(ReqAction::parse("steal"), None);
    }

    #[test]
    fn a_good_requisition() {
        let r = RequisitionInput {
            warehouse_id: Some(3),
            ticket_id: Some(9),
            purpose: Some(" 维修 ".into()),
            issue_type: None,
            lines: Some(vec![RequisitionLineInput { part_id: Some(1), qty: Some(2), serial_no: None }]),
        }
        .validate()
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(r.issue_type, IssueType::Issue);
        assert_eq!(r.purpose.as_deref(), Some("维修"));
        assert_eq!(r.lines, vec![NewRequisitionLine { part_id: 1, qty_requested: 2, serial_no: None }]);
    }

    #[test]
    fn bad_requisitions_name_their_fields() {
        let e = RequisitionInput { issue_type: Some("steal".into()), ..Default::default() }
            .validate()
            .err()
            .unwrap_or_default();
        assert_eq!(
            fields(&e),
            vec![("warehouse_id", "required"), ("issue_type", "unknown_value"), ("lines", "required")]
        );
        let e = RequisitionInput {
            warehouse_id: Some(1),
            lines: Some(vec![
                RequisitionLineInput { part_id: Some(1), qty: Some(0), serial_no: None },
                RequisitionLineInput { part_id: None, qty: Some(-2), serial_no: None },
                RequisitionLineInput { part_id: Some(1), qty: None, serial_no: None },
            ]),
            ..Default::default()
        }
        .validate()
        .err()
        .unwrap_or_default();
        assert_eq!(
            fields(&e),
            vec![
                ("lines[0].qty", "out_of_range"),
                ("lines[1].part_id", "required"),
                ("lines[1].qty", "out_of_range"),
                ("lines[2].qty", "required")
            ]
        );
    }

    #[test]
    fn issuing_less_never_more() {
        let lines = [(10, 3), (11, 1)];
        assert_eq!(issue_quantities(&lines, &[]).ok(), Some(vec![(10, 3), (11, 1)]));
        assert_eq!(issue_quantities(&lines, &[IssueLine { line_id: 10, qty: 2 }]).ok(), Some(vec![(10, 2), (11, 1)]));
        assert_eq!(issue_quantities(&lines, &[IssueLine { line_id: 11, qty: 0 }]).ok(), Some(vec![(10, 3), (11, 0)]));
        let e = issue_quantities(&lines, &[IssueLine { line_id: 10, qty: 4 }, IssueLine { line_id: 99, qty: 1 }])
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&e), vec![("lines[0].qty", "out_of_range"), ("lines[1].line_id", "not_found")]);
        let e = issue_quantities(&lines, &[IssueLine { line_id: 10, qty: -1 }]).err().unwrap_or_default();
        assert_eq!(fields(&e), vec![("lines[0].qty", "out_of_range")]);
        let e = issue_quantities(&lines, &[IssueLine { line_id: 10, qty: 0 }, IssueLine { line_id: 11, qty: 0 }])
            .err()
            .unwrap_or_default();
        assert_eq!(fields(&e), vec![("lines", "out_of_range")]);
    }

    #[test]
    fn who_may_do_what() {
        let tech = actor(&[Role::Technician]);
        let store = actor(&[Role::Storekeeper]);
        let manager = actor(&[Role::Manager]);
        let agent = actor(&[Role::Agent]);
        let school = actor(&[Role::Customer]);
        assert!(can_request(&tech) && can_request(&store) && can_request(&manager));
        assert!(!can_request(&agent) && !can_request(&school));
        assert!(!can_approve(&tech) && can_approve(&store) && can_approve(&manager));
        assert!(!can_issue(&tech) && can_issue(&store));
        assert!(!sees_all(&tech) && sees_all(&store));
    }
}
