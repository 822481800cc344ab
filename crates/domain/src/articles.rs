//! Know-how (维护心得, manual §2.6, §2.7(3)): a technician or the engineer writes down a
//! fault, its cause, the fix and how to prevent it, tied to a system, fault type and
//! subcategory, a model and the ticket that taught it; the engineer reviews it before it
//! is shown to everyone. Statuses, who may do what, the input. Pure.

use crate::tickets::FaultType;
use crate::validation::{FieldErrors, optional, optional_enum, required};
use crate::{Role, System};
use serde::{Deserialize, Serialize};

string_enum!(
    ArticleStatus {
        /// Written, waiting for the engineer.
        Submitted = "submitted",
        /// Shown to all staff, found by the search, suggested on tickets.
        Published = "published",
        /// Sent back with the engineer's reason; the author may edit and submit again.
        Rejected = "rejected",
    }
);

string_enum!(
    /// `POST /api/v1/articles/{id}/actions/{action}`.
    ArticleAction {
        Publish = "publish",
        Reject = "reject",
    }
);

/// Anyone on staff writes know-how; a school never.
pub fn may_write(roles: &[Role]) -> bool {
    !roles.is_empty() && roles.iter().all(|r| !matches!(r, Role::Customer))
}

/// The engineer reviews (the manager and the admin may too).
pub fn may_review(roles: &[Role]) -> bool {
    roles.iter().any(|r| matches!(r, Role::Engineer | Role::Manager | Role::Admin))
}

/// Who reads an article in `status`: a published one every staff member; one not yet
/// published its author and the reviewers.
pub fn may_read(roles: &[Role], is_author: bool, status: ArticleStatus) -> bool {
    may_write(roles) && (status == ArticleStatus::Published || is_author || may_review(roles))
}

/// The review actions open to this actor: a submitted article is published or rejected
/// by a reviewer — never by its own author.
pub fn allowed_actions(roles: &[Role], is_author: bool, status: ArticleStatus) -> Vec<ArticleAction> {
    if !may_review(roles) || is_author || status != ArticleStatus::Submitted {
        return Vec::new();
    }
    vec![ArticleAction::Publish, ArticleAction::Reject]
}

/// The author edits his article until it is published (an edit of a rejected one submits
/// it again); a reviewer may correct a published one.
pub fn may_edit(roles: &[Role], is_author: bool, status: ArticleStatus) -> bool {
    match status {
        ArticleStatus::Published => may_review(roles),
        _ => is_author || may_review(roles),
    }
}

/// `POST /api/v1/articles` and `PUT /api/v1/articles/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArticleInput {
    pub title: Option<String>,
    /// What was seen: the fault as the school described it and as found.
    pub body: Option<String>,
    pub cause: Option<String>,
    pub fix: Option<String>,
    pub prevention: Option<String>,
    pub system: Option<String>,
    /// `hardware`, `cabling`, `software`, `other`.
    pub fault_type: Option<String>,
    /// A subcategory code of the fault taxonomy (`NET_LOOP`).
    pub subcategory: Option<String>,
    pub model: Option<String>,
    /// The ticket that taught it.
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewArticle {
    pub title: String,
    pub body: String,
    pub cause: Option<String>,
    pub fix: Option<String>,
    pub prevention: Option<String>,
    pub system: Option<System>,
    pub fault_type: Option<FaultType>,
    pub subcategory: Option<String>,
    pub model: Option<String>,
    pub ticket_id: Option<i64>,
}

