//! Requisitions (领用单/领条): who may ask, approve, reject, issue and cancel, the checks
//! before anything is written, and the issue ledger report (《备件仓库领用记录表》)
//! with its Excel export.

use crate::{Actor, Result, ServiceError, Services, require};
use aftercare_domain::parts::fen_text;
use aftercare_domain::requisitions::{
    IssueLine, IssueType, ReqAction, ReqRefusal, ReqStatus, RequisitionInput, allowed_actions, can_approve, can_issue,
    can_request, check_action, sees_all,
};
use aftercare_domain::validation::clean;
use aftercare_domain::{FieldErrors, PartId, RequisitionId, Role, TicketId, WarehouseId};
use aftercare_store::requisitions::{self as store, RequisitionQuery};
use aftercare_store::{Page, Paged, StoreError};
use chrono::{NaiveDate, Utc};
use serde::Serialize;

/// The rows of this area, for the web crate (which does not name the store).
pub use aftercare_store::requisitions::{LedgerRow, RequisitionLineRow, RequisitionRow};

/// A requisition as its page and the API show it: the row, its lines, and the actions the
/// viewer may take now ([`allowed_actions`], the same rule that checks an action). Two
/// queries, whatever the number of lines.
#[derive(Debug, Clone, Serialize)]
pub struct RequisitionView {
    pub requisition: RequisitionRow,
    pub lines: Vec<RequisitionLineRow>,
    pub actions: Vec<ReqAction>,
}

impl RequisitionView {
    /// Whether the viewer may take `action` now (the page's buttons).
    pub fn can(&self, action: ReqAction) -> bool {
        self.actions.contains(&action)
    }
}

/// Which requisitions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The ones I asked for.
    #[default]
    Mine,
    /// Waiting for an approval (someone else's).
    ToApprove,
    /// Approved, waiting to be issued.
    ToIssue,
    /// Borrows (借用) issued and not yet back, oldest first to chase.
    Borrowed,
    /// Everything I may see.
    All,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim() {
            "mine" => Some(Scope::Mine),
            "to_approve" => Some(Scope::ToApprove),
            "to_issue" => Some(Scope::ToIssue),
            "borrowed" => Some(Scope::Borrowed),
            "all" => Some(Scope::All),
            _ => None,
        }
    }
}

/// What the action's body carries: `note` (approve, issue), `reason` (reject, cancel),
/// `lines` (issue: less than asked for some lines).
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub note: Option<String>,
    pub reason: Option<String>,
    pub lines: Vec<IssueLine>,
}

/// A referenced record that does not exist is a field error, not a 404 of the request.
fn missing(field: String) -> impl FnOnce(StoreError) -> ServiceError {
    move |e| match e {
        StoreError::NotFound => ServiceError::Invalid(FieldErrors::single(field, "not_found")),
        other => other.into(),
    }
}

fn status_key(s: ReqStatus) -> &'static str {
    match s {
        ReqStatus::Requested => "requisition_requested",
        ReqStatus::Approved => "requisition_approved",
        ReqStatus::Rejected => "requisition_rejected",
        ReqStatus::Issued => "requisition_issued",
        ReqStatus::Cancelled => "requisition_cancelled",
        ReqStatus::Returned => "requisition_returned",
    }
}

fn action_key(a: ReqAction) -> &'static str {
    match a {
        ReqAction::Approve => "requisition_approve",
        ReqAction::Reject => "requisition_reject",
        ReqAction::Issue => "requisition_issue",
        ReqAction::Cancel => "requisition_cancel",
        ReqAction::Return => "requisition_return",
    }
}

/// The ledger workbook's columns (the paper 领用记录表), named as in the web catalogue
/// (`ledger.col.<name>`).
pub const LEDGER_COLUMNS: [&str; 18] = [
    "date",
    "movement_no",
    "requisition_no",
    "kind",
    "part_code",
    "part_name",
    "spec",
    "unit",
    "qty",
    "unit_cost",
    "amount",
    "balance",
    "warehouse",
    "requester",
    "approver",
    "handler",
    "purpose",
    "ticket",
];