impl ArticleInput {
    pub fn validate(&self) -> Result<NewArticle, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = required(&mut e, "title", self.title.as_deref(), 200);
        let body = required(&mut e, "body", self.body.as_deref(), 10_000);
        let cause = optional(&mut e, "cause", self.cause.as_deref(), 5_000);
        let fix = optional(&mut e, "fix", self.fix.as_deref(), 5_000);
        let prevention = optional(&mut e, "prevention", self.prevention.as_deref(), 5_000);
        let system = optional_enum(&mut e, "system", self.system.as_deref(), System::parse);
        let fault_type = optional_enum(&mut e, "fault_type", self.fault_type.as_deref(), FaultType::parse);
        let subcategory = optional(&mut e, "subcategory", self.subcategory.as_deref(), 40);
        let model = optional(&mut e, "model", self.model.as_deref(), 100);
        if fix.is_none() && cause.is_none() && body.chars().count() < 20 {
            // A title and a line teach nobody: say what was done, or why it happened.
            e.push("fix", "required");
        }
        e.in_area("articles").into_result(NewArticle {
            title,
            body,
            cause,
            fix,
            prevention,
            system,
            fault_type,
            subcategory,
            model,
            ticket_id: self.ticket_id,
        })
    }
}

/// `reject` takes the reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArticleReviewInput {
    pub reason: Option<String>,
}

impl ArticleReviewInput {
    pub fn reason(&self, action: ArticleAction) -> Result<Option<String>, FieldErrors> {
        let mut e = FieldErrors::default();
        let reason = optional(&mut e, "reason", self.reason.as_deref(), 1_000);
        if action == ArticleAction::Reject && reason.is_none() {
            e.push("reason", "required");
        }
        e.in_area("articles").into_result(reason)
    }
}

/// Should a resolved ticket offer "write it down"? When nothing published covers its
/// model or its subcategory yet, and nobody wrote about this ticket: the fix was new to
/// the department.
pub fn worth_writing(resolved: bool, articles_on_ticket: usize, published_covering: usize) -> bool {
    resolved && articles_on_ticket == 0 && published_covering == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_says_what_was_done() {
        let e = ArticleInput { system: Some("lasers".into()), fault_type: Some("magic".into()), ..Default::default() }
            .validate()
            .unwrap_err();
        for f in ["title", "body", "system", "fault_type", "fix"] {
            assert!(e.has(f), "{f}: {e:?}");
        }
        let ok = ArticleInput {
            title: Some("接入交换机环路导致整层断网".into()),
            body: Some("三楼办公室全部断网，交换机 CPU 99%".into()),
            fix: Some("拔掉私接的无线路由器，开启环路检测".into()),
            system: Some("network".into()),
            fault_type: Some("cabling".into()),
            subcategory: Some("NET_LOOP".into()),
            model: Some("S5735-L24T4S-A".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!((ok.system, ok.fault_type), (Some(System::Network), Some(FaultType::Cabling)));
    }

    #[test]
    fn the_engineer_reviews_what_others_wrote() {
        use ArticleStatus::*;
        assert!(allowed_actions(&[Role::Technician], false, Submitted).is_empty());
        assert_eq!(allowed_actions(&[Role::Engineer], false, Submitted).len(), 2);
        assert!(allowed_actions(&[Role::Engineer], true, Submitted).is_empty(), "not his own");
        assert!(allowed_actions(&[Role::Engineer], false, Published).is_empty());
        assert!(may_read(&[Role::Technician], false, Published));
        assert!(!may_read(&[Role::Technician], false, Submitted));
        assert!(may_read(&[Role::Technician], true, Rejected));
        assert!(!may_read(&[Role::Customer], false, Published));
        assert!(may_edit(&[Role::Technician], true, Rejected));
        assert!(!may_edit(&[Role::Technician], true, Published));
        assert!(ArticleReviewInput::default().reason(ArticleAction::Reject).is_err());
        assert!(ArticleReviewInput::default().reason(ArticleAction::Publish).is_ok());
    }

    #[test]
    fn a_new_fix_is_worth_writing_down() {
        assert!(worth_writing(true, 0, 0));
        assert!(!worth_writing(false, 0, 0));
        assert!(!worth_writing(true, 1, 0));
        assert!(!worth_writing(true, 0, 2));
    }
}