impl Services {
    fn may_see_requisition(by: &Actor, r: &RequisitionRow) -> bool {
        by.is_staff() && (sees_all(by) || r.requester_id == by.id.0)
    }

    pub async fn create_requisition(&self, by: &Actor, input: &RequisitionInput) -> Result<RequisitionView> {
        require(can_request(by))?;
        let r = input.validate()?;
        let wh = aftercare_store::parts::get_warehouse(&self.db, r.warehouse_id)
            .await
            .map_err(missing("warehouse_id".into()))?;
        if !wh.active {
            return Err(FieldErrors::single("warehouse_id", "invalid").into());
        }
        if let Some(t) = r.ticket_id {
            aftercare_store::tickets::get(&self.db, t).await.map_err(missing("ticket_id".into()))?;
        }
        let mut e = FieldErrors::default();
        for (i, l) in r.lines.iter().enumerate() {
            match aftercare_store::parts::get_part(&self.db, l.part_id).await {
                Ok(p) if p.active => {}
                Ok(_) => e.push(format!("lines[{i}].part_id"), "invalid"),
                Err(StoreError::NotFound) => e.push(format!("lines[{i}].part_id"), "not_found"),
                Err(other) => return Err(other.into()),
            }
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let id = store::create(&self.db, &self.writer(by), by.id.0, &r, Utc::now()).await?;
        self.requisition_view(by, RequisitionId(id)).await
    }

    /// One requisition with its lines and what `by` may do to it now: everything its page
    /// needs, in one call.
    pub async fn requisition_view(&self, by: &Actor, id: RequisitionId) -> Result<RequisitionView> {
        require(by.is_staff())?;
        let requisition = store::get(&self.db, id.0).await?;
        if !Self::may_see_requisition(by, &requisition) {
            return Err(ServiceError::NotFound);
        }
        let lines = store::lines(&self.db, id.0).await?;
        let actions = allowed_actions(by, &requisition.facts());
        Ok(RequisitionView { requisition, lines, actions })
    }

    pub async fn list_requisitions(
        &self,
        by: &Actor,
        scope: Scope,
        status: Option<ReqStatus>,
        ticket_id: Option<TicketId>,
        page: Page,
    ) -> Result<Paged<RequisitionRow>> {
        require(by.is_staff())?;
        let mut q = RequisitionQuery { ticket_id: ticket_id.map(i64::from), status, ..Default::default() };
        match scope {
            Scope::Mine => q.requester_id = Some(by.id.0),
            Scope::ToApprove => {
                require(can_approve(by))?;
                q.status = Some(ReqStatus::Requested);
            }
            Scope::ToIssue => {
                require(can_issue(by))?;
                q.status = Some(ReqStatus::Approved);
            }
            Scope::Borrowed => {
                q.status = Some(ReqStatus::Issued);
                q.issue_type = Some(IssueType::Borrow);
                q.oldest_issued_first = true;
                if !sees_all(by) {
                    q.requester_id = Some(by.id.0);
                }
            }
            Scope::All if sees_all(by) => {}
            Scope::All => q.requester_id = Some(by.id.0),
        }
        Ok(store::list(&self.db, &q, page).await?)
    }

    /// Approves, rejects, issues, cancels, or takes a borrow back, when
    /// [`check_action`] allows it: 403 for the wrong roles, else 409 naming why (the status,
    /// one's own requisition, a return of what was not lent).
    pub async fn act_requisition(
        &self,
        by: &Actor,
        id: RequisitionId,
        action: ReqAction,
        input: &ActionInput,
    ) -> Result<RequisitionView> {
        let d = self.requisition_view(by, id).await?;
        let id = id.0;
        let r = &d.requisition;
        let status = r.status;
        if let Err(refusal) = check_action(by, &r.facts(), action) {
            // The reason names the status in words (`precondition.requisition_<status>`): the
            // generic transition message speaks of tickets.
            let reason = match refusal {
                ReqRefusal::Forbidden => return Err(ServiceError::Forbidden),
                ReqRefusal::Status => status_key(status),
                ReqRefusal::NotBorrowed => "not_borrowed",
                ReqRefusal::OwnRequisition => "own_requisition",
            };
            return Err(ServiceError::Transition {
                action: action_key(action),
                status: status_key(status),
                reason: Some(reason),
            });
        }
        let mut e = FieldErrors::default();
        let note = clean(input.note.as_deref());
        let reason = clean(input.reason.as_deref());
        for (f, v) in [("note", &note), ("reason", &reason)] {
            if v.as_deref().is_some_and(|s| s.chars().count() > 500) {
                e.push(f, "too_long");
            }
        }
        if matches!(action, ReqAction::Reject | ReqAction::Cancel) && reason.is_none() {
            e.push("reason", "required");
        }
        if !e.is_empty() {
            return Err(e.into());
        }
        let w = self.writer(by);
        let now = Utc::now();
        // A status changed by someone else since it was read is 409 like any other.
        let stale = |e: StoreError| match e {
            StoreError::Stale => transition_now(action),
            other => other.into(),
        };
        match action {
            ReqAction::Approve => {
                store::decide(&self.db, &w, id, ReqStatus::Approved, by.id.0, note.as_deref(), now)
                    .await
                    .map_err(stale)?;
                self.tell_storekeepers(by, &d.requisition, now).await;
            }
            ReqAction::Reject => store::decide(&self.db, &w, id, ReqStatus::Rejected, by.id.0, reason.as_deref(), now)
                .await
                .map_err(stale)?,
            ReqAction::Cancel => {
                store::cancel(&self.db, &w, id, reason.as_deref().unwrap_or_default(), now).await.map_err(stale)?
            }
            ReqAction::Return => match store::return_borrowed(&self.db, &w, id, by.id.0, note.as_deref(), now).await {
                Ok(()) => {}
                // The borrower's vehicle no longer holds what was lent: say which and where.
                Err(StoreError::Insufficient { part_id, warehouse_id, on_hand }) => {
                    let part = d
                        .lines
                        .iter()
                        .find(|l| l.part_id == part_id)
                        .map(|l| format!("{} {}", l.part_code, l.part_name))
                        .unwrap_or_else(|| format!("#{part_id}"));
                    let warehouse = aftercare_store::parts::get_warehouse(&self.db, warehouse_id)
                        .await
                        .map(|w| w.name)
                        .unwrap_or_else(|_| format!("#{warehouse_id}"));
                    return Err(ServiceError::Insufficient { part, warehouse, on_hand });
                }
                Err(other) => return Err(stale(other)),
            },
            ReqAction::Issue => {
                let asked: Vec<(i64, i64)> = d.lines.iter().map(|l| (l.id, l.qty_requested)).collect();
                let qty = aftercare_domain::requisitions::issue_quantities(&asked, &input.lines)?;
                store::issue(&self.db, &w, id, &qty, by.id.0, note.as_deref(), now).await.map_err(|e| match e {
                    StoreError::Insufficient { part_id, on_hand, .. } => ServiceError::Insufficient {
                        part: d
                            .lines
                            .iter()
                            .find(|l| l.part_id == part_id)
                            .map(|l| format!("{} {}", l.part_code, l.part_name))
                            .unwrap_or_else(|| format!("#{part_id}")),
                        warehouse: r.warehouse_name.clone(),
                        on_hand,
                    },
                    other => stale(other),
                })?
            }
        }
        let view = self.requisition_view(by, RequisitionId(id)).await?;
        // Reserve quotas: an issue may have taken the warehouse below its min, a return
        // brought it back (the vehicles, carrying no catalogue quota, only by their own).
        if matches!(action, ReqAction::Issue | ReqAction::Return) {
            for l in &view.lines {
                self.check_stock_level(PartId(l.part_id), WarehouseId(view.requisition.warehouse_id), now).await;
            }
        }
        Ok(view)
    }

    /// The issue ledger (issues and returns) of the local dates `from..=to`, optionally of
    /// one warehouse, oldest first.
    pub async fn issue_ledger(
        &self,
        by: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        warehouse_id: Option<WarehouseId>,
    ) -> Result<Vec<LedgerRow>> {
        require(aftercare_domain::parts::can_read_stock(by))?;
        if to < from {
            return Err(FieldErrors::single("to", "date_order").into());
        }
        let (start, _) = aftercare_domain::clock::day_bounds(from, self.tz);
        let (_, end) = aftercare_domain::clock::day_bounds(to, self.tz);
        Ok(store::ledger(&self.db, start, end, warehouse_id.map(i64::from), 20_000).await?)
    }

    /// The ledger as the paper form's table, header first, in the reader's words: `word`
    /// is the web layer's translator, asked for `ledger.col.<column>` and a movement's
    /// `stock.kind.<kind>`.
    pub fn issue_ledger_table(&self, rows: &[LedgerRow], word: &dyn Fn(&str) -> String) -> Vec<Vec<String>> {
        let mut t = vec![LEDGER_COLUMNS.iter().map(|c| word(&format!("ledger.col.{c}"))).collect::<Vec<_>>()];
        for r in rows {
            t.push(vec![
                r.at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string(),
                r.movement_no.clone(),
                r.requisition_no.clone().unwrap_or_default(),
                word(&format!("stock.kind.{}", r.kind.as_str())),
                r.part_code.clone(),
                r.part_name.clone(),
                r.spec.clone().unwrap_or_default(),
                r.unit.clone(),
                r.qty.to_string(),
                fen_text(r.unit_cost_fen),
                fen_text(r.unit_cost_fen.saturating_mul(r.qty)),
                r.balance_after.to_string(),
                r.warehouse_name.clone(),
                r.requester_name.clone().unwrap_or_default(),
                r.approver_name.clone().unwrap_or_default(),
                r.by_name.clone().unwrap_or_default(),
                r.purpose.clone().unwrap_or_default(),
                r.ticket_number.clone().unwrap_or_default(),
            ]);
        }
        t
    }

    /// The ledger as an `.xlsx` workbook in the reader's words (see
    /// [`Services::issue_ledger_table`]; the sheet is `ledger.sheet`), with its file name
    /// (`ledger.form_title`).
    pub async fn issue_ledger_xlsx(
        &self,
        by: &Actor,
        from: NaiveDate,
        to: NaiveDate,
        warehouse_id: Option<WarehouseId>,
        word: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<(String, Vec<u8>)> {
        let rows = self.issue_ledger(by, from, to, warehouse_id).await?;
        // 数量, 单价, 金额 and 结存 are numbers, so the sheet sums them.
        let table = self.issue_ledger_table(&rows, word);
        let bytes = crate::excel::table_to_xlsx_with(&word("ledger.sheet"), &table, &[8, 9, 10, 11])?;
        Ok((format!("{}-{from}-{to}.xlsx", word("ledger.form_title")), bytes))
    }
}

impl Services {
    /// An approved requisition is the storekeeper's to issue: each one is told, but not the
    /// one who approved it. A failure here must not undo the approval, so it is logged.
    async fn tell_storekeepers(&self, by: &Actor, r: &RequisitionRow, now: chrono::DateTime<Utc>) {
        let keepers = match aftercare_store::users::with_role(&self.db, Role::Storekeeper.as_str()).await {
            Ok(k) => k,
            Err(e) => {
                tracing::warn!("listing storekeepers for {}: {e}", r.requisition_no);
                return;
            }
        };
        let list: Vec<aftercare_store::notifications::NewNotification> = keepers
            .iter()
            .filter(|k| k.id != by.id.0)
            .map(|k| aftercare_store::notifications::NewNotification {
                user_id: k.id,
                kind: aftercare_domain::notifications::NotificationKind::RequisitionApproved,
                args: serde_json::json!({"requisition_id": r.id, "number": r.requisition_no, "title": r.requester_name}),
            })
            .collect();
        if let Err(e) = aftercare_store::notifications::notify(&self.db, None, &list, now).await {
            tracing::warn!("telling the storekeepers of {}: {e}", r.requisition_no);
        }
    }
}

/// The requisition moved on while we looked: 409, without naming a status we no longer know.
fn transition_now(action: ReqAction) -> ServiceError {
    ServiceError::Transition { action: action_key(action), status: "", reason: Some("requisition_changed") }
}
